/*
 * Redaction of MCP urls, commands and arguments in the scan child
 * (kobangd/scan_redact.c): HMAC-SHA-256 against RFC 4231, each form of
 * hidden value, what is left alone, how markers follow the value and
 * the key, every MCP surface's parser playing the attacker's file, the
 * child without a key, and the bound on what a hostile file can make
 * the child send.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "rules.h"
#include "scan_golden.h"
#include "scan_agents.h"
#include "scan_redact.h"
#include "sha256.h"

/* ---- HMAC-SHA-256 (RFC 4231 test cases 1, 2 and 6) ---- */

static void
hmac_is(const void *key, size_t klen, const char *msg, const char *want)
{
	uint8_t	d[SHA256_DIGEST_LEN];
	char	hex[SHA256_HEX_BUFSZ];

	cr_assert_eq(sha256_hmac(key, klen, msg, strlen(msg), d), 0);
	sha256_tohex(d, hex);
	cr_assert_str_eq(hex, want);
}

Test(scan_redact, hmac_rfc4231)
{
	uint8_t	k[131];

	memset(k, 0x0b, 20);
	hmac_is(k, 20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
	hmac_is("Jefe", 4, "what do ya want for nothing?",
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k, 0xaa, sizeof(k));
	hmac_is(k, sizeof(k), "Test Using Larger Than Block-Size Key - Hash "
	    "Key First", "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
}

/* ---- the redaction functions ---- */

static const uint8_t	key_a[REDACT_KEY_LEN] = { 1, 2, 3, 4, 5 };
static const uint8_t	key_b[REDACT_KEY_LEN] = { 1, 2, 3, 4, 6 };

/* The marker of s under key, as a string (static, 16 in turn). */
static const char *
M(const uint8_t *key, const char *s)
{
	static char	buf[16][64];
	static int	which;
	struct sbuf	sb;
	char		*o = buf[which++ % 16];

	sbuf_init(&sb);
	cr_assert_eq(redact_mark(key, &sb, s, strlen(s)), 0);
	cr_assert_eq(sb.len, REDACT_MARK_LEN);
	memcpy(o, sb.p, sb.len);
	o[sb.len] = '\0';
	sbuf_free(&sb);
	return (o);
}

/* The command line args[] (NULL-ended) redacted, joined by spaces. */
static char *
cmdline(const uint8_t *key, const char *const *args)
{
	struct redactor	 rd;
	struct sbuf	 sb;
	char		*s;
	size_t		 i;

	sbuf_init(&sb);
	redact_init(&rd, key);
	for (i = 0; args[i] != NULL; i++) {
		if (i > 0)
			cr_assert_neq(sbuf_add(&sb, " ", 1), SBUF_ERR);
		cr_assert_eq(redact_arg(&rd, &sb, args[i], strlen(args[i])),
		    0);
	}
	cr_assert_not_null(s = strndup(sb.p == NULL ? "" : sb.p, sb.len));
	sbuf_free(&sb);
	return (s);
}

static char *
url(const uint8_t *key, const char *u)
{
	struct sbuf	 sb;
	char		*s;

	sbuf_init(&sb);
	cr_assert_eq(redact_url(key, &sb, u, strlen(u)), 0);
	cr_assert_not_null(s = strndup(sb.p == NULL ? "" : sb.p, sb.len));
	sbuf_free(&sb);
	return (s);
}

#define ARGS(...)	((const char *const []){ __VA_ARGS__, NULL })

static void
args_are(const char *const *args, const char *want)
{
	char	*got = cmdline(key_a, args);

	cr_assert_str_eq(got, want);
	free(got);
}

static void
url_is(const char *u, const char *want)
{
	char	*got = url(key_a, u);

	cr_assert_str_eq(got, want, "for %s", u);
	free(got);
}

/* printf to a static buffer, four in turn. */
static const char *fmt(const char *, ...)
    __attribute__((__format__(__printf__, 1, 2)));

static const char *
fmt(const char *f, ...)
{
	static char	buf[4][4096];
	static int	which;
	char		*o = buf[which++ % 4];
	va_list		ap;

	va_start(ap, f);
	vsnprintf(o, sizeof(buf[0]), f, ap);
	va_end(ap);
	return (o);
}

Test(scan_redact, url_userinfo)
{
	url_is("https://user:pass@mcp.example.com/x",
	    fmt("https://%s@mcp.example.com/x", M(key_a, "user:pass")));
	url_is("https://ghp_tokenonly@github.com",
	    fmt("https://%s@github.com", M(key_a, "ghp_tokenonly")));
	/* The last '@' ends it; an '@' in the path is the path's. */
	url_is("wss://a@b:c@gw.example.com:443/@x",
	    fmt("wss://%s@gw.example.com:443/@x", M(key_a, "a@b:c")));
	url_is("user:pw@localhost:8080/sse",
	    fmt("%s@localhost:8080/sse", M(key_a, "user:pw")));
	url_is("https://@h/", "https://@h/");
	/* A "://" in the query is not where the authority starts. */
	url_is("localhost:8080/cb?next=https://u:p@x",
	    fmt("localhost:8080/cb?next=%s", M(key_a, "https://u:p@x")));
	url_is("https://mcp.example.com/sse", "https://mcp.example.com/sse");
}

Test(scan_redact, url_query_and_fragment)
{
	url_is("https://h/p?token=abc&tenant=acme",
	    fmt("https://h/p?token=%s&tenant=%s", M(key_a, "abc"),
	    M(key_a, "acme")));
	/* Empty values stay empty; a bare piece is a value. */
	url_is("https://h/?a=&b&&c=1&", fmt("https://h/?a=&%s&&c=%s&",
	    M(key_a, "b"), M(key_a, "1")));
	url_is("https://h/cb#access_token=xyz&type=bearer",
	    fmt("https://h/cb#%s", M(key_a, "access_token=xyz&type=bearer")));
	url_is("https://h/?k=v#f", fmt("https://h/?k=%s#%s", M(key_a, "v"),
	    M(key_a, "f")));
	url_is("https://h/?#", "https://h/?#");
	/* More values than REDACT_QUERY_MAX: the query as one marker. */
	url_is("https://h/?a=1&b=2&c=3&d=4&e=5",
	    fmt("https://h/?%s", M(key_a, "a=1&b=2&c=3&d=4&e=5")));
}

Test(scan_redact, url_path_tokens)
{
	const char	*t = "sk-ak-0123456789abcdefABCDEF";

	url_is(fmt("https://actions.zapier.com/mcp/%s/sse", t),
	    fmt("https://actions.zapier.com/mcp/%s/sse", M(key_a, t)));
	/* Words that merely start like a token are left alone. */
	url_is("https://h/sk-learn/disk-0123456789abcdefghij",
	    "https://h/sk-learn/disk-0123456789abcdefghij");
}

Test(scan_redact, flag_and_value)
{
	static const char *const flags[] = {
		"--token", "--api-key", "--apikey", "--api_key", "--apiKey",
		"--password", "--secret", "--auth", "--access-token",
		"--client-secret", "-passphrase", "--passwd", "--key", "-pw",
		"--bearer", "--auth-token", "--github-token", "--PASSWORD",
	};
	size_t	i;
	char	*got;

	for (i = 0; i < nitems(flags); i++) {
		got = cmdline(key_a, ARGS("srv", flags[i], "s3cr3t", "--x"));
		cr_assert_str_eq(got, fmt("srv %s %s --x", flags[i],
		    M(key_a, "s3cr3t")), "%s", flags[i]);
		free(got);
		got = cmdline(key_a, ARGS(fmt("%s=s3cr3t", flags[i])));
		cr_assert_str_eq(got, fmt("%s=%s", flags[i],
		    M(key_a, "s3cr3t")), "%s", flags[i]);
		free(got);
	}
	/* The value is the whole next argument, spaces and all. */
	args_are(ARGS("--password", "correct horse battery", "-v"),
	    fmt("--password %s -v", M(key_a, "correct horse battery")));
	/* A flag last: nothing to hide, nothing left pending. */
	args_are(ARGS("--token"), "--token");
	/* Within one argument (a command line in "command"). */
	args_are(ARGS("npx srv --api-key k123 --port 1"),
	    fmt("npx srv --api-key %s --port 1", M(key_a, "k123")));
}

Test(scan_redact, headers)
{
	args_are(ARGS("curl", "-H", "Authorization: Bearer abc.def", "-s"),
	    fmt("curl -H Authorization: %s -s", M(key_a, "Bearer abc.def")));
	args_are(ARGS("-H", "Authorization:Bearer abc"),
	    fmt("-H Authorization:%s", M(key_a, "Bearer abc")));
	args_are(ARGS("--header", "X-API-Key: k1", "--header", "Accept: x"),
	    fmt("--header X-API-Key: %s --header Accept: x", M(key_a, "k1")));
	args_are(ARGS("Authorization:", "Basic dXNlcjpwdw=="),
	    fmt("Authorization: %s", M(key_a, "Basic dXNlcjpwdw==")));
	args_are(ARGS("--header=Cookie: sid=1; x=2"),
	    fmt("--header=Cookie: %s", M(key_a, "sid=1; x=2")));
	args_are(ARGS("Bearer", "abc"), fmt("Bearer %s", M(key_a, "abc")));
}

Test(scan_redact, env_style)
{
	args_are(ARGS("env", "GITHUB_TOKEN=ghp_x", "API_KEY=1",
	    "OPENAI_APIKEY=o", "DB_PASSWORD=p", "AWS_SECRET_ACCESS_KEY=a",
	    "MY_CREDENTIALS=c", "SSH_PRIVATE_KEY=k", "AUTH=z", "npx", "srv"),
	    fmt("env GITHUB_TOKEN=%s API_KEY=%s OPENAI_APIKEY=%s "
	    "DB_PASSWORD=%s AWS_SECRET_ACCESS_KEY=%s MY_CREDENTIALS=%s "
	    "SSH_PRIVATE_KEY=%s AUTH=%s npx srv", M(key_a, "ghp_x"),
	    M(key_a, "1"), M(key_a, "o"), M(key_a, "p"), M(key_a, "a"),
	    M(key_a, "c"), M(key_a, "k"), M(key_a, "z")));
	/* docker -e NAME=VALUE; -e NAME alone passes nothing. */
	args_are(ARGS("run", "-e", "SLACK_BOT_TOKEN=xoxb-1", "-e",
	    "GITHUB_PERSONAL_ACCESS_TOKEN", "img"),
	    fmt("run -e SLACK_BOT_TOKEN=%s -e GITHUB_PERSONAL_ACCESS_TOKEN img",
	    M(key_a, "xoxb-1")));
	/* A name in front of the value: looked at too. */
	args_are(ARGS("--env=API_TOKEN=t1"),
	    fmt("--env=API_TOKEN=%s", M(key_a, "t1")));
	/* A quoted value runs to its quote. */
	args_are(ARGS("DB_PASSWORD='a b' npx x"),
	    fmt("DB_PASSWORD=%s npx x", M(key_a, "'a b'")));
}

Test(scan_redact, urls_in_args)
{
	args_are(ARGS("mcp-remote", "https://u:p@h.example/sse?key=v"),
	    fmt("mcp-remote https://%s@h.example/sse?key=%s",
	    M(key_a, "u:p"), M(key_a, "v")));
	args_are(ARGS("--url=https://h/?token=t"),
	    fmt("--url=https://h/?token=%s", M(key_a, "t")));
	args_are(ARGS("--server", "x=https://h/?q=1"),
	    fmt("--server x=https://h/?q=%s", M(key_a, "1")));
}

Test(scan_redact, token_formats)
{
	static const char *const toks[] = {
		"ghp_0123456789abcdefghijABCDEFGHIJ012345",
		"github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
		"glpat-0123456789abcdefghij",
		"xoxb-1234567890-1234567890123-abcdefghijklmnop",
		"sk-proj-0123456789abcdefghijklmnop",
		"sk-ant-api03-0123456789abcdefghij",
		"sk_live_0123456789abcdefghijklmn",
		"AKIAIOSFODNN7EXAMPLE",
		"AIzaSyA-0123456789abcdefghijklmnopq",
		"npm_0123456789abcdefghijklmnopqrstuvwxyz",
		"hf_0123456789abcdefghijklmnopqrstu",
		"pypi-AgEIcHlwaS5vcmcCJDAwMDAw",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZw",
	};
	size_t	i;
	char	*got;

	for (i = 0; i < nitems(toks); i++) {
		got = cmdline(key_a, ARGS("srv", toks[i]));
		cr_assert_str_eq(got, fmt("srv %s", M(key_a, toks[i])));
		free(got);
		got = cmdline(key_a, ARGS(fmt("--x=%s,y", toks[i])));
		cr_assert_str_eq(got, fmt("--x=%s,y", M(key_a, toks[i])));
		free(got);
	}
}

Test(scan_redact, harmless_args_untouched)
{
	static const char *const keep[] = {
		"-y", "@modelcontextprotocol/server-filesystem@1.2.3",
		"/Users/alice/src/app", "--port=8080", "--verbose", "stdio",
		"PATH=/usr/bin:/bin", "--transport", "sse", "-e", "HOME",
		"mcp/fetch", "uvx", "mcp-server-git", "--repository", ".",
		"C:\\tools\\x.exe", "--", "sk-short", "task-0123456789abcdefgh",
		"https://mcp.example.com/sse", "bash -c 'curl https://x | sh'",
		"ghp_short", "--token-file=/run/secret/path", "key-value",
		"x=1", "AKIAshort", "caf\xc3\xa9=ok",
	};
	size_t	i;
	char	*got;

	for (i = 0; i < nitems(keep); i++) {
		got = cmdline(key_a, ARGS(keep[i]));
		if (strcmp(keep[i], "--token-file=/run/secret/path") == 0) {
			/* A secret name: the value goes, even a path. */
			cr_assert_str_eq(got, fmt("--token-file=%s",
			    M(key_a, "/run/secret/path")));
		} else
			cr_assert_str_eq(got, keep[i]);
		free(got);
	}
}

Test(scan_redact, markers_follow_value_and_key)
{
	const char	*a1, *a2, *b1;
	char		 s1[64], s2[64], s3[64];

	a1 = M(key_a, "hunter2");
	strlcpy(s1, a1, sizeof(s1));
	a2 = M(key_a, "hunter2");
	cr_assert_str_eq(s1, a2, "same key, same value, same marker");
	a2 = M(key_a, "hunter3");
	strlcpy(s2, a2, sizeof(s2));
	cr_assert_str_neq(s1, s2, "another value, another marker");
	b1 = M(key_b, "hunter2");
	strlcpy(s3, b1, sizeof(s3));
	cr_assert_str_neq(s1, s3, "another key, another marker");
	cr_assert_eq(strncmp(s1, "<redacted:", 10), 0);
	cr_assert_eq(strlen(s1), 10 + REDACT_HASH_HEX + 1);
	cr_assert_null(strstr(s1, "hunter"));
}

Test(scan_redact, secret_names)
{
	cr_assert(redact_secret_name("Authorization", 13));
	cr_assert(redact_secret_name("X-Api-Key", 9));
	cr_assert(redact_secret_name("--client_secret", 15));
	cr_assert(redact_secret_name("PW", 2));
	cr_assert_not(redact_secret_name("--port", 6));
	cr_assert_not(redact_secret_name("--keyboard", 10));
	cr_assert_not(redact_secret_name("Accept", 6));
	cr_assert_not(redact_secret_name("--", 2));
	cr_assert_not(redact_secret_name("a b", 3));
}

/* ---- the parsers: the attacker's files, every MCP surface ---- */

/* Secrets an attacker (or a careless user) puts in MCP specs. */
static const char *const secrets[] = {
	"hunter2pass", "QueryT0ken", "FragS3cret", "FlagV4lue",
	"EqV4lue", "EnvV4lue", "HdrV4lue", "UsrN4me", "CmdV4lue",
	"ghp_abcdefghijklmnopqrstuvwxyz0123456789",
};

/* A server spec with every secret, as JSON members. */
#define SPEC_URL	"\"url\": \"https://UsrN4me:hunter2pass@" \
			"mcp.example.com/sse?token=QueryT0ken#FragS3cret\""
#define SPEC_CMD	"\"command\": \"API_KEY=CmdV4lue npx\", " \
			"\"args\": [\"-y\", \"srv\", \"--api-key\", " \
			"\"FlagV4lue\", \"--token=EqV4lue\", " \
			"\"GITHUB_TOKEN=EnvV4lue\", \"-H\", " \
			"\"Authorization: Bearer HdrV4lue\", " \
			"\"ghp_abcdefghijklmnopqrstuvwxyz0123456789\"]"

/* The hash the sink answers (SHA-256 of nothing). */
#define FUZZ_HASH_LIKE	"e3b0c44298fc1c149afbf4c8996fb924" \
			"27ae41e4649b934ca495991b7852b855"

static char *
prun(enum scan_parser parser, int flags, const char *doc)
{
	struct golden		 g;
	struct scan_sink	 sink;
	struct json		 js;
	char			*copy;
	size_t			 len = strlen(doc);
	int			 r = -1;

	memset(&g, 0, sizeof(g));
	g.stop_after = -1;
	g.hash = FUZZ_HASH_LIKE;
	cr_assert_not_null(g.f = open_memstream(&g.buf, &g.len));
	sink.emit = golden_emit;
	sink.issue = golden_issue;
	sink.hash = golden_hash;
	sink.arg = &g;
	cr_assert_not_null(copy = strdup(doc));
	json_init_mem(&js, copy, len, scan_parser_json_flags(parser));
	switch (parser) {
	case SCAN_PARSER_CLAUDE_MCP:
		r = scan_claude_mcp(&js, &sink);
		break;
	case SCAN_PARSER_CODEX_CONFIG:
		r = scan_codex_config(doc, len, "config.toml", g.hash, &sink);
		break;
	case SCAN_PARSER_CURSOR_MCP:
		r = scan_cursor_mcp(&js, &sink);
		break;
	case SCAN_PARSER_PI_MCP:
		r = scan_pi_mcp(&js, flags, &sink);
		break;
	case SCAN_PARSER_OPENCODE_CONFIG:
		r = scan_opencode_config(&js, flags, "opencode.json", &sink);
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

static void
no_secret(const char *got, const char *what)
{
	size_t	i;

	for (i = 0; i < nitems(secrets); i++)
		cr_assert_null(strstr(got, secrets[i]), "%s: %s shows in\n%s",
		    what, secrets[i], got);
}

static void
attacker_file(enum scan_parser parser, int flags, const char *doc,
    const char *what)
{
	char	*got = prun(parser, flags, doc);

	cr_assert_not_null(strstr(got, "status ok\n"), "%s: %s", what, got);
	/* The servers are there, under their names, with what is kept. */
	cr_assert_not_null(strstr(got, "mcpServer | remote | ~ | "
	    "https://<redacted:"), "%s: %s", what, got);
	cr_assert_not_null(strstr(got, "@mcp.example.com/sse?token=<redacted:"),
	    "%s: %s", what, got);
	cr_assert_not_null(strstr(got, "mcpServer | local | ~ | "
	    "API_KEY=<redacted:"), "%s: %s", what, got);
	cr_assert_not_null(strstr(got, " npx -y srv --api-key <redacted:"),
	    "%s: %s", what, got);
	cr_assert_not_null(strstr(got, " -H Authorization: <redacted:"),
	    "%s: %s", what, got);
	no_secret(got, what);
	free(got);
}

Test(scan_redact, every_mcp_surface)
{
	const char	*json = "{\"mcpServers\": {\"remote\": {" SPEC_URL
			    "}, \"local\": {" SPEC_CMD "}}}";
	const char	*claude = "{\"projects\": {\"/p\": {\"mcpServers\": {"
			    "\"remote\": {" SPEC_URL "}}}}, \"mcpServers\": {"
			    "\"local\": {" SPEC_CMD "}}}";
	const char	*opencode = "{\"mcp\": {\"remote\": {" SPEC_URL
			    "}, \"local\": {" SPEC_CMD "}}}";
	const char	*toml =
	    "[mcp_servers.remote]\n"
	    "url = \"https://UsrN4me:hunter2pass@mcp.example.com/sse?"
	    "token=QueryT0ken#FragS3cret\"\n"
	    "[mcp_servers.local]\n"
	    "command = \"API_KEY=CmdV4lue npx\"\n"
	    "args = [\"-y\", \"srv\", \"--api-key\", \"FlagV4lue\", "
	    "\"--token=EqV4lue\", \"GITHUB_TOKEN=EnvV4lue\", \"-H\", "
	    "\"Authorization: Bearer HdrV4lue\", "
	    "\"ghp_abcdefghijklmnopqrstuvwxyz0123456789\"]\n";

	attacker_file(SCAN_PARSER_CLAUDE_MCP, 0, json, ".mcp.json");
	attacker_file(SCAN_PARSER_CLAUDE_MCP, 0, claude, "~/.claude.json");
	attacker_file(SCAN_PARSER_CURSOR_MCP, 0, json, "cursor mcp.json");
	attacker_file(SCAN_PARSER_PI_MCP, SCAN_F_IMPORTS, json, "pi mcp.json");
	attacker_file(SCAN_PARSER_OPENCODE_CONFIG, SCAN_F_MCP, opencode,
	    "opencode.json");
	attacker_file(SCAN_PARSER_CODEX_CONFIG, 0, toml, "codex config.toml");
}

/* OpenCode's command array: the flag state runs on into args. */
Test(scan_redact, opencode_command_array)
{
	char	*got;

	got = prun(SCAN_PARSER_OPENCODE_CONFIG, SCAN_F_MCP, "{\"mcp\": {\"x\": "
	    "{\"command\": [\"npx\", \"srv\", \"--token\"], \"args\": "
	    "[\"FlagV4lue\"]}}}");
	cr_assert_not_null(strstr(got, "| npx srv --token <redacted:"), "%s",
	    got);
	no_secret(got, "opencode array");
	free(got);
}

/* Without the parent's key the child sends no MCP server at all. */
Test(scan_redact, no_key_no_servers)
{
	char	*got;

	scan_redact_clearkey();
	got = prun(SCAN_PARSER_CLAUDE_MCP, 0, "{\"mcpServers\": {\"remote\": {"
	    SPEC_URL "}}}");
	cr_assert_str_eq(got, "issue limit: no redaction key: MCP servers "
	    "are not read\nstatus failed\n");
	free(got);
	scan_test_setkey();
	cr_assert_eq(scan_redact_setkey(key_a, sizeof(key_a)), -1,
	    "a second key");
}

/* ---- the bound: a hostile file cannot make the child overflow ---- */

struct count {
	uint64_t	bytes;
	size_t		items;
};

static int
count_emit(void *arg, const struct scan_item *it)
{
	struct count	*c = arg;

	c->bytes += SCAN_ACCEPT_ITEM + it->name.len + it->origin.len +
	    (it->detail.p != NULL ? it->detail.len : 0);
	c->items++;
	return (0);
}

static void
count_issue(void *arg, enum scan_issue_code code, const char *reason)
{
	(void)arg;
	cr_assert_fail("issue %d: %s", code, reason);
}

static uint64_t
bytes_of(const char *doc, size_t len, size_t *items)
{
	struct count		 c;
	struct scan_sink	 sink;
	struct json		 js;
	char			*copy;

	memset(&c, 0, sizeof(c));
	sink.emit = count_emit;
	sink.issue = count_issue;
	sink.hash = golden_hash;
	sink.arg = &c;
	cr_assert_not_null(copy = malloc(len));
	memcpy(copy, doc, len);
	json_init_mem(&js, copy, len, 0);
	cr_assert_eq(scan_claude_mcp(&js, &sink), 0);
	json_free(&js);
	free(copy);
	*items = c.items;
	return (c.bytes);
}

/*
 * The densest markers per byte each form allows, many servers of them:
 * what the child sends must stay within what the parent accepts for the
 * file (scan_accept_budget), or the parent would kill the child.
 */
Test(scan_redact, hostile_growth_within_budget)
{
	const char	*spec[] = {
		"\"url\":\"a://b@c?d&e&f&g#h\"",
		"\"url\":\"a://b@?c\"",
		"\"url\":\"a://?b&c&d&e\"",
		"\"command\":\"a://b@?c#d a://b@?c#d a://b@?c#d a://b@?c#d\"",
		"\"command\":\"pw=a pw=a pw=a pw=a pw=a pw=a pw=a pw=a\"",
		"\"command\":\"x\",\"args\":[\"-pw\",\"a\",\"-pw\",\"a\","
		    "\"-pw\",\"a\",\"pw=a\",\"pw=a\",\"a://b@?c#d\"]",
		"\"command\":\"-pw a -pw a -pw a -pw a Bearer a Bearer a\"",
		NULL,		/* 40 URLs in the command */
	};
	char		 many[1024];
	char		*doc;
	size_t		 s, i, n, len, cap = 16 << 20, items;
	uint64_t	 got;

	len = (size_t)snprintf(many, sizeof(many), "\"command\":\"");
	for (i = 0; i < 40; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len,
		    "%sa://b@?c#d", i ? " " : "");
	snprintf(many + len, sizeof(many) - len, "\"");
	spec[nitems(spec) - 1] = many;
	cr_assert_not_null(doc = malloc(cap));
	for (s = 0; s < nitems(spec); s++) {
		len = (size_t)snprintf(doc, cap, "{\"mcpServers\":{");
		for (i = 0; i < 20000; i++) {
			n = (size_t)snprintf(doc + len, cap - len,
			    "%s\"%zx\":{%s}", i ? "," : "", i, spec[s]);
			cr_assert_lt(n, cap - len);
			len += n;
		}
		len += (size_t)snprintf(doc + len, cap - len, "}}");
		got = bytes_of(doc, len, &items);
		cr_assert_eq(items, 20000);
		cr_assert_leq(got, scan_accept_budget(len),
		    "%s: %llu bytes for a file of %zu (budget %llu)", spec[s],
		    (unsigned long long)got, len,
		    (unsigned long long)scan_accept_budget(len));
		/* And without the slack, for a margin of our own. */
		cr_assert_leq(got, (uint64_t)len * SCAN_ACCEPT_FACTOR,
		    "%s: %llu for %zu", spec[s], (unsigned long long)got,
		    len);
	}
	free(doc);
}

/*
 * Past REDACT_GROWTH: the whole field is one marker, and an honest
 * command line with several secrets is nowhere near it.
 */
Test(scan_redact, growth_guard)
{
	char	doc[2048], line[1024], *got, *p;
	size_t	i, len = 0;

	for (i = 0; i < 40; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len,
		    "%sa://b@?c#d", i ? " " : "");
	snprintf(doc, sizeof(doc), "{\"mcpServers\": {\"x\": {\"command\": "
	    "\"%s\"}}}", line);
	got = prun(SCAN_PARSER_CLAUDE_MCP, 0, doc);
	cr_assert_str_eq(got, fmt("mcpServer | x | ~ | %s | %s\nstatus ok\n",
	    M(scan_test_key, line), M(scan_test_key, line)));
	free(got);

	got = prun(SCAN_PARSER_CLAUDE_MCP, 0, "{\"mcpServers\": {\"x\": {"
	    "\"command\": \"npx\", \"args\": [\"--token\", \"a\", \"-p\", "
	    "\"--password\", \"b\", \"API_KEY=c\", \"https://u:p@h/?k=v\"]}}}");
	cr_assert_not_null(p = strstr(got, "| npx --token <redacted:"), "%s",
	    got);
	cr_assert_not_null(strstr(p, " -p --password <redacted:"), "%s", got);
	cr_assert_not_null(strstr(p, " API_KEY=<redacted:"), "%s", got);
	cr_assert_not_null(strstr(p, " https://<redacted:"), "%s", got);
	free(got);
}

/* ---- IMSG_SCAN_KEY in the child's dispatcher ---- */

/* One message from a "parent", then scan's dispatcher on it. */
static int
feed_key(const void *p, size_t len, int fd)
{
	struct imsgbuf	parent, child;
	int		sv[2], r;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(imsgbuf_init(&parent, sv[0]), 0);
	cr_assert_eq(imsgbuf_init(&child, sv[1]), 0);
	imsgbuf_allow_fdpass(&child);
	cr_assert_eq(imsg_compose(&parent, IMSG_SCAN_KEY, 0, 0, fd, p, len),
	    1);
	cr_assert_eq(imsgbuf_flush(&parent), 0);
	cr_assert_eq(imsgbuf_read(&child), 1);
	r = scan_dispatch_imsg(&child);
	imsgbuf_clear(&parent);
	imsgbuf_clear(&child);
	close(sv[0]);
	close(sv[1]);
	return (r);
}

Test(scan_redact, key_message_checks)
{
	struct scan_key	sk;
	uint8_t		big[SCAN_KEY_LEN + 1];
	int		fd;

	memcpy(sk.key, key_a, sizeof(sk.key));
	memset(big, 7, sizeof(big));
	scan_redact_clearkey();
	/* Short, long, empty, all zeros, with a descriptor: refused. */
	cr_assert_eq(feed_key(big, SCAN_KEY_LEN - 1, -1), -1);
	cr_assert_eq(feed_key(big, sizeof(big), -1), -1);
	cr_assert_eq(feed_key(NULL, 0, -1), -1);
	memset(big, 0, sizeof(big));
	cr_assert_eq(feed_key(big, SCAN_KEY_LEN, -1), -1);
	cr_assert_neq(fd = open("/dev/null", O_RDONLY | O_CLOEXEC), -1);
	cr_assert_eq(feed_key(&sk, sizeof(sk), fd), -1);
	cr_assert_null(scan_redact_key(), "a refused key was kept");
	/* The right one is kept; a second one is refused. */
	cr_assert_eq(feed_key(&sk, sizeof(sk), -1), 0);
	cr_assert_not_null(scan_redact_key());
	cr_assert_eq(memcmp(scan_redact_key(), key_a, sizeof(key_a)), 0);
	memcpy(sk.key, key_b, sizeof(sk.key));
	cr_assert_eq(feed_key(&sk, sizeof(sk), -1), -1);
	cr_assert_eq(memcmp(scan_redact_key(), key_a, sizeof(key_a)), 0);
}

/*
 * A NUL byte (JSON "\u0000") is no delimiter: it once made an empty word
 * that the loop never got past (found by fuzz_scan_redact).
 */
Test(scan_redact, nul_bytes, .timeout = 10)
{
	static const char	arg[] = "a\0b --token\0x y";
	static const char	u[] = "https://h/\0?k=\0v";
	struct redactor		rd;
	struct sbuf		sb;

	sbuf_init(&sb);
	redact_init(&rd, key_a);
	cr_assert_eq(redact_arg(&rd, &sb, arg, sizeof(arg) - 1), 0);
	cr_assert_eq(sb.len, sizeof(arg) - 1, "%zu", sb.len);
	cr_assert_eq(memcmp(sb.p, arg, sb.len), 0);
	sbuf_reset(&sb);
	cr_assert_eq(redact_url(key_a, &sb, u, sizeof(u) - 1), 0);
	cr_assert_eq(sb.len, 14 + REDACT_MARK_LEN);
	cr_assert_eq(memcmp(sb.p, "https://h/\0?k=", 14), 0);
	sbuf_free(&sb);
}

/*
 * The rules read a redacted URL as they read the original: the scheme
 * and host stand (fieldHasURLScheme, registry), and a command line
 * keeps having no scheme (the command field).
 */
Test(scan_redact, rules_see_the_same_url)
{
	static const char *const urls[] = {
		"https://user:pw@mcp.example.com:8443/x?token=t&a=b#frag",
		"wss://gw.example.com/ws?key=k",
		"http://u@127.0.0.1/",
	};
	struct rules_url	a, b;
	size_t			i;
	char			*r, *c;

	for (i = 0; i < nitems(urls); i++) {
		r = url(key_a, urls[i]);
		cr_assert_eq(rules_url_parse(urls[i], strlen(urls[i]), &a), 0);
		cr_assert_eq(rules_url_parse(r, strlen(r), &b), 0, "%s", r);
		cr_assert_eq(a.schemelen, b.schemelen);
		cr_assert_eq(strncmp(a.scheme, b.scheme, a.schemelen), 0);
		cr_assert_eq(a.hostlen, b.hostlen, "%s", r);
		cr_assert_eq(strncmp(a.host, b.host, a.hostlen), 0, "%s", r);
		cr_assert_eq(a.port, b.port);
		free(r);
	}
	c = cmdline(key_a, ARGS("API_KEY=x npx", "--token", "t"));
	cr_assert_eq(rules_url_parse(c, strlen(c), &b) == -1 ||
	    b.scheme == NULL, 1, "%s has a scheme", c);
	free(c);
}
