/*
 * The sensor pipeline in the parent: triggers, the scan state machine,
 * collecting the scan child's answers, diff, rules, commit, surface
 * health, and the kobanctl queries.  See sensor.h.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stddef.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "ctl.h"
#include "ctlrec.h"
#include "differ.h"
#include "discover.h"
#include "event.h"
#include "homesignal.h"
#include "jsonw.h"
#include "kobangd.h"
#include "log.h"
#include "rules.h"
#include "reqinc.h"
#include "scan_format.h"
#include "scanproto.h"
#include "sensor.h"
#include "sensor_inc.h"
#include "sha256.h"
#include "slice.h"
#include "store.h"
#include "timefmt.h"
#include "uuid.h"
#include "watch.h"

#define SENSOR_MAX_DEATHS	3	/* child deaths in a row per surface */
#define SENSOR_MAX_ISSUES	1000	/* kept per surface for kobanctl */
#define SENSOR_CTL_FLUSH	256	/* queued replies before a flush */
#define SENSOR_CTL_WAIT_MS	10000	/* a reader that stalls this long */
/* Reads again of a file that changed while read, before it is an issue. */
#define SENSOR_CHANGED_RETRIES	5
#define SENSOR_RETRY_MAX_MS	30000	/* the longest wait between them */

struct sissue {
	char		*path;
	char		*reason;
};

struct ssurf {
	enum surface	 s;
	int		 implemented;
	int		 enabled;
	struct ev_timer	 debounce;
	int		 queued;
	int		 pending;	/* rescan once the running one ends */
	int		 deaths;	/* scan child deaths in a row */
	uint64_t	 scans;
	int64_t		 committed_ms;	/* wall clock after the last commit */
	int		 full;		/* next scan reads every file */
	struct sissue	*issues;	/* of the last finished scan */
	size_t		 nissues;
	size_t		 total_issues;
	/* A file changed while read: read again after a growing wait. */
	struct ev_timer	 retry;
	int		 changed_tries;
	/* A mass removal held back since (monotonic ms), 0: none. */
	unsigned long long held_ms;
	struct quarantine *quar;
	size_t		 nquar;
	/*
	 * Rescans in proportion to the change: the last walk of a surface
	 * whose files carry their own items (the lockfiles) is kept, and
	 * while the watcher reports nothing but files of that walk written
	 * or replaced, the next scan reads those files alone (no walk, no
	 * watches set again).  Anything else (a name created or removed, a
	 * directory, a poll, a reload, lost events) asks for a walk: wide.
	 */
	struct lastwalk	*last;
	char		**dirty;	/* paths, from the watcher */
	size_t		 ndirty, capdirty;
	int		 wide;
};

/* A surface's last walk, with the users its anchors point into. */
struct lastwalk {
	struct disc_users	 users;
	struct disc_result	 disc;
};

/*
 * A file whose answer broke the scan channel (over its size bound,
 * malformed items): while its fingerprint is what it was, it is not
 * handed to the child again but kept as a failed read, with the reason.
 */
struct quarantine {
	char		*path;		/* the label */
	struct store_fp	 fp;
	char		*why;
};
#define SENSOR_MAX_QUARANTINE	64	/* per surface */

/* Rows of failed files a whole-surface scan keeps (store_items_free). */
struct kept {
	struct item	*v;
	size_t		 n;
};

/* The scan in progress (one at a time: there is one scan child). */
struct run {
	int			 active;
	enum surface		 s;
	uint32_t		 scan_id;
	unsigned long long	 start_ms;	/* monotonic */
	struct disc_users	 users;
	struct disc_result	 disc;
	size_t			 next;		/* next file to open */
	size_t			 inflight;	/* sent, FILE_DONE not seen */
	uint32_t		 next_fid;
	struct scan_result	**res;		/* own the items' strings */
	size_t			 nres, capres;
	struct item		*items;		/* collector order */
	size_t			 nitems, capitems;
	struct sissue		*issues;
	size_t			 nissues, capissues;
	size_t			 total_issues;
	int			 enomem;
	struct ev_timer		 timeout;
	struct reqinc		 inc;		/* requirement includes */
	size_t			 inc_watches;	/* their files watched */
	/* Per-file scans (sensor_inc.h); NULL: the whole-surface diff. */
	struct sinc		*sinc;
	struct store_fp		*fps;		/* by file id: at the open */
	char			*hasfp;
	size_t			 capfps;
	struct store_file	*files;		/* whole-surface: listing */
	size_t			 nfiles, capfiles;
	struct kept		*kept;		/* whole-surface: kept rows */
	size_t			 nkept, capkept;
	size_t			 changed;	/* files changed while read */
	int			 discovering;	/* a slice job walks (slice.h) */
	int			 full;		/* reads every file */
	char			 digest[SHA256_HEX_BUFSZ]; /* conf_digest */
	struct lastwalk		*prev;		/* the walk before: hashes */
	/* Reads only these files of the last walk (index into disc.files). */
	size_t			*targets;
	size_t			 ntargets;
	/* The configuration the run started with; a reload waits for it. */
	const struct config	*conf;
};

static struct kobangd		*sensor_kd;
static struct store		*sensor_store;
static char			 store_error[200];
static struct scanproto		*proto;
static struct ssurf		 surf[SURFACE_COUNT];
static enum surface		 runq[SURFACE_COUNT];
static size_t			 nrunq;
static struct run		 run;
static uint32_t			 scan_ids;
static struct ev_timer		 poll_timer;
static struct config		*retired_conf;	/* replaced, run.conf */
/*
 * What stored items were read under: the version and the configuration
 * (conf_digest); per surface, the one its last commit was read under.
 * A surface whose stored items were read under the configuration of
 * now trusts its stored fingerprints at start.
 */
static char			 conf_digest[SHA256_HEX_BUFSZ];
static char			 surf_digest[SURFACE_COUNT][SHA256_HEX_BUFSZ];

static int	sensor_dispatch(struct kobangd *, struct child *,
		    struct imsg *);
static void	sensor_kick(void);
static const char *run_quarantined(const char *, const struct stat *);
static void	run_pump(void);
static void	run_finish(void);
static void	run_discover(void *);
static void	run_discovered(void *);
static const char *digest_key(enum surface);
static void	sensor_trust_fingerprints(const struct config *);

static int64_t
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (timefmt_timespec_ms(&ts));
}

static int
surface_implemented(enum surface s)
{
	return (s == SURFACE_CLAUDE || s == SURFACE_JAVASCRIPT ||
	    s == SURFACE_PYTHON || s == SURFACE_HOMEBREW ||
	    s == SURFACE_CODEX || s == SURFACE_CURSOR ||
	    s == SURFACE_OPENCODE || s == SURFACE_PI);
}

static int
surface_enabled(const struct config *conf, enum surface s)
{
	switch (s) {
	case SURFACE_HOMEBREW:
		return (conf->homebrew.enabled);
	case SURFACE_CLAUDE:
		return (conf->claude.enabled);
	case SURFACE_CODEX:
		return (conf->codex.enabled);
	case SURFACE_PI:
		return (conf->pi.enabled);
	case SURFACE_CURSOR:
		return (conf->cursor.enabled);
	case SURFACE_OPENCODE:
		return (conf->opencode.enabled);
	case SURFACE_JAVASCRIPT:
		return (conf->javascript.enabled);
	case SURFACE_PYTHON:
		return (conf->python.enabled);
	default:
		return (0);
	}
}

/* The surfaces with a collector running: bit per surface. */
static unsigned int
sensor_collecting(void)
{
	unsigned int	m = 0;
	int		s;

	for (s = 0; s < SURFACE_COUNT; s++)
		if (surf[s].implemented && surf[s].enabled)
			m |= 1U << s;
	return (m);
}

static void
issues_free(struct sissue *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].reason);
	}
	free(v);
}

/* Triggers */

static void
lastwalk_free(struct lastwalk *lw)
{
	if (lw == NULL)
		return;
	disc_result_free(&lw->disc);
	disc_users_free(&lw->users);
	free(lw);
}

static void
dirty_clear(struct ssurf *ss)
{
	size_t	i;

	for (i = 0; i < ss->ndirty; i++)
		free(ss->dirty[i]);
	free(ss->dirty);
	ss->dirty = NULL;
	ss->ndirty = ss->capdirty = 0;
}

/* At most this many: past it, a walk costs less than the bookkeeping. */
#define SENSOR_MAX_DIRTY	1024

static int
dirty_add(struct ssurf *ss, const char *path)
{
	char	**v;
	size_t	  i, nc;

	for (i = 0; i < ss->ndirty; i++)
		if (strcmp(ss->dirty[i], path) == 0)
			return (0);
	if (ss->ndirty >= SENSOR_MAX_DIRTY)
		return (-1);
	if (ss->ndirty == ss->capdirty) {
		nc = ss->capdirty ? ss->capdirty * 2 : 8;
		if ((v = reallocarray(ss->dirty, nc, sizeof(*v))) == NULL)
			return (-1);
		ss->dirty = v;
		ss->capdirty = nc;
	}
	if ((ss->dirty[ss->ndirty] = strdup(path)) == NULL)
		return (-1);
	ss->ndirty++;
	return (0);
}

static void	sensor_enqueue_dirty(enum surface);

static void
sensor_enqueue(enum surface s)
{
	/* Whatever asks for a scan but the watcher asks for a walk. */
	surf[s].wide = 1;
	sensor_enqueue_dirty(s);
}

/* Queue a scan that may read only the dirty files (see struct ssurf). */
static void
sensor_enqueue_dirty(enum surface s)
{
	struct ssurf	*ss = &surf[s];

	if (!ss->implemented || !ss->enabled || sensor_store == NULL)
		return;
	ev_timer_del(&ss->debounce);
	if (run.active && run.s == s) {
		ss->pending = 1;
		return;
	}
	if (!ss->queued) {
		runq[nrunq++] = s;
		ss->queued = 1;
	}
	sensor_kick();
}

static void
sensor_debounced(void *arg)
{
	struct ssurf	*ss = arg;

	log_debug("sensor: %s changed", surface_name(ss->s));
	sensor_enqueue_dirty(ss->s);
}

/* A read again (changed while read) or a held removal to confirm. */
static void
sensor_retry(void *arg)
{
	struct ssurf	*ss = arg;

	log_debug("sensor: %s: scanning again", surface_name(ss->s));
	sensor_enqueue(ss->s);
}

