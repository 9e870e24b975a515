/*
 * The inotify backend of watch.h.  One inotify instance; a table of
 * watched directories keyed by watch descriptor, each with the interests
 * of the surfaces that asked for it.
 */

#include <sys/types.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "discover.h"
#include "event.h"
#include "log.h"
#include "slice.h"
#include "watch.h"

#define WATCH_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
			    IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | \
			    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | \
			    IN_ONLYDIR)

struct winterest {
	enum surface	 surface;
	char		*name;		/* NULL: flags decide */
	unsigned int	 flags;		/* DISC_W_*, WATCH_W_TREE */
	int		 extra;		/* the home signal scan's */
	const struct disc_user *user;	/* extra WATCH_W_TREE: whose rights */
};

struct wdir {
	struct wdir		*next;		/* hash chain */
	int			 wd;
	char			*path;
	struct winterest	*iv;
	size_t			 n;
	unsigned int		 surfaces;	/* bit per surface */
	unsigned int		 xsurfaces;	/* the same, extra interests */
};

struct wsurface {
	struct strlist		 names;
	struct strlist		 exclude;
	struct watch_health	 health;
	int			 overflowed;
	size_t			 xdirs;		/* extra: directories */
	int			 xdegraded;	/* by the home signal scan */
	char			 xmessage[160];
};

static int		 watch_fd = -1;
static watch_hit_fn	 watch_hit;
static void		*watch_arg;
static struct wdir	**buckets;
static size_t		 nbuckets, ndirs;
static struct wsurface	 wsurf[SURFACE_COUNT];
static size_t		 tree_left;	/* WATCH_W_TREE directories to go */

#define WATCH_TREE_DEPTH	64	/* below a created directory */

static void	watch_read(int, short, void *);
static void	watch_tree_grow(struct wdir *, const char *);
static void	health_msg(enum surface, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));

/* The surface's own watch message, or (extra) the home signal scan's. */
static void
health_msg(enum surface s, int extra, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (extra)
		(void)vsnprintf(wsurf[s].xmessage, sizeof(wsurf[s].xmessage),
		    fmt, ap);
	else
		(void)vsnprintf(wsurf[s].health.message,
		    sizeof(wsurf[s].health.message), fmt, ap);
	va_end(ap);
}

static size_t
hash_wd(int wd)
{
	return ((size_t)((unsigned int)wd * 2654435761U) % nbuckets);
}

static struct wdir *
wdir_find(int wd)
{
	struct wdir	*d;

	if (nbuckets == 0)
		return (NULL);
	for (d = buckets[hash_wd(wd)]; d != NULL; d = d->next)
		if (d->wd == wd)
			return (d);
	return (NULL);
}

static int
wdir_rehash(void)
{
	struct wdir	**nb, *d, *next;
	size_t		  nn = nbuckets ? nbuckets * 2 : 256, i, old = nbuckets;
	struct wdir	**ob = buckets;

	if ((nb = calloc(nn, sizeof(*nb))) == NULL)
		return (-1);
	buckets = nb;
	nbuckets = nn;
	for (i = 0; i < old; i++)
		for (d = ob[i]; d != NULL; d = next) {
			next = d->next;
			d->next = buckets[hash_wd(d->wd)];
			buckets[hash_wd(d->wd)] = d;
		}
	free(ob);
	return (0);
}

static void
wdir_free(struct wdir *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		free(d->iv[i].name);
	free(d->iv);
	free(d->path);
	free(d);
}

