/*
 * The configuration: golden files under regress/config/ (bad inputs with
 * their one expected message, good inputs with their canonical JSON and
 * warnings, remote bundles), the defaults against CONFIG.md, limits, file
 * checks, the remote overlay and the helpers.
 *
 * Run from the top of the tree (make regress-unit does), or set
 * KOBANG_SRCDIR.  KOBANG_UPDATE_GOLDEN=1 rewrites the expected files from
 * the actual output instead of comparing: review the diff before
 * committing it.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "config.h"
#include "config_priv.h"
#include "jsonw.h"
#include "fixture.h"

static void
spew(const char *path, const char *s, size_t len)
{
	FILE	*f = fopen(path, "wb");

	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fwrite(s, 1, len, f), len);
	fclose(f);
}

static char *
canon(const struct config *cfg)
{
	struct jsonw	 w;
	const char	*js;
	char		*s;

	jsonw_init(&w, 0);
	cr_assert_eq(config_to_json(cfg, &w), 0);
	js = jsonw_result(&w, NULL);
	cr_assert_not_null(js);
	s = strdup(js);
	jsonw_free(&w);
	return (s);
}

static char *
warnings_text(const struct config *cfg)
{
	char	*s = strdup(""), *t;
	size_t	 i;

	for (i = 0; i < cfg->warnings.n; i++) {
		cr_assert(asprintf(&t, "%s%s\n", s, cfg->warnings.v[i]) != -1);
		free(s);
		s = t;
	}
	return (s);
}

/* Compare actual with the expected file, or rewrite it when updating. */
static void
golden(const char *dir, const char *base, const char *ext, const char *actual,
    const char *what)
{
	char	*path, *expect;
	size_t	 bl = strlen(base);

	/* base is "name.yaml" or "name.bundle"; swap the extension. */
	while (bl > 0 && base[bl - 1] != '.')
		bl--;
	cr_assert(asprintf(&path, "%s/%.*s%s", dir, (int)bl, base, ext) != -1);
	if (getenv("KOBANG_UPDATE_GOLDEN") != NULL) {
		if (*actual != '\0' || strcmp(ext, "warn") != 0)
			spew(path, actual, strlen(actual));
		else
			(void)unlink(path);
		free(path);
		return;
	}
	expect = slurp(path, NULL);
	if (expect == NULL && strcmp(ext, "warn") == 0)
		expect = strdup("");
	cr_expect_not_null(expect, "%s: no expected file %s", base, path);
	if (expect != NULL)
		cr_expect_str_eq(actual, expect, "%s: %s differs from %s",
		    base, what, path);
	free(expect);
	free(path);
}

static char *
with_newline(const char *s)
{
	char	*t;

	cr_assert(asprintf(&t, "%s\n", s) != -1);
	return (t);
}

