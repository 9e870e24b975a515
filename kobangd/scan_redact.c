/*
 * Redaction of MCP urls, commands and arguments in the scan child
 * (scan_redact.h says what is hidden and why).  Only ASCII bytes are
 * delimiters, so a redacted UTF-8 string stays valid UTF-8.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "scan.h"
#include "scan_redact.h"
#include "sha256.h"

static uint8_t	redact_key_buf[REDACT_KEY_LEN];
static int	redact_key_set;

const uint8_t *
scan_redact_key(void)
{
	return (redact_key_set ? redact_key_buf : NULL);
}

int
scan_redact_setkey(const void *key, size_t len)
{
	if (len != REDACT_KEY_LEN || redact_key_set)
		return (-1);
	memcpy(redact_key_buf, key, len);
	redact_key_set = 1;
	return (0);
}

void
scan_redact_clearkey(void)
{
	explicit_bzero(redact_key_buf, sizeof(redact_key_buf));
	redact_key_set = 0;
}

/* What comes next (struct redactor.next). */
enum {
	R_NONE,
	R_WORD,		/* the next word of this argument */
	R_ARG		/* the whole next argument */
};

void
redact_init(struct redactor *r, const uint8_t *key)
{
	r->key = key;
	r->next = R_NONE;
}

static int
add(struct sbuf *sb, const char *p, size_t len)
{
	if (len == 0)
		return (0);
	return (sbuf_add(sb, p, len) == SBUF_ERR ? -1 : 0);
}

int
redact_mark(const uint8_t *key, struct sbuf *sb, const char *p, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	uint8_t			 d[SHA256_DIGEST_LEN];
	char			 m[REDACT_MARK_LEN];
	size_t			 i, o;

	if (sha256_hmac(key, REDACT_KEY_LEN, p, len, d) == -1)
		return (-1);
	o = sizeof(REDACT_MARK_PREFIX) - 1;
	memcpy(m, REDACT_MARK_PREFIX, o);
	for (i = 0; i < REDACT_HASH_HEX / 2; i++) {
		m[o++] = hex[d[i] >> 4];
		m[o++] = hex[d[i] & 0x0f];
	}
	m[o++] = '>';
	explicit_bzero(d, sizeof(d));
	return (add(sb, m, o));
}

int
redact_bound(const uint8_t *key, struct sbuf *sb, size_t start,
    const char *src, size_t srclen)
{
	size_t	grown = sb->len - start;

	if (grown <= srclen * REDACT_GROWTH + REDACT_MARK_LEN)
		return (0);
	sb->len = start;
	return (redact_mark(key, sb, src, srclen));
}

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

static int
alnum(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'));
}

/* Characters of a flag, environment variable or header name. */
static int
namechar(int c)
{
	return (alnum(c) || c == '-' || c == '_' || c == '.');
}

/*
 * The name, lowercased, without leading dashes and without '-', '_' and
 * '.', contains one of these (api_key, X-Api-Key, --apiKey, AUTH_TOKEN,
 * Authorization, Proxy-Authorization, client_secret, DB_PASSWORD, ...)
 * or is one of the short names.  "auth" also covers author and oauth:
 * hiding a harmless value costs less than showing a secret one.
 */
static const char *const secret_words[] = {
	"token", "secret", "passw", "passphrase", "apikey", "auth",
	"credential", "privatekey", "accesskey", "cookie", "bearer",
	"signature",
};
static const char *const secret_names[] = {
	"key", "pass", "pwd", "pw", "pat",
};

