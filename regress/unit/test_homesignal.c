/*
 * The home signal scan (SURFACES.md 9): the bounded walk over a fixture
 * tree under /tmp (depth, prune names, hidden entries, packages,
 * symbolic links followed or not, each budget exhausted, a missing root,
 * the rights of the user it runs as, the whole-root directory list, the
 * daemon's slices), the surface mapping table row by row, the extra
 * watches it installs
 * (surviving a surface's own watch_set, a change reported for the mapped
 * surfaces only, a new subdirectory of a whole-root watch, health), and
 * opencodeConfig's managed preferences files (SURFACES.md 6).
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "config.h"
#include "discover.h"
#include "event.h"
#include "homesignal.h"
#include "vocab.h"
#include "watch.h"

static char	 top[64];

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

/* A file (rel ends without a slash) or a directory (with one). */
static void
put(const char *rel)
{
	char	p[512];
	int	fd;

	mkpath(rel);
	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (rel[strlen(rel) - 1] == '/') {
		p[strlen(p) - 1] = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			cr_assert_fail("mkdir %s", p);
		return;
	}
	cr_assert((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1,
	    "%s", p);
	close(fd);
}

static void
link_to(const char *target, const char *rel)
{
	char	p[512];

	mkpath(rel);
	snprintf(p, sizeof(p), "%s/%s", top, rel);
	cr_assert_eq(symlink(target, p), 0, "%s", p);
}

static void
setup(void)
{
	strlcpy(top, "/tmp/test_homesignal.XXXXXX", sizeof(top));
	cr_assert_not_null(mkdtemp(top));
	cr_assert_eq(chmod(top, 0755), 0);
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
list(struct strlist *l, const char *const *v)
{
	memset(l, 0, sizeof(*l));
	for (; *v != NULL; v++) {
		cr_assert_not_null(l->v = reallocarray(l->v, l->n + 1,
		    sizeof(*l->v)));
		cr_assert_not_null(l->v[l->n++] = strdup(*v));
	}
}

/* The defaults of CONFIG.md 2.1.1, from the configuration itself. */
static void
settings(struct config *conf, struct config_home_signal_scan **hs)
{
	config_default(conf);
	*hs = &conf->watch.home_signal_scan;
	(*hs)->enabled = 1;
}

/* The result, paths below top, one a line; then the issues. */
static char *
render(const struct hs_result *res)
{
	char	*buf = NULL;
	size_t	 len = 0, i, tl = strlen(top);
	FILE	*f;

	cr_assert_not_null(f = open_memstream(&buf, &len));
	for (i = 0; i < res->nfiles; i++)
		fprintf(f, "%s\n", strncmp(res->files[i], top, tl) == 0 ?
		    res->files[i] + tl : res->files[i]);
	for (i = 0; i < res->nissues; i++)
		fprintf(f, "issue %s: %s\n", strncmp(res->issues[i].path, top,
		    tl) == 0 ? res->issues[i].path + tl : res->issues[i].path,
		    res->issues[i].reason);
	fclose(f);
	if (getenv("KOBANG_TEST_VERBOSE") != NULL)
		fputs(buf, stderr);
	return (buf);
}

static char *
walk(const struct config_home_signal_scan *hs, const char *rel, int tree,
    const struct disc_user *u, struct hs_result *res)
{
	char	root[256];

	snprintf(root, sizeof(root), "%s%s%s", top, *rel ? "/" : "", rel);
	memset(res, 0, sizeof(*res));
	cr_assert_eq(homesignal_discover(hs, root, u, tree, NULL, NULL, res),
	    0);
	return (render(res));
}

/* A tree with something for every rule of the walk. */
static void
fixture(void)
{
	put("AGENTS.md");			/* depth 0 */
	put("notes.txt");
	put("a/CLAUDE.md");
	put("a/b/c/d/.cursorrules");		/* in a directory at depth 4 */
	put("a/b/c/d/e/pyproject.toml");	/* depth 5 */
	put(".hidden/.mcp.json");		/* hidden entries are seen */
	put(".claude/settings.json");		/* not a signal name */
	put("node_modules/x/package-lock.json");	/* pruned */
	put("Documents/CLAUDE.md");		/* pruned */
	put("Tool.app/Contents/AGENTS.md");	/* a package */
	put("tool.APP/AGENTS.md");		/* so is this */
	put(".app/AGENTS.md");			/* a hidden name, no extension */
	put("req/requirements-dev.txt");
	put("req/requirements.in");
	put("ci/default.rules");
	put("ci/x.mdc");
	put("elsewhere/uv.lock");
	link_to("../elsewhere", "proj/linked");	/* a directory link */
	link_to("../req/requirements-dev.txt", "proj/constraints.txt");
	link_to("/nonexistent/bun.lock", "proj/bun.lock");	/* broken */
	put("proj/pnpm-lock.yaml/");		/* a directory with a signal name */
}

TestSuite(homesignal, .init = setup, .fini = teardown);

Test(homesignal, walk_defaults_sorted)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	char				*got;

	fixture();
	settings(&conf, &hs);
	got = walk(hs, "", 0, NULL, &res);
	cr_assert_str_eq(got,
	    "/.app/AGENTS.md\n"
	    "/.hidden/.mcp.json\n"
	    "/AGENTS.md\n"
	    "/a/CLAUDE.md\n"
	    "/a/b/c/d/.cursorrules\n"
	    "/a/b/c/d/e/pyproject.toml\n"
	    "/ci/default.rules\n"
	    "/ci/x.mdc\n"
	    "/elsewhere/uv.lock\n"
	    "/proj/bun.lock\n"
	    "/proj/constraints.txt\n"
	    "/req/requirements-dev.txt\n");
	cr_assert_eq(res.exhausted, 0);
	/* root, a, b, c, d, e, .hidden, .claude, req, ci, elsewhere, proj,
	   proj/pnpm-lock.yaml, .app: 14 (not pruned ones, packages, links) */
	cr_assert_eq(res.dirs_visited, 14, "%zu", res.dirs_visited);
	free(got);
	hs_result_free(&res);
	config_free(&conf);
}

/* The daemon's slices (one entry each here) find what one pass finds. */
Test(homesignal, slices_equal_one_pass)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res, sres;
	struct hs_walk			*w;
	char				*one, *sliced;
	int				 steps = 0;

	fixture();
	settings(&conf, &hs);
	one = walk(hs, "", 0, NULL, &res);
	memset(&sres, 0, sizeof(sres));
	cr_assert_not_null(w = hs_walk_new(hs, top, NULL, 0, NULL, NULL,
	    &sres));
	while (hs_walk_step(w, 1) == 1)
		steps++;
	hs_walk_free(w);
	sliced = render(&sres);
	cr_assert_str_eq(sliced, one);
	cr_assert_gt(steps, 20);
	cr_assert_eq(sres.dirs_visited, res.dirs_visited);
	cr_assert_eq(sres.files_visited, res.files_visited);
	free(one);
	free(sliced);
	hs_result_free(&res);
	hs_result_free(&sres);
	config_free(&conf);
}

