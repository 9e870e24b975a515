/*
 * Strict streaming JSON tokenizer; the contract is in json.h.
 *
 * Every token is lexed from js->pos, which does not move until the
 * token is complete.  A lexer that runs out of window returns 0 ("more")
 * without having changed anything; the window is then compacted from
 * js->pos, refilled, and the token lexed again from its start.  Lexers
 * never ask for more once the input is final, so this terminates.
 *
 * The hot loops (string bodies, whitespace) look at eight bytes at a
 * time where they can and call no functions per byte.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonv.h"
#include "utf8.h"

enum {
	ST_START,	/* the top-level value */
	ST_VALUE,	/* a value: after ':' or after ',' in an array */
	ST_ARR_FIRST,	/* after '[': a value or ']' */
	ST_OBJ_FIRST,	/* after '{': a key or '}' */
	ST_KEY,		/* after ',' in an object: a key */
	ST_COLON,	/* after a key */
	ST_NEXT,	/* after a value in a container: ',' or the close */
	ST_DONE,	/* after the top-level value: the end */
	ST_EOF
};

#if defined(__SSE2__)
#include <emmintrin.h>
#define JSON_SSE2	1
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSON_SWAR	1
#endif

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

static inline int
str_special(unsigned char c)
{
	return (c == '"' || c == '\\' || c < 0x20 || c >= 0x80);
}

/*
 * The index of the first byte at or after i, before e, that a string
 * cannot pass over as is: '"', '\\', a control character or a non-ASCII
 * byte; e if there is none.  Sixteen bytes at a time with SSE2 (a signed
 * compare with 0x20 catches both control and non-ASCII bytes), eight
 * with SWAR elsewhere, where the lowest flagged byte is always a true
 * one (a borrow only runs upwards from a true match).
 */
static inline size_t
str_scan(const unsigned char *b, size_t i, size_t e)
{
#if defined(JSON_SSE2)
	const __m128i	q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i	sp = _mm_set1_epi8(0x20);
	__m128i		v;
	unsigned int	m;

	while (e - i >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
		m = (unsigned int)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
		    _mm_cmplt_epi8(v, sp)));
		if (m != 0)
			return (i + (size_t)__builtin_ctz(m));
		i += 16;
	}
#elif defined(JSON_SWAR)
	uint64_t	w, m;

	while (e - i >= 8) {
		memcpy(&w, b + i, sizeof(w));
		m = (((w ^ (ONES * '"')) - ONES) & ~(w ^ (ONES * '"'))) |
		    (((w ^ (ONES * '\\')) - ONES) & ~(w ^ (ONES * '\\'))) |
		    ((w - ONES * 0x20) & ~w) | w;
		m &= HIGHS;
		if (m != 0)
			return (i + (size_t)(__builtin_ctzll(m) / 8));
		i += 8;
	}
#endif
	while (i < e && !str_special(b[i]))
		i++;
	return (i);
}

static inline int
ws(unsigned char c)
{
	return (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}

/* The index of the first non-whitespace byte at or after i, or e. */
static inline size_t
ws_scan(const unsigned char *b, size_t i, size_t e)
{
#if defined(JSON_SSE2)
	const __m128i	sp = _mm_set1_epi8(' '), nl = _mm_set1_epi8('\n');
	const __m128i	cr = _mm_set1_epi8('\r'), tab = _mm_set1_epi8('\t');
	__m128i		v;
	unsigned int	m;

	/* Most runs are short: none, one space, or a newline and indent. */
	if (i < e && !ws(b[i]))
		return (i);
	if (e - i >= 2 && b[i] == ' ' && !ws(b[i + 1]))
		return (i + 1);
	while (e - i >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
		m = (unsigned int)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, nl)),
		    _mm_or_si128(_mm_cmpeq_epi8(v, cr),
		    _mm_cmpeq_epi8(v, tab))));
		m = ~m & 0xffff;
		if (m != 0)
			return (i + (size_t)__builtin_ctz(m));
		i += 16;
	}
#endif
	while (i < e && ws(b[i]))
		i++;
	return (i);
}

static void
js_fail(struct json *js, enum json_error e)
{
	if (js->err == JSON_E_NONE) {
		js->err = e;
		js->erroff = js->base + js->pos;
	}
}

void
json_fail(struct json *js, enum json_error e)
{
	js_fail(js, e);
}

