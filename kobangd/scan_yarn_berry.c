/*
 * Yarn Berry (2 and later) yarn.lock: a YAML document, read through
 * scan_yaml.c's event parser.  The reference reads every yarn.lock with
 * the v1 line algorithm, which finds nothing in it (SURFACES.md 13.4);
 * here (kobangd.yaml(5), the differences):
 *
 *	__metadata:
 *	  version: 8
 *	"@types/node@npm:^20.0.0, @types/node@npm:^20.1.0":
 *	  version: 20.11.5
 *	  resolution: "@types/node@npm:20.11.5"
 *	  linkType: hard
 *
 * every top-level entry but __metadata is a package: the name is that of
 * the entry's first descriptor (up to its '@' that follows the name, a
 * scope's own '@' at the start aside), as v1 names "name@range"; the
 * version is the entry's "version".  Entries with "linkType: soft" are
 * the project's own workspaces, links and portals, not packages.  Origin
 * "yarn", no detail: the shape of v1's items.  Entries that declare
 * packages but give none are an issue, never a silent zero.
 *
 * libyaml reads about 100 MB/s; Yarn writes a small subset of YAML, so
 * a line reader takes a file first that is entirely in that subset
 * (ASCII, block style, two-space steps, plain or simply quoted scalars,
 * no anchors, aliases, tags, flow collections or comments after data)
 * and gives the same items ten times faster; anything else is read by
 * libyaml.  fuzz_scan_yarn_berry checks that both agree.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "compat.h"
#include "scan.h"
#include "scan_pkg.h"
#include "scan_yaml.h"

struct berry {
	struct scan_yaml	 yl;
	struct sbuf		 e;	/* the entry's key, then its version */
	size_t			 declared;
	size_t			 emitted;
};

static int
scalar_is(const yaml_event_t *ev, const char *lit)
{
	size_t	len = strlen(lit);

	return (ev->type == YAML_SCALAR_EVENT &&
	    ev->data.scalar.length == len &&
	    memcmp(ev->data.scalar.value, lit, len) == 0);
}

/* The name of the first descriptor of the key at e[0 .. klen). */
static void
berry_name(const char *s, size_t klen, struct sv *name)
{
	const char	*c, *at;

	if ((c = memchr(s, ',', klen)) != NULL)
		klen = (size_t)(c - s);
	while (klen > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		klen--;
	}
	while (klen > 0 && (s[klen - 1] == ' ' || s[klen - 1] == '\t'))
		klen--;
	name->p = s;
	name->len = klen;
	if (klen > 1 && (at = memchr(s + 1, '@', klen - 1)) != NULL)
		name->len = (size_t)(at - s);
}

/* An entry's mapping, its start read; the key is in b->e. */
static int
berry_entry(struct berry *b, size_t klen)
{
	struct scan_item	 it;
	yaml_event_t		 ev;
	size_t			 voff = 0, vlen = 0;
	int			 key, soft = 0, hasver = 0;

	for (;;) {
		if (scan_yaml_next(&b->yl, &ev) == -1)
			return (-1);
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		key = scalar_is(&ev, "version") ? 1 :
		    scalar_is(&ev, "linkType") ? 2 : 0;
		if (scan_yaml_skip(&b->yl, &ev) == -1)
			return (-1);
		if (scan_yaml_next(&b->yl, &ev) == -1)
			return (-1);
		if (key == 1 && ev.type == YAML_SCALAR_EVENT && !hasver) {
			vlen = ev.data.scalar.length;
			if ((voff = sbuf_add(&b->e, (const char *)
			    ev.data.scalar.value, vlen)) == SBUF_ERR) {
				yaml_event_delete(&ev);
				b->yl.failed = 1;
				b->yl.sink->issue(b->yl.sink->arg,
				    SCAN_ISSUE_LIMIT, "out of memory");
				return (-1);
			}
			hasver = 1;
		} else if (key == 2 && scalar_is(&ev, "soft"))
			soft = 1;
		if (scan_yaml_skip(&b->yl, &ev) == -1)
			return (-1);
	}
	if (soft)
		return (0);
	b->declared++;
	if (!hasver)
		return (0);
	memset(&it, 0, sizeof(it));
	it.kind = KIND_PACKAGE;
	it.ior = ITEM_BOOL_NIL;
	berry_name(b->e.p, klen, &it.name);
	it.version.p = b->e.p + voff;
	it.version.len = vlen;
	it.origin.p = SCAN_ORIGIN_YARN;
	it.origin.len = sizeof(SCAN_ORIGIN_YARN) - 1;
	b->emitted++;
	if (b->yl.sink->emit(b->yl.sink->arg, &it) == -1) {
		b->yl.failed = 1;
		return (-1);
	}
	return (0);
}

