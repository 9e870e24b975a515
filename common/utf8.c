/*
 * Strict UTF-8 validation.  ASCII, the common case, is checked eight
 * bytes at a time; only bytes with the high bit set go through the
 * per-sequence checks.
 */

#include <stdint.h>
#include <string.h>

#include "utf8.h"

size_t
utf8_seqlen(const unsigned char *p, size_t len)
{
	unsigned char	c;

	if (len == 0)
		return (0);
	c = p[0];
	if (c < 0x80)
		return (1);
	if (c < 0xc2)			/* continuation byte or overlong */
		return (0);
	if (c < 0xe0) {
		if (len < 2 || (p[1] & 0xc0) != 0x80)
			return (0);
		return (2);
	}
	if (c < 0xf0) {
		if (len < 3 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80)
			return (0);
		if (c == 0xe0 && p[1] < 0xa0)	/* overlong */
			return (0);
		if (c == 0xed && p[1] >= 0xa0)	/* surrogate */
			return (0);
		return (3);
	}
	if (c < 0xf5) {
		if (len < 4 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return (0);
		if (c == 0xf0 && p[1] < 0x90)	/* overlong */
			return (0);
		if (c == 0xf4 && p[1] >= 0x90)	/* above U+10FFFF */
			return (0);
		return (4);
	}
	return (0);
}

int
utf8_valid(const void *buf, size_t len)
{
	const unsigned char	*p = buf, *end = p + len;
	uint64_t		 w;
	size_t			 n;

	while (p < end) {
		if ((size_t)(end - p) >= 8) {
			memcpy(&w, p, sizeof(w));
			if ((w & 0x8080808080808080ULL) == 0) {
				p += 8;
				continue;
			}
		}
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((n = utf8_seqlen(p, (size_t)(end - p))) == 0)
			return (0);
		p += n;
	}
	return (1);
}

size_t
utf8_encode(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return (1);
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return (2);
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return (3);
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return (4);
}
