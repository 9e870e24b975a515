/*
 * Per-role sandboxes for the children; the contract is in sandbox.h.
 *
 * Linux: PR_SET_NO_NEW_PRIVS, then Landlock (the counterpart of
 * unveil), then a libseccomp filter (the counterpart of pledge).  The
 * whole seccomp policy is the table sc_rules[]: an auditor reads that
 * and nothing else.  Everything not in the table kills the process.
 *
 * Build with -DSANDBOX_DEBUG to trap instead of kill and print the
 * number of the offending system call on stderr; never in production.
 */

#include <sys/types.h>

#if defined(__linux__)
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <netinet/in.h>

#include <fcntl.h>
#include <seccomp.h>
#if defined(__has_include)
#if __has_include(<linux/landlock.h>)
#include <linux/landlock.h>
#endif
#endif
#endif /* __linux__ */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "sandbox.h"

const char *
sandbox_role_name(enum sandbox_role role)
{
	switch (role) {
	case SANDBOX_NET:
		return ("net");
	case SANDBOX_SCAN:
		return ("scan");
	case SANDBOX_DNS:
		return ("dns");
	}
	return ("unknown");
}

static int
sandbox_role_valid(enum sandbox_role role)
{
	return (role == SANDBOX_NET || role == SANDBOX_SCAN ||
	    role == SANDBOX_DNS);
}

#if defined(__linux__)

/*
 * Landlock.  Debian 12's <linux/landlock.h> knows ABI 1 only, so the
 * later constants are defined here and the structs are our own copies
 * of the kernel's (stable, versioned by size) layouts.
 */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset	444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule		445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self	446
