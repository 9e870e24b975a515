/*
 * The scan protocol, both ends: the parent's strict decoder of what the
 * scan child answers, and the child's encoder.  The layouts are in
 * scanproto.h and privsep/PROTOCOL.md.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "item.h"
#include "json.h"
#include "kobangd.h"
#include "scan_format.h"
#include "scan_pkg.h"
#include "scanproto.h"
#include "utf8.h"

/* Per file: more than this many items or issues breaks the channel. */
#define SCAN_FILE_ITEMS_MAX	2000000
#define SCAN_FILE_ISSUES_MAX	64

/* Item header on the wire: surface, kind, ior, nil flags. */
#define SCAN_ITEM_HDR		4

/* Queue this many batches at most before writing them out. */
#define SCAN_OUT_QUEUE		4

int
scanproto_channel_init(struct imsgbuf *ibuf)
{
	return (imsgbuf_set_maxsize(ibuf, SCAN_IMSG_MAXSIZE -
	    IMSG_HEADER_SIZE));
}

const char *
scan_parser_name(enum scan_parser p)
{
	const struct scan_format *f;

	if ((f = scan_format_by_parser(p)) != NULL)
		return (f->parser_name);
	switch (p) {
	case SCAN_PARSER_CLAUDE_MCP:
		return ("claude-mcp");
	case SCAN_PARSER_CLAUDE_SETTINGS:
		return ("claude-settings");
	case SCAN_PARSER_CLAUDE_PLUGIN_FILE:
		return ("claude-plugin-file");
	case SCAN_PARSER_HASH_ONLY:
		return ("hash-only");
	case SCAN_PARSER_BREW_RECEIPT:
		return ("brew-receipt");
	case SCAN_PARSER_CODEX_CONFIG:
		return ("codex-config");
	case SCAN_PARSER_CODEX_HOOKS:
		return ("codex-hooks");
	case SCAN_PARSER_CURSOR_MCP:
		return ("cursor-mcp");
	case SCAN_PARSER_OPENCODE_CONFIG:
		return ("opencode-config");
	case SCAN_PARSER_PI_MCP:
		return ("pi-mcp");
	case SCAN_PARSER_PI_SETTINGS:
		return ("pi-settings");
	case SCAN_PARSER_AGENT_HASH:
		return ("agent-hash");
	default:
		break;
	}
	return ("unknown");
}

const char *
scan_issue_code_name(enum scan_issue_code c)
{
	switch (c) {
	case SCAN_ISSUE_OVERSIZED:
		return ("oversized");
	case SCAN_ISSUE_NOT_REGULAR:
		return ("not a regular file");
	case SCAN_ISSUE_UNREADABLE:
		return ("unreadable");
	case SCAN_ISSUE_CHANGED:
		return ("changed while read");
	case SCAN_ISSUE_MALFORMED:
		return ("malformed");
	case SCAN_ISSUE_TYPE:
		return ("type error");
	case SCAN_ISSUE_LIMIT:
		return ("limit");
	case SCAN_ISSUE_HASH:
		return ("hash failed");
	case SCAN_ISSUE_UNSUPPORTED:
		return ("unsupported");
	case SCAN_ISSUE_COUNT:
		break;
	}
	return ("unknown");
}

/* The fixed origins of the file-backed claudeConfig items. */
#define ORIGIN_SETTINGS		"claude-settings"
#define ORIGIN_HOOK		"claude-hook"
#define ORIGIN_PLUGIN		"claude-plugin"

/* Which surface each parser serves. */
int
scan_parser_surface(enum scan_parser p)
{
	const struct scan_format *f;

	if ((f = scan_format_by_parser(p)) != NULL)
		return (f->surface);
	switch (p) {
	case SCAN_PARSER_CLAUDE_MCP:
	case SCAN_PARSER_CLAUDE_SETTINGS:
	case SCAN_PARSER_CLAUDE_PLUGIN_FILE:
	case SCAN_PARSER_HASH_ONLY:
		return (SURFACE_CLAUDE);
	case SCAN_PARSER_BREW_RECEIPT:
		return (SURFACE_HOMEBREW);
	case SCAN_PARSER_CODEX_CONFIG:
	case SCAN_PARSER_CODEX_HOOKS:
		return (SURFACE_CODEX);
	case SCAN_PARSER_CURSOR_MCP:
		return (SURFACE_CURSOR);
	case SCAN_PARSER_OPENCODE_CONFIG:
		return (SURFACE_OPENCODE);
	case SCAN_PARSER_PI_MCP:
	case SCAN_PARSER_PI_SETTINGS:
		return (SURFACE_PI);
	default:
		/* A parser not implemented here has no surface: refused. */
		break;
	}
	return (-1);
}

/*
 * JSONC where the tools write it: OpenCode and Pi take comments, and
 * OpenCode writes trailing commas too (SURFACES.md 13.6; the reference
 * refuses those, kobangd.yaml(5) lists the difference); a package
 * format's dialect is its row's.
 */
int
scan_parser_json_flags(enum scan_parser p)
{
	const struct scan_format *f;

	if ((f = scan_format_by_parser(p)) != NULL)
		return (f->json_flags);
	switch (p) {
	case SCAN_PARSER_OPENCODE_CONFIG:
		return (JSON_F_COMMENTS | JSON_F_TRAILING);
	case SCAN_PARSER_PI_MCP:
		return (JSON_F_COMMENTS);
	default:
		return (0);
	}
}

/* A fixed-size char array holds a NUL-terminated string, zero padded. */
static int
fixed_string_ok(const char *s, size_t size, int empty_ok)
{
	const char	*nul;
	size_t		 i, len;

	if ((nul = memchr(s, '\0', size)) == NULL)
		return (0);
	len = (size_t)(nul - s);
	if (len == 0 && !empty_ok)
		return (0);
	for (i = len; i < size; i++)
		if (s[i] != '\0')
			return (0);
	return (utf8_valid(s, len));
}

