/*
 * The home signal scan (SURFACES.md 9): a bounded walk of a root for
 * signal files, their surface mapping, and the watches that follow from
 * them.  See homesignal.h.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "discover.h"
#include "event.h"
#include "homesignal.h"
#include "log.h"
#include "scan_format.h"
#include "vocab.h"
#include "watch.h"

#define HS_LOG_ISSUES	10	/* issues logged one by one */

struct hs_frame {
	DIR	*dp;
	char	*path;
	int	 depth;
};

struct hs_walk {
	const struct config_home_signal_scan *hs;
	const struct disc_user	*user;
	struct hs_result	*res;
	hs_clock_fn		 clock;
	void			*clock_arg;
	unsigned long long	 start;
	int			 tree;
	int			 started;
	int			 maxdepth;
	char			*root;
	struct hs_frame		 stack[HS_MAX_DEPTH + 2];
	size_t			 nstack;
};

static unsigned long long
hs_monotonic(void *arg)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((unsigned long long)ts.tv_sec * 1000 +
	    (unsigned long long)ts.tv_nsec / 1000000);
}

static int
hs_issue(struct hs_result *res, const char *path, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static int
hs_issue(struct hs_result *res, const char *path, const char *fmt, ...)
{
	struct disc_issue	*is;
	va_list			 ap;
	int			 r;

	if (res->nissues == res->capissues) {
		size_t	nc = res->capissues ? res->capissues * 2 : 8;

		if ((is = recallocarray(res->issues, res->capissues, nc,
		    sizeof(*is))) == NULL)
			goto nomem;
		res->issues = is;
		res->capissues = nc;
	}
	is = &res->issues[res->nissues];
	if ((is->path = strdup(path)) == NULL)
		goto nomem;
	va_start(ap, fmt);
	r = vasprintf(&is->reason, fmt, ap);
	va_end(ap);
	if (r == -1) {
		free(is->path);
		goto nomem;
	}
	res->nissues++;
	return (0);
 nomem:
	res->enomem = 1;
	return (-1);
}

static int
hs_add_file(struct hs_result *res, const char *path)
{
	char	**v;

	if (res->nfiles == res->capfiles) {
		size_t	nc = res->capfiles ? res->capfiles * 2 : 16;

		if ((v = recallocarray(res->files, res->capfiles, nc,
		    sizeof(*v))) == NULL) {
			res->enomem = 1;
			return (-1);
		}
		res->files = v;
		res->capfiles = nc;
	}
	if ((res->files[res->nfiles] = strdup(path)) == NULL) {
		res->enomem = 1;
		return (-1);
	}
	res->nfiles++;
	return (0);
}

void
hs_result_free(struct hs_result *res)
{
	size_t	i;

	for (i = 0; i < res->nfiles; i++)
		free(res->files[i]);
	free(res->files);
	for (i = 0; i < res->nissues; i++) {
		free(res->issues[i].path);
		free(res->issues[i].reason);
	}
	free(res->issues);
	memset(res, 0, sizeof(*res));
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t	l = strlen(s), sl = strlen(suffix);

	return (l >= sl && strcmp(s + l - sl, suffix) == 0);
}

/*
 * Foundation's isPackage asks LaunchServices; here it is the directory's
 * extension (after the last dot, not a leading one), compared without
 * case as UTIs are: application and plug-in bundles and the common
 * document packages of macOS.
 */
int
hs_is_package(const char *name)
{
	static const char *const ext[] = {
		"app", "appex", "bundle", "component", "framework", "kext",
		"mdimporter", "plugin", "prefPane", "qlgenerator", "saver",
		"xpc", "pkg", "mpkg", "xcodeproj", "xcworkspace",
		"playground", "xcarchive", "dSYM", "rtfd", "pages", "numbers",
		"key", "photoslibrary", "sparsebundle", "band", "logicx",
		"imovielibrary", "fcpbundle", "scptd", "wdgt", "docarchive",
	};
	const char	*dot = strrchr(name, '.');
	size_t		 i;

	if (dot == NULL || dot == name || dot[1] == '\0')
		return (0);
	for (i = 0; i < nitems(ext); i++)
		if (strcasecmp(dot + 1, ext[i]) == 0)
			return (1);
	return (0);
}

static int
hs_over_time(struct hs_walk *w)
{
	unsigned long long	now = w->clock(w->clock_arg);
	long long		max = w->hs->initial_scan_budget.
				    max_wall_clock_seconds;

	if (max < 0)
		max = 0;
	return (now > w->start &&
	    now - w->start > (unsigned long long)max * 1000);
}

static void
hs_time_issue(struct hs_walk *w, const char *path)
{
	w->res->exhausted = 1;
	hs_issue(w->res, path, "directory enumeration time limit reached "
	    "(%lld s)", w->hs->initial_scan_budget.max_wall_clock_seconds);
}

static void
hs_limit_issue(struct hs_walk *w, const char *path)
{
	w->res->exhausted = 1;
	hs_issue(w->res, path, "directory enumeration limit reached "
	    "(%lld directories, %lld files)",
	    w->hs->initial_scan_budget.max_directories_visited,
	    w->hs->initial_scan_budget.max_files_visited);
}

/*
 * visit(dir, depth) of SURFACES.md 9 up to the enumeration: the checks,
 * then the directory opened (relative to its parent's descriptor) and
 * pushed.  pfd -1: the root, whose links are followed (configured).
 */
static void
hs_enter(struct hs_walk *w, int pfd, const char *name, const char *path,
    int depth, int follow)
{
	struct hs_frame	*f;
	int		 fd, flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			    O_NONBLOCK;

	if (w->res->exhausted || depth > w->maxdepth)
		return;
	if (hs_over_time(w)) {
		hs_time_issue(w, path);
		return;
	}
	w->res->dirs_visited++;
	if ((long long)w->res->dirs_visited >
	    w->hs->initial_scan_budget.max_directories_visited) {
		hs_limit_issue(w, path);
		return;
	}
	if (pfd == -1)
		fd = open(path, flags);
	else
		fd = openat(pfd, name, flags | (follow ? 0 : O_NOFOLLOW));
	if (fd == -1) {
		hs_issue(w->res, path, "directory enumeration unavailable: %s",
		    strerror(errno));
		return;
	}
	f = &w->stack[w->nstack];
	if ((f->path = strdup(path)) == NULL ||
	    (f->dp = fdopendir(fd)) == NULL) {
		free(f->path);
		close(fd);
		w->res->enomem = 1;
		w->res->exhausted = 1;
		return;
	}
	f->depth = depth;
	w->nstack++;
	if (w->tree)
		(void)hs_add_file(w->res, path);
}

static void
hs_pop(struct hs_walk *w)
{
	struct hs_frame	*f = &w->stack[--w->nstack];

	closedir(f->dp);
	free(f->path);
	f->dp = NULL;
	f->path = NULL;
}

static int
hs_match(const struct config_home_signal_scan *hs, const char *name)
{
	size_t	i;

	if (strlist_has(&hs->signal_file_names, name))
		return (1);
	for (i = 0; i < hs->signal_file_globs.n; i++)
		if (disc_glob_match(hs->signal_file_globs.v[i], name))
			return (1);
	return (0);
}

/* One entry of the top frame's directory. */
static void
hs_entry(struct hs_walk *w, struct hs_frame *f, const struct dirent *de)
{
	const struct config_home_signal_scan *hs = w->hs;
	struct hs_result	*res = w->res;
	struct stat		 sb;
	char			 path[PATH_MAX];
	int			 isdir, islink = 0, l;

	l = snprintf(path, sizeof(path), "%s/%s",
	    strcmp(f->path, "/") == 0 ? "" : f->path, de->d_name);
	if (l < 0 || (size_t)l >= sizeof(path)) {
		hs_issue(res, f->path, "path too long below here");
		return;
	}
	if (hs_over_time(w)) {
		hs_time_issue(w, path);
		return;
	}
	switch (de->d_type) {
	case DT_DIR:
		isdir = 1;
		break;
	case DT_LNK:
		/* A link to a directory is a directory; a broken one not. */
		islink = 1;
		isdir = fstatat(dirfd(f->dp), de->d_name, &sb, 0) == 0 &&
		    S_ISDIR(sb.st_mode);
		break;
	case DT_UNKNOWN:
		if (fstatat(dirfd(f->dp), de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			hs_issue(res, path, "directory enumeration "
			    "unavailable: %s", strerror(errno));
			return;
		}
		islink = S_ISLNK(sb.st_mode);
		isdir = S_ISDIR(sb.st_mode) || (islink &&
		    fstatat(dirfd(f->dp), de->d_name, &sb, 0) == 0 &&
		    S_ISDIR(sb.st_mode));
		break;
	default:
		isdir = 0;
		break;
	}
	if (w->tree) {
		/* The whole root: every real directory, nothing else. */
		if (isdir && !islink && f->depth < HS_MAX_DEPTH)
			hs_enter(w, dirfd(f->dp), de->d_name, path,
			    f->depth + 1, 0);
		return;
	}
	if (isdir && !strlist_has(&hs->prune_directory_names, de->d_name) &&
	    (hs->follow_symlinks || !islink) && !hs_is_package(de->d_name)) {
		hs_enter(w, dirfd(f->dp), de->d_name, path, f->depth + 1,
		    islink);
		return;
	}
	if (isdir)
		return;
	res->files_visited++;
	if ((long long)res->files_visited >
	    hs->initial_scan_budget.max_files_visited) {
		hs_limit_issue(w, path);
		return;
	}
	if (hs_match(hs, de->d_name))
		(void)hs_add_file(res, path);
}

struct hs_walk *
hs_walk_new(const struct config_home_signal_scan *hs, const char *root,
    const struct disc_user *user, int tree, hs_clock_fn clock,
    void *clock_arg, struct hs_result *res)
{
	struct hs_walk	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (NULL);
	if ((w->root = strdup(root)) == NULL) {
		free(w);
		return (NULL);
	}
	w->hs = hs;
	w->user = user;
	w->res = res;
	w->tree = tree;
	w->clock = clock != NULL ? clock : hs_monotonic;
	w->clock_arg = clock_arg;
	w->maxdepth = tree ? HS_MAX_DEPTH : hs->max_depth < 0 ? -1 :
	    hs->max_depth > HS_MAX_DEPTH ? HS_MAX_DEPTH : (int)hs->max_depth;
	return (w);
}

static int
cmp_path(const void *a, const void *b)
{
	return (strcmp(*(char * const *)a, *(char * const *)b));
}

int
hs_walk_step(struct hs_walk *w, size_t n)
{
	struct hs_frame	*f;
	struct dirent	*de;
	size_t		 done = 0;

	if (disc_become(w->user) == -1) {
		hs_issue(w->res, w->root, "cannot take on the rights of user "
		    "%s: %s", w->user->name, strerror(errno));
		w->res->exhausted = 1;
		while (w->nstack > 0)
			hs_pop(w);
		goto done;
	}
	if (!w->started) {
		w->started = 1;
		w->start = w->clock(w->clock_arg);
		hs_enter(w, -1, NULL, w->root, 0, 1);
	}
	while (w->nstack > 0 && done < n) {
		if (w->res->exhausted) {
			while (w->nstack > 0)
				hs_pop(w);
			break;
		}
		f = &w->stack[w->nstack - 1];
		errno = 0;
		if ((de = readdir(f->dp)) == NULL) {
			if (errno != 0)
				hs_issue(w->res, f->path, "directory "
				    "enumeration unavailable: %s",
				    strerror(errno));
			hs_pop(w);
			continue;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		done++;
		hs_entry(w, f, de);
	}
	disc_restore();
 done:
	if (w->nstack > 0)
		return (1);
	if (w->res->nfiles > 1)
		qsort(w->res->files, w->res->nfiles, sizeof(*w->res->files),
		    cmp_path);
	return (0);
}

void
hs_walk_free(struct hs_walk *w)
{
	if (w == NULL)
		return;
	while (w->nstack > 0)
		hs_pop(w);
	free(w->root);
	free(w);
}

int
homesignal_discover(const struct config_home_signal_scan *hs,
    const char *root, const struct disc_user *user, int tree,
    hs_clock_fn clock, void *clock_arg, struct hs_result *res)
{
	struct hs_walk	*w;

	if ((w = hs_walk_new(hs, root, user, tree, clock, clock_arg,
	    res)) == NULL) {
		res->enomem = 1;
		return (-1);
	}
	while (hs_walk_step(w, HS_SLICE) == 1)
		;
	hs_walk_free(w);
	return (res->enomem ? -1 : 0);
}

/* The SURFACES.md 9 mapping table, row by row. */
unsigned int
homesignal_surfaces(const char *path)
{
	const char	*name, *p, *slash;
	unsigned int	 comps = 0, m = 0;
	size_t		 l;
	enum {
		C_CLAUDE = 0x01, C_CODEX = 0x02, C_AGENTS = 0x04,
		C_CURSOR = 0x08, C_DOTOPENCODE = 0x10, C_OPENCODE = 0x20,
		C_PI = 0x40
	};

	/* Every component, the file name included (Set(pathComponents)). */
	for (p = path; *p != '\0'; p = *slash ? slash + 1 : slash) {
		if ((slash = strchr(p, '/')) == NULL)
			slash = p + strlen(p);
		l = (size_t)(slash - p);
#define COMP(s)	(l == sizeof(s) - 1 && memcmp(p, s, l) == 0)
		if (COMP(".claude"))
			comps |= C_CLAUDE;
		else if (COMP(".codex"))
			comps |= C_CODEX;
		else if (COMP(".agents"))
			comps |= C_AGENTS;
		else if (COMP(".cursor"))
			comps |= C_CURSOR;
		else if (COMP(".opencode"))
			comps |= C_DOTOPENCODE;
		else if (COMP("opencode"))
			comps |= C_OPENCODE;
		else if (COMP(".pi"))
			comps |= C_PI;
#undef COMP
	}
	if ((name = strrchr(path, '/')) != NULL)
		name++;
	else
		name = path;

	if ((comps & C_CLAUDE) || strcmp(name, ".claude.json") == 0 ||
	    strcmp(name, "CLAUDE.md") == 0 ||
	    strcmp(name, "CLAUDE.local.md") == 0)
		m |= 1U << SURFACE_CLAUDE;
	if ((comps & (C_CODEX | C_AGENTS)) || has_suffix(name, ".rules"))
		m |= 1U << SURFACE_CODEX;
	if ((comps & C_CURSOR) || strcmp(name, ".cursorrules") == 0 ||
	    has_suffix(name, ".mdc") || strcmp(name, "AGENTS.md") == 0)
		m |= 1U << SURFACE_CURSOR;
	if ((comps & (C_DOTOPENCODE | C_OPENCODE)) ||
	    strcmp(name, "opencode.json") == 0 ||
	    strcmp(name, "opencode.jsonc") == 0 ||
	    strcmp(name, "AGENTS.md") == 0 || strcmp(name, "Agents.md") == 0)
		m |= 1U << SURFACE_OPENCODE;
	if (comps & C_PI)
		m |= 1U << SURFACE_PI;
	/* The package formats' file names: their rows (scan_format.c). */
	if (scan_format_by_file(SURFACE_JAVASCRIPT, name) != NULL)
		m |= 1U << SURFACE_JAVASCRIPT;
	if (scan_format_by_file(SURFACE_PYTHON, name) != NULL ||
	    disc_glob_match("requirements*.txt", name) ||
	    disc_glob_match("constraints*.txt", name))
		m |= 1U << SURFACE_PYTHON;
	return (m);
}

/* ---- the daemon: one scan per engine start ---- */

struct hs_job {
	char			*root;
	const struct disc_user	*user;
	struct hs_result	 res;
};

static struct {
	int			 active;
	struct config_home_signal_scan hs;	/* a copy: reloads free */
	unsigned int		 surfaces;
	struct disc_users	 users;		/* the watches point here */
	struct hs_job		*jobs;
	size_t			 njobs, cur;
	struct hs_walk		*walk;
	struct ev_timer		 timer;
	int			 timer_init;
	unsigned long long	 start_ms;
	size_t			 nproblems;
	char			 first[96];	/* the first problem's reason */
	char			 why[160];	/* the watch health message */
} hsd;

static void
hs_settings_free(struct config_home_signal_scan *hs)
{
	free(hs->root);
	strlist_free(&hs->signal_file_names);
	strlist_free(&hs->signal_file_globs);
	strlist_free(&hs->prune_directory_names);
	memset(hs, 0, sizeof(*hs));
}

static int
hs_settings_dup(struct config_home_signal_scan *dst,
    const struct config_home_signal_scan *src)
{
	*dst = *src;
	dst->root = NULL;
	memset(&dst->signal_file_names, 0, sizeof(dst->signal_file_names));
	memset(&dst->signal_file_globs, 0, sizeof(dst->signal_file_globs));
	memset(&dst->prune_directory_names, 0,
	    sizeof(dst->prune_directory_names));
	if ((src->root != NULL && (dst->root = strdup(src->root)) == NULL) ||
	    strlist_copy(&dst->signal_file_names,
	    &src->signal_file_names) == -1 ||
	    strlist_copy(&dst->signal_file_globs,
	    &src->signal_file_globs) == -1 ||
	    strlist_copy(&dst->prune_directory_names,
	    &src->prune_directory_names) == -1) {
		hs_settings_free(dst);
		return (-1);
	}
	return (0);
}

static void
hs_reset(void)
{
	size_t	i;

	if (hsd.timer_init)
		ev_timer_del(&hsd.timer);
	hs_walk_free(hsd.walk);
	hsd.walk = NULL;
	for (i = 0; i < hsd.njobs; i++) {
		free(hsd.jobs[i].root);
		hs_result_free(&hsd.jobs[i].res);
	}
	free(hsd.jobs);
	hsd.jobs = NULL;
	hsd.njobs = hsd.cur = 0;
	hsd.active = 0;
	hsd.nproblems = 0;
	hsd.first[0] = hsd.why[0] = '\0';
}

/*
 * The watch health message names no path: kobanctl shows it to control
 * group members, who see only their own home.  The paths are logged.
 */
static void
hs_problem(const char *path, const char *reason)
{
	if (hsd.nproblems++ == 0)
		strlcpy(hsd.first, reason, sizeof(hsd.first));
}

/* Each monitored user's root (CONFIG.md 2.1.1; homesignal.h). */
static int
hs_plan_jobs(void)
{
	const struct disc_user	*u, *owner;
	struct hs_job		*j;
	char			 root[PATH_MAX];
	size_t			 i, k, l;
	const char		*r = hsd.hs.root != NULL ? hsd.hs.root : "~";

	if ((hsd.jobs = calloc(hsd.users.n ? hsd.users.n : 1,
	    sizeof(*hsd.jobs))) == NULL)
		return (-1);
	for (i = 0; i < hsd.users.n; i++) {
		u = &hsd.users.v[i];
		if (config_expand_home(r, u->home, root, sizeof(root)) == -1) {
			log_warnx("home signal scan: %s: path too long for "
			    "user %s", r, u->name);
			hs_problem(r, "root path too long");
			continue;
		}
		if (root[0] != '/') {
			log_warnx("home signal scan: %s: not an absolute path",
			    root);
			hs_problem(root, "root not an absolute path");
			continue;
		}
		l = strlen(root);
		while (l > 1 && root[l - 1] == '/')
			root[--l] = '\0';
		for (k = 0; k < hsd.njobs; k++)
			if (strcmp(hsd.jobs[k].root, root) == 0)
				break;
		if (k < hsd.njobs)
			continue;
		if ((owner = disc_user_of_path(&hsd.users, root)) == NULL)
			owner = u;
		j = &hsd.jobs[hsd.njobs];
		if ((j->root = strdup(root)) == NULL)
			return (-1);
		j->user = owner;
		hsd.njobs++;
	}
	return (0);
}

/* The walks are done: the watches they ask for. */
static void
hs_finish(void)
{
	struct watch_extra	*v = NULL, *nv;
	struct hs_job		*j;
	size_t			 i, k, n = 0, nissues = 0, ncand = 0;
	unsigned int		 m, degraded = 0;
	char			*slash;
	int			 tree = !hsd.hs.event_path_filtering;

	for (i = 0; i < hsd.njobs; i++) {
		j = &hsd.jobs[i];
		if (j->res.enomem) {
			log_warnx("home signal scan: %s: out of memory",
			    j->root);
			hs_problem(j->root, "out of memory");
		}
		for (k = 0; k < j->res.nissues; k++) {
			hs_problem(j->res.issues[k].path,
			    j->res.issues[k].reason);
			/* A home full of closed directories: not a flood. */
			if (nissues + k < HS_LOG_ISSUES)
				log_warnx("home signal scan: %s: %s",
				    j->res.issues[k].path,
				    j->res.issues[k].reason);
		}
		nissues += j->res.nissues;
		ncand += j->res.nfiles;
	}
	if (ncand > 0 && (v = calloc(ncand, sizeof(*v))) == NULL) {
		log_warnx("home signal scan: out of memory");
		hs_problem("home signal scan", "out of memory");
		ncand = 0;
	}
	if (hsd.nproblems > 0) {
		degraded = hsd.surfaces;
		if (hsd.nproblems == 1)
			snprintf(hsd.why, sizeof(hsd.why), "home signal scan: "
			    "%s", hsd.first);
		else
			snprintf(hsd.why, sizeof(hsd.why), "home signal scan: "
			    "%s (%zu issues, see the log)", hsd.first,
			    hsd.nproblems);
	}
	for (i = 0; ncand > 0 && i < hsd.njobs; i++) {
		j = &hsd.jobs[i];
		for (k = 0; k < j->res.nfiles; k++) {
			m = tree ? hsd.surfaces :
			    homesignal_surfaces(j->res.files[k]) &
			    hsd.surfaces;
			if (m == 0)
				continue;
			nv = &v[n];
			nv->surfaces = m;
			nv->w.user = j->user;
			nv->w.top = j->root;
			if (tree) {
				nv->w.dir = j->res.files[k];
				nv->w.flags = DISC_W_ANY | WATCH_W_TREE;
			} else {
				/* The file's directory, for that name. */
				slash = strrchr(j->res.files[k], '/');
				*slash = '\0';
				nv->w.dir = j->res.files[k][0] != '\0' ?
				    j->res.files[k] : (char *)"/";
				nv->w.name = slash + 1;
			}
			n++;
		}
	}
	if (watch_set_extra(v, n, tree ? (size_t)hsd.hs.initial_scan_budget.
	    max_directories_visited : 0, degraded, hsd.why) == -1)
		log_warnx("home signal scan: not every path could be watched");
	log_info("home signal scan: %zu %s watched in %llu ms, %zu issues",
	    n, tree ? "directories" : "signal files",
	    ev_now_ms() - hsd.start_ms, nissues);
	free(v);
	/* The watches keep pointing at the users; the results may go. */
	for (i = 0; i < hsd.njobs; i++) {
		free(hsd.jobs[i].root);
		hs_result_free(&hsd.jobs[i].res);
	}
	free(hsd.jobs);
	hsd.jobs = NULL;
	hsd.njobs = hsd.cur = 0;
	hsd.active = 0;
}

static void
hs_tick(void *arg)
{
	struct hs_job	*j;

	while (hsd.cur < hsd.njobs) {
		j = &hsd.jobs[hsd.cur];
		if (hsd.walk == NULL && (hsd.walk = hs_walk_new(&hsd.hs,
		    j->root, j->user, !hsd.hs.event_path_filtering, NULL,
		    NULL, &j->res)) == NULL) {
			j->res.enomem = 1;
			hsd.cur++;
			continue;
		}
		if (hs_walk_step(hsd.walk, HS_SLICE) == 1) {
			/* Let the event loop breathe, then go on. */
			ev_timer_add(&hsd.timer, 0);
			return;
		}
		hs_walk_free(hsd.walk);
		hsd.walk = NULL;
		hsd.cur++;
	}
	hs_finish();
}

void
homesignal_apply(const struct config *conf, unsigned int surfaces)
{
	const struct config_home_signal_scan *hs = &conf->watch.
	    home_signal_scan;

	if (!hsd.timer_init) {
		ev_timer_init(&hsd.timer, hs_tick, NULL);
		hsd.timer_init = 1;
	}
	hs_reset();
	/* The old watches point into the old users: drop them first. */
	watch_clear_extra();
	hs_settings_free(&hsd.hs);
	disc_users_free(&hsd.users);
	if (!hs->enabled || surfaces == 0)
		return;
	hsd.surfaces = surfaces;
	hsd.start_ms = ev_now_ms();
	if (hs_settings_dup(&hsd.hs, hs) == -1) {
		log_warnx("home signal scan: out of memory");
		return;
	}
	if (disc_users_load(conf, &hsd.users) == -1) {
		(void)watch_set_extra(NULL, 0, 0, surfaces, "home signal "
		    "scan: the monitored users cannot be looked up");
		return;
	}
	if (hs_plan_jobs() == -1) {
		log_warnx("home signal scan: out of memory");
		hs_reset();
		return;
	}
	hsd.active = 1;
	log_info("home signal scan: %zu %s, %s", hsd.njobs,
	    hsd.njobs == 1 ? "root" : "roots", hsd.hs.event_path_filtering ?
	    "signal files only" : "whole root");
	ev_timer_add(&hsd.timer, 0);
}

int
homesignal_busy(void)
{
	return (hsd.active);
}

void
homesignal_shutdown(void)
{
	hs_reset();
	watch_clear_extra();
	hs_settings_free(&hsd.hs);
	disc_users_free(&hsd.users);
}
