/*
 * pnpm-lock.yaml and uv.lock ingestion in the scan child, side by side
 * with a well-known parser of the same file on this machine:
 *
 *	pnpm-lock.yaml	our libyaml event parser (scan_pnpm.c) against
 *			python3's yaml.load with the libyaml-backed
 *			CSafeLoader, pure-Python SafeLoader (small size
 *			only), and yq '.packages | length' (wall time,
 *			interpreter start included).  `pnpm list` is not
 *			installed here (and needs node_modules).
 *	uv.lock		our TOML reader (toml.c + scan_python.c) against
 *			python3's tomllib.loads.
 *
 * Generated documents shaped like pnpm 9 and uv 0.4 write them, at
 * 1,500 and 20,000 packages.  Our figures are CPU time of this process,
 * best of five rounds of about 0.2 s; python's are its own process time
 * around the parse alone (the read excluded), best of three.  MB are
 * 10^6 bytes.  Figures only: nothing is asserted about time.
 */

#include <sys/types.h>

#include <err.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "scan_pkg.h"

static uint64_t	rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 33) % n);
}

static const char *const words[] = {
	"react", "lodash", "chalk", "debug", "ms", "semver", "glob", "minimatch",
	"yargs", "commander", "express", "body-parser", "qs", "rollup", "vite",
	"esbuild", "postcss", "tslib", "typescript", "eslint", "babel", "core",
	"utils", "parser", "plugin", "loader", "runtime", "types", "node", "cli",
	"helper", "compat", "string", "array", "object", "path", "fs", "stream",
};
static const char *const scopes[] = {
	"@babel", "@types", "@eslint", "@rollup", "@esbuild", "@vitejs",
};
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct out {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void
putf(struct out *o, const char *fmt, ...)
    __attribute__((__format__(__printf__, 2, 3)));

static void
putf(struct out *o, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			err(1, "vsnprintf");
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		o->cap = o->cap ? o->cap * 2 : 1 << 20;
		if ((o->p = realloc(o->p, o->cap)) == NULL)
			err(1, NULL);
	}
}

static void
name(char *buf, size_t len, int i)
{
	if (rnd(4) == 0)
		snprintf(buf, len, "%s/%s-%s-%d", scopes[rnd(nitems(scopes))],
		    words[rnd(nitems(words))], words[rnd(nitems(words))], i);
	else
		snprintf(buf, len, "%s-%s-%d", words[rnd(nitems(words))],
		    words[rnd(nitems(words))], i);
}

static void
hash(char *buf, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		buf[i] = b64[rnd(64)];
	buf[n] = '\0';
}

static char *
gen_pnpm(int n, size_t *lenp)
{
	struct out	o = { NULL, 0, 0 };
	char		nm[96], dep[96], h[89];
	int		i, d;

	putf(&o, "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: "
	    "true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n  .:\n"
	    "    dependencies:\n");
	for (i = 0; i < 20; i++)
		putf(&o, "      %s-%d:\n        specifier: ^1.%d.0\n"
		    "        version: 1.%d.3\n", words[i], i, i, i);
	putf(&o, "\npackages:\n\n");
	for (i = 0; i < n; i++) {
		name(nm, sizeof(nm), i);
		hash(h, 86);
		putf(&o, "  '%s@%d.%d.%d':\n    resolution: {integrity: "
		    "sha512-%s==}\n", nm, rnd(20), rnd(30), rnd(10), h);
		if (rnd(3) == 0)
			putf(&o, "    engines: {node: '>=%d'}\n", 12 + rnd(8));
		if (rnd(5) == 0)
			putf(&o, "    hasBin: true\n");
		if (rnd(8) == 0)
			putf(&o, "    peerDependencies:\n      react: ^18.0.0\n");
		putf(&o, "\n");
	}
	putf(&o, "snapshots:\n\n");
	for (i = 0; i < n; i++) {
		name(nm, sizeof(nm), i);
		putf(&o, "  '%s@1.0.%d':\n", nm, i);
		if (rnd(2) == 0) {
			putf(&o, "    dependencies:\n");
			for (d = rnd(4) + 1; d > 0; d--) {
				name(dep, sizeof(dep), rnd(n));
				putf(&o, "      '%s': 1.%d.0\n", dep, rnd(9));
			}
		} else
			putf(&o, "    {}\n");
		putf(&o, "\n");
	}
	*lenp = o.len;
	return (o.p);
}

