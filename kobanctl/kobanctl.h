/*
 * kobanctl's output backends: one for people, one for programs (-j).
 */
#ifndef KOBANCTL_H
#define KOBANCTL_H

#include "ctl.h"

struct output {
	void	(*status)(const struct ctl_status *);
	void	(*status_proc)(const struct ctl_status_proc *);
	void	(*end)(void);
};

extern const struct output	output_human;
extern const struct output	output_json;

#endif
