/*
 * A strict, streaming pull tokenizer for JSON (RFC 8259), for parsers of
 * untrusted files: lockfiles, agent configuration, receipts.
 *
 * The caller pulls one token at a time with json_next().  Input comes
 * either from a writable buffer that holds the whole document, or from a
 * read function that fills a window: the window only holds the token
 * being read, so a 25 MB lockfile is parsed in a buffer of about 1 MB
 * (it grows when a single token is larger, up to a maximum).
 *
 * Strict means what Foundation's JSONSerialization accepts, and less:
 * the top level is an object or an array; no comments (unless
 * JSON_F_COMMENTS, the JSONC of SURFACES.md 0.5), no trailing commas, no
 * leading zeros, NaN or Infinity; control characters in strings are
 * refused; every byte of a string must be valid UTF-8 (RFC 3629) and a
 * \u escape of a surrogate must be half of a valid pair.  A UTF-8
 * byte-order mark at the start is skipped, as Foundation does; UTF-16
 * and UTF-32 documents are refused.  Nesting is limited (512 by
 * default, Foundation's limit) without recursion.
 *
 * Duplicate keys are tokens like any other: what they mean is the
 * caller's.  Foundation keeps the first (JSONDecoder builds its key
 * table with "set if nil", NSJSONSerialization returns the first value),
 * so the parsers of this project ignore later duplicates.
 *
 * A token's text (key, string, number) points into the window and is
 * valid until the next call: copy what must outlive it.  Strings are
 * unescaped in place (the decoded form is never longer) and may contain
 * NUL bytes (\u0000): the length is authoritative.  json_skip() passes
 * over a value, validating it completely but unescaping nothing, so a
 * value a parser must not read (an MCP server's env) is never decoded.
 *
 * Errors are sticky: once json_next() returned JSON_ERROR, every later
 * call does too; json_errstr() says what and where.
 */
#ifndef KOBANG_JSON_H
#define KOBANG_JSON_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define JSON_MAXDEPTH		512
#define JSON_WINDOW		(1024 * 1024)	/* streaming read size */

/* Flags. */
#define JSON_F_COMMENTS		0x01	/* JSONC: // and block comments */
#define JSON_F_TRAILING		0x02	/* ",}" and ",]": bun, OpenCode */

enum json_type {
	JSON_ERROR = -1,
	JSON_EOF = 0,		/* the document ended after its value */
	JSON_OBJECT,		/* { */
	JSON_ARRAY,		/* [ */
	JSON_END,		/* } or ] closing the current container */
	JSON_KEY,		/* a member name; its value follows */
	JSON_STRING,
	JSON_NUMBER,		/* text as written, grammar checked */
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL
};

enum json_error {
	JSON_E_NONE,
	JSON_E_SYNTAX,
	JSON_E_UTF8,		/* invalid UTF-8 in a string */
	JSON_E_ESCAPE,		/* bad escape or lone surrogate */
	JSON_E_CONTROL,		/* unescaped control character */
	JSON_E_DEPTH,		/* nested too deeply */
	JSON_E_TRUNCATED,	/* the document ends inside a value */
	JSON_E_TOPLEVEL,	/* the top level is not an object or array */
	JSON_E_TOOBIG,		/* a token larger than the window may grow */
	JSON_E_READ,		/* the read function failed */
	JSON_E_NOMEM
};

struct json_tok {
	enum json_type	 type;
	const char	*s;		/* KEY, STRING, NUMBER */
	size_t		 len;
};

/* Reads up to len bytes into buf: bytes read, 0 at the end, -1 error. */
typedef ssize_t	(*json_read_fn)(void *, void *, size_t);

struct json {
	char		*buf;
	size_t		 pos;		/* next byte */
	size_t		 end;		/* end of valid data */
	size_t		 cap;		/* allocated */
	size_t		 maxcap;	/* the window never grows past */
	uint64_t	 base;		/* document offset of buf[0] */
	json_read_fn	 rd;
	void		*rdarg;
	int		 final;		/* no more input will come */
	int		 owned;		/* buf is ours */
	int		 flags;
	int		 state;
	int		 depth;
	int		 maxdepth;
	int		 started;	/* byte-order mark handled */
	size_t		 str_done;	/* a cut string: bytes checked */
	int		 str_esc;	/* ... and whether it had escapes */
	enum json_error	 err;
	uint64_t	 erroff;
	uint8_t		 stack[JSON_MAXDEPTH / 8];	/* 1: object */
};

/*
 * The whole document in a writable buffer, which the tokenizer modifies
 * (strings are unescaped in place).
 */
void	 json_init_mem(struct json *, char *, size_t, int);
/*
 * Streaming: the window starts at initcap bytes and grows up to maxcap
 * when one token needs it.  0, or -1 (ENOMEM).
 */
int	 json_init_stream(struct json *, json_read_fn, void *, size_t,
	    size_t, int);
void	 json_free(struct json *);
void	 json_set_maxdepth(struct json *, int);

enum json_type	 json_next(struct json *, struct json_tok *);
/*
 * After json_next() returned type t: if t opened an object or array,
 * pass over the rest of it; for a scalar, nothing to do.  0 or -1.
 */
int	 json_skip(struct json *, enum json_type);
/* Read the next value (after a KEY, or in an array) and pass over it. */
int	 json_skip_next(struct json *);

/* Containers entered and not yet closed. */
int	 json_depth(const struct json *);

/* Set an error from the caller (e.g. a type error), sticky. */
void	 json_fail(struct json *, enum json_error);
const char *json_errstr(const struct json *);
/* The document offset where the error was noticed. */
uint64_t json_erroff(const struct json *);

/* A key or string token equal to a NUL-terminated literal. */
int	 json_tok_eq(const struct json_tok *, const char *);

#endif
