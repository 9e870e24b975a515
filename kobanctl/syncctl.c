/*
 * kobanctl show sync and kobanctl sync: the sync round's state, and a
 * round forced now (root only), waited for.
 */

#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "ctl.h"
#include "imsg.h"
#include "jsonw.h"
#include "kobanctl.h"

#define SYNC_POLL_MS	100

void
fmt_when(int64_t t, char *buf, size_t len)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strlcpy(buf, "-", len);
}

static void
get_sync(struct imsgbuf *ibuf, struct ctl_sync *cs, int timeout)
{
	ctl_request_one(ibuf, IMSG_CTL_SHOW_SYNC, IMSG_CTL_SYNC_STATE, cs,
	    sizeof(*cs), "sync", timeout);
	cs->device[sizeof(cs->device) - 1] = '\0';
	cs->generation[sizeof(cs->generation) - 1] = '\0';
	cs->checkin[sizeof(cs->checkin) - 1] = '\0';
	cs->sync[sizeof(cs->sync) - 1] = '\0';
	cs->poison_reason[sizeof(cs->poison_reason) - 1] = '\0';
	cs->config_applied[sizeof(cs->config_applied) - 1] = '\0';
	cs->config_result[sizeof(cs->config_result) - 1] = '\0';
	cs->proxy[sizeof(cs->proxy) - 1] = '\0';
}

static const char *
dash(const char *s)
{
	return (s[0] != '\0' ? s : "-");
}

static void
secs(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		strlcpy(buf, "-", len);
	else
		snprintf(buf, len, "%lld s", (long long)v);
}

void
sync_human(const struct ctl_sync *cs)
{
	char	t[32], a[32], b[32];

	printf("sync:            %s\n", cs->active ? "on" : "off");
	printf("enrolled:        %s\n", cs->enrolled ? "yes" : "no");
	printf("proxy:           %s\n", dash(cs->proxy));
	printf("device:          %s\n", dash(cs->device));
	printf("config gen:      %s\n", dash(cs->generation));
	printf("remote config:   %s", cs->config_applied[0] ?
	    cs->config_applied : "none applied");
	if (cs->config_rejected > 0)
		printf(", %u rejected", cs->config_rejected);
	fmt_when(cs->config_time, t, sizeof(t));
	printf("\n  last request:  %s%s%s\n", t, cs->config_time == 0 ? "" :
	    " ", cs->config_result);
	fmt_when(cs->checkin_time, t, sizeof(t));
	printf("last check-in:   %s %s%s%s\n", t, cs->checkin_time == 0 ?
	    "" : cs->checkin_ok ? "ok" : "failed", cs->checkin_time == 0 ?
	    "" : ": ", cs->checkin_time == 0 ? "" : cs->checkin);
	fmt_when(cs->sync_time, t, sizeof(t));
	printf("last sync:       %s %s%s%s\n", t, cs->sync_time == 0 ?
	    "" : cs->sync_ok ? "ok" : "failed", cs->sync_time == 0 ?
	    "" : ": ", cs->sync_time == 0 ? "" : cs->sync);
	printf("outbox:          %llu events, %llu bytes pending or in "
	    "flight\n", (unsigned long long)cs->backlog_events,
	    (unsigned long long)cs->backlog_bytes);
	secs(cs->oldest_pending_age, t, sizeof(t));
	printf("  pending:       %llu (oldest %s)\n",
	    (unsigned long long)cs->pending, t);
	printf("  in flight:     %llu%s\n", (unsigned long long)cs->inflight,
	    cs->running ? " (request out)" : "");
	printf("  acked:         %llu\n", (unsigned long long)cs->acked);
	printf("  poison:        %llu%s%s\n", (unsigned long long)cs->poison,
	    cs->poison_reason[0] ? "; last: " : "", cs->poison_reason);
	printf("  dropped:       %llu (%llu inventory, %llu findings)\n",
	    (unsigned long long)cs->dropped,
	    (unsigned long long)cs->dropped_inventory,
	    (unsigned long long)cs->dropped_findings);
	if (cs->outbox_max_bytes > 0)
		snprintf(t, sizeof(t), "%lld", (long long)cs->outbox_max_bytes);
	else
		strlcpy(t, "no cap", sizeof(t));
	printf("  stored:        %llu bytes, cap %s; %llu acked rows pruned\n",
	    (unsigned long long)cs->outbox_bytes, t,
	    (unsigned long long)cs->pruned_acked);
	printf("batch limits:    %lld events, %lld bytes\n",
	    (long long)cs->max_events, (long long)cs->max_bytes);
	secs(cs->next_round_in, a, sizeof(a));
	secs(cs->next_due_in, b, sizeof(b));
	printf("next request:    %s (next row due %s, %u failures in a "
	    "row)\n", a, b, cs->failures);
}

static void
jtime(struct jsonw *w, const char *key, int64_t t)
{
	char	buf[32];

	jsonw_key(w, key);
	if (t == 0) {
		jsonw_null(w);
		return;
	}
	fmt_when(t, buf, sizeof(buf));
	jsonw_string(w, buf);
}

static void
jopt_int(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	if (v < 0)
		jsonw_null(w);
	else
		jsonw_int(w, v);
}

static void
jopt_str(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	if (s[0] == '\0')
		jsonw_null(w);
	else
		jsonw_string(w, s);
}

