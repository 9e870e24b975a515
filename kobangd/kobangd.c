/*
 * The parent: runs as root, starts and watches the children, owns the
 * control socket.  It never parses file contents, DNS answers or network
 * bytes itself.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "ctl.h"
#include "enroll.h"
#include "event.h"
#include "kobangd.h"
#include "log.h"
#include "rconfig.h"
#include "reload.h"
#include "scankey.h"
#include "scanproto.h"
#include "selflimits.h"
#include "sensor.h"
#include "sync.h"
#include "transport.h"

static int	signal_pipe[2] = { -1, -1 };

static void	parent_restart_child(void *);
static short	parent_child_events(void *);
static void	parent_child_cb(int, short, void *);

static const struct {
	const char		*name;
	enum sandbox_role	 role;
} child_table[CHILD_COUNT] = {
	[CHILD_NET] =	{ "net", SANDBOX_NET },
	[CHILD_SCAN] =	{ "scan", SANDBOX_SCAN },
	[CHILD_DNS] =	{ "dns", SANDBOX_DNS },
};

static void
parent_sighdlr(int sig)
{
	int		saved_errno = errno;
	unsigned char	c = (unsigned char)sig;

	/* A full pipe already holds a wake-up; losing this byte is fine. */
	if (write(signal_pipe[1], &c, 1) == -1) {
	}
	errno = saved_errno;
}

static void
parent_signals(void)
{
	struct sigaction	sa;

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe2");

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = parent_sighdlr;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGCHLD, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
}

void
parent_init_children(struct kobangd *kd)
{
	int	i;

	for (i = 0; i < CHILD_COUNT; i++) {
		memset(&kd->children[i], 0, sizeof(kd->children[i]));
		kd->children[i].name = child_table[i].name;
		kd->children[i].role = child_table[i].role;
		kd->children[i].kd = kd;
		/* net and dns wait for sync (parent_children_sync). */
		kd->children[i].wanted = i == CHILD_SCAN;
		if (i != CHILD_SCAN)
			strlcpy(kd->children[i].absent, "sync is off",
			    sizeof(kd->children[i].absent));
		ev_timer_init(&kd->children[i].restart_timer,
		    parent_restart_child, &kd->children[i]);
	}
}

/*
 * A child image is run as root until it drops its privileges: it must
 * be root's alone, a regular executable owned by root and writable by
 * nobody else, in a directory of the same kind.  Its path is resolved
 * first, so a symbolic link is judged by what it points to.
 */
static int
image_trusted(const char *path, char *real, char *err, size_t errlen)
{
	struct stat	 st;
	char		 dir[PATH_MAX], *slash;

	if (realpath(path, real) == NULL) {
		snprintf(err, errlen, "child image %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (stat(real, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != 0 || st.st_mode & (S_IWGRP | S_IWOTH) ||
	    !(st.st_mode & S_IXUSR)) {
		snprintf(err, errlen, "child image %s: not an executable "
		    "file owned and writable by root alone", real);
		return (-1);
	}
	strlcpy(dir, real, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir] = '\0';
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "child image %s: its directory %s is "
		    "not owned and writable by root alone", real, dir);
		return (-1);
	}
	return (0);
}

/*
 * Each child's image: beside our own binary when it is there (a build
 * tree), else in KOBANGD_LIBEXEC, fixed at build time (make install,
 * the package).  Checked once, at start, before anything runs.
 */
int
parent_find_images(struct kobangd *kd, char *err, size_t errlen)
{
	char		 path[PATH_MAX];
	const char	*slash;
	int		 i, dirlen;

	if ((slash = strrchr(kd->self, '/')) == NULL) {
		snprintf(err, errlen, "our own path %s is not absolute",
		    kd->self);
		return (-1);
	}
	dirlen = (int)(slash - kd->self);
	for (i = 0; i < CHILD_COUNT; i++) {
		snprintf(path, sizeof(path), "%.*s/kobangd-%s", dirlen,
		    kd->self, child_table[i].name);
		if (access(path, F_OK) == -1)
			snprintf(path, sizeof(path), "%s/kobangd-%s",
			    KOBANGD_LIBEXEC, child_table[i].name);
		if (image_trusted(path, kd->image[i], err, errlen) == -1)
			return (-1);
		log_debug("%s: %s", child_table[i].name, kd->image[i]);
	}
	return (0);
}

