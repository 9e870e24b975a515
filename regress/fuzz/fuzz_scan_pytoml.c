/*
 * libFuzzer harness for the pythonPackages TOML readers
 * (kobangd/scan_python.c: uv.lock, pylock.toml, pyproject.toml): the
 * first byte picks the reader, the rest is the file.  The TOML parser
 * itself has its own harness (fuzz_toml.c).
 */

#include <stdint.h>

#include "fuzz_scan_pkg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum scan_parser p[] = {
		SCAN_PARSER_UV_LOCK, SCAN_PARSER_PYLOCK, SCAN_PARSER_PYPROJECT
	};

	if (size == 0)
		return (0);
	fzp_both(p[data[0] % 3], 0, data + 1, size - 1);
	return (0);
}
