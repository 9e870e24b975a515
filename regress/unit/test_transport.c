/*
 * The parent's transport against stand-in net and dns children: the
 * order of what it sends (CA bundle, certificate, connected socket,
 * request and body), the authentication rules (certificate or sensor
 * token, never both; nothing on enroll), and its signing policy: a
 * signature only for the connection it set up with the certificate,
 * once, over exactly 32 bytes.  Anything else from net breaks the
 * channel.  Between rounds net and dns are stopped and started again.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <criterion/criterion.h>

#include "config.h"
#include "event.h"
#include "keystore.h"
#include "kobangd.h"
#include "netproto.h"
#include "transport.h"

static struct kobangd	 kd;
static struct config	 conf;
static struct imsgbuf	 peer[CHILD_COUNT];
static int		 lsock = -1;
static char		 dir[64];
static struct keystore	*ks;
static int		 wake[2] = { -1, -1 };
static size_t		 ca_expected;	/* CA bytes the next connect sends */

struct result {
	int		done;
	struct tresult	r;
	char		body[256];
};

static pid_t
standin(int close1, int close2)
{
	pid_t	pid;

	if ((pid = fork()) == 0) {
		close(close1);
		close(close2);
		for (;;)
			pause();
	}
	cr_assert_gt(pid, 0);
	return (pid);
}

static void
noop(int fd, short ev, void *arg)
{
}

static void
setup(void)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);
	char			path[128], rpath[128], url[64], err[256];
	int			sp[2], fd, i;
	enum child_id		ids[2] = { CHILD_NET, CHILD_DNS };
	static char		junk[40000];

	ca_expected = 40000;
	strcpy(dir, "/tmp/kobangd-tr.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	/* Some bytes for a CA bundle: the parent only carries them. */
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	memset(junk, 'c', sizeof(junk));
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);

	lsock = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(lsock, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(lsock, 4), 0);
	/* The name servers the parent connects for dns. */
	snprintf(rpath, sizeof(rpath), "%s/resolv.conf", dir);
	fd = open(rpath, O_WRONLY | O_CREAT, 0644);
	dprintf(fd, "# test\nsearch example.test\nnameserver 127.0.0.1\n"
	    "  nameserver\tfe80::1%%lo\nnameserver ::1 # comment\n");
	close(fd);
	cr_assert_eq(setenv("KOBANGD_RESOLV_CONF", rpath, 1), 0);
	cr_assert_eq(getsockname(lsock, (struct sockaddr *)&sin, &sl), 0);

	memset(&kd, 0, sizeof(kd));
	config_default(&conf);
	conf.sync.enabled = 1;
	snprintf(url, sizeof(url), "https://127.0.0.1:%u",
	    ntohs(sin.sin_port));
	conf.sync.endpoint = strdup(url);
	conf.sync.sensor_token = strdup("dev-token");
	conf.kobangd.fleet_ca_file = strdup(path);
	kd.conf = &conf;
	parent_init_children(&kd);
	for (i = 0; i < 2; i++) {
		struct child	*c = &kd.children[ids[i]];

		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
		c->pid = standin(sp[0], sp[1]);
		cr_assert_eq(imsgbuf_init(&c->ibuf, sp[0]), 0);
		c->channel_open = 1;
		c->hello = 1;
		cr_assert_eq(imsgbuf_init(&peer[ids[i]], sp[1]), 0);
		imsgbuf_allow_fdpass(&peer[ids[i]]);
	}
	cr_assert_eq(transport_init(&kd, err, sizeof(err)), 0, "%s", err);
	/* Always readable: ev_dispatch() runs due timers and never blocks. */
	cr_assert_eq(pipe(wake), 0);
	cr_assert_eq(write(wake[1], "x", 1), 1);
	cr_assert_eq(ev_fd_add(wake[0], POLLIN, NULL, noop, NULL), 0);
	snprintf(path, sizeof(path), "%s/state", dir);
	cr_assert_not_null(ks = keystore_open(path, err, sizeof(err)), "%s",
	    err);
	cr_assert_eq(keystore_key(ks, 1, err, sizeof(err)), 0);
}

