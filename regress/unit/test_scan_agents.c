/*
 * Parsers of homebrew, codexConfig, cursorConfig, opencodeConfig and
 * piConfig (SURFACES.md 1, 3-6): golden fixtures under regress/scan/
 * (realistic receipts, a Codex config.toml with profiles, servers and
 * hooks, hooks.json, Cursor and Pi MCP files, OpenCode JSONC, Pi
 * settings), the spec's vectors, type errors, malformed, oversized and
 * hostile files, and the files through the sandboxed scan child.
 *
 * Run from the top of the source tree (or set KOBANG_SRCDIR).  With
 * KOBANG_UPDATE_GOLDEN=1 the .ok files are written instead of compared.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "scan_golden.h"
#include "scan_agents.h"
#include "scan_child.h"

/* A file of the source tree, whole. */
static char *
src_slurp(const char *rel, size_t *lenp)
{
	char	*path = srcpath(rel), *buf;

	buf = must_slurp(path, lenp);
	free(path);
	return (buf);
}

/* golden_emit with the installedOnRequest flag after the origin. */
static int
agents_emit(void *arg, const struct scan_item *it)
{
	struct golden	*g = arg;

	if (g->stop_after >= 0 && g->nitems >= g->stop_after)
		return (-1);
	fprintf(g->f, "%s | ", item_kind_name(it->kind));
	golden_str(g->f, it->name.p, it->name.len, 0);
	fputs(" | ", g->f);
	golden_str(g->f, it->version.p, it->version.len, it->version.p == NULL);
	fputs(" | ", g->f);
	golden_str(g->f, it->origin.p, it->origin.len, 0);
	fprintf(g->f, " | %s | ", it->ior == ITEM_BOOL_NIL ? "~" :
	    it->ior ? "true" : "false");
	golden_str(g->f, it->detail.p, it->detail.len, it->detail.p == NULL);
	fputc('\n', g->f);
	g->nitems++;
	return (0);
}

/*
 * Run one of the parsers over a document in memory.  nohash: the sink
 * knows no hash (a file that could not be hashed).
 */
static char *
arun(enum scan_parser parser, int flags, const char *doc, size_t len,
    int nohash)
{
	struct golden		 g;
	struct scan_sink	 sink;
	struct json		 js;
	static char		 hex[SHA256_HEX_BUFSZ];
	char			*copy;
	int			 r = -1;
	struct sv		 name = { "git", 3 }, ver = { "2.47.0, 2.47.1", 14 };

	memset(&g, 0, sizeof(g));
	g.stop_after = -1;
	cr_assert_not_null(g.f = open_memstream(&g.buf, &g.len));
	if (!nohash && sha256_hex(doc, len, hex) == 0)
		g.hash = hex;
	sink.emit = agents_emit;
	sink.issue = golden_issue;
	sink.hash = golden_hash;
	sink.arg = &g;
	cr_assert_not_null(copy = malloc(len == 0 ? 1 : len));
	memcpy(copy, doc, len);
	json_init_mem(&js, copy, len, scan_parser_json_flags(parser));
	switch (parser) {
	case SCAN_PARSER_BREW_RECEIPT:
		r = scan_brew_receipt(&js, name, ver, &sink);
		break;
	case SCAN_PARSER_CODEX_CONFIG:
		r = scan_codex_config(doc, len, "config.toml", g.hash, &sink);
		break;
	case SCAN_PARSER_CODEX_HOOKS:
		r = scan_codex_hooks(&js, &sink);
		break;
	case SCAN_PARSER_PI_SETTINGS:
		r = scan_keys_file(&js, KIND_SETTINGS, SCAN_ORIGIN_PI_SETTINGS,
		    &sink);
		break;
	case SCAN_PARSER_CURSOR_MCP:
		r = scan_cursor_mcp(&js, &sink);
		break;
	case SCAN_PARSER_PI_MCP:
		r = scan_pi_mcp(&js, flags, &sink);
		break;
	case SCAN_PARSER_OPENCODE_CONFIG:
		r = scan_opencode_config(&js, flags, "opencode.jsonc", &sink);
		break;
	default:
		cr_assert_fail("parser %d", parser);
	}
	json_free(&js);
	free(copy);
	fprintf(g.f, "status %s\n", r == 0 ? "ok" : "failed");
	fclose(g.f);
	return (g.buf);
}

static char *
run(enum scan_parser parser, int flags, const char *doc)
{
	return (arun(parser, flags, doc, strlen(doc), 0));
}

static void
expect(enum scan_parser parser, int flags, const char *doc, const char *want)
{
	char	*got = run(parser, flags, doc);

	cr_assert_str_eq(got, want, "for %s", doc);
	free(got);
}

