/*
 * The rule engine (RULES.md 3-6): pure functions from a ruleset, changes
 * or present items, a timestamp and an id source to findings.  No clock,
 * no file, no global state; the caller persists what comes out.
 *
 * Shapes chosen from the spec:
 * - A change is judged on its new item for added and modified and on its
 *   old item for removed.  Findings come in change order, then rule
 *   order; the present trigger never fires here.
 * - Present evaluation walks the whole snapshot in collector order.  A
 *   candidate is dropped when its (surface, item id, rule id) is among
 *   this commit's change findings (none for a baseline), when the
 *   findings table already holds one (asked through struct rules_held),
 *   or when an earlier candidate of the same batch was kept.  The spec
 *   keys on the string surface|itemID|ruleID; comparing the three parts
 *   is the same except that a '|' in a rule id cannot alias two keys.
 * - Strings compare byte for byte (no Unicode canonical equivalence);
 *   fieldContainsAny lowercases with the Unicode 14 default mappings;
 *   an empty string in `values` never matches (RULES.md 10.2).
 * - fieldHasURLScheme, registry and command use a C rendering of
 *   Foundation's RFC 3986 parser (RULES.md 3, 5.1), including its
 *   failures: "https://x headersHelper" has no usable host, so it does
 *   not match (RULES.md 10.1, reproduced for identical findings).  IDNA
 *   is approximated: a host with valid UTF-8 non-ASCII text is accepted,
 *   and registry reports it percent-encoded with its ASCII lowercased.
 * - Every finding owns its strings; free them with rules_findings_free().
 * - rules_match() is the predicate spelt out plainly; the engine gets
 *   the same answers from a compiled ruleset (rules_compile()), which
 *   regress/unit/test_rules_diff.c checks against a plain evaluation.
 */
#ifndef KOBANG_RULES_H
#define KOBANG_RULES_H

#include <stddef.h>

#include "differ.h"
#include "item.h"
#include "rule.h"
#include "uuid.h"

/* Tri-state flags: 1, 0 or nil. */
#define RULES_NIL	(-1)

/*
 * Does the findings table already hold a finding with this surface, item
 * id and rule id, from any trigger at any time?  1 yes, 0 no, -1 error.
 */
struct rules_held {
	int	(*fn)(void *, enum surface, const char *, const char *);
	void	*arg;
};

/* Change findings.  0, or -1 with errno (ENOMEM, EINVAL, id source). */
int	 rules_eval_changes(const struct ruleset *, const struct change *,
	    size_t, const char *, const struct idsource *,
	    struct finding **, size_t *);

/*
 * Present findings, deduplicated against the given change findings, the
 * held table (may be NULL: empty) and the batch itself.
 */
int	 rules_eval_present(const struct ruleset *, const struct item *,
	    size_t, const struct finding *, size_t, const struct rules_held *,
	    const char *, const struct idsource *, struct finding **,
	    size_t *);

/*
 * A ruleset compiled for evaluation: rules indexed by surface and
 * trigger, values lowercased once.  It borrows the ruleset, which must
 * outlive it and stay unchanged; it keeps scratch memory between calls.
 * rules_eval_*() compile per call; a caller evaluating many small
 * batches against one ruleset can compile once and use these.
 */
struct rules_prog;

struct rules_prog *rules_compile(const struct ruleset *);
void	 rules_prog_free(struct rules_prog *);
int	 rules_prog_changes(struct rules_prog *, const struct change *,
	    size_t, const char *, const struct idsource *,
	    struct finding **, size_t *);
int	 rules_prog_present(struct rules_prog *, const struct item *,
	    size_t, const struct finding *, size_t, const struct rules_held *,
	    const char *, const struct idsource *, struct finding **,
	    size_t *);

/*
 * Every finding owns its strings; all but the timestamp share one
 * allocation (rule.h).  Free them with finding_free() or this.
 */
void	 rules_findings_free(struct finding *, size_t);

/* Whether the rule's predicate alone accepts the item: 1, 0, -1 error. */
int	 rules_match(const struct rule *, const struct item *);

/* A field's value (RULES.md 3) as an allocated copy, *out NULL for nil. */
int	 rules_field_value(const struct item *, enum rule_field, char **);
/* A flag's value (RULES.md 4): 1, 0 or RULES_NIL. */
int	 rules_flag_value(const struct item *, enum rule_flag);

/* Severity order is declaration order; max of an empty set is -1. */
int	 rules_severity_cmp(enum severity, enum severity);
int	 rules_severity_max(const enum severity *, size_t);

/*
 * What Foundation's URL parser makes of a string (RULES.md 3, 5.1).
 * Pointers go into the parsed string.
 */
struct rules_url {
	const char	*scheme;	/* NULL: no scheme */
	size_t		 schemelen;
	int		 authority;	/* "//" was present */
	const char	*host;		/* as written; IP literal with [] */
	size_t		 hostlen;
	int		 iplit;
	int		 user;		/* a userinfo part was present */
	int		 port;		/* a port part was present */
	int		 hostenc;	/* host is reported percent-encoded */
};

/* 0 if the string parses as a URL, -1 if Foundation would refuse it. */
int	 rules_url_parse(const char *, size_t, struct rules_url *);

/*
 * Unicode default lowercase of a UTF-8 string; bytes that are not valid
 * UTF-8 are copied unchanged.  Allocated, NUL-terminated, length in *len.
 */
char	*rules_lowercase(const char *, size_t, size_t *);

#endif
