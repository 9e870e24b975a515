/*
 * imsg over a socketpair: framing, descriptor attachment, limits and the
 * failure modes a hostile or dying peer can cause.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "imsg.h"

struct chan {
	int		sp[2];
	struct imsgbuf	a;	/* sender, on sp[0] */
	struct imsgbuf	b;	/* receiver, on sp[1] */
};

static void
chan_open(struct chan *c, int fdpass)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, c->sp), 0);
	cr_assert_eq(imsgbuf_init(&c->a, c->sp[0]), 0);
	cr_assert_eq(imsgbuf_init(&c->b, c->sp[1]), 0);
	if (fdpass) {
		imsgbuf_allow_fdpass(&c->a);
		imsgbuf_allow_fdpass(&c->b);
	}
}

static void
chan_close(struct chan *c)
{
	imsgbuf_clear(&c->a);
	imsgbuf_clear(&c->b);
	close(c->sp[0]);
	close(c->sp[1]);
}

static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	cr_assert_not_null(d = opendir("/proc/self/fd"));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

static ino_t
fd_ino(int fd)
{
	struct stat	st;

	cr_assert_eq(fstat(fd, &st), 0);
	return (st.st_ino);
}

static int
fd_is_open(int fd)
{
	return (fcntl(fd, F_GETFD) != -1);
}

/* A raw header as a broken or hostile peer might write it. */
static void
raw_hdr(void *p, uint32_t type, uint32_t len, uint32_t peerid, uint32_t pid)
{
	struct imsg_hdr	hdr;

	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.pid = pid;
	memcpy(p, &hdr, sizeof(hdr));
}

static void
write_all(int fd, const void *p, size_t len)
{
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
}

/* sendmsg() of raw bytes with nfd descriptors attached. */
static void
send_raw(int sock, const void *p, size_t len, const int *fds, int nfd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfd > 0) {
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfd);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfd);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfd);
	}
	cr_assert_eq(sendmsg(sock, &msg, 0), (ssize_t)len);
}

/* Write and read alternately until nothing is left in between. */
static void
pump(struct chan *c)
{
	int	i, pending = 0;

	for (i = 0; i < 100000; i++) {
		cr_assert_eq(imsgbuf_write(&c->a), 0);
		cr_assert_eq(imsgbuf_read(&c->b), 1);
		cr_assert_eq(ioctl(c->sp[1], FIONREAD, &pending), 0);
		if (imsgbuf_queuelen(&c->a) == 0 && pending == 0)
			break;
	}
	cr_assert_eq(imsgbuf_queuelen(&c->a), 0);
	cr_assert_eq(pending, 0);
}

static void
expect_msg(struct imsgbuf *ib, uint32_t type, const void *data, size_t len)
{
	struct imsg	imsg;

	cr_assert_eq(imsg_get(ib, &imsg), (ssize_t)(IMSG_HEADER_SIZE + len));
	cr_assert_eq(imsg_get_type(&imsg), type);
	cr_assert_eq(imsg_get_len(&imsg), len);
	cr_assert_eq(imsg_get_fd(&imsg), -1);
	if (len > 0)
		cr_assert_eq(memcmp(imsg.data, data, len), 0);
	else
		cr_assert_null(imsg.data);
	imsg_free(&imsg);
}

Test(imsg, roundtrip_fields)
{
	struct chan	c;
	struct imsg	imsg;
	const char	payload[] = "payload";
	char		out[sizeof(payload)];

	chan_open(&c, 0);
	cr_assert_eq(imsg_compose(&c.a, 7, 42, 0, -1, payload,
	    sizeof(payload)), 1);
	cr_assert_eq(imsg_compose(&c.a, 8, 43, 1234, -1, NULL, 0), 1);
	cr_assert_eq(imsgbuf_queuelen(&c.a), 2);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	cr_assert_eq(imsgbuf_queuelen(&c.a), 0);
	cr_assert_eq(imsgbuf_read(&c.b), 1);

	cr_assert_eq(imsg_get(&c.b, &imsg),
	    (ssize_t)(IMSG_HEADER_SIZE + sizeof(payload)));
	cr_assert_eq(imsg_get_type(&imsg), 7);
	cr_assert_eq(imsg_get_id(&imsg), 42);
	cr_assert_eq(imsg_get_pid(&imsg), getpid());
	cr_assert_eq(imsg.hdr.len, IMSG_HEADER_SIZE + sizeof(payload));
	cr_assert_eq(imsg_get_data(&imsg, out, sizeof(out)), 0);
	cr_assert_str_eq(out, payload);
	cr_assert_eq(imsg_get_len(&imsg), 0);
	imsg_free(&imsg);

	cr_assert_eq(imsg_get(&c.b, &imsg), (ssize_t)IMSG_HEADER_SIZE);
	cr_assert_eq(imsg_get_type(&imsg), 8);
	cr_assert_eq(imsg_get_pid(&imsg), 1234);
	cr_assert_null(imsg.data);
	imsg_free(&imsg);
	imsg_free(&imsg);	/* harmless twice */

	cr_assert_eq(imsg_get(&c.b, &imsg), 0);
	chan_close(&c);
}

Test(imsg, nonblocking_after_init)
{
	struct chan	c;

	chan_open(&c, 0);
	cr_assert(fcntl(c.sp[0], F_GETFL) & O_NONBLOCK);
	cr_assert(fcntl(c.sp[1], F_GETFL) & O_NONBLOCK);
	/* Nothing there: EAGAIN is success with nothing read. */
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	chan_close(&c);
}

