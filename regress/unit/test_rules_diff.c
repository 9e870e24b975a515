/*
 * The rule engine against a plain evaluation: RULES.md 6.1 and 6.2
 * spelt out as loops over rules_match(), rules_field_value() and
 * rules_flag_value(), building each finding with strdup as the first
 * engine did.  For generated items (every kind, names in mixed case,
 * Unicode and broken UTF-8, paths, versions, URLs), changes of every
 * kind and rulesets (the default one, plus rules drawn at random from
 * the vocabulary), the engine's findings must equal the reference's
 * field for field, in the same order, with the same ids drawn in the
 * same order, and it must ask the held table the same questions.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "config.h"
#include "differ.h"
#include "rules.h"
#include "uuid.h"

#define TS	"2026-06-01T10:00:00.250Z"

static uint64_t	rng;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((uint32_t)((rng * 0x2545f4914f6cdd1dULL) >> 32) % n);
}

#define PICK(a)	((a)[rnd(nitems(a))])

/* Ids from a counter, so two evaluations can be compared id for id. */
static int
seq_next(void *arg, char out[UUID_BUFSZ])
{
	unsigned int	*c = arg;
	uint8_t		 b[16] = { 0 };

	(*c)++;
	b[12] = (uint8_t)(*c >> 24);
	b[13] = (uint8_t)(*c >> 16);
	b[14] = (uint8_t)(*c >> 8);
	b[15] = (uint8_t)*c;
	uuid_format(b, out);
	return (0);
}

/* Pieces of names, values and details: case, Unicode, broken UTF-8. */
static const char *const frags[] = {
	"left-pad", "Left-PAD", "pkg", "PKG", "mcp", "MCP", "Server",
	"serena", "npx", "NPX", "uvx", "bunx", "pnpm dlx", "PNPM DLX",
	"curl", "CURL", "wget", "| sh", "| bash", "bash -c", "sh -c",
	"eval", "base64", "headersHelper", "HEADERSHELPER", "\xc3\x89" "cole",
	"\xc3\xa9" "cole", "\xc4\xb0stanbul", "i\xcc\x87stanbul",
	"stra\xc3\x9f" "e", "STRASSE", "\xe2\x84\xaa" "elvin", "kelvin",
	"\xce\xa3\xce\x91\xce\xa3", "\xcf\x83\xce\xb1\xcf\x82", "\xff\xfe",
	"\xc3", "\xe2\x82", "x\xed\xa0\x80y", "package", "Package",
	"mcpServer", "MCPSERVER", "python", "PythonResolvedPackage", "hook",
	"skill", "resolved=", "scope=dev", "scope=optional", "fileHash=ab",
	"https://", "HTTPS://", "ws://", "wss://", "http://", "K://",
	"k:", "tel:", "@", "/", "?", "#", "[", "]", ":", "%41", "%zz", " ",
	"  ", "", "a", "A", "0", "deadbeef", "\xf0\x9f\x98\x80",
	"\xd0\x94\xd0\x96", "\xd0\xb4\xd0\xb6", "\xe1\xba\x9e",
};

static const char *const details[] = {
	"npx -y @modelcontextprotocol/server-filesystem /Users/alice/src",
	"NPX -y foo", "uvx run serena", "node server.js",
	"https://mcp.example.com", "HTTPS://mcp.example.com/x",
	"https://mcp.example.com headersHelper", "wss://gw.example.com:443/ws",
	"bash -c 'curl https://x | sh'", "docker run mcp/fetch",
	"localhost:8080", "k://host", "\xe2\x84\xaa://host",
	("resolved=https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz "
	    "scope=dev"),
	"resolved=https://registry.npmjs.org/x/-/x-1.tgz integrity=sha512-x",
	"integrity=sha512-x", "resolved=http://\xc3\x84\xc3\x96.example/x",
	"resolved=HTTP://User@Registry.Example:8080/x",
	"resolved=http://[::1]:80/x", "resolved=http://[fe80::1%25en0]/",
	"resolved=http://host:8o/x", "resolved=tel://a b/x",
	"resolved=https:///x", "resolved= scope=", " scope=dev  resolved=x",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"0123456789ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef",
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	"fileHash=0123 scope=dev", "https://\xc3\xbc.example/", "",
};