static void
wdir_unlink(struct wdir *d)
{
	struct wdir	**pp;

	for (pp = &buckets[hash_wd(d->wd)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			ndirs--;
			return;
		}
}

int
watch_init(watch_hit_fn fn, void *arg)
{
	watch_hit = fn;
	watch_arg = arg;
	if ((watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("inotify_init1");
		return (-1);
	}
	if (ev_fd_add(watch_fd, POLLIN, NULL, watch_read, NULL) == -1) {
		log_warn("watch");
		close(watch_fd);
		watch_fd = -1;
		return (-1);
	}
	return (0);
}

/* The names may be globs (pythonPackages' requirementFileGlobs). */
static int
names_match(const struct strlist *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (disc_glob_match(l->v[i], s))
			return (1);
	return (0);
}

/* Drop the surface's interests; directories nobody wants are unwatched. */
static void
watch_drop_surface(enum surface s)
{
	struct wdir	*d, *next;
	size_t		 i, j, b;

	for (b = 0; b < nbuckets; b++)
		for (d = buckets[b]; d != NULL; d = next) {
			next = d->next;
			if (!(d->surfaces & (1U << s)))
				continue;
			for (i = j = 0; i < d->n; i++) {
				if (d->iv[i].surface == s && !d->iv[i].extra) {
					free(d->iv[i].name);
					continue;
				}
				d->iv[j++] = d->iv[i];
			}
			d->n = j;
			d->surfaces &= ~(1U << s);
		}
}

static void
watch_sweep(void)
{
	struct wdir	*d, *next;
	size_t		 b;

	for (b = 0; b < nbuckets; b++)
		for (d = buckets[b]; d != NULL; d = next) {
			next = d->next;
			if (d->n > 0)
				continue;
			(void)inotify_rm_watch(watch_fd, d->wd);
			wdir_unlink(d);
			wdir_free(d);
		}
}

static int
watch_interest(struct wdir *d, enum surface s, const char *name,
    unsigned int flags, int extra, const struct disc_user *user)
{
	struct winterest	*iv;
	size_t			 i;

	for (i = 0; i < d->n; i++)
		if (d->iv[i].surface == s && d->iv[i].flags == flags &&
		    d->iv[i].extra == extra &&
		    ((name == NULL && d->iv[i].name == NULL) ||
		    (name != NULL && d->iv[i].name != NULL &&
		    strcmp(name, d->iv[i].name) == 0)))
			return (0);
	if ((iv = reallocarray(d->iv, d->n + 1, sizeof(*iv))) == NULL)
		return (-1);
	d->iv = iv;
	d->iv[d->n].surface = s;
	d->iv[d->n].flags = flags;
	d->iv[d->n].extra = extra;
	d->iv[d->n].user = extra ? user : NULL;
	d->iv[d->n].name = NULL;
	if (name != NULL && (d->iv[d->n].name = strdup(name)) == NULL)
		return (-1);
	d->n++;
	if (extra) {
		if (!(d->xsurfaces & (1U << s))) {
			d->xsurfaces |= 1U << s;
			wsurf[s].xdirs++;
		}
	} else if (!(d->surfaces & (1U << s))) {
		d->surfaces |= 1U << s;
		wsurf[s].health.ndirs++;
	}
	return (0);
}

static int
path_within(const char *path, const char *top)
{
	size_t	l = strlen(top);

	if (strcmp(top, "/") == 0)
		return (path[0] == '/');
	return (strncmp(path, top, l) == 0 &&
	    (path[l] == '\0' || path[l] == '/'));
}

/*
 * Watch one request's directory, or its nearest existing ancestor within
 * top for the next component.  0 done (or nothing to watch), -1 failed.
 */
static int
watch_request(enum surface s, const struct disc_watch *w, int extra)
{
	struct wdir	*d;
	char		 dir[PATH_MAX], name[NAME_MAX + 1];
	const char	*nm = w->name;
	unsigned int	 flags = w->flags;
	char		*slash;
	int		 wd, err, climbed = 0;

	if (strlcpy(dir, w->dir, sizeof(dir)) >= sizeof(dir))
		return (-1);
	for (;;) {
		if (disc_become(w->user) == -1) {
			err = errno;
			log_warnx("watch %s: cannot take on the rights of "
			    "user %s: %s", dir, w->user->name, strerror(err));
			return (-1);
		}
		wd = inotify_add_watch(watch_fd, dir, WATCH_MASK);
		err = errno;
		disc_restore();
		if (wd != -1)
			break;
		if (err == ENOSPC) {
			health_msg(s, extra, "inotify watch limit reached "
			    "at %s", dir);
			return (-1);
		}
		if (err != ENOENT && err != ENOTDIR) {
			/* Unreadable for the user: nothing to see there. */
			if (err == EACCES)
				return (0);
			health_msg(s, extra, "cannot watch %s: %s", dir,
			    strerror(err));
			return (-1);
		}
		/* Missing: watch the parent for this component. */
		if (strcmp(dir, w->top) == 0 || !path_within(dir, w->top) ||
		    (slash = strrchr(dir, '/')) == NULL ||
		    strlen(slash + 1) > NAME_MAX)
			return (0);
		strlcpy(name, slash + 1, sizeof(name));
		if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		nm = name;
		flags = 0;
		if (++climbed > 64)
			return (0);
	}
	if ((d = wdir_find(wd)) == NULL) {
		if (ndirs + 1 > nbuckets * 2 && wdir_rehash() == -1)
			return (-1);
		if ((d = calloc(1, sizeof(*d))) == NULL ||
		    (d->path = strdup(dir)) == NULL) {
			free(d);
			return (-1);
		}
		d->wd = wd;
		d->next = buckets[hash_wd(wd)];
		buckets[hash_wd(wd)] = d;
		ndirs++;
	}
	return (watch_interest(d, s, nm, flags, extra, w->user));
}

/* Drop every extra interest; directories nobody wants are unwatched. */
static void
watch_drop_extra(void)
{
	struct wdir	*d;
	size_t		 i, j, b;
	int		 s;

	for (b = 0; b < nbuckets; b++)
		for (d = buckets[b]; d != NULL; d = d->next) {
			if (d->xsurfaces == 0)
				continue;
			for (i = j = 0; i < d->n; i++) {
				if (d->iv[i].extra) {
					free(d->iv[i].name);
					continue;
				}
				d->iv[j++] = d->iv[i];
			}
			d->n = j;
			d->xsurfaces = 0;
		}
	watch_sweep();
	for (s = 0; s < SURFACE_COUNT; s++) {
		wsurf[s].xdirs = 0;
		wsurf[s].xdegraded = 0;
		wsurf[s].xmessage[0] = '\0';
	}
	tree_left = 0;
}

struct tree_interest {
	enum surface		 surface;
	unsigned int		 flags;
	const struct disc_user	*user;
};

/* The whole-root watch cannot grow: say so, once per directory. */
static void
tree_spent(const char *path, const struct tree_interest *tv, size_t n)
{
	size_t	i;

	log_warnx("watch: home signal scan: directory budget spent; not "
	    "every directory in %s is watched", path);
	for (i = 0; i < n; i++) {
		wsurf[tv[i].surface].xdegraded = 1;
		health_msg(tv[i].surface, 1, "home signal scan: directory "
		    "budget spent; new directories are not watched");
	}
}

/*
 * A directory beneath a whole-root watch (WATCH_W_TREE): watch it and,
 * as its user, the subdirectories it already has (created before our
 * watch could see them), symbolic links not followed, within tree_left.
 */
static void
watch_tree(const char *path, const struct tree_interest *tv, size_t n,
    int depth)
{
	struct disc_watch	 w;
	struct dirent		*de;
	struct stat		 sb;
	DIR			*dp;
	char			**sub = NULL, **nsub, child[PATH_MAX];
	size_t			 i, nsubs = 0;
	int			 fd, isdir, over = 0;

	if (tree_left == 0) {
		tree_spent(path, tv, n);
		return;
	}
	tree_left--;
	memset(&w, 0, sizeof(w));
	w.dir = w.top = (char *)path;
	for (i = 0; i < n; i++) {
		w.flags = tv[i].flags;
		w.user = tv[i].user;
		if (watch_request(tv[i].surface, &w, 1) == -1) {
			wsurf[tv[i].surface].xdegraded = 1;
			if (wsurf[tv[i].surface].xmessage[0] == '\0')
				health_msg(tv[i].surface, 1, "home signal "
				    "scan: a new directory could not be "
				    "watched");
		}
	}
	if (depth >= WATCH_TREE_DEPTH || disc_become(tv[0].user) == -1)
		return;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || (dp = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		disc_restore();
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_UNKNOWN)
			isdir = fstatat(dirfd(dp), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode);
		else
			isdir = de->d_type == DT_DIR;
		if (!isdir)
			continue;
		if (nsubs >= tree_left) {
			over = 1;
			continue;
		}
		if ((nsub = reallocarray(sub, nsubs + 1, sizeof(*sub))) ==
		    NULL)
			break;
		sub = nsub;
		if ((sub[nsubs] = strdup(de->d_name)) == NULL)
			break;
		nsubs++;
	}
	closedir(dp);
	disc_restore();
	if (over)
		tree_spent(path, tv, n);
	for (i = 0; i < nsubs; i++) {
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", path,
		    sub[i]) < sizeof(child))
			watch_tree(child, tv, n, depth + 1);
		free(sub[i]);
	}
	free(sub);
}

