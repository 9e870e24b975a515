/*
 * imsg: length-prefixed messages with a type, a peer id, a pid and an
 * optional file descriptor, over a UNIX stream socket.  The layout and
 * the calls follow OpenBSD's imsg as of 7.7; the implementation is ours.
 *
 * Wire format: a header of four uint32_t in host order (the channel
 * never leaves the machine), then the payload.  hdr.len is the total
 * length including the header; bit 31 (IMSG_FD_MARK) says that a
 * descriptor travels with this message.  A descriptor is attached only
 * to the message that carries the mark: on Linux it can arrive together
 * with bytes of an earlier message, so arrival alone proves nothing.
 *
 * Sending uses MSG_NOSIGNAL (SO_NOSIGPIPE where that is missing): a dead
 * peer makes imsgbuf_write() fail with EPIPE instead of raising SIGPIPE.
 */
#ifndef KOBANG_IMSG_H
#define KOBANG_IMSG_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

#define IMSG_HEADER_SIZE	sizeof(struct imsg_hdr)
#define IMSG_MAXSIZE		16384		/* default, header included */
#define IMSG_MAXSIZE_LIMIT	(16U * 1024 * 1024)	/* hard cap */
#define IMSG_FD_MARK		0x80000000U

struct imsg_hdr {
	uint32_t	type;
	uint32_t	len;		/* header included; bit 31: fd */
	uint32_t	peerid;
	uint32_t	pid;
};

struct ibuf {
	TAILQ_ENTRY(ibuf)	 entry;
	unsigned char		*buf;
	size_t			 size;	/* allocated */
	size_t			 max;	/* may grow up to this */
	size_t			 wpos;	/* end of the data */
	size_t			 rpos;	/* next byte to read */
	int			 fd;	/* -1 none; < -1 internal markers */
};

struct msgbuf;				/* write queue and read state */

struct imsgbuf {
	struct msgbuf	*w;
	pid_t		 pid;
	uint32_t	 maxsize;	/* whole message, header included */
	int		 fd;
	int		 flags;
};

struct imsg {
	struct imsg_hdr	 hdr;		/* hdr.len without IMSG_FD_MARK */
	void		*data;		/* payload, NULL when empty */
	struct ibuf	*buf;		/* owns payload and descriptor */
};

/*
 * The channel.  imsgbuf_init() sets O_NONBLOCK on fd.  Receiving a
 * descriptor is an error unless imsgbuf_allow_fdpass() was called;
 * sending one is always possible.  imsgbuf_set_maxsize() takes the
 * largest payload, as OpenBSD's does: the limit becomes that plus the
 * header, and must stay within IMSG_MAXSIZE_LIMIT (else -1, ERANGE).
 *
 * imsgbuf_read():  1 ok (also when nothing was there: EAGAIN), 0 EOF,
 *		    -1 error.  Once the stream is known to be broken
 *		    (truncated control data, a refused, surplus or stray
 *		    descriptor, a bad header) every later read fails too.
 *		    There is no descriptor headroom check: at the limit
 *		    the kernel drops the descriptor and sets MSG_CTRUNC,
 *		    which is an error here (EMSGSIZE), never a silent drop.
 * imsgbuf_write(): sends what the socket takes, one sendmsg() per
 *		    descriptor; 0 ok (EAGAIN leaves the rest queued, partial
 *		    writes resume where they stopped), -1 error (EPIPE...).
 * imsgbuf_flush(): writes until the queue is empty, polling; 0 or -1.
 * imsgbuf_clear(): frees everything, closes every descriptor it holds,
 *		    and leaves the imsgbuf unusable until imsgbuf_init().
 */
int		 imsgbuf_init(struct imsgbuf *, int);
void		 imsgbuf_allow_fdpass(struct imsgbuf *);
int		 imsgbuf_set_maxsize(struct imsgbuf *, uint32_t);
int		 imsgbuf_read(struct imsgbuf *);
int		 imsgbuf_write(struct imsgbuf *);
int		 imsgbuf_flush(struct imsgbuf *);
void		 imsgbuf_clear(struct imsgbuf *);
uint32_t	 imsgbuf_queuelen(struct imsgbuf *);

/*
 * imsg_get(): -1 error (EBADMSG: the stream is broken), 0 no complete
 * message yet, else the message's total length.  Messages read before
 * the breakage are still handed out first.
 */
ssize_t		 imsg_get(struct imsgbuf *, struct imsg *);