static char *
gen_uv(int n, size_t *lenp)
{
	struct out	o = { NULL, 0, 0 };
	char		nm[96], dep[96], h[65];
	int		i, d, w, v1, v2;

	putf(&o, "version = 1\nrevision = 2\nrequires-python = \">=3.11\"\n");
	for (i = 0; i < n; i++) {
		snprintf(nm, sizeof(nm), "%s-%s-%d", words[rnd(nitems(words))],
		    words[rnd(nitems(words))], i);
		v1 = rnd(30);
		v2 = rnd(10);
		putf(&o, "\n[[package]]\nname = \"%s\"\nversion = \"%d.%d.0\"\n"
		    "source = { registry = \"https://pypi.org/simple\" }\n",
		    nm, v1, v2);
		if (rnd(2) == 0) {
			putf(&o, "dependencies = [\n");
			for (d = rnd(4) + 1; d > 0; d--) {
				snprintf(dep, sizeof(dep), "%s-%d",
				    words[rnd(nitems(words))], rnd(n));
				putf(&o, "    { name = \"%s\" },\n", dep);
			}
			putf(&o, "]\n");
		}
		for (d = 0; d < 64; d++)
			h[d] = "0123456789abcdef"[rnd(16)];
		h[64] = '\0';
		putf(&o, "sdist = { url = \"https://files.pythonhosted.org/"
		    "packages/%.2s/%.2s/%s/%s-%d.%d.0.tar.gz\", hash = "
		    "\"sha256:%s\", size = %u, upload-time = "
		    "\"2024-05-26T21:13:09.985Z\" }\n", h, h + 2, h + 4, nm,
		    v1, v2, h, 10000 + rnd(900000));
		putf(&o, "wheels = [\n");
		for (w = rnd(3) + 1; w > 0; w--)
			putf(&o, "    { url = \"https://files.pythonhosted.org/"
			    "packages/%.2s/%s-%d.%d.0-py3-none-any.whl\", hash "
			    "= \"sha256:%s\", size = %u, upload-time = "
			    "\"2024-05-26T21:13:07.924Z\" },\n", h, nm, v1, v2,
			    h, 10000 + rnd(900000));
		putf(&o, "]\n");
	}
	*lenp = o.len;
	return (o.p);
}

static double
cpu(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static double
wall(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
count_emit(void *arg, const struct scan_item *it)
{
	(*(uint64_t *)arg)++;
	return (0);
}

static void
count_issue(void *arg, enum scan_issue_code code, const char *reason)
{
	errx(1, "unexpected issue: %s", reason);
}

/* Ours: best of five rounds; items per run. */
static double
ours(enum scan_parser p, const char *doc, size_t len, uint64_t *items)
{
	uint64_t		 c;
	struct scan_sink	 sink = { count_emit, count_issue, NULL, &c };
	double			 t0, el, best = 0;
	int			 iters, i, round;

	iters = (int)(40e6 / (double)len);
	if (iters < 2)
		iters = 2;
	for (round = 0; round < 5; round++) {
		el = 0;
		for (i = 0; i < iters; i++) {
			c = 0;
			t0 = cpu();
			if (scan_pkg_mem(p, 0, doc, len, &sink) == -1)
				errx(1, "parse failed");
			el += cpu() - t0;
		}
		if (best == 0 || el < best)
			best = el;
	}
	*items = c;
	return (best / iters);
}

/*
 * A python3 one-liner over the file: it prints its best parse time in
 * seconds and the package count.  -1 if it did not run.
 */
static double
python(const char *path, const char *setup, const char *parse,
    long *count)
{
	char	 cmd[2048], line[256];
	FILE	*f;
	double	 t = -1;

	snprintf(cmd, sizeof(cmd), "python3 -c '%s\n"
	    "import sys, time\nd = open(sys.argv[1], \"rb\").read()\n"
	    "best = 1e9\nfor i in range(3):\n"
	    "    t = time.process_time()\n    n = %s\n"
	    "    best = min(best, time.process_time() - t)\n"
	    "print(best, n)' %s 2>/dev/null", setup, parse, path);
	if ((f = popen(cmd, "r")) == NULL)
		return (-1);
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "%lf %ld", &t, count) != 2)
		t = -1;
	pclose(f);
	return (t);
}

