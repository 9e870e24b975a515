/*
 * The children's dispatchers against a hostile parent: every message
 * net and dns accept from the parent, sent wrong (over its announced
 * total, out of order, with a descriptor it must not carry, of the
 * wrong size), must be refused (-1, and the child exits) before
 * anything is written where it should not be.  The parent is trusted,
 * but a bug there must not become a heap overflow in a child.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <criterion/criterion.h>
#include <fcntl.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "kobangd.h"
#include "netproto.h"

static struct imsgbuf	parent, child;
static int		sp[2] = { -1, -1 };

static void
setup(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	cr_assert_eq(imsgbuf_init(&parent, sp[0]), 0);
	cr_assert_eq(imsgbuf_init(&child, sp[1]), 0);
	imsgbuf_allow_fdpass(&child);
	net_dispatch_reset();
	dns_dispatch_reset();
}

static void
teardown(void)
{
	net_dispatch_reset();
	dns_dispatch_reset();
	imsgbuf_clear(&parent);
	imsgbuf_clear(&child);
	close(sp[0]);
	close(sp[1]);
}

TestSuite(childproto, .init = setup, .fini = teardown);

/* One message from the "parent", then the child's dispatcher on it. */
static int
feed(int (*dispatch)(struct imsgbuf *), uint32_t type, const void *p,
    size_t len, int fd)
{
	cr_assert_eq(imsg_compose(&parent, type, 0, 0, fd, p, len), 1);
	cr_assert_eq(imsgbuf_flush(&parent), 0);
	cr_assert_eq(imsgbuf_read(&child), 1);
	return (dispatch(&child));
}

static int
net(uint32_t type, const void *p, size_t len)
{
	return (feed(net_dispatch_imsg, type, p, len, -1));
}

static int
ca_begin(uint32_t total)
{
	struct net_ca_begin	cb = { total };

	return (net(IMSG_NET_CA_BEGIN, &cb, sizeof(cb)));
}

static char	bytes[NET_CHUNK];

/* The bug a review found possible: CA bytes beyond the announced total. */
Test(childproto, net_ca_data_over_total)
{
	cr_assert_eq(ca_begin(100), 0);
	cr_assert_eq(net(IMSG_NET_CA_DATA, bytes, 60), 0);
	cr_assert_eq(net(IMSG_NET_CA_DATA, bytes, 60), -1,
	    "60 + 60 CA bytes of 100 announced accepted");
}

Test(childproto, net_ca_one_chunk_over_total)
{
	cr_assert_eq(ca_begin(10), 0);
	cr_assert_eq(net(IMSG_NET_CA_DATA, bytes, 4000), -1,
	    "4000 CA bytes of 10 announced accepted");
}

Test(childproto, net_ca_in_order_only)
{
	cr_assert_eq(net(IMSG_NET_CA_DATA, bytes, 1), -1,
	    "CA bytes before CA_BEGIN accepted");
}

Test(childproto, net_ca_complete_then_more)
{
	cr_assert_eq(ca_begin(100), 0);
	cr_assert_eq(net(IMSG_NET_CA_DATA, bytes, 100), 0);
	cr_assert_eq(net(IMSG_NET_CA_DATA, bytes, 1), -1,
	    "CA bytes after the bundle was complete accepted");
}

Test(childproto, net_ca_totals_and_chunks)
{
	cr_assert_eq(ca_begin(0), -1);
	cr_assert_eq(ca_begin(NET_CA_MAX + 1), -1);
	cr_assert_eq(net(IMSG_NET_CA_BEGIN, bytes, 3), -1, "short BEGIN");
	cr_assert_eq(ca_begin(NET_CA_MAX), 0);
	cr_assert_eq(net(IMSG_NET_CA_DATA, bytes, 0), -1, "empty chunk");
}

Test(childproto, net_cert_over_max)
{
	static char	pem[NET_CERT_PEM_MAX + 1];

	cr_assert_eq(net(IMSG_NET_CERT, pem, sizeof(pem) - 1), 0);
	cr_assert_eq(net(IMSG_NET_CERT, pem, sizeof(pem)), -1,
	    "a certificate over %d bytes accepted", NET_CERT_PEM_MAX);
}

