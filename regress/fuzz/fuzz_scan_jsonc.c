/*
 * libFuzzer harness for the JSONC readers (OpenCode opencode.json(c),
 * Pi MCP files) and the other JSON files of the agent surfaces (Cursor
 * mcp.json, Codex hooks.json, Pi settings.json): the first byte picks the
 * parser and the flags, the rest is the file.  See fuzz_scan_agents.h
 * for the oracles.
 */

#include <stdint.h>

#include "fuzz_scan_agents.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum scan_parser	parsers[] = {
	    SCAN_PARSER_OPENCODE_CONFIG, SCAN_PARSER_PI_MCP,
	    SCAN_PARSER_CURSOR_MCP, SCAN_PARSER_CODEX_HOOKS,
	    SCAN_PARSER_PI_SETTINGS };

	if (size < 1)
		return (0);
	fza_both(parsers[data[0] % 5], (data[0] & 0x80 ? SCAN_F_MCP : 0) |
	    (data[0] & 0x40 ? SCAN_F_IMPORTS : 0), data + 1, size - 1);
	return (0);
}
