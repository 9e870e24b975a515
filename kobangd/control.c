/*
 * The control socket: kobanctl's way in.  The peer's uid comes from the
 * kernel (SO_PEERCRED), never from anything the client says, and the
 * first exchange is a protocol version.  A client that sends something
 * malformed gets an error reply and is disconnected; the daemon carries on.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "ctl.h"
#include "enroll.h"
#include "kobangd.h"
#include "log.h"
#include "reload.h"
#include "selflimits.h"
#include "sensor.h"
#include "sync.h"

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	struct kobangd		*kd;
	struct imsgbuf		 ibuf;
	uid_t			 uid;
	pid_t			 pid;
	int			 in_group;	/* member of the control group */
	int			 hello;		/* version agreed */
	int			 closing;	/* flush, then close */
	struct ev_timer		 deadline;	/* hello, then idle */
};

static TAILQ_HEAD(, ctl_conn)	ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);
static int			ctl_nconns;

static void	control_close(struct ctl_conn *);
#define CONTROL_PROBE_TRIES	30	/* tenths of a second */

static int	control_peer_in_group(int, const struct ucred *, const char *);
static int	control_status(struct kobangd *, struct ctl_conn *);
static short	control_listen_events(void *);
static void	control_accept(int, short, void *);
static short	control_conn_events(void *);
static void	control_conn_cb(int, short, void *);
static void	control_deadline(void *);

int
control_listen(struct kobangd *kd, const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, probe, tries;
	mode_t			 old_umask;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return (-1);
	}

	/*
	 * Refuse to steal the socket of a running daemon.  A daemon that
	 * was just killed may still be letting go of it (a child forked
	 * but not yet past its closefrom holds a copy for a moment): only
	 * a socket that answers for CONTROL_PROBE_TRIES tenths of a
	 * second is in use.
	 */
	for (tries = 0;; tries++) {
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1) {
			log_warn("socket");
			return (-1);
		}
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) ==
		    -1) {
			close(probe);
			break;
		}
		close(probe);
		if (tries + 1 >= CONTROL_PROBE_TRIES) {
			log_warnx("control socket %s is in use: is kobangd "
			    "running?", path);
			return (-1);
		}
		poll(NULL, 0, 100);
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", path);
		return (-1);
	}

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("socket");
		return (-1);
	}
	old_umask = umask(S_IXUSR | S_IXGRP | S_IWOTH | S_IROTH | S_IXOTH);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", path);
		umask(old_umask);
		close(fd);
		return (-1);
	}
	umask(old_umask);
	/* Access is decided per request from the peer's credentials. */
	if (chmod(path, S_IRUSR | S_IWUSR | S_IRGRP | S_IWGRP | S_IROTH |
	    S_IWOTH) == -1 || listen(fd, 16) == -1 ||
	    ev_fd_add(fd, 0, control_listen_events, control_accept, kd) == -1) {
		log_warn("control socket %s", path);
		close(fd);
		unlink(path);
		return (-1);
	}
	return (fd);
}

void
control_cleanup(const char *path)
{
	struct ctl_conn	*c;

	while ((c = TAILQ_FIRST(&ctl_conns)) != NULL)
		control_close(c);
	unlink(path);
}

/*
 * Always accept: a connection over its limit is closed at once, so the
 * backlog never fills with clients that would keep root waiting.
 */
static short
control_listen_events(void *arg)
{
	return (POLLIN);
}

/*
 * May a connection of this uid take a slot?  Root may take any free
 * slot; others at most KOBANGD_CTL_PER_UID each and, together, all but
 * the KOBANGD_CTL_ROOT_SLOTS kept for root.
 */
static int
control_slot_free(uid_t uid)
{
	struct ctl_conn	*c;
	int		 same = 0, others = 0;

	if (ctl_nconns >= KOBANGD_MAXCLIENTS)
		return (0);
	if (uid == 0)
		return (1);
	TAILQ_FOREACH(c, &ctl_conns, entry) {
		if (c->uid == uid)
			same++;
		if (c->uid != 0)
			others++;
	}
	return (same < KOBANGD_CTL_PER_UID &&
	    others < KOBANGD_MAXCLIENTS - KOBANGD_CTL_ROOT_SLOTS);
}