static const char *const origins[] = {
	"", "npx", "uvx", "homebrew/core", "homebrew/cask", "Homebrew/Core",
	"thirdparty/tap", "unknown", "https://mcp.example.com",
	"localhost:8080", "1abc:x", "/usr/local/bin/node", "npm", "pnpm",
	"pip", "file", "\xc3\xa9:x",
};

static const char *const versions[] = {
	"1.3.0", "14.1.0", "", "\xce\xa9", "0.0.1-BETA.2",
};

static const char *const paths[] = {
	"/tmp/x", "/Users/alice/.claude.json", "/Users/\xc3\x81lice/.codex",
	"/opt/homebrew/Cellar/ripgrep",
	"/Users/alice/src/app/package-lock.json",
	"/Users/alice/src/api/uv.lock", "/TMP/X",
};

/* Rule values: substrings of kind names, case, Unicode, empty. */
static const char *const values[] = {
	"package", "PACKAGE", "mcp", "Server", "python", "Requirement", "npx",
	"NPX", "", "\xc3\xa9", "\xc3\x89", "i\xcc\x87", "\xc4\xb0", "ss",
	"\xc3\x9f", "k", "\xe2\x84\xaa", "\xcf\x83", "\xce\xa3", "curl",
	"| sh", "resolved", "/", "homebrew/core", "registry.npmjs.org",
	"REGISTRY.NPMJS.ORG", "dev", "abc", "a", "hook", "skill", "instruction",
	"pnpm dlx", "headershelper", "\xff", "\xd0\x94", "\xe1\xba\x9e",
	("\xc3\x9f" "e"),
};

static const char *const schemes[] = {
	"http", "HTTPS", "ws", "wss", "localhost", "\xe2\x84\xaa", "k", "tel",
	"", "npx", "\xc3\xa9",
};

static const char *const ruleids[] = {
	"r0", "r1", "dup", "dup", "", "agent.mcp.new-server",
	"homebrew.untrusted-tap",
};

/* Generated strings, freed at the end of each test. */
static char	**owned;
static size_t	  nowned;

static char *
own(char *p)
{
	if (p == NULL ||
	    (owned = reallocarray(owned, nowned + 1, sizeof(*owned))) == NULL)
		cr_assert_fail("out of memory");
	owned[nowned++] = p;
	return (p);
}

static void
free_owned(void)
{
	while (nowned > 0)
		free(owned[--nowned]);
	free(owned);
	owned = NULL;
}

static char *
gen_str(int nfrag)
{
	char	 buf[512];
	size_t	 k = 0, l;
	int	 i;
	char	*p;

	buf[0] = '\0';
	for (i = 0; i < nfrag; i++) {
		const char *f = PICK(frags);

		l = strlen(f);
		if (k + l + 1 >= sizeof(buf))
			break;
		memcpy(buf + k, f, l);
		k += l;
	}
	buf[k] = '\0';
	p = own(strdup(buf));
	return (p);
}

static void
gen_item(struct item *it)
{
	memset(it, 0, sizeof(*it));
	it->surface = rnd(SURFACE_COUNT);
	it->kind = rnd(KIND_COUNT);
	it->name = gen_str(1 + rnd(3));
	it->version = rnd(3) == 0 ? NULL : (char *)PICK(versions);
	it->path = rnd(4) == 0 ? gen_str(1 + rnd(2)) : (char *)PICK(paths);
	it->origin = rnd(4) == 0 ? gen_str(1 + rnd(2)) : (char *)PICK(origins);
	it->installed_on_request = (int)rnd(3) - 1;
	switch (rnd(4)) {
	case 0:
		it->detail = NULL;
		break;
	case 1:
		it->detail = gen_str(1 + rnd(5));
		break;
	default:
		it->detail = (char *)PICK(details);
		break;
	}
}

