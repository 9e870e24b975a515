/*
 * The inventory item (RULES.md 2): what scan produces, the differ compares,
 * the rule engine judges and the store keeps.
 */
#ifndef KOBANG_ITEM_H
#define KOBANG_ITEM_H

#include "vocab.h"

/* Tri-state for provenance.installedOnRequest. */
#define ITEM_BOOL_NIL	(-1)

struct item {
	enum surface	 surface;
	enum item_kind	 kind;
	char		*name;
	char		*version;		/* NULL: nil */
	char		*path;			/* absolute */
	char		*origin;		/* never NULL, may be "" */
	int		 installed_on_request;	/* 0, 1 or ITEM_BOOL_NIL */
	char		*detail;		/* NULL: nil */
};

#endif
