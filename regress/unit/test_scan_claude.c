/*
 * claudeConfig parsers (SURFACES.md 2): golden fixtures under
 * regress/scan/ (a realistic ~/.claude.json with projects, .mcp.json,
 * settings with hooks, permissions and plugins, plugin files), the
 * SURFACES.md 2.3 example, the RULES.md 9.5 MCP normalisation vectors,
 * type errors, values that must never be decoded, hostile input, and
 * the hashed customisation files through the sandboxed child.
 *
 * Run from the top of the source tree (or set KOBANG_SRCDIR).
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
#include "scan_child.h"

static char *
run(enum scan_parser parser, int flags, const char *doc)
{
	char	*r;

	cr_assert_not_null(r = golden_run(parser, flags, doc, strlen(doc)));
	return (r);
}

static void
expect(enum scan_parser parser, int flags, const char *doc, const char *want)
{
	char	*got = run(parser, flags, doc);

	cr_assert_str_eq(got, want, "for %s", doc);
	free(got);
}

static void
expect_fail(enum scan_parser parser, const char *doc, const char *code)
{
	char	*got = run(parser, SCAN_F_ALL, doc), want[64];

	snprintf(want, sizeof(want), "issue %s:", code);
	cr_assert_not_null(strstr(got, want), "no %s issue for %s: %s", code,
	    doc, got);
	cr_assert_not_null(strstr(got, "status failed\n"), "for %s", doc);
	free(got);
}

struct fixture {
	const char		*file;
	const char		*ok;
	enum scan_parser	 parser;
	int			 flags;
};

static const struct fixture fixtures[] = {
	{ "claude.json", "claude.json.ok", SCAN_PARSER_CLAUDE_MCP, 0 },
	{ "mcp.json", "mcp.json.ok", SCAN_PARSER_CLAUDE_MCP, 0 },
	{ "settings.json", "settings.json.ok", SCAN_PARSER_CLAUDE_SETTINGS,
	    SCAN_F_ALL },
	{ "settings.json", "settings.json.noflags.ok",
	    SCAN_PARSER_CLAUDE_SETTINGS, 0 },
	{ "settings_example.json", "settings_example.json.ok",
	    SCAN_PARSER_CLAUDE_SETTINGS, SCAN_F_ALL },
	{ "settings_local.json", "settings_local.json.ok",
	    SCAN_PARSER_CLAUDE_SETTINGS, SCAN_F_ALL },
	{ "settings_array.json", "settings_array.json.ok",
	    SCAN_PARSER_CLAUDE_SETTINGS, SCAN_F_ALL },
	{ "known-marketplaces.json", "known-marketplaces.json.ok",
	    SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0 },
	{ "installed-plugins.json", "installed-plugins.json.ok",
	    SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0 },
};

Test(scan_claude, golden)
{
	char	*path, *ok, *doc, *got, rel[256];
	size_t	 i, len;

	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		snprintf(rel, sizeof(rel), "regress/scan/%s", fixtures[i].file);
		path = srcpath(rel);
		doc = must_slurp(path, &len);
		free(path);
		snprintf(rel, sizeof(rel), "regress/scan/%s", fixtures[i].ok);
		path = srcpath(rel);
		ok = must_slurp(path, NULL);
		free(path);
		got = golden_run(fixtures[i].parser, fixtures[i].flags, doc,
		    len);
		cr_assert_str_eq(got, ok, "%s differs:\n%s", fixtures[i].ok,
		    got);
		free(got);
		free(ok);
		free(doc);
	}
}

/* RULES.md 9.5: origin and detail of a server spec. */
Test(scan_claude, mcp_normalisation_vectors)
{
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"command\":\"npx\",\"args\":[\"-y\","
	    "\"weather\"],\"type\":\"stdio\"}}}",
	    "mcpServer | s | ~ | npx | npx -y weather\nstatus ok\n");
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"type\":\"http\","
	    "\"url\":\"https://mcp.example.com\"}}}",
	    "mcpServer | s | ~ | https://mcp.example.com | "
	    "https://mcp.example.com\nstatus ok\n");
	/* Nothing: no origin, no item. */
	expect(SCAN_PARSER_CLAUDE_MCP, 0, "{\"mcpServers\":{\"s\":{}}}",
	    "status ok\n");
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"url\":\"https://mcp.example.com\","
	    "\"headersHelper\":\"security find-generic-password\"}}}",
	    "mcpServer | s | ~ | https://mcp.example.com | "
	    "https://mcp.example.com headersHelper\nstatus ok\n");
}

