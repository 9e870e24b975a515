/*
 * The event payload codec (PROTOCOL.md 7).  The encoder sizes every
 * message first, grows the buffer once and then writes without further
 * checks; the decoder walks a small table per message, so nesting is
 * bounded by the schema itself (three levels) and never recursion on
 * input.
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "utf8.h"
#include "vocab.h"

#define WT_VARINT	0
#define WT_LEN		2

#define PB_MAX_DEPTH	3

/* Field numbers. */
#define P_VERSION	1
#define P_ITEM		2
#define P_FINDING	3

void
pbuf_init(struct pbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
pbuf_reset(struct pbuf *b)
{
	b->len = 0;
}

void
pbuf_free(struct pbuf *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

static int
pbuf_reserve(struct pbuf *b, size_t n)
{
	uint8_t	*nb;
	size_t	 ncap;

	if (n > SIZE_MAX - b->len) {
		errno = ENOMEM;
		return (-1);
	}
	if (b->len + n <= b->cap)
		return (0);
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + n) {
		if (ncap > SIZE_MAX / 2) {
			ncap = b->len + n;
			break;
		}
		ncap *= 2;
	}
	if ((nb = realloc(b->buf, ncap)) == NULL)
		return (-1);
	b->buf = nb;
	b->cap = ncap;
	return (0);
}

/* Encoding: sizes. */

static size_t
varint_len(uint64_t v)
{
	size_t	n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return (n);
}

/* All our field numbers are below 16: every tag is one byte. */
static size_t
str_len(const char *s)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) == 0)
		return (0);
	return (1 + varint_len(n) + n);
}

static size_t
msg_len(size_t inner)
{
	if (inner == 0)
		return (0);
	return (1 + varint_len(inner) + inner);
}

static size_t
prov_len(const struct pb_item *it)
{
	return (str_len(it->origin) +
	    (it->installed_on_request != ITEM_BOOL_NIL ? 2 : 0) +
	    str_len(it->detail));
}

static size_t
item_len(const struct pb_item *it)
{
	return (str_len(it->item_id) + str_len(it->surface) +
	    str_len(it->kind) + str_len(it->name) + str_len(it->version) +
	    str_len(it->path) + msg_len(prov_len(it)));
}

static size_t
evidence_len(const struct pb_finding *f)
{
	return (str_len(f->evidence_path) + str_len(f->evidence_detail) +
	    str_len(f->matched_field) + str_len(f->matched_value));
}

static size_t
finding_len(const struct pb_finding *f)
{
	return (str_len(f->id) + str_len(f->surface) + str_len(f->item_id) +
	    str_len(f->rule_id) + str_len(f->title) + str_len(f->rationale) +
	    str_len(f->severity) + str_len(f->item_name) +
	    msg_len(evidence_len(f)) + str_len(f->observed_at));
}

/* Encoding: writers into reserved space. */

static uint8_t *
put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return (p);
}

static uint8_t *
put_tag(uint8_t *p, unsigned int field, unsigned int wt)
{
	return (put_varint(p, (uint64_t)field << 3 | wt));
}

static uint8_t *
put_str(uint8_t *p, unsigned int field, const char *s)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) == 0)
		return (p);
	p = put_tag(p, field, WT_LEN);
	p = put_varint(p, n);
	memcpy(p, s, n);
	return (p + n);
}

static uint8_t *
put_msghdr(uint8_t *p, unsigned int field, size_t inner)
{
	p = put_tag(p, field, WT_LEN);
	return (put_varint(p, inner));
}

static uint8_t *
put_item(uint8_t *p, const struct pb_item *it)
{
	size_t	pl;

	p = put_str(p, 1, it->item_id);
	p = put_str(p, 2, it->surface);
	p = put_str(p, 3, it->kind);
	p = put_str(p, 4, it->name);
	p = put_str(p, 5, it->version);
	p = put_str(p, 6, it->path);
	if ((pl = prov_len(it)) > 0) {
		p = put_msghdr(p, 7, pl);
		p = put_str(p, 1, it->origin);
		if (it->installed_on_request != ITEM_BOOL_NIL) {
			p = put_tag(p, 2, WT_VARINT);
			*p++ = it->installed_on_request ? 1 : 0;
		}
		p = put_str(p, 3, it->detail);
	}
	return (p);
}

