/*
 * The state database (SURFACES.md 11, PROTOCOL.md 8-9): one SQLite file,
 * kobangd.db in the state directory, owned by root, mode 0600, WAL.  Only
 * the parent opens it.
 *
 * What it holds:
 * - per surface, the current inventory snapshot (one row per item id, the
 *   first occurrence of an id in the scan wins, as in the differ) and the
 *   surface's baseline marker, last scan time, duration, item and issue
 *   counts and health;
 * - change events (the local activity feed, RULES.md 7.1);
 * - findings (struct finding, all fields);
 * - the outbox: one row per inventory change and per finding while sync is
 *   active, with the PROTOCOL.md 7 payload, its SHA-256, an uppercase v4
 *   event id and a local sequence per device id (next = max + 1, from 1,
 *   assigned inside the commit transaction, never reused).
 *
 * Nothing secret is ever written: items and findings hold none, and no
 * other data goes in.
 *
 * Threading: none.  Every function runs on the caller's connection; the
 * store is not safe for concurrent use.
 *
 * Errors: functions returning int return 0 on success and -1 on failure,
 * having logged the SQLite error with log_warnx; a failed commit leaves
 * the database exactly as it was (the transaction is rolled back).
 *
 * Ownership: query callbacks get borrowed pointers into SQLite's row
 * buffers.  They are valid only during the call; copy what you keep and
 * never free or modify them.  A callback returns 0 to go on and -1 to stop
 * the query, which then returns -1 (without logging).
 */
#ifndef KOBANGD_STORE_H
#define KOBANGD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "differ.h"
#include "item.h"
#include "rule.h"
#include "uuid.h"
#include "vocab.h"

#define STORE_DBNAME		"kobangd.db"
#define STORE_SCHEMA_VERSION	5

struct store;

/*
 * Open (creating if needed) dir/kobangd.db.  dir is created 0700 if
 * missing; an existing dir must be a directory owned by us and not group
 * or world writable.  A database that cannot be opened or fails PRAGMA
 * quick_check is renamed to kobangd.db.corrupt-<UTC timestamp> (with its
 * -wal and -shm), a fresh one is created, a warning is logged and
 * store_rebuilt() says so.  A database of a newer schema than this build
 * knows is refused.  Returns NULL with a one-line reason in err.
 */
struct store	*store_open(const char *dir, char *err, size_t errlen);
/* Checkpoint the WAL, close, free.  NULL is allowed. */
void		 store_close(struct store *);
/*
 * Move the WAL into the database now.  A commit that leaves 1,000 pages
 * or more in the WAL arms a timer of the parent's event loop that calls
 * this a second later, so that the checkpoint is not on the commit's
 * path.  -1 with errno EBUSY while a transaction is open (the timer then
 * tries again later).
 */
int		 store_checkpoint(struct store *);
/* 1 if store_open() had to move a corrupt database aside. */
int		 store_rebuilt(const struct store *);
/* The database file's path (for messages and status). */
const char	*store_path(const struct store *);

/* The surface's stored item count (0 when never scanned); 0 or -1. */
int	 store_item_count(struct store *, enum surface, int64_t *);

/*
 * Has the surface's baseline been done?  1 yes, 0 no (never scanned, or
 * the database was rebuilt), -1 error.
 */
int	 store_baselined(struct store *, enum surface);

/*
 * The stored snapshot of one surface, for the differ: an allocated array
 * of items and their strings, freed together by store_items_free() (the
 * strings share one allocation: never free or keep one on its own).
 * Stored ids are unique, so the differ sees the same first occurrences the
 * scan had.  Order: insertion order, i.e. the baseline's collector order,
 * with rows added by later scans after them in diff order (a modified row
 * keeps its place).  An empty or never-scanned surface gives *n = 0 and
 * *items NULL.
 */
int	 store_load_snapshot(struct store *, enum surface, struct item **,
	    size_t *);
void	 store_items_free(struct item *, size_t);

