/*
 * Package parsers of the scan child beyond npm (SURFACES.md 7, 8):
 * pnpm-lock.yaml, yarn.lock, bun.lock (javascriptPackages) and uv.lock,
 * pylock.toml, pyproject.toml, requirement and constraint files
 * (pythonPackages).  Pure functions over bytes and a sink, like
 * scan_npm.c: unit tests and fuzzers drive them without the child.
 *
 * They return 0 when the file's items stand, -1 when the file
 * contributes nothing (an issue has been recorded, or the sink refused an
 * item).  Items go out unsorted; sorting by id and keeping the first of
 * equal ids is the parent's (scanproto.h).
 */
#ifndef KOBANGD_SCAN_PKG_H
#define KOBANGD_SCAN_PKG_H

#include <sys/types.h>

#include <stddef.h>

#include "json.h"
#include "scanproto.h"

#define SCAN_ORIGIN_PNPM	"pnpm"
#define SCAN_ORIGIN_YARN	"yarn"
#define SCAN_ORIGIN_BUN		"bun"
#define SCAN_ORIGIN_UV		"uv"
#define SCAN_ORIGIN_PYLOCK	"pylock"
#define SCAN_ORIGIN_PYPROJECT	"pyproject"
#define SCAN_ORIGIN_PIP		"pip"

/* Deepest YAML nesting pnpm-lock.yaml may have before it is refused. */
#define SCAN_YAML_MAX_DEPTH	256

/*
 * scan_pnpm.c: pnpm-lock.yaml, the whole file in memory: the line walk
 * of pnpm's own subset of YAML when the file is in it, else libyaml's
 * event parser, which never expands an alias (scan_pnpm_yaml_mem(),
 * alone for the fuzzer's comparison).
 */
int	 scan_pnpm_text(const char *, size_t, const struct scan_sink *);
int	 scan_pnpm_yaml_mem(const char *, size_t, const struct scan_sink *);

/*
 * scan_yarn.c: yarn.lock, v1 by the reference's line algorithm; a Berry
 * lockfile (a "__metadata:" line) goes to scan_yarn_berry.c, YAML.
 */
int	 scan_yarn_lock(const char *, size_t, const struct scan_sink *);
int	 scan_yarn_berry(const char *, size_t, const struct scan_sink *);
/*
 * Its two readers: libyaml's (any YAML), and the line reader of the
 * subset Yarn writes, 1 when the file is not in it (nothing emitted).
 */
int	 scan_yarn_berry_yaml(const char *, size_t, const struct scan_sink *);
int	 scan_yarn_berry_lines(const char *, size_t,
	    const struct scan_sink *);

/* scan_bun.c: bun.lock as strict JSON. */
int	 scan_bun_lock(struct json *, const struct scan_sink *);

/* scan_python.c: the TOML files, over a document in memory. */
int	 scan_uv_lock(const char *, size_t, const struct scan_sink *);
int	 scan_pylock(const char *, size_t, const struct scan_sink *);
int	 scan_pyproject(const char *, size_t, const struct scan_sink *);

/*
 * scan_requirements.c: a requirement or constraint file.  flags:
 * SCAN_F_CONSTRAINT makes every item a pythonConstraint (the top-level
 * file's name starts with "constraints", or it was reached by -c).
 *
 * An include line (-r, --requirement, -c, --constraint) is handed to
 * include(arg, constraint, target, len) with the target as written
 * (trimmed); a NULL include records an issue "include not followed".
 * include returns 0, or -1 to stop the parse.
 */
typedef int	(*scan_include_fn)(void *, int, const char *, size_t);

int	 scan_requirements(const char *, size_t, int, const struct scan_sink *,
	    scan_include_fn, void *);

/*
 * The requirement-name function of SURFACES.md 8: the derived name of
 * one logical line or pyproject string, as a slice of s, or nil
 * (out->p == NULL).
 */
void	 scan_pyreq_name(const char *, size_t, struct sv *);

/*
 * Run a package format's parser (a row of scan_format.c) over a document
 * in memory (tests, fuzzers, scan_dump); any other parser is not handled
 * here (-1, nothing recorded).  doc is not modified.
 */
int	 scan_pkg_mem(enum scan_parser, int, const char *, size_t,
	    const struct scan_sink *);
/*
 * The same over a reader that yields size bytes (the scan child's
 * descriptor): include and its arg go to scan_requirements().
 */
int	 scan_pkg_read(enum scan_parser, int, json_read_fn, void *, size_t,
	    const struct scan_sink *, scan_include_fn, void *);
/* Whether the parser is a package format's (scan_format.c). */
int	 scan_pkg_parser(enum scan_parser);

#endif
