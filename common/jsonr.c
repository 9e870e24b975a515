/*
 * Strict JSON reader: the RFC 8259 recogniser (jsonv.c), then jsmn over
 * text the recogniser accepted, then a duplicate-key check per object.
 * The recogniser also counts the values, so jsmn gets exactly the token
 * array it needs and cannot run short.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
/*
 * A closing bracket finds its parent in one step: without the links
 * jsmn walks back over every token before it, quadratic in an array of
 * objects (a sync answer acknowledging thousands of events).
 */
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "jsonr.h"
#include "jsonv.h"

struct jsonr_tok {
	jsmntok_t	t;
	int		next;		/* first token after this value */
};

struct keyref {
	char	*s;
	size_t	 len;
};

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref	*x = a, *y = b;
	size_t			 n = x->len < y->len ? x->len : y->len;
	int			 c;

	if ((c = memcmp(x->s, y->s, n)) != 0)
		return (c);
	return (x->len < y->len ? -1 : x->len > y->len);
}

/* Sorted unescaped keys of every object: equal neighbours are duplicates. */
static int
check_duplicates(struct jsonr *jr)
{
	struct keyref	*keys = NULL;
	char		*buf = NULL;
	int		 i, k, n, ret = -1;
	size_t		 off;

	if ((keys = calloc((size_t)jr->ntok, sizeof(*keys))) == NULL ||
	    (buf = malloc(jr->len + 1)) == NULL) {
		snprintf(jr->err, sizeof(jr->err), "out of memory");
		goto out;
	}
	for (i = 0; i < jr->ntok; i++) {
		if (jr->tok[i].t.type != JSMN_OBJECT || jr->tok[i].t.size < 2)
			continue;
		n = 0;
		off = 0;
		for (k = i + 1; k < jr->tok[i].next; k = jr->tok[k + 1].next) {
			const jsmntok_t	*t = &jr->tok[k].t;

			keys[n].s = buf + off;
			keys[n].len = jsonv_unescape(jr->s + t->start,
			    (size_t)(t->end - t->start), buf + off);
			off += keys[n].len;
			n++;
		}
		qsort(keys, (size_t)n, sizeof(*keys), keyref_cmp);
		for (k = 1; k < n; k++)
			if (keyref_cmp(&keys[k - 1], &keys[k]) == 0) {
				snprintf(jr->err, sizeof(jr->err),
				    "duplicate key \"%.*s\"",
				    keys[k].len > 40 ? 40 : (int)keys[k].len,
				    keys[k].s);
				goto out;
			}
	}
	ret = 0;
 out:
	free(keys);
	free(buf);
	return (ret);
}

int
jsonr_parse(struct jsonr *jr, const char *s, size_t len, int maxtok)
{
	struct jsonv	 r;
	jsmn_parser	 p;
	jsmntok_t	*t = NULL;
	int		 i, n, stack[JSONR_MAX_DEPTH + 2], sp;

	memset(jr, 0, sizeof(*jr));
	jr->s = s;
	jr->len = len;
	if (len > INT32_MAX || maxtok <= 0) {
		snprintf(jr->err, sizeof(jr->err), "document too large");
		return (-1);
	}

	jsonv_init(&r, s, len);
	r.maxtok = (size_t)maxtok;
	r.maxdepth = JSONR_MAX_DEPTH;
	jsonv_ws(&r);
	if (r.pos >= r.len || r.s[r.pos] != '{') {
		snprintf(jr->err, sizeof(jr->err), "not a JSON object");
		return (-1);
	}
	if (jsonv_value(&r) == -1) {
		snprintf(jr->err, sizeof(jr->err), "%s at byte %zu", r.why,
		    r.pos);
		return (-1);
	}
	jsonv_ws(&r);
	if (r.pos != r.len) {
		snprintf(jr->err, sizeof(jr->err),
		    "trailing data at byte %zu", r.pos);
		return (-1);
	}

	if ((t = calloc((size_t)r.ntok, sizeof(*t))) == NULL ||
	    (jr->tok = calloc((size_t)r.ntok, sizeof(*jr->tok))) == NULL) {
		free(t);
		snprintf(jr->err, sizeof(jr->err), "out of memory");
		return (-1);
	}
	jsmn_init(&p);
	n = jsmn_parse(&p, s, len, t, (unsigned int)r.ntok);
	if (n < 0 || (size_t)n != r.ntok) {
		/* The recogniser and jsmn disagree: refuse, never guess. */
		free(t);
		snprintf(jr->err, sizeof(jr->err), "tokenizer disagrees");
		return (-1);
	}
	jr->ntok = n;
	for (i = 0; i < n; i++) {
		jr->tok[i].t = t[i];
		jr->tok[i].next = n;
	}
	free(t);

	/*
	 * next: tokens are in document order, so a value ends where the
	 * first token starting at or after its end begins.
	 */
	sp = 0;
	for (i = 0; i < n; i++) {
		while (sp > 0 && jr->tok[stack[sp - 1]].t.end <=
		    jr->tok[i].t.start) {
			jr->tok[stack[sp - 1]].next = i;
			sp--;
		}
		if (jr->tok[i].t.type == JSMN_OBJECT ||
		    jr->tok[i].t.type == JSMN_ARRAY) {
			if (sp >= (int)(sizeof(stack) / sizeof(stack[0]))) {
				snprintf(jr->err, sizeof(jr->err),
				    "nested too deeply");
				return (-1);
			}
			stack[sp++] = i;
		} else
			jr->tok[i].next = i + 1;
	}
	while (sp > 0)
		jr->tok[stack[--sp]].next = n;

	return (check_duplicates(jr));
}