/*
 * The rows of one file of a surface (path as items show it), in row
 * order; freed by store_items_free().  *n = 0 and *items NULL if none.
 */
int	 store_load_file_items(struct store *, enum surface, const char *,
	    struct item **, size_t *);

/*
 * What a scan knew of a file when it read it: stat(2)'s device, inode,
 * size, and modification and status change times in nanoseconds.  A
 * file whose fingerprint is unchanged since the scan that read it need
 * not be read again.
 */
struct store_fp {
	int64_t		 dev;
	int64_t		 ino;
	int64_t		 size;
	int64_t		 mtime_ns;
	int64_t		 ctime_ns;
};

enum store_fp_state {
	STORE_FP_SET,		/* read whole: remember fp */
	STORE_FP_UNSET,		/* listed, but read it again next time */
	STORE_FP_GONE,		/* gone or lost its items: forget it */
	STORE_FP_KEEP		/* its read failed: rows kept, stale */
};

struct store_file {
	char			*path;
	enum store_fp_state	 state;
	struct store_fp		 fp;
	/*
	 * KEEP: since when its rows are stale (0: the commit's completion
	 * time); a file stale already keeps its first time.  Loaded: the
	 * stored time, 0 when the rows are current.
	 */
	int64_t			 stale_ms;
	/*
	 * Loaded: it could not be read during its surface's baseline and
	 * has not been read since (KEEP in a baseline sets it, SET and
	 * UNSET clear it): its first good read is its baseline.
	 */
	int			 unbaselined;
};

/*
 * The files listed for a surface, sorted by path (strcmp): every file
 * that holds inventory rows, and files read whole that gave none; state
 * is STORE_FP_SET with the fingerprint of the last read, or
 * STORE_FP_UNSET.  Free with store_files_free().
 */
int	 store_load_files(struct store *, enum surface, struct store_file **,
	    size_t *);
void	 store_files_free(struct store_file *, size_t);

/*
 * struct rules_held callback for rules_eval_present(): does the findings
 * table already hold a finding with this surface, item id and rule id?
 * arg is the struct store.  1 yes, 0 no, -1 error.  Use as
 *	struct rules_held held = { store_held, st };
 */
int	 store_held(void *arg, enum surface, const char *item_id,
	    const char *rule_id);

/*
 * One surface scan to commit.  All pointers are borrowed for the call.
 *
 * baseline = 1 (the surface was not baselined): items are stored, the
 *   present findings are stored, the surface is marked baselined; changes
 *   and change_findings must be empty; no change events, no retention
 *   pass.  Outbox: one `added` event per item in collector order (later
 *   duplicates of an id skipped), then the present findings.
 * baseline = 0: the snapshot is updated by the changes (removed rows
 *   deleted, modified rows replaced, added rows inserted; a change that
 *   does not fit the stored snapshot, e.g. an added id already stored,
 *   fails the commit), one change event per change, the change findings,
 *   then the present findings; retention applies.  A quiet addition
 *   (differ.h: a late baseline) gets no change event, and its outbox
 *   event the observedAt of a baseline item.  Outbox: one event per
 *   change in the given (diff) order (payload: the old item for removed,
 *   the new one otherwise), then the change findings in the given order,
 *   then the present findings.  Finding events have kind `modified`.
 *
 * Outbox rows are written only if device_id is non-NULL (the caller
 * decides: sync enabled and a device id known).  tenant_id may be NULL.
 *
 * Times are milliseconds since the epoch.  completed_ms is the scan
 * completion time (collectedAt of every event; observedAt of baseline
 * items); artifact_ms is the clock read just after it (the timestamp of
 * the change events; observedAt of inventory events in a normal scan).
 * A finding's observedAt is its own timestamp string (which the rule
 * engine got from the artifact time), parsed; a malformed one fails the
 * commit.
 *
 * max_events / max_findings: persistence.maxStoredEvents and
 * maxStoredFindings (negative: no pruning, 0: delete all, else keep the
 * newest by timestamp, then id).
 *
 * nissues / health_message: the scan's issues; nissues > 0 marks the
 * surface degraded with the message (NULL: "N issues"), 0 marks it ok.
 */
