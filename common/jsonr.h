/*
 * A strict JSON reader for the protocol's responses and kobangd's own
 * small JSON files (PROTOCOL.md 2).  A recogniser checks the whole text
 * against RFC 8259 first (UTF-8, escapes, number grammar, one top-level
 * value, depth and token caps); only then does jsmn tokenize it.  Keys
 * are compared after unescaping, and an object with the same key twice
 * is refused, so a value cannot hide behind a second spelling.
 */
#ifndef KOBANG_JSONR_H
#define KOBANG_JSONR_H

#include <stddef.h>
#include <stdint.h>

#define JSONR_MAX_DEPTH		32
#define JSONR_ERRLEN		128

enum jsonr_type {
	JSONR_OBJECT,
	JSONR_ARRAY,
	JSONR_STRING,
	JSONR_NUMBER,
	JSONR_TRUE,
	JSONR_FALSE,
	JSONR_NULL
};

struct jsonr_tok;

struct jsonr {
	const char		*s;
	size_t			 len;
	struct jsonr_tok	*tok;
	int			 ntok;
	char			 err[JSONR_ERRLEN];
};

/*
 * Parse text of len bytes, at most maxtok values (keys count).  The top
 * level must be an object.  0, or -1 with a message in jr->err.  The
 * text must outlive jr.  Free with jsonr_free() either way.
 */
int		 jsonr_parse(struct jsonr *, const char *, size_t, int);
void		 jsonr_free(struct jsonr *);

enum jsonr_type	 jsonr_type(const struct jsonr *, int);
/* Members of an object, elements of an array. */
int		 jsonr_size(const struct jsonr *, int);
/* The token after t and everything inside it. */
int		 jsonr_skip(const struct jsonr *, int);

/* The value of key in object obj: its token, or -1 if absent. */
int		 jsonr_get(const struct jsonr *, int, const char *);

/*
 * Typed access.  Each returns 0, or -1 if the token has another type or
 * the value does not fit; the caller names the key in its message.
 * jsonr_string() unescapes into buf (NUL-terminated, at most bufsz - 1
 * bytes, no NUL inside) and stores the length in *lenp if not NULL.
 * Integers are integer literals only (no fraction, no exponent) within
 * [min, max].
 */
int		 jsonr_string(const struct jsonr *, int, char *, size_t,
		    size_t *);
int		 jsonr_int64(const struct jsonr *, int, int64_t, int64_t,
		    int64_t *);
int		 jsonr_uint64(const struct jsonr *, int, uint64_t, uint64_t *);
int		 jsonr_bool(const struct jsonr *, int, int *);
int		 jsonr_is_null(const struct jsonr *, int);

#endif