static void
sensor_watch_hit(enum surface s, enum watch_reason why, const char *path,
    void *arg)
{
	struct ssurf	*ss = &surf[s];

	if (!ss->implemented || !ss->enabled)
		return;
	if (why == WATCH_OVERFLOW) {
		/* Events were lost: trust no fingerprint. */
		ss->full = 1;
		sensor_enqueue(s);
		return;
	}
	if (path == NULL || ss->last == NULL || disc_find(&ss->last->disc, path) ==
	    -1 || dirty_add(ss, path) == -1)
		ss->wide = 1;
	/* Each signal restarts the quiet period. */
	ev_timer_add(&ss->debounce,
	    (unsigned long long)sensor_kd->conf->watch.debounce_milliseconds);
}

static void
sensor_poll(void *arg)
{
	int	s;

	log_debug("sensor: safety-net poll");
	for (s = 0; s < SURFACE_COUNT; s++)
		sensor_enqueue((enum surface)s);
	ev_timer_add(&poll_timer, (unsigned long long)
	    sensor_kd->conf->watch.poll_interval_seconds * 1000);
}

int
sensor_scan_now(struct kobangd *kd, int which)
{
	int	s, n = 0;

	for (s = 0; s < SURFACE_COUNT; s++) {
		if (which != CTL_ALL && which != s)
			continue;
		if (!surf[s].implemented || !surf[s].enabled ||
		    sensor_store == NULL)
			continue;
		surf[s].deaths = 0;
		surf[s].full = 1;	/* asked for: read everything */
		sensor_enqueue((enum surface)s);
		n |= 1 << s;
	}
	return (n);
}

/* The run */

static int
run_issue(const char *path, const char *fmt, ...)
    __attribute__((__format__ (printf, 2, 3)));

static int
run_issue(const char *path, const char *fmt, ...)
{
	struct sissue	*is;
	va_list		 ap;
	int		 r;

	run.total_issues++;
	if (run.nissues >= SENSOR_MAX_ISSUES)
		return (0);
	if (run.nissues == run.capissues) {
		size_t	nc = run.capissues ? run.capissues * 2 : 16;

		if ((is = recallocarray(run.issues, run.capissues, nc,
		    sizeof(*is))) == NULL) {
			run.enomem = 1;
			return (-1);
		}
		run.issues = is;
		run.capissues = nc;
	}
	is = &run.issues[run.nissues];
	va_start(ap, fmt);
	r = vasprintf(&is->reason, fmt, ap);
	va_end(ap);
	if (r == -1 || (is->path = strdup(path)) == NULL) {
		if (r != -1)
			free(is->reason);
		run.enomem = 1;
		return (-1);
	}
	run.nissues++;
	return (0);
}

static int
run_item(const struct item *it)
{
	if (run.nitems == run.capitems) {
		size_t		 nc = run.capitems ? run.capitems * 2 : 256;
		struct item	*v;

		if ((v = recallocarray(run.items, run.capitems, nc,
		    sizeof(*v))) == NULL) {
			run.enomem = 1;
			return (-1);
		}
		run.items = v;
		run.capitems = nc;
	}
	run.items[run.nitems++] = *it;
	return (0);
}

static void
run_free(void)
{
	size_t	i;

	ev_timer_del(&run.timeout);
	/* A walk under way stops before what it walks is freed. */
	if (run.discovering)
		slice_cancel();
	for (i = 0; i < run.nres; i++)
		scan_result_free(run.res[i]);
	free(run.res);
	free(run.items);
	issues_free(run.issues, run.nissues);
	disc_result_free(&run.disc);
	disc_users_free(&run.users);
	reqinc_free(&run.inc);
	sinc_free(run.sinc);
	free(run.fps);
	free(run.hasfp);
	free(run.targets);
	lastwalk_free(run.prev);
	for (i = 0; i < run.nfiles; i++)
		free(run.files[i].path);
	free(run.files);
	for (i = 0; i < run.nkept; i++)
		store_items_free(run.kept[i].v, run.kept[i].n);
	free(run.kept);
	if (retired_conf != NULL && run.conf == retired_conf) {
		config_free(retired_conf);
		free(retired_conf);
		retired_conf = NULL;
	}
	memset(&run, 0, sizeof(run));
	ev_timer_init(&run.timeout, NULL, NULL);
	/* A big scan's memory goes back to the system while we idle. */
	malloc_trim(0);
}

/* The run ends without a commit; why is on the surface's health. */
static void
run_fail(const char *why)
{
	struct ssurf	*ss = &surf[run.s];
	int64_t		 now = wall_ms();
	unsigned long long dur = ev_now_ms() - run.start_ms;

	log_warnx("sensor: scan of %s failed: %s", surface_name(run.s), why);
	if (run.full)
		ss->full = 1;
	/* A baseline being stored goes back first (sensor_inc.h). */
	sinc_free(run.sinc);
	run.sinc = NULL;
	if (store_note_scan_failure(sensor_store, run.s, now, (int64_t)dur,
	    why) == -1)
		log_warnx("sensor: cannot record the failure of %s",
		    surface_name(run.s));
	ss->scans++;
	run_free();
	if (ss->pending) {
		ss->pending = 0;
		sensor_enqueue(ss->s);
	}
}

static int
file_path_cmp(const void *a, const void *b)
{
	const struct store_file	*fa = a, *fb = b;

	return (strcmp(fa->path, fb->path));
}

/*
 * The second guard (kobangd.removalGuard): a scan that would shrink a
 * surface by more than the configured share of its stored items (items
 * removed less items added) is held back,
 * logged and shown on the surface, and a full scan confirmSeconds later
 * decides: if it still finds them gone, they go.  Whatever made a tree
 * look empty for a moment (a mount, a checkout, a home being restored)
 * does not empty the inventory and flood Fleet with removals.
 * 1: held (the caller commits nothing), 0: go on.
 */
static int
run_guard(size_t nremoved)
{
	const struct config_removal_guard *g = &run.conf->kobangd.removal_guard;
	struct ssurf		*ss = &surf[run.s];
	unsigned long long	 now = ev_now_ms(), wait_ms;
	int64_t			 stored;
	char			 msg[256];

	if (nremoved == 0 || g->percent >= 100 ||
	    store_item_count(sensor_store, run.s, &stored) == -1 ||
	    stored < g->min_items || stored <= 0 ||
	    (long long)nremoved * 100 <= g->percent * (long long)stored) {
		ss->held_ms = 0;
		return (0);
	}
	wait_ms = (unsigned long long)g->confirm_seconds * 1000;
	if (ss->held_ms != 0 && now >= ss->held_ms + wait_ms) {
		log_warnx("sensor: %s: the removal of %zu of %lld items is "
		    "confirmed by a second scan", surface_name(run.s),
		    nremoved, (long long)stored);
		return (0);
	}
	if (ss->held_ms == 0)
		ss->held_ms = now;
	wait_ms = ss->held_ms + wait_ms - now;
	snprintf(msg, sizeof(msg), "removal of %zu of %lld items held back "
	    "(over %lld%%) until a scan in %llu s confirms it", nremoved,
	    (long long)stored, g->percent, (wait_ms + 999) / 1000);
	log_warnx("sensor: %s: %s", surface_name(run.s), msg);
	if (store_note_scan_failure(sensor_store, run.s, wall_ms(),
	    (int64_t)(now - run.start_ms), msg) == -1)
		log_warnx("sensor: cannot record the held removal of %s",
		    surface_name(run.s));
	/* The confirming scan trusts no fingerprint. */
	ss->full = 1;
	ev_timer_add(&ss->retry, wait_ms);
	return (1);
}

/* A held run ends like a failed one, without the word "failed". */
static void
run_held(void)
{
	struct ssurf	*ss = &surf[run.s];

	sinc_free(run.sinc);
	run.sinc = NULL;
	if (run.full)
		ss->full = 1;
	ss->scans++;
	run_free();
	if (ss->pending) {
		ss->pending = 0;
		sensor_enqueue(ss->s);
	}
}

/*
 * Whole-surface: additions from a file that could not be read during
 * the baseline and is read now for the first time are its baseline
 * (differ.h: quiet).
 */
static int
run_late_baseline(struct change *ch, size_t n)
{
	struct store_file	*lf, key;
	size_t			 nlf, i;
	int			 any = 0;

	/* Only additions can be quiet: no listing to read without one. */
	for (i = 0; i < n && ch[i].kind != CHANGE_ADDED; i++)
		;
	if (i == n)
		return (0);
	if (store_load_files(sensor_store, run.s, &lf, &nlf) == -1)
		return (-1);
	for (i = 0; i < nlf && !any; i++)
		any = lf[i].unbaselined;
	for (i = 0; any && i < n; i++) {
		const struct store_file	*f;

		if (ch[i].kind != CHANGE_ADDED)
			continue;
		key.path = (char *)ch[i].new->path;
		f = bsearch(&key, lf, nlf, sizeof(*lf), file_path_cmp);
		if (f != NULL && f->unbaselined)
			ch[i].quiet = 1;
	}
	store_files_free(lf, nlf);
	return (0);
}

/*
 * How many items a scan takes away, net: a version bump is a removal and
 * an addition on the package surfaces (the version is in the id), so an
 * "npm update" of every package shrinks nothing and is never held.
 */
static size_t
count_removed(const struct change *ch, size_t n)
{
	size_t	i, r = 0, a = 0;

	for (i = 0; i < n; i++) {
		if (ch[i].kind == CHANGE_REMOVED)
			r++;
		else if (ch[i].kind == CHANGE_ADDED)
			a++;
	}
	return (r > a ? r - a : 0);
}

/* The scan child went away with our files: start over once it is back. */
static void
run_lost(void)
{
	struct ssurf	*ss = &surf[run.s];
	enum surface	 s = run.s;

	if (run.full)
		ss->full = 1;
	run_free();
	if (++ss->deaths > SENSOR_MAX_DEATHS) {
		char	msg[128];

		snprintf(msg, sizeof(msg), "the scan child died %d times in "
		    "a row scanning this surface; waiting for a change or "
		    "the poll", SENSOR_MAX_DEATHS);
		log_warnx("sensor: %s: %s", surface_name(s), msg);
		(void)store_note_scan_failure(sensor_store, s, wall_ms(), 0,
		    msg);
		ss->deaths = 0;
		ss->pending = 0;
		return;
	}
	ss->pending = 0;
	log_info("sensor: rescanning %s when the scan child is back",
	    surface_name(s));
	if (!ss->queued) {
		/* First in line: it was running. */
		memmove(&runq[1], &runq[0], nrunq * sizeof(runq[0]));
		runq[0] = s;
		nrunq++;
		ss->queued = 1;
	}
}

static void
run_timeout(void *arg)
{
	struct child	*c = &sensor_kd->children[CHILD_SCAN];
	char		 msg[128];
	int		 kill_child;

	if (!run.active)
		return;
	if (!c->channel_open) {
		run_lost();
		return;
	}
	snprintf(msg, sizeof(msg), "scan timed out after %lld seconds",
	    run.conf->watch.max_scan_wall_clock_seconds);
	kill_child = run.inflight > 0;
	run_fail(msg);
	/* A child that sits on files this long is not trusted either. */
	if (kill_child)
		parent_child_broken(sensor_kd, c, "scan timed out");
	sensor_kick();
}

