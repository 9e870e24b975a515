/*
 * The TOML parser (common/toml.c): golden documents under regress/toml/
 * (valid/NAME.toml with its rendering NAME.json, invalid/NAME.toml with
 * its one-line message NAME.err), then the API, the limits and sizes.
 *
 * Run from the top of the tree (make regress-unit does), or set
 * KOBANG_SRCDIR.  KOBANG_UPDATE_GOLDEN=1 rewrites the expected files from
 * the actual output instead of comparing: review the diff before
 * committing it.
 */

#include <sys/types.h>

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "toml.h"
#include "fixture.h"

#define MIN_GOLDEN	60	/* a lost directory must not pass quietly */

/*
 * The canonical rendering the golden files hold: JSON-like text, keys in
 * document order, two-space indent, one element per line.  Strings are
 * JSON strings (control characters and NUL as \uXXXX), integers plain,
 * floats always with a '.' or an exponent (shortest form that reads
 * back; inf, -inf, nan), booleans true/false, and dates and times as
 * kind("text") where kind is datetime, datetime-local, date-local or
 * time-local.
 */
struct out {
	char	*s;
	size_t	 len, cap;
};

static void
out_put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		while (o->len + n + 1 > o->cap)
			o->cap = o->cap ? o->cap * 2 : 4096;
		if ((o->s = realloc(o->s, o->cap)) == NULL)
			abort();
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void
out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static void
out_indent(struct out *o, int depth)
{
	int	i;

	for (i = 0; i < depth; i++)
		out_put(o, "  ", 2);
}

static void
out_quoted(struct out *o, const char *s, size_t len)
{
	char		 esc[8];
	size_t		 i;
	unsigned char	 c;

	out_put(o, "\"", 1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			out_put(o, esc, 2);
		} else if (c == '\n')
			out_put(o, "\\n", 2);
		else if (c == '\t')
			out_put(o, "\\t", 2);
		else if (c < 0x20 || c == 0x7f) {
			(void)snprintf(esc, sizeof(esc), "\\u%04x", c);
			out_put(o, esc, 6);
		} else
			out_put(o, s + i, 1);
	}
	out_put(o, "\"", 1);
}

/* Shortest digits that read back, laid out as Python's repr() does. */
static void
fmt_float(char *buf, size_t sz, double f)
{
	char	 tmp[64], dig[24], *p;
	int	 prec, exp, nd = 0, i, neg;
	size_t	 n = 0;

	if (isnan(f)) {
		(void)snprintf(buf, sz, "nan");
		return;
	}
	if (isinf(f)) {
		(void)snprintf(buf, sz, f < 0 ? "-inf" : "inf");
		return;
	}
	for (prec = 0; prec < 17; prec++) {
		(void)snprintf(tmp, sizeof(tmp), "%.*e", prec, f);
		if (strtod(tmp, NULL) == f)
			break;
	}
	neg = tmp[0] == '-';
	for (p = tmp + neg; *p != 'e'; p++)
		if (*p != '.')
			dig[nd++] = *p;
	dig[nd] = '\0';
	exp = atoi(p + 1);
	if (neg)
		buf[n++] = '-';
	if (exp >= -4 && exp < 16) {
		if (exp < 0) {
			n += (size_t)snprintf(buf + n, sz - n, "0.");
			for (i = 0; i < -exp - 1; i++)
				buf[n++] = '0';
			n += (size_t)snprintf(buf + n, sz - n, "%s", dig);
		} else {
			for (i = 0; i <= exp; i++)
				buf[n++] = i < nd ? dig[i] : '0';
			buf[n++] = '.';
			if (nd > exp + 1)
				n += (size_t)snprintf(buf + n, sz - n, "%s",
				    dig + exp + 1);
			else
				buf[n++] = '0';
		}
		buf[n] = '\0';
	} else {
		buf[n++] = dig[0];
		if (nd > 1) {
			buf[n++] = '.';
			n += (size_t)snprintf(buf + n, sz - n, "%s", dig + 1);
		}
		(void)snprintf(buf + n, sz - n, "e%c%02d", exp < 0 ? '-' : '+',
		    exp < 0 ? -exp : exp);
	}
}

