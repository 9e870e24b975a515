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

/*
 * The block subset of YAML that Yarn and pnpm write, read line by line
 * (scan_yarn_berry.c, scan_pnpm.c): a scalar of a "key: value" line,
 * plain or quoted without escapes, its text at base + *off, *len; a
 * one-line flow collection as pnpm writes them.  0, or -1 when it is not
 * in the subset (the caller leaves the file to libyaml).
 */
int	 scan_yaml_scalar(const char *, const char *, size_t, size_t *,
	    size_t *);
int	 scan_yaml_flow(const char *, size_t);

/* A content line of the subset (blank and comment lines passed over). */
struct scan_yaml_line {
	size_t		 ind;		/* leading blanks */
	const char	*text;		/* after them */
	size_t		 len;
	int		 seq;		/* "- value" */
	int		 open;		/* "key:", its value below (or null) */
	const char	*key;		/* "key: value", "key:" */
	size_t		 klen;
	const char	*val;		/* "key: value", "- value"; raw */
	size_t		 vlen;
};
/* The next one at *pp: 1, 0 at the end, -1 not a line of the subset. */
int	 scan_yaml_line(const char **, const char *, struct scan_yaml_line *);
/* 0: the whole document is in the subset (then every line parses). */
int	 scan_yaml_subset(const char *, size_t);

#endif
