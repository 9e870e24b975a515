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

struct strset_ent {
	uint64_t	 hash;
	size_t		 off;
	size_t		 len;	/* SIZE_MAX: empty slot */
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
	sbuf_free(&ss->keys);
	memset(ss, 0, sizeof(*ss));
}

static int
strset_grow(struct strset *ss)
{
	struct strset_ent	*nt, *e;
	size_t			 nsize, i, j;

	nsize = ss->tab == NULL ? 64 : (ss->mask + 1) * 2;
	if ((nt = calloc(nsize, sizeof(*nt))) == NULL)
		return (-1);
	for (i = 0; i < nsize; i++)
		nt[i].len = SIZE_MAX;
	if (ss->tab != NULL) {
		for (i = 0; i <= ss->mask; i++) {
			e = &ss->tab[i];
			if (e->len == SIZE_MAX)
				continue;
			for (j = e->hash & (nsize - 1); nt[j].len != SIZE_MAX;
			    j = (j + 1) & (nsize - 1))
				;
			nt[j] = *e;
		}
		free(ss->tab);
	}
	ss->tab = nt;
	ss->mask = nsize - 1;
	return (0);
}

int
strset_add(struct strset *ss, const char *s, size_t len)
{
	struct strset_ent	*e;
	uint64_t		 h;
	size_t			 i, off;

	/* Keep the load at most one half. */
	if ((ss->tab == NULL || ss->n + 1 > (ss->mask + 1) / 2) &&
	    strset_grow(ss) == -1)
		return (-1);
	h = strset_hash((const unsigned char *)s, len);
	for (i = h & ss->mask;; i = (i + 1) & ss->mask) {
		e = &ss->tab[i];
		if (e->len == SIZE_MAX)
			break;
		if (e->hash == h && e->len == len &&
		    memcmp(ss->keys.p + e->off, s, len) == 0)
			return (0);
	}
	if ((off = sbuf_add(&ss->keys, s, len)) == SBUF_ERR)
		return (-1);
	e->hash = h;
	e->off = off;
	e->len = len;
	ss->n++;
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