static void
json_reset(struct json *js, int flags)
{
	js->pos = js->end = 0;
	js->base = 0;
	js->flags = flags;
	js->state = ST_START;
	js->depth = 0;
	js->maxdepth = JSON_MAXDEPTH;
	js->started = 0;
	js->err = JSON_E_NONE;
	js->erroff = 0;
}

void
json_init_mem(struct json *js, char *buf, size_t len, int flags)
{
	memset(js, 0, sizeof(*js));
	json_reset(js, flags);
	js->buf = buf;
	js->end = js->cap = js->maxcap = len;
	js->final = 1;
}

int
json_init_stream(struct json *js, json_read_fn rd, void *arg, size_t initcap,
    size_t maxcap, int flags)
{
	memset(js, 0, sizeof(*js));
	json_reset(js, flags);
	if (initcap < 16)
		initcap = 16;
	if (maxcap < initcap)
		maxcap = initcap;
	if ((js->buf = malloc(initcap)) == NULL)
		return (-1);
	js->owned = 1;
	js->cap = initcap;
	js->maxcap = maxcap;
	js->rd = rd;
	js->rdarg = arg;
	return (0);
}

void
json_free(struct json *js)
{
	if (js->owned)
		free(js->buf);
	js->buf = NULL;
	js->owned = 0;
}

void
json_set_maxdepth(struct json *js, int d)
{
	if (d > 0 && d <= JSON_MAXDEPTH)
		js->maxdepth = d;
}

int
json_depth(const struct json *js)
{
	return (js->depth);
}

/*
 * Keep the bytes from js->pos, read more behind them.  1: more bytes,
 * 0: the input is final (nothing more will come), -1: error.
 */
static int
more(struct json *js)
{
	size_t	 ncap;
	ssize_t	 n;
	char	*nb;

	if (js->final)
		return (0);
	if (js->pos > 0) {
		memmove(js->buf, js->buf + js->pos, js->end - js->pos);
		js->base += js->pos;
		js->end -= js->pos;
		js->pos = 0;
	}
	if (js->end == js->cap) {
		if (js->cap >= js->maxcap) {
			js_fail(js, JSON_E_TOOBIG);
			return (-1);
		}
		ncap = js->cap > js->maxcap / 2 ? js->maxcap : js->cap * 2;
		if ((nb = realloc(js->buf, ncap)) == NULL) {
			js_fail(js, JSON_E_NOMEM);
			return (-1);
		}
		js->buf = nb;
		js->cap = ncap;
	}
	n = js->rd(js->rdarg, js->buf + js->end, js->cap - js->end);
	if (n < 0 || (size_t)n > js->cap - js->end) {
		js_fail(js, JSON_E_READ);
		return (-1);
	}
	if (n == 0) {
		js->final = 1;
		return (0);
	}
	js->end += (size_t)n;
	return (1);
}

/*
 * A JSONC comment at js->pos ("/" seen, the next byte available): 1
 * skipped, 0 more, -1 error (not a comment, or unterminated).
 */
static int
skip_comment(struct json *js)
{
	const char	*b = js->buf, *p;
	size_t		 i = js->pos;

	if (b[i + 1] == '/') {
		p = memchr(b + i + 2, '\n', js->end - i - 2);
		if (p == NULL) {
			if (!js->final)
				return (0);
			js->pos = js->end;	/* ends with the document */
			return (1);
		}
		js->pos = (size_t)(p - b) + 1;
		return (1);
	}
	if (b[i + 1] == '*') {
		for (i += 2; i + 1 < js->end; i++)
			if (b[i] == '*' && b[i + 1] == '/') {
				js->pos = i + 2;
				return (1);
			}
		if (!js->final)
			return (0);
		js_fail(js, JSON_E_TRUNCATED);
		return (-1);
	}
	js_fail(js, JSON_E_SYNTAX);
	return (-1);
}

/*
 * Skip whitespace (and comments with JSON_F_COMMENTS).  The next byte,
 * -1 at the end of the input, -2 on error.
 */
