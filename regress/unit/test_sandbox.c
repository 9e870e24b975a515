/*
 * The sandbox, observed from outside.  Every test forks a child that
 * applies a role and reports what it saw over a pipe; the test process
 * itself is never sandboxed.  Kernel state (Seccomp, NoNewPrivs) is
 * read from /proc/<pid>/status while the child waits, and a forbidden
 * system call must show up as death by SIGSYS in waitpid().
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "fixture.h"
#include "kobangd.h"
#include "log.h"
#include "netproto.h"
#include "proc.h"
#include "sandbox.h"

#define NPROBE		24

/* What a child saw, in the order its probe recorded it. */
struct report {
	int			 applied;	/* sandbox_apply()'s return */
	int			 apply_errno;
	struct sandbox_layers	 l;
	int			 n;
	struct {
		long	rc;
		int	err;
	}			 p[NPROBE];
	char			 str[256];
};

/* A DNS server on loopback, run by the test process meanwhile. */
struct fake_dns {
	int	family;		/* AF_INET: 127.0.0.1, AF_INET6: ::1 */
	int	udp;
	int	tcp;		/* listening, or -1 */
	int	truncate;	/* answer UDP with TC set */
	int	queries;	/* UDP queries answered */
	int	tcp_conns;	/* TCP connections accepted */
	int	port;
};

enum apply_mode {
	APPLY_FULL,
	APPLY_LANDLOCK
};

struct run {
	enum sandbox_role	 role;
	enum apply_mode		 mode;
	void			(*before)(void *);	/* child, unsandboxed */
	void			(*probe)(struct report *, void *);
	void			(*after)(void *);	/* may be fatal */
	void			*arg;
	struct fake_dns		*dns;

	struct report		 r;
	int			 got;		/* the report arrived */
	int			 status;	/* from waitpid() */
	char			 proc[4096];	/* /proc/<pid>/status */
};

static void
note(struct report *r, long rc)
{
	int	saved_errno = errno;

	if (r->n < NPROBE) {
		r->p[r->n].rc = rc;
		r->p[r->n].err = rc == -1 ? saved_errno : 0;
		r->n++;
	}
	errno = saved_errno;
}

static int
kernel_landlock_abi(void)
{
	long	abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U /* VERSION */);
	return (abi < 0 ? 0 : (int)abi);
}

static int
expected_abi(void)
{
	int	abi = kernel_landlock_abi();

	return (abi > SANDBOX_LANDLOCK_ABI_MAX ? SANDBOX_LANDLOCK_ABI_MAX :
	    abi);
}

static void
write_full(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) <= 0)
			_exit(120);
		p += n;
		len -= (size_t)n;
	}
}

static void __attribute__((__noreturn__))
child_main(struct run *run, int wfd, int gofd)
{
	struct report	r;
	char		c;

	memset(&r, 0, sizeof(r));
	log_init(1, LOG_USER);		/* warnings to stderr */
	/* Out of the way of fd 3, which a probe may make the channel. */
	if ((wfd = fcntl(wfd, F_DUPFD_CLOEXEC, 64)) == -1 ||
	    (gofd = fcntl(gofd, F_DUPFD_CLOEXEC, 64)) == -1)
		_exit(122);
	if (run->before != NULL)
		run->before(run->arg);
	if (run->mode == APPLY_FULL)
		r.applied = sandbox_apply(run->role, &r.l);
	else
		r.applied = sandbox_apply_landlock(run->role, &r.l);
	r.apply_errno = errno;
	if (r.applied == 0 && run->probe != NULL)
		run->probe(&r, run->arg);
	write_full(wfd, &r, sizeof(r));
	/* Stay alive while the parent reads /proc/<pid>/status. */
	if (read(gofd, &c, 1) != 1)
		_exit(121);
	if (r.applied == 0 && run->after != NULL)
		run->after(run->arg);
	_exit(0);
}

static void
fake_dns_answer(const unsigned char *q, size_t qlen, int tc,
    unsigned char *out, size_t *outlen)
{
	size_t	i = 12, qend;
	int	type;

	*outlen = 0;
	if (qlen < 12 + 5)
		return;
	while (i < qlen && q[i] != 0)
		i += 1 + q[i];
	if (i + 5 > qlen)
		return;
	qend = i + 5;
	type = q[i + 1] << 8 | q[i + 2];
	memcpy(out, q, qend);
	out[2] = 0x81 | (tc ? 0x02 : 0);	/* QR, RD, maybe TC */
	out[3] = 0x80;				/* RA, NOERROR */
	out[4] = 0, out[5] = 1;			/* QDCOUNT */
	out[6] = 0, out[7] = 0;			/* ANCOUNT */
	memset(out + 8, 0, 4);
	*outlen = qend;
	if (tc || type != 1)
		return;
	/*
	 * Two loopback addresses: glibc then sorts them (RFC 3484), which
	 * takes a connected UDP socket and getsockname() per address and
	 * an rtnetlink probe.  Name pointer, A, IN, TTL 60, address.
	 */
	out[7] = 2;
	memcpy(out + qend, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c"
	    "\x00\x04\x7f\x00\x00\x02", 16);
	memcpy(out + qend + 16, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c"
	    "\x00\x04\x7f\x00\x00\x03", 16);
	*outlen = qend + 32;
}

static void
fake_dns_udp(struct fake_dns *d)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	unsigned char		 q[512], a[600];
	ssize_t			 n;
	size_t			 alen;

	n = recvfrom(d->udp, q, sizeof(q), 0, (struct sockaddr *)&ss, &sslen);
	if (n <= 0)
		return;
	fake_dns_answer(q, (size_t)n, d->truncate, a, &alen);
	if (alen > 0 && sendto(d->udp, a, alen, 0, (struct sockaddr *)&ss,
	    sslen) == (ssize_t)alen)
		d->queries++;
}

static int
read_exact(int fd, void *buf, size_t len)
{
	char	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		if ((n = read(fd, p, len)) <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

static void
fake_dns_tcp(struct fake_dns *d)
{
	struct timeval	 tv = { 2, 0 };
	unsigned char	 l[2], q[512], a[600 + 2];
	size_t		 qlen, alen;
	int		 c;

	if ((c = accept(d->tcp, NULL, NULL)) == -1)
		return;
	d->tcp_conns++;
	(void)setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* glibc sends every pending question on one connection. */
	while (read_exact(c, l, 2) == 0) {
		qlen = (size_t)l[0] << 8 | l[1];
		if (qlen > sizeof(q) || read_exact(c, q, qlen) == -1)
			break;
		fake_dns_answer(q, qlen, 0, a + 2, &alen);
		a[0] = alen >> 8;
		a[1] = alen & 0xff;
		if (write(c, a, alen + 2) != (ssize_t)(alen + 2))
			break;
	}
	close(c);
}

/*
 * Bind UDP and, if wanted, TCP on the loopback address of the family,
 * at port (0: any port free for both).
 */
static int
fake_dns_open(struct fake_dns *d, int family, int port, int want_tcp)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 one = 1, tries;

	for (tries = 0; tries < 20; tries++) {
		memset(d, 0, sizeof(*d));
		d->family = family;
		d->tcp = -1;
		memset(&ss, 0, sizeof(ss));
		if (family == AF_INET6) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = in6addr_loopback;
			sin6->sin6_port = htons(port);
			len = sizeof(*sin6);
		} else {
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			sin->sin_port = htons(port);
			len = sizeof(*sin);
		}
		if ((d->udp = socket(family, SOCK_DGRAM, 0)) == -1)
			return (-1);
		if (bind(d->udp, (struct sockaddr *)&ss, len) == -1 ||
		    getsockname(d->udp, (struct sockaddr *)&ss, &len) == -1) {
			close(d->udp);
			return (-1);
		}
		d->port = ntohs(family == AF_INET6 ? sin6->sin6_port :
		    sin->sin_port);
		if (!want_tcp)
			return (0);
		if ((d->tcp = socket(family, SOCK_STREAM, 0)) == -1)
			return (-1);
		(void)setsockopt(d->tcp, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(d->tcp, (struct sockaddr *)&ss, len) == 0 &&
		    listen(d->tcp, 4) == 0)
			return (0);
		close(d->tcp);
		close(d->udp);
		if (port != 0)
			return (-1);
		/* That port was free for UDP only: take another. */
	}
	return (-1);
}

