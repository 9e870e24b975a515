/*
 * libFuzzer harness for the scan child's dispatcher (scan_dispatch_imsg)
 * fed by a hostile parent (fuzz_child_common.h).  A SCAN_FILE message
 * is either raw bytes, or (flags bit 0) built from the payload: parser,
 * surface, flags and kind from its first bytes, a template name, then
 * the file's contents in a memfd attached as the descriptor.  The
 * request checks (parser and surface, flags, templates, label) and the
 * parsers behind them see what a broken parent could send.
 * IMSG_SCAN_KEY (the MCP redaction key) arrives as raw bytes: any size,
 * zeros, twice; the MCP parsers run with and without one.
 */

#include <sys/mman.h>

#include <limits.h>

#include "fuzz_child_common.h"

#include "compat.h"
#include "kobangd.h"
#include "scan.h"
#include "scan_redact.h"
#include "scanproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint32_t	types[] = {
	IMSG_SCAN_FILE, IMSG_SCAN_ITEMS, IMSG_SCAN_FILE_DONE, IMSG_NONE,
	IMSG_SCAN_KEY,
};

/* The memfd holding a file's contents. */
static int
fz_file(const uint8_t *p, size_t len)
{
	int	fd;

	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) == -1)
		abort();
	if (len > 0 && write(fd, p, len) != (ssize_t)len)
		abort();
	return (fd);
}

static int
fz_scan_init(struct imsgbuf *ibuf)
{
	return (scanproto_channel_init(ibuf));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scan_file	 sf;
	struct fz_chan		 c;
	struct fz_msg		 m;
	uint32_t		 type, id = 0;
	size_t			 nl;
	int			 fd;

	/* Each input is a new child: no key until one is sent. */
	scan_redact_clearkey();
	fz_open(&c, fz_scan_init);
	while (fz_next(&data, &size, &m)) {
		type = m.sel < nitems(types) * 16 ?
		    types[m.sel % nitems(types)] : m.sel;
		if (type == IMSG_SCAN_FILE && m.fd && m.len >= 5) {
			/* Built: a request a parent could almost send. */
			memset(&sf, 0, sizeof(sf));
			sf.scan_id = 1;
			sf.file_id = ++id;
			sf.parser = m.p[0] % SCAN_PARSER_COUNT;
			sf.surface = m.p[1] % (SURFACE_COUNT + 1);
			sf.flags = m.p[2] & 0x7f;
			sf.kind = m.p[3] % (KIND_COUNT + 1);
			nl = m.p[4] % 16;
			if (nl > m.len - 5)
				nl = m.len - 5;
			memcpy(sf.name, m.p + 5, nl);
			strlcpy(sf.path, m.p[0] & 0x80 ? "fuzz" : "/fuzz/file",
			    sizeof(sf.path));
			/* The size a parent saw at the send; now and then not. */
			sf.size = m.len - 5 - nl + (m.p[3] & 0x80 ? 1 : 0);
			fd = fz_file(m.p + 5 + nl, m.len - 5 - nl);
			if (fz_send(&c, scan_dispatch_imsg, type, &sf,
			    sizeof(sf), fd) == -1)
				break;
			continue;
		}
		fd = m.fd ? fz_devnull() : -1;
		if (fz_send(&c, scan_dispatch_imsg, type, m.p, m.len, fd) == -1)
			break;
	}
	fz_close(&c);
	return (0);
}
