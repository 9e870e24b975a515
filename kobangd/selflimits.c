/*
 * Self-limits.  Each process lowers its own rlimits (soft and hard, so
 * they stay down) to what its role needs, and the parent watches the
 * children's resident memory: a child whose VmRSS exceeds its cap is
 * killed and comes back through the normal restart path with backoff.
 * The rlimits are the hard backstop (an allocation past RLIMIT_AS
 * fails inside the child); the memory watch is the soft one, which
 * notices a child that grows without bound (a leak, a hostile file)
 * before the machine does.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "kobangd.h"
#include "selflimits.h"
#include "log.h"

/*
 * AddressSanitizer reserves terabytes of address space for its shadow
 * at start: under it RLIMIT_AS is not set (everything else is).
 */
#if defined(__SANITIZE_ADDRESS__)
#define LIMITS_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIMITS_ASAN	1
#endif
#endif

#define MB		(1024ULL * 1024)

/*
 * Measured with the daemon (B=build FLEET=1 sh
 * regress/bench/limits_peaks.sh):
 * VmHWM and VmPeak of every process after a baseline of one file per
 * parser at its size cap (25 MB lockfiles of each kind, a 4.8 MB
 * .claude.json), and of net and dns through t_fleet_enroll,
 * t_fleet_sync, t_fleet_sync_limits and t_fleet_http_huge (enrollment,
 * mTLS, batches, a response over the body cap):
 *
 *		VmHWM		VmPeak
 *	parent	130-259 MB	136-282 MB (the items of the 25 MB files)
 *	scan	121 MB		127 MB	(a 25 MB uv.lock: 875,000 TOML values,
 *					 near TOML_MAX_VALUES; JSON, YAML and
 *					 yarn parsers stay under 33 MB)
 *	net	12.3 MB		15.3 MB
 *	dns	4.9 MB		10.9 MB
 *
 * scan's memory cap (RSS) is about twice its peak, on the largest and
 * densest input its caps let in; net's and dns's follow from their
 * largest inputs (below), well above what was seen.  RLIMIT_AS is at
 * least twice the cap (it also counts the libraries, the stack and
 * malloc's unused arenas), so that the watch, which ends a child
 * cleanly, acts before allocations start to fail.
 */
static const struct limits_role {
	const char	*name;
	int		 child;		/* the parent watches it, -m applies */
	uint64_t	 cap_mb;	/* memory watch default, 0: none */
	uint64_t	 as_mb;		/* RLIMIT_AS at least, 0: left alone */
	uint64_t	 nofile;	/* RLIMIT_NOFILE, 0: left alone */
	int		 nofork;	/* RLIMIT_NPROC 0 */
	int		 nowrite;	/* RLIMIT_FSIZE 0 */
} limits_table[] = {
	/*
	 * The parent walks homes, holds SQLite and the control clients:
	 * its descriptors and memory follow the configuration's budgets,
	 * not a fixed number.  Only core dumps are off: it holds the
	 * device key and tokens.  Children inherit that across exec, and
	 * set it again themselves.
	 */
	{ "parent", 0, 0, 0, 0, 0, 0 },
	/*
	 * net: 12 MB peak; a request body is at most 16 MB
	 * (NET_REQ_BODY_MAX), a response 4 MB (HTTP_MAX_BODY) and its JSON
	 * a few times that: 96 MB.  Descriptors: stdio, the channel,
	 * syslog and one connection (a new one can arrive before the old
	 * one is closed): 32.
	 */
	{ "net", 1, 96, 256, 32, 1, 1 },
	/*
	 * scan: 121 MB peak on a 25 MB uv.lock: 256 MB.  Descriptors: at
	 * most SCAN_MAX_INFLIGHT (16) handed files queue in the channel; a
	 * descriptor over the limit would be dropped by the kernel and
	 * the channel broken: 64.
	 */
	{ "scan", 1, 256, 512, 64, 1, 1 },
	/*
	 * dns: 5 MB (4.9 MB after a query, t_privsep_dns); c-ares reads a
	 * few small files and holds up to three handed sockets: 32 MB,
	 * 32 descriptors.
	 */
	{ "dns", 1, 32, 128, 32, 1, 1 },
};

static uint64_t	cap_mb[nitems(limits_table)];
static int	cap_set[nitems(limits_table)];

static int
limits_index(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(limits_table); i++)
		if (strcmp(limits_table[i].name, name) == 0)
			return ((int)i);
	return (-1);
}

int
limits_cap_parse(const char *arg, int *role, uint64_t *mb, char *err,
    size_t errlen)
{
	char		 name[16];
	const char	*eq, *errstr;
	long long	 v;
	size_t		 len;
	int		 i;

	if ((eq = strchr(arg, '=')) == NULL) {
		snprintf(err, errlen, "%s: not role=MB", arg);
		return (-1);
	}
	len = (size_t)(eq - arg);
	if (len == 0 || len >= sizeof(name)) {
		snprintf(err, errlen, "%s: not role=MB", arg);
		return (-1);
	}
	memcpy(name, arg, len);
	name[len] = '\0';
	if ((i = limits_index(name)) == -1 || !limits_table[i].child) {
		snprintf(err, errlen, "%s: no such child (net, scan, dns)",
		    name);
		return (-1);
	}
	v = strtonum(eq + 1, 0, LIMITS_CAP_MB_MAX, &errstr);
	if (errstr != NULL) {
		snprintf(err, errlen, "%s: megabytes %s (0 to %d)", arg,
		    errstr, LIMITS_CAP_MB_MAX);
		return (-1);
	}
	*role = i;
	*mb = (uint64_t)v;
	return (0);
}

