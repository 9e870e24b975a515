/*
 * Starting, watching and restarting the child processes, and the
 * child's side of the privilege drop.
 */
#ifndef KOBANG_PROC_H
#define KOBANG_PROC_H

#include <sys/types.h>

#include <time.h>

/* The channel to the parent is always on this descriptor in a child. */
#define PROC_CHANNEL_FD		3

#define PROC_BACKOFF_MIN	1	/* seconds before the first restart */
#define PROC_BACKOFF_MAX	60
#define PROC_STABLE_SECS	60	/* up this long: backoff resets */

/*
 * fork + exec of our own binary with argv; the child gets one end of a
 * socketpair as PROC_CHANNEL_FD and a fresh address space.  Returns the
 * pid and stores the parent's end in *fdp.
 */
pid_t	proc_exec(const char *, char *const [], int *);

/* Child side: drop groups, gid and uid to the user; 0 or -1 (errno). */
int	proc_drop_privs(const char *);

/* Child side: die with the parent, even if it went before we noticed. */
void	proc_die_with_parent(pid_t);

/* Backoff bookkeeping for a process that just died. */
struct proc_backoff {
	time_t		started;	/* monotonic seconds */
	unsigned int	delay;		/* next delay in seconds */
	unsigned int	restarts;
};
time_t	proc_backoff_next(struct proc_backoff *, time_t);

time_t	proc_monotime(void);

#endif
