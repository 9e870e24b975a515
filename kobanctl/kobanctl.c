/*
 * kobanctl: query and control kobangd over its UNIX socket.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config_cmd.h"
#include "ctl.h"
#include "imsg.h"
#include "kobanctl.h"
#include "parser.h"

#define KOBANCTL_SOCKET		"/run/kobangd.sock"
#define KOBANCTL_TIMEOUT	10	/* seconds without a reply */

static void __dead
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-j] [-s socket] [-t seconds] command "
	    "[argument ...]\ncommands:\n", __progname);
	parser_usage();
	exit(2);
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(1, "socket path too long: %s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "connect %s (is kobangd running?)", path);
	return (fd);
}

/* Block for the next message, at most timeout seconds; EOF is an error. */
static void
ctl_next(struct imsgbuf *ibuf, struct imsg *imsg, int timeout)
{
	struct pollfd	pfd;
	ssize_t		n;

	for (;;) {
		if ((n = imsg_get(ibuf, imsg)) == -1)
			errx(1, "malformed reply from kobangd");
		if (n > 0)
			return;
		pfd.fd = ibuf->fd;
		pfd.events = POLLIN;
		switch (poll(&pfd, 1, timeout * 1000)) {
		case -1:
			if (errno == EINTR)
				continue;
			err(1, "poll");
		case 0:
			errx(1, "no reply from kobangd within %d seconds",
			    timeout);
		}
		switch (imsgbuf_read(ibuf)) {
		case -1:
			if (errno != ECONNRESET)
				err(1, "read from kobangd");
			/* FALLTHROUGH */
		case 0:
			errx(1, "kobangd closed the connection before "
			    "answering");
		}
	}
}

/* Send what is queued; a peer that hung up is reported as such. */
static void
ctl_send(struct imsgbuf *ibuf)
{
	if (imsgbuf_flush(ibuf) == -1) {
		if (errno == EPIPE || errno == ECONNRESET)
			errx(1, "kobangd closed the connection before "
			    "answering");
		err(1, "send to kobangd");
	}
}

static void __dead
ctl_daemon_error(struct imsg *imsg)
{
	char	msg[CTL_ERRLEN];

	if (imsg_get_strbuf(imsg, msg, sizeof(msg)) == -1)
		errx(1, "kobangd sent a malformed error");
	errx(1, "kobangd: %s", msg);
}

static void
ctl_hello(struct imsgbuf *ibuf, int timeout)
{
	struct ctl_hello	hello;
	struct imsg		imsg;

	memset(&hello, 0, sizeof(hello));
	hello.protocol = CTL_PROTOCOL_VERSION;
	strlcpy(hello.version, KOBANGD_VERSION, sizeof(hello.version));
	if (imsg_compose(ibuf, IMSG_CTL_HELLO, 0, 0, -1, &hello,
	    sizeof(hello)) == -1)
		err(1, "hello");
	ctl_send(ibuf);
	ctl_next(ibuf, &imsg, timeout);
	if (imsg_get_type(&imsg) == IMSG_CTL_ERROR)
		ctl_daemon_error(&imsg);
	if (imsg_get_type(&imsg) != IMSG_CTL_HELLO ||
	    imsg_get_data(&imsg, &hello, sizeof(hello)) == -1)
		errx(1, "kobangd answered the hello with something else");
	if (hello.protocol != CTL_PROTOCOL_VERSION)
		errx(1, "kobangd speaks control protocol %u, kobanctl %u",
		    hello.protocol, CTL_PROTOCOL_VERSION);
	imsg_free(&imsg);
}

static void
show_status(struct imsgbuf *ibuf, const struct output *out, int timeout)
{
	struct ctl_status	 st;
	struct ctl_status_proc	 p;
	struct imsg		 imsg;
	int			 done = 0, seen_status = 0;

	if (imsg_compose(ibuf, IMSG_CTL_SHOW_STATUS, 0, 0, -1, NULL, 0) == -1)
		err(1, "request");
	ctl_send(ibuf);
	while (!done) {
		ctl_next(ibuf, &imsg, timeout);
		switch (imsg_get_type(&imsg)) {
		case IMSG_CTL_ERROR:
			ctl_daemon_error(&imsg);
		case IMSG_CTL_STATUS:
			if (imsg_get_data(&imsg, &st, sizeof(st)) == -1)
				errx(1, "malformed status reply");
			st.version[sizeof(st.version) - 1] = '\0';
			out->status(&st);
			seen_status = 1;
			break;
		case IMSG_CTL_STATUS_PROC:
			if (!seen_status ||
			    imsg_get_data(&imsg, &p, sizeof(p)) == -1)
				errx(1, "malformed status reply");
			p.name[sizeof(p.name) - 1] = '\0';
			out->status_proc(&p);
			break;
		case IMSG_CTL_END:
			done = 1;
			break;
		default:
			errx(1, "unexpected reply type %u",
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
	out->end();
}

int
main(int argc, char *argv[])
{
	const struct parse_result	*res;
	const struct output		*out = &output_human;
	struct imsgbuf			 ibuf;
	const char			*sockpath = KOBANCTL_SOCKET, *errstr;
	int				 ch, timeout = KOBANCTL_TIMEOUT;

	if (getenv("KOBANGD_SOCKET") != NULL)
		sockpath = getenv("KOBANGD_SOCKET");
	while ((ch = getopt(argc, argv, "+js:t:")) != -1) {
		switch (ch) {
		case 'j':
			out = &output_json;
			break;
		case 's':
			sockpath = optarg;
			break;
		case 't':
			timeout = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "timeout %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if ((res = parse(argc, argv)) == NULL)
		exit(2);

	signal(SIGPIPE, SIG_IGN);

	/* Offline commands: no daemon needed. */
	switch (res->action) {
	case NONE:
		usage();
	case CONFIG_CHECK:
		return (ctl_config_check(res->file));
	case CONFIG_CANON:
		return (ctl_config_canon(res->file));
	default:
		break;
	}

	if (imsgbuf_init(&ibuf, ctl_connect(sockpath)) == -1)
		err(1, "imsgbuf_init");
	ctl_hello(&ibuf, timeout);

	switch (res->action) {
	case SHOW_STATUS:
		show_status(&ibuf, out, timeout);
		break;
	default:
		usage();
	}
	imsgbuf_clear(&ibuf);
	close(ibuf.fd);
	return (0);
}