static uint8_t *
put_finding(uint8_t *p, const struct pb_finding *f)
{
	size_t	el;

	p = put_str(p, 1, f->id);
	p = put_str(p, 2, f->surface);
	p = put_str(p, 3, f->item_id);
	p = put_str(p, 4, f->rule_id);
	p = put_str(p, 5, f->title);
	p = put_str(p, 6, f->rationale);
	p = put_str(p, 7, f->severity);
	p = put_str(p, 8, f->item_name);
	if ((el = evidence_len(f)) > 0) {
		p = put_msghdr(p, 9, el);
		p = put_str(p, 1, f->evidence_path);
		p = put_str(p, 2, f->evidence_detail);
		p = put_str(p, 3, f->matched_field);
		p = put_str(p, 4, f->matched_value);
	}
	p = put_str(p, 10, f->observed_at);
	return (p);
}

int
pb_encode_payload(const struct pb_payload *pl, struct pbuf *b)
{
	size_t	 inner, total;
	uint8_t	*p, *start;

	if (pl->has_item == pl->has_finding) {
		errno = EINVAL;
		return (-1);
	}
	if (pl->has_item) {
		if (pl->item.installed_on_request != ITEM_BOOL_NIL &&
		    pl->item.installed_on_request != 0 &&
		    pl->item.installed_on_request != 1) {
			errno = EINVAL;
			return (-1);
		}
		inner = item_len(&pl->item);
	} else
		inner = finding_len(&pl->finding);
	/* An empty part would vanish and leave a payload with neither. */
	if (inner == 0) {
		errno = EINVAL;
		return (-1);
	}
	total = 1 + varint_len(pl->version) + msg_len(inner);
	if (pbuf_reserve(b, total) == -1)
		return (-1);
	start = p = b->buf + b->len;
	p = put_tag(p, P_VERSION, WT_VARINT);
	p = put_varint(p, pl->version);
	if (pl->has_item) {
		p = put_msghdr(p, P_ITEM, inner);
		p = put_item(p, &pl->item);
	} else {
		p = put_msghdr(p, P_FINDING, inner);
		p = put_finding(p, &pl->finding);
	}
	if ((size_t)(p - start) != total)
		abort();	/* sizing and writing disagree: a bug */
	b->len += total;
	return (0);
}

/*
 * The encoder only reads the strings; the casts let one struct serve
 * both directions.
 */
int
pb_encode_item_event(const struct item *it, const char *id, struct pbuf *b)
{
	struct pb_payload	 pl;
	const char		*surface, *kind;

	/* The name tables answer "unknown" out of range: check first. */
	if ((unsigned int)it->surface >= SURFACE_COUNT ||
	    (unsigned int)it->kind >= KIND_COUNT || id == NULL) {
		errno = EINVAL;
		return (-1);
	}
	surface = surface_name(it->surface);
	kind = item_kind_name(it->kind);
	memset(&pl, 0, sizeof(pl));
	pl.version = PB_PAYLOAD_VERSION;
	pl.has_item = 1;
	pl.item.item_id = (char *)id;
	pl.item.surface = (char *)surface;
	pl.item.kind = (char *)kind;
	pl.item.name = it->name;
	pl.item.version = it->version;
	pl.item.path = it->path;
	pl.item.origin = it->origin;
	pl.item.installed_on_request = it->installed_on_request;
	pl.item.detail = it->detail;
	return (pb_encode_payload(&pl, b));
}

int
pb_encode_finding_event(const struct finding *f, struct pbuf *b)
{
	struct pb_payload	 pl;
	const char		*surface, *severity;

	if ((unsigned int)f->surface >= SURFACE_COUNT ||
	    (unsigned int)f->severity >= SEVERITY_COUNT) {
		errno = EINVAL;
		return (-1);
	}
	surface = surface_name(f->surface);
	severity = severity_name(f->severity);
	memset(&pl, 0, sizeof(pl));
	pl.version = PB_PAYLOAD_VERSION;
	pl.has_finding = 1;
	pl.finding.id = (char *)f->id;
	pl.finding.surface = (char *)surface;
	pl.finding.item_id = f->item_id;
	pl.finding.rule_id = f->rule_id;
	pl.finding.title = f->title;
	pl.finding.rationale = f->rationale;
	pl.finding.severity = (char *)severity;
	pl.finding.item_name = f->item_name;
	pl.finding.evidence_path = f->evidence_path;
	pl.finding.evidence_detail = f->evidence_detail;
	pl.finding.matched_field = f->matched_field;
	pl.finding.matched_value = f->matched_value;
	pl.finding.observed_at = f->timestamp;
	return (pb_encode_payload(&pl, b));
}

/* Decoding. */

enum ftype {
	F_U32,
	F_BOOL,
	F_STR,
	F_MSG
};

