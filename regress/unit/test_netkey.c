/*
 * Pins the stand-in key technique on this system's libtls and OpenSSL:
 * a client with only a certificate (tls_config_use_fake_private_key) and
 * the forwarding EC_KEY_METHOD completes a mutually authenticated TLS 1.3
 * and TLS 1.2 handshake, the server sees the certificate, and the sign
 * hook is called exactly once with a 32-byte digest.  A wrong or missing
 * signature fails the handshake.  If a libtls or OpenSSL update changes
 * any of that, this fails before a Fleet does.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <tls.h>

#include <criterion/criterion.h>

#include "netkey.h"

struct pki {
	EVP_PKEY	*ca_key, *srv_key, *cli_key, *other_key;
	char		*ca_pem, *srv_pem, *srv_key_pem, *cli_pem;
};

static char *
bio_string(BIO *b)
{
	char	*p, *s;
	long	 n = BIO_get_mem_data(b, &p);

	cr_assert(n > 0);
	s = calloc(1, (size_t)n + 1);
	memcpy(s, p, (size_t)n);
	BIO_free(b);
	return (s);
}

static char *
cert_pem(EVP_PKEY *key, const char *cn, EVP_PKEY *ikey, X509 *issuer,
    int ca, X509 **out)
{
	X509		*x = X509_new();
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;
	BIO		*b = BIO_new(BIO_s_mem());

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) :
	    X509_get_subject_name(x));
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ca) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
		    "IP:127.0.0.1");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	cr_assert(X509_sign(x, ikey, EVP_sha256()) > 0);
	PEM_write_bio_X509(b, x);
	if (out != NULL)
		*out = x;
	else
		X509_free(x);
	return (bio_string(b));
}

static void
make_pki(struct pki *p)
{
	X509	*ca;
	BIO	*b = BIO_new(BIO_s_mem());

	p->ca_key = EVP_EC_gen("P-256");
	p->srv_key = EVP_EC_gen("P-256");
	p->cli_key = EVP_EC_gen("P-256");
	p->other_key = EVP_EC_gen("P-256");
	cr_assert(p->ca_key && p->srv_key && p->cli_key && p->other_key);
	p->ca_pem = cert_pem(p->ca_key, "test ca", p->ca_key, NULL, 1, &ca);
	p->srv_pem = cert_pem(p->srv_key, "127.0.0.1", p->ca_key, ca, 0, NULL);
	p->cli_pem = cert_pem(p->cli_key, "device-a", p->ca_key, ca, 0, NULL);
	PEM_write_bio_PrivateKey(b, p->srv_key, NULL, NULL, 0, NULL, NULL);
	p->srv_key_pem = bio_string(b);
	X509_free(ca);
}

static void
free_pki(struct pki *p)
{
	EVP_PKEY_free(p->ca_key);
	EVP_PKEY_free(p->srv_key);
	EVP_PKEY_free(p->cli_key);
	EVP_PKEY_free(p->other_key);
	free(p->ca_pem);
	free(p->srv_pem);
	free(p->srv_key_pem);
	free(p->cli_pem);
}

/* The server, in its own process: 0 if it saw device-a's certificate. */
static pid_t
server(struct pki *p, int fd, int other, uint32_t protocols)
{
	struct tls_config	*cfg;
	struct tls		*srv, *c;
	const char		*subj;
	char			 buf[4];
	pid_t			 pid;

	if ((pid = fork()) != 0)
		return (pid);
	/* Without the client's end, its close is our EOF. */
	close(other);
	tls_init();
	cfg = tls_config_new();
	srv = tls_server();
	if (tls_config_set_keypair_mem(cfg, (uint8_t *)p->srv_pem,
	    strlen(p->srv_pem), (uint8_t *)p->srv_key_pem,
	    strlen(p->srv_key_pem)) == -1 ||
	    tls_config_set_ca_mem(cfg, (uint8_t *)p->ca_pem,
	    strlen(p->ca_pem)) == -1 ||
	    tls_config_set_protocols(cfg, protocols) == -1)
		_exit(10);
	/*
	 * ECDHE on P-256 makes EC keys inside the client too: they must
	 * still work with the forwarding method as the default.
	 */
	if (protocols == TLS_PROTOCOL_TLSv1_2 &&
	    tls_config_set_ecdhecurves(cfg, "P-256") == -1)
		_exit(10);
	tls_config_verify_client(cfg);
	if (tls_configure(srv, cfg) == -1 ||
	    tls_accept_socket(srv, &c, fd) == -1)
		_exit(11);
	if (tls_handshake(c) == -1)
		_exit(12);
	subj = tls_peer_cert_subject(c);
	if (!tls_peer_cert_provided(c) || subj == NULL ||
	    strcmp(subj, "/CN=device-a") != 0)
		_exit(13);
	if (tls_read(c, buf, 4) != 4 || tls_write(c, "pong", 4) != 4)
		_exit(14);
	_exit(0);
}