Test(scan_claude, mcp_normalisation_edges)
{
	/* url wins over command; args then ignored. */
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"command\":\"npx\",\"args\":[\"a\"],"
	    "\"url\":\"wss://x\"}}}",
	    "mcpServer | s | ~ | wss://x | wss://x\nstatus ok\n");
	/* An empty url falls back to the command. */
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"url\":\"\",\"command\":\"uvx\"}}}",
	    "mcpServer | s | ~ | uvx | uvx\nstatus ok\n");
	/* An empty command is an origin, with no command part. */
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"command\":\"\",\"args\":[\"x\"]}}}",
	    "mcpServer | s | ~ |  | ~\nstatus ok\n");
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"command\":\"\","
	    "\"headersHelper\":\"h\"}}}",
	    "mcpServer | s | ~ |  | headersHelper\nstatus ok\n");
	/* headersHelper alone is no origin; an empty one is nothing. */
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"headersHelper\":\"h\"}}}",
	    "status ok\n");
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"command\":\"c\","
	    "\"headersHelper\":\"\"}}}",
	    "mcpServer | s | ~ | c | c\nstatus ok\n");
	/* Empty args, args with empty strings: single spaces each. */
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"command\":\"c\",\"args\":[]},"
	    "\"t\":{\"command\":\"c\",\"args\":[\"\",\"b\"]}}}",
	    "mcpServer | s | ~ | c | c\nmcpServer | t | ~ | c | c  b\n"
	    "status ok\n");
	/* null is absent. */
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"command\":\"c\",\"args\":null,"
	    "\"url\":null,\"type\":null,\"headersHelper\":null}}}",
	    "mcpServer | s | ~ | c | c\nstatus ok\n");
}

Test(scan_claude, mcp_candidates)
{
	/*
	 * Top-level first even when projects come first in the document;
	 * the first candidate that yields an item wins; sorted by name.
	 */
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"projects\":{\"/p1\":{\"mcpServers\":{\"b\":{\"command\":\"p1\"},"
	    "\"a\":{\"command\":\"p1\"},\"c\":{\"command\":\"p1\"}}},"
	    "\"/p2\":{\"mcpServers\":{\"c\":{\"command\":\"p2\"},"
	    "\"d\":{\"command\":\"p2\"}}}},"
	    "\"mcpServers\":{\"b\":{\"command\":\"top\"},\"a\":{}}}",
	    "mcpServer | a | ~ | p1 | p1\nmcpServer | b | ~ | top | top\n"
	    "mcpServer | c | ~ | p1 | p1\nmcpServer | d | ~ | p2 | p2\n"
	    "status ok\n");
	/* Duplicate keys: the first stands, the later is not decoded. */
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"a\":{\"command\":\"one\",\"command\":7},"
	    "\"a\":{\"command\":[]}},\"mcpServers\":5,\"projects\":null,"
	    "\"projects\":[]}",
	    "mcpServer | a | ~ | one | one\nstatus ok\n");
	/* mcpServers null or absent, projects without servers. */
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":null,\"projects\":{\"/p\":{},\"/q\":"
	    "{\"mcpServers\":null}}}", "status ok\n");
}

