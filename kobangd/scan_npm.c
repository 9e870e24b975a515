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
 * links are type-checked too; an item comes only from a key starting
 * with "node_modules/" whose entry has a version.  Lockfile v1 (no
 * "packages") yields nothing.
 *
 * Items go out in lockfile order, unsorted: sorting by id and keeping
 * the first of equal ids is the parent's (scanproto.h).
 */

#include <sys/types.h>

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

/* The entry object, its '{' already read.  0, or -1 (issue recorded). */
static int
npm_entry(struct npm *n, struct npm_entry *ent)
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
			if ((off = sbuf_add(&n->e, tok.s, tok.len)) ==
			    SBUF_ERR)
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
 * Emit the item of an entry.  The buffer holds the key and the field
 * values; the detail is built behind them (SURFACES.md 7: space-joined
 * resolved=, integrity=, then scope=dev or else scope=optional, each
 * only if present; nil if none).
 */
static int
npm_emit(struct npm *n, size_t keylen, const struct npm_entry *ent)
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
	if (sbuf_reserve(&n->e, need) == -1) {
		n->sink->issue(n->sink->arg, SCAN_ISSUE_LIMIT,
		    "out of memory");
		return (-1);
	}
	dstart = n->e.len;
	d = d0 = n->e.p + dstart;
	for (i = F_RESOLVED; i <= F_INTEGRITY; i++) {
		if (!ent->has[i])
			continue;
		if (d != d0)
			*d++ = ' ';
		memcpy(d, lit[i], litlen[i]);
		d += litlen[i];
		memcpy(d, n->e.p + ent->off[i], ent->len[i]);
		d += ent->len[i];
	}
	if (scope != NULL) {
		if (d != d0)
			*d++ = ' ';
		memcpy(d, scope, strlen(scope));
		d += strlen(scope);
	}
	n->e.len += (size_t)(d - d0);

	memset(&it, 0, sizeof(it));
	it.kind = KIND_PACKAGE;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = n->e.p + NM_PREFIX_LEN;
	it.name.len = keylen - NM_PREFIX_LEN;
	it.version.p = n->e.p + ent->off[F_VERSION];
	it.version.len = ent->len[F_VERSION];
	it.origin.p = SCAN_ORIGIN_NPM;
	it.origin.len = sizeof(SCAN_ORIGIN_NPM) - 1;
	if (d != d0) {
		it.detail.p = d0;
		it.detail.len = (size_t)(d - d0);
	}
	return (n->sink->emit(n->sink->arg, &it));
}

/* The "packages" object, its '{' already read. */
static int
npm_packages(struct npm *n)
{
	struct json_tok		tok;
	struct npm_entry	ent;
	enum json_type		t;
	size_t			keylen;
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
		if (npm_entry(n, &ent) == -1)
			return (-1);
		if (!ent.has[F_VERSION] || keylen < NM_PREFIX_LEN ||
		    memcmp(n->e.p, NM_PREFIX, NM_PREFIX_LEN) != 0)
			continue;
		if (npm_emit(n, keylen, &ent) == -1)
			return (-1);
	}
malformed:
	scan_malformed(n->sink, n->js);
	return (-1);
nomem:
	n->sink->issue(n->sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
	return (-1);
}

int
scan_npm_lock(struct json *js, const struct scan_sink *sink)
{
	struct npm	 n;
	struct json_tok	 tok;
	enum json_type	 t;
	int		 seen = 0, ret = -1;

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
		if (json_skip_next(js) == -1)
			goto malformed;
	}
	if (json_next(js, &tok) != JSON_EOF)
		goto malformed;
	ret = 0;
	goto out;
malformed:
	scan_malformed(sink, js);
out:
	strset_free(&n.keys);
	sbuf_free(&n.e);
	return (ret);
}
