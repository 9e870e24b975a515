/*
 * libFuzzer harness for the imsg reader: the input is a byte stream a
 * peer sends over a real socketpair, in chunks, with or without passed
 * descriptors, and every message that comes out goes through the
 * getters.  Nothing may crash, leak memory or leak a descriptor.
 *
 * Input: byte 0 holds options, byte 1 the chunk size (0: 4096), the rest
 * is the stream.
 *   bit 0	the receiver allows descriptor passing
 *   bits 1-2	receiver payload limit: default, 64, 1024, 65536
 *   bit 3	send a descriptor with every header that carries the mark,
 *		as a correct sender does
 *   bit 4	send a descriptor with every chunk, as a hostile one might
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define OPT_FDPASS	0x01
#define OPT_MAXSHIFT	1
#define OPT_MARKFD	0x08
#define OPT_EVERYFD	0x10

#define FD_SCAN		256

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 devnull = -1;
static uint8_t	 baseline[FD_SCAN];

static void
snapshot_fds(uint8_t *open_fds)
{
	int	fd;

	for (fd = 0; fd < FD_SCAN; fd++)
		open_fds[fd] = fcntl(fd, F_GETFD) != -1;
}

/* Sends len bytes, with a descriptor if asked; returns bytes sent. */
static size_t
send_chunk(int sock, const uint8_t *p, size_t len, int withfd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	ssize_t		 n;
	int		 fd = -1;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (withfd && (fd = dup(devnull)) != -1) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
	}
	n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	if (fd != -1)
		close(fd);
	return (n > 0 ? (size_t)n : 0);
}

