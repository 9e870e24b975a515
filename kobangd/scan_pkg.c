/*
 * Running the package parsers of scan_pkg.h: over a reader (the scan
 * child's descriptor, scan_file.c) or over memory (tests, fuzzers).
 * pnpm and bun stream; the TOML and line formats need the whole text,
 * read into one buffer of the file's size (at most the 25 MB cap).
 */

#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "scan_pkg.h"

int
scan_pkg_parser(enum scan_parser p)
{
	switch (p) {
	case SCAN_PARSER_PNPM_LOCK:
	case SCAN_PARSER_YARN_LOCK:
	case SCAN_PARSER_BUN_LOCK:
	case SCAN_PARSER_UV_LOCK:
	case SCAN_PARSER_PYLOCK:
	case SCAN_PARSER_PYPROJECT:
	case SCAN_PARSER_REQUIREMENTS:
		return (1);
	default:
		return (0);
	}
}

/* A whole text in memory: the TOML and line parsers. */
static int
pkg_text(enum scan_parser p, int flags, const char *buf, size_t len,
    const struct scan_sink *sink, scan_include_fn inc, void *incarg)
{
	switch (p) {
	case SCAN_PARSER_YARN_LOCK:
		return (scan_yarn_lock(buf, len, sink));
	case SCAN_PARSER_UV_LOCK:
		return (scan_uv_lock(buf, len, sink));
	case SCAN_PARSER_PYLOCK:
		return (scan_pylock(buf, len, sink));
	case SCAN_PARSER_PYPROJECT:
		return (scan_pyproject(buf, len, sink));
	case SCAN_PARSER_REQUIREMENTS:
		return (scan_requirements(buf, len, flags, sink, inc, incarg));
	default:
		return (-1);
	}
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
	struct json	 js;
	char		*buf;
	size_t		 len = 0, win;
	ssize_t		 n;
	int		 r;

	switch (p) {
	case SCAN_PARSER_PNPM_LOCK:
		return (scan_pnpm_lock(rd, arg, sink));
	case SCAN_PARSER_BUN_LOCK:
		win = size < JSON_WINDOW ? size + 1 : JSON_WINDOW;
		if (json_init_stream(&js, rd, arg, win,
		    (size_t)SCAN_CAP_PACKAGE + 1,
		    scan_parser_json_flags(p)) == -1) {
			sink->issue(sink->arg, SCAN_ISSUE_LIMIT,
			    "out of memory");
			return (-1);
		}
		r = scan_bun_lock(&js, sink);
		json_free(&js);
		return (r);
	default:
		break;
	}
	if (!scan_pkg_parser(p))
		return (-1);
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
	r = pkg_text(p, flags, buf, len, sink, inc, incarg);
	free(buf);
	return (r);
}

int
scan_pkg_mem(enum scan_parser p, int flags, const char *doc, size_t len,
    const struct scan_sink *sink)
{
	struct memrd	m;

	switch (p) {
	case SCAN_PARSER_PNPM_LOCK:
	case SCAN_PARSER_BUN_LOCK:
		m.p = doc;
		m.len = len;
		m.off = 0;
		return (scan_pkg_read(p, flags, mem_read, &m, len, sink,
		    NULL, NULL));
	default:
		if (!scan_pkg_parser(p))
			return (-1);
		return (pkg_text(p, flags, doc, len, sink, NULL, NULL));
	}
}
