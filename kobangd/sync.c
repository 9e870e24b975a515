/*
 * The sync round (sync.h).  One request at a time, through the
 * transport's queue; the outbox rows of a batch are inFlight in the
 * store while it is out, so a crash leaves them for sync_init() to put
 * back, and a re-sent row keeps its event id and local sequence.
 */

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

#include "compat.h"
#include "config.h"
#include "ctl.h"
#include "enroll.h"
#include "event.h"
#include "imsg.h"
#include "jsonw.h"
#include "kobangd.h"
#include "log.h"
#include "proto.h"
#include "rconfig.h"
#include "sensor.h"
#include "store.h"
#include "sync.h"
#include "transport.h"
#include "vocab.h"

#define SYNC_MIN_GAP_MS		1000	/* no route faster than this */
#define SYNC_BUSY_MS		2000	/* the store was in a transaction */

/* One row of the batch, copied out of the store's row buffers. */
struct brow {
	struct proto_sync_event	 ev;
	char			 event_id[UUID_BUFSZ];
	char			*device_id;
	char			 hash[65];
	uint8_t			*payload;
	int64_t			 attempts;
};

struct batch {
	struct brow	*rows;
	size_t		 n;
	size_t		 cap;
	uint64_t	 bytes;
	uint64_t	 max_bytes;	/* effective byte limit */
	uint64_t	 server_bytes;	/* 0: the server gave none */
	int		 stop;		/* the byte limit was reached */
	int		 oversize;	/* the first row alone is too big */
	int64_t		 oversize_seq;
	size_t		 oversize_len;
};

static struct {
	struct kobangd		*kd;
	int			 active;
	char			*tenant;	/* NULL: none */
	char			*device;	/* NULL: no identity yet */
	struct ev_timer		 timer;
	unsigned long long	 last_req_ms;	/* monotonic, 0: none yet */
	int			 drain;		/* last answer clean: no gap */
	unsigned long long	 next_ms;	/* monotonic, of the timer */
	unsigned long long	 hold_ms;	/* monotonic: no request before */
	int			 running;	/* a sync request is out */
	unsigned long long	 round_ms;	/* monotonic: this batch's start */
	unsigned long long	 posted_ms;	/* monotonic: handed to net */
	unsigned long long	 round_cpu_us;	/* the parent's CPU in the round */
	struct batch		 b;
	unsigned int		 failures;	/* in a row */
	uint32_t		 server_bytes;	/* last maxBatch*, 0: none */
	uint32_t		 server_events;
	uint32_t		 syncs;
	int			 sync_ok;
	int64_t			 sync_time;
	char			 sync_msg[CTL_ERRLEN];
	int			 enqueue;	/* inventory to queue */
	struct ev_timer		 enqueue_timer;	/* its retry, store busy */
	uint64_t		 npoison;	/* quarantined here */
	char			 poison_msg[CTL_ERRLEN];
} sy;

static void	sync_round(void);
static void	schedule(unsigned long long);
static void	enqueue_inventory(void);
static int	inventory_due(const char *);
static void	inventory_paid(void);

static struct store *
sync_store(void)
{
	return (sensor_store_handle());
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The parent's CPU time, for the round's debug line. */
static unsigned long long
cpu_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == -1)
		return (0);
	return ((unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000);
}

static void
batch_clear(struct batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++) {
		free(b->rows[i].device_id);
		free(b->rows[i].payload);
	}
	free(b->rows);
	memset(b, 0, sizeof(*b));
}