int
limits_cap_set(const char *arg, char *err, size_t errlen)
{
	uint64_t	mb;
	int		i;

	if (limits_cap_parse(arg, &i, &mb, err, errlen) == -1)
		return (-1);
	cap_mb[i] = mb;
	cap_set[i] = 1;
	return (0);
}

static uint64_t
limits_cap_mb(int i)
{
	return (cap_set[i] ? cap_mb[i] : limits_table[i].cap_mb);
}

uint64_t
limits_cap_kb(const char *name)
{
	int	i;

	if ((i = limits_index(name)) == -1 || !limits_table[i].child)
		return (0);
	return (limits_cap_mb(i) * 1024);
}

int
limits_cap_arg(const char *name, char *buf, size_t len)
{
	int	i, n;

	if ((i = limits_index(name)) == -1 || !cap_set[i])
		return (-1);
	n = snprintf(buf, len, "%s=%" PRIu64, name, cap_mb[i]);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

/* Is stderr a regular file (the foreground log of -d redirected)? */
static int
stderr_is_file(void)
{
	struct stat	st;

	return (fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode));
}

int
limits_planned(const char *name, int resource, uint64_t *v)
{
	const struct limits_role	*r;
	int				 i;

	if ((i = limits_index(name)) == -1) {
		errno = EINVAL;
		return (-1);
	}
	r = &limits_table[i];
	*v = 0;
	switch (resource) {
	case RLIMIT_CORE:
		/* Set to 0; reported as "set" through the return. */
		return (1);
	case RLIMIT_AS:
#ifdef LIMITS_ASAN
		return (0);
#else
		if (r->as_mb == 0)
			return (0);
		/* A cap raised with -m raises the backstop with it. */
		*v = r->as_mb;
		if (limits_cap_mb(i) * 2 > *v)
			*v = limits_cap_mb(i) * 2;
		*v *= MB;
		return (1);
#endif
	case RLIMIT_NOFILE:
		*v = r->nofile;
		return (r->nofile != 0);
	case RLIMIT_NPROC:
		/* seccomp kills a fork already; this holds without it. */
		return (r->nofork);
	case RLIMIT_FSIZE:
		/*
		 * A child opens no file, but its stderr is the log file
		 * when kobangd -d runs with its output redirected to one:
		 * then a write limit would kill it with SIGXFSZ.
		 */
		return (r->nowrite && !stderr_is_file());
	default:
		return (0);
	}
}

int
limits_apply(const char *name)
{
	static const int	 res[] = { RLIMIT_CORE, RLIMIT_AS,
				    RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_FSIZE };
	struct rlimit		 rl;
	uint64_t		 v;
	size_t			 i;
	int			 r;

	for (i = 0; i < nitems(res); i++) {
		if ((r = limits_planned(name, res[i], &v)) == -1)
			return (-1);
		if (r == 0)
			continue;
		if (getrlimit(res[i], &rl) == -1)
			return (-1);
		/* Never above what we were given: lowering needs no right. */
		if (rl.rlim_max != RLIM_INFINITY && v > rl.rlim_max)
			v = rl.rlim_max;
		rl.rlim_cur = rl.rlim_max = (rlim_t)v;
		if (setrlimit(res[i], &rl) == -1)
			return (-1);
	}
	return (0);
}

int
limits_status_rss(const char *text, size_t len, uint64_t *kb)
{
	static const char	 key[] = "VmRSS:";
	const char		*p, *end = text + len, *line;
	uint64_t		 v = 0, d;
	int			 digits = 0;

	for (line = text; line < end; line = p + 1) {
		if ((p = memchr(line, '\n', (size_t)(end - line))) == NULL)
			p = end;
		if ((size_t)(p - line) < sizeof(key) - 1 ||
		    memcmp(line, key, sizeof(key) - 1) != 0)
			continue;
		line += sizeof(key) - 1;
		while (line < p && (*line == ' ' || *line == '\t'))
			line++;
		while (line < p && *line >= '0' && *line <= '9') {
			d = (uint64_t)(*line++ - '0');
			/* In kB: the size in bytes must fit as well. */
			if (v > (UINT64_MAX / 1024 - d) / 10) {
				errno = ERANGE;
				return (-1);
			}
			v = v * 10 + d;
			digits++;
		}
		/* The kernel writes " kB"; anything else is not VmRSS. */
		if (digits == 0 || p - line != 3 ||
		    memcmp(line, " kB", 3) != 0) {
			errno = EINVAL;
			return (-1);
		}
		*kb = v;
		return (0);
	}
	errno = ENOENT;
	return (-1);
}

int
limits_file_rss(const char *path, uint64_t *kb)
{
	char	buf[8192];
	size_t	len = 0;
	ssize_t	n;
	int	fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	/* VmRSS is in the first 2 kB; a longer file is read in part. */
	while (len < sizeof(buf) &&
	    (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return (-1);
		}
		len += (size_t)n;
	}
	close(fd);
	return (limits_status_rss(buf, len, kb));
}

int
limits_proc_rss(pid_t pid, uint64_t *kb)
{
	char	path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return (limits_file_rss(path, kb));
}
