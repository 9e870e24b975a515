/*
 * The state database's schemas 4 and 5 (issue 14): a database made by
 * the schema 3 code opens, migrates and shows the same inventory byte
 * for byte, each file's rows then found by the runs of ids in its
 * listing; details and versions are stored compactly only where they
 * come back exactly (nested npm entries' URLs too); a baseline's
 * duplicate ids are caught in memory as in the table; the WAL
 * checkpoint is left to store_checkpoint() (the idle timer), and a
 * commit survives a killed process without it.
 */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "compat.h"
#include "log.h"
#include "store.h"

static char	 tmpdir[64];
static char	 statedir[128];
static char	 dbpath[192];

static int
rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	return (remove(p));
}

static void
setup(void)
{
	log_init(1, LOG_USER);
	strlcpy(tmpdir, "/tmp/test_store_schema.XXXXXX", sizeof(tmpdir));
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(statedir, sizeof(statedir), "%s/state", tmpdir);
	snprintf(dbpath, sizeof(dbpath), "%s/%s", statedir, STORE_DBNAME);
}

static void
teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store_schema, .init = setup, .fini = teardown);

static struct store *
open_ok(void)
{
	struct store	*st;
	char		 err[512];

	st = store_open(statedir, err, sizeof(err));
	cr_assert_not_null(st, "store_open: %s", err);
	cr_assert_eq(store_rebuilt(st), 0);
	return (st);
}

/* One text (or NULL) from a query. */
static char *
db_text(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*q;
	char		*v = NULL;

	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		v = strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
	return (v);
}

/*
 * The schema as kobangd wrote it up to version 3, verbatim from
 * kobangd/store.c before issue 14: the old code's database, built here.
 */
#define OLD_KIND_CHECK	"kind = 'added' OR kind = 'removed' OR kind = 'modified'"

static const char *const old_schema_v1 =
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
    "  kind TEXT NOT NULL CHECK (" OLD_KIND_CHECK "),"
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
    "  kind TEXT NOT NULL CHECK (" OLD_KIND_CHECK "),"
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
static const char *const old_schema_v2 =
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
static const char *const old_schema_v3 =
    "ALTER TABLE scanned ADD COLUMN stale_ms INTEGER;"
    "ALTER TABLE scanned ADD COLUMN unbaselined INTEGER NOT NULL "
    "  DEFAULT 0;";


static char	 dtbuf[64];

/* One integer as text, on an open connection. */
static const char *
db_text_in(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*q;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	snprintf(dtbuf, sizeof(dtbuf), "%lld",
	    (long long)sqlite3_column_int64(q, 0));
	sqlite3_finalize(q);
	return (dtbuf);
}

/* An item as the old code stored it, and as it must come back. */
struct oldrow {
	int		 id;		/* old row id: the order */
	enum surface	 surface;
	const char	*path;
	const char	*kind;
	const char	*name;
	const char	*version;
	const char	*origin;
	int		 ior;		/* -1: NULL */
	const char	*detail;
};

/* sha512("kobangd") in base64, as npm writes integrity. */
#define SHA512_A	"sha512-90/dA8avxCsm/W76qpdtypfFgbw38/37mN9O5sId1fNUDJvt3" \
			"sven7zh/ZrfI7DciQX78v+Pm07WLO33wgIhtQ=="

static const struct oldrow oldrows[] = {
	{ 1, SURFACE_JAVASCRIPT, "/home/alice/a/package-lock.json", "package",
	    "@babel/core", "7.24.0", "npm", -1,
	    "resolved=https://registry.npmjs.org/@babel/core/-/core-7.24.0.tgz "
	    "integrity=" SHA512_A " scope=dev" },
	{ 2, SURFACE_CLAUDE, "/home/alice/.claude.json", "mcpServer",
	    "weather", NULL, "npx weather-mcp", -1, NULL },
	{ 3, SURFACE_JAVASCRIPT, "/home/alice/a/package-lock.json", "package",
	    "left-pad", "1.3.0-rc.1", "npm", -1,
	    "resolved=https://example.com/lp.tgz integrity=sha1-abc=" },
	{ 5, SURFACE_JAVASCRIPT, "/home/bob/b/package-lock.json", "package",
	    "zod", "3.25.76", "npm", 1, "scope=optional" },
	{ 7, SURFACE_CLAUDE, "/home/alice/.claude.json", "skill", "a-skill", "1",
	    "", 0, "odd  detail " },
};

