/*
 * The real scan path for tests: a socketpair; in a forked process the
 * scan child's own code (scanproto channel size, the scan sandbox --
 * Landlock and seccomp -- then child_loop() with scan_dispatch_imsg());
 * in the test, the parent's side: scanproto_send_file() with an open
 * descriptor and the strict decoder, scanproto_dispatch().
 */
#ifndef SCAN_CHILD_H
#define SCAN_CHILD_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "imsg.h"
#include "kobangd.h"
#include "log.h"
#include "sandbox.h"
#include "scan.h"
#include "scanproto.h"
#include "sha256.h"
#include "fixture.h"
#include "scan_testkey.h"

struct scan_peer {
	pid_t			 pid;
	struct imsgbuf		 ibuf;
	struct scanproto	*sp;
	uint32_t		 next_id;
};

__attribute__((__unused__)) static void
scan_peer_start(struct scan_peer *p, int sandboxed)
{
	struct sandbox_layers	 layers;
	struct imsgbuf		 cibuf;
	int			 sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_neq(p->pid = fork(), -1);
	if (p->pid == 0) {
		close(sv[0]);
		/*
		 * The channel on fd 3, as proc_exec() leaves it: sendmsg(2)
		 * is allowed there only.
		 */
		if (sv[1] != PROC_CHANNEL_FD) {
			if (dup2(sv[1], PROC_CHANNEL_FD) == -1)
				_exit(89);
			close(sv[1]);
		}
		log_init(1, LOG_DAEMON);
		log_procinit("scan");
		/* A fresh child has no key: it comes from the parent. */
		scan_redact_clearkey();
		if (sha256_preload() == -1)
			_exit(90);
		if (imsgbuf_init(&cibuf, PROC_CHANNEL_FD) == -1)
			_exit(91);
		imsgbuf_allow_fdpass(&cibuf);
		if (scanproto_channel_init(&cibuf) == -1)
			_exit(92);
		memset(&layers, 0, sizeof(layers));
		if (sandboxed && sandbox_apply(SANDBOX_SCAN, &layers) == -1)
			_exit(93);
		child_loop(&cibuf, scan_dispatch_imsg);
		_exit(94);
	}
	close(sv[1]);
	cr_assert_eq(imsgbuf_init(&p->ibuf, sv[0]), 0);
	cr_assert_eq(scanproto_channel_init(&p->ibuf), 0);
	/* As the parent does: the key first (scankey_send()). */
	cr_assert_eq(scan_test_sendkey(&p->ibuf), 0);
	cr_assert_not_null(p->sp = scanproto_new());
	p->next_id = 1;
}

/* Close the channel; the child exits 0 on EOF. */
__attribute__((__unused__)) static int
scan_peer_stop(struct scan_peer *p)
{
	int	status;

	scanproto_free(p->sp);
	close(p->ibuf.fd);
	imsgbuf_clear(&p->ibuf);
	cr_assert_eq(waitpid(p->pid, &status, 0), p->pid);
	return (status);
}

/*
 * Answers of the child until one file finishes; NULL if the decoder
 * refused a message (the channel would be broken).
 */
__attribute__((__unused__)) static struct scan_result *
scan_peer_wait(struct scan_peer *p)
{
	struct pollfd		 pfd;
	struct imsg		 imsg;
	struct scan_result	*res = NULL;
	ssize_t			 n;
	int			 r;

	for (;;) {
		while ((n = imsg_get(&p->ibuf, &imsg)) > 0) {
			r = scanproto_dispatch(p->sp, &imsg, &res);
			imsg_free(&imsg);
			if (r == -1)
				return (NULL);
			if (r == 1)
				return (res);
		}
		cr_assert_neq(n, -1, "imsg_get");
		pfd.fd = p->ibuf.fd;
		pfd.events = POLLIN;
		if (imsgbuf_queuelen(&p->ibuf) > 0)
			pfd.events |= POLLOUT;
		cr_assert_neq(poll(&pfd, 1, 10000), -1);
		cr_assert_neq(pfd.revents, 0, "scan child timed out");
		if (pfd.revents & POLLOUT)
			cr_assert_eq(imsgbuf_write(&p->ibuf), 0);
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			cr_assert_eq(imsgbuf_read(&p->ibuf), 1,
			    "scan child went away");
	}
}

/* Send one open descriptor; the result of that file. */
__attribute__((__unused__)) static struct scan_result *
scan_peer_fd(struct scan_peer *p, enum scan_parser parser, int flags,
    int fd, const char *label, enum item_kind kind, const char *name,
    const char *origin)
{
	struct scan_file	f;

	memset(&f, 0, sizeof(f));
	f.scan_id = 7;
	f.file_id = p->next_id++;
	f.parser = parser;
	f.surface = parser == SCAN_PARSER_NPM_LOCK ? SURFACE_JAVASCRIPT :
	    SURFACE_CLAUDE;
	f.flags = flags;
	if (parser == SCAN_PARSER_HASH_ONLY) {
		f.kind = kind;
		strlcpy(f.name, name, sizeof(f.name));
		strlcpy(f.origin, origin, sizeof(f.origin));
	}
	strlcpy(f.path, label, sizeof(f.path));
	cr_assert_eq(scanproto_send_file(p->sp, &p->ibuf, &f, fd), 0,
	    "send_file: %s", strerror(errno));
	return (scan_peer_wait(p));
}

__attribute__((__unused__)) static struct scan_result *
scan_peer_file(struct scan_peer *p, enum scan_parser parser, int flags,
    const char *path)
{
	char	label[PATH_MAX];
	int	fd;

	cr_assert_neq(fd = open(path, O_RDONLY | O_CLOEXEC), -1, "%s", path);
	if (path[0] == '/')
		strlcpy(label, path, sizeof(label));
	else {
		cr_assert_not_null(getcwd(label, sizeof(label)));
		strlcat(label, "/", sizeof(label));
		strlcat(label, path, sizeof(label));
	}
	return (scan_peer_fd(p, parser, flags, fd, label, 0, "", ""));
}

/* The golden rendering of a decoded result (items, issues, status). */
__attribute__((__unused__)) static char *
scan_result_render(const struct scan_result *res)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, i;

	cr_assert_not_null(f = open_memstream(&buf, &len));
	for (i = 0; i < res->nitems; i++) {
		const struct item	*it = &res->items[i];

		cr_assert_str_eq(it->path, res->path);
		cr_assert_eq((int)it->surface, (int)res->surface);
		fprintf(f, "%s | ", item_kind_name(it->kind));
		golden_str(f, it->name, strlen(it->name), 0);
		fputs(" | ", f);
		golden_str(f, it->version, it->version ? strlen(it->version) :
		    0, it->version == NULL);
		fputs(" | ", f);
		golden_str(f, it->origin, strlen(it->origin), 0);
		fputs(" | ", f);
		golden_str(f, it->detail, it->detail ? strlen(it->detail) : 0,
		    it->detail == NULL);
		fputc('\n', f);
	}
	for (i = 0; i < res->nissues; i++)
		fprintf(f, "issue %s: %s\n",
		    scan_issue_code_name(res->issues[i].code),
		    res->issues[i].reason);
	fprintf(f, "status %s\n", res->status == SCAN_OK ? "ok" : "failed");
	fclose(f);
	return (buf);
}

#endif
