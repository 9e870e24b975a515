/*
 * The parent's half of the Fleet transport (see transport.h): one work
 * item at a time through resolve, connect, and the net child.  Every
 * message from net and dns is checked here, size first, and anything
 * that does not fit the state the parent is in breaks the channel.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tls.h>

#include "base64.h"
#include "compat.h"
#include "config.h"
#include "event.h"
#include "keystore.h"
#include "kobangd.h"
#include "log.h"
#include "netproto.h"
#include "rootfile.h"
#include "transport.h"

enum titem_kind {
	TI_POST,
	TI_INSPECT
};

struct titem {
	TAILQ_ENTRY(titem)	 entry;
	enum titem_kind		 kind;
	enum proto_route	 route;
	char			*body;		/* zeroed when freed */
	size_t			 len;
	uint8_t			*der;
	size_t			 derlen;
	transport_post_cb	 post_cb;
	transport_inspect_cb	 inspect_cb;
	void			*arg;
	uint32_t		 id;
	int			 retried;
};

enum tstate {
	TS_IDLE,
	TS_RESOLVE,
	TS_CONNECT,
	TS_NET
};

static struct {
	struct kobangd		*kd;
	int			 active;
	struct http_endpoint	 ep;
	/* The egress proxy, if one is used. */
	int			 use_proxy;
	struct http_proxy	 px;
	char			 authority[HTTP_HOST_MAX + 9];
	char			 proxy_desc[HTTP_HOST_MAX + 64];
	uint8_t			*ca;
	size_t			 ca_len;
	struct keystore		*ks;
	char			*cert_pem;
	size_t			 cert_len;
	uint32_t		 cert_gen;

	/* What the net child holds, as far as we told it. */
	pid_t			 net_pid;
	uint32_t		 net_cert_gen;
	uint32_t		 conn_id;	/* 0: no connection */
	int			 conn_cert;
	int			 conn_signed;
	char			 sign_err[KEYSTORE_ERRLEN]; /* this conn */
	int			 sign_failing;	/* the last one failed */
	uint32_t		 next_conn;
	uint32_t		 next_id;

	TAILQ_HEAD(, titem)	 queue;
	struct titem		*cur;
	enum tstate		 state;
	struct ev_timer		 timer;
	struct ev_timer		 kick;
	/*
	 * net and dns between rounds: stopped once the queue has been
	 * empty for TRANSPORT_IDLE_MS (asleep), started again by the next
	 * item, which waits until both are back (waking).
	 */
	struct ev_timer		 idle;
	int			 asleep;
	int			 waking;

	uint32_t		 query_id;
	struct dns_answer	 ans;
	uint32_t		 ans_next;
	int			 sock;
	char			 connect_err[128];

	struct net_response	 resp;
	int			 have_resp;
	uint8_t			*rbody;
	size_t			 rgot;
} tr;

/* TRANSPORT_IDLE_MS, but for the unit tests (transport_set_idle). */
static unsigned int	 tr_idle_ms = TRANSPORT_IDLE_MS;

static void	tr_start(void);
static void	tr_kick(void);
static void	tr_connect_next(void);
static int	tr_net_dispatch(struct kobangd *, struct child *,
		    struct imsg *);
static int	tr_dns_dispatch(struct kobangd *, struct child *,
		    struct imsg *);

/* What the parent resolves and connects to: the proxy, or Fleet. */
static const char *
tr_host(void)
{
	return (tr.use_proxy ? tr.px.host : tr.ep.host);
}

static uint16_t
tr_port(void)
{
	return (tr.use_proxy ? tr.px.port : tr.ep.port);
}

static const char *
tr_what(void)
{
	return (tr.use_proxy ? "proxy " : "");
}

static struct child *
tr_child(enum child_id id)
{
	return (&tr.kd->children[id]);
}

/* Taken for an item now: open, or not on its way (then the item fails). */
static int
tr_child_ready(enum child_id id)
{
	struct child	*c = tr_child(id);

	return (c->channel_open || (c->pid == 0 &&
	    !ev_timer_pending(&c->restart_timer)));
}

static void
tr_kick_cb(void *arg)
{
	if (tr.cur != NULL)
		return;
	if (TAILQ_EMPTY(&tr.queue)) {
		/* A round is over: net and dns go if no other follows. */
		if (!tr.asleep && !tr.waking)
			ev_timer_add(&tr.idle, tr_idle_ms);
		return;
	}
	/* Woken: the old processes may still be on their way out. */
	if (tr.waking) {
		if (!tr_child_ready(CHILD_NET) || !tr_child_ready(CHILD_DNS))
			return;		/* transport_child_started kicks */
		tr.waking = 0;
	}
	ev_timer_del(&tr.idle);
	tr.cur = TAILQ_FIRST(&tr.queue);
	TAILQ_REMOVE(&tr.queue, tr.cur, entry);
	tr_start();
}

/*
 * Nothing for Fleet for TRANSPORT_IDLE_MS: net and dns are stopped, the
 * way sync off stops them, so that between rounds the sensor weighs
 * what the parent and scan weigh.  Waking, the same timer bounds the
 * wait for them: past it the item is tried and fails like any other.
 */
