/*
 * Requirement includes in the parent: see reqinc.h.  Pure bookkeeping:
 * no file is touched here.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "reqinc.h"

void
reqinc_free(struct reqinc *ri)
{
	size_t	i;

	for (i = 0; i < ri->nnodes; i++)
		free(ri->nodes[i].path);
	free(ri->nodes);
	for (i = ri->jhead; i < ri->njobs; i++)
		free(ri->jobs[i].path);
	free(ri->jobs);
	memset(ri, 0, sizeof(*ri));
}

static int
node_add(struct reqinc *ri, struct reqinc_node *n)
{
	struct reqinc_node	*v;
	size_t			 nc;

	if (ri->nnodes >= INT_MAX) {
		errno = ENOMEM;
		return (-1);
	}
	if (ri->nnodes == ri->capnodes) {
		nc = ri->capnodes ? ri->capnodes * 2 : 16;
		if ((v = reallocarray(ri->nodes, nc, sizeof(*v))) == NULL)
			return (-1);
		ri->nodes = v;
		ri->capnodes = nc;
	}
	ri->nodes[ri->nnodes++] = *n;
	return (0);
}

int
reqinc_add_top(struct reqinc *ri, uint32_t file_id, const char *path,
    size_t anchor, int constraint)
{
	struct reqinc_node	n;

	memset(&n, 0, sizeof(n));
	n.file_id = file_id;
	n.parent = -1;
	n.top = (int)ri->nnodes;
	n.constraint = constraint != 0;
	n.anchor = anchor;
	if ((n.path = strdup(path)) == NULL)
		return (-1);
	if (node_add(ri, &n) == -1) {
		free(n.path);
		return (-1);
	}
	return (0);
}

int
reqinc_find(const struct reqinc *ri, uint32_t file_id)
{
	size_t	i;

	/* File ids grow: the newest node is the likeliest. */
	for (i = ri->nnodes; i > 0; i--)
		if (ri->nodes[i - 1].file_id == file_id)
			return ((int)(i - 1));
	return (-1);
}

int
reqinc_resolve(const char *including, const char *target, char *buf,
    size_t len)
{
	char		 tmp[PATH_MAX * 2];
	const char	*slash, *p, *seg;
	size_t		 out = 0, seglen, dlen;

	if (target[0] == '/') {
		if (strlcpy(tmp, target, sizeof(tmp)) >= sizeof(tmp))
			return (-1);
	} else {
		if ((slash = strrchr(including, '/')) == NULL)
			return (-1);
		dlen = (size_t)(slash - including);
		if (dlen + 1 + strlen(target) >= sizeof(tmp))
			return (-1);
		memcpy(tmp, including, dlen);
		tmp[dlen] = '/';
		strlcpy(tmp + dlen + 1, target, sizeof(tmp) - dlen - 1);
	}
	if (len < 2)
		return (-1);
	/* Fold the segments: out is the length of buf without a NUL. */
	for (p = tmp; *p != '\0'; p = seg + seglen) {
		while (*p == '/')
			p++;
		seg = p;
		seglen = strcspn(seg, "/");
		if (seglen == 0 || (seglen == 1 && seg[0] == '.'))
			continue;
		if (seglen == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > 0 && buf[out - 1] != '/')
				out--;
			if (out > 0)
				out--;		/* the slash */
			continue;
		}
		if (out + 1 + seglen >= len)
			return (-1);
		buf[out++] = '/';
		memcpy(buf + out, seg, seglen);
		out += seglen;
	}
	if (out == 0)
		buf[out++] = '/';
	buf[out] = '\0';
	return (0);
}

/* path lies strictly below the directory of the absolute path top. */
static int
below_dir_of(const char *path, const char *top)
{
	const char	*slash = strrchr(top, '/');
	size_t		 dlen;

	if (slash == NULL)
		return (0);
	dlen = (size_t)(slash - top);
	if (dlen == 0)		/* top-level file in "/" */
		return (path[0] == '/' && path[1] != '\0');
	return (strncmp(path, top, dlen) == 0 && path[dlen] == '/' &&
	    path[dlen + 1] != '\0');
}

/*
 * What an honest requirements file can name, decided here and not by
 * the child: a requirements file name (".txt", or pip-tools' ".in"),
 * with no hidden component below the top-level file's directory (no
 * .env, .git/config, .ssh/id_ed25519).  NULL, or why not.
 */
static const char *
include_name_refused(const char *path, const char *top)
{
	const char	*rel, *base, *p;
	size_t		 n;

	rel = path + (size_t)(strrchr(top, '/') - top) + 1;
	for (p = rel; *p != '\0'; p += n + (p[n] == '/')) {
		n = strcspn(p, "/");
		if (p[0] == '.')
			return ("a hidden file or directory");
	}
	base = strrchr(path, '/') + 1;
	n = strlen(base);
	if (!(n > 4 && strcmp(base + n - 4, ".txt") == 0) &&
	    !(n > 3 && strcmp(base + n - 3, ".in") == 0))
		return ("not a requirements file name (*.txt, *.in)");
	return (NULL);
}

