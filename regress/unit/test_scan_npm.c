/*
 * npm lockfiles (SURFACES.md 7): golden fixtures under regress/scan/
 * (package-lock v2 and v3 with nested node_modules, dev and optional,
 * v1, npm-shrinkwrap, duplicate keys), the spec's test vectors, every
 * type error, hostile files (50 MB, the cap boundary, deep nesting,
 * invalid UTF-8, a file that shrinks or grows while read, not a regular
 * file), and the real child path: fork, sandbox, child_loop, decoder.
 *
 * Run from the top of the source tree (or set KOBANG_SRCDIR).
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "scan_golden.h"
#include "scan_child.h"

static char *
npm(const char *doc)
{
	return (golden_run(SCAN_PARSER_NPM_LOCK, 0, doc, strlen(doc)));
}

static void
expect(const char *doc, const char *want)
{
	char	*got = npm(doc);

	cr_assert_not_null(got);
	cr_assert_str_eq(got, want, "for %s", doc);
	free(got);
}

/* The output ends with "status failed" and names the issue code. */
static void
expect_fail(const char *doc, const char *code)
{
	char	*got = npm(doc), want[64];

	cr_assert_not_null(got);
	snprintf(want, sizeof(want), "issue %s:", code);
	cr_assert_not_null(strstr(got, want), "no %s issue for %s: %s",
	    code, doc, got);
	cr_assert_not_null(strstr(got, "status failed\n"), "for %s", doc);
	free(got);
}

static const char *const fixtures[] = {
	"package-lock-v3.json", "package-lock-v2.json", "package-lock-v1.json",
	"npm-shrinkwrap.json", "package-lock-dupkeys.json",
};

Test(scan_npm, golden)
{
	char	*path, *ok, *doc, *got, rel[256];
	size_t	 i, len;

	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		snprintf(rel, sizeof(rel), "regress/scan/%s", fixtures[i]);
		path = srcpath(rel);
		doc = must_slurp(path, &len);
		free(path);
		snprintf(rel, sizeof(rel), "regress/scan/%s.ok", fixtures[i]);
		path = srcpath(rel);
		ok = must_slurp(path, NULL);
		free(path);
		got = golden_run(SCAN_PARSER_NPM_LOCK, 0, doc, len);
		cr_assert_str_eq(got, ok, "%s differs:\n%s", fixtures[i], got);
		free(got);
		free(ok);
		free(doc);
	}
}