#endif

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION		(1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_EXECUTE
#define LANDLOCK_ACCESS_FS_EXECUTE		(1ULL << 0)
#define LANDLOCK_ACCESS_FS_WRITE_FILE		(1ULL << 1)
#define LANDLOCK_ACCESS_FS_READ_FILE		(1ULL << 2)
#define LANDLOCK_ACCESS_FS_READ_DIR		(1ULL << 3)
#define LANDLOCK_ACCESS_FS_REMOVE_DIR		(1ULL << 4)
#define LANDLOCK_ACCESS_FS_REMOVE_FILE		(1ULL << 5)
#define LANDLOCK_ACCESS_FS_MAKE_CHAR		(1ULL << 6)
#define LANDLOCK_ACCESS_FS_MAKE_DIR		(1ULL << 7)
#define LANDLOCK_ACCESS_FS_MAKE_REG		(1ULL << 8)
#define LANDLOCK_ACCESS_FS_MAKE_SOCK		(1ULL << 9)
#define LANDLOCK_ACCESS_FS_MAKE_FIFO		(1ULL << 10)
#define LANDLOCK_ACCESS_FS_MAKE_BLOCK		(1ULL << 11)
#define LANDLOCK_ACCESS_FS_MAKE_SYM		(1ULL << 12)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER		(1ULL << 13)	/* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP		(1ULL << 1)	/* ABI 4 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)	/* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL			(1ULL << 1)	/* ABI 6 */
#endif

/* The ABI 1 rights: bits 0 to 12. */
#define LL_FS_ABI1	((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1)

/* Rule types; enumerators in the kernel header, so no #ifndef. */
#define LL_RULE_PATH_BENEATH	1

struct ll_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;	/* ABI 4 */
	uint64_t	scoped;			/* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t	allowed_access;
	int32_t		parent_fd;
} __attribute__((packed));

/*
 * What the resolver child may read: the files c-ares reads for its
 * options, lookup order and host table (the name servers come from the
 * parent).  A path that does not exist is skipped.  The rule sits on
 * the inode: a file replaced by rename(2) after the sandbox is applied
 * is no longer readable (the child must be restarted).
 */
static const char *const ll_dns_files[] = {
	"/etc/resolv.conf",
	"/etc/hosts",
	"/etc/nsswitch.conf",
	"/etc/host.conf",
};

/*
 * Probes for the self-test: each exists and is world-readable on every
 * system, and no role is granted it.  Only a probe that could be
 * opened before restrict_self counts, so an EACCES afterwards can only
 * have come from Landlock (seccomp is not loaded yet).
 */
static const struct {
	const char	*path;
	int		 flags;
} ll_probes[] = {
	{ "/etc/passwd",	O_RDONLY | O_CLOEXEC },			/* READ_FILE */
	{ "/",			O_RDONLY | O_DIRECTORY | O_CLOEXEC },	/* READ_DIR */
};

static uint64_t
ll_fs_rights(int abi)
{
	uint64_t	r = LL_FS_ABI1;

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return (r);
}

static int
ll_add_dns_rules(int rfd, uint64_t fs_handled)
{
	struct ll_path_beneath_attr	 pb;
	struct stat			 st;
	size_t				 i;
	int				 fd;

	for (i = 0; i < sizeof(ll_dns_files) / sizeof(ll_dns_files[0]);
	    i++) {
		/* O_PATH follows a symlink: the rule lands on the target. */
		if ((fd = open(ll_dns_files[i], O_PATH | O_CLOEXEC)) == -1) {
			if (errno == ENOENT) {
				log_debug("sandbox: %s: not present, skipped",
				    ll_dns_files[i]);
				continue;
			}
			log_warn("sandbox: open %s", ll_dns_files[i]);
			return (-1);
		}
		if (fstat(fd, &st) == -1) {
			log_warn("sandbox: fstat %s", ll_dns_files[i]);
			close(fd);
			return (-1);
		}
		memset(&pb, 0, sizeof(pb));
		pb.parent_fd = fd;
		pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
		/* A directory rule needs READ_DIR; a file rule must not. */
		if (S_ISDIR(st.st_mode))
			pb.allowed_access |= LANDLOCK_ACCESS_FS_READ_DIR;
		pb.allowed_access &= fs_handled;
		if (syscall(__NR_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH,
		    &pb, 0) == -1) {
			log_warn("sandbox: landlock_add_rule %s",
			    ll_dns_files[i]);
			close(fd);
			return (-1);
		}
		close(fd);
	}
	/* No TCP port: dns makes no connection (ABI 4 denies them all). */
	return (0);
}

static int
landlock_apply(enum sandbox_role role, struct sandbox_layers *sl)
{
	struct ll_ruleset_attr	 attr;
	size_t			 attrsz, i;
	int			 abi, rfd, fd, saved_errno;
	int			 before[sizeof(ll_probes) / sizeof(ll_probes[0])];
	int			 denied = 0, leaked = 0;

	abi = syscall(__NR_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi == -1) {
		if (errno == ENOSYS || errno == EOPNOTSUPP) {
			/* Not built in, or disabled at boot: reported. */
			log_debug("sandbox: landlock not available: %s",
			    strerror(errno));
			return (0);
		}
		log_warn("sandbox: landlock_create_ruleset version");
		return (-1);
	}
	if (abi > SANDBOX_LANDLOCK_ABI_MAX)
		abi = SANDBOX_LANDLOCK_ABI_MAX;

	/* Handle every right the ABI knows: what no rule grants is denied. */
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = ll_fs_rights(abi);
	attrsz = sizeof(attr.handled_access_fs);
	if (abi >= 4) {
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
		    LANDLOCK_ACCESS_NET_CONNECT_TCP;
		attrsz += sizeof(attr.handled_access_net);
	}
	if (abi >= 6) {
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
		    LANDLOCK_SCOPE_SIGNAL;
		attrsz += sizeof(attr.scoped);
	}

	if ((rfd = syscall(__NR_landlock_create_ruleset, &attr, attrsz,
	    0)) == -1) {
		log_warn("sandbox: landlock_create_ruleset (abi %d)", abi);
		return (-1);
	}
	if (role == SANDBOX_DNS &&
	    ll_add_dns_rules(rfd, attr.handled_access_fs) == -1) {
		close(rfd);
		return (-1);
	}

	for (i = 0; i < sizeof(ll_probes) / sizeof(ll_probes[0]); i++) {
		fd = open(ll_probes[i].path, ll_probes[i].flags);
		before[i] = fd != -1;
		if (fd != -1)
			close(fd);
	}

	if (syscall(__NR_landlock_restrict_self, rfd, 0) == -1) {
		saved_errno = errno;
		close(rfd);
		errno = saved_errno;
		log_warn("sandbox: landlock_restrict_self");
		return (-1);
	}
	close(rfd);
	sl->landlock_abi = abi;

	for (i = 0; i < sizeof(ll_probes) / sizeof(ll_probes[0]); i++) {
		fd = open(ll_probes[i].path, ll_probes[i].flags);
		if (fd != -1) {
			close(fd);
			log_warnx("sandbox: landlock self-test: %s readable",
			    ll_probes[i].path);
			leaked++;
		} else if (errno == EACCES && before[i])
			denied++;
	}
	if (leaked)
		sl->landlock_selftest = -1;
	else if (denied)
		sl->landlock_selftest = 1;
	/* A Landlock that demonstrably does not hold is a failure. */
	return (leaked ? -1 : 0);
}

/*
 * Sanitizer builds (detected at compile time).  ASan needs one more
 * call: __asan_handle_no_return() reads the signal stack (sigaltstack
 * with a NULL new stack) before every noreturn call such as exit().
 * Reports need nothing else: isatty() is answered ENOTTY, the open of
 * /proc/self/maps and the stat of llvm-symbolizer EACCES, so a report
 * comes unsymbolized (module and offset) and the process exits 1.
 * LeakSanitizer's check at exit would stop the world with clone and
 * ptrace and read /proc/self/task, none of which a sandboxed child may
 * have (Landlock alone already hides /proc): it is turned off in a
 * process once it is sandboxed, through the hook the runtime consults
 * before the check.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN	1
#endif
#endif

#ifdef SANDBOX_ASAN
static volatile sig_atomic_t	sandbox_lsan_off;

int	__lsan_is_turned_off(void);

int
__lsan_is_turned_off(void)
{
	return (sandbox_lsan_off);
}
#endif

/*
 * seccomp.  One table for the three roles; the first matching rule of
 * a system call decides, everything absent kills the process.  Rules
 * of one call with different actions have disjoint conditions.
 * Harmless probes (open, stat, access, readlink) are answered with
 * EACCES so that libc fails softly instead of the process dying.
 */
#define R_NET		(1U << SANDBOX_NET)
#define R_SCAN		(1U << SANDBOX_SCAN)
#define R_DNS		(1U << SANDBOX_DNS)
#define R_ALL		(R_NET | R_SCAN | R_DNS)

#define ALLOW		SCMP_ACT_ALLOW
#define EACCES_		SCMP_ACT_ERRNO(EACCES)
#define ENOTTY_		SCMP_ACT_ERRNO(ENOTTY)

#define SCF_SELFPID	0x01	/* arg 0 compared with our own pid */
#define SCF_SANITIZER	0x02	/* only in sanitizer builds */

struct sc_rule {
	const char		*name;
	int			 nr;
	uint32_t		 action;
	unsigned int		 roles;
	unsigned int		 flags;
	unsigned int		 nargs;
	struct scmp_arg_cmp	 arg[3];
};

#define EQ(n, v)	{ (n), SCMP_CMP_EQ, (scmp_datum_t)(v), 0 }
#define MASKEQ(n, m, v)	{ (n), SCMP_CMP_MASKED_EQ, (scmp_datum_t)(m), \
			    (scmp_datum_t)(v) }
