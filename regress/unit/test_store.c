/*
 * The state database: baseline and normal commits with their outbox rows
 * in PROTOCOL.md 8.3 order (payloads decoded, hashes checked, sequences
 * gap-free per device), no outbox when not asked, rollback, retention,
 * corruption recovery, the held callback with the rule engine, queries
 * with a home prefix, permissions and schema versions.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "compat.h"
#include "differ.h"
#include "log.h"
#include "pb.h"
#include "rules.h"
#include "sha256.h"
#include "store.h"
#include "timefmt.h"
#include "uuid.h"

#define T0	1780308000000LL		/* 2026-06-01T10:00:00.000Z */

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
	log_init(1, LOG_USER);		/* warnings to stderr */
	strlcpy(tmpdir, "/tmp/test_store.XXXXXX", sizeof(tmpdir));
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(statedir, sizeof(statedir), "%s/state", tmpdir);
	snprintf(dbpath, sizeof(dbpath), "%s/%s", statedir, STORE_DBNAME);
}

static void
teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store, .init = setup, .fini = teardown);

static struct store *
open_ok(void)
{
	struct store	*st;
	char		 err[512];

	st = store_open(statedir, err, sizeof(err));
	cr_assert_not_null(st, "store_open: %s", err);
	return (st);
}

/* Deterministic v4 ids: 00000000-0000-4000-8000-<counter>. */
static int
counter_next(void *arg, char out[UUID_BUFSZ])
{
	unsigned int	*n = arg;

	snprintf(out, UUID_BUFSZ, "00000000-0000-4000-8000-%012X", ++*n);
	return (0);
}

static struct item
js(const char *home, const char *name, const char *version)
{
	struct item	it;
	char		path[256];

	memset(&it, 0, sizeof(it));
	it.surface = SURFACE_JAVASCRIPT;
	it.kind = KIND_PACKAGE;
	it.name = strdup(name);
	it.version = version ? strdup(version) : NULL;
	snprintf(path, sizeof(path), "%s/src/app/package-lock.json", home);
	it.path = strdup(path);
	it.origin = strdup("npm");
	it.installed_on_request = ITEM_BOOL_NIL;
	it.detail = strdup("resolved=https://registry.npmjs.org/x.tgz");
	return (it);
}

static void
items_free(struct item *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].version);
		free(v[i].path);
		free(v[i].origin);
		free(v[i].detail);
	}
}

static struct finding
mkfinding(const struct item *it, const char *rule, enum severity sev,
    unsigned int n, int64_t ts)
{
	struct finding	f;
	char		tsbuf[TIMEFMT_BUFSZ];

	memset(&f, 0, sizeof(f));
	snprintf(f.id, sizeof(f.id), "11111111-2222-4333-8444-%012X", n);
	cr_assert_eq(timefmt_ms(ts, tsbuf), 0);
	f.timestamp = strdup(tsbuf);
	f.surface = it->surface;
	f.item_id = item_id(it);
	f.rule_id = strdup(rule);
	f.title = strdup("A title");
	f.rationale = strdup("A rationale.");
	f.severity = sev;
	f.item_name = strdup(it->name);
	f.evidence_path = strdup(it->path);
	f.evidence_detail = it->detail ? strdup(it->detail) : NULL;
	f.matched_field = strdup("name");
	f.matched_value = strdup(it->name);
	return (f);
}

static void
findings_free(struct finding *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		finding_free(&v[i]);
}

/* Collect outbox rows with their payloads decoded. */
struct orow {
	struct store_outbox_row	 r;
	char			 device[64];
	char			 tenant[64];
	int			 has_tenant;
	struct pb_payload	 pl;
};

struct orows {
	struct orow	*v;
	size_t		 n;
};

static int
collect_outbox(void *arg, const struct store_outbox_row *r)
{
	struct orows	*o = arg;
	struct orow	*x;
	char		 hash[SHA256_HEX_BUFSZ], err[128];

	o->v = reallocarray(o->v, o->n + 1, sizeof(*o->v));
	cr_assert_not_null(o->v);
	x = &o->v[o->n++];
	memset(x, 0, sizeof(*x));
	x->r = *r;
	strlcpy(x->device, r->device_id, sizeof(x->device));
	if (r->tenant_id != NULL) {
		x->has_tenant = 1;
		strlcpy(x->tenant, r->tenant_id, sizeof(x->tenant));
	}
	x->r.payload = NULL;
	x->r.payload_hash = NULL;
	x->r.device_id = x->r.tenant_id = NULL;
	/* Every row: the hash is of the exact bytes, which decode. */
	cr_assert_eq(sha256_hex(r->payload, r->payload_len, hash), 0);
	cr_assert_str_eq(r->payload_hash, hash);
	cr_assert_eq(pb_decode_payload(r->payload, r->payload_len, &x->pl,
	    err, sizeof(err)), 0, "seq %lld: %s", (long long)r->local_seq,
	    err);
	cr_assert(x->pl.canonical);
	cr_assert(uuid_valid_v4(r->event_id));
	cr_assert_eq(r->state, OUTBOX_PENDING);
	cr_assert_eq(r->attempts, 0);
	cr_assert_eq(r->next_attempt_ms, 0);
	return (0);
}

static void
outbox_load(struct store *st, const char *device, struct orows *o)
{
	memset(o, 0, sizeof(*o));
	cr_assert_eq(store_query_outbox(st, device, 0, 0, collect_outbox, o),
	    0);
}

static void
outbox_free(struct orows *o)
{
	size_t	i;

	for (i = 0; i < o->n; i++)
		pb_payload_free(&o->v[i].pl);
	free(o->v);
}

static void
assert_item_row(const struct orow *x, enum change_kind kind,
    const struct item *it)
{
	char	*id = item_id(it);

	cr_assert_eq(x->r.kind, kind, "seq %lld", (long long)x->r.local_seq);
	cr_assert_eq(x->r.finding, 0);
	cr_assert(x->pl.has_item);
	cr_assert_str_eq(x->pl.item.item_id, id);
	cr_assert_str_eq(x->pl.item.name, it->name);
	if (it->version)
		cr_assert_str_eq(x->pl.item.version, it->version);
	else
		cr_assert_null(x->pl.item.version);
	cr_assert_str_eq(x->pl.item.path, it->path);
	cr_assert_str_eq(x->pl.item.surface, surface_name(it->surface));
	free(id);
}

static void
assert_finding_row(const struct orow *x, const struct finding *f)
{
	int64_t	ts;

	cr_assert_eq(x->r.kind, CHANGE_MODIFIED);
	cr_assert_eq(x->r.finding, 1);
	cr_assert(x->pl.has_finding);
	cr_assert_str_eq(x->pl.finding.id, f->id);
	cr_assert_str_eq(x->pl.finding.rule_id, f->rule_id);
	cr_assert_str_eq(x->pl.finding.item_id, f->item_id);
	cr_assert_str_eq(x->pl.finding.observed_at, f->timestamp);
	cr_assert_str_eq(x->pl.finding.severity, severity_name(f->severity));
	(void)ts;
}

static void
scan_init(struct store_scan *sc, enum surface s, int baseline)
{
	memset(sc, 0, sizeof(*sc));
	sc->surface = s;
	sc->baseline = baseline;
	sc->completed_ms = T0;
	sc->artifact_ms = T0 + 1;
	sc->duration_ms = 42;
	sc->max_events = 5000;
	sc->max_findings = 1000;
}

static size_t
count_rows(const char *table)
{
	sqlite3		*db;
	sqlite3_stmt	*q;
	char		 sql[128];
	size_t		 n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	n = (size_t)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return (n);
}

