/*
 * Per-file diff of a baselined surface.  See sensor_inc.h.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "differ.h"
#include "log.h"
#include "rules.h"
#include "scanproto.h"
#include "sensor_inc.h"
#include "store.h"
#include "uuid.h"

/* What a file's changes point into, kept until the commit. */
struct keep {
	struct scan_result	*r;
	struct item		*old;		/* store_items_free() */
	size_t			 nold;
	struct item		*cur;		/* the file's items, by id */
};

struct sinc {
	struct store		*st;
	enum surface		 s;
	const struct ruleset	*rules;
	int			 full;
	int			 baseline;	/* store_baseline_* open */
	char			*ts;
	struct store_file	*listed;	/* sorted by path */
	size_t			 nlisted;
	char			*seen;
	int			 partial;	/* sinc_partial() */
	struct store_file	*files;		/* listing changes */
	size_t			 nfiles, capfiles;
	struct change		*ch;
	size_t			 nch, capch;
	struct change		*sorted;
	struct finding		*cf;
	size_t			 ncf;
	struct finding		*pf;
	size_t			 npf, cappf;
	struct keep		*keep;
	size_t			 nkeep, capkeep;
	size_t			 nread, nskipped, nkept;
};

/* Grow v (of *cap elements of size sz) to hold n + more. */
static int
grow(void *vp, size_t *cap, size_t n, size_t more, size_t sz)
{
	void	**v = vp, *nv;
	size_t	  nc;

	if (n + more <= *cap)
		return (0);
	nc = *cap ? *cap : 16;
	while (nc < n + more) {
		if (nc > SIZE_MAX / 2 / sz) {
			errno = ENOMEM;
			return (-1);
		}
		nc *= 2;
	}
	if ((nv = recallocarray(*v, *cap, nc, sz)) == NULL)
		return (-1);
	*v = nv;
	*cap = nc;
	return (0);
}

void
sinc_fp(const struct stat *sb, struct store_fp *fp)
{
	memset(fp, 0, sizeof(*fp));
	fp->dev = (int64_t)sb->st_dev;
	fp->ino = (int64_t)sb->st_ino;
	fp->size = (int64_t)sb->st_size;
	fp->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 +
	    sb->st_mtim.tv_nsec;
	fp->ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 +
	    sb->st_ctim.tv_nsec;
}

struct sinc *
sinc_new(struct store *st, enum surface s, const struct ruleset *rules,
    int full, const char *ts)
{
	struct sinc	*si;

	if ((si = calloc(1, sizeof(*si))) == NULL ||
	    (si->ts = strdup(ts)) == NULL) {
		log_warn("sensor");
		free(si);
		return (NULL);
	}
	si->st = st;
	si->s = s;
	si->rules = rules;
	si->full = full;
	if (store_load_files(st, s, &si->listed, &si->nlisted) == -1) {
		sinc_free(si);
		return (NULL);
	}
	if (si->nlisted > 0 &&
	    (si->seen = calloc(si->nlisted, 1)) == NULL) {
		log_warn("sensor");
		sinc_free(si);
		return (NULL);
	}
	return (si);
}

void
sinc_partial(struct sinc *si)
{
	si->partial = 1;
}

static ssize_t	listed_find(const struct sinc *, const char *);

void
sinc_unchanged(struct sinc *si, const char *path)
{
	ssize_t	i;

	if ((i = listed_find(si, path)) != -1)
		si->seen[i] = 1;
	si->nskipped++;
}

int
sinc_rows_good(struct sinc *si, const char *path)
{
	ssize_t	i;

	if ((i = listed_find(si, path)) == -1)
		return (0);
	return (si->listed[i].state == STORE_FP_SET &&
	    si->listed[i].stale_ms == 0 && !si->listed[i].unbaselined);
}

int
sinc_nothing(const struct sinc *si)
{
	return (!si->baseline && si->nread == 0 && si->nkept == 0 &&
	    si->nch == 0 && si->nfiles == 0 && si->nkeep == 0);
}

struct sinc *
sinc_new_baseline(struct store *st, enum surface s,
    const struct ruleset *rules, const char *ts)
{
	struct sinc	*si;

	if ((si = calloc(1, sizeof(*si))) == NULL ||
	    (si->ts = strdup(ts)) == NULL) {
		log_warn("sensor");
		free(si);
		return (NULL);
	}
	si->st = st;
	si->s = s;
	si->rules = rules;
	si->full = 1;
	if (store_baseline_begin(st, s) == -1) {
		sinc_free(si);
		return (NULL);
	}
	si->baseline = 1;
	return (si);
}