#define NOARG		{ 0, _SCMP_CMP_MIN, 0, 0 }
#define R0(s, act, roles) \
	{ #s, SCMP_SYS(s), (act), (roles), 0, 0, { NOARG, NOARG, NOARG } }
#define R1(s, act, roles, a) \
	{ #s, SCMP_SYS(s), (act), (roles), 0, 1, { a, NOARG, NOARG } }
#define R2(s, act, roles, a, b) \
	{ #s, SCMP_SYS(s), (act), (roles), 0, 2, { a, b, NOARG } }
#define R3(s, act, roles, a, b, c) \
	{ #s, SCMP_SYS(s), (act), (roles), 0, 3, { a, b, c } }
#define R1SELF(s, act, roles) \
	{ #s, SCMP_SYS(s), (act), (roles), SCF_SELFPID, 1, \
	    { EQ(0, 0), NOARG, NOARG } }

/*
 * An int argument arrives as a 64-bit register whose upper half the
 * kernel ignores: tests that allow must only match what the kernel will
 * see (an exact 64-bit EQ fails closed), and a sign test looks at bit 31.
 */
#define INT_NEG		0x80000000ULL

/* openat() flags the resolver never needs: anything but read-only. */
#define O_NOTREAD	(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | O_PATH)

static const struct sc_rule sc_rules[] = {
	/* I/O on descriptors the child already holds. */
	R0(read,		ALLOW,	R_ALL),
	R0(readv,		ALLOW,	R_ALL),
	R0(write,		ALLOW,	R_ALL),
	R0(writev,		ALLOW,	R_ALL),
	R0(recvmsg,		ALLOW,	R_ALL),		/* imsg, fd passing */
	/*
	 * sendmsg(2) can name a destination that seccomp cannot see
	 * (msg_name is in memory), even on a connected datagram socket
	 * such as syslog's: only on the channel to the parent, a
	 * connected stream socket where an address is refused.
	 */
	R1(sendmsg,		ALLOW,	R_ALL,	EQ(0, PROC_CHANNEL_FD)),
	/* send(2) on the connected syslog socket: never to an address. */
	R1(sendto,		ALLOW,	R_ALL,	EQ(4, 0)),
	R0(lseek,		ALLOW,	R_ALL),		/* stdio */
	R0(pread64,		ALLOW,	R_SCAN),	/* handed files */
	R0(close,		ALLOW,	R_ALL),
	R0(poll,		ALLOW,	R_ALL),
	R0(ppoll,		ALLOW,	R_ALL),
	R1(fcntl,		ALLOW,	R_ALL,	EQ(1, F_GETFL)),
	R1(fcntl,		ALLOW,	R_ALL,	EQ(1, F_SETFL)),
	R1(fcntl,		ALLOW,	R_ALL,	EQ(1, F_GETFD)),
	R1(fcntl,		ALLOW,	R_ALL,	EQ(1, F_SETFD)),
	R1(fcntl,		ALLOW,	R_ALL,	EQ(1, F_DUPFD_CLOEXEC)),

	/*
	 * fstat(2): glibc 2.33 and later call newfstatat(fd, "",
	 * AT_EMPTY_PATH).  net and scan get that form (a descriptor, not
	 * AT_FDCWD) and EACCES for a path; dns stats its resolver files
	 * (glibc checks them for changes).  Landlock does not cover stat.
	 */
	R0(fstat,		ALLOW,	R_ALL),
	R2(newfstatat,		ALLOW,	R_ALL,
	    MASKEQ(0, INT_NEG, 0), MASKEQ(3, AT_EMPTY_PATH, AT_EMPTY_PATH)),
	R1(newfstatat,		EACCES_, R_ALL,
	    MASKEQ(0, INT_NEG, INT_NEG)),
	R1(newfstatat,		EACCES_, R_ALL,
	    MASKEQ(3, AT_EMPTY_PATH, 0)),

	/* Probes by path: answered, not fatal. */
	R0(open,		EACCES_, R_ALL),
	R0(openat,		EACCES_, R_NET | R_SCAN),
	/* dns: read-only opens; Landlock decides which files. */
	R1(openat,		ALLOW,	R_DNS,	MASKEQ(2, O_NOTREAD, 0)),
	R0(openat2,		EACCES_, R_ALL),
	R0(stat,		EACCES_, R_ALL),
	R0(lstat,		EACCES_, R_ALL),
	R0(statx,		EACCES_, R_ALL),
	R0(access,		EACCES_, R_ALL),
	R0(faccessat,		EACCES_, R_ALL),
	R0(faccessat2,		EACCES_, R_ALL),
	R0(readlink,		EACCES_, R_ALL),
	R0(readlinkat,		EACCES_, R_ALL),

	/* Memory.  Never executable: see below. */
	R0(brk,			ALLOW,	R_ALL),
	R1(mmap,		ALLOW,	R_ALL,	MASKEQ(2, PROT_EXEC, 0)),
	R1(mprotect,		ALLOW,	R_ALL,	MASKEQ(2, PROT_EXEC, 0)),
	/*
	 * No child loads code once sandboxed (OpenSSL is initialised
	 * before, dns uses c-ares, not NSS): an executable mapping means
	 * an exploit, which is killed.
	 */
	R0(munmap,		ALLOW,	R_ALL),
	R0(mremap,		ALLOW,	R_ALL),
	R0(madvise,		ALLOW,	R_ALL),		/* malloc trimming */
	R0(futex,		ALLOW,	R_ALL),

	/* Time, identity, randomness, limits. */
	R0(clock_gettime,	ALLOW,	R_ALL),		/* vDSO fallback */
	R0(gettimeofday,	ALLOW,	R_ALL),
	R0(clock_nanosleep,	ALLOW,	R_ALL),
	R0(nanosleep,		ALLOW,	R_ALL),
	R0(getpid,		ALLOW,	R_ALL),		/* syslog LOG_PID */
	R0(getppid,		ALLOW,	R_ALL),
	R0(gettid,		ALLOW,	R_ALL),		/* abort() */
	R0(getuid,		ALLOW,	R_ALL),
	R0(geteuid,		ALLOW,	R_ALL),
	R0(getgid,		ALLOW,	R_ALL),
	R0(getegid,		ALLOW,	R_ALL),
	R0(getrandom,		ALLOW,	R_ALL),
	R0(getrlimit,		ALLOW,	R_ALL),
	/* glibc's qsort() sizes its buffer by the machine's memory. */
	R0(sysinfo,		ALLOW,	R_ALL),
	/* Our own limits, read only. */
	R2(prlimit64,		ALLOW,	R_ALL,	EQ(0, 0), EQ(2, 0)),
	R0(sched_yield,		ALLOW,	R_ALL),
	/* The read-back in seccomp_apply(). */
	R1(prctl,		ALLOW,	R_ALL,	EQ(0, PR_GET_SECCOMP)),
	/* isatty() in stdio and the sanitizers: "not a terminal". */
	R1(ioctl,		ENOTTY_, R_ALL,	EQ(1, TCGETS)),

	/* Signals, to ourselves only (abort, raise). */
	R0(rt_sigaction,	ALLOW,	R_ALL),
	R0(rt_sigprocmask,	ALLOW,	R_ALL),
	R0(rt_sigreturn,	ALLOW,	R_ALL),
	R0(restart_syscall,	ALLOW,	R_ALL),
	R1SELF(kill,		ALLOW,	R_ALL),
	R1SELF(tgkill,		ALLOW,	R_ALL),
	R0(exit,		ALLOW,	R_ALL),
	R0(exit_group,		ALLOW,	R_ALL),

	/*
	 * Sockets.  AF_UNIX is answered, not fatal: glibc's syslog()
	 * reconnects to /dev/log after an error and fails softly.  Any
	 * other socket, and any connect, kills in every role: net and dns
	 * get theirs from the parent, connected.
	 */
	R1(socket,		EACCES_, R_ALL,	EQ(0, AF_UNIX)),
	/* dns: answers on the sockets the parent connected (c-ares). */
	R0(recvfrom,		ALLOW,	R_DNS),
	/* dns: c-ares's socket becomes the one connected to its server. */
	R1(dup3,		ALLOW,	R_DNS,	EQ(2, O_CLOEXEC)),
	R0(uname,		ALLOW,	R_DNS),		/* default domain */

#ifdef SANDBOX_ASAN
	/* __asan_handle_no_return() reads the signal stack before exit(). */
	{ "sigaltstack", SCMP_SYS(sigaltstack), ALLOW, R_ALL, SCF_SANITIZER,
	    1, { EQ(0, 0), NOARG, NOARG } },
#endif
};

#ifdef SANDBOX_DEBUG
#define SC_DEFAULT	SCMP_ACT_TRAP

static void
sc_sigsys(int sig, siginfo_t *si, void *ctx)
{
	static const char	 msg[] = "sandbox: forbidden system call ";
	char			 buf[sizeof(msg) + 12];
	char			 num[12];
	unsigned int		 n = (unsigned int)si->si_syscall;
	size_t			 len = sizeof(msg) - 1, i = sizeof(num);

	/* Only async-signal-safe work: format by hand, write, exit. */
	memcpy(buf, msg, len);
	do {
		num[--i] = '0' + n % 10;
		n /= 10;
	} while (n != 0 && i > 0);
	while (i < sizeof(num))
		buf[len++] = num[i++];
	buf[len++] = '\n';
	if (write(STDERR_FILENO, buf, len) == -1) {
		/* Nowhere to say it. */
	}
	_exit(127);
}
#else
#define SC_DEFAULT	SCMP_ACT_KILL_PROCESS
#endif

static int
seccomp_apply(enum sandbox_role role, struct sandbox_layers *sl)
{
	struct scmp_arg_cmp	 arg[3];
	scmp_filter_ctx		 ctx;
	uint32_t		 defact = SC_DEFAULT;
	size_t			 i;
	int			 r;
#ifdef SANDBOX_DEBUG
	struct sigaction	 sa;
	sigset_t		 mask;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sc_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&mask);
	sigaddset(&mask, SIGSYS);
	if (sigaction(SIGSYS, &sa, NULL) == -1 ||
	    sigprocmask(SIG_UNBLOCK, &mask, NULL) == -1) {
		log_warn("sandbox: SIGSYS handler");
		return (-1);
	}
#endif

	/* Killing the whole process needs Linux 4.14; else the thread. */
	if ((ctx = seccomp_init(defact)) == NULL &&
	    defact == SCMP_ACT_KILL_PROCESS)
		ctx = seccomp_init(defact = SCMP_ACT_KILL);
	if (ctx == NULL) {
		log_warnx("sandbox: seccomp_init failed");
		return (-1);
	}
	/* Native architecture only; a foreign system call ABI kills. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    defact)) != 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0) {
		log_warnx("sandbox: seccomp_attr_set: %s", strerror(-r));
		goto fail;
	}

	for (i = 0; i < sizeof(sc_rules) / sizeof(sc_rules[0]); i++) {
		if ((sc_rules[i].roles & (1U << role)) == 0)
			continue;
		memcpy(arg, sc_rules[i].arg, sizeof(arg));
		if (sc_rules[i].flags & SCF_SELFPID)
			arg[0].datum_a = (scmp_datum_t)getpid();
		r = seccomp_rule_add_array(ctx, sc_rules[i].action,
		    sc_rules[i].nr, sc_rules[i].nargs, arg);
		if (r != 0) {
			log_warnx("sandbox: seccomp rule %s: %s",
			    sc_rules[i].name, strerror(-r));
			goto fail;
		}
	}

	if ((r = seccomp_load(ctx)) != 0) {
		log_warnx("sandbox: seccomp_load: %s", strerror(-r));
		goto fail;
	}
	seccomp_release(ctx);

	/* Read back: 2 is SECCOMP_MODE_FILTER (allowed by the table). */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2) {
		log_warnx("sandbox: seccomp filter not in force");
		return (-1);
	}
	sl->seccomp = 1;
	return (0);

 fail:
	seccomp_release(ctx);
	return (-1);
}

static void
sc_print_action(FILE *fp, uint32_t action)
{
	if (action == SCMP_ACT_ALLOW)
		fprintf(fp, "allow");
	else if ((action & 0xffff0000U) == SCMP_ACT_ERRNO(0))
		fprintf(fp, "errno %s", strerrorname_np(action & 0xffff));
	else
		fprintf(fp, "action 0x%x", action);
}

/*
 * The policy of a role as text, one rule a line, for the golden test
 * (regress/sandbox/): what the kernel will be given, not the source.
 */
void
sandbox_policy_print(enum sandbox_role role, FILE *fp)
{
	const struct sc_rule	*r;
	const struct scmp_arg_cmp *a;
	size_t			 i;
	unsigned int		 j;

	fprintf(fp, "seccomp default kill\n");
	for (i = 0; i < sizeof(sc_rules) / sizeof(sc_rules[0]); i++) {
		r = &sc_rules[i];
		if ((r->roles & (1U << role)) == 0)
			continue;
		fprintf(fp, "seccomp ");
		sc_print_action(fp, r->action);
		fprintf(fp, " %s", r->name);
		for (j = 0; j < r->nargs; j++) {
			a = &r->arg[j];
			if (j == 0 && r->flags & SCF_SELFPID)
				fprintf(fp, " a0==self");
			else if (a->op == SCMP_CMP_EQ)
				fprintf(fp, " a%u==0x%llx", a->arg,
				    (unsigned long long)a->datum_a);
			else if (a->op == SCMP_CMP_MASKED_EQ)
				fprintf(fp, " a%u&0x%llx==0x%llx", a->arg,
				    (unsigned long long)a->datum_a,
				    (unsigned long long)a->datum_b);
			else
				fprintf(fp, " a%u op%d", a->arg, (int)a->op);
		}
		fprintf(fp, "%s\n", r->flags & SCF_SANITIZER ?
		    " (sanitizer build only)" : "");
	}
	if (role != SANDBOX_DNS)
		return;
	for (i = 0; i < sizeof(ll_dns_files) / sizeof(ll_dns_files[0]); i++)
		fprintf(fp, "landlock read %s\n", ll_dns_files[i]);
}

static int
nnp_apply(struct sandbox_layers *sl)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("sandbox: PR_SET_NO_NEW_PRIVS");
		return (-1);
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		log_warnx("sandbox: no_new_privs did not stick");
		return (-1);
	}
	sl->no_new_privs = 1;
	return (0);
}

