/*
 * The sync round, in the parent (PROTOCOL.md 6, 9, 10; spec/README.md):
 * on the check-in interval, right after enrollment and on "kobanctl
 * sync", one exchange: a batch of due outbox rows to the sync route,
 * or, with nothing due, a check-in.  Acks are scoped by device id;
 * batch limits are the smaller of the configuration's and the server's
 * last; Retry-After and retryAfterSeconds are honoured; failures back
 * off exponentially with full jitter; no request leaves within a second
 * of the last, except the next batch after an answer that settled every
 * event of its batch without asking to wait: a backlog drains one
 * request at a time, as fast as the server answers.  Rows in flight at a crash go back to pending at start.
 *
 * Unlike the reference, a batch holds only rows of the current device
 * id (the server checks it against the client certificate; rows of an
 * earlier identity stay in the outbox unsent), and a quarantined
 * event's reason is logged and shown by "kobanctl show sync" but not
 * stored: the outbox table has no column for it.
 */
#ifndef KOBANGD_SYNC_H
#define KOBANGD_SYNC_H

#include <sys/types.h>

#include <stddef.h>

struct kobangd;
struct imsg;
struct imsgbuf;
struct proto_health;

/* After sensor_init() and enroll_init(). */
void	sync_init(struct kobangd *);
void	sync_shutdown(struct kobangd *);
void	sync_reconfigured(struct kobangd *);
int	sync_enrolling(struct kobangd *, const char *);
/*
 * Just enrolled: the identity becomes the effective sync.tenantID and
 * sync.deviceID (so the sensor writes outbox rows), the stored inventory
 * is queued as `added` events for it (spec/README.md), and a round
 * starts soon.  A stored identity is taken at sync_init().
 */
void	sync_identity(struct kobangd *, const char *tenant,
	    const char *device);
/*
 * fullResnapshotRequested (10.2, spec/README.md): the stored inventory
 * queued as `added` events, every surface rescanned, a round soon.
 */
void	sync_resnapshot(struct kobangd *);
/* Start a round as soon as the once-a-second rule allows. */
void	sync_kick(struct kobangd *);
void	sync_hold(struct kobangd *, long long);
long long sync_held(struct kobangd *);
/* 6.1 for this device (0/0 without an outbox). */
void	sync_health(struct proto_health *);
/* IMSG_CTL_SHOW_SYNC from a reader, IMSG_CTL_SYNC from root; 0 or -1. */
int	sync_ctl(struct kobangd *, struct imsgbuf *, uid_t, struct imsg *,
	    char *, size_t);

#endif