static void
gen_list(struct strlist *l, const char *const *pool, size_t npool,
    size_t max)
{
	size_t	i;

	l->n = rnd((uint32_t)max + 1);
	if ((l->v = calloc(l->n + 1, sizeof(*l->v))) == NULL)
		cr_assert_fail("calloc");
	for (i = 0; i < l->n; i++)
		l->v[i] = (char *)pool[rnd((uint32_t)npool)];
}

static void
gen_rule(struct rule *r)
{
	memset(r, 0, sizeof(*r));
	r->id = (char *)PICK(ruleids);
	r->surface = rnd(SURFACE_COUNT);
	r->enabled = rnd(5) != 0;
	r->triggers = rnd(1U << TRIGGER_COUNT);
	r->match = rnd(MATCH_COUNT);
	r->field = rnd(FIELD_COUNT);
	/* Lists only for their own match kind, as the loader makes them. */
	if (r->match == MATCH_FIELD_CONTAINS_ANY)
		gen_list(&r->values, values, nitems(values), 4);
	if (r->match == MATCH_FIELD_NOT_IN_LIST) {
		gen_list(&r->allowed, origins, nitems(origins), 3);
		if (r->allowed.n > 0 && rnd(2))
			r->allowed.v[0] = (char *)PICK(values);
	}
	if (r->match == MATCH_FIELD_HAS_URL_SCHEME)
		gen_list(&r->schemes, schemes, nitems(schemes), 3);
	r->flag = rnd(FLAG_COUNT);
	r->expected = rnd(2);
	r->severity = rnd(SEVERITY_COUNT);
	r->title = rnd(2) ? "Title \xc3\xa9" : "t";
	r->rationale = rnd(2) ? "Why, at some length, with \xe2\x84\xaa." : "";
}

/* The default ruleset, then nrand random rules; the strings borrowed. */
static struct ruleset
gen_ruleset(const struct ruleset *def, size_t nrand)
{
	struct ruleset	rs;
	size_t		i, n = def->n + nrand;

	if ((rs.v = calloc(n, sizeof(*rs.v))) == NULL)
		cr_assert_fail("calloc");
	rs.n = n;
	if (def->n > 0)
		memcpy(rs.v, def->v, def->n * sizeof(*rs.v));
	for (i = def->n; i < n; i++)
		gen_rule(&rs.v[i]);
	/* Shuffle, so random rules sit between the default ones. */
	for (i = n; i > 1; i--) {
		size_t		j = rnd((uint32_t)i);
		struct rule	t = rs.v[i - 1];

		rs.v[i - 1] = rs.v[j];
		rs.v[j] = t;
	}
	return (rs);
}

/* The lists gen_rule() allocated; everything else is borrowed. */
static void
free_ruleset(struct ruleset *rs, const struct ruleset *def)
{
	size_t	i, j;

	for (i = 0; i < rs->n; i++) {
		for (j = 0; j < def->n; j++)
			if (rs->v[i].values.v == def->v[j].values.v &&
			    rs->v[i].allowed.v == def->v[j].allowed.v &&
			    rs->v[i].schemes.v == def->v[j].schemes.v)
				break;
		if (j < def->n)
			continue;
		free(rs->v[i].values.v);
		free(rs->v[i].allowed.v);
		free(rs->v[i].schemes.v);
	}
	free(rs->v);
}

/*
 * The reference.  A finding as RULES.md 6.3 lists it, every string its
 * own allocation.
 */
static char *
xdup(const char *s)
{
	char	*p;

	if ((p = strdup(s != NULL ? s : "")) == NULL)
		cr_assert_fail("strdup");
	return (p);
}

