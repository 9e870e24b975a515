/*
 * fleetpeer: a Fleet test peer for the end-to-end tests.  HTTPS with
 * libtls on 127.0.0.1 only, one connection at a time, keep-alive.
 *
 *	fleetpeer [-B bytes] [-C configdir] -d dir [-D] [-E events]
 *	    [-m mode] [-M modefile] [-o dump] [-p port] [-T sensor-token]
 *
 * dir holds what the test generated with openssl(1): ca.pem and ca.key
 * (the CA that issues and verifies client certificates), server.pem and
 * server.key (the peer's own chain), tokens (lines "token expiry",
 * expiry in seconds since the epoch).  The peer prints "port N" once it
 * listens, then one line per event on standard output.  Tokens are
 * never printed.
 *
 * POST .../api/sensor/v1/enroll: the token must be known, unused and
 * unexpired (single use: spent on success); publicKey must be base64 of
 * the exact PROTOCOL.md 4.1 PEM of a P-256 key.  The peer issues a
 * client certificate for that key (CN device id, O tenant id,
 * clientAuth) and answers with it as base64 of PEM (-D: of DER).
 *
 * POST .../api/sensor/v1/check-in: answers only a client certificate
 * the CA issued for a device the peer enrolled, whose key is the one
 * that device enrolled with, and whose tenant and device match the body;
 * or, without a certificate, the sensor token given with -T.  It prints
 * the certificate's key digest, so the test can compare it with the key
 * on disk, and whether a sensor token header came too.  The body must
 * hold exactly PROTOCOL.md 6.2's keys (health exactly 6.1's).
 *
 * POST .../api/sensor/v1/sync: the same certificate check (the body's
 * tenant and device must be the certificate's); every key, type and
 * value of PROTOCOL.md 6.4 and 6.5 checked (exactly the stated keys,
 * uppercase UUIDs, agent timestamps, canonical base64, the payload's
 * SHA-256, a strict and canonical protobuf decode agreeing with the
 * event's surface and kind).  A malformed request gets 400; a bad event
 * is rejected alone.  Events are held once by event id (a re-sent one
 * is acknowledged as a duplicate); acceptedThroughLocalSequence is the
 * highest sequence held without a gap.  With -o, every held event is
 * written to the dump file after each request (see dump_held).  Sync
 * answers give -B and -E (default 524288 and 500) as maxBatchBytes and
 * maxBatchEvents; each request's payload bytes and first and last
 * local sequence are logged.
 *
 * POST .../api/sensor/v1/config: the check-in's authentication; the
 * body exactly PROTOCOL.md 5.2's three strings.  With -C dir, the
 * generation is dir/generation's first line and the bundle
 * dir/config.json: answered as base64 configJson (signature null) unless
 * the client's currentGeneration is that generation or there is no
 * bundle, then {"generation": G} alone ("unchanged").  G is also the
 * configGeneration of check-in and sync answers (default generation-1).
 *
 * Each handshake is logged with its time from accept to the client's
 * Finished ("connection N: VERSION[, client certificate] handshake_us=U").
 * Every request is logged first as "request t=MS route=R conn=N
 * json=BODYBYTES http=REQUESTBYTES mode=M", t on the monotonic clock in
 * milliseconds, so tests can measure the daemon's intervals, and
 * "answered t=MS conn=N" once the answer (or its fault) is sent.
 *
 * Fault modes (-m) for every 200 answer: busy (503 with Retry-After:
 * 120 instead), badjson (not JSON), closemid
 * (Content-Length 400, 50 bytes, close), huge (50 MB until close),
 * hugecl (Content-Length 50 MB), hugechunked (50 MB chunked), slow (the
 * status line one byte a second).  With -M file, the mode of each
 * request is the file's first line if the file exists (none if not).
 * A mode may take numbers after its name.  More faults: r429 N (429
 * with Retry-After: N seconds, default 5; a sync's events are not
 * taken), r429date N (the same as an HTTP date N seconds ahead), reset
 * (the whole Content-Length announced, half the body sent, then a TCP
 * reset), endless (a Content-Length, then a body byte a second until
 * the client leaves), down (every connection reset right after accept,
 * before TLS, logged with its time; a request on a connection opened
 * before is reset unanswered too).  Modes of the sync answer:
 * retryafter N (every new event left open, neither taken nor acked,
 * retryAfterSeconds N), reject [N] (the first N events of the batch, all
 * without N, rejected with code fleetpeer_reject and not taken), limits
 * B E (maxBatchBytes B and maxBatchEvents E instead of -B and -E).  Mode
 * resnapshot is no fault: check-in answers set fullResnapshotRequested;
 * close is none either: every answer is sent with Connection: close and
 * the connection closed, so each request makes a new handshake;
 * configupdate sets configUpdateAvailable in check-in and sync answers.
 *
 * -p port listens on that port, so a test can stop the peer and start it
 * again where the daemon looks for it; the devices it enrolled are kept
 * in dir/devices for that.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <tls.h>

#include "base64.h"
#include "compat.h"
#include "jsonr.h"
#include "jsonw.h"
#include "pb.h"
#include "proto.h"
#include "sha256.h"
#include "vocab.h"

#define MAX_HEAD	65536
#define MAX_BODY	(8 * 1024 * 1024)
#define MAX_TOKENS	64
#define MAX_DEVICES	64
#define HUGE_BYTES	(50 * 1024 * 1024)

struct token {
	char	*value;
	time_t	 expiry;
	int	 used;
};

struct device {
	char	id[64];
	char	spki[65];
};

static struct token	tokens[MAX_TOKENS];
static int		ntokens;
static struct device	devices[MAX_DEVICES];
static int		ndevices;
static EVP_PKEY		*ca_key;
static X509		*ca_cert;
static const char	*mode = "";
static const char	*mode_file;
static char		 mode_buf[64];
static const char	*sensor_token;
static int		der_certs;
static unsigned int	conn_no;
static const char	*config_dir;		/* -C */
static int		 conn_fd = -1;
static int		 conn_reset;		/* RST: no close_notify */

