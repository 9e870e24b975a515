/*
 * What every child does before its own work: take the channel, drop
 * privileges, lock itself in, and tell the parent which layers hold.
 */

#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kobangd.h"
#include "log.h"

void
child_setup(const char *name, enum sandbox_role role, const char *user,
    struct imsgbuf *ibuf)
{
	struct child_hello	hello;
	pid_t			parent = getppid();

	log_procinit(name);

	if (imsgbuf_init(ibuf, PROC_CHANNEL_FD) == -1)
		fatal("imsgbuf_init");
	/* net gets connected sockets, scan open files; dns nothing. */
	if (role == SANDBOX_SCAN || role == SANDBOX_NET)
		imsgbuf_allow_fdpass(ibuf);

	if (proc_drop_privs(user) == -1)
		fatal("cannot drop privileges to user %s", user);
	proc_die_with_parent(parent);

	memset(&hello, 0, sizeof(hello));
	if (sandbox_apply(role, &hello.layers) == -1)
		fatal("sandbox %s", sandbox_role_name(role));
	hello.role = role;
	hello.uid = (int32_t)getuid();

	if (imsg_compose(ibuf, IMSG_CHILD_HELLO, 0, 0, -1, &hello,
	    sizeof(hello)) == -1 || imsgbuf_flush(ibuf) == -1)
		fatal("hello");
}

/*
 * Serve the parent until it goes away.  The dispatch function returns
 * -1 on a message it cannot accept; the parent is trusted, so that is a
 * bug or a broken channel, and the child exits.
 */
void
child_loop(struct imsgbuf *ibuf, int (*dispatch)(struct imsgbuf *))
{
	struct pollfd	pfd;

	for (;;) {
		pfd.fd = ibuf->fd;
		pfd.events = POLLIN;
		if (imsgbuf_queuelen(ibuf) > 0)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd.revents & POLLOUT && imsgbuf_write(ibuf) == -1)
			fatal("write to parent");
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			switch (imsgbuf_read(ibuf)) {
			case -1:
				fatal("read from parent");
			case 0:
				/* The parent is gone: so are we. */
				exit(0);
			default:
				break;
			}
			if (dispatch(ibuf) == -1)
				fatalx("bad message from parent");
		}
	}
}