int
redact_secret_name(const char *p, size_t len)
{
	char	n[64];
	size_t	i, k = 0, w;

	while (len > 0 && *p == '-') {
		p++;
		len--;
	}
	for (i = 0; i < len; i++) {
		if (!namechar((unsigned char)p[i]))
			return (0);
		if (p[i] == '-' || p[i] == '_' || p[i] == '.')
			continue;
		if (k == sizeof(n) - 1)
			break;		/* long names: their start decides */
		n[k++] = (char)lower((unsigned char)p[i]);
	}
	n[k] = '\0';
	if (k == 0)
		return (0);
	for (w = 0; w < sizeof(secret_names) / sizeof(secret_names[0]); w++)
		if (strcmp(n, secret_names[w]) == 0)
			return (1);
	for (w = 0; w < sizeof(secret_words) / sizeof(secret_words[0]); w++)
		if (strstr(n, secret_words[w]) != NULL)
			return (1);
	return (0);
}

/*
 * Well-known token formats: a prefix, then at least TOKEN_MIN more
 * characters of [A-Za-z0-9_-], at the start of such a run.
 */
#define TOKEN_MIN	16
static const char *const token_prefixes[] = {
	"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",	/* GitHub */
	"glpat-",						/* GitLab */
	"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-",	/* Slack */
	"sk-",				/* OpenAI, Anthropic, Zapier, ... */
	"sk_live_", "sk_test_", "rk_live_", "rk_test_",		/* Stripe */
	"AKIA", "ASIA",						/* AWS */
	"AIza",							/* Google */
	"npm_",							/* npm */
	"hf_",						/* Hugging Face */
	"pypi-",						/* PyPI */
};

static int
tokchar(int c)
{
	return (alnum(c) || c == '-' || c == '_');
}

/* The length of a token at p (a run start), 0 if none. */
static size_t
token_at(const char *p, size_t len)
{
	size_t	i, n, pl, dots;

	for (n = 0; n < len && (tokchar((unsigned char)p[n]) ||
	    p[n] == '.'); n++)
		;
	/* A JSON Web Token: three base64url parts, the first "{"... */
	if (n >= 32 && len >= 3 && memcmp(p, "eyJ", 3) == 0) {
		for (i = 0, dots = 0; i < n; i++)
			if (p[i] == '.')
				dots++;
		if (dots == 2 && p[n - 1] != '.')
			return (n);
	}
	for (n = 0; n < len && tokchar((unsigned char)p[n]); n++)
		;
	for (i = 0; i < sizeof(token_prefixes) / sizeof(token_prefixes[0]);
	    i++) {
		pl = strlen(token_prefixes[i]);
		if (n >= pl + TOKEN_MIN &&
		    memcmp(p, token_prefixes[i], pl) == 0)
			return (n);
	}
	return (0);
}

/* Copy p, every token in it replaced by its marker. */
static int
redact_tokens(const uint8_t *key, struct sbuf *sb, const char *p, size_t len)
{
	size_t	i = 0, from = 0, n;

	while (i < len) {
		if (!tokchar((unsigned char)p[i]) || (i > 0 &&
		    (tokchar((unsigned char)p[i - 1]) || p[i - 1] == '.'))) {
			i++;
			continue;
		}
		if ((n = token_at(p + i, len - i)) == 0) {
			i++;
			continue;
		}
		if (add(sb, p + from, i - from) == -1 ||
		    redact_mark(key, sb, p + i, n) == -1)
			return (-1);
		i += n;
		from = i;
	}
	return (add(sb, p + from, len - from));
}

/* Index of the first of set in p[0..len), len if none. */
static size_t
span_to(const char *p, size_t len, const char *set)
{
	size_t	i;

	/* Not strchr(): it finds a NUL byte of p in every set. */
	for (i = 0; i < len; i++)
		if (memchr(set, p[i], strlen(set)) != NULL)
			return (i);
	return (len);
}

