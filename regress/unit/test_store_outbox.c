/*
 * The sync side of the outbox (store_outbox_*, PROTOCOL.md 9 with the
 * spec/README.md differences): due rows in sequence order for one
 * device, in flight, acks through a sequence and by sequence scoped by
 * device id, rejections poisoned after the acks, rescheduling with one
 * more attempt, crash recovery of in-flight rows, the last ack and the
 * next due time, the 12.4 rejection example, and the inventory queued
 * as `added` after an enrollment.
 */

#include <sys/types.h>

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "log.h"
#include "pb.h"
#include "store.h"

#define T0	1780308000000LL

static char	tmpdir[64];
static char	statedir[128];

static int
rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return (remove(p));
}

static void
setup(void)
{
	log_init(1, LOG_USER);
	strlcpy(tmpdir, "/tmp/test_store_outbox.XXXXXX", sizeof(tmpdir));
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(statedir, sizeof(statedir), "%s/state", tmpdir);
}

static void
teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(outbox, .init = setup, .fini = teardown);

static struct item
js(const char *name)
{
	struct item	it;

	memset(&it, 0, sizeof(it));
	it.surface = SURFACE_JAVASCRIPT;
	it.kind = KIND_PACKAGE;
	it.name = strdup(name);
	it.version = strdup("1.0.0");
	it.path = strdup("/home/a/src/p/package-lock.json");
	it.origin = strdup("npm");
	it.installed_on_request = ITEM_BOOL_NIL;
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
	}
}

/* A baseline of n items for device: outbox rows 1..n. */
static struct store *
with_rows(const char *device, size_t n)
{
	struct store			*st;
	struct store_scan		 sc;
	struct store_commit_result	 res;
	struct item			 v[16];
	char				 err[256], name[16];
	size_t				 i;

	cr_assert_leq(n, nitems(v));
	st = store_open(statedir, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "p%02zu", i);
		v[i] = js(name);
	}
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.baseline = 1;
	sc.items = v;
	sc.nitems = n;
	sc.completed_ms = T0;
	sc.artifact_ms = T0 + 1;
	sc.max_events = 5000;
	sc.max_findings = 1000;
	sc.device_id = device;
	sc.tenant_id = "TENANT";
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(res.noutbox, device != NULL ? n : 0);
	items_free(v, n);
	return (st);
}

struct seen {
	int64_t	seq[64];
	int64_t	attempts[64];
	size_t	n;
};

static int
collect(void *arg, const struct store_outbox_row *r)
{
	struct seen	*s = arg;

	cr_assert_lt(s->n, nitems(s->seq));
	cr_assert_eq(r->state, OUTBOX_PENDING);
	cr_assert_eq(r->payload_len > 0, 1);
	s->attempts[s->n] = r->attempts;
	s->seq[s->n++] = r->local_seq;
	return (0);
}

static size_t
ready(struct store *st, const char *dev, int64_t now, size_t lim,
    struct seen *s)
{
	memset(s, 0, sizeof(*s));
	cr_assert_eq(store_outbox_ready(st, dev, now, lim, collect, s), 0);
	return (s->n);
}

static void
stats(struct store *st, const char *dev, struct store_outbox_stats *os)
{
	cr_assert_eq(store_outbox_stats(st, dev, os), 0);
}

