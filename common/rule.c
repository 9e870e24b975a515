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

/* A deep copy into dst; 0, or -1 with dst left empty. */
int
strlist_copy(struct strlist *dst, const struct strlist *src)
{
	size_t	i;

	memset(dst, 0, sizeof(*dst));
	if (src->n == 0)
		return (0);
	if ((dst->v = calloc(src->n, sizeof(*dst->v))) == NULL)
		return (-1);
	for (i = 0; i < src->n; i++) {
		if ((dst->v[i] = strdup(src->v[i])) == NULL) {
			strlist_free(dst);
			return (-1);
		}
		dst->n++;
	}
	return (0);
}

/* Whether s is in l (a NULL list holds nothing). */
int
strlist_has(const struct strlist *l, const char *s)
{
	size_t	i;

	for (i = 0; l != NULL && i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return (1);
	return (0);
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
	if (f->strs != NULL) {
		free(f->strs);
		memset(f, 0, sizeof(*f));
		return;
	}
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