int
reqinc_offer(struct reqinc *ri, int node, int constraint, const char *target,
    char *path, size_t pathlen, char *why, size_t whylen)
{
	const char			*refused;
	const struct reqinc_node	*n, *top;
	struct reqinc_job		*v, j;
	size_t				 nc;
	int				 i, depth;

	if (node < 0 || (size_t)node >= ri->nnodes)
		return (REQINC_IGNORED);
	n = &ri->nodes[node];
	top = &ri->nodes[n->top];
	if (reqinc_resolve(n->path, target, path, pathlen) == -1 ||
	    !below_dir_of(path, top->path))
		return (REQINC_IGNORED);
	/* Already in the current include chain: a cycle ends here. */
	for (i = node; i != -1; i = ri->nodes[i].parent)
		if (strcmp(ri->nodes[i].path, path) == 0)
			return (REQINC_IGNORED);
	if ((refused = include_name_refused(path, top->path)) != NULL) {
		snprintf(why, whylen, "include not followed: %s", refused);
		return (REQINC_SKIPPED);
	}
	depth = n->depth + 1;
	if (depth > REQINC_MAX_DEPTH) {
		snprintf(why, whylen, "include not followed: deeper than %d "
		    "levels", REQINC_MAX_DEPTH);
		return (REQINC_SKIPPED);
	}
	if (top->started >= REQINC_MAX_FILES) {
		snprintf(why, whylen, "include not followed: %d files already "
		    "included from %s", REQINC_MAX_FILES, top->path);
		return (REQINC_SKIPPED);
	}
	memset(&j, 0, sizeof(j));
	j.parent = node;
	j.constraint = constraint || n->constraint;
	j.anchor = top->anchor;
	if ((j.path = strdup(path)) == NULL)
		return (-1);
	if (ri->njobs == ri->capjobs) {
		nc = ri->capjobs ? ri->capjobs * 2 : 16;
		if ((v = reallocarray(ri->jobs, nc, sizeof(*v))) == NULL) {
			free(j.path);
			return (-1);
		}
		ri->jobs = v;
		ri->capjobs = nc;
	}
	ri->jobs[ri->njobs++] = j;
	ri->nodes[n->top].started++;
	return (REQINC_QUEUED);
}

/*
 * disc_open() follows symbolic links beneath the anchor, so a name that
 * passed include_name_refused() (link.txt) may open another file (.env,
 * a key).  opened, the path of what was opened, must end in the same
 * components below the top-level file's directory as the name: no link
 * below that directory changed what the name means.  A link above it
 * (a home under a linked /home) changes only the beginning.
 */
const char *
reqinc_opened(const struct reqinc *ri, const struct reqinc_job *j,
    const char *opened)
{
	const char	*top, *rel;
	size_t		 rlen, olen;

	if (j->parent < 0 || (size_t)j->parent >= ri->nnodes)
		return ("no including file");
	top = ri->nodes[ri->nodes[j->parent].top].path;
	/* "/rel": reqinc_offer() made the path below top's directory. */
	rel = j->path + (size_t)(strrchr(top, '/') - top);
	rlen = strlen(rel);
	olen = strlen(opened);
	if (olen < rlen || strcmp(opened + olen - rlen, rel) != 0)
		return ("a symbolic link to another file");
	return (NULL);
}

const char *
reqinc_charge(struct reqinc *ri, const struct reqinc_job *j,
    const struct stat *st)
{
	struct reqinc_node	*top;

	if (!S_ISREG(st->st_mode))
		return ("not a regular file");
	if (st->st_size > REQINC_MAX_SIZE)
		return ("larger than 1 MiB");
	if (j->parent < 0 || (size_t)j->parent >= ri->nnodes)
		return ("no including file");
	top = &ri->nodes[ri->nodes[j->parent].top];
	if (top->bytes + (uint64_t)st->st_size > REQINC_MAX_BYTES)
		return ("its includes exceed 8 MiB");
	top->bytes += (uint64_t)st->st_size;
	return (NULL);
}

size_t
reqinc_pending(const struct reqinc *ri)
{
	return (ri->njobs - ri->jhead);
}

int
reqinc_next(struct reqinc *ri, struct reqinc_job *job)
{
	if (ri->jhead == ri->njobs)
		return (-1);
	*job = ri->jobs[ri->jhead++];
	ri->jobs[ri->jhead - 1].path = NULL;
	if (ri->jhead == ri->njobs)
		ri->jhead = ri->njobs = 0;
	return (0);
}

int
reqinc_sent(struct reqinc *ri, struct reqinc_job *job, uint32_t file_id)
{
	struct reqinc_node	n;

	memset(&n, 0, sizeof(n));
	n.file_id = file_id;
	n.path = job->path;
	n.parent = job->parent;
	n.top = ri->nodes[job->parent].top;
	n.depth = ri->nodes[job->parent].depth + 1;
	n.constraint = job->constraint;
	n.anchor = job->anchor;
	job->path = NULL;
	if (node_add(ri, &n) == -1) {
		free(n.path);
		return (-1);
	}
	return (0);
}
