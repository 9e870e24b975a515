/*
 * The scan child's work on one handed descriptor: check it, read it
 * (hashing as it goes, streaming through the JSON tokenizer's window),
 * parse it, answer.  The child has no file system: the descriptor is all
 * it sees of the file, the label is text.
 *
 * Reading uses pread() from offset 0 and trusts nothing: more bytes than
 * fstat() said, fewer, or a size or modification time that differ after
 * the read are "changed while read", never a crash.  The size cap is
 * checked against fstat() before a byte is read.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"
#include "scan_agents.h"
#include "scan_pkg.h"
#include "sha256.h"

struct reader {
	int			 fd;
	uint64_t		 size;		/* what fstat() said */
	uint64_t		 total;		/* bytes read */
	int			 hashing;
	struct sha256_ctx	 sha;
	char			 hex[SHA256_HEX_BUFSZ];
	int			 hashed;	/* hex holds the digest */
	enum scan_issue_code	 err;
	int			 failed;
	int			 saved_errno;
};

struct filectx {
	struct scan_out		*out;
	struct reader		*rd;
	int			 fatal;		/* the channel failed */
	int			 inc_issue;	/* includes over the limit */
};

static void
reader_fail(struct reader *r, enum scan_issue_code code, int e)
{
	if (!r->failed) {
		r->failed = 1;
		r->err = code;
		r->saved_errno = e;
	}
}

static void
reader_stop_hash(struct reader *r)
{
	if (r->hashing) {
		sha256_abort(&r->sha);
		r->hashing = 0;
	}
}

static ssize_t
reader_read(void *arg, void *buf, size_t len)
{
	struct reader	*r = arg;
	ssize_t		 n;

	if (r->failed)
		return (-1);
	do {
		n = pread(r->fd, buf, len, (off_t)r->total);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		reader_fail(r, SCAN_ISSUE_UNREADABLE, errno);
		reader_stop_hash(r);
		return (-1);
	}
	if (n == 0) {
		if (r->total != r->size) {
			/* Shorter than fstat() said: truncated meanwhile. */
			reader_fail(r, SCAN_ISSUE_CHANGED, 0);
			reader_stop_hash(r);
			return (-1);
		}
		if (r->hashing) {
			r->hashing = 0;
			if (sha256_final_hex(&r->sha, r->hex) == 0)
				r->hashed = 1;
		}
		return (0);
	}
	if ((uint64_t)n > r->size - r->total) {
		/* Longer than fstat() said: it grew, or lies (/proc). */
		reader_fail(r, SCAN_ISSUE_CHANGED, 0);
		reader_stop_hash(r);
		return (-1);
	}
	r->total += (uint64_t)n;
	if (r->hashing && sha256_update(&r->sha, buf, (size_t)n) == -1)
		r->hashing = 0;		/* released by the failed update */
	return (n);
}

/*
 * 1 when the file (size bytes, as fstat said in st) hashes to known and
 * did not change while it was hashed; 0 otherwise (read it whole then).
 */