Test(scan_npm, spec_vectors)
{
	/* SURFACES.md 7: node_modules/@scope/pkg 1.2.3 -> @scope/pkg. */
	expect("{\"packages\":{\"node_modules/@scope/pkg\":"
	    "{\"version\":\"1.2.3\"}}}",
	    "package | @scope/pkg | 1.2.3 | npm | ~\nstatus ok\n");
	/* The detail test. */
	expect("{\"packages\":{\"node_modules/vite\":{\"version\":\"5.0.0\","
	    "\"resolved\":\"https://registry.npmjs.org/vite/-/vite-5.0.0.tgz\","
	    "\"integrity\":\"sha512-test\",\"dev\":true}}}",
	    "package | vite | 5.0.0 | npm | resolved=https://registry.npmjs."
	    "org/vite/-/vite-5.0.0.tgz integrity=sha512-test scope=dev\n"
	    "status ok\n");
	/* Only the first node_modules/ goes. */
	expect("{\"packages\":{\"node_modules/a/node_modules/b\":"
	    "{\"version\":\"1.0.0\"}}}",
	    "package | a/node_modules/b | 1.0.0 | npm | ~\nstatus ok\n");
	/* dev wins over optional; optional alone; empty strings count. */
	expect("{\"packages\":{\"node_modules/x\":{\"version\":\"1\","
	    "\"optional\":true,\"dev\":true},\"node_modules/y\":{\"version\":"
	    "\"2\",\"optional\":true,\"dev\":false},\"node_modules/z\":"
	    "{\"version\":\"\",\"resolved\":\"\"}}}",
	    "package | x | 1 | npm | scope=dev\n"
	    "package | y | 2 | npm | scope=optional\n"
	    "package | z |  | npm | resolved=\nstatus ok\n");
	/* Skipped: "", keys not under node_modules/, no version. */
	expect("{\"packages\":{\"\":{\"version\":\"1.0.0\"},\"lib/x\":"
	    "{\"version\":\"1\"},\"node_modules\":{\"version\":\"1\"},"
	    "\"node_modules/nov\":{\"resolved\":\"r\"}}}",
	    "issue unsupported: 1 packages declared, none with a version\n"
	    "status ok\n");
	/* The bare prefix yields an empty name, as the reference's does. */
	expect("{\"packages\":{\"node_modules/\":{\"version\":\"1\"}}}",
	    "package |  | 1 | npm | ~\nstatus ok\n");
	/*
	 * Where the reference reads nothing (kobangd.yaml(5)): a
	 * workspace's node_modules; v1's tree, keyed by install path.
	 */
	expect("{\"packages\":{\"packages/w/node_modules/@s/y\":{\"version\":"
	    "\"2\"},\"packages/w/node_modules/y/node_modules/z\":{\"version\":"
	    "\"3\"},\"packages/w\":{\"version\":\"1\"}}}",
	    "package | @s/y | 2 | npm | ~\n"
	    "package | y/node_modules/z | 3 | npm | ~\nstatus ok\n");
	expect("{\"lockfileVersion\":1,\"dependencies\":{\"a\":{\"version\":"
	    "\"1\",\"dev\":true,\"dependencies\":{\"b\":{\"version\":\"2\","
	    "\"dependencies\":{\"c\":{\"version\":\"3\"}}}}},\"a\":{\"version\":"
	    "\"9\"},\"d\":{\"requires\":{\"a\":\"1\"}}}}",
	    "package | a/node_modules/b/node_modules/c | 3 | npm | ~\n"
	    "package | a/node_modules/b | 2 | npm | ~\n"
	    "package | a | 1 | npm | scope=dev\nstatus ok\n");
	/* v2 carries the v1 tree too: read once, from packages. */
	expect("{\"lockfileVersion\":2,\"packages\":{\"node_modules/a\":"
	    "{\"version\":\"1\"}},\"dependencies\":{\"a\":{\"version\":"
	    "\"1\"},\"b\":{\"version\":\"2\"}}}",
	    "package | a | 1 | npm | ~\nstatus ok\n");
	expect("{\"lockfileVersion\":1,\"dependencies\":{\"a\":{}}}",
	    "issue unsupported: 1 packages declared, none with a version\n"
	    "status ok\n");
	expect("{\"lockfileVersion\":1,\"dependencies\":{\"a\":[]}}",
	    "issue type error: type error: a dependencies entry is not "
	    "an object\nstatus failed\n");
	/* A version npm has not written yet is not guessed at. */
	expect("{\"lockfileVersion\":4,\"packages\":{\"node_modules/a\":"
	    "{\"version\":\"1\"}}}",
	    "issue unsupported: lockfileVersion 4 is not supported\n"
	    "status failed\n");
	/* null packages; empty. */
	expect("{\"packages\":null}", "status ok\n");
	expect("{}", "status ok\n");
	/* null fields are absent. */
	expect("{\"packages\":{\"node_modules/n\":{\"version\":\"1\","
	    "\"resolved\":null,\"dev\":null}}}",
	    "package | n | 1 | npm | ~\nstatus ok\n");
	/* Unknown keys of any type are never decoded. */
	expect("{\"packages\":{\"node_modules/u\":{\"version\":\"1\","
	    "\"bin\":7,\"license\":[{}],\"devOptional\":\"yes\"}},"
	    "\"lockfileVersion\":\"three\"}",
	    "package | u | 1 | npm | ~\nstatus ok\n");
}

Test(scan_npm, duplicate_keys_first_wins)
{
	/* Foundation keeps the first; later ones are not even decoded. */
	expect("{\"packages\":{\"node_modules/a\":{\"version\":\"1\"},"
	    "\"node_modules/a\":{\"version\":2}},\"packages\":7}",
	    "package | a | 1 | npm | ~\nstatus ok\n");
	expect("{\"packages\":{\"node_modules/a\":{\"version\":\"1\","
	    "\"version\":\"2\",\"dev\":false,\"dev\":true}}}",
	    "package | a | 1 | npm | ~\nstatus ok\n");
	/* A first packages that fails fails the file. */
	expect_fail("{\"packages\":7,\"packages\":{}}", "type error");
}

