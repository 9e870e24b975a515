/*
 * Per-file scans (sensor_inc.c) against whole-surface diffs: after
 * random edits (versions bumped, details changed, packages added and
 * removed, duplicates of an id inside a file, files deleted and new
 * ones), a scan that reads only the files whose fingerprint changed
 * leaves the store holding exactly what a full rescan finds, and gives
 * the same changes, in the same order, as one diff of the whole
 * surface; a full per-file rescan afterwards finds nothing.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "differ.h"
#include "log.h"
#include "rules.h"
#include "sensor_inc.h"
#include "store.h"

#define NFILES	16
#define NNAMES	24
#define MAXIT	40

static char	 tmpdir[64];
static char	 statedir[128];

static int
rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	return (remove(p));
}

static void
setup(void)
{
	log_init(1, LOG_USER);
	strlcpy(tmpdir, "/tmp/test_sinc.XXXXXX", sizeof(tmpdir));
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(statedir, sizeof(statedir), "%s/state", tmpdir);
}

static void
teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(sinc, .init = setup, .fini = teardown);

static char	*names[NNAMES], *vers[4], *details[3];
static char	*paths[NFILES * 2];

struct tfile {
	int		 exists;
	struct stat	 sb;		/* only the fingerprint fields */
	struct item	 it[MAXIT];
	size_t		 n;
};

static struct tfile	files[NFILES * 2];
static unsigned int	seed = 12345;

static unsigned int
rnd(unsigned int n)
{
	seed = seed * 1103515245 + 12345;
	return ((seed >> 16) % n);
}

static void
pools(void)
{
	char	buf[256];
	int	i;

	for (i = 0; i < NNAMES; i++) {
		snprintf(buf, sizeof(buf), "%spkg%d", i % 5 ? "" : "@s/", i);
		names[i] = strdup(buf);
	}
	for (i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "1.0.%d", i);
		vers[i] = strdup(buf);
	}
	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "resolved=r%d", i);
		details[i] = strdup(buf);
	}
	/* Paths of which some are prefixes of others. */
	for (i = 0; i < NFILES * 2; i++) {
		snprintf(buf, sizeof(buf), "/home/u/src/p%d%s/package-lock.json",
		    i / 3, i % 3 == 0 ? "" : i % 3 == 1 ? "-x" : "/sub");
		paths[i] = strdup(buf);
	}
}

static void
rand_item(struct tfile *f, size_t fi, struct item *it)
{
	memset(it, 0, sizeof(*it));
	it->surface = SURFACE_JAVASCRIPT;
	it->kind = KIND_PACKAGE;
	it->name = names[rnd(NNAMES)];
	it->version = rnd(10) == 0 ? NULL : vers[rnd(4)];
	it->path = paths[fi];
	it->origin = (char *)"npm";
	it->installed_on_request = ITEM_BOOL_NIL;
	it->detail = details[rnd(3)];
}

static void
touch(struct tfile *f, size_t fi)
{
	f->sb.st_dev = 2049;
	f->sb.st_ino = 1000 + fi;
	f->sb.st_size = (off_t)f->n;
	f->sb.st_mtim.tv_sec++;
	f->sb.st_ctim.tv_nsec = (f->sb.st_ctim.tv_nsec + 7) % 1000000000;
}

static void
new_file(size_t fi)
{
	struct tfile	*f = &files[fi];
	size_t		 i;

	f->exists = 1;
	f->n = rnd(MAXIT);
	for (i = 0; i < f->n; i++)
		rand_item(f, fi, &f->it[i]);
	touch(f, fi);
}

static void
edit_file(size_t fi)
{
	struct tfile	*f = &files[fi];
	size_t		 i, e = 1 + rnd(4);

	while (e-- > 0) {
		switch (rnd(4)) {
		case 0:		/* bump a version: an id goes, one comes */
			if (f->n > 0)
				f->it[rnd(f->n)].version = vers[rnd(4)];
			break;
		case 1:		/* a detail: modified */
			if (f->n > 0)
				f->it[rnd(f->n)].detail = details[rnd(3)];
			break;
		case 2:		/* add, maybe a duplicate of an id */
			if (f->n < MAXIT) {
				if (f->n > 0 && rnd(3) == 0) {
					f->it[f->n] = f->it[rnd(f->n)];
					f->it[f->n].detail = details[rnd(3)];
				} else
					rand_item(f, fi, &f->it[f->n]);
				f->n++;
			}
			break;
		default:	/* remove */
			if (f->n > 0) {
				i = rnd(f->n);
				f->it[i] = f->it[--f->n];
			}
			break;
		}
	}
	touch(f, fi);
}

