/*
 * The strict streaming JSON tokenizer (common/json.h): RFC 8259 accept
 * and reject vectors, string decoding (escapes, surrogate pairs, UTF-8),
 * depth, the byte-order mark, JSONC comments, skipping without decoding,
 * and the same token stream whatever the window and read sizes.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "json.h"
#include "utf8.h"

/* Render a whole document's tokens as text; NULL text on error. */
static char *
render(struct json *js, enum json_error *errp)
{
	struct json_tok	 tok;
	enum json_type	 t;
	FILE		*f;
	char		*buf = NULL;
	size_t		 len = 0, i;

	cr_assert_not_null(f = open_memstream(&buf, &len));
	while ((t = json_next(js, &tok)) > JSON_EOF) {
		fprintf(f, "%d", (int)t);
		if (tok.s != NULL) {
			fputc(':', f);
			for (i = 0; i < tok.len; i++)
				fprintf(f, "%02x", (unsigned char)tok.s[i]);
		}
		fputc(' ', f);
	}
	fclose(f);
	if (errp != NULL)
		*errp = js->err;
	if (t == JSON_ERROR) {
		free(buf);
		return (NULL);
	}
	return (buf);
}

static char *
render_mem(const char *doc, size_t len, int flags, enum json_error *errp)
{
	struct json	 js;
	char		*copy, *r;

	cr_assert_not_null(copy = malloc(len + 1));
	memcpy(copy, doc, len);
	json_init_mem(&js, copy, len, flags);
	r = render(&js, errp);
	json_free(&js);
	free(copy);
	return (r);
}

struct chunked {
	const char	*p;
	size_t		 len;
	size_t		 off;
	size_t		 step;	/* bytes per read, rotating */
};

static ssize_t
chunked_read(void *arg, void *buf, size_t len)
{
	struct chunked	*c = arg;
	size_t		 n = c->step++ % 7 + 1;

	if (n > len)
		n = len;
	if (n > c->len - c->off)
		n = c->len - c->off;
	memcpy(buf, c->p + c->off, n);
	c->off += n;
	return ((ssize_t)n);
}

static char *
render_stream(const char *doc, size_t len, int flags, enum json_error *errp)
{
	struct json	 js;
	struct chunked	 c = { doc, len, 0, 0 };
	char		*r;

	/* A window of 16 bytes that grows: every token crosses refills. */
	cr_assert_eq(json_init_stream(&js, chunked_read, &c, 16, 1 << 20,
	    flags), 0);
	r = render(&js, errp);
	json_free(&js);
	return (r);
}

static int
valid(const char *doc)
{
	enum json_error	 e1, e2;
	char		*a, *b;
	int		 ok;

	a = render_mem(doc, strlen(doc), 0, &e1);
	b = render_stream(doc, strlen(doc), 0, &e2);
	/* Both modes agree on the verdict, the tokens and the error. */
	cr_assert_eq(a == NULL, b == NULL, "modes disagree on %s", doc);
	cr_assert_eq(e1, e2, "errors differ on %s: %d %d", doc, e1, e2);
	if (a != NULL)
		cr_assert_str_eq(a, b, "tokens differ on %s", doc);
	ok = a != NULL;
	free(a);
	free(b);
	return (ok);
}

static enum json_error
error_of(const char *doc, size_t len)
{
	enum json_error	 e;
	char		*r;

	r = render_mem(doc, len, 0, &e);
	free(r);
	return (e);
}

Test(json, accepts)
{
	static const char *const good[] = {
		"{}", "[]", " \t\r\n{ } \n", "[1]", "[-0]", "[0.5]",
		"[1e10]", "[1E+2]", "[-1.25e-3]", "[true,false,null]",
		"{\"a\":1,\"b\":[{},[]],\"c\":{\"d\":\"e\"}}",
		"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[\"\\u0041\\u00e9\"]",
		"[\"\\ud83d\\ude80\"]", "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x80\"]",
		"{\"\":\"\"}", "[[[[[[[[[[]]]]]]]]]]", "[\"\\u0000\"]",
		"\xef\xbb\xbf{}", "[123456789012345678901234567890]",
	};
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(valid(good[i]), "rejected: %s", good[i]);
}

