/*
 * The scan protocol's parent-side decoder (scanproto_recv) against
 * malformed messages, one field at a time, and the encoder's round trip
 * and refusals.  Every refusal is what breaks the channel in the parent.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <signal.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "kobangd.h"
#include "scanproto.h"
#include "sha256.h"

#define HASH	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"

struct msg {
	unsigned char	buf[8192];
	size_t		len;
};

static void
m_u32(struct msg *m, uint32_t v)
{
	memcpy(m->buf + m->len, &v, sizeof(v));
	m->len += sizeof(v);
}

static void
m_u8(struct msg *m, uint8_t v)
{
	m->buf[m->len++] = v;
}

static void
m_strn(struct msg *m, const char *s, size_t len)
{
	m_u32(m, (uint32_t)len);
	memcpy(m->buf + m->len, s, len);
	m->len += len;
}

static void
m_str(struct msg *m, const char *s)
{
	m_strn(m, s, strlen(s));
}

static void
m_hdr(struct msg *m, uint32_t scan, uint32_t file, uint32_t count)
{
	m->len = 0;
	m_u32(m, scan);
	m_u32(m, file);
	m_u32(m, count);
}

/* One item: surface, kind, ior, nils, then the strings present. */
static void
m_item(struct msg *m, int surface, int kind, int ior, int nils,
    const char *name, const char *version, const char *origin,
    const char *detail)
{
	m_u8(m, (uint8_t)surface);
	m_u8(m, (uint8_t)kind);
	m_u8(m, (uint8_t)ior);
	m_u8(m, (uint8_t)nils);
	m_str(m, name);
	if (!(nils & SCAN_NIL_VERSION))
		m_str(m, version);
	m_str(m, origin);
	if (!(nils & SCAN_NIL_DETAIL))
		m_str(m, detail);
}

static struct imsgbuf	ib;
static int		sv[2];

static void
setup(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(imsgbuf_init(&ib, sv[0]), 0);
	cr_assert_eq(scanproto_channel_init(&ib), 0);
}

static void
teardown(void)
{
	imsgbuf_clear(&ib);
	close(sv[0]);
	close(sv[1]);
}

static void
req_init(struct scan_file *f, uint32_t file_id, enum scan_parser parser)
{
	memset(f, 0, sizeof(*f));
	f->scan_id = 9;
	f->file_id = file_id;
	f->parser = parser;
	f->surface = parser == SCAN_PARSER_NPM_LOCK ? SURFACE_JAVASCRIPT :
	    SURFACE_CLAUDE;
	strlcpy(f->path, "/home/alice/src/app/package-lock.json",
	    sizeof(f->path));
	if (parser == SCAN_PARSER_HASH_ONLY) {
		f->kind = KIND_AGENT;
		strlcpy(f->name, "reviewer.md", sizeof(f->name));
		strlcpy(f->origin, "claude-customization", sizeof(f->origin));
	}
}

static int
devnull(void)
{
	int	fd;

	cr_assert_neq(fd = open("/dev/null", O_RDONLY), -1);
	return (fd);
}

/* A file of size bytes (sparse, unlinked): what the bound is taken from. */
static int
sized(off_t size)
{
	char	path[] = "/tmp/test_scanproto.XXXXXX";
	int	fd;

	cr_assert_neq(fd = mkstemp(path), -1);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(ftruncate(fd, size), 0);
	return (fd);
}

/* A decoder with one outstanding file. */
static struct scanproto *
one(enum scan_parser parser, int flags)
{
	struct scanproto	*sp;
	struct scan_file	 f;

	cr_assert_not_null(sp = scanproto_new());
	req_init(&f, 1, parser);
	f.flags = flags;
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), 0);
	return (sp);
}

static int
recv_msg(struct scanproto *sp, uint32_t type, const struct msg *m,
    struct scan_result **res)
{
	return (scanproto_recv(sp, type, m->buf, m->len, res));
}

static int
done(struct scanproto *sp, uint32_t status, uint32_t nitems, uint32_t nissues,
    struct scan_result **res)
{
	struct scan_file_done	d = { 9, 1, status, nitems, nissues, 0, { 0 } };

	return (scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d, sizeof(d), res));
}

/* A single npm item message; the test then spoils one field. */
static void
npm_item(struct msg *m)
{
	m_hdr(m, 9, 1, 1);
	m_item(m, SURFACE_JAVASCRIPT, KIND_PACKAGE, SCAN_IOR_NIL,
	    0, "left-pad", "1.3.0", "npm", "resolved=x");
}