Test(scan_npm, type_errors)
{
	static const char *const docs[] = {
		"[]",
		"{\"packages\":[]}",
		"{\"packages\":\"x\"}",
		"{\"packages\":{\"node_modules/a\":\"1.0.0\"}}",
		"{\"packages\":{\"node_modules/a\":null}}",
		"{\"packages\":{\"node_modules/a\":{\"version\":1}}}",
		("{\"packages\":{\"node_modules/a\":{\"version\":\"1\","
		    "\"resolved\":{}}}}"),
		("{\"packages\":{\"node_modules/a\":{\"version\":\"1\","
		    "\"integrity\":[]}}}"),
		("{\"packages\":{\"node_modules/a\":{\"version\":\"1\","
		    "\"dev\":\"true\"}}}"),
		("{\"packages\":{\"node_modules/a\":{\"version\":\"1\","
		    "\"optional\":0}}}"),
		/* Every entry is decoded, also the root and links. */
		"{\"packages\":{\"\":{\"version\":false}}}",
		"{\"packages\":{\"packages/lib\":{\"dev\":1}}}",
	};
	size_t	i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		expect_fail(docs[i], "type error");
}

Test(scan_npm, malformed)
{
	static const char *const docs[] = {
		"", "{", "{\"packages\":{}", "{\"packages\":{},}",
		"{\"packages\":{\"node_modules/a\":{\"version\":\"1\",}}}",
		"{\"packages\":{}} trailing",
		"{\"packages\":{\"node_modules/a\":{\"version\":\"\xff\"}}}",
		"{\"x\":\"\xc3\x28\"}",
		("{\"packages\":{\"node_modules/a\":{\"version\":\"1\"}}"
		    "/* comment */}"),
	};
	size_t	i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		expect_fail(docs[i], "malformed");
}

Test(scan_npm, failure_after_items)
{
	char	*got;

	/* Items go out as they are found; the failure says drop them. */
	got = npm("{\"packages\":{\"node_modules/a\":{\"version\":\"1\"},"
	    "\"node_modules/b\":{\"version\":2}}}");
	cr_assert_not_null(strstr(got, "package | a | 1"));
	cr_assert_not_null(strstr(got, "status failed\n"));
	free(got);
}

Test(scan_npm, deep_nesting)
{
	char	*doc, *got;
	size_t	 n = 200000, i, off;

	cr_assert_not_null(doc = malloc(2 * n + 64));
	off = (size_t)snprintf(doc, 64, "{\"x\":");
	for (i = 0; i < n; i++)
		doc[off + i] = '[';
	for (i = 0; i < n; i++)
		doc[off + n + i] = ']';
	doc[off + 2 * n] = '}';
	doc[off + 2 * n + 1] = '\0';
	got = npm(doc);
	cr_assert_not_null(strstr(got, "nested too deeply"), "%s", got);
	cr_assert_not_null(strstr(got, "status failed\n"));
	free(got);
	free(doc);
}

/* The set behind "first occurrence wins", in order and out of it. */
Test(scan_npm, strset)
{
	struct strset	 ss;
	char		 key[32];
	unsigned char	*seen;
	unsigned int	 seed = 7;
	int		 i, k, r, round;

	cr_assert_not_null(seen = calloc(5000, 1));
	for (round = 0; round < 3; round++) {
		memset(seen, 0, 5000);
		strset_init(&ss);
		for (i = 0; i < 20000; i++) {
			/* Sorted first, then (rounds 1, 2) shuffled. */
			if (round == 0 || (round == 1 && i < 3000))
				k = i < 5000 ? i : i % 5000;
			else
				k = rand_r(&seed) % 5000;
			snprintf(key, sizeof(key), "node_modules/p%05d", k);
			r = strset_add(&ss, key, strlen(key));
			cr_assert_eq(r, seen[k] ? 0 : 1, "round %d key %d",
			    round, k);
			seen[k] = 1;
		}
		/* The empty key and keys with NUL bytes are keys too. */
		cr_assert_eq(strset_add(&ss, "", 0), 1);
		cr_assert_eq(strset_add(&ss, "", 0), 0);
		cr_assert_eq(strset_add(&ss, "a\0b", 3), 1);
		cr_assert_eq(strset_add(&ss, "a\0c", 3), 1);
		cr_assert_eq(strset_add(&ss, "a\0b", 3), 0);
		strset_free(&ss);
	}
	free(seen);
}

