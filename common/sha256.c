/*
 * SHA-256 through libmd (the BSD <sha2.h> interface).  It used to go
 * through libcrypto's EVP, whose provider set-up alone made every
 * process that hashed touch about 2 MB of libcrypto: the scan child,
 * which hashes files, then loaded libcrypto for nothing else.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * HMAC-SHA-256 (RFC 2104) over the one-shot context: a keyed digest the
 * scan child stamps on a value it hides (kobangd/scan_redact.c), so that
 * a change shows without the value.  Keys longer than a block are hashed
 * first, as the RFC says.
 */
#define SHA256_BLOCK	64

int
sha256_hmac(const void *key, size_t keylen, const void *buf, size_t len,
    uint8_t d[SHA256_DIGEST_LEN])
{
	SHA2_CTX	 x;
	uint8_t		 k[SHA256_BLOCK], pad[SHA256_BLOCK];
	uint8_t		 inner[SHA256_DIGEST_LEN];
	size_t		 i;

	memset(k, 0, sizeof(k));
	if (keylen > SHA256_BLOCK)
		(void)sha256_digest(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);

	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	SHA256Init(&x);
	SHA256Update(&x, pad, sizeof(pad));
	if (len > 0)
		SHA256Update(&x, buf, len);
	SHA256Final(inner, &x);

	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256Init(&x);
	SHA256Update(&x, pad, sizeof(pad));
	SHA256Update(&x, inner, sizeof(inner));
	SHA256Final(d, &x);

	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
	explicit_bzero(&x, sizeof(x));
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
