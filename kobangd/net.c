/*
 * The network child: HTTPS over a socket the parent connected, with the
 * CA bundle and the client certificate the parent sends as bytes.  It has
 * no file system and no sockets of its own, and never holds the device
 * key: the one signature a client handshake needs is a round trip to the
 * parent (netkey.h).  It speaks strict HTTP/1.1 (common/http.h), checks
 * each 2xx body with the route's decoder (common/proto.h), and answers
 * every request with one IMSG_NET_RESPONSE and its body.  One thing at a
 * time: a request runs to its end (or its deadline) before the next
 * message is read.  The protocol is in netproto.h.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <tls.h>

#include "compat.h"
#include "kobangd.h"
#include "log.h"
#include "netkey.h"
#include "netproto.h"
#include "sha256.h"

/* An idle kept-alive connection is closed after this long. */
#define NET_IDLE_MS		30000

struct net_conn {
	int			 open;
	uint32_t		 id;
	int			 fd;
	int			 use_cert;
	int			 handshaken;
	int			 used;		/* carried a request already */
	int			 signed_once;
	struct tls		*tls;
	struct tls_config	*cfg;
	unsigned long long	 idle_since;
	char			 servername[HTTP_HOST_MAX + 1];
	int			 use_proxy;
	int			 tunneled;	/* CONNECT answered 2xx */
	char			 proxy[HTTP_HOST_MAX + 9];
	char			 authority[HTTP_HOST_MAX + 9];
	char			 proxy_auth[NET_PROXY_AUTH_MAX + 1];
};

struct net_req {
	int			 active;
	struct net_request	 hdr;
	uint8_t			*body;
	size_t			 got;
};

static struct imsgbuf	 net_ibuf;
/* The channel messages came from and answers go to (net_ibuf). */
static struct imsgbuf	*net_chan = &net_ibuf;
static struct net_conn	 conn;
static struct net_req	 req;
static uint8_t		*ca;
static size_t		 ca_len, ca_total;
static int		 ca_ready;
static char		*cert_pem;
static size_t		 cert_len;
static unsigned long long sign_deadline;

static void	net_loop(void);
static int	net_sign(void *, const uint8_t *, size_t, uint8_t *,
		    size_t *);

static unsigned long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((unsigned long long)ts.tv_sec * 1000 +
	    (unsigned long long)ts.tv_nsec / 1000000);
}

void
net_main(const char *user)
{
	/* A peer that went away must be an error, never a signal. */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Everything OpenSSL reads from the file system (its configuration,
	 * the system's TLS policy) is read now, before the door is locked.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1 ||
	    tls_init() == -1)
		fatalx("cannot initialise TLS");
	if (sha256_preload() == -1)
		fatalx("cannot initialise SHA-256");
	if (netkey_install(net_sign, NULL) == -1)
		fatalx("cannot install the stand-in key");
	child_setup("net", SANDBOX_NET, user, &net_ibuf);
	net_loop();
}

static void
net_send(uint32_t type, const void *buf, size_t len)
{
	if (imsg_compose(net_chan, type, 0, 0, -1, buf, len) == -1)
		fatal("imsg_compose");
}

static void
net_conn_close(int tell)
{
	uint32_t	id = conn.id;

	if (!conn.open)
		return;
	if (conn.tls != NULL) {
		/* Best effort: a close_notify if the socket takes it now. */
		if (conn.handshaken)
			(void)tls_close(conn.tls);
		tls_free(conn.tls);
	}
	if (conn.cfg != NULL)
		tls_config_free(conn.cfg);
	close(conn.fd);
	explicit_bzero(&conn, sizeof(conn));
	conn.fd = -1;
	if (tell) {
		struct net_closed	c = { id };

		net_send(IMSG_NET_CLOSED, &c, sizeof(c));
	}
}

