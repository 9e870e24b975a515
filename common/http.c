/*
 * HTTP/1.1 for the Fleet transport: endpoint parsing, the request, and
 * a response parser that takes bytes as they come and holds nothing
 * unbounded.  Everything a server sends passes through here before any
 * other code looks at it.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "compat.h"
#include "http.h"

enum hp_state {
	HP_STATUS,
	HP_HEADER,
	HP_BODY_LENGTH,
	HP_CHUNK_SIZE,
	HP_CHUNK_DATA,
	HP_CHUNK_END,
	HP_TRAILER,
	HP_BODY_EOF,
	HP_DONE,
	HP_ERROR
};

static int	valid_value(const char *);

static int
is_tchar(unsigned char c)
{
	return (isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) !=
	    NULL));
}

/* Visible ASCII, space, tab and obs-text; no other control byte. */
static int
is_field_char(unsigned char c)
{
	return (c == '\t' || (c >= 0x20 && c != 0x7f));
}

static int
ep_fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "sync.endpoint: %s", why);
	return (-1);
}

/* A DNS name: labels of 1..63 letters, digits and inner hyphens. */
static int
valid_dnsname(const char *s)
{
	size_t	len = strlen(s), l = 0, i;

	if (len == 0 || len > 253)
		return (0);
	for (i = 0; i <= len; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (l == 0 || l > 63 || s[i - 1] == '-')
				return (0);
			l = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return (0);
		if (l == 0 && s[i] == '-')
			return (0);
		l++;
	}
	return (1);
}

/*
 * "host[:port]" of a URL, between auth and end: a DNS name, an IPv4
 * address or a bracketed IPv6 address, then an optional port (else
 * *port is left as it is).  0, or -1 with *why set.
 */
static int
authority_parse(const char *auth, const char *end, char *host,
    size_t hostsz, int *is_ip, uint16_t *port, const char **why)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	const char	*p, *errstr;
	char		 pbuf[8];
	size_t		 hl;
	long long	 pn;

	*is_ip = 0;
	if (*auth == '[') {
		if ((p = memchr(auth, ']', (size_t)(end - auth))) == NULL) {
			*why = "unterminated '['";
			return (-1);
		}
		hl = (size_t)(p - auth - 1);
		if (hl == 0 || hl >= hostsz) {
			*why = "bad IPv6 address";
			return (-1);
		}
		memcpy(host, auth + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			*why = "bad IPv6 address";
			return (-1);
		}
		*is_ip = 1;
		p++;
	} else {
		p = auth;
		while (p < end && *p != ':')
			p++;
		hl = (size_t)(p - auth);
		if (hl == 0 || hl >= hostsz) {
			*why = "bad host";
			return (-1);
		}
		memcpy(host, auth, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, &a4) == 1)
			*is_ip = 1;
		else if (!valid_dnsname(host)) {
			*why = "bad host name";
			return (-1);
		}
	}
	if (p < end) {
		*why = "bad port";
		if (*p != ':' || end - p - 1 < 1 ||
		    (size_t)(end - p - 1) >= sizeof(pbuf))
			return (-1);
		memcpy(pbuf, p + 1, (size_t)(end - p - 1));
		pbuf[end - p - 1] = '\0';
		if (strspn(pbuf, "0123456789") != strlen(pbuf))
			return (-1);
		pn = strtonum(pbuf, 1, 65535, &errstr);
		if (errstr != NULL)
			return (-1);
		*port = (uint16_t)pn;
	}
	return (0);
}

void
http_hostport(const char *host, uint16_t port, char *buf, size_t bufsz)
{
	if (strchr(host, ':') != NULL)
		snprintf(buf, bufsz, "[%s]:%u", host, port);
	else
		snprintf(buf, bufsz, "%s:%u", host, port);
}

