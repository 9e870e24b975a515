/*
 * TOML 1.0 (https://toml.io/en/v1.0.0), strict and bounded; see toml.h.
 *
 * One pass over the buffer, recursive descent for values.  The input is
 * checked for UTF-8 once up front, so the rest of the parser only has to
 * treat bytes >= 0x80 as "some character" where characters are allowed
 * (strings, comments) and as an error everywhere else.
 *
 * Redefinition rules.  Every table remembers how it came to be:
 *
 *	IMPLICIT  the prefix of a header ([a] in [a.b.c]); a later [a] may
 *		  still define it, once
 *	HEADER	  defined by [a] or [[a]] (and the root)
 *	DOTTED	  created by dotted keys in one section (the lines under
 *		  one header, the root lines, or one inline table)
 *	INLINE	  an inline table: closed to everything after its '}'
 *
 * A header may pass through any table but an inline one (and through the
 * last element of an array of tables), and may define only a table that
 * does not exist yet or an IMPLICIT one.  Dotted keys may pass through
 * tables their own section created, and through IMPLICIT ones (which
 * then count as created by that section, as Python's tomllib does); a
 * table defined by a header, an inline table or any array stops them.
 * Inline tables and static arrays are never extended.
 *
 * Memory: every node, key and string comes from an arena freed at once.
 * Tables find keys by a linear search while small and through one hash
 * index per document (SipHash keyed per document, so a hostile file
 * cannot flood it) once larger.  Allocation is bounded by the limits:
 * at most max_values nodes, and string bytes never exceed the input.
 */

#include <sys/types.h>

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "toml.h"

#define ARENA_ALIGN	16
#define CHUNK_FIRST	4096
#define CHUNK_MAX	(1024 * 1024)
#define SMALL_TABLE	8		/* linear search up to this many keys */
#define NUMBER_MAX	128		/* longest float literal converted */
#define NAME_MAX_SHOWN	72		/* key names in messages */

enum origin {
	T_IMPLICIT,
	T_HEADER,
	T_DOTTED,
	T_INLINE,
};

struct toml_table {
	struct toml_kv		*kv;
	uint32_t		 n;
	uint32_t		 cap;
	struct toml_doc		*doc;		/* for the hash index */
	uint32_t		 id;		/* hash tweak */
	uint32_t		 section;	/* T_DOTTED: where created */
	uint16_t		 depth;
	uint8_t			 origin;
};

struct toml_array {
	struct toml_value	*v;
	uint32_t		 n;
	uint32_t		 cap;
	uint16_t		 depth;
	uint8_t			 aot;		/* built by [[ ]] */
};

struct chunk {
	struct chunk		*next;
	size_t			 size;
	size_t			 used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct hent {
	struct toml_table	*t;		/* NULL: free slot */
	uint32_t		 idx;
	uint32_t		 hash;
};

struct toml_doc {
	struct chunk		*chunks;
	size_t			 nextchunk;
	struct toml_table	*root;
	struct hent		*hash;		/* malloc'd, power of two */
	size_t			 hcap;
	size_t			 hused;
	uint64_t		 hkey[2];
	uint32_t		 ntables;
};

struct key {
	const char		*ptr;
	size_t			 len;
	int			 owned;		/* already in the arena */
};

struct keypath {
	struct key		 seg[TOML_MAX_DEPTH];
	size_t			 pos[TOML_MAX_DEPTH];
	size_t			 n;
};

struct parser {
	const unsigned char	*s;
	size_t			 len;
	size_t			 pos;
	size_t			 bom;		/* 3 after a byte order mark */
	struct toml_doc		*doc;
	struct toml_error	*err;
	int			 failed;
	size_t			 max_string;
	size_t			 max_values;
	int			 max_depth;
	size_t			 nvalues;
	struct toml_table	*cur;		/* the current section's */
	uint32_t		 cursec;
	uint32_t		 nsection;
	char			*buf;		/* decoded string being built */
	size_t			 buflen;
	size_t			 bufcap;
	size_t			 strstart;
	char			 found[24];
	char			 name[2][NAME_MAX_SHOWN + 8];
};

static int	parse_value(struct parser *, int, struct toml_value *);
static int	keyval(struct parser *, struct toml_table *, uint32_t);
static int	fail(struct parser *, size_t, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));

/* Arena. */

static void *
arena_alloc(struct toml_doc *d, size_t n)
{
	struct chunk	*c = d->chunks, *nc;
	size_t		 sz;
	void		*p;

	if (n > SIZE_MAX / 2)
		return (NULL);
	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (c == NULL || c->size - c->used < n) {
		sz = n > d->nextchunk ? n : d->nextchunk;
		if ((nc = malloc(sizeof(*nc) + sz)) == NULL)
			return (NULL);
		nc->size = sz;
		nc->used = 0;
		if (c != NULL && n >= d->nextchunk) {
			/* A large block: keep filling the current chunk. */
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			d->chunks = nc;
			if (d->nextchunk < CHUNK_MAX)
				d->nextchunk *= 2;
		}
		c = nc;
	}
	p = c->data + c->used;
	c->used += n;
	return (p);
}

/* SipHash-1-3 of a key with the table's id folded into the secret. */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
keyhash(const struct toml_doc *d, uint32_t id, const char *p, size_t len)
{
	const unsigned char	*s = (const unsigned char *)p;
	uint64_t		 k0 = d->hkey[0], k1 = d->hkey[1] ^ id;
	uint64_t		 v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t		 v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t		 v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t		 v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t		 m, b = (uint64_t)len << 56;
	size_t			 i, j;

	for (i = 0; i + 8 <= len; i += 8) {
		for (m = 0, j = 0; j < 8; j++)
			m |= (uint64_t)s[i + j] << (8 * j);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (j = 0; i + j < len; j++)
		b |= (uint64_t)s[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return (v0 ^ v1 ^ v2 ^ v3);
}

static int
index_put(struct toml_doc *d, struct toml_table *t, uint32_t idx, uint32_t h)
{
	size_t	i, mask = d->hcap - 1;

	for (i = h & mask; d->hash[i].t != NULL; i = (i + 1) & mask)
		;
	d->hash[i].t = t;
	d->hash[i].idx = idx;
	d->hash[i].hash = h;
	d->hused++;
	return (0);
}

static int
index_add(struct toml_doc *d, struct toml_table *t, uint32_t idx)
{
	struct hent	*old = d->hash;
	size_t		 i, oldcap = d->hcap;
	const struct toml_str *k = &t->kv[idx].key;

	if ((d->hused + 1) * 2 > d->hcap) {
		d->hcap = oldcap ? oldcap * 2 : 1024;
		if ((d->hash = calloc(d->hcap, sizeof(*d->hash))) == NULL) {
			d->hash = old;
			d->hcap = oldcap;
			return (-1);
		}
		d->hused = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].t != NULL)
				index_put(d, old[i].t, old[i].idx, old[i].hash);
		free(old);
	}
	return (index_put(d, t, idx,
	    (uint32_t)keyhash(d, t->id, k->ptr, k->len)));
}