static void	render_value(struct out *, const struct toml_value *, int);

static void
render_table(struct out *o, const struct toml_table *t, int depth)
{
	const struct toml_kv	*kv;
	size_t			 i, n = toml_table_len(t);

	if (n == 0) {
		out_str(o, "{}");
		return;
	}
	out_str(o, "{\n");
	for (i = 0; i < n; i++) {
		kv = toml_table_at(t, i);
		out_indent(o, depth + 1);
		out_quoted(o, kv->key.ptr, kv->key.len);
		out_str(o, ": ");
		render_value(o, &kv->val, depth + 1);
		out_str(o, i + 1 < n ? ",\n" : "\n");
	}
	out_indent(o, depth);
	out_str(o, "}");
}

static void
render_value(struct out *o, const struct toml_value *v, int depth)
{
	static const char *const dtkinds[] = { "datetime", "datetime-local",
	    "date-local", "time-local" };
	const struct toml_array	*a;
	char			 num[64];
	size_t			 i, n;

	switch (v->type) {
	case TOML_STRING:
		out_quoted(o, v->u.s.ptr, v->u.s.len);
		break;
	case TOML_INTEGER:
		(void)snprintf(num, sizeof(num), "%lld", (long long)v->u.i);
		out_str(o, num);
		break;
	case TOML_FLOAT:
		fmt_float(num, sizeof(num), v->u.f);
		out_str(o, num);
		break;
	case TOML_BOOL:
		out_str(o, v->u.b ? "true" : "false");
		break;
	case TOML_DATETIME:
		out_str(o, dtkinds[v->dtkind]);
		out_str(o, "(");
		out_quoted(o, v->u.s.ptr, v->u.s.len);
		out_str(o, ")");
		break;
	case TOML_ARRAY:
		a = v->u.a;
		if ((n = toml_array_len(a)) == 0) {
			out_str(o, "[]");
			break;
		}
		out_str(o, "[\n");
		for (i = 0; i < n; i++) {
			out_indent(o, depth + 1);
			render_value(o, toml_array_at(a, i), depth + 1);
			out_str(o, i + 1 < n ? ",\n" : "\n");
		}
		out_indent(o, depth);
		out_str(o, "]");
		break;
	case TOML_TABLE:
		render_table(o, v->u.t, depth);
		break;
	}
}

static char *
render_doc(const struct toml_doc *d)
{
	struct out	o = { NULL, 0, 0 };

	render_table(&o, toml_root(d), 0);
	out_str(&o, "\n");
	return (o.s);
}

static void
spew(const char *path, const char *s)
{
	FILE	*f = fopen(path, "wb");

	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fwrite(s, 1, strlen(s), f), strlen(s));
	fclose(f);
}

/* Compare with dir/base.ext, or rewrite it when updating. */
static int
golden(const char *dir, const char *base, const char *ext,
    const char *actual)
{
	char	*path, *expect;
	int	 ok;

	cr_assert(asprintf(&path, "%s/%s.%s", dir, base, ext) != -1);
	if (getenv("KOBANG_UPDATE_GOLDEN") != NULL) {
		spew(path, actual);
		free(path);
		return (1);
	}
	expect = slurp(path, NULL);
	cr_expect_not_null(expect, "%s: no expected file %s", base, path);
	ok = expect != NULL && strcmp(actual, expect) == 0;
	if (expect != NULL)
		cr_expect_str_eq(actual, expect, "%s.toml: output differs "
		    "from %s", base, path);
	free(expect);
	free(path);
	return (ok);
}

static struct toml_doc *
parse_str(const char *s, const struct toml_limits *lim,
    struct toml_error *err)
{
	return (toml_parse(s, strlen(s), lim, err));
}