int
http_endpoint_parse(const char *url, struct http_endpoint *ep, char *err,
    size_t errlen)
{
	const char	*p, *auth, *end, *ps, *why;
	char		 port[8];
	size_t		 pl;

	memset(ep, 0, sizeof(*ep));
	if (strncasecmp(url, "https://", 8) != 0)
		return (ep_fail(err, errlen, "must start with https://"));
	auth = url + 8;
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return (ep_fail(err, errlen,
			    "space or non-ASCII character"));
	if (strpbrk(url, "?#") != NULL)
		return (ep_fail(err, errlen,
		    "query or fragment not supported"));
	end = auth + strcspn(auth, "/");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return (ep_fail(err, errlen, "user information not allowed"));
	ep->port = 443;
	if (authority_parse(auth, end, ep->host, sizeof(ep->host),
	    &ep->host_is_ip, &ep->port, &why) == -1)
		return (ep_fail(err, errlen, why));

	/* The path prefix, without one trailing '/'. */
	ps = end;
	pl = strlen(ps);
	if (pl > 0 && ps[pl - 1] == '/')
		pl--;
	if (pl >= sizeof(ep->path))
		return (ep_fail(err, errlen, "path too long"));
	memcpy(ep->path, ps, pl);
	ep->path[pl] = '\0';

	if (strchr(ep->host, ':') != NULL)
		snprintf(ep->hosthdr, sizeof(ep->hosthdr), "[%s]", ep->host);
	else
		strlcpy(ep->hosthdr, ep->host, sizeof(ep->hosthdr));
	if (ep->port != 443) {
		snprintf(port, sizeof(port), ":%u", ep->port);
		strlcat(ep->hosthdr, port, sizeof(ep->hosthdr));
	}
	return (0);
}

int
http_proxy_parse(const char *url, struct http_proxy *px, char *err,
    size_t errlen)
{
	const char	*p, *auth, *end, *why;
	int		 is_ip;

	memset(px, 0, sizeof(*px));
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			snprintf(err, errlen, "space or non-ASCII character");
			return (-1);
		}
	auth = url;
	if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0) {
		snprintf(err, errlen, "an https:// proxy is not supported; "
		    "use http://");
		return (-1);
	} else if (strstr(url, "://") != NULL) {
		snprintf(err, errlen, "only http:// proxies are supported");
		return (-1);
	}
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL ||
	    strchr(end, '@') != NULL) {
		snprintf(err, errlen, "user information not allowed; the "
		    "credentials go in kobangd.proxyCredentialsFile");
		return (-1);
	}
	if (*end != '\0' && strcmp(end, "/") != 0) {
		snprintf(err, errlen, "a path, query or fragment is not "
		    "allowed");
		return (-1);
	}
	px->port = HTTP_PROXY_PORT;
	if (authority_parse(auth, end, px->host, sizeof(px->host), &is_ip,
	    &px->port, &why) == -1) {
		snprintf(err, errlen, "%s", why);
		return (-1);
	}
	http_hostport(px->host, px->port, px->hostport, sizeof(px->hostport));
	return (0);
}

/* Whether the address a is in the network "net/bits" (same family). */
static int
in_network(const char *a, const char *net, size_t netlen)
{
	uint8_t		 x[16], y[16];
	char		 buf[INET6_ADDRSTRLEN + 5], *slash;
	const char	*errstr;
	long long	 bits;
	int		 fam, len, i;

	if (netlen >= sizeof(buf))
		return (0);
	memcpy(buf, net, netlen);
	buf[netlen] = '\0';
	if (buf[0] == '[' && (slash = strchr(buf, ']')) != NULL) {
		memmove(slash, slash + 1, strlen(slash + 1) + 1);
		memmove(buf, buf + 1, strlen(buf));
	}
	fam = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	len = fam == AF_INET6 ? 16 : 4;
	bits = len * 8;
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash = '\0';
		bits = strtonum(slash + 1, 0, len * 8, &errstr);
		if (errstr != NULL)
			return (0);
	}
	if (inet_pton(fam, buf, y) != 1 || inet_pton(fam, a, x) != 1)
		return (0);
	for (i = 0; bits > 0; i++, bits -= 8) {
		if (bits >= 8) {
			if (x[i] != y[i])
				return (0);
		} else if (((x[i] ^ y[i]) & (0xff << (8 - bits)) & 0xff) != 0)
			return (0);
	}
	return (1);
}