static void
db_exec(const char *sql)
{
	sqlite3	*db;

	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

Test(store, open_creates_private_wal_database)
{
	struct store	*st;
	struct stat	 sb;
	sqlite3		*db;
	sqlite3_stmt	*q;

	st = open_ok();
	cr_assert_eq(store_rebuilt(st), 0);
	cr_assert_str_eq(store_path(st), dbpath);
	cr_assert_eq(stat(statedir, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0700);
	cr_assert_eq(sb.st_uid, geteuid());
	cr_assert_eq(stat(dbpath, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	for (int s = 0; s < SURFACE_COUNT; s++)
		cr_assert_eq(store_baselined(st, s), 0);
	store_close(st);

	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q,
	    NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q,
	    NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(q, 0), STORE_SCHEMA_VERSION);
	sqlite3_finalize(q);
	sqlite3_close(db);

	/* Reopening keeps it; a loosened mode is put back. */
	cr_assert_eq(chmod(dbpath, 0644), 0);
	st = open_ok();
	cr_assert_eq(store_rebuilt(st), 0);
	cr_assert_eq(stat(dbpath, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	store_close(st);
}

Test(store, unsafe_places_refused)
{
	char	 err[512], target[256];

	cr_assert_eq(mkdir(statedir, 0777), 0);
	cr_assert_eq(chmod(statedir, 0777), 0);
	cr_assert_null(store_open(statedir, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "writable"), "%s", err);
	cr_assert_eq(chmod(statedir, 0700), 0);

	/* A symlink in place of the database is not followed. */
	snprintf(target, sizeof(target), "%s/elsewhere", tmpdir);
	cr_assert_eq(symlink(target, dbpath), 0);
	cr_assert_null(store_open(statedir, err, sizeof(err)));
	cr_assert_eq(access(target, F_OK), -1);
	cr_assert_eq(unlink(dbpath), 0);

	/* A file where the directory should be. */
	snprintf(target, sizeof(target), "%s/file", tmpdir);
	cr_assert_eq(close(open(target, O_CREAT | O_WRONLY, 0600)), 0);
	cr_assert_null(store_open(target, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "not a directory"), "%s", err);
}

Test(store, newer_schema_refused_and_kept)
{
	struct store	*st;
	char		 err[512];
	DIR		*d;
	struct dirent	*de;

	st = open_ok();
	store_close(st);
	db_exec("PRAGMA user_version = 7");
	cr_assert_null(store_open(statedir, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "newer"), "%s", err);
	cr_assert_not_null(strstr(err, "version 7"), "%s", err);
	/* Not treated as damage: nothing was moved aside. */
	cr_assert_not_null(d = opendir(statedir));
	while ((de = readdir(d)) != NULL)
		cr_assert_null(strstr(de->d_name, "corrupt"), "%s",
		    de->d_name);
	closedir(d);
	cr_assert_eq(access(dbpath, F_OK), 0);
}

/* The baseline fixture: four items, one a duplicate id, two findings. */
static void
baseline(struct store *st, struct item *v, size_t *nv, struct finding *pf,
    const char *device, struct store_commit_result *res)
{
	struct store_scan	sc;
	unsigned int		ctr = 0;
	struct idsource		ids = { counter_next, &ctr };

	v[0] = js("/home/alice", "zod", "3.0.0");
	v[1] = js("/home/alice", "axios", "1.0.0");
	v[2] = js("/home/alice", "left-pad", "1.3.0");
	v[3] = js("/home/alice", "zod", "3.0.0");	/* same id as v[0] */
	*nv = 4;
	pf[0] = mkfinding(&v[1], "rule.present.a", SEVERITY_NOTABLE, 1, T0 + 1);
	pf[1] = mkfinding(&v[0], "rule.present.b", SEVERITY_INFO, 2, T0 + 1);

	scan_init(&sc, SURFACE_JAVASCRIPT, 1);
	sc.items = v;
	sc.nitems = *nv;
	sc.present_findings = pf;
	sc.npresent_findings = 2;
	sc.device_id = device;
	sc.tenant_id = device ? "TENANT-1" : NULL;
	sc.ids = &ids;
	cr_assert_eq(store_commit_scan(st, &sc, res), 0);
}

Test(store, first_commit_is_a_baseline)
{
	struct store			*st;
	struct item			 v[4], *snap;
	struct finding			 pf[2];
	struct store_commit_result	 res;
	struct orows			 o;
	size_t				 nv, n, i;

	st = open_ok();
	baseline(st, v, &nv, pf, "DEVICE-A", &res);
	cr_assert_eq(store_baselined(st, SURFACE_JAVASCRIPT), 1);
	cr_assert_eq(store_baselined(st, SURFACE_PYTHON), 0);
	cr_assert_eq(res.nevents, 0);
	cr_assert_eq(res.nfindings, 2);
	/* Three distinct items (the duplicate skipped), two findings. */
	cr_assert_eq(res.noutbox, 5);
	cr_assert_eq(res.first_seq, 1);
	cr_assert_eq(res.last_seq, 5);
	cr_assert_eq(count_rows("change_event"), 0);

	outbox_load(st, "DEVICE-A", &o);
	cr_assert_eq(o.n, 5);
	for (i = 0; i < o.n; i++) {
		cr_assert_eq(o.v[i].r.local_seq, (int64_t)i + 1);
		cr_assert_str_eq(o.v[i].device, "DEVICE-A");
		cr_assert_str_eq(o.v[i].tenant, "TENANT-1");
		cr_assert_eq(o.v[i].r.surface, SURFACE_JAVASCRIPT);
		cr_assert_eq(o.v[i].r.collected_ms, T0);
	}
	/* Collector order, then the present findings in the given order. */
	assert_item_row(&o.v[0], CHANGE_ADDED, &v[0]);
	assert_item_row(&o.v[1], CHANGE_ADDED, &v[1]);
	assert_item_row(&o.v[2], CHANGE_ADDED, &v[2]);
	for (i = 0; i < 3; i++)
		cr_assert_eq(o.v[i].r.observed_ms, T0);
	assert_finding_row(&o.v[3], &pf[0]);
	assert_finding_row(&o.v[4], &pf[1]);
	cr_assert_eq(o.v[3].r.observed_ms, T0 + 1);
	/* The counter id source supplied the event ids. */
	cr_assert_str_eq(o.v[0].r.event_id,
	    "00000000-0000-4000-8000-000000000001");
	outbox_free(&o);

	/* The snapshot comes back in collector order, ids unique. */
	cr_assert_eq(store_load_snapshot(st, SURFACE_JAVASCRIPT, &snap, &n),
	    0);
	cr_assert_eq(n, 3);
	for (i = 0; i < 3; i++)
		cr_assert(item_equal(&snap[i], &v[i]), "item %zu", i);
	store_items_free(snap, n);
	cr_assert_eq(store_load_snapshot(st, SURFACE_PYTHON, &snap, &n), 0);
	cr_assert_eq(n, 0);
	store_items_free(snap, n);

	store_close(st);
	findings_free(pf, 2);
	items_free(v, nv);
}

/*
 * A normal scan after the baseline: zod 3.0.0 -> 4.0.0 (a remove and an
 * add on a package surface), left-pad detail changed (modified), a new
 * package; change findings, then present findings.
 */
Test(store, normal_commit_order_and_sequences)
{
	struct store			*st;
	struct item			 v[4], nv2[4], *snap;
	struct finding			 pf[2], cf[2], pf2[1];
	struct store_commit_result	 res;
	struct store_scan		 sc;
	struct change			*ch, *ch2;
	struct orows			 o;
	size_t				 nv, nch, nch2, n, i;
	char				*id;

	st = open_ok();
	baseline(st, v, &nv, pf, "DEVICE-A", &res);

	nv2[0] = js("/home/alice", "left-pad", "1.3.0");
	free(nv2[0].detail);
	nv2[0].detail = strdup("resolved=https://evil.example/x.tgz");
	nv2[1] = js("/home/alice", "zod", "4.0.0");
	nv2[2] = js("/home/alice", "axios", "1.0.0");
	nv2[3] = js("/home/alice", "bun", "1.0.0");
	cr_assert_eq(store_load_snapshot(st, SURFACE_JAVASCRIPT, &snap, &n),
	    0);
	cr_assert_eq(differ_diff(snap, n, nv2, 4, &ch, &nch), 0);
	/* added bun, added zod 4, removed zod 3, modified left-pad. */
	cr_assert_eq(nch, 4);
	cf[0] = mkfinding(ch[1].new, "rule.added", SEVERITY_SUSPICIOUS, 3,
	    T0 + 1);
	cf[1] = mkfinding(ch[3].new, "rule.modified", SEVERITY_CRITICAL, 4,
	    T0 + 1);
	pf2[0] = mkfinding(&nv2[3], "rule.present.c", SEVERITY_INFO, 5, T0 + 1);

	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.items = nv2;
	sc.nitems = 4;
	sc.changes = ch;
	sc.nchanges = nch;
	sc.change_findings = cf;
	sc.nchange_findings = 2;
	sc.present_findings = pf2;
	sc.npresent_findings = 1;
	sc.device_id = "DEVICE-A";
	sc.tenant_id = "TENANT-1";
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(res.nevents, 4);
	cr_assert_eq(res.nfindings, 3);
	cr_assert_eq(res.noutbox, 7);
	cr_assert_eq(res.first_seq, 6);
	cr_assert_eq(res.last_seq, 12);

	outbox_load(st, NULL, &o);
	cr_assert_eq(o.n, 12);
	for (i = 0; i < o.n; i++)
		cr_assert_eq(o.v[i].r.local_seq, (int64_t)i + 1,
		    "gap at %zu", i);
	/* Diff order: payload is the new item, the old one for removed. */
	assert_item_row(&o.v[5], CHANGE_ADDED, ch[0].new);
	assert_item_row(&o.v[6], CHANGE_ADDED, ch[1].new);
	assert_item_row(&o.v[7], CHANGE_REMOVED, ch[2].old);
	cr_assert_str_eq(o.v[7].pl.item.version, "3.0.0");
	assert_item_row(&o.v[8], CHANGE_MODIFIED, ch[3].new);
	cr_assert_str_eq(o.v[8].pl.item.detail,
	    "resolved=https://evil.example/x.tgz");
	for (i = 5; i < 9; i++) {
		cr_assert_eq(o.v[i].r.observed_ms, T0 + 1);
		cr_assert_eq(o.v[i].r.collected_ms, T0);
	}
	assert_finding_row(&o.v[9], &cf[0]);
	assert_finding_row(&o.v[10], &cf[1]);
	assert_finding_row(&o.v[11], &pf2[0]);
	/* Random ids when no source is given: distinct v4 ids. */
	cr_assert_str_neq(o.v[5].r.event_id, o.v[6].r.event_id);
	outbox_free(&o);

	/* The stored snapshot now equals the scan. */
	store_items_free(snap, n);
	cr_assert_eq(store_load_snapshot(st, SURFACE_JAVASCRIPT, &snap, &n),
	    0);
	cr_assert_eq(n, 4);
	cr_assert_eq(differ_diff(snap, n, nv2, 4, &ch2, &nch2), 0);
	cr_assert_eq(nch2, 0);
	free(ch2);
	/*
	 * Stored order: the baseline's rows in collector order (a modified
	 * row keeps its place), additions after them in diff order.
	 */
	id = item_id(&snap[0]);
	cr_assert_str_eq(snap[0].name, "axios", "%s", id);
	free(id);
	cr_assert_str_eq(snap[1].name, "left-pad");
	cr_assert_str_eq(snap[2].name, "bun");
	cr_assert_str_eq(snap[3].name, "zod");
	cr_assert_str_eq(snap[3].version, "4.0.0");
	cr_assert_eq(count_rows("file"), 1);
	store_items_free(snap, n);
	cr_assert_eq(count_rows("change_event"), 4);
	cr_assert_eq(count_rows("finding"), 5);

	store_close(st);
	free(ch);
	findings_free(pf, 2);
	findings_free(cf, 2);
	findings_free(pf2, 1);
	items_free(v, nv);
	items_free(nv2, 4);
}

Test(store, no_outbox_rows_unless_asked)
{
	struct store			*st;
	struct item			 v[4];
	struct finding			 pf[2];
	struct store_commit_result	 res;
	struct store_outbox_stats	 os;
	size_t				 nv;

	st = open_ok();
	baseline(st, v, &nv, pf, NULL, &res);
	cr_assert_eq(res.noutbox, 0);
	cr_assert_eq(res.first_seq, 0);
	cr_assert_eq(res.nfindings, 2);
	cr_assert_eq(store_outbox_stats(st, NULL, &os), 0);
	cr_assert_eq(os.backlog_events, 0);
	cr_assert_eq(os.last_seq, 0);
	cr_assert_eq(count_rows("outbox"), 0);
	cr_assert_eq(count_rows("inventory"), 3);
	cr_assert_eq(count_rows("finding"), 2);
	store_close(st);
	findings_free(pf, 2);
	items_free(v, nv);
}

Test(store, sequences_per_device)
{
	struct store			*st;
	struct item			 a[2];
	struct store_scan		 sc;
	struct store_commit_result	 res;
	struct store_outbox_stats	 os;
	struct orows			 o;
	struct change			 ch;

	st = open_ok();
	a[0] = js("/home/alice", "a", "1");
	a[1] = js("/home/alice", "b", "1");
	scan_init(&sc, SURFACE_JAVASCRIPT, 1);
	sc.items = a;
	sc.nitems = 1;
	sc.device_id = "DEVICE-A";
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(res.first_seq, 1);

	/* A new device (re-enrollment) starts at 1; tenant may be NULL. */
	memset(&ch, 0, sizeof(ch));
	ch.kind = CHANGE_ADDED;
	ch.new = &a[1];
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.items = a;
	sc.nitems = 2;
	sc.changes = &ch;
	sc.nchanges = 1;
	sc.device_id = "DEVICE-B";
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(res.first_seq, 1);
	cr_assert_eq(res.last_seq, 1);

	outbox_load(st, "DEVICE-B", &o);
	cr_assert_eq(o.n, 1);
	cr_assert_eq(o.v[0].has_tenant, 0);
	outbox_free(&o);

	cr_assert_eq(store_outbox_stats(st, "DEVICE-A", &os), 0);
	cr_assert_eq(os.backlog_events, 1);
	cr_assert_eq(os.pending, 1);
	cr_assert_eq(os.last_seq, 1);
	cr_assert_eq(os.oldest_pending_ms, T0);
	cr_assert_eq(store_outbox_stats(st, NULL, &os), 0);
	cr_assert_eq(os.backlog_events, 2);
	cr_assert_eq(store_outbox_stats(st, "DEVICE-NONE", &os), 0);
	cr_assert_eq(os.backlog_events, 0);
	store_close(st);
	items_free(a, 2);
}

/* Byte counts match the stored payloads; states are counted apart. */
static int
sum_bytes(void *arg, const struct store_outbox_row *r)
{
	*(uint64_t *)arg += r->payload_len;
	return (0);
}

Test(store, outbox_stats_by_state)
{
	struct store			*st;
	struct item			 v[4];
	struct finding			 pf[2];
	struct store_commit_result	 res;
	struct store_outbox_stats	 os;
	uint64_t			 bytes = 0;
	size_t				 nv;

	st = open_ok();
	baseline(st, v, &nv, pf, "DEVICE-A", &res);
	cr_assert_eq(store_query_outbox(st, NULL, 0, 0, sum_bytes, &bytes), 0);
	cr_assert_eq(store_outbox_stats(st, "DEVICE-A", &os), 0);
	cr_assert_eq(os.backlog_events, 5);
	cr_assert_eq(os.backlog_bytes, bytes);
	store_close(st);
	/* What the sync of a later issue will do to rows. */
	db_exec("UPDATE outbox SET state = 'acked' WHERE local_seq = 1;"
	    "UPDATE outbox SET state = 'poison' WHERE local_seq = 2;"
	    "UPDATE outbox SET state = 'inFlight' WHERE local_seq = 3;");
	st = open_ok();
	cr_assert_eq(store_outbox_stats(st, "DEVICE-A", &os), 0);
	cr_assert_eq(os.acked, 1);
	cr_assert_eq(os.poison, 1);
	cr_assert_eq(os.inflight, 1);
	cr_assert_eq(os.pending, 2);
	cr_assert_eq(os.backlog_events, 3);
	cr_assert_lt(os.backlog_bytes, bytes);
	cr_assert_eq(os.last_seq, 5);
	/* after_seq and limit. */
	bytes = 0;
	cr_assert_eq(store_query_outbox(st, "DEVICE-A", 3, 1, sum_bytes,
	    &bytes), 0);
	cr_assert_gt(bytes, 0);
	store_close(st);
	findings_free(pf, 2);
	items_free(v, nv);
}

/* Snapshot, events, findings, outbox and surface row, as one string. */
static char *
state_digest(struct store *st)
{
	struct item	*snap;
	size_t		 n, i;
	char		*out = NULL, *p;
	struct store_outbox_stats os;
	int		 len;

	cr_assert_eq(store_load_snapshot(st, SURFACE_JAVASCRIPT, &snap, &n),
	    0);
	cr_assert_eq(store_outbox_stats(st, NULL, &os), 0);
	len = asprintf(&out, "n=%zu ev=%zu fi=%zu ob=%llu seq=%lld",
	    n, count_rows("change_event"), count_rows("finding"),
	    (unsigned long long)os.backlog_events, (long long)os.last_seq);
	cr_assert_gt(len, 0);
	for (i = 0; i < n; i++) {
		len = asprintf(&p, "%s %s@%s", out, snap[i].name,
		    snap[i].version);
		cr_assert_gt(len, 0);
		free(out);
		out = p;
	}
	store_items_free(snap, n);
	return (out);
}

Test(store, failure_rolls_everything_back)
{
	struct store			*st;
	struct item			 v[4], nv2[2], ghost;
	struct finding			 pf[2], bad;
	struct store_commit_result	 res;
	struct store_scan		 sc;
	struct change			 ch[2];
	size_t				 nv;
	char				*before, *after;

	st = open_ok();
	baseline(st, v, &nv, pf, "DEVICE-A", &res);
	before = state_digest(st);

	/* A good change, then a finding with a malformed timestamp. */
	nv2[0] = js("/home/alice", "new", "1.0.0");
	nv2[1] = js("/home/alice", "other", "1.0.0");
	memset(ch, 0, sizeof(ch));
	ch[0].kind = CHANGE_ADDED;
	ch[0].new = &nv2[0];
	bad = mkfinding(&nv2[0], "rule.x", SEVERITY_INFO, 9, T0);
	free(bad.timestamp);
	bad.timestamp = strdup("2026-06-01T10:00:00Z");
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.items = nv2;
	sc.nitems = 1;
	sc.changes = ch;
	sc.nchanges = 1;
	sc.present_findings = &bad;
	sc.npresent_findings = 1;
	sc.device_id = "DEVICE-A";
	cr_assert_eq(store_commit_scan(st, &sc, &res), -1);
	cr_assert_eq(res.noutbox, 0);
	after = state_digest(st);
	cr_assert_str_eq(after, before);
	free(after);

	/* A new id, then an added id already stored (a stale diff). */
	sc.present_findings = NULL;
	sc.npresent_findings = 0;
	ch[0].new = &nv2[1];
	ch[1].kind = CHANGE_ADDED;
	ch[1].new = &v[1];
	sc.nchanges = 2;
	cr_assert_eq(store_commit_scan(st, &sc, &res), -1);
	after = state_digest(st);
	cr_assert_str_eq(after, before);
	free(after);

	/* Removing or modifying what is not stored. */
	ghost = js("/home/alice", "ghost", "0.0.1");
	ch[0].kind = CHANGE_ADDED;
	ch[0].new = &nv2[0];
	ch[1].kind = CHANGE_REMOVED;
	ch[1].new = NULL;
	ch[1].old = &ghost;
	cr_assert_eq(store_commit_scan(st, &sc, &res), -1);
	ch[1].kind = CHANGE_MODIFIED;
	ch[1].new = &ghost;
	cr_assert_eq(store_commit_scan(st, &sc, &res), -1);
	after = state_digest(st);
	cr_assert_str_eq(after, before);
	free(after);

	/* An item of another surface. */
	nv2[0].surface = SURFACE_PYTHON;
	ch[1].kind = CHANGE_ADDED;
	ch[1].old = NULL;
	ch[1].new = &nv2[1];
	cr_assert_eq(store_commit_scan(st, &sc, &res), -1);
	nv2[0].surface = SURFACE_JAVASCRIPT;
	after = state_digest(st);
	cr_assert_str_eq(after, before);
	free(after);

	/* And the store still works afterwards. */
	sc.nchanges = 1;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(res.first_seq, 6);
	after = state_digest(st);
	cr_assert_str_neq(after, before);
	free(after);

	free(before);
	finding_free(&bad);
	store_close(st);
	findings_free(pf, 2);
	items_free(v, nv);
	items_free(nv2, 2);
	items_free(&ghost, 1);
}

/* Commit one normal scan of k additions named pfx-N with a finding each. */
static void
add_batch(struct store *st, const char *pfx, size_t k, int64_t ts,
    long long maxev, long long maxfi, struct store_commit_result *res)
{
	struct item	*it;
	struct change	*ch;
	struct finding	*f;
	struct store_scan sc;
	char		 name[64];
	size_t		 i;
	static unsigned int uniq = 100;

	it = calloc(k, sizeof(*it));
	ch = calloc(k, sizeof(*ch));
	f = calloc(k, sizeof(*f));
	cr_assert(it && ch && f);
	for (i = 0; i < k; i++) {
		snprintf(name, sizeof(name), "%s-%zu", pfx, i);
		it[i] = js("/home/alice", name, "1.0.0");
		ch[i].kind = CHANGE_ADDED;
		ch[i].new = &it[i];
		f[i] = mkfinding(&it[i], "rule.r", SEVERITY_INFO, ++uniq, ts);
	}
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.items = it;
	sc.nitems = k;
	sc.changes = ch;
	sc.nchanges = k;
	sc.change_findings = f;
	sc.nchange_findings = k;
	sc.artifact_ms = ts;
	sc.max_events = maxev;
	sc.max_findings = maxfi;
	cr_assert_eq(store_commit_scan(st, &sc, res), 0);
	items_free(it, k);
	findings_free(f, k);
	free(it);
	free(ch);
	free(f);
}

/* One added item with sync on for the device. */
static void
add_batch_device(struct store *st, const char *device,
    struct store_commit_result *res)
{
	struct item		it;
	struct change		ch;
	struct store_scan	sc;

	it = js("/home/alice", "extra", "1.0.0");
	memset(&ch, 0, sizeof(ch));
	ch.kind = CHANGE_ADDED;
	ch.new = &it;
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.items = &it;
	sc.nitems = 1;
	sc.changes = &ch;
	sc.nchanges = 1;
	sc.device_id = device;
	cr_assert_eq(store_commit_scan(st, &sc, res), 0);
	items_free(&it, 1);
}

struct names {
	char	 v[16][64];
	size_t	 n;
};

static int
event_names(void *arg, const struct store_event *e)
{
	struct names	*nm = arg;

	cr_assert_lt(nm->n, 16);
	strlcpy(nm->v[nm->n++], e->name, sizeof(nm->v[0]));
	return (0);
}

Test(store, retention)
{
	struct store			*st;
	struct store_commit_result	 res;
	struct names			 nm;
	struct item			 v[4];
	struct finding			 pf[2];
	size_t				 nv;

	st = open_ok();
	/* A baseline has no pruning pass, whatever the limits. */
	baseline(st, v, &nv, pf, NULL, &res);
	cr_assert_eq(count_rows("finding"), 2);

	/* Negative: keep everything. */
	add_batch(st, "a", 3, T0 + 10, -1, -1, &res);
	cr_assert_eq(res.pruned_events, 0);
	cr_assert_eq(count_rows("change_event"), 3);
	cr_assert_eq(count_rows("finding"), 5);

	/* Keep the newest 4 events and 3 findings. */
	add_batch(st, "b", 2, T0 + 20, 4, 3, &res);
	cr_assert_eq(res.pruned_events, 1);
	cr_assert_eq(res.pruned_findings, 4);
	cr_assert_eq(count_rows("change_event"), 4);
	cr_assert_eq(count_rows("finding"), 3);
	memset(&nm, 0, sizeof(nm));
	cr_assert_eq(store_query_events(st, 0, NULL, event_names, &nm), 0);
	cr_assert_eq(nm.n, 4);
	/* Newest first: b-1, b-0 (same time, later row first), a-2, a-1. */
	cr_assert_str_eq(nm.v[0], "b-1");
	cr_assert_str_eq(nm.v[1], "b-0");
	cr_assert_str_eq(nm.v[2], "a-2");
	cr_assert_str_eq(nm.v[3], "a-1");
	/* The baseline's present findings were the oldest: pruned. */
	cr_assert_eq(store_held(st, SURFACE_JAVASCRIPT, pf[0].item_id,
	    pf[0].rule_id), 0);

	/* Limit on the query. */
	memset(&nm, 0, sizeof(nm));
	cr_assert_eq(store_query_events(st, 2, NULL, event_names, &nm), 0);
	cr_assert_eq(nm.n, 2);

	/* Zero deletes everything. */
	add_batch(st, "c", 1, T0 + 30, 0, 0, &res);
	cr_assert_eq(count_rows("change_event"), 0);
	cr_assert_eq(count_rows("finding"), 0);
	store_close(st);
	findings_free(pf, 2);
	items_free(v, nv);
}

static void
write_garbage(const char *path, size_t n)
{
	FILE	*fp;
	size_t	 i;

	cr_assert_not_null(fp = fopen(path, "w"));
	for (i = 0; i < n; i++)
		fputc((int)((i * 7919) % 251), fp);
	fclose(fp);
}

static size_t
count_aside(void)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0;

	cr_assert_not_null(d = opendir(statedir));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "kobangd.db.corrupt-", 19) == 0)
			n++;
	closedir(d);
	return (n);
}

Test(store, corrupt_garbage_moved_aside)
{
	struct store			*st;
	struct item			 v[4];
	struct finding			 pf[2];
	struct store_commit_result	 res;
	size_t				 nv;

	cr_assert_eq(mkdir(statedir, 0700), 0);
	write_garbage(dbpath, 10000);
	st = open_ok();
	cr_assert_eq(store_rebuilt(st), 1);
	cr_assert_eq(count_aside(), 1);
	/* A fresh database: nothing baselined, and it works. */
	cr_assert_eq(store_baselined(st, SURFACE_JAVASCRIPT), 0);
	baseline(st, v, &nv, pf, "DEVICE-A", &res);
	cr_assert_eq(res.first_seq, 1);
	store_close(st);

	st = open_ok();
	cr_assert_eq(store_rebuilt(st), 0);
	cr_assert_eq(store_baselined(st, SURFACE_JAVASCRIPT), 1);
	store_close(st);
	findings_free(pf, 2);
	items_free(v, nv);
}

Test(store, corrupt_truncated_moved_aside)
{
	struct store			*st;
	struct store_commit_result	 res;
	struct stat			 sb;
	char				 wal[256], aside[512];
	DIR				*d;
	struct dirent			*de;
	int				 i;

	st = open_ok();
	/* Enough data for many pages. */
	for (i = 0; i < 20; i++) {
		char	pfx[16];

		snprintf(pfx, sizeof(pfx), "p%d", i);
		add_batch(st, pfx, 10, T0 + i, -1, -1, &res);
	}
	store_close(st);
	cr_assert_eq(stat(dbpath, &sb), 0);
	cr_assert_gt(sb.st_size, 16 * 4096);
	cr_assert_eq(truncate(dbpath, sb.st_size / 2), 0);
	/* A stale WAL travels with it. */
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	write_garbage(wal, 100);

	st = open_ok();
	cr_assert_eq(store_rebuilt(st), 1);
	cr_assert_eq(count_aside(), 1);
	cr_assert_eq(store_baselined(st, SURFACE_JAVASCRIPT), 0);
	store_close(st);
	cr_assert_not_null(d = opendir(statedir));
	aside[0] = '\0';
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "kobangd.db.corrupt-", 19) == 0 &&
		    strstr(de->d_name, "-wal") == NULL &&
		    strstr(de->d_name, "-shm") == NULL)
			snprintf(aside, sizeof(aside), "%s/%s", statedir,
			    de->d_name);
	closedir(d);
	cr_assert_neq(aside[0], '\0');
	cr_assert_eq(stat(aside, &sb), 0);
	cr_assert_gt(sb.st_size, 8 * 4096);
}

