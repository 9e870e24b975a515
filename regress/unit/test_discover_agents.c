/*
 * Discovery of homebrew, codexConfig, cursorConfig, opencodeConfig and
 * piConfig (SURFACES.md 1, 3-6, 0.7) over a tree built under /tmp: which
 * files are found, with which parser, template and label; Homebrew's
 * listings (hidden entries, versions joined byte-sorted, the last
 * version's receipt, casks' .metadata, too many versions) and whose
 * rights read a prefix (its owner's: a monitored user, root, or an
 * account that is not monitored).  Runs as root (chown).
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "config.h"
#include "discover.h"
#include "vocab.h"

static char	 top[64];
static char	 home[128];

static void
mkpath(const char *rel)
{
	char	p[512], *s;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	for (s = p + strlen(top) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			cr_assert_fail("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
}

/* A file (rel ends without a slash) or a directory (rel ends with one). */
static void
put(const char *rel, const char *text)
{
	char	p[512];
	FILE	*f;

	mkpath(rel);
	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (rel[strlen(rel) - 1] == '/') {
		p[strlen(p) - 1] = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			cr_assert_fail("mkdir %s", p);
		return;
	}
	cr_assert_not_null(f = fopen(p, "w"), "%s", p);
	fputs(text, f);
	fclose(f);
}

static void
setup(void)
{
	strlcpy(top, "/tmp/test_discover_agents.XXXXXX", sizeof(top));
	cr_assert_not_null(mkdtemp(top));
	cr_assert_eq(chmod(top, 0755), 0);
	snprintf(home, sizeof(home), "%s/home/u", top);
	put("home/u/", NULL);
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd) != 0)
		cr_log_warn("cannot remove %s", top);
}

static void
load(struct config *conf, const char *yaml)
{
	char	err[256];

	cr_assert_eq(config_load_buffer("test", yaml, strlen(yaml), conf, err,
	    sizeof(err)), 0, "%s", err);
}

static void
users(struct disc_users *us)
{
	memset(us, 0, sizeof(*us));
	cr_assert_not_null(us->v = calloc(1, sizeof(*us->v)));
	us->n = 1;
	us->v[0].uid = 4242;
	us->v[0].gid = 4242;
	cr_assert_not_null(us->v[0].name = strdup("u"));
	cr_assert_not_null(us->v[0].home = strdup(home));
}

/* The files found, one line each: parser | rel | template | label. */
static char *
render(const struct disc_result *res)
{
	char	*buf = NULL;
	size_t	 len = 0, i, tl = strlen(top);
	FILE	*f;

	cr_assert_not_null(f = open_memstream(&buf, &len));
	for (i = 0; i < res->nfiles; i++) {
		const struct disc_file *df = &res->files[i];

		fprintf(f, "%d %s", df->parser, df->path + tl);
		if (df->tmpl.name != NULL)
			fprintf(f, " [%s %s %s%s%s]",
			    item_kind_name(df->tmpl.kind),
			    df->tmpl.name, df->tmpl.origin,
			    df->tmpl.version ? " " : "",
			    df->tmpl.version ? df->tmpl.version : "");
		if (df->label != NULL)
			fprintf(f, " -> %s", df->label + tl);
		fputc('\n', f);
	}
	for (i = 0; i < res->nissues; i++)
		fprintf(f, "issue %s: %s\n", strncmp(res->issues[i].path, top,
		    tl) == 0 ? res->issues[i].path + tl : res->issues[i].path,
		    res->issues[i].reason);
	fclose(f);
	return (buf);
}

static char *
discover(const char *yaml, enum surface s, struct disc_users *us,
    struct disc_result *res)
{
	struct config	conf;
	char		*out;

	load(&conf, yaml);
	cr_assert_eq(discover_surface(&conf, s, us, res), 0);
	out = render(res);
	if (getenv("KOBANG_TEST_VERBOSE") != NULL)
		fputs(out, stderr);
	config_free(&conf);
	return (out);
}

