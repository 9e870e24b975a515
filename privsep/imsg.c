/*
 * imsg: framed messages and descriptor passing over a UNIX stream socket,
 * after OpenBSD's imsg.c and imsg-buffer.c (7.7); see imsg.h.
 *
 * Reading frames the stream as it arrives: complete messages go onto a
 * queue as ibufs of their own, a partial one grows in place, and only a
 * partial header stays in the read buffer.  Every received descriptor
 * remembers the stream range its recvmsg() delivered.  A correct sender
 * sends a descriptor with the first byte of the header that carries
 * IMSG_FD_MARK, so that header must start inside that range; anything
 * else (a descriptor nobody marked, a mark without a descriptor, two at
 * once) breaks the stream instead of shifting descriptors onto the wrong
 * messages.  That also bounds what a peer can make us hold: at most one
 * descriptor waits for its header between two reads.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "imsg.h"

#define IMSG_ALLOW_FDPASS	0x01

#define IMSG_READ_SIZE		65536	/* one recvmsg() at most */
#define IMSG_IOV_MAX		128	/* buffers per sendmsg() */
#define IMSG_RFD_MAX		2	/* descriptors held between reads + 1 */

/* A view over someone else's memory: never freed, never grown. */
#define IBUF_FD_VIEW		-2

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL		0	/* SO_NOSIGPIPE is set instead */
#endif

TAILQ_HEAD(ibufq, ibuf);

/* A received descriptor and the stream range that came with it. */
struct rfd {
	int		 fd;
	uint64_t	 start;
	uint64_t	 end;
};

struct msgbuf {
	struct ibufq	 bufs;		/* to write */
	uint32_t	 queued;

	struct ibufq	 rbufs;		/* complete, not yet taken */
	struct ibuf	*rpmsg;		/* the message being received */
	uint64_t	 rpmsg_end;	/* stream offset where it ends */
	unsigned char	*rbuf;		/* unframed bytes: a partial header */
	size_t		 rlen;
	uint64_t	 rtotal;	/* bytes received so far */
	struct rfd	 rfds[IMSG_RFD_MAX];	/* FIFO, not yet attached */
	int		 nrfds;
	int		 rerr;		/* errno once the stream is broken */
};

static void	msgbuf_free(struct msgbuf *);
static void	msgbuf_drain(struct msgbuf *, size_t);
static void	msgbuf_rfd_closeall(struct msgbuf *);
static void	msgbuf_frame(struct imsgbuf *);
static int	msgbuf_broken(struct msgbuf *, int);
static void	ibufq_flush(struct ibufq *);

/*
 * Buffers.
 */

struct ibuf *
ibuf_open(size_t len)
{
	struct ibuf	*buf;

	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	if (len > 0 && (buf->buf = calloc(len, 1)) == NULL) {
		free(buf);
		return (NULL);
	}
	buf->size = buf->max = len;
	buf->fd = -1;
	return (buf);
}

struct ibuf *
ibuf_dynamic(size_t len, size_t max)
{
	struct ibuf	*buf;

	if (max == 0 || max < len) {
		errno = EINVAL;
		return (NULL);
	}
	if ((buf = ibuf_open(len)) == NULL)
		return (NULL);
	buf->max = max;
	return (buf);
}

void
ibuf_free(struct ibuf *buf)
{
	int	saved_errno = errno;

	if (buf == NULL)
		return;
	/* A view lives on the caller's stack: freeing it is a bug. */
	if (buf->fd == IBUF_FD_VIEW)
		abort();
	if (buf->fd >= 0)
		close(buf->fd);
	freezero(buf->buf, buf->size);
	free(buf);
	errno = saved_errno;
}