static int
scan_child_ready(void)
{
	struct child	*c = &sensor_kd->children[CHILD_SCAN];

	return (c->pid > 0 && c->channel_open);
}

static enum scan_parser
parser_of(enum disc_parser p)
{
	const struct scan_format *f;

	/* A package format: its row (scan_format.c). */
	if ((f = scan_format_by_disc(p)) != NULL)
		return (f->parser);
	switch (p) {
	case DISC_CLAUDE_MCP:
		return (SCAN_PARSER_CLAUDE_MCP);
	case DISC_CLAUDE_SETTINGS:
		return (SCAN_PARSER_CLAUDE_SETTINGS);
	case DISC_CLAUDE_PLUGINS:
		return (SCAN_PARSER_CLAUDE_PLUGIN_FILE);
	case DISC_HASH:
		return (SCAN_PARSER_HASH_ONLY);
	case DISC_BREW_RECEIPT:
		return (SCAN_PARSER_BREW_RECEIPT);
	case DISC_CODEX_CONFIG:
		return (SCAN_PARSER_CODEX_CONFIG);
	case DISC_CODEX_HOOKS:
		return (SCAN_PARSER_CODEX_HOOKS);
	case DISC_CURSOR_MCP:
		return (SCAN_PARSER_CURSOR_MCP);
	case DISC_OPENCODE_CONFIG:
		return (SCAN_PARSER_OPENCODE_CONFIG);
	case DISC_PI_MCP:
		return (SCAN_PARSER_PI_MCP);
	case DISC_PI_SETTINGS:
		return (SCAN_PARSER_PI_SETTINGS);
	case DISC_AGENT_HASH:
		return (SCAN_PARSER_AGENT_HASH);
	default:
		/* Unreachable: the rest are package formats. */
		return (SCAN_PARSER_NPM_LOCK);
	}
}

/* A hash-only file we could not hand over: its item, detail nil. */
static void
run_template_item(const struct disc_file *f)
{
	struct item	it;

	memset(&it, 0, sizeof(it));
	it.surface = run.s;
	it.kind = f->tmpl.kind;
	it.name = f->tmpl.name;
	it.path = f->label != NULL ? f->label : f->path;
	it.version = f->tmpl.version;
	it.origin = (char *)f->tmpl.origin;
	it.installed_on_request = ITEM_BOOL_NIL;
	(void)run_item(&it);
}

/*
 * The request fields of the homebrew and agent surfaces' files
 * (SURFACES.md 1, 3-6): templates, flags.  -1: a field does not fit.
 */
static int
run_fill_agents(const struct disc_file *f, struct scan_file *sf)
{
	const struct config	*conf = run.conf;

	switch (f->parser) {
	case DISC_AGENT_HASH:
		sf->kind = f->tmpl.kind;
		if (strlcpy(sf->name, f->tmpl.name, sizeof(sf->name)) >=
		    sizeof(sf->name) || strlcpy(sf->origin, f->tmpl.origin,
		    sizeof(sf->origin)) >= sizeof(sf->origin))
			return (-1);
		break;
	case DISC_BREW_RECEIPT:
		/* The child decides the origin; the listing the rest. */
		sf->kind = f->tmpl.kind;
		if (strlcpy(sf->name, f->tmpl.name, sizeof(sf->name)) >=
		    sizeof(sf->name) || strlcpy(sf->version, f->tmpl.version,
		    sizeof(sf->version)) >= sizeof(sf->version))
			return (-1);
		break;
	case DISC_OPENCODE_CONFIG:
		if (conf->opencode.include_mcp)
			sf->flags |= SCAN_F_MCP;
		break;
	case DISC_PI_MCP:
		if (conf->pi.include_imports)
			sf->flags |= SCAN_F_IMPORTS;
		break;
	default:
		break;
	}
	return (0);
}

/* The first configured user the password database does not know. */
static const char *
unresolved_user(const struct config *conf)
{
	const struct strlist	*names = conf->kobangd.users;
	size_t			 i;

	for (i = 0; names != NULL && i < names->n; i++)
		if (getpwnam(names->v[i]) == NULL)
			return (names->v[i]);
	return (NULL);
}

/* The fingerprint of the file sent with this id, taken at its open. */
static void
run_note_fp(uint32_t fid, const struct stat *sb)
{
	struct store_fp	*v;
	char		*h;
	size_t		 nc;

	if (fid >= run.capfps) {
		nc = run.capfps ? run.capfps : 64;
		while (nc <= fid)
			nc *= 2;
		if ((v = recallocarray(run.fps, run.capfps, nc,
		    sizeof(*v))) == NULL) {
			run.enomem = 1;
			return;
		}
		run.fps = v;
		if ((h = recallocarray(run.hasfp, run.capfps, nc, 1)) ==
		    NULL) {
			run.enomem = 1;
			return;
		}
		run.hasfp = h;
		run.capfps = nc;
	}
	sinc_fp(sb, &run.fps[fid]);
	run.hasfp[fid] = 1;
}

/*
 * How a finished file's listing changes: read whole without an issue,
 * its fingerprint; read with issues, none (read it again next time);
 * failed, it keeps what it had (stale) and is read again next time.  A
 * file that cannot be read or parsed right now (changed while read,
 * unreadable, truncated, a child that died) has not lost its packages:
 * taking it as empty would report every one removed, then added again.
 */
static enum store_fp_state
run_fp_state(const struct scan_result *r, const struct store_fp **fp)
{
	*fp = NULL;
	if (r->status != SCAN_OK)
		return (STORE_FP_KEEP);
	if (r->nissues > 0 || r->file_id >= run.capfps ||
	    !run.hasfp[r->file_id])
		return (STORE_FP_UNSET);
	*fp = &run.fps[r->file_id];
	return (STORE_FP_SET);
}

/* A whole-surface scan lists what it read too (store_scan.files). */
static void
run_list_path(const char *path, enum store_fp_state state,
    const struct store_fp *fp)
{
	struct store_file	*f, *v;
	size_t			 nc;

	if (run.nfiles == run.capfiles) {
		nc = run.capfiles ? run.capfiles * 2 : 64;
		if ((v = recallocarray(run.files, run.capfiles, nc,
		    sizeof(*v))) == NULL) {
			run.enomem = 1;
			return;
		}
		run.files = v;
		run.capfiles = nc;
	}
	f = &run.files[run.nfiles];
	memset(f, 0, sizeof(*f));
	f->state = state;
	if (fp != NULL)
		f->fp = *fp;
	if ((f->path = strdup(path)) == NULL) {
		run.enomem = 1;
		return;
	}
	run.nfiles++;
}

static void
run_list_file(const struct scan_result *r)
{
	const struct store_fp	*fp;
	enum store_fp_state	 state;

	state = run_fp_state(r, &fp);
	run_list_path(r->path, state, fp);
}

/*
 * Whole-surface: a file that could not be read keeps its stored rows
 * (items show path as label), listed as stale.  The number of rows
 * kept, or -1.
 */
static ssize_t
run_keep(const char *label)
{
	struct item	*v;
	struct kept	*k;
	size_t		 n, i, nc;

	if (store_load_file_items(sensor_store, run.s, label, &v, &n) == -1) {
		run.enomem = 1;
		return (-1);
	}
	if (n == 0)
		return (0);
	if (run.nkept == run.capkept) {
		nc = run.capkept ? run.capkept * 2 : 8;
		if ((k = recallocarray(run.kept, run.capkept, nc,
		    sizeof(*k))) == NULL) {
			store_items_free(v, n);
			run.enomem = 1;
			return (-1);
		}
		run.kept = k;
		run.capkept = nc;
	}
	run.kept[run.nkept].v = v;
	run.kept[run.nkept].n = n;
	run.nkept++;
	for (i = 0; i < n; i++)
		if (run_item(&v[i]) == -1)
			return (-1);
	run_list_path(label, STORE_FP_KEEP, NULL);
	return ((ssize_t)n);
}

/*
 * A read that failed, or gave items only in the shape of a failure (an
 * agent file whose hash could not be taken: detail nil).
 */
static int
run_read_failed(const struct scan_result *r)
{
	size_t	i;

	if (r->status != SCAN_OK)
		return (1);
	for (i = 0; i < r->nissues; i++)
		if (r->issues[i].code == SCAN_ISSUE_HASH ||
		    r->issues[i].code == SCAN_ISSUE_CHANGED ||
		    r->issues[i].code == SCAN_ISSUE_UNREADABLE)
			return (1);
	return (0);
}

/*
 * A baselined surface whose files carry their own items (no labels,
 * templates or includes: the lockfiles) is scanned file by file
 * (sensor_inc.h); anything else gets the whole-surface diff.
 */
static int
run_perfile_begin(void)
{
	const struct config	*conf = run.conf;
	const struct disc_file	*f;
	char			 ts[TIMEFMT_BUFSZ];
	size_t			 i;
	int			 b;

	if ((b = store_baselined(sensor_store, run.s)) == -1)
		return (-1);
	for (i = 0; i < run.disc.nfiles; i++) {
		f = &run.disc.files[i];
		if (f->label != NULL || (f->parser != DISC_NPM_LOCK &&
		    f->parser != DISC_PNPM_LOCK &&
		    f->parser != DISC_YARN_LOCK &&
		    f->parser != DISC_BUN_LOCK))
			return (0);
		/* Discovery sorts and deduplicates; a path once. */
		if (i > 0 && strcmp(f->path, run.disc.files[i - 1].path) <= 0)
			return (0);
	}
	if (timefmt_ms(wall_ms(), ts) == -1)
		return (-1);
	/* A baseline, too, is stored file by file as the files come. */
	if (b == 0)
		run.sinc = sinc_new_baseline(sensor_store, run.s,
		    &conf->rules, ts);
	else
		run.sinc = sinc_new(sensor_store, run.s, &conf->rules,
		    run.full, ts);
	if (run.sinc == NULL)
		return (-1);
	/* The files not read are not gone: they were not looked at. */
	if (run.targets != NULL)
		sinc_partial(run.sinc);
	return (0);
}

/* Per-file: one file done (r NULL: it could not be read: kept). */
static void
run_perfile_file(const char *path, struct scan_result *r)
{
	const struct store_fp	*fp = NULL;
	enum store_fp_state	 state = STORE_FP_KEEP;
	const struct item	*items = NULL;
	size_t			 n = 0;

	if (r != NULL) {
		state = run_fp_state(r, &fp);
		if (r->status == SCAN_OK) {
			items = r->items;
			n = r->nitems;
		}
	}
	/* r (and path with it) is the sinc's from here. */
	if (sinc_file(run.sinc, path, r, items, n, state, fp) == -1)
		run.enomem = 1;
}