static void
teardown(void)
{
	char	cmd[128];
	int	i;

	transport_shutdown(&kd);
	keystore_close(ks);
	ev_fd_del(wake[0]);
	close(wake[0]);
	close(wake[1]);
	for (i = 0; i < CHILD_COUNT; i++) {
		struct child	*c = &kd.children[i];

		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
		}
		if (c->channel_open) {
			imsgbuf_clear(&c->ibuf);
			close(c->ibuf.fd);
		}
		if (peer[i].fd > 0) {
			imsgbuf_clear(&peer[i]);
			close(peer[i].fd);
		}
	}
	memset(peer, 0, sizeof(peer));
	close(lsock);
	config_free(&conf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(transport, .init = setup, .fini = teardown, .timeout = 20);

/* What the parent queued for a child reaches its end of the channel. */
static void
flush(enum child_id id)
{
	if (kd.children[id].channel_open)
		cr_assert_eq(imsgbuf_flush(&kd.children[id].ibuf), 0);
}

/* The next message the parent sent to child id. */
static void
next_msg(enum child_id id, struct imsg *imsg)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		i;

	for (i = 0; i < 200; i++) {
		flush(id);
		cr_assert_neq(n = imsg_get(&peer[id], imsg), -1);
		if (n > 0)
			return;
		pfd.fd = peer[id].fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 10) == 1)
			cr_assert_eq(imsgbuf_read(&peer[id]), 1);
		else
			ev_dispatch();
	}
	cr_assert_fail("nothing from the parent");
}

/* Send from the stand-in child and let the parent read it. */
static void
child_says(enum child_id id, uint32_t type, const void *buf, size_t len)
{
	struct child	*c = &kd.children[id];
	struct pollfd	 pfd;

	cr_assert_neq(imsg_compose(&peer[id], type, 0, 0, -1, buf, len), -1);
	cr_assert_eq(imsgbuf_flush(&peer[id]), 0);
	pfd.fd = c->ibuf.fd;
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, 1000), 1);
	parent_child_io(&kd, c, pfd.revents);
}

static void
assert_cut_off(enum child_id id)
{
	struct child	*c = &kd.children[id];
	int		 status;

	cr_assert_eq(c->channel_open, 0, "channel still open");
	cr_assert_eq(waitpid(c->pid, &status, 0), c->pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	c->pid = 0;
}

static void
post_cb(struct kobangd *k, struct tresult *r, void *arg)
{
	struct result	*res = arg;

	res->done = 1;
	res->r = *r;
	res->r.body = NULL;
	if (r->body != NULL)
		snprintf(res->body, sizeof(res->body), "%s", r->body);
}

static void
post(enum proto_route route, const char *json, struct result *res)
{
	char	*body = strdup(json);

	memset(res, 0, sizeof(*res));
	cr_assert_eq(transport_post(route, body, strlen(body), post_cb, res),
	    0);
}

/*
 * The name servers before each query: one connected UDP socket per
 * server of the test's resolv.conf (127.0.0.1 and ::1 at port 53; the
 * scoped address is skipped), then the query itself.
 */
static void
next_query(struct dns_query *q)
{
	struct imsg		 imsg;
	struct dns_server	 s;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 fd, type, n = 0, st;

	for (;;) {
		next_msg(CHILD_DNS, &imsg);
		if (imsg_get_type(&imsg) != IMSG_DNS_SERVER)
			break;
		cr_assert_eq(imsg_get_data(&imsg, &s, sizeof(s)), 0);
		cr_assert_neq(fd = imsg_get_fd(&imsg), -1, "no socket");
		cr_assert_eq(s.index, (uint32_t)n);
		cr_assert_eq(s.port, 53);
		sl = sizeof(st);
		cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_TYPE, &st, &sl), 0);
		cr_assert_eq(st, SOCK_DGRAM);
		sl = sizeof(ss);
		cr_assert_eq(getpeername(fd, (struct sockaddr *)&ss, &sl), 0,
		    "the socket is not connected");
		cr_assert_eq(ss.ss_family, s.family);
		if (n == 0) {
			cr_assert_eq(s.family, AF_INET);
			cr_assert_eq(memcmp(s.addr, "\x7f\0\0\x01", 4), 0);
			cr_assert_eq(((struct sockaddr_in *)&ss)->sin_port,
			    htons(53));
		}
		close(fd);
		imsg_free(&imsg);
		n++;
	}
	cr_assert_geq(n, 1, "no name server before the query");
	cr_assert_leq(n, 2, "the scoped address was not skipped");
	type = (int)imsg_get_type(&imsg);
	cr_assert_eq(type, IMSG_DNS_QUERY);
	cr_assert_eq(imsg_get_data(&imsg, q, sizeof(*q)), 0);
	imsg_free(&imsg);
}

