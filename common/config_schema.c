/*
 * The configuration schema as data (CONFIG.md 2, RULES.md 1), and the one
 * walker that applies a document tree to a struct config.  Table order is
 * the canonical output order (CONFIG.md 3).
 */

#include <sys/types.h>

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "config_priv.h"
#include "http.h"

#define I32MIN		(-2147483647LL - 1)

/* Key table entries, one line each. */
#define BOOLK(n, s, f, d) \
	{ .name = n, .type = KT_BOOL, .off = offsetof(s, f), .dint = d }
#define INTK(n, s, f, lo, hi, d) \
	{ .name = n, .type = KT_INT, .off = offsetof(s, f), .min = lo, \
	    .max = hi, .dint = d }
#define OPTINTK(n, s, f, fs, lo, hi) \
	{ .name = n, .type = KT_OPTINT, .off = offsetof(s, f), \
	    .setoff = offsetof(s, fs), .min = lo, .max = hi }
#define STRK(n, s, f, fl, len, d) \
	{ .name = n, .type = KT_STR, .flags = fl, .off = offsetof(s, f), \
	    .max = len, .dstr = d }
#define CHOICEK(n, s, f, c, d) \
	{ .name = n, .type = KT_STR, .off = offsetof(s, f), .max = 32, \
	    .dstr = d, .choices = c }
#define OPTSTRK(n, s, f, fl, len) \
	{ .name = n, .type = KT_OPTSTR, .flags = fl, .off = offsetof(s, f), \
	    .max = len }
#define LISTK(n, s, f, fl, d) \
	{ .name = n, .type = KT_LIST, .flags = fl, .off = offsetof(s, f), \
	    .max = PATH_MAX - 1, .dlist = d }
#define OPTLISTK(n, s, f, fl) \
	{ .name = n, .type = KT_OPTLIST, .flags = fl, .off = offsetof(s, f), \
	    .max = PATH_MAX - 1 }
#define MAPK(n, s, f, fl, t) \
	{ .name = n, .type = KT_MAP, .flags = fl, .off = offsetof(s, f), \
	    .sub = t, .nsub = nitems(t) }

#define PATHLEN		(PATH_MAX - 1)
#define NAMELEN		32
#define SUNLEN		107	/* sizeof(sun_path) - 1 */

static const char *const d_project_roots[] = {
	"~/src", "~/Code", "~/Developer", "~/Projects", NULL
};

static const char *const d_exclude[] = {
	".git", "node_modules", ".venv", "venv", "__pycache__", ".tox",
	".mypy_cache", ".pytest_cache", "dist", "build", ".next", ".turbo",
	".cache", NULL
};

static const char *const d_signal_names[] = {
	"AGENTS.md", "CLAUDE.md", "CLAUDE.local.md", ".mcp.json",
	".cursorrules", "opencode.json", "opencode.jsonc", "package-lock.json",
	"npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock",
	"uv.lock", "pyproject.toml", "pylock.toml", NULL
};

static const char *const d_signal_globs[] = {
	"requirements*.txt", "constraints*.txt", "*.rules", "*.mdc", NULL
};

/* Fixed: does not follow a user-modified watch.excludeDirectories. */
static const char *const d_prune[] = {
	".git", "node_modules", ".venv", "venv", "__pycache__", ".tox",
	".mypy_cache", ".pytest_cache", "dist", "build", ".next", ".turbo",
	".cache", "Library", "Applications", "Movies", "Music", "Pictures",
	"Public", "Desktop", "Documents", "Downloads", NULL
};

static const char *const d_lockfiles[] = {
	"package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml",
	"yarn.lock", "bun.lock", NULL
};

static const char *const d_req_globs[] = {
	"requirements*.txt", "constraints*.txt", NULL
};

static const struct kdef k_budget[] = {
	INTK("maxDirectoriesVisited", struct config_scan_budget,
	    max_directories_visited, 1, 100000000, 50000),
	INTK("maxFilesVisited", struct config_scan_budget, max_files_visited,
	    1, 1000000000, 250000),
	INTK("maxWallClockSeconds", struct config_scan_budget,
	    max_wall_clock_seconds, 1, 86400, 60),
};

static const struct kdef k_hss[] = {
	BOOLK("enabled", struct config_home_signal_scan, enabled, 0),
	STRK("root", struct config_home_signal_scan, root, 0, PATHLEN, "~"),
	INTK("maxDepth", struct config_home_signal_scan, max_depth, 0, 64, 8),
	BOOLK("followSymlinks", struct config_home_signal_scan,
	    follow_symlinks, 0),
	BOOLK("eventPathFiltering", struct config_home_signal_scan,
	    event_path_filtering, 1),
	MAPK("initialScanBudget", struct config_home_signal_scan,
	    initial_scan_budget, 0, k_budget),
	LISTK("signalFileNames", struct config_home_signal_scan,
	    signal_file_names, KF_SET, d_signal_names),
	LISTK("signalFileGlobs", struct config_home_signal_scan,
	    signal_file_globs, KF_SET, d_signal_globs),
	LISTK("pruneDirectoryNames", struct config_home_signal_scan,
	    prune_directory_names, KF_SET, d_prune),
};

static const struct kdef k_watch[] = {
	INTK("debounceMilliseconds", struct config_watch,
	    debounce_milliseconds, 0, 600000, 800),
	INTK("pollIntervalSeconds", struct config_watch,
	    poll_interval_seconds, 1, 604800, 300),
	INTK("maxScanWallClockSeconds", struct config_watch,
	    max_scan_wall_clock_seconds, 1, 3600, 30),
	INTK("maxFreshScanAgeSeconds", struct config_watch,
	    max_fresh_scan_age_seconds, 1, 31536000, 900),
	MAPK("homeSignalScan", struct config_watch, home_signal_scan, 0,
	    k_hss),
	LISTK("projectRoots", struct config_watch, project_roots, 0,
	    d_project_roots),
	INTK("maxDepth", struct config_watch, max_depth, 0, 64, 5),
	LISTK("excludeDirectories", struct config_watch, exclude_directories,
	    KF_SET, d_exclude),
};

static const struct kdef k_persistence[] = {
	INTK("maxStoredEvents", struct config_persistence, max_stored_events,
	    I32MIN, 1000000000, 5000),
	INTK("maxStoredFindings", struct config_persistence,
	    max_stored_findings, I32MIN, 1000000000, 1000),
};

