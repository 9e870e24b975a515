/*
 * What every child does before its own work: take the channel, drop
 * privileges, lock itself in, and tell the parent which layers hold.
 */

#include <sys/types.h>

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kobangd.h"
#include "log.h"
#include "selflimits.h"

#define CHILD_IDLE_MS	1000	/* quiet this long: the heap is trimmed */

/*
 * Did the parent close the channel?  EPIPE or ECONNRESET from the last
 * call, or a hang-up on the channel: it is shutting down (SIGTERM
 * follows) or gone, and the child leaves quietly.  errno is kept.
 */
int
child_parent_gone(struct imsgbuf *ibuf)
{
	struct pollfd	pfd;
	int		saved_errno = errno, gone = 0;

	if (saved_errno == EPIPE || saved_errno == ECONNRESET)
		gone = 1;
	else {
		pfd.fd = ibuf->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) == 1 && pfd.revents & (POLLHUP | POLLERR))
			gone = 1;
	}
	errno = saved_errno;
	return (gone);
}

/* The channel failed: quietly if the parent closed it, else fatal. */
void
child_channel_failed(struct imsgbuf *ibuf, const char *what)
{
	if (child_parent_gone(ibuf))
		exit(0);
	fatal("%s", what);
}

void
child_setup(const char *name, enum sandbox_role role, const char *user,
    struct imsgbuf *ibuf)
{
	struct child_hello	hello;
	pid_t			parent = getppid();

	log_procinit(name);

	if (imsgbuf_init(ibuf, PROC_CHANNEL_FD) == -1)
		fatal("imsgbuf_init");
	/*
	 * net gets connected sockets, scan open files, dns the sockets
	 * connected to its name servers.
	 */
	imsgbuf_allow_fdpass(ibuf);

	if (proc_drop_privs(user) == -1)
		fatal("cannot drop privileges to user %s", user);
	proc_die_with_parent(parent);
	/* Before seccomp, which does not allow setrlimit. */
	if (limits_apply(name) == -1)
		fatal("resource limits of %s", name);

	memset(&hello, 0, sizeof(hello));
	if (sandbox_apply(role, &hello.layers) == -1)
		fatal("sandbox %s", sandbox_role_name(role));
	hello.role = role;
	hello.uid = (int32_t)getuid();

	if (imsg_compose(ibuf, IMSG_CHILD_HELLO, 0, 0, -1, &hello,
	    sizeof(hello)) == -1)
		fatal("hello");
	if (imsgbuf_flush(ibuf) == -1)
		child_channel_failed(ibuf, "hello");
}

/*
 * Serve the parent until it goes away.  The dispatch function returns
 * -1 on a message it cannot accept; the parent is trusted, so that is a
 * bug or a broken channel, and the child exits.  Once nothing has come
 * for CHILD_IDLE_MS after some work, the heap's free memory goes back to
 * the kernel (scan keeps it between files while it works), so an idle
 * child weighs what it holds, not what its largest file needed.
 */
void
child_loop(struct imsgbuf *ibuf, int (*dispatch)(struct imsgbuf *))
{
	struct pollfd	pfd;
	int		worked = 0, n;

	for (;;) {
		pfd.fd = ibuf->fd;
		pfd.events = POLLIN;
		if (imsgbuf_queuelen(ibuf) > 0)
			pfd.events |= POLLOUT;
		if ((n = poll(&pfd, 1, worked ? CHILD_IDLE_MS : -1)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (n == 0) {
#ifdef __GLIBC__
			malloc_trim(0);
#endif
			worked = 0;
			continue;
		}
		worked = 1;
		if (pfd.revents & POLLOUT && imsgbuf_write(ibuf) == -1)
			child_channel_failed(ibuf, "write to parent");
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			switch (imsgbuf_read(ibuf)) {
			case -1:
				child_channel_failed(ibuf, "read from parent");
			case 0:
				/* The parent is gone: so are we. */
				exit(0);
			default:
				break;
			}
			if (dispatch(ibuf) == -1) {
				/* A reply that found the channel closed. */
				if (child_parent_gone(ibuf))
					exit(0);
				fatalx("bad message from parent");
			}
		}
	}
}
