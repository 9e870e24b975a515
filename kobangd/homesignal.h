/*
 * The opt-in home signal scan (SURFACES.md 9, CONFIG.md 2.1.1): extra
 * watch paths, never extra reading.  Once each time the engine starts
 * (sensor_init, a configuration reload) and only with
 * watch.homeSignalScan.enabled, the root is searched for files whose
 * names suggest agent configuration or a project; each candidate is
 * mapped to the surfaces it concerns and watched for them, so a change
 * to it rescans those surfaces -- which still read only their configured
 * paths.  Discovery issues (missing root, unreadable directory, a budget
 * exhausted) mark every enabled surface's watch health degraded until
 * the next start of the scan.
 *
 * Differences from the reference, on purpose:
 *  - root: kobangd monitors several users, so "~" and "~/..." are
 *    expanded against each monitored user's home and walked with that
 *    user's rights (disc_become): the scan never lists what the user
 *    could not.  The reference uses the root literally (SURFACES.md 13.1:
 *    the default "~" is a relative directory that does not exist, so
 *    enabling the scan with defaults finds nothing).  An absolute root is
 *    walked once, with the rights of the user whose home holds it, else
 *    of the first monitored user; a relative root is an issue.
 *  - budgets (depth, directories, files, wall clock) count per root walk,
 *    i.e. per monitored user.
 *  - a package/bundle (not descended) is, without LaunchServices, a
 *    directory whose extension is one of macOS's bundle and document
 *    package extensions (hs_is_package).
 *  - eventPathFiltering false: the whole root is watched for every
 *    enabled surface.  inotify is not recursive, so that means a watch
 *    on every directory beneath the root (symbolic links not followed;
 *    no prune list, no depth limit but 64), created ones included, at
 *    most initialScanBudget.maxDirectoriesVisited directories found
 *    within maxWallClockSeconds; past that, an issue.
 *  - the walk runs in slices of HS_SLICE entries between turns of the
 *    parent's event loop, so a large home does not stall the daemon.
 */
#ifndef KOBANGD_HOMESIGNAL_H
#define KOBANGD_HOMESIGNAL_H

#include <stddef.h>

struct config;
struct config_home_signal_scan;
struct disc_issue;
struct disc_user;

#define HS_MAX_DEPTH	64	/* config's range; the tree mode's cap */
#define HS_SLICE	4096	/* entries per event loop turn */

struct hs_result {
	char			**files;	/* candidates (tree mode: the
						   directories), sorted bytewise */
	size_t			  nfiles, capfiles;
	struct disc_issue	 *issues;
	size_t			  nissues, capissues;
	size_t			  dirs_visited;
	size_t			  files_visited;
	int			  exhausted;
	int			  enomem;	/* result incomplete */
};

/* Monotonic milliseconds; tests pass their own. */
typedef unsigned long long	(*hs_clock_fn)(void *);

struct hs_walk;

/*
 * A bounded walk of root (absolute) with user's rights (NULL: root's),
 * into res (zeroed by the caller).  tree: collect every directory for
 * the whole-root watch instead of candidate files.  The settings must
 * outlive the walk.  NULL when out of memory.
 */
struct hs_walk	*hs_walk_new(const struct config_home_signal_scan *,
		    const char *, const struct disc_user *, int, hs_clock_fn,
		    void *, struct hs_result *);
/* At most n entries more: 1 when there is more to do, 0 done. */
int		 hs_walk_step(struct hs_walk *, size_t);
void		 hs_walk_free(struct hs_walk *);

/* The whole walk at once (hs_walk_new, steps, free).  0 or -1 (ENOMEM). */
int		 homesignal_discover(const struct config_home_signal_scan *,
		    const char *, const struct disc_user *, int, hs_clock_fn,
		    void *, struct hs_result *);
void		 hs_result_free(struct hs_result *);

/* The surfaces a candidate path concerns: bit (1 << surface) each. */
unsigned int	 homesignal_surfaces(const char *);
/* Whether a directory name is a package/bundle that is not descended. */
int		 hs_is_package(const char *);

/*
 * Start the scan for the configuration (or stop it: disabled): the
 * previous home signal watches are dropped at once, the new ones are set
 * when the walk is done.  surfaces: bit per surface whose collector is
 * enabled.  Call after watch_init().
 */
void		 homesignal_apply(const struct config *, unsigned int);
/* Stop a walk in progress and forget everything. */
void		 homesignal_shutdown(void);
/* Whether a walk is under way (for tests and show status). */
int		 homesignal_busy(void);

#endif
