/*
 * Reloading the configuration (SIGHUP, kobanctl reload, a new remote
 * bundle): the file is read and checked completely before anything
 * changes; a file that fails is refused with its message and the running
 * configuration stays.  No child is restarted: the children hold no
 * configuration, only the parent does.  Keys the parent used once at
 * start (its user, its socket, its state directory, the socket's group)
 * keep their running values until a restart, with a warning naming them.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "ctl.h"
#include "enroll.h"
#include "kobangd.h"
#include "log.h"
#include "reload.h"
#include "rconfig.h"
#include "sensor.h"
#include "sync.h"

static struct {
	int64_t		loaded;		/* wall clock of the running config */
	uint32_t	reloads;	/* applied */
	uint32_t	refused;
	int64_t		refused_at;
	char		error[CTL_ERRLEN];	/* of the last refusal */
	char		source[CTL_ERRLEN];	/* the file, or the defaults */
	/* The file's own sync ids: kd->conf's get the enrolled ones. */
	char		*file_tenant;
	char		*file_device;
} rl;

static int
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != b);
	return (strcmp(a, b) != 0);
}

/* Keep a key the running daemon cannot change; 1 if it had changed. */
static int
keep_fixed(const char *key, char **newv, const char *oldv)
{
	if (!str_differs(*newv, oldv))
		return (0);
	log_warnx("reload: %s changed; it takes effect when kobangd is "
	    "restarted", key);
	free(*newv);
	*newv = NULL;
	if (oldv != NULL && (*newv = strdup(oldv)) == NULL)
		fatal(NULL);
	return (1);
}

static void
keep_file_ids(const struct config *conf)
{
	free(rl.file_tenant);
	free(rl.file_device);
	rl.file_tenant = rl.file_device = NULL;
	if ((conf->sync.tenant_id != NULL &&
	    (rl.file_tenant = strdup(conf->sync.tenant_id)) == NULL) ||
	    (conf->sync.device_id != NULL &&
	    (rl.file_device = strdup(conf->sync.device_id)) == NULL))
		fatal(NULL);
}

/*
 * Whether the transport and the identity must start over.  The ids are
 * compared as the files give them (a manual identity with a sensor
 * token), not as enrollment filled them in.
 */
static int
sync_differs(const struct config *a, const struct config *b)
{
	return (a->sync.enabled != b->sync.enabled ||
	    str_differs(rl.file_tenant, b->sync.tenant_id) ||
	    str_differs(rl.file_device, b->sync.device_id) ||
	    str_differs(a->sync.endpoint, b->sync.endpoint) ||
	    str_differs(a->sync.protocol, b->sync.protocol) ||
	    str_differs(a->sync.enrollment_token, b->sync.enrollment_token) ||
	    str_differs(a->sync.sensor_token, b->sync.sensor_token) ||
	    str_differs(a->kobangd.fleet_ca_file, b->kobangd.fleet_ca_file) ||
	    str_differs(a->kobangd.enrollment_token_file,
	    b->kobangd.enrollment_token_file) ||
	    str_differs(a->kobangd.proxy, b->kobangd.proxy) ||
	    str_differs(a->kobangd.proxy_credentials_file,
	    b->kobangd.proxy_credentials_file) ||
	    str_differs(a->kobangd.key_store, b->kobangd.key_store) ||
	    str_differs(a->kobangd.tpm_tcti, b->kobangd.tpm_tcti));
}

static void
note_source(struct kobangd *kd)
{
	/* The same rule as at start: an absent default file is no error. */
	if (!kd->conf_named && access(kd->conffile, F_OK) == -1 &&
	    errno == ENOENT)
		strlcpy(rl.source, "built-in defaults", sizeof(rl.source));
	else
		strlcpy(rl.source, kd->conffile, sizeof(rl.source));
}

static struct config *
load_local(struct kobangd *kd, char *err, size_t errlen)
{
	struct config	*conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	/* As at start: no file at the default path means the defaults. */
	if (!kd->conf_named && access(kd->conffile, F_OK) == -1 &&
	    errno == ENOENT) {
		config_default(conf);
		return (conf);
	}
	if (config_load_file(kd->conffile, CONFIG_F_PERMS, conf, err,
	    errlen) == -1) {
		free(conf);
		return (NULL);
	}
	return (conf);
}

void
reload_init(struct kobangd *kd)
{
	memset(&rl, 0, sizeof(rl));
	rl.loaded = (int64_t)time(NULL);
	note_source(kd);
	keep_file_ids(kd->conf);
}

int
reload_config(struct kobangd *kd, const char *why, char *err, size_t errlen)
{
	struct config	*conf, *old = kd->conf;
	size_t		 i;
	int		 restart_sync;

	if ((conf = load_local(kd, err, errlen)) == NULL) {
		rl.refused++;
		rl.refused_at = (int64_t)time(NULL);
		strlcpy(rl.error, err, sizeof(rl.error));
		log_warnx("reload (%s) refused, the running configuration "
		    "stays: %s", why, err);
		return (-1);
	}
	for (i = 0; i < conf->warnings.n; i++)
		log_warnx("reload: %s", conf->warnings.v[i]);

	/* The accepted remote bundle goes on top, as at start. */
	rconfig_overlay(kd, conf);

	keep_fixed("kobangd.user", &conf->kobangd.user, old->kobangd.user);
	keep_fixed("kobangd.controlSocket", &conf->kobangd.control_socket,
	    old->kobangd.control_socket);
	keep_fixed("kobangd.controlGroup", &conf->kobangd.control_group,
	    old->kobangd.control_group);
	keep_fixed("kobangd.stateDirectory", &conf->kobangd.state_directory,
	    old->kobangd.state_directory);

	restart_sync = sync_differs(old, conf);
	keep_file_ids(conf);
	if (restart_sync) {
		log_info("reload: the sync settings changed; the Fleet "
		    "connection starts over");
		sync_shutdown(kd);
		enroll_shutdown(kd);
		rconfig_transport_reset();
	}
	kd->conf = conf;
	/* From here on old belongs to the sensor, which frees it. */
	sensor_reconfigure(kd, old);
	if (restart_sync) {
		enroll_init(kd);
		sync_init(kd);
	} else
		sync_reconfigured(kd);
	rl.reloads++;
	rl.loaded = (int64_t)time(NULL);
	note_source(kd);
	log_info("reload (%s): %s applied", why, rl.source);
	return (0);
}

void
reload_shutdown(void)
{
	free(rl.file_tenant);
	free(rl.file_device);
	memset(&rl, 0, sizeof(rl));
}

void
reload_status(struct ctl_status *st)
{
	st->config_loaded = rl.loaded;
	strlcpy(st->config_file, rl.source, sizeof(st->config_file));
	st->config_reloads = rl.reloads;
	st->config_refused = rl.refused;
	st->config_refused_at = rl.refused_at;
	strlcpy(st->config_error, rl.error, sizeof(st->config_error));
}
