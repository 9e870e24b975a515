/*
 * Standard base64 (RFC 4648, "+/" alphabet, "=" padding, no line
 * breaks), the form every Data field of the protocol uses (PROTOCOL.md 2).
 */
#ifndef KOBANG_BASE64_H
#define KOBANG_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Encoded length of n bytes, without the NUL; 0 if it would overflow. */
size_t	 b64_enclen(size_t);

/*
 * Encode n bytes into out, NUL-terminated.  outsz must be at least
 * b64_enclen(n) + 1.  Returns the length written, or -1 if out is short.
 */
int	 b64_encode(const uint8_t *, size_t, char *, size_t);

/*
 * Decode strictly: the canonical encoding only.  The length is a
 * multiple of 4, every character is in the alphabet, "=" appears only as
 * one or two final padding characters, the bits the padding discards are
 * zero, no whitespace.  Writes at most outsz bytes; returns the decoded
 * length, or -1 on any deviation or if out is too small.
 */
long long b64_decode(const char *, size_t, uint8_t *, size_t);

/* Upper bound of the decoded length of n characters. */
size_t	 b64_declen(size_t);

#endif