/* Every item of the surface, in file order (collector order). */
static struct item *
all_items(size_t *n)
{
	struct item	*v;
	size_t		 i, j;

	v = calloc(NFILES * 2 * MAXIT + 1, sizeof(*v));
	cr_assert_not_null(v);
	*n = 0;
	for (i = 0; i < NFILES * 2; i++)
		for (j = 0; files[i].exists && j < files[i].n; j++)
			v[(*n)++] = files[i].it[j];
	return (v);
}

struct kid {
	char	*id;
	size_t	 idx;
};

static int
kid_cmp(const void *a, const void *b)
{
	const struct kid	*x = a, *y = b;
	int			 c = strcmp(x->id, y->id);

	return (c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx));
}

/* Sorted by id, first of an id kept: what the sensor's full scan does. */
static struct item *
expected(size_t *n)
{
	struct item	*v, *out;
	struct kid	*k;
	size_t		 m, i;

	v = all_items(&m);
	k = calloc(m + 1, sizeof(*k));
	out = calloc(m + 1, sizeof(*out));
	cr_assert(k != NULL && out != NULL);
	for (i = 0; i < m; i++) {
		k[i].id = item_id(&v[i]);
		k[i].idx = i;
	}
	qsort(k, m, sizeof(*k), kid_cmp);
	*n = 0;
	for (i = 0; i < m; i++)
		if (i == 0 || strcmp(k[i].id, k[i - 1].id) != 0)
			out[(*n)++] = v[k[i].idx];
	for (i = 0; i < m; i++)
		free(k[i].id);
	free(k);
	free(v);
	return (out);
}

static void
check_store(struct store *st)
{
	struct item	*exp, *got;
	struct kid	*k;
	size_t		 nexp, ngot, i;

	exp = expected(&nexp);
	cr_assert_eq(store_load_snapshot(st, SURFACE_JAVASCRIPT, &got, &ngot),
	    0);
	cr_assert_eq(ngot, nexp, "store has %zu items, a full scan %zu",
	    ngot, nexp);
	/* The stored order is insertion order: compare by id. */
	k = calloc(ngot + 1, sizeof(*k));
	for (i = 0; i < ngot; i++) {
		k[i].id = item_id(&got[i]);
		k[i].idx = i;
	}
	qsort(k, ngot, sizeof(*k), kid_cmp);
	for (i = 0; i < ngot; i++) {
		cr_assert(item_equal(&got[k[i].idx], &exp[i]),
		    "item %zu differs: %s", i, k[i].id);
		free(k[i].id);
	}
	free(k);
	store_items_free(got, ngot);
	free(exp);
}

static char *
change_key(const struct change *c)
{
	char	*id, *s;

	id = item_id(c->new ? c->new : c->old);
	cr_assert_not_null(id);
	cr_assert_neq(asprintf(&s, "%d %s", (int)c->kind, id), -1);
	free(id);
	return (s);
}