/* Wait for fd until the deadline: 1 ready, 0 timed out. */
static int
net_wait(int fd, short events, unsigned long long deadline)
{
	struct pollfd		pfd;
	unsigned long long	now;
	int			r;

	for (;;) {
		now = now_ms();
		if (now >= deadline)
			return (0);
		pfd.fd = fd;
		pfd.events = events;
		r = poll(&pfd, 1, (int)(deadline - now > 60000 ? 60000 :
		    deadline - now));
		if (r == -1 && errno != EINTR)
			fatal("poll");
		if (r > 0)
			return (1);
	}
}

/*
 * The sign hook's way to the parent: one request for the connection in
 * its handshake, and nothing but the answer may come back meanwhile.
 */
static int
net_sign(void *arg, const uint8_t *dgst, size_t dlen, uint8_t *sig,
    size_t *siglen)
{
	struct net_sign		 rq;
	struct net_signature	 rs;
	struct imsg		 imsg;
	ssize_t			 n;
	int			 r;

	if (!conn.open || !conn.use_cert || conn.signed_once ||
	    dlen != NETKEY_DIGEST_LEN) {
		log_warnx("refusing a signature outside a handshake");
		return (-1);
	}
	conn.signed_once = 1;
	memset(&rq, 0, sizeof(rq));
	rq.conn_id = conn.id;
	rq.dlen = (uint32_t)dlen;
	memcpy(rq.digest, dgst, dlen);
	net_send(IMSG_NET_SIGN, &rq, sizeof(rq));
	if (imsgbuf_flush(net_chan) == -1)
		child_channel_failed(net_chan, "write to parent");
	for (;;) {
		if ((n = imsg_get(net_chan, &imsg)) == -1)
			fatalx("bad message from parent");
		if (n > 0)
			break;
		if (!net_wait(net_chan->fd, POLLIN, sign_deadline)) {
			log_warnx("no signature from the parent in time");
			return (-1);
		}
		if ((r = imsgbuf_read(net_chan)) == -1)
			child_channel_failed(net_chan, "read from parent");
		if (r == 0)
			exit(0);
	}
	if (imsg_get_type(&imsg) != IMSG_NET_SIGNATURE ||
	    imsg_get_data(&imsg, &rs, sizeof(rs)) == -1 ||
	    rs.conn_id != conn.id || rs.len > NETKEY_SIG_MAX)
		fatalx("unexpected answer to a signature request");
	imsg_free(&imsg);
	if (rs.len == 0) {
		log_warnx("the parent refused to sign");
		return (-1);
	}
	memcpy(sig, rs.sig, rs.len);
	*siglen = rs.len;
	return (0);
}

static int
net_tls_setup(char *msg, size_t msglen)
{
	if (!ca_ready) {
		snprintf(msg, msglen, "no CA bundle");
		return (-1);
	}
	if ((conn.cfg = tls_config_new()) == NULL ||
	    (conn.tls = tls_client()) == NULL) {
		snprintf(msg, msglen, "out of memory");
		return (-1);
	}
	if (tls_config_set_ca_mem(conn.cfg, ca, ca_len) == -1 ||
	    tls_config_set_protocols(conn.cfg, TLS_PROTOCOL_TLSv1_2 |
	    TLS_PROTOCOL_TLSv1_3) == -1) {
		snprintf(msg, msglen, "%s", tls_config_error(conn.cfg));
		return (-1);
	}
	if (conn.use_cert) {
		if (cert_pem == NULL) {
			snprintf(msg, msglen, "no client certificate");
			return (-1);
		}
		if (tls_config_set_cert_mem(conn.cfg, (uint8_t *)cert_pem,
		    cert_len) == -1) {
			snprintf(msg, msglen, "client certificate: %s",
			    tls_config_error(conn.cfg));
			return (-1);
		}
		tls_config_use_fake_private_key(conn.cfg);
	}
	if (tls_configure(conn.tls, conn.cfg) == -1 ||
	    tls_connect_socket(conn.tls, conn.fd, conn.servername) == -1) {
		snprintf(msg, msglen, "%s", tls_error(conn.tls));
		return (-1);
	}
	return (0);
}