/* The dns round trip, then the connection: returns the request. */
static void
resolve_and_connect(struct net_connect *nc, struct net_request *rq,
    char *cert, size_t certsz, char *body, size_t bodysz)
{
	struct imsg		imsg;
	struct dns_query	q;
	struct dns_answer	a;
	size_t			ca = 0, got = 0, len;
	int			fd, type;

	next_query(&q);
	cr_assert_str_eq(q.host, "127.0.0.1");
	memset(&a, 0, sizeof(a));
	a.id = q.id;
	a.naddrs = 1;
	a.addrs[0].family = AF_INET;
	a.addrs[0].addr[0] = 127;
	a.addrs[0].addr[3] = 1;
	child_says(CHILD_DNS, IMSG_DNS_ANSWER, &a, sizeof(a));

	if (cert != NULL)
		cert[0] = '\0';
	for (;;) {
		next_msg(CHILD_NET, &imsg);
		type = (int)imsg_get_type(&imsg);
		len = imsg_get_len(&imsg);
		if (type == IMSG_NET_CA_BEGIN || type == IMSG_NET_CA_DATA) {
			if (type == IMSG_NET_CA_DATA)
				ca += len;
		} else if (type == IMSG_NET_CERT) {
			cr_assert_not_null(cert);
			cr_assert_lt(len, certsz);
			cr_assert_eq(imsg_get_buf(&imsg, cert, len), 0);
			cert[len] = '\0';
		} else if (type == IMSG_NET_CONNECT) {
			cr_assert_neq(fd = imsg_get_fd(&imsg), -1,
			    "no socket with the connection");
			close(fd);
			cr_assert_eq(imsg_get_data(&imsg, nc, sizeof(*nc)), 0);
		} else if (type == IMSG_NET_REQUEST) {
			cr_assert_eq(imsg_get_data(&imsg, rq, sizeof(*rq)), 0);
		} else if (type == IMSG_NET_REQUEST_BODY) {
			cr_assert_lt(got + len, bodysz);
			cr_assert_eq(imsg_get_buf(&imsg, body + got, len), 0);
			got += len;
			if (got == rq->body_len) {
				body[got] = '\0';
				imsg_free(&imsg);
				break;
			}
		} else
			cr_assert_fail("unexpected message %d", type);
		imsg_free(&imsg);
	}
	cr_assert_eq(ca, ca_expected, "CA bundle of %zu bytes", ca);
	/* Once per net process. */
	ca_expected = 0;
	fd = accept(lsock, NULL, NULL);
	cr_assert_neq(fd, -1);
	close(fd);
}

Test(transport, enroll_sends_nothing_but_its_body)
{
	struct net_connect	nc;
	struct net_request	rq;
	struct net_response	rs;
	struct net_sign		sg;
	struct result		res;
	char			body[256];

	post(PROTO_ENROLL, "{\"token\":\"t\"}", &res);
	resolve_and_connect(&nc, &rq, NULL, 0, body, sizeof(body));
	cr_assert_eq(nc.use_cert, 0);
	cr_assert_str_eq(nc.servername, "127.0.0.1");
	cr_assert_str_eq(rq.target, "/api/sensor/v1/enroll");
	cr_assert_eq(rq.route, PROTO_ENROLL);
	cr_assert_eq(rq.use_token, 0, "sensor token on enroll");
	cr_assert_str_eq(rq.token, "");
	cr_assert_str_eq(body, "{\"token\":\"t\"}");

	memset(&rs, 0, sizeof(rs));
	rs.id = rq.id;
	rs.status = 200;
	rs.retry_after = -1;
	rs.body_len = 2;
	child_says(CHILD_NET, IMSG_NET_RESPONSE, &rs, sizeof(rs));
	cr_assert_eq(res.done, 0);
	child_says(CHILD_NET, IMSG_NET_RESPONSE_BODY, "{}", 2);
	cr_assert_eq(res.done, 1);
	cr_assert_eq(res.r.error, TR_OK);
	cr_assert_str_eq(res.body, "{}");

	/* A signature for a connection without the certificate: cut off. */
	memset(&sg, 0, sizeof(sg));
	sg.conn_id = nc.conn_id;
	sg.dlen = 32;
	child_says(CHILD_NET, IMSG_NET_SIGN, &sg, sizeof(sg));
	assert_cut_off(CHILD_NET);
}

