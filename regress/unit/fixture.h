/*
 * Fixture files for the unit tests: paths under the source tree
 * (KOBANG_SRCDIR, else the current directory), whole-file reads, and
 * sorted directory listings of the golden-file tests.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

/* rel under the source tree; free it. */
__attribute__((__unused__)) static char *
srcpath(const char *rel)
{
	const char	*top = getenv("KOBANG_SRCDIR");
	char		*p;

	if (asprintf(&p, "%s/%s", top ? top : ".", rel) == -1)
		cr_assert_fail("asprintf");
	return (p);
}

/* The whole file, NUL-terminated; NULL if it cannot be opened. */
__attribute__((__unused__)) static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	size_t	 cap = 1 << 16, len = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	cr_assert_not_null(buf = malloc(cap + 1));
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			cr_assert_not_null(buf = realloc(buf, cap + 1));
		}
	}
	fclose(f);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return (buf);
}

/* The same, for a file that must be there. */
__attribute__((__unused__)) static char *
must_slurp(const char *path, size_t *lenp)
{
	char	*buf;

	cr_assert_not_null(buf = slurp(path, lenp), "%s", path);
	return (buf);
}

static int
fixture_by_name(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * Sorted names of the files in dir ending in suffix, the suffix cut off
 * when strip is set.
 */
__attribute__((__unused__)) static char **
list_dir(const char *dir, const char *suffix, int strip, size_t *np)
{
	DIR		*d;
	struct dirent	*e;
	char		**v = NULL;
	size_t		 n = 0, sl = strlen(suffix), l;

	d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s (run from the top of the "
	    "tree or set KOBANG_SRCDIR)", dir);
	while ((e = readdir(d)) != NULL) {
		l = strlen(e->d_name);
		if (l <= sl || strcmp(e->d_name + l - sl, suffix) != 0)
			continue;
		cr_assert_not_null(v = reallocarray(v, n + 1, sizeof(*v)));
		cr_assert_not_null(v[n++] = strndup(e->d_name,
		    strip ? l - sl : l));
	}
	closedir(d);
	qsort(v, n, sizeof(*v), fixture_by_name);
	*np = n;
	return (v);
}

__attribute__((__unused__)) static void
free_list(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

#endif