static void
fake_dns_close(struct fake_dns *d)
{
	close(d->udp);
	if (d->tcp != -1)
		close(d->tcp);
}

static void
read_proc_status(pid_t pid, char *buf, size_t len)
{
	char	path[64];
	ssize_t	n;
	int	fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Fork, let the child apply and probe, collect its report and fate. */
static void
run_child(struct run *run)
{
	struct pollfd	 pfd[3];
	struct timespec	 t0, t1;
	size_t		 got = 0;
	ssize_t		 n;
	pid_t		 pid;
	int		 rep[2], go[2], nfd, i;

	run->got = 0;
	/* A child that died early must not take the test with it. */
	signal(SIGPIPE, SIG_IGN);
	cr_assert(pipe(rep) == 0 && pipe(go) == 0);
	fflush(NULL);
	if ((pid = fork()) == -1)
		cr_assert_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(rep[0]);
		close(go[1]);
		child_main(run, rep[1], go[0]);
	}
	close(rep[1]);
	close(go[0]);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < sizeof(run->r)) {
		nfd = 0;
		pfd[nfd].fd = rep[0];
		pfd[nfd++].events = POLLIN;
		if (run->dns != NULL) {
			pfd[nfd].fd = run->dns->udp;
			pfd[nfd++].events = POLLIN;
			if (run->dns->tcp != -1) {
				pfd[nfd].fd = run->dns->tcp;
				pfd[nfd++].events = POLLIN;
			}
		}
		if (poll(pfd, nfd, 1000) == -1 && errno != EINTR)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 20)
			break;
		for (i = 1; i < nfd; i++) {
			if ((pfd[i].revents & POLLIN) == 0)
				continue;
			if (pfd[i].fd == run->dns->udp)
				fake_dns_udp(run->dns);
			else
				fake_dns_tcp(run->dns);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			n = read(rep[0], (char *)&run->r + got,
			    sizeof(run->r) - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	run->got = got == sizeof(run->r);
	if (run->got)
		read_proc_status(pid, run->proc, sizeof(run->proc));
	if (run->got && write(go[1], "g", 1) != 1) {
		/* The child is gone already; waitpid() says how. */
	}
	close(go[1]);
	close(rep[0]);
	if (!run->got)
		kill(pid, SIGKILL);
	while (waitpid(pid, &run->status, 0) == -1)
		cr_assert(errno == EINTR, "waitpid: %s", strerror(errno));
}

static int
proc_field(const struct run *run, const char *field)
{
	const char	*p;
	size_t		 len = strlen(field);

	for (p = run->proc; (p = strstr(p, field)) != NULL; p++)
		if ((p == run->proc || p[-1] == '\n') && p[len] == ':')
			return (atoi(p + len + 1));
	return (-1);
}

static void
expect_applied(const struct run *run)
{
	cr_assert(run->got, "no report from the %s child",
	    sandbox_role_name(run->role));
	cr_assert_eq(run->r.applied, 0, "sandbox_apply(%s) failed: %s",
	    sandbox_role_name(run->role), strerror(run->r.apply_errno));
}

static void
expect_exited(const struct run *run)
{
	cr_expect(WIFEXITED(run->status) && WEXITSTATUS(run->status) == 0,
	    "%s child: status 0x%x (signal %d)", sandbox_role_name(run->role),
	    run->status, WIFSIGNALED(run->status) ? WTERMSIG(run->status) : 0);
}

static void
expect_sigsys(const struct run *run, const char *what)
{
	cr_expect(WIFSIGNALED(run->status) &&
	    WTERMSIG(run->status) == SIGSYS,
	    "%s in %s: expected death by SIGSYS, status 0x%x", what,
	    sandbox_role_name(run->role), run->status);
}

static void
expect_errno(const struct run *run, int i, int err, const char *what)
{
	cr_assert_lt(i, run->r.n, "%s: probe %d not reached", what, i);
	cr_expect_eq(run->r.p[i].rc, -1, "%s in %s: expected failure, got %ld",
	    what, sandbox_role_name(run->role), run->r.p[i].rc);
	cr_expect_eq(run->r.p[i].err, err, "%s in %s: errno %d (%s), "
	    "expected %d (%s)", what, sandbox_role_name(run->role),
	    run->r.p[i].err, strerror(run->r.p[i].err), err, strerror(err));
}

static void
expect_ok(const struct run *run, int i, const char *what)
{
	cr_assert_lt(i, run->r.n, "%s: probe %d not reached", what, i);
	cr_expect_geq(run->r.p[i].rc, 0, "%s in %s: failed: %s", what,
	    sandbox_role_name(run->role), strerror(run->r.p[i].err));
}

static const enum sandbox_role all_roles[] = {
	SANDBOX_NET, SANDBOX_SCAN, SANDBOX_DNS
};

/*
 * The layers, as the child reports them and as the kernel shows them.
 */

static void
check_layers(enum sandbox_role role)
{
	struct run	run = { .role = role, .mode = APPLY_FULL };
	int		abi = expected_abi();

	run_child(&run);
	expect_applied(&run);
	expect_exited(&run);
	cr_expect_eq(run.r.l.no_new_privs, 1);
	cr_expect_eq(run.r.l.seccomp, 1);
	cr_expect_eq(run.r.l.os_sandbox, 0);
	cr_expect_eq(run.r.l.landlock_abi, abi, "landlock_abi %d, kernel %d",
	    run.r.l.landlock_abi, abi);
	cr_expect_eq(run.r.l.landlock_selftest, abi > 0 ? 1 : 0);
	/* The kernel's own word, read from outside the child. */
	cr_expect_eq(proc_field(&run, "Seccomp"), 2, "Seccomp: %d",
	    proc_field(&run, "Seccomp"));
	cr_expect_eq(proc_field(&run, "Seccomp_filters"), 1);
	cr_expect_eq(proc_field(&run, "NoNewPrivs"), 1);
}

Test(sandbox, layers_net) { check_layers(SANDBOX_NET); }
Test(sandbox, layers_scan) { check_layers(SANDBOX_SCAN); }
Test(sandbox, layers_dns) { check_layers(SANDBOX_DNS); }

Test(sandbox, role_names)
{
	cr_expect_str_eq(sandbox_role_name(SANDBOX_NET), "net");
	cr_expect_str_eq(sandbox_role_name(SANDBOX_SCAN), "scan");
	cr_expect_str_eq(sandbox_role_name(SANDBOX_DNS), "dns");
	cr_expect_str_eq(sandbox_role_name((enum sandbox_role)42), "unknown");
}

static void
probe_nothing(struct report *r, void *arg)
{
}

Test(sandbox, bad_role_refused)
{
	struct run	run = { .role = (enum sandbox_role)42,
	    .mode = APPLY_FULL, .probe = probe_nothing };

	run_child(&run);
	cr_assert(run.got);
	cr_expect_eq(run.r.applied, -1);
	cr_expect_eq(run.r.l.seccomp, 0);
	/* Nothing was applied: the child is as free as before. */
	cr_expect_eq(proc_field(&run, "Seccomp"), 0);
}

/*
 * Forbidden system calls kill with SIGSYS.
 */

static void
die_socket_inet(void *arg)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void
die_socket_raw(void *arg)
{
	(void)socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
}

static void
die_socket_packet(void *arg)
{
	(void)socket(AF_PACKET, SOCK_DGRAM, 0);
}

static void
die_execve(void *arg)
{
	char	*const argv[] = { "true", NULL };
	char	*const envp[] = { NULL };

	(void)execve("/bin/true", argv, envp);
}

static void
die_ptrace(void *arg)
{
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void
die_fork(void *arg)
{
	/* The raw call: glibc's fork() could pick clone3 or clone. */
	(void)syscall(SYS_fork);
}

static void
die_kill_parent(void *arg)
{
	/* Signal 0 only probes; still, only our own pid may be named. */
	(void)kill(getppid(), 0);
}

static void
die_connect(void *arg)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(9);
	(void)connect(STDERR_FILENO, (struct sockaddr *)&sin, sizeof(sin));
}

static void
die_sendto_addr(void *arg)
{
	struct sockaddr_un	sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)sendto(*(int *)arg, "x", 1, 0, (struct sockaddr *)&sun,
	    sizeof(sun));
}