Test(json, rejects)
{
	static const char *const bad[] = {
		"", " ", "1", "\"str\"", "true", "null",	/* top level */
		"{", "[", "[1", "{\"a\"", "{\"a\":", "{\"a\":1",
		"[1,]", "{\"a\":1,}", "[,1]", "{,}", "[1 2]", "{\"a\" 1}",
		"{1:2}", "{'a':1}", "[01]", "[1.]", "[.5]", "[1e]", "[+1]",
		"[-]", "[NaN]", "[Infinity]", "[tru]", "[nul]", "[truex]",
		"[\"\\x\"]", "[\"\\u12\"]", "[\"\\u12g4\"]", "[\"\\ud800\"]",
		"[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[\"a\tb\"]",
		"[\"a\nb\"]", "[\"\xff\"]", "[\"\xc0\xaf\"]",
		"[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]", "[\"\xe2\x82\"]",
		"[\"abc", "{} {}", "[] x", "// c\n{}", "{}/**/",
		"\xfe\xff\x00{\x00}",
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!valid(bad[i]), "accepted: %s", bad[i]);
}

Test(json, error_codes)
{
	cr_assert_eq(error_of("[\"\xff\"]", 5), JSON_E_UTF8);
	cr_assert_eq(error_of("[\"\\ud800\"]", 10), JSON_E_ESCAPE);
	cr_assert_eq(error_of("[\"a\x01\"]", 6), JSON_E_CONTROL);
	cr_assert_eq(error_of("[1,2", 4), JSON_E_TRUNCATED);
	cr_assert_eq(error_of("\"x\"", 3), JSON_E_TOPLEVEL);
	cr_assert_eq(error_of("[1,,2]", 6), JSON_E_SYNTAX);
	/* An interior NUL byte outside a string is a syntax error. */
	cr_assert_eq(error_of("[1,\0 2]", 7), JSON_E_SYNTAX);
}

Test(json, decoding)
{
	char		 doc[] = "[\"a\\\"b\\\\c\\/d\\n\\u00e9\\u20ac"
			    "\\ud83d\\ude80\\u0000z\", 12.5e3]";
	struct json	 js;
	struct json_tok	 tok;

	json_init_mem(&js, doc, strlen(doc), 0);
	cr_assert_eq(json_next(&js, &tok), JSON_ARRAY);
	cr_assert_eq(json_next(&js, &tok), JSON_STRING);
	cr_assert_eq(tok.len, 19);
	cr_assert(memcmp(tok.s, "a\"b\\c/d\n\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x9a\x80\0z", 19) == 0);
	cr_assert(utf8_valid(tok.s, tok.len));
	cr_assert_eq(json_next(&js, &tok), JSON_NUMBER);
	cr_assert_eq(tok.len, 6);
	cr_assert(memcmp(tok.s, "12.5e3", 6) == 0);
	cr_assert_eq(json_next(&js, &tok), JSON_END);
	cr_assert_eq(json_next(&js, &tok), JSON_EOF);
	cr_assert_eq(json_next(&js, &tok), JSON_EOF);
}

Test(json, skip_does_not_decode)
{
	char		 doc[] = "{\"env\":{\"K\":\"s\\u0065cret\\n\"},\"x\":1}";
	char		 orig[sizeof(doc)];
	struct json	 js;
	struct json_tok	 tok;

	memcpy(orig, doc, sizeof(doc));
	json_init_mem(&js, doc, strlen(doc), 0);
	cr_assert_eq(json_next(&js, &tok), JSON_OBJECT);
	cr_assert_eq(json_next(&js, &tok), JSON_KEY);
	cr_assert(json_tok_eq(&tok, "env"));
	cr_assert_eq(json_skip_next(&js), 0);
	cr_assert_eq(json_next(&js, &tok), JSON_KEY);
	cr_assert(json_tok_eq(&tok, "x"));
	cr_assert_eq(json_skip_next(&js), 0);
	cr_assert_eq(json_next(&js, &tok), JSON_END);
	cr_assert_eq(json_next(&js, &tok), JSON_EOF);
	/* The skipped value's escapes are still there, byte for byte. */
	cr_assert(memcmp(doc, orig, sizeof(doc)) == 0);
}

