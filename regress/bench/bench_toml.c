/*
 * The TOML parser on uv.lock documents shaped like uv writes them
 * ([[package]] tables with registry, editable and git sources, inline
 * dependency tables with markers, sdist and wheel inline tables with
 * hashes, sizes and upload times, optional and dev dependencies,
 * metadata), at 2,000 packages and at a size near the 25 MB cap.
 *
 * Figures per size: the parse alone (toml_parse and toml_free), and the
 * parse plus what the pythonPackages surface takes from it (name and
 * version of every [[package]]).  Time is CPU time of this process; MB
 * are 10^6 bytes.  As a reference point, Python's tomllib parses the
 * same bytes when python3 has it (tomllib's parse only, its start-up
 * excluded).
 */

#include <sys/types.h>
#include <sys/resource.h>

#include <err.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "toml.h"

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
	"requests", "urllib3", "certifi", "idna", "charset", "numpy", "pandas",
	"pydantic", "core", "httpx", "anyio", "sniffio", "click", "rich",
	"pygments", "markdown", "jinja", "markupsafe", "attrs", "cattrs",
	"boto", "botocore", "s3transfer", "jmespath", "django", "flask",
	"werkzeug", "sqlalchemy", "alembic", "typing", "extensions", "pytest",
	"pluggy", "iniconfig", "packaging", "tomli", "mypy", "ruff", "black",
	"isort", "coverage", "hypothesis", "sortedcontainers", "grpc", "proto",
};
static const char *const tags[] = {
	"py3-none-any",
	"cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
	"cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64",
	"cp312-cp312-macosx_11_0_arm64", "cp312-cp312-win_amd64",
	"cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
	"cp311-cp311-macosx_10_9_x86_64", "cp311-cp311-musllinux_1_2_x86_64",
};
static const char *const markers[] = {
	"sys_platform == 'win32'", "python_full_version < '3.11'",
	"platform_machine == 'x86_64' and sys_platform == 'linux'",
	"extra == 'socks'", "implementation_name == 'cpython'",
};

struct buf {
	char	*s;
	size_t	 len, cap;
};

static void
add(struct buf *b, const char *fmt, ...)
    __attribute__((__format__(__printf__, 2, 3)));

static void
add(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			err(1, "vsnprintf");
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n;
		if ((b->s = realloc(b->s, b->cap)) == NULL)
			err(1, NULL);
	}
	b->len += (size_t)n;
}

static void
hex(char *out, int n)
{
	static const char	x[] = "0123456789abcdef";
	int			i;

	for (i = 0; i < n; i++)
		out[i] = x[rnd(16)];
	out[n] = '\0';
}

static void
pkgname(char *out, size_t sz, int i)
{
	(void)snprintf(out, sz, "%s-%s-%d", words[i % 45],
	    words[(i / 45) % 45], i);
}

static void
gen_deps(struct buf *b, int npkg)
{
	char	dep[96];
	int	j, n;

	if ((n = rnd(8)) == 0)
		return;
	add(b, "dependencies = [\n");
	for (j = 0; j < n; j++) {
		pkgname(dep, sizeof(dep), rnd(npkg));
		if (rnd(4) == 0)
			add(b, "    { name = \"%s\", marker = \"%s\" },\n", dep,
			    markers[rnd(5)]);
		else
			add(b, "    { name = \"%s\" },\n", dep);
	}
	add(b, "]\n");
}

static void
gen_files(struct buf *b, const char *name, int i)
{
	char	h[65], d[9];
	int	j, n;

	hex(h, 64);
	hex(d, 8);
	add(b, "sdist = { url = \"https://files.pythonhosted.org/packages/"
	    "%.2s/%.2s/%s/%s-1.0.tar.gz\", hash = \"sha256:%s\", size = %u, "
	    "upload-time = \"2024-%02u-%02uT%02u:%02u:%02u.%03uZ\" }\n",
	    d, d + 2, d, name, h, 1000 + rnd(5000000), 1 + rnd(12),
	    1 + rnd(28), rnd(24), rnd(60), rnd(60), rnd(1000));
	n = 1 + rnd(8);
	add(b, "wheels = [\n");
	for (j = 0; j < n; j++) {
		hex(h, 64);
		hex(d, 8);
		add(b, "    { url = \"https://files.pythonhosted.org/packages/"
		    "%.2s/%.2s/%s/%s-1.0-%s.whl\", hash = \"sha256:%s\", "
		    "size = %u, upload-time = "
		    "\"2024-%02u-%02uT%02u:%02u:%02uZ\" },\n", d, d + 2, d,
		    name, tags[(j + i) % 8], h, 1000 + rnd(9000000),
		    1 + rnd(12), 1 + rnd(28), rnd(24), rnd(60), rnd(60));
	}
	add(b, "]\n");
}

