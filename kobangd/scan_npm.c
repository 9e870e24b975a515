/*
 * npm lockfiles: package-lock.json and npm-shrinkwrap.json (SURFACES.md
 * 7).  The reference decodes
 *
 *	{ "packages": { key: { version, resolved, integrity: String?,
 *	                       dev, optional: Bool? } }? }
 *
 * with JSONDecoder: everything else is never decoded, a known key of
 * the wrong type fails the whole file, null is as good as absent, and
 * of duplicate keys the first wins (the later ones are not decoded at
 * all).  Every entry is decoded, so the root entry "" and workspace
 * links are type-checked too; an item comes from a key starting with
 * "node_modules/" whose entry has a version, named by the key without
 * that prefix (nested ones keep "a/node_modules/b").
 *
 * Where the reference sees nothing (kobangd.yaml(5), the differences):
 * a workspace's own node_modules ("packages/x/node_modules/y") gives
 * "y" the same way, the key after its first "node_modules/"; lockfile
 * v1 (no "packages") is read from its "dependencies" tree, each entry
 * named by its install path as v2 would key it ("a", then
 * "a/node_modules/b"), with the same fields and detail.  A
 * lockfileVersion above 3 is not understood (an issue, no items), and
 * a lockfile whose declared packages give no item says so.
 *
 * Items go out in lockfile order, unsorted: sorting by id and keeping
 * the first of equal ids is the parent's (scanproto.h).
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

#define NM_PREFIX	"node_modules/"
#define NM_PREFIX_LEN	(sizeof(NM_PREFIX) - 1)

enum {
	F_VERSION,
	F_RESOLVED,
	F_INTEGRITY,
	F_DEV,
	F_OPTIONAL,
	F_COUNT
};

struct npm_entry {
	size_t		 off[3];	/* version, resolved, integrity */
	size_t		 len[3];
	int		 has[3];	/* non-nil */
	int		 dev;
	int		 optional;
	unsigned int	 seen;		/* fields met, first wins */
};

struct npm {
	struct json		*js;
	const struct scan_sink	*sink;
	struct strset		 keys;
	struct sbuf		 e;	/* this entry's strings */
	size_t			 declared;	/* entries, items or not */
	size_t			 emitted;
};

static int
npm_field(const struct json_tok *k)
{
	switch (k->len) {
	case 3:
		if (memcmp(k->s, "dev", 3) == 0)
			return (F_DEV);
		break;
	case 7:
		if (memcmp(k->s, "version", 7) == 0)
			return (F_VERSION);
		break;
	case 8:
		if (memcmp(k->s, "resolved", 8) == 0)
			return (F_RESOLVED);
		if (memcmp(k->s, "optional", 8) == 0)
			return (F_OPTIONAL);
		break;
	case 9:
		if (memcmp(k->s, "integrity", 9) == 0)
			return (F_INTEGRITY);
		break;
	}
	return (-1);
}

static const char *const npm_field_names[] = {
	"version", "resolved", "integrity", "dev", "optional"
};

static int	npm_v1_deps(struct npm *, const char *, size_t);

/*
 * The entry object, its '{' already read, its strings kept in sb.  With
 * a v1 path (v1 != NULL), "dependencies" is the nested tree, read at
 * once below that path.  0, or -1 (issue recorded).
 */
