/*
 * SHA-256 via libcrypto's EVP API.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "sha256.h"

static EVP_MD	*sha256_md;

/*
 * Fetch once: an explicit fetch avoids the implicit lookup that
 * EVP_sha256() costs on every digest under OpenSSL 3.
 */
static const EVP_MD *
md(void)
{
	if (sha256_md == NULL)
		sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return (sha256_md);
}

int
sha256_preload(void)
{
	return (md() == NULL ? -1 : 0);
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

/*
 * One context serves every one-shot digest: allocating one per call
 * doubled the cost of hashing a 300,000-event baseline's payloads.
 * Our processes are single-threaded.
 */
int
sha256_digest(const void *buf, size_t len, uint8_t d[SHA256_DIGEST_LEN])
{
	static EVP_MD_CTX	*x;
	const EVP_MD		*m;
	unsigned int		 dlen = 0;

	if ((m = md()) == NULL)
		return (-1);
	if (x == NULL && (x = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (EVP_DigestInit_ex(x, m, NULL) != 1 ||
	    EVP_DigestUpdate(x, buf, len) != 1 ||
	    EVP_DigestFinal_ex(x, d, &dlen) != 1 ||
	    dlen != SHA256_DIGEST_LEN)
		return (-1);
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
	static EVP_MD_CTX	*x;
	const EVP_MD		*m;
	uint8_t			 k[SHA256_BLOCK], pad[SHA256_BLOCK];
	uint8_t			 inner[SHA256_DIGEST_LEN];
	unsigned int		 dlen;
	size_t			 i;
	int			 rv = -1;

	if ((m = md()) == NULL)
		return (-1);
	if (x == NULL && (x = EVP_MD_CTX_new()) == NULL)
		return (-1);
	memset(k, 0, sizeof(k));
	if (keylen > SHA256_BLOCK) {
		if (sha256_digest(key, keylen, k) == -1)
			goto out;
	} else if (keylen > 0)
		memcpy(k, key, keylen);

	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	dlen = 0;
	if (EVP_DigestInit_ex(x, m, NULL) != 1 ||
	    EVP_DigestUpdate(x, pad, sizeof(pad)) != 1 ||
	    (len > 0 && EVP_DigestUpdate(x, buf, len) != 1) ||
	    EVP_DigestFinal_ex(x, inner, &dlen) != 1 ||
	    dlen != SHA256_DIGEST_LEN)
		goto out;

	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	dlen = 0;
	if (EVP_DigestInit_ex(x, m, NULL) != 1 ||
	    EVP_DigestUpdate(x, pad, sizeof(pad)) != 1 ||
	    EVP_DigestUpdate(x, inner, sizeof(inner)) != 1 ||
	    EVP_DigestFinal_ex(x, d, &dlen) != 1 ||
	    dlen != SHA256_DIGEST_LEN)
		goto out;
	rv = 0;
out:
	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
	return (rv);
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

int
sha256_init(struct sha256_ctx *c)
{
	const EVP_MD	*m;
	EVP_MD_CTX	*x;

	c->md = NULL;
	if ((m = md()) == NULL)
		return (-1);
	if ((x = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (EVP_DigestInit_ex(x, m, NULL) != 1) {
		EVP_MD_CTX_free(x);
		return (-1);
	}
	c->md = x;
	return (0);
}

int
sha256_update(struct sha256_ctx *c, const void *buf, size_t len)
{
	if (c->md == NULL)
		return (-1);
	if (len == 0)
		return (0);
	if (EVP_DigestUpdate(c->md, buf, len) != 1) {
		sha256_abort(c);
		return (-1);
	}
	return (0);
}

int
sha256_final(struct sha256_ctx *c, uint8_t d[SHA256_DIGEST_LEN])
{
	unsigned int	 dlen = 0;
	int		 rv = 0;

	if (c->md == NULL)
		return (-1);
	if (EVP_DigestFinal_ex(c->md, d, &dlen) != 1 ||
	    dlen != SHA256_DIGEST_LEN)
		rv = -1;
	sha256_abort(c);
	return (rv);
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
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}
