/*
 * The state database: SQLite, WAL, one file in the state directory.
 *
 * Layout (schema version 5):
 *	surface		per surface: baseline marker, last scan, health
 *	inventory	the current snapshot: per surface a range of row ids
 *			in snapshot order
 *	file		each path once; scanned: per surface, the files
 *			listed with their fingerprints and the ids of their
 *			inventory rows (file_rows)
 *	item_kind	the codes of the item kinds inventory rows carry
 *	change_event	the local activity feed
 *	finding		every stored finding
 *	outbox		sync events (PROTOCOL.md 9.1), device and tenant ids
 *			kept once each in outbox_device / outbox_tenant
 *	meta		key/value facts about the database itself
 *
 * The snapshot is updated in place by the diff instead of being
 * rewritten: a one-package change in a 300,000-item surface then costs
 * a few row writes, not 300,000.  The diff was computed against what this
 * store returned, and every change is checked against the rows it touches
 * (a removed or modified id must exist, an added one must not), so a
 * stale caller fails the commit rather than corrupting the snapshot.
 *
 * All statements are prepared once at open and reused.
 *
 * Size and the parent's time (issue 14).  An inventory row's id is its
 * surface's code times 2^32 plus its place: one surface's rows are one
 * range of the table in row order, read without an index.  Kinds are
 * small codes (item_kind).  detail is kept compactly where it can be
 * rebuilt exactly (detail_pack).  A baseline looks up an id already
 * stored only for a file it comes back to; a file new to the baseline
 * is checked in memory.  The WAL is moved into the database when the
 * parent is idle, not inside the commit (store_checkpoint).  A file's
 * rows are found by the runs of ids kept with its listing in scanned,
 * not by an index on inventory (schema 5): the index cost a B-tree
 * insert and some 16 bytes per row for a lookup done per changed file.
 */

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base64.h"
#include "compat.h"
#include "differ.h"
#include "event.h"
#include "log.h"
#include "pb.h"
#include "sha256.h"
#include "store.h"
#include "timefmt.h"
#include "uuid.h"

#define STORE_BUSY_MS		2000
/* Keep the WAL file from staying huge after a large baseline. */
#define STORE_WAL_LIMIT		(16 * 1024 * 1024)
/* The checkpoint runs this long after the last commit. */
#define STORE_IDLE_MS		1000
/*
 * ... or at once, if no event loop ran it and the WAL has grown past
 * this many pages (SQLite's own default would checkpoint at 1,000
 * inside the next commit).
 */
#define STORE_WAL_BACKSTOP	65536
/* An inventory row's id: its surface's code << INV_SHIFT, plus n > 0. */
#define INV_SHIFT		32
#define INV_SPAN		"4294967296"
#define STORE_MAX_ASIDE		100
#define STORE_PAGE_SIZE		"16384"
/*
 * A baseline's new file's rows go in this many at a time: one statement
 * keeps its cursor at the table's end instead of seeking from the root
 * and setting up again for every row.
 */
#define INV_BATCH		16

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_SURFACE_ADD,
	S_SURFACE_CODE,
	S_SURFACE_GET,
	S_SURFACE_COMMIT,
	S_SURFACE_FAIL,
	S_FILE_GET,
	S_FILE_ADD,
	S_FILE_USED,
	S_FILE_DEL,
	S_FILE_SWEEP,
	S_INV_CLEAR,
	S_INV_FIND,
	S_INV_INSERT,
	S_INV_INSERT_MANY,
	S_INV_DELETE,
	S_INV_UPDATE,
	S_INV_LOAD,
	S_INV_MAXID,
	S_KIND_ADD,
	S_KIND_CODE,
	S_SCANNED_CLEAR,
	S_SCANNED_ROWS,
	S_SCANNED_SETROWS,
	S_SCANNED_NOROWS,
	S_SCANNED_GETROWS,
	S_SCANNED_SET,
	S_SCANNED_UNSET,
	S_SCANNED_KEEP,
	S_SCANNED_DEL,
	S_SCANNED_LOAD,
	S_SCANNED_IDLE,
	S_ITEM_COUNT,
	S_FILE_PATH,
	S_INV_QUERY,
	S_EVENT_INSERT,
	S_EVENT_COUNT,
	S_EVENT_PRUNE,
	S_EVENT_QUERY,
	S_FINDING_INSERT,
	S_FINDING_HELD,
	S_FINDING_COUNT,
	S_FINDING_PRUNE,
	S_FINDING_QUERY,
	S_DEVICE_GET,
	S_DEVICE_ADD,
	S_TENANT_GET,
	S_TENANT_ADD,
	S_OUTBOX_NEXTSEQ,
	S_DEVICE_SEQ,
	S_OUTBOX_INSERT,
	S_OUTBOX_STATS,
	S_OUTBOX_LASTSEQ,
	S_OUTBOX_QUERY,
	S_COUNT
};

/*
 * Paths compare with BINARY collation: "under home" is path = home or
 * home + "/" <= path < home + "0" ('0' follows '/').
 */
#define HOME_COND	"(?1 IS NULL OR %s = ?1 OR (%s >= ?2 AND %s < ?3))"

/* An outbox row's columns as outbox_row() reads them. */
#define OB_SELECT							\
	"SELECT o.event_id, d.device_id, t.tenant_id, o.local_seq, "	\
	"o.surface, o.kind, o.finding, o.observed_ms, o.collected_ms, "	\
	"o.payload, o.payload_hash, o.state, o.attempts, "		\
	"o.next_attempt_ms FROM outbox o "				\
	"JOIN outbox_device d ON d.ref = o.device "			\
	"LEFT JOIN outbox_tenant t ON t.ref = o.tenant "

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SURFACE_ADD] =
	    "INSERT INTO surface (name) VALUES (?1) "
	    "ON CONFLICT (name) DO NOTHING",
	[S_SURFACE_CODE] = "SELECT code FROM surface WHERE name = ?1",
	[S_SURFACE_GET] =
	    "SELECT baselined, last_scan_ms, duration_ms, item_count, "
	    "issue_count, degraded, message FROM surface WHERE code = ?1",
	[S_SURFACE_COMMIT] =
	    "UPDATE surface SET baselined = 1, last_scan_ms = ?2, "
	    "duration_ms = ?3, item_count = ?4, issue_count = ?5, "
	    "degraded = ?6, message = ?7 WHERE code = ?1",
	[S_SURFACE_FAIL] =
	    "UPDATE surface SET last_scan_ms = ?2, duration_ms = ?3, "
	    "degraded = 1, message = ?4 WHERE code = ?1",
	[S_FILE_GET] = "SELECT id FROM file WHERE path = ?1",
	[S_FILE_ADD] = "INSERT INTO file (path) VALUES (?1)",
	/* A file with rows is listed: scanned alone tells (file_rows). */
	[S_FILE_USED] =
	    "SELECT 1 FROM scanned WHERE surface = ?1 AND file = ?2",
	[S_FILE_DEL] = "DELETE FROM file WHERE id = ?1",
	[S_FILE_SWEEP] =
	    "DELETE FROM file WHERE id NOT IN (SELECT file FROM scanned)",
	[S_INV_CLEAR] = "DELETE FROM inventory WHERE id > ?1 AND id < ?2",
	/*
	 * A run of a file's rows (ids ?1 .. ?2, both excluded), for the
	 * commit's lookups (struct fcache).
	 */
	[S_INV_FIND] =
	    "SELECT id, kind, name, version, file FROM inventory "
	    "WHERE id > ?1 AND id < ?2 ORDER BY id",
	/* ?1 unused: the surface is the id's range. */
	[S_INV_INSERT] =
	    "INSERT INTO inventory (id, file, kind, name, version, "
	    "origin, installed_on_request, detail) "
	    "VALUES (?9, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_INV_INSERT_MANY] = NULL,	/* built at open: INV_BATCH rows */
	[S_INV_DELETE] = "DELETE FROM inventory WHERE id = ?1",
	/* Identity (surface, file, name, kind) does not change. */
	[S_INV_UPDATE] =
	    "UPDATE inventory SET version = ?5, origin = ?6, "
	    "installed_on_request = ?7, detail = ?8 WHERE id = ?9",
	/* ?1, ?2: the surface's id range (inv_range). */
	[S_INV_LOAD] =
	    "SELECT kind, name, version, file, origin, installed_on_request, "
	    "detail FROM inventory WHERE id > ?1 AND id < ?2 ORDER BY id",
	[S_INV_MAXID] =
	    "SELECT coalesce(max(id), ?1) FROM inventory "
	    "WHERE id > ?1 AND id < ?2",
	[S_KIND_ADD] =
	    "INSERT INTO item_kind (name) VALUES (?1) "
	    "ON CONFLICT (name) DO NOTHING",
	[S_KIND_CODE] = "SELECT code FROM item_kind WHERE name = ?1",
	[S_SCANNED_CLEAR] = "DELETE FROM scanned WHERE surface = ?1",
	/* A file's rows (file_rows): listed if it has some. */
	[S_SCANNED_ROWS] =
	    "SELECT rows FROM scanned WHERE surface = ?1 AND file = ?2",
	[S_SCANNED_SETROWS] =
	    "INSERT INTO scanned (surface, file, rows) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (surface, file) DO UPDATE SET rows = ?3",
	[S_SCANNED_NOROWS] =
	    "UPDATE scanned SET rows = NULL WHERE surface = ?1 AND file = ?2",
	[S_SCANNED_GETROWS] =
	    "SELECT s.file, s.rows FROM file f JOIN scanned s ON "
	    "s.file = f.id WHERE f.path = ?2 AND s.surface = ?1",
	[S_SCANNED_SET] =
	    "INSERT INTO scanned (surface, file, dev, ino, size, mtime_ns, "
	    "ctime_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	    "ON CONFLICT (surface, file) DO UPDATE SET dev = ?3, ino = ?4, "
	    "size = ?5, mtime_ns = ?6, ctime_ns = ?7, stale_ms = NULL, "
	    "unbaselined = 0",
	[S_SCANNED_UNSET] =
	    "INSERT INTO scanned (surface, file) VALUES (?1, ?2) "
	    "ON CONFLICT (surface, file) DO UPDATE SET dev = NULL, "
	    "ino = NULL, size = NULL, mtime_ns = NULL, ctime_ns = NULL, "
	    "stale_ms = NULL, unbaselined = 0",
	/* A failed read: read it again, its rows stale since the first. */
	[S_SCANNED_KEEP] =
	    "INSERT INTO scanned (surface, file, stale_ms, unbaselined) "
	    "VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT (surface, file) DO UPDATE SET dev = NULL, "
	    "ino = NULL, size = NULL, mtime_ns = NULL, ctime_ns = NULL, "
	    "stale_ms = coalesce(stale_ms, ?3), "
	    "unbaselined = max(unbaselined, ?4)",
	[S_SCANNED_DEL] = "DELETE FROM scanned WHERE surface = ?1 AND file = ?2",
	[S_SCANNED_LOAD] =
	    "SELECT f.path, s.dev, s.ino, s.size, s.mtime_ns, s.ctime_ns, "
	    "s.stale_ms, s.unbaselined FROM scanned s "
	    "JOIN file f ON f.id = s.file "
	    "WHERE s.surface = ?1 ORDER BY f.path",
	/* Listed for its rows only, and it has none left. */
	[S_SCANNED_IDLE] =
	    "DELETE FROM scanned WHERE surface = ?1 AND file = ?2 AND "
	    "dev IS NULL AND rows IS NULL",
	[S_ITEM_COUNT] = "SELECT item_count FROM surface WHERE code = ?1",
	[S_FILE_PATH] = "SELECT path FROM file WHERE id = ?1",
	[S_INV_QUERY] = NULL,	/* built at open: HOME_COND */
	[S_EVENT_INSERT] =
	    "INSERT INTO change_event (ts_ms, surface, kind, item_kind, "
	    "item_id, name, path, old_version, new_version, detail) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[S_EVENT_COUNT] = "SELECT count(*) FROM change_event",
	[S_EVENT_PRUNE] =
	    "DELETE FROM change_event WHERE id IN (SELECT id FROM "
	    "change_event ORDER BY ts_ms, id LIMIT ?1)",
	[S_EVENT_QUERY] = NULL,
	[S_FINDING_INSERT] =
	    "INSERT INTO finding (id, ts_ms, surface, item_id, rule_id, "
	    "title, rationale, severity, item_name, evidence_path, "
	    "evidence_detail, matched_field, matched_value) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[S_FINDING_HELD] =
	    "SELECT 1 FROM finding WHERE surface = ?1 AND item_id = ?2 AND "
	    "rule_id = ?3 LIMIT 1",
	[S_FINDING_COUNT] = "SELECT count(*) FROM finding",
	/* Newest kept by (timestamp, id) as the reference does. */
	[S_FINDING_PRUNE] =
	    "DELETE FROM finding WHERE rid IN (SELECT rid FROM finding "
	    "ORDER BY ts_ms, id LIMIT ?1)",
	[S_FINDING_QUERY] = NULL,
	[S_DEVICE_GET] = "SELECT ref FROM outbox_device WHERE device_id = ?1",
	[S_DEVICE_ADD] = "INSERT INTO outbox_device (device_id) VALUES (?1)",
	[S_TENANT_GET] = "SELECT ref FROM outbox_tenant WHERE tenant_id = ?1",
	[S_TENANT_ADD] = "INSERT INTO outbox_tenant (tenant_id) VALUES (?1)",
	[S_OUTBOX_NEXTSEQ] =
	    "SELECT max(coalesce((SELECT max(local_seq) FROM outbox "
	    "WHERE device = ?1), 0), (SELECT last_seq FROM outbox_device "
	    "WHERE ref = ?1)) + 1",
	[S_DEVICE_SEQ] =
	    "UPDATE outbox_device SET last_seq = ?2 WHERE ref = ?1",
	[S_OUTBOX_INSERT] =
	    "INSERT INTO outbox (event_id, device, tenant, local_seq, "
	    "schema_version, surface, kind, finding, observed_ms, "
	    "collected_ms, payload, payload_hash, size, state, attempts, "
	    "next_attempt_ms, created_ms, updated_ms) "
	    "VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	    "'pending', 0, NULL, ?9, ?9)",
	[S_OUTBOX_STATS] =
	    "SELECT o.state, count(*), coalesce(sum(o.size), 0), "
	    "min(o.collected_ms) FROM outbox o "
	    "LEFT JOIN outbox_device d ON d.ref = o.device "
	    "WHERE ?1 IS NULL OR d.device_id = ?1 GROUP BY o.state",
	[S_OUTBOX_LASTSEQ] =
	    "SELECT coalesce(max(o.local_seq), 0) FROM outbox o "
	    "LEFT JOIN outbox_device d ON d.ref = o.device "
	    "WHERE ?1 IS NULL OR d.device_id = ?1",
	[S_OUTBOX_QUERY] = OB_SELECT
	    "WHERE (?1 IS NULL OR d.device_id = ?1) AND o.local_seq > ?2 "
	    "ORDER BY d.device_id, o.local_seq LIMIT ?3",
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*st[S_COUNT];
	char		 path[PATH_MAX];
	int		 rebuilt;
	int64_t		 code[SURFACE_COUNT];	/* surface.code */
	int64_t		 kcode[KIND_COUNT];	/* item_kind.code */
	char		 ver[16];		/* col_version */
	/* detail_pack / detail_unpack's buffers. */
	uint8_t		*pack;
	size_t		 packcap;
	char		*unpack;
	size_t		 unpackcap;
	/* The idle checkpoint (store_checkpoint). */
	struct ev_timer	 idle;
	int		 wal_frames;	/* in the WAL after the last commit */
	struct pbuf	 pb;
	/* Random bytes for event ids, drawn from getrandom in blocks. */
	uint8_t		 rnd[4096];
	size_t		 rndoff;
	struct commit	*open;		/* a baseline in pieces */
	/* sync.outboxMaxBytes, see outbox_enforce(). */
	int64_t		 ob_max;	/* 0: no cap */
	int64_t		 ob_bytes;	/* committed payload bytes, -1: unknown */
	int64_t		 ob_added;	/* inserted by the open transaction */
	int64_t		 ob_biggest;	/* its largest payload */
	int64_t		 ob_total;	/* after enforcement, if ob_enforced */
	int		 ob_enforced;
	int		 ob_recheck;	/* the cap was lowered or set */
};

static void	store_idle(void *);
static int	wal_pages(void *, sqlite3 *, const char *, int);

/*
 * Schema migrations: migrations[v] takes version v to v + 1.
 *
 * CHECKs spell lists out with OR: SQLite evaluates "x IN (a, b, c)"
 * through a temporary b-tree opened and freed on every row, which made
 * a 300,000-row insert several times slower.
 */
#define KIND_CHECK	"kind = 'added' OR kind = 'removed' OR kind = 'modified'"

static const char *const schema_v1 =
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ") WITHOUT ROWID;"
    /* code: the small number inventory rows carry for the surface. */
    "CREATE TABLE surface ("
    "  code INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  baselined INTEGER NOT NULL DEFAULT 0,"
    "  last_scan_ms INTEGER,"
    "  duration_ms INTEGER,"
    "  item_count INTEGER NOT NULL DEFAULT 0,"
    "  issue_count INTEGER NOT NULL DEFAULT 0,"
    "  degraded INTEGER NOT NULL DEFAULT 0,"
    "  message TEXT"
    ");"
    /* Each file path once: a lockfile's 300 items share it. */
    "CREATE TABLE file ("
    "  id INTEGER PRIMARY KEY,"
    "  path TEXT NOT NULL UNIQUE"
    ");"
    /*
     * The snapshot.  Row order is the order of insertion: a baseline's
     * collector order, later additions after it.  The item id is not
     * stored: (surface, file, name) finds the rows that may carry it and
     * kind and version tell them apart.
     */
    "CREATE TABLE inventory ("
    "  id INTEGER PRIMARY KEY,"
    "  surface INTEGER NOT NULL,"
    "  file INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  version TEXT,"
    "  origin TEXT NOT NULL,"
    "  installed_on_request INTEGER"
    "    CHECK (installed_on_request = 0 OR installed_on_request = 1),"
    "  detail TEXT"
    ");"
    "CREATE INDEX inventory_key ON inventory (surface, file, name);"
    /* (surface, rowid): one surface's rows in order, without a sort. */
    "CREATE INDEX inventory_order ON inventory (surface);"
    "CREATE TABLE change_event ("
    "  id INTEGER PRIMARY KEY,"
    "  ts_ms INTEGER NOT NULL,"
    "  surface TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (" KIND_CHECK "),"
    "  item_kind TEXT NOT NULL,"
    "  item_id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  old_version TEXT,"
    "  new_version TEXT,"
    "  detail TEXT NOT NULL"
    ");"
    "CREATE INDEX change_event_ts ON change_event (ts_ms, id);"
    "CREATE TABLE finding ("
    "  rid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL,"
    "  ts_ms INTEGER NOT NULL,"
    "  surface TEXT NOT NULL,"
    "  item_id TEXT NOT NULL,"
    "  rule_id TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  rationale TEXT NOT NULL,"
    "  severity INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 3),"
    "  item_name TEXT NOT NULL,"
    "  evidence_path TEXT,"
    "  evidence_detail TEXT,"
    "  matched_field TEXT,"
    "  matched_value TEXT"
    ");"
    "CREATE INDEX finding_key ON finding (surface, item_id, rule_id);"
    "CREATE INDEX finding_ts ON finding (ts_ms, id);"
    /*
     * last_seq: the highest sequence ever given to the device, so that
     * dropping rows (an enforced outboxMaxBytes) can never make a
     * sequence come round again.
     */
    "CREATE TABLE outbox_device ("
    "  ref INTEGER PRIMARY KEY,"
    "  device_id TEXT NOT NULL UNIQUE,"
    "  last_seq INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE outbox_tenant ("
    "  ref INTEGER PRIMARY KEY,"
    "  tenant_id TEXT NOT NULL UNIQUE"
    ");"
    /*
     * PROTOCOL.md 9.1.  finding tells the drop order of an enforced
     * outboxMaxBytes (inventory first, findings last); size is the
     * payload's length for the byte accounting.
     */
    "CREATE TABLE outbox ("
    "  rid INTEGER PRIMARY KEY,"
    "  event_id TEXT NOT NULL,"
    "  device INTEGER NOT NULL,"	/* outbox_device.ref */
    "  tenant INTEGER,"			/* outbox_tenant.ref */
    "  local_seq INTEGER NOT NULL CHECK (local_seq > 0),"
    "  schema_version INTEGER NOT NULL,"
    "  surface TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (" KIND_CHECK "),"
    "  finding INTEGER NOT NULL CHECK (finding = 0 OR finding = 1),"
    "  observed_ms INTEGER NOT NULL,"
    "  collected_ms INTEGER NOT NULL,"
    "  payload BLOB NOT NULL,"
    "  payload_hash TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state = 'pending' OR "
    "    state = 'inFlight' OR state = 'acked' OR state = 'poison'),"
    "  attempts INTEGER NOT NULL,"
    "  next_attempt_ms INTEGER,"
    "  created_ms INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL"
    ");"
    "CREATE UNIQUE INDEX outbox_seq ON outbox (device, local_seq);"
    "CREATE INDEX outbox_ready ON outbox (state, next_attempt_ms, local_seq);";

