/*
 * An EC_KEY_METHOD whose signing forwards the digest (see netkey.h).
 * Built with OPENSSL_API_COMPAT 1.1: EC_KEY_METHOD is deprecated in
 * OpenSSL 3 but is what its provider still calls for an EC key that
 * carries a method of its own.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>

#include "log.h"
#include "netkey.h"

static netkey_sign_fn	 netkey_fn;
static void		*netkey_arg;
static EC_KEY_METHOD	*netkey_method;

static int
netkey_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
    unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *eckey)
{
	uint8_t		buf[NETKEY_SIG_MAX];
	size_t		len = 0;
	int		max = ECDSA_size(eckey);

	*siglen = 0;
	if (dlen != NETKEY_DIGEST_LEN) {
		log_warnx("refusing to sign a digest of %d bytes (only %d)",
		    dlen, NETKEY_DIGEST_LEN);
		return (0);
	}
	/* A precomputed nonce would be ours, not the key holder's. */
	if (kinv != NULL || r != NULL) {
		log_warnx("refusing to sign with a precomputed nonce");
		return (0);
	}
	if (netkey_fn == NULL ||
	    netkey_fn(netkey_arg, dgst, (size_t)dlen, buf, &len) == -1)
		return (0);
	if (len == 0 || len > sizeof(buf) || max <= 0 || len > (size_t)max) {
		log_warnx("signature of %zu bytes does not fit", len);
		return (0);
	}
	memcpy(sig, buf, len);
	*siglen = (unsigned int)len;
	return (1);
}

/* Nothing may sign here without the key holder. */
static ECDSA_SIG *
netkey_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *eckey)
{
	log_warnx("refusing a direct ECDSA signature");
	return (NULL);
}

static int
netkey_sign_setup(EC_KEY *eckey, BN_CTX *ctx, BIGNUM **kinv, BIGNUM **r)
{
	return (0);
}

int
netkey_install(netkey_sign_fn fn, void *arg)
{
	netkey_fn = fn;
	netkey_arg = arg;
	if (netkey_method != NULL)
		return (0);
	if ((netkey_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) == NULL)
		return (-1);
	EC_KEY_METHOD_set_sign(netkey_method, netkey_sign, netkey_sign_setup,
	    netkey_sign_sig);
	EC_KEY_set_default_method(netkey_method);
	if (EC_KEY_get_default_method() != netkey_method)
		return (-1);
	return (0);
}