int
sinc_commit(struct sinc *si, const struct store_scan *sc,
    struct store_commit_result *res)
{
	int	rc;

	if (!si->baseline)
		return (store_commit_scan(si->st, sc, res));
	rc = store_baseline_end(si->st, sc, res);
	si->baseline = 0;	/* committed or rolled back */
	return (rc);
}

int
sinc_is_baseline(const struct sinc *si)
{
	return (si->baseline);
}

void
sinc_free(struct sinc *si)
{
	size_t	i;

	if (si == NULL)
		return;
	if (si->baseline)
		store_baseline_abort(si->st);
	for (i = 0; i < si->nkeep; i++) {
		if (si->keep[i].r != NULL)
			scan_result_free(si->keep[i].r);
		store_items_free(si->keep[i].old, si->keep[i].nold);
		free(si->keep[i].cur);
	}
	free(si->keep);
	for (i = 0; i < si->nfiles; i++)
		free(si->files[i].path);
	free(si->files);
	store_files_free(si->listed, si->nlisted);
	free(si->seen);
	free(si->ch);
	free(si->sorted);
	rules_findings_free(si->cf, si->ncf);
	rules_findings_free(si->pf, si->npf);
	free(si->ts);
	free(si);
}

size_t
sinc_nread(const struct sinc *si)
{
	return (si->nread);
}

size_t
sinc_nskipped(const struct sinc *si)
{
	return (si->nskipped);
}

size_t
sinc_nkept(const struct sinc *si)
{
	return (si->nkept);
}

/* A file whose read failed: its stored rows stand, marked stale. */
static int
sinc_keep(struct sinc *si, const char *path, struct scan_result *r)
{
	struct store_file	*f;

	/* path may be r's: r goes last. */
	if (grow(&si->files, &si->capfiles, si->nfiles, 1,
	    sizeof(*si->files)) == -1)
		goto nomem;
	f = &si->files[si->nfiles];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL)
		goto nomem;
	f->state = STORE_FP_KEEP;
	si->nfiles++;
	si->nkept++;
	if (r != NULL)
		scan_result_free(r);
	return (0);
 nomem:
	log_warn("sensor: %s", path);
	if (r != NULL)
		scan_result_free(r);
	return (-1);
}

static ssize_t
listed_find(const struct sinc *si, const char *path)
{
	size_t	lo = 0, hi = si->nlisted, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(path, si->listed[mid].path)) == 0)
			return ((ssize_t)mid);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (-1);
}

int
sinc_skip(struct sinc *si, const char *path, const struct stat *sb)
{
	const struct store_file	*l;
	struct store_fp		 fp;
	ssize_t			 i;

	if (si->full || (i = listed_find(si, path)) == -1)
		return (0);
	l = &si->listed[i];
	sinc_fp(sb, &fp);
	if (l->state != STORE_FP_SET || memcmp(&fp, &l->fp, sizeof(fp)) != 0)
		return (0);
	si->seen[i] = 1;
	si->nskipped++;
	return (1);
}

/* An item id with the index it came from: a stable sort by id. */
struct keyed {
	char	*id;
	size_t	 idx;
	int	 rank;
};

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed	*ka = a, *kb = b;
	int			 c;

	if (ka->rank != kb->rank)
		return (ka->rank < kb->rank ? -1 : 1);
	if ((c = strcmp(ka->id, kb->id)) != 0)
		return (c);
	return (ka->idx < kb->idx ? -1 : ka->idx > kb->idx);
}

static void
keyed_free(struct keyed *k, size_t n)
{
	size_t	i;

	if (k == NULL)
		return;
	for (i = 0; i < n; i++)
		free(k[i].id);
	free(k);
}

struct byid {
	const struct item	*it;
	size_t			 idx;
};

/* item_id_cmp(), the first of equal ids first: a stable sort. */
static int
byid_cmp(const void *a, const void *b)
{
	const struct byid	*ka = a, *kb = b;
	int			 c;

	if ((c = item_id_cmp(ka->it, kb->it)) != 0)
		return (c);
	return (ka->idx < kb->idx ? -1 : ka->idx > kb->idx);
}

