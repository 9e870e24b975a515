/*
 * The resolver child: turns the Fleet host name into numeric addresses
 * for the parent, so glibc's resolver never runs as root nor inside the
 * TLS process.  Resolution requests arrive with the transport issue.
 */

#include <sys/types.h>

#include "kobangd.h"
#include "log.h"

static int	dns_dispatch_imsg(struct imsgbuf *);

static struct imsgbuf	dns_ibuf;

void
dns_main(const char *user)
{
	child_setup("dns", SANDBOX_DNS, user, &dns_ibuf);
	child_loop(&dns_ibuf, dns_dispatch_imsg);
}

static int
dns_dispatch_imsg(struct imsgbuf *ibuf)
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