Test(json, skip_validates)
{
	char		 doc[] = "{\"env\":{\"K\":\"\xff\"}}";
	struct json	 js;
	struct json_tok	 tok;

	json_init_mem(&js, doc, strlen(doc), 0);
	cr_assert_eq(json_next(&js, &tok), JSON_OBJECT);
	cr_assert_eq(json_next(&js, &tok), JSON_KEY);
	cr_assert_eq(json_skip_next(&js), -1);
	cr_assert_eq(js.err, JSON_E_UTF8);
	/* Sticky. */
	cr_assert_eq(json_next(&js, &tok), JSON_ERROR);
}

Test(json, depth)
{
	char	*doc;
	size_t	 n = 100000, i;

	cr_assert_not_null(doc = malloc(2 * n + 1));
	for (i = 0; i < n; i++) {
		doc[i] = '[';
		doc[n + i] = ']';
	}
	cr_assert_eq(error_of(doc, 2 * n), JSON_E_DEPTH);
	/* Exactly the limit is fine, one more is not. */
	memset(doc, '[', JSON_MAXDEPTH);
	memset(doc + JSON_MAXDEPTH, ']', JSON_MAXDEPTH);
	cr_assert_eq(error_of(doc, 2 * JSON_MAXDEPTH), JSON_E_NONE);
	memset(doc, '[', JSON_MAXDEPTH + 1);
	memset(doc + JSON_MAXDEPTH + 1, ']', JSON_MAXDEPTH + 1);
	cr_assert_eq(error_of(doc, 2 * JSON_MAXDEPTH + 2), JSON_E_DEPTH);
	free(doc);
}

Test(json, comments)
{
	const char	*doc = "// head\n{ /* a */ \"a\" : // b\n 1 /**/, "
			    "\"u\": \"http://x/*y*/\" } // tail";
	enum json_error	 e;
	char		*r;

	cr_assert_null(render_mem(doc, strlen(doc), 0, &e));
	cr_assert_not_null(r = render_mem(doc, strlen(doc), JSON_F_COMMENTS,
	    &e));
	free(r);
	cr_assert_not_null(r = render_stream(doc, strlen(doc),
	    JSON_F_COMMENTS, &e));
	free(r);
	cr_assert_null(render_mem("{} /* open", 10, JSON_F_COMMENTS, &e));
	cr_assert_eq(e, JSON_E_TRUNCATED);
	cr_assert_null(render_mem("{} / x", 6, JSON_F_COMMENTS, &e));
	/* Trailing commas stay refused in JSONC. */
	cr_assert_null(render_mem("[1,]", 4, JSON_F_COMMENTS, &e));
}

/* JSON_F_TRAILING: one ',' may close a container, nothing more. */
Test(json, trailing_commas)
{
	static const char *const good[] = {
		"[1,]", "{\"a\":1,}", "{\"a\":[1,{\"b\":[],},],}",
		"[[],\n\t]"
	};
	static const char *const bad[] = {
		"[,]", "{,}", "[1,,]", "{\"a\":1,,}", "{\"a\":,}", "[1],",
		"{\"a\":1,]", "[1,}"
	};
	enum json_error	 e;
	size_t		 i;
	char		*r, *r2;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_null(render_mem(good[i], strlen(good[i]), 0, &e),
		    "%s", good[i]);
		cr_assert_not_null(r = render_mem(good[i], strlen(good[i]),
		    JSON_F_TRAILING, &e), "%s", good[i]);
		cr_assert_not_null(r2 = render_stream(good[i],
		    strlen(good[i]), JSON_F_TRAILING, &e), "%s", good[i]);
		cr_assert_str_eq(r, r2);
		free(r);
		free(r2);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_null(render_mem(bad[i], strlen(bad[i]),
		    JSON_F_TRAILING | JSON_F_COMMENTS, &e), "%s", bad[i]);
}

