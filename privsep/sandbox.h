/*
 * The per-child sandbox: the Linux counterpart of pledge and unveil.
 *
 * A child calls sandbox_apply() once, after it has dropped to the
 * unprivileged user and opened everything it will ever need (its imsg
 * channel on fd 3, stderr, a connected syslog socket).  On Linux the
 * layers go on in this order: PR_SET_NO_NEW_PRIVS, Landlock (file
 * system, TCP ports, scopes), then a seccomp filter.  What is reported
 * in struct sandbox_layers was read back from the kernel or proven by
 * a probe, never assumed.  On OpenBSD the same call pledges and
 * unveils; on macOS it enters a sandbox profile.
 */
#ifndef KOBANG_SANDBOX_H
#define KOBANG_SANDBOX_H

#include <stdio.h>

enum sandbox_role {
	SANDBOX_NET,		/* TLS and HTTP on a socket it was handed */
	SANDBOX_SCAN,		/* parses descriptors it was handed */
	SANDBOX_DNS		/* c-ares over handed sockets, resolver files */
};

struct sandbox_layers {
	int	no_new_privs;	/* 1 if PR_GET_NO_NEW_PRIVS reads back 1 */
	int	landlock_abi;	/* Landlock ABI applied, 0 if not applied */
	int	landlock_selftest;/* 1 a probe outside the allowed set failed
				   with EACCES after restrict_self, 0 not run
				   or inconclusive, -1 the probe succeeded */
	int	seccomp;	/* 1 if PR_GET_SECCOMP reads back 2 */
	int	os_sandbox;	/* 1 if pledge/unveil (OpenBSD) or the sandbox
				   profile (macOS) is in force; 0 on Linux */
};

/*
 * The highest Landlock ABI whose rights this code knows (Linux 6.15:
 * ABI 7 added audit flags, no rights).  On a newer kernel the rules
 * of this ABI are applied and landlock_abi reports this number.
 */
#define SANDBOX_LANDLOCK_ABI_MAX	7

/* 0 ok, -1 on failure (the caller fatals). */
int		 sandbox_apply(enum sandbox_role, struct sandbox_layers *);
const char	*sandbox_role_name(enum sandbox_role);

/*
 * For regress tests and diagnostics only: no_new_privs and Landlock,
 * without seccomp, so that Landlock's own answers (EACCES on a TCP
 * connect, EPERM on a signal out of the domain) can be observed.
 * Linux only; elsewhere it fails with ENOSYS.
 */
int		 sandbox_apply_landlock(enum sandbox_role,
		    struct sandbox_layers *);

/*
 * The role's policy as text, one rule a line (seccomp rules in table
 * order, then Landlock's grants): pinned by regress/sandbox/ROLE.policy.
 */
void		 sandbox_policy_print(enum sandbox_role, FILE *);

#endif
