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

char *
rules_lowercase(const char *s, size_t n, size_t *outlen)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*o;
	size_t			 i = 0, k = 0, l;
	uint32_t		 cp;

	/* No mapping grows a sequence by more than half its length. */
	if (n > (SIZE_MAX - 1) / 2) {
		errno = ENOMEM;
		return (NULL);
	}
	if ((o = malloc(2 * n + 1)) == NULL)
		return (NULL);
	while (i < n) {
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

/* Findings under construction. */
struct fbuf {
	struct finding	*v;
	size_t		 n;
	size_t		 cap;
};

static void
fbuf_free(struct fbuf *b)
{
	rules_findings_free(b->v, b->n);
	b->v = NULL;
	b->n = b->cap = 0;
}

static char *
dup_nz(const char *s)
{
	return (strdup(s != NULL ? s : ""));
}

/* Append a finding of rule r on item it (RULES.md 6.3). */
static int
fbuf_add(struct fbuf *b, const struct rule *r, const struct item *it,
    const char *itemid, const char *ts, const struct idsource *ids)
{
	struct finding	*f, *nv;
	struct fval	 fv;
	size_t		 ncap;
	int		 v;

	if (b->n == b->cap) {
		ncap = b->cap == 0 ? 16 : b->cap * 2;
		if ((nv = recallocarray(b->v, b->cap, ncap, sizeof(*nv))) ==
		    NULL)
			return (-1);
		b->v = nv;
		b->cap = ncap;
	}
	f = &b->v[b->n];
	memset(f, 0, sizeof(*f));
	if (idsource_next(ids, f->id) == -1)
		goto fail;
	f->surface = r->surface;
	f->severity = r->severity;
	if ((f->timestamp = strdup(ts)) == NULL ||
	    (f->item_id = strdup(itemid)) == NULL ||
	    (f->rule_id = dup_nz(r->id)) == NULL ||
	    (f->title = dup_nz(r->title)) == NULL ||
	    (f->rationale = dup_nz(r->rationale)) == NULL ||
	    (f->item_name = dup_nz(it->name)) == NULL ||
	    (f->evidence_path = dup_nz(it->path)) == NULL)
		goto fail;
	if (it->detail != NULL &&
	    (f->evidence_detail = strdup(it->detail)) == NULL)
		goto fail;

	/* Evidence: the field or flag the predicate keyed on, and its value. */
	switch (r->match) {
	case MATCH_FIELD_CONTAINS_ANY:
	case MATCH_FIELD_NOT_IN_LIST:
	case MATCH_FIELD_HAS_URL_SCHEME:
		if ((f->matched_field = strdup(rule_field_name(r->field))) ==
		    NULL || field_get(it, r->field, &fv) == -1)
			goto fail;
		if (fv.v.p != NULL && (f->matched_value = strndup(fv.v.p,
		    fv.v.len)) == NULL) {
			fval_free(&fv);
			goto fail;
		}
		fval_free(&fv);
		break;
	case MATCH_FLAG_EQUALS:
		if ((f->matched_field = strdup(rule_flag_name(r->flag))) ==
		    NULL)
			goto fail;
		v = rules_flag_value(it, r->flag);
		if (v != RULES_NIL &&
		    (f->matched_value = strdup(v ? "true" : "false")) == NULL)
			goto fail;
		break;
	default:
		break;
	}
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
check_args(const struct ruleset *rs, const char *ts,
    const struct idsource *ids, struct finding **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (rs == NULL || ts == NULL || ids == NULL) {
		errno = EINVAL;
		return (-1);
	}
	return (0);
}

static int
rule_applies(const struct rule *r, const struct item *it, enum trigger t)
{
	return (r->enabled && r->surface == it->surface &&
	    (r->triggers & RULE_TRIGGER(t)) != 0);
}

int
rules_eval_changes(const struct ruleset *rs, const struct change *ch,
    size_t n, const char *ts, const struct idsource *ids,
    struct finding **out, size_t *nout)
{
	struct fbuf		 b = { NULL, 0, 0 };
	const struct item	*it;
	const struct rule	*r;
	enum trigger		 t;
	char			*id;
	size_t			 i, j;
	int			 m;

	if (check_args(rs, ts, ids, out, nout) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		/* A late baseline is not a change (differ.h). */
		if (ch[i].quiet)
			continue;
		/* The new item for added and modified, the old for removed. */
		switch (ch[i].kind) {
		case CHANGE_ADDED:
			it = ch[i].new;
			t = TRIGGER_ADDED;
			break;
		case CHANGE_REMOVED:
			it = ch[i].old;
			t = TRIGGER_REMOVED;
			break;
		case CHANGE_MODIFIED:
			it = ch[i].new;
			t = TRIGGER_MODIFIED;
			break;
		default:
			it = NULL;
			break;
		}
		if (it == NULL) {
			errno = EINVAL;
			goto fail;
		}
		id = NULL;
		for (j = 0; j < rs->n; j++) {
			r = &rs->v[j];
			if (!rule_applies(r, it, t))
				continue;
			if ((m = rules_match(r, it)) == -1)
				goto failid;
			if (m == 0)
				continue;
			if (id == NULL && (id = item_id(it)) == NULL)
				goto fail;
			if (fbuf_add(&b, r, it, id, ts, ids) == -1)
				goto failid;
		}
		free(id);
	}
	*out = b.v;
	*nout = b.n;
	return (0);
 failid:
	free(id);
 fail:
	fbuf_free(&b);
	return (-1);
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
rules_eval_present(const struct ruleset *rs, const struct item *items,
    size_t n, const struct finding *chf, size_t nchf,
    const struct rules_held *held, const char *ts,
    const struct idsource *ids, struct finding **out, size_t *nout)
{
	struct fbuf		 b = { NULL, 0, 0 };
	struct dset		 seen = { NULL, 0, 0 };
	const struct item	*it;
	const struct rule	*r;
	const char		*rid;
	struct finding		*f;
	char			*id = NULL;
	uint64_t		 h;
	size_t			 i, j;
	int			 m;

	if (check_args(rs, ts, ids, out, nout) == -1)
		return (-1);
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
		it = &items[i];
		for (j = 0; j < rs->n; j++) {
			r = &rs->v[j];
			if (!rule_applies(r, it, TRIGGER_PRESENT))
				continue;
			if ((m = rules_match(r, it)) == -1)
				goto fail;
			if (m == 0)
				continue;
			if (id == NULL && (id = item_id(it)) == NULL)
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
			if (fbuf_add(&b, r, it, id, ts, ids) == -1)
				goto fail;
			f = &b.v[b.n - 1];
			if (dset_add(&seen, h, f->surface, f->item_id,
			    f->rule_id) == -1)
				goto fail;
		}
		free(id);
		id = NULL;
	}
	free(seen.v);
	*out = b.v;
	*nout = b.n;
	return (0);
 fail:
	free(id);
	free(seen.v);
	fbuf_free(&b);
	return (-1);
}