/* Every getter, in an order the message type picks. */
static void
exercise(struct imsgbuf *fwd, struct imsg *imsg)
{
	struct ibuf	 v;
	char		 s[32];
	unsigned char	*copy;
	size_t		 len;
	uint8_t		 u8;
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;
	int		 fd;

	(void)imsg_get_type(imsg);
	(void)imsg_get_id(imsg);
	(void)imsg_get_pid(imsg);
	len = imsg_get_len(imsg);
	if (len + IMSG_HEADER_SIZE != imsg->hdr.len)
		abort();
	if ((len == 0) != (imsg->data == NULL))
		abort();

	switch (imsg_get_type(imsg) % 4) {
	case 0:
		if ((fd = imsg_get_fd(imsg)) != -1) {
			if (fcntl(fd, F_GETFD) == -1)
				abort();
			close(fd);
		}
		if (imsg_get_fd(imsg) != -1)
			abort();
		if (imsg_get_strbuf(imsg, s, sizeof(s)) == 0 &&
		    strlen(s) + 1 != len)
			abort();
		break;
	case 1:
		/* Leave any descriptor to imsg_free(). */
		if ((copy = malloc(len + 1)) == NULL)
			return;
		if (imsg_get_data(imsg, copy, len + 1) != -1)
			abort();
		if (len > 0) {
			if (imsg_get_data(imsg, copy, len) != 0 ||
			    memcmp(copy, imsg->data, len) != 0)
				abort();
		}
		free(copy);
		break;
	case 2:
		if (imsg_get_ibuf(imsg, &v) == -1)
			break;
		while (ibuf_size(&v) > 0) {
			if (ibuf_get_string(&v, s, sizeof(s)) == 0) {
				if (strlen(s) >= sizeof(s))
					abort();
				continue;
			}
			if (ibuf_get_n8(&v, &u8) == -1)
				break;
			(void)ibuf_get_n16(&v, &u16);
			(void)ibuf_get_n32(&v, &u32);
			(void)ibuf_get_n64(&v, &u64);
			if (ibuf_size(&v) > 0) {
				size_t	sl = ibuf_size(&v) < sizeof(s) ?
				    ibuf_size(&v) : sizeof(s);

				if (ibuf_get_strbuf(&v, s, sl) == 0 &&
				    strlen(s) >= sl)
					abort();
			}
			(void)ibuf_skip(&v, u8 % 5);
		}
		break;
	case 3:
		/* Forward it (never the descriptor); the queue is dropped. */
		(void)imsg_forward(fwd, imsg);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t	 limits[] = { 0, 64, 1024, 65536 };
	struct imsgbuf		 ib, fwd;
	struct imsg		 imsg;
	struct imsg_hdr		 hdr;
	uint8_t			 now[FD_SCAN];
	const uint8_t		*stream;
	size_t			 len, off = 0, chunk, pos, *marks;
	size_t			 nmarks = 0, mi = 0, mj;
	uint32_t		 hlen;
	ssize_t			 n;
	int			 sp[2], fwdsp[2], opts, r, shut = 0, rounds;

	if (size < 2)
		return (0);
	if (devnull == -1) {
		if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
			abort();
		snapshot_fds(baseline);
	}
	opts = data[0];
	chunk = data[1] != 0 ? data[1] : 4096;
	stream = data + 2;
	len = size - 2;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		return (0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fwdsp) == -1) {
		close(sp[0]);
		close(sp[1]);
		return (0);
	}
	if (imsgbuf_init(&ib, sp[1]) == -1 ||
	    imsgbuf_init(&fwd, fwdsp[0]) == -1)
		abort();
	(void)fcntl(sp[0], F_SETFL, O_NONBLOCK);
	if (opts & OPT_FDPASS)
		imsgbuf_allow_fdpass(&ib);
	if (limits[(opts >> OPT_MAXSHIFT) & 3] != 0 &&
	    imsgbuf_set_maxsize(&ib, limits[(opts >> OPT_MAXSHIFT) & 3]) == -1)
		abort();

	/*
	 * Walk the headers as a sender knows them, to find where the marked
	 * ones start: a correct sender's descriptor goes with that byte.
	 */
	if ((marks = calloc(len / sizeof(hdr) + 1, sizeof(*marks))) == NULL)
		abort();
	for (pos = 0; (opts & OPT_MARKFD) && pos + sizeof(hdr) <= len;
	    pos += hlen) {
		memcpy(&hdr, stream + pos, sizeof(hdr));
		if ((hlen = hdr.len & ~IMSG_FD_MARK) < sizeof(hdr))
			break;
		if (hdr.len & IMSG_FD_MARK)
			marks[nmarks++] = pos;
		if (hlen > len - pos)
			break;
	}

	for (rounds = 0; rounds < 100000; rounds++) {
		if (off < len) {
			size_t	c = len - off < chunk ? len - off : chunk;
			int	withfd = (opts & OPT_EVERYFD) != 0;

			while (mi < nmarks && marks[mi] < off)
				mi++;
			mj = mi;
			if (mj < nmarks && marks[mj] == off) {
				withfd = 1;
				mj++;
			}
			/* The next marked header starts a send of its own. */
			if (mj < nmarks && marks[mj] - off < c)
				c = marks[mj] - off;
			off += send_chunk(sp[0], stream + off, c, withfd);
		} else if (!shut) {
			shutdown(sp[0], SHUT_WR);
			shut = 1;
		}

		if ((r = imsgbuf_read(&ib)) == -1)
			break;
		while ((n = imsg_get(&ib, &imsg)) > 0) {
			if ((size_t)n != imsg.hdr.len || n < 16 ||
			    (uint32_t)n > ib.maxsize)
				abort();
			exercise(&fwd, &imsg);
			imsg_free(&imsg);
		}
		if (n == -1 || r == 0)
			break;
	}

	free(marks);
	imsgbuf_clear(&ib);
	imsgbuf_clear(&fwd);
	close(sp[0]);
	close(sp[1]);
	close(fwdsp[0]);
	close(fwdsp[1]);

	snapshot_fds(now);
	if (memcmp(now, baseline, sizeof(now)) != 0)
		abort();		/* a descriptor leaked */
	return (0);
}