Test(transport, sensor_token_only_without_certificate)
{
	struct net_connect	nc;
	struct net_request	rq;
	struct result		res;
	char			body[256];

	cr_assert_str_eq(transport_auth(), "sensor token");
	post(PROTO_CHECKIN, "{}", &res);
	resolve_and_connect(&nc, &rq, NULL, 0, body, sizeof(body));
	cr_assert_eq(nc.use_cert, 0);
	cr_assert_eq(rq.use_token, 1);
	cr_assert_str_eq(rq.token, "dev-token");
	cr_assert_str_eq(rq.target, "/api/sensor/v1/check-in");
}

static int
verify(const uint8_t *dgst, const uint8_t *sig, size_t len)
{
	const uint8_t	*p = keystore_spki(ks);
	EVP_PKEY	*pub = d2i_PUBKEY(NULL, &p, PROTO_SPKI_LEN);
	EVP_PKEY_CTX	*ctx = EVP_PKEY_CTX_new(pub, NULL);
	int		 ok;

	ok = EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_verify(ctx, sig, len, dgst, 32) == 1;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pub);
	return (ok);
}

static void
certificate_request(struct net_connect *nc, struct net_request *rq)
{
	struct result	res;
	char		body[256], cert[64];

	cr_assert_eq(transport_set_identity(ks, "PEM", 3), 0);
	cr_assert_str_eq(transport_auth(), "certificate");
	post(PROTO_CHECKIN, "{}", &res);
	resolve_and_connect(nc, rq, cert, sizeof(cert), body, sizeof(body));
	cr_assert_str_eq(cert, "PEM");
	cr_assert_eq(nc->use_cert, 1);
	cr_assert_eq(rq->use_token, 0, "sensor token with the certificate");
	cr_assert_str_eq(rq->token, "");
}

static void
sign_reply(struct net_signature *sig)
{
	struct imsg	imsg;

	next_msg(CHILD_NET, &imsg);
	cr_assert_eq(imsg_get_type(&imsg), IMSG_NET_SIGNATURE);
	cr_assert_eq(imsg_get_data(&imsg, sig, sizeof(*sig)), 0);
	imsg_free(&imsg);
}

Test(transport, one_signature_per_connection)
{
	struct net_connect	nc;
	struct net_request	rq;
	struct net_sign		sg;
	struct net_signature	sig;

	certificate_request(&nc, &rq);
	memset(&sg, 0, sizeof(sg));
	sg.conn_id = nc.conn_id;
	sg.dlen = 32;
	memset(sg.digest, 0x5a, sizeof(sg.digest));
	child_says(CHILD_NET, IMSG_NET_SIGN, &sg, sizeof(sg));
	sign_reply(&sig);
	cr_assert_eq(sig.conn_id, nc.conn_id);
	cr_assert(sig.len > 0 && sig.len <= sizeof(sig.sig));
	cr_assert(verify(sg.digest, sig.sig, sig.len), "bad signature");
	/* Once per connection: the second is refused, net may live on. */
	child_says(CHILD_NET, IMSG_NET_SIGN, &sg, sizeof(sg));
	sign_reply(&sig);
	cr_assert_eq(sig.len, 0);
	cr_assert_eq(kd.children[CHILD_NET].channel_open, 1);
}

Test(transport, signature_for_another_connection)
{
	struct net_connect	nc;
	struct net_request	rq;
	struct net_sign		sg;

	certificate_request(&nc, &rq);
	memset(&sg, 0, sizeof(sg));
	sg.conn_id = nc.conn_id + 1;
	sg.dlen = 32;
	child_says(CHILD_NET, IMSG_NET_SIGN, &sg, sizeof(sg));
	assert_cut_off(CHILD_NET);
}

Test(transport, signature_of_another_length)
{
	struct net_connect	nc;
	struct net_request	rq;
	struct net_sign		sg;

	certificate_request(&nc, &rq);
	memset(&sg, 0, sizeof(sg));
	sg.conn_id = nc.conn_id;
	sg.dlen = 48;
	child_says(CHILD_NET, IMSG_NET_SIGN, &sg, sizeof(sg));
	assert_cut_off(CHILD_NET);
}

Test(transport, signature_request_of_wrong_size)
{
	struct net_connect	nc;
	struct net_request	rq;
	uint8_t			buf[sizeof(struct net_sign) + 16];

	certificate_request(&nc, &rq);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &nc.conn_id, sizeof(nc.conn_id));
	child_says(CHILD_NET, IMSG_NET_SIGN, buf, sizeof(buf));
	assert_cut_off(CHILD_NET);
}

