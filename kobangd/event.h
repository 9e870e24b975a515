/*
 * The parent's event loop: descriptors and monotonic timers over poll(2).
 * Each subsystem (children, control socket, watcher, transport) registers
 * its own descriptors and timers here instead of editing the loop.
 */
#ifndef KOBANGD_EVENT_H
#define KOBANGD_EVENT_H

#include <sys/queue.h>

#include <time.h>

typedef void	(*ev_fd_cb)(int, short, void *);
/* Called before every poll: the events wanted now (0: none). */
typedef short	(*ev_events_cb)(void *);
typedef void	(*ev_timer_cb)(void *);

struct ev_timer {
	TAILQ_ENTRY(ev_timer)	 entry;
	struct timespec		 when;		/* CLOCK_MONOTONIC */
	ev_timer_cb		 cb;
	void			*arg;
	int			 armed;
	unsigned long		 pass;		/* ev_dispatch's, when armed */
};

/*
 * Register fd; events is fixed unless events_cb is given.  At most one
 * registration per descriptor.  0 or -1.
 */
int	ev_fd_add(int, short, ev_events_cb, ev_fd_cb, void *);
void	ev_fd_del(int);

void	ev_timer_init(struct ev_timer *, ev_timer_cb, void *);
void	ev_timer_add(struct ev_timer *, unsigned long long);	/* msec */
void	ev_timer_del(struct ev_timer *);
int	ev_timer_pending(const struct ev_timer *);

/* One poll and its callbacks; timers that are due run first. */
void	ev_dispatch(void);

/* Monotonic clock in milliseconds. */
unsigned long long	ev_now_ms(void);

#endif