struct rbuf {
	struct finding	*v;
	size_t		 n;
};

static void
ref_add(struct rbuf *b, const struct rule *r, const struct item *it,
    const struct idsource *ids)
{
	struct finding	*f;
	char		*v;
	int		 fl;

	if ((b->v = reallocarray(b->v, b->n + 1, sizeof(*b->v))) == NULL)
		cr_assert_fail("reallocarray");
	f = &b->v[b->n++];
	memset(f, 0, sizeof(*f));
	cr_assert_eq(idsource_next(ids, f->id), 0);
	f->timestamp = xdup(TS);
	f->surface = r->surface;
	f->severity = r->severity;
	if ((f->item_id = item_id(it)) == NULL)
		cr_assert_fail("item_id");
	f->rule_id = xdup(r->id);
	f->title = xdup(r->title);
	f->rationale = xdup(r->rationale);
	f->item_name = xdup(it->name);
	f->evidence_path = xdup(it->path);
	if (it->detail != NULL)
		f->evidence_detail = xdup(it->detail);
	switch (r->match) {
	case MATCH_FIELD_CONTAINS_ANY:
	case MATCH_FIELD_NOT_IN_LIST:
	case MATCH_FIELD_HAS_URL_SCHEME:
		f->matched_field = xdup(rule_field_name(r->field));
		cr_assert_eq(rules_field_value(it, r->field, &v), 0);
		f->matched_value = v;
		break;
	case MATCH_FLAG_EQUALS:
		f->matched_field = xdup(rule_flag_name(r->flag));
		if ((fl = rules_flag_value(it, r->flag)) != RULES_NIL)
			f->matched_value = xdup(fl ? "true" : "false");
		break;
	default:
		break;
	}
}

static int
ref_applies(const struct rule *r, const struct item *it, enum trigger t)
{
	return (r->enabled && r->surface == it->surface &&
	    (r->triggers & RULE_TRIGGER(t)) != 0);
}

static struct rbuf
ref_changes(const struct ruleset *rs, const struct change *ch, size_t n,
    const struct idsource *ids)
{
	struct rbuf		 b = { NULL, 0 };
	const struct item	*it;
	enum trigger		 t;
	size_t			 i, j;
	int			 m;

	for (i = 0; i < n; i++) {
		if (ch[i].quiet)
			continue;
		if (ch[i].kind == CHANGE_REMOVED) {
			it = ch[i].old;
			t = TRIGGER_REMOVED;
		} else {
			it = ch[i].new;
			t = ch[i].kind == CHANGE_ADDED ? TRIGGER_ADDED :
			    TRIGGER_MODIFIED;
		}
		for (j = 0; j < rs->n; j++) {
			if (!ref_applies(&rs->v[j], it, t))
				continue;
			cr_assert_neq(m = rules_match(&rs->v[j], it), -1);
			if (m)
				ref_add(&b, &rs->v[j], it, ids);
		}
	}
	return (b);
}

/* A held table: a fixed pseudo-random answer per key; it logs the asks. */
struct held {
	uint64_t	log;
	size_t		asks;
};

static uint64_t
keyhash(enum surface s, const char *item, const char *rule)
{
	uint64_t		 h = 1469598103934665603ULL ^ (unsigned)s;
	const unsigned char	*p;

	for (p = (const unsigned char *)item; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ 0x100) * 1099511628211ULL;
	for (p = (const unsigned char *)rule; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (h);
}

static int
held_fn(void *arg, enum surface s, const char *item, const char *rule)
{
	struct held	*h = arg;
	uint64_t	 k = keyhash(s, item, rule);

	h->asks++;
	h->log = (h->log ^ k) * 0x100000001b3ULL;
	return ((k >> 7) % 4 == 0);
}

static int
in_seen(char **keys, size_t n, const char *k)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(keys[i], k) == 0)
			return (1);
	return (0);
}