Test(homesignal, follow_symlinks)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	char				*got;

	fixture();
	settings(&conf, &hs);
	hs->follow_symlinks = 1;
	got = walk(hs, "", 0, NULL, &res);
	cr_assert_not_null(strstr(got, "/proj/linked/uv.lock\n"), "%s", got);
	cr_assert_not_null(strstr(got, "/elsewhere/uv.lock\n"), "%s", got);
	cr_assert_null(strstr(got, "issue"), "%s", got);
	free(got);
	hs_result_free(&res);
	config_free(&conf);
}

/* A link loop ends at maxDepth, not in a crash. */
Test(homesignal, symlink_loop_bounded_by_depth)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	char				*got;

	put("loop/AGENTS.md");
	link_to(".", "loop/again");
	settings(&conf, &hs);
	hs->follow_symlinks = 1;
	hs->max_depth = 3;
	got = walk(hs, "", 0, NULL, &res);
	cr_assert_str_eq(got,
	    "/loop/AGENTS.md\n"
	    "/loop/again/AGENTS.md\n"
	    "/loop/again/again/AGENTS.md\n");
	free(got);
	hs_result_free(&res);
	config_free(&conf);
}

Test(homesignal, max_depth)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	char				*got;

	fixture();
	settings(&conf, &hs);
	hs->max_depth = 4;	/* d is at depth 4: its files are found */
	got = walk(hs, "", 0, NULL, &res);
	cr_assert_not_null(strstr(got, "/a/b/c/d/.cursorrules\n"), "%s", got);
	cr_assert_null(strstr(got, "pyproject.toml"), "%s", got);
	free(got);
	hs_result_free(&res);
	hs->max_depth = 0;	/* the root's own files only */
	got = walk(hs, "", 0, NULL, &res);
	cr_assert_str_eq(got, "/AGENTS.md\n");
	free(got);
	hs_result_free(&res);
	config_free(&conf);
}

