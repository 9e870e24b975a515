/*
 * Self-limits (kobangd/selflimits.c): the -m option, the VmRSS reader
 * on /proc text, files and live processes, and the rlimits a process
 * sets on itself, read back in a child.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "selflimits.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN	1
#endif
#endif

static void
cap_ok(const char *arg, int want_role, uint64_t want_mb)
{
	char		err[256];
	uint64_t	mb = 12345;
	int		role = -1;

	err[0] = '\0';
	cr_assert_eq(limits_cap_parse(arg, &role, &mb, err, sizeof(err)), 0,
	    "%s: %s", arg, err);
	cr_assert_eq(role, want_role, "%s: role %d", arg, role);
	cr_assert_eq(mb, want_mb, "%s: %llu MB", arg, (unsigned long long)mb);
}

static void
cap_bad(const char *arg, const char *want)
{
	char		err[256];
	uint64_t	mb = 7;
	int		role = 7;

	err[0] = '\0';
	cr_assert_eq(limits_cap_parse(arg, &role, &mb, err, sizeof(err)), -1,
	    "%s accepted", arg);
	cr_assert_not_null(strstr(err, want), "%s: \"%s\" lacks \"%s\"", arg,
	    err, want);
	cr_assert(role == 7 && mb == 7, "%s: outputs touched", arg);
}

Test(limits, cap_parse)
{
	/* The table's order: parent, net, scan, dns. */
	cap_ok("net=96", 1, 96);
	cap_ok("scan=1", 2, 1);
	cap_ok("dns=0", 3, 0);
	cap_ok("scan=65536", 2, 65536);

	cap_bad("scan", "not role=MB");
	cap_bad("=5", "not role=MB");
	cap_bad("averyveryverylongname=5", "not role=MB");
	cap_bad("parent=100", "no such child");
	cap_bad("Scan=1", "no such child");
	cap_bad("sca=1", "no such child");
	cap_bad("scan=", "invalid");
	cap_bad("scan=-1", "too small");
	cap_bad("scan=65537", "too large");
	cap_bad("scan=1M", "invalid");
	cap_bad("scan=1 ", "invalid");
	cap_bad("scan=99999999999999999999", "too large");
}

Test(limits, cap_set)
{
	char	err[256], arg[32];

	/* Defaults: every child watched, the parent never. */
	cr_assert_eq(limits_cap_kb("net"), 96 * 1024);
	cr_assert_eq(limits_cap_kb("scan"), 256 * 1024);
	cr_assert_eq(limits_cap_kb("dns"), 32 * 1024);
	cr_assert_eq(limits_cap_kb("parent"), 0);
	cr_assert_eq(limits_cap_kb("nosuch"), 0);
	/* Nothing set: nothing to hand a child. */
	cr_assert_eq(limits_cap_arg("scan", arg, sizeof(arg)), -1);

	cr_assert_eq(limits_cap_set("scan=3", err, sizeof(err)), 0, "%s",
	    err);
	cr_assert_eq(limits_cap_kb("scan"), 3 * 1024);
	cr_assert_eq(limits_cap_set("scan=5", err, sizeof(err)), 0);
	cr_assert_eq(limits_cap_kb("scan"), 5 * 1024, "the last -m wins");
	cr_assert_eq(limits_cap_arg("scan", arg, sizeof(arg)), 0);
	cr_assert_str_eq(arg, "scan=5");
	/* Round trip: what the child is handed parses to the same cap. */
	cr_assert_eq(limits_cap_set(arg, err, sizeof(err)), 0);
	cr_assert_eq(limits_cap_kb("scan"), 5 * 1024);
	cr_assert_eq(limits_cap_arg("scan", arg, 6), -1, "truncation");

	cr_assert_eq(limits_cap_set("dns=0", err, sizeof(err)), 0);
	cr_assert_eq(limits_cap_kb("dns"), 0, "0 turns the watch off");
	cr_assert_eq(limits_cap_arg("dns", arg, sizeof(arg)), 0);
	cr_assert_str_eq(arg, "dns=0");

	/* A refused value changes nothing. */
	cr_assert_eq(limits_cap_set("net=70000", err, sizeof(err)), -1);
	cr_assert_eq(limits_cap_kb("net"), 96 * 1024);
	cr_assert_eq(limits_cap_arg("net", arg, sizeof(arg)), -1);
}

