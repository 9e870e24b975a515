/*
 * Inside the scan child: the parsers (pure functions over a JSON token
 * stream and a sink, so unit tests and fuzzers drive them without the
 * child) and the reading of a handed descriptor.
 *
 * A parser returns 0 when the file's items stand, -1 when the file
 * contributes nothing; it has then told the sink why (an issue), or the
 * sink itself refused an item.  Parsers emit items as they go: a later
 * failure discards them on the parent's side (FILE_DONE with
 * SCAN_FAILED).
 */
#ifndef KOBANGD_SCAN_H
#define KOBANGD_SCAN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "scanproto.h"

/* scan_npm.c: package-lock.json and npm-shrinkwrap.json (SURFACES.md 7). */
int	 scan_npm_lock(struct json *, const struct scan_sink *);

/* scan_claude.c: SURFACES.md 2.2-2.4. */
int	 scan_claude_mcp(struct json *, const struct scan_sink *);
int	 scan_claude_settings(struct json *, int, const struct scan_sink *);
int	 scan_claude_plugin_file(struct json *, const struct scan_sink *);

/* The fixed origins of SURFACES.md 2. */
#define SCAN_ORIGIN_SETTINGS	"claude-settings"
#define SCAN_ORIGIN_HOOK	"claude-hook"
#define SCAN_ORIGIN_PLUGIN	"claude-plugin"
#define SCAN_ORIGIN_NPM		"npm"

/*
 * scan_util.c: what the parsers share.
 *
 * sbuf: a growing byte buffer addressed by offsets (it moves when it
 * grows).  strset: a set of byte strings with a per-process random seed,
 * for "first occurrence wins" over untrusted keys.  While the keys come
 * in strictly increasing byte order (npm writes its lockfiles sorted) a
 * new key only needs a comparison with the last one; the hash table is
 * built at the first key out of order.
 */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

#define SBUF_ERR	SIZE_MAX

void	 sbuf_init(struct sbuf *);
void	 sbuf_free(struct sbuf *);
void	 sbuf_reset(struct sbuf *);
/* Appends; the offset of the copy, or SBUF_ERR (ENOMEM). */
size_t	 sbuf_add(struct sbuf *, const void *, size_t);
/* Room for len more bytes without moving; 0 or -1 (ENOMEM). */
int	 sbuf_reserve(struct sbuf *, size_t);

struct strset_key;

struct strset {
	uint64_t		*tab;		/* tag << 32 | key index + 1 */
	size_t			 mask;		/* size - 1, size a power of 2 */
	struct strset_key	*kv;		/* the keys, in insertion order */
	size_t			 n;
	size_t			 kvcap;
	struct sbuf		 keys;
	int			 hashed;	/* 0: keys came in order */
};

void	 strset_init(struct strset *);
void	 strset_free(struct strset *);
/* 1 added, 0 already there, -1 ENOMEM. */
int	 strset_add(struct strset *, const char *, size_t);

/* Record the tokenizer's error as a "malformed" issue. */
void	 scan_malformed(const struct scan_sink *, const struct json *);
/* Record a type error ("<what> is not <type>"). */
void	 scan_type_error(const struct scan_sink *, const char *,
	    const char *);

/*
 * scan_file.c: serve one IMSG_SCAN_FILE (declared in scanproto.h as
 * scan_file_process()).  scan_file_run() is the part after fstat, with
 * the size the caller saw, so tests can pretend a file shrank or grew.
 */
struct stat;
int	 scan_file_run(struct scan_out *, const struct scan_file *, int,
	    const struct stat *);

/* scan.c: the child's dispatcher, run by child_loop(). */
int	 scan_dispatch_imsg(struct imsgbuf *);

#endif
