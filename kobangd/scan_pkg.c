/*
 * Running the package parsers (the rows of scan_format.c): over a reader
 * (the scan child's descriptor, scan_file.c) or over memory (tests,
 * fuzzers).  npm and bun stream through the JSON reader; the YAML, TOML
 * and line formats need the whole text, read into one buffer of the
 * file's size (at most the 25 MB cap).
 */

#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "scan_format.h"
#include "scan_pkg.h"

int
scan_pkg_parser(enum scan_parser p)
{
	return (scan_format_by_parser(p) != NULL);
}

struct memrd {
	const char	*p;
	size_t		 len;
	size_t		 off;
};

static ssize_t
mem_read(void *arg, void *buf, size_t len)
{
	struct memrd	*m = arg;
	size_t		 n = m->len - m->off;

	if (n > len)
		n = len;
	if (n > 0)
		memcpy(buf, m->p + m->off, n);
	m->off += n;
	return ((ssize_t)n);
}

int
scan_pkg_read(enum scan_parser p, int flags, json_read_fn rd, void *arg,
    size_t size, const struct scan_sink *sink, scan_include_fn inc,
    void *incarg)
{
	const struct scan_format *f;
	struct json		 js;
	char			*buf;
	size_t			 len = 0, win;
	ssize_t			 n;
	int			 r;

	if ((f = scan_format_by_parser(p)) == NULL)
		return (-1);
	switch (f->feed) {
	case FEED_JSON:
		win = size < JSON_WINDOW ? size + 1 : JSON_WINDOW;
		if (json_init_stream(&js, rd, arg, win,
		    (size_t)SCAN_CAP_PACKAGE + 1, f->json_flags) == -1) {
			sink->issue(sink->arg, SCAN_ISSUE_LIMIT,
			    "out of memory");
			return (-1);
		}
		r = f->json(&js, sink);
		json_free(&js);
		return (r);
	case FEED_TEXT:
		break;
	}
	if (size > SCAN_CAP_PACKAGE)
		size = SCAN_CAP_PACKAGE;
	/* One byte more than expected: a file that grew is noticed. */
	if ((buf = malloc(size + 1)) == NULL) {
		sink->issue(sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
		return (-1);
	}
	while ((n = rd(arg, buf + len, size + 1 - len)) > 0) {
		len += (size_t)n;
		if (len == size + 1)
			break;
	}
	if (n < 0 || len > size) {
		/* The reader knows why; scan_file.c says it. */
		sink->issue(sink->arg, SCAN_ISSUE_MALFORMED,
		    "the file changed while it was read");
		free(buf);
		return (-1);
	}
	r = f->text(buf, len, flags, sink, inc, incarg);
	free(buf);
	return (r);
}

int
scan_pkg_mem(enum scan_parser p, int flags, const char *doc, size_t len,
    const struct scan_sink *sink)
{
	const struct scan_format *f;
	struct memrd		 m;

	if ((f = scan_format_by_parser(p)) == NULL)
		return (-1);
	if (f->feed == FEED_TEXT)
		return (f->text(doc, len, flags, sink, NULL, NULL));
	m.p = doc;
	m.len = len;
	m.off = 0;
	return (scan_pkg_read(p, flags, mem_read, &m, len, sink, NULL, NULL));
}