static struct toml_value *
lookup(const struct toml_table *t, const char *k, size_t len)
{
	const struct toml_doc	*d = t->doc;
	const struct toml_kv	*kv;
	size_t			 i, mask;
	uint32_t		 h;

	if (t->n <= SMALL_TABLE) {
		for (i = 0; i < t->n; i++) {
			kv = &t->kv[i];
			if (kv->key.len == len &&
			    memcmp(kv->key.ptr, k, len) == 0)
				return (&t->kv[i].val);
		}
		return (NULL);
	}
	h = (uint32_t)keyhash(d, t->id, k, len);
	mask = d->hcap - 1;
	for (i = h & mask; d->hash[i].t != NULL; i = (i + 1) & mask) {
		if (d->hash[i].t != t || d->hash[i].hash != h)
			continue;
		kv = &t->kv[d->hash[i].idx];
		if (kv->key.len == len && memcmp(kv->key.ptr, k, len) == 0)
			return (&t->kv[d->hash[i].idx].val);
	}
	return (NULL);
}

/* Messages. */

static void
where(const struct parser *p, size_t at, size_t *line, size_t *col)
{
	size_t	i, l = 1, ls = p->bom, c = 1;

	if (at > p->len)
		at = p->len;
	for (i = 0; i < at; i++)
		if (p->s[i] == '\n') {
			l++;
			ls = i + 1;
		}
	for (i = ls; i < at; i++)
		if ((p->s[i] & 0xc0) != 0x80)
			c++;
	*line = l;
	*col = c;
}

static int
fail(struct parser *p, size_t at, const char *fmt, ...)
{
	va_list	ap;
	char	what[160];

	if (p->failed)
		return (-1);
	p->failed = 1;
	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (at == SIZE_MAX) {
		p->err->line = p->err->col = 0;
		(void)snprintf(p->err->msg, sizeof(p->err->msg), "%s", what);
	} else {
		where(p, at, &p->err->line, &p->err->col);
		(void)snprintf(p->err->msg, sizeof(p->err->msg),
		    "line %zu, column %zu: %s", p->err->line, p->err->col,
		    what);
	}
	return (-1);
}

static int
nomem(struct parser *p)
{
	return (fail(p, SIZE_MAX, "out of memory"));
}

/* What is at 'at', for "expected X, found Y". */
static const char *
found(struct parser *p, size_t at)
{
	unsigned int	c, cp;
	int		n, i;

	if (at >= p->len)
		return ("end of file");
	c = p->s[at];
	if (c == '\n' || (c == '\r' && at + 1 < p->len &&
	    p->s[at + 1] == '\n'))
		return ("end of line");
	if (c > 0x20 && c < 0x7f) {
		(void)snprintf(p->found, sizeof(p->found), "'%c'", c);
		return (p->found);
	}
	if (c == ' ')
		return ("a space");
	if (c == '\r')
		return ("a carriage return without a line feed");
	/* The input is valid UTF-8: decode the character for the message. */
	n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
	cp = n == 0 ? c : c & (0x3f >> n);
	for (i = 1; i <= n && at + i < p->len; i++)
		cp = (cp << 6) | (p->s[at + i] & 0x3f);
	(void)snprintf(p->found, sizeof(p->found), "U+%04X", cp);
	return (p->found);
}

static int
is_bare(int c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-');
}

/*
 * The first n parts of a key as one would write them, for messages, in
 * buffer 'which' (0 or 1) so that a message can name two keys.
 */
static const char *
keyname(struct parser *p, int which, const struct keypath *kp, size_t n)
{
	char		*o = p->name[which];
	size_t		 len = 0, i, j, cap = NAME_MAX_SHOWN;
	const struct key *k;
	int		 bare;
	char		 esc[8];
	unsigned char	 c;

#define PUT(ch) do {							\
	if (len >= cap)							\
		goto full;						\
	o[len++] = (ch);						\
} while (0)
	for (i = 0; i < n; i++) {
		k = &kp->seg[i];
		if (i > 0)
			PUT('.');
		for (bare = k->len > 0, j = 0; j < k->len && bare; j++)
			bare = is_bare((unsigned char)k->ptr[j]);
		if (bare) {
			for (j = 0; j < k->len; j++)
				PUT(k->ptr[j]);
			continue;
		}
		PUT('"');
		for (j = 0; j < k->len; j++) {
			c = (unsigned char)k->ptr[j];
			if (c == '"' || c == '\\') {
				PUT('\\');
				PUT((char)c);
			} else if (c < 0x20 || c == 0x7f) {
				(void)snprintf(esc, sizeof(esc), "\\u%04X", c);
				if (len + 6 > cap)
					goto full;
				memcpy(o + len, esc, 6);
				len += 6;
			} else
				PUT((char)c);
		}
		PUT('"');
	}
	o[len] = '\0';
	return (o);
full:
	/* Cut before any multi-byte character that may be incomplete. */
	while (len > 0 && (unsigned char)o[len - 1] >= 0x80)
		len--;
	memcpy(o + len, "...", 4);
	return (o);
#undef PUT
}

static const char *
a_type(const struct toml_value *v)
{
	switch (v->type) {
	case TOML_STRING:
		return ("a string");
	case TOML_INTEGER:
		return ("an integer");
	case TOML_FLOAT:
		return ("a float");
	case TOML_BOOL:
		return ("a boolean");
	case TOML_DATETIME:
		return ("a date-time");
	case TOML_ARRAY:
		return (v->u.a->aot ? "an array of tables" : "an array");
	case TOML_TABLE:
		return (v->u.t->origin == T_INLINE ? "an inline table" :
		    "a table");
	}
	return ("a value");
}

/* Nodes. */

static int
count_value(struct parser *p)
{
	if (++p->nvalues > p->max_values)
		return (fail(p, p->pos, "more than %zu values", p->max_values));
	return (0);
}

static int
check_depth(struct parser *p, int depth)
{
	if (depth > p->max_depth)
		return (fail(p, p->pos, "nested deeper than %d levels",
		    p->max_depth));
	return (0);
}