int
parent_start_child(struct kobangd *kd, struct child *c)
{
	char	*argv[12], cap[32];
	int	 argc = 0, fd, v;
	pid_t	 pid;

	argv[argc++] = kd->image[c - kd->children];
	argv[argc++] = "-P";
	argv[argc++] = (char *)c->name;
	argv[argc++] = "-u";
	argv[argc++] = (char *)kd->user;
	if (kd->debug)
		argv[argc++] = "-d";
	for (v = 0; v < kd->verbose && v < 2; v++)
		argv[argc++] = "-v";
	/* A memory cap set with -m: the child sizes its rlimits by it. */
	if (limits_cap_arg(c->name, cap, sizeof(cap)) == 0) {
		argv[argc++] = "-m";
		argv[argc++] = cap;
	}
	argv[argc] = NULL;

	if ((pid = proc_exec(argv[0], argv, &fd)) == -1) {
		log_warn("cannot start %s", c->name);
		return (-1);
	}
	if (imsgbuf_init(&c->ibuf, fd) == -1) {
		log_warn("imsgbuf_init");
		close(fd);
		kill(pid, SIGKILL);
		return (-1);
	}
	/* Item batches: both ends of the scan channel agree on the size. */
	if (c->role == SANDBOX_SCAN && scanproto_channel_init(&c->ibuf) == -1)
		fatal("scan channel size");
	/* The key before any file: no MCP server leaves scan without it. */
	if (c->role == SANDBOX_SCAN &&
	    scankey_send(kd->conf->kobangd.state_directory, &c->ibuf) == -1)
		fatal("scan key");
	if (ev_fd_add(fd, 0, parent_child_events, parent_child_cb, c) == -1) {
		log_warn("cannot watch %s", c->name);
		imsgbuf_clear(&c->ibuf);
		close(fd);
		kill(pid, SIGKILL);
		return (-1);
	}
	/* No child has any business sending the parent a descriptor. */
	c->pid = pid;
	c->channel_open = 1;
	c->hello = 0;
	memset(&c->report, 0, sizeof(c->report));
	c->backoff.started = proc_monotime();
	log_debug("started %s, pid %d", c->name, (int)pid);
	/* A new scan child: the pipeline drops what the old one had. */
	if (c->role == SANDBOX_SCAN)
		sensor_child_restarted(kd);
	/* A new net or dns child: the transport starts over with it. */
	if (c->role == SANDBOX_NET || c->role == SANDBOX_DNS)
		transport_child_started(kd, c);
	return (0);
}

static void
parent_close_channel(struct child *c)
{
	if (!c->channel_open)
		return;
	ev_fd_del(c->ibuf.fd);
	imsgbuf_clear(&c->ibuf);
	close(c->ibuf.fd);
	c->channel_open = 0;
}

/*
 * A child that sent something it must not is no longer trusted: close
 * its channel and kill it; it is restarted like a child that crashed.
 */
void
parent_child_broken(struct kobangd *kd, struct child *c, const char *why)
{
	log_warnx("%s (pid %d): %s; restarting it", c->name, (int)c->pid,
	    why);
	parent_close_channel(c);
	if (c->pid > 0)
		kill(c->pid, SIGKILL);
}

static int
parent_recv_hello(struct child *c, struct imsg *imsg)
{
	struct child_hello	hello;

	if (c->hello) {
		log_warnx("%s: second hello", c->name);
		return (-1);
	}
	if (imsg_get_data(imsg, &hello, sizeof(hello)) == -1) {
		log_warnx("%s: hello of wrong size %zu", c->name,
		    imsg_get_len(imsg));
		return (-1);
	}
	if (hello.role != (uint32_t)c->role) {
		log_warnx("%s: hello claims role %u", c->name, hello.role);
		return (-1);
	}
	c->report = hello;
	c->hello = 1;
	log_info("%s (pid %d) up: uid %d, no_new_privs %d, landlock abi %d"
	    " (self-test %s), seccomp %d", c->name, (int)c->pid,
	    (int)hello.uid, hello.layers.no_new_privs,
	    hello.layers.landlock_abi,
	    hello.layers.landlock_selftest == 1 ? "passed" :
	    hello.layers.landlock_selftest == 0 ? "not run" : "FAILED",
	    hello.layers.seccomp);
	return (0);
}

/*
 * Every message a child may send is handled here, with its size checked
 * before the payload is touched.  Returns -1 when the channel is broken.
 */
