/*
 * The remote configuration (PROTOCOL.md 5, spec/README.md): fetched when
 * the device is enrolled at start, after an enrollment and whenever a
 * check-in or sync answer says an update is available.  The bundle is
 * decoded with the strict decoder of the local file; one that fails is
 * rejected, logged and counted, and the generation stays.  An accepted
 * bundle is stored in the state directory with its generation and laid
 * over the local file (watch, rules, the two batch limits) now and at
 * every start and reload, so a restart does not lose it.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "jsonw.h"
#include "kobangd.h"
#include "log.h"
#include "proto.h"
#include "rconfig.h"
#include "reload.h"
#include "transport.h"

#define RCONFIG_FILE	"remote-config"

static struct {
	struct kobangd	*kd;
	char		*json;		/* the accepted bundle, NULL: none */
	size_t		 len;
	char		 generation[PROTO_STR_MAX + 1];	/* of the bundle */
	int		 running;	/* a request is out */
	uint32_t	 fetches;	/* finished requests */
	uint32_t	 rejected;	/* bundles that failed validation */
	int64_t		 fetch_time;
	char		 result[CTL_ERRLEN];	/* of the last request */
	char		 pending_gen[PROTO_STR_MAX + 1];
	struct ev_timer	 apply;		/* the reload, out of the callback */
} rc;

static int
bundle_path(char *buf, size_t len)
{
	const char	*dir = rc.kd->conf->kobangd.state_directory;

	if (snprintf(buf, len, "%s/%s", dir, RCONFIG_FILE) >= (int)len)
		return (-1);
	return (0);
}

/*
 * The file: the generation, a newline, the bundle.  Written to a
 * temporary file, synced and renamed, so a crash leaves the old one or
 * the new one, never half of either.
 */
static int
bundle_store(const char *gen, const char *json, size_t len, char *err,
    size_t errlen)
{
	char	path[PATH_MAX], tmp[PATH_MAX + 8];
	size_t	off;
	ssize_t	n;
	int	fd, i;
	const struct {
		const char	*p;
		size_t		 n;
	} part[3] = {
		{ gen, strlen(gen) }, { "\n", 1 }, { json, len },
	};

	if (bundle_path(path, sizeof(path)) == -1 ||
	    snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "state directory path too long");
		return (-1);
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%.200s: %s", tmp, strerror(errno));
		return (-1);
	}
	for (i = 0; i < 3; i++)
		for (off = 0; off < part[i].n; off += (size_t)n)
			if ((n = write(fd, part[i].p + off,
			    part[i].n - off)) == -1) {
				if (errno == EINTR) {
					n = 0;
					continue;
				}
				goto fail;
			}
	if (fsync(fd) == -1)
		goto fail;
	close(fd);
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "rename %.200s: %s", tmp, strerror(errno));
		unlink(tmp);
		return (-1);
	}
	return (0);
 fail:
	snprintf(err, errlen, "%.200s: %s", tmp, strerror(errno));
	close(fd);
	unlink(tmp);
	return (-1);
}

