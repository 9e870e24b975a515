/*
 * kobanctl: the device identity.  "show identity" prints what the
 * daemon knows (never a key or token); "enroll" reads a token from
 * standard input, hands it to the daemon (root only) and waits for the
 * attempt's outcome; "check-in" asks for one check-in and waits for it.
 */

#include <sys/types.h>

#include <err.h>
#include <errno.h>
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

/* Polling interval while an enrollment or check-in runs. */
#define IDENTITY_POLL_MS	200

static const char *const state_names[] = {
	[CTL_ENROLL_OFF] = "off",
	[CTL_ENROLL_IDLE] = "idle",
	[CTL_ENROLL_RUNNING] = "running",
	[CTL_ENROLL_RETRY] = "retrying",
	[CTL_ENROLL_REFUSED] = "refused",
	[CTL_ENROLL_DONE] = "enrolled",
};

static const char *
state_name(int32_t s)
{
	if (s < 0 || (size_t)s >= nitems(state_names))
		return ("unknown");
	return (state_names[s]);
}

/* Strings from the daemon are bounded by their arrays: terminate them. */
static void
terminate(struct ctl_identity *id)
{
	id->endpoint[sizeof(id->endpoint) - 1] = '\0';
	id->auth[sizeof(id->auth) - 1] = '\0';
	id->tenant[sizeof(id->tenant) - 1] = '\0';
	id->device[sizeof(id->device) - 1] = '\0';
	id->fingerprint[sizeof(id->fingerprint) - 1] = '\0';
	id->subject[sizeof(id->subject) - 1] = '\0';
	id->issuer[sizeof(id->issuer) - 1] = '\0';
	id->expires_at[sizeof(id->expires_at) - 1] = '\0';
	id->generation[sizeof(id->generation) - 1] = '\0';
	id->error[sizeof(id->error) - 1] = '\0';
	id->checkin[sizeof(id->checkin) - 1] = '\0';
	id->key_store[sizeof(id->key_store) - 1] = '\0';
	id->key_where[sizeof(id->key_where) - 1] = '\0';
	id->key_error[sizeof(id->key_error) - 1] = '\0';
}

void
identity_human(const struct ctl_identity *id)
{
	char	t[32];

	if (!id->sync) {
		printf("sync:         off (local-only sensor)\n");
		return;
	}
	printf("sync:         on, Fleet at %s\n", id->endpoint);
	printf("enrolled:     %s\n", id->enrolled ? "yes" : "no");
	printf("enrollment:   %s", state_name(id->state));
	if (id->state == CTL_ENROLL_RETRY)
		printf(", next attempt in %lld s", (long long)id->retry_in);
	printf("\n");
	if (id->error[0] != '\0')
		printf("last error:   %s\n", id->error);
	printf("tenant:       %s\n", id->enrolled ? id->tenant : "-");
	printf("device:       %s\n", id->enrolled ? id->device : "-");
	printf("key:          %s\n", id->key ? id->fingerprint :
	    "none yet (made at the first enrollment)");
	printf("key store:    %s\n", id->key_where);
	if (id->key_error[0] != '\0') {
		fmt_when(id->key_error_since, t, sizeof(t));
		printf("key trouble:  since %s: %s\n", t, id->key_error);
	}
	if (id->enrolled) {
		fmt_when(id->not_after, t, sizeof(t));
		printf("certificate:  %s\n", id->subject);
		printf("issuer:       %s\n", id->issuer);
		printf("expires:      %s\n", t);
		printf("generation:   %s\n", id->generation[0] ?
		    id->generation : "-");
	}
	printf("auth:         %s\n", id->auth);
	if (id->checkin_time != 0) {
		fmt_when(id->checkin_time, t, sizeof(t));
		printf("check-in:     %s at %s: %s\n", id->checkin_ok ? "ok" :
		    "failed", t, id->checkin);
		if (id->checkin_failures > 0)
			printf("failures:     %u check-ins in a row\n",
			    id->checkin_failures);
	}
}

