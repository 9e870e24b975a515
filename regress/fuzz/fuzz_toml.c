/*
 * libFuzzer harness for the TOML parser (common/toml.c), which reads
 * files from users' homes in the scan child.  Any input either fails
 * with a positioned message or parses within the limits given; a parsed
 * document is walked completely (every key found again by lookup, every
 * string NUL-terminated, depth and count within the limits) and written
 * back as canonical TOML (everything inline, keys quoted), which must
 * parse to a document that writes back to the same bytes.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

#define LIM_DEPTH	16
#define LIM_VALUES	4000
#define LIM_STRING	4096

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct out {
	char	*s;
	size_t	 len, cap;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		while (o->len + n + 1 > o->cap)
			o->cap = o->cap ? o->cap * 2 : 1024;
		if ((o->s = realloc(o->s, o->cap)) == NULL)
			abort();
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
quoted(struct out *o, const struct toml_str *s)
{
	char		 esc[8];
	size_t		 i;
	unsigned char	 c;

	if (s->ptr == NULL || s->ptr[s->len] != '\0')
		abort();
	put(o, "\"", 1);
	for (i = 0; i < s->len; i++) {
		c = (unsigned char)s->ptr[i];
		if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
			(void)snprintf(esc, sizeof(esc), "\\u%04X", c);
			put(o, esc, 6);
		} else
			put(o, s->ptr + i, 1);
	}
	put(o, "\"", 1);
}

static size_t	nvalues;

static void	emit_value(struct out *, const struct toml_value *, int);

static void
emit_table(struct out *o, const struct toml_table *t, int depth, int root)
{
	const struct toml_kv	*kv;
	size_t			 i, n = toml_table_len(t);

	if (depth > LIM_DEPTH)
		abort();
	if (!root)
		puts_(o, "{");
	for (i = 0; i < n; i++) {
		kv = toml_table_at(t, i);
		/* Keys are unique and found again, as themselves. */
		if (toml_table_getn(t, kv->key.ptr, kv->key.len) != &kv->val)
			abort();
		if (kv->key.len > LIM_STRING)
			abort();
		if (!root && i > 0)
			puts_(o, ", ");
		quoted(o, &kv->key);
		puts_(o, " = ");
		emit_value(o, &kv->val, depth + 1);
		if (root)
			puts_(o, "\n");
	}
	if (toml_table_at(t, n) != NULL)
		abort();
	if (!root)
		puts_(o, "}");
}

static void
emit_value(struct out *o, const struct toml_value *v, int depth)
{
	const struct toml_array	*a;
	char			 num[64];
	size_t			 i, n;

	nvalues++;
	switch (v->type) {
	case TOML_STRING:
		if (v->u.s.len > LIM_STRING ||
		    (toml_cstr(v) != NULL) !=
		    (memchr(v->u.s.ptr, '\0', v->u.s.len) == NULL))
			abort();
		quoted(o, &v->u.s);
		break;
	case TOML_INTEGER:
		(void)snprintf(num, sizeof(num), "%lld", (long long)v->u.i);
		puts_(o, num);
		break;
	case TOML_FLOAT:
		if (isnan(v->u.f))
			puts_(o, "nan");
		else if (isinf(v->u.f))
			puts_(o, v->u.f < 0 ? "-inf" : "inf");
		else {
			(void)snprintf(num, sizeof(num), "%.17g", v->u.f);
			puts_(o, num);
			if (strpbrk(num, ".e") == NULL)
				puts_(o, ".0");
		}
		break;
	case TOML_BOOL:
		puts_(o, v->u.b ? "true" : "false");
		break;
	case TOML_DATETIME:
		if (v->dtkind > TOML_TIME_LOCAL ||
		    strlen(v->u.s.ptr) != v->u.s.len)
			abort();
		put(o, v->u.s.ptr, v->u.s.len);
		break;
	case TOML_ARRAY:
		if (depth > LIM_DEPTH)
			abort();
		a = v->u.a;
		n = toml_array_len(a);
		puts_(o, "[");
		for (i = 0; i < n; i++) {
			if (i > 0)
				puts_(o, ", ");
			emit_value(o, toml_array_at(a, i), depth + 1);
		}
		if (toml_array_at(a, n) != NULL)
			abort();
		puts_(o, "]");
		break;
	case TOML_TABLE:
		emit_table(o, v->u.t, depth, 0);
		break;
	default:
		abort();
	}
}

static char *
emit(const struct toml_doc *d, size_t *lenp)
{
	struct out	o = { NULL, 0, 0 };

	nvalues = 0;
	puts_(&o, "");
	emit_table(&o, toml_root(d), 0, 1);
	if (nvalues > LIM_VALUES)
		abort();
	*lenp = o.len;
	return (o.s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_limits	 lim = { 0, LIM_STRING, LIM_VALUES, LIM_DEPTH };
	struct toml_error	 err;
	struct toml_doc		*d, *again;
	char			*a, *b;
	size_t			 alen, blen;

	d = toml_parse((const char *)data, size, &lim, &err);
	if (d == NULL) {
		/* Only running out of memory has no place in the input. */
		if (strcmp(err.msg, "out of memory") != 0 &&
		    (strncmp(err.msg, "line ", 5) != 0 || err.line == 0 ||
		    err.col == 0))
			abort();
		return (0);
	}
	a = emit(d, &alen);
	toml_free(d);
	if ((again = toml_parse(a, alen, &lim, &err)) == NULL) {
		fprintf(stderr, "canonical TOML refused: %s\n%s\n", err.msg, a);
		abort();
	}
	b = emit(again, &blen);
	toml_free(again);
	if (alen != blen || memcmp(a, b, alen) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n---\n%s\n", a, b);
		abort();
	}
	free(a);
	free(b);
	return (0);
}