/*
 * The file's items by id, the first of an id kept (SURFACES.md 0.8).
 * A parser that gives them in that order already (npm writes its
 * lockfiles sorted) costs one comparison an item.
 */
static int
by_id(const struct item *items, size_t n, struct item **out, size_t *nout)
{
	struct byid	*k;
	struct item	*cur;
	size_t		 i, m = 0;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return (0);
	if ((cur = calloc(n, sizeof(*cur))) == NULL)
		return (-1);
	if ((k = calloc(n, sizeof(*k))) == NULL) {
		free(cur);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		k[i].it = &items[i];
		k[i].idx = i;
	}
	for (i = 1; i < n; i++)
		if (item_id_cmp(k[i - 1].it, k[i].it) >= 0)
			break;
	if (i < n)
		qsort(k, n, sizeof(*k), byid_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || item_id_cmp(k[i].it, k[i - 1].it) != 0)
			cur[m++] = *k[i].it;
	free(k);
	*out = cur;
	*nout = m;
	return (0);
}

int
sinc_file(struct sinc *si, const char *path, struct scan_result *r,
    const struct item *items, size_t n, enum store_fp_state state,
    const struct store_fp *fp)
{
	struct rules_held	 held = { store_held, si->st };
	struct item		*cur = NULL, *old = NULL;
	struct change		*ch = NULL;
	struct finding		*pf = NULL;
	struct store_file	*f;
	size_t			 ncur, nold = 0, nch = 0, npf = 0;
	ssize_t			 i;

	if ((i = listed_find(si, path)) != -1)
		si->seen[i] = 1;
	if (state == STORE_FP_KEEP)
		return (sinc_keep(si, path, r));
	si->nread++;
	if (by_id(items, n, &cur, &ncur) == -1)
		goto nomem;
	/* A baseline: the rows go in now, nothing to diff. */
	if (si->baseline && store_baseline_add(si->st, cur, ncur) == -1)
		goto fail;
	if (!si->baseline && store_load_file_items(si->st, si->s, path, &old,
	    &nold) == -1)
		goto fail;
	if (!si->baseline && differ_diff(old, nold, cur, ncur, &ch, &nch) ==
	    -1)
		goto nomem;
	/* Not read during the baseline: this read is its baseline. */
	if (i != -1 && si->listed[i].unbaselined)
		differ_quiet_added(ch, nch);
	if (ncur > 0 && rules_eval_present(si->rules, cur, ncur, NULL, 0,
	    &held, si->ts, uuid_random_source(), &pf, &npf) == -1)
		goto fail;
	if (grow(&si->ch, &si->capch, si->nch, nch, sizeof(*ch)) == -1 ||
	    grow(&si->pf, &si->cappf, si->npf, npf, sizeof(*pf)) == -1 ||
	    grow(&si->files, &si->capfiles, si->nfiles, 1,
	    sizeof(*si->files)) == -1 ||
	    (nch > 0 && grow(&si->keep, &si->capkeep, si->nkeep, 1,
	    sizeof(*si->keep)) == -1))
		goto nomem;
	f = &si->files[si->nfiles];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL)
		goto nomem;
	f->state = state;
	if (state == STORE_FP_SET && fp != NULL)
		f->fp = *fp;
	else if (state == STORE_FP_SET)
		f->state = STORE_FP_UNSET;
	si->nfiles++;
	/* The findings move over; their array goes. */
	if (npf > 0)
		memcpy(&si->pf[si->npf], pf, npf * sizeof(*pf));
	si->npf += npf;
	free(pf);
	pf = NULL;
	npf = 0;
	if (nch == 0) {
		free(ch);
		free(cur);
		store_items_free(old, nold);
		if (r != NULL)
			scan_result_free(r);
		return (0);
	}
	memcpy(&si->ch[si->nch], ch, nch * sizeof(*ch));
	si->nch += nch;
	free(ch);
	si->keep[si->nkeep].r = r;
	si->keep[si->nkeep].old = old;
	si->keep[si->nkeep].nold = nold;
	si->keep[si->nkeep].cur = cur;
	si->nkeep++;
	return (0);
 nomem:
	log_warn("sensor: %s", path);
 fail:
	free(ch);
	free(cur);
	store_items_free(old, nold);
	rules_findings_free(pf, npf);
	if (r != NULL)
		scan_result_free(r);
	return (-1);
}

