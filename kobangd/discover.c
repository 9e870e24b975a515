/*
 * Discovery: which files each surface reads, per monitored user, found
 * and opened with that user's rights.  See discover.h for the rules.
 */

#include <sys/types.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "discover.h"
#include "scan_format.h"
#include "log.h"
#include "slice.h"

#define DISC_MAX_GROUPS	1024

/* The parent's own supplementary groups, given back after each switch. */
static gid_t	 root_groups[DISC_MAX_GROUPS];
/* Names of one surface's package formats a discovery can look for. */
#define DISC_FORMAT_NAMES	16

static int	 root_ngroups = -1;
static int	 disc_switched;
static int	 have_openat2 = 1;

enum dent_type {
	DENT_DIR,
	DENT_REG,
	DENT_LNK,
	DENT_OTHER
};

struct dent {
	char		*name;
	enum dent_type	 type;
};

static unsigned long long
disc_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Identity */

int
disc_become(const struct disc_user *u)
{
	if (u == NULL || u->uid == 0)
		return (0);
	if (disc_switched) {
		errno = EBUSY;
		return (-1);
	}
	if (root_ngroups == -1) {
		if ((root_ngroups = getgroups(DISC_MAX_GROUPS,
		    root_groups)) == -1) {
			root_ngroups = -1;
			return (-1);
		}
	}
	/* Groups first: CAP_SETGID survives the fsuid change anyway. */
	if (setgroups((size_t)u->ngroups, u->groups) == -1)
		return (-1);
	disc_switched = 1;
	(void)setfsgid(u->gid);
	if ((gid_t)setfsgid((gid_t)-1) != u->gid) {
		disc_restore();
		errno = EPERM;
		return (-1);
	}
	/* From here the kernel drops CAP_DAC_OVERRIDE and friends. */
	(void)setfsuid(u->uid);
	if ((uid_t)setfsuid((uid_t)-1) != u->uid) {
		disc_restore();
		errno = EPERM;
		return (-1);
	}
	return (0);
}

void
disc_restore(void)
{
	if (!disc_switched)
		return;
	(void)setfsuid(geteuid());
	(void)setfsgid(getegid());
	if ((uid_t)setfsuid((uid_t)-1) != geteuid() ||
	    (gid_t)setfsgid((gid_t)-1) != getegid() ||
	    setgroups((size_t)root_ngroups, root_groups) == -1)
		fatal("cannot restore the parent's file system identity");
	disc_switched = 0;
}

/* Users */

static void
disc_user_free(struct disc_user *u)
{
	free(u->name);
	free(u->home);
	free(u->groups);
}

void
disc_users_free(struct disc_users *us)
{
	size_t	i;

	for (i = 0; i < us->n; i++)
		disc_user_free(&us->v[i]);
	free(us->v);
	us->v = NULL;
	us->n = 0;
}

static int
disc_user_add(struct disc_users *us, const struct passwd *pw)
{
	struct disc_user	 u, *v;
	size_t			 i, hl;
	int			 n = 32;

	for (i = 0; i < us->n; i++)
		if (us->v[i].uid == pw->pw_uid)
			return (0);
	if (pw->pw_dir == NULL || pw->pw_dir[0] != '/') {
		log_warnx("user %s: home %s is not an absolute path; "
		    "not monitored", pw->pw_name, pw->pw_dir ? pw->pw_dir : "");
		return (0);
	}
	memset(&u, 0, sizeof(u));
	u.uid = pw->pw_uid;
	u.gid = pw->pw_gid;
	if ((u.name = strdup(pw->pw_name)) == NULL ||
	    (u.home = strdup(pw->pw_dir)) == NULL)
		goto fail;
	hl = strlen(u.home);
	while (hl > 1 && u.home[hl - 1] == '/')
		u.home[--hl] = '\0';
	if (strcmp(u.home, "/") == 0) {
		/* Every path would be "in" that home. */
		log_warnx("user %s: home is /; not monitored", pw->pw_name);
		disc_user_free(&u);
		return (0);
	}
	for (;;) {
		gid_t	*g;

		if ((g = reallocarray(u.groups, (size_t)n,
		    sizeof(gid_t))) == NULL)
			goto fail;
		u.groups = g;
		if (getgrouplist(pw->pw_name, pw->pw_gid, u.groups, &n) != -1)
			break;
		if (n > DISC_MAX_GROUPS) {
			n = DISC_MAX_GROUPS;
			break;
		}
		n *= 2;
		if (n > DISC_MAX_GROUPS)
			n = DISC_MAX_GROUPS;
	}
	u.ngroups = n;
	if ((v = reallocarray(us->v, us->n + 1, sizeof(*v))) == NULL)
		goto fail;
	us->v = v;
	us->v[us->n++] = u;
	return (0);
 fail:
	disc_user_free(&u);
	return (-1);
}

static int
disc_human_shell(const char *shell)
{
	const char	*base;

	if (shell == NULL || shell[0] == '\0')
		return (1);	/* empty means /bin/sh */
	base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	return (strcmp(base, "nologin") != 0 && strcmp(base, "false") != 0);
}

int
disc_users_load(const struct config *conf, struct disc_users *us)
{
	const struct strlist	*names = conf->kobangd.users;
	struct passwd		*pw;
	struct stat		 st;
	size_t			 i;

	memset(us, 0, sizeof(*us));
	if (names != NULL) {
		for (i = 0; i < names->n; i++) {
			/*
			 * A configured user we cannot look up (a directory
			 * service that is down, a user removed behind our
			 * back) fails the whole load: scanning without them
			 * would report every one of their items as removed.
			 */
			errno = 0;
			if ((pw = getpwnam(names->v[i])) == NULL) {
				log_warnx("monitored user %s cannot be looked "
				    "up%s%s", names->v[i], errno ? ": " : "",
				    errno ? strerror(errno) : "");
				disc_users_free(us);
				errno = ESRCH;
				return (-1);
			}
			if (disc_user_add(us, pw) == -1)
				goto fail;
		}
		return (0);
	}
	setpwent();
	while ((pw = getpwent()) != NULL) {
		if (pw->pw_uid < 1000 || pw->pw_uid >= 60000 ||
		    !disc_human_shell(pw->pw_shell) || pw->pw_dir == NULL ||
		    stat(pw->pw_dir, &st) == -1 || !S_ISDIR(st.st_mode))
			continue;
		if (disc_user_add(us, pw) == -1) {
			endpwent();
			goto fail;
		}
	}
	endpwent();
	return (0);
 fail:
	disc_users_free(us);
	return (-1);
}

static int
disc_path_in(const char *path, const char *dir)
{
	size_t	l = strlen(dir);

	return (strncmp(path, dir, l) == 0 && (path[l] == '/' ||
	    path[l] == '\0'));
}

const struct disc_user *
disc_user_of_path(const struct disc_users *us, const char *path)
{
	size_t	i;

	for (i = 0; i < us->n; i++)
		if (disc_path_in(path, us->v[i].home))
			return (&us->v[i]);
	return (NULL);
}

/* Results */

#define GROW(res, arr, n, cap)						\
	do {								\
		if ((res)->n == (res)->cap) {				\
			size_t	 nc = (res)->cap ? (res)->cap * 2 : 16;	\
			void	*p = recallocarray((res)->arr, (res)->cap, \
			    nc, sizeof(*(res)->arr));			\
			if (p == NULL) {				\
				(res)->enomem = 1;			\
				return (-1);				\
			}						\
			(res)->arr = p;					\
			(res)->cap = nc;				\
		}							\
	} while (0)

static int
res_issue(struct disc_result *res, const char *path, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static int
res_issue(struct disc_result *res, const char *path, const char *fmt, ...)
{
	struct disc_issue	*is;
	va_list			 ap;
	int			 r;

	GROW(res, issues, nissues, capissues);
	is = &res->issues[res->nissues];
	if ((is->path = strdup(path)) == NULL) {
		res->enomem = 1;
		return (-1);
	}
	va_start(ap, fmt);
	r = vasprintf(&is->reason, fmt, ap);
	va_end(ap);
	if (r == -1) {
		free(is->path);
		res->enomem = 1;
		return (-1);
	}
	res->nissues++;
	return (0);
}

static int
res_anchor(struct disc_result *res, const char *path,
    const struct disc_user *user, size_t *idx)
{
	struct disc_anchor	*a;
	size_t			 i;

	for (i = 0; i < res->nanchors; i++)
		if (res->anchors[i].user == user &&
		    strcmp(res->anchors[i].path, path) == 0) {
			*idx = i;
			return (0);
		}
	GROW(res, anchors, nanchors, capanchors);
	a = &res->anchors[res->nanchors];
	if ((a->path = strdup(path)) == NULL) {
		res->enomem = 1;
		return (-1);
	}
	a->user = user;
	a->fd = -1;
	a->err = 0;
	*idx = res->nanchors++;
	return (0);
}

/* Open an anchor directory with its user's rights, once. */
static int
res_anchor_open(struct disc_result *res, size_t idx)
{
	struct disc_anchor	*a = &res->anchors[idx];

	if (a->fd != -1)
		return (a->fd);
	if (a->err != 0) {
		errno = a->err;
		return (-1);
	}
	if (disc_become(a->user) == -1) {
		a->err = errno;
		return (-1);
	}
	/* The anchor itself is a configured path: its links are followed. */
	a->fd = open(a->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
	if (a->fd == -1)
		a->err = errno;
	disc_restore();
	if (a->fd == -1)
		errno = a->err;
	return (a->fd);
}

static int
res_file(struct disc_result *res, size_t anchor, const char *path,
    enum disc_parser parser, enum item_kind kind, const char *tname,
    const char *origin, uint64_t cap)
{
	struct disc_file	*f;
	size_t			 al = strlen(res->anchors[anchor].path);

	if (!disc_path_in(path, res->anchors[anchor].path) ||
	    strlen(path) <= al) {
		errno = EINVAL;
		return (-1);
	}
	GROW(res, files, nfiles, capfiles);
	f = &res->files[res->nfiles];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL) {
		res->enomem = 1;
		return (-1);
	}
	/* "/" as an anchor has no slash to skip after it. */
	f->rel = f->path + al + (al == 1 ? 0 : 1);
	f->anchor = anchor;
	f->parser = parser;
	f->cap = cap;
	if (parser == DISC_HASH) {
		f->tmpl.kind = kind;
		f->tmpl.origin = origin;
		if ((f->tmpl.name = strdup(tname)) == NULL) {
			free(f->path);
			res->enomem = 1;
			return (-1);
		}
	}
	res->nfiles++;
	return (0);
}

static int
res_watch(struct disc_result *res, const char *dir, const char *name,
    unsigned int flags, const char *top, const struct disc_user *user)
{
	struct disc_watch	*w;

	GROW(res, watches, nwatches, capwatches);
	w = &res->watches[res->nwatches];
	memset(w, 0, sizeof(*w));
	w->flags = flags;
	w->user = user;
	if ((w->dir = strdup(dir)) == NULL ||
	    (name != NULL && (w->name = strdup(name)) == NULL) ||
	    (w->top = strdup(top)) == NULL) {
		free(w->dir);
		free(w->name);
		res->enomem = 1;
		return (-1);
	}
	res->nwatches++;
	return (0);
}

/* Watch the directory that holds path, for that entry. */
static int
res_watch_file(struct disc_result *res, const char *path, const char *top,
    const struct disc_user *user)
{
	char		 dir[PATH_MAX];
	const char	*slash = strrchr(path, '/');

	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir))
		return (0);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (dir[0] == '\0')
		strlcpy(dir, "/", sizeof(dir));
	return (res_watch(res, dir, slash + 1, 0, top, user));
}