static int
npm_entry(struct npm *n, struct sbuf *sb, struct npm_entry *ent,
    const char *v1, size_t v1len)
{
	struct json_tok	 tok;
	enum json_type	 t;
	size_t		 off;
	int		 f;

	memset(ent, 0, sizeof(*ent));
	for (;;) {
		if ((t = json_next(n->js, &tok)) == JSON_END)
			return (0);
		if (t != JSON_KEY)
			goto malformed;
		f = npm_field(&tok);
		if (f == -1 && v1 != NULL &&
		    json_tok_eq(&tok, "dependencies")) {
			if ((t = json_next(n->js, &tok)) == JSON_ERROR)
				goto malformed;
			if (t == JSON_NULL)
				continue;
			if (t != JSON_OBJECT) {
				scan_type_error(n->sink, "dependencies",
				    "an object");
				return (-1);
			}
			if (npm_v1_deps(n, v1, v1len) == -1)
				return (-1);
			continue;
		}
		if (f == -1 || (ent->seen & (1U << f))) {
			if (json_skip_next(n->js) == -1)
				goto malformed;
			continue;
		}
		ent->seen |= 1U << f;
		t = json_next(n->js, &tok);
		if (t == JSON_ERROR)
			goto malformed;
		if (t == JSON_NULL)
			continue;
		switch (f) {
		case F_VERSION:
		case F_RESOLVED:
		case F_INTEGRITY:
			if (t != JSON_STRING) {
				scan_type_error(n->sink, npm_field_names[f],
				    "a string");
				return (-1);
			}
			if ((off = sbuf_add(sb, tok.s, tok.len)) == SBUF_ERR)
				goto nomem;
			ent->off[f] = off;
			ent->len[f] = tok.len;
			ent->has[f] = 1;
			break;
		default:
			if (t != JSON_TRUE && t != JSON_FALSE) {
				scan_type_error(n->sink, npm_field_names[f],
				    "a boolean");
				return (-1);
			}
			if (f == F_DEV)
				ent->dev = t == JSON_TRUE;
			else
				ent->optional = t == JSON_TRUE;
			break;
		}
	}
malformed:
	scan_malformed(n->sink, n->js);
	return (-1);
nomem:
	n->sink->issue(n->sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
	return (-1);
}

/*
 * Emit the item of an entry whose strings are in sb, the name at
 * sb[noff .. noff + nlen).  The detail is built behind them
 * (SURFACES.md 7: space-joined resolved=, integrity=, then scope=dev or
 * else scope=optional, each only if present; nil if none).
 */
static int
npm_emit(struct npm *n, struct sbuf *sb, size_t noff, size_t nlen,
    const struct npm_entry *ent)
{
	struct scan_item	 it;
	size_t			 dstart, need = 0, i;
	char			*d, *d0;
	const char		*scope = NULL;
	static const char	*const lit[] = { NULL, "resolved=",
	    "integrity=" };
	static const size_t	 litlen[] = { 0, 9, 10 };

	for (i = F_RESOLVED; i <= F_INTEGRITY; i++)
		if (ent->has[i])
			need += litlen[i] + ent->len[i] + 1;
	if (ent->dev)
		scope = "scope=dev";
	else if (ent->optional)
		scope = "scope=optional";
	if (scope != NULL)
		need += strlen(scope) + 1;
	/* Room first: the buffer may move when it grows. */
	if (sbuf_reserve(sb, need) == -1) {
		n->sink->issue(n->sink->arg, SCAN_ISSUE_LIMIT,
		    "out of memory");
		return (-1);
	}
	dstart = sb->len;
	d = d0 = sb->p + dstart;
	for (i = F_RESOLVED; i <= F_INTEGRITY; i++) {
		if (!ent->has[i])
			continue;
		if (d != d0)
			*d++ = ' ';
		memcpy(d, lit[i], litlen[i]);
		d += litlen[i];
		memcpy(d, sb->p + ent->off[i], ent->len[i]);
		d += ent->len[i];
	}
	if (scope != NULL) {
		if (d != d0)
			*d++ = ' ';
		memcpy(d, scope, strlen(scope));
		d += strlen(scope);
	}
	sb->len += (size_t)(d - d0);

	memset(&it, 0, sizeof(it));
	it.kind = KIND_PACKAGE;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = sb->p + noff;
	it.name.len = nlen;
	it.version.p = sb->p + ent->off[F_VERSION];
	it.version.len = ent->len[F_VERSION];
	it.origin.p = SCAN_ORIGIN_NPM;
	it.origin.len = sizeof(SCAN_ORIGIN_NPM) - 1;
	if (d != d0) {
		it.detail.p = d0;
		it.detail.len = (size_t)(d - d0);
	}
	n->emitted++;
	return (n->sink->emit(n->sink->arg, &it));
}

/* The "packages" object, its '{' already read. */
static int
npm_packages(struct npm *n)
{
	struct json_tok		tok;
	struct npm_entry	ent;
	enum json_type		t;
	const char		*nm;
	size_t			keylen, noff;
	int			r;

	for (;;) {
		if ((t = json_next(n->js, &tok)) == JSON_END)
			return (0);
		if (t != JSON_KEY)
			goto malformed;
		if ((r = strset_add(&n->keys, tok.s, tok.len)) == -1)
			goto nomem;
		if (r == 0) {
			/* A duplicate key: the first one stands. */
			if (json_skip_next(n->js) == -1)
				goto malformed;
			continue;
		}
		sbuf_reset(&n->e);
		if (sbuf_add(&n->e, tok.s, tok.len) == SBUF_ERR)
			goto nomem;
		keylen = tok.len;
		if ((t = json_next(n->js, &tok)) == JSON_ERROR)
			goto malformed;
		if (t != JSON_OBJECT) {
			scan_type_error(n->sink, "a packages entry",
			    "an object");
			return (-1);
		}
		if (npm_entry(n, &n->e, &ent, NULL, 0) == -1)
			return (-1);
		/* The install path's first node_modules/ (at 0 for most). */
		if ((nm = memmem(n->e.p, keylen, NM_PREFIX, NM_PREFIX_LEN)) ==
		    NULL)
			continue;
		n->declared++;
		if (!ent.has[F_VERSION])
			continue;
		noff = (size_t)(nm - n->e.p) + NM_PREFIX_LEN;
		if (npm_emit(n, &n->e, noff, keylen - noff, &ent) == -1)
			return (-1);
	}
malformed:
	scan_malformed(n->sink, n->js);
	return (-1);
nomem:
	n->sink->issue(n->sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
	return (-1);
}

/*
 * Lockfile v1: a "dependencies" object (its '{' read) whose entries sit
 * at prefix + key; an entry's own "dependencies" sit below
 * prefix + key + "/node_modules/".  Each level keeps its strings in its
 * own buffer, so the levels below cannot move them.
 */
static int
npm_v1_deps(struct npm *n, const char *prefix, size_t plen)
{
	struct json_tok		tok;
	struct npm_entry	ent;
	struct strset		keys;
	struct sbuf		sb;
	enum json_type		t;
	char			*below;
	size_t			nlen, cp;
	int			r, ret = -1;

	strset_init(&keys);
	sbuf_init(&sb);
	for (;;) {
		if ((t = json_next(n->js, &tok)) == JSON_END)
			break;
		if (t != JSON_KEY)
			goto malformed;
		if ((r = strset_add(&keys, tok.s, tok.len)) == -1)
			goto nomem;
		if (r == 0) {
			if (json_skip_next(n->js) == -1)
				goto malformed;
			continue;
		}
		/* [name][the path below it], then the fields, detail */
		sbuf_reset(&sb);
		if (sbuf_add(&sb, prefix, plen) == SBUF_ERR ||
		    sbuf_add(&sb, tok.s, tok.len) == SBUF_ERR)
			goto nomem;
		nlen = sb.len;
		/* Room first: the copy's source is sb itself. */
		if (sbuf_reserve(&sb, nlen + NM_PREFIX_LEN + 1) == -1 ||
		    sbuf_add(&sb, sb.p, nlen) == SBUF_ERR ||
		    sbuf_add(&sb, "/" NM_PREFIX, NM_PREFIX_LEN + 1) ==
		    SBUF_ERR)
			goto nomem;
		cp = sb.len;
		if ((t = json_next(n->js, &tok)) == JSON_ERROR)
			goto malformed;
		if (t != JSON_OBJECT) {
			scan_type_error(n->sink, "a dependencies entry",
			    "an object");
			goto out;
		}
		/* Its own copy: sb may move while the fields are added. */
		if ((below = strndup(sb.p + nlen, cp - nlen)) == NULL)
			goto nomem;
		sb.len = nlen;
		n->declared++;
		r = npm_entry(n, &sb, &ent, below, cp - nlen);
		free(below);
		if (r == -1)
			goto out;
		if (!ent.has[F_VERSION])
			continue;
		if (npm_emit(n, &sb, 0, nlen, &ent) == -1)
			goto out;
	}
	ret = 0;
	goto out;
malformed:
	scan_malformed(n->sink, n->js);
	goto out;
nomem:
	n->sink->issue(n->sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
out:
	strset_free(&keys);
	sbuf_free(&sb);
	return (ret);
}
/* lockfileVersion as written: its number, 0 if not a small integer. */
static int
npm_lockfile_version(const struct json_tok *tok)
{
	size_t	i;
	int	v = 0;

	if (tok->type != JSON_NUMBER || tok->len == 0 || tok->len > 3)
		return (0);
	for (i = 0; i < tok->len; i++) {
		if (tok->s[i] < '0' || tok->s[i] > '9')
			return (0);
		v = v * 10 + (tok->s[i] - '0');
	}
	return (v);
}

int
scan_npm_lock(struct json *js, const struct scan_sink *sink)
{
	struct npm	 n;
	struct json_tok	 tok;
	enum json_type	 t;
	char		 why[SCAN_REASON_MAX];
	int		 seen = 0, seen_deps = 0, version = 0, ret = -1;

	memset(&n, 0, sizeof(n));
	n.js = js;
	n.sink = sink;
	strset_init(&n.keys);
	sbuf_init(&n.e);

	if ((t = json_next(js, &tok)) == JSON_ERROR)
		goto malformed;
	if (t != JSON_OBJECT) {
		scan_type_error(sink, "the top level", "an object");
		goto out;
	}
	for (;;) {
		if ((t = json_next(js, &tok)) == JSON_END)
			break;
		if (t != JSON_KEY)
			goto malformed;
		if (json_tok_eq(&tok, "lockfileVersion")) {
			if ((t = json_next(js, &tok)) == JSON_ERROR)
				goto malformed;
			if (json_skip(js, t) == -1)
				goto malformed;
			version = npm_lockfile_version(&tok);
			/* 1 to 3 are npm's; a later one is not known. */
			if (version > 3) {
				snprintf(why, sizeof(why),
				    "lockfileVersion %d is not supported",
				    version);
				sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED,
				    why);
				goto out;
			}
			continue;
		}
		if (!seen && json_tok_eq(&tok, "packages")) {
			seen = 1;
			if ((t = json_next(js, &tok)) == JSON_ERROR)
				goto malformed;
			if (t == JSON_NULL)
				continue;
			if (t != JSON_OBJECT) {
				scan_type_error(sink, "packages", "an object");
				goto out;
			}
			if (npm_packages(&n) == -1)
				goto out;
			continue;
		}
		/*
		 * v1's tree; v2 carries it too, after "packages" and
		 * "lockfileVersion": 2, and then it is not read twice.
		 */
		if (!seen && !seen_deps && version < 2 &&
		    json_tok_eq(&tok, "dependencies")) {
			seen_deps = 1;
			if ((t = json_next(js, &tok)) == JSON_ERROR)
				goto malformed;
			if (t == JSON_NULL)
				continue;
			if (t != JSON_OBJECT) {
				scan_type_error(sink, "dependencies",
				    "an object");
				goto out;
			}
			if (npm_v1_deps(&n, "", 0) == -1)
				goto out;
			continue;
		}
		if (json_skip_next(js) == -1)
			goto malformed;
	}
	if (json_next(js, &tok) != JSON_EOF)
		goto malformed;
	/* Never a silent zero: packages declared, none read. */
	if (n.emitted == 0 && n.declared > 0) {
		snprintf(why, sizeof(why), "%zu packages declared, none "
		    "with a version", n.declared);
		sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED, why);
	}
	ret = 0;
	goto out;
malformed:
	scan_malformed(sink, js);
out:
	strset_free(&n.keys);
	sbuf_free(&n.e);
	return (ret);
}
