/*
 * Each package format's parser on the largest real file of that format
 * in regress/corpus (SOURCES): MB/s of the parser the scan child runs
 * (scan_pkg_mem(), the same code scan_file.c feeds from the descriptor),
 * CPU time of this process, best of five rounds of about 0.2 s.  MB are
 * 10^6 bytes.  Run from the source tree (or with KOBANG_SRCDIR).
 * Figures only: nothing is asserted about time.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "scan_format.h"
#include "scan_pkg.h"

struct count {
	size_t	items;
	size_t	issues;
};

static int
c_emit(void *arg, const struct scan_item *it)
{
	((struct count *)arg)->items++;
	return (0);
}

static void
c_issue(void *arg, enum scan_issue_code code, const char *reason)
{
	((struct count *)arg)->issues++;
}

static const char *
c_hash(void *arg)
{
	return (NULL);
}

static double
cpu_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static char *
slurp(const char *path, size_t *len)
{
	struct stat	 st;
	char		*p;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		err(1, "%s", path);
	if ((p = malloc(st.st_size + 1)) == NULL)
		err(1, NULL);
	if (read(fd, p, st.st_size) != st.st_size)
		err(1, "read %s", path);
	close(fd);
	*len = (size_t)st.st_size;
	return (p);
}

int
main(void)
{
	const char		*top = getenv("KOBANG_SRCDIR");
	const struct scan_format *f;
	struct scan_sink	 sink;
	struct count		 c;
	struct stat		 st;
	FILE			*src;
	char			 line[4096], path[PATH_MAX], *file, *fmt;
	char			 best_file[256];
	off_t			 best_size;
	size_t			 i, len, runs;
	double			 t0, el, best;
	char			*doc;
	int			 round;

	if (top == NULL)
		top = ".";
	sink.emit = c_emit;
	sink.issue = c_issue;
	sink.hash = c_hash;
	sink.arg = &c;
	printf("%-13s %-45s %9s %7s %9s\n", "format", "largest corpus file",
	    "bytes", "items", "MB/s");
	for (i = 0; i < scan_nformats; i++) {
		f = &scan_formats[i];
		snprintf(path, sizeof(path), "%s/regress/corpus/SOURCES", top);
		if ((src = fopen(path, "r")) == NULL)
			err(1, "%s (run from the source tree)", path);
		best_size = -1;
		while (fgets(line, sizeof(line), src) != NULL) {
			if (line[0] == '#' ||
			    (file = strtok(line, "\t\n")) == NULL ||
			    (fmt = strtok(NULL, "\t\n")) == NULL ||
			    strcmp(fmt, f->name) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/regress/corpus/%s",
			    top, file);
			if (stat(path, &st) == -1)
				err(1, "%s", path);
			if (st.st_size > best_size) {
				best_size = st.st_size;
				if (strlcpy(best_file, file, sizeof(best_file))
				    >= sizeof(best_file))
					errx(1, "%s: name too long", file);
			}
		}
		fclose(src);
		if (best_size < 0) {
			printf("%-13s (none in the corpus)\n", f->name);
			continue;
		}
		if (snprintf(path, sizeof(path), "%s/regress/corpus/%.255s",
		    top, best_file) >= (int)sizeof(path))
			errx(1, "path too long");
		doc = slurp(path, &len);
		best = 0;
		for (round = 0; round < 5; round++) {
			t0 = cpu_now();
			runs = 0;
			do {
				memset(&c, 0, sizeof(c));
				if (scan_pkg_mem(f->parser,
				    strncmp(best_file, "constraints", 11) == 0 ?
				    SCAN_F_CONSTRAINT : 0, doc, len, &sink) ==
				    -1 || c.issues != 0)
					errx(1, "%s: the parse failed",
					    best_file);
				runs++;
			} while ((el = cpu_now() - t0) < 0.2);
			el /= runs;
			if (best == 0 || el < best)
				best = el;
		}
		printf("%-13s %-45s %9zu %7zu %9.1f\n", f->name, best_file, len,
		    c.items, len / best / 1e6);
		free(doc);
	}
	return (0);
}