void
sync_json(const struct ctl_sync *cs)
{
	struct jsonw	 w;
	const char	*s;

	jsonw_init(&w, 0);
	jsonw_object_begin(&w);
	jsonw_key(&w, "sync");
	jsonw_bool(&w, cs->active);
	jsonw_key(&w, "enrolled");
	jsonw_bool(&w, cs->enrolled);
	jopt_str(&w, "proxy", cs->proxy);
	jopt_str(&w, "deviceId", cs->device);
	jopt_str(&w, "configGeneration", cs->generation);
	jsonw_key(&w, "remoteConfig");
	jsonw_object_begin(&w);
	jopt_str(&w, "appliedGeneration", cs->config_applied);
	jtime(&w, "time", cs->config_time);
	jopt_str(&w, "result", cs->config_result);
	jsonw_key(&w, "requests");
	jsonw_uint(&w, cs->config_fetches);
	jsonw_key(&w, "rejected");
	jsonw_uint(&w, cs->config_rejected);
	jsonw_object_end(&w);
	jsonw_key(&w, "checkIn");
	jsonw_object_begin(&w);
	jtime(&w, "time", cs->checkin_time);
	jsonw_key(&w, "ok");
	jsonw_bool(&w, cs->checkin_ok);
	jopt_str(&w, "result", cs->checkin);
	jsonw_object_end(&w);
	jsonw_key(&w, "lastSync");
	jsonw_object_begin(&w);
	jtime(&w, "time", cs->sync_time);
	jsonw_key(&w, "ok");
	jsonw_bool(&w, cs->sync_ok);
	jopt_str(&w, "result", cs->sync);
	jsonw_key(&w, "requests");
	jsonw_uint(&w, cs->syncs);
	jsonw_key(&w, "failuresInARow");
	jsonw_uint(&w, cs->failures);
	jsonw_object_end(&w);
	jsonw_key(&w, "outbox");
	jsonw_object_begin(&w);
	jsonw_key(&w, "backlogEvents");
	jsonw_uint(&w, cs->backlog_events);
	jsonw_key(&w, "backlogBytes");
	jsonw_uint(&w, cs->backlog_bytes);
	jsonw_key(&w, "pending");
	jsonw_uint(&w, cs->pending);
	jsonw_key(&w, "inFlight");
	jsonw_uint(&w, cs->inflight);
	jsonw_key(&w, "acked");
	jsonw_uint(&w, cs->acked);
	jsonw_key(&w, "poison");
	jsonw_uint(&w, cs->poison);
	jsonw_key(&w, "dropped");
	jsonw_uint(&w, cs->dropped);
	jsonw_key(&w, "droppedInventory");
	jsonw_uint(&w, cs->dropped_inventory);
	jsonw_key(&w, "droppedFindings");
	jsonw_uint(&w, cs->dropped_findings);
	jsonw_key(&w, "prunedAcked");
	jsonw_uint(&w, cs->pruned_acked);
	jsonw_key(&w, "storedBytes");
	jsonw_uint(&w, cs->outbox_bytes);
	jopt_int(&w, "maxBytes", cs->outbox_max_bytes > 0 ?
	    cs->outbox_max_bytes : -1);
	jopt_int(&w, "oldestPendingAgeSeconds", cs->oldest_pending_age);
	jopt_str(&w, "lastPoisonReason", cs->poison_reason);
	jsonw_object_end(&w);
	jsonw_key(&w, "maxBatchEvents");
	jsonw_int(&w, cs->max_events);
	jsonw_key(&w, "maxBatchBytes");
	jsonw_int(&w, cs->max_bytes);
	jopt_int(&w, "nextRequestInSeconds", cs->next_round_in);
	jopt_int(&w, "nextRowDueInSeconds", cs->next_due_in);
	jsonw_object_end(&w);
	if ((s = jsonw_result(&w, NULL)) == NULL)
		errx(1, "out of memory");
	printf("%s\n", s);
	jsonw_free(&w);
}

void
ctl_show_sync(struct imsgbuf *ibuf, const struct output *out, int timeout)
{
	struct ctl_sync	cs;

	get_sync(ibuf, &cs, timeout);
	out->sync(&cs);
}

/*
 * Force a round and wait for its outcome: a sync answered, or (with
 * nothing due) a check-in.  0 if it succeeded.
 */
int
ctl_sync(struct imsgbuf *ibuf, const struct output *out, int wait)
{
	struct ctl_sync	before, cs;
	int		waited = 0;

	if (geteuid() != 0)
		errx(1, "sync: root only");
	get_sync(ibuf, &before, 10);
	ctl_request_end(ibuf, IMSG_CTL_SYNC, NULL, 0, 10);
	for (;;) {
		get_sync(ibuf, &cs, 10);
		if (!cs.running && (cs.syncs != before.syncs ||
		    cs.checkins != before.checkins))
			break;
		if (waited >= wait * 1000)
			errx(1, "no sync result after %d seconds", wait);
		usleep(SYNC_POLL_MS * 1000);
		waited += SYNC_POLL_MS;
	}
	out->sync(&cs);
	if (cs.syncs != before.syncs)
		return (cs.sync_ok ? 0 : 1);
	return (cs.checkin_ok ? 0 : 1);
}