/* The top-level mapping, its start read. */
static int
berry_root(struct berry *b)
{
	yaml_event_t	ev;
	size_t		klen;
	int		meta;

	for (;;) {
		if (scan_yaml_next(&b->yl, &ev) == -1)
			return (-1);
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return (0);
		}
		sbuf_reset(&b->e);
		klen = 0;
		meta = scalar_is(&ev, "__metadata");
		if (ev.type == YAML_SCALAR_EVENT) {
			klen = ev.data.scalar.length;
			if (sbuf_add(&b->e, (const char *)ev.data.scalar.value,
			    klen) == SBUF_ERR) {
				yaml_event_delete(&ev);
				b->yl.failed = 1;
				b->yl.sink->issue(b->yl.sink->arg,
				    SCAN_ISSUE_LIMIT, "out of memory");
				return (-1);
			}
		}
		if (scan_yaml_skip(&b->yl, &ev) == -1)
			return (-1);
		if (scan_yaml_next(&b->yl, &ev) == -1)
			return (-1);
		if (!meta && klen > 0 && ev.type == YAML_MAPPING_START_EVENT) {
			yaml_event_delete(&ev);
			if (berry_entry(b, klen) == -1)
				return (-1);
			continue;
		}
		if (scan_yaml_skip(&b->yl, &ev) == -1)
			return (-1);
	}
}

int
scan_yarn_berry_yaml(const char *buf, size_t len, const struct scan_sink *sink)
{
	struct berry	 b;
	yaml_event_t	 ev;
	char		 why[SCAN_REASON_MAX];
	int		 root = 0, ret = -1;

	memset(&b, 0, sizeof(b));
	if (scan_yaml_init_mem(&b.yl, buf, len, sink) == -1)
		return (-1);
	sbuf_init(&b.e);
	for (;;) {
		if (scan_yaml_next(&b.yl, &ev) == -1)
			goto out;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_MAPPING_START_EVENT && !root) {
			root = 1;
			yaml_event_delete(&ev);
			if (berry_root(&b) == -1)
				goto out;
			continue;
		}
		if (ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT) {
			/* Another document, or not a mapping: checked only. */
			if (scan_yaml_skip(&b.yl, &ev) == -1)
				goto out;
			continue;
		}
		yaml_event_delete(&ev);
	}
	if (!root) {
		sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED,
		    "a Yarn Berry lockfile that is not a mapping");
		goto out;
	}
	/* Never a silent zero. */
	if (b.emitted == 0 && b.declared > 0) {
		snprintf(why, sizeof(why), "%zu packages declared, none with a "
		    "version", b.declared);
		sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED, why);
	}
	ret = 0;
 out:
	sbuf_free(&b.e);
	scan_yaml_free(&b.yl);
	return (ret);
}

/* ---- The line reader of Yarn's own YAML subset ---- */

struct bline {
	size_t		 koff, klen;	/* the entry's key, unquoted */
	size_t		 voff, vlen;	/* its version */
	int		 hasver;
	int		 soft;
	int		 fields;	/* a mapping: some key below it */
};

struct blines {
	struct bline	*v;
	size_t		 n, cap;
};

static int
blines_close(struct blines *bl, struct bline *cur, int *open_entry)
{
	struct bline	*nv;
	size_t		 ncap;

	if (!*open_entry)
		return (0);
	*open_entry = 0;
	/* "key:" alone is a null, not an entry (libyaml: no mapping). */
	if (!cur->fields)
		return (0);
	if (bl->n == bl->cap) {
		ncap = bl->cap == 0 ? 256 : bl->cap * 2;
		if ((nv = reallocarray(bl->v, ncap, sizeof(*nv))) == NULL)
			return (-1);
		bl->v = nv;
		bl->cap = ncap;
	}
	bl->v[bl->n++] = *cur;
	return (0);
}

/*
 * 0: the file was read (items emitted), -1: refused by the sink or out
 * of memory (issue recorded), 1: not in the subset, nothing emitted.
 */