static const struct kdef k_sync[] = {
	BOOLK("enabled", struct config_sync, enabled, 0),
	STRK("protocol", struct config_sync, protocol, 0, 256,
	    "kobanSensorV1"),
	OPTSTRK("endpoint", struct config_sync, endpoint, 0, 4096),
	OPTSTRK("enrollmentToken", struct config_sync, enrollment_token,
	    KF_SECRET, 4096),
	OPTSTRK("sensorToken", struct config_sync, sensor_token, KF_SECRET,
	    4096),
	OPTSTRK("tenantID", struct config_sync, tenant_id, 0, 256),
	OPTSTRK("deviceID", struct config_sync, device_id, 0, 256),
	INTK("maxBatchBytes", struct config_sync, max_batch_bytes, I32MIN,
	    67108864, 524288),
	INTK("maxBatchEvents", struct config_sync, max_batch_events, I32MIN,
	    1000000, 500),
	INTK("checkInIntervalSeconds", struct config_sync,
	    check_in_interval_seconds, 1, 86400, 60),
	INTK("retryBaseSeconds", struct config_sync, retry_base_seconds, 1,
	    86400, 15),
	INTK("retryMaxSeconds", struct config_sync, retry_max_seconds, 1,
	    604800, 1800),
	INTK("outboxMaxBytes", struct config_sync, outbox_max_bytes, 65536,
	    1099511627776LL, 262144000),
};

static const struct kdef k_homebrew[] = {
	BOOLK("enabled", struct config_homebrew, enabled, 1),
	OPTLISTK("prefixes", struct config_homebrew, prefixes, 0),
};

static const struct kdef k_claude[] = {
	BOOLK("enabled", struct config_claude, enabled, 1),
	OPTSTRK("configPath", struct config_claude, config_path, 0, PATHLEN),
	OPTLISTK("projectRoots", struct config_claude, project_roots, 0),
	BOOLK("includeProjectMCP", struct config_claude, include_project_mcp,
	    1),
	BOOLK("includeSettings", struct config_claude, include_settings, 1),
	BOOLK("includeAgents", struct config_claude, include_agents, 1),
	BOOLK("includeCommands", struct config_claude, include_commands, 1),
	BOOLK("includeHooks", struct config_claude, include_hooks, 1),
	BOOLK("includeSkills", struct config_claude, include_skills, 1),
	BOOLK("includePlugins", struct config_claude, include_plugins, 1),
	BOOLK("includeInstructions", struct config_claude,
	    include_instructions, 1),
	BOOLK("includeManagedSettings", struct config_claude,
	    include_managed_settings, 0),
};

static const struct kdef k_codex[] = {
	BOOLK("enabled", struct config_codex, enabled, 1),
	OPTSTRK("userConfigPath", struct config_codex, user_config_path, 0,
	    PATHLEN),
	OPTSTRK("profileConfigGlob", struct config_codex, profile_config_glob,
	    0, PATHLEN),
	OPTLISTK("projectRoots", struct config_codex, project_roots, 0),
	BOOLK("includeSystemConfig", struct config_codex,
	    include_system_config, 0),
	BOOLK("includeSkills", struct config_codex, include_skills, 1),
	BOOLK("includeHooks", struct config_codex, include_hooks, 1),
	BOOLK("includeRules", struct config_codex, include_rules, 1),
};

static const struct kdef k_pi[] = {
	BOOLK("enabled", struct config_pi, enabled, 1),
	OPTSTRK("agentDirectory", struct config_pi, agent_directory, 0,
	    PATHLEN),
	BOOLK("includeSharedGlobalMCP", struct config_pi,
	    include_shared_global_mcp, 1),
	BOOLK("includeSharedProjectMCP", struct config_pi,
	    include_shared_project_mcp, 1),
	BOOLK("includePiGlobalOverride", struct config_pi,
	    include_pi_global_override, 1),
	BOOLK("includePiProjectOverride", struct config_pi,
	    include_pi_project_override, 1),
	BOOLK("includePackages", struct config_pi, include_packages, 1),
	BOOLK("includeImports", struct config_pi, include_imports, 1),
};

static const struct kdef k_cursor[] = {
	BOOLK("enabled", struct config_cursor, enabled, 1),
	OPTSTRK("globalMCPPath", struct config_cursor, global_mcp_path, 0,
	    PATHLEN),
	BOOLK("includeGlobalMCP", struct config_cursor, include_global_mcp, 1),
	BOOLK("includeProjectMCP", struct config_cursor, include_project_mcp,
	    1),
	BOOLK("includeRules", struct config_cursor, include_rules, 1),
	BOOLK("includeLegacyRules", struct config_cursor,
	    include_legacy_rules, 1),
	BOOLK("includeInstructions", struct config_cursor,
	    include_instructions, 1),
};

static const struct kdef k_opencode[] = {
	BOOLK("enabled", struct config_opencode, enabled, 1),
	OPTSTRK("userConfigDirectory", struct config_opencode,
	    user_config_directory, 0, PATHLEN),
	OPTLISTK("projectRoots", struct config_opencode, project_roots, 0),
	BOOLK("includeGlobal", struct config_opencode, include_global, 1),
	BOOLK("includeProject", struct config_opencode, include_project, 1),
	BOOLK("includeMCP", struct config_opencode, include_mcp, 1),
	BOOLK("includeAgents", struct config_opencode, include_agents, 1),
	BOOLK("includeCommands", struct config_opencode, include_commands, 1),
	BOOLK("includePlugins", struct config_opencode, include_plugins, 1),
	BOOLK("includeInstructions", struct config_opencode,
	    include_instructions, 1),
	BOOLK("includeManagedPreferences", struct config_opencode,
	    include_managed_preferences, 0),
};

static const struct kdef k_javascript[] = {
	BOOLK("enabled", struct config_javascript, enabled, 1),
	OPTLISTK("projectRoots", struct config_javascript, project_roots, 0),
	OPTINTK("maxDepth", struct config_javascript, max_depth,
	    max_depth_set, 0, 64),
	BOOLK("includeNpm", struct config_javascript, include_npm, 1),
	BOOLK("includePnpm", struct config_javascript, include_pnpm, 1),
	BOOLK("includeYarn", struct config_javascript, include_yarn, 1),
	BOOLK("includeBun", struct config_javascript, include_bun, 1),
	OPTLISTK("excludeDirectories", struct config_javascript,
	    exclude_directories, KF_SET),
	LISTK("lockfileNames", struct config_javascript, lockfile_names,
	    KF_SET, d_lockfiles),
};

static const struct kdef k_python[] = {
	BOOLK("enabled", struct config_python, enabled, 1),
	OPTLISTK("projectRoots", struct config_python, project_roots, 0),
	OPTINTK("maxDepth", struct config_python, max_depth, max_depth_set,
	    0, 64),
	BOOLK("includeUV", struct config_python, include_uv, 1),
	BOOLK("includePyProject", struct config_python, include_py_project,
	    1),
	BOOLK("includeRequirements", struct config_python,
	    include_requirements, 1),
	BOOLK("includePylock", struct config_python, include_pylock, 1),
	OPTLISTK("excludeDirectories", struct config_python,
	    exclude_directories, KF_SET),
	LISTK("requirementFileGlobs", struct config_python,
	    requirement_file_globs, KF_SET, d_req_globs),
};

