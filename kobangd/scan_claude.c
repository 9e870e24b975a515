/*
 * claudeConfig parsers (SURFACES.md 2.2-2.4, 12).
 *
 * MCP config files (~/.claude.json, <root>/.mcp.json) are decoded by the
 * reference with a typed JSONDecoder: top-level mcpServers and
 * projects.*.mcpServers, spec keys command, args, type, url and
 * headersHelper.  A wrong type in any of those fails the whole file;
 * null is as good as absent; of duplicate keys the first wins and the
 * later ones are never decoded.  Every other key -- env, headers, oauth
 * -- is passed over with json_skip(), which validates but never
 * unescapes or copies: their values are not read.  The headersHelper
 * value is type-checked and then only its non-emptiness is used.
 *
 * Settings and plugin files are generic JSON (JSONSerialization): only
 * key names, the presence of keys and plugin names are read, and the
 * detail of every item is the SHA-256 of the whole file.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "scan.h"
#include "scan_agents.h"
#include "scan_redact.h"

struct ref {
	size_t	off;
	size_t	len;
};

/* A name with the order it was met in, for stable sorts. */
struct named {
	struct ref	name;
	int		group;
	size_t		seq;
};

struct namelist {
	struct named	*v;
	size_t		 n;
	size_t		 cap;
};

struct mcp_cand {
	struct named	id;		/* group 0: top-level, 1: a project */
	struct ref	origin;
	struct ref	detail;
	int		has_detail;
};

struct claude {
	struct json		*js;
	const struct scan_sink	*sink;
	struct sbuf		 sb;
	struct mcp_cand		*cands;
	size_t			 ncands;
	size_t			 candcap;
	struct namelist		 names;
	int			 cmd_array;	/* OpenCode: command [a, ...] */
	struct ref		*elts;		/* a spec's array elements */
	size_t			 nelts;
	size_t			 eltcap;
	struct sbuf		 out;		/* a redacted field */
};

static void
claude_init(struct claude *c, struct json *js, const struct scan_sink *sink)
{
	memset(c, 0, sizeof(*c));
	c->js = js;
	c->sink = sink;
	sbuf_init(&c->sb);
	sbuf_init(&c->out);
}

static void
claude_free(struct claude *c)
{
	sbuf_free(&c->sb);
	sbuf_free(&c->out);
	free(c->elts);
	free(c->cands);
	free(c->names.v);
}

