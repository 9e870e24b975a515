/*
 * The resolver child: turns the Fleet host name into numeric addresses
 * for the parent, so no resolver runs as root nor inside the TLS
 * process.  It answers with addresses only; the parent connects.
 *
 * It makes no socket and no connection: before each query the parent
 * hands it one UDP socket per name server of resolv.conf, already
 * connected (IMSG_DNS_SERVER), and c-ares runs over those through its
 * socket functions.  A "connect" to any other address fails, so the
 * name servers are all this process can reach, on every kernel.  TCP is
 * not used: a truncated answer is taken as it is (ARES_FLAG_IGNTC), and
 * EDNS lets a server answer in up to 1232 bytes over UDP.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "kobangd.h"
#include "log.h"
#include "netproto.h"

/* Within the parent's TRANSPORT_DNS_MS for three servers, two tries. */
#define DNS_TIMEOUT_MS		1000
#define DNS_TRIES		2

static struct imsgbuf	dns_ibuf;

/* The set being received or in use; complete when nsrv == srv_count. */
static struct {
	struct dns_server	s;
	int			fd;
} srv[DNS_MAX_SERVERS];
static int	nsrv, srv_count;

void
dns_main(const char *user)
{
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		fatalx("ares_library_init");
	child_setup("dns", SANDBOX_DNS, user, &dns_ibuf);
	child_loop(&dns_ibuf, dns_dispatch_imsg);
}

static void
dns_servers_clear(void)
{
	int	i;

	for (i = 0; i < nsrv; i++)
		close(srv[i].fd);
	nsrv = srv_count = 0;
}

/*
 * Index 0 starts a new set; the rest must follow in order with the same
 * count.  The descriptor is ours from here on, kept or closed.
 */
int
dns_server_take(const struct dns_server *s, int fd)
{
	if (fd == -1 || s->count < 1 || s->count > DNS_MAX_SERVERS ||
	    (s->family != AF_INET && s->family != AF_INET6) ||
	    s->port < 1 || s->port > 65535 ||
	    (s->family == AF_INET &&
	    memcmp(s->addr + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) != 0))
		goto bad;
	if (s->index == 0)
		dns_servers_clear();
	if (s->index != (uint32_t)nsrv || (nsrv > 0 &&
	    s->count != (uint32_t)srv_count) || s->index >= s->count)
		goto bad;
	srv_count = (int)s->count;
	srv[nsrv].s = *s;
	srv[nsrv].fd = fd;
	nsrv++;
	return (0);
 bad:
	if (fd != -1)
		close(fd);
	return (-1);
}

static int
dns_server_find(const struct sockaddr *sa, ares_socklen_t len)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;
	int				 i;

	for (i = 0; i < nsrv; i++) {
		if (srv[i].s.family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET && len >= sizeof(*sin) &&
		    ntohs(sin->sin_port) == srv[i].s.port &&
		    memcmp(&sin->sin_addr, srv[i].s.addr, 4) == 0)
			return (i);
		if (sa->sa_family == AF_INET6 && len >= sizeof(*sin6) &&
		    ntohs(sin6->sin6_port) == srv[i].s.port &&
		    memcmp(&sin6->sin6_addr, srv[i].s.addr, 16) == 0)
			return (i);
	}
	return (-1);
}

/*
 * c-ares asks for a socket before it says where to: hand it a copy of
 * a server socket of that family, replaced by the right one at connect.
 */
static ares_socket_t
dns_asocket(int family, int type, int proto, void *arg)
{
	int	i;

	if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_DGRAM) {
		errno = EACCES;
		return (ARES_SOCKET_BAD);
	}
	for (i = 0; i < nsrv; i++)
		if ((int)srv[i].s.family == family)
			return (fcntl(srv[i].fd, F_DUPFD_CLOEXEC, 0));
	/* c-ares takes this as "no such family" (address sorting). */
	errno = EAFNOSUPPORT;
	return (ARES_SOCKET_BAD);
}

static int
dns_aclose(ares_socket_t fd, void *arg)
{
	return (close(fd));
}