int
disc_watch_file(struct disc_result *res, const char *path, size_t anchor)
{
	const struct disc_anchor	*a;

	if (anchor >= res->nanchors)
		return (-1);
	a = &res->anchors[anchor];
	return (res_watch_file(res, path, a->path, a->user));
}

void
disc_result_keep(struct disc_result *res)
{
	size_t	i;

	for (i = 0; i < res->nanchors; i++) {
		if (res->anchors[i].fd != -1)
			close(res->anchors[i].fd);
		res->anchors[i].fd = -1;
		res->anchors[i].err = 0;
	}
	for (i = 0; i < res->nwatches; i++) {
		free(res->watches[i].dir);
		free(res->watches[i].name);
		free(res->watches[i].top);
	}
	free(res->watches);
	res->watches = NULL;
	res->nwatches = 0;
}

void
disc_result_free(struct disc_result *res)
{
	size_t	i;

	for (i = 0; i < res->nfiles; i++) {
		free(res->files[i].path);
		free(res->files[i].tmpl.name);
		free(res->files[i].tmpl.version);
		free(res->files[i].label);
	}
	for (i = 0; i < res->nanchors; i++) {
		if (res->anchors[i].fd != -1)
			close(res->anchors[i].fd);
		free(res->anchors[i].path);
	}
	for (i = 0; i < res->nissues; i++) {
		free(res->issues[i].path);
		free(res->issues[i].reason);
	}
	for (i = 0; i < res->nwatches; i++) {
		free(res->watches[i].dir);
		free(res->watches[i].name);
		free(res->watches[i].top);
	}
	strlist_free(&res->wnames);
	strlist_free(&res->wexclude);
	disc_users_free(&res->owners);
	free(res->files);
	free(res->anchors);
	free(res->issues);
	free(res->watches);
	memset(res, 0, sizeof(*res));
}

/* Opening beneath an anchor */

static int
disc_openat2(int dirfd, const char *rel, uint64_t flags, uint64_t resolve)
{
	struct open_how	how;
	int		fd;

	if (have_openat2) {
		memset(&how, 0, sizeof(how));
		how.flags = flags;
		how.resolve = resolve;
		fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd != -1 || errno != ENOSYS)
			return (fd);
		have_openat2 = 0;
	}
	/*
	 * Without openat2, refuse every symbolic link: walk the components
	 * with O_NOFOLLOW, never "..".
	 */
	{
		char	 buf[PATH_MAX], *p, *next;
		int	 cur = dirfd, nfd;

		if (strlcpy(buf, rel, sizeof(buf)) >= sizeof(buf)) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		for (p = buf; ; p = next) {
			if ((next = strchr(p, '/')) != NULL)
				*next++ = '\0';
			if (strcmp(p, "..") == 0) {
				errno = EXDEV;
				nfd = -1;
			} else if (next == NULL)
				nfd = openat(cur, p[0] ? p : ".",
				    (int)flags | O_NOFOLLOW);
			else
				nfd = openat(cur, p[0] ? p : ".", O_PATH |
				    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cur != dirfd) {
				int	saved = errno;

				close(cur);
				errno = saved;
			}
			if (nfd == -1 || next == NULL)
				return (nfd);
			cur = nfd;
		}
	}
}

#define DISC_RESOLVE	(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

static const char *
disc_type_word(mode_t m)
{
	if (S_ISDIR(m))
		return ("a directory");
	if (S_ISFIFO(m))
		return ("a FIFO");
	if (S_ISSOCK(m))
		return ("a socket");
	if (S_ISCHR(m) || S_ISBLK(m))
		return ("a device");
	if (S_ISLNK(m))
		return ("a symbolic link");
	return ("not a regular file");
}

static void
disc_open_reason(int err, const struct disc_anchor *a, char *why,
    size_t whylen)
{
	switch (err) {
	case EXDEV:
		snprintf(why, whylen, "a symbolic link leads out of %s; "
		    "not followed", a->path);
		break;
	case ELOOP:
		snprintf(why, whylen, "symbolic link not followed");
		break;
	case EACCES:
	case EPERM:
		snprintf(why, whylen, "unreadable for user %s: %s",
		    a->user ? a->user->name : "root", strerror(err));
		break;
	default:
		snprintf(why, whylen, "cannot open: %s", strerror(err));
		break;
	}
}

int
disc_open(struct disc_result *res, const struct disc_file *f,
    struct stat *st, int *missing, char *why, size_t whylen)
{
	struct disc_anchor	*a = &res->anchors[f->anchor];
	struct stat		 st2;
	char			 proc[64];
	int			 afd, pfd, fd = -1, err;

	*missing = 0;
	if ((afd = res_anchor_open(res, f->anchor)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			*missing = 1;
		disc_open_reason(errno, a, why, whylen);
		return (-1);
	}
	if (disc_become(a->user) == -1) {
		snprintf(why, whylen, "cannot take on the rights of user %s: "
		    "%s", a->user ? a->user->name : "root", strerror(errno));
		return (-1);
	}
	/* A path handle first: nothing is opened before its type is known. */
	if ((pfd = disc_openat2(afd, f->rel, O_PATH | O_CLOEXEC,
	    DISC_RESOLVE)) == -1) {
		err = errno;
		disc_restore();
		if (err == ENOENT || err == ENOTDIR)
			*missing = 1;
		disc_open_reason(err, a, why, whylen);
		return (-1);
	}
	if (fstat(pfd, st) == -1) {
		err = errno;
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		disc_restore();
		close(pfd);
		snprintf(why, whylen, "%s, not read", disc_type_word(st->st_mode));
		return (-1);
	}
	if ((uint64_t)st->st_size > f->cap) {
		disc_restore();
		close(pfd);
		snprintf(why, whylen, "oversized: %lld bytes, the limit is "
		    "%llu", (long long)st->st_size,
		    (unsigned long long)f->cap);
		return (-1);
	}
	/* Reopening the handle checks the user's permission on the inode. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	if ((fd = open(proc, O_RDONLY | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		err = errno;
		if (err == ENOENT)
			err = EACCES;	/* no /proc: fail closed */
		goto fail;
	}
	if (fstat(fd, &st2) == -1) {
		err = errno;
		goto fail;
	}
	if (st2.st_dev != st->st_dev || st2.st_ino != st->st_ino ||
	    !S_ISREG(st2.st_mode)) {
		err = EAGAIN;
		goto fail;
	}
	*st = st2;
	disc_restore();
	close(pfd);
	return (fd);
 fail:
	disc_restore();
	close(pfd);
	if (fd != -1)
		close(fd);
	disc_open_reason(err, a, why, whylen);
	return (-1);
}

/* Directory listing */