Test(scanproto, valid_round, .init = setup, .fini = teardown)
{
	struct scanproto	*sp = one(SCAN_PARSER_NPM_LOCK, 0);
	struct scan_result	*res;
	struct msg		 m;

	npm_item(&m);
	m.buf[8] = 2;	/* count */
	m_item(&m, SURFACE_JAVASCRIPT, KIND_PACKAGE, SCAN_IOR_NIL,
	    SCAN_NIL_DETAIL, "@s/p", "", "npm", NULL);
	cr_assert_eq(recv_msg(sp, IMSG_SCAN_ITEMS, &m, &res), 0);
	cr_assert_null(res);
	cr_assert_eq(scanproto_pending(sp), 1);
	cr_assert_eq(done(sp, SCAN_OK, 2, 0, &res), 1);
	cr_assert_eq(scanproto_pending(sp), 0);
	cr_assert_eq(res->nitems, 2);
	cr_assert_str_eq(res->path, "/home/alice/src/app/package-lock.json");
	cr_assert_str_eq(res->items[0].name, "left-pad");
	cr_assert_str_eq(res->items[0].version, "1.3.0");
	cr_assert_str_eq(res->items[0].origin, "npm");
	cr_assert_str_eq(res->items[0].detail, "resolved=x");
	cr_assert_eq(res->items[0].path, res->path);
	cr_assert_eq(res->items[0].installed_on_request, ITEM_BOOL_NIL);
	cr_assert_eq(res->items[0].surface, SURFACE_JAVASCRIPT);
	cr_assert_str_eq(res->items[1].version, "");
	cr_assert_null(res->items[1].detail);
	scan_result_free(res);
	/* Nothing is outstanding now: any answer is refused. */
	npm_item(&m);
	cr_assert_eq(recv_msg(sp, IMSG_SCAN_ITEMS, &m, &res), -1);
	cr_assert_eq(done(sp, SCAN_OK, 0, 0, &res), -1);
	scanproto_free(sp);
}

/* Each spoiled message is refused. */
static void
refused(enum scan_parser parser, int flags, const struct msg *m,
    const char *what)
{
	struct scanproto	*sp = one(parser, flags);
	struct scan_result	*res;

	cr_assert_eq(recv_msg(sp, IMSG_SCAN_ITEMS, m, &res), -1,
	    "accepted: %s", what);
	scanproto_free(sp);
}

static void
accepted(enum scan_parser parser, int flags, const struct msg *m,
    const char *what)
{
	struct scanproto	*sp = one(parser, flags);
	struct scan_result	*res;

	cr_assert_eq(recv_msg(sp, IMSG_SCAN_ITEMS, m, &res), 0,
	    "refused: %s", what);
	scanproto_free(sp);
}

/* An npm item whose field f (name, version, origin, detail) is over. */
static void
over_cap(size_t f)
{
	static const size_t	 caps[] = { SCAN_NAME_MAX, SCAN_VERSION_MAX,
				    SCAN_ORIGIN_MAX, SCAN_DETAIL_MAX };
	static const char	*const vals[] = { "x", "1", "npm", "d" };
	struct scanproto	*sp = one(SCAN_PARSER_NPM_LOCK, 0);
	struct scan_result	*res;
	unsigned char		*p;
	size_t			 off = 0, i, sl;
	uint32_t		 v;
	const char		*s;
	char			*big;

	cr_assert_not_null(p = malloc(SCAN_DETAIL_MAX + 1024));
	cr_assert_not_null(big = malloc(SCAN_DETAIL_MAX + 1));
	memset(big, 'a', SCAN_DETAIL_MAX + 1);
	v = 9;
	memcpy(p + off, &v, 4);
	off += 4;
	v = 1;
	memcpy(p + off, &v, 4);
	off += 4;
	memcpy(p + off, &v, 4);
	off += 4;
	p[off++] = SURFACE_JAVASCRIPT;
	p[off++] = KIND_PACKAGE;
	p[off++] = SCAN_IOR_NIL;
	p[off++] = 0;
	for (i = 0; i < 4; i++) {
		s = vals[i];
		sl = strlen(s);
		if (i == f) {
			s = big;
			sl = caps[i] + 1;
		}
		v = (uint32_t)sl;
		memcpy(p + off, &v, 4);
		off += 4;
		memcpy(p + off, s, sl);
		off += sl;
	}
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_ITEMS, p, off, &res), -1,
	    "field %zu over its cap", f);
	if (f != 2) {
		/* Exactly at the cap is fine (origin must stay "npm"). */
		off = 16;
		for (i = 0; i < 4; i++) {
			s = vals[i];
			sl = i == f ? caps[i] : strlen(s);
			if (i == f)
				s = big;
			v = (uint32_t)sl;
			memcpy(p + off, &v, 4);
			off += 4;
			memcpy(p + off, s, sl);
			off += sl;
		}
		cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_ITEMS, p, off,
		    &res), 0, "field %zu at its cap", f);
	}
	free(big);
	free(p);
	scanproto_free(sp);
}

