/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF.  Used by the JSON tokenizer and by every receiver of
 * strings that crossed a process boundary.
 */
#ifndef KOBANG_UTF8_H
#define KOBANG_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 if the len bytes at p are valid UTF-8, else 0. */
int	 utf8_valid(const void *, size_t);

/*
 * Length of the valid sequence starting at p (at most len bytes are
 * looked at): 1 to 4, or 0 if the bytes there are not valid UTF-8.
 */
size_t	 utf8_seqlen(const unsigned char *, size_t);

/*
 * Write code point cp (at most U+10FFFF, the caller checked) to out in
 * 1 to 4 bytes; returns how many.
 */
size_t	 utf8_encode(char *, uint32_t);

#endif