static void
tr_idle_cb(void *arg)
{
	if (tr.waking) {
		log_warnx("sync: net and dns not back after %u ms",
		    tr_idle_ms);
		tr.waking = 0;
		tr_kick();
		return;
	}
	if (tr.cur != NULL || !TAILQ_EMPTY(&tr.queue) || tr.asleep)
		return;
	tr.asleep = 1;
	tr.conn_id = 0;
	tr.net_pid = 0;
	parent_children_sync(tr.kd, 0, "idle: no request to Fleet for "
	    TRANSPORT_IDLE_WHY "; started for the next one");
}

/* Start the next item from the event loop, never from a callback. */
static void
tr_kick(void)
{
	if (!ev_timer_pending(&tr.kick))
		ev_timer_add(&tr.kick, 0);
}

static void
tr_item_free(struct titem *it)
{
	if (it->body != NULL)
		freezero(it->body, it->len);
	free(it->der);
	free(it);
}

static void
tr_reset_state(void)
{
	ev_timer_del(&tr.timer);
	if (tr.sock != -1) {
		ev_fd_del(tr.sock);
		close(tr.sock);
		tr.sock = -1;
	}
	free(tr.rbody);
	tr.rbody = NULL;
	tr.rgot = 0;
	tr.have_resp = 0;
	tr.state = TS_IDLE;
}

/* The current item is done: its callback, then the next item. */
static void
tr_finish(struct tresult *res, const struct tcertinfo *ci)
{
	struct titem	*it = tr.cur;
	uint8_t		*body = tr.rbody;

	/* The body stays ours until the callback is done with it. */
	tr.rbody = NULL;
	tr_reset_state();
	tr.cur = NULL;
	if (it != NULL) {
		if (it->kind == TI_POST && it->post_cb != NULL)
			it->post_cb(tr.kd, res, it->arg);
		if (it->kind == TI_INSPECT && it->inspect_cb != NULL)
			it->inspect_cb(tr.kd, ci, it->arg);
		tr_item_free(it);
	}
	free(body);
	tr_kick();
}

static void
tr_fail(enum tr_error err, const char *fmt, ...)
    __attribute__((__format__ (printf, 2, 3)));

static void
tr_fail(enum tr_error err, const char *fmt, ...)
{
	struct tresult		res;
	struct tcertinfo	ci;
	va_list			ap;

	memset(&res, 0, sizeof(res));
	memset(&ci, 0, sizeof(ci));
	ci.ok = -1;
	res.error = err;
	res.retry_after = -1;
	va_start(ap, fmt);
	(void)vsnprintf(res.msg, sizeof(res.msg), fmt, ap);
	va_end(ap);
	tr_finish(&res, &ci);
}

static void
tr_timeout_cb(void *arg)
{
	switch (tr.state) {
	case TS_RESOLVE:
		/* A late answer carries an id we no longer wait for. */
		tr.query_id = 0;
		tr_fail(TR_ERR_DNS, "no answer from the resolver for %s%s",
		    tr_what(), tr_host());
		break;
	case TS_CONNECT:
		snprintf(tr.connect_err, sizeof(tr.connect_err), "timed out");
		ev_fd_del(tr.sock);
		close(tr.sock);
		tr.sock = -1;
		tr_connect_next();
		break;
	case TS_NET:
		/* net holds its own deadline; silence past it means stuck. */
		tr.conn_id = 0;
		tr.net_pid = 0;
		parent_child_broken(tr.kd, tr_child(CHILD_NET),
		    "no answer within the request's deadline");
		tr_fail(TR_ERR_INTERNAL, "the net process did not answer");
		break;
	case TS_IDLE:
		break;
	}
}

/*
 * The proxy: kobangd.proxy, else the environment as curl reads it for an
 * https:// URL (https_proxy, then HTTPS_PROXY; no_proxy, then NO_PROXY,
 * may exempt the Fleet host).  0, or -1 with a message.
 */
static int
tr_proxy_init(const struct config *conf, char *err, size_t errlen)
{
	const char	*v, *src = "kobangd.proxy", *np, *npsrc = "no_proxy";
	char		 e[160];

	tr.use_proxy = 0;
	strlcpy(tr.proxy_desc, "none", sizeof(tr.proxy_desc));
	if ((v = conf->kobangd.proxy) == NULL) {
		src = "https_proxy";
		if ((v = getenv(src)) == NULL || *v == '\0') {
			src = "HTTPS_PROXY";
			if ((v = getenv(src)) == NULL || *v == '\0')
				return (0);
		}
		if ((np = getenv(npsrc)) == NULL || *np == '\0') {
			npsrc = "NO_PROXY";
			np = getenv(npsrc);
		}
		if (np != NULL && http_no_proxy(np, tr.ep.host)) {
			snprintf(tr.proxy_desc, sizeof(tr.proxy_desc),
			    "none: %s exempts %s from %s", npsrc, tr.ep.host,
			    src);
			return (0);
		}
	}
	/* The message never repeats the value: it may hold a password. */
	if (http_proxy_parse(v, &tr.px, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "%s: %s", src, e);
		return (-1);
	}
	http_hostport(tr.ep.host, tr.ep.port, tr.authority,
	    sizeof(tr.authority));
	snprintf(tr.proxy_desc, sizeof(tr.proxy_desc), "http://%s (%s)",
	    tr.px.hostport, src);
	tr.use_proxy = 1;
	return (0);
}