/* The stored bundle, if any: 1 loaded, 0 none, -1 unusable. */
static int
bundle_load(char *err, size_t errlen)
{
	char		 path[PATH_MAX], *buf, *nl;
	struct stat	 st;
	size_t		 off = 0, max = PROTO_CONFIG_MAX + PROTO_STR_MAX + 2;
	ssize_t		 n;
	int		 fd;

	if (bundle_path(path, sizeof(path)) == -1) {
		snprintf(err, errlen, "state directory path too long");
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return (0);
		snprintf(err, errlen, "%.200s: %s", path, strerror(errno));
		return (-1);
	}
	/* Ours alone: written by root, readable by root. */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) != 0 || st.st_size <= 0 ||
	    (size_t)st.st_size > max) {
		snprintf(err, errlen, "%.150s: not a root-owned private regular "
		    "file of 1 to %zu bytes", path, max);
		close(fd);
		return (-1);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		fatal(NULL);
	while (off < (size_t)st.st_size) {
		if ((n = read(fd, buf + off, (size_t)st.st_size - off)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			snprintf(err, errlen, "%.200s: short read", path);
			close(fd);
			free(buf);
			return (-1);
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	if ((nl = memchr(buf, '\n', off)) == NULL ||
	    (size_t)(nl - buf) > PROTO_STR_MAX || nl + 1 == buf + off) {
		snprintf(err, errlen, "%.200s: no generation line", path);
		free(buf);
		return (-1);
	}
	*nl = '\0';
	strlcpy(rc.generation, buf, sizeof(rc.generation));
	rc.len = off - (size_t)(nl + 1 - buf);
	if ((rc.json = malloc(rc.len)) == NULL)
		fatal(NULL);
	memcpy(rc.json, nl + 1, rc.len);
	free(buf);
	return (1);
}

static void
bundle_forget(void)
{
	free(rc.json);
	rc.json = NULL;
	rc.len = 0;
	rc.generation[0] = '\0';
}

void
rconfig_overlay(struct kobangd *kd, struct config *conf)
{
	struct config	remote;
	char		name[PROTO_STR_MAX + 64], err[CTL_ERRLEN];

	(void)kd;
	if (rc.json == NULL)
		return;
	snprintf(name, sizeof(name), "remote configuration %s",
	    rc.generation);
	if (config_from_json(name, rc.json, rc.len, &remote, err,
	    sizeof(err)) == -1) {
		/* It passed when it came; only a new version refuses it. */
		log_warnx("%s; the local configuration is used alone", err);
		return;
	}
	config_overlay_remote(conf, &remote);
	config_free(&remote);
}

static void
apply_cb(void *arg)
{
	char	why[PROTO_STR_MAX + 64], err[CTL_ERRLEN];

	(void)arg;
	snprintf(why, sizeof(why), "remote configuration %s",
	    rc.pending_gen);
	if (reload_config(rc.kd, why, err, sizeof(err)) == -1)
		log_warnx("remote configuration %s is stored and applies at "
		    "the next reload or start", rc.pending_gen);
}

static void
fetched(struct kobangd *kd, struct tresult *res, void *arg)
{
	struct proto_config_resp	 r;
	struct config			 remote;
	char				 err[CTL_ERRLEN], name[PROTO_STR_MAX + 64];
	char				*copy;

	(void)kd;
	(void)arg;
	rc.running = 0;
	rc.fetches++;
	rc.fetch_time = (int64_t)time(NULL);
	if (res->error != TR_OK) {
		snprintf(rc.result, sizeof(rc.result), "%s", res->msg);
		log_warnx("sync: configuration request failed: %s", res->msg);
		return;
	}
	if (proto_config_response((const char *)res->body, res->body_len, &r,
	    err, sizeof(err)) == -1) {
		snprintf(rc.result, sizeof(rc.result), "malformed response: "
		    "%.200s", err);
		log_warnx("sync: configuration request failed: %s", rc.result);
		return;
	}
	/* 5.3 step 1: nothing to apply, nothing stored. */
	if (r.config_len == 0) {
		snprintf(rc.result, sizeof(rc.result), "unchanged (server "
		    "generation %.200s)", r.generation);
		log_debug("sync: configuration %s", rc.result);
		proto_config_response_free(&r);
		return;
	}
	snprintf(name, sizeof(name), "remote configuration %s",
	    r.generation);
	if (config_from_json(name, (const char *)r.config_json, r.config_len,
	    &remote, err, sizeof(err)) == -1) {
		rc.rejected++;
		snprintf(rc.result, sizeof(rc.result), "rejected: %.230s",
		    err);
		log_warnx("sync: %s rejected, the generation stays: %s", name,
		    err);
		proto_config_response_free(&r);
		return;
	}
	config_free(&remote);
	if (bundle_store(r.generation, (const char *)r.config_json,
	    r.config_len, err, sizeof(err)) == -1)
		log_warnx("sync: %s cannot be stored, a restart will not "
		    "reapply it: %s", name, err);
	if ((copy = malloc(r.config_len)) == NULL)
		fatal(NULL);
	memcpy(copy, r.config_json, r.config_len);
	bundle_forget();
	rc.json = copy;
	rc.len = r.config_len;
	strlcpy(rc.generation, r.generation, sizeof(rc.generation));
	strlcpy(rc.pending_gen, r.generation, sizeof(rc.pending_gen));
	/* 5.3 step 5: the generation is saved after the merge succeeds. */
	enroll_set_generation(rc.kd, r.generation);
	snprintf(rc.result, sizeof(rc.result), "accepted generation %.200s "
	    "(%zu bytes)", r.generation, r.config_len);
	log_info("sync: %s", rc.result);
	proto_config_response_free(&r);
	/* Not from inside the transport's callback: a reload may restart it. */
	ev_timer_add(&rc.apply, 0);
}

int
rconfig_fetch(struct kobangd *kd)
{
	struct jsonw	 w;
	const char	*tenant, *device, *gen, *s;
	char		*body;
	size_t		 len;

	if (rc.kd == NULL || !kd->conf->sync.enabled || !transport_active())
		return (-1);
	/* 5.1: only with an enrollment state. */
	if (enroll_state_identity(kd, &tenant, &device, &gen) == -1)
		return (-1);
	if (rc.running)
		return (0);
	jsonw_init(&w, JSONW_ESCAPE_SLASH);
	if (proto_config_request(&w, tenant, device, gen) == -1 ||
	    (s = jsonw_result(&w, &len)) == NULL ||
	    (body = malloc(len)) == NULL) {
		jsonw_free(&w);
		log_warnx("sync: cannot encode the configuration request");
		return (-1);
	}
	memcpy(body, s, len);
	jsonw_free(&w);
	if (transport_post(PROTO_CONFIG, body, len, fetched, NULL) == -1) {
		log_warnx("sync: cannot queue the configuration request");
		return (-1);
	}
	rc.running = 1;
	return (0);
}

/* The transport started over: a request out is lost with it. */
void
rconfig_transport_reset(void)
{
	rc.running = 0;
}

void
rconfig_init(struct kobangd *kd)
{
	char	err[CTL_ERRLEN];
	int	r;

	memset(&rc, 0, sizeof(rc));
	rc.kd = kd;
	ev_timer_init(&rc.apply, apply_cb, NULL);
	if ((r = bundle_load(err, sizeof(err))) == -1)
		log_warnx("remote configuration: %s; ignored", err);
	if (r != 1)
		return;
	rconfig_overlay(kd, kd->conf);
	log_info("remote configuration %s (stored) applied over the local "
	    "file", rc.generation);
}

void
rconfig_shutdown(struct kobangd *kd)
{
	(void)kd;
	ev_timer_del(&rc.apply);
	bundle_forget();
	memset(&rc, 0, sizeof(rc));
}

void
rconfig_status(struct ctl_sync *cs)
{
	strlcpy(cs->config_applied, rc.generation, sizeof(cs->config_applied));
	strlcpy(cs->config_result, rc.result, sizeof(cs->config_result));
	cs->config_fetches = rc.fetches;
	cs->config_rejected = rc.rejected;
	cs->config_time = rc.fetch_time;
}
