/*
 * Agent-produced timestamps (PROTOCOL.md 3.1): UTC, exactly three
 * fractional digits, truncated (never rounded), trailing 'Z':
 * YYYY-MM-DDTHH:MM:SS.mmmZ
 */
#ifndef KOBANG_TIMEFMT_H
#define KOBANG_TIMEFMT_H

#include <stdint.h>
#include <time.h>

#define TIMEFMT_LEN	24
#define TIMEFMT_BUFSZ	(TIMEFMT_LEN + 1)

/* 0 on success; -1 (EINVAL/EOVERFLOW) outside years 0000..9999. */
int	 timefmt_timespec(const struct timespec *, char [TIMEFMT_BUFSZ]);
/* Milliseconds since the epoch, as the store keeps them. */
int	 timefmt_ms(int64_t, char [TIMEFMT_BUFSZ]);
/* The current CLOCK_REALTIME time. */
int	 timefmt_now(char [TIMEFMT_BUFSZ]);
/* Milliseconds since the epoch of a timespec, truncated toward the past. */
int64_t	 timefmt_timespec_ms(const struct timespec *);

#endif
