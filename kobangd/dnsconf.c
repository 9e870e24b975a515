/*
 * The name servers of resolv.conf, connected by the parent.  The dns
 * child gets one connected UDP socket per server and makes none of its
 * own, so it can reach the configured resolvers and nothing else, on
 * any kernel (Landlock does not cover UDP).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "kobangd.h"
#include "log.h"
#include "netproto.h"

#define DNS_RESOLV_CONF		"/etc/resolv.conf"
#define DNS_RESOLV_MAX		(64 * 1024)

/*
 * "nameserver ADDR" lines, as glibc reads them: the first word of the
 * line, then a numeric address; the first DNS_MAX_SERVERS count.  An
 * address with a zone ("fe80::1%eth0") is skipped: the socket would
 * need the interface, and glibc's own handling of it varies.
 */
int
dns_conf_parse(const char *buf, size_t len, struct dns_server *out, int max)
{
	const char	*p = buf, *end = buf + len, *eol, *w;
	char		 addr[INET6_ADDRSTRLEN + 1];
	size_t		 wl;
	int		 n = 0;

	while (p < end && n < max) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(eol - p) > 10 && memcmp(p, "nameserver", 10) == 0 &&
		    (p[10] == ' ' || p[10] == '\t')) {
			for (w = p + 10; w < eol && (*w == ' ' || *w == '\t');
			    w++)
				;
			for (wl = 0; w + wl < eol && w[wl] != ' ' &&
			    w[wl] != '\t' && w[wl] != '\r' && w[wl] != '#' &&
			    w[wl] != ';'; wl++)
				;
			if (wl > 0 && wl < sizeof(addr)) {
				memcpy(addr, w, wl);
				addr[wl] = '\0';
				memset(&out[n], 0, sizeof(out[n]));
				out[n].port = DNS_PORT;
				if (inet_pton(AF_INET, addr, out[n].addr) == 1)
					out[n++].family = AF_INET;
				else if (inet_pton(AF_INET6, addr,
				    out[n].addr) == 1)
					out[n++].family = AF_INET6;
			}
		}
		p = eol + 1;
	}
	return (n);
}

static int
dns_conf_read(const char *path, struct dns_server *srv, int max)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 r;
	size_t		 got = 0;
	int		 fd, n;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		/* No file: glibc and c-ares ask the local host. */
		if (errno != ENOENT)
			log_warn("dns: %s", path);
		return (0);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > DNS_RESOLV_MAX) {
		log_warnx("dns: %s: not a regular file of at most %d bytes",
		    path, DNS_RESOLV_MAX);
		close(fd);
		return (0);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		log_warn("dns: %s", path);
		close(fd);
		return (0);
	}
	while (got < (size_t)st.st_size &&
	    (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	n = dns_conf_parse(buf, got, srv, max);
	free(buf);
	return (n);
}

int
dns_servers_send(struct imsgbuf *ibuf)
{
	struct dns_server	 srv[DNS_MAX_SERVERS];
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	const char		*path;
	socklen_t		 slen;
	int			 fds[DNS_MAX_SERVERS], n, i, ok = 0;

	if ((path = getenv("KOBANGD_RESOLV_CONF")) == NULL || *path == '\0')
		path = DNS_RESOLV_CONF;
	if ((n = dns_conf_read(path, srv, DNS_MAX_SERVERS)) == 0) {
		uint32_t	lo = htonl(INADDR_LOOPBACK);

		memset(&srv[0], 0, sizeof(srv[0]));
		srv[0].family = AF_INET;
		srv[0].port = DNS_PORT;
		memcpy(srv[0].addr, &lo, sizeof(lo));
		n = 1;
	}
	for (i = 0; i < n; i++) {
		memset(&ss, 0, sizeof(ss));
		if (srv[i].family == AF_INET) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(srv[i].port);
			memcpy(&sin->sin_addr, srv[i].addr, 4);
			slen = sizeof(*sin);
		} else {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(srv[i].port);
			memcpy(&sin6->sin6_addr, srv[i].addr, 16);
			slen = sizeof(*sin6);
		}
		/*
		 * Debug only: this runs before every query, and a server
		 * of a family the host lacks fails every time.  None at
		 * all is reported by the caller.
		 */
		if ((fds[ok] = socket(ss.ss_family, SOCK_DGRAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
			log_debug("dns: name server %d of %s: socket: %s",
			    i + 1, path, strerror(errno));
			continue;
		}
		/* UDP: no packet is sent; this fixes the only peer. */
		if (connect(fds[ok], (struct sockaddr *)&ss, slen) == -1) {
			log_debug("dns: name server %d of %s: connect: %s",
			    i + 1, path, strerror(errno));
			close(fds[ok]);
			continue;
		}
		srv[ok] = srv[i];
		ok++;
	}
	for (i = 0; i < ok; i++) {
		srv[i].index = (uint32_t)i;
		srv[i].count = (uint32_t)ok;
		/* imsg_compose() owns the descriptor, also on failure. */
		if (imsg_compose(ibuf, IMSG_DNS_SERVER, 0, 0, fds[i], &srv[i],
		    sizeof(srv[i])) == -1)
			fatal("imsg_compose");
	}
	return (ok);
}
