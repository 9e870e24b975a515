/*
 * The control protocol between kobanctl and kobangd: imsg framing over
 * the UNIX control socket.  Every type is in privsep/PROTOCOL.md.
 */
#ifndef KOBANG_CTL_H
#define KOBANG_CTL_H

#include <stdint.h>

/* Bumped on any incompatible change of the messages below. */
#define CTL_PROTOCOL_VERSION	1
#define CTL_NAMELEN		16
#define CTL_VERSIONLEN		32
#define CTL_ERRLEN		256

enum ctl_imsg_type {
	IMSG_CTL_HELLO = 1000,		/* both ways, first: struct ctl_hello */
	IMSG_CTL_ERROR,			/* daemon -> ctl: NUL-terminated text */
	IMSG_CTL_END,			/* daemon -> ctl: end of a reply */
	IMSG_CTL_SHOW_STATUS,		/* ctl -> daemon: no payload */
	IMSG_CTL_STATUS,		/* daemon -> ctl: struct ctl_status */
	IMSG_CTL_STATUS_PROC,		/* daemon -> ctl: struct ctl_status_proc */
};

struct ctl_hello {
	uint32_t	protocol;	/* CTL_PROTOCOL_VERSION */
	char		version[CTL_VERSIONLEN];	/* daemon's version */
};

struct ctl_status {
	char		version[CTL_VERSIONLEN];
	int32_t		pid;
	int64_t		uptime;		/* seconds */
	int32_t		nprocs;		/* STATUS_PROC messages that follow */
};

/* Sandbox layers in force in one process, as read back, never assumed. */
struct ctl_status_proc {
	char		name[CTL_NAMELEN];
	int32_t		pid;		/* 0: not running */
	int32_t		uid;		/* -1: unknown */
	uint32_t	restarts;
	int32_t		no_new_privs;	/* 1, 0, or -1 unknown */
	int32_t		landlock_abi;	/* 0: not applied */
	int32_t		landlock_selftest;	/* 1 passed, 0 not run, -1 failed */
	int32_t		seccomp;	/* 1 filter loaded, 0 none, -1 unknown */
	int64_t		up_since;	/* seconds of uptime, 0 when down */
};

#endif