/*
 * A discovered file not handed to the child (it could not be opened, or
 * it is quarantined): it keeps its stored rows; one never stored gives
 * its template item where it has one (the reference's shape).
 */
static void
run_file_failed(const struct disc_file *f)
{
	if (run.sinc != NULL)
		run_perfile_file(f->path, NULL);
	else if (run_keep(f->label != NULL ? f->label : f->path) == 0 &&
	    disc_file_templated(f))
		run_template_item(f);
}

static int
size_cmp(const void *a, const void *b)
{
	size_t	x = *(const size_t *)a, y = *(const size_t *)b;

	return (x < y ? -1 : x > y);
}

/* run.targets: the last walk's files among the dirty paths, in order. */
static int
run_targets(const struct ssurf *ss)
{
	size_t	i, n = 0;
	ssize_t	j;

	if ((run.targets = calloc(ss->ndirty, sizeof(*run.targets))) == NULL)
		return (-1);
	for (i = 0; i < ss->ndirty; i++)
		if ((j = disc_find(&ss->last->disc, ss->dirty[i])) != -1)
			run.targets[n++] = (size_t)j;
	if (n == 0) {
		free(run.targets);
		run.targets = NULL;
		return (-1);
	}
	qsort(run.targets, n, sizeof(*run.targets), size_cmp);
	run.ntargets = n;
	return (0);
}

static void
run_start(enum surface s)
{
	struct ssurf		*ss = &surf[s];
	const struct config	*conf = sensor_kd->conf;
	unsigned long long	 max_ms;

	memset(&run, 0, sizeof(run));
	ev_timer_init(&run.timeout, run_timeout, NULL);
	run.active = 1;
	run.conf = conf;
	run.s = s;
	run.scan_id = ++scan_ids;
	run.start_ms = ev_now_ms();
	/* Taken: what asks for a full read during the run asks again. */
	run.full = surf[s].full;
	surf[s].full = 0;
	strlcpy(run.digest, conf_digest, sizeof(run.digest));
	max_ms = (unsigned long long)conf->watch.max_scan_wall_clock_seconds *
	    1000;
	ev_timer_add(&run.timeout, max_ms);
	log_debug("sensor: scan %u of %s", run.scan_id, surface_name(s));

	/* Only files of the last walk were written: read them, no walk. */
	if (!ss->wide && ss->last != NULL && ss->ndirty > 0 && !run.full &&
	    run_targets(ss) == 0) {
		log_debug("sensor: %s: %zu of %zu files to read, no walk",
		    surface_name(s), run.ntargets, ss->last->disc.nfiles);
		run.users = ss->last->users;
		run.disc = ss->last->disc;
		free(ss->last);
		ss->last = NULL;
		dirty_clear(ss);
		run_discovered(NULL);
		return;
	}
	ss->wide = 0;
	dirty_clear(ss);
	/* The walk replaces it; its files' content hashes carry over. */
	run.prev = ss->last;
	ss->last = NULL;

	if (disc_users_load(conf, &run.users) == -1) {
		char	msg[CTL_ERRLEN];

		/* Nothing is committed: see disc_users_load(). */
		if (errno == ESRCH && unresolved_user(conf) != NULL)
			snprintf(msg, sizeof(msg), "monitored user %s cannot "
			    "be looked up; nothing committed",
			    unresolved_user(conf));
		else
			strlcpy(msg, "cannot read the user database",
			    sizeof(msg));
		run_fail(msg);
		return;
	}
	/* Discovery gives the loop its turns (slice.h); then run_discovered. */
	run.discovering = 1;
	if (slice_start(run_discover, run_discovered, &run) == -1) {
		run_discover(NULL);
		run_discovered(NULL);
	}
}

/* In a slice job: the walk of the surface's files. */
static void
run_discover(void *arg)
{
	(void)arg;
	if (discover_surface(run.conf, run.s, &run.users, &run.disc) == -1)
		run.disc.enomem = 1;
	/* A surface disabled by a reload meanwhile keeps no watches. */
	else if (surf[run.s].enabled && watch_set(run.s, &run.disc) == -1)
		log_debug("sensor: watch of %s incomplete",
		    surface_name(run.s));
}

static void
run_discovered(void *arg)
{
	unsigned long long	 max_ms;

	run.discovering = 0;
	max_ms = (unsigned long long)
	    run.conf->watch.max_scan_wall_clock_seconds * 1000;
	if (run.disc.enomem) {
		run_fail("out of memory during discovery");
		goto out;
	}
	for (size_t i = 0; i < run.disc.nissues; i++)
		run_issue(run.disc.issues[i].path, "%s",
		    run.disc.issues[i].reason);
	if (ev_now_ms() - run.start_ms > max_ms) {
		run_fail("discovery ran past the scan time limit");
		goto out;
	}
	if (run_perfile_begin() == -1) {
		run_fail("cannot read the file listing");
		goto out;
	}
	run_pump();
 out:
	/* From the job: a run that ended here lets the next one start. */
	if (arg != NULL)
		sensor_kick();
}

/*
 * Requirement includes the child reported (reqinc.h): opened like any
 * discovered file, beneath the top-level file's anchor with its user's
 * rights, and sent as files of their own.
 */
/*
 * 0 when real (where an include's descriptor leads) is the anchor's own
 * directory followed by rel, -1 otherwise (or when that cannot be told).
 */
static int
include_beneath(const struct disc_anchor *a, const char *rel,
    const char *real)
{
	char	proc[64], dir[PATH_MAX];
	ssize_t	n;
	size_t	dlen;

	if (a->fd == -1)
		return (-1);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a->fd);
	if ((n = readlink(proc, dir, sizeof(dir) - 1)) == -1)
		return (-1);
	dir[n] = '\0';
	dlen = (size_t)n;
	if (strncmp(real, dir, dlen) != 0 ||
	    (dlen > 1 && real[dlen] != '/') || strcmp(real + dlen +
	    (dlen > 1 ? 1 : 0), rel) != 0)
		return (-1);
	return (0);
}

static void
run_pump_includes(void)
{
	struct child		*c = &sensor_kd->children[CHILD_SCAN];
	const struct disc_anchor *a;
	struct reqinc_job	 j;
	struct disc_file	 f;
	struct scan_file	 sf;
	struct stat		 st;
	const char		*qwhy;
	char			 why[512], proc[64], real[PATH_MAX];
	size_t			 alen;
	ssize_t			 n;
	int			 fd, missing;

	while (run.active && reqinc_pending(&run.inc) > 0 &&
	    scanproto_pending(proto) < SCAN_MAX_INFLIGHT) {
		if (!scan_child_ready())
			return;
		if (reqinc_next(&run.inc, &j) == -1)
			break;
		memset(&f, 0, sizeof(f));
		f.path = j.path;
		f.anchor = j.anchor;
		f.parser = DISC_REQUIREMENTS;
		f.cap = DISC_PACKAGE_CAP;
		a = &run.disc.anchors[j.anchor];
		alen = strlen(a->path);
		if (strncmp(j.path, a->path, alen) != 0 ||
		    j.path[alen] != '/') {
			run_issue(j.path, "include not followed: outside %s",
			    a->path);
			free(j.path);
			continue;
		}
		f.rel = j.path + alen + 1;
		/* Its edits (or its creation) rescan, as for its includer. */
		if (disc_watch_file(&run.disc, j.path, j.anchor) == 0)
			run.inc_watches++;
		if ((fd = disc_open(&run.disc, &f, &st, &missing, why,
		    sizeof(why))) == -1) {
			run_issue(j.path, "cannot read the include: %s",
			    missing ? "no such file" : why);
			free(j.path);
			continue;
		}
		/* A link must not make an allowed name open another file. */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if ((n = readlink(proc, real, sizeof(real) - 1)) == -1)
			qwhy = "cannot tell which file was opened";
		else {
			real[n] = '\0';
			qwhy = reqinc_opened(&run.inc, &j, real);
		}
		/*
		 * Nor a link to a directory of the same name (requirements ->
		 * .git/requirements): below the anchor, the file opened is
		 * the name itself, every component as written.
		 */
		if (qwhy == NULL && include_beneath(a, f.rel, real) == -1)
			qwhy = "a symbolic link in its path below the project";
		if (qwhy != NULL ||
		    (qwhy = reqinc_charge(&run.inc, &j, &st)) != NULL) {
			close(fd);
			run_issue(j.path, "include not followed: %s", qwhy);
			free(j.path);
			continue;
		}
		if ((qwhy = run_quarantined(j.path, &st)) != NULL) {
			close(fd);
			run_issue(j.path, "%s; not read until it changes",
			    qwhy);
			(void)run_keep(j.path);
			free(j.path);
			continue;
		}
		memset(&sf, 0, sizeof(sf));
		sf.scan_id = run.scan_id;
		sf.file_id = ++run.next_fid;
		sf.surface = run.s;
		sf.parser = SCAN_PARSER_REQUIREMENTS;
		if (j.constraint)
			sf.flags |= SCAN_F_CONSTRAINT;
		if (strlcpy(sf.path, j.path, sizeof(sf.path)) >=
		    sizeof(sf.path)) {
			close(fd);
			run_issue(j.path, "path too long");
			free(j.path);
			continue;
		}
		if (scanproto_send_file(proto, &c->ibuf, &sf, fd) == -1) {
			run_issue(j.path, "%s", errno == EINVAL ?
			    "path is not valid UTF-8; not read" :
			    strerror(errno));
			free(j.path);
			if (errno == ENOMEM) {
				run_fail("out of memory");
				return;
			}
			continue;
		}
		run.inflight++;
		if (reqinc_sent(&run.inc, &j, sf.file_id) == -1)
			run.enomem = 1;
	}
}

/* What a finished requirements file named: follow, skip or ignore. */
static void
run_includes(const struct scan_result *r)
{
	char	path[PATH_MAX], why[512];
	size_t	i;
	int	node, rc;

	if ((node = reqinc_find(&run.inc, r->file_id)) == -1)
		return;
	for (i = 0; i < r->nincludes; i++) {
		rc = reqinc_offer(&run.inc, node, r->includes[i].constraint,
		    r->includes[i].target, path, sizeof(path), why,
		    sizeof(why));
		if (rc == -1) {
			run.enomem = 1;
			return;
		}
		if (rc == REQINC_SKIPPED)
			run_issue(path, "%s", why);
	}
}

static void
run_prev_hash(struct disc_file *f)
{
	const struct disc_file	*p;
	ssize_t			 j;

	if ((j = disc_find(&run.prev->disc, f->path)) == -1)
		return;
	p = &run.prev->disc.files[j];
	if (p->hashed) {
		memcpy(f->hash, p->hash, sizeof(f->hash));
		f->hashed = 1;
	}
}