struct signer {
	EVP_PKEY	*key;
	EVP_PKEY	*other;		/* made before the method went in */
	int		 calls;
	size_t		 dlen;
	int		 mode;		/* 0 sign, 1 refuse, 2 wrong key */
};

static int
sign_cb(void *arg, const uint8_t *dgst, size_t dlen, uint8_t *sig,
    size_t *siglen)
{
	struct signer	*s = arg;
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*k = s->key;
	int		 ok;

	s->calls++;
	s->dlen = dlen;
	if (s->mode == 1)
		return (-1);
	if (s->mode == 2)
		k = s->other;
	*siglen = NETKEY_SIG_MAX;
	ctx = EVP_PKEY_CTX_new(k, NULL);
	ok = EVP_PKEY_sign_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_sign(ctx, sig, siglen, dgst, dlen) == 1;
	EVP_PKEY_CTX_free(ctx);
	return (ok ? 0 : -1);
}

/* Handshake as device-a with the stand-in key; 0 or -1. */
static int
client(struct pki *p, struct signer *s, int fd, uint32_t protocols,
    char *version, size_t vlen)
{
	struct tls_config	*cfg;
	struct tls		*t;
	char			 buf[4];
	ssize_t			 n = -1;
	int			 ret = -1, hs;

	cr_assert_eq(netkey_install(sign_cb, s), 0);
	cfg = tls_config_new();
	t = tls_client();
	cr_assert_eq(tls_config_set_ca_mem(cfg, (uint8_t *)p->ca_pem,
	    strlen(p->ca_pem)), 0);
	cr_assert_eq(tls_config_set_cert_mem(cfg, (uint8_t *)p->cli_pem,
	    strlen(p->cli_pem)), 0);
	tls_config_use_fake_private_key(cfg);
	cr_assert_eq(tls_config_set_protocols(cfg, protocols), 0);
	cr_assert_eq(tls_configure(t, cfg), 0, "%s", tls_error(t));
	cr_assert_eq(tls_connect_socket(t, fd, "127.0.0.1"), 0);
	if ((hs = tls_handshake(t)) == 0 && tls_write(t, "ping", 4) != 4)
		hs = -1;
	/* Without SSL_MODE_AUTO_RETRY a TLS 1.3 ticket reads as "again". */
	while (hs == 0 && ((n = tls_read(t, buf, 4)) == TLS_WANT_POLLIN ||
	    n == TLS_WANT_POLLOUT))
		;
	if (hs == 0 && n == 4 && memcmp(buf, "pong", 4) == 0) {
		snprintf(version, vlen, "%s", tls_conn_version(t));
		ret = 0;
	}
	tls_close(t);
	tls_free(t);
	tls_config_free(cfg);
	return (ret);
}

static void
handshake(uint32_t protocols, int mode, const char *want_version)
{
	struct pki	p;
	struct signer	s;
	char		version[32] = "";
	int		sv[2], status, ok;
	pid_t		pid;

	/* A peer that already left must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	tls_init();
	make_pki(&p);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* Fork first: the forwarding method must not reach the server. */
	pid = server(&p, sv[1], sv[0], protocols);
	close(sv[1]);
	memset(&s, 0, sizeof(s));
	s.key = p.cli_key;
	s.other = p.other_key;
	s.mode = mode;
	ok = client(&p, &s, sv[0], protocols, version, sizeof(version));
	close(sv[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	free_pki(&p);
	cr_assert_eq(s.calls, 1, "sign hook called %d times", s.calls);
	cr_assert_eq(s.dlen, NETKEY_DIGEST_LEN, "digest of %zu bytes",
	    s.dlen);
	if (mode == 0) {
		cr_assert_eq(ok, 0);
		cr_assert_str_eq(version, want_version);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "server status %d", WEXITSTATUS(status));
	} else {
		cr_assert_eq(ok, -1);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 12,
		    "server status %d", WEXITSTATUS(status));
	}
}

Test(netkey, tls13_one_signature_of_32_bytes, .timeout = 20)
{
	handshake(TLS_PROTOCOL_TLSv1_3, 0, "TLSv1.3");
}

Test(netkey, tls12_p256_ecdhe_one_signature_of_32_bytes, .timeout = 20)
{
	handshake(TLS_PROTOCOL_TLSv1_2, 0, "TLSv1.2");
}

Test(netkey, refused_signature_fails_the_handshake, .timeout = 20)
{
	handshake(TLS_PROTOCOL_TLSv1_3, 1, NULL);
}

Test(netkey, signature_by_another_key_is_rejected, .timeout = 20)
{
	handshake(TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3, 2, NULL);
}