void
jsonr_free(struct jsonr *jr)
{
	free(jr->tok);
	jr->tok = NULL;
	jr->ntok = 0;
}

enum jsonr_type
jsonr_type(const struct jsonr *jr, int i)
{
	const jsmntok_t	*t = &jr->tok[i].t;

	switch (t->type) {
	case JSMN_OBJECT:
		return (JSONR_OBJECT);
	case JSMN_ARRAY:
		return (JSONR_ARRAY);
	case JSMN_STRING:
		return (JSONR_STRING);
	default:
		break;
	}
	switch (jr->s[t->start]) {
	case 't':
		return (JSONR_TRUE);
	case 'f':
		return (JSONR_FALSE);
	case 'n':
		return (JSONR_NULL);
	default:
		return (JSONR_NUMBER);
	}
}

int
jsonr_size(const struct jsonr *jr, int i)
{
	return (jr->tok[i].t.size);
}

int
jsonr_skip(const struct jsonr *jr, int i)
{
	return (jr->tok[i].next);
}

static int
key_equal(const struct jsonr *jr, int k, const char *key)
{
	const jsmntok_t	*t = &jr->tok[k].t;
	size_t		 len = (size_t)(t->end - t->start), klen = strlen(key);
	char		 buf[128];

	if (memchr(jr->s + t->start, '\\', len) == NULL)
		return (len == klen && memcmp(jr->s + t->start, key, len) == 0);
	/* Escaped keys longer than any we look up cannot match. */
	if (len > sizeof(buf))
		return (0);
	len = jsonv_unescape(jr->s + t->start, len, buf);
	return (len == klen && memcmp(buf, key, len) == 0);
}

int
jsonr_get(const struct jsonr *jr, int obj, const char *key)
{
	int	k;

	if (obj < 0 || obj >= jr->ntok || jr->tok[obj].t.type != JSMN_OBJECT)
		return (-1);
	for (k = obj + 1; k < jr->tok[obj].next; k = jr->tok[k + 1].next)
		if (key_equal(jr, k, key))
			return (k + 1);
	return (-1);
}

int
jsonr_string(const struct jsonr *jr, int i, char *buf, size_t bufsz,
    size_t *lenp)
{
	const jsmntok_t	*t;
	size_t		 len, n;
	char		*tmp;

	if (i < 0 || i >= jr->ntok || jr->tok[i].t.type != JSMN_STRING ||
	    bufsz == 0)
		return (-1);
	t = &jr->tok[i].t;
	len = (size_t)(t->end - t->start);
	if ((tmp = malloc(len + 1)) == NULL)
		return (-1);
	n = jsonv_unescape(jr->s + t->start, len, tmp);
	if (n >= bufsz || memchr(tmp, '\0', n) != NULL) {
		free(tmp);
		return (-1);
	}
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	free(tmp);
	if (lenp != NULL)
		*lenp = n;
	return (0);
}

/* An integer literal: -?(0|[1-9][0-9]*), nothing else. */
static int
int_literal(const struct jsonr *jr, int i, int *neg, uint64_t *mag)
{
	const jsmntok_t	*t;
	const char	*p, *e;
	uint64_t	 v = 0;

	if (i < 0 || i >= jr->ntok || jsonr_type(jr, i) != JSONR_NUMBER)
		return (-1);
	t = &jr->tok[i].t;
	p = jr->s + t->start;
	e = jr->s + t->end;
	*neg = 0;
	if (p < e && *p == '-') {
		*neg = 1;
		p++;
	}
	if (p == e)
		return (-1);
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return (-1);
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*mag = v;
	return (0);
}

int
jsonr_int64(const struct jsonr *jr, int i, int64_t min, int64_t max,
    int64_t *vp)
{
	uint64_t	mag;
	int64_t		v;
	int		neg;

	if (int_literal(jr, i, &neg, &mag) == -1)
		return (-1);
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return (-1);
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return (-1);
		v = (int64_t)mag;
	}
	if (v < min || v > max)
		return (-1);
	*vp = v;
	return (0);
}

int
jsonr_uint64(const struct jsonr *jr, int i, uint64_t max, uint64_t *vp)
{
	uint64_t	mag;
	int		neg;

	if (int_literal(jr, i, &neg, &mag) == -1)
		return (-1);
	/* "-0" is zero; any other negative value fails, as in Swift. */
	if ((neg && mag != 0) || mag > max)
		return (-1);
	*vp = mag;
	return (0);
}

int
jsonr_bool(const struct jsonr *jr, int i, int *vp)
{
	if (i < 0 || i >= jr->ntok)
		return (-1);
	switch (jsonr_type(jr, i)) {
	case JSONR_TRUE:
		*vp = 1;
		return (0);
	case JSONR_FALSE:
		*vp = 0;
		return (0);
	default:
		return (-1);
	}
}

int
jsonr_is_null(const struct jsonr *jr, int i)
{
	return (i >= 0 && i < jr->ntok && jsonr_type(jr, i) == JSONR_NULL);
}