/*
 * Composing.  pid 0 means our own.  The descriptor passed to
 * imsg_compose() and imsg_composev() belongs to the library from then
 * on, also when the call fails; it is closed once sent.
 */
int		 imsg_compose(struct imsgbuf *, uint32_t, uint32_t, pid_t,
		    int, const void *, size_t);
int		 imsg_composev(struct imsgbuf *, uint32_t, uint32_t, pid_t,
		    int, const struct iovec *, int);
struct ibuf	*imsg_create(struct imsgbuf *, uint32_t, uint32_t, pid_t,
		    size_t);
int		 imsg_add(struct ibuf *, const void *, size_t);
void		 imsg_close(struct imsgbuf *, struct ibuf *);
int		 imsg_forward(struct imsgbuf *, struct imsg *);
void		 imsg_free(struct imsg *);

/*
 * Reading a message.  The payload getters consume what they return.
 * imsg_get_data(): the payload must be exactly that long (EBADMSG).
 * imsg_get_ibuf(): a read-only view over the remaining payload, which
 *		    must not be empty (EBADMSG), as in OpenBSD.
 * imsg_get_strbuf(): the payload is 1..size bytes, ends in its only NUL.
 * imsg_get_fd():   hands the descriptor over; -1 if there is none.
 */
uint32_t	 imsg_get_type(struct imsg *);
uint32_t	 imsg_get_id(struct imsg *);
pid_t		 imsg_get_pid(struct imsg *);
size_t		 imsg_get_len(struct imsg *);
int		 imsg_get_fd(struct imsg *);
int		 imsg_get_data(struct imsg *, void *, size_t);
int		 imsg_get_buf(struct imsg *, void *, size_t);
int		 imsg_get_ibuf(struct imsg *, struct ibuf *);
int		 imsg_get_strbuf(struct imsg *, char *, size_t);

/*
 * Buffers.  Numbers are in host order: this is IPC, never a network
 * format.  ibuf_add_n*() fail (EINVAL) when the value does not fit.
 * Failed getters leave the read position where it was (EBADMSG).
 * ibuf_get_strbuf() reads exactly len bytes whose last one is NUL.
 * ibuf_get_string() reads a uint32_t length and that many bytes, none
 * of them NUL, the length below the destination's size; it stores them
 * NUL-terminated.  ibuf_add_string() writes that format.
 * ibuf_from_buffer() and ibuf_get_ibuf() make read-only views that must
 * never be passed to ibuf_free().
 */
struct ibuf	*ibuf_open(size_t);
struct ibuf	*ibuf_dynamic(size_t, size_t);
void		 ibuf_free(struct ibuf *);
void		*ibuf_reserve(struct ibuf *, size_t);
int		 ibuf_add(struct ibuf *, const void *, size_t);
int		 ibuf_add_ibuf(struct ibuf *, const struct ibuf *);
int		 ibuf_add_zero(struct ibuf *, size_t);
int		 ibuf_add_n8(struct ibuf *, uint64_t);
int		 ibuf_add_n16(struct ibuf *, uint64_t);
int		 ibuf_add_n32(struct ibuf *, uint64_t);
int		 ibuf_add_n64(struct ibuf *, uint64_t);
int		 ibuf_add_string(struct ibuf *, const char *);
void		*ibuf_seek(struct ibuf *, size_t, size_t);
void		*ibuf_data(const struct ibuf *);
size_t		 ibuf_size(const struct ibuf *);
size_t		 ibuf_left(const struct ibuf *);
void		 ibuf_rewind(struct ibuf *);
void		 ibuf_from_buffer(struct ibuf *, void *, size_t);
int		 ibuf_get(struct ibuf *, void *, size_t);
int		 ibuf_get_ibuf(struct ibuf *, size_t, struct ibuf *);
int		 ibuf_get_n8(struct ibuf *, uint8_t *);
int		 ibuf_get_n16(struct ibuf *, uint16_t *);
int		 ibuf_get_n32(struct ibuf *, uint32_t *);
int		 ibuf_get_n64(struct ibuf *, uint64_t *);
int		 ibuf_skip(struct ibuf *, size_t);
int		 ibuf_get_strbuf(struct ibuf *, char *, size_t);
int		 ibuf_get_string(struct ibuf *, char *, size_t);
void		 ibuf_fd_set(struct ibuf *, int);
int		 ibuf_fd_get(struct ibuf *);
int		 ibuf_fd_avail(struct ibuf *);

#endif