/* A directory appeared in d: under a whole-root watch, watch it too. */
static void
watch_tree_grow(struct wdir *d, const char *name)
{
	struct tree_interest	 tv[SURFACE_COUNT];
	char			 path[PATH_MAX];
	size_t			 i, n = 0;

	for (i = 0; i < d->n && n < nitems(tv); i++)
		if (d->iv[i].extra && (d->iv[i].flags & WATCH_W_TREE)) {
			tv[n].surface = d->iv[i].surface;
			tv[n].flags = d->iv[i].flags;
			tv[n].user = d->iv[i].user;
			n++;
		}
	if (n == 0 || (size_t)snprintf(path, sizeof(path), "%s/%s", d->path,
	    name) >= sizeof(path))
		return;
	watch_tree(path, tv, n, 0);
}

int
watch_set_extra(const struct watch_extra *v, size_t n, size_t tree_max,
    unsigned int degraded, const char *why)
{
	unsigned int	 failed = 0;
	size_t		 i;
	int		 s;

	if (watch_fd == -1)
		return (-1);
	watch_drop_extra();
	tree_left = tree_max;
	for (s = 0; s < SURFACE_COUNT; s++)
		if (degraded & (1U << s)) {
			wsurf[s].xdegraded = 1;
			strlcpy(wsurf[s].xmessage, why,
			    sizeof(wsurf[s].xmessage));
		}
	for (i = 0; i < n; i++) {
		if ((v[i].w.flags & WATCH_W_TREE) && tree_left > 0)
			tree_left--;
		for (s = 0; s < SURFACE_COUNT; s++)
			if ((v[i].surfaces & (1U << s)) &&
			    watch_request((enum surface)s, &v[i].w, 1) == -1)
				failed |= 1U << s;
	}
	watch_sweep();
	for (s = 0; s < SURFACE_COUNT; s++)
		if ((failed & (1U << s)) && !wsurf[s].xdegraded) {
			wsurf[s].xdegraded = 1;
			if (wsurf[s].xmessage[0] == '\0')
				strlcpy(wsurf[s].xmessage, "home signal scan: "
				    "some paths could not be watched",
				    sizeof(wsurf[s].xmessage));
		}
	return (failed ? -1 : 0);
}

