/*
 * libFuzzer harness for the Yarn Berry lockfile readers
 * (kobangd/scan_yarn_berry.c, on scan_yaml.c): the input follows a
 * "__metadata:" line, so every input takes the Berry path of yarn.lock
 * (fuzz_scan_yarn reaches it only when the fuzzer writes that line).
 * See fuzz_scan_pkg.h for the oracles; besides, whenever the line reader
 * takes a file (Yarn's own subset of YAML), libyaml's reader must give
 * exactly the same items, issues and result.
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
	char			*doc, *a, *b;
	size_t			 len = sizeof(head) - 1 + size;
	int			 ra, rb;

	/* An exact-size copy: overreads are caught. */
	if ((doc = malloc(len)) == NULL)
		abort();
	memcpy(doc, head, sizeof(head) - 1);
	if (size > 0)
		memcpy(doc + sizeof(head) - 1, data, size);
	fzp_both(SCAN_PARSER_YARN_LOCK, 0, (const uint8_t *)doc, len);
	/* The whole file is valid UTF-8 before either reader runs. */
	if (utf8_valid(doc, len)) {
		a = fzp_reader(SCAN_PARSER_YARN_LOCK, scan_yarn_berry_lines,
		    doc, len, &ra);
		if (ra != 1) {
			b = fzp_reader(SCAN_PARSER_YARN_LOCK,
			    scan_yarn_berry_yaml, doc, len, &rb);
			if (ra != rb || strcmp(a, b) != 0)
				abort();
			free(b);
		} else if (a[0] != '\0')
			abort();	/* declined, yet emitted */
		free(a);
	}
	free(doc);
	return (0);
}
