/*
 * The rule engine: field and flag derivation, the five match kinds,
 * change and present findings.  See rules.h for the shapes.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "rules.h"

/* A borrowed string slice; p NULL means nil. */
struct sv {
	const char	*p;
	size_t		 len;
};

/* A field value: a slice, sometimes of a buffer built for it. */
struct fval {
	struct sv	 v;
	char		*buf;
};

static const struct sv	 nil = { NULL, 0 };

static struct sv
sv_str(const char *s)
{
	struct sv	v = { s, s != NULL ? strlen(s) : 0 };

	return (v);
}

/*
 * Unicode default lowercase mappings, one code point to one: runs of
 * code points at a fixed stride that share one delta.  Generated from
 * Python 3.11's str.lower() per code point (Unicode 14.0).  The only
 * one-to-many mapping, U+0130, is handled in rules_lowercase().
 */
static const struct lcrun {
	uint32_t	start;
	uint16_t	count;
	uint8_t		stride;
	int32_t		delta;
} lcruns[] = {
	{ 0x00041, 26, 1, 32 }, { 0x000c0, 23, 1, 32 },
	{ 0x000d8, 7, 1, 32 }, { 0x00100, 24, 2, 1 },
	{ 0x00132, 3, 2, 1 }, { 0x00139, 8, 2, 1 },
	{ 0x0014a, 23, 2, 1 }, { 0x00178, 1, 1, -121 },
	{ 0x00179, 3, 2, 1 }, { 0x00181, 1, 1, 210 },
	{ 0x00182, 2, 2, 1 }, { 0x00186, 1, 1, 206 },
	{ 0x00187, 1, 1, 1 }, { 0x00189, 2, 1, 205 },
	{ 0x0018b, 1, 1, 1 }, { 0x0018e, 1, 1, 79 },
	{ 0x0018f, 1, 1, 202 }, { 0x00190, 1, 1, 203 },
	{ 0x00191, 1, 1, 1 }, { 0x00193, 1, 1, 205 },
	{ 0x00194, 1, 1, 207 }, { 0x00196, 1, 1, 211 },
	{ 0x00197, 1, 1, 209 }, { 0x00198, 1, 1, 1 },
	{ 0x0019c, 1, 1, 211 }, { 0x0019d, 1, 1, 213 },
	{ 0x0019f, 1, 1, 214 }, { 0x001a0, 3, 2, 1 },
	{ 0x001a6, 1, 1, 218 }, { 0x001a7, 1, 1, 1 },
	{ 0x001a9, 1, 1, 218 }, { 0x001ac, 1, 1, 1 },
	{ 0x001ae, 1, 1, 218 }, { 0x001af, 1, 1, 1 },
	{ 0x001b1, 2, 1, 217 }, { 0x001b3, 2, 2, 1 },
	{ 0x001b7, 1, 1, 219 }, { 0x001b8, 1, 1, 1 },
	{ 0x001bc, 1, 1, 1 }, { 0x001c4, 1, 1, 2 },
	{ 0x001c5, 1, 1, 1 }, { 0x001c7, 1, 1, 2 },
	{ 0x001c8, 1, 1, 1 }, { 0x001ca, 1, 1, 2 },
	{ 0x001cb, 9, 2, 1 }, { 0x001de, 9, 2, 1 },
	{ 0x001f1, 1, 1, 2 }, { 0x001f2, 2, 2, 1 },
	{ 0x001f6, 1, 1, -97 }, { 0x001f7, 1, 1, -56 },
	{ 0x001f8, 20, 2, 1 }, { 0x00220, 1, 1, -130 },
	{ 0x00222, 9, 2, 1 }, { 0x0023a, 1, 1, 10795 },
	{ 0x0023b, 1, 1, 1 }, { 0x0023d, 1, 1, -163 },
	{ 0x0023e, 1, 1, 10792 }, { 0x00241, 1, 1, 1 },
	{ 0x00243, 1, 1, -195 }, { 0x00244, 1, 1, 69 },
	{ 0x00245, 1, 1, 71 }, { 0x00246, 5, 2, 1 },
	{ 0x00370, 2, 2, 1 }, { 0x00376, 1, 1, 1 },
	{ 0x0037f, 1, 1, 116 }, { 0x00386, 1, 1, 38 },
	{ 0x00388, 3, 1, 37 }, { 0x0038c, 1, 1, 64 },
	{ 0x0038e, 2, 1, 63 }, { 0x00391, 17, 1, 32 },
	{ 0x003a3, 9, 1, 32 }, { 0x003cf, 1, 1, 8 },
	{ 0x003d8, 12, 2, 1 }, { 0x003f4, 1, 1, -60 },
	{ 0x003f7, 1, 1, 1 }, { 0x003f9, 1, 1, -7 },
	{ 0x003fa, 1, 1, 1 }, { 0x003fd, 3, 1, -130 },
	{ 0x00400, 16, 1, 80 }, { 0x00410, 32, 1, 32 },
	{ 0x00460, 17, 2, 1 }, { 0x0048a, 27, 2, 1 },
	{ 0x004c0, 1, 1, 15 }, { 0x004c1, 7, 2, 1 },
	{ 0x004d0, 48, 2, 1 }, { 0x00531, 38, 1, 48 },
	{ 0x010a0, 38, 1, 7264 }, { 0x010c7, 1, 1, 7264 },
	{ 0x010cd, 1, 1, 7264 }, { 0x013a0, 80, 1, 38864 },
	{ 0x013f0, 6, 1, 8 }, { 0x01c90, 43, 1, -3008 },
	{ 0x01cbd, 3, 1, -3008 }, { 0x01e00, 75, 2, 1 },
	{ 0x01e9e, 1, 1, -7615 }, { 0x01ea0, 48, 2, 1 },
	{ 0x01f08, 8, 1, -8 }, { 0x01f18, 6, 1, -8 },
	{ 0x01f28, 8, 1, -8 }, { 0x01f38, 8, 1, -8 },
	{ 0x01f48, 6, 1, -8 }, { 0x01f59, 4, 2, -8 },
	{ 0x01f68, 8, 1, -8 }, { 0x01f88, 8, 1, -8 },
	{ 0x01f98, 8, 1, -8 }, { 0x01fa8, 8, 1, -8 },
	{ 0x01fb8, 2, 1, -8 }, { 0x01fba, 2, 1, -74 },
	{ 0x01fbc, 1, 1, -9 }, { 0x01fc8, 4, 1, -86 },
	{ 0x01fcc, 1, 1, -9 }, { 0x01fd8, 2, 1, -8 },
	{ 0x01fda, 2, 1, -100 }, { 0x01fe8, 2, 1, -8 },
	{ 0x01fea, 2, 1, -112 }, { 0x01fec, 1, 1, -7 },
	{ 0x01ff8, 2, 1, -128 }, { 0x01ffa, 2, 1, -126 },
	{ 0x01ffc, 1, 1, -9 }, { 0x02126, 1, 1, -7517 },
	{ 0x0212a, 1, 1, -8383 }, { 0x0212b, 1, 1, -8262 },
	{ 0x02132, 1, 1, 28 }, { 0x02160, 16, 1, 16 },
	{ 0x02183, 1, 1, 1 }, { 0x024b6, 26, 1, 26 },
	{ 0x02c00, 48, 1, 48 }, { 0x02c60, 1, 1, 1 },
	{ 0x02c62, 1, 1, -10743 }, { 0x02c63, 1, 1, -3814 },
	{ 0x02c64, 1, 1, -10727 }, { 0x02c67, 3, 2, 1 },
	{ 0x02c6d, 1, 1, -10780 }, { 0x02c6e, 1, 1, -10749 },
	{ 0x02c6f, 1, 1, -10783 }, { 0x02c70, 1, 1, -10782 },
	{ 0x02c72, 1, 1, 1 }, { 0x02c75, 1, 1, 1 },
	{ 0x02c7e, 2, 1, -10815 }, { 0x02c80, 50, 2, 1 },
	{ 0x02ceb, 2, 2, 1 }, { 0x02cf2, 1, 1, 1 },
	{ 0x0a640, 23, 2, 1 }, { 0x0a680, 14, 2, 1 },
	{ 0x0a722, 7, 2, 1 }, { 0x0a732, 31, 2, 1 },
	{ 0x0a779, 2, 2, 1 }, { 0x0a77d, 1, 1, -35332 },
	{ 0x0a77e, 5, 2, 1 }, { 0x0a78b, 1, 1, 1 },
	{ 0x0a78d, 1, 1, -42280 }, { 0x0a790, 2, 2, 1 },
	{ 0x0a796, 10, 2, 1 }, { 0x0a7aa, 1, 1, -42308 },
	{ 0x0a7ab, 1, 1, -42319 }, { 0x0a7ac, 1, 1, -42315 },
	{ 0x0a7ad, 1, 1, -42305 }, { 0x0a7ae, 1, 1, -42308 },
	{ 0x0a7b0, 1, 1, -42258 }, { 0x0a7b1, 1, 1, -42282 },
	{ 0x0a7b2, 1, 1, -42261 }, { 0x0a7b3, 1, 1, 928 },
	{ 0x0a7b4, 8, 2, 1 }, { 0x0a7c4, 1, 1, -48 },
	{ 0x0a7c5, 1, 1, -42307 }, { 0x0a7c6, 1, 1, -35384 },
	{ 0x0a7c7, 2, 2, 1 }, { 0x0a7d0, 1, 1, 1 },
	{ 0x0a7d6, 2, 2, 1 }, { 0x0a7f5, 1, 1, 1 },
	{ 0x0ff21, 26, 1, 32 }, { 0x10400, 40, 1, 40 },
	{ 0x104b0, 36, 1, 40 }, { 0x10570, 11, 1, 39 },
	{ 0x1057c, 15, 1, 39 }, { 0x1058c, 7, 1, 39 },
	{ 0x10594, 2, 1, 39 }, { 0x10c80, 51, 1, 64 },
	{ 0x118a0, 32, 1, 32 }, { 0x16e40, 32, 1, 32 },
	{ 0x1e900, 34, 1, 34 },
};

