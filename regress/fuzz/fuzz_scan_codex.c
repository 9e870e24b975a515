/*
 * libFuzzer harness for Codex config.toml (the TOML parser as the codex
 * surface uses it: mcp_servers typed, [hooks.*] lines from the raw
 * text): a failure leaves nothing, a success starts with the profile
 * item.  See fuzz_scan_agents.h.
 */

#include <stdint.h>

#include "fuzz_scan_agents.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fza_both(SCAN_PARSER_CODEX_CONFIG, 0, data, size);
	return (0);
}