struct store_scan {
	enum surface		 surface;
	int			 baseline;
	const struct item	*items;		/* new snapshot, collector order */
	size_t			 nitems;
	const struct change	*changes;	/* diff order */
	size_t			 nchanges;
	const struct finding	*change_findings;
	size_t			 nchange_findings;
	const struct finding	*present_findings;	/* deduplicated */
	size_t			 npresent_findings;
	int64_t			 completed_ms;
	int64_t			 artifact_ms;
	int64_t			 duration_ms;
	size_t			 nissues;
	const char		*health_message;
	long long		 max_events;
	long long		 max_findings;
	const char		*device_id;	/* NULL: no outbox rows */
	const char		*tenant_id;	/* may be NULL */
	const struct idsource	*ids;		/* event ids; NULL: random */
	/*
	 * Files whose listing changes (applied after the items): SET
	 * records a fingerprint (the file is listed if new), UNSET keeps
	 * it listed without one, GONE unlists it (or, while it still holds
	 * rows, leaves it listed without a fingerprint), KEEP keeps it
	 * listed without one and marks its rows stale (SET and UNSET
	 * clear that).  A baseline starts
	 * from an empty listing.  Every file that gets rows is listed.
	 */
	const struct store_file	*files;
	size_t			 nfiles;
	/*
	 * Not a baseline: the surface's item count is the stored one plus
	 * added minus removed, and nitems is ignored (a scan that read only
	 * some files does not know the total).
	 */
	int			 count_by_changes;
};

/* What a commit did (optional). */
struct store_commit_result {
	size_t		 nevents;	/* change events written */
	size_t		 nfindings;	/* findings written */
	size_t		 noutbox;	/* outbox rows written */
	int64_t		 first_seq;	/* their local sequences; 0 if none */
	int64_t		 last_seq;
	size_t		 pruned_events;
	size_t		 pruned_findings;
	/* sync.outboxMaxBytes, see store_outbox_set_max(). */
	size_t		 dropped_inventory;	/* undelivered, dropped */
	size_t		 dropped_findings;
	size_t		 pruned_acked;		/* delivered, removed */
};

int	 store_commit_scan(struct store *, const struct store_scan *,
	    struct store_commit_result *);

/*
 * A baseline committed in pieces, so that it is never all in memory:
 * begin opens the transaction and clears the surface's rows and
 * listing; add stores items in collector order (a later duplicate of an
 * id is skipped; they may be freed on return); end does what
 * store_commit_scan() does with a baseline (sc->items and nitems are
 * ignored: the rows are in; the outbox events are read back from them
 * in row order) and commits.  Any failure rolls everything back, as
 * does abort.  The transaction stays open between the calls: nothing
 * else may write to the store meanwhile (reads see the rows so far).
 */
int	 store_baseline_begin(struct store *, enum surface);
int	 store_baseline_add(struct store *, const struct item *, size_t);
int	 store_baseline_end(struct store *, const struct store_scan *,
	    struct store_commit_result *);
void	 store_baseline_abort(struct store *);

/*
 * A scan that failed or timed out commits nothing (RULES.md 8); record
 * that on the surface (health degraded, the message, when and how long)
 * without touching its snapshot or baseline marker.
 */
int	 store_note_scan_failure(struct store *, enum surface, int64_t at_ms,
	    int64_t duration_ms, const char *message);

/*
 * Queries for kobanctl.  home: NULL for everything, else only rows whose
 * path is home itself or lies under home + "/" (a non-root caller passes
 * their own home).  The callbacks get borrowed rows (see above).
 */

