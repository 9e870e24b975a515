/*
 * Ownership helpers for rules and findings.
 */

#include <stdlib.h>
#include <string.h>

#include "rule.h"

void
strlist_free(struct strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
rule_free(struct rule *r)
{
	free(r->id);
	strlist_free(&r->values);
	strlist_free(&r->allowed);
	strlist_free(&r->schemes);
	free(r->title);
	free(r->rationale);
	memset(r, 0, sizeof(*r));
}

void
ruleset_free(struct ruleset *rs)
{
	size_t	i;

	for (i = 0; i < rs->n; i++)
		rule_free(&rs->v[i]);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

void
finding_free(struct finding *f)
{
	free(f->timestamp);
	free(f->item_id);
	free(f->rule_id);
	free(f->title);
	free(f->rationale);
	free(f->item_name);
	free(f->evidence_path);
	free(f->evidence_detail);
	free(f->matched_field);
	free(f->matched_value);
	memset(f, 0, sizeof(*f));
}
