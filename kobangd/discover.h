/*
 * Discovery, in the parent: which files of a surface exist for each
 * monitored user (SURFACES.md 0.6, 0.7, 2.1, 7), and opening them with
 * the rights of the user whose home they lie in.
 *
 * Discovery walks directories with that user's file system identity
 * (fsuid, fsgid and supplementary groups switched around every walk and
 * every open, restored after: the parent is single-threaded), so the
 * root daemon never lists or reads what the user could not.  Directories
 * are opened with O_NOFOLLOW relative to their parent; a file is opened
 * relative to its anchor (the home or project root it was found under)
 * with openat2 RESOLVE_BENEATH: a symbolic link that stays inside the
 * anchor is followed, one that leads out of it is refused.  A file is
 * first opened O_PATH, checked to be a regular file, and only then
 * reopened for reading: a FIFO, device, socket or directory is never
 * opened as a file.
 *
 * Budgets (SURFACES.md 0.2) count per surface scan and per user:
 * project discovery 20,000 directories, 5,000 matched files, 30 s;
 * recursive agent search 5,000 regular files, 25,000 entries, 10 s per
 * directory searched; agents/commands listings 25,000 entries.
 * Exhaustion is an issue; what was found so far is kept.
 */
#ifndef KOBANGD_DISCOVER_H
#define KOBANGD_DISCOVER_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>

#include "item.h"
#include "rule.h"

struct config;

#define DISC_PROJECT_MAX_DIRS		20000
#define DISC_PROJECT_MAX_FILES		5000
#define DISC_PROJECT_MAX_MSEC		30000
#define DISC_SEARCH_MAX_FILES		5000
#define DISC_SEARCH_MAX_ENTRIES		25000
#define DISC_SEARCH_MAX_MSEC		10000
#define DISC_LIST_MAX_ENTRIES		25000

#define DISC_AGENT_CAP			5000000		/* bytes */
#define DISC_PACKAGE_CAP		25000000	/* bytes */
#define DISC_BREW_RECEIPT_CAP		1000000		/* bytes */
#define DISC_BREW_VERSIONS_MAX		1024	/* joined, NUL included */

/* A monitored user: whose rights discovery and opening use. */
struct disc_user {
	uid_t		 uid;
	gid_t		 gid;
	char		*name;
	char		*home;		/* absolute, no trailing slash */
	gid_t		*groups;	/* supplementary, from getgrouplist */
	int		 ngroups;
};

struct disc_users {
	struct disc_user	*v;
	size_t			 n;
};

/* How a discovered file is to be read (the scan child's parser). */
enum disc_parser {
	DISC_CLAUDE_MCP,	/* ~/.claude.json, <root>/.mcp.json */
	DISC_CLAUDE_SETTINGS,	/* settings.json, settings.local.json */
	DISC_CLAUDE_PLUGINS,	/* known-marketplaces / installed-plugins */
	DISC_HASH,		/* one item from a template, detail = hash */
	DISC_NPM_LOCK,		/* package-lock.json, npm-shrinkwrap.json */
	DISC_PNPM_LOCK,
	DISC_YARN_LOCK,
	DISC_BUN_LOCK,
	DISC_BREW_RECEIPT,	/* INSTALL_RECEIPT.json, template: the package */
	DISC_CODEX_CONFIG,	/* config.toml, profile configs */
	DISC_CODEX_HOOKS,	/* <base>/hooks.json */
	DISC_CURSOR_MCP,	/* ~/.cursor/mcp.json, <root>/.cursor/mcp.json */
	DISC_OPENCODE_CONFIG,	/* opencode.json(c), template: the profile */
	DISC_PI_MCP,		/* Pi's MCP files (JSONC) */
	DISC_PI_SETTINGS,	/* Pi settings.json */
	DISC_AGENT_HASH,	/* DISC_HASH for codex, cursor, opencode, pi */
	DISC_UV_LOCK,		/* uv.lock */
	DISC_PYLOCK,		/* pylock.toml */
	DISC_PYPROJECT,		/* pyproject.toml */
	DISC_REQUIREMENTS,	/* a requirementFileGlobs match */
	DISC_CONSTRAINTS,	/* the same, name starting "constraints" */
	DISC_PARSER_COUNT
};

/* The item a hash-only file yields (SURFACES.md 2.4). */
struct disc_template {
	enum item_kind	 kind;
	char		*name;
	const char	*origin;	/* static */
	char		*version;	/* DISC_BREW_RECEIPT: joined versions */
};