/*
 * Version 2: per surface, every file that has inventory rows or was read
 * whole by the last scan that touched it, with the fingerprint it had
 * then (NULL: read it again next time).  A scan skips a file whose
 * fingerprint is unchanged, and removes the items of a listed file it no
 * longer finds.
 */
static const char *const schema_v2 =
    "CREATE TABLE scanned ("
    "  surface INTEGER NOT NULL,"
    "  file INTEGER NOT NULL,"
    "  dev INTEGER,"
    "  ino INTEGER,"
    "  size INTEGER,"
    "  mtime_ns INTEGER,"
    "  ctime_ns INTEGER,"
    "  PRIMARY KEY (surface, file)"
    ") WITHOUT ROWID;"
    "INSERT INTO scanned (surface, file) "
    "  SELECT DISTINCT surface, file FROM inventory;";

/*
 * Version 3: since when a listed file's rows are stale (its last read
 * failed and kept them), NULL while they are what the file holds; and
 * whether it failed during its surface's baseline and was never read
 * since (its first good read is its baseline, store_file).
 */
static const char *const schema_v3 =
    "ALTER TABLE scanned ADD COLUMN stale_ms INTEGER;"
    "ALTER TABLE scanned ADD COLUMN unbaselined INTEGER NOT NULL "
    "  DEFAULT 0;";

/*
 * Version 4 (issue 14): the inventory made smaller and cheaper to fill.
 * Row ids become ranges per surface (surface code << 32, plus the row's
 * place, the order kept), which replaces the index on surface; kinds
 * become codes of item_kind.  Details and versions are then packed as
 * new rows are (repack), and the file vacuumed.
 */
static const char *const schema_v4 =
    "CREATE TABLE item_kind ("
    "  code INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE"
    ");"
    "INSERT INTO item_kind (name) SELECT DISTINCT kind FROM inventory "
    "  ORDER BY kind;"
    "CREATE TABLE inventory_v4 ("
    "  id INTEGER PRIMARY KEY,"		/* surface code << 32, plus n */
    "  file INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"		/* item_kind.code */
    "  name TEXT NOT NULL,"
    "  version,"				/* TEXT, or INTEGER: version_pack */
    "  origin TEXT NOT NULL,"
    "  installed_on_request INTEGER"
    "    CHECK (installed_on_request = 0 OR installed_on_request = 1),"
    "  detail"				/* TEXT, or BLOB: detail_pack */
    ");"
    "INSERT INTO inventory_v4 SELECT i.surface * " INV_SPAN " + "
    "  row_number() OVER (PARTITION BY i.surface ORDER BY i.id), "
    "  i.file, k.code, i.name, i.version, i.origin, "
    "  i.installed_on_request, i.detail FROM inventory i "
    "  JOIN item_kind k ON k.name = i.kind ORDER BY i.surface, i.id;"
    "DROP TABLE inventory;"
    "ALTER TABLE inventory_v4 RENAME TO inventory;"
    "CREATE INDEX inventory_file ON inventory (file);";

/*
 * Version 5 (issue 14): a file's inventory rows are found by the runs of
 * ids kept in scanned.rows (file_rows), filled in by rows_fill() from
 * the index, which then goes.
 */
static const char *const schema_v5 =
    "ALTER TABLE scanned ADD COLUMN rows BLOB;";

static const char *const migrations[STORE_SCHEMA_VERSION] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
};

/* Why an open failed: only damage is a reason to move the file aside. */
enum open_rc {
	OPEN_OK,
	OPEN_CORRUPT,
	OPEN_FAIL
};

static const char *const outbox_states[] = {
	"pending", "inFlight", "acked", "poison"
};

const char *
store_outbox_state_name(enum store_outbox_state s)
{
	if ((unsigned int)s >= nitems(outbox_states))
		return (NULL);
	return (outbox_states[s]);
}

static int
outbox_state_from_name(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(outbox_states); i++)
		if (strcmp(outbox_states[i], s) == 0)
			return ((int)i);
	return (-1);
}

static int
sql_fail(struct store *st, const char *what)
{
	log_warnx("%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
	return (-1);
}

/* Run a statement that returns no rows; reset it in every case. */
static int
run(struct store *st, enum stmt_id id)
{
	sqlite3_stmt	*s = st->st[id];
	int		 rc;

	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, stmt_sql[id] ? stmt_sql[id] : "query"));
	return (0);
}

/* A statement returning one integer (or none: *v untouched, returns 0). */
static int
run_int(struct store *st, enum stmt_id id, int64_t *v)
{
	sqlite3_stmt	*s = st->st[id];
	int		 rc;

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		rc = sqlite3_step(s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, stmt_sql[id]));
	return (0);
}

/* ?1 and ?2 of a prepared statement: mostly a surface code and a file. */
static void
bind_pair(struct store *st, enum stmt_id id, int64_t a, int64_t b)
{
	sqlite3_bind_int64(st->st[id], 1, a);
	sqlite3_bind_int64(st->st[id], 2, b);
}

/* The bounds of a surface's row ids, both excluded. */
static void
inv_range(int64_t code, int64_t *lo, int64_t *hi)
{
	*lo = code << INV_SHIFT;
	*hi = (code + 1) << INV_SHIFT;
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return (sqlite3_bind_null(s, i));
	return (sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC));
}

/* Borrowed column text; NULL for SQL NULL. */
static const char *
col_text(sqlite3_stmt *s, int i)
{
	return ((const char *)sqlite3_column_text(s, i));
}

/*
 * The home filter's three parameters, starting at index i: home, home/
 * and home0.  A NULL home (or "/") leaves them NULL: no filter.
 */
struct homefilter {
	char	*exact;
	char	*lo;
	char	*hi;
};

static int
home_prepare(const char *home, struct homefilter *h)
{
	size_t	len;

	memset(h, 0, sizeof(*h));
	if (home == NULL)
		return (0);
	len = strlen(home);
	while (len > 0 && home[len - 1] == '/')
		len--;
	if (len == 0)
		return (0);	/* "/": everything is under it */
	if ((h->exact = strndup(home, len)) == NULL ||
	    asprintf(&h->lo, "%s/", h->exact) == -1 ||
	    asprintf(&h->hi, "%s0", h->exact) == -1) {
		h->lo = h->hi = NULL;
		free(h->exact);
		h->exact = NULL;
		return (-1);
	}
	return (0);
}

static void
home_bind(sqlite3_stmt *s, int i, const struct homefilter *h)
{
	bind_text(s, i, h->exact);
	bind_text(s, i + 1, h->lo);
	bind_text(s, i + 2, h->hi);
}

static void
home_free(struct homefilter *h)
{
	free(h->exact);
	free(h->lo);
	free(h->hi);
}

/*
 * Event ids: version 4 UUIDs from getrandom, drawn 4 KB at a time so a
 * 300,000-event baseline does not cost 300,000 system calls.
 */
static int
store_next_id(void *arg, char out[UUID_BUFSZ])
{
	struct store	*st = arg;
	uint8_t		 b[16];
	ssize_t		 n;
	size_t		 got;

	if (st->rndoff + sizeof(b) > sizeof(st->rnd)) {
		for (got = 0; got < sizeof(st->rnd); got += (size_t)n) {
			n = getrandom(st->rnd + got, sizeof(st->rnd) - got, 0);
			if (n == -1) {
				if (errno == EINTR) {
					n = 0;
					continue;
				}
				return (-1);
			}
		}
		st->rndoff = 0;
	}
	memcpy(b, st->rnd + st->rndoff, sizeof(b));
	st->rndoff += sizeof(b);
	uuid_format(b, out);
	return (0);
}

/*
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" to milliseconds.  Strict: the string must be
 * exactly what timefmt_ms() prints for the result.
 */
static int
parse_ts(const char *s, int64_t *ms)
{
	struct tm	 tm;
	char		 back[TIMEFMT_BUFSZ];
	int		 v[7];
	const int	 off[7] = { 0, 5, 8, 11, 14, 17, 20 };
	const int	 len[7] = { 4, 2, 2, 2, 2, 2, 3 };
	size_t		 i;
	int		 k;
	time_t		 t;

	if (s == NULL || strlen(s) != TIMEFMT_LEN)
		return (-1);
	for (i = 0; i < 7; i++) {
		v[i] = 0;
		for (k = 0; k < len[i]; k++) {
			if (s[off[i] + k] < '0' || s[off[i] + k] > '9')
				return (-1);
			v[i] = v[i] * 10 + (s[off[i] + k] - '0');
		}
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	t = timegm(&tm);
	*ms = (int64_t)t * 1000 + v[6];
	if (timefmt_ms(*ms, back) == -1 || strcmp(back, s) != 0)
		return (-1);
	return (0);
}

/*
 * detail, compactly (issue 14).  npm's detail, "resolved=<url>
 * integrity=sha512-<base64>[ scope=dev|scope=optional]", is some 170
 * bytes, of which the URL mostly repeats the row's name and version and
 * the hash spells 64 bytes in 88.  Such a detail is stored as a BLOB:
 *	flags		DT_* below
 *	resolved	NUL-terminated, unless absent or the registry's
 *			tarball URL of the row's name and version (or, for
 *			a nested package "a/node_modules/b", of b's name:
 *			schema 5)
 *	integrity	64 raw bytes for sha512, else NUL-terminated,
 *			unless absent
 * The BLOB is kept only if it unpacks to the very bytes that came
 * (detail_pack checks); any other detail is stored verbatim as TEXT.
 */
#define DT_RES_URL	0x01	/* resolved: the registry's tarball */
#define DT_RES_TEXT	0x02	/* resolved: spelt out */
#define DT_INT_SHA512	0x04	/* integrity: sha512, 64 bytes */
#define DT_INT_TEXT	0x08	/* integrity: spelt out */
#define DT_DEV		0x10	/* scope=dev */
#define DT_OPTIONAL	0x20	/* scope=optional */
#define DT_RES_NESTED	0x40	/* resolved: the tarball of nested_name() */
#define DT_KNOWN	0x7f
#define SHA512_LEN	64
#define SHA512_B64	88

static const char npm_registry[] = "https://registry.npmjs.org/";

static int
buf_room(void *bufp, size_t *cap, size_t need)
{
	void	**buf = bufp;
	void	 *nb;
	size_t	  ncap;

	if (need <= *cap)
		return (0);
	ncap = *cap ? *cap : 512;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			errno = ENOMEM;
			return (-1);
		}
		ncap *= 2;
	}
	if ((nb = realloc(*buf, ncap)) == NULL)
		return (-1);
	*buf = nb;
	*cap = ncap;
	return (0);
}

/*
 * A sha512 integrity's 88 base64 characters to its 64 bytes, strictly
 * (the only spelling b64_encode gives back: "==" and zero low bits),
 * by table: the general b64_decode was a fifth of a baseline's time.
 */
static int
sha512_decode(const char *in, uint8_t out[SHA512_LEN])
{
	static int8_t	 val[256];
	static int	 init;
	const char	*al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789+/";
	const unsigned char *p = (const unsigned char *)in;
	uint32_t	 v;
	size_t		 i, o = 0;
	int		 a, b, c, d;

	if (!init) {
		memset(val, -1, sizeof(val));
		for (i = 0; i < 64; i++)
			val[(unsigned char)al[i]] = (int8_t)i;
		init = 1;
	}
	for (i = 0; i < SHA512_B64 - 4; i += 4) {
		if ((a = val[p[i]]) < 0 || (b = val[p[i + 1]]) < 0 ||
		    (c = val[p[i + 2]]) < 0 || (d = val[p[i + 3]]) < 0)
			return (-1);
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 |
		    (uint32_t)d;
		out[o++] = v >> 16;
		out[o++] = (v >> 8) & 0xff;
		out[o++] = v & 0xff;
	}
	if ((a = val[p[i]]) < 0 || (b = val[p[i + 1]]) < 0 || (b & 0xf) ||
	    p[i + 2] != '=' || p[i + 3] != '=')
		return (-1);
	out[o] = (uint8_t)(a << 2 | b >> 4);
	return (0);
}

/*
 * The package a nested lockfile entry "a/node_modules/b" names: b (its
 * URL is b's), or NULL if the name is not nested.
 */
static const char *
nested_name(const char *name)
{
	const char	*p, *last = NULL;

	for (p = name; (p = strstr(p, "/node_modules/")) != NULL; p++)
		last = p;
	if (last == NULL || last[14] == '\0')
		return (NULL);
	return (last + 14);
}

/* Is u[0 .. len) npm's tarball URL of name@version? */
static int
is_npm_url(const char *u, size_t len, const char *name, const char *version)
{
	const char	*base, *part[7];
	size_t		 i, n;

	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	part[0] = npm_registry;
	part[1] = name;
	part[2] = "/-/";
	part[3] = base;
	part[4] = "-";
	part[5] = version;
	part[6] = ".tgz";
	for (i = 0; i < nitems(part); i++) {
		n = strlen(part[i]);
		if (len < n || memcmp(u, part[i], n) != 0)
			return (0);
		u += n;
		len -= n;
	}
	return (len == 0);
}

/* "key=value" at *p, value up to a space; moves *p past it. */
static int
detail_field(const char **p, const char *key, const char **v, size_t *len)
{
	size_t	klen = strlen(key);

	if (strncmp(*p, key, klen) != 0)
		return (0);
	*v = *p + klen;
	*len = strcspn(*v, " ");
	*p = *v + *len;
	if (**p == ' ')
		(*p)++;
	return (1);
}

/* Append n bytes of s at *o (room was made). */
static void
put(char *out, size_t *o, const char *s, size_t n)
{
	memcpy(out + *o, s, n);
	*o += n;
}

#define PUTS(out, o, s)	put((out), (o), (s), strlen(s))

/*
 * Rebuild a packed detail into st->unpack; NULL (errno EINVAL) if the
 * BLOB is not one detail_pack could have made.  Pieces are copied, not
 * printed: every snapshot load and inventory query comes here per row.
 */
static const char *
detail_unpack(struct store *st, const char *name, const char *version,
    const uint8_t *b, size_t len)
{
	const char	*res = NULL, *integ = NULL, *base = NULL;
	size_t		 off = 1, n, need, o = 0;
	uint8_t		 fl;

	if (len < 1 || ((fl = b[0]) & ~DT_KNOWN) != 0 ||
	    ((fl & DT_RES_URL) != 0) + ((fl & DT_RES_TEXT) != 0) +
	    ((fl & DT_RES_NESTED) != 0) > 1 ||
	    (fl & (DT_INT_SHA512 | DT_INT_TEXT)) ==
	    (DT_INT_SHA512 | DT_INT_TEXT) ||
	    (fl & (DT_DEV | DT_OPTIONAL)) == (DT_DEV | DT_OPTIONAL))
		goto bad;
	need = 32;
	if (fl & DT_RES_NESTED) {
		if ((name = nested_name(name)) == NULL)
			goto bad;
		fl |= DT_RES_URL;	/* the same URL, of the nested name */
	}
	if (fl & DT_RES_URL) {
		if (version == NULL)
			goto bad;
		base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		need += sizeof(npm_registry) + 2 * strlen(name) +
		    strlen(version) + 16;
	} else if (fl & DT_RES_TEXT) {
		if ((n = strnlen((const char *)b + off, len - off)) ==
		    len - off)
			goto bad;
		res = (const char *)b + off;
		off += n + 1;
		need += n;
	}
	if (fl & DT_INT_SHA512) {
		if (len - off < SHA512_LEN)
			goto bad;
		need += 7 + SHA512_B64 + 1;
	} else if (fl & DT_INT_TEXT) {
		if ((n = strnlen((const char *)b + off, len - off)) ==
		    len - off)
			goto bad;
		integ = (const char *)b + off;
		need += n;
	}
	if (buf_room(&st->unpack, &st->unpackcap, need) == -1)
		return (NULL);
	if (fl & (DT_RES_URL | DT_RES_TEXT)) {
		PUTS(st->unpack, &o, "resolved=");
		if (res != NULL)
			PUTS(st->unpack, &o, res);
		else {
			PUTS(st->unpack, &o, npm_registry);
			PUTS(st->unpack, &o, name);
			PUTS(st->unpack, &o, "/-/");
			PUTS(st->unpack, &o, base);
			PUTS(st->unpack, &o, "-");
			PUTS(st->unpack, &o, version);
			PUTS(st->unpack, &o, ".tgz");
		}
	}
	if (fl & (DT_INT_SHA512 | DT_INT_TEXT)) {
		if (o > 0)
			PUTS(st->unpack, &o, " ");
		PUTS(st->unpack, &o, "integrity=");
		if (integ != NULL) {
			PUTS(st->unpack, &o, integ);
			off += strlen(integ) + 1;
		} else {
			PUTS(st->unpack, &o, "sha512-");
			if (b64_encode(b + off, SHA512_LEN, st->unpack + o,
			    st->unpackcap - o) != SHA512_B64)
				goto bad;
			o += SHA512_B64;
			off += SHA512_LEN;
		}
	}
	if (off != len)
		goto bad;
	if (fl & (DT_DEV | DT_OPTIONAL)) {
		if (o > 0)
			PUTS(st->unpack, &o, " ");
		PUTS(st->unpack, &o, fl & DT_DEV ? "scope=dev" :
		    "scope=optional");
	}
	st->unpack[o] = '\0';
	return (st->unpack);
 bad:
	errno = EINVAL;
	return (NULL);
}

/*
 * Pack an item's detail into st->pack: its length, or 0 if it is to be
 * stored as it is (TEXT, or NULL), -1 on error.
 */
static ssize_t
detail_pack(struct store *st, const struct item *it)
{
	const char	*p = it->detail, *v, *res = NULL, *integ = NULL;
	const char	*nested;
	size_t		 len, reslen = 0, integlen = 0, off, want;
	uint8_t		 fl = 0, raw[SHA512_LEN];

	if (p == NULL || *p == '\0')
		return (0);
	if (detail_field(&p, "resolved=", &v, &len)) {
		res = v;
		reslen = len;
	}
	if (detail_field(&p, "integrity=", &v, &len)) {
		integ = v;
		integlen = len;
	}
	if (strcmp(p, "scope=dev") == 0)
		fl |= DT_DEV;
	else if (strcmp(p, "scope=optional") == 0)
		fl |= DT_OPTIONAL;
	else if (*p != '\0')
		return (0);
	/*
	 * The fields were read from the start in detail_unpack's order, so
	 * the detail is the one it rebuilds if the lengths agree (a stray
	 * space, at the end say, was skipped, not rebuilt).
	 */
	want = (res ? 9 + reslen : 0) + (integ ? 10 + integlen : 0) +
	    (res && integ) + (fl & DT_DEV ? 9 : fl & DT_OPTIONAL ? 14 : 0) +
	    ((fl & (DT_DEV | DT_OPTIONAL)) && (res || integ));
	if (want != strlen(it->detail))
		return (0);
	if (res != NULL) {
		if (it->version != NULL && is_npm_url(res, reslen, it->name,
		    it->version))
			fl |= DT_RES_URL;
		else if (it->version != NULL &&
		    (nested = nested_name(it->name)) != NULL &&
		    is_npm_url(res, reslen, nested, it->version))
			fl |= DT_RES_NESTED;
		else
			fl |= DT_RES_TEXT;
	}
	/* Strict base64: one spelling per value, the one rebuilt. */
	if (integ != NULL) {
		if (integlen == 7 + SHA512_B64 &&
		    strncmp(integ, "sha512-", 7) == 0 &&
		    sha512_decode(integ + 7, raw) == 0)
			fl |= DT_INT_SHA512;
		else
			fl |= DT_INT_TEXT;
	}
	if (buf_room(&st->pack, &st->packcap, 1 + reslen + 1 + integlen + 1)
	    == -1)
		return (-1);
	st->pack[0] = fl;
	off = 1;
	if (fl & DT_RES_TEXT) {
		memcpy(st->pack + off, res, reslen);
		st->pack[off + reslen] = '\0';
		off += reslen + 1;
	}
	if (fl & DT_INT_SHA512) {
		memcpy(st->pack + off, raw, SHA512_LEN);
		off += SHA512_LEN;
	} else if (fl & DT_INT_TEXT) {
		memcpy(st->pack + off, integ, integlen);
		st->pack[off + integlen] = '\0';
		off += integlen + 1;
	}
	/* Smaller, or not worth it. */
	return (off < strlen(it->detail) ? (ssize_t)off : 0);
}

/*
 * A version "a.b.c" of plain numbers below 1024 (no leading zero, no
 * sign) is stored as the INTEGER a << 20 | b << 10 | c: 3 or 4 bytes
 * instead of 5 to 8.  Anything else is TEXT.  -1: keep it as TEXT.
 */
#define VER_BITS	10
#define VER_MAX		((1 << VER_BITS) - 1)