static void
die_prlimit_set(void *arg)
{
	struct rlimit	rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
}

static void
die_fcntl_setown(void *arg)
{
	(void)fcntl(STDERR_FILENO, F_SETOWN, getpid());
}

#if defined(__x86_64__)
static void
die_x32(void *arg)
{
	/* The x32 ABI shares the x86_64 audit arch: must still die. */
	(void)syscall(0x40000000 | SYS_getpid);
}
#endif

static void
expect_killed(enum sandbox_role role, void (*fn)(void *), void *arg,
    const char *what)
{
	struct run	run = { .role = role, .mode = APPLY_FULL,
	    .after = fn, .arg = arg };

	run_child(&run);
	expect_applied(&run);
	expect_sigsys(&run, what);
}

Test(sandbox, socket_kills_net_scan)
{
	expect_killed(SANDBOX_NET, die_socket_inet, NULL, "socket(AF_INET)");
	expect_killed(SANDBOX_SCAN, die_socket_inet, NULL, "socket(AF_INET)");
	expect_killed(SANDBOX_NET, die_connect, NULL, "connect");
	expect_killed(SANDBOX_SCAN, die_connect, NULL, "connect");
}

Test(sandbox, dns_odd_sockets_kill)
{
	expect_killed(SANDBOX_DNS, die_socket_raw, NULL, "raw socket");
	expect_killed(SANDBOX_DNS, die_socket_packet, NULL, "packet socket");
}

Test(sandbox, execve_kills)
{
	size_t	i;

	for (i = 0; i < sizeof(all_roles) / sizeof(all_roles[0]); i++)
		expect_killed(all_roles[i], die_execve, NULL, "execve");
}

Test(sandbox, process_control_kills)
{
	size_t	i;

	for (i = 0; i < sizeof(all_roles) / sizeof(all_roles[0]); i++) {
		expect_killed(all_roles[i], die_ptrace, NULL, "ptrace");
		expect_killed(all_roles[i], die_fork, NULL, "fork");
		expect_killed(all_roles[i], die_kill_parent, NULL,
		    "kill(parent)");
		expect_killed(all_roles[i], die_prlimit_set, NULL,
		    "setrlimit");
		expect_killed(all_roles[i], die_fcntl_setown, NULL,
		    "fcntl(F_SETOWN)");
#if defined(__x86_64__)
		expect_killed(all_roles[i], die_x32, NULL, "x32 getpid");
#endif
	}
}


/*
 * The policy of each role is pinned: the rules the code gives the
 * kernel must be exactly those of regress/sandbox/ROLE.policy, each
 * listed with its reason.  A widened rule fails here until the golden
 * says why.
 */
static void
check_policy(enum sandbox_role role)
{
	char	*path, *golden, *want = NULL, *got = NULL, *line, *next, *hash;
	size_t	 wantlen = 0, gotlen = 0, glen;
	FILE	*fp;
	int	 n = 0;

	if (asprintf(&line, "regress/sandbox/%s.policy",
	    sandbox_role_name(role)) == -1)
		cr_assert_fail("asprintf");
	path = srcpath(line);
	free(line);
	golden = must_slurp(path, &glen);
	cr_assert_not_null(fp = open_memstream(&want, &wantlen));
	for (line = golden; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '#' || *line == '\0')
			continue;
		hash = strstr(line, "\t# ");
		cr_assert(hash != NULL && hash[3] != '\0' && hash[3] != ' ',
		    "%s: rule without a reason: %s", path, line);
		*hash = '\0';
		fprintf(fp, "%s\n", line);
		n++;
	}
	fclose(fp);
	cr_assert_gt(n, 10, "%s: only %d rules", path, n);

	cr_assert_not_null(fp = open_memstream(&got, &gotlen));
	sandbox_policy_print(role, fp);
	fclose(fp);
	/* Sanitizer builds add rules of their own, marked; not pinned. */
	for (line = got; (line = strstr(line, " (sanitizer build only)\n"))
	    != NULL; ) {
		char	*bol = line;

		while (bol > got && bol[-1] != '\n')
			bol--;
		memmove(bol, line + 24, strlen(line + 24) + 1);
		line = bol;
	}
	if (strcmp(got, want) != 0) {
		char	*g = got, *w = want, *ge, *we;

		/* Name the first line that differs. */
		while (*g != '\0' && *w != '\0') {
			ge = strchr(g, '\n');
			we = strchr(w, '\n');
			if (ge == NULL || we == NULL || ge - g != we - w ||
			    memcmp(g, w, (size_t)(ge - g)) != 0)
				break;
			g = ge + 1;
			w = we + 1;
		}
		cr_assert_fail("%s policy differs from %s\n"
		    "  code:   %.*s\n  golden: %.*s",
		    sandbox_role_name(role), path,
		    (int)strcspn(g, "\n"), g, (int)strcspn(w, "\n"), w);
	}
	free(got);
	free(want);
	free(golden);
	free(path);
}

Test(sandbox, policy_pinned_net) { check_policy(SANDBOX_NET); }
Test(sandbox, policy_pinned_scan) { check_policy(SANDBOX_SCAN); }
Test(sandbox, policy_pinned_dns) { check_policy(SANDBOX_DNS); }

