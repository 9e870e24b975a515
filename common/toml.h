/*
 * A small, strict, bounded TOML 1.0 parser for the scan child: Codex
 * config.toml, uv.lock, pylock.toml and pyproject.toml (SURFACES.md 0.5,
 * 3, 8).  It parses a memory buffer only and never touches a file.
 *
 * The whole document is parsed into a tree allocated from one arena;
 * toml_free() releases all of it.  A document that breaks any rule of the
 * specification or any limit yields NULL and one message saying where
 * and what: "line 3, column 7: duplicate key name".
 *
 * Tables keep their keys in document order (the order of first
 * definition).  Dates and times are validated and kept as their text.
 * Strings are (pointer, length) and also NUL-terminated; a string or key
 * may contain NUL bytes (from \u0000), so code that wants a C string
 * uses toml_cstr(), which refuses such strings.
 *
 * A surface reader, for example uv.lock's [[package]] names:
 *
 *	if ((d = toml_parse(buf, len, &lim, &err)) == NULL)
 *		return (issue(err.msg));
 *	pkgs = toml_as_array(toml_table_get(toml_root(d), "package"));
 *	for (i = 0; i < toml_array_len(pkgs); i++) {
 *		p = toml_as_table(toml_array_at(pkgs, i));
 *		name = toml_cstr(toml_table_get(p, "name"));
 *		...
 *	}
 *	toml_free(d);
 *
 * The toml_as_*() views return NULL for a missing value as for one of
 * another type, so a chain of them never crashes; telling the two apart
 * (a type error is an issue, SURFACES.md 0.5) is toml_table_get() ==
 * NULL versus toml_type_name(v->type).
 */
#ifndef KOBANG_TOML_H
#define KOBANG_TOML_H

#include <stddef.h>
#include <stdint.h>

/* Hard limits; a caller's struct toml_limits may only lower them. */
#define TOML_MAX_DOC		25000000	/* bytes (SURFACES.md 0.2) */
#define TOML_MAX_DEPTH		64		/* nested tables and arrays */
#define TOML_MAX_VALUES		1000000		/* values, tables, arrays */

struct toml_limits {
	size_t		max_doc;	/* bytes; 0: TOML_MAX_DOC */
	size_t		max_string;	/* bytes of one decoded string or key;
					   0: no limit beyond max_doc */
	size_t		max_values;	/* values, tables and arrays, the
					   root not counted; 0: the maximum */
	int		max_depth;	/* 0: TOML_MAX_DEPTH */
};

struct toml_error {
	size_t		line;		/* 1-based; 0: not about a place */
	size_t		col;		/* 1-based, in characters */
	char		msg[192];	/* "line L, column C: what" */
};

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,
	TOML_ARRAY,
	TOML_TABLE,
};

enum toml_dtkind {
	TOML_DT_OFFSET,		/* 1979-05-27T07:32:00Z */
	TOML_DT_LOCAL,		/* 1979-05-27T07:32:00 */
	TOML_DATE_LOCAL,	/* 1979-05-27 */
	TOML_TIME_LOCAL,	/* 07:32:00 */
};

struct toml_str {
	const char	*ptr;		/* ptr[len] is NUL; NULs may precede */
	size_t		 len;
};

struct toml_doc;
struct toml_table;
struct toml_array;

struct toml_value {
	enum toml_type		 type;
	enum toml_dtkind	 dtkind;	/* TOML_DATETIME only */
	union {
		struct toml_str		 s;	/* STRING; DATETIME's text */
		int64_t			 i;
		double			 f;
		int			 b;
		struct toml_array	*a;
		struct toml_table	*t;
	} u;
};

struct toml_kv {
	struct toml_str		key;
	struct toml_value	val;
};

struct toml_doc	*toml_parse(const char *, size_t, const struct toml_limits *,
		    struct toml_error *);
void		 toml_free(struct toml_doc *);

const struct toml_table	*toml_root(const struct toml_doc *);

/* Keys in document order: for (i = 0; i < toml_table_len(t); i++) ... */
size_t			 toml_table_len(const struct toml_table *);
const struct toml_kv	*toml_table_at(const struct toml_table *, size_t);
/* NULL if absent.  getn finds keys that contain NUL bytes. */
const struct toml_value	*toml_table_get(const struct toml_table *,
			    const char *);
const struct toml_value	*toml_table_getn(const struct toml_table *,
			    const char *, size_t);

size_t			 toml_array_len(const struct toml_array *);
const struct toml_value	*toml_array_at(const struct toml_array *, size_t);

/* Typed views of a value: NULL when v is NULL or of another type. */
const struct toml_table	*toml_as_table(const struct toml_value *);
const struct toml_array	*toml_as_array(const struct toml_value *);
const struct toml_str	*toml_as_string(const struct toml_value *);
/* A string without NUL bytes as a C string, else NULL. */
const char		*toml_cstr(const struct toml_value *);

/* "string", "integer", "float", "boolean", "datetime", "array", "table" */
const char		*toml_type_name(enum toml_type);

#endif