/* Copy each ready row in while the byte limit allows (9.3 step 2). */
static int
batch_add(void *arg, const struct store_outbox_row *r)
{
	struct batch	*b = arg;
	struct brow	*br, *nr;

	if (b->n == 0 && b->server_bytes > 0 &&
	    r->payload_len > b->server_bytes) {
		/* The server said it would never take it: quarantine. */
		b->oversize = 1;
		b->oversize_seq = r->local_seq;
		b->oversize_len = r->payload_len;
		return (-1);
	}
	if (b->n > 0 && b->bytes + r->payload_len > b->max_bytes) {
		b->stop = 1;
		return (-1);
	}
	if (r->payload_hash == NULL || strlen(r->payload_hash) != 64 ||
	    r->payload_len == 0) {
		log_warnx("sync: outbox row %lld malformed",
		    (long long)r->local_seq);
		return (-1);
	}
	if (b->n == b->cap) {
		nr = recallocarray(b->rows, b->cap, b->cap ? b->cap * 2 : 16,
		    sizeof(*nr));
		if (nr == NULL)
			return (-1);
		b->rows = nr;
		b->cap = b->cap ? b->cap * 2 : 16;
	}
	br = &b->rows[b->n];
	memset(br, 0, sizeof(*br));
	strlcpy(br->event_id, r->event_id, sizeof(br->event_id));
	strlcpy(br->hash, r->payload_hash, sizeof(br->hash));
	if ((br->device_id = strdup(r->device_id)) == NULL ||
	    (br->payload = malloc(r->payload_len)) == NULL) {
		free(br->device_id);
		return (-1);
	}
	memcpy(br->payload, r->payload, r->payload_len);
	br->attempts = r->attempts;
	/* event_id and payload_hash point into the row: set in send_batch. */
	br->ev.device_id = br->device_id;
	br->ev.local_seq = r->local_seq;
	br->ev.surface = surface_name(r->surface);
	br->ev.kind = change_kind_name(r->kind);
	br->ev.observed_ms = r->observed_ms;
	br->ev.collected_ms = r->collected_ms;
	br->ev.payload = br->payload;
	br->ev.payload_len = r->payload_len;
	b->bytes += r->payload_len;
	b->n++;
	return (0);
}

/* The smaller of the configuration's limit and the server's, >= 1. */
static uint64_t
limit_of(long long conf, uint32_t server)
{
	uint64_t	l = conf > 0 ? (uint64_t)conf : 1;

	if (server > 0 && server < l)
		l = server;
	return (l);
}

/*
 * 9.6 with full jitter: the cap doubles from retryBaseSeconds per
 * attempt up to retryMaxSeconds, the delay is uniform in [1, cap];
 * the server's retry-after (capped at retryMaxSeconds) wins if given.
 */
static long long
retry_delay(int64_t attempts, long long retry_after)
{
	const struct config_sync	*sc = &sy.kd->conf->sync;
	long long			 cap;
	int64_t				 i;

	if (retry_after > 0)
		return (retry_after < sc->retry_max_seconds ? retry_after :
		    sc->retry_max_seconds);
	cap = sc->retry_base_seconds;
	for (i = 0; i < attempts && cap < sc->retry_max_seconds; i++)
		cap *= 2;
	if (cap > sc->retry_max_seconds)
		cap = sc->retry_max_seconds;
	if (cap < 1)
		cap = 1;
	return (1 + (long long)arc4random_uniform((uint32_t)cap));
}

/* The batch's sequences above settled (all for 0), and their count. */
static int64_t *
batch_seqs(const struct batch *b, int64_t settled, size_t *n)
{
	int64_t	*v;
	size_t	 i;

	if ((v = calloc(b->n ? b->n : 1, sizeof(*v))) == NULL)
		return (NULL);
	*n = 0;
	for (i = 0; i < b->n; i++)
		if (b->rows[i].ev.local_seq > settled)
			v[(*n)++] = b->rows[i].ev.local_seq;
	return (v);
}

/*
 * Every row of the batch still in flight back to pending, later.  The
 * rows up to settled (0: none) are known acked, not looked at again.
 */
static long long
batch_reschedule(struct store *st, long long retry_after, int64_t settled,
    size_t *left)
{
	int64_t		*seqs, a = 0, open = 0;
	long long	 d;
	size_t		 i, n;

	for (i = 0; i < sy.b.n; i++)
		if (sy.b.rows[i].attempts > a)
			a = sy.b.rows[i].attempts;
	d = retry_delay(a, retry_after);
	if ((seqs = batch_seqs(&sy.b, settled, &n)) == NULL)
		fatal(NULL);
	if (n > 0 && store_outbox_reschedule(st, sy.device, seqs, n,
	    now_ms() + d * 1000, now_ms(), &open) == -1) {
		log_warnx("sync: cannot reschedule the batch; it is retried "
		    "after a restart");
		open = (int64_t)n;
	}
	free(seqs);
	if (left != NULL)
		*left = (size_t)open;
	return (d);
}