Test(imsg, many_messages_per_read)
{
	struct chan	c;
	struct imsg	imsg;
	uint32_t	i, v;

	chan_open(&c, 0);
	for (i = 0; i < 500; i++)
		cr_assert_eq(imsg_compose(&c.a, 1, i, 0, -1, &i,
		    sizeof(i)), 1);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	/* 500 * 20 bytes fit one read. */
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	for (i = 0; i < 500; i++) {
		cr_assert_eq(imsg_get(&c.b, &imsg), 20);
		cr_assert_eq(imsg_get_id(&imsg), i);
		cr_assert_eq(imsg_get_data(&imsg, &v, sizeof(v)), 0);
		cr_assert_eq(v, i);
		imsg_free(&imsg);
	}
	cr_assert_eq(imsg_get(&c.b, &imsg), 0);
	chan_close(&c);
}

Test(imsg, one_byte_at_a_time)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 stream[16 + 5 + 16 + 16 + 300];
	size_t		 ends[3], off = 0, i;
	int		 got = 0;
	ssize_t		 n;

	chan_open(&c, 0);
	raw_hdr(stream, 1, 16 + 5, 0, 0);
	memcpy(stream + 16, "abcde", 5);
	ends[0] = off = 16 + 5;
	raw_hdr(stream + off, 2, 16, 0, 0);
	ends[1] = off += 16;
	raw_hdr(stream + off, 3, 16 + 300, 0, 0);
	memset(stream + off + 16, 'x', 300);
	ends[2] = off += 16 + 300;
	cr_assert_eq(off, sizeof(stream));

	for (i = 0; i < sizeof(stream); i++) {
		write_all(c.sp[0], stream + i, 1);
		cr_assert_eq(imsgbuf_read(&c.b), 1);
		n = imsg_get(&c.b, &imsg);
		if (i + 1 == ends[got]) {
			cr_assert_gt(n, 0, "message %d not complete at %zu",
			    got, i + 1);
			cr_assert_eq(imsg_get_type(&imsg), (uint32_t)got + 1);
			cr_assert_eq((size_t)n, ends[got] -
			    (got > 0 ? ends[got - 1] : 0));
			imsg_free(&imsg);
			got++;
			n = imsg_get(&c.b, &imsg);
		}
		cr_assert_eq(n, 0, "early message at byte %zu", i + 1);
	}
	cr_assert_eq(got, 3);
	chan_close(&c);
}

Test(imsg, eof_mid_message)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[16 + 16 + 10];

	chan_open(&c, 0);
	raw_hdr(buf, 1, 16, 0, 0);
	raw_hdr(buf + 16, 2, 16 + 100, 0, 0);	/* only 10 of 100 follow */
	memset(buf + 32, 'y', 10);
	write_all(c.sp[0], buf, sizeof(buf));
	shutdown(c.sp[0], SHUT_WR);

	cr_assert_eq(imsgbuf_read(&c.b), 1);
	cr_assert_eq(imsgbuf_read(&c.b), 0);
	expect_msg(&c.b, 1, NULL, 0);
	cr_assert_eq(imsg_get(&c.b, &imsg), 0);
	cr_assert_eq(imsgbuf_read(&c.b), 0);
	cr_assert_eq(imsg_get(&c.b, &imsg), 0);
	chan_close(&c);
}

Test(imsg, eof_mid_header)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[16];

	chan_open(&c, 0);
	raw_hdr(buf, 1, 16, 0, 0);
	write_all(c.sp[0], buf, 9);
	close(c.sp[0]);
	c.sp[0] = -1;
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	cr_assert_eq(imsgbuf_read(&c.b), 0);
	cr_assert_eq(imsg_get(&c.b, &imsg), 0);
	chan_close(&c);
}

Test(imsg, header_len_above_maxsize)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[32];

	chan_open(&c, 0);
	raw_hdr(buf, 1, 16, 0, 0);		/* a good one first */
	raw_hdr(buf + 16, 2, IMSG_MAXSIZE + 1, 0, 0);
	write_all(c.sp[0], buf, sizeof(buf));
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	expect_msg(&c.b, 1, NULL, 0);
	errno = 0;
	cr_assert_eq(imsg_get(&c.b, &imsg), -1);
	cr_assert(errno == EBADMSG || errno == ERANGE);
	/* The stream stays broken. */
	cr_assert_eq(imsg_get(&c.b, &imsg), -1);
	cr_assert_eq(imsgbuf_read(&c.b), -1);
	chan_close(&c);
}

Test(imsg, header_len_huge_and_marked)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[16];

	chan_open(&c, 1);
	/* 0xffffffff: the mark plus a length far above any limit. */
	raw_hdr(buf, 1, UINT32_MAX, 0, 0);
	write_all(c.sp[0], buf, sizeof(buf));
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	cr_assert_eq(imsg_get(&c.b, &imsg), -1);
	chan_close(&c);
}

Test(imsg, header_len_below_header)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[16];
	uint32_t	 lens[] = { 0, 1, 15, IMSG_FD_MARK | 15 };
	size_t		 i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		chan_open(&c, 1);
		raw_hdr(buf, 1, lens[i], 0, 0);
		write_all(c.sp[0], buf, sizeof(buf));
		cr_assert_eq(imsgbuf_read(&c.b), 1);
		errno = 0;
		cr_assert_eq(imsg_get(&c.b, &imsg), -1, "len %u", lens[i]);
		cr_assert(errno == EBADMSG || errno == ERANGE);
		chan_close(&c);
	}
}

Test(imsg, compose_above_maxsize_refused)
{
	struct chan	 c;
	struct imsg	 imsg;
	char		*big;
	int		 p[2];

	chan_open(&c, 1);
	cr_assert_not_null(big = calloc(1, IMSG_MAXSIZE));
	errno = 0;
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, big,
	    IMSG_MAXSIZE - IMSG_HEADER_SIZE + 1), -1);
	cr_assert_eq(errno, ERANGE);
	cr_assert_null(imsg_create(&c.a, 1, 0, 0, IMSG_MAXSIZE));
	cr_assert_null(imsg_create(&c.a, 1, 0, 0, SIZE_MAX));

	/* The descriptor is consumed even when composing fails. */
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, p[0], big, IMSG_MAXSIZE),
	    -1);
	cr_assert_not(fd_is_open(p[0]));
	close(p[1]);
	cr_assert_eq(imsgbuf_queuelen(&c.a), 0);

	/* Exactly the limit is fine. */
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, big,
	    IMSG_MAXSIZE - IMSG_HEADER_SIZE), 1);
	pump(&c);
	cr_assert_eq(imsg_get(&c.b, &imsg), IMSG_MAXSIZE);
	imsg_free(&imsg);
	free(big);
	chan_close(&c);
}

