/*
 * A local user hammering the control socket, for t_privsep_ctl.  It
 * opens N connections to SOCKET and, for SECONDS, either says nothing
 * on them ("idle"), says hello and then nothing ("hello"), or says
 * hello and then sends show-status requests as fast as the socket takes
 * them without ever reading a reply ("unread").  Then it prints how
 * many connections it made, how many the daemon had closed by then and
 * how many requests it sent:
 *	made M closed C sent S
 * A connection the daemon refused at once counts as made and closed.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "ctl.h"

#define MAXCONN	256

static int
send_msg(int fd, uint32_t type, const void *p, uint32_t len)
{
	unsigned char	buf[16 + sizeof(struct ctl_hello)];
	uint32_t	hdr[4];

	hdr[0] = type;
	hdr[1] = 16 + len;
	hdr[2] = 0;
	hdr[3] = (uint32_t)getpid();
	memcpy(buf, hdr, 16);
	if (len > 0)
		memcpy(buf + 16, p, len);
	return (send(fd, buf, 16 + len, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)(16 + len) ? 0 : -1);
}

/* Closed by the peer: EOF or reset, with whatever was sent first. */
static int
peer_closed(int fd)
{
	char	buf[4096];
	ssize_t	n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	return (n == 0 || (n == -1 && errno != EAGAIN));
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	sun;
	struct ctl_hello	hello;
	const char		*errstr;
	time_t			end;
	long			sent = 0;
	int			fds[MAXCONN], n, secs, i, made = 0, closed = 0;
	int			mode, r;
	time_t			start = time(NULL);

	if (argc != 5)
		errx(2, "usage: ctl_flood idle|hello|unread n seconds socket");
	if (strcmp(argv[1], "idle") == 0)
		mode = 0;
	else if (strcmp(argv[1], "hello") == 0)
		mode = 1;
	else if (strcmp(argv[1], "unread") == 0)
		mode = 2;
	else
		errx(2, "unknown mode %s", argv[1]);
	n = (int)strtonum(argv[2], 1, MAXCONN, &errstr);
	if (errstr != NULL)
		errx(2, "n %s", errstr);
	secs = (int)strtonum(argv[3], 1, 600, &errstr);
	if (errstr != NULL)
		errx(2, "seconds %s", errstr);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, argv[4], sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(2, "socket path too long");
	memset(&hello, 0, sizeof(hello));
	hello.protocol = CTL_PROTOCOL_VERSION;
	strlcpy(hello.version, "flood", sizeof(hello.version));

	for (i = 0; i < n; i++) {
		if ((fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK,
		    0)) == -1)
			err(1, "socket");
		/*
		 * Non-blocking: a full backlog is EAGAIN, retried while the
		 * daemon drains it, for 3 s in all.
		 */
		while ((r = connect(fds[i], (struct sockaddr *)&sun,
		    sizeof(sun))) == -1 && errno == EAGAIN &&
		    time(NULL) < start + 3)
			usleep(1000);
		if (r == -1) {
			close(fds[i]);
			fds[i] = -1;
			continue;
		}
		made++;
		if (mode >= 1)
			(void)send_msg(fds[i], IMSG_CTL_HELLO, &hello,
			    sizeof(hello));
	}
	/* None at all is a result too: the daemon's slots were full. */
	printf("connected %d\n", made);
	fflush(stdout);

	end = time(NULL) + secs;
	while (time(NULL) < end) {
		if (mode == 2) {
			for (i = 0; i < n; i++)
				while (fds[i] != -1 && send_msg(fds[i],
				    IMSG_CTL_SHOW_STATUS, NULL, 0) == 0)
					sent++;
		}
		usleep(mode == 2 ? 1000 : 100000);
	}
	for (i = 0; i < n; i++)
		if (fds[i] != -1 && peer_closed(fds[i]))
			closed++;
	printf("made %d closed %d sent %ld\n", made, closed, sent);
	return (0);
}
