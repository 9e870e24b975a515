/*
 * libFuzzer harness for the HTTP response parser (bytes from the
 * network).  The first input byte chooses how the rest is split into
 * feeds; whatever the split, the outcome, body and keep-alive verdict
 * must equal those of one feed, the body never exceeds the cap, and the
 * Retry-After value, if any, parses or fails cleanly.  Every input is
 * also read as a proxy's answer to CONNECT, with the same agreement
 * between splits, no body ever, and a tunnel only on a 2xx.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CAP	65536

static int
run(const uint8_t *d, size_t n, size_t step, struct http_response *r,
    size_t *total, int connect)
{
	size_t	off = 0, used, k;
	int	ret = HTTP_MORE;

	if (connect)
		http_response_init_connect(r);
	else
		http_response_init(r, CAP);
	*total = 0;
	while (off < n && ret == HTTP_MORE) {
		k = step == 0 ? n - off : step;
		if (k > n - off)
			k = n - off;
		ret = http_response_feed(r, d + off, k, &used);
		if (used > k)
			abort();
		*total += used;
		off += k;
	}
	if (ret == HTTP_MORE)
		ret = http_response_eof(r);
	if (r->body_len > CAP)
		abort();
	return (ret);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response	a, b;
	size_t			ta, tb;
	long long		s;
	int			ra, rb;

	if (size < 1)
		return (0);
	ra = run(data + 1, size - 1, 0, &a, &ta, 1);
	rb = run(data + 1, size - 1, (size_t)data[0] % 17 + 1, &b, &tb, 1);
	if (ra != rb || a.body_len != 0 || b.body_len != 0)
		abort();
	if (ra == HTTP_DONE && (a.status != b.status || ta != tb ||
	    a.keepalive != b.keepalive ||
	    a.keepalive != (a.status >= 200 && a.status <= 299)))
		abort();
	http_response_free(&a);
	http_response_free(&b);

	ra = run(data + 1, size - 1, 0, &a, &ta, 0);
	rb = run(data + 1, size - 1, (size_t)data[0] % 17 + 1, &b, &tb, 0);
	if (ra != rb)
		abort();
	if (ra == HTTP_DONE) {
		if (a.body_len != b.body_len || a.keepalive != b.keepalive ||
		    a.status != b.status || ta != tb ||
		    (a.body_len > 0 && memcmp(a.body, b.body, a.body_len) != 0))
			abort();
		if (a.status < 100 || a.status > 599)
			abort();
		if (a.has_retry_after &&
		    http_retry_after(a.retry_after, 0, 86400, &s) == 0 &&
		    (s < 0 || s > 86400))
			abort();
	}
	http_response_free(&a);
	http_response_free(&b);
	return (0);
}