Test(homesignal, prune_and_names_configurable)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	static const char *const	 names[] = { "settings.json", NULL };
	static const char *const	 prune[] = { "Documents", "node_modules",
					    NULL };
	static const char *const	 none[] = { NULL };
	char				*got;

	fixture();
	put("Documents/.claude/settings.json");
	put("node_modules/.claude/settings.json");
	settings(&conf, &hs);
	strlist_free(&hs->signal_file_names);
	strlist_free(&hs->signal_file_globs);
	strlist_free(&hs->prune_directory_names);
	list(&hs->signal_file_names, names);
	list(&hs->signal_file_globs, none);
	list(&hs->prune_directory_names, prune);
	got = walk(hs, "", 0, NULL, &res);
	cr_assert_str_eq(got, "/.claude/settings.json\n");
	free(got);
	hs_result_free(&res);
	/* Nothing pruned: node_modules and Documents are searched. */
	strlist_free(&hs->prune_directory_names);
	got = walk(hs, "", 0, NULL, &res);
	cr_assert_str_eq(got, "/.claude/settings.json\n"
	    "/Documents/.claude/settings.json\n"
	    "/node_modules/.claude/settings.json\n");
	free(got);
	hs_result_free(&res);
	config_free(&conf);
}

Test(homesignal, file_budget)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	char				*got;

	put("one/AGENTS.md");
	put("two/AGENTS.md");
	settings(&conf, &hs);
	hs->initial_scan_budget.max_files_visited = 1;
	got = walk(hs, "", 0, NULL, &res);
	cr_assert_eq(res.nfiles, 1, "%s", got);
	cr_assert_eq(res.nissues, 1, "%s", got);
	cr_assert_eq(res.exhausted, 1);
	cr_assert_not_null(strstr(res.issues[0].reason,
	    "directory enumeration limit reached"), "%s", got);
	free(got);
	hs_result_free(&res);
	config_free(&conf);
}

Test(homesignal, directory_budget)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	char				*got;

	put("AGENTS.md");
	put("one/AGENTS.md");
	put("one/two/AGENTS.md");
	settings(&conf, &hs);
	hs->initial_scan_budget.max_directories_visited = 2;
	got = walk(hs, "", 0, NULL, &res);
	/* The root and one; two is over the budget: one issue, stop. */
	cr_assert_eq(res.nissues, 1, "%s", got);
	cr_assert_str_eq(res.issues[0].path + strlen(top), "/one/two");
	cr_assert_not_null(strstr(res.issues[0].reason, "limit reached"));
	cr_assert_eq(res.dirs_visited, 3);
	cr_assert_eq(res.exhausted, 1);
	free(got);
	hs_result_free(&res);
	config_free(&conf);
}

/* A clock that jumps two seconds after its first reading. */
static unsigned long long
jumpy(void *arg)
{
	int	*tick = arg;

	return ((*tick)++ == 0 ? 1000 : 3000);
}

Test(homesignal, wall_clock_budget)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	char				 root[128];
	int				 tick = 0;

	put("CLAUDE.md");
	settings(&conf, &hs);
	hs->initial_scan_budget.max_wall_clock_seconds = 1;
	snprintf(root, sizeof(root), "%s", top);
	memset(&res, 0, sizeof(res));
	cr_assert_eq(homesignal_discover(hs, root, NULL, 0, jumpy, &tick,
	    &res), 0);
	cr_assert_eq(res.nfiles, 0);
	cr_assert_eq(res.nissues, 1);
	cr_assert_not_null(strstr(res.issues[0].reason, "time limit reached "
	    "(1 s)"), "%s", res.issues[0].reason);
	hs_result_free(&res);
	config_free(&conf);
}

Test(homesignal, missing_root_is_an_issue)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	char				*got;

	settings(&conf, &hs);
	got = walk(hs, "missing", 0, NULL, &res);
	cr_assert_str_eq(got, "issue /missing: directory enumeration "
	    "unavailable: No such file or directory\n");
	free(got);
	hs_result_free(&res);
	/* A file as the root. */
	put("file");
	got = walk(hs, "file", 0, NULL, &res);
	cr_assert_str_eq(got, "issue /file: directory enumeration "
	    "unavailable: Not a directory\n");
	free(got);
	hs_result_free(&res);
	config_free(&conf);
}

