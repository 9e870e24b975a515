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

struct disc_result;

enum watch_reason {
	WATCH_CHANGE,		/* a matching event */
	WATCH_OVERFLOW		/* events were lost: rescan */
};

typedef void	(*watch_hit_fn)(enum surface, enum watch_reason, void *);

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
/* Stop the backend, forget everything. */
void	 watch_shutdown(void);

#endif
