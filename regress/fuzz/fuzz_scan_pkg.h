/*
 * Shared by the package parser harnesses (fuzz_scan_pnpm.c,
 * fuzz_scan_yarn.c, fuzz_scan_bun.c, fuzz_scan_pytoml.c,
 * fuzz_scan_requirements.c): run a parser of kobangd/scan_pkg.h over the
 * input in memory and, for the streaming ones (pnpm, bun), also through
 * odd-sized reads, and require the same output; check every item against
 * what the parser may produce (SURFACES.md 7, 8); a failure always says
 * why.  Requirement includes go through the parent's bookkeeping
 * (kobangd/reqinc.c): a queued include never leaves the top-level file's
 * directory and never holds a "." or ".." segment.
 */
#ifndef FUZZ_SCAN_PKG_H
#define FUZZ_SCAN_PKG_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_scan_common.h"
#include "reqinc.h"
#include "scan_pkg.h"

struct fzp {
	enum scan_parser	 parser;
	int			 flags;
	FILE			*f;
	char			*buf;
	size_t			 len;
	int			 nissues;
	struct reqinc		 ri;
};

static int
fzp_emit(void *arg, const struct scan_item *it)
{
	struct fzp	*z = arg;
	const char	*origin = NULL;
	int		 kind = KIND_PACKAGE, version = -1;

	if (it->name.p == NULL || it->origin.p == NULL ||
	    !fz_text(&it->name) || !fz_text(&it->origin) ||
	    (it->version.p != NULL && !fz_text(&it->version)) ||
	    it->detail.p != NULL || it->ior != ITEM_BOOL_NIL)
		abort();
	switch (z->parser) {
	case SCAN_PARSER_PNPM_LOCK:
		origin = "pnpm";
		version = 1;
		/* Both parts non-empty, no slash at either end. */
		if (it->name.len == 0 || it->version.len == 0 ||
		    it->name.p[0] == '/' ||
		    it->version.p[it->version.len - 1] == '/')
			abort();
		break;
	case SCAN_PARSER_YARN_LOCK:
		origin = "yarn";
		version = 1;
		break;
	case SCAN_PARSER_BUN_LOCK:
		origin = "bun";
		break;
	case SCAN_PARSER_UV_LOCK:
	case SCAN_PARSER_PYLOCK:
		origin = z->parser == SCAN_PARSER_UV_LOCK ? "uv" : "pylock";
		kind = KIND_PYTHON_RESOLVED_PACKAGE;
		break;
	case SCAN_PARSER_PYPROJECT:
		origin = "pyproject";
		kind = KIND_PYTHON_DECLARED_REQUIREMENT;
		version = 0;
		break;
	case SCAN_PARSER_REQUIREMENTS:
		origin = "pip";
		kind = (z->flags & SCAN_F_CONSTRAINT) ?
		    KIND_PYTHON_CONSTRAINT : KIND_PYTHON_DECLARED_REQUIREMENT;
		version = 0;
		/* A derived name never starts with '-' ("-e #x" is "#x"). */
		if (it->name.len > 0 && it->name.p[0] == '-')
			abort();
		break;
	default:
		abort();
	}
	if ((int)it->kind != kind || !fz_is(&it->origin, origin) ||
	    (version == 1 && it->version.p == NULL) ||
	    (version == 0 && it->version.p != NULL))
		abort();
	fprintf(z->f, "%d|%.*s|%d|%.*s\n", it->kind, (int)it->name.len,
	    it->name.p, it->version.p != NULL, (int)it->version.len,
	    it->version.p ? it->version.p : "");
	return (0);
}

static void
fzp_issue(void *arg, enum scan_issue_code code, const char *reason)
{
	struct fzp	*z = arg;

	if (code >= SCAN_ISSUE_COUNT || reason[0] == '\0')
		abort();
	fprintf(z->f, "issue %d %s\n", code, reason);
	z->nissues++;
}

