/*
 * The package formats: one row each (scan_format.c) says everything
 * kobangd knows about a lockfile or manifest format outside its parser
 * file -- the file names discovery looks for and the configuration
 * switch that gates them, the scan child's parser and how it is fed,
 * the JSON dialect, and the shape of the items the parent accepts from
 * it.  discover.c, homesignal.c, sensor.c (parser_of), scanproto.c,
 * scan_pkg.c and the regress tools read the rows; a new format is a new
 * row, its parser file and its tests -- plus its name in the two enums
 * every parser has (enum scan_parser, the wire's; enum disc_parser,
 * discovery's) and, if it has a configuration switch of its own, that
 * key in config_schema.c.
 */
#ifndef KOBANGD_SCAN_FORMAT_H
#define KOBANGD_SCAN_FORMAT_H

#include <sys/types.h>

#include <stddef.h>

#include "config.h"
#include "discover.h"
#include "json.h"
#include "scan_pkg.h"
#include "scanproto.h"
#include "vocab.h"

/* How the scan child hands the file to the parser. */
enum scan_feed {
	FEED_TEXT,	/* the whole file in memory */
	FEED_JSON	/* the streaming JSON reader */
};

/* What the parent requires of an item's version. */
enum scan_version {
	VERSION_ANY,
	VERSION_SET,	/* never nil */
	VERSION_NIL
};

typedef int	(*scan_text_fn)(const char *, size_t, int,
		    const struct scan_sink *, scan_include_fn, void *);
typedef int	(*scan_json_fn)(struct json *, const struct scan_sink *);

struct scan_format {
	const char		*name;		/* corpus SOURCES, tools */
	const char		*parser_name;	/* scan_parser_name() */
	enum surface		 surface;
	/*
	 * Exact file names of a project (SURFACES.md 7, 8), NULL-ended;
	 * none for requirement files, which come from the globs.
	 */
	const char		*files[3];
	size_t			 sw;		/* its int in struct config */
	enum disc_parser	 disc;		/* discovery's tag */
	enum scan_parser	 parser;
	enum scan_feed		 feed;
	scan_text_fn		 text;
	scan_json_fn		 json;
	int			 json_flags;	/* JSON_F_* */
	/* The items: kind (SCAN_F_CONSTRAINT makes it a constraint). */
	enum item_kind		 kind;
	const char		*origin;
	enum scan_version	 version;
	int			 detail;	/* may carry a detail */
};

extern const struct scan_format	scan_formats[];
extern const size_t		scan_nformats;

const struct scan_format *scan_format_by_name(const char *);
const struct scan_format *scan_format_by_parser(enum scan_parser);
const struct scan_format *scan_format_by_disc(enum disc_parser);
/* The format whose files[] holds name on surface s, or NULL. */
const struct scan_format *scan_format_by_file(enum surface, const char *);
/* Whether the row's configuration switch is on. */
int	 scan_format_enabled(const struct scan_format *,
	    const struct config *);

#endif
