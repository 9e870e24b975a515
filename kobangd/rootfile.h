/*
 * A secret in a file of root's: the enrollment token
 * (kobangd.enrollmentTokenFile) and the proxy credentials
 * (kobangd.proxyCredentialsFile).  The file must be a regular file owned
 * by root with no access for group or others, and small; it is read
 * whole, without following a symbolic link.
 */
#ifndef KOBANGD_ROOTFILE_H
#define KOBANGD_ROOTFILE_H

#include <stddef.h>

/*
 * Read path (at most max bytes of content, one trailing newline and a
 * CR before it not counted) into a malloc'ed, NUL-terminated buffer of
 * *sizep bytes (freezero it), the content's length in *lenp.  what names
 * the file in messages ("token file").  0, or -1 with a message.
 */
int	 rootfile_read(const char *, size_t, const char *, char **, size_t *,
	    size_t *, char *, size_t);

#endif
