/*
 * libFuzzer harness for the parent's resolv.conf reader
 * (dns_conf_parse, kobangd/dnsconf.c).  Whatever the text, at most the
 * asked number of servers comes back, each of a known family, port 53,
 * an IPv4 address zero beyond its four bytes; and the servers found in
 * a prefix of the text are found first in the whole.
 */

#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kobangd.h"
#include "netproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct dns_server	s[DNS_MAX_SERVERS + 1], t[DNS_MAX_SERVERS];
	static const uint8_t	zero[12];
	int			n, m, i;

	/* One spare slot: the parser must never write past max. */
	memset(s, 0xa5, sizeof(s));
	n = dns_conf_parse((const char *)data, len, s, DNS_MAX_SERVERS);
	if (n < 0 || n > DNS_MAX_SERVERS)
		abort();
	for (i = 0; i < (int)sizeof(s[0]); i++)
		if (((uint8_t *)&s[DNS_MAX_SERVERS])[i] != 0xa5)
			abort();
	for (i = 0; i < n; i++) {
		if ((s[i].family != AF_INET && s[i].family != AF_INET6) ||
		    s[i].port != DNS_PORT || s[i].index != 0 ||
		    s[i].count != 0)
			abort();
		if (s[i].family == AF_INET &&
		    memcmp(s[i].addr + 4, zero, sizeof(zero)) != 0)
			abort();
	}
	/* Up to the last newline: the same servers, a prefix of them. */
	while (len > 0 && data[len - 1] != '\n')
		len--;
	m = dns_conf_parse((const char *)data, len, t, DNS_MAX_SERVERS);
	if (m > n || memcmp(s, t, sizeof(t[0]) * (size_t)m) != 0)
		abort();
	return (0);
}