static size_t
run_nfiles(void)
{
	return (run.targets != NULL ? run.ntargets : run.disc.nfiles);
}

static void
run_pump(void)
{
	struct child		*c = &sensor_kd->children[CHILD_SCAN];
	const struct config	*conf = run.conf;
	struct disc_file	*f;
	struct scan_file	 sf;
	struct stat		 st;
	const char		*qwhy;
	char			 why[512];
	int			 fd, missing;

	/* Nothing is handed over before the walk is whole. */
	if (run.discovering)
		return;
	while (run.active && run.next < run_nfiles() &&
	    scanproto_pending(proto) < SCAN_MAX_INFLIGHT) {
		if (!scan_child_ready())
			return;
		f = &run.disc.files[run.targets != NULL ?
		    run.targets[run.next++] : run.next++];
		if ((fd = disc_open(&run.disc, f, &st, &missing, why,
		    sizeof(why))) == -1) {
			if (missing) {
				/* A Homebrew package without a receipt. */
				if (disc_file_missing_keeps(f))
					run_template_item(f);
				/* Gone since the walk: the next scan walks. */
				if (run.targets != NULL) {
					surf[run.s].wide = 1;
					surf[run.s].pending = 1;
				}
				continue;
			}
			run_issue(f->path, "%s", why);
			run_file_failed(f);
			continue;
		}
		/* What the walk before knew of its content. */
		if (run.prev != NULL && !f->hashed)
			run_prev_hash(f);
		/* Unchanged since it was last read whole. */
		if (run.sinc != NULL && sinc_skip(run.sinc, f->path, &st)) {
			close(fd);
			continue;
		}
		if ((qwhy = run_quarantined(f->label != NULL ? f->label :
		    f->path, &st)) != NULL) {
			close(fd);
			run_issue(f->path, "%s; not read until it changes",
			    qwhy);
			run_file_failed(f);
			continue;
		}
		memset(&sf, 0, sizeof(sf));
		sf.scan_id = run.scan_id;
		sf.file_id = ++run.next_fid;
		sf.surface = run.s;
		sf.parser = parser_of(f->parser);
		/* SURFACES.md 8: a constraints file's lines are constraints. */
		if (f->parser == DISC_CONSTRAINTS)
			sf.flags |= SCAN_F_CONSTRAINT;
		/*
		 * Lockfiles: their content's hash, and no parse if the same
		 * (unless everything is to be read: new rules, say).  Not for
		 * a baseline: hashing every byte would cost it a third more.
		 */
		if (run.sinc != NULL && !sinc_is_baseline(run.sinc)) {
			sf.flags |= SCAN_F_CONTENT;
			/* Rows kept from a failed read must be read again. */
			if (f->hashed && !run.full &&
			    sinc_rows_good(run.sinc, f->path)) {
				sf.known_set = 1;
				memcpy(sf.known, f->hash, sizeof(sf.known));
			}
		}
		if (f->parser == DISC_CLAUDE_SETTINGS) {
			if (conf->claude.include_hooks)
				sf.flags |= SCAN_F_HOOKS;
			if (conf->claude.include_plugins)
				sf.flags |= SCAN_F_PLUGINS;
		}
		if (f->parser == DISC_HASH) {
			sf.kind = f->tmpl.kind;
			if (strlcpy(sf.name, f->tmpl.name, sizeof(sf.name)) >=
			    sizeof(sf.name) ||
			    strlcpy(sf.origin, f->tmpl.origin,
			    sizeof(sf.origin)) >= sizeof(sf.origin)) {
				close(fd);
				run_issue(f->path, "name too long");
				run_template_item(f);
				continue;
			}
		}
		if (run_fill_agents(f, &sf) == -1) {
			close(fd);
			run_issue(f->path, "name or versions too long");
			run_template_item(f);
			continue;
		}
		if (strlcpy(sf.path, f->label != NULL ? f->label : f->path,
		    sizeof(sf.path)) >= sizeof(sf.path)) {
			close(fd);
			run_issue(f->path, "path too long");
			if (run.sinc != NULL)
				run_perfile_file(f->path, NULL);
			continue;
		}
		if (scanproto_send_file(proto, &c->ibuf, &sf, fd) == -1) {
			/* fd is consumed either way. */
			run_issue(f->path, "%s", errno == EINVAL ?
			    "name or path is not valid UTF-8; not read" :
			    strerror(errno));
			if (disc_file_templated(f))
				run_template_item(f);
			if (errno == ENOMEM) {
				run_fail("out of memory");
				return;
			}
			if (run.sinc != NULL)
				run_perfile_file(f->path, NULL);
			continue;
		}
		run.inflight++;
		run_note_fp(sf.file_id, &st);
		if ((f->parser == DISC_REQUIREMENTS ||
		    f->parser == DISC_CONSTRAINTS) &&
		    reqinc_add_top(&run.inc, sf.file_id, f->path, f->anchor,
		    f->parser == DISC_CONSTRAINTS) == -1)
			run.enomem = 1;
	}
	run_pump_includes();
	if (run.active && run.next >= run_nfiles() && run.inflight == 0 &&
	    reqinc_pending(&run.inc) == 0) {
		/* Discovery's watches, and the included files found since. */
		if (run.inc_watches > 0 && watch_set(run.s, &run.disc) == -1)
			log_debug("sensor: watch of %s incomplete",
			    surface_name(run.s));
		run_finish();
	}
}

/*
 * A finished file's issues.  One that changed while it was read is read
 * again (run_committed) before that is an issue: a save or checkout
 * that is still under way is not a problem of the file.
 */
static void
run_absorb_issues(const struct scan_result *r)
{
	const struct scan_issue	*is;
	size_t			 i;

	for (i = 0; i < r->nissues; i++) {
		is = &r->issues[i];
		if (is->code != SCAN_ISSUE_CHANGED) {
			run_issue(is->path, "%s", is->reason);
			continue;
		}
		run.changed++;
		if (surf[run.s].changed_tries < SENSOR_CHANGED_RETRIES)
			log_debug("sensor: %s: %s; reading it again", is->path,
			    is->reason);
		else
			run_issue(is->path, "the file kept changing while it "
			    "was read (%d reads); its last items are kept",
			    SENSOR_CHANGED_RETRIES + 1);
	}
}

/*
 * A lockfile's content hash (SCAN_F_CONTENT): kept with the file for its
 * next read; unchanged content was not parsed and changes nothing (1:
 * r is done with).
 */
static int
run_content(struct scan_result *r)
{
	struct disc_file	*f;
	ssize_t			 i;

	if (r->hashed && (i = disc_find(&run.disc, r->path)) != -1) {
		f = &run.disc.files[i];
		memcpy(f->hash, r->hash, sizeof(f->hash));
		f->hashed = 1;
	}
	if (r->status != SCAN_UNCHANGED)
		return (0);
	sinc_unchanged(run.sinc, r->path);
	scan_result_free(r);
	return (1);
}

static int
run_absorb(struct scan_result *r)
{
	struct scan_result	**v;
	size_t			  i;

	if (!run.active || r->scan_id != run.scan_id) {
		/* An answer for a scan given up on. */
		scan_result_free(r);
		return (0);
	}
	run.inflight--;
	run_absorb_issues(r);
	if (run.sinc != NULL && run_content(r) == 1)
		return (0);
	if (run.sinc != NULL) {
		/* Diffed now and freed, or kept for its changes. */
		run_perfile_file(r->path, r);
		return (0);
	}
	/* Its stored rows stand; a file never read whole gives what it has. */
	if (run_read_failed(r)) {
		ssize_t	kept = run_keep(r->path);

		if (kept != 0) {
			scan_result_free(r);
			return (kept == -1 ? -1 : 0);
		}
	}
	run_list_file(r);
	if (r->status == SCAN_OK && r->nincludes > 0)
		run_includes(r);
	if (r->status == SCAN_OK)
		for (i = 0; i < r->nitems; i++)
			if (run_item(&r->items[i]) == -1)
				break;
	if (run.nres == run.capres) {
		size_t	nc = run.capres ? run.capres * 2 : 64;

		if ((v = recallocarray(run.res, run.capres, nc,
		    sizeof(*v))) == NULL) {
			scan_result_free(r);
			run.enomem = 1;
			return (-1);
		}
		run.res = v;
		run.capres = nc;
	}
	run.res[run.nres++] = r;
	return (0);
}

/*
 * The child's answer for a file was refused: remember that file so that
 * the scan started again once the child is back does not hand it over
 * again (a child that is made to fail by a file, or that attacks with
 * it, would otherwise do so forever).
 */
static void
run_refused(void)
{
	struct ssurf		*ss = &surf[run.s];
	struct quarantine	*q;
	const char		*why, *path;
	uint32_t		 fid;

	if (!run.active ||
	    (why = scanproto_refusal(proto, &path, &fid)) == NULL)
		return;
	log_warnx("sensor: %s: %s; not read again until it changes", path,
	    why);
	if (fid >= run.capfps || !run.hasfp[fid] ||
	    ss->nquar >= SENSOR_MAX_QUARANTINE)
		return;
	if ((q = reallocarray(ss->quar, ss->nquar + 1, sizeof(*q))) == NULL)
		return;
	ss->quar = q;
	q = &ss->quar[ss->nquar];
	q->fp = run.fps[fid];
	if ((q->path = strdup(path)) == NULL ||
	    (q->why = strdup(why)) == NULL) {
		free(q->path);
		return;
	}
	ss->nquar++;
}

/*
 * Is this file (label, as opened) in quarantine?  Its reason, or NULL;
 * an entry whose file changed since is dropped: the file is read again.
 */
static const char *
run_quarantined(const char *label, const struct stat *st)
{
	struct ssurf	*ss = &surf[run.s];
	struct store_fp	 fp;
	size_t		 i;

	sinc_fp(st, &fp);
	for (i = 0; i < ss->nquar; i++) {
		if (strcmp(ss->quar[i].path, label) != 0)
			continue;
		if (memcmp(&fp, &ss->quar[i].fp, sizeof(fp)) == 0)
			return (ss->quar[i].why);
		free(ss->quar[i].path);
		free(ss->quar[i].why);
		ss->quar[i] = ss->quar[--ss->nquar];
		return (NULL);
	}
	return (NULL);
}

static int
sensor_dispatch(struct kobangd *kd, struct child *c, struct imsg *imsg)
{
	struct scan_result	*r = NULL;
	int			 rc;

	if ((rc = scanproto_dispatch(proto, imsg, &r)) == -1) {
		run_refused();
		return (-1);
	}
	if (rc == 1) {
		if (run_absorb(r) == -1 && run.active) {
			run_fail("out of memory");
			sensor_kick();
			return (0);
		}
		run_pump();
		sensor_kick();
	}
	return (0);
}

