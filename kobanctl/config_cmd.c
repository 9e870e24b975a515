/*
 * Offline configuration commands.  The file's owner and mode are not
 * checked here (it may be a draft in someone's home); kobangd -n checks
 * them on the installed file.
 */

#include <stdio.h>

#include "config.h"
#include "config_cmd.h"
#include "jsonw.h"

static int
load(const char *path, struct config *cfg)
{
	char	err[1024];
	size_t	i;

	if (config_load_file(path, 0, cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return (-1);
	}
	for (i = 0; i < cfg->warnings.n; i++)
		fprintf(stderr, "%s\n", cfg->warnings.v[i]);
	if (cfg->warnings.dropped > 0)
		fprintf(stderr, "%s: %zu more warnings\n", path,
		    cfg->warnings.dropped);
	return (0);
}

int
ctl_config_check(const char *path)
{
	struct config	cfg;

	if (load(path, &cfg) == -1)
		return (1);
	printf("%s: configuration OK, %zu rules\n", path, cfg.rules.n);
	config_free(&cfg);
	return (0);
}

/* The canonical JSON bundle Fleet would serve for this file. */
int
ctl_config_canon(const char *path)
{
	struct config	 cfg;
	struct jsonw	 w;
	const char	*js;
	int		 rc = 0;

	if (load(path, &cfg) == -1)
		return (1);
	jsonw_init(&w, 0);
	if (config_to_json(&cfg, &w) == -1 ||
	    (js = jsonw_result(&w, NULL)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		rc = 1;
	} else if (printf("%s\n", js) < 0 || fflush(stdout) == EOF) {
		perror("stdout");
		rc = 1;
	}
	jsonw_free(&w);
	config_free(&cfg);
	return (rc);
}
