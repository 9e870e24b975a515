/*
 * libFuzzer harness for the net child's dispatcher (net_dispatch_imsg)
 * fed by a hostile parent (fuzz_child_common.h): CA and certificate
 * chunks over their totals, request bodies out of order, descriptors on
 * the wrong messages, certificates to inspect.  Under ASan an overrun
 * of the CA or body buffer is a crash.  A request is never let complete
 * on a connection the input made (that would start a TLS handshake on
 * a socketpair); without one it is answered at once.
 */

#include "fuzz_child_common.h"

#include "compat.h"
#include "kobangd.h"
#include "netproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint32_t	types[] = {
	IMSG_NET_CA_BEGIN, IMSG_NET_CA_DATA, IMSG_NET_CERT, IMSG_NET_CONNECT,
	IMSG_NET_REQUEST, IMSG_NET_REQUEST_BODY, IMSG_NET_CERT_INSPECT,
	IMSG_NET_SIGNATURE, IMSG_DNS_QUERY, IMSG_NONE,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_chan		 c;
	struct fz_msg		 m;
	struct net_request	 rq;
	uint32_t		 type;
	uint64_t		 body = 0, got = 0;
	int			 connected = 0, fd, sp[2];

	net_dispatch_reset();
	fz_open(&c, NULL);
	while (fz_next(&data, &size, &m)) {
		type = m.sel < nitems(types) * 16 ?
		    types[m.sel % nitems(types)] : m.sel;
		fd = -1;
		if (type == IMSG_NET_CONNECT && m.fd) {
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
			    sp) == -1)
				abort();
			close(sp[1]);
			fd = sp[0];
			connected = 1;
		} else if (m.fd)
			fd = fz_devnull();
		if (type == IMSG_NET_REQUEST && m.len == sizeof(rq)) {
			memcpy(&rq, m.p, sizeof(rq));
			body = rq.body_len;
			got = 0;
		}
		if (type == IMSG_NET_REQUEST_BODY) {
			if (connected && got + m.len >= body) {
				if (fd != -1)
					close(fd);
				continue;
			}
			got += m.len;
		}
		if (fz_send(&c, net_dispatch_imsg, type, m.p, m.len, fd) == -1)
			break;
	}
	net_dispatch_reset();
	fz_close(&c);
	return (0);
}