int
scan_yarn_berry_lines(const char *buf, size_t len,
    const struct scan_sink *sink)
{
	struct blines	 bl;
	struct bline	 cur;
	struct scan_item it;
	const char	*p = buf, *end = buf + len, *nl, *l, *sep;
	char		 why[SCAN_REASON_MAX];
	size_t		 ll, ind, i, koff, klen, voff, vlen, lv[64], nlv = 0;
	int		 lk[64], k;
	size_t		 declared = 0, emitted = 0;
	int		 open_entry = 0, prev_open = 0, meta = 0, keys = 0;
	int		 ret = 1;

	memset(&bl, 0, sizeof(bl));
	memset(&cur, 0, sizeof(cur));
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] >= 0x7f ||
		    ((unsigned char)buf[i] < 0x20 && buf[i] != '\n'))
			goto out;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = p;
		ll = (size_t)(nl - p);
		p = nl + 1;
		for (ind = 0; ind < ll && l[ind] == ' '; ind++)
			;
		if (ind == ll || l[ind] == '#')
			continue;	/* blank, or a comment line */
		if (ind == 0) {
			/* An entry's key: "key:" or "\"key\":". */
			if (ll < 2 || l[ll - 1] != ':' || (ll >= 3 &&
			    (memcmp(l, "---", 3) == 0 ||
			    memcmp(l, "...", 3) == 0)))
				goto out;
			if (scan_yaml_scalar(buf, l, ll - 1, &koff, &klen) ==
			    -1)
				goto out;
			if (blines_close(&bl, &cur, &open_entry) == -1)
				goto nomem;
			memset(&cur, 0, sizeof(cur));
			cur.koff = koff;
			cur.klen = klen;
			meta = klen == 10 && memcmp(buf + koff, "__metadata",
			    10) == 0;
			/* As berry_root(): an empty key is no entry. */
			open_entry = !meta && klen > 0;
			keys = 1;
			lv[0] = 0;
			lk[0] = 1;
			nlv = 1;
			prev_open = 1;
			continue;
		}
		/*
		 * Two-space steps: one deeper only below an opened key, and
		 * back only to a level that is open (else libyaml refuses).
		 */
		if (!keys)
			goto out;
		if (prev_open && ind == lv[nlv - 1] + 2) {
			if (nlv == nitems(lv))
				goto out;
			lk[nlv] = 0;
			lv[nlv++] = ind;
		} else {
			while (nlv > 1 && lv[nlv - 1] > ind)
				nlv--;
			if (lv[nlv - 1] != ind)
				goto out;
		}
		l += ind;
		ll -= ind;
		/* A level holds a mapping or a sequence, never both. */
		k = ll >= 2 && l[0] == '-' && l[1] == ' ' ? 2 : 1;
		if (lk[nlv - 1] != 0 && lk[nlv - 1] != k)
			goto out;
		lk[nlv - 1] = k;
		if (k == 2) {
			/* A sequence entry: its scalar, nothing opened. */
			if (ind == 2 || scan_yaml_scalar(buf, l + 2, ll - 2,
			    &voff, &vlen) == -1)
				goto out;
			prev_open = 0;
			continue;
		}
		if (l[ll - 1] == ':') {
			sep = l + ll - 1;
			vlen = 0;
		} else if ((sep = memmem(l, ll, ": ", 2)) == NULL)
			goto out;
		if (scan_yaml_scalar(buf, l, (size_t)(sep - l), &koff,
		    &klen) == -1)
			goto out;
		if (ind == 2)
			cur.fields = 1;
		prev_open = sep == l + ll - 1;
		if (prev_open) {
			/* An opened key's value is below; version must not. */
			if (ind == 2 && ((klen == 7 && memcmp(buf + koff,
			    "version", 7) == 0) || (klen == 8 &&
			    memcmp(buf + koff, "linkType", 8) == 0)))
				goto out;
			continue;
		}
		if (scan_yaml_scalar(buf, sep + 2, (size_t)(l + ll - sep - 2),
		    &voff, &vlen) == -1)
			goto out;
		if (ind != 2 || meta)
			continue;
		if (klen == 7 && memcmp(buf + koff, "version", 7) == 0 &&
		    !cur.hasver) {
			cur.voff = voff;
			cur.vlen = vlen;
			cur.hasver = 1;
		} else if (klen == 8 && memcmp(buf + koff, "linkType", 8) ==
		    0 && vlen == 4 && memcmp(buf + voff, "soft", 4) == 0)
			cur.soft = 1;
	}
	if (!keys)
		goto out;
	if (blines_close(&bl, &cur, &open_entry) == -1)
		goto nomem;

	/* In the subset: the items, as the libyaml reader gives them. */
	ret = -1;
	for (i = 0; i < bl.n; i++) {
		if (bl.v[i].soft)
			continue;
		declared++;
		if (!bl.v[i].hasver)
			continue;
		memset(&it, 0, sizeof(it));
		it.kind = KIND_PACKAGE;
		it.ior = ITEM_BOOL_NIL;
		berry_name(buf + bl.v[i].koff, bl.v[i].klen, &it.name);
		it.version.p = buf + bl.v[i].voff;
		it.version.len = bl.v[i].vlen;
		it.origin.p = SCAN_ORIGIN_YARN;
		it.origin.len = sizeof(SCAN_ORIGIN_YARN) - 1;
		emitted++;
		if (sink->emit(sink->arg, &it) == -1)
			goto out;
	}
	if (emitted == 0 && declared > 0) {
		snprintf(why, sizeof(why), "%zu packages declared, none with a "
		    "version", declared);
		sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED, why);
	}
	ret = 0;
	goto out;
 nomem:
	sink->issue(sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
	ret = -1;
 out:
	free(bl.v);
	return (ret);
}

int
scan_yarn_berry(const char *buf, size_t len, const struct scan_sink *sink)
{
	int	r;

	if ((r = scan_yarn_berry_lines(buf, len, sink)) != 1)
		return (r);
	return (scan_yarn_berry_yaml(buf, len, sink));
}