Test(scanproto, items_every_field, .init = setup, .fini = teardown)
{
	struct msg	m;
	size_t		n;

	npm_item(&m);
	accepted(SCAN_PARSER_NPM_LOCK, 0, &m, "the valid item");

	npm_item(&m);
	m.len = 11;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "short header");
	npm_item(&m);
	m.buf[0] = 8;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "scan id");
	npm_item(&m);
	m.buf[4] = 2;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "file id");
	npm_item(&m);
	m.buf[8] = 0;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "count 0");
	npm_item(&m);
	m.buf[8] = 2;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "count 2, one item");
	npm_item(&m);
	memset(m.buf + 8, 0xff, 4);
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "count huge");
	npm_item(&m);
	m.buf[12] = SURFACE_CLAUDE;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "surface");
	npm_item(&m);
	m.buf[13] = KIND_COUNT;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "kind range");
	npm_item(&m);
	m.buf[13] = KIND_HOOK;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "kind for the parser");
	npm_item(&m);
	m.buf[14] = 3;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "ior range");
	npm_item(&m);
	m.buf[14] = SCAN_IOR_TRUE;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "ior for npm");
	npm_item(&m);
	m.buf[15] = 4;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "unknown nil flag");
	npm_item(&m);
	m.len--;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "truncated detail");
	npm_item(&m);
	m_u8(&m, 0);
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "trailing byte");
	npm_item(&m);
	memset(m.buf + 16, 0xff, 4);
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "name length huge");

	/* Strings: NUL, UTF-8, caps, per field. */
	m_hdr(&m, 9, 1, 1);
	m_item(&m, SURFACE_JAVASCRIPT, KIND_PACKAGE, SCAN_IOR_NIL, 0,
	    "left-pad", "1.3.0", "npm", "x");
	m.buf[20] = '\0';
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "NUL in name");
	npm_item(&m);
	m.buf[20] = (char)0xc0;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "invalid UTF-8 in name");
	npm_item(&m);
	m.buf[m.len - 1] = (char)0xff;
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "invalid UTF-8 in detail");
	m_hdr(&m, 9, 1, 1);
	m_item(&m, SURFACE_JAVASCRIPT, KIND_PACKAGE, SCAN_IOR_NIL, 0,
	    "a", "1", "npm", "r\xc3\xa9solu \xf0\x9f\x9a\x80");
	accepted(SCAN_PARSER_NPM_LOCK, 0, &m, "UTF-8 detail");

	/* Each field one byte over its cap. */
	for (n = 0; n < 4; n++)
		over_cap(n);

	/* npm shape: a version, origin "npm". */
	m_hdr(&m, 9, 1, 1);
	m_item(&m, SURFACE_JAVASCRIPT, KIND_PACKAGE, SCAN_IOR_NIL,
	    SCAN_NIL_VERSION, "a", NULL, "npm", "x");
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "npm without version");
	m_hdr(&m, 9, 1, 1);
	m_item(&m, SURFACE_JAVASCRIPT, KIND_PACKAGE, SCAN_IOR_NIL, 0,
	    "a", "1", "yarn", "x");
	refused(SCAN_PARSER_NPM_LOCK, 0, &m, "npm with another origin");
}

static void
claude_item(struct msg *m, int kind, int nils, const char *name,
    const char *origin, const char *detail)
{
	m_hdr(m, 9, 1, 1);
	m_item(m, SURFACE_CLAUDE, kind, SCAN_IOR_NIL, nils, name, NULL,
	    origin, detail);
}