static void
apply_response(struct store *st, const struct proto_sync_resp *r)
{
	int64_t		 n = 0, m = 0, p = 0, now = now_ms(), through = 0;
	int64_t		*acc;
	long long	 d = 0;
	size_t		 i, nacc = 0, left = 0;

	if (r->accepted_through > 0) {
		if (store_outbox_ack_through(st, sy.device,
		    r->accepted_through, now, &n) == -1)
			log_warnx("sync: cannot record the acks");
		else
			through = r->accepted_through;
	}
	/*
	 * Every row up to through is acked now: only the events acked
	 * above it are looked up one by one (a whole batch otherwise).
	 */
	if ((acc = calloc(r->naccepted ? r->naccepted : 1,
	    sizeof(*acc))) == NULL)
		fatal(NULL);
	for (i = 0; i < r->naccepted; i++)
		if (r->accepted[i] > through)
			acc[nacc++] = r->accepted[i];
	if (nacc > 0 && store_outbox_set_state(st, sy.device, acc, nacc,
	    OUTBOX_ACKED, now, &m) == -1)
		log_warnx("sync: cannot record the acks");
	free(acc);
	if (r->nrejected > 0) {
		if (store_outbox_set_state(st, sy.device, r->rejected,
		    r->nrejected, OUTBOX_POISON, now, &p) == -1)
			log_warnx("sync: cannot record the rejections");
		/* show sync names the last quarantine, whoever made it. */
		snprintf(sy.poison_msg, sizeof(sy.poison_msg), "the server "
		    "rejected %zu events (sequence %lld first)", r->nrejected,
		    (long long)r->rejected[0]);
		log_warnx("sync: %s; they are quarantined", sy.poison_msg);
	}
	/* The rows the response left open; the others are no longer in flight. */
	d = batch_reschedule(st, r->retry_after, through, &left);
	/*
	 * Every event settled and no wait asked for: the server keeps up,
	 * so a backlog goes on at once, one request at a time (its answer
	 * paces the next).  Anything else keeps the one-second gap.
	 */
	sy.drain = left == 0 && r->retry_after == 0;
	sy.server_bytes = r->max_batch_bytes;
	sy.server_events = r->max_batch_events;
	snprintf(sy.sync_msg, sizeof(sy.sync_msg), "%zu sent, %lld acked, "
	    "%zu rejected%s", sy.b.n, (long long)(n + m), r->nrejected,
	    r->retry_after > 0 ? ", server asked to wait" : "");
	log_info("sync: %s", sy.sync_msg);
	(void)d;
	if (r->full_resnapshot_requested)
		sync_resnapshot(sy.kd);
	if (r->config_update_available) {
		log_info("sync: the server has a configuration update");
		(void)rconfig_fetch(sy.kd);
	}
}

static void
synced(struct kobangd *kd, struct tresult *res, void *arg)
{
	struct proto_sync_resp	 r;
	struct store		*st = sync_store();
	char			 err[256];
	long long		 d;
	unsigned long long	 answer_ms = ev_now_ms(), cpu0 = cpu_us();

	(void)kd;
	(void)arg;
	if (!sy.active)
		return;		/* after sync_shutdown(): rows stay in flight */
	sy.running = 0;
	sy.syncs++;
	sy.sync_time = (int64_t)time(NULL);
	sy.sync_ok = 0;
	if (st == NULL) {
		batch_clear(&sy.b);
		return;
	}
	if (res->error != TR_OK) {
		snprintf(sy.sync_msg, sizeof(sy.sync_msg), "%s", res->msg);
		goto fail;
	}
	if (proto_sync_response((const char *)res->body, res->body_len, &r,
	    err, sizeof(err)) == -1) {
		snprintf(sy.sync_msg, sizeof(sy.sync_msg), "malformed "
		    "response: %.200s", err);
		goto fail;
	}
	sy.sync_ok = 1;
	sy.failures = 0;
	apply_response(st, &r);
	proto_sync_response_free(&r);
	/*
	 * Where a round's time goes, on the monotonic clock the test peer
	 * logs with too (regress/bench/sync.sh).
	 */
	sy.round_cpu_us += cpu_us() - cpu0;
	log_debug("sync: round t=%llu of %zu events: built in %llu ms, "
	    "answered after %llu ms, recorded in %llu ms, parent CPU %llu "
	    "us", sy.round_ms, sy.b.n, sy.posted_ms - sy.round_ms,
	    answer_ms - sy.posted_ms, ev_now_ms() - answer_ms, sy.round_cpu_us);
	batch_clear(&sy.b);
	/* More due: go on (at once after a clean answer), else the interval. */
	schedule(0);
	return;
 fail:
	sy.failures++;
	d = batch_reschedule(st, res->retry_after > 0 ? res->retry_after : 0,
	    0, NULL);
	log_warnx("sync: upload failed: %s; %zu events again in %lld s",
	    sy.sync_msg, sy.b.n, d);
	batch_clear(&sy.b);
	schedule((unsigned long long)d * 1000);
}

