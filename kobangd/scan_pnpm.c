/*
 * pnpm-lock.yaml (SURFACES.md 7) through libyaml's event parser: the
 * document is read as text (at most the 25 MB cap) but never built as a
 * tree, and aliases are events, never expanded (no billion laughs).
 *
 * The reference loads the YAML and looks at the top-level mapping's
 * "packages" mapping: each key with all leading and trailing '/'
 * stripped, split at its last '@', both parts non-empty, is a package
 * (name, version).  A top level that is not a mapping, no "packages", or
 * "packages" that is not a mapping yields nothing and no issue; a YAML
 * syntax error fails the file.  Keys that are not scalars are passed
 * over; of a key given twice the first is read.  The first document is
 * read; later ones are only checked.  An
 * alias to an anchor not defined before it in its document is an error,
 * as when the reference's loader composes the document.  Since aliases
 * are never expanded, a "packages" (or a key) given as an alias yields
 * nothing, where a loader that builds the tree would follow it; pnpm
 * never writes anchors.
 *
 * Where the reference gives garbage or nothing (kobangd.yaml(5)), the
 * key is read as the lockfileVersion written before "packages" says:
 * up to 5.x "/name/version_peers" (split at the last '/', the peer
 * suffix after '_' dropped), from 6.0 "/name@version(peer@x)" (the
 * peer suffix from the first '(' dropped, then the reference's split).
 * A lockfileVersion above 9 is not understood (an issue, no items); a
 * "packages" mapping whose keys give no item says so.
 *
 * libyaml reads some 75 MB/s.  A file entirely in the block subset pnpm
 * writes (scan_yaml_subset(): ASCII, two-space steps, plain or simply
 * quoted scalars, one-line flow collections, no anchors, aliases, tags
 * or second documents) is walked line by line instead, with the same
 * items, issues and result; anything else goes to libyaml.
 * fuzz_scan_pnpm checks that both agree.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "scan.h"
#include "scan_pkg.h"
#include "scan_yaml.h"

struct pnpm {
	struct scan_yaml	 yl;
	const struct scan_sink	*sink;
	int			 major;		/* lockfileVersion, 0 unknown */
	size_t			 declared;	/* keys of packages */
	size_t			 emitted;
};

/* Newest lockfile major this reader knows (pnpm 9 and 10 write 9.0). */
#define PNPM_MAJOR_MAX	9
static int
pnpm_key(struct pnpm *y, const char *s, size_t len)
{
	struct scan_item	 it;
	const char		*p;
	size_t			 at;

	while (len > 0 && s[0] == '/') {
		s++;
		len--;
	}
	while (len > 0 && s[len - 1] == '/')
		len--;
	y->declared++;
	memset(&it, 0, sizeof(it));
	if (y->major >= 1 && y->major <= 5) {
		/* name/version_peers: the name may hold '/' itself. */
		for (at = len; at > 0; at--)
			if (s[at - 1] == '/')
				break;
		if (at <= 1 || at == len)
			return (0);
		it.name.len = at - 1;
		it.version.p = s + at;
		if ((p = memchr(s + at, '_', len - at)) != NULL)
			len = (size_t)(p - s);
		it.version.len = len - at;
		if (it.version.len == 0)
			return (0);
	} else {
		/* name@version(peer@x)(...): the peers go first. */
		if ((p = memchr(s, '(', len)) != NULL)
			len = (size_t)(p - s);
		for (at = len; at > 0; at--)
			if (s[at - 1] == '@')
				break;
		/* at: one past the last '@'; both parts non-empty. */
		if (at <= 1 || at == len)
			return (0);
		it.name.len = at - 1;
		it.version.p = s + at;
		it.version.len = len - at;
	}
	it.kind = KIND_PACKAGE;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = s;
	it.origin.p = SCAN_ORIGIN_PNPM;
	it.origin.len = sizeof(SCAN_ORIGIN_PNPM) - 1;
	y->emitted++;
	return (y->sink->emit(y->sink->arg, &it));
}