void
identity_json(const struct ctl_identity *id)
{
	struct jsonw	 w;
	const char	*s;
	char		 t[32];

	jsonw_init(&w, 0);
	jsonw_object_begin(&w);
	jsonw_key(&w, "sync");
	jsonw_bool(&w, id->sync);
	jsonw_key(&w, "endpoint");
	jsonw_string(&w, id->endpoint);
	jsonw_key(&w, "enrolled");
	jsonw_bool(&w, id->enrolled);
	jsonw_key(&w, "enrollment");
	jsonw_string(&w, state_name(id->state));
	jsonw_key(&w, "attempts");
	jsonw_uint(&w, id->attempts);
	jsonw_key(&w, "retryIn");
	jsonw_int(&w, id->retry_in);
	jsonw_key(&w, "error");
	if (id->error[0] != '\0')
		jsonw_string(&w, id->error);
	else
		jsonw_null(&w);
	jsonw_key(&w, "tenantId");
	if (id->enrolled)
		jsonw_string(&w, id->tenant);
	else
		jsonw_null(&w);
	jsonw_key(&w, "deviceId");
	if (id->enrolled)
		jsonw_string(&w, id->device);
	else
		jsonw_null(&w);
	jsonw_key(&w, "keyFingerprint");
	if (id->key)
		jsonw_string(&w, id->fingerprint);
	else
		jsonw_null(&w);
	jsonw_key(&w, "keyStore");
	jsonw_object_begin(&w);
	jsonw_key(&w, "store");
	jsonw_string(&w, id->key_store);
	jsonw_key(&w, "where");
	jsonw_string(&w, id->key_where);
	jsonw_key(&w, "error");
	if (id->key_error[0] != '\0')
		jsonw_string(&w, id->key_error);
	else
		jsonw_null(&w);
	jsonw_key(&w, "errorSince");
	if (id->key_error[0] != '\0') {
		fmt_when(id->key_error_since, t, sizeof(t));
		jsonw_string(&w, t);
	} else
		jsonw_null(&w);
	jsonw_object_end(&w);
	jsonw_key(&w, "certificate");
	if (id->enrolled) {
		fmt_when(id->not_after, t, sizeof(t));
		jsonw_object_begin(&w);
		jsonw_key(&w, "subject");
		jsonw_string(&w, id->subject);
		jsonw_key(&w, "issuer");
		jsonw_string(&w, id->issuer);
		jsonw_key(&w, "notAfter");
		jsonw_string(&w, t);
		jsonw_key(&w, "expiresAt");
		jsonw_string(&w, id->expires_at);
		jsonw_object_end(&w);
	} else
		jsonw_null(&w);
	jsonw_key(&w, "configGeneration");
	if (id->generation[0] != '\0')
		jsonw_string(&w, id->generation);
	else
		jsonw_null(&w);
	jsonw_key(&w, "auth");
	jsonw_string(&w, id->auth);
	jsonw_key(&w, "checkIn");
	if (id->checkin_time != 0) {
		fmt_when(id->checkin_time, t, sizeof(t));
		jsonw_object_begin(&w);
		jsonw_key(&w, "ok");
		jsonw_bool(&w, id->checkin_ok);
		jsonw_key(&w, "time");
		jsonw_string(&w, t);
		jsonw_key(&w, "result");
		jsonw_string(&w, id->checkin);
		jsonw_key(&w, "failuresInRow");
		jsonw_uint(&w, id->checkin_failures);
		jsonw_object_end(&w);
	} else
		jsonw_null(&w);
	jsonw_object_end(&w);
	if ((s = jsonw_result(&w, NULL)) == NULL)
		errx(1, "cannot encode JSON");
	printf("%s\n", s);
	jsonw_free(&w);
}

/* One IMSG_CTL_SHOW_IDENTITY round trip. */
static void
get_identity(struct imsgbuf *ibuf, struct ctl_identity *id, int timeout)
{
	ctl_request_one(ibuf, IMSG_CTL_SHOW_IDENTITY, IMSG_CTL_IDENTITY, id,
	    sizeof(*id), "identity", timeout);
	terminate(id);
}

void
ctl_show_identity(struct imsgbuf *ibuf, const struct output *out,
    int timeout)
{
	struct ctl_identity	id;

	get_identity(ibuf, &id, timeout);
	out->identity(&id);
}

int
ctl_enroll(struct imsgbuf *ibuf, const struct output *out, int wait)
{
	struct ctl_identity	 before, id;
	char			 tok[CTL_TOKEN_MAX + 2];
	size_t			 len = 0;
	ssize_t			 n;
	int			 waited = 0;

	/* The daemon refuses others anyway; do not make them type it. */
	if (geteuid() != 0)
		errx(1, "enroll: root only");
	/* The token: standard input, one line, never an argument. */
	while (len < sizeof(tok) - 1) {
		if ((n = read(STDIN_FILENO, tok + len, sizeof(tok) - 1 -
		    len)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "standard input");
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (tok[len - 1] == '\n')
			break;
	}
	if (len > 0 && tok[len - 1] == '\n')
		len--;
	if (len > 0 && tok[len - 1] == '\r')
		len--;
	tok[len] = '\0';
	if (len == 0 || len > CTL_TOKEN_MAX) {
		explicit_bzero(tok, sizeof(tok));
		errx(1, "the enrollment token comes on standard input, "
		    "one line of at most %d bytes", CTL_TOKEN_MAX);
	}

	get_identity(ibuf, &before, 10);
	ctl_request_end(ibuf, IMSG_CTL_ENROLL, tok, len + 1, 10);
	explicit_bzero(tok, sizeof(tok));

	/* Wait for this attempt to finish, one way or the other. */
	for (;;) {
		get_identity(ibuf, &id, 10);
		if (id.attempts != before.attempts &&
		    id.state != CTL_ENROLL_RUNNING)
			break;
		if (waited >= wait * 1000)
			errx(1, "enrollment still running after %d seconds; "
			    "see \"kobanctl show identity\"", wait);
		usleep(IDENTITY_POLL_MS * 1000);
		waited += IDENTITY_POLL_MS;
	}
	if (id.state == CTL_ENROLL_DONE) {
		if (out->identity == identity_json)
			out->identity(&id);
		else
			printf("enrolled: tenant %s, device %s\n", id.tenant,
			    id.device);
		return (0);
	}
	if (id.state == CTL_ENROLL_RETRY)
		fprintf(stderr, "kobanctl: enrollment failed: %s (next attempt "
		    "in %lld s)\n", id.error, (long long)id.retry_in);
	else
		fprintf(stderr, "kobanctl: enrollment failed: %s\n", id.error);
	return (1);
}

int
ctl_checkin(struct imsgbuf *ibuf, int wait)
{
	struct ctl_identity	before, id;
	int			waited = 0;

	get_identity(ibuf, &before, 10);
	ctl_request_end(ibuf, IMSG_CTL_CHECKIN, NULL, 0, 10);
	for (;;) {
		get_identity(ibuf, &id, 10);
		if (id.checkins != before.checkins)
			break;
		if (waited >= wait * 1000)
			errx(1, "no check-in result after %d seconds", wait);
		usleep(IDENTITY_POLL_MS * 1000);
		waited += IDENTITY_POLL_MS;
	}
	if (id.checkin_ok) {
		printf("check-in %s\n", id.checkin);
		return (0);
	}
	fprintf(stderr, "kobanctl: check-in failed: %s\n", id.checkin);
	return (1);
}