static void
dents_free(struct dent *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/*
 * Read at most max entries of the directory rel below the anchor, with
 * the anchor's user's rights.  nofollow: the last component must not be
 * a symbolic link.  Returns 0, or -1 with errno; *more is set when the
 * directory held more than max entries.
 */
static int
disc_readdir(struct disc_result *res, size_t anchor, const char *rel,
    int nofollow, size_t max, struct dent **vp, size_t *np, int *more)
{
	struct disc_anchor	*a = &res->anchors[anchor];
	struct dirent		*de;
	struct dent		*v = NULL;
	struct stat		 st;
	DIR			*d;
	size_t			 n = 0, cap = 0;
	int			 afd, fd, err = 0;

	*vp = NULL;
	*np = 0;
	*more = 0;
	if ((afd = res_anchor_open(res, anchor)) == -1)
		return (-1);
	if (disc_become(a->user) == -1)
		return (-1);
	fd = disc_openat2(afd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0),
	    DISC_RESOLVE);
	if (fd == -1) {
		err = errno;
		disc_restore();
		errno = err;
		return (-1);
	}
	if ((d = fdopendir(fd)) == NULL) {
		err = errno;
		close(fd);
		disc_restore();
		errno = err;
		return (-1);
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			err = errno;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n >= max) {
			*more = 1;
			break;
		}
		if (n == cap) {
			size_t		 nc = cap ? cap * 2 : 32;
			struct dent	*nv;

			if ((nv = recallocarray(v, cap, nc,
			    sizeof(*v))) == NULL) {
				err = ENOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		switch (de->d_type) {
		case DT_DIR:
			v[n].type = DENT_DIR;
			break;
		case DT_REG:
			v[n].type = DENT_REG;
			break;
		case DT_LNK:
			v[n].type = DENT_LNK;
			break;
		case DT_UNKNOWN:
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;	/* gone meanwhile */
			v[n].type = S_ISDIR(st.st_mode) ? DENT_DIR :
			    S_ISREG(st.st_mode) ? DENT_REG :
			    S_ISLNK(st.st_mode) ? DENT_LNK : DENT_OTHER;
			break;
		default:
			v[n].type = DENT_OTHER;
			break;
		}
		if ((v[n].name = strdup(de->d_name)) == NULL) {
			err = ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	disc_restore();
	if (err != 0) {
		dents_free(v, n);
		if (err == ENOMEM)
			res->enomem = 1;
		errno = err;
		return (-1);
	}
	*vp = v;
	*np = n;
	return (0);
}

static int
join(char *buf, size_t len, const char *a, const char *b)
{
	int	r;

	if (a[0] == '\0')
		r = snprintf(buf, len, "%s", b);
	else if (strcmp(a, "/") == 0)
		r = snprintf(buf, len, "/%s", b);
	else
		r = snprintf(buf, len, "%s/%s", a, b);
	return (r < 0 || (size_t)r >= len ? -1 : 0);
}

/* An absolute path from the anchor and a relative path below it. */
static int
abs_path(char *buf, size_t len, const struct disc_anchor *a, const char *rel)
{
	if (rel[0] == '\0')
		return (strlcpy(buf, a->path, len) < len ? 0 : -1);
	return (join(buf, len, a->path, rel));
}

int
disc_glob_match(const char *pat, const char *name)
{
	const char	*star, *p, *n;
	size_t		 l, nl;

	if ((star = strchr(pat, '*')) == NULL)
		return (strcmp(pat, name) == 0);
	/* First part: a prefix. */
	l = (size_t)(star - pat);
	if (strncmp(pat, name, l) != 0)
		return (0);
	n = name + l;
	p = star + 1;
	/* Middle parts in order; the last part a suffix of what is left. */
	for (;;) {
		if ((star = strchr(p, '*')) == NULL) {
			l = strlen(p);
			nl = strlen(n);
			return (l <= nl && strcmp(n + nl - l, p) == 0);
		}
		l = (size_t)(star - p);
		if (l > 0) {
			char		 part[NAME_MAX + 1];
			const char	*hit;

			if (l > NAME_MAX)
				return (0);
			memcpy(part, p, l);
			part[l] = '\0';
			if ((hit = strstr(n, part)) == NULL)
				return (0);
			n = hit + l;
		}
		p = star + 1;
	}
}

/* A stack of directories still to visit, relative to an anchor. */
struct dirstack {
	char		**rel;
	int		 *depth;
	size_t		  n, cap;
};

static int
ds_push(struct dirstack *ds, const char *rel, int depth)
{
	if (ds->n == ds->cap) {
		size_t	 nc = ds->cap ? ds->cap * 2 : 16;
		char	**r;
		int	 *d;

		if ((r = recallocarray(ds->rel, ds->cap, nc,
		    sizeof(*r))) == NULL)
			return (-1);
		ds->rel = r;
		if ((d = recallocarray(ds->depth, ds->cap, nc,
		    sizeof(*d))) == NULL)
			return (-1);
		ds->depth = d;
		ds->cap = nc;
	}
	if ((ds->rel[ds->n] = strdup(rel)) == NULL)
		return (-1);
	ds->depth[ds->n++] = depth;
	return (0);
}

static void
ds_free(struct dirstack *ds)
{
	size_t	i;

	for (i = 0; i < ds->n; i++)
		free(ds->rel[i]);
	free(ds->rel);
	free(ds->depth);
}

/*
 * One bounded search below a directory (SURFACES.md 0.7), shared by the
 * claudeConfig walks and the agent surfaces' searches: hidden entries
 * skipped, symbolic links never descended, every visible entry counted
 * against max_entries and, when timed, a 10 s clock; running out is
 * one issue on the base and ends the whole search.  What an entry means is
 * left to visit(), which descends with walk_descend() and counts
 * regular files with walk_count_file().
 */
struct walk {
	struct disc_result	*res;
	size_t			 anchor;
	const char		*top;
	const struct disc_user	*user;
	int			 max_entries;
	int			 timed;
	int			(*visit)(struct walk *, const char *,
				    const char *, const struct dent *);
	const void		*arg;		/* visit()'s own */
	char			 base_abs[PATH_MAX];
	struct dirstack		 ds;
	size_t			 entries;
	size_t			 files;
	int			 stop;
};

/* Queue the subdirectory name of rel (abs) for a later visit. */
static int
walk_descend(struct walk *w, const char *rel, const char *abs,
    const char *name)
{
	char	child[PATH_MAX];

	if (join(child, sizeof(child), rel, name) == -1) {
		res_issue(w->res, abs, "path too long");
		return (0);
	}
	return (ds_push(&w->ds, child, 0));
}

/* Count a regular file, before any filter; 0 once the budget is gone. */
static int
walk_count_file(struct walk *w)
{
	if (++w->files > DISC_SEARCH_MAX_FILES) {
		res_issue(w->res, w->base_abs, "more than %d files; stopped",
		    DISC_SEARCH_MAX_FILES);
		w->stop = 1;
		return (0);
	}
	return (1);
}

/* Walk below baserel (relative to w->anchor); -1 on lack of memory. */
static int
walk_search(struct walk *w, const char *baserel)
{
	struct disc_result	*res = w->res;
	struct dent		*v;
	char			 rel[PATH_MAX], abs[PATH_MAX];
	size_t			 n, i;
	unsigned long long	 start = disc_now_ms();
	int			 more;

	memset(&w->ds, 0, sizeof(w->ds));
	w->entries = w->files = 0;
	w->stop = 0;
	if (abs_path(w->base_abs, sizeof(w->base_abs),
	    &res->anchors[w->anchor], baserel) == -1)
		return (0);
	/* The directory's own appearance is seen from its parent. */
	if (res_watch_file(res, w->base_abs, w->top, w->user) == -1)
		return (-1);
	if (ds_push(&w->ds, baserel, 0) == -1)
		goto nomem;
	while (w->ds.n > 0 && !w->stop) {
		/* Between directories the loop may take its turn. */
		if (slice_pause() == -1)
			break;
		w->ds.n--;
		strlcpy(rel, w->ds.rel[w->ds.n], sizeof(rel));
		free(w->ds.rel[w->ds.n]);
		if (abs_path(abs, sizeof(abs), &res->anchors[w->anchor],
		    rel) == -1)
			continue;
		if (w->timed && disc_now_ms() - start > DISC_SEARCH_MAX_MSEC) {
			res_issue(res, w->base_abs, "search took more than "
			    "%d s; stopped", DISC_SEARCH_MAX_MSEC / 1000);
			break;
		}
		if (disc_readdir(res, w->anchor, rel, strcmp(rel,
		    baserel) != 0, DISC_SEARCH_MAX_ENTRIES + 1, &v, &n,
		    &more) == -1) {
			if (res->enomem)
				goto nomem;
			if (strcmp(rel, baserel) == 0 && errno == ENOENT)
				break;
			if (errno != ENOENT)
				res_issue(res, abs, "%s",
				    errno == ENOTDIR ? "not a directory" :
				    strerror(errno));
			continue;
		}
		if (res_watch(res, abs, NULL, DISC_W_ANY | DISC_W_SUBDIR,
		    w->top, w->user) == -1)
			goto nomem_v;
		for (i = 0; i < n && !w->stop; i++) {
			if (v[i].name[0] == '.')
				continue;
			if (++w->entries > (size_t)w->max_entries) {
				res_issue(res, w->base_abs, "more than %d "
				    "entries; stopped", w->max_entries);
				w->stop = 1;
				break;
			}
			if (w->visit(w, rel, abs, &v[i]) == -1)
				goto nomem_v;
		}
		dents_free(v, n);
	}
	ds_free(&w->ds);
	return (0);
 nomem_v:
	dents_free(v, n);
 nomem:
	ds_free(&w->ds);
	res->enomem = 1;
	return (-1);
}

/* javascriptPackages (SURFACES.md 0.6, 7) */

struct project_walk {
	const struct strlist	*names;
	const struct strlist	*globs;		/* NULL: none */
	const struct strlist	*exclude;
	long long		 max_depth;
	unsigned long long	 start;
	size_t			 dirs;
	size_t			 files;
	int			 time_issue, dirs_issue, files_issue;
};

static int
glob_any(const struct strlist *globs, const char *name)
{
	size_t	i;

	for (i = 0; globs != NULL && i < globs->n; i++)
		if (disc_glob_match(globs->v[i], name))
			return (1);
	return (0);
}

/*
 * The parser of a project file by its name (SURFACES.md 7, 8): every
 * pythonPackages file that is not one of the three exact names is a
 * requirements file, a constraints one if its name says so.
 */
static enum disc_parser
project_parser(enum surface s, const char *name)
{
	const struct scan_format *f;

	if ((f = scan_format_by_file(s, name)) != NULL)
		return (f->disc);
	if (strncmp(name, "constraints", 11) == 0)
		return (DISC_CONSTRAINTS);
	return (DISC_REQUIREMENTS);
}

static int
project_visit(struct disc_result *res, struct project_walk *pw,
    size_t anchor, const char *top, const struct disc_user *user)
{
	const struct disc_anchor *a;
	struct dirstack	 ds;
	struct dent	*v;
	char		 rel[PATH_MAX], abs[PATH_MAX], child[PATH_MAX];
	size_t		 n, i;
	int		 depth, more, rc = 0;

	memset(&ds, 0, sizeof(ds));
	if (ds_push(&ds, "", 0) == -1)
		goto nomem;
	while (ds.n > 0) {
		if (slice_pause() == -1)
			break;
		ds.n--;
		strlcpy(rel, ds.rel[ds.n], sizeof(rel));
		free(ds.rel[ds.n]);
		depth = ds.depth[ds.n];
		a = &res->anchors[anchor];
		if (abs_path(abs, sizeof(abs), a, rel) == -1)
			continue;
		if (depth > pw->max_depth)
			continue;
		if (disc_now_ms() - pw->start > DISC_PROJECT_MAX_MSEC) {
			if (!pw->time_issue++)
				res_issue(res, abs, "project discovery took "
				    "more than %d s; stopped",
				    DISC_PROJECT_MAX_MSEC / 1000);
			continue;
		}
		if (pw->dirs >= DISC_PROJECT_MAX_DIRS) {
			if (!pw->dirs_issue++)
				res_issue(res, abs, "project discovery "
				    "visited %d directories; stopped",
				    DISC_PROJECT_MAX_DIRS);
			continue;
		}
		pw->dirs++;
		res->dirs_visited++;
		if (disc_readdir(res, anchor, rel, rel[0] != '\0', SIZE_MAX,
		    &v, &n, &more) == -1) {
			if (res->enomem)
				goto nomem;
			if (rel[0] == '\0' && errno == ENOENT)
				continue;
			if (rel[0] == '\0' && errno == ENOTDIR)
				res_issue(res, abs, "not a directory");
			else if (errno != ENOENT)
				res_issue(res, abs, "cannot list: %s",
				    strerror(errno));
			continue;
		}
		if (res_watch(res, abs, NULL, DISC_W_SUBDIR | DISC_W_NAMES, top,
		    user) == -1)
			goto nomem_v;
		for (i = 0; i < n; i++) {
			if (v[i].type == DENT_DIR) {
				if (strlist_has(pw->exclude, v[i].name) ||
				    depth + 1 > pw->max_depth)
					continue;
				if (join(child, sizeof(child), rel,
				    v[i].name) == -1) {
					res_issue(res, abs, "path too long");
					continue;
				}
				if (ds_push(&ds, child, depth + 1) == -1)
					goto nomem_v;
				continue;
			}
			/* Links and other types count as files here. */
			if (!strlist_has(pw->names, v[i].name) &&
			    !glob_any(pw->globs, v[i].name))
				continue;
			if (pw->files >= DISC_PROJECT_MAX_FILES) {
				if (!pw->files_issue++)
					res_issue(res, abs, "project discovery "
					    "found %d files; stopped",
					    DISC_PROJECT_MAX_FILES);
				break;
			}
			if (join(child, sizeof(child), abs, v[i].name) == -1) {
				res_issue(res, abs, "path too long");
				continue;
			}
			if (res_file(res, anchor, child,
			    project_parser(res->surface, v[i].name), 0, NULL,
			    NULL, DISC_PACKAGE_CAP) == -1) {
				if (res->enomem)
					goto nomem_v;
				continue;
			}
			pw->files++;
		}
		dents_free(v, n);
	}
	ds_free(&ds);
	return (rc);
 nomem_v:
	dents_free(v, n);
 nomem:
	ds_free(&ds);
	res->enomem = 1;
	return (-1);
}

static int
file_cmp(const void *a, const void *b)
{
	const struct disc_file	*fa = a, *fb = b;

	return (strcmp(fa->path, fb->path));
}

static void
file_drop(struct disc_result *res, size_t i)
{
	free(res->files[i].path);
	free(res->files[i].tmpl.name);
	free(res->files[i].tmpl.version);
	free(res->files[i].label);
	memmove(&res->files[i], &res->files[i + 1],
	    (res->nfiles - i - 1) * sizeof(res->files[0]));
	res->nfiles--;
}

static const char *
base_name(const char *p)
{
	const char	*s = strrchr(p, '/');

	return (s ? s + 1 : p);
}

ssize_t
disc_find(const struct disc_result *res, const char *path)
{
	size_t	lo = 0, hi = res->nfiles, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(path, res->files[mid].path)) == 0)
			return ((ssize_t)mid);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (-1);
}

/* Is there an npm-shrinkwrap.json beside lock in the sorted files? */
static int
has_shrinkwrap(const struct disc_result *res, const char *lock)
{
	const char	*b = base_name(lock);
	char		 want[PATH_MAX];

	if ((size_t)(b - lock) + sizeof("npm-shrinkwrap.json") >
	    sizeof(want))
		return (0);
	memcpy(want, lock, (size_t)(b - lock));
	strlcpy(want + (b - lock), "npm-shrinkwrap.json",
	    sizeof(want) - (size_t)(b - lock));
	return (disc_find(res, want) != -1);
}

/*
 * Sort by path, drop a path found twice (overlapping roots), and drop a
 * package-lock.json that has an npm-shrinkwrap.json beside it.
 */
static void
project_files_finish(struct disc_result *res)
{
	char	*drop;
	size_t	 i, j;

	/* No files, no array: qsort() must not see the NULL. */
	if (res->nfiles > 1)
		qsort(res->files, res->nfiles, sizeof(res->files[0]),
		    file_cmp);
	for (i = 1; i < res->nfiles; )
		if (strcmp(res->files[i].path, res->files[i - 1].path) == 0)
			file_drop(res, i);
		else
			i++;
	/*
	 * Sorted: the shrinkwrap beside a lockfile is a binary search away.
	 * Decide on the whole array first, then compact it.
	 */
	if (res->nfiles == 0)
		return;
	if ((drop = calloc(res->nfiles, 1)) == NULL) {
		res->enomem = 1;
		return;
	}
	for (i = 0; i < res->nfiles; i++)
		drop[i] = strcmp(base_name(res->files[i].path),
		    "package-lock.json") == 0 && has_shrinkwrap(res,
		    res->files[i].path);
	for (i = j = 0; i < res->nfiles; i++) {
		if (drop[i]) {
			free(res->files[i].path);
			free(res->files[i].tmpl.name);
			free(res->files[i].tmpl.version);
			free(res->files[i].label);
			continue;
		}
		res->files[j++] = res->files[i];
	}
	res->nfiles = j;
	free(drop);
}

/* Strip trailing slashes (not the root's own). */
static void
trim_slashes(char *p)
{
	size_t	l = strlen(p);

	while (l > 1 && p[l - 1] == '/')
		p[--l] = '\0';
}

/* Which user's rights and which top bound a path outside/inside homes. */
static const struct disc_user *
path_owner(const struct disc_users *us, const char *path,
    const struct disc_user *dflt, const char **top)
{
	const struct disc_user	*u = disc_user_of_path(us, path);

	if (u != NULL) {
		*top = u->home;
		return (u);
	}
	*top = path;
	return (dflt);
}

static int
seen_add(struct strlist *seen, const char *s)
{
	char	**v;

	if (strlist_has(seen, s))
		return (1);
	if ((v = reallocarray(seen->v, seen->n + 1, sizeof(*v))) == NULL)
		return (-1);
	seen->v = v;
	if ((seen->v[seen->n] = strdup(s)) == NULL)
		return (-1);
	seen->n++;
	return (0);
}

static int
expand_root(const char *root, const struct disc_user *u, char *buf,
    size_t len, struct disc_result *res)
{
	if (config_expand_home(root, u->home, buf, len) == -1) {
		res_issue(res, root, "path too long for user %s", u->name);
		return (-1);
	}
	if (buf[0] != '/') {
		res_issue(res, buf, "not an absolute path; ignored");
		return (-1);
	}
	trim_slashes(buf);
	return (0);
}

/*
 * A project root of user u for the agent surfaces: expanded, not seen
 * before, anchored with its owner's rights (the home's user inside a
 * home, else u) and watched from its parent, top "/" outside homes.
 * Returns 0 to use it, 1 to skip it, -1 when out of memory.
 */
static int
root_anchor(struct disc_result *res, const struct disc_users *us,
    struct strlist *seen, const char *pattern, const struct disc_user *u,
    char *root, size_t rootlen, size_t *anchor, const char **top,
    const struct disc_user **owner)
{
	int	s;

	if (expand_root(pattern, u, root, rootlen, res) == -1)
		return (1);
	if ((s = seen_add(seen, root)) != 0)
		return (s);
	*owner = path_owner(us, root, u, top);
	if (*top == root)
		*top = "/";
	if (res_anchor(res, root, *owner, anchor) == -1 ||
	    res_watch_file(res, root, *top, *owner) == -1)
		return (-1);
	return (0);
}

/*
 * What javascriptPackages and pythonPackages share: the watcher's copies
 * of the names (exact names are globs there too), globs (NULL: none) and
 * exclusions, then every root of every monitored user, each root once,
 * with one time budget per user.
 */
static int
project_discover(const struct config *conf, const struct disc_users *us,
    struct disc_result *res, const struct strlist *names,
    const struct strlist *globs, const struct strlist *exclude)
{
	const struct strlist	*roots;
	struct strlist		 seen;
	struct project_walk	 pw;
	char			 root[PATH_MAX];
	const char		*top;
	const struct disc_user	*owner;
	size_t			 i, r, anchor;
	int			 s;

	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < names->n; i++)
		if (seen_add(&res->wnames, names->v[i]) == -1)
			goto nomem;
	for (i = 0; globs != NULL && i < globs->n; i++)
		if (seen_add(&res->wnames, globs->v[i]) == -1)
			goto nomem;
	for (i = 0; i < exclude->n; i++)
		if (seen_add(&res->wexclude, exclude->v[i]) == -1)
			goto nomem;
	roots = config_project_roots(conf, res->surface);
	for (i = 0; i < us->n; i++) {
		memset(&pw, 0, sizeof(pw));
		pw.names = names;
		pw.globs = globs;
		pw.exclude = exclude;
		pw.max_depth = config_max_depth(conf, res->surface);
		pw.start = disc_now_ms();
		for (r = 0; r < roots->n; r++) {
			if (expand_root(roots->v[r], &us->v[i], root,
			    sizeof(root), res) == -1)
				continue;
			if ((s = seen_add(&seen, root)) == 1)
				continue;
			if (s == -1)
				goto nomem;
			owner = path_owner(us, root, &us->v[i], &top);
			/* A missing root is watched from its parent. */
			if (res_watch_file(res, root, top == root ?
			    "/" : top, owner) == -1 ||
			    res_anchor(res, root, owner, &anchor) == -1)
				goto nomem;
			if (names->n == 0 && (globs == NULL || globs->n == 0))
				continue;
			if (project_visit(res, &pw, anchor, top, owner) == -1)
				goto nomem;
		}
	}
	project_files_finish(res);
	strlist_free(&seen);
	return (0);
 nomem:
	strlist_free(&seen);
	res->enomem = 1;
	return (-1);
}