Test(config_golden, bad_yaml)
{
	struct config	  cfg;
	char		 *dir = srcpath("regress/config/bad"), **names, *path;
	char		 *buf, err[1024], *msg;
	size_t		  n, i, len;

	names = list_dir(dir, ".yaml", 0, &n);
	cr_assert_gt(n, 40, "only %zu bad inputs", n);
	for (i = 0; i < n; i++) {
		cr_assert(asprintf(&path, "%s/%s", dir, names[i]) != -1);
		buf = slurp(path, &len);
		cr_assert_not_null(buf);
		memset(err, 0, sizeof(err));
		cr_expect_eq(config_load_buffer(names[i], buf, len, &cfg, err,
		    sizeof(err)), -1, "%s was accepted", names[i]);
		msg = with_newline(err);
		golden(dir, names[i], "err", msg, "message");
		free(msg);
		free(buf);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
}

/* Whitespace after every ',' and ':' outside strings, as a person would. */
static char *
pretty(const char *js)
{
	char	*o = malloc(strlen(js) * 3 + 2);
	size_t	 k = 0;
	int	 instr = 0, esc = 0;

	for (; *js != '\0'; js++) {
		o[k++] = *js;
		if (instr) {
			if (esc)
				esc = 0;
			else if (*js == '\\')
				esc = 1;
			else if (*js == '"')
				instr = 0;
			continue;
		}
		if (*js == '"')
			instr = 1;
		else if (*js == ',')
			o[k++] = '\n';
		else if (*js == ':' || *js == '{' || *js == '[')
			o[k++] = ' ';
	}
	o[k++] = '\n';
	o[k] = '\0';
	return (o);
}

/* The round trip YAML -> canonical JSON -> decode -> canonical JSON. */
static void
round_trip(const char *name, const char *js)
{
	struct config	 cfg;
	char		 err[1024], *again, *p;

	cr_expect_eq(config_from_json(name, js, strlen(js), &cfg, err,
	    sizeof(err)), 0, "%s: canonical JSON refused: %s", name, err);
	again = canon(&cfg);
	cr_expect_str_eq(again, js, "%s: round trip differs", name);
	cr_expect_eq(cfg.warnings.n, 0, "%s: warnings on canonical JSON",
	    name);
	config_free(&cfg);
	free(again);

	/* The same document with insignificant whitespace. */
	p = pretty(js);
	cr_expect_eq(config_from_json(name, p, strlen(p), &cfg, err,
	    sizeof(err)), 0, "%s: pretty JSON refused: %s", name, err);
	again = canon(&cfg);
	cr_expect_str_eq(again, js, "%s: pretty round trip differs", name);
	config_free(&cfg);
	free(again);
	free(p);
}

Test(config_golden, good_yaml)
{
	struct config	  cfg;
	char		 *dir = srcpath("regress/config/good"), **names, *path;
	char		 *buf, err[1024], *js, *w;
	size_t		  n, i, len;

	names = list_dir(dir, ".yaml", 0, &n);
	cr_assert_gt(n, 10);
	for (i = 0; i < n; i++) {
		cr_assert(asprintf(&path, "%s/%s", dir, names[i]) != -1);
		buf = slurp(path, &len);
		cr_assert_not_null(buf);
		if (config_load_buffer(names[i], buf, len, &cfg, err,
		    sizeof(err)) == -1) {
			cr_expect_fail("%s refused: %s", names[i], err);
			continue;
		}
		js = canon(&cfg);
		w = with_newline(js);
		golden(dir, names[i], "json", w, "canonical JSON");
		free(w);
		w = warnings_text(&cfg);
		golden(dir, names[i], "warn", w, "warnings");
		free(w);
		round_trip(names[i], js);
		free(js);
		config_free(&cfg);
		free(buf);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
}

Test(config_golden, remote_bundles)
{
	struct config	  cfg;
	char		 *dir = srcpath("regress/config/remote"), **names;
	char		 *path, *buf, err[1024], *js, *w;
	size_t		  n, i, len;

	names = list_dir(dir, ".bundle", 0, &n);
	cr_assert_gt(n, 3);
	for (i = 0; i < n; i++) {
		cr_assert(asprintf(&path, "%s/%s", dir, names[i]) != -1);
		buf = slurp(path, &len);
		cr_assert_not_null(buf);
		if (config_from_json(names[i], buf, len, &cfg, err,
		    sizeof(err)) == -1) {
			cr_expect_fail("%s refused: %s", names[i], err);
			continue;
		}
		js = canon(&cfg);
		w = with_newline(js);
		golden(dir, names[i], "json", w, "canonical JSON");
		free(w);
		w = warnings_text(&cfg);
		golden(dir, names[i], "warn", w, "warnings");
		free(w);
		round_trip(names[i], js);
		free(js);
		config_free(&cfg);
		free(buf);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
}

Test(config_golden, remote_bad)
{
	struct config	  cfg;
	char		 *dir = srcpath("regress/config/remote-bad"), **names;
	char		 *path, *buf, err[1024], *msg;
	size_t		  n, i, len;

	names = list_dir(dir, ".bundle", 0, &n);
	cr_assert_gt(n, 20);
	for (i = 0; i < n; i++) {
		cr_assert(asprintf(&path, "%s/%s", dir, names[i]) != -1);
		buf = slurp(path, &len);
		cr_assert_not_null(buf);
		memset(err, 0, sizeof(err));
		cr_expect_eq(config_from_json(names[i], buf, len, &cfg, err,
		    sizeof(err)), -1, "%s was accepted", names[i]);
		msg = with_newline(err);
		golden(dir, names[i], "err", msg, "message");
		free(msg);
		free(buf);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
}

/* No expected file without its input: stale goldens would hide nothing. */
Test(config_golden, no_orphans)
{
	static const struct {
		const char	*dir, *in, *out;
	} sets[] = {
		{ "regress/config/bad", ".yaml", ".err" },
		{ "regress/config/good", ".yaml", ".json" },
		{ "regress/config/good", ".yaml", ".warn" },
		{ "regress/config/remote", ".bundle", ".json" },
		{ "regress/config/remote", ".bundle", ".warn" },
		{ "regress/config/remote-bad", ".bundle", ".err" },
	};
	struct stat	 st;
	char		*dir, **names, *in;
	size_t		 s, n, i, l;

	for (s = 0; s < nitems(sets); s++) {
		dir = srcpath(sets[s].dir);
		names = list_dir(dir, sets[s].out, 0, &n);
		for (i = 0; i < n; i++) {
			l = strlen(names[i]) - strlen(sets[s].out);
			cr_assert(asprintf(&in, "%s/%.*s%s", dir, (int)l,
			    names[i], sets[s].in) != -1);
			cr_expect_eq(stat(in, &st), 0, "%s/%s has no input",
			    dir, names[i]);
			free(in);
			free(names[i]);
		}
		free(names);
		free(dir);
	}
}

/*
 * Defaults.
 */

Test(config_defaults, embedded_bytes_are_etc_file)
{
	char	*path = srcpath("etc/kobangd.yaml"), *buf;
	size_t	 len;

	buf = slurp(path, &len);
	cr_assert_not_null(buf);
	cr_expect_eq(len, kobang_default_yaml_len);
	cr_expect(memcmp(buf, kobang_default_yaml, len) == 0,
	    "build/gen/default_config.c is stale");
	free(buf);
	free(path);
}

Test(config_defaults, etc_file_equals_builtin)
{
	struct config	 file, builtin;
	char		*path = srcpath("etc/kobangd.yaml"), err[1024];
	char		*a, *b;

	cr_assert_eq(config_load_file(path, 0, &file, err, sizeof(err)), 0,
	    "%s", err);
	config_default(&builtin);
	a = canon(&file);
	b = canon(&builtin);
	cr_expect_str_eq(a, b);
	cr_expect_eq(file.warnings.n, 0, "etc/kobangd.yaml has warnings: %s",
	    file.warnings.n ? file.warnings.v[0] : "");
	/* The kobangd section is not in the bundle; compare it here. */
	cr_expect_null(file.kobangd.users);
	cr_expect_str_eq(file.kobangd.state_directory, "/var/lib/koban");
	cr_expect_str_eq(file.kobangd.control_socket, "/run/kobangd.sock");
	cr_expect_null(file.kobangd.control_group);
	cr_expect_str_eq(file.kobangd.user, "_kobang");
	cr_expect_null(file.kobangd.fleet_ca_file);
	cr_expect_null(file.kobangd.enrollment_token_file);
	config_free(&file);
	config_free(&builtin);
	free(a);
	free(b);
	free(path);
}

static void
expect_list(const struct strlist *l, const char *const *want, size_t n,
    const char *what)
{
	size_t	i;

	cr_assert_not_null(l, "%s is null", what);
	cr_expect_eq(l->n, n, "%s has %zu items, want %zu", what, l->n, n);
	for (i = 0; i < n && i < l->n; i++)
		cr_expect_str_eq(l->v[i], want[i], "%s[%zu]", what, i);
}

/* The C per-key defaults applied to an empty file: CONFIG.md 2, by hand. */
Test(config_defaults, empty_file_is_config_md)
{
	static const char *const roots[] = { "~/src", "~/Code", "~/Developer",
	    "~/Projects" };
	static const char *const excl[] = { ".git", "node_modules", ".venv",
	    "venv", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache",
	    "dist", "build", ".next", ".turbo", ".cache" };
	static const char *const names[] = { "AGENTS.md", "CLAUDE.md",
	    "CLAUDE.local.md", ".mcp.json", ".cursorrules", "opencode.json",
	    "opencode.jsonc", "package-lock.json", "npm-shrinkwrap.json",
	    "pnpm-lock.yaml", "yarn.lock", "bun.lock", "uv.lock",
	    "pyproject.toml", "pylock.toml" };
	static const char *const globs[] = { "requirements*.txt",
	    "constraints*.txt", "*.rules", "*.mdc" };
	static const char *const prune[] = { ".git", "node_modules", ".venv",
	    "venv", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache",
	    "dist", "build", ".next", ".turbo", ".cache", "Library",
	    "Applications", "Movies", "Music", "Pictures", "Public", "Desktop",
	    "Documents", "Downloads" };
	static const char *const locks[] = { "package-lock.json",
	    "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock" };
	static const char *const reqs[] = { "requirements*.txt",
	    "constraints*.txt" };
	struct config	 c;
	char		 err[256];

	cr_assert_eq(config_load_buffer("empty", "", 0, &c, err, sizeof(err)),
	    0, "%s", err);
	cr_expect_eq(c.watch.debounce_milliseconds, 800);
	cr_expect_eq(c.watch.poll_interval_seconds, 300);
	cr_expect_eq(c.watch.max_scan_wall_clock_seconds, 30);
	cr_expect_eq(c.watch.max_fresh_scan_age_seconds, 900);
	expect_list(&c.watch.project_roots, roots, nitems(roots),
	    "projectRoots");
	cr_expect_eq(c.watch.max_depth, 5);
	expect_list(&c.watch.exclude_directories, excl, nitems(excl),
	    "excludeDirectories");
	cr_expect_eq(c.watch.home_signal_scan.enabled, 0);
	cr_expect_str_eq(c.watch.home_signal_scan.root, "~");
	cr_expect_eq(c.watch.home_signal_scan.max_depth, 8);
	cr_expect_eq(c.watch.home_signal_scan.follow_symlinks, 0);
	cr_expect_eq(c.watch.home_signal_scan.event_path_filtering, 1);
	cr_expect_eq(c.watch.home_signal_scan.initial_scan_budget.
	    max_directories_visited, 50000);
	cr_expect_eq(c.watch.home_signal_scan.initial_scan_budget.
	    max_files_visited, 250000);
	cr_expect_eq(c.watch.home_signal_scan.initial_scan_budget.
	    max_wall_clock_seconds, 60);
	expect_list(&c.watch.home_signal_scan.signal_file_names, names,
	    nitems(names), "signalFileNames");
	expect_list(&c.watch.home_signal_scan.signal_file_globs, globs,
	    nitems(globs), "signalFileGlobs");
	expect_list(&c.watch.home_signal_scan.prune_directory_names, prune,
	    nitems(prune), "pruneDirectoryNames");

	cr_expect_eq(c.persistence.max_stored_events, 5000);
	cr_expect_eq(c.persistence.max_stored_findings, 1000);

	cr_expect_eq(c.sync.enabled, 0);
	cr_expect_str_eq(c.sync.protocol, "kobanSensorV1");
	cr_expect_null(c.sync.endpoint);
	cr_expect_null(c.sync.enrollment_token);
	cr_expect_null(c.sync.sensor_token);
	cr_expect_null(c.sync.tenant_id);
	cr_expect_null(c.sync.device_id);
	cr_expect_eq(c.sync.max_batch_bytes, 524288);
	cr_expect_eq(c.sync.max_batch_events, 500);
	cr_expect_eq(c.sync.check_in_interval_seconds, 60);
	cr_expect_eq(c.sync.retry_base_seconds, 15);
	cr_expect_eq(c.sync.retry_max_seconds, 1800);
	cr_expect_eq(c.sync.outbox_max_bytes, 262144000);

	cr_expect_eq(c.homebrew.enabled, 1);
	cr_expect_null(c.homebrew.prefixes);

	cr_expect_eq(c.claude.enabled, 1);
	cr_expect_null(c.claude.config_path);
	cr_expect_null(c.claude.project_roots);
	cr_expect(c.claude.include_project_mcp && c.claude.include_settings &&
	    c.claude.include_agents && c.claude.include_commands &&
	    c.claude.include_hooks && c.claude.include_skills &&
	    c.claude.include_plugins && c.claude.include_instructions);
	cr_expect_eq(c.claude.include_managed_settings, 0);

	cr_expect_eq(c.codex.enabled, 1);
	cr_expect_null(c.codex.user_config_path);
	cr_expect_null(c.codex.profile_config_glob);
	cr_expect_null(c.codex.project_roots);
	cr_expect_eq(c.codex.include_system_config, 0);
	cr_expect(c.codex.include_skills && c.codex.include_hooks &&
	    c.codex.include_rules);

	cr_expect_eq(c.pi.enabled, 1);
	cr_expect_null(c.pi.agent_directory);
	cr_expect(c.pi.include_shared_global_mcp &&
	    c.pi.include_shared_project_mcp &&
	    c.pi.include_pi_global_override &&
	    c.pi.include_pi_project_override && c.pi.include_packages &&
	    c.pi.include_imports);

	cr_expect_eq(c.cursor.enabled, 1);
	cr_expect_null(c.cursor.global_mcp_path);
	cr_expect(c.cursor.include_global_mcp && c.cursor.include_project_mcp &&
	    c.cursor.include_rules && c.cursor.include_legacy_rules &&
	    c.cursor.include_instructions);

	cr_expect_eq(c.opencode.enabled, 1);
	cr_expect_null(c.opencode.user_config_directory);
	cr_expect_null(c.opencode.project_roots);
	cr_expect(c.opencode.include_global && c.opencode.include_project &&
	    c.opencode.include_mcp && c.opencode.include_agents &&
	    c.opencode.include_commands && c.opencode.include_plugins &&
	    c.opencode.include_instructions);
	cr_expect_eq(c.opencode.include_managed_preferences, 0);

	cr_expect_eq(c.javascript.enabled, 1);
	cr_expect_null(c.javascript.project_roots);
	cr_expect_eq(c.javascript.max_depth_set, 0);
	cr_expect(c.javascript.include_npm && c.javascript.include_pnpm &&
	    c.javascript.include_yarn && c.javascript.include_bun);
	cr_expect_null(c.javascript.exclude_directories);
	expect_list(&c.javascript.lockfile_names, locks, nitems(locks),
	    "lockfileNames");

	cr_expect_eq(c.python.enabled, 1);
	cr_expect_null(c.python.project_roots);
	cr_expect_eq(c.python.max_depth_set, 0);
	cr_expect(c.python.include_uv && c.python.include_py_project &&
	    c.python.include_requirements && c.python.include_pylock);
	cr_expect_null(c.python.exclude_directories);
	expect_list(&c.python.requirement_file_globs, reqs, nitems(reqs),
	    "requirementFileGlobs");

	cr_expect_eq(c.rules.n, 64);
	cr_expect_eq(c.warnings.n, 0);
	config_free(&c);
}

/* CONFIG.md 5.3, row by row. */
#define A	RULE_TRIGGER(TRIGGER_ADDED)
#define AM	(RULE_TRIGGER(TRIGGER_ADDED) | RULE_TRIGGER(TRIGGER_MODIFIED))

static const char *const v_runner[] = { "npx", "uvx", "bunx", "pnpm dlx",
    NULL };
static const char *const v_susp[] = { "curl", "wget", "| sh", "| bash",
    "bash -c", "sh -c", "eval", "base64", NULL };
static const char *const v_schemes[] = { "http", "https", "ws", "wss",
    NULL };
static const char *const v_helper[] = { "headersHelper", NULL };
static const char *const v_server[] = { "mcpServer", NULL };
static const char *const v_hook[] = { "hook", NULL };
static const char *const v_skill[] = { "skill", NULL };
static const char *const v_plugin[] = { "plugin", NULL };
static const char *const v_command[] = { "command", NULL };
static const char *const v_rule[] = { "rule", NULL };
static const char *const v_instr[] = { "instruction", NULL };
static const char *const v_settings[] = { "settings", NULL };
static const char *const v_package[] = { "package", NULL };
static const char *const v_python[] = { "pythonDeclaredRequirement",
    "pythonResolvedPackage", "pythonConstraint", NULL };
static const char *const v_taps[] = { "homebrew/core", "homebrew/cask",
    NULL };

struct want_rule {
	const char		*id;
	enum surface		 surface;
	unsigned int		 triggers;
	enum match_kind		 match;
	int			 field;	/* or flag */
	const char *const	*values;
	enum severity		 sev;
};

#define CL	SURFACE_CLAUDE
#define CO	SURFACE_CODEX
#define PI	SURFACE_PI
#define CU	SURFACE_CURSOR
#define OC	SURFACE_OPENCODE
#define CA	MATCH_FIELD_CONTAINS_ANY
#define N	SEVERITY_NOTABLE
#define S	SEVERITY_SUSPICIOUS
#define I	SEVERITY_INFO
#define NS	"agent.mcp.new-server"
#define ER	"agent.config.ephemeral-runner"
#define SC	"agent.config.suspicious-command"
#define RT	"agent.config.remote-transport"
#define DH	"agent.mcp.dynamic-auth-helper"
#define NH	"agent.config.new-hook"
#define NK	"agent.config.new-skill"
#define NP	"agent.config.new-plugin"
#define NC	"agent.config.new-command"
#define NR	"agent.config.new-rule"
#define NI	"agent.config.new-instruction"
#define NT	"agent.config.new-settings"
#define FK	FIELD_KIND
#define FD	FIELD_DETAIL

static const struct want_rule want_rules[64] = {
	{ NS, CL, A, CA, FK, v_server, N }, { NS, CO, A, CA, FK, v_server, N },
	{ NS, PI, A, CA, FK, v_server, N }, { NS, CU, A, CA, FK, v_server, N },
	{ NS, OC, A, CA, FK, v_server, N },
	{ ER, CL, AM, CA, FD, v_runner, N }, { ER, CO, AM, CA, FD, v_runner, N },
	{ ER, PI, AM, CA, FD, v_runner, N }, { ER, CU, AM, CA, FD, v_runner, N },
	{ ER, OC, AM, CA, FD, v_runner, N },
	{ SC, CL, AM, CA, FD, v_susp, S }, { SC, CO, AM, CA, FD, v_susp, S },
	{ SC, PI, AM, CA, FD, v_susp, S }, { SC, CU, AM, CA, FD, v_susp, S },
	{ SC, OC, AM, CA, FD, v_susp, S },
	{ RT, CL, AM, MATCH_FIELD_HAS_URL_SCHEME, FD, v_schemes, N },
	{ RT, CO, AM, MATCH_FIELD_HAS_URL_SCHEME, FD, v_schemes, N },
	{ RT, PI, AM, MATCH_FIELD_HAS_URL_SCHEME, FD, v_schemes, N },
	{ RT, CU, AM, MATCH_FIELD_HAS_URL_SCHEME, FD, v_schemes, N },
	{ RT, OC, AM, MATCH_FIELD_HAS_URL_SCHEME, FD, v_schemes, N },
	{ DH, CL, AM, CA, FD, v_helper, N }, { DH, CO, AM, CA, FD, v_helper, N },
	{ DH, PI, AM, CA, FD, v_helper, N }, { DH, CU, AM, CA, FD, v_helper, N },
	{ DH, OC, AM, CA, FD, v_helper, N },
	{ NH, CL, A, CA, FK, v_hook, N }, { NK, CO, A, CA, FK, v_skill, N },
	{ NP, OC, A, CA, FK, v_plugin, N }, { NC, OC, A, CA, FK, v_command, N },
	{ NR, CU, A, CA, FK, v_rule, N }, { NI, CU, A, CA, FK, v_instr, N },
	{ NT, PI, A, CA, FK, v_settings, N },
	{ NH, CO, A, CA, FK, v_hook, N }, { NH, PI, A, CA, FK, v_hook, N },
	{ NH, CU, A, CA, FK, v_hook, N }, { NH, OC, A, CA, FK, v_hook, N },
	{ NK, CL, A, CA, FK, v_skill, N }, { NK, PI, A, CA, FK, v_skill, N },
	{ NK, CU, A, CA, FK, v_skill, N }, { NK, OC, A, CA, FK, v_skill, N },
	{ NP, CL, A, CA, FK, v_plugin, N }, { NP, CO, A, CA, FK, v_plugin, N },
	{ NP, PI, A, CA, FK, v_plugin, N }, { NP, CU, A, CA, FK, v_plugin, N },
	{ NC, CL, A, CA, FK, v_command, N }, { NC, CO, A, CA, FK, v_command, N },
	{ NC, PI, A, CA, FK, v_command, N }, { NC, CU, A, CA, FK, v_command, N },
	{ NR, CL, A, CA, FK, v_rule, N }, { NR, CO, A, CA, FK, v_rule, N },
	{ NR, PI, A, CA, FK, v_rule, N }, { NR, OC, A, CA, FK, v_rule, N },
	{ NI, CL, A, CA, FK, v_instr, N }, { NI, CO, A, CA, FK, v_instr, N },
	{ NI, PI, A, CA, FK, v_instr, N }, { NI, OC, A, CA, FK, v_instr, N },
	{ NT, CL, A, CA, FK, v_settings, N }, { NT, CO, A, CA, FK, v_settings, N },
	{ NT, CU, A, CA, FK, v_settings, N }, { NT, OC, A, CA, FK, v_settings, N },
	{ "packages.new-javascript-package", SURFACE_JAVASCRIPT, A, CA, FK,
	    v_package, I },
	{ "packages.new-python-package", SURFACE_PYTHON, A, CA, FK, v_python,
	    I },
	{ "homebrew.untrusted-tap", SURFACE_HOMEBREW, AM,
	    MATCH_FIELD_NOT_IN_LIST, FIELD_ORIGIN, v_taps, N },
	{ "homebrew.unrequested-install", SURFACE_HOMEBREW, A,
	    MATCH_FLAG_EQUALS, FLAG_INSTALLED_ON_REQUEST, NULL, I },
};

Test(config_defaults, default_rules_are_config_md_5_3)
{
	struct config		 c;
	const struct rule	*r;
	const struct want_rule	*w;
	const struct strlist	*l;
	size_t			 i, j;

	config_default(&c);
	cr_assert_eq(c.rules.n, 64);
	for (i = 0; i < 64; i++) {
		r = &c.rules.v[i];
		w = &want_rules[i];
		cr_expect_str_eq(r->id, w->id, "rule %zu", i + 1);
		cr_expect_eq(r->surface, w->surface, "rule %zu surface", i + 1);
		cr_expect_eq(r->enabled, 1, "rule %zu enabled", i + 1);
		cr_expect_eq(r->triggers, w->triggers, "rule %zu triggers",
		    i + 1);
		cr_expect_eq(r->match, w->match, "rule %zu match", i + 1);
		cr_expect_eq(r->severity, w->sev, "rule %zu severity", i + 1);
		cr_expect(strlen(r->title) > 0 && strlen(r->rationale) > 0);
		if (w->match == MATCH_FLAG_EQUALS) {
			cr_expect_eq((int)r->flag, w->field);
			cr_expect_eq(r->expected, 0);
			continue;
		}
		cr_expect_eq((int)r->field, w->field, "rule %zu field", i + 1);
		l = w->match == CA ? &r->values :
		    w->match == MATCH_FIELD_NOT_IN_LIST ? &r->allowed :
		    &r->schemes;
		for (j = 0; w->values[j] != NULL; j++)
			;
		cr_expect_eq(l->n, j, "rule %zu: %zu values", i + 1, l->n);
		for (j = 0; j < l->n && w->values[j] != NULL; j++)
			cr_expect_str_eq(l->v[j], w->values[j],
			    "rule %zu value %zu", i + 1, j);
	}
	config_free(&c);
}

Test(config_defaults, rules_absent_null_empty)
{
	struct config	c;
	char		err[256];

	cr_assert_eq(config_load_buffer("t", "rules: ~\n", 9, &c, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.rules.n, 64);
	config_free(&c);
	cr_assert_eq(config_load_buffer("t", "rules: []\n", 10, &c, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.rules.n, 0);
	config_free(&c);
	cr_assert_eq(config_from_json("t", "{\"rules\":null}", 14, &c, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.rules.n, 64);
	config_free(&c);
}

/* Each load gets its own copy of the default rules. */
Test(config_defaults, default_rules_are_copies)
{
	struct config	a, b;
	char		err[256];

	cr_assert_eq(config_load_buffer("a", "", 0, &a, err, sizeof(err)), 0);
	free(a.rules.v[0].title);
	a.rules.v[0].title = strdup("changed");
	strlist_free(&a.rules.v[10].values);
	cr_assert_eq(config_load_buffer("b", "", 0, &b, err, sizeof(err)), 0);
	cr_expect_str_eq(b.rules.v[0].title, "New MCP server configured");
	cr_expect_eq(b.rules.v[10].values.n, 8);
	config_free(&a);
	cr_expect_str_eq(b.rules.v[63].id, "homebrew.unrequested-install");
	config_free(&b);
}

/*
 * Limits.
 */

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Comment lines up to exactly len bytes. */
static char *
padded(size_t len)
{
	char	*b = malloc(len + 1);
	size_t	 i;

	for (i = 0; i < len; i++)
		b[i] = (i % 64 == 0) ? '#' : (i % 64 == 63) ? '\n' : 'x';
	b[len] = '\0';
	return (b);
}

Test(config_limits, two_megabytes)
{
	struct config	 c;
	char		*b, err[512], tmpl[] = "/tmp/test_config.XXXXXX";
	int		 fd;

	b = padded(2 * 1024 * 1024);
	cr_expect_eq(config_load_buffer("big.yaml", b, strlen(b), &c, err,
	    sizeof(err)), -1);
	cr_expect_str_eq(err, "big.yaml: larger than 1000000 bytes");

	cr_assert((fd = mkstemp(tmpl)) != -1);
	cr_assert_eq(write(fd, b, strlen(b)), (ssize_t)strlen(b));
	close(fd);
	cr_expect_eq(config_load_file(tmpl, 0, &c, err, sizeof(err)), -1);
	cr_expect(strstr(err, ": larger than 1000000 bytes") != NULL, "%s",
	    err);
	unlink(tmpl);
	free(b);

	/* The limit itself is allowed. */
	b = padded(CONFIG_MAX_FILE);
	cr_expect_eq(config_load_buffer("max.yaml", b, CONFIG_MAX_FILE, &c,
	    err, sizeof(err)), 0, "%s", err);
	config_free(&c);
	free(b);
}

Test(config_limits, deep_flow_nesting_is_fast)
{
	struct config	 c;
	char		*b, err[512];
	size_t		 n = 400000;
	double		 t0;

	/* libyaml alone needs hours for this; we stop at level 65. */
	b = malloc(2 * n + 8);
	memcpy(b, "x: ", 3);
	memset(b + 3, '[', n);
	memset(b + 3 + n, ']', n);
	t0 = now();
	cr_expect_eq(config_load_buffer("deep.yaml", b, 3 + 2 * n, &c, err,
	    sizeof(err)), -1);
	cr_expect_lt(now() - t0, 2.0);
	cr_expect_str_eq(err, "deep.yaml:1:67: nested deeper than 64 levels");
	free(b);
}

Test(config_limits, billion_laughs_is_fast)
{
	struct config	 c;
	char		*path = srcpath("regress/config/bad/billion-laughs.yaml");
	char		*b, err[512];
	size_t		 len;
	double		 t0;

	b = slurp(path, &len);
	cr_assert_not_null(b);
	t0 = now();
	cr_expect_eq(config_load_buffer("bomb", b, len, &c, err,
	    sizeof(err)), -1);
	cr_expect_lt(now() - t0, 0.5);
	cr_expect(strstr(err, "aliases expand to more than 10000 nodes") !=
	    NULL, "%s", err);
	free(b);
	free(path);
}

Test(config_limits, node_count)
{
	struct config	 c;
	char		*b, err[512];
	size_t		 i, len = 0;

	/* 300000 one-character items under an unknown key. */
	b = malloc(700000);
	len += (size_t)sprintf(b, "x: [");
	for (i = 0; i < 300000; i++)
		len += (size_t)sprintf(b + len, "%sa", i ? "," : "");
	len += (size_t)sprintf(b + len, "]\n");
	cr_expect_eq(config_load_buffer("many.yaml", b, len, &c, err,
	    sizeof(err)), -1);
	cr_expect(strstr(err, "more than 250000 nodes") != NULL, "%s", err);
	free(b);
}

Test(config_limits, json_size)
{
	struct config	 c;
	char		*b, err[512];
	size_t		 n = CONFIG_MAX_JSON + 1;

	b = malloc(n);
	memset(b, ' ', n);
	b[0] = '{';
	b[n - 1] = '}';
	cr_expect_eq(config_from_json("big", b, n, &c, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "big: larger than 4194304 bytes");
	free(b);
}

Test(config_limits, warnings_are_capped)
{
	struct config	 c;
	char		 buf[4096], err[256];
	size_t		 len = 0;
	int		 i;

	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "k%d: 1\n", i);
	cr_assert_eq(config_load_buffer("w", buf, len, &c, err, sizeof(err)),
	    0, "%s", err);
	cr_expect_eq(c.warnings.n, CONFIG_MAX_WARNINGS);
	cr_expect_eq(c.warnings.dropped, 100 - CONFIG_MAX_WARNINGS);
	cr_expect_str_eq(c.warnings.v[0], "w:1:1: k0: unknown key ignored");
	config_free(&c);
}

/*
 * The file: type, size, mode, owner.
 */

Test(config_file, modes_and_types)
{
	struct config	 c;
	char		 err[512], dir[] = "/tmp/test_config.XXXXXX", *f, *want;
	int		 fd;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert(asprintf(&f, "%s/kobangd.yaml", dir) != -1);
	cr_assert((fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0600)) != -1);
	cr_assert_eq(write(fd, "watch: {maxDepth: 2}\n", 21), 21);
	close(fd);

	cr_assert_eq(chmod(f, 0644), 0);
	cr_expect_eq(config_load_file(f, CONFIG_F_PERMS, &c, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.watch.max_depth, 2);
	config_free(&c);
	cr_expect_eq(config_check_file(f, 0), 0);

	cr_assert_eq(chmod(f, 0664), 0);
	cr_expect_eq(config_load_file(f, CONFIG_F_PERMS, &c, err,
	    sizeof(err)), -1);
	cr_assert(asprintf(&want, "%s: writable by group or others (mode "
	    "0664), refusing it", f) != -1);
	cr_expect_str_eq(err, want);
	free(want);
	cr_expect_eq(config_check_file(f, 0), 1);
	/* kobanctl's offline check does not look at the mode. */
	cr_expect_eq(config_load_file(f, 0, &c, err, sizeof(err)), 0, "%s",
	    err);
	config_free(&c);

	cr_assert_eq(chmod(f, 0602), 0);
	cr_expect_eq(config_load_file(f, CONFIG_F_PERMS, &c, err,
	    sizeof(err)), -1);
	cr_expect(strstr(err, "(mode 0602)") != NULL, "%s", err);

	cr_assert_eq(chmod(f, 0644), 0);
	if (geteuid() == 0) {
		cr_assert_eq(chown(f, 12345, 12345), 0);
		cr_expect_eq(config_load_file(f, CONFIG_F_PERMS, &c, err,
		    sizeof(err)), -1);
		cr_expect(strstr(err, "owned by uid 12345") != NULL, "%s",
		    err);
	}

	cr_expect_eq(config_load_file(dir, 0, &c, err, sizeof(err)), -1);
	cr_assert(asprintf(&want, "%s: not a regular file", dir) != -1);
	cr_expect_str_eq(err, want);
	free(want);

	unlink(f);
	cr_expect_eq(config_load_file(f, 0, &c, err, sizeof(err)), -1);
	cr_assert(asprintf(&want, "%s: No such file or directory", f) != -1);
	cr_expect_str_eq(err, want);
	free(want);
	cr_expect_eq(config_check_file(f, 0), 1);
	rmdir(dir);
	free(f);

	cr_expect_eq(config_load_file("/dev/zero", 0, &c, err, sizeof(err)),
	    -1);
	cr_expect_str_eq(err, "/dev/zero: not a regular file");
}

/*
 * The model and its helpers.
 */

Test(config_model, kobangd_section)
{
	struct config	 c;
	char		*path = srcpath("regress/config/good/every-key.yaml");
	char		 err[512];

	cr_assert_eq(config_load_file(path, 0, &c, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_not_null(c.kobangd.users);
	cr_expect_eq(c.kobangd.users->n, 2);
	cr_expect_str_eq(c.kobangd.users->v[0], "alice");
	cr_expect_str_eq(c.kobangd.users->v[1], "bob");
	cr_expect_str_eq(c.kobangd.state_directory, "/var/db/koban");
	cr_expect_str_eq(c.kobangd.control_socket, "/var/run/kobangd.sock");
	cr_expect_str_eq(c.kobangd.control_group, "wheel");
	cr_expect_str_eq(c.kobangd.user, "_koban");
	cr_expect_str_eq(c.kobangd.fleet_ca_file, "/etc/koban/fleet-ca.pem");
	cr_expect_str_eq(c.kobangd.enrollment_token_file,
	    "/etc/koban/enroll.token");
	cr_expect_str_eq(c.sync.enrollment_token, "enroll-abc123");
	config_free(&c);
	free(path);
}

Test(config_model, json_ignores_kobangd_section)
{
	struct config	 c;
	const char	*js = "{\"kobangd\":{\"user\":\"root\","
	    "\"stateDirectory\":\"/tmp\"},\"rules\":[]}";
	char		 err[512];

	cr_assert_eq(config_from_json("remote", js, strlen(js), &c, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.kobangd.user, "_kobang");
	cr_expect_str_eq(c.kobangd.state_directory, "/var/lib/koban");
	cr_assert_eq(c.warnings.n, 1);
	cr_expect_str_eq(c.warnings.v[0], "remote:1:2: kobangd: not taken "
	    "from a remote configuration");
	config_free(&c);
}

Test(config_model, expand_home)
{
	static const struct {
		const char	*path, *home, *want;
	} t[] = {
		{ "~", "/home/alice", "/home/alice" },
		{ "~/", "/home/alice", "/home/alice" },
		{ "~/src", "/home/alice", "/home/alice/src" },
		{ "~/src", "/home/alice/", "/home/alice/src" },
		{ "~/a/b/", "/Users/bob", "/Users/bob/a/b/" },
		{ "~/src", "/", "/src" },
		{ "~", "/", "/" },
		{ "~alice/src", "/home/bob", "~alice/src" },
		{ "/etc/koban", "/home/bob", "/etc/koban" },
		{ "src/~", "/home/bob", "src/~" },
		{ "", "/home/bob", "" },
	};
	char	buf[PATH_MAX], small[8];
	size_t	i;

	for (i = 0; i < nitems(t); i++) {
		cr_expect_eq(config_expand_home(t[i].path, t[i].home, buf,
		    sizeof(buf)), 0, "%s", t[i].path);
		cr_expect_str_eq(buf, t[i].want, "%s in %s", t[i].path,
		    t[i].home);
	}
	cr_expect_eq(config_expand_home("~/src", "/home/alice", small,
	    sizeof(small)), -1);
	cr_expect_eq(config_expand_home("/very/long/path", "/", small,
	    sizeof(small)), -1);
	cr_expect_eq(config_expand_home("~", "/home/alice", small,
	    sizeof(small)), -1);
	cr_expect_eq(config_expand_home("~", "/home/a", small,
	    sizeof(small)), 0);
	cr_expect_str_eq(small, "/home/a");
}

Test(config_model, effective_roots_and_depth)
{
	struct config		 c;
	const char		*y = "watch: {projectRoots: [/w], maxDepth: 4}\n"
	    "claude: {projectRoots: [/c]}\n"
	    "javascript: {maxDepth: 2}\n";
	char			 err[256];

	cr_assert_eq(config_load_buffer("t", y, strlen(y), &c, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(config_project_roots(&c, SURFACE_CLAUDE)->v[0], "/c");
	cr_expect_str_eq(config_project_roots(&c, SURFACE_PI)->v[0], "/w");
	cr_expect_str_eq(config_project_roots(&c, SURFACE_CURSOR)->v[0], "/w");
	cr_expect_str_eq(config_project_roots(&c, SURFACE_OPENCODE)->v[0],
	    "/w");
	cr_expect_str_eq(config_project_roots(&c, SURFACE_JAVASCRIPT)->v[0],
	    "/w");
	cr_expect_str_eq(config_project_roots(&c, SURFACE_PYTHON)->v[0], "/w");
	/* Codex has no fallback (CONFIG.md 2.6), Homebrew no roots. */
	cr_expect_eq(config_project_roots(&c, SURFACE_CODEX)->n, 0);
	cr_expect_eq(config_project_roots(&c, SURFACE_HOMEBREW)->n, 0);
	cr_expect_eq(config_max_depth(&c, SURFACE_JAVASCRIPT), 2);
	cr_expect_eq(config_max_depth(&c, SURFACE_PYTHON), 4);
	cr_expect_eq(config_max_depth(&c, SURFACE_CLAUDE), 4);
	config_free(&c);
}

Test(config_model, remote_overlay)
{
	struct config	 local, remote;
	const char	*y = "persistence: {maxStoredEvents: 7, "
	    "maxStoredFindings: 8}\n"
	    "sync: {enabled: true, endpoint: https://f.example, "
	    "maxBatchEvents: 9, checkInIntervalSeconds: 33}\n"
	    "claude: {enabled: false}\n"
	    "watch: {pollIntervalSeconds: 11}\n"
	    "rules: []\n";
	const char	*js = "{\"watch\":{\"maxDepth\":1},"
	    "\"sync\":{\"enabled\":false,\"maxBatchBytes\":1000,"
	    "\"checkInIntervalSeconds\":5},"
	    "\"persistence\":{\"maxStoredEvents\":1,\"maxStoredFindings\":1},"
	    "\"claude\":{\"enabled\":true}}";
	char		 err[256];

	cr_assert_eq(config_load_buffer("local", y, strlen(y), &local, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(config_from_json("remote", js, strlen(js), &remote, err,
	    sizeof(err)), 0, "%s", err);
	config_overlay_remote(&local, &remote);
	/* Taken: the whole watch section (defaults where remote is silent). */
	cr_expect_eq(local.watch.max_depth, 1);
	cr_expect_eq(local.watch.poll_interval_seconds, 300);
	/* Taken: rules (absent remotely: the 64 defaults), batch limits. */
	cr_expect_eq(local.rules.n, 64);
	cr_expect_eq(local.sync.max_batch_bytes, 1000);
	cr_expect_eq(local.sync.max_batch_events, 500);
	/* Kept. */
	cr_expect_eq(local.sync.enabled, 1);
	cr_expect_str_eq(local.sync.endpoint, "https://f.example");
	cr_expect_eq(local.sync.check_in_interval_seconds, 33);
	cr_expect_eq(local.persistence.max_stored_events, 7);
	cr_expect_eq(local.claude.enabled, 0);
	/* The old values went to remote, for config_free. */
	cr_expect_eq(remote.watch.poll_interval_seconds, 11);
	cr_expect_eq(remote.rules.n, 0);
	config_free(&remote);
	config_free(&local);
}

/* A failed load leaves nothing to free and a zeroed config. */
Test(config_model, failure_leaves_zeroed)
{
	static const struct config	zero;
	struct config			c;
	char				err[256];

	memset(&c, 0xa5, sizeof(c));
	cr_expect_eq(config_load_buffer("t", "watch: [", 8, &c, err,
	    sizeof(err)), -1);
	cr_expect(memcmp(&c, &zero, sizeof(c)) == 0);
	memset(&c, 0xa5, sizeof(c));
	cr_expect_eq(config_from_json("t", "{\"watch\":5}", 11, &c, err,
	    sizeof(err)), -1);
	cr_expect(memcmp(&c, &zero, sizeof(c)) == 0);
	cr_expect_str_eq(err, "t:1:10: watch: expected a mapping, found the "
	    "number 5");
}

/* A short error buffer truncates, never overflows. */
Test(config_model, short_error_buffer)
{
	struct config	c;
	char		err[16];

	memset(err, 'z', sizeof(err));
	cr_expect_eq(config_load_buffer("a-long-file-name.yaml",
	    "watch: {maxDepth: 99}", 21, &c, err, sizeof(err)), -1);
	cr_expect_eq(strlen(err), sizeof(err) - 1);
}

/*
 * kobangd.keyStore: the stores compiled in, file by default; the message
 * names the choices of this build (so it is no golden file).
 */
Test(config, key_store)
{
	struct config	 c;
	char		 err[256];
	const char	*y = "kobangd:\n  keyStore: hsm\n";
	const char	*t = "kobangd:\n  keyStore: tpm\n";

	cr_assert_eq(config_load_buffer("d", "", 0, &c, err, sizeof(err)), 0);
	cr_expect_str_eq(c.kobangd.key_store, "file");
	cr_expect_str_eq(c.kobangd.tpm_tcti, "device:/dev/tpmrm0");
	config_free(&c);
	cr_assert_eq(config_load_buffer("y", y, strlen(y), &c, err,
	    sizeof(err)), -1);
#ifdef KOBANGD_TPM
	cr_expect_str_eq(err, "y:2:13: kobangd.keyStore: \"hsm\" is not one "
	    "of file or tpm");
	cr_assert_eq(config_load_buffer("t", t, strlen(t), &c, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.kobangd.key_store, "tpm");
	config_free(&c);
#else
	cr_expect_str_eq(err, "y:2:13: kobangd.keyStore: \"hsm\" is not one "
	    "of file");
	cr_assert_eq(config_load_buffer("t", t, strlen(t), &c, err,
	    sizeof(err)), -1);
#endif
}
