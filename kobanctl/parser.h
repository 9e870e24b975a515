/*
 * kobanctl's command table: keywords with prefix abbreviation.
 */
#ifndef KOBANCTL_PARSER_H
#define KOBANCTL_PARSER_H

enum actions {
	NONE,
	SHOW_STATUS,
	CONFIG_CHECK,
	CONFIG_CANON,
};

struct parse_result {
	enum actions	 action;
	const char	*file;
};

const struct parse_result	*parse(int, char *[]);
void				 parser_usage(void);

#endif
