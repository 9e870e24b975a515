/*
 * The YAML front end: libyaml's event parser into a struct ctree.
 *
 * The event API rather than yaml_parser_load(), because it lets us stop
 * early: nesting is capped as it is opened (libyaml's scanner is quadratic
 * in flow nesting, so a megabyte of '[' would otherwise run for hours),
 * and an alias is charged with the size of what it points to when it is
 * met, so a billion-laughs file fails at its first oversized alias
 * instead of being expanded.  Aliases themselves are kept (the reference
 * accepts them); they become shared pointers, not copies.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "compat.h"
#include "config_priv.h"

struct anchor {
	char		*name;
	struct cnode	*node;
};

struct yctx {
	const char	*name;
	const char	*buf;
	size_t		 len;
	struct ctree	*t;
	struct cnode	*stack[CONFIG_MAX_DEPTH];
	int		 depth;
	struct anchor	 anchors[CONFIG_MAX_ANCHORS];
	size_t		 nanchors;
	size_t		 alias_nodes;
	size_t		 alias_bytes;
	int		 ndocs;
	char		*err;
	size_t		 errlen;
};

static void	yerr(struct yctx *, unsigned long, unsigned long,
		    const char *, ...)
		    __attribute__((__format__ (printf, 4, 5)));

static void
yerr(struct yctx *y, unsigned long line, unsigned long col,
    const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(y->err, y->errlen, "%s:%lu:%lu: %s", y->name, line,
	    col, msg);
}

static size_t
sat_add(size_t a, size_t b)
{
	return (a > SIZE_MAX - b ? SIZE_MAX : a + b);
}

/* Line and column (characters, 1-based) of a byte offset. */
static void
offset_position(const char *buf, size_t len, size_t off, unsigned long *line,
    unsigned long *col)
{
	size_t	i;

	*line = 1;
	*col = 1;
	if (off > len)
		off = len;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

/* The lead byte of the character whose continuation ends before off. */
static size_t
char_start(const char *buf, size_t len, size_t off)
{
	unsigned char	c;
	size_t		i;

	for (i = 1; i <= 3 && i <= off && off - i < len; i++) {
		c = (unsigned char)buf[off - i];
		if ((c & 0xc0) == 0xc0)
			return (off - i);
		if ((c & 0xc0) != 0x80)
			break;
	}
	return (off);
}

static void
parser_error(struct yctx *y, const yaml_parser_t *p)
{
	unsigned long	line, col;
	const char	*problem = p->problem ? p->problem : "syntax error";
	size_t		 off;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		(void)snprintf(y->err, y->errlen, "%s: out of memory",
		    y->name);
		return;
	case YAML_READER_ERROR:
		/*
		 * The reader knows only a byte offset, and for a broken
		 * sequence it is past the lead byte: point at the character.
		 */
		off = p->problem_offset;
		if (strstr(problem, "leading") == NULL)
			off = char_start(y->buf, y->len, off);
		offset_position(y->buf, y->len, off, &line, &col);
		yerr(y, line, col, "not valid UTF-8 text: %s", problem);
		return;
	default:
		break;
	}
	line = (unsigned long)p->problem_mark.line + 1;
	col = (unsigned long)p->problem_mark.column + 1;
	if (p->problem_mark.index < y->len &&
	    y->buf[p->problem_mark.index] == '\t') {
		yerr(y, line, col, "tab character where YAML allows only "
		    "spaces (indentation must use spaces)");
		return;
	}
	if (p->context != NULL)
		yerr(y, line, col, "%s %s", problem, p->context);
	else
		yerr(y, line, col, "%s", problem);
}

static int
add_anchor(struct yctx *y, const yaml_mark_t *m, const unsigned char *name,
    struct cnode *n)
{
	char	*s;

	if (name == NULL)
		return (0);
	if (y->nanchors >= CONFIG_MAX_ANCHORS) {
		yerr(y, m->line + 1, m->column + 1, "more than %d anchors",
		    CONFIG_MAX_ANCHORS);
		return (-1);
	}
	if ((s = strdup((const char *)name)) == NULL) {
		yerr(y, m->line + 1, m->column + 1, "out of memory");
		return (-1);
	}
	y->anchors[y->nanchors].name = s;
	y->anchors[y->nanchors].node = n;
	y->nanchors++;
	return (0);
}

/* Hang a finished (or, for collections, just opened) node on its parent. */
static int
attach(struct yctx *y, const yaml_mark_t *m, struct cnode *n)
{
	if (y->depth == 0) {
		y->t->root = n;
		return (0);
	}
	if (ctree_add(y->stack[y->depth - 1], n) == -1) {
		yerr(y, m->line + 1, m->column + 1, "out of memory");
		return (-1);
	}
	return (0);
}

static void
account(struct yctx *y, struct cnode *n)
{
	struct cnode	*p;

	if (y->depth == 0)
		return;
	p = y->stack[y->depth - 1];
	p->weight = sat_add(p->weight, n->weight);
	p->bytes = sat_add(p->bytes, n->bytes);
}

static struct cnode *
new_node(struct yctx *y, const yaml_mark_t *m, enum cnode_type type,
    enum cnode_style style, const unsigned char *tag)
{
	struct cnode	*n;

