/*
 * bun.lock (SURFACES.md 7).  The reference reads it with the strict
 * JSON reader, so the trailing commas bun writes make the file malformed
 * (SURFACES.md 13, question 4); here it is JSONC as bun writes it (the
 * dialect of its row in scan_format.c; kobangd.yaml(5)).  A
 * lockfileVersion above 1 is not understood (an issue, no items), and
 * packages none of which gives an item say so.
 *
 * The reference looks the values up untyped: a top level that is not an
 * object, or "packages" that is not an object, yields nothing and no
 * issue; an entry that is not an array is passed over.  Every array
 * entry gives one item named by its key; the version is the text after
 * the last '@' of the array's first element when that is a string with
 * an '@', else nil.  Of duplicate keys the first wins.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "scan.h"
#include "scan_pkg.h"

struct bun {
	struct json		*js;
	const struct scan_sink	*sink;
	struct strset		 keys;
	struct sbuf		 e;
	size_t			 declared;
	size_t			 emitted;
};

/* Newest bun.lock lockfileVersion this reader knows. */
#define BUN_LOCKFILE_MAX	1

/* Pass over the rest of a container whose opening token was t. */
static int
skip(struct json *js, enum json_type t)
{
	return (json_skip(js, t));
}

/* One array entry, its '[' read; the key is at e.p[0 .. keylen). */
static int
bun_entry(struct bun *b, size_t keylen)
{
	struct scan_item	 it;
	struct json_tok		 tok;
	enum json_type		 t;
	size_t			 voff = 0, vlen = 0, i;
	int			 first = 1, hasver = 0;

	for (;;) {
		if ((t = json_next(b->js, &tok)) == JSON_ERROR)
			return (-2);
		if (t == JSON_END)
			break;
		if (first && t == JSON_STRING) {
			for (i = tok.len; i > 0; i--)
				if (tok.s[i - 1] == '@')
					break;
			if (i > 0) {
				if ((voff = sbuf_add(&b->e, tok.s + i,
				    tok.len - i)) == SBUF_ERR)
					return (-3);
				vlen = tok.len - i;
				hasver = 1;
			}
		}
		first = 0;
		if (skip(b->js, t) == -1)
			return (-2);
	}
	memset(&it, 0, sizeof(it));
	it.kind = KIND_PACKAGE;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = b->e.p;
	it.name.len = keylen;
	if (hasver) {
		it.version.p = b->e.p + voff;
		it.version.len = vlen;
	}
	it.origin.p = SCAN_ORIGIN_BUN;
	it.origin.len = sizeof(SCAN_ORIGIN_BUN) - 1;
	b->emitted++;
	return (b->sink->emit(b->sink->arg, &it));
}

static int
bun_packages(struct bun *b)
{
	struct json_tok	 tok;
	enum json_type	 t;
	size_t		 keylen;
	int		 r;

	for (;;) {
		if ((t = json_next(b->js, &tok)) == JSON_END)
			return (0);
		if (t != JSON_KEY)
			return (-2);
		if ((r = strset_add(&b->keys, tok.s, tok.len)) == -1)
			return (-3);
		if (r == 0) {
			if (json_skip_next(b->js) == -1)
				return (-2);
			continue;
		}
		sbuf_reset(&b->e);
		if (sbuf_add(&b->e, tok.s, tok.len) == SBUF_ERR)
			return (-3);
		keylen = tok.len;
		b->declared++;
		if ((t = json_next(b->js, &tok)) == JSON_ERROR)
			return (-2);
		if (t != JSON_ARRAY) {
			if (skip(b->js, t) == -1)
				return (-2);
			continue;
		}
		if ((r = bun_entry(b, keylen)) != 0)
			return (r);
	}
}

int
scan_bun_lock(struct json *js, const struct scan_sink *sink)
{
	struct bun	 b;
	struct json_tok	 tok;
	enum json_type	 t;
	char		 why[SCAN_REASON_MAX];
	int		 seen = 0, r, ret = -1;

	memset(&b, 0, sizeof(b));
	b.js = js;
	b.sink = sink;
	strset_init(&b.keys);
	sbuf_init(&b.e);

	if ((t = json_next(js, &tok)) == JSON_ERROR)
		goto malformed;
	if (t != JSON_OBJECT) {
		/* An array: strict JSON, but no packages. */
		if (skip(js, t) == -1)
			goto malformed;
		goto end;
	}
	for (;;) {
		if ((t = json_next(js, &tok)) == JSON_END)
			break;
		if (t != JSON_KEY)
			goto malformed;
		if (json_tok_eq(&tok, "lockfileVersion")) {
			if ((t = json_next(js, &tok)) == JSON_ERROR)
				goto malformed;
			if (t == JSON_NUMBER && (tok.len > 1 || (tok.len == 1 &&
			    tok.s[0] > '0' + BUN_LOCKFILE_MAX))) {
				snprintf(why, sizeof(why), "lockfileVersion "
				    "%.*s is not supported", tok.len > 16 ? 16 :
				    (int)tok.len, tok.s);
				sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED,
				    why);
				goto out;
			}
			if (skip(js, t) == -1)
				goto malformed;
			continue;
		}
		if (!seen && json_tok_eq(&tok, "packages")) {
			seen = 1;
			if ((t = json_next(js, &tok)) == JSON_ERROR)
				goto malformed;
			if (t != JSON_OBJECT) {
				if (skip(js, t) == -1)
					goto malformed;
				continue;
			}
			if ((r = bun_packages(&b)) == -3)
				goto nomem;
			if (r == -2)
				goto malformed;
			if (r == -1)
				goto out;
			continue;
		}
		if (json_skip_next(js) == -1)
			goto malformed;
	}
 end:
	if (json_next(js, &tok) != JSON_EOF)
		goto malformed;
	/* Never a silent zero. */
	if (b.emitted == 0 && b.declared > 0) {
		snprintf(why, sizeof(why), "%zu packages declared, none read",
		    b.declared);
		sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED, why);
	}
	ret = 0;
	goto out;
 malformed:
	scan_malformed(sink, js);
	goto out;
 nomem:
	sink->issue(sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
 out:
	strset_free(&b.keys);
	sbuf_free(&b.e);
	return (ret);
}
