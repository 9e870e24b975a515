/*
 * The state database's cost on the bench shape: 300,000 npm
 * package items in 1,000 lockfiles, first as the sensor stores a
 * baseline (streamed: begin, one piece per lockfile, end; no sync), with
 * the insert and the commit timed apart and the database's bytes per
 * item after the checkpoint; then committed as one baseline without
 * sync, then again (fresh database) with an outbox row each (payload,
 * SHA-256, event id, sequence); then a one-package version bump as a
 * normal scan (two changes, two outbox rows) against the stored
 * snapshot.  Prints items per second (wall and CPU), the snapshot load
 * time, the small commit's latency, the database size and the peak RSS
 * of this process (which holds the 300,000 items twice).
 */

#include <sys/resource.h>
#include <sys/stat.h>

#include <err.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "compat.h"
#include "differ.h"
#include "store.h"

#define NFILES		1000
#define PERFILE		300
#define NITEMS		(NFILES * PERFILE)

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static double
cpu(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static int64_t
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	return (remove(p));
}

static off_t
fsize(const char *dir, const char *name)
{
	struct stat	sb;
	char		p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return (stat(p, &sb) == 0 ? sb.st_size : 0);
}

/* Lockfile entries as npm writes them: sorted names, sha512 integrity. */
static void
make_items(struct item *v)
{
	char		 path[256], name[64], ver[32], detail[512], integ[89];
	uint8_t		 hash[64];
	const char	*base;
	size_t		 f, i, k, n = 0;
	unsigned int	 seed = 1;

	for (f = 0; f < NFILES; f++) {
		snprintf(path, sizeof(path),
		    "/home/user%zu/src/project-%04zu/package-lock.json",
		    f % 7, f);
		for (i = 0; i < PERFILE; i++, n++) {
			snprintf(name, sizeof(name), "%spkg-%05zu",
			    i % 5 == 0 ? "@scope/" : "", (i * 7919) % 50000);
			snprintf(ver, sizeof(ver), "%u.%u.%u",
			    rand_r(&seed) % 20, rand_r(&seed) % 40,
			    rand_r(&seed) % 10);
			/* npm's tarball is named without the scope. */
			base = strchr(name, '/') ? strchr(name, '/') + 1 :
			    name;
			/* A SHA-512 in base64, as npm writes it. */
			for (k = 0; k < sizeof(hash); k++)
				hash[k] = rand_r(&seed) & 0xff;
			if (b64_encode(hash, sizeof(hash), integ,
			    sizeof(integ)) == -1)
				errx(1, "base64");
			snprintf(detail, sizeof(detail),
			    "resolved=https://registry.npmjs.org/%s/-/%s-%s.tgz "
			    "integrity=sha512-%s%s", name, base, ver, integ,
			    i % 3 == 0 ? " scope=dev" : "");
			memset(&v[n], 0, sizeof(v[n]));
			v[n].surface = SURFACE_JAVASCRIPT;
			v[n].kind = KIND_PACKAGE;
			if ((v[n].name = strdup(name)) == NULL ||
			    (v[n].version = strdup(ver)) == NULL ||
			    (v[n].path = strdup(path)) == NULL ||
			    (v[n].origin = strdup("npm")) == NULL ||
			    (v[n].detail = strdup(detail)) == NULL)
				err(1, NULL);
			v[n].installed_on_request = ITEM_BOOL_NIL;
		}
	}
}

#define DEVICE	"6F1C2B9E-0D4A-4E7B-9C55-1A2B3C4D5E6F"
#define TENANT	"0B6F8D52-3C1E-4A57-9E0D-7A1B2C3D4E5F"