static int
discover_javascript(const struct config *conf, const struct disc_users *us,
    struct disc_result *res)
{
	const struct config_javascript *js = &conf->javascript;
	const struct scan_format *f;
	struct strlist		 names;
	size_t			 i;
	char			*namev[DISC_FORMAT_NAMES];

	memset(&names, 0, sizeof(names));
	names.v = namev;
	for (i = 0; i < js->lockfile_names.n; i++) {
		const char	*nm = js->lockfile_names.v[i];

		/* Each known name gated by its format's switch. */
		if ((f = scan_format_by_file(SURFACE_JAVASCRIPT, nm)) != NULL &&
		    scan_format_enabled(f, conf) && !strlist_has(&names, nm) &&
		    names.n < nitems(namev))
			names.v[names.n++] = (char *)nm;
	}
	return (project_discover(conf, us, res, &names, NULL,
	    js->exclude_directories ? js->exclude_directories :
	    &conf->watch.exclude_directories));
}

/* pythonPackages (SURFACES.md 0.6, 8) */

static int
discover_python(const struct config *conf, const struct disc_users *us,
    struct disc_result *res)
{
	const struct config_python *py = &conf->python;
	const struct scan_format *f;
	struct strlist		 names, globs;
	char			*namev[DISC_FORMAT_NAMES];
	size_t			 i, j;

	memset(&names, 0, sizeof(names));
	memset(&globs, 0, sizeof(globs));
	names.v = namev;
	for (i = 0; i < scan_nformats; i++) {
		f = &scan_formats[i];
		if (f->surface != SURFACE_PYTHON ||
		    !scan_format_enabled(f, conf))
			continue;
		for (j = 0; f->files[j] != NULL && names.n < nitems(namev);
		    j++)
			names.v[names.n++] = (char *)f->files[j];
		/* Requirement files have no name: the globs find them. */
		if (f->parser == SCAN_PARSER_REQUIREMENTS)
			globs = py->requirement_file_globs;
	}
	return (project_discover(conf, us, res, &names, &globs,
	    py->exclude_directories ? py->exclude_directories :
	    &conf->watch.exclude_directories));
}

/* claudeConfig (SURFACES.md 2) */

/* Fixed-path file: existence and readability are decided at open. */
static int
claude_fixed(struct disc_result *res, size_t anchor, const char *path,
    enum disc_parser parser, enum item_kind kind, const char *origin,
    const char *top, const struct disc_user *user)
{
	if (res_file(res, anchor, path, parser, kind, base_name(path),
	    origin, DISC_AGENT_CAP) == -1 && res->enomem)
		return (-1);
	return (res_watch_file(res, path, top, user));
}

enum claude_walk {
	CW_AGENTS,	/* recursive, every regular file */
	CW_COMMANDS,	/* top level, every regular file */
	CW_SKILLS	/* recursive search for SKILL.md */
};

/* One entry of a claude_walk(); w->arg points at its enum claude_walk. */
static int
claude_visit(struct walk *w, const char *rel, const char *abs,
    const struct dent *d)
{
	enum claude_walk	 kind = *(const enum claude_walk *)w->arg;
	char			 child[PATH_MAX];

	if (join(child, sizeof(child), abs, d->name) == -1) {
		res_issue(w->res, abs, "path too long");
		return (0);
	}
	switch (d->type) {
	case DENT_DIR:
		if (kind == CW_COMMANDS)
			return (0);
		return (walk_descend(w, rel, abs, d->name));
	case DENT_REG:
		if (kind == CW_SKILLS) {
			if (!walk_count_file(w) ||
			    strcmp(d->name, "SKILL.md") != 0)
				return (0);
			if (res_file(w->res, w->anchor, child, DISC_HASH,
			    KIND_SKILL, base_name(abs), "claude-customization",
			    DISC_AGENT_CAP) == -1 && w->res->enomem)
				return (-1);
			return (0);
		}
		if (res_file(w->res, w->anchor, child, DISC_HASH,
		    kind == CW_AGENTS ? KIND_AGENT : KIND_COMMAND, d->name,
		    "claude-customization", DISC_AGENT_CAP) == -1 &&
		    w->res->enomem)
			return (-1);
		return (0);
	case DENT_LNK:
		/*
		 * A symbolic link to an agent or command (SURFACES.md
		 * 13.7): opened like the files, beneath the anchor, so a
		 * link that leaves the home (or project root) is an issue
		 * at open; the reference skips every link.
		 */
		if (kind == CW_SKILLS)
			return (0);
		if (res_file(w->res, w->anchor, child, DISC_HASH,
		    kind == CW_AGENTS ? KIND_AGENT : KIND_COMMAND, d->name,
		    "claude-customization", DISC_AGENT_CAP) == -1 &&
		    w->res->enomem)
			return (-1);
		return (0);
	default:
		if (kind != CW_SKILLS)
			res_issue(w->res, child, "not a regular file; "
			    "skipped");
		return (0);
	}
}

