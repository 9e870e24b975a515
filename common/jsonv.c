/*
 * Strict JSON recogniser and string decoding; the contract is in jsonv.h.
 *
 * jsmn alone is not enough even with JSMN_STRICT: it lets through
 * doubled or trailing commas, a second top-level value, raw control
 * characters and invalid UTF-8.  This runs first and counts the values,
 * so jsmn gets exactly the token array it needs.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "jsonv.h"
#include "utf8.h"

const char	jsonv_bad_uescape[] = "bad \\u escape";
const char	jsonv_unpaired[] = "unpaired surrogate";

static int
jv_fail(struct jsonv *v, const char *why)
{
	if (v->why == NULL)
		v->why = why;
	return (-1);
}

void
jsonv_init(struct jsonv *v, const void *s, size_t len)
{
	memset(v, 0, sizeof(*v));
	v->s = s;
	v->len = len;
}

void
jsonv_ws(struct jsonv *v)
{
	while (v->pos < v->len && (v->s[v->pos] == ' ' ||
	    v->s[v->pos] == '\t' || v->s[v->pos] == '\n' ||
	    v->s[v->pos] == '\r'))
		v->pos++;
}

/* A value or key begins at pos. */
static int
jv_count(struct jsonv *v)
{
	if (++v->ntok > v->maxtok && !(v->flags & JSONV_CAP_AT_VALUE))
		return (jv_fail(v, "too many values"));
	return (0);
}

int
jsonv_hex4(const unsigned char *p)
{
	int	i, v = 0;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= p[i] - 'A' + 10;
		else
			return (-1);
	}
	return (v);
}

static int
jv_string(struct jsonv *v)
{
	size_t	n;
	int	u, lo;

	if (jv_count(v) == -1)
		return (-1);
	v->pos++;
	for (;;) {
		if (v->pos >= v->len)
			return (jv_fail(v, "unterminated string"));
		if (v->s[v->pos] == '"') {
			v->pos++;
			return (0);
		}
		if (v->s[v->pos] < 0x20)
			return (jv_fail(v, "control character in a string"));
		if (v->s[v->pos] < 0x80 && v->s[v->pos] != '\\') {
			v->pos++;
			continue;
		}
		if (v->s[v->pos] != '\\') {
			n = utf8_seqlen(v->s + v->pos, v->len - v->pos);
			if (n == 0)
				return (jv_fail(v, "invalid UTF-8"));
			v->pos += n;
			continue;
		}
		if (++v->pos >= v->len)
			return (jv_fail(v, "unterminated string"));
		switch (v->s[v->pos++]) {
		case '"': case '\\': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't':
			break;
		case 'u':
			if (v->len - v->pos < 4 ||
			    (u = jsonv_hex4(v->s + v->pos)) == -1)
				return (jv_fail(v, jsonv_bad_uescape));
			v->pos += 4;
			if (u >= 0xdc00 && u <= 0xdfff)
				return (jv_fail(v, jsonv_unpaired));
			if (u < 0xd800 || u > 0xdbff)
				break;
			if (v->len - v->pos < 6 || v->s[v->pos] != '\\' ||
			    v->s[v->pos + 1] != 'u' ||
			    (lo = jsonv_hex4(v->s + v->pos + 2)) < 0xdc00 ||
			    lo > 0xdfff)
				return (jv_fail(v, jsonv_unpaired));
			v->pos += 6;
			break;
		default:
			return (jv_fail(v, "bad escape in a string"));
		}
	}
}

static int
jv_digits(struct jsonv *v)
{
	size_t	start = v->pos;

	while (v->pos < v->len && v->s[v->pos] >= '0' && v->s[v->pos] <= '9')
		v->pos++;
	return (v->pos > start ? 0 : jv_fail(v, "bad number"));
}