/* An issue with that code, and the given final status. */
static void
expect_issue(enum scan_parser parser, int flags, const char *doc,
    const char *code, const char *status)
{
	char	*got = run(parser, flags, doc), want[64];

	snprintf(want, sizeof(want), "issue %s:", code);
	cr_assert_not_null(strstr(got, want), "no %s issue for %s: %s", code,
	    doc, got);
	snprintf(want, sizeof(want), "status %s\n", status);
	cr_assert_not_null(strstr(got, want), "not %s for %s: %s", status,
	    doc, got);
	free(got);
}

static void
expect_fail(enum scan_parser parser, int flags, const char *doc,
    const char *code)
{
	char	*got = run(parser, flags, doc);

	expect_issue(parser, flags, doc, code, "failed");
	/* A failed file emitted nothing at all. */
	cr_assert_eq(strncmp(got, "issue ", 6), 0, "items before: %s", got);
	free(got);
}

struct fixture {
	const char		*file;
	enum scan_parser	 parser;
	int			 flags;
	const char		*ok;
};

static const struct fixture fixtures[] = {
	{ "brew-receipt-formula.json", SCAN_PARSER_BREW_RECEIPT, 0, NULL },
	{ "brew-receipt-cask.json", SCAN_PARSER_BREW_RECEIPT, 0, NULL },
	{ "brew-receipt-dependency.json", SCAN_PARSER_BREW_RECEIPT, 0, NULL },
	{ "brew-receipt-notap.json", SCAN_PARSER_BREW_RECEIPT, 0, NULL },
	{ "codex-config.toml", SCAN_PARSER_CODEX_CONFIG, 0, NULL },
	{ "codex-hooks.json", SCAN_PARSER_CODEX_HOOKS, 0, NULL },
	{ "cursor-mcp.json", SCAN_PARSER_CURSOR_MCP, 0, NULL },
	{ "opencode.jsonc", SCAN_PARSER_OPENCODE_CONFIG, SCAN_F_MCP, NULL },
	{ "opencode.jsonc", SCAN_PARSER_OPENCODE_CONFIG, 0,
	    "opencode.jsonc.nomcp.ok" },
	{ "opencode-array-command.json", SCAN_PARSER_OPENCODE_CONFIG,
	    SCAN_F_MCP, NULL },
	{ "pi-mcp.jsonc", SCAN_PARSER_PI_MCP, SCAN_F_IMPORTS, NULL },
	{ "pi-mcp.jsonc", SCAN_PARSER_PI_MCP, 0, "pi-mcp.jsonc.noimports.ok" },
	{ "pi-settings.json", SCAN_PARSER_PI_SETTINGS, 0, NULL },
};

Test(scan_agents, golden_fixtures)
{
	size_t	 i, len, oklen;
	char	*doc, *got, *want, rel[256], *path;
	FILE	*f;

	for (i = 0; i < nitems(fixtures); i++) {
		snprintf(rel, sizeof(rel), "regress/scan/%s", fixtures[i].file);
		doc = src_slurp(rel, &len);
		got = arun(fixtures[i].parser, fixtures[i].flags, doc, len, 0);
		if (fixtures[i].ok != NULL)
			snprintf(rel, sizeof(rel), "regress/scan/%s",
			    fixtures[i].ok);
		else
			snprintf(rel, sizeof(rel), "regress/scan/%s.ok",
			    fixtures[i].file);
		if (getenv("KOBANG_UPDATE_GOLDEN") != NULL) {
			path = srcpath(rel);
			cr_assert_not_null(f = fopen(path, "w"));
			fputs(got, f);
			fclose(f);
			free(path);
		}
		want = src_slurp(rel, &oklen);
		cr_assert_str_eq(got, want, "%s differs from %s",
		    fixtures[i].file, rel);
		/* Secrets in env, headers, environment never come out. */
		cr_assert_null(strstr(got, "never-read"), "%s", got);
		cr_assert_null(strstr(got, "never_read"), "%s", got);
		free(want);
		free(got);
		free(doc);
	}
}

/* ---- homebrew ---- */

Test(scan_agents, brew_receipt_fields)
{
	const int	P = SCAN_PARSER_BREW_RECEIPT;

	expect(P, 0, "{}", "package | git | 2.47.0, 2.47.1 | unknown | ~ | ~\n"
	    "status ok\n");
	expect(P, 0, "{\"installed_on_request\": false, \"source\": "
	    "{\"tap\": \"hashicorp/tap\"}}",
	    "package | git | 2.47.0, 2.47.1 | hashicorp/tap | false | ~\n"
	    "status ok\n");
	/* null is as good as absent; the first of duplicate keys wins. */
	expect(P, 0, "{\"installed_on_request\": null, \"source\": null}",
	    "package | git | 2.47.0, 2.47.1 | unknown | ~ | ~\nstatus ok\n");
	expect(P, 0, "{\"source\": {\"tap\": \"a/b\", \"tap\": 7}, "
	    "\"source\": 1, \"installed_on_request\": true, "
	    "\"installed_on_request\": \"x\"}",
	    "package | git | 2.47.0, 2.47.1 | a/b | true | ~\nstatus ok\n");
	/* An empty tap is a tap (origin ""). */
	expect(P, 0, "{\"source\": {\"tap\": \"\"}}",
	    "package | git | 2.47.0, 2.47.1 |  | ~ | ~\nstatus ok\n");
}