static char *
key_of(enum surface s, const char *item, const char *rule)
{
	char	*k;

	/* '\n' is in no generated id: the key cannot alias. */
	if (asprintf(&k, "%d\n%s\n%s", (int)s, item, rule) == -1)
		cr_assert_fail("asprintf");
	return (k);
}

static struct rbuf
ref_present(const struct ruleset *rs, const struct item *items, size_t n,
    const struct finding *chf, size_t nchf, struct held *held,
    const struct idsource *ids)
{
	struct rbuf	 b = { NULL, 0 };
	char		**seen = NULL, *id, *k;
	const char	*rid;
	size_t		 nseen = 0, i, j;
	int		 m;

	if ((seen = calloc(nchf + n * rs->n + 1, sizeof(*seen))) == NULL)
		cr_assert_fail("calloc");
	for (i = 0; i < nchf; i++)
		seen[nseen++] = key_of(chf[i].surface, chf[i].item_id,
		    chf[i].rule_id);
	for (i = 0; i < n; i++) {
		for (j = 0; j < rs->n; j++) {
			if (!ref_applies(&rs->v[j], &items[i], TRIGGER_PRESENT))
				continue;
			cr_assert_neq(m = rules_match(&rs->v[j], &items[i]),
			    -1);
			if (!m)
				continue;
			if ((id = item_id(&items[i])) == NULL)
				cr_assert_fail("item_id");
			rid = rs->v[j].id != NULL ? rs->v[j].id : "";
			k = key_of(items[i].surface, id, rid);
			if (in_seen(seen, nseen, k) || (held != NULL &&
			    held_fn(held, items[i].surface, id, rid))) {
				free(k);
				free(id);
				continue;
			}
			free(id);
			ref_add(&b, &rs->v[j], &items[i], ids);
			seen[nseen++] = k;
		}
	}
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	return (b);
}

static int
streq_nil(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

#define NS(s)	((s) != NULL ? (s) : "(nil)")

static void
same(const char *what, int round, const struct finding *got, size_t ngot,
    const struct finding *want, size_t nwant)
{
	size_t	i;

	for (i = 0; i < ngot && i < nwant; i++) {
		const struct finding	*g = &got[i], *w = &want[i];
		const char		*field = NULL, *gv = "", *wv = "";

#define CMP(f)	if (field == NULL && !streq_nil(g->f, w->f)) {	\
			field = #f; gv = NS(g->f); wv = NS(w->f);	\
		}
		CMP(id);
		CMP(timestamp);
		CMP(item_id);
		CMP(rule_id);
		CMP(title);
		CMP(rationale);
		CMP(item_name);
		CMP(evidence_path);
		CMP(evidence_detail);
		CMP(matched_field);
		CMP(matched_value);
#undef CMP
		if (field == NULL && g->surface != w->surface)
			field = "surface";
		if (field == NULL && g->severity != w->severity)
			field = "severity";
		cr_assert_null(field, "%s round %d finding %zu of %zu: %s is "
		    "\"%s\", reference \"%s\" (engine: rule %s on %s; "
		    "reference: rule %s on %s)", what, round, i, nwant, field,
		    gv, wv, NS(g->rule_id), NS(g->item_id), NS(w->rule_id),
		    NS(w->item_id));
	}
	cr_assert_eq(ngot, nwant, "%s round %d: %zu findings, reference %zu "
	    "(first extra: rule %s on %s)", what, round, ngot, nwant,
	    ngot > nwant ? NS(got[nwant].rule_id) : nwant > ngot ?
	    NS(want[ngot].rule_id) : "-", ngot > nwant ?
	    NS(got[nwant].item_id) : nwant > ngot ? NS(want[ngot].item_id) :
	    "-");
}

#define NROUNDS	300
#define NITEMS	400
#define NCHANGE	300

static struct config	defcfg;

/*
 * One round: a ruleset, a snapshot, changes over it; the engine (per
 * call, and through one compiled program kept across calls) against the
 * reference, for changes and for present with and without a held table.
 */
