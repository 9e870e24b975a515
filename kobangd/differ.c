/*
 * Item identity and snapshot differ.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "differ.h"

int
item_version_defines_identity(enum surface s)
{
	/* Several versions of one package coexist in one lockfile. */
	return (s == SURFACE_JAVASCRIPT || s == SURFACE_PYTHON);
}

static const char *
nz(const char *s)
{
	return (s != NULL ? s : "");
}

char *
item_id(const struct item *it)
{
	const char	*part[5];
	char		*id, *o;
	size_t		 len[5], i, n, total = 0;

	part[0] = surface_name(it->surface);
	part[1] = item_kind_name(it->kind);
	part[2] = nz(it->path);
	part[3] = nz(it->name);
	part[4] = nz(it->version);
	n = item_version_defines_identity(it->surface) ? 5 : 4;
	for (i = 0; i < n; i++) {
		len[i] = strlen(part[i]);
		if (len[i] > SIZE_MAX - total - 1) {
			errno = EOVERFLOW;
			return (NULL);
		}
		total += len[i] + 1;	/* a '/' or the final NUL */
	}
	if ((o = id = malloc(total)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (i > 0)
			*o++ = '/';
		memcpy(o, part[i], len[i]);
		o += len[i];
	}
	*o = '\0';
	return (id);
}

/*
 * The strings item_id() joins with '/', from part `from` on: a
 * comparison of these sequences is the comparison of the ids, without
 * building them (SURFACES.md 0.8's order is the ids' byte order).
 */
static size_t
id_parts(const struct item *it, int from, const char *v[9])
{
	const char	*part[5];
	size_t		 i, n = 0, np;

	part[0] = surface_name(it->surface);
	part[1] = item_kind_name(it->kind);
	part[2] = it->path != NULL ? it->path : "";
	part[3] = it->name != NULL ? it->name : "";
	part[4] = it->version != NULL ? it->version : "";
	np = item_version_defines_identity(it->surface) ? 5 : 4;
	for (i = from; i < np; i++) {
		if (i > (size_t)from)
			v[n++] = "/";
		v[n++] = part[i];
	}
	return (n);
}

static int
parts_cmp(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	const unsigned char	*p = (const unsigned char *)a[0];
	const unsigned char	*q = (const unsigned char *)b[0];
	size_t			 i = 0, j = 0;

	for (;;) {
		while (*p == '\0' && i + 1 < na)
			p = (const unsigned char *)a[++i];
		while (*q == '\0' && j + 1 < nb)
			q = (const unsigned char *)b[++j];
		if (*p != *q)
			return (*p < *q ? -1 : 1);
		if (*p == '\0')
			return (0);
		p++;
		q++;
	}
}

/*
 * Two items of one file, whose ids differ only from the name on: the
 * names compared in place, and the versions when the names are equal.
 * 2 when one name is a prefix of the other and the separator decides
 * nothing by itself (item_id_cmp then compares the parts).
 */
static int
name_version_cmp(const struct item *a, const struct item *b)
{
	const unsigned char	*p, *q;
	int			 vers, cp, cq;

	p = (const unsigned char *)(a->name != NULL ? a->name : "");
	q = (const unsigned char *)(b->name != NULL ? b->name : "");
	while (*p != '\0' && *p == *q) {
		p++;
		q++;
	}
	vers = item_version_defines_identity(a->surface);
	if (*p == '\0' && *q == '\0')
		return (!vers ? 0 : strcmp(a->version != NULL ? a->version :
		    "", b->version != NULL ? b->version : ""));
	/* Where a name ends, its id goes on with "/" and the version. */
	cp = *p != '\0' ? *p : vers ? '/' : 0;
	cq = *q != '\0' ? *q : vers ? '/' : 0;
	if (cp != cq)
		return (cp < cq ? -1 : 1);
	return (2);
}

/* strcmp(item_id(a), item_id(b)), without the ids. */
int
item_id_cmp(const struct item *a, const struct item *b)
{
	const char	*va[9], *vb[9];
	size_t		 na, nb;
	int		 from = 0, c;

	/* One file's items: the same prefix "surface/kind/path/". */
	if (a->surface == b->surface && a->kind == b->kind &&
	    a->path == b->path) {
		if ((c = name_version_cmp(a, b)) != 2)
			return (c);
		from = 3;
	}
	na = id_parts(a, from, va);
	nb = id_parts(b, from, vb);
	return (parts_cmp(va, na, vb, nb));
}

/* Both nil, or both present and equal. */
static int
streq_nil(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

int
item_equal(const struct item *a, const struct item *b)
{
	return (a->surface == b->surface && a->kind == b->kind &&
	    streq_nil(a->name, b->name) && streq_nil(a->version, b->version) &&
	    streq_nil(a->path, b->path) && streq_nil(a->origin, b->origin) &&
	    a->installed_on_request == b->installed_on_request &&
	    streq_nil(a->detail, b->detail));
}

struct keyed {
	char			*id;
	size_t			 idx;	/* position in the snapshot */
	const struct item	*item;
};

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed	*ka = a, *kb = b;
	int			 c;

	/* Byte order equals Swift's for NFC/ASCII ids (RULES.md 7). */
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

/*
 * Sort a snapshot by id and keep the first occurrence of each id.
 * Returns the number of distinct ids in *np.
 */
static struct keyed *
keyed_build(const struct item *v, size_t n, size_t *np)
{
	struct keyed	*k;
	size_t		 i, o;

	*np = 0;
	if ((k = calloc(n == 0 ? 1 : n, sizeof(*k))) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		k[i].idx = i;
		k[i].item = &v[i];
		if ((k[i].id = item_id(&v[i])) == NULL) {
			keyed_free(k, i);
			return (NULL);
		}
	}
	qsort(k, n, sizeof(*k), keyed_cmp);
	/* Ties are ordered by position, so the first of a run came first. */
	for (i = 0, o = 0; i < n; i++) {
		if (o > 0 && strcmp(k[o - 1].id, k[i].id) == 0) {
			free(k[i].id);
			continue;
		}
		k[o++] = k[i];
	}
	*np = o;
	return (k);
}

int
differ_diff(const struct item *prev, size_t nprev, const struct item *cur,
    size_t ncur, struct change **out, size_t *nout)
{
	struct keyed	*kp = NULL, *kc = NULL;
	struct change	*ch = NULL;
	size_t		 np = 0, nc = 0, i, j, n = 0, pass;
	int		 c, rv = -1;

	*out = NULL;
	*nout = 0;
	if ((kp = keyed_build(prev, nprev, &np)) == NULL ||
	    (kc = keyed_build(cur, ncur, &nc)) == NULL)
		goto done;
	if (np > SIZE_MAX - nc) {
		errno = EOVERFLOW;
		goto done;
	}
	if ((ch = calloc(np + nc == 0 ? 1 : np + nc, sizeof(*ch))) == NULL)
		goto done;

	/*
	 * Three merge walks over the two sorted, distinct id lists: the
	 * added, the removed, then the modified, each in id order.
	 */
	for (pass = CHANGE_ADDED; pass < CHANGE_COUNT; pass++) {
		i = j = 0;
		while (i < np || j < nc) {
			if (i == np)
				c = 1;
			else if (j == nc)
				c = -1;
			else
				c = strcmp(kp[i].id, kc[j].id);
			if (c > 0) {
				if (pass == CHANGE_ADDED) {
					ch[n].kind = CHANGE_ADDED;
					ch[n].new = kc[j].item;
					n++;
				}
				j++;
			} else if (c < 0) {
				if (pass == CHANGE_REMOVED) {
					ch[n].kind = CHANGE_REMOVED;
					ch[n].old = kp[i].item;
					n++;
				}
				i++;
			} else {
				if (pass == CHANGE_MODIFIED &&
				    !item_equal(kp[i].item, kc[j].item)) {
					ch[n].kind = CHANGE_MODIFIED;
					ch[n].old = kp[i].item;
					ch[n].new = kc[j].item;
					n++;
				}
				i++;
				j++;
			}
		}
	}
	*out = ch;
	*nout = n;
	ch = NULL;
	rv = 0;
 done:
	free(ch);
	keyed_free(kp, np);
	keyed_free(kc, nc);
	return (rv);
}

void
differ_quiet_added(struct change *ch, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (ch[i].kind == CHANGE_ADDED)
			ch[i].quiet = 1;
}

char *
differ_change_detail(const struct change *c)
{
	const struct item	*o = c->old, *n = c->new;
	char			*s;

	switch (c->kind) {
	case CHANGE_ADDED:
		if (n == NULL)
			break;
		return (strdup(nz(n->origin)));
	case CHANGE_REMOVED:
		if (o == NULL)
			break;
		return (strdup(nz(o->origin)));
	case CHANGE_MODIFIED:
		if (o == NULL || n == NULL)
			break;
		if (!streq_nil(o->version, n->version)) {
			if (asprintf(&s, "%s \xe2\x86\x92 %s",
			    o->version != NULL ? o->version : "?",
			    n->version != NULL ? n->version : "?") == -1)
				return (NULL);
			return (s);
		}
		if (!streq_nil(o->origin, n->origin)) {
			if (asprintf(&s, "%s \xe2\x86\x92 %s", nz(o->origin),
			    nz(n->origin)) == -1)
				return (NULL);
			return (s);
		}
		return (strdup(nz(n->origin)));
	default:
		break;
	}
	errno = EINVAL;
	return (NULL);
}