/* The major of a lockfileVersion scalar ("6.0", 5.4, '9.0'), 0 if none. */
static int
pnpm_major(const char *s, size_t len)
{
	size_t	i;
	int	v = 0;

	for (i = 0; i < len && i < 4 && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (s[i] - '0');
	if (i == 0 || (i < len && s[i] != '.'))
		return (0);
	return (v);
}

/* The "packages" mapping, its start event read. */
static int
pnpm_packages(struct pnpm *y)
{
	yaml_event_t	ev;
	int		r;

	for (;;) {
		if (scan_yaml_next(&y->yl, &ev) == -1)
			return (-1);
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return (0);
		}
		if (ev.type == YAML_SCALAR_EVENT) {
			r = pnpm_key(y, (const char *)ev.data.scalar.value,
			    ev.data.scalar.length);
			yaml_event_delete(&ev);
			if (r == -1) {
				y->yl.failed = 1;
				return (-1);
			}
		} else if (scan_yaml_skip(&y->yl, &ev) == -1)
			return (-1);
		/* The value. */
		if (scan_yaml_next(&y->yl, &ev) == -1 ||
		    scan_yaml_skip(&y->yl, &ev) == -1)
			return (-1);
	}
}

/* The top-level mapping, its start event read. */
static int
pnpm_root(struct pnpm *y)
{
	yaml_event_t	ev;
	char		why[SCAN_REASON_MAX];
	int		seen = 0, is_pkgs, is_ver;

	for (;;) {
		if (scan_yaml_next(&y->yl, &ev) == -1)
			return (-1);
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return (0);
		}
		is_pkgs = !seen && ev.type == YAML_SCALAR_EVENT &&
		    ev.data.scalar.length == 8 &&
		    memcmp(ev.data.scalar.value, "packages", 8) == 0;
		is_ver = ev.type == YAML_SCALAR_EVENT &&
		    ev.data.scalar.length == 15 &&
		    memcmp(ev.data.scalar.value, "lockfileVersion", 15) == 0;
		if (scan_yaml_skip(&y->yl, &ev) == -1)
			return (-1);
		if (scan_yaml_next(&y->yl, &ev) == -1)
			return (-1);
		if (is_ver && ev.type == YAML_SCALAR_EVENT) {
			y->major = pnpm_major((const char *)
			    ev.data.scalar.value, ev.data.scalar.length);
			if (y->major > PNPM_MAJOR_MAX) {
				snprintf(why, sizeof(why), "lockfileVersion "
				    "%d is not supported", y->major);
				y->sink->issue(y->sink->arg,
				    SCAN_ISSUE_UNSUPPORTED, why);
				yaml_event_delete(&ev);
				y->yl.failed = 1;
				return (-1);
			}
		}
		if (is_pkgs) {
			seen = 1;
			if (ev.type == YAML_MAPPING_START_EVENT) {
				yaml_event_delete(&ev);
				if (pnpm_packages(y) == -1)
					return (-1);
				continue;
			}
		}
		if (scan_yaml_skip(&y->yl, &ev) == -1)
			return (-1);
	}
}

/* libyaml's reader, over the document in memory. */
static int
pnpm_yaml(struct pnpm *y)
{
	const struct scan_sink *sink = y->sink;
	yaml_event_t	 ev;
	char		 why[SCAN_REASON_MAX];
	int		 docs = 0, ret = -1;

	for (;;) {
		if (scan_yaml_next(&y->yl, &ev) == -1)
			goto out;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			/* Never a silent zero. */
			if (y->emitted == 0 && y->declared > 0) {
				snprintf(why, sizeof(why), "%zu packages "
				    "declared, none read", y->declared);
				sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED,
				    why);
			}
			ret = 0;
			goto out;
		case YAML_DOCUMENT_START_EVENT:
			docs++;
			yaml_event_delete(&ev);
			break;
		case YAML_MAPPING_START_EVENT:
			yaml_event_delete(&ev);
			if (docs == 1) {
				if (pnpm_root(y) == -1)
					goto out;
			} else {
				/* Checked only: skip to its end. */
				while (y->yl.depth > 0) {
					if (scan_yaml_next(&y->yl, &ev) == -1)
						goto out;
					yaml_event_delete(&ev);
				}
			}
			break;
		default:
			if (scan_yaml_skip(&y->yl, &ev) == -1)
				goto out;
			break;
		}
	}
 out:
	scan_yaml_free(&y->yl);
	return (ret);
}

