/*
 * The configuration as JSON: the canonical encoder (the bundle Fleet
 * serves, PROTOCOL.md 5.3) and the strict decoder of a received bundle.
 *
 * jsmn tokenizes, but even with JSMN_STRICT it lets through missing or
 * doubled commas, trailing commas, a second top-level value and raw
 * control characters.  So a small RFC 8259 recogniser runs first (it
 * also counts the tokens, checks UTF-8 and caps the depth), and only a
 * document it accepts is handed to jsmn.  The token tree then becomes the
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
#include "jsonw.h"

/* A bundle holds a file's nodes plus its expanded aliases and defaults. */
#define JSON_MAX_TOKENS	(CONFIG_MAX_NODES + CONFIG_MAX_ALIAS_NODES + 20000)

struct jscan {
	const unsigned char	*s;
	size_t			 len;
	size_t			 pos;
	size_t			 ntok;
	int			 depth;
	const char		*why;
};

static int	js_value(struct jscan *);

static void
js_ws(struct jscan *j)
{
	while (j->pos < j->len && (j->s[j->pos] == ' ' ||
	    j->s[j->pos] == '\t' || j->s[j->pos] == '\n' ||
	    j->s[j->pos] == '\r'))
		j->pos++;
}

static int
js_fail(struct jscan *j, const char *why)
{
	j->why = why;
	return (-1);
}

static int
js_hex4(struct jscan *j, unsigned int *v)
{
	size_t		i;
	unsigned char	c;

	*v = 0;
	if (j->len - j->pos < 4)
		return (js_fail(j, "truncated \\u escape"));
	for (i = 0; i < 4; i++) {
		c = j->s[j->pos++];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return (js_fail(j, "bad \\u escape"));
	}
	return (0);
}

/* One UTF-8 sequence at pos: shortest form, no surrogates, <= U+10FFFF. */
static int
js_utf8(struct jscan *j)
{
	const unsigned char	*p = j->s + j->pos;
	size_t			 left = j->len - j->pos, n, i;
	unsigned int		 cp;

	if (p[0] < 0x80) {
		j->pos++;
		return (0);
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return (js_fail(j, "invalid UTF-8"));
	if (left < n)
		return (js_fail(j, "invalid UTF-8"));
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (js_fail(j, "invalid UTF-8"));
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (js_fail(j, "invalid UTF-8"));
	j->pos += n;
	return (0);
}

static int
js_string(struct jscan *j)
{
	unsigned int	u, lo;

	j->pos++;		/* opening quote */
	for (;;) {
		if (j->pos >= j->len)
			return (js_fail(j, "unterminated string"));
		if (j->s[j->pos] == '"') {
			j->pos++;
			j->ntok++;
			return (0);
		}
		if (j->s[j->pos] < 0x20)
			return (js_fail(j, "control character in a string"));
		if (j->s[j->pos] != '\\') {
			if (js_utf8(j) == -1)
				return (-1);
			continue;
		}
		if (++j->pos >= j->len)
			return (js_fail(j, "unterminated string"));
		switch (j->s[j->pos++]) {
		case '"': case '\\': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't':
			break;
		case 'u':
			if (js_hex4(j, &u) == -1)
				return (-1);
			if (u >= 0xdc00 && u <= 0xdfff)
				return (js_fail(j, "unpaired surrogate"));
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->len - j->pos < 2 ||
				    j->s[j->pos] != '\\' ||
				    j->s[j->pos + 1] != 'u')
					return (js_fail(j,
					    "unpaired surrogate"));
				j->pos += 2;
				if (js_hex4(j, &lo) == -1)
					return (-1);
				if (lo < 0xdc00 || lo > 0xdfff)
					return (js_fail(j,
					    "unpaired surrogate"));
			}
			break;
		default:
			return (js_fail(j, "bad escape in a string"));
		}
	}
}

static int
js_digits(struct jscan *j)
{
	size_t	start = j->pos;

	while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
		j->pos++;
	return (j->pos > start ? 0 : js_fail(j, "bad number"));
}