/* The message for a document that must fail. */
static const char *
must_fail(const char *s, const struct toml_limits *lim)
{
	static struct toml_error	 err;
	struct toml_doc			*d;

	d = parse_str(s, lim, &err);
	cr_assert_null(d, "accepted: %s", s);
	return (err.msg);
}

Test(toml_golden, valid)
{
	char		*dir = srcpath("regress/toml/valid"), **names;
	char		*path, *buf, *text;
	size_t		 n, i, len, passed = 0;
	struct toml_error err;
	struct toml_doc	*d;

	names = list_dir(dir, ".toml", 1, &n);
	cr_assert_geq(n, MIN_GOLDEN, "only %zu valid documents", n);
	for (i = 0; i < n; i++) {
		cr_assert(asprintf(&path, "%s/%s.toml", dir, names[i]) != -1);
		cr_assert_not_null(buf = slurp(path, &len));
		d = toml_parse(buf, len, NULL, &err);
		cr_expect_not_null(d, "%s.toml refused: %s", names[i],
		    err.msg);
		if (d != NULL) {
			text = render_doc(d);
			passed += golden(dir, names[i], "json", text);
			free(text);
			toml_free(d);
		}
		free(buf);
		free(path);
	}
	cr_log_info("%zu of %zu valid documents match", passed, n);
	free_list(names, n);
	free(dir);
}

Test(toml_golden, invalid)
{
	char		*dir = srcpath("regress/toml/invalid"), **names;
	char		*path, *buf, *text;
	size_t		 n, i, len, passed = 0;
	struct toml_error err;
	struct toml_doc	*d;

	names = list_dir(dir, ".toml", 1, &n);
	cr_assert_geq(n, MIN_GOLDEN, "only %zu invalid documents", n);
	for (i = 0; i < n; i++) {
		cr_assert(asprintf(&path, "%s/%s.toml", dir, names[i]) != -1);
		cr_assert_not_null(buf = slurp(path, &len));
		d = toml_parse(buf, len, NULL, &err);
		cr_expect_null(d, "%s.toml was accepted", names[i]);
		if (d == NULL) {
			cr_expect(err.line > 0 && err.col > 0,
			    "%s.toml: no position", names[i]);
			cr_assert(asprintf(&text, "%s\n", err.msg) != -1);
			passed += golden(dir, names[i], "err", text);
			free(text);
		}
		toml_free(d);
		free(buf);
		free(path);
	}
	cr_log_info("%zu of %zu invalid documents match", passed, n);
	free_list(names, n);
	free(dir);
}

/* Every expected file has its document and every document its file. */
Test(toml_golden, no_orphans)
{
	static const struct {
		const char	*dir, *have, *want;
	} pairs[] = {
		{ "regress/toml/valid", ".toml", ".json" },
		{ "regress/toml/valid", ".json", ".toml" },
		{ "regress/toml/invalid", ".toml", ".err" },
		{ "regress/toml/invalid", ".err", ".toml" },
	};
	char		*dir, **names, *path;
	size_t		 i, j, n;
	FILE		*f;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		dir = srcpath(pairs[i].dir);
		names = list_dir(dir, pairs[i].have, 1, &n);
		for (j = 0; j < n; j++) {
			cr_assert(asprintf(&path, "%s/%s%s", dir, names[j],
			    pairs[i].want) != -1);
			f = fopen(path, "rb");
			cr_expect_not_null(f, "%s/%s%s has no %s", pairs[i].dir,
			    names[j], pairs[i].have, pairs[i].want);
			if (f != NULL)
				fclose(f);
			free(path);
		}
		free_list(names, n);
		free(dir);
	}
}

