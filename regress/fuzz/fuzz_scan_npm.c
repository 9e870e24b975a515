/*
 * libFuzzer harness for the npm lockfile parser (kobangd/scan_npm.c):
 * the input is the file.  See fuzz_scan_parsers.h for the oracles.
 */

#include <stdint.h>

#include "fuzz_scan_parsers.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_both(SCAN_PARSER_NPM_LOCK, 0, data, size);
	return (0);
}
