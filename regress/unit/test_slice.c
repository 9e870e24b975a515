/*
 * Slice jobs (slice.h) and the event loop they run in (event.h): a long
 * job gives the loop its turns, so a descriptor that becomes ready while
 * it runs is served long before it ends; a timer that rearms itself at
 * once does not starve poll(); a cancelled job stops at its next pause
 * and its done() is never called.
 */
#include <criterion/criterion.h>

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "slice.h"

static int			 pfd[2];
static int			 job_done, fd_served, pauses, stopped;
static unsigned long long	 job_ms;		/* how long it works */
static unsigned long long	 served_at, ended_at;

static void
setup(void)
{
	cr_assert_eq(pipe(pfd), 0);
	job_done = fd_served = pauses = stopped = 0;
	served_at = ended_at = 0;
}

static void
teardown(void)
{
	ev_fd_del(pfd[0]);
	close(pfd[0]);
	close(pfd[1]);
}

static void
on_fd(int fd, short revents, void *arg)
{
	char	c;

	(void)revents;
	(void)arg;
	if (read(fd, &c, 1) == 1 && !fd_served) {
		fd_served = 1;
		served_at = ev_now_ms();
	}
}

static volatile unsigned	 busy_sink;	/* the work is not optimised away */

/* Busy work with a pause between steps, like a walk between dirs. */
static void
busy(void *arg)
{
	unsigned long long	 end = ev_now_ms() + job_ms;

	(void)arg;
	while (ev_now_ms() < end) {
		for (int i = 0; i < 10000; i++)
			busy_sink += (unsigned)i;
		pauses++;
		if (slice_pause() == -1) {
			stopped = 1;
			break;
		}
	}
	ended_at = ev_now_ms();
}

/*
 * One loop turn that cannot block: a byte on the wake pipe makes poll()
 * return at once (a timer would not do: timers run before the poll).
 */
static int	wake[2] = { -1, -1 };

static void
wake_cb(int fd, short revents, void *arg)
{
	char	c;

	(void)revents;
	(void)arg;
	if (read(fd, &c, 1) != 1)
		return;
}

static void
turn(void)
{
	if (wake[0] == -1) {
		cr_assert_eq(pipe(wake), 0);
		cr_assert_eq(ev_fd_add(wake[0], POLLIN, NULL, wake_cb, NULL),
		    0);
	}
	cr_assert_eq(write(wake[1], "w", 1), 1);
	ev_dispatch();
}

static void
done(void *arg)
{
	(void)arg;
	job_done++;
}

TestSuite(slice, .init = setup, .fini = teardown, .timeout = 20);

Test(slice, a_ready_descriptor_is_served_while_the_job_runs)
{
	unsigned long long	 start;

	cr_assert_eq(ev_fd_add(pfd[0], POLLIN, NULL, on_fd, NULL), 0);
	job_ms = 600;
	cr_assert_eq(slice_start(busy, done, NULL), 0);
	cr_assert(slice_running());
	/* Ready before the job's first turn: served in its first slices. */
	cr_assert_eq(write(pfd[1], "x", 1), 1);
	start = ev_now_ms();
	while (!job_done)
		turn();
	cr_assert_eq(job_done, 1);
	cr_assert(!slice_running());
	cr_assert(fd_served, "the descriptor was never served");
	cr_assert_lt(served_at - start, 100,
	    "served %llu ms after it was ready, the job ran %llu ms",
	    served_at - start, ended_at - start);
	cr_assert_gt(ended_at - start, 500);
	cr_assert_eq(stopped, 0);
}

static struct ev_timer	self_timer;
static int		self_runs;

static void
rearm(void *arg)
{
	(void)arg;
	self_runs++;
	ev_timer_add(&self_timer, 0);
}

Test(slice, a_timer_that_rearms_at_once_does_not_starve_poll)
{
	int	turns = 0;

	cr_assert_eq(ev_fd_add(pfd[0], POLLIN, NULL, on_fd, NULL), 0);
	ev_timer_init(&self_timer, rearm, NULL);
	ev_timer_add(&self_timer, 0);
	cr_assert_eq(write(pfd[1], "x", 1), 1);
	while (!fd_served && turns < 1000) {
		ev_dispatch();
		turns++;
	}
	ev_timer_del(&self_timer);
	cr_assert(fd_served, "poll never had its turn in %d turns", turns);
	/* One run per turn. */
	cr_assert_leq(self_runs, turns);
}

static void
far_cb(void *arg)
{
	(void)arg;
}

Test(slice, a_timer_rearmed_at_once_is_not_held_back_by_a_later_one)
{
	struct ev_timer		 far;
	unsigned long long	 start = ev_now_ms();
	int			 i;

	ev_timer_init(&far, far_cb, NULL);
	ev_timer_add(&far, 5000);
	ev_timer_init(&self_timer, rearm, NULL);
	ev_timer_add(&self_timer, 0);
	for (i = 0; i < 3; i++)
		ev_dispatch();
	ev_timer_del(&self_timer);
	ev_timer_del(&far);
	cr_assert_eq(self_runs, 3);
	cr_assert_lt(ev_now_ms() - start, 1000,
	    "three turns took %llu ms: the poll waited for the later timer",
	    ev_now_ms() - start);
}

Test(slice, a_cancelled_job_stops_at_its_next_pause_without_done)
{
	int	i;

	job_ms = 60000;
	cr_assert_eq(slice_start(busy, done, NULL), 0);
	for (i = 0; i < 3; i++)
		turn();
	cr_assert_gt(pauses, 0, "the job never ran");
	slice_cancel();
	cr_assert(!slice_running());
	cr_assert_eq(stopped, 1);
	cr_assert_eq(job_done, 0);
	/* Nothing of it is left armed. */
	for (i = 0; i < 3; i++)
		turn();
	cr_assert_eq(job_done, 0);
	/* A new job may start. */
	job_ms = 1;
	cr_assert_eq(slice_start(busy, done, NULL), 0);
	while (!job_done)
		turn();
	cr_assert_eq(job_done, 1);
}

Test(slice, pause_outside_a_job_does_nothing)
{
	cr_assert_eq(slice_pause(), 0);
	cr_assert(!slice_running());
	slice_cancel();
}
