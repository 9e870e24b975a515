/*
 * Item identity and the differ (RULES.md 2.1, 7).
 *
 * differ_diff() compares the stored snapshot of one surface with a new
 * one and returns added (by id ascending), then removed (by id
 * ascending), then modified (by id ascending).  Where a snapshot holds
 * the same id twice, the first occurrence wins and the others are
 * ignored (the reference would list both; see spec/README.md).  The
 * changes point into the two input arrays, which must outlive them;
 * free the array itself with free(3).
 */
#ifndef KOBANG_DIFFER_H
#define KOBANG_DIFFER_H

#include <stddef.h>

#include "item.h"

struct change {
	enum change_kind	 kind;
	const struct item	*old;	/* removed, modified; NULL for added */
	const struct item	*new;	/* added, modified; NULL for removed */
	/*
	 * An addition that is a late baseline: the file could not be read
	 * during its surface's baseline, and this is its first good read.
	 * Stored and sent like a baseline item: no change event, no change
	 * rule (the differ never sets it; sensor_inc.c and sensor.c do).
	 */
	int			 quiet;
};

/* Mark the additions among n changes quiet (a late baseline). */
void	 differ_quiet_added(struct change *, size_t);

/* Whether a version change makes a new item (package surfaces). */
int	 item_version_defines_identity(enum surface);
/*
 * surface/kind/path/name, plus "/" version (nil as "") on the package
 * surfaces.  Allocated; NULL with errno on failure.
 */
char	*item_id(const struct item *);
/* strcmp(item_id(a), item_id(b)) without building the ids. */
int	 item_id_cmp(const struct item *, const struct item *);
/* All eight fields equal, strings byte for byte, nil distinct from "". */
int	 item_equal(const struct item *, const struct item *);

/* 0 on success, -1 with errno (ENOMEM, EOVERFLOW). */
int	 differ_diff(const struct item *, size_t, const struct item *, size_t,
	    struct change **, size_t *);

/*
 * The local activity feed text of a change (RULES.md 7.1): the origin for
 * added and removed; for modified "old → new" of the versions if they
 * differ (nil shown as "?"), else of the origins if they differ, else the
 * new origin.  Allocated; NULL with errno on failure.
 */
char	*differ_change_detail(const struct change *);

#endif