int
transport_init(struct kobangd *kd, char *err, size_t errlen)
{
	const struct config_sync	*sc = &kd->conf->sync;
	const char			*cafile;
	struct stat			 st;
	ssize_t				 n;
	size_t				 off = 0;
	int				 fd;

	memset(&tr, 0, sizeof(tr));
	tr.kd = kd;
	tr.sock = -1;
	TAILQ_INIT(&tr.queue);
	ev_timer_init(&tr.timer, tr_timeout_cb, NULL);
	ev_timer_init(&tr.kick, tr_kick_cb, NULL);
	ev_timer_init(&tr.idle, tr_idle_cb, NULL);
	if (!sc->enabled || sc->endpoint == NULL) {
		snprintf(err, errlen, "sync is %s", !sc->enabled ?
		    "disabled" : "enabled but sync.endpoint is not set");
		return (-1);
	}
	if (http_endpoint_parse(sc->endpoint, &tr.ep, err, errlen) == -1 ||
	    tr_proxy_init(kd->conf, err, errlen) == -1)
		return (-1);

	/* The CA bundle: read here, as root, and handed to net as bytes. */
	if ((cafile = kd->conf->kobangd.fleet_ca_file) == NULL)
		cafile = access(TRANSPORT_SYSTEM_CA, R_OK) == 0 ?
		    TRANSPORT_SYSTEM_CA : tls_default_ca_cert_file();
	if ((fd = open(cafile, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errlen, "CA bundle %s: %s", cafile,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > NET_CA_MAX) {
		snprintf(err, errlen, "CA bundle %s: not a regular file of "
		    "1 to %d bytes", cafile, NET_CA_MAX);
		close(fd);
		return (-1);
	}
	if ((tr.ca = malloc((size_t)st.st_size)) == NULL)
		fatal(NULL);
	while (off < (size_t)st.st_size) {
		n = read(fd, tr.ca + off, (size_t)st.st_size - off);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			snprintf(err, errlen, "CA bundle %s: short read",
			    cafile);
			close(fd);
			free(tr.ca);
			tr.ca = NULL;
			return (-1);
		}
		off += (size_t)n;
	}
	close(fd);
	tr.ca_len = off;

	kd->children[CHILD_NET].dispatch = tr_net_dispatch;
	kd->children[CHILD_DNS].dispatch = tr_dns_dispatch;
	tr.active = 1;
	log_info("sync: Fleet at %s (port %u), CA bundle %s, proxy %s",
	    tr.ep.host, tr.ep.port, cafile, tr.proxy_desc);
	/* Before any request is queued: they are started now if not up. */
	parent_children_sync(kd, 1, NULL);
	return (0);
}

void
transport_set_idle(unsigned int ms)
{
	tr_idle_ms = ms;
}

int
transport_active(void)
{
	return (tr.active);
}

const struct http_endpoint *
transport_endpoint(void)
{
	return (tr.active ? &tr.ep : NULL);
}

const char *
transport_proxy(void)
{
	return (tr.active ? tr.proxy_desc : "");
}

void
transport_shutdown(struct kobangd *kd)
{
	struct titem	*it;

	if (!tr.active)
		return;
	kd->children[CHILD_NET].dispatch = NULL;
	kd->children[CHILD_DNS].dispatch = NULL;
	tr_reset_state();
	ev_timer_del(&tr.kick);
	ev_timer_del(&tr.idle);
	if (tr.cur != NULL)
		tr_item_free(tr.cur);
	while ((it = TAILQ_FIRST(&tr.queue)) != NULL) {
		TAILQ_REMOVE(&tr.queue, it, entry);
		tr_item_free(it);
	}
	free(tr.ca);
	if (tr.cert_pem != NULL)
		freezero(tr.cert_pem, tr.cert_len);
	memset(&tr, 0, sizeof(tr));
	tr.sock = -1;
}

void
transport_child_started(struct kobangd *kd, struct child *c)
{
	if (!tr.active)
		return;
	if (c->role == SANDBOX_NET) {
		/* A new process knows nothing: CA and certificate again. */
		tr.net_pid = 0;
		tr.conn_id = 0;
		if (tr.cur != NULL && tr.state == TS_NET)
			tr_fail(TR_ERR_INTERNAL, "the net process restarted");
	} else if (c->role == SANDBOX_DNS && tr.state == TS_RESOLVE) {
		tr.query_id = 0;
		tr_fail(TR_ERR_DNS, "the dns process restarted");
	}
	/* An item waiting for net and dns to come back. */
	if (tr.waking)
		tr_kick();
}

int
transport_set_identity(struct keystore *ks, const char *pem, size_t len)
{
	char	*copy = NULL;

	if (pem != NULL) {
		if (len == 0 || len > NET_CERT_PEM_MAX ||
		    (copy = malloc(len)) == NULL)
			return (-1);
		memcpy(copy, pem, len);
	}
	if (tr.cert_pem != NULL)
		freezero(tr.cert_pem, tr.cert_len);
	tr.ks = ks;
	tr.cert_pem = copy;
	tr.cert_len = pem != NULL ? len : 0;
	tr.cert_gen++;
	/* A connection made with the old certificate is not reused. */
	tr.conn_id = 0;
	return (0);
}

const char *
transport_auth(void)
{
	if (tr.cert_pem != NULL)
		return ("certificate");
	if (tr.active && tr.kd->conf->sync.sensor_token != NULL)
		return ("sensor token");
	return ("none");
}

static int
tr_enqueue(struct titem *it)
{
	if (!tr.active) {
		tr_item_free(it);
		return (-1);
	}
	TAILQ_INSERT_TAIL(&tr.queue, it, entry);
	/* While waking, the timer bounds the wait for net and dns. */
	if (!tr.waking)
		ev_timer_del(&tr.idle);
	if (tr.asleep) {
		log_debug("sync: starting net and dns for %s",
		    it->kind == TI_INSPECT ? "a certificate check" :
		    proto_route_name(it->route));
		tr.asleep = 0;
		tr.waking = 1;
		/* Bounds the wait (tr_idle_cb). */
		ev_timer_add(&tr.idle, tr_idle_ms);
		parent_children_sync(tr.kd, 1, NULL);
	}
	tr_kick();
	return (0);
}

int
transport_post(enum proto_route route, char *body, size_t len,
    transport_post_cb cb, void *arg)
{
	struct titem	*it;

	if ((unsigned int)route >= PROTO_NROUTES || len == 0 ||
	    len > NET_REQ_BODY_MAX || (it = calloc(1, sizeof(*it))) == NULL) {
		freezero(body, len);
		return (-1);
	}
	it->kind = TI_POST;
	it->route = route;
	it->body = body;
	it->len = len;
	it->post_cb = cb;
	it->arg = arg;
	return (tr_enqueue(it));
}

int
transport_inspect(const uint8_t *der, size_t len, transport_inspect_cb cb,
    void *arg)
{
	struct titem	*it;

	if (len == 0 || len > PROTO_CERT_MAX ||
	    (it = calloc(1, sizeof(*it))) == NULL)
		return (-1);
	if ((it->der = malloc(len)) == NULL) {
		free(it);
		return (-1);
	}
	memcpy(it->der, der, len);
	it->derlen = len;
	it->kind = TI_INSPECT;
	it->inspect_cb = cb;
	it->arg = arg;
	return (tr_enqueue(it));
}

static int
tr_want_cert(void)
{
	return (proto_route_protected(tr.cur->route) && tr.cert_pem != NULL);
}

/* net must be running; a new process gets the CA bundle first. */
static int
tr_net_ready(void)
{
	struct child		*c = tr_child(CHILD_NET);
	struct net_ca_begin	 cb;
	size_t			 off, n;

	if (!c->channel_open || c->pid <= 0) {
		tr_fail(TR_ERR_INTERNAL, "the net process is not running");
		return (-1);
	}
	if (tr.net_pid == c->pid)
		return (0);
	cb.total = (uint32_t)tr.ca_len;
	if (imsg_compose(&c->ibuf, IMSG_NET_CA_BEGIN, 0, 0, -1, &cb,
	    sizeof(cb)) == -1)
		fatal("imsg_compose");
	for (off = 0; off < tr.ca_len; off += n) {
		n = tr.ca_len - off > NET_CHUNK ? NET_CHUNK : tr.ca_len - off;
		if (imsg_compose(&c->ibuf, IMSG_NET_CA_DATA, 0, 0, -1,
		    tr.ca + off, n) == -1)
			fatal("imsg_compose");
	}
	tr.net_pid = c->pid;
	tr.net_cert_gen = 0;
	tr.conn_id = 0;
	return (0);
}

static void
tr_send_request(void)
{
	struct child		*c = tr_child(CHILD_NET);
	struct net_request	 rq;
	const char		*tok = tr.kd->conf->sync.sensor_token;
	size_t			 off, n, i;

	memset(&rq, 0, sizeof(rq));
	rq.id = tr.cur->id = ++tr.next_id;
	rq.conn_id = tr.conn_id;
	rq.route = tr.cur->route;
	rq.timeout_ms = TRANSPORT_REQUEST_MS;
	rq.body_len = (uint32_t)tr.cur->len;
	strlcpy(rq.hosthdr, tr.ep.hosthdr, sizeof(rq.hosthdr));
	if (http_target(&tr.ep, proto_route_path(tr.cur->route), rq.target,
	    sizeof(rq.target)) == -1) {
		tr_fail(TR_ERR_INTERNAL, "request target too long");
		return;
	}
	/* The development token, only while there is no certificate. */
	if (proto_route_protected(tr.cur->route) && tr.cert_pem == NULL &&
	    tok != NULL) {
		for (i = 0; tok[i] != '\0'; i++)
			if ((unsigned char)tok[i] < 0x20 || tok[i] == 0x7f)
				break;
		if (tok[i] != '\0' || strlen(tok) > PROTO_TOKEN_MAX) {
			tr_fail(TR_ERR_INTERNAL, "sync.sensorToken holds a "
			    "control character or is too long");
			return;
		}
		rq.use_token = 1;
		strlcpy(rq.token, tok, sizeof(rq.token));
	}
	if (imsg_compose(&c->ibuf, IMSG_NET_REQUEST, 0, 0, -1, &rq,
	    sizeof(rq)) == -1)
		fatal("imsg_compose");
	explicit_bzero(&rq, sizeof(rq));
	for (off = 0; off < tr.cur->len; off += n) {
		n = tr.cur->len - off > NET_CHUNK ? NET_CHUNK :
		    tr.cur->len - off;
		if (imsg_compose(&c->ibuf, IMSG_NET_REQUEST_BODY, 0, 0, -1,
		    tr.cur->body + off, n) == -1)
			fatal("imsg_compose");
	}
	tr.state = TS_NET;
	tr.have_resp = 0;
	ev_timer_add(&tr.timer, TRANSPORT_REQUEST_MS + 5000);
}

/*
 * The proxy's credentials for one CONNECT: "user:password" from the
 * root-only file, base64 into auth.  0 (none configured, or auth
 * filled), or -1 with a message.  Nothing of the file stays in memory.
 */
static int
tr_proxy_auth(char *auth, size_t authsz, char *err, size_t errlen)
{
	const char	*path = tr.kd->conf->kobangd.proxy_credentials_file;
	char		*buf;
	size_t		 size, len, i;
	int		 bad = 0;

	auth[0] = '\0';
	if (path == NULL)
		return (0);
	if (rootfile_read(path, NET_PROXY_CRED_MAX, "proxy credentials file",
	    &buf, &size, &len, err, errlen) == -1)
		return (-1);
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			bad = 1;
	if (bad || len == 0 || memchr(buf, ':', len) == NULL ||
	    b64_encode((uint8_t *)buf, len, auth, authsz) == -1) {
		freezero(buf, size);
		explicit_bzero(auth, authsz);
		snprintf(err, errlen, "proxy credentials file %s: not one "
		    "line \"user:password\" without control characters",
		    path);
		return (-1);
	}
	freezero(buf, size);
	return (0);
}

/* A connected socket: to net with the server name, then the request. */
static void
tr_connected(int s)
{
	struct child		*c = tr_child(CHILD_NET);
	struct net_connect	 nc;
	char			 err[256];
	int			 want = tr_want_cert();

	if (tr_net_ready() == -1) {
		close(s);
		return;
	}
	memset(&nc, 0, sizeof(nc));
	if (tr.use_proxy) {
		if (tr_proxy_auth(nc.proxy_auth, sizeof(nc.proxy_auth), err,
		    sizeof(err)) == -1) {
			close(s);
			tr_fail(TR_ERR_PROXY, "%s", err);
			return;
		}
		nc.use_proxy = 1;
		strlcpy(nc.proxy, tr.px.hostport, sizeof(nc.proxy));
		strlcpy(nc.authority, tr.authority, sizeof(nc.authority));
	}
	if (want && tr.net_cert_gen != tr.cert_gen) {
		if (imsg_compose(&c->ibuf, IMSG_NET_CERT, 0, 0, -1,
		    tr.cert_pem, tr.cert_len) == -1)
			fatal("imsg_compose");
		tr.net_cert_gen = tr.cert_gen;
	}
	nc.conn_id = tr.conn_id = ++tr.next_conn;
	nc.use_cert = (uint32_t)want;
	strlcpy(nc.servername, tr.ep.host, sizeof(nc.servername));
	tr.conn_cert = want;
	tr.conn_signed = 0;
	tr.sign_err[0] = '\0';
	/* The descriptor is the imsg library's from here on. */
	if (imsg_compose(&c->ibuf, IMSG_NET_CONNECT, 0, 0, s, &nc,
	    sizeof(nc)) == -1)
		fatal("imsg_compose");
	explicit_bzero(&nc, sizeof(nc));
	log_debug("sync: connection %u to %s:%u%s%s for %s%s", tr.conn_id,
	    tr.ep.host, tr.ep.port, tr.use_proxy ? " through proxy " : "",
	    tr.use_proxy ? tr.px.hostport : "",
	    proto_route_name(tr.cur->route),
	    want ? ", with the client certificate" : "");
	tr_send_request();
}

static void
tr_connect_cb(int fd, short revents, void *arg)
{
	socklen_t	len = sizeof(int);
	int		e = 0;

	ev_fd_del(fd);
	ev_timer_del(&tr.timer);
	tr.sock = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		e = errno;
	if (e != 0) {
		snprintf(tr.connect_err, sizeof(tr.connect_err), "%s",
		    strerror(e));
		close(fd);
		tr_connect_next();
		return;
	}
	tr_connected(fd);
}

static void
tr_connect_next(void)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct dns_addr		*a;
	socklen_t		 slen;
	int			 s;

	while (tr.ans_next < tr.ans.naddrs) {
		a = &tr.ans.addrs[tr.ans_next++];
		memset(&ss, 0, sizeof(ss));
		if (a->family == AF_INET) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(tr_port());
			memcpy(&sin->sin_addr, a->addr, 4);
			slen = sizeof(*sin);
		} else {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(tr_port());
			memcpy(&sin6->sin6_addr, a->addr, 16);
			slen = sizeof(*sin6);
		}
		if ((s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1) {
			snprintf(tr.connect_err, sizeof(tr.connect_err),
			    "socket: %s", strerror(errno));
			continue;
		}
		if (connect(s, (struct sockaddr *)&ss, slen) == 0) {
			tr_connected(s);
			return;
		}
		if (errno != EINPROGRESS) {
			snprintf(tr.connect_err, sizeof(tr.connect_err), "%s",
			    strerror(errno));
			close(s);
			continue;
		}
		if (ev_fd_add(s, POLLOUT, NULL, tr_connect_cb, NULL) == -1) {
			close(s);
			tr_fail(TR_ERR_INTERNAL, "cannot watch a socket");
			return;
		}
		tr.sock = s;
		tr.state = TS_CONNECT;
		ev_timer_add(&tr.timer, TRANSPORT_CONNECT_MS);
		return;
	}
	tr_fail(TR_ERR_CONNECT, "cannot connect to %s%s port %u: %s",
	    tr_what(), tr_host(), tr_port(), tr.connect_err[0] ?
	    tr.connect_err : "no address");
}