Test(scanproto, claude_shapes, .init = setup, .fini = teardown)
{
	struct msg	m;

	claude_item(&m, KIND_MCP_SERVER, SCAN_NIL_VERSION, "s", "npx",
	    "npx -y x");
	accepted(SCAN_PARSER_CLAUDE_MCP, 0, &m, "an MCP server");
	claude_item(&m, KIND_MCP_SERVER, SCAN_NIL_VERSION | SCAN_NIL_DETAIL,
	    "s", "", NULL);
	accepted(SCAN_PARSER_CLAUDE_MCP, 0, &m, "an MCP server, empty origin");
	m_hdr(&m, 9, 1, 1);
	m_item(&m, SURFACE_CLAUDE, KIND_MCP_SERVER, SCAN_IOR_NIL, 0, "s",
	    "1", "npx", "d");
	refused(SCAN_PARSER_CLAUDE_MCP, 0, &m, "an MCP server with a version");
	claude_item(&m, KIND_SETTINGS, SCAN_NIL_VERSION, "model",
	    "claude-settings", HASH);
	refused(SCAN_PARSER_CLAUDE_MCP, 0, &m, "settings from the MCP parser");

	accepted(SCAN_PARSER_CLAUDE_SETTINGS, 0, &m, "a settings key");
	claude_item(&m, KIND_SETTINGS, SCAN_NIL_VERSION | SCAN_NIL_DETAIL,
	    "model", "claude-settings", NULL);
	accepted(SCAN_PARSER_CLAUDE_SETTINGS, 0, &m, "nil hash");
	claude_item(&m, KIND_SETTINGS, SCAN_NIL_VERSION, "model",
	    "claude-settings", "0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef");
	refused(SCAN_PARSER_CLAUDE_SETTINGS, 0, &m, "uppercase hash");
	claude_item(&m, KIND_SETTINGS, SCAN_NIL_VERSION, "model",
	    "claude-settings", "0123");
	refused(SCAN_PARSER_CLAUDE_SETTINGS, 0, &m, "short hash");
	claude_item(&m, KIND_SETTINGS, SCAN_NIL_VERSION, "model",
	    "claude-hook", HASH);
	refused(SCAN_PARSER_CLAUDE_SETTINGS, 0, &m, "settings origin");
	claude_item(&m, KIND_HOOK, SCAN_NIL_VERSION, "hooks", "claude-hook",
	    HASH);
	accepted(SCAN_PARSER_CLAUDE_SETTINGS, SCAN_F_HOOKS, &m, "the hook");
	refused(SCAN_PARSER_CLAUDE_SETTINGS, 0, &m, "a hook not asked for");
	claude_item(&m, KIND_HOOK, SCAN_NIL_VERSION, "Hooks", "claude-hook",
	    HASH);
	refused(SCAN_PARSER_CLAUDE_SETTINGS, SCAN_F_HOOKS, &m, "hook name");
	claude_item(&m, KIND_PLUGIN, SCAN_NIL_VERSION, "p@m", "claude-plugin",
	    HASH);
	accepted(SCAN_PARSER_CLAUDE_SETTINGS, SCAN_F_PLUGINS, &m, "a plugin");
	refused(SCAN_PARSER_CLAUDE_SETTINGS, SCAN_F_HOOKS, &m,
	    "a plugin not asked for");
	accepted(SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0, &m, "a plugin file's");
	claude_item(&m, KIND_AGENT, SCAN_NIL_VERSION, "p", "claude-plugin",
	    HASH);
	refused(SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0, &m, "plugin file kind");
	m_hdr(&m, 9, 1, 1);
	m_item(&m, SURFACE_CLAUDE, KIND_PLUGIN, SCAN_IOR_FALSE,
	    SCAN_NIL_VERSION, "p", NULL, "claude-plugin", HASH);
	refused(SCAN_PARSER_CLAUDE_PLUGIN_FILE, 0, &m, "plugin ior");
}

Test(scanproto, hash_only, .init = setup, .fini = teardown)
{
	struct scanproto	*sp;
	struct scan_result	*res;
	struct msg		 m;

	claude_item(&m, KIND_AGENT, SCAN_NIL_VERSION, "reviewer.md",
	    "claude-customization", HASH);
	accepted(SCAN_PARSER_HASH_ONLY, 0, &m, "the template's item");
	claude_item(&m, KIND_COMMAND, SCAN_NIL_VERSION, "reviewer.md",
	    "claude-customization", HASH);
	refused(SCAN_PARSER_HASH_ONLY, 0, &m, "another kind");
	claude_item(&m, KIND_AGENT, SCAN_NIL_VERSION, "other.md",
	    "claude-customization", HASH);
	refused(SCAN_PARSER_HASH_ONLY, 0, &m, "another name");
	claude_item(&m, KIND_AGENT, SCAN_NIL_VERSION, "reviewer.md",
	    "claude-instruction", HASH);
	refused(SCAN_PARSER_HASH_ONLY, 0, &m, "another origin");

	/* Exactly one item: a second is refused, none with OK too. */
	sp = one(SCAN_PARSER_HASH_ONLY, 0);
	claude_item(&m, KIND_AGENT, SCAN_NIL_VERSION | SCAN_NIL_DETAIL,
	    "reviewer.md", "claude-customization", NULL);
	cr_assert_eq(recv_msg(sp, IMSG_SCAN_ITEMS, &m, &res), 0);
	cr_assert_eq(recv_msg(sp, IMSG_SCAN_ITEMS, &m, &res), -1);
	scanproto_free(sp);
	sp = one(SCAN_PARSER_HASH_ONLY, 0);
	cr_assert_eq(done(sp, SCAN_OK, 0, 0, &res), -1);
	scanproto_free(sp);
}

static int
issue(struct scanproto *sp, uint32_t code, const char *reason, size_t rlen,
    struct scan_result **res)
{
	struct scan_issue_msg	m;

	memset(&m, 0, sizeof(m));
	m.scan_id = 9;
	m.file_id = 1;
	m.code = code;
	memcpy(m.reason, reason, rlen);
	return (scanproto_recv(sp, IMSG_SCAN_ISSUE, &m, sizeof(m), res));
}