/*
 * agents/, commands/ and skills/ under base (relative to the anchor):
 * only the skills search has a clock and a file budget.
 */
static int
claude_walk(struct disc_result *res, size_t anchor, const char *baserel,
    enum claude_walk kind, const char *top, const struct disc_user *user)
{
	struct walk	 w;

	memset(&w, 0, sizeof(w));
	w.res = res;
	w.anchor = anchor;
	w.top = top;
	w.user = user;
	w.max_entries = kind == CW_SKILLS ? DISC_SEARCH_MAX_ENTRIES :
	    DISC_LIST_MAX_ENTRIES;
	w.timed = kind == CW_SKILLS;
	w.visit = claude_visit;
	w.arg = &kind;
	return (walk_search(&w, baserel));
}

/* Plugin files under ~/.claude. */
static const char *const plugin_files[] = {
	"plugins/known-marketplaces.json", "plugins/installed-plugins.json",
	"plugins/known_marketplaces.json", "plugins/installed_plugins.json"
};

/* Everything under one base directory (~/.claude or <root>/.claude). */
static int
claude_base(const struct config *conf, struct disc_result *res,
    size_t anchor, const char *base, const char *top,
    const struct disc_user *user, int home)
{
	const struct config_claude *cl = &conf->claude;
	const struct disc_anchor *a = &res->anchors[anchor];
	char	 p[PATH_MAX], rel[PATH_MAX];
	size_t	 al = strlen(a->path);
	const char *brel;
	static const char *const walks[] = { "agents", "commands", "skills" };
	const int wflags[] = { cl->include_agents, cl->include_commands,
	    cl->include_skills };
	size_t	 i;

	brel = base + al + (al == 1 ? 0 : 1);
	if (cl->include_settings) {
		if (join(p, sizeof(p), base, "settings.json") == 0 &&
		    claude_fixed(res, anchor, p, DISC_CLAUDE_SETTINGS, 0, NULL,
		    top, user) == -1)
			return (-1);
		if (join(p, sizeof(p), base, "settings.local.json") == 0 &&
		    claude_fixed(res, anchor, p, DISC_CLAUDE_SETTINGS, 0, NULL,
		    top, user) == -1)
			return (-1);
	}
	if (cl->include_instructions && join(p, sizeof(p), base,
	    "CLAUDE.md") == 0 && claude_fixed(res, anchor, p, DISC_HASH,
	    KIND_INSTRUCTION, "claude-instruction", top, user) == -1)
		return (-1);
	/*
	 * The reference's names, and those Claude Code writes (with '_';
	 * kobangd.yaml(5), the differences).
	 */
	for (i = 0; home && cl->include_plugins && i < nitems(plugin_files);
	    i++)
		if (join(p, sizeof(p), base, plugin_files[i]) == 0 &&
		    claude_fixed(res, anchor, p, DISC_CLAUDE_PLUGINS, 0, NULL,
		    top, user) == -1)
			return (-1);
	for (i = 0; i < nitems(walks); i++) {
		if (!wflags[i])
			continue;
		if (join(rel, sizeof(rel), brel, walks[i]) == -1)
			continue;
		if (claude_walk(res, anchor, rel, (enum claude_walk)i, top,
		    user) == -1)
			return (-1);
	}
	return (0);
}

#ifdef __APPLE__
#define CLAUDE_MANAGED_SETTINGS	\
	"/Library/Application Support/ClaudeCode/managed-settings.json"
#else
#define CLAUDE_MANAGED_SETTINGS	"/etc/claude-code/managed-settings.json"
#endif

/* Claude Desktop's configuration, relative to the home (Linux, macOS). */
static const char *const claude_desktop[] = {
	".config/Claude/claude_desktop_config.json",
	"Library/Application Support/Claude/claude_desktop_config.json"
};

static int
discover_claude(const struct config *conf, const struct disc_users *us,
    struct disc_result *res)
{
	const struct config_claude *cl = &conf->claude;
	const struct strlist	*roots = config_project_roots(conf,
				    SURFACE_CLAUDE);
	const struct disc_user	*u, *owner;
	struct strlist		 seen;
	char			 p[PATH_MAX], root[PATH_MAX], dir[PATH_MAX];
	const char		*top, *slash;
	size_t			 i, r, anchor;
	int			 s;

	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < us->n; i++) {
		u = &us->v[i];
		/* ~/.claude.json or claude.configPath */
		if (config_expand_home(cl->config_path ? cl->config_path :
		    CONFIG_CLAUDE_CONFIG_PATH, u->home, p, sizeof(p)) == -1 ||
		    p[0] != '/') {
			res_issue(res, cl->config_path ? cl->config_path :
			    CONFIG_CLAUDE_CONFIG_PATH, "not usable for user %s",
			    u->name);
		} else if ((s = seen_add(&seen, p)) == -1)
			goto nomem;
		else if (s == 0) {
			/* In a home: that user and the home; else its dir. */
			if ((owner = disc_user_of_path(us, p)) != NULL) {
				top = owner->home;
				if (res_anchor(res, owner->home, owner,
				    &anchor) == -1)
					goto nomem;
			} else {
				owner = u;
				slash = strrchr(p, '/');
				memcpy(dir, p, (size_t)(slash - p));
				dir[slash - p] = '\0';
				if (dir[0] == '\0')
					strlcpy(dir, "/", sizeof(dir));
				top = dir;
				if (res_anchor(res, dir, owner, &anchor) == -1)
					goto nomem;
			}
			if (claude_fixed(res, anchor, p, DISC_CLAUDE_MCP, 0,
			    NULL, top, owner) == -1)
				goto nomem;
		}
		/*
		 * Claude Desktop's MCP servers, read like ~/.claude.json
		 * (the reference does not read them; kobangd.yaml(5)).
		 */
		for (r = 0; r < nitems(claude_desktop); r++) {
			if (join(p, sizeof(p), u->home, claude_desktop[r]) ==
			    -1)
				continue;
			if ((s = seen_add(&seen, p)) == -1)
				goto nomem;
			if (s == 1)
				continue;
			if (res_anchor(res, u->home, u, &anchor) == -1 ||
			    claude_fixed(res, anchor, p, DISC_CLAUDE_MCP, 0,
			    NULL, u->home, u) == -1)
				goto nomem;
		}
		/* ~/.claude */
		if (join(p, sizeof(p), u->home, ".claude") == 0 &&
		    seen_add(&seen, p) == 0) {
			if (res_anchor(res, u->home, u, &anchor) == -1 ||
			    claude_base(conf, res, anchor, p, u->home, u,
			    1) == -1)
				goto nomem;
		}
		/* <root>: fixed names directly inside each root */
		for (r = 0; r < roots->n; r++) {
			if ((s = root_anchor(res, us, &seen, roots->v[r], u,
			    root, sizeof(root), &anchor, &top, &owner)) == -1)
				goto nomem;
			if (s == 1)
				continue;
			if (cl->include_project_mcp &&
			    join(p, sizeof(p), root, ".mcp.json") == 0 &&
			    claude_fixed(res, anchor, p, DISC_CLAUDE_MCP, 0,
			    NULL, top, owner) == -1)
				goto nomem;
			if (cl->include_instructions) {
				if (join(p, sizeof(p), root, "CLAUDE.md") == 0 &&
				    claude_fixed(res, anchor, p, DISC_HASH,
				    KIND_INSTRUCTION, "claude-instruction", top,
				    owner) == -1)
					goto nomem;
				if (join(p, sizeof(p), root,
				    "CLAUDE.local.md") == 0 &&
				    claude_fixed(res, anchor, p, DISC_HASH,
				    KIND_INSTRUCTION, "claude-instruction", top,
				    owner) == -1)
					goto nomem;
			}
			if (join(p, sizeof(p), root, ".claude") == 0 &&
			    claude_base(conf, res, anchor, p, top, owner,
			    0) == -1)
				goto nomem;
		}
	}
	if (cl->include_settings && cl->include_managed_settings) {
		const char	*m = CLAUDE_MANAGED_SETTINGS;

		slash = strrchr(m, '/');
		memcpy(dir, m, (size_t)(slash - m));
		dir[slash - m] = '\0';
		if (res_anchor(res, dir, NULL, &anchor) == -1 ||
		    claude_fixed(res, anchor, m, DISC_CLAUDE_SETTINGS, 0, NULL,
		    "/", NULL) == -1)
			goto nomem;
	}
	strlist_free(&seen);
	return (0);
 nomem:
	strlist_free(&seen);
	res->enomem = 1;
	return (-1);
}

/* ---- homebrew, codexConfig, cursorConfig, opencodeConfig, piConfig ---- */

int
disc_file_templated(const struct disc_file *f)
{
	return (f->parser == DISC_HASH || f->parser == DISC_AGENT_HASH ||
	    f->parser == DISC_BREW_RECEIPT ||
	    f->parser == DISC_OPENCODE_CONFIG);
}

int
disc_file_missing_keeps(const struct disc_file *f)
{
	return (f->parser == DISC_BREW_RECEIPT);
}

/* A file of these surfaces, with its template where it has one. */
static int
agent_file(struct disc_result *res, size_t anchor, const char *path,
    enum disc_parser parser, enum item_kind kind, const char *name,
    const char *origin, uint64_t cap)
{
	struct disc_file	*f;

	if (res_file(res, anchor, path, parser, 0, NULL, NULL, cap) == -1)
		return (res->enomem ? -1 : 1);
	f = &res->files[res->nfiles - 1];
	if (disc_file_templated(f)) {
		f->tmpl.kind = kind;
		f->tmpl.origin = origin;
		if ((f->tmpl.name = strdup(name)) == NULL) {
			res->enomem = 1;
			return (-1);
		}
	}
	return (0);
}

/* A fixed-path file, watched from its directory. */
static int
agent_fixed(struct disc_result *res, size_t anchor, const char *path,
    enum disc_parser parser, enum item_kind kind, const char *origin,
    const char *top, const struct disc_user *user)
{
	if (agent_file(res, anchor, path, parser, kind, base_name(path),
	    origin, DISC_AGENT_CAP) == -1)
		return (-1);
	return (res_watch_file(res, path, top, user));
}

/*
 * A configured path of user u into p: ~ expanded, trailing slashes
 * dropped when it names a directory, once per surface; anchored at the
 * home it lies in with that home's user, else at its directory with
 * u's rights.  Returns 0 to use it, 1 to skip it (an issue says so
 * when it is not usable), -1 when out of memory.
 */
static int
agent_anchor(struct disc_result *res, const struct disc_users *us,
    struct strlist *seen, const char *cpath, int isdir,
    const struct disc_user *user, char *p, size_t plen, size_t *anchor,
    const char **top, const struct disc_user **owner)
{
	const struct disc_user	*u;
	const char		*slash;
	char			 dir[PATH_MAX];
	int			 s;

	if (config_expand_home(cpath, user->home, p, plen) == -1 ||
	    p[0] != '/') {
		res_issue(res, cpath, "not usable for user %s", user->name);
		return (1);
	}
	if (isdir)
		trim_slashes(p);
	if ((s = seen_add(seen, p)) != 0)
		return (s);
	if ((u = disc_user_of_path(us, p)) != NULL) {
		*owner = u;
		*top = u->home;
		return (res_anchor(res, u->home, u, anchor));
	}
	slash = strrchr(p, '/');
	if (slash == NULL || (size_t)(slash - p) >= sizeof(dir))
		return (1);
	memcpy(dir, p, (size_t)(slash - p));
	dir[slash - p] = '\0';
	if (dir[0] == '\0')
		strlcpy(dir, "/", sizeof(dir));
	*owner = user;
	*top = "/";
	return (res_anchor(res, dir, user, anchor));
}

