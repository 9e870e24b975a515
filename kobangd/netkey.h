/*
 * The network child's stand-in for the device private key.
 *
 * libtls (Debian's libretls on OpenSSL 3) loads a client certificate
 * without its key when tls_config_use_fake_private_key() is set: the
 * "private key" it hands OpenSSL is the certificate's public key.  The
 * one private-key operation of a TLS 1.2 or 1.3 client handshake (the
 * ECDSA signature in CertificateVerify) then reaches the EC_KEY_METHOD
 * sign hook installed here as the process's default, which passes the
 * digest to a callback: in net, a round trip to the parent, which holds
 * the key.  OpenSSL 3 calls the hook with the digest already computed
 * (32 bytes for ecdsa_secp256r1_sha256); anything else is refused here,
 * before it leaves the process.  regress/unit/test_netkey.c pins this.
 *
 * Install it only in a process that never uses an EC private key of its
 * own: every EC_KEY made afterwards signs through the callback.
 */
#ifndef KOBANGD_NETKEY_H
#define KOBANGD_NETKEY_H

#include <stddef.h>
#include <stdint.h>

#define NETKEY_DIGEST_LEN	32	/* SHA-256, the only digest signed */
#define NETKEY_SIG_MAX		72	/* DER ECDSA-Sig-Value for P-256 */

struct tls_config;

/* Exported by libtls but not declared in <tls.h> (as relayd and smtpd). */
void	tls_config_use_fake_private_key(struct tls_config *);

/*
 * Sign a NETKEY_DIGEST_LEN digest: write the DER signature (at most
 * NETKEY_SIG_MAX bytes) and its length; 0, or -1 to fail the handshake.
 */
typedef int	(*netkey_sign_fn)(void *, const uint8_t *, size_t, uint8_t *,
		    size_t *);

/* Make the forwarding method the default for new EC keys; 0 or -1. */
int	netkey_install(netkey_sign_fn, void *);

#endif
