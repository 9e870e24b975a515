/*
 * What the scan parser harnesses (fuzz_scan_agents.h,
 * fuzz_scan_parsers.h, fuzz_scan_pkg.h) check and feed alike: text an
 * item may carry, and a reader that hands the input over in odd-sized
 * pieces so a streaming parser meets every boundary.
 */
#ifndef FUZZ_SCAN_COMMON_H
#define FUZZ_SCAN_COMMON_H

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "scan.h"
#include "utf8.h"

#include "../unit/scan_testkey.h"

/* The hash sink's answer (SHA-256 of nothing): where hashes go. */
#define FUZZ_HASH	"e3b0c44298fc1c149afbf4c8996fb924" \
			"27ae41e4649b934ca495991b7852b855"

/* Valid UTF-8, or holding a NUL the encoder will refuse. */
static int
fz_text(const struct sv *s)
{
	return (memchr(s->p, '\0', s->len) != NULL ||
	    utf8_valid(s->p, s->len));
}

static int
fz_is(const struct sv *s, const char *lit)
{
	return (s->p != NULL && s->len == strlen(lit) &&
	    memcmp(s->p, lit, s->len) == 0);
}

/* Reads of 1 to mod bytes, in turn. */
struct fz_rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	unsigned int	 step;
	unsigned int	 mod;
};

static ssize_t
fz_read(void *arg, void *buf, size_t len)
{
	struct fz_rd	*r = arg;
	size_t		 n = r->step++ % r->mod + 1;

	if (n > len)
		n = len;
	if (n > r->len - r->off)
		n = r->len - r->off;
	memcpy(buf, r->p + r->off, n);
	r->off += n;
	return ((ssize_t)n);
}

#endif