/* Every include through the parent's checks. */
static int
fzp_include(void *arg, int constraint, const char *p, size_t len)
{
	struct fzp	*z = arg;
	char		 target[PATH_MAX], path[PATH_MAX], why[256];
	int		 rc;

	if (len == 0 || (p[0] == ' ' || p[len - 1] == ' '))
		abort();
	fprintf(z->f, "include %d %.*s\n", constraint, (int)len, p);
	if (len >= sizeof(target) || memchr(p, '\0', len) != NULL)
		return (0);
	memcpy(target, p, len);
	target[len] = '\0';
	rc = reqinc_offer(&z->ri, 0, constraint, target, path, sizeof(path),
	    why, sizeof(why));
	if (rc == -1)
		abort();
	if (rc == REQINC_QUEUED && (strncmp(path, "/p/q/", 5) != 0 ||
	    strstr(path, "/../") != NULL || strstr(path, "/./") != NULL ||
	    strcmp(path, "/p/q/requirements.txt") == 0))
		abort();
	return (0);
}

static char *
fzp_run(enum scan_parser parser, int flags, const uint8_t *data, size_t size,
    int stream)
{
	struct fzp		 z;
	struct scan_sink	 sink = { fzp_emit, fzp_issue, NULL, &z };
	struct fz_rd		 r = { data, size, 0, 0, 13 };
	int			 ret;

	memset(&z, 0, sizeof(z));
	z.parser = parser;
	z.flags = flags;
	if ((z.f = open_memstream(&z.buf, &z.len)) == NULL)
		abort();
	if (reqinc_add_top(&z.ri, 1, "/p/q/requirements.txt", 0, 0) == -1)
		abort();
	if (parser == SCAN_PARSER_REQUIREMENTS)
		ret = scan_requirements((const char *)data, size, flags,
		    &sink, fzp_include, &z);
	else if (stream)
		ret = scan_pkg_read(parser, flags, fz_read, &r, size, &sink,
		    NULL, NULL);
	else
		ret = scan_pkg_mem(parser, flags, (const char *)data, size,
		    &sink);
	reqinc_free(&z.ri);
	/* A failure always says why. */
	if (ret == -1 && z.nissues == 0)
		abort();
	if (ret != 0 && ret != -1)
		abort();
	fprintf(z.f, "ret %d\n", ret);
	fclose(z.f);
	return (z.buf);
}

static int
fzp_failed(const char *out)
{
	size_t	l = strlen(out);

	return (l >= 7 && strcmp(out + l - 7, "ret -1\n") == 0);
}

/*
 * In memory, and streamed where the parser streams: the same output.  A
 * broken document may be noticed at another place when it arrives in
 * other pieces (libyaml decodes UTF-8 as it reads): then both must
 * fail, the file contributing nothing either way.
 */
static void
fzp_both(enum scan_parser parser, int flags, const uint8_t *data,
    size_t size)
{
	char	*a, *b;

	a = fzp_run(parser, flags, data, size, 0);
	if (parser == SCAN_PARSER_PNPM_LOCK || parser == SCAN_PARSER_BUN_LOCK) {
		b = fzp_run(parser, flags, data, size, 1);
		if (fzp_failed(a) != fzp_failed(b) ||
		    (!fzp_failed(a) && strcmp(a, b) != 0))
			abort();
		free(b);
	}
	free(a);
}

__attribute__((__unused__)) static const char *
fzp_nohash(void *arg)
{
	return (NULL);
}

/*
 * One reader of a format over doc: its rendering (malloc'ed) and its
 * result in *r.  Two readers of one format are compared with it.
 */
__attribute__((__unused__)) static char *
fzp_reader(enum scan_parser parser,
    int (*fn)(const char *, size_t, const struct scan_sink *),
    const char *doc, size_t len, int *r)
{
	struct fzp		z;
	struct scan_sink	sink;

	memset(&z, 0, sizeof(z));
	z.parser = parser;
	if ((z.f = open_memstream(&z.buf, &z.len)) == NULL)
		abort();
	sink.emit = fzp_emit;
	sink.issue = fzp_issue;
	sink.hash = fzp_nohash;
	sink.arg = &z;
	*r = fn(doc, len, &sink);
	fclose(z.f);
	return (z.buf);
}

#endif
