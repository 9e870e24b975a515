/*
 * The control protocol between kobanctl and kobangd: imsg framing over
 * the UNIX control socket.  Every type is in privsep/PROTOCOL.md.
 */
#ifndef KOBANG_CTL_H
#define KOBANG_CTL_H

#include <stdint.h>

/* Bumped on any incompatible change of the messages below. */
#define CTL_PROTOCOL_VERSION	2	/* 2: ctl_status_proc.absent */
#define CTL_NAMELEN		16
#define CTL_VERSIONLEN		32
#define CTL_ERRLEN		256
#define CTL_ABSENTLEN		128

enum ctl_imsg_type {
	IMSG_CTL_HELLO = 1000,		/* both ways, first: struct ctl_hello */
	IMSG_CTL_ERROR,			/* daemon -> ctl: NUL-terminated text */
	IMSG_CTL_END,			/* daemon -> ctl: end of a reply */
	IMSG_CTL_SHOW_STATUS,		/* ctl -> daemon: no payload */
	IMSG_CTL_STATUS,		/* daemon -> ctl: struct ctl_status */
	IMSG_CTL_STATUS_PROC,		/* daemon -> ctl: struct ctl_status_proc */
	/* The sensor (kobangd/sensor.c); records are common/ctlrec.h. */
	IMSG_CTL_SHOW_INVENTORY,	/* ctl -> daemon: struct ctl_show_inventory */
	IMSG_CTL_SHOW_EVENTS,		/* ctl -> daemon: no payload */
	IMSG_CTL_SHOW_FINDINGS,		/* ctl -> daemon: struct ctl_show_findings */
	IMSG_CTL_SHOW_SURFACES,		/* ctl -> daemon: no payload */
	IMSG_CTL_SCAN,			/* ctl -> daemon: struct ctl_scan */
	IMSG_CTL_ITEM,			/* daemon -> ctl: ctl_item_hdr + 6 strings */
	IMSG_CTL_EVENT,			/* daemon -> ctl: ctl_event_hdr + 6 strings */
	IMSG_CTL_FINDING,		/* daemon -> ctl: ctl_finding_hdr + 11 strings */
	IMSG_CTL_SURFACE,		/* daemon -> ctl: struct ctl_surface */
	IMSG_CTL_SURFACE_ISSUE,		/* daemon -> ctl: ctl_issue_hdr + 2 strings */
	IMSG_CTL_SCAN_QUEUED,		/* daemon -> ctl: struct ctl_scan_queued */
	/* Identity and enrollment (kobangd/enroll.c). */
	IMSG_CTL_ENROLL,		/* ctl -> daemon: the token, a string */
	IMSG_CTL_CHECKIN,		/* ctl -> daemon: no payload */
	IMSG_CTL_SHOW_IDENTITY,		/* ctl -> daemon: no payload */
	IMSG_CTL_IDENTITY,		/* daemon -> ctl: struct ctl_identity */
	/* The sync round (kobangd/sync.c). */
	IMSG_CTL_SHOW_SYNC,		/* ctl -> daemon: no payload */
	IMSG_CTL_SYNC,			/* ctl -> daemon: no payload, root */
	IMSG_CTL_SYNC_STATE,		/* daemon -> ctl: struct ctl_sync */
	/* The configuration (kobangd/reload.c). */
	IMSG_CTL_RELOAD,		/* ctl -> daemon: no payload, root */
};

struct ctl_hello {
	uint32_t	protocol;	/* CTL_PROTOCOL_VERSION */
	char		version[CTL_VERSIONLEN];	/* daemon's version */
};

struct ctl_status {
	char		version[CTL_VERSIONLEN];
	int32_t		pid;
	int64_t		uptime;		/* seconds */
	int32_t		nprocs;		/* STATUS_PROC messages that follow */
	/* The configuration in force and the reloads (kobangd/reload.c). */
	char		config_file[CTL_ERRLEN];	/* or "built-in defaults" */
	int64_t		config_loaded;	/* since the epoch */
	uint32_t	config_reloads;	/* applied since start */
	uint32_t	config_refused;	/* refused since start */
	int64_t		config_refused_at;	/* last refusal, 0: none */
	char		config_error[CTL_ERRLEN];	/* its message */
};