Test(scan_claude, mcp_type_errors)
{
	static const char *const docs[] = {
		"[]",
		"{\"mcpServers\":[]}",
		"{\"mcpServers\":{\"s\":\"npx\"}}",
		"{\"mcpServers\":{\"s\":null}}",
		"{\"mcpServers\":{\"s\":{\"command\":7}}}",
		"{\"mcpServers\":{\"s\":{\"command\":[\"npx\"]}}}",
		"{\"mcpServers\":{\"s\":{\"args\":\"-y\"}}}",
		"{\"mcpServers\":{\"s\":{\"args\":[\"a\",1]}}}",
		"{\"mcpServers\":{\"s\":{\"args\":[\"a\",null]}}}",
		"{\"mcpServers\":{\"s\":{\"type\":1}}}",
		"{\"mcpServers\":{\"s\":{\"url\":true}}}",
		"{\"mcpServers\":{\"s\":{\"headersHelper\":{}}}}",
		"{\"projects\":[]}",
		"{\"projects\":{\"/p\":\"x\"}}",
		"{\"projects\":{\"/p\":null}}",
		"{\"projects\":{\"/p\":{\"mcpServers\":[]}}}",
		"{\"projects\":{\"/p\":{\"mcpServers\":{\"s\":{\"url\":1}}}}}",
	};
	size_t	i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		expect_fail(SCAN_PARSER_CLAUDE_MCP, docs[i], "type error");
}

Test(scan_claude, mcp_untyped_keys_any_type)
{
	/* env, headers, oauth and the rest are never decoded. */
	expect(SCAN_PARSER_CLAUDE_MCP, 0,
	    "{\"mcpServers\":{\"s\":{\"command\":\"c\",\"env\":7,"
	    "\"headers\":[1,2],\"oauth\":null,\"timeout\":\"x\"}},"
	    "\"numStartups\":\"many\",\"projects\":{\"/p\":{\"history\":1}}}",
	    "mcpServer | s | ~ | c | c\nstatus ok\n");
}

Test(scan_claude, mcp_env_is_not_decoded)
{
	char		 doc[] = "{\"mcpServers\":{\"s\":{\"command\":\"c\","
			    "\"env\":{\"TOKEN\":\"s\\u0065cr\\u0065t\\n\"},"
			    "\"headers\":{\"Authorization\":\"B\\u0065arer x\"}}}}";
	char		 orig[sizeof(doc)];
	struct golden	 g;
	struct scan_sink sink = { golden_emit, golden_issue, golden_hash, &g };
	struct json	 js;

	/* The tokenizer unescapes in place: untouched bytes prove it. */
	memcpy(orig, doc, sizeof(doc));
	memset(&g, 0, sizeof(g));
	g.stop_after = -1;
	cr_assert_not_null(g.f = open_memstream(&g.buf, &g.len));
	json_init_mem(&js, doc, strlen(doc), 0);
	cr_assert_eq(scan_claude_mcp(&js, &sink), 0);
	fclose(g.f);
	cr_assert_str_eq(g.buf, "mcpServer | s | ~ | c | c\n");
	cr_assert(memcmp(doc, orig, sizeof(doc)) == 0);
	free(g.buf);
}

Test(scan_claude, mcp_malformed)
{
	static const char *const docs[] = {
		"", "{", "{\"mcpServers\":{}}x", "{\"mcpServers\":{},}",
		/* Strict: invalid UTF-8 even inside a never-decoded env. */
		("{\"mcpServers\":{\"s\":{\"command\":\"c\",\"env\":"
		    "{\"K\":\"\xc3\x28\"}}}}"),
		"{\"mcpServers\":{\"s\xff\":{\"command\":\"c\"}}}",
		("{\"mcpServers\":{\"s\":{\"command\":\"c\",\"env\":"
		    "{\"K\":\"\\ud800\"}}}}"),
	};
	size_t	i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		expect_fail(SCAN_PARSER_CLAUDE_MCP, docs[i], "malformed");
}

Test(scan_claude, deep_nesting_in_env)
{
	char	*doc, *got;
	size_t	 n = 100000, i, off;

	cr_assert_not_null(doc = malloc(2 * n + 128));
	off = (size_t)snprintf(doc, 128, "{\"mcpServers\":{\"s\":{\"command\":"
	    "\"c\",\"env\":");
	for (i = 0; i < n; i++) {
		doc[off + i] = '[';
		doc[off + n + i] = ']';
	}
	strlcpy(doc + off + 2 * n, "}}}", 4);
	got = run(SCAN_PARSER_CLAUDE_MCP, 0, doc);
	cr_assert_not_null(strstr(got, "nested too deeply"), "%s", got);
	cr_assert_not_null(strstr(got, "status failed\n"));
	free(got);
	free(doc);
}

