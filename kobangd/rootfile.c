/*
 * Secrets in root-only files (see rootfile.h).
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "rootfile.h"

int
rootfile_read(const char *path, size_t max, const char *what, char **bufp,
    size_t *sizep, size_t *lenp, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	*bufp = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s %s: %s", what, path,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) != 0 || (size_t)st.st_size > max + 2) {
		close(fd);
		snprintf(err, errlen, "%s %s: must be a regular file "
		    "of root's with mode 0600 or stricter, at most %zu bytes",
		    what, path, max);
		return (-1);
	}
	/* Room for the content, a CR, a newline and the NUL. */
	if ((buf = calloc(1, max + 3)) == NULL)
		fatal(NULL);
	while (len < (size_t)st.st_size) {
		if ((n = read(fd, buf + len, (size_t)st.st_size - len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	/* One trailing newline (and a CR before it) is not the secret's. */
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	*bufp = buf;
	*sizep = max + 3;
	*lenp = len;
	return (0);
}