void
watch_clear_extra(void)
{
	if (watch_fd != -1)
		watch_drop_extra();
}

int
watch_set(enum surface s, const struct disc_result *res)
{
	struct wsurface	*ws = &wsurf[s];
	size_t		 i;

	if (watch_fd == -1)
		return (-1);
	watch_drop_surface(s);
	ws->health.ndirs = 0;
	ws->health.nfailed = 0;
	ws->health.message[0] = '\0';
	/* Replaced, not added to. */
	strlist_free(&ws->names);
	strlist_free(&ws->exclude);
	if (strlist_copy(&ws->names, &res->wnames) == -1 ||
	    strlist_copy(&ws->exclude, &res->wexclude) == -1) {
		watch_sweep();
		ws->health.degraded = 1;
		strlcpy(ws->health.message, "out of memory",
		    sizeof(ws->health.message));
		return (-1);
	}
	for (i = 0; i < res->nwatches; i++) {
		/* Inside discovery's slice job (sensor.c): its turns. */
		if (slice_pause() == -1)
			break;
		if (watch_request(s, &res->watches[i], 0) == -1)
			ws->health.nfailed++;
	}
	watch_sweep();
	/* A rescan after an overflow catches up; the watch is whole again. */
	ws->overflowed = 0;
	ws->health.degraded = ws->health.nfailed > 0;
	if (ws->health.degraded && ws->health.message[0] == '\0')
		snprintf(ws->health.message, sizeof(ws->health.message),
		    "%zu directories could not be watched",
		    ws->health.nfailed);
	return (ws->health.degraded ? -1 : 0);
}

void
watch_clear(enum surface s)
{
	watch_drop_surface(s);
	watch_sweep();
	memset(&wsurf[s].health, 0, sizeof(wsurf[s].health));
}

void
watch_get_health(enum surface s, struct watch_health *h)
{
	*h = wsurf[s].health;
	h->ndirs += wsurf[s].xdirs;
	if (wsurf[s].xdegraded) {
		/* The surface's own reason first; the scan's otherwise. */
		if (!h->degraded || h->message[0] == '\0')
			strlcpy(h->message, wsurf[s].xmessage,
			    sizeof(h->message));
		h->degraded = 1;
	}
	if (watch_fd == -1) {
		h->degraded = 1;
		strlcpy(h->message, "no watcher: polling only",
		    sizeof(h->message));
	}
}

static void
watch_hit_all(enum watch_reason why)
{
	int	s;

	for (s = 0; s < SURFACE_COUNT; s++)
		watch_hit((enum surface)s, why, NULL, watch_arg);
}