static void
round_once(int round, const struct ruleset *rs, struct rules_prog *prog,
    size_t *nfound)
{
	static struct item	 pool[NITEMS];
	struct change		 ch[NCHANGE];
	struct finding		*cf, *pf;
	struct rbuf		 rc, rp;
	struct held		 hr = { 0, 0 }, he = { 0, 0 };
	struct rules_held	 held = { held_fn, &he };
	unsigned int		 ce = 0, cref = 0;
	struct idsource		 ide = { seq_next, &ce };
	struct idsource		 idr = { seq_next, &cref };
	size_t			 i, ncf, npf, nitem = 1 + rnd(NITEMS);

	for (i = 0; i < nitem; i++) {
		/* Repeats: the same item twice in a snapshot, or a batch. */
		if (i > 0 && rnd(8) == 0)
			pool[i] = pool[rnd((uint32_t)i)];
		else
			gen_item(&pool[i]);
	}
	for (i = 0; i < NCHANGE; i++) {
		memset(&ch[i], 0, sizeof(ch[i]));
		ch[i].kind = rnd(CHANGE_COUNT);
		if (ch[i].kind != CHANGE_ADDED)
			ch[i].old = &pool[rnd((uint32_t)nitem)];
		if (ch[i].kind != CHANGE_REMOVED)
			ch[i].new = &pool[rnd((uint32_t)nitem)];
		ch[i].quiet = rnd(10) == 0;
	}

	/* Changes, compiled per call. */
	rc = ref_changes(rs, ch, NCHANGE, &idr);
	cr_assert_eq(rules_eval_changes(rs, ch, NCHANGE, TS, &ide, &cf, &ncf),
	    0);
	same("changes", round, cf, ncf, rc.v, rc.n);
	rules_findings_free(cf, ncf);

	/* Changes, through the kept program (its memos from earlier rounds). */
	ce = cref = 0;
	cr_assert_eq(rules_prog_changes(prog, ch, NCHANGE, TS, &ide, &cf,
	    &ncf), 0);
	same("changes (kept program)", round, cf, ncf, rc.v, rc.n);

	/* Present: after those change findings, with a held table. */
	ce = cref = 0;
	rp = ref_present(rs, pool, nitem, cf, ncf, &hr, &idr);
	cr_assert_eq(rules_prog_present(prog, pool, nitem, cf, ncf, &held, TS,
	    &ide, &pf, &npf), 0);
	same("present", round, pf, npf, rp.v, rp.n);
	cr_assert_eq(he.asks, hr.asks, "round %d: held table asked %zu "
	    "times, reference %zu", round, he.asks, hr.asks);
	cr_assert_eq(he.log, hr.log, "round %d: held table asked other "
	    "questions than the reference", round);
	*nfound += rc.n + rp.n;
	rules_findings_free(pf, npf);
	rules_findings_free(rp.v, rp.n);

	/* Present as on a baseline: no change findings, no table. */
	ce = cref = 0;
	rp = ref_present(rs, pool, nitem, NULL, 0, NULL, &idr);
	cr_assert_eq(rules_eval_present(rs, pool, nitem, NULL, 0, NULL, TS,
	    &ide, &pf, &npf), 0);
	same("present (baseline)", round, pf, npf, rp.v, rp.n);
	*nfound += rp.n;
	rules_findings_free(pf, npf);
	rules_findings_free(rp.v, rp.n);
	rules_findings_free(cf, ncf);
	rules_findings_free(rc.v, rc.n);
}