static void
tr_resolve(void)
{
	struct child		*c = tr_child(CHILD_DNS);
	struct dns_query	 q;

	if (!c->channel_open || c->pid <= 0) {
		tr_fail(TR_ERR_DNS, "the dns process is not running");
		return;
	}
	/* The only peers dns can reach: resolv.conf's, read now. */
	if (dns_servers_send(&c->ibuf) == 0) {
		tr_fail(TR_ERR_DNS, "no name server can be reached");
		return;
	}
	memset(&q, 0, sizeof(q));
	q.id = tr.query_id = ++tr.next_id;
	strlcpy(q.host, tr_host(), sizeof(q.host));
	if (imsg_compose(&c->ibuf, IMSG_DNS_QUERY, 0, 0, -1, &q,
	    sizeof(q)) == -1)
		fatal("imsg_compose");
	tr.state = TS_RESOLVE;
	ev_timer_add(&tr.timer, TRANSPORT_DNS_MS);
}

static void
tr_start(void)
{
	struct child	*c = tr_child(CHILD_NET);
	struct ibuf	*ib;

	if (tr.cur->kind == TI_INSPECT) {
		if (tr_net_ready() == -1)
			return;
		tr.cur->id = ++tr.next_id;
		if ((ib = imsg_create(&c->ibuf, IMSG_NET_CERT_INSPECT, 0, 0,
		    sizeof(uint32_t) + tr.cur->derlen)) == NULL ||
		    imsg_add(ib, &tr.cur->id, sizeof(tr.cur->id)) == -1 ||
		    imsg_add(ib, tr.cur->der, tr.cur->derlen) == -1)
			fatal("imsg_create");
		imsg_close(&c->ibuf, ib);
		tr.state = TS_NET;
		ev_timer_add(&tr.timer, TRANSPORT_REQUEST_MS);
		return;
	}
	/* Reuse the kept-alive connection if it fits this route. */
	if (tr.conn_id != 0 && tr.net_pid == c->pid && c->channel_open &&
	    tr.conn_cert == tr_want_cert()) {
		tr_send_request();
		return;
	}
	tr.conn_id = 0;
	memset(tr.connect_err, 0, sizeof(tr.connect_err));
	tr_resolve();
}

