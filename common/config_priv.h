/*
 * Inside the configuration loader: the YAML and the JSON front ends both
 * build this small document tree, and one schema walker (config_schema.c)
 * turns a tree into a struct config, so both formats follow exactly the
 * same defaulting rules and report errors the same way.
 */
#ifndef KOBANG_CONFIG_PRIV_H
#define KOBANG_CONFIG_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum cnode_type {
	CN_SCALAR,
	CN_SEQ,
	CN_MAP
};

/* How a scalar was written: decides null, boolean and integer rules. */
enum cnode_style {
	CS_NONE,		/* not a scalar */
	CS_PLAIN,		/* YAML plain */
	CS_QUOTED,		/* YAML quoted, literal or folded */
	CS_JSTRING,		/* JSON string */
	CS_JNUMBER,		/* JSON number */
	CS_JTRUE,
	CS_JFALSE,
	CS_JNULL
};

struct cnode {
	struct cnode	**kids;		/* seq: items; map: key, value, ... */
	size_t		  nkids;
	size_t		  capkids;
	char		 *s;		/* scalar text, NUL-terminated */
	size_t		  len;
	size_t		  weight;	/* nodes in the subtree, saturating */
	size_t		  bytes;	/* scalar bytes in the subtree, saturating */
	uint32_t	  line;		/* 1-based */
	uint32_t	  col;		/* 1-based */
	uint8_t		  type;
	uint8_t		  style;
	uint8_t		  complete;
};

/* Owns every node; an alias is a second pointer to a node it owns. */
struct ctree {
	struct cnode	**all;
	size_t		  n;
	size_t		  cap;
	struct cnode	 *root;		/* NULL: empty document */
};

struct cnode	*ctree_node(struct ctree *, enum cnode_type, enum cnode_style,
		    uint32_t, uint32_t);
int		 ctree_scalar(struct cnode *, const char *, size_t);
int		 ctree_add(struct cnode *, struct cnode *);
void		 ctree_free(struct ctree *);

/* One key of the schema; the tables drive loading, defaults and output. */
enum ktype {
	KT_BOOL,		/* int */
	KT_INT,			/* long long, min..max */
	KT_OPTINT,		/* long long, and an int "set" at setoff */
	KT_STR,			/* char *, at most max bytes */
	KT_OPTSTR,		/* char *, NULL: null */
	KT_LIST,		/* struct strlist */
	KT_OPTLIST,		/* struct strlist *, NULL: null */
	KT_MAP,			/* a struct described by sub */
	KT_RULES		/* struct ruleset */
};

#define KF_SET		0x01	/* list: sorted, deduplicated in JSON */
#define KF_ABS		0x02	/* absolute path */
#define KF_NAME		0x04	/* user or group name */
#define KF_STRICT	0x08	/* map: both keys required if present */
#define KF_LOCAL	0x10	/* kobangd only, not in the bundle */
#define KF_SECRET	0x20	/* freezero on free */
#define KF_PROXY	0x40	/* an HTTP proxy URL (http_proxy_parse) */
#define KF_PRINT	0x80	/* one word of visible ASCII */

struct kdef {
	const char		*name;
	enum ktype		 type;
	unsigned int		 flags;
	size_t			 off;
	size_t			 setoff;
	long long		 min;
	long long		 max;	/* KT_INT: value; strings: length */
	long long		 dint;	/* default of KT_BOOL, KT_INT */
	const char		*dstr;	/* default of KT_STR */
	const char *const	*dlist;	/* default of KT_LIST, NULL-ended */
	const char *const	*choices;	/* KT_STR: the values allowed */
	const struct kdef	*sub;
	size_t			 nsub;
};

extern const struct kdef	config_schema[];
extern const size_t		config_schema_n;

/* Apply the schema; json: the tree came from the remote bundle. */
int	config_apply(const struct ctree *, const char *, int, struct config *,
	    char *, size_t);
int	config_parse_yaml(const char *, const char *, size_t, struct ctree *,
	    char *, size_t);
int	config_base(struct config *);
int	config_default_rules(struct ruleset *);
int	config_warn(struct config *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	config_quote(char *, size_t, const char *, size_t);

/* etc/kobangd.yaml, embedded at build time (build/gen/default_config.c). */
extern const char	kobang_default_yaml[];
extern const size_t	kobang_default_yaml_len;

#endif
