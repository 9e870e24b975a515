/*
 * libyaml's event parser for the scan child's YAML files (scan_yaml.c):
 * bounded nesting, aliases never expanded, errors recorded on the sink.
 */
#ifndef KOBANGD_SCAN_YAML_H
#define KOBANGD_SCAN_YAML_H

#include <yaml.h>

#include "scan.h"
#include "scan_pkg.h"

struct yaml_rd {
	json_read_fn	 rd;
	void		*arg;
};

struct scan_yaml {
	yaml_parser_t		 p;
	const struct scan_sink	*sink;
	struct yaml_rd		 rd;
	int			 depth;
	int			 failed;	/* issue recorded */
	struct strset		 anchors;	/* of this document */
};

/* 0, or -1 (issue recorded, nothing to free); then scan_yaml_free(). */
int	 scan_yaml_init(struct scan_yaml *, json_read_fn, void *,
	    const struct scan_sink *);
/* The same over a document in memory, which must outlive the parse. */
int	 scan_yaml_init_mem(struct scan_yaml *, const char *, size_t,
	    const struct scan_sink *);
void	 scan_yaml_free(struct scan_yaml *);
/* The next event, the nesting bounded: 0, or -1 (issue recorded). */
int	 scan_yaml_next(struct scan_yaml *, yaml_event_t *);
/* Pass over the rest of the node ev started; ev is consumed. */
int	 scan_yaml_skip(struct scan_yaml *, yaml_event_t *);

#endif