static int
hexhash_ok(const char *p, size_t len)
{
	size_t	i;

	if (len != 64)
		return (0);
	for (i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return (0);
	return (1);
}

/*
 * The hashed files of codexConfig, cursorConfig, opencodeConfig and
 * piConfig (SURFACES.md 3-6): which template each surface may ask for.
 */
static const struct {
	enum surface	 surface;
	enum item_kind	 kind;
	const char	*origin;
} agent_templates[] = {
	{ SURFACE_CODEX, KIND_RULE, "codex-rules" },
	{ SURFACE_CODEX, KIND_SKILL, "codex-skills" },
	{ SURFACE_CURSOR, KIND_RULE, "cursor-rules" },
	{ SURFACE_CURSOR, KIND_RULE, "cursor-legacy-rules" },
	{ SURFACE_CURSOR, KIND_INSTRUCTION, "cursor-instruction" },
	{ SURFACE_OPENCODE, KIND_AGENT, "opencode-agent" },
	{ SURFACE_OPENCODE, KIND_COMMAND, "opencode-command" },
	{ SURFACE_OPENCODE, KIND_PLUGIN, "opencode-plugin" },
	{ SURFACE_OPENCODE, KIND_INSTRUCTION, "opencode-instruction" },
	/* The managed preferences plist: hashed, never parsed. */
	{ SURFACE_OPENCODE, KIND_CONFIG_PROFILE, "opencode-config" },
	{ SURFACE_PI, KIND_PLUGIN, "pi-package" },
};

/* Requests of the parsers of SURFACES.md 1, 3-6. */
static int
agents_file_valid(const struct scan_file *f)
{
	size_t	i;

	if ((f->flags & ~SCAN_F_AGENTS) != 0 ||
	    !fixed_string_ok(f->path, sizeof(f->path), 0) ||
	    f->path[0] != '/' ||
	    !fixed_string_ok(f->version, sizeof(f->version), 1))
		return (0);
	if (f->parser == SCAN_PARSER_AGENT_HASH) {
		if (f->version[0] != '\0' || f->flags != 0 ||
		    !fixed_string_ok(f->name, sizeof(f->name), 0) ||
		    !fixed_string_ok(f->origin, sizeof(f->origin), 1))
			return (0);
		for (i = 0; i < nitems(agent_templates); i++)
			if ((uint32_t)agent_templates[i].surface ==
			    f->surface && (uint32_t)agent_templates[i].kind ==
			    f->kind && strcmp(agent_templates[i].origin,
			    f->origin) == 0)
				return (1);
		return (0);
	}
	if ((int)f->surface != scan_parser_surface(f->parser))
		return (0);
	if (f->parser == SCAN_PARSER_BREW_RECEIPT)
		/* The package's rack or cask name and its versions. */
		return (f->kind == KIND_PACKAGE && f->flags == 0 &&
		    fixed_string_ok(f->name, sizeof(f->name), 0) &&
		    fixed_string_ok(f->origin, sizeof(f->origin), 1) &&
		    f->origin[0] == '\0');
	if ((f->parser == SCAN_PARSER_OPENCODE_CONFIG &&
	    (f->flags & ~SCAN_F_MCP) != 0) ||
	    (f->parser == SCAN_PARSER_PI_MCP &&
	    (f->flags & ~SCAN_F_IMPORTS) != 0) ||
	    (f->parser != SCAN_PARSER_OPENCODE_CONFIG &&
	    f->parser != SCAN_PARSER_PI_MCP && f->flags != 0))
		return (0);
	return (f->kind == 0 && f->version[0] == '\0' &&
	    fixed_string_ok(f->name, sizeof(f->name), 1) &&
	    f->name[0] == '\0' &&
	    fixed_string_ok(f->origin, sizeof(f->origin), 1) &&
	    f->origin[0] == '\0');
}

static int
parser_is_agents(uint32_t p)
{
	return (p >= SCAN_PARSER_BREW_RECEIPT && p <= SCAN_PARSER_AGENT_HASH);
}

/*
 * A request either end may check: the parent before sending, the child
 * on receipt.  For HASH_ONLY the template's kind and origin must be one
 * of the file-backed claudeConfig items (SURFACES.md 2.4).
 */
static int
all_zero(const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return (0);
	return (1);
}

int
scan_file_valid(const struct scan_file *f)
{
	if (parser_is_agents(f->parser))
		return (agents_file_valid(f));
	if (f->parser >= SCAN_PARSER_COUNT ||
	    (int)f->surface != scan_parser_surface(f->parser))
		return (0);
	if ((f->flags & ~(SCAN_F_ALL | SCAN_F_CONSTRAINT |
	    SCAN_F_CONTENT)) != 0)
		return (0);
	/* A content hash for package files, a known one only with it. */
	if ((f->flags & SCAN_F_CONTENT) && !scan_pkg_parser(f->parser))
		return (0);
	if (f->known_set > 1 || (f->known_set &&
	    !(f->flags & SCAN_F_CONTENT)))
		return (0);
	if (!f->known_set && !all_zero(f->known, sizeof(f->known)))
		return (0);
	/* Only a requirements file's lines can be constraints. */
	if ((f->flags & SCAN_F_CONSTRAINT) &&
	    f->parser != SCAN_PARSER_REQUIREMENTS)
		return (0);
	if (!fixed_string_ok(f->path, sizeof(f->path), 0) ||
	    f->path[0] != '/')
		return (0);
	if (f->parser == SCAN_PARSER_HASH_ONLY) {
		if (!fixed_string_ok(f->name, sizeof(f->name), 0) ||
		    !fixed_string_ok(f->origin, sizeof(f->origin), 1))
			return (0);
		switch (f->kind) {
		case KIND_AGENT:
		case KIND_COMMAND:
		case KIND_SKILL:
			return (strcmp(f->origin, "claude-customization") == 0);
		case KIND_INSTRUCTION:
			return (strcmp(f->origin, "claude-instruction") == 0);
		default:
			return (0);
		}
	}
	return (f->kind == 0 && fixed_string_ok(f->name, sizeof(f->name), 1) &&
	    f->name[0] == '\0' &&
	    fixed_string_ok(f->origin, sizeof(f->origin), 1) &&
	    f->origin[0] == '\0');
}

/* ---- Parent side ---- */

/* Strings of a result's items: blocks, never reallocated. */
struct arena_block {
	struct arena_block	*next;
	size_t			 used;
	size_t			 size;
	char			 data[];
};

#define ARENA_BLOCK		(64 * 1024)

struct scan_pending {
	struct scan_result	*res;		/* being filled */
	uint64_t		 size;		/* the file's, at the send */
	uint64_t		 budget;	/* what may still come for it */
	struct arena_block	*arena;
	size_t			 itemcap;
	size_t			 issuecap;
	uint32_t		 kind;		/* HASH_ONLY template */
	char			 name[SCAN_TMPL_NAME_MAX];
	char			 origin[SCAN_TMPL_ORIGIN_MAX];
	uint32_t		 flags;
	uint32_t		 known_set;
	char			 version[SCAN_TMPL_VERSION_MAX];
};

struct scanproto {
	struct scan_pending	 q[SCAN_MAX_INFLIGHT];
	size_t			 head;
	size_t			 n;
	char			 refused[SCAN_REFUSAL_MAX];
	char			 refused_path[PATH_MAX];
	uint32_t		 refused_id;
};

/* A finished result keeps its arena behind the items. */
struct scan_result_priv {
	struct scan_result	 pub;
	struct arena_block	*arena;
};

static void
arena_free(struct arena_block *b)
{
	struct arena_block	*next;

	for (; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
}

/* A NUL-terminated copy of len bytes. */
static char *
arena_strndup(struct arena_block **ap, const void *p, size_t len)
{
	struct arena_block	*b = *ap;
	size_t			 size;
	char			*s;

	if (b == NULL || b->size - b->used < len + 1) {
		size = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return (NULL);
		b->next = *ap;
		b->used = 0;
		b->size = size;
		*ap = b;
	}
	s = b->data + b->used;
	memcpy(s, p, len);
	s[len] = '\0';
	b->used += len + 1;
	return (s);
}

struct scanproto *
scanproto_new(void)
{
	return (calloc(1, sizeof(struct scanproto)));
}

static void
pending_clear(struct scan_pending *p)
{
	scan_result_free(p->res);
	p->res = NULL;
	arena_free(p->arena);
	p->arena = NULL;
	p->itemcap = p->issuecap = 0;
}

void
scanproto_reset(struct scanproto *sp)
{
	sp->refused[0] = '\0';
	sp->refused_path[0] = '\0';
	while (sp->n > 0) {
		pending_clear(&sp->q[sp->head]);
		sp->head = (sp->head + 1) % SCAN_MAX_INFLIGHT;
		sp->n--;
	}
	sp->head = 0;
}

void
scanproto_free(struct scanproto *sp)
{
	if (sp == NULL)
		return;
	scanproto_reset(sp);
	free(sp);
}

size_t
scanproto_pending(const struct scanproto *sp)
{
	return (sp->n);
}

int
scanproto_send_file(struct scanproto *sp, struct imsgbuf *ibuf,
    const struct scan_file *f, int fd)
{
	struct scan_file	 msg;
	struct scan_pending	*p;
	struct scan_result	*res;
	struct scan_result_priv	*rp;
	struct stat		 sb;
	uint64_t		 size = 0;
	size_t			 i;

	if (!scan_file_valid(f) || fd < 0) {
		if (fd >= 0)
			close(fd);
		errno = EINVAL;
		return (-1);
	}
	if (sp->n >= SCAN_MAX_INFLIGHT) {
		close(fd);
		errno = EBUSY;
		return (-1);
	}
	for (i = 0; i < sp->n; i++)
		if (sp->q[(sp->head + i) % SCAN_MAX_INFLIGHT].res->file_id ==
		    f->file_id) {
			close(fd);
			errno = EEXIST;
			return (-1);
		}
	if ((rp = calloc(1, sizeof(*rp))) == NULL) {
		close(fd);
		return (-1);
	}
	res = &rp->pub;
	res->scan_id = f->scan_id;
	res->file_id = f->file_id;
	res->surface = f->surface;
	res->parser = f->parser;
	res->status = SCAN_OK;
	if ((res->path = strdup(f->path)) == NULL) {
		free(rp);
		close(fd);
		return (-1);
	}
	if (fstat(fd, &sb) == 0 && sb.st_size > 0)
		size = (uint64_t)sb.st_size;
	/* The size the budget follows from, for the child to hold to. */
	msg = *f;
	msg.size = size;
	/* imsg_compose consumes fd, also when it fails. */
	if (imsg_compose(ibuf, IMSG_SCAN_FILE, 0, 0, fd, &msg,
	    sizeof(msg)) == -1) {
		scan_result_free(res);
		return (-1);
	}
	p = &sp->q[(sp->head + sp->n) % SCAN_MAX_INFLIGHT];
	memset(p, 0, sizeof(*p));
	p->res = res;
	p->size = size;
	p->budget = scan_accept_budget(size);
	p->kind = f->kind;
	p->flags = f->flags;
	p->known_set = f->known_set;
	memcpy(p->name, f->name, sizeof(p->name));
	memcpy(p->origin, f->origin, sizeof(p->origin));
	memcpy(p->version, f->version, sizeof(p->version));
	sp->n++;
	return (0);
}

void
scan_result_free(struct scan_result *res)
{
	struct scan_result_priv	*rp = (struct scan_result_priv *)res;
	size_t			 i;

	if (res == NULL)
		return;
	free(res->items);
	for (i = 0; i < res->nissues; i++)
		free(res->issues[i].reason);
	free(res->issues);
	for (i = 0; i < res->nincludes; i++)
		free(res->includes[i].target);
	free(res->includes);
	free(res->path);
	arena_free(rp->arena);
	free(rp);
}

/* Read a length-prefixed string: within cap, no NUL, valid UTF-8. */
static int
get_str(const unsigned char **pp, const unsigned char *end, size_t cap,
    const unsigned char **s, size_t *slen)
{
	uint32_t	len;

	if ((size_t)(end - *pp) < sizeof(len))
		return (-1);
	memcpy(&len, *pp, sizeof(len));
	*pp += sizeof(len);
	if (len > cap || (size_t)(end - *pp) < len)
		return (-1);
	if (memchr(*pp, '\0', len) != NULL || !utf8_valid(*pp, len))
		return (-1);
	*s = *pp;
	*slen = len;
	*pp += len;
	return (0);
}

static int
sv_eq(const unsigned char *s, size_t len, const char *lit)
{
	return (len == strlen(lit) && memcmp(s, lit, len) == 0);
}

/*
 * What each parser can produce (SURFACES.md 2, 7): a child that claims
 * anything else is lying and its channel is broken.
 */
/* The items of SURFACES.md 1, 3-6: what each parser may answer. */
static int
agents_item_ok(const struct scan_pending *p, uint8_t kind, uint8_t ior,
    uint8_t nils, const unsigned char *name, size_t namelen,
    const unsigned char *origin, size_t originlen,
    const unsigned char *detail, size_t detaillen)
{
	int		 has_detail = !(nils & SCAN_NIL_DETAIL);
	int		 hash_ok = !has_detail || hexhash_ok((const char *)detail,
			    detaillen);
	const char	*base = strrchr(p->res->path, '/') + 1;

	if (p->res->parser == SCAN_PARSER_BREW_RECEIPT)
		/* Name and versions are the parent's, from the listing. */
		return (kind == KIND_PACKAGE && p->res->nitems == 0 &&
		    !has_detail && sv_eq(name, namelen, p->name) &&
		    !(nils & SCAN_NIL_VERSION));
	/* Every other agent item has no version and no flag. */
	if (ior != SCAN_IOR_NIL || !(nils & SCAN_NIL_VERSION))
		return (0);
	/* An MCP server's detail is its normalised command or URL. */
	if (kind == KIND_MCP_SERVER)
		return (p->res->parser == SCAN_PARSER_CODEX_CONFIG ||
		    p->res->parser == SCAN_PARSER_CURSOR_MCP ||
		    p->res->parser == SCAN_PARSER_PI_MCP ||
		    (p->res->parser == SCAN_PARSER_OPENCODE_CONFIG &&
		    (p->flags & SCAN_F_MCP) != 0));
	if (!hash_ok)
		return (0);
	switch (p->res->parser) {
	case SCAN_PARSER_CODEX_CONFIG:
		switch (kind) {
		case KIND_CONFIG_PROFILE:
			return (sv_eq(name, namelen, base) &&
			    sv_eq(origin, originlen, "codex-config"));
		case KIND_MCP_SERVER:
			return (1);
		case KIND_HOOK:
			return (sv_eq(origin, originlen, "codex-hooks"));
		default:
			return (0);
		}
	case SCAN_PARSER_CODEX_HOOKS:
		return (kind == KIND_HOOK &&
		    sv_eq(origin, originlen, "codex-hooks"));
	case SCAN_PARSER_CURSOR_MCP:
		return (kind == KIND_MCP_SERVER);
	case SCAN_PARSER_OPENCODE_CONFIG:
		switch (kind) {
		case KIND_CONFIG_PROFILE:
			return (sv_eq(name, namelen, base) &&
			    sv_eq(origin, originlen, "opencode-config"));
		case KIND_MCP_SERVER:
			return ((p->flags & SCAN_F_MCP) != 0);
		case KIND_PLUGIN:
			return (sv_eq(origin, originlen, "opencode-plugin"));
		default:
			return (0);
		}
	case SCAN_PARSER_PI_MCP:
		if (kind == KIND_MCP_SERVER)
			return (1);
		return (kind == KIND_IMPORT && (p->flags & SCAN_F_IMPORTS) &&
		    !has_detail && sv_eq(origin, originlen, "pi-import"));
	case SCAN_PARSER_PI_SETTINGS:
		return (kind == KIND_SETTINGS &&
		    sv_eq(origin, originlen, "pi-settings"));
	case SCAN_PARSER_AGENT_HASH:
		return (kind == p->kind && p->res->nitems == 0 &&
		    sv_eq(name, namelen, p->name) &&
		    sv_eq(origin, originlen, p->origin));
	default:
		return (0);
	}
}

static int
item_shape_ok(const struct scan_pending *p, uint8_t kind, uint8_t ior,
    uint8_t nils, const unsigned char *name, size_t namelen,
    const unsigned char *origin, size_t originlen,
    const unsigned char *detail, size_t detaillen)
{
	const struct scan_format *f;
	int			 has_detail = !(nils & SCAN_NIL_DETAIL);

	switch (p->res->parser) {
	case SCAN_PARSER_CLAUDE_MCP:
		/* origin: the URL or command, any text. */
		return (kind == KIND_MCP_SERVER && ior == SCAN_IOR_NIL &&
		    (nils & SCAN_NIL_VERSION));
	case SCAN_PARSER_CLAUDE_SETTINGS:
		if (ior != SCAN_IOR_NIL || !(nils & SCAN_NIL_VERSION) ||
		    (has_detail && !hexhash_ok((const char *)detail,
		    detaillen)))
			return (0);
		switch (kind) {
		case KIND_SETTINGS:
			return (sv_eq(origin, originlen, ORIGIN_SETTINGS));
		case KIND_HOOK:
			return ((p->flags & SCAN_F_HOOKS) &&
			    sv_eq(name, namelen, "hooks") &&
			    sv_eq(origin, originlen, ORIGIN_HOOK));
		case KIND_PLUGIN:
			return ((p->flags & SCAN_F_PLUGINS) &&
			    sv_eq(origin, originlen, ORIGIN_PLUGIN));
		default:
			return (0);
		}
	case SCAN_PARSER_CLAUDE_PLUGIN_FILE:
		return (kind == KIND_PLUGIN && ior == SCAN_IOR_NIL &&
		    (nils & SCAN_NIL_VERSION) &&
		    sv_eq(origin, originlen, ORIGIN_PLUGIN) &&
		    (!has_detail || hexhash_ok((const char *)detail,
		    detaillen)));
	case SCAN_PARSER_HASH_ONLY:
		return (kind == p->kind && ior == SCAN_IOR_NIL &&
		    (nils & SCAN_NIL_VERSION) && p->res->nitems == 0 &&
		    sv_eq(name, namelen, p->name) &&
		    sv_eq(origin, originlen, p->origin) &&
		    (!has_detail || hexhash_ok((const char *)detail,
		    detaillen)));
	case SCAN_PARSER_BREW_RECEIPT:
	case SCAN_PARSER_CODEX_CONFIG:
	case SCAN_PARSER_CODEX_HOOKS:
	case SCAN_PARSER_CURSOR_MCP:
	case SCAN_PARSER_OPENCODE_CONFIG:
	case SCAN_PARSER_PI_MCP:
	case SCAN_PARSER_PI_SETTINGS:
	case SCAN_PARSER_AGENT_HASH:
		return (agents_item_ok(p, kind, ior, nils, name, namelen,
		    origin, originlen, detail, detaillen));
	default:
		/* A package format: the shape its row gives. */
		if ((f = scan_format_by_parser(p->res->parser)) != NULL)
			return (kind == ((f->kind ==
			    KIND_PYTHON_DECLARED_REQUIREMENT &&
			    (p->flags & SCAN_F_CONSTRAINT)) ?
			    KIND_PYTHON_CONSTRAINT : f->kind) &&
			    ior == SCAN_IOR_NIL &&
			    (f->version != VERSION_SET ||
			    !(nils & SCAN_NIL_VERSION)) &&
			    (f->version != VERSION_NIL ||
			    (nils & SCAN_NIL_VERSION)) &&
			    (f->detail || !has_detail) &&
			    sv_eq(origin, originlen, f->origin));
		break;
	}
	return (0);
}

static int
parser_one_item(enum scan_parser p)
{
	return (p == SCAN_PARSER_HASH_ONLY || p == SCAN_PARSER_AGENT_HASH ||
	    p == SCAN_PARSER_BREW_RECEIPT);
}

static int
recv_items(struct scan_pending *p, const unsigned char *data, size_t len)
{
	struct scan_result	*res = p->res;
	struct scan_items_hdr	 hdr;
	const unsigned char	*cur, *end = data + len;
	const unsigned char	*name, *version = NULL, *origin, *detail = NULL;
	size_t			 namelen, versionlen = 0, originlen;
	size_t			 detaillen = 0, ncap;
	uint64_t		 cost;
	struct item		*it, *nitems;
	uint8_t			 surface, kind, ior, nils;
	uint32_t		 i;

	if (len < sizeof(hdr))
		return (-1);
	memcpy(&hdr, data, sizeof(hdr));
	if (hdr.scan_id != res->scan_id || hdr.file_id != res->file_id ||
	    hdr.count == 0 || hdr.count > SCAN_FILE_ITEMS_MAX - res->nitems)
		return (-1);
	/* A hashed file, an agent file and a receipt are one item each. */
	if (parser_one_item(res->parser) && res->nitems + hdr.count > 1)
		return (-1);
	/* Every item takes at least its header and two lengths. */
	if (hdr.count > (len - sizeof(hdr)) / (SCAN_ITEM_HDR + 8))
		return (-1);
	if (res->nitems + hdr.count > p->itemcap) {
		ncap = p->itemcap == 0 ? 64 : p->itemcap;
		while (ncap < res->nitems + hdr.count)
			ncap *= 2;
		if ((nitems = reallocarray(res->items, ncap,
		    sizeof(*nitems))) == NULL)
			return (-1);
		res->items = nitems;
		p->itemcap = ncap;
	}

	cur = data + sizeof(hdr);
	for (i = 0; i < hdr.count; i++) {
		if ((size_t)(end - cur) < SCAN_ITEM_HDR)
			return (-1);
		surface = cur[0];
		kind = cur[1];
		ior = cur[2];
		nils = cur[3];
		cur += SCAN_ITEM_HDR;
		if (surface != res->surface || kind >= KIND_COUNT ||
		    ior > SCAN_IOR_NIL ||
		    (nils & ~(SCAN_NIL_VERSION | SCAN_NIL_DETAIL)) != 0)
			return (-1);
		if (get_str(&cur, end, SCAN_NAME_MAX, &name, &namelen) == -1)
			return (-1);
		if (!(nils & SCAN_NIL_VERSION) && get_str(&cur, end,
		    SCAN_VERSION_MAX, &version, &versionlen) == -1)
			return (-1);
		if (get_str(&cur, end, SCAN_ORIGIN_MAX, &origin,
		    &originlen) == -1)
			return (-1);
		if (!(nils & SCAN_NIL_DETAIL) && get_str(&cur, end,
		    SCAN_DETAIL_MAX, &detail, &detaillen) == -1)
			return (-1);
		if (!item_shape_ok(p, kind, ior, nils, name, namelen,
		    origin, originlen, detail, detaillen))
			return (-1);
		cost = SCAN_ACCEPT_ITEM + namelen + originlen +
		    (nils & SCAN_NIL_VERSION ? 0 : versionlen) +
		    (nils & SCAN_NIL_DETAIL ? 0 : detaillen);
		if (cost > p->budget) {
			errno = EFBIG;
			return (-1);
		}
		p->budget -= cost;
		/* A receipt's versions are the parent's, from the listing. */
		if (res->parser == SCAN_PARSER_BREW_RECEIPT &&
		    !sv_eq(version, versionlen, p->version))
			return (-1);

		it = &res->items[res->nitems];
		memset(it, 0, sizeof(*it));
		it->surface = surface;
		it->kind = kind;
		it->installed_on_request = ior == SCAN_IOR_NIL ?
		    ITEM_BOOL_NIL : ior;
		it->path = res->path;
		if ((it->name = arena_strndup(&p->arena, name,
		    namelen)) == NULL ||
		    (it->origin = arena_strndup(&p->arena, origin,
		    originlen)) == NULL)
			return (-1);
		if (!(nils & SCAN_NIL_VERSION) && (it->version =
		    arena_strndup(&p->arena, version, versionlen)) == NULL)
			return (-1);
		if (!(nils & SCAN_NIL_DETAIL) && (it->detail =
		    arena_strndup(&p->arena, detail, detaillen)) == NULL)
			return (-1);
		res->nitems++;
	}
	/* The payload ends exactly after the last item. */
	return (cur == end ? 0 : -1);
}

static int
recv_issue(struct scan_pending *p, const void *data, size_t len)
{
	struct scan_result	*res = p->res;
	struct scan_issue_msg	 m;
	struct scan_issue	*ni;
	size_t			 ncap;

	if (len != sizeof(m))
		return (-1);
	memcpy(&m, data, sizeof(m));
	if (m.scan_id != res->scan_id || m.file_id != res->file_id ||
	    m.code >= SCAN_ISSUE_COUNT ||
	    !fixed_string_ok(m.reason, sizeof(m.reason), 0) ||
	    res->nissues >= SCAN_FILE_ISSUES_MAX)
		return (-1);
	if (res->nissues == p->issuecap) {
		ncap = p->issuecap == 0 ? 4 : p->issuecap * 2;
		if ((ni = recallocarray(res->issues, p->issuecap, ncap,
		    sizeof(*ni))) == NULL)
			return (-1);
		res->issues = ni;
		p->issuecap = ncap;
	}
	ni = &res->issues[res->nissues];
	if ((ni->reason = strdup(m.reason)) == NULL)
		return (-1);
	ni->code = m.code;
	ni->path = res->path;
	res->nissues++;
	return (0);
}

/* Only a requirements file names includes (SURFACES.md 8). */
static int
recv_include(struct scan_pending *p, const void *data, size_t len)
{
	struct scan_result	*res = p->res;
	struct scan_include_msg	 m;
	struct scan_include	*ni;

	if (len != sizeof(m))
		return (-1);
	memcpy(&m, data, sizeof(m));
	if (m.scan_id != res->scan_id || m.file_id != res->file_id ||
	    res->parser != SCAN_PARSER_REQUIREMENTS || m.constraint > 1 ||
	    !fixed_string_ok(m.target, sizeof(m.target), 0) ||
	    res->nincludes >= SCAN_FILE_INCLUDES_MAX)
		return (-1);
	if ((ni = reallocarray(res->includes, res->nincludes + 1,
	    sizeof(*ni))) == NULL)
		return (-1);
	res->includes = ni;
	ni = &res->includes[res->nincludes];
	if ((ni->target = strdup(m.target)) == NULL)
		return (-1);
	ni->constraint = m.constraint;
	res->nincludes++;
	return (0);
}

static int
recv_done(struct scanproto *sp, struct scan_pending *p, const void *data,
    size_t len, struct scan_result **resp)
{
	struct scan_result	*res = p->res;
	struct scan_result_priv	*rp = (struct scan_result_priv *)res;
	struct scan_file_done	 d;

	if (len != sizeof(d))
		return (-1);
	memcpy(&d, data, sizeof(d));
	if (d.scan_id != res->scan_id || d.file_id != res->file_id ||
	    (d.status != SCAN_OK && d.status != SCAN_FAILED &&
	    d.status != SCAN_UNCHANGED) ||
	    d.nitems != res->nitems || d.nissues != res->nissues)
		return (-1);
	/* Unchanged: only for a known hash asked about, and nothing else. */
	if (d.status == SCAN_UNCHANGED && (!(p->flags & SCAN_F_CONTENT) ||
	    !p->known_set || d.nitems != 0 || d.nissues != 0 ||
	    res->nincludes != 0))
		return (-1);
	/* A hash only where one was asked for, and then for a good read. */
	if (d.hashed > 1 || (d.hashed && (!(p->flags & SCAN_F_CONTENT) ||
	    d.status != SCAN_OK)) ||
	    (!d.hashed && !all_zero(d.hash, sizeof(d.hash))))
		return (-1);
	if (d.hashed) {
		res->hashed = 1;
		memcpy(res->hash, d.hash, sizeof(res->hash));
	}
	/*
	 * A failure always says why; a file of a one-item parser that was
	 * read is that item, never none (a child could drop it silently).
	 */
	if (d.status == SCAN_FAILED && d.nissues == 0)
		return (-1);
	if (d.status == SCAN_OK && parser_one_item(res->parser) &&
	    d.nitems != 1)
		return (-1);

	res->status = d.status;
	if (d.status == SCAN_FAILED) {
		/* The file contributes nothing (SURFACES.md 0.3). */
		free(res->items);
		res->items = NULL;
		res->nitems = 0;
		for (size_t i = 0; i < res->nincludes; i++)
			free(res->includes[i].target);
		free(res->includes);
		res->includes = NULL;
		res->nincludes = 0;
		arena_free(p->arena);
		p->arena = NULL;
	}
	rp->arena = p->arena;
	p->arena = NULL;
	p->res = NULL;
	*resp = res;
	sp->head = (sp->head + 1) % SCAN_MAX_INFLIGHT;
	sp->n--;
	return (1);
}

uint64_t
scan_accept_budget(uint64_t size)
{
	if (size > (SCAN_ACCEPT_MAX - SCAN_ACCEPT_SLACK) / SCAN_ACCEPT_FACTOR)
		return (SCAN_ACCEPT_MAX);
	return (size * SCAN_ACCEPT_FACTOR + SCAN_ACCEPT_SLACK);
}

const char *
scanproto_refusal(const struct scanproto *sp, const char **path,
    uint32_t *file_id)
{
	if (sp->refused[0] == '\0')
		return (NULL);
	*path = sp->refused_path;
	*file_id = sp->refused_id;
	return (sp->refused);
}

int
scanproto_recv(struct scanproto *sp, uint32_t type, const void *data,
    size_t len, struct scan_result **resp)
{
	struct scan_pending	*p;
	int			 rc;

	*resp = NULL;
	/* Nothing may come for a file the parent did not send. */
	if (sp->n == 0)
		return (-1);
	p = &sp->q[sp->head];
	errno = 0;
	switch (type) {
	case IMSG_SCAN_ITEMS:
		rc = recv_items(p, data, len);
		break;
	case IMSG_SCAN_ISSUE:
		rc = recv_issue(p, data, len);
		break;
	case IMSG_SCAN_FILE_DONE:
		rc = recv_done(sp, p, data, len, resp);
		break;
	case IMSG_SCAN_INCLUDE:
		rc = recv_include(p, data, len);
		break;
	default:
		rc = -1;
		break;
	}
	if (rc != -1)
		return (rc);
	/*
	 * Name the file whose answer broke the channel (an answer that
	 * drops a one-item file's item included).
	 */
	strlcpy(sp->refused_path, p->res->path, sizeof(sp->refused_path));
	sp->refused_id = p->res->file_id;
	if (errno == EFBIG)
		snprintf(sp->refused, sizeof(sp->refused), "the scan child "
		    "sent more items for this file than its %llu bytes allow "
		    "(%llu bytes of items at most)", (unsigned long long)
		    p->size, (unsigned long long)scan_accept_budget(p->size));
	else
		snprintf(sp->refused, sizeof(sp->refused), "the scan child's "
		    "answer for this file broke the protocol");
	return (-1);
}

int
scanproto_dispatch(struct scanproto *sp, struct imsg *imsg,
    struct scan_result **resp)
{
	struct ibuf	 buf;
	size_t		 len = imsg_get_len(imsg);
	void		*data = NULL;

	*resp = NULL;
	if (len > 0) {
		if (imsg_get_ibuf(imsg, &buf) == -1)
			return (-1);
		data = ibuf_data(&buf);
	}
	return (scanproto_recv(sp, imsg_get_type(imsg), data, len, resp));
}

/* ---- Scan side ---- */

#define SCAN_BATCH_MAX	(SCAN_IMSG_MAXSIZE - IMSG_HEADER_SIZE)

int
scan_out_begin(struct scan_out *o, struct imsgbuf *ibuf,
    const struct scan_file *f)
{
	memset(o, 0, sizeof(*o));
	o->ibuf = ibuf;
	o->scan_id = f->scan_id;
	o->file_id = f->file_id;
	o->surface = f->surface;
	/* Most files have a few items: the batch grows when needed. */
	o->cap = 4096;
	if ((o->buf = malloc(o->cap)) == NULL)
		return (-1);
	o->len = sizeof(struct scan_items_hdr);
	return (0);
}

void
scan_out_free(struct scan_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

static int
scan_out_flush(struct scan_out *o)
{
	struct scan_items_hdr	hdr;

	if (o->count == 0)
		return (0);
	hdr.scan_id = o->scan_id;
	hdr.file_id = o->file_id;
	hdr.count = o->count;
	memcpy(o->buf, &hdr, sizeof(hdr));
	if (imsg_compose(o->ibuf, IMSG_SCAN_ITEMS, 0, 0, -1, o->buf,
	    o->len) == -1)
		return (-1);
	o->nitems += o->count;
	o->count = 0;
	o->len = sizeof(hdr);
	/* Do not let a large file pile up in memory: write it out. */
	if (imsgbuf_queuelen(o->ibuf) >= SCAN_OUT_QUEUE &&
	    imsgbuf_flush(o->ibuf) == -1)
		return (-1);
	return (0);
}

int
scan_out_include(struct scan_out *o, int constraint, const char *target,
    size_t len)
{
	struct scan_include_msg	m;

	if (len == 0 || len >= sizeof(m.target) ||
	    o->nincludes >= SCAN_FILE_INCLUDES_MAX) {
		errno = ERANGE;
		return (-1);
	}
	if (memchr(target, '\0', len) != NULL || !utf8_valid(target, len)) {
		errno = EILSEQ;
		return (-1);
	}
	/* The items before it go first: a reader sees the file's order. */
	if (scan_out_flush(o) == -1)
		return (-1);
	memset(&m, 0, sizeof(m));
	m.scan_id = o->scan_id;
	m.file_id = o->file_id;
	m.constraint = constraint != 0;
	memcpy(m.target, target, len);
	if (imsg_compose(o->ibuf, IMSG_SCAN_INCLUDE, 0, 0, -1, &m,
	    sizeof(m)) == -1)
		return (-1);
	o->nincludes++;
	return (0);
}

static int
sv_ok(const struct sv *s, size_t cap)
{
	if (s->len > cap) {
		errno = ERANGE;
		return (0);
	}
	if (memchr(s->p, '\0', s->len) != NULL || !utf8_valid(s->p, s->len)) {
		errno = EILSEQ;
		return (0);
	}
	return (1);
}

static void
put_str(struct scan_out *o, const struct sv *s)
{
	uint32_t	len = (uint32_t)s->len;

	memcpy(o->buf + o->len, &len, sizeof(len));
	o->len += sizeof(len);
	if (s->len > 0)
		memcpy(o->buf + o->len, s->p, s->len);
	o->len += s->len;
}

int
scan_out_item(struct scan_out *o, const struct scan_item *it)
{
	size_t	need;
	uint8_t	nils = 0;

	if ((unsigned int)it->kind >= KIND_COUNT || it->name.p == NULL ||
	    it->origin.p == NULL || (it->ior != 0 && it->ior != 1 &&
	    it->ior != ITEM_BOOL_NIL)) {
		errno = EINVAL;
		return (-1);
	}
	if (!sv_ok(&it->name, SCAN_NAME_MAX) ||
	    !sv_ok(&it->origin, SCAN_ORIGIN_MAX) ||
	    (it->version.p != NULL && !sv_ok(&it->version,
	    SCAN_VERSION_MAX)) ||
	    (it->detail.p != NULL && !sv_ok(&it->detail, SCAN_DETAIL_MAX)))
		return (-1);
	if (o->nitems + o->count >= SCAN_FILE_ITEMS_MAX) {
		errno = ERANGE;
		return (-1);
	}
	need = SCAN_ITEM_HDR + 4 + it->name.len + 4 + it->origin.len;
	if (it->version.p != NULL)
		need += 4 + it->version.len;
	else
		nils |= SCAN_NIL_VERSION;
	if (it->detail.p != NULL)
		need += 4 + it->detail.len;
	else
		nils |= SCAN_NIL_DETAIL;
	/* The caps keep one item well below a batch. */
	if (o->len + need > SCAN_BATCH_MAX && scan_out_flush(o) == -1)
		return (-1);
	if (o->len + need > o->cap) {
		size_t		 ncap = o->cap;
		unsigned char	*nb;

		while (ncap < o->len + need)
			ncap *= 2;
		if (ncap > SCAN_BATCH_MAX)
			ncap = SCAN_BATCH_MAX;
		if ((nb = realloc(o->buf, ncap)) == NULL)
			return (-1);
		o->buf = nb;
		o->cap = ncap;
	}

	o->buf[o->len++] = (uint8_t)o->surface;
	o->buf[o->len++] = (uint8_t)it->kind;
	o->buf[o->len++] = it->ior == ITEM_BOOL_NIL ? SCAN_IOR_NIL :
	    (uint8_t)it->ior;
	o->buf[o->len++] = nils;
	put_str(o, &it->name);
	if (it->version.p != NULL)
		put_str(o, &it->version);
	put_str(o, &it->origin);
	if (it->detail.p != NULL)
		put_str(o, &it->detail);
	o->count++;
	return (0);
}

int
scan_out_issue(struct scan_out *o, enum scan_issue_code code,
    const char *reason)
{
	struct scan_issue_msg	 m;
	size_t			 len, n, rlen = strlen(reason);
	const unsigned char	*r = (const unsigned char *)reason;

	if (o->nissues >= SCAN_FILE_ISSUES_MAX)
		return (0);	/* enough said about this file */
	memset(&m, 0, sizeof(m));
	m.scan_id = o->scan_id;
	m.file_id = o->file_id;
	m.code = code;
	/* Copy whole UTF-8 sequences only, within the field. */
	len = 0;
	while (len < rlen) {
		if ((n = utf8_seqlen(r + len, rlen - len)) == 0 ||
		    len + n >= sizeof(m.reason))
			break;
		len += n;
	}
	if (len == 0)
		strlcpy(m.reason, scan_issue_code_name(code),
		    sizeof(m.reason));
	else
		memcpy(m.reason, reason, len);
	if (imsg_compose(o->ibuf, IMSG_SCAN_ISSUE, 0, 0, -1, &m,
	    sizeof(m)) == -1)
		return (-1);
	o->nissues++;
	return (0);
}

int
scan_out_done(struct scan_out *o, int status)
{
	struct scan_file_done	d;
	int			ret = 0;

	if (status == SCAN_OK && scan_out_flush(o) == -1)
		ret = -1;
	memset(&d, 0, sizeof(d));
	d.scan_id = o->scan_id;
	d.file_id = o->file_id;
	d.status = ret == 0 ? status : SCAN_FAILED;
	/* A failed file's pending batch is not worth sending. */
	d.nitems = o->nitems;
	d.nissues = o->nissues;
	if (d.status == SCAN_OK && o->hashed) {
		d.hashed = 1;
		memcpy(d.hash, o->hash, sizeof(d.hash));
	}
	if (d.status == SCAN_FAILED && d.nissues == 0) {
		if (scan_out_issue(o, SCAN_ISSUE_UNREADABLE,
		    "scan failed") == -1)
			ret = -1;
		d.nissues = o->nissues;
	}
	if (imsg_compose(o->ibuf, IMSG_SCAN_FILE_DONE, 0, 0, -1, &d,
	    sizeof(d)) == -1)
		ret = -1;
	scan_out_free(o);
	return (ret);
}
