/*
 * The HTTP client core: endpoint joining (PROTOCOL.md 1.2), the request
 * bytes, and the response parser's framing, limits and refusals.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "http.h"

Test(http, endpoint_joining)
{
	static const struct { const char *url, *target, *host; } v[] = {
		{ "https://fleet.example.com", "/api/sensor/v1/sync",
		    "fleet.example.com" },
		{ "https://fleet.example.com/", "/api/sensor/v1/sync",
		    "fleet.example.com" },
		{ "https://host/koban", "/koban/api/sensor/v1/sync", "host" },
		{ "https://host/koban/", "/koban/api/sensor/v1/sync", "host" },
		{ "HTTPS://127.0.0.1:8443", "/api/sensor/v1/sync",
		    "127.0.0.1:8443" },
		{ "https://[::1]:9/x", "/x/api/sensor/v1/sync", "[::1]:9" },
		{ "https://a-b.c:443", "/api/sensor/v1/sync", "a-b.c" },
	};
	struct http_endpoint	ep;
	char			err[128], t[256];
	size_t			i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(http_endpoint_parse(v[i].url, &ep, err,
		    sizeof(err)), 0, "%s: %s", v[i].url, err);
		cr_assert_eq(http_target(&ep, "api/sensor/v1/sync", t,
		    sizeof(t)), 0);
		cr_assert_str_eq(t, v[i].target);
		cr_assert_str_eq(ep.hosthdr, v[i].host);
	}
	cr_assert_eq(http_endpoint_parse("https://[::1]:9/x", &ep, err,
	    sizeof(err)), 0);
	cr_assert_str_eq(ep.host, "::1");
	cr_assert_eq(ep.port, 9);
	cr_assert_eq(ep.host_is_ip, 1);
}

Test(http, endpoint_refusals)
{
	static const char *const bad[] = {
		"http://fleet.example.com", "fleet.example.com", "https://",
		"https://u:p@host/", "https://host/?q=1", "https://host/#f",
		"https://host:0", "https://host:65536", "https://host:x",
		"https://host:", "https://-host", "https://ho_st",
		"https://host./", "https://a..b", "https://[::1", "https://[zz]",
		"https://host/a b", "https://h\xc3\xa9st",
	};
	struct http_endpoint	ep;
	char			err[128];
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(http_endpoint_parse(bad[i], &ep, err,
		    sizeof(err)), -1, "accepted %s", bad[i]);
}

Test(http, post_bytes)
{
	struct http_hdr	h[1] = { { "X-Koban-Sensor-Token", "tok" } };
	char		*req, want[512];
	size_t		 len;

	req = http_post("h:1", "/api/sensor/v1/check-in", h, 1, "{}", 2,
	    &len);
	cr_assert_not_null(req);
	snprintf(want, sizeof(want), "POST /api/sensor/v1/check-in HTTP/1.1\r\n"
	    "Host: h:1\r\nContent-Type: application/json\r\n"
	    "Content-Length: 2\r\nUser-Agent: kobangd/%s\r\n"
	    "X-Koban-Sensor-Token: tok\r\n\r\n{}", KOBANGD_VERSION);
	cr_assert_eq(len, strlen(want));
	cr_assert(memcmp(req, want, len) == 0);
	free(req);
	/* Header injection through a configured value is refused. */
	h[0].value = "tok\r\nX-Evil: 1";
	cr_assert_null(http_post("h", "/x", h, 1, "", 0, &len));
	h[0].value = "tok";
	h[0].name = "X Bad";
	cr_assert_null(http_post("h", "/x", h, 1, "", 0, &len));
	cr_assert_null(http_post("h", "/x y", NULL, 0, "", 0, &len));
}

/* Feed all at once, and byte by byte: both must agree. */
static int
parse_all(const char *s, size_t len, size_t max, struct http_response *r,
    size_t *used)
{
	struct http_response	one;
	size_t			i, u, total = 0;
	int			ret, ret1 = HTTP_MORE;

	http_response_init(r, max);
	ret = http_response_feed(r, (const uint8_t *)s, len, used);
	http_response_init(&one, max);
	for (i = 0; i < len && ret1 == HTTP_MORE; i++) {
		ret1 = http_response_feed(&one, (const uint8_t *)s + i, 1, &u);
		total += u;
	}
	cr_assert_eq(ret, ret1, "bytewise feeding disagrees on %.40s", s);
	if (ret == HTTP_DONE) {
		cr_assert_eq(total, *used);
		cr_assert_eq(one.body_len, r->body_len);
		cr_assert(one.body_len == 0 ||
		    memcmp(one.body, r->body, r->body_len) == 0);
		cr_assert_eq(one.keepalive, r->keepalive);
	}
	http_response_free(&one);
	return (ret);
}

