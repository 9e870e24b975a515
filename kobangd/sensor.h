/*
 * The local sensor pipeline in the parent (RULES.md 8, SURFACES.md 10,
 * DESIGN.md "Data flow"): per surface a dirty flag and a debounce timer;
 * one scan at a time through the scan child:
 *
 *	discover (with each user's rights) -> open and send the files,
 *	at most SCAN_MAX_INFLIGHT outstanding -> collect the child's
 *	validated items and issues -> sort by id, first of an id wins ->
 *	diff against the stored snapshot -> rules on changes and present
 *	items -> one store transaction (store_commit_scan)
 *
 * The lockfile surfaces are scanned file by file (sensor_inc.h): each
 * file's items are diffed against that file's stored rows as soon as the
 * child is done with it (a baseline stores them), then freed; a file
 * whose fingerprint (device, inode, size, mtime and ctime in ns) is what
 * it was when last read whole is not read again.  Every file is read
 * on the first scan after start (the rules may have changed), after a
 * watch overflow and on kobanctl scan; the watcher and the poll read
 * only what changed.  Other surfaces get one diff of the whole surface.
 *
 * The first scan of a surface is a silent baseline.  A scan that fails
 * or runs longer than watch.maxScanWallClockSeconds commits nothing and
 * marks the surface degraded; a scan child that hangs past that limit is
 * killed.  When the scan child dies mid-scan its partial work is thrown
 * away and the surface is rescanned once the child is back (at most
 * three times in a row; then it waits for the next change or poll).
 * Issues (oversized, malformed, unreadable, budget exhausted) never
 * abort a scan; they make the surface degraded.  A configured monitored
 * user the password database cannot give fails the scan: without them
 * every one of their items would read as removed.
 *
 * Triggers: the watcher (debounced per surface by
 * watch.debounceMilliseconds), the safety-net poll every
 * watch.pollIntervalSeconds, a queue overflow (everything, at once),
 * kobanctl scan (at once), and the first scan at start.  Per surface at
 * most one scan runs and one more is pending.
 *
 * Every surface of SURFACES.md 1-8 is implemented; a Homebrew package
 * whose receipt is missing or unreadable is recorded by the parent from
 * its template (origin unknown).
 */
#ifndef KOBANGD_SENSOR_H
#define KOBANGD_SENSOR_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "vocab.h"

struct kobangd;
struct imsg;
struct imsgbuf;
struct store;

/*
 * Open the state database, start the watcher, hook the scan child's
 * dispatch and queue the first scans.  Called from parent_main() before
 * the children start.  Fatal on a database that cannot be opened.
 */
void	 sensor_init(struct kobangd *);
/* The scan child was (re)started: forget what the old one had. */
void	 sensor_child_restarted(struct kobangd *);
void	 sensor_shutdown(struct kobangd *);
/* After a reload: old is the replaced configuration, freed here. */
struct config;
void	 sensor_reconfigure(struct kobangd *, struct config *);

/* Queue a scan of one surface now (-1: every implemented surface). */
int	 sensor_scan_now(struct kobangd *, int);

/*
 * A control request for the sensor (show inventory, events, findings,
 * surfaces; scan).  The caller checked read or root permission.  The
 * reply, ending with IMSG_CTL_END, is queued on ibuf (flushed to fd
 * when it grows).  -1 with a message in err for an error reply.
 */
int	 sensor_ctl(struct kobangd *, struct imsgbuf *, uid_t,
	    struct imsg *, char *, size_t);

/* The state database, for the sync round; NULL if it is not open. */
struct store	*sensor_store_handle(void);

#endif
