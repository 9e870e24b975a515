/*
 * Streaming JSON writer.  Errors are sticky: callers write everything and
 * check once with jsonw_result().
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

void
jsonw_init(struct jsonw *w, int flags)
{
	memset(w, 0, sizeof(*w));
	w->flags = flags;
}

void
jsonw_free(struct jsonw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void
jsonw_reset(struct jsonw *w)
{
	int	flags = w->flags;
	char	*buf = w->buf;
	size_t	cap = w->cap;

	memset(w, 0, sizeof(*w));
	w->flags = flags;
	w->buf = buf;
	w->cap = cap;
}

static void
put(struct jsonw *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	if (w->cap - w->len <= n) {
		size_t	 ncap = w->cap ? w->cap : 256;
		char	*nbuf;

		while (ncap - w->len <= n) {
			if (ncap > SIZE_MAX / 2) {
				w->failed = 1;
				return;
			}
			ncap *= 2;
		}
		if ((nbuf = realloc(w->buf, ncap)) == NULL) {
			w->failed = 1;
			return;
		}
		w->buf = nbuf;
		w->cap = ncap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* Comma before every value but the first at this level, none after a key. */
static void
value_prefix(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->nitems[w->depth])
		put(w, ",", 1);
	w->nitems[w->depth] = 1;
}

static void
open_level(struct jsonw *w, const char *c)
{
	value_prefix(w);
	put(w, c, 1);
	if (w->depth + 1 >= JSONW_MAXDEPTH) {
		w->failed = 1;
		return;
	}
	w->nitems[++w->depth] = 0;
}

static void
close_level(struct jsonw *w, const char *c)
{
	if (w->depth == 0 || w->after_key) {
		w->failed = 1;
		return;
	}
	w->depth--;
	put(w, c, 1);
}

void
jsonw_object_begin(struct jsonw *w)
{
	open_level(w, "{");
}

void
jsonw_object_end(struct jsonw *w)
{
	close_level(w, "}");
}

void
jsonw_array_begin(struct jsonw *w)
{
	open_level(w, "[");
}

void
jsonw_array_end(struct jsonw *w)
{
	close_level(w, "]");
}

static void
put_string(struct jsonw *w, const char *s, size_t n)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, run = 0;
	char			esc[7];

	put(w, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char	c = (unsigned char)s[i];
		const char	*e = NULL;
		size_t		 elen = 2;

		switch (c) {
		case '"':	e = "\\\""; break;
		case '\\':	e = "\\\\"; break;
		case '\b':	e = "\\b"; break;
		case '\f':	e = "\\f"; break;
		case '\n':	e = "\\n"; break;
		case '\r':	e = "\\r"; break;
		case '\t':	e = "\\t"; break;
		case '/':
			if (w->flags & JSONW_ESCAPE_SLASH)
				e = "\\/";
			break;
		default:
			if (c < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				e = esc;
				elen = 6;
			}
			break;
		}
		if (e == NULL) {
			run++;
			continue;
		}
		put(w, s + i - run, run);
		run = 0;
		put(w, e, elen);
	}
	put(w, s + n - run, run);
	put(w, "\"", 1);
}

void
jsonw_key(struct jsonw *w, const char *k)
{
	value_prefix(w);
	put_string(w, k, strlen(k));
	put(w, ":", 1);
	w->after_key = 1;
}

void
jsonw_stringn(struct jsonw *w, const char *s, size_t n)
{
	value_prefix(w);
	put_string(w, s, n);
}

void
jsonw_string(struct jsonw *w, const char *s)
{
	jsonw_stringn(w, s, strlen(s));
}

void
jsonw_int(struct jsonw *w, long long v)
{
	char	buf[32];
	int	n;

	value_prefix(w);
	n = snprintf(buf, sizeof(buf), "%lld", v);
	put(w, buf, (size_t)n);
}

void
jsonw_uint(struct jsonw *w, unsigned long long v)
{
	char	buf[32];
	int	n;

	value_prefix(w);
	n = snprintf(buf, sizeof(buf), "%llu", v);
	put(w, buf, (size_t)n);
}

void
jsonw_bool(struct jsonw *w, int v)
{
	value_prefix(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void
jsonw_null(struct jsonw *w)
{
	value_prefix(w);
	put(w, "null", 4);
}

void
jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	value_prefix(w);
	put(w, s, n);
}

const char *
jsonw_result(struct jsonw *w, size_t *lenp)
{
	if (w->failed || w->depth != 0 || w->after_key)
		return (NULL);
	if (w->buf == NULL)
		put(w, "", 0);
	if (w->failed)
		return (NULL);
	if (lenp != NULL)
		*lenp = w->len;
	return (w->buf);
}

/*
 * The result as jsonw_result() gives it, but the caller's to free(3),
 * so that a large document is not copied once more; w is left empty.
 * NULL when jsonw_result() would be (w is freed then).
 */
char *
jsonw_take(struct jsonw *w, size_t *lenp)
{
	char	*s;

	if (jsonw_result(w, lenp) == NULL) {
		jsonw_free(w);
		return (NULL);
	}
	s = w->buf;
	memset(w, 0, sizeof(*w));
	return (s);
}