/* Sorting the snapshot by id, stable: first of an id wins. */
struct keyed {
	char		*id;
	size_t		 idx;
};

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed	*ka = a, *kb = b;
	int			 c = strcmp(ka->id, kb->id);

	if (c != 0)
		return (c);
	return (ka->idx < kb->idx ? -1 : ka->idx > kb->idx);
}

/*
 * A file changed while it was read: the surface again after the
 * debounce, doubled at each try (per-file surfaces read only the files
 * not read whole), until SENSOR_CHANGED_RETRIES; then the issue stands
 * and a new change starts the count afresh.
 */
static void
run_retry_changed(struct ssurf *ss)
{
	unsigned long long	ms;

	if (run.changed == 0 || ss->changed_tries >= SENSOR_CHANGED_RETRIES) {
		ss->changed_tries = 0;
		return;
	}
	ms = (unsigned long long)run.conf->watch.debounce_milliseconds;
	if (ms < 100)
		ms = 100;
	ms <<= ss->changed_tries;
	if (ms > SENSOR_RETRY_MAX_MS)
		ms = SENSOR_RETRY_MAX_MS;
	ss->changed_tries++;
	log_info("sensor: %s: %zu file%s changed while read; reading again "
	    "in %llu ms (%d of %d)", surface_name(ss->s), run.changed,
	    run.changed == 1 ? "" : "s", ms, ss->changed_tries,
	    SENSOR_CHANGED_RETRIES);
	ev_timer_add(&ss->retry, ms);
}

/*
 * A run committed: the surface is current, this scan's issues stay for
 * kobanctl, and a change that came meanwhile starts the next one.
 */
/* A committed per-file run's walk is kept for the next (struct ssurf). */
static void
run_keep_walk(struct ssurf *ss)
{
	struct lastwalk	*lw;

	lastwalk_free(ss->last);
	ss->last = NULL;
	if (run.sinc == NULL || run.enomem ||
	    (lw = calloc(1, sizeof(*lw))) == NULL)
		return;
	lw->users = run.users;
	lw->disc = run.disc;
	memset(&run.users, 0, sizeof(run.users));
	memset(&run.disc, 0, sizeof(run.disc));
	disc_result_keep(&lw->disc);
	ss->last = lw;
}

/*
 * The run is done: stored is 0 when there was nothing to store (files
 * touched without a change), and nothing was committed.
 */
static void
run_committed(int stored)
{
	struct ssurf	*ss = &surf[run.s];

	if (stored)
		ss->committed_ms = wall_ms();
	if (strcmp(surf_digest[run.s], run.digest) != 0) {
		if (store_meta_set(sensor_store, digest_key(run.s),
		    run.digest) == -1)
			log_warnx("sensor: cannot note the configuration of "
			    "%s", surface_name(run.s));
		else
			strlcpy(surf_digest[run.s], run.digest,
			    sizeof(surf_digest[run.s]));
	}
	issues_free(ss->issues, ss->nissues);
	ss->issues = run.issues;
	ss->nissues = run.nissues;
	ss->total_issues = run.total_issues;
	run.issues = NULL;
	run.nissues = 0;
	ss->scans++;
	ss->deaths = 0;
	ss->held_ms = 0;
	run_retry_changed(ss);
	run_keep_walk(ss);
	run_free();
	if (ss->pending) {
		ss->pending = 0;
		sensor_enqueue(ss->s);
	}
}

/* The commit of a per-file scan (sensor_inc.h): no snapshot in hand. */
/*
 * What every commit of a finished run carries besides its items and
 * changes: times, issues, retention, and the outbox identity.
 */
static void
run_commit_fields(struct store_scan *sc, int64_t completed, int64_t artifact,
    char *msg, size_t msglen)
{
	const struct config	*conf = run.conf;

	sc->completed_ms = completed;
	sc->artifact_ms = artifact;
	sc->duration_ms = (int64_t)(ev_now_ms() - run.start_ms);
	sc->nissues = run.total_issues;
	if (run.total_issues > 0) {
		snprintf(msg, msglen, "%zu issue%s; first: %s: %s",
		    run.total_issues, run.total_issues == 1 ? "" : "s",
		    run.issues[0].path, run.issues[0].reason);
		sc->health_message = msg;
	}
	sc->max_events = conf->persistence.max_stored_events;
	sc->max_findings = conf->persistence.max_stored_findings;
	if (conf->sync.enabled && conf->sync.device_id != NULL) {
		sc->device_id = conf->sync.device_id;
		sc->tenant_id = conf->sync.tenant_id;
	}
}

static void
run_finish_perfile(int64_t completed, int64_t artifact, const char *ts)
{
	struct store_scan		 sc;
	struct store_commit_result	 cr;
	char				 msg[CTL_ERRLEN];
	enum surface			 s = run.s;
	int				 baseline = sinc_is_baseline(run.sinc);

	/* Only files touched without a change: nothing to store. */
	if (run.targets != NULL && !baseline && sinc_nothing(run.sinc) &&
	    run.total_issues == 0) {
		log_info("sensor: %s scan: %zu files read, content as before; "
		    "nothing stored, %llu ms", surface_name(s),
		    sinc_nskipped(run.sinc), ev_now_ms() - run.start_ms);
		run_committed(0);
		return;
	}
	memset(&sc, 0, sizeof(sc));
	sc.surface = s;
	if (sinc_finish(run.sinc, ts, &sc) == -1) {
		run_fail("out of memory or state database error");
		return;
	}
	if (!baseline && run_guard(count_removed(sc.changes, sc.nchanges))) {
		run_held();
		return;
	}
	run_commit_fields(&sc, completed, artifact, msg, sizeof(msg));
	memset(&cr, 0, sizeof(cr));
	if (sinc_commit(run.sinc, &sc, &cr) == -1) {
		run_fail("cannot commit to the state database");
		return;
	}
	log_info("sensor: %s %s: %zu files read, %zu unchanged, %zu kept "
	    "from a failed read, %zu changes, %zu findings, %zu issues, %zu "
	    "outbox rows, %lld ms", surface_name(s),
	    baseline ? "baseline" : "scan", sinc_nread(run.sinc),
	    sinc_nskipped(run.sinc), sinc_nkept(run.sinc),
	    sc.nchanges, cr.nfindings, run.total_issues, cr.noutbox,
	    (long long)sc.duration_ms);
	run_committed(1);
}

static void
run_finish(void)
{
	const struct config	*conf = run.conf;
	struct keyed		*k = NULL;
	struct item		*curr = NULL, *prev = NULL;
	struct change		*changes = NULL;
	struct finding		*cf = NULL, *pf = NULL;
	size_t			 n = 0, nprev = 0, nch = 0, ncf = 0, npf = 0, i;
	struct store_scan	 sc;
	struct store_commit_result cr;
	struct rules_held	 held = { store_held, sensor_store };
	char			 ts[TIMEFMT_BUFSZ], msg[CTL_ERRLEN];
	int64_t			 completed, artifact;
	int			 baselined, guarded = 0;
	enum surface		 s = run.s;
	const char		*fail = NULL;

	completed = wall_ms();
	artifact = wall_ms();
	if (run.enomem) {
		run_fail("out of memory");
		return;
	}
	if (timefmt_ms(artifact, ts) == -1) {
		run_fail("clock out of range");
		return;
	}
	if (run.sinc != NULL) {
		run_finish_perfile(completed, artifact, ts);
		return;
	}
	/* SURFACES.md 0.8: by item id, the first of an id wins. */
	if (run.nitems > 0 &&
	    ((k = calloc(run.nitems, sizeof(*k))) == NULL ||
	    (curr = calloc(run.nitems, sizeof(*curr))) == NULL)) {
		fail = "out of memory";
		goto out;
	}
	for (i = 0; i < run.nitems; i++) {
		k[i].idx = i;
		if ((k[i].id = item_id(&run.items[i])) == NULL) {
			fail = "out of memory";
			goto out;
		}
	}
	if (run.nitems > 0)
		qsort(k, run.nitems, sizeof(*k), keyed_cmp);
	for (i = 0; i < run.nitems; i++)
		if (i == 0 || strcmp(k[i].id, k[i - 1].id) != 0)
			curr[n++] = run.items[k[i].idx];

	if ((baselined = store_baselined(sensor_store, s)) == -1) {
		fail = "state database error";
		goto out;
	}
	if (baselined) {
		if (store_load_snapshot(sensor_store, s, &prev, &nprev) == -1) {
			fail = "state database error";
			goto out;
		}
		if (differ_diff(prev, nprev, curr, n, &changes, &nch) == -1) {
			fail = "out of memory";
			goto out;
		}
		if (run_late_baseline(changes, nch) == -1) {
			fail = "state database error";
			goto out;
		}
		if (run_guard(count_removed(changes, nch))) {
			guarded = 1;
			goto out;
		}
		if (rules_eval_changes(&conf->rules, changes, nch, ts,
		    uuid_random_source(), &cf, &ncf) == -1) {
			fail = "out of memory";
			goto out;
		}
	}
	if (rules_eval_present(&conf->rules, curr, n, cf, ncf, &held, ts,
	    uuid_random_source(), &pf, &npf) == -1) {
		fail = "rule evaluation failed";
		goto out;
	}

	memset(&sc, 0, sizeof(sc));
	sc.surface = s;
	sc.baseline = !baselined;
	sc.items = curr;
	sc.nitems = n;
	sc.changes = changes;
	sc.nchanges = nch;
	sc.change_findings = cf;
	sc.nchange_findings = ncf;
	sc.present_findings = pf;
	sc.npresent_findings = npf;
	sc.files = run.files;
	sc.nfiles = run.nfiles;
	run_commit_fields(&sc, completed, artifact, msg, sizeof(msg));
	memset(&cr, 0, sizeof(cr));
	if (store_commit_scan(sensor_store, &sc, &cr) == -1) {
		fail = "cannot commit to the state database";
		goto out;
	}
	log_info("sensor: %s %s: %zu items, %zu changes, %zu findings, "
	    "%zu issues, %zu outbox rows, %lld ms", surface_name(s),
	    baselined ? "scan" : "baseline", n, nch, cr.nfindings,
	    run.total_issues, cr.noutbox, (long long)sc.duration_ms);

 out:
	if (k != NULL)
		for (i = 0; i < run.nitems; i++)
			free(k[i].id);
	free(k);
	free(curr);
	free(changes);
	rules_findings_free(cf, ncf);
	rules_findings_free(pf, npf);
	if (prev != NULL)
		store_items_free(prev, nprev);
	if (fail != NULL) {
		run_fail(fail);
		return;
	}
	if (guarded) {
		run_held();
		return;
	}
	run_committed(1);
}