Test(scan_agents, brew_receipt_bad_keeps_item)
{
	const int	 P = SCAN_PARSER_BREW_RECEIPT;
	static const struct {
		const char	*doc;
		const char	*code;
	} bad[] = {
		{ "{\"source\": {\"tap\": \"homebrew/core\"", "malformed" },
		{ "{\"source\": {\"tap\": \"homebrew/core\"},}", "malformed" },
		{ "", "malformed" },
		{ "\"homebrew/core\"", "malformed" },
		{ "{\"installed_on_request\": true} {}", "malformed" },
		{ "{\"source\": {\"tap\": \"\\ud800\"}}", "malformed" },
		{ "{\"source\": {\"tap\": \"a\xff\"}}", "malformed" },
		{ "[]", "type error" },
		{ "{\"source\": {\"tap\": 12}}", "type error" },
		{ "{\"source\": [\"homebrew/core\"]}", "type error" },
		{ "{\"installed_on_request\": \"yes\"}", "type error" },
		{ "{\"installed_on_request\": 1}", "type error" },
		{ "{\"source\": {\"tap\": \"a\\u0000b\"}}", "limit" },
	};
	size_t	 i;
	char	*got;

	for (i = 0; i < nitems(bad); i++) {
		expect_issue(P, 0, bad[i].doc, bad[i].code, "ok");
		got = run(P, 0, bad[i].doc);
		/* The package stands, origin unknown, flag nil. */
		cr_assert_not_null(strstr(got, "package | git | "
		    "2.47.0, 2.47.1 | unknown | ~ | ~\n"), "%s: %s",
		    bad[i].doc, got);
		free(got);
	}
}

Test(scan_agents, brew_receipt_hostile)
{
	const int	 P = SCAN_PARSER_BREW_RECEIPT;
	char		*doc, *got;
	size_t		 i, n = 100000;

	/* Deep nesting in an ignored key: refused without recursion. */
	cr_assert_not_null(doc = malloc(2 * n + 64));
	strlcpy(doc, "{\"runtime_dependencies\": ", 2 * n + 64);
	for (i = 0; i < n; i++)
		strlcat(doc, "[", 2 * n + 64);
	got = run(P, 0, doc);
	cr_assert_not_null(strstr(got, "| unknown | ~ | ~\n"), "%s", got);
	cr_assert_not_null(strstr(got, "issue malformed:"), "%s", got);
	free(got);
	/* A tap longer than an origin may be. */
	memset(doc, 'a', 2 * n);
	memcpy(doc, "{\"source\":{\"tap\":\"", 18);
	strlcpy(doc + 18 + 10000, "\"}}", 4);
	got = run(P, 0, doc);
	cr_assert_not_null(strstr(got, "| unknown | ~ | ~\n"), "%s", got);
	cr_assert_not_null(strstr(got, "issue limit:"), "%s", got);
	free(got);
	free(doc);
}

/* ---- codexConfig ---- */

#define H	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

Test(scan_agents, codex_spec_vectors)
{
	const int	 P = SCAN_PARSER_CODEX_CONFIG;
	const char	*doc;
	char		*got, want[1024], hex[SHA256_HEX_BUFSZ];

	/* SURFACES.md 3.2's tests. */
	doc = "[mcp_servers.docs]\ncommand=\"npx\"\nargs=[\"-y\",\"docs-mcp\"]\n"
	    "[mcp_servers.gateway]\nurl=\"https://gw.example/mcp\"\n"
	    "[hooks.before_run]\n";
	cr_assert_eq(sha256_hex(doc, strlen(doc), hex), 0);
	snprintf(want, sizeof(want),
	    "configProfile | config.toml | ~ | codex-config | ~ | %s\n"
	    "mcpServer | docs | ~ | npx | ~ | npx -y docs-mcp\n"
	    "mcpServer | gateway | ~ | https://gw.example/mcp | ~ | "
	    "https://gw.example/mcp\n"
	    "hook | before_run | ~ | codex-hooks | ~ | %s\n"
	    "status ok\n", hex, hex);
	expect(P, 0, doc, want);
	/* No hash: the items stand with a nil detail. */
	got = arun(P, 0, doc, strlen(doc), 1);
	cr_assert_not_null(strstr(got, "configProfile | config.toml | ~ | "
	    "codex-config | ~ | ~\n"), "%s", got);
	free(got);
}

