/*
 * UTC timestamps with millisecond precision.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "timefmt.h"

/* 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in seconds. */
#define TIMEFMT_MIN_SEC	(-62167219200LL)
#define TIMEFMT_END_SEC	(253402300800LL)

static int
fmt(int64_t sec, long ms, char out[TIMEFMT_BUFSZ])
{
	struct tm	tm;
	time_t		t;
	int		n;

	out[0] = '\0';
	if (sec < TIMEFMT_MIN_SEC || sec >= TIMEFMT_END_SEC ||
	    ms < 0 || ms > 999) {
		errno = EOVERFLOW;
		return (-1);
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL)
		return (-1);
	n = snprintf(out, TIMEFMT_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ms);
	if (n != TIMEFMT_LEN) {
		out[0] = '\0';
		errno = EOVERFLOW;
		return (-1);
	}
	return (0);
}

int
timefmt_timespec(const struct timespec *ts, char out[TIMEFMT_BUFSZ])
{
	if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L) {
		out[0] = '\0';
		errno = EINVAL;
		return (-1);
	}
	/* Truncate: 1.9999 s is .999, never 2.000. */
	return (fmt((int64_t)ts->tv_sec, ts->tv_nsec / 1000000L, out));
}

int
timefmt_ms(int64_t ms, char out[TIMEFMT_BUFSZ])
{
	int64_t	sec = ms / 1000, rem = ms % 1000;

	/* Floor, so instants before the epoch keep a positive fraction. */
	if (rem < 0) {
		rem += 1000;
		sec -= 1;
	}
	return (fmt(sec, (long)rem, out));
}

int
timefmt_now(char out[TIMEFMT_BUFSZ])
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1) {
		out[0] = '\0';
		return (-1);
	}
	return (timefmt_timespec(&ts, out));
}

int64_t
timefmt_timespec_ms(const struct timespec *ts)
{
	return ((int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000L);
}
