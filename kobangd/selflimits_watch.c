/*
 * The parent's memory watch (selflimits.c has the caps and the rlimits
 * every process applies to itself).  Apart from selflimits.c so that a
 * child image, which applies its limits but watches nobody, does not
 * link the parent's code.
 */

#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>

#include "event.h"
#include "kobangd.h"
#include "log.h"
#include "selflimits.h"

static struct ev_timer	watch_timer;

/*
 * Every LIMITS_WATCH_MSEC: the resident size of each running child.  A
 * child whose channel is closed is dying already and is left alone.
 * Until the parent reaps a child its pid cannot be reused, so the
 * /proc entry read is that child's.
 */
static void
limits_watch(void *arg)
{
	struct kobangd	*kd = arg;
	struct child	*c;
	char		 why[128];
	uint64_t	 rss, cap;
	int		 i;

	for (i = 0; i < CHILD_COUNT; i++) {
		c = &kd->children[i];
		if (c->pid <= 0 || !c->channel_open)
			continue;
		if (limits_proc_rss(c->pid, &rss) == -1)
			continue;
		c->mem_rss_kb = rss;
		cap = limits_cap_kb(c->name);
		if (cap == 0 || rss <= cap)
			continue;
		c->mem_restarts++;
		snprintf(why, sizeof(why), "resident memory %" PRIu64
		    " kB over its cap of %" PRIu64 " kB", rss, cap);
		parent_child_broken(kd, c, why);
	}
	ev_timer_add(&watch_timer, LIMITS_WATCH_MSEC);
}

void
limits_watch_init(struct kobangd *kd)
{
	int	i;

	for (i = 0; i < CHILD_COUNT; i++)
		log_debug("memory cap of %s: %" PRIu64 " kB%s",
		    kd->children[i].name, limits_cap_kb(kd->children[i].name),
		    limits_cap_kb(kd->children[i].name) == 0 ?
		    " (not watched)" : "");
	ev_timer_init(&watch_timer, limits_watch, kd);
	ev_timer_add(&watch_timer, LIMITS_WATCH_MSEC);
}