/* How a recursive search (SURFACES.md 0.7) picks and names files. */
struct agent_search {
	const char	*exact;		/* a file name, or */
	const char	*ext;		/* an extension without the dot */
	int		 parent_name;	/* item name: the parent directory */
	enum item_kind	 kind;
	const char	*origin;
};

static int
search_match(const struct agent_search *as, const char *name)
{
	const char	*dot;

	if (as->exact != NULL)
		return (strcmp(name, as->exact) == 0);
	/* The path extension: after the last dot, not a leading one. */
	dot = strrchr(name, '.');
	return (dot != NULL && dot != name && strcmp(dot + 1, as->ext) == 0);
}

/* One entry of an agent_search(); w->arg is its struct agent_search. */
static int
agent_visit(struct walk *w, const char *rel, const char *abs,
    const struct dent *d)
{
	const struct agent_search	*as = w->arg;
	char				 child[PATH_MAX];

	if (d->type == DENT_DIR)
		return (walk_descend(w, rel, abs, d->name));
	if (d->type != DENT_REG || !walk_count_file(w) ||
	    !search_match(as, d->name))
		return (0);
	if (join(child, sizeof(child), abs, d->name) == -1) {
		res_issue(w->res, abs, "path too long");
		return (0);
	}
	return (agent_file(w->res, w->anchor, child, DISC_AGENT_HASH,
	    as->kind, as->parent_name ? base_name(abs) : d->name, as->origin,
	    DISC_AGENT_CAP) == -1 ? -1 : 0);
}

/*
 * Recursive search below baserel (relative to the anchor): symbolic
 * links neither descended nor read, every regular file counted before
 * the filter (5,000), every entry counted (25,000), 10 s.
 */
static int
agent_search(struct disc_result *res, size_t anchor, const char *baserel,
    const struct agent_search *as, const char *top,
    const struct disc_user *user)
{
	struct walk	 w;

	memset(&w, 0, sizeof(w));
	w.res = res;
	w.anchor = anchor;
	w.top = top;
	w.user = user;
	w.max_entries = DISC_SEARCH_MAX_ENTRIES;
	w.timed = 1;
	w.visit = agent_visit;
	w.arg = as;
	return (walk_search(&w, baserel));
}

/* A search below an absolute directory inside the anchor. */
static int
agent_search_abs(struct disc_result *res, size_t anchor, const char *dir,
    const struct agent_search *as, const char *top,
    const struct disc_user *user)
{
	const struct disc_anchor *a = &res->anchors[anchor];
	size_t	 al = strlen(a->path);

	if (!disc_path_in(dir, a->path) || strlen(dir) <= al)
		return (0);
	return (agent_search(res, anchor, dir + al + (al == 1 ? 0 : 1), as,
	    top, user));
}

/* homebrew (SURFACES.md 1) */

static int
dent_name_cmp(const void *a, const void *b)
{
	const struct dent	*da = a, *db = b;

	return (strcmp(da->name, db->name));
}

/*
 * The non-hidden subdirectories of rel, byte-sorted, at most
 * DISC_LIST_MAX_ENTRIES.  0, or -1 with errno.
 */
static int
brew_list(struct disc_result *res, size_t anchor, const char *rel,
    int nofollow, const char *abs, struct dent **vp, size_t *np)
{
	struct dent	*v;
	size_t		 n, i, k;
	int		 more;

	*vp = NULL;
	*np = 0;
	if (disc_readdir(res, anchor, rel, nofollow, DISC_LIST_MAX_ENTRIES, &v,
	    &n, &more) == -1)
		return (-1);
	if (more)
		res_issue(res, abs, "more than %d entries; the rest is not "
		    "listed", DISC_LIST_MAX_ENTRIES);
	for (i = k = 0; i < n; i++) {
		if (v[i].name[0] == '.' || v[i].type != DENT_DIR) {
			free(v[i].name);
			continue;
		}
		v[k++] = v[i];
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), dent_name_cmp);
	*vp = v;
	*np = k;
	return (0);
}

/* Cellar or Caskroom of one prefix. */
static int
brew_room(struct disc_result *res, size_t anchor, const char *prefix,
    const char *room, int cask, const struct disc_user *user)
{
	struct dent	*racks = NULL, *vers = NULL;
	struct disc_file *f;
	char		 rel[PATH_MAX], abs[PATH_MAX], rack[PATH_MAX];
	char		 receipt[PATH_MAX], versions[DISC_BREW_VERSIONS_MAX];
	size_t		 nracks, nvers, i, j, vl;
	int		 r;

	if (join(abs, sizeof(abs), prefix, room) == -1)
		return (0);
	/* Its appearance, and racks coming and going. */
	if (res_watch_file(res, abs, prefix, user) == -1)
		return (-1);
	/*
	 * Cellar may be a link to another disk: followed, but only within
	 * the prefix (the anchor); racks and versions never are.
	 */
	if (brew_list(res, anchor, room, 0, abs, &racks, &nracks) == -1) {
		if (res->enomem)
			return (-1);
		if (errno != ENOENT)
			res_issue(res, abs, "cannot list: %s",
			    errno == ENOTDIR ? "not a directory" :
			    strerror(errno));
		return (0);
	}
	if (res_watch(res, abs, NULL, DISC_W_SUBDIR, prefix, user) == -1)
		goto nomem;
	for (i = 0; i < nracks; i++) {
		if (join(rel, sizeof(rel), room, racks[i].name) == -1 ||
		    join(rack, sizeof(rack), abs, racks[i].name) == -1) {
			res_issue(res, abs, "path too long");
			continue;
		}
		if (brew_list(res, anchor, rel, 1, rack, &vers, &nvers) == -1) {
			if (res->enomem)
				goto nomem;
			res_issue(res, rack, "cannot list: %s",
			    strerror(errno));
			continue;
		}
		/* Versions come and go inside the rack (upgrades). */
		if (res_watch(res, rack, NULL, DISC_W_SUBDIR, prefix,
		    user) == -1)
			goto nomem;
		if (nvers == 0) {
			dents_free(vers, nvers);
			vers = NULL;
			continue;
		}
		versions[0] = '\0';
		for (j = 0; j < nvers; j++) {
			vl = strlen(versions);
			if (vl + (j ? 2 : 0) + strlen(vers[j].name) >=
			    sizeof(versions)) {
				/* Whole versions only; say so. */
				res_issue(res, rack, "more versions than fit "
				    "in %zu bytes; listed %zu of %zu",
				    sizeof(versions) - 1, j, nvers);
				break;
			}
			if (j)
				strlcat(versions, ", ", sizeof(versions));
			strlcat(versions, vers[j].name, sizeof(versions));
		}
		if (join(receipt, sizeof(receipt), rack, cask ?
		    ".metadata/INSTALL_RECEIPT.json" :
		    vers[nvers - 1].name) == -1 || (!cask &&
		    strlcat(receipt, "/INSTALL_RECEIPT.json",
		    sizeof(receipt)) >= sizeof(receipt))) {
			res_issue(res, rack, "path too long");
			dents_free(vers, nvers);
			vers = NULL;
			continue;
		}
		dents_free(vers, nvers);
		vers = NULL;
		if ((r = agent_file(res, anchor, receipt, DISC_BREW_RECEIPT,
		    KIND_PACKAGE, racks[i].name, "unknown",
		    DISC_BREW_RECEIPT_CAP)) == -1)
			goto nomem;
		if (r == 1)
			continue;
		f = &res->files[res->nfiles - 1];
		if ((f->label = strdup(rack)) == NULL ||
		    (f->tmpl.version = strdup(versions)) == NULL) {
			res->enomem = 1;
			goto nomem;
		}
	}
	dents_free(racks, nracks);
	return (0);
 nomem:
	dents_free(racks, nracks);
	res->enomem = 1;
	return (-1);
}

/*
 * Whose rights read a prefix: its owner's.  A monitored user's own
 * prefix (or /opt/homebrew set up by an admin user) is read as that
 * user; a root-owned prefix (/usr/local on most Linux systems) as root,
 * which can only see what any user of the machine could; a prefix owned
 * by another account (the linuxbrew user) as that account, from the
 * password database, or by bare uid and gid if it has no entry.
 */
static const struct disc_user *
brew_owner(struct disc_result *res, const struct disc_users *us,
    const struct stat *st)
{
	struct disc_user	*v, u;
	struct passwd		*pw;
	size_t			 i;

	if (st->st_uid == 0)
		return (NULL);
	for (i = 0; i < us->n; i++)
		if (us->v[i].uid == st->st_uid)
			return (&us->v[i]);
	for (i = 0; i < res->owners.n; i++)
		if (res->owners.v[i].uid == st->st_uid)
			return (&res->owners.v[i]);
	if ((pw = getpwuid(st->st_uid)) != NULL &&
	    pw->pw_dir != NULL && pw->pw_dir[0] == '/' &&
	    strcmp(pw->pw_dir, "/") != 0) {
		if (disc_user_add(&res->owners, pw) == -1)
			goto nomem;
		/* disc_user_add skips nothing new here: it is the last. */
		return (&res->owners.v[res->owners.n - 1]);
	}
	memset(&u, 0, sizeof(u));
	u.uid = st->st_uid;
	u.gid = st->st_gid;
	if ((u.name = strdup("prefix owner")) == NULL ||
	    (u.home = strdup("/nonexistent")) == NULL) {
		free(u.name);
		goto nomem;
	}
	if ((v = reallocarray(res->owners.v, res->owners.n + 1,
	    sizeof(*v))) == NULL) {
		free(u.name);
		free(u.home);
		goto nomem;
	}
	res->owners.v = v;
	res->owners.v[res->owners.n++] = u;
	return (&res->owners.v[res->owners.n - 1]);
 nomem:
	res->enomem = 1;
	return (NULL);
}

#ifdef __linux__
static const char *const brew_defaults[] = {
	"/opt/homebrew", "/usr/local", "/home/linuxbrew/.linuxbrew"
};
#else
static const char *const brew_defaults[] = {
	"/opt/homebrew", "/usr/local"
};
#endif

static int
brew_prefix(struct disc_result *res, const struct disc_users *us,
    const char *prefix)
{
	const struct disc_user	*owner;
	struct stat		 st, lst;
	size_t			 anchor;

	/*
	 * A configured prefix may be a link; what it names must be a
	 * directory.  Whose rights read it comes from the path itself, not
	 * from what it names: a link its owner made to a root-owned
	 * directory (/tmp) is read with that owner's rights, never root's.
	 */
	if (lstat(prefix, &lst) == -1 || stat(prefix, &st) == -1) {
		if (errno != ENOENT && errno != ENOTDIR)
			res_issue(res, prefix, "cannot stat: %s",
			    strerror(errno));
		/* Its appearance is watched from its parent. */
		return (res_watch_file(res, prefix, "/", NULL));
	}
	if (!S_ISDIR(st.st_mode)) {
		res_issue(res, prefix, "not a directory");
		return (0);
	}
	owner = brew_owner(res, us, &lst);
	if (res->enomem)
		return (-1);
	if (res_anchor(res, prefix, owner, &anchor) == -1 ||
	    brew_room(res, anchor, prefix, "Cellar", 0, owner) == -1 ||
	    brew_room(res, anchor, prefix, "Caskroom", 1, owner) == -1)
		return (-1);
	return (0);
}