int
parent_dispatch_child(struct kobangd *kd, struct child *c)
{
	struct imsg	imsg;
	ssize_t		n;
	int		ret = 0, fd;

	while (ret == 0) {
		if ((n = imsg_get(&c->ibuf, &imsg)) == -1) {
			parent_child_broken(kd, c, "malformed message");
			return (-1);
		}
		if (n == 0)
			break;
		/* No child type carries a descriptor to the parent. */
		if ((fd = imsg_get_fd(&imsg)) != -1) {
			close(fd);
			log_warnx("%s: unexpected descriptor", c->name);
			ret = -1;
		} else if (!c->hello &&
		    imsg_get_type(&imsg) != IMSG_CHILD_HELLO) {
			log_warnx("%s: message before hello", c->name);
			ret = -1;
		} else {
			switch (imsg_get_type(&imsg)) {
			case IMSG_CHILD_HELLO:
				ret = parent_recv_hello(c, &imsg);
				break;
			default:
				/* The subsystem that talks to this child. */
				if (c->dispatch != NULL)
					ret = c->dispatch(kd, c, &imsg);
				else {
					log_warnx("%s: unknown message type %u",
					    c->name, imsg_get_type(&imsg));
					ret = -1;
				}
				break;
			}
		}
		imsg_free(&imsg);
	}
	if (ret == -1)
		parent_child_broken(kd, c, "protocol violation");
	return (ret);
}

void
parent_child_exited(struct kobangd *kd, pid_t pid, int status)
{
	struct child	*c = NULL;
	time_t		 now, next;
	int		 i;

	for (i = 0; i < CHILD_COUNT; i++)
		if (kd->children[i].pid == pid)
			c = &kd->children[i];
	if (c == NULL)
		return;

	/* Told to go (sync went off): no crash, no restart unless wanted. */
	if (c->stopping) {
		log_info("%s (pid %d) stopped", c->name, (int)pid);
		parent_close_channel(c);
		c->pid = 0;
		c->hello = 0;
		c->stopping = 0;
		c->mem_rss_kb = 0;
		if (c->wanted)
			ev_timer_add(&c->restart_timer, 0);
		return;
	}

	if (WIFSIGNALED(status))
		log_warnx("%s (pid %d) killed by signal %d", c->name,
		    (int)pid, WTERMSIG(status));
	else
		log_warnx("%s (pid %d) exited with status %d", c->name,
		    (int)pid, WEXITSTATUS(status));

	/* Partial work of a dead child is never trusted. */
	parent_close_channel(c);
	c->pid = 0;
	c->hello = 0;
	now = proc_monotime();
	next = proc_backoff_next(&c->backoff, now);
	log_info("restarting %s in %lld s", c->name, (long long)(next - now));
	ev_timer_add(&c->restart_timer, (unsigned long long)(next - now) * 1000);
}

static void
parent_reap(struct kobangd *kd)
{
	pid_t	pid;
	int	status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		parent_child_exited(kd, pid, status);
}

void
parent_stop_children(struct kobangd *kd)
{
	int	i, status, left;
	time_t	deadline;

	for (i = 0; i < CHILD_COUNT; i++) {
		parent_close_channel(&kd->children[i]);
		if (kd->children[i].pid > 0)
			kill(kd->children[i].pid, SIGTERM);
	}
	deadline = proc_monotime() + 2;
	do {
		left = 0;
		for (i = 0; i < CHILD_COUNT; i++) {
			if (kd->children[i].pid <= 0)
				continue;
			if (waitpid(kd->children[i].pid, &status,
			    WNOHANG) == kd->children[i].pid)
				kd->children[i].pid = 0;
			else
				left++;
		}
		if (left)
			usleep(10000);
	} while (left && proc_monotime() < deadline);
	for (i = 0; i < CHILD_COUNT; i++)
		if (kd->children[i].pid > 0) {
			kill(kd->children[i].pid, SIGKILL);
			waitpid(kd->children[i].pid, &status, 0);
			kd->children[i].pid = 0;
		}
}

/*
 * net and dns serve sync only: started when sync comes on (at start or
 * on a reload), stopped when it goes off, so that a local-only sensor
 * is the parent and scan alone.  why: while absent, why (for status).
 */
