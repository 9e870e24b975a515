/*
 * libFuzzer harness for requirement and constraint files
 * (kobangd/scan_requirements.c) and the parent's include bookkeeping
 * (kobangd/reqinc.c): the first byte picks constraints or not, the rest
 * is the file.  See fuzz_scan_pkg.h for the oracles.
 */

#include <stdint.h>

#include "fuzz_scan_pkg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return (0);
	fzp_both(SCAN_PARSER_REQUIREMENTS, (data[0] & 1) ? SCAN_F_CONSTRAINT :
	    0, data + 1, size - 1);
	return (0);
}