Test(scan_agents, codex_inline_hooks)
{
	const int	 P = SCAN_PARSER_CODEX_CONFIG;
	const char	*doc;
	char		*got;

	/*
	 * Trimmed of spaces and tabs; [[...]], a trailing comment, a CR
	 * and an empty name do not count; sorted, once each.
	 */
	doc = "x = 1\n"
	    "[hooks.zeta]\n"
	    " \t[hooks.alpha.beta]\t \n"
	    "[[hooks.arr]]\n"
	    "[hooks.commented] # no\n"
	    "[hooks.crlf]\r\n"
	    "[hooks.\"quoted\"]\n"
	    "s = '''\n[hooks.in_string]\n'''\n";
	got = run(P, 0, doc);
	cr_assert_not_null(strstr(got, "hook | \"quoted\" |"), "%s", got);
	cr_assert_not_null(strstr(got, "hook | alpha.beta |"), "%s", got);
	cr_assert_not_null(strstr(got, "hook | zeta |"), "%s", got);
	/* The raw text is read, as the reference does: even in a string. */
	cr_assert_not_null(strstr(got, "hook | in_string |"), "%s", got);
	cr_assert_null(strstr(got, "arr"), "%s", got);
	cr_assert_null(strstr(got, "commented"), "%s", got);
	cr_assert_null(strstr(got, "crlf"), "%s", got);
	cr_assert(strstr(got, "hook | \"quoted\"") < strstr(got,
	    "hook | alpha.beta") && strstr(got, "hook | alpha.beta") <
	    strstr(got, "hook | in_string") && strstr(got,
	    "hook | in_string") < strstr(got, "hook | zeta"), "%s", got);
	free(got);
	/* The same hook twice (two files' worth of lines): once. */
	got = run(P, 0, "[hooks.a]\nx=1\n[hooks.b]\n");
	cr_assert_not_null(strstr(got, "hook | a |"), "%s", got);
	free(got);
}

Test(scan_agents, codex_failures_give_nothing)
{
	const int	 P = SCAN_PARSER_CODEX_CONFIG;
	char		*got;

	/* Not TOML: no items at all, not even the profile. */
	expect_fail(P, 0, "[mcp_servers.docs\ncommand = \"npx\"\n",
	    "malformed");
	expect_fail(P, 0, "a = 1\na = 2\n", "malformed");
	expect_fail(P, 0, "[hooks.x]\n[hooks.x]\n", "malformed");
	expect_fail(P, 0, "a = \"\xff\"\n", "malformed");
	expect_fail(P, 0, "a = [1,]\nb = \n", "malformed");
	/* Wrong types in the keys read. */
	expect_fail(P, 0, "mcp_servers = \"x\"\n", "type error");
	expect_fail(P, 0, "mcp_servers = { docs = 1 }\n", "type error");
	expect_fail(P, 0, "[mcp_servers.docs]\ncommand = [\"npx\"]\n",
	    "type error");
	expect_fail(P, 0, "[mcp_servers.docs]\ncommand = \"npx\"\n"
	    "args = \"-y\"\n", "type error");
	expect_fail(P, 0, "[mcp_servers.docs]\ncommand = \"npx\"\n"
	    "args = [\"-y\", 1]\n", "type error");
	expect_fail(P, 0, "[mcp_servers.docs]\nurl = 1\n", "type error");
	expect_fail(P, 0, "[mcp_servers.docs]\nheadersHelper = true\n",
	    "type error");
	expect_fail(P, 0, "[mcp_servers.docs]\ntype = 2\n", "type error");
	/* Other keys of a server are not looked at. */
	got = run(P, 0, "[mcp_servers.docs]\ncommand = \"npx\"\n"
	    "env = 3\nenabled = \"no\"\n[x]\n");
	cr_assert_null(strstr(got, "issue "), "%s", got);
	cr_assert_not_null(strstr(got, "mcpServer | docs | ~ | npx | ~ | npx\n"
	    "status ok\n"), "%s", got);
	free(got);
}

Test(scan_agents, codex_hostile)
{
	const int	 P = SCAN_PARSER_CODEX_CONFIG;
	char		*doc, *got;
	size_t		 i, n = 200000;

	/* Nested arrays past the limit: refused, not a crash. */
	cr_assert_not_null(doc = malloc(n + 16));
	strlcpy(doc, "a = ", n + 16);
	for (i = 0; i < n / 2; i++)
		strlcat(doc, "[", n + 16);
	got = run(P, 0, doc);
	cr_assert_not_null(strstr(got, "status failed\n"), "%s", got);
	free(got);
	/*
	 * A NUL in a server name comes out as such (the child's encoder
	 * refuses it with an issue: child_files).
	 */
	got = run(P, 0, "[mcp_servers.\"a\\u0000b\"]\ncommand = \"x\"\n");
	cr_assert_not_null(strstr(got, "mcpServer | a\\x00b | ~ | x |"), "%s",
	    got);
	free(got);
	free(doc);
}

