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
	SHOW_INVENTORY,
	SHOW_EVENTS,
	SHOW_FINDINGS,
	SHOW_SURFACES,
	SCAN,
	SHOW_IDENTITY,
	ENROLL,
	CHECKIN,
	SHOW_SYNC,
	SYNC,
	RELOAD,
};

struct parse_result {
	enum actions	 action;
	const char	*file;
	int		 surface;	/* -1: not given */
	int		 severity;	/* -1: not given */
	const char	*user;
};

const struct parse_result	*parse(int, char *[]);
void				 parser_usage(void);

#endif