struct mdesc;

struct fdesc {
	unsigned int		 num;
	enum ftype		 type;
	size_t			 off;	/* of the value (F_MSG: of the base) */
	const struct mdesc	*sub;	/* F_MSG */
	ptrdiff_t		 flag;	/* F_MSG: offset of an int, or -1 */
};

struct mdesc {
	const char		*name;
	const struct fdesc	*f;
	size_t			 nf;
	int			 nonempty;	/* an empty one is an error */
};

#define ITEM_OFF(m)	offsetof(struct pb_item, m)
#define FIND_OFF(m)	offsetof(struct pb_finding, m)

static const struct fdesc provenance_f[] = {
	{ 1, F_STR, ITEM_OFF(origin), NULL, -1 },
	{ 2, F_BOOL, ITEM_OFF(installed_on_request), NULL, -1 },
	{ 3, F_STR, ITEM_OFF(detail), NULL, -1 },
};
static const struct mdesc provenance_m = {
	"Provenance", provenance_f, 3, 0
};

static const struct fdesc item_f[] = {
	{ 1, F_STR, ITEM_OFF(item_id), NULL, -1 },
	{ 2, F_STR, ITEM_OFF(surface), NULL, -1 },
	{ 3, F_STR, ITEM_OFF(kind), NULL, -1 },
	{ 4, F_STR, ITEM_OFF(name), NULL, -1 },
	{ 5, F_STR, ITEM_OFF(version), NULL, -1 },
	{ 6, F_STR, ITEM_OFF(path), NULL, -1 },
	{ 7, F_MSG, 0, &provenance_m, -1 },
};
static const struct mdesc item_m = { "InventoryItem", item_f, 7, 1 };

static const struct fdesc evidence_f[] = {
	{ 1, F_STR, FIND_OFF(evidence_path), NULL, -1 },
	{ 2, F_STR, FIND_OFF(evidence_detail), NULL, -1 },
	{ 3, F_STR, FIND_OFF(matched_field), NULL, -1 },
	{ 4, F_STR, FIND_OFF(matched_value), NULL, -1 },
};
static const struct mdesc evidence_m = {
	"FindingEvidence", evidence_f, 4, 0
};

static const struct fdesc finding_f[] = {
	{ 1, F_STR, FIND_OFF(id), NULL, -1 },
	{ 2, F_STR, FIND_OFF(surface), NULL, -1 },
	{ 3, F_STR, FIND_OFF(item_id), NULL, -1 },
	{ 4, F_STR, FIND_OFF(rule_id), NULL, -1 },
	{ 5, F_STR, FIND_OFF(title), NULL, -1 },
	{ 6, F_STR, FIND_OFF(rationale), NULL, -1 },
	{ 7, F_STR, FIND_OFF(severity), NULL, -1 },
	{ 8, F_STR, FIND_OFF(item_name), NULL, -1 },
	{ 9, F_MSG, 0, &evidence_m, -1 },
	{ 10, F_STR, FIND_OFF(observed_at), NULL, -1 },
};
static const struct mdesc finding_m = { "Finding", finding_f, 10, 1 };

static const struct fdesc payload_f[] = {
	{ P_VERSION, F_U32, offsetof(struct pb_payload, version), NULL, -1 },
	{ P_ITEM, F_MSG, offsetof(struct pb_payload, item), &item_m,
	    offsetof(struct pb_payload, has_item) },
	{ P_FINDING, F_MSG, offsetof(struct pb_payload, finding), &finding_m,
	    offsetof(struct pb_payload, has_finding) },
};
static const struct mdesc payload_m = {
	"SensorEventPayload", payload_f, 3, 1
};

struct dec {
	const uint8_t	*base;		/* whole input, for offsets */
	char		*err;
	size_t		 errlen;
	int		 canonical;
};