/* ---- The child path ---- */

static char tmpdir[] = "/tmp/test_scan_npm.XXXXXX";

static void
mktmp(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
rmtmp(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

Test(scan_npm_child, golden_through_the_sandboxed_child)
{
	struct scan_peer	 p;
	struct scan_result	*res;
	char			*path, *ok, *got, rel[256];
	size_t			 i;
	int			 status;

	scan_peer_start(&p, 1);
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		snprintf(rel, sizeof(rel), "regress/scan/%s", fixtures[i]);
		path = srcpath(rel);
		cr_assert_not_null(res = scan_peer_file(&p,
		    SCAN_PARSER_NPM_LOCK, 0, path), "%s refused", rel);
		free(path);
		cr_assert_eq(res->surface, SURFACE_JAVASCRIPT);
		cr_assert_eq(res->file_id, i + 1);
		snprintf(rel, sizeof(rel), "regress/scan/%s.ok", fixtures[i]);
		path = srcpath(rel);
		ok = must_slurp(path, NULL);
		free(path);
		got = scan_result_render(res);
		cr_assert_str_eq(got, ok, "%s differs:\n%s", fixtures[i], got);
		free(got);
		free(ok);
		scan_result_free(res);
	}
	cr_assert_eq(scanproto_pending(p.sp), 0);
	status = scan_peer_stop(&p);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %d", status);
}

static int
sparse_file(const char *name, off_t size, char *path, size_t len)
{
	int	fd;

	snprintf(path, len, "%s/%s", tmpdir, name);
	cr_assert_neq(fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), -1);
	cr_assert_eq(ftruncate(fd, size), 0);
	close(fd);
	return (0);
}

Test(scan_npm_child, oversized_is_not_read, .init = mktmp, .fini = rmtmp)
{
	struct scan_peer	 p;
	struct scan_result	*res;
	char			 path[PATH_MAX];
	int			 fd;

	scan_peer_start(&p, 1);
	/*
	 * 50 MB, opened write-only: any read would fail with EBADF and
	 * show as "unreadable"; "oversized" proves nothing was read.
	 */
	sparse_file("package-lock.json", 50 * 1000 * 1000, path,
	    sizeof(path));
	cr_assert_neq(fd = open(path, O_WRONLY), -1);
	cr_assert_not_null(res = scan_peer_fd(&p, SCAN_PARSER_NPM_LOCK, 0, fd,
	    path, 0, "", ""));
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->nissues, 1);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_OVERSIZED);
	cr_assert_str_eq(res->issues[0].path, path);
	cr_assert_eq(res->nitems, 0);
	scan_result_free(res);

	/* One byte over the cap: oversized; exactly the cap: read. */
	sparse_file("over.json", SCAN_CAP_PACKAGE + 1, path, sizeof(path));
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_NPM_LOCK, 0,
	    path));
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_OVERSIZED);
	scan_result_free(res);
	sparse_file("at-cap.json", SCAN_CAP_PACKAGE, path, sizeof(path));
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_NPM_LOCK, 0,
	    path));
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_MALFORMED,
	    "%s", res->issues[0].reason);
	scan_result_free(res);
	scan_peer_stop(&p);
}

Test(scan_npm_child, not_regular, .init = mktmp, .fini = rmtmp)
{
	struct scan_peer	 p;
	struct scan_result	*res;
	int			 pfd[2], dfd;

	scan_peer_start(&p, 1);
	cr_assert_eq(pipe(pfd), 0);
	cr_assert_not_null(res = scan_peer_fd(&p, SCAN_PARSER_NPM_LOCK, 0,
	    pfd[0], "/tmp/fifo/package-lock.json", 0, "", ""));
	close(pfd[1]);
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_NOT_REGULAR);
	scan_result_free(res);
	cr_assert_neq(dfd = open(tmpdir, O_RDONLY | O_DIRECTORY), -1);
	cr_assert_not_null(res = scan_peer_fd(&p, SCAN_PARSER_NPM_LOCK, 0,
	    dfd, "/tmp/dir/package-lock.json", 0, "", ""));
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_NOT_REGULAR);
	scan_result_free(res);
	scan_peer_stop(&p);
}