static uint32_t
lower_cp(uint32_t cp)
{
	size_t			 lo = 0, hi = nitems(lcruns), mid;
	const struct lcrun	*r;
	uint32_t		 off;

	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
	/* Last run starting at or before cp. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (lcruns[mid].start <= cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return (cp);
	r = &lcruns[lo - 1];
	off = cp - r->start;
	if (off % r->stride != 0 || off / r->stride >= r->count)
		return (cp);
	return ((uint32_t)((int64_t)cp + r->delta));
}

/* Length of one well-formed UTF-8 sequence at s, 0 if there is none. */
static size_t
utf8_dec(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char	c = s[0], lo = 0x80, hi = 0xbf;
	size_t		len, i;

	if (c < 0x80) {
		*cp = c;
		return (1);
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		*cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)	/* no surrogates */
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		*cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (n < len || s[1] < lo || s[1] > hi)
		return (0);
	for (i = 1; i < len; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xbf))
			return (0);
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return (len);
}

static size_t
utf8_enc(uint32_t cp, char *o)
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

/*
 * Lowercase s into o, which has room for 2n + 1 bytes (no mapping grows
 * a sequence by more than half its length); the new length.
 */
static size_t
lower_into(const char *s, size_t n, char *o)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, k = 0, l;
	uint32_t		 cp;

	while (i < n) {
		if (u[i] < 0x80) {
			o[k++] = (char)(u[i] >= 'A' && u[i] <= 'Z' ?
			    u[i] + 32 : u[i]);
			i++;
			continue;
		}
		if ((l = utf8_dec(u + i, n - i, &cp)) == 0) {
			o[k++] = s[i++];	/* not UTF-8: keep the byte */
			continue;
		}
		i += l;
		if (cp == 0x130) {
			/* LATIN CAPITAL LETTER I WITH DOT ABOVE: i + U+0307 */
			k += utf8_enc('i', o + k);
			k += utf8_enc(0x307, o + k);
		} else
			k += utf8_enc(lower_cp(cp), o + k);
	}
	o[k] = '\0';
	return (k);
}

char *
rules_lowercase(const char *s, size_t n, size_t *outlen)
{
	char	*o;
	size_t	 k;

	if (n > (SIZE_MAX - 1) / 2) {
		errno = ENOMEM;
		return (NULL);
	}
	if ((o = malloc(2 * n + 1)) == NULL)
		return (NULL);
	k = lower_into(s, n, o);
	if (outlen != NULL)
		*outlen = k;
	return (o);
}

static int
is_ascii(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return (0);
	return (1);
}

static unsigned char
alower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* ASCII case-insensitive substring search; nn > 0. */
static int
ascii_casemem(const char *h, size_t hn, const char *nd, size_t nn)
{
	size_t		i, j;
	unsigned char	f;

	if (nn > hn)
		return (0);
	f = alower((unsigned char)nd[0]);
	for (i = 0; i + nn <= hn; i++) {
		if (alower((unsigned char)h[i]) != f)
			continue;
		for (j = 1; j < nn; j++)
			if (alower((unsigned char)h[i + j]) !=
			    alower((unsigned char)nd[j]))
				break;
		if (j == nn)
			return (1);
	}
	return (0);
}

/*
 * RFC 3986 character classes as Foundation's parser uses them
 * (URLParser.swift): scheme, reg-name host, IP literal, zone id.
 */
#define CL_SCHEME	0x01
#define CL_HOST		0x02
#define CL_IPLIT	0x04
#define CL_ZONE		0x08

static int
uclass(unsigned char c, int cl)
{
	int	m = 0;

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (1);
	switch (c) {
	case '+':
		m = CL_SCHEME | CL_HOST | CL_IPLIT;
		break;
	case '-':
	case '.':
		m = CL_SCHEME | CL_HOST | CL_IPLIT | CL_ZONE;
		break;
	case '_':
	case '~':
		m = CL_HOST | CL_IPLIT | CL_ZONE;
		break;
	case '!': case '$': case '&': case '\'': case '(': case ')':
	case '*': case ',': case ';': case '=':
		m = CL_HOST | CL_IPLIT;
		break;
	case ':':
		m = CL_IPLIT;
		break;
	}
	return ((m & cl) != 0);
}

static int
ishex(unsigned char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F'));
}

/* All bytes in class cl, '%' only as a complete escape if pct is set. */
static int
valid_chars(const char *p, size_t n, int cl, int pct)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '%' && pct) {
			if (n - i < 3 || !ishex((unsigned char)p[i + 1]) ||
			    !ishex((unsigned char)p[i + 2]))
				return (0);
			i += 2;
		} else if (c >= 0x80 || !uclass(c, cl))
			return (0);
	}
	return (1);
}

/* "[...]" with an optional "%25" zone id. */
static int
valid_iplit(const char *h, size_t n)
{
	const char	*in = h + 1, *pc;
	size_t		 inlen = n - 2, pre;

	if ((pc = memchr(h, '%', n)) == NULL)
		return (valid_chars(in, inlen, CL_IPLIT, 0));
	pre = (size_t)(pc - in);
	if (pre + 3 > inlen || pc[1] != '2' || pc[2] != '5')
		return (0);
	return (valid_chars(in, pre, CL_IPLIT, 0) &&
	    valid_chars(pc + 3, inlen - pre - 3, CL_ZONE, 1));
}

/*
 * Whether IDNA conversion would rescue a host that is not a valid
 * reg-name.  Only non-ASCII text can be converted; the ASCII around it
 * must already be valid.  ICU's finer refusals (disallowed code points,
 * label lengths) are not reproduced.
 */