static struct toml_table *
new_table(struct parser *p, int depth, enum origin origin, uint32_t section)
{
	struct toml_table	*t;

	if (check_depth(p, depth) == -1 || count_value(p) == -1)
		return (NULL);
	if ((t = arena_alloc(p->doc, sizeof(*t))) == NULL) {
		nomem(p);
		return (NULL);
	}
	memset(t, 0, sizeof(*t));
	t->doc = p->doc;
	t->id = p->doc->ntables++;
	t->depth = (uint16_t)depth;
	t->origin = (uint8_t)origin;
	t->section = section;
	return (t);
}

static struct toml_array *
new_array(struct parser *p, int depth, int aot)
{
	struct toml_array	*a;

	if (check_depth(p, depth) == -1 || count_value(p) == -1)
		return (NULL);
	if ((a = arena_alloc(p->doc, sizeof(*a))) == NULL) {
		nomem(p);
		return (NULL);
	}
	memset(a, 0, sizeof(*a));
	a->depth = (uint16_t)depth;
	a->aot = (uint8_t)aot;
	return (a);
}

/* Grow a vector in the arena; the old copy stays until toml_free(). */
static void *
grow(struct parser *p, void *v, uint32_t n, uint32_t *cap, size_t elsize)
{
	void		*nv;
	uint32_t	 ncap;

	if (n < *cap)
		return (v);
	ncap = *cap ? *cap * 2 : 4;
	if ((nv = arena_alloc(p->doc, (size_t)ncap * elsize)) == NULL) {
		nomem(p);
		return (NULL);
	}
	if (n > 0)
		memcpy(nv, v, (size_t)n * elsize);
	*cap = ncap;
	return (nv);
}

static char *
arena_strdup(struct parser *p, const char *s, size_t len)
{
	char	*c;

	if ((c = arena_alloc(p->doc, len + 1)) == NULL) {
		nomem(p);
		return (NULL);
	}
	if (len > 0)
		memcpy(c, s, len);
	c[len] = '\0';
	return (c);
}

static int
insert(struct parser *p, struct toml_table *t, const struct key *k,
    const struct toml_value *v)
{
	struct toml_kv	*kv;
	const char	*key = k->ptr;
	uint32_t	 i;

	if ((kv = grow(p, t->kv, t->n, &t->cap, sizeof(*kv))) == NULL)
		return (-1);
	t->kv = kv;
	if (!k->owned && (key = arena_strdup(p, k->ptr, k->len)) == NULL)
		return (-1);
	kv[t->n].key.ptr = key;
	kv[t->n].key.len = k->len;
	kv[t->n].val = *v;
	t->n++;
	if (t->n == SMALL_TABLE + 1) {
		for (i = 0; i < t->n; i++)
			if (index_add(p->doc, t, i) == -1)
				return (nomem(p));
	} else if (t->n > SMALL_TABLE + 1) {
		if (index_add(p->doc, t, t->n - 1) == -1)
			return (nomem(p));
	}
	return (0);
}

static int
push(struct parser *p, struct toml_array *a, const struct toml_value *v)
{
	struct toml_value	*nv;

	if ((nv = grow(p, a->v, a->n, &a->cap, sizeof(*nv))) == NULL)
		return (-1);
	a->v = nv;
	a->v[a->n++] = *v;
	return (0);
}

/* A new table under key k of t; or, with a, appended to a. */
static struct toml_table *
add_table(struct parser *p, struct toml_table *t, const struct key *k,
    struct toml_array *a, enum origin origin, uint32_t sec)
{
	struct toml_value	v;

	memset(&v, 0, sizeof(v));
	v.type = TOML_TABLE;
	if ((v.u.t = new_table(p, (a != NULL ? a->depth : t->depth) + 1,
	    origin, sec)) == NULL)
		return (NULL);
	if (a != NULL ? push(p, a, &v) == -1 : insert(p, t, k, &v) == -1)
		return (NULL);
	return (v.u.t);
}

/* Lexical pieces. */

static int
peek(const struct parser *p, size_t off)
{
	if (p->pos + off >= p->len)
		return (-1);
	return (p->s[p->pos + off]);
}

static void
skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' ||
	    p->s[p->pos] == '\t'))
		p->pos++;
}

static int
skip_newline(struct parser *p)
{
	if (peek(p, 0) == '\n') {
		p->pos++;
		return (1);
	}
	if (peek(p, 0) == '\r' && peek(p, 1) == '\n') {
		p->pos += 2;
		return (1);
	}
	return (0);
}

static int
is_control(unsigned int c)
{
	return ((c < 0x20 && c != '\t') || c == 0x7f);
}

static int
skip_comment(struct parser *p)
{
	int	c;

	if (peek(p, 0) != '#')
		return (0);
	p->pos++;
	while ((c = peek(p, 0)) != -1 && c != '\n') {
		if (c == '\r' && peek(p, 1) == '\n')
			break;
		if (is_control(c))
			return (fail(p, p->pos,
			    "control character U+%04X in comment", c));
		p->pos++;
	}
	return (0);
}

/* Whitespace, comments and newlines, as allowed inside arrays. */
static int
skip_ws_nl(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		if (skip_comment(p) == -1)
			return (-1);
		if (!skip_newline(p))
			return (0);
	}
}

static int
end_of_line(struct parser *p, const char *after)
{
	skip_ws(p);
	if (skip_comment(p) == -1)
		return (-1);
	if (p->pos == p->len || skip_newline(p))
		return (0);
	return (fail(p, p->pos, "expected end of line after %s, found %s",
	    after, found(p, p->pos)));
}

/* Strings. */