static const char status_text[] =
    "Name:\tkobangd\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "VmPeak:\t  126728 kB\n"
    "VmSize:\t   21500 kB\n"
    "VmHWM:\t  121360 kB\n"
    "VmRSS:\t    7192 kB\n"
    "RssAnon:\t    2048 kB\n"
    "Threads:\t1\n";

static int
rss_of(const char *text, uint64_t *kb)
{
	return (limits_status_rss(text, strlen(text), kb));
}

Test(limits, status_rss)
{
	uint64_t	kb = 0;

	cr_assert_eq(rss_of(status_text, &kb), 0);
	cr_assert_eq(kb, 7192, "VmRSS, not VmHWM or RssAnon: %llu",
	    (unsigned long long)kb);
	/* The last line without its newline. */
	cr_assert_eq(rss_of("Name:\tx\nVmRSS:\t5 kB", &kb), 0);
	cr_assert_eq(kb, 5);
	cr_assert_eq(rss_of("VmRSS: 0 kB\n", &kb), 0);
	cr_assert_eq(kb, 0);

	/* A zombie has no VmRSS line. */
	errno = 0;
	cr_assert_eq(rss_of("Name:\tx\nState:\tZ (zombie)\n", &kb), -1);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(rss_of("", &kb), -1);
	/* Not a line start, a prefix of the key, a cut line. */
	cr_assert_eq(rss_of("XVmRSS:\t5 kB\n", &kb), -1);
	cr_assert_eq(rss_of("VmRS", &kb), -1);
	cr_assert_eq(rss_of("VmRSS:", &kb), -1);
	/* Malformed values are errors, never a guess. */
	errno = 0;
	cr_assert_eq(rss_of("VmRSS:\t kB\n", &kb), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(rss_of("VmRSS:\t12 MB\n", &kb), -1);
	cr_assert_eq(rss_of("VmRSS:\t12\n", &kb), -1);
	cr_assert_eq(rss_of("VmRSS:\t12 kB extra\n", &kb), -1);
	cr_assert_eq(rss_of("VmRSS:\t-12 kB\n", &kb), -1);
	cr_assert_eq(rss_of("VmRSS:\t1x2 kB\n", &kb), -1);
	/* Larger than any byte count can be. */
	errno = 0;
	cr_assert_eq(rss_of("VmRSS:\t99999999999999999999 kB\n", &kb), -1);
	cr_assert_eq(errno, ERANGE);
	/* The largest that fits in bytes is fine. */
	cr_assert_eq(rss_of("VmRSS:\t18014398509481983 kB\n", &kb), 0);
	cr_assert_eq(kb, 18014398509481983ULL);
	/* The length is honoured: no read past it. */
	cr_assert_eq(limits_status_rss("VmRSS:\t77 kB\n", 9, &kb), -1);
}

Test(limits, file_rss)
{
	char		path[] = "/tmp/test_limits.XXXXXX";
	uint64_t	kb = 0;
	FILE		*f;
	int		fd, i;

	cr_assert_neq(fd = mkstemp(path), -1);
	cr_assert_not_null(f = fdopen(fd, "w"));
	/* Long lines before it: the reader reads in part, VmRSS comes early. */
	fputs(status_text, f);
	for (i = 0; i < 2000; i++)
		fprintf(f, "Filler%d:\t%d\n", i, i);
	fclose(f);
	cr_assert_eq(limits_file_rss(path, &kb), 0);
	cr_assert_eq(kb, 7192);
	unlink(path);
	errno = 0;
	cr_assert_eq(limits_file_rss(path, &kb), -1);
	cr_assert_eq(errno, ENOENT);
}

Test(limits, proc_rss)
{
	uint64_t	 before, after;
	size_t		 len = 64 * 1024 * 1024, i;
	char		*p;
	pid_t		 pid;
	int		 status;

	cr_assert_eq(limits_proc_rss(getpid(), &before), 0);
	cr_assert_gt(before, 0);
	/*
	 * Touched memory shows: 64 MB more.  Written through a volatile
	 * pointer, so that the compiler cannot drop the unread buffer.
	 */
	cr_assert_not_null(p = malloc(len));
	for (i = 0; i < len; i += 4096)
		((volatile char *)p)[i] = 1;
	cr_assert_eq(limits_proc_rss(getpid(), &after), 0);
	cr_assert_geq(after, before + 60 * 1024, "%llu -> %llu kB",
	    (unsigned long long)before, (unsigned long long)after);
	free(p);

	/* A zombie: no resident size, an error rather than 0. */
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0)
		_exit(0);
	usleep(100000);
	cr_assert_eq(limits_proc_rss(pid, &after), -1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	/* Reaped: no such process. */
	cr_assert_eq(limits_proc_rss(pid, &after), -1);
}

/* In a child: apply a role's limits and compare what the kernel says. */
static int
check_role(const char *name)
{
	static const int	 res[] = { RLIMIT_CORE, RLIMIT_AS,
				    RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_FSIZE };
	struct rlimit		 before[5], rl;
	uint64_t		 v;
	size_t			 i;
	int			 r;

	for (i = 0; i < 5; i++)
		if (getrlimit(res[i], &before[i]) == -1)
			return (10);
	if (limits_apply(name) == -1)
		return (11);
	for (i = 0; i < 5; i++) {
		if ((r = limits_planned(name, res[i], &v)) == -1 ||
		    getrlimit(res[i], &rl) == -1)
			return (12);
		if (r == 0) {
			/* Left alone. */
			if (rl.rlim_cur != before[i].rlim_cur ||
			    rl.rlim_max != before[i].rlim_max)
				return (20 + (int)i);
			continue;
		}
		if (before[i].rlim_max != RLIM_INFINITY &&
		    v > before[i].rlim_max)
			v = before[i].rlim_max;
		/* Soft and hard alike: no way back up. */
		if (rl.rlim_cur != (rlim_t)v || rl.rlim_max != (rlim_t)v)
			return (30 + (int)i);
	}
	rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	if (getuid() != 0 && setrlimit(RLIMIT_CORE, &rl) != -1)
		return (40);
	return (0);
}

static void
role_in_child(const char *name)
{
	pid_t	pid;
	int	status;

	cr_assert_neq(pid = fork(), -1);
	if (pid == 0)
		_exit(check_role(name));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: status %d", name, WEXITSTATUS(status));
}

Test(limits, apply)
{
	role_in_child("parent");
	role_in_child("net");
	role_in_child("scan");
	role_in_child("dns");
	cr_assert_eq(limits_apply("nosuch"), -1);
}

Test(limits, planned)
{
	char		err[256];
	uint64_t	v;

	/* Every process: no core files. */
	cr_assert_eq(limits_planned("parent", RLIMIT_CORE, &v), 1);
	cr_assert_eq(v, 0);
	cr_assert_eq(limits_planned("scan", RLIMIT_CORE, &v), 1);
	cr_assert_eq(v, 0);
	/* The parent keeps its descriptors, its memory and fork. */
	cr_assert_eq(limits_planned("parent", RLIMIT_NOFILE, &v), 0);
	cr_assert_eq(limits_planned("parent", RLIMIT_AS, &v), 0);
	cr_assert_eq(limits_planned("parent", RLIMIT_NPROC, &v), 0);
	cr_assert_eq(limits_planned("parent", RLIMIT_FSIZE, &v), 0);
	/* Children: no fork; scan's descriptors above SCAN_MAX_INFLIGHT. */
	cr_assert_eq(limits_planned("net", RLIMIT_NPROC, &v), 1);
	cr_assert_eq(v, 0);
	cr_assert_eq(limits_planned("scan", RLIMIT_NOFILE, &v), 1);
	cr_assert_eq(v, 64);
	cr_assert_eq(limits_planned("nosuch", RLIMIT_CORE, &v), -1);

#ifndef TEST_ASAN
	/* The address space follows a raised cap, never below the table. */
	cr_assert_eq(limits_planned("net", RLIMIT_AS, &v), 1);
	cr_assert_eq(v, 256ULL << 20);
	cr_assert_eq(limits_cap_set("net=1024", err, sizeof(err)), 0);
	cr_assert_eq(limits_planned("net", RLIMIT_AS, &v), 1);
	cr_assert_eq(v, 2048ULL << 20);
	cr_assert_eq(limits_cap_set("net=1", err, sizeof(err)), 0);
	cr_assert_eq(limits_planned("net", RLIMIT_AS, &v), 1);
	cr_assert_eq(v, 256ULL << 20);
#else
	/* ASan's shadow needs terabytes of address space: not limited. */
	cr_assert_eq(limits_planned("net", RLIMIT_AS, &v), 0);
	(void)err;
#endif
}
