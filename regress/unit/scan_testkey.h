/*
 * The MCP redaction key of the tests, fuzzers and tools (scan_redact.h):
 * fixed, so that golden files stay put.  A process that includes this
 * holds it from the start, as a scan child does once the parent's
 * IMSG_SCAN_KEY arrived; scan_test_sendkey() is that message, for the
 * harnesses that run a child of their own.
 */
#ifndef SCAN_TESTKEY_H
#define SCAN_TESTKEY_H

#include <stdint.h>
#include <string.h>

#include "imsg.h"
#include "kobangd.h"
#include "scan_redact.h"
#include "scanproto.h"

static const uint8_t	scan_test_key[SCAN_KEY_LEN] = {
	0x6b, 0x6f, 0x62, 0x61, 0x6e, 0x67, 0x64, 0x2d,
	0x74, 0x65, 0x73, 0x74, 0x2d, 0x6b, 0x65, 0x79,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
};

__attribute__((__unused__, __constructor__)) static void
scan_test_setkey(void)
{
	if (scan_redact_key() == NULL)
		(void)scan_redact_setkey(scan_test_key, sizeof(scan_test_key));
}

/* Queue IMSG_SCAN_KEY with the test key; 0 or -1. */
__attribute__((__unused__)) static int
scan_test_sendkey(struct imsgbuf *ibuf)
{
	struct scan_key	sk;

	memcpy(sk.key, scan_test_key, sizeof(sk.key));
	return (imsg_compose(ibuf, IMSG_SCAN_KEY, 0, 0, -1, &sk,
	    sizeof(sk)) == -1 ? -1 : 0);
}

#endif