static const struct kdef k_rguard[] = {
	INTK("percent", struct config_removal_guard, percent, 1, 100, 50),
	INTK("minItems", struct config_removal_guard, min_items, 0,
	    1000000000, 300),
	INTK("confirmSeconds", struct config_removal_guard, confirm_seconds,
	    0, 86400, 30),
};

/*
 * Where the device key lives: the stores compiled into this build
 * (kobangd/keystore.h).  The file store is everywhere and the default.
 */
static const char *const c_key_stores[] = {
	"file",
#ifdef KOBANGD_TPM
	"tpm",
#endif
#ifdef __APPLE__
	"keychain",
#endif
	NULL
};

static const struct kdef k_kobangd[] = {
	{ .name = "users", .type = KT_OPTLIST, .flags = KF_NAME | KF_SET,
	    .off = offsetof(struct config_kobangd, users), .max = NAMELEN },
	STRK("stateDirectory", struct config_kobangd, state_directory, KF_ABS,
	    PATHLEN, "/var/lib/koban"),
	STRK("controlSocket", struct config_kobangd, control_socket, KF_ABS,
	    SUNLEN, "/run/kobangd.sock"),
	OPTSTRK("controlGroup", struct config_kobangd, control_group, KF_NAME,
	    NAMELEN),
	STRK("user", struct config_kobangd, user, KF_NAME, NAMELEN, "_kobang"),
	OPTSTRK("fleetCAFile", struct config_kobangd, fleet_ca_file, KF_ABS,
	    PATHLEN),
	OPTSTRK("enrollmentTokenFile", struct config_kobangd,
	    enrollment_token_file, KF_ABS, PATHLEN),
	MAPK("removalGuard", struct config_kobangd, removal_guard, 0,
	    k_rguard),
	OPTSTRK("proxy", struct config_kobangd, proxy, KF_PROXY, 1024),
	OPTSTRK("proxyCredentialsFile", struct config_kobangd,
	    proxy_credentials_file, KF_ABS, PATHLEN),
	CHOICEK("keyStore", struct config_kobangd, key_store, c_key_stores,
	    "file"),
	STRK("tpmTCTI", struct config_kobangd, tpm_tcti, KF_PRINT, 1024,
	    "device:/dev/tpmrm0"),
};

const struct kdef config_schema[] = {
	MAPK("watch", struct config, watch, 0, k_watch),
	MAPK("persistence", struct config, persistence, KF_STRICT,
	    k_persistence),
	MAPK("sync", struct config, sync, 0, k_sync),
	MAPK("homebrew", struct config, homebrew, 0, k_homebrew),
	MAPK("claude", struct config, claude, 0, k_claude),
	MAPK("codex", struct config, codex, 0, k_codex),
	MAPK("pi", struct config, pi, 0, k_pi),
	MAPK("cursor", struct config, cursor, 0, k_cursor),
	MAPK("opencode", struct config, opencode, 0, k_opencode),
	MAPK("javascript", struct config, javascript, 0, k_javascript),
	MAPK("python", struct config, python, 0, k_python),
	{ .name = "rules", .type = KT_RULES, .off = offsetof(struct config,
	    rules) },
	MAPK("kobangd", struct config, kobangd, KF_LOCAL, k_kobangd),
};
const size_t config_schema_n = nitems(config_schema);

/*
 * The document tree.
 */

struct cnode *
ctree_node(struct ctree *t, enum cnode_type type, enum cnode_style style,
    uint32_t line, uint32_t col)
{
	struct cnode	*n, **all;
	size_t		 ncap;

	if (t->n == t->cap) {
		ncap = t->cap ? t->cap * 2 : 64;
		all = recallocarray(t->all, t->cap, ncap, sizeof(*all));
		if (all == NULL)
			return (NULL);
		t->all = all;
		t->cap = ncap;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return (NULL);
	n->type = type;
	n->style = style;
	n->line = line;
	n->col = col;
	n->weight = 1;
	t->all[t->n++] = n;
	return (n);
}

int
ctree_scalar(struct cnode *n, const char *s, size_t len)
{
	if (len == SIZE_MAX || (n->s = malloc(len + 1)) == NULL)
		return (-1);
	if (len > 0)
		memcpy(n->s, s, len);
	n->s[len] = '\0';
	n->len = len;
	n->bytes = len;
	return (0);
}

int
ctree_add(struct cnode *p, struct cnode *kid)
{
	struct cnode	**k;
	size_t		  ncap;

	if (p->nkids == p->capkids) {
		ncap = p->capkids ? p->capkids * 2 : 4;
		k = recallocarray(p->kids, p->capkids, ncap, sizeof(*k));
		if (k == NULL)
			return (-1);
		p->kids = k;
		p->capkids = ncap;
	}
	p->kids[p->nkids++] = kid;
	return (0);
}

void
ctree_free(struct ctree *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		free(t->all[i]->kids);
		free(t->all[i]->s);
		free(t->all[i]);
	}
	free(t->all);
	memset(t, 0, sizeof(*t));
}

/*
 * Messages.  Document text goes into them quoted, escaped and cut short,
 * since it ends up on a terminal or in syslog.
 */

void
config_quote(char *dst, size_t dlen, const char *s, size_t len)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, o = 0, shown = 0;
	unsigned char		c;

	if (dlen < 8) {
		if (dlen > 0)
			dst[0] = '\0';
		return;
	}
	dst[o++] = '"';
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		/* Stop before a character starts, never inside one. */
		if ((c & 0xc0) != 0x80 && (shown >= 48 || o + 8 >= dlen)) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
			dst[o++] = '\\';
			if (c == '"' || c == '\\')
				dst[o++] = (char)c;
			else {
				dst[o++] = 'x';
				dst[o++] = hex[c >> 4];
				dst[o++] = hex[c & 0xf];
			}
		} else
			dst[o++] = (char)c;
		if ((c & 0xc0) != 0x80)
			shown++;
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

struct actx {
	const char		*name;
	int			 json;
	struct config		*cfg;
	char			*err;
	size_t			 errlen;
	char			 path[256];
	size_t			 plen;
	int			 rules_given;
};

static int	aerr(struct actx *, const struct cnode *, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	awarn(struct actx *, const struct cnode *, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));

static int
aerr(struct actx *a, const struct cnode *n, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(a->err, a->errlen, "%s:%u:%u: %s%s%s", a->name,
	    n->line, n->col, a->path, a->plen ? ": " : "", msg);
	return (-1);
}

static void
awarn(struct actx *a, const struct cnode *n, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)config_warn(a->cfg, "%s:%u:%u: %s%s%s", a->name, n->line,
	    n->col, a->path, a->plen ? ": " : "", msg);
}

