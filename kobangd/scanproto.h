/*
 * The scan protocol: how the parent hands an open file to the scan child
 * and how the child answers with items and issues.  Both ends use this
 * header; the wire layouts are in privsep/PROTOCOL.md.
 *
 * Parent -> scan, one per file:
 *	IMSG_SCAN_FILE, descriptor attached, payload struct scan_file: the
 *	scan and file ids, the surface, the parser, its flags, for
 *	SCAN_PARSER_HASH_ONLY the item template the parent knows from the
 *	directory listing (kind, name, origin), and the file's label (its
 *	absolute path).  The parent never reads contents; the child never
 *	sees a path it could open (it has no file system).
 *
 * Scan -> parent, for the file at the head of the queue only:
 *	IMSG_SCAN_ITEMS      zero or more batches of items
 *	IMSG_SCAN_ISSUE      zero or more issues (code and reason text)
 *	IMSG_SCAN_FILE_DONE  exactly one: status, item and issue counts
 *
 * The child works on files strictly in the order it received them, so
 * every answer concerns the oldest file the parent has outstanding; an
 * answer for any other file, a count that disagrees with FILE_DONE, or any
 * malformed field breaks the channel.
 *
 * An item's path is never on the wire: it is the label of the file, by
 * construction, so a child cannot name a path the parent did not open.
 * A file whose FILE_DONE status is SCAN_FAILED contributes no items (the
 * items already received for it are dropped; SURFACES.md 0.3: a parse or
 * type error loses the whole file), only its issues.  SCAN_OK with issues
 * is possible: a hash failure keeps the item with a nil detail.
 *
 * Order: items of a file arrive in the parser's order.  The claudeConfig
 * parsers emit them as SURFACES.md 2 says (MCP servers by name, first
 * candidate wins; settings keys sorted).  The npm parser emits lockfile
 * order, neither sorted nor deduplicated: sorting a surface's items by
 * id and keeping the first of equal ids (SURFACES.md 0.8) is the
 * parent's, over all files of the surface, with a stable sort.
 */
#ifndef KOBANGD_SCANPROTO_H
#define KOBANGD_SCANPROTO_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "imsg.h"
#include "item.h"

/*
 * The scan channel's maximum message (payload plus header); both ends
 * set it with scanproto_channel_init().  Large enough for one item at
 * its field caps and for batches that keep the per-message overhead low.
 */
#define SCAN_IMSG_MAXSIZE	(256U * 1024)

/* Files the parent may have outstanding (sent, FILE_DONE not seen). */
#define SCAN_MAX_INFLIGHT	16

/*
 * What the parent accepts for one handed file is bounded by its size
 * (fstat at the send): every item costs SCAN_ACCEPT_ITEM plus its
 * strings, and a file may cost at most SCAN_ACCEPT_FACTOR times its
 * size plus SCAN_ACCEPT_SLACK (one item at its field caps, for the
 * templated and hashed files whose item is not made of their bytes),
 * never more than SCAN_ACCEPT_MAX.  An honest parser stays far below:
 * its items are made of the file's bytes (test_scanproto
 * honest_files_within_bound measures every fixture and the real-world
 * corpus).  Over it, the channel breaks: the child is killed.
 */
#define SCAN_ACCEPT_ITEM	32
#define SCAN_ACCEPT_FACTOR	16
#define SCAN_ACCEPT_SLACK	(256U * 1024)
#define SCAN_ACCEPT_MAX		(1024ULL * 1024 * 1024)
#define SCAN_REFUSAL_MAX	256

/* Size caps (SURFACES.md 0.2): a file strictly larger is not read. */
#define SCAN_CAP_AGENT		5000000		/* agent config files */
#define SCAN_CAP_BREW_RECEIPT	1000000		/* INSTALL_RECEIPT.json */
#define SCAN_CAP_PACKAGE	25000000	/* lockfiles, manifests */

