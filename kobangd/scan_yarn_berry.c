/*
 * Yarn Berry (2 and later) yarn.lock: a YAML document, read through
 * scan_yaml.c's event parser.  The reference reads every yarn.lock with
 * the v1 line algorithm, which finds nothing in it (SURFACES.md 13.4);
 * here (kobangd.yaml(5), the differences):
 *
 *	__metadata:
 *	  version: 8
 *	"@types/node@npm:^20.0.0, @types/node@npm:^20.1.0":
 *	  version: 20.11.5
 *	  resolution: "@types/node@npm:20.11.5"
 *	  linkType: hard
 *
 * every top-level entry but __metadata is a package: the name is that of
 * the entry's first descriptor (up to its '@' that follows the name, a
 * scope's own '@' at the start aside), as v1 names "name@range"; the
 * version is the entry's "version".  Entries with "linkType: soft" are
 * the project's own workspaces, links and portals, not packages.  Origin
 * "yarn", no detail: the shape of v1's items.  Entries that declare
 * packages but give none are an issue, never a silent zero.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "scan.h"
#include "scan_pkg.h"
#include "scan_yaml.h"

struct berry {
	struct scan_yaml	 yl;
	struct sbuf		 e;	/* the entry's key, then its version */
	size_t			 declared;
	size_t			 emitted;
};

static int
scalar_is(const yaml_event_t *ev, const char *lit)
{
	size_t	len = strlen(lit);

	return (ev->type == YAML_SCALAR_EVENT &&
	    ev->data.scalar.length == len &&
	    memcmp(ev->data.scalar.value, lit, len) == 0);
}

/* The name of the first descriptor of the key at e[0 .. klen). */
static void
berry_name(const char *s, size_t klen, struct sv *name)
{
	const char	*c, *at;

	if ((c = memchr(s, ',', klen)) != NULL)
		klen = (size_t)(c - s);
	while (klen > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		klen--;
	}
	while (klen > 0 && (s[klen - 1] == ' ' || s[klen - 1] == '\t'))
		klen--;
	name->p = s;
	name->len = klen;
	if (klen > 1 && (at = memchr(s + 1, '@', klen - 1)) != NULL)
		name->len = (size_t)(at - s);
}

/* An entry's mapping, its start read; the key is in b->e. */
static int
berry_entry(struct berry *b, size_t klen)
{
	struct scan_item	 it;
	yaml_event_t		 ev;
	size_t			 voff = 0, vlen = 0;
	int			 key, soft = 0, hasver = 0;

	for (;;) {
		if (scan_yaml_next(&b->yl, &ev) == -1)
			return (-1);
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		key = scalar_is(&ev, "version") ? 1 :
		    scalar_is(&ev, "linkType") ? 2 : 0;
		if (scan_yaml_skip(&b->yl, &ev) == -1)
			return (-1);
		if (scan_yaml_next(&b->yl, &ev) == -1)
			return (-1);
		if (key == 1 && ev.type == YAML_SCALAR_EVENT && !hasver) {
			vlen = ev.data.scalar.length;
			if ((voff = sbuf_add(&b->e, (const char *)
			    ev.data.scalar.value, vlen)) == SBUF_ERR) {
				yaml_event_delete(&ev);
				b->yl.failed = 1;
				b->yl.sink->issue(b->yl.sink->arg,
				    SCAN_ISSUE_LIMIT, "out of memory");
				return (-1);
			}
			hasver = 1;
		} else if (key == 2 && scalar_is(&ev, "soft"))
			soft = 1;
		if (scan_yaml_skip(&b->yl, &ev) == -1)
			return (-1);
	}
	if (soft)
		return (0);
	b->declared++;
	if (!hasver)
		return (0);
	memset(&it, 0, sizeof(it));
	it.kind = KIND_PACKAGE;
	it.ior = ITEM_BOOL_NIL;
	berry_name(b->e.p, klen, &it.name);
	it.version.p = b->e.p + voff;
	it.version.len = vlen;
	it.origin.p = SCAN_ORIGIN_YARN;
	it.origin.len = sizeof(SCAN_ORIGIN_YARN) - 1;
	b->emitted++;
	if (b->yl.sink->emit(b->yl.sink->arg, &it) == -1) {
		b->yl.failed = 1;
		return (-1);
	}
	return (0);
}

/* The top-level mapping, its start read. */
static int
berry_root(struct berry *b)
{
	yaml_event_t	ev;
	size_t		klen;
	int		meta;

	for (;;) {
		if (scan_yaml_next(&b->yl, &ev) == -1)
			return (-1);
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return (0);
		}
		sbuf_reset(&b->e);
		klen = 0;
		meta = scalar_is(&ev, "__metadata");
		if (ev.type == YAML_SCALAR_EVENT) {
			klen = ev.data.scalar.length;
			if (sbuf_add(&b->e, (const char *)ev.data.scalar.value,
			    klen) == SBUF_ERR) {
				yaml_event_delete(&ev);
				b->yl.failed = 1;
				b->yl.sink->issue(b->yl.sink->arg,
				    SCAN_ISSUE_LIMIT, "out of memory");
				return (-1);
			}
		}
		if (scan_yaml_skip(&b->yl, &ev) == -1)
			return (-1);
		if (scan_yaml_next(&b->yl, &ev) == -1)
			return (-1);
		if (!meta && klen > 0 && ev.type == YAML_MAPPING_START_EVENT) {
			yaml_event_delete(&ev);
			if (berry_entry(b, klen) == -1)
				return (-1);
			continue;
		}
		if (scan_yaml_skip(&b->yl, &ev) == -1)
			return (-1);
	}
}

int
scan_yarn_berry(const char *buf, size_t len, const struct scan_sink *sink)
{
	struct berry	 b;
	yaml_event_t	 ev;
	char		 why[SCAN_REASON_MAX];
	int		 root = 0, ret = -1;

	memset(&b, 0, sizeof(b));
	if (scan_yaml_init_mem(&b.yl, buf, len, sink) == -1)
		return (-1);
	sbuf_init(&b.e);
	for (;;) {
		if (scan_yaml_next(&b.yl, &ev) == -1)
			goto out;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_MAPPING_START_EVENT && !root) {
			root = 1;
			yaml_event_delete(&ev);
			if (berry_root(&b) == -1)
				goto out;
			continue;
		}
		if (ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT) {
			/* Another document, or not a mapping: checked only. */
			if (scan_yaml_skip(&b.yl, &ev) == -1)
				goto out;
			continue;
		}
		yaml_event_delete(&ev);
	}
	if (!root) {
		sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED,
		    "a Yarn Berry lockfile that is not a mapping");
		goto out;
	}
	/* Never a silent zero. */
	if (b.emitted == 0 && b.declared > 0) {
		snprintf(why, sizeof(why), "%zu packages declared, none with a "
		    "version", b.declared);
		sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED, why);
	}
	ret = 0;
 out:
	sbuf_free(&b.e);
	scan_yaml_free(&b.yl);
	return (ret);
}