static size_t
push(struct actx *a, const char *fmt, ...)
    __attribute__((__format__ (printf, 2, 3)));

static size_t
push(struct actx *a, const char *fmt, ...)
{
	size_t	old = a->plen;
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = vsnprintf(a->path + a->plen, sizeof(a->path) - a->plen, fmt, ap);
	va_end(ap);
	if (r < 0)
		a->path[old] = '\0';
	else if ((size_t)r >= sizeof(a->path) - a->plen)
		a->plen = sizeof(a->path) - 1;
	else
		a->plen += (size_t)r;
	return (old);
}

static size_t
push_key(struct actx *a, const char *k)
{
	return (push(a, "%s%s", a->plen ? "." : "", k));
}

static void
pop(struct actx *a, size_t old)
{
	a->plen = old;
	a->path[old] = '\0';
}

/* What a node is, for "expected X, found Y". */
static const char *
describe(const struct cnode *n, char *buf, size_t len)
{
	char	q[96];

	if (n->type == CN_SEQ)
		return ("a list");
	if (n->type == CN_MAP)
		return ("a mapping");
	switch (n->style) {
	case CS_JNUMBER:
		config_quote(q, sizeof(q), n->s, n->len);
		(void)snprintf(buf, len, "the number %s", q + 1);
		buf[strlen(buf) - 1] = '\0';	/* drop the closing quote */
		return (buf);
	case CS_JTRUE:
		return ("true");
	case CS_JFALSE:
		return ("false");
	case CS_JNULL:
		return ("null");
	case CS_PLAIN:
		config_quote(q, sizeof(q), n->s, n->len);
		(void)snprintf(buf, len, "%s", q);
		return (buf);
	default:
		config_quote(q, sizeof(q), n->s, n->len);
		(void)snprintf(buf, len, "the %sstring %s",
		    n->style == CS_QUOTED ? "quoted " : "", q);
		return (buf);
	}
}

static int
is_null(const struct cnode *n)
{
	if (n->type != CN_SCALAR)
		return (0);
	if (n->style == CS_JNULL)
		return (1);
	if (n->style != CS_PLAIN)
		return (0);
	return (n->len == 0 || strcmp(n->s, "~") == 0 ||
	    strcmp(n->s, "null") == 0 || strcmp(n->s, "Null") == 0 ||
	    strcmp(n->s, "NULL") == 0);
}

static int
get_bool(struct actx *a, const struct cnode *n, int *v)
{
	char	d[128];

	if (n->type == CN_SCALAR) {
		if (n->style == CS_JTRUE || n->style == CS_JFALSE) {
			*v = n->style == CS_JTRUE;
			return (0);
		}
		/* Yams: any quoting, any case. */
		if (n->style == CS_PLAIN || n->style == CS_QUOTED) {
			if (strcasecmp(n->s, "true") == 0 ||
			    strcasecmp(n->s, "yes") == 0 ||
			    strcasecmp(n->s, "on") == 0) {
				*v = 1;
				return (0);
			}
			if (strcasecmp(n->s, "false") == 0 ||
			    strcasecmp(n->s, "no") == 0 ||
			    strcasecmp(n->s, "off") == 0) {
				*v = 0;
				return (0);
			}
		}
	}
	return (aerr(a, n, "expected a boolean, found %s",
	    describe(n, d, sizeof(d))));
}

/* Digits of one radix into *v with the sign applied; -1 junk, -2 overflow. */
static int
parse_digits(const char *s, int neg, int radix, long long *v)
{
	unsigned long long	acc = 0, lim;
	int			d, overflow = 0;

	if (*s == '\0')
		return (-1);
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'z')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'Z')
			d = *s - 'A' + 10;
		else
			return (-1);
		if (d >= radix)
			return (-1);
		if (acc > (lim - (unsigned long long)d) / (unsigned)radix)
			overflow = 1;
		else
			acc = acc * (unsigned)radix + (unsigned long long)d;
	}
	if (overflow)
		return (-2);
	if (neg)
		*v = acc == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN :
		    -(long long)acc;
	else
		*v = (long long)acc;
	return (0);
}

/*
 * A plain YAML integer as Yams reads one: "_" dropped, "0" alone is zero,
 * then after an optional sign 0x, 0b, 0o or a bare leading 0 (octal)
 * select the radix, else decimal.
 */
static int
yaml_int(const char *in, long long *v)
{
	char		 buf[128];
	const char	*s;
	size_t		 i, o = 0;
	int		 neg = 0;

	for (i = 0; in[i] != '\0'; i++) {
		if (in[i] == '_')
			continue;
		if (o + 1 >= sizeof(buf))
			return (-1);
		buf[o++] = in[i];
	}
	buf[o] = '\0';
	if (strcmp(buf, "0") == 0) {
		*v = 0;
		return (0);
	}
	s = buf;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'b' || s[1] == 'o'))
		return (parse_digits(s + 2, neg,
		    s[1] == 'x' ? 16 : s[1] == 'b' ? 2 : 8, v));
	if (s[0] == '0')
		return (parse_digits(s + 1, neg, 8, v));
	return (parse_digits(s, neg, 10, v));
}

/* A JSON number that is an integer literal (the grammar is checked). */
static int
json_int(const char *s, long long *v)
{
	int	neg = 0;

	if (strpbrk(s, ".eE") != NULL)
		return (-1);
	if (*s == '-') {
		neg = 1;
		s++;
	}
	return (parse_digits(s, neg, 10, v));
}

static int
get_int(struct actx *a, const struct cnode *n, const struct kdef *kd,
    long long *v)
{
	char	d[128];
	int	r = -1;

	if (n->type == CN_SCALAR && n->style == CS_PLAIN)
		r = yaml_int(n->s, v);
	else if (n->type == CN_SCALAR && n->style == CS_JNUMBER)
		r = json_int(n->s, v);
	if (r == -2)
		return (aerr(a, n, "%s is out of range (%lld..%lld)",
		    describe(n, d, sizeof(d)), kd->min, kd->max));
	if (r == -1)
		return (aerr(a, n, "expected an integer, found %s",
		    describe(n, d, sizeof(d))));
	if (*v < kd->min || *v > kd->max)
		return (aerr(a, n, "%lld is out of range (%lld..%lld)", *v,
		    kd->min, kd->max));
	return (0);
}

static int
valid_name(const char *s)
{
	if (*s == '\0' || *s == '-')
		return (0);
	for (; *s != '\0'; s++)
		if (!isascii((unsigned char)*s) ||
		    (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
		    *s != '.'))
			return (0);
	return (1);
}

/* One word of visible ASCII (a TCTI configuration string). */
static int
valid_print(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return (0);
	return (1);
}