/*
 * ioctl: only TCGETS (answered "not a terminal") in net and scan;
 * pushing input into a terminal (TIOCSTI) or any other request kills.
 */
static void
die_ioctl_tiocsti(void *arg)
{
	char	c = 'x';

	(void)ioctl(STDERR_FILENO, TIOCSTI, &c);
}

static void
die_ioctl_fionbio(void *arg)
{
	int	one = 1;

	(void)ioctl(STDERR_FILENO, FIONBIO, &one);
}

Test(sandbox, ioctl_kills_net_scan)
{
	expect_killed(SANDBOX_NET, die_ioctl_tiocsti, NULL, "ioctl(TIOCSTI)");
	expect_killed(SANDBOX_SCAN, die_ioctl_tiocsti, NULL, "ioctl(TIOCSTI)");
	expect_killed(SANDBOX_DNS, die_ioctl_tiocsti, NULL, "ioctl(TIOCSTI)");
	expect_killed(SANDBOX_NET, die_ioctl_fionbio, NULL, "ioctl(FIONBIO)");
	expect_killed(SANDBOX_SCAN, die_ioctl_fionbio, NULL, "ioctl(FIONBIO)");
}

/*
 * sendmsg(2) only on the channel: a datagram socket the child holds
 * (syslog's, connected to /dev/log) must not carry a message to
 * another path-named socket by msg_name.
 */
static int	 sm_log[2] = { -1, -1 };	/* the "syslog" socket */
static int	 sm_victim = -1;		/* bound at sm_path */
static int	 sm_chan[2] = { -1, -1 };
static char	 sm_path[108];

static void
before_sendmsg(void *arg)
{
	/* The channel on fd 3, as proc_exec() leaves it. */
	if (dup2(sm_chan[1], PROC_CHANNEL_FD) == -1)
		_exit(123);
}

static ssize_t
sendmsg_to(int fd, const char *path)
{
	struct sockaddr_un	sun;
	struct msghdr		msg;
	struct iovec		iov;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path != NULL)
		strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)"owned";
	iov.iov_len = 5;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (path != NULL) {
		msg.msg_name = &sun;
		msg.msg_namelen = sizeof(sun);
	}
	return (sendmsg(fd, &msg, 0));
}

static void
probe_sendmsg_channel(struct report *r, void *arg)
{
	note(r, sendmsg_to(PROC_CHANNEL_FD, NULL));
}

static void
die_sendmsg_other(void *arg)
{
	(void)sendmsg_to(sm_log[0], sm_path);
}

Test(sandbox, sendmsg_channel_only)
{
	char	 buf[16];
	size_t	 i;

	for (i = 0; i < sizeof(all_roles) / sizeof(all_roles[0]); i++) {
		struct run		run = { .role = all_roles[i],
		    .mode = APPLY_FULL, .before = before_sendmsg,
		    .probe = probe_sendmsg_channel,
		    .after = die_sendmsg_other };
		struct sockaddr_un	sun;

		snprintf(sm_path, sizeof(sm_path), "/tmp/kobang-sm.%d",
		    (int)getpid());
		unlink(sm_path);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, sm_path, sizeof(sun.sun_path));
		cr_assert((sm_victim = socket(AF_UNIX, SOCK_DGRAM, 0)) != -1);
		cr_assert(bind(sm_victim, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0);
		cr_assert(socketpair(AF_UNIX, SOCK_DGRAM, 0, sm_log) == 0);
		cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sm_chan) == 0);

		/* Unsandboxed, the attack works: the test can fail. */
		cr_assert_eq(sendmsg_to(sm_log[0], sm_path), 5);
		cr_assert_eq(recv(sm_victim, buf, sizeof(buf), 0), 5);

		run_child(&run);
		expect_applied(&run);
		expect_ok(&run, 0, "sendmsg on the channel");
		expect_sigsys(&run, "sendmsg to another socket");
		cr_expect_eq(recv(sm_victim, buf, sizeof(buf), MSG_DONTWAIT),
		    -1, "%s: a datagram reached %s",
		    sandbox_role_name(run.role), sm_path);
		cr_expect_eq(recv(sm_chan[0], buf, sizeof(buf), MSG_DONTWAIT),
		    5, "%s: nothing arrived on the channel",
		    sandbox_role_name(run.role));
		close(sm_victim);
		close(sm_log[0]);
		close(sm_log[1]);
		close(sm_chan[0]);
		close(sm_chan[1]);
		unlink(sm_path);
	}
}

static int	 dgram_sv[2];

static void
before_dgram(void *arg)
{
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram_sv) == -1)
		_exit(123);
}

static void
probe_send(struct report *r, void *arg)
{
	/* send(2) is sendto with no address: the syslog case. */
	note(r, send(dgram_sv[0], "log", 3, 0));
}

Test(sandbox, send_without_address_only)
{
	size_t	i;

	for (i = 0; i < sizeof(all_roles) / sizeof(all_roles[0]); i++) {
		struct run	run = { .role = all_roles[i],
		    .mode = APPLY_FULL, .before = before_dgram,
		    .probe = probe_send, .after = die_sendto_addr,
		    .arg = &dgram_sv[0] };

		run_child(&run);
		expect_applied(&run);
		expect_ok(&run, 0, "send");
		cr_expect_eq(run.r.p[0].rc, 3);
		expect_sigsys(&run, "sendto with an address");
	}
}

/*
 * The common allow-list, call by call through syscall(2), so that each
 * entry of the table is exercised whether or not libc happens to use
 * it here.  None of these may kill.
 */

static volatile sig_atomic_t	 got_usr1;

static void
on_usr1(int sig)
{
	got_usr1 = 1;
}

static int	 common_pp[2] = { -1, -1 };

static void
before_common(void *arg)
{
	/* pipe2() itself is not on the list: a child gets its pipes. */
	if (pipe(common_pp) == -1)
		_exit(123);
}