/* Sandbox layers in force in one process, as read back, never assumed. */
struct ctl_status_proc {
	char		name[CTL_NAMELEN];
	int32_t		pid;		/* 0: not running */
	int32_t		uid;		/* -1: unknown */
	uint32_t	restarts;
	int32_t		no_new_privs;	/* 1, 0, or -1 unknown */
	int32_t		landlock_abi;	/* 0: not applied */
	int32_t		landlock_selftest;	/* 1 passed, 0 not run, -1 failed */
	int32_t		seccomp;	/* 1 filter loaded, 0 none, -1 unknown */
	int64_t		up_since;	/* seconds of uptime, 0 when down */
	/* The memory watch (kobangd/selflimits.c). */
	uint64_t	rss_kb;		/* last VmRSS seen, 0: not yet */
	uint64_t	mem_cap_kb;	/* 0: not watched */
	uint32_t	mem_restarts;	/* killed over the cap */
	/* Not running by design (net, dns: sync off): why; else "". */
	char		absent[CTL_ABSENTLEN];
};

/* The sensor's requests and replies. */
#define CTL_USERLEN		33	/* a user name and its NUL */
#define CTL_ALL			(-1)	/* every surface, every severity */

struct ctl_show_inventory {
	int32_t		surface;	/* enum surface or CTL_ALL */
	char		user[CTL_USERLEN];	/* "" or a user's name */
};

struct ctl_show_findings {
	int32_t		min_severity;	/* enum severity or CTL_ALL */
};

struct ctl_scan {
	int32_t		surface;	/* enum surface or CTL_ALL */
};

struct ctl_scan_queued {
	uint32_t	surfaces;	/* bit per surface queued */
};

/* String caps in replies (bytes, no NUL). */
#define CTL_STR_NAME		4096
#define CTL_STR_VERSION		1024
#define CTL_STR_PATH		4096
#define CTL_STR_TEXT		4096	/* origin, detail, ids, titles */

/* + name, version, path, origin, detail, item id */
struct ctl_item_hdr {
	int64_t		stale_ms;	/* its file's read failed since; 0 */
	uint32_t	surface;
	uint32_t	kind;		/* enum item_kind */
	int32_t		ior;		/* 0, 1, -1 nil */
	uint32_t	truncated;	/* strings cut to fit */
};

/* + item id, name, path, old version, new version, detail */
struct ctl_event_hdr {
	int64_t		id;
	int64_t		ts_ms;
	uint32_t	surface;
	uint32_t	kind;		/* enum change_kind */
	uint32_t	item_kind;
	uint32_t	truncated;
};

/*
 * + id, timestamp, item id, rule id, title, rationale, item name,
 * evidence path, evidence detail, matched field, matched value
 */
struct ctl_finding_hdr {
	uint32_t	surface;
	uint32_t	severity;
	uint32_t	truncated;
};

enum ctl_health {
	CTL_HEALTH_OK,
	CTL_HEALTH_DEGRADED,
	CTL_HEALTH_DISABLED,
	CTL_HEALTH_NEVER_SCANNED,
	CTL_HEALTH_NOT_IMPLEMENTED,
	CTL_HEALTH_COUNT
};

/* Health of one surface. */
struct ctl_surface {
	uint32_t	surface;
	uint32_t	health;		/* enum ctl_health */
	int64_t		last_scan_ms;	/* 0: never */
	int64_t		duration_ms;
	int64_t		committed_ms;	/* wall clock after the last commit */
	uint64_t	items;
	uint64_t	issues;
	uint64_t	scans;		/* since start */
	int32_t		baselined;
	int32_t		watch_degraded;
	uint32_t	watch_dirs;
	char		message[CTL_ERRLEN];	/* scan health text */
	char		watch_message[160];
};

/* + path, reason; follows its IMSG_CTL_SURFACE */
struct ctl_issue_hdr {
	uint32_t	surface;
};

/* The device identity: public facts only, never a key or token. */
#define CTL_TOKEN_MAX		4096	/* an enrollment token, bytes */
#define CTL_IDLEN		257	/* tenant and device ids, NUL included */
#define CTL_STRLEN		257
#define CTL_KEYLEN		512	/* key store location, trouble */

enum ctl_enroll_state {
	CTL_ENROLL_OFF,			/* sync disabled or unusable */
	CTL_ENROLL_IDLE,		/* nothing to do, or no token */
	CTL_ENROLL_RUNNING,		/* an attempt is under way */
	CTL_ENROLL_RETRY,		/* failed; the next attempt is timed */
	CTL_ENROLL_REFUSED,		/* failed for good; a new token helps */
	CTL_ENROLL_DONE			/* the last attempt enrolled */
};