Test(transport, unsolicited_messages_break_the_channel)
{
	struct net_response	rs;

	memset(&rs, 0, sizeof(rs));
	rs.id = 1;
	child_says(CHILD_NET, IMSG_NET_RESPONSE, &rs, sizeof(rs));
	assert_cut_off(CHILD_NET);
}

Test(transport, close_notice_for_no_connection)
{
	struct net_closed	cl = { 7 };

	child_says(CHILD_NET, IMSG_NET_CLOSED, &cl, sizeof(cl));
	assert_cut_off(CHILD_NET);
}

Test(transport, response_with_body_on_error)
{
	struct net_connect	nc;
	struct net_request	rq;
	struct net_response	rs;

	certificate_request(&nc, &rq);
	memset(&rs, 0, sizeof(rs));
	rs.id = rq.id;
	rs.status = 500;
	rs.retry_after = -1;
	rs.body_len = 10;
	child_says(CHILD_NET, IMSG_NET_RESPONSE, &rs, sizeof(rs));
	assert_cut_off(CHILD_NET);
}

Test(transport, dns_answer_with_a_strange_family)
{
	struct dns_answer	a;
	struct result		res;
	struct dns_query	q;

	post(PROTO_ENROLL, "{}", &res);
	next_query(&q);
	memset(&a, 0, sizeof(a));
	a.id = q.id;
	a.naddrs = 1;
	a.addrs[0].family = AF_UNIX;
	child_says(CHILD_DNS, IMSG_DNS_ANSWER, &a, sizeof(a));
	assert_cut_off(CHILD_DNS);
}

Test(transport, dns_failure_reaches_the_caller)
{
	struct dns_answer	a;
	struct result		res;
	struct dns_query	q;

	post(PROTO_ENROLL, "{}", &res);
	next_query(&q);
	memset(&a, 0, sizeof(a));
	a.id = q.id;
	a.error = -2;		/* EAI_NONAME */
	child_says(CHILD_DNS, IMSG_DNS_ANSWER, &a, sizeof(a));
	cr_assert_eq(res.done, 1);
	cr_assert_eq(res.r.error, TR_ERR_DNS);
	cr_assert(strstr(res.r.msg, "cannot resolve 127.0.0.1") != NULL,
	    "%s", res.r.msg);
	cr_assert_eq(kd.children[CHILD_DNS].channel_open, 1);
}

/* The answer to the request in flight, with keep-alive as given. */
static void
answer(const struct net_request *rq, int keepalive, int error)
{
	struct net_response	rs;

	memset(&rs, 0, sizeof(rs));
	rs.id = rq->id;
	rs.error = error;
	rs.status = error == NET_OK ? 200 : 0;
	rs.keepalive = (uint32_t)keepalive;
	rs.retry_after = -1;
	rs.body_len = error == NET_OK ? 2 : 0;
	child_says(CHILD_NET, IMSG_NET_RESPONSE, &rs, sizeof(rs));
	if (error == NET_OK)
		child_says(CHILD_NET, IMSG_NET_RESPONSE_BODY, "{}", 2);
}

Test(transport, kept_alive_connection_reused_then_replaced_when_stale)
{
	struct net_connect	nc, nc2;
	struct net_request	rq, rq2;
	struct result		res;
	struct imsg		imsg;
	char			body[256];

	post(PROTO_CHECKIN, "{\"n\":1}", &res);
	resolve_and_connect(&nc, &rq, NULL, 0, body, sizeof(body));
	answer(&rq, 1, NET_OK);
	cr_assert_eq(res.done, 1);
	cr_assert_eq(res.r.error, TR_OK);

	/* Same kind of authentication: straight onto the same connection. */
	post(PROTO_CHECKIN, "{\"n\":2}", &res);
	next_msg(CHILD_NET, &imsg);
	cr_assert_eq(imsg_get_type(&imsg), IMSG_NET_REQUEST,
	    "a new connection although one was kept");
	cr_assert_eq(imsg_get_data(&imsg, &rq2, sizeof(rq2)), 0);
	imsg_free(&imsg);
	cr_assert_eq(rq2.conn_id, nc.conn_id);
	next_msg(CHILD_NET, &imsg);
	cr_assert_eq(imsg_get_type(&imsg), IMSG_NET_REQUEST_BODY);
	imsg_free(&imsg);

	/* Gone meanwhile: once more on a fresh connection, same body. */
	answer(&rq2, 0, NET_ERR_STALE);
	cr_assert_eq(res.done, 0, "a stale connection reached the caller");
	resolve_and_connect(&nc2, &rq, NULL, 0, body, sizeof(body));
	cr_assert_neq(nc2.conn_id, nc.conn_id);
	cr_assert_str_eq(body, "{\"n\":2}");
	/* Stale twice is an error for the caller, not a loop. */
	answer(&rq, 0, NET_ERR_STALE);
	cr_assert_eq(res.done, 1);
	cr_assert_eq(res.r.error, TR_ERR_PROTOCOL);
}

