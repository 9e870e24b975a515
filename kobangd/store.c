/*
 * The state database.  First cut: the API compiles and every call fails
 * cleanly; the SQLite implementation follows.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "compat.h"
#include "store.h"

struct store {
	int	 rebuilt;
};

struct store *
store_open(const char *dir, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: state database not implemented yet", dir);
	errno = ENOSYS;
	return (NULL);
}

void
store_close(struct store *st)
{
	free(st);
}

int
store_rebuilt(const struct store *st)
{
	return (st->rebuilt);
}

const char *
store_path(const struct store *st)
{
	return ("");
}

int
store_baselined(struct store *st, enum surface s)
{
	return (-1);
}

int
store_load_snapshot(struct store *st, enum surface s, struct item **v,
    size_t *n)
{
	*v = NULL;
	*n = 0;
	return (-1);
}

void
store_items_free(struct item *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].version);
		free(v[i].path);
		free(v[i].origin);
		free(v[i].detail);
	}
	free(v);
}

int
store_held(void *arg, enum surface s, const char *item_id,
    const char *rule_id)
{
	return (-1);
}

int
store_commit_scan(struct store *st, const struct store_scan *sc,
    struct store_commit_result *res)
{
	return (-1);
}

int
store_note_scan_failure(struct store *st, enum surface s, int64_t at_ms,
    int64_t duration_ms, const char *message)
{
	return (-1);
}

int
store_query_inventory(struct store *st, int s, const char *home,
    store_item_cb cb, void *arg)
{
	return (-1);
}

int
store_query_events(struct store *st, size_t limit, const char *home,
    store_event_cb cb, void *arg)
{
	return (-1);
}

int
store_query_findings(struct store *st, int min_severity, const char *home,
    size_t limit, store_finding_cb cb, void *arg)
{
	return (-1);
}

int
store_query_surfaces(struct store *st, store_surface_cb cb, void *arg)
{
	return (-1);
}

int
store_outbox_stats(struct store *st, const char *device_id,
    struct store_outbox_stats *os)
{
	return (-1);
}

int
store_query_outbox(struct store *st, const char *device_id, int64_t after,
    size_t limit, store_outbox_cb cb, void *arg)
{
	return (-1);
}

const char *
store_outbox_state_name(enum store_outbox_state s)
{
	static const char *names[] = { "pending", "inFlight", "acked",
	    "poison" };

	if ((unsigned int)s >= nitems(names))
		return (NULL);
	return (names[s]);
}