static void
run_rounds(uint64_t seed, size_t maxrand, int present_defaults)
{
	struct ruleset		 def, rs;
	struct rules_prog	*prog;
	size_t			 nfound = 0, i;
	int			 r, k;

	rng = seed;
	config_default(&defcfg);
	def = defcfg.rules;
	cr_assert_gt(def.n, 0);
	for (r = 0; r < NROUNDS; r += 10) {
		rs = gen_ruleset(&def, maxrand == 0 ? 0 : rnd(maxrand + 1));
		/* Some default rules also as present, for dedupe. */
		for (i = 0; present_defaults && i < rs.n; i++)
			if (rnd(3) == 0)
				rs.v[i].triggers |=
				    RULE_TRIGGER(TRIGGER_PRESENT);
		cr_assert_not_null(prog = rules_compile(&rs));
		/* Ten rounds per ruleset: a kept program's memos carry over. */
		for (k = 0; k < 10; k++)
			round_once(r + k, &rs, prog, &nfound);
		rules_prog_free(prog);
		free_ruleset(&rs, &def);
	}
	config_free(&defcfg);
	free_owned();
	/* A comparison of nothing with nothing would prove nothing. */
	cr_assert_gt(nfound, (size_t)NROUNDS * 10, "only %zu findings",
	    nfound);
}

Test(rules_diff, default_ruleset)
{
	run_rounds(0x243f6a8885a308d3ULL, 0, 0);
}

Test(rules_diff, default_ruleset_some_present)
{
	run_rounds(0x13198a2e03707344ULL, 0, 1);
}

Test(rules_diff, default_plus_random_rules)
{
	run_rounds(0xa4093822299f31d0ULL, 40, 1);
}

Test(rules_diff, random_rules_only_many)
{
	struct ruleset	empty = { NULL, 0 }, rs;
	struct rules_prog *prog;
	size_t		nfound = 0;
	int		r, k;

	rng = 0x082efa98ec4e6c89ULL;
	for (r = 0; r < NROUNDS; r += 10) {
		rs = gen_ruleset(&empty, 1 + rnd(120));
		cr_assert_not_null(prog = rules_compile(&rs));
		for (k = 0; k < 10; k++)
			round_once(r + k, &rs, prog, &nfound);
		rules_prog_free(prog);
		free_ruleset(&rs, &empty);
	}
	free_owned();
	cr_assert_gt(nfound, (size_t)NROUNDS * 10, "only %zu findings",
	    nfound);
}

/*
 * The random id source goes through batches: every id a well-formed v4
 * UUID, none repeated, across more findings than one batch holds.
 */
Test(rules_diff, random_ids)
{
	struct item	 it[300];
	struct rule	 r;
	struct ruleset	 rs = { &r, 1 };
	struct finding	*f;
	size_t		 nf, i, j;

	memset(&r, 0, sizeof(r));
	r.id = "all";
	r.surface = SURFACE_HOMEBREW;
	r.enabled = 1;
	r.triggers = RULE_TRIGGER(TRIGGER_PRESENT);
	r.match = MATCH_ALWAYS;
	r.title = r.rationale = "x";
	rng = 7;
	for (i = 0; i < nitems(it); i++) {
		gen_item(&it[i]);
		it[i].surface = SURFACE_HOMEBREW;
		it[i].name = gen_str(4);
		/* distinct ids: the batch dedupe must keep all */
		if (asprintf(&it[i].path, "/tmp/%zu", i) == -1)
			cr_assert_fail("asprintf");
		own(it[i].path);
	}
	cr_assert_eq(rules_eval_present(&rs, it, nitems(it), NULL, 0, NULL,
	    TS, uuid_random_source(), &f, &nf), 0);
	cr_assert_eq(nf, nitems(it));
	for (i = 0; i < nf; i++) {
		cr_assert(uuid_valid_v4(f[i].id), "id %zu: %s", i, f[i].id);
		for (j = 0; j < i; j++)
			cr_assert_str_neq(f[i].id, f[j].id);
	}
	/* A caller may replace a finding's timestamp alone (rule.h). */
	free(f[0].timestamp);
	cr_assert_not_null(f[0].timestamp = strdup("2026-01-01T00:00:00.000Z"));
	rules_findings_free(f, nf);
	free_owned();
}