TestSuite(discover_agents, .init = setup, .fini = teardown);

Test(discover_agents, homebrew_listings)
{
	struct disc_users	 us;
	struct disc_result	 res;
	char			 yaml[512], *got, want[4096], v[2048];
	int			 i;

	put("brew/Cellar/git/2.47.1/INSTALL_RECEIPT.json", "{}");
	put("brew/Cellar/git/2.47.0/", NULL);
	put("brew/Cellar/git/10.0/", NULL);	/* byte order, not semver */
	put("brew/Cellar/git/.hidden/", NULL);
	put("brew/Cellar/.cache/1.0/", NULL);
	put("brew/Cellar/empty/", NULL);
	put("brew/Cellar/file-not-dir", "x");
	put("brew/Cellar/jq/1.7.1/file", "x");
	put("brew/Caskroom/firefox/133.0/", NULL);
	put("brew/Caskroom/firefox/.metadata/INSTALL_RECEIPT.json", "{}");
	/* More versions than 1024 bytes can hold. */
	for (i = 0; i < 120; i++) {
		snprintf(v, sizeof(v), "brew/Cellar/many/%03d.0.0-rc/", i);
		put(v, NULL);
	}
	snprintf(yaml, sizeof(yaml), "homebrew:\n  prefixes: [\"%s/brew/\", "
	    "\"%s/missing\", \"relative\"]\n", top, top);
	users(&us);
	got = discover(yaml, SURFACE_HOMEBREW, &us, &res);
	snprintf(want, sizeof(want),
	    "%d /brew/Cellar/git/2.47.1/INSTALL_RECEIPT.json "
	    "[package git unknown 10.0, 2.47.0, 2.47.1] -> /brew/Cellar/git\n"
	    "%d /brew/Cellar/jq/1.7.1/INSTALL_RECEIPT.json "
	    "[package jq unknown 1.7.1] -> /brew/Cellar/jq\n",
	    DISC_BREW_RECEIPT, DISC_BREW_RECEIPT);
	cr_assert_eq(strncmp(got, want, strlen(want)), 0, "%s", got);
	cr_assert_not_null(strstr(got, "/brew/Cellar/many/119.0.0-rc/"
	    "INSTALL_RECEIPT.json [package many unknown 000.0.0-rc, 001.0.0-rc"),
	    "%s", got);
	cr_assert_not_null(strstr(got, "/brew/Caskroom/firefox/.metadata/"
	    "INSTALL_RECEIPT.json [package firefox unknown 133.0] -> "
	    "/brew/Caskroom/firefox\n"), "%s", got);
	cr_assert_not_null(strstr(got, "issue /brew/Cellar/many: more "
	    "versions than fit in 1023 bytes; listed 85 of 120\n"), "%s", got);
	cr_assert_not_null(strstr(got, "issue relative: not an absolute "
	    "path; ignored\n"), "%s", got);
	cr_assert_null(strstr(got, "empty"), "%s", got);
	cr_assert_null(strstr(got, "cache"), "%s", got);
	cr_assert_null(strstr(got, "missing"), "%s", got);
	/* Versions are whole: the last one listed is complete. */
	cr_assert_not_null(strstr(got, "084.0.0-rc] -> /brew/Cellar/many"),
	    "%s", got);
	free(got);
	disc_result_free(&res);
	disc_users_free(&us);
}

