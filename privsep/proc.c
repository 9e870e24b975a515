/*
 * Process spawning and privilege drop.  Children are our own binary
 * re-executed with a hidden flag, so nothing the parent holds in memory
 * (keys, tokens) reaches them.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

pid_t
proc_exec(const char *path, char *const argv[], int *fdp)
{
	int	sp[2];
	pid_t	pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, PF_UNSPEC,
	    sp) == -1)
		return (-1);

	switch (pid = fork()) {
	case -1:
		close(sp[0]);
		close(sp[1]);
		return (-1);
	case 0:
		/* Only the channel crosses the exec; it loses CLOEXEC here. */
		if (sp[1] == PROC_CHANNEL_FD) {
			if (fcntl(sp[1], F_SETFD, 0) == -1)
				_exit(127);
		} else if (dup2(sp[1], PROC_CHANNEL_FD) == -1)
			_exit(127);
		/*
		 * Whatever the launcher left open without CLOEXEC (a shell's
		 * descriptors, a service manager's) stays out of the child.
		 */
		closefrom(PROC_CHANNEL_FD + 1);
		execv(path, argv);
		_exit(127);
	default:
		break;
	}

	close(sp[1]);
	*fdp = sp[0];
	return (pid);
}

int
proc_drop_privs(const char *user)
{
	struct passwd	*pw;
	uid_t		 ruid, euid, suid;
	gid_t		 rgid, egid, sgid;

	if ((pw = getpwnam(user)) == NULL) {
		errno = ENOENT;
		return (-1);
	}
	if (pw->pw_uid == 0) {
		/* An unprivileged user that is root is a configuration error. */
		errno = EPERM;
		return (-1);
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		return (-1);

	/* Verify: no way back to root. */
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		return (-1);
	if (ruid != pw->pw_uid || euid != pw->pw_uid || suid != pw->pw_uid ||
	    rgid != pw->pw_gid || egid != pw->pw_gid || sgid != pw->pw_gid ||
	    setuid(0) != -1) {
		errno = EPERM;
		return (-1);
	}
	return (0);
}

void
proc_die_with_parent(pid_t parent)
{
	/* Set after the uid change: a credential change clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		fatal("prctl PR_SET_PDEATHSIG");
	if (getppid() != parent)
		fatalx("parent went away");
}

time_t
proc_monotime(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (ts.tv_sec);
}

/*
 * A child that ran for a while restarts quickly; one that keeps dying
 * waits twice as long each time, up to PROC_BACKOFF_MAX.
 */
time_t
proc_backoff_next(struct proc_backoff *b, time_t now)
{
	if (b->delay == 0 || now - b->started >= PROC_STABLE_SECS)
		b->delay = PROC_BACKOFF_MIN;
	else if (b->delay < PROC_BACKOFF_MAX)
		b->delay = b->delay * 2 > PROC_BACKOFF_MAX ?
		    PROC_BACKOFF_MAX : b->delay * 2;
	b->restarts++;
	return (now + b->delay);
}
