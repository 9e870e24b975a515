/*
 * Shared by fuzz_scan_claude.c and fuzz_scan_npm.c: run a parser over a
 * document in memory and streamed through a small window in odd-sized
 * reads, render what it produced, and check each item against what the
 * parser may produce (valid UTF-8 or a NUL the encoder will refuse; the
 * kinds and origins of SURFACES.md 2 and 7; hashes where hashes go).
 */
#ifndef FUZZ_SCAN_PARSERS_H
#define FUZZ_SCAN_PARSERS_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_scan_common.h"
#include "json.h"
#include "scan.h"

struct fz {
	enum scan_parser	 parser;
	int			 flags;
	FILE			*f;
	char			*buf;
	size_t			 len;
	int			 nissues;
};

static int
fz_emit(void *arg, const struct scan_item *it)
{
	struct fz	*z = arg;

	if (it->name.p == NULL || it->origin.p == NULL ||
	    !fz_text(&it->name) || !fz_text(&it->origin) ||
	    (it->version.p != NULL && !fz_text(&it->version)) ||
	    (it->detail.p != NULL && !fz_text(&it->detail)) ||
	    it->ior != ITEM_BOOL_NIL)
		abort();
	switch (z->parser) {
	case SCAN_PARSER_NPM_LOCK:
		if (it->kind != KIND_PACKAGE || it->version.p == NULL ||
		    !fz_is(&it->origin, "npm"))
			abort();
		break;
	case SCAN_PARSER_CLAUDE_MCP:
		if (it->kind != KIND_MCP_SERVER || it->version.p != NULL)
			abort();
		break;
	default:
		if (it->version.p != NULL || it->detail.p == NULL ||
		    !fz_is(&it->detail, FUZZ_HASH))
			abort();
		if (it->kind == KIND_HOOK && (!(z->flags & SCAN_F_HOOKS) ||
		    !fz_is(&it->name, "hooks")))
			abort();
		if (it->kind == KIND_PLUGIN && z->parser ==
		    SCAN_PARSER_CLAUDE_SETTINGS && !(z->flags & SCAN_F_PLUGINS))
			abort();
		if (z->parser == SCAN_PARSER_CLAUDE_PLUGIN_FILE &&
		    it->kind != KIND_PLUGIN)
			abort();
		break;
	}
	fprintf(z->f, "%d|%.*s|%d|%.*s|%.*s|%.*s\n", it->kind,
	    (int)it->name.len, it->name.p, it->version.p != NULL,
	    (int)it->version.len, it->version.p ? it->version.p : "",
	    (int)it->origin.len, it->origin.p,
	    (int)it->detail.len, it->detail.p ? it->detail.p : "");
	return (0);
}

static void
fz_issue(void *arg, enum scan_issue_code code, const char *reason)
{
	struct fz	*z = arg;

	if (code >= SCAN_ISSUE_COUNT || reason[0] == '\0')
		abort();
	fprintf(z->f, "issue %d %s\n", code, reason);
	z->nissues++;
}

static const char *
fz_hash(void *arg)
{
	return (FUZZ_HASH);
}

static char *
fz_run(enum scan_parser parser, int flags, const uint8_t *data, size_t size,
    int stream)
{
	struct fz		 z;
	struct scan_sink	 sink = { fz_emit, fz_issue, fz_hash, &z };
	struct json		 js;
	struct fz_rd		 r = { data, size, 0, 0, 11 };
	char			*copy = NULL;
	int			 ret = -1;

	memset(&z, 0, sizeof(z));
	z.parser = parser;
	z.flags = flags;
	if ((z.f = open_memstream(&z.buf, &z.len)) == NULL)
		abort();
	if (stream) {
		if (json_init_stream(&js, fz_read, &r, 16, size + 16, 0) == -1)
			abort();
	} else {
		if ((copy = malloc(size ? size : 1)) == NULL)
			abort();
		memcpy(copy, data, size);
		json_init_mem(&js, copy, size, 0);
	}
	switch (parser) {
	case SCAN_PARSER_CLAUDE_MCP:
		ret = scan_claude_mcp(&js, &sink);
		break;
	case SCAN_PARSER_CLAUDE_SETTINGS:
		ret = scan_claude_settings(&js, flags, &sink);
		break;
	case SCAN_PARSER_CLAUDE_PLUGIN_FILE:
		ret = scan_claude_plugin_file(&js, &sink);
		break;
	case SCAN_PARSER_NPM_LOCK:
		ret = scan_npm_lock(&js, &sink);
		break;
	default:
		abort();
	}
	json_free(&js);
	free(copy);
	/* A failure always says why. */
	if (ret == -1 && z.nissues == 0)
		abort();
	fprintf(z.f, "ret %d\n", ret);
	fclose(z.f);
	return (z.buf);
}

/* Both modes, the same output. */
static void
fz_both(enum scan_parser parser, int flags, const uint8_t *data, size_t size)
{
	char	*a, *b;

	a = fz_run(parser, flags, data, size, 0);
	b = fz_run(parser, flags, data, size, 1);
	if (strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
}

#endif
