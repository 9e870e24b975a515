/*
 * Requirement includes in the parent (kobangd/reqinc.c, SURFACES.md 8):
 * lexical resolution, the top-level directory fence, the include chain
 * (cycles end), the depth and file budgets, constraint inheritance.
 */

#include <sys/types.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "reqinc.h"

static void
resolves(const char *inc, const char *target, const char *want)
{
	char	buf[PATH_MAX];

	cr_assert_eq(reqinc_resolve(inc, target, buf, sizeof(buf)), 0,
	    "%s + %s", inc, target);
	cr_assert_str_eq(buf, want, "%s + %s", inc, target);
}

Test(reqinc, resolve)
{
	resolves("/p/requirements.txt", "base.txt", "/p/base.txt");
	resolves("/p/requirements.txt", "./a/../b/./c.txt", "/p/b/c.txt");
	resolves("/p/x/r.txt", "../c.txt", "/p/c.txt");
	resolves("/p/x/r.txt", "../../../../c.txt", "/c.txt");
	resolves("/p/x/r.txt", "a//b.txt", "/p/x/a/b.txt");
	resolves("/p/x/r.txt", "/etc/passwd", "/etc/passwd");
	resolves("/p/x/r.txt", "..", "/p");
	resolves("/r.txt", "..", "/");
}

Test(reqinc, resolve_too_long)
{
	char	buf[16], *t;

	cr_assert_eq(reqinc_resolve("/p/r.txt", "abcdefghijklmnop", buf,
	    sizeof(buf)), -1);
	cr_assert_not_null(t = malloc(PATH_MAX * 3));
	memset(t, 'a', PATH_MAX * 3 - 1);
	t[PATH_MAX * 3 - 1] = '\0';
	cr_assert_eq(reqinc_resolve("/p/r.txt", t, buf, sizeof(buf)), -1);
	free(t);
}

static int
offer(struct reqinc *ri, int node, int c, const char *target, char *path)
{
	char	why[256];

	return (reqinc_offer(ri, node, c, target, path, PATH_MAX, why,
	    sizeof(why)));
}

/* Take the next job and send it as file id. */
static int
send_next(struct reqinc *ri, uint32_t fid, const char *want, int constraint)
{
	struct reqinc_job	j;

	cr_assert_eq(reqinc_next(ri, &j), 0);
	cr_assert_str_eq(j.path, want);
	cr_assert_eq(j.constraint, constraint, "%s", want);
	cr_assert_eq(reqinc_sent(ri, &j, fid), 0);
	cr_assert_null(j.path);
	return (reqinc_find(ri, fid));
}

Test(reqinc, fence_and_chain)
{
	struct reqinc	ri;
	char		path[PATH_MAX];
	int		top, b, a2;

	memset(&ri, 0, sizeof(ri));
	cr_assert_eq(reqinc_add_top(&ri, 1, "/home/u/src/app/requirements.txt",
	    3, 0), 0);
	cr_assert_eq(top = reqinc_find(&ri, 1), 0);
	cr_assert_eq(reqinc_find(&ri, 99), -1);
	/* Outside the top-level file's directory: ignored, no issue. */
	cr_assert_eq(offer(&ri, top, 0, "../other/r.txt", path),
	    REQINC_IGNORED);
	cr_assert_eq(offer(&ri, top, 0, "/etc/shadow", path), REQINC_IGNORED);
	cr_assert_eq(offer(&ri, top, 0, ".", path), REQINC_IGNORED);
	/* Itself: in the chain. */
	cr_assert_eq(offer(&ri, top, 0, "./requirements.txt", path),
	    REQINC_IGNORED);
	cr_assert_eq(reqinc_pending(&ri), 0);
	cr_assert_eq(offer(&ri, top, 0, "sub/b.txt", path), REQINC_QUEUED);
	cr_assert_str_eq(path, "/home/u/src/app/sub/b.txt");
	cr_assert_eq(reqinc_pending(&ri), 1);
	b = send_next(&ri, 2, "/home/u/src/app/sub/b.txt", 0);
	cr_assert_eq(ri.nodes[b].anchor, 3);
	cr_assert_eq(ri.nodes[b].depth, 1);
	/* b includes a: a cycle ends (a is in b's chain). */
	cr_assert_eq(offer(&ri, b, 0, "../requirements.txt", path),
	    REQINC_IGNORED);
	/* b may go up to the top-level directory, not above. */
	cr_assert_eq(offer(&ri, b, 1, "../a2.txt", path), REQINC_QUEUED);
	cr_assert_eq(offer(&ri, b, 0, "../../x.txt", path), REQINC_IGNORED);
	a2 = send_next(&ri, 3, "/home/u/src/app/a2.txt", 1);
	/* Below a -c include everything is a constraint. */
	cr_assert_eq(offer(&ri, a2, 0, "sub/b.txt", path), REQINC_IGNORED);
	cr_assert_eq(offer(&ri, a2, 0, "d.txt", path), REQINC_QUEUED);
	send_next(&ri, 4, "/home/u/src/app/d.txt", 1);
	cr_assert_eq(ri.nodes[top].started, 3);
	reqinc_free(&ri);
	cr_assert_eq(ri.nnodes, 0);
}

