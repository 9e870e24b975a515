/*
 * Parsers of the scan child for homebrew, codexConfig, cursorConfig,
 * opencodeConfig and piConfig (SURFACES.md 1, 3-6).  Pure functions over
 * a token stream or a buffer and a sink, like scan_claude.c: unit tests
 * and fuzzers drive them without the child.
 *
 * MCP servers of every agent surface go through the one normalisation
 * of scan_claude.c (RULES.md 9.5): scan_mcp_doc() for the JSON files,
 * scan_mcp_emit_one() for Codex's TOML tables.
 *
 * A parser returns 0 when the file's items stand, -1 when the file
 * contributes nothing (an issue has been recorded, or the sink refused
 * an item).  Items of a file are emitted only once the whole document
 * parsed: a late error never leaves half a file behind.
 */
#ifndef KOBANGD_SCAN_AGENTS_H
#define KOBANGD_SCAN_AGENTS_H

#include <sys/types.h>

#include <stddef.h>

#include "json.h"
#include "scanproto.h"

/* The fixed origins of SURFACES.md 1, 3-6. */
#define SCAN_ORIGIN_BREW_UNKNOWN	"unknown"
#define SCAN_ORIGIN_CODEX_CONFIG	"codex-config"
#define SCAN_ORIGIN_CODEX_HOOKS		"codex-hooks"
#define SCAN_ORIGIN_CODEX_RULES		"codex-rules"
#define SCAN_ORIGIN_CODEX_SKILLS	"codex-skills"
#define SCAN_ORIGIN_CURSOR_RULES	"cursor-rules"
#define SCAN_ORIGIN_CURSOR_LEGACY	"cursor-legacy-rules"
#define SCAN_ORIGIN_CURSOR_INSTR	"cursor-instruction"
#define SCAN_ORIGIN_OPENCODE_CONFIG	"opencode-config"
#define SCAN_ORIGIN_OPENCODE_PLUGIN	"opencode-plugin"
#define SCAN_ORIGIN_OPENCODE_AGENT	"opencode-agent"
#define SCAN_ORIGIN_OPENCODE_COMMAND	"opencode-command"
#define SCAN_ORIGIN_OPENCODE_INSTR	"opencode-instruction"
#define SCAN_ORIGIN_PI_IMPORT		"pi-import"
#define SCAN_ORIGIN_PI_SETTINGS		"pi-settings"
#define SCAN_ORIGIN_PI_PACKAGE		"pi-package"

/*
 * One JSON document with MCP servers (SURFACES.md 2.2, 4, 5, 6): the
 * servers under servers_key (typed as 2.2), optionally a list of
 * strings under list_key that become items of their own, optionally a
 * configProfile item for the file itself.
 */
struct scan_mcp_doc {
	const char	*servers_key;	/* "mcpServers", "mcp" */
	int		 servers;	/* 0: servers are not read */
	const char	*list_key;	/* NULL, "imports", "plugin" */
	int		 list;		/* 0: the list is type-checked only */
	enum item_kind	 list_kind;
	const char	*list_origin;
	int		 list_hash;	/* list items' detail: the file hash */
	const char	*profile_name;	/* NULL: no configProfile item */
	const char	*profile_origin;
	int		 cmd_array;	/* command may be [command, arg, ...] */
};

/* scan_claude.c */
int	 scan_mcp_doc(struct json *, const struct scan_mcp_doc *,
	    const struct scan_sink *);

/* A server given as strings (p == NULL: nil); args joined by the caller. */
struct scan_mcp_spec {
	struct sv	 command;
	const struct sv	*args;
	size_t		 nargs;
	struct sv	 url;
	struct sv	 headers_helper;
};
int	 scan_mcp_emit_one(const struct scan_sink *, struct sv,
	    const struct scan_mcp_spec *);

/*
 * scan_brew.c: an INSTALL_RECEIPT.json (SURFACES.md 1).  Always emits
 * the one package item (name and version from the directory listing);
 * origin source.tap, installedOnRequest installed_on_request.  A
 * malformed receipt or one with a wrongly typed field gives origin
 * "unknown" and nil, with an issue.  Returns 0 unless the sink refused.
 */
int	 scan_brew_receipt(struct json *, struct sv, struct sv,
	    const struct scan_sink *);

/*
 * scan_codex.c: a Codex config.toml in memory (SURFACES.md 3.2): the
 * configProfile item (name: the file name), mcp_servers.* and the
 * [hooks.*] table lines.  hash is the file's SHA-256 or NULL.
 */
int	 scan_codex_config(const char *, size_t, const char *, const char *,
	    const struct scan_sink *);

/*
 * Top-level object keys as items, sorted, first of a key kept, detail
 * the file hash (Codex hooks.json, Pi settings.json); a top level that
 * is not an object gives nothing, silently.
 */
/* Codex hooks.json: the keys, or those of its "hooks" object. */
int	 scan_codex_hooks(struct json *, const struct scan_sink *);
int	 scan_keys_file(struct json *, enum item_kind, const char *,
	    const struct scan_sink *);

/* The JSON files of the agent surfaces, by parser. */
int	 scan_cursor_mcp(struct json *, const struct scan_sink *);
int	 scan_pi_mcp(struct json *, int, const struct scan_sink *);
int	 scan_opencode_config(struct json *, int, const char *,
	    const struct scan_sink *);

/* The base name of a label, for items named after their file. */
const char	*scan_base_name(const char *);

#endif