static int
discover_homebrew(const struct config *conf, const struct disc_users *us,
    struct disc_result *res)
{
	const struct strlist	*pl = conf->homebrew.prefixes;
	struct strlist		 seen;
	char			 p[PATH_MAX];
	size_t			 i, k;
	int			 s;

	memset(&seen, 0, sizeof(seen));
	if (pl == NULL) {
		for (i = 0; i < nitems(brew_defaults); i++)
			if (seen_add(&seen, brew_defaults[i]) == -1 ||
			    brew_prefix(res, us, brew_defaults[i]) == -1)
				goto nomem;
		strlist_free(&seen);
		return (0);
	}
	for (i = 0; i < pl->n; i++) {
		/* "~/..." is a prefix in each monitored user's home. */
		for (k = 0; k < (pl->v[i][0] == '~' ? us->n : 1); k++) {
			if (pl->v[i][0] == '~') {
				if (expand_root(pl->v[i], &us->v[k], p,
				    sizeof(p), res) == -1)
					continue;
			} else if (strlcpy(p, pl->v[i], sizeof(p)) >=
			    sizeof(p) || p[0] != '/') {
				res_issue(res, pl->v[i], "not an absolute "
				    "path; ignored");
				continue;
			}
			trim_slashes(p);
			if ((s = seen_add(&seen, p)) == 1)
				continue;
			if (s == -1 || brew_prefix(res, us, p) == -1)
				goto nomem;
		}
	}
	strlist_free(&seen);
	return (0);
 nomem:
	strlist_free(&seen);
	res->enomem = 1;
	return (-1);
}

/* codexConfig (SURFACES.md 3) */

static const struct agent_search codex_rules = {
	NULL, "rules", 0, KIND_RULE, "codex-rules"
};
static const struct agent_search codex_skills = {
	"SKILL.md", NULL, 1, KIND_SKILL, "codex-skills"
};

/* hooks.json and rules/ of one base directory. */
static int
codex_base(const struct config *conf, struct disc_result *res,
    size_t anchor, const char *base, const char *top,
    const struct disc_user *user)
{
	char	p[PATH_MAX];

	if (conf->codex.include_hooks && join(p, sizeof(p), base,
	    "hooks.json") == 0 && agent_fixed(res, anchor, p,
	    DISC_CODEX_HOOKS, 0, NULL, top, user) == -1)
		return (-1);
	if (conf->codex.include_rules && join(p, sizeof(p), base,
	    "rules") == 0 && agent_search_abs(res, anchor, p, &codex_rules,
	    top, user) == -1)
		return (-1);
	return (0);
}

/* The profile glob: the directory literal, the pattern its last part. */
static int
codex_profiles(struct disc_result *res, const struct disc_users *us,
    const char *glob, const struct disc_user *u)
{
	const struct disc_user	*owner;
	struct dent		*v;
	const char		*top, *slash;
	char			 p[PATH_MAX], dir[PATH_MAX], file[PATH_MAX];
	size_t			 anchor, n, i;
	int			 more;

	if (config_expand_home(glob, u->home, p, sizeof(p)) == -1 ||
	    p[0] != '/' || (slash = strrchr(p, '/')) == NULL) {
		res_issue(res, glob, "not usable for user %s", u->name);
		return (0);
	}
	/* The directory itself is the anchor: only its entries are read. */
	memcpy(dir, p, (size_t)(slash - p));
	dir[slash - p] = '\0';
	if (dir[0] == '\0')
		strlcpy(dir, "/", sizeof(dir));
	owner = disc_user_of_path(us, dir);
	top = owner != NULL ? owner->home : "/";
	if (owner == NULL)
		owner = u;
	if (res_anchor(res, dir, owner, &anchor) == -1 ||
	    res_watch(res, dir, NULL, DISC_W_ANY, top, owner) == -1 ||
	    res_watch_file(res, dir, top, owner) == -1)
		return (-1);
	if (disc_readdir(res, anchor, "", 0, DISC_LIST_MAX_ENTRIES, &v, &n,
	    &more) == -1) {
		if (res->enomem)
			return (-1);
		if (errno != ENOENT)
			res_issue(res, dir, "%s", errno == ENOTDIR ?
			    "not a directory" : strerror(errno));
		return (0);
	}
	if (more)
		res_issue(res, dir, "more than %d entries; the rest is not "
		    "listed", DISC_LIST_MAX_ENTRIES);
	if (n > 1)
		qsort(v, n, sizeof(*v), dent_name_cmp);
	for (i = 0; i < n; i++) {
		if (v[i].name[0] == '.' || v[i].type != DENT_REG ||
		    !disc_glob_match(slash + 1, v[i].name))
			continue;
		if (join(file, sizeof(file), dir, v[i].name) == -1)
			continue;
		if (agent_file(res, anchor, file, DISC_CODEX_CONFIG, 0, NULL,
		    NULL, DISC_AGENT_CAP) == -1) {
			dents_free(v, n);
			return (-1);
		}
	}
	dents_free(v, n);
	return (0);
}

static int
discover_codex(const struct config *conf, const struct disc_users *us,
    struct disc_result *res)
{
	const struct config_codex *cx = &conf->codex;
	const struct strlist	*roots = config_project_roots(conf,
				    SURFACE_CODEX);
	const struct disc_user	*u, *owner;
	struct strlist		 seen;
	char			 p[PATH_MAX], root[PATH_MAX];
	char			 base[PATH_MAX];
	const char		*top, *slash;
	size_t			 i, r, anchor;
	int			 s;

	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < us->n; i++) {
		u = &us->v[i];
		if ((s = agent_anchor(res, us, &seen, cx->user_config_path ?
		    cx->user_config_path : CONFIG_CODEX_USER_CONFIG_PATH, 0, u,
		    p, sizeof(p), &anchor, &top, &owner)) == -1)
			goto nomem;
		if (s == 0) {
			if (agent_fixed(res, anchor, p, DISC_CODEX_CONFIG, 0,
			    NULL, top, owner) == -1)
				goto nomem;
			/* The base directory: dirname(userConfig). */
			slash = strrchr(p, '/');
			memcpy(base, p, (size_t)(slash - p));
			base[slash - p] = '\0';
			if (base[0] != '\0' && codex_base(conf, res, anchor,
			    base, top, owner) == -1)
				goto nomem;
		}
		if (cx->profile_config_glob != NULL &&
		    codex_profiles(res, us, cx->profile_config_glob, u) == -1)
			goto nomem;
		if (cx->include_skills &&
		    join(p, sizeof(p), u->home, ".agents/skills") == 0 &&
		    seen_add(&seen, p) == 0) {
			if (res_anchor(res, u->home, u, &anchor) == -1 ||
			    agent_search_abs(res, anchor, p, &codex_skills,
			    u->home, u) == -1)
				goto nomem;
		}
		for (r = 0; r < roots->n; r++) {
			if ((s = root_anchor(res, us, &seen, roots->v[r], u,
			    root, sizeof(root), &anchor, &top, &owner)) == -1)
				goto nomem;
			if (s == 1)
				continue;
			if (join(p, sizeof(p), root, ".codex/config.toml") ==
			    0 && agent_fixed(res, anchor, p,
			    DISC_CODEX_CONFIG, 0, NULL, top, owner) == -1)
				goto nomem;
			if (join(base, sizeof(base), root, ".codex") == 0 &&
			    codex_base(conf, res, anchor, base, top,
			    owner) == -1)
				goto nomem;
			if (cx->include_skills && join(p, sizeof(p), root,
			    ".agents/skills") == 0 && agent_search_abs(res,
			    anchor, p, &codex_skills, top, owner) == -1)
				goto nomem;
		}
	}
	if (cx->include_system_config) {
		/* Root's own files: read as root. */
		if (res_anchor(res, "/etc/codex", NULL, &anchor) == -1 ||
		    res_watch_file(res, "/etc/codex", "/", NULL) == -1 ||
		    agent_fixed(res, anchor, "/etc/codex/config.toml",
		    DISC_CODEX_CONFIG, 0, NULL, "/", NULL) == -1 ||
		    codex_base(conf, res, anchor, "/etc/codex", "/",
		    NULL) == -1 ||
		    (cx->include_skills && agent_search_abs(res, anchor,
		    "/etc/codex/skills", &codex_skills, "/", NULL) == -1))
			goto nomem;
	}
	strlist_free(&seen);
	return (0);
 nomem:
	strlist_free(&seen);
	res->enomem = 1;
	return (-1);
}

/* cursorConfig (SURFACES.md 5) */

static const struct agent_search cursor_rules = {
	NULL, "mdc", 0, KIND_RULE, "cursor-rules"
};

static int
discover_cursor(const struct config *conf, const struct disc_users *us,
    struct disc_result *res)
{
	const struct config_cursor *cu = &conf->cursor;
	const struct strlist	*roots = config_project_roots(conf,
				    SURFACE_CURSOR);
	const struct disc_user	*u, *owner;
	struct strlist		 seen;
	char			 p[PATH_MAX], root[PATH_MAX];
	const char		*top;
	size_t			 i, r, anchor;
	int			 s;

	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < us->n; i++) {
		u = &us->v[i];
		if (cu->include_global_mcp) {
			if ((s = agent_anchor(res, us, &seen,
			    cu->global_mcp_path ? cu->global_mcp_path :
			    CONFIG_CURSOR_GLOBAL_MCP_PATH, 0, u, p, sizeof(p),
			    &anchor, &top, &owner)) == -1)
				goto nomem;
			if (s == 0 && agent_fixed(res, anchor, p,
			    DISC_CURSOR_MCP, 0, NULL, top, owner) == -1)
				goto nomem;
		}
		for (r = 0; r < roots->n; r++) {
			if ((s = root_anchor(res, us, &seen, roots->v[r], u,
			    root, sizeof(root), &anchor, &top, &owner)) == -1)
				goto nomem;
			if (s == 1)
				continue;
			if (cu->include_project_mcp && join(p, sizeof(p),
			    root, ".cursor/mcp.json") == 0 &&
			    agent_fixed(res, anchor, p, DISC_CURSOR_MCP, 0,
			    NULL, top, owner) == -1)
				goto nomem;
			if (cu->include_rules && join(p, sizeof(p), root,
			    ".cursor/rules") == 0 && agent_search_abs(res,
			    anchor, p, &cursor_rules, top, owner) == -1)
				goto nomem;
			if (cu->include_legacy_rules && join(p, sizeof(p),
			    root, ".cursorrules") == 0 && agent_fixed(res,
			    anchor, p, DISC_AGENT_HASH, KIND_RULE,
			    "cursor-legacy-rules", top, owner) == -1)
				goto nomem;
			if (cu->include_instructions && join(p, sizeof(p),
			    root, "AGENTS.md") == 0 && agent_fixed(res,
			    anchor, p, DISC_AGENT_HASH, KIND_INSTRUCTION,
			    "cursor-instruction", top, owner) == -1)
				goto nomem;
		}
	}
	strlist_free(&seen);
	return (0);
 nomem:
	strlist_free(&seen);
	res->enomem = 1;
	return (-1);
}