static const char *
tr_net_error(int e)
{
	switch (e) {
	case NET_ERR_TLS:
		return ("TLS");
	case NET_ERR_IO:
		return ("connection");
	case NET_ERR_TIMEOUT:
		return ("timeout");
	case NET_ERR_HTTP:
		return ("HTTP");
	case NET_ERR_DECODE:
		return ("response");
	case NET_ERR_STALE:
		return ("connection");
	default:
		return ("internal");
	}
}

static void
tr_complete_post(void)
{
	struct net_response	*rs = &tr.resp;
	struct tresult		 res;
	struct tcertinfo	 ci;

	if (rs->error == NET_ERR_STALE && !tr.cur->retried) {
		/* The kept-alive connection was gone: once more, afresh. */
		log_debug("sync: connection %u went away; reconnecting",
		    tr.conn_id);
		tr.cur->retried = 1;
		tr_reset_state();
		tr.conn_id = 0;
		tr_start();
		return;
	}
	memset(&res, 0, sizeof(res));
	memset(&ci, 0, sizeof(ci));
	res.status = rs->status;
	res.retry_after = rs->retry_after;
	switch (rs->error) {
	case NET_OK:
		if (rs->status >= 200 && rs->status <= 299) {
			res.error = TR_OK;
			res.body = tr.rbody;
			res.body_len = tr.rgot;
		} else {
			res.error = TR_ERR_STATUS;
			snprintf(res.msg, sizeof(res.msg), "HTTP status %d",
			    rs->status);
		}
		break;
	case NET_ERR_TLS:
		res.error = TR_ERR_TLS;
		break;
	case NET_ERR_TIMEOUT:
		res.error = TR_ERR_TIMEOUT;
		break;
	case NET_ERR_INTERNAL:
		res.error = TR_ERR_INTERNAL;
		break;
	case NET_ERR_PROXY:
		res.error = TR_ERR_PROXY;
		break;
	default:
		res.error = TR_ERR_PROTOCOL;
		break;
	}
	/* A proxy's message names the proxy already. */
	if (rs->error == NET_ERR_PROXY)
		snprintf(res.msg, sizeof(res.msg), "%s", rs->msg);
	else if (rs->error != NET_OK && tr.sign_err[0] != '\0')
		/* The handshake failed because the key did not sign. */
		snprintf(res.msg, sizeof(res.msg), "the device key did not "
		    "sign the handshake: %.200s", tr.sign_err);
	else if (rs->error != NET_OK)
		snprintf(res.msg, sizeof(res.msg), "%s error: %.200s",
		    tr_net_error(rs->error), rs->msg);
	tr_finish(&res, &ci);
}