static int
js_number(struct jscan *j)
{
	if (j->s[j->pos] == '-')
		j->pos++;
	if (j->pos < j->len && j->s[j->pos] == '0')
		j->pos++;
	else if (js_digits(j) == -1)
		return (-1);
	if (j->pos < j->len && j->s[j->pos] == '.') {
		j->pos++;
		if (js_digits(j) == -1)
			return (-1);
	}
	if (j->pos < j->len && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
		j->pos++;
		if (j->pos < j->len && (j->s[j->pos] == '+' ||
		    j->s[j->pos] == '-'))
			j->pos++;
		if (js_digits(j) == -1)
			return (-1);
	}
	j->ntok++;
	return (0);
}

static int
js_word(struct jscan *j, const char *w)
{
	size_t	n = strlen(w);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, w, n) != 0)
		return (js_fail(j, "unexpected character"));
	j->pos += n;
	j->ntok++;
	return (0);
}

static int
js_container(struct jscan *j, int obj)
{
	unsigned char	close = obj ? '}' : ']';

	if (++j->depth > CONFIG_MAX_DEPTH)
		return (js_fail(j, "nested too deeply"));
	j->pos++;
	j->ntok++;
	js_ws(j);
	if (j->pos < j->len && j->s[j->pos] == close) {
		j->pos++;
		j->depth--;
		return (0);
	}
	for (;;) {
		if (obj) {
			if (j->pos >= j->len || j->s[j->pos] != '"')
				return (js_fail(j, "expected a key"));
			if (js_string(j) == -1)
				return (-1);
			js_ws(j);
			if (j->pos >= j->len || j->s[j->pos] != ':')
				return (js_fail(j, "expected ':'"));
			j->pos++;
		}
		if (js_value(j) == -1)
			return (-1);
		js_ws(j);
		if (j->pos < j->len && j->s[j->pos] == ',') {
			j->pos++;
			js_ws(j);
			continue;
		}
		if (j->pos < j->len && j->s[j->pos] == close) {
			j->pos++;
			j->depth--;
			return (0);
		}
		return (js_fail(j, obj ? "expected ',' or '}'" :
		    "expected ',' or ']'"));
	}
}

static int
js_value(struct jscan *j)
{
	if (j->ntok > JSON_MAX_TOKENS)
		return (js_fail(j, "too many values"));
	js_ws(j);
	if (j->pos >= j->len)
		return (js_fail(j, "unexpected end of input"));
	switch (j->s[j->pos]) {
	case '{':
		return (js_container(j, 1));
	case '[':
		return (js_container(j, 0));
	case '"':
		return (js_string(j));
	case 't':
		return (js_word(j, "true"));
	case 'f':
		return (js_word(j, "false"));
	case 'n':
		return (js_word(j, "null"));
	default:
		if (j->s[j->pos] == '-' ||
		    (j->s[j->pos] >= '0' && j->s[j->pos] <= '9'))
			return (js_number(j));
		return (js_fail(j, "unexpected character"));
	}
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

static size_t
put_utf8(char *o, unsigned int cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return (1);
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return (2);
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return (3);
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return (4);
}

static unsigned int
hex4(const char *s)
{
	unsigned int	v = 0;
	int		i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= (unsigned int)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= (unsigned int)(s[i] - 'a' + 10);
		else
			v |= (unsigned int)(s[i] - 'A' + 10);
	}
	return (v);
}

/* Unescape a string the recogniser accepted; never longer than its source. */
static int
unescape(struct cnode *n, const char *s, size_t len)
{
	char		*o;
	size_t		 i, k = 0;
	unsigned int	 cp, lo;

	if ((o = malloc(len + 1)) == NULL)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] != '\\') {
			o[k++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case 'b':	o[k++] = '\b'; break;
		case 'f':	o[k++] = '\f'; break;
		case 'n':	o[k++] = '\n'; break;
		case 'r':	o[k++] = '\r'; break;
		case 't':	o[k++] = '\t'; break;
		case 'u':
			cp = hex4(s + i + 1);
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				lo = hex4(s + i + 3);
				i += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			k += put_utf8(o + k, cp);
			break;
		default:	o[k++] = s[i]; break;
		}
	}
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
	struct jscan	 j;
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
	memset(&j, 0, sizeof(j));
	j.s = (const unsigned char *)json;
	j.len = len;
	js_ws(&j);
	if (j.pos >= len || json[j.pos] != '{')
		(void)js_fail(&j, "expected a JSON object");
	else if (js_value(&j) == 0) {
		js_ws(&j);
		if (j.pos != len)
			(void)js_fail(&j, "trailing data after the object");
	}
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
			jsonw_string(w, s);
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