/* Caps of each item field on the wire, in bytes, without a NUL. */
#define SCAN_NAME_MAX		4096
#define SCAN_VERSION_MAX	1024
#define SCAN_ORIGIN_MAX		8192
#define SCAN_DETAIL_MAX		65536
#define SCAN_REASON_MAX		256		/* issue text, NUL included */

/* The HASH_ONLY template's fields, NUL included. */
#define SCAN_TMPL_NAME_MAX	256		/* a file or directory name */
#define SCAN_TMPL_ORIGIN_MAX	64
#define SCAN_TMPL_VERSION_MAX	1024		/* Homebrew versions, joined */

/* Which parser reads the file. */
enum scan_parser {
	SCAN_PARSER_CLAUDE_MCP,		/* ~/.claude.json, <root>/.mcp.json */
	SCAN_PARSER_CLAUDE_SETTINGS,	/* settings{,.local}.json, managed */
	SCAN_PARSER_CLAUDE_PLUGIN_FILE,	/* ~/.claude/plugins JSON */
	SCAN_PARSER_HASH_ONLY,		/* one item, detail = SHA-256 */
	SCAN_PARSER_NPM_LOCK,		/* package-lock / npm-shrinkwrap */
	SCAN_PARSER_PNPM_LOCK,		/* pnpm-lock.yaml */
	SCAN_PARSER_YARN_LOCK,		/* yarn.lock */
	SCAN_PARSER_BUN_LOCK,		/* bun.lock */
	SCAN_PARSER_UV_LOCK,		/* uv.lock */
	SCAN_PARSER_PYLOCK,		/* pylock.toml */
	SCAN_PARSER_PYPROJECT,		/* pyproject.toml */
	SCAN_PARSER_REQUIREMENTS,	/* requirement/constraint files */
	SCAN_PARSER_BREW_RECEIPT,	/* Homebrew INSTALL_RECEIPT.json */
	SCAN_PARSER_CODEX_CONFIG,	/* Codex config.toml */
	SCAN_PARSER_CODEX_HOOKS,	/* Codex hooks.json */
	SCAN_PARSER_CURSOR_MCP,		/* Cursor mcp.json */
	SCAN_PARSER_OPENCODE_CONFIG,	/* opencode.json(c), JSONC */
	SCAN_PARSER_PI_MCP,		/* Pi MCP files, JSONC */
	SCAN_PARSER_PI_SETTINGS,	/* Pi settings.json */
	SCAN_PARSER_AGENT_HASH,		/* HASH_ONLY for codex..opencode */
	SCAN_PARSER_COUNT
};

/* Parser flags (struct scan_file.flags). */
#define SCAN_F_HOOKS		0x01	/* settings: claude.includeHooks */
#define SCAN_F_PLUGINS		0x02	/* settings: claude.includePlugins */
#define SCAN_F_ALL		(SCAN_F_HOOKS | SCAN_F_PLUGINS)
#define SCAN_F_CONSTRAINT	0x04	/* requirements: pythonConstraint */
#define SCAN_F_MCP		0x10	/* opencode: opencode.includeMCP */
#define SCAN_F_IMPORTS		0x20	/* pi MCP: pi.includeImports */
#define SCAN_F_AGENTS		(SCAN_F_MCP | SCAN_F_IMPORTS)
/*
 * A package file (a lockfile): FILE_DONE carries the SHA-256 of what
 * was read; with known set, a file whose content hashes to known is not
 * parsed at all: FILE_DONE says SCAN_UNCHANGED, with no item or issue
 * (a file touched, or saved without a change, costs a read, no parse).
 */
#define SCAN_F_CONTENT		0x40