static void
sensor_kick(void)
{
	enum surface	s;

	while (!run.active && nrunq > 0 && scan_child_ready()) {
		s = runq[0];
		memmove(&runq[0], &runq[1], (nrunq - 1) * sizeof(runq[0]));
		nrunq--;
		surf[s].queued = 0;
		run_start(s);
	}
}

/* Life cycle */

static const char *
digest_key(enum surface s)
{
	static char	key[64];

	snprintf(key, sizeof(key), "sensor.readUnder.%s", surface_name(s));
	return (key);
}

/* conf_digest: SHA-256 of the version and the canonical configuration. */
static void
sensor_digest(const struct config *conf)
{
	struct jsonw		 w;
	struct sha256_ctx	 h;
	const char		*js;
	size_t			 len;

	conf_digest[0] = '\0';
	jsonw_init(&w, 0);
	if (config_to_json(conf, &w) == 0 &&
	    (js = jsonw_result(&w, &len)) != NULL &&
	    sha256_init(&h) == 0) {
		if (sha256_update(&h, KOBANGD_VERSION "\n",
		    sizeof(KOBANGD_VERSION)) == -1 ||
		    sha256_update(&h, js, len) == -1 ||
		    sha256_final_hex(&h, conf_digest) == -1)
			conf_digest[0] = '\0';	/* trusts nothing */
	}
	jsonw_free(&w);
}

/*
 * At start: the parsers (the version) and the configuration (rules,
 * paths, options) may have changed while kobangd was stopped.  A
 * surface whose last commit was read under the same ones trusts its
 * stored fingerprints: a file whose device, inode, size, modification
 * and change times are what they were is not read again.  (A file
 * replaced or rewritten while kobangd was stopped has another change
 * time, which no one can set back, and usually another inode.)
 */
static void
sensor_trust_fingerprints(const struct config *conf)
{
	int	s;

	sensor_digest(conf);
	for (s = 0; s < SURFACE_COUNT; s++) {
		if (store_meta_get(sensor_store, digest_key(s), surf_digest[s],
		    sizeof(surf_digest[s])) != 1)
			surf_digest[s][0] = '\0';
		if (conf_digest[0] != '\0' &&
		    strcmp(surf_digest[s], conf_digest) == 0)
			surf[s].full = 0;
		else
			log_debug("sensor: %s read in full at start: read "
			    "under another version or configuration",
			    surface_name(s));
	}
}

void
sensor_init(struct kobangd *kd)
{
	const struct config	*conf = kd->conf;
	int			 s;

	sensor_kd = kd;
	memset(&run, 0, sizeof(run));
	ev_timer_init(&run.timeout, NULL, NULL);
	if ((proto = scanproto_new()) == NULL)
		fatal("sensor");
	kd->children[CHILD_SCAN].dispatch = sensor_dispatch;
	for (s = 0; s < SURFACE_COUNT; s++) {
		surf[s].s = (enum surface)s;
		surf[s].implemented = surface_implemented((enum surface)s);
		surf[s].enabled = surface_enabled(conf, (enum surface)s);
		ev_timer_init(&surf[s].debounce, sensor_debounced, &surf[s]);
		ev_timer_init(&surf[s].retry, sensor_retry, &surf[s]);
		/* Until the store says what its items were read under. */
		surf[s].full = 1;
	}
	if ((sensor_store = store_open(conf->kobangd.state_directory,
	    store_error, sizeof(store_error))) == NULL) {
		/* SURFACES.md 11: surfaced, and monitoring is disabled. */
		log_warnx("state database: %s; monitoring is disabled",
		    store_error);
		return;
	}
	if (store_rebuilt(sensor_store))
		log_warnx("state database %s was corrupt and has been "
		    "rebuilt; the next scans are baselines",
		    store_path(sensor_store));
	sensor_trust_fingerprints(conf);
	if (watch_init(sensor_watch_hit, NULL) == -1)
		log_warnx("no file watcher: relying on the poll every %lld s",
		    conf->watch.poll_interval_seconds);
	homesignal_apply(conf, sensor_collecting());
	ev_timer_init(&poll_timer, sensor_poll, NULL);
	ev_timer_add(&poll_timer,
	    (unsigned long long)conf->watch.poll_interval_seconds * 1000);
	/* Prime every surface: baseline or catch-up diff. */
	for (s = 0; s < SURFACE_COUNT; s++)
		sensor_enqueue((enum surface)s);
}

void
sensor_child_restarted(struct kobangd *kd)
{
	if (proto == NULL)
		return;
	scanproto_reset(proto);
	if (run.active)
		run_lost();
	sensor_kick();
}

/*
 * A reload replaced kd->conf; old was the configuration until now and is
 * ours to free.  A scan under way finishes on the configuration it
 * started with.  Every surface is scanned again in full, as at start:
 * the rules, the paths or the surfaces themselves may have changed, and
 * "present" rules must see the whole inventory under the new rules.
 */
void
sensor_reconfigure(struct kobangd *kd, struct config *old)
{
	int	s, was;

	if (run.active && run.conf == old) {
		/* At most one is pending: the run started on the one before. */
		if (retired_conf != NULL)
			fatalx("sensor: two retired configurations");
		retired_conf = old;
	} else {
		config_free(old);
		free(old);
	}
	if (proto == NULL)
		return;
	sensor_digest(kd->conf);
	for (s = 0; s < SURFACE_COUNT; s++) {
		was = surf[s].enabled;
		surf[s].enabled = surface_enabled(kd->conf, (enum surface)s);
		if (was && !surf[s].enabled) {
			ev_timer_del(&surf[s].debounce);
			watch_clear((enum surface)s);
			log_info("sensor: %s disabled", surface_name(s));
		}
		surf[s].deaths = 0;
		surf[s].full = 1;
	}
	if (sensor_store == NULL)
		return;
	/* The engine starts again: so does the home signal scan. */
	homesignal_apply(kd->conf, sensor_collecting());
	ev_timer_add(&poll_timer,
	    (unsigned long long)kd->conf->watch.poll_interval_seconds * 1000);
	for (s = 0; s < SURFACE_COUNT; s++)
		sensor_enqueue((enum surface)s);
}

void
sensor_shutdown(struct kobangd *kd)
{
	int	s;

	if (run.active)
		run_free();
	if (retired_conf != NULL) {
		config_free(retired_conf);
		free(retired_conf);
		retired_conf = NULL;
	}
	homesignal_shutdown();
	watch_shutdown();
	ev_timer_del(&poll_timer);
	for (s = 0; s < SURFACE_COUNT; s++) {
		ev_timer_del(&surf[s].debounce);
		lastwalk_free(surf[s].last);
		surf[s].last = NULL;
		dirty_clear(&surf[s]);
		issues_free(surf[s].issues, surf[s].nissues);
		surf[s].issues = NULL;
		surf[s].nissues = 0;
	}
	scanproto_free(proto);
	proto = NULL;
	store_close(sensor_store);
	sensor_store = NULL;
}

/* kobanctl */

struct ctlq {
	struct imsgbuf	*ibuf;
	const char	*home;		/* NULL: everything */
};

static struct ctlrec	rec;

/* Write what is queued, waiting at most SENSOR_CTL_WAIT_MS. */
static int
ctl_flush(struct imsgbuf *ibuf)
{
	struct pollfd		pfd;
	unsigned long long	deadline = ev_now_ms() + SENSOR_CTL_WAIT_MS, now;

	while (imsgbuf_queuelen(ibuf) > 0) {
		if (imsgbuf_write(ibuf) == -1)
			return (-1);
		if (imsgbuf_queuelen(ibuf) == 0)
			break;
		if ((now = ev_now_ms()) >= deadline) {
			errno = ETIMEDOUT;
			return (-1);
		}
		pfd.fd = ibuf->fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)(deadline - now)) == -1 &&
		    errno != EINTR)
			return (-1);
	}
	return (0);
}

/* Queue one reply; a long reply is pushed out as it grows. */
static int
ctl_compose(struct ctlq *q, uint32_t type, const void *p, size_t len)
{
	if (imsg_compose(q->ibuf, type, 0, 0, -1, p, len) == -1)
		return (-1);
	if (imsgbuf_queuelen(q->ibuf) >= SENSOR_CTL_FLUSH &&
	    ctl_flush(q->ibuf) == -1)
		return (-1);
	return (0);
}

static int
ctl_rec_send(struct ctlq *q, uint32_t type, size_t trunc_off)
{
	uint32_t	t = (uint32_t)rec.truncated;

	if (rec.overflow)
		return (-1);
	memcpy(rec.buf + trunc_off, &t, sizeof(t));
	return (ctl_compose(q, type, rec.buf, rec.len));
}

static int
ctl_item_cb(void *arg, const struct item *it, const char *id, int64_t stale_ms)
{
	struct ctl_item_hdr	h;

	memset(&h, 0, sizeof(h));
	h.stale_ms = stale_ms;
	h.surface = it->surface;
	h.kind = it->kind;
	h.ior = it->installed_on_request;
	ctlrec_init(&rec, &h, sizeof(h));
	ctlrec_str(&rec, it->name, CTL_STR_NAME);
	ctlrec_str(&rec, it->version, CTL_STR_VERSION);
	ctlrec_str(&rec, it->path, CTL_STR_PATH);
	ctlrec_str(&rec, it->origin, CTL_STR_TEXT);
	ctlrec_str(&rec, it->detail, CTL_STR_TEXT);
	ctlrec_str(&rec, id, CTL_STR_TEXT);
	return (ctl_rec_send(arg, IMSG_CTL_ITEM,
	    offsetof(struct ctl_item_hdr, truncated)));
}

static int
ctl_event_cb(void *arg, const struct store_event *ev)
{
	struct ctl_event_hdr	h;

	memset(&h, 0, sizeof(h));
	h.id = ev->id;
	h.ts_ms = ev->ts_ms;
	h.surface = ev->surface;
	h.kind = ev->kind;
	h.item_kind = ev->item_kind;
	ctlrec_init(&rec, &h, sizeof(h));
	ctlrec_str(&rec, ev->item_id, CTL_STR_TEXT);
	ctlrec_str(&rec, ev->name, CTL_STR_NAME);
	ctlrec_str(&rec, ev->path, CTL_STR_PATH);
	ctlrec_str(&rec, ev->old_version, CTL_STR_VERSION);
	ctlrec_str(&rec, ev->new_version, CTL_STR_VERSION);
	ctlrec_str(&rec, ev->detail, CTL_STR_TEXT);
	return (ctl_rec_send(arg, IMSG_CTL_EVENT,
	    offsetof(struct ctl_event_hdr, truncated)));
}