/* The next content line's: whether deeper than ind, and a sequence. */
static void
pnpm_below(const char *p, const char *end, size_t ind, int *deeper,
    int *seq)
{
	struct scan_yaml_line	ln;

	*deeper = *seq = 0;
	if (scan_yaml_line(&p, end, &ln) == 1 && ln.ind > ind) {
		*deeper = 1;
		*seq = ln.seq;
	}
}

/*
 * The line walk over a document scan_yaml_subset() took: the events
 * pnpm_root() and pnpm_packages() act on, in their order.
 */
static int
pnpm_lines(struct pnpm *y, const char *buf, size_t len)
{
	struct scan_yaml_line	 ln;
	const char		*p = buf, *end = buf + len;
	char			 why[SCAN_REASON_MAX];
	size_t			 off, l;
	int			 seen = 0, in_pk = 0, deeper, seq;

	while (scan_yaml_line(&p, end, &ln) == 1) {
		if (ln.ind != 0) {
			if (in_pk && ln.ind == 2 && !ln.seq) {
				(void)scan_yaml_scalar(buf, ln.key, ln.klen,
				    &off, &l);
				if (pnpm_key(y, buf + off, l) == -1)
					return (-1);
			}
			continue;
		}
		in_pk = 0;
		(void)scan_yaml_scalar(buf, ln.key, ln.klen, &off, &l);
		if (l == 15 && memcmp(buf + off, "lockfileVersion", 15) == 0) {
			/* Its value if a scalar: "x: v", or "x:" alone. */
			if (ln.open) {
				pnpm_below(p, end, 0, &deeper, &seq);
				if (!deeper)
					y->major = 0;
			} else if (scan_yaml_scalar(buf, ln.val, ln.vlen, &off,
			    &l) == 0)
				y->major = pnpm_major(buf + off, l);
			if (y->major > PNPM_MAJOR_MAX) {
				snprintf(why, sizeof(why), "lockfileVersion "
				    "%d is not supported", y->major);
				y->sink->issue(y->sink->arg,
				    SCAN_ISSUE_UNSUPPORTED, why);
				return (-1);
			}
		} else if (!seen && l == 8 &&
		    memcmp(buf + off, "packages", 8) == 0) {
			seen = 1;
			if (ln.open) {
				pnpm_below(p, end, 0, &deeper, &seq);
				in_pk = deeper && !seq;
			}
		}
	}
	if (y->emitted == 0 && y->declared > 0) {
		snprintf(why, sizeof(why), "%zu packages declared, none read",
		    y->declared);
		y->sink->issue(y->sink->arg, SCAN_ISSUE_UNSUPPORTED, why);
	}
	return (0);
}

/*
 * Whether the line walk can take the document: in the subset, and no
 * "packages" given as a flow mapping with keys (rare; libyaml reads it).
 */
static int
pnpm_lines_ok(const char *buf, size_t len)
{
	struct scan_yaml_line	 ln;
	const char		*p = buf, *end = buf + len;
	size_t			 off, l;

	if (scan_yaml_subset(buf, len) == -1)
		return (0);
	while (scan_yaml_line(&p, end, &ln) == 1) {
		if (ln.ind != 0 || ln.open || ln.vlen == 0 ||
		    ln.val[0] != '{' || (ln.vlen == 2 && ln.val[1] == '}'))
			continue;
		(void)scan_yaml_scalar(buf, ln.key, ln.klen, &off, &l);
		if (l == 8 && memcmp(buf + off, "packages", 8) == 0)
			return (0);
	}
	return (1);
}

int
scan_pnpm_text(const char *buf, size_t len, const struct scan_sink *sink)
{
	struct pnpm	 y;

	memset(&y, 0, sizeof(y));
	y.sink = sink;
	if (pnpm_lines_ok(buf, len))
		return (pnpm_lines(&y, buf, len));
	return (scan_pnpm_yaml_mem(buf, len, sink));
}

int
scan_pnpm_yaml_mem(const char *buf, size_t len, const struct scan_sink *sink)
{
	struct pnpm	 y;

	memset(&y, 0, sizeof(y));
	y.sink = sink;
	if (scan_yaml_init_mem(&y.yl, buf, len, sink) == -1)
		return (-1);
	return (pnpm_yaml(&y));
}
