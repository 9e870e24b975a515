/*
 * Human and JSON renderings of the daemon's replies.  The JSON backend
 * buffers one document and prints it at the end of the reply.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "ctlrec.h"
#include "jsonw.h"
#include "kobanctl.h"
#include "parser.h"
#include "timefmt.h"
#include "vocab.h"

static void	human_list_begin(int);
static void	human_item(const struct ctl_item_rec *);
static void	human_event(const struct ctl_event_rec *);
static void	human_finding(const struct ctl_finding_rec *);
static void	human_surface(const struct ctl_surface *);
static void	human_surface_issue(const struct ctl_issue_rec *);
static void	human_scan_queued(const struct ctl_scan_queued *);
static void	human_list_end(int);
static void	json_list_begin(int);
static void	json_item(const struct ctl_item_rec *);
static void	json_event(const struct ctl_event_rec *);
static void	json_finding(const struct ctl_finding_rec *);
static void	json_surface(const struct ctl_surface *);
static void	json_surface_issue(const struct ctl_issue_rec *);
static void	json_scan_queued(const struct ctl_scan_queued *);
static void	json_list_end(int);

static const char *
layer_word(int v)
{
	return (v == 1 ? "yes" : v == 0 ? "no" : "?");
}

static void
human_status(const struct ctl_status *st)
{
	char	t[32];

	printf("kobangd %s, pid %d, up %lld s\n", st->version, (int)st->pid,
	    (long long)st->uptime);
	fmt_when(st->config_loaded, t, sizeof(t));
	printf("configuration %s, in force since %s, %u reloads\n",
	    st->config_file, t, st->config_reloads);
	if (st->config_refused > 0) {
		fmt_when(st->config_refused_at, t, sizeof(t));
		printf("last reload refused at %s: %s\n", t, st->config_error);
	}
	printf("\n");
	printf("%-8s %7s %6s %8s %6s %-16s %-7s %7s %7s %s\n", "process",
	    "pid", "uid", "restarts", "nnp", "landlock", "seccomp", "rss",
	    "memcap", "memrestarts");
}

/* Kilobytes as megabytes with one decimal, "-" for none. */
static void
fmt_mb(uint64_t kb, char *buf, size_t len)
{
	if (kb == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1fM", (double)kb / 1024);
}

static void
human_status_proc(const struct ctl_status_proc *p)
{
	char	ll[32], rss[32], cap[32], mr[16];

	fmt_mb(p->rss_kb, rss, sizeof(rss));
	fmt_mb(p->mem_cap_kb, cap, sizeof(cap));
	/* The parent is never watched: no cap, no count. */
	if (p->mem_cap_kb == 0 && p->mem_restarts == 0)
		snprintf(mr, sizeof(mr), "-");
	else
		snprintf(mr, sizeof(mr), "%u", p->mem_restarts);
	if (p->landlock_abi > 0)
		snprintf(ll, sizeof(ll), "abi %d, %s", (int)p->landlock_abi,
		    p->landlock_selftest == 1 ? "tested" :
		    p->landlock_selftest == 0 ? "untested" : "TEST FAILED");
	else
		snprintf(ll, sizeof(ll), "%s", "no");
	if (p->pid == 0 && p->absent[0] != '\0') {
		printf("%-8s %7s   %s\n", p->name, "-", p->absent);
		return;
	}
	if (p->pid == 0) {
		printf("%-8s %7s %6s %8u %6s %-16s %-7s %7s %7s %s\n", p->name,
		    "down", "-", p->restarts, "-", "-", "-", rss, cap, mr);
		return;
	}
	printf("%-8s %7d %6d %8u %6s %-16s %-7s %7s %7s %s\n", p->name,
	    (int)p->pid, (int)p->uid, p->restarts,
	    layer_word(p->no_new_privs), ll,
	    p->seccomp == 1 ? "filter" : layer_word(p->seccomp), rss, cap,
	    mr);
}

static void
human_end(void)
{
}

const struct output output_human = {
	human_status,
	human_status_proc,
	human_end,
	human_list_begin,
	human_item,
	human_event,
	human_finding,
	human_surface,
	human_surface_issue,
	human_scan_queued,
	human_list_end,
	identity_human,
	sync_human,
};

static struct jsonw	jw;

static void
json_status(const struct ctl_status *st)
{
	jsonw_init(&jw, 0);
	jsonw_object_begin(&jw);
	jsonw_key(&jw, "version");
	jsonw_string(&jw, st->version);
	jsonw_key(&jw, "pid");
	jsonw_int(&jw, st->pid);
	jsonw_key(&jw, "uptime");
	jsonw_int(&jw, st->uptime);
	jsonw_key(&jw, "configuration");
	jsonw_object_begin(&jw);
	jsonw_key(&jw, "file");
	jsonw_string(&jw, st->config_file);
	jsonw_key(&jw, "since");
	jsonw_int(&jw, st->config_loaded);
	jsonw_key(&jw, "reloads");
	jsonw_uint(&jw, st->config_reloads);
	jsonw_key(&jw, "refused");
	jsonw_uint(&jw, st->config_refused);
	jsonw_key(&jw, "lastError");
	if (st->config_error[0] == '\0')
		jsonw_null(&jw);
	else
		jsonw_string(&jw, st->config_error);
	jsonw_object_end(&jw);
	jsonw_key(&jw, "processes");
	jsonw_array_begin(&jw);
}

static void
json_tristate(const char *key, int v)
{
	jsonw_key(&jw, key);
	if (v < 0)
		jsonw_null(&jw);
	else
		jsonw_bool(&jw, v);
}

static void
json_status_proc(const struct ctl_status_proc *p)
{
	jsonw_object_begin(&jw);
	jsonw_key(&jw, "name");
	jsonw_string(&jw, p->name);
	jsonw_key(&jw, "running");
	jsonw_bool(&jw, p->pid != 0);
	jsonw_key(&jw, "absent");
	if (p->absent[0] == '\0')
		jsonw_null(&jw);
	else
		jsonw_string(&jw, p->absent);
	jsonw_key(&jw, "pid");
	jsonw_int(&jw, p->pid);
	jsonw_key(&jw, "uid");
	if (p->uid < 0)
		jsonw_null(&jw);
	else
		jsonw_int(&jw, p->uid);
	jsonw_key(&jw, "restarts");
	jsonw_uint(&jw, p->restarts);
	jsonw_key(&jw, "sandbox");
	jsonw_object_begin(&jw);
	json_tristate("noNewPrivs", p->no_new_privs);
	jsonw_key(&jw, "landlockABI");
	jsonw_int(&jw, p->landlock_abi);
	jsonw_key(&jw, "landlockSelfTest");
	jsonw_string(&jw, p->landlock_selftest == 1 ? "passed" :
	    p->landlock_selftest == 0 ? "not run" : "failed");
	json_tristate("seccomp", p->seccomp);
	jsonw_object_end(&jw);
	/* The memory watch; the parent is never watched (cap null). */
	jsonw_key(&jw, "memory");
	jsonw_object_begin(&jw);
	jsonw_key(&jw, "rssKB");
	if (p->rss_kb == 0)
		jsonw_null(&jw);
	else
		jsonw_uint(&jw, p->rss_kb);
	jsonw_key(&jw, "capKB");
	if (p->mem_cap_kb == 0)
		jsonw_null(&jw);
	else
		jsonw_uint(&jw, p->mem_cap_kb);
	jsonw_key(&jw, "restarts");
	jsonw_uint(&jw, p->mem_restarts);
	jsonw_object_end(&jw);
	jsonw_object_end(&jw);
}

static void
json_end(void)
{
	const char	*s;

	jsonw_array_end(&jw);
	jsonw_object_end(&jw);
	if ((s = jsonw_result(&jw, NULL)) == NULL) {
		fprintf(stderr, "kobanctl: cannot encode JSON\n");
		exit(1);
	}
	printf("%s\n", s);
	jsonw_free(&jw);
}

const struct output output_json = {
	json_status,
	json_status_proc,
	json_end,
	json_list_begin,
	json_item,
	json_event,
	json_finding,
	json_surface,
	json_surface_issue,
	json_scan_queued,
	json_list_end,
	identity_json,
	sync_json,
};

/* The sensor's replies, for people. */

static const char *
nz(const char *s)
{
	return (s != NULL && s[0] != '\0' ? s : "-");
}

static void
ms_text(int64_t ms, char buf[TIMEFMT_BUFSZ])
{
	if (ms <= 0 || timefmt_ms(ms, buf) == -1)
		strlcpy(buf, "never", TIMEFMT_BUFSZ);
}

static size_t	human_rows;

static void
human_list_begin(int action)
{
	human_rows = 0;
	switch (action) {
	case SHOW_INVENTORY:
		printf("%-18s %-13s %-32s %-12s %-12s %s\n", "surface", "kind",
		    "name", "version", "origin", "path");
		break;
	case SHOW_SURFACES:
		printf("%-18s %-15s %7s %6s %-24s %8s\n", "surface", "health",
		    "items", "issues", "last scan", "duration");
		break;
	default:
		break;
	}
}

static void
human_item(const struct ctl_item_rec *r)
{
	char	t[TIMEFMT_BUFSZ];

	printf("%-18s %-13s %-32s %-12s %-12s %s",
	    surface_name(r->h.surface), item_kind_name(r->h.kind), nz(r->name),
	    nz(r->version), nz(r->origin), nz(r->path));
	if (r->h.stale_ms > 0) {
		ms_text(r->h.stale_ms, t);
		printf("  (stale since %s)", t);
	}
	printf("\n");
	human_rows++;
}

static void
human_event(const struct ctl_event_rec *r)
{
	char		 t[TIMEFMT_BUFSZ];
	const char	*v = r->h.kind == CHANGE_REMOVED ? r->old_version :
			    r->new_version;

	ms_text(r->h.ts_ms, t);
	printf("%s %-8s %-18s %-11s %s%s%s%s%s  %s\n", t,
	    change_kind_name(r->h.kind), surface_name(r->h.surface),
	    item_kind_name(r->h.item_kind), nz(r->name), v ? " " : "",
	    v ? v : "", r->h.kind == CHANGE_MODIFIED && r->detail ? "  " : "",
	    r->h.kind == CHANGE_MODIFIED && r->detail ? r->detail : "",
	    nz(r->path));
	human_rows++;
}

static void
human_finding(const struct ctl_finding_rec *r)
{
	printf("%s %-10s %-18s %s\n    %s: %s\n    %s", nz(r->timestamp),
	    severity_name(r->h.severity), surface_name(r->h.surface),
	    nz(r->rule_id), nz(r->item_name), nz(r->title),
	    nz(r->evidence_path));
	if (r->matched_field != NULL)
		printf(" (%s: %s)", r->matched_field, nz(r->matched_value));
	printf("\n");
	human_rows++;
}

static void
human_surface(const struct ctl_surface *s)
{
	char	t[TIMEFMT_BUFSZ], d[32];

	ms_text(s->last_scan_ms, t);
	if (s->last_scan_ms > 0)
		snprintf(d, sizeof(d), "%lld ms", (long long)s->duration_ms);
	else
		strlcpy(d, "-", sizeof(d));
	printf("%-18s %-15s %7llu %6llu %-24s %8s\n", surface_name(s->surface),
	    ctl_health_name(s->health), (unsigned long long)s->items,
	    (unsigned long long)s->issues, t, d);
	if (s->message[0] != '\0')
		printf("    %s\n", s->message);
	if (s->watch_degraded && s->watch_message[0] != '\0')
		printf("    watch: %s\n", s->watch_message);
}

static void
human_surface_issue(const struct ctl_issue_rec *r)
{
	printf("    issue: %s: %s\n", nz(r->path), nz(r->reason));
}

static void
human_scan_queued(const struct ctl_scan_queued *q)
{
	int	s, n = 0;

	for (s = 0; s < SURFACE_COUNT; s++)
		if (q->surfaces & (1U << s)) {
			printf("%sscan of %s queued", n ? "\n" : "",
			    surface_name((enum surface)s));
			n++;
		}
	printf("%s\n", n ? "" : "nothing to scan");
}

static void
human_list_end(int action)
{
	if (human_rows == 0 && (action == SHOW_EVENTS ||
	    action == SHOW_FINDINGS))
		printf("none\n");
}

/* The sensor's replies, for programs. */

static void
json_str(const char *key, const char *v)
{
	jsonw_key(&jw, key);
	if (v == NULL)
		jsonw_null(&jw);
	else
		jsonw_string(&jw, v);
}

static void
json_time(const char *key, int64_t ms)
{
	char	t[TIMEFMT_BUFSZ];

	jsonw_key(&jw, key);
	if (ms <= 0 || timefmt_ms(ms, t) == -1)
		jsonw_null(&jw);
	else
		jsonw_string(&jw, t);
}

static int	json_in_surface;

static void
json_list_begin(int action)
{
	jsonw_init(&jw, 0);
	json_in_surface = 0;
	if (action != SCAN)
		jsonw_array_begin(&jw);
}

static void
json_item(const struct ctl_item_rec *r)
{
	jsonw_object_begin(&jw);
	json_str("surface", surface_name(r->h.surface));
	json_str("kind", item_kind_name(r->h.kind));
	json_str("name", r->name);
	json_str("version", r->version);
	json_str("path", r->path);
	json_str("origin", r->origin);
	jsonw_key(&jw, "installedOnRequest");
	if (r->h.ior == 0 || r->h.ior == 1)
		jsonw_bool(&jw, r->h.ior);
	else
		jsonw_null(&jw);
	json_str("detail", r->detail);
	json_str("id", r->id);
	/* Only when its file could not be read: the last good read's. */
	if (r->h.stale_ms > 0) {
		jsonw_key(&jw, "stale");
		jsonw_bool(&jw, 1);
		json_time("staleSince", r->h.stale_ms);
	}
	if (r->h.truncated) {
		jsonw_key(&jw, "truncated");
		jsonw_bool(&jw, 1);
	}
	jsonw_object_end(&jw);
}

static void
json_event(const struct ctl_event_rec *r)
{
	jsonw_object_begin(&jw);
	json_time("time", r->h.ts_ms);
	json_str("kind", change_kind_name(r->h.kind));
	json_str("surface", surface_name(r->h.surface));
	json_str("itemKind", item_kind_name(r->h.item_kind));
	json_str("name", r->name);
	json_str("oldVersion", r->old_version);
	json_str("newVersion", r->new_version);
	json_str("path", r->path);
	json_str("detail", r->detail);
	json_str("itemId", r->item_id);
	jsonw_object_end(&jw);
}

static void
json_finding(const struct ctl_finding_rec *r)
{
	jsonw_object_begin(&jw);
	json_str("id", r->id);
	json_str("timestamp", r->timestamp);
	json_str("surface", surface_name(r->h.surface));
	json_str("severity", severity_name(r->h.severity));
	json_str("ruleId", r->rule_id);
	json_str("title", r->title);
	json_str("rationale", r->rationale);
	json_str("itemId", r->item_id);
	json_str("itemName", r->item_name);
	jsonw_key(&jw, "evidence");
	jsonw_object_begin(&jw);
	json_str("path", r->evidence_path);
	json_str("detail", r->evidence_detail);
	json_str("matchedField", r->matched_field);
	json_str("matchedValue", r->matched_value);
	jsonw_object_end(&jw);
	jsonw_object_end(&jw);
}

static void
json_surface_close(void)
{
	if (json_in_surface) {
		jsonw_array_end(&jw);	/* issueList */
		jsonw_object_end(&jw);
		json_in_surface = 0;
	}
}

static void
json_surface(const struct ctl_surface *s)
{
	json_surface_close();
	jsonw_object_begin(&jw);
	json_str("surface", surface_name(s->surface));
	json_str("health", ctl_health_name(s->health));
	json_str("message", s->message[0] ? s->message : NULL);
	json_time("lastScan", s->last_scan_ms);
	jsonw_key(&jw, "lastScanMs");
	jsonw_int(&jw, s->last_scan_ms);
	jsonw_key(&jw, "durationMs");
	jsonw_int(&jw, s->duration_ms);
	jsonw_key(&jw, "committedMs");
	jsonw_int(&jw, s->committed_ms);
	jsonw_key(&jw, "items");
	jsonw_uint(&jw, s->items);
	jsonw_key(&jw, "issues");
	jsonw_uint(&jw, s->issues);
	jsonw_key(&jw, "scans");
	jsonw_uint(&jw, s->scans);
	jsonw_key(&jw, "baselined");
	jsonw_bool(&jw, s->baselined);
	jsonw_key(&jw, "watch");
	jsonw_object_begin(&jw);
	jsonw_key(&jw, "degraded");
	jsonw_bool(&jw, s->watch_degraded);
	json_str("message", s->watch_message[0] ? s->watch_message : NULL);
	jsonw_key(&jw, "directories");
	jsonw_uint(&jw, s->watch_dirs);
	jsonw_object_end(&jw);
	jsonw_key(&jw, "issueList");
	jsonw_array_begin(&jw);
	json_in_surface = 1;
}

static void
json_surface_issue(const struct ctl_issue_rec *r)
{
	jsonw_object_begin(&jw);
	json_str("path", r->path);
	json_str("reason", r->reason);
	jsonw_object_end(&jw);
}

static void
json_scan_queued(const struct ctl_scan_queued *q)
{
	int	s;

	jsonw_object_begin(&jw);
	jsonw_key(&jw, "queued");
	jsonw_array_begin(&jw);
	for (s = 0; s < SURFACE_COUNT; s++)
		if (q->surfaces & (1U << s))
			jsonw_string(&jw, surface_name((enum surface)s));
	jsonw_array_end(&jw);
	jsonw_object_end(&jw);
}

static void
json_list_end(int action)
{
	const char	*s;

	json_surface_close();
	if (action != SCAN)
		jsonw_array_end(&jw);
	if ((s = jsonw_result(&jw, NULL)) == NULL) {
		fprintf(stderr, "kobanctl: cannot encode JSON\n");
		exit(1);
	}
	printf("%s\n", s);
	jsonw_free(&jw);
}
