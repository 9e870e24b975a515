/*
 * libFuzzer harness for the strict event payload decoder (common/pb.h).
 * Besides not crashing or leaking, whatever decodes must re-encode, the
 * re-encoding must decode to the same fields and be canonical, and when
 * the input itself was canonical the re-encoding must be the very same
 * bytes.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pb_payload	 p, q;
	struct pbuf		 b;
	char			 err[256];

	if (pb_decode_payload(data, len, &p, err, sizeof(err)) == -1) {
		/* A refusal leaves nothing allocated and says why. */
		if (err[0] == '\0' || p.has_item || p.has_finding ||
		    p.item.name != NULL)
			abort();
		return (0);
	}
	pbuf_init(&b);
	if (pb_encode_payload(&p, &b) == -1)
		abort();
	if (pb_decode_payload(b.buf, b.len, &q, err, sizeof(err)) == -1)
		abort();
	if (!q.canonical || !pb_payload_equal(&p, &q))
		abort();
	if (p.canonical && (b.len != len || memcmp(b.buf, data, len) != 0))
		abort();
	pb_payload_free(&q);
	pb_payload_free(&p);
	pbuf_free(&b);
	return (0);
}
