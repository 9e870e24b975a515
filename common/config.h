/*
 * The configuration: the koban.yaml schema (CONFIG.md 2) plus kobangd's
 * own "kobangd:" section, its defaults, a strict YAML loader, a canonical
 * JSON encoder and a strict JSON decoder for the remote bundle
 * (PROTOCOL.md 5.3).
 *
 * Defaulting model (CONFIG.md 1.1): every section and key may be omitted
 * or null and then takes its default; "persistence", when present, needs
 * both of its keys; "rules" present (even []) replaces the default
 * ruleset, absent or null gives the 64 default rules.  Unlike the
 * reference, anything invalid makes the load fail with one message
 * "file:line:col: key.path: what", e.g.
 *	kobangd.yaml:41:12: rules[12].match: unknown match kind "fieldContains"
 * Lines and columns count from 1; list indexes in key paths from 0.
 * Unknown keys are accepted and recorded as warnings.
 *
 * Scalars in YAML follow the reference's parser (Yams): null is a plain
 * "", "~", "null", "Null" or "NULL"; a boolean is true/yes/on or
 * false/no/off in any case and quoting; an integer is a plain scalar in
 * decimal, 0x hex, 0o or leading-0 octal, 0b binary, "_" ignored; a string
 * is any scalar (list items are taken literally, so "- ~" is "~").
 * In JSON the types are JSON's: no quoted numbers or booleans, integers
 * only as integer literals.
 *
 * Limits (all fail with a message):
 *	file			CONFIG_MAX_FILE bytes (YAML), CONFIG_MAX_JSON (JSON)
 *	nesting			CONFIG_MAX_DEPTH levels
 *	nodes			CONFIG_MAX_NODES per document
 *	aliases			allowed; together they may expand to at most
 *				CONFIG_MAX_ALIAS_NODES nodes and
 *				CONFIG_MAX_ALIAS_BYTES scalar bytes (a billion
 *				laughs stops at the first alias over the cap);
 *				at most CONFIG_MAX_ANCHORS anchors
 *	strings			no NUL; rule ids, titles, rationales and values
 *				CONFIG_MAX_STRING bytes, URLs and tokens 4096,
 *				tenant/device ids 256, paths and list items
 *				PATH_MAX - 1, user and group names 32
 *	also refused		duplicate keys, merge keys ("<<"), explicit tags,
 *				more than one document, non-UTF-8, tabs as
 *				indentation
 *
 * Sane ranges of the integers (the reference checks none; CONFIG.md 4):
 *	watch.debounceMilliseconds			0 .. 600000
 *	watch.pollIntervalSeconds			1 .. 604800
 *	watch.maxScanWallClockSeconds			1 .. 3600
 *	watch.maxFreshScanAgeSeconds			1 .. 31536000
 *	watch.maxDepth, homeSignalScan.maxDepth,
 *	javascript.maxDepth, python.maxDepth		0 .. 64
 *	initialScanBudget.maxDirectoriesVisited		1 .. 100000000
 *	initialScanBudget.maxFilesVisited		1 .. 1000000000
 *	initialScanBudget.maxWallClockSeconds		1 .. 86400
 *	persistence.maxStoredEvents, maxStoredFindings	-2147483648 .. 1000000000
 *							(negative: no pruning)
 *	sync.maxBatchBytes				-2147483648 .. 67108864
 *	sync.maxBatchEvents				-2147483648 .. 1000000
 *	sync.checkInIntervalSeconds			1 .. 86400
 *	sync.retryBaseSeconds				1 .. 86400
 *	sync.retryMaxSeconds				1 .. 604800
 *	sync.outboxMaxBytes				65536 .. 1099511627776
 *
 * Canonical JSON (config_to_json): the koban.yaml schema without the
 * kobangd section, sections and keys in CONFIG.md 3 order, every key with
 * its effective value (a token: CONFIG_SECRET_MARKER instead), null
 * optionals omitted, no whitespace, '/' not escaped.  Rule keys: id,
 * surface, enabled, triggers, severity, title, rationale, match, then
 * only the parameters of that match kind.  Lists
 * that are sets are written sorted (bytewise) without duplicates:
 * excludeDirectories, signalFileNames, signalFileGlobs,
 * pruneDirectoryNames, lockfileNames, requirementFileGlobs and a rule's
 * values, allowed and schemes; triggers in RULES.md 1.1 order.  Ordered
 * lists: every projectRoots, homebrew.prefixes and rules.
 */
#ifndef KOBANG_CONFIG_H
#define KOBANG_CONFIG_H

#include <stddef.h>

#include "rule.h"

struct jsonw;