int
sandbox_apply_landlock(enum sandbox_role role, struct sandbox_layers *slp)
{
	struct sandbox_layers	 local, *sl = slp ? slp : &local;

	memset(sl, 0, sizeof(*sl));
	if (!sandbox_role_valid(role)) {
		errno = EINVAL;
		return (-1);
	}
#ifdef SANDBOX_ASAN
	sandbox_lsan_off = 1;
#endif
	if (nnp_apply(sl) == -1 || landlock_apply(role, sl) == -1)
		return (-1);
	return (0);
}

int
sandbox_apply(enum sandbox_role role, struct sandbox_layers *slp)
{
	struct sandbox_layers	 local, *sl = slp ? slp : &local;

	if (sandbox_apply_landlock(role, sl) == -1)
		return (-1);
	/* After the Landlock self-test: its EACCES must be Landlock's. */
	if (seccomp_apply(role, sl) == -1)
		return (-1);
	log_debug("sandbox %s: no_new_privs %d, landlock abi %d "
	    "(self-test %d), seccomp %d", sandbox_role_name(role),
	    sl->no_new_privs, sl->landlock_abi, sl->landlock_selftest,
	    sl->seccomp);
	return (0);
}

#elif defined(__OpenBSD__)

void
sandbox_policy_print(enum sandbox_role role, FILE *fp)
{
	fprintf(fp, "pledge %s\n", role == SANDBOX_DNS ? "stdio dns" :
	    "stdio recvfd");
}