static int
content_unchanged(int fd, uint64_t size, const uint8_t known[32],
    const struct stat *st)
{
	struct sha256_ctx	 h;
	struct stat		 st2;
	unsigned char		 buf[65536];
	uint8_t			 d[SHA256_DIGEST_LEN];
	uint64_t		 off = 0;
	ssize_t			 n;

	if (sha256_init(&h) == -1)
		return (0);
	for (;;) {
		n = pread(fd, buf, sizeof(buf), (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (uint64_t)n;
		if (off > size || sha256_update(&h, buf, (size_t)n) == -1) {
			if (off > size)
				sha256_abort(&h);
			return (0);
		}
	}
	if (n == -1 || off != size) {
		sha256_abort(&h);
		return (0);
	}
	if (sha256_final(&h, d) == -1)
		return (0);
	if (fstat(fd, &st2) == -1 || st2.st_size != st->st_size ||
	    st2.st_mtim.tv_sec != st->st_mtim.tv_sec ||
	    st2.st_mtim.tv_nsec != st->st_mtim.tv_nsec)
		return (0);
	return (memcmp(d, known, sizeof(d)) == 0);
}

/* 64 lowercase hex digits to 32 bytes; 0 or -1. */
static int
hex_digest(const char *hex, uint8_t out[32])
{
	unsigned int	v;
	size_t		i;

	for (i = 0; i < 32; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return (-1);
		out[i] = (uint8_t)v;
	}
	return (0);
}

static int
sink_emit(void *arg, const struct scan_item *it)
{
	struct filectx	*fc = arg;
	char		 buf[SCAN_REASON_MAX];

	if (scan_out_item(fc->out, it) == 0)
		return (0);
	switch (errno) {
	case ERANGE:
		snprintf(buf, sizeof(buf), "an item is larger than the "
		    "limits (name %d, version %d, origin %d, detail %d "
		    "bytes)", SCAN_NAME_MAX, SCAN_VERSION_MAX,
		    SCAN_ORIGIN_MAX, SCAN_DETAIL_MAX);
		break;
	case EILSEQ:
		snprintf(buf, sizeof(buf), "an item holds a NUL character");
		break;
	case EINVAL:
		snprintf(buf, sizeof(buf), "an invalid item");
		break;
	default:
		fc->fatal = 1;
		return (-1);
	}
	if (scan_out_issue(fc->out, SCAN_ISSUE_LIMIT, buf) == -1)
		fc->fatal = 1;
	return (-1);
}

static void
issue_text(const struct reader *r, char *buf, size_t len)
{
	switch (r->err) {
	case SCAN_ISSUE_UNREADABLE:
		snprintf(buf, len, "cannot read the file: %s",
		    strerror(r->saved_errno));
		break;
	case SCAN_ISSUE_CHANGED:
		snprintf(buf, len, "the file changed while it was read "
		    "(%" PRIu64 " bytes expected)", r->size);
		break;
	default:
		snprintf(buf, len, "%s", scan_issue_code_name(r->err));
		break;
	}
}

static void
sink_issue(void *arg, enum scan_issue_code code, const char *reason)
{
	struct filectx	*fc = arg;
	char		 buf[SCAN_REASON_MAX];

	/* A tokenizer error caused by the reader: say what really was. */
	if (code == SCAN_ISSUE_MALFORMED && fc->rd->failed) {
		issue_text(fc->rd, buf, sizeof(buf));
		code = fc->rd->err;
		reason = buf;
	}
	if (scan_out_issue(fc->out, code, reason) == -1)
		fc->fatal = 1;
}

/*
 * A requirements file's include: the parent opens it (SURFACES.md 8).
 * What cannot go on the wire is an issue; parsing goes on.
 */
static int
sink_include(void *arg, int constraint, const char *target, size_t len)
{
	struct filectx	*fc = arg;
	char		 buf[SCAN_REASON_MAX];

	if (scan_out_include(fc->out, constraint, target, len) == 0)
		return (0);
	switch (errno) {
	case ERANGE:
		if (len < PATH_MAX) {
			if (fc->inc_issue++)
				return (0);
			snprintf(buf, sizeof(buf), "more than %d includes; "
			    "the rest are not followed",
			    SCAN_FILE_INCLUDES_MAX);
		} else
			snprintf(buf, sizeof(buf), "include not followed: "
			    "the path is longer than %d bytes", PATH_MAX - 1);
		break;
	case EILSEQ:
		snprintf(buf, sizeof(buf), "include not followed: the path "
		    "holds a NUL character");
		break;
	default:
		fc->fatal = 1;
		return (-1);
	}
	if (scan_out_issue(fc->out, SCAN_ISSUE_LIMIT, buf) == -1) {
		fc->fatal = 1;
		return (-1);
	}
	return (0);
}

static const char *
sink_hash(void *arg)
{
	struct filectx	*fc = arg;

	return (fc->rd->hashed ? fc->rd->hex : NULL);
}

static int
cap_of(enum scan_parser p)
{
	if (p == SCAN_PARSER_BREW_RECEIPT)
		return (SCAN_CAP_BREW_RECEIPT);
	return (scan_pkg_parser(p) ? SCAN_CAP_PACKAGE : SCAN_CAP_AGENT);
}

/*
 * Read the rest of the file for its hash (a parse that failed stopped
 * early); 0 when the hash is known.
 */
static int
drain_for_hash(struct reader *r)
{
	char	*chunk;
	size_t	 bufsz;

	if (r->hashed)
		return (0);
	if (!r->hashing || r->failed)
		return (-1);
	bufsz = r->size < JSON_WINDOW ? (size_t)r->size + 1 : JSON_WINDOW;
	if ((chunk = malloc(bufsz)) == NULL)
		return (-1);
	while (reader_read(r, chunk, bufsz) > 0)
		;
	free(chunk);
	return (r->hashed ? 0 : -1);
}

/*
 * opencode.json(c) whose mcp or plugin did not decode: the profile item
 * stays (SURFACES.md 6), with the hash when the file can be read to its
 * end, and the file's state is SCAN_OK.  Only when nothing was emitted.
 */
static int
opencode_profile_only(struct filectx *fc, const struct scan_file *req)
{
	struct scan_item	it;

	if (fc->fatal || fc->out->nitems + fc->out->count != 0)
		return (-1);
	memset(&it, 0, sizeof(it));
	it.kind = KIND_CONFIG_PROFILE;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = scan_base_name(req->path);
	it.name.len = strlen(it.name.p);
	it.origin.p = SCAN_ORIGIN_OPENCODE_CONFIG;
	it.origin.len = strlen(SCAN_ORIGIN_OPENCODE_CONFIG);
	if (drain_for_hash(fc->rd) == 0) {
		it.detail.p = fc->rd->hex;
		it.detail.len = SHA256_HEX_LEN;
	}
	return (sink_emit(fc, &it));
}

/* Codex config.toml: the whole document in memory, hashed as read. */
static int
codex_read(struct filectx *fc, const struct scan_file *req,
    const struct scan_sink *sink)
{
	struct reader	*r = fc->rd;
	char		*buf, b[SCAN_REASON_MAX];
	size_t		 len = 0;
	ssize_t		 n;
	int		 pr;

	if ((buf = malloc((size_t)r->size + 1)) == NULL) {
		sink_issue(fc, SCAN_ISSUE_LIMIT, "out of memory");
		return (-1);
	}
	while ((n = reader_read(r, buf + len, (size_t)r->size + 1 -
	    len)) > 0)
		len += (size_t)n;
	if (n == -1 || r->failed) {
		issue_text(r, b, sizeof(b));
		sink_issue(fc, r->err, b);
		free(buf);
		return (-1);
	}
	pr = scan_codex_config(buf, len, scan_base_name(req->path),
	    r->hashed ? r->hex : NULL, sink);
	free(buf);
	return (pr);
}

static struct sv
sv_cstr(const char *s)
{
	struct sv	v;

	v.p = s;
	v.len = strlen(s);
	return (v);
}

/* A receipt that could not be read: the package, origin unknown. */
static int
brew_unknown(struct filectx *fc, const struct scan_file *req)
{
	struct scan_item	it;

	memset(&it, 0, sizeof(it));
	it.kind = KIND_PACKAGE;
	it.ior = ITEM_BOOL_NIL;
	it.name = sv_cstr(req->name);
	it.version = sv_cstr(req->version);
	it.origin = sv_cstr(SCAN_ORIGIN_BREW_UNKNOWN);
	return (sink_emit(fc, &it));
}

/* HASH_ONLY: the template's item, detail the hash or nil. */
static int
hash_only(struct filectx *fc, const struct scan_file *req, int ok)
{
	struct scan_item	it;
	char			buf[SCAN_REASON_MAX];
	struct reader		*r = fc->rd;
	ssize_t			n;
	size_t			bufsz;
	char			*chunk = NULL;

	if (ok && !r->hashing)
		sink_issue(fc, SCAN_ISSUE_HASH, "cannot hash the file");
	else if (ok) {
		bufsz = r->size < JSON_WINDOW ? (size_t)r->size + 1 :
		    JSON_WINDOW;
		if ((chunk = malloc(bufsz)) == NULL) {
			reader_fail(r, SCAN_ISSUE_UNREADABLE, ENOMEM);
			reader_stop_hash(r);
		} else
			while ((n = reader_read(r, chunk, bufsz)) > 0)
				;
		free(chunk);
		if (r->failed) {
			/* The parent reads a changing file again. */
			issue_text(r, buf, sizeof(buf));
			sink_issue(fc, r->err == SCAN_ISSUE_CHANGED ?
			    SCAN_ISSUE_CHANGED : SCAN_ISSUE_HASH, buf);
		} else if (!r->hashed)
			sink_issue(fc, SCAN_ISSUE_HASH, "cannot hash the file");
	}
	memset(&it, 0, sizeof(it));
	it.kind = req->kind;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = req->name;
	it.name.len = strlen(req->name);
	it.origin.p = req->origin;
	it.origin.len = strlen(req->origin);
	if (r->hashed) {
		it.detail.p = r->hex;
		it.detail.len = SHA256_HEX_LEN;
	}
	return (sink_emit(fc, &it));
}

int
scan_file_run(struct scan_out *out, const struct scan_file *req, int fd,
    const struct stat *st)
{
	struct reader		 r;
	struct filectx		 fc;
	struct scan_sink	 sink;
	struct json		 js;
	struct stat		 st2;
	char			 buf[SCAN_REASON_MAX];
	size_t			 win;
	int			 status = SCAN_FAILED, pr = -1;

	memset(&r, 0, sizeof(r));
	r.fd = fd;
	memset(&fc, 0, sizeof(fc));
	fc.out = out;
	fc.rd = &r;
	sink.emit = sink_emit;
	sink.issue = sink_issue;
	sink.hash = sink_hash;
	sink.arg = &fc;

	if (!S_ISREG(st->st_mode)) {
		sink_issue(&fc, SCAN_ISSUE_NOT_REGULAR, "not a regular file");
		goto done;
	}
	r.size = st->st_size < 0 ? 0 : (uint64_t)st->st_size;
	if (r.size > (uint64_t)cap_of(req->parser)) {
		/* Larger than the cap (strictly): nothing is read. */
		snprintf(buf, sizeof(buf), "file is larger than %d bytes "
		    "(%" PRIu64 ")", cap_of(req->parser), r.size);
		sink_issue(&fc, SCAN_ISSUE_OVERSIZED, buf);
		if (req->parser == SCAN_PARSER_HASH_ONLY &&
		    hash_only(&fc, req, 0) == 0)
			status = SCAN_OK;	/* kept, detail nil */
		if (req->parser == SCAN_PARSER_AGENT_HASH &&
		    hash_only(&fc, req, 0) == 0)
			status = SCAN_OK;
		if (req->parser == SCAN_PARSER_OPENCODE_CONFIG &&
		    opencode_profile_only(&fc, req) == 0)
			status = SCAN_OK;
		if (req->parser == SCAN_PARSER_BREW_RECEIPT &&
		    brew_unknown(&fc, req) == 0)
			status = SCAN_OK;
		goto done;
	}
	/* A package file asked about: its content first (SCAN_F_CONTENT). */
	if ((req->flags & SCAN_F_CONTENT) && req->known_set &&
	    content_unchanged(fd, r.size, req->known, st)) {
		status = SCAN_UNCHANGED;
		goto done;
	}
	/* Package items carry no hash: do not pay for one, unless asked. */
	if (!scan_pkg_parser(req->parser) ||
	    (req->flags & SCAN_F_CONTENT)) {
		if (sha256_init(&r.sha) == -1)
			reader_fail(&r, SCAN_ISSUE_HASH, 0);
		else
			r.hashing = 1;
	}
	if (req->parser == SCAN_PARSER_HASH_ONLY) {
		if (hash_only(&fc, req, 1) == 0)
			status = SCAN_OK;
		goto done;
	}
	if (req->parser == SCAN_PARSER_AGENT_HASH) {
		if (hash_only(&fc, req, 1) == 0)
			status = SCAN_OK;
		goto done;
	}
	if (req->parser == SCAN_PARSER_CODEX_CONFIG) {
		pr = codex_read(&fc, req, &sink);
		goto parsed;
	}

	if (scan_pkg_parser(req->parser)) {
		pr = scan_pkg_read(req->parser, req->flags, reader_read, &r,
		    (size_t)r.size, &sink, sink_include, &fc);
		goto parsed;
	}
	win = r.size < JSON_WINDOW ? (size_t)r.size + 1 : JSON_WINDOW;
	if (json_init_stream(&js, reader_read, &r, win,
	    (size_t)cap_of(req->parser) + 1, 0) == -1) {
		sink_issue(&fc, SCAN_ISSUE_LIMIT, "out of memory");
		goto done;
	}
	js.flags |= scan_parser_json_flags(req->parser);
	switch (req->parser) {
	case SCAN_PARSER_CLAUDE_MCP:
		pr = scan_claude_mcp(&js, &sink);
		break;
	case SCAN_PARSER_CLAUDE_SETTINGS:
		pr = scan_claude_settings(&js, req->flags, &sink);
		break;
	case SCAN_PARSER_CLAUDE_PLUGIN_FILE:
		pr = scan_claude_plugin_file(&js, &sink);
		break;
	case SCAN_PARSER_BREW_RECEIPT:
		pr = scan_brew_receipt(&js, sv_cstr(req->name),
		    sv_cstr(req->version), &sink);
		break;
	case SCAN_PARSER_CODEX_HOOKS:
		pr = scan_codex_hooks(&js, &sink);
		break;
	case SCAN_PARSER_PI_SETTINGS:
		pr = scan_keys_file(&js, KIND_SETTINGS, SCAN_ORIGIN_PI_SETTINGS,
		    &sink);
		break;
	case SCAN_PARSER_CURSOR_MCP:
		pr = scan_cursor_mcp(&js, &sink);
		break;
	case SCAN_PARSER_PI_MCP:
		pr = scan_pi_mcp(&js, (int)req->flags, &sink);
		break;
	case SCAN_PARSER_OPENCODE_CONFIG:
		if ((pr = scan_opencode_config(&js, (int)req->flags,
		    scan_base_name(req->path), &sink)) == -1 &&
		    opencode_profile_only(&fc, req) == 0)
			pr = 0;
		break;
	default:
		break;
	}
	json_free(&js);
 parsed:
	/* The content's hash, for the next time the file is touched. */
	if (pr == 0 && (req->flags & SCAN_F_CONTENT) && r.hashed &&
	    hex_digest(r.hex, out->hash) == 0)
		out->hashed = 1;
	if (pr == 0) {
		/* The same size and time as before the read, or changed. */
		if (fstat(fd, &st2) == -1 || st2.st_size != st->st_size ||
		    st2.st_mtim.tv_sec != st->st_mtim.tv_sec ||
		    st2.st_mtim.tv_nsec != st->st_mtim.tv_nsec) {
			reader_fail(&r, SCAN_ISSUE_CHANGED, 0);
			issue_text(&r, buf, sizeof(buf));
			sink_issue(&fc, SCAN_ISSUE_CHANGED, buf);
		} else
			status = SCAN_OK;
	}
done:
	reader_stop_hash(&r);
	if (fc.fatal)
		return (-1);
	return (scan_out_done(out, status));
}

int
scan_file_process(struct imsgbuf *ibuf, const struct scan_file *req, int fd)
{
	struct scan_out	 out;
	struct stat	 st;
	char		 buf[SCAN_REASON_MAX];
	int		 ret;

	if (!scan_file_valid(req) || fd < 0) {
		if (fd >= 0)
			close(fd);
		errno = EINVAL;
		return (-1);
	}
	if (scan_out_begin(&out, ibuf, req) == -1) {
		close(fd);
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(buf, sizeof(buf), "cannot stat the file: %s",
		    strerror(errno));
		close(fd);
		if (scan_out_issue(&out, SCAN_ISSUE_UNREADABLE, buf) == -1) {
			scan_out_free(&out);
			return (-1);
		}
		return (scan_out_done(&out, SCAN_FAILED));
	}
	/*
	 * Not the size the parent saw when it sent the file (its answer's
	 * budget follows from that one): it changed meanwhile.  Read it
	 * as such, rather than answer for a file the parent never sized.
	 */
	if (st.st_size < 0 || (uint64_t)st.st_size != req->size) {
		snprintf(buf, sizeof(buf), "the file changed while it was "
		    "read (%" PRIu64 " bytes expected)", req->size);
		close(fd);
		if (scan_out_issue(&out, SCAN_ISSUE_CHANGED, buf) == -1) {
			scan_out_free(&out);
			return (-1);
		}
		return (scan_out_done(&out, SCAN_FAILED));
	}
	ret = scan_file_run(&out, req, fd, &st);
	close(fd);
	if (ret == -1)
		scan_out_free(&out);
	return (ret);
}
