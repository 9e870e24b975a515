/*
 * The strict RFC 8259 recogniser that runs before jsmn in the protocol
 * reader (jsonr.c) and the configuration bundle decoder (config_json.c),
 * and the string decoding every JSON reader here shares, the streaming
 * tokenizer (json.c) included.
 *
 * The recogniser checks one value: UTF-8 (utf8.h), escapes, the number
 * grammar, commas and colons, a depth cap and a cap on the values it
 * counts (keys count, as jsmn gives them a token each).  It stops at the
 * first error and leaves pos where it found it.
 */
#ifndef KOBANG_JSONV_H
#define KOBANG_JSONV_H

#include <stddef.h>

/*
 * The cap on values is checked as each value begins, before its leading
 * white space, against the values already begun, and keys are not
 * checked: the configuration decoder has always reported it that way.
 * Without the flag every value and key is checked as it begins.
 */
#define JSONV_CAP_AT_VALUE	0x01

struct jsonv {
	const unsigned char	*s;
	size_t			 len;
	size_t			 pos;
	size_t			 ntok;	/* values begun, keys included */
	size_t			 maxtok;
	int			 maxdepth;
	int			 depth;
	int			 flags;
	const char		*why;		/* the first error */
};

/* The messages of the \u escape errors, for callers that refine them. */
extern const char	 jsonv_bad_uescape[];
extern const char	 jsonv_unpaired[];

/* Set v up for the len bytes at s; the caps are the caller's to set. */
void	 jsonv_init(struct jsonv *, const void *, size_t);
void	 jsonv_ws(struct jsonv *);
/* One value after optional white space: 0, or -1 with why and pos set. */
int	 jsonv_value(struct jsonv *);

/* Four hex digits at p (all four readable): 0 to 0xffff, or -1. */
int	 jsonv_hex4(const unsigned char *);
/*
 * Decode the body of a string a strict reader accepted (its escapes are
 * whole and valid) into out, which may be s itself: the result is never
 * longer than the input.  Returns its length.
 */
size_t	 jsonv_unescape(const char *, size_t, char *);

#endif
