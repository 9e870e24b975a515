/*
 * Enrollment and the device identity, in the parent (PROTOCOL.md 4,
 * spec/README.md): the token from "kobanctl enroll", a root-only token
 * file (kobangd.enrollmentTokenFile) or sync.enrollmentToken, in that
 * order; the key made once; the request; the stored state; and the one
 * protected route of this stage, check-in (6.2, 6.3), made at start,
 * after every enrollment and on "kobanctl check-in".
 *
 * A token is used for enroll only, never logged or stored, and zeroed
 * once the attempt that needed it is over for good: enrolled, or refused
 * by the server.  Transport failures are retried with exponential
 * backoff and full jitter (sync.retryBaseSeconds to retryMaxSeconds),
 * or after the server's Retry-After if that is longer.
 */
#ifndef KOBANGD_ENROLL_H
#define KOBANGD_ENROLL_H

#include <sys/types.h>

#include <stddef.h>

struct kobangd;
struct ctl_identity;
struct imsg;
struct imsgbuf;

void	enroll_init(struct kobangd *);
void	enroll_shutdown(struct kobangd *);
int	enroll_state_identity(struct kobangd *, const char **, const char **,
	    const char **);
void	enroll_set_generation(struct kobangd *, const char *);
/* kobanctl enroll: copy the token and start an attempt; 0 or -1. */
int	enroll_with_token(struct kobangd *, const char *, char *, size_t);
/* kobanctl check-in; 0 or -1. */
int	enroll_checkin(struct kobangd *, char *, size_t);
void	enroll_identity(struct kobangd *, struct ctl_identity *);
/* IMSG_CTL_SHOW_IDENTITY, _ENROLL, _CHECKIN from a reader; 0 or -1. */
int	enroll_ctl(struct kobangd *, struct imsgbuf *, uid_t, struct imsg *,
	    char *, size_t);

#endif