Test(scanproto, issues, .init = setup, .fini = teardown)
{
	struct scanproto	*sp = one(SCAN_PARSER_NPM_LOCK, 0);
	struct scan_result	*res;
	struct scan_issue_msg	 im;
	char			 full[SCAN_REASON_MAX];
	int			 i;

	cr_assert_eq(issue(sp, SCAN_ISSUE_MALFORMED, "bad", 3, &res), 0);
	cr_assert_eq(issue(sp, SCAN_ISSUE_COUNT, "bad", 3, &res), -1);
	cr_assert_eq(issue(sp, SCAN_ISSUE_TYPE, "", 0, &res), -1);
	cr_assert_eq(issue(sp, SCAN_ISSUE_TYPE, "a\0b", 3, &res), -1);
	cr_assert_eq(issue(sp, SCAN_ISSUE_TYPE, "\xe2\x82", 2, &res), -1);
	memset(full, 'x', sizeof(full));
	cr_assert_eq(issue(sp, SCAN_ISSUE_TYPE, full, sizeof(full), &res), -1);
	memset(&im, 0, sizeof(im));
	im.scan_id = 9;
	im.file_id = 1;
	strlcpy(im.reason, "ok", sizeof(im.reason));
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_ISSUE, &im, sizeof(im) - 1,
	    &res), -1);
	im.file_id = 2;
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_ISSUE, &im, sizeof(im),
	    &res), -1);
	/* A bounded number per file. */
	for (i = 1; i < 64; i++)
		cr_assert_eq(issue(sp, SCAN_ISSUE_LIMIT, "n", 1, &res), 0);
	cr_assert_eq(issue(sp, SCAN_ISSUE_LIMIT, "n", 1, &res), -1);
	scanproto_free(sp);

	/* FAILED drops the items, keeps the issues. */
	sp = one(SCAN_PARSER_NPM_LOCK, 0);
	{
		struct msg	m;

		npm_item(&m);
		cr_assert_eq(recv_msg(sp, IMSG_SCAN_ITEMS, &m, &res), 0);
	}
	cr_assert_eq(issue(sp, SCAN_ISSUE_TYPE, "type error", 10, &res), 0);
	cr_assert_eq(done(sp, SCAN_FAILED, 1, 1, &res), 1);
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->nitems, 0);
	cr_assert_null(res->items);
	cr_assert_eq(res->nissues, 1);
	cr_assert_str_eq(res->issues[0].reason, "type error");
	cr_assert_str_eq(res->issues[0].path, res->path);
	scan_result_free(res);
	scanproto_free(sp);
}

Test(scanproto, file_done, .init = setup, .fini = teardown)
{
	struct scanproto	*sp = one(SCAN_PARSER_NPM_LOCK, 0);
	struct scan_result	*res;
	struct scan_file_done	 d = { 9, 1, SCAN_OK, 0, 0, 0, { 0 } };
	struct msg		 m;

	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d,
	    sizeof(d) + 1, &res), -1);
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d,
	    sizeof(d) - 1, &res), -1);
	cr_assert_eq(done(sp, 2, 0, 0, &res), -1);
	cr_assert_eq(done(sp, SCAN_OK, 1, 0, &res), -1);
	cr_assert_eq(done(sp, SCAN_OK, 0, 1, &res), -1);
	cr_assert_eq(done(sp, SCAN_FAILED, 0, 0, &res), -1);
	d.scan_id = 8;
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d, sizeof(d),
	    &res), -1);
	npm_item(&m);
	cr_assert_eq(recv_msg(sp, IMSG_SCAN_ITEMS, &m, &res), 0);
	cr_assert_eq(done(sp, SCAN_OK, 0, 0, &res), -1);
	cr_assert_eq(done(sp, SCAN_OK, 1, 0, &res), 1);
	scan_result_free(res);
	/* Unknown types are refused. */
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE, &d, sizeof(d), &res),
	    -1);
	scanproto_free(sp);
}

/*
 * SCAN_F_CONTENT: only for package files; a known hash only with it; an
 * UNCHANGED answer only for a known hash and with nothing else; a hash
 * back only where one was asked for, for a good read.
 */
static struct scanproto *
content_one(int known)
{
	struct scanproto	*sp;
	struct scan_file	 f;

	cr_assert_not_null(sp = scanproto_new());
	req_init(&f, 1, SCAN_PARSER_NPM_LOCK);
	f.flags = SCAN_F_CONTENT;
	if (known) {
		f.known_set = 1;
		memset(f.known, 0xab, sizeof(f.known));
	}
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), 0);
	return (sp);
}

