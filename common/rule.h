/*
 * A rule of the closed vocabulary (RULES.md 1) and a finding (RULES.md 6.3).
 * The configuration loader fills rules; the rule engine reads them.
 */
#ifndef KOBANG_RULE_H
#define KOBANG_RULE_H

#include <stddef.h>

#include "vocab.h"

struct strlist {
	char		**v;
	size_t		  n;
};

struct rule {
	char		*id;
	enum surface	 surface;
	int		 enabled;
	unsigned int	 triggers;	/* bit (1 << enum trigger) */
	enum match_kind	 match;
	enum rule_field	 field;		/* contains, notInList, hasURLScheme */
	struct strlist	 values;	/* fieldContainsAny */
	struct strlist	 allowed;	/* fieldNotInList */
	struct strlist	 schemes;	/* fieldHasURLScheme */
	enum rule_flag	 flag;		/* flagEquals */
	int		 expected;	/* flagEquals */
	enum severity	 severity;
	char		*title;
	char		*rationale;
};

#define RULE_TRIGGER(t)		(1U << (t))
#define RULE_DEFAULT_TRIGGERS	(RULE_TRIGGER(TRIGGER_ADDED) | \
				    RULE_TRIGGER(TRIGGER_MODIFIED))

struct ruleset {
	struct rule	*v;
	size_t		 n;
};

struct finding {
	char		 id[37];	/* uppercase v4 UUID */
	char		*timestamp;	/* per scan, RFC 3339, 3 fraction digits */
	enum surface	 surface;
	char		*item_id;
	char		*rule_id;
	char		*title;
	char		*rationale;
	enum severity	 severity;
	char		*item_name;
	char		*evidence_path;
	char		*evidence_detail;	/* NULL: nil */
	char		*matched_field;		/* NULL: nil */
	char		*matched_value;		/* NULL: nil */
	/*
	 * NULL: every string above is its own allocation.  Otherwise all
	 * of them but timestamp point into this one allocation (the rule
	 * engine's findings), and only timestamp may be replaced alone.
	 */
	char		*strs;
};

void	strlist_free(struct strlist *);
int	strlist_copy(struct strlist *, const struct strlist *);
int	strlist_has(const struct strlist *, const char *);
void	rule_free(struct rule *);
void	ruleset_free(struct ruleset *);
void	finding_free(struct finding *);

#endif