/* Only the peers the parent connected; the socket becomes that one. */
static int
dns_aconnect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len,
    void *arg)
{
	int	i;

	if ((i = dns_server_find(sa, len)) == -1) {
		errno = EACCES;
		return (-1);
	}
	if (fd != srv[i].fd && dup3(srv[i].fd, fd, O_CLOEXEC) == -1)
		return (-1);
	return (0);
}

static ares_ssize_t
dns_arecvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
    struct sockaddr *from, ares_socklen_t *fromlen, void *arg)
{
	return (recvfrom(fd, buf, len, flags, from, fromlen));
}

static ares_ssize_t
dns_asendv(ares_socket_t fd, const struct iovec *iov, int iovcnt, void *arg)
{
	/* A connected socket: no address can be given, none is. */
	return (writev(fd, iov, iovcnt));
}

static const struct ares_socket_functions dns_sockfuncs = {
	dns_asocket, dns_aclose, dns_aconnect, dns_arecvfrom, dns_asendv
};

struct dns_result {
	struct dns_answer	*a;
	int			 done;
};

static void
dns_done(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct dns_result	*r = arg;
	struct dns_answer	*a = r->a;
	struct ares_addrinfo_node *ai;
	struct dns_addr		 d;
	uint32_t		 i;
	int			 dup;

	r->done = 1;
	switch (status) {
	case ARES_SUCCESS:
		break;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
	case ARES_ENONAME:
		a->error = EAI_NONAME;
		break;
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED:
	case ARES_ESERVFAIL:
		a->error = EAI_AGAIN;
		break;
	case ARES_ENOMEM:
		a->error = EAI_MEMORY;
		break;
	default:
		a->error = EAI_FAIL;
		break;
	}
	if (status != ARES_SUCCESS || res == NULL) {
		log_debug("resolving: %s", ares_strerror(status));
		if (res != NULL)
			ares_freeaddrinfo(res);
		return;
	}
	for (ai = res->nodes; ai != NULL && a->naddrs < DNS_MAX_ADDRS;
	    ai = ai->ai_next) {
		memset(&d, 0, sizeof(d));
		if (ai->ai_family == AF_INET &&
		    (size_t)ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
			d.family = AF_INET;
			memcpy(d.addr, &((struct sockaddr_in *)
			    ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6 &&
		    (size_t)ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			d.family = AF_INET6;
			memcpy(d.addr, &((struct sockaddr_in6 *)
			    ai->ai_addr)->sin6_addr, 16);
		} else
			continue;
		for (dup = 0, i = 0; i < a->naddrs && !dup; i++)
			dup = memcmp(&a->addrs[i], &d, sizeof(d)) == 0;
		if (!dup)
			a->addrs[a->naddrs++] = d;
	}
	ares_freeaddrinfo(res);
}

/* Resolve host over the servers taken; the answer's id is the caller's. */
void
dns_lookup(const char *host, struct dns_answer *a)
{
	struct ares_options		 opt;
	struct ares_addrinfo_hints	 hints;
	struct ares_addr_port_node	 nodes[DNS_MAX_SERVERS];
	struct dns_result		 r;
	struct pollfd			 pfd[ARES_GETSOCK_MAXNUM];
	ares_socket_t			 socks[ARES_GETSOCK_MAXNUM];
	struct timeval			 tv, *tvp;
	ares_channel			 ch;
	unsigned int			 bits, rd, wr;
	int				 i, n, ms, e;

	a->error = 0;
	a->naddrs = 0;
	if (nsrv == 0 || nsrv != srv_count) {
		log_warnx("no name server set for this query");
		a->error = EAI_AGAIN;
		return;
	}
	memset(&opt, 0, sizeof(opt));
	opt.flags = ARES_FLAG_IGNTC | ARES_FLAG_EDNS;
	opt.timeout = DNS_TIMEOUT_MS;
	opt.tries = DNS_TRIES;
	if ((e = ares_init_options(&ch, &opt, ARES_OPT_FLAGS |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES)) != ARES_SUCCESS) {
		log_warnx("ares_init_options: %s", ares_strerror(e));
		a->error = EAI_FAIL;
		return;
	}
	ares_set_socket_functions(ch, &dns_sockfuncs, NULL);
	/* resolv.conf's options stay; its servers are the parent's. */
	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < nsrv; i++) {
		nodes[i].next = i + 1 < nsrv ? &nodes[i + 1] : NULL;
		nodes[i].family = (int)srv[i].s.family;
		memcpy(&nodes[i].addr, srv[i].s.addr,
		    srv[i].s.family == AF_INET ? 4 : 16);
		nodes[i].udp_port = (int)srv[i].s.port;
		nodes[i].tcp_port = (int)srv[i].s.port;
	}
	if ((e = ares_set_servers_ports(ch, nodes)) != ARES_SUCCESS) {
		log_warnx("ares_set_servers_ports: %s", ares_strerror(e));
		ares_destroy(ch);
		a->error = EAI_FAIL;
		return;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	memset(&r, 0, sizeof(r));
	r.a = a;
	ares_getaddrinfo(ch, host, NULL, &hints, dns_done, &r);
	while (!r.done) {
		/* By hand: ARES_GETSOCK_WRITABLE shifts an int into bit 31. */
		bits = (unsigned int)ares_getsock(ch, socks,
		    ARES_GETSOCK_MAXNUM);
		for (i = n = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			rd = bits & (1U << i);
			wr = bits & (1U << (i + ARES_GETSOCK_MAXNUM));
			if (!rd && !wr)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = (rd ? POLLIN : 0) | (wr ? POLLOUT : 0);
			pfd[n].revents = 0;
			n++;
		}
		tvp = ares_timeout(ch, NULL, &tv);
		ms = tvp == NULL ? DNS_TIMEOUT_MS :
		    (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) + 1;
		if ((e = poll(pfd, n, ms)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (e == 0) {
			/* Timeouts only. */
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (i = 0; i < n; i++)
			ares_process_fd(ch, pfd[i].revents &
			    (POLLIN | POLLHUP | POLLERR) ? pfd[i].fd :
			    ARES_SOCKET_BAD, pfd[i].revents & POLLOUT ?
			    pfd[i].fd : ARES_SOCKET_BAD);
	}
	ares_destroy(ch);
	if (a->error == 0 && a->naddrs == 0)
		a->error = EAI_NONAME;
}

/* The name servers dropped: the state of a dns that just started. */
void
dns_dispatch_reset(void)
{
	dns_servers_clear();
}

int
dns_dispatch_imsg(struct imsgbuf *ibuf)
{
	struct imsg		imsg;
	struct dns_query	q;
	struct dns_server	s;
	struct dns_answer	a;
	ssize_t			n;
	int			ret = 0, fd;

	while (ret == 0) {
		if ((n = imsg_get(ibuf, &imsg)) == -1)
			return (-1);
		if (n == 0)
			break;
		fd = imsg_get_fd(&imsg);
		switch (imsg_get_type(&imsg)) {
		case IMSG_DNS_SERVER:
			if (imsg_get_data(&imsg, &s, sizeof(s)) == -1) {
				if (fd != -1)
					close(fd);
				fd = -1;
			}
			if (fd == -1 || dns_server_take(&s, fd) == -1) {
				log_warnx("malformed name server");
				ret = -1;
			}
			fd = -1;
			break;
		case IMSG_DNS_QUERY:
			if (imsg_get_data(&imsg, &q, sizeof(q)) == -1 ||
			    memchr(q.host, '\0', sizeof(q.host)) == NULL ||
			    q.host[0] == '\0') {
				log_warnx("malformed query");
				ret = -1;
				break;
			}
			memset(&a, 0, sizeof(a));
			a.id = q.id;
			dns_lookup(q.host, &a);
			if (imsg_compose(ibuf, IMSG_DNS_ANSWER, 0, 0, -1, &a,
			    sizeof(a)) == -1)
				fatal("imsg_compose");
			break;
		default:
			log_warnx("unexpected message type %u",
			    imsg_get_type(&imsg));
			ret = -1;
			break;
		}
		/* A descriptor on any other message: a broken parent. */
		if (fd != -1) {
			close(fd);
			log_warnx("unexpected descriptor");
			ret = -1;
		}
		imsg_free(&imsg);
	}
	return (ret);
}