static int
valid_choice(const char *const *c, const char *s)
{
	for (; *c != NULL; c++)
		if (strcmp(*c, s) == 0)
			return (1);
	return (0);
}

/* "a, b or c", for the message. */
static const char *
choice_list(const char *const *c, char *buf, size_t len)
{
	buf[0] = '\0';
	for (; *c != NULL; c++) {
		if (buf[0] != '\0')
			(void)strlcat(buf, c[1] != NULL ? ", " : " or ", len);
		(void)strlcat(buf, *c, len);
	}
	return (buf);
}

/* A string value, checked against its key's length and kind. */
static int
get_str(struct actx *a, const struct cnode *n, const struct kdef *kd,
    char **out)
{
	struct http_proxy	px;
	char			d[128], perr[160], c[64];

	if (n->type != CN_SCALAR || (a->json && n->style != CS_JSTRING))
		return (aerr(a, n, "expected a string, found %s",
		    describe(n, d, sizeof(d))));
	if (strlen(n->s) != n->len)
		return (aerr(a, n, "string contains a NUL character"));
	if (kd->max > 0 && n->len > (size_t)kd->max)
		return (aerr(a, n, "string longer than %lld bytes", kd->max));
	if ((kd->flags & KF_ABS) && n->s[0] != '/')
		return (aerr(a, n, "%s is not an absolute path",
		    describe(n, d, sizeof(d))));
	if ((kd->flags & KF_NAME) && !valid_name(n->s))
		return (aerr(a, n, "%s is not a valid user or group name",
		    describe(n, d, sizeof(d))));
	if ((kd->flags & KF_PROXY) && http_proxy_parse(n->s, &px, perr,
	    sizeof(perr)) == -1)
		return (aerr(a, n, "not an HTTP proxy: %s", perr));
	if ((kd->flags & KF_PRINT) && !valid_print(n->s))
		return (aerr(a, n, "%s holds a space or a character that is "
		    "not printable ASCII", describe(n, d, sizeof(d))));
	if (kd->choices != NULL && !valid_choice(kd->choices, n->s))
		return (aerr(a, n, "%s is not one of %s",
		    describe(n, d, sizeof(d)), choice_list(kd->choices, c,
		    sizeof(c))));
	if ((*out = strdup(n->s)) == NULL)
		return (aerr(a, n, "out of memory"));
	return (0);
}

static int
get_list(struct actx *a, const struct cnode *n, const struct kdef *kd,
    struct strlist *l)
{
	char	d[128];
	size_t	i, old;

	memset(l, 0, sizeof(*l));
	if (n->type != CN_SEQ)
		return (aerr(a, n, "expected a list of strings, found %s",
		    describe(n, d, sizeof(d))));
	if (n->nkids == 0)
		return (0);
	if ((l->v = calloc(n->nkids, sizeof(*l->v))) == NULL)
		return (aerr(a, n, "out of memory"));
	for (i = 0; i < n->nkids; i++) {
		old = push(a, "[%zu]", i);
		/* Items are read literally, null-looking ones included. */
		if (get_str(a, n->kids[i], kd, &l->v[i]) == -1) {
			strlist_free(l);
			return (-1);
		}
		l->n++;
		pop(a, old);
	}
	return (0);
}

static int
keycmp(const void *pa, const void *pb)
{
	const struct cnode	*ka = *(const struct cnode *const *)pa;
	const struct cnode	*kb = *(const struct cnode *const *)pb;
	size_t			 m = ka->len < kb->len ? ka->len : kb->len;
	int			 c;

	if ((c = memcmp(ka->s, kb->s, m)) != 0)
		return (c);
	if (ka->len != kb->len)
		return (ka->len < kb->len ? -1 : 1);
	/* Ties by position: the second of two equal keys sorts after. */
	if (ka->line != kb->line)
		return (ka->line < kb->line ? -1 : 1);
	return (ka->col < kb->col ? -1 : ka->col > kb->col);
}

/* Keys are scalars, no merge keys, no duplicates (sorted: n log n). */
static int
check_map(struct actx *a, const struct cnode *n)
{
	const struct cnode	**keys, *dup = NULL;
	char			  d[128];
	size_t			  i, nk = n->nkids / 2;

	for (i = 0; i < nk; i++) {
		const struct cnode *k = n->kids[2 * i];

		if (k->type != CN_SCALAR)
			return (aerr(a, k, "a mapping key must be a scalar, "
			    "found %s", describe(k, d, sizeof(d))));
		if (k->style == CS_PLAIN && strcmp(k->s, "<<") == 0)
			return (aerr(a, k, "merge keys (<<) are not "
			    "supported"));
	}
	if (nk < 2)
		return (0);
	if ((keys = calloc(nk, sizeof(*keys))) == NULL)
		return (aerr(a, n, "out of memory"));
	for (i = 0; i < nk; i++)
		keys[i] = n->kids[2 * i];
	qsort(keys, nk, sizeof(*keys), keycmp);
	for (i = 1; i < nk; i++) {
		if (keys[i]->len != keys[i - 1]->len ||
		    memcmp(keys[i]->s, keys[i - 1]->s, keys[i]->len) != 0)
			continue;
		/* Report the duplicate that comes first in the file. */
		if (dup == NULL || keys[i]->line < dup->line ||
		    (keys[i]->line == dup->line && keys[i]->col < dup->col))
			dup = keys[i];
	}
	free(keys);
	if (dup != NULL)
		return (aerr(a, dup, "duplicate key %s",
		    describe(dup, d, sizeof(d))));
	return (0);
}

static int
key_is(const struct cnode *k, const char *name)
{
	return (strlen(name) == k->len && memcmp(k->s, name, k->len) == 0);
}

static void
warn_unknown(struct actx *a, const struct cnode *k)
{
	char	q[96];
	size_t	old, i;
	int	plain = k->len > 0 && k->len <= 64;

	/* The key itself as part of the path, quoted if it is odd. */
	for (i = 0; plain && i < k->len; i++)
		if (!isascii((unsigned char)k->s[i]) ||
		    (!isalnum((unsigned char)k->s[i]) && k->s[i] != '_' &&
		    k->s[i] != '-'))
			plain = 0;
	if (plain)
		(void)strlcpy(q, k->s, sizeof(q));
	else
		config_quote(q, sizeof(q), k->s, k->len);
	old = push(a, "%s%s", a->plen ? "." : "", q);
	awarn(a, k, "unknown key ignored");
	pop(a, old);
}

static int	apply_map(struct actx *, const struct cnode *,
		    const struct kdef *, size_t, char *, unsigned int);
static int	parse_rules(struct actx *, const struct cnode *,
		    struct ruleset *);