struct ctl_identity {
	int32_t		sync;		/* 1: sync on and configured */
	int32_t		enrolled;
	int32_t		key;		/* a device key exists */
	int32_t		state;		/* enum ctl_enroll_state */
	uint32_t	attempts;	/* finished enrollment attempts */
	int32_t		checkin_ok;	/* last check-in: 1 ok, 0 failed */
	uint32_t	checkins;	/* finished check-ins */
	int64_t		retry_in;	/* seconds to the next attempt, or 0 */
	int64_t		not_after;	/* certificate, seconds since epoch */
	int64_t		checkin_time;	/* last check-in, 0: none yet */
	char		endpoint[CTL_STRLEN];	/* host:port */
	char		auth[16];	/* "certificate", "sensor token", "none" */
	char		tenant[CTL_IDLEN];
	char		device[CTL_IDLEN];
	char		fingerprint[65];	/* SHA-256 of the SPKI DER, hex */
	char		subject[CTL_STRLEN];
	char		issuer[CTL_STRLEN];
	char		expires_at[CTL_STRLEN];	/* certificateExpiresAt */
	char		generation[CTL_STRLEN];	/* config generation */
	char		error[CTL_ERRLEN];	/* of the last attempt */
	char		checkin[CTL_ERRLEN];	/* last check-in's outcome */
	uint32_t	checkin_failures;	/* failed check-ins in a row */
	/* Where the device key lives (kobangd/keystore.h). */
	int64_t		key_error_since;	/* 0: no trouble */
	char		key_store[16];		/* file, tpm, keychain */
	char		key_where[CTL_KEYLEN];	/* file, blob, handle */
	char		key_error[CTL_KEYLEN];	/* the store's trouble */
};

/* kobanctl show sync.  Times are seconds; -1: none or not applicable. */
struct ctl_sync {
	int32_t		active;		/* sync on and configured */
	int32_t		enrolled;
	int32_t		running;	/* a sync request is out */
	int32_t		checkin_ok;	/* last check-in: 1 ok, 0 failed */
	int32_t		sync_ok;	/* last sync: 1 ok, 0 failed */
	uint32_t	syncs;		/* finished sync requests */
	uint32_t	failures;	/* sync failures in a row */
	uint32_t	checkins;	/* finished check-ins */
	int64_t		checkin_time;	/* since the epoch, 0: none yet */
	int64_t		sync_time;	/* since the epoch, 0: none yet */
	int64_t		max_bytes;	/* effective batch limits */
	int64_t		max_events;
	int64_t		next_round_in;	/* to the next request */
	int64_t		next_due_in;	/* to the first pending row's turn */
	int64_t		oldest_pending_age;
	uint64_t	backlog_events;	/* pending + in flight */
	uint64_t	backlog_bytes;
	uint64_t	pending;
	uint64_t	inflight;
	uint64_t	acked;
	uint64_t	poison;
	uint64_t	dropped;	/* outboxMaxBytes drops */
	uint64_t	dropped_inventory;	/* of them, inventory events */
	uint64_t	dropped_findings;	/* and findings */
	uint64_t	pruned_acked;	/* delivered rows removed for room */
	uint64_t	outbox_bytes;	/* payload bytes of every stored row */
	int64_t		outbox_max_bytes;	/* the cap in force, 0: none */
	char		device[CTL_IDLEN];
	char		generation[CTL_STRLEN];	/* config generation */
	char		checkin[CTL_ERRLEN];	/* last check-in's outcome */
	char		sync[CTL_ERRLEN];	/* last sync's outcome */
	char		poison_reason[CTL_ERRLEN];	/* last quarantine */
	/* The remote configuration (kobangd/rconfig.c). */
	char		config_applied[CTL_STRLEN];	/* bundle's generation */
	char		config_result[CTL_ERRLEN];	/* last request's outcome */
	uint32_t	config_fetches;	/* finished config requests */
	uint32_t	config_rejected;	/* bundles that failed validation */
	int64_t		config_time;	/* last request, 0: none yet */
	/* The egress proxy (kobangd/transport.c), without credentials. */
	char		proxy[CTL_ERRLEN];
};

#endif