static int
parse(const char *s, struct http_response *r)
{
	size_t	used;

	return (parse_all(s, strlen(s), 1024, r, &used));
}

Test(http, content_length_and_keepalive)
{
	struct http_response	r;
	size_t			used;
	const char		*s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "content-length:5\r\nRetry-After:  120 \r\n\r\nhelloEXTRA";

	cr_assert_eq(parse_all(s, strlen(s), 1024, &r, &used), HTTP_DONE);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, 5);
	cr_assert(memcmp(r.body, "hello", 5) == 0);
	cr_assert_eq(r.keepalive, 1);
	cr_assert_eq(used, strlen(s) - 5);	/* EXTRA is not taken */
	cr_assert_eq(r.has_retry_after, 1);
	cr_assert_str_eq(r.retry_after, "120");
	http_response_free(&r);

	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close"
	    "\r\nContent-Length: 0\r\n\r\n", &r), HTTP_DONE);
	cr_assert_eq(r.keepalive, 0);
	http_response_free(&r);
	cr_assert_eq(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", &r),
	    HTTP_DONE);
	cr_assert_eq(r.keepalive, 0);
	http_response_free(&r);
	cr_assert_eq(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 0\r\n\r\n", &r), HTTP_DONE);
	cr_assert_eq(r.keepalive, 1);
	http_response_free(&r);
	/* A reason phrase is optional; 204 has no body whatever it says. */
	cr_assert_eq(parse("HTTP/1.1 204\r\nContent-Length: 7\r\n\r\n", &r),
	    HTTP_DONE);
	cr_assert_eq(r.body_len, 0);
	http_response_free(&r);
}

Test(http, chunked_with_extensions_and_trailers)
{
	struct http_response	r;

	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n"
	    "\r\n5;name=val\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n"
	    "0\r\nX-Trailer: yes\r\n\r\n", &r), HTTP_DONE);
	cr_assert_eq(r.body_len, 16);
	cr_assert(memcmp(r.body, "hello 0123456789", 16) == 0);
	cr_assert_eq(r.keepalive, 1);
	http_response_free(&r);
}

Test(http, body_until_close)
{
	struct http_response	r;
	size_t			used;
	const char		*s = "HTTP/1.1 200 OK\r\n\r\n{\"a\":1}";

	cr_assert_eq(parse_all(s, strlen(s), 1024, &r, &used), HTTP_MORE);
	cr_assert_eq(http_response_eof(&r), HTTP_DONE);
	cr_assert_eq(r.body_len, 7);
	cr_assert_eq(r.keepalive, 0);
	http_response_free(&r);
	/* Closing inside a Content-Length body is an error. */
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
	    &r), HTTP_MORE);
	cr_assert_eq(http_response_eof(&r), HTTP_ERR);
	cr_assert_str_eq(http_response_error(&r),
	    "connection closed mid-response");
	http_response_free(&r);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5\r\nab", &r), HTTP_MORE);
	cr_assert_eq(http_response_eof(&r), HTTP_ERR);
	http_response_free(&r);
}

Test(http, interim_responses)
{
	struct http_response	r;

	cr_assert_eq(parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\n"
	    "Link: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n"
	    "ok", &r), HTTP_DONE);
	cr_assert_eq(r.status, 201);
	cr_assert_eq(r.body_len, 2);
	http_response_free(&r);
	cr_assert_eq(parse("HTTP/1.1 101 Switching\r\n\r\n", &r), HTTP_ERR);
	http_response_free(&r);
}