static void
quarantine(struct store *st, const struct batch *b)
{
	int64_t	seq = b->oversize_seq;

	snprintf(sy.poison_msg, sizeof(sy.poison_msg), "event %lld: %zu "
	    "payload bytes exceed the server's batch limit of %llu",
	    (long long)seq, b->oversize_len,
	    (unsigned long long)b->server_bytes);
	log_warnx("sync: quarantined %s", sy.poison_msg);
	if (store_outbox_set_state(st, sy.device, &seq, 1, OUTBOX_POISON,
	    now_ms(), NULL) == 0)
		sy.npoison++;
}

void
sync_health(struct proto_health *h)
{
	struct store	*st = sync_store();
	uint64_t	 n, bytes;

	h->backlog_events = h->backlog_bytes = 0;
	/* Not store_outbox_stats(): that reads every row, acked ones too. */
	if (st == NULL || sy.device == NULL ||
	    store_outbox_backlog(st, sy.device, &n, &bytes) == -1)
		return;
	h->backlog_events = n;
	h->backlog_bytes = bytes;
}

/* Select, mark and send one batch; 1 sent, 0 nothing due, -1 busy. */
static int
send_batch(struct store *st)
{
	const struct config_sync	*sc = &sy.kd->conf->sync;
	struct proto_health		 h;
	struct proto_sync_event		*ev;
	struct jsonw			 w;
	int64_t				*seqs, last = 0;
	uint64_t			 nev;
	char				*body;
	size_t				 len, i;
	int				 tries;

	sy.round_ms = ev_now_ms();
	sy.round_cpu_us = cpu_us();
	nev = limit_of(sc->max_batch_events, sy.server_events);
	for (tries = 0; tries < 16; tries++) {
		batch_clear(&sy.b);
		sy.b.max_bytes = limit_of(sc->max_batch_bytes,
		    sy.server_bytes);
		sy.b.server_bytes = sy.server_bytes;
		if (store_outbox_ready(st, sy.device, now_ms(), nev,
		    batch_add, &sy.b) == -1 && !sy.b.stop && !sy.b.oversize) {
			batch_clear(&sy.b);
			return (-1);
		}
		if (!sy.b.oversize)
			break;
		quarantine(st, &sy.b);
	}
	if (sy.b.n == 0)
		return (0);
	if ((seqs = batch_seqs(&sy.b, 0, &len)) == NULL)
		fatal(NULL);
	if (store_outbox_set_state(st, sy.device, seqs, len,
	    OUTBOX_INFLIGHT, now_ms(), NULL) == -1) {
		free(seqs);
		batch_clear(&sy.b);
		return (-1);
	}
	free(seqs);
	/* 9.3 step 5: after the batch is in flight. */
	if (store_outbox_last_acked(st, sy.device, &last) == -1)
		last = 0;
	sync_health(&h);
	if ((ev = calloc(sy.b.n, sizeof(*ev))) == NULL)
		fatal(NULL);
	/* Only now: the rows moved each time the batch array grew. */
	for (i = 0; i < sy.b.n; i++) {
		ev[i] = sy.b.rows[i].ev;
		ev[i].event_id = sy.b.rows[i].event_id;
		ev[i].payload_hash = sy.b.rows[i].hash;
	}
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	if (proto_sync_request(&w, sy.tenant, sy.device, last, ev, sy.b.n,
	    &h) == -1 || (body = jsonw_take(&w, &len)) == NULL) {
		free(ev);
		jsonw_free(&w);
		log_warnx("sync: cannot encode the batch");
		batch_reschedule(st, 0, 0, NULL);
		batch_clear(&sy.b);
		return (-1);
	}
	free(ev);
	/* In the body now: not held for the round trip. */
	for (i = 0; i < sy.b.n; i++) {
		free(sy.b.rows[i].payload);
		sy.b.rows[i].payload = NULL;
		sy.b.rows[i].ev.payload = NULL;
	}
	if (transport_post(PROTO_SYNC, body, len, synced, NULL) == -1) {
		log_warnx("sync: cannot queue the batch");
		batch_reschedule(st, 0, 0, NULL);
		batch_clear(&sy.b);
		return (-1);
	}
	sy.running = 1;
	sy.posted_ms = ev_now_ms();
	sy.round_cpu_us = cpu_us() - sy.round_cpu_us;
	log_debug("sync: %zu events, %llu bytes, sequences %lld..%lld",
	    sy.b.n, (unsigned long long)sy.b.bytes,
	    (long long)sy.b.rows[0].ev.local_seq,
	    (long long)sy.b.rows[sy.b.n - 1].ev.local_seq);
	return (1);
}