/* Drive a libtls call that may want I/O; -2 on timeout. */
#define NET_TIMEOUT	-2

static int
net_tls_wait(ssize_t r, unsigned long long deadline)
{
	if (r == TLS_WANT_POLLIN)
		return (net_wait(conn.fd, POLLIN, deadline) ? 0 : NET_TIMEOUT);
	if (r == TLS_WANT_POLLOUT)
		return (net_wait(conn.fd, POLLOUT, deadline) ? 0 :
		    NET_TIMEOUT);
	return (-1);
}

static int
net_handshake(unsigned long long deadline, struct net_response *rs)
{
	int	r, w;

	sign_deadline = deadline;
	while ((r = tls_handshake(conn.tls)) != 0) {
		if ((w = net_tls_wait(r, deadline)) == 0)
			continue;
		if (w == NET_TIMEOUT) {
			rs->error = NET_ERR_TIMEOUT;
			snprintf(rs->msg, sizeof(rs->msg),
			    "TLS handshake timed out");
		} else {
			rs->error = NET_ERR_TLS;
			snprintf(rs->msg, sizeof(rs->msg), "%s",
			    tls_error(conn.tls));
		}
		return (-1);
	}
	conn.handshaken = 1;
	snprintf(rs->tls_version, sizeof(rs->tls_version), "%s",
	    tls_conn_version(conn.tls));
	return (0);
}

static int
net_write_all(const uint8_t *buf, size_t len, unsigned long long deadline,
    struct net_response *rs, int reused)
{
	ssize_t	n;
	size_t	off = 0;
	int	w;

	while (off < len) {
		n = tls_write(conn.tls, buf + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if ((w = net_tls_wait(n, deadline)) == 0)
			continue;
		if (w == NET_TIMEOUT) {
			rs->error = NET_ERR_TIMEOUT;
			snprintf(rs->msg, sizeof(rs->msg),
			    "timed out sending the request");
		} else {
			/* A reused connection the server dropped: retry. */
			rs->error = reused && off == 0 ? NET_ERR_STALE :
			    NET_ERR_IO;
			snprintf(rs->msg, sizeof(rs->msg), "%s",
			    tls_error(conn.tls));
		}
		return (-1);
	}
	return (0);
}

static int
net_read_response(struct http_response *hr, unsigned long long deadline,
    struct net_response *rs, int reused, int *extra)
{
	uint8_t	buf[16384];
	ssize_t	n;
	size_t	used, total = 0;
	int	r, w;

	*extra = 0;
	for (;;) {
		n = tls_read(conn.tls, buf, sizeof(buf));
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
			if ((w = net_tls_wait(n, deadline)) == 0)
				continue;
			rs->error = NET_ERR_TIMEOUT;
			snprintf(rs->msg, sizeof(rs->msg),
			    "timed out waiting for the response");
			return (-1);
		}
		if (n == -1) {
			rs->error = reused && total == 0 ? NET_ERR_STALE :
			    NET_ERR_IO;
			snprintf(rs->msg, sizeof(rs->msg), "%s",
			    tls_error(conn.tls));
			return (-1);
		}
		if (n == 0) {
			if (reused && total == 0) {
				rs->error = NET_ERR_STALE;
				snprintf(rs->msg, sizeof(rs->msg),
				    "connection closed");
				return (-1);
			}
			if (http_response_eof(hr) != HTTP_DONE) {
				rs->error = NET_ERR_HTTP;
				snprintf(rs->msg, sizeof(rs->msg), "%s",
				    http_response_error(hr));
				return (-1);
			}
			return (0);
		}
		total += (size_t)n;
		r = http_response_feed(hr, buf, (size_t)n, &used);
		if (r == HTTP_ERR) {
			rs->error = NET_ERR_HTTP;
			snprintf(rs->msg, sizeof(rs->msg), "%s",
			    http_response_error(hr));
			return (-1);
		}
		if (r == HTTP_DONE) {
			/* Bytes beyond the response: not a clean stream. */
			*extra = used < (size_t)n;
			return (0);
		}
	}
}