static void
probe_common(struct report *r, void *arg)
{
	struct timespec	 ts = { 0, 1 };
	struct timeval	 tv;
	struct rlimit	 rl;
	struct sigaction sa;
	struct stat	 st;
	struct iovec	 iov;
	char		 buf[32];
	void		*p, *q;
	int		*pp = common_pp, fd;

	note(r, pp[0]);							/* 0 */
	note(r, write(pp[1], "abcdef", 6));				/* 1 */
	iov.iov_base = buf;
	iov.iov_len = 3;
	note(r, readv(pp[0], &iov, 1));					/* 2 */
	iov.iov_base = (void *)"x";
	iov.iov_len = 1;
	note(r, writev(pp[1], &iov, 1));				/* 3 */
	note(r, syscall(SYS_ppoll, NULL, 0, &(struct timespec){ 0, 0 },
	    NULL, 8));							/* 4 */
	note(r, syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts));	/* 5 */
	note(r, syscall(SYS_gettimeofday, &tv, NULL));			/* 6 */
	ts.tv_sec = 0;
	ts.tv_nsec = 1;
	note(r, syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts,
	    NULL));							/* 7 */
	note(r, syscall(SYS_nanosleep, &ts, NULL));			/* 8 */
	note(r, syscall(SYS_getppid));					/* 9 */
	note(r, syscall(SYS_getuid) | syscall(SYS_geteuid) |
	    syscall(SYS_getgid) | syscall(SYS_getegid));		/* 10 */
	note(r, syscall(SYS_getrandom, buf, sizeof(buf), 0));		/* 11 */
	note(r, syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl));		/* 12 */
	note(r, syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl));	/* 13 */
	note(r, syscall(SYS_sched_yield));				/* 14 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	note(r, sigaction(SIGUSR1, &sa, NULL));				/* 15 */
	/* Delivery and return: tgkill to ourselves, rt_sigreturn. */
	note(r, raise(SIGUSR1) == 0 && got_usr1 ? 0 : -1);		/* 16 */
	note(r, kill(getpid(), 0));					/* 17 */
	note(r, syscall(SYS_fstat, pp[0], &st));			/* 18 */
	note(r, fcntl(pp[0], F_SETFL, O_NONBLOCK));			/* 19 */
	note(r, fcntl(pp[0], F_SETFD, FD_CLOEXEC));			/* 20 */
	fd = fcntl(pp[0], F_DUPFD_CLOEXEC, 0);
	note(r, fd);							/* 21 */
	if (fd != -1)
		close(fd);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	q = p == MAP_FAILED ? MAP_FAILED : mremap(p, 8192, 16384,
	    MREMAP_MAYMOVE);
	note(r, q == MAP_FAILED ? -1 :
	    madvise(q, 16384, MADV_DONTNEED));				/* 22 */
	if (q != MAP_FAILED)
		munmap(q, 16384);
	/* Nothing to restart: the kernel answers EINTR. */
	note(r, syscall(SYS_restart_syscall));				/* 23 */
	close(pp[0]);
	close(pp[1]);
}

static void
exit_thread_call(void *arg)
{
	/* exit(2), the thread's exit; the only thread: the process's. */
	syscall(SYS_exit, 0);
}

Test(sandbox, common_calls_allowed)
{
	size_t	i;
	int	j;

	for (i = 0; i < sizeof(all_roles) / sizeof(all_roles[0]); i++) {
		struct run	run = { .role = all_roles[i],
		    .mode = APPLY_FULL, .before = before_common,
		    .probe = probe_common, .after = exit_thread_call };

		run_child(&run);
		expect_applied(&run);
		expect_exited(&run);
		cr_assert_eq(run.r.n, 24, "%s: %d probes",
		    sandbox_role_name(run.role), run.r.n);
		for (j = 0; j < 23; j++)
			expect_ok(&run, j, "common call");
		expect_errno(&run, 23, EINTR, "restart_syscall");
	}
}

static void
die_pread(void *arg)
{
	char	c;

	if (pread(STDERR_FILENO, &c, 1, 0) == -1)
		_exit(1);
}

Test(sandbox, pread_is_scan_only)
{
	expect_killed(SANDBOX_NET, die_pread, NULL, "pread");
	expect_killed(SANDBOX_DNS, die_pread, NULL, "pread");
}

/*
 * Harmless probes are answered, not fatal.
 */

static void
probe_paths(struct report *r, void *arg)
{
	struct stat	st;
	char		buf[256];

	note(r, open("/etc/passwd", O_RDONLY));				/* 0 */
	note(r, openat(AT_FDCWD, "/etc/hosts", O_RDONLY));		/* 1 */
	note(r, stat("/etc/passwd", &st));				/* 2 */
	note(r, access("/etc/passwd", R_OK));				/* 3 */
	note(r, readlink("/proc/self/exe", buf, sizeof(buf)));		/* 4 */
	note(r, syscall(SYS_statx, AT_FDCWD, "/", 0, 0x7ff, buf));	/* 5 */
	note(r, socket(AF_UNIX, SOCK_DGRAM, 0));			/* 6 */
	note(r, isatty(STDERR_FILENO) ? 0 : -1);			/* 7 */
	note(r, fstat(STDERR_FILENO, &st));				/* 8 */
	note(r, open("/tmp/kobang-sandbox-probe", O_WRONLY | O_CREAT,
	    0600));							/* 9 */
	/* fstat's form, but with a path: still a probe by path. */
	note(r, syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", &st,
	    AT_EMPTY_PATH));						/* 10 */
	note(r, syscall(SYS_newfstatat, STDERR_FILENO, "", &st,
	    AT_EMPTY_PATH));						/* 11 */
	note(r, syscall(SYS_open, "/etc/passwd", O_RDONLY));		/* 12 */
	note(r, syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", buf, 24));	/* 13 */
	note(r, syscall(SYS_lstat, "/etc/passwd", &st));		/* 14 */
	note(r, syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf,
	    sizeof(buf)));						/* 15 */
	note(r, syscall(SYS_faccessat, AT_FDCWD, "/etc/passwd", R_OK));	/* 16 */
	note(r, syscall(SYS_faccessat2, AT_FDCWD, "/etc/passwd", R_OK,
	    0));							/* 17 */
	/* The old stat(2), which the sanitizers' runtime still uses. */
	note(r, syscall(SYS_stat, "/etc/passwd", &st));			/* 18 */
}

static void
check_paths(enum sandbox_role role)
{
	struct run	run = { .role = role, .mode = APPLY_FULL,
	    .probe = probe_paths };

	run_child(&run);
	expect_applied(&run);
	expect_exited(&run);
	expect_errno(&run, 0, EACCES, "open /etc/passwd");
	expect_errno(&run, 1, EACCES, "openat /etc/hosts");
	expect_errno(&run, 2, EACCES, "stat");
	expect_errno(&run, 3, EACCES, "access");
	expect_errno(&run, 4, EACCES, "readlink");
	expect_errno(&run, 5, EACCES, "statx");
	expect_errno(&run, 6, EACCES, "socket(AF_UNIX)");
	expect_errno(&run, 7, ENOTTY, "isatty");
	expect_ok(&run, 8, "fstat");
	expect_errno(&run, 9, EACCES, "open O_CREAT");
	expect_errno(&run, 10, EACCES, "newfstatat(AT_FDCWD, path)");
	expect_ok(&run, 11, "newfstatat(fd, \"\", AT_EMPTY_PATH)");
	expect_errno(&run, 12, EACCES, "open");
	expect_errno(&run, 13, EACCES, "openat2");
	expect_errno(&run, 14, EACCES, "lstat");
	expect_errno(&run, 15, EACCES, "readlinkat");
	expect_errno(&run, 16, EACCES, "faccessat");
	expect_errno(&run, 17, EACCES, "faccessat2");
	expect_errno(&run, 18, EACCES, "stat(2)");
}

Test(sandbox, probes_answered_net) { check_paths(SANDBOX_NET); }
Test(sandbox, probes_answered_scan) { check_paths(SANDBOX_SCAN); }

/*
 * Executable memory: killed in every role.
 */

static void
die_mmap_exec(void *arg)
{
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
}