int
http_no_proxy(const char *list, const char *host)
{
	struct in6_addr	 a;
	const char	*e;
	size_t		 el, hl = strlen(host);
	int		 is_ip;

	is_ip = inet_pton(AF_INET, host, &a) == 1 ||
	    inet_pton(AF_INET6, host, &a) == 1;
	while (*list != '\0') {
		list += strspn(list, ", \t");
		e = list;
		el = strcspn(list, ", \t");
		list += el;
		if (el == 0)
			continue;
		if (el == 1 && e[0] == '*')
			return (1);
		if (is_ip) {
			if (in_network(host, e, el))
				return (1);
			continue;
		}
		/* A name: itself or its subdomains, case-insensitively. */
		if (e[0] == '.') {
			e++;
			el--;
		}
		if (el > 0 && e[el - 1] == '.')
			el--;
		if (el == 0 || el > hl)
			continue;
		if (strncasecmp(host + hl - el, e, el) == 0 &&
		    (hl == el || host[hl - el - 1] == '.'))
			return (1);
	}
	return (0);
}

char *
http_connect_request(const char *authority, const char *auth,
    size_t *lenp)
{
	char	*buf;
	size_t	 cap;
	int	 n;

	if (!valid_value(authority) || *authority == '\0' ||
	    strpbrk(authority, " \t") != NULL ||
	    (auth != NULL && !valid_value(auth)))
		return (NULL);
	cap = 2 * strlen(authority) + (auth != NULL ? strlen(auth) : 0) +
	    160;
	if ((buf = malloc(cap)) == NULL)
		return (NULL);
	n = snprintf(buf, cap, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: kobangd/%s\r\n%s%s%s\r\n", authority, authority,
	    KOBANGD_VERSION, auth != NULL ? "Proxy-Authorization: Basic " :
	    "", auth != NULL ? auth : "", auth != NULL ? "\r\n" : "");
	if (n < 0 || (size_t)n >= cap) {
		freezero(buf, cap);
		return (NULL);
	}
	*lenp = (size_t)n;
	return (buf);
}

int
http_target(const struct http_endpoint *ep, const char *route, char *buf,
    size_t bufsz)
{
	int	n;

	n = snprintf(buf, bufsz, "%s/%s", ep->path, route);
	return (n < 0 || (size_t)n >= bufsz ? -1 : 0);
}

static int
valid_value(const char *s)
{
	for (; *s != '\0'; s++)
		if (!is_field_char((unsigned char)*s))
			return (0);
	return (1);
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if (!is_tchar((unsigned char)*s))
			return (0);
	return (1);
}