Test(json, window_limit)
{
	struct json	 js;
	struct chunked	 c;
	struct json_tok	 tok;
	char		 doc[200];

	memset(doc, 'a', sizeof(doc));
	doc[0] = '[';
	doc[1] = '"';
	doc[198] = '"';
	doc[199] = ']';
	c.p = doc;
	c.len = sizeof(doc);
	c.off = c.step = 0;
	cr_assert_eq(json_init_stream(&js, chunked_read, &c, 16, 64, 0), 0);
	cr_assert_eq(json_next(&js, &tok), JSON_ARRAY);
	cr_assert_eq(json_next(&js, &tok), JSON_ERROR);
	cr_assert_eq(js.err, JSON_E_TOOBIG);
	json_free(&js);
}

static ssize_t
failing_read(void *arg, void *buf, size_t len)
{
	int	*n = arg;

	if ((*n)++ > 0)
		return (-1);
	memcpy(buf, "{\"a\":", len < 5 ? len : 5);
	return (len < 5 ? (ssize_t)len : 5);
}

Test(json, read_error)
{
	struct json	 js;
	struct json_tok	 tok;
	int		 n = 0;

	cr_assert_eq(json_init_stream(&js, failing_read, &n, 64, 64, 0), 0);
	cr_assert_eq(json_next(&js, &tok), JSON_OBJECT);
	cr_assert_eq(json_next(&js, &tok), JSON_KEY);
	cr_assert_eq(json_next(&js, &tok), JSON_ERROR);
	cr_assert_eq(js.err, JSON_E_READ);
	cr_assert_str_eq(json_errstr(&js), "read error");
	json_free(&js);
}

/* Random documents from a small grammar: both modes agree. */
static void
gen(FILE *f, unsigned int *seed, int depth)
{
	static const char *const atoms[] = { "0", "-12.5e+3", "true", "false",
	    "null", "\"\"", "\"x\\u00e9\\ud83d\\ude80\\n\"",
	    "\"\xe2\x82\xac long string with spaces and \\\" quotes\"" };
	int	i, n;

	switch (depth > 6 ? 2 : rand_r(seed) % 3) {
	case 0:
		fputc('{', f);
		n = rand_r(seed) % 5;
		for (i = 0; i < n; i++) {
			fprintf(f, "%s \"k%d\" :\n ", i ? "," : "", i);
			gen(f, seed, depth + 1);
		}
		fputc('}', f);
		break;
	case 1:
		fputc('[', f);
		n = rand_r(seed) % 5;
		for (i = 0; i < n; i++) {
			if (i)
				fputs(" ,\t", f);
			gen(f, seed, depth + 1);
		}
		fputc(']', f);
		break;
	default:
		fputs(atoms[rand_r(seed) % 8], f);
		break;
	}
}

Test(json, random_documents)
{
	unsigned int	 seed = 4;
	FILE		*f;
	char		*doc;
	size_t		 len;
	int		 i;

	for (i = 0; i < 300; i++) {
		doc = NULL;
		cr_assert_not_null(f = open_memstream(&doc, &len));
		fputc(i % 2 ? '[' : '{', f);
		if (i % 2 == 0)
			fputs("\"r\":", f);
		gen(f, &seed, 0);
		fputc(i % 2 ? ']' : '}', f);
		fclose(f);
		cr_assert(valid(doc), "rejected: %s", doc);
		/* Every strict prefix is refused, the same way in both. */
		if (len > 2) {
			doc[len / 2] = '\0';
			cr_assert(!valid(doc));
		}
		free(doc);
	}
}

Test(json, utf8)
{
	cr_assert(utf8_valid("", 0));
	cr_assert(utf8_valid("plain ascii text, long enough", 29));
	cr_assert(utf8_valid("\xf4\x8f\xbf\xbf", 4));
	cr_assert(!utf8_valid("\xf4\x90\x80\x80", 4));
	cr_assert(!utf8_valid("\xed\xbf\xbf", 3));	/* surrogate */
	cr_assert(!utf8_valid("\xe0\x9f\xbf", 3));	/* overlong */
	cr_assert(!utf8_valid("\xc1\xbf", 2));
	cr_assert(!utf8_valid("abcdefgh\x80", 9));
	cr_assert(!utf8_valid("\xf0\x9f\x9a", 3));	/* truncated */
}
