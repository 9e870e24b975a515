/*
 * The JSON files of cursorConfig, opencodeConfig and piConfig, and the
 * key-listing files of Codex and Pi (SURFACES.md 3-6).  MCP servers go
 * through scan_mcp_doc() (scan_claude.c), the one normalisation every
 * agent surface shares.
 */

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "scan_agents.h"

const char *
scan_base_name(const char *path)
{
	const char	*s = strrchr(path, '/');

	return (s != NULL ? s + 1 : path);
}

struct keyref {
	size_t	off;
	size_t	len;
};

static const char	*key_base;

static int
keyref_cmp(const void *va, const void *vb)
{
	const struct keyref	*a = va, *b = vb;
	size_t			 n = a->len < b->len ? a->len : b->len;
	int			 r;

	if (n > 0 && (r = memcmp(key_base + a->off, key_base + b->off,
	    n)) != 0)
		return (r);
	return (a->len < b->len ? -1 : a->len > b->len);
}

/* A name for the list at *vp, its text kept in sb. */
static int
push_key(struct keyref **vp, size_t *np, size_t *capp, struct sbuf *sb,
    const struct json_tok *tok)
{
	struct keyref	*nv;

	if (*np == *capp) {
		*capp = *capp ? *capp * 2 : 16;
		if ((nv = reallocarray(*vp, *capp, sizeof(**vp))) == NULL)
			return (-1);
		*vp = nv;
	}
	if (((*vp)[*np].off = sbuf_add(sb, tok->s, tok->len)) == SBUF_ERR)
		return (-1);
	(*vp)[(*np)++].len = tok->len;
	return (0);
}

/*
 * The keys of the top-level object (first of duplicates, sorted); with
 * nested, when that key holds an object, the keys of that object
 * instead.
 */