Test(scanproto, content_hash, .init = setup, .fini = teardown)
{
	struct scanproto	*sp;
	struct scan_result	*res;
	struct scan_file	 f;
	struct scan_file_done	 d = { 9, 1, SCAN_OK, 0, 0, 1, { 0 } };
	struct msg		 m;

	/* The request's checks. */
	cr_assert_not_null(sp = scanproto_new());
	req_init(&f, 1, SCAN_PARSER_CLAUDE_MCP);
	f.flags = SCAN_F_CONTENT;
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), -1);
	req_init(&f, 1, SCAN_PARSER_NPM_LOCK);
	f.known_set = 1;
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), -1);
	req_init(&f, 1, SCAN_PARSER_NPM_LOCK);
	f.flags = SCAN_F_CONTENT;
	f.known[3] = 1;
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), -1);
	f.known_set = 2;
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), -1);
	scanproto_free(sp);

	/* UNCHANGED without a known hash, or with anything else: refused. */
	sp = content_one(0);
	cr_assert_eq(done(sp, SCAN_UNCHANGED, 0, 0, &res), -1);
	scanproto_free(sp);
	sp = content_one(1);
	npm_item(&m);
	cr_assert_eq(recv_msg(sp, IMSG_SCAN_ITEMS, &m, &res), 0);
	cr_assert_eq(done(sp, SCAN_UNCHANGED, 1, 0, &res), -1);
	scanproto_free(sp);
	sp = content_one(1);
	cr_assert_eq(done(sp, SCAN_UNCHANGED, 0, 0, &res), 1);
	cr_assert_eq(res->status, SCAN_UNCHANGED);
	cr_assert_eq(res->hashed, 0);
	scan_result_free(res);
	scanproto_free(sp);
	/* Not for a file sent without SCAN_F_CONTENT. */
	sp = one(SCAN_PARSER_NPM_LOCK, 0);
	cr_assert_eq(done(sp, SCAN_UNCHANGED, 0, 0, &res), -1);
	scanproto_free(sp);

	/* A hash: only asked for, only for SCAN_OK, only 0 or 1. */
	memset(d.hash, 0x5a, sizeof(d.hash));
	sp = one(SCAN_PARSER_NPM_LOCK, 0);
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d, sizeof(d),
	    &res), -1);
	scanproto_free(sp);
	sp = content_one(0);
	d.hashed = 2;
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d, sizeof(d),
	    &res), -1);
	d.hashed = 0;
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d, sizeof(d),
	    &res), -1);	/* a hash that is not said to be one */
	d.hashed = 1;
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d, sizeof(d),
	    &res), 1);
	cr_assert_eq(res->hashed, 1);
	cr_assert_eq(memcmp(res->hash, d.hash, sizeof(d.hash)), 0);
	scan_result_free(res);
	scanproto_free(sp);
}

Test(scanproto, order_and_window, .init = setup, .fini = teardown)
{
	struct scanproto	*sp;
	struct scan_result	*res;
	struct scan_file	 f;
	struct scan_file_done	 d = { 9, 2, SCAN_OK, 0, 0, 0, { 0 } };
	int			 i;

	cr_assert_not_null(sp = scanproto_new());
	for (i = 1; i <= SCAN_MAX_INFLIGHT; i++) {
		req_init(&f, (uint32_t)i, SCAN_PARSER_NPM_LOCK);
		cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), 0);
	}
	req_init(&f, 99, SCAN_PARSER_NPM_LOCK);
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), -1);
	cr_assert_eq(errno, EBUSY);
	/* Answers come for the oldest file only. */
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d, sizeof(d),
	    &res), -1);
	d.file_id = 1;
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d, sizeof(d),
	    &res), 1);
	scan_result_free(res);
	req_init(&f, 2, SCAN_PARSER_NPM_LOCK);
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), -1);
	cr_assert_eq(errno, EEXIST);
	d.file_id = 2;
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d, sizeof(d),
	    &res), 1);
	cr_assert_eq(res->file_id, 2);
	scan_result_free(res);
	/* A reset forgets everything outstanding. */
	scanproto_reset(sp);
	cr_assert_eq(scanproto_pending(sp), 0);
	d.file_id = 3;
	cr_assert_eq(scanproto_recv(sp, IMSG_SCAN_FILE_DONE, &d, sizeof(d),
	    &res), -1);
	scanproto_free(sp);
}