char *
http_post(const char *hosthdr, const char *target, const struct http_hdr *h,
    size_t nh, const void *body, size_t bodylen, size_t *lenp)
{
	char	*buf, *p;
	size_t	 cap, i;
	int	 n;

	if (!valid_value(hosthdr) || *target != '/')
		return (NULL);
	for (p = (char *)target; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return (NULL);
	cap = strlen(hosthdr) + strlen(target) + 256;
	for (i = 0; i < nh; i++) {
		if (!valid_name(h[i].name) || !valid_value(h[i].value))
			return (NULL);
		cap += strlen(h[i].name) + strlen(h[i].value) + 4;
	}
	if (bodylen > SIZE_MAX - cap || (buf = malloc(cap + bodylen)) == NULL)
		return (NULL);
	n = snprintf(buf, cap, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "User-Agent: kobangd/%s\r\n", target, hosthdr, bodylen,
	    KOBANGD_VERSION);
	for (i = 0; i < nh && n >= 0 && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, "%s: %s\r\n",
		    h[i].name, h[i].value);
	if (n < 0 || (size_t)n + 2 >= cap) {
		freezero(buf, cap + bodylen);
		return (NULL);
	}
	memcpy(buf + n, "\r\n", 2);
	n += 2;
	if (bodylen > 0)
		memcpy(buf + n, body, bodylen);
	*lenp = (size_t)n + bodylen;
	return (buf);
}

void
http_response_init(struct http_response *r, size_t maxbody)
{
	memset(r, 0, sizeof(*r));
	r->maxbody = maxbody;
	r->content_length = -1;
	r->state = HP_STATUS;
}

void
http_response_init_connect(struct http_response *r)
{
	http_response_init(r, 0);
	r->connect = 1;
}

void
http_response_free(struct http_response *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = r->body_cap = 0;
}

const char *
http_response_error(const struct http_response *r)
{
	return (r->err != NULL ? r->err : "no error");
}

static int
hp_fail(struct http_response *r, const char *why)
{
	r->state = HP_ERROR;
	if (r->err == NULL)
		r->err = why;
	return (HTTP_ERR);
}

/* Make room for n more body bytes, within the cap. */
static int
hp_reserve(struct http_response *r, size_t n)
{
	size_t	 ncap;
	uint8_t	*nb;

	if (n > r->maxbody - r->body_len)
		return (hp_fail(r, "response body too large"));
	if (r->body_len + n <= r->body_cap)
		return (0);
	ncap = r->body_cap ? r->body_cap : 4096;
	while (ncap < r->body_len + n)
		ncap = ncap > r->maxbody / 2 ? r->maxbody : ncap * 2;
	if ((nb = realloc(r->body, ncap)) == NULL)
		return (hp_fail(r, "out of memory"));
	r->body = nb;
	r->body_cap = ncap;
	return (0);
}

static void
trim(char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

static int
hp_status_line(struct http_response *r, char *l, size_t len)
{
	int	st;

	if (len < 12 || memcmp(l, "HTTP/1.", 7) != 0 ||
	    (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
	    !isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10]) ||
	    !isdigit((unsigned char)l[11]) || (len > 12 && l[12] != ' '))
		return (hp_fail(r, "malformed status line"));
	st = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	if (st < 100 || st > 599)
		return (hp_fail(r, "status code out of range"));
	for (; len > 13; len--)
		if (!is_field_char((unsigned char)l[len - 1]))
			return (hp_fail(r, "control character in reason"));
	r->minor = l[7] - '0';
	r->status = st;
	r->state = HP_HEADER;
	return (HTTP_MORE);
}

static int
token_list_has(const char *v, size_t len, const char *tok)
{
	size_t	tl = strlen(tok), i = 0, s, e;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return (1);
	}
	return (0);
}

static int
hp_header(struct http_response *r, char *l, size_t len, int trailer)
{
	char		*colon, *v;
	size_t		 nl, vl, i;
	long long	 cl = 0;

	if (++r->nheaders > HTTP_MAX_HEADERS)
		return (hp_fail(r, "too many header lines"));
	if (l[0] == ' ' || l[0] == '\t')
		return (hp_fail(r, "folded header line"));
	if ((colon = memchr(l, ':', len)) == NULL)
		return (hp_fail(r, "header line without ':'"));
	nl = (size_t)(colon - l);
	if (nl == 0)
		return (hp_fail(r, "empty header name"));
	for (i = 0; i < nl; i++)
		if (!is_tchar((unsigned char)l[i]))
			return (hp_fail(r, "bad header name"));
	v = colon + 1;
	vl = len - nl - 1;
	for (i = 0; i < vl; i++)
		if (!is_field_char((unsigned char)v[i]))
			return (hp_fail(r, "control character in header"));
	trim(&v, &vl);
	/* Trailers are checked for syntax and otherwise ignored. */
	if (trailer)
		return (HTTP_MORE);

	if (nl == 14 && strncasecmp(l, "Content-Length", nl) == 0) {
		if (vl == 0 || vl > 18)
			return (hp_fail(r, "bad Content-Length"));
		for (i = 0; i < vl; i++) {
			if (!isdigit((unsigned char)v[i]))
				return (hp_fail(r, "bad Content-Length"));
			cl = cl * 10 + (v[i] - '0');
		}
		if (r->content_length != -1 && r->content_length != cl)
			return (hp_fail(r, "conflicting Content-Length"));
		r->content_length = cl;
	} else if (nl == 17 && strncasecmp(l, "Transfer-Encoding", nl) == 0) {
		if (r->chunked)
			return (hp_fail(r, "repeated Transfer-Encoding"));
		if (vl != 7 || strncasecmp(v, "chunked", 7) != 0)
			return (hp_fail(r, "unsupported transfer coding"));
		r->chunked = 1;
	} else if (nl == 10 && strncasecmp(l, "Connection", nl) == 0) {
		if (token_list_has(v, vl, "close"))
			r->conn_close = 1;
		if (token_list_has(v, vl, "keep-alive"))
			r->conn_keepalive = 1;
	} else if (nl == 11 && strncasecmp(l, "Retry-After", nl) == 0) {
		if (!r->has_retry_after && vl < sizeof(r->retry_after)) {
			memcpy(r->retry_after, v, vl);
			r->retry_after[vl] = '\0';
			r->has_retry_after = 1;
		}
	}
	return (HTTP_MORE);
}

