/*
 * Shared by fuzz_scan_jsonc.c, fuzz_scan_brew.c and fuzz_scan_codex.c:
 * run one of the parsers of kobangd/scan_agents.h over a document held
 * in memory and, for the JSON ones, streamed through a small window in
 * odd-sized reads; the two renderings must be equal.  Every item is
 * checked against what its parser may produce (kinds, origins, hashes
 * where hashes go, the receipt's one package), a failure must say why
 * and must not have emitted anything (items go out after a full parse).
 */
#ifndef FUZZ_SCAN_AGENTS_H
#define FUZZ_SCAN_AGENTS_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_scan_common.h"
#include "json.h"
#include "scan.h"
#include "scan_agents.h"

struct fza {
	enum scan_parser	 parser;
	int			 flags;
	FILE			*f;
	char			*buf;
	size_t			 len;
	int			 nitems;
	int			 nissues;
};

static void
fza_check(const struct fza *z, const struct scan_item *it)
{
	int	hashed = fz_is(&it->detail, FUZZ_HASH);

	if (it->name.p == NULL || it->origin.p == NULL ||
	    !fz_text(&it->name) || !fz_text(&it->origin) ||
	    (it->version.p != NULL && !fz_text(&it->version)) ||
	    (it->detail.p != NULL && !fz_text(&it->detail)))
		abort();
	if (z->parser == SCAN_PARSER_BREW_RECEIPT) {
		if (it->kind != KIND_PACKAGE || z->nitems != 0 ||
		    !fz_is(&it->name, "git") ||
		    !fz_is(&it->version, "2.47.1") || it->detail.p != NULL ||
		    (it->ior != 0 && it->ior != 1 && it->ior != ITEM_BOOL_NIL))
			abort();
		/* A receipt with an issue never names a tap. */
		if (z->nissues > 0 && !fz_is(&it->origin, "unknown"))
			abort();
		return;
	}
	if (it->ior != ITEM_BOOL_NIL || it->version.p != NULL)
		abort();
	switch (it->kind) {
	case KIND_MCP_SERVER:
		if ((z->parser == SCAN_PARSER_OPENCODE_CONFIG &&
		    !(z->flags & SCAN_F_MCP)) ||
		    z->parser == SCAN_PARSER_CODEX_HOOKS ||
		    z->parser == SCAN_PARSER_PI_SETTINGS)
			abort();
		break;
	case KIND_CONFIG_PROFILE:
		if ((z->parser != SCAN_PARSER_OPENCODE_CONFIG &&
		    z->parser != SCAN_PARSER_CODEX_CONFIG) || !hashed ||
		    z->nitems != 0)
			abort();
		break;
	case KIND_PLUGIN:
		if (z->parser != SCAN_PARSER_OPENCODE_CONFIG || !hashed ||
		    !fz_is(&it->origin, SCAN_ORIGIN_OPENCODE_PLUGIN))
			abort();
		break;
	case KIND_IMPORT:
		if (z->parser != SCAN_PARSER_PI_MCP ||
		    !(z->flags & SCAN_F_IMPORTS) || it->detail.p != NULL ||
		    !fz_is(&it->origin, SCAN_ORIGIN_PI_IMPORT))
			abort();
		break;
	case KIND_HOOK:
		if ((z->parser != SCAN_PARSER_CODEX_HOOKS &&
		    z->parser != SCAN_PARSER_CODEX_CONFIG) || !hashed ||
		    !fz_is(&it->origin, SCAN_ORIGIN_CODEX_HOOKS))
			abort();
		/*
		 * Inline [hooks.<name>] lines drop empty names and cannot hold
		 * a newline; hooks.json keys are any JSON string, "" included
		 * (SURFACES.md 3.2).
		 */
		if (z->parser == SCAN_PARSER_CODEX_CONFIG &&
		    (it->name.len == 0 || memchr(it->name.p, '\n',
		    it->name.len) != NULL))
			abort();
		break;
	case KIND_SETTINGS:
		if (z->parser != SCAN_PARSER_PI_SETTINGS || !hashed)
			abort();
		break;
	default:
		abort();
	}
}