Test(imsg, set_maxsize_raises_limit)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	*big, *out;
	size_t		 len = 300000, i;	/* several reads' worth */

	chan_open(&c, 0);
	cr_assert_not_null(big = malloc(len));
	cr_assert_not_null(out = malloc(len));
	for (i = 0; i < len; i++)
		big[i] = (unsigned char)(i * 7 + i / 251);
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, big, len), -1);
	cr_assert_eq(imsgbuf_set_maxsize(&c.a, len), 0);
	cr_assert_eq(imsgbuf_set_maxsize(&c.b, len), 0);
	cr_assert_eq(c.a.maxsize, len + IMSG_HEADER_SIZE);
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, big, len + 1), -1);
	cr_assert_eq(imsg_compose(&c.a, 2, 0, 0, -1, "x", 1), 1);
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, big, len), 1);
	cr_assert_eq(imsg_compose(&c.a, 3, 0, 0, -1, "y", 1), 1);
	pump(&c);
	expect_msg(&c.b, 2, "x", 1);
	cr_assert_eq(imsg_get(&c.b, &imsg), (ssize_t)(len + 16));
	cr_assert_eq(imsg_get_data(&imsg, out, len), 0);
	cr_assert_eq(memcmp(out, big, len), 0);
	imsg_free(&imsg);
	expect_msg(&c.b, 3, "y", 1);
	cr_assert_eq(imsg_get(&c.b, &imsg), 0);

	/* A receiver with the default limit refuses the same message. */
	cr_assert_eq(imsgbuf_set_maxsize(&c.b, IMSG_MAXSIZE - 16), 0);
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, big, len), 1);
	cr_assert_eq(imsgbuf_write(&c.a), 0);
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	cr_assert_eq(imsg_get(&c.b, &imsg), -1);

	errno = 0;
	cr_assert_eq(imsgbuf_set_maxsize(&c.a, IMSG_MAXSIZE_LIMIT), -1);
	cr_assert_eq(errno, ERANGE);
	cr_assert_eq(imsgbuf_set_maxsize(&c.a, UINT32_MAX), -1);
	cr_assert_eq(imsgbuf_set_maxsize(&c.a,
	    IMSG_MAXSIZE_LIMIT - IMSG_HEADER_SIZE), 0);
	free(big);
	free(out);
	chan_close(&c);
}

/*
 * Messages before and after descriptor-bearing ones, all sent in one go:
 * each descriptor must land on exactly the message that carries it.
 */
Test(imsg, fd_with_pipelined_messages)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 p1[2], p2[2], fd, sent1, sent2, i;
	ino_t		 ino1, ino2;
	uint32_t	 id;

	chan_open(&c, 1);
	cr_assert_eq(pipe(p1), 0);
	cr_assert_eq(pipe(p2), 0);
	ino1 = fd_ino(p1[0]);
	ino2 = fd_ino(p2[0]);
	cr_assert_neq(ino1, ino2);
	sent1 = p1[0];
	sent2 = p2[0];

	for (i = 0; i < 20; i++) {
		fd = -1;
		if (i == 5)
			fd = sent1;
		else if (i == 6)
			fd = sent2;	/* back to back */
		cr_assert_eq(imsg_compose(&c.a, 1, i, 0, fd, &i,
		    sizeof(i)), 1);
	}
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	/* The sender closed what it sent. */
	cr_assert_not(fd_is_open(sent1));
	cr_assert_not(fd_is_open(sent2));

	for (id = 0; id < 20; id++) {
		ssize_t	n;
		int	k;

		for (k = 0; k < 10; k++) {
			if ((n = imsg_get(&c.b, &imsg)) != 0)
				break;
			cr_assert_eq(imsgbuf_read(&c.b), 1);
		}
		cr_assert_eq(n, 20, "message %u", id);
		cr_assert_eq(imsg_get_id(&imsg), id);
		fd = imsg_get_fd(&imsg);
		if (id == 5 || id == 6) {
			cr_assert_geq(fd, 0, "message %u lost its fd", id);
			cr_assert_eq(fd_ino(fd), id == 5 ? ino1 : ino2);
			cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
			cr_assert_eq(imsg_get_fd(&imsg), -1);	/* once */
			close(fd);
		} else
			cr_assert_eq(fd, -1, "message %u got an fd", id);
		imsg_free(&imsg);
	}
	cr_assert_eq(imsg_get(&c.b, &imsg), 0);
	close(p1[1]);
	close(p2[1]);
	chan_close(&c);
}

/* The descriptor may come with the first byte of its header, alone. */
Test(imsg, fd_byte_at_a_time)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 stream[20 + 16 + 20];
	int		 p[2], got = 0, fd;
	size_t		 i;
	ssize_t		 n;

	chan_open(&c, 1);
	cr_assert_eq(pipe(p), 0);
	raw_hdr(stream, 1, 20, 0, 0);
	memcpy(stream + 16, "aaaa", 4);
	raw_hdr(stream + 20, 2, 16 | IMSG_FD_MARK, 0, 0);
	raw_hdr(stream + 36, 3, 20, 0, 0);
	memcpy(stream + 52, "cccc", 4);

	for (i = 0; i < sizeof(stream); i++) {
		send_raw(c.sp[0], stream + i, 1, &p[0], i == 20 ? 1 : 0);
		cr_assert_eq(imsgbuf_read(&c.b), 1, "byte %zu", i);
		while ((n = imsg_get(&c.b, &imsg)) > 0) {
			got++;
			cr_assert_eq(imsg_get_type(&imsg), (uint32_t)got);
			fd = imsg_get_fd(&imsg);
			if (got == 2) {
				cr_assert_geq(fd, 0);
				cr_assert_eq(fd_ino(fd), fd_ino(p[0]));
				close(fd);
			} else
				cr_assert_eq(fd, -1);
			imsg_free(&imsg);
		}
		cr_assert_eq(n, 0);
	}
	cr_assert_eq(got, 3);
	close(p[0]);
	close(p[1]);
	chan_close(&c);
}