static int
hp_done(struct http_response *r, int until_close)
{
	r->state = HP_DONE;
	r->keepalive = !until_close && !r->conn_close &&
	    (r->minor == 1 || r->conn_keepalive);
	return (HTTP_DONE);
}

/* The empty line after the header section: decide how the body ends. */
static int
hp_headers_end(struct http_response *r)
{
	if (r->status >= 100 && r->status < 200) {
		if (r->status == 101)
			return (hp_fail(r, "unexpected protocol switch"));
		if (++r->ninterim > HTTP_MAX_INTERIM)
			return (hp_fail(r, "too many interim responses"));
		/* Forget the interim response; its header bytes still count. */
		r->status = 0;
		r->nheaders = 0;
		r->content_length = -1;
		r->chunked = r->conn_close = r->conn_keepalive = 0;
		r->has_retry_after = 0;
		r->state = HP_STATUS;
		return (HTTP_MORE);
	}
	if (r->connect) {
		/* A 2xx is the tunnel; any other answer is all we read. */
		r->state = HP_DONE;
		r->keepalive = r->status >= 200 && r->status <= 299;
		return (HTTP_DONE);
	}
	if (r->chunked && r->content_length != -1)
		return (hp_fail(r, "both Content-Length and chunked"));
	if (r->chunked && r->minor == 0)
		return (hp_fail(r, "chunked in an HTTP/1.0 response"));
	if (r->status == 204 || r->status == 304)
		return (hp_done(r, 0));
	if (r->chunked) {
		r->state = HP_CHUNK_SIZE;
		return (HTTP_MORE);
	}
	if (r->content_length >= 0) {
		if ((uint64_t)r->content_length > r->maxbody)
			return (hp_fail(r, "response body too large"));
		if (r->content_length == 0)
			return (hp_done(r, 0));
		if (hp_reserve(r, (size_t)r->content_length) == HTTP_ERR)
			return (HTTP_ERR);
		r->remaining = (uint64_t)r->content_length;
		r->state = HP_BODY_LENGTH;
		return (HTTP_MORE);
	}
	r->state = HP_BODY_EOF;
	return (HTTP_MORE);
}

static int
hp_chunk_size(struct http_response *r, char *l, size_t len)
{
	uint64_t	v = 0;
	size_t		i;
	int		h;

	for (i = 0; i < len && isxdigit((unsigned char)l[i]); i++) {
		if (i >= 15)
			return (hp_fail(r, "chunk size too long"));
		h = isdigit((unsigned char)l[i]) ? l[i] - '0' :
		    tolower((unsigned char)l[i]) - 'a' + 10;
		v = v << 4 | (uint64_t)h;
	}
	if (i == 0)
		return (hp_fail(r, "bad chunk size"));
	/* Extensions are ignored; only what may follow the size is checked. */
	while (i < len && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i < len && l[i] != ';')
		return (hp_fail(r, "bad chunk size"));
	for (; i < len; i++)
		if (!is_field_char((unsigned char)l[i]))
			return (hp_fail(r, "control character in chunk"));
	if (v == 0) {
		r->state = HP_TRAILER;
		return (HTTP_MORE);
	}
	if (v > r->maxbody - r->body_len)
		return (hp_fail(r, "response body too large"));
	if (hp_reserve(r, (size_t)v) == HTTP_ERR)
		return (HTTP_ERR);
	r->remaining = v;
	r->state = HP_CHUNK_DATA;
	return (HTTP_MORE);
}