/* IMSG_SCAN_FILE payload, exactly this size; descriptor attached. */
struct scan_file {
	uint32_t	scan_id;	/* the parent's, echoed back */
	uint32_t	file_id;	/* unique among outstanding files */
	uint32_t	surface;	/* enum surface */
	uint32_t	parser;		/* enum scan_parser */
	uint32_t	flags;		/* SCAN_F_* */
	uint32_t	kind;		/* HASH_ONLY: enum item_kind; else 0 */
	/*
	 * The file's size when the parent sent it (scanproto_send_file
	 * sets it; its budget for the answer follows from it): the child
	 * reads a file of another size as one that changed while read.
	 */
	uint64_t	size;
	uint32_t	known_set;	/* SCAN_F_CONTENT: known is given */
	uint8_t		known[32];	/* else all zero */
	char		name[SCAN_TMPL_NAME_MAX];	/* HASH_ONLY, else "" */
	char		origin[SCAN_TMPL_ORIGIN_MAX];	/* HASH_ONLY, else "" */
	char		version[SCAN_TMPL_VERSION_MAX];	/* BREW_RECEIPT */
	char		path[PATH_MAX];	/* label: absolute, NUL-terminated */
};

/*
 * IMSG_SCAN_ITEMS payload: struct scan_items_hdr, then count items, each
 *	u8 surface, u8 kind, u8 installedOnRequest (0, 1, 2 = nil),
 *	u8 nil flags (SCAN_NIL_VERSION, SCAN_NIL_DETAIL),
 *	then name, [version], origin, [detail], each a u32 length and that
 *	many bytes: no NUL, valid UTF-8, within the field's cap.
 * Numbers in host order (IPC only), unaligned.  The payload ends exactly
 * after the last item.
 */
struct scan_items_hdr {
	uint32_t	scan_id;
	uint32_t	file_id;
	uint32_t	count;		/* >= 1 */
};
#define SCAN_IOR_FALSE		0
#define SCAN_IOR_TRUE		1
#define SCAN_IOR_NIL		2
#define SCAN_NIL_VERSION	0x01
#define SCAN_NIL_DETAIL		0x02

/* Issue codes: what the parent records on the surface (health). */
enum scan_issue_code {
	SCAN_ISSUE_OVERSIZED,		/* over the cap, nothing read */
	SCAN_ISSUE_NOT_REGULAR,		/* not a regular file */
	SCAN_ISSUE_UNREADABLE,		/* read error */
	SCAN_ISSUE_CHANGED,		/* size changed or short read */
	SCAN_ISSUE_MALFORMED,		/* not strict JSON (or too deep) */
	SCAN_ISSUE_TYPE,		/* a known key with the wrong type */
	SCAN_ISSUE_LIMIT,		/* a field over its wire cap, ... */
	SCAN_ISSUE_HASH,		/* hash failed: item kept, detail nil */
	SCAN_ISSUE_UNSUPPORTED,		/* a format version not understood,
					   or declared packages not found */
	SCAN_ISSUE_COUNT
};

/* IMSG_SCAN_ISSUE payload, exactly this size. */
struct scan_issue_msg {
	uint32_t	scan_id;
	uint32_t	file_id;
	uint32_t	code;		/* enum scan_issue_code */
	char		reason[SCAN_REASON_MAX];	/* NUL-terminated UTF-8 */
};

/*
 * IMSG_SCAN_INCLUDE payload, exactly this size: a requirements file's
 * -r/-c line names another file, which only the parent can open
 * (SURFACES.md 8).  The target is as written, NUL-terminated UTF-8; the
 * parent resolves it against the including file, checks it and the
 * budgets, and sends it as a file of its own.  At most
 * SCAN_FILE_INCLUDES_MAX per file, before its FILE_DONE.
 */
#define SCAN_FILE_INCLUDES_MAX	250
struct scan_include_msg {
	uint32_t	scan_id;
	uint32_t	file_id;
	uint32_t	constraint;	/* 0: -r/--requirement, 1: -c */
	char		target[PATH_MAX];
};

/* FILE_DONE status. */
#define SCAN_OK			0	/* the items stand */
#define SCAN_FAILED		1	/* the file contributes no items */
#define SCAN_UNCHANGED		2	/* its content hashes to known */

/* IMSG_SCAN_FILE_DONE payload, exactly this size. */
struct scan_file_done {
	uint32_t	scan_id;
	uint32_t	file_id;
	uint32_t	status;		/* SCAN_OK, SCAN_FAILED */
	uint32_t	nitems;		/* items sent for this file */
	uint32_t	nissues;	/* issues sent for this file */
	uint32_t	hashed;		/* SCAN_F_CONTENT, SCAN_OK: hash set */
	uint8_t		hash[32];	/* else all zero */
};