Test(transport, connection_closed_while_idle_is_not_reused)
{
	struct net_connect	nc, nc2;
	struct net_request	rq;
	struct net_closed	cl;
	struct result		res;
	char			body[256];

	post(PROTO_CHECKIN, "{}", &res);
	resolve_and_connect(&nc, &rq, NULL, 0, body, sizeof(body));
	answer(&rq, 1, NET_OK);
	cr_assert_eq(res.done, 1);
	cl.conn_id = nc.conn_id;
	child_says(CHILD_NET, IMSG_NET_CLOSED, &cl, sizeof(cl));
	cr_assert_eq(kd.children[CHILD_NET].channel_open, 1);
	/* The next request resolves and connects again. */
	post(PROTO_CHECKIN, "{}", &res);
	resolve_and_connect(&nc2, &rq, NULL, 0, body, sizeof(body));
	cr_assert_gt(nc2.conn_id, nc.conn_id);
}

/* Run the parent's loop until *flag is (not) zero, at most about 2 s. */
static void
dispatch_until(const int *flag, int want)
{
	int	i;

	for (i = 0; i < 200 && (*flag != 0) != want; i++) {
		usleep(10000);
		ev_dispatch();
	}
}

/*
 * A round over and nothing queued for the idle spell: net and dns are
 * stopped like sync off stops them, saying why.  The next item starts
 * them again, and is not sent while the old ones are still on their way
 * out; past the same spell it is tried and fails like any other.
 */
Test(transport, idle_stops_net_and_dns_and_the_next_item_waits)
{
	struct net_connect	 nc;
	struct net_request	 rq;
	struct result		 res, res2;
	struct child		*c;
	char			 body[256];
	pid_t			 pid[2];
	enum child_id		 ids[2] = { CHILD_NET, CHILD_DNS };
	int			 i, status;

	transport_set_idle(300);
	post(PROTO_CHECKIN, "{}", &res);
	resolve_and_connect(&nc, &rq, NULL, 0, body, sizeof(body));
	answer(&rq, 1, NET_OK);
	cr_assert_eq(res.done, 1);
	cr_assert_eq(res.r.error, TR_OK);
	ev_dispatch();
	cr_assert_eq(kd.children[CHILD_NET].wanted, 1, "stopped at once");

	dispatch_until(&kd.children[CHILD_DNS].wanted, 0);
	for (i = 0; i < 2; i++) {
		c = &kd.children[ids[i]];
		pid[i] = c->pid;
		cr_assert_eq(c->wanted, 0, "%s not stopped when idle",
		    c->name);
		cr_assert_eq(c->stopping, 1);
		cr_assert_eq(c->channel_open, 0);
		cr_assert_str_eq(c->absent, "idle: no request to Fleet for "
		    TRANSPORT_IDLE_WHY "; started for the next one");
	}

	/* Not reaped yet (the parent's SIGCHLD never comes here). */
	transport_set_idle(600);
	post(PROTO_CHECKIN, "{}", &res2);
	for (i = 0; i < 2; i++) {
		c = &kd.children[ids[i]];
		cr_assert_eq(c->wanted, 1, "%s not wanted again", c->name);
		cr_assert_str_eq(c->absent, "");
	}
	for (i = 0; i < 5; i++) {
		usleep(20000);
		ev_dispatch();
	}
	cr_assert_eq(res2.done, 0, "tried while the old processes exit");
	dispatch_until(&res2.done, 1);
	cr_assert_eq(res2.done, 1, "waited past the idle spell");
	cr_assert_eq(res2.r.error, TR_ERR_DNS, "error %d: %s", res2.r.error,
	    res2.r.msg);

	/* Told to go with SIGTERM, not killed. */
	for (i = 0; i < 2; i++) {
		cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
		cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
		kd.children[ids[i]].pid = 0;
	}
	transport_set_idle(TRANSPORT_IDLE_MS);
}

/*
 * The egress proxy.  The transport starts over with Fleet at a name that
 * must never be resolved here, and the proxy (kobangd.proxy) on the
 * stand-in listener, with credentials in a file of mode `mode'.
 */
