/*
 * Requirement includes in the parent (SURFACES.md 8, 0.2).  The scan
 * child has no file system: when a requirements file says "-r other.txt"
 * or "-c other.txt" it reports the target (IMSG_SCAN_INCLUDE) and the
 * parent decides here whether to follow it:
 *
 *  - the target is resolved lexically against the including file's
 *    directory ("." and ".." folded, no file system access);
 *  - it must stay inside the directory of the top-level file, else it
 *    is ignored like any option (no issue);
 *  - a file already in the current include chain (the including file
 *    and its ancestors) is ignored, so a cycle ends;
 *  - its name must be one a requirements file can honestly name: it
 *    ends in .txt or .in and no component below the top-level file's
 *    directory starts with a dot, else an issue (a child that names
 *    .env or .git/config gets nothing opened);
 *  - the include's depth (first level 1) must be at most
 *    REQINC_MAX_DEPTH and fewer than REQINC_MAX_FILES includes may have
 *    been started for the top-level file, else an issue on the include's
 *    path and it is skipped;
 *  - what is followed is queued as a job; the sensor opens it like any
 *    discovered file (the user's rights, beneath the top-level file's
 *    anchor), sends it only if what it opened is the file the name
 *    means (no symbolic link below the top-level file's directory:
 *    reqinc_opened) and a regular file of at most
 *    REQINC_MAX_SIZE bytes, within REQINC_MAX_BYTES for all the includes
 *    of one top-level file (reqinc_charge), as another IMSG_SCAN_FILE,
 *    a -c include (or anything below a constraints file) with
 *    SCAN_F_CONSTRAINT.
 *
 * The reference follows includes depth first as it reads; here a file's
 * includes are queued when its answer arrives, so the order in which
 * the 250-file budget runs out can differ in a pathological tree.
 */
#ifndef KOBANGD_REQINC_H
#define KOBANGD_REQINC_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>

#include "scanproto.h"

#define REQINC_MAX_DEPTH	16
#define REQINC_MAX_FILES	250
#define REQINC_MAX_SIZE		(1024 * 1024)		/* one include */
#define REQINC_MAX_BYTES	(8 * 1024 * 1024)	/* all of a top file's */

struct reqinc_node {
	uint32_t	 file_id;	/* as sent to the scan child */
	char		*path;		/* absolute */
	int		 parent;	/* node index; -1: top-level */
	int		 top;		/* the top-level node */
	int		 depth;		/* 0: top-level */
	int		 constraint;
	size_t		 anchor;	/* the top-level file's anchor */
	size_t		 started;	/* top-level only: includes started */
	uint64_t	 bytes;		/* top-level only: their bytes */
};

struct reqinc_job {
	char		*path;		/* absolute, resolved */
	int		 parent;	/* node index of the including file */
	int		 constraint;
	size_t		 anchor;
};

/* All zero is an empty tracker. */
struct reqinc {
	struct reqinc_node	*nodes;
	size_t			 nnodes, capnodes;
	struct reqinc_job	*jobs;
	size_t			 njobs, capjobs, jhead;
};

void	 reqinc_free(struct reqinc *);
/* A top-level requirements file as sent.  0, or -1 (ENOMEM). */
int	 reqinc_add_top(struct reqinc *, uint32_t, const char *, size_t, int);
/* The node of a file id sent, or -1. */
int	 reqinc_find(const struct reqinc *, uint32_t);

#define REQINC_QUEUED	1
#define REQINC_IGNORED	0
#define REQINC_SKIPPED	2	/* over a budget: issue on path, why */

/*
 * An include a node's file named.  Returns REQINC_QUEUED,
 * REQINC_IGNORED, REQINC_SKIPPED (path and why set), or -1 (ENOMEM).
 */
int	 reqinc_offer(struct reqinc *, int, int, const char *, char *,
	    size_t, char *, size_t);
/* Jobs not yet taken. */
size_t	 reqinc_pending(const struct reqinc *);
/*
 * The job's file as opened, by the path the kernel gives for its
 * descriptor: NULL if it is the file the name checked by reqinc_offer()
 * means, else why not (a symbolic link below the top-level file's
 * directory led elsewhere).  Ask before reqinc_charge().
 */
const char *reqinc_opened(const struct reqinc *, const struct reqinc_job *,
	    const char *);
/*
 * The job's file as opened: NULL if it may be sent (its bytes are
 * charged to the top-level file), else why not (not a regular file,
 * over REQINC_MAX_SIZE, or over REQINC_MAX_BYTES with the others).
 */
const char *reqinc_charge(struct reqinc *, const struct reqinc_job *,
	    const struct stat *);
/* Take the next job (the caller owns job->path), 0; or -1 if none. */
int	 reqinc_next(struct reqinc *, struct reqinc_job *);
/* The job was sent as file id: it becomes a node.  0 or -1 (ENOMEM). */
int	 reqinc_sent(struct reqinc *, struct reqinc_job *, uint32_t);

/*
 * Resolve target against the directory of the absolute path including,
 * folding "." and ".." lexically, into buf.  0, or -1 if it does not fit.
 */
int	 reqinc_resolve(const char *, const char *, char *, size_t);

#endif