Test(toml_api, document_order_and_lookup)
{
	static const char doc[] =
	    "zeta = 1\nalpha = 2\nmid.b = 3\nmid.a = 4\n"
	    "[later]\nx = 5\n[[arr]]\nn = 1\n[[arr]]\nn = 2\n";
	static const char *const order[] = { "zeta", "alpha", "mid", "later",
	    "arr" };
	struct toml_error	 err;
	struct toml_doc		*d;
	const struct toml_table	*root, *mid;
	const struct toml_array	*arr;
	const struct toml_kv	*kv;
	size_t			 i;

	d = parse_str(doc, NULL, &err);
	cr_assert_not_null(d, "%s", err.msg);
	root = toml_root(d);
	cr_assert_eq(toml_table_len(root), sizeof(order) / sizeof(order[0]));
	for (i = 0; i < toml_table_len(root); i++) {
		kv = toml_table_at(root, i);
		cr_expect_str_eq(kv->key.ptr, order[i]);
	}
	cr_expect_null(toml_table_at(root, 5));
	cr_expect_eq(toml_table_get(root, "alpha")->u.i, 2);
	cr_expect_null(toml_table_get(root, "missing"));
	cr_expect_null(toml_table_get(root, "mid.a"), "dotted lookup");
	mid = toml_as_table(toml_table_get(root, "mid"));
	cr_assert_not_null(mid);
	cr_expect_str_eq(toml_table_at(mid, 0)->key.ptr, "b");
	cr_expect_eq(toml_table_get(mid, "a")->u.i, 4);
	arr = toml_as_array(toml_table_get(root, "arr"));
	cr_assert_eq(toml_array_len(arr), 2);
	cr_expect_eq(toml_table_get(toml_as_table(toml_array_at(arr, 1)),
	    "n")->u.i, 2);
	cr_expect_null(toml_array_at(arr, 2));
	/* Typed views refuse other types; NULL passes through. */
	cr_expect_null(toml_as_table(toml_table_get(root, "zeta")));
	cr_expect_null(toml_as_array(toml_table_get(root, "mid")));
	cr_expect_null(toml_as_string(toml_table_get(root, "zeta")));
	cr_expect_null(toml_table_get(NULL, "x"));
	cr_expect_eq(toml_table_len(NULL), 0);
	cr_expect_eq(toml_array_len(NULL), 0);
	cr_expect_null(toml_table_get(toml_as_table(toml_table_get(root,
	    "nope")), "x"));
	toml_free(d);
	toml_free(NULL);
}

Test(toml_api, nul_in_strings_and_keys)
{
	static const char doc[] = "s = \"a\\u0000b\"\nplain = \"ab\"\n"
	    "\"k\\u0000\" = 1\n";
	struct toml_doc		*d;
	const struct toml_table	*root;
	const struct toml_value	*v;
	const struct toml_str	*s;

	cr_assert_not_null(d = parse_str(doc, NULL, NULL));
	root = toml_root(d);
	v = toml_table_get(root, "s");
	cr_assert_not_null(s = toml_as_string(v));
	cr_expect_eq(s->len, 3);
	cr_expect(memcmp(s->ptr, "a\0b", 4) == 0, "bytes and final NUL");
	cr_expect_null(toml_cstr(v), "a string holding NUL is no C string");
	cr_expect_str_eq(toml_cstr(toml_table_get(root, "plain")), "ab");
	cr_expect_null(toml_cstr(toml_table_get(root, "missing")));
	cr_expect_null(toml_table_get(root, "k"), "C lookup stops at NUL");
	v = toml_table_getn(root, "k\0", 2);
	cr_assert_not_null(v);
	cr_expect_eq(v->u.i, 1);
	cr_expect_eq(toml_table_at(root, 2)->key.len, 2);
	toml_free(d);
}

