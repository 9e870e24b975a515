/*
 * libFuzzer harness for the pnpm lockfile parser (kobangd/scan_pnpm.c):
 * the input is the file.  See fuzz_scan_pkg.h for the oracles; besides,
 * the reader the scan child runs (the line walk of pnpm's subset when
 * the file is in it) and libyaml's alone must give exactly the same
 * items, issues and result.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_scan_pkg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*doc, *a, *b;
	int	 ra, rb;

	fzp_both(SCAN_PARSER_PNPM_LOCK, 0, data, size);
	/* An exact-size copy: overreads are caught. */
	if ((doc = malloc(size ? size : 1)) == NULL)
		abort();
	if (size > 0)
		memcpy(doc, data, size);
	a = fzp_reader(SCAN_PARSER_PNPM_LOCK, scan_pnpm_text, doc, size, &ra);
	b = fzp_reader(SCAN_PARSER_PNPM_LOCK, scan_pnpm_yaml_mem, doc, size,
	    &rb);
	if (ra != rb || strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	free(doc);
	return (0);
}
