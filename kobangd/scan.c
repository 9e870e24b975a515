/*
 * The parser child: it receives open descriptors with a label and
 * answers with inventory items and issues (scanproto.h).  It has no
 * file system: Landlock grants nothing and seccomp allows read, pread,
 * fstat and lseek on the descriptors it holds.  The work on one file is
 * scan_file_process() (scan_file.c), the parsers scan_claude.c and
 * scan_npm.c.
 */

#include <sys/types.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kobangd.h"
#include "log.h"
#include "scan.h"
#include "scan_redact.h"
#include "scanproto.h"
#include "sha256.h"

/* Allocations below this stay in the heap between files. */
#define SCAN_HEAP_KEEP	(32 * 1024 * 1024)

static int	scan_recv_file(struct imsgbuf *, struct imsg *);
static int	scan_recv_key(struct imsg *);

static struct imsgbuf	scan_ibuf;

void
scan_main(const char *user)
{
	/* Nothing to load for libmd; kept for a digest that would need it. */
	if (sha256_preload() == -1)
		fatalx("cannot load SHA-256");
#ifdef __GLIBC__
	/*
	 * Each file's buffers (a JSON window of up to 1 MiB, a whole TOML
	 * or YAML document, the item batch) are freed when it is done and
	 * needed again for the next one.  glibc would hand those above its
	 * mmap and trim thresholds back to the kernel and take them again
	 * zeroed, a page fault a page: keep them in the heap instead (a
	 * baseline of 120 lockfiles, 86 MB: 8,800 faults down to 800).
	 * child_loop() gives the heap back once the child is idle.
	 */
	mallopt(M_MMAP_THRESHOLD, SCAN_HEAP_KEEP);
	mallopt(M_TRIM_THRESHOLD, 2 * SCAN_HEAP_KEEP);
#endif
	child_setup("scan", SANDBOX_SCAN, user, &scan_ibuf);
	if (scanproto_channel_init(&scan_ibuf) == -1)
		fatal("scan channel size");
	child_loop(&scan_ibuf, scan_dispatch_imsg);
}

/* Exported for the tests that run the child's code in a fork. */
int
scan_dispatch_imsg(struct imsgbuf *ibuf)
{
	struct imsg	imsg;
	ssize_t		n;
	int		ret = 0;

	while (ret == 0) {
		if ((n = imsg_get(ibuf, &imsg)) == -1)
			return (-1);
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_SCAN_FILE:
			ret = scan_recv_file(ibuf, &imsg);
			break;
		case IMSG_SCAN_KEY:
			ret = scan_recv_key(&imsg);
			break;
		default:
			log_warnx("unexpected message type %u",
			    imsg_get_type(&imsg));
			ret = -1;
			break;
		}
		imsg_free(&imsg);
	}
	return (ret);
}

/*
 * IMSG_SCAN_FILE: the request's size exactly, a descriptor present.  The
 * parent is trusted, so anything else is a bug and the child exits.
 */
static int
scan_recv_file(struct imsgbuf *ibuf, struct imsg *imsg)
{
	struct scan_file	req;
	int			fd;

	fd = imsg_get_fd(imsg);
	if (imsg_get_data(imsg, &req, sizeof(req)) == -1 || fd == -1) {
		log_warnx("IMSG_SCAN_FILE: bad size or no descriptor");
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if (scan_file_process(ibuf, &req, fd) == -1) {
		/* The parent closed the channel at shutdown: no noise. */
		if (child_parent_gone(ibuf))
			exit(0);
		log_warn("IMSG_SCAN_FILE: file %u", req.file_id);
		return (-1);
	}
	return (0);
}

/*
 * IMSG_SCAN_KEY: exactly a struct scan_key, no descriptor, not all
 * zeros, and only once: the parent sends it first thing to each child.
 */
static int
scan_recv_key(struct imsg *imsg)
{
	struct scan_key	sk;
	size_t		i;
	uint8_t		any = 0;
	int		fd, ret = -1;

	if ((fd = imsg_get_fd(imsg)) != -1) {
		close(fd);
		log_warnx("IMSG_SCAN_KEY: unexpected descriptor");
		return (-1);
	}
	if (imsg_get_data(imsg, &sk, sizeof(sk)) == -1) {
		log_warnx("IMSG_SCAN_KEY: bad size");
		return (-1);
	}
	for (i = 0; i < sizeof(sk.key); i++)
		any |= sk.key[i];
	if (!any)
		log_warnx("IMSG_SCAN_KEY: an empty key");
	else if (scan_redact_setkey(sk.key, sizeof(sk.key)) == -1)
		log_warnx("IMSG_SCAN_KEY: a second key");
	else
		ret = 0;
	explicit_bzero(&sk, sizeof(sk));
	return (ret);
}