static struct store *
baseline(struct item *v, char *dir, int outbox)
{
	struct store			*st;
	struct store_scan		 sc;
	struct store_commit_result	 res;
	char				 ebuf[512];
	double				 t0, t1, c0, c1;

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	if ((st = store_open(dir, ebuf, sizeof(ebuf))) == NULL)
		errx(1, "%s", ebuf);
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.baseline = 1;
	sc.items = v;
	sc.nitems = NITEMS;
	sc.completed_ms = sc.artifact_ms = wall_ms();
	sc.max_events = 5000;
	sc.max_findings = 1000;
	sc.device_id = outbox ? DEVICE : NULL;
	sc.tenant_id = outbox ? TENANT : NULL;
	c0 = cpu();
	t0 = now();
	if (store_commit_scan(st, &sc, &res) == -1)
		errx(1, "baseline commit failed");
	t1 = now();
	c1 = cpu();
	printf("baseline commit, %s: %d items, %zu outbox rows in %.3f s "
	    "(%.0f items/s), %.3f s CPU (%.0f items/CPU s); db + wal %.1f "
	    "MB\n", outbox ? "sync on" : "sync off", NITEMS,
	    res.noutbox, t1 - t0, NITEMS / (t1 - t0), c1 - c0,
	    NITEMS / (c1 - c0), (fsize(dir, STORE_DBNAME) +
	    fsize(dir, STORE_DBNAME "-wal")) / 1e6);
	return (st);
}

/*
 * The sensor's way: the rows go in file by file while the scan runs,
 * and the commit at the end writes the surface state.  The parent is
 * busy for both; the commit is what the last file waits for.
 */