void *
ibuf_reserve(struct ibuf *buf, size_t len)
{
	unsigned char	*nb;
	void		*p;

	if (buf->fd == IBUF_FD_VIEW) {
		errno = EINVAL;
		return (NULL);
	}
	if (len > SIZE_MAX - buf->wpos || buf->wpos + len > buf->max) {
		errno = ERANGE;
		return (NULL);
	}
	if (buf->wpos + len > buf->size) {
		/* Grow geometrically, zero-filled, never past max. */
		size_t	nsize = buf->size < 64 ? 64 : buf->size;

		while (nsize < buf->wpos + len)
			nsize = nsize > buf->max / 2 ? buf->max : nsize * 2;
		if (nsize > buf->max)
			nsize = buf->max;
		nb = recallocarray(buf->buf, buf->size, nsize, 1);
		if (nb == NULL)
			return (NULL);
		buf->buf = nb;
		buf->size = nsize;
	}
	p = buf->buf + buf->wpos;
	buf->wpos += len;
	return (p);
}

int
ibuf_add(struct ibuf *buf, const void *data, size_t len)
{
	void	*p;

	if (len == 0)
		return (0);
	if ((p = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	memcpy(p, data, len);
	return (0);
}

int
ibuf_add_ibuf(struct ibuf *buf, const struct ibuf *from)
{
	return (ibuf_add(buf, ibuf_data(from), ibuf_size(from)));
}

int
ibuf_add_zero(struct ibuf *buf, size_t len)
{
	void	*p;

	if (len == 0)
		return (0);
	if ((p = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	memset(p, 0, len);
	return (0);
}

int
ibuf_add_n8(struct ibuf *buf, uint64_t value)
{
	uint8_t	v;

	if (value > UINT8_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n16(struct ibuf *buf, uint64_t value)
{
	uint16_t	v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n32(struct ibuf *buf, uint64_t value)
{
	uint32_t	v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n64(struct ibuf *buf, uint64_t value)
{
	return (ibuf_add(buf, &value, sizeof(value)));
}

int
ibuf_add_string(struct ibuf *buf, const char *str)
{
	size_t	len = strlen(str);
	size_t	wpos = buf->wpos;

	if (len > UINT32_MAX) {
		errno = ERANGE;
		return (-1);
	}
	if (ibuf_add_n32(buf, len) == -1)
		return (-1);
	if (ibuf_add(buf, str, len) == -1) {
		buf->wpos = wpos;	/* all or nothing */
		return (-1);
	}
	return (0);
}

void *
ibuf_seek(struct ibuf *buf, size_t pos, size_t len)
{
	/* Only within what was written and not yet read. */
	if (pos > ibuf_size(buf) || len > ibuf_size(buf) - pos) {
		errno = ERANGE;
		return (NULL);
	}
	return (buf->buf + buf->rpos + pos);
}

void *
ibuf_data(const struct ibuf *buf)
{
	return (buf->buf + buf->rpos);
}

size_t
ibuf_size(const struct ibuf *buf)
{
	return (buf->wpos - buf->rpos);
}

size_t
ibuf_left(const struct ibuf *buf)
{
	if (buf->fd == IBUF_FD_VIEW)
		return (0);
	return (buf->max - buf->wpos);
}

void
ibuf_rewind(struct ibuf *buf)
{
	buf->rpos = 0;
}

void
ibuf_from_buffer(struct ibuf *buf, void *data, size_t len)
{
	memset(buf, 0, sizeof(*buf));
	buf->buf = data;
	buf->size = buf->max = buf->wpos = len;
	buf->fd = IBUF_FD_VIEW;
}

int
ibuf_get(struct ibuf *buf, void *data, size_t len)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(data, ibuf_data(buf), len);
	buf->rpos += len;
	return (0);
}

int
ibuf_get_ibuf(struct ibuf *buf, size_t len, struct ibuf *view)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	ibuf_from_buffer(view, ibuf_data(buf), len);
	buf->rpos += len;
	return (0);
}

int
ibuf_get_n8(struct ibuf *buf, uint8_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_n16(struct ibuf *buf, uint16_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_n32(struct ibuf *buf, uint32_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_n64(struct ibuf *buf, uint64_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_skip(struct ibuf *buf, size_t len)
{
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	buf->rpos += len;
	return (0);
}

int
ibuf_get_strbuf(struct ibuf *buf, char *str, size_t len)
{
	const char	*p;

	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	str[0] = '\0';
	if (ibuf_size(buf) < len) {
		errno = EBADMSG;
		return (-1);
	}
	p = ibuf_data(buf);
	if (p[len - 1] != '\0') {
		errno = EBADMSG;
		return (-1);
	}
	memcpy(str, p, len);
	buf->rpos += len;
	return (0);
}

int
ibuf_get_string(struct ibuf *buf, char *str, size_t size)
{
	uint32_t	 len;
	const char	*p;

	if (size == 0) {
		errno = EINVAL;
		return (-1);
	}
	str[0] = '\0';
	if (ibuf_size(buf) < sizeof(len)) {
		errno = EBADMSG;
		return (-1);
	}
	memcpy(&len, ibuf_data(buf), sizeof(len));
	if (len >= size || len > ibuf_size(buf) - sizeof(len)) {
		errno = EBADMSG;
		return (-1);
	}
	p = (const char *)ibuf_data(buf) + sizeof(len);
	if (len > 0 && memchr(p, '\0', len) != NULL) {
		errno = EBADMSG;
		return (-1);
	}
	memcpy(str, p, len);
	str[len] = '\0';
	buf->rpos += sizeof(len) + len;
	return (0);
}

void
ibuf_fd_set(struct ibuf *buf, int fd)
{
	if (buf->fd == IBUF_FD_VIEW)
		abort();
	if (buf->fd >= 0)
		close(buf->fd);
	buf->fd = fd >= 0 ? fd : -1;
}

int
ibuf_fd_get(struct ibuf *buf)
{
	int	fd;

	if (buf->fd < 0)
		return (-1);
	fd = buf->fd;
	buf->fd = -1;
	return (fd);
}

int
ibuf_fd_avail(struct ibuf *buf)
{
	return (buf->fd >= 0);
}

static void
ibufq_flush(struct ibufq *q)
{
	struct ibuf	*buf;

	while ((buf = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, buf, entry);
		ibuf_free(buf);
	}
}

/*
 * The channel.
 */

int
imsgbuf_init(struct imsgbuf *imsgbuf, int fd)
{
	struct msgbuf	*mb;
	int		 flags;

	memset(imsgbuf, 0, sizeof(*imsgbuf));
	imsgbuf->fd = -1;
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return (-1);
#if defined(SO_NOSIGPIPE)
	{
		int	on = 1;

		/* Where MSG_NOSIGNAL is missing; fails harmlessly on pipes. */
		(void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof(on));
	}
#endif
	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return (-1);
	if ((mb->rbuf = malloc(IMSG_READ_SIZE)) == NULL) {
		free(mb);
		return (-1);
	}
	TAILQ_INIT(&mb->bufs);
	TAILQ_INIT(&mb->rbufs);
	imsgbuf->w = mb;
	imsgbuf->pid = getpid();
	imsgbuf->maxsize = IMSG_MAXSIZE;
	imsgbuf->fd = fd;
	imsgbuf->flags = 0;
	return (0);
}

void
imsgbuf_allow_fdpass(struct imsgbuf *imsgbuf)
{
	imsgbuf->flags |= IMSG_ALLOW_FDPASS;
}

int
imsgbuf_set_maxsize(struct imsgbuf *imsgbuf, uint32_t max)
{
	if (max > IMSG_MAXSIZE_LIMIT - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return (-1);
	}
	imsgbuf->maxsize = max + IMSG_HEADER_SIZE;
	return (0);
}

uint32_t
imsgbuf_queuelen(struct imsgbuf *imsgbuf)
{
	if (imsgbuf->w == NULL)
		return (0);
	return (imsgbuf->w->queued);
}

void
imsgbuf_clear(struct imsgbuf *imsgbuf)
{
	msgbuf_free(imsgbuf->w);
	imsgbuf->w = NULL;
}

static void
msgbuf_free(struct msgbuf *mb)
{
	if (mb == NULL)
		return;
	ibufq_flush(&mb->bufs);
	ibufq_flush(&mb->rbufs);
	ibuf_free(mb->rpmsg);
	msgbuf_rfd_closeall(mb);
	/* The bytes read last (a token, maybe) go with the buffer. */
	freezero(mb->rbuf, IMSG_READ_SIZE);
	free(mb);
}

static void
msgbuf_rfd_closeall(struct msgbuf *mb)
{
	int	i;

	for (i = 0; i < mb->nrfds; i++)
		close(mb->rfds[i].fd);
	mb->nrfds = 0;
}

/* The stream can no longer be trusted: say why from now on. */
static int
msgbuf_broken(struct msgbuf *mb, int error)
{
	mb->rerr = error;
	msgbuf_rfd_closeall(mb);
	ibuf_free(mb->rpmsg);
	mb->rpmsg = NULL;
	mb->rlen = 0;
	errno = error;
	return (-1);
}

int
imsgbuf_read(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		/* Room for one; C padding may let the kernel put two. */
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	ssize_t		 n;
	int		 fds[8], nfds = 0, i, j, k, fd;

	if (mb == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (mb->rerr != 0) {
		errno = mb->rerr;
		return (-1);
	}

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = mb->rbuf + mb->rlen;
	iov.iov_len = IMSG_READ_SIZE - mb->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

again:
#ifdef MSG_CMSG_CLOEXEC
	n = recvmsg(imsgbuf->fd, &msg, MSG_CMSG_CLOEXEC);
#else
	n = recvmsg(imsgbuf->fd, &msg, 0);
#endif
	if (n == -1) {
		if (errno == EINTR)
			goto again;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (1);
		return (-1);
	}

	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		/* Never trust cmsg_len past the buffer we handed over. */
		if (cmsg->cmsg_len < CMSG_LEN(0) ||
		    (char *)cmsg + cmsg->cmsg_len >
		    cmsgbuf.buf + sizeof(cmsgbuf.buf))
			j = (cmsgbuf.buf + sizeof(cmsgbuf.buf) -
			    (char *)CMSG_DATA(cmsg)) / sizeof(int);
		else
			j = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < j; k++) {
			memcpy(&fd, CMSG_DATA(cmsg) + k * sizeof(int),
			    sizeof(fd));
			if (nfds < (int)nitems(fds))
				fds[nfds++] = fd;
			else
				close(fd);	/* counted as too many below */
		}
	}
#ifndef MSG_CMSG_CLOEXEC
	for (i = 0; i < nfds; i++)
		(void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
#endif

	/*
	 * A truncated control message means descriptors were dropped,
	 * typically at the descriptor limit: the messages they belong to
	 * can never be completed correctly.
	 */
	if (msg.msg_flags & MSG_CTRUNC) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return (msgbuf_broken(mb, EMSGSIZE));
	}
	if (nfds > 0 && ((imsgbuf->flags & IMSG_ALLOW_FDPASS) == 0 ||
	    nfds > 1 || n == 0 || mb->nrfds >= IMSG_RFD_MAX)) {
		/* Refused, or more than a correct sender ever sends. */
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return (msgbuf_broken(mb, EBADMSG));
	}
	if (n == 0)
		return (0);

	if (nfds == 1) {
		mb->rfds[mb->nrfds].fd = fds[0];
		mb->rfds[mb->nrfds].start = mb->rtotal;
		mb->rfds[mb->nrfds].end = mb->rtotal + n;
		mb->nrfds++;
	}
	mb->rlen += n;
	mb->rtotal += n;
	msgbuf_frame(imsgbuf);
	return (1);
}

/*
 * Move complete messages from the read buffer onto the queue.  A bad
 * header or a descriptor out of place marks the stream broken; the
 * messages before it stay available to imsg_get().
 */
static void
msgbuf_frame(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct imsg_hdr	 hdr;
	uint64_t	 base, pos, next;
	size_t		 off = 0, chunk;
	uint32_t	 len;
	int		 fd, i;

	/* Stream offset of mb->rbuf[0]. */
	base = mb->rtotal - mb->rlen;

	while (off < mb->rlen) {
		if (mb->rpmsg == NULL) {
			if (mb->rlen - off < IMSG_HEADER_SIZE)
				break;
			memcpy(&hdr, mb->rbuf + off, sizeof(hdr));
			pos = base + off;
			len = hdr.len & ~IMSG_FD_MARK;
			if (len < IMSG_HEADER_SIZE || len > imsgbuf->maxsize) {
				msgbuf_broken(mb, EBADMSG);
				return;
			}
			/* A descriptor that came before this header is stray. */
			if (mb->nrfds > 0 && mb->rfds[0].end <= pos) {
				msgbuf_broken(mb, EBADMSG);
				return;
			}
			fd = -1;
			if (hdr.len & IMSG_FD_MARK) {
				if (mb->nrfds == 0 || mb->rfds[0].start > pos) {
					msgbuf_broken(mb, EBADMSG);
					return;
				}
				fd = mb->rfds[0].fd;
				for (i = 1; i < mb->nrfds; i++)
					mb->rfds[i - 1] = mb->rfds[i];
				mb->nrfds--;
			}
			if ((mb->rpmsg = ibuf_open(len)) == NULL) {
				if (fd != -1)
					close(fd);
				msgbuf_broken(mb, errno);
				return;
			}
			mb->rpmsg->fd = fd;
			mb->rpmsg_end = pos + len;
		}
		chunk = mb->rlen - off;
		if (chunk > ibuf_left(mb->rpmsg))
			chunk = ibuf_left(mb->rpmsg);
		/* Cannot fail: ibuf_left() said there is room. */
		(void)ibuf_add(mb->rpmsg, mb->rbuf + off, chunk);
		off += chunk;
		if (ibuf_left(mb->rpmsg) == 0) {
			TAILQ_INSERT_TAIL(&mb->rbufs, mb->rpmsg, entry);
			mb->rpmsg = NULL;
		}
	}

	/*
	 * Keep the partial header, if any, at the front, and clear what
	 * was framed: its copy lives on in the message alone, and it may
	 * be a secret (a token, proxy credentials).
	 */
	if (off > 0 && off < mb->rlen)
		memmove(mb->rbuf, mb->rbuf + off, mb->rlen - off);
	if (off > 0)
		explicit_bzero(mb->rbuf + (mb->rlen - off), off);
	mb->rlen -= off;

	/*
	 * A descriptor still waiting must belong to the header that starts
	 * next, and that header must start within the range it came with.
	 */
	next = mb->rpmsg != NULL ? mb->rpmsg_end : mb->rtotal - mb->rlen;
	for (i = 0; i < mb->nrfds; i++) {
		if (i > 0 || mb->rfds[i].start > next ||
		    mb->rfds[i].end <= next) {
			msgbuf_broken(mb, EBADMSG);
			return;
		}
	}
}

ssize_t
imsg_get(struct imsgbuf *imsgbuf, struct imsg *imsg)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct ibuf	*buf;
	struct imsg_hdr	 hdr;

	if (mb == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if ((buf = TAILQ_FIRST(&mb->rbufs)) == NULL) {
		if (mb->rerr != 0) {
			errno = mb->rerr;
			return (-1);
		}
		return (0);
	}
	TAILQ_REMOVE(&mb->rbufs, buf, entry);

	/* Framing checked the length; the header is there. */
	(void)ibuf_get(buf, &hdr, sizeof(hdr));
	hdr.len &= ~IMSG_FD_MARK;
	imsg->hdr = hdr;
	imsg->data = ibuf_size(buf) > 0 ? ibuf_data(buf) : NULL;
	imsg->buf = buf;
	return ((ssize_t)hdr.len);
}

static void
msgbuf_drain(struct msgbuf *mb, size_t n)
{
	struct ibuf	*buf;

	while ((buf = TAILQ_FIRST(&mb->bufs)) != NULL) {
		if (n < ibuf_size(buf)) {
			buf->rpos += n;
			return;
		}
		n -= ibuf_size(buf);
		TAILQ_REMOVE(&mb->bufs, buf, entry);
		mb->queued--;
		ibuf_free(buf);
	}
}

int
imsgbuf_write(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct iovec	 iov[IMSG_IOV_MAX];
	struct ibuf	*buf, *fdbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	ssize_t		 n;
	int		 i;

	if (mb == NULL) {
		errno = EINVAL;
		return (-1);
	}

	while (!TAILQ_EMPTY(&mb->bufs)) {
		/*
		 * One batch per sendmsg(): at most one descriptor, and its
		 * buffer first, so that the descriptor travels with the
		 * first byte of the header that announces it.
		 */
		memset(&msg, 0, sizeof(msg));
		fdbuf = NULL;
		i = 0;
		TAILQ_FOREACH(buf, &mb->bufs, entry) {
			if (i >= IMSG_IOV_MAX)
				break;
			if (i > 0 && buf->fd >= 0)
				break;
			iov[i].iov_base = ibuf_data(buf);
			iov[i].iov_len = ibuf_size(buf);
			i++;
			if (buf->fd >= 0)
				fdbuf = buf;
		}
		msg.msg_iov = iov;
		msg.msg_iovlen = i;
		if (fdbuf != NULL) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			msg.msg_control = cmsgbuf.buf;
			msg.msg_controllen = sizeof(cmsgbuf.buf);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cmsg), &fdbuf->fd, sizeof(int));
		}

		/* MSG_NOSIGNAL: a dead peer is EPIPE, not SIGPIPE. */
		if ((n = sendmsg(imsgbuf->fd, &msg, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return (0);	/* the rest stays queued */
			return (-1);
		}
		/* Anything sent means the descriptor went with it. */
		if (fdbuf != NULL && n > 0) {
			close(fdbuf->fd);
			fdbuf->fd = -1;
		}
		msgbuf_drain(mb, n);
		if (n == 0)
			break;
	}
	return (0);
}

int
imsgbuf_flush(struct imsgbuf *imsgbuf)
{
	struct pollfd	pfd;

	while (imsgbuf_queuelen(imsgbuf) > 0) {
		if (imsgbuf_write(imsgbuf) == -1)
			return (-1);
		if (imsgbuf_queuelen(imsgbuf) == 0)
			break;
		pfd.fd = imsgbuf->fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return (-1);
	}
	return (0);
}

/*
 * Composing.
 */

struct ibuf *
imsg_create(struct imsgbuf *imsgbuf, uint32_t type, uint32_t peerid,
    pid_t pid, size_t datalen)
{
	struct ibuf	*wbuf;
	struct imsg_hdr	 hdr;

	if (imsgbuf->w == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if (datalen > imsgbuf->maxsize - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return (NULL);
	}
	hdr.type = type;
	hdr.len = 0;		/* imsg_close() sets it */
	hdr.peerid = peerid;
	hdr.pid = pid != 0 ? (uint32_t)pid : (uint32_t)imsgbuf->pid;
	if ((wbuf = ibuf_dynamic(datalen + IMSG_HEADER_SIZE,
	    imsgbuf->maxsize)) == NULL)
		return (NULL);
	if (ibuf_add(wbuf, &hdr, sizeof(hdr)) == -1) {
		ibuf_free(wbuf);
		return (NULL);
	}
	return (wbuf);
}

int
imsg_add(struct ibuf *msg, const void *data, size_t datalen)
{
	if (datalen > 0 && ibuf_add(msg, data, datalen) == -1) {
		ibuf_free(msg);
		return (-1);
	}
	return ((int)datalen);
}

void
imsg_close(struct imsgbuf *imsgbuf, struct ibuf *msg)
{
	uint32_t	len;

	if (msg == NULL)
		return;
	if (imsgbuf->w == NULL || ibuf_size(msg) < IMSG_HEADER_SIZE ||
	    ibuf_size(msg) > imsgbuf->maxsize) {
		/* Not a message we could send; drop it, fd included. */
		ibuf_free(msg);
		return;
	}
	len = ibuf_size(msg);
	if (ibuf_fd_avail(msg))
		len |= IMSG_FD_MARK;
	memcpy(msg->buf + msg->rpos + offsetof(struct imsg_hdr, len), &len,
	    sizeof(len));
	TAILQ_INSERT_TAIL(&imsgbuf->w->bufs, msg, entry);
	imsgbuf->w->queued++;
}

int
imsg_compose(struct imsgbuf *imsgbuf, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const void *data, size_t datalen)
{
	struct iovec	iov;

	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = datalen;
	return (imsg_composev(imsgbuf, type, peerid, pid, fd, &iov,
	    datalen > 0 ? 1 : 0));
}

int
imsg_composev(struct imsgbuf *imsgbuf, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const struct iovec *iov, int iovcnt)
{
	struct ibuf	*wbuf = NULL;
	size_t		 datalen = 0;
	int		 i;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX - datalen) {
			errno = ERANGE;
			goto fail;
		}
		datalen += iov[i].iov_len;
	}
	if ((wbuf = imsg_create(imsgbuf, type, peerid, pid, datalen)) == NULL)
		goto fail;
	for (i = 0; i < iovcnt; i++)
		if (ibuf_add(wbuf, iov[i].iov_base, iov[i].iov_len) == -1)
			goto fail;
	ibuf_fd_set(wbuf, fd);
	imsg_close(imsgbuf, wbuf);
	return (1);

fail:
	ibuf_free(wbuf);
	if (fd >= 0) {
		int	saved_errno = errno;

		close(fd);
		errno = saved_errno;
	}
	return (-1);
}

/* The payload goes on; a descriptor does not (imsg_free() closes it). */
int
imsg_forward(struct imsgbuf *imsgbuf, struct imsg *msg)
{
	struct ibuf	*wbuf;
	size_t		 len;

	ibuf_rewind(msg->buf);
	if (ibuf_skip(msg->buf, IMSG_HEADER_SIZE) == -1)
		return (-1);
	len = ibuf_size(msg->buf);
	if ((wbuf = imsg_create(imsgbuf, msg->hdr.type, msg->hdr.peerid,
	    msg->hdr.pid, len)) == NULL)
		return (-1);
	if (ibuf_add_ibuf(wbuf, msg->buf) == -1) {
		ibuf_free(wbuf);
		return (-1);
	}
	imsg_close(imsgbuf, wbuf);
	return (1);
}

void
imsg_free(struct imsg *imsg)
{
	ibuf_free(imsg->buf);
	imsg->buf = NULL;
	imsg->data = NULL;
}

/*
 * Reading a message.
 */

uint32_t
imsg_get_type(struct imsg *imsg)
{
	return (imsg->hdr.type);
}

uint32_t
imsg_get_id(struct imsg *imsg)
{
	return (imsg->hdr.peerid);
}

pid_t
imsg_get_pid(struct imsg *imsg)
{
	return ((pid_t)imsg->hdr.pid);
}

size_t
imsg_get_len(struct imsg *imsg)
{
	return (ibuf_size(imsg->buf));
}

int
imsg_get_fd(struct imsg *imsg)
{
	return (ibuf_fd_get(imsg->buf));
}

int
imsg_get_data(struct imsg *imsg, void *data, size_t len)
{
	if (ibuf_size(imsg->buf) != len) {
		errno = EBADMSG;
		return (-1);
	}
	return (ibuf_get(imsg->buf, data, len));
}

int
imsg_get_buf(struct imsg *imsg, void *data, size_t len)
{
	return (ibuf_get(imsg->buf, data, len));
}

int
imsg_get_ibuf(struct imsg *imsg, struct ibuf *view)
{
	if (ibuf_size(imsg->buf) == 0) {
		errno = EBADMSG;
		return (-1);
	}
	return (ibuf_get_ibuf(imsg->buf, ibuf_size(imsg->buf), view));
}

int
imsg_get_strbuf(struct imsg *imsg, char *str, size_t size)
{
	size_t		 len = ibuf_size(imsg->buf);
	const char	*p = ibuf_data(imsg->buf);

	if (size == 0) {
		errno = EINVAL;
		return (-1);
	}
	str[0] = '\0';
	/* One NUL, the last byte: no truncation, no hidden tail. */
	if (len == 0 || len > size || memchr(p, '\0', len) != p + len - 1) {
		errno = EBADMSG;
		return (-1);
	}
	return (ibuf_get(imsg->buf, str, len));
}
