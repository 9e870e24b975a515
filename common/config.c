/*
 * Loading the configuration file, the built-in defaults, the remote
 * overlay and the helpers that give each surface its effective values.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config_priv.h"
#include "jsonw.h"
#include "log.h"

int
config_warn(struct config *cfg, const char *fmt, ...)
{
	struct config_warnings	*w = &cfg->warnings;
	char			**v;
	va_list			  ap;
	int			  r;

	if (w->n >= CONFIG_MAX_WARNINGS) {
		w->dropped++;
		return (0);
	}
	if ((v = recallocarray(w->v, w->n, w->n + 1, sizeof(*v))) == NULL)
		return (-1);
	w->v = v;
	va_start(ap, fmt);
	r = vasprintf(&w->v[w->n], fmt, ap);
	va_end(ap);
	if (r == -1) {
		w->v[w->n] = NULL;
		return (-1);
	}
	w->n++;
	return (0);
}

int
config_load_buffer(const char *name, const char *buf, size_t len,
    struct config *cfg, char *err, size_t errlen)
{
	struct ctree	t;
	int		rc;

	memset(cfg, 0, sizeof(*cfg));
	if (len > CONFIG_MAX_FILE) {
		(void)snprintf(err, errlen, "%s: larger than %d bytes", name,
		    CONFIG_MAX_FILE);
		return (-1);
	}
	if (config_parse_yaml(name, buf, len, &t, err, errlen) == -1)
		return (-1);
	rc = config_apply(&t, name, 0, cfg, err, errlen);
	ctree_free(&t);
	return (rc);
}

/*
 * The file is opened once and everything is checked on that descriptor:
 * a regular file, not writable by group or others, and (CONFIG_F_PERMS)
 * owned by root or by whoever runs us.
 */
int
config_load_file(const char *path, int flags, struct config *cfg, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((flags & CONFIG_F_PERMS) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		(void)snprintf(err, errlen, "%s: writable by group or others "
		    "(mode %04o), refusing it", path,
		    (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	if ((flags & CONFIG_F_PERMS) && st.st_uid != 0 &&
	    st.st_uid != geteuid()) {
		(void)snprintf(err, errlen, "%s: owned by uid %lu, not by root, "
		    "refusing it", path, (unsigned long)st.st_uid);
		goto out;
	}
	if (st.st_size > CONFIG_MAX_FILE) {
		(void)snprintf(err, errlen, "%s: larger than %d bytes", path,
		    CONFIG_MAX_FILE);
		goto out;
	}
	/* One byte more than allowed, to notice a file that grew. */
	if ((buf = malloc(CONFIG_MAX_FILE + 1)) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (len < CONFIG_MAX_FILE + 1) {
		n = read(fd, buf + len, CONFIG_MAX_FILE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)snprintf(err, errlen, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = config_load_buffer(path, buf, len, cfg, err, errlen);
 out:
	free(buf);
	close(fd);
	return (rc);
}

void
config_default(struct config *cfg)
{
	char	err[512];

	if (config_load_buffer("(built-in)", kobang_default_yaml,
	    kobang_default_yaml_len, cfg, err, sizeof(err)) == -1)
		fatalx("built-in configuration: %s", err);
}

void
config_overlay_remote(struct config *local, struct config *remote)
{
	struct config_watch	watch;
	struct ruleset		rules;

	watch = local->watch;
	local->watch = remote->watch;
	remote->watch = watch;
	rules = local->rules;
	local->rules = remote->rules;
	remote->rules = rules;
	local->sync.max_batch_bytes = remote->sync.max_batch_bytes;
	local->sync.max_batch_events = remote->sync.max_batch_events;
}

int
config_expand_home(const char *path, const char *home, char *buf,
    size_t buflen)
{
	size_t	hl, r;

	if (path[0] != '~' || (path[1] != '\0' && path[1] != '/')) {
		r = strlcpy(buf, path, buflen);
		return (r < buflen ? 0 : -1);
	}
	/* Join without doubling the slash, keeping "/" as a home. */
	hl = strlen(home);
	while (hl > 1 && home[hl - 1] == '/')
		hl--;
	if (hl >= buflen)
		return (-1);
	memcpy(buf, home, hl);
	buf[hl] = '\0';
	if (path[1] == '\0' || path[2] == '\0')
		return (0);
	if (!(hl == 1 && home[0] == '/') && strlcat(buf, "/", buflen) >= buflen)
		return (-1);
	return (strlcat(buf, path + 2, buflen) < buflen ? 0 : -1);
}

const struct strlist *
config_project_roots(const struct config *cfg, enum surface s)
{
	static const struct strlist	none;
	const struct strlist		*own = NULL;

	switch (s) {
	case SURFACE_CLAUDE:
		own = cfg->claude.project_roots;
		break;
	case SURFACE_CODEX:
		/* Codex alone has no fallback to watch.projectRoots. */
		return (cfg->codex.project_roots ? cfg->codex.project_roots :
		    &none);
	case SURFACE_OPENCODE:
		own = cfg->opencode.project_roots;
		break;
	case SURFACE_JAVASCRIPT:
		own = cfg->javascript.project_roots;
		break;
	case SURFACE_PYTHON:
		own = cfg->python.project_roots;
		break;
	case SURFACE_PI:
	case SURFACE_CURSOR:
		break;
	default:
		return (&none);
	}
	return (own != NULL ? own : &cfg->watch.project_roots);
}

long long
config_max_depth(const struct config *cfg, enum surface s)
{
	if (s == SURFACE_JAVASCRIPT && cfg->javascript.max_depth_set)
		return (cfg->javascript.max_depth);
	if (s == SURFACE_PYTHON && cfg->python.max_depth_set)
		return (cfg->python.max_depth);
	return (cfg->watch.max_depth);
}

int
config_check_file(const char *path, int verbose)
{
	struct config	 cfg;
	struct jsonw	 w;
	const char	*js;
	char		 err[1024];
	size_t		 i;
	int		 rc = 0;

	if (config_load_file(path, CONFIG_F_PERMS, &cfg, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return (1);
	}
	for (i = 0; i < cfg.warnings.n; i++)
		fprintf(stderr, "%s\n", cfg.warnings.v[i]);
	if (cfg.warnings.dropped > 0)
		fprintf(stderr, "%s: %zu more warnings\n", path,
		    cfg.warnings.dropped);
	if (verbose) {
		jsonw_init(&w, 0);
		if (config_to_json(&cfg, &w) == -1 ||
		    (js = jsonw_result(&w, NULL)) == NULL) {
			fprintf(stderr, "%s: out of memory\n", path);
			rc = 1;
		} else
			printf("%s\n", js);
		jsonw_free(&w);
	}
	if (rc == 0)
		fprintf(stderr, "configuration OK\n");
	config_free(&cfg);
	return (rc);
}
