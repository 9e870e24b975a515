/*
 * Requirement and constraint files (SURFACES.md 8): pip's line format as
 * the reference reads it.  The file must be UTF-8 (the reference reads
 * it as a String); it is split on '\n' with empty lines dropped, each
 * line trimmed of spaces and tabs (not CR), and a line ending with '\'
 * is joined to the next with one space.  Every logical line goes
 * through the requirement-name function; an include line (-r,
 * --requirement, -c, --constraint) goes to the include callback, since
 * only the parent can open the file it names.
 *
 * The names are not lowercased or normalised.  Where the reference
 * keeps what follows the name up to the first of "<>=!~" -- "django "
 * from "django >= 4", "ninja; sys_platform " from an environment
 * marker, "flask  # pinned" -- the name here ends where a distribution
 * name (and its [extras], which the reference keeps) ends
 * (kobangd.yaml(5), the differences).  A bare URL or path has no name
 * to read and stays whole, as in the reference.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "scan.h"
#include "scan_pkg.h"
#include "utf8.h"

static int
is_blank(char c)
{
	return (c == ' ' || c == '\t');
}

static void
trim(const char **p, size_t *len)
{
	while (*len > 0 && is_blank(**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*p)[*len - 1]))
		(*len)--;
}

static int
starts(const char *p, size_t len, const char *lit)
{
	size_t	l = strlen(lit);

	return (len >= l && memcmp(p, lit, l) == 0);
}

/* Step 1: cut at the first "--hash=" and trim. */
static void
normalise(const char **p, size_t *len)
{
	const char	*h;

	if (*len > 0 && (h = memmem(*p, *len, "--hash=", 7)) != NULL)
		*len = (size_t)(h - *p);
	trim(p, len);
}

void
scan_pyreq_name(const char *s, size_t len, struct sv *out)
{
	const char	*at;
	size_t		 i;

	out->p = NULL;
	out->len = 0;
	normalise(&s, &len);
	if (len == 0 || s[0] == '#')
		return;
	if (starts(s, len, "-e ")) {
		s += 3;
		len -= 3;
	}
	if (len > 0 && s[0] == '-')
		return;
	if (len > 0 && (at = memmem(s, len, " @ ", 3)) != NULL)
		len = (size_t)(at - s);
	else if (len > 0 && (memmem(s, len, "://", 3) != NULL ||
	    (s[0] != '\0' && strchr("./~", s[0]) != NULL))) {
		out->p = s;
		out->len = len;
		return;
	}
	/* PEP 508: letters, digits, '.', '_', '-'; then [extras]. */
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			break;
	if (i == 0)
		return;
	if (i < len && s[i] == '[' && (at = memchr(s + i, ']', len - i)) !=
	    NULL)
		i = (size_t)(at - s) + 1;
	out->p = s;
	out->len = i;
}

struct req {
	const struct scan_sink	*sink;
	int			 flags;
	scan_include_fn		 include;
	void			*arg;
};

static int
req_line(struct req *r, const char *s, size_t len)
{
	struct scan_item	 it;
	struct sv		 name;
	const char		*p = s;
	size_t			 l = len, skip = 0;
	int			 constraint = 0;
	char			 buf[SCAN_REASON_MAX];

	normalise(&p, &l);
	if (starts(p, l, "-r "))
		skip = 3;
	else if (starts(p, l, "--requirement "))
		skip = 14;
	else if (starts(p, l, "-c "))
		skip = constraint = 3;
	else if (starts(p, l, "--constraint "))
		skip = constraint = 13;
	if (skip > 0) {
		p += skip;
		l -= skip;
		trim(&p, &l);
		if (l == 0)
			return (0);
		if (r->include != NULL)
			return (r->include(r->arg, constraint != 0, p, l));
		snprintf(buf, sizeof(buf), "include not followed: %.*s",
		    l > 200 ? 200 : (int)l, p);
		r->sink->issue(r->sink->arg, SCAN_ISSUE_LIMIT, buf);
		return (0);
	}
	scan_pyreq_name(s, len, &name);
	if (name.p == NULL)
		return (0);
	memset(&it, 0, sizeof(it));
	it.kind = (r->flags & SCAN_F_CONSTRAINT) ? KIND_PYTHON_CONSTRAINT :
	    KIND_PYTHON_DECLARED_REQUIREMENT;
	it.ior = ITEM_BOOL_NIL;
	it.name = name;
	it.origin.p = SCAN_ORIGIN_PIP;
	it.origin.len = sizeof(SCAN_ORIGIN_PIP) - 1;
	return (r->sink->emit(r->sink->arg, &it));
}

int
scan_requirements(const char *buf, size_t len, int flags,
    const struct scan_sink *sink, scan_include_fn include, void *arg)
{
	struct req	 r;
	struct sbuf	 cur;
	const char	*p = buf, *end = buf + len, *nl, *l;
	size_t		 ll;
	int		 pending = 0, ret = -1;

	if (!utf8_valid(buf, len)) {
		sink->issue(sink->arg, SCAN_ISSUE_MALFORMED,
		    "not valid UTF-8 text");
		return (-1);
	}
	r.sink = sink;
	r.flags = flags;
	r.include = include;
	r.arg = arg;
	sbuf_init(&cur);
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = p;
		ll = (size_t)(nl - p);
		p = nl + 1;
		if (ll == 0)
			continue;	/* empty lines are dropped */
		trim(&l, &ll);
		if (pending) {
			if (sbuf_add(&cur, " ", 1) == SBUF_ERR)
				goto nomem;
		} else
			sbuf_reset(&cur);
		if (sbuf_add(&cur, l, ll) == SBUF_ERR)
			goto nomem;
		if (cur.len > 0 && cur.p[cur.len - 1] == '\\') {
			/* Continued: drop the backslash, trim, join. */
			cur.len--;
			while (cur.len > 0 && is_blank(cur.p[cur.len - 1]))
				cur.len--;
			pending = 1;
			continue;
		}
		pending = 0;
		if (req_line(&r, cur.p, cur.len) == -1)
			goto out;
	}
	if (pending && req_line(&r, cur.p, cur.len) == -1)
		goto out;
	ret = 0;
	goto out;
 nomem:
	sink->issue(sink->arg, SCAN_ISSUE_LIMIT, "out of memory");
 out:
	sbuf_free(&cur);
	return (ret);
}