Test(scan_npm_child, grows_while_read)
{
	struct scan_peer	 p;
	struct scan_result	*res;

	/* /proc files say 0 bytes and then have content: "changed". */
	scan_peer_start(&p, 1);
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_NPM_LOCK, 0,
	    "/proc/self/status"));
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_CHANGED, "%s",
	    res->issues[0].reason);
	scan_result_free(res);
	scan_peer_stop(&p);
}

/*
 * The parent's and the child's ends of a scan channel in this process,
 * for races a forked child cannot be made to lose on cue: the parent's
 * scanproto with one file sent, the child's imsgbuf to answer on.
 */
struct inproc {
	struct imsgbuf		 ib;	/* the parent's end */
	struct imsgbuf		 cb;	/* the child's end */
	struct scanproto	*sp;
	struct scan_file	 f;
	int			 sv[2];
};

/* tmpdir's package-lock.json with the v3 fixture, open read-write. */
static int
fixture_lockfile(char *path, size_t pathlen, char **doc, size_t *len)
{
	char	*src;
	int	 fd;

	src = srcpath("regress/scan/package-lock-v3.json");
	*doc = must_slurp(src, len);
	free(src);
	snprintf(path, pathlen, "%s/package-lock.json", tmpdir);
	cr_assert_neq(fd = open(path, O_RDWR | O_CREAT, 0600), -1);
	cr_assert_eq(write(fd, *doc, *len), (ssize_t)*len);
	return (fd);
}

/* The channel, and path (open as fd, which stays ours) sent over it. */
static void
inproc_send(struct inproc *p, const char *path, int fd)
{
	int	dupfd;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p->sv), 0);
	cr_assert_eq(imsgbuf_init(&p->ib, p->sv[0]), 0);
	cr_assert_eq(scanproto_channel_init(&p->ib), 0);
	cr_assert_eq(imsgbuf_init(&p->cb, p->sv[1]), 0);
	cr_assert_eq(scanproto_channel_init(&p->cb), 0);
	cr_assert_not_null(p->sp = scanproto_new());
	memset(&p->f, 0, sizeof(p->f));
	p->f.file_id = 1;
	p->f.surface = SURFACE_JAVASCRIPT;
	p->f.parser = SCAN_PARSER_NPM_LOCK;
	strlcpy(p->f.path, path, sizeof(p->f.path));
	/* Register the file with the decoder; the child side is us. */
	cr_assert_neq(dupfd = dup(fd), -1);
	cr_assert_eq(scanproto_send_file(p->sp, &p->ib, &p->f, dupfd), 0);
}

/*
 * The child's answer as the parent decodes it: a file that failed as
 * changed while read, with no item.  Then the channel is closed.
 */
static void
inproc_expect_changed(struct inproc *p)
{
	struct scan_result	*res = NULL;
	struct imsg		 imsg;
	int			 r = 0;

	cr_assert_eq(imsgbuf_flush(&p->cb), 0);
	imsgbuf_clear(&p->cb);
	cr_assert_eq(imsgbuf_flush(&p->ib), 0);
	cr_assert_eq(imsgbuf_read(&p->ib), 1);
	while (r == 0 && imsg_get(&p->ib, &imsg) > 0) {
		r = scanproto_dispatch(p->sp, &imsg, &res);
		imsg_free(&imsg);
	}
	cr_assert_eq(r, 1);
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->nitems, 0);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_CHANGED, "%s",
	    res->issues[0].reason);
	scan_result_free(res);
	scanproto_free(p->sp);
	imsgbuf_clear(&p->ib);
	close(p->sv[0]);
	close(p->sv[1]);
}

Test(scan_npm_child, shrinks_while_read, .init = mktmp, .fini = rmtmp)
{
	struct inproc	 p;
	struct scan_out	 out;
	struct stat	 st;
	char		 path[PATH_MAX], *doc;
	int		 fd;
	size_t		 len;

	/*
	 * fstat() said N bytes, the read finds fewer: what a truncation
	 * between the two looks like.  scan_file_run() takes the stat
	 * the caller saw, so the race is made deterministic.
	 */
	fd = fixture_lockfile(path, sizeof(path), &doc, &len);
	free(doc);
	cr_assert_eq(fstat(fd, &st), 0);
	st.st_size += 4096;
	inproc_send(&p, path, fd);
	cr_assert_eq(scan_out_begin(&out, &p.cb, &p.f), 0);
	cr_assert_eq(scan_file_run(&out, &p.f, fd, &st), 0);
	inproc_expect_changed(&p);
	close(fd);
}

