/*
 * yarn.lock (SURFACES.md 7): the reference's line algorithm, which reads
 * classic v1 lockfiles.  The file is UTF-8 text split on '\n', empty
 * lines kept.  A line that does not start with a space and ends with ':'
 * is a selector line: the final ':' dropped, '"' stripped from both
 * ends, split on ',' (empty parts dropped), the first part trimmed; the
 * name is the text before "@npm:" if it has one, else before its last
 * '@' (all of it without '@').  The next line whose trimmed text starts
 * with "version " gives the version ('"' stripped from both ends) and
 * emits the record; the name is then cleared.
 *
 * Where the reference reads nothing (SURFACES.md 13.4; kobangd.yaml(5),
 * the differences): a Yarn Berry lockfile, which has a "__metadata:"
 * line, is YAML and read by scan_yarn_berry.c; a line's final CR is
 * dropped, so a CRLF file reads as the same file with LF.  Selector
 * lines that give no record are an issue, never a silent zero.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "scan_pkg.h"
#include "utf8.h"

static void
trim_ws(const char **p, size_t *len)
{
	while (*len > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t'))
		(*len)--;
}

static void
trim_quotes(const char **p, size_t *len)
{
	while (*len > 0 && **p == '"') {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && (*p)[*len - 1] == '"')
		(*len)--;
}

/* The name of a selector line (without its ':'), or 0 if it has none. */
static int
yarn_selector(const char *s, size_t len, struct sv *name)
{
	const char	*c, *npm, *at = NULL;
	size_t		 i;

	trim_quotes(&s, &len);
	/* The first non-empty comma-separated part. */
	for (;;) {
		if (len == 0)
			return (0);
		if ((c = memchr(s, ',', len)) == NULL)
			break;
		if (c != s) {
			len = (size_t)(c - s);
			break;
		}
		s++;
		len--;
	}
	trim_ws(&s, &len);
	name->p = s;
	if (len > 0 && (npm = memmem(s, len, "@npm:", 5)) != NULL) {
		name->len = (size_t)(npm - s);
		return (1);
	}
	for (i = 0; i < len; i++)
		if (s[i] == '@')
			at = s + i;
	name->len = at != NULL ? (size_t)(at - s) : len;
	return (1);
}

int
scan_yarn_lock(const char *buf, size_t len, const struct scan_sink *sink)
{
	struct scan_item	 it;
	struct sv		 name = { NULL, 0 };
	const char		*p = buf, *end = buf + len, *nl, *l;
	char			 why[SCAN_REASON_MAX];
	size_t			 ll, declared = 0, emitted = 0;

	if (!utf8_valid(buf, len)) {
		sink->issue(sink->arg, SCAN_ISSUE_MALFORMED,
		    "not valid UTF-8 text");
		return (-1);
	}
	if (len == 0)
		return (0);
	if ((len >= 11 && memcmp(buf, "__metadata:", 11) == 0) ||
	    memmem(buf, len, "\n__metadata:", 12) != NULL)
		return (scan_yarn_berry(buf, len, sink));
	while (p <= end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = p;
		ll = (size_t)(nl - p);
		p = nl + 1;
		if (ll > 0 && l[ll - 1] == '\r')
			ll--;
		if (ll > 0 && l[0] != ' ' && l[ll - 1] == ':') {
			if (!yarn_selector(l, ll - 1, &name))
				name.p = NULL;
			else if (l[0] != '#')
				declared++;
			continue;
		}
		if (name.p == NULL)
			continue;
		trim_ws(&l, &ll);
		if (ll < 8 || memcmp(l, "version ", 8) != 0)
			continue;
		l += 8;
		ll -= 8;
		trim_quotes(&l, &ll);
		memset(&it, 0, sizeof(it));
		it.kind = KIND_PACKAGE;
		it.ior = ITEM_BOOL_NIL;
		it.name = name;
		it.version.p = l;
		it.version.len = ll;
		it.origin.p = SCAN_ORIGIN_YARN;
		it.origin.len = sizeof(SCAN_ORIGIN_YARN) - 1;
		if (sink->emit(sink->arg, &it) == -1)
			return (-1);
		emitted++;
		name.p = NULL;
	}
	/* Never a silent zero. */
	if (emitted == 0 && declared > 0) {
		snprintf(why, sizeof(why), "%zu entries, none with a version",
		    declared);
		sink->issue(sink->arg, SCAN_ISSUE_UNSUPPORTED, why);
	}
	return (0);
}