static int64_t
version_pack(const char *v)
{
	int64_t		 r = 0;
	unsigned int	 part, n, k;

	if (v == NULL)
		return (-1);
	for (k = 0; k < 3; k++) {
		if (k > 0 && *v++ != '.')
			return (-1);
		if (*v < '0' || *v > '9' || (v[0] == '0' && v[1] >= '0' &&
		    v[1] <= '9'))
			return (-1);
		for (part = 0, n = 0; *v >= '0' && *v <= '9'; v++, n++) {
			part = part * 10 + (unsigned int)(*v - '0');
			if (n > 4 || part > VER_MAX)
				return (-1);
		}
		r = r << VER_BITS | part;
	}
	return (*v == '\0' ? r : -1);
}

/*
 * Column i as a version string: TEXT as it is, an INTEGER rebuilt into
 * st->ver.  NULL for SQL NULL or a value version_pack cannot have made.
 */
static const char *
col_version(struct store *st, sqlite3_stmt *q, int i)
{
	int64_t	v;

	if (sqlite3_column_type(q, i) != SQLITE_INTEGER)
		return (col_text(q, i));
	v = sqlite3_column_int64(q, i);
	if (v < 0 || v >= (int64_t)1 << (3 * VER_BITS))
		return (NULL);
	snprintf(st->ver, sizeof(st->ver), "%u.%u.%u",
	    (unsigned int)(v >> 2 * VER_BITS),
	    (unsigned int)(v >> VER_BITS) & VER_MAX,
	    (unsigned int)v & VER_MAX);
	return (st->ver);
}

/*
 * A file's rows in a surface (scanned.rows): its row ids, ascending, as
 * runs of consecutive ids, each two varints (7 bits a byte, low first):
 * the gap from the last id of the run before (from 0 for the first), and
 * the length.  A baseline's file is one run of a few bytes; a row added
 * later to a file makes a run of its own at the surface's end.  NULL:
 * no rows.
 */
struct runs {
	uint8_t	*b;
	size_t	 len;
	size_t	 cap;
	int64_t	 prev;		/* last id of the last run written */
	int64_t	 start;		/* the open run */
	int64_t	 n;		/* its length, 0: none open */
};

static void
runs_reset(struct runs *r)
{
	r->len = 0;
	r->prev = 0;
	r->n = 0;
}

static void
put_varint(uint8_t *b, size_t *o, uint64_t v)
{
	while (v >= 0x80) {
		b[(*o)++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b[(*o)++] = (uint8_t)v;
}

static int
runs_emit(struct runs *r)
{
	if (r->n == 0)
		return (0);
	if (buf_room(&r->b, &r->cap, r->len + 20) == -1)
		return (-1);
	put_varint(r->b, &r->len, (uint64_t)(r->start - r->prev));
	put_varint(r->b, &r->len, (uint64_t)r->n);
	r->prev = r->start + r->n - 1;
	r->n = 0;
	return (0);
}

/* Add an id above every id added before. */
static int
runs_add(struct runs *r, int64_t id)
{
	if (id <= r->prev || (r->n > 0 && id < r->start + r->n)) {
		errno = EINVAL;
		return (-1);
	}
	if (r->n > 0 && id == r->start + r->n) {
		r->n++;
		return (0);
	}
	if (runs_emit(r) == -1)
		return (-1);
	r->start = id;
	r->n = 1;
	return (0);
}

static int
get_varint(const uint8_t *b, size_t len, size_t *off, uint64_t *v)
{
	unsigned int	shift;

	*v = 0;
	for (shift = 0; *off < len && shift < 63; shift += 7) {
		*v |= (uint64_t)(b[*off] & 0x7f) << shift;
		if ((b[(*off)++] & 0x80) == 0)
			return (0);
	}
	return (-1);
}

/*
 * The next run of b[0 .. len) at *off, after the run that ended at
 * *prev: 1 with its first and last id in *first and *last, 0 at the end,
 * -1 if malformed or outside the ids (lo, hi).
 */
static int
runs_next(const uint8_t *b, size_t len, size_t *off, int64_t *prev,
    int64_t lo, int64_t hi, int64_t *first, int64_t *last)
{
	uint64_t	gap, n;

	if (*off == len)
		return (0);
	if (get_varint(b, len, off, &gap) == -1 ||
	    get_varint(b, len, off, &n) == -1 || gap == 0 || n == 0 ||
	    gap >= (uint64_t)(hi - *prev) || n >= (uint64_t)hi ||
	    (uint64_t)(*prev) + gap + n - 1 >= (uint64_t)hi)
		return (-1);
	*first = *prev + (int64_t)gap;
	*last = *first + (int64_t)n - 1;
	if (*first <= lo)
		return (-1);
	*prev = *last;
	return (1);
}

/* Opening. */

static int
check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat	sb;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	if (lstat(dir, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return (-1);
	}
	/* Anyone else able to write there could swap the database. */
	if (sb.st_uid != geteuid() || (sb.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s: must be owned by uid %u and not "
		    "group or world writable", dir, (unsigned int)geteuid());
		return (-1);
	}
	return (0);
}

/* Create the file 0600 ourselves: SQLite would honour the umask. */
static int
check_file(const char *path, char *err, size_t errlen)
{
	struct stat	sb;
	int		fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: not a regular file owned by uid "
		    "%u", path, (unsigned int)geteuid());
		close(fd);
		return (-1);
	}
	if ((sb.st_mode & 07777) != 0600 && fchmod(fd, 0600) == -1) {
		snprintf(err, errlen, "%s: chmod: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

static enum open_rc
classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return (OPEN_CORRUPT);
	default:
		return (OPEN_FAIL);
	}
}

static enum open_rc
exec_sql(struct store *st, const char *sql, const char *what, char *err,
    size_t errlen)
{
	int	rc;

	if ((rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL)) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s: %s", st->path, what,
		    sqlite3_errmsg(st->db));
		return (classify(rc));
	}
	return (OPEN_OK);
}

/* One text value from a PRAGMA (or NULL row). */
static enum open_rc
pragma_text(struct store *st, const char *sql, char *out, size_t outlen,
    char *err, size_t errlen)
{
	sqlite3_stmt	*s;
	const char	*v;
	int		 rc;

	out[0] = '\0';
	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s: %s", st->path, sql,
		    sqlite3_errmsg(st->db));
		return (classify(rc));
	}
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((v = col_text(s, 0)) != NULL)
			strlcpy(out, v, outlen);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			;
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s: %s", st->path, sql,
		    sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
		return (classify(rc));
	}
	sqlite3_finalize(s);
	return (OPEN_OK);
}

/*
 * SQL functions for the move to schema 4: a row's detail and version as
 * a commit would store them now (as they are if not packable).
 */
static void
sql_pack_detail(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct store	*st = sqlite3_user_data(ctx);
	struct item	 it;
	ssize_t		 n;

	(void)argc;
	memset(&it, 0, sizeof(it));
	if (sqlite3_value_type(argv[0]) == SQLITE_TEXT &&
	    sqlite3_value_type(argv[2]) == SQLITE_TEXT) {
		it.name = (char *)sqlite3_value_text(argv[0]);
		if (sqlite3_value_type(argv[1]) == SQLITE_TEXT)
			it.version = (char *)sqlite3_value_text(argv[1]);
		it.detail = (char *)sqlite3_value_text(argv[2]);
	}
	if (it.name == NULL || it.detail == NULL ||
	    (n = detail_pack(st, &it)) <= 0)
		sqlite3_result_value(ctx, argv[2]);
	else
		sqlite3_result_blob(ctx, st->pack, (int)n, SQLITE_TRANSIENT);
}

static void
sql_pack_version(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int64_t	v = -1;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_TEXT)
		v = version_pack((const char *)sqlite3_value_text(argv[0]));
	if (v >= 0)
		sqlite3_result_int64(ctx, v);
	else
		sqlite3_result_value(ctx, argv[0]);
}

/* Inside the migration to 4: the old rows stored as new ones are. */
static enum open_rc
repack(struct store *st, char *err, size_t errlen)
{
	enum open_rc	orc;

	if (sqlite3_create_function(st->db, "kobangd_pack_detail", 3,
	    SQLITE_UTF8, st, sql_pack_detail, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(st->db, "kobangd_pack_version", 1,
	    SQLITE_UTF8, st, sql_pack_version, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", st->path,
		    sqlite3_errmsg(st->db));
		return (OPEN_FAIL);
	}
	/* The expressions see the row's old values, the version's text. */
	orc = exec_sql(st, "UPDATE inventory SET "
	    "detail = kobangd_pack_detail(name, version, detail), "
	    "version = kobangd_pack_version(version) "
	    "WHERE typeof(detail) = 'text' OR typeof(version) = 'text'",
	    "packing the inventory", err, errlen);
	sqlite3_create_function(st->db, "kobangd_pack_detail", 3, SQLITE_UTF8,
	    NULL, NULL, NULL, NULL);
	sqlite3_create_function(st->db, "kobangd_pack_version", 1,
	    SQLITE_UTF8, NULL, NULL, NULL, NULL);
	return (orc);
}

/*
 * Inside the migration to 5: each listed file's rows as runs (the index
 * on file still there to read them by), then the index goes.
 */
static enum open_rc
rows_fill(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt	*q = NULL, *u = NULL;
	struct runs	 r;
	int64_t		 id, file, code, lastfile = 0, lastcode = 0;
	enum open_rc	 orc = OPEN_FAIL;
	int		 rc, urc;

	/*
	 * Only a row that cannot be is damage (the file is moved aside);
	 * SQLite's errors are classified, memory is a plain failure.
	 */
	memset(&r, 0, sizeof(r));
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT id, file FROM "
	    "inventory INDEXED BY inventory_file ORDER BY file, id", -1, &q,
	    NULL)) != SQLITE_OK || (rc = sqlite3_prepare_v2(st->db,
	    stmt_sql[S_SCANNED_SETROWS], -1, &u, NULL)) != SQLITE_OK)
		goto sqlerr;
	for (;;) {
		rc = sqlite3_step(q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto sqlerr;
		id = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
		file = rc == SQLITE_ROW ? sqlite3_column_int64(q, 1) : 0;
		code = id >> INV_SHIFT;
		if (lastfile != 0 && (rc == SQLITE_DONE || file != lastfile ||
		    code != lastcode)) {
			if (runs_emit(&r) == -1)
				goto syserr;
			sqlite3_bind_int64(u, 1, lastcode);
			sqlite3_bind_int64(u, 2, lastfile);
			sqlite3_bind_blob(u, 3, r.b, (int)r.len, SQLITE_STATIC);
			if ((urc = sqlite3_step(u)) != SQLITE_DONE) {
				rc = urc;
				goto sqlerr;
			}
			sqlite3_reset(u);
			runs_reset(&r);
		}
		if (rc == SQLITE_DONE)
			break;
		if (id <= 0) {
			errno = EINVAL;
			goto syserr;
		}
		if (runs_add(&r, id) == -1)
			goto syserr;
		lastfile = file;
		lastcode = code;
	}
	orc = exec_sql(st, "DROP INDEX inventory_file", "migration", err,
	    errlen);
	goto out;
 sqlerr:
	orc = classify(rc);
	snprintf(err, errlen, "%s: migration: %s", st->path,
	    sqlite3_errmsg(st->db));
	goto out;
 syserr:
	orc = errno == ENOMEM ? OPEN_FAIL : OPEN_CORRUPT;
	snprintf(err, errlen, "%s: migration: %s", st->path, errno == ENOMEM ?
	    strerror(errno) : "an inventory row id out of order or range");
 out:
	sqlite3_finalize(q);
	sqlite3_finalize(u);
	free(r.b);
	return (orc);
}

static enum open_rc
migrate(struct store *st, char *err, size_t errlen)
{
	char		 buf[64], sql[64];
	const char	*errstr;
	long long	 v;
	enum open_rc	 orc;
	int		 fresh;

	if ((orc = pragma_text(st, "PRAGMA user_version", buf, sizeof(buf),
	    err, errlen)) != OPEN_OK)
		return (orc);
	v = strtonum(buf, 0, INT_MAX, &errstr);
	if (errstr != NULL) {
		snprintf(err, errlen, "%s: schema version %s: %s", st->path,
		    buf, errstr);
		return (OPEN_CORRUPT);
	}
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: schema version %lld is newer than "
		    "this kobangd knows (%d); refusing to use it", st->path, v,
		    STORE_SCHEMA_VERSION);
		return (OPEN_FAIL);
	}
	fresh = v == 0;
	for (; v < STORE_SCHEMA_VERSION; v++) {
		if ((orc = exec_sql(st, "BEGIN IMMEDIATE", "begin migration",
		    err, errlen)) != OPEN_OK)
			return (orc);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
		    v + 1);
		/*
		 * A failing migration means the file is not the database we
		 * think it is (e.g. tables already there at version 0).
		 */
		if ((orc = exec_sql(st, migrations[v], "migration", err,
		    errlen)) != OPEN_OK ||
		    (v + 1 == 4 && (orc = repack(st, err, errlen)) !=
		    OPEN_OK) ||
		    (v + 1 == 5 && (orc = rows_fill(st, err, errlen)) !=
		    OPEN_OK) ||
		    (orc = exec_sql(st, sql, "set version", err, errlen)) !=
		    OPEN_OK ||
		    (orc = exec_sql(st, "COMMIT", "commit migration", err,
		    errlen)) != OPEN_OK) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return (orc == OPEN_FAIL ? OPEN_CORRUPT : orc);
		}
		if (fresh && v + 1 == STORE_SCHEMA_VERSION)
			log_debug("%s: created (schema version %d)", st->path,
			    STORE_SCHEMA_VERSION);
		else if (!fresh)
			log_info("%s: schema migrated to version %lld",
			    st->path, v + 1);
		/* The old inventory's pages are free: give them back. */
		if (!fresh && v + 1 == 4 && (orc = exec_sql(st, "VACUUM",
		    "vacuum", err, errlen)) != OPEN_OK)
			return (orc);
	}
	return (OPEN_OK);
}

static char *
build_query(enum stmt_id id)
{
	char	*sql = NULL, *row;
	int	 rc = -1, i, b;

	switch (id) {
	case S_INV_INSERT_MANY:
		/* Row r as S_INV_INSERT's parameters, r * 9 beyond them. */
		for (i = 0; i < INV_BATCH; i++) {
			b = i * 9;
			if (asprintf(&row, "%s%s(?%d, ?%d, ?%d, ?%d, ?%d, "
			    "?%d, ?%d, ?%d)", sql ? sql : "INSERT INTO inventory "
			    "(id, file, kind, name, version, origin, "
			    "installed_on_request, detail) VALUES ",
			    i ? ", " : "", b + 9, b + 2, b + 3, b + 4, b + 5,
			    b + 6, b + 7, b + 8) == -1) {
				free(sql);
				return (NULL);
			}
			free(sql);
			sql = row;
		}
		return (sql);
	case S_INV_QUERY:
		rc = asprintf(&sql,
		    "SELECT i.kind, i.name, i.version, f.path, i.origin, "
		    "i.installed_on_request, i.detail, s.stale_ms "
		    "FROM inventory i JOIN file f ON f.id = i.file "
		    "LEFT JOIN scanned s ON s.surface = ?6 AND "
		    "s.file = i.file "
		    "WHERE i.id > ?4 AND i.id < ?5 AND " HOME_COND
		    " ORDER BY i.id",
		    "f.path", "f.path", "f.path");
		break;
	case S_EVENT_QUERY:
		rc = asprintf(&sql,
		    "SELECT id, ts_ms, surface, kind, item_kind, item_id, "
		    "name, path, old_version, new_version, detail "
		    "FROM change_event WHERE " HOME_COND " "
		    "ORDER BY ts_ms DESC, id DESC LIMIT ?4",
		    "path", "path", "path");
		break;
	case S_FINDING_QUERY:
		rc = asprintf(&sql,
		    "SELECT id, ts_ms, surface, item_id, rule_id, title, "
		    "rationale, severity, item_name, evidence_path, "
		    "evidence_detail, matched_field, matched_value "
		    "FROM finding WHERE severity >= ?4 AND " HOME_COND
		    " ORDER BY ts_ms DESC, rid DESC LIMIT ?5",
		    "evidence_path", "evidence_path", "evidence_path");
		break;
	default:
		break;
	}
	return (rc == -1 ? NULL : sql);
}

static enum open_rc
prepare_all(struct store *st, char *err, size_t errlen)
{
	char	*built;
	int	 i, rc;

	for (i = 0; i < S_COUNT; i++) {
		built = NULL;
		if (stmt_sql[i] == NULL && (built = build_query(i)) == NULL) {
			snprintf(err, errlen, "%s: out of memory", st->path);
			return (OPEN_FAIL);
		}
		rc = sqlite3_prepare_v3(st->db, built ? built : stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->st[i], NULL);
		free(built);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "%s: preparing statement %d: %s",
			    st->path, i, sqlite3_errmsg(st->db));
			/* Our tables are not what they should be. */
			return ((rc & 0xff) == SQLITE_ERROR ? OPEN_CORRUPT :
			    classify(rc));
		}
	}
	return (OPEN_OK);
}

static void
close_db(struct store *st)
{
	int	i;

	for (i = 0; i < S_COUNT; i++) {
		sqlite3_finalize(st->st[i]);
		st->st[i] = NULL;
	}
	if (st->db != NULL)
		sqlite3_close(st->db);
	st->db = NULL;
}

/* Every surface and item kind has its row; remember the codes. */
static enum open_rc
surface_codes(struct store *st, char *err, size_t errlen)
{
	int	s;

	for (s = 0; s < SURFACE_COUNT; s++) {
		st->code[s] = 0;
		bind_text(st->st[S_SURFACE_ADD], 1, surface_name(s));
		bind_text(st->st[S_SURFACE_CODE], 1, surface_name(s));
		if (run(st, S_SURFACE_ADD) == -1 ||
		    run_int(st, S_SURFACE_CODE, &st->code[s]) == -1 ||
		    st->code[s] == 0) {
			snprintf(err, errlen, "%s: surface table: %s", st->path,
			    sqlite3_errmsg(st->db));
			return (OPEN_FAIL);
		}
	}
	for (s = 0; s < KIND_COUNT; s++) {
		st->kcode[s] = 0;
		bind_text(st->st[S_KIND_ADD], 1, item_kind_name(s));
		bind_text(st->st[S_KIND_CODE], 1, item_kind_name(s));
		if (run(st, S_KIND_ADD) == -1 ||
		    run_int(st, S_KIND_CODE, &st->kcode[s]) == -1 ||
		    st->kcode[s] == 0) {
			snprintf(err, errlen, "%s: item_kind table: %s",
			    st->path, sqlite3_errmsg(st->db));
			return (OPEN_FAIL);
		}
	}
	return (OPEN_OK);
}

static enum open_rc
try_open(struct store *st, char *err, size_t errlen)
{
	char		 buf[128];
	enum open_rc	 orc;
	int		 rc;

	if (check_file(st->path, err, errlen) == -1)
		return (OPEN_FAIL);
	rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", st->path,
		    st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		return (classify(rc));
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	/*
	 * A new database's pages: 16 KiB writes a baseline's 34 MB in a
	 * quarter of the WAL frames (two writes each) and B-tree pages of
	 * 4 KiB; an existing database keeps its size (SQLite ignores it).
	 */
	if ((orc = exec_sql(st, "PRAGMA page_size = " STORE_PAGE_SIZE,
	    "page size", err, errlen)) != OPEN_OK)
		return (orc);
	if ((orc = pragma_text(st, "PRAGMA journal_mode = WAL", buf,
	    sizeof(buf), err, errlen)) != OPEN_OK)
		return (orc);
	if (strcmp(buf, "wal") != 0) {
		snprintf(err, errlen, "%s: cannot use WAL (journal mode %s)",
		    st->path, buf);
		return (OPEN_FAIL);
	}
	if ((orc = pragma_text(st, "PRAGMA quick_check", buf, sizeof(buf),
	    err, errlen)) != OPEN_OK)
		return (orc);
	if (strcmp(buf, "ok") != 0) {
		/* Its first complaint is enough for the log. */
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(err, errlen, "%s: quick_check: %s", st->path, buf);
		return (OPEN_CORRUPT);
	}
	snprintf(buf, sizeof(buf), "PRAGMA synchronous = NORMAL; "
	    "PRAGMA journal_size_limit = %d;", STORE_WAL_LIMIT);
	if ((orc = exec_sql(st, buf, "pragmas", err, errlen)) != OPEN_OK)
		return (orc);
	/*
	 * Our hook replaces SQLite's automatic checkpoint inside COMMIT:
	 * committed() schedules it instead.
	 */
	sqlite3_wal_hook(st->db, wal_pages, st);
	if ((orc = migrate(st, err, errlen)) != OPEN_OK)
		return (orc);
	if ((orc = prepare_all(st, err, errlen)) != OPEN_OK)
		return (orc);
	return (surface_codes(st, err, errlen));
}

