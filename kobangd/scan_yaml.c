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

#include "compat.h"
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

/* ---- The block subset Yarn and pnpm write, read line by line ---- */

static int
plain_start_ok(char c)
{
	return (strchr("-?:,[]{}#&*!|>'\"%@`", c) == NULL);
}

int
scan_yaml_scalar(const char *base, const char *s, size_t len, size_t *off,
    size_t *l)
{
	const char	*q;

	/* "key:   value": the value's leading blanks are not its own. */
	while (len > 0 && *s == ' ') {
		s++;
		len--;
	}
	if (len == 0)
		return (-1);
	if (s[0] == '"' || s[0] == '\'') {
		if (len < 2 || s[len - 1] != s[0] ||
		    (q = memchr(s + 1, s[0], len - 2)) != NULL ||
		    memchr(s + 1, '\\', len - 2) != NULL)
			return (-1);
		*off = (size_t)(s + 1 - base);
		*l = len - 2;
		return (0);
	}
	/* A trailing ':' would make it a key, ": " or " #" more. */
	if (!plain_start_ok(s[0]) || s[len - 1] == ' ' || s[len - 1] == ':' ||
	    memmem(s, len, ": ", 2) != NULL || memmem(s, len, " #", 2) !=
	    NULL)
		return (-1);
	*off = (size_t)(s - base);
	*l = len;
	return (0);
}

/*
 * A flow scalar at *s: quoted as above, or plain without any of
 * ",[]{}", a ':' followed by a blank or a flow indicator, or " #".
 */
static int
flow_scalar(const char **s, const char *end)
{
	const char	*p = *s, *q;

	if (p == end)
		return (-1);
	if (*p == '"' || *p == '\'') {
		for (q = p + 1; q < end && *q != *p; q++)
			if (*q == '\\')
				return (-1);
		if (q == end)
			return (-1);
		*s = q + 1;
		return (0);
	}
	if (!plain_start_ok(*p))
		return (-1);
	for (q = p; q < end && strchr(",[]{}", *q) == NULL; q++) {
		if (*q == ':' && (q + 1 == end ||
		    strchr(" ,[]{}", q[1]) != NULL))
			break;
		if (*q == '#' && q > p && q[-1] == ' ')
			return (-1);
	}
	if (q == p || q[-1] == ' ')
		return (-1);
	*s = q;
	return (0);
}

/* A flow collection at *s: "{k: v, ...}", "[v, ...]", "{}", "[]". */
static int
flow_node(const char **s, const char *end, int depth)
{
	const char	*p = *s;
	char		 close;

	if (p == end || depth > 16)
		return (-1);
	if (*p != '{' && *p != '[')
		return (flow_scalar(s, end));
	close = *p == '{' ? '}' : ']';
	p++;
	if (p < end && *p == close) {
		*s = p + 1;
		return (0);
	}
	for (;;) {
		if (close == '}') {
			if (flow_scalar(&p, end) == -1 || end - p < 2 ||
			    p[0] != ':' || p[1] != ' ')
				return (-1);
			p += 2;
		}
		if (flow_node(&p, end, depth + 1) == -1 || p == end)
			return (-1);
		if (*p == close) {
			*s = p + 1;
			return (0);
		}
		if (end - p < 2 || p[0] != ',' || p[1] != ' ')
			return (-1);
		p += 2;
	}
}

int
scan_yaml_flow(const char *s, size_t len)
{
	const char	*end = s + len;

	while (s < end && *s == ' ')
		s++;
	if (s == end || (*s != '{' && *s != '['))
		return (-1);
	return (flow_node(&s, end, 0) == 0 && s == end ? 0 : -1);
}

/* One content line of the subset: its indent and the text after it. */
static int
next_line(const char **pp, const char *end, const char **l, size_t *ll,
    size_t *ind)
{
	const char	*p = *pp, *nl;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		*l = p;
		*ll = (size_t)(nl - p);
		p = nl + 1;
		for (*ind = 0; *ind < *ll && (*l)[*ind] == ' '; (*ind)++)
			;
		if (*ind == *ll || (*l)[*ind] == '#')
			continue;	/* blank, or a comment line */
		*pp = p;
		return (1);
	}
	*pp = end;
	return (0);
}

int
scan_yaml_line(const char **pp, const char *end, struct scan_yaml_line *ln)
{
	const char	*l, *sep;
	size_t		 ll, ind;

	memset(ln, 0, sizeof(*ln));
	if (!next_line(pp, end, &l, &ll, &ind))
		return (0);
	ln->ind = ind;
	l += ind;
	ll -= ind;
	ln->text = l;
	ln->len = ll;
	if (ll >= 2 && l[0] == '-' && l[1] == ' ') {
		ln->seq = 1;
		ln->val = l + 2;
		ln->vlen = ll - 2;
		return (1);
	}
	if (l[ll - 1] == ':') {
		sep = l + ll - 1;
		ln->open = 1;
	} else if ((sep = memmem(l, ll, ": ", 2)) != NULL) {
		ln->val = sep + 2;
		ln->vlen = (size_t)(l + ll - sep - 2);
	} else
		return (-1);
	ln->key = l;
	ln->klen = (size_t)(sep - l);
	return (1);
}

int
scan_yaml_subset(const char *buf, size_t len)
{
	struct scan_yaml_line	 ln;
	const char		*p = buf, *end = buf + len;
	size_t			 i, off, l, lv[64], nlv = 0;
	int			 lk[64], k, r, prev_open = 0, keys = 0;

	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] >= 0x7f ||
		    ((unsigned char)buf[i] < 0x20 && buf[i] != '\n'))
			return (-1);
	while ((r = scan_yaml_line(&p, end, &ln)) == 1) {
		if (ln.ind == 0) {
			/* A key of the top-level mapping. */
			if (ln.seq || (ln.len >= 3 &&
			    (memcmp(ln.text, "---", 3) == 0 ||
			    memcmp(ln.text, "...", 3) == 0)))
				return (-1);
			nlv = 1;
			lv[0] = 0;
			lk[0] = 1;
			keys = 1;
		} else if (!keys)
			return (-1);
		else if (prev_open && ln.ind == lv[nlv - 1] + 2) {
			/* Two-space steps, one deeper below an opened key. */
			if (nlv == nitems(lv))
				return (-1);
			lk[nlv] = 0;
			lv[nlv++] = ln.ind;
		} else {
			/* Back only to a level that is open. */
			while (nlv > 1 && lv[nlv - 1] > ln.ind)
				nlv--;
			if (lv[nlv - 1] != ln.ind)
				return (-1);
		}
		/* A level holds a mapping or a sequence, never both. */
		k = ln.seq ? 2 : 1;
		if (lk[nlv - 1] != 0 && lk[nlv - 1] != k)
			return (-1);
		lk[nlv - 1] = k;
		if (!ln.seq && scan_yaml_scalar(buf, ln.key, ln.klen, &off,
		    &l) == -1)
			return (-1);
		prev_open = ln.open;
		if (ln.open)
			continue;
		if (scan_yaml_scalar(buf, ln.val, ln.vlen, &off, &l) == -1 &&
		    scan_yaml_flow(ln.val, ln.vlen) == -1)
			return (-1);
	}
	return (r == 0 && keys ? 0 : -1);
}