static void
control_accept(int listenfd, short revents, void *arg)
{
	struct kobangd	*kd = arg;
	struct ctl_conn	*c;
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	int		 fd;

	if ((fd = accept4(listenfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control SO_PEERCRED");
		close(fd);
		return;
	}
	if (!control_slot_free(cred.uid)) {
		/* Debug only: a flood must not flood the log as well. */
		log_debug("control: uid %d pid %d refused, no slot for it",
		    (int)cred.uid, (int)cred.pid);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("control accept");
		close(fd);
		return;
	}
	if (imsgbuf_init(&c->ibuf, fd) == -1) {
		log_warn("control imsgbuf_init");
		free(c);
		close(fd);
		return;
	}
	if (ev_fd_add(fd, 0, control_conn_events, control_conn_cb, c) == -1) {
		log_warn("control accept");
		imsgbuf_clear(&c->ibuf);
		free(c);
		close(fd);
		return;
	}
	c->kd = kd;
	c->in_group = control_peer_in_group(fd, &cred,
	    kd->conf->kobangd.control_group);
	c->uid = cred.uid;
	c->pid = cred.pid;
	ev_timer_init(&c->deadline, control_deadline, c);
	ev_timer_add(&c->deadline, KOBANGD_CTL_HELLO_MS);
	TAILQ_INSERT_TAIL(&ctl_conns, c, entry);
	ctl_nconns++;
	log_debug("control: connection from uid %d pid %d", (int)c->uid,
	    (int)c->pid);
}

static void
control_close(struct ctl_conn *c)
{
	TAILQ_REMOVE(&ctl_conns, c, entry);
	ctl_nconns--;
	ev_timer_del(&c->deadline);
	ev_fd_del(c->ibuf.fd);
	imsgbuf_clear(&c->ibuf);
	close(c->ibuf.fd);
	free(c);
}

/* No hello in time, or idle too long: the slot goes back. */
static void
control_deadline(void *arg)
{
	struct ctl_conn	*c = arg;

	log_debug("control: uid %d pid %d: %s", (int)c->uid, (int)c->pid,
	    c->hello ? "idle, closed" : "no hello in time, closed");
	control_close(c);
}

static short
control_conn_events(void *arg)
{
	struct ctl_conn	*c = arg;
	short		 events = 0;

	/* The next request waits until the last reply is out. */
	if (imsgbuf_queuelen(&c->ibuf) > 0)
		events |= POLLOUT;
	else if (!c->closing)
		events |= POLLIN;
	/* A closing connection with nothing left to say is closed now. */
	return (events ? events : POLLOUT);
}

static void
control_error(struct ctl_conn *c, const char *fmt, ...)
    __attribute__((__format__ (printf, 2, 3)));

static void
control_error(struct ctl_conn *c, const char *fmt, ...)
{
	char	msg[CTL_ERRLEN];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_debug("control: uid %d: %s", (int)c->uid, msg);
	(void)imsg_compose(&c->ibuf, IMSG_CTL_ERROR, 0, 0, -1, msg,
	    strlen(msg) + 1);
	c->closing = 1;
}

/*
 * Read-only requests: root, and members of the configured control group
 * (by the peer's groups as the kernel gave them at connect time).
 */
static int
control_may_read(struct ctl_conn *c)
{
	return (c->uid == 0 || c->in_group);
}

static int
control_peer_in_group(int fd, const struct ucred *cred, const char *name)
{
	struct group	*gr;
	gid_t		 groups[256];
	socklen_t	 len = sizeof(groups);
	size_t		 i;

	if (name == NULL || (gr = getgrnam(name)) == NULL)
		return (0);
	if (cred->gid == gr->gr_gid)
		return (1);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return (0);
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gr->gr_gid)
			return (1);
	return (0);
}

static void
control_hello(struct ctl_conn *c, struct imsg *imsg)
{
	struct ctl_hello	hello;

	if (imsg_get_data(imsg, &hello, sizeof(hello)) == -1) {
		control_error(c, "malformed hello");
		return;
	}
	if (hello.protocol != CTL_PROTOCOL_VERSION) {
		control_error(c, "control protocol %u not supported "
		    "(kobangd %s speaks %u)", hello.protocol,
		    KOBANGD_VERSION, CTL_PROTOCOL_VERSION);
		return;
	}
	memset(&hello, 0, sizeof(hello));
	hello.protocol = CTL_PROTOCOL_VERSION;
	strlcpy(hello.version, KOBANGD_VERSION, sizeof(hello.version));
	if (imsg_compose(&c->ibuf, IMSG_CTL_HELLO, 0, 0, -1, &hello,
	    sizeof(hello)) == -1)
		c->closing = 1;
	c->hello = 1;
}

static int
control_dispatch_imsg(struct kobangd *kd, struct ctl_conn *c)
{
	struct imsg	imsg;
	char		err[CTL_ERRLEN];
	ssize_t		n;

	/* One request at a time: the rest waits until its reply is out. */
	while (!c->closing && imsgbuf_queuelen(&c->ibuf) == 0) {
		if ((n = imsg_get(&c->ibuf, &imsg)) == -1) {
			control_error(c, "malformed message");
			break;
		}
		if (n == 0)
			break;
		if (imsg_get_fd(&imsg) != -1) {
			/* imsg_get_fd gave us ownership; fdpass is off anyway */
			control_error(c, "unexpected descriptor");
		} else if (!c->hello &&
		    imsg_get_type(&imsg) != IMSG_CTL_HELLO) {
			control_error(c, "hello expected first");
		} else {
			switch (imsg_get_type(&imsg)) {
			case IMSG_CTL_HELLO:
				if (c->hello)
					control_error(c, "second hello");
				else
					control_hello(c, &imsg);
				break;
			case IMSG_CTL_SHOW_STATUS:
				if (imsg_get_len(&imsg) != 0)
					control_error(c, "malformed request");
				else if (!control_may_read(c))
					control_error(c, "permission denied");
				else if (control_status(kd, c) == -1)
					control_error(c, "out of memory");
				break;
			case IMSG_CTL_SHOW_INVENTORY:
			case IMSG_CTL_SHOW_EVENTS:
			case IMSG_CTL_SHOW_FINDINGS:
			case IMSG_CTL_SHOW_SURFACES:
			case IMSG_CTL_SCAN:
				/* sensor_ctl checks sizes; scan is root only. */
				if (!control_may_read(c))
					control_error(c, "permission denied");
				else if (sensor_ctl(kd, &c->ibuf, c->uid, &imsg,
				    err, sizeof(err)) == -1)
					control_error(c, "%s", err);
				break;
			case IMSG_CTL_SHOW_IDENTITY:
			case IMSG_CTL_ENROLL:
			case IMSG_CTL_CHECKIN:
				/* enroll_ctl checks sizes; enroll is root only. */
				if (!control_may_read(c))
					control_error(c, "permission denied");
				else if (enroll_ctl(kd, &c->ibuf, c->uid, &imsg,
				    err, sizeof(err)) == -1)
					control_error(c, "%s", err);
				break;
			case IMSG_CTL_SHOW_SYNC:
			case IMSG_CTL_SYNC:
				/* sync_ctl checks sizes; sync is root only. */
				if (!control_may_read(c))
					control_error(c, "permission denied");
				else if (sync_ctl(kd, &c->ibuf, c->uid, &imsg,
				    err, sizeof(err)) == -1)
					control_error(c, "%s", err);
				break;
			case IMSG_CTL_RELOAD:
				if (imsg_get_len(&imsg) != 0)
					control_error(c, "malformed request");
				else if (c->uid != 0)
					control_error(c, "permission denied");
				else if (reload_config(kd, "kobanctl reload",
				    err, sizeof(err)) == -1)
					control_error(c, "%s", err);
				else if (imsg_compose(&c->ibuf, IMSG_CTL_END, 0,
				    0, -1, NULL, 0) == -1)
					control_error(c, "out of memory");
				break;
			default:
				control_error(c, "unknown request %u",
				    imsg_get_type(&imsg));
				break;
			}
		}
		imsg_free(&imsg);
	}
	return (0);
}

/* One reply too large to queue: the client is dropped. */
static int
control_overfull(struct ctl_conn *c)
{
	if (imsgbuf_queuelen(&c->ibuf) <= KOBANGD_CTL_QUEUE_MAX)
		return (0);
	log_warnx("control: uid %d pid %d: %u replies unread, closed",
	    (int)c->uid, (int)c->pid, imsgbuf_queuelen(&c->ibuf));
	control_close(c);
	return (1);
}

static void
control_conn_cb(int fd, short revents, void *arg)
{
	struct ctl_conn	*c = arg;
	uint32_t	 before = imsgbuf_queuelen(&c->ibuf);

	if (revents & POLLOUT) {
		if (imsgbuf_write(&c->ibuf) == -1) {
			control_close(c);
			return;
		}
		/* A reader that makes progress is not idle. */
		if (c->hello && imsgbuf_queuelen(&c->ibuf) < before)
			ev_timer_add(&c->deadline, KOBANGD_CTL_IDLE_MS);
		/* Requests read already wait for no POLLIN. */
		if (!c->closing && imsgbuf_queuelen(&c->ibuf) == 0 &&
		    before > 0) {
			control_dispatch_imsg(c->kd, c);
			if (control_overfull(c))
				return;
		}
	}
	if (c->closing) {
		if (imsgbuf_queuelen(&c->ibuf) == 0 ||
		    revents & (POLLHUP | POLLERR))
			control_close(c);
		return;
	}
	/* Gone with replies unread: nothing will take them. */
	if (revents & (POLLHUP | POLLERR) && imsgbuf_queuelen(&c->ibuf) > 0) {
		control_close(c);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (imsgbuf_read(&c->ibuf) != 1) {
			control_close(c);
			return;
		}
		control_dispatch_imsg(c->kd, c);
		if (control_overfull(c))
			return;
		if (c->hello)
			ev_timer_add(&c->deadline, KOBANGD_CTL_IDLE_MS);
	}
}

/* Linux: what the kernel says about a process, not what it claims. */
static void
control_kernel_view(pid_t pid, struct ctl_status_proc *p)
{
	char	 path[64], line[256];
	FILE	*f;
	int	 v;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Uid: %*d %d", &v) == 1)
			p->uid = v;
		else if (sscanf(line, "NoNewPrivs: %d", &v) == 1)
			p->no_new_privs = v;
		else if (sscanf(line, "Seccomp: %d", &v) == 1)
			p->seccomp = v == 2;
	}
	fclose(f);
}

