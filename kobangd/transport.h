/*
 * The parent's side of the Fleet transport: it resolves the endpoint's
 * host through the dns child, makes the TCP connection itself (a
 * non-blocking connect to each address in turn, with a timeout), hands
 * the connected socket to the net child and queues work items there:
 * "POST this JSON to this route, give me status and body", and "parse
 * this certificate".  It answers the net child's one signature request
 * per connection with the device key, for connections it set up only.
 *
 * Authentication (PROTOCOL.md 1.3, 1.4, spec/README.md): enroll never
 * presents anything but its body; every other route presents the client
 * certificate once one is set, else sync.sensorToken in
 * X-Koban-Sensor-Token if configured; never both.
 *
 * With an egress proxy (kobangd.proxy, else https_proxy / HTTPS_PROXY
 * unless no_proxy / NO_PROXY exempts the Fleet host) the parent resolves
 * and connects to the proxy instead, and net asks it to CONNECT to
 * Fleet's host and port, with the Basic credentials of
 * kobangd.proxyCredentialsFile (read for each connection, handed to net
 * for that CONNECT only), before TLS to Fleet through the tunnel.
 *
 * Nothing connects anywhere unless sync.enabled and sync.endpoint are
 * set: transport_init() is the only way in and says no otherwise.
 */
#ifndef KOBANGD_TRANSPORT_H
#define KOBANGD_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "proto.h"

struct kobangd;
struct child;
struct keystore;

#define TRANSPORT_DNS_MS	10000	/* resolver answer */
#define TRANSPORT_CONNECT_MS	10000	/* per address */
#define TRANSPORT_REQUEST_MS	30000	/* handshake, request, response */
/* No request for this long: net and dns are stopped until the next. */
#define TRANSPORT_IDLE_MS	10000
#define TRANSPORT_IDLE_WHY	"10 s"

/* Without kobangd.fleetCAFile: Debian's bundle, else libtls's default. */
#define TRANSPORT_SYSTEM_CA	"/etc/ssl/certs/ca-certificates.crt"

enum tr_error {
	TR_OK,
	TR_ERR_DNS,		/* the name did not resolve */
	TR_ERR_CONNECT,		/* no address accepted a connection */
	TR_ERR_TLS,		/* handshake or certificate verification */
	TR_ERR_TIMEOUT,
	TR_ERR_PROTOCOL,	/* malformed, oversized or cut-off response */
	TR_ERR_STATUS,		/* a status outside 200..299 */
	TR_ERR_INTERNAL,	/* a child failed or went away */
	TR_ERR_PROXY		/* the proxy refused or failed CONNECT; never
				   an answer of Fleet's (status 0) */
};

struct tresult {
	enum tr_error	 error;
	int		 status;	/* HTTP status, 0 if none came */
	long long	 retry_after;	/* seconds, -1 if not given */
	uint8_t		*body;		/* 2xx: NUL-terminated, net-checked */
	size_t		 body_len;
	char		 msg[256];	/* for logs and kobanctl */
};

struct tcertinfo {
	int		 ok;		/* 1 parsed, 0 not a certificate,
					   -1 not inspected (net failed) */
	uint8_t		 spki_sha256[32];
	int64_t		 not_before;
	int64_t		 not_after;
	char		 subject[PROTO_STR_MAX + 1];
	char		 issuer[PROTO_STR_MAX + 1];
};

typedef void	(*transport_post_cb)(struct kobangd *, struct tresult *,
		    void *);
typedef void	(*transport_inspect_cb)(struct kobangd *,
		    const struct tcertinfo *, void *);

/*
 * Parse sync.endpoint, read the CA bundle (kobangd.fleetCAFile, else the
 * system's), hook the net and dns channels.  0, or -1 with a message
 * (sync off or misconfigured: nothing will ever connect).
 */
int	 transport_init(struct kobangd *, char *, size_t);
int	 transport_active(void);
/* The idle spell, TRANSPORT_IDLE_MS unless a unit test shortens it. */
void	 transport_set_idle(unsigned int);
const struct http_endpoint *transport_endpoint(void);
/*
 * The proxy in use, for kobanctl show sync: "http://host:port (source)",
 * "none", or why none ("none: no_proxy exempts HOST"); "" when inactive.
 * Never the credentials.
 */
const char *transport_proxy(void);
/* parent_start_child(): a new net or dns process. */
void	 transport_child_started(struct kobangd *, struct child *);
void	 transport_shutdown(struct kobangd *);

/*
 * The key holder and the client certificate (PEM) protected routes
 * present from now on; a NULL certificate: none.  0 or -1.
 */
int	 transport_set_identity(struct keystore *, const char *, size_t);
/* "certificate", "sensor token" or "none": what protected routes use. */
const char *transport_auth(void);

/*
 * Queue a POST of body (compact JSON, taken over and zeroed once sent:
 * it may hold a token) to route.  cb runs once with the outcome; the
 * result and its body are the caller's only during the call.  0 or -1.
 */
int	 transport_post(enum proto_route, char *, size_t, transport_post_cb,
	    void *);
/* Queue a certificate (DER) for the net child to parse.  0 or -1. */
int	 transport_inspect(const uint8_t *, size_t, transport_inspect_cb,
	    void *);

#endif