/* A query, '?' excluded: each value hidden, or the whole if too many. */
static int
redact_query(const uint8_t *key, struct sbuf *sb, const char *p, size_t len)
{
	size_t	i, e, n, vals = 0;

	for (i = 0; i < len; i += n + 1) {
		n = span_to(p + i, len - i, "&");
		e = span_to(p + i, n, "=");
		if ((e < n && e + 1 < n) || (e == n && n > 0))
			vals++;
	}
	if (vals > REDACT_QUERY_MAX)
		return (redact_mark(key, sb, p, len));
	for (i = 0; i < len; i += n + 1) {
		if (i > 0 && add(sb, "&", 1) == -1)
			return (-1);
		n = span_to(p + i, len - i, "&");
		e = span_to(p + i, n, "=");
		if (e == n) {
			/* A piece without a name: the piece is the value. */
			if (n > 0 && redact_mark(key, sb, p + i, n) == -1)
				return (-1);
			continue;
		}
		if (add(sb, p + i, e + 1) == -1)
			return (-1);
		if (e + 1 < n &&
		    redact_mark(key, sb, p + i + e + 1, n - e - 1) == -1)
			return (-1);
	}
	/* A query ending in '&': the loop stops before its empty piece. */
	if (len > 0 && p[len - 1] == '&' && add(sb, "&", 1) == -1)
		return (-1);
	return (0);
}

int
redact_url(const uint8_t *key, struct sbuf *sb, const char *p, size_t len)
{
	size_t	i, a, at, q, f;

	/*
	 * The authority: after "scheme://", else from the start.  Only a
	 * scheme's characters may come before the "://" (one in a query
	 * is the query's).
	 */
	i = 0;
	for (a = 0; a < len && (alnum((unsigned char)p[a]) || p[a] == '+' ||
	    p[a] == '-' || p[a] == '.'); a++)
		;
	if (a > 0 && a + 2 < len && p[a] == ':' && p[a + 1] == '/' &&
	    p[a + 2] == '/')
		i = a + 3;
	if (add(sb, p, i) == -1)
		return (-1);
	a = i + span_to(p + i, len - i, "/?#");
	for (at = a; at > i && p[at - 1] != '@'; at--)
		;
	if (at > i) {
		/* user:password@ -- the last '@' ends it. */
		if (at - 1 > i && redact_mark(key, sb, p + i, at - 1 - i) == -1)
			return (-1);
		i = at - 1;
	}
	if (add(sb, p + i, a - i) == -1)
		return (-1);
	/* The path: tokens only. */
	q = a + span_to(p + a, len - a, "?#");
	if (redact_tokens(key, sb, p + a, q - a) == -1)
		return (-1);
	if (q == len)
		return (0);
	f = len;
	if (p[q] == '?') {
		f = q + 1 + span_to(p + q + 1, len - q - 1, "#");
		if (add(sb, "?", 1) == -1 ||
		    redact_query(key, sb, p + q + 1, f - q - 1) == -1)
			return (-1);
	} else
		f = q;
	if (f == len)
		return (0);
	/* The fragment (an OAuth access_token lands there): whole. */
	if (add(sb, "#", 1) == -1)
		return (-1);
	if (f + 1 < len && redact_mark(key, sb, p + f + 1, len - f - 1) == -1)
		return (-1);
	return (0);
}

/* A URL inside a word: from the scheme before its "://". */
static int
redact_url_in(const uint8_t *key, struct sbuf *sb, const char *p, size_t len)
{
	size_t	i, s;

	for (i = 0; i + 2 < len; i++)
		if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/')
			break;
	if (i + 2 >= len)
		return (redact_tokens(key, sb, p, len));
	for (s = i; s > 0 && (alnum((unsigned char)p[s - 1]) ||
	    p[s - 1] == '+' || p[s - 1] == '-' || p[s - 1] == '.'); s--)
		;
	if (redact_tokens(key, sb, p, s) == -1)
		return (-1);
	return (redact_url(key, sb, p + s, len - s));
}

static int
is_word(const char *p, size_t len, const char *w)
{
	size_t	i;

	if (len != strlen(w))
		return (0);
	for (i = 0; i < len; i++)
		if (lower((unsigned char)p[i]) != w[i])
			return (0);
	return (1);
}