/* What a proxy's refusal of CONNECT means, for the message. */
static void
net_proxy_status(int status, int with_auth, struct net_response *rs)
{
	const char	*p = conn.proxy, *a = conn.authority;

	switch (status) {
	case 401:	/* what tinyproxy 1.11 answers to wrong credentials */
	case 407:
		snprintf(rs->msg, sizeof(rs->msg), "proxy %.80s answered %s: "
		    "%s", p, status == 401 ? "401 Unauthorized" :
		    "407 Proxy Authentication Required", with_auth ?
		    "it refused the credentials of "
		    "kobangd.proxyCredentialsFile" : "it wants credentials "
		    "(kobangd.proxyCredentialsFile)");
		break;
	case 403:
		snprintf(rs->msg, sizeof(rs->msg), "proxy %.80s answered 403 "
		    "Forbidden: it refuses to CONNECT to %.80s", p, a);
		break;
	case 500:	/* tinyproxy's "Unable to connect" */
		snprintf(rs->msg, sizeof(rs->msg), "proxy %.80s answered 500 "
		    "Internal Server Error: it may not reach %.80s", p, a);
		break;
	case 502:
		snprintf(rs->msg, sizeof(rs->msg), "proxy %.80s answered 502 "
		    "Bad Gateway: it could not reach %.80s", p, a);
		break;
	case 503:
		snprintf(rs->msg, sizeof(rs->msg), "proxy %.80s answered 503 "
		    "Service Unavailable to CONNECT %.100s", p, a);
		break;
	case 504:
		snprintf(rs->msg, sizeof(rs->msg), "proxy %.80s answered 504 "
		    "Gateway Timeout: %.80s did not answer it in time", p, a);
		break;
	default:
		snprintf(rs->msg, sizeof(rs->msg), "proxy %.80s answered %d to "
		    "CONNECT %.100s", p, status, a);
		break;
	}
}

/*
 * Open the tunnel: CONNECT on the raw socket, the answer's head read with
 * the strict HTTP reader.  The credentials are wiped once the request is
 * built.  TLS speaks first, so a proxy that sends more than the head of a
 * 2xx is not a proxy to trust with the handshake.
 */
static int
net_proxy_connect(unsigned long long deadline, struct net_response *rs)
{
	struct http_response	 hr;
	uint8_t			 buf[4096];
	char			*out;
	size_t			 outlen = 0, off = 0, used;
	ssize_t			 n;
	int			 r, with_auth, ret = -1;

	http_response_init_connect(&hr);
	with_auth = conn.proxy_auth[0] != '\0';
	out = http_connect_request(conn.authority, with_auth ?
	    conn.proxy_auth : NULL, &outlen);
	explicit_bzero(conn.proxy_auth, sizeof(conn.proxy_auth));
	if (out == NULL) {
		rs->error = NET_ERR_INTERNAL;
		snprintf(rs->msg, sizeof(rs->msg),
		    "cannot build the CONNECT request");
		return (-1);
	}
	rs->error = NET_ERR_PROXY;
	while (off < outlen) {
		if ((n = write(conn.fd, out + off, outlen - off)) > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (net_wait(conn.fd, POLLOUT, deadline))
				continue;
			snprintf(rs->msg, sizeof(rs->msg), "proxy %.100s: "
			    "timed out sending CONNECT", conn.proxy);
		} else
			snprintf(rs->msg, sizeof(rs->msg), "proxy %.100s: %s",
			    conn.proxy, strerror(errno));
		goto done;
	}
	for (;;) {
		if ((n = read(conn.fd, buf, sizeof(buf))) == -1 &&
		    (errno == EAGAIN || errno == EINTR)) {
			if (net_wait(conn.fd, POLLIN, deadline))
				continue;
			snprintf(rs->msg, sizeof(rs->msg), "proxy %.100s: no "
			    "answer to CONNECT in time", conn.proxy);
			goto done;
		}
		if (n == -1 && errno != ECONNRESET) {
			snprintf(rs->msg, sizeof(rs->msg), "proxy %.100s: %s",
			    conn.proxy, strerror(errno));
			goto done;
		}
		if (n <= 0) {
			snprintf(rs->msg, sizeof(rs->msg), "proxy %.100s "
			    "closed the connection without answering CONNECT",
			    conn.proxy);
			goto done;
		}
		r = http_response_feed(&hr, buf, (size_t)n, &used);
		if (r == HTTP_ERR) {
			snprintf(rs->msg, sizeof(rs->msg), "proxy %.100s: "
			    "malformed answer to CONNECT: %s", conn.proxy,
			    http_response_error(&hr));
			goto done;
		}
		if (r == HTTP_DONE)
			break;
	}
	if (!hr.keepalive) {
		net_proxy_status(hr.status, with_auth, rs);
		goto done;
	}
	if (used < (size_t)n) {
		snprintf(rs->msg, sizeof(rs->msg), "proxy %.100s sent bytes "
		    "after its answer to CONNECT", conn.proxy);
		goto done;
	}
	conn.tunneled = 1;
	rs->error = NET_OK;
	ret = 0;
 done:
	freezero(out, outlen);
	http_response_free(&hr);
	return (ret);
}