static void
free_value(const struct kdef *kd, char *base)
{
	char		**sp;
	struct strlist	**lp;
	size_t		  i;

	switch (kd->type) {
	case KT_STR:
	case KT_OPTSTR:
		sp = (char **)(base + kd->off);
		if (*sp != NULL && (kd->flags & KF_SECRET))
			freezero(*sp, strlen(*sp) + 1);
		else
			free(*sp);
		*sp = NULL;
		break;
	case KT_LIST:
		strlist_free((struct strlist *)(base + kd->off));
		break;
	case KT_OPTLIST:
		lp = (struct strlist **)(base + kd->off);
		if (*lp != NULL) {
			strlist_free(*lp);
			free(*lp);
			*lp = NULL;
		}
		break;
	case KT_MAP:
		for (i = 0; i < kd->nsub; i++)
			free_value(&kd->sub[i], base + kd->off);
		break;
	case KT_RULES:
		ruleset_free((struct ruleset *)(base + kd->off));
		break;
	default:
		break;
	}
}

static int
apply_value(struct actx *a, const struct kdef *kd, const struct cnode *n,
    char *base)
{
	char		*s;
	struct strlist	 l, *lp;
	struct ruleset	 rs;
	long long	 v;
	int		 b;

	switch (kd->type) {
	case KT_BOOL:
		if (is_null(n))
			return (0);
		if (get_bool(a, n, &b) == -1)
			return (-1);
		*(int *)(base + kd->off) = b;
		return (0);
	case KT_INT:
		if (is_null(n))
			return (0);
		if (get_int(a, n, kd, &v) == -1)
			return (-1);
		*(long long *)(base + kd->off) = v;
		return (0);
	case KT_OPTINT:
		if (is_null(n)) {
			*(int *)(base + kd->setoff) = 0;
			*(long long *)(base + kd->off) = 0;
			return (0);
		}
		if (get_int(a, n, kd, &v) == -1)
			return (-1);
		*(long long *)(base + kd->off) = v;
		*(int *)(base + kd->setoff) = 1;
		return (0);
	case KT_STR:
	case KT_OPTSTR:
		if (is_null(n)) {
			/* null is the default; for KT_OPTSTR that is NULL. */
			if (kd->type == KT_OPTSTR)
				free_value(kd, base);
			return (0);
		}
		if (get_str(a, n, kd, &s) == -1)
			return (-1);
		free_value(kd, base);
		*(char **)(base + kd->off) = s;
		return (0);
	case KT_LIST:
		if (is_null(n))
			return (0);
		if (get_list(a, n, kd, &l) == -1)
			return (-1);
		free_value(kd, base);
		*(struct strlist *)(base + kd->off) = l;
		return (0);
	case KT_OPTLIST:
		if (is_null(n)) {
			free_value(kd, base);
			return (0);
		}
		if (get_list(a, n, kd, &l) == -1)
			return (-1);
		if ((lp = malloc(sizeof(*lp))) == NULL) {
			strlist_free(&l);
			return (aerr(a, n, "out of memory"));
		}
		*lp = l;
		free_value(kd, base);
		*(struct strlist **)(base + kd->off) = lp;
		return (0);
	case KT_MAP:
		return (apply_map(a, n, kd->sub, kd->nsub, base + kd->off,
		    kd->flags));
	case KT_RULES:
		if (is_null(n))
			return (0);
		if (parse_rules(a, n, &rs) == -1)
			return (-1);
		free_value(kd, base);
		*(struct ruleset *)(base + kd->off) = rs;
		a->rules_given = 1;
		return (0);
	}
	return (aerr(a, n, "internal error: key type %d", (int)kd->type));
}

static int
apply_map(struct actx *a, const struct cnode *n, const struct kdef *defs,
    size_t ndefs, char *base, unsigned int flags)
{
	const struct cnode	*k, *v;
	char			 d[128];
	unsigned long long	 seen = 0;
	size_t			 i, j, old;

	if (is_null(n))
		return (0);
	if (n->type != CN_MAP)
		return (aerr(a, n, "expected a mapping, found %s",
		    describe(n, d, sizeof(d))));
	if (check_map(a, n) == -1)
		return (-1);
	for (i = 0; i < n->nkids / 2; i++) {
		k = n->kids[2 * i];
		v = n->kids[2 * i + 1];
		for (j = 0; j < ndefs; j++)
			if (key_is(k, defs[j].name))
				break;
		if (j == ndefs) {
			warn_unknown(a, k);
			continue;
		}
		old = push_key(a, defs[j].name);
		if (a->json && (defs[j].flags & KF_LOCAL)) {
			awarn(a, k, "not taken from a remote configuration");
			pop(a, old);
			continue;
		}
		if ((flags & KF_STRICT) && is_null(v))
			return (aerr(a, v, "a value is required"));
		seen |= 1ULL << j;
		if (apply_value(a, &defs[j], v, base) == -1)
			return (-1);
		pop(a, old);
	}
	if (flags & KF_STRICT) {
		for (j = 0; j < ndefs; j++)
			if (!(seen & (1ULL << j)))
				return (aerr(a, n, "missing required key "
				    "\"%s\" (both keys of this section are "
				    "required)", defs[j].name));
	}
	return (0);
}

/*
 * Rules (RULES.md 1).  Parameters a rule's match kind does not use are
 * not decoded at all, as in the reference, but they are warned about.
 */

enum {
	RK_ID, RK_SURFACE, RK_ENABLED, RK_TRIGGERS, RK_MATCH, RK_FIELD,
	RK_VALUES, RK_ALLOWED, RK_SCHEMES, RK_FLAG, RK_EXPECTED, RK_SEVERITY,
	RK_TITLE, RK_RATIONALE, RK_COUNT
};

static const char *const rule_keys[RK_COUNT] = {
	"id", "surface", "enabled", "triggers", "match", "field", "values",
	"allowed", "schemes", "flag", "expected", "severity", "title",
	"rationale"
};

static const struct kdef k_rule_str = { .name = "", .type = KT_STR,
    .max = CONFIG_MAX_STRING };
static const struct kdef k_rule_list = { .name = "", .type = KT_LIST,
    .max = CONFIG_MAX_STRING };

static int
rule_str(struct actx *a, const struct cnode *map, const struct cnode **val,
    int key, char **out)
{
	size_t	old;
	int	r;

	if (val[key] == NULL)
		return (aerr(a, map, "missing required key \"%s\"",
		    rule_keys[key]));
	old = push_key(a, rule_keys[key]);
	if (is_null(val[key]))
		return (aerr(a, val[key], "a value is required"));
	r = get_str(a, val[key], &k_rule_str, out);
	if (r == 0)
		pop(a, old);
	return (r);
}