static void
sync_round(void)
{
	struct store	*st;
	char		 err[CTL_ERRLEN];
	int		 r;

	if (!sy.active || sy.running)
		return;
	sy.last_req_ms = ev_now_ms();
	sy.drain = 0;
	if (sy.device == NULL || (st = sync_store()) == NULL) {
		schedule(0);
		return;
	}
	enqueue_inventory();
	if ((r = send_batch(st)) == 1)
		return;
	if (r == -1) {
		schedule(SYNC_BUSY_MS);
		return;
	}
	/* 10.1 step 3: nothing due, a check-in. */
	if (enroll_checkin(sy.kd, err, sizeof(err)) == -1)
		log_debug("sync: no check-in: %s", err);
	schedule(0);
}

static void
timer_cb(void *arg)
{
	(void)arg;
	sy.next_ms = 0;
	sync_round();
}

/*
 * The next round: after delay_ms if given, else at the earliest of the
 * interval and the first pending row's due time; never sooner than a
 * second after the last request, unless its answer settled every event
 * of a batch (a backlog drains as fast as the server answers).
 */
static void
schedule(unsigned long long delay_ms)
{
	struct store		*st = sync_store();
	unsigned long long	 now = ev_now_ms(), d, gap;
	int64_t			 due, wall;

	if (!sy.active)
		return;
	if (delay_ms == 0) {
		d = (unsigned long long)sy.kd->conf->sync.
		    check_in_interval_seconds * 1000;
		if (st != NULL && sy.device != NULL &&
		    store_outbox_next_due(st, sy.device, &due) == 0 &&
		    due >= 0) {
			wall = now_ms();
			if (due <= wall)
				d = 0;
			else if ((unsigned long long)(due - wall) < d)
				d = (unsigned long long)(due - wall);
		}
	} else
		d = delay_ms;
	gap = sy.last_req_ms + SYNC_MIN_GAP_MS;
	if (sy.last_req_ms != 0 && !sy.drain && now + d < gap)
		d = gap - now;
	/* A server that said when to come back (a failed check-in). */
	if (now + d < sy.hold_ms)
		d = sy.hold_ms - now;
	ev_timer_del(&sy.timer);
	sy.next_ms = now + d;
	ev_timer_add(&sy.timer, d);
}

/*
 * A check-in the server refused with Retry-After: no request before the
 * time it asked for, capped like a sync's (retryMaxSeconds), even when
 * forced.
 */
void
sync_hold(struct kobangd *kd, long long seconds)
{
	const struct config_sync	*sc = &kd->conf->sync;

	if (!sy.active || seconds <= 0)
		return;
	if (seconds > sc->retry_max_seconds)
		seconds = sc->retry_max_seconds;
	sy.hold_ms = ev_now_ms() + (unsigned long long)seconds * 1000;
	if (!sy.running)
		schedule(0);
}

