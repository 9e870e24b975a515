/*
 * libFuzzer harness for the MCP redaction (kobangd/scan_redact.c): the
 * input's first byte picks URL or command line, the rest is a URL, or
 * arguments separated by newlines.  Oracles: valid UTF-8 in gives valid
 * UTF-8 out (only ASCII bytes delimit what is hidden); the same input
 * gives the same output; a marker is always whole.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "scan_redact.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t	key[REDACT_KEY_LEN] = { 0x42 };

static void
run(const uint8_t *p, size_t len, int mode, struct sbuf *sb)
{
	struct redactor	 rd;
	const uint8_t	*nl;
	size_t		 n;

	sbuf_reset(sb);
	if (mode == 0) {
		if (redact_url(key, sb, (const char *)p, len) == -1)
			abort();
		return;
	}
	redact_init(&rd, key);
	while (len > 0) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		if (sbuf_add(sb, " ", 1) == SBUF_ERR ||
		    redact_arg(&rd, sb, (const char *)p, n) == -1)
			abort();
		p += n;
		len -= n;
		if (nl != NULL) {
			p++;
			len--;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbuf	 a, b;
	const char	*m;
	size_t		 off;
	int		 mode;

	if (size < 1)
		return (0);
	mode = data[0] & 1;
	sbuf_init(&a);
	sbuf_init(&b);
	run(data + 1, size - 1, mode, &a);
	run(data + 1, size - 1, mode, &b);
	if (a.len != b.len || (a.len > 0 && memcmp(a.p, b.p, a.len) != 0))
		abort();
	if (utf8_valid((const char *)data + 1, size - 1) &&
	    !utf8_valid(a.p == NULL ? "" : a.p, a.len))
		abort();
	/* Every marker the output holds that the input did not is whole. */
	for (off = 0; a.p != NULL && off < a.len; off++) {
		if ((m = memmem(a.p + off, a.len - off, REDACT_MARK_PREFIX,
		    sizeof(REDACT_MARK_PREFIX) - 1)) == NULL)
			break;
		off = (size_t)(m - a.p);
		if (memmem(data + 1, size - 1, REDACT_MARK_PREFIX,
		    sizeof(REDACT_MARK_PREFIX) - 1) == NULL &&
		    (a.len - off < REDACT_MARK_LEN ||
		    a.p[off + REDACT_MARK_LEN - 1] != '>'))
			abort();
	}
	sbuf_free(&a);
	sbuf_free(&b);
	return (0);
}
