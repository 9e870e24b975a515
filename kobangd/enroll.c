/*
 * Enrollment, the stored identity and check-in (see enroll.h).
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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
#include "sync.h"
#include "event.h"
#include "jsonw.h"
#include "keystore.h"
#include "kobangd.h"
#include "log.h"
#include "rconfig.h"
#include "rootfile.h"
#include "proto.h"
#include "transport.h"

enum token_source {
	TOK_NONE,
	TOK_CTL,
	TOK_FILE,
	TOK_CONFIG
};

struct pending {
	struct proto_enroll_resp r;
	uint8_t			*der;
	size_t			 derlen;
};

static struct {
	struct kobangd		*kd;
	int			 active;
	struct keystore		*ks;
	int			 enrolled;
	struct proto_state	 st;
	enum ctl_enroll_state	 state;
	uint32_t		 attempts;
	unsigned int		 failures;	/* in a row, for the backoff */
	char			 error[CTL_ERRLEN];
	char			*ctl_token;	/* from kobanctl, secret */
	size_t			 ctl_token_len;
	int			 stored_refused;	/* file/config token */
	struct ev_timer		 retry;
	unsigned long long	 retry_at;	/* monotonic ms */
	struct pending		 pend;
	int			 checkin_running;
	int			 checkin_ok;
	uint32_t		 checkins;
	uint32_t		 checkin_failures;	/* in a row */
	int			 store_refused;	/* keyStore vs the key */
	int64_t			 checkin_time;
	char			 checkin[CTL_ERRLEN];
} en;

static void	enroll_attempt(void);
static void	checkin_start(void);
static void	pending_free(void);

static void
en_fail(enum ctl_enroll_state st, const char *fmt, ...)
    __attribute__((__format__ (printf, 2, 3)));

/* Record why the attempt failed; the caller decides what comes next. */
static void
en_fail(enum ctl_enroll_state st, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(en.error, sizeof(en.error), fmt, ap);
	va_end(ap);
	en.state = st;
	en.attempts++;
}

static void
forget_ctl_token(void)
{
	if (en.ctl_token != NULL)
		freezero(en.ctl_token, en.ctl_token_len);
	en.ctl_token = NULL;
	en.ctl_token_len = 0;
}

/* After enrolling, no copy of any token stays in memory. */
static void
forget_tokens(void)
{
	struct config_sync	*sc = &en.kd->conf->sync;

	forget_ctl_token();
	if (sc->enrollment_token != NULL) {
		freezero(sc->enrollment_token, strlen(sc->enrollment_token));
		sc->enrollment_token = NULL;
	}
}