/*
 * IMSG_SCAN_KEY payload, exactly this size: the installation's key for
 * the markers of redacted MCP values (scan_redact.h), sent by the parent
 * once, before any file, to every scan child it starts (scankey.c).
 * The child accepts one key, never all zeros, and refuses a second; it
 * emits no MCP server before it has one.
 */
#define SCAN_KEY_LEN		32
struct scan_key {
	uint8_t		key[SCAN_KEY_LEN];
};

/* Both ends: set the channel's message size limit. 0 or -1. */
int	 scanproto_channel_init(struct imsgbuf *);

const char	*scan_parser_name(enum scan_parser);
/* The surface (enum surface) a parser serves, -1 for none. */
int		 scan_parser_surface(enum scan_parser);
/* The JSON reader's flags (JSON_F_*) for a JSON parser's files. */
int		 scan_parser_json_flags(enum scan_parser);
const char	*scan_issue_code_name(enum scan_issue_code);

/*
 * ---- Parent side ----
 *
 * struct scanproto tracks the files sent to one scan child and decodes
 * its answers strictly.  One per child incarnation: when the child dies
 * or its channel is broken, scanproto_reset() forgets every outstanding
 * file (their descriptors are gone with the channel) and the pipeline
 * rescans.
 */
/* An include a requirements file named (IMSG_SCAN_INCLUDE). */
struct scan_include {
	int			 constraint;
	char			*target;
};

struct scan_issue {
	char			*path;		/* the file's label */
	enum scan_issue_code	 code;
	char			*reason;
};

/*
 * One finished file, owned by the caller: scan_result_free().  The
 * items' strings live in the result (every item's path is the result's
 * path): never free them one by one, keep the result while the items
 * are in use or copy them.
 */
struct scan_result {
	uint32_t		 scan_id;
	uint32_t		 file_id;
	enum surface		 surface;
	enum scan_parser	 parser;
	int			 status;	/* SCAN_OK, SCAN_FAILED,
						   SCAN_UNCHANGED */
	int			 hashed;	/* hash: SHA-256 of the content */
	uint8_t			 hash[32];
	char			*path;		/* the label */
	struct item		*items;		/* none when SCAN_FAILED */
	size_t			 nitems;
	struct scan_issue	*issues;
	size_t			 nissues;
	struct scan_include	*includes;	/* none when SCAN_FAILED */
	size_t			 nincludes;
};

struct scanproto;

struct scanproto *scanproto_new(void);
void	 scanproto_free(struct scanproto *);
void	 scanproto_reset(struct scanproto *);
/* Files sent and not yet answered with FILE_DONE. */
size_t	 scanproto_pending(const struct scanproto *);
/* The bytes of items a file of this size may bring (see above). */
uint64_t scan_accept_budget(uint64_t);
/*
 * Why the last answer for an outstanding file was refused (over the
 * size bound, or anything else the decoder refuses), with the label
 * (*path) and id of the file, until the next reset; NULL if none was.
 */
const char *scanproto_refusal(const struct scanproto *, const char **,
	    uint32_t *);

/*
 * Queue IMSG_SCAN_FILE with fd on the channel (the caller flushes it
 * through its event loop).  The request is checked (enums, template,
 * NUL-terminated absolute label, a file id not outstanding).  fd is
 * always consumed, also on failure.  -1 with errno: EINVAL (bad
 * request), EBUSY (SCAN_MAX_INFLIGHT outstanding: check
 * scanproto_pending() first), EEXIST (file id outstanding), ENOMEM.
 */
int	 scanproto_send_file(struct scanproto *, struct imsgbuf *,
	    const struct scan_file *, int);

/*
 * Handle one message from the scan child (types IMSG_SCAN_ITEMS,
 * IMSG_SCAN_ISSUE, IMSG_SCAN_FILE_DONE; anything else is an error).
 * Returns -1 on anything invalid: the caller's dispatch hook returns -1
 * and the channel is broken.  0: accepted, nothing finished.  1: a file
 * finished, *res is set and owned by the caller.
 */
