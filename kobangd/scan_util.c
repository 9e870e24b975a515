/*
 * Helpers the scan parsers share: a byte buffer, a seeded string set and
 * the wording of issues.
 */

#include <sys/types.h>
#include <sys/random.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

void
sbuf_init(struct sbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void
sbuf_free(struct sbuf *sb)
{
	free(sb->p);
	memset(sb, 0, sizeof(*sb));
}

void
sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
}

int
sbuf_reserve(struct sbuf *sb, size_t len)
{
	size_t	 ncap;
	char	*np;

	if (len > SIZE_MAX / 4 - sb->len) {
		errno = ENOMEM;
		return (-1);
	}
	/* Allocate even for nothing: offsets into p are always valid. */
	if (sb->len + len > sb->cap || sb->p == NULL) {
		ncap = sb->cap < 256 ? 256 : sb->cap;
		while (ncap < sb->len + len)
			ncap *= 2;
		if ((np = realloc(sb->p, ncap)) == NULL)
			return (-1);
		sb->p = np;
		sb->cap = ncap;
	}
	return (0);
}

size_t
sbuf_add(struct sbuf *sb, const void *p, size_t len)
{
	size_t	 off = sb->len;

	if (sbuf_reserve(sb, len) == -1)
		return (SBUF_ERR);
	if (len > 0)
		memcpy(sb->p + sb->len, p, len);
	sb->len += len;
	return (off);
}

/*
 * The table holds 8 bytes a slot, 32 bits of the hash as a tag and the
 * key's index, so a probe rarely leaves it; the keys (full hash, place
 * in the byte buffer) sit in insertion order, from which a larger table
 * is rebuilt without touching the old one.
 */
struct strset_key {
	uint64_t	hash;
	uint32_t	off;
	uint32_t	len;
};

static uint64_t	strset_seed;
static int	strset_seeded;

static inline uint64_t
rotl(uint64_t x, int r)
{
	return ((x << r) | (x >> (64 - r)));
}

/*
 * A multiply-rotate hash keyed with a random seed: not cryptographic,
 * but a file's author cannot aim collisions at a seed they never see.
 */
static uint64_t
strset_hash(const unsigned char *p, size_t len)
{
	uint64_t	h = strset_seed ^ (len * 0x9e3779b97f4a7c15ULL), w;

	while (len >= 8) {
		memcpy(&w, p, sizeof(w));
		h = rotl(h ^ (w * 0xbf58476d1ce4e5b9ULL), 27) *
		    0x94d049bb133111ebULL;
		p += 8;
		len -= 8;
	}
	w = 0;
	if (len > 0)
		memcpy(&w, p, len);
	h = rotl(h ^ (w * 0xbf58476d1ce4e5b9ULL), 27) * 0x94d049bb133111ebULL;
	h ^= h >> 31;
	h *= 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	return (h);
}

void
strset_init(struct strset *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (!strset_seeded) {
		if (getrandom(&strset_seed, sizeof(strset_seed), 0) !=
		    sizeof(strset_seed))
			strset_seed = (uint64_t)(uintptr_t)&strset_seed;
		strset_seeded = 1;
	}
}

void
strset_free(struct strset *ss)
{
	free(ss->tab);
	free(ss->kv);
	sbuf_free(&ss->keys);
	memset(ss, 0, sizeof(*ss));
}

static void
strset_place(uint64_t *tab, size_t mask, uint64_t h, size_t idx)
{
	size_t	i;

	for (i = h & mask; tab[i] != 0; i = (i + 1) & mask)
		;
	tab[i] = (h >> 32) << 32 | (uint64_t)(idx + 1);
}

