/*
 * libFuzzer harness for the dns child's dispatcher (dns_dispatch_imsg)
 * fed by a hostile parent (fuzz_child_common.h): name servers out of
 * order, of odd families, ports and counts, with and without their
 * socket, queries with odd hosts and descriptors.  A query is sent only
 * before any name server in the input, so that it is answered at once
 * (no complete set) and no packet leaves: what c-ares does with real
 * servers is t_privsep_dns and the sandbox tests.
 */

#include <netinet/in.h>

#include "fuzz_child_common.h"

#include "compat.h"
#include "kobangd.h"
#include "netproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint32_t	types[] = {
	IMSG_DNS_SERVER, IMSG_DNS_QUERY, IMSG_DNS_ANSWER, IMSG_NET_CA_BEGIN,
	IMSG_NONE,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_chan	 c;
	struct fz_msg	 m;
	uint32_t	 type;
	int		 servers = 0, fd;

	dns_dispatch_reset();
	fz_open(&c, NULL);
	while (fz_next(&data, &size, &m)) {
		type = m.sel < nitems(types) * 16 ?
		    types[m.sel % nitems(types)] : m.sel;
		if (type == IMSG_DNS_QUERY && servers)
			continue;
		fd = -1;
		if (type == IMSG_DNS_SERVER) {
			servers = 1;
			if (m.fd && (fd = socket(AF_INET, SOCK_DGRAM |
			    SOCK_CLOEXEC, 0)) == -1)
				abort();
		} else if (m.fd)
			fd = fz_devnull();
		if (fz_send(&c, dns_dispatch_imsg, type, m.p, m.len, fd) == -1)
			break;
	}
	dns_dispatch_reset();
	fz_close(&c);
	return (0);
}