Test(scanproto, request_checks, .init = setup, .fini = teardown)
{
	struct scanproto	*sp;
	struct scan_file	 f;

	cr_assert_not_null(sp = scanproto_new());
#define BAD(stmt) do {							\
	req_init(&f, 1, SCAN_PARSER_NPM_LOCK);				\
	stmt;								\
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), -1,	\
	    "accepted: %s", #stmt);					\
	cr_assert_eq(errno, EINVAL);					\
} while (0)
	BAD(strlcpy(f.path, "relative/package-lock.json", sizeof(f.path)));
	BAD(f.path[0] = '\0');
	BAD(memset(f.path, 'a', sizeof(f.path)));
	BAD(f.path[sizeof(f.path) - 1] = 'x');
	BAD(strlcpy(f.path, "/bad\xff", sizeof(f.path)));
	BAD(f.surface = SURFACE_CLAUDE);
	BAD(f.parser = SCAN_PARSER_COUNT);
	BAD(f.flags = 0x80000000U);
	BAD(f.kind = KIND_AGENT);
	BAD(strlcpy(f.name, "x", sizeof(f.name)));
	BAD((f.parser = SCAN_PARSER_HASH_ONLY, f.surface = SURFACE_CLAUDE,
	    f.kind = KIND_MCP_SERVER, strlcpy(f.name, "x", sizeof(f.name))));
	BAD((f.parser = SCAN_PARSER_HASH_ONLY, f.surface = SURFACE_CLAUDE,
	    f.kind = KIND_AGENT, strlcpy(f.origin, "claude-customization",
	    sizeof(f.origin))));
	BAD((f.parser = SCAN_PARSER_HASH_ONLY, f.surface = SURFACE_CLAUDE,
	    f.kind = KIND_INSTRUCTION, strlcpy(f.name, "CLAUDE.md",
	    sizeof(f.name)), strlcpy(f.origin, "claude-customization",
	    sizeof(f.origin))));
#undef BAD
	req_init(&f, 1, SCAN_PARSER_HASH_ONLY);
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, devnull()), 0);
	req_init(&f, 2, SCAN_PARSER_NPM_LOCK);
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, -1), -1);
	scanproto_free(sp);
}

/* ---- The encoder ---- */

Test(scanproto, encoder_refusals, .init = setup, .fini = teardown)
{
	struct scan_out		 o;
	struct scan_file	 f;
	struct scan_item	 it;
	static char		 big[SCAN_DETAIL_MAX + 1];

	req_init(&f, 1, SCAN_PARSER_NPM_LOCK);
	cr_assert_eq(scan_out_begin(&o, &ib, &f), 0);
	memset(&it, 0, sizeof(it));
	it.kind = KIND_PACKAGE;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = "a\0b";
	it.name.len = 3;
	it.origin.p = "npm";
	it.origin.len = 3;
	cr_assert_eq(scan_out_item(&o, &it), -1);
	cr_assert_eq(errno, EILSEQ);
	it.name.p = "\xc0\xaf";
	it.name.len = 2;
	cr_assert_eq(scan_out_item(&o, &it), -1);
	cr_assert_eq(errno, EILSEQ);
	memset(big, 'd', sizeof(big));
	it.name.p = "a";
	it.name.len = 1;
	it.detail.p = big;
	it.detail.len = sizeof(big);
	cr_assert_eq(scan_out_item(&o, &it), -1);
	cr_assert_eq(errno, ERANGE);
	it.detail.len = SCAN_DETAIL_MAX;
	cr_assert_eq(scan_out_item(&o, &it), 0);
	it.kind = KIND_COUNT;
	cr_assert_eq(scan_out_item(&o, &it), -1);
	cr_assert_eq(errno, EINVAL);
	it.kind = KIND_PACKAGE;
	it.ior = 5;
	cr_assert_eq(scan_out_item(&o, &it), -1);
	cr_assert_eq(errno, EINVAL);
	scan_out_free(&o);
}