Test(store, held_callback_with_the_rule_engine)
{
	struct store			*st;
	struct item			 v[4];
	struct finding			 pf[2], *out;
	struct store_commit_result	 res;
	struct rule			 r;
	struct ruleset			 rs;
	struct rules_held		 held;
	size_t				 nv, n;

	st = open_ok();
	baseline(st, v, &nv, pf, NULL, &res);
	cr_assert_eq(store_held(st, SURFACE_JAVASCRIPT, pf[0].item_id,
	    "rule.present.a"), 1);
	cr_assert_eq(store_held(st, SURFACE_JAVASCRIPT, pf[0].item_id,
	    "rule.present.b"), 0);
	cr_assert_eq(store_held(st, SURFACE_PYTHON, pf[0].item_id,
	    "rule.present.a"), 0);
	cr_assert_eq(store_held(st, SURFACE_COUNT, pf[0].item_id,
	    "rule.present.a"), -1);

	/* A present rule matching every item: axios is already held. */
	memset(&r, 0, sizeof(r));
	r.id = "rule.present.a";
	r.surface = SURFACE_JAVASCRIPT;
	r.enabled = 1;
	r.triggers = RULE_TRIGGER(TRIGGER_PRESENT);
	r.match = MATCH_ALWAYS;
	r.severity = SEVERITY_INFO;
	r.title = "t";
	r.rationale = "r";
	rs.v = &r;
	rs.n = 1;
	held.fn = store_held;
	held.arg = st;
	cr_assert_eq(rules_eval_present(&rs, v, 3, NULL, 0, &held,
	    "2026-06-01T10:00:00.001Z", uuid_random_source(), &out, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(out[0].item_name, "zod");
	cr_assert_str_eq(out[1].item_name, "left-pad");
	rules_findings_free(out, n);
	store_close(st);
	findings_free(pf, 2);
	items_free(v, nv);
}

struct seen {
	size_t	 n;
	char	 last[256];
	int	 min_sev;
};

static int
count_item(void *arg, const struct item *it, const char *id, int64_t stale_ms)
{
	struct seen	*s = arg;

	s->n++;
	strlcpy(s->last, it->path, sizeof(s->last));
	cr_assert_not_null(id);
	return (0);
}

static int
count_event(void *arg, const struct store_event *e)
{
	struct seen	*s = arg;

	s->n++;
	strlcpy(s->last, e->path, sizeof(s->last));
	return (0);
}

static int
count_finding(void *arg, const struct finding *f)
{
	struct seen	*s = arg;

	s->n++;
	strlcpy(s->last, f->evidence_path, sizeof(s->last));
	cr_assert_geq((int)f->severity, s->min_sev);
	cr_assert_eq(strlen(f->timestamp), TIMEFMT_LEN);
	return (0);
}

static int
stop_early(void *arg, const struct item *it, const char *id, int64_t stale_ms)
{
	++*(int *)arg;
	return (-1);
}

Test(store, queries_with_home_prefix)
{
	struct store			*st;
	struct item			 v[4], base[1];
	struct finding			 f[4];
	struct change			 ch[4];
	struct store_scan		 sc;
	struct store_commit_result	 res;
	struct seen			 s;
	size_t				 i;
	int				 calls = 0;

	st = open_ok();
	base[0] = js("/root", "seed", "1");
	scan_init(&sc, SURFACE_JAVASCRIPT, 1);
	sc.items = base;
	sc.nitems = 1;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);

	v[0] = js("/home/alice", "a", "1");
	v[1] = js("/home/alicex", "b", "1");	/* a prefix, not a child */
	v[2] = js("/home/bob", "c", "1");
	v[3] = js("/home/alice/deeper", "d", "1");
	for (i = 0; i < 4; i++) {
		memset(&ch[i], 0, sizeof(ch[i]));
		ch[i].kind = CHANGE_ADDED;
		ch[i].new = &v[i];
		f[i] = mkfinding(&v[i], "rule.r", (enum severity)i, 50 + i,
		    T0 + 5);
	}
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.items = v;
	sc.nitems = 4;
	sc.changes = ch;
	sc.nchanges = 4;
	sc.change_findings = f;
	sc.nchange_findings = 4;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);

	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_inventory(st, -1, NULL, count_item, &s), 0);
	cr_assert_eq(s.n, 5);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_inventory(st, -1, "/home/alice", count_item,
	    &s), 0);
	cr_assert_eq(s.n, 2);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_inventory(st, SURFACE_JAVASCRIPT,
	    "/home/alice/", count_item, &s), 0);
	cr_assert_eq(s.n, 2);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_inventory(st, SURFACE_PYTHON, NULL,
	    count_item, &s), 0);
	cr_assert_eq(s.n, 0);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_inventory(st, -1, "/home/bob", count_item,
	    &s), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.last, "/home/bob/src/app/package-lock.json");
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_inventory(st, -1, "/", count_item, &s), 0);
	cr_assert_eq(s.n, 5);
	cr_assert_eq(store_query_inventory(st, SURFACE_COUNT, NULL,
	    count_item, &s), -1);
	/* A callback's stop ends the query. */
	cr_assert_eq(store_query_inventory(st, -1, NULL, stop_early, &calls),
	    -1);
	cr_assert_eq(calls, 1);

	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_events(st, 0, "/home/alice", count_event,
	    &s), 0);
	cr_assert_eq(s.n, 2);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_events(st, 0, "/home/nobody", count_event,
	    &s), 0);
	cr_assert_eq(s.n, 0);

	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_findings(st, -1, NULL, 0, count_finding, &s),
	    0);
	cr_assert_eq(s.n, 4);
	memset(&s, 0, sizeof(s));
	s.min_sev = SEVERITY_SUSPICIOUS;
	cr_assert_eq(store_query_findings(st, SEVERITY_SUSPICIOUS, NULL, 0,
	    count_finding, &s), 0);
	cr_assert_eq(s.n, 2);
	memset(&s, 0, sizeof(s));
	s.min_sev = SEVERITY_NOTABLE;
	cr_assert_eq(store_query_findings(st, SEVERITY_NOTABLE, "/home/alice",
	    0, count_finding, &s), 0);
	/* alice (info) is below the bar; alice/deeper (critical) is not. */
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.last, "/home/alice/deeper/src/app/package-lock.json");
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_findings(st, -1, NULL, 1, count_finding, &s),
	    0);
	cr_assert_eq(s.n, 1);

	store_close(st);
	items_free(v, 4);
	items_free(base, 1);
	findings_free(f, 4);
}