/* The descriptor arrives together with the bytes of an earlier message. */
Test(imsg, fd_arrives_with_earlier_bytes)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 stream[20 + 16];
	int		 p[2], fd;

	chan_open(&c, 1);
	cr_assert_eq(pipe(p), 0);
	raw_hdr(stream, 1, 20, 0, 0);
	memcpy(stream + 16, "aaaa", 4);
	raw_hdr(stream + 20, 2, 16 | IMSG_FD_MARK, 0, 0);
	/* Half of message 1 alone, the rest and the fd in one write. */
	send_raw(c.sp[0], stream, 10, NULL, 0);
	send_raw(c.sp[0], stream + 10, sizeof(stream) - 10, &p[0], 1);
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	cr_assert_eq(imsg_get(&c.b, &imsg), 20);
	cr_assert_eq(imsg_get_fd(&imsg), -1);
	imsg_free(&imsg);
	cr_assert_eq(imsg_get(&c.b, &imsg), 16);
	cr_assert_geq(fd = imsg_get_fd(&imsg), 0);
	cr_assert_eq(fd_ino(fd), fd_ino(p[0]));
	close(fd);
	imsg_free(&imsg);
	close(p[0]);
	close(p[1]);
	chan_close(&c);
}

Test(imsg, marked_message_without_fd)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[20];

	chan_open(&c, 1);
	raw_hdr(buf, 1, 20 | IMSG_FD_MARK, 0, 0);
	memset(buf + 16, 0, 4);
	write_all(c.sp[0], buf, sizeof(buf));
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	errno = 0;
	cr_assert_eq(imsg_get(&c.b, &imsg), -1);
	cr_assert_eq(errno, EBADMSG);
	chan_close(&c);
}

/* A descriptor nobody announced must not wait for the next marked one. */
Test(imsg, stray_fd_breaks_stream)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[32];
	int		 p[2], before;
	ssize_t		 n;

	chan_open(&c, 1);
	cr_assert_eq(pipe(p), 0);
	before = count_fds();
	raw_hdr(buf, 1, 16, 0, 0);			/* unmarked, with fd */
	send_raw(c.sp[0], buf, 16, &p[0], 1);
	raw_hdr(buf + 16, 2, 16 | IMSG_FD_MARK, 0, 0);	/* marked, no fd */
	send_raw(c.sp[0], buf + 16, 16, NULL, 0);
	cr_assert_neq(imsgbuf_read(&c.b), 0);
	while ((n = imsg_get(&c.b, &imsg)) > 0) {
		cr_assert_eq(imsg_get_type(&imsg), 1);
		cr_assert_eq(imsg_get_fd(&imsg), -1);
		imsg_free(&imsg);
	}
	cr_assert_eq(n, -1);
	cr_assert_eq(errno, EBADMSG);
	/* The stray descriptor is closed, not kept. */
	cr_assert_eq(count_fds(), before);
	close(p[0]);
	close(p[1]);
	chan_close(&c);
}

/*
 * A stray descriptor sent with a partial unmarked header must not be
 * handed to the marked message after it, whose own descriptor follows.
 */
Test(imsg, stray_fd_never_shifts)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[32];
	int		 p[2], q[2], before;
	ssize_t		 n;

	chan_open(&c, 1);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(pipe(q), 0);
	before = count_fds();
	raw_hdr(buf, 1, 16, 0, 0);
	raw_hdr(buf + 16, 2, 16 | IMSG_FD_MARK, 0, 0);
	send_raw(c.sp[0], buf, 8, &p[0], 1);		/* stray */
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	send_raw(c.sp[0], buf + 8, 8, NULL, 0);
	send_raw(c.sp[0], buf + 16, 16, &q[0], 1);	/* the right one */
	cr_assert_neq(imsgbuf_read(&c.b), 0);
	while ((n = imsg_get(&c.b, &imsg)) > 0) {
		cr_assert_eq(imsg_get_type(&imsg), 1);
		cr_assert_eq(imsg_get_fd(&imsg), -1);
		imsg_free(&imsg);
	}
	cr_assert_eq(n, -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_eq(count_fds(), before);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	chan_close(&c);
}

/* A descriptor must come with the first byte of its header, not later. */
Test(imsg, fd_later_than_its_header)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 buf[16];
	int		 p[2], before;

	chan_open(&c, 1);
	cr_assert_eq(pipe(p), 0);
	before = count_fds();
	raw_hdr(buf, 1, 16 | IMSG_FD_MARK, 0, 0);
	send_raw(c.sp[0], buf, 8, NULL, 0);
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	send_raw(c.sp[0], buf + 8, 8, &p[0], 1);
	cr_assert_neq(imsgbuf_read(&c.b), 0);
	errno = 0;
	cr_assert_eq(imsg_get(&c.b, &imsg), -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_eq(count_fds(), before);
	close(p[0]);
	close(p[1]);
	chan_close(&c);
}

Test(imsg, two_fds_at_once_refused)
{
	struct chan	 c;
	unsigned char	 buf[16];
	int		 p[2], before;

	chan_open(&c, 1);
	cr_assert_eq(pipe(p), 0);
	before = count_fds();
	raw_hdr(buf, 1, 16 | IMSG_FD_MARK, 0, 0);
	send_raw(c.sp[0], buf, sizeof(buf), p, 2);
	errno = 0;
	cr_assert_eq(imsgbuf_read(&c.b), -1);
	cr_assert(errno == EBADMSG || errno == EMSGSIZE);
	cr_assert_eq(count_fds(), before);
	close(p[0]);
	close(p[1]);
	chan_close(&c);
}