static int
idna_ok(const char *h, size_t n)
{
	const unsigned char	*u = (const unsigned char *)h;
	size_t			 i = 0, l;
	uint32_t		 cp;
	int			 wide = 0;

	while (i < n) {
		if (u[i] < 0x80) {
			if (u[i] == '%') {
				if (n - i < 3 || !ishex(u[i + 1]) ||
				    !ishex(u[i + 2]))
					return (0);
				i += 3;
				continue;
			}
			if (!uclass(u[i], CL_HOST))
				return (0);
			i++;
			continue;
		}
		if ((l = utf8_dec(u + i, n - i, &cp)) == 0 || cp == 0xfffd)
			return (0);
		wide = 1;
		i += l;
	}
	return (wide);
}

/* Schemes whose hosts Foundation percent-encodes instead of IDNA. */
static const char *const pct_host_schemes[] = {
	"tel", "telemergencycall", "telprompt", "callto", "facetime",
	"facetime-prompt", "facetime-audio", "facetime-audio-prompt", "imap",
	"pop", "addressbook", "contact", "phasset"
};

static int
scheme_is(const struct rules_url *u, const char *name)
{
	size_t	i, n = strlen(name);

	if (u->scheme == NULL || u->schemelen != n)
		return (0);
	for (i = 0; i < n; i++)
		if (alower((unsigned char)u->scheme[i]) != (unsigned char)name[i])
			return (0);
	return (1);
}

#define HOSTENC_PCT	1	/* percent-encoded as written */
#define HOSTENC_IDNA	2	/* through IDNA: ASCII lowercased too */

int
rules_url_parse(const char *s, size_t n, struct rules_url *u)
{
	const char	*rb, *colon;
	size_t		 i, pos = 0, hs, he, aend, ps = 0, pe = 0, k;

	memset(u, 0, sizeof(*u));

	/* Scheme: a ':' past index 0 before any of / ? # [ ] @. */
	for (i = 0; i < n; i++) {
		if (s[i] == ':' || s[i] == '/' || s[i] == '?' ||
		    s[i] == '#' || s[i] == '[' || s[i] == ']' || s[i] == '@')
			break;
	}
	if (i < n && s[i] != ':')
		i = n;
	if (i < n && i > 0) {
		if (!((s[0] >= 'a' && s[0] <= 'z') ||
		    (s[0] >= 'A' && s[0] <= 'Z')) ||
		    !valid_chars(s, i, CL_SCHEME, 0))
			return (-1);
		u->scheme = s;
		u->schemelen = i;
		pos = i + 1;
	}

	/* Authority: after "//", up to the first / ? #. */
	if (n - pos >= 2 && s[pos] == '/' && s[pos + 1] == '/') {
		u->authority = 1;
		hs = pos + 2;
		for (aend = hs; aend < n; aend++)
			if (s[aend] == '/' || s[aend] == '?' || s[aend] == '#')
				break;
		he = aend;
		if (aend > hs) {
			/* userinfo ends at the last '@' */
			for (k = aend; k > hs; k--)
				if (s[k - 1] == '@')
					break;
			if (k > hs) {
				u->user = 1;
				hs = k;
			}
			if (hs < aend && s[hs] == '[' &&
			    (rb = memchr(s + hs, ']', aend - hs)) != NULL) {
				u->iplit = 1;
				he = (size_t)(rb - s) + 1;
				if (he != aend) {
					if (s[he] != ':')
						return (-1);
					u->port = 1;
					ps = he + 1;
					pe = aend;
				}
			} else if ((colon = memchr(s + hs, ':', aend - hs)) !=
			    NULL) {
				he = (size_t)(colon - s);
				/* An empty port is no port. */
				if (he + 1 != aend) {
					u->port = 1;
					ps = he + 1;
					pe = aend;
				}
			}
			for (k = ps; u->port && k < pe; k++)
				if (s[k] < '0' || s[k] > '9')
					break;
			if (u->port && k < pe && !scheme_is(u, "addressbook"))
				return (-1);
		}
		u->host = s + hs;
		u->hostlen = he - hs;
	}

	/*
	 * Invalid characters elsewhere are percent-encoded and parse; a
	 * host has to be valid, or be rescued by IDNA or by a scheme whose
	 * hosts are percent-encoded.
	 */
	if (u->authority && u->hostlen > 0) {
		if (u->iplit) {
			if (!valid_iplit(u->host, u->hostlen) &&
			    memchr(u->host, '%', u->hostlen) == NULL)
				return (-1);
		} else if (!valid_chars(u->host, u->hostlen, CL_HOST, 1)) {
			for (i = 0; i < nitems(pct_host_schemes); i++)
				if (scheme_is(u, pct_host_schemes[i]))
					break;
			if (i < nitems(pct_host_schemes))
				u->hostenc = HOSTENC_PCT;
			else if (idna_ok(u->host, u->hostlen))
				u->hostenc = HOSTENC_IDNA;
			else
				return (-1);
		}
	}
	return (0);
}

/* Foundation's URL.host(): percent-encoded, IP literal without []. */
static int
url_host(const struct rules_url *u, struct fval *fv)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i, k = 0;
	unsigned char		 c;

	fv->v = nil;
	if (!u->authority)
		return (0);
	/* "https:///" has no host (Foundation keeps this for compatibility) */
	if (u->hostlen == 0 && !u->user && !u->port)
		return (0);
	if (u->iplit) {
		fv->v.p = u->host + 1;
		fv->v.len = u->hostlen - 2;
		return (0);
	}
	if (!u->hostenc) {
		fv->v.p = u->host;
		fv->v.len = u->hostlen;
		return (0);
	}
	if (u->hostlen > (SIZE_MAX - 1) / 3) {
		errno = ENOMEM;
		return (-1);
	}
	if ((fv->buf = malloc(3 * u->hostlen + 1)) == NULL)
		return (-1);
	for (i = 0; i < u->hostlen; i++) {
		c = (unsigned char)u->host[i];
		if (u->hostenc == HOSTENC_IDNA)
			c = alower(c);
		if (c < 0x80 && uclass(c, CL_HOST))
			fv->buf[k++] = (char)c;
		else {
			fv->buf[k++] = '%';
			fv->buf[k++] = hex[c >> 4];
			fv->buf[k++] = hex[c & 0x0f];
		}
	}
	fv->buf[k] = '\0';
	fv->v.p = fv->buf;
	fv->v.len = k;
	return (0);
}

/*
 * detailValue(key): the rest of the first space-separated piece of the
 * detail that starts with "key=" (RULES.md 3).
 */
static struct sv
detail_value(const struct item *it, const char *key)
{
	const char	*p = it->detail, *e;
	size_t		 kl = strlen(key), pl;
	struct sv	 v;

	if (p == NULL)
		return (nil);
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return (nil);
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		pl = (size_t)(e - p);
		if (pl > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
			v.p = p + kl + 1;
			v.len = pl - kl - 1;
			return (v);
		}
		p = e;
	}
}

static int
is_file_hash(const char *d)
{
	size_t	i;

	for (i = 0; i < 64; i++)
		if (!ishex((unsigned char)d[i]))
			return (0);	/* also stops at a short string's NUL */
	return (d[64] == '\0');
}

static void
fval_free(struct fval *fv)
{
	free(fv->buf);
	fv->buf = NULL;
}