/* SURFACES.md 2.3's example, item for item. */
Test(scan_claude, settings_example)
{
	const char	*doc = "{\"hooks\": {\"PreToolUse\": []}, "
			    "\"enabledPlugins\": {\"formatter@team\": true},"
			    " \"extraKnownMarketplaces\": [{\"name\": \"team\","
			    " \"source\": {}}]}";
	char		*got, hex[SHA256_HEX_BUFSZ], want[2048];

	cr_assert_eq(sha256_hex(doc, strlen(doc), hex), 0);
	snprintf(want, sizeof(want),
	    "settings | enabledPlugins | ~ | claude-settings | %s\n"
	    "settings | extraKnownMarketplaces | ~ | claude-settings | %s\n"
	    "settings | hooks | ~ | claude-settings | %s\n"
	    "hook | hooks | ~ | claude-hook | %s\n"
	    "plugin | formatter@team | ~ | claude-plugin | %s\n"
	    "plugin | team | ~ | claude-plugin | %s\n"
	    "status ok\n", hex, hex, hex, hex, hex, hex);
	got = run(SCAN_PARSER_CLAUDE_SETTINGS, SCAN_F_ALL, doc);
	cr_assert_str_eq(got, want);
	free(got);
}

static void
expect_settings(int flags, const char *doc, const char *names)
{
	char	*got = run(SCAN_PARSER_CLAUDE_SETTINGS, flags, doc);
	char	*line, *save = NULL, *p, buf[4096];
	size_t	 len = 0;

	/* Reduce to "kind name;" to keep the vectors readable. */
	buf[0] = '\0';
	for (line = strtok_r(got, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "status", 6) == 0)
			continue;
		if ((p = strstr(line, " | ~ |")) != NULL)
			*p = '\0';
		for (p = line; (p = strstr(p, " | ")) != NULL;)
			memmove(p + 1, p + 3, strlen(p + 3) + 1);
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s;",
		    line);
	}
	cr_assert_str_eq(buf, names, "for %s", doc);
	free(got);
}