struct disc_file {
	char			*path;		/* absolute, as items show it */
	const char		*rel;		/* into path: below the anchor */
	size_t			 anchor;	/* index into disc_result.anchors */
	enum disc_parser	 parser;
	struct disc_template	 tmpl;		/* DISC_HASH */
	uint64_t		 cap;		/* size cap in bytes */
	char			*label;		/* NULL: path; else the items'
						   path (a Homebrew rack) */
	/* The sensor's: SHA-256 of the content at its last good read. */
	int			 hashed;
	uint8_t			 hash[32];
};

/* A directory files are opened beneath, opened once per scan. */
struct disc_anchor {
	char			*path;
	const struct disc_user	*user;		/* whose rights; NULL: root */
	int			 fd;		/* -1: not opened (yet) */
	int			 err;		/* errno of a failed open */
};

struct disc_issue {
	char		*path;
	char		*reason;
};

/* Watch requests: what the watcher should report for a surface. */
#define DISC_W_ANY	0x01	/* any entry of dir */
#define DISC_W_SUBDIR	0x02	/* a subdirectory not in wexclude comes or goes */
#define DISC_W_NAMES	0x04	/* an entry named as one of wnames */

struct disc_watch {
	char			*dir;
	char			*name;		/* NULL: flags decide */
	unsigned int		 flags;
	char			*top;		/* climb no higher if dir is missing */
	const struct disc_user	*user;		/* NULL: root */
};

struct disc_result {
	enum surface		 surface;
	struct disc_file	*files;
	size_t			 nfiles, capfiles;
	struct disc_anchor	*anchors;
	size_t			 nanchors, capanchors;
	struct disc_issue	*issues;
	size_t			 nissues, capissues;
	struct disc_watch	*watches;
	size_t			 nwatches, capwatches;
	struct strlist		 wnames;	/* DISC_W_NAMES */
	struct strlist		 wexclude;	/* DISC_W_SUBDIR */
	size_t			 dirs_visited;
	int			 enomem;	/* result incomplete */
	struct disc_users	 owners;	/* Homebrew prefix owners who
						   are not monitored users */
};

/*
 * The monitored users: kobangd.users, or with NULL the machine's human
 * users (uid 1000..59999, a login shell that is not nologin or false, an
 * existing home directory), from the password database.  0 or -1.
 */
int	 disc_users_load(const struct config *, struct disc_users *);
void	 disc_users_free(struct disc_users *);
/* The user whose home holds path (prefix with a slash), or NULL. */
const struct disc_user *disc_user_of_path(const struct disc_users *,
	    const char *);

/*
 * Whether a discovered file has a template item the parent records
 * itself when the file cannot be handed over (DISC_HASH, DISC_AGENT_HASH,
 * DISC_BREW_RECEIPT, DISC_OPENCODE_CONFIG), and whether a missing file
 * still yields it (a Homebrew package without a receipt).
 */
int	 disc_file_templated(const struct disc_file *);
int	 disc_file_missing_keeps(const struct disc_file *);

/*
 * Find the files of one surface for all users; every surface is known.
 * Homebrew prefixes are machine-wide: each is listed and its receipts
 * opened with the rights of the prefix directory's owner (a monitored
 * user, root only for a root-owned prefix, else that account).
 * Returns 0, or -1 when out of memory (the result is then incomplete
 * and must not be committed).
 */
int	 discover_surface(const struct config *, enum surface,
	    const struct disc_users *, struct disc_result *);
void	 disc_result_free(struct disc_result *);
/*
 * The index of path among res's files, or -1.  Only for a result whose
 * files are sorted by path (the per-file surfaces'): a binary search.
 */
ssize_t	 disc_find(const struct disc_result *res, const char *path);
/*
 * Keep a result past its scan for another read of its files: its
 * anchors closed (each is opened again on use) and its watch requests
 * dropped.  Files, anchors and issues stay.
 */
void	 disc_result_keep(struct disc_result *);
/*
 * Watch one more file by name, found after discovery beneath an anchor
 * (a requirement include): its directory, climbing no higher than the
 * anchor, with the anchor's user.  0 or -1 (ENOMEM).
 */
int	 disc_watch_file(struct disc_result *, const char *, size_t);

/*
 * Open a discovered file for reading with its user's rights.  On success
 * returns the descriptor and its stat.  On failure returns -1 and puts a
 * reason in why; *missing is set when the file simply does not exist
 * (SURFACES.md 0.4: no item, no issue).
 */
int	 disc_open(struct disc_result *, const struct disc_file *,
	    struct stat *, int *, char *, size_t);

/*
 * Take on a user's file system identity (NULL: stay root) and give it
 * back.  disc_become fails closed: -1 and the identity is unchanged.
 */
int	 disc_become(const struct disc_user *);
void	 disc_restore(void);

/* Exact file-name glob of SURFACES.md 0.6: only '*' is special. */
int	 disc_glob_match(const char *, const char *);

#endif