Test(discover_agents, homebrew_prefix_owner)
{
	struct disc_users	 us;
	struct disc_result	 res;
	char			 yaml[512], p[256], *got;

	/* Owned by the monitored user, by root, by an unlisted uid. */
	put("mine/Cellar/a/1/", NULL);
	put("root/Cellar/b/1/", NULL);
	put("other/Cellar/c/1/", NULL);
	snprintf(p, sizeof(p), "%s/mine", top);
	cr_assert_eq(chown(p, 4242, 4242), 0);
	snprintf(p, sizeof(p), "%s/other", top);
	cr_assert_eq(chown(p, 54321, 54321), 0);
	snprintf(yaml, sizeof(yaml), "homebrew:\n  prefixes: [\"%s/mine\", "
	    "\"%s/root\", \"%s/other\"]\n", top, top, top);
	users(&us);
	got = discover(yaml, SURFACE_HOMEBREW, &us, &res);
	cr_assert_eq(res.nfiles, 3, "%s", got);
	cr_assert_eq(res.anchors[res.files[0].anchor].user, &us.v[0]);
	cr_assert_null(res.anchors[res.files[1].anchor].user);
	cr_assert_not_null(res.anchors[res.files[2].anchor].user);
	cr_assert_eq(res.anchors[res.files[2].anchor].user->uid, 54321);
	cr_assert_eq(res.anchors[res.files[2].anchor].user->gid, 54321);
	free(got);
	disc_result_free(&res);
	disc_users_free(&us);
}

/*
 * A user who controls a prefix path makes it a link to a root-owned
 * directory: the link's owner, not root, reads what lies beneath.
 */
Test(discover_agents, homebrew_prefix_link_owner)
{
	struct disc_users	 us;
	struct disc_result	 res;
	char			 yaml[512], p[256], t[256], *got;

	put("rootdir/Cellar/x/1/", NULL);
	snprintf(t, sizeof(t), "%s/rootdir", top);
	snprintf(p, sizeof(p), "%s/trap", top);
	cr_assert_eq(symlink(t, p), 0);
	cr_assert_eq(lchown(p, 54321, 54321), 0);
	snprintf(yaml, sizeof(yaml), "homebrew:\n  prefixes: [\"%s/trap\"]\n",
	    top);
	users(&us);
	got = discover(yaml, SURFACE_HOMEBREW, &us, &res);
	cr_assert_eq(res.nfiles, 1, "%s", got);
	cr_assert_not_null(res.anchors[res.files[0].anchor].user,
	    "a user's link to a root-owned directory is read as root");
	cr_assert_eq(res.anchors[res.files[0].anchor].user->uid, 54321);
	free(got);
	disc_result_free(&res);
	disc_users_free(&us);
}

Test(discover_agents, codex)
{
	struct disc_users	 us;
	struct disc_result	 res;
	char			 yaml[512], *got;

	put("home/u/.codex/config.toml", "");
	put("home/u/.codex/work.config.toml", "");
	put("home/u/.codex/.hidden.config.toml", "");
	put("home/u/.codex/notes.toml", "");
	put("home/u/.codex/hooks.json", "{}");
	put("home/u/.codex/rules/a.rules", "");
	put("home/u/.codex/rules/deep/b.rules", "");
	put("home/u/.codex/rules/.hidden/c.rules", "");
	put("home/u/.codex/rules/x.rules.bak", "");
	put("home/u/.agents/skills/pdf/SKILL.md", "");
	put("home/u/proj/.codex/config.toml", "");
	put("home/u/proj/.agents/skills/lint/SKILL.md", "");
	snprintf(yaml, sizeof(yaml), "codex:\n  profileConfigGlob: "
	    "\"~/.codex/*.config.toml\"\n  projectRoots: [\"~/proj\"]\n");
	users(&us);
	got = discover(yaml, SURFACE_CODEX, &us, &res);
	cr_assert_not_null(strstr(got, "/home/u/.codex/config.toml\n"), "%s",
	    got);
	cr_assert_not_null(strstr(got, "/home/u/.codex/work.config.toml\n"),
	    "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/.codex/hooks.json\n"), "%s",
	    got);
	cr_assert_not_null(strstr(got, "/home/u/.codex/rules/a.rules "
	    "[rule a.rules codex-rules]"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/.codex/rules/deep/b.rules "
	    "[rule b.rules codex-rules]"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/.agents/skills/pdf/SKILL.md "
	    "[skill pdf codex-skills]"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/proj/.codex/config.toml\n"),
	    "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/proj/.agents/skills/lint/"
	    "SKILL.md [skill lint codex-skills]"), "%s", got);
	cr_assert_null(strstr(got, "hidden"), "%s", got);
	cr_assert_null(strstr(got, "notes.toml"), "%s", got);
	cr_assert_null(strstr(got, ".bak"), "%s", got);
	free(got);
	disc_result_free(&res);
	disc_users_free(&us);
}

