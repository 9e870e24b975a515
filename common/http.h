/*
 * A strict, bounded HTTP/1.1 client core for the Fleet transport: the
 * endpoint URL, the POST request, and an incremental response parser.
 * Pure code: no sockets, no clock (Retry-After dates take "now"), so the
 * parser can be fuzzed.
 *
 * The response parser accepts RFC 9112 as a careful client should and
 * refuses the rest: a status line "HTTP/1.x NNN [reason]" with major
 * version 1; header lines "name: value" with token names, no obs-fold,
 * no control characters; CRLF line ends only; at most HTTP_MAX_LINE bytes
 * a line, HTTP_MAX_HEADERS header lines and HTTP_MAX_HEAD bytes of header
 * section (trailers included).  The body is framed by Content-Length
 * (repeated only with one value), by "Transfer-Encoding: chunked" (no
 * other coding; never together with Content-Length), or by the end of
 * the connection; it may not exceed the cap given at init.  Interim 1xx
 * responses are skipped (101 is refused: nothing asks to upgrade).
 */
#ifndef KOBANG_HTTP_H
#define KOBANG_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HTTP_MAX_LINE		8192
#define HTTP_MAX_HEADERS	100
#define HTTP_MAX_HEAD		65536
#define HTTP_MAX_INTERIM	8
#define HTTP_MAX_BODY		(4 * 1024 * 1024)
#define HTTP_HOST_MAX		255	/* a DNS name; IPv6 literals fit */
#define HTTP_PATH_MAX		1024	/* the endpoint's path prefix */

/* sync.endpoint, parsed (PROTOCOL.md 1.2). */
struct http_endpoint {
	char		host[HTTP_HOST_MAX + 1];	/* no brackets */
	char		hosthdr[HTTP_HOST_MAX + 9];	/* Host: value */
	char		path[HTTP_PATH_MAX + 1];	/* "" or "/x/y" */
	uint16_t	port;
	int		host_is_ip;
};

/*
 * "https://host[:port][/path]" only: no user information, query or
 * fragment, a host that is a DNS name (letters, digits, hyphens, dots),
 * an IPv4 address or a bracketed IPv6 address.  One trailing '/' of the
 * path is dropped.  0, or -1 with a message.
 */
int	 http_endpoint_parse(const char *, struct http_endpoint *, char *,
	    size_t);
/* The request target: the endpoint's path, '/', the route. */
int	 http_target(const struct http_endpoint *, const char *, char *,
	    size_t);

/* "host:port", with brackets around an IPv6 address (a CONNECT target). */
void	 http_hostport(const char *, uint16_t, char *, size_t);

/* An egress proxy: kobangd.proxy or https_proxy. */
#define HTTP_PROXY_PORT		1080	/* curl's default proxy port */

struct http_proxy {
	char		host[HTTP_HOST_MAX + 1];	/* no brackets */
	char		hostport[HTTP_HOST_MAX + 9];	/* for messages */
	uint16_t	port;
};

/*
 * "[http://]host[:port][/]" as curl reads a proxy: an absent scheme is
 * http, an absent port HTTP_PROXY_PORT.  No user information (proxy
 * credentials never travel in a URL), no path, query or fragment, no
 * https:// proxy.  0, or -1 with a message that does not repeat the
 * value (it may hold credentials).
 */
int	 http_proxy_parse(const char *, struct http_proxy *, char *, size_t);

/*
 * Whether host (a name, or an address without brackets) is exempt from
 * the proxy by a no_proxy list as curl reads it: entries separated by
 * commas or white space; "*" exempts every host; a name exempts itself
 * and its subdomains (a leading '.' is ignored); an address exempts
 * itself, an address with "/bits" its network.  1 or 0.
 */
int	 http_no_proxy(const char *, const char *);

/*
 * The CONNECT request for authority ("host:port"), with
 * "Proxy-Authorization: Basic" and the base64 credentials when given.
 * Malloc'ed (the caller freezero()s it); NULL if a value holds a control
 * character.
 */
char	*http_connect_request(const char *, const char *, size_t *);

struct http_hdr {
	const char	*name;
	const char	*value;
};

/*
 * A POST request with Host, Content-Type: application/json,
 * Content-Length, User-Agent and the extra headers, then the body.
 * Malloc'ed (the caller freezero()s it: headers may hold a token); NULL
 * if a header name is not a token or a value or the target holds a
 * control character.
 */
char	*http_post(const char *, const char *, const struct http_hdr *,
	    size_t, const void *, size_t, size_t *);

enum {
	HTTP_ERR = -1,
	HTTP_MORE = 0,
	HTTP_DONE = 1
};

struct http_response {
	int		 status;
	int		 minor;		/* HTTP/1.minor */
	int		 keepalive;	/* at HTTP_DONE: the connection may
					   carry another request */
	int		 has_retry_after;
	char		 retry_after[64];	/* the header's value */
	uint8_t		*body;
	size_t		 body_len;

	/* The parser's own. */
	int		 connect;	/* the answer to a CONNECT */
	int		 state;
	const char	*err;
	size_t		 maxbody;
	size_t		 body_cap;
	size_t		 head_bytes;
	int		 nheaders;
	int		 ninterim;
	long long	 content_length;	/* -1: none */
	int		 chunked;
	int		 conn_close;
	int		 conn_keepalive;
	uint64_t	 remaining;
	size_t		 linelen;
	char		 line[HTTP_MAX_LINE];
};

void	 http_response_init(struct http_response *, size_t);
/*
 * For the answer to a CONNECT: the header section ends it, whatever
 * framing it announces (RFC 9110 9.3.6).  At HTTP_DONE keepalive says
 * the tunnel is open (a 2xx); the body of any other answer is not read.
 */
void	 http_response_init_connect(struct http_response *);
void	 http_response_free(struct http_response *);
/*
 * Feed len bytes; *used says how many were taken.  HTTP_DONE: the
 * response is complete (bytes after it are not taken); HTTP_MORE: feed
 * more; HTTP_ERR: malformed or too large, see http_response_error().
 */
int	 http_response_feed(struct http_response *, const uint8_t *, size_t,
	    size_t *);
/* The peer closed: HTTP_DONE if the body ran to the close, else HTTP_ERR. */
int	 http_response_eof(struct http_response *);
const char *http_response_error(const struct http_response *);

/*
 * Retry-After (RFC 9110 10.2.3): delta-seconds, or an HTTP-date in any
 * of its three forms, as seconds from now (0 if in the past), capped at
 * max.  0, or -1 if the value is neither.
 */
int	 http_retry_after(const char *, time_t, long long, long long *);

#endif