/*
 * The file grew between the parent's send (its size, and the answer's
 * budget, are the ones it saw) and the child's own fstat(): the child
 * reads it as changed while read, and answers no item for it.  (Before,
 * it answered for the bigger file, and one truncated to 0 bytes at the
 * send had its honest items refused and its child killed.)
 */
Test(scan_npm_child, size_not_the_sent_one, .init = mktmp, .fini = rmtmp)
{
	struct inproc	 p;
	struct stat	 st;
	char		 path[PATH_MAX], *doc;
	int		 fd;
	size_t		 len;

	fd = fixture_lockfile(path, sizeof(path), &doc, &len);
	cr_assert_eq(fstat(fd, &st), 0);
	inproc_send(&p, path, fd);
	/* What the message carried: the size at the send. */
	p.f.size = (uint64_t)st.st_size;
	/* Then the file grows: the same document written twice. */
	cr_assert_eq(write(fd, doc, len), (ssize_t)len);
	free(doc);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	cr_assert_eq(scan_file_process(&p.cb, &p.f, fd), 0);	/* closes fd */
	inproc_expect_changed(&p);
}

Test(scan_npm_child, nul_in_name, .init = mktmp, .fini = rmtmp)
{
	struct scan_peer	 p;
	struct scan_result	*res;
	FILE			*f;
	char			 path[PATH_MAX];

	/* \u0000 decodes, but no item may carry a NUL: the file fails. */
	snprintf(path, sizeof(path), "%s/package-lock.json", tmpdir);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "{\"packages\":{\"node_modules/a\":{\"version\":\"1\"},"
	    "\"node_modules/a\\u0000b\":{\"version\":\"1\"}}}");
	cr_assert_eq(fclose(f), 0);
	scan_peer_start(&p, 1);
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_NPM_LOCK, 0,
	    path));
	cr_assert_eq(res->status, SCAN_FAILED);
	cr_assert_eq(res->nitems, 0);
	cr_assert_eq(res->issues[0].code, SCAN_ISSUE_LIMIT, "%s",
	    res->issues[0].reason);
	scan_result_free(res);
	scan_peer_stop(&p);
}

/* A large generated lockfile through the child: batches, streaming. */
Test(scan_npm_child, large_lockfile, .init = mktmp, .fini = rmtmp)
{
	struct scan_peer	 p;
	struct scan_result	*res;
	FILE			*f;
	char			 path[PATH_MAX];
	int			 i, n = 60000;

	snprintf(path, sizeof(path), "%s/package-lock.json", tmpdir);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "{\"lockfileVersion\":3,\"packages\":{\"\":{}");
	for (i = 0; i < n; i++)
		fprintf(f, ",\n    \"node_modules/pkg-%06d\": {\n"
		    "      \"version\": \"1.%d.0\",\n      \"resolved\": "
		    "\"https://registry.npmjs.org/pkg-%06d/-/pkg-%06d-1.%d.0.tgz"
		    "\",\n      \"integrity\": \"sha512-%064d\"%s\n    }",
		    i, i % 100, i, i, i % 100, i, i % 3 ? "" :
		    ",\n      \"dev\": true");
	fprintf(f, "}}\n");
	cr_assert_eq(fclose(f), 0);

	scan_peer_start(&p, 1);
	cr_assert_not_null(res = scan_peer_file(&p, SCAN_PARSER_NPM_LOCK, 0,
	    path));
	cr_assert_eq(res->status, SCAN_OK);
	cr_assert_eq(res->nitems, (size_t)n);
	cr_assert_str_eq(res->items[12345].name, "pkg-012345");
	cr_assert_str_eq(res->items[12345].version, "1.45.0");
	cr_assert_str_eq(res->items[12345].path, path);
	cr_assert_not_null(strstr(res->items[12345].detail, " scope=dev"));
	cr_assert_null(strstr(res->items[12346].detail, "scope"));
	scan_result_free(res);
	scan_peer_stop(&p);
}
