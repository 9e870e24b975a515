/*
 * Codex config.toml (SURFACES.md 3.2, 12).
 *
 * The reference decodes the whole file as TOML and reads only
 * mcp_servers: a file that is not TOML, or whose mcp_servers tables hold
 * command, args, type, url or headersHelper with a wrong type, gives an
 * issue and no items at all (not even its configProfile item).  Other
 * keys, env among them, are parsed as TOML (they must be valid) but
 * never looked at.  Inline hooks are found in the raw text, line by
 * line, as the reference does: "[hooks.NAME]" alone on a line.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "scan.h"
#include "scan_agents.h"
#include "toml.h"

static const char *const codex_spec_keys[] = {
	"command", "type", "url", "headersHelper"
};

static struct sv
sv_of(const struct toml_value *v)
{
	struct sv		 s = { NULL, 0 };
	const struct toml_str	*ts;

	if ((ts = toml_as_string(v)) != NULL) {
		s.p = ts->ptr;
		s.len = ts->len;
	}
	return (s);
}

/* Check one server's known keys; 0 or -1 (issue recorded). */
static int
codex_server_check(const struct toml_kv *kv, const struct scan_sink *sink)
{
	const struct toml_table	*t;
	const struct toml_array	*a;
	const struct toml_value	*v;
	char			 what[128];
	size_t			 i;

	if ((t = toml_as_table(&kv->val)) == NULL) {
		snprintf(what, sizeof(what), "mcp_servers.%.*s",
		    (int)(kv->key.len > 64 ? 64 : kv->key.len), kv->key.ptr);
		scan_type_error(sink, what, "a table");
		return (-1);
	}
	for (i = 0; i < nitems(codex_spec_keys); i++) {
		if ((v = toml_table_get(t, codex_spec_keys[i])) == NULL ||
		    v->type == TOML_STRING)
			continue;
		scan_type_error(sink, codex_spec_keys[i], "a string");
		return (-1);
	}
	if ((v = toml_table_get(t, "args")) != NULL) {
		if ((a = toml_as_array(v)) == NULL) {
			scan_type_error(sink, "args", "an array");
			return (-1);
		}
		for (i = 0; i < toml_array_len(a); i++)
			if (toml_array_at(a, i)->type != TOML_STRING) {
				scan_type_error(sink, "an element of args",
				    "a string");
				return (-1);
			}
	}
	return (0);
}

static int
codex_server_emit(const struct toml_kv *kv, const struct scan_sink *sink)
{
	const struct toml_table	*t = toml_as_table(&kv->val);
	const struct toml_array	*a;
	struct scan_mcp_spec	 ms;
	struct sv		 name, *args = NULL;
	size_t			 i, n = 0;
	int			 r;

	memset(&ms, 0, sizeof(ms));
	ms.command = sv_of(toml_table_get(t, "command"));
	ms.url = sv_of(toml_table_get(t, "url"));
	ms.headers_helper = sv_of(toml_table_get(t, "headersHelper"));
	if ((a = toml_as_array(toml_table_get(t, "args"))) != NULL) {
		n = toml_array_len(a);
		if ((args = calloc(n ? n : 1, sizeof(*args))) == NULL) {
			sink->issue(sink->arg, SCAN_ISSUE_LIMIT,
			    "out of memory");
			return (-1);
		}
		for (i = 0; i < n; i++)
			args[i] = sv_of(toml_array_at(a, i));
		ms.args = args;
		ms.nargs = n;
	}
	name.p = kv->key.ptr;
	name.len = kv->key.len;
	r = scan_mcp_emit_one(sink, name, &ms);
	free(args);
	return (r);
}

struct hookname {
	const char	*p;
	size_t		 len;
};

static int
hook_cmp(const void *va, const void *vb)
{
	const struct hookname	*a = va, *b = vb;
	size_t			 n = a->len < b->len ? a->len : b->len;
	int			 r;

	if (n > 0 && (r = memcmp(a->p, b->p, n)) != 0)
		return (r);
	return (a->len < b->len ? -1 : a->len > b->len);
}

/* [hooks.NAME] lines, trimmed of spaces and tabs, sorted, unique. */
static int
codex_hooks(const char *buf, size_t len, const char *hash,
    const struct scan_sink *sink)
{
	struct hookname		*v = NULL, *nv;
	struct scan_item	 it;
	const char		*p = buf, *end = buf + len, *nl, *s, *e;
	size_t			 n = 0, cap = 0, i;
	int			 ret = -1;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		s = p;
		e = nl;
		p = nl < end ? nl + 1 : end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) < 8 || memcmp(s, "[hooks.", 7) != 0 ||
		    e[-1] != ']' || e - s == 8)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				sink->issue(sink->arg, SCAN_ISSUE_LIMIT,
				    "out of memory");
				goto out;
			}
			v = nv;
		}
		v[n].p = s + 7;
		v[n].len = (size_t)(e - s) - 8;
		n++;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), hook_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && hook_cmp(&v[i - 1], &v[i]) == 0)
			continue;
		memset(&it, 0, sizeof(it));
		it.kind = KIND_HOOK;
		it.ior = ITEM_BOOL_NIL;
		it.name.p = v[i].p;
		it.name.len = v[i].len;
		it.origin.p = SCAN_ORIGIN_CODEX_HOOKS;
		it.origin.len = strlen(SCAN_ORIGIN_CODEX_HOOKS);
		if (hash != NULL) {
			it.detail.p = hash;
			it.detail.len = strlen(hash);
		}
		if (sink->emit(sink->arg, &it) == -1)
			goto out;
	}
	ret = 0;
 out:
	free(v);
	return (ret);
}

int
scan_codex_config(const char *buf, size_t len, const char *fname,
    const char *hash, const struct scan_sink *sink)
{
	struct toml_limits	 lim;
	struct toml_error	 err;
	struct toml_doc		*d;
	const struct toml_value	*sv;
	const struct toml_table	*servers = NULL;
	struct scan_item	 it;
	char			 msg[SCAN_REASON_MAX];
	size_t			 i;
	int			 ret = -1;

	memset(&lim, 0, sizeof(lim));
	lim.max_doc = SCAN_CAP_AGENT;
	if ((d = toml_parse(buf, len, &lim, &err)) == NULL) {
		snprintf(msg, sizeof(msg), "not TOML: %s", err.msg);
		sink->issue(sink->arg, SCAN_ISSUE_MALFORMED, msg);
		return (-1);
	}
	if ((sv = toml_table_get(toml_root(d), "mcp_servers")) != NULL) {
		if ((servers = toml_as_table(sv)) == NULL) {
			scan_type_error(sink, "mcp_servers", "a table");
			goto out;
		}
		for (i = 0; i < toml_table_len(servers); i++)
			if (codex_server_check(toml_table_at(servers, i),
			    sink) == -1)
				goto out;
	}

	memset(&it, 0, sizeof(it));
	it.kind = KIND_CONFIG_PROFILE;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = fname;
	it.name.len = strlen(fname);
	it.origin.p = SCAN_ORIGIN_CODEX_CONFIG;
	it.origin.len = strlen(SCAN_ORIGIN_CODEX_CONFIG);
	if (hash != NULL) {
		it.detail.p = hash;
		it.detail.len = strlen(hash);
	}
	if (sink->emit(sink->arg, &it) == -1)
		goto out;
	for (i = 0; servers != NULL && i < toml_table_len(servers); i++)
		if (codex_server_emit(toml_table_at(servers, i), sink) == -1)
			goto out;
	ret = codex_hooks(buf, len, hash, sink);
 out:
	toml_free(d);
	return (ret);
}