Test(scan_claude, settings_rules)
{
	/* Keys sorted by byte; duplicates once; flags off: nothing more. */
	expect_settings(0, "{\"b\":1,\"a\":2,\"B\":3,\"a\":4,\"hooks\":{},"
	    "\"enabledPlugins\":{\"p\":true}}",
	    "settings B;settings a;settings b;settings enabledPlugins;"
	    "settings hooks;");
	/* hooks: presence, whatever its value. */
	expect_settings(SCAN_F_HOOKS, "{\"hooks\":null}",
	    "settings hooks;hook hooks;");
	/* permissions must be an object; allow/deny by presence. */
	expect_settings(0, "{\"permissions\":{\"deny\":null,\"allow\":7}}",
	    "settings permissions;settings permissions.allow;"
	    "settings permissions.deny;");
	expect_settings(0, "{\"permissions\":[\"allow\",\"deny\"]}",
	    "settings permissions;");
	expect_settings(0, "{\"permissions\":{\"ask\":[]}}",
	    "settings permissions;");
	/* The first permissions value decides. */
	expect_settings(0, "{\"permissions\":{},\"permissions\":{\"allow\":[]}}",
	    "settings permissions;");
	/* Plugin names: each key's list sorted, keys in the fixed order. */
	expect_settings(SCAN_F_PLUGINS, "{\"plugins\":[\"z\",\"a\"],"
	    "\"pluginMarketplaces\":{\"m2\":1,\"m1\":2},"
	    "\"extraKnownMarketplaces\":[{\"path\":\"/p\"},{\"source\":\"s\","
	    "\"path\":\"/q\"},{\"name\":\"n\",\"source\":\"s2\"}],"
	    "\"enabledPlugins\":{\"e2\":true,\"a\":false}}",
	    "settings enabledPlugins;settings extraKnownMarketplaces;"
	    "settings pluginMarketplaces;settings plugins;"
	    "plugin a;plugin e2;plugin /p;plugin n;plugin s;plugin m1;"
	    "plugin m2;plugin z;");
	/* Mixed arrays, scalars, objects without a string field. */
	expect_settings(SCAN_F_PLUGINS, "{\"plugins\":[\"a\",{\"name\":\"b\"}],"
	    "\"enabledPlugins\":\"x\",\"pluginMarketplaces\":[1,2],"
	    "\"extraKnownMarketplaces\":[{\"name\":1},{\"source\":{}}]}",
	    "settings enabledPlugins;settings extraKnownMarketplaces;"
	    "settings pluginMarketplaces;settings plugins;");
	/* The first of a duplicated name field decides. */
	expect_settings(SCAN_F_PLUGINS, "{\"plugins\":[{\"name\":1,"
	    "\"name\":\"late\",\"source\":\"src\"}]}",
	    "settings plugins;plugin src;");
	/* Not an object: silently nothing; strict still. */
	expect(SCAN_PARSER_CLAUDE_SETTINGS, SCAN_F_ALL, "[1,2]", "status ok\n");
	expect_fail(SCAN_PARSER_CLAUDE_SETTINGS, "[1,2", "malformed");
	expect_fail(SCAN_PARSER_CLAUDE_SETTINGS, "{\"a\":\"\xff\"}",
	    "malformed");
	expect_fail(SCAN_PARSER_CLAUDE_SETTINGS, "{\"a\":1,}", "malformed");
}

Test(scan_claude, plugin_file_rules)
{
	char	*got;

	/*
	 * Claude Code's installed_plugins.json: the keys of "plugins", not
	 * the reference's "version" and "plugins" (kobangd.yaml(5)).
	 */
	got = run(SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0,
	    "{\"version\":2,\"plugins\":{\"y@m\":[{}],\"x@m\":[],\"x@m\":1},"
	    "\"version\":\"dup\",\"other\":{}}");
	cr_assert(strncmp(got, "plugin | x@m | ~ | claude-plugin | ", 34) ==
	    0, "%s", got);
	cr_assert_not_null(strstr(got, "\nplugin | y@m | ~ | claude-plugin | "),
	    "%s", got);
	cr_assert_null(strstr(got, "plugin | version |"), "%s", got);
	cr_assert_null(strstr(got, "plugin | other |"), "%s", got);
	free(got);
	/* Not that shape: the reference's rule, the top-level keys. */
	got = run(SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0,
	    "{\"version\":\"2\",\"plugins\":{\"x@m\":[{}]}}");
	cr_assert_not_null(strstr(got, "plugin | plugins |"), "%s", got);
	cr_assert_not_null(strstr(got, "plugin | version |"), "%s", got);
	free(got);
	got = run(SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0,
	    "{\"version\":2,\"plugins\":[\"x\"]}");
	cr_assert_not_null(strstr(got, "plugin | plugins |"), "%s", got);
	free(got);
	/* An empty key is a name like any other. */
	got = run(SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0, "{\"\": 91}");
	cr_assert(strncmp(got, "plugin |  | ~ | claude-plugin | ", 32) == 0,
	    "%s", got);
	free(got);
	expect(SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0, "[1,\"a\"]", "status ok\n");
	expect(SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0, "[]", "status ok\n");
	expect_fail(SCAN_PARSER_CLAUDE_PLUGIN_FILE, "\"top\"", "malformed");
	expect_fail(SCAN_PARSER_CLAUDE_PLUGIN_FILE, "{\"a\":1} {}",
	    "malformed");
}

/* ---- Through the sandboxed child ---- */

static char tmpdir[] = "/tmp/test_scan_claude.XXXXXX";

