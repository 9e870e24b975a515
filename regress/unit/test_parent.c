/*
 * The parent's side of a child channel: a child that sends something
 * malformed is cut off and killed, and the parent carries on.  The
 * "child" here is a real process (so the kill can be observed) and the
 * bytes are written raw onto its channel.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "kobangd.h"

static struct kobangd	kd;
static struct child	*c;
static int		peer = -1;

static void
setup(void)
{
	int	sp[2];
	pid_t	pid;

	memset(&kd, 0, sizeof(kd));
	parent_init_children(&kd);
	c = &kd.children[CHILD_NET];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	/* A stand-in child that waits to be killed. */
	if ((pid = fork()) == 0) {
		/* Holding the channel open would hide the EOF tests look for. */
		close(sp[0]);
		close(sp[1]);
		for (;;)
			pause();
	}
	cr_assert_gt(pid, 0);
	c->pid = pid;
	cr_assert_eq(imsgbuf_init(&c->ibuf, sp[0]), 0);
	c->channel_open = 1;
	peer = sp[1];
}

static void
teardown(void)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	if (c->channel_open) {
		imsgbuf_clear(&c->ibuf);
		close(c->ibuf.fd);
	}
	close(peer);
}

static void
send_raw(uint32_t type, uint32_t len, const void *data, size_t datalen)
{
	uint32_t	hdr[4] = { type, len, 0, 0 };

	cr_assert_eq(write(peer, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	if (datalen > 0)
		cr_assert_eq(write(peer, data, datalen), (ssize_t)datalen);
}

static void
send_hello(void)
{
	struct child_hello	h;

	memset(&h, 0, sizeof(h));
	h.role = SANDBOX_NET;
	h.uid = 1000;
	send_raw(IMSG_CHILD_HELLO, IMSG_HEADER_SIZE + sizeof(h), &h,
	    sizeof(h));
}

/* Let the parent read what is on the channel, as its poll loop would. */
static void
parent_reads(void)
{
	struct pollfd	pfd = { c->ibuf.fd, POLLIN, 0 };

	cr_assert_eq(poll(&pfd, 1, 1000), 1);
	parent_child_io(&kd, c, pfd.revents);
}

static void
assert_cut_off(void)
{
	int	status;

	cr_assert_eq(c->channel_open, 0, "channel still open");
	cr_assert_eq(waitpid(c->pid, &status, 0), c->pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "child not killed");
	c->pid = 0;
}

TestSuite(parent, .init = setup, .fini = teardown);

Test(parent, good_hello_accepted)
{
	send_hello();
	parent_reads();
	cr_assert_eq(c->channel_open, 1);
	cr_assert_eq(c->hello, 1);
	cr_assert_eq(c->report.uid, 1000);
	cr_assert_eq(kill(c->pid, 0), 0, "child was killed");
}

Test(parent, hello_wrong_size)
{
	char	buf[sizeof(struct child_hello) - 1];

	memset(buf, 0, sizeof(buf));
	send_raw(IMSG_CHILD_HELLO, IMSG_HEADER_SIZE + sizeof(buf), buf,
	    sizeof(buf));
	parent_reads();
	assert_cut_off();
}

Test(parent, hello_too_long)
{
	char	buf[sizeof(struct child_hello) + 4];

	memset(buf, 0, sizeof(buf));
	send_raw(IMSG_CHILD_HELLO, IMSG_HEADER_SIZE + sizeof(buf), buf,
	    sizeof(buf));
	parent_reads();
	assert_cut_off();
}

Test(parent, hello_wrong_role)
{
	struct child_hello	h;

	memset(&h, 0, sizeof(h));
	h.role = SANDBOX_SCAN;
	send_raw(IMSG_CHILD_HELLO, IMSG_HEADER_SIZE + sizeof(h), &h,
	    sizeof(h));
	parent_reads();
	assert_cut_off();
}

Test(parent, second_hello)
{
	send_hello();
	parent_reads();
	cr_assert_eq(c->hello, 1);
	send_hello();
	parent_reads();
	assert_cut_off();
}

Test(parent, unknown_type)
{
	send_hello();
	parent_reads();
	send_raw(4242, IMSG_HEADER_SIZE, NULL, 0);
	parent_reads();
	assert_cut_off();
}

Test(parent, message_before_hello)
{
	send_raw(4242, IMSG_HEADER_SIZE, NULL, 0);
	parent_reads();
	assert_cut_off();
}

Test(parent, length_larger_than_maximum)
{
	send_raw(IMSG_CHILD_HELLO, IMSG_MAXSIZE + 1, NULL, 0);
	parent_reads();
	assert_cut_off();
}

Test(parent, length_smaller_than_header)
{
	send_raw(IMSG_CHILD_HELLO, 3, NULL, 0);
	parent_reads();
	assert_cut_off();
}

Test(parent, missing_descriptor)
{
	struct child_hello	h;

	memset(&h, 0, sizeof(h));
	h.role = SANDBOX_NET;
	/* The mark says a descriptor travels with it; none does. */
	send_raw(IMSG_CHILD_HELLO, (IMSG_HEADER_SIZE + sizeof(h)) |
	    IMSG_FD_MARK, &h, sizeof(h));
	parent_reads();
	assert_cut_off();
}

Test(parent, unexpected_descriptor)
{
	struct child_hello	 h;
	uint32_t		 hdr[4];
	struct msghdr		 msg;
	struct iovec		 iov[2];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}			 cmsgbuf;
	struct cmsghdr		*cmsg;
	int			 fd = open("/dev/null", O_RDONLY);

	memset(&h, 0, sizeof(h));
	h.role = SANDBOX_NET;
	hdr[0] = IMSG_CHILD_HELLO;
	hdr[1] = (IMSG_HEADER_SIZE + sizeof(h)) | IMSG_FD_MARK;
	hdr[2] = hdr[3] = 0;
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = &h;
	iov[1].iov_len = sizeof(h);
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	msg.msg_control = &cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	cr_assert_gt(sendmsg(peer, &msg, 0), 0);
	close(fd);

	parent_reads();
	assert_cut_off();
}

Test(parent, eof_closes_channel_only)
{
	close(peer);
	peer = -1;
	parent_reads();
	cr_assert_eq(c->channel_open, 0);
	/* EOF alone is a dying child, reaped via SIGCHLD, not killed here. */
	cr_assert_eq(kill(c->pid, 0), 0);
}

Test(parent, restart_backoff)
{
	struct proc_backoff	b = { 0 };

	b.started = 1000;
	cr_assert_eq(proc_backoff_next(&b, 1001), 1001 + PROC_BACKOFF_MIN);
	b.started = 1002;
	cr_assert_eq(proc_backoff_next(&b, 1003), 1003 + 2);
	b.started = 1005;
	cr_assert_eq(proc_backoff_next(&b, 1006), 1006 + 4);
	/* Up for longer than PROC_STABLE_SECS: back to the minimum. */
	b.started = 2000;
	cr_assert_eq(proc_backoff_next(&b, 2000 + PROC_STABLE_SECS),
	    2000 + PROC_STABLE_SECS + PROC_BACKOFF_MIN);
	cr_assert_eq(b.restarts, 4);
}
