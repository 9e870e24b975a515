/*
 * libFuzzer harness for the pnpm lockfile parser (kobangd/scan_pnpm.c):
 * the input is the file.  See fuzz_scan_pkg.h for the oracles.
 */

#include <stdint.h>

#include "fuzz_scan_pkg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fzp_both(SCAN_PARSER_PNPM_LOCK, 0, data, size);
	return (0);
}