Test(toml_api, scalar_values)
{
	static const char doc[] =
	    "max = 9223372036854775807\nmin = -9223372036854775808\n"
	    "hex = 0xdead_BEEF\noct = 0o755\nbin = 0b1010\n"
	    "f = -1.5e-3\ninf = -inf\nnan = nan\nt = true\nfa = false\n"
	    "odt = 1979-05-27 07:32:00.5+01:00\nldt = 1979-05-27T07:32:00\n"
	    "ld = 2000-02-29\nlt = 23:59:60\n";
	struct toml_doc		*d;
	const struct toml_table	*r;
	const struct toml_value	*v;

	cr_assert_not_null(d = parse_str(doc, NULL, NULL));
	r = toml_root(d);
	cr_expect_eq(toml_table_get(r, "max")->u.i, INT64_MAX);
	cr_expect_eq(toml_table_get(r, "min")->u.i, INT64_MIN);
	cr_expect_eq(toml_table_get(r, "hex")->u.i, 0xdeadbeef);
	cr_expect_eq(toml_table_get(r, "oct")->u.i, 0755);
	cr_expect_eq(toml_table_get(r, "bin")->u.i, 10);
	v = toml_table_get(r, "f");
	cr_expect(v->type == TOML_FLOAT && v->u.f == -1.5e-3);
	v = toml_table_get(r, "inf");
	cr_expect(v->type == TOML_FLOAT && isinf(v->u.f) && v->u.f < 0);
	cr_expect(isnan(toml_table_get(r, "nan")->u.f));
	v = toml_table_get(r, "t");
	cr_expect(v->type == TOML_BOOL && v->u.b == 1);
	cr_expect_eq(toml_table_get(r, "fa")->u.b, 0);
	v = toml_table_get(r, "odt");
	cr_expect(v->type == TOML_DATETIME && v->dtkind == TOML_DT_OFFSET);
	cr_expect_str_eq(v->u.s.ptr, "1979-05-27 07:32:00.5+01:00");
	cr_expect_eq(toml_table_get(r, "ldt")->dtkind, TOML_DT_LOCAL);
	cr_expect_eq(toml_table_get(r, "ld")->dtkind, TOML_DATE_LOCAL);
	cr_expect_eq(toml_table_get(r, "lt")->dtkind, TOML_TIME_LOCAL);
	cr_expect_str_eq(toml_type_name(TOML_DATETIME), "datetime");
	cr_expect_str_eq(toml_type_name(TOML_TABLE), "table");
	toml_free(d);
}

Test(toml_api, error_fields)
{
	struct toml_error	 err;

	memset(&err, 0xa5, sizeof(err));
	cr_assert_null(parse_str("a = 1\n\xc3\xa9\xc3\xa9 = 2\n", NULL,
	    &err));
	cr_expect_eq(err.line, 2);
	cr_expect_eq(err.col, 1);
	/* Columns count characters, not bytes. */
	cr_assert_null(parse_str("\"\xc3\xa9\xc3\xa9\" = 1x\n", NULL, &err));
	cr_expect_eq(err.line, 1);
	cr_expect_eq(err.col, 9);
	cr_expect_str_eq(err.msg, "line 1, column 9: unexpected 'x' in "
	    "number");
	/* CRLF lines count once; a BOM is no column. */
	cr_assert_null(parse_str("\xef\xbb\xbf" "a = 1\r\nb = ?\r\n", NULL,
	    &err));
	cr_expect_str_eq(err.msg, "line 2, column 5: expected a value, "
	    "found '?'");
	cr_assert_null(parse_str("x = ?", NULL, NULL), "no error struct");
}

Test(toml_api, empty_inputs)
{
	struct toml_doc	*d;

	cr_assert_not_null(d = toml_parse(NULL, 0, NULL, NULL));
	cr_expect_eq(toml_table_len(toml_root(d)), 0);
	toml_free(d);
	cr_assert_not_null(d = toml_parse("", 0, NULL, NULL));
	toml_free(d);
	/* The length is the caller's: bytes past it are never read. */
	cr_assert_not_null(d = toml_parse("a = 1garbage", 5, NULL, NULL));
	cr_expect_eq(toml_table_get(toml_root(d), "a")->u.i, 1);
	toml_free(d);
}

