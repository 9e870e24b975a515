/*
 * Homebrew install receipts (SURFACES.md 1).
 *
 * The package item itself comes from the parent's directory listing
 * (rack or cask name, every version directory): the receipt only says
 * where it came from (source.tap) and whether it was asked for
 * (installed_on_request).  A receipt that is not strict JSON, or holds
 * one of those keys with a wrong type, leaves the item standing with
 * origin "unknown" and a nil flag, and says why in an issue.  Nothing
 * else of the receipt is decoded: the other keys (the build
 * environment, the compiler, runtime dependencies) are passed over.
 */

#include <sys/types.h>

#include <string.h>

#include "scan.h"
#include "scan_agents.h"

struct receipt {
	char	tap[SCAN_ORIGIN_MAX];
	size_t	taplen;
	int	has_tap;
	int	ior;
};

/* The source object, its '{' read: only tap. */
static int
receipt_source(struct json *js, struct receipt *r, const struct scan_sink *sink)
{
	struct json_tok	tok;
	enum json_type	t;
	int		seen = 0;

	for (;;) {
		if ((t = json_next(js, &tok)) == JSON_END)
			return (0);
		if (t != JSON_KEY) {
			scan_malformed(sink, js);
			return (-1);
		}
		if (seen || !json_tok_eq(&tok, "tap")) {
			if (json_skip_next(js) == -1) {
				scan_malformed(sink, js);
				return (-1);
			}
			continue;
		}
		seen = 1;
		if ((t = json_next(js, &tok)) == JSON_ERROR) {
			scan_malformed(sink, js);
			return (-1);
		}
		if (t == JSON_NULL)
			continue;
		if (t != JSON_STRING) {
			scan_type_error(sink, "source.tap", "a string");
			return (-1);
		}
		if (tok.len >= sizeof(r->tap) || memchr(tok.s, '\0',
		    tok.len) != NULL) {
			sink->issue(sink->arg, SCAN_ISSUE_LIMIT,
			    "source.tap is too long or holds a NUL");
			return (-1);
		}
		memcpy(r->tap, tok.s, tok.len);
		r->taplen = tok.len;
		r->has_tap = 1;
	}
}

static int
receipt_parse(struct json *js, struct receipt *r, const struct scan_sink *sink)
{
	struct json_tok	tok;
	enum json_type	t;
	int		source = 0, ior = 0;

	if ((t = json_next(js, &tok)) == JSON_ERROR) {
		scan_malformed(sink, js);
		return (-1);
	}
	if (t != JSON_OBJECT) {
		scan_type_error(sink, "the top level", "an object");
		return (-1);
	}
	for (;;) {
		if ((t = json_next(js, &tok)) == JSON_END)
			break;
		if (t != JSON_KEY) {
			scan_malformed(sink, js);
			return (-1);
		}
		if (!source && json_tok_eq(&tok, "source")) {
			source = 1;
			if ((t = json_next(js, &tok)) == JSON_ERROR) {
				scan_malformed(sink, js);
				return (-1);
			}
			if (t == JSON_NULL)
				continue;
			if (t != JSON_OBJECT) {
				scan_type_error(sink, "source", "an object");
				return (-1);
			}
			if (receipt_source(js, r, sink) == -1)
				return (-1);
		} else if (!ior && json_tok_eq(&tok,
		    "installed_on_request")) {
			ior = 1;
			if ((t = json_next(js, &tok)) == JSON_ERROR) {
				scan_malformed(sink, js);
				return (-1);
			}
			if (t == JSON_TRUE)
				r->ior = 1;
			else if (t == JSON_FALSE)
				r->ior = 0;
			else if (t != JSON_NULL) {
				scan_type_error(sink, "installed_on_request",
				    "a boolean");
				return (-1);
			}
		} else if (json_skip_next(js) == -1) {
			scan_malformed(sink, js);
			return (-1);
		}
	}
	if (json_next(js, &tok) != JSON_EOF) {
		scan_malformed(sink, js);
		return (-1);
	}
	return (0);
}

int
scan_brew_receipt(struct json *js, struct sv name, struct sv version,
    const struct scan_sink *sink)
{
	struct receipt		r;
	struct scan_item	it;

	memset(&r, 0, sizeof(r));
	r.ior = ITEM_BOOL_NIL;
	if (receipt_parse(js, &r, sink) == -1) {
		r.has_tap = 0;
		r.ior = ITEM_BOOL_NIL;
	}
	memset(&it, 0, sizeof(it));
	it.kind = KIND_PACKAGE;
	it.ior = r.ior;
	it.name = name;
	it.version = version;
	if (r.has_tap) {
		it.origin.p = r.tap;
		it.origin.len = r.taplen;
	} else {
		it.origin.p = SCAN_ORIGIN_BREW_UNKNOWN;
		it.origin.len = strlen(SCAN_ORIGIN_BREW_UNKNOWN);
	}
	return (sink->emit(sink->arg, &it));
}
