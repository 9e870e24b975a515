/*
 * Per-file scans of a baselined surface (sensor.c): each file's items
 * are diffed against the stored rows of that file alone as soon as the
 * scan child has finished it, and then freed, so a scan never holds the
 * surface's old and new snapshots; a file whose fingerprint (device,
 * inode, size, modification and change times) is what it was when it
 * was last read whole is not read again (unless the scan is full).
 *
 * Item ids contain the file's path, so no id can come from two files:
 * diffing file by file and merging gives what one diff of the whole
 * surface gives.  sinc_finish() puts the changes in the differ's order
 * (added, removed, modified, each by id), evaluates the change rules on
 * them, keeps the present findings that no change finding covers, in
 * item id order, and lists files that vanished (every listed file the
 * scan did not see) as wholly removed.  What it returns goes to
 * store_commit_scan() unchanged, with count_by_changes set.
 *
 * A path must be given to sinc_file() at most once per scan, and only
 * for surfaces whose files carry their own items (no labels, no
 * includes): the caller checks.
 */
#ifndef KOBANGD_SENSOR_INC_H
#define KOBANGD_SENSOR_INC_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>

#include "differ.h"
#include "item.h"
#include "rule.h"
#include "store.h"

struct scan_result;
struct sinc;

/*
 * Start: load the surface's file listing.  full = 1 reads every file.
 * ts: the provisional timestamp of present findings (replaced at the
 * end).  NULL on error (logged).
 */
struct sinc	*sinc_new(struct store *, enum surface, const struct ruleset *,
		    int, const char *);
/*
 * The same for the baseline of a surface: each file's items are stored
 * as it is done (store_baseline_begin() and _add(); nothing is diffed,
 * nothing listed is looked at) and the commit is store_baseline_end().
 * Until sinc_commit() the transaction is open: sinc_free() rolls it back.
 */
struct sinc	*sinc_new_baseline(struct store *, enum surface,
		    const struct ruleset *, const char *);
void		 sinc_free(struct sinc *);
/*
 * Only some files of the surface are looked at (those the watcher
 * named): a listed file the scan does not see is not taken as gone.
 */
void		 sinc_partial(struct sinc *);
/*
 * The file was read and its content is what it was at its last good
 * read (its hash): it is seen, nothing of it changes, its listing
 * stands (a touch changes no stored row).
 */
void		 sinc_unchanged(struct sinc *, const char *);
/*
 * 1 when the file's stored rows come from a good read of it (listed
 * with a fingerprint: not stale, not waiting to be read again), so
 * that content found unchanged may keep them; 0 otherwise.
 */
int		 sinc_rows_good(struct sinc *, const char *);
/* Nothing to store: no change, no listing change, nothing read. */
int		 sinc_nothing(const struct sinc *);
int		 sinc_is_baseline(const struct sinc *);

/* The fingerprint of a stat. */
void		 sinc_fp(const struct stat *, struct store_fp *);

/*
 * 1 when the file need not be read (its fingerprint is unchanged; it
 * counts as seen), 0 when it must be.
 */
int		 sinc_skip(struct sinc *, const char *, const struct stat *);

/*
 * One file done: its items (pointing into r's strings, or r NULL),
 * how its listing changes (STORE_FP_SET with fp, UNSET, GONE; fp may be
 * NULL otherwise).  KEEP: the file could not be read or parsed this
 * time; items are ignored, its stored rows stand (no change, no
 * finding) and are marked stale until a good read.  r is taken over in every case (kept while its items
 * are in a change, else freed).  0, or -1 (out of memory, database).
 */
int		 sinc_file(struct sinc *, const char *, struct scan_result *,
		    const struct item *, size_t, enum store_fp_state,
		    const struct store_fp *);

/*
 * All files done.  Fills the commit's changes, change and present
 * findings (timestamps ts) and files; they belong to the sinc.
 * 0 or -1.
 */
int		 sinc_finish(struct sinc *, const char *, struct store_scan *);
/* Commit what sinc_finish() filled in (and the caller completed). */
int		 sinc_commit(struct sinc *, const struct store_scan *,
		    struct store_commit_result *);

/* Files read, skipped and kept (failed, rows stale) so far. */
size_t		 sinc_nread(const struct sinc *);
size_t		 sinc_nskipped(const struct sinc *);
size_t		 sinc_nkept(const struct sinc *);

#endif