/* A field's value (RULES.md 3).  -1 only when memory runs out. */
static int
field_get(const struct item *it, enum rule_field f, struct fval *fv)
{
	struct rules_url	u;
	struct sv		src;

	fv->v = nil;
	fv->buf = NULL;
	switch (f) {
	case FIELD_KIND:
		fv->v = sv_str(item_kind_name(it->kind));
		break;
	case FIELD_NAME:
		fv->v = sv_str(it->name);
		break;
	case FIELD_VERSION:
		fv->v = sv_str(it->version);
		break;
	case FIELD_ORIGIN:
		fv->v = sv_str(it->origin);
		break;
	case FIELD_DETAIL:
		fv->v = sv_str(it->detail);
		break;
	case FIELD_PATH:
		fv->v = sv_str(it->path);
		break;
	case FIELD_PACKAGE_MANAGER:
		if (it->surface == SURFACE_JAVASCRIPT ||
		    it->surface == SURFACE_PYTHON)
			fv->v = sv_str(it->origin);
		break;
	case FIELD_SOURCE_URL:
		fv->v = detail_value(it, "resolved");
		break;
	case FIELD_REGISTRY:
		src = detail_value(it, "resolved");
		/* URL(string: "") is nil */
		if (src.p == NULL || src.len == 0 ||
		    rules_url_parse(src.p, src.len, &u) == -1)
			break;
		return (url_host(&u, fv));
	case FIELD_COMMAND:
		if (it->kind != KIND_MCP_SERVER || it->origin == NULL)
			break;
		/* An origin that fails to parse counts as having no scheme. */
		if (rules_url_parse(it->origin, strlen(it->origin), &u) == 0 &&
		    u.scheme != NULL)
			break;
		fv->v = sv_str(it->origin);
		break;
	case FIELD_DEPENDENCY_SCOPE:
		fv->v = detail_value(it, "scope");
		break;
	case FIELD_FILE_HASH:
		if (it->detail == NULL)
			break;
		if (is_file_hash(it->detail))
			fv->v = sv_str(it->detail);
		else
			fv->v = detail_value(it, "fileHash");
		break;
	default:
		break;
	}
	return (0);
}

int
rules_field_value(const struct item *it, enum rule_field f, char **out)
{
	struct fval	fv;

	*out = NULL;
	if (field_get(it, f, &fv) == -1)
		return (-1);
	if (fv.v.p != NULL && (*out = strndup(fv.v.p, fv.v.len)) == NULL) {
		fval_free(&fv);
		return (-1);
	}
	fval_free(&fv);
	return (0);
}

static int
detail_has_any(const char *d, const char *const *tok, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strstr(d, tok[i]) != NULL)
			return (1);
	return (0);
}

int
rules_flag_value(const struct item *it, enum rule_flag f)
{
	static const char *const runners[] = { "npx", "uvx", "bunx",
	    "pnpm dlx" };
	static const char *const remote[] = { "http://", "https://", "ws://",
	    "wss://" };
	size_t	i;

	switch (f) {
	case FLAG_INSTALLED_ON_REQUEST:
		if (it->installed_on_request == ITEM_BOOL_NIL)
			return (RULES_NIL);
		return (it->installed_on_request != 0);
	case FLAG_IS_DIRECT_DEPENDENCY:
		return (detail_value(it, "scope").p == NULL);
	case FLAG_IS_EXECUTABLE_CONFIG:
		return (it->kind == KIND_HOOK || it->kind == KIND_COMMAND ||
		    it->kind == KIND_PLUGIN || it->kind == KIND_MCP_SERVER);
	case FLAG_IS_PROMPT_SHAPING_CONFIG:
		return (it->kind == KIND_AGENT || it->kind == KIND_INSTRUCTION ||
		    it->kind == KIND_RULE || it->kind == KIND_SETTINGS ||
		    it->kind == KIND_SKILL);
	case FLAG_USES_DYNAMIC_AUTH_HELPER:
		if (it->detail == NULL)
			return (RULES_NIL);
		return (strstr(it->detail, "headersHelper") != NULL);
	case FLAG_USES_EPHEMERAL_RUNNER:
		if (it->detail == NULL)
			return (RULES_NIL);
		return (detail_has_any(it->detail, runners, nitems(runners)));
	case FLAG_USES_REMOTE:
		if (it->detail == NULL)
			return (RULES_NIL);
		for (i = 0; i < nitems(remote); i++)
			if (strncmp(it->detail, remote[i],
			    strlen(remote[i])) == 0)
				return (1);
		return (0);
	case FLAG_HAS_INSTALL_SCRIPT:
	case FLAG_IS_EDITABLE:
	default:
		/* Reserved in the vocabulary, never derived. */
		return (RULES_NIL);
	}
}

/*
 * fieldContainsAny: lowercase(value) contains lowercase(v) for some v.
 * ASCII on both sides is compared in place; anything else goes through
 * the Unicode lowercasing.
 */
static int
contains_any(struct sv val, const struct strlist *values)
{
	char	 hbuf[256], nbuf[64];
	char	*lv = NULL, *lt;
	size_t	 i, j, tn, lvn = 0, ltn;
	int	 vascii, hlow = 0, found = 0;

	/* Lowercase a short ASCII value once, then search with memmem. */
	if ((vascii = is_ascii(val.p, val.len)) && val.len < sizeof(hbuf)) {
		for (j = 0; j < val.len; j++)
			hbuf[j] = (char)alower((unsigned char)val.p[j]);
		hlow = 1;
	}
	for (i = 0; i < values->n && !found; i++) {
		if (values->v[i] == NULL || (tn = strlen(values->v[i])) == 0)
			continue;	/* RULES.md 10.2: never matches */
		if (vascii && is_ascii(values->v[i], tn)) {
			if (hlow && tn <= sizeof(nbuf)) {
				for (j = 0; j < tn; j++)
					nbuf[j] = (char)alower(
					    (unsigned char)values->v[i][j]);
				found = memmem(hbuf, val.len, nbuf, tn) != NULL;
			} else
				found = ascii_casemem(val.p, val.len,
				    values->v[i], tn);
			continue;
		}
		if (lv == NULL &&
		    (lv = rules_lowercase(val.p, val.len, &lvn)) == NULL)
			return (-1);
		if ((lt = rules_lowercase(values->v[i], tn, &ltn)) == NULL) {
			free(lv);
			return (-1);
		}
		found = memmem(lv, lvn, lt, ltn) != NULL;
		free(lt);
	}
	free(lv);
	return (found);
}

/* fieldNotInList: non-empty and not exactly equal to any entry. */
static int
not_in_list(struct sv val, const struct strlist *allowed)
{
	size_t	i;

	if (val.len == 0)
		return (0);
	for (i = 0; i < allowed->n; i++)
		if (allowed->v[i] != NULL && strlen(allowed->v[i]) == val.len &&
		    memcmp(allowed->v[i], val.p, val.len) == 0)
			return (0);
	return (1);
}

/* fieldHasURLScheme: parses, has a scheme, equal to one ignoring case. */
static int
has_url_scheme(struct sv val, const struct strlist *schemes)
{
	struct rules_url	 u;
	char			*ls;
	size_t			 i, j, n, ln;
	int			 eq;

	if (rules_url_parse(val.p, val.len, &u) == -1 || u.scheme == NULL)
		return (0);
	for (i = 0; i < schemes->n; i++) {
		if (schemes->v[i] == NULL)
			continue;
		n = strlen(schemes->v[i]);
		if (is_ascii(schemes->v[i], n)) {
			if (n != u.schemelen)
				continue;
			for (j = 0; j < n; j++)
				if (alower((unsigned char)schemes->v[i][j]) !=
				    alower((unsigned char)u.scheme[j]))
					break;
			if (j == n)
				return (1);
			continue;
		}
		/* e.g. KELVIN SIGN lowercases to ASCII 'k' */
		if ((ls = rules_lowercase(schemes->v[i], n, &ln)) == NULL)
			return (-1);
		eq = ln == u.schemelen;
		for (j = 0; eq && j < ln; j++)
			eq = (unsigned char)ls[j] ==
			    alower((unsigned char)u.scheme[j]);
		free(ls);
		if (eq)
			return (1);
	}
	return (0);
}

