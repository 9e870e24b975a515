/*
 * Self-limits: the resource limits every kobangd process sets on
 * itself (the table in selflimits.c says why each number), and the parent's
 * watch over its children's resident memory: a child over its cap is
 * killed and restarted like one that crashed.
 */
#ifndef KOBANGD_SELFLIMITS_H
#define KOBANGD_SELFLIMITS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define LIMITS_WATCH_MSEC	2000	/* how often the parent looks */
#define LIMITS_CAP_MB_MAX	65536	/* -m role=MB: 0 (off) .. this */

/*
 * -m role=MB: the memory cap of child role (net, scan or dns) in MB, 0
 * for no watch.  Parse only: 0 and the role's index in *role and the
 * megabytes in *mb, or -1 with a reason in err.
 */
int		 limits_cap_parse(const char *, int *, uint64_t *, char *,
		    size_t);
/* Parse and put in force for this process; 0 or -1 with a reason. */
int		 limits_cap_set(const char *, char *, size_t);
/* The cap of a process in kB (0: not watched; the parent never is). */
uint64_t	 limits_cap_kb(const char *);
/* The "role=MB" of a cap set with -m, for a child's command line. */
int		 limits_cap_arg(const char *, char *, size_t);

/*
 * Set the rlimits of the named process ("parent", "net", "scan",
 * "dns"), soft and hard alike so that they cannot be raised again.  A
 * child calls it after its privilege drop and before its sandbox (whose
 * seccomp filter does not allow setrlimit).  0 or -1 (errno).
 */
int		 limits_apply(const char *);

/* The limit of one resource that limits_apply() sets; 0: left alone. */
int		 limits_planned(const char *, int, uint64_t *);

/*
 * VmRSS in kB from the text of /proc/PID/status (limits_status_rss), a
 * file of that format, or a process; 0 or -1 (a zombie has no VmRSS).
 */
int		 limits_status_rss(const char *, size_t, uint64_t *);
int		 limits_file_rss(const char *, uint64_t *);
int		 limits_proc_rss(pid_t, uint64_t *);

struct kobangd;

/* The parent's memory watch over its children; from parent_main(). */
void		 limits_watch_init(struct kobangd *);

#endif