static int
tr_printable(const char *s, size_t size)
{
	const char	*end = memchr(s, '\0', size);

	if (end == NULL)
		return (0);
	for (; s < end; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return (0);
	return (1);
}

static int
tr_recv_response(struct child *c, struct imsg *imsg)
{
	struct net_response	*rs = &tr.resp;

	if (imsg_get_data(imsg, rs, sizeof(*rs)) == -1 ||
	    tr.state != TS_NET || tr.cur == NULL || tr.cur->kind != TI_POST ||
	    tr.have_resp || rs->id != tr.cur->id ||
	    rs->error < 0 || rs->error >= NET_ERR_COUNT ||
	    (rs->status != 0 && (rs->status < 100 || rs->status > 599)) ||
	    (rs->error == NET_ERR_PROXY && (rs->status != 0 ||
	    !tr.use_proxy)) ||
	    rs->keepalive > 1 || rs->retry_after < -1 ||
	    rs->retry_after > 86400 || rs->body_len > HTTP_MAX_BODY ||
	    (rs->body_len > 0 && (rs->error != NET_OK || rs->status < 200 ||
	    rs->status > 299)) ||
	    !tr_printable(rs->msg, sizeof(rs->msg)) ||
	    !tr_printable(rs->tls_version, sizeof(rs->tls_version))) {
		log_warnx("%s: malformed or unexpected response", c->name);
		return (-1);
	}
	tr.have_resp = 1;
	/* net closed the connection unless it said it kept it. */
	if (rs->error != NET_OK || !rs->keepalive)
		tr.conn_id = 0;
	if ((tr.rbody = malloc((size_t)rs->body_len + 1)) == NULL)
		fatal(NULL);
	tr.rgot = 0;
	tr.rbody[0] = '\0';
	if (rs->body_len == 0)
		tr_complete_post();
	return (0);
}

static int
tr_recv_body(struct child *c, struct imsg *imsg)
{
	size_t	len = imsg_get_len(imsg);

	if (!tr.have_resp || tr.state != TS_NET || len == 0 ||
	    len > NET_CHUNK || len > tr.resp.body_len - tr.rgot ||
	    imsg_get_buf(imsg, tr.rbody + tr.rgot, len) == -1) {
		log_warnx("%s: unexpected response body", c->name);
		return (-1);
	}
	tr.rgot += len;
	if (tr.rgot == tr.resp.body_len) {
		tr.rbody[tr.rgot] = '\0';
		tr_complete_post();
	}
	return (0);
}

/*
 * The one private-key operation: only for the connection in progress,
 * made with the certificate, once, over a digest of exactly 32 bytes.
 */
static int
tr_recv_sign(struct child *c, struct imsg *imsg)
{
	struct net_sign		rq;
	struct net_signature	rs;
	size_t			len = 0;

	if (imsg_get_data(imsg, &rq, sizeof(rq)) == -1 ||
	    tr.state != TS_NET || tr.cur == NULL || tr.cur->kind != TI_POST ||
	    tr.have_resp || rq.conn_id == 0 || rq.conn_id != tr.conn_id ||
	    !tr.conn_cert || rq.dlen != NETKEY_DIGEST_LEN) {
		log_warnx("%s: signature request outside a handshake the "
		    "parent set up", c->name);
		return (-1);
	}
	memset(&rs, 0, sizeof(rs));
	rs.conn_id = rq.conn_id;
	if (tr.conn_signed) {
		log_warnx("sync: refusing a second signature for connection %u",
		    rq.conn_id);
	} else if (tr.ks == NULL || keystore_sign(tr.ks, rq.digest, rq.dlen,
	    rs.sig, &len) == -1 || len > sizeof(rs.sig)) {
		strlcpy(tr.sign_err, tr.ks != NULL &&
		    keystore_error(tr.ks, NULL) != NULL ?
		    keystore_error(tr.ks, NULL) : "signing failed",
		    sizeof(tr.sign_err));
		log_warnx("sync: cannot sign for connection %u with the %s "
		    "key: %s", rq.conn_id, tr.ks != NULL ?
		    keystore_store(tr.ks) : "missing", tr.sign_err);
		tr.sign_failing = 1;
		len = 0;
	} else {
		if (tr.sign_failing)
			log_info("sync: the %s key signs again",
			    keystore_store(tr.ks));
		tr.sign_failing = 0;
		tr.conn_signed = 1;
		log_info("sync: signed the TLS handshake of connection %u to "
		    "%s (%s)", rq.conn_id, tr.ep.host,
		    proto_route_name(tr.cur->route));
	}
	rs.len = (uint32_t)len;
	if (imsg_compose(&c->ibuf, IMSG_NET_SIGNATURE, 0, 0, -1, &rs,
	    sizeof(rs)) == -1)
		fatal("imsg_compose");
	return (0);
}

static int
tr_recv_closed(struct child *c, struct imsg *imsg)
{
	struct net_closed	nc;

	if (imsg_get_data(imsg, &nc, sizeof(nc)) == -1 || nc.conn_id == 0 ||
	    nc.conn_id > tr.next_conn) {
		log_warnx("%s: malformed close notice", c->name);
		return (-1);
	}
	if (nc.conn_id == tr.conn_id) {
		log_debug("sync: connection %u closed while idle", nc.conn_id);
		tr.conn_id = 0;
	}
	return (0);
}

static int
tr_recv_certinfo(struct child *c, struct imsg *imsg)
{
	struct net_cert_info	ni;
	struct tcertinfo	ci;
	struct tresult		res;

	if (imsg_get_data(imsg, &ni, sizeof(ni)) == -1 ||
	    tr.state != TS_NET || tr.cur == NULL ||
	    tr.cur->kind != TI_INSPECT || ni.id != tr.cur->id ||
	    (ni.ok != 0 && ni.ok != 1) ||
	    !tr_printable(ni.subject, sizeof(ni.subject)) ||
	    !tr_printable(ni.issuer, sizeof(ni.issuer))) {
		log_warnx("%s: malformed certificate information", c->name);
		return (-1);
	}
	memset(&ci, 0, sizeof(ci));
	ci.ok = ni.ok;
	memcpy(ci.spki_sha256, ni.spki_sha256, sizeof(ci.spki_sha256));
	ci.not_before = ni.not_before;
	ci.not_after = ni.not_after;
	strlcpy(ci.subject, ni.subject, sizeof(ci.subject));
	strlcpy(ci.issuer, ni.issuer, sizeof(ci.issuer));
	memset(&res, 0, sizeof(res));
	tr_finish(&res, &ci);
	return (0);
}

static int
tr_net_dispatch(struct kobangd *kd, struct child *c, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_NET_RESPONSE:
		return (tr_recv_response(c, imsg));
	case IMSG_NET_RESPONSE_BODY:
		return (tr_recv_body(c, imsg));
	case IMSG_NET_SIGN:
		return (tr_recv_sign(c, imsg));
	case IMSG_NET_CLOSED:
		return (tr_recv_closed(c, imsg));
	case IMSG_NET_CERT_INFO:
		return (tr_recv_certinfo(c, imsg));
	default:
		log_warnx("%s: unknown message type %u", c->name,
		    imsg_get_type(imsg));
		return (-1);
	}
}