int
rules_match(const struct rule *r, const struct item *it)
{
	struct fval	fv;
	int		m, v;

	switch (r->match) {
	case MATCH_ALWAYS:
		return (1);
	case MATCH_FIELD_CONTAINS_ANY:
	case MATCH_FIELD_NOT_IN_LIST:
	case MATCH_FIELD_HAS_URL_SCHEME:
		if (field_get(it, r->field, &fv) == -1)
			return (-1);
		if (fv.v.p == NULL)
			m = 0;
		else if (r->match == MATCH_FIELD_CONTAINS_ANY)
			m = contains_any(fv.v, &r->values);
		else if (r->match == MATCH_FIELD_NOT_IN_LIST)
			m = not_in_list(fv.v, &r->allowed);
		else
			m = has_url_scheme(fv.v, &r->schemes);
		fval_free(&fv);
		return (m);
	case MATCH_FLAG_EQUALS:
		/* Tri-state: nil never matches, whatever is expected. */
		if ((v = rules_flag_value(it, r->flag)) == RULES_NIL)
			return (0);
		return (v == (r->expected != 0));
	default:
		return (0);
	}
}

int
rules_severity_cmp(enum severity a, enum severity b)
{
	return ((int)a < (int)b ? -1 : (int)a > (int)b);
}

int
rules_severity_max(const enum severity *v, size_t n)
{
	size_t	i;
	int	m = -1;

	for (i = 0; i < n; i++)
		if ((int)v[i] > m)
			m = (int)v[i];
	return (m);
}

/*
 * The compiled ruleset (rules.h).  Per surface and trigger, the rules
 * that can fire there, in configured order, so an item meets only its
 * own; per rule, its non-empty values lowercased once, the lengths of
 * what goes into its findings, and, when its predicate reads nothing
 * but the item's kind, a memo of the answer per kind.  All of it is
 * worked out when first needed: rules_eval_*() compile per call, and a
 * call for one item should not pay for the whole ruleset.
 */
#define CR_NEVER	0
#define CR_ALWAYS	1
#define CR_KIND		2	/* depends on the kind only: memoised */
#define CR_ITEM		3

struct crule {
	const struct rule	*r;
	int			 prepared;	/* what follows is set */
	int			 how;
	uint32_t		 kknown;	/* CR_KIND: kinds answered */
	uint32_t		 kmatch;	/* CR_KIND: kinds that match */
	struct sv		*vals;	/* values, lowercased */
	size_t			 nvals;
	char			*mem;	/* vals and their strings */
	const char		*fname;	/* evidence matchedField */
	size_t			 fnamelen;
	size_t			 idlen;
	size_t			 titlelen;
	size_t			 ratlen;
};

/* One item under evaluation: what has been derived from it so far. */
struct ictx {
	const struct item	*it;
	uint32_t		 hfield;	/* bit per field: fv[] set */
	uint32_t		 hlower;	/* bit per field: lc[] set */
	uint32_t		 hflag;	/* per flag: flag[] set */
	struct fval		 fv[FIELD_COUNT];
	struct sv		 lc[FIELD_COUNT];
	int			 flag[FLAG_COUNT];
	int			 lens;	/* the lengths below are set */
	size_t			 namelen;
	size_t			 pathlen;
	size_t			 detaillen;
	size_t			 idlen;	/* 0: id not built yet */
};

struct sbuf {
	char	*p;
	size_t	 cap;
};

#define NLISTS	(SURFACE_COUNT * TRIGGER_COUNT)

struct rules_prog {
	const struct ruleset	*rs;
	/* Rules of surface s and trigger t: list[s * TRIGGER_COUNT + t]. */
	uint32_t		 built;		/* bit per list */
	struct crule		**list[NLISTS];
	size_t			 nlist[NLISTS];
	/* Scratch, kept across items and calls: no allocation per item. */
	struct ictx		 x;
	struct sbuf		 lcbuf[FIELD_COUNT];
	struct sbuf		 idbuf;
	struct crule		 cr[];	/* one per rule of rs */
};

/* Memo bits: one per kind, one per field, one per flag. */
_Static_assert(KIND_COUNT <= 32, "kind memo is a uint32_t");
_Static_assert(FIELD_COUNT <= 32, "field memo is a uint32_t");
_Static_assert(FLAG_COUNT <= 32, "flag memo is a uint32_t");
_Static_assert(NLISTS <= 32, "built lists are a uint32_t");

static int
sbuf_reserve(struct sbuf *b, size_t n)
{
	char	*p;
	size_t	 cap;

	if (n <= b->cap)
		return (0);
	cap = b->cap == 0 ? 128 : b->cap;
	while (cap < n) {
		if (cap > SIZE_MAX / 2) {
			errno = ENOMEM;
			return (-1);
		}
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL)
		return (-1);
	b->p = p;
	b->cap = cap;
	return (0);
}

/* Kind-only flags: their value is a function of the item's kind. */
static int
flag_kind_only(enum rule_flag f)
{
	switch (f) {
	case FLAG_INSTALLED_ON_REQUEST:
	case FLAG_IS_DIRECT_DEPENDENCY:
	case FLAG_USES_DYNAMIC_AUTH_HELPER:
	case FLAG_USES_EPHEMERAL_RUNNER:
	case FLAG_USES_REMOTE:
		return (0);
	default:
		return (1);
	}
}

struct rules_prog *
rules_compile(const struct ruleset *rs)
{
	struct rules_prog	*p;
	size_t			 i;

	if (rs == NULL || rs->n > (SIZE_MAX - sizeof(*p)) / sizeof(p->cr[0])) {
		errno = rs == NULL ? EINVAL : ENOMEM;
		return (NULL);
	}
	if ((p = calloc(1, sizeof(*p) + rs->n * sizeof(p->cr[0]))) == NULL)
		return (NULL);
	p->rs = rs;
	for (i = 0; i < rs->n; i++)
		p->cr[i].r = &rs->v[i];
	return (p);
}

void
rules_prog_free(struct rules_prog *p)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->rs->n; i++)
		free(p->cr[i].mem);
	for (i = 0; i < NLISTS; i++)
		free(p->list[i]);
	for (i = 0; i < FIELD_COUNT; i++)
		free(p->lcbuf[i].p);
	free(p->idbuf.p);
	free(p);
}

/* What a rule needs before its first evaluation.  -1: out of memory. */
static int
crule_prepare(struct crule *cr)
{
	const struct rule	*r = cr->r;
	size_t			 j, len, sz = 0, nval = 0, off;
	char			*o;

	cr->idlen = r->id != NULL ? strlen(r->id) : 0;
	cr->titlelen = r->title != NULL ? strlen(r->title) : 0;
	cr->ratlen = r->rationale != NULL ? strlen(r->rationale) : 0;
	switch (r->match) {
	case MATCH_ALWAYS:
		cr->how = CR_ALWAYS;
		break;
	case MATCH_FIELD_CONTAINS_ANY:
	case MATCH_FIELD_NOT_IN_LIST:
	case MATCH_FIELD_HAS_URL_SCHEME:
		cr->how = r->field == FIELD_KIND ? CR_KIND : CR_ITEM;
		if ((cr->fname = rule_field_name(r->field)) == NULL)
			cr->fname = "";
		break;
	case MATCH_FLAG_EQUALS:
		cr->how = flag_kind_only(r->flag) ? CR_KIND : CR_ITEM;
		if ((cr->fname = rule_flag_name(r->flag)) == NULL)
			cr->fname = "";
		break;
	default:
		cr->how = CR_NEVER;
		break;
	}
	cr->fnamelen = cr->fname != NULL ? strlen(cr->fname) : 0;

	/* RULES.md 10.2: an empty value never matches; leave it out. */
	if (r->match == MATCH_FIELD_CONTAINS_ANY) {
		for (j = 0; j < r->values.n; j++) {
			if (r->values.v[j] == NULL ||
			    (len = strlen(r->values.v[j])) == 0)
				continue;
			if (len > (SIZE_MAX - 1) / 2 - 1 ||
			    sz > SIZE_MAX / 2 - (2 * len + 1)) {
				errno = ENOMEM;
				return (-1);
			}
			sz += 2 * len + 1;
			nval++;
		}
	}
	if (nval > 0) {
		off = nval * sizeof(*cr->vals);
		if ((cr->mem = malloc(off + sz)) == NULL)
			return (-1);
		cr->vals = (struct sv *)(void *)cr->mem;
		o = cr->mem + off;
		for (j = 0; j < r->values.n; j++) {
			if (r->values.v[j] == NULL ||
			    (len = strlen(r->values.v[j])) == 0)
				continue;
			cr->vals[cr->nvals].p = o;
			cr->vals[cr->nvals].len = lower_into(r->values.v[j],
			    len, o);
			o += 2 * len + 1;
			cr->nvals++;
		}
	}
	cr->prepared = 1;
	return (0);
}