static int
peek(struct json *js)
{
	const unsigned char	*b;
	size_t			 i, e;
	int			 r;

	for (;;) {
		b = (const unsigned char *)js->buf;
		e = js->end;
		i = js->pos = ws_scan(b, js->pos, e);
		if (i == e) {
			if ((r = more(js)) == -1)
				return (-2);
			if (r == 0)
				return (-1);
			continue;
		}
		if (b[i] != '/' || !(js->flags & JSON_F_COMMENTS))
			return (b[i]);
		if (i + 1 >= e) {
			if ((r = more(js)) == -1)
				return (-2);
			if (r == 0) {
				js_fail(js, JSON_E_SYNTAX);
				return (-2);
			}
			continue;
		}
		if ((r = skip_comment(js)) == -1)
			return (-2);
		if (r == 0 && more(js) == -1)
			return (-2);
	}
}

/* The string at js->pos (a '"').  1 done, 0 more, -1 error. */
static int
lex_string(struct json *js, struct json_tok *tok, int decode)
{
	const unsigned char	*b = (const unsigned char *)js->buf;
	size_t			 i, e = js->end, n;
	long			 cp, lo;
	unsigned char		 c;
	int			 esc = js->str_esc;

	/* A string cut by the window resumes where the scan stopped. */
	i = js->pos + 1 + js->str_done;
	for (;;) {
		if ((i = str_scan(b, i, e)) >= e)
			goto more;
		c = b[i];
		if (c == '"')
			break;
		if (c < 0x20) {
			js->pos = i;
			js_fail(js, JSON_E_CONTROL);
			return (-1);
		}
		if (c < 0x80) {
			if (c != '\\') {
				i++;
				continue;
			}
			if (e - i < 2)
				goto more;
			esc = 1;
			switch (b[i + 1]) {
			case '"': case '\\': case '/': case 'b':
			case 'f': case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u':
				break;
			default:
				goto bad_escape;
			}
			if (e - i < 6)
				goto more;
			if ((cp = jsonv_hex4(b + i + 2)) < 0)
				goto bad_escape;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad_escape;	/* lone low half */
			if (cp < 0xd800 || cp > 0xdbff) {
				i += 6;
				continue;
			}
			/* A high half must be followed by a low half. */
			if (e - i < 12 && !js->final)
				goto more;
			if (e - i < 12 || b[i + 6] != '\\' || b[i + 7] != 'u' ||
			    (lo = jsonv_hex4(b + i + 8)) < 0xdc00 ||
			    lo > 0xdfff)
				goto bad_escape;
			i += 12;
			continue;
		}
		if ((n = utf8_seqlen(b + i, e - i)) == 0) {
			if (e - i < 4 && !js->final)
				goto more;
			js->pos = i;
			js_fail(js, JSON_E_UTF8);
			return (-1);
		}
		i += n;
	}

	tok->s = js->buf + js->pos + 1;
	tok->len = i - js->pos - 1;
	/* In place; the escapes were checked above. */
	if (esc && decode)
		tok->len = jsonv_unescape(tok->s, tok->len,
		    js->buf + js->pos + 1);
	js->pos = i + 1;
	js->str_done = 0;
	js->str_esc = 0;
	return (1);

more:
	if (!js->final) {
		/* i is at a whole escape or UTF-8 sequence, or the end. */
		js->str_done = i - js->pos - 1;
		js->str_esc = esc;
		return (0);
	}
	js_fail(js, JSON_E_TRUNCATED);
	return (-1);
bad_escape:
	js->pos = i;
	js_fail(js, JSON_E_ESCAPE);
	return (-1);
}

static inline int
isnumc(unsigned char c)
{
	return ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
	    c == 'e' || c == 'E');
}

static inline int
isdig(unsigned char c)
{
	return (c >= '0' && c <= '9');
}

/* The number at js->pos: RFC 8259 grammar over its whole run. */
static int
lex_number(struct json *js, struct json_tok *tok)
{
	const unsigned char	*b = (const unsigned char *)js->buf;
	size_t			 s = js->pos, e = js->end, run, i;

	for (run = s; run < e && isnumc(b[run]); run++)
		;
	if (run == e && !js->final)
		return (0);

	i = s;
	if (b[i] == '-')
		i++;
	if (i < run && b[i] == '0')
		i++;
	else if (i < run && b[i] >= '1' && b[i] <= '9')
		while (i < run && isdig(b[i]))
			i++;
	else
		goto bad;
	if (i < run && b[i] == '.') {
		if (++i >= run || !isdig(b[i]))
			goto bad;
		while (i < run && isdig(b[i]))
			i++;
	}
	if (i < run && (b[i] == 'e' || b[i] == 'E')) {
		i++;
		if (i < run && (b[i] == '+' || b[i] == '-'))
			i++;
		if (i >= run || !isdig(b[i]))
			goto bad;
		while (i < run && isdig(b[i]))
			i++;
	}
	if (i != run)
		goto bad;
	tok->s = js->buf + s;
	tok->len = run - s;
	js->pos = run;
	return (1);
bad:
	js->pos = i;
	js_fail(js, JSON_E_SYNTAX);
	return (-1);
}