static int
strset_grow(struct strset *ss)
{
	uint64_t	*nt;
	size_t		 nsize, i;

	/* At most half full with one more key. */
	nsize = ss->tab == NULL ? 64 : (ss->mask + 1) * 2;
	while (nsize / 2 < ss->n + 1)
		nsize *= 2;
	if ((nt = calloc(nsize, sizeof(*nt))) == NULL)
		return (-1);
	for (i = 0; i < ss->n; i++)
		strset_place(nt, nsize - 1, ss->kv[i].hash, i);
	free(ss->tab);
	ss->tab = nt;
	ss->mask = nsize - 1;
	return (0);
}

static int
keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int	r;

	if ((r = memcmp(a, b, alen < blen ? alen : blen)) != 0)
		return (r);
	return (alen < blen ? -1 : alen > blen);
}

/* Store a new key; 1, or -1 (ENOMEM). */
static int
strset_append(struct strset *ss, const char *s, size_t len, uint64_t h)
{
	struct strset_key	*k;
	size_t			 off, ncap;

	if (ss->n == ss->kvcap) {
		ncap = ss->kvcap == 0 ? 64 : ss->kvcap * 2;
		if ((k = reallocarray(ss->kv, ncap, sizeof(*k))) == NULL)
			return (-1);
		ss->kv = k;
		ss->kvcap = ncap;
	}
	if ((off = sbuf_add(&ss->keys, s, len)) == SBUF_ERR)
		return (-1);
	k = &ss->kv[ss->n++];
	k->hash = h;
	k->off = (uint32_t)off;
	k->len = (uint32_t)len;
	return (1);
}

int
strset_add(struct strset *ss, const char *s, size_t len)
{
	struct strset_key	*k;
	uint64_t		 h, slot;
	uint32_t		 tag;
	size_t			 i;

	/* Offsets and lengths are 32 bits: files are far smaller. */
	if (len > UINT32_MAX || ss->keys.len > UINT32_MAX - len ||
	    ss->n >= UINT32_MAX - 1) {
		errno = ENOMEM;
		return (-1);
	}
	if (!ss->hashed) {
		/* Greater than the last key: greater than all, so new. */
		if (ss->n == 0 || keycmp(s, len, ss->keys.p +
		    ss->kv[ss->n - 1].off, ss->kv[ss->n - 1].len) > 0)
			return (strset_append(ss, s, len, 0));
		/* Out of order: hash what is there, from now on a table. */
		for (i = 0; i < ss->n; i++)
			ss->kv[i].hash = strset_hash((const unsigned char *)
			    ss->keys.p + ss->kv[i].off, ss->kv[i].len);
		ss->hashed = 1;
	}
	/* Keep the load at most one half. */
	if ((ss->tab == NULL || ss->n + 1 > (ss->mask + 1) / 2) &&
	    strset_grow(ss) == -1)
		return (-1);
	h = strset_hash((const unsigned char *)s, len);
	tag = (uint32_t)(h >> 32);
	for (i = h & ss->mask; (slot = ss->tab[i]) != 0;
	    i = (i + 1) & ss->mask) {
		if ((uint32_t)(slot >> 32) != tag)
			continue;
		k = &ss->kv[(uint32_t)slot - 1];
		if (k->len == len &&
		    memcmp(ss->keys.p + k->off, s, len) == 0)
			return (0);
	}
	if (strset_append(ss, s, len, h) == -1)
		return (-1);
	ss->tab[i] = (uint64_t)tag << 32 | (uint64_t)ss->n;
	return (1);
}

void
scan_malformed(const struct scan_sink *sink, const struct json *js)
{
	char	buf[SCAN_REASON_MAX];

	snprintf(buf, sizeof(buf), "malformed JSON: %s at byte %" PRIu64,
	    json_errstr(js), json_erroff(js));
	sink->issue(sink->arg, SCAN_ISSUE_MALFORMED, buf);
}

void
scan_type_error(const struct scan_sink *sink, const char *what,
    const char *type)
{
	char	buf[SCAN_REASON_MAX];

	snprintf(buf, sizeof(buf), "type error: %s is not %s", what, type);
	sink->issue(sink->arg, SCAN_ISSUE_TYPE, buf);
}
