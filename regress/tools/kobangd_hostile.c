/*
 * kobangd_hostile: a child image whose children attack the parent
 * (regress/e2e/t_privsep_hostile_child.sh).  The test copies the real
 * kobangd into a directory of its own and this image beside it as
 * kobangd-net, kobangd-scan and kobangd-dns: the parent, unchanged,
 * starts its children from the images beside its own binary, so it
 * starts these.  -P names the role, as for the real images.  A child
 * with nothing left to attack with runs the real child's code, so the
 * rest of the machine stays honest.
 *
 * What to do comes from files in the images' directory, read before the
 * sandbox (a file beside a copy of the image cannot reach the production
 * build):
 *
 *	kobangd_hostile.mode	one attack a line: ROLE NAME TARGET
 *			[ARG...]; ROLE is scan, net or dns, TARGET the end
 *			of a handed file's label ("-": none)
 *	kobangd_hostile.log	appended to: "begin ROLE NAME TARGET" before one,
 *			"sent ROLE NAME TARGET ..." as its bytes go out
 *			(written first: the parent may kill the child as
 *			soon as it has read them), "closed ..." if the
 *			parent hung up while they were being written,
 *			"stopped ..." if the kernel refused the rest;
 *			an attack with a "begin" line is never made again
 *	kobangd_hostile.go-ROLE	a FIFO, optional: a net or dns attack waits for a
 *			byte on it (so that the test can count first)
 *
 * The attacks speak the real protocol with the real structures:
 *	scan:	flood T N LEN	N valid items with names of LEN bytes
 *				for T (its row's kind, origin, version)
 *		include T P...	IMSG_SCAN_INCLUDE for each P, then T done;
 *				every other requirements file handed over is
 *				echoed back line by line as items (what a
 *				child would do with a secret it was given)
 *		drop T		FILE_DONE OK with no item
 *		wrongkind T	an MCP server item for T
 *		reorder T	T is held, the next file answered first
 *		unsolicited -	FILE_DONE for a file never sent, at once
 *		fds T		one message carries as many descriptors
 *				as the kernel lets it, then 64 one each
 *		oversize T	a header announcing 1 MiB (channel: 256 KiB)
 *		badsize T	IMSG_SCAN_ISSUE one byte too long
 *		hog T MB	MB of memory touched on T, then no answer
 *	net, dns: fds -		descriptors on unsolicited messages
 *		answer -	an answer to a question never asked
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kobangd.h"
#include "log.h"
#include "netproto.h"
#include "scan_format.h"
#include "scanproto.h"
#include "sha256.h"

#include "compat.h"
#include "selflimits.h"
#include "netproto.h"
#include "sandbox.h"

static void	hostile_net_main(const char *);
static void	hostile_scan_main(const char *);
static void	hostile_dns_main(const char *);

#define H_MAX_ATTACKS	32
#define H_MAX_ARGS	16
#define H_LINE		4096

struct attack {
	char	*name;
	char	*target;
	char	*args[H_MAX_ARGS];
	int	 nargs;
	int	 fired;
};

static struct attack	 attacks[H_MAX_ATTACKS];
static int		 nattacks;
static int		 markfd = -1;
static int		 gatefd = -1;
static struct imsgbuf	 ibuf;
static const char	*role_name;
static int		 exfil;		/* an include attack is set */
/* An attack that must break the channel was made. */
static int		 spent;

/* The held file of "reorder". */
static struct scan_file	 held;
static int		 held_fd = -1;

static void	mark(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2)));

static void
mark(const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write: lines of the three children do not interleave. */
	if (markfd != -1 && write(markfd, buf, (size_t)n) == -1)
		log_warn("hostile: marker");
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal(NULL);
	return (p);
}

/* "<the image's directory>/kobangd_hostile<suffix>" */
static void
side_path(char *buf, size_t len, const char *suffix)
{
	char	exe[PATH_MAX], *slash;
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/kobangd_hostile%s", exe, suffix) >=
	    len)
		fatalx("hostile: path too long");
}