static int
lex_literal(struct json *js, const char *lit, size_t len)
{
	if (js->end - js->pos < len) {
		if (!js->final)
			return (0);
		js_fail(js, memcmp(js->buf + js->pos, lit,
		    js->end - js->pos) == 0 ? JSON_E_TRUNCATED : JSON_E_SYNTAX);
		return (-1);
	}
	if (memcmp(js->buf + js->pos, lit, len) != 0) {
		js_fail(js, JSON_E_SYNTAX);
		return (-1);
	}
	js->pos += len;
	return (1);
}

static enum json_type
push(struct json *js, int object)
{
	if (js->depth >= js->maxdepth) {
		js_fail(js, JSON_E_DEPTH);
		return (JSON_ERROR);
	}
	if (object) {
		js->stack[js->depth / 8] |= 1U << (js->depth % 8);
		js->state = ST_OBJ_FIRST;
	} else {
		js->stack[js->depth / 8] &= ~(1U << (js->depth % 8));
		js->state = ST_ARR_FIRST;
	}
	js->depth++;
	js->pos++;
	return (object ? JSON_OBJECT : JSON_ARRAY);
}

static inline int
top_is_object(const struct json *js)
{
	int	d = js->depth - 1;

	return ((js->stack[d / 8] >> (d % 8)) & 1);
}

static enum json_type
pop(struct json *js)
{
	js->depth--;
	js->pos++;
	js->state = js->depth == 0 ? ST_DONE : ST_NEXT;
	return (JSON_END);
}

/* Retry a lexer until it completes or fails. */
#define LEX(js, call) do {					\
	int	 r_;						\
	while ((r_ = (call)) == 0)				\
		if (more(js) == -1)				\
			return (JSON_ERROR);			\
	if (r_ == -1)						\
		return (JSON_ERROR);				\
} while (0)

static enum json_type
lex_value(struct json *js, int c, struct json_tok *tok, int decode)
{
	enum json_type	t;

	switch (c) {
	case '{':
		return (push(js, 1));
	case '[':
		return (push(js, 0));
	}
	if (js->state == ST_START) {
		js_fail(js, JSON_E_TOPLEVEL);
		return (JSON_ERROR);
	}
	switch (c) {
	case '"':
		LEX(js, lex_string(js, tok, decode));
		t = JSON_STRING;
		break;
	case 't':
		LEX(js, lex_literal(js, "true", 4));
		t = JSON_TRUE;
		break;
	case 'f':
		LEX(js, lex_literal(js, "false", 5));
		t = JSON_FALSE;
		break;
	case 'n':
		LEX(js, lex_literal(js, "null", 4));
		t = JSON_NULL;
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		LEX(js, lex_number(js, tok));
		t = JSON_NUMBER;
		break;
	default:
		js_fail(js, JSON_E_SYNTAX);
		return (JSON_ERROR);
	}
	js->state = ST_NEXT;
	return (t);
}

static enum json_type
lex_key(struct json *js, int c, struct json_tok *tok, int decode)
{
	if (c != '"') {
		js_fail(js, JSON_E_SYNTAX);
		return (JSON_ERROR);
	}
	LEX(js, lex_string(js, tok, decode));
	/* The colon mostly follows at once: take it now. */
	if (js->pos < js->end && js->buf[js->pos] == ':') {
		js->pos++;
		js->state = ST_VALUE;
	} else
		js->state = ST_COLON;
	return (JSON_KEY);
}

static enum json_type
value(struct json *js, int c, struct json_tok *tok, int decode)
{
	enum json_type	t;

	if ((t = lex_value(js, c, tok, decode)) == JSON_ERROR)
		return (JSON_ERROR);
	if (js->depth == 0 && js->state == ST_NEXT)
		js->state = ST_DONE;
	return (t);
}

/* A UTF-8 byte-order mark at the very start is skipped. */
static int
skip_bom(struct json *js)
{
	int	r;

	while (js->end - js->pos < 3 && !js->final)
		if ((r = more(js)) == -1)
			return (-1);
	if (js->end - js->pos >= 3 &&
	    memcmp(js->buf + js->pos, "\xef\xbb\xbf", 3) == 0)
		js->pos += 3;
	js->started = 1;
	return (0);
}