static void
streamed(struct item *v)
{
	struct store			*st;
	struct store_scan		 sc;
	struct store_commit_result	 res;
	char				 dir[] = "/tmp/bench_store.XXXXXX";
	char				 ebuf[512];
	double				 t0, t1, t2, c0, c1, c2;
	off_t				 db, wal;
	size_t				 f;

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	if ((st = store_open(dir, ebuf, sizeof(ebuf))) == NULL)
		errx(1, "%s", ebuf);
	c0 = cpu();
	t0 = now();
	if (store_baseline_begin(st, SURFACE_JAVASCRIPT) == -1)
		errx(1, "baseline begin failed");
	for (f = 0; f < NFILES; f++)
		if (store_baseline_add(st, v + f * PERFILE, PERFILE) == -1)
			errx(1, "baseline add failed");
	t1 = now();
	c1 = cpu();
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.baseline = 1;
	sc.completed_ms = sc.artifact_ms = wall_ms();
	sc.max_events = 5000;
	sc.max_findings = 1000;
	if (store_baseline_end(st, &sc, &res) == -1)
		errx(1, "baseline end failed");
	t2 = now();
	c2 = cpu();
	printf("streamed baseline, sync off: %d items in %.3f s (%.0f "
	    "items/s), %.3f s CPU (%.0f items/CPU s)\n", NITEMS, t2 - t0,
	    NITEMS / (t2 - t0), c2 - c0, NITEMS / (c2 - c0));
	printf("  inserts %.3f s (%.3f s CPU), commit alone %.3f s "
	    "(%.3f s CPU)\n", t1 - t0, c1 - c0, t2 - t1, c2 - c1);
	db = fsize(dir, STORE_DBNAME);
	wal = fsize(dir, STORE_DBNAME "-wal");
	printf("  right after the commit: db %.1f MB, wal %.1f MB\n",
	    db / 1e6, wal / 1e6);
	t0 = now();
	store_close(st);
	t1 = now();
	db = fsize(dir, STORE_DBNAME);
	wal = fsize(dir, STORE_DBNAME "-wal");
	printf("  close (checkpoint) %.3f s; then db %.1f MB + wal %.1f MB "
	    "= %.1f bytes/item\n", t1 - t0, db / 1e6, wal / 1e6,
	    (double)(db + wal) / NITEMS);
	/* For a look inside (sqlite3's dbstat), keep it. */
	if (getenv("BENCH_STORE_KEEP") != NULL) {
		printf("  kept in %s\n", dir);
		return;
	}
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	struct store			*st;
	struct store_scan		 sc;
	struct store_commit_result	 res;
	struct item			*v, *snap;
	struct change			*ch;
	struct rusage			 ru;
	char				 dir1[] = "/tmp/bench_store.XXXXXX";
	char				 dir[] = "/tmp/bench_store.XXXXXX";
	char				 ebuf[512];
	char				*oldver;
	size_t				 nsnap, nch;
	double				 t0, t1, t2, t3;

	if ((v = calloc(NITEMS, sizeof(*v))) == NULL)
		err(1, NULL);
	make_items(v);

	streamed(v);
	/* Only that, for a profile (perf record) of the sensor's way. */
	if (getenv("BENCH_STORE_STREAMED") != NULL)
		return (0);

	st = baseline(v, dir1, 0);
	store_close(st);
	nftw(dir1, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	st = baseline(v, dir, 1);
	/*
	 * The daemon checkpoints when idle after a commit: reads then do
	 * not go through a WAL of the whole baseline.  Close and open
	 * again does that here (and the same before the idle checkpoint).
	 */
	t0 = now();
	store_close(st);
	if ((st = store_open(dir, ebuf, sizeof(ebuf))) == NULL)
		errx(1, "%s", ebuf);
	t1 = now();
	printf("close (checkpoint) and open: %.3f s\n", t1 - t0);

	t0 = now();
	if (store_load_snapshot(st, SURFACE_JAVASCRIPT, &snap, &nsnap) == -1)
		errx(1, "load failed");
	t1 = now();
	printf("snapshot load: %zu items in %.3f s\n", nsnap, t1 - t0);

	/* One package bumped: on a package surface, an add and a remove. */
	oldver = v[NITEMS / 2].version;
	v[NITEMS / 2].version = "99.0.0";
	t0 = now();
	if (differ_diff(snap, nsnap, v, NITEMS, &ch, &nch) == -1)
		err(1, "diff");
	t1 = now();
	memset(&sc, 0, sizeof(sc));
	sc.surface = SURFACE_JAVASCRIPT;
	sc.items = v;
	sc.nitems = NITEMS;
	sc.changes = ch;
	sc.nchanges = nch;
	sc.completed_ms = sc.artifact_ms = wall_ms();
	sc.max_events = 5000;
	sc.max_findings = 1000;
	sc.device_id = DEVICE;
	t2 = now();
	if (store_commit_scan(st, &sc, &res) == -1)
		errx(1, "normal commit failed");
	t3 = now();
	printf("one-package bump: diff %.1f ms, commit of %zu changes "
	    "(%zu outbox rows, seq %lld..%lld) %.2f ms\n", (t1 - t0) * 1e3,
	    nch, res.noutbox, (long long)res.first_seq,
	    (long long)res.last_seq, (t3 - t2) * 1e3);
	/* And once more, now that the WAL is small again. */
	v[NITEMS / 2].version = oldver;
	free(ch);
	store_items_free(snap, nsnap);
	if (store_load_snapshot(st, SURFACE_JAVASCRIPT, &snap, &nsnap) == -1 ||
	    differ_diff(snap, nsnap, v, NITEMS, &ch, &nch) == -1)
		errx(1, "reload");
	sc.changes = ch;
	sc.nchanges = nch;
	t2 = now();
	if (store_commit_scan(st, &sc, &res) == -1)
		errx(1, "normal commit failed");
	t3 = now();
	printf("bump back: commit of %zu changes %.2f ms\n", nch,
	    (t3 - t2) * 1e3);

	t0 = now();
	store_close(st);
	t1 = now();
	printf("close (checkpoint): %.3f s; db %.1f MB, wal %.1f MB\n",
	    t1 - t0, fsize(dir, STORE_DBNAME) / 1e6,
	    fsize(dir, STORE_DBNAME "-wal") / 1e6);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS of the bench process (items in memory twice): "
	    "%.1f MB\n", ru.ru_maxrss / 1024.0);

	free(ch);
	store_items_free(snap, nsnap);
	for (nch = 0; nch < NITEMS; nch++) {
		free(v[nch].name);
		free(v[nch].version);
		free(v[nch].path);
		free(v[nch].origin);
		free(v[nch].detail);
	}
	free(v);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return (0);
}
