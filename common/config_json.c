/*
 * The configuration as JSON: the canonical encoder (the bundle Fleet
 * serves, PROTOCOL.md 5.3) and the strict decoder of a received bundle.
 *
 * jsmn tokenizes, but even with JSMN_STRICT it lets through missing or
 * doubled commas, trailing commas, a second top-level value and raw
 * control characters.  So the strict recogniser of jsonv.c runs first
 * (it also counts the tokens, checks UTF-8 and caps the depth), and only
 * a document it accepts is handed to jsmn.  The token tree then becomes the
 * same struct ctree the YAML loader builds, and one schema walker
 * applies either.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "compat.h"
#include "config_priv.h"
#include "jsonv.h"
#include "jsonw.h"

/* A bundle holds a file's nodes plus its expanded aliases and defaults. */
#define JSON_MAX_TOKENS	(CONFIG_MAX_NODES + CONFIG_MAX_ALIAS_NODES + 20000)

static int
hexdigit(unsigned char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F'));
}

/*
 * This decoder has always told a truncated \u escape from a bad one and
 * pointed just past the bad digit, in the low half of a pair too, where
 * the shared recogniser names the escape as a whole: refine its report.
 */
static void
refine_uescape(struct jsonv *j)
{
	size_t	at = j->pos, i;
	int	hi;

	if (j->why == jsonv_unpaired) {
		/* at is just past the four digits of the first half. */
		hi = jsonv_hex4(j->s + at - 4);
		if (hi < 0xd800 || hi > 0xdbff || j->len - at < 2 ||
		    j->s[at] != '\\' || j->s[at + 1] != 'u')
			return;
		at += 2;
	} else if (j->why != jsonv_bad_uescape)
		return;
	if (j->len - at < 4) {
		j->why = "truncated \\u escape";
		j->pos = at;
		return;
	}
	for (i = 0; i < 4; i++)
		if (!hexdigit(j->s[at + i])) {
			j->why = jsonv_bad_uescape;
			j->pos = at + i + 1;
			return;
		}
	j->pos = at + 4;	/* a second half that is not a low one */
}

/* Line and column of a byte offset, advancing from the last one. */
struct jpos {
	const char	*s;
	size_t		 off;
	uint32_t	 line;
	uint32_t	 col;
};

static void
jpos_at(struct jpos *p, size_t off)
{
	for (; p->off < off; p->off++) {
		if (p->s[p->off] == '\n') {
			p->line++;
			p->col = 1;
		} else if (((unsigned char)p->s[p->off] & 0xc0) != 0x80)
			p->col++;
	}
}

/* Unescape a string the recogniser accepted; never longer than its source. */
static int
unescape(struct cnode *n, const char *s, size_t len)
{
	char	*o;
	size_t	 k;

	if ((o = malloc(len + 1)) == NULL)
		return (-1);
	k = jsonv_unescape(s, len, o);
	o[k] = '\0';
	n->s = o;
	n->len = k;
	n->bytes = k;
	return (0);
}

struct jbuild {
	const char	*js;
	jsmntok_t	*tok;
	int		 ntok;
	int		 next;
	struct ctree	*t;
	struct jpos	 pos;
};

/* Token tree to node tree; the recogniser bounded the depth. */
static struct cnode *
build(struct jbuild *b)
{
	const jsmntok_t	*tk;
	struct cnode	*n, *k, *v;
	enum cnode_style st;
	int		 i, start;

	if (b->next >= b->ntok)
		return (NULL);
	tk = &b->tok[b->next++];
	start = tk->type == JSMN_STRING ? tk->start - 1 : tk->start;
	jpos_at(&b->pos, (size_t)start);
	switch (tk->type) {
	case JSMN_OBJECT:
	case JSMN_ARRAY:
		n = ctree_node(b->t, tk->type == JSMN_OBJECT ? CN_MAP : CN_SEQ,
		    CS_NONE, b->pos.line, b->pos.col);
		if (n == NULL)
			return (NULL);
		for (i = 0; i < tk->size; i++) {
			if (tk->type == JSMN_OBJECT) {
				if ((k = build(b)) == NULL ||
				    k->style != CS_JSTRING ||
				    ctree_add(n, k) == -1)
					return (NULL);
			}
			if ((v = build(b)) == NULL || ctree_add(n, v) == -1)
				return (NULL);
		}
		return (n);
	case JSMN_STRING:
		n = ctree_node(b->t, CN_SCALAR, CS_JSTRING, b->pos.line,
		    b->pos.col);
		if (n == NULL || unescape(n, b->js + tk->start,
		    (size_t)(tk->end - tk->start)) == -1)
			return (NULL);
		return (n);
	case JSMN_PRIMITIVE:
		switch (b->js[tk->start]) {
		case 't':	st = CS_JTRUE; break;
		case 'f':	st = CS_JFALSE; break;
		case 'n':	st = CS_JNULL; break;
		default:	st = CS_JNUMBER; break;
		}
		n = ctree_node(b->t, CN_SCALAR, st, b->pos.line, b->pos.col);
		if (n == NULL || ctree_scalar(n, b->js + tk->start,
		    (size_t)(tk->end - tk->start)) == -1)
			return (NULL);
		return (n);
	default:
		return (NULL);
	}
}

