/*
 * Discovery helpers: the SURFACES.md 0.6 glob, and taking on a user's
 * file system identity (needs root, as the tests run).
 */

#include <sys/types.h>
#include <sys/fsuid.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "discover.h"

Test(discover, glob_vectors)
{
	cr_assert(disc_glob_match("requirements*.txt", "requirements.txt"));
	cr_assert(disc_glob_match("requirements*.txt",
	    "requirements-dev.txt"));
	cr_assert(!disc_glob_match("requirements*.txt", "requirements.in"));
	cr_assert(disc_glob_match("*.rules", "default.rules"));
	cr_assert(!disc_glob_match("*.rules", "default.rules.bak"));
	cr_assert(disc_glob_match("a*b*c", "abc"));
	cr_assert(disc_glob_match("a*b*c", "axxbyyc"));
	cr_assert(!disc_glob_match("a*b*c", "acb"));
	cr_assert(disc_glob_match("package-lock.json", "package-lock.json"));
	cr_assert(!disc_glob_match("package-lock.json", "package-lock.jso"));
	/* ? and [ are literal. */
	cr_assert(!disc_glob_match("a?c", "abc"));
	cr_assert(disc_glob_match("a?c", "a?c"));
	cr_assert(disc_glob_match("[x]*", "[x]y"));
	cr_assert(disc_glob_match("*", ""));
	/* The suffix may not overlap the prefix. */
	cr_assert(!disc_glob_match("ab*ba", "aba"));
}

/* A file only root can read stays unreadable while we are "nobody". */
Test(discover, become_user_drops_rights)
{
	struct disc_user	u;
	gid_t			g = 65534;
	char			path[] = "/tmp/test_discover.XXXXXX";
	int			fd;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	cr_assert((fd = mkstemp(path)) != -1);
	close(fd);
	cr_assert(chmod(path, 0600) == 0);
	memset(&u, 0, sizeof(u));
	u.uid = 65534;
	u.gid = 65534;
	u.name = "nobody";
	u.groups = &g;
	u.ngroups = 1;

	cr_assert(disc_become(&u) == 0);
	cr_assert_eq((uid_t)setfsuid((uid_t)-1), 65534U);
	errno = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd == -1 && errno == EACCES, "root-only file opened as "
	    "nobody");
	/* A second switch without a restore is refused. */
	cr_assert(disc_become(&u) == -1);
	disc_restore();
	cr_assert_eq((uid_t)setfsuid((uid_t)-1), 0U);
	cr_assert((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1);
	close(fd);
	unlink(path);
}

/* Root (or NULL) needs no switch. */
Test(discover, become_root_is_a_noop)
{
	cr_assert(disc_become(NULL) == 0);
	disc_restore();
	cr_assert_eq((uid_t)setfsuid((uid_t)-1), geteuid());
}