static int
ctl_finding_cb(void *arg, const struct finding *f)
{
	struct ctl_finding_hdr	h;

	memset(&h, 0, sizeof(h));
	h.surface = f->surface;
	h.severity = f->severity;
	ctlrec_init(&rec, &h, sizeof(h));
	ctlrec_str(&rec, f->id, CTL_STR_TEXT);
	ctlrec_str(&rec, f->timestamp, CTL_STR_TEXT);
	ctlrec_str(&rec, f->item_id, CTL_STR_TEXT);
	ctlrec_str(&rec, f->rule_id, CTL_STR_TEXT);
	ctlrec_str(&rec, f->title, CTL_STR_TEXT);
	ctlrec_str(&rec, f->rationale, CTL_STR_TEXT);
	ctlrec_str(&rec, f->item_name, CTL_STR_NAME);
	ctlrec_str(&rec, f->evidence_path, CTL_STR_PATH);
	ctlrec_str(&rec, f->evidence_detail, CTL_STR_TEXT);
	ctlrec_str(&rec, f->matched_field, CTL_STR_TEXT);
	ctlrec_str(&rec, f->matched_value, CTL_STR_TEXT);
	return (ctl_rec_send(arg, IMSG_CTL_FINDING,
	    offsetof(struct ctl_finding_hdr, truncated)));
}

static int
path_under(const char *path, const char *home)
{
	size_t	l = strlen(home);

	return (strncmp(path, home, l) == 0 &&
	    (path[l] == '/' || path[l] == '\0'));
}

/* One surface's health record and its issues. */
static int
ctl_surface(struct ctlq *q, enum surface s,
    const struct store_surface_stats *stats)
{
	struct ssurf		*ss = &surf[s];
	struct ctl_surface	 cs;
	struct ctl_issue_hdr	 ih;
	struct watch_health	 wh;
	size_t			 i;

	memset(&cs, 0, sizeof(cs));
	cs.surface = s;
	cs.scans = ss->scans;
	cs.committed_ms = ss->committed_ms;
	if (stats != NULL) {
		cs.last_scan_ms = stats->last_scan_ms;
		cs.duration_ms = stats->duration_ms;
		cs.items = stats->items;
		cs.issues = stats->issues;
		cs.baselined = stats->baselined;
	}
	if (!ss->implemented) {
		cs.health = CTL_HEALTH_NOT_IMPLEMENTED;
		strlcpy(cs.message, "not implemented yet", sizeof(cs.message));
	} else if (!ss->enabled) {
		cs.health = CTL_HEALTH_DISABLED;
		strlcpy(cs.message, "disabled in the configuration",
		    sizeof(cs.message));
	} else if (sensor_store == NULL) {
		cs.health = CTL_HEALTH_DISABLED;
		snprintf(cs.message, sizeof(cs.message), "state database: %s",
		    store_error);
	} else {
		watch_get_health(s, &wh);
		cs.watch_degraded = wh.degraded;
		cs.watch_dirs = (uint32_t)wh.ndirs;
		strlcpy(cs.watch_message, wh.message, sizeof(cs.watch_message));
		if (stats == NULL || !stats->scanned)
			cs.health = CTL_HEALTH_NEVER_SCANNED;
		else if (stats->degraded || wh.degraded)
			cs.health = CTL_HEALTH_DEGRADED;
		else
			cs.health = CTL_HEALTH_OK;
		if (stats != NULL && stats->message != NULL) {
			/* Another user's paths are not for this caller. */
			if (q->home == NULL)
				strlcpy(cs.message, stats->message,
				    sizeof(cs.message));
			else
				snprintf(cs.message, sizeof(cs.message),
				    "%llu issues",
				    (unsigned long long)stats->issues);
		}
	}
	if (ctl_compose(q, IMSG_CTL_SURFACE, &cs, sizeof(cs)) == -1)
		return (-1);
	for (i = 0; i < ss->nissues; i++) {
		if (q->home != NULL && !path_under(ss->issues[i].path, q->home))
			continue;
		ih.surface = s;
		ctlrec_init(&rec, &ih, sizeof(ih));
		ctlrec_str(&rec, ss->issues[i].path, CTL_STR_PATH);
		ctlrec_str(&rec, ss->issues[i].reason, CTL_STR_TEXT);
		if (rec.overflow ||
		    ctl_compose(q, IMSG_CTL_SURFACE_ISSUE, rec.buf,
		    rec.len) == -1)
			return (-1);
	}
	return (0);
}

static int
ctl_surface_cb(void *arg, const struct store_surface_stats *st)
{
	if (st->surface < 0 || st->surface >= SURFACE_COUNT)
		return (0);
	return (ctl_surface(arg, st->surface, st));
}

/* A caller's own home, without a trailing slash; NULL if unusable. */
static char *
ctl_home(uid_t uid, const char *name)
{
	struct passwd	*pw;
	char		*h;
	size_t		 l;

	pw = name != NULL ? getpwnam(name) : getpwuid(uid);
	if (pw == NULL || pw->pw_dir == NULL || pw->pw_dir[0] != '/' ||
	    (h = strdup(pw->pw_dir)) == NULL)
		return (NULL);
	l = strlen(h);
	while (l > 1 && h[l - 1] == '/')
		h[--l] = '\0';
	if (strcmp(h, "/") == 0) {
		free(h);
		return (NULL);
	}
	return (h);
}

int
sensor_ctl(struct kobangd *kd, struct imsgbuf *ibuf, uid_t uid,
    struct imsg *imsg, char *err, size_t errlen)
{
	struct ctl_show_inventory	 inv;
	struct ctl_show_findings	 sf;
	struct ctl_scan			 sc;
	struct ctl_scan_queued		 q;
	struct ctlq			 cq;
	struct passwd			*pw;
	char				*home = NULL, *uhome = NULL;
	int				 rc = -1, s;

	memset(&cq, 0, sizeof(cq));
	cq.ibuf = ibuf;
	/* A caller who is not root sees what lies in their own home. */
	if (uid != 0) {
		if ((home = ctl_home(uid, NULL)) == NULL) {
			snprintf(err, errlen, "permission denied: uid %d has "
			    "no usable home directory", (int)uid);
			return (-1);
		}
		cq.home = home;
	}
	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_SHOW_INVENTORY:
		if (imsg_get_data(imsg, &inv, sizeof(inv)) == -1 ||
		    inv.user[sizeof(inv.user) - 1] != '\0' ||
		    (inv.surface != CTL_ALL &&
		    (inv.surface < 0 || inv.surface >= SURFACE_COUNT))) {
			snprintf(err, errlen, "malformed request");
			goto out;
		}
		if (inv.user[0] != '\0') {
			if ((pw = getpwnam(inv.user)) == NULL) {
				snprintf(err, errlen, "no such user: %s",
				    inv.user);
				goto out;
			}
			if (uid != 0 && pw->pw_uid != uid) {
				snprintf(err, errlen, "permission denied: "
				    "only your own inventory");
				goto out;
			}
			if (uid == 0) {
				if ((uhome = ctl_home(0, inv.user)) == NULL) {
					snprintf(err, errlen, "user %s has no "
					    "usable home directory", inv.user);
					goto out;
				}
				cq.home = uhome;
			}
		}
		if (sensor_store == NULL)
			break;
		if (store_query_inventory(sensor_store, inv.surface, cq.home,
		    ctl_item_cb, &cq) == -1) {
			snprintf(err, errlen, "cannot read the inventory");
			goto out;
		}
		break;
	case IMSG_CTL_SHOW_EVENTS:
		if (imsg_get_len(imsg) != 0) {
			snprintf(err, errlen, "malformed request");
			goto out;
		}
		if (sensor_store != NULL && store_query_events(sensor_store, 0,
		    cq.home, ctl_event_cb, &cq) == -1) {
			snprintf(err, errlen, "cannot read the events");
			goto out;
		}
		break;
	case IMSG_CTL_SHOW_FINDINGS:
		if (imsg_get_data(imsg, &sf, sizeof(sf)) == -1 ||
		    (sf.min_severity != CTL_ALL && (sf.min_severity < 0 ||
		    sf.min_severity >= SEVERITY_COUNT))) {
			snprintf(err, errlen, "malformed request");
			goto out;
		}
		if (sensor_store != NULL && store_query_findings(sensor_store,
		    sf.min_severity, cq.home, 0, ctl_finding_cb, &cq) == -1) {
			snprintf(err, errlen, "cannot read the findings");
			goto out;
		}
		break;
	case IMSG_CTL_SHOW_SURFACES:
		if (imsg_get_len(imsg) != 0) {
			snprintf(err, errlen, "malformed request");
			goto out;
		}
		if (sensor_store == NULL) {
			for (s = 0; s < SURFACE_COUNT; s++)
				if (ctl_surface(&cq, (enum surface)s,
				    NULL) == -1) {
					snprintf(err, errlen, "reply failed");
					goto out;
				}
		} else if (store_query_surfaces(sensor_store, ctl_surface_cb,
		    &cq) == -1) {
			snprintf(err, errlen, "cannot read the surfaces");
			goto out;
		}
		break;
	case IMSG_CTL_SCAN:
		if (imsg_get_data(imsg, &sc, sizeof(sc)) == -1 ||
		    (sc.surface != CTL_ALL && (sc.surface < 0 ||
		    sc.surface >= SURFACE_COUNT))) {
			snprintf(err, errlen, "malformed request");
			goto out;
		}
		if (uid != 0) {
			snprintf(err, errlen, "permission denied: root only");
			goto out;
		}
		if (sensor_store == NULL) {
			snprintf(err, errlen, "monitoring is disabled: %s",
			    store_error);
			goto out;
		}
		if (sc.surface != CTL_ALL && !surf[sc.surface].implemented) {
			snprintf(err, errlen, "%s is not implemented yet",
			    surface_name(sc.surface));
			goto out;
		}
		if (sc.surface != CTL_ALL && !surf[sc.surface].enabled) {
			snprintf(err, errlen, "%s is disabled in the "
			    "configuration", surface_name(sc.surface));
			goto out;
		}
		memset(&q, 0, sizeof(q));
		q.surfaces = (uint32_t)sensor_scan_now(kd, sc.surface);
		if (ctl_compose(&cq, IMSG_CTL_SCAN_QUEUED, &q,
		    sizeof(q)) == -1) {
			snprintf(err, errlen, "reply failed");
			goto out;
		}
		break;
	default:
		snprintf(err, errlen, "unknown request");
		goto out;
	}
	if (ctl_compose(&cq, IMSG_CTL_END, NULL, 0) == -1) {
		snprintf(err, errlen, "reply failed");
		goto out;
	}
	rc = 0;
 out:
	free(home);
	free(uhome);
	return (rc);
}

struct store *
sensor_store_handle(void)
{
	return (sensor_store);
}