/*
 * Read the attacks for this role and what was already done; open the
 * marker (and the gate) while the file system is still there.
 */
static void
hostile_init(const char *role)
{
	static const char *const scan_attacks[] = { "flood", "include",
	    "drop", "wrongkind", "reorder", "unsolicited", "fds", "oversize",
	    "badsize", "hog", NULL };
	static const char *const peer_attacks[] = { "fds", "answer", NULL };
	const char *const *known;
	char	 path[PATH_MAX], line[H_LINE], *p, *tok, *save;
	FILE	*f;
	int	 i, k, ok;

	role_name = role;
	known = strcmp(role, "scan") == 0 ? scan_attacks : peer_attacks;
	side_path(path, sizeof(path), ".mode");
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL &&
	    nattacks < H_MAX_ATTACKS) {
		line[strcspn(line, "\n")] = '\0';
		/* "ROLE NAME TARGET ARGS": only this role's lines. */
		if ((tok = strtok_r(line, " \t", &save)) == NULL ||
		    tok[0] == '#' || strcmp(tok, role) != 0)
			continue;
		if ((tok = strtok_r(NULL, " \t", &save)) == NULL)
			fatalx("hostile: %s: attack without a name", path);
		for (ok = 0, k = 0; known[k] != NULL; k++)
			if (strcmp(known[k], tok) == 0)
				ok = 1;
		if (!ok)
			fatalx("hostile: %s: unknown %s attack %s", path, role,
			    tok);
		attacks[nattacks].name = xstrdup(tok);
		if (strcmp(tok, "include") == 0)
			exfil = 1;
		if ((tok = strtok_r(NULL, " \t", &save)) == NULL)
			fatalx("hostile: %s: attack without a target", path);
		attacks[nattacks].target = xstrdup(tok);
		while ((tok = strtok_r(NULL, " \t", &save)) != NULL &&
		    attacks[nattacks].nargs < H_MAX_ARGS)
			attacks[nattacks].args[attacks[nattacks].nargs++] =
			    xstrdup(tok);
		nattacks++;
	}
	fclose(f);

	/* "begin ROLE NAME TARGET": made by an earlier incarnation. */
	side_path(path, sizeof(path), ".log");
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (strncmp(line, "begin ", 6) != 0)
				continue;
			p = line + 6;
			for (i = 0; i < nattacks; i++) {
				char	key[H_LINE];

				snprintf(key, sizeof(key), "%s %s %s ", role,
				    attacks[i].name, attacks[i].target);
				if (strncmp(p, key, strlen(key)) == 0)
					attacks[i].fired = 1;
			}
		}
		fclose(f);
	}
	if ((markfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		fatal("hostile: %s", path);

	snprintf(line, sizeof(line), ".go-%s", role);
	side_path(path, sizeof(path), line);
	/* Read and write: the FIFO never reports a hang-up. */
	gatefd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

/* Attacks left to make. */
static int
hostile_armed(void)
{
	int	i;

	for (i = 0; i < nattacks; i++)
		if (!attacks[i].fired)
			return (1);
	return (0);
}

/* The attack NAME whose target ends label, not made yet. */
static struct attack *
hostile_find(const char *name, const char *label)
{
	size_t	ll, tl;
	int	i;

	ll = label != NULL ? strlen(label) : 0;
	for (i = 0; i < nattacks; i++) {
		if (attacks[i].fired || strcmp(attacks[i].name, name) != 0)
			continue;
		if (label == NULL) {
			if (strcmp(attacks[i].target, "-") == 0)
				return (&attacks[i]);
			continue;
		}
		tl = strlen(attacks[i].target);
		if (tl <= ll && strcmp(label + ll - tl, attacks[i].target) == 0)
			return (&attacks[i]);
	}
	return (NULL);
}

static void
hostile_begin(struct attack *a)
{
	a->fired = 1;
	if (strcmp(a->name, "include") != 0)
		spent = 1;
	mark("begin %s %s %s pid %d", role_name, a->name, a->target,
	    (int)getpid());
	log_warnx("hostile: %s attack %s on %s", role_name, a->name,
	    a->target);
}

/*
 * After the attack: the parent has something to read and will act on
 * it.  Exiting now could close the channel before it did (its next
 * write would fail first), so wait, reading and dropping what comes,
 * until it hangs up or kills us.
 */
static void __dead
hostile_idle(void)
{
	struct pollfd	pfd;
	char		buf[4096];

	for (;;) {
		pfd.fd = ibuf.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			fatal("poll");
		if (read(ibuf.fd, buf, sizeof(buf)) <= 0 && errno != EINTR &&
		    errno != EAGAIN)
			exit(0);
	}
}

static void
hostile_flush(struct attack *a)
{
	if (imsgbuf_flush(&ibuf) != -1)
		return;
	if (errno == EPIPE || errno == ECONNRESET) {
		mark("closed %s %s %s: %s", role_name, a->name, a->target,
		    strerror(errno));
		exit(0);
	}
	/* ETOOMANYREFS: this user has too many descriptors in flight. */
	mark("stopped %s %s %s: %s", role_name, a->name, a->target,
	    strerror(errno));
	hostile_idle();
}

static void
compose(uint32_t type, int fd, const void *data, size_t len)
{
	if (imsg_compose(&ibuf, type, 0, 0, fd, data, len) == -1)
		fatal("hostile: imsg_compose");
}

static void
send_done(uint32_t scan_id, uint32_t file_id, uint32_t status,
    uint32_t nitems, uint32_t nissues)
{
	struct scan_file_done	d;

	memset(&d, 0, sizeof(d));
	d.scan_id = scan_id;
	d.file_id = file_id;
	d.status = status;
	d.nitems = nitems;
	d.nissues = nissues;
	compose(IMSG_SCAN_FILE_DONE, -1, &d, sizeof(d));
}

/* Append a u32-length-prefixed string. */
static size_t
put(unsigned char *b, size_t off, const char *s, size_t len)
{
	uint32_t	l = (uint32_t)len;

	memcpy(b + off, &l, sizeof(l));
	memcpy(b + off + sizeof(l), s, len);
	return (off + sizeof(l) + len);
}

/*
 * One item of the shape the file's parser may produce (its row in
 * scan_format.c), so that only the size bound can stop it.
 */
static size_t
put_item(unsigned char *b, size_t off, const struct scan_file *req,
    const char *name, size_t namelen)
{
	const struct scan_format *f = scan_format_by_parser(req->parser);
	const char	*origin = f != NULL ? f->origin : "x";
	int		 kind = f != NULL ? (int)f->kind : KIND_PACKAGE;
	int		 version = f == NULL || f->version != VERSION_NIL;

	if (f != NULL && kind == KIND_PYTHON_DECLARED_REQUIREMENT &&
	    (req->flags & SCAN_F_CONSTRAINT))
		kind = KIND_PYTHON_CONSTRAINT;
	b[off++] = (unsigned char)req->surface;
	b[off++] = (unsigned char)kind;
	b[off++] = SCAN_IOR_NIL;
	b[off++] = SCAN_NIL_DETAIL | (version ? 0 : SCAN_NIL_VERSION);
	off = put(b, off, name, namelen);
	if (version)
		off = put(b, off, "1.0.0", 5);
	return (put(b, off, origin, strlen(origin)));
}

#define BATCH_MAX	(SCAN_IMSG_MAXSIZE - IMSG_HEADER_SIZE)

/*
 * Millions of valid items for one small file.  The marker is written
 * before the batch that takes the stream past the parent's budget for
 * the file goes out: the parent kills the child as soon as it has read
 * it, and may do so before a line written after it.
 */
static void
attack_flood(struct attack *a, const struct scan_file *req, int fd)
{
	struct scan_items_hdr	 hdr;
	struct stat		 st;
	unsigned char		*b;
	char			 name[1024];
	unsigned long long	 want, sent = 0, bytes = 0, cost = 0, budget;
	size_t			 len, namelen, off, item;
	uint32_t		 count;
	int			 told = 0;

	want = a->nargs > 0 ? strtoull(a->args[0], NULL, 10) : 1000000;
	namelen = a->nargs > 1 ? strtoul(a->args[1], NULL, 10) : 24;
	if (namelen < 12 || namelen >= sizeof(name))
		fatalx("hostile: flood name length %zu", namelen);
	if (fstat(fd, &st) == -1)
		fatal("hostile: fstat");
	budget = scan_accept_budget((uint64_t)st.st_size);
	if ((b = malloc(BATCH_MAX)) == NULL)
		fatal(NULL);
	hostile_begin(a);
	while (sent < want) {
		off = sizeof(hdr);
		count = 0;
		while (sent + count < want &&
		    off + 4 + 4 * 3 + namelen + 64 < BATCH_MAX) {
			len = (size_t)snprintf(name, sizeof(name), "flood%llu",
			    sent + count);
			memset(name + len, 'x', namelen - len);
			item = off;
			off = put_item(b, off, req, name, namelen);
			/* What the parent charges: 32 and the strings. */
			cost += SCAN_ACCEPT_ITEM + (off - item) - 4 - 3 * 4;
			count++;
		}
		hdr.scan_id = req->scan_id;
		hdr.file_id = req->file_id;
		hdr.count = count;
		memcpy(b, &hdr, sizeof(hdr));
		compose(IMSG_SCAN_ITEMS, -1, b, off);
		sent += count;
		bytes += off;
		if (!told && cost > budget) {
			mark("sent %s %s %s: %llu items costing %llu bytes, "
			    "over the %llu the parent allows for %lld bytes",
			    role_name, a->name, a->target, sent, cost, budget,
			    (long long)st.st_size);
			told = 1;
		}
		hostile_flush(a);
	}
	send_done(req->scan_id, req->file_id, SCAN_OK, (uint32_t)sent, 0);
	hostile_flush(a);
	mark("accepted %s %s %s: all %llu items, %llu bytes", role_name,
	    a->name, a->target, sent, bytes);
	free(b);
}

/* Includes of files a requirements file has no business with. */
static void
attack_include(struct attack *a, const struct scan_file *req)
{
	struct scan_include_msg	m;
	int			i;

	hostile_begin(a);
	for (i = 0; i < a->nargs; i++) {
		memset(&m, 0, sizeof(m));
		m.scan_id = req->scan_id;
		m.file_id = req->file_id;
		m.constraint = 0;
		strlcpy(m.target, a->args[i], sizeof(m.target));
		compose(IMSG_SCAN_INCLUDE, -1, &m, sizeof(m));
	}
	send_done(req->scan_id, req->file_id, SCAN_OK, 0, 0);
	mark("sent %s %s %s: %d includes", role_name, a->name, a->target,
	    a->nargs);
	hostile_flush(a);
}

/*
 * A requirements file the parent handed over after an include: its
 * lines go back as items, as a child holding a secret would send it.
 */
static void
exfiltrate(const struct scan_file *req, int fd)
{
	struct scan_items_hdr	 hdr;
	unsigned char		*b;
	char			 buf[8192], *line, *save;
	ssize_t			 n;
	size_t			 off, i;
	uint32_t		 count = 0;

	if ((b = malloc(BATCH_MAX)) == NULL)
		fatal(NULL);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	/* Printable ASCII: valid UTF-8 without NUL whatever was read. */
	for (i = 0; i < (size_t)n; i++)
		if (buf[i] != '\n' && (buf[i] < 0x20 || buf[i] > 0x7e))
			buf[i] = '?';
	off = sizeof(hdr);
	for (line = strtok_r(buf, "\n", &save); line != NULL && count < 64;
	    line = strtok_r(NULL, "\n", &save)) {
		off = put_item(b, off, req, line, strnlen(line, 512));
		count++;
	}
	if (count > 0) {
		hdr.scan_id = req->scan_id;
		hdr.file_id = req->file_id;
		hdr.count = count;
		memcpy(b, &hdr, sizeof(hdr));
		compose(IMSG_SCAN_ITEMS, -1, b, off);
	}
	send_done(req->scan_id, req->file_id, SCAN_OK, count, 0);
	if (imsgbuf_flush(&ibuf) == -1)
		exit(0);
	mark("echoed %s: %u lines", req->path, count);
	free(b);
}

/* A one-item file answered with none. */
static void
attack_drop(struct attack *a, const struct scan_file *req)
{
	hostile_begin(a);
	send_done(req->scan_id, req->file_id, SCAN_OK, 0, 0);
	mark("sent %s %s %s: no item for parser %s", role_name, a->name,
	    a->target, scan_parser_name(req->parser));
	hostile_flush(a);
}

/* An MCP server where the parser makes packages. */
static void
attack_wrongkind(struct attack *a, const struct scan_file *req)
{
	struct scan_items_hdr	hdr;
	unsigned char		b[256];
	size_t			off = sizeof(hdr);

	hostile_begin(a);
	b[off++] = (unsigned char)req->surface;
	b[off++] = KIND_MCP_SERVER;
	b[off++] = SCAN_IOR_NIL;
	b[off++] = SCAN_NIL_VERSION | SCAN_NIL_DETAIL;
	off = put(b, off, "wrongkindserver", 15);
	off = put(b, off, "npx evil", 8);
	hdr.scan_id = req->scan_id;
	hdr.file_id = req->file_id;
	hdr.count = 1;
	memcpy(b, &hdr, sizeof(hdr));
	compose(IMSG_SCAN_ITEMS, -1, b, off);
	send_done(req->scan_id, req->file_id, SCAN_OK, 1, 0);
	mark("sent %s %s %s: an MCP server for parser %s", role_name,
	    a->name, a->target, scan_parser_name(req->parser));
	hostile_flush(a);
}

/*
 * Descriptors the parent never asked for: as many as the kernel lets
 * this user have in flight (RLIMIT_NOFILE, ETOOMANYREFS beyond: 200 at
 * most) in one message, then one on each of 64 well-formed messages.
 */
static void
attack_fds(struct attack *a, const struct scan_file *req, int fd)
{
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov;
	struct imsg_hdr	 h;
	struct rlimit	 rl;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(200 * sizeof(int))];
	}		 cm;
	int		 fds[200], i, n, dup, base = fd != -1 ? fd : markfd;

	hostile_begin(a);
	hostile_flush(a);
	n = 200;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n)
		n = (int)rl.rlim_cur;
	for (i = 0; i < n; i++)
		fds[i] = base;
	memset(&h, 0, sizeof(h));
	h.type = req != NULL ? IMSG_SCAN_FILE_DONE : IMSG_NET_CLOSED;
	h.len = (uint32_t)IMSG_HEADER_SIZE | IMSG_FD_MARK;
	h.pid = (uint32_t)getpid();
	for (;;) {
		iov.iov_base = &h;
		iov.iov_len = sizeof(h);
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(n * sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), fds, n * sizeof(int));
		mark("sent %s %s %s: %d descriptors in one message, then 64 "
		    "messages with one each", role_name, a->name, a->target,
		    n);
		if (sendmsg(ibuf.fd, &msg, MSG_NOSIGNAL) != -1)
			break;
		if (errno != ETOOMANYREFS || n == 1) {
			mark("stopped %s %s %s: %s", role_name, a->name,
			    a->target, strerror(errno));
			hostile_idle();
		}
		mark("refused %s %s %s: %d descriptors: %s", role_name,
		    a->name, a->target, n, strerror(errno));
		n /= 2;
	}
	for (i = 0; i < 64; i++) {
		if ((dup = fcntl(base, F_DUPFD_CLOEXEC, 0)) == -1)
			fatal("hostile: dup");
		if (req != NULL) {
			struct scan_file_done	d;

			memset(&d, 0, sizeof(d));
			d.scan_id = req->scan_id;
			d.file_id = req->file_id;
			compose(IMSG_SCAN_FILE_DONE, dup, &d, sizeof(d));
		} else {
			struct net_closed	c;

			memset(&c, 0, sizeof(c));
			c.conn_id = 1;
			compose(IMSG_NET_CLOSED, dup, &c, sizeof(c));
		}
		/* Sent descriptors are closed: stay within RLIMIT_NOFILE. */
		hostile_flush(a);
	}
}