/* Walked as "nobody", a root-only directory stays closed: an issue. */
Test(homesignal, walks_with_the_users_rights)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	struct disc_user		 u;
	gid_t				 g = 65534;
	char				 p[256], *got;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	put("open/AGENTS.md");
	put("closed/AGENTS.md");
	snprintf(p, sizeof(p), "%s/closed", top);
	cr_assert_eq(chmod(p, 0700), 0);
	memset(&u, 0, sizeof(u));
	u.uid = 65534;
	u.gid = 65534;
	u.name = "nobody";
	u.groups = &g;
	u.ngroups = 1;
	settings(&conf, &hs);
	got = walk(hs, "", 0, &u, &res);
	cr_assert_str_eq(got, "/open/AGENTS.md\n"
	    "issue /closed: directory enumeration unavailable: "
	    "Permission denied\n");
	free(got);
	hs_result_free(&res);
	/* As root both are found. */
	got = walk(hs, "", 0, NULL, &res);
	cr_assert_str_eq(got, "/closed/AGENTS.md\n/open/AGENTS.md\n");
	free(got);
	hs_result_free(&res);
	config_free(&conf);
}

/* eventPathFiltering false: every real directory, pruned names too. */
Test(homesignal, tree_lists_directories)
{
	struct config			 conf;
	struct config_home_signal_scan	*hs;
	struct hs_result		 res;
	char				*got;

	put("a/b/");
	put("node_modules/x/");
	put("Tool.app/Contents/");
	put("f");
	link_to("a", "l");
	settings(&conf, &hs);
	hs->max_depth = 0;	/* not the tree's limit */
	got = walk(hs, "", 1, NULL, &res);
	cr_assert_str_eq(got, "\n"	/* the root itself */
	    "/Tool.app\n/Tool.app/Contents\n/a\n/a/b\n/node_modules\n"
	    "/node_modules/x\n");
	free(got);
	hs_result_free(&res);
	hs->initial_scan_budget.max_directories_visited = 3;
	got = walk(hs, "", 1, NULL, &res);
	cr_assert_eq(res.nfiles, 3, "%s", got);
	cr_assert_eq(res.nissues, 1, "%s", got);
	free(got);
	hs_result_free(&res);
	config_free(&conf);
}

Test(homesignal, packages)
{
	cr_assert(hs_is_package("Xcode.app"));
	cr_assert(hs_is_package("Foo.framework"));
	cr_assert(hs_is_package("a.bundle"));
	cr_assert(hs_is_package("Proj.xcodeproj"));
	cr_assert(hs_is_package("X.APP"));
	cr_assert(!hs_is_package(".app"));
	cr_assert(!hs_is_package("app"));
	cr_assert(!hs_is_package("x.app.d"));
	cr_assert(!hs_is_package("x."));
	cr_assert(!hs_is_package("src"));
}

#define B(s)	(1U << (s))

