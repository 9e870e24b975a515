/*
 * libFuzzer harness for the TPM key blob decoder (kobangd/keystore_tpm.c,
 * identity/key.tpm: a root-only file, but one a failing disk, a restore
 * from elsewhere or an operator's copy can corrupt).  A blob it accepts
 * gives a public key OpenSSL reads back as the same P-256 SPKI, and
 * every prefix of an accepted blob is refused (nothing is optional).
 * The seeds are blobs made by swtpm (regress/fuzz/corpus/tpmblob).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keystore.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
#ifdef KOBANGD_TPM
	struct tpm_blob	*b;
	uint8_t		 spki[PROTO_SPKI_LEN], again[PROTO_SPKI_LEN];
	const uint8_t	*p = spki;
	uint8_t		*der = NULL;
	EVP_PKEY	*pk;
	char		 err[KEYSTORE_ERRLEN];

	if (keystore_tpm_decode(data, len, &b, spki, err, sizeof(err)) == -1) {
		if (err[0] == '\0' || b != NULL)
			abort();
		return (0);
	}
	keystore_tpm_blob_free(b);
	if ((pk = d2i_PUBKEY(NULL, &p, sizeof(spki))) == NULL ||
	    i2d_PUBKEY(pk, &der) != PROTO_SPKI_LEN)
		abort();
	memcpy(again, der, sizeof(again));
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	if (memcmp(spki, again, sizeof(spki)) != 0)
		abort();
	if (len > 0 && keystore_tpm_decode(data, len - 1, &b, spki, err,
	    sizeof(err)) != -1)
		abort();
#else
	(void)data;
	(void)len;
#endif
	return (0);
}