static void
net_respond(struct net_response *rs, const uint8_t *body, size_t len)
{
	size_t	off, n;

	rs->body_len = (uint32_t)len;
	net_send(IMSG_NET_RESPONSE, rs, sizeof(*rs));
	for (off = 0; off < len; off += n) {
		n = len - off > NET_CHUNK ? NET_CHUNK : len - off;
		net_send(IMSG_NET_RESPONSE_BODY, body + off, n);
	}
}

static void
net_run(struct net_request *rq, uint8_t *body)
{
	struct net_response	 rs;
	struct http_response	 hr;
	struct http_hdr		 hdr;
	unsigned long long	 deadline = now_ms() + rq->timeout_ms;
	char			*out = NULL, derr[128];
	size_t			 outlen = 0;
	long long		 ra;
	int			 reused, extra = 0, ok = 0;

	memset(&rs, 0, sizeof(rs));
	rs.id = rq->id;
	rs.retry_after = -1;
	http_response_init(&hr, HTTP_MAX_BODY);

	if (!conn.open || conn.id != rq->conn_id) {
		/* Closed while idle, before the parent heard: retry afresh. */
		rs.error = NET_ERR_STALE;
		snprintf(rs.msg, sizeof(rs.msg), "connection closed");
		goto done;
	}
	reused = conn.used;
	conn.used = 1;
	if (conn.use_proxy && !conn.tunneled &&
	    net_proxy_connect(deadline, &rs) == -1)
		goto done;
	if (conn.tls == NULL && net_tls_setup(rs.msg, sizeof(rs.msg)) == -1) {
		rs.error = NET_ERR_TLS;
		goto done;
	}
	if (!conn.handshaken && net_handshake(deadline, &rs) == -1)
		goto done;
	snprintf(rs.tls_version, sizeof(rs.tls_version), "%s",
	    tls_conn_version(conn.tls));

	hdr.name = "X-Koban-Sensor-Token";
	hdr.value = rq->token;
	if ((out = http_post(rq->hosthdr, rq->target, &hdr,
	    rq->use_token ? 1 : 0, body, rq->body_len, &outlen)) == NULL) {
		rs.error = NET_ERR_INTERNAL;
		snprintf(rs.msg, sizeof(rs.msg), "cannot build the request");
		goto done;
	}
	if (net_write_all((uint8_t *)out, outlen, deadline, &rs, reused) == -1)
		goto done;
	if (net_read_response(&hr, deadline, &rs, reused, &extra) == -1)
		goto done;

	rs.status = hr.status;
	if (hr.has_retry_after && http_retry_after(hr.retry_after, time(NULL),
	    86400, &ra) == 0)
		rs.retry_after = ra;
	if (hr.status >= 200 && hr.status <= 299) {
		if (proto_validate(rq->route, (const char *)hr.body,
		    hr.body_len, derr, sizeof(derr)) == -1) {
			rs.error = NET_ERR_DECODE;
			snprintf(rs.msg, sizeof(rs.msg), "%s", derr);
			goto done;
		}
		ok = 1;
	}
	rs.keepalive = hr.keepalive && !extra;
 done:
	if (out != NULL)
		freezero(out, outlen);
	if (rs.error != NET_OK || !rs.keepalive)
		net_conn_close(0);
	else
		conn.idle_since = now_ms();
	net_respond(&rs, ok ? hr.body : NULL, ok ? hr.body_len : 0);
	http_response_free(&hr);
}

