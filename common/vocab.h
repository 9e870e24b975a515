/*
 * The closed vocabularies of the Koban sensor (RULES.md 1.1): every enum
 * with its exact wire spelling.  Shared by the configuration loader, the
 * rule engine, the store and kobanctl.
 */
#ifndef KOBANG_VOCAB_H
#define KOBANG_VOCAB_H

enum surface {
	SURFACE_HOMEBREW,
	SURFACE_CLAUDE,
	SURFACE_CODEX,
	SURFACE_PI,
	SURFACE_CURSOR,
	SURFACE_OPENCODE,
	SURFACE_JAVASCRIPT,
	SURFACE_PYTHON,
	SURFACE_COUNT
};

enum trigger {
	TRIGGER_ADDED,
	TRIGGER_REMOVED,
	TRIGGER_MODIFIED,
	TRIGGER_PRESENT,
	TRIGGER_COUNT
};

enum match_kind {
	MATCH_ALWAYS,
	MATCH_FIELD_CONTAINS_ANY,
	MATCH_FIELD_NOT_IN_LIST,
	MATCH_FIELD_HAS_URL_SCHEME,
	MATCH_FLAG_EQUALS,
	MATCH_COUNT
};

enum rule_field {
	FIELD_KIND,
	FIELD_NAME,
	FIELD_VERSION,
	FIELD_ORIGIN,
	FIELD_DETAIL,
	FIELD_PATH,
	FIELD_PACKAGE_MANAGER,
	FIELD_REGISTRY,
	FIELD_SOURCE_URL,
	FIELD_COMMAND,
	FIELD_DEPENDENCY_SCOPE,
	FIELD_FILE_HASH,
	FIELD_COUNT
};

enum rule_flag {
	FLAG_HAS_INSTALL_SCRIPT,
	FLAG_INSTALLED_ON_REQUEST,
	FLAG_IS_DIRECT_DEPENDENCY,
	FLAG_IS_EDITABLE,
	FLAG_IS_EXECUTABLE_CONFIG,
	FLAG_IS_PROMPT_SHAPING_CONFIG,
	FLAG_USES_DYNAMIC_AUTH_HELPER,
	FLAG_USES_EPHEMERAL_RUNNER,
	FLAG_USES_REMOTE,
	FLAG_COUNT
};

/* Declaration order is severity order: info < notable < ... */
enum severity {
	SEVERITY_INFO,
	SEVERITY_NOTABLE,
	SEVERITY_SUSPICIOUS,
	SEVERITY_CRITICAL,
	SEVERITY_COUNT
};

enum item_kind {
	KIND_PACKAGE,
	KIND_MCP_SERVER,
	KIND_HOOK,
	KIND_SKILL,
	KIND_AGENT,
	KIND_COMMAND,
	KIND_INSTRUCTION,
	KIND_PLUGIN,
	KIND_RULE,
	KIND_SETTINGS,
	KIND_CONFIG_PROFILE,
	KIND_IMPORT,
	KIND_PYTHON_DECLARED_REQUIREMENT,
	KIND_PYTHON_RESOLVED_PACKAGE,
	KIND_PYTHON_CONSTRAINT,
	KIND_COUNT
};

enum change_kind {
	CHANGE_ADDED,
	CHANGE_REMOVED,
	CHANGE_MODIFIED,
	CHANGE_COUNT
};

const char	*surface_name(enum surface);
const char	*trigger_name(enum trigger);
const char	*match_kind_name(enum match_kind);
const char	*rule_field_name(enum rule_field);
const char	*rule_flag_name(enum rule_flag);
const char	*severity_name(enum severity);
const char	*item_kind_name(enum item_kind);
const char	*change_kind_name(enum change_kind);

/* Exact, case-sensitive lookups; return -1 when the name is not in the set. */
int	 surface_from_name(const char *);
int	 trigger_from_name(const char *);
int	 match_kind_from_name(const char *);
int	 rule_field_from_name(const char *);
int	 rule_flag_from_name(const char *);
int	 severity_from_name(const char *);
int	 item_kind_from_name(const char *);
int	 change_kind_from_name(const char *);

#endif