#define CONFIG_PATH		"/etc/koban/kobangd.yaml"

#define CONFIG_MAX_FILE		1000000
#define CONFIG_MAX_JSON		4194304
#define CONFIG_MAX_DEPTH	64
#define CONFIG_MAX_NODES	250000
#define CONFIG_MAX_ALIAS_NODES	10000
#define CONFIG_MAX_ALIAS_BYTES	1000000
#define CONFIG_MAX_ANCHORS	256
#define CONFIG_MAX_STRING	65536
#define CONFIG_MAX_WARNINGS	64

/* What the null defaults of CONFIG.md 2.5-2.9 stand for (before ~). */
#define CONFIG_CLAUDE_CONFIG_PATH	"~/.claude.json"
#define CONFIG_CODEX_USER_CONFIG_PATH	"~/.codex/config.toml"
#define CONFIG_PI_AGENT_DIRECTORY	"~/.pi/agent"
#define CONFIG_CURSOR_GLOBAL_MCP_PATH	"~/.cursor/mcp.json"
#define CONFIG_OPENCODE_USER_CONFIG_DIR	"~/.config/opencode"

struct config_scan_budget {
	long long	 max_directories_visited;
	long long	 max_files_visited;
	long long	 max_wall_clock_seconds;
};

struct config_home_signal_scan {
	int		 enabled;
	char		*root;			/* used literally, CONFIG.md 1.2 */
	long long	 max_depth;
	int		 follow_symlinks;
	int		 event_path_filtering;
	struct config_scan_budget initial_scan_budget;
	struct strlist	 signal_file_names;
	struct strlist	 signal_file_globs;
	struct strlist	 prune_directory_names;
};

struct config_watch {
	long long	 debounce_milliseconds;
	long long	 poll_interval_seconds;
	long long	 max_scan_wall_clock_seconds;
	long long	 max_fresh_scan_age_seconds;
	struct config_home_signal_scan home_signal_scan;
	struct strlist	 project_roots;
	long long	 max_depth;
	struct strlist	 exclude_directories;
};

struct config_persistence {
	long long	 max_stored_events;
	long long	 max_stored_findings;
};

/* NULL strings are null in the file. */
struct config_sync {
	int		 enabled;
	char		*protocol;
	char		*endpoint;
	char		*enrollment_token;	/* secret: freezero'd */
	char		*sensor_token;		/* secret: freezero'd */
	char		*tenant_id;
	char		*device_id;
	long long	 max_batch_bytes;
	long long	 max_batch_events;
	long long	 check_in_interval_seconds;
	long long	 retry_base_seconds;
	long long	 retry_max_seconds;
	long long	 outbox_max_bytes;
};

/* A NULL list pointer is null in the file (see config_project_roots). */
struct config_homebrew {
	int		 enabled;
	struct strlist	*prefixes;	/* NULL: existing of /opt/homebrew, /usr/local */
};

struct config_claude {
	int		 enabled;
	char		*config_path;
	struct strlist	*project_roots;
	int		 include_project_mcp;
	int		 include_settings;
	int		 include_agents;
	int		 include_commands;
	int		 include_hooks;
	int		 include_skills;
	int		 include_plugins;
	int		 include_instructions;
	int		 include_managed_settings;
};

struct config_codex {
	int		 enabled;
	char		*user_config_path;
	char		*profile_config_glob;
	struct strlist	*project_roots;
	int		 include_system_config;
	int		 include_skills;
	int		 include_hooks;
	int		 include_rules;
};

struct config_pi {
	int		 enabled;
	char		*agent_directory;
	int		 include_shared_global_mcp;
	int		 include_shared_project_mcp;
	int		 include_pi_global_override;
	int		 include_pi_project_override;
	int		 include_packages;
	int		 include_imports;
};

struct config_cursor {
	int		 enabled;
	char		*global_mcp_path;
	int		 include_global_mcp;
	int		 include_project_mcp;
	int		 include_rules;
	int		 include_legacy_rules;
	int		 include_instructions;
};

struct config_opencode {
	int		 enabled;
	char		*user_config_directory;
	struct strlist	*project_roots;
	int		 include_global;
	int		 include_project;
	int		 include_mcp;
	int		 include_agents;
	int		 include_commands;
	int		 include_plugins;
	int		 include_instructions;
	int		 include_managed_preferences;
};

struct config_javascript {
	int		 enabled;
	struct strlist	*project_roots;
	long long	 max_depth;
	int		 max_depth_set;		/* 0: null, use watch.maxDepth */
	int		 include_npm;
	int		 include_pnpm;
	int		 include_yarn;
	int		 include_bun;
	struct strlist	*exclude_directories;
	struct strlist	 lockfile_names;
};

