/*
 * The command table, after bgpctl: each token names what may follow it.
 * A word abbreviates any keyword it is a prefix of; an exact match wins,
 * otherwise the first keyword in table order does, so "s" means "show".
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "parser.h"
#include "vocab.h"

enum token_type {
	ENDTOKEN,
	KEYWORD,
	FILENAME,
	NOTOKEN,	/* first in a table: the arguments are optional */
	SURFACE,	/* a surface name, or a prefix of one */
	SEVERITY,	/* a severity name, or a prefix of one */
	USERNAME,	/* any word */
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	enum actions		 value;
	const struct token	*next;
	const char		*help;
};

static const struct token t_main[];
static const struct token t_show[];
static const struct token t_config[];
static const struct token t_file[];
static const struct token t_inventory[];
static const struct token t_user[];
static const struct token t_findings[];
static const struct token t_scan[];

static const struct token t_main[] = {
	{ KEYWORD,	"show",		NONE,		t_show,
	    "show what kobangd knows" },
	{ KEYWORD,	"config",	NONE,		t_config,
	    "work on a configuration file, without the daemon" },
	{ KEYWORD,	"scan",		SCAN,		t_scan,
	    "rescan one surface, or all, now (root only)" },
	{ KEYWORD,	"enroll",	ENROLL,		NULL,
	    "enroll with the token on standard input (root only)" },
	{ KEYWORD,	"check-in",	CHECKIN,	NULL,
	    "check in with Fleet now and wait for the answer (root only)" },
	{ KEYWORD,	"sync",		SYNC,		NULL,
	    "upload a batch (or check in) now and wait (root only)" },
	{ KEYWORD,	"reload",	RELOAD,		NULL,
	    "read the configuration file again; a bad one is refused "
	    "(root only)" },
	{ ENDTOKEN,	NULL,		NONE,		NULL,	NULL }
};

static const struct token t_show[] = {
	{ KEYWORD,	"status",	SHOW_STATUS,	NULL,
	    "version, configuration, processes, sandbox layers, memory" },
	{ KEYWORD,	"inventory",	SHOW_INVENTORY,	t_inventory,
	    "the current inventory, of one surface or user" },
	{ KEYWORD,	"events",	SHOW_EVENTS,	NULL,
	    "what changed, newest first" },
	{ KEYWORD,	"findings",	SHOW_FINDINGS,	t_findings,
	    "findings, newest first, at or above a severity" },
	{ KEYWORD,	"surfaces",	SHOW_SURFACES,	NULL,
	    "per surface: items, last scan, issues, health" },
	{ KEYWORD,	"identity",	SHOW_IDENTITY,	NULL,
	    "enrollment, tenant, device, key and certificate" },
	{ KEYWORD,	"sync",		SHOW_SYNC,	NULL,
	    "check-in and sync results, the outbox, the next attempt" },
	{ ENDTOKEN,	NULL,		NONE,		NULL,	NULL }
};

static const struct token t_inventory[] = {
	{ NOTOKEN,	"",		NONE,		NULL,	NULL },
	{ SURFACE,	"surface",	NONE,		t_user,	NULL },
	{ USERNAME,	"user",		NONE,		NULL,	NULL },
	{ ENDTOKEN,	NULL,		NONE,		NULL,	NULL }
};

static const struct token t_user[] = {
	{ NOTOKEN,	"",		NONE,		NULL,	NULL },
	{ USERNAME,	"user",		NONE,		NULL,	NULL },
	{ ENDTOKEN,	NULL,		NONE,		NULL,	NULL }
};

static const struct token t_findings[] = {
	{ NOTOKEN,	"",		NONE,		NULL,	NULL },
	{ SEVERITY,	"severity",	NONE,		NULL,	NULL },
	{ ENDTOKEN,	NULL,		NONE,		NULL,	NULL }
};

static const struct token t_scan[] = {
	{ NOTOKEN,	"",		NONE,		NULL,	NULL },
	{ SURFACE,	"surface",	NONE,		NULL,	NULL },
	{ ENDTOKEN,	NULL,		NONE,		NULL,	NULL }
};

static const struct token t_config[] = {
	{ KEYWORD,	"check",	CONFIG_CHECK,	t_file,
	    "validate FILE; print its first error with line and column" },
	{ KEYWORD,	"canon",	CONFIG_CANON,	t_file,
	    "print FILE as the canonical JSON bundle Fleet serves" },
	{ ENDTOKEN,	NULL,		NONE,		NULL,	NULL }
};

static const struct token t_file[] = {
	{ FILENAME,	"FILE",		NONE,		NULL,	NULL },
	{ ENDTOKEN,	NULL,		NONE,		NULL,	NULL }
};

static struct parse_result	res;