static struct net_request
good_request(void)
{
	struct net_request	rq;

	memset(&rq, 0, sizeof(rq));
	rq.id = 1;
	rq.conn_id = 1;
	rq.route = 0;
	rq.timeout_ms = 1000;
	rq.body_len = 10;
	strlcpy(rq.hosthdr, "fleet.test", sizeof(rq.hosthdr));
	strlcpy(rq.target, "/api", sizeof(rq.target));
	return (rq);
}

Test(childproto, net_request_body_out_of_order)
{
	struct net_request	rq = good_request();

	cr_assert_eq(net(IMSG_NET_REQUEST_BODY, bytes, 5), -1,
	    "a body without a request accepted");
	net_dispatch_reset();
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), 0);
	cr_assert_eq(net(IMSG_NET_REQUEST_BODY, bytes, 5), 0);
	cr_assert_eq(net(IMSG_NET_REQUEST_BODY, bytes, 6), -1,
	    "11 body bytes of 10 announced accepted");
	net_dispatch_reset();
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), 0);
	cr_assert_eq(ca_begin(10), -1, "a message inside a request accepted");
	net_dispatch_reset();
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), 0);
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), -1,
	    "a second request before the body accepted");
}

Test(childproto, net_request_fields)
{
	struct net_request	rq;

	rq = good_request();
	rq.id = 0;
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), -1, "id 0");
	rq = good_request();
	rq.route = PROTO_NROUTES;
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), -1, "route");
	rq = good_request();
	rq.timeout_ms = 600001;
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), -1, "timeout");
	rq = good_request();
	rq.body_len = NET_REQ_BODY_MAX + 1;
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), -1, "body");
	rq = good_request();
	rq.use_token = 2;
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), -1, "token");
	rq = good_request();
	memset(rq.target, 'a', sizeof(rq.target));
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), -1,
	    "unterminated target");
	rq = good_request();
	memset(rq.token, 'a', sizeof(rq.token));
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq)), -1,
	    "unterminated token");
	rq = good_request();
	cr_assert_eq(net(IMSG_NET_REQUEST, &rq, sizeof(rq) - 1), -1, "size");
}

Test(childproto, net_descriptors_only_with_connect)
{
	struct net_ca_begin	cb = { 10 };
	struct net_connect	nc;
	int			fd;

	cr_assert_neq(fd = open("/dev/null", O_RDONLY | O_CLOEXEC), -1);
	cr_assert_eq(feed(net_dispatch_imsg, IMSG_NET_CA_BEGIN, &cb,
	    sizeof(cb), fd), -1, "a descriptor with CA_BEGIN accepted");
	net_dispatch_reset();
	memset(&nc, 0, sizeof(nc));
	nc.conn_id = 1;
	strlcpy(nc.servername, "fleet.test", sizeof(nc.servername));
	cr_assert_eq(net(IMSG_NET_CONNECT, &nc, sizeof(nc)), -1,
	    "a connection without a socket accepted");
}

Test(childproto, net_unknown_type)
{
	cr_assert_eq(net(IMSG_DNS_QUERY, bytes, 16), -1);
	net_dispatch_reset();
	cr_assert_eq(net(IMSG_NONE, NULL, 0), -1);
}

/* dns: the name servers and the query. */

static int
dns(uint32_t type, const void *p, size_t len, int fd)
{
	return (feed(dns_dispatch_imsg, type, p, len, fd));
}

static int
udp(void)
{
	int	fd;

	cr_assert_neq(fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), -1);
	return (fd);
}

static struct dns_server
server(uint32_t index, uint32_t count)
{
	struct dns_server	s;

	memset(&s, 0, sizeof(s));
	s.index = index;
	s.count = count;
	s.family = AF_INET;
	s.port = 53;
	s.addr[0] = 127;
	s.addr[3] = 1;
	return (s);
}