/* opencodeConfig (SURFACES.md 6) */

/*
 * OpenCode's macOS managed preferences, hashed only (never parsed):
 * per monitored user (read with that user's rights), then system-wide
 * (root's, like Claude's managed settings).  The same paths on every
 * system, as the reference has them; elsewhere they do not exist.
 */
#define OPENCODE_MANAGED_DIR	"/Library/Managed Preferences"
#define OPENCODE_MANAGED_NAME	"ai.opencode.managed.plist"

static int
opencode_managed(struct disc_result *res, const struct disc_user *user)
{
	char	 dir[PATH_MAX], p[PATH_MAX];
	size_t	 anchor;

	if (user != NULL) {
		/* A login name is one path component. */
		if (strchr(user->name, '/') != NULL ||
		    strcmp(user->name, ".") == 0 ||
		    strcmp(user->name, "..") == 0 ||
		    join(dir, sizeof(dir), OPENCODE_MANAGED_DIR,
		    user->name) == -1)
			return (0);
	} else
		strlcpy(dir, OPENCODE_MANAGED_DIR, sizeof(dir));
	if (join(p, sizeof(p), dir, OPENCODE_MANAGED_NAME) == -1)
		return (0);
	if (res_anchor(res, dir, user, &anchor) == -1 ||
	    agent_fixed(res, anchor, p, DISC_AGENT_HASH, KIND_CONFIG_PROFILE,
	    "opencode-config", "/", user) == -1)
		return (-1);
	return (0);
}

static int
opencode_dir(const struct config *conf, struct disc_result *res,
    size_t anchor, const char *dir, const char *top,
    const struct disc_user *user)
{
	const struct config_opencode *oc = &conf->opencode;
	static const struct {
		const char	*sub;
		enum item_kind	 kind;
		const char	*origin;
	} md[] = {
		{ "agent", KIND_AGENT, "opencode-agent" },
		{ "agents", KIND_AGENT, "opencode-agent" },
		{ "command", KIND_COMMAND, "opencode-command" },
		{ "commands", KIND_COMMAND, "opencode-command" },
		{ "plugin", KIND_PLUGIN, "opencode-plugin" },
		{ "plugins", KIND_PLUGIN, "opencode-plugin" },
	};
	struct agent_search	 as;
	char			 p[PATH_MAX];
	size_t			 i;
	int			 on;

	/* The directory's own appearance. */
	if (res_watch_file(res, dir, top, user) == -1)
		return (-1);
	if (join(p, sizeof(p), dir, "opencode.json") == 0 &&
	    agent_fixed(res, anchor, p, DISC_OPENCODE_CONFIG,
	    KIND_CONFIG_PROFILE, "opencode-config", top, user) == -1)
		return (-1);
	if (join(p, sizeof(p), dir, "opencode.jsonc") == 0 &&
	    agent_fixed(res, anchor, p, DISC_OPENCODE_CONFIG,
	    KIND_CONFIG_PROFILE, "opencode-config", top, user) == -1)
		return (-1);
	for (i = 0; i < nitems(md); i++) {
		on = md[i].kind == KIND_AGENT ? oc->include_agents :
		    md[i].kind == KIND_COMMAND ? oc->include_commands :
		    oc->include_plugins;
		if (!on || join(p, sizeof(p), dir, md[i].sub) == -1)
			continue;
		memset(&as, 0, sizeof(as));
		as.ext = "md";
		as.kind = md[i].kind;
		as.origin = md[i].origin;
		if (agent_search_abs(res, anchor, p, &as, top, user) == -1)
			return (-1);
	}
	if (oc->include_instructions) {
		if (join(p, sizeof(p), dir, "AGENTS.md") == 0 &&
		    agent_fixed(res, anchor, p, DISC_AGENT_HASH,
		    KIND_INSTRUCTION, "opencode-instruction", top, user) == -1)
			return (-1);
		if (join(p, sizeof(p), dir, "Agents.md") == 0 &&
		    agent_fixed(res, anchor, p, DISC_AGENT_HASH,
		    KIND_INSTRUCTION, "opencode-instruction", top, user) == -1)
			return (-1);
	}
	return (0);
}

static int
discover_opencode(const struct config *conf, const struct disc_users *us,
    struct disc_result *res)
{
	const struct config_opencode *oc = &conf->opencode;
	const struct strlist	*roots = config_project_roots(conf,
				    SURFACE_OPENCODE);
	const struct disc_user	*u, *owner;
	struct strlist		 seen;
	char			 p[PATH_MAX], root[PATH_MAX];
	const char		*top;
	size_t			 i, r, anchor;
	int			 s;

	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < us->n; i++) {
		u = &us->v[i];
		if (oc->include_global) {
			if ((s = agent_anchor(res, us, &seen,
			    oc->user_config_directory ?
			    oc->user_config_directory :
			    CONFIG_OPENCODE_USER_CONFIG_DIR, 1, u, p, sizeof(p),
			    &anchor, &top, &owner)) == -1)
				goto nomem;
			if (s == 0 && opencode_dir(conf, res, anchor, p, top,
			    owner) == -1)
				goto nomem;
		}
		for (r = 0; oc->include_project && r < roots->n; r++) {
			if ((s = root_anchor(res, us, &seen, roots->v[r], u,
			    root, sizeof(root), &anchor, &top, &owner)) == -1)
				goto nomem;
			if (s == 1)
				continue;
			if (join(p, sizeof(p), root, ".opencode") == 0 &&
			    opencode_dir(conf, res, anchor, p, top,
			    owner) == -1)
				goto nomem;
			/*
			 * OpenCode reads a project's configuration at its
			 * root (SURFACES.md 13.6): the reference only looks
			 * in .opencode/ (kobangd.yaml(5), the differences).
			 */
			if (join(p, sizeof(p), root, "opencode.json") == 0 &&
			    agent_fixed(res, anchor, p, DISC_OPENCODE_CONFIG,
			    KIND_CONFIG_PROFILE, "opencode-config", top,
			    owner) == -1)
				goto nomem;
			if (join(p, sizeof(p), root, "opencode.jsonc") == 0 &&
			    agent_fixed(res, anchor, p, DISC_OPENCODE_CONFIG,
			    KIND_CONFIG_PROFILE, "opencode-config", top,
			    owner) == -1)
				goto nomem;
		}
		if (oc->include_managed_preferences &&
		    opencode_managed(res, u) == -1)
			goto nomem;
	}
	if (oc->include_managed_preferences &&
	    opencode_managed(res, NULL) == -1)
		goto nomem;
	strlist_free(&seen);
	return (0);
 nomem:
	strlist_free(&seen);
	res->enomem = 1;
	return (-1);
}

/* piConfig (SURFACES.md 4) */

static const struct agent_search pi_packages = {
	"package.json", NULL, 1, KIND_PLUGIN, "pi-package"
};

static int
discover_pi(const struct config *conf, const struct disc_users *us,
    struct disc_result *res)
{
	const struct config_pi	*pc = &conf->pi;
	const struct strlist	*roots = config_project_roots(conf,
				    SURFACE_PI);
	const struct disc_user	*u, *owner;
	struct strlist		 seen;
	char			 p[PATH_MAX], root[PATH_MAX];
	char			 ad[PATH_MAX];
	const char		*top;
	size_t			 i, r, anchor;
	int			 s;

	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < us->n; i++) {
		u = &us->v[i];
		if (pc->include_shared_global_mcp &&
		    join(p, sizeof(p), u->home, ".config/mcp/mcp.json") == 0 &&
		    seen_add(&seen, p) == 0) {
			if (res_anchor(res, u->home, u, &anchor) == -1 ||
			    agent_fixed(res, anchor, p, DISC_PI_MCP, 0, NULL,
			    u->home, u) == -1)
				goto nomem;
		}
		if ((s = agent_anchor(res, us, &seen, pc->agent_directory ?
		    pc->agent_directory : CONFIG_PI_AGENT_DIRECTORY, 1, u, ad,
		    sizeof(ad), &anchor, &top, &owner)) == -1)
			goto nomem;
		if (s == 0 && (res_watch_file(res, ad, top, owner) == -1 ||
		    (pc->include_pi_global_override &&
		    join(p, sizeof(p), ad, "mcp.json") == 0 &&
		    agent_fixed(res, anchor, p, DISC_PI_MCP, 0, NULL, top,
		    owner) == -1) ||
		    (join(p, sizeof(p), ad, "settings.json") == 0 &&
		    agent_fixed(res, anchor, p, DISC_PI_SETTINGS, 0, NULL, top,
		    owner) == -1) ||
		    (pc->include_packages && join(p, sizeof(p), ad,
		    "extensions") == 0 && agent_search_abs(res, anchor, p,
		    &pi_packages, top, owner) == -1)))
			goto nomem;
		for (r = 0; r < roots->n; r++) {
			if ((s = root_anchor(res, us, &seen, roots->v[r], u,
			    root, sizeof(root), &anchor, &top, &owner)) == -1)
				goto nomem;
			if (s == 1)
				continue;
			if (pc->include_shared_project_mcp &&
			    join(p, sizeof(p), root, ".mcp.json") == 0 &&
			    agent_fixed(res, anchor, p, DISC_PI_MCP, 0, NULL,
			    top, owner) == -1)
				goto nomem;
			if (pc->include_pi_project_override &&
			    join(p, sizeof(p), root, ".pi/mcp.json") == 0 &&
			    agent_fixed(res, anchor, p, DISC_PI_MCP, 0, NULL,
			    top, owner) == -1)
				goto nomem;
			if (join(p, sizeof(p), root, ".pi/settings.json") ==
			    0 && agent_fixed(res, anchor, p, DISC_PI_SETTINGS,
			    0, NULL, top, owner) == -1)
				goto nomem;
		}
	}
	strlist_free(&seen);
	return (0);
 nomem:
	strlist_free(&seen);
	res->enomem = 1;
	return (-1);
}

int
discover_surface(const struct config *conf, enum surface s,
    const struct disc_users *us, struct disc_result *res)
{
	memset(res, 0, sizeof(*res));
	res->surface = s;
	switch (s) {
	case SURFACE_CLAUDE:
		if (!conf->claude.enabled)
			return (0);
		return (discover_claude(conf, us, res));
	case SURFACE_JAVASCRIPT:
		if (!conf->javascript.enabled)
			return (0);
		return (discover_javascript(conf, us, res));
	case SURFACE_HOMEBREW:
		if (!conf->homebrew.enabled)
			return (0);
		return (discover_homebrew(conf, us, res));
	case SURFACE_CODEX:
		if (!conf->codex.enabled)
			return (0);
		return (discover_codex(conf, us, res));
	case SURFACE_CURSOR:
		if (!conf->cursor.enabled)
			return (0);
		return (discover_cursor(conf, us, res));
	case SURFACE_OPENCODE:
		if (!conf->opencode.enabled)
			return (0);
		return (discover_opencode(conf, us, res));
	case SURFACE_PI:
		if (!conf->pi.enabled)
			return (0);
		return (discover_pi(conf, us, res));
	case SURFACE_PYTHON:
		if (!conf->python.enabled)
			return (0);
		return (discover_python(conf, us, res));
	default:
		return (0);
	}
}