static int
interest_matches(const struct winterest *in, const struct inotify_event *ev)
{
	const struct wsurface	*ws = &wsurf[in->surface];

	if (ev->len == 0 || ev->name[0] == '\0')
		return (0);
	if (in->name != NULL)
		return (strcmp(in->name, ev->name) == 0);
	if (in->flags & DISC_W_ANY)
		return (1);
	if ((in->flags & DISC_W_SUBDIR) && (ev->mask & IN_ISDIR) &&
	    !strlist_has(&ws->exclude, ev->name))
		return (1);
	if ((in->flags & DISC_W_NAMES) && names_match(&ws->names, ev->name))
		return (1);
	return (0);
}

static void
watch_event(const struct inotify_event *ev)
{
	struct wdir	*d;
	unsigned int	 hit = 0;
	size_t		 i;
	int		 s;
	char		 path[PATH_MAX];
	const char	*file = NULL;

	if (ev->mask & IN_Q_OVERFLOW) {
		log_warnx("watch: event queue overflow; rescanning "
		    "everything");
		for (s = 0; s < SURFACE_COUNT; s++) {
			wsurf[s].overflowed = 1;
			wsurf[s].health.degraded = 1;
			strlcpy(wsurf[s].health.message, "events dropped",
			    sizeof(wsurf[s].health.message));
		}
		watch_hit_all(WATCH_OVERFLOW);
		return;
	}
	if ((d = wdir_find(ev->wd)) == NULL)
		return;
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF |
	    IN_UNMOUNT) || (ev->len == 0 && (ev->mask & IN_ATTRIB))) {
		/* The directory itself went or changed: all who watch it. */
		hit = d->surfaces | d->xsurfaces;
	} else {
		for (i = 0; i < d->n; i++)
			if (interest_matches(&d->iv[i], ev))
				hit |= 1U << d->iv[i].surface;
	}
	/* What changed, for whoever runs with -v (before d may go). */
	if (hit != 0)
		log_debug("watch: %s%s%s changed (mask 0x%x)", d->path,
		    ev->len > 0 && ev->name[0] != '\0' ? "/" : "",
		    ev->len > 0 ? ev->name : "", ev->mask);
	if (ev->mask & IN_IGNORED) {
		/* The kernel dropped the watch; so do we. */
		wdir_unlink(d);
		for (s = 0; s < SURFACE_COUNT; s++) {
			if (d->surfaces & (1U << s))
				wsurf[s].health.ndirs--;
			if (d->xsurfaces & (1U << s))
				wsurf[s].xdirs--;
		}
		wdir_free(d);
	} else if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE |
	    IN_MOVED_TO)) && ev->len > 0 && ev->name[0] != '\0')
		watch_tree_grow(d, ev->name);
	if (hit == 0)
		return;
	/* A file's contents, and nothing else, may have changed. */
	if (ev->len > 0 && ev->name[0] != '\0' && !(ev->mask & IN_ISDIR) &&
	    !(ev->mask & (IN_DELETE | IN_MOVED_FROM | IN_IGNORED)) &&
	    (ev->mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB |
	    IN_MOVED_TO | IN_CREATE)) &&
	    snprintf(path, sizeof(path), "%s/%s", d->path, ev->name) <
	    (int)sizeof(path))
		file = path;
	for (s = 0; s < SURFACE_COUNT; s++)
		if (hit & (1U << s))
			watch_hit((enum surface)s, WATCH_CHANGE, file,
			    watch_arg);
}

static void
watch_read(int fd, short revents, void *arg)
{
	char				 buf[65536]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	ssize_t				 n;
	size_t				 off;

	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("watch: read");
			return;
		}
		if (n == 0)
			return;
		for (off = 0; off + sizeof(*ev) <= (size_t)n; ) {
			ev = (const struct inotify_event *)(buf + off);
			if (off + sizeof(*ev) + ev->len > (size_t)n)
				break;
			watch_event(ev);
			off += sizeof(*ev) + ev->len;
		}
	}
}

void
watch_shutdown(void)
{
	struct wdir	*d, *next;
	size_t		 b;
	int		 s;

	for (b = 0; b < nbuckets; b++)
		for (d = buckets[b]; d != NULL; d = next) {
			next = d->next;
			wdir_free(d);
		}
	free(buckets);
	buckets = NULL;
	nbuckets = ndirs = 0;
	tree_left = 0;
	for (s = 0; s < SURFACE_COUNT; s++) {
		strlist_free(&wsurf[s].names);
		strlist_free(&wsurf[s].exclude);
		memset(&wsurf[s], 0, sizeof(wsurf[s]));
	}
	if (watch_fd != -1) {
		ev_fd_del(watch_fd);
		close(watch_fd);
		watch_fd = -1;
	}
}