/* Rename path+suffix to aside+suffix if it exists. */
static int
move_one(const char *path, const char *aside, const char *suffix)
{
	char	from[PATH_MAX], to[PATH_MAX];

	if ((size_t)snprintf(from, sizeof(from), "%s%s", path, suffix) >=
	    sizeof(from) ||
	    (size_t)snprintf(to, sizeof(to), "%s%s", aside, suffix) >=
	    sizeof(to)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if (rename(from, to) == -1 && errno != ENOENT)
		return (-1);
	return (0);
}

static int
move_aside(const char *path, char *aside, size_t asidelen)
{
	struct stat	 sb;
	struct tm	 tm;
	time_t		 now;
	char		 stamp[32];
	int		 i;

	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return (-1);
	for (i = 0; i < STORE_MAX_ASIDE; i++) {
		if (i == 0)
			snprintf(aside, asidelen, "%s.corrupt-%s", path, stamp);
		else
			snprintf(aside, asidelen, "%s.corrupt-%s.%d", path,
			    stamp, i);
		if (lstat(aside, &sb) == -1 && errno == ENOENT)
			break;
	}
	if (i == STORE_MAX_ASIDE) {
		errno = EEXIST;
		return (-1);
	}
	/* The WAL first: a main file without its WAL is still consistent. */
	if (move_one(path, aside, "-wal") == -1 ||
	    move_one(path, aside, "-shm") == -1 ||
	    move_one(path, aside, "") == -1)
		return (-1);
	return (0);
}

struct store *
store_open(const char *dir, char *err, size_t errlen)
{
	struct store	*st;
	char		 aside[PATH_MAX + 64];
	enum open_rc	 orc;

	if (errlen > 0)
		err[0] = '\0';
	if (check_dir(dir, err, errlen) == -1)
		return (NULL);
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (NULL);
	}
	st->rndoff = sizeof(st->rnd);
	st->ob_bytes = -1;
	ev_timer_init(&st->idle, store_idle, st);
	pbuf_init(&st->pb);
	if ((size_t)snprintf(st->path, sizeof(st->path), "%s/%s", dir,
	    STORE_DBNAME) >= sizeof(st->path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		free(st);
		return (NULL);
	}
	if ((orc = try_open(st, err, errlen)) == OPEN_CORRUPT) {
		close_db(st);
		if (move_aside(st->path, aside, sizeof(aside)) == -1) {
			snprintf(err, errlen, "%s: damaged, and moving it "
			    "aside failed: %s", st->path, strerror(errno));
			free(st);
			return (NULL);
		}
		log_warnx("%s; moved aside to %s, starting a fresh database "
		    "(every surface gets a new baseline)", err, aside);
		st->rebuilt = 1;
		err[0] = '\0';
		orc = try_open(st, err, errlen);
	}
	if (orc != OPEN_OK) {
		close_db(st);
		pbuf_free(&st->pb);
		free(st);
		return (NULL);
	}
	if (sha256_preload() == -1) {
		snprintf(err, errlen, "SHA-256 not available from libcrypto");
		close_db(st);
		free(st);
		return (NULL);
	}
	return (st);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	ev_timer_del(&st->idle);
	store_baseline_abort(st);
	if (st->db != NULL &&
	    sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    NULL, NULL) != SQLITE_OK)
		log_warnx("%s: checkpoint: %s", st->path,
		    sqlite3_errmsg(st->db));
	close_db(st);
	pbuf_free(&st->pb);
	free(st->pack);
	free(st->unpack);
	free(st);
}

int
store_rebuilt(const struct store *st)
{
	return (st->rebuilt);
}

const char *
store_path(const struct store *st)
{
	return (st->path);
}

/* Snapshot and surface state. */

static int
surface_ok(enum surface s)
{
	if ((unsigned int)s >= SURFACE_COUNT) {
		log_warnx("store: surface %d out of range", (int)s);
		errno = EINVAL;
		return (0);
	}
	return (1);
}

int
store_baselined(struct store *st, enum surface s)
{
	sqlite3_stmt	*q = st->st[S_SURFACE_GET];
	int		 rc, v = 0;

	if (!surface_ok(s))
		return (-1);
	sqlite3_bind_int64(q, 1, st->code[s]);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		v = sqlite3_column_int(q, 0) != 0;
		rc = sqlite3_step(q);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, "baseline marker"));
	return (v);
}

int
store_item_count(struct store *st, enum surface s, int64_t *n)
{
	*n = 0;
	if (!surface_ok(s))
		return (-1);
	sqlite3_bind_int64(st->st[S_ITEM_COUNT], 1, st->code[s]);
	return (run_int(st, S_ITEM_COUNT, n));
}

/*
 * A loaded snapshot keeps all its strings in one allocation (a lockfile's
 * items even share their path string); its address rides in the unused
 * slot after the last item.
 */
void
store_items_free(struct item *v, size_t n)
{
	if (v == NULL)
		return;
	free(v[n].name);
	free(v);
}

/*
 * Fill an item from a row of (kind, name, version, path, origin,
 * installed_on_request, detail), borrowing the strings.
 */
static int
row_item(struct store *st, sqlite3_stmt *q, enum surface s, struct item *it)
{
	int64_t	code;
	int	kind;

	memset(it, 0, sizeof(*it));
	it->surface = s;
	/* The type first: reading it as an integer would convert it. */
	kind = KIND_COUNT;
	if (sqlite3_column_type(q, 0) == SQLITE_INTEGER) {
		code = sqlite3_column_int64(q, 0);
		for (kind = 0; kind < KIND_COUNT; kind++)
			if (st->kcode[kind] == code)
				break;
	}
	if (kind == KIND_COUNT) {
		log_warnx("%s: inventory row with unknown kind", st->path);
		errno = EINVAL;
		return (-1);
	}
	it->kind = kind;
	it->installed_on_request = sqlite3_column_type(q, 5) == SQLITE_NULL ?
	    ITEM_BOOL_NIL : sqlite3_column_int(q, 5) != 0;
	it->name = (char *)col_text(q, 1);
	if ((it->version = (char *)col_version(st, q, 2)) == NULL &&
	    sqlite3_column_type(q, 2) != SQLITE_NULL) {
		log_warnx("%s: inventory row with a malformed version",
		    st->path);
		errno = EINVAL;
		return (-1);
	}
	it->path = (char *)col_text(q, 3);
	it->origin = (char *)col_text(q, 4);
	if (it->name == NULL || it->path == NULL || it->origin == NULL) {
		log_warnx("%s: inventory row with a missing field", st->path);
		errno = EINVAL;
		return (-1);
	}
	if (sqlite3_column_type(q, 6) != SQLITE_BLOB)
		it->detail = (char *)col_text(q, 6);
	else if ((it->detail = (char *)detail_unpack(st, it->name,
	    it->version, sqlite3_column_blob(q, 6),
	    (size_t)sqlite3_column_bytes(q, 6))) == NULL) {
		log_warnx("%s: inventory row with a malformed detail",
		    st->path);
		return (-1);
	}
	return (0);
}

struct arena {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

/* Append s with its NUL; *off is where it went, plus one (0: NULL). */
static int
arena_add(struct arena *a, const char *s, size_t *off)
{
	size_t	 n, ncap;
	char	*nb;

	*off = 0;
	if (s == NULL)
		return (0);
	n = strlen(s) + 1;
	if (a->cap - a->len < n) {
		ncap = a->cap ? a->cap : 65536;
		while (ncap - a->len < n) {
			if (ncap > SIZE_MAX / 2) {
				errno = ENOMEM;
				return (-1);
			}
			ncap *= 2;
		}
		if ((nb = realloc(a->buf, ncap)) == NULL)
			return (-1);
		a->buf = nb;
		a->cap = ncap;
	}
	memcpy(a->buf + a->len, s, n);
	*off = a->len + 1;
	a->len += n;
	return (0);
}

/*
 * While loading, a string field holds its arena offset plus one (the
 * arena moves as it grows); fix them up into pointers at the end.
 */
#define OFF2PTR(o)	((char *)(uintptr_t)(o))
#define PTR2OFF(p)	((size_t)(uintptr_t)(p))

static char *
arena_ptr(const struct arena *a, char *field)
{
	size_t	off = PTR2OFF(field);

	return (off == 0 ? NULL : a->buf + off - 1);
}

/*
 * A copy of the runs of a file's rows (none: *b NULL, *len 0) from a
 * bound S_SCANNED_ROWS, or S_SCANNED_GETROWS, which finds the file by
 * path and puts its id in *file.
 */
static int
rows_of(struct store *st, enum stmt_id id, uint8_t **b, size_t *len,
    int64_t *file)
{
	sqlite3_stmt	*q = st->st[id];
	const void	*p;
	int		 rc, col = id == S_SCANNED_GETROWS ? 1 : 0;

	*b = NULL;
	*len = 0;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (file != NULL)
			*file = sqlite3_column_int64(q, 0);
		if (sqlite3_column_type(q, col) == SQLITE_BLOB &&
		    (*len = (size_t)sqlite3_column_bytes(q, col)) > 0) {
			p = sqlite3_column_blob(q, col);
			if (p == NULL || (*b = malloc(*len)) == NULL) {
				sqlite3_reset(q);
				log_warn("%s: inventory rows", st->path);
				return (-1);
			}
			memcpy(*b, p, *len);
		} else if (sqlite3_column_type(q, col) != SQLITE_NULL) {
			sqlite3_reset(q);
			log_warnx("%s: malformed inventory rows", st->path);
			errno = EINVAL;
			return (-1);
		}
		rc = sqlite3_step(q);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, "inventory rows"));
	return (0);
}

/* Rows loaded into one array (load_run), their strings in an arena. */
struct loader {
	struct item	*v;
	size_t		 n;
	size_t		 cap;
	struct arena	 a;
	int64_t		 lastfile;
	size_t		 pathoff;
};

/*
 * Add the rows of a bound query q (see S_INV_LOAD), each of the file
 * want if it is not 0.
 */
static int
load_run(struct store *st, sqlite3_stmt *q, enum surface s, int64_t want,
    struct loader *l)
{
	struct item	*nv, it;
	size_t		 off[4];
	int64_t		 file;
	const char	*path;
	int		 rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		/* One spare slot for the arena's address. */
		if (l->n + 1 >= l->cap) {
			l->cap = l->cap ? l->cap * 2 : 256;
			if ((nv = reallocarray(l->v, l->cap, sizeof(*nv))) ==
			    NULL)
				goto fail;
			l->v = nv;
		}
		file = sqlite3_column_int64(q, 3);
		if (want != 0 && file != want) {
			log_warnx("%s: malformed inventory row", st->path);
			errno = EINVAL;
			goto fail;
		}
		if (file != l->lastfile) {
			sqlite3_bind_int64(st->st[S_FILE_PATH], 1, file);
			rc = sqlite3_step(st->st[S_FILE_PATH]);
			path = rc == SQLITE_ROW ?
			    col_text(st->st[S_FILE_PATH], 0) : NULL;
			if (path == NULL || arena_add(&l->a, path,
			    &l->pathoff) == -1) {
				sqlite3_reset(st->st[S_FILE_PATH]);
				log_warnx("%s: inventory row without its file",
				    st->path);
				goto fail;
			}
			sqlite3_reset(st->st[S_FILE_PATH]);
			l->lastfile = file;
		}
		/* The path column is the file id; the arena has the path. */
		if (row_item(st, q, s, &it) == -1)
			goto fail;
		if (arena_add(&l->a, it.name, &off[0]) == -1 ||
		    arena_add(&l->a, it.version, &off[1]) == -1 ||
		    arena_add(&l->a, it.origin, &off[2]) == -1 ||
		    arena_add(&l->a, it.detail, &off[3]) == -1)
			goto fail;
		it.name = OFF2PTR(off[0]);
		it.version = OFF2PTR(off[1]);
		it.origin = OFF2PTR(off[2]);
		it.detail = OFF2PTR(off[3]);
		it.path = OFF2PTR(l->pathoff);
		l->v[l->n++] = it;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		sql_fail(st, "loading the snapshot");
		return (-1);
	}
	return (0);
 fail:
	sqlite3_reset(q);
	log_warn("%s: loading the snapshot", st->path);
	return (-1);
}

static void
load_free(struct loader *l)
{
	free(l->a.buf);
	free(l->v);
}

/* The loaded rows to *out, the arena's address after the last. */
static void
load_done(struct loader *l, struct item **out, size_t *nout)
{
	size_t	i;

	if (l->n == 0) {
		load_free(l);
		return;
	}
	for (i = 0; i < l->n; i++) {
		l->v[i].name = arena_ptr(&l->a, l->v[i].name);
		l->v[i].version = arena_ptr(&l->a, l->v[i].version);
		l->v[i].path = arena_ptr(&l->a, l->v[i].path);
		l->v[i].origin = arena_ptr(&l->a, l->v[i].origin);
		l->v[i].detail = arena_ptr(&l->a, l->v[i].detail);
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n].name = l->a.buf;
	*out = l->v;
	*nout = l->n;
}

int
store_load_snapshot(struct store *st, enum surface s, struct item **out,
    size_t *nout)
{
	struct loader	 l;
	int64_t		 lo, hi;

	*out = NULL;
	*nout = 0;
	if (!surface_ok(s))
		return (-1);
	inv_range(st->code[s], &lo, &hi);
	bind_pair(st, S_INV_LOAD, lo, hi);
	memset(&l, 0, sizeof(l));
	if (load_run(st, st->st[S_INV_LOAD], s, 0, &l) == -1) {
		load_free(&l);
		return (-1);
	}
	load_done(&l, out, nout);
	return (0);
}

/* A file's rows, in row order: its runs of ids (file_rows) in turn. */
int
store_load_file_items(struct store *st, enum surface s, const char *path,
    struct item **out, size_t *nout)
{
	sqlite3_stmt	*q = st->st[S_SCANNED_GETROWS];
	struct loader	 l;
	uint8_t		*b;
	size_t		 len, off = 0, had;
	int64_t		 file = 0, lo, hi, prev = 0, first, last;
	int		 more, rc;

	*out = NULL;
	*nout = 0;
	if (!surface_ok(s) || path == NULL)
		return (-1);
	sqlite3_bind_int64(q, 1, st->code[s]);
	bind_text(q, 2, path);
	rc = rows_of(st, S_SCANNED_GETROWS, &b, &len, &file);
	sqlite3_clear_bindings(q);
	if (rc == -1)
		return (-1);
	inv_range(st->code[s], &lo, &hi);
	memset(&l, 0, sizeof(l));
	while ((more = runs_next(b, len, &off, &prev, lo, hi, &first,
	    &last)) == 1) {
		bind_pair(st, S_INV_LOAD, first - 1, last + 1);
		had = l.n;
		if (load_run(st, st->st[S_INV_LOAD], s, file, &l) == -1)
			goto fail;
		/* Every id of the run is a row of the file. */
		if ((int64_t)(l.n - had) != last - first + 1) {
			log_warnx("%s: malformed inventory rows", st->path);
			errno = EINVAL;
			goto fail;
		}
	}
	if (more == -1) {
		log_warnx("%s: malformed inventory rows", st->path);
		errno = EINVAL;
		goto fail;
	}
	free(b);
	load_done(&l, out, nout);
	return (0);
 fail:
	free(b);
	load_free(&l);
	return (-1);
}

void
store_files_free(struct store_file *v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

int
store_load_files(struct store *st, enum surface s, struct store_file **out,
    size_t *nout)
{
	sqlite3_stmt		*q = st->st[S_SCANNED_LOAD];
	struct store_file	*v = NULL, *nv;
	const char		*path;
	size_t			 n = 0, cap = 0;
	int			 rc;

	*out = NULL;
	*nout = 0;
	if (!surface_ok(s))
		return (-1);
	sqlite3_bind_int64(q, 1, st->code[s]);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL)
				goto fail;
			v = nv;
		}
		if ((path = col_text(q, 0)) == NULL) {
			log_warnx("%s: scanned file without a path", st->path);
			errno = EINVAL;
			goto fail;
		}
		memset(&v[n], 0, sizeof(v[n]));
		if ((v[n].path = strdup(path)) == NULL)
			goto fail;
		/* A fingerprint is all five fields or none. */
		v[n].state = STORE_FP_UNSET;
		if (sqlite3_column_type(q, 1) != SQLITE_NULL &&
		    sqlite3_column_type(q, 2) != SQLITE_NULL &&
		    sqlite3_column_type(q, 3) != SQLITE_NULL &&
		    sqlite3_column_type(q, 4) != SQLITE_NULL &&
		    sqlite3_column_type(q, 5) != SQLITE_NULL) {
			v[n].state = STORE_FP_SET;
			v[n].fp.dev = sqlite3_column_int64(q, 1);
			v[n].fp.ino = sqlite3_column_int64(q, 2);
			v[n].fp.size = sqlite3_column_int64(q, 3);
			v[n].fp.mtime_ns = sqlite3_column_int64(q, 4);
			v[n].fp.ctime_ns = sqlite3_column_int64(q, 5);
		}
		if (sqlite3_column_type(q, 6) != SQLITE_NULL)
			v[n].stale_ms = sqlite3_column_int64(q, 6);
		v[n].unbaselined = sqlite3_column_int(q, 7) != 0;
		n++;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		store_files_free(v, n);
		return (sql_fail(st, "loading the scanned files"));
	}
	*out = v;
	*nout = n;
	return (0);
 fail:
	sqlite3_reset(q);
	log_warn("%s: loading the scanned files", st->path);
	store_files_free(v, n);
	return (-1);
}

int
store_held(void *arg, enum surface s, const char *item_id,
    const char *rule_id)
{
	struct store	*st = arg;
	sqlite3_stmt	*q = st->st[S_FINDING_HELD];
	int		 rc, held = 0;

	if (!surface_ok(s) || item_id == NULL || rule_id == NULL)
		return (-1);
	bind_text(q, 1, surface_name(s));
	bind_text(q, 2, item_id);
	bind_text(q, 3, rule_id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		held = 1;
		rc = SQLITE_DONE;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, "finding lookup"));
	return (held);
}

/*
 * sync.outboxMaxBytes (spec/README.md: enforced, unlike the reference).
 * The cap bounds the payload bytes of every outbox row stored, in any
 * state and of any device: it is about the disk.  It is applied inside
 * each transaction that adds rows, before the commit, so it holds at
 * every commit.  While the total is over the cap, rows go in this order:
 *  1. an undelivered row (pending or poison) larger than the whole cap,
 *     which could never fit;
 *  2. acked rows, oldest first, except each device's highest acked one
 *     (lastAckedLocalSequence): the server holds them, nothing is lost;
 *  3. undelivered inventory events, oldest first;
 *  4. undelivered findings, oldest first.
 * Oldest is the lowest rid: insertion order, which within a device is
 * local sequence order.  inFlight rows are never dropped (they count,
 * though): the request carrying them is out and its answer settles them.
 * Undelivered drops are counted by kind in meta, for good; pruned acked
 * rows apart.  Sequences still never come round: outbox_device.last_seq
 * keeps the highest ever given.
 *
 * The total is kept in memory (ob_bytes) once summed: rows are added
 * only by outbox_insert(), which notes their size, and removed only
 * here.  Any failed transaction forgets it.
 */
#define OB_KEY_INV	"outbox_dropped_inventory"
#define OB_KEY_FIND	"outbox_dropped_findings"
#define OB_KEY_ACKED	"outbox_pruned_acked"

static void
ob_note(struct store *st, size_t len)
{
	st->ob_added += (int64_t)len;
	if ((int64_t)len > st->ob_biggest)
		st->ob_biggest = (int64_t)len;
}

/* After the transaction: ok 1 committed, 0 rolled back. */
static void
ob_settle(struct store *st, int ok)
{
	if (!ok)
		st->ob_bytes = -1;
	else if (st->ob_enforced) {
		st->ob_bytes = st->ob_total;
		st->ob_recheck = 0;
	} else if (st->ob_bytes >= 0)
		st->ob_bytes += st->ob_added;
	st->ob_added = 0;
	st->ob_biggest = 0;
	st->ob_enforced = 0;
}

/*
 * Step q, a statement prepared for one call that returns at most one
 * integer, and finalize it.  *v takes a non-NULL value; otherwise it
 * keeps what the caller put there.
 */
static int
once_int(struct store *st, sqlite3_stmt *q, const char *what, int64_t *v)
{
	int	rc;

	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_type(q, 0) != SQLITE_NULL)
			*v = sqlite3_column_int64(q, 0);
		rc = sqlite3_step(q);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, what));
	return (0);
}

static int
ob_sum(struct store *st, int64_t *total)
{
	sqlite3_stmt	*q;

	*total = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT coalesce(sum(size), 0) "
	    "FROM outbox", -1, &q, NULL) != SQLITE_OK)
		return (sql_fail(st, "outbox size"));
	return (once_int(st, q, "outbox size", total));
}

struct ob_victims {
	int64_t		*rid;
	size_t		 n;
	size_t		 cap;
	size_t		 nfinding;	/* of them, findings */
	int64_t		 bytes;
};

/*
 * Rows (rid, size, finding) from sql, in its order, until their bytes
 * reach need; ?1 is bound to arg.  Then they are deleted.
 */
static int
ob_drop(struct store *st, const char *sql, int64_t arg, int64_t need,
    struct ob_victims *v)
{
	sqlite3_stmt	*q;
	int64_t		*p;
	size_t		 i, ncap;
	int		 rc = SQLITE_DONE;