/* Past SMALL_TABLE keys lookups go through the hash index. */
Test(toml_api, large_tables, .timeout = 60)
{
	struct toml_doc		*d;
	const struct toml_table	*r, *t;
	char			*buf, key[32];
	size_t			 cap = 8 << 20, len = 0, i, n = 100000;
	struct toml_error	 err;

	cr_assert_not_null(buf = malloc(cap));
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		    "key%zu = %zu\n", i, i);
	len += (size_t)snprintf(buf + len, cap - len, "[t]\n");
	for (i = 0; i < 20; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		    "k%zu = %zu\n", i, i);
	d = toml_parse(buf, len, NULL, &err);
	cr_assert_not_null(d, "%s", err.msg);
	r = toml_root(d);
	cr_expect_eq(toml_table_len(r), n + 1);
	for (i = 0; i < n; i++) {
		(void)snprintf(key, sizeof(key), "key%zu", i);
		cr_assert_eq(toml_table_get(r, key)->u.i, (int64_t)i);
		cr_assert_str_eq(toml_table_at(r, i)->key.ptr, key);
	}
	cr_expect_null(toml_table_get(r, "key100000"));
	t = toml_as_table(toml_table_get(r, "t"));
	for (i = 0; i < 20; i++) {
		(void)snprintf(key, sizeof(key), "k%zu", i);
		cr_expect_eq(toml_table_get(t, key)->u.i, (int64_t)i);
		cr_expect_null(toml_table_get(r, key), "keys are per table");
	}
	toml_free(d);

	/* A duplicate found through the index. */
	len += (size_t)snprintf(buf + len, cap - len, "k7 = 0\n");
	cr_assert_null(toml_parse(buf, len, NULL, &err));
	cr_expect_str_eq(err.msg, "line 100022, column 1: duplicate key k7");
	free(buf);
}

Test(toml_limits, document_size)
{
	struct toml_limits	 lim = { .max_doc = 10 };
	struct toml_error	 err;
	struct toml_doc		*d;
	char			*big;

	cr_assert_not_null(d = parse_str("a = 12345\n", &lim, &err));
	toml_free(d);
	cr_assert_null(parse_str("a = 123456\n", &lim, &err));
	cr_expect_str_eq(err.msg, "document is 11 bytes, more than the limit "
	    "of 10");
	cr_expect_eq(err.line, 0);

	/* The hard cap holds whatever the caller asks for. */
	lim.max_doc = SIZE_MAX;
	cr_assert_not_null(big = malloc(TOML_MAX_DOC + 1));
	memset(big, '\n', TOML_MAX_DOC + 1);
	cr_assert_null(toml_parse(big, TOML_MAX_DOC + 1, &lim, &err));
	cr_expect_str_eq(err.msg, "document is 25000001 bytes, more than "
	    "the limit of 25000000");
	cr_assert_not_null(d = toml_parse(big, TOML_MAX_DOC, &lim, &err));
	toml_free(d);
	free(big);
}

Test(toml_limits, string_length)
{
	struct toml_limits	 lim = { .max_string = 4 };
	struct toml_doc		*d;

	cr_assert_not_null(d = parse_str("a = \"abcd\"\nb = '''\nwxyz'''\n"
	    "c = \"\\u00e9\\u00e9\"\nabcd = 1\n\"dcba\" = 2\n", &lim, NULL));
	toml_free(d);
	cr_expect_str_eq(must_fail("a = \"abcde\"\n", &lim),
	    "line 1, column 5: string longer than 4 bytes");
	cr_expect_str_eq(must_fail("a = '''abc\nd'''\n", &lim),
	    "line 1, column 5: string longer than 4 bytes");
	/* Decoded bytes count: three 2-byte characters are 6. */
	cr_expect_str_eq(must_fail("a = \"\\u00e9\\u00e9\\u00e9\"\n", &lim),
	    "line 1, column 5: string longer than 4 bytes");
	cr_expect_str_eq(must_fail("abcde = 1\n", &lim),
	    "line 1, column 1: key longer than 4 bytes");
	cr_expect_str_eq(must_fail("x.\"abcde\" = 1\n", &lim),
	    "line 1, column 3: string longer than 4 bytes");
}