static void
mktmp(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
rmtmp(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

Test(scan_claude_child, golden_through_the_sandboxed_child)
{
	struct scan_peer	 p;
	struct scan_result	*res;
	char			*path, *ok, *got, rel[256];
	size_t			 i;

	scan_peer_start(&p, 1);
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		snprintf(rel, sizeof(rel), "regress/scan/%s", fixtures[i].file);
		path = srcpath(rel);
		cr_assert_not_null(res = scan_peer_file(&p, fixtures[i].parser,
		    fixtures[i].flags, path), "%s refused", rel);
		free(path);
		cr_assert_eq(res->surface, SURFACE_CLAUDE);
		snprintf(rel, sizeof(rel), "regress/scan/%s", fixtures[i].ok);
		path = srcpath(rel);
		ok = must_slurp(path, NULL);
		free(path);
		got = scan_result_render(res);
		cr_assert_str_eq(got, ok, "%s differs:\n%s", fixtures[i].ok,
		    got);
		free(got);
		free(ok);
		scan_result_free(res);
	}
	cr_assert_eq(scan_peer_stop(&p), 0);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	int	fd;

	cr_assert_neq(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), -1);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

Test(scan_claude_child, hashed_files, .init = mktmp, .fini = rmtmp)
{
	struct scan_peer	 p;
	struct scan_result	*res;
	const char		*agent = "---\nname: reviewer\n---\nReview.\n";
	char			 path[PATH_MAX], hex[SHA256_HEX_BUFSZ];
	int			 fd;

	scan_peer_start(&p, 1);

	/* An agent: one item from the template, detail the SHA-256. */
	snprintf(path, sizeof(path), "%s/reviewer.md", tmpdir);
	write_file(path, agent, strlen(agent));
	cr_assert_eq(sha256_hex(agent, strlen(agent), hex), 0);
	cr_assert_neq(fd = open(path, O_RDONLY), -1);
	cr_assert_not_null(res = scan_peer_fd(&p, SCAN_PARSER_HASH_ONLY, 0,
	    fd, path, KIND_AGENT, "reviewer.md", "claude-customization"));
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, 1);
	cr_assert_eq(res->nissues, 0);
	cr_assert_eq(res->items[0].kind, KIND_AGENT);
	cr_assert_str_eq(res->items[0].name, "reviewer.md");
	cr_assert_str_eq(res->items[0].origin, "claude-customization");
	cr_assert_str_eq(res->items[0].path, path);
	cr_assert_str_eq(res->items[0].detail, hex);
	cr_assert_null(res->items[0].version);
	cr_assert_eq(res->items[0].installed_on_request, ITEM_BOOL_NIL);
	scan_result_free(res);

	/* An empty instruction file hashes to the empty digest. */
	snprintf(path, sizeof(path), "%s/CLAUDE.md", tmpdir);
	write_file(path, "", 0);
	cr_assert_neq(fd = open(path, O_RDONLY), -1);
	cr_assert_not_null(res = scan_peer_fd(&p, SCAN_PARSER_HASH_ONLY, 0,
	    fd, path, KIND_INSTRUCTION, "CLAUDE.md", "claude-instruction"));
	cr_assert_str_eq(res->items[0].detail, "e3b0c44298fc1c149afbf4c8996fb"
	    "92427ae41e4649b934ca495991b7852b855");
	scan_result_free(res);

	/* Oversized: the item stays, detail nil, an issue; not read. */
	snprintf(path, sizeof(path), "%s/huge.md", tmpdir);
	cr_assert_neq(fd = open(path, O_RDWR | O_CREAT, 0600), -1);
	cr_assert_eq(ftruncate(fd, SCAN_CAP_AGENT + 1), 0);
	close(fd);
	cr_assert_neq(fd = open(path, O_WRONLY), -1);
	cr_assert_not_null(res = scan_peer_fd(&p, SCAN_PARSER_HASH_ONLY, 0,
	    fd, path, KIND_COMMAND, "huge.md", "claude-customization"));
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, 1);
	cr_assert_null(res->items[0].detail);
	cr_assert_eq(res->nissues, 1);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_OVERSIZED);
	scan_result_free(res);

	/* Unreadable (a write-only descriptor): kept, nil, hash issue. */
	snprintf(path, sizeof(path), "%s/SKILL.md", tmpdir);
	write_file(path, "skill", 5);
	cr_assert_neq(fd = open(path, O_WRONLY), -1);
	cr_assert_not_null(res = scan_peer_fd(&p, SCAN_PARSER_HASH_ONLY, 0,
	    fd, path, KIND_SKILL, "pdf", "claude-customization"));
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_null(res->items[0].detail);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_HASH);
	scan_result_free(res);

	/* A settings file's hash is that of the whole file. */
	snprintf(path, sizeof(path), "%s/settings.json", tmpdir);
	write_file(path, "{\"model\":\"opus\"}\n", 17);
	cr_assert_eq(sha256_hex("{\"model\":\"opus\"}\n", 17, hex), 0);
	cr_assert_not_null(res = scan_peer_file(&p,
	    SCAN_PARSER_CLAUDE_SETTINGS, SCAN_F_ALL, path));
	cr_assert_eq(res->nitems, 1);
	cr_assert_str_eq(res->items[0].detail, hex);
	scan_result_free(res);

	/* A claude file over the 5 MB cap is not read. */
	snprintf(path, sizeof(path), "%s/.claude.json", tmpdir);
	cr_assert_neq(fd = open(path, O_RDWR | O_CREAT, 0600), -1);
	cr_assert_eq(ftruncate(fd, SCAN_CAP_AGENT + 1), 0);
	close(fd);
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_CLAUDE_MCP, 0,
	    path));
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_OVERSIZED);
	scan_result_free(res);

	cr_assert_eq(scan_peer_stop(&p), 0);
}