int	 scanproto_dispatch(struct scanproto *, struct imsg *,
	    struct scan_result **);

/* Same checks over a raw payload: for tests and the fuzzer. */
int	 scanproto_recv(struct scanproto *, uint32_t, const void *, size_t,
	    struct scan_result **);

void	 scan_result_free(struct scan_result *);

/*
 * ---- Scan side ----
 *
 * A string slice: p == NULL means nil.  Parsers emit items as slices
 * into their input or arena; the encoder copies them into the batch.
 */
struct sv {
	const char	*p;
	size_t		 len;
};

struct scan_item {
	enum item_kind	 kind;
	int		 ior;		/* 0, 1, ITEM_BOOL_NIL */
	struct sv	 name;
	struct sv	 version;
	struct sv	 origin;	/* never nil */
	struct sv	 detail;
};

/*
 * Where parsers put their output.  emit returns 0, or -1 to stop the
 * parse (the sink recorded why).  issue records a per-file issue.  hash
 * gives the lowercase hex SHA-256 of the whole file once the parser has
 * read the document to its end, or NULL if hashing failed.
 */
struct scan_sink {
	int		(*emit)(void *, const struct scan_item *);
	void		(*issue)(void *, enum scan_issue_code, const char *);
	const char	*(*hash)(void *);
	void		*arg;
};

/* The checks both ends make on a request (see PROTOCOL.md). */
int	 scan_file_valid(const struct scan_file *);

/*
 * The encoder: batches items into IMSG_SCAN_ITEMS messages of up to
 * SCAN_IMSG_MAXSIZE and queues issues and FILE_DONE for one file.
 * scan_out_item() refuses what the parent would refuse (-1, errno
 * ERANGE for a field over its cap, EILSEQ for a NUL or invalid UTF-8,
 * EINVAL for a bad enum) without sending anything, so the caller can
 * record an issue instead of breaking the channel; ENOMEM or a channel
 * error otherwise.  The queue is flushed when it grows past a few
 * batches, so a large lockfile does not pile up in memory.
 */
struct scan_out {
	struct imsgbuf	*ibuf;
	uint32_t	 scan_id;
	uint32_t	 file_id;
	uint32_t	 surface;
	unsigned char	*buf;		/* the batch being filled */
	size_t		 len;
	size_t		 cap;
	uint32_t	 count;		/* items in the batch */
	uint32_t	 nitems;	/* items sent for the file */
	uint32_t	 nissues;
	uint32_t	 nincludes;
	uint32_t	 hashed;	/* scan_out_done() sends hash */
	uint8_t		 hash[32];
};

int	 scan_out_begin(struct scan_out *, struct imsgbuf *,
	    const struct scan_file *);
int	 scan_out_item(struct scan_out *, const struct scan_item *);
int	 scan_out_issue(struct scan_out *, enum scan_issue_code,
	    const char *);
/*
 * Queue IMSG_SCAN_INCLUDE (the pending items first, to keep the order).
 * -1 with errno ERANGE (too long, or SCAN_FILE_INCLUDES_MAX sent),
 * EILSEQ (a NUL or invalid UTF-8), or a channel error.
 */
int	 scan_out_include(struct scan_out *, int, const char *, size_t);
/* Flushes the last batch and queues FILE_DONE; frees the batch. */
int	 scan_out_done(struct scan_out *, int);
void	 scan_out_free(struct scan_out *);

/*
 * Process one IMSG_SCAN_FILE in the child: check the request, fstat the
 * descriptor (regular file, size cap before reading), read it (hashing
 * as it goes), parse, queue items and issues and always FILE_DONE on
 * ibuf, close fd.  Returns 0, or -1 if the request itself is invalid
 * (the parent is trusted: the child exits) or memory ran out.
 */
int	 scan_file_process(struct imsgbuf *, const struct scan_file *, int);

#endif