/* Seconds a server's Retry-After still holds requests back, or 0. */
long long
sync_held(struct kobangd *kd)
{
	unsigned long long	now = ev_now_ms();

	(void)kd;
	if (!sy.active || sy.hold_ms <= now)
		return (0);
	return ((long long)((sy.hold_ms - now + 999) / 1000));
}

void
sync_kick(struct kobangd *kd)
{
	(void)kd;
	if (!sy.active || sy.running)
		return;
	ev_timer_del(&sy.timer);
	schedule(1);
}

static void
set_identity(struct kobangd *kd, const char *tenant, const char *device)
{
	struct config_sync	*sc = &kd->conf->sync;

	free(sy.tenant);
	free(sy.device);
	sy.tenant = sy.device = NULL;
	if ((tenant != NULL && (sy.tenant = strdup(tenant)) == NULL) ||
	    (sy.device = strdup(device)) == NULL)
		fatal(NULL);
	/* 4.5: the enrolled identity is the effective one. */
	if (sc->device_id == NULL || strcmp(sc->device_id, device) != 0) {
		free(sc->device_id);
		if ((sc->device_id = strdup(device)) == NULL)
			fatal(NULL);
	}
	if (tenant != NULL && (sc->tenant_id == NULL ||
	    strcmp(sc->tenant_id, tenant) != 0)) {
		free(sc->tenant_id);
		if ((sc->tenant_id = strdup(tenant)) == NULL)
			fatal(NULL);
	}
}

/* After an enrollment: the inventory as it stands, as `added` events. */
static void
enqueue_inventory(void)
{
	struct store	*st = sync_store();
	size_t		 n = 0;

	if (!sy.enqueue || st == NULL || sy.device == NULL)
		return;
	if (store_outbox_enqueue_inventory(st, sy.device, sy.tenant, now_ms(),
	    &n) == -1) {
		if (errno != EBUSY)
			log_warnx("sync: the inventory could not be queued "
			    "for the server; trying again");
		/* A scan holds the database: soon, not at the next round. */
		ev_timer_add(&sy.enqueue_timer, SYNC_BUSY_MS);
		return;
	}
	sy.enqueue = 0;
	inventory_paid();
	log_info("sync: %zu inventory items queued as added for device %s",
	    n, sy.device);
}

static void
enqueue_retry_cb(void *arg)
{
	(void)arg;
	enqueue_inventory();
	if (!sy.enqueue)
		sync_kick(sy.kd);
}

void
sync_resnapshot(struct kobangd *kd)
{
	if (!sy.active || sy.device == NULL)
		return;
	log_info("sync: the server asked for a full resnapshot");
	sy.enqueue = 1;
	enqueue_inventory();
	sensor_scan_now(kd, -1);
	sync_kick(kd);
}

/*
 * The whole inventory is owed to a device from its enrollment on
 * (PROTOCOL.md 10.2), but the wish to queue it lives in memory and the
 * queueing waits for the database: a file in the state directory, made
 * before the identity is saved and removed once the rows are committed,
 * carries it over a crash.  A crash after the commit and before the
 * removal sends the inventory twice, which the server absorbs.
 */
#define SYNC_INVENTORY_DUE	"inventory-due"

static int
due_path(char *buf, size_t len)
{
	const char	*dir = sy.kd->conf->kobangd.state_directory;

	return (snprintf(buf, len, "%s/%s", dir, SYNC_INVENTORY_DUE) >=
	    (int)len ? -1 : 0);
}

int
sync_enrolling(struct kobangd *kd, const char *device)
{
	char	path[PATH_MAX], tmp[PATH_MAX + 8];
	size_t	len = strlen(device);
	int	fd;

	sy.kd = kd;
	if (due_path(path, sizeof(path)) == -1 ||
	    snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return (-1);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		log_warn("sync: %s", tmp);
		return (-1);
	}
	if (write(fd, device, len) != (ssize_t)len || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, path) == -1) {
		log_warn("sync: %s", tmp);
		unlink(tmp);
		return (-1);
	}
	return (0);
}