Test(scan_claude_child, hostile_files, .init = mktmp, .fini = rmtmp)
{
	struct scan_peer	 p;
	struct scan_result	*res;
	char			 path[PATH_MAX];
	char			*doc;
	size_t			 n = 1000000, i;

	scan_peer_start(&p, 1);
	/* A million brackets deep inside an env block. */
	cr_assert_not_null(doc = malloc(2 * n + 64));
	memcpy(doc, "{\"mcpServers\":{\"s\":{\"env\":", 26);
	for (i = 0; i < n; i++) {
		doc[26 + i] = '[';
		doc[26 + n + i] = ']';
	}
	memcpy(doc + 26 + 2 * n, "}}}", 3);
	snprintf(path, sizeof(path), "%s/.mcp.json", tmpdir);
	write_file(path, doc, 26 + 2 * n + 3);
	free(doc);
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_CLAUDE_MCP, 0,
	    path));
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_MALFORMED);
	cr_assert_not_null(strstr(res->issues[0].reason, "nested too deeply"));
	scan_result_free(res);

	/* Invalid UTF-8 in a key. */
	write_file(path, "{\"mcpServers\":{\"\xc0\xaf\":{}}}", 24);
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_CLAUDE_MCP, 0,
	    path));
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_not_null(strstr(res->issues[0].reason, "invalid UTF-8"));
	scan_result_free(res);

	/* UTF-16 with a byte-order mark is not UTF-8 JSON. */
	write_file(path, "\xff\xfe{\0}\0", 6);
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_CLAUDE_MCP, 0,
	    path));
	cr_assert_eq(res->status, SCAN_FAILED);
	scan_result_free(res);

	/* A huge string: the window grows, the file is fine. */
	n = 3000000;
	cr_assert_not_null(doc = malloc(n + 64));
	i = (size_t)snprintf(doc, 64, "{\"mcpServers\":{\"s\":{\"command\":\"");
	memset(doc + i, 'x', n);
	memcpy(doc + i + n, "\"}}}", 4);
	write_file(path, doc, i + n + 4);
	free(doc);
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_CLAUDE_MCP, 0,
	    path));
	/* ... but an origin over the wire cap fails the file, says why. */
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_LIMIT);
	scan_result_free(res);

	cr_assert_eq(scan_peer_stop(&p), 0);
}
