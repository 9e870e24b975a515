/*
 * The package formats, one row each (scan_format.h).  Where kobangd
 * reads a format otherwise than the reference does, the parser file
 * says how and kobangd.yaml(5) lists it.
 */

#include <sys/types.h>

#include <stddef.h>
#include <string.h>

#include "scan.h"
#include "scan_format.h"
#include "scan_pkg.h"

/* The text parsers, fed alike (flags and includes only where used). */
static int
text_yarn(const char *b, size_t l, int fl, const struct scan_sink *s,
    scan_include_fn inc, void *arg)
{
	return (scan_yarn_lock(b, l, s));
}

static int
text_pnpm(const char *b, size_t l, int fl, const struct scan_sink *s,
    scan_include_fn inc, void *arg)
{
	return (scan_pnpm_text(b, l, s));
}

static int
text_uv(const char *b, size_t l, int fl, const struct scan_sink *s,
    scan_include_fn inc, void *arg)
{
	return (scan_uv_lock(b, l, s));
}

static int
text_pylock(const char *b, size_t l, int fl, const struct scan_sink *s,
    scan_include_fn inc, void *arg)
{
	return (scan_pylock(b, l, s));
}

static int
text_pyproject(const char *b, size_t l, int fl, const struct scan_sink *s,
    scan_include_fn inc, void *arg)
{
	return (scan_pyproject(b, l, s));
}

static int
text_requirements(const char *b, size_t l, int fl,
    const struct scan_sink *s, scan_include_fn inc, void *arg)
{
	return (scan_requirements(b, l, fl, s, inc, arg));
}

#define SW(f)	offsetof(struct config, f)

const struct scan_format scan_formats[] = {
	{ "npm", "npm-lock", SURFACE_JAVASCRIPT,
	    { "package-lock.json", "npm-shrinkwrap.json", NULL },
	    SW(javascript.include_npm), DISC_NPM_LOCK, SCAN_PARSER_NPM_LOCK,
	    FEED_JSON, NULL, scan_npm_lock, 0,
	    KIND_PACKAGE, SCAN_ORIGIN_NPM, VERSION_SET, 1 },
	{ "pnpm", "pnpm-lock", SURFACE_JAVASCRIPT, { "pnpm-lock.yaml", NULL },
	    SW(javascript.include_pnpm), DISC_PNPM_LOCK, SCAN_PARSER_PNPM_LOCK,
	    FEED_TEXT, text_pnpm, NULL, 0,
	    KIND_PACKAGE, SCAN_ORIGIN_PNPM, VERSION_SET, 0 },
	{ "yarn", "yarn-lock", SURFACE_JAVASCRIPT, { "yarn.lock", NULL },
	    SW(javascript.include_yarn), DISC_YARN_LOCK, SCAN_PARSER_YARN_LOCK,
	    FEED_TEXT, text_yarn, NULL, 0,
	    KIND_PACKAGE, SCAN_ORIGIN_YARN, VERSION_SET, 0 },
	/* bun writes JSONC: trailing commas (SURFACES.md 13.4). */
	{ "bun", "bun-lock", SURFACE_JAVASCRIPT, { "bun.lock", NULL },
	    SW(javascript.include_bun), DISC_BUN_LOCK, SCAN_PARSER_BUN_LOCK,
	    FEED_JSON, NULL, scan_bun_lock, JSON_F_COMMENTS | JSON_F_TRAILING,
	    KIND_PACKAGE, SCAN_ORIGIN_BUN, VERSION_ANY, 0 },
	{ "uv", "uv-lock", SURFACE_PYTHON, { "uv.lock", NULL },
	    SW(python.include_uv), DISC_UV_LOCK, SCAN_PARSER_UV_LOCK,
	    FEED_TEXT, text_uv, NULL, 0,
	    KIND_PYTHON_RESOLVED_PACKAGE, SCAN_ORIGIN_UV, VERSION_ANY, 0 },
	{ "pyproject", "pyproject", SURFACE_PYTHON, { "pyproject.toml", NULL },
	    SW(python.include_py_project), DISC_PYPROJECT,
	    SCAN_PARSER_PYPROJECT, FEED_TEXT, text_pyproject, NULL, 0,
	    KIND_PYTHON_DECLARED_REQUIREMENT, SCAN_ORIGIN_PYPROJECT,
	    VERSION_NIL, 0 },
	{ "pylock", "pylock", SURFACE_PYTHON, { "pylock.toml", NULL },
	    SW(python.include_pylock), DISC_PYLOCK, SCAN_PARSER_PYLOCK,
	    FEED_TEXT, text_pylock, NULL, 0,
	    KIND_PYTHON_RESOLVED_PACKAGE, SCAN_ORIGIN_PYLOCK, VERSION_ANY, 0 },
	/* Found by python.requirementFileGlobs, not by name. */
	{ "requirements", "requirements", SURFACE_PYTHON, { NULL },
	    SW(python.include_requirements), DISC_REQUIREMENTS,
	    SCAN_PARSER_REQUIREMENTS, FEED_TEXT, text_requirements, NULL, 0,
	    KIND_PYTHON_DECLARED_REQUIREMENT, SCAN_ORIGIN_PIP, VERSION_NIL, 0 },
};
const size_t scan_nformats = sizeof(scan_formats) / sizeof(scan_formats[0]);

const struct scan_format *
scan_format_by_name(const char *name)
{
	size_t	i;

	for (i = 0; i < scan_nformats; i++)
		if (strcmp(scan_formats[i].name, name) == 0)
			return (&scan_formats[i]);
	return (NULL);
}

const struct scan_format *
scan_format_by_parser(enum scan_parser p)
{
	size_t	i;

	for (i = 0; i < scan_nformats; i++)
		if (scan_formats[i].parser == p)
			return (&scan_formats[i]);
	return (NULL);
}

const struct scan_format *
scan_format_by_disc(enum disc_parser d)
{
	size_t	i;

	/* A constraints file is a requirements file read as constraints. */
	if (d == DISC_CONSTRAINTS)
		d = DISC_REQUIREMENTS;
	for (i = 0; i < scan_nformats; i++)
		if (scan_formats[i].disc == d)
			return (&scan_formats[i]);
	return (NULL);
}

const struct scan_format *
scan_format_by_file(enum surface s, const char *name)
{
	size_t	i, j;

	for (i = 0; i < scan_nformats; i++) {
		if (scan_formats[i].surface != s)
			continue;
		for (j = 0; scan_formats[i].files[j] != NULL; j++)
			if (strcmp(scan_formats[i].files[j], name) == 0)
				return (&scan_formats[i]);
	}
	return (NULL);
}

int
scan_format_enabled(const struct scan_format *f, const struct config *conf)
{
	int	on;

	memcpy(&on, (const char *)conf + f->sw, sizeof(on));
	return (on);
}