static void
show_valid_args(const struct token *table)
{
	int	i;

	for (i = 0; table[i].type != ENDTOKEN; i++) {
		if (table[i].type == NOTOKEN)
			fprintf(stderr, "  (nothing)\n");
		else if (table[i].type == KEYWORD)
			fprintf(stderr, "  %s\n", table[i].keyword);
		else
			fprintf(stderr, "  <%s>\n", table[i].keyword);
	}
}

/* An exact name, else the first name in the list it is a prefix of. */
static int
match_name(const char *word, const char *(*name)(int), int n)
{
	size_t	len = strlen(word);
	int	i, first = -1;

	for (i = 0; i < n; i++) {
		if (strcmp(word, name(i)) == 0)
			return (i);
		if (first == -1 && len > 0 && strncmp(word, name(i), len) == 0)
			first = i;
	}
	return (first);
}

static const char *
surface_at(int i)
{
	return (surface_name((enum surface)i));
}

static const char *
severity_at(int i)
{
	return (severity_name((enum severity)i));
}

static const struct token *
match_token(const char *word, const struct token *table)
{
	const struct token	*t = NULL;
	size_t			 len = strlen(word);
	int			 i, v;

	for (i = 0; table[i].type != ENDTOKEN; i++) {
		switch (table[i].type) {
		case KEYWORD:
			if (strcmp(word, table[i].keyword) == 0)
				return (&table[i]);
			if (t == NULL && len > 0 &&
			    strncmp(word, table[i].keyword, len) == 0)
				t = &table[i];
			break;
		case FILENAME:
		case USERNAME:
			if (t == NULL)
				t = &table[i];
			break;
		case SURFACE:
			if ((v = match_name(word, surface_at,
			    SURFACE_COUNT)) != -1) {
				res.surface = v;
				return (&table[i]);
			}
			break;
		case SEVERITY:
			if ((v = match_name(word, severity_at,
			    SEVERITY_COUNT)) != -1) {
				res.severity = v;
				return (&table[i]);
			}
			break;
		case NOTOKEN:
		case ENDTOKEN:
			break;
		}
	}
	if (t != NULL && t->type == FILENAME)
		res.file = word;
	if (t != NULL && t->type == USERNAME)
		res.user = word;
	return (t);
}

const struct parse_result *
parse(int argc, char *argv[])
{
	const struct token	*table = t_main, *match;

	memset(&res, 0, sizeof(res));
	res.surface = -1;
	res.severity = -1;
	for (; argc > 0; argc--, argv++) {
		if ((match = match_token(argv[0], table)) == NULL) {
			fprintf(stderr, "kobanctl: unknown argument \"%s\"; "
			    "valid here:\n", argv[0]);
			show_valid_args(table);
			return (NULL);
		}
		if (match->value != NONE)
			res.action = match->value;
		table = match->next;
		if (table == NULL)
			break;
	}
	if (argc > 1) {
		fprintf(stderr, "kobanctl: unexpected argument \"%s\"\n",
		    argv[1]);
		return (NULL);
	}
	if (table != NULL && table[0].type != ENDTOKEN &&
	    table[0].type != NOTOKEN) {
		fprintf(stderr, "kobanctl: missing argument; valid here:\n");
		show_valid_args(table);
		return (NULL);
	}
	return (&res);
}

/* " [surface] [user]" for a chain of optional arguments. */
static void
usage_optional(const struct token *table, char *buf, size_t len)
{
	while (table != NULL && table[0].type == NOTOKEN) {
		snprintf(buf + strlen(buf), len - strlen(buf), " [%s]",
		    table[1].keyword);
		table = table[1].next;
	}
}

static void
usage_table(const struct token *table, const char *prefix)
{
	char	buf[128];
	int	i;

	for (i = 0; table[i].type != ENDTOKEN; i++) {
		if (table[i].type == FILENAME) {
			continue;
		}
		snprintf(buf, sizeof(buf), "%s%s%s", prefix,
		    prefix[0] ? " " : "", table[i].keyword);
		if (table[i].next != NULL && table[i].next[0].type == FILENAME)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			    " %s", table[i].next[0].keyword);
		if (table[i].next != NULL && table[i].next[0].type == NOTOKEN)
			usage_optional(table[i].next, buf, sizeof(buf));
		if (table[i].next != NULL && table[i].next[0].type == KEYWORD)
			usage_table(table[i].next, buf);
		else
			fprintf(stderr, "  %-28s %s\n", buf,
			    table[i].help ? table[i].help : "");
	}
}

void
parser_usage(void)
{
	usage_table(t_main, "");
	fprintf(stderr, "Any keyword may be shortened to a prefix; where several "
	    "match, the first\nlisted wins (\"s s\" is \"show status\").\n");
}