struct surf {
	struct store_surface_stats	 v[SURFACE_COUNT];
	char				 msg[SURFACE_COUNT][128];
	size_t				 n;
};

static int
collect_surface(void *arg, const struct store_surface_stats *ss)
{
	struct surf	*s = arg;

	cr_assert_lt(s->n, SURFACE_COUNT);
	cr_assert_eq((size_t)ss->surface, s->n);
	s->v[s->n] = *ss;
	s->msg[s->n][0] = '\0';
	if (ss->message)
		strlcpy(s->msg[s->n], ss->message, sizeof(s->msg[0]));
	s->n++;
	return (0);
}

Test(store, surface_stats_and_failures)
{
	struct store			*st;
	struct item			 v[4];
	struct finding			 pf[2];
	struct store_commit_result	 res;
	struct store_scan		 sc;
	struct surf			 s;
	size_t				 nv;

	st = open_ok();
	baseline(st, v, &nv, pf, NULL, &res);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_surfaces(st, collect_surface, &s), 0);
	cr_assert_eq(s.n, SURFACE_COUNT);
	cr_assert_eq(s.v[SURFACE_HOMEBREW].scanned, 0);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].scanned, 1);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].baselined, 1);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].items, 4);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].last_scan_ms, T0);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].duration_ms, 42);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].degraded, 0);

	/* A failure keeps the snapshot and the baseline marker. */
	cr_assert_eq(store_note_scan_failure(st, SURFACE_JAVASCRIPT, T0 + 99,
	    30000, "scan timed out after 30 seconds"), 0);
	cr_assert_eq(store_note_scan_failure(st, SURFACE_CLAUDE, T0, 1,
	    NULL), 0);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_surfaces(st, collect_surface, &s), 0);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].degraded, 1);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].baselined, 1);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].items, 4);
	cr_assert_str_eq(s.msg[SURFACE_JAVASCRIPT],
	    "scan timed out after 30 seconds");
	cr_assert_eq(s.v[SURFACE_CLAUDE].scanned, 1);
	cr_assert_eq(s.v[SURFACE_CLAUDE].baselined, 0);
	cr_assert_eq(store_baselined(st, SURFACE_CLAUDE), 0);

	/* Issues make a successful scan degraded with its message. */
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.items = v;
	sc.nitems = 3;
	sc.nissues = 2;
	sc.health_message = "2 issues; first: /x/package-lock.json: malformed";
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_surfaces(st, collect_surface, &s), 0);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].degraded, 1);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].issues, 2);
	cr_assert_str_eq(s.msg[SURFACE_JAVASCRIPT],
	    "2 issues; first: /x/package-lock.json: malformed");
	sc.health_message = NULL;
	sc.nissues = 1;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_surfaces(st, collect_surface, &s), 0);
	cr_assert_str_eq(s.msg[SURFACE_JAVASCRIPT], "1 issue");
	/* And a clean scan is healthy again. */
	sc.nissues = 0;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_query_surfaces(st, collect_surface, &s), 0);
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].degraded, 0);
	cr_assert_eq(s.msg[SURFACE_JAVASCRIPT][0], '\0');
	cr_assert_eq(s.v[SURFACE_JAVASCRIPT].items, 3);

	store_close(st);
	findings_free(pf, 2);
	items_free(v, nv);
}

