/*
 * A misbehaving control socket for kobanctl's tests: it listens on PATH
 * and, per connection, either says nothing ("silent"), hangs up at once
 * ("close") or answers the hello with a message of the wrong size
 * ("short").  It serves one connection, then exits.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "ctl.h"

int
main(int argc, char *argv[])
{
	struct sockaddr_un	sun;
	uint32_t		hdr[4];
	char			buf[256];
	int			fd, c;

	if (argc != 3)
		errx(2, "usage: ctl_peer silent|close|short path");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, argv[2], sizeof(sun.sun_path));
	unlink(argv[2]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 1) == -1)
		err(1, "%s", argv[2]);
	/* Tell the test we are listening. */
	printf("ready\n");
	fflush(stdout);
	if ((c = accept(fd, NULL, NULL)) == -1)
		err(1, "accept");
	if (strcmp(argv[1], "close") == 0) {
		close(c);
	} else if (strcmp(argv[1], "short") == 0) {
		if (read(c, buf, sizeof(buf)) <= 0)
			err(1, "read");
		hdr[0] = IMSG_CTL_HELLO;
		hdr[1] = sizeof(hdr) + 2;
		hdr[2] = hdr[3] = 0;
		if (write(c, hdr, sizeof(hdr)) != sizeof(hdr) ||
		    write(c, "x", 2) != 2)
			err(1, "write");
		sleep(5);
	} else {
		/* silent: hold the connection and never answer */
		while (read(c, buf, sizeof(buf)) > 0)
			;
	}
	return (0);
}