/*
 * The rules of surface s with trigger t, in configured order; built on
 * first use.  -1: out of memory.
 */
static int
rules_list(struct rules_prog *p, enum surface s, enum trigger t,
    struct crule *const **v, size_t *n)
{
	const struct rule	*r;
	size_t			 k, i, c = 0;

	*v = NULL;
	*n = 0;
	if ((size_t)s >= SURFACE_COUNT || (size_t)t >= TRIGGER_COUNT)
		return (0);
	k = (size_t)s * TRIGGER_COUNT + (size_t)t;
	if ((p->built & (1U << k)) == 0) {
		for (i = 0; i < p->rs->n; i++) {
			r = &p->rs->v[i];
			if (r->enabled && r->surface == s &&
			    (r->triggers & RULE_TRIGGER(t)) != 0)
				c++;
		}
		if (c > 0 &&
		    (p->list[k] = reallocarray(NULL, c, sizeof(*p->list[k]))) ==
		    NULL)
			return (-1);
		p->nlist[k] = c;
		for (i = c = 0; c < p->nlist[k]; i++) {
			r = &p->rs->v[i];
			if (r->enabled && r->surface == s &&
			    (r->triggers & RULE_TRIGGER(t)) != 0)
				p->list[k][c++] = &p->cr[i];
		}
		p->built |= 1U << k;
	}
	*v = p->list[k];
	*n = p->nlist[k];
	return (0);
}

/* Forget the previous item (and free what its fields allocated). */
static void
ictx_reset(struct ictx *x, const struct item *it)
{
	uint32_t	m = x->hfield;
	int		f;

	while (m != 0) {
		f = __builtin_ctz(m);
		m &= m - 1;
		fval_free(&x->fv[f]);
	}
	x->it = it;
	x->hfield = x->hlower = x->hflag = 0;
	x->lens = 0;
	x->idlen = 0;
}

static int
ictx_field(struct ictx *x, enum rule_field f, struct sv *out)
{
	if ((size_t)f >= FIELD_COUNT) {
		*out = nil;
		return (0);
	}
	if ((x->hfield & (1U << f)) == 0) {
		if (field_get(x->it, f, &x->fv[f]) == -1)
			return (-1);
		x->hfield |= 1U << f;
	}
	*out = x->fv[f].v;
	return (0);
}

/* The field's value lowercased, once per item; field known non-nil. */
static int
ictx_lower(struct rules_prog *p, enum rule_field f, struct sv v,
    struct sv *out)
{
	struct ictx	*x = &p->x;

	if ((x->hlower & (1U << f)) == 0) {
		if (v.len > (SIZE_MAX - 1) / 2) {
			errno = ENOMEM;
			return (-1);
		}
		if (sbuf_reserve(&p->lcbuf[f], 2 * v.len + 1) == -1)
			return (-1);
		x->lc[f].p = p->lcbuf[f].p;
		x->lc[f].len = lower_into(v.p, v.len, p->lcbuf[f].p);
		x->hlower |= 1U << f;
	}
	*out = x->lc[f];
	return (0);
}

static int
ictx_flag(struct ictx *x, enum rule_flag f)
{
	if ((size_t)f >= FLAG_COUNT)
		return (rules_flag_value(x->it, f));
	if ((x->hflag & (1U << f)) == 0) {
		x->flag[f] = rules_flag_value(x->it, f);
		x->hflag |= 1U << f;
	}
	return (x->flag[f]);
}

/*
 * Substring search for the short needles and haystacks rules meet:
 * memchr for the first byte, then memcmp.  glibc's memmem sets up a
 * table per call, which cost more than the search here.  nn > 0.
 */
static int
has_sub(const char *h, size_t hn, const char *nd, size_t nn)
{
	const char	*p = h, *end;

	if (nn > hn)
		return (0);
	end = h + (hn - nn) + 1;	/* last start, plus one */
	while (p < end) {
		if ((p = memchr(p, nd[0], (size_t)(end - p))) == NULL)
			return (0);
		if (nn == 1 || (p[1] == nd[1] &&
		    memcmp(p + 2, nd + 2, nn - 2) == 0))
			return (1);
		p++;
	}
	return (0);
}

/*
 * Whether v can have a URL scheme at all: its first byte among
 * ": / ? # [ ] @" must be a ':' past index 0 (rules_url_parse()).  Most
 * details (commands, hashes) have none, and need no parse.
 */
static int
scheme_possible(struct sv v)
{
	static const unsigned char	 stop[256] = {
		[':'] = 1, ['/'] = 2, ['?'] = 2, ['#'] = 2, ['['] = 2,
		[']'] = 2, ['@'] = 2
	};
	size_t				 i;

	for (i = 0; i < v.len; i++)
		if (stop[(unsigned char)v.p[i]] != 0)
			return (stop[(unsigned char)v.p[i]] == 1 && i > 0);
	return (0);
}

/* The rule's predicate on the current item, from what is derived. */
static int
crule_eval(struct rules_prog *p, const struct crule *cr)
{
	const struct rule	*r = cr->r;
	struct sv		 v, lv;
	size_t			 i;
	int			 m;

	switch (r->match) {
	case MATCH_ALWAYS:
		return (1);
	case MATCH_FIELD_CONTAINS_ANY:
		if (ictx_field(&p->x, r->field, &v) == -1)
			return (-1);
		if (v.p == NULL || cr->nvals == 0)
			return (0);
		if (ictx_lower(p, r->field, v, &lv) == -1)
			return (-1);
		for (i = 0; i < cr->nvals; i++)
			if (has_sub(lv.p, lv.len, cr->vals[i].p,
			    cr->vals[i].len))
				return (1);
		return (0);
	case MATCH_FIELD_NOT_IN_LIST:
	case MATCH_FIELD_HAS_URL_SCHEME:
		if (ictx_field(&p->x, r->field, &v) == -1)
			return (-1);
		if (v.p == NULL)
			return (0);
		if (r->match == MATCH_FIELD_NOT_IN_LIST)
			return (not_in_list(v, &r->allowed));
		if (!scheme_possible(v))
			return (0);
		return (has_url_scheme(v, &r->schemes));
	case MATCH_FLAG_EQUALS:
		if ((m = ictx_flag(&p->x, r->flag)) == RULES_NIL)
			return (0);
		return (m == (r->expected != 0));
	default:
		return (0);
	}
}

static int
crule_match(struct rules_prog *p, struct crule *cr)
{
	uint32_t	bit;
	int		m;

	if (!cr->prepared && crule_prepare(cr) == -1)
		return (-1);
	switch (cr->how) {
	case CR_NEVER:
		return (0);
	case CR_ALWAYS:
		return (1);
	case CR_KIND:
		if ((size_t)p->x.it->kind >= KIND_COUNT)
			return (crule_eval(p, cr));
		bit = 1U << p->x.it->kind;
		if (cr->kknown & bit)
			return ((cr->kmatch & bit) != 0);
		if ((m = crule_eval(p, cr)) == -1)
			return (-1);
		cr->kknown |= bit;
		if (m)
			cr->kmatch |= bit;
		return (m);
	default:
		return (crule_eval(p, cr));
	}
}