static int
jv_number(struct jsonv *v)
{
	if (jv_count(v) == -1)
		return (-1);
	if (v->s[v->pos] == '-')
		v->pos++;
	if (v->pos < v->len && v->s[v->pos] == '0')
		v->pos++;
	else if (jv_digits(v) == -1)
		return (-1);
	if (v->pos < v->len && v->s[v->pos] == '.') {
		v->pos++;
		if (jv_digits(v) == -1)
			return (-1);
	}
	if (v->pos < v->len && (v->s[v->pos] == 'e' || v->s[v->pos] == 'E')) {
		v->pos++;
		if (v->pos < v->len && (v->s[v->pos] == '+' ||
		    v->s[v->pos] == '-'))
			v->pos++;
		if (jv_digits(v) == -1)
			return (-1);
	}
	return (0);
}

static int
jv_word(struct jsonv *v, const char *w)
{
	size_t	n = strlen(w);

	if (jv_count(v) == -1)
		return (-1);
	if (v->len - v->pos < n || memcmp(v->s + v->pos, w, n) != 0)
		return (jv_fail(v, "unexpected character"));
	v->pos += n;
	return (0);
}

static int
jv_container(struct jsonv *v, int obj)
{
	unsigned char	close = obj ? '}' : ']';

	if (jv_count(v) == -1)
		return (-1);
	if (++v->depth > v->maxdepth)
		return (jv_fail(v, "nested too deeply"));
	v->pos++;
	jsonv_ws(v);
	if (v->pos < v->len && v->s[v->pos] == close) {
		v->pos++;
		v->depth--;
		return (0);
	}
	for (;;) {
		if (obj) {
			if (v->pos >= v->len || v->s[v->pos] != '"')
				return (jv_fail(v, "expected a key"));
			if (jv_string(v) == -1)
				return (-1);
			jsonv_ws(v);
			if (v->pos >= v->len || v->s[v->pos] != ':')
				return (jv_fail(v, "expected ':'"));
			v->pos++;
		}
		if (jsonv_value(v) == -1)
			return (-1);
		jsonv_ws(v);
		if (v->pos < v->len && v->s[v->pos] == ',') {
			v->pos++;
			jsonv_ws(v);
			continue;
		}
		if (v->pos < v->len && v->s[v->pos] == close) {
			v->pos++;
			v->depth--;
			return (0);
		}
		return (jv_fail(v, obj ? "expected ',' or '}'" :
		    "expected ',' or ']'"));
	}
}

int
jsonv_value(struct jsonv *v)
{
	if ((v->flags & JSONV_CAP_AT_VALUE) && v->ntok > v->maxtok)
		return (jv_fail(v, "too many values"));
	jsonv_ws(v);
	if (v->pos >= v->len)
		return (jv_fail(v, "unexpected end of input"));
	switch (v->s[v->pos]) {
	case '{':
		return (jv_container(v, 1));
	case '[':
		return (jv_container(v, 0));
	case '"':
		return (jv_string(v));
	case 't':
		return (jv_word(v, "true"));
	case 'f':
		return (jv_word(v, "false"));
	case 'n':
		return (jv_word(v, "null"));
	default:
		if (v->s[v->pos] == '-' ||
		    (v->s[v->pos] >= '0' && v->s[v->pos] <= '9'))
			return (jv_number(v));
		return (jv_fail(v, "unexpected character"));
	}
}

size_t
jsonv_unescape(const char *s, size_t len, char *out)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n = 0;
	int			 cp, lo;
	char			 c;

	while (i < len) {
		if (p[i] != '\\') {
			out[n++] = (char)p[i++];
			continue;
		}
		switch (p[i + 1]) {
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u':
			cp = jsonv_hex4(p + i + 2);
			i += 6;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				lo = jsonv_hex4(p + i + 2);
				i += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			n += utf8_encode(out + n, (uint32_t)cp);
			continue;
		default:		/* " \ / */
			c = (char)p[i + 1];
			break;
		}
		out[n++] = c;
		i += 2;
	}
	return (n);
}