/* The old database: schema 1 to version, the rows above, WAL mode. */
static void
make_old(int version)
{
	sqlite3		*db;
	sqlite3_stmt	*q;
	char		 sql[512];
	size_t		 i;
	int		 s;

	cr_assert_eq(mkdir(statedir, 0700), 0);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL,
	    NULL, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, old_schema_v1, NULL, NULL, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(db));
	if (version >= 2)
		cr_assert_eq(sqlite3_exec(db, old_schema_v2, NULL, NULL,
		    NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	if (version >= 3)
		cr_assert_eq(sqlite3_exec(db, old_schema_v3, NULL, NULL,
		    NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	/* The old open made a row per surface in enum order. */
	for (s = 0; s < SURFACE_COUNT; s++) {
		snprintf(sql, sizeof(sql), "INSERT INTO surface (name, "
		    "baselined) VALUES ('%s', %d)", surface_name(s),
		    s == SURFACE_JAVASCRIPT || s == SURFACE_CLAUDE);
		cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
	}
	cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO inventory (id, "
	    "surface, file, kind, name, version, origin, "
	    "installed_on_request, detail) VALUES (?1, (SELECT code FROM "
	    "surface WHERE name = ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &q,
	    NULL), SQLITE_OK);
	for (i = 0; i < nitems(oldrows); i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO file (path) VALUES "
		    "('%s') ON CONFLICT DO NOTHING", oldrows[i].path);
		cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_bind_int(q, 1, oldrows[i].id);
		sqlite3_bind_text(q, 2, surface_name(oldrows[i].surface), -1,
		    SQLITE_STATIC);
		snprintf(sql, sizeof(sql), "SELECT id FROM file WHERE path = "
		    "'%s'", oldrows[i].path);
		sqlite3_bind_int(q, 3, atoi(db_text_in(db, sql)));
		sqlite3_bind_text(q, 4, oldrows[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 5, oldrows[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 6, oldrows[i].version, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 7, oldrows[i].origin, -1, SQLITE_STATIC);
		if (oldrows[i].ior < 0)
			sqlite3_bind_null(q, 8);
		else
			sqlite3_bind_int(q, 8, oldrows[i].ior);
		sqlite3_bind_text(q, 9, oldrows[i].detail, -1, SQLITE_STATIC);
		cr_assert_eq(sqlite3_step(q), SQLITE_DONE, "%s",
		    sqlite3_errmsg(db));
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	/* As schema 2 and 3 did: every file with rows listed; bob's stale. */
	if (version >= 3)
		cr_assert_eq(sqlite3_exec(db, "INSERT INTO scanned (surface, "
		    "file) SELECT DISTINCT surface, file FROM inventory; "
		    "UPDATE scanned SET stale_ms = 123, unbaselined = 1 WHERE "
		    "file = (SELECT id FROM file WHERE path = "
		    "'/home/bob/b/package-lock.json')", NULL, NULL, NULL),
		    SQLITE_OK, "%s", sqlite3_errmsg(db));
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Every inventory row as one line of its fields, in query order. */
struct lines {
	char	*v[64];
	size_t	 n;
};

static int
line_cb(void *arg, const struct item *it, const char *id, int64_t stale)
{
	struct lines	*l = arg;

	cr_assert_lt(l->n, nitems(l->v));
	cr_assert_neq(asprintf(&l->v[l->n++], "%s|%s|%s|%s|%s|%s|%d|%s|%s|%lld",
	    surface_name(it->surface), item_kind_name(it->kind), it->name,
	    it->version ? it->version : "(nil)", it->path, it->origin,
	    it->installed_on_request, it->detail ? it->detail : "(nil)", id,
	    (long long)stale), -1);
	return (0);
}

static void
lines_free(struct lines *l)
{
	while (l->n > 0)
		free(l->v[--l->n]);
}

static struct item
item_of(const struct oldrow *r)
{
	struct item	it;

	memset(&it, 0, sizeof(it));
	it.surface = r->surface;
	cr_assert_neq((int)(it.kind = item_kind_from_name(r->kind)), -1);
	it.name = (char *)r->name;
	it.version = (char *)r->version;
	it.path = (char *)r->path;
	it.origin = (char *)r->origin;
	it.installed_on_request = r->ior < 0 ? ITEM_BOOL_NIL : r->ior;
	it.detail = (char *)r->detail;
	return (it);
}

/* What the old code's query gave: surfaces in enum order, then row id. */
static void
expected(struct lines *l, const int *skip, size_t nskip)
{
	struct item	it;
	char		*id;
	size_t		 i, k;
	int		 s;

	for (s = 0; s < SURFACE_COUNT; s++)
		for (i = 0; i < nitems(oldrows); i++) {
			if (oldrows[i].surface != (enum surface)s)
				continue;
			for (k = 0; k < nskip; k++)
				if (skip[k] == oldrows[i].id)
					break;
			if (k < nskip)
				continue;
			it = item_of(&oldrows[i]);
			cr_assert_not_null(id = item_id(&it));
			line_cb(l, &it, id, strstr(it.path, "bob") ? 123 : 0);
			free(id);
		}
}

static void
same_lines(struct lines *got, struct lines *want)
{
	size_t	i;

	cr_assert_eq(got->n, want->n);
	for (i = 0; i < got->n; i++)
		cr_assert_str_eq(got->v[i], want->v[i]);
}

/*
 * The n items it as a baseline of their surface, then show inventory:
 * each item as it went in, in that order.  The store is closed after.
 */
static void
baseline_shows_back(struct item *it, size_t n)
{
	struct store		*st;
	struct lines		 got = { 0 }, want = { 0 };
	struct store_scan	 sc;
	char			*id;
	size_t			 i;

	st = open_ok();
	memset(&sc, 0, sizeof(sc));
	sc.surface = it[0].surface;
	sc.baseline = 1;
	sc.items = it;
	sc.nitems = n;
	sc.max_events = sc.max_findings = -1;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	cr_assert_eq(store_query_inventory(st, -1, NULL, line_cb, &got), 0);
	for (i = 0; i < n; i++) {
		cr_assert_not_null(id = item_id(&it[i]));
		line_cb(&want, &it[i], id, 0);
		free(id);
	}
	same_lines(&got, &want);
	lines_free(&got);
	lines_free(&want);
	store_close(st);
}

/*
 * A schema 3 database opens as schema 5: every row kept in its order
 * with every field, the listing and stale times kept, the surface
 * index gone, and the file index too, each file's rows kept as runs
 * of ids in its listing; it then takes changes and a new baseline,
 * which packs the details, and still shows the same.
 */
Test(store_schema, migrate_from_v3)
{
	struct store		*st;
	struct lines		 got = { 0 }, want = { 0 };
	struct store_scan	 sc;
	struct change		 ch[2];
	struct item		 it[3], add;
	struct store_file	*lf;
	struct item		*items;
	char			*v;
	size_t			 n;

	make_old(3);
	st = open_ok();
	cr_assert_eq(store_baselined(st, SURFACE_JAVASCRIPT), 1);
	cr_assert_eq(store_query_inventory(st, -1, NULL, line_cb, &got), 0);
	expected(&want, NULL, 0);
	same_lines(&got, &want);
	lines_free(&got);
	cr_assert_eq(store_load_files(st, SURFACE_JAVASCRIPT, &lf, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(lf[1].stale_ms, 123);
	cr_assert_eq(lf[1].unbaselined, 1);
	store_files_free(lf, n);
	/* Schema 5: a file's rows found by the runs kept with its listing. */
	cr_assert_eq(store_load_file_items(st, SURFACE_JAVASCRIPT,
	    "/home/alice/a/package-lock.json", &items, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(items[0].name, "@babel/core");
	cr_assert_str_eq(items[1].name, "left-pad");
	store_items_free(items, n);
	store_close(st);
	cr_assert_str_eq(v = db_text("PRAGMA user_version"), "5");
	free(v);
	cr_assert_null(db_text("SELECT name FROM sqlite_schema WHERE name IN "
	    "('inventory_order', 'inventory_key', 'inventory_v4', "
	    "'inventory_file')"));
	/*
	 * Alice's two rows, the surface's first two (code 7 << 32, plus 1
	 * and 2): one run, its start a varint from 0 and its length 2.
	 */
	cr_assert_str_eq(v = db_text("SELECT (SELECT code FROM surface WHERE "
	    "name = 'javascriptPackages') || ':' || group_concat(hex(s.rows), "
	    "',') FROM scanned s JOIN file f ON f.id = s.file WHERE f.path = "
	    "'/home/alice/a/package-lock.json'"), "7:818080807002");
	free(v);
	/* Migrated rows are packed as new ones are; kinds are codes. */
	cr_assert_str_eq(v = db_text("SELECT typeof(detail) || "
	    "length(detail) || typeof(version) || typeof(kind) FROM "
	    "inventory WHERE name = '@babel/core'"), "blob65integerinteger");
	free(v);
	cr_assert_str_eq(v = db_text("SELECT typeof(detail) || "
	    "typeof(version) FROM inventory WHERE name = 'left-pad'"),
	    "blobtext");
	free(v);
	cr_assert_str_eq(v = db_text("SELECT typeof(detail) FROM inventory "
	    "WHERE name = 'a-skill'"), "text");
	free(v);

	/* A change: left-pad goes, "added" comes last. */
	st = open_ok();
	it[0] = item_of(&oldrows[2]);
	add = item_of(&oldrows[0]);
	add.name = "added";
	add.version = "1.0.0";
	add.detail = "resolved=https://registry.npmjs.org/added/-/added-1.0.0.tgz";
	memset(ch, 0, sizeof(ch));
	ch[0].kind = CHANGE_REMOVED;
	ch[0].old = &it[0];
	ch[1].kind = CHANGE_ADDED;
	ch[1].new = &add;
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.changes = ch;
	sc.nchanges = 2;
	sc.count_by_changes = 1;
	sc.max_events = sc.max_findings = -1;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	cr_assert_eq(store_query_inventory(st, SURFACE_JAVASCRIPT, NULL,
	    line_cb, &got), 0);
	cr_assert_eq(got.n, 3);
	cr_assert_not_null(strstr(got.v[0], "@babel/core"));
	cr_assert_not_null(strstr(got.v[1], "zod"));
	cr_assert_str_eq(got.v[2], "javascriptPackages|package|added|1.0.0|"
	    "/home/alice/a/package-lock.json|npm|-1|resolved=https://"
	    "registry.npmjs.org/added/-/added-1.0.0.tgz|javascriptPackages/"
	    "package//home/alice/a/package-lock.json/added/1.0.0|0");
	lines_free(&got);

	/* A new baseline of the old rows: packed, and shown the same. */
	it[0] = item_of(&oldrows[0]);
	it[1] = item_of(&oldrows[2]);
	it[2] = item_of(&oldrows[3]);
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.baseline = 1;
	sc.items = it;
	sc.nitems = 3;
	sc.max_events = sc.max_findings = -1;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	cr_assert_eq(store_query_inventory(st, -1, NULL, line_cb, &got), 0);
	lines_free(&want);
	expected(&want, NULL, 0);
	/* Bob's file is no longer stale: the baseline listed nothing. */
	cr_assert_not_null(strstr(want.v[4], "/zod/3.25.76|123"));
	free(want.v[4]);
	cr_assert_neq(asprintf(&want.v[4], "%.*s|0", (int)(strrchr(got.v[4],
	    '|') - got.v[4]), got.v[4]), -1);
	same_lines(&got, &want);
	lines_free(&got);
	lines_free(&want);
	store_close(st);
	cr_assert_str_eq(v = db_text("SELECT typeof(detail) || length(detail) "
	    "FROM inventory WHERE name = '@babel/core'"), "blob65");
	free(v);
}

/*
 * A schema 1 database (before the file listing): every file with rows
 * comes out listed, to be read again, and the rows are all there.
 */
Test(store_schema, migrate_from_v1)
{
	struct store		*st;
	struct store_file	*lf;
	size_t			 n;
	int64_t			 c;
	char			*v;

	make_old(1);
	st = open_ok();
	cr_assert_eq(store_load_files(st, SURFACE_JAVASCRIPT, &lf, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(lf[0].path, "/home/alice/a/package-lock.json");
	cr_assert_eq(lf[0].state, STORE_FP_UNSET);
	cr_assert_str_eq(lf[1].path, "/home/bob/b/package-lock.json");
	cr_assert_eq(lf[1].stale_ms, 0);
	store_files_free(lf, n);
	cr_assert_eq(store_load_files(st, SURFACE_CLAUDE, &lf, &n), 0);
	cr_assert_eq(n, 1);
	store_files_free(lf, n);
	cr_assert_eq(store_baseline_begin(st, SURFACE_HOMEBREW), 0);
	store_baseline_abort(st);
	cr_assert_eq(store_item_count(st, SURFACE_JAVASCRIPT, &c), 0);
	store_close(st);
	cr_assert_str_eq(v = db_text("SELECT count(*) FROM inventory"), "5");
	free(v);
}

/* Details and versions: packed where they come back exactly, else TEXT. */
static const char *const details[] = {
	"resolved=https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz "
	    "integrity=" SHA512_A,
	"resolved=https://registry.npmjs.org/@types/node/-/node-4.17.21.tgz "
	    "integrity=" SHA512_A " scope=optional",
	"resolved=https://registry.npmjs.org/@types/node/-/node-4.17.21.tgz",
	"integrity=" SHA512_A,
	"scope=dev",
	"scope=optional",
	/* Another registry: the URL spelt out, the hash still packed. */
	"resolved=https://npm.example.com/lodash/-/lodash-4.17.21.tgz "
	    "integrity=" SHA512_A " scope=dev",
	/* The registry's URL of another version or name: spelt out. */
	"resolved=https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz",
	"resolved=https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz?x",
	/* Not base64 that encodes back the same (low bits set). */
	"integrity=sha512-90/dA8avxCsm/W76qpdtypfFgbw38/37mN9O5sId1fNUDJvt3"
	    "sven7zh/ZrfI7DciQX78v+Pm07WLO33wgIhtR==",
	"integrity=sha512-short==",
	"integrity=sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
	"integrity=" SHA512_A " integrity=" SHA512_A,
	/* Out of order, doubled spaces, trailing space, unknown fields. */
	"integrity=" SHA512_A " resolved=https://registry.npmjs.org/lodash/-/"
	    "lodash-4.17.21.tgz",
	"resolved=https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz  "
	    "scope=dev",
	"scope=dev ",
	"resolved=https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz ",
	"integrity=" SHA512_A " ",
	"scope=prod",
	"resolved= integrity=",
	"resolved=",
	"",
	"tap=homebrew/core",
	"resolved=a b",
	NULL,
};
/* BLOB: the grammar's fields, in order, each maybe spelt out. */
static const int packed[] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0,
	0, 0
};

static const char *const versions[] = {
	"4.17.21", "0.0.0", "1023.1023.1023", "1024.0.0", "01.2.3", "1.02.3",
	"1.2", "1.2.3.4", "1.2.3-beta.1", "v1.2.3", "+1.2.3", "-1.2.3",
	"1.2.", ".1.2", "", "00000000001.2.3", "1..3", NULL,
};
static const int vpacked[] = {
	1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

Test(store_schema, details_and_versions_come_back_exactly)
{
	struct item		 it[nitems(details) + nitems(versions)];
	char			 sql[256], *v;
	size_t			 i, n = 0;

	cr_assert_eq(nitems(packed), nitems(details));
	cr_assert_eq(nitems(vpacked), nitems(versions));
	memset(it, 0, sizeof(it));
	for (i = 0; i < nitems(details); i++, n++) {
		it[n].surface = SURFACE_JAVASCRIPT;
		it[n].kind = KIND_PACKAGE;
		/* Names that make the registry URLs above theirs. */
		it[n].name = i == 1 || i == 2 ? "@types/node" : "lodash";
		it[n].version = "4.17.21";
		cr_assert_neq(asprintf(&it[n].path, "/p/%zu/package-lock.json",
		    i), -1);
		it[n].origin = "npm";
		it[n].installed_on_request = ITEM_BOOL_NIL;
		it[n].detail = (char *)details[i];
	}
	for (i = 0; i < nitems(versions); i++, n++) {
		it[n] = it[0];
		cr_assert_neq(asprintf(&it[n].path, "/v/%zu/package-lock.json",
		    i), -1);
		it[n].version = (char *)versions[i];
	}
	baseline_shows_back(it, n);
	for (i = 0; i < nitems(details); i++) {
		snprintf(sql, sizeof(sql), "SELECT typeof(i.detail) FROM "
		    "inventory i JOIN file f ON f.id = i.file WHERE f.path = "
		    "'%s'", it[i].path);
		v = db_text(sql);
		cr_assert_str_eq(v ? v : "", details[i] == NULL ? "null" :
		    packed[i] ? "blob" : "text", "detail %zu: %s", i, v);
		free(v);
	}
	/* npm's detail: 65 bytes. */
	snprintf(sql, sizeof(sql), "SELECT typeof(i.detail) || "
	    "length(i.detail) FROM inventory i JOIN file f ON f.id = i.file "
	    "WHERE f.path = '%s'", it[0].path);
	cr_assert_str_eq(v = db_text(sql), "blob65");
	free(v);
	for (i = 0; i < nitems(versions); i++) {
		snprintf(sql, sizeof(sql), "SELECT typeof(i.version) FROM "
		    "inventory i JOIN file f ON f.id = i.file WHERE f.path = "
		    "'%s'", it[nitems(details) + i].path);
		v = db_text(sql);
		cr_assert_str_eq(v ? v : "", versions[i] == NULL ? "null" :
		    vpacked[i] ? "integer" : "text", "version %zu: %s", i, v);
		free(v);
	}
	for (i = 0; i < n; i++)
		free(it[i].path);
}

/*
 * A baseline's duplicates: within a piece (checked in memory) and in a
 * file a later piece comes back to (checked in the table) alike; the
 * version tells packages apart, not MCP servers.
 */
Test(store_schema, baseline_duplicates)
{
	struct store			*st;
	struct item			 v[6], *snap;
	struct store_commit_result	 res;
	struct store_scan		 sc;
	size_t				 n;

	memset(v, 0, sizeof(v));
	for (n = 0; n < nitems(v); n++) {
		v[n].surface = SURFACE_JAVASCRIPT;
		v[n].kind = KIND_PACKAGE;
		v[n].path = n < 4 ? "/a/package-lock.json" :
		    "/b/package-lock.json";
		v[n].origin = "npm";
		v[n].installed_on_request = ITEM_BOOL_NIL;
	}
	v[0].name = "zod";	v[0].version = "1.0.0";
	v[1].name = "zod";	v[1].version = "2.0.0";	/* another id */
	v[2].name = "zod";	v[2].version = "1.0.0";	/* duplicate */
	v[3].name = "zod";	v[3].version = NULL;	/* another id */
	v[4].name = "ms";	v[4].version = "1.0.0";
	v[5].name = "zod";	v[5].version = "1.0.0";	/* another file */
	st = open_ok();
	cr_assert_eq(store_baseline_begin(st, SURFACE_JAVASCRIPT), 0);
	cr_assert_eq(store_baseline_add(st, v, 6), 0);
	/* Back to /a: duplicates of the first piece's rows are skipped. */
	cr_assert_eq(store_baseline_add(st, v, 4), 0);
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.baseline = 1;
	sc.max_events = sc.max_findings = -1;
	cr_assert_eq(store_baseline_end(st, &sc, &res), 0);
	cr_assert_eq(store_load_snapshot(st, SURFACE_JAVASCRIPT, &snap, &n), 0);
	cr_assert_eq(n, 5);
	cr_assert_str_eq(snap[1].version, "2.0.0");
	cr_assert_null(snap[2].version);
	cr_assert_str_eq(snap[3].name, "ms");
	cr_assert_str_eq(snap[4].path, "/b/package-lock.json");
	store_items_free(snap, n);

	/* MCP servers: the version is not identity. */
	for (n = 0; n < 4; n++) {
		v[n].surface = SURFACE_CLAUDE;
		v[n].kind = KIND_MCP_SERVER;
	}
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_CLAUDE;
	sc.baseline = 1;
	sc.items = v;
	sc.nitems = 4;
	sc.max_events = sc.max_findings = -1;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	cr_assert_eq(store_load_snapshot(st, SURFACE_CLAUDE, &snap, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(snap[0].version, "1.0.0");
	store_items_free(snap, n);
	store_close(st);
}

static off_t
fsize(const char *suffix)
{
	struct stat	sb;
	char		p[256];

	snprintf(p, sizeof(p), "%s%s", dbpath, suffix);
	return (stat(p, &sb) == 0 ? sb.st_size : 0);
}

#define BIG	20000

static void
big_baseline(struct store *st, struct item *v)
{
	struct store_scan	sc;
	static char		origin[256];
	size_t			i;

	/* Rows of some 300 bytes: 20,000 of them fill 1,500 pages. */
	memset(origin, 'o', sizeof(origin) - 1);
	for (i = 0; i < BIG; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].surface = SURFACE_JAVASCRIPT;
		v[i].kind = KIND_PACKAGE;
		cr_assert_neq(asprintf(&v[i].name, "pkg-%zu", i), -1);
		v[i].version = "1.0.0";
		v[i].path = i < BIG / 2 ? "/a/package-lock.json" :
		    "/b/package-lock.json";
		v[i].origin = origin;
		v[i].installed_on_request = ITEM_BOOL_NIL;
	}
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.baseline = 1;
	sc.items = v;
	sc.nitems = BIG;
	sc.max_events = sc.max_findings = -1;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
}

/*
 * A commit of more than 1,000 pages leaves them in the WAL (SQLite
 * would have copied them into the database inside the COMMIT);
 * store_checkpoint() moves them.
 */
Test(store_schema, checkpoint_left_to_idle)
{
	struct store	*st;
	struct item	*v;
	off_t		 db0;
	size_t		 i;

	cr_assert_not_null(v = calloc(BIG, sizeof(*v)));
	st = open_ok();
	db0 = fsize("");
	big_baseline(st, v);
	cr_assert_gt(fsize("-wal"), 1000 * 4096);
	cr_assert_eq(fsize(""), db0, "the commit checkpointed");
	cr_assert_eq(store_checkpoint(st), 0);
	cr_assert_gt(fsize(""), 1000 * 4096);
	store_close(st);
	for (i = 0; i < BIG; i++)
		free(v[i].name);
	free(v);
}

/* A committed baseline outlives a process killed before any checkpoint. */
Test(store_schema, commit_survives_kill_without_checkpoint)
{
	struct store	*st;
	struct item	*v;
	int64_t		 n;
	pid_t		 pid;
	int		 status;

	cr_assert_not_null(v = calloc(BIG, sizeof(*v)));
	if ((pid = fork()) == 0) {
		st = open_ok();
		big_baseline(st, v);
		/* No store_close, no checkpoint: as kill -9 would. */
		_exit(fsize("-wal") > 1000 * 4096 ? 0 : 1);
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	st = open_ok();
	cr_assert_eq(store_item_count(st, SURFACE_JAVASCRIPT, &n), 0);
	cr_assert_eq(n, BIG);
	cr_assert_eq(store_baselined(st, SURFACE_JAVASCRIPT), 1);
	store_close(st);
	free(v);
}

/*
 * Nested npm entries ("a/node_modules/b"): the URL of b's tarball is
 * not spelt out (schema 5), any other URL is, and every detail comes
 * back as it came.
 */
static const struct {
	const char	*name;
	const char	*url;
	int		 len;		/* of the stored BLOB */
} nested[] = {
	{ "a/node_modules/@vue/x", "@vue/x/-/x-1.0.0.tgz", 65 },
	{ "a/node_modules/b/node_modules/c", "c/-/c-1.0.0.tgz", 65 },
	/* The whole name's URL, as before schema 5. */
	{ "a/node_modules/b", "a/node_modules/b/-/b-1.0.0.tgz", 65 },
	/* Another package's, and an empty nested name: spelt out. */
	{ "a/node_modules/b", "c/-/c-1.0.0.tgz", 65 + 43 },
	{ "a/node_modules/", "/-/-1.0.0.tgz", 65 + 41 },
	{ "a/node_modules/b", "a/-/b-1.0.0.tgz", 65 + 43 },
};

Test(store_schema, nested_package_urls)
{
	struct item		 it[nitems(nested)];
	char			 sql[256], *v, len[16];
	size_t			 i;

	memset(it, 0, sizeof(it));
	for (i = 0; i < nitems(nested); i++) {
		it[i].surface = SURFACE_JAVASCRIPT;
		it[i].kind = KIND_PACKAGE;
		it[i].name = (char *)nested[i].name;
		it[i].version = "1.0.0";
		cr_assert_neq(asprintf(&it[i].path, "/n/%zu/package-lock.json",
		    i), -1);
		it[i].origin = "npm";
		it[i].installed_on_request = ITEM_BOOL_NIL;
		cr_assert_neq(asprintf(&it[i].detail, "resolved=https://"
		    "registry.npmjs.org/%s integrity=" SHA512_A " scope=dev",
		    nested[i].url), -1);
	}
	baseline_shows_back(it, nitems(nested));
	for (i = 0; i < nitems(nested); i++) {
		snprintf(sql, sizeof(sql), "SELECT typeof(i.detail) || "
		    "length(i.detail) FROM inventory i JOIN file f ON "
		    "f.id = i.file WHERE f.path = '%s'", it[i].path);
		snprintf(len, sizeof(len), "blob%d", nested[i].len);
		cr_assert_str_eq(v = db_text(sql), len, "%s: %s", it[i].name,
		    v);
		free(v);
		free(it[i].path);
		free(it[i].detail);
	}
}