static void	say(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Monotonic milliseconds, so tests can measure the daemon's intervals. */
static long long
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static long long
mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/*
 * The generation the peer serves: -C dir's generation file (first
 * line), else "generation-1".  1 when the bundle dir/config.json exists
 * too (read into *bundle), 0 when there is nothing to send.
 */
static int
load_generation(char *gen, size_t genlen, char **bundle, size_t *blen)
{
	char	 path[1024];
	FILE	*f;
	long	 sz;

	strlcpy(gen, "generation-1", genlen);
	if (bundle != NULL) {
		*bundle = NULL;
		*blen = 0;
	}
	if (config_dir == NULL)
		return (0);
	snprintf(path, sizeof(path), "%s/generation", config_dir);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	if (fgets(gen, (int)genlen, f) == NULL)
		gen[0] = '\0';
	fclose(f);
	gen[strcspn(gen, "\r\n")] = '\0';
	if (bundle == NULL)
		return (0);
	snprintf(path, sizeof(path), "%s/config.json", config_dir);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	if (fseek(f, 0, SEEK_END) == -1 || (sz = ftell(f)) < 0 ||
	    sz > PROTO_CONFIG_MAX || fseek(f, 0, SEEK_SET) == -1)
		errx(1, "%s: unreadable or too large", path);
	if ((*bundle = malloc((size_t)sz + 1)) == NULL)
		err(1, NULL);
	if (fread(*bundle, 1, (size_t)sz, f) != (size_t)sz)
		errx(1, "%s: short read", path);
	fclose(f);
	*blen = (size_t)sz;
	return (1);
}

static void
load_tokens(const char *path)
{
	FILE		*f;
	char		 line[8192], *sp;
	long long	 e;

	if ((f = fopen(path, "r")) == NULL)
		return;
	while (ntokens < MAX_TOKENS && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		e = strtoll(sp + 1, NULL, 10);
		if ((tokens[ntokens].value = strdup(line)) == NULL)
			err(1, NULL);
		tokens[ntokens].expiry = (time_t)e;
		ntokens++;
	}
	fclose(f);
}

/*
 * dir/devices: one "device spki" line per enrollment, so a peer started
 * again (-p, the same port) still knows the devices it enrolled.
 */
static char	devices_path[1024];

static void
load_devices(const char *dir)
{
	FILE	*f;
	char	 id[64], spki[65];

	snprintf(devices_path, sizeof(devices_path), "%s/devices", dir);
	if ((f = fopen(devices_path, "r")) == NULL)
		return;
	while (ndevices < MAX_DEVICES &&
	    fscanf(f, "%63s %64s", id, spki) == 2) {
		strlcpy(devices[ndevices].id, id, sizeof(devices[0].id));
		strlcpy(devices[ndevices].spki, spki,
		    sizeof(devices[0].spki));
		ndevices++;
	}
	fclose(f);
}

static void
save_device(const struct device *d)
{
	FILE	*f;

	if ((f = fopen(devices_path, "a")) == NULL ||
	    fprintf(f, "%s %s\n", d->id, d->spki) < 0 || fclose(f) == EOF)
		err(1, "%s", devices_path);
}

static void
load_ca(const char *dir)
{
	char	 path[1024];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if ((f = fopen(path, "r")) == NULL ||
	    (ca_cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		errx(1, "%s: no certificate", path);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	if ((f = fopen(path, "r")) == NULL ||
	    (ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		errx(1, "%s: no key", path);
	fclose(f);
}

/* Blocking I/O on a libtls context; without AUTO_RETRY, loop. */
static ssize_t
peer_read(struct tls *t, void *buf, size_t len)
{
	ssize_t	n;

	do {
		n = tls_read(t, buf, len);
	} while (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT);
	return (n);
}

static int
peer_write(struct tls *t, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = tls_write(t, p, len);
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* The mode's first word is name ("r429 3" is mode r429). */
static int
mode_is(const char *name)
{
	size_t	n = strlen(name);

	return (strncmp(mode, name, n) == 0 &&
	    (mode[n] == '\0' || mode[n] == ' '));
}

/* The mode's numeric argument i (1: the first after the name), or def. */
static long long
mode_arg(int i, long long def)
{
	const char	*p = mode;
	char		*end;
	long long	 v;

	while (i-- > 0) {
		if ((p = strchr(p, ' ')) == NULL)
			return (def);
		p += strspn(p, " ");
	}
	v = strtoll(p, &end, 10);
	return (end == p ? def : v);
}

static int
respond(struct tls *t, int status, const char *body)
{
	char	head[256];
	size_t	len = strlen(body);

	snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\n\r\n", status,
	    status == 200 ? "OK" : status == 400 ? "Bad Request" :
	    status == 401 ? "Unauthorized" : status == 403 ? "Forbidden" :
	    "Not Found", len);
	if (peer_write(t, head, strlen(head)) == -1 ||
	    peer_write(t, body, len) == -1)
		return (-1);
	return (0);
}

/* Abort the connection: RST instead of FIN, no TLS close_notify. */
static void
reset_conn(void)
{
	struct linger	l = { 1, 0 };

	setsockopt(conn_fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	conn_reset = 1;
}

/* The 200 answer, or the fault the mode asks for.  -1: close. */
static int
respond_ok(struct tls *t, const char *body)
{
	static char	 block[65536];
	const char	*head;
	char		 line[64], hbuf[256], date[64];
	size_t		 sent;
	struct tm	 tm;
	time_t		 now;
	int		 i;

	memset(block, 'a', sizeof(block));
	if (mode_is("r429date")) {
		now = time(NULL) + (time_t)mode_arg(1, 5);
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		snprintf(hbuf, sizeof(hbuf), "HTTP/1.1 429 Too Many Requests"
		    "\r\nRetry-After: %s\r\nContent-Length: 2\r\n\r\n{}",
		    date);
		say("fault r429date sent retry-after=%s", date);
		return (peer_write(t, hbuf, strlen(hbuf)));
	}
	if (mode_is("reset")) {
		/* The whole length announced, half the body, then RST. */
		snprintf(hbuf, sizeof(hbuf), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/json\r\nContent-Length: "
		    "%zu\r\n\r\n", strlen(body));
		(void)peer_write(t, hbuf, strlen(hbuf));
		(void)peer_write(t, body, strlen(body) / 2);
		reset_conn();
		say("fault reset sent after %zu of %zu bytes", strlen(body) / 2,
		    strlen(body));
		return (-1);
	}
	if (mode_is("endless")) {
		/* A length, then a byte a second until the client leaves. */
		snprintf(hbuf, sizeof(hbuf), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/json\r\nContent-Length: "
		    "%zu\r\n\r\n", strlen(body) + 100000);
		(void)peer_write(t, hbuf, strlen(hbuf));
		for (i = 0; i < 600; i++) {
			if (peer_write(t, (size_t)i < strlen(body) ? body + i :
			    " ", 1) == -1)
				break;
			sleep(1);
		}
		say("fault endless ended after %d body bytes", i);
		return (-1);
	}
	if (mode_is("r429")) {
		snprintf(hbuf, sizeof(hbuf), "HTTP/1.1 429 Too Many Requests"
		    "\r\nRetry-After: %lld\r\nContent-Length: 2\r\n\r\n{}",
		    mode_arg(1, 5));
		say("fault r429 sent retry-after=%lld", mode_arg(1, 5));
		return (peer_write(t, hbuf, strlen(hbuf)));
	}
	if (strcmp(mode, "close") == 0) {
		/* A good answer, then the connection ends: a new handshake. */
		snprintf(hbuf, sizeof(hbuf), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/json\r\nConnection: close\r\n"
		    "Content-Length: %zu\r\n\r\n", strlen(body));
		if (peer_write(t, hbuf, strlen(hbuf)) == 0)
			(void)peer_write(t, body, strlen(body));
		return (-1);
	}
	if (strcmp(mode, "busy") == 0) {
		head = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120"
		    "\r\nContent-Length: 2\r\n\r\n{}";
		say("fault busy sent");
		return (peer_write(t, head, strlen(head)));
	}
	if (strcmp(mode, "badjson") == 0)
		return (respond(t, 200, "{\"tenantId\": \"t\", oops"));
	if (strcmp(mode, "closemid") == 0) {
		head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: 400\r\n\r\n";
		(void)peer_write(t, head, strlen(head));
		(void)peer_write(t, body, strlen(body) > 50 ? 50 :
		    strlen(body));
		say("fault closemid sent");
		return (-1);
	}
	if (strcmp(mode, "slow") == 0) {
		/* A byte a second, for longer than any client should wait. */
		head = "HTTP/1.1 200 OK\r\nX-Slow: ";
		for (i = 0; i < 90; i++) {
			if (peer_write(t, (size_t)i < strlen(head) ? head + i :
			    "a", 1) == -1)
				break;
			sleep(1);
		}
		say("fault slow ended after %d bytes", i);
		return (-1);
	}
	if (strncmp(mode, "huge", 4) == 0) {
		if (strcmp(mode, "hugecl") == 0)
			head = "HTTP/1.1 200 OK\r\n"
			    "Content-Length: 52428800\r\n\r\n";
		else if (strcmp(mode, "hugechunked") == 0)
			head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
			    "\r\n\r\n";
		else
			head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
		if (peer_write(t, head, strlen(head)) == -1)
			return (-1);
		for (sent = 0; sent < HUGE_BYTES; sent += sizeof(block)) {
			if (strcmp(mode, "hugechunked") == 0) {
				snprintf(line, sizeof(line), "%zx\r\n",
				    sizeof(block));
				if (peer_write(t, line, strlen(line)) == -1)
					break;
			}
			if (peer_write(t, block, sizeof(block)) == -1)
				break;
			if (strcmp(mode, "hugechunked") == 0 &&
			    peer_write(t, "\r\n", 2) == -1)
				break;
		}
		say("fault %s: %zu bytes sent before the client left", mode,
		    sent);
		return (-1);
	}
	return (respond(t, 200, body));
}

static int
get_str(struct jsonr *jr, const char *key, char *buf, size_t len)
{
	int	t;

	if ((t = jsonr_get(jr, 0, key)) == -1 ||
	    jsonr_string(jr, t, buf, len, NULL) == -1)
		return (-1);
	return (0);
}

static void
spki_hex(EVP_PKEY *pk, char hex[65])
{
	uint8_t	*der = NULL;
	int	 n;

	hex[0] = '\0';
	if ((n = i2d_PUBKEY(pk, &der)) > 0)
		(void)sha256_hex(der, (size_t)n, hex);
	OPENSSL_free(der);
}

/* The publicKey field: base64 of exactly the 4.1 PEM of a P-256 key. */
static EVP_PKEY *
check_public_key(const char *b64, char *why, size_t whylen)
{
	uint8_t		 pem[1024], *der = NULL, point[PROTO_POINT_LEN];
	char		 want[PROTO_SPKI_PEM_LEN + 1];
	long long	 n;
	EVP_PKEY	*pk = NULL;
	BIO		*b;
	int		 dl;

	if ((n = b64_decode(b64, strlen(b64), pem, sizeof(pem) - 1)) <= 0) {
		snprintf(why, whylen, "publicKey is not canonical base64");
		return (NULL);
	}
	pem[n] = '\0';
	if ((b = BIO_new_mem_buf(pem, (int)n)) != NULL)
		pk = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	if (pk == NULL || (dl = i2d_PUBKEY(pk, &der)) != PROTO_SPKI_LEN) {
		snprintf(why, whylen, "publicKey is not a P-256 SPKI PEM");
		OPENSSL_free(der);
		EVP_PKEY_free(pk);
		return (NULL);
	}
	memcpy(point, der + PROTO_SPKI_LEN - PROTO_POINT_LEN, sizeof(point));
	OPENSSL_free(der);
	if (proto_spki_pem(point, want) == -1 || (size_t)n != strlen(want) ||
	    memcmp(want, pem, (size_t)n) != 0) {
		snprintf(why, whylen, "publicKey PEM is not in the form of "
		    "PROTOCOL.md 4.1");
		EVP_PKEY_free(pk);
		return (NULL);
	}
	return (pk);
}

static void
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;

	X509V3_set_ctx(&v3, ca_cert, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		errx(1, "extension %s", value);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

static X509 *
issue(EVP_PKEY *pk, const char *tenant, const char *device)
{
	X509		*x = X509_new();
	BIGNUM		*bn = BN_new();
	X509_NAME	*n;

	BN_rand(bn, 120, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -300);
	X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)tenant, -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)device, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(ca_cert));
	add_ext(x, NID_basic_constraints, "critical,CA:FALSE");
	add_ext(x, NID_key_usage, "critical,digitalSignature");
	add_ext(x, NID_ext_key_usage, "clientAuth");
	if (X509_sign(x, ca_key, EVP_sha256()) <= 0)
		errx(1, "cannot sign");
	return (x);
}

static int
enroll(struct tls *t, const char *body, size_t len)
{
	struct jsonr	 jr;
	struct jsonw	 w;
	struct token	*tok = NULL;
	EVP_PKEY	*pk;
	X509		*x;
	BIO		*b;
	char		 token[8192], pub[4096], s[256], why[128], spki[65];
	char		 device[64], expires[32], *certb64, *raw;
	const char	*keys[] = { "hostname", "osVersion", "hardwareModel",
			    "sensorVersion" };
	struct tm	 tm;
	long		 rl;
	size_t		 i;
	int		 ret;

	if (jsonr_parse(&jr, body, len, 64) == -1 ||
	    get_str(&jr, "token", token, sizeof(token)) == -1 ||
	    get_str(&jr, "publicKey", pub, sizeof(pub)) == -1) {
		jsonr_free(&jr);
		say("enroll refused: malformed request");
		return (respond(t, 400, "{\"error\":\"malformed request\"}"));
	}
	for (i = 0; i < nitems(keys); i++)
		if (get_str(&jr, keys[i], s, sizeof(s)) == -1) {
			jsonr_free(&jr);
			say("enroll refused: %s missing", keys[i]);
			return (respond(t, 400, "{\"error\":\"missing key\"}"));
		}
	jsonr_free(&jr);
	for (i = 0; i < (size_t)ntokens; i++)
		if (strcmp(tokens[i].value, token) == 0)
			tok = &tokens[i];
	explicit_bzero(token, sizeof(token));
	if (tok == NULL || tok->used || tok->expiry <= time(NULL)) {
		say("enroll refused: %s token", tok == NULL ? "unknown" :
		    tok->used ? "reused" : "expired");
		return (respond(t, 401, "{\"error\":\"invalid token\"}"));
	}
	if ((pk = check_public_key(pub, why, sizeof(why))) == NULL) {
		say("enroll refused: %s", why);
		return (respond(t, 400, "{\"error\":\"bad public key\"}"));
	}
	if (ndevices == MAX_DEVICES)
		errx(1, "too many devices");
	tok->used = 1;
	snprintf(device, sizeof(device), "device-%d", ndevices + 1);
	x = issue(pk, "tenant-test", device);
	spki_hex(pk, spki);
	strlcpy(devices[ndevices].id, device, sizeof(devices[ndevices].id));
	strlcpy(devices[ndevices].spki, spki, sizeof(devices[ndevices].spki));
	save_device(&devices[ndevices]);
	ndevices++;

	b = BIO_new(BIO_s_mem());
	if (der_certs)
		i2d_X509_bio(b, x);
	else
		PEM_write_bio_X509(b, x);
	rl = BIO_get_mem_data(b, &raw);
	if ((certb64 = malloc(b64_enclen((size_t)rl) + 1)) == NULL)
		err(1, NULL);
	b64_encode((uint8_t *)raw, (size_t)rl, certb64,
	    b64_enclen((size_t)rl) + 1);
	ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm);
	strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	jsonw_object_begin(&w);
	jsonw_key(&w, "tenantId");
	jsonw_string(&w, "tenant-test");
	jsonw_key(&w, "deviceId");
	jsonw_string(&w, device);
	jsonw_key(&w, "clientCertificate");
	jsonw_string(&w, certb64);
	jsonw_key(&w, "certificateExpiresAt");
	jsonw_string(&w, expires);
	jsonw_object_end(&w);
	say("enrolled tenant=tenant-test device=%s spki=%s", device, spki);
	ret = respond_ok(t, jsonw_result(&w, NULL));
	jsonw_free(&w);
	free(certb64);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(pk);
	return (ret);
}

static void
name_entry(X509_NAME *n, int nid, char *buf, size_t len)
{
	buf[0] = '\0';
	if (X509_NAME_get_text_by_NID(n, nid, buf, (int)len) < 0)
		buf[0] = '\0';
}

static int	only_keys(struct jsonr *, int, const char *const *, size_t);
static int	member_str(struct jsonr *, int, const char *, char *, size_t);

/* PROTOCOL.md 6.1: health holds exactly the two backlog counters. */
static int
check_health(struct jsonr *jr)
{
	uint64_t	u;
	int		h, t;

	if ((h = jsonr_get(jr, 0, "health")) == -1 ||
	    jsonr_type(jr, h) != JSONR_OBJECT || jsonr_size(jr, h) != 2 ||
	    (t = jsonr_get(jr, h, "syncBacklogEvents")) == -1 ||
	    jsonr_uint64(jr, t, UINT64_MAX, &u) == -1 ||
	    (t = jsonr_get(jr, h, "syncBacklogBytes")) == -1 ||
	    jsonr_uint64(jr, t, UINT64_MAX, &u) == -1)
		return (-1);
	return (0);
}

static int
checkin(struct tls *t, const char *body, size_t len, int has_token,
    const char *token_value)
{
	struct jsonr	 jr;
	const uint8_t	*pem;
	size_t		 pemlen;
	BIO		*b;
	X509		*x = NULL;
	EVP_PKEY	*pk;
	char		 tenant[256], device[256], cn[256], o[256], spki[65];
	static const char *const keys[] = { "tenantId", "deviceId",
	    "sensorVersion", "osVersion", "activeConfigGeneration",
	    "health" };
	char		 now[32], gen[256], s[256];
	const char	*out;
	struct jsonw	 w;
	struct tm	 tm;
	time_t		 tt = time(NULL);
	int		 i, known = 0, ret;

	/* PROTOCOL.md 6.2: exactly these keys, five strings and health. */
	if (jsonr_parse(&jr, body, len, 64) == -1 ||
	    only_keys(&jr, 0, keys, nitems(keys)) == -1 ||
	    member_str(&jr, 0, "tenantId", tenant, sizeof(tenant)) == -1 ||
	    member_str(&jr, 0, "deviceId", device, sizeof(device)) == -1 ||
	    member_str(&jr, 0, "sensorVersion", s, sizeof(s)) == -1 ||
	    s[0] == '\0' ||
	    member_str(&jr, 0, "osVersion", s, sizeof(s)) == -1 ||
	    member_str(&jr, 0, "activeConfigGeneration", s, sizeof(s)) == -1 ||
	    check_health(&jr) == -1) {
		jsonr_free(&jr);
		say("check-in refused: malformed request");
		return (respond(t, 400, "{\"error\":\"malformed request\"}"));
	}
	jsonr_free(&jr);
	if (tls_peer_cert_provided(t)) {
		/* libtls verified the chain against ca.pem already. */
		pem = tls_peer_cert_chain_pem(t, &pemlen);
		if (pem != NULL && (b = BIO_new_mem_buf(pem,
		    (int)pemlen)) != NULL) {
			x = PEM_read_bio_X509(b, NULL, NULL, NULL);
			BIO_free(b);
		}
		if (x == NULL)
			return (respond(t, 403, "{\"error\":\"certificate\"}"));
		name_entry(X509_get_subject_name(x), NID_commonName, cn,
		    sizeof(cn));
		name_entry(X509_get_subject_name(x), NID_organizationName, o,
		    sizeof(o));
		pk = X509_get_pubkey(x);
		spki_hex(pk, spki);
		EVP_PKEY_free(pk);
		X509_free(x);
		for (i = 0; i < ndevices; i++)
			if (strcmp(devices[i].id, cn) == 0 &&
			    strcmp(devices[i].spki, spki) == 0)
				known = 1;
		if (!known || strcmp(cn, device) != 0 ||
		    strcmp(o, tenant) != 0) {
			say("check-in refused: certificate for %s does not "
			    "match", cn);
			return (respond(t, 403, "{\"error\":\"identity\"}"));
		}
		say("check-in ok device=%s spki=%s auth=certificate "
		    "token-header=%s tls=%s conn=%u", device, spki,
		    has_token ? "present" : "absent", tls_conn_version(t),
		    conn_no);
	} else if (sensor_token != NULL && has_token &&
	    strcmp(token_value, sensor_token) == 0) {
		say("check-in ok device=%s auth=sensor-token tls=%s conn=%u",
		    device, tls_conn_version(t), conn_no);
	} else {
		say("check-in refused: no client certificate");
		return (respond(t, 401, "{\"error\":\"unauthenticated\"}"));
	}
	gmtime_r(&tt, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	(void)load_generation(gen, sizeof(gen), NULL, NULL);
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	jsonw_object_begin(&w);
	jsonw_key(&w, "serverTime");
	jsonw_string(&w, now);
	jsonw_key(&w, "configGeneration");
	jsonw_string(&w, gen);
	jsonw_key(&w, "configUpdateAvailable");
	jsonw_bool(&w, mode_is("configupdate"));
	jsonw_key(&w, "certificateRenewalRequired");
	jsonw_bool(&w, 0);
	jsonw_key(&w, "fullResnapshotRequested");
	jsonw_bool(&w, mode_is("resnapshot"));
	jsonw_object_end(&w);
	if ((out = jsonw_result(&w, NULL)) == NULL)
		errx(1, "jsonw");
	ret = respond_ok(t, out);
	jsonw_free(&w);
	return (ret);
}

/*
 * The client certificate's device and tenant, if the CA issued it for a
 * device the peer enrolled with that key.  0, or -1 (nothing usable).
 */
static int
cert_identity(struct tls *t, char *cn, size_t cnlen, char *o, size_t olen,
    char spki[65])
{
	const uint8_t	*pem;
	size_t		 pemlen;
	BIO		*b;
	X509		*x = NULL;
	EVP_PKEY	*pk;
	int		 i;

	if (!tls_peer_cert_provided(t))
		return (-1);
	pem = tls_peer_cert_chain_pem(t, &pemlen);
	if (pem != NULL && (b = BIO_new_mem_buf(pem, (int)pemlen)) != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (x == NULL)
		return (-1);
	name_entry(X509_get_subject_name(x), NID_commonName, cn, cnlen);
	name_entry(X509_get_subject_name(x), NID_organizationName, o, olen);
	pk = X509_get_pubkey(x);
	spki_hex(pk, spki);
	EVP_PKEY_free(pk);
	X509_free(x);
	for (i = 0; i < ndevices; i++)
		if (strcmp(devices[i].id, cn) == 0 &&
		    strcmp(devices[i].spki, spki) == 0)
			return (0);
	return (-1);
}

/* What the peer holds: every event once, by event id. */
struct held {
	char		 event_id[40];
	char		 device[64];
	int64_t		 seq;
	char		 hash[65];
	char		 surface[32];
	char		 kind[16];
	size_t		 size;		/* payload bytes */
	struct pb_payload p;
};

static long long	 server_max_bytes = 524288;	/* -B */
static long long	 server_max_events = 500;	/* -E */

static struct held	*held;
static size_t		 nheld, held_cap;
static const char	*dump_path;

/*
 * held[] indexed by event id and by (device, sequence): open addressing,
 * entries are index + 1 (0 empty), the size a power of two above twice
 * the count, so a benchmark's tens of thousands of events stay cheap.
 */
#define FNV_BASIS	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

static size_t		*by_id, *by_seq;
static size_t		 idx_cap;

static uint64_t
hash_str(uint64_t h, const char *s)
{
	while (*s != '\0')
		h = (h ^ (uint8_t)*s++) * FNV_PRIME;
	return (h);
}

static uint64_t
hash_seq(const char *device, int64_t seq)
{
	return ((hash_str(FNV_BASIS, device) ^ (uint64_t)seq) * FNV_PRIME);
}

static void
index_put(size_t i)
{
	size_t	m = idx_cap - 1, j;

	for (j = hash_str(FNV_BASIS, held[i].event_id) & m; by_id[j] != 0;
	    j = (j + 1) & m)
		;
	by_id[j] = i + 1;
	for (j = hash_seq(held[i].device, held[i].seq) & m; by_seq[j] != 0;
	    j = (j + 1) & m)
		;
	by_seq[j] = i + 1;
}

static void
index_rebuild(void)
{
	size_t	i;

	while (idx_cap < 2 * (nheld + 1))
		idx_cap = idx_cap ? idx_cap * 2 : 1024;
	free(by_id);
	free(by_seq);
	if ((by_id = calloc(idx_cap, sizeof(*by_id))) == NULL ||
	    (by_seq = calloc(idx_cap, sizeof(*by_seq))) == NULL)
		err(1, NULL);
	for (i = 0; i < nheld; i++)
		index_put(i);
}

static struct held *
held_find(const char *event_id)
{
	size_t	m = idx_cap - 1, j;

	if (idx_cap == 0)
		return (NULL);
	for (j = hash_str(FNV_BASIS, event_id) & m; by_id[j] != 0;
	    j = (j + 1) & m)
		if (strcmp(held[by_id[j] - 1].event_id, event_id) == 0)
			return (&held[by_id[j] - 1]);
	return (NULL);
}

static int
held_has_seq(const char *device, int64_t seq)
{
	size_t	m = idx_cap - 1, j;

	if (idx_cap == 0)
		return (0);
	for (j = hash_seq(device, seq) & m; by_seq[j] != 0; j = (j + 1) & m)
		if (held[by_seq[j] - 1].seq == seq &&
		    strcmp(held[by_seq[j] - 1].device, device) == 0)
			return (1);
	return (0);
}

static void
held_add(const struct held *h)
{
	if (nheld == held_cap) {
		held_cap = held_cap ? held_cap * 2 : 256;
		if ((held = reallocarray(held, held_cap,
		    sizeof(*held))) == NULL)
			err(1, NULL);
	}
	held[nheld++] = *h;
	if (2 * (nheld + 1) > idx_cap)
		index_rebuild();
	else
		index_put(nheld - 1);
}

static const char *
nn(const char *s)
{
	return (s != NULL ? s : "");
}

/*
 * One line per held event in sequence order, tab-separated:
 *	item	seq	eventId	surface	kind	itemId	name	version
 *	finding	seq	eventId	surface	kind	itemId	ruleId	severity
 * written to a temporary file and renamed, so a reader never sees half.
 */
static int
held_cmp(const void *a, const void *b)
{
	const struct held	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->device, y->device)) != 0)
		return (c);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static void
dump_held(void)
{
	char	 tmp[1100];
	FILE	*f;
	size_t	 i;

	if (dump_path == NULL)
		return;
	qsort(held, nheld, sizeof(*held), held_cmp);
	index_rebuild();
	snprintf(tmp, sizeof(tmp), "%s.tmp", dump_path);
	if ((f = fopen(tmp, "w")) == NULL)
		err(1, "%s", tmp);
	for (i = 0; i < nheld; i++) {
		if (held[i].p.has_item)
			fprintf(f, "item\t%lld\t%s\t%s\t%s\t%s\t%s\t%s\n",
			    (long long)held[i].seq, held[i].event_id,
			    held[i].surface, held[i].kind,
			    nn(held[i].p.item.item_id),
			    nn(held[i].p.item.name),
			    nn(held[i].p.item.version));
		else
			fprintf(f, "finding\t%lld\t%s\t%s\t%s\t%s\t%s\t%s\n",
			    (long long)held[i].seq, held[i].event_id,
			    held[i].surface, held[i].kind,
			    nn(held[i].p.finding.item_id),
			    nn(held[i].p.finding.rule_id),
			    nn(held[i].p.finding.severity));
	}
	if (fclose(f) == EOF || rename(tmp, dump_path) == -1)
		err(1, "%s", dump_path);
}

static int
is_uuid_upper(const char *s)
{
	size_t	i;

	if (strlen(s) != 36)
		return (0);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (0);
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return (0);
	}
	return (1);
}

/* YYYY-MM-DDTHH:MM:SS.mmmZ, PROTOCOL.md 3.1. */
static int
is_agent_time(const char *s)
{
	static const char	pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t			i;

	if (strlen(s) != sizeof(pat) - 1)
		return (0);
	for (i = 0; i < sizeof(pat) - 1; i++)
		if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') :
		    s[i] != pat[i])
			return (0);
	return (1);
}

static int
is_hex64(const char *s)
{
	size_t	i;

	if (strlen(s) != 64)
		return (0);
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (1);
}

static int
member_str(struct jsonr *jr, int obj, const char *key, char *buf,
    size_t len)
{
	int	t;

	if ((t = jsonr_get(jr, obj, key)) == -1 ||
	    jsonr_type(jr, t) != JSONR_STRING ||
	    jsonr_string(jr, t, buf, len, NULL) == -1)
		return (-1);
	return (0);
}

/* Exactly these keys in object obj, no other. */
static int
only_keys(struct jsonr *jr, int obj, const char *const *keys, size_t n)
{
	size_t	i, found = 0;

	for (i = 0; i < n; i++)
		if (jsonr_get(jr, obj, keys[i]) != -1)
			found++;
	return (found == n && jsonr_size(jr, obj) == (int)n ? 0 : -1);
}

/*
 * POST .../config (PROTOCOL.md 5.2): the check-in's authentication, a
 * body of exactly tenantId, deviceId and currentGeneration, strings.
 * Unchanged (no configJson) when the client has the generation already
 * or -C holds no bundle; else the bundle as base64, signature null.
 */
static int
config_route(struct tls *t, const char *body, size_t len, int has_token,
    const char *token_value)
{
	static const char *const keys[] = { "tenantId", "deviceId",
	    "currentGeneration" };
	struct jsonr	 jr;
	struct jsonw	 w;
	char		 tenant[256], device[256], cur[256], cn[256], o[256];
	char		 spki[65], gen[256], *bundle = NULL, *b64 = NULL;
	const char	*out, *why = NULL;
	size_t		 blen = 0, sent = 0;
	int		 ret, have;

	if (jsonr_parse(&jr, body, len, 64) == -1)
		why = "invalid JSON";
	else if (only_keys(&jr, 0, keys, nitems(keys)) == -1)
		why = "keys";
	else if (member_str(&jr, 0, "tenantId", tenant, sizeof(tenant)) ||
	    member_str(&jr, 0, "deviceId", device, sizeof(device)) ||
	    member_str(&jr, 0, "currentGeneration", cur, sizeof(cur)))
		why = "a key is not a string";
	jsonr_free(&jr);
	if (why != NULL) {
		say("config refused: malformed request: %s", why);
		return (respond(t, 400, "{\"error\":\"malformed request\"}"));
	}
	if (tls_peer_cert_provided(t)) {
		if (cert_identity(t, cn, sizeof(cn), o, sizeof(o),
		    spki) == -1 || strcmp(cn, device) != 0 ||
		    strcmp(o, tenant) != 0) {
			say("config refused: certificate for %s does not "
			    "match", cn);
			return (respond(t, 403, "{\"error\":\"identity\"}"));
		}
	} else if (sensor_token == NULL || !has_token ||
	    strcmp(token_value, sensor_token) != 0) {
		say("config refused: no client certificate");
		return (respond(t, 401, "{\"error\":\"unauthenticated\"}"));
	}
	have = load_generation(gen, sizeof(gen), &bundle, &blen);
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	jsonw_object_begin(&w);
	jsonw_key(&w, "generation");
	jsonw_string(&w, gen);
	if (have && strcmp(cur, gen) != 0) {
		if ((b64 = malloc(b64_enclen(blen) + 1)) == NULL)
			err(1, NULL);
		if (b64_encode((uint8_t *)bundle, blen, b64,
		    b64_enclen(blen) + 1) == -1)
			errx(1, "base64");
		jsonw_key(&w, "configJson");
		jsonw_string(&w, b64);
		jsonw_key(&w, "signature");
		jsonw_null(&w);
		sent = blen;
	}
	jsonw_object_end(&w);
	if ((out = jsonw_result(&w, NULL)) == NULL)
		errx(1, "jsonw");
	say("config ok device=%s current=%s generation=%s sent=%zu bytes "
	    "conn=%u", device, cur, gen, sent, conn_no);
	ret = respond_ok(t, out);
	jsonw_free(&w);
	free(b64);
	free(bundle);
	return (ret);
}

/*
 * One SyncEventRequest, checked against PROTOCOL.md 6.5 and 7.  0 with
 * ev filled (its payload decoded), or -1 with the reason in why.
 */
static int
check_event(struct jsonr *jr, int e, const char *device, struct held *ev,
    char *why, size_t whylen)
{
	static const char *const keys[] = { "eventId", "deviceId",
	    "localSequence", "surface", "kind", "observedAt", "collectedAt",
	    "payloadHash", "payload" };
	char		 dev[256], t1[64], t2[64], hash[65];
	char		*b64 = NULL, perr[128];
	uint8_t		*raw = NULL;
	size_t		 len;
	long long	 n;
	int		 t, ret = -1;

	memset(ev, 0, sizeof(*ev));
	if (jsonr_type(jr, e) != JSONR_OBJECT ||
	    only_keys(jr, e, keys, sizeof(keys) / sizeof(keys[0])) == -1) {
		snprintf(why, whylen, "event keys");
		return (-1);
	}
	if (member_str(jr, e, "eventId", ev->event_id,
	    sizeof(ev->event_id)) == -1 || !is_uuid_upper(ev->event_id)) {
		snprintf(why, whylen, "eventId");
		return (-1);
	}
	if (member_str(jr, e, "deviceId", dev, sizeof(dev)) == -1 ||
	    strcmp(dev, device) != 0) {
		snprintf(why, whylen, "event deviceId");
		return (-1);
	}
	strlcpy(ev->device, dev, sizeof(ev->device));
	if ((t = jsonr_get(jr, e, "localSequence")) == -1 ||
	    jsonr_int64(jr, t, 1, INT64_MAX, &ev->seq) == -1) {
		snprintf(why, whylen, "localSequence");
		return (-1);
	}
	if (member_str(jr, e, "surface", ev->surface,
	    sizeof(ev->surface)) == -1 ||
	    surface_from_name(ev->surface) == -1) {
		snprintf(why, whylen, "surface");
		return (-1);
	}
	if (member_str(jr, e, "kind", ev->kind, sizeof(ev->kind)) == -1 ||
	    change_kind_from_name(ev->kind) == -1) {
		snprintf(why, whylen, "kind");
		return (-1);
	}
	if (member_str(jr, e, "observedAt", t1, sizeof(t1)) == -1 ||
	    member_str(jr, e, "collectedAt", t2, sizeof(t2)) == -1 ||
	    !is_agent_time(t1) || !is_agent_time(t2)) {
		snprintf(why, whylen, "timestamps");
		return (-1);
	}
	if (member_str(jr, e, "payloadHash", ev->hash,
	    sizeof(ev->hash)) == -1 || !is_hex64(ev->hash)) {
		snprintf(why, whylen, "payloadHash");
		return (-1);
	}
	if ((t = jsonr_get(jr, e, "payload")) == -1 ||
	    jsonr_type(jr, t) != JSONR_STRING ||
	    (b64 = malloc(MAX_BODY)) == NULL ||
	    jsonr_string(jr, t, b64, MAX_BODY, &len) == -1 ||
	    (raw = malloc(b64_declen(len) + 1)) == NULL ||
	    (n = b64_decode(b64, len, raw, b64_declen(len))) <= 0) {
		snprintf(why, whylen, "payload base64");
		goto out;
	}
	ev->size = (size_t)n;
	if (sha256_hex(raw, (size_t)n, hash) == -1 ||
	    strcmp(hash, ev->hash) != 0) {
		snprintf(why, whylen, "payloadHash mismatch");
		goto out;
	}
	if (pb_decode_payload(raw, (size_t)n, &ev->p, perr,
	    sizeof(perr)) == -1) {
		snprintf(why, whylen, "payload: %s", perr);
		goto out;
	}
	if (!ev->p.canonical) {
		snprintf(why, whylen, "payload not canonical");
		goto out_pb;
	}
	if (ev->p.has_finding ? strcmp(ev->kind, "modified") != 0 ||
	    strcmp(nn(ev->p.finding.surface), ev->surface) != 0 :
	    strcmp(nn(ev->p.item.surface), ev->surface) != 0) {
		snprintf(why, whylen, "payload disagrees with the event");
		goto out_pb;
	}
	ret = 0;
	goto out;
 out_pb:
	pb_payload_free(&ev->p);
 out:
	free(b64);
	free(raw);
	return (ret);
}

static void
put_ack(struct jsonw *w, const struct held *ev, int dup)
{
	jsonw_object_begin(w);
	jsonw_key(w, "eventId");
	jsonw_string(w, ev->event_id);
	jsonw_key(w, "localSequence");
	jsonw_int(w, ev->seq);
	jsonw_key(w, "duplicate");
	jsonw_bool(w, dup);
	jsonw_object_end(w);
}

static size_t
maxsize(const struct held *b, int n)
{
	size_t	m = 0;
	int	i;

	for (i = 0; i < n; i++)
		if (b[i].size > m)
			m = b[i].size;
	return (m);
}

static int
sync_route(struct tls *t, const char *body, size_t len)
{
	static const char *const keys[] = { "tenantId", "deviceId",
	    "sensorVersion", "schemaVersion", "lastAckedLocalSequence",
	    "events", "health" };
	struct jsonr	 jr;
	struct jsonw	 w;
	struct held	*h;
	char		 tenant[256], device[256], ver[256], cn[256], o[256];
	char		 spki[65], why[160], now[32], gen[256];
	const char	*out;
	int64_t		 v, through = 0, last_acked;
	uint64_t	 u;
	int		 a = -1, e, i, n = 0, hobj, ret, nnew = 0, ndup = 0;
	int		 nrej = 0;
	int		 tk;
	struct tm	 tm;
	time_t		 tt = time(NULL);
	struct held	*batch = NULL;
	int		*status = NULL;	/* 0 new, 1 dup, 2 rejected, 3 open */
	long long	 k, retry_after = 0;
	int		 nopen = 0;
	size_t		 bytes = 0;

	if (cert_identity(t, cn, sizeof(cn), o, sizeof(o), spki) == -1) {
		say("sync refused: no known client certificate");
		return (respond(t, 401, "{\"error\":\"unauthenticated\"}"));
	}
	if (jsonr_parse(&jr, body, len, 200000) == -1) {
		say("sync refused: invalid JSON: %s", jr.err);
		jsonr_free(&jr);
		return (respond(t, 400, "{\"error\":\"json\"}"));
	}
	why[0] = '\0';
	if (only_keys(&jr, 0, keys, sizeof(keys) / sizeof(keys[0])) == -1)
		snprintf(why, sizeof(why), "top-level keys");
	else if (member_str(&jr, 0, "tenantId", tenant, sizeof(tenant)) ||
	    strcmp(tenant, o) != 0)
		snprintf(why, sizeof(why), "tenantId");
	else if (member_str(&jr, 0, "deviceId", device, sizeof(device)) ||
	    strcmp(device, cn) != 0)
		snprintf(why, sizeof(why), "deviceId is not the certificate's");
	else if (member_str(&jr, 0, "sensorVersion", ver, sizeof(ver)) ||
	    ver[0] == '\0')
		snprintf(why, sizeof(why), "sensorVersion");
	else if ((tk = jsonr_get(&jr, 0, "schemaVersion")) == -1 ||
	    jsonr_int64(&jr, tk, 1, 1, &v) == -1)
		snprintf(why, sizeof(why), "schemaVersion");
	else if ((tk = jsonr_get(&jr, 0, "lastAckedLocalSequence")) == -1 ||
	    jsonr_int64(&jr, tk, 0, INT64_MAX, &last_acked) == -1)
		snprintf(why, sizeof(why), "lastAckedLocalSequence");
	else if ((hobj = jsonr_get(&jr, 0, "health")) == -1 ||
	    jsonr_type(&jr, hobj) != JSONR_OBJECT ||
	    jsonr_size(&jr, hobj) != 2 ||
	    (tk = jsonr_get(&jr, hobj, "syncBacklogEvents")) == -1 ||
	    jsonr_uint64(&jr, tk, UINT64_MAX, &u) == -1 ||
	    (tk = jsonr_get(&jr, hobj, "syncBacklogBytes")) == -1 ||
	    jsonr_uint64(&jr, tk, UINT64_MAX, &u) == -1)
		snprintf(why, sizeof(why), "health");
	else if ((a = jsonr_get(&jr, 0, "events")) == -1 ||
	    jsonr_type(&jr, a) != JSONR_ARRAY ||
	    (n = jsonr_size(&jr, a)) == 0)
		snprintf(why, sizeof(why), "events");
	if (why[0] != '\0') {
		jsonr_free(&jr);
		say("sync refused: %s", why);
		return (respond(t, 400, "{\"error\":\"malformed request\"}"));
	}
	/* Every event is checked before any is taken. */
	if ((batch = calloc((size_t)n, sizeof(*batch))) == NULL ||
	    (status = calloc((size_t)n, sizeof(*status))) == NULL)
		err(1, NULL);
	for (i = 0, e = a + 1; i < n; i++, e = jsonr_skip(&jr, e)) {
		if (check_event(&jr, e, device, &batch[i], why,
		    sizeof(why)) == -1) {
			say("sync event %d rejected: %s", i, why);
			status[i] = 2;
			nrej++;
			/* Keep the sequence to name it in rejectedEvents. */
			tk = jsonr_get(&jr, e, "localSequence");
			if (tk == -1 || jsonr_int64(&jr, tk, 0, INT64_MAX,
			    &batch[i].seq) == -1)
				batch[i].seq = 0;
			continue;
		}
		if ((h = held_find(batch[i].event_id)) != NULL) {
			if (h->seq != batch[i].seq ||
			    strcmp(h->hash, batch[i].hash) != 0)
				say("sync: event %s came back changed",
				    batch[i].event_id);
			status[i] = 1;
			ndup++;
		} else if (held_has_seq(device, batch[i].seq)) {
			say("sync: sequence %lld came with a new event id",
			    (long long)batch[i].seq);
			status[i] = 1;
			ndup++;
		}
	}
	jsonr_free(&jr);
	/*
	 * reject [N]: the first N valid events (all without N) rejected
	 * with a reason; retryafter N: every new event left open, neither
	 * taken nor acked, so the client must come back after N seconds.
	 */
	if (mode_is("reject")) {
		k = mode_arg(1, n);
		for (i = 0; i < n && k > 0; i++)
			if (status[i] != 2) {
				pb_payload_free(&batch[i].p);
				status[i] = 2;
				nrej++;
				k--;
			}
		say("fault reject: %d events rejected", nrej);
	} else if (mode_is("retryafter")) {
		retry_after = mode_arg(1, 5);
		for (i = 0; i < n; i++)
			if (status[i] == 0) {
				pb_payload_free(&batch[i].p);
				status[i] = 3;
				nopen++;
			}
		say("fault retryafter %lld: %d events left open", retry_after,
		    nopen);
	} else if (mode_is("r429") || mode_is("r429date")) {
		/* A server that says "too many" has taken nothing. */
		for (i = 0; i < n; i++)
			if (status[i] == 0) {
				pb_payload_free(&batch[i].p);
				status[i] = 3;
				nopen++;
			}
	}
	for (i = 0; i < n; i++) {
		if (status[i] != 0) {
			if (status[i] == 1)
				pb_payload_free(&batch[i].p);
			continue;
		}
		held_add(&batch[i]);
		nnew++;
	}
	/* Acked through the highest sequence held without a gap. */
	for (v = 1; held_has_seq(device, v); v++)
		through = v;
	dump_held();
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	jsonw_object_begin(&w);
	jsonw_key(&w, "acceptedThroughLocalSequence");
	jsonw_int(&w, through);
	jsonw_key(&w, "acceptedEvents");
	jsonw_array_begin(&w);
	for (i = 0; i < n; i++)
		if (status[i] == 0 || status[i] == 1)
			put_ack(&w, &batch[i], status[i] == 1);
	jsonw_array_end(&w);
	jsonw_key(&w, "rejectedEvents");
	jsonw_array_begin(&w);
	for (i = 0; i < n; i++) {
		if (status[i] != 2)
			continue;
		jsonw_object_begin(&w);
		jsonw_key(&w, "eventId");
		jsonw_string(&w, batch[i].event_id);
		jsonw_key(&w, "localSequence");
		jsonw_int(&w, batch[i].seq);
		jsonw_key(&w, "code");
		jsonw_string(&w, mode_is("reject") ? "fleetpeer_reject" :
		    "invalid_event");
		jsonw_key(&w, "message");
		jsonw_string(&w, mode_is("reject") ? "rejected by fault mode "
		    "reject" : "refused by fleetpeer");
		jsonw_object_end(&w);
	}
	jsonw_array_end(&w);
	gmtime_r(&tt, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jsonw_key(&w, "serverTime");
	jsonw_string(&w, now);
	(void)load_generation(gen, sizeof(gen), NULL, NULL);
	jsonw_key(&w, "configGeneration");
	jsonw_string(&w, gen);
	jsonw_key(&w, "configUpdateAvailable");
	jsonw_bool(&w, mode_is("configupdate"));
	jsonw_key(&w, "fullResnapshotRequested");
	jsonw_bool(&w, 0);
	jsonw_key(&w, "retryAfterSeconds");
	jsonw_int(&w, retry_after);
	/* limits B E: other limits than -B and -E for as long as it lasts. */
	jsonw_key(&w, "maxBatchBytes");
	jsonw_int(&w, mode_is("limits") ? mode_arg(1, server_max_bytes) :
	    server_max_bytes);
	jsonw_key(&w, "maxBatchEvents");
	jsonw_int(&w, mode_is("limits") ? mode_arg(2, server_max_events) :
	    server_max_events);
	jsonw_object_end(&w);
	if ((out = jsonw_result(&w, NULL)) == NULL)
		errx(1, "jsonw");
	for (i = 0; i < n; i++)
		bytes += batch[i].size;
	say("sync ok device=%s events=%d new=%d duplicate=%d rejected=%d "
	    "open=%d through=%lld lastAcked=%lld held=%zu bytes=%zu "
	    "maxsize=%zu seqs=%lld-%lld conn=%u", device, n, nnew, ndup, nrej,
	    nopen, (long long)through, (long long)last_acked, nheld, bytes,
	    maxsize(batch, n), (long long)batch[0].seq,
	    (long long)batch[n - 1].seq, conn_no);
	ret = respond_ok(t, out);
	jsonw_free(&w);
	free(batch);
	free(status);
	return (ret);
}

/*
 * -M file: the fault mode for the next request is the file's first
 * line if it exists, else -m's, so a test can change it while the
 * daemon keeps its connection.
 */
static void
read_mode_file(void)
{
	FILE	*f;
	char	*nl;

	if (mode_file == NULL)
		return;
	if ((f = fopen(mode_file, "r")) == NULL) {
		mode = "";
		return;
	}
	if (fgets(mode_buf, sizeof(mode_buf), f) == NULL)
		mode_buf[0] = '\0';
	fclose(f);
	if ((nl = strchr(mode_buf, '\n')) != NULL)
		*nl = '\0';
	mode = mode_buf;
}

/* One request: 1 served (keep going), 0 the client left, -1 close. */
static int
serve_request(struct tls *t)
{
	static char	 head[MAX_HEAD + 1];
	char		*body = NULL, *end, *p, *line, *v, tokv[8192] = "";
	const char	*route;
	size_t		 hl = 0, bl = 0, clen = 0, have;
	ssize_t		 n;
	int		 ret, has_token = 0;

	/* Up to the empty line; what follows is the start of the body. */
	for (;;) {
		if (hl == MAX_HEAD)
			return (-1);
		if ((n = peer_read(t, head + hl, MAX_HEAD - hl)) <= 0)
			return (hl == 0 ? 0 : -1);
		hl += (size_t)n;
		head[hl] = '\0';
		if ((end = strstr(head, "\r\n\r\n")) != NULL)
			break;
	}
	*end = '\0';
	have = hl - (size_t)(end + 4 - head);
	if (strncmp(head, "POST /", 6) != 0 ||
	    (p = strstr(head, " HTTP/1.1\r\n")) == NULL)
		return (-1);
	*p = '\0';
	for (line = strtok(p + 11, "\r\n"); line != NULL;
	    line = strtok(NULL, "\r\n")) {
		if ((v = strchr(line, ':')) == NULL)
			return (-1);
		*v++ = '\0';
		v += strspn(v, " ");
		if (strcasecmp(line, "Content-Length") == 0)
			clen = strtoul(v, NULL, 10);
		else if (strcasecmp(line, "X-Koban-Sensor-Token") == 0) {
			has_token = 1;
			strlcpy(tokv, v, sizeof(tokv));
		}
	}
	if (clen == 0 || clen > MAX_BODY || have > clen)
		return (-1);
	if ((body = malloc(clen + 1)) == NULL)
		err(1, NULL);
	memcpy(body, end + 4, have);
	bl = have;
	while (bl < clen) {
		if ((n = peer_read(t, body + bl, clen - bl)) <= 0) {
			free(body);
			return (-1);
		}
		bl += (size_t)n;
	}
	body[bl] = '\0';
	read_mode_file();
	p = head + 5;
	/* Its time, route and size on the wire (head and body). */
	route = strrchr(p, '/') != NULL ? strrchr(p, '/') + 1 : p;
	say("request t=%lld route=%s conn=%u json=%zu http=%zu mode=%s",
	    mono_ms(), route, conn_no, bl, (size_t)(end + 4 - head) + bl,
	    mode[0] != '\0' ? mode : "none");
	if (mode_is("down")) {
		/* Down since the connection opened: nothing taken. */
		say("fault down: request reset unanswered");
		explicit_bzero(body, bl);
		explicit_bzero(tokv, sizeof(tokv));
		free(body);
		reset_conn();
		return (-1);
	}
	if (strlen(p) >= 21 && strcmp(p + strlen(p) - 21,
	    "/api/sensor/v1/enroll") == 0) {
		if (has_token)
			say("enroll carried a sensor token header");
		ret = enroll(t, body, bl);
	} else if (strlen(p) >= 23 && strcmp(p + strlen(p) - 23,
	    "/api/sensor/v1/check-in") == 0)
		ret = checkin(t, body, bl, has_token, tokv);
	else if (strlen(p) >= 19 && strcmp(p + strlen(p) - 19,
	    "/api/sensor/v1/sync") == 0)
		ret = sync_route(t, body, bl);
	else if (strlen(p) >= 21 && strcmp(p + strlen(p) - 21,
	    "/api/sensor/v1/config") == 0)
		ret = config_route(t, body, bl, has_token, tokv);
	else
		ret = respond(t, 404, "{\"error\":\"no such route\"}");
	say("answered t=%lld conn=%u", mono_ms(), conn_no);
	explicit_bzero(body, bl);
	explicit_bzero(tokv, sizeof(tokv));
	free(body);
	return (ret == -1 ? -1 : 1);
}

int
main(int argc, char *argv[])
{
	struct tls_config	*cfg;
	struct tls		*srv, *c;
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 60, 0 };
	socklen_t		 sl = sizeof(sin);
	const char		*dir = NULL, *errstr;
	int			 port = 0;
	char			 path[1024], path2[1024];
	int			 ch, s, fd, one = 1;
	long long		 hs;

	while ((ch = getopt(argc, argv, "B:C:d:DE:m:M:o:p:T:")) != -1) {
		switch (ch) {
		case 'B':
			server_max_bytes = strtoll(optarg, NULL, 10);
			break;
		case 'C':
			config_dir = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'E':
			server_max_events = strtoll(optarg, NULL, 10);
			break;
		case 'D':
			der_certs = 1;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'M':
			mode_file = optarg;
			break;
		case 'o':
			dump_path = optarg;
			break;
		case 'p':
			port = (int)strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(2, "port %s: %s", optarg, errstr);
			break;
		case 'T':
			sensor_token = optarg;
			break;
		default:
			errx(2, "usage: fleetpeer [-B bytes] [-C configdir] "
			    "-d dir [-D] "
			    "[-E events] [-m mode] [-M modefile] [-o dump] "
			    "[-p port] [-T token]");
		}
	}
	if (dir == NULL)
		errx(2, "no directory");
	signal(SIGPIPE, SIG_IGN);
	load_ca(dir);
	load_devices(dir);
	snprintf(path, sizeof(path), "%s/tokens", dir);
	load_tokens(path);

	if (tls_init() == -1 || (cfg = tls_config_new()) == NULL ||
	    (srv = tls_server()) == NULL)
		errx(1, "tls");
	snprintf(path, sizeof(path), "%s/server.pem", dir);
	snprintf(path2, sizeof(path2), "%s/server.key", dir);
	if (tls_config_set_keypair_file(cfg, path, path2) == -1)
		errx(1, "%s", tls_config_error(cfg));
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if (tls_config_set_ca_file(cfg, path) == -1)
		errx(1, "%s", tls_config_error(cfg));
	/* Enroll comes without a certificate; check-in decides. */
	tls_config_verify_client_optional(cfg);
	if (tls_configure(srv, cfg) == -1)
		errx(1, "%s", tls_error(srv));

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 8) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &sl) == -1)
		err(1, "listen");
	say("port %u", ntohs(sin.sin_port));

	for (;;) {
		if ((fd = accept(s, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "accept");
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		conn_no++;
		conn_fd = fd;
		conn_reset = 0;
		/* down: every connection reset before the handshake. */
		read_mode_file();
		if (mode_is("down")) {
			say("connection %u: reset (mode down) t=%lld", conn_no,
			    mono_ms());
			reset_conn();
			close(fd);
			continue;
		}
		if (tls_accept_socket(srv, &c, fd) == -1) {
			close(fd);
			continue;
		}
		hs = mono_us();
		while ((ch = tls_handshake(c)) == TLS_WANT_POLLIN ||
		    ch == TLS_WANT_POLLOUT)
			;
		if (ch == -1) {
			say("connection %u: handshake failed: %s", conn_no,
			    tls_error(c));
		} else {
			/* From accept to the client's Finished, its signature
			 * included: the bench's handshake time. */
			say("connection %u: %s%s handshake_us=%lld", conn_no,
			    tls_conn_version(c), tls_peer_cert_provided(c) ?
			    ", client certificate" : "", mono_us() - hs);
			while (serve_request(c) == 1)
				;
			if (!conn_reset)
				(void)tls_close(c);
		}
		tls_free(c);
		close(fd);
	}
}