/* A header announcing more than the channel's maximum. */
static void
attack_oversize(struct attack *a, const struct scan_file *req)
{
	struct imsg_hdr		 h;
	struct scan_items_hdr	 ih;
	unsigned char		 pad[4096];

	hostile_begin(a);
	hostile_flush(a);
	memset(&h, 0, sizeof(h));
	h.type = IMSG_SCAN_ITEMS;
	h.len = 1024 * 1024;
	h.pid = (uint32_t)getpid();
	ih.scan_id = req->scan_id;
	ih.file_id = req->file_id;
	ih.count = 1;
	memset(pad, 'A', sizeof(pad));
	memcpy(pad, &h, sizeof(h));
	memcpy(pad + sizeof(h), &ih, sizeof(ih));
	mark("sent %s %s %s: a header of %u bytes", role_name, a->name,
	    a->target, h.len);
	if (write(ibuf.fd, pad, sizeof(pad)) == -1) {
		mark("closed %s %s %s: %s", role_name, a->name, a->target,
		    strerror(errno));
		exit(0);
	}
}

/* A fixed-size message one byte too long. */
static void
attack_badsize(struct attack *a, const struct scan_file *req)
{
	unsigned char		b[sizeof(struct scan_issue_msg) + 1];
	struct scan_issue_msg	m;

	hostile_begin(a);
	memset(&m, 0, sizeof(m));
	m.scan_id = req->scan_id;
	m.file_id = req->file_id;
	m.code = SCAN_ISSUE_MALFORMED;
	strlcpy(m.reason, "badsize", sizeof(m.reason));
	memset(b, 0, sizeof(b));
	memcpy(b, &m, sizeof(m));
	compose(IMSG_SCAN_ISSUE, -1, b, sizeof(b));
	send_done(req->scan_id, req->file_id, SCAN_OK, 0, 1);
	mark("sent %s %s %s: %zu bytes for %zu", role_name, a->name,
	    a->target, sizeof(b), sizeof(m));
	hostile_flush(a);
}