/* A token: 1..CTL_TOKEN_MAX bytes of visible ASCII or UTF-8, no space. */
static int
token_valid(const char *t, size_t len)
{
	size_t	i;

	if (len == 0 || len > CTL_TOKEN_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if ((unsigned char)t[i] <= 0x20 || t[i] == 0x7f)
			return (0);
	return (1);
}

/*
 * The token file: regular, root's, no access for group or others, one
 * line.  The buffer is malloc'ed (freezero it).  -1 with a message.
 */
static int
token_from_file(const char *path, char **tokp, size_t *lenp, char *err,
    size_t errlen)
{
	char	*buf;
	size_t	 size, len;

	if (rootfile_read(path, CTL_TOKEN_MAX, "token file", &buf, &size,
	    &len, err, errlen) == -1)
		return (-1);
	if (!token_valid(buf, len)) {
		freezero(buf, size);
		snprintf(err, errlen, "token file %s: empty, too long, or not "
		    "one line of visible characters", path);
		return (-1);
	}
	*tokp = buf;
	*lenp = size;
	return (0);
}

/* The token for this attempt; *tokp is malloc'ed, size in *sizep. */
static enum token_source
token_get(char **tokp, size_t *sizep, char *err, size_t errlen)
{
	const struct config	*conf = en.kd->conf;
	size_t			 len;

	*tokp = NULL;
	err[0] = '\0';
	if (en.ctl_token != NULL) {
		if ((*tokp = strdup(en.ctl_token)) == NULL)
			fatal(NULL);
		*sizep = en.ctl_token_len;
		return (TOK_CTL);
	}
	/* A stored token is for the first enrollment only (4.5 step 3). */
	if (en.enrolled || en.stored_refused)
		return (TOK_NONE);
	if (conf->kobangd.enrollment_token_file != NULL)
		return (token_from_file(conf->kobangd.enrollment_token_file,
		    tokp, sizep, err, errlen) == 0 ? TOK_FILE : TOK_NONE);
	if (conf->sync.enrollment_token != NULL) {
		len = strlen(conf->sync.enrollment_token);
		if (!token_valid(conf->sync.enrollment_token, len)) {
			snprintf(err, errlen, "sync.enrollmentToken: empty, "
			    "too long, or not visible characters");
			return (TOK_NONE);
		}
		if ((*tokp = strdup(conf->sync.enrollment_token)) == NULL)
			fatal(NULL);
		*sizep = len + 1;
		return (TOK_CONFIG);
	}
	return (TOK_NONE);
}

/* What the host says about itself (PROTOCOL.md 3.3, Linux flavour). */
static void
host_info(struct proto_host *h)
{
	struct utsname	 u;
	FILE		*f;
	char		 line[512], pretty[PROTO_STR_MAX + 1] = "", *p;
	size_t		 n;

	memset(h, 0, sizeof(*h));
	if (gethostname(h->hostname, sizeof(h->hostname) - 1) == -1)
		strlcpy(h->hostname, "unknown", sizeof(h->hostname));
	if (uname(&u) == -1)
		memset(&u, 0, sizeof(u));
	strlcpy(h->hardware_model, u.machine, sizeof(h->hardware_model));
	/* A root-owned system file, one line of it, bounded. */
	if ((f = fopen("/etc/os-release", "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "PRETTY_NAME=", 12) != 0)
				continue;
			p = line + 12;
			p[strcspn(p, "\n")] = '\0';
			n = strlen(p);
			if (n >= 2 && (p[0] == '"' || p[0] == '\'') &&
			    p[n - 1] == p[0]) {
				p[n - 1] = '\0';
				p++;
			}
			strlcpy(pretty, p, sizeof(pretty));
			break;
		}
		fclose(f);
	}
	if (pretty[0] != '\0')
		snprintf(h->os_version, sizeof(h->os_version), "%s (%s %s)",
		    pretty, u.sysname, u.release);
	else
		snprintf(h->os_version, sizeof(h->os_version), "%s %s",
		    u.sysname, u.release);
}

/* A compact JSON document from w, copied to an exact-size buffer. */
static char *
take_json(struct jsonw *w, size_t *lenp)
{
	const char	*s;
	char		*body = NULL;
	size_t		 len;

	if ((s = jsonw_result(w, &len)) != NULL &&
	    (body = malloc(len)) != NULL) {
		memcpy(body, s, len);
		*lenp = len;
	}
	/* The writer's buffer may hold the token. */
	if (w->buf != NULL)
		explicit_bzero(w->buf, w->cap);
	jsonw_free(w);
	return (body);
}

static void	inspected(struct kobangd *, const struct tcertinfo *, void *);

static void
retry_cb(void *arg)
{
	/* The server already answered: only the certificate check is due. */
	if (en.pend.der != NULL) {
		en.state = CTL_ENROLL_RUNNING;
		if (transport_inspect(en.pend.der, en.pend.derlen, inspected,
		    NULL) == -1) {
			en_fail(CTL_ENROLL_REFUSED, "cannot check the "
			    "certificate");
			pending_free();
		}
		return;
	}
	enroll_attempt();
}

/* Exponential backoff with full jitter, or Retry-After if longer. */
static void
schedule_retry(long long retry_after)
{
	const struct config_sync	*sc = &en.kd->conf->sync;
	long long			 cap, d;
	unsigned int			 i;

	cap = sc->retry_base_seconds;
	for (i = 0; i < en.failures && cap < sc->retry_max_seconds; i++)
		cap *= 2;
	if (cap > sc->retry_max_seconds)
		cap = sc->retry_max_seconds;
	d = 1 + (long long)arc4random_uniform((uint32_t)cap);
	if (retry_after > d)
		d = retry_after;
	en.failures++;
	en.state = CTL_ENROLL_RETRY;
	en.retry_at = ev_now_ms() + (unsigned long long)d * 1000;
	ev_timer_add(&en.retry, (unsigned long long)d * 1000);
	log_warnx("sync: enrollment failed: %s; next attempt in %lld s",
	    en.error, d);
}

static void
pending_free(void)
{
	proto_enroll_response_free(&en.pend.r);
	free(en.pend.der);
	memset(&en.pend, 0, sizeof(en.pend));
}

static void
use_identity(void)
{
	char	*pem;
	size_t	 len;

	if (proto_cert_pem(en.st.cert, en.st.cert_len, &pem, &len) == -1) {
		log_warnx("sync: cannot use the stored certificate");
		return;
	}
	if (transport_set_identity(en.ks, pem, len) == -1)
		log_warnx("sync: cannot use the stored certificate");
	free(pem);
}

static void
inspected(struct kobangd *kd, const struct tcertinfo *ci, void *arg)
{
	struct proto_state	 st;
	char			 fp[65], want[65], err[256], when[32];
	time_t			 na;
	struct tm		 tm;
	int			 i;

	if (ci->ok == -1) {
		/* net went away meanwhile; the certificate is still here. */
		en_fail(CTL_ENROLL_RETRY, "the certificate could not be "
		    "checked yet");
		schedule_retry(-1);
		return;
	}
	if (ci->ok != 1) {
		en_fail(CTL_ENROLL_REFUSED, "the server's certificate is not "
		    "a readable X.509 certificate");
		goto fail;
	}
	for (i = 0; i < 32; i++)
		snprintf(fp + 2 * i, 3, "%02x", ci->spki_sha256[i]);
	if (keystore_fingerprint(en.ks, want) == -1 || strcmp(fp, want) != 0) {
		en_fail(CTL_ENROLL_REFUSED, "the server's certificate is not "
		    "for this device's key");
		goto fail;
	}
	if (ci->not_after <= (int64_t)time(NULL)) {
		en_fail(CTL_ENROLL_REFUSED, "the server's certificate has "
		    "already expired");
		goto fail;
	}

	memset(&st, 0, sizeof(st));
	strlcpy(st.tenant_id, en.pend.r.tenant_id, sizeof(st.tenant_id));
	strlcpy(st.device_id, en.pend.r.device_id, sizeof(st.device_id));
	st.cert = en.pend.der;
	st.cert_len = en.pend.derlen;
	strlcpy(st.expires_at, en.pend.r.expires_at, sizeof(st.expires_at));
	strlcpy(st.subject, ci->subject, sizeof(st.subject));
	strlcpy(st.issuer, ci->issuer, sizeof(st.issuer));
	st.not_after = ci->not_after;
	strlcpy(st.spki_sha256, fp, sizeof(st.spki_sha256));
	/*
	 * The inventory is owed before the identity exists on disk.  The
	 * token is spent: a failure here costs only the crash safety.
	 */
	if (sync_enrolling(en.kd, st.device_id) == -1)
		log_warnx("sync: the inventory owed to device %s is not "
		    "recorded; a crash before it is queued loses it",
		    st.device_id);
	if (keystore_save_state(en.ks, &st, err, sizeof(err)) == -1) {
		en_fail(CTL_ENROLL_REFUSED, "cannot store the identity: %s",
		    err);
		goto fail;
	}
	/* The state owns a copy: the stored file is the truth. */
	proto_state_free(&en.st);
	en.st = st;
	if ((en.st.cert = malloc(st.cert_len)) == NULL)
		fatal(NULL);
	memcpy(en.st.cert, en.pend.der, st.cert_len);
	en.enrolled = 1;
	en.failures = 0;
	en.error[0] = '\0';
	en.state = CTL_ENROLL_DONE;
	en.attempts++;
	forget_tokens();
	pending_free();
	use_identity();
	na = (time_t)en.st.not_after;
	gmtime_r(&na, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	log_info("sync: enrolled: tenant %s, device %s; certificate %s issued "
	    "by %s, valid until %s", en.st.tenant_id, en.st.device_id,
	    en.st.subject, en.st.issuer, when);
	/* 4.5 step 4: with a state, the remote configuration. */
	(void)rconfig_fetch(en.kd);
	checkin_start();
	sync_identity(en.kd, en.st.tenant_id, en.st.device_id);
	return;
 fail:
	/* The server has spent the token: a new one is needed. */
	log_warnx("sync: enrollment failed: %s", en.error);
	forget_tokens();
	en.stored_refused = 1;
	pending_free();
}

static void
enrolled_cb(struct kobangd *kd, struct tresult *res, void *arg)
{
	char	err[128];

	if (res->error == TR_ERR_STATUS && res->status >= 400 &&
	    res->status <= 499 && res->status != 408 && res->status != 429) {
		/* The token is wrong, spent or expired: never retried. */
		en_fail(CTL_ENROLL_REFUSED, "the server refused the "
		    "enrollment token (HTTP %d)", res->status);
		log_warnx("sync: enrollment failed: %s", en.error);
		forget_tokens();
		en.stored_refused = 1;
		return;
	}
	if (res->error != TR_OK) {
		en_fail(CTL_ENROLL_RETRY, "%s", res->msg);
		schedule_retry(res->retry_after);
		return;
	}
	if (proto_enroll_response((const char *)res->body, res->body_len,
	    &en.pend.r, err, sizeof(err)) == -1) {
		en_fail(CTL_ENROLL_RETRY, "malformed enrollment response: %s",
		    err);
		schedule_retry(res->retry_after);
		return;
	}
	if (proto_cert_der(en.pend.r.cert, en.pend.r.cert_len, &en.pend.der,
	    &en.pend.derlen) == -1) {
		en_fail(CTL_ENROLL_REFUSED, "the server sent no usable client "
		    "certificate");
		log_warnx("sync: enrollment failed: %s", en.error);
		forget_tokens();
		en.stored_refused = 1;
		pending_free();
		return;
	}
	/* X.509 parsing of what the server sent happens in net, sandboxed. */
	if (transport_inspect(en.pend.der, en.pend.derlen, inspected,
	    NULL) == -1) {
		en_fail(CTL_ENROLL_RETRY, "cannot queue the certificate check");
		pending_free();
		schedule_retry(-1);
	}
}

static void
enroll_attempt(void)
{
	struct proto_host	 host;
	struct jsonw		 w;
	enum token_source	 src;
	uint8_t			 point[PROTO_POINT_LEN];
	char			 pem[PROTO_SPKI_PEM_LEN + 1], err[256];
	char			*tok, *body;
	size_t			 toksize = 0, len;
	int			 r;

	ev_timer_del(&en.retry);
	/* A new attempt replaces whatever an older one left half done. */
	pending_free();
	/* Never a new key beside one of another store. */
	if (en.store_refused) {
		if (keystore_error(en.ks, NULL) != NULL)
			strlcpy(en.error, keystore_error(en.ks, NULL),
			    sizeof(en.error));
		en.state = CTL_ENROLL_REFUSED;
		return;
	}
	if ((src = token_get(&tok, &toksize, err, sizeof(err))) == TOK_NONE) {
		if (err[0] != '\0') {
			en_fail(CTL_ENROLL_REFUSED, "%s", err);
			log_warnx("sync: %s", err);
		}
		return;
	}
	if ((r = keystore_key(en.ks, 1, err, sizeof(err))) == -2) {
		/* The TPM is not there yet: the token keeps. */
		freezero(tok, toksize);
		en_fail(CTL_ENROLL_RETRY, "device key: %s", err);
		schedule_retry(-1);
		return;
	}
	if (r != 0 || keystore_point(en.ks, point) == -1 ||
	    proto_spki_pem(point, pem) == -1) {
		freezero(tok, toksize);
		en_fail(CTL_ENROLL_REFUSED, "device key: %s", err);
		log_warnx("sync: enrollment impossible: %s", en.error);
		return;
	}
	host_info(&host);
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	if (proto_enroll_request(&w, tok, pem, &host) == -1)
		body = NULL;
	else
		body = take_json(&w, &len);
	freezero(tok, toksize);
	if (body == NULL) {
		en_fail(CTL_ENROLL_REFUSED, "cannot encode the request");
		return;
	}
	en.state = CTL_ENROLL_RUNNING;
	log_info("sync: enrolling with %s using the token from %s",
	    transport_endpoint()->host, src == TOK_CTL ? "kobanctl" :
	    src == TOK_FILE ? "the token file" : "the configuration");
	if (transport_post(PROTO_ENROLL, body, len, enrolled_cb, NULL) == -1) {
		en_fail(CTL_ENROLL_RETRY, "cannot queue the request");
		schedule_retry(-1);
	}
}

static void
checked_in(struct kobangd *kd, struct tresult *res, void *arg)
{
	struct proto_checkin_resp	 r;
	char				 err[256];

	en.checkin_running = 0;
	en.checkins++;
	en.checkin_time = (int64_t)time(NULL);
	en.checkin_ok = 0;
	en.checkin_failures++;
	if (res->error != TR_OK) {
		snprintf(en.checkin, sizeof(en.checkin), "%s", res->msg);
		log_warnx("sync: check-in failed: %s", res->msg);
		/* 429 or 503 with Retry-After: the next request waits. */
		if (res->retry_after > 0)
			sync_hold(en.kd, res->retry_after);
		return;
	}
	if (proto_checkin_response((const char *)res->body, res->body_len, &r,
	    err, sizeof(err)) == -1) {
		snprintf(en.checkin, sizeof(en.checkin), "malformed response: "
		    "%.200s", err);
		log_warnx("sync: check-in failed: %s", en.checkin);
		return;
	}
	en.checkin_ok = 1;
	en.checkin_failures = 0;
	snprintf(en.checkin, sizeof(en.checkin), "accepted; server time %.40s, "
	    "configuration generation %.80s%s%s%s", r.server_time,
	    r.config_generation, r.config_update_available ?
	    ", update available" : "", r.certificate_renewal_required ?
	    ", certificate renewal required" : "",
	    r.full_resnapshot_requested ? ", full resnapshot requested" : "");
	log_info("sync: check-in %s", en.checkin);
	if (r.full_resnapshot_requested)
		sync_resnapshot(en.kd);
	/* 10.3 */
	if (r.config_update_available)
		(void)rconfig_fetch(en.kd);
	/* 6.3: with nothing to fetch, the server's generation is ours. */
	if (en.enrolled && !r.config_update_available &&
	    (!en.st.has_generation ||
	    strcmp(en.st.generation, r.config_generation) != 0)) {
		strlcpy(en.st.generation, r.config_generation,
		    sizeof(en.st.generation));
		en.st.has_generation = 1;
		if (keystore_save_state(en.ks, &en.st, err, sizeof(err)) == -1)
			log_warnx("sync: %s", err);
	}
}

static int
checkin_request(char *err, size_t errlen)
{
	const struct config_sync	*sc = &en.kd->conf->sync;
	struct proto_host		 host;
	struct proto_health		 health = { 0, 0 };
	struct jsonw			 w;
	const char			*tenant, *device, *gen;
	char				*body;
	size_t				 len;

	if (en.enrolled) {
		tenant = en.st.tenant_id;
		device = en.st.device_id;
		gen = en.st.has_generation ? en.st.generation : "";
	} else if (sc->sensor_token != NULL && sc->tenant_id != NULL &&
	    sc->device_id != NULL) {
		/* 4.5 step 5: manual identity, the development mode. */
		tenant = sc->tenant_id;
		device = sc->device_id;
		gen = "";
	} else {
		snprintf(err, errlen, "not enrolled");
		return (-1);
	}
	if (en.checkin_running) {
		snprintf(err, errlen, "a check-in is under way");
		return (-1);
	}
	host_info(&host);
	sync_health(&health);
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	if (proto_checkin_request(&w, tenant, device, host.os_version, gen,
	    &health) == -1 || (body = take_json(&w, &len)) == NULL) {
		snprintf(err, errlen, "cannot encode the request");
		return (-1);
	}
	if (transport_post(PROTO_CHECKIN, body, len, checked_in, NULL) == -1) {
		snprintf(err, errlen, "cannot queue the request");
		return (-1);
	}
	en.checkin_running = 1;
	return (0);
}

static void
checkin_start(void)
{
	char	err[128];

	if (checkin_request(err, sizeof(err)) == -1)
		log_debug("sync: no check-in: %s", err);
}

void
enroll_init(struct kobangd *kd)
{
	char	err[512], why[128];
	int	r;

	memset(&en, 0, sizeof(en));
	en.kd = kd;
	ev_timer_init(&en.retry, retry_cb, NULL);
	/* transport_init starts net and dns once sync can run. */
	if (transport_init(kd, err, sizeof(err)) == -1) {
		if (kd->conf->sync.enabled) {
			log_warnx("sync: %s; nothing will be sent", err);
			strlcpy(why, "sync is not usable: ", sizeof(why));
			strlcat(why, err, sizeof(why));
		} else {
			log_info("sync: disabled, local-only sensor; net and "
			    "dns not started");
			strlcpy(why, "sync is off", sizeof(why));
		}
		parent_children_sync(kd, 0, why);
		return;
	}
	if ((en.ks = keystore_open(kd->conf->kobangd.state_directory, err,
	    sizeof(err))) == NULL) {
		log_warnx("sync: identity unusable: %s", err);
		transport_shutdown(kd);
		strlcpy(why, "sync is not usable: identity: ", sizeof(why));
		strlcat(why, err, sizeof(why));
		parent_children_sync(kd, 0, why);
		return;
	}
	en.active = 1;
	en.state = CTL_ENROLL_IDLE;
	if (keystore_select(en.ks, kd->conf->kobangd.key_store,
	    kd->conf->kobangd.tpm_tcti, err, sizeof(err)) == -1) {
		/* Enrolled or not, nothing is made: an operator decides. */
		en.store_refused = 1;
		en.state = CTL_ENROLL_REFUSED;
		strlcpy(en.error, err, sizeof(en.error));
		log_warnx("sync: device key refused: %s", err);
		return;
	}
	if ((r = keystore_key(en.ks, 0, err, sizeof(err))) == -1)
		log_warnx("sync: device key unusable: %s", err);
	else if (r == 0 && keystore_error(en.ks, NULL) != NULL)
		log_warnx("sync: device key: %s; no handshake can be signed "
		    "until it answers", keystore_error(en.ks, NULL));
	if (r == 0) {
		r = keystore_load_state(en.ks, &en.st, err, sizeof(err));
		if (r == -1)
			log_warnx("sync: not enrolled: %s", err);
		if (r == 0) {
			en.enrolled = 1;
			en.state = CTL_ENROLL_DONE;
			use_identity();
			log_info("sync: enrolled as device %s of tenant %s",
			    en.st.device_id, en.st.tenant_id);
		}
	}
	if (en.enrolled) {
		(void)rconfig_fetch(kd);
		checkin_start();
		return;
	}
	enroll_attempt();
	if (en.state == CTL_ENROLL_IDLE) {
		if (kd->conf->sync.sensor_token != NULL)
			checkin_start();
		else
			log_info("sync: not enrolled; supply a token with "
			    "\"kobanctl enroll\" or "
			    "kobangd.enrollmentTokenFile");
	}
}

/* The enrolled identity and stored generation; -1 when not enrolled. */
int
enroll_state_identity(struct kobangd *kd, const char **tenant,
    const char **device, const char **gen)
{
	(void)kd;
	if (!en.active || !en.enrolled)
		return (-1);
	*tenant = en.st.tenant_id;
	*device = en.st.device_id;
	*gen = en.st.has_generation ? en.st.generation : "";
	return (0);
}

/* 5.3 step 5: a merged bundle's generation is saved with the state. */
void
enroll_set_generation(struct kobangd *kd, const char *gen)
{
	char	err[256];

	(void)kd;
	if (!en.active || !en.enrolled)
		return;
	strlcpy(en.st.generation, gen, sizeof(en.st.generation));
	en.st.has_generation = 1;
	if (keystore_save_state(en.ks, &en.st, err, sizeof(err)) == -1)
		log_warnx("sync: %s", err);
}

void
enroll_shutdown(struct kobangd *kd)
{
	if (!en.active)
		return;
	ev_timer_del(&en.retry);
	transport_shutdown(kd);
	forget_ctl_token();
	pending_free();
	proto_state_free(&en.st);
	keystore_close(en.ks);
	memset(&en, 0, sizeof(en));
}

int
enroll_with_token(struct kobangd *kd, const char *token, char *err,
    size_t errlen)
{
	size_t	len = strlen(token);

	if (!en.active) {
		snprintf(err, errlen, "sync is not enabled and configured");
		return (-1);
	}
	if (!token_valid(token, len)) {
		snprintf(err, errlen, "the token must be 1 to %d visible "
		    "characters", CTL_TOKEN_MAX);
		return (-1);
	}
	if (en.store_refused) {
		snprintf(err, errlen, "%s", en.error);
		return (-1);
	}
	if (en.state == CTL_ENROLL_RUNNING) {
		snprintf(err, errlen, "an enrollment is under way");
		return (-1);
	}
	forget_ctl_token();
	if ((en.ctl_token = strdup(token)) == NULL)
		fatal(NULL);
	en.ctl_token_len = len + 1;
	en.failures = 0;
	enroll_attempt();
	return (0);
}

int
enroll_checkin(struct kobangd *kd, char *err, size_t errlen)
{
	if (!en.active) {
		snprintf(err, errlen, "sync is not enabled and configured");
		return (-1);
	}
	return (checkin_request(err, errlen));
}

void
enroll_identity(struct kobangd *kd, struct ctl_identity *id)
{
	const struct http_endpoint	*ep;
	const char			*e;
	unsigned long long		 now;

	memset(id, 0, sizeof(*id));
	id->sync = en.active;
	id->state = en.active ? en.state : CTL_ENROLL_OFF;
	strlcpy(id->auth, en.active ? transport_auth() : "none",
	    sizeof(id->auth));
	if (!en.active)
		return;
	if ((ep = transport_endpoint()) != NULL)
		snprintf(id->endpoint, sizeof(id->endpoint), "%.240s:%u",
		    ep->host, ep->port);
	id->enrolled = en.enrolled;
	id->key = keystore_spki(en.ks) != NULL;
	if (id->key)
		(void)keystore_fingerprint(en.ks, id->fingerprint);
	strlcpy(id->key_store, keystore_store(en.ks), sizeof(id->key_store));
	keystore_where(en.ks, id->key_where, sizeof(id->key_where));
	if ((e = keystore_error(en.ks, &id->key_error_since)) != NULL)
		strlcpy(id->key_error, e, sizeof(id->key_error));
	id->attempts = en.attempts;
	if (en.state == CTL_ENROLL_RETRY) {
		now = ev_now_ms();
		id->retry_in = en.retry_at > now ?
		    (int64_t)((en.retry_at - now + 999) / 1000) : 0;
	}
	strlcpy(id->error, en.error, sizeof(id->error));
	if (en.enrolled) {
		strlcpy(id->tenant, en.st.tenant_id, sizeof(id->tenant));
		strlcpy(id->device, en.st.device_id, sizeof(id->device));
		strlcpy(id->subject, en.st.subject, sizeof(id->subject));
		strlcpy(id->issuer, en.st.issuer, sizeof(id->issuer));
		strlcpy(id->expires_at, en.st.expires_at,
		    sizeof(id->expires_at));
		if (en.st.has_generation)
			strlcpy(id->generation, en.st.generation,
			    sizeof(id->generation));
		id->not_after = en.st.not_after;
	}
	id->checkin_time = en.checkin_time;
	id->checkin_ok = en.checkin_ok;
	id->checkins = en.checkins;
	id->checkin_failures = en.checkin_failures;
	strlcpy(id->checkin, en.checkin, sizeof(id->checkin));
}

/*
 * The control requests: show identity for readers; enroll and check-in
 * for root only.  Sizes are checked before anything is read.
 */
int
enroll_ctl(struct kobangd *kd, struct imsgbuf *ibuf, uid_t uid,
    struct imsg *imsg, char *err, size_t errlen)
{
	struct ctl_identity	id;
	char			tok[CTL_TOKEN_MAX + 1];
	long long		held;
	int			r;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_SHOW_IDENTITY:
		if (imsg_get_len(imsg) != 0) {
			snprintf(err, errlen, "malformed request");
			return (-1);
		}
		enroll_identity(kd, &id);
		if (imsg_compose(ibuf, IMSG_CTL_IDENTITY, 0, 0, -1, &id,
		    sizeof(id)) == -1)
			break;
		return (imsg_compose(ibuf, IMSG_CTL_END, 0, 0, -1, NULL, 0));
	case IMSG_CTL_ENROLL:
		if (uid != 0) {
			snprintf(err, errlen, "permission denied");
			return (-1);
		}
		if (imsg_get_strbuf(imsg, tok, sizeof(tok)) == -1) {
			snprintf(err, errlen, "malformed request");
			return (-1);
		}
		r = enroll_with_token(kd, tok, err, errlen);
		explicit_bzero(tok, sizeof(tok));
		if (r == -1)
			return (-1);
		return (imsg_compose(ibuf, IMSG_CTL_END, 0, 0, -1, NULL, 0));
	case IMSG_CTL_CHECKIN:
		if (uid != 0) {
			snprintf(err, errlen, "permission denied");
			return (-1);
		}
		if (imsg_get_len(imsg) != 0) {
			snprintf(err, errlen, "malformed request");
			return (-1);
		}
		/* A server's Retry-After binds the operator too. */
		if ((held = sync_held(kd)) > 0) {
			snprintf(err, errlen, "the server asked to wait; the "
			    "next request may go in %lld s", held);
			return (-1);
		}
		if (enroll_checkin(kd, err, errlen) == -1)
			return (-1);
		return (imsg_compose(ibuf, IMSG_CTL_END, 0, 0, -1, NULL, 0));
	default:
		break;
	}
	snprintf(err, errlen, "out of memory");
	return (-1);
}
