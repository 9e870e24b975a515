/*
 * The transport protocol between the parent and its net and dns
 * children.  Both ends use this header; the wire layouts and the checks
 * are rows of privsep/PROTOCOL.md.
 *
 * Parent -> dns, before every query: IMSG_DNS_SERVER + a UDP socket the
 * parent connected to one name server of resolv.conf, once per server;
 * then IMSG_DNS_QUERY; dns -> parent: IMSG_DNS_ANSWER with numeric
 * addresses only.  dns makes no socket and no connection of its own.
 *
 * Parent -> net, once per net process (after every start):
 *	IMSG_NET_CA_BEGIN, IMSG_NET_CA_DATA...   the CA bundle, chunked,
 *						 at most NET_CA_MAX bytes
 * whenever the certificate changes:
 *	IMSG_NET_CERT				 the client certificate PEM,
 *						 or empty: none
 * per connection the parent made:
 *	IMSG_NET_CONNECT + socket		 id, server name, with or
 *						 without the certificate;
 *						 through a proxy: the
 *						 CONNECT target and the
 *						 proxy's credentials
 * per request, on the current connection:
 *	IMSG_NET_REQUEST, IMSG_NET_REQUEST_BODY...
 * and net answers every request with exactly one IMSG_NET_RESPONSE,
 * then IMSG_NET_RESPONSE_BODY chunks totalling its body_len.  During a
 * handshake with the certificate net may send one IMSG_NET_SIGN and
 * waits for IMSG_NET_SIGNATURE; a connection net closes while idle is
 * reported with IMSG_NET_CLOSED.  IMSG_NET_CERT_INSPECT asks net to
 * parse a certificate the server sent (X.509 parsing of network bytes
 * stays in the sandbox); IMSG_NET_CERT_INFO answers.
 *
 * net does one thing at a time: the parent sends a request, an inspect
 * or a connect only when net has answered everything before it.
 */
#ifndef KOBANGD_NETPROTO_H
#define KOBANGD_NETPROTO_H

#include <stdint.h>

#include "http.h"
#include "netkey.h"
#include "proto.h"

struct imsgbuf;

#define DNS_MAX_ADDRS		16

/* As many name servers as glibc's resolver uses (MAXNS). */
#define DNS_MAX_SERVERS		3
#define DNS_PORT		53

/*
 * One name server of a set: index 0..count-1 in order, count the same
 * in each; the socket attached is connected to (family, addr, port).
 */
struct dns_server {
	uint32_t	index;
	uint32_t	count;		/* 1..DNS_MAX_SERVERS */
	uint32_t	family;		/* AF_INET or AF_INET6 */
	uint32_t	port;		/* 1..65535 */
	uint8_t		addr[16];	/* in_addr in the first 4 bytes */
};

struct dns_query {
	uint32_t	id;
	char		host[HTTP_HOST_MAX + 1];	/* NUL-terminated */
};

struct dns_addr {
	uint32_t	family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* in_addr in the first 4 bytes */
};

struct dns_answer {
	uint32_t	id;
	int32_t		error;		/* 0, or getaddrinfo()'s EAI_* */
	uint32_t	naddrs;		/* 0..DNS_MAX_ADDRS */
	struct dns_addr	addrs[DNS_MAX_ADDRS];
};

/* Bytes of a chunk message's payload (CA, request and response bodies). */
#define NET_CHUNK		16000
#define NET_CA_MAX		(1024 * 1024)
#define NET_CERT_PEM_MAX	12288
#define NET_REQ_BODY_MAX	(16 * 1024 * 1024)
#define NET_MSG_MAX		256

struct net_ca_begin {
	uint32_t	total;		/* 1..NET_CA_MAX */
};

/* "user:password" of a proxy, and its base64 in Proxy-Authorization. */
#define NET_PROXY_CRED_MAX	1023
#define NET_PROXY_AUTH_MAX	1364	/* b64_enclen(NET_PROXY_CRED_MAX) */