Test(store, baseline_refuses_changes_and_bad_items)
{
	struct store			*st;
	struct item			 v[1];
	struct change			 ch;
	struct store_scan		 sc;
	struct store_commit_result	 res;

	st = open_ok();
	v[0] = js("/home/alice", "a", "1");
	memset(&ch, 0, sizeof(ch));
	ch.kind = CHANGE_ADDED;
	ch.new = &v[0];
	scan_init(&sc, SURFACE_JAVASCRIPT, 1);
	sc.items = v;
	sc.nitems = 1;
	sc.changes = &ch;
	sc.nchanges = 1;
	cr_assert_eq(store_commit_scan(st, &sc, &res), -1);
	sc.changes = NULL;
	sc.nchanges = 0;
	free(v[0].origin);
	v[0].origin = NULL;
	cr_assert_eq(store_commit_scan(st, &sc, &res), -1);
	cr_assert_eq(store_baselined(st, SURFACE_JAVASCRIPT), 0);
	cr_assert_eq(count_rows("inventory"), 0);
	store_close(st);
	items_free(v, 1);
}

/* A damaged page in the middle: opens, but quick_check says no. */
Test(store, corrupt_page_caught_by_quick_check)
{
	struct store			*st;
	struct store_commit_result	 res;
	struct stat			 sb;
	char				 junk[65536];
	unsigned char			 hdr[18];
	size_t				 pg;
	int				 fd, i;

	st = open_ok();
	for (i = 0; i < 40; i++) {
		char	pfx[16];

		snprintf(pfx, sizeof(pfx), "q%d", i);
		add_batch(st, pfx, 10, T0 + i, -1, -1, &res);
	}
	store_close(st);
	cr_assert_eq(stat(dbpath, &sb), 0);
	/* The page size from the header: a whole page in the middle. */
	cr_assert_geq(fd = open(dbpath, O_RDWR), 0);
	cr_assert_eq(pread(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
	pg = (size_t)hdr[16] << 8 | hdr[17];
	cr_assert(pg >= 512 && pg <= sizeof(junk) / 2, "page size %zu", pg);
	cr_assert_gt(sb.st_size, 10 * (off_t)pg);
	memset(junk, 0xa5, pg);
	cr_assert_eq(pwrite(fd, junk, pg, sb.st_size / (off_t)pg / 2 *
	    (off_t)pg), (ssize_t)pg);
	close(fd);

	st = open_ok();
	cr_assert_eq(store_rebuilt(st), 1);
	cr_assert_eq(count_aside(), 1);
	cr_assert_eq(store_baselined(st, SURFACE_JAVASCRIPT), 0);
	store_close(st);
}

/*
 * Rows that share surface, file and name: two versions of one package
 * (version is identity there) stay two rows, and a removal takes the
 * right one; a file shared by two surfaces outlives one surface's last
 * item; a file nobody uses any more is dropped.
 */
Test(store, shared_files_and_versions)
{
	struct store			*st;
	struct item			 v[3], mcp[2], *snap;
	struct change			 ch[2];
	struct store_scan		 sc;
	struct store_commit_result	 res;
	size_t				 n;

	st = open_ok();
	v[0] = js("/home/alice", "zod", "3.25.76");
	v[1] = js("/home/alice", "zod", "4.4.3");
	v[2] = js("/home/bob", "zod", "4.4.3");
	scan_init(&sc, SURFACE_JAVASCRIPT, 1);
	sc.items = v;
	sc.nitems = 3;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(count_rows("inventory"), 3);
	cr_assert_eq(count_rows("file"), 2);

	/* The same .mcp.json read by two surfaces. */
	memset(mcp, 0, sizeof(mcp));
	mcp[0] = js("/home/alice", "weather", NULL);
	mcp[0].surface = SURFACE_CLAUDE;
	mcp[0].kind = KIND_MCP_SERVER;
	mcp[1] = js("/home/alice", "weather", NULL);
	mcp[1].surface = SURFACE_PI;
	mcp[1].kind = KIND_MCP_SERVER;
	scan_init(&sc, SURFACE_CLAUDE, 1);
	sc.items = &mcp[0];
	sc.nitems = 1;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	scan_init(&sc, SURFACE_PI, 1);
	sc.items = &mcp[1];
	sc.nitems = 1;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(count_rows("file"), 2);

	/* Remove zod 4.4.3 from alice's lockfile: 3.25.76 stays. */
	memset(ch, 0, sizeof(ch));
	ch[0].kind = CHANGE_REMOVED;
	ch[0].old = &v[1];
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.items = v;
	sc.nitems = 1;
	sc.changes = ch;
	sc.nchanges = 1;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(store_load_snapshot(st, SURFACE_JAVASCRIPT, &snap, &n),
	    0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(snap[0].version, "3.25.76");
	cr_assert_str_eq(snap[1].path, "/home/bob/src/app/package-lock.json");
	store_items_free(snap, n);

	/* Bob's last item goes: his lockfile's row goes with it. */
	ch[0].old = &v[2];
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(count_rows("file"), 1);

	/* Alice's file is still used by the MCP surfaces' items... */
	ch[0].old = &v[0];
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(count_rows("inventory"), 2);
	cr_assert_eq(count_rows("file"), 1);
	/* ...until the last of them is removed. */
	ch[0].old = &mcp[0];
	scan_init(&sc, SURFACE_CLAUDE, 0);
	sc.changes = ch;
	sc.nchanges = 1;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(count_rows("file"), 1);
	ch[0].old = &mcp[1];
	scan_init(&sc, SURFACE_PI, 0);
	sc.changes = ch;
	sc.nchanges = 1;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(count_rows("file"), 0);
	cr_assert_eq(count_rows("inventory"), 0);

	/* Removing it again is a stale diff. */
	cr_assert_eq(store_commit_scan(st, &sc, &res), -1);
	store_close(st);
	items_free(v, 3);
	items_free(mcp, 2);
}

/* A sequence never comes round again, even when rows were dropped. */
Test(store, sequences_never_reused)
{
	struct store			*st;
	struct item			 v[4];
	struct finding			 pf[2];
	struct store_commit_result	 res;
	size_t				 nv;

	st = open_ok();
	baseline(st, v, &nv, pf, "DEVICE-A", &res);
	cr_assert_eq(res.last_seq, 5);
	store_close(st);
	/* What an enforced outboxMaxBytes may do: drop the rows. */
	db_exec("DELETE FROM outbox");
	st = open_ok();
	add_batch_device(st, "DEVICE-A", &res);
	cr_assert_eq(res.first_seq, 6);
	store_close(st);
	findings_free(pf, 2);
	items_free(v, nv);
}

static int
count_cb(void *arg, const struct store_surface_stats *s)
{
	uint64_t	*v = arg;

	if (s->surface == SURFACE_JAVASCRIPT)
		*v = s->items;
	return (0);
}

static uint64_t
js_count(struct store *st)
{
	uint64_t	v = (uint64_t)-1;

	cr_assert_eq(store_query_surfaces(st, count_cb, &v), 0);
	return (v);
}

/*
 * The file listing behind incremental scans: fingerprints recorded and
 * read back by path, a file read whole without items listed, one file's
 * rows loaded alone, GONE unlisting a file (or leaving it listed without
 * a fingerprint while it still has rows), item counts kept from the
 * changes, and a version 1 database migrated with its files listed.
 */
Test(store, file_listing_and_fingerprints)
{
	struct store			*st;
	struct item			 v[3], *snap;
	struct change			 ch[1];
	struct store_scan		 sc;
	struct store_file		 f[3], *lf;
	size_t				 n;

	st = open_ok();
	v[0] = js("/home/alice", "zod", "3.25.76");
	v[1] = js("/home/bob", "zod", "4.4.3");
	v[2] = js("/home/carol", "left-pad", "1.3.0");
	memset(f, 0, sizeof(f));
	f[0].path = v[1].path;		/* bob first: the store sorts */
	f[0].state = STORE_FP_SET;
	f[0].fp = (struct store_fp){ 2049, 77, 1234, 1700000000123456789LL,
	    1700000000987654321LL };
	f[1].path = v[0].path;
	f[1].state = STORE_FP_SET;
	f[1].fp = (struct store_fp){ 2049, 76, 99, 5, 6 };
	f[2].path = v[2].path;		/* read whole, no items */
	f[2].state = STORE_FP_SET;
	f[2].fp = (struct store_fp){ 2049, 78, 2, 7, 8 };
	scan_init(&sc, SURFACE_JAVASCRIPT, 1);
	sc.items = v;
	sc.nitems = 2;
	sc.files = f;
	sc.nfiles = 3;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	cr_assert_eq(store_load_files(st, SURFACE_JAVASCRIPT, &lf, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(lf[0].path, v[0].path);
	cr_assert_str_eq(lf[1].path, v[1].path);
	cr_assert_str_eq(lf[2].path, v[2].path);
	cr_assert_eq(lf[1].state, STORE_FP_SET);
	cr_assert_eq(lf[1].fp.ino, 77);
	cr_assert_eq(lf[1].fp.mtime_ns, 1700000000123456789LL);
	cr_assert_eq(lf[1].fp.ctime_ns, 1700000000987654321LL);
	cr_assert_eq(lf[0].fp.size, 99);
	store_files_free(lf, n);
	cr_assert_eq(store_load_files(st, SURFACE_CLAUDE, &lf, &n), 0);
	cr_assert_eq(n, 0);
	store_files_free(lf, n);

	/* One file's rows alone. */
	cr_assert_eq(store_load_file_items(st, SURFACE_JAVASCRIPT, v[1].path,
	    &snap, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(snap[0].version, "4.4.3");
	cr_assert_str_eq(snap[0].path, v[1].path);
	store_items_free(snap, n);
	cr_assert_eq(store_load_file_items(st, SURFACE_JAVASCRIPT, v[2].path,
	    &snap, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(snap);

	/* Bob's file is gone: its item removed, the file unlisted. */
	memset(ch, 0, sizeof(ch));
	ch[0].kind = CHANGE_REMOVED;
	ch[0].old = &v[1];
	f[0].state = STORE_FP_GONE;
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.changes = ch;
	sc.nchanges = 1;
	sc.files = f;
	sc.nfiles = 1;
	sc.count_by_changes = 1;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	cr_assert_eq(js_count(st), 1);
	cr_assert_eq(count_rows("file"), 2);
	cr_assert_eq(store_load_files(st, SURFACE_JAVASCRIPT, &lf, &n), 0);
	cr_assert_eq(n, 2);
	store_files_free(lf, n);

	/* Carol gets an item; her file read with an issue: no fingerprint. */
	ch[0].kind = CHANGE_ADDED;
	ch[0].old = NULL;
	ch[0].new = &v[2];
	f[2].state = STORE_FP_UNSET;
	sc.files = &f[2];
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	cr_assert_eq(js_count(st), 2);
	cr_assert_eq(store_load_files(st, SURFACE_JAVASCRIPT, &lf, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(lf[1].state, STORE_FP_UNSET);
	store_files_free(lf, n);

	/* GONE while rows remain keeps it listed, to be read again. */
	f[2].state = STORE_FP_GONE;
	sc.nchanges = 0;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	cr_assert_eq(store_load_files(st, SURFACE_JAVASCRIPT, &lf, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(lf[1].path, v[2].path);
	cr_assert_eq(lf[1].state, STORE_FP_UNSET);
	store_files_free(lf, n);
	store_close(st);
	/* A version 1 database: test_store_schema.c, migrate_from_v1. */
	items_free(v, 3);
}

static int
outbox_count_cb(void *arg, const struct store_outbox_row *r)
{
	size_t	*n = arg;

	cr_assert_eq(r->kind, CHANGE_ADDED);
	cr_assert_eq(r->local_seq, (int64_t)*n + 1);
	cr_assert_eq(r->collected_ms, T0);
	(*n)++;
	return (0);
}

/*
 * A baseline in pieces: rows in the order the pieces came, a later
 * duplicate of an id skipped, the item count and the outbox events read
 * back from the rows; an aborted one leaves nothing; nothing else may
 * commit while one is open.
 */
Test(store, baseline_in_pieces)
{
	struct store			*st;
	struct item			 v[4], *snap, tmp;
	struct store_scan		 sc;
	struct store_commit_result	 res;
	unsigned int			 ctr = 0;
	struct idsource			 ids = { counter_next, &ctr };
	size_t				 n, nout = 0;

	st = open_ok();
	v[0] = js("/home/bob", "zod", "4.4.3");
	v[1] = js("/home/alice", "zod", "3.25.76");
	v[2] = js("/home/alice", "left-pad", "1.3.0");
	v[3] = js("/home/bob", "zod", "4.4.3");		/* duplicate id */

	/* Aborted: nothing stays. */
	cr_assert_eq(store_baseline_begin(st, SURFACE_JAVASCRIPT), 0);
	cr_assert_eq(store_baseline_begin(st, SURFACE_JAVASCRIPT), -1);
	cr_assert_eq(store_baseline_add(st, v, 2), 0);
	scan_init(&sc, SURFACE_JAVASCRIPT, 1);
	cr_assert_eq(store_commit_scan(st, &sc, NULL), -1);
	store_baseline_abort(st);
	cr_assert_eq(count_rows("inventory"), 0);
	cr_assert_eq(store_baselined(st, SURFACE_JAVASCRIPT), 0);

	cr_assert_eq(store_baseline_begin(st, SURFACE_JAVASCRIPT), 0);
	cr_assert_eq(store_baseline_add(st, &v[0], 1), 0);
	cr_assert_eq(store_baseline_add(st, &v[1], 3), 0);
	scan_init(&sc, SURFACE_JAVASCRIPT, 1);
	sc.device_id = "DEV-1";
	sc.ids = &ids;
	sc.nitems = 99;		/* ignored: the rows count */
	cr_assert_eq(store_baseline_end(st, &sc, &res), 0);
	cr_assert_eq(res.noutbox, 3);
	cr_assert_eq(store_baselined(st, SURFACE_JAVASCRIPT), 1);
	cr_assert_eq(js_count(st), 3);
	cr_assert_eq(store_load_snapshot(st, SURFACE_JAVASCRIPT, &snap, &n),
	    0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(snap[0].path, v[0].path);
	cr_assert_str_eq(snap[1].version, "3.25.76");
	cr_assert_str_eq(snap[2].name, "left-pad");
	store_items_free(snap, n);
	cr_assert_eq(store_query_outbox(st, "DEV-1", 0, 0, outbox_count_cb,
	    &nout), 0);
	cr_assert_eq(nout, 3);
	/* A bad item fails the piece; the end then fails and rolls back. */
	cr_assert_eq(store_baseline_begin(st, SURFACE_CLAUDE), 0);
	cr_assert_eq(store_baseline_add(st, v, 1), -1);
	store_baseline_abort(st);
	cr_assert_eq(count_rows("inventory"), 3);

	/* Pieces may be freed on return: nothing of them is kept. */
	cr_assert_eq(store_baseline_begin(st, SURFACE_CLAUDE), 0);
	tmp = v[2];
	tmp.surface = SURFACE_CLAUDE;
	tmp.kind = KIND_MCP_SERVER;
	tmp.version = NULL;
	cr_assert_not_null(tmp.path = strdup(v[2].path));
	cr_assert_eq(store_baseline_add(st, &tmp, 1), 0);
	memset(tmp.path, 'x', strlen(tmp.path));
	free(tmp.path);
	cr_assert_not_null(tmp.path = strdup(v[0].path));
	cr_assert_eq(store_baseline_add(st, &tmp, 1), 0);
	free(tmp.path);
	scan_init(&sc, SURFACE_CLAUDE, 1);
	cr_assert_eq(store_baseline_end(st, &sc, NULL), 0);
	cr_assert_eq(count_rows("inventory"), 5);
	store_close(st);
	items_free(v, 4);
}

/* A file's rows by store_load_file_items: their names in row order. */
static void
file_names(struct store *st, const char *home, const char *want)
{
	struct item	*v;
	char		 path[256], got[512] = "";
	size_t		 i, n;

	snprintf(path, sizeof(path), "%s/src/app/package-lock.json", home);
	cr_assert_eq(store_load_file_items(st, SURFACE_JAVASCRIPT, path, &v,
	    &n), 0);
	for (i = 0; i < n; i++) {
		cr_assert_str_eq(v[i].path, path);
		strlcat(got, i ? "," : "", sizeof(got));
		strlcat(got, v[i].name, sizeof(got));
	}
	store_items_free(v, n);
	cr_assert_str_eq(got, want, "%s: %s, expected %s", home, got, want);
}

/*
 * Schema 5 finds a file's rows by the runs of ids in its listing, not
 * by an index: they follow a baseline whose pieces come back to a file,
 * then additions (at the surface's end), removals and modifications
 * file by file, a file losing all its rows, and a new baseline.
 */
Test(store, file_rows_follow_changes)
{
	struct store		*st;
	struct item		 a[4], b[3], add[2], mod;
	struct store_scan	 sc;
	struct change		 ch[6];
	struct store_file	 gone;
	size_t			 i;

	st = open_ok();
	a[0] = js("/home/a", "a1", "1.0.0");
	a[1] = js("/home/a", "a2", "1.0.0");
	a[2] = js("/home/a", "a3", "1.0.0");
	a[3] = js("/home/a", "a4", "1.0.0");
	b[0] = js("/home/b", "b1", "1.0.0");
	b[1] = js("/home/b", "b2", "1.0.0");
	b[2] = js("/home/b", "b3", "1.0.0");
	/* A's pieces around B's: A's rows are two runs. */
	cr_assert_eq(store_baseline_begin(st, SURFACE_JAVASCRIPT), 0);
	cr_assert_eq(store_baseline_add(st, a, 2), 0);
	cr_assert_eq(store_baseline_add(st, b, 2), 0);
	cr_assert_eq(store_baseline_add(st, &a[1], 2), 0);	/* a2 again */
	scan_init(&sc, SURFACE_JAVASCRIPT, 1);
	cr_assert_eq(store_baseline_end(st, &sc, NULL), 0);
	file_names(st, "/home/a", "a1,a2,a3");
	file_names(st, "/home/b", "b1,b2");

	/* B gains b3, A loses a2 and gains a4, then b1 goes, a3 changes. */
	add[0] = b[2];
	add[1] = a[3];
	mod = a[2];
	mod.detail = "resolved=https://example.com/a3.tgz";
	memset(ch, 0, sizeof(ch));
	ch[0].kind = CHANGE_ADDED;
	ch[0].new = &add[0];
	ch[1].kind = CHANGE_REMOVED;
	ch[1].old = &a[1];
	ch[2].kind = CHANGE_ADDED;
	ch[2].new = &add[1];
	ch[3].kind = CHANGE_REMOVED;
	ch[3].old = &b[0];
	ch[4].kind = CHANGE_MODIFIED;
	ch[4].old = &a[2];
	ch[4].new = &mod;
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.changes = ch;
	sc.nchanges = 5;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	file_names(st, "/home/a", "a1,a3,a4");
	file_names(st, "/home/b", "b2,b3");

	/* B loses every row and the file: its listing goes with them. */
	memset(ch, 0, sizeof(ch));
	ch[0].kind = CHANGE_REMOVED;
	ch[0].old = &b[1];
	ch[1].kind = CHANGE_REMOVED;
	ch[1].old = &b[2];
	memset(&gone, 0, sizeof(gone));
	gone.path = b[0].path;
	gone.state = STORE_FP_GONE;
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.changes = ch;
	sc.nchanges = 2;
	sc.files = &gone;
	sc.nfiles = 1;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	file_names(st, "/home/b", "");
	file_names(st, "/home/a", "a1,a3,a4");
	cr_assert_eq(count_rows("scanned"), 1);
	/* Re-added to A after the removals: a2 last. */
	memset(ch, 0, sizeof(ch));
	ch[0].kind = CHANGE_ADDED;
	ch[0].new = &a[1];
	scan_init(&sc, SURFACE_JAVASCRIPT, 0);
	sc.changes = ch;
	sc.nchanges = 1;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	file_names(st, "/home/a", "a1,a3,a4,a2");
	/* A stale caller still fails: a2 is there, a9 never was. */
	ch[0].kind = CHANGE_ADDED;
	ch[0].new = &a[1];
	cr_assert_eq(store_commit_scan(st, &sc, NULL), -1);
	file_names(st, "/home/a", "a1,a3,a4,a2");

	/* A new baseline, in one piece: the rows afresh. */
	scan_init(&sc, SURFACE_JAVASCRIPT, 1);
	sc.items = b;
	sc.nitems = 3;
	cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
	file_names(st, "/home/a", "");
	file_names(st, "/home/b", "b1,b2,b3");
	store_close(st);
	for (i = 0; i < 4; i++)
		items_free(&a[i], 1);
	items_free(b, 3);
}

/*
 * A baseline file's rows go in INV_BATCH at a time: 37 items (two
 * batches of 16 and five left), one a duplicate across a batch's edge
 * (dropped), with packed and plain details, versions and flags; every
 * field comes back in order, whether the baseline came whole or in a
 * piece.
 */
Test(store, baseline_rows_in_batches)
{
	struct store	*st;
	struct item	 v[38], *snap;
	struct store_scan sc;
	char		 name[32], ver[32], det[256];
	size_t		 i, j, n;
	int		 round;

	for (i = 0; i < 37; i++) {
		snprintf(name, sizeof(name), "n%02zu", i);
		snprintf(ver, sizeof(ver), i % 3 ? "1.%zu.0" : "1.%zu-rc", i);
		v[i] = js("/home/batch", name, i % 7 == 6 ? NULL : ver);
		free(v[i].detail);
		if (i % 4 == 0)
			v[i].detail = NULL;
		else {
			snprintf(det, sizeof(det), "resolved=https://registry."
			    "npmjs.org/%s/-/%s-%s.tgz", name, name,
			    v[i].version ? v[i].version : "x");
			cr_assert_not_null(v[i].detail = strdup(det));
		}
		v[i].installed_on_request = i % 3 == 0 ? ITEM_BOOL_NIL :
		    (int)(i % 2);
	}
	/* n03 again at 20: a later duplicate of an id is ignored. */
	memmove(&v[21], &v[20], 17 * sizeof(v[0]));
	v[20] = js("/home/batch", "n03", v[3].version);
	free(v[20].origin);
	cr_assert_not_null(v[20].origin = strdup("other"));
	for (round = 0; round < 2; round++) {
		st = open_ok();
		if (round == 0) {
			scan_init(&sc, SURFACE_JAVASCRIPT, 1);
			sc.items = v;
			sc.nitems = 38;
			cr_assert_eq(store_commit_scan(st, &sc, NULL), 0);
		} else {
			cr_assert_eq(store_baseline_begin(st,
			    SURFACE_JAVASCRIPT), 0);
			cr_assert_eq(store_baseline_add(st, v, 38), 0);
			scan_init(&sc, SURFACE_JAVASCRIPT, 1);
			cr_assert_eq(store_baseline_end(st, &sc, NULL), 0);
		}
		cr_assert_eq(store_load_snapshot(st, SURFACE_JAVASCRIPT,
		    &snap, &n), 0);
		cr_assert_eq(n, 37);
		for (i = 0, j = 0; i < 38; i++) {
			if (i == 20)
				continue;
			cr_assert_str_eq(snap[j].name, v[i].name);
			if (v[i].version == NULL)
				cr_assert_null(snap[j].version);
			else
				cr_assert_str_eq(snap[j].version,
				    v[i].version);
			if (v[i].detail == NULL)
				cr_assert_null(snap[j].detail);
			else
				cr_assert_str_eq(snap[j].detail, v[i].detail);
			cr_assert_str_eq(snap[j].origin, "npm");
			cr_assert_str_eq(snap[j].path, v[i].path);
			cr_assert_eq(snap[j].installed_on_request,
			    v[i].installed_on_request, "%s", v[i].name);
			j++;
		}
		store_items_free(snap, n);
		file_names(st, "/home/batch", "n00,n01,n02,n03,n04,n05,n06,"
		    "n07,n08,n09,n10,n11,n12,n13,n14,n15,n16,n17,n18,n19,"
		    "n20,n21,n22,n23,n24,n25,n26,n27,n28,n29,n30,n31,n32,"
		    "n33,n34,n35,n36");
		store_close(st);
		teardown();
		setup();
	}
	items_free(v, 38);
}
