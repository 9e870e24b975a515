/*
 * Discovery of javascriptPackages beyond npm and of pythonPackages
 * (SURFACES.md 0.6, 7, 8; CONFIG.md 2.10, 2.11): the lockfile names
 * gated by their include flags, the python exact names and requirement
 * globs, constraints files marked, exclusions, shrinkwrap precedence,
 * the parser each file gets, the names the watcher is given.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "config.h"
#include "discover.h"

static char tmpdir[] = "/tmp/test_discover_pkg.XXXXXX";

static void
touch(const char *rel)
{
	char	path[PATH_MAX], dir[PATH_MAX], *s;
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	strlcpy(dir, path, sizeof(dir));
	for (s = dir + strlen(tmpdir) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		(void)mkdir(dir, 0755);
		*s = '/';
	}
	cr_assert_neq(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644),
	    -1, "%s", path);
	close(fd);
}

static void
setup(void)
{
	static const char *const files[] = {
		"src/a/pnpm-lock.yaml", "src/a/yarn.lock", "src/a/bun.lock",
		"src/a/package-lock.json", "src/b/npm-shrinkwrap.json",
		"src/b/package-lock.json", "src/b/node_modules/x/yarn.lock",
		"src/py/uv.lock", "src/py/pyproject.toml", "src/py/pylock.toml",
		"src/py/requirements.txt", "src/py/requirements-dev.txt",
		"src/py/constraints.txt", "src/py/constraints-web.txt",
		"src/py/requirements.in", "src/py/dev-requirements.txt",
		"src/py/.venv/lib/requirements.txt", "src/py/pip/reqs.pip",
	};
	size_t	i;

	cr_assert_not_null(mkdtemp(tmpdir));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		touch(files[i]);
}

static void
teardown(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

static char *
run(enum surface s, const char *yaml, struct disc_result *res)
{
	struct config		 conf;
	struct disc_user	 u;
	struct disc_users	 us;
	char			 err[256], *out = NULL, name[16];
	size_t			 len = 0, i;
	FILE			*f;

	cr_assert_eq(config_load_buffer("test", yaml, strlen(yaml), &conf,
	    err, sizeof(err)), 0, "%s", err);
	memset(&u, 0, sizeof(u));
	u.uid = getuid();
	u.gid = getgid();
	u.name = "tester";
	u.home = tmpdir;
	us.v = &u;
	us.n = 1;
	cr_assert_eq(discover_surface(&conf, s, &us, res), 0);
	cr_assert_not_null(f = open_memstream(&out, &len));
	for (i = 0; i < res->nfiles; i++) {
		switch (res->files[i].parser) {
		case DISC_NPM_LOCK:
			strlcpy(name, "npm", sizeof(name));
			break;
		case DISC_PNPM_LOCK:
			strlcpy(name, "pnpm", sizeof(name));
			break;
		case DISC_YARN_LOCK:
			strlcpy(name, "yarn", sizeof(name));
			break;
		case DISC_BUN_LOCK:
			strlcpy(name, "bun", sizeof(name));
			break;
		case DISC_UV_LOCK:
			strlcpy(name, "uv", sizeof(name));
			break;
		case DISC_PYLOCK:
			strlcpy(name, "pylock", sizeof(name));
			break;
		case DISC_PYPROJECT:
			strlcpy(name, "pyproject", sizeof(name));
			break;
		case DISC_REQUIREMENTS:
			strlcpy(name, "req", sizeof(name));
			break;
		case DISC_CONSTRAINTS:
			strlcpy(name, "constraints", sizeof(name));
			break;
		default:
			strlcpy(name, "?", sizeof(name));
			break;
		}
		cr_assert_eq(res->files[i].cap, DISC_PACKAGE_CAP);
		fprintf(f, "%s %s\n", name, res->files[i].path +
		    strlen(tmpdir) + 1);
	}
	for (i = 0; i < res->wnames.n; i++)
		fprintf(f, "watch %s\n", res->wnames.v[i]);
	fclose(f);
	config_free(&conf);
	return (out);
}

Test(discover_pkg, javascript, .init = setup, .fini = teardown)
{
	struct disc_result	 res;
	char			*got;

	got = run(SURFACE_JAVASCRIPT, "watch:\n  projectRoots: [\"~/src\"]\n",
	    &res);
	cr_assert_str_eq(got,
	    "bun src/a/bun.lock\n"
	    "npm src/a/package-lock.json\n"
	    "pnpm src/a/pnpm-lock.yaml\n"
	    "yarn src/a/yarn.lock\n"
	    "npm src/b/npm-shrinkwrap.json\n"
	    "watch package-lock.json\nwatch npm-shrinkwrap.json\n"
	    "watch pnpm-lock.yaml\nwatch yarn.lock\nwatch bun.lock\n");
	free(got);
	disc_result_free(&res);

	/* Each name gated by its flag; unknown names dropped. */
	got = run(SURFACE_JAVASCRIPT, "watch:\n  projectRoots: [\"~/src\"]\n"
	    "javascript:\n  includeBun: false\n  includePnpm: false\n"
	    "  lockfileNames: [yarn.lock, bun.lock, pnpm-lock.yaml, x.lock]\n",
	    &res);
	cr_assert_str_eq(got, "yarn src/a/yarn.lock\nwatch yarn.lock\n");
	free(got);
	disc_result_free(&res);
}

Test(discover_pkg, python, .init = setup, .fini = teardown)
{
	struct disc_result	 res;
	char			*got;

	got = run(SURFACE_PYTHON, "watch:\n  projectRoots: [\"~/src\"]\n",
	    &res);
	cr_assert_str_eq(got,
	    "constraints src/py/constraints-web.txt\n"
	    "constraints src/py/constraints.txt\n"
	    "pylock src/py/pylock.toml\n"
	    "pyproject src/py/pyproject.toml\n"
	    "req src/py/requirements-dev.txt\n"
	    "req src/py/requirements.txt\n"
	    "uv src/py/uv.lock\n"
	    "watch uv.lock\nwatch pyproject.toml\nwatch pylock.toml\n"
	    "watch requirements*.txt\nwatch constraints*.txt\n");
	free(got);
	disc_result_free(&res);

	/* Flags and globs: every non-exact name is a requirements file. */
	got = run(SURFACE_PYTHON, "watch:\n  projectRoots: [\"~/src\"]\n"
	    "python:\n  includeUV: false\n  includePylock: false\n"
	    "  requirementFileGlobs: [\"*.pip\", \"*requirements.txt\", "
	    "\"pyproject.toml\"]\n", &res);
	cr_assert_str_eq(got,
	    "req src/py/dev-requirements.txt\n"
	    "req src/py/pip/reqs.pip\n"
	    "pyproject src/py/pyproject.toml\n"
	    "req src/py/requirements.txt\n"
	    "watch pyproject.toml\nwatch *.pip\nwatch *requirements.txt\n");
	free(got);
	disc_result_free(&res);

	got = run(SURFACE_PYTHON, "watch:\n  projectRoots: [\"~/src\"]\n"
	    "python:\n  enabled: false\n", &res);
	cr_assert_str_eq(got, "");
	free(got);
	disc_result_free(&res);

	got = run(SURFACE_PYTHON, "watch:\n  projectRoots: [\"~/src\"]\n"
	    "python:\n  includeRequirements: false\n  includeUV: false\n"
	    "  includePyProject: false\n  includePylock: false\n", &res);
	cr_assert_str_eq(got, "");
	free(got);
	disc_result_free(&res);
}