Test(reqinc, depth_budget)
{
	struct reqinc	ri;
	char		path[PATH_MAX], name[32], why[256];
	int		node, d;

	memset(&ri, 0, sizeof(ri));
	cr_assert_eq(reqinc_add_top(&ri, 1, "/p/constraints.txt", 0, 1), 0);
	node = 0;
	for (d = 1; d <= REQINC_MAX_DEPTH; d++) {
		snprintf(name, sizeof(name), "r%d.txt", d);
		cr_assert_eq(offer(&ri, node, 0, name, path), REQINC_QUEUED,
		    "depth %d", d);
		node = send_next(&ri, (uint32_t)d + 1, path, 1);
		cr_assert_eq(ri.nodes[node].depth, d);
	}
	cr_assert_eq(reqinc_offer(&ri, node, 0, "deeper.txt", path,
	    sizeof(path), why, sizeof(why)), REQINC_SKIPPED);
	cr_assert_str_eq(path, "/p/deeper.txt");
	cr_assert_not_null(strstr(why, "deeper than 16"));
	reqinc_free(&ri);
}

Test(reqinc, file_budget)
{
	struct reqinc		ri;
	struct reqinc_job	j;
	char			path[PATH_MAX], name[32], why[256];
	int			i;

	memset(&ri, 0, sizeof(ri));
	cr_assert_eq(reqinc_add_top(&ri, 1, "/p/requirements.txt", 0, 0), 0);
	cr_assert_eq(reqinc_add_top(&ri, 2, "/p/requirements-dev.txt", 0, 0),
	    0);
	for (i = 0; i < REQINC_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "f%d.txt", i);
		cr_assert_eq(offer(&ri, 0, 0, name, path), REQINC_QUEUED);
	}
	cr_assert_eq(reqinc_offer(&ri, 0, 0, "one-more.txt", path,
	    sizeof(path), why, sizeof(why)), REQINC_SKIPPED);
	cr_assert_not_null(strstr(why, "250 files"));
	/* The budget is per top-level file. */
	cr_assert_eq(offer(&ri, 1, 0, "one-more.txt", path), REQINC_QUEUED);
	cr_assert_eq(reqinc_pending(&ri), REQINC_MAX_FILES + 1);
	/* Jobs come out in order; the rest is freed with the tracker. */
	cr_assert_eq(reqinc_next(&ri, &j), 0);
	cr_assert_str_eq(j.path, "/p/f0.txt");
	free(j.path);
	reqinc_free(&ri);
}