Test(childproto, dns_server_checks)
{
	struct dns_server	s;

	s = server(0, 1);
	cr_assert_eq(dns(IMSG_DNS_SERVER, &s, sizeof(s), -1), -1,
	    "a server without its socket accepted");
	dns_dispatch_reset();
	s = server(1, 2);
	cr_assert_eq(dns(IMSG_DNS_SERVER, &s, sizeof(s), udp()), -1,
	    "server 1 before server 0 accepted");
	dns_dispatch_reset();
	s = server(0, DNS_MAX_SERVERS + 1);
	cr_assert_eq(dns(IMSG_DNS_SERVER, &s, sizeof(s), udp()), -1, "count");
	dns_dispatch_reset();
	s = server(0, 1);
	s.family = AF_UNIX;
	cr_assert_eq(dns(IMSG_DNS_SERVER, &s, sizeof(s), udp()), -1, "family");
	dns_dispatch_reset();
	s = server(0, 1);
	s.port = 70000;
	cr_assert_eq(dns(IMSG_DNS_SERVER, &s, sizeof(s), udp()), -1, "port");
	dns_dispatch_reset();
	s = server(0, 1);
	s.addr[9] = 1;
	cr_assert_eq(dns(IMSG_DNS_SERVER, &s, sizeof(s), udp()), -1,
	    "an IPv4 address with bytes beyond 4");
	dns_dispatch_reset();
	s = server(0, 2);
	cr_assert_eq(dns(IMSG_DNS_SERVER, &s, sizeof(s), udp()), 0);
	s = server(1, 3);
	cr_assert_eq(dns(IMSG_DNS_SERVER, &s, sizeof(s), udp()), -1,
	    "a count that changed within a set");
	dns_dispatch_reset();
	s = server(0, 1);
	cr_assert_eq(dns(IMSG_DNS_SERVER, &s, sizeof(s) - 1, udp()), -1,
	    "size");
}

/* A query with no complete set of servers is answered, not resolved. */
Test(childproto, dns_query_needs_servers)
{
	struct dns_server	s = server(0, 2);
	struct dns_query	q;
	struct dns_answer	a;
	struct imsg		imsg;

	cr_assert_eq(dns(IMSG_DNS_SERVER, &s, sizeof(s), udp()), 0);
	memset(&q, 0, sizeof(q));
	q.id = 7;
	strlcpy(q.host, "fleet.test", sizeof(q.host));
	cr_assert_eq(dns(IMSG_DNS_QUERY, &q, sizeof(q), -1), 0);
	cr_assert_eq(imsgbuf_flush(&child), 0);
	cr_assert_eq(imsgbuf_read(&parent), 1);
	cr_assert_gt(imsg_get(&parent, &imsg), 0);
	cr_assert_eq(imsg_get_type(&imsg), IMSG_DNS_ANSWER);
	cr_assert_eq(imsg_get_data(&imsg, &a, sizeof(a)), 0);
	imsg_free(&imsg);
	cr_assert_eq(a.id, 7);
	cr_assert_eq(a.error, EAI_AGAIN);
	cr_assert_eq(a.naddrs, 0);
}

Test(childproto, dns_query_checks)
{
	struct dns_query	q;

	memset(&q, 'a', sizeof(q));
	cr_assert_eq(dns(IMSG_DNS_QUERY, &q, sizeof(q), -1), -1,
	    "an unterminated host accepted");
	dns_dispatch_reset();
	memset(&q, 0, sizeof(q));
	cr_assert_eq(dns(IMSG_DNS_QUERY, &q, sizeof(q), -1), -1,
	    "an empty host accepted");
	dns_dispatch_reset();
	strlcpy(q.host, "fleet.test", sizeof(q.host));
	cr_assert_eq(dns(IMSG_DNS_QUERY, &q, sizeof(q), udp()), -1,
	    "a descriptor with a query accepted");
	dns_dispatch_reset();
	cr_assert_eq(dns(IMSG_NET_CA_BEGIN, &q, 4, -1), -1,
	    "a message for net accepted");
}