Test(imsg, fd_refused_unless_allowed)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 p[2], before;

	chan_open(&c, 0);
	cr_assert_eq(pipe(p), 0);
	before = count_fds();
	/* Sending is always possible; the receiver decides. */
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, dup(p[0]), NULL, 0), 1);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	cr_assert_eq(count_fds(), before);
	errno = 0;
	cr_assert_eq(imsgbuf_read(&c.b), -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_eq(count_fds(), before);
	cr_assert_eq(imsg_get(&c.b, &imsg), -1);
	close(p[0]);
	close(p[1]);
	chan_close(&c);
}

/*
 * At the descriptor limit the kernel drops a passed descriptor and says
 * so with MSG_CTRUNC: that must be an error, never a message without
 * the descriptor it announced.  Criterion runs each test in its own
 * process, so the lowered limit stays here; it is restored anyway.
 */
Test(imsg, fd_limit_reached)
{
	struct chan	 c;
	struct imsg	 imsg;
	struct rlimit	 old, rl;
	int		 p[2], fd, fill[128], nfill = 0, before, i;

	chan_open(&c, 1);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	before = count_fds();
	rl = old;
	rl.rlim_cur = before + 16;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while ((fd = dup(0)) != -1) {
		cr_assert_lt(nfill, 128);
		fill[nfill++] = fd;
	}
	cr_assert_eq(errno, EMFILE);

	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, p[0], "z", 1), 1);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	/* Sending closed p[0]: take that slot too. */
	while ((fd = dup(0)) != -1) {
		cr_assert_lt(nfill, 128);
		fill[nfill++] = fd;
	}
	errno = 0;
	cr_assert_eq(imsgbuf_read(&c.b), -1);
	cr_assert(errno == EMSGSIZE || errno == EBADMSG, "errno %d", errno);
	cr_assert_eq(imsg_get(&c.b, &imsg), -1);

	for (i = 0; i < nfill; i++)
		close(fill[i]);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	/* Once broken, always broken, even with room again. */
	cr_assert_eq(imsgbuf_read(&c.b), -1);
	close(p[1]);
	chan_close(&c);
}

/* Fill the socket until writing would block, then drain and finish. */
Test(imsg, eagain_on_full_socket)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	 payload[10000], out[10000];
	uint32_t	 nsent = 0, nrecv = 0, seq;
	size_t		 i;
	int		 k;

	chan_open(&c, 0);
	for (;;) {
		cr_assert_lt(nsent, 10000, "socket never filled");
		memset(payload, (int)(nsent & 0xff), sizeof(payload));
		memcpy(payload, &nsent, sizeof(nsent));
		cr_assert_eq(imsg_compose(&c.a, 1, nsent, 0, -1, payload,
		    sizeof(payload)), 1);
		nsent++;
		cr_assert_eq(imsgbuf_write(&c.a), 0);
		if (imsgbuf_queuelen(&c.a) > 0)
			break;
	}
	/* Blocked, and nothing lost: a few more wait in the queue. */
	for (k = 0; k < 3; k++) {
		memset(payload, (int)(nsent & 0xff), sizeof(payload));
		memcpy(payload, &nsent, sizeof(nsent));
		cr_assert_eq(imsg_compose(&c.a, 1, nsent, 0, -1, payload,
		    sizeof(payload)), 1);
		nsent++;
	}
	cr_assert_eq(imsgbuf_write(&c.a), 0);
	cr_assert_gt(imsgbuf_queuelen(&c.a), 0);

	for (k = 0; k < 100000 && nrecv < nsent; k++) {
		cr_assert_eq(imsgbuf_read(&c.b), 1);
		while (imsg_get(&c.b, &imsg) > 0) {
			cr_assert_eq(imsg_get_id(&imsg), nrecv);
			cr_assert_eq(imsg_get_data(&imsg, out, sizeof(out)), 0);
			memcpy(&seq, out, sizeof(seq));
			cr_assert_eq(seq, nrecv);
			for (i = sizeof(seq); i < sizeof(out); i++)
				cr_assert_eq(out[i], nrecv & 0xff);
			imsg_free(&imsg);
			nrecv++;
		}
		cr_assert_eq(imsgbuf_write(&c.a), 0);
	}
	cr_assert_eq(nrecv, nsent);
	cr_assert_eq(imsgbuf_queuelen(&c.a), 0);
	cr_assert_eq(imsg_compose(&c.a, 9, 0, 0, -1, NULL, 0), 1);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	expect_msg(&c.b, 9, NULL, 0);
	chan_close(&c);
}

/* With the default SIGPIPE disposition, a dead peer is just EPIPE. */
Test(imsg, epipe_without_sigpipe)
{
	struct chan	c;

	cr_assert_neq(signal(SIGPIPE, SIG_DFL), SIG_ERR);
	chan_open(&c, 1);
	close(c.sp[1]);
	c.sp[1] = -1;
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, "x", 1), 1);
	errno = 0;
	cr_assert_eq(imsgbuf_write(&c.a), -1);
	cr_assert_eq(errno, EPIPE);
	cr_assert_eq(imsgbuf_flush(&c.a), -1);
	cr_assert_eq(errno, EPIPE);
	chan_close(&c);
}