static enum json_type
next(struct json *js, struct json_tok *tok, int decode)
{
	int	c;

	tok->s = NULL;
	tok->len = 0;
	if (js->err != JSON_E_NONE)
		return (JSON_ERROR);
	if (!js->started && skip_bom(js) == -1)
		return (JSON_ERROR);
	for (;;) {
		if (js->state == ST_EOF)
			return (JSON_EOF);
		if ((c = peek(js)) == -2)
			return (JSON_ERROR);
		if (c == -1) {
			if (js->state == ST_DONE) {
				js->state = ST_EOF;
				return (JSON_EOF);
			}
			js_fail(js, JSON_E_TRUNCATED);
			return (JSON_ERROR);
		}
		switch (js->state) {
		case ST_DONE:
			js_fail(js, JSON_E_SYNTAX);
			return (JSON_ERROR);
		case ST_COLON:
			if (c != ':')
				break;
			js->pos++;
			js->state = ST_VALUE;
			continue;
		case ST_NEXT:
			if (c == ',') {
				js->pos++;
				js->state = top_is_object(js) ? ST_KEY :
				    ST_VALUE;
				continue;
			}
			if (c == (top_is_object(js) ? '}' : ']'))
				return (pop(js));
			break;
		case ST_OBJ_FIRST:
			if (c == '}')
				return (pop(js));
			return (lex_key(js, c, tok, decode));
		case ST_KEY:
			/* Only after ',': with the flag, may end the object. */
			if (c == '}' && (js->flags & JSON_F_TRAILING))
				return (pop(js));
			return (lex_key(js, c, tok, decode));
		case ST_ARR_FIRST:
			if (c == ']')
				return (pop(js));
			return (value(js, c, tok, decode));
		case ST_VALUE:
			/* In an array ST_VALUE comes only after ','. */
			if (c == ']' && (js->flags & JSON_F_TRAILING) &&
			    js->depth > 0 && !top_is_object(js))
				return (pop(js));
			return (value(js, c, tok, decode));
		case ST_START:
			return (value(js, c, tok, decode));
		}
		js_fail(js, JSON_E_SYNTAX);
		return (JSON_ERROR);
	}
}

enum json_type
json_next(struct json *js, struct json_tok *tok)
{
	return (tok->type = next(js, tok, 1));
}

int
json_skip(struct json *js, enum json_type t)
{
	struct json_tok	tok;
	int		target;

	if (t == JSON_ERROR || js->err != JSON_E_NONE)
		return (-1);
	if (t != JSON_OBJECT && t != JSON_ARRAY)
		return (0);
	target = js->depth - 1;
	for (;;) {
		switch (next(js, &tok, 0)) {
		case JSON_ERROR:
			return (-1);
		case JSON_END:
			if (js->depth == target)
				return (0);
			break;
		case JSON_EOF:
			js_fail(js, JSON_E_TRUNCATED);
			return (-1);
		default:
			break;
		}
	}
}

int
json_skip_next(struct json *js)
{
	struct json_tok	tok;

	return (json_skip(js, next(js, &tok, 0)));
}

int
json_tok_eq(const struct json_tok *tok, const char *lit)
{
	size_t	len = strlen(lit);

	return (tok->len == len && memcmp(tok->s, lit, len) == 0);
}

const char *
json_errstr(const struct json *js)
{
	switch (js->err) {
	case JSON_E_NONE:
		return ("no error");
	case JSON_E_SYNTAX:
		return ("syntax error");
	case JSON_E_UTF8:
		return ("invalid UTF-8");
	case JSON_E_ESCAPE:
		return ("invalid escape");
	case JSON_E_CONTROL:
		return ("control character in string");
	case JSON_E_DEPTH:
		return ("nested too deeply");
	case JSON_E_TRUNCATED:
		return ("unexpected end of document");
	case JSON_E_TOPLEVEL:
		return ("top level is not an object or array");
	case JSON_E_TOOBIG:
		return ("token too large");
	case JSON_E_READ:
		return ("read error");
	case JSON_E_NOMEM:
		return ("out of memory");
	}
	return ("unknown error");
}

uint64_t
json_erroff(const struct json *js)
{
	return (js->erroff);
}