int
config_from_json(const char *name, const char *json, size_t len,
    struct config *cfg, char *err, size_t errlen)
{
	struct jsonv	 j;
	struct jbuild	 b;
	struct ctree	 t;
	struct jpos	 p;
	jsmn_parser	 parser;
	int		 r, rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	memset(&t, 0, sizeof(t));
	if (len > CONFIG_MAX_JSON) {
		(void)snprintf(err, errlen, "%s: larger than %d bytes", name,
		    CONFIG_MAX_JSON);
		return (-1);
	}
	jsonv_init(&j, json, len);
	j.maxtok = JSON_MAX_TOKENS;
	j.maxdepth = CONFIG_MAX_DEPTH;
	j.flags = JSONV_CAP_AT_VALUE;
	jsonv_ws(&j);
	if (j.pos >= len || json[j.pos] != '{')
		j.why = "expected a JSON object";
	else if (jsonv_value(&j) == 0) {
		jsonv_ws(&j);
		if (j.pos != len)
			j.why = "trailing data after the object";
	} else
		refine_uescape(&j);
	if (j.why != NULL) {
		memset(&p, 0, sizeof(p));
		p.s = json;
		p.line = p.col = 1;
		jpos_at(&p, j.pos < len ? j.pos : len);
		(void)snprintf(err, errlen, "%s:%u:%u: invalid JSON: %s",
		    name, p.line, p.col, j.why);
		return (-1);
	}