static int
tr_dns_dispatch(struct kobangd *kd, struct child *c, struct imsg *imsg)
{
	struct dns_answer	a;
	uint32_t		i;

	if (imsg_get_type(imsg) != IMSG_DNS_ANSWER ||
	    imsg_get_data(imsg, &a, sizeof(a)) == -1 ||
	    a.id == 0 || a.id > tr.next_id || a.naddrs > DNS_MAX_ADDRS ||
	    (a.error == 0) != (a.naddrs > 0)) {
		log_warnx("%s: malformed answer", c->name);
		return (-1);
	}
	for (i = 0; i < a.naddrs; i++)
		if (a.addrs[i].family != AF_INET &&
		    a.addrs[i].family != AF_INET6) {
			log_warnx("%s: answer with address family %u",
			    c->name, a.addrs[i].family);
			return (-1);
		}
	/* An answer we stopped waiting for. */
	if (tr.state != TS_RESOLVE || a.id != tr.query_id)
		return (0);
	ev_timer_del(&tr.timer);
	tr.query_id = 0;
	if (a.error != 0) {
		tr_fail(TR_ERR_DNS, "cannot resolve %s%s: %s", tr_what(),
		    tr_host(), gai_strerror(a.error));
		return (0);
	}
	tr.ans = a;
	tr.ans_next = 0;
	tr_connect_next();
	return (0);
}
