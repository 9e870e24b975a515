/*
 * An idle child gives its heap back (child_loop: malloc_trim once no
 * message came for CHILD_IDLE_MS): the real scan child's code under its
 * real sandbox, a lockfile of a few megabytes, then a quiet spell long
 * enough for the trim, then another file.  The trim's system calls must
 * pass the seccomp filter, or the child is killed the first time it is
 * idle.
 */

#include <sys/stat.h>

#include "compat.h"
#include "scan_golden.h"
#include "scan_child.h"

static char	dir[] = "/tmp/kobangd-idle.XXXXXX";

/* A package-lock.json of n packages at path. */
static void
lockfile(const char *path, int n)
{
	FILE	*fp;
	int	 i;

	cr_assert_not_null(fp = fopen(path, "w"));
	fprintf(fp, "{\"lockfileVersion\": 3, \"packages\": {\"\": "
	    "{\"name\": \"idle\"}");
	for (i = 0; i < n; i++)
		fprintf(fp, ", \"node_modules/package-%d\": {\"version\": "
		    "\"1.0.%d\", \"resolved\": \"https://registry.example/"
		    "package-%d.tgz\"}", i, i, i);
	fprintf(fp, "}}\n");
	fclose(fp);
}

static pid_t
alive(pid_t pid)
{
	int	status;

	return (waitpid(pid, &status, WNOHANG));
}

Test(child_idle, trimmed_heap_survives_the_sandbox)
{
	struct scan_peer	 p;
	struct scan_result	*res;
	char			 path[PATH_MAX];
	struct stat		 st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/package-lock.json", dir);
	lockfile(path, 40000);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_gt(st.st_size, 2 * 1024 * 1024);

	scan_peer_start(&p, 1);
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_NPM_LOCK, 0,
	    path));
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, 40000);
	scan_result_free(res);

	/* Quiet for longer than CHILD_IDLE_MS: the child trims its heap. */
	usleep(1500 * 1000);
	cr_assert_eq(alive(p.pid), 0, "the scan child died while idle");

	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_NPM_LOCK, 0,
	    path));
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, 40000);
	scan_result_free(res);
	usleep(1500 * 1000);
	cr_assert_eq(alive(p.pid), 0, "the scan child died while idle");
	cr_assert_eq(scan_peer_stop(&p), 0);

	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(rmdir(dir), 0);
}