static int
change_rank(enum change_kind k)
{
	switch (k) {
	case CHANGE_ADDED:
		return (0);
	case CHANGE_REMOVED:
		return (1);
	default:
		return (2);
	}
}

/* Does a change finding cover this present finding (rules.c's key)? */
static int
covered(const struct sinc *si, const struct finding *f)
{
	size_t	i;

	for (i = 0; i < si->ncf; i++)
		if (si->cf[i].surface == f->surface &&
		    si->cf[i].item_id != NULL && si->cf[i].rule_id != NULL &&
		    strcmp(si->cf[i].item_id, f->item_id) == 0 &&
		    strcmp(si->cf[i].rule_id, f->rule_id) == 0)
			return (1);
	return (0);
}

static int
pf_cmp(const void *a, const void *b)
{
	const struct keyed	*ka = a, *kb = b;
	int			 c = strcmp(ka->id, kb->id);

	if (c != 0)
		return (c);
	return (ka->idx < kb->idx ? -1 : ka->idx > kb->idx);
}

int
sinc_finish(struct sinc *si, const char *ts, struct store_scan *sc)
{
	struct keyed	*kc = NULL, *kp = NULL;
	struct finding	*pf = NULL;
	const struct item *it;
	size_t		 i, n;
	char		*t;

	/* Listed files this scan did not find lose their items. */
	for (i = 0; !si->baseline && !si->partial && i < si->nlisted; i++)
		if (!si->seen[i] && sinc_file(si, si->listed[i].path, NULL,
		    NULL, 0, STORE_FP_GONE, NULL) == -1)
			return (-1);

	/* The differ's order over the whole surface. */
	if (si->nch > 0) {
		if ((kc = calloc(si->nch, sizeof(*kc))) == NULL ||
		    (si->sorted = calloc(si->nch, sizeof(*si->sorted))) ==
		    NULL)
			goto nomem;
		for (i = 0; i < si->nch; i++) {
			it = si->ch[i].new != NULL ? si->ch[i].new :
			    si->ch[i].old;
			kc[i].idx = i;
			kc[i].rank = change_rank(si->ch[i].kind);
			if ((kc[i].id = item_id(it)) == NULL)
				goto nomem;
		}
		qsort(kc, si->nch, sizeof(*kc), keyed_cmp);
		for (i = 0; i < si->nch; i++)
			si->sorted[i] = si->ch[kc[i].idx];
		keyed_free(kc, si->nch);
		kc = NULL;
	}
	if (rules_eval_changes(si->rules, si->sorted, si->nch, ts,
	    uuid_random_source(), &si->cf, &si->ncf) == -1)
		goto nomem;

	/*
	 * Present findings: those a change finding covers go, the rest in
	 * item id order (each file's came in id order, rules in order).
	 */
	if (si->npf > 0) {
		if ((kp = calloc(si->npf, sizeof(*kp))) == NULL ||
		    (pf = calloc(si->npf, sizeof(*pf))) == NULL)
			goto nomem;
		for (i = 0; i < si->npf; i++) {
			kp[i].idx = i;
			kp[i].id = si->pf[i].item_id;	/* borrowed */
		}
		qsort(kp, si->npf, sizeof(*kp), pf_cmp);
		for (i = n = 0; i < si->npf; i++) {
			if (covered(si, &si->pf[kp[i].idx])) {
				finding_free(&si->pf[kp[i].idx]);
				continue;
			}
			pf[n++] = si->pf[kp[i].idx];
		}
		free(kp);
		free(si->pf);
		si->pf = pf;
		si->npf = n;
		si->cappf = n;
		for (i = 0; i < si->npf; i++) {
			if ((t = strdup(ts)) == NULL) {
				log_warn("sensor");
				return (-1);
			}
			free(si->pf[i].timestamp);
			si->pf[i].timestamp = t;
		}
	}
	sc->baseline = si->baseline;
	sc->items = NULL;
	sc->nitems = 0;
	sc->count_by_changes = !si->baseline;
	sc->changes = si->sorted;
	sc->nchanges = si->nch;
	sc->change_findings = si->cf;
	sc->nchange_findings = si->ncf;
	sc->present_findings = si->pf;
	sc->npresent_findings = si->npf;
	sc->files = si->files;
	sc->nfiles = si->nfiles;
	return (0);
 nomem:
	log_warn("sensor");
	keyed_free(kc, si->nch);
	free(kp);
	free(pf);
	return (-1);
}