Test(sinc, incremental_equals_full_rescan)
{
	struct ruleset		 rs;
	struct store		*st;
	struct store_scan	 sc;
	struct store_file	 bf[NFILES * 2];
	struct store_fp		 fp;
	struct sinc		*si;
	struct item		*prev, *exp, *base;
	struct change		*ch;
	size_t			 nprev, nexp, nch, nbase, nb, i, j, round;
	size_t			 nread, total_read = 0;
	char			 err[256], *a, *b;
	const char		*ts = "2026-06-01T10:00:00.000Z";

	pools();
	memset(&rs, 0, sizeof(rs));
	st = store_open(statedir, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	for (i = 0; i < NFILES; i++)
		new_file(i);

	/* The baseline, with every file's fingerprint. */
	base = expected(&nbase);
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.baseline = 1;
	sc.items = base;
	sc.nitems = nbase;
	sc.max_events = sc.max_findings = -1;
	for (i = nb = 0; i < NFILES * 2; i++) {
		if (!files[i].exists)
			continue;
		memset(&bf[nb], 0, sizeof(bf[nb]));
		bf[nb].path = paths[i];
		bf[nb].state = STORE_FP_SET;
		sinc_fp(&files[i].sb, &bf[nb].fp);
		nb++;
	}
	sc.files = bf;
	sc.nfiles = nb;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	free(base);
	check_store(st);

	for (round = 0; round < 60; round++) {
		cr_assert_eq(store_load_snapshot(st, SURFACE_JAVASCRIPT, &prev,
		    &nprev), 0);
		/* Random edits, deletions and new files. */
		for (i = 0; i < NFILES * 2; i++) {
			if (files[i].exists && rnd(4) == 0)
				edit_file(i);
			else if (files[i].exists && rnd(12) == 0)
				files[i].exists = 0;
			else if (!files[i].exists && rnd(10) == 0)
				new_file(i);
		}
		/* What one diff of the whole surface says. */
		exp = expected(&nexp);
		cr_assert_eq(differ_diff(prev, nprev, exp, nexp, &ch, &nch), 0);

		si = sinc_new(st, SURFACE_JAVASCRIPT, &rs, 0, ts);
		cr_assert_not_null(si);
		for (i = 0; i < NFILES * 2; i++) {
			if (!files[i].exists ||
			    sinc_skip(si, paths[i], &files[i].sb))
				continue;
			sinc_fp(&files[i].sb, &fp);
			cr_assert_eq(sinc_file(si, paths[i], NULL, files[i].it,
			    files[i].n, STORE_FP_SET, &fp), 0);
		}
		nread = sinc_nread(si);
		memset(&sc, 0, sizeof(sc));
		sc.surface = SURFACE_JAVASCRIPT;
		sc.max_events = sc.max_findings = -1;
		cr_assert_eq(sinc_finish(si, ts, &sc), 0);
		total_read += nread;
		cr_assert_eq(sc.nchanges, nch, "round %zu: %zu changes, the "
		    "whole-surface diff %zu", round, sc.nchanges, nch);
		for (j = 0; j < nch; j++) {
			a = change_key(&sc.changes[j]);
			b = change_key(&ch[j]);
			cr_assert_str_eq(a, b, "round %zu change %zu", round, j);
			free(a);
			free(b);
		}
		cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
		sinc_free(si);
		free(ch);
		free(exp);
		store_items_free(prev, nprev);
		check_store(st);

		/* A full per-file rescan now finds nothing. */
		if (round % 10 == 9) {
			si = sinc_new(st, SURFACE_JAVASCRIPT, &rs, 1, ts);
			cr_assert_not_null(si);
			for (i = 0; i < NFILES * 2; i++) {
				if (!files[i].exists)
					continue;
				cr_assert_eq(sinc_skip(si, paths[i],
				    &files[i].sb), 0);
				sinc_fp(&files[i].sb, &fp);
				cr_assert_eq(sinc_file(si, paths[i], NULL,
				    files[i].it, files[i].n, STORE_FP_SET,
				    &fp), 0);
			}
			memset(&sc, 0, sizeof(sc));
			sc.surface = SURFACE_JAVASCRIPT;
			sc.max_events = sc.max_findings = -1;
			cr_assert_eq(sinc_finish(si, ts, &sc), 0);
			cr_assert_eq(sc.nchanges, 0);
			cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
			sinc_free(si);
			check_store(st);
		}
	}
	/* Unchanged files were skipped, not read. */
	cr_assert_lt(total_read, 60 * NFILES);
	store_close(st);
}

struct stale_count {
	size_t	stale, current;
	int64_t	since;
};

static int
count_stale(void *arg, const struct item *it, const char *id, int64_t ms)
{
	struct stale_count	*c = arg;

	if (ms > 0) {
		c->stale++;
		c->since = ms;
	} else
		c->current++;
	return (0);
}

/* One per-file scan: files in fail[] could not be read, the rest could. */
static void
scan_round(struct store *st, const int *fail, int64_t completed,
    size_t *nchanges)
{
	struct ruleset		 rs;
	struct store_scan	 sc;
	struct store_fp		 fp;
	struct sinc		*si;
	size_t			 i;
	const char		*ts = "2026-06-01T10:00:00.000Z";

	memset(&rs, 0, sizeof(rs));
	si = sinc_new(st, SURFACE_JAVASCRIPT, &rs, 1, ts);
	cr_assert_not_null(si);
	for (i = 0; i < NFILES; i++) {
		if (!files[i].exists)
			continue;
		sinc_fp(&files[i].sb, &fp);
		/* A failed read hands no items, whatever the file holds. */
		cr_assert_eq(sinc_file(si, paths[i], NULL,
		    fail[i] ? NULL : files[i].it, fail[i] ? 0 : files[i].n,
		    fail[i] ? STORE_FP_KEEP : STORE_FP_SET, &fp), 0);
	}
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.max_events = sc.max_findings = -1;
	sc.completed_ms = completed;
	cr_assert_eq(sinc_finish(si, ts, &sc), 0);
	*nchanges = sc.nchanges;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	sinc_free(si);
}

/*
 * A file whose read failed keeps its stored rows: no change, marked
 * stale since the first failed read, current again after a good read;
 * only a good read or the file's disappearance changes its rows.
 */
Test(sinc, failed_read_keeps_rows)
{
	struct store		*st;
	struct store_scan	 sc;
	struct store_file	 bf[NFILES], *lf;
	struct item		*base;
	struct stale_count	 c;
	size_t			 nbase, nlf, nch, i, kept_items, want;
	int			 fail[NFILES];
	char			 err[256];

	pools();
	memset(files, 0, sizeof(files));
	st = store_open(statedir, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	for (i = 0; i < NFILES; i++) {
		new_file(i);
		/* Every file holds something, so that something can be lost. */
		while (files[i].n == 0)
			new_file(i);
	}
	base = expected(&nbase);
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.baseline = 1;
	sc.items = base;
	sc.nitems = nbase;
	sc.max_events = sc.max_findings = -1;
	for (i = 0; i < NFILES; i++) {
		memset(&bf[i], 0, sizeof(bf[i]));
		bf[i].path = paths[i];
		bf[i].state = STORE_FP_SET;
		sinc_fp(&files[i].sb, &bf[i].fp);
	}
	sc.files = bf;
	sc.nfiles = NFILES;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	free(base);

	/* Every read fails, twice: nothing changes, all stale since 1000. */
	for (i = 0; i < NFILES; i++)
		fail[i] = 1;
	scan_round(st, fail, 1000, &nch);
	cr_assert_eq(nch, 0, "a failed read changed %zu items", nch);
	check_store(st);
	scan_round(st, fail, 2000, &nch);
	cr_assert_eq(nch, 0);
	check_store(st);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(store_query_inventory(st, SURFACE_JAVASCRIPT, NULL,
	    count_stale, &c), 0);
	cr_assert_eq(c.current, 0);
	cr_assert_gt(c.stale, 0);
	cr_assert_eq(c.since, 1000, "stale since %lld, not the first failure",
	    (long long)c.since);
	cr_assert_eq(store_load_files(st, SURFACE_JAVASCRIPT, &lf, &nlf), 0);
	cr_assert_eq(nlf, NFILES);
	for (i = 0; i < nlf; i++) {
		cr_assert_eq(lf[i].state, STORE_FP_UNSET, "a failed file keeps "
		    "a fingerprint: it would not be read again");
		cr_assert_eq(lf[i].stale_ms, 1000);
	}
	store_files_free(lf, nlf);

	/* Edited while failing: the edit is not seen, the rows stand. */
	edit_file(0);
	edit_file(1);
	for (i = 0; i < NFILES; i++)
		fail[i] = i < 2;
	kept_items = files[0].n + files[1].n;
	scan_round(st, fail, 3000, &nch);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(store_query_inventory(st, SURFACE_JAVASCRIPT, NULL,
	    count_stale, &c), 0);
	cr_assert_gt(c.stale, 0);
	cr_assert_leq(c.stale, kept_items + 2 * 4);
	cr_assert_eq(c.since, 1000);

	/* Read whole again: the edit arrives, nothing is stale. */
	for (i = 0; i < NFILES; i++)
		fail[i] = 0;
	scan_round(st, fail, 4000, &nch);
	check_store(st);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(store_query_inventory(st, SURFACE_JAVASCRIPT, NULL,
	    count_stale, &c), 0);
	cr_assert_eq(c.stale, 0, "%zu items still stale after a good read",
	    c.stale);

	/* Gone for real: its rows go, once. */
	want = files[2].n;
	files[2].exists = 0;
	scan_round(st, fail, 5000, &nch);
	cr_assert_gt(nch, 0);
	cr_assert_leq(nch, want);
	check_store(st);
	scan_round(st, fail, 6000, &nch);
	cr_assert_eq(nch, 0);
	store_close(st);
}

static int
count_events(void *arg, const struct store_event *ev)
{
	(*(size_t *)arg)++;
	return (0);
}

/*
 * A file that could not be read during the baseline is baselined by its
 * first good read: its items are stored, with no change event and no
 * change rule; after that its edits are changes again.
 */
Test(sinc, failed_in_baseline_is_baselined_later)
{
	struct ruleset		 rs;
	struct store		*st;
	struct store_scan	 sc;
	struct store_fp		 fp;
	struct sinc		*si;
	struct store_file	*lf;
	size_t			 i, nev, nlf, nch;
	int			 fail[NFILES];
	char			 err[256];
	const char		*ts = "2026-06-01T10:00:00.000Z";

	pools();
	memset(files, 0, sizeof(files));
	memset(&rs, 0, sizeof(rs));
	st = store_open(statedir, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	for (i = 0; i < NFILES; i++) {
		new_file(i);
		while (files[i].n == 0)
			new_file(i);
	}
	/* The baseline, file 0 unreadable. */
	si = sinc_new_baseline(st, SURFACE_JAVASCRIPT, &rs, ts);
	cr_assert_not_null(si);
	for (i = 0; i < NFILES; i++) {
		sinc_fp(&files[i].sb, &fp);
		cr_assert_eq(sinc_file(si, paths[i], NULL, i == 0 ? NULL :
		    files[i].it, i == 0 ? 0 : files[i].n, i == 0 ?
		    STORE_FP_KEEP : STORE_FP_SET, &fp), 0);
	}
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.max_events = sc.max_findings = -1;
	sc.completed_ms = 1000;
	cr_assert_eq(sinc_finish(si, ts, &sc), 0);
	cr_assert_eq(sinc_commit(si, &sc, NULL), 0);
	sinc_free(si);
	cr_assert_eq(store_load_files(st, SURFACE_JAVASCRIPT, &lf, &nlf), 0);
	for (i = 0; i < nlf; i++)
		cr_assert_eq(lf[i].unbaselined, strcmp(lf[i].path, paths[0]) ==
		    0, "%s: unbaselined %d", lf[i].path, lf[i].unbaselined);
	store_files_free(lf, nlf);

	/* Still unreadable: nothing; then read: stored, quietly. */
	for (i = 0; i < NFILES; i++)
		fail[i] = i == 0;
	scan_round(st, fail, 2000, &nch);
	cr_assert_eq(nch, 0);
	fail[0] = 0;
	scan_round(st, fail, 3000, &nch);
	cr_assert_gt(nch, 0, "the late baseline stored nothing");
	check_store(st);
	nev = 0;
	cr_assert_eq(store_query_events(st, 0, NULL, count_events, &nev), 0);
	cr_assert_eq(nev, 0, "a late baseline made %zu change events", nev);
	cr_assert_eq(store_load_files(st, SURFACE_JAVASCRIPT, &lf, &nlf), 0);
	for (i = 0; i < nlf; i++)
		cr_assert_eq(lf[i].unbaselined, 0);
	store_files_free(lf, nlf);

	/* Baselined now: an edit is a change with its event. */
	files[0].it[0].detail = files[0].it[0].detail == details[0] ?
	    details[1] : details[0];
	touch(&files[0], 0);
	scan_round(st, fail, 4000, &nch);
	cr_assert_gt(nch, 0);
	nev = 0;
	cr_assert_eq(store_query_events(st, 0, NULL, count_events, &nev), 0);
	cr_assert_eq(nev, nch);
	store_close(st);
}