/* One complete line (without CRLF) in the current state. */
static int
hp_line(struct http_response *r, char *l, size_t len)
{
	switch (r->state) {
	case HP_STATUS:
		return (hp_status_line(r, l, len));
	case HP_HEADER:
		if (len == 0)
			return (hp_headers_end(r));
		return (hp_header(r, l, len, 0));
	case HP_CHUNK_SIZE:
		return (hp_chunk_size(r, l, len));
	case HP_CHUNK_END:
		if (len != 0)
			return (hp_fail(r, "chunk longer than its size"));
		r->state = HP_CHUNK_SIZE;
		return (HTTP_MORE);
	case HP_TRAILER:
		if (len == 0)
			return (hp_done(r, 0));
		return (hp_header(r, l, len, 1));
	default:
		return (hp_fail(r, "parser state"));
	}
}

static int
in_head(int state)
{
	return (state == HP_STATUS || state == HP_HEADER ||
	    state == HP_TRAILER);
}

int
http_response_feed(struct http_response *r, const uint8_t *buf, size_t len,
    size_t *used)
{
	size_t		i = 0, n;
	int		ret;

	*used = 0;
	if (r->state == HP_ERROR)
		return (HTTP_ERR);
	if (r->state == HP_DONE)
		return (HTTP_DONE);
	while (i < len) {
		switch (r->state) {
		case HP_BODY_LENGTH:
		case HP_CHUNK_DATA:
			n = len - i;
			if ((uint64_t)n > r->remaining)
				n = (size_t)r->remaining;
			memcpy(r->body + r->body_len, buf + i, n);
			r->body_len += n;
			r->remaining -= n;
			i += n;
			if (r->remaining == 0) {
				if (r->state == HP_BODY_LENGTH) {
					*used = i;
					return (hp_done(r, 0));
				}
				r->state = HP_CHUNK_END;
			}
			continue;
		case HP_BODY_EOF:
			n = len - i;
			if (hp_reserve(r, n) == HTTP_ERR) {
				*used = i;
				return (HTTP_ERR);
			}
			memcpy(r->body + r->body_len, buf + i, n);
			r->body_len += n;
			i += n;
			continue;
		default:
			break;
		}

		/* Line-oriented states: collect up to CRLF. */
		if (in_head(r->state) && ++r->head_bytes > HTTP_MAX_HEAD) {
			*used = i;
			return (hp_fail(r, "header section too large"));
		}
		if (buf[i] == '\n') {
			if (r->linelen == 0 ||
			    r->line[r->linelen - 1] != '\r') {
				*used = i;
				return (hp_fail(r, "bare LF"));
			}
			r->linelen--;
			r->line[r->linelen] = '\0';
			n = r->linelen;
			r->linelen = 0;
			i++;
			if ((ret = hp_line(r, r->line, n)) != HTTP_MORE) {
				*used = i;
				return (ret);
			}
			continue;
		}
		if (r->linelen > 0 && r->line[r->linelen - 1] == '\r') {
			*used = i;
			return (hp_fail(r, "bare CR"));
		}
		if (r->linelen >= sizeof(r->line) - 1) {
			*used = i;
			return (hp_fail(r, "line too long"));
		}
		r->line[r->linelen++] = (char)buf[i++];
	}
	*used = i;
	return (HTTP_MORE);
}