static char *
gen_uvlock(int npkg, size_t *lenp)
{
	struct buf	b = { NULL, 0, 0 };
	char		name[96], dep[96], h[41];
	int		i, kind;

	b.cap = 1 << 20;
	if ((b.s = malloc(b.cap)) == NULL)
		err(1, NULL);
	add(&b, "version = 1\nrevision = 2\nrequires-python = \">=3.10\"\n"
	    "resolution-markers = [\n    \"python_full_version >= '3.12'\",\n"
	    "    \"python_full_version < '3.12'\",\n]\n\n[options]\n"
	    "exclude-newer = \"2025-01-15T00:00:00Z\"\n\n");
	for (i = 0; i < npkg; i++) {
		pkgname(name, sizeof(name), i);
		kind = rnd(40);
		add(&b, "[[package]]\nname = \"%s\"\nversion = \"%u.%u.%u\"\n",
		    name, rnd(30), rnd(20), rnd(10));
		if (kind == 0)
			add(&b, "source = { editable = \"packages/%s\" }\n",
			    name);
		else if (kind == 1) {
			hex(h, 40);
			add(&b, "source = { git = \"https://github.com/example/"
			    "%s?rev=v1#%s\" }\n", name, h);
		} else
			add(&b, "source = { registry = "
			    "\"https://pypi.org/simple\" }\n");
		gen_deps(&b, npkg);
		if (kind > 1)
			gen_files(&b, name, i);
		if (rnd(10) == 0) {
			pkgname(dep, sizeof(dep), rnd(npkg));
			add(&b, "\n[package.optional-dependencies]\nsocks = [\n"
			    "    { name = \"%s\" },\n]\n", dep);
		}
		if (kind == 0) {
			pkgname(dep, sizeof(dep), rnd(npkg));
			add(&b, "\n[package.dev-dependencies]\ndev = [\n"
			    "    { name = \"%s\" },\n]\n\n[package.metadata]\n"
			    "requires-dist = [\n    { name = \"%s\", "
			    "specifier = \">=1\" },\n]\n", dep, dep);
		}
		add(&b, "\n");
	}
	*lenp = b.len;
	return (b.s);
}

static double
cpu_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static size_t
count_values(const struct toml_value *v)
{
	size_t	n = 1, i;

	if (v->type == TOML_ARRAY)
		for (i = 0; i < toml_array_len(v->u.a); i++)
			n += count_values(toml_array_at(v->u.a, i));
	else if (v->type == TOML_TABLE)
		for (i = 0; i < toml_table_len(v->u.t); i++)
			n += count_values(&toml_table_at(v->u.t, i)->val);
	return (n);
}

/* What the uv.lock reader needs: every package's name and version. */
static size_t
extract(const struct toml_doc *d)
{
	const struct toml_array	*pkgs;
	const struct toml_table	*p;
	size_t			 i, n = 0;

	pkgs = toml_as_array(toml_table_get(toml_root(d), "package"));
	for (i = 0; i < toml_array_len(pkgs); i++) {
		p = toml_as_table(toml_array_at(pkgs, i));
		if (toml_cstr(toml_table_get(p, "name")) != NULL)
			n++;
		(void)toml_cstr(toml_table_get(p, "version"));
	}
	return (n);
}

static void
tomllib(const char *doc, size_t len)
{
	char	 path[] = "/tmp/bench_toml.XXXXXX", cmd[512], line[256];
	FILE	*f;
	int	 fd;

	if (system("python3 -c 'import tomllib' >/dev/null 2>&1") != 0) {
		printf("  %-22s not available\n", "python3 tomllib");
		return;
	}
	if ((fd = mkstemp(path)) == -1)
		err(1, "mkstemp");
	if (write(fd, doc, len) != (ssize_t)len)
		err(1, "write");
	close(fd);
	(void)snprintf(cmd, sizeof(cmd), "python3 -c '"
	    "import sys, time, tomllib\n"
	    "s = open(sys.argv[1], \"rb\").read().decode()\n"
	    "n = 0; t = time.process_time()\n"
	    "while n < 3 or time.process_time() - t < 1.0:\n"
	    "    tomllib.loads(s); n += 1\n"
	    "el = (time.process_time() - t) / n\n"
	    "print(\"%%8.1f MB/s  %%10.3f ms per run\" %% "
	    "(len(s.encode()) / el / 1e6, el * 1e3))' %s", path);
	if ((f = popen(cmd, "r")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL)
			printf("  %-22s %s", "python3 tomllib", line);
		pclose(f);
	}
	unlink(path);
}

static void
bench(int npkg)
{
	static const char *const names[] = { "parse", "parse + name/version" };
	struct toml_error	 e;
	struct toml_doc		*d;
	struct toml_value	 root;
	struct rusage		 ru;
	char			*doc;
	size_t			 len, found = 0;
	double			 t0, el;
	int			 mode, iters, i;

	doc = gen_uvlock(npkg, &len);
	if ((d = toml_parse(doc, len, NULL, &e)) == NULL)
		errx(1, "generated uv.lock refused: %s", e.msg);
	memset(&root, 0, sizeof(root));
	root.type = TOML_TABLE;
	root.u.t = (struct toml_table *)toml_root(d);
	printf("uv.lock, %d packages, %.1f MB, %zu values\n", npkg,
	    (double)len / 1e6, count_values(&root) - 1);
	toml_free(d);
	for (mode = 0; mode < 2; mode++) {
		iters = (int)(300e6 / (double)len);
		if (iters < 3)
			iters = 3;
		el = 0;
		for (i = 0; i < iters; i++) {
			t0 = cpu_now();
			if ((d = toml_parse(doc, len, NULL, &e)) == NULL)
				errx(1, "%s", e.msg);
			if (mode == 1)
				found = extract(d);
			toml_free(d);
			el += cpu_now() - t0;
		}
		if (mode == 1 && found != (size_t)npkg)
			errx(1, "found %zu of %d packages", found, npkg);
		printf("  %-22s %8.1f MB/s  %10.3f ms per run  %8.0f "
		    "packages/s\n", names[mode], (double)len * iters / el / 1e6,
		    el / iters * 1e3, (double)npkg * iters / el);
	}
	tomllib(doc, len);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		printf("  peak RSS so far %ld MB\n", ru.ru_maxrss / 1024);
	free(doc);
}

int
main(int argc, char *argv[])
{
	int	i;

	if (argc == 1) {
		bench(2000);
		bench(9000);
	}
	/* Other sizes on request: bench_toml 500 */
	for (i = 1; i < argc; i++)
		bench(atoi(argv[i]));
	return (0);
}