/*
 * Memory past the child's cap, resident (written): the parent's memory
 * watch, not a message, must catch this one.
 */
static void
attack_hog(struct attack *a)
{
	size_t	 mb, i;
	char	*p;

	mb = a->nargs > 0 ? strtoul(a->args[0], NULL, 10) : 300;
	hostile_begin(a);
	if ((p = malloc(mb << 20)) == NULL)
		fatal("hostile: %zu MB", mb);
	for (i = 0; i < mb << 20; i += 4096)
		p[i] = 1;
	mark("sent %s %s %s: %zu MB resident", role_name, a->name, a->target,
	    mb);
	hostile_idle();
}

/* reorder: the file after the held one is answered first. */
static void
reorder_answer(const struct scan_file *next, int fallback)
{
	struct attack	*a = hostile_find("reorder", held.path);

	if (a == NULL)
		fatalx("hostile: reorder without an attack");
	hostile_begin(a);
	if (fallback)
		/* Nothing came after it: a file id never sent. */
		send_done(held.scan_id, held.file_id + 1000, SCAN_OK, 0, 0);
	else
		send_done(next->scan_id, next->file_id, SCAN_OK, 0, 0);
	mark("sent %s %s %s: FILE_DONE for file %u while %u is the oldest",
	    role_name, a->name, a->target, fallback ? held.file_id + 1000 :
	    next->file_id, held.file_id);
	hostile_flush(a);
	close(held_fd);
	held_fd = -1;
}

