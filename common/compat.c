/*
 * strlcpy, strlcat, recallocarray, freezero, strtonum: the OpenBSD
 * functions glibc does not have, written from their manual pages.
 */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#if !defined(__GLIBC__) || !__GLIBC_PREREQ(2, 38)
size_t
strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t	len = strlen(src);

	if (dsize != 0) {
		size_t n = len >= dsize ? dsize - 1 : len;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return (len);
}

size_t
strlcat(char *dst, const char *src, size_t dsize)
{
	size_t	dlen = strnlen(dst, dsize);

	if (dlen == dsize)
		return (dsize + strlen(src));
	return (dlen + strlcpy(dst + dlen, src, dsize - dlen));
}
#endif

#define MUL_NO_OVERFLOW	((size_t)1 << (sizeof(size_t) * 4))

void *
recallocarray(void *ptr, size_t oldnmemb, size_t newnmemb, size_t size)
{
	size_t	 oldsize, newsize;
	void	*newptr;

	if (ptr == NULL)
		return (calloc(newnmemb, size));

	if ((newnmemb >= MUL_NO_OVERFLOW || size >= MUL_NO_OVERFLOW) &&
	    newnmemb > 0 && SIZE_MAX / newnmemb < size) {
		errno = ENOMEM;
		return (NULL);
	}
	newsize = newnmemb * size;

	if ((oldnmemb >= MUL_NO_OVERFLOW || size >= MUL_NO_OVERFLOW) &&
	    oldnmemb > 0 && SIZE_MAX / oldnmemb < size) {
		errno = EINVAL;
		return (NULL);
	}
	oldsize = oldnmemb * size;

	/* Always move, so that the old contents can be cleared. */
	if ((newptr = malloc(newsize)) == NULL)
		return (NULL);
	if (newsize > oldsize) {
		memcpy(newptr, ptr, oldsize);
		memset((char *)newptr + oldsize, 0, newsize - oldsize);
	} else
		memcpy(newptr, ptr, newsize);

	explicit_bzero(ptr, oldsize);
	free(ptr);
	return (newptr);
}

void
freezero(void *ptr, size_t sz)
{
	if (ptr == NULL)
		return;
	explicit_bzero(ptr, sz);
	free(ptr);
}

long long
strtonum(const char *numstr, long long minval, long long maxval,
    const char **errstrp)
{
	long long	 ll = 0;
	char		*ep;
	const char	*errstr = NULL;

	if (minval > maxval)
		errstr = "invalid";
	else {
		errno = 0;
		ll = strtoll(numstr, &ep, 10);
		if (numstr == ep || *ep != '\0')
			errstr = "invalid";
		else if ((ll == LLONG_MIN && errno == ERANGE) || ll < minval)
			errstr = "too small";
		else if ((ll == LLONG_MAX && errno == ERANGE) || ll > maxval)
			errstr = "too large";
	}
	if (errstrp != NULL)
		*errstrp = errstr;
	if (errstr != NULL) {
		errno = errstr[0] == 'i' ? EINVAL : ERANGE;
		ll = 0;
	}
	return (ll);
}
