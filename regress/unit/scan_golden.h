/*
 * A stable text rendering of what a scan parser produced, for golden
 * files (regress/scan/NAME.ok), shared by the scan unit tests and the
 * regress/tools/scan_dump helper that regenerates them.
 *
 * One line per item, fields separated by " | ":
 *	kind | name | version | origin | detail
 * nil is "~"; bytes below 0x20, "\" and "|" are escaped.  Then one line
 * per issue ("issue CODE: reason") and a last line "status ok|failed".
 */
#ifndef SCAN_GOLDEN_H
#define SCAN_GOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "scan.h"
#include "scan_pkg.h"
#include "scanproto.h"
#include "sha256.h"
#include "vocab.h"

#include "scan_testkey.h"

struct golden {
	char		*buf;
	size_t		 len;
	FILE		*f;
	const char	*hash;		/* what sink->hash answers */
	int		 nitems;
	int		 nissues;
	int		 stop_after;	/* emit fails after this many, -1 never */
};

__attribute__((__unused__)) static void
golden_str(FILE *f, const char *p, size_t len, int nil)
{
	size_t	i;

	if (nil) {
		fputs("~", f);
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)p[i];

		if (c == '\\' || c == '|')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

__attribute__((__unused__)) static int
golden_emit(void *arg, const struct scan_item *it)
{
	struct golden	*g = arg;

	if (g->stop_after >= 0 && g->nitems >= g->stop_after)
		return (-1);
	fprintf(g->f, "%s | ", item_kind_name(it->kind));
	golden_str(g->f, it->name.p, it->name.len, 0);
	fputs(" | ", g->f);
	golden_str(g->f, it->version.p, it->version.len, it->version.p == NULL);
	fputs(" | ", g->f);
	golden_str(g->f, it->origin.p, it->origin.len, 0);
	fputs(" | ", g->f);
	golden_str(g->f, it->detail.p, it->detail.len, it->detail.p == NULL);
	fputc('\n', g->f);
	g->nitems++;
	return (0);
}

__attribute__((__unused__)) static void
golden_issue(void *arg, enum scan_issue_code code, const char *reason)
{
	struct golden	*g = arg;

	fprintf(g->f, "issue %s: %s\n", scan_issue_code_name(code), reason);
	g->nissues++;
}

__attribute__((__unused__)) static const char *
golden_hash(void *arg)
{
	struct golden	*g = arg;

	return (g->hash);
}

/*
 * Run a parser over a document held in memory (a copy: the tokenizer
 * writes into it) and return the rendering, malloc'ed.
 */
__attribute__((__unused__)) static char *
golden_run(enum scan_parser parser, int flags, const char *doc, size_t len)
{
	struct golden		 g;
	struct scan_sink	 sink;
	struct json		 js;
	static char		 hex[SHA256_HEX_BUFSZ];
	char			*copy;
	int			 r = -1;

	memset(&g, 0, sizeof(g));
	g.stop_after = -1;
	if ((g.f = open_memstream(&g.buf, &g.len)) == NULL)
		return (NULL);
	if (sha256_hex(doc, len, hex) == 0)
		g.hash = hex;
	sink.emit = golden_emit;
	sink.issue = golden_issue;
	sink.hash = golden_hash;
	sink.arg = &g;
	if ((copy = malloc(len == 0 ? 1 : len)) == NULL) {
		fclose(g.f);
		free(g.buf);
		return (NULL);
	}
	memcpy(copy, doc, len);
	json_init_mem(&js, copy, len, 0);
	switch (parser) {
	case SCAN_PARSER_CLAUDE_MCP:
		r = scan_claude_mcp(&js, &sink);
		break;
	case SCAN_PARSER_CLAUDE_SETTINGS:
		r = scan_claude_settings(&js, flags, &sink);
		break;
	case SCAN_PARSER_CLAUDE_PLUGIN_FILE:
		r = scan_claude_plugin_file(&js, &sink);
		break;
	case SCAN_PARSER_NPM_LOCK:
		r = scan_npm_lock(&js, &sink);
		break;
	default:
		/* The package parsers of scan_pkg.h, over the original. */
		if (scan_pkg_parser(parser))
			r = scan_pkg_mem(parser, flags, doc, len, &sink);
		break;
	}
	json_free(&js);
	free(copy);
	fprintf(g.f, "status %s\n", r == 0 ? "ok" : "failed");
	fclose(g.f);
	return (g.buf);
}

__attribute__((__unused__)) static int
golden_parser(const char *name)
{
	int	p;

	for (p = 0; p < SCAN_PARSER_COUNT; p++)
		if (strcmp(scan_parser_name(p), name) == 0)
			return (p);
	return (-1);
}

#endif