	v->n = v->nfinding = 0;
	v->bytes = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return (sql_fail(st, "outbox cap"));
	if (sqlite3_bind_parameter_count(q) > 0)
		sqlite3_bind_int64(q, 1, arg);
	while (v->bytes < need && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (v->n == v->cap) {
			ncap = v->cap ? v->cap * 2 : 64;
			if ((p = recallocarray(v->rid, v->cap, ncap,
			    sizeof(*p))) == NULL) {
				log_warn("%s: outbox cap", st->path);
				sqlite3_finalize(q);
				return (-1);
			}
			v->rid = p;
			v->cap = ncap;
		}
		v->rid[v->n++] = sqlite3_column_int64(q, 0);
		v->bytes += sqlite3_column_int64(q, 1);
		if (sqlite3_column_int(q, 2) != 0)
			v->nfinding++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return (sql_fail(st, "outbox cap"));
	if (v->n == 0)
		return (0);
	if (sqlite3_prepare_v2(st->db, "DELETE FROM outbox WHERE rid = ?1",
	    -1, &q, NULL) != SQLITE_OK)
		return (sql_fail(st, "outbox cap"));
	for (i = 0; i < v->n; i++) {
		sqlite3_bind_int64(q, 1, v->rid[i]);
		rc = sqlite3_step(q);
		sqlite3_reset(q);
		if (rc != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, "outbox cap"));
	return (0);
}

static int
ob_count(struct store *st, const char *key, size_t n)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (n == 0)
		return (0);
	if (sqlite3_prepare_v2(st->db, "INSERT INTO meta (key, value) "
	    "VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET "
	    "value = CAST(value AS INTEGER) + ?2", -1, &q, NULL) != SQLITE_OK)
		return (sql_fail(st, "outbox drop counter"));
	bind_text(q, 1, key);
	sqlite3_bind_int64(q, 2, (int64_t)n);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, "outbox drop counter"));
	return (0);
}

/* Each device's highest acked row: lastAckedLocalSequence. */
#define OB_KEPT								\
	"(SELECT r FROM (SELECT (SELECT o.rid FROM outbox o "		\
	"WHERE o.device = d.ref AND o.state = 'acked' "			\
	"ORDER BY o.local_seq DESC LIMIT 1) AS r FROM outbox_device d) "	\
	"WHERE r IS NOT NULL)"
#define OB_FEW		1024

/* *few: 0 no acked row, 1 fewer than OB_FEW, 2 more (from the index). */
static int
ob_acked_few(struct store *st, int *few)
{
	sqlite3_stmt	*q;
	int64_t		 n = 0;

	*few = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM (SELECT 1 "
	    "FROM outbox INDEXED BY outbox_ready WHERE state = 'acked' "
	    "LIMIT ?1)", -1, &q, NULL) != SQLITE_OK)
		return (sql_fail(st, "outbox cap"));
	sqlite3_bind_int(q, 1, OB_FEW);
	if (once_int(st, q, "outbox cap", &n) == -1)
		return (-1);
	*few = n == 0 ? 0 : n < OB_FEW ? 1 : 2;
	return (0);
}

/* Undelivered: never acked, never in a request that is out. */
#define OB_UNDELIVERED	"(state = 'pending' OR state = 'poison')"

static int
outbox_enforce(struct store *st, struct store_commit_result *res)
{
	struct ob_victims	 v;
	int64_t			 total, dropped = 0;
	size_t			 inv = 0, fnd = 0, acked = 0;
	int			 rv = -1, few = 0, finding;

	if (st->ob_max <= 0)
		return (0);
	if (st->ob_bytes >= 0)
		total = st->ob_bytes + st->ob_added;
	else if (ob_sum(st, &total) == -1)
		return (-1);
	memset(&v, 0, sizeof(v));
	/* 1: only a new row or a lowered cap can make one too big. */
	if (total > st->ob_max &&
	    (st->ob_recheck || st->ob_biggest > st->ob_max)) {
		if (ob_drop(st, "SELECT rid, size, finding FROM outbox "
		    "WHERE size > ?1 AND " OB_UNDELIVERED " ORDER BY rid",
		    st->ob_max, INT64_MAX, &v) == -1)
			goto out;
		inv += v.n - v.nfinding;
		fnd += v.nfinding;
		dropped += v.bytes;
		total -= v.bytes;
	}
	/*
	 * 2.  Few acked rows (those kept, say): from the state index,
	 * sorted.  Many: the table in rid order, where delivered rows are
	 * the oldest, stopping at the first that are enough.  Either way
	 * no walk of a whole table of pending rows at every commit.
	 */
	if (total > st->ob_max && ob_acked_few(st, &few) == -1)
		goto out;
	if (total > st->ob_max && few != 0) {
		if (ob_drop(st, few == 1 ? "SELECT rid, size, finding FROM "
		    "outbox INDEXED BY outbox_ready WHERE state = 'acked' "
		    "AND rid NOT IN " OB_KEPT " ORDER BY rid" :
		    "SELECT rid, size, finding FROM outbox NOT INDEXED "
		    "WHERE state = 'acked' AND rid NOT IN " OB_KEPT
		    " ORDER BY rid", 0, total - st->ob_max, &v) == -1)
			goto out;
		acked = v.n;
		total -= v.bytes;
	}
	/* 3 (finding 0) and 4 (finding 1): one query, two passes. */
	for (finding = 0; finding <= 1 && total > st->ob_max; finding++) {
		if (ob_drop(st, "SELECT rid, size, finding FROM outbox "
		    "NOT INDEXED WHERE finding = ?1 AND " OB_UNDELIVERED
		    " ORDER BY rid", finding, total - st->ob_max, &v) == -1)
			goto out;
		if (finding)
			fnd += v.n;
		else
			inv += v.n;
		dropped += v.bytes;
		total -= v.bytes;
	}
	if (ob_count(st, OB_KEY_INV, inv) == -1 ||
	    ob_count(st, OB_KEY_FIND, fnd) == -1 ||
	    ob_count(st, OB_KEY_ACKED, acked) == -1)
		goto out;
	if (inv + fnd > 0)
		log_warnx("outbox over sync.outboxMaxBytes (%lld): dropped "
		    "%zu inventory and %zu finding events never sent "
		    "(%lld bytes)", (long long)st->ob_max, inv, fnd,
		    (long long)dropped);
	if (acked > 0)
		log_debug("outbox over sync.outboxMaxBytes (%lld): pruned "
		    "%zu acked rows", (long long)st->ob_max, acked);
	if (res != NULL) {
		res->dropped_inventory = inv;
		res->dropped_findings = fnd;
		res->pruned_acked = acked;
	}
	st->ob_total = total;
	st->ob_enforced = 1;
	rv = 0;
 out:
	free(v.rid);
	return (rv);
}

/* The commit. */

struct fc_row {
	int64_t		 id;		/* 0: removed by this commit */
	int		 kind;		/* enum item_kind */
	char		*name;
	char		*version;	/* NULL: nil */
};

struct fcache {
	int64_t		 file;		/* 0: none */
	struct fc_row	*row;
	size_t		 n;
	size_t		 cap;
	size_t		*slot;		/* row index + 1, 0: free */
	size_t		 nslot;		/* power of 2 */
	int		 dirty;		/* rows added or removed: fc_flush */
};

struct commit {
	struct store			*st;
	const struct store_scan		*sc;
	struct store_commit_result	*res;
	const struct idsource		*ids;
	int64_t				 device;	/* 0: no outbox */
	int64_t				 tenant;	/* 0: NULL */
	int64_t				 seq;		/* next */
	int64_t				 code;		/* surface.code */
	const char			*lastpath;	/* file id cache */
	int64_t				 lastfile;
	int64_t				*freed;		/* files of removals */
	size_t				 nfreed;
	int64_t				 added, removed;
	int				 streamed;	/* rows already in */
	int64_t				 inserted;
	enum surface			 surface;
	int64_t				 nextid;	/* 0: not known */
	/*
	 * A baseline's rows of a file new to it (runfile) are told apart
	 * in memory (run, a hash of the piece's items); files it has
	 * finished with are in done and looked up in the table.
	 */
	struct fcache			 fc;
	int64_t				 runfile;
	int64_t				 runfirst;	/* its rows' ids */
	int64_t				 runrows;
	struct runs			 runs;		/* file_rows */
	/* The run's rows not inserted yet (pend_flush), details packed. */
	struct pend {
		int64_t			 id;
		const struct item	*it;
		size_t			 packoff;
		ssize_t			 packlen;	/* 0: as it is */
	}				 pend[INV_BATCH];
	size_t				 npend;
	uint8_t				*pendpack;
	size_t				 pendlen;
	size_t				 pendcap;
	const struct item		**run;
	size_t				 runcap;	/* power of 2 */
	size_t				*runused;	/* slots to clear */
	size_t				 nrunused;
	int64_t				*done;		/* hash set, 0 free */
	size_t				 donecap;	/* power of 2 */
	size_t				 ndone;
};

static void	fc_free(struct fcache *);

static void
commit_free(struct commit *c)
{
	free(c->freed);
	fc_free(&c->fc);
	free(c->run);
	free(c->runused);
	free(c->done);
	free(c->runs.b);
	free(c->pendpack);
}

static uint64_t
hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (h);
}

static int
done_has(const struct commit *c, int64_t file)
{
	size_t	i;

	if (c->donecap == 0)
		return (0);
	for (i = hash_mix((uint64_t)file) & (c->donecap - 1); c->done[i] != 0;
	    i = (i + 1) & (c->donecap - 1))
		if (c->done[i] == file)
			return (1);
	return (0);
}

static int
done_add(struct commit *c, int64_t file)
{
	int64_t	*nv, *ov = c->done;
	size_t	 i, j, ocap = c->donecap, ncap;

	if (done_has(c, file))
		return (0);
	if ((c->ndone + 1) * 2 > c->donecap) {
		ncap = ocap ? ocap * 2 : 64;
		if ((nv = calloc(ncap, sizeof(*nv))) == NULL) {
			log_warn("%s: baseline", c->st->path);
			return (-1);
		}
		for (j = 0; j < ocap; j++) {
			if (ov[j] == 0)
				continue;
			for (i = hash_mix((uint64_t)ov[j]) & (ncap - 1);
			    nv[i] != 0; i = (i + 1) & (ncap - 1))
				;
			nv[i] = ov[j];
		}
		free(ov);
		c->done = nv;
		c->donecap = ncap;
	}
	for (i = hash_mix((uint64_t)file) & (c->donecap - 1); c->done[i] != 0;
	    i = (i + 1) & (c->donecap - 1))
		;
	c->done[i] = file;
	c->ndone++;
	return (0);
}

static int	file_rows(struct commit *, int64_t, const struct runs *);
static int	pend_flush(struct commit *);

/*
 * The current file's run is over: its rows, one run of ids, are listed
 * with it, and the file goes to done.
 */
static int
run_close(struct commit *c)
{
	size_t	i;

	for (i = 0; i < c->nrunused; i++)
		c->run[c->runused[i]] = NULL;
	c->nrunused = 0;
	if (c->npend > 0 && pend_flush(c) == -1)
		return (-1);
	if (c->runfile != 0 && c->runrows > 0) {
		runs_reset(&c->runs);
		c->runs.start = c->runfirst;
		c->runs.n = c->runrows;
		c->runrows = 0;
		if (runs_emit(&c->runs) == -1) {
			log_warn("%s: baseline", c->st->path);
			return (-1);
		}
		if (file_rows(c, c->runfile, &c->runs) == -1)
			return (-1);
	}
	if (c->runfile != 0 && done_add(c, c->runfile) == -1)
		return (-1);
	c->runfile = 0;
	return (0);
}

/* Room in the run for a piece of n items. */
static int
run_prepare(struct commit *c, size_t n)
{
	const struct item	**nr;
	size_t			 *nu, ncap;

	if (n * 2 <= c->runcap)
		return (0);
	for (ncap = c->runcap ? c->runcap : 256; ncap < n * 2; ncap *= 2)
		if (ncap > SIZE_MAX / 4 / sizeof(*nr)) {
			errno = ENOMEM;
			goto fail;
		}
	if ((nr = calloc(ncap, sizeof(*nr))) == NULL)
		goto fail;
	if ((nu = reallocarray(c->runused, ncap, sizeof(*nu))) == NULL) {
		free(nr);
		goto fail;
	}
	free(c->run);
	c->run = nr;
	c->runused = nu;
	c->runcap = ncap;
	c->nrunused = 0;
	return (0);
 fail:
	log_warn("%s: baseline", c->st->path);
	return (-1);
}

/* The fields inv_find compares: kind, name, and version if identity. */
static int
same_id(const struct item *a, const struct item *b, int byver)
{
	return (a->kind == b->kind && strcmp(a->name, b->name) == 0 &&
	    (!byver || strcmp(a->version ? a->version : "",
	    b->version ? b->version : "") == 0));
}

/* 1 if an item of the same id is in the run, else it is added: 0. */
static int
run_dup(struct commit *c, const struct item *it)
{
	const unsigned char	*p;
	uint64_t		 h = 0xcbf29ce484222325ULL;
	size_t			 i;
	int			 byver;

	byver = item_version_defines_identity(it->surface);
	h = (h ^ (unsigned int)it->kind) * 0x100000001b3ULL;
	for (p = (const unsigned char *)it->name; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	if (byver && it->version != NULL) {
		h = (h ^ 0xff) * 0x100000001b3ULL;
		for (p = (const unsigned char *)it->version; *p != '\0'; p++)
			h = (h ^ *p) * 0x100000001b3ULL;
	}
	for (i = hash_mix(h) & (c->runcap - 1); c->run[i] != NULL;
	    i = (i + 1) & (c->runcap - 1))
		if (same_id(c->run[i], it, byver))
			return (1);
	c->run[i] = it;
	c->runused[c->nrunused++] = i;
	return (0);
}

/*
 * Every file with inventory rows is listed in scanned (see schema_v2),
 * with its rows' ids (r, NULL: none left).
 */
static int
file_rows(struct commit *c, int64_t file, const struct runs *r)
{
	struct store	*st = c->st;

	if (r == NULL || r->len == 0) {
		bind_pair(st, S_SCANNED_NOROWS, c->code, file);
		return (run(st, S_SCANNED_NOROWS));
	}
	bind_pair(st, S_SCANNED_SETROWS, c->code, file);
	sqlite3_bind_blob(st->st[S_SCANNED_SETROWS], 3, r->b, (int)r->len,
	    SQLITE_STATIC);
	return (run(st, S_SCANNED_SETROWS));
}

static int
item_valid(const struct item *it, enum surface s)
{
	return (it != NULL && it->surface == s &&
	    (unsigned int)it->kind < KIND_COUNT && it->name != NULL &&
	    it->path != NULL && it->origin != NULL &&
	    (it->installed_on_request == ITEM_BOOL_NIL ||
	    it->installed_on_request == 0 || it->installed_on_request == 1));
}

static int
finding_valid(const struct finding *f, enum surface s)
{
	return (f->surface == s && (unsigned int)f->severity < SEVERITY_COUNT &&
	    uuid_valid_v4(f->id) && f->item_id != NULL && f->rule_id != NULL &&
	    f->title != NULL && f->rationale != NULL && f->item_name != NULL);
}

/* Look a device or tenant id up, adding it when new. */
static int
ref_of(struct store *st, enum stmt_id get, enum stmt_id add, const char *v,
    int64_t *ref)
{
	*ref = 0;
	bind_text(st->st[get], 1, v);
	if (run_int(st, get, ref) == -1)
		return (-1);
	if (*ref != 0)
		return (0);
	bind_text(st->st[add], 1, v);
	if (run(st, add) == -1)
		return (-1);
	*ref = sqlite3_last_insert_rowid(st->db);
	return (0);
}

/*
 * The outbox references of a device and its tenant (NULL: *tenant stays
 * 0), added when new, and the device's next local sequence.
 */
static int
outbox_refs(struct store *st, const char *device_id, const char *tenant_id,
    int64_t *device, int64_t *tenant, int64_t *seq)
{
	if (ref_of(st, S_DEVICE_GET, S_DEVICE_ADD, device_id, device) == -1 ||
	    (tenant_id != NULL && ref_of(st, S_TENANT_GET, S_TENANT_ADD,
	    tenant_id, tenant) == -1))
		return (-1);
	sqlite3_bind_int64(st->st[S_OUTBOX_NEXTSEQ], 1, *device);
	return (run_int(st, S_OUTBOX_NEXTSEQ, seq));
}

/* Record the last sequence given, for good (outbox_device.last_seq). */
static int
outbox_last_seq(struct store *st, int64_t device, int64_t seq)
{
	bind_pair(st, S_DEVICE_SEQ, device, seq);
	return (run(st, S_DEVICE_SEQ));
}

/* The file row of a path, added when new; consecutive items share one. */
static int
file_of(struct commit *c, const char *path, int add, int64_t *id)
{
	struct store	*st = c->st;

	/* A file's items mostly share their path's pointer, too. */
	if (c->lastpath != NULL && (c->lastpath == path ||
	    strcmp(c->lastpath, path) == 0)) {
		*id = c->lastfile;
		return (0);
	}
	*id = 0;
	bind_text(st->st[S_FILE_GET], 1, path);
	if (run_int(st, S_FILE_GET, id) == -1)
		return (-1);
	if (*id == 0 && add) {
		bind_text(st->st[S_FILE_ADD], 1, path);
		if (run(st, S_FILE_ADD) == -1)
			return (-1);
		*id = sqlite3_last_insert_rowid(st->db);
	}
	if (*id != 0) {
		c->lastpath = path;
		c->lastfile = *id;
	}
	return (0);
}

/*
 * The rows of one file, in memory for the commit's lookups: the table
 * is indexed by file only (a name in the index cost some 15 bytes an
 * item), and a commit's changes come file by file.  A file read once
 * serves all its changes; the commit's own inserts and deletes are
 * applied to it.
 */
static void
fc_clear(struct fcache *fc)
{
	size_t	i;

	for (i = 0; i < fc->n; i++) {
		free(fc->row[i].name);
		free(fc->row[i].version);
	}
	fc->n = 0;
	fc->file = 0;
	fc->dirty = 0;
	if (fc->slot != NULL)
		memset(fc->slot, 0, fc->nslot * sizeof(*fc->slot));
}

static void
fc_free(struct fcache *fc)
{
	fc_clear(fc);
	free(fc->row);
	free(fc->slot);
}

static uint64_t
id_hash(int kind, const char *name, const char *version, int byver)
{
	const unsigned char	*p;
	uint64_t		 h = 0xcbf29ce484222325ULL;

	h = (h ^ (unsigned int)kind) * 0x100000001b3ULL;
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	if (byver && version != NULL) {
		h = (h ^ 0xff) * 0x100000001b3ULL;
		for (p = (const unsigned char *)version; *p != '\0'; p++)
			h = (h ^ *p) * 0x100000001b3ULL;
	}
	return (hash_mix(h));
}

static void
fc_slot(struct fcache *fc, size_t i, int byver)
{
	const struct fc_row	*r = &fc->row[i];
	size_t			 j;

	for (j = id_hash(r->kind, r->name, r->version, byver) &
	    (fc->nslot - 1); fc->slot[j] != 0; j = (j + 1) & (fc->nslot - 1))
		;
	fc->slot[j] = i + 1;
}

/* Room for one more row. */
static int
fc_grow(struct fcache *fc, int byver)
{
	struct fc_row	*nr;
	size_t		*ns, ncap, i;

	if (fc->n == fc->cap) {
		ncap = fc->cap ? fc->cap * 2 : 64;
		if ((nr = reallocarray(fc->row, ncap, sizeof(*nr))) == NULL)
			return (-1);
		fc->row = nr;
		fc->cap = ncap;
	}
	if ((fc->n + 1) * 2 > fc->nslot) {
		ncap = fc->nslot ? fc->nslot * 2 : 256;
		if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
			return (-1);
		free(fc->slot);
		fc->slot = ns;
		fc->nslot = ncap;
		for (i = 0; i < fc->n; i++)
			fc_slot(fc, i, byver);
	}
	return (0);
}

static int
fc_add(struct fcache *fc, int64_t id, int kind, const char *name,
    const char *version, int byver)
{
	struct fc_row	*r;

	if (fc_grow(fc, byver) == -1)
		return (-1);
	r = &fc->row[fc->n];
	r->id = id;
	r->kind = kind;
	r->version = NULL;
	if ((r->name = strdup(name)) == NULL ||
	    (version != NULL && (r->version = strdup(version)) == NULL)) {
		free(r->name);
		return (-1);
	}
	fc_slot(fc, fc->n++, byver);
	return (0);
}

/* The live row of the item's id, or NULL. */
static struct fc_row *
fc_find(struct fcache *fc, const struct item *it, int byver)
{
	struct fc_row	*r;
	size_t		 j;

	if (fc->nslot == 0)
		return (NULL);
	for (j = id_hash(it->kind, it->name, it->version, byver) &
	    (fc->nslot - 1); fc->slot[j] != 0; j = (j + 1) & (fc->nslot - 1)) {
		r = &fc->row[fc->slot[j] - 1];
		if (r->id != 0 && r->kind == (int)it->kind &&
		    strcmp(r->name, it->name) == 0 && (!byver ||
		    strcmp(r->version ? r->version : "",
		    it->version ? it->version : "") == 0))
			return (r);
	}
	return (NULL);
}

/* The cached file's rows changed: its listing's ids follow. */
static int
fc_flush(struct commit *c)
{
	struct fcache	*fc = &c->fc;
	size_t		 i;

	if (!fc->dirty)
		return (0);
	runs_reset(&c->runs);
	/* Loaded in id order, and added above every id: ascending. */
	for (i = 0; i < fc->n; i++)
		if (fc->row[i].id != 0 && runs_add(&c->runs,
		    fc->row[i].id) == -1) {
			log_warn("%s: inventory rows", c->st->path);
			return (-1);
		}
	if (runs_emit(&c->runs) == -1) {
		log_warn("%s: inventory rows", c->st->path);
		return (-1);
	}
	if (file_rows(c, fc->file, &c->runs) == -1)
		return (-1);
	fc->dirty = 0;
	return (0);
}

static int
fc_load(struct commit *c, int64_t file, int byver)
{
	struct store	*st = c->st;
	sqlite3_stmt	*q = st->st[S_INV_FIND];
	const char	*name, *ver;
	uint8_t		*b = NULL;
	size_t		 len, off = 0;
	int64_t		 code, lo, hi, prev = 0, first, last, id, want;
	int		 rc = SQLITE_DONE, kind, more;

	if (fc_flush(c) == -1)
		return (-1);
	fc_clear(&c->fc);
	bind_pair(st, S_SCANNED_ROWS, c->code, file);
	if (rows_of(st, S_SCANNED_ROWS, &b, &len, NULL) == -1)
		return (-1);
	inv_range(c->code, &lo, &hi);
	while ((more = runs_next(b, len, &off, &prev, lo, hi, &first,
	    &last)) == 1) {
		bind_pair(st, S_INV_FIND, first - 1, last + 1);
		want = first;
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			id = sqlite3_column_int64(q, 0);
			code = sqlite3_column_int64(q, 1);
			for (kind = 0; kind < KIND_COUNT; kind++)
				if (st->kcode[kind] == code)
					break;
			ver = col_version(st, q, 3);
			if (id != want++ || sqlite3_column_int64(q, 4) !=
			    file || kind == KIND_COUNT ||
			    (name = col_text(q, 2)) == NULL || (ver == NULL &&
			    sqlite3_column_type(q, 3) != SQLITE_NULL))
				goto bad;
			if (fc_add(&c->fc, id, kind, name, ver, byver) == -1) {
				sqlite3_reset(q);
				fc_clear(&c->fc);
				free(b);
				log_warn("%s: inventory lookup", st->path);
				return (-1);
			}
		}
		sqlite3_reset(q);
		if (rc != SQLITE_DONE) {
			fc_clear(&c->fc);
			free(b);
			return (sql_fail(st, "inventory lookup"));
		}
		/* Every id of the run is a row of the file. */
		if (want != last + 1)
			goto bad;
	}
	free(b);
	if (more == -1) {
		b = NULL;
		goto bad;
	}
	c->fc.file = file;
	return (0);
 bad:
	sqlite3_reset(q);
	fc_clear(&c->fc);
	free(b);
	log_warnx("%s: malformed inventory row", st->path);
	errno = EINVAL;
	return (-1);
}