static void
die_mprotect_exec(void *arg)
{
	void	*p;

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		(void)mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

Test(sandbox, exec_memory)
{
	size_t	i;

	/* No role loads code once sandboxed (dns no longer runs NSS). */
	for (i = 0; i < sizeof(all_roles) / sizeof(all_roles[0]); i++) {
		expect_killed(all_roles[i], die_mmap_exec, NULL,
		    "mmap PROT_EXEC");
		expect_killed(all_roles[i], die_mprotect_exec, NULL,
		    "mprotect PROT_EXEC");
	}
}

/*
 * Memory allocation: glibc's malloc uses brk, mmap, mremap, munmap and
 * madvise; all must keep working.
 */

static void
probe_malloc(struct report *r, void *arg)
{
	char	*small[256], *big, *nbig;
	size_t	 i;
	long	 sum = 0;

	for (i = 0; i < 256; i++) {
		if ((small[i] = malloc(16 + i * 7)) == NULL)
			break;
		memset(small[i], (int)i, 16 + i * 7);
	}
	note(r, i == 256 ? 0 : -1);				/* 0 */
	for (i = 0; i < 256; i++) {
		if (small[i] != NULL)
			sum += small[i][15];
		free(small[i]);
	}
	big = malloc(64 << 20);					/* mmap */
	note(r, big == NULL ? -1 : 0);				/* 1 */
	if (big != NULL) {
		memset(big, 0x5a, 64 << 20);
		nbig = realloc(big, 128 << 20);			/* mremap */
		note(r, nbig == NULL || nbig[(64 << 20) - 1] != 0x5a ?
		    -1 : 0);					/* 2 */
		free(nbig == NULL ? big : nbig);		/* munmap */
	}
	big = calloc(1, 1 << 20);
	note(r, big == NULL || big[12345] != 0 ? -1 : 0);	/* 3 */
	free(big);
	note(r, malloc_trim(0) >= 0 ? 0 : -1);			/* 4: madvise */
	snprintf(r->str, sizeof(r->str), "%ld", sum);
}

Test(sandbox, malloc_works)
{
	size_t	i, j;

	for (i = 0; i < sizeof(all_roles) / sizeof(all_roles[0]); i++) {
		struct run	run = { .role = all_roles[i],
		    .mode = APPLY_FULL, .probe = probe_malloc };

		run_child(&run);
		expect_applied(&run);
		expect_exited(&run);
		cr_assert_eq(run.r.n, 5);
		for (j = 0; j < 5; j++)
			expect_ok(&run, (int)j, "malloc");
	}
}

static int
int_cmp(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x < y ? -1 : x > y);
}

/*
 * glibc's qsort() of more than 1 KB asks sysinfo(2) how much memory the
 * machine has before it allocates its buffer: a scan of a big Claude
 * projects directory was killed for it.
 */
static void
probe_qsort(struct report *r, void *arg)
{
	static int	v[4096];
	size_t		i;

	for (i = 0; i < nitems(v); i++)
		v[i] = (int)((i * 2654435761U) % 100000);
	qsort(v, nitems(v), sizeof(v[0]), int_cmp);
	for (i = 1; i < nitems(v) && v[i - 1] <= v[i]; i++)
		;
	note(r, i == nitems(v) ? 0 : -1);			/* 0 */
}

Test(sandbox, qsort_works)
{
	size_t	i;

	for (i = 0; i < sizeof(all_roles) / sizeof(all_roles[0]); i++) {
		struct run	run = { .role = all_roles[i],
		    .mode = APPLY_FULL, .probe = probe_qsort };

		run_child(&run);
		expect_applied(&run);
		expect_exited(&run);
		cr_assert_eq(run.r.n, 1);
		expect_ok(&run, 0, "qsort");
	}
}

/*
 * scan: reads files it was handed, before or after the sandbox.
 */

static const char	 scan_text[] = "name = \"left-pad\"\nversion = \"1.3.0\"\n";
static char		 scan_path[64];
static int		 scan_fd = -1;

static void
make_scan_file(void)
{
	int	fd;

	snprintf(scan_path, sizeof(scan_path), "/tmp/kobang-sbx-XXXXXX");
	cr_assert((fd = mkstemp(scan_path)) != -1);
	cr_assert_eq(write(fd, scan_text, sizeof(scan_text) - 1),
	    (ssize_t)sizeof(scan_text) - 1);
	close(fd);
}

static void
before_scan_open(void *arg)
{
	scan_fd = open(scan_path, O_RDONLY | O_CLOEXEC);
}

static void
probe_pread(struct report *r, void *arg)
{
	struct stat	st;
	char		buf[64];
	ssize_t		n;

	note(r, scan_fd);						/* 0 */
	n = pread(scan_fd, buf, 7, 7);
	note(r, n);							/* 1 */
	if (n == 7)
		memcpy(r->str, buf, 7);
	note(r, fstat(scan_fd, &st) == 0 ? (long)st.st_size : -1);	/* 2 */
	note(r, lseek(scan_fd, 0, SEEK_SET));				/* 3 */
	note(r, read(scan_fd, buf, 4));					/* 4 */
	note(r, fcntl(scan_fd, F_GETFL));				/* 5 */
	note(r, close(scan_fd));					/* 6 */
}

Test(sandbox, scan_pread)
{
	struct run	run = { .role = SANDBOX_SCAN, .mode = APPLY_FULL,
	    .before = before_scan_open, .probe = probe_pread };

	make_scan_file();
	run_child(&run);
	unlink(scan_path);
	expect_applied(&run);
	expect_exited(&run);
	expect_ok(&run, 0, "open before the sandbox");
	cr_expect_eq(run.r.p[1].rc, 7, "pread: %ld", run.r.p[1].rc);
	cr_expect_str_eq(run.r.str, "\"left-p");
	cr_expect_eq(run.r.p[2].rc, (long)sizeof(scan_text) - 1, "fstat size");
	cr_expect_eq(run.r.p[3].rc, 0, "lseek");
	cr_expect_eq(run.r.p[4].rc, 4, "read");
	expect_ok(&run, 5, "fcntl F_GETFL");
	expect_ok(&run, 6, "close");
}

/* imsg-like traffic: a message with a descriptor, each way. */
static int	 fdpass_sv[2] = { -1, -1 };

static int
send_fd(int sock, int fd, const void *buf, size_t len)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return (sendmsg(sock, &msg, 0) == (ssize_t)len ? 0 : -1);
}

static int
recv_fd(int sock, void *buf, size_t len, ssize_t *np)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	int		 fd = -1;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	if ((*np = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) <= 0)
		return (-1);
	if (msg.msg_flags & MSG_CTRUNC)
		return (-1);
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET &&
		    cmsg->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return (fd);
}

/* The socket becomes the channel (fd 3), the one sendmsg may use. */
static void
before_fdpass(void *arg)
{
	if (dup2(fdpass_sv[1], PROC_CHANNEL_FD) == -1)
		_exit(123);
	close(fdpass_sv[1]);
	fdpass_sv[1] = PROC_CHANNEL_FD;
}

static void
probe_fdpass(struct report *r, void *arg)
{
	char	hdr[16], buf[64];
	ssize_t	n;
	int	fd;

	close(fdpass_sv[0]);
	fd = recv_fd(fdpass_sv[1], hdr, sizeof(hdr), &n);
	note(r, fd);						/* 0 */
	note(r, n);						/* 1 */
	if (fd != -1) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		note(r, n);					/* 2 */
		if (n > 0) {
			buf[n] = '\0';
			snprintf(r->str, sizeof(r->str), "%s", buf);
		}
		note(r, fcntl(fd, F_GETFD));			/* 3: CLOEXEC */
		/* And one back: the descriptor itself, as scan could. */
		note(r, send_fd(fdpass_sv[1], fd, "done", 4));	/* 4 */
		close(fd);
	}
}