/* ---- hooks.json, Pi settings ---- */

Test(scan_agents, keys_files)
{
	/* A top level that is not an object: nothing, silently. */
	expect(SCAN_PARSER_CODEX_HOOKS, 0, "[{\"a\": 1}]", "status ok\n");
	/* A scalar top level is not JSON to the reference's reader. */
	expect_fail(SCAN_PARSER_PI_SETTINGS, 0, "\"x\"", "malformed");
	expect(SCAN_PARSER_PI_SETTINGS, 0, "{}", "status ok\n");
	expect_fail(SCAN_PARSER_CODEX_HOOKS, 0, "{\"a\": [}", "malformed");
	/*
	 * Codex writes {"hooks": {event: [...]}}: the events are the
	 * hooks (kobangd.yaml(5)); "hooks" that is no object is a key.
	 */
	{
		const char	*d = "{\"hooks\": {\"Stop\": [], \"PreToolUse\": "
				    "[], \"Stop\": 1}, \"x\": 1, \"hooks\": {\"Z\": 1}}";
		char		 h[SHA256_HEX_BUFSZ], want[512];

		cr_assert_eq(sha256_hex(d, strlen(d), h), 0);
		snprintf(want, sizeof(want),
		    "hook | PreToolUse | ~ | codex-hooks | ~ | %s\n"
		    "hook | Stop | ~ | codex-hooks | ~ | %s\nstatus ok\n", h, h);
		expect(SCAN_PARSER_CODEX_HOOKS, 0, d, want);
		d = "{\"hooks\": [1], \"b\": 2}";
		cr_assert_eq(sha256_hex(d, strlen(d), h), 0);
		snprintf(want, sizeof(want),
		    "hook | b | ~ | codex-hooks | ~ | %s\n"
		    "hook | hooks | ~ | codex-hooks | ~ | %s\nstatus ok\n", h, h);
		expect(SCAN_PARSER_CODEX_HOOKS, 0, d, want);
	}
	/* Pi settings keep every top-level key, "hooks" too. */
	expect_fail(SCAN_PARSER_PI_SETTINGS, 0, "{\"hooks\": {,}}",
	    "malformed");
	expect_fail(SCAN_PARSER_CODEX_HOOKS, 0, "[1, 2", "malformed");
	expect_fail(SCAN_PARSER_PI_SETTINGS, 0, "{\"a\": 1,}", "malformed");
	/* Pi settings are strict JSON: no comments. */
	expect_fail(SCAN_PARSER_PI_SETTINGS, 0, "{\"a\": 1 // c\n}",
	    "malformed");
}

/* ---- Cursor, Pi, OpenCode MCP files ---- */

Test(scan_agents, cursor_mcp)
{
	const int	P = SCAN_PARSER_CURSOR_MCP;

	/* Only top-level mcpServers: Claude's projects are not Cursor's. */
	expect(P, 0, "{\"projects\": {\"/p\": {\"mcpServers\": {\"x\": "
	    "{\"command\": \"y\"}}}}, \"mcpServers\": {\"b\": {\"url\": "
	    "\"https://b\"}, \"a\": {\"command\": \"c\", \"args\": [\"1\", "
	    "\"2\"]}}}",
	    "mcpServer | a | ~ | c | ~ | c 1 2\n"
	    "mcpServer | b | ~ | https://b | ~ | https://b\n"
	    "status ok\n");
	/* RULES.md 9.5: an empty url falls back to the command. */
	expect(P, 0, "{\"mcpServers\": {\"s\": {\"url\": \"\", \"command\": "
	    "\"run\", \"headersHelper\": \"h\"}}}",
	    "mcpServer | s | ~ | run | ~ | run headersHelper\nstatus ok\n");
	expect_fail(P, 0, "{\"mcpServers\": []}", "type error");
	expect_fail(P, 0, "{\"mcpServers\": {\"s\": {\"args\": \"x\"}}}",
	    "type error");
	expect_fail(P, 0, "{\"mcpServers\": {\"s\": {\"command\": 1}}}",
	    "type error");
	expect_fail(P, 0, "{\"mcpServers\": {}} // c", "malformed");
	expect_fail(P, 0, "[]", "type error");
}