/*
 * claudeConfig: agents and commands that are symbolic links are handed
 * over (opened beneath the home, so one that leaves it is an issue at
 * open); Claude Desktop's MCP configuration is an MCP file.
 */
Test(discover_agents, claude_links_desktop)
{
	struct disc_users	 us;
	struct disc_result	 res;
	char			 p[1024], *got;

	put("home/u/.claude/agents/real.md", "x");
	put("home/u/dotfiles/cmd.md", "x");
	put("home/u/.claude/commands/", NULL);
	put("home/u/.config/Claude/claude_desktop_config.json", "{}");
	put("home/u/Library/Application Support/Claude/"
	    "claude_desktop_config.json", "{}");
	snprintf(p, sizeof(p), "%s/.claude/agents/linked.md", home);
	cr_assert_eq(symlink("real.md", p), 0);
	snprintf(p, sizeof(p), "%s/.claude/commands/c.md", home);
	cr_assert_eq(symlink("../../dotfiles/cmd.md", p), 0);
	snprintf(p, sizeof(p), "%s/.claude/commands/dangling.md", home);
	cr_assert_eq(symlink("/nonexistent", p), 0);
	users(&us);
	got = discover("watch:\n  projectRoots: []\n", SURFACE_CLAUDE, &us,
	    &res);
	cr_assert_not_null(strstr(got, "/home/u/.claude/agents/linked.md "
	    "[agent linked.md claude-customization]"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/.claude/agents/real.md "
	    "[agent real.md claude-customization]"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/.claude/commands/c.md "
	    "[command c.md claude-customization]"), "%s", got);
	/* Where it leads is for the open to judge, not the listing. */
	cr_assert_not_null(strstr(got, "/home/u/.claude/commands/dangling.md "
	    "[command dangling.md claude-customization]"), "%s", got);
	cr_assert_null(strstr(got, "not a regular file"), "%s", got);
	snprintf(p, sizeof(p), "%d /home/u/.config/Claude/"
	    "claude_desktop_config.json\n", DISC_CLAUDE_MCP);
	cr_assert_not_null(strstr(got, p), "%s", got);
	snprintf(p, sizeof(p), "%d /home/u/Library/Application Support/"
	    "Claude/claude_desktop_config.json\n", DISC_CLAUDE_MCP);
	cr_assert_not_null(strstr(got, p), "%s", got);
	/* The plugin files under the names Claude Code writes too. */
	snprintf(p, sizeof(p), "%d /home/u/.claude/plugins/"
	    "installed_plugins.json\n", DISC_CLAUDE_PLUGINS);
	cr_assert_not_null(strstr(got, p), "%s", got);
	snprintf(p, sizeof(p), "%d /home/u/.claude/plugins/"
	    "known-marketplaces.json\n", DISC_CLAUDE_PLUGINS);
	cr_assert_not_null(strstr(got, p), "%s", got);
	free(got);
	disc_result_free(&res);
	disc_users_free(&us);
}

