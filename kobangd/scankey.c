/*
 * The MCP redaction key of the installation (scankey.h).
 */

#include <sys/types.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kobangd.h"
#include "log.h"
#include "scankey.h"
#include "scanproto.h"

static uint8_t	scankey[SCAN_KEY_LEN];
static int	scankey_loaded;

static int
fill_random(uint8_t *k, size_t len)
{
	size_t	got = 0;
	ssize_t	n;

	while (got < len) {
		if ((n = getrandom(k + got, len - got, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		got += (size_t)n;
	}
	return (0);
}

/* Write a fresh key: a temporary file, synced, renamed over path. */
static int
create_key(const char *path, uint8_t *key, size_t len, char *err,
    size_t errlen)
{
	char	tmp[PATH_MAX];
	size_t	off;
	ssize_t	n;
	int	fd;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "state directory path too long");
		return (-1);
	}
	if (fill_random(key, len) == -1) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return (-1);
	}
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%.200s: %s", tmp, strerror(errno));
		return (-1);
	}
	for (off = 0; off < len; off += (size_t)n)
		if ((n = write(fd, key + off, len - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			goto fail;
		}
	if (fsync(fd) == -1)
		goto fail;
	close(fd);
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "rename %.200s: %s", tmp,
		    strerror(errno));
		unlink(tmp);
		return (-1);
	}
	return (0);
fail:
	snprintf(err, errlen, "%.200s: %s", tmp, strerror(errno));
	close(fd);
	unlink(tmp);
	return (-1);
}

int
scankey_load(const char *dir, uint8_t *key, size_t len, char *err,
    size_t errlen)
{
	struct stat	sb;
	char		path[PATH_MAX];
	ssize_t		n;
	int		fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, SCANKEY_FILE) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "state directory path too long");
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%.200s: %s", path,
			    strerror(errno));
			return (-1);
		}
		return (create_key(path, key, len, err, errlen));
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "%.200s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	/* Somebody else's file: not ours to trust, nor to replace. */
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
		snprintf(err, errlen, "%.200s: not a regular file owned by "
		    "uid %u", path, (unsigned int)geteuid());
		close(fd);
		return (-1);
	}
	if ((sb.st_mode & 077) != 0 && fchmod(fd, 0600) == -1) {
		snprintf(err, errlen, "%.200s: chmod: %s", path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	if (sb.st_size != (off_t)len) {
		/* Not a key of ours (a crash cannot leave half of one). */
		close(fd);
		log_warnx("%s: not a key, replaced; MCP servers with hidden "
		    "values will read as modified once", path);
		return (create_key(path, key, len, err, errlen));
	}
	do {
		n = pread(fd, key, len, 0);
	} while (n == -1 && errno == EINTR);
	close(fd);
	if (n != (ssize_t)len) {
		snprintf(err, errlen, "%.200s: %s", path, n == -1 ?
		    strerror(errno) : "short read");
		explicit_bzero(key, len);
		return (-1);
	}
	return (0);
}

int
scankey_send(const char *dir, struct imsgbuf *ibuf)
{
	struct scan_key	sk;
	char		err[256];
	int		rv;

	if (!scankey_loaded) {
		if (scankey_load(dir, scankey, sizeof(scankey), err,
		    sizeof(err)) == -1) {
			log_warnx("MCP redaction key: %s; using a key for "
			    "this run only: after a restart, MCP servers "
			    "with hidden values will read as modified", err);
			if (fill_random(scankey, sizeof(scankey)) == -1)
				fatal("getrandom");
		}
		scankey_loaded = 1;
	}
	memcpy(sk.key, scankey, sizeof(sk.key));
	rv = imsg_compose(ibuf, IMSG_SCAN_KEY, 0, 0, -1, &sk, sizeof(sk));
	explicit_bzero(&sk, sizeof(sk));
	return (rv == -1 ? -1 : 0);
}