static int
control_status(struct kobangd *kd, struct ctl_conn *c)
{
	struct ctl_status	 st;
	struct ctl_status_proc	 p;
	time_t			 now = proc_monotime();
	int			 i;

	memset(&st, 0, sizeof(st));
	strlcpy(st.version, KOBANGD_VERSION, sizeof(st.version));
	st.pid = (int32_t)kd->pid;
	st.uptime = now - kd->started;
	st.nprocs = 1 + CHILD_COUNT;
	reload_status(&st);
	if (imsg_compose(&c->ibuf, IMSG_CTL_STATUS, 0, 0, -1, &st,
	    sizeof(st)) == -1)
		return (-1);

	memset(&p, 0, sizeof(p));
	strlcpy(p.name, "parent", sizeof(p.name));
	p.pid = (int32_t)kd->pid;
	p.uid = (int32_t)getuid();
	p.no_new_privs = 0;
	p.seccomp = 0;
	p.up_since = now - kd->started;
	/* The parent is not watched; its size now, for the operator. */
	if (limits_proc_rss(kd->pid, &p.rss_kb) == -1)
		p.rss_kb = 0;
	if (imsg_compose(&c->ibuf, IMSG_CTL_STATUS_PROC, 0, 0, -1, &p,
	    sizeof(p)) == -1)
		return (-1);

	for (i = 0; i < CHILD_COUNT; i++) {
		struct child	*ch = &kd->children[i];

		memset(&p, 0, sizeof(p));
		strlcpy(p.name, ch->name, sizeof(p.name));
		p.restarts = ch->backoff.restarts;
		p.rss_kb = ch->mem_rss_kb;
		p.mem_cap_kb = limits_cap_kb(ch->name);
		p.mem_restarts = ch->mem_restarts;
		p.uid = -1;
		p.no_new_privs = -1;
		p.seccomp = -1;
		if (ch->pid > 0 && ch->hello) {
			p.pid = (int32_t)ch->pid;
			p.uid = ch->report.uid;
			p.no_new_privs = ch->report.layers.no_new_privs;
			p.seccomp = ch->report.layers.seccomp;
			p.landlock_abi = ch->report.layers.landlock_abi;
			p.landlock_selftest =
			    ch->report.layers.landlock_selftest;
			p.up_since = now - ch->backoff.started;
			control_kernel_view(ch->pid, &p);
		} else if (ch->pid > 0)
			p.pid = (int32_t)ch->pid;
		else if (!ch->wanted)
			snprintf(p.absent, sizeof(p.absent), "not started: %s",
			    ch->absent);
		if (imsg_compose(&c->ibuf, IMSG_CTL_STATUS_PROC, 0, 0, -1, &p,
		    sizeof(p)) == -1)
			return (-1);
	}
	return (imsg_compose(&c->ibuf, IMSG_CTL_END, 0, 0, -1, NULL, 0));
}