Test(discover_agents, cursor_opencode_pi)
{
	struct disc_users	 us;
	struct disc_result	 res;
	char			 yaml[512], *got;

	put("home/u/.cursor/mcp.json", "{}");
	put("home/u/src/.cursor/mcp.json", "{}");
	put("home/u/src/.cursor/rules/a/b.mdc", "");
	put("home/u/src/.cursor/rules/c.md", "");
	put("home/u/src/.cursorrules", "");
	put("home/u/src/AGENTS.md", "");
	put("home/u/src/app/.cursor/mcp.json", "{}");	/* not a root */
	put("home/u/.config/opencode/opencode.jsonc", "{}");
	put("home/u/.config/opencode/agents/r.md", "");
	put("home/u/.config/opencode/plugin/p.js", "");
	put("home/u/.config/opencode/plugins/n.md", "");
	put("home/u/.config/opencode/Agents.md", "");
	put("home/u/src/.opencode/opencode.json", "{}");
	put("home/u/src/.opencode/command/t.md", "");
	put("home/u/src/opencode.jsonc", "{}");
	put("home/u/.config/mcp/mcp.json", "{}");
	put("home/u/.pi/agent/mcp.json", "{}");
	put("home/u/.pi/agent/settings.json", "{}");
	put("home/u/.pi/agent/extensions/x/package.json", "{}");
	put("home/u/.pi/agent/extensions/x/node_modules/y/package.json",
	    "{}");
	put("home/u/src/.mcp.json", "{}");
	put("home/u/src/.pi/settings.json", "{}");
	snprintf(yaml, sizeof(yaml), "watch:\n  projectRoots: [\"~/src\"]\n");
	users(&us);
	got = discover(yaml, SURFACE_CURSOR, &us, &res);
	cr_assert_not_null(strstr(got, "/home/u/.cursor/mcp.json\n"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/src/.cursor/mcp.json\n"), "%s",
	    got);
	cr_assert_not_null(strstr(got, "/home/u/src/.cursor/rules/a/b.mdc "
	    "[rule b.mdc cursor-rules]"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/src/.cursorrules "
	    "[rule .cursorrules cursor-legacy-rules]"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/src/AGENTS.md "
	    "[instruction AGENTS.md cursor-instruction]"), "%s", got);
	cr_assert_null(strstr(got, "c.md"), "%s", got);
	cr_assert_null(strstr(got, "/app/"), "%s", got);
	free(got);
	disc_result_free(&res);

	got = discover(yaml, SURFACE_OPENCODE, &us, &res);
	cr_assert_not_null(strstr(got, "/home/u/.config/opencode/opencode.jsonc "
	    "[configProfile opencode.jsonc opencode-config]"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/.config/opencode/opencode.json "
	    "[configProfile opencode.json opencode-config]"), "%s", got);
	cr_assert_not_null(strstr(got, "agents/r.md [agent r.md opencode-agent]"),
	    "%s", got);
	cr_assert_not_null(strstr(got, "plugins/n.md [plugin n.md opencode-plugin]"),
	    "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/src/.opencode/command/t.md "
	    "[command t.md opencode-command]"), "%s", got);
	/* At the project root too (kobangd.yaml(5), the differences). */
	cr_assert_not_null(strstr(got, "/home/u/src/opencode.jsonc "
	    "[configProfile opencode.jsonc opencode-config]"), "%s", got);
	cr_assert_not_null(strstr(got, "Agents.md [instruction Agents.md "
	    "opencode-instruction]"), "%s", got);
	cr_assert_null(strstr(got, "p.js"), "%s", got);
	free(got);
	disc_result_free(&res);

	got = discover(yaml, SURFACE_PI, &us, &res);
	cr_assert_not_null(strstr(got, "/home/u/.config/mcp/mcp.json\n"), "%s",
	    got);
	cr_assert_not_null(strstr(got, "/home/u/.pi/agent/mcp.json\n"), "%s",
	    got);
	cr_assert_not_null(strstr(got, "/home/u/.pi/agent/settings.json\n"),
	    "%s", got);
	cr_assert_not_null(strstr(got, "extensions/x/package.json "
	    "[plugin x pi-package]"), "%s", got);
	/* node_modules is not excluded. */
	cr_assert_not_null(strstr(got, "node_modules/y/package.json "
	    "[plugin y pi-package]"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/src/.mcp.json\n"), "%s", got);
	cr_assert_not_null(strstr(got, "/home/u/src/.pi/settings.json\n"),
	    "%s", got);
	free(got);
	disc_result_free(&res);
	disc_users_free(&us);
}
