/*
 * The YAML files of the scan child (pnpm-lock.yaml, Yarn Berry's
 * yarn.lock) through libyaml's event parser: the document streams
 * through a small window and is never built as a tree, aliases are
 * events and never expanded (no billion laughs), an alias to an anchor
 * not defined before it in its document is an error (as when a loader
 * composes the document), and nesting is bounded by SCAN_YAML_MAX_DEPTH.
 * Errors are recorded on the sink once (scan_yaml.failed).
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "scan.h"
#include "scan_pkg.h"
#include "scan_yaml.h"


static int
yaml_rd_read(void *data, unsigned char *buf, size_t size, size_t *got)
{
	struct yaml_rd	*r = data;
	ssize_t		 n;

	if ((n = r->rd(r->arg, buf, size)) < 0)
		return (0);
	*got = (size_t)n;
	return (1);
}


static int
yaml_anchor(struct scan_yaml *y, const yaml_event_t *ev)
{
	const yaml_char_t	*a = NULL;
	char			 buf[SCAN_REASON_MAX];
	int			 r;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		strset_free(&y->anchors);
		strset_init(&y->anchors);
		return (0);
	case YAML_SCALAR_EVENT:
		a = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		a = ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		a = ev->data.mapping_start.anchor;
		break;
	case YAML_ALIAS_EVENT:
		if ((r = strset_add(&y->anchors,
		    (const char *)ev->data.alias.anchor,
		    strlen((const char *)ev->data.alias.anchor))) == 0)
			return (0);
		if (r == -1)
			goto nomem;
		snprintf(buf, sizeof(buf), "malformed YAML: line %zu, column "
		    "%zu: found undefined alias", ev->start_mark.line + 1,
		    ev->start_mark.column + 1);
		if (!y->failed++)
			y->sink->issue(y->sink->arg, SCAN_ISSUE_MALFORMED, buf);
		return (-1);
	default:
		return (0);
	}
	if (a == NULL ||
	    strset_add(&y->anchors, (const char *)a, strlen((const char *)a))
	    != -1)
		return (0);
 nomem:
	if (!y->failed++)
		y->sink->issue(y->sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
	return (-1);
}

static void
yaml_error(struct scan_yaml *y)
{
	char	buf[SCAN_REASON_MAX];

	if (y->failed++)
		return;
	if (y->p.error == YAML_MEMORY_ERROR)
		snprintf(buf, sizeof(buf), "out of memory");
	else if (y->p.error == YAML_READER_ERROR)
		/* Encoding errors have an offset, not a mark. */
		snprintf(buf, sizeof(buf), "malformed YAML: byte %zu: %s",
		    y->p.problem_offset, y->p.problem ? y->p.problem :
		    "cannot read");
	else
		snprintf(buf, sizeof(buf), "malformed YAML: line %zu, "
		    "column %zu: %s%s%s", y->p.problem_mark.line + 1,
		    y->p.problem_mark.column + 1,
		    y->p.problem ? y->p.problem : "syntax error",
		    y->p.context ? " " : "", y->p.context ? y->p.context : "");
	y->sink->issue(y->sink->arg, y->p.error == YAML_MEMORY_ERROR ?
	    SCAN_ISSUE_LIMIT : SCAN_ISSUE_MALFORMED, buf);
}

/* The next event, with the nesting bounded.  0 or -1 (issue recorded). */
int
scan_yaml_next(struct scan_yaml *y, yaml_event_t *ev)
{
	char	buf[SCAN_REASON_MAX];

	if (!yaml_parser_parse(&y->p, ev)) {
		yaml_error(y);
		return (-1);
	}
	if (yaml_anchor(y, ev) == -1) {
		yaml_event_delete(ev);
		return (-1);
	}
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (++y->depth > SCAN_YAML_MAX_DEPTH) {
			snprintf(buf, sizeof(buf), "malformed YAML: line %zu: "
			    "nested more than %d levels",
			    ev->start_mark.line + 1, SCAN_YAML_MAX_DEPTH);
			yaml_event_delete(ev);
			if (!y->failed++)
				y->sink->issue(y->sink->arg,
				    SCAN_ISSUE_MALFORMED, buf);
			return (-1);
		}
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		y->depth--;
		break;
	default:
		break;
	}
	return (0);
}

/* Pass over the rest of the node that ev started; ev is consumed. */
int
scan_yaml_skip(struct scan_yaml *y, yaml_event_t *ev)
{
	int	target;

	if (ev->type != YAML_MAPPING_START_EVENT &&
	    ev->type != YAML_SEQUENCE_START_EVENT) {
		yaml_event_delete(ev);
		return (0);
	}
	target = y->depth - 1;
	yaml_event_delete(ev);
	while (y->depth > target) {
		if (scan_yaml_next(y, ev) == -1)
			return (-1);
		yaml_event_delete(ev);
	}
	return (0);
}

int
scan_yaml_init(struct scan_yaml *y, json_read_fn rd, void *arg,
    const struct scan_sink *sink)
{
	memset(y, 0, sizeof(*y));
	y->sink = sink;
	strset_init(&y->anchors);
	if (!yaml_parser_initialize(&y->p)) {
		strset_free(&y->anchors);
		sink->issue(sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
		return (-1);
	}
	y->rd.rd = rd;
	y->rd.arg = arg;
	yaml_parser_set_input(&y->p, yaml_rd_read, &y->rd);
	return (0);
}

int
scan_yaml_init_mem(struct scan_yaml *y, const char *buf, size_t len,
    const struct scan_sink *sink)
{
	memset(y, 0, sizeof(*y));
	y->sink = sink;
	strset_init(&y->anchors);
	if (!yaml_parser_initialize(&y->p)) {
		strset_free(&y->anchors);
		sink->issue(sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
		return (-1);
	}
	yaml_parser_set_input_string(&y->p, (const unsigned char *)buf, len);
	return (0);
}

void
scan_yaml_free(struct scan_yaml *y)
{
	strset_free(&y->anchors);
	yaml_parser_delete(&y->p);
}