int
http_response_eof(struct http_response *r)
{
	switch (r->state) {
	case HP_DONE:
		return (HTTP_DONE);
	case HP_BODY_EOF:
		return (hp_done(r, 1));
	case HP_ERROR:
		return (HTTP_ERR);
	default:
		return (hp_fail(r, "connection closed mid-response"));
	}
}

static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static int
month_of(const char *s)
{
	int	i;

	for (i = 0; i < 12; i++)
		if (strncmp(s, months[i], 3) == 0)
			return (i);
	return (-1);
}

/* Exactly n digits at s. */
static int
digits(const char *s, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (-1);
		*v = *v * 10 + (s[i] - '0');
	}
	return (0);
}

static int
hms(const char *s, struct tm *tm)
{
	if (digits(s, 2, &tm->tm_hour) || s[2] != ':' ||
	    digits(s + 3, 2, &tm->tm_min) || s[5] != ':' ||
	    digits(s + 6, 2, &tm->tm_sec) || tm->tm_hour > 23 ||
	    tm->tm_min > 59 || tm->tm_sec > 60)
		return (-1);
	return (0);
}

static const char *const wkdays[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"
};

/* The three HTTP-date forms of RFC 9110 5.6.7. */
static int
http_date(const char *s, time_t *tp)
{
	struct tm	tm;
	const char	*p;
	size_t		len = strlen(s), wl;
	int		i, y;

	memset(&tm, 0, sizeof(tm));
	if (len == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' &&
	    s[11] == ' ' && s[16] == ' ' && strcmp(s + 25, " GMT") == 0) {
		/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		if (digits(s + 5, 2, &tm.tm_mday) ||
		    (tm.tm_mon = month_of(s + 8)) == -1 ||
		    digits(s + 12, 4, &y) || hms(s + 17, &tm))
			return (-1);
		tm.tm_year = y - 1900;
	} else if (len == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' &&
	    s[19] == ' ') {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		if ((tm.tm_mon = month_of(s + 4)) == -1 ||
		    (s[8] == ' ' ? digits(s + 9, 1, &tm.tm_mday) :
		    digits(s + 8, 2, &tm.tm_mday)) ||
		    hms(s + 11, &tm) || digits(s + 20, 4, &y))
			return (-1);
		tm.tm_year = y - 1900;
	} else {
		/* rfc850: Sunday, 06-Nov-94 08:49:37 GMT */
		for (i = 0; i < 7; i++) {
			wl = strlen(wkdays[i]);
			if (strncmp(s, wkdays[i], wl) == 0 && s[wl] == ',')
				break;
		}
		if (i == 7)
			return (-1);
		p = s + wl + 1;
		if (strlen(p) != 23 || p[0] != ' ' || p[3] != '-' ||
		    p[7] != '-' || p[10] != ' ' ||
		    strcmp(p + 19, " GMT") != 0 ||
		    digits(p + 1, 2, &tm.tm_mday) ||
		    (tm.tm_mon = month_of(p + 4)) == -1 ||
		    digits(p + 8, 2, &y) || hms(p + 11, &tm))
			return (-1);
		/* Two-digit years: RFC 9110 says within 50 years of now. */
		tm.tm_year = y < 70 ? y + 100 : y;
	}
	if (tm.tm_mday < 1 || tm.tm_mday > 31)
		return (-1);
	*tp = timegm(&tm);
	return (0);
}

int
http_retry_after(const char *v, time_t now, long long max, long long *secs)
{
	time_t		when;
	long long	n = 0;
	size_t		i, len = strlen(v);

	if (len > 0 && strspn(v, "0123456789") == len) {
		for (i = 0; i < len; i++) {
			if (n > (max - (v[i] - '0')) / 10) {
				n = max;
				break;
			}
			n = n * 10 + (v[i] - '0');
		}
		*secs = n;
		return (0);
	}
	if (http_date(v, &when) == -1)
		return (-1);
	if (when <= now)
		*secs = 0;
	else if ((long long)(when - now) > max)
		*secs = max;
	else
		*secs = (long long)(when - now);
	return (0);
}