Test(scan_agents, pi_mcp)
{
	const int	P = SCAN_PARSER_PI_MCP;

	/* Imports in order, repeats kept (SURFACES.md 13.3). */
	expect(P, SCAN_F_IMPORTS, "{\"imports\": [\"b\", \"a\", \"b\"]}",
	    "import | b | ~ | pi-import | ~ | ~\n"
	    "import | a | ~ | pi-import | ~ | ~\n"
	    "import | b | ~ | pi-import | ~ | ~\n"
	    "status ok\n");
	expect(P, 0, "{\"imports\": [\"b\"]}", "status ok\n");
	/* JSONC: comments outside strings, "//" inside one is text. */
	expect(P, SCAN_F_IMPORTS, "/* head */ {\"imports\": [\"a//b\" /* c */]"
	    " // tail\n}",
	    "import | a//b | ~ | pi-import | ~ | ~\nstatus ok\n");
	/* ... but trailing commas are not JSONC here. */
	expect_fail(P, SCAN_F_IMPORTS, "{\"imports\": [\"a\",]}", "malformed");
	expect_fail(P, SCAN_F_IMPORTS, "{\"imports\": []} /* open",
	    "malformed");
	/* Type-checked even when not kept. */
	expect_fail(P, 0, "{\"imports\": \"a\"}", "type error");
	expect_fail(P, 0, "{\"imports\": [1]}", "type error");
}

Test(scan_agents, opencode_config)
{
	const int	 P = SCAN_PARSER_OPENCODE_CONFIG;
	const char	*doc;
	char		 want[1024], hex[SHA256_HEX_BUFSZ];

	doc = "{\"plugin\": [\"x\", \"x\"], \"mcp\": {\"m\": {\"command\": "
	    "\"c\"}}}";
	cr_assert_eq(sha256_hex(doc, strlen(doc), hex), 0);
	snprintf(want, sizeof(want),
	    "configProfile | opencode.jsonc | ~ | opencode-config | ~ | %s\n"
	    "mcpServer | m | ~ | c | ~ | c\n"
	    "plugin | x | ~ | opencode-plugin | ~ | %s\n"
	    "plugin | x | ~ | opencode-plugin | ~ | %s\n"
	    "status ok\n", hex, hex, hex);
	expect(P, SCAN_F_MCP, doc, want);
	/*
	 * SURFACES.md 13.6: OpenCode's command is [command, arg, ...]; the
	 * reference refuses it, kobangd reads it as command and args, with
	 * the trailing commas OpenCode's JSONC allows.
	 */
	doc = "{\"mcp\": {\"m\": {\"command\": [\"a\", \"-y\", \"b\",],"
	    "\"args\": [\"c\"]}, \"e\": {\"command\": []},},}";
	cr_assert_eq(sha256_hex(doc, strlen(doc), hex), 0);
	snprintf(want, sizeof(want),
	    "configProfile | opencode.jsonc | ~ | opencode-config | ~ | %s\n"
	    "mcpServer | m | ~ | a | ~ | a -y b c\n"
	    "status ok\n", hex);
	expect(P, SCAN_F_MCP, doc, want);
	/* Decoded without includeMCP too. */
	expect_fail(P, 0, "{\"mcp\": {\"m\": {\"command\": [1]}}}",
	    "type error");
	expect_fail(P, SCAN_F_MCP, "{\"mcp\": {\"m\": {\"command\": "
	    "[\"a\", {}]}}}", "type error");
	expect_fail(P, SCAN_F_MCP, "{\"plugin\": \"x\"}", "type error");
	expect_fail(P, SCAN_F_MCP, "{\"plugin\": [\"x\", null]}",
	    "type error");
	expect_fail(P, SCAN_F_MCP, "{\"plugin\": [,]}", "malformed");
}

/* ---- Through the sandboxed child ---- */

static int
tmpfile_with(const char *doc, size_t len)
{
	char	path[] = "/tmp/test_scan_agents.XXXXXX";
	int	fd;

	cr_assert_neq(fd = mkstemp(path), -1);
	unlink(path);
	if (len > 0)
		cr_assert_eq(write(fd, doc, len), (ssize_t)len);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	return (fd);
}

static struct scan_result *
send_agents(struct scan_peer *p, enum scan_parser parser, enum surface s,
    int flags, int fd, const char *label, enum item_kind kind,
    const char *name, const char *origin, const char *version)
{
	struct scan_file	f;

	memset(&f, 0, sizeof(f));
	f.scan_id = 7;
	f.file_id = p->next_id++;
	f.parser = parser;
	f.surface = s;
	f.flags = flags;
	f.kind = kind;
	strlcpy(f.name, name, sizeof(f.name));
	strlcpy(f.origin, origin, sizeof(f.origin));
	strlcpy(f.version, version, sizeof(f.version));
	strlcpy(f.path, label, sizeof(f.path));
	cr_assert_eq(scanproto_send_file(p->sp, &p->ibuf, &f, fd), 0,
	    "send_file: %s", strerror(errno));
	return (scan_peer_wait(p));
}