static int
hostile_scan_file(struct imsg *imsg)
{
	struct scan_file	 req;
	struct attack		*a;
	int			 fd;

	fd = imsg_get_fd(imsg);
	if (imsg_get_data(imsg, &req, sizeof(req)) == -1 || fd == -1) {
		log_warnx("IMSG_SCAN_FILE: bad size or no descriptor");
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if (held_fd != -1) {
		reorder_answer(&req, 0);
		close(fd);
		return (0);
	}
	/*
	 * One attack per child, so that each is seen to kill its child;
	 * after it, honest answers (a parent that took the attack goes on
	 * scanning, and fails the test where it should, not by a stall).
	 */
	if (spent)
		return (scan_file_process(&ibuf, &req, fd) == -1 ? -1 : 0);
	if ((a = hostile_find("reorder", req.path)) != NULL) {
		held = req;
		held_fd = fd;
		return (0);
	}
	if ((a = hostile_find("flood", req.path)) != NULL)
		attack_flood(a, &req, fd);
	else if ((a = hostile_find("include", req.path)) != NULL)
		attack_include(a, &req);
	else if ((a = hostile_find("drop", req.path)) != NULL)
		attack_drop(a, &req);
	else if ((a = hostile_find("wrongkind", req.path)) != NULL)
		attack_wrongkind(a, &req);
	else if ((a = hostile_find("fds", req.path)) != NULL)
		attack_fds(a, &req, fd);
	else if ((a = hostile_find("oversize", req.path)) != NULL)
		attack_oversize(a, &req);
	else if ((a = hostile_find("badsize", req.path)) != NULL)
		attack_badsize(a, &req);
	else if ((a = hostile_find("hog", req.path)) != NULL)
		attack_hog(a);
	else if (req.parser == SCAN_PARSER_REQUIREMENTS && nattacks > 0 &&
	    strcmp(attacks[0].name, "include") == 0) {
		exfiltrate(&req, fd);
		return (0);
	} else
		return (scan_file_process(&ibuf, &req, fd) == -1 ? -1 : 0);
	close(fd);
	return (0);
}

static int
hostile_dispatch(void)
{
	struct imsg	imsg;
	ssize_t		n;
	int		ret = 0;

	while (ret == 0) {
		if ((n = imsg_get(&ibuf, &imsg)) == -1)
			return (-1);
		if (n == 0)
			break;
		if (imsg_get_type(&imsg) == IMSG_SCAN_FILE &&
		    strcmp(role_name, "scan") == 0)
			ret = hostile_scan_file(&imsg);
		else {
			/* net and dns: what the parent sends is ignored. */
			int	fd = imsg_get_fd(&imsg);

			if (fd != -1)
				close(fd);
		}
		imsg_free(&imsg);
	}
	return (ret);
}

/* A net or dns child's attacks, once the gate (if any) opens. */
static void
hostile_peer_attack(void)
{
	struct attack	*a;

	if ((a = hostile_find("fds", NULL)) != NULL)
		attack_fds(a, NULL, -1);
	if ((a = hostile_find("answer", NULL)) != NULL) {
		hostile_begin(a);
		if (strcmp(role_name, "dns") == 0) {
			struct dns_answer	d;

			memset(&d, 0, sizeof(d));
			d.id = 7;
			d.naddrs = 1;
			d.addrs[0].family = AF_INET;
			d.addrs[0].addr[0] = 10;
			compose(IMSG_DNS_ANSWER, -1, &d, sizeof(d));
		} else {
			struct net_response	r;

			memset(&r, 0, sizeof(r));
			r.id = 7;
			r.status = 200;
			compose(IMSG_NET_RESPONSE, -1, &r, sizeof(r));
		}
		mark("sent %s %s %s: an answer to a question never asked",
		    role_name, a->name, a->target);
		hostile_flush(a);
	}
}

static void __dead
hostile_loop(void)
{
	struct pollfd	pfd[2];
	int		n, timeout;

	for (;;) {
		pfd[0].fd = ibuf.fd;
		pfd[0].events = POLLIN;
		if (imsgbuf_queuelen(&ibuf) > 0)
			pfd[0].events |= POLLOUT;
		pfd[1].fd = gatefd;
		pfd[1].events = POLLIN;
		/* A held file waits a second for the next one. */
		timeout = held_fd != -1 ? 1000 : -1;
		if ((n = poll(pfd, gatefd != -1 ? 2 : 1, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (n == 0 && held_fd != -1) {
			reorder_answer(NULL, 1);
			continue;
		}
		if (gatefd != -1 && pfd[1].revents & POLLIN) {
			close(gatefd);
			gatefd = -1;
			hostile_peer_attack();
		}
		if (pfd[0].revents & POLLOUT && imsgbuf_write(&ibuf) == -1)
			child_channel_failed(&ibuf, "write to parent");
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			switch (imsgbuf_read(&ibuf)) {
			case -1:
				child_channel_failed(&ibuf, "read from parent");
			case 0:
				exit(0);
			default:
				break;
			}
			if (hostile_dispatch() == -1) {
				if (child_parent_gone(&ibuf))
					exit(0);
				fatalx("bad message from parent");
			}
		}
	}
}

static void
hostile_scan_main(const char *user)
{
	struct attack	*a;

	hostile_init("scan");
	if (!hostile_armed()) {
		close(markfd);
		if (gatefd != -1)
			close(gatefd);
		scan_main(user);
		return;
	}
	if (sha256_preload() == -1)
		fatalx("cannot load SHA-256");
	child_setup("scan", SANDBOX_SCAN, user, &ibuf);
	if (scanproto_channel_init(&ibuf) == -1)
		fatal("scan channel size");
	mark("up scan pid %d", (int)getpid());
	if ((a = hostile_find("unsolicited", NULL)) != NULL) {
		hostile_begin(a);
		send_done(0xdeadbeef, 0xdeadbeef, SCAN_OK, 0, 0);
		mark("sent scan unsolicited -: FILE_DONE for a file never "
		    "sent");
		hostile_flush(a);
	}
	hostile_loop();
}

static void
hostile_peer_main(const char *role, enum sandbox_role sr, const char *user,
    void (*real)(const char *))
{
	hostile_init(role);
	if (!hostile_armed()) {
		close(markfd);
		if (gatefd != -1)
			close(gatefd);
		real(user);
		return;
	}
	child_setup(role, sr, user, &ibuf);
	mark("up %s pid %d", role, (int)getpid());
	if (gatefd == -1)
		hostile_peer_attack();
	hostile_loop();
}

static void
hostile_net_main(const char *user)
{
	hostile_peer_main("net", SANDBOX_NET, user, net_main);
}

static void
hostile_dns_main(const char *user)
{
	hostile_peer_main("dns", SANDBOX_DNS, user, dns_main);
}

/* The real images' start (kobangd/child_main.c), for any of the roles. */
int
main(int argc, char *argv[])
{
	const char	*child = NULL, *user = NULL;
	char		 err[1024];
	int		 ch, debug = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "dm:P:u:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'm':
			if (limits_cap_set(optarg, err, sizeof(err)) == -1)
				errx(1, "-m %s", err);
			break;
		case 'P':
			child = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			errx(1, "started by kobangd, not by hand");
		}
	}
	if (optind != argc || child == NULL || user == NULL)
		errx(1, "started by kobangd, not by hand");
	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose + 1);
	if (strcmp(child, "scan") == 0)
		hostile_scan_main(user);
	else if (strcmp(child, "net") == 0)
		hostile_net_main(user);
	else if (strcmp(child, "dns") == 0)
		hostile_dns_main(user);
	else
		errx(1, "no such child: %s", child);
	fatalx("%s returned", child);
}