struct config_python {
	int		 enabled;
	struct strlist	*project_roots;
	long long	 max_depth;
	int		 max_depth_set;
	int		 include_uv;
	int		 include_py_project;
	int		 include_requirements;
	int		 include_pylock;
	struct strlist	*exclude_directories;
	struct strlist	 requirement_file_globs;
};

/*
 * kobangd's own settings, the top-level "kobangd:" section (not part of
 * koban.yaml, never taken from Fleet).  Paths are absolute, names are
 * user or group names.
 */
/*
 * kobangd.removalGuard: a scan that would remove more than percent of a
 * surface's stored items (at least min_items of them) is held back until
 * a scan confirm_seconds later still finds them gone.
 */
struct config_removal_guard {
	long long	 percent;		/* 50; 100: off */
	long long	 min_items;		/* 300 */
	long long	 confirm_seconds;	/* 30 */
};

struct config_kobangd {
	struct strlist	*users;		/* NULL: the machine's human users */
	char		*state_directory;	/* /var/lib/koban */
	char		*control_socket;	/* /run/kobangd.sock */
	char		*control_group;		/* NULL: root only */
	char		*user;			/* _kobang */
	char		*fleet_ca_file;		/* NULL: system roots */
	char		*enrollment_token_file;	/* NULL: none */
	struct config_removal_guard removal_guard;
	char		*proxy;			/* NULL: https_proxy */
	char		*proxy_credentials_file;	/* NULL: none */
	char		*key_store;		/* file, tpm, keychain */
	char		*tpm_tcti;		/* device:/dev/tpmrm0 */
};

struct config_warnings {
	char		**v;		/* "file:line:col: path: message" */
	size_t		  n;
	size_t		  dropped;	/* beyond CONFIG_MAX_WARNINGS */
};

struct config {
	struct config_watch	 watch;
	struct config_persistence persistence;
	struct config_sync	 sync;
	struct config_homebrew	 homebrew;
	struct config_claude	 claude;
	struct config_codex	 codex;
	struct config_pi	 pi;
	struct config_cursor	 cursor;
	struct config_opencode	 opencode;
	struct config_javascript javascript;
	struct config_python	 python;
	struct ruleset		 rules;
	struct config_kobangd	 kobangd;
	struct config_warnings	 warnings;
};

/* config_load_file() flags */
#define CONFIG_F_PERMS	0x01	/* refuse group/world-writable or foreign files */

/*
 * Loaders: on success return 0 and initialise *cfg (free it with
 * config_free); on failure return -1, leave *cfg zeroed and put one
 * message in err.  name is the file name used in messages.
 */
int	 config_load_file(const char *path, int flags, struct config *cfg,
	    char *err, size_t errlen);
int	 config_load_buffer(const char *name, const char *buf, size_t len,
	    struct config *cfg, char *err, size_t errlen);
/* The remote bundle (PROTOCOL.md 5.3); the kobangd section is ignored. */
int	 config_from_json(const char *name, const char *json, size_t len,
	    struct config *cfg, char *err, size_t errlen);

/* The built-in defaults: equal to etc/kobangd.yaml (embedded at build). */
void	 config_default(struct config *cfg);
void	 config_free(struct config *cfg);

/* Canonical JSON bundle into w; 0, or -1 if the writer failed. */
int	 config_to_json(const struct config *cfg, struct jsonw *w);
/* What config_to_json() prints for a token instead of its value. */
#define CONFIG_SECRET_MARKER	"(secret, not shown)"

/*
 * The remote overlay (PROTOCOL.md 5.3 step 4): take the whole watch
 * section, the rules and sync.maxBatchBytes/maxBatchEvents from remote
 * into local.  remote is left empty; free it with config_free.
 */
void	 config_overlay_remote(struct config *local, struct config *remote);

/*
 * "~" and "~/..." against one monitored user's home (CONFIG.md 1.2);
 * anything else is copied.  0, or -1 if it does not fit in buf.
 */
int	 config_expand_home(const char *path, const char *home, char *buf,
	    size_t buflen);

/* Effective project roots and discovery depth of a surface (CONFIG.md 2). */
const struct strlist *config_project_roots(const struct config *,
	    enum surface);
long long config_max_depth(const struct config *, enum surface);

/*
 * kobangd -n: load path with CONFIG_F_PERMS, print the error or the
 * warnings and "configuration OK" on stderr (verbose: also the canonical
 * JSON on stdout).  Returns the exit code, 0 or 1.
 */
int	 config_check_file(const char *path, int verbose);

#endif