Test(toml_limits, value_count)
{
	/* t, the array, its two elements, the inline table, 3: 6 values. */
	static const char doc[] = "[t]\na = [1, 2]\nb = { c = 3 }\n";
	struct toml_limits	 lim = { .max_values = 6 };
	struct toml_doc		*d;

	cr_assert_not_null(d = parse_str(doc, &lim, NULL));
	toml_free(d);
	lim.max_values = 5;
	cr_expect_str_eq(must_fail(doc, &lim),
	    "line 3, column 12: more than 5 values");
	lim.max_values = 3;
	cr_expect_str_eq(must_fail("a = [[], [], [], []]\n", &lim),
	    "line 1, column 14: more than 3 values");
	/* Implicit tables count too. */
	lim.max_values = 2;
	cr_expect_str_eq(must_fail("[a.b.c]\n", &lim),
	    "line 1, column 1: more than 2 values");
}

Test(toml_limits, depth)
{
	struct toml_limits	 lim = { .max_depth = 3 };
	struct toml_doc		*d;

	cr_assert_not_null(d = parse_str("a = [[[1]]]\nb.c.d = 1\n"
	    "e = { f = { g = 1 } }\n[x.y.z]\nw = 1\n", &lim, NULL));
	cr_expect_str_eq(must_fail("[x.y.z]\nb.c = 1\n", &lim),
	    "line 2, column 1: nested deeper than 3 levels");
	toml_free(d);
	cr_expect_str_eq(must_fail("a = [[[[1]]]]\n", &lim),
	    "line 1, column 8: nested deeper than 3 levels");
	cr_expect_str_eq(must_fail("[x.y.z]\nw = []\n", &lim),
	    "line 2, column 5: nested deeper than 3 levels");
	cr_expect_str_eq(must_fail("[[x.y.z]]\n", &lim),
	    "line 1, column 1: nested deeper than 3 levels");
	cr_expect_str_eq(must_fail("a = { b = { c = { d = {} } } }\n", &lim),
	    "line 1, column 23: nested deeper than 3 levels");
	/* Above the hard cap the caller's limit is ignored. */
	lim.max_depth = 1000;
	cr_expect_str_eq(must_fail("a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n", &lim),
	    "line 1, column 69: nested deeper than 64 levels");
}

/* Hostile shapes stay within the limits and fail cleanly. */
Test(toml_limits, hostile, .timeout = 60)
{
	struct toml_error	 err;
	char			*buf;
	size_t			 n = 4 << 20, i;

	cr_assert_not_null(buf = malloc(n + 16));
	/* A million empty arrays: refused at the value cap. */
	memcpy(buf, "a = [", 5);
	for (i = 5; i + 3 < n; i += 3)
		memcpy(buf + i, "[],", 3);
	memcpy(buf + i, "]\n", 2);
	cr_assert_null(toml_parse(buf, i + 2, NULL, &err));
	cr_expect(strstr(err.msg, "more than 1000000 values") != NULL, "%s",
	    err.msg);
	/* Unbalanced nesting: refused at the depth cap, no deep recursion. */
	memset(buf, '[', n);
	memcpy(buf, "a = ", 4);
	cr_assert_null(toml_parse(buf, n, NULL, &err));
	cr_expect_str_eq(err.msg, "line 1, column 69: nested deeper than 64 "
	    "levels");
	memset(buf, '{', n);
	cr_assert_null(toml_parse(buf, n, NULL, &err));
	/* A long dotted key. */
	for (i = 0; i + 2 < n; i += 2)
		memcpy(buf + i, "a.", 2);
	cr_assert_null(toml_parse(buf, n, NULL, &err));
	cr_expect_str_eq(err.msg, "line 1, column 129: key has more than 64 "
	    "parts");
	free(buf);
}
