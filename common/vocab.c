/*
 * Name tables for the closed vocabularies.  The order of each table is the
 * order of its enum.
 */

#include <string.h>

#include "compat.h"
#include "vocab.h"

static const char *const surface_names[SURFACE_COUNT] = {
	"homebrew", "claudeConfig", "codexConfig", "piConfig",
	"cursorConfig", "opencodeConfig", "javascriptPackages",
	"pythonPackages"
};

static const char *const trigger_names[TRIGGER_COUNT] = {
	"added", "removed", "modified", "present"
};

static const char *const match_kind_names[MATCH_COUNT] = {
	"always", "fieldContainsAny", "fieldNotInList", "fieldHasURLScheme",
	"flagEquals"
};

static const char *const rule_field_names[FIELD_COUNT] = {
	"kind", "name", "version", "origin", "detail", "path",
	"packageManager", "registry", "sourceURL", "command",
	"dependencyScope", "fileHash"
};

static const char *const rule_flag_names[FLAG_COUNT] = {
	"hasInstallScript", "installedOnRequest", "isDirectDependency",
	"isEditable", "isExecutableConfig", "isPromptShapingConfig",
	"usesDynamicAuthHelper", "usesEphemeralRunner", "usesRemote"
};

static const char *const severity_names[SEVERITY_COUNT] = {
	"info", "notable", "suspicious", "critical"
};

static const char *const item_kind_names[KIND_COUNT] = {
	"package", "mcpServer", "hook", "skill", "agent", "command",
	"instruction", "plugin", "rule", "settings", "configProfile",
	"import", "pythonDeclaredRequirement", "pythonResolvedPackage",
	"pythonConstraint"
};

static const char *const change_kind_names[CHANGE_COUNT] = {
	"added", "removed", "modified"
};

static const char *
name_of(const char *const *tab, int n, int v)
{
	if (v < 0 || v >= n)
		return ("unknown");
	return (tab[v]);
}

static int
lookup(const char *const *tab, int n, const char *name)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(tab[i], name) == 0)
			return (i);
	return (-1);
}

#define VOCAB(fn, type, tab)						\
const char *								\
fn##_name(enum type v)							\
{									\
	return (name_of(tab, (int)nitems(tab), (int)v));		\
}									\
int									\
fn##_from_name(const char *name)					\
{									\
	return (lookup(tab, (int)nitems(tab), name));			\
}

VOCAB(surface, surface, surface_names)
VOCAB(trigger, trigger, trigger_names)
VOCAB(match_kind, match_kind, match_kind_names)
VOCAB(rule_field, rule_field, rule_field_names)
VOCAB(rule_flag, rule_flag, rule_flag_names)
VOCAB(severity, severity, severity_names)
VOCAB(item_kind, item_kind, item_kind_names)
VOCAB(change_kind, change_kind, change_kind_names)
