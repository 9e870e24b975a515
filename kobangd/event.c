/*
 * A small event loop: an array of registered descriptors polled at once,
 * a list of timers ordered by deadline.  Callbacks may add and delete
 * registrations; deleted slots are swept after each dispatch.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "log.h"

struct ev_fd {
	int		 fd;		/* -1: deleted, swept later */
	short		 events;
	ev_events_cb	 events_cb;
	ev_fd_cb	 cb;
	void		*arg;
};

static struct ev_fd	*ev_fds;
static struct pollfd	*ev_pfds;
static size_t		 ev_nfds, ev_capfds;
static TAILQ_HEAD(, ev_timer) ev_timers = TAILQ_HEAD_INITIALIZER(ev_timers);
static unsigned long	 ev_pass;	/* ev_run_timers() passes */

unsigned long long
ev_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return ((unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int
ev_fd_add(int fd, short events, ev_events_cb events_cb, ev_fd_cb cb,
    void *arg)
{
	size_t	i;

	for (i = 0; i < ev_nfds; i++)
		if (ev_fds[i].fd == fd) {
			errno = EEXIST;
			return (-1);
		}
	if (ev_nfds == ev_capfds) {
		size_t		 ncap = ev_capfds ? ev_capfds * 2 : 16;
		struct ev_fd	*nf;
		struct pollfd	*np;

		if ((nf = reallocarray(ev_fds, ncap, sizeof(*nf))) == NULL)
			return (-1);
		ev_fds = nf;
		if ((np = reallocarray(ev_pfds, ncap, sizeof(*np))) == NULL)
			return (-1);
		ev_pfds = np;
		ev_capfds = ncap;
	}
	ev_fds[ev_nfds].fd = fd;
	ev_fds[ev_nfds].events = events;
	ev_fds[ev_nfds].events_cb = events_cb;
	ev_fds[ev_nfds].cb = cb;
	ev_fds[ev_nfds].arg = arg;
	ev_nfds++;
	return (0);
}

void
ev_fd_del(int fd)
{
	size_t	i;

	for (i = 0; i < ev_nfds; i++)
		if (ev_fds[i].fd == fd)
			ev_fds[i].fd = -1;
}

void
ev_timer_init(struct ev_timer *t, ev_timer_cb cb, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->cb = cb;
	t->arg = arg;
}

void
ev_timer_del(struct ev_timer *t)
{
	if (t->armed) {
		TAILQ_REMOVE(&ev_timers, t, entry);
		t->armed = 0;
	}
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec));
}

void
ev_timer_add(struct ev_timer *t, unsigned long long msec)
{
	struct ev_timer	*it;
	unsigned long long at = ev_now_ms() + msec;

	ev_timer_del(t);
	t->pass = ev_pass;
	t->when.tv_sec = (time_t)(at / 1000);
	t->when.tv_nsec = (long)(at % 1000) * 1000000;
	TAILQ_FOREACH(it, &ev_timers, entry)
		if (ts_before(&t->when, &it->when))
			break;
	if (it == NULL)
		TAILQ_INSERT_TAIL(&ev_timers, t, entry);
	else
		TAILQ_INSERT_BEFORE(it, t, entry);
	t->armed = 1;
}

int
ev_timer_pending(const struct ev_timer *t)
{
	return (t->armed);
}

/*
 * Run the timers that are due, except those (re)armed by a callback of
 * this same pass: a timer that rearms itself at once (a slice job,
 * slice.h) gets one run per turn, and poll() its turn in between.
 * The poll timeout in ms, 0 when a timer is left due, -1: none armed.
 */
static int
ev_run_timers(void)
{
	struct ev_timer		*t;
	unsigned long long	 now = ev_now_ms(), when;
	int			 left;

	ev_pass++;
 again:
	left = 0;
	TAILQ_FOREACH(t, &ev_timers, entry) {
		when = (unsigned long long)t->when.tv_sec * 1000 +
		    (unsigned long long)t->when.tv_nsec / 1000000;
		if (when > now) {
			/* A due timer left for the next turn: no wait. */
			if (left)
				return (0);
			/* Wake no later than the deadline, rounded up. */
			return ((int)(when - now > 60000 ? 60000 : when - now));
		}
		if (t->pass == ev_pass) {
			left = 1;
			continue;
		}
		ev_timer_del(t);
		t->cb(t->arg);
		now = ev_now_ms();
		/* The callback may have changed the list. */
		goto again;
	}
	/* Only timers of this pass are left due, or none at all. */
	return (TAILQ_EMPTY(&ev_timers) ? -1 : 0);
}

static void
ev_sweep(void)
{
	size_t	i, j = 0;

	for (i = 0; i < ev_nfds; i++)
		if (ev_fds[i].fd != -1)
			ev_fds[j++] = ev_fds[i];
	ev_nfds = j;
}

void
ev_dispatch(void)
{
	size_t	i, n;
	int	timeout;

	timeout = ev_run_timers();
	ev_sweep();
	n = ev_nfds;
	for (i = 0; i < n; i++) {
		ev_pfds[i].fd = ev_fds[i].fd;
		ev_pfds[i].events = ev_fds[i].events_cb != NULL ?
		    ev_fds[i].events_cb(ev_fds[i].arg) : ev_fds[i].events;
		ev_pfds[i].revents = 0;
		if (ev_pfds[i].events == 0)
			ev_pfds[i].fd = -1;
	}
	if (poll(ev_pfds, n, timeout) == -1) {
		if (errno == EINTR)
			return;
		fatal("poll");
	}
	/* Entries added by callbacks sit past n and wait for the next poll. */
	for (i = 0; i < n; i++) {
		if (ev_pfds[i].revents == 0 || ev_fds[i].fd == -1 ||
		    ev_fds[i].fd != ev_pfds[i].fd)
			continue;
		ev_fds[i].cb(ev_fds[i].fd, ev_pfds[i].revents, ev_fds[i].arg);
	}
}
