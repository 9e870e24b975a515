/*
 * sync.outboxMaxBytes (store_outbox_set_max, spec/README.md): inside the
 * transaction that adds rows, while the payload bytes of every stored
 * row exceed the cap, rows go in the stated order -- an undelivered row
 * bigger than the whole cap, acked rows but each device's last, pending
 * and poisoned inventory events oldest first, findings oldest first --
 * never an inFlight row; the drops are counted by kind and persist; a
 * dropped sequence is never given again.
 *
 * Every item here has names of one length, so every inventory payload
 * has one size S and every finding payload one size F (checked), and
 * each expectation is plain arithmetic on them.
 */

#include <sys/types.h>

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "differ.h"
#include "log.h"
#include "rules.h"
#include "store.h"
#include "timefmt.h"

#define T0	1780308000000LL
#define DEV	"DEVICE-A"

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
	strlcpy(tmpdir, "/tmp/test_outbox_cap.XXXXXX", sizeof(tmpdir));
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(statedir, sizeof(statedir), "%s/state", tmpdir);
}

static void
teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(outbox_cap, .init = setup, .fini = teardown);

static struct store *
open_store(void)
{
	struct store	*st;
	char		 err[256];

	st = store_open(statedir, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	return (st);
}

/* Package p<NNNN>, or a name of len characters if len > 0. */
static struct item
pkg(unsigned int n, size_t len)
{
	struct item	it;
	char		name[16];

	memset(&it, 0, sizeof(it));
	it.surface = SURFACE_JAVASCRIPT;
	it.kind = KIND_PACKAGE;
	if (len > 0) {
		cr_assert_not_null(it.name = malloc(len + 1));
		memset(it.name, 'x', len);
		it.name[len] = '\0';
	} else {
		snprintf(name, sizeof(name), "p%04u", n);
		it.name = strdup(name);
	}
	it.version = strdup("1.0.0");
	it.path = strdup("/home/a/src/p/package-lock.json");
	it.origin = strdup("npm");
	it.installed_on_request = ITEM_BOOL_NIL;
	return (it);
}

static void
pkg_free(struct item *it)
{
	free(it->name);
	free(it->version);
	free(it->path);
	free(it->origin);
}

static struct finding
fnd(const struct item *it, unsigned int n)
{
	struct finding	f;
	char		ts[TIMEFMT_BUFSZ];

	memset(&f, 0, sizeof(f));
	snprintf(f.id, sizeof(f.id), "11111111-2222-4333-8444-%012X", n);
	cr_assert_eq(timefmt_ms(T0, ts), 0);
	f.timestamp = strdup(ts);
	f.surface = it->surface;
	f.item_id = item_id(it);
	f.rule_id = strdup("rule-a");
	f.title = strdup("A title");
	f.rationale = strdup("A rationale.");
	f.severity = SEVERITY_CRITICAL;
	f.item_name = strdup(it->name);
	f.evidence_path = strdup(it->path);
	f.matched_field = strdup("name");
	f.matched_value = strdup(it->name);
	return (f);
}

static void
scan_init(struct store_scan *sc, int baseline, const char *device)
{
	memset(sc, 0, sizeof(*sc));
	sc->surface = SURFACE_JAVASCRIPT;
	sc->baseline = baseline;
	sc->completed_ms = T0;
	sc->artifact_ms = T0 + 1;
	sc->max_events = -1;
	sc->max_findings = -1;
	sc->device_id = device;
	sc->tenant_id = "TENANT";
	sc->count_by_changes = !baseline;
}

/* A baseline of items first..first+n-1 and nf present findings. */
static void
baseline(struct store *st, unsigned int n, unsigned int nf,
    const char *device)
{
	struct store_scan		 sc;
	struct store_commit_result	 res;
	struct item			 v[32];
	struct finding			 f[8];
	unsigned int			 i;

	cr_assert_leq(n, nitems(v));
	cr_assert_leq(nf, nitems(f));
	cr_assert_leq(nf, n);
	for (i = 0; i < n; i++)
		v[i] = pkg(i, 0);
	for (i = 0; i < nf; i++)
		f[i] = fnd(&v[i], i);
	scan_init(&sc, 1, device);
	sc.items = v;
	sc.nitems = n;
	sc.present_findings = f;
	sc.npresent_findings = nf;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(res.noutbox, device != NULL ? n + nf : 0);
	for (i = 0; i < n; i++)
		pkg_free(&v[i]);
	for (i = 0; i < nf; i++)
		finding_free(&f[i]);
}

/*
 * A normal scan adding items first..first+n-1 (name length len, 0: the
 * usual) and nf findings on the first of them; res gets the result.
 */
static int
add(struct store *st, unsigned int first, unsigned int n, size_t len,
    unsigned int nf, struct store_commit_result *res)
{
	struct store_scan	 sc;
	struct item		 v[8];
	struct change		 ch[8];
	struct finding		 f[4];
	unsigned int		 i;
	int			 rc;

	cr_assert_leq(n, nitems(v));
	cr_assert_leq(nf, nitems(f));
	for (i = 0; i < n; i++) {
		v[i] = pkg(first + i, i == 0 ? len : 0);
		ch[i].kind = CHANGE_ADDED;
		ch[i].old = NULL;
		ch[i].new = &v[i];
	}
	if (n == 0)
		v[0] = pkg(first, 0);
	for (i = 0; i < nf; i++)
		f[i] = fnd(&v[0], 100 + first + i);
	scan_init(&sc, 0, DEV);
	sc.changes = ch;
	sc.nchanges = n;
	sc.present_findings = f;
	sc.npresent_findings = nf;
	rc = store_commit_scan(st, &sc, res);
	for (i = 0; i < (n > 0 ? n : 1); i++)
		pkg_free(&v[i]);
	for (i = 0; i < nf; i++)
		finding_free(&f[i]);
	return (rc);
}

struct rows {
	int64_t			 seq[64];
	size_t			 size[64];
	int			 finding[64];
	enum store_outbox_state	 state[64];
	size_t			 n;
	uint64_t		 bytes;
};

static int
row_cb(void *arg, const struct store_outbox_row *r)
{
	struct rows	*x = arg;

	cr_assert_lt(x->n, nitems(x->seq));
	x->seq[x->n] = r->local_seq;
	x->size[x->n] = r->payload_len;
	x->finding[x->n] = r->finding;
	x->state[x->n] = r->state;
	x->bytes += r->payload_len;
	x->n++;
	return (0);
}

static void
rows(struct store *st, struct rows *x)
{
	memset(x, 0, sizeof(*x));
	cr_assert_eq(store_query_outbox(st, NULL, 0, 0, row_cb, x), 0);
}

/* The remaining sequences are exactly want[0..n-1]. */
static void
assert_seqs(const struct rows *x, const int64_t *want, size_t n)
{
	size_t	i;

	cr_assert_eq(x->n, n, "%zu rows left, want %zu", x->n, n);
	for (i = 0; i < n; i++)
		cr_assert_eq(x->seq[i], want[i], "row %zu: seq %lld, want %lld",
		    i, (long long)x->seq[i], (long long)want[i]);
}

/* The one inventory size S and finding size F so far. */
static void
sizes(struct store *st, size_t *s, size_t *f)
{
	struct rows	x;
	size_t		i;

	rows(st, &x);
	*s = *f = 0;
	for (i = 0; i < x.n; i++) {
		size_t	*p = x.finding[i] ? f : s;

		if (*p == 0)
			*p = x.size[i];
		cr_assert_eq(x.size[i], *p, "seq %lld: size %zu, want %zu",
		    (long long)x.seq[i], x.size[i], *p);
	}
}

/* The counts, and the bytes the rows hold, within the cap if capped. */
static void
assert_usage(struct store *st, uint64_t inv, uint64_t find, uint64_t acked,
    int capped)
{
	struct store_outbox_usage	u;
	struct rows			x;

	cr_assert_eq(store_outbox_usage(st, &u), 0);
	rows(st, &x);
	cr_assert_eq(u.dropped_inventory, inv, "inventory drops %llu, "
	    "want %llu", (unsigned long long)u.dropped_inventory,
	    (unsigned long long)inv);
	cr_assert_eq(u.dropped_findings, find, "finding drops %llu, want "
	    "%llu", (unsigned long long)u.dropped_findings,
	    (unsigned long long)find);
	cr_assert_eq(u.pruned_acked, acked);
	cr_assert_eq(u.bytes, x.bytes, "usage %llu bytes, rows hold %llu",
	    (unsigned long long)u.bytes, (unsigned long long)x.bytes);
	if (capped)
		cr_assert_leq(x.bytes, (uint64_t)u.max_bytes);
}

Test(outbox_cap, no_cap_keeps_everything)
{
	struct store			*st = open_store();
	struct store_commit_result	 res;
	struct rows			 x;

	baseline(st, 20, 2, DEV);
	cr_assert_eq(add(st, 100, 5, 0, 1, &res), 0);
	cr_assert_eq(res.dropped_inventory + res.dropped_findings, 0);
	rows(st, &x);
	cr_assert_eq(x.n, 28);
	assert_usage(st, 0, 0, 0, 0);
	store_close(st);
}

Test(outbox_cap, inventory_oldest_first)
{
	struct store			*st = open_store();
	struct store_commit_result	 res;
	struct rows			 x;
	size_t				 s, f;
	const int64_t			 want[] = { 7, 8, 9, 10, 11, 12 };

	baseline(st, 10, 0, DEV);
	sizes(st, &s, &f);
	cr_assert_gt(s, 0);
	/* 12 rows of S against 6.5 S: the six oldest go. */
	store_outbox_set_max(st, (long long)(6 * s + s / 2));
	cr_assert_eq(add(st, 100, 2, 0, 0, &res), 0);
	cr_assert_eq(res.noutbox, 2);
	cr_assert_eq(res.dropped_inventory, 6);
	cr_assert_eq(res.dropped_findings, 0);
	rows(st, &x);
	assert_seqs(&x, want, nitems(want));
	assert_usage(st, 6, 0, 0, 1);
	store_close(st);
}

/* A reload that lowers the cap: applied at once, in the same order. */
Test(outbox_cap, lowered_cap_applied_now)
{
	struct store	*st = open_store();
	struct rows	 x;
	size_t		 s, f;
	const int64_t	 want[] = { 9, 10, 11, 12 };

	baseline(st, 12, 0, DEV);
	sizes(st, &s, &f);
	cr_assert_eq(store_outbox_enforce_now(st), 0);	/* no cap: nothing */
	rows(st, &x);
	cr_assert_eq(x.n, 12);
	store_outbox_set_max(st, (long long)(4 * s + s / 2));
	cr_assert_eq(store_outbox_enforce_now(st), 0);
	rows(st, &x);
	assert_seqs(&x, want, nitems(want));
	assert_usage(st, 8, 0, 0, 1);
	store_close(st);
}

Test(outbox_cap, findings_last_and_sequences_not_reused)
{
	struct store			*st = open_store();
	struct store_commit_result	 res;
	struct rows			 x;
	size_t				 s, f;
	const int64_t			 want1[] = { 5, 6 };
	const int64_t			 want2[] = { 6, 8 };

	/* 1-4 inventory, 5-6 findings. */
	baseline(st, 4, 2, DEV);
	sizes(st, &s, &f);
	cr_assert_gt(f, 0);
	store_outbox_set_max(st, (long long)(2 * f + s / 2));
	/* 7: every inventory row goes, the newest too; findings stay. */
	cr_assert_eq(add(st, 100, 1, 0, 0, &res), 0);
	cr_assert_eq(res.last_seq, 7);
	cr_assert_eq(res.dropped_inventory, 5);
	cr_assert_eq(res.dropped_findings, 0);
	rows(st, &x);
	assert_seqs(&x, want1, nitems(want1));
	/* 8, a finding, past the dropped 7: the oldest finding goes. */
	cr_assert_eq(add(st, 200, 0, 0, 1, &res), 0);
	cr_assert_eq(res.first_seq, 8);
	cr_assert_eq(res.dropped_inventory, 0);
	cr_assert_eq(res.dropped_findings, 1);
	rows(st, &x);
	assert_seqs(&x, want2, nitems(want2));
	assert_usage(st, 5, 1, 0, 1);
	store_close(st);
}

Test(outbox_cap, inflight_untouched_poison_dropped)
{
	struct store			*st = open_store();
	struct store_commit_result	 res;
	struct rows			 x;
	size_t				 s, f, i;
	const int64_t			 fly[] = { 1, 2, 3 }, bad[] = { 5 };
	const int64_t			 want[] = { 1, 2, 3, 9 };

	baseline(st, 8, 0, DEV);
	sizes(st, &s, &f);
	cr_assert_eq(store_outbox_set_state(st, DEV, fly, nitems(fly),
	    OUTBOX_INFLIGHT, T0, NULL), 0);
	cr_assert_eq(store_outbox_set_state(st, DEV, bad, nitems(bad),
	    OUTBOX_POISON, T0, NULL), 0);
	/* 9 S against 4.5 S: 4 to 8 go (5 poisoned), 1 to 3 fly on. */
	store_outbox_set_max(st, (long long)(4 * s + s / 2));
	cr_assert_eq(add(st, 100, 1, 0, 0, &res), 0);
	cr_assert_eq(res.dropped_inventory, 5);
	rows(st, &x);
	assert_seqs(&x, want, nitems(want));
	for (i = 0; i < 3; i++)
		cr_assert_eq(x.state[i], OUTBOX_INFLIGHT);
	cr_assert_eq(x.state[3], OUTBOX_PENDING);
	assert_usage(st, 5, 0, 0, 1);

	/*
	 * In flight alone over the cap: every pending row goes, the
	 * in-flight ones stay and the loop ends.
	 */
	store_outbox_set_max(st, (long long)(2 * s));
	cr_assert_eq(add(st, 200, 2, 0, 0, &res), 0);
	cr_assert_eq(res.dropped_inventory, 3);
	rows(st, &x);
	assert_seqs(&x, fly, nitems(fly));
	store_close(st);
}

Test(outbox_cap, acked_pruned_first_uncounted_last_kept)
{
	struct store			*st = open_store();
	struct store_commit_result	 res;
	struct rows			 x;
	size_t				 s, f;
	int64_t				 last;
	const int64_t			 want1[] = { 4, 5, 6, 7, 8, 9 };
	const int64_t			 want2[] = { 4, 7, 8, 9, 10, 11 };

	baseline(st, 8, 0, DEV);
	sizes(st, &s, &f);
	cr_assert_eq(store_outbox_ack_through(st, DEV, 4, T0, NULL), 0);
	/* 9 S against 6.5 S: acked 1 to 3 go, 4 (the last ack) stays. */
	store_outbox_set_max(st, (long long)(6 * s + s / 2));
	cr_assert_eq(add(st, 100, 1, 0, 0, &res), 0);
	cr_assert_eq(res.pruned_acked, 3);
	cr_assert_eq(res.dropped_inventory, 0);
	rows(st, &x);
	assert_seqs(&x, want1, nitems(want1));
	cr_assert_eq(store_outbox_last_acked(st, DEV, &last), 0);
	cr_assert_eq(last, 4);
	assert_usage(st, 0, 0, 3, 1);
	/* Only the last ack is left: pending inventory goes next. */
	cr_assert_eq(add(st, 200, 2, 0, 0, &res), 0);
	cr_assert_eq(res.pruned_acked, 0);
	cr_assert_eq(res.dropped_inventory, 2);
	rows(st, &x);
	assert_seqs(&x, want2, nitems(want2));
	assert_usage(st, 2, 0, 3, 1);
	store_close(st);
}

Test(outbox_cap, bigger_than_the_cap_dropped_alone)
{
	struct store			*st = open_store();
	struct store_commit_result	 res;
	struct rows			 x;
	size_t				 s, f;
	const int64_t			 want[] = { 1, 2, 3, 5 };

	baseline(st, 3, 0, DEV);
	sizes(st, &s, &f);
	store_outbox_set_max(st, (long long)(4 * s + s / 2));
	/* 4 has a 4,000-byte name: it could never fit, the rest does. */
	cr_assert_eq(add(st, 100, 2, 4000, 0, &res), 0);
	cr_assert_eq(res.dropped_inventory, 1);
	rows(st, &x);
	assert_seqs(&x, want, nitems(want));
	assert_usage(st, 1, 0, 0, 1);
	store_close(st);
}

Test(outbox_cap, enqueue_inventory_capped)
{
	struct store	*st = open_store();
	struct rows	 x;
	size_t		 n, s;
	const int64_t	 want[] = { 4, 5, 6 };

	/* No device at the baseline: no rows until the enrollment. */
	baseline(st, 6, 0, NULL);
	cr_assert_eq(store_outbox_enqueue_inventory(st, DEV, "TENANT", T0,
	    &n), 0);
	cr_assert_eq(n, 6);
	rows(st, &x);
	s = x.size[0];
	store_close(st);

	/* The same, capped, in a second database. */
	snprintf(statedir, sizeof(statedir), "%s/state2", tmpdir);
	st = open_store();
	baseline(st, 6, 0, NULL);
	store_outbox_set_max(st, (long long)(3 * s + s / 2));
	cr_assert_eq(store_outbox_enqueue_inventory(st, DEV, "TENANT", T0,
	    &n), 0);
	cr_assert_eq(n, 6);
	rows(st, &x);
	assert_seqs(&x, want, nitems(want));
	assert_usage(st, 3, 0, 0, 1);
	store_close(st);
}

Test(outbox_cap, counts_persist_and_bytes_recounted)
{
	struct store			*st = open_store();
	struct store_commit_result	 res;
	struct rows			 x;
	size_t				 s, f;
	const int64_t			 want[] = { 11, 12, 13 };

	baseline(st, 10, 0, DEV);
	sizes(st, &s, &f);
	store_outbox_set_max(st, (long long)(3 * s));
	cr_assert_eq(add(st, 100, 1, 0, 0, &res), 0);
	cr_assert_eq(res.dropped_inventory, 8);
	store_close(st);

	/* A fresh handle sums the rows again; the counts were stored. */
	st = open_store();
	assert_usage(st, 8, 0, 0, 0);
	store_outbox_set_max(st, (long long)(3 * s));
	cr_assert_eq(add(st, 200, 2, 0, 0, &res), 0);
	cr_assert_eq(res.dropped_inventory, 2);
	rows(st, &x);
	assert_seqs(&x, want, nitems(want));
	cr_assert_eq(x.bytes, 3 * s);
	assert_usage(st, 10, 0, 0, 1);
	store_close(st);
}

Test(outbox_cap, failed_commit_drops_nothing)
{
	struct store			*st = open_store();
	struct store_commit_result	 res;
	struct rows			 x;
	size_t				 s, f;

	baseline(st, 6, 0, DEV);
	sizes(st, &s, &f);
	store_outbox_set_max(st, (long long)(3 * s));
	/* p000 is stored already: the added change fails the commit. */
	cr_assert_eq(add(st, 0, 1, 0, 0, &res), -1);
	rows(st, &x);
	cr_assert_eq(x.n, 6);
	/* Nothing was committed, so the cap was not applied yet. */
	assert_usage(st, 0, 0, 0, 0);
	/* The next good commit still sees every byte. */
	cr_assert_eq(add(st, 100, 1, 0, 0, &res), 0);
	cr_assert_eq(res.dropped_inventory, 4);
	assert_usage(st, 4, 0, 0, 1);
	store_close(st);
}

/* Over OB_FEW acked rows, taken from the front of the table. */
Test(outbox_cap, many_acked_pruned_oldest_first)
{
	struct store			*st = open_store();
	struct store_scan		 sc;
	struct store_commit_result	 res;
	struct store_outbox_usage	 u;
	struct item			*v;
	struct rows			 x;
	size_t				 s, i, n = 1100;
	int64_t				 last;

	cr_assert_not_null(v = calloc(n, sizeof(*v)));
	for (i = 0; i < n; i++)
		v[i] = pkg((unsigned int)i, 0);
	scan_init(&sc, 1, DEV);
	sc.items = v;
	sc.nitems = n;
	cr_assert_eq(store_commit_scan(st, &sc, &res), 0);
	cr_assert_eq(res.noutbox, n);
	for (i = 0; i < n; i++)
		pkg_free(&v[i]);
	free(v);
	cr_assert_eq(store_outbox_usage(st, &u), 0);
	s = u.bytes / n;
	cr_assert_eq(u.bytes, s * n);
	cr_assert_eq(store_outbox_ack_through(st, DEV, 1050, T0, NULL), 0);
	/* 1101 S against 60.5 S: acked 1 to 1041 go; 1050 would stay. */
	store_outbox_set_max(st, (long long)(60 * s + s / 2));
	cr_assert_eq(add(st, 5000, 1, 0, 0, &res), 0);
	cr_assert_eq(res.pruned_acked, 1041);
	cr_assert_eq(res.dropped_inventory, 0);
	cr_assert_eq(store_outbox_usage(st, &u), 0);
	cr_assert_eq(u.bytes, 60 * s);
	rows(st, &x);
	cr_assert_eq(x.n, 60);
	for (i = 0; i < x.n; i++) {
		cr_assert_eq(x.seq[i], 1042 + (int64_t)i);
		cr_assert_eq(x.state[i], x.seq[i] <= 1050 ? OUTBOX_ACKED :
		    OUTBOX_PENDING);
	}
	cr_assert_eq(store_outbox_last_acked(st, DEV, &last), 0);
	cr_assert_eq(last, 1050);
	assert_usage(st, 0, 0, 1041, 1);
	store_close(st);
}