	/* Tags would change how a scalar is read; the schema has none. */
	if (tag != NULL) {
		yerr(y, m->line + 1, m->column + 1,
		    "explicit tags (\"%s\") are not supported",
		    (const char *)tag);
		return (NULL);
	}
	if (y->t->n >= CONFIG_MAX_NODES) {
		yerr(y, m->line + 1, m->column + 1, "more than %d nodes",
		    CONFIG_MAX_NODES);
		return (NULL);
	}
	n = ctree_node(y->t, type, style, (uint32_t)m->line + 1,
	    (uint32_t)m->column + 1);
	if (n == NULL)
		yerr(y, m->line + 1, m->column + 1, "out of memory");
	return (n);
}

static int
on_alias(struct yctx *y, const yaml_event_t *ev)
{
	const yaml_mark_t	*m = &ev->start_mark;
	const char		*name = (const char *)ev->data.alias.anchor;
	struct cnode		*n = NULL;
	size_t			 i;

	for (i = y->nanchors; i > 0; i--) {
		if (strcmp(y->anchors[i - 1].name, name) == 0) {
			n = y->anchors[i - 1].node;
			break;
		}
	}
	if (n == NULL) {
		yerr(y, m->line + 1, m->column + 1, "unknown alias \"%.64s\"",
		    name);
		return (-1);
	}
	if (!n->complete) {
		yerr(y, m->line + 1, m->column + 1,
		    "alias \"%.64s\" refers to a node that contains it", name);
		return (-1);
	}
	y->alias_nodes = sat_add(y->alias_nodes, n->weight);
	y->alias_bytes = sat_add(y->alias_bytes, n->bytes);
	if (y->alias_nodes > CONFIG_MAX_ALIAS_NODES) {
		yerr(y, m->line + 1, m->column + 1, "aliases expand to more "
		    "than %d nodes", CONFIG_MAX_ALIAS_NODES);
		return (-1);
	}
	if (y->alias_bytes > CONFIG_MAX_ALIAS_BYTES) {
		yerr(y, m->line + 1, m->column + 1, "aliases expand to more "
		    "than %d bytes", CONFIG_MAX_ALIAS_BYTES);
		return (-1);
	}
	if (y->depth == 0) {
		/* Only possible as a document root, which has no anchors. */
		y->t->root = n;
		return (0);
	}
	if (attach(y, m, n) == -1)
		return (-1);
	account(y, n);
	return (0);
}

static int
on_scalar(struct yctx *y, const yaml_event_t *ev)
{
	const yaml_mark_t	*m = &ev->start_mark;
	struct cnode		*n;

	n = new_node(y, m, CN_SCALAR,
	    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ?
	    CS_PLAIN : CS_QUOTED, ev->data.scalar.tag);
	if (n == NULL)
		return (-1);
	if (ctree_scalar(n, (const char *)ev->data.scalar.value,
	    ev->data.scalar.length) == -1) {
		yerr(y, m->line + 1, m->column + 1, "out of memory");
		return (-1);
	}
	n->complete = 1;
	if (add_anchor(y, m, ev->data.scalar.anchor, n) == -1 ||
	    attach(y, m, n) == -1)
		return (-1);
	account(y, n);
	return (0);
}

static int
on_open(struct yctx *y, const yaml_event_t *ev, enum cnode_type type)
{
	const yaml_mark_t	*m = &ev->start_mark;
	const unsigned char	*anchor, *tag;
	struct cnode		*n;

	if (type == CN_SEQ) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	} else {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	}
	if (y->depth >= CONFIG_MAX_DEPTH) {
		yerr(y, m->line + 1, m->column + 1,
		    "nested deeper than %d levels", CONFIG_MAX_DEPTH);
		return (-1);
	}
	if ((n = new_node(y, m, type, CS_NONE, tag)) == NULL)
		return (-1);
	if (add_anchor(y, m, anchor, n) == -1 || attach(y, m, n) == -1)
		return (-1);
	y->stack[y->depth++] = n;
	return (0);
}

static void
on_close(struct yctx *y)
{
	struct cnode	*n;

	n = y->stack[--y->depth];
	n->complete = 1;
	account(y, n);
}

int
config_parse_yaml(const char *name, const char *buf, size_t len,
    struct ctree *t, char *err, size_t errlen)
{
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	struct yctx	*y;
	size_t		 i;
	int		 rc = -1, done = 0, r;

	memset(t, 0, sizeof(*t));
	if ((y = calloc(1, sizeof(*y))) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", name);
		return (-1);
	}
	y->name = name;
	y->buf = buf;
	y->len = len;
	y->t = t;
	y->err = err;
	y->errlen = errlen;

	if (!yaml_parser_initialize(&p)) {
		(void)snprintf(err, errlen, "%s: out of memory", name);
		free(y);
		return (-1);
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	/* No UTF-16 guessing: the file is UTF-8 or it is refused. */
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);

	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			parser_error(y, &p);
			goto out;
		}
		r = 0;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++y->ndocs > 1) {
				yerr(y, ev.start_mark.line + 1,
				    ev.start_mark.column + 1,
				    "more than one YAML document");
				r = -1;
			}
			break;
		case YAML_ALIAS_EVENT:
			r = on_alias(y, &ev);
			break;
		case YAML_SCALAR_EVENT:
			r = on_scalar(y, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			r = on_open(y, &ev, CN_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			r = on_open(y, &ev, CN_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (y->depth > 0)
				on_close(y);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (r == -1)
			goto out;
	}
	rc = 0;
 out:
	yaml_parser_delete(&p);
	for (i = 0; i < y->nanchors; i++)
		free(y->anchors[i].name);
	free(y);
	if (rc == -1)
		ctree_free(t);
	return (rc);
}