/* Whether the inventory is still owed to device. */
static int
inventory_due(const char *device)
{
	char	path[PATH_MAX], buf[CTL_IDLEN + 1];
	ssize_t	n;
	int	fd;

	if (due_path(path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return (0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	return (strcmp(buf, device) == 0);
}

static void
inventory_paid(void)
{
	char	path[PATH_MAX];

	if (due_path(path, sizeof(path)) == 0 && unlink(path) == -1 &&
	    errno != ENOENT)
		log_warn("sync: %s", path);
}

void
sync_identity(struct kobangd *kd, const char *tenant, const char *device)
{
	if (!sy.active)
		return;
	set_identity(kd, tenant, device);
	sy.enqueue = 1;
	enqueue_inventory();
	sync_kick(kd);
}

void
sync_init(struct kobangd *kd)
{
	struct ctl_identity	 id;
	struct store		*st;
	int64_t			 n = 0;

	sy.kd = kd;
	ev_timer_init(&sy.timer, timer_cb, NULL);
	ev_timer_init(&sy.enqueue_timer, enqueue_retry_cb, NULL);
	/* Before the first round, and again whenever sync starts over. */
	store_outbox_set_max(sync_store(), kd->conf->sync.outbox_max_bytes);
	if (!kd->conf->sync.enabled || !transport_active())
		return;
	sy.active = 1;
	/* spec/README.md: rows in flight at a crash are sent again. */
	if ((st = sync_store()) != NULL &&
	    store_outbox_recover(st, now_ms(), &n) == 0 && n > 0)
		log_info("sync: %lld events in flight at the last stop are "
		    "pending again", (long long)n);
	memset(&id, 0, sizeof(id));
	enroll_identity(kd, &id);
	if (id.enrolled && id.device[0] != '\0') {
		set_identity(kd, id.tenant[0] != '\0' ? id.tenant : NULL,
		    id.device);
		/* A crash between enrollment and the inventory's queueing. */
		if (inventory_due(id.device)) {
			log_info("sync: the inventory owed to device %s since "
			    "its enrollment is queued now", id.device);
			sy.enqueue = 1;
		}
	} else if (kd->conf->sync.device_id != NULL &&
	    kd->conf->sync.sensor_token != NULL)
		set_identity(kd, kd->conf->sync.tenant_id,
		    kd->conf->sync.device_id);
	enqueue_inventory();
	schedule(0);
}

/*
 * A reload replaced kd->conf: the enrolled identity goes into the new
 * one, and the next round follows the new interval.
 */
void
sync_reconfigured(struct kobangd *kd)
{
	struct store	*st = sync_store();
	char		*tenant = NULL, *device = NULL;

	store_outbox_set_max(st, kd->conf->sync.outbox_max_bytes);
	/* A lowered cap now; inside a scan's transaction, at its commit. */
	if (st != NULL && store_outbox_enforce_now(st) == -1 &&
	    errno != EBUSY)
		log_warnx("sync: the outbox cap could not be applied now; "
		    "it is at the next commit");
	if (!sy.active)
		return;
	if (sy.device != NULL) {
		if ((sy.tenant != NULL && (tenant = strdup(sy.tenant)) ==
		    NULL) || (device = strdup(sy.device)) == NULL)
			fatal(NULL);
		set_identity(kd, tenant, device);
		free(tenant);
		free(device);
	}
	if (!sy.running)
		schedule(0);
}

void
sync_shutdown(struct kobangd *kd)
{
	(void)kd;
	ev_timer_del(&sy.timer);
	ev_timer_del(&sy.enqueue_timer);
	batch_clear(&sy.b);
	free(sy.tenant);
	free(sy.device);
	memset(&sy, 0, sizeof(sy));
}

static void
fill_ctl(struct ctl_sync *cs)
{
	struct store_outbox_stats	 os;
	struct store_outbox_usage	 u;
	struct ctl_identity		 id;
	struct store			*st = sync_store();
	unsigned long long		 now = ev_now_ms();
	int64_t				 due;

	memset(cs, 0, sizeof(*cs));
	cs->active = sy.active;
	strlcpy(cs->proxy, transport_proxy(), sizeof(cs->proxy));
	cs->running = sy.running;
	memset(&id, 0, sizeof(id));
	enroll_identity(sy.kd, &id);
	cs->enrolled = id.enrolled;
	cs->checkin_ok = id.checkin_ok;
	cs->checkin_time = id.checkin_time;
	cs->checkins = id.checkins;
	strlcpy(cs->checkin, id.checkin, sizeof(cs->checkin));
	strlcpy(cs->generation, id.generation, sizeof(cs->generation));
	if (sy.device != NULL)
		strlcpy(cs->device, sy.device, sizeof(cs->device));
	cs->syncs = sy.syncs;
	cs->sync_ok = sy.sync_ok;
	cs->sync_time = sy.sync_time;
	strlcpy(cs->sync, sy.sync_msg, sizeof(cs->sync));
	cs->failures = sy.failures;
	cs->max_bytes = (int64_t)limit_of(sy.kd->conf->sync.max_batch_bytes,
	    sy.server_bytes);
	cs->max_events = (int64_t)limit_of(
	    sy.kd->conf->sync.max_batch_events, sy.server_events);
	cs->next_round_in = -1;
	if (sy.active && ev_timer_pending(&sy.timer))
		cs->next_round_in = sy.next_ms > now ?
		    (int64_t)((sy.next_ms - now + 999) / 1000) : 0;
	cs->next_due_in = -1;
	cs->oldest_pending_age = -1;
	strlcpy(cs->poison_reason, sy.poison_msg, sizeof(cs->poison_reason));
	/* The cap is over the whole outbox, every device's rows. */
	if (st != NULL && store_outbox_usage(st, &u) == 0) {
		cs->dropped_inventory = u.dropped_inventory;
		cs->dropped_findings = u.dropped_findings;
		cs->dropped = u.dropped_inventory + u.dropped_findings;
		cs->pruned_acked = u.pruned_acked;
		cs->outbox_bytes = u.bytes;
		cs->outbox_max_bytes = u.max_bytes;
	}
	if (st == NULL || sy.device == NULL)
		return;
	if (store_outbox_stats(st, sy.device, &os) == 0) {
		cs->backlog_events = os.backlog_events;
		cs->backlog_bytes = os.backlog_bytes;
		cs->pending = os.pending;
		cs->inflight = os.inflight;
		cs->acked = os.acked;
		cs->poison = os.poison;
		if (os.pending > 0)
			cs->oldest_pending_age = (now_ms() -
			    os.oldest_pending_ms) / 1000;
	}
	if (store_outbox_next_due(st, sy.device, &due) == 0 && due >= 0)
		cs->next_due_in = due <= now_ms() ? 0 :
		    (due - now_ms() + 999) / 1000;
}

int
sync_ctl(struct kobangd *kd, struct imsgbuf *ibuf, uid_t uid,
    struct imsg *imsg, char *err, size_t errlen)
{
	struct ctl_sync	cs;

	if (imsg_get_len(imsg) != 0) {
		snprintf(err, errlen, "malformed request");
		return (-1);
	}
	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_SHOW_SYNC:
		fill_ctl(&cs);
		rconfig_status(&cs);
		if (imsg_compose(ibuf, IMSG_CTL_SYNC_STATE, 0, 0, -1, &cs,
		    sizeof(cs)) == -1)
			break;
		return (imsg_compose(ibuf, IMSG_CTL_END, 0, 0, -1, NULL, 0));
	case IMSG_CTL_SYNC:
		if (uid != 0) {
			snprintf(err, errlen, "permission denied");
			return (-1);
		}
		if (!sy.active) {
			snprintf(err, errlen, "sync is not enabled and "
			    "configured");
			return (-1);
		}
		if (sy.device == NULL) {
			snprintf(err, errlen, "not enrolled");
			return (-1);
		}
		if (sy.running) {
			snprintf(err, errlen, "a sync is under way");
			return (-1);
		}
		/* Forced: now, but never two requests within a second. */
		sync_kick(kd);
		return (imsg_compose(ibuf, IMSG_CTL_END, 0, 0, -1, NULL, 0));
	default:
		snprintf(err, errlen, "unknown request");
		return (-1);
	}
	snprintf(err, errlen, "out of memory");
	return (-1);
}