/* pledge(2) and unveil(2): what Landlock and seccomp imitate. */
static const char *const ob_dns_files[] = {
	"/etc/resolv.conf",
	"/etc/hosts",
	"/etc/services",
	"/etc/protocols",
};

int
sandbox_apply(enum sandbox_role role, struct sandbox_layers *slp)
{
	struct sandbox_layers	 local, *sl = slp ? slp : &local;
	const char		*promises;
	size_t			 i;

	memset(sl, 0, sizeof(*sl));
	if (!sandbox_role_valid(role)) {
		errno = EINVAL;
		return (-1);
	}
	if (role == SANDBOX_DNS) {
		for (i = 0; i < sizeof(ob_dns_files) /
		    sizeof(ob_dns_files[0]); i++)
			if (unveil(ob_dns_files[i], "r") == -1 &&
			    errno != ENOENT) {
				log_warn("sandbox: unveil %s", ob_dns_files[i]);
				return (-1);
			}
		promises = "stdio dns";
	} else {
		/* No file system at all; descriptors arrive over imsg. */
		if (unveil("/", "") == -1) {
			log_warn("sandbox: unveil /");
			return (-1);
		}
		promises = "stdio recvfd";
	}
	if (unveil(NULL, NULL) == -1 || pledge(promises, NULL) == -1) {
		log_warn("sandbox: pledge %s", promises);
		return (-1);
	}
	sl->os_sandbox = 1;
	return (0);
}

