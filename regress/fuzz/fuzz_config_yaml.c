/*
 * libFuzzer harness for the YAML configuration loader.  Any input either
 * fails with a message or loads; a loaded configuration must survive the
 * trip through canonical JSON and back unchanged, which checks the
 * encoder and the decoder against the loader on every accepted input.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jsonw.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
canon(const struct config *cfg)
{
	struct jsonw	 w;
	const char	*js;
	char		*s;

	jsonw_init(&w, 0);
	if (config_to_json(cfg, &w) == -1 ||
	    (js = jsonw_result(&w, NULL)) == NULL)
		abort();
	if ((s = strdup(js)) == NULL)
		abort();
	jsonw_free(&w);
	return (s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 cfg, again;
	char		 err[1024], *a, *b;

	err[0] = '\0';
	if (config_load_buffer("fuzz.yaml", (const char *)data, size, &cfg,
	    err, sizeof(err)) == -1) {
		/* Exactly one message, always. */
		if (err[0] == '\0')
			abort();
		return (0);
	}
	a = canon(&cfg);
	if (config_from_json("canon", a, strlen(a), &again, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "canonical JSON refused: %s\n%s\n", err, a);
		abort();
	}
	b = canon(&again);
	if (strcmp(a, b) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n%s\n", a, b);
		abort();
	}
	free(a);
	free(b);
	config_free(&again);
	config_free(&cfg);
	return (0);
}
