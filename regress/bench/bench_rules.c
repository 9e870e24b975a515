/*
 * The rule engine's cost: the default ruleset over one million synthetic
 * items spread over all eight surfaces and their kinds, evaluated as
 * added changes and as a present snapshot.  Prints items per second.
 *
 * The ruleset is the built-in default configuration's (CONFIG.md 5).
 * Change evaluation has a target (issue #14); the ratio to it is
 * printed, above 1 meets it.
 */

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compat.h"
#include "config.h"
#include "differ.h"
#include "rules.h"
#include "timefmt.h"
#include "uuid.h"

#define NITEMS		1000000
#define BATCH		10000	/* items per call, about one surface scan */
#define NNAMES		65536
#define TARGET_CHANGES	2000000.0	/* items/s of CPU, issue #14 */

static const char *const mcp_details[] = {
	"npx -y @modelcontextprotocol/server-filesystem /Users/alice/src",
	"uvx mcp-server-fetch",
	"bunx some-mcp --stdio",
	"pnpm dlx mcp-remote https://mcp.example.com/sse",
	"https://mcp.example.com/sse",
	"https://mcp.example.com headersHelper",
	"wss://gw.example.com:443/ws",
	"node /Users/alice/tools/server.js --port 3000",
	"python -m my_mcp_server",
	"docker run -i --rm mcp/fetch",
	"bash -c 'curl -fsSL https://x.example/install | sh'",
	"/usr/local/bin/mcp-server --config /etc/mcp.json",
};

static const enum item_kind agent_kinds[] = { KIND_MCP_SERVER, KIND_HOOK,
    KIND_SKILL, KIND_AGENT, KIND_COMMAND, KIND_INSTRUCTION, KIND_PLUGIN,
    KIND_RULE, KIND_SETTINGS, KIND_CONFIG_PROFILE, KIND_IMPORT };
static const char *const js_pm[] = { "npm", "pnpm", "yarn", "bun" };
static const char *const py_pm[] = { "uv", "pip", "pyproject", "pylock" };
static const char *const taps[] = { "homebrew/core", "homebrew/core",
    "homebrew/cask", "thirdparty/tap", "unknown" };
static const char *const versions[] = { "1.3.0", "14.1.0", "3.25.76",
    "0.0.1-beta.2", "2024.4.1" };

static uint64_t	rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	/* xorshift64*: repeatable, so runs compare */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32) % n);
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		err(1, "strdup");
	return (p);
}

/* Shared pools: one million distinct strings would measure malloc. */
static char	*names[NNAMES];
static char	*jsdetails[NNAMES];
static char	*pydetails[NNAMES];
static char	*hashes[256];

static void
pools(void)
{
	char	buf[256], hex[65];
	size_t	i, j;

	for (i = 0; i < NNAMES; i++) {
		snprintf(buf, sizeof(buf), "pkg-%zu", i);
		names[i] = xstrdup(buf);
		/* one in five is a dev dependency */
		snprintf(buf, sizeof(buf), "resolved=https://registry.npmjs.org"
		    "/%s/-/%s-1.3.0.tgz integrity=sha512-AbCd%s", names[i],
		    names[i], i % 5 == 0 ? " scope=dev" : "");
		jsdetails[i] = xstrdup(buf);
		snprintf(buf, sizeof(buf), "resolved=https://files.pythonhosted"
		    ".org/packages/%s/%s-2.0.tar.gz", names[i], names[i]);
		pydetails[i] = xstrdup(buf);
	}
	for (i = 0; i < nitems(hashes); i++) {
		for (j = 0; j < 64; j++)
			hex[j] = "0123456789abcdef"[rnd(16)];
		hex[64] = '\0';
		hashes[i] = xstrdup(hex);
	}
}

static void
synth(struct item *it)
{
	uint32_t	r = rnd(100);
	const char	*name = names[rnd(NNAMES)];

	memset(it, 0, sizeof(*it));
	it->name = (char *)name;
	it->installed_on_request = ITEM_BOOL_NIL;
	if (r < 40) {
		it->surface = SURFACE_JAVASCRIPT;
		it->kind = KIND_PACKAGE;
		it->version = (char *)versions[rnd(nitems(versions))];
		it->path = "/Users/alice/src/app/package-lock.json";
		it->origin = (char *)js_pm[rnd(nitems(js_pm))];
		it->detail = jsdetails[rnd(NNAMES)];
	} else if (r < 60) {
		it->surface = SURFACE_PYTHON;
		it->kind = KIND_PYTHON_DECLARED_REQUIREMENT + rnd(3);
		it->version = it->kind == KIND_PYTHON_DECLARED_REQUIREMENT ?
		    NULL : (char *)versions[rnd(nitems(versions))];
		it->path = "/Users/alice/src/api/uv.lock";
		it->origin = (char *)py_pm[rnd(nitems(py_pm))];
		it->detail = rnd(2) ? pydetails[rnd(NNAMES)] : NULL;
	} else if (r < 75) {
		it->surface = SURFACE_HOMEBREW;
		it->kind = KIND_PACKAGE;
		it->version = (char *)versions[rnd(nitems(versions))];
		it->path = "/opt/homebrew/Cellar/pkg";
		it->origin = (char *)taps[rnd(nitems(taps))];
		it->installed_on_request = (int)rnd(3) - 1;
	} else {
		it->surface = SURFACE_CLAUDE + rnd(5);
		it->kind = agent_kinds[rnd(nitems(agent_kinds))];
		it->path = "/Users/alice/.claude.json";
		if (it->kind == KIND_MCP_SERVER) {
			it->detail = (char *)mcp_details[rnd(
			    nitems(mcp_details))];
			it->origin = strncmp(it->detail, "http", 4) == 0 ||
			    strncmp(it->detail, "ws", 2) == 0 ?
			    "https://mcp.example.com" : "npx";
		} else {
			it->origin = "file";
			it->detail = rnd(4) ? hashes[rnd(nitems(hashes))] :
			    NULL;
		}
	}
}