/* The item's id (RULES.md 2.1), built once per item into scratch. */
static int
ictx_id(struct rules_prog *p, const char **id)
{
	struct ictx	*x = &p->x;
	char		*s;
	size_t		 n;

	if (x->idlen == 0) {
		if ((s = item_id(x->it)) == NULL)
			return (-1);
		n = strlen(s);
		if (sbuf_reserve(&p->idbuf, n + 1) == -1) {
			free(s);
			return (-1);
		}
		memcpy(p->idbuf.p, s, n + 1);
		free(s);
		x->idlen = n;
	}
	*id = p->idbuf.p;
	return (0);
}

/* Ids for findings: the random source is drawn in batches. */
struct idsup {
	const struct idsource	*src;
	int			 random;
	char			 buf[UUID_MANY][UUID_BUFSZ];
	size_t			 n;
	size_t			 next;
	size_t			 want;
};

static void
idsup_init(struct idsup *s, const struct idsource *src)
{
	s->src = src;
	s->random = src == uuid_random_source();
	s->n = s->next = 0;
	s->want = 1;		/* grows, so a small call draws little */
}

static int
idsup_next(struct idsup *s, char out[UUID_BUFSZ])
{
	if (!s->random)
		return (idsource_next(s->src, out));
	if (s->next == s->n) {
		if (uuid_v4_many(s->buf, s->want) == -1)
			return (-1);
		s->n = s->want;
		s->next = 0;
		if (s->want < UUID_MANY)
			s->want *= 2;
	}
	memcpy(out, s->buf[s->next++], UUID_BUFSZ);
	return (0);
}

/* Findings under construction. */
struct fbuf {
	struct finding	*v;
	size_t		 n;
	size_t		 cap;
	const char	*ts;
	size_t		 tslen;
	struct idsup	 ids;
};

static void
fbuf_free(struct fbuf *b)
{
	rules_findings_free(b->v, b->n);
	b->v = NULL;
	b->n = b->cap = 0;
}

static char *
put(char **o, const char *s, size_t n)
{
	char	*start = *o;

	if (n > 0)
		memcpy(start, s, n);
	start[n] = '\0';
	*o += n + 1;
	return (start);
}

/*
 * Append a finding of rule cr on the current item (RULES.md 6.3): its
 * strings but the timestamp in one allocation (rule.h).
 */
static int
fbuf_add(struct fbuf *b, struct rules_prog *p, const struct crule *cr)
{
	const struct rule	*r = cr->r;
	struct ictx		*x = &p->x;
	const struct item	*it = x->it;
	struct finding		*f, *nv;
	struct sv		 mv = nil;
	const char		*id, *mvs;
	char			*o;
	size_t			 ncap, total;
	int			 v;

	if (b->n == b->cap) {
		/* Each slot is cleared when used: realloc, not recalloc. */
		ncap = b->cap == 0 ? 16 : b->cap * 2;
		if ((nv = reallocarray(b->v, ncap, sizeof(*nv))) == NULL)
			return (-1);
		b->v = nv;
		b->cap = ncap;
	}
	if (ictx_id(p, &id) == -1)
		return (-1);
	if (!x->lens) {
		x->namelen = it->name != NULL ? strlen(it->name) : 0;
		x->pathlen = it->path != NULL ? strlen(it->path) : 0;
		x->detaillen = it->detail != NULL ? strlen(it->detail) : 0;
		x->lens = 1;
	}

	/* Evidence: the field or flag the predicate keyed on, and its value. */
	switch (r->match) {
	case MATCH_FIELD_CONTAINS_ANY:
	case MATCH_FIELD_NOT_IN_LIST:
	case MATCH_FIELD_HAS_URL_SCHEME:
		if (ictx_field(x, r->field, &mv) == -1)
			return (-1);
		break;
	case MATCH_FLAG_EQUALS:
		if ((v = ictx_flag(x, r->flag)) != RULES_NIL) {
			mvs = v ? "true" : "false";
			mv.p = mvs;
			mv.len = strlen(mvs);
		}
		break;
	default:
		break;
	}

	/* The few strings are short; their sum cannot overflow a size_t. */
	total = x->idlen + cr->idlen + cr->titlelen + cr->ratlen +
	    x->namelen + x->pathlen + 6;
	if (it->detail != NULL)
		total += x->detaillen + 1;
	if (cr->fname != NULL)
		total += cr->fnamelen + 1;
	if (mv.p != NULL)
		total += mv.len + 1;

	f = &b->v[b->n];
	memset(f, 0, sizeof(*f));
	if (idsup_next(&b->ids, f->id) == -1)
		goto fail;
	f->surface = r->surface;
	f->severity = r->severity;
	if ((f->timestamp = malloc(b->tslen + 1)) == NULL ||
	    (o = f->strs = malloc(total)) == NULL)
		goto fail;
	memcpy(f->timestamp, b->ts, b->tslen + 1);
	f->item_id = put(&o, id, x->idlen);
	f->rule_id = put(&o, r->id, cr->idlen);
	f->title = put(&o, r->title, cr->titlelen);
	f->rationale = put(&o, r->rationale, cr->ratlen);
	f->item_name = put(&o, it->name, x->namelen);
	f->evidence_path = put(&o, it->path, x->pathlen);
	if (it->detail != NULL)
		f->evidence_detail = put(&o, it->detail, x->detaillen);
	if (cr->fname != NULL)
		f->matched_field = put(&o, cr->fname, cr->fnamelen);
	if (mv.p != NULL)
		f->matched_value = put(&o, mv.p, mv.len);
	b->n++;
	return (0);
 fail:
	finding_free(f);
	return (-1);
}

void
rules_findings_free(struct finding *v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		finding_free(&v[i]);
	free(v);
}

static int
check_args(const void *rs, const char *ts, const struct idsource *ids,
    struct finding **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (rs == NULL || ts == NULL || ids == NULL) {
		errno = EINVAL;
		return (-1);
	}
	return (0);
}

static void
fbuf_init(struct fbuf *b, const char *ts, const struct idsource *ids)
{
	b->v = NULL;
	b->n = b->cap = 0;
	b->ts = ts;
	b->tslen = strlen(ts);
	idsup_init(&b->ids, ids);
}

/*
 * Ask for an item's strings a few items ahead: in a large snapshot they
 * are scattered over the heap, and waiting for each in turn was most of
 * the time of building ids and findings.
 */
#define PREFETCH_AHEAD	8

/*
 * The item, if any rule will look at it.  The prefetches themselves sit
 * in the loops: GCC drops calls of a function whose only effect is a
 * prefetch.
 */
static const struct item *
worth_fetching(const struct rules_prog *p, const struct item *it,
    enum trigger t)
{
	size_t	k;

	if (it == NULL || (size_t)it->surface >= SURFACE_COUNT)
		return (NULL);
	k = (size_t)it->surface * TRIGGER_COUNT + (size_t)t;
	/* A list not built yet is for an item not seen yet: fetch. */
	if ((p->built & (1U << k)) != 0 && p->nlist[k] == 0)
		return (NULL);
	return (it);
}

/* The new item for added and modified, the old for removed. */
static int
change_item(const struct change *c, const struct item **it, enum trigger *t)
{
	switch (c->kind) {
	case CHANGE_ADDED:
		*it = c->new;
		*t = TRIGGER_ADDED;
		break;
	case CHANGE_REMOVED:
		*it = c->old;
		*t = TRIGGER_REMOVED;
		break;
	case CHANGE_MODIFIED:
		*it = c->new;
		*t = TRIGGER_MODIFIED;
		break;
	default:
		return (-1);
	}
	return (*it == NULL ? -1 : 0);
}

int
rules_prog_changes(struct rules_prog *p, const struct change *ch,
    size_t n, const char *ts, const struct idsource *ids,
    struct finding **out, size_t *nout)
{
	struct fbuf		 b;
	const struct item	*it;
	struct crule *const	*rv;
	enum trigger		 t;
	size_t			 i, j, nr;
	int			 m;

