/*
 * Hiding credentials in MCP server specs before they leave the scan
 * child (a deliberate difference from the reference sensor, which keeps
 * url, command and args verbatim: SURFACES.md 12).
 *
 * What is hidden is replaced by a marker "<redacted:HHHHHHHHHHHH>", the
 * first 12 hex digits of HMAC-SHA-256 of the hidden bytes under a key
 * of the installation: a change of the hidden value changes the marker,
 * and so shows as a modification, while the marker tells nothing about
 * the value to anyone without the key (which only root and the scan
 * child hold).
 *
 * In a URL: the user information (everything before the last '@' of the
 * authority), each query value (a query piece without '=' counts as a
 * value; more than REDACT_QUERY_MAX values: the whole query is one
 * marker), the whole fragment, and well-known token formats in the path.
 *
 * In a command and its arguments, word by word (words are split at
 * spaces inside an argument, so a command line given as one string is
 * treated like separate arguments):
 *  - "--NAME VALUE", "-NAME VALUE": the next word, or the whole next
 *    argument when the flag ends its argument, for a NAME that looks
 *    secret (redact_secret_name());
 *  - "NAME=VALUE", "--NAME=VALUE": the value (to the end of the word, or
 *    to the closing quote if it starts with one);
 *  - "NAME: VALUE", "NAME:VALUE" (a header, as for curl -H): the rest of
 *    the argument, or the whole next argument when nothing follows;
 *  - "Bearer X", "Basic X": X;
 *  - a URL anywhere in a word, as above;
 *  - a word or part of a word in a well-known token format (GitHub,
 *    GitLab, Slack, OpenAI/Anthropic-style sk-, Stripe, AWS key ids,
 *    Google API keys, npm, Hugging Face, PyPI, JSON Web Tokens).
 * Everything else is kept byte for byte, so the rules that read the
 * detail (npx, curl, http://...) see what they saw before.
 *
 * A field whose redacted form would be more than REDACT_GROWTH times its
 * length plus one marker is replaced by one marker as a whole: what the
 * parent accepts for a file is bounded by its size (scanproto.h), and an
 * honest file never comes near.
 */
#ifndef KOBANGD_SCAN_REDACT_H
#define KOBANGD_SCAN_REDACT_H

#include <stddef.h>
#include <stdint.h>

#include "scan.h"

#define REDACT_KEY_LEN		32
#define REDACT_HASH_HEX		12
#define REDACT_MARK_PREFIX	"<redacted:"
#define REDACT_MARK_LEN		(sizeof(REDACT_MARK_PREFIX) - 1 + \
				    REDACT_HASH_HEX + 1)
#define REDACT_QUERY_MAX	4
#define REDACT_GROWTH		6

/*
 * The key of this scan child, from IMSG_SCAN_KEY (scan.c), or NULL
 * while none arrived: then the MCP parsers refuse to emit a server.
 */
const uint8_t	*scan_redact_key(void);
/* 0, or -1 if len is wrong or a key is already set. */
int		 scan_redact_setkey(const void *, size_t);
/* Forget the key (tests). */
void		 scan_redact_clearkey(void);

/* State across the words and arguments of one command line. */
struct redactor {
	const uint8_t	*key;		/* REDACT_KEY_LEN bytes */
	int		 next;		/* what comes next is secret */
};

void	 redact_init(struct redactor *, const uint8_t *);
/* Append the redacted form of one argument (or the command). 0 or -1. */
int	 redact_arg(struct redactor *, struct sbuf *, const char *, size_t);
/* Append the redacted form of a URL (an MCP url field). 0 or -1. */
int	 redact_url(const uint8_t *, struct sbuf *, const char *, size_t);
/* Append the marker of bytes. 0 or -1. */
int	 redact_mark(const uint8_t *, struct sbuf *, const char *, size_t);
/*
 * Past the redaction of len source bytes that made the sbuf grow from
 * start: if it grew beyond the bound above, replace the growth by one
 * marker of the source.  0 or -1.
 */
int	 redact_bound(const uint8_t *, struct sbuf *, size_t, const char *,
	    size_t);
/* Whether a flag, key or header name looks like it names a secret. */
int	 redact_secret_name(const char *, size_t);

#endif