int
sandbox_apply_landlock(enum sandbox_role role, struct sandbox_layers *sl)
{
	errno = ENOSYS;
	return (-1);
}

#elif defined(__APPLE__)

void
sandbox_policy_print(enum sandbox_role role, FILE *fp)
{
	fprintf(fp, "sandbox profile %s\n", role == SANDBOX_DNS ? "dns" :
	    "no file system");
}

/*
 * The sandbox profile API.  Declared here because <sandbox.h> would
 * find this directory's sandbox.h first on the include path.
 */
int	sandbox_init(const char *, uint64_t, char **);
void	sandbox_free_error(char *);

static const char sb_nofs[] =
    "(version 1)"
    "(deny default)"
    "(allow signal (target self))"
    "(allow sysctl-read)";

static const char sb_dns[] =
    "(version 1)"
    "(deny default)"
    "(allow signal (target self))"
    "(allow sysctl-read)"
    "(allow file-read* (literal \"/private/etc/hosts\")"
    "    (literal \"/private/etc/services\")"
    "    (literal \"/private/etc/protocols\")"
    "    (literal \"/private/var/run/resolv.conf\"))"
    "(allow mach-lookup (global-name \"com.apple.mDNSResponder\")"
    "    (global-name \"com.apple.dnssd.service\"))"
    "(allow network-outbound (literal \"/private/var/run/mDNSResponder\")"
    "    (remote udp \"*:53\") (remote tcp \"*:53\"))"
    "(allow system-socket)";