	if (check_args(p, ts, ids, out, nout) == -1)
		return (-1);
	fbuf_init(&b, ts, ids);
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n && !ch[i + PREFETCH_AHEAD].quiet &&
		    change_item(&ch[i + PREFETCH_AHEAD], &it, &t) == 0 &&
		    (it = worth_fetching(p, it, t)) != NULL) {
			__builtin_prefetch(it->name);
			__builtin_prefetch(it->path);
			__builtin_prefetch(it->detail);
			if (it->detail != NULL)
				__builtin_prefetch(it->detail + 64);
		}
		/* A late baseline is not a change (differ.h). */
		if (ch[i].quiet)
			continue;
		if (change_item(&ch[i], &it, &t) == -1) {
			errno = EINVAL;
			goto fail;
		}
		if (rules_list(p, it->surface, t, &rv, &nr) == -1)
			goto fail;
		if (nr == 0)
			continue;
		ictx_reset(&p->x, it);
		for (j = 0; j < nr; j++) {
			if ((m = crule_match(p, rv[j])) == -1)
				goto fail;
			if (m != 0 && fbuf_add(&b, p, rv[j]) == -1)
				goto fail;
		}
	}
	ictx_reset(&p->x, NULL);
	*out = b.v;
	*nout = b.n;
	return (0);
 fail:
	ictx_reset(&p->x, NULL);
	fbuf_free(&b);
	return (-1);
}

int
rules_eval_changes(const struct ruleset *rs, const struct change *ch,
    size_t n, const char *ts, const struct idsource *ids,
    struct finding **out, size_t *nout)
{
	struct rules_prog	*p;
	int			 rv;

	if (check_args(rs, ts, ids, out, nout) == -1)
		return (-1);
	if ((p = rules_compile(rs)) == NULL)
		return (-1);
	rv = rules_prog_changes(p, ch, n, ts, ids, out, nout);
	rules_prog_free(p);
	return (rv);
}
/*
 * The set of (surface, item id, rule id) keys seen while deduplicating
 * present findings: open addressing, strings borrowed from findings.
 */
struct dkey {
	uint64_t	 h;
	const char	*item;		/* NULL: empty slot */
	const char	*rule;
	enum surface	 s;
};

struct dset {
	struct dkey	*v;
	size_t		 cap;		/* power of two */
	size_t		 n;
};

static uint64_t
dhash(enum surface s, const char *item, const char *rule)
{
	uint64_t		 h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	const unsigned char	*p;

	h = (h ^ (unsigned)s) * 0x100000001b3ULL;
	for (p = (const unsigned char *)item; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL;	/* not a UTF-8 byte */
	for (p = (const unsigned char *)rule; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return (h);
}

static struct dkey *
dset_slot(struct dkey *v, size_t cap, uint64_t h, enum surface s,
    const char *item, const char *rule)
{
	size_t	i = (size_t)h & (cap - 1);

	while (v[i].item != NULL) {
		if (v[i].h == h && v[i].s == s && strcmp(v[i].item, item) == 0 &&
		    strcmp(v[i].rule, rule) == 0)
			break;
		i = (i + 1) & (cap - 1);
	}
	return (&v[i]);
}

static int
dset_has(const struct dset *d, uint64_t h, enum surface s, const char *item,
    const char *rule)
{
	if (d->n == 0)
		return (0);
	return (dset_slot(d->v, d->cap, h, s, item, rule)->item != NULL);
}

static int
dset_add(struct dset *d, uint64_t h, enum surface s, const char *item,
    const char *rule)
{
	struct dkey	*nv, *k;
	size_t		 ncap, i;

	/* Keep the load at or under one half. */
	if (d->cap == 0 || d->n + 1 > d->cap / 2) {
		ncap = d->cap == 0 ? 64 : d->cap * 2;
		if (ncap < d->cap || (nv = calloc(ncap, sizeof(*nv))) == NULL)
			return (-1);
		for (i = 0; i < d->cap; i++)
			if (d->v[i].item != NULL)
				*dset_slot(nv, ncap, d->v[i].h, d->v[i].s,
				    d->v[i].item, d->v[i].rule) = d->v[i];
		free(d->v);
		d->v = nv;
		d->cap = ncap;
	}
	k = dset_slot(d->v, d->cap, h, s, item, rule);
	if (k->item == NULL) {
		k->h = h;
		k->s = s;
		k->item = item;
		k->rule = rule;
		d->n++;
	}
	return (0);
}

int
rules_prog_present(struct rules_prog *p, const struct item *items,
    size_t n, const struct finding *chf, size_t nchf,
    const struct rules_held *held, const char *ts,
    const struct idsource *ids, struct finding **out, size_t *nout)
{
	struct fbuf		 b;
	struct dset		 seen = { NULL, 0, 0 };
	const struct item	*it;
	struct crule *const	*rv;
	const struct rule	*r;
	const char		*rid, *id;
	struct finding		*f;
	uint64_t		 h;
	size_t			 i, j, nr;
	int			 m;

	if (check_args(p, ts, ids, out, nout) == -1)
		return (-1);
	fbuf_init(&b, ts, ids);
	/* 1. this commit's change findings */
	for (i = 0; i < nchf; i++) {
		if (chf[i].item_id == NULL || chf[i].rule_id == NULL)
			continue;
		h = dhash(chf[i].surface, chf[i].item_id, chf[i].rule_id);
		if (dset_add(&seen, h, chf[i].surface, chf[i].item_id,
		    chf[i].rule_id) == -1)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n && (it = worth_fetching(p,
		    &items[i + PREFETCH_AHEAD], TRIGGER_PRESENT)) != NULL) {
			__builtin_prefetch(it->name);
			__builtin_prefetch(it->path);
			__builtin_prefetch(it->detail);
			if (it->detail != NULL)
				__builtin_prefetch(it->detail + 64);
		}
		it = &items[i];
		if (rules_list(p, it->surface, TRIGGER_PRESENT, &rv,
		    &nr) == -1)
			goto fail;
		if (nr == 0)
			continue;
		ictx_reset(&p->x, it);
		for (j = 0; j < nr; j++) {
			r = rv[j]->r;
			if ((m = crule_match(p, rv[j])) == -1)
				goto fail;
			if (m == 0)
				continue;
			if (ictx_id(p, &id) == -1)
				goto fail;
			rid = r->id != NULL ? r->id : "";
			h = dhash(it->surface, id, rid);
			/* 3. kept earlier in this batch, or a change finding */
			if (dset_has(&seen, h, it->surface, id, rid))
				continue;
			/* 2. anything the findings table already holds */
			if (held != NULL && held->fn != NULL) {
				if ((m = held->fn(held->arg, it->surface, id,
				    rid)) == -1)
					goto fail;
				if (m != 0)
					continue;
			}
			if (fbuf_add(&b, p, rv[j]) == -1)
				goto fail;
			f = &b.v[b.n - 1];
			if (dset_add(&seen, h, f->surface, f->item_id,
			    f->rule_id) == -1)
				goto fail;
		}
	}
	ictx_reset(&p->x, NULL);
	free(seen.v);
	*out = b.v;
	*nout = b.n;
	return (0);
 fail:
	ictx_reset(&p->x, NULL);
	free(seen.v);
	fbuf_free(&b);
	return (-1);
}

int
rules_eval_present(const struct ruleset *rs, const struct item *items,
    size_t n, const struct finding *chf, size_t nchf,
    const struct rules_held *held, const char *ts,
    const struct idsource *ids, struct finding **out, size_t *nout)
{
	struct rules_prog	*p;
	int			 rv;

	if (check_args(rs, ts, ids, out, nout) == -1)
		return (-1);
	if ((p = rules_compile(rs)) == NULL)
		return (-1);
	rv = rules_prog_present(p, items, n, chf, nchf, held, ts, ids, out,
	    nout);
	rules_prog_free(p);
	return (rv);
}