Test(http, body_cap)
{
	struct http_response	r;
	char			buf[4096];
	size_t			used;
	int			n;

	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n",
	    &r), HTTP_ERR);
	cr_assert_str_eq(http_response_error(&r), "response body too large");
	http_response_free(&r);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: "
	    "52428800\r\n\r\n", &r), HTTP_ERR);
	http_response_free(&r);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n400\r\n", &r), HTTP_MORE);
	http_response_free(&r);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n401\r\n", &r), HTTP_ERR);
	http_response_free(&r);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "\r\nfffffffffffffffffff\r\n", &r), HTTP_ERR);
	http_response_free(&r);
	/* Until close: the cap holds while bytes stream in. */
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n\r\n");
	memset(buf + n, 'x', 1025);
	cr_assert_eq(parse_all(buf, (size_t)n + 1025, 1024, &r, &used),
	    HTTP_ERR);
	http_response_free(&r);
}

Test(http, refusals)
{
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 99 Low\r\n\r\n",
		"HTTP/1.1 600 High\r\n\r\n",
		"HTTP/1.1 2000 X\r\n\r\n",
		"HTTP/1.1 200 OK\n\n",
		"HTTP/1.1 200 OK\r\nA: b\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: empty\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: \x01\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "2\r\nabc\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "g\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "2 x\r\n",
		"HTTP/1.1 200 OK\x01\r\n\r\n",
	};
	struct http_response	r;
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i], &r), HTTP_ERR, "accepted %s",
		    bad[i]);
		http_response_free(&r);
	}
}

Test(http, head_limits)
{
	struct http_response	r;
	char			*buf;
	size_t			n, used, i;

	/* One line longer than HTTP_MAX_LINE. */
	buf = malloc(HTTP_MAX_LINE + 64);
	n = (size_t)snprintf(buf, 64, "HTTP/1.1 200 OK\r\nA: ");
	memset(buf + n, 'a', HTTP_MAX_LINE);
	n += HTTP_MAX_LINE;
	cr_assert_eq(parse_all(buf, n, 1024, &r, &used), HTTP_ERR);
	cr_assert_str_eq(http_response_error(&r), "line too long");
	http_response_free(&r);
	free(buf);
	/* Too many header lines. */
	buf = malloc(64 * (HTTP_MAX_HEADERS + 2));
	n = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i <= HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(buf + n, "X-%zu: v\r\n", i);
	cr_assert_eq(parse_all(buf, n, 1024, &r, &used), HTTP_ERR);
	cr_assert_str_eq(http_response_error(&r), "too many header lines");
	http_response_free(&r);
	free(buf);
	/* The header section as a whole. */
	buf = malloc(HTTP_MAX_HEAD + 8192);
	n = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\n");
	for (i = 0; n < HTTP_MAX_HEAD + 100; i++) {
		n += (size_t)sprintf(buf + n, "X: ");
		memset(buf + n, 'b', 1000);
		n += 1000;
		n += (size_t)sprintf(buf + n, "\r\n");
	}
	cr_assert_eq(parse_all(buf, n, 1024, &r, &used), HTTP_ERR);
	cr_assert_str_eq(http_response_error(&r), "header section too large");
	http_response_free(&r);
	free(buf);
}

Test(http, retry_after)
{
	long long	s;
	time_t		now = 784111777;	/* Sun, 06 Nov 1994 08:49:37 GMT */

	cr_assert_eq(http_retry_after("120", now, 86400, &s), 0);
	cr_assert_eq(s, 120);
	cr_assert_eq(http_retry_after("99999999999999999999999", now, 86400,
	    &s), 0);
	cr_assert_eq(s, 86400);
	cr_assert_eq(http_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now,
	    86400, &s), 0);
	cr_assert_eq(s, 60);
	cr_assert_eq(http_retry_after("Sunday, 06-Nov-94 08:51:37 GMT", now,
	    86400, &s), 0);
	cr_assert_eq(s, 120);
	cr_assert_eq(http_retry_after("Sun Nov  6 08:52:37 1994", now, 86400,
	    &s), 0);
	cr_assert_eq(s, 180);
	cr_assert_eq(http_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now,
	    86400, &s), 0);
	cr_assert_eq(s, 0);
	cr_assert_eq(http_retry_after("-5", now, 86400, &s), -1);
	cr_assert_eq(http_retry_after("", now, 86400, &s), -1);
	cr_assert_eq(http_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", now,
	    86400, &s), -1);
	cr_assert_eq(http_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", now,
	    86400, &s), -1);
	cr_assert_eq(http_retry_after("1.5", now, 86400, &s), -1);
}