static int
keys_file(struct json *js, enum item_kind kind, const char *origin,
    const char *nested, const struct scan_sink *sink)
{
	struct json_tok		 tok;
	struct sbuf		 sb;
	struct strset		 seen, seen2;
	struct keyref		*v = NULL, *w = NULL, *use;
	struct scan_item	 it;
	const char		*hash;
	enum json_type		 t;
	size_t			 n = 0, cap = 0, nw = 0, capw = 0, nuse, i;
	int			 r, ret = -1, object, inner = 0;

	sbuf_init(&sb);
	strset_init(&seen);
	strset_init(&seen2);
	if ((t = json_next(js, &tok)) == JSON_ERROR)
		goto malformed;
	if (!(object = (t == JSON_OBJECT))) {
		/* Not an object: read to the end, then nothing. */
		if (json_skip(js, t) == -1)
			goto malformed;
	}
	while (object) {
		if ((t = json_next(js, &tok)) == JSON_END)
			break;
		if (t != JSON_KEY)
			goto malformed;
		if ((r = strset_add(&seen, tok.s, tok.len)) == -1)
			goto nomem;
		if (r == 1 && push_key(&v, &n, &cap, &sb, &tok) == -1)
			goto nomem;
		if (r == 0 || nested == NULL || !json_tok_eq(&tok, nested)) {
			if (json_skip_next(js) == -1)
				goto malformed;
			continue;
		}
		if ((t = json_next(js, &tok)) == JSON_ERROR)
			goto malformed;
		if (t != JSON_OBJECT) {
			if (json_skip(js, t) == -1)
				goto malformed;
			continue;
		}
		inner = 1;
		for (;;) {
			if ((t = json_next(js, &tok)) == JSON_END)
				break;
			if (t != JSON_KEY)
				goto malformed;
			if ((r = strset_add(&seen2, tok.s, tok.len)) == -1)
				goto nomem;
			if (r == 1 && push_key(&w, &nw, &capw, &sb, &tok) ==
			    -1)
				goto nomem;
			if (json_skip_next(js) == -1)
				goto malformed;
		}
	}
	if (json_next(js, &tok) != JSON_EOF)
		goto malformed;
	hash = sink->hash(sink->arg);
	use = inner ? w : v;
	nuse = inner ? nw : n;
	key_base = sb.p;
	if (nuse > 1)
		qsort(use, nuse, sizeof(*use), keyref_cmp);
	for (i = 0; i < nuse; i++) {
		memset(&it, 0, sizeof(it));
		it.kind = kind;
		it.ior = ITEM_BOOL_NIL;
		it.name.p = sb.p + use[i].off;
		it.name.len = use[i].len;
		it.origin.p = origin;
		it.origin.len = strlen(origin);
		if (hash != NULL) {
			it.detail.p = hash;
			it.detail.len = strlen(hash);
		}
		if (sink->emit(sink->arg, &it) == -1)
			goto out;
	}
	ret = 0;
	goto out;
 malformed:
	scan_malformed(sink, js);
	goto out;
 nomem:
	sink->issue(sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
 out:
	free(v);
	free(w);
	strset_free(&seen);
	strset_free(&seen2);
	sbuf_free(&sb);
	return (ret);
}

int
scan_keys_file(struct json *js, enum item_kind kind, const char *origin,
    const struct scan_sink *sink)
{
	return (keys_file(js, kind, origin, NULL, sink));
}

/*
 * Codex's hooks.json.  The reference names a hook by each top-level key;
 * Codex writes {"hooks": {"Event": [...], ...}}, where that gives one
 * hook "hooks".  When "hooks" holds an object, its keys (the events) are
 * the hooks (kobangd.yaml(5), the differences).
 */
int
scan_codex_hooks(struct json *js, const struct scan_sink *sink)
{
	return (keys_file(js, KIND_HOOK, SCAN_ORIGIN_CODEX_HOOKS, "hooks",
	    sink));
}

/* ~/.cursor/mcp.json, <root>/.cursor/mcp.json: mcpServers only. */
int
scan_cursor_mcp(struct json *js, const struct scan_sink *sink)
{
	struct scan_mcp_doc	d;

	memset(&d, 0, sizeof(d));
	d.servers_key = "mcpServers";
	d.servers = 1;
	return (scan_mcp_doc(js, &d, sink));
}

/* Pi's MCP files (JSONC): mcpServers and, with includeImports, imports. */
int
scan_pi_mcp(struct json *js, int flags, const struct scan_sink *sink)
{
	struct scan_mcp_doc	d;

	memset(&d, 0, sizeof(d));
	d.servers_key = "mcpServers";
	d.servers = 1;
	d.list_key = "imports";
	d.list = (flags & SCAN_F_IMPORTS) != 0;
	d.list_kind = KIND_IMPORT;
	d.list_origin = SCAN_ORIGIN_PI_IMPORT;
	return (scan_mcp_doc(js, &d, sink));
}

/*
 * opencode.json(c): the configProfile item, mcp (with includeMCP) and
 * the plugin list (always).  A decode failure here loses the MCP and
 * plugin items; the caller keeps the profile item (SURFACES.md 6).
 */
int
scan_opencode_config(struct json *js, int flags, const char *fname,
    const struct scan_sink *sink)
{
	struct scan_mcp_doc	d;

	memset(&d, 0, sizeof(d));
	d.servers_key = "mcp";
	d.servers = (flags & SCAN_F_MCP) != 0;
	d.list_key = "plugin";
	d.list = 1;
	d.list_kind = KIND_PLUGIN;
	d.list_origin = SCAN_ORIGIN_OPENCODE_PLUGIN;
	d.list_hash = 1;
	d.profile_name = fname;
	d.profile_origin = SCAN_ORIGIN_OPENCODE_CONFIG;
	/* OpenCode documents "command" as an array (SURFACES.md 13.6). */
	d.cmd_array = 1;
	return (scan_mcp_doc(js, &d, sink));
}