/* Whether p[0..len) is a name: dashes, then [A-Za-z0-9_.-]. */
static int
is_name(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (!namechar((unsigned char)p[i]))
			return (0);
	return (len > 0);
}

/* Whether a word other than spaces follows p[0..len) from i. */
static int
more_words(const char *p, size_t i, size_t len)
{
	for (; i < len; i++)
		if (p[i] != ' ')
			return (1);
	return (0);
}

/*
 * One word p[i..j) of the argument p[0..len), no state pending: append
 * its redacted form and return where the next word starts (j, or len
 * when the rest of the argument was hidden), or -1 (as SIZE_MAX).
 */
static size_t
redact_word(struct redactor *r, struct sbuf *sb, const char *p, size_t i,
    size_t j, size_t len)
{
	const char	*w = p + i;
	size_t		 n = j - i, c, e, k, v;

	/* A header: "Authorization: Bearer x", "X-Api-Key:x". */
	c = span_to(w, n, ":");
	if (c > 0 && c < n && redact_secret_name(w, c) &&
	    !(c + 2 < n && w[c + 1] == '/' && w[c + 2] == '/')) {
		if (add(sb, w, c + 1) == -1)
			return (SIZE_MAX);
		for (k = i + c + 1; k < len && p[k] == ' '; k++)
			;
		if (add(sb, p + i + c + 1, k - i - c - 1) == -1)
			return (SIZE_MAX);
		if (k == len) {
			r->next = R_ARG;
			return (len);
		}
		if (redact_mark(r->key, sb, p + k, len - k) == -1)
			return (SIZE_MAX);
		return (len);
	}

	/* NAME=VALUE and --NAME=VALUE. */
	e = span_to(w, n, "=");
	if (e > 0 && e < n && is_name(w, e)) {
		if (add(sb, w, e + 1) == -1)
			return (SIZE_MAX);
		if (!redact_secret_name(w, e)) {
			/* --url=https://..., --header=Authorization:... */
			return (redact_word(r, sb, p, i + e + 1, j, len));
		}
		v = i + e + 1;
		if (v == j)
			return (j);
		if (p[v] == '"' || p[v] == '\'') {
			/* A quoted value runs to its quote. */
			for (k = v + 1; k < len && p[k] != p[v]; k++)
				;
			j = k < len ? k + 1 : len;
		}
		if (redact_mark(r->key, sb, p + v, j - v) == -1)
			return (SIZE_MAX);
		return (j);
	}

	/* --token VALUE, -password VALUE; Bearer VALUE. */
	if ((n > 1 && w[0] == '-' && redact_secret_name(w, n)) ||
	    is_word(w, n, "bearer") || is_word(w, n, "basic")) {
		if (add(sb, w, n) == -1)
			return (SIZE_MAX);
		r->next = more_words(p, j, len) ? R_WORD : R_ARG;
		return (j);
	}

	if (redact_url_in(r->key, sb, w, n) == -1)
		return (SIZE_MAX);
	return (j);
}

int
redact_arg(struct redactor *r, struct sbuf *sb, const char *p, size_t len)
{
	size_t	i = 0, j;

	if (r->next == R_ARG) {
		r->next = R_NONE;
		return (len > 0 ? redact_mark(r->key, sb, p, len) : 0);
	}
	while (i < len) {
		if (p[i] == ' ') {
			if (add(sb, " ", 1) == -1)
				return (-1);
			i++;
			continue;
		}
		j = i + span_to(p + i, len - i, " ");
		if (r->next == R_WORD) {
			r->next = R_NONE;
			if (redact_mark(r->key, sb, p + i, j - i) == -1)
				return (-1);
			i = j;
			continue;
		}
		if ((i = redact_word(r, sb, p, i, j, len)) == SIZE_MAX)
			return (-1);
	}
	/* A flag that ended its argument: its value is the next one. */
	if (r->next == R_WORD)
		r->next = R_ARG;
	return (0);
}