/* The answer to a CONNECT, at once and byte by byte; *used as taken. */
static int
parse_connect(const char *s, struct http_response *r, size_t *used)
{
	struct http_response	one;
	size_t			i, u, total = 0, len = strlen(s);
	int			ret, ret1 = HTTP_MORE;

	http_response_init_connect(r);
	ret = http_response_feed(r, (const uint8_t *)s, len, used);
	http_response_init_connect(&one);
	for (i = 0; i < len && ret1 == HTTP_MORE; i++) {
		ret1 = http_response_feed(&one, (const uint8_t *)s + i, 1, &u);
		total += u;
	}
	cr_assert_eq(ret, ret1, "bytewise feeding disagrees on %.40s", s);
	if (ret == HTTP_DONE) {
		cr_assert_eq(total, *used);
		cr_assert_eq(one.keepalive, r->keepalive);
		cr_assert_eq(one.status, r->status);
	}
	cr_assert_eq(r->body_len, 0, "a CONNECT answer's body was read");
	http_response_free(&one);
	return (ret);
}

Test(http, connect_answers)
{
	struct http_response	r;
	const char		*s;
	size_t			used;

	/* tinyproxy's 2xx: the tunnel; framing headers are ignored. */
	s = "HTTP/1.0 200 Connection established\r\n"
	    "Proxy-agent: tinyproxy/1.11.1\r\n\r\n";
	cr_assert_eq(parse_connect(s, &r, &used), HTTP_DONE);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.keepalive, 1);
	cr_assert_eq(used, strlen(s));
	http_response_free(&r);
	s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n\x16\x03\x01";
	cr_assert_eq(parse_connect(s, &r, &used), HTTP_DONE);
	cr_assert_eq(r.keepalive, 1);
	cr_assert_eq(used, strlen(s) - 3, "bytes past the head were taken");
	http_response_free(&r);
	/* An interim answer first, then the tunnel. */
	cr_assert_eq(parse_connect("HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 200 OK\r\n\r\n", &r, &used), HTTP_DONE);
	cr_assert_eq(r.status, 200);
	http_response_free(&r);
	/* A refusal ends at its head; its body is not read. */
	s = "HTTP/1.0 407 Proxy Authentication Required\r\n"
	    "Proxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 9\r\n"
	    "\r\nno entry!";
	cr_assert_eq(parse_connect(s, &r, &used), HTTP_DONE);
	cr_assert_eq(r.status, 407);
	cr_assert_eq(r.keepalive, 0);
	http_response_free(&r);
	cr_assert_eq(parse_connect("HTTP/1.1 403 Forbidden\r\n\r\n", &r,
	    &used), HTTP_DONE);
	cr_assert_eq(r.status, 403);
	cr_assert_eq(r.keepalive, 0);
	http_response_free(&r);
	/* The same strict reader: refusals as for any answer. */
	cr_assert_eq(parse_connect("HTTP/1.1 200 OK\n\n", &r, &used),
	    HTTP_ERR);
	http_response_free(&r);
	cr_assert_eq(parse_connect("HTTP/1.1 101 Switching\r\n\r\n", &r,
	    &used), HTTP_ERR);
	http_response_free(&r);
	cr_assert_eq(parse_connect("HTTP/2 200 OK\r\n\r\n", &r, &used),
	    HTTP_ERR);
	http_response_free(&r);
	cr_assert_eq(parse_connect("HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n", &r,
	    &used), HTTP_ERR);
	http_response_free(&r);
	/* A head cut off by the close is an error, not a tunnel. */
	http_response_init_connect(&r);
	cr_assert_eq(http_response_feed(&r, (const uint8_t *)"HTTP/1.1 200 OK"
	    "\r\n", 17, &used), HTTP_MORE);
	cr_assert_eq(http_response_eof(&r), HTTP_ERR);
	http_response_free(&r);
}

Test(http, connect_request)
{
	char	*req, want[256];
	size_t	 len;

	req = http_connect_request("fleet.example.com:443", "dTpw", &len);
	cr_assert_not_null(req);
	snprintf(want, sizeof(want), "CONNECT fleet.example.com:443 HTTP/1.1"
	    "\r\nHost: fleet.example.com:443\r\nUser-Agent: kobangd/%s\r\n"
	    "Proxy-Authorization: Basic dTpw\r\n\r\n", KOBANGD_VERSION);
	cr_assert_eq(len, strlen(want));
	cr_assert(memcmp(req, want, len) == 0);
	free(req);
	req = http_connect_request("[::1]:8443", NULL, &len);
	cr_assert_not_null(req);
	cr_assert(strstr(req, "Proxy-Authorization") == NULL);
	cr_assert(strncmp(req, "CONNECT [::1]:8443 HTTP/1.1\r\n", 29) == 0);
	free(req);
	cr_assert_null(http_connect_request("a b:1", NULL, &len));
	cr_assert_null(http_connect_request("", NULL, &len));
	cr_assert_null(http_connect_request("h:1", "x\r\nEvil: 1", &len));
}

