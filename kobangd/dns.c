/*
 * The resolver child: turns the Fleet host name into numeric addresses
 * for the parent, so glibc's resolver never runs as root nor inside the
 * TLS process.  It answers with addresses only; the parent connects.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <netdb.h>
#include <string.h>

#include "kobangd.h"
#include "log.h"
#include "netproto.h"

static int	dns_dispatch_imsg(struct imsgbuf *);

static struct imsgbuf	dns_ibuf;

void
dns_main(const char *user)
{
	child_setup("dns", SANDBOX_DNS, user, &dns_ibuf);
	child_loop(&dns_ibuf, dns_dispatch_imsg);
}

static void
dns_resolve(struct imsgbuf *ibuf, const struct dns_query *q)
{
	struct dns_answer	 a;
	struct addrinfo		 hints, *res = NULL, *ai;
	struct dns_addr		 d;
	uint32_t		 i;
	int			 dup;

	memset(&a, 0, sizeof(a));
	a.id = q->id;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if ((a.error = getaddrinfo(q->host, NULL, &hints, &res)) != 0)
		log_debug("resolving %s: %s", q->host, gai_strerror(a.error));
	for (ai = res; ai != NULL && a.naddrs < DNS_MAX_ADDRS;
	    ai = ai->ai_next) {
		memset(&d, 0, sizeof(d));
		if (ai->ai_family == AF_INET &&
		    ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
			d.family = AF_INET;
			memcpy(d.addr, &((struct sockaddr_in *)
			    ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6 &&
		    ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			d.family = AF_INET6;
			memcpy(d.addr, &((struct sockaddr_in6 *)
			    ai->ai_addr)->sin6_addr, 16);
		} else
			continue;
		/* glibc lists an address once per socket type otherwise. */
		for (dup = 0, i = 0; i < a.naddrs && !dup; i++)
			dup = memcmp(&a.addrs[i], &d, sizeof(d)) == 0;
		if (!dup)
			a.addrs[a.naddrs++] = d;
	}
	if (res != NULL)
		freeaddrinfo(res);
	if (a.error == 0 && a.naddrs == 0)
		a.error = EAI_NONAME;
	if (imsg_compose(ibuf, IMSG_DNS_ANSWER, 0, 0, -1, &a, sizeof(a)) == -1)
		fatal("imsg_compose");
}

static int
dns_dispatch_imsg(struct imsgbuf *ibuf)
{
	struct imsg		imsg;
	struct dns_query	q;
	ssize_t			n;
	int			ret = 0;

	while (ret == 0) {
		if ((n = imsg_get(ibuf, &imsg)) == -1)
			return (-1);
		if (n == 0)
			break;
		switch (imsg_get_type(&imsg)) {
		case IMSG_DNS_QUERY:
			if (imsg_get_data(&imsg, &q, sizeof(q)) == -1 ||
			    memchr(q.host, '\0', sizeof(q.host)) == NULL ||
			    q.host[0] == '\0') {
				log_warnx("malformed query");
				ret = -1;
				break;
			}
			dns_resolve(ibuf, &q);
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