/*
 * Inventory, one surface (or all if surface < 0), in enum surface order,
 * then in the snapshot's order; id is the item identity string,
 * stale_ms since when the item's file could not be read (its rows are
 * the last good read's), 0 when it is current.
 */
typedef int	(*store_item_cb)(void *, const struct item *, const char *id,
		    int64_t stale_ms);
int	 store_query_inventory(struct store *, int surface, const char *home,
	    store_item_cb, void *);

struct store_event {
	int64_t			 id;		/* row id, increasing */
	int64_t			 ts_ms;		/* artifact time of the scan */
	enum surface		 surface;
	enum change_kind	 kind;
	enum item_kind		 item_kind;
	const char		*item_id;
	const char		*name;
	const char		*path;
	const char		*old_version;	/* NULL: nil or added */
	const char		*new_version;	/* NULL: nil or removed */
	const char		*detail;	/* feed text, RULES.md 7.1 */
};
typedef int	(*store_event_cb)(void *, const struct store_event *);
/* Newest first (timestamp, then id); limit 0 means no limit. */
int	 store_query_events(struct store *, size_t limit, const char *home,
	    store_event_cb, void *);

/*
 * Findings with severity >= min_severity (or all if < 0), newest first
 * (timestamp, then insertion); limit 0 means no limit.  The struct
 * finding's pointers are borrowed like any row.
 */
typedef int	(*store_finding_cb)(void *, const struct finding *);
int	 store_query_findings(struct store *, int min_severity,
	    const char *home, size_t limit, store_finding_cb, void *);

struct store_surface_stats {
	enum surface	 surface;
	int		 scanned;	/* 0: no row yet; the rest is zero */
	int		 baselined;
	int64_t		 last_scan_ms;	/* last commit or failure */
	int64_t		 duration_ms;
	uint64_t	 items;		/* items of the last committed scan */
	uint64_t	 issues;
	int		 degraded;	/* 0 ok, 1 degraded */
	const char	*message;	/* NULL if ok; borrowed */
};
typedef int	(*store_surface_cb)(void *, const struct store_surface_stats *);
/* One call per surface in enum order, scanned or not. */
int	 store_query_surfaces(struct store *, store_surface_cb, void *);

struct store_outbox_stats {
	uint64_t	 backlog_events;	/* pending + inFlight */
	uint64_t	 backlog_bytes;		/* their payload bytes */
	uint64_t	 pending;
	uint64_t	 inflight;
	uint64_t	 acked;
	uint64_t	 poison;
	int64_t		 oldest_pending_ms;	/* collectedAt; 0 if none */
	int64_t		 last_seq;		/* highest sequence; 0 if none */
};
/* For one device id, or over all rows if device_id is NULL. */
int	 store_outbox_stats(struct store *, const char *device_id,
	    struct store_outbox_stats *);

/* Outbox rows (tests, the sync of a later issue, pbdecode checks). */
enum store_outbox_state {
	OUTBOX_PENDING,
	OUTBOX_INFLIGHT,
	OUTBOX_ACKED,
	OUTBOX_POISON
};
struct store_outbox_row {
	char			 event_id[UUID_BUFSZ];
	const char		*device_id;
	const char		*tenant_id;	/* NULL: none */
	int64_t			 local_seq;
	enum surface		 surface;
	enum change_kind	 kind;
	int			 finding;	/* 1: finding event */
	int64_t			 observed_ms;
	int64_t			 collected_ms;
	const uint8_t		*payload;
	size_t			 payload_len;
	const char		*payload_hash;	/* 64 lowercase hex */
	enum store_outbox_state	 state;
	int64_t			 attempts;
	int64_t			 next_attempt_ms;	/* 0: ready now */
};
typedef int	(*store_outbox_cb)(void *, const struct store_outbox_row *);
/*
 * Rows with local sequence > after_seq, ascending (device id, then
 * sequence); device_id NULL for all devices; limit 0 means no limit.
 */
int	 store_query_outbox(struct store *, const char *device_id,
	    int64_t after_seq, size_t limit, store_outbox_cb, void *);