static int
buf_put(struct parser *p, const void *s, size_t n)
{
	char	*nb;
	size_t	 ncap;

	if (n == 0)
		return (0);
	if (n > p->max_string - p->buflen)
		return (fail(p, p->strstart, "string longer than %zu bytes",
		    p->max_string));
	if (n > p->bufcap - p->buflen) {
		ncap = p->bufcap ? p->bufcap : 256;
		while (ncap - p->buflen < n)
			ncap *= 2;
		if ((nb = realloc(p->buf, ncap)) == NULL)
			return (nomem(p));
		p->buf = nb;
		p->bufcap = ncap;
	}
	memcpy(p->buf + p->buflen, s, n);
	p->buflen += n;
	return (0);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

static int
put_utf8(struct parser *p, uint32_t cp)
{
	unsigned char	u[4];
	size_t		n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = 0xc0 | (cp >> 6);
		u[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | (cp >> 12);
		u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		u[0] = 0xf0 | (cp >> 18);
		u[1] = 0x80 | ((cp >> 12) & 0x3f);
		u[2] = 0x80 | ((cp >> 6) & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	return (buf_put(p, u, n));
}

/* After a backslash in a basic string. */
static int
escape(struct parser *p, int multi)
{
	size_t		bs = p->pos, ndig, i;
	uint32_t	cp = 0;
	int		c, h;
	char		out;

	p->pos++;
	c = peek(p, 0);
	switch (c) {
	case 'b':
		out = '\b';
		break;
	case 't':
		out = '\t';
		break;
	case 'n':
		out = '\n';
		break;
	case 'f':
		out = '\f';
		break;
	case 'r':
		out = '\r';
		break;
	case '"':
		out = '"';
		break;
	case '\\':
		out = '\\';
		break;
	case 'u':
	case 'U':
		ndig = c == 'u' ? 4 : 8;
		for (i = 1; i <= ndig; i++) {
			if ((h = hexval(peek(p, i))) == -1)
				return (fail(p, bs, "\\%c escape needs %zu "
				    "hexadecimal digits", c, ndig));
			cp = cp << 4 | (uint32_t)h;
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (fail(p, bs, "escape \\%c%.*s is not a Unicode "
			    "scalar value", c, (int)ndig, p->s + p->pos + 1));
		p->pos += 1 + ndig;
		return (put_utf8(p, cp));
	case ' ':
	case '\t':
	case '\n':
	case '\r':
		if (!multi)
			goto bad;
		/* Line-ending backslash: drop whitespace up to the text. */
		skip_ws(p);
		if (!skip_newline(p))
			return (fail(p, bs, "a backslash followed by "
			    "whitespace must end the line"));
		for (;;) {
			skip_ws(p);
			if (!skip_newline(p))
				return (0);
		}
	default:
	bad:
		if (c == -1)
			return (fail(p, p->strstart, "unterminated string"));
		if (c > 0x20 && c < 0x7f)
			return (fail(p, bs, "invalid escape sequence \\%c", c));
		return (fail(p, bs, "invalid escape sequence: backslash "
		    "followed by %s", found(p, p->pos)));
	}
	p->pos++;
	return (buf_put(p, &out, 1));
}

/*
 * Any of the four kinds of string, decoded into p->buf.  Multi-line
 * strings drop a newline right after the opening quotes and store every
 * newline as \n.
 */
static int
string_body(struct parser *p, int quote, int multi)
{
	const unsigned char	*s = p->s;
	size_t			 i, n;
	int			 c;
	char			 nl = '\n';

	p->strstart = p->pos;
	p->buflen = 0;
	p->pos += multi ? 3 : 1;
	if (multi)
		(void)skip_newline(p);
	for (;;) {
		/* Plain characters in one run. */
		for (i = p->pos; i < p->len; i++) {
			c = s[i];
			if (c >= 0x20 && c != quote && c != '\\' && c != 0x7f)
				continue;
			if ((c == '\\' && quote == '\'') || c == '\t')
				continue;
			break;
		}
		if (i > p->pos && buf_put(p, s + p->pos, i - p->pos) == -1)
			return (-1);
		p->pos = i;
		if ((c = peek(p, 0)) == -1)
			return (fail(p, p->strstart, "unterminated string"));
		if (c == quote) {
			if (!multi) {
				p->pos++;
				return (0);
			}
			for (n = 0; n < 6 && peek(p, n) == quote; n++)
				;
			if (n < 3) {
				if (buf_put(p, s + p->pos, n) == -1)
					return (-1);
				p->pos += n;
				continue;
			}
			if (n == 6)
				return (fail(p, p->pos + 5, "too many quotes "
				    "at the end of a multi-line string"));
			/* Up to two quotes belong to the string. */
			if (buf_put(p, s + p->pos, n - 3) == -1)
				return (-1);
			p->pos += n;
			return (0);
		}
		if (c == '\\') {
			if (escape(p, multi) == -1)
				return (-1);
			continue;
		}
		if (c == '\n' || (c == '\r' && peek(p, 1) == '\n')) {
			if (!multi)
				return (fail(p, p->strstart, "unterminated "
				    "string (newline before the closing "
				    "quote)"));
			if (buf_put(p, &nl, 1) == -1)
				return (-1);
			p->pos += c == '\r' ? 2 : 1;
			continue;
		}
		return (fail(p, p->pos, "control character U+%04X in string",
		    c));
	}
}

static int
is_multi(const struct parser *p, int quote)
{
	return (peek(p, 0) == quote && peek(p, 1) == quote &&
	    peek(p, 2) == quote);
}

/* Keys. */

static int
simple_key(struct parser *p, struct key *k)
{
	size_t	start = p->pos;
	int	c = peek(p, 0);

	if (c == '"' || c == '\'') {
		if (is_multi(p, c))
			return (fail(p, p->pos, "a key cannot be a multi-line "
			    "string"));
		if (string_body(p, c, 0) == -1)
			return (-1);
		if ((k->ptr = arena_strdup(p, p->buf, p->buflen)) == NULL)
			return (-1);
		k->len = p->buflen;
		k->owned = 1;
		return (0);
	}
	while (p->pos < p->len && is_bare(p->s[p->pos]))
		p->pos++;
	if (p->pos == start)
		return (fail(p, p->pos, "expected a key, found %s",
		    found(p, p->pos)));
	if (p->pos - start > p->max_string)
		return (fail(p, start, "key longer than %zu bytes",
		    p->max_string));
	k->ptr = (const char *)p->s + start;
	k->len = p->pos - start;
	k->owned = 0;
	return (0);
}

static int
key_path(struct parser *p, struct keypath *kp)
{
	kp->n = 0;
	for (;;) {
		if (kp->n == TOML_MAX_DEPTH)
			return (fail(p, p->pos, "key has more than %d parts",
			    TOML_MAX_DEPTH));
		kp->pos[kp->n] = p->pos;
		if (simple_key(p, &kp->seg[kp->n]) == -1)
			return (-1);
		kp->n++;
		skip_ws(p);
		if (peek(p, 0) != '.')
			return (0);
		p->pos++;
		skip_ws(p);
	}
}

/* Scalars other than strings. */

/* A value must be followed by whitespace, a comment or punctuation. */
static int
after_scalar(struct parser *p, const char *what)
{
	int	c = peek(p, 0);

	if (c == -1 || (c != '\0' && strchr(" \t\r\n#,]}", c) != NULL))
		return (0);
	return (fail(p, p->pos, "unexpected %s after %s", found(p, p->pos),
	    what));
}

static int
is_digit(int c, int base)
{
	switch (base) {
	case 2:
		return (c == '0' || c == '1');
	case 8:
		return (c >= '0' && c <= '7');
	case 16:
		return (hexval(c) != -1);
	default:
		return (c >= '0' && c <= '9');
	}
}

/* Digits of one base with single underscores between them. */
static int
digits(struct parser *p, size_t *ip, size_t end, int base)
{
	const unsigned char	*s = p->s;
	size_t			 i = *ip;

	if (i >= end || !is_digit(s[i], base))
		return (fail(p, i, "expected a digit in number, found %s",
		    found(p, i)));
	while (i < end) {
		if (is_digit(s[i], base))
			i++;
		else if (s[i] == '_') {
			if (i + 1 >= end || !is_digit(s[i + 1], base))
				return (fail(p, i, "an underscore in a number "
				    "must be between digits"));
			i++;
		} else
			break;
	}
	*ip = i;
	return (0);
}

static int
is_numchar(int c)
{
	return (is_bare(c) || c == '.' || c == '+');
}

static int
parse_number(struct parser *p, struct toml_value *v)
{
	const unsigned char	*s = p->s;
	size_t			 start = p->pos, end, i, j, n;
	uint64_t		 u = 0, limit;
	int			 neg = 0, base = 10, isfloat = 0, d;
	char			 num[NUMBER_MAX + 1], *ep;
	const char		*dp;
	double			 f;

	for (end = start; end < p->len && is_numchar(s[end]); end++)
		;
	i = start;
	if (s[i] == '+' || s[i] == '-')
		neg = s[i++] == '-';
	if (end - i == 3 && (memcmp(s + i, "inf", 3) == 0 ||
	    memcmp(s + i, "nan", 3) == 0)) {
		v->type = TOML_FLOAT;
		if (s[i] == 'i')
			v->u.f = neg ? -HUGE_VAL : HUGE_VAL;
		else
			v->u.f = neg ? -NAN : NAN;
		p->pos = end;
		return (after_scalar(p, "float"));
	}
	if (i == end || !is_digit(s[i], 10))
		return (fail(p, i, "expected a number, found %s", found(p, i)));
	if (end - i > 2 && s[i] == '0' &&
	    (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b')) {
		if (i > start)
			return (fail(p, start, "a hexadecimal, octal or binary "
			    "integer cannot have a sign"));
		base = s[i + 1] == 'x' ? 16 : s[i + 1] == 'o' ? 8 : 2;
		i += 2;
		j = i;
		if (digits(p, &i, end, base) == -1)
			return (-1);
		for (; j < i; j++) {
			if (s[j] == '_')
				continue;
			d = hexval(s[j]);
			if (u > ((uint64_t)INT64_MAX - (uint64_t)d) /
			    (uint64_t)base)
				return (fail(p, start, "integer does not fit "
				    "in 64 bits"));
			u = u * (uint64_t)base + (uint64_t)d;
		}
	} else {
		if (i + 1 < end && s[i] == '0' &&
		    (is_digit(s[i + 1], 10) || s[i + 1] == '_'))
			return (fail(p, start, "leading zeros are not allowed "
			    "in a decimal number"));
		j = i;
		if (digits(p, &i, end, 10) == -1)
			return (-1);
		limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
		for (; j < i; j++) {
			if (s[j] == '_')
				continue;
			d = s[j] - '0';
			if (u > (limit - (uint64_t)d) / 10)
				u = UINT64_MAX;	/* a float may still fit */
			else if (u != UINT64_MAX)
				u = u * 10 + (uint64_t)d;
		}
		if (i < end && s[i] == '.') {
			i++;
			isfloat = 1;
			if (i >= end || !is_digit(s[i], 10))
				return (fail(p, i, "a decimal point must be "
				    "followed by digits"));
			if (digits(p, &i, end, 10) == -1)
				return (-1);
		}
		if (i < end && (s[i] == 'e' || s[i] == 'E')) {
			i++;
			isfloat = 1;
			if (i < end && (s[i] == '+' || s[i] == '-'))
				i++;
			if (digits(p, &i, end, 10) == -1)
				return (-1);
		}
		if (!isfloat && u == UINT64_MAX && i == end)
			return (fail(p, start, "integer does not fit in 64 "
			    "bits"));
	}
	if (i < end)
		return (fail(p, i, "unexpected %s in number", found(p, i)));
	p->pos = end;
	if (!isfloat) {
		v->type = TOML_INTEGER;
		if (!neg)
			v->u.i = (int64_t)u;
		else if (u == (uint64_t)INT64_MAX + 1)
			v->u.i = INT64_MIN;
		else
			v->u.i = -(int64_t)u;
		return (after_scalar(p, "integer"));
	}
	/* strtod wants no underscores and the locale's decimal point. */
	dp = localeconv()->decimal_point;
	for (n = 0, j = start; j < end; j++) {
		if (s[j] == '_')
			continue;
		if (s[j] == '.' && dp != NULL && dp[0] != '\0' &&
		    dp[1] == '\0')
			num[n++] = dp[0];
		else
			num[n++] = (char)s[j];
		if (n == NUMBER_MAX)
			return (fail(p, start, "float literal longer than %d "
			    "characters", NUMBER_MAX));
	}
	num[n] = '\0';
	errno = 0;
	f = strtod(num, &ep);
	if (*ep != '\0')
		return (fail(p, start, "invalid float"));
	if (errno == ERANGE && isinf(f))
		return (fail(p, start, "float out of range"));
	v->type = TOML_FLOAT;
	v->u.f = f;
	return (after_scalar(p, "float"));
}

static int
ndigits(const struct parser *p, size_t at, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (at + i >= p->len || !is_digit(p->s[at + i], 10))
			return (0);
	return (1);
}

static int
num(const struct parser *p, size_t at, size_t n)
{
	int	v = 0;

	while (n-- > 0)
		v = v * 10 + (p->s[at++] - '0');
	return (v);
}

static int
is_date(const struct parser *p)
{
	return (ndigits(p, p->pos, 4) && peek(p, 4) == '-');
}

static int
is_time(const struct parser *p, size_t at)
{
	return (ndigits(p, at, 2) && at + 2 < p->len && p->s[at + 2] == ':');
}

/* HH:MM:SS[.frac] at p->pos, or HH:MM for an offset (secs 0). */
static int
hms(struct parser *p, int secs, const char *what)
{
	size_t	at = p->pos;

	if (!ndigits(p, at, 2) || peek(p, 2) != ':' ||
	    !ndigits(p, at + 3, 2) ||
	    (secs && (peek(p, 5) != ':' || !ndigits(p, at + 6, 2))))
		return (fail(p, at, "invalid %s: expected %s", what,
		    secs ? "HH:MM:SS" : "HH:MM"));
	if (num(p, at, 2) > 23 || num(p, at + 3, 2) > 59 ||
	    (secs && num(p, at + 6, 2) > 60))
		return (fail(p, at, "invalid %s: out of range", what));
	p->pos += secs ? 8 : 5;
	if (secs && peek(p, 0) == '.') {
		p->pos++;
		if (!ndigits(p, p->pos, 1))
			return (fail(p, p->pos, "invalid %s: expected digits "
			    "after '.'", what));
		while (ndigits(p, p->pos, 1))
			p->pos++;
	}
	return (0);
}

static int
parse_datetime(struct parser *p, struct toml_value *v)
{
	static const int	 mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };
	size_t			 start = p->pos;
	int			 y, m, d, c;
	const char		*what = "time";
	char			*text;

	v->type = TOML_DATETIME;
	v->dtkind = TOML_TIME_LOCAL;
	if (is_date(p)) {
		what = "date";
		if (!ndigits(p, start + 5, 2) || peek(p, 7) != '-' ||
		    !ndigits(p, start + 8, 2))
			return (fail(p, start, "invalid date: expected "
			    "YYYY-MM-DD"));
		y = num(p, start, 4);
		m = num(p, start + 5, 2);
		d = num(p, start + 8, 2);
		if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
		    (m == 2 && d == 29 &&
		    (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0))))
			return (fail(p, start, "invalid date: no such day"));
		p->pos += 10;
		v->dtkind = TOML_DATE_LOCAL;
		c = peek(p, 0);
		if (c == 'T' || c == 't' ||
		    (c == ' ' && is_time(p, p->pos + 1))) {
			p->pos++;
			what = "date-time";
			v->dtkind = TOML_DT_LOCAL;
			if (hms(p, 1, what) == -1)
				return (-1);
			c = peek(p, 0);
			if (c == 'Z' || c == 'z') {
				p->pos++;
				v->dtkind = TOML_DT_OFFSET;
			} else if (c == '+' || c == '-') {
				p->pos++;
				if (hms(p, 0, "time offset") == -1)
					return (-1);
				v->dtkind = TOML_DT_OFFSET;
			}
		}
	} else if (hms(p, 1, what) == -1)
		return (-1);
	if ((text = arena_strdup(p, (const char *)p->s + start,
	    p->pos - start)) == NULL)
		return (-1);
	v->u.s.ptr = text;
	v->u.s.len = p->pos - start;
	return (after_scalar(p, what));
}

/* Containers. */

static int
parse_array(struct parser *p, int depth, struct toml_value *v)
{
	struct toml_array	*a;
	struct toml_value	 elt;
	int			 c;

	if ((a = new_array(p, depth, 0)) == NULL)
		return (-1);
	v->type = TOML_ARRAY;
	v->u.a = a;
	p->pos++;
	for (;;) {
		if (skip_ws_nl(p) == -1)
			return (-1);
		if (peek(p, 0) == ']')
			break;
		if (parse_value(p, depth + 1, &elt) == -1 ||
		    push(p, a, &elt) == -1 || skip_ws_nl(p) == -1)
			return (-1);
		if ((c = peek(p, 0)) == ']')
			break;
		if (c != ',')
			return (fail(p, p->pos, "expected ',' or ']' in array, "
			    "found %s", found(p, p->pos)));
		p->pos++;
	}
	p->pos++;
	return (0);
}

static int
parse_inline(struct parser *p, int depth, struct toml_value *v)
{
	struct toml_table	*t;
	uint32_t		 sec = ++p->nsection;
	int			 c;

	if ((t = new_table(p, depth, T_INLINE, 0)) == NULL)
		return (-1);
	v->type = TOML_TABLE;
	v->u.t = t;
	p->pos++;
	skip_ws(p);
	if (peek(p, 0) == '}') {
		p->pos++;
		return (0);
	}
	for (;;) {
		skip_ws(p);
		if (keyval(p, t, sec) == -1)
			return (-1);
		skip_ws(p);
		if ((c = peek(p, 0)) == '}')
			break;
		if (c == ',') {
			p->pos++;
			skip_ws(p);
			if ((c = peek(p, 0)) == '}')
				return (fail(p, p->pos, "trailing comma in "
				    "inline table"));
			if (c != '\n' && c != '\r' && c != '#')
				continue;
		}
		if (c == '\n' || c == '\r' || c == '#')
			return (fail(p, p->pos, "an inline table must end "
			    "on the line it starts (found %s)", c == '#' ?
			    "a comment" : "end of line"));
		return (fail(p, p->pos, "expected ',' or '}' in inline table, "
		    "found %s", found(p, p->pos)));
	}
	p->pos++;
	return (0);
}

static int
parse_value(struct parser *p, int depth, struct toml_value *v)
{
	int	c = peek(p, 0), multi;
	char	*str;

	/* Containers count themselves when created, scalars at the end. */
	memset(v, 0, sizeof(*v));
	switch (c) {
	case '"':
	case '\'':
		multi = is_multi(p, c);
		if (string_body(p, c, multi) == -1)
			return (-1);
		if ((str = arena_strdup(p, p->buf, p->buflen)) == NULL)
			return (-1);
		v->type = TOML_STRING;
		v->u.s.ptr = str;
		v->u.s.len = p->buflen;
		return (count_value(p));
	case '[':
		return (parse_array(p, depth, v));
	case '{':
		return (parse_inline(p, depth, v));
	case 't':
	case 'f':
		v->type = TOML_BOOL;
		if (p->len - p->pos >= 4 &&
		    memcmp(p->s + p->pos, "true", 4) == 0)
			v->u.b = 1;
		else if (p->len - p->pos >= 5 &&
		    memcmp(p->s + p->pos, "false", 5) == 0)
			v->u.b = 0;
		else
			break;
		p->pos += v->u.b ? 4 : 5;
		if (after_scalar(p, "boolean") == -1)
			return (-1);
		return (count_value(p));
	case 'i':
	case 'n':
	case '+':
	case '-':
		if (parse_number(p, v) == -1)
			return (-1);
		return (count_value(p));
	default:
		if (!is_digit(c, 10))
			break;
		if (is_date(p) || is_time(p, p->pos)) {
			if (parse_datetime(p, v) == -1)
				return (-1);
		} else if (parse_number(p, v) == -1)
			return (-1);
		return (count_value(p));
	}
	return (fail(p, p->pos, "expected a value, found %s",
	    found(p, p->pos)));
}

/* Table structure. */

/* Follow or create the table for part i of a dotted key. */
static struct toml_table *
dotted(struct parser *p, struct toml_table *t, const struct keypath *kp,
    size_t i, uint32_t sec)
{
	struct toml_value	*v;
	struct toml_table	*nt;
	const char		*why = NULL;

	v = lookup(t, kp->seg[i].ptr, kp->seg[i].len);
	if (v == NULL)
		return (add_table(p, t, &kp->seg[i], NULL, T_DOTTED, sec));
	if (v->type != TOML_TABLE) {
		fail(p, kp->pos[i], "key %s: %s is %s, which dotted keys "
		    "cannot extend", keyname(p, 0, kp, kp->n),
		    keyname(p, 1, kp, i + 1), a_type(v));
		return (NULL);
	}
	nt = v->u.t;
	switch (nt->origin) {
	case T_IMPLICIT:
		nt->origin = T_DOTTED;
		nt->section = sec;
		return (nt);
	case T_DOTTED:
		if (nt->section == sec)
			return (nt);
		why = "was defined by dotted keys elsewhere";
		break;
	case T_HEADER:
		why = "was defined by a [table] header and cannot be extended "
		    "with dotted keys";
		break;
	case T_INLINE:
		why = "is an inline table and cannot be extended";
		break;
	}
	fail(p, kp->pos[i], "key %s: table %s %s", keyname(p, 0, kp, kp->n),
	    keyname(p, 1, kp, i + 1), why);
	return (NULL);
}

static int
header(struct parser *p)
{
	struct keypath		 kp;
	struct toml_table	*t = p->doc->root, *nt;
	struct toml_array	*a;
	struct toml_value	*v, nv;
	size_t			 start = p->pos, end, i, last;
	uint32_t		 sec;
	int			 aot = 0;
	const char		*o, *c;

	p->pos++;
	if (peek(p, 0) == '[') {
		aot = 1;
		p->pos++;
	}
	o = aot ? "[[" : "[";
	c = aot ? "]]" : "]";
	skip_ws(p);
	if (key_path(p, &kp) == -1)
		return (-1);
	if (peek(p, 0) != ']')
		return (fail(p, p->pos, "expected '%s' after table name, "
		    "found %s", c, found(p, p->pos)));
	if (aot && peek(p, 1) != ']')
		return (fail(p, p->pos + 1, "expected ']]' after table name, "
		    "found ']' and %s", found(p, p->pos + 1)));
	end = p->pos + (aot ? 2 : 1);
	sec = ++p->nsection;
	last = kp.n - 1;
	/* Limit errors while building the path point at the header. */
	p->pos = start;

	for (i = 0; i < last; i++) {
		v = lookup(t, kp.seg[i].ptr, kp.seg[i].len);
		if (v == NULL) {
			if ((t = add_table(p, t, &kp.seg[i], NULL, T_IMPLICIT,
			    0)) == NULL)
				return (-1);
		} else if (v->type == TOML_TABLE &&
		    v->u.t->origin != T_INLINE)
			t = v->u.t;
		else if (v->type == TOML_ARRAY && v->u.a->aot)
			t = v->u.a->v[v->u.a->n - 1].u.t;
		else
			return (fail(p, kp.pos[i], "table %s%s%s: %s is %s, "
			    "which cannot be extended", o,
			    keyname(p, 0, &kp, kp.n), c,
			    keyname(p, 1, &kp, i + 1), a_type(v)));
	}

	v = lookup(t, kp.seg[last].ptr, kp.seg[last].len);
	if (!aot) {
		if (v == NULL) {
			if ((nt = add_table(p, t, &kp.seg[last], NULL,
			    T_HEADER, 0)) == NULL)
				return (-1);
		} else if (v->type == TOML_TABLE &&
		    v->u.t->origin == T_IMPLICIT) {
			nt = v->u.t;
			nt->origin = T_HEADER;
		} else if (v->type == TOML_TABLE &&
		    v->u.t->origin == T_HEADER)
			return (fail(p, start, "table [%s] is defined twice",
			    keyname(p, 0, &kp, kp.n)));
		else if (v->type == TOML_TABLE && v->u.t->origin == T_DOTTED)
			return (fail(p, start, "table [%s] was already "
			    "defined by dotted keys",
			    keyname(p, 0, &kp, kp.n)));
		else
			return (fail(p, start, "table [%s] is already defined "
			    "as %s", keyname(p, 0, &kp, kp.n), a_type(v)));
	} else {
		if (v == NULL) {
			if ((a = new_array(p, t->depth + 1, 1)) == NULL)
				return (-1);
			memset(&nv, 0, sizeof(nv));
			nv.type = TOML_ARRAY;
			nv.u.a = a;
			if (insert(p, t, &kp.seg[last], &nv) == -1)
				return (-1);
		} else if (v->type == TOML_ARRAY && v->u.a->aot)
			a = v->u.a;
		else if (v->type == TOML_ARRAY)
			return (fail(p, start, "cannot append to the static "
			    "array %s with [[%s]]", keyname(p, 0, &kp, kp.n),
			    keyname(p, 1, &kp, kp.n)));
		else
			return (fail(p, start, "array of tables [[%s]] is "
			    "already defined as %s", keyname(p, 0, &kp, kp.n),
			    a_type(v)));
		if ((nt = add_table(p, NULL, NULL, a, T_HEADER, 0)) == NULL)
			return (-1);
	}
	p->cur = nt;
	p->cursec = sec;
	p->pos = end;
	return (end_of_line(p, "table header"));
}

static int
keyval(struct parser *p, struct toml_table *t, uint32_t sec)
{
	struct keypath		 kp;
	struct toml_value	 v;
	size_t			 i, last, start = p->pos, end;

	if (key_path(p, &kp) == -1)
		return (-1);
	if (peek(p, 0) != '=')
		return (fail(p, p->pos, "expected '=' after key %s, found %s",
		    keyname(p, 0, &kp, kp.n), found(p, p->pos)));
	end = p->pos + 1;
	last = kp.n - 1;
	/* Limit errors while building the path point at the key. */
	p->pos = start;
	for (i = 0; i < last; i++)
		if ((t = dotted(p, t, &kp, i, sec)) == NULL)
			return (-1);
	p->pos = end;
	skip_ws(p);
	if (lookup(t, kp.seg[last].ptr, kp.seg[last].len) != NULL)
		return (fail(p, start, "duplicate key %s",
		    keyname(p, 0, &kp, kp.n)));
	if (parse_value(p, t->depth + 1, &v) == -1)
		return (-1);
	return (insert(p, t, &kp.seg[last], &v));
}

/* The document. */

/* Offset of the first byte that is not valid UTF-8, or len. */
static size_t
utf8_check(const unsigned char *s, size_t len)
{
	size_t		i = 0, n, j;
	unsigned char	c, lo, hi;
	uint64_t	w;

	while (i < len) {
		/* Mostly ASCII: eight bytes at a time. */
		while (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i == len)
			break;
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;	/* no surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;	/* nothing past U+10FFFF */
		} else
			return (i);
		if (len - i <= n)
			return (i);
		if (s[i + 1] < lo || s[i + 1] > hi)
			return (i);
		for (j = 2; j <= n; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return (i);
		i += n + 1;
	}
	return (len);
}

static void
hash_seed(struct toml_doc *d)
{
	if (getentropy(d->hkey, sizeof(d->hkey)) == 0)
		return;
	/* Without randomness the index still works, only predictably. */
	d->hkey[0] = (uint64_t)(uintptr_t)d ^ 0x9e3779b97f4a7c15ULL;
	d->hkey[1] = (uint64_t)time(NULL) ^ 0xc2b2ae3d27d4eb4fULL;
}

static int
parse_document(struct parser *p)
{
	size_t	bad;

	if ((bad = utf8_check(p->s, p->len)) != p->len)
		return (fail(p, bad, "invalid UTF-8"));
	if (p->len >= 3 && memcmp(p->s, "\xef\xbb\xbf", 3) == 0)
		p->pos = p->bom = 3;
	for (;;) {
		skip_ws(p);
		if (skip_comment(p) == -1)
			return (-1);
		if (p->pos == p->len)
			return (0);
		if (skip_newline(p))
			continue;
		if (peek(p, 0) == '[') {
			if (header(p) == -1)
				return (-1);
		} else if (keyval(p, p->cur, p->cursec) == -1 ||
		    end_of_line(p, "key/value pair") == -1)
			return (-1);
	}
}

struct toml_doc *
toml_parse(const char *buf, size_t len, const struct toml_limits *lim,
    struct toml_error *err)
{
	struct parser		 p;
	struct toml_error	 dummy;
	struct toml_doc		*d;
	size_t			 max_doc = TOML_MAX_DOC;

	memset(&p, 0, sizeof(p));
	p.err = err != NULL ? err : &dummy;
	memset(p.err, 0, sizeof(*p.err));
	p.s = (const unsigned char *)buf;
	p.len = len;
	p.max_values = TOML_MAX_VALUES;
	p.max_depth = TOML_MAX_DEPTH;
	if (lim != NULL) {
		if (lim->max_doc > 0 && lim->max_doc < max_doc)
			max_doc = lim->max_doc;
		if (lim->max_values > 0 && lim->max_values < p.max_values)
			p.max_values = lim->max_values;
		if (lim->max_depth > 0 && lim->max_depth < p.max_depth)
			p.max_depth = lim->max_depth;
		p.max_string = lim->max_string;
	}
	if (p.max_string == 0 || p.max_string > max_doc)
		p.max_string = max_doc;
	if (len > max_doc) {
		fail(&p, SIZE_MAX, "document is %zu bytes, more than the "
		    "limit of %zu", len, max_doc);
		return (NULL);
	}
	if (buf == NULL && len > 0) {
		fail(&p, SIZE_MAX, "no document");
		return (NULL);
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		nomem(&p);
		return (NULL);
	}
	d->nextchunk = CHUNK_FIRST;
	hash_seed(d);
	p.doc = d;
	if ((d->root = new_table(&p, 0, T_HEADER, 0)) != NULL) {
		p.cur = d->root;
		p.cursec = 0;
		p.nvalues = 0;		/* the root is not a value */
	}
	if (d->root == NULL || parse_document(&p) == -1) {
		free(p.buf);
		toml_free(d);
		return (NULL);
	}
	free(p.buf);
	return (d);
}

void
toml_free(struct toml_doc *d)
{
	struct chunk	*c, *next;

	if (d == NULL)
		return;
	for (c = d->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(d->hash);
	free(d);
}

/* Access. */

const struct toml_table *
toml_root(const struct toml_doc *d)
{
	return (d != NULL ? d->root : NULL);
}

size_t
toml_table_len(const struct toml_table *t)
{
	return (t != NULL ? t->n : 0);
}

const struct toml_kv *
toml_table_at(const struct toml_table *t, size_t i)
{
	return (t != NULL && i < t->n ? &t->kv[i] : NULL);
}

const struct toml_value *
toml_table_getn(const struct toml_table *t, const char *k, size_t len)
{
	return (t != NULL && k != NULL ? lookup(t, k, len) : NULL);
}

const struct toml_value *
toml_table_get(const struct toml_table *t, const char *k)
{
	return (k != NULL ? toml_table_getn(t, k, strlen(k)) : NULL);
}

size_t
toml_array_len(const struct toml_array *a)
{
	return (a != NULL ? a->n : 0);
}

const struct toml_value *
toml_array_at(const struct toml_array *a, size_t i)
{
	return (a != NULL && i < a->n ? &a->v[i] : NULL);
}

const struct toml_table *
toml_as_table(const struct toml_value *v)
{
	return (v != NULL && v->type == TOML_TABLE ? v->u.t : NULL);
}

const struct toml_array *
toml_as_array(const struct toml_value *v)
{
	return (v != NULL && v->type == TOML_ARRAY ? v->u.a : NULL);
}

const struct toml_str *
toml_as_string(const struct toml_value *v)
{
	return (v != NULL && v->type == TOML_STRING ? &v->u.s : NULL);
}

const char *
toml_cstr(const struct toml_value *v)
{
	if (v == NULL || v->type != TOML_STRING ||
	    memchr(v->u.s.ptr, '\0', v->u.s.len) != NULL)
		return (NULL);
	return (v->u.s.ptr);
}

const char *
toml_type_name(enum toml_type t)
{
	switch (t) {
	case TOML_STRING:
		return ("string");
	case TOML_INTEGER:
		return ("integer");
	case TOML_FLOAT:
		return ("float");
	case TOML_BOOL:
		return ("boolean");
	case TOML_DATETIME:
		return ("datetime");
	case TOML_ARRAY:
		return ("array");
	case TOML_TABLE:
		return ("table");
	}
	return ("unknown");
}
