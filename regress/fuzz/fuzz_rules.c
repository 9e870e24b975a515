/*
 * libFuzzer harness for what the rule engine parses out of untrusted
 * item strings: the URL parser (fieldHasURLScheme, registry, command),
 * detail key=value pieces, the Unicode lowercasing, every field and
 * flag, and the match kinds.  Besides not crashing, it checks that
 * values lie inside the strings they came from, that the ASCII fast
 * path of fieldContainsAny agrees with plain lowercase-and-search, and
 * that the compiled engine (rules_eval_changes()) fires exactly the
 * rules rules_match() accepts, with the same evidence.
 *
 * Input: byte 0 picks surface and kind; the rest is origin, detail and
 * a search value, separated by NUL bytes.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "differ.h"
#include "rules.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
part(const uint8_t **p, const uint8_t *end)
{
	const uint8_t	*z;
	char		*s;
	size_t		 n;

	z = memchr(*p, 0, (size_t)(end - *p));
	n = z != NULL ? (size_t)(z - *p) : (size_t)(end - *p);
	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + (z != NULL);
	return (s);
}

static int
seq_next(void *arg, char out[UUID_BUFSZ])
{
	uint8_t	b[16] = { 0 };

	uuid_format(b, out);
	return (0);
}

/*
 * Every match kind on every field, and flagEquals on every flag: the
 * engine's findings are the rules rules_match() accepts, in order.
 */
static void
engine_agrees(const struct item *it, const struct rule *tmpl)
{
	struct rule		 rs[MATCH_COUNT * FIELD_COUNT + 2 * FLAG_COUNT];
	char			 ids[nitems(rs)][8];
	struct ruleset		 set = { rs, 0 };
	struct idsource		 seq = { seq_next, NULL };
	struct change		 ch;
	struct finding		*f;
	size_t			 nf, i, k = 0;
	char			*v;
	int			 m, fl;

	for (m = 0; m < MATCH_COUNT; m++)
		for (fl = 0; fl < (m == MATCH_FLAG_EQUALS ? 2 * FLAG_COUNT :
		    FIELD_COUNT); fl++) {
			rs[set.n] = *tmpl;
			rs[set.n].surface = it->surface;
			rs[set.n].triggers = RULE_TRIGGER(TRIGGER_ADDED);
			rs[set.n].match = (enum match_kind)m;
			rs[set.n].field = (enum rule_field)fl;
			rs[set.n].flag = (enum rule_flag)(fl / 2);
			rs[set.n].expected = fl % 2;
			snprintf(ids[set.n], sizeof(ids[0]), "%zu", set.n);
			rs[set.n].id = ids[set.n];
			set.n++;
		}
	memset(&ch, 0, sizeof(ch));
	ch.kind = CHANGE_ADDED;
	ch.new = it;
	if (rules_eval_changes(&set, &ch, 1, "t", &seq, &f, &nf) == -1)
		abort();
	for (i = 0; i < set.n; i++) {
		if ((m = rules_match(&rs[i], it)) == -1)
			abort();
		if (!m)
			continue;
		if (k >= nf || strcmp(f[k].rule_id, rs[i].id) != 0)
			abort();
		if (rs[i].match != MATCH_ALWAYS &&
		    rs[i].match != MATCH_FLAG_EQUALS) {
			if (rules_field_value(it, rs[i].field, &v) == -1)
				abort();
			if (v == NULL || f[k].matched_value == NULL ||
			    strcmp(v, f[k].matched_value) != 0)
				abort();
			free(v);
		}
		k++;
	}
	if (k != nf)
		abort();
	rules_findings_free(f, nf);
}

/* A derived value must be a piece of the string it came from. */
static void
inside(const char *v, const char *whole)
{
	if (v != NULL && whole != NULL && strstr(whole, v) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t		*p, *end = data + size;
	struct rules_url	 u;
	struct item		 it;
	struct rule		 r;
	char			*origin, *detail, *value, *v, *ld, *lv;
	char			*vals[1], *schemes[2] = { "https", "ws" };
	size_t			 n, ldn, lvn;
	int			 f, m, want;

	if (size < 1)
		return (0);
	p = data + 1;
	origin = part(&p, end);
	detail = part(&p, end);
	value = part(&p, end);

	memset(&it, 0, sizeof(it));
	it.surface = (enum surface)(data[0] % SURFACE_COUNT);
	it.kind = (enum item_kind)((data[0] >> 3) % KIND_COUNT);
	it.name = "fuzz";
	it.path = "/tmp/fuzz";
	it.origin = origin;
	it.detail = (data[0] & 0x80) ? NULL : detail;
	it.installed_on_request = ITEM_BOOL_NIL;

	n = strlen(detail);
	if (rules_url_parse(detail, n, &u) == 0) {
		if (u.scheme != NULL && (u.scheme != detail ||
		    u.schemelen == 0 || u.schemelen >= n))
			abort();
		if (u.authority && (u.host < detail ||
		    u.host + u.hostlen > detail + n))
			abort();
		if (u.iplit && (u.hostlen < 2 || u.host[0] != '[' ||
		    u.host[u.hostlen - 1] != ']'))
			abort();
	}

	for (f = 0; f < FIELD_COUNT; f++) {
		if (rules_field_value(&it, (enum rule_field)f, &v) == -1)
			abort();
		switch (f) {
		case FIELD_SOURCE_URL:
		case FIELD_DEPENDENCY_SCOPE:
		case FIELD_FILE_HASH:
			inside(v, it.detail);
			break;
		case FIELD_COMMAND:
		case FIELD_PACKAGE_MANAGER:
			inside(v, it.origin);
			break;
		}
		free(v);
	}
	for (f = 0; f < FLAG_COUNT; f++) {
		m = rules_flag_value(&it, (enum rule_flag)f);
		if (m != 0 && m != 1 && m != RULES_NIL)
			abort();
	}

	memset(&r, 0, sizeof(r));
	r.id = "fuzz";
	r.enabled = 1;
	r.field = FIELD_DETAIL;
	vals[0] = value;
	r.values.v = r.allowed.v = vals;
	r.values.n = r.allowed.n = 1;
	r.schemes.v = schemes;
	r.schemes.n = 2;
	for (m = 0; m < MATCH_COUNT; m++) {
		r.match = (enum match_kind)m;
		if (rules_match(&r, &it) == -1)
			abort();
	}

	engine_agrees(&it, &r);

	/* fieldContainsAny agrees with lowercasing both and searching */
	r.match = MATCH_FIELD_CONTAINS_ANY;
	if ((ld = rules_lowercase(detail, n, &ldn)) == NULL ||
	    (lv = rules_lowercase(value, strlen(value), &lvn)) == NULL)
		abort();
	if (ldn > 2 * n || lvn > 2 * strlen(value))
		abort();
	want = it.detail != NULL && lvn > 0 && memmem(ld, ldn, lv, lvn) != NULL;
	if (rules_match(&r, &it) != want)
		abort();
	free(ld);
	free(lv);

	free(origin);
	free(detail);
	free(value);
	return (0);
}
