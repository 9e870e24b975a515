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

int
scan_keys_file(struct json *js, enum item_kind kind, const char *origin,
    const struct scan_sink *sink)
{
	struct json_tok		 tok;
	struct sbuf		 sb;
	struct strset		 seen;
	struct keyref		*v = NULL, *nv;
	struct scan_item	 it;
	const char		*hash;
	enum json_type		 t;
	size_t			 n = 0, cap = 0, i;
	int			 r, ret = -1, object;

	sbuf_init(&sb);
	strset_init(&seen);
	if ((t = json_next(js, &tok)) == JSON_ERROR) {
		scan_malformed(sink, js);
		goto out;
	}
	if (!(object = (t == JSON_OBJECT))) {
		/* Not an object: read to the end, then nothing. */
		if (json_skip(js, t) == -1) {
			scan_malformed(sink, js);
			goto out;
		}
	}
	while (object) {
		if ((t = json_next(js, &tok)) == JSON_END)
			break;
		if (t != JSON_KEY) {
			scan_malformed(sink, js);
			goto out;
		}
		if ((r = strset_add(&seen, tok.s, tok.len)) == -1)
			goto nomem;
		if (r == 1) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				if ((nv = reallocarray(v, cap,
				    sizeof(*v))) == NULL)
					goto nomem;
				v = nv;
			}
			if ((v[n].off = sbuf_add(&sb, tok.s, tok.len)) ==
			    SBUF_ERR)
				goto nomem;
			v[n++].len = tok.len;
		}
		if (json_skip_next(js) == -1) {
			scan_malformed(sink, js);
			goto out;
		}
	}
	if (json_next(js, &tok) != JSON_EOF) {
		scan_malformed(sink, js);
		goto out;
	}
	hash = sink->hash(sink->arg);
	key_base = sb.p;
	if (n > 1)
		qsort(v, n, sizeof(*v), keyref_cmp);
	for (i = 0; i < n; i++) {
		memset(&it, 0, sizeof(it));
		it.kind = kind;
		it.ior = ITEM_BOOL_NIL;
		it.name.p = sb.p + v[i].off;
		it.name.len = v[i].len;
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
 nomem:
	sink->issue(sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
 out:
	free(v);
	strset_free(&seen);
	sbuf_free(&sb);
	return (ret);
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
