/*
 * A hostile parent for a child's dispatcher, shared by fuzz_child_net,
 * fuzz_child_scan and fuzz_child_dns.  The input is a stream of
 * messages, each a type byte (an index into the harness's table of the
 * types the child knows, wrapped; others are sent as they are), a flags
 * byte (bit 0: attach a descriptor), a 16-bit little-endian length and
 * that many payload bytes (cut at the input's end).  Each message goes
 * over a real socketpair through imsg to the child's own dispatcher,
 * whose answers are read and dropped; the first refusal ends the input,
 * as it ends the child.
 */
#ifndef FUZZ_CHILD_COMMON_H
#define FUZZ_CHILD_COMMON_H

#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

struct fz_chan {
	struct imsgbuf	parent;
	struct imsgbuf	child;
	int		sv[2];
};

struct fz_msg {
	uint8_t		 sel;		/* the type byte */
	int		 fd;		/* attach a descriptor */
	const uint8_t	*p;
	size_t		 len;
};

/* The next message of the input; 0 at its end. */
static int
fz_next(const uint8_t **data, size_t *size, struct fz_msg *m)
{
	size_t	len;

	if (*size < 4)
		return (0);
	m->sel = (*data)[0];
	m->fd = (*data)[1] & 1;
	len = (size_t)(*data)[2] | (size_t)(*data)[3] << 8;
	*data += 4;
	*size -= 4;
	if (len > *size)
		len = *size;
	m->p = *data;
	m->len = len;
	*data += len;
	*size -= len;
	return (1);
}

static void
fz_open(struct fz_chan *c, int (*init)(struct imsgbuf *))
{
	int	big = 8 * 1024 * 1024;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->sv) == -1)
		abort();
	/* Room for every answer: the dispatcher may flush and block. */
	(void)setsockopt(c->sv[0], SOL_SOCKET, SO_RCVBUFFORCE, &big,
	    sizeof(big));
	(void)setsockopt(c->sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &big,
	    sizeof(big));
	if (imsgbuf_init(&c->parent, c->sv[0]) == -1 ||
	    imsgbuf_init(&c->child, c->sv[1]) == -1)
		abort();
	imsgbuf_allow_fdpass(&c->child);
	if (init != NULL && (init(&c->parent) == -1 || init(&c->child) == -1))
		abort();
}

static void
fz_close(struct fz_chan *c)
{
	imsgbuf_clear(&c->parent);
	imsgbuf_clear(&c->child);
	close(c->sv[0]);
	close(c->sv[1]);
}

/* The child's answers out and dropped, descriptors and all. */
static void
fz_drain(struct fz_chan *c)
{
	struct pollfd	pfd;
	struct imsg	imsg;
	int		fd;

	if (imsgbuf_flush(&c->child) == -1)
		abort();
	pfd.fd = c->sv[0];
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 0) == 1 && pfd.revents & POLLIN) {
		if (imsgbuf_read(&c->parent) != 1)
			abort();
		while (imsg_get(&c->parent, &imsg) > 0) {
			if ((fd = imsg_get_fd(&imsg)) != -1)
				close(fd);
			imsg_free(&imsg);
		}
	}
}

/*
 * One message from the parent to the dispatcher: its answer, or 0 when
 * imsg would not even frame it (too large for the channel).
 */
static int
fz_send(struct fz_chan *c, int (*dispatch)(struct imsgbuf *), uint32_t type,
    const void *p, size_t len, int fd)
{
	struct pollfd	pfd;
	int		ret = 0;

	if (imsg_compose(&c->parent, type, 0, 0, fd, p, len) == -1)
		return (0);	/* the descriptor is closed by imsg */
	if (imsgbuf_flush(&c->parent) == -1)
		abort();
	pfd.fd = c->sv[1];
	pfd.events = POLLIN;
	while (ret == 0 && poll(&pfd, 1, 0) == 1 && pfd.revents & POLLIN) {
		if (imsgbuf_read(&c->child) != 1)
			abort();
		ret = dispatch(&c->child);
	}
	if (ret == 0)
		fz_drain(c);
	return (ret);
}

/* A descriptor to attach when asked: /dev/null, read-only. */
static int
fz_devnull(void)
{
	int	fd;

	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	return (fd);
}

#endif