void
parent_children_sync(struct kobangd *kd, int want, const char *why)
{
	static const int	 which[] = { CHILD_NET, CHILD_DNS };
	struct child		*c;
	size_t			 i;

	for (i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
		c = &kd->children[which[i]];
		if (!want)
			strlcpy(c->absent, why != NULL ? why : "",
			    sizeof(c->absent));
		if (c->wanted == want)
			continue;
		c->wanted = want;
		if (want) {
			c->absent[0] = '\0';
			/* One still on its way out is started when reaped. */
			if (c->pid > 0)
				continue;
			ev_timer_del(&c->restart_timer);
			if (parent_start_child(kd, c) == -1)
				ev_timer_add(&c->restart_timer, 1000);
			continue;
		}
		ev_timer_del(&c->restart_timer);
		log_info("stopping %s: %s", c->name, c->absent);
		if (c->pid > 0) {
			c->stopping = 1;
			parent_close_channel(c);
			kill(c->pid, SIGTERM);
		}
	}
}

static void
parent_restart_child(void *arg)
{
	struct child	*c = arg;
	time_t		 now, next;

	if (!c->wanted || c->pid != 0 || parent_start_child(c->kd, c) == 0)
		return;
	now = proc_monotime();
	next = proc_backoff_next(&c->backoff, now);
	ev_timer_add(&c->restart_timer, (unsigned long long)(next - now) * 1000);
}

static short
parent_child_events(void *arg)
{
	struct child	*c = arg;

	if (!c->channel_open)
		return (0);
	return (imsgbuf_queuelen(&c->ibuf) > 0 ? POLLIN | POLLOUT : POLLIN);
}

static void
parent_child_cb(int fd, short revents, void *arg)
{
	struct child	*c = arg;

	parent_child_io(c->kd, c, revents);
}

void
parent_child_io(struct kobangd *kd, struct child *c, short revents)
{
	if (!c->channel_open)
		return;
	if (revents & POLLOUT && imsgbuf_write(&c->ibuf) == -1) {
		parent_child_broken(kd, c, "write failed");
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		switch (imsgbuf_read(&c->ibuf)) {
		case -1:
			parent_child_broken(kd, c, "read failed");
			return;
		case 0:
			/* EOF: the child is dying; SIGCHLD does the rest. */
			parent_close_channel(c);
			return;
		default:
			break;
		}
		parent_dispatch_child(kd, c);
	}
}

static void
parent_signal_cb(int fd, short revents, void *arg)
{
	struct kobangd	*kd = arg;
	unsigned char	 sig;
	char		 err[CTL_ERRLEN];

	while (read(fd, &sig, 1) == 1) {
		switch (sig) {
		case SIGCHLD:
			parent_reap(kd);
			break;
		case SIGTERM:
		case SIGINT:
			kd->quit = 1;
			break;
		case SIGHUP:
			/* Refused or applied, reload_config() logs it. */
			(void)reload_config(kd, "SIGHUP", err, sizeof(err));
			break;
		}
	}
}

void
parent_main(struct kobangd *kd)
{
	int	ctl_fd, i;

	kd->pid = getpid();
	kd->started = proc_monotime();
	parent_signals();
	if (ev_fd_add(signal_pipe[0], POLLIN, NULL, parent_signal_cb, kd) == -1)
		fatal("event");
	if ((ctl_fd = control_listen(kd, kd->sockpath)) == -1)
		fatalx("cannot open the control socket %s", kd->sockpath);

	parent_init_children(kd);
	reload_init(kd);
	/* The stored remote bundle is in force before the first scan. */
	rconfig_init(kd);
	sensor_init(kd);
	limits_watch_init(kd);
	for (i = 0; i < CHILD_COUNT; i++)
		if (kd->children[i].wanted &&
		    parent_start_child(kd, &kd->children[i]) == -1)
			fatalx("cannot start %s", kd->children[i].name);
	log_info("kobangd %s started, control socket %s", KOBANGD_VERSION,
	    kd->sockpath);
	/*
	 * After scan: transport_init starts net and dns when sync is on,
	 * before it queues work for them.
	 */
	enroll_init(kd);
	sync_init(kd);

	while (!kd->quit)
		ev_dispatch();

	log_info("terminating");
	parent_stop_children(kd);
	sync_shutdown(kd);
	enroll_shutdown(kd);
	rconfig_shutdown(kd);
	sensor_shutdown(kd);
	control_cleanup(kd->sockpath);
	close(ctl_fd);
	reload_shutdown();
	/* Whichever configuration a reload left in force. */
	config_free(kd->conf);
	free(kd->conf);
	kd->conf = NULL;
}