Test(homesignal, mapping_table)
{
	/* claudeConfig */
	cr_assert_eq(homesignal_surfaces("/h/.claude/settings.json"),
	    B(SURFACE_CLAUDE));
	cr_assert_eq(homesignal_surfaces("/h/p/.claude.json"),
	    B(SURFACE_CLAUDE));
	cr_assert_eq(homesignal_surfaces("/h/p/CLAUDE.md"), B(SURFACE_CLAUDE));
	cr_assert_eq(homesignal_surfaces("/h/p/CLAUDE.local.md"),
	    B(SURFACE_CLAUDE));
	/* codexConfig */
	cr_assert_eq(homesignal_surfaces("/h/.codex/x.toml"), B(SURFACE_CODEX));
	cr_assert_eq(homesignal_surfaces("/h/.agents/skills/s/SKILL.md"),
	    B(SURFACE_CODEX));
	cr_assert_eq(homesignal_surfaces("/h/p/default.rules"),
	    B(SURFACE_CODEX));
	/* cursorConfig; AGENTS.md is opencode's too */
	cr_assert_eq(homesignal_surfaces("/h/.cursor/mcp.json"),
	    B(SURFACE_CURSOR));
	cr_assert_eq(homesignal_surfaces("/h/p/.cursorrules"),
	    B(SURFACE_CURSOR));
	cr_assert_eq(homesignal_surfaces("/h/p/r.mdc"), B(SURFACE_CURSOR));
	cr_assert_eq(homesignal_surfaces("/h/p/AGENTS.md"),
	    B(SURFACE_CURSOR) | B(SURFACE_OPENCODE));
	/* opencodeConfig */
	cr_assert_eq(homesignal_surfaces("/h/p/.opencode/agent/a.md"),
	    B(SURFACE_OPENCODE));
	cr_assert_eq(homesignal_surfaces("/h/.config/opencode/x"),
	    B(SURFACE_OPENCODE));
	cr_assert_eq(homesignal_surfaces("/h/p/opencode.json"),
	    B(SURFACE_OPENCODE));
	cr_assert_eq(homesignal_surfaces("/h/p/opencode.jsonc"),
	    B(SURFACE_OPENCODE));
	cr_assert_eq(homesignal_surfaces("/h/p/Agents.md"),
	    B(SURFACE_OPENCODE));
	/* piConfig */
	cr_assert_eq(homesignal_surfaces("/h/.pi/agent/settings.json"),
	    B(SURFACE_PI));
	/* javascriptPackages: the five lockfile names */
	cr_assert_eq(homesignal_surfaces("/p/package-lock.json"),
	    B(SURFACE_JAVASCRIPT));
	cr_assert_eq(homesignal_surfaces("/p/npm-shrinkwrap.json"),
	    B(SURFACE_JAVASCRIPT));
	cr_assert_eq(homesignal_surfaces("/p/pnpm-lock.yaml"),
	    B(SURFACE_JAVASCRIPT));
	cr_assert_eq(homesignal_surfaces("/p/yarn.lock"),
	    B(SURFACE_JAVASCRIPT));
	cr_assert_eq(homesignal_surfaces("/p/bun.lock"), B(SURFACE_JAVASCRIPT));
	cr_assert_eq(homesignal_surfaces("/p/package.json"), 0);
	/* pythonPackages */
	cr_assert_eq(homesignal_surfaces("/p/uv.lock"), B(SURFACE_PYTHON));
	cr_assert_eq(homesignal_surfaces("/p/pyproject.toml"),
	    B(SURFACE_PYTHON));
	cr_assert_eq(homesignal_surfaces("/p/pylock.toml"), B(SURFACE_PYTHON));
	cr_assert_eq(homesignal_surfaces("/p/requirements.txt"),
	    B(SURFACE_PYTHON));
	cr_assert_eq(homesignal_surfaces("/p/requirements-dev.txt"),
	    B(SURFACE_PYTHON));
	cr_assert_eq(homesignal_surfaces("/p/constraints.txt"),
	    B(SURFACE_PYTHON));
	cr_assert_eq(homesignal_surfaces("/p/requirements.in"), 0);
	/* .mcp.json alone maps to nothing; under a component it does */
	cr_assert_eq(homesignal_surfaces("/h/p/.mcp.json"), 0);
	cr_assert_eq(homesignal_surfaces("/h/.cursor/.mcp.json"),
	    B(SURFACE_CURSOR));
	/* components are whole: .claude-old or x.claude are not .claude */
	cr_assert_eq(homesignal_surfaces("/h/.claude-old/a"), 0);
	cr_assert_eq(homesignal_surfaces("/h/x.claude/a"), 0);
	/* several at once */
	cr_assert_eq(homesignal_surfaces("/h/.claude/.pi/yarn.lock"),
	    B(SURFACE_CLAUDE) | B(SURFACE_PI) | B(SURFACE_JAVASCRIPT));
	/* homebrew is never a home signal */
	cr_assert_eq(homesignal_surfaces("/opt/homebrew/Cellar/x/"
	    "INSTALL_RECEIPT.json"), 0);
}

/* ---- the watches ---- */

static unsigned int	hits;

static void
noop(void *arg)
{
}

static void
on_hit(enum surface s, enum watch_reason why, const char *path, void *arg)
{
	hits |= 1U << s;
}

/* Run the event loop until a hit came or about 2 s passed. */
static void
pump(void)
{
	int	i;

	for (i = 0; i < 40 && hits == 0; i++) {
		struct ev_timer	t;

		ev_timer_init(&t, noop, NULL);
		ev_timer_add(&t, 50);
		ev_dispatch();
		ev_timer_del(&t);
	}
}

