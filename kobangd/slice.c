/*
 * Slice jobs (slice.h) over ucontext(3): the job has its own stack, so
 * the walks of discovery keep their plain loops and local state, and a
 * pause is a context switch back to the loop.  The stack is mapped with
 * a guard page below it: a job that overruns it faults instead of
 * writing over the heap.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "slice.h"

/* Discovery's deepest frames hold a few PATH_MAX buffers each. */
#define SLICE_STACK	(512 * 1024)

static struct {
	ucontext_t		 loop, work;
	void			*map;
	size_t			 maplen;
	void			(*fn)(void *);
	void			(*done)(void *);
	void			*arg;
	struct ev_timer		 resume;
	unsigned long long	 until;		/* this slice's end (ms) */
	int			 started, inside, finished, cancelled;
} job;

static void
slice_entry(void)
{
	job.fn(job.arg);
	job.finished = 1;
	/* Returns to job.loop through uc_link. */
}

static void
slice_release(void)
{
	ev_timer_del(&job.resume);
	if (job.map != NULL)
		munmap(job.map, job.maplen);
	job.map = NULL;
	job.started = 0;
}

/* Run the job until its next pause or its end. */
static void
slice_enter(unsigned long long budget)
{
	job.until = ev_now_ms() + budget;
	job.inside = 1;
	if (swapcontext(&job.loop, &job.work) == -1)
		fatal("swapcontext");
	job.inside = 0;
}

static void
slice_resume(void *arg)
{
	void	(*done)(void *);
	void	 *darg;

	(void)arg;
	slice_enter(SLICE_MSEC);
	if (!job.finished) {
		ev_timer_add(&job.resume, 0);
		return;
	}
	done = job.done;
	darg = job.arg;
	slice_release();
	done(darg);
}

int
slice_start(void (*fn)(void *), void (*done)(void *), void *arg)
{
	long	pg = sysconf(_SC_PAGESIZE);

	if (job.started) {
		errno = EBUSY;
		return (-1);
	}
	memset(&job, 0, sizeof(job));
	job.maplen = SLICE_STACK + (size_t)pg;
	job.map = mmap(NULL, job.maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (job.map == MAP_FAILED) {
		job.map = NULL;
		return (-1);
	}
	if (mprotect(job.map, (size_t)pg, PROT_NONE) == -1 ||
	    getcontext(&job.work) == -1) {
		munmap(job.map, job.maplen);
		job.map = NULL;
		return (-1);
	}
	job.work.uc_stack.ss_sp = (char *)job.map + pg;
	job.work.uc_stack.ss_size = SLICE_STACK;
	job.work.uc_link = &job.loop;
	makecontext(&job.work, slice_entry, 0);
	job.fn = fn;
	job.done = done;
	job.arg = arg;
	job.started = 1;
	ev_timer_init(&job.resume, slice_resume, NULL);
	ev_timer_add(&job.resume, 0);
	return (0);
}

int
slice_running(void)
{
	return (job.started);
}

int
slice_pause(void)
{
	if (!job.inside)
		return (0);
	if (!job.cancelled && ev_now_ms() < job.until)
		return (0);
	if (!job.cancelled) {
		if (swapcontext(&job.work, &job.loop) == -1)
			fatal("swapcontext");
	}
	return (job.cancelled ? -1 : 0);
}

void
slice_cancel(void)
{
	if (!job.started)
		return;
	if (job.inside)
		fatalx("slice_cancel from inside the job");
	job.cancelled = 1;
	while (!job.finished)
		slice_enter(0);
	slice_release();
}