Test(http, proxy_urls)
{
	static const struct { const char *url, *host, *hp; int port; } v[] = {
		{ "http://proxy.example:3128", "proxy.example",
		    "proxy.example:3128", 3128 },
		{ "HTTP://proxy.example:3128/", "proxy.example",
		    "proxy.example:3128", 3128 },
		{ "proxy.example:8080", "proxy.example", "proxy.example:8080",
		    8080 },
		{ "proxy.example", "proxy.example", "proxy.example:1080",
		    1080 },
		{ "http://127.0.0.1:3128", "127.0.0.1", "127.0.0.1:3128",
		    3128 },
		{ "http://[::1]:3128", "::1", "[::1]:3128", 3128 },
	};
	static const char *const bad[] = {
		"https://proxy.example:3128", "socks5://proxy.example:1080",
		"http://user:pass@proxy.example:3128", "user@proxy.example",
		"http://proxy.example:3128/path", "http://proxy.example/?q",
		"http://proxy.example:0", "http://proxy.example:x", "http://",
		"", "http://pro xy", "http://pro_xy:1", "http://[::1",
	};
	struct http_proxy	px;
	char			err[160];
	size_t			i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(http_proxy_parse(v[i].url, &px, err,
		    sizeof(err)), 0, "%s: %s", v[i].url, err);
		cr_assert_str_eq(px.host, v[i].host);
		cr_assert_str_eq(px.hostport, v[i].hp);
		cr_assert_eq(px.port, v[i].port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(http_proxy_parse(bad[i], &px, err, sizeof(err)),
		    -1, "accepted %s", bad[i]);
	/* The message never repeats a password. */
	cr_assert_eq(http_proxy_parse("http://u:s3cret@p:1", &px, err,
	    sizeof(err)), -1);
	cr_assert(strstr(err, "s3cret") == NULL);
	cr_assert(strstr(err, "proxyCredentialsFile") != NULL);
}

Test(http, no_proxy)
{
	static const struct { const char *list, *host; int want; } v[] = {
		{ "*", "fleet.example.com", 1 },
		{ "example.com", "fleet.example.com", 1 },
		{ ".example.com", "fleet.example.com", 1 },
		{ "example.com", "example.com", 1 },
		{ "EXAMPLE.com.", "fleet.Example.COM", 1 },
		{ "other.org, example.com", "fleet.example.com", 1 },
		{ "other.org example.com", "fleet.example.com", 1 },
		{ "ample.com", "fleet.example.com", 0 },
		{ "fleet.example.com", "example.com", 0 },
		{ "other.org", "fleet.example.com", 0 },
		{ "", "fleet.example.com", 0 },
		{ ",,", "fleet.example.com", 0 },
		{ "*.example.com", "fleet.example.com", 0 },
		{ "localhost", "localhost", 1 },
		{ "127.0.0.1", "127.0.0.1", 1 },
		{ "127.0.0.2", "127.0.0.1", 0 },
		{ "10.0.0.0/8", "10.1.2.3", 1 },
		{ "10.0.0.0/8", "11.1.2.3", 0 },
		{ "192.168.1.128/25", "192.168.1.200", 1 },
		{ "192.168.1.128/25", "192.168.1.100", 0 },
		{ "10.0.0.0/33", "10.0.0.1", 0 },
		{ "::1", "::1", 1 },
		{ "[::1]", "::1", 1 },
		{ "fd00::/8", "fd12::5", 1 },
		{ "fd00::/8", "fe12::5", 0 },
		{ "10.0.0.0/8", "fd12::5", 0 },
		{ "1.2.3.4", "host1.2.3.4", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		cr_assert_eq(http_no_proxy(v[i].list, v[i].host), v[i].want,
		    "no_proxy \"%s\" for %s", v[i].list, v[i].host);
}