/* -1 on a malformed request (net then exits), else answered. */
static int
net_inspect(struct imsg *imsg)
{
	struct net_cert_info	 ci;
	struct ibuf		 ib;
	X509			*x = NULL;
	const uint8_t		*p;
	uint8_t			*spki = NULL;
	struct tm		 tm;
	uint32_t		 id;
	size_t			 len;
	int			 n;

	if (imsg_get_ibuf(imsg, &ib) == -1 || ibuf_get_n32(&ib, &id) == -1 ||
	    (len = ibuf_size(&ib)) == 0 || len > PROTO_CERT_MAX) {
		log_warnx("malformed certificate to inspect");
		return (-1);
	}
	memset(&ci, 0, sizeof(ci));
	ci.id = id;
	p = ibuf_data(&ib);
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != (const uint8_t *)ibuf_data(&ib) + len)
		goto done;
	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki)) <= 0 ||
	    sha256_digest(spki, (size_t)n, ci.spki_sha256) == -1)
		goto done;
	/* oneline escapes everything outside printable ASCII as \xXX. */
	if (X509_NAME_oneline(X509_get_subject_name(x), ci.subject,
	    sizeof(ci.subject)) == NULL ||
	    X509_NAME_oneline(X509_get_issuer_name(x), ci.issuer,
	    sizeof(ci.issuer)) == NULL)
		goto done;
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) != 1)
		goto done;
	ci.not_before = (int64_t)timegm(&tm);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		goto done;
	ci.not_after = (int64_t)timegm(&tm);
	ci.ok = 1;
 done:
	if (!ci.ok) {
		memset(&ci, 0, sizeof(ci));
		ci.id = id;
	}
	OPENSSL_free(spki);
	X509_free(x);
	net_send(IMSG_NET_CERT_INFO, &ci, sizeof(ci));
	return (0);
}

static int
net_str_ok(const char *s, size_t size, int nonempty)
{
	return (memchr(s, '\0', size) != NULL && (!nonempty || s[0] != '\0'));
}

/*
 * The proxy fields of IMSG_NET_CONNECT: all empty without a proxy; with
 * one, its name and the target set, the credentials empty or base64.
 */