int
sandbox_apply(enum sandbox_role role, struct sandbox_layers *slp)
{
	struct sandbox_layers	 local, *sl = slp ? slp : &local;
	const char		*profile;
	char			*err = NULL;

	memset(sl, 0, sizeof(*sl));
	if (!sandbox_role_valid(role)) {
		errno = EINVAL;
		return (-1);
	}
	profile = role == SANDBOX_DNS ? sb_dns : sb_nofs;
	if (sandbox_init(profile, 0, &err) == -1) {
		log_warnx("sandbox: sandbox_init %s: %s",
		    sandbox_role_name(role), err ? err : "failed");
		if (err != NULL)
			sandbox_free_error(err);
		return (-1);
	}
	sl->os_sandbox = 1;
	return (0);
}

int
sandbox_apply_landlock(enum sandbox_role role, struct sandbox_layers *sl)
{
	errno = ENOSYS;
	return (-1);
}

#else

void
sandbox_policy_print(enum sandbox_role role, FILE *fp)
{
	fprintf(fp, "no sandbox on this system\n");
}

/* No sandbox for this system: say so, and report nothing in force. */
int
sandbox_apply(enum sandbox_role role, struct sandbox_layers *slp)
{
	if (slp != NULL)
		memset(slp, 0, sizeof(*slp));
	if (!sandbox_role_valid(role)) {
		errno = EINVAL;
		return (-1);
	}
	log_warnx("sandbox %s: no sandbox on this system",
	    sandbox_role_name(role));
	return (0);
}

int
sandbox_apply_landlock(enum sandbox_role role, struct sandbox_layers *sl)
{
	errno = ENOSYS;
	return (-1);
}

#endif