const char	*store_outbox_state_name(enum store_outbox_state);

/*
 * The sync side of the outbox, every change scoped by device id.  They
 * return -1 with errno EBUSY while a transaction (a streamed baseline)
 * is open; try again later.  *nchg (if not NULL): rows changed.
 *
 * recover: rows left inFlight by a crash become pending (at start).
 * ready: pending rows due at now_ms, ascending sequence, at most limit.
 * set_state: inFlight (only from pending), acked or poison, by sequence.
 * ack_through: every row with a sequence <= seq becomes acked.
 * reschedule: the inFlight rows among seqs back to pending, one more
 * attempt, due at next_ms.
 * last_acked: the highest acked sequence, 0 if none (6.4).
 * next_due: the earliest next attempt of a pending row (0: now), -1 if
 * there is none.
 */
int	 store_outbox_recover(struct store *, int64_t now_ms, int64_t *nchg);
int	 store_outbox_ready(struct store *, const char *device_id,
	    int64_t now_ms, size_t limit, store_outbox_cb, void *);
int	 store_outbox_set_state(struct store *, const char *device_id,
	    const int64_t *seqs, size_t n, enum store_outbox_state,
	    int64_t now_ms, int64_t *nchg);
int	 store_outbox_ack_through(struct store *, const char *device_id,
	    int64_t seq, int64_t now_ms, int64_t *nchg);
int	 store_outbox_reschedule(struct store *, const char *device_id,
	    const int64_t *seqs, size_t n, int64_t next_ms, int64_t now_ms,
	    int64_t *nchg);
int	 store_outbox_last_acked(struct store *, const char *device_id,
	    int64_t *seq);
int	 store_outbox_next_due(struct store *, const char *device_id,
	    int64_t *next_ms);
/* The pending and inFlight rows of device_id and their payload bytes. */
int	 store_outbox_backlog(struct store *, const char *device_id,
	    uint64_t *events, uint64_t *bytes);

/*
 * Every stored inventory item as an `added` outbox event for device_id
 * (after enrollment), in one transaction; *n: events written.  EBUSY
 * while another transaction is open.
 */
int	 store_outbox_enqueue_inventory(struct store *, const char *device_id,
	    const char *tenant_id, int64_t now_ms, size_t *n);

/*
 * sync.outboxMaxBytes (spec/README.md): the payload bytes of every
 * stored outbox row, any state, any device, are kept within max_bytes
 * (<= 0: no cap) by every transaction that adds rows, before it
 * commits.  Over the cap, rows go in this order: an undelivered
 * (pending or poison) row larger than the whole cap; acked rows, oldest
 * first, except each device's highest acked one; undelivered inventory
 * events, oldest first; undelivered findings, oldest first.  inFlight
 * rows count but are never dropped.  Drops of undelivered rows are
 * counted by kind and logged once per transaction; the counts persist.
 * Setting a cap takes effect at the next transaction that adds rows.
 * NULL store is allowed.
 */
void	 store_outbox_set_max(struct store *, long long max_bytes);
/* The cap applied at once; EBUSY inside a transaction.  0 or -1. */
int	 store_outbox_enforce_now(struct store *);

struct store_outbox_usage {
	uint64_t	 bytes;			/* every stored row's payload */
	int64_t		 max_bytes;		/* the cap, 0: none */
	uint64_t	 dropped_inventory;	/* since the database was made */
	uint64_t	 dropped_findings;
	uint64_t	 pruned_acked;
};
int	 store_outbox_usage(struct store *, struct store_outbox_usage *);

/*
 * A meta row the sensor keeps (the configuration its stored items were
 * read under).  get: 1 and the value in buf, 0 if there is none (or it
 * does not fit), -1 on error.  set: 0 or -1.
 */
int	 store_meta_get(struct store *, const char *, char *, size_t);
int	 store_meta_set(struct store *, const char *, const char *);

#endif