struct clocks {
	double	wall;
	double	cpu;
};

static struct clocks
now(void)
{
	struct timespec	w, c;
	struct clocks	t;

	clock_gettime(CLOCK_MONOTONIC, &w);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	t.wall = (double)w.tv_sec + (double)w.tv_nsec / 1e9;
	t.cpu = (double)c.tv_sec + (double)c.tv_nsec / 1e9;
	return (t);
}

/*
 * Items per second of CPU time: the machine may be shared, and wall
 * time then measures the neighbours.
 */
static double
report(const char *what, size_t n, struct clocks t0, size_t findings)
{
	struct clocks	t1 = now();
	double		cpu = t1.cpu - t0.cpu;

	printf("%-34s %.0f items/s (%zu items, %.3f s cpu, %.3f s wall, "
	    "%zu findings)\n", what, (double)n / cpu, n, cpu,
	    t1.wall - t0.wall, findings);
	return ((double)n / cpu);
}

/*
 * Change evaluation in calls of batch changes.  rules_eval_changes()
 * compiles the ruleset per call; small batches show what that costs.
 */
static void
bench_changes(const char *what, const struct ruleset *rs,
    const struct item *items, const char *ts, size_t batch, int target)
{
	struct change	*ch;
	struct finding	*f;
	size_t		 i, j, m, nf, total = 0;
	struct clocks	 t0;
	double		 rate;

	if ((ch = calloc(batch, sizeof(*ch))) == NULL)
		err(1, "calloc");
	t0 = now();
	for (i = 0; i < NITEMS; i += batch) {
		m = NITEMS - i < batch ? NITEMS - i : batch;
		for (j = 0; j < m; j++) {
			ch[j].kind = CHANGE_ADDED;
			ch[j].new = &items[i + j];
		}
		if (rules_eval_changes(rs, ch, m, ts, uuid_random_source(),
		    &f, &nf) == -1)
			err(1, "rules_eval_changes");
		total += nf;
		rules_findings_free(f, nf);
	}
	rate = report(what, NITEMS, t0, total);
	if (target)
		printf("%-34s %.2f of the target %.0f items/s\n",
		    "changes vs target", rate / TARGET_CHANGES, TARGET_CHANGES);
	free(ch);
}

static void
bench_present(const char *what, const struct ruleset *rs,
    const struct item *items, const char *ts)
{
	struct finding	*f;
	size_t		 i, m, nf, total = 0;
	struct clocks	 t0;

	t0 = now();
	for (i = 0; i < NITEMS; i += BATCH) {
		m = NITEMS - i < BATCH ? NITEMS - i : BATCH;
		if (rules_eval_present(rs, &items[i], m, NULL, 0, NULL, ts,
		    uuid_random_source(), &f, &nf) == -1)
			err(1, "rules_eval_present");
		total += nf;
		rules_findings_free(f, nf);
	}
	report(what, NITEMS, t0, total);
}

int
main(void)
{
	struct config	 cfg;
	struct ruleset	 rs, prs;
	struct item	*items;
	char		 ts[TIMEFMT_BUFSZ];
	size_t		 i;

	config_default(&cfg);
	rs = cfg.rules;

	if (timefmt_now(ts) == -1)
		err(1, "timefmt_now");
	pools();
	if ((items = calloc(NITEMS, sizeof(*items))) == NULL)
		err(1, "calloc");
	for (i = 0; i < NITEMS; i++)
		synth(&items[i]);
	printf("bench_rules: %d items, %zu default rules, batches of %d\n",
	    NITEMS, rs.n, BATCH);

	bench_changes("changes (all added)", &rs, items, ts, BATCH, 1);
	bench_present("present (default ruleset)", &rs, items, ts);

	/* The same rules all triggered by present: matching plus dedup. */
	prs.n = rs.n;
	if ((prs.v = calloc(rs.n, sizeof(*prs.v))) == NULL)
		err(1, "calloc");
	memcpy(prs.v, rs.v, rs.n * sizeof(*prs.v));
	for (i = 0; i < prs.n; i++)
		prs.v[i].triggers = RULE_TRIGGER(TRIGGER_PRESENT);
	bench_present("present (default rules as present)", &prs, items, ts);

	bench_changes("changes, batches of 10", &rs, items, ts, 10, 0);
	bench_changes("changes, batches of 1", &rs, items, ts, 1, 0);

	free(prs.v);
	config_free(&cfg);
	free(items);
	return (0);
}
