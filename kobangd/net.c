/*
 * The network child: libtls, HTTP and the protocol JSON arrive with the
 * identity and transport issue; for now it sandboxes itself and serves
 * an empty set of requests.
 */

#include <sys/types.h>

#include "kobangd.h"
#include "log.h"

static int	net_dispatch_imsg(struct imsgbuf *);

static struct imsgbuf	net_ibuf;

void
net_main(const char *user)
{
	child_setup("net", SANDBOX_NET, user, &net_ibuf);
	child_loop(&net_ibuf, net_dispatch_imsg);
}

static int
net_dispatch_imsg(struct imsgbuf *ibuf)
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