Test(scan_agents, child_files)
{
	struct scan_peer	 p;
	struct scan_result	*res;
	const char		*doc;
	char			 hex[SHA256_HEX_BUFSZ], *big;
	size_t			 bigsz = SCAN_CAP_AGENT + 2;

	memset(&p, 0, sizeof(p));
	scan_peer_start(&p, 1);

	/* A receipt: the rack is the label and the items' path. */
	doc = "{\"installed_on_request\": true, \"source\": {\"tap\": "
	    "\"homebrew/core\"}}";
	res = send_agents(&p, SCAN_PARSER_BREW_RECEIPT, SURFACE_HOMEBREW, 0,
	    tmpfile_with(doc, strlen(doc)), "/opt/homebrew/Cellar/git",
	    KIND_PACKAGE, "git", "", "2.47.0, 2.47.1");
	cr_assert_not_null(res);
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, 1);
	cr_assert_str_eq(res->items[0].name, "git");
	cr_assert_str_eq(res->items[0].version, "2.47.0, 2.47.1");
	cr_assert_str_eq(res->items[0].origin, "homebrew/core");
	cr_assert_str_eq(res->items[0].path, "/opt/homebrew/Cellar/git");
	cr_assert_eq(res->items[0].installed_on_request, 1);
	scan_result_free(res);

	/* An oversized receipt: the package stays, origin unknown. */
	cr_assert_not_null(big = malloc(bigsz));
	memset(big, ' ', bigsz);
	big[0] = '{';
	big[SCAN_CAP_BREW_RECEIPT] = '}';
	res = send_agents(&p, SCAN_PARSER_BREW_RECEIPT, SURFACE_HOMEBREW, 0,
	    tmpfile_with(big, SCAN_CAP_BREW_RECEIPT + 1),
	    "/opt/homebrew/Caskroom/firefox", KIND_PACKAGE, "firefox", "",
	    "133.0");
	cr_assert_not_null(res);
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, 1);
	cr_assert_str_eq(res->items[0].origin, "unknown");
	cr_assert_eq(res->items[0].installed_on_request, ITEM_BOOL_NIL);
	cr_assert_eq(res->nissues, 1);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_OVERSIZED);
	scan_result_free(res);

	/* OpenCode that does not decode: the profile item, hashed. */
	doc = "{\n  // local server\n  \"mcp\": {\"l\": {\"command\": "
	    "[\"bun\", 1]}}\n}\n";
	cr_assert_eq(sha256_hex(doc, strlen(doc), hex), 0);
	res = send_agents(&p, SCAN_PARSER_OPENCODE_CONFIG, SURFACE_OPENCODE,
	    SCAN_F_MCP, tmpfile_with(doc, strlen(doc)),
	    "/home/u/.config/opencode/opencode.jsonc", 0, "", "", "");
	cr_assert_not_null(res);
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, 1);
	cr_assert_eq(res->items[0].kind, KIND_CONFIG_PROFILE);
	cr_assert_str_eq(res->items[0].name, "opencode.jsonc");
	cr_assert_str_eq(res->items[0].detail, hex);
	cr_assert_eq(res->nissues, 1);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_TYPE);
	scan_result_free(res);

	/* Oversized OpenCode config: the profile item, detail nil. */
	memset(big, ' ', bigsz);
	big[0] = '{';
	big[bigsz - 1] = '}';
	res = send_agents(&p, SCAN_PARSER_OPENCODE_CONFIG, SURFACE_OPENCODE,
	    0, tmpfile_with(big, bigsz), "/home/u/.opencode/opencode.json",
	    0, "", "", "");
	cr_assert_not_null(res);
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, 1);
	cr_assert_null(res->items[0].detail);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_OVERSIZED);
	scan_result_free(res);
	free(big);

	/* Codex config.toml, whole; and a Cursor rule, hashed. */
	doc = "[mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"-y\", "
	    "\"docs-mcp\"]\n[hooks.before_run]\n";
	cr_assert_eq(sha256_hex(doc, strlen(doc), hex), 0);
	res = send_agents(&p, SCAN_PARSER_CODEX_CONFIG, SURFACE_CODEX, 0,
	    tmpfile_with(doc, strlen(doc)), "/home/u/.codex/config.toml", 0,
	    "", "", "");
	cr_assert_not_null(res);
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, 3);
	cr_assert_str_eq(res->items[0].detail, hex);
	cr_assert_str_eq(res->items[1].detail, "npx -y docs-mcp");
	cr_assert_str_eq(res->items[2].name, "before_run");
	scan_result_free(res);
	res = send_agents(&p, SCAN_PARSER_AGENT_HASH, SURFACE_CURSOR, 0,
	    tmpfile_with("Be terse.\n", 10), "/home/u/src/.cursorrules",
	    KIND_RULE, ".cursorrules", "cursor-legacy-rules", "");
	cr_assert_not_null(res);
	cr_assert_eq(res->nitems, 1);
	cr_assert_not_null(res->items[0].detail);
	scan_result_free(res);

	/* A NUL in a Codex server name: an issue, the file fails. */
	doc = "[mcp_servers.\"a\\u0000b\"]\ncommand = \"x\"\n";
	res = send_agents(&p, SCAN_PARSER_CODEX_CONFIG, SURFACE_CODEX, 0,
	    tmpfile_with(doc, strlen(doc)), "/home/u/.codex/config.toml", 0,
	    "", "", "");
	cr_assert_not_null(res);
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->nitems, 0);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_LIMIT);
	scan_result_free(res);

	/* Pi JSONC with imports. */
	doc = "{ // shared\n \"imports\": [\"cursor\"] }";
	res = send_agents(&p, SCAN_PARSER_PI_MCP, SURFACE_PI, SCAN_F_IMPORTS,
	    tmpfile_with(doc, strlen(doc)), "/home/u/.config/mcp/mcp.json",
	    0, "", "", "");
	cr_assert_not_null(res);
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, 1);
	cr_assert_eq(res->items[0].kind, KIND_IMPORT);
	scan_result_free(res);
	cr_assert_eq(scan_peer_stop(&p), 0);
}