/* Many items, several batches, through a real socket: all arrive. */
Test(scanproto, encoder_round_trip, .init = setup, .fini = teardown)
{
	struct scanproto	*sp;
	struct scan_result	*res = NULL;
	struct scan_file	 f;
	struct scan_out		 o;
	struct scan_item	 it;
	struct imsgbuf		 cb;
	struct imsg		 imsg;
	struct pollfd		 pfd;
	char			 name[64], detail[600], reason[600];
	pid_t			 pid;
	int			 i, r = 0, status, n = 20000;
	ssize_t			 got;

	req_init(&f, 1, SCAN_PARSER_NPM_LOCK);
	cr_assert_not_null(sp = scanproto_new());
	/* 20,000 items of about 170 bytes: what a 1 MB lockfile may give. */
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, sized(1024 * 1024)), 0);
	cr_assert_eq(imsgbuf_flush(&ib), 0);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		if (imsgbuf_init(&cb, sv[1]) == -1 ||
		    scanproto_channel_init(&cb) == -1 ||
		    scan_out_begin(&o, &cb, &f) == -1)
			_exit(1);
		memset(detail, 'z', sizeof(detail));
		for (i = 0; i < n; i++) {
			memset(&it, 0, sizeof(it));
			it.kind = KIND_PACKAGE;
			it.ior = ITEM_BOOL_NIL;
			snprintf(name, sizeof(name), "pkg-%d", i);
			it.name.p = name;
			it.name.len = strlen(name);
			it.version.p = "1.0.0";
			it.version.len = 5;
			it.origin.p = "npm";
			it.origin.len = 3;
			if (i % 2) {
				it.detail.p = detail;
				it.detail.len = (size_t)(i % 500);
			}
			if (scan_out_item(&o, &it) == -1)
				_exit(2);
		}
		/* A long reason of multi-byte characters: cut whole. */
		for (i = 0; i + 2 < (int)sizeof(reason); i += 2)
			memcpy(reason + i, "\xc3\xa9", 2);
		reason[i] = '\0';
		if (scan_out_issue(&o, SCAN_ISSUE_HASH, reason) == -1 ||
		    scan_out_done(&o, SCAN_OK) == -1 ||
		    imsgbuf_flush(&cb) == -1)
			_exit(3);
		_exit(0);
	}
	while (r == 0) {
		pfd.fd = ib.fd;
		pfd.events = POLLIN;
		cr_assert_eq(poll(&pfd, 1, 10000), 1);
		cr_assert_eq(imsgbuf_read(&ib), 1);
		while (r == 0 && (got = imsg_get(&ib, &imsg)) > 0) {
			r = scanproto_dispatch(sp, &imsg, &res);
			imsg_free(&imsg);
		}
	}
	cr_assert_eq(r, 1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(res->nitems, (size_t)n);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "pkg-%d", i);
		cr_assert_str_eq(res->items[i].name, name);
		if (i % 2)
			cr_assert_eq(strlen(res->items[i].detail),
			    (size_t)(i % 500));
		else
			cr_assert_null(res->items[i].detail);
	}
	cr_assert_eq(res->nissues, 1);
	cr_assert_eq(strlen(res->issues[0].reason), SCAN_REASON_MAX - 2);
	scan_result_free(res);
	scanproto_free(sp);
}

/*
 * What is accepted for a file is bounded by its size: a child that
 * answers a 0-byte lockfile with items without end is refused once they
 * pass the budget, and the refusal names the file and its size.
 */
Test(scanproto, bounded_by_size, .init = setup, .fini = teardown)
{
	struct scanproto	*sp;
	struct scan_result	*res = NULL;
	struct scan_file	 f;
	struct scan_out		 o;
	struct scan_item	 it;
	struct imsgbuf		 cb;
	struct imsg		 imsg;
	struct pollfd		 pfd;
	char			 name[4000];
	const char		*why, *path;
	uint32_t		 fid;
	uint64_t		 accepted = 0;
	pid_t			 pid;
	int			 r = 0, status;
	ssize_t			 got;

	req_init(&f, 1, SCAN_PARSER_NPM_LOCK);
	cr_assert_not_null(sp = scanproto_new());
	cr_assert_eq(scanproto_send_file(sp, &ib, &f, sized(0)), 0);
	cr_assert_eq(imsgbuf_flush(&ib), 0);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		if (imsgbuf_init(&cb, sv[1]) == -1 ||
		    scanproto_channel_init(&cb) == -1 ||
		    scan_out_begin(&o, &cb, &f) == -1)
			_exit(1);
		memset(name, 'n', sizeof(name));
		memset(&it, 0, sizeof(it));
		it.kind = KIND_PACKAGE;
		it.ior = ITEM_BOOL_NIL;
		it.name.p = name;
		it.name.len = sizeof(name);
		it.version.p = "1.0.0";
		it.version.len = 5;
		it.origin.p = "npm";
		it.origin.len = 3;
		/* Until the parent hangs up (the test closes its end). */
		for (;;)
			if (scan_out_item(&o, &it) == -1 ||
			    imsgbuf_flush(&cb) == -1)
				_exit(0);
	}
	while (r == 0) {
		pfd.fd = ib.fd;
		pfd.events = POLLIN;
		cr_assert_eq(poll(&pfd, 1, 10000), 1);
		cr_assert_eq(imsgbuf_read(&ib), 1);
		while (r == 0 && (got = imsg_get(&ib, &imsg)) > 0) {
			r = scanproto_dispatch(sp, &imsg, &res);
			if (r == 0)
				accepted += imsg_get_len(&imsg);
			imsg_free(&imsg);
		}
	}
	cr_assert_eq(r, -1, "the flood was accepted");
	cr_assert_leq(accepted, scan_accept_budget(0) + SCAN_IMSG_MAXSIZE,
	    "%llu bytes accepted for a 0-byte file",
	    (unsigned long long)accepted);
	cr_assert_not_null(why = scanproto_refusal(sp, &path, &fid));
	cr_assert_str_eq(path, f.path);
	cr_assert_eq(fid, 1);
	cr_assert_not_null(strstr(why, "than its 0 bytes allow"), "%s", why);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	/* A reset forgets it. */
	scanproto_reset(sp);
	cr_assert_null(scanproto_refusal(sp, &path, &fid));
	scanproto_free(sp);
}