Test(outbox, ready_in_flight_and_acks)
{
	struct store			*st = with_rows("DEV-A", 5);
	struct store_outbox_stats	 os;
	struct seen			 s;
	int64_t				 seqs[3] = { 1, 2, 3 }, n, last;

	cr_assert_eq(ready(st, "DEV-A", T0, 3, &s), 3);
	cr_assert_eq(s.seq[0], 1);
	cr_assert_eq(s.seq[2], 3);
	cr_assert_eq(ready(st, "DEV-B", T0, 0, &s), 0);
	cr_assert_eq(store_outbox_set_state(st, "DEV-A", seqs, 3,
	    OUTBOX_INFLIGHT, T0, &n), 0);
	cr_assert_eq(n, 3);
	/* In flight rows are not due again. */
	cr_assert_eq(ready(st, "DEV-A", T0, 0, &s), 2);
	cr_assert_eq(s.seq[0], 4);
	stats(st, "DEV-A", &os);
	cr_assert_eq(os.inflight, 3);
	cr_assert_eq(os.backlog_events, 5);

	/* 12.4's example: through 1, 2 accepted, 3 rejected. */
	cr_assert_eq(store_outbox_ack_through(st, "DEV-A", 1, T0, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_outbox_set_state(st, "DEV-A", &seqs[1], 1,
	    OUTBOX_ACKED, T0, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_outbox_set_state(st, "DEV-A", &seqs[2], 1,
	    OUTBOX_POISON, T0, &n), 0);
	cr_assert_eq(store_outbox_last_acked(st, "DEV-A", &last), 0);
	cr_assert_eq(last, 2);
	stats(st, "DEV-A", &os);
	cr_assert_eq(os.acked, 2);
	cr_assert_eq(os.poison, 1);
	cr_assert_eq(os.inflight, 0);
	cr_assert_eq(os.backlog_events, 2);
	/* An ack of an acked row changes nothing. */
	cr_assert_eq(store_outbox_set_state(st, "DEV-A", &seqs[1], 1,
	    OUTBOX_ACKED, T0, &n), 0);
	cr_assert_eq(n, 0);
	store_close(st);
}

Test(outbox, acks_scoped_by_device)
{
	struct store			*st;
	struct store_scan		 sc;
	struct store_commit_result	 res;
	struct store_outbox_stats	 os;
	struct change			 ch;
	struct item			 v[2];
	int64_t				 one = 1, n, last;

	st = with_rows("DEV-A", 2);
	/* DEV-B gets sequence 1 as well (a re-enrollment). */
	v[0] = js("p00");
	v[1] = js("other");
	memset(&ch, 0, sizeof(ch));
	ch.kind = CHANGE_ADDED;
	ch.new = &v[1];
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.items = v;
	sc.nitems = 2;
	sc.changes = &ch;
	sc.nchanges = 1;
	sc.completed_ms = T0;
	sc.artifact_ms = T0;
	sc.max_events = 5000;
	sc.max_findings = 1000;
	sc.device_id = "DEV-B";
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(res.first_seq, 1);
	items_free(v, 2);

	cr_assert_eq(store_outbox_ack_through(st, "DEV-B", 5, T0, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_outbox_set_state(st, "DEV-B", &one, 1,
	    OUTBOX_POISON, T0, NULL), 0);
	stats(st, "DEV-A", &os);
	cr_assert_eq(os.pending, 2, "DEV-B's acks touched DEV-A");
	cr_assert_eq(os.acked + os.poison, 0);
	cr_assert_eq(store_outbox_last_acked(st, "DEV-A", &last), 0);
	cr_assert_eq(last, 0);
	/* Rejected after accepted-through: poison wins. */
	stats(st, "DEV-B", &os);
	cr_assert_eq(os.poison, 1);
	cr_assert_eq(os.acked, 0);
	store_close(st);
}

Test(outbox, reschedule_and_due_time)
{
	struct store	*st = with_rows("DEV-A", 3);
	struct seen	 s;
	int64_t		 seqs[3] = { 1, 2, 3 }, due, n;

	cr_assert_eq(store_outbox_next_due(st, "DEV-A", &due), 0);
	cr_assert_eq(due, 0);
	cr_assert_eq(store_outbox_set_state(st, "DEV-A", seqs, 2,
	    OUTBOX_INFLIGHT, T0, NULL), 0);
	cr_assert_eq(store_outbox_ack_through(st, "DEV-A", 1, T0, NULL), 0);
	/* Only the row still in flight (2) is rescheduled, not 1 or 3. */
	cr_assert_eq(store_outbox_reschedule(st, "DEV-A", seqs, 3,
	    T0 + 15000, T0, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ready(st, "DEV-A", T0, 0, &s), 1);
	cr_assert_eq(s.seq[0], 3);
	cr_assert_eq(s.attempts[0], 0);
	cr_assert_eq(ready(st, "DEV-A", T0 + 15000, 0, &s), 2);
	cr_assert_eq(s.seq[0], 2);
	cr_assert_eq(s.attempts[0], 1);
	cr_assert_eq(store_outbox_next_due(st, "DEV-A", &due), 0);
	cr_assert_eq(due, 0);	/* 3 is due now */
	cr_assert_eq(store_outbox_set_state(st, "DEV-A", &seqs[2], 1,
	    OUTBOX_ACKED, T0, NULL), 0);
	cr_assert_eq(store_outbox_next_due(st, "DEV-A", &due), 0);
	cr_assert_eq(due, T0 + 15000);
	cr_assert_eq(store_outbox_ack_through(st, "DEV-A", 3, T0, NULL), 0);
	cr_assert_eq(store_outbox_next_due(st, "DEV-A", &due), 0);
	cr_assert_eq(due, -1);
	store_close(st);
}

/*
 * The backlog sync_health() sends and the due time of the next round
 * both read through the state index: each device's own rows only, and
 * the backlog agrees with store_outbox_stats().
 */
Test(outbox, backlog_and_due_scoped_by_device)
{
	struct store			*st;
	struct store_scan		 sc;
	struct store_commit_result	 res;
	struct store_outbox_stats	 os;
	struct change			 ch;
	struct item			 v[2];
	int64_t				 one = 1, seqs[2] = { 1, 2 }, due;
	uint64_t			 n, bytes;

	st = with_rows("DEV-A", 3);
	v[0] = js("p00");
	v[1] = js("other");
	memset(&ch, 0, sizeof(ch));
	ch.kind = CHANGE_ADDED;
	ch.new = &v[1];
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.items = v;
	sc.nitems = 2;
	sc.changes = &ch;
	sc.nchanges = 1;
	sc.completed_ms = T0;
	sc.artifact_ms = T0;
	sc.max_events = 5000;
	sc.max_findings = 1000;
	sc.device_id = "DEV-B";
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	items_free(v, 2);
	/* DEV-B's one row waits for a retry; DEV-A's are due at once. */
	cr_assert_eq(store_outbox_set_state(st, "DEV-B", &one, 1,
	    OUTBOX_INFLIGHT, T0, NULL), 0);
	cr_assert_eq(store_outbox_reschedule(st, "DEV-B", &one, 1,
	    T0 + 5000, T0, NULL), 0);
	/* DEV-A: 1 in flight, 2 acked, 3 pending. */
	cr_assert_eq(store_outbox_set_state(st, "DEV-A", seqs, 2,
	    OUTBOX_INFLIGHT, T0, NULL), 0);
	cr_assert_eq(store_outbox_set_state(st, "DEV-A", &seqs[1], 1,
	    OUTBOX_ACKED, T0, NULL), 0);

	cr_assert_eq(store_outbox_backlog(st, "DEV-A", &n, &bytes), 0);
	stats(st, "DEV-A", &os);
	cr_assert_eq(n, 2);
	cr_assert_eq(os.backlog_events, 2);
	cr_assert_gt(bytes, 0);
	cr_assert_eq(bytes, os.backlog_bytes);
	cr_assert_eq(store_outbox_backlog(st, "DEV-B", &n, &bytes), 0);
	stats(st, "DEV-B", &os);
	cr_assert_eq(n, 1);
	cr_assert_eq(bytes, os.backlog_bytes);
	cr_assert_eq(store_outbox_backlog(st, "DEV-C", &n, &bytes), 0);
	cr_assert_eq(n + bytes, 0);

	/* DEV-A's due rows sort first in the index: not DEV-B's. */
	cr_assert_eq(store_outbox_next_due(st, "DEV-B", &due), 0);
	cr_assert_eq(due, T0 + 5000);
	cr_assert_eq(store_outbox_next_due(st, "DEV-A", &due), 0);
	cr_assert_eq(due, 0);
	cr_assert_eq(store_outbox_ack_through(st, "DEV-A", 3, T0, NULL), 0);
	cr_assert_eq(store_outbox_next_due(st, "DEV-A", &due), 0);
	cr_assert_eq(due, -1);
	cr_assert_eq(store_outbox_backlog(st, "DEV-A", &n, &bytes), 0);
	cr_assert_eq(n + bytes, 0);
	cr_assert_eq(store_outbox_next_due(st, "DEV-B", &due), 0);
	cr_assert_eq(due, T0 + 5000);
	store_close(st);
}

Test(outbox, in_flight_rows_recovered_after_a_crash)
{
	struct store	*st = with_rows("DEV-A", 4);
	struct seen	 s;
	int64_t		 seqs[2] = { 2, 3 }, n;

	cr_assert_eq(store_outbox_set_state(st, "DEV-A", seqs, 2,
	    OUTBOX_INFLIGHT, T0, NULL), 0);
	/* No orderly shutdown: the next process opens the same file. */
	store_close(st);
	st = with_rows("DEV-A", 0);
	cr_assert_eq(ready(st, "DEV-A", T0, 0, &s), 2);
	cr_assert_eq(store_outbox_recover(st, T0, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(ready(st, "DEV-A", T0, 0, &s), 4);
	cr_assert_eq(s.seq[1], 2);
	cr_assert_eq(s.attempts[1], 0);
	cr_assert_eq(store_outbox_recover(st, T0, &n), 0);
	cr_assert_eq(n, 0);
	store_close(st);
}

struct decoded {
	char	names[16][16];
	int64_t	seq[16];
	size_t	n;
};

static int
decode_row(void *arg, const struct store_outbox_row *r)
{
	struct decoded		*d = arg;
	struct pb_payload	 p;
	char			 err[128];

	cr_assert_lt(d->n, nitems(d->seq));
	cr_assert_eq(r->kind, CHANGE_ADDED);
	cr_assert_eq(r->finding, 0);
	cr_assert_eq(r->observed_ms, T0 + 5);
	cr_assert_str_eq(r->tenant_id, "TENANT-2");
	cr_assert_eq(pb_decode_payload(r->payload, r->payload_len, &p, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert(p.has_item);
	strlcpy(d->names[d->n], p.item.name, sizeof(d->names[0]));
	d->seq[d->n++] = r->local_seq;
	pb_payload_free(&p);
	return (0);
}

Test(outbox, inventory_enqueued_after_enrollment)
{
	struct store	*st = with_rows(NULL, 3);
	struct decoded	 d;
	size_t		 n;

	/* Scanned before the device had an identity: no rows. */
	memset(&d, 0, sizeof(d));
	cr_assert_eq(store_query_outbox(st, NULL, 0, 0, decode_row, &d), 0);
	cr_assert_eq(d.n, 0);
	cr_assert_eq(store_outbox_enqueue_inventory(st, "DEV-NEW",
	    "TENANT-2", T0 + 5, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(store_query_outbox(st, "DEV-NEW", 0, 0, decode_row, &d),
	    0);
	cr_assert_eq(d.n, 3);
	cr_assert_eq(d.seq[0], 1);
	cr_assert_eq(d.seq[2], 3);
	cr_assert_str_eq(d.names[0], "p00");
	cr_assert_str_eq(d.names[2], "p02");
	/* Again (a second enrollment): new events after the first. */
	cr_assert_eq(store_outbox_enqueue_inventory(st, "DEV-NEW",
	    "TENANT-2", T0 + 5, &n), 0);
	memset(&d, 0, sizeof(d));
	cr_assert_eq(store_query_outbox(st, "DEV-NEW", 3, 0, decode_row, &d),
	    0);
	cr_assert_eq(d.n, 3);
	cr_assert_eq(d.seq[0], 4);
	store_close(st);
}
