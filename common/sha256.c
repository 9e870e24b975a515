/*
 * SHA-256 through libmd (the BSD <sha2.h> interface).  It used to go
 * through libcrypto's EVP, whose provider set-up alone made every
 * process that hashed touch about 2 MB of libcrypto: the scan child,
 * which hashes files, then loaded libcrypto for nothing else.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <sha2.h>

#include "sha256.h"

_Static_assert(SHA256_DIGEST_LENGTH == SHA256_DIGEST_LEN,
    "digest length");

/* Nothing to load: libmd has no providers and reads no files. */
int
sha256_preload(void)
{
	return (0);
}

void
sha256_tohex(const uint8_t d[SHA256_DIGEST_LEN], char out[SHA256_HEX_BUFSZ])
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < SHA256_DIGEST_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 0x0f];
	}
	out[SHA256_HEX_LEN] = '\0';
}

int
sha256_digest(const void *buf, size_t len, uint8_t d[SHA256_DIGEST_LEN])
{
	SHA2_CTX	 x;

	SHA256Init(&x);
	SHA256Update(&x, buf, len);
	SHA256Final(d, &x);
	return (0);
}

int
sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_BUFSZ])
{
	uint8_t	 d[SHA256_DIGEST_LEN];

	if (sha256_digest(buf, len, d) == -1)
		return (-1);
	sha256_tohex(d, out);
	return (0);
}

/* The context is allocated so that sha256.h need not include <sha2.h>. */
int
sha256_init(struct sha256_ctx *c)
{
	SHA2_CTX	*x;

	c->md = NULL;
	if ((x = malloc(sizeof(*x))) == NULL)
		return (-1);
	SHA256Init(x);
	c->md = x;
	return (0);
}

int
sha256_update(struct sha256_ctx *c, const void *buf, size_t len)
{
	if (c->md == NULL)
		return (-1);
	if (len > 0)
		SHA256Update(c->md, buf, len);
	return (0);
}

int
sha256_final(struct sha256_ctx *c, uint8_t d[SHA256_DIGEST_LEN])
{
	if (c->md == NULL)
		return (-1);
	SHA256Final(d, c->md);
	sha256_abort(c);
	return (0);
}

int
sha256_final_hex(struct sha256_ctx *c, char out[SHA256_HEX_BUFSZ])
{
	uint8_t	 d[SHA256_DIGEST_LEN];

	if (sha256_final(c, d) == -1)
		return (-1);
	sha256_tohex(d, out);
	return (0);
}

void
sha256_abort(struct sha256_ctx *c)
{
	free(c->md);
	c->md = NULL;
}