Test(reqinc, diamond_is_read_twice)
{
	struct reqinc	ri;
	char		path[PATH_MAX];
	int		b, c;

	/* a -> b, a -> c, b -> d, c -> d: d is in neither chain twice. */
	memset(&ri, 0, sizeof(ri));
	cr_assert_eq(reqinc_add_top(&ri, 1, "/p/a.txt", 0, 0), 0);
	cr_assert_eq(offer(&ri, 0, 0, "b.txt", path), REQINC_QUEUED);
	cr_assert_eq(offer(&ri, 0, 0, "c.txt", path), REQINC_QUEUED);
	b = send_next(&ri, 2, "/p/b.txt", 0);
	c = send_next(&ri, 3, "/p/c.txt", 0);
	cr_assert_eq(offer(&ri, b, 0, "d.txt", path), REQINC_QUEUED);
	cr_assert_eq(offer(&ri, c, 0, "d.txt", path), REQINC_QUEUED);
	cr_assert_eq(reqinc_pending(&ri), 2);
	reqinc_free(&ri);
}

/*
 * What a child may make the parent open is the parent's decision: names
 * an honest requirements file can give, nothing hidden, regular files
 * within the size budgets.
 */
Test(reqinc, only_what_requirements_name)
{
	struct reqinc		ri;
	struct reqinc_job	j;
	struct stat		st;
	char			path[PATH_MAX], why[256];
	int			top, i;
	const char		*bad[] = { ".env", "deploy/.ssh/id_ed25519",
				    ".git/config", "deploy/id_ed25519",
				    "secrets.yaml", "x.txt.bak", ".hidden.txt",
				    "sub/.cache/r.txt" };

	memset(&ri, 0, sizeof(ri));
	cr_assert_eq(reqinc_add_top(&ri, 1, "/home/u/src/app/requirements.txt",
	    0, 0), 0);
	top = reqinc_find(&ri, 1);
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		cr_assert_eq(reqinc_offer(&ri, top, 0, bad[i], path, PATH_MAX,
		    why, sizeof(why)), REQINC_SKIPPED, "%s was followed",
		    bad[i]);
		cr_assert_not_null(strstr(why, "include not followed"), "%s",
		    why);
	}
	cr_assert_eq(reqinc_pending(&ri), 0);
	cr_assert_eq(offer(&ri, top, 0, "requirements/dev.txt", path),
	    REQINC_QUEUED);
	cr_assert_eq(offer(&ri, top, 1, "constraints.in", path),
	    REQINC_QUEUED);
	cr_assert_eq(offer(&ri, top, 0, "./base.txt", path), REQINC_QUEUED);

	/* As opened: the file the name means, not a link's target. */
	cr_assert_eq(reqinc_next(&ri, &j), 0);
	cr_assert_str_eq(j.path, "/home/u/src/app/requirements/dev.txt");
	cr_assert_null(reqinc_opened(&ri, &j,
	    "/home/u/src/app/requirements/dev.txt"));
	/* A linked home: only the beginning differs. */
	cr_assert_null(reqinc_opened(&ri, &j,
	    "/data/home/u/src/app/requirements/dev.txt"));
	cr_assert_not_null(reqinc_opened(&ri, &j, "/home/u/src/app/.env"));
	cr_assert_not_null(reqinc_opened(&ri, &j,
	    "/home/u/src/app/.git/dev.txt"));
	cr_assert_not_null(reqinc_opened(&ri, &j,
	    "/home/u/src/app/requirements/dev.txt.bak"));
	cr_assert_not_null(reqinc_opened(&ri, &j, "/etc/shadow"));
	cr_assert_not_null(reqinc_opened(&ri, &j, "dev.txt"));

	/* A regular file within 1 MiB, 8 MiB for them all. */
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFIFO | 0644;
	cr_assert_not_null(reqinc_charge(&ri, &j, &st));
	st.st_mode = S_IFREG | 0644;
	st.st_size = REQINC_MAX_SIZE + 1;
	cr_assert_not_null(reqinc_charge(&ri, &j, &st));
	st.st_size = REQINC_MAX_SIZE;
	for (i = 0; i < REQINC_MAX_BYTES / REQINC_MAX_SIZE; i++)
		cr_assert_null(reqinc_charge(&ri, &j, &st), "charge %d", i);
	cr_assert_not_null(reqinc_charge(&ri, &j, &st),
	    "over %d bytes of includes", REQINC_MAX_BYTES);
	free(j.path);
	reqinc_free(&ri);
}