static void
proxy_setup(const char *cred, mode_t mode, char *url, size_t urlsz)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);
	char			path[128], err[256];
	int			fd;

	transport_shutdown(&kd);
	cr_assert_eq(getsockname(lsock, (struct sockaddr *)&sin, &sl), 0);
	snprintf(url, urlsz, "http://127.0.0.1:%u", ntohs(sin.sin_port));
	free(conf.sync.endpoint);
	conf.sync.endpoint = strdup("https://fleet.example.com:8443/k");
	free(conf.kobangd.proxy);
	conf.kobangd.proxy = strdup(url);
	if (cred != NULL) {
		snprintf(path, sizeof(path), "%s/proxy-cred", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		cr_assert_neq(fd, -1);
		cr_assert_eq(write(fd, cred, strlen(cred)),
		    (ssize_t)strlen(cred));
		cr_assert_eq(fchmod(fd, mode), 0);
		close(fd);
		free(conf.kobangd.proxy_credentials_file);
		conf.kobangd.proxy_credentials_file = strdup(path);
	}
	cr_assert_eq(transport_init(&kd, err, sizeof(err)), 0, "%s", err);
	snprintf(url, urlsz, "http://127.0.0.1:%u (kobangd.proxy)",
	    ntohs(sin.sin_port));
	cr_assert_str_eq(transport_proxy(), url);
	snprintf(url, urlsz, "127.0.0.1:%u", ntohs(sin.sin_port));
}

Test(transport, proxy_gets_the_connection_and_the_credentials)
{
	struct net_connect	nc;
	struct net_request	rq;
	struct net_response	rs;
	struct result		res;
	char			body[256], px[64];

	proxy_setup("kobpx:pa ss\n", 0600, px, sizeof(px));
	post(PROTO_ENROLL, "{\"token\":\"t\"}", &res);
	/* Only the proxy is resolved (asserted inside) and connected. */
	resolve_and_connect(&nc, &rq, NULL, 0, body, sizeof(body));
	cr_assert_eq(nc.use_proxy, 1);
	cr_assert_str_eq(nc.proxy, px);
	cr_assert_str_eq(nc.authority, "fleet.example.com:8443");
	cr_assert_str_eq(nc.servername, "fleet.example.com");
	/* base64("kobpx:pa ss"): the newline is not the password's. */
	cr_assert_str_eq(nc.proxy_auth, "a29icHg6cGEgc3M=");
	cr_assert_str_eq(rq.hosthdr, "fleet.example.com:8443");
	cr_assert_str_eq(rq.target, "/k/api/sensor/v1/enroll");

	/* A refused CONNECT: the proxy's words, no status of Fleet's. */
	memset(&rs, 0, sizeof(rs));
	rs.id = rq.id;
	rs.error = NET_ERR_PROXY;
	rs.retry_after = -1;
	snprintf(rs.msg, sizeof(rs.msg), "proxy %s answered 403 Forbidden",
	    px);
	child_says(CHILD_NET, IMSG_NET_RESPONSE, &rs, sizeof(rs));
	cr_assert_eq(res.done, 1);
	cr_assert_eq(res.r.error, TR_ERR_PROXY);
	cr_assert_eq(res.r.status, 0);
	cr_assert_str_eq(res.r.msg, rs.msg);
}

Test(transport, proxy_error_with_a_status_breaks_the_channel)
{
	struct net_connect	nc;
	struct net_request	rq;
	struct net_response	rs;
	struct result		res;
	char			body[256], px[64];

	proxy_setup(NULL, 0, px, sizeof(px));
	post(PROTO_ENROLL, "{}", &res);
	resolve_and_connect(&nc, &rq, NULL, 0, body, sizeof(body));
	cr_assert_str_eq(nc.proxy_auth, "", "credentials without a file");
	memset(&rs, 0, sizeof(rs));
	rs.id = rq.id;
	rs.error = NET_ERR_PROXY;
	rs.status = 401;
	rs.retry_after = -1;
	child_says(CHILD_NET, IMSG_NET_RESPONSE, &rs, sizeof(rs));
	assert_cut_off(CHILD_NET);
}