static int
rule_enum(struct actx *a, const struct cnode *map, const struct cnode **val,
    int key, int (*lookup)(const char *), const char *what, int *out)
{
	char	*s, q[96];
	size_t	 old;
	int	 v;

	if (rule_str(a, map, val, key, &s) == -1)
		return (-1);
	v = lookup(s);
	free(s);
	if (v == -1) {
		old = push_key(a, rule_keys[key]);
		config_quote(q, sizeof(q), val[key]->s, val[key]->len);
		(void)aerr(a, val[key], "unknown %s %s", what, q);
		pop(a, old);
		return (-1);
	}
	*out = v;
	return (0);
}

static int
rule_list(struct actx *a, const struct cnode *map, const struct cnode **val,
    int key, const char *match, struct strlist *out)
{
	size_t	old;

	if (val[key] == NULL)
		return (aerr(a, map, "missing required key \"%s\" "
		    "(match %s)", rule_keys[key], match));
	old = push_key(a, rule_keys[key]);
	if (is_null(val[key]))
		return (aerr(a, val[key], "a value is required"));
	if (get_list(a, val[key], &k_rule_list, out) == -1)
		return (-1);
	pop(a, old);
	return (0);
}

static int
rule_triggers(struct actx *a, const struct cnode *n, unsigned int *out)
{
	char		d[128], q[96];
	size_t		i, old;
	int		t;

	if (n->type != CN_SEQ)
		return (aerr(a, n, "expected a list of triggers, found %s",
		    describe(n, d, sizeof(d))));
	*out = 0;
	for (i = 0; i < n->nkids; i++) {
		const struct cnode *k = n->kids[i];

		old = push(a, "[%zu]", i);
		if (k->type != CN_SCALAR ||
		    (a->json && k->style != CS_JSTRING))
			return (aerr(a, k, "expected a trigger, found %s",
			    describe(k, d, sizeof(d))));
		if (strlen(k->s) != k->len ||
		    (t = trigger_from_name(k->s)) == -1) {
			config_quote(q, sizeof(q), k->s, k->len);
			return (aerr(a, k, "unknown trigger %s", q));
		}
		*out |= RULE_TRIGGER(t);
		pop(a, old);
	}
	return (0);
}

static int
parse_rule(struct actx *a, const struct cnode *n, struct rule *r)
{
	const struct cnode	*val[RK_COUNT] = { NULL };
	const char		*mname;
	char			 d[128];
	size_t			 i, old;
	int			 j, v, used[RK_COUNT] = { 0 };

	if (n->type != CN_MAP)
		return (aerr(a, n, "expected a rule (a mapping), found %s",
		    describe(n, d, sizeof(d))));
	if (check_map(a, n) == -1)
		return (-1);
	for (i = 0; i < n->nkids / 2; i++) {
		for (j = 0; j < RK_COUNT; j++)
			if (key_is(n->kids[2 * i], rule_keys[j]))
				break;
		if (j == RK_COUNT)
			warn_unknown(a, n->kids[2 * i]);
		else
			val[j] = n->kids[2 * i + 1];
	}

	r->enabled = 1;
	r->triggers = RULE_DEFAULT_TRIGGERS;
	if (rule_str(a, n, val, RK_ID, &r->id) == -1 ||
	    rule_enum(a, n, val, RK_SURFACE, surface_from_name, "surface",
	    &v) == -1)
		return (-1);
	r->surface = (enum surface)v;
	if (val[RK_ENABLED] != NULL && !is_null(val[RK_ENABLED])) {
		old = push_key(a, "enabled");
		if (get_bool(a, val[RK_ENABLED], &r->enabled) == -1)
			return (-1);
		pop(a, old);
	}
	if (val[RK_TRIGGERS] != NULL && !is_null(val[RK_TRIGGERS])) {
		old = push_key(a, "triggers");
		if (rule_triggers(a, val[RK_TRIGGERS], &r->triggers) == -1)
			return (-1);
		pop(a, old);
	}
	if (rule_enum(a, n, val, RK_MATCH, match_kind_from_name,
	    "match kind", &v) == -1)
		return (-1);
	r->match = (enum match_kind)v;
	mname = match_kind_name(r->match);

	switch (r->match) {
	case MATCH_ALWAYS:
		break;
	case MATCH_FIELD_CONTAINS_ANY:
	case MATCH_FIELD_NOT_IN_LIST:
	case MATCH_FIELD_HAS_URL_SCHEME:
		if (val[RK_FIELD] == NULL)
			return (aerr(a, n, "missing required key \"field\" "
			    "(match %s)", mname));
		if (rule_enum(a, n, val, RK_FIELD, rule_field_from_name,
		    "rule field", &v) == -1)
			return (-1);
		r->field = (enum rule_field)v;
		used[RK_FIELD] = 1;
		if (r->match == MATCH_FIELD_CONTAINS_ANY) {
			used[RK_VALUES] = 1;
			if (rule_list(a, n, val, RK_VALUES, mname,
			    &r->values) == -1)
				return (-1);
		} else if (r->match == MATCH_FIELD_NOT_IN_LIST) {
			used[RK_ALLOWED] = 1;
			if (rule_list(a, n, val, RK_ALLOWED, mname,
			    &r->allowed) == -1)
				return (-1);
		} else {
			used[RK_SCHEMES] = 1;
			if (rule_list(a, n, val, RK_SCHEMES, mname,
			    &r->schemes) == -1)
				return (-1);
		}
		break;
	case MATCH_FLAG_EQUALS:
		if (val[RK_FLAG] == NULL)
			return (aerr(a, n, "missing required key \"flag\" "
			    "(match %s)", mname));
		if (rule_enum(a, n, val, RK_FLAG, rule_flag_from_name,
		    "rule flag", &v) == -1)
			return (-1);
		r->flag = (enum rule_flag)v;
		used[RK_FLAG] = used[RK_EXPECTED] = 1;
		if (val[RK_EXPECTED] == NULL)
			return (aerr(a, n, "missing required key \"expected\" "
			    "(match %s)", mname));
		old = push_key(a, "expected");
		if (is_null(val[RK_EXPECTED]))
			return (aerr(a, val[RK_EXPECTED],
			    "a value is required"));
		if (get_bool(a, val[RK_EXPECTED], &r->expected) == -1)
			return (-1);
		pop(a, old);
		break;
	default:
		return (aerr(a, n, "internal error: match kind"));
	}
	for (i = 0; i < n->nkids / 2; i++) {
		for (j = RK_FIELD; j <= RK_EXPECTED; j++)
			if (key_is(n->kids[2 * i], rule_keys[j]))
				break;
		if (j > RK_EXPECTED || used[j] || is_null(n->kids[2 * i + 1]))
			continue;
		old = push_key(a, rule_keys[j]);
		awarn(a, n->kids[2 * i + 1], "not used by match kind %s, "
		    "ignored", mname);
		pop(a, old);
	}

	if (rule_enum(a, n, val, RK_SEVERITY, severity_from_name, "severity",
	    &v) == -1)
		return (-1);
	r->severity = (enum severity)v;
	if (rule_str(a, n, val, RK_TITLE, &r->title) == -1 ||
	    rule_str(a, n, val, RK_RATIONALE, &r->rationale) == -1)
		return (-1);
	return (0);
}