/*
 * The row holding the item's id: same surface and file, same kind and
 * name and, where the version is part of the identity, the same
 * version with nil as "".  *row = 0 if none.
 */
static int
inv_find(struct commit *c, int64_t file, const struct item *it,
    int64_t *row)
{
	struct fc_row	*r;
	int		 byver;

	*row = 0;
	byver = item_version_defines_identity(c->surface);
	if (c->fc.file != file && fc_load(c, file, byver) == -1)
		return (-1);
	if ((r = fc_find(&c->fc, it, byver)) != NULL)
		*row = r->id;
	return (0);
}

/* The row of a removed item is gone from the lookups too. */
static void
inv_forget(struct commit *c, int64_t file, const struct item *it)
{
	struct fc_row	*r;

	if (c->fc.file == file && (r = fc_find(&c->fc, it,
	    item_version_defines_identity(c->surface))) != NULL) {
		r->id = 0;
		c->fc.dirty = 1;
	}
}

/*
 * An item's row at ?base + 1 .. ?base + 8 (see S_INV_INSERT), its detail
 * packed in pack[0 .. packed) (0: stored as it is).
 */
static void
bind_row(struct store *st, sqlite3_stmt *q, int base, int64_t code,
    int64_t file, const struct item *it, const uint8_t *pack, ssize_t packed)
{
	int64_t	v;

	sqlite3_bind_int64(q, base + 1, code);
	sqlite3_bind_int64(q, base + 2, file);
	sqlite3_bind_int64(q, base + 3, st->kcode[it->kind]);
	bind_text(q, base + 4, it->name);
	if ((v = version_pack(it->version)) >= 0)
		sqlite3_bind_int64(q, base + 5, v);
	else
		bind_text(q, base + 5, it->version);
	bind_text(q, base + 6, it->origin);
	if (it->installed_on_request == ITEM_BOOL_NIL)
		sqlite3_bind_null(q, base + 7);
	else
		sqlite3_bind_int(q, base + 7, it->installed_on_request);
	if (packed > 0)
		sqlite3_bind_blob(q, base + 8, pack, (int)packed,
		    SQLITE_STATIC);
	else
		bind_text(q, base + 8, it->detail);
}

static int
bind_item(struct store *st, sqlite3_stmt *q, int64_t code, int64_t file,
    const struct item *it)
{
	ssize_t	packed;

	if ((packed = detail_pack(st, it)) == -1) {
		log_warn("%s: detail", st->path);
		return (-1);
	}
	bind_row(st, q, 0, code, file, it, st->pack, packed);
	return (0);
}

/*
 * Insert the run's pending rows: INV_BATCH of them in one statement, or
 * fewer one by one.
 */
static int
pend_flush(struct commit *c)
{
	struct store	*st = c->st;
	struct pend	*p;
	sqlite3_stmt	*q;
	size_t		 i;

	if (c->npend == INV_BATCH) {
		q = st->st[S_INV_INSERT_MANY];
		for (i = 0; i < c->npend; i++) {
			p = &c->pend[i];
			bind_row(st, q, (int)i * 9, c->code, c->runfile, p->it,
			    p->packlen > 0 ? c->pendpack + p->packoff : NULL,
			    p->packlen);
			sqlite3_bind_int64(q, (int)i * 9 + 9, p->id);
		}
		c->npend = 0;
		c->pendlen = 0;
		return (run(st, S_INV_INSERT_MANY));
	}
	q = st->st[S_INV_INSERT];
	for (i = 0; i < c->npend; i++) {
		p = &c->pend[i];
		bind_row(st, q, 0, c->code, c->runfile, p->it,
		    p->packlen > 0 ? c->pendpack + p->packoff : NULL,
		    p->packlen);
		sqlite3_bind_int64(q, 9, p->id);
		if (run(st, S_INV_INSERT) == -1)
			return (-1);
	}
	c->npend = 0;
	c->pendlen = 0;
	return (0);
}

/* A row of the run to insert with the next ones (pend_flush). */
static int
pend_add(struct commit *c, const struct item *it)
{
	struct store	*st = c->st;
	struct pend	*p = &c->pend[c->npend];
	ssize_t		 packed;

	if ((packed = detail_pack(st, it)) == -1 ||
	    buf_room(&c->pendpack, &c->pendcap, c->pendlen +
	    (size_t)packed) == -1) {
		log_warn("%s: detail", st->path);
		return (-1);
	}
	p->id = c->nextid;
	p->it = it;
	p->packoff = c->pendlen;
	p->packlen = packed;
	if (packed > 0) {
		memcpy(c->pendpack + c->pendlen, st->pack, (size_t)packed);
		c->pendlen += (size_t)packed;
	}
	if (++c->npend == INV_BATCH)
		return (pend_flush(c));
	return (0);
}

/* Insert an item as the surface's last row. */
static int
inv_insert(struct commit *c, int64_t file, const struct item *it)
{
	struct store	*st = c->st;
	int64_t		 lo, hi, max;

	inv_range(c->code, &lo, &hi);
	if (c->nextid == 0) {
		max = lo;
		bind_pair(st, S_INV_MAXID, lo, hi);
		if (run_int(st, S_INV_MAXID, &max) == -1)
			return (-1);
		c->nextid = max + 1;
	}
	/* 2^32 rows added since the surface's baseline. */
	if (c->nextid >= hi) {
		log_warnx("%s: the %s surface's row ids are used up; remove "
		    "the database to start afresh", st->path,
		    surface_name(c->surface));
		return (-1);
	}
	if (file == c->runfile && file != c->fc.file) {
		if (pend_add(c, it) == -1)
			return (-1);
	} else {
		if (bind_item(st, st->st[S_INV_INSERT], c->code, file, it) ==
		    -1)
			return (-1);
		sqlite3_bind_int64(st->st[S_INV_INSERT], 9, c->nextid);
		if (run(st, S_INV_INSERT) == -1)
			return (-1);
	}
	if (file == c->fc.file) {
		if (fc_add(&c->fc, c->nextid, it->kind, it->name,
		    it->version, item_version_defines_identity(c->surface))
		    == -1) {
			log_warn("%s: inventory lookup", st->path);
			return (-1);
		}
		c->fc.dirty = 1;
	} else if (file == c->runfile) {
		/* The run's rows are consecutive: see run_close(). */
		if (c->runrows++ == 0)
			c->runfirst = c->nextid;
	} else {
		log_warnx("%s: a row of a file not at hand", st->path);
		errno = EINVAL;
		return (-1);
	}
	c->nextid++;
	return (0);
}

/*
 * Insert the payload in st->pb, with its id and hash, as row seq of the
 * device (tenant 0: NULL).  A scan's commit and the inventory queued
 * after enrollment both add rows here only, so the outbox cap's byte
 * count (ob_note) misses none.
 */
static int
outbox_insert(struct store *st, const char *id, const char *hash,
    int64_t device, int64_t tenant, int64_t seq, enum surface s,
    enum change_kind kind, int finding, int64_t observed, int64_t collected)
{
	sqlite3_stmt	*q = st->st[S_OUTBOX_INSERT];

	bind_text(q, 1, id);
	sqlite3_bind_int64(q, 2, device);
	if (tenant == 0)
		sqlite3_bind_null(q, 3);
	else
		sqlite3_bind_int64(q, 3, tenant);
	sqlite3_bind_int64(q, 4, seq);
	bind_text(q, 5, surface_name(s));
	bind_text(q, 6, change_kind_name(kind));
	sqlite3_bind_int(q, 7, finding);
	sqlite3_bind_int64(q, 8, observed);
	sqlite3_bind_int64(q, 9, collected);
	sqlite3_bind_blob(q, 10, st->pb.buf, (int)st->pb.len, SQLITE_STATIC);
	bind_text(q, 11, hash);
	sqlite3_bind_int64(q, 12, (int64_t)st->pb.len);
	if (run(st, S_OUTBOX_INSERT) == -1)
		return (-1);
	ob_note(st, st->pb.len);
	return (0);
}

/* Encode, hash and queue one outbox event from the payload in st->pb. */
static int
outbox_add(struct commit *c, enum change_kind kind, int finding,
    int64_t observed)
{
	struct store	*st = c->st;
	char		 id[UUID_BUFSZ], hash[SHA256_HEX_BUFSZ];

	if (idsource_next(c->ids, id) == -1) {
		log_warnx("%s: no event id", st->path);
		return (-1);
	}
	if (sha256_hex(st->pb.buf, st->pb.len, hash) == -1) {
		log_warnx("%s: SHA-256 failed", st->path);
		return (-1);
	}
	if (outbox_insert(st, id, hash, c->device, c->tenant, c->seq,
	    c->sc->surface, kind, finding, observed, c->sc->completed_ms) == -1)
		return (-1);
	if (c->res->noutbox++ == 0)
		c->res->first_seq = c->seq;
	c->res->last_seq = c->seq;
	c->seq++;
	return (0);
}

static int
outbox_item(struct commit *c, enum change_kind kind, const struct item *it,
    const char *id, int64_t observed)
{
	if (c->device == 0)
		return (0);
	pbuf_reset(&c->st->pb);
	if (pb_encode_item_event(it, id, &c->st->pb) == -1) {
		log_warn("%s: encoding an inventory event", c->st->path);
		return (-1);
	}
	return (outbox_add(c, kind, 0, observed));
}

static int
store_finding(struct commit *c, const struct finding *f)
{
	struct store	*st = c->st;
	sqlite3_stmt	*q = st->st[S_FINDING_INSERT];
	int64_t		 ts;

	if (!finding_valid(f, c->sc->surface) || parse_ts(f->timestamp, &ts)
	    == -1) {
		log_warnx("%s: malformed finding %s (rule %s)", st->path,
		    f->id, f->rule_id ? f->rule_id : "?");
		return (-1);
	}
	bind_text(q, 1, f->id);
	sqlite3_bind_int64(q, 2, ts);
	bind_text(q, 3, surface_name(f->surface));
	bind_text(q, 4, f->item_id);
	bind_text(q, 5, f->rule_id);
	bind_text(q, 6, f->title);
	bind_text(q, 7, f->rationale);
	sqlite3_bind_int(q, 8, (int)f->severity);
	bind_text(q, 9, f->item_name);
	bind_text(q, 10, f->evidence_path);
	bind_text(q, 11, f->evidence_detail);
	bind_text(q, 12, f->matched_field);
	bind_text(q, 13, f->matched_value);
	if (run(st, S_FINDING_INSERT) == -1)
		return (-1);
	c->res->nfindings++;
	if (c->device == 0)
		return (0);
	pbuf_reset(&st->pb);
	if (pb_encode_finding_event(f, &st->pb) == -1) {
		log_warn("%s: encoding a finding event", st->path);
		return (-1);
	}
	/* Finding events are always `modified` (PROTOCOL.md 7.4). */
	return (outbox_add(c, CHANGE_MODIFIED, 1, ts));
}

/* Leftovers of an earlier life of the surface go first. */
static int
baseline_clear(struct commit *c)
{
	struct store	*st = c->st;
	int64_t		 lo, hi;

	inv_range(c->code, &lo, &hi);
	bind_pair(st, S_INV_CLEAR, lo, hi);
	if (run(st, S_INV_CLEAR) == -1)
		return (-1);
	sqlite3_bind_int64(st->st[S_SCANNED_CLEAR], 1, c->code);
	if (run(st, S_SCANNED_CLEAR) == -1 || run(st, S_FILE_SWEEP) == -1)
		return (-1);
	/* Empty now: its ids start again. */
	c->nextid = (c->code << INV_SHIFT) + 1;
	return (0);
}

/*
 * One baseline item of a piece (run_prepare'd); *row != 0 if its id was
 * stored already.  The surface was emptied at the start, so only a file
 * the baseline had before can hold the id: a file the baseline has not
 * seen needs no lookup in the table, only in the run.
 */
static int
baseline_add(struct commit *c, const struct item *it, int64_t *row)
{
	int64_t		 file;

	*row = 0;
	if (file_of(c, it->path, 1, &file) == -1)
		return (-1);
	if (file != c->runfile) {
		if (run_close(c) == -1)
			return (-1);
		if (!done_has(c, file))
			c->runfile = file;
	}
	if (file == c->runfile) {
		if (run_dup(c, it))
			*row = -1;
	} else if (inv_find(c, file, it, row) == -1)
		return (-1);
	/* A later duplicate of an id is ignored, as in the differ. */
	if (*row != 0)
		return (0);
	if (inv_insert(c, file, it) == -1)
		return (-1);
	c->inserted++;
	return (0);
}

static int
baseline_outbox(struct commit *c, const struct item *it)
{
	char	*id;
	int	 rc;

	if ((id = item_id(it)) == NULL) {
		log_warn("%s: item id", c->st->path);
		return (-1);
	}
	rc = outbox_item(c, CHANGE_ADDED, it, id, c->sc->completed_ms);
	free(id);
	return (rc);
}

static int
commit_baseline(struct commit *c)
{
	const struct store_scan	*sc = c->sc;
	const struct item	*it;
	int64_t			 row;
	size_t			 i;

	if (baseline_clear(c) == -1 || run_prepare(c, sc->nitems) == -1)
		return (-1);
	for (i = 0; i < sc->nitems; i++) {
		it = &sc->items[i];
		if (baseline_add(c, it, &row) == -1)
			return (-1);
		if (row == 0 && c->device != 0 &&
		    baseline_outbox(c, it) == -1)
			return (-1);
	}
	return (0);
}

/*
 * A baseline added in pieces: its outbox events, one per stored row in
 * row order (the order the pieces came in, duplicates skipped), now that
 * the completion time is known.
 */
static int
baseline_outbox_rows(struct commit *c)
{
	struct store	*st = c->st;
	sqlite3_stmt	*q = st->st[S_INV_LOAD], *fq = st->st[S_FILE_PATH];
	struct item	 it;
	char		*path = NULL;
	int64_t		 file, lastfile = 0, lo, hi;
	int		 rc, rv = -1;

	inv_range(c->code, &lo, &hi);
	bind_pair(st, S_INV_LOAD, lo, hi);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		file = sqlite3_column_int64(q, 3);
		if (file != lastfile) {
			free(path);
			path = NULL;
			sqlite3_bind_int64(fq, 1, file);
			if (sqlite3_step(fq) == SQLITE_ROW &&
			    col_text(fq, 0) != NULL)
				path = strdup(col_text(fq, 0));
			sqlite3_reset(fq);
			if (path == NULL) {
				log_warnx("%s: inventory row without its file",
				    st->path);
				goto out;
			}
			lastfile = file;
		}
		if (row_item(st, q, c->sc->surface, &it) == -1)
			goto out;
		it.path = path;
		if (baseline_outbox(c, &it) == -1)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		sql_fail(st, "reading the baseline back");
		goto out;
	}
	rv = 0;
 out:
	sqlite3_reset(q);
	free(path);
	return (rv);
}

/* Remember a file a removal may have emptied. */
static int
note_freed(struct commit *c, int64_t file)
{
	int64_t	*v;

	if (c->nfreed > 0 && c->freed[c->nfreed - 1] == file)
		return (0);
	if ((v = reallocarray(c->freed, c->nfreed + 1, sizeof(*v))) == NULL) {
		log_warn("%s: removal", c->st->path);
		return (-1);
	}
	c->freed = v;
	c->freed[c->nfreed++] = file;
	return (0);
}

/* Drop the file rows no surface uses any more. */
static int
sweep_freed(struct commit *c)
{
	struct store	*st = c->st;
	int64_t		 used;
	size_t		 i;
	int		 s;

	for (i = 0; i < c->nfreed; i++) {
		bind_pair(st, S_SCANNED_IDLE, c->code, c->freed[i]);
		if (run(st, S_SCANNED_IDLE) == -1)
			return (-1);
		for (used = 0, s = 0; s < SURFACE_COUNT && used == 0; s++) {
			bind_pair(st, S_FILE_USED, st->code[s], c->freed[i]);
			if (run_int(st, S_FILE_USED, &used) == -1)
				return (-1);
		}
		if (used)
			continue;
		sqlite3_bind_int64(st->st[S_FILE_DEL], 1, c->freed[i]);
		if (run(st, S_FILE_DEL) == -1)
			return (-1);
		/* The caches may name the file just deleted. */
		c->lastpath = NULL;
		fc_clear(&c->fc);
	}
	return (0);
}