static void
touch(const char *rel)
{
	char	p[256];
	int	fd;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	cr_assert((fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1);
	cr_assert_eq(write(fd, "x", 1), 1);
	close(fd);
}

Test(homesignal, extra_watches)
{
	struct watch_extra	 v[2];
	struct disc_result	 none;
	struct watch_health	 h;
	char			 dir[128], dir2[128];

	put("p/.cursorrules");
	put("p/other");
	put("q/AGENTS.md");
	cr_assert_eq(watch_init(on_hit, NULL), 0);
	memset(v, 0, sizeof(v));
	snprintf(dir, sizeof(dir), "%s/p", top);
	snprintf(dir2, sizeof(dir2), "%s/q", top);
	v[0].w.dir = dir;
	v[0].w.name = ".cursorrules";
	v[0].w.top = top;
	v[0].surfaces = B(SURFACE_CURSOR);
	v[1].w.dir = dir2;
	v[1].w.name = "AGENTS.md";
	v[1].w.top = top;
	v[1].surfaces = B(SURFACE_CURSOR) | B(SURFACE_OPENCODE);
	cr_assert_eq(watch_set_extra(v, 2, 0, 0, ""), 0);
	/* A surface's own (empty) watch set leaves the extra ones alone. */
	memset(&none, 0, sizeof(none));
	cr_assert_eq(watch_set(SURFACE_CURSOR, &none), 0);
	watch_get_health(SURFACE_CURSOR, &h);
	cr_assert_eq(h.ndirs, 2);
	cr_assert_eq(h.degraded, 0);

	hits = 0;
	touch("p/other");	/* not a candidate */
	pump();
	cr_assert_eq(hits, 0, "%#x", hits);
	touch("p/.cursorrules");
	pump();
	cr_assert_eq(hits, B(SURFACE_CURSOR), "%#x", hits);
	hits = 0;
	touch("q/AGENTS.md");
	pump();
	cr_assert_eq(hits, B(SURFACE_CURSOR) | B(SURFACE_OPENCODE), "%#x",
	    hits);

	/* Issues degrade whom they name, until replaced. */
	cr_assert_eq(watch_set_extra(NULL, 0, 0, B(SURFACE_PI), "home signal "
	    "scan: x: broken"), 0);
	watch_get_health(SURFACE_PI, &h);
	cr_assert_eq(h.degraded, 1);
	cr_assert_str_eq(h.message, "home signal scan: x: broken");
	watch_get_health(SURFACE_CURSOR, &h);
	cr_assert_eq(h.degraded, 0);
	cr_assert_eq(h.ndirs, 0);
	hits = 0;
	touch("p/.cursorrules");
	pump();
	cr_assert_eq(hits, 0, "%#x", hits);
	watch_clear_extra();
	watch_get_health(SURFACE_PI, &h);
	cr_assert_eq(h.degraded, 0);
	watch_shutdown();
}

/* A whole-root watch follows directories created later. */
Test(homesignal, tree_watch_grows)
{
	struct watch_extra	 v;
	struct watch_health	 h;
	char			 p[256];

	cr_assert_eq(watch_init(on_hit, NULL), 0);
	memset(&v, 0, sizeof(v));
	v.w.dir = top;
	v.w.top = top;
	v.w.flags = DISC_W_ANY | WATCH_W_TREE;
	v.surfaces = B(SURFACE_PYTHON);
	cr_assert_eq(watch_set_extra(&v, 1, 10, 0, ""), 0);
	/* mkdir -p: the inner ones exist before the watch sees them. */
	snprintf(p, sizeof(p), "mkdir -p %s/n1/n2/n3", top);
	cr_assert_eq(system(p), 0);
	hits = 0;
	pump();
	cr_assert_eq(hits, B(SURFACE_PYTHON));
	/* Drain, then a change three levels down is seen. */
	hits = 0;
	pump();
	hits = 0;
	touch("n1/n2/n3/anything");
	pump();
	cr_assert_eq(hits, B(SURFACE_PYTHON), "%#x", hits);
	watch_get_health(SURFACE_PYTHON, &h);
	cr_assert_eq(h.ndirs, 4, "%zu", h.ndirs);
	cr_assert_eq(h.degraded, 0);
	watch_shutdown();
}

/* The daemon's way: homesignal_apply, the event loop, the watches. */
static void
apply(const char *root, int filtering)
{
	struct config	 conf;
	char		 yaml[512], err[256];
	int		 i;

	snprintf(yaml, sizeof(yaml), "kobangd:\n  users: [root]\n"
	    "watch:\n  homeSignalScan:\n    enabled: true\n"
	    "    root: \"%s\"\n    eventPathFiltering: %s\n", root,
	    filtering ? "true" : "false");
	cr_assert_eq(config_load_buffer("test", yaml, strlen(yaml), &conf,
	    err, sizeof(err)), 0, "%s", err);
	homesignal_apply(&conf, B(SURFACE_CURSOR) | B(SURFACE_PYTHON));
	/* The settings were copied: the configuration may go at once. */
	config_free(&conf);
	for (i = 0; i < 100 && homesignal_busy(); i++) {
		struct ev_timer	t;

		ev_timer_init(&t, noop, NULL);
		ev_timer_add(&t, 10);
		ev_dispatch();
		ev_timer_del(&t);
	}
	cr_assert(!homesignal_busy());
}

Test(homesignal, apply)
{
	struct watch_health	 h;
	char			 root[128];

	put("w/p/.cursorrules");
	put("w/p/uv.lock");
	put("w/p/CLAUDE.md");	/* claudeConfig is not enabled here */
	cr_assert_eq(watch_init(on_hit, NULL), 0);
	snprintf(root, sizeof(root), "%s/w/", top);	/* slash trimmed */
	apply(root, 1);
	watch_get_health(SURFACE_CURSOR, &h);
	cr_assert_eq(h.degraded, 0, "%s", h.message);
	cr_assert_eq(h.ndirs, 1);
	watch_get_health(SURFACE_CLAUDE, &h);
	cr_assert_eq(h.ndirs, 0);
	hits = 0;
	touch("w/p/CLAUDE.md");
	pump();
	cr_assert_eq(hits, 0, "%#x", hits);
	touch("w/p/uv.lock");
	pump();
	cr_assert_eq(hits, B(SURFACE_PYTHON), "%#x", hits);

	/* A relative root: an issue, both surfaces degraded, no watch. */
	apply("src", 1);
	watch_get_health(SURFACE_PYTHON, &h);
	cr_assert_eq(h.degraded, 1);
	/* No path in it: control group members read it. */
	cr_assert_str_eq(h.message, "home signal scan: root not an absolute "
	    "path");
	cr_assert_eq(h.ndirs, 0);
	watch_get_health(SURFACE_CURSOR, &h);
	cr_assert_eq(h.degraded, 1);

	/* The whole root: every directory, for both. */
	apply(root, 0);
	watch_get_health(SURFACE_CURSOR, &h);
	cr_assert_eq(h.degraded, 0, "%s", h.message);
	cr_assert_eq(h.ndirs, 2);	/* w and w/p */
	hits = 0;
	touch("w/p/anything");
	pump();
	pump();
	cr_assert_eq(hits, B(SURFACE_CURSOR) | B(SURFACE_PYTHON), "%#x",
	    hits);
	homesignal_shutdown();
	watch_get_health(SURFACE_CURSOR, &h);
	cr_assert_eq(h.ndirs, 0);
	watch_shutdown();
}

/* Past the directory budget a new directory degrades, unwatched. */
Test(homesignal, tree_watch_budget)
{
	struct watch_extra	 v;
	struct watch_health	 h;
	char			 p[256];

	cr_assert_eq(watch_init(on_hit, NULL), 0);
	memset(&v, 0, sizeof(v));
	v.w.dir = top;
	v.w.top = top;
	v.w.flags = DISC_W_ANY | WATCH_W_TREE;
	v.surfaces = B(SURFACE_CODEX);
	cr_assert_eq(watch_set_extra(&v, 1, 2, 0, ""), 0);	/* 1 left */
	snprintf(p, sizeof(p), "mkdir -p %s/m1/m2", top);
	cr_assert_eq(system(p), 0);
	hits = 0;
	pump();
	cr_assert_eq(hits, B(SURFACE_CODEX));
	watch_get_health(SURFACE_CODEX, &h);
	cr_assert_eq(h.ndirs, 2, "%zu", h.ndirs);	/* top and m1 */
	cr_assert_eq(h.degraded, 1);
	cr_assert_str_eq(h.message, "home signal scan: directory budget "
	    "spent; new directories are not watched");
	watch_shutdown();
}

/* ---- opencodeConfig's managed preferences (SURFACES.md 6) ---- */

static void
managed(int on, struct disc_result *res)
{
	struct config		 conf;
	struct disc_users	 us;
	char			 err[256];
	char			 yaml[256];

	snprintf(yaml, sizeof(yaml), "opencode:\n  includeGlobal: false\n"
	    "  includeProject: false\n  includeManagedPreferences: %s\n",
	    on ? "true" : "false");
	cr_assert_eq(config_load_buffer("test", yaml, strlen(yaml), &conf,
	    err, sizeof(err)), 0, "%s", err);
	memset(&us, 0, sizeof(us));
	cr_assert_not_null(us.v = calloc(2, sizeof(*us.v)));
	us.n = 2;
	us.v[0].uid = us.v[0].gid = 4242;
	us.v[0].name = strdup("alice");
	us.v[0].home = strdup("/nonexistent/alice");
	us.v[1].uid = us.v[1].gid = 4243;
	us.v[1].name = strdup("bob");
	us.v[1].home = strdup("/nonexistent/bob");
	memset(res, 0, sizeof(*res));
	cr_assert_eq(discover_surface(&conf, SURFACE_OPENCODE, &us, res), 0);
	config_free(&conf);
	/* The anchors keep pointers to the users: check before freeing. */
	if (on) {
		cr_assert_eq(res->nfiles, 3);
		cr_assert_eq(res->anchors[res->files[0].anchor].user,
		    &us.v[0]);
		cr_assert_eq(res->anchors[res->files[1].anchor].user,
		    &us.v[1]);
		cr_assert_null(res->anchors[res->files[2].anchor].user);
	}
	disc_users_free(&us);
}

Test(homesignal_opencode, managed_preferences)
{
	struct disc_result	 res;
	const char		*want[] = {
		"/Library/Managed Preferences/alice/ai.opencode.managed.plist",
		"/Library/Managed Preferences/bob/ai.opencode.managed.plist",
		"/Library/Managed Preferences/ai.opencode.managed.plist",
	};
	size_t			 i;

	managed(1, &res);
	for (i = 0; i < nitems(want); i++) {
		const struct disc_file	*f = &res.files[i];

		cr_assert_str_eq(f->path, want[i]);
		/* Hashed only, a config profile named after the file. */
		cr_assert_eq(f->parser, DISC_AGENT_HASH);
		cr_assert_eq(f->tmpl.kind, KIND_CONFIG_PROFILE);
		cr_assert_str_eq(f->tmpl.name, "ai.opencode.managed.plist");
		cr_assert_str_eq(f->tmpl.origin, "opencode-config");
		cr_assert_eq(f->cap, DISC_AGENT_CAP);
	}
	/* Watched from their directories, for that name. */
	for (i = 0; i < res.nwatches; i++)
		cr_assert_str_eq(res.watches[i].name,
		    "ai.opencode.managed.plist");
	cr_assert_eq(res.nwatches, 3);
	disc_result_free(&res);

	managed(0, &res);
	cr_assert_eq(res.nfiles, 0);
	cr_assert_eq(res.nwatches, 0);
	disc_result_free(&res);
}

/* Missing (as on every Linux machine): no item, no issue. */
Test(homesignal_opencode, managed_preferences_missing)
{
	struct disc_result	 res;
	struct stat		 sb;
	char			 why[256];
	int			 missing = 0;

	if (stat("/Library/Managed Preferences/ai.opencode.managed.plist",
	    &sb) == 0)
		cr_skip_test("this machine has the file");
	managed(0, &res);
	disc_result_free(&res);
	{
		struct config		 conf;
		struct disc_users	 us;
		const char		*yaml = "opencode:\n  includeGlobal: "
		    "false\n  includeProject: false\n"
		    "  includeManagedPreferences: true\n";

		cr_assert_eq(config_load_buffer("test", yaml, strlen(yaml),
		    &conf, why, sizeof(why)), 0);
		memset(&us, 0, sizeof(us));
		memset(&res, 0, sizeof(res));
		cr_assert_eq(discover_surface(&conf, SURFACE_OPENCODE, &us,
		    &res), 0);
		cr_assert_eq(res.nfiles, 1);
		cr_assert_eq(disc_open(&res, &res.files[0], &sb, &missing, why,
		    sizeof(why)), -1);
		cr_assert_eq(missing, 1, "%s", why);
		disc_result_free(&res);
		config_free(&conf);
	}
}