static int
parse_rules(struct actx *a, const struct cnode *n, struct ruleset *rs)
{
	char	d[128];
	size_t	i, old;

	memset(rs, 0, sizeof(*rs));
	if (n->type != CN_SEQ)
		return (aerr(a, n, "expected a list of rules, found %s",
		    describe(n, d, sizeof(d))));
	if (n->nkids == 0)
		return (0);
	if ((rs->v = calloc(n->nkids, sizeof(*rs->v))) == NULL)
		return (aerr(a, n, "out of memory"));
	for (i = 0; i < n->nkids; i++) {
		old = push(a, "[%zu]", i);
		rs->n++;
		if (parse_rule(a, n->kids[i], &rs->v[i]) == -1) {
			ruleset_free(rs);
			return (-1);
		}
		pop(a, old);
	}
	return (0);
}

/*
 * Defaults, freeing.
 */

static int
set_defaults(const struct kdef *defs, size_t ndefs, char *base)
{
	const struct kdef	*kd;
	struct strlist		*l;
	size_t			 i, j, n;

	for (i = 0; i < ndefs; i++) {
		kd = &defs[i];
		switch (kd->type) {
		case KT_BOOL:
			*(int *)(base + kd->off) = (int)kd->dint;
			break;
		case KT_INT:
			*(long long *)(base + kd->off) = kd->dint;
			break;
		case KT_STR:
			if ((*(char **)(base + kd->off) =
			    strdup(kd->dstr)) == NULL)
				return (-1);
			break;
		case KT_LIST:
			l = (struct strlist *)(base + kd->off);
			for (n = 0; kd->dlist[n] != NULL; n++)
				;
			if ((l->v = calloc(n, sizeof(*l->v))) == NULL)
				return (-1);
			for (j = 0; j < n; j++) {
				if ((l->v[j] = strdup(kd->dlist[j])) == NULL)
					return (-1);
				l->n++;
			}
			break;
		case KT_MAP:
			if (set_defaults(kd->sub, kd->nsub,
			    base + kd->off) == -1)
				return (-1);
			break;
		default:
			/* Optionals start null, rules empty. */
			break;
		}
	}
	return (0);
}

/* The per-key C defaults of CONFIG.md 2, with no rules. */
int
config_base(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (set_defaults(config_schema, config_schema_n, (char *)cfg) == -1) {
		config_free(cfg);
		return (-1);
	}
	return (0);
}

void
config_free(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < config_schema_n; i++)
		free_value(&config_schema[i], (char *)cfg);
	for (i = 0; i < cfg->warnings.n; i++)
		free(cfg->warnings.v[i]);
	free(cfg->warnings.v);
	memset(cfg, 0, sizeof(*cfg));
}

static int
ruleset_copy(struct ruleset *dst, const struct ruleset *src)
{
	const struct rule	*r;
	struct rule		*d;
	size_t			 i;

	memset(dst, 0, sizeof(*dst));
	if (src->n == 0)
		return (0);
	if ((dst->v = calloc(src->n, sizeof(*dst->v))) == NULL)
		return (-1);
	for (i = 0; i < src->n; i++) {
		r = &src->v[i];
		d = &dst->v[i];
		dst->n++;
		*d = *r;
		d->id = d->title = d->rationale = NULL;
		memset(&d->values, 0, sizeof(d->values));
		memset(&d->allowed, 0, sizeof(d->allowed));
		memset(&d->schemes, 0, sizeof(d->schemes));
		if ((d->id = strdup(r->id)) == NULL ||
		    (d->title = strdup(r->title)) == NULL ||
		    (d->rationale = strdup(r->rationale)) == NULL ||
		    strlist_copy(&d->values, &r->values) == -1 ||
		    strlist_copy(&d->allowed, &r->allowed) == -1 ||
		    strlist_copy(&d->schemes, &r->schemes) == -1) {
			ruleset_free(dst);
			return (-1);
		}
	}
	return (0);
}

/*
 * The "rules" list of the embedded default file, parsed once and copied
 * out: every file without "rules" needs it, and parsing 37 kB each time
 * would dominate loading.
 */
int
config_default_rules(struct ruleset *rs)
{
	static struct ruleset	 cache;
	static int		 cached;
	struct ctree		 t;
	struct config		 scratch;
	struct actx		 a;
	const struct cnode	*root, *rules = NULL;
	char			 err[256];
	size_t			 i;
	int			 rc = -1;

	memset(rs, 0, sizeof(*rs));
	if (cached)
		return (ruleset_copy(rs, &cache));
	if (config_parse_yaml("(built-in)", kobang_default_yaml,
	    kobang_default_yaml_len, &t, err, sizeof(err)) == -1)
		return (-1);
	if ((root = t.root) != NULL && root->type == CN_MAP) {
		for (i = 0; i < root->nkids / 2; i++)
			if (key_is(root->kids[2 * i], "rules"))
				rules = root->kids[2 * i + 1];
	}
	if (rules != NULL) {
		memset(&scratch, 0, sizeof(scratch));
		memset(&a, 0, sizeof(a));
		a.name = "(built-in)";
		a.cfg = &scratch;
		a.err = err;
		a.errlen = sizeof(err);
		(void)push_key(&a, "rules");
		if (parse_rules(&a, rules, &cache) == 0) {
			cached = 1;
			rc = ruleset_copy(rs, &cache);
		}
		config_free(&scratch);
	}
	ctree_free(&t);
	return (rc);
}

int
config_apply(const struct ctree *t, const char *name, int json,
    struct config *cfg, char *err, size_t errlen)
{
	struct actx	*a;
	char		 d[128];
	int		 rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", name);
		return (-1);
	}
	a->name = name;
	a->json = json;
	a->cfg = cfg;
	a->err = err;
	a->errlen = errlen;
	if (config_base(cfg) == -1) {
		(void)snprintf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	if (t->root != NULL && !is_null(t->root)) {
		if (t->root->type != CN_MAP) {
			(void)aerr(a, t->root, "expected a mapping at the top "
			    "level, found %s", describe(t->root, d, sizeof(d)));
			goto out;
		}
		if (apply_map(a, t->root, config_schema, config_schema_n,
		    (char *)cfg, 0) == -1)
			goto out;
	}
	if (!a->rules_given && config_default_rules(&cfg->rules) == -1) {
		(void)snprintf(err, errlen, "%s: cannot load the built-in "
		    "rules", name);
		goto out;
	}
	rc = 0;
 out:
	if (rc == -1)
		config_free(cfg);
	free(a);
	return (rc);
}