Test(imsg, get_data_exact_size)
{
	struct chan	 c;
	struct imsg	 imsg;
	uint64_t	 v = 0x1122334455667788ULL, out = 0;
	uint32_t	 small;
	unsigned char	 large[16];

	chan_open(&c, 0);
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, &v, sizeof(v)), 1);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	cr_assert_eq(imsg_get(&c.b, &imsg), 24);
	errno = 0;
	cr_assert_eq(imsg_get_data(&imsg, &small, sizeof(small)), -1);
	cr_assert_eq(errno, EBADMSG);
	errno = 0;
	cr_assert_eq(imsg_get_data(&imsg, large, sizeof(large)), -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_eq(imsg_get_len(&imsg), sizeof(v));	/* untouched */
	cr_assert_eq(imsg_get_data(&imsg, &out, sizeof(out)), 0);
	cr_assert_eq(out, v);
	imsg_free(&imsg);
	chan_close(&c);
}

static int
strbuf_of(const void *payload, size_t len, char *out, size_t size)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 rv;

	chan_open(&c, 0);
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, payload, len), 1);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	cr_assert_gt(imsg_get(&c.b, &imsg), 0);
	errno = 0;
	rv = imsg_get_strbuf(&imsg, out, size);
	imsg_free(&imsg);
	chan_close(&c);
	return (rv);
}