static int
dec_fail(struct dec *d, const uint8_t *at, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static int
dec_fail(struct dec *d, const uint8_t *at, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (d->errlen == 0)
		return (-1);
	n = snprintf(d->err, d->errlen, "offset %zu: ",
	    (size_t)(at - d->base));
	if (n < 0 || (size_t)n >= d->errlen)
		return (-1);
	va_start(ap, fmt);
	vsnprintf(d->err + n, d->errlen - n, fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * At most ten bytes, the tenth carrying only the top bit of a 64-bit
 * value.  A varint ending in a zero byte (after the first) is valid but
 * not minimal.
 */
static int
get_varint(struct dec *d, const uint8_t **pp, const uint8_t *end,
    uint64_t *v)
{
	const uint8_t	*p = *pp;
	uint64_t	 r = 0;
	unsigned int	 shift = 0, i;

	for (i = 0; i < 10; i++) {
		if (p >= end)
			return (dec_fail(d, *pp, "truncated varint"));
		if (i == 9 && *p > 1)
			return (dec_fail(d, *pp, "varint overflows 64 bits"));
		r |= (uint64_t)(*p & 0x7f) << shift;
		shift += 7;
		if ((*p++ & 0x80) == 0) {
			if (i > 0 && p[-1] == 0)
				d->canonical = 0;
			*pp = p;
			*v = r;
			return (0);
		}
	}
	/* Not reached: a tenth byte of 0 or 1 ends the varint. */
	return (dec_fail(d, *pp, "varint longer than ten bytes"));
}

/*
 * *had says whether anything with content was found: a varint, a
 * non-empty string or an embedded message with content.  A message that
 * must not be empty is refused without content, since our encoder would
 * leave it out altogether.
 */
static int
dec_msg(struct dec *d, const struct mdesc *m, const uint8_t *p,
    const uint8_t *end, void *dst, int depth, int *had)
{
	const struct fdesc	*f;
	const uint8_t		*at, *vp;
	uint64_t		 tag, v;
	uint32_t		 seen = 0;
	unsigned int		 num, wt, last = 0;
	size_t			 i;
	char			*s, **sp;
	int			 any = 0, sub, *flag;

	if (depth > PB_MAX_DEPTH)
		return (dec_fail(d, p, "%s: nested too deeply", m->name));
	while (p < end) {
		at = p;
		if (get_varint(d, &p, end, &tag) == -1)
			return (-1);
		if (tag > UINT32_MAX)
			return (dec_fail(d, at, "%s: tag out of range",
			    m->name));
		num = (unsigned int)(tag >> 3);
		wt = (unsigned int)(tag & 7);
		if (num == 0)
			return (dec_fail(d, at, "%s: field number 0",
			    m->name));
		if (wt != WT_VARINT && wt != WT_LEN)
			return (dec_fail(d, at, "%s: field %u: wire type %u "
			    "not supported", m->name, num, wt));
		for (f = NULL, i = 0; i < m->nf; i++)
			if (m->f[i].num == num) {
				f = &m->f[i];
				break;
			}
		if (f == NULL)
			return (dec_fail(d, at, "%s: unknown field %u",
			    m->name, num));
		if (seen & (1U << num))
			return (dec_fail(d, at, "%s: field %u given twice",
			    m->name, num));
		seen |= 1U << num;
		if (num < last)
			d->canonical = 0;
		last = num;
		if ((f->type == F_U32 || f->type == F_BOOL) !=
		    (wt == WT_VARINT))
			return (dec_fail(d, at, "%s: field %u: wrong wire "
			    "type %u", m->name, num, wt));
		if (get_varint(d, &p, end, &v) == -1)
			return (-1);
		switch (f->type) {
		case F_U32:
			if (v > UINT32_MAX)
				return (dec_fail(d, at, "%s: field %u: "
				    "uint32 out of range", m->name, num));
			*(uint32_t *)(void *)((char *)dst + f->off) =
			    (uint32_t)v;
			any = 1;
			continue;
		case F_BOOL:
			if (v > 1)
				return (dec_fail(d, at, "%s: field %u: bool "
				    "out of range", m->name, num));
			*(int *)(void *)((char *)dst + f->off) = (int)v;
			any = 1;
			continue;
		default:
			break;
		}
		/* Length-delimited. */
		if (v > (uint64_t)(end - p))
			return (dec_fail(d, at, "%s: field %u: length %llu "
			    "past the end", m->name, num,
			    (unsigned long long)v));
		vp = p;
		p += v;
		if (f->type == F_MSG) {
			if (f->flag >= 0) {
				flag = (int *)(void *)((char *)dst + f->flag);
				*flag = 1;
			}
			if (dec_msg(d, f->sub, vp, p,
			    (char *)dst + f->off, depth + 1, &sub) == -1)
				return (-1);
			/* An empty one present: the encoder omits it. */
			if (!sub)
				d->canonical = 0;
			any |= sub;
			continue;
		}
		if (memchr(vp, '\0', v) != NULL)
			return (dec_fail(d, vp, "%s: field %u: NUL in "
			    "string", m->name, num));
		if (!utf8_valid(vp, v))
			return (dec_fail(d, vp, "%s: field %u: invalid "
			    "UTF-8", m->name, num));
		if (v == 0) {
			/* The encoder omits empty strings. */
			d->canonical = 0;
			continue;
		}
		if ((s = malloc(v + 1)) == NULL)
			return (dec_fail(d, at, "out of memory"));
		memcpy(s, vp, v);
		s[v] = '\0';
		sp = (char **)(void *)((char *)dst + f->off);
		*sp = s;
		any = 1;
	}
	if (m->nonempty && !any)
		return (dec_fail(d, p, "%s: empty message", m->name));
	*had = any;
	return (0);
}

int
pb_decode_payload(const uint8_t *buf, size_t len, struct pb_payload *pl,
    char *err, size_t errlen)
{
	struct dec	d;
	int		had;

	memset(pl, 0, sizeof(*pl));
	pl->item.installed_on_request = ITEM_BOOL_NIL;
	if (errlen > 0)
		err[0] = '\0';
	d.base = buf;
	d.err = err;
	d.errlen = errlen;
	d.canonical = 1;
	if (len > PB_MAX_PAYLOAD) {
		dec_fail(&d, buf, "payload of %zu bytes over the cap", len);
		goto fail;
	}
	/* Field 1 is tracked through a sentinel: 0 is a legal value. */
	pl->version = UINT32_MAX;
	if (dec_msg(&d, &payload_m, buf, buf + len, pl, 1, &had) == -1)
		goto fail;
	if (pl->version != PB_PAYLOAD_VERSION) {
		dec_fail(&d, buf + len, "payload_version missing or not 1");
		goto fail;
	}
	if (pl->has_item == pl->has_finding) {
		dec_fail(&d, buf + len, "%s of inventory_item and finding",
		    pl->has_item ? "both" : "neither");
		goto fail;
	}
	/* An empty inner message is refused by the table's nonempty. */
	pl->canonical = d.canonical;
	return (0);
fail:
	pb_payload_free(pl);
	return (-1);
}

void
pb_payload_free(struct pb_payload *pl)
{
	struct pb_item		*it = &pl->item;
	struct pb_finding	*f = &pl->finding;

	free(it->item_id);
	free(it->surface);
	free(it->kind);
	free(it->name);
	free(it->version);
	free(it->path);
	free(it->origin);
	free(it->detail);
	free(f->id);
	free(f->surface);
	free(f->item_id);
	free(f->rule_id);
	free(f->title);
	free(f->rationale);
	free(f->severity);
	free(f->item_name);
	free(f->evidence_path);
	free(f->evidence_detail);
	free(f->matched_field);
	free(f->matched_value);
	free(f->observed_at);
	memset(pl, 0, sizeof(*pl));
	pl->item.installed_on_request = ITEM_BOOL_NIL;
}

/* Nil and empty are one thing on the wire. */
static int
streq(const char *a, const char *b)
{
	if (a == NULL || *a == '\0')
		return (b == NULL || *b == '\0');
	if (b == NULL)
		return (0);
	return (strcmp(a, b) == 0);
}

int
pb_payload_equal(const struct pb_payload *a, const struct pb_payload *b)
{
	const struct pb_item	*x = &a->item, *y = &b->item;
	const struct pb_finding	*f = &a->finding, *g = &b->finding;

	if (a->version != b->version || a->has_item != b->has_item ||
	    a->has_finding != b->has_finding)
		return (0);
	if (a->has_item &&
	    (!streq(x->item_id, y->item_id) || !streq(x->surface, y->surface) ||
	    !streq(x->kind, y->kind) || !streq(x->name, y->name) ||
	    !streq(x->version, y->version) || !streq(x->path, y->path) ||
	    !streq(x->origin, y->origin) ||
	    x->installed_on_request != y->installed_on_request ||
	    !streq(x->detail, y->detail)))
		return (0);
	if (a->has_finding &&
	    (!streq(f->id, g->id) || !streq(f->surface, g->surface) ||
	    !streq(f->item_id, g->item_id) || !streq(f->rule_id, g->rule_id) ||
	    !streq(f->title, g->title) || !streq(f->rationale, g->rationale) ||
	    !streq(f->severity, g->severity) ||
	    !streq(f->item_name, g->item_name) ||
	    !streq(f->evidence_path, g->evidence_path) ||
	    !streq(f->evidence_detail, g->evidence_detail) ||
	    !streq(f->matched_field, g->matched_field) ||
	    !streq(f->matched_value, g->matched_value) ||
	    !streq(f->observed_at, g->observed_at)))
		return (0);
	return (1);
}
