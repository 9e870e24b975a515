/*
 * libFuzzer harness for the Yarn Berry lockfile parser
 * (kobangd/scan_yarn_berry.c, on scan_yaml.c): the input follows a
 * "__metadata:" line, so every input takes the Berry path of yarn.lock
 * (fuzz_scan_yarn reaches it only when the fuzzer writes that line).
 * See fuzz_scan_pkg.h for the oracles.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_scan_pkg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 head[] = "__metadata:\n";
	uint8_t			*doc;

	/* An exact-size copy: overreads are caught. */
	if ((doc = malloc(sizeof(head) - 1 + size)) == NULL)
		abort();
	memcpy(doc, head, sizeof(head) - 1);
	if (size > 0)
		memcpy(doc + sizeof(head) - 1, data, size);
	fzp_both(SCAN_PARSER_YARN_LOCK, 0, doc, sizeof(head) - 1 + size);
	free(doc);
	return (0);
}