Test(imsg, get_strbuf)
{
	char	out[8];

	cr_assert_eq(strbuf_of("hello", 6, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "hello");
	cr_assert_eq(strbuf_of("1234567", 8, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "1234567");	/* exactly fills */
	cr_assert_eq(strbuf_of("", 1, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");

	cr_assert_eq(strbuf_of("hello", 5, out, sizeof(out)), -1);
	cr_assert_eq(errno, EBADMSG);			/* no NUL */
	cr_assert_str_eq(out, "");
	cr_assert_eq(strbuf_of("he\0lo", 6, out, sizeof(out)), -1);
	cr_assert_eq(errno, EBADMSG);			/* interior NUL */
	cr_assert_eq(strbuf_of("12345678", 9, out, sizeof(out)), -1);
	cr_assert_eq(errno, EBADMSG);			/* too long */
	cr_assert_eq(strbuf_of(NULL, 0, out, sizeof(out)), -1);
	cr_assert_eq(errno, EBADMSG);			/* empty */
	cr_assert_eq(strbuf_of("ab", 3, out, 0), -1);
	cr_assert_eq(errno, EINVAL);
}

Test(imsg, ibuf_string_bounds)
{
	struct ibuf	*b;
	struct ibuf	 v;
	char		 s[4];
	unsigned char	 raw[8];
	uint32_t	 len;
	size_t		 before;

	cr_assert_not_null(b = ibuf_dynamic(0, 1024));
	cr_assert_eq(ibuf_add_string(b, "abc"), 0);
	cr_assert_eq(ibuf_add_string(b, ""), 0);
	cr_assert_eq(ibuf_add_string(b, "abcd"), 0);
	cr_assert_eq(ibuf_size(b), 4 + 3 + 4 + 0 + 4 + 4);

	cr_assert_eq(ibuf_get_string(b, s, sizeof(s)), 0);
	cr_assert_str_eq(s, "abc");			/* len 3 < size 4 */
	cr_assert_eq(ibuf_get_string(b, s, sizeof(s)), 0);
	cr_assert_str_eq(s, "");
	before = ibuf_size(b);
	errno = 0;
	cr_assert_eq(ibuf_get_string(b, s, sizeof(s)), -1);	/* 4 !< 4 */
	cr_assert_eq(errno, EBADMSG);
	cr_assert_eq(ibuf_size(b), before);		/* not consumed */
	cr_assert_eq(ibuf_get_string(b, s, 0), -1);
	ibuf_free(b);

	/* Length beyond the data, and a NUL inside. */
	len = 100;
	memcpy(raw, &len, 4);
	memcpy(raw + 4, "abc", 4);
	ibuf_from_buffer(&v, raw, sizeof(raw));
	cr_assert_eq(ibuf_get_string(&v, s, sizeof(s)), -1);
	cr_assert_eq(errno, EBADMSG);
	len = 3;
	memcpy(raw, &len, 4);
	memcpy(raw + 4, "a\0c", 3);
	ibuf_from_buffer(&v, raw, sizeof(raw));
	cr_assert_eq(ibuf_get_string(&v, s, sizeof(s)), -1);
	cr_assert_eq(errno, EBADMSG);
	ibuf_from_buffer(&v, raw, 3);			/* short length */
	cr_assert_eq(ibuf_get_string(&v, s, sizeof(s)), -1);
}

Test(imsg, ibuf_get_strbuf_exact)
{
	struct ibuf	v;
	char		raw[] = "ab\0cd\0ef";	/* 9 bytes with the last NUL */
	char		s[8];

	ibuf_from_buffer(&v, raw, sizeof(raw));
	cr_assert_eq(ibuf_get_strbuf(&v, s, 3), 0);
	cr_assert_str_eq(s, "ab");
	cr_assert_eq(ibuf_size(&v), 6);
	errno = 0;
	cr_assert_eq(ibuf_get_strbuf(&v, s, 2), -1);	/* "cd": no NUL */
	cr_assert_eq(errno, EBADMSG);
	cr_assert_eq(ibuf_size(&v), 6);
	cr_assert_eq(ibuf_get_strbuf(&v, s, 3), 0);
	cr_assert_str_eq(s, "cd");
	cr_assert_eq(ibuf_get_strbuf(&v, s, 4), -1);	/* only 3 left */
	cr_assert_eq(ibuf_get_strbuf(&v, s, 3), 0);
	cr_assert_str_eq(s, "ef");
	cr_assert_eq(ibuf_get_strbuf(&v, s, 0), -1);
	cr_assert_eq(errno, EINVAL);
}

Test(imsg, ibuf_numbers_and_limits)
{
	struct ibuf	*b;
	uint8_t		 u8;
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;

	cr_assert_not_null(b = ibuf_dynamic(4, 15));
	cr_assert_eq(ibuf_add_n8(b, 256), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(ibuf_add_n16(b, 65536), -1);
	cr_assert_eq(ibuf_add_n32(b, 1ULL << 32), -1);
	cr_assert_eq(ibuf_size(b), 0);
	cr_assert_eq(ibuf_add_n8(b, 0xab), 0);
	cr_assert_eq(ibuf_add_n16(b, 0xbeef), 0);
	cr_assert_eq(ibuf_add_n32(b, 0xdeadbeef), 0);
	cr_assert_eq(ibuf_left(b), 15 - 7);
	cr_assert_eq(ibuf_add_n64(b, 1), 0);
	cr_assert_eq(ibuf_left(b), 0);
	errno = 0;
	cr_assert_eq(ibuf_add_zero(b, 1), -1);		/* max reached */
	cr_assert_eq(errno, ERANGE);
	cr_assert_eq(ibuf_get_n8(b, &u8), 0);
	cr_assert_eq(u8, 0xab);
	cr_assert_eq(ibuf_get_n16(b, &u16), 0);
	cr_assert_eq(u16, 0xbeef);
	cr_assert_eq(ibuf_get_n32(b, &u32), 0);
	cr_assert_eq(u32, 0xdeadbeef);
	cr_assert_eq(ibuf_get_n32(b, &u32), 0);		/* half of the n64 */
	errno = 0;
	cr_assert_eq(ibuf_get_n64(b, &u64), -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_eq(ibuf_skip(b, 5), -1);
	cr_assert_eq(ibuf_skip(b, 4), 0);
	cr_assert_eq(ibuf_size(b), 0);
	ibuf_rewind(b);
	cr_assert_eq(ibuf_size(b), 15);
	cr_assert_null(ibuf_seek(b, 10, 6));
	cr_assert_not_null(ibuf_seek(b, 10, 5));
	ibuf_free(b);

	/* Fixed size: no growth at all. */
	cr_assert_not_null(b = ibuf_open(2));
	cr_assert_eq(ibuf_add_n16(b, 1), 0);
	cr_assert_eq(ibuf_add_n8(b, 1), -1);
	ibuf_free(b);
	cr_assert_null(ibuf_dynamic(10, 5));
	cr_assert_null(ibuf_dynamic(0, 0));

	/* Growth keeps the content. */
	cr_assert_not_null(b = ibuf_dynamic(0, 100000));
	for (u32 = 0; u32 < 20000; u32++)
		cr_assert_eq(ibuf_add_n32(b, u32), 0);
	for (u64 = 0; u64 < 20000; u64++) {
		cr_assert_eq(ibuf_get_n32(b, &u32), 0);
		cr_assert_eq(u32, u64);
	}
	ibuf_free(b);
}

Test(imsg, get_ibuf_view)
{
	struct chan	 c;
	struct imsg	 imsg;
	struct ibuf	*w, v;
	uint32_t	 u32;
	uint64_t	 u64;
	char		 s[16];

	chan_open(&c, 0);
	cr_assert_not_null(w = imsg_create(&c.a, 5, 1, 0, 8));
	cr_assert_eq(ibuf_add_n32(w, 77), 0);
	cr_assert_eq(ibuf_add_n64(w, 1ULL << 40), 0);
	cr_assert_eq(ibuf_add_string(w, "name"), 0);
	imsg_close(&c.a, w);
	cr_assert_eq(imsg_compose(&c.a, 6, 0, 0, -1, NULL, 0), 1);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	cr_assert_eq(imsgbuf_read(&c.b), 1);

	cr_assert_eq(imsg_get(&c.b, &imsg), 16 + 4 + 8 + 4 + 4);
	cr_assert_eq(imsg_get_ibuf(&imsg, &v), 0);
	cr_assert_eq(ibuf_get_n32(&v, &u32), 0);
	cr_assert_eq(u32, 77);
	cr_assert_eq(ibuf_get_n64(&v, &u64), 0);
	cr_assert_eq(u64, 1ULL << 40);
	cr_assert_eq(ibuf_get_string(&v, s, sizeof(s)), 0);
	cr_assert_str_eq(s, "name");
	cr_assert_eq(ibuf_size(&v), 0);
	cr_assert_eq(ibuf_left(&v), 0);			/* read-only */
	cr_assert_eq(ibuf_add_n8(&v, 1), -1);
	cr_assert_eq(imsg_get_len(&imsg), 0);
	imsg_free(&imsg);

	cr_assert_eq(imsg_get(&c.b, &imsg), 16);
	errno = 0;
	cr_assert_eq(imsg_get_ibuf(&imsg, &v), -1);	/* empty */
	cr_assert_eq(errno, EBADMSG);
	imsg_free(&imsg);
	chan_close(&c);
}

Test(imsg, composev_and_create_with_fd)
{
	struct chan	 c;
	struct imsg	 imsg;
	struct ibuf	*w;
	struct iovec	 iov[3];
	char		 out[16];
	int		 p[2], fd;

	chan_open(&c, 1);
	cr_assert_eq(pipe(p), 0);
	iov[0].iov_base = "ab";
	iov[0].iov_len = 2;
	iov[1].iov_base = NULL;
	iov[1].iov_len = 0;
	iov[2].iov_base = "cde";
	iov[2].iov_len = 4;
	cr_assert_eq(imsg_composev(&c.a, 1, 2, 3, -1, iov, 3), 1);

	cr_assert_not_null(w = imsg_create(&c.a, 4, 0, 0, 0));
	cr_assert_eq(imsg_add(w, "xyz", 3), 3);
	ibuf_fd_set(w, p[0]);
	cr_assert(ibuf_fd_avail(w));
	imsg_close(&c.a, w);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	cr_assert_eq(imsgbuf_read(&c.b), 1);

	cr_assert_eq(imsg_get(&c.b, &imsg), 16 + 6);
	cr_assert_eq(imsg_get_pid(&imsg), 3);
	cr_assert_eq(imsg_get_data(&imsg, out, 6), 0);
	cr_assert_eq(memcmp(out, "abcde", 6), 0);
	imsg_free(&imsg);
	cr_assert_eq(imsg_get(&c.b, &imsg), 16 + 3);
	cr_assert_geq(fd = imsg_get_fd(&imsg), 0);
	cr_assert_eq(write(p[1], "!", 1), 1);
	cr_assert_eq(read(fd, out, 1), 1);		/* the same pipe */
	cr_assert_eq(out[0], '!');
	close(fd);
	imsg_free(&imsg);

	/* imsg_add() frees the message when it cannot add. */
	cr_assert_not_null(w = imsg_create(&c.a, 4, 0, 0, 0));
	cr_assert_eq(imsg_add(w, out, IMSG_MAXSIZE), -1);
	close(p[1]);
	chan_close(&c);
}

Test(imsg, forward_drops_fd)
{
	struct chan	 c, d;
	struct imsg	 imsg;
	int		 p[2], before;

	chan_open(&c, 1);
	chan_open(&d, 1);
	cr_assert_eq(pipe(p), 0);
	before = count_fds();
	cr_assert_eq(imsg_compose(&c.a, 11, 12, 13, p[0], "fwd", 4), 1);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	cr_assert_eq(imsgbuf_read(&c.b), 1);
	cr_assert_eq(imsg_get(&c.b, &imsg), 20);
	cr_assert_eq(imsg_get_buf(&imsg, &p[0], 1), 0);	/* moves rpos */
	cr_assert_eq(imsg_forward(&d.a, &imsg), 1);
	imsg_free(&imsg);		/* closes the unclaimed fd */
	cr_assert_eq(count_fds(), before - 1);
	cr_assert_eq(imsgbuf_flush(&d.a), 0);
	cr_assert_eq(imsgbuf_read(&d.b), 1);
	cr_assert_eq(imsg_get(&d.b, &imsg), 20);
	cr_assert_eq(imsg_get_type(&imsg), 11);
	cr_assert_eq(imsg_get_id(&imsg), 12);
	cr_assert_eq(imsg_get_pid(&imsg), 13);
	cr_assert_eq(imsg_get_fd(&imsg), -1);
	cr_assert_str_eq(imsg.data, "fwd");
	imsg_free(&imsg);
	close(p[1]);
	chan_close(&c);
	chan_close(&d);
}

Test(imsg, clear_closes_fds)
{
	struct chan	 c;
	struct imsg	 imsg;
	int		 before, p[2], i, n;

	before = count_fds();
	chan_open(&c, 1);
	cr_assert_eq(pipe(p), 0);
	/* Two delivered to b and left there, one taken and freed. */
	for (i = 0; i < 3; i++)
		cr_assert_eq(imsg_compose(&c.a, 1, i, 0, dup(p[0]), NULL, 0),
		    1);
	cr_assert_eq(imsgbuf_flush(&c.a), 0);
	for (i = 0; i < 3; i++)
		cr_assert_eq(imsgbuf_read(&c.b), 1);
	cr_assert_eq(imsg_get(&c.b, &imsg), 16);
	imsg_free(&imsg);
	/* Three more still queued in a, never written. */
	for (i = 0; i < 3; i++)
		cr_assert_eq(imsg_compose(&c.a, 1, i, 0, dup(p[1]), NULL, 0),
		    1);
	cr_assert_eq(imsgbuf_queuelen(&c.a), 3);
	n = count_fds();
	cr_assert_geq(n, before + 4 + 2 + 3);
	close(p[0]);
	close(p[1]);
	chan_close(&c);
	cr_assert_eq(count_fds(), before);

	/* Cleared: harmless to use, harmless to clear again. */
	cr_assert_eq(imsgbuf_queuelen(&c.a), 0);
	cr_assert_eq(imsgbuf_read(&c.a), -1);
	cr_assert_eq(imsgbuf_write(&c.a), -1);
	cr_assert_eq(imsg_get(&c.a, &imsg), -1);
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, NULL, 0), -1);
	imsgbuf_clear(&c.a);
}

/* A partial write must resume exactly where it stopped. */
Test(imsg, partial_writes_resume)
{
	struct chan	 c;
	struct imsg	 imsg;
	unsigned char	*big, *out;
	size_t		 len = 1 << 20, i;
	int		 sz = 4096, k, p[2];

	chan_open(&c, 1);
	cr_assert_eq(setsockopt(c.sp[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	cr_assert_eq(imsgbuf_set_maxsize(&c.a, len), 0);
	cr_assert_eq(imsgbuf_set_maxsize(&c.b, len), 0);
	cr_assert_not_null(big = malloc(len));
	cr_assert_not_null(out = malloc(len));
	for (i = 0; i < len; i++)
		big[i] = (unsigned char)(i ^ (i >> 8) ^ (i >> 16));
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(imsg_compose(&c.a, 1, 0, 0, -1, big, len), 1);
	cr_assert_eq(imsg_compose(&c.a, 2, 0, 0, p[0], big, len), 1);
	cr_assert_eq(imsg_compose(&c.a, 3, 0, 0, -1, "end", 4), 1);
	for (k = 0; k < 3; k++) {
		ssize_t	n;
		int	j;

		for (j = 0; j < 100000; j++) {
			if ((n = imsg_get(&c.b, &imsg)) != 0)
				break;
			cr_assert_eq(imsgbuf_write(&c.a), 0);
			cr_assert_eq(imsgbuf_read(&c.b), 1);
		}
		cr_assert_gt(n, 0);
		cr_assert_eq(imsg_get_type(&imsg), (uint32_t)k + 1);
		if (k < 2) {
			cr_assert_eq(imsg_get_data(&imsg, out, len), 0);
			cr_assert_eq(memcmp(out, big, len), 0);
		}
		if (k == 1) {
			int	fd = imsg_get_fd(&imsg);

			cr_assert_geq(fd, 0);
			close(fd);
		} else
			cr_assert_eq(imsg_get_fd(&imsg), -1);
		imsg_free(&imsg);
	}
	close(p[1]);
	free(big);
	free(out);
	chan_close(&c);
}
