/*
 * Long work in the parent, in bounded slices between event-loop turns.
 *
 * The parent is one thread with one event loop; a walk of a large home
 * (discovery) would hold the control socket, the transport and the
 * children's channels for as long as it runs.  A slice job runs on a
 * stack of its own: the work calls slice_pause() at points where it
 * holds nothing half-done (between directories), and once its slice
 * (SLICE_MSEC) is used up, the pause returns to the event loop, which
 * resumes the work on its next turn after serving whatever is ready.
 *
 * One job at a time.  Outside a job slice_pause() does nothing, so the
 * same work can also be run straight through (the unit tests do).
 */
#ifndef KOBANGD_SLICE_H
#define KOBANGD_SLICE_H

#define SLICE_MSEC	4

/*
 * Start fn(arg) as the job; it first runs on the next loop turn.  When
 * fn returns, done(arg) is called from the loop.  0, or -1 (no memory
 * for the stack, or a job is running).
 */
int	slice_start(void (*fn)(void *), void (*done)(void *), void *);

/* 1 while a job has been started and has not finished. */
int	slice_running(void);

/*
 * In the job: give the loop its turn if this slice is used up.  0 to
 * go on; -1 when the job was cancelled: the work is to stop as soon as
 * it can (what it found so far is discarded by whoever cancelled).
 */
int	slice_pause(void);

/*
 * From the loop: the job's work stops at its next pause and is run to
 * its end now; done() is not called.  Nothing when no job runs.
 */
void	slice_cancel(void);

#endif