Test(sandbox, scan_fd_passing)
{
	struct run	run = { .role = SANDBOX_SCAN, .mode = APPLY_FULL,
	    .before = before_fdpass, .probe = probe_fdpass };
	char		buf[16];
	ssize_t		n;
	int		fd, back;

	make_scan_file();
	cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, fdpass_sv) == 0);
	cr_assert((fd = open(scan_path, O_RDONLY)) != -1);
	unlink(scan_path);
	/* Queued now, received by the child once it is sandboxed. */
	cr_assert(send_fd(fdpass_sv[0], fd, "FILE0123456789ab", 16) == 0);
	close(fd);

	run_child(&run);
	close(fdpass_sv[1]);
	expect_applied(&run);
	expect_exited(&run);
	expect_ok(&run, 0, "recvmsg SCM_RIGHTS");
	cr_expect_eq(run.r.p[1].rc, 16);
	cr_expect_eq(run.r.p[2].rc, (long)sizeof(scan_text) - 1);
	cr_expect_str_eq(run.r.str, scan_text);
	cr_expect_eq(run.r.p[3].rc, FD_CLOEXEC);
	cr_expect_eq(run.r.p[4].rc, 0, "sendmsg SCM_RIGHTS");

	back = recv_fd(fdpass_sv[0], buf, sizeof(buf), &n);
	cr_expect_geq(back, 0, "no descriptor came back");
	cr_expect_eq(n, 4);
	if (back != -1) {
		char	text[64];

		cr_expect_eq(pread(back, text, sizeof(text), 0),
		    (ssize_t)sizeof(scan_text) - 1);
		close(back);
	}
	close(fdpass_sv[0]);
}

/*
 * Signals to ourselves still work: abort() must end in SIGABRT, not
 * SIGSYS (gettid, getpid, tgkill, rt_sigprocmask, rt_sigaction).
 */

static void
do_abort(void *arg)
{
	abort();
}

Test(sandbox, abort_is_sigabrt)
{
	size_t	i;

	for (i = 0; i < sizeof(all_roles) / sizeof(all_roles[0]); i++) {
		struct run	run = { .role = all_roles[i],
		    .mode = APPLY_FULL, .after = do_abort };

		run_child(&run);
		expect_applied(&run);
		cr_expect(WIFSIGNALED(run.status) &&
		    WTERMSIG(run.status) == SIGABRT, "%s: status 0x%x",
		    sandbox_role_name(run.role), run.status);
	}
}

/*
 * dns: c-ares over the sockets the parent connected, under the full
 * sandbox.  The "parent" here is the before hook: it connects a UDP
 * socket to the fake server and hands it over (dns_server_take), as
 * dns_servers_send() does across the channel.
 */

static int	 dns_srv_fd = -1;

/* A server set of one: the fake server, or 127.0.0.1:9 if none. */
static void
before_resolver(void *arg)
{
	struct fake_dns		*d = arg;
	struct dns_server	 s;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;

	memset(&s, 0, sizeof(s));
	memset(&ss, 0, sizeof(ss));
	s.count = 1;
	s.port = d != NULL ? (uint32_t)d->port : 9;
	if (d != NULL && d->family == AF_INET6) {
		s.family = AF_INET6;
		memcpy(s.addr, &in6addr_loopback, 16);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(s.port);
		len = sizeof(*sin6);
	} else {
		s.family = AF_INET;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(s.port);
		memcpy(s.addr, &sin->sin_addr, 4);
		len = sizeof(*sin);
	}
	if ((dns_srv_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    connect(dns_srv_fd, (struct sockaddr *)&ss, len) == -1 ||
	    dns_server_take(&s, dns_srv_fd) == -1)
		_exit(122);
}

/* dns_lookup(), the numeric answers joined by spaces into out. */
static int
lookup_all(const char *host, char *out, size_t outlen)
{
	struct dns_answer	a;
	char			buf[INET6_ADDRSTRLEN];
	uint32_t		i;

	memset(&a, 0, sizeof(a));
	out[0] = '\0';
	dns_lookup(host, &a);
	for (i = 0; i < a.naddrs && i < DNS_MAX_ADDRS; i++) {
		if (inet_ntop((int)a.addrs[i].family, a.addrs[i].addr, buf,
		    sizeof(buf)) == NULL)
			snprintf(buf, sizeof(buf), "?");
		if (out[0] != '\0')
			strlcat(out, " ", outlen);
		strlcat(out, buf, outlen);
	}
	return (a.error);
}

static void
probe_dns_local(struct report *r, void *arg)
{
	char	a1[64] = "", a2[64] = "", buf[32];
	int	fd;

	note(r, lookup_all("localhost", a1, sizeof(a1)));		/* 0 */
	note(r, lookup_all("127.0.0.1", a2, sizeof(a2)));		/* 1 */
	snprintf(r->str, sizeof(r->str), "%s|%s", a1, a2);
	note(r, open("/etc/passwd", O_RDONLY));				/* 2 */
	fd = open("/etc/hosts", O_RDONLY);
	note(r, fd);							/* 3 */
	note(r, fd == -1 ? -1 : read(fd, buf, sizeof(buf)));		/* 4 */
	if (fd != -1)
		close(fd);
	note(r, open("/etc", O_RDONLY | O_DIRECTORY));			/* 5 */
}

Test(sandbox, dns_lookup_local)
{
	struct run	run = { .role = SANDBOX_DNS, .mode = APPLY_FULL,
	    .before = before_resolver, .probe = probe_dns_local };

	run_child(&run);
	expect_applied(&run);
	expect_exited(&run);
	cr_expect_eq(run.r.p[0].rc, 0, "lookup localhost: %s",
	    gai_strerror((int)run.r.p[0].rc));
	cr_expect_eq(run.r.p[1].rc, 0, "lookup 127.0.0.1: %s",
	    gai_strerror((int)run.r.p[1].rc));
	/* localhost from /etc/hosts, the numeric one as it is. */
	cr_expect(strstr(run.r.str, "127.0.0.1|127.0.0.1") != NULL,
	    "answers: %s", run.r.str);
	if (expected_abi() > 0) {
		expect_errno(&run, 2, EACCES, "open /etc/passwd");
		expect_errno(&run, 5, EACCES, "open /etc");
	}
	expect_ok(&run, 3, "open /etc/hosts");
	cr_expect_gt(run.r.p[4].rc, 0, "read /etc/hosts");
}

static void
die_open_write(void *arg)
{
	(void)open("/etc/hosts", O_RDWR);
}

Test(sandbox, dns_open_for_writing_kills)
{
	expect_killed(SANDBOX_DNS, die_open_write, NULL, "open O_RDWR");
}

static void
probe_dns_query(struct report *r, void *arg)
{
	note(r, lookup_all("fleet.kobang.test.", r->str, sizeof(r->str)));
}

static void
check_dns_query(int family)
{
	struct fake_dns	d;
	struct run	run = { .role = SANDBOX_DNS, .mode = APPLY_FULL,
	    .before = before_resolver, .probe = probe_dns_query,
	    .arg = &d, .dns = &d };

	if (fake_dns_open(&d, family, 0, 0) == -1) {
		cr_assert_eq(family, AF_INET6, "no fake server");
		cr_skip_test("no IPv6 loopback");
	}
	run_child(&run);
	fake_dns_close(&d);
	expect_applied(&run);
	expect_exited(&run);
	cr_expect_eq(run.r.p[0].rc, 0, "lookup: %s",
	    gai_strerror((int)run.r.p[0].rc));
	cr_expect(strcmp(run.r.str, "127.0.0.2 127.0.0.3") == 0 ||
	    strcmp(run.r.str, "127.0.0.3 127.0.0.2") == 0, "answers: %s",
	    run.r.str);
	cr_expect_geq(d.queries, 2, "A and AAAA: %d queries", d.queries);
}

/* A real query over the handed UDP socket: writev, poll, recvfrom. */
Test(sandbox, dns_query_udp, .timeout = 30) { check_dns_query(AF_INET); }
Test(sandbox, dns_query_udp6, .timeout = 30) { check_dns_query(AF_INET6); }

/*
 * A truncated answer is taken as it is: no TCP connection is tried
 * (there is no socket to try it on), the server never sees one.
 */
Test(sandbox, dns_truncated_no_tcp, .timeout = 30)
{
	struct fake_dns	d;
	struct run	run = { .role = SANDBOX_DNS, .mode = APPLY_FULL,
	    .before = before_resolver, .probe = probe_dns_query,
	    .arg = &d, .dns = &d };

	cr_assert(fake_dns_open(&d, AF_INET, 0, 1) == 0);
	d.truncate = 1;
	run_child(&run);
	fake_dns_close(&d);
	expect_applied(&run);
	expect_exited(&run);
	cr_expect_geq(d.queries, 1, "no UDP query arrived");
	cr_expect_eq(d.tcp_conns, 0, "a TCP connection got through");
	cr_expect_neq(run.r.p[0].rc, 0, "an empty truncated answer gave %s",
	    run.r.str);
}

/*
 * A compromised dns child tries to reach anything but its name
 * server: a socket of its own, a connect of the handed socket, a
 * datagram to another address on it.  Each kills.
 */
static void
die_socket_udp(void *arg)
{
	(void)socket(AF_INET, SOCK_DGRAM, 0);
}

static void
die_connect_handed(void *arg)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(9);
	(void)connect(dns_srv_fd, (struct sockaddr *)&sin, sizeof(sin));
}

