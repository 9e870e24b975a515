/*
 * A small streaming JSON writer into a growing buffer: compact output,
 * commas managed for the caller.  Used for kobanctl -j, the protocol
 * request bodies and the canonical configuration bundle.
 */
#ifndef KOBANG_JSONW_H
#define KOBANG_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define JSONW_MAXDEPTH		64

/* Escape '/' as "\/" the way Foundation's JSONEncoder does. */
#define JSONW_ESCAPE_SLASH	0x01

struct jsonw {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 flags;
	int		 depth;
	int		 failed;	/* allocation or nesting error */
	uint8_t		 nitems[JSONW_MAXDEPTH];	/* 0: none yet */
	uint8_t		 after_key;
};

void	 jsonw_init(struct jsonw *, int);
void	 jsonw_free(struct jsonw *);
void	 jsonw_reset(struct jsonw *);
void	 jsonw_object_begin(struct jsonw *);
void	 jsonw_object_end(struct jsonw *);
void	 jsonw_array_begin(struct jsonw *);
void	 jsonw_array_end(struct jsonw *);
void	 jsonw_key(struct jsonw *, const char *);
void	 jsonw_string(struct jsonw *, const char *);
void	 jsonw_stringn(struct jsonw *, const char *, size_t);
void	 jsonw_int(struct jsonw *, long long);
void	 jsonw_uint(struct jsonw *, unsigned long long);
void	 jsonw_bool(struct jsonw *, int);
void	 jsonw_null(struct jsonw *);
/* Append already-encoded JSON as one value. */
void	 jsonw_raw(struct jsonw *, const char *, size_t);
/* NUL-terminated result, or NULL if anything failed. */
const char *jsonw_result(struct jsonw *, size_t *);
char	*jsonw_take(struct jsonw *, size_t *);

#endif