static int
nomem(struct claude *c)
{
	c->sink->issue(c->sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
	return (-1);
}

static int
malformed(struct claude *c)
{
	scan_malformed(c->sink, c->js);
	return (-1);
}

/* Keep a copy of bytes that must outlive the token or the caller. */
static int
save_bytes(struct claude *c, const char *p, size_t len, struct ref *r)
{
	if ((r->off = sbuf_add(&c->sb, p, len)) == SBUF_ERR)
		return (-1);
	r->len = len;
	return (0);
}

static int
save(struct claude *c, const struct json_tok *tok, struct ref *r)
{
	return (save_bytes(c, tok->s, tok->len, r));
}

/*
 * One argument of a server, kept on its own: the redaction reads them
 * one by one, in the order of the detail (mcp_candidate).
 */
static int
append_arg(struct claude *c, const char *p, size_t len)
{
	struct ref	*ne;
	size_t		 ncap;

	if (c->nelts == c->eltcap) {
		ncap = c->eltcap == 0 ? 16 : c->eltcap * 2;
		if ((ne = reallocarray(c->elts, ncap, sizeof(*ne))) == NULL)
			return (-1);
		c->elts = ne;
		c->eltcap = ncap;
	}
	if (save_bytes(c, p, len, &c->elts[c->nelts]) == -1)
		return (-1);
	c->nelts++;
	return (0);
}

/*
 * Read the next value, which must be an object ('{' read: 1), or null
 * where allow_null says so (0).  Anything else is recorded (-1).
 */
static int
expect_object(struct claude *c, const char *what, int allow_null)
{
	struct json_tok	tok;
	enum json_type	t;

	if ((t = json_next(c->js, &tok)) == JSON_ERROR)
		return (malformed(c));
	if (allow_null && t == JSON_NULL)
		return (0);
	if (t != JSON_OBJECT) {
		scan_type_error(c->sink, what, "an object");
		return (-1);
	}
	return (1);
}

/* Nothing may follow the document's value. */
static int
expect_eof(struct claude *c)
{
	struct json_tok	tok;

	if (json_next(c->js, &tok) != JSON_EOF)
		return (malformed(c));
	return (0);
}

/*
 * The next key of an object whose '{' was read: 1 with the key in tok,
 * 0 at the end of the object, -1 recorded.  Of duplicate keys the first
 * wins, as in Foundation: a later one's value is passed over here.
 */
static int
next_new_key(struct claude *c, struct strset *seen, struct json_tok *tok)
{
	enum json_type	t;
	int		r;

	for (;;) {
		if ((t = json_next(c->js, tok)) == JSON_END)
			return (0);
		if (t != JSON_KEY)
			return (malformed(c));
		if ((r = strset_add(seen, tok->s, tok->len)) == -1)
			return (nomem(c));
		if (r == 1)
			return (1);
		if (json_skip_next(c->js) == -1)
			return (malformed(c));
	}
}

static int
push_name(struct namelist *l, const struct ref *r, int group)
{
	struct named	*nn;
	size_t		 ncap;

	if (l->n == l->cap) {
		ncap = l->cap == 0 ? 16 : l->cap * 2;
		if ((nn = reallocarray(l->v, ncap, sizeof(*nn))) == NULL)
			return (-1);
		l->v = nn;
		l->cap = ncap;
	}
	l->v[l->n].name = *r;
	l->v[l->n].group = group;
	l->v[l->n].seq = l->n;
	l->n++;
	return (0);
}

static int
refcmp(const char *base, const struct ref *a, const struct ref *b)
{
	size_t	n = a->len < b->len ? a->len : b->len;
	int	r;

	if (n > 0 && (r = memcmp(base + a->off, base + b->off, n)) != 0)
		return (r);
	return (a->len < b->len ? -1 : a->len > b->len);
}

/* qsort has no context argument: the buffer is set around each sort. */
static const char	*cmp_base;

static int
named_cmp(const void *va, const void *vb)
{
	const struct named	*a = va, *b = vb;
	int			 r;

	if ((r = refcmp(cmp_base, &a->name, &b->name)) != 0)
		return (r);
	if (a->group != b->group)
		return (a->group < b->group ? -1 : 1);
	return (a->seq < b->seq ? -1 : a->seq > b->seq);
}

/* Plugin names: by the settings key they came from, then by name. */
static int
named_group_cmp(const void *va, const void *vb)
{
	const struct named	*a = va, *b = vb;

	if (a->group != b->group)
		return (a->group < b->group ? -1 : 1);
	return (named_cmp(va, vb));
}

/* Servers: the same order as names, by name, group, then seq. */
static int
cand_cmp(const void *va, const void *vb)
{
	const struct mcp_cand	*a = va, *b = vb;

	return (named_cmp(&a->id, &b->id));
}

static int
emit(struct claude *c, enum item_kind kind, const char *name, size_t namelen,
    const char *origin, const char *hash)
{
	struct scan_item	it;

	memset(&it, 0, sizeof(it));
	it.kind = kind;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = name;
	it.name.len = namelen;
	it.origin.p = origin;
	it.origin.len = strlen(origin);
	if (hash != NULL) {
		it.detail.p = hash;
		it.detail.len = strlen(hash);
	}
	return (c->sink->emit(c->sink->arg, &it));
}

/* ---- MCP config files ---- */

enum {
	S_COMMAND,
	S_ARGS,
	S_TYPE,
	S_URL,
	S_HEADERSHELPER,
	S_COUNT
};

static const char *const spec_keys[S_COUNT] = {
	"command", "args", "type", "url", "headersHelper"
};

/* A range of c->elts. */
struct elts {
	size_t		first;
	size_t		n;
};

struct spec {
	struct ref	v[S_COUNT];	/* S_ARGS: unused, see args */
	int		has[S_COUNT];	/* non-nil */
	unsigned int	seen;
	struct elts	args;
	struct elts	cmdargs;	/* a command array's tail */
	int		has_cmdargs;
};

/*
 * The elements of an array of strings, each kept in c->elts (its '['
 * read); what names the elements for an issue.
 */
static int
join_strings(struct claude *c, struct elts *r, const char *what)
{
	struct json_tok	 tok;
	enum json_type	 t;
	size_t		 start = c->nelts;

	for (;;) {
		if ((t = json_next(c->js, &tok)) == JSON_END)
			break;
		if (t == JSON_ERROR)
			return (malformed(c));
		if (t != JSON_STRING) {
			scan_type_error(c->sink, what, "a string");
			return (-1);
		}
		if (append_arg(c, tok.s, tok.len) == -1)
			return (nomem(c));
	}
	r->first = start;
	r->n = c->nelts - start;
	return (0);
}

static int
spec_key(const struct json_tok *tok)
{
	int	i;

	for (i = 0; i < S_COUNT; i++)
		if (json_tok_eq(tok, spec_keys[i]))
			return (i);
	return (-1);
}

/* A server spec, its '{' read. */
static int
mcp_spec(struct claude *c, struct spec *sp)
{
	struct json_tok	 tok;
	enum json_type	 t;
	int		 k;

	memset(sp, 0, sizeof(*sp));
	/* The elements of the spec before are in its candidate. */
	c->nelts = 0;
	for (;;) {
		if ((t = json_next(c->js, &tok)) == JSON_END)
			return (0);
		if (t != JSON_KEY)
			return (malformed(c));
		k = spec_key(&tok);
		if (k == -1 || (sp->seen & (1U << k))) {
			/* env, headers, oauth, ...: never decoded. */
			if (json_skip_next(c->js) == -1)
				return (malformed(c));
			continue;
		}
		sp->seen |= 1U << k;
		if ((t = json_next(c->js, &tok)) == JSON_ERROR)
			return (malformed(c));
		if (t == JSON_NULL)
			continue;
		if (k == S_COMMAND && t == JSON_ARRAY && c->cmd_array) {
			/*
			 * OpenCode writes the command as [command, arg, ...]:
			 * the first element is the command, the rest come
			 * before any args.
			 */
			if ((t = json_next(c->js, &tok)) == JSON_ERROR)
				return (malformed(c));
			if (t == JSON_END)
				continue;	/* [] is no command */
			if (t != JSON_STRING) {
				scan_type_error(c->sink,
				    "an element of command", "a string");
				return (-1);
			}
			if (save(c, &tok, &sp->v[k]) == -1)
				return (nomem(c));
			sp->has[k] = 1;
			if (join_strings(c, &sp->cmdargs,
			    "an element of command") == -1)
				return (-1);
			sp->has_cmdargs = 1;
			continue;
		}
		if (k != S_ARGS) {
			if (t != JSON_STRING) {
				scan_type_error(c->sink, spec_keys[k],
				    "a string");
				return (-1);
			}
			if (save(c, &tok, &sp->v[k]) == -1)
				return (nomem(c));
			sp->has[k] = 1;
			continue;
		}
		if (t != JSON_ARRAY) {
			scan_type_error(c->sink, "args", "an array");
			return (-1);
		}
		if (join_strings(c, &sp->args, "an element of args") == -1)
			return (-1);
		sp->has[S_ARGS] = 1;
	}
}

/* Append a copy of an earlier piece of the buffer. */
static int
append_ref(struct claude *c, const struct ref *r)
{
	if (sbuf_reserve(&c->sb, r->len) == -1)
		return (-1);
	/* Reserved: no move, the source stays where it is. */
	return (sbuf_add(&c->sb, c->sb.p + r->off, r->len) == SBUF_ERR ?
	    -1 : 0);
}

/* The bytes of a ref in c->sb. */
#define REF_P(c, r)	((c)->sb.p + (r)->off)

/*
 * The command line of a spec -- the command, a command array's tail,
 * then args -- redacted into c->out (scan_redact.h), the flag state
 * running from word to word across the arguments as they will read in
 * the detail.
 */
static int
redact_cmdline(struct claude *c, const struct spec *sp, const uint8_t *key)
{
	const struct elts	*part[2] = { &sp->cmdargs, &sp->args };
	const struct ref	*e;
	struct redactor		 rd;
	struct sbuf		 raw;
	size_t			 i, k, srclen;
	int			 ret = -1;

	sbuf_reset(&c->out);
	redact_init(&rd, key);
	if (redact_arg(&rd, &c->out, REF_P(c, &sp->v[S_COMMAND]),
	    sp->v[S_COMMAND].len) == -1)
		return (-1);
	srclen = sp->v[S_COMMAND].len;
	for (k = 0; k < 2; k++)
		for (i = 0; i < part[k]->n; i++) {
			e = &c->elts[part[k]->first + i];
			if (sbuf_add(&c->out, " ", 1) == SBUF_ERR ||
			    redact_arg(&rd, &c->out, REF_P(c, e), e->len) == -1)
				return (-1);
			srclen += 1 + e->len;
		}
	if (c->out.len <= srclen * REDACT_GROWTH + REDACT_MARK_LEN)
		return (0);
	/* Grown out of bounds (hostile): one marker of the whole line. */
	sbuf_init(&raw);
	if (sbuf_add(&raw, REF_P(c, &sp->v[S_COMMAND]),
	    sp->v[S_COMMAND].len) == SBUF_ERR)
		goto out;
	for (k = 0; k < 2; k++)
		for (i = 0; i < part[k]->n; i++) {
			e = &c->elts[part[k]->first + i];
			if (sbuf_add(&raw, " ", 1) == SBUF_ERR ||
			    sbuf_add(&raw, REF_P(c, e), e->len) == SBUF_ERR)
				goto out;
		}
	ret = redact_bound(key, &c->out, 0, raw.p, raw.len);
out:
	freezero(raw.p, raw.cap);
	return (ret);
}

/* Move c->out to the end of c->sb. */
static int
keep_out(struct claude *c, struct ref *r)
{
	if ((r->off = sbuf_add(&c->sb, c->out.p, c->out.len)) == SBUF_ERR)
		return (-1);
	r->len = c->out.len;
	return (0);
}

/*
 * MCP normalisation (SURFACES.md 2.2, RULES.md 9.5): origin is the url
 * if non-empty, else the command (nil: no item); the detail is the url,
 * or else the command and its args, then the literal "headersHelper".
 *
 * Unlike the reference, url, command and args are redacted here, before
 * anything leaves the child (scan_redact.h).  The item id is surface,
 * kind, path and name (RULES.md 2.1): neither origin nor detail is part
 * of it, so the id stays the reference's; a hidden value that changes
 * changes its marker, and the item reads as modified.
 *
 * -1: the file contributes nothing, an issue says why.
 */
static int
mcp_candidate(struct claude *c, const struct ref *name, const struct spec *sp,
    int group)
{
	struct mcp_cand	*mc, *nc;
	struct redactor	 rd;
	const uint8_t	*key;
	size_t		 ncap, start;
	int		 url = sp->has[S_URL] && sp->v[S_URL].len > 0;
	int		 cmd = sp->has[S_COMMAND] && sp->v[S_COMMAND].len > 0;
	int		 hh = sp->has[S_HEADERSHELPER] &&
			    sp->v[S_HEADERSHELPER].len > 0;

	if (!url && !sp->has[S_COMMAND])
		return (0);
	if ((key = scan_redact_key()) == NULL) {
		/* Never verbatim: without the key, no MCP server at all. */
		c->sink->issue(c->sink->arg, SCAN_ISSUE_LIMIT,
		    "no redaction key: MCP servers are not read");
		return (-1);
	}
	if (c->ncands == c->candcap) {
		ncap = c->candcap == 0 ? 16 : c->candcap * 2;
		if ((nc = reallocarray(c->cands, ncap, sizeof(*nc))) == NULL)
			return (nomem(c));
		c->cands = nc;
		c->candcap = ncap;
	}
	mc = &c->cands[c->ncands];
	memset(mc, 0, sizeof(*mc));
	mc->id.name = *name;
	mc->id.group = group;
	mc->id.seq = c->ncands;

	sbuf_reset(&c->out);
	if (url) {
		if (redact_url(key, &c->out, REF_P(c, &sp->v[S_URL]),
		    sp->v[S_URL].len) == -1 ||
		    redact_bound(key, &c->out, 0, REF_P(c, &sp->v[S_URL]),
		    sp->v[S_URL].len) == -1 ||
		    keep_out(c, &mc->origin) == -1)
			return (nomem(c));
	} else {
		/* The command alone, as it starts the command line. */
		redact_init(&rd, key);
		if (redact_arg(&rd, &c->out, REF_P(c, &sp->v[S_COMMAND]),
		    sp->v[S_COMMAND].len) == -1 ||
		    redact_bound(key, &c->out, 0, REF_P(c, &sp->v[S_COMMAND]),
		    sp->v[S_COMMAND].len) == -1 ||
		    keep_out(c, &mc->origin) == -1)
			return (nomem(c));
	}

	start = c->sb.len;
	if (url) {
		if (append_ref(c, &mc->origin) == -1)
			return (nomem(c));
	} else if (cmd) {
		if (redact_cmdline(c, sp, key) == -1 ||
		    sbuf_add(&c->sb, c->out.p, c->out.len) == SBUF_ERR)
			return (nomem(c));
	}
	if (hh) {
		if (c->sb.len > start && sbuf_add(&c->sb, " ", 1) == SBUF_ERR)
			return (nomem(c));
		if (sbuf_add(&c->sb, "headersHelper", 13) == SBUF_ERR)
			return (nomem(c));
	}
	if (c->sb.len > start) {
		mc->has_detail = 1;
		mc->detail.off = start;
		mc->detail.len = c->sb.len - start;
	}
	c->ncands++;
	return (0);
}

/* An mcpServers object, its '{' read. */
static int
mcp_servers(struct claude *c, int group)
{
	struct json_tok	 tok;
	struct strset	 seen;
	struct spec	 sp;
	struct ref	 name;
	int		 r, ret = -1;

	strset_init(&seen);
	while ((r = next_new_key(c, &seen, &tok)) == 1) {
		if (save(c, &tok, &name) == -1) {
			nomem(c);
			goto out;
		}
		if (expect_object(c, "an MCP server", 0) == -1)
			goto out;
		if (mcp_spec(c, &sp) == -1)
			goto out;
		if (mcp_candidate(c, &name, &sp, group) == -1)
			goto out;
	}
	ret = r;
out:
	strset_free(&seen);
	return (ret);
}

/* Read the value of an mcpServers key: null, or an object. */
static int
mcp_servers_value(struct claude *c, int group)
{
	int	r;

	if ((r = expect_object(c, "mcpServers", 1)) != 1)
		return (r);
	return (mcp_servers(c, group));
}

static int	mcp_projects(struct claude *);
static int	mcp_doc_list(struct claude *, const char *, enum json_type);

/*
 * The keys of an object holding MCP servers, its '{' read: the top
 * level of every MCP document and, in ~/.claude.json, each project
 * (group 1).  The first of duplicate keys wins; projects is only read
 * at the top level of a Claude file.
 */
static int
mcp_object(struct claude *c, const struct scan_mcp_doc *d, int group,
    int projects)
{
	struct json_tok	 tok;
	enum json_type	 t;
	int		 r, servers = 0, proj = 0, list = 0;

	for (;;) {
		if ((t = json_next(c->js, &tok)) == JSON_END)
			return (0);
		if (t != JSON_KEY)
			return (malformed(c));
		if (!servers && json_tok_eq(&tok, d->servers_key)) {
			/* Decoded (and type-checked) even when not kept. */
			servers = 1;
			if (mcp_servers_value(c, group) == -1)
				return (-1);
		} else if (projects && !proj &&
		    json_tok_eq(&tok, "projects")) {
			proj = 1;
			if ((r = expect_object(c, "projects", 1)) == -1)
				return (-1);
			if (r == 1 && mcp_projects(c) == -1)
				return (-1);
		} else if (!list && d->list_key != NULL &&
		    json_tok_eq(&tok, d->list_key)) {
			list = 1;
			if ((t = json_next(c->js, &tok)) == JSON_ERROR)
				return (malformed(c));
			if (mcp_doc_list(c, d->list_key, t) == -1)
				return (-1);
		} else if (json_skip_next(c->js) == -1)
			return (malformed(c));
	}
}

/* ~/.claude.json and .mcp.json: mcpServers, in projects too. */
static const struct scan_mcp_doc claude_mcp_doc = {
	.servers_key = "mcpServers",
	.servers = 1
};

/* The projects object, its '{' read. */
static int
mcp_projects(struct claude *c)
{
	struct json_tok	 tok;
	struct strset	 seen;
	int		 r, ret = -1;

	strset_init(&seen);
	while ((r = next_new_key(c, &seen, &tok)) == 1) {
		if (expect_object(c, "a project", 0) == -1)
			goto out;
		if (mcp_object(c, &claude_mcp_doc, 1, 0) == -1)
			goto out;
	}
	ret = r;
out:
	strset_free(&seen);
	return (ret);
}

/* A whole MCP document: one object and nothing after it. */
static int
mcp_document(struct claude *c, const struct scan_mcp_doc *d, int projects)
{
	if (expect_object(c, "the top level", 0) == -1)
		return (-1);
	if (mcp_object(c, d, 0, projects) == -1)
		return (-1);
	return (expect_eof(c));
}

static int
emit_cand(struct claude *c, const struct mcp_cand *mc)
{
	struct scan_item	it;

	memset(&it, 0, sizeof(it));
	it.kind = KIND_MCP_SERVER;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = c->sb.p + mc->id.name.off;
	it.name.len = mc->id.name.len;
	it.origin.p = c->sb.p + mc->origin.off;
	it.origin.len = mc->origin.len;
	if (mc->has_detail) {
		it.detail.p = c->sb.p + mc->detail.off;
		it.detail.len = mc->detail.len;
	}
	return (c->sink->emit(c->sink->arg, &it));
}

/*
 * Top-level servers first, then the projects' in document order; the
 * first candidate of a name wins; sorted by name.
 */
static int
emit_cands(struct claude *c)
{
	const struct mcp_cand	*mc, *prev = NULL;
	size_t			 i;

	cmp_base = c->sb.p;
	if (c->ncands > 1)
		qsort(c->cands, c->ncands, sizeof(*c->cands), cand_cmp);
	for (i = 0; i < c->ncands; i++) {
		mc = &c->cands[i];
		if (prev != NULL && refcmp(c->sb.p, &prev->id.name,
		    &mc->id.name) == 0)
			continue;
		prev = mc;
		if (emit_cand(c, mc) == -1)
			return (-1);
	}
	return (0);
}

int
scan_claude_mcp(struct json *js, const struct scan_sink *sink)
{
	struct claude	c;
	int		ret = -1;

	claude_init(&c, js, sink);
	if (mcp_document(&c, &claude_mcp_doc, 1) == -1)
		goto out;
	if (emit_cands(&c) == -1)
		goto out;
	ret = 0;
out:
	claude_free(&c);
	return (ret);
}

/* ---- Plugin names, settings, plugin files ---- */

enum {
	P_NAME,
	P_SOURCE,
	P_PATH,
	P_COUNT
};

/*
 * The names in a value whose first token t was just read (SURFACES.md
 * 2.3): an object gives its keys; an array of objects gives, per
 * object, the first string among name, source, path; an array of
 * strings gives the strings; anything else nothing.  Each list is
 * sorted; group says which settings key it came from.
 */
static int
plugin_names(struct claude *c, enum json_type t, int group)
{
	struct json_tok	 tok;
	struct strset	 seen;
	struct ref	 f[P_COUNT], name;
	size_t		 start = c->names.n;
	int		 all_obj = 1, all_str = 1, r, k, ret = -1;
	unsigned int	 fseen, fstr;
	static const char *const fkeys[P_COUNT] = { "name", "source", "path" };

	strset_init(&seen);
	if (t == JSON_OBJECT) {
		while ((r = next_new_key(c, &seen, &tok)) == 1) {
			if (save(c, &tok, &name) == -1 ||
			    push_name(&c->names, &name, group) == -1)
				goto nomem;
			if (json_skip_next(c->js) == -1)
				goto malformed;
		}
		if (r == -1)
			goto out;
	} else if (t == JSON_ARRAY) {
		for (;;) {
			if ((t = json_next(c->js, &tok)) == JSON_END)
				break;
			if (t == JSON_STRING) {
				all_obj = 0;
				if (save(c, &tok, &name) == -1 ||
				    push_name(&c->names, &name, group) == -1)
					goto nomem;
				continue;
			}
			if (t != JSON_OBJECT) {
				all_obj = all_str = 0;
				if (json_skip(c->js, t) == -1)
					goto malformed;
				continue;
			}
			all_str = 0;
			fseen = fstr = 0;
			for (;;) {
				if ((t = json_next(c->js, &tok)) == JSON_END)
					break;
				if (t != JSON_KEY)
					goto malformed;
				for (k = 0; k < P_COUNT; k++)
					if (json_tok_eq(&tok, fkeys[k]))
						break;
				if (k == P_COUNT || (fseen & (1U << k))) {
					if (json_skip_next(c->js) == -1)
						goto malformed;
					continue;
				}
				fseen |= 1U << k;
				if ((t = json_next(c->js, &tok)) == JSON_ERROR)
					goto malformed;
				if (t == JSON_STRING) {
					if (save(c, &tok, &f[k]) == -1)
						goto nomem;
					fstr |= 1U << k;
				} else if (json_skip(c->js, t) == -1)
					goto malformed;
			}
			for (k = 0; k < P_COUNT; k++)
				if (fstr & (1U << k))
					break;
			if (k < P_COUNT &&
			    push_name(&c->names, &f[k], group) == -1)
				goto nomem;
		}
		/* A mixed array is neither kind: no names. */
		if (!all_obj && !all_str)
			c->names.n = start;
	} else if (json_skip(c->js, t) == -1)
		goto malformed;

	cmp_base = c->sb.p;
	if (c->names.n - start > 1)
		qsort(c->names.v + start, c->names.n - start,
		    sizeof(*c->names.v), named_cmp);
	ret = 0;
	goto out;
malformed:
	malformed(c);
	goto out;
nomem:
	nomem(c);
out:
	strset_free(&seen);
	return (ret);
}

/* Emit the collected plugin names, first occurrence of each. */
static int
emit_plugins(struct claude *c, const char *hash)
{
	struct strset	 seen;
	const char	*s;
	size_t		 i;
	int		 r, ret = -1;

	strset_init(&seen);
	for (i = 0; i < c->names.n; i++) {
		s = c->sb.p + c->names.v[i].name.off;
		if ((r = strset_add(&seen, s, c->names.v[i].name.len)) == -1) {
			nomem(c);
			goto out;
		}
		if (r == 0)
			continue;
		if (emit(c, KIND_PLUGIN, s, c->names.v[i].name.len,
		    SCAN_ORIGIN_PLUGIN, hash) == -1)
			goto out;
	}
	ret = 0;
out:
	strset_free(&seen);
	return (ret);
}

static const char *
file_hash(struct claude *c)
{
	const char	*h = c->sink->hash(c->sink->arg);

	if (h == NULL)
		c->sink->issue(c->sink->arg, SCAN_ISSUE_HASH,
		    "cannot hash the file");
	return (h);
}

static const char *const plugin_keys[] = {
	"enabledPlugins", "extraKnownMarketplaces", "pluginMarketplaces",
	"plugins"
};
#define NPLUGIN_KEYS	(sizeof(plugin_keys) / sizeof(plugin_keys[0]))

int
scan_claude_settings(struct json *js, int flags, const struct scan_sink *sink)
{
	struct claude	 c;
	struct json_tok	 tok;
	struct strset	 seen;
	struct namelist	 keys = { NULL, 0, 0 };
	struct ref	 name;
	size_t		 i, pk;
	enum json_type	 t;
	const char	*hash;
	int		 r, hooks = 0, allow = 0, deny = 0, ret = -1;

	claude_init(&c, js, sink);
	strset_init(&seen);
	if ((t = json_next(js, &tok)) == JSON_ERROR) {
		malformed(&c);
		goto out;
	}
	if (t != JSON_OBJECT) {
		/* Not an object: skipped silently, once it is valid. */
		if (json_skip(js, t) == -1 || json_next(js, &tok) != JSON_EOF) {
			malformed(&c);
			goto out;
		}
		ret = 0;
		goto out;
	}
	while ((r = next_new_key(&c, &seen, &tok)) == 1) {
		if (save(&c, &tok, &name) == -1 ||
		    push_name(&keys, &name, 0) == -1) {
			nomem(&c);
			goto out;
		}

		if (json_tok_eq(&tok, "hooks"))
			hooks = 1;
		if (json_tok_eq(&tok, "permissions")) {
			if ((t = json_next(js, &tok)) == JSON_ERROR) {
				malformed(&c);
				goto out;
			}
			if (t != JSON_OBJECT) {
				if (json_skip(js, t) == -1) {
					malformed(&c);
					goto out;
				}
				continue;
			}
			for (;;) {
				if ((t = json_next(js, &tok)) == JSON_END)
					break;
				if (t != JSON_KEY) {
					malformed(&c);
					goto out;
				}
				if (json_tok_eq(&tok, "allow"))
					allow = 1;
				else if (json_tok_eq(&tok, "deny"))
					deny = 1;
				if (json_skip_next(js) == -1) {
					malformed(&c);
					goto out;
				}
			}
			continue;
		}
		if (flags & SCAN_F_PLUGINS) {
			for (pk = 0; pk < NPLUGIN_KEYS; pk++)
				if (json_tok_eq(&tok, plugin_keys[pk]))
					break;
			if (pk < NPLUGIN_KEYS) {
				if ((t = json_next(js, &tok)) == JSON_ERROR) {
					malformed(&c);
					goto out;
				}
				if (plugin_names(&c, t, (int)pk) == -1)
					goto out;
				continue;
			}
		}
		if (json_skip_next(js) == -1) {
			malformed(&c);
			goto out;
		}
	}
	if (r == -1 || expect_eof(&c) == -1)
		goto out;

	hash = file_hash(&c);
	cmp_base = c.sb.p;
	if (keys.n > 1)
		qsort(keys.v, keys.n, sizeof(*keys.v), named_cmp);
	for (i = 0; i < keys.n; i++)
		if (emit(&c, KIND_SETTINGS, c.sb.p + keys.v[i].name.off,
		    keys.v[i].name.len, SCAN_ORIGIN_SETTINGS, hash) == -1)
			goto out;
	if ((flags & SCAN_F_HOOKS) && hooks &&
	    emit(&c, KIND_HOOK, "hooks", 5, SCAN_ORIGIN_HOOK, hash) == -1)
		goto out;
	if (allow && emit(&c, KIND_SETTINGS, "permissions.allow", 17,
	    SCAN_ORIGIN_SETTINGS, hash) == -1)
		goto out;
	if (deny && emit(&c, KIND_SETTINGS, "permissions.deny", 16,
	    SCAN_ORIGIN_SETTINGS, hash) == -1)
		goto out;
	/* In key order: enabledPlugins, extraKnownMarketplaces, ... */
	if (flags & SCAN_F_PLUGINS) {
		if (c.names.n > 1)
			qsort(c.names.v, c.names.n, sizeof(*c.names.v),
			    named_group_cmp);
		if (emit_plugins(&c, hash) == -1)
			goto out;
	}
	ret = 0;
out:
	free(keys.v);
	strset_free(&seen);
	claude_free(&c);
	return (ret);
}

/*
 * Claude Code's installed_plugins.json is {"version": 2, "plugins":
 * {"name@marketplace": [...], ...}}: the reference's rule (the top-level
 * keys) names the plugins "version" and "plugins".  With a number
 * "version" and an object "plugins", the names are the keys of
 * "plugins" (kobangd.yaml(5), the differences); otherwise, and for
 * every other shape, the reference's rule.  Its '{' read.
 */
static int
plugin_file_object(struct claude *c)
{
	struct json_tok	 tok;
	struct strset	 seen;
	struct ref	 name;
	enum json_type	 t;
	size_t		 i, n;
	int		 r, version = 0, plugins = 0, keep, ret = -1;

	strset_init(&seen);
	while ((r = next_new_key(c, &seen, &tok)) == 1) {
		if (save(c, &tok, &name) == -1 ||
		    push_name(&c->names, &name, 0) == -1) {
			nomem(c);
			goto out;
		}
		if (!json_tok_eq(&tok, "version") &&
		    !json_tok_eq(&tok, "plugins")) {
			if (json_skip_next(c->js) == -1) {
				malformed(c);
				goto out;
			}
			continue;
		}
		r = json_tok_eq(&tok, "version");
		if ((t = json_next(c->js, &tok)) == JSON_ERROR) {
			malformed(c);
			goto out;
		}
		if (r)
			version = t == JSON_NUMBER;
		else if (t == JSON_OBJECT) {
			plugins = 1;
			if (plugin_names(c, t, 1) == -1)
				goto out;
			continue;
		}
		if (json_skip(c->js, t) == -1) {
			malformed(c);
			goto out;
		}
	}
	if (r == -1)
		goto out;
	/* One rule's names only, sorted as plugin_names() sorts them. */
	keep = version && plugins;
	for (i = n = 0; i < c->names.n; i++)
		if (c->names.v[i].group == keep)
			c->names.v[n++] = c->names.v[i];
	c->names.n = n;
	cmp_base = c->sb.p;
	if (n > 1)
		qsort(c->names.v, n, sizeof(*c->names.v), named_cmp);
	ret = 0;
out:
	strset_free(&seen);
	return (ret);
}

int
scan_claude_plugin_file(struct json *js, const struct scan_sink *sink)
{
	struct claude	 c;
	struct json_tok	 tok;
	enum json_type	 t;
	const char	*hash;
	int		 ret = -1;

	claude_init(&c, js, sink);
	if ((t = json_next(js, &tok)) == JSON_ERROR) {
		malformed(&c);
		goto out;
	}
	if ((t == JSON_OBJECT ? plugin_file_object(&c) :
	    plugin_names(&c, t, 0)) == -1 || expect_eof(&c) == -1)
		goto out;
	hash = file_hash(&c);
	if (emit_plugins(&c, hash) == -1)
		goto out;
	ret = 0;
out:
	claude_free(&c);
	return (ret);
}

/* ---- MCP documents of the other agent surfaces (scan_agents.h) ---- */

/* A list of strings (imports, plugin), its first token read. */
static int
mcp_doc_list(struct claude *c, const char *key, enum json_type t)
{
	struct json_tok	tok;
	struct ref	r;
	char		what[64];

	if (t == JSON_NULL)
		return (0);
	if (t != JSON_ARRAY) {
		scan_type_error(c->sink, key, "an array");
		return (-1);
	}
	for (;;) {
		if ((t = json_next(c->js, &tok)) == JSON_END)
			return (0);
		if (t == JSON_ERROR)
			return (malformed(c));
		if (t != JSON_STRING) {
			snprintf(what, sizeof(what), "an element of %s", key);
			scan_type_error(c->sink, what, "a string");
			return (-1);
		}
		if (save(c, &tok, &r) == -1 ||
		    push_name(&c->names, &r, 0) == -1)
			return (nomem(c));
	}
}

int
scan_mcp_doc(struct json *js, const struct scan_mcp_doc *d,
    const struct scan_sink *sink)
{
	struct claude	 c;
	const char	*hash;
	size_t		 i;
	int		 ret = -1;

	claude_init(&c, js, sink);
	c.cmd_array = d->cmd_array;
	if (mcp_document(&c, d, 0) == -1)
		goto out;

	hash = sink->hash(sink->arg);
	if (d->profile_name != NULL && emit(&c, KIND_CONFIG_PROFILE,
	    d->profile_name, strlen(d->profile_name), d->profile_origin,
	    hash) == -1)
		goto out;
	if (d->servers && emit_cands(&c) == -1)
		goto out;
	/* In document order, repeats kept (SURFACES.md 13.3). */
	for (i = 0; d->list && i < c.names.n; i++)
		if (emit(&c, d->list_kind, c.sb.p + c.names.v[i].name.off,
		    c.names.v[i].name.len, d->list_origin, d->list_hash ?
		    hash : NULL) == -1)
			goto out;
	ret = 0;
out:
	claude_free(&c);
	return (ret);
}

/* A spec string given by the caller; p == NULL is nil. */
static int
spec_sv(struct claude *c, struct spec *sp, int k, const struct sv *v)
{
	if (v->p == NULL)
		return (0);
	if (save_bytes(c, v->p, v->len, &sp->v[k]) == -1)
		return (-1);
	sp->has[k] = 1;
	return (0);
}

int
scan_mcp_emit_one(const struct scan_sink *sink, struct sv name,
    const struct scan_mcp_spec *ms)
{
	struct claude	 c;
	struct spec	 sp;
	struct ref	 nm;
	size_t		 i;
	int		 ret = -1;

	claude_init(&c, NULL, sink);
	memset(&sp, 0, sizeof(sp));
	if (save_bytes(&c, name.p, name.len, &nm) == -1 ||
	    spec_sv(&c, &sp, S_COMMAND, &ms->command) == -1 ||
	    spec_sv(&c, &sp, S_URL, &ms->url) == -1 ||
	    spec_sv(&c, &sp, S_HEADERSHELPER, &ms->headers_helper) == -1)
		goto nomem;
	if (ms->args != NULL) {
		for (i = 0; i < ms->nargs; i++)
			if (append_arg(&c, ms->args[i].p,
			    ms->args[i].len) == -1)
				goto nomem;
		sp.args.first = 0;
		sp.args.n = c.nelts;
		sp.has[S_ARGS] = 1;
	}
	if (mcp_candidate(&c, &nm, &sp, 0) == -1) {
		claude_free(&c);
		return (-1);
	}
	ret = 0;
	if (c.ncands == 1)
		ret = emit_cand(&c, &c.cands[0]);
	claude_free(&c);
	return (ret);
 nomem:
	nomem(&c);
	claude_free(&c);
	return (-1);
}