struct net_connect {
	uint32_t	conn_id;	/* nonzero, chosen by the parent */
	uint32_t	use_cert;	/* 0 or 1: present IMSG_NET_CERT */
	char		servername[HTTP_HOST_MAX + 1];
	/*
	 * With use_proxy the socket goes to the proxy: net asks it to
	 * CONNECT to authority ("host:port" of Fleet) before TLS.
	 */
	uint32_t	use_proxy;	/* 0 or 1 */
	char		proxy[HTTP_HOST_MAX + 9];	/* for messages */
	char		authority[HTTP_HOST_MAX + 9];
	char		proxy_auth[NET_PROXY_AUTH_MAX + 1];	/* secret */
};

struct net_request {
	uint32_t	id;		/* nonzero */
	uint32_t	conn_id;	/* the current connection */
	uint32_t	route;		/* enum proto_route */
	uint32_t	timeout_ms;	/* handshake, request and response */
	uint32_t	body_len;	/* 1..NET_REQ_BODY_MAX, chunks follow */
	uint32_t	use_token;	/* 0 or 1: send X-Koban-Sensor-Token */
	char		hosthdr[HTTP_HOST_MAX + 9];
	char		target[HTTP_PATH_MAX + 64];
	char		token[PROTO_TOKEN_MAX + 1];	/* secret */
};

enum net_error {
	NET_OK,
	NET_ERR_TLS,		/* handshake or verification failed */
	NET_ERR_IO,		/* read or write failed */
	NET_ERR_TIMEOUT,	/* the request's deadline passed */
	NET_ERR_HTTP,		/* malformed, too large, or cut off */
	NET_ERR_DECODE,		/* 2xx body the route's decoder refuses */
	NET_ERR_STALE,		/* a reused connection was gone: retry */
	NET_ERR_INTERNAL,
	NET_ERR_PROXY,		/* the proxy refused or failed CONNECT */
	NET_ERR_COUNT
};

struct net_response {
	uint32_t	id;
	int32_t		error;		/* enum net_error */
	int32_t		status;		/* 100..599, 0 when no response */
	uint32_t	keepalive;	/* 0 or 1: net kept the connection */
	int64_t		retry_after;	/* seconds, -1 none */
	uint32_t	body_len;	/* 2xx only; 0..HTTP_MAX_BODY */
	char		tls_version[16];
	char		msg[NET_MSG_MAX];	/* error text */
};

struct net_sign {
	uint32_t	conn_id;
	uint32_t	dlen;		/* NETKEY_DIGEST_LEN */
	uint8_t		digest[NETKEY_DIGEST_LEN];
};

struct net_signature {
	uint32_t	conn_id;
	uint32_t	len;		/* 0: refused */
	uint8_t		sig[NETKEY_SIG_MAX];
};

struct net_closed {
	uint32_t	conn_id;
};

/* IMSG_NET_CERT_INSPECT: uint32_t id, then 1..PROTO_CERT_MAX DER bytes. */
struct net_cert_info {
	uint32_t	id;
	int32_t		ok;		/* 1 parsed, 0 not a certificate */
	uint8_t		spki_sha256[32];
	int64_t		not_before;	/* seconds since the epoch */
	int64_t		not_after;
	char		subject[PROTO_STR_MAX + 1];	/* printable ASCII */
	char		issuer[PROTO_STR_MAX + 1];
};

/*
 * The children's dispatchers, exported for the tests and fuzzers that
 * play a hostile parent: -1 on a message the child refuses (it then
 * exits); the reset drops what the parent sent so far.
 */
int	net_dispatch_imsg(struct imsgbuf *);
void	net_dispatch_reset(void);
int	dns_dispatch_imsg(struct imsgbuf *);
void	dns_dispatch_reset(void);

/*
 * dns.c, the resolver child's work, callable by the tests: take one
 * server of a set (the descriptor is kept; -1 on a bad message), and
 * resolve a host over the servers taken.
 */
int	dns_server_take(const struct dns_server *, int);
void	dns_lookup(const char *, struct dns_answer *);

/*
 * dnsconf.c, in the parent: parse resolv.conf text into at most max
 * servers (returns how many), and read it, connect a UDP socket to each
 * server and queue the set on the channel (returns how many, 0: none
 * reachable).  KOBANGD_RESOLV_CONF names another file (tests).
 */
int	dns_conf_parse(const char *, size_t, struct dns_server *, int);
int	dns_servers_send(struct imsgbuf *);

#endif
