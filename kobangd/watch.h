/*
 * Watching (SURFACES.md 10): tell the pipeline which surface may have
 * changed.  The interface is backend-neutral (a kqueue or FSEvents
 * backend implements the same five functions); watch.c is inotify.
 *
 * A surface's watch set is replaced after each of its discoveries by the
 * discovery's requests (struct disc_watch): a directory and what in it
 * matters -- one entry name, any entry, a subdirectory that comes or goes
 * (not an excluded name), or an entry named as one of the surface's file
 * names.  A requested directory that does not exist is watched from its
 * nearest existing ancestor (no higher than the request's top) for the
 * next path component, so a project root or ~/.claude that appears later
 * triggers a rediscovery, which then watches it.  Directories are added
 * with the rights of the user they belong to.
 *
 * Event path filtering happens here: only events that match a request
 * reach the callback.  A queue overflow reports every surface with
 * WATCH_OVERFLOW (rescan everything) and marks every surface's watch
 * health degraded until its next watch set is applied.
 */
#ifndef KOBANGD_WATCH_H
#define KOBANGD_WATCH_H

#include <stddef.h>

#include "vocab.h"

#include "discover.h"

struct disc_result;

enum watch_reason {
	WATCH_CHANGE,		/* a matching event */
	WATCH_OVERFLOW		/* events were lost: rescan */
};

/*
 * path: the file whose contents may have changed (written, replaced,
 * its times or mode changed), when that is all the event says; NULL
 * when more may have changed (a name created or removed, a directory,
 * lost events).
 */
typedef void	(*watch_hit_fn)(enum surface, enum watch_reason, const char *,
		    void *);

struct watch_health {
	size_t		 ndirs;		/* directories watched for it */
	size_t		 nfailed;	/* requests that could not be watched */
	int		 degraded;
	char		 message[160];	/* "" when healthy */
};

/* Start the backend and register it with the event loop.  0 or -1. */
int	 watch_init(watch_hit_fn, void *);
/* Replace the surface's watch set with a discovery's requests. */
int	 watch_set(enum surface, const struct disc_result *);
/* Forget everything the surface watches (surface disabled). */
void	 watch_clear(enum surface);
void	 watch_get_health(enum surface, struct watch_health *);
/*
 * Extra watches of the home signal scan (SURFACES.md 9, homesignal.h),
 * kept apart from the surfaces' own: watch_set() leaves them alone and
 * watch_set_extra() replaces them all.  Each request is watched for
 * every surface in its mask; one with WATCH_W_TREE (and DISC_W_ANY) is
 * a directory of a whole-root watch: a subdirectory created in it later
 * is watched alike, with the request's user, while tree_max directories
 * (the requests included) are not spent.  degraded: the surfaces whose
 * watch health the scan marks degraded, with why; it stays until the
 * next call.  The users the requests point to must stay valid until the
 * next call, watch_clear_extra() or watch_shutdown().  0, or -1 when a
 * request could not be watched (that surface is then degraded too).
 */
#define WATCH_W_TREE	0x100

struct watch_extra {
	struct disc_watch	 w;		/* dir, name, flags, top, user */
	unsigned int		 surfaces;	/* bit per surface */
};

int	 watch_set_extra(const struct watch_extra *, size_t, size_t,
	    unsigned int, const char *);
void	 watch_clear_extra(void);
/* Stop the backend, forget everything. */
void	 watch_shutdown(void);

#endif
