/*
 * Logging for every kobangd process, after OpenBSD's log.c.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_debug_mode;
static int		 log_verbose;
static const char	*log_procname;

static void	vwarn_errno(int, const char *, va_list)
		    __attribute__((__format__ (printf, 2, 0)));
static void	vfatalc(int, const char *, va_list)
		    __attribute__((__format__ (printf, 2, 0)));

void
log_init(int n_debug, int facility)
{
	extern char	*__progname;

	log_debug_mode = n_debug;
	log_verbose = n_debug;
	log_procinit(__progname);

	if (!log_debug_mode)
		/* Connect now: a sandboxed child cannot open a socket later. */
		openlog(__progname, LOG_PID | LOG_NDELAY, facility);

	tzset();
}

void
log_procinit(const char *procname)
{
	if (procname != NULL)
		log_procname = procname;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 buf[1024];
	int	 saved_errno = errno;

	if (log_debug_mode) {
		char	msg[960];
		int	n;

		/* One write per line keeps lines of several processes whole. */
		(void)vsnprintf(msg, sizeof(msg), fmt, ap);
		n = snprintf(buf, sizeof(buf), "%s: %s\n",
		    log_procname ? log_procname : "kobangd", msg);
		if (n > 0 && write(STDERR_FILENO, buf, (size_t)n < sizeof(buf) ?
		    (size_t)n : sizeof(buf) - 1) == -1) {
			/* Nowhere left to say it. */
		}
	} else
		vsyslog(pri, fmt, ap);

	errno = saved_errno;
}

static void
vwarn_errno(int pri, const char *emsg, va_list ap)
{
	char	*nfmt;
	int	 saved_errno = errno;

	if (emsg == NULL)
		logit(pri, "%s", strerror(saved_errno));
	else if (asprintf(&nfmt, "%s: %s", emsg, strerror(saved_errno)) == -1) {
		/* we tried it... */
		vlog(pri, emsg, ap);
		logit(pri, "%s", strerror(saved_errno));
	} else {
		/* nfmt is emsg with a literal suffix: clang cannot see that. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		vlog(pri, nfmt, ap);
#pragma GCC diagnostic pop
		free(nfmt);
	}
	errno = saved_errno;
}

void
log_warn(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vwarn_errno(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_warnx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	 ap;

	if (log_verbose > 1) {
		va_start(ap, emsg);
		vlog(LOG_DEBUG, emsg, ap);
		va_end(ap);
	}
}

static void
vfatalc(int code, const char *emsg, va_list ap)
{
	static char	s[BUFSIZ];
	const char	*sep;

	if (emsg != NULL) {
		(void)vsnprintf(s, sizeof(s), emsg, ap);
		sep = ": ";
	} else {
		s[0] = '\0';
		sep = "";
	}
	if (code)
		logit(LOG_CRIT, "fatal in %s: %s%s%s",
		    log_procname ? log_procname : "kobangd", s, sep,
		    strerror(code));
	else
		logit(LOG_CRIT, "fatal in %s%s%s",
		    log_procname ? log_procname : "kobangd", sep, s);
}

void
fatal(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(errno, emsg, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
	exit(1);
}
