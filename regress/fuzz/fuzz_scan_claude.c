/*
 * libFuzzer harness for the claudeConfig parsers (kobangd/scan_claude.c):
 * the first byte picks the parser and the flags, the rest is the file.
 * See fuzz_scan_parsers.h for the oracles.
 */

#include <stdint.h>

#include "fuzz_scan_parsers.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum scan_parser	parsers[] = { SCAN_PARSER_CLAUDE_MCP,
	    SCAN_PARSER_CLAUDE_SETTINGS, SCAN_PARSER_CLAUDE_PLUGIN_FILE };

	if (size < 1)
		return (0);
	fz_both(parsers[data[0] % 3], (data[0] >> 2) & SCAN_F_ALL, data + 1,
	    size - 1);
	return (0);
}
