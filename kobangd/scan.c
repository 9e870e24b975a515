/*
 * The parser child: it receives open descriptors with a label and
 * answers with inventory items.  The parsers arrive with the sensor
 * pipeline; for now it sandboxes itself and serves an empty set.
 */

#include <sys/types.h>

#include "kobangd.h"
#include "log.h"
#include "scanproto.h"

static int	scan_dispatch_imsg(struct imsgbuf *);

static struct imsgbuf	scan_ibuf;

void
scan_main(const char *user)
{
	child_setup("scan", SANDBOX_SCAN, user, &scan_ibuf);
	if (scanproto_channel_init(&scan_ibuf) == -1)
		fatal("scan channel size");
	child_loop(&scan_ibuf, scan_dispatch_imsg);
}

static int
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