static double
yq(const char *path, long *count)
{
	char	 cmd[1024], line[64];
	FILE	*f;
	double	 t0, t = -1;

	snprintf(cmd, sizeof(cmd), "yq '.packages | length' %s 2>/dev/null",
	    path);
	t0 = wall();
	if ((f = popen(cmd, "r")) == NULL)
		return (-1);
	if (fgets(line, sizeof(line), f) != NULL &&
	    sscanf(line, "%ld", count) == 1)
		t = 0;
	if (pclose(f) != 0)
		t = -1;
	return (t == 0 ? wall() - t0 : -1);
}

static void
line(const char *what, size_t len, double s, long items)
{
	if (s < 0) {
		printf("  %-34s not available here\n", what);
		return;
	}
	printf("  %-34s %8.1f MB/s  %9.3f ms  %7ld packages\n", what,
	    (double)len / s / 1e6, s * 1e3, items);
}

static void
bench(const char *kind, int n)
{
	char		 path[] = "/tmp/bench_pkg.XXXXXX";
	char		*doc;
	size_t		 len;
	uint64_t	 items;
	long		 cnt;
	double		 s;
	FILE		*f;
	int		 fd, pnpm = strcmp(kind, "pnpm") == 0;

	doc = pnpm ? gen_pnpm(n, &len) : gen_uv(n, &len);
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL ||
	    fwrite(doc, 1, len, f) != len || fclose(f) != 0)
		err(1, "%s", path);
	printf("%s, %d packages, %.1f KB\n", pnpm ? "pnpm-lock.yaml" :
	    "uv.lock", n, (double)len / 1e3);
	s = ours(pnpm ? SCAN_PARSER_PNPM_LOCK : SCAN_PARSER_UV_LOCK, doc, len,
	    &items);
	line(pnpm ? "kobangd scan_pnpm (libyaml events)" :
	    "kobangd scan_uv_lock (toml.c)", len, s, (long)items);
	if (pnpm) {
		s = python(path, "import yaml", "len(yaml.load(d, "
		    "Loader=yaml.CSafeLoader)[\"packages\"])", &cnt);
		line("python3 yaml CSafeLoader", len, s, cnt);
		if (n <= 2000) {
			s = python(path, "import yaml", "len(yaml.load(d, "
			    "Loader=yaml.SafeLoader)[\"packages\"])", &cnt);
			line("python3 yaml SafeLoader (pure)", len, s, cnt);
		}
		s = yq(path, &cnt);
		line("yq (wall, with start-up)", len, s, cnt);
	} else {
		s = python(path, "import tomllib", "len(tomllib.loads("
		    "d.decode())[\"package\"])", &cnt);
		line("python3 tomllib", len, s, cnt);
	}
	unlink(path);
	free(doc);
}

int
main(int argc, char *argv[])
{
	bench("pnpm", 1500);
	bench("pnpm", 20000);
	bench("uv", 1500);
	bench("uv", 20000);
	return (0);
}