Test(transport, proxy_error_without_a_proxy_breaks_the_channel)
{
	struct net_connect	nc;
	struct net_request	rq;
	struct result		res;
	char			body[256];

	post(PROTO_ENROLL, "{}", &res);
	resolve_and_connect(&nc, &rq, NULL, 0, body, sizeof(body));
	cr_assert_eq(nc.use_proxy, 0);
	cr_assert_str_eq(nc.proxy, "");
	cr_assert_str_eq(nc.authority, "");
	cr_assert_str_eq(transport_proxy(), "none");
	answer(&rq, 0, NET_ERR_PROXY);
	assert_cut_off(CHILD_NET);
}

/* A credentials file others may read is refused; net is sent nothing. */
Test(transport, proxy_credentials_file_must_be_private)
{
	struct result		res;
	struct imsg		imsg;
	struct dns_query	q;
	struct dns_answer	a;
	struct pollfd		pfd;
	char			px[64];
	int			i, fd;

	proxy_setup("kobpx:secret", 0644, px, sizeof(px));
	post(PROTO_ENROLL, "{}", &res);
	/* The name servers' sockets come first (IMSG_DNS_SERVER). */
	next_query(&q);
	memset(&a, 0, sizeof(a));
	a.id = q.id;
	a.naddrs = 1;
	a.addrs[0].family = AF_INET;
	a.addrs[0].addr[0] = 127;
	a.addrs[0].addr[3] = 1;
	child_says(CHILD_DNS, IMSG_DNS_ANSWER, &a, sizeof(a));
	for (i = 0; i < 200 && !res.done; i++)
		ev_dispatch();
	cr_assert_eq(res.done, 1);
	cr_assert_eq(res.r.error, TR_ERR_PROXY);
	cr_assert(strstr(res.r.msg, "proxy credentials file") != NULL &&
	    strstr(res.r.msg, "mode 0600") != NULL, "%s", res.r.msg);
	cr_assert(strstr(res.r.msg, "secret") == NULL);
	/* Nothing but the CA bundle went to net: no connection. */
	flush(CHILD_NET);
	pfd.fd = peer[CHILD_NET].fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 50) == 1) {
		cr_assert_eq(imsgbuf_read(&peer[CHILD_NET]), 1);
		while (imsg_get(&peer[CHILD_NET], &imsg) > 0) {
			cr_assert(imsg_get_type(&imsg) == IMSG_NET_CA_BEGIN ||
			    imsg_get_type(&imsg) == IMSG_NET_CA_DATA,
			    "message %u sent to net", imsg_get_type(&imsg));
			imsg_free(&imsg);
		}
	}
	fd = accept4(lsock, NULL, NULL, SOCK_NONBLOCK);
	if (fd != -1)
		close(fd);
}

/* https_proxy and no_proxy, as curl reads them, without kobangd.proxy. */
Test(transport, proxy_from_the_environment)
{
	char	err[256];

	transport_shutdown(&kd);
	cr_assert_eq(setenv("HTTPS_PROXY", "http://upper.example:1", 1), 0);
	cr_assert_eq(setenv("https_proxy", "lower.example:3128", 1), 0);
	cr_assert_eq(transport_init(&kd, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(transport_proxy(),
	    "http://lower.example:3128 (https_proxy)");
	transport_shutdown(&kd);
	cr_assert_eq(unsetenv("https_proxy"), 0);
	cr_assert_eq(setenv("no_proxy", "", 1), 0);
	cr_assert_eq(setenv("NO_PROXY", "127.0.0.0/8", 1), 0);
	cr_assert_eq(transport_init(&kd, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(transport_proxy(),
	    "none: NO_PROXY exempts 127.0.0.1 from HTTPS_PROXY");
	transport_shutdown(&kd);
	/* The key wins, and no_proxy does not apply to it. */
	conf.kobangd.proxy = strdup("http://key.example:8080");
	cr_assert_eq(transport_init(&kd, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(transport_proxy(),
	    "http://key.example:8080 (kobangd.proxy)");
	transport_shutdown(&kd);
	/* Credentials in the variable: refused, and not repeated. */
	free(conf.kobangd.proxy);
	conf.kobangd.proxy = NULL;
	cr_assert_eq(unsetenv("NO_PROXY"), 0);
	cr_assert_eq(setenv("https_proxy", "http://u:hunter2@p:1", 1), 0);
	cr_assert_eq(transport_init(&kd, err, sizeof(err)), -1);
	cr_assert(strncmp(err, "https_proxy: user information", 29) == 0,
	    "%s", err);
	cr_assert(strstr(err, "hunter2") == NULL);
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("no_proxy");
	/* teardown shuts down what setup started: start it again. */
	cr_assert_eq(transport_init(&kd, err, sizeof(err)), 0, "%s", err);
}