static int
apply_change(struct commit *c, const struct change *ch)
{
	const struct store_scan	*sc = c->sc;
	struct store		*st = c->st;
	const struct item	*it;
	sqlite3_stmt		*q;
	char			*id = NULL, *detail = NULL;
	int64_t			 file, row;
	int			 rv = -1;

	switch (ch->kind) {
	case CHANGE_ADDED:
		it = ch->new;
		if (!item_valid(it, sc->surface))
			goto bad;
		break;
	case CHANGE_REMOVED:
		it = ch->old;
		if (ch->quiet || !item_valid(it, sc->surface))
			goto bad;
		break;
	case CHANGE_MODIFIED:
		it = ch->new;
		if (ch->quiet || !item_valid(it, sc->surface) ||
		    !item_valid(ch->old, sc->surface))
			goto bad;
		break;
	default:
		goto bad;
	}
	if ((id = item_id(it)) == NULL || (detail = differ_change_detail(ch))
	    == NULL) {
		log_warn("%s: change", st->path);
		goto out;
	}
	if (file_of(c, it->path, ch->kind == CHANGE_ADDED, &file) == -1)
		goto out;
	row = 0;
	if (file != 0 && inv_find(c, file, it, &row) == -1)
		goto out;
	/* The change must fit the stored snapshot (see the top). */
	if ((ch->kind == CHANGE_ADDED) != (row == 0)) {
		log_warnx("%s: %s item %s %s in the stored snapshot",
		    st->path, change_kind_name(ch->kind), id,
		    row == 0 ? "is not" : "is already");
		goto out;
	}
	switch (ch->kind) {
	case CHANGE_ADDED:
		if (inv_insert(c, file, it) == -1)
			goto out;
		c->added++;
		break;
	case CHANGE_REMOVED:
		sqlite3_bind_int64(st->st[S_INV_DELETE], 1, row);
		if (run(st, S_INV_DELETE) == -1 || note_freed(c, file) == -1)
			goto out;
		inv_forget(c, file, it);
		c->removed++;
		break;
	default:
		q = st->st[S_INV_UPDATE];
		if (bind_item(st, q, c->code, file, it) == -1)
			goto out;
		sqlite3_bind_int64(q, 9, row);
		if (run(st, S_INV_UPDATE) == -1)
			goto out;
		break;
	}
	/* A late baseline: stored and sent as the baseline would have. */
	if (ch->quiet) {
		rv = outbox_item(c, ch->kind, it, id, sc->completed_ms);
		goto out;
	}
	q = st->st[S_EVENT_INSERT];
	sqlite3_bind_int64(q, 1, sc->artifact_ms);
	bind_text(q, 2, surface_name(sc->surface));
	bind_text(q, 3, change_kind_name(ch->kind));
	bind_text(q, 4, item_kind_name(it->kind));
	bind_text(q, 5, id);
	bind_text(q, 6, it->name);
	bind_text(q, 7, it->path);
	bind_text(q, 8, ch->old ? ch->old->version : NULL);
	bind_text(q, 9, ch->new ? ch->new->version : NULL);
	bind_text(q, 10, detail);
	if (run(st, S_EVENT_INSERT) == -1)
		goto out;
	c->res->nevents++;
	rv = outbox_item(c, ch->kind, it, id, sc->artifact_ms);
	goto out;
bad:
	log_warnx("%s: malformed %s change", st->path,
	    (unsigned int)ch->kind < CHANGE_COUNT ?
	    change_kind_name(ch->kind) : "unknown");
out:
	free(id);
	free(detail);
	return (rv);
}

/* Keep the newest max rows; negative: keep all. */
static int
prune(struct store *st, enum stmt_id count, enum stmt_id del, long long max,
    size_t *pruned)
{
	int64_t	n = 0;

	*pruned = 0;
	if (max < 0)
		return (0);
	if (run_int(st, count, &n) == -1)
		return (-1);
	if (n <= max)
		return (0);
	sqlite3_bind_int64(st->st[del], 1, n - max);
	if (run(st, del) == -1)
		return (-1);
	*pruned = (size_t)sqlite3_changes(st->db);
	return (0);
}

/* The fingerprints of the files this scan read or lost (store_scan). */
static int
apply_files(struct commit *c)
{
	const struct store_scan	*sc = c->sc;
	struct store		*st = c->st;
	const struct store_file	*f;
	sqlite3_stmt		*q;
	enum stmt_id		 id;
	uint8_t			*b;
	int64_t			 file;
	size_t			 i, len;

	for (i = 0; i < sc->nfiles; i++) {
		f = &sc->files[i];
		if (f->path == NULL)
			goto bad;
		if (file_of(c, f->path, f->state != STORE_FP_GONE, &file) == -1)
			return (-1);
		if (file == 0)
			continue;
		switch (f->state) {
		case STORE_FP_SET:
			q = st->st[S_SCANNED_SET];
			bind_pair(st, S_SCANNED_SET, c->code, file);
			sqlite3_bind_int64(q, 3, f->fp.dev);
			sqlite3_bind_int64(q, 4, f->fp.ino);
			sqlite3_bind_int64(q, 5, f->fp.size);
			sqlite3_bind_int64(q, 6, f->fp.mtime_ns);
			sqlite3_bind_int64(q, 7, f->fp.ctime_ns);
			if (run(st, S_SCANNED_SET) == -1)
				return (-1);
			break;
		case STORE_FP_UNSET:
			bind_pair(st, S_SCANNED_UNSET, c->code, file);
			if (run(st, S_SCANNED_UNSET) == -1)
				return (-1);
			break;
		case STORE_FP_KEEP:
			bind_pair(st, S_SCANNED_KEEP, c->code, file);
			sqlite3_bind_int64(st->st[S_SCANNED_KEEP], 3,
			    f->stale_ms > 0 ? f->stale_ms : sc->completed_ms);
			sqlite3_bind_int(st->st[S_SCANNED_KEEP], 4,
			    sc->baseline != 0);
			if (run(st, S_SCANNED_KEEP) == -1)
				return (-1);
			break;
		case STORE_FP_GONE:
			/* Still holding rows: listed, to be read again. */
			bind_pair(st, S_SCANNED_ROWS, c->code, file);
			if (rows_of(st, S_SCANNED_ROWS, &b, &len, NULL) == -1)
				return (-1);
			free(b);
			id = len > 0 ? S_SCANNED_UNSET : S_SCANNED_DEL;
			bind_pair(st, id, c->code, file);
			if (run(st, id) == -1 || note_freed(c, file) == -1)
				return (-1);
			break;
		default:
			goto bad;
		}
	}
	return (0);
 bad:
	log_warnx("%s: malformed file state in a scan", st->path);
	errno = EINVAL;
	return (-1);
}

static int
commit_body(struct commit *c)
{
	const struct store_scan	*sc = c->sc;
	struct store		*st = c->st;
	sqlite3_stmt		*q;
	size_t			 i;
	int64_t			 count;
	char			 msg[64];

	if (sc->device_id != NULL && outbox_refs(st, sc->device_id,
	    sc->tenant_id, &c->device, &c->tenant, &c->seq) == -1)
		return (-1);
	if (sc->baseline && c->streamed) {
		if (c->device != 0 && baseline_outbox_rows(c) == -1)
			return (-1);
	} else if (sc->baseline) {
		if (commit_baseline(c) == -1)
			return (-1);
	} else {
		for (i = 0; i < sc->nchanges; i++)
			if (apply_change(c, &sc->changes[i]) == -1)
				return (-1);
	}
	/* The rows' ids listed before the listings are looked at. */
	if (run_close(c) == -1 || fc_flush(c) == -1)
		return (-1);
	if (apply_files(c) == -1 || sweep_freed(c) == -1)
		return (-1);
	if (!sc->baseline) {
		for (i = 0; i < sc->nchange_findings; i++)
			if (store_finding(c, &sc->change_findings[i]) == -1)
				return (-1);
	}
	for (i = 0; i < sc->npresent_findings; i++)
		if (store_finding(c, &sc->present_findings[i]) == -1)
			return (-1);
	if (c->res->noutbox > 0 &&
	    outbox_last_seq(st, c->device, c->res->last_seq) == -1)
		return (-1);
	if (outbox_enforce(st, c->res) == -1)
		return (-1);

	q = st->st[S_SURFACE_COMMIT];
	sqlite3_bind_int64(q, 1, c->code);
	sqlite3_bind_int64(q, 2, sc->completed_ms);
	sqlite3_bind_int64(q, 3, sc->duration_ms);
	if (!sc->baseline && sc->count_by_changes) {
		sqlite3_bind_int64(st->st[S_ITEM_COUNT], 1, c->code);
		if (run_int(st, S_ITEM_COUNT, &count) == -1)
			return (-1);
		count += c->added - c->removed;
	} else if (c->streamed)
		count = c->inserted;
	else
		count = (int64_t)sc->nitems;
	sqlite3_bind_int64(q, 4, count);
	sqlite3_bind_int64(q, 5, (int64_t)sc->nissues);
	sqlite3_bind_int(q, 6, sc->nissues > 0);
	if (sc->nissues > 0 && sc->health_message == NULL) {
		snprintf(msg, sizeof(msg), "%zu issue%s", sc->nissues,
		    sc->nissues == 1 ? "" : "s");
		sqlite3_bind_text(q, 7, msg, -1, SQLITE_TRANSIENT);
	} else
		bind_text(q, 7, sc->nissues > 0 ? sc->health_message : NULL);
	if (run(st, S_SURFACE_COMMIT) == -1)
		return (-1);

	/* SURFACES.md 11: retention after normal scans only. */
	if (!sc->baseline) {
		if (prune(st, S_EVENT_COUNT, S_EVENT_PRUNE, sc->max_events,
		    &c->res->pruned_events) == -1 ||
		    prune(st, S_FINDING_COUNT, S_FINDING_PRUNE,
		    sc->max_findings, &c->res->pruned_findings) == -1)
			return (-1);
	}
	return (0);
}

/*
 * The WAL is moved into the database when the parent is idle
 * (STORE_IDLE_MS after the last commit), no longer inside the COMMIT
 * that crossed SQLite's 1,000 pages: a baseline's commit used to copy
 * and sync its whole WAL there, then truncate it (issue 14).
 *
 * Durability is what it was.  synchronous = NORMAL: a commit is in the
 * WAL when COMMIT returns, so a killed daemon loses nothing; the WAL
 * is synced to disk by the checkpoint, now as before at about 1,000
 * pages, only later by the idle delay.  Without an event loop (tests,
 * tools) the backstop checkpoints inside the commit once the WAL holds
 * STORE_WAL_BACKSTOP pages, and store_close() always does.
 */
#define STORE_WAL_PAGES		1000

static void
store_idle(void *arg)
{
	(void)store_checkpoint(arg);
}

int
store_checkpoint(struct store *st)
{
	struct stat	sb;
	char		wal[PATH_MAX + 8];
	int		mode = SQLITE_CHECKPOINT_PASSIVE;

	ev_timer_del(&st->idle);
	if (st->open != NULL || sqlite3_get_autocommit(st->db) == 0) {
		/* A baseline in pieces: after it. */
		ev_timer_add(&st->idle, STORE_IDLE_MS);
		errno = EBUSY;
		return (-1);
	}
	/* Shrink a WAL that a large commit grew. */
	snprintf(wal, sizeof(wal), "%s-wal", st->path);
	if (stat(wal, &sb) == 0 && sb.st_size > STORE_WAL_LIMIT)
		mode = SQLITE_CHECKPOINT_TRUNCATE;
	if (sqlite3_wal_checkpoint_v2(st->db, NULL, mode, NULL, NULL) !=
	    SQLITE_OK)
		return (sql_fail(st, "checkpoint"));
	st->wal_frames = 0;
	return (0);
}

/* sqlite3_wal_hook: the WAL's pages after each commit. */
static int
wal_pages(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store	*st = arg;

	(void)db;
	(void)name;
	st->wal_frames = pages;
	return (SQLITE_OK);
}

static void
committed(struct store *st)
{
	/* The pages a scan pulled in are not needed while idle. */
	sqlite3_db_release_memory(st->db);
	if (st->wal_frames >= STORE_WAL_BACKSTOP)
		(void)store_checkpoint(st);
	else if (st->wal_frames >= STORE_WAL_PAGES)
		ev_timer_add(&st->idle, STORE_IDLE_MS);
}

int
store_commit_scan(struct store *st, const struct store_scan *sc,
    struct store_commit_result *res)
{
	struct store_commit_result	 dummy;
	struct idsource			 own = { store_next_id, st };
	struct commit			 c;
	size_t				 i;

	if (res == NULL)
		res = &dummy;
	memset(res, 0, sizeof(*res));
	if (!surface_ok(sc->surface))
		return (-1);
	if (st->open != NULL) {
		log_warnx("%s: a baseline is open", st->path);
		errno = EBUSY;
		return (-1);
	}
	if (sc->baseline && (sc->nchanges > 0 || sc->nchange_findings > 0)) {
		log_warnx("%s: a baseline has no changes", st->path);
		errno = EINVAL;
		return (-1);
	}
	if (sc->baseline)
		for (i = 0; i < sc->nitems; i++)
			if (!item_valid(&sc->items[i], sc->surface)) {
				log_warnx("%s: malformed item %zu in the %s "
				    "baseline", st->path, i,
				    surface_name(sc->surface));
				errno = EINVAL;
				return (-1);
			}
	memset(&c, 0, sizeof(c));
	c.st = st;
	c.sc = sc;
	c.res = res;
	c.ids = sc->ids != NULL ? sc->ids : &own;
	c.code = st->code[sc->surface];
	c.surface = sc->surface;

	if (run(st, S_BEGIN) == -1)
		return (-1);
	if (commit_body(&c) == -1 || run(st, S_COMMIT) == -1) {
		if (sqlite3_get_autocommit(st->db) == 0 &&
		    run(st, S_ROLLBACK) == -1)
			log_warnx("%s: rollback failed", st->path);
		memset(res, 0, sizeof(*res));
		commit_free(&c);
		ob_settle(st, 0);
		return (-1);
	}
	ob_settle(st, 1);
	commit_free(&c);
	committed(st);
	return (0);
}

int
store_baseline_begin(struct store *st, enum surface s)
{
	struct commit	*c;

	if (!surface_ok(s))
		return (-1);
	if (st->open != NULL) {
		log_warnx("%s: a baseline is already open", st->path);
		errno = EBUSY;
		return (-1);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s: baseline", st->path);
		return (-1);
	}
	c->st = st;
	c->code = st->code[s];
	c->streamed = 1;
	/* Only to check the items' surface until the end gives the rest. */
	c->surface = s;
	if (run(st, S_BEGIN) == -1) {
		free(c);
		return (-1);
	}
	if (baseline_clear(c) == -1) {
		st->open = c;
		store_baseline_abort(st);
		return (-1);
	}
	st->open = c;
	return (0);
}

int
store_baseline_add(struct store *st, const struct item *items, size_t n)
{
	struct commit	*c = st->open;
	int64_t		 row;
	size_t		 i;

	if (c == NULL) {
		log_warnx("%s: no baseline open", st->path);
		errno = EINVAL;
		return (-1);
	}
	/*
	 * The file id cache and the run borrow the items: only within
	 * this piece.
	 */
	c->lastpath = NULL;
	if (run_prepare(c, n) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		if (!item_valid(&items[i], c->surface)) {
			log_warnx("%s: malformed item in the %s baseline",
			    st->path, surface_name(c->surface));
			errno = EINVAL;
			break;
		}
		if (baseline_add(c, &items[i], &row) == -1)
			break;
	}
	c->lastpath = NULL;
	if (run_close(c) == -1 || i < n)
		return (-1);
	return (0);
}

void
store_baseline_abort(struct store *st)
{
	struct commit	*c = st->open;

	if (c == NULL)
		return;
	st->open = NULL;
	if (sqlite3_get_autocommit(st->db) == 0 && run(st, S_ROLLBACK) == -1)
		log_warnx("%s: rollback failed", st->path);
	ob_settle(st, 0);
	commit_free(c);
	free(c);
}

int
store_baseline_end(struct store *st, const struct store_scan *sc,
    struct store_commit_result *res)
{
	struct store_commit_result	 dummy;
	struct idsource			 own = { store_next_id, st };
	struct commit			*c = st->open;

	if (res == NULL)
		res = &dummy;
	memset(res, 0, sizeof(*res));
	if (c == NULL || !sc->baseline || sc->surface != c->surface ||
	    sc->nchanges > 0 || sc->nchange_findings > 0) {
		log_warnx("%s: not the open baseline", st->path);
		store_baseline_abort(st);
		errno = EINVAL;
		return (-1);
	}
	c->sc = sc;
	c->res = res;
	c->ids = sc->ids != NULL ? sc->ids : &own;
	c->lastpath = NULL;
	if (commit_body(c) == -1 || run(st, S_COMMIT) == -1) {
		memset(res, 0, sizeof(*res));
		store_baseline_abort(st);
		return (-1);
	}
	st->open = NULL;
	ob_settle(st, 1);
	commit_free(c);
	free(c);
	committed(st);
	return (0);
}

int
store_note_scan_failure(struct store *st, enum surface s, int64_t at_ms,
    int64_t duration_ms, const char *message)
{
	sqlite3_stmt	*q = st->st[S_SURFACE_FAIL];

	if (!surface_ok(s))
		return (-1);
	sqlite3_bind_int64(q, 1, st->code[s]);
	sqlite3_bind_int64(q, 2, at_ms);
	sqlite3_bind_int64(q, 3, duration_ms);
	bind_text(q, 4, message ? message : "scan failed");
	return (run(st, S_SURFACE_FAIL));
}

/* Queries. */

/* Step a query, calling fn per row; 0, or -1 (fn's stop is silent). */
static int
each_row(struct store *st, sqlite3_stmt *q, const char *what,
    int (*fn)(struct store *, sqlite3_stmt *, void *), void *arg)
{
	int	rc, stop = 0;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (fn(st, q, arg) == -1) {
			stop = 1;
			break;
		}
	sqlite3_reset(q);
	if (stop)
		return (-1);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, what));
	return (0);
}

struct inv_arg {
	enum surface	 s;
	store_item_cb	 cb;
	void		*arg;
};

static int
inv_row(struct store *st, sqlite3_stmt *q, void *a)
{
	struct inv_arg	*ia = a;
	struct item	 it;
	char		*id;
	int		 rv;

	if (row_item(st, q, ia->s, &it) == -1)
		return (-1);
	if ((id = item_id(&it)) == NULL) {
		log_warn("%s: item id", st->path);
		return (-1);
	}
	rv = ia->cb(ia->arg, &it, id, sqlite3_column_type(q, 7) ==
	    SQLITE_NULL ? 0 : sqlite3_column_int64(q, 7));
	free(id);
	return (rv);
}

int
store_query_inventory(struct store *st, int surface, const char *home,
    store_item_cb cb, void *arg)
{
	sqlite3_stmt	*q = st->st[S_INV_QUERY];
	struct homefilter h;
	struct inv_arg	 ia;
	int64_t		 lo, hi;
	int		 s, rv = 0;

	if (surface >= SURFACE_COUNT) {
		errno = EINVAL;
		return (-1);
	}
	if (home_prepare(home, &h) == -1)
		return (-1);
	ia.cb = cb;
	ia.arg = arg;
	for (s = 0; s < SURFACE_COUNT && rv == 0; s++) {
		if (surface >= 0 && s != surface)
			continue;
		ia.s = s;
		home_bind(q, 1, &h);
		inv_range(st->code[s], &lo, &hi);
		sqlite3_bind_int64(q, 4, lo);
		sqlite3_bind_int64(q, 5, hi);
		sqlite3_bind_int64(q, 6, st->code[s]);
		rv = each_row(st, q, "inventory query", inv_row, &ia);
	}
	sqlite3_clear_bindings(q);
	home_free(&h);
	return (rv);
}

struct ev_arg {
	store_event_cb	 cb;
	void		*arg;
};

static int
event_row(struct store *st, sqlite3_stmt *q, void *a)
{
	struct ev_arg		*ea = a;
	struct store_event	 e;
	int			 s, k, ik;

	memset(&e, 0, sizeof(e));
	s = surface_from_name(col_text(q, 2) ? col_text(q, 2) : "");
	k = change_kind_from_name(col_text(q, 3) ? col_text(q, 3) : "");
	ik = item_kind_from_name(col_text(q, 4) ? col_text(q, 4) : "");
	if (s == -1 || k == -1 || ik == -1) {
		log_warnx("%s: change event %lld malformed", st->path,
		    (long long)sqlite3_column_int64(q, 0));
		return (-1);
	}
	e.id = sqlite3_column_int64(q, 0);
	e.ts_ms = sqlite3_column_int64(q, 1);
	e.surface = s;
	e.kind = k;
	e.item_kind = ik;
	e.item_id = col_text(q, 5);
	e.name = col_text(q, 6);
	e.path = col_text(q, 7);
	e.old_version = col_text(q, 8);
	e.new_version = col_text(q, 9);
	e.detail = col_text(q, 10);
	return (ea->cb(ea->arg, &e));
}

static int64_t
sql_limit(size_t limit)
{
	if (limit == 0 || limit > INT64_MAX)
		return (-1);
	return ((int64_t)limit);
}

int
store_query_events(struct store *st, size_t limit, const char *home,
    store_event_cb cb, void *arg)
{
	sqlite3_stmt	*q = st->st[S_EVENT_QUERY];
	struct homefilter h;
	struct ev_arg	 ea;
	int		 rv;

	if (home_prepare(home, &h) == -1)
		return (-1);
	ea.cb = cb;
	ea.arg = arg;
	home_bind(q, 1, &h);
	sqlite3_bind_int64(q, 4, sql_limit(limit));
	rv = each_row(st, q, "event query", event_row, &ea);
	sqlite3_clear_bindings(q);
	home_free(&h);
	return (rv);
}

struct fi_arg {
	store_finding_cb cb;
	void		*arg;
};

static int
finding_row(struct store *st, sqlite3_stmt *q, void *a)
{
	struct fi_arg	*fa = a;
	struct finding	 f;
	char		 ts[TIMEFMT_BUFSZ];
	const char	*id;
	int		 s, sev;

	memset(&f, 0, sizeof(f));
	id = col_text(q, 0);
	s = surface_from_name(col_text(q, 2) ? col_text(q, 2) : "");
	sev = sqlite3_column_int(q, 7);
	if (id == NULL || strlcpy(f.id, id, sizeof(f.id)) >= sizeof(f.id) ||
	    s == -1 || sev < 0 || sev >= SEVERITY_COUNT ||
	    timefmt_ms(sqlite3_column_int64(q, 1), ts) == -1) {
		log_warnx("%s: finding row malformed", st->path);
		return (-1);
	}
	f.timestamp = ts;
	f.surface = s;
	f.item_id = (char *)col_text(q, 3);
	f.rule_id = (char *)col_text(q, 4);
	f.title = (char *)col_text(q, 5);
	f.rationale = (char *)col_text(q, 6);
	f.severity = sev;
	f.item_name = (char *)col_text(q, 8);
	f.evidence_path = (char *)col_text(q, 9);
	f.evidence_detail = (char *)col_text(q, 10);
	f.matched_field = (char *)col_text(q, 11);
	f.matched_value = (char *)col_text(q, 12);
	return (fa->cb(fa->arg, &f));
}