static int
net_proxy_ok(const struct net_connect *nc)
{
	if (nc->use_proxy > 1 ||
	    !net_str_ok(nc->proxy, sizeof(nc->proxy), nc->use_proxy) ||
	    !net_str_ok(nc->authority, sizeof(nc->authority),
	    nc->use_proxy) ||
	    !net_str_ok(nc->proxy_auth, sizeof(nc->proxy_auth), 0))
		return (0);
	if (!nc->use_proxy)
		return (nc->proxy[0] == '\0' && nc->authority[0] == '\0' &&
		    nc->proxy_auth[0] == '\0');
	return (strspn(nc->proxy_auth, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/=") ==
	    strlen(nc->proxy_auth) &&
	    strspn(nc->proxy, "-.:[]0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(nc->proxy) &&
	    strspn(nc->authority, "-.:[]0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(nc->authority));
}

/*
 * Everything net keeps from the parent (CA bundle, certificate, the
 * request being received, the connection) dropped: the state of a net
 * that just started.  For the tests and the fuzzer, which feed the
 * dispatcher one hostile parent after another.
 */
void
net_dispatch_reset(void)
{
	net_conn_close(0);
	free(ca);
	ca = NULL;
	ca_len = ca_total = 0;
	ca_ready = 0;
	free(cert_pem);
	cert_pem = NULL;
	cert_len = 0;
	if (req.body != NULL)
		freezero(req.body, req.hdr.body_len);
	explicit_bzero(&req, sizeof(req));
}

/*
 * Every message the parent may send net, checked before it is used;
 * -1 on anything else (net then exits).  Answers go back on ibuf.
 */
int
net_dispatch_imsg(struct imsgbuf *ibuf)
{
	struct imsg		imsg;
	struct net_ca_begin	cb;
	struct net_connect	nc;
	ssize_t			n;
	size_t			len;
	int			ret = 0, fd;

	net_chan = ibuf;
	while (ret == 0) {
		if ((n = imsg_get(ibuf, &imsg)) == -1)
			return (-1);
		if (n == 0)
			break;
		len = imsg_get_len(&imsg);
		fd = imsg_get_fd(&imsg);
		if (fd != -1 && imsg_get_type(&imsg) != IMSG_NET_CONNECT) {
			close(fd);
			log_warnx("descriptor with message type %u",
			    imsg_get_type(&imsg));
			ret = -1;
			imsg_free(&imsg);
			break;
		}
		/* While a request's body arrives, only body chunks may. */
		if (req.active && imsg_get_type(&imsg) !=
		    IMSG_NET_REQUEST_BODY) {
			log_warnx("message type %u inside a request",
			    imsg_get_type(&imsg));
			ret = -1;
			imsg_free(&imsg);
			break;
		}
		switch (imsg_get_type(&imsg)) {
		case IMSG_NET_CA_BEGIN:
			if (imsg_get_data(&imsg, &cb, sizeof(cb)) == -1 ||
			    cb.total == 0 || cb.total > NET_CA_MAX) {
				ret = -1;
				break;
			}
			free(ca);
			if ((ca = malloc(cb.total)) == NULL)
				fatal(NULL);
			ca_total = cb.total;
			ca_len = 0;
			ca_ready = 0;
			break;
		case IMSG_NET_CA_DATA:
			if (ca == NULL || ca_ready || len == 0 ||
			    len > NET_CHUNK || len > ca_total - ca_len) {
				ret = -1;
				break;
			}
			(void)imsg_get_buf(&imsg, ca + ca_len, len);
			ca_len += len;
			ca_ready = ca_len == ca_total;
			break;
		case IMSG_NET_CERT:
			if (len > NET_CERT_PEM_MAX) {
				ret = -1;
				break;
			}
			free(cert_pem);
			cert_pem = NULL;
			cert_len = 0;
			if (len == 0)
				break;
			if ((cert_pem = malloc(len)) == NULL)
				fatal(NULL);
			(void)imsg_get_buf(&imsg, cert_pem, len);
			cert_len = len;
			break;
		case IMSG_NET_CONNECT:
			if (fd == -1 || imsg_get_data(&imsg, &nc,
			    sizeof(nc)) == -1 || nc.conn_id == 0 ||
			    nc.use_cert > 1 || !net_str_ok(nc.servername,
			    sizeof(nc.servername), 1) || !net_proxy_ok(&nc)) {
				if (fd != -1)
					close(fd);
				explicit_bzero(&nc, sizeof(nc));
				ret = -1;
				break;
			}
			net_conn_close(0);
			conn.open = 1;
			conn.id = nc.conn_id;
			conn.fd = fd;
			conn.use_cert = nc.use_cert;
			strlcpy(conn.servername, nc.servername,
			    sizeof(conn.servername));
			conn.use_proxy = nc.use_proxy;
			strlcpy(conn.proxy, nc.proxy, sizeof(conn.proxy));
			strlcpy(conn.authority, nc.authority,
			    sizeof(conn.authority));
			strlcpy(conn.proxy_auth, nc.proxy_auth,
			    sizeof(conn.proxy_auth));
			explicit_bzero(&nc, sizeof(nc));
			if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
				fatal("fcntl");
			break;
		case IMSG_NET_REQUEST:
			if (imsg_get_data(&imsg, &req.hdr,
			    sizeof(req.hdr)) == -1 || req.hdr.id == 0 ||
			    req.hdr.route >= PROTO_NROUTES ||
			    req.hdr.timeout_ms == 0 ||
			    req.hdr.timeout_ms > 600000 ||
			    req.hdr.body_len == 0 ||
			    req.hdr.body_len > NET_REQ_BODY_MAX ||
			    req.hdr.use_token > 1 ||
			    !net_str_ok(req.hdr.hosthdr,
			    sizeof(req.hdr.hosthdr), 1) ||
			    !net_str_ok(req.hdr.target,
			    sizeof(req.hdr.target), 1) ||
			    !net_str_ok(req.hdr.token,
			    sizeof(req.hdr.token), 0)) {
				ret = -1;
				break;
			}
			if ((req.body = malloc(req.hdr.body_len)) == NULL)
				fatal(NULL);
			req.got = 0;
			req.active = 1;
			break;
		case IMSG_NET_REQUEST_BODY:
			if (!req.active || len == 0 || len > NET_CHUNK ||
			    len > req.hdr.body_len - req.got) {
				ret = -1;
				break;
			}
			(void)imsg_get_buf(&imsg, req.body + req.got, len);
			req.got += len;
			if (req.got < req.hdr.body_len)
				break;
			net_run(&req.hdr, req.body);
			/* The body may hold the enrollment token. */
			freezero(req.body, req.hdr.body_len);
			explicit_bzero(&req, sizeof(req));
			break;
		case IMSG_NET_CERT_INSPECT:
			ret = net_inspect(&imsg);
			break;
		default:
			log_warnx("unexpected message type %u",
			    imsg_get_type(&imsg));
			ret = -1;
			break;
		}
		imsg_free(&imsg);
	}
	return (ret);
}

/*
 * child_loop() plus the idle connection: data or a hang-up on it while
 * no request runs, or NET_IDLE_MS of silence, closes it, and the parent
 * is told so that its next request connects afresh.
 */
static void
net_loop(void)
{
	struct pollfd		pfd[2];
	unsigned long long	now;
	int			nfds, timeout;

	conn.fd = -1;
	for (;;) {
		pfd[0].fd = net_ibuf.fd;
		pfd[0].events = POLLIN;
		if (imsgbuf_queuelen(&net_ibuf) > 0)
			pfd[0].events |= POLLOUT;
		pfd[0].revents = 0;
		nfds = 1;
		timeout = -1;
		if (conn.open && conn.handshaken) {
			pfd[1].fd = conn.fd;
			pfd[1].events = POLLIN;
			pfd[1].revents = 0;
			nfds = 2;
			now = now_ms();
			timeout = now >= conn.idle_since + NET_IDLE_MS ? 0 :
			    (int)(conn.idle_since + NET_IDLE_MS - now);
		}
		if (poll(pfd, nfds, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents & POLLOUT && imsgbuf_write(&net_ibuf) == -1)
			child_channel_failed(&net_ibuf, "write to parent");
		if (conn.open && conn.handshaken && (pfd[1].revents ||
		    now_ms() >= conn.idle_since + NET_IDLE_MS))
			net_conn_close(1);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			switch (imsgbuf_read(&net_ibuf)) {
			case -1:
				child_channel_failed(&net_ibuf,
				    "read from parent");
			case 0:
				exit(0);
			default:
				break;
			}
			if (net_dispatch_imsg(&net_ibuf) == -1)
				fatalx("bad message from parent");
		}
	}
}