/* ---- Requests both ends check ---- */

Test(scan_agents, request_checks)
{
	struct scan_file	f;

	memset(&f, 0, sizeof(f));
	f.parser = SCAN_PARSER_AGENT_HASH;
	f.surface = SURFACE_CURSOR;
	f.kind = KIND_RULE;
	strlcpy(f.name, "a.mdc", sizeof(f.name));
	strlcpy(f.origin, "cursor-rules", sizeof(f.origin));
	strlcpy(f.path, "/h/src/.cursor/rules/a.mdc", sizeof(f.path));
	cr_assert(scan_file_valid(&f));
	/* Another surface's template. */
	strlcpy(f.origin, "codex-rules", sizeof(f.origin));
	cr_assert(!scan_file_valid(&f));
	f.surface = SURFACE_CODEX;
	cr_assert(scan_file_valid(&f));
	f.surface = SURFACE_CLAUDE;
	cr_assert(!scan_file_valid(&f));
	f.surface = SURFACE_CODEX;
	f.flags = SCAN_F_MCP;
	cr_assert(!scan_file_valid(&f));
	f.flags = 0;
	strlcpy(f.version, "1", sizeof(f.version));
	cr_assert(!scan_file_valid(&f));

	/* A receipt: name and versions from the parent, no origin. */
	memset(&f, 0, sizeof(f));
	f.parser = SCAN_PARSER_BREW_RECEIPT;
	f.surface = SURFACE_HOMEBREW;
	f.kind = KIND_PACKAGE;
	strlcpy(f.name, "git", sizeof(f.name));
	strlcpy(f.version, "2.47.1", sizeof(f.version));
	strlcpy(f.path, "/opt/homebrew/Cellar/git", sizeof(f.path));
	cr_assert(scan_file_valid(&f));
	strlcpy(f.origin, "homebrew/core", sizeof(f.origin));
	cr_assert(!scan_file_valid(&f));
	f.origin[0] = '\0';
	f.surface = SURFACE_CODEX;
	cr_assert(!scan_file_valid(&f));
	f.surface = SURFACE_HOMEBREW;
	f.version[sizeof(f.version) - 1] = 'x';	/* not NUL-terminated */
	cr_assert(!scan_file_valid(&f));

	/* Flags only where they mean something. */
	memset(&f, 0, sizeof(f));
	f.parser = SCAN_PARSER_PI_MCP;
	f.surface = SURFACE_PI;
	strlcpy(f.path, "/h/.pi/agent/mcp.json", sizeof(f.path));
	f.flags = SCAN_F_IMPORTS;
	cr_assert(scan_file_valid(&f));
	f.flags = SCAN_F_MCP;
	cr_assert(!scan_file_valid(&f));
	f.parser = SCAN_PARSER_OPENCODE_CONFIG;
	f.surface = SURFACE_OPENCODE;
	cr_assert(scan_file_valid(&f));
	f.parser = SCAN_PARSER_CURSOR_MCP;
	f.surface = SURFACE_CURSOR;
	cr_assert(!scan_file_valid(&f));
	f.flags = 0;
	cr_assert(scan_file_valid(&f));
	strlcpy(f.name, "x", sizeof(f.name));
	cr_assert(!scan_file_valid(&f));
}
