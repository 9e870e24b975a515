/*
 * Version 4 UUIDs from the kernel's random source.
 */

#include <sys/random.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "uuid.h"

void
uuid_format(uint8_t b[16], char out[UUID_BUFSZ])
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i, o = 0;

	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* variant 10xx */
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
}

int
uuid_v4(char out[UUID_BUFSZ])
{
	uint8_t	 b[16];
	size_t	 got = 0;
	ssize_t	 n;

	while (got < sizeof(b)) {
		n = getrandom(b + got, sizeof(b) - got, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		got += (size_t)n;
	}
	uuid_format(b, out);
	return (0);
}

/*
 * n ids (at most UUID_MANY) from one getrandom(2) call: the rule engine
 * makes one per finding, and a system call each was most of their cost.
 */
int
uuid_v4_many(char out[][UUID_BUFSZ], size_t n)
{
	uint8_t	 b[16 * UUID_MANY];
	size_t	 got = 0, i;
	ssize_t	 r;

	if (n > UUID_MANY) {
		errno = EINVAL;
		return (-1);
	}
	while (got < 16 * n) {
		r = getrandom(b + got, 16 * n - got, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		got += (size_t)r;
	}
	for (i = 0; i < n; i++)
		uuid_format(b + 16 * i, out[i]);
	return (0);
}

static int
random_next(void *arg, char out[UUID_BUFSZ])
{
	return (uuid_v4(out));
}

static const struct idsource random_source = { random_next, NULL };

const struct idsource *
uuid_random_source(void)
{
	return (&random_source);
}

int
uuid_valid_v4(const char *s)
{
	size_t	i;

	if (strlen(s) != UUID_STRLEN)
		return (0);
	for (i = 0; i < UUID_STRLEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (0);
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return (0);
	}
	if (s[14] != '4')
		return (0);
	if (s[19] != '8' && s[19] != '9' && s[19] != 'A' && s[19] != 'B')
		return (0);
	return (1);
}

int
idsource_next(const struct idsource *src, char out[UUID_BUFSZ])
{
	memset(out, 0, UUID_BUFSZ);
	if (src == NULL || src->next == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (src->next(src->arg, out) == -1)
		return (-1);
	/* An id goes on the wire; never pass on what a source botched. */
	if (out[UUID_STRLEN] != '\0' || !uuid_valid_v4(out)) {
		errno = EINVAL;
		return (-1);
	}
	return (0);
}