static void
die_sendto_handed(void *arg)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(9);
	(void)sendto(dns_srv_fd, "x", 1, 0, (struct sockaddr *)&sin,
	    sizeof(sin));
}

static void
expect_dns_killed(void (*fn)(void *), const char *what)
{
	struct run	run = { .role = SANDBOX_DNS, .mode = APPLY_FULL,
	    .before = before_resolver, .after = fn };

	run_child(&run);
	expect_applied(&run);
	expect_sigsys(&run, what);
}

Test(sandbox, dns_reaches_only_its_servers)
{
	expect_dns_killed(die_socket_udp, "socket(AF_INET, SOCK_DGRAM)");
	expect_dns_killed(die_socket_inet, "socket(AF_INET, SOCK_STREAM)");
	expect_dns_killed(die_connect_handed, "connect of the handed socket");
	expect_dns_killed(die_sendto_handed, "sendto another address");
}

/*
 * Landlock alone (no seccomp), where its own answers can be seen.
 */

static int	 ll_listen = -1;
static int	 ll_port;
static char	 ll_abstract[64];
static int	 ll_abstract_fd = -1;

static void
ll_setup(void)
{
	struct sockaddr_in	sin;
	struct sockaddr_un	sun;
	socklen_t		len = sizeof(sin);

	cr_assert((ll_listen = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(bind(ll_listen, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	cr_assert(listen(ll_listen, 4) == 0);
	cr_assert(getsockname(ll_listen, (struct sockaddr *)&sin, &len) == 0);
	ll_port = ntohs(sin.sin_port);

	snprintf(ll_abstract, sizeof(ll_abstract), "kobang-sbx-%d",
	    (int)getpid());
	cr_assert((ll_abstract_fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, ll_abstract, strlen(ll_abstract));
	cr_assert(bind(ll_abstract_fd, (struct sockaddr *)&sun,
	    offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(ll_abstract)) == 0);
	cr_assert(listen(ll_abstract_fd, 4) == 0);
}

static void
ll_teardown(void)
{
	close(ll_listen);
	close(ll_abstract_fd);
}

static void
probe_landlock(struct report *r, void *arg)
{
	struct sockaddr_in	sin;
	struct sockaddr_un	sun;
	int			s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(ll_port);
	s = socket(AF_INET, SOCK_STREAM, 0);
	note(r, s);							/* 0 */
	note(r, connect(s, (struct sockaddr *)&sin, sizeof(sin)));	/* 1 */
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_port = 0;
	note(r, bind(s, (struct sockaddr *)&sin, sizeof(sin)));		/* 2 */
	close(s);
	note(r, kill(getppid(), 0));					/* 3 */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, ll_abstract, strlen(ll_abstract));
	note(r, connect(s, (struct sockaddr *)&sun,
	    offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(ll_abstract)));					/* 4 */
	close(s);
	note(r, open("/etc/hosts", O_RDONLY));				/* 5 */
	note(r, open("/etc/passwd", O_RDONLY));				/* 6 */
	note(r, open("/tmp/kobang-sbx-landlock", O_WRONLY | O_CREAT,
	    0600));							/* 7 */
	note(r, kill(getpid(), 0));					/* 8 */
}

static void
check_landlock(enum sandbox_role role)
{
	struct run	run = { .role = role, .mode = APPLY_LANDLOCK,
	    .probe = probe_landlock };
	int		abi = expected_abi();

	if (abi == 0)
		cr_skip_test("no Landlock in this kernel");
	ll_setup();
	run_child(&run);
	ll_teardown();
	expect_applied(&run);
	expect_exited(&run);
	cr_expect_eq(run.r.l.landlock_abi, abi);
	cr_expect_eq(run.r.l.landlock_selftest, 1);
	cr_expect_eq(run.r.l.seccomp, 0);
	cr_expect_eq(proc_field(&run, "Seccomp"), 0);
	expect_ok(&run, 0, "socket");
	if (abi >= 4) {
		expect_errno(&run, 1, EACCES, "TCP connect");
		expect_errno(&run, 2, EACCES, "TCP bind");
	}
	if (abi >= 6) {
		expect_errno(&run, 3, EPERM, "signal to the parent");
		expect_errno(&run, 4, EPERM, "abstract socket connect");
	}
	if (role == SANDBOX_DNS)
		expect_ok(&run, 5, "open /etc/hosts");
	else
		expect_errno(&run, 5, EACCES, "open /etc/hosts");
	expect_errno(&run, 6, EACCES, "open /etc/passwd");
	expect_errno(&run, 7, EACCES, "create in /tmp");
	expect_ok(&run, 8, "signal to self");
}

Test(sandbox, landlock_only_net) { check_landlock(SANDBOX_NET); }
Test(sandbox, landlock_only_scan) { check_landlock(SANDBOX_SCAN); }
Test(sandbox, landlock_only_dns) { check_landlock(SANDBOX_DNS); }