	memset(&b, 0, sizeof(b));
	if ((b.tok = calloc(j.ntok, sizeof(*b.tok))) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", name);
		return (-1);
	}
	jsmn_init(&parser);
	r = jsmn_parse(&parser, json, len, b.tok, (unsigned int)j.ntok);
	if (r < 0 || (size_t)r != j.ntok) {
		(void)snprintf(err, errlen, "%s: invalid JSON (tokenizer "
		    "disagrees: %d)", name, r);
		goto out;
	}
	b.js = json;
	b.ntok = r;
	b.t = &t;
	b.pos.s = json;
	b.pos.line = b.pos.col = 1;
	if ((t.root = build(&b)) == NULL || b.next != b.ntok) {
		(void)snprintf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	rc = config_apply(&t, name, 1, cfg, err, errlen);
 out:
	free(b.tok);
	ctree_free(&t);
	return (rc);
}

/*
 * The canonical encoder.
 */

static int
strp_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

static void
enc_list(struct jsonw *w, const struct strlist *l, int set)
{
	char	**v;
	size_t	  i;

	jsonw_array_begin(w);
	if (!set || l->n < 2) {
		for (i = 0; i < l->n; i++)
			jsonw_string(w, l->v[i]);
		jsonw_array_end(w);
		return;
	}
	if ((v = calloc(l->n, sizeof(*v))) == NULL) {
		w->failed = 1;
		return;
	}
	memcpy(v, l->v, l->n * sizeof(*v));
	qsort(v, l->n, sizeof(*v), strp_cmp);
	for (i = 0; i < l->n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			jsonw_string(w, v[i]);
	free(v);
	jsonw_array_end(w);
}

static void
enc_rule(struct jsonw *w, const struct rule *r)
{
	int	t;

	jsonw_object_begin(w);
	jsonw_key(w, "id");
	jsonw_string(w, r->id);
	jsonw_key(w, "surface");
	jsonw_string(w, surface_name(r->surface));
	jsonw_key(w, "enabled");
	jsonw_bool(w, r->enabled);
	jsonw_key(w, "triggers");
	jsonw_array_begin(w);
	for (t = 0; t < TRIGGER_COUNT; t++)
		if (r->triggers & RULE_TRIGGER(t))
			jsonw_string(w, trigger_name((enum trigger)t));
	jsonw_array_end(w);
	jsonw_key(w, "severity");
	jsonw_string(w, severity_name(r->severity));
	jsonw_key(w, "title");
	jsonw_string(w, r->title);
	jsonw_key(w, "rationale");
	jsonw_string(w, r->rationale);
	jsonw_key(w, "match");
	jsonw_string(w, match_kind_name(r->match));
	switch (r->match) {
	case MATCH_FIELD_CONTAINS_ANY:
		jsonw_key(w, "field");
		jsonw_string(w, rule_field_name(r->field));
		jsonw_key(w, "values");
		enc_list(w, &r->values, 1);
		break;
	case MATCH_FIELD_NOT_IN_LIST:
		jsonw_key(w, "field");
		jsonw_string(w, rule_field_name(r->field));
		jsonw_key(w, "allowed");
		enc_list(w, &r->allowed, 1);
		break;
	case MATCH_FIELD_HAS_URL_SCHEME:
		jsonw_key(w, "field");
		jsonw_string(w, rule_field_name(r->field));
		jsonw_key(w, "schemes");
		enc_list(w, &r->schemes, 1);
		break;
	case MATCH_FLAG_EQUALS:
		jsonw_key(w, "flag");
		jsonw_string(w, rule_flag_name(r->flag));
		jsonw_key(w, "expected");
		jsonw_bool(w, r->expected);
		break;
	default:
		break;
	}
	jsonw_object_end(w);
}

static void
enc_map(struct jsonw *w, const struct kdef *defs, size_t ndefs,
    const char *base)
{
	const struct kdef	*kd;
	const struct strlist	*lp;
	const struct ruleset	*rs;
	const char		*s;
	size_t			 i, j;

	jsonw_object_begin(w);
	for (i = 0; i < ndefs; i++) {
		kd = &defs[i];
		if (kd->flags & KF_LOCAL)
			continue;
		switch (kd->type) {
		case KT_BOOL:
			jsonw_key(w, kd->name);
			jsonw_bool(w, *(const int *)(base + kd->off));
			break;
		case KT_INT:
			jsonw_key(w, kd->name);
			jsonw_int(w, *(const long long *)(base + kd->off));
			break;
		case KT_OPTINT:
			if (!*(const int *)(base + kd->setoff))
				break;
			jsonw_key(w, kd->name);
			jsonw_int(w, *(const long long *)(base + kd->off));
			break;
		case KT_STR:
		case KT_OPTSTR:
			if ((s = *(char *const *)(base + kd->off)) == NULL)
				break;
			jsonw_key(w, kd->name);
			/* A token is never printed: that it is set is enough. */
			jsonw_string(w, kd->flags & KF_SECRET ?
			    CONFIG_SECRET_MARKER : s);
			break;
		case KT_LIST:
			jsonw_key(w, kd->name);
			enc_list(w, (const struct strlist *)(base + kd->off),
			    kd->flags & KF_SET);
			break;
		case KT_OPTLIST:
			lp = *(struct strlist *const *)(base + kd->off);
			if (lp == NULL)
				break;
			jsonw_key(w, kd->name);
			enc_list(w, lp, kd->flags & KF_SET);
			break;
		case KT_MAP:
			jsonw_key(w, kd->name);
			enc_map(w, kd->sub, kd->nsub, base + kd->off);
			break;
		case KT_RULES:
			rs = (const struct ruleset *)(base + kd->off);
			jsonw_key(w, kd->name);
			jsonw_array_begin(w);
			for (j = 0; j < rs->n; j++)
				enc_rule(w, &rs->v[j]);
			jsonw_array_end(w);
			break;
		}
	}
	jsonw_object_end(w);
}

int
config_to_json(const struct config *cfg, struct jsonw *w)
{
	enc_map(w, config_schema, config_schema_n, (const char *)cfg);
	return (w->failed ? -1 : 0);
}
