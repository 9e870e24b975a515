/*
 * Portability shims for what glibc lacks or hides.
 */
#ifndef KOBANG_COMPAT_H
#define KOBANG_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#ifndef __dead
#define __dead		__attribute__((__noreturn__))
#endif

#ifndef nitems
#define nitems(_a)	(sizeof((_a)) / sizeof((_a)[0]))
#endif

#if !defined(__GLIBC__) || !__GLIBC_PREREQ(2, 38)
size_t	 strlcpy(char *, const char *, size_t);
size_t	 strlcat(char *, const char *, size_t);
#endif
void	*recallocarray(void *, size_t, size_t, size_t);
void	 freezero(void *, size_t);
long long strtonum(const char *, long long, long long, const char **);

#endif