int
store_query_findings(struct store *st, int min_severity, const char *home,
    size_t limit, store_finding_cb cb, void *arg)
{
	sqlite3_stmt	*q = st->st[S_FINDING_QUERY];
	struct homefilter h;
	struct fi_arg	 fa;
	int		 rv;

	if (min_severity >= SEVERITY_COUNT) {
		errno = EINVAL;
		return (-1);
	}
	if (home_prepare(home, &h) == -1)
		return (-1);
	fa.cb = cb;
	fa.arg = arg;
	home_bind(q, 1, &h);
	sqlite3_bind_int(q, 4, min_severity < 0 ? 0 : min_severity);
	sqlite3_bind_int64(q, 5, sql_limit(limit));
	rv = each_row(st, q, "finding query", finding_row, &fa);
	sqlite3_clear_bindings(q);
	home_free(&h);
	return (rv);
}

int
store_query_surfaces(struct store *st, store_surface_cb cb, void *arg)
{
	sqlite3_stmt			*q = st->st[S_SURFACE_GET];
	struct store_surface_stats	 ss;
	int				 s, rc, stop;

	for (s = 0; s < SURFACE_COUNT; s++) {
		memset(&ss, 0, sizeof(ss));
		ss.surface = s;
		sqlite3_bind_int64(q, 1, st->code[s]);
		if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
		    sqlite3_column_type(q, 1) != SQLITE_NULL) {
			ss.scanned = 1;
			ss.baselined = sqlite3_column_int(q, 0) != 0;
			ss.last_scan_ms = sqlite3_column_int64(q, 1);
			ss.duration_ms = sqlite3_column_int64(q, 2);
			ss.items = (uint64_t)sqlite3_column_int64(q, 3);
			ss.issues = (uint64_t)sqlite3_column_int64(q, 4);
			ss.degraded = sqlite3_column_int(q, 5) != 0;
			ss.message = col_text(q, 6);
			stop = cb(arg, &ss) == -1;
			rc = stop ? SQLITE_DONE : sqlite3_step(q);
		} else {
			stop = 0;
			if (rc == SQLITE_ROW)
				rc = sqlite3_step(q);
			if (rc == SQLITE_DONE)
				stop = cb(arg, &ss) == -1;
		}
		sqlite3_reset(q);
		if (stop)
			return (-1);
		if (rc != SQLITE_DONE)
			return (sql_fail(st, "surface query"));
	}
	return (0);
}

int
store_outbox_stats(struct store *st, const char *device_id,
    struct store_outbox_stats *os)
{
	sqlite3_stmt	*q = st->st[S_OUTBOX_STATS];
	const char	*state;
	uint64_t	 n, bytes;
	int64_t		 oldest;
	int		 rc, k;

	memset(os, 0, sizeof(*os));
	bind_text(q, 1, device_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		state = col_text(q, 0);
		n = (uint64_t)sqlite3_column_int64(q, 1);
		bytes = (uint64_t)sqlite3_column_int64(q, 2);
		oldest = sqlite3_column_int64(q, 3);
		switch ((k = outbox_state_from_name(state ? state : ""))) {
		case OUTBOX_PENDING:
			os->pending = n;
			os->oldest_pending_ms = oldest;
			break;
		case OUTBOX_INFLIGHT:
			os->inflight = n;
			break;
		case OUTBOX_ACKED:
			os->acked = n;
			break;
		case OUTBOX_POISON:
			os->poison = n;
			break;
		default:
			break;
		}
		if (k == OUTBOX_PENDING || k == OUTBOX_INFLIGHT) {
			os->backlog_events += n;
			os->backlog_bytes += bytes;
		}
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, "outbox statistics"));
	bind_text(st->st[S_OUTBOX_LASTSEQ], 1, device_id);
	return (run_int(st, S_OUTBOX_LASTSEQ, &os->last_seq));
}

struct ob_arg {
	store_outbox_cb	 cb;
	void		*arg;
};

static int
outbox_row(struct store *st, sqlite3_stmt *q, void *a)
{
	struct ob_arg		*oa = a;
	struct store_outbox_row	 r;
	const char		*id;
	int			 s, k, state, len;

	memset(&r, 0, sizeof(r));
	id = col_text(q, 0);
	s = surface_from_name(col_text(q, 4) ? col_text(q, 4) : "");
	k = change_kind_from_name(col_text(q, 5) ? col_text(q, 5) : "");
	state = outbox_state_from_name(col_text(q, 11) ? col_text(q, 11) :
	    "");
	if (id == NULL || strlcpy(r.event_id, id, sizeof(r.event_id)) >=
	    sizeof(r.event_id) || s == -1 || k == -1 || state == -1) {
		log_warnx("%s: outbox row malformed", st->path);
		return (-1);
	}
	r.device_id = col_text(q, 1);
	r.tenant_id = col_text(q, 2);
	r.local_seq = sqlite3_column_int64(q, 3);
	r.surface = s;
	r.kind = k;
	r.finding = sqlite3_column_int(q, 6) != 0;
	r.observed_ms = sqlite3_column_int64(q, 7);
	r.collected_ms = sqlite3_column_int64(q, 8);
	r.payload = sqlite3_column_blob(q, 9);
	len = sqlite3_column_bytes(q, 9);
	r.payload_len = len > 0 ? (size_t)len : 0;
	r.payload_hash = col_text(q, 10);
	r.state = state;
	r.attempts = sqlite3_column_int64(q, 12);
	r.next_attempt_ms = sqlite3_column_int64(q, 13);
	return (oa->cb(oa->arg, &r));
}

/*
 * The rows of an OB_SELECT query to cb: ?1 the device id, ?2 a sequence
 * or a time, ?3 the limit.
 */
static int
outbox_rows(struct store *st, sqlite3_stmt *q, const char *what,
    const char *device_id, int64_t v, size_t limit, store_outbox_cb cb,
    void *arg)
{
	struct ob_arg	oa;

	oa.cb = cb;
	oa.arg = arg;
	bind_text(q, 1, device_id);
	sqlite3_bind_int64(q, 2, v);
	sqlite3_bind_int64(q, 3, sql_limit(limit));
	return (each_row(st, q, what, outbox_row, &oa));
}

int
store_query_outbox(struct store *st, const char *device_id, int64_t after,
    size_t limit, store_outbox_cb cb, void *arg)
{
	sqlite3_stmt	*q = st->st[S_OUTBOX_QUERY];
	int		 rv;

	rv = outbox_rows(st, q, "outbox query", device_id, after, limit, cb,
	    arg);
	sqlite3_clear_bindings(q);
	return (rv);
}

/*
 * The sync side of the outbox (PROTOCOL.md 9, spec/README.md): every
 * change is scoped by device id, unlike the reference.  Statements are
 * prepared per call: a round touches the outbox a handful of times.
 * They refuse to run inside an open transaction (a baseline streamed
 * in pieces) so that a rollback there can never undo an ack here.
 */
static int
ob_prepare(struct store *st, const char *sql, sqlite3_stmt **q)
{
	if (sqlite3_get_autocommit(st->db) == 0) {
		log_debug("%s: outbox: a transaction is open", st->path);
		errno = EBUSY;
		return (-1);
	}
	if (sqlite3_prepare_v2(st->db, sql, -1, q, NULL) != SQLITE_OK)
		return (sql_fail(st, "outbox statement"));
	return (0);
}

/* Step a statement that returns no rows and finalize it. */
static int
ob_run(struct store *st, sqlite3_stmt *q, const char *what, int64_t *nchg)
{
	int	rc;

	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, what));
	if (nchg != NULL)
		*nchg = sqlite3_changes64(st->db);
	return (0);
}

int
store_outbox_recover(struct store *st, int64_t now_ms, int64_t *n)
{
	sqlite3_stmt	*q;

	if (ob_prepare(st, "UPDATE outbox SET state = 'pending', "
	    "updated_ms = ?1 WHERE state = 'inFlight'", &q) == -1)
		return (-1);
	sqlite3_bind_int64(q, 1, now_ms);
	return (ob_run(st, q, "outbox recovery", n));
}

int
store_outbox_ready(struct store *st, const char *device_id, int64_t now_ms,
    size_t limit, store_outbox_cb cb, void *arg)
{
	sqlite3_stmt	*q;
	int		 rv;

	if (ob_prepare(st, OB_SELECT
	    "WHERE d.device_id = ?1 AND o.state = 'pending' AND "
	    "(o.next_attempt_ms IS NULL OR o.next_attempt_ms <= ?2) "
	    "ORDER BY o.local_seq LIMIT ?3", &q) == -1)
		return (-1);
	rv = outbox_rows(st, q, "outbox ready query", device_id, now_ms,
	    limit, cb, arg);
	sqlite3_finalize(q);
	return (rv);
}

/*
 * One statement over a set of sequences, in one transaction so that a
 * crash leaves all or none of them changed.
 */
static int
ob_each_seq(struct store *st, const char *sql, const char *device_id,
    const int64_t *seqs, size_t n, int64_t a, int64_t b, int64_t *nchg)
{
	sqlite3_stmt	*q;
	size_t		 i;
	int		 rc = SQLITE_DONE;
	int64_t		 total = 0;

	if (ob_prepare(st, sql, &q) == -1)
		return (-1);
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(q);
		return (sql_fail(st, "outbox begin"));
	}
	for (i = 0; i < n; i++) {
		bind_text(q, 1, device_id);
		sqlite3_bind_int64(q, 2, seqs[i]);
		sqlite3_bind_int64(q, 3, a);
		sqlite3_bind_int64(q, 4, b);
		rc = sqlite3_step(q);
		sqlite3_reset(q);
		if (rc != SQLITE_DONE)
			break;
		total += sqlite3_changes64(st->db);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		sql_fail(st, "outbox update");
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return (-1);
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sql_fail(st, "outbox commit");
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return (-1);
	}
	if (nchg != NULL)
		*nchg = total;
	return (0);
}

#define OB_DEV	"device = (SELECT ref FROM outbox_device WHERE device_id = ?1)"

int
store_outbox_set_state(struct store *st, const char *device_id,
    const int64_t *seqs, size_t n, enum store_outbox_state s, int64_t now_ms,
    int64_t *nchg)
{
	const char	*sql;

	switch (s) {
	case OUTBOX_INFLIGHT:
		/* Only what is pending: an ack that raced stays acked. */
		sql = "UPDATE outbox SET state = 'inFlight', updated_ms = ?3 "
		    "WHERE " OB_DEV " AND local_seq = ?2 AND "
		    "state = 'pending' AND ?4 = ?4";
		break;
	case OUTBOX_ACKED:
		sql = "UPDATE outbox SET state = 'acked', updated_ms = ?3 "
		    "WHERE " OB_DEV " AND local_seq = ?2 AND "
		    "state != 'acked' AND ?4 = ?4";
		break;
	case OUTBOX_POISON:
		sql = "UPDATE outbox SET state = 'poison', updated_ms = ?3 "
		    "WHERE " OB_DEV " AND local_seq = ?2 AND ?4 = ?4";
		break;
	default:
		errno = EINVAL;
		return (-1);
	}
	return (ob_each_seq(st, sql, device_id, seqs, n, now_ms, 0, nchg));
}

int
store_outbox_ack_through(struct store *st, const char *device_id,
    int64_t seq, int64_t now_ms, int64_t *nchg)
{
	sqlite3_stmt	*q;

	if (ob_prepare(st, "UPDATE outbox SET state = 'acked', "
	    "updated_ms = ?3 WHERE " OB_DEV " AND local_seq <= ?2 AND "
	    "state != 'acked'", &q) == -1)
		return (-1);
	bind_text(q, 1, device_id);
	sqlite3_bind_int64(q, 2, seq);
	sqlite3_bind_int64(q, 3, now_ms);
	return (ob_run(st, q, "outbox ack", nchg));
}

int
store_outbox_reschedule(struct store *st, const char *device_id,
    const int64_t *seqs, size_t n, int64_t next_ms, int64_t now_ms,
    int64_t *nchg)
{
	/* Rows the response already settled are left alone (not counted). */
	return (ob_each_seq(st, "UPDATE outbox SET state = 'pending', "
	    "attempts = attempts + 1, next_attempt_ms = ?4, updated_ms = ?3 "
	    "WHERE " OB_DEV " AND local_seq = ?2 AND state = 'inFlight'",
	    device_id, seqs, n, now_ms, next_ms, nchg));
}

int
store_outbox_last_acked(struct store *st, const char *device_id,
    int64_t *seq)
{
	sqlite3_stmt	*q;

	/*
	 * Down the (device, local_seq) index from the top to the first
	 * acked row: past the backlog, not through the whole history as
	 * max() went.  No acked row: no result, and 0 stays.
	 */
	*seq = 0;
	if (ob_prepare(st, "SELECT local_seq FROM outbox WHERE " OB_DEV
	    " AND state = 'acked' ORDER BY local_seq DESC LIMIT 1", &q) == -1)
		return (-1);
	bind_text(q, 1, device_id);
	return (once_int(st, q, "outbox last ack", seq));
}

int
store_outbox_next_due(struct store *st, const char *device_id,
    int64_t *next_ms)
{
	sqlite3_stmt	*q;

	/*
	 * No pending row: no result and -1 stays.  The first pending row
	 * in the (state, next_attempt_ms) index (NULL sorts first, and a
	 * due time is never negative, so it is the least of
	 * coalesce(next_attempt_ms, 0)): "+device" keeps the planner off
	 * the (device, local_seq) index, which walked every row of the
	 * device, acknowledged ones too.
	 */
	*next_ms = -1;
	if (ob_prepare(st, "SELECT coalesce(next_attempt_ms, 0) FROM outbox "
	    "WHERE state = 'pending' AND +" OB_DEV " ORDER BY "
	    "next_attempt_ms LIMIT 1", &q) == -1)
		return (-1);
	bind_text(q, 1, device_id);
	return (once_int(st, q, "outbox next due", next_ms));
}

int
store_outbox_backlog(struct store *st, const char *device_id,
    uint64_t *events, uint64_t *bytes)
{
	sqlite3_stmt	*q;
	int		 rc;

	*events = *bytes = 0;
	/*
	 * Only the rows in these states, through the state index.  A read:
	 * like store_outbox_stats() it may run inside a transaction.
	 */
	if (sqlite3_prepare_v2(st->db, "SELECT count(*), "
	    "coalesce(sum(size), 0) FROM outbox WHERE state IN ('pending', "
	    "'inFlight') AND +" OB_DEV, -1, &q, NULL) != SQLITE_OK)
		return (sql_fail(st, "outbox backlog"));
	bind_text(q, 1, device_id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*events = (uint64_t)sqlite3_column_int64(q, 0);
		*bytes = (uint64_t)sqlite3_column_int64(q, 1);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW)
		return (sql_fail(st, "outbox backlog"));
	return (0);
}

/*
 * spec/README.md: right after enrollment the current inventory goes out
 * as `added` events, so the server holds the whole picture even of what
 * was scanned before the device had an identity.
 */
struct enq {
	struct store	*st;
	int64_t		 device;
	int64_t		 tenant;
	int64_t		 seq;
	int64_t		 now;
	size_t		 n;
};

static int
enqueue_item(void *arg, const struct item *it, const char *item_id,
    int64_t stale_ms)
{
	struct enq	*e = arg;
	struct store	*st = e->st;
	char		 id[UUID_BUFSZ], hash[SHA256_HEX_BUFSZ];

	pbuf_reset(&st->pb);
	if (pb_encode_item_event(it, item_id, &st->pb) == -1 ||
	    store_next_id(st, id) == -1 ||
	    sha256_hex(st->pb.buf, st->pb.len, hash) == -1) {
		log_warnx("%s: cannot encode an inventory event", st->path);
		return (-1);
	}
	if (outbox_insert(st, id, hash, e->device, e->tenant, e->seq,
	    it->surface, CHANGE_ADDED, 0, e->now, e->now) == -1)
		return (-1);
	e->seq++;
	e->n++;
	return (0);
}

int
store_outbox_enqueue_inventory(struct store *st, const char *device_id,
    const char *tenant_id, int64_t now_ms, size_t *n)
{
	struct enq	e;

	memset(&e, 0, sizeof(e));
	e.st = st;
	e.now = now_ms;
	if (sqlite3_get_autocommit(st->db) == 0) {
		errno = EBUSY;
		return (-1);
	}
	if (run(st, S_BEGIN) == -1)
		return (-1);
	if (outbox_refs(st, device_id, tenant_id, &e.device, &e.tenant,
	    &e.seq) == -1)
		goto fail;
	/* Every surface, every user: one event per stored row, in order. */
	if (store_query_inventory(st, -1, NULL, enqueue_item, &e) == -1)
		goto fail;
	if (e.n > 0 && outbox_last_seq(st, e.device, e.seq - 1) == -1)
		goto fail;
	if (outbox_enforce(st, NULL) == -1 || run(st, S_COMMIT) == -1)
		goto fail;
	ob_settle(st, 1);
	if (n != NULL)
		*n = e.n;
	return (0);
 fail:
	(void)run(st, S_ROLLBACK);
	ob_settle(st, 0);
	return (-1);
}

/*
 * The cap applied now, not at the next commit that adds rows (a reload
 * that lowered it).  EBUSY inside a scan's transaction: its commit
 * applies the cap.
 */
int
store_outbox_enforce_now(struct store *st)
{
	if (st->ob_max <= 0)
		return (0);
	if (sqlite3_get_autocommit(st->db) == 0) {
		errno = EBUSY;
		return (-1);
	}
	if (run(st, S_BEGIN) == -1)
		return (-1);
	if (outbox_enforce(st, NULL) == -1 || run(st, S_COMMIT) == -1) {
		(void)run(st, S_ROLLBACK);
		ob_settle(st, 0);
		return (-1);
	}
	ob_settle(st, 1);
	return (0);
}

void
store_outbox_set_max(struct store *st, long long max_bytes)
{
	int64_t	max = max_bytes > 0 ? (int64_t)max_bytes : 0;

	if (st == NULL)
		return;
	/* A lower cap may leave a row bigger than all of it. */
	if (max > 0 && (st->ob_max == 0 || max < st->ob_max))
		st->ob_recheck = 1;
	st->ob_max = max;
}

static int
ob_counter(struct store *st, const char *key, uint64_t *v)
{
	sqlite3_stmt	*q;
	int64_t		 n = 0;
	int		 rv;

	*v = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT CAST(value AS INTEGER) "
	    "FROM meta WHERE key = ?1", -1, &q, NULL) != SQLITE_OK)
		return (sql_fail(st, "outbox drop counter"));
	bind_text(q, 1, key);
	rv = once_int(st, q, "outbox drop counter", &n);
	*v = (uint64_t)n;
	return (rv);
}

int
store_outbox_usage(struct store *st, struct store_outbox_usage *u)
{
	int64_t	total;

	memset(u, 0, sizeof(*u));
	u->max_bytes = st->ob_max;
	if (st->ob_bytes >= 0 && sqlite3_get_autocommit(st->db) != 0)
		total = st->ob_bytes;
	else if (ob_sum(st, &total) == -1)
		return (-1);
	u->bytes = (uint64_t)total;
	if (ob_counter(st, OB_KEY_INV, &u->dropped_inventory) == -1 ||
	    ob_counter(st, OB_KEY_FIND, &u->dropped_findings) == -1 ||
	    ob_counter(st, OB_KEY_ACKED, &u->pruned_acked) == -1)
		return (-1);
	return (0);
}

/* meta rows of the sensor's own (store_meta_get, store_meta_set) */

int
store_meta_get(struct store *st, const char *key, char *buf, size_t len)
{
	sqlite3_stmt	*q;
	const char	*v;
	int		 rc, rv = 0;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?1",
	    -1, &q, NULL) != SQLITE_OK)
		return (sql_fail(st, "meta"));
	bind_text(q, 1, key);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if ((v = (const char *)sqlite3_column_text(q, 0)) != NULL &&
		    strlcpy(buf, v, len) < len)
			rv = 1;
		else
			buf[0] = '\0';
	} else if (rc != SQLITE_DONE)
		rv = sql_fail(st, "meta");
	sqlite3_finalize(q);
	return (rv);
}

int
store_meta_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (sqlite3_prepare_v2(st->db, "INSERT INTO meta (key, value) "
	    "VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
	    -1, &q, NULL) != SQLITE_OK)
		return (sql_fail(st, "meta"));
	bind_text(q, 1, key);
	bind_text(q, 2, value);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return (sql_fail(st, "meta"));
	return (0);
}
