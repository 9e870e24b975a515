/*
 * libFuzzer harness for the Homebrew receipt parser: whatever the bytes,
 * exactly one package item with the listing's name and versions, a tap
 * only when the receipt read cleanly, the same in memory and streamed.
 * See fuzz_scan_agents.h.
 */

#include <stdint.h>

#include "fuzz_scan_agents.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fza_both(SCAN_PARSER_BREW_RECEIPT, 0, data, size);
	return (0);
}