static int
fza_emit(void *arg, const struct scan_item *it)
{
	struct fza	*z = arg;

	fza_check(z, it);
	fprintf(z->f, "%d|%.*s|%d|%.*s|%d|%.*s\n", it->kind,
	    (int)it->name.len, it->name.p,
	    it->version.p != NULL, (int)it->origin.len, it->origin.p, it->ior,
	    (int)it->detail.len, it->detail.p ? it->detail.p : "");
	z->nitems++;
	return (0);
}

static void
fza_issue(void *arg, enum scan_issue_code code, const char *reason)
{
	struct fza	*z = arg;

	if (code >= SCAN_ISSUE_COUNT || reason[0] == '\0' ||
	    strlen(reason) >= SCAN_REASON_MAX)
		abort();
	fprintf(z->f, "issue %d %s\n", code, reason);
	z->nissues++;
}

static const char *
fza_hash(void *arg)
{
	return (FUZZ_HASH);
}

static char *
fza_run(enum scan_parser parser, int flags, const uint8_t *data, size_t size,
    int stream)
{
	struct fza		 z;
	struct scan_sink	 sink = { fza_emit, fza_issue, fza_hash, &z };
	struct json		 js;
	struct fz_rd		 r = { data, size, 0, 0, 13 };
	struct sv		 name = { "git", 3 }, ver = { "2.47.1", 6 };
	char			*copy = NULL;
	int			 ret = -1, jf;

	memset(&z, 0, sizeof(z));
	z.parser = parser;
	z.flags = flags;
	if ((z.f = open_memstream(&z.buf, &z.len)) == NULL)
		abort();
	jf = scan_parser_json_flags(parser);
	if ((copy = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	if (parser == SCAN_PARSER_CODEX_CONFIG) {
		ret = scan_codex_config(copy, size, "config.toml", FUZZ_HASH,
		    &sink);
		goto done;
	}
	if (stream) {
		if (json_init_stream(&js, fz_read, &r, 16, size + 16,
		    jf) == -1)
			abort();
	} else
		json_init_mem(&js, copy, size, jf);
	switch (parser) {
	case SCAN_PARSER_BREW_RECEIPT:
		ret = scan_brew_receipt(&js, name, ver, &sink);
		if (ret != 0 || z.nitems != 1)
			abort();
		break;
	case SCAN_PARSER_CODEX_HOOKS:
		ret = scan_codex_hooks(&js, &sink);
		break;
	case SCAN_PARSER_PI_SETTINGS:
		ret = scan_keys_file(&js, KIND_SETTINGS,
		    SCAN_ORIGIN_PI_SETTINGS, &sink);
		break;
	case SCAN_PARSER_CURSOR_MCP:
		ret = scan_cursor_mcp(&js, &sink);
		break;
	case SCAN_PARSER_PI_MCP:
		ret = scan_pi_mcp(&js, flags, &sink);
		break;
	case SCAN_PARSER_OPENCODE_CONFIG:
		ret = scan_opencode_config(&js, flags, "opencode.jsonc",
		    &sink);
		break;
	default:
		abort();
	}
	json_free(&js);
 done:
	free(copy);
	/* A failure says why and leaves nothing behind. */
	if (ret == -1 && (z.nissues == 0 || z.nitems != 0))
		abort();
	fprintf(z.f, "ret %d\n", ret);
	fclose(z.f);
	return (z.buf);
}

/* In memory and streamed: the same output. */
static void
fza_both(enum scan_parser parser, int flags, const uint8_t *data, size_t size)
{
	char	*a, *b;

	a = fza_run(parser, flags, data, size, 0);
	if (parser != SCAN_PARSER_CODEX_CONFIG) {
		b = fza_run(parser, flags, data, size, 1);
		if (strcmp(a, b) != 0)
			abort();
		free(b);
	}
	free(a);
}

#endif
