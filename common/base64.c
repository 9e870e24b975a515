/*
 * Standard base64, strict in what it accepts: one input has exactly one
 * decoding and one encoding, so a value cannot be smuggled past a check
 * in a second spelling.
 */

#include <stddef.h>
#include <stdint.h>

#include "base64.h"

static const char	b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
b64_enclen(size_t n)
{
	if (n > (SIZE_MAX - 3) / 4 * 3)
		return (0);
	return ((n + 2) / 3 * 4);
}

size_t
b64_declen(size_t n)
{
	return (n / 4 * 3);
}

int
b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz)
{
	size_t		i, o = 0, need = b64_enclen(n);
	uint32_t	v;

	if ((need == 0 && n != 0) || outsz < need + 1 || need > INT32_MAX)
		return (-1);
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 0x3f];
		out[o++] = b64_alphabet[(v >> 6) & 0x3f];
		out[o++] = b64_alphabet[v & 0x3f];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 0x3f];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 0x3f];
		out[o++] = b64_alphabet[(v >> 6) & 0x3f];
		out[o++] = '=';
	}
	out[o] = '\0';
	return ((int)o);
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

long long
b64_decode(const char *in, size_t n, uint8_t *out, size_t outsz)
{
	size_t		i, o = 0, pad = 0;
	uint32_t	v;
	int		d[4], k;

	if (n % 4 != 0)
		return (-1);
	if (n > 0 && in[n - 1] == '=')
		pad = (n > 1 && in[n - 2] == '=') ? 2 : 1;
	if (b64_declen(n) - pad > outsz)
		return (-1);
	for (i = 0; i < n; i += 4) {
		for (k = 0; k < 4; k++) {
			if (i + k >= n - pad && in[i + k] == '=') {
				d[k] = 0;
				continue;
			}
			if ((d[k] = b64_val((unsigned char)in[i + k])) == -1)
				return (-1);
		}
		v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 |
		    (uint32_t)d[2] << 6 | (uint32_t)d[3];
		if (i + 4 < n || pad == 0) {
			out[o++] = v >> 16;
			out[o++] = (v >> 8) & 0xff;
			out[o++] = v & 0xff;
		} else if (pad == 1) {
			/* The discarded low 2 bits must be zero. */
			if (v & 0xff)
				return (-1);
			out[o++] = v >> 16;
			out[o++] = (v >> 8) & 0xff;
		} else {
			if (v & 0xffff)
				return (-1);
			out[o++] = v >> 16;
		}
	}
	return ((long long)o);
}
