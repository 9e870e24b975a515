/*
 * scan_corpus FORMAT FLAGS FILE: hand FILE to the real scan child (its
 * sandbox on, as kobangd runs it) through the scan protocol and print
 * what the parent keeps of the answer: the items sorted by id with the
 * first of equal ids kept (SURFACES.md 0.8), one per line
 *	kind | name | version | origin | detail
 * (nil "~"; "\", "|" and control bytes escaped), then the issues
 * ("issue CODE: reason") and "status ok|failed".  regress/e2e/
 * t_scan_corpus.sh compares it with regress/corpus/expect.py.  FORMAT
 * is a package format's row name (scan_format.c) or a parser's name
 * (scan_parser_name()); FLAGS are the request's SCAN_F_* bits.  For a
 * Homebrew receipt, .../<name>/<version>/INSTALL_RECEIPT.json, the
 * request carries the package's name and version from its path and its
 * label is the rack, as discovery sends it; a non-nil installedOnRequest
 * is printed as a sixth field.
 * Exit 0 when the child answered, 1 when it could not be run.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "compat.h"
#include "differ.h"
#include "imsg.h"
#include "kobangd.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "scan.h"
#include "scan_format.h"
#include "scanproto.h"
#include "sha256.h"
#include "vocab.h"

#include "../unit/scan_testkey.h"

static void
put(const char *p, int nil)
{
	if (nil) {
		fputs("~", stdout);
		return;
	}
	for (; *p != '\0'; p++) {
		unsigned char	c = (unsigned char)*p;

		if (c == '\\' || c == '|')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

struct keyed {
	char			*id;
	const struct item	*it;
	size_t			 seq;
};

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->id, y->id)) != 0)
		return (c);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static pid_t
start_child(int *fd)
{
	struct sandbox_layers	 layers;
	struct imsgbuf		 cibuf;
	int			 sv[2];
	pid_t			 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(1, "socketpair");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(sv[0]);
		/* The channel on fd 3, as proc_exec() leaves it (sendmsg). */
		if (sv[1] != PROC_CHANNEL_FD) {
			if (dup2(sv[1], PROC_CHANNEL_FD) == -1)
				_exit(89);
			close(sv[1]);
		}
		log_init(1, LOG_DAEMON);
		log_procinit("scan");
		scan_redact_clearkey();
		if (sha256_preload() == -1 ||
		    imsgbuf_init(&cibuf, PROC_CHANNEL_FD) == -1)
			_exit(91);
		imsgbuf_allow_fdpass(&cibuf);
		if (scanproto_channel_init(&cibuf) == -1)
			_exit(92);
		memset(&layers, 0, sizeof(layers));
		if (sandbox_apply(SANDBOX_SCAN, &layers) == -1)
			_exit(93);
		child_loop(&cibuf, scan_dispatch_imsg);
		_exit(94);
	}
	close(sv[1]);
	*fd = sv[0];
	return (pid);
}

int
main(int argc, char *argv[])
{
	const struct scan_format *fmt;
	char			*slash;
	struct imsgbuf		 ibuf;
	struct scanproto	*sp;
	struct scan_file	 f;
	struct scan_result	*res = NULL;
	struct imsg		 imsg;
	struct pollfd		 pfd;
	struct keyed		*k;
	ssize_t			 n;
	size_t			 i, nk;
	pid_t			 pid;
	int			 p, fd, cfd, r, status;

	if (argc != 4)
		errx(2, "usage: scan_corpus format|parser flags file");
	if ((fmt = scan_format_by_name(argv[1])) != NULL)
		p = fmt->parser;
	else {
		for (p = 0; p < SCAN_PARSER_COUNT; p++)
			if (strcmp(scan_parser_name(p), argv[1]) == 0)
				break;
		if (p == SCAN_PARSER_COUNT)
			errx(2, "unknown format or parser %s", argv[1]);
	}
	memset(&f, 0, sizeof(f));
	f.scan_id = 1;
	f.file_id = 1;
	f.parser = p;
	f.surface = scan_parser_surface(p);
	f.flags = (uint32_t)strtoul(argv[2], NULL, 0);
	if (realpath(argv[3], f.path) == NULL)
		err(1, "%s", argv[3]);
	if ((fd = open(f.path, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", f.path);
	if (p == SCAN_PARSER_BREW_RECEIPT) {
		/* .../<rack>/<version>/INSTALL_RECEIPT.json */
		if ((slash = strrchr(f.path, '/')) == NULL)
			errx(2, "%s: not a receipt path", f.path);
		*slash = '\0';
		if ((slash = strrchr(f.path, '/')) == NULL)
			errx(2, "%s: not a receipt path", f.path);
		strlcpy(f.version, slash + 1, sizeof(f.version));
		*slash = '\0';
		if ((slash = strrchr(f.path, '/')) == NULL)
			errx(2, "%s: not a receipt path", f.path);
		strlcpy(f.name, slash + 1, sizeof(f.name));
		f.kind = KIND_PACKAGE;
		/* The label is the rack, zero padded as every field. */
		slash = f.path + strlen(f.path);
		memset(slash, 0, sizeof(f.path) - (size_t)(slash - f.path));
	}

	pid = start_child(&cfd);
	if (imsgbuf_init(&ibuf, cfd) == -1 ||
	    scanproto_channel_init(&ibuf) == -1 ||
	    scan_test_sendkey(&ibuf) == -1 ||
	    (sp = scanproto_new()) == NULL)
		err(1, "channel");
	if (scanproto_send_file(sp, &ibuf, &f, fd) == -1)
		err(1, "send_file");
	while (res == NULL) {
		while ((n = imsg_get(&ibuf, &imsg)) > 0) {
			r = scanproto_dispatch(sp, &imsg, &res);
			imsg_free(&imsg);
			if (r == -1)
				errx(1, "the parent would break the channel");
			if (r == 1)
				break;
		}
		if (n == -1)
			err(1, "imsg_get");
		if (res != NULL)
			break;
		pfd.fd = cfd;
		pfd.events = POLLIN;
		if (imsgbuf_queuelen(&ibuf) > 0)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 60000) <= 0)
			errx(1, "scan child timed out");
		if ((pfd.revents & POLLOUT) && imsgbuf_write(&ibuf) == -1)
			err(1, "write");
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    imsgbuf_read(&ibuf) != 1)
			errx(1, "scan child went away");
	}

	nk = res->nitems;
	if ((k = calloc(nk == 0 ? 1 : nk, sizeof(*k))) == NULL)
		err(1, NULL);
	for (i = 0; i < nk; i++) {
		if ((k[i].id = item_id(&res->items[i])) == NULL)
			err(1, "item_id");
		k[i].it = &res->items[i];
		k[i].seq = i;
	}
	qsort(k, nk, sizeof(*k), keyed_cmp);
	for (i = 0; i < nk; i++) {
		const struct item	*it = k[i].it;

		if (i > 0 && strcmp(k[i].id, k[i - 1].id) == 0)
			continue;
		printf("%s | ", item_kind_name(it->kind));
		put(it->name, 0);
		fputs(" | ", stdout);
		put(it->version, it->version == NULL);
		fputs(" | ", stdout);
		put(it->origin, 0);
		fputs(" | ", stdout);
		put(it->detail, it->detail == NULL);
		if (it->installed_on_request != ITEM_BOOL_NIL)
			printf(" | %s", it->installed_on_request ? "true" :
			    "false");
		putchar('\n');
	}
	for (i = 0; i < res->nissues; i++)
		printf("issue %s: %s\n",
		    scan_issue_code_name(res->issues[i].code),
		    res->issues[i].reason);
	printf("status %s\n", res->status == SCAN_OK ? "ok" : "failed");
	for (i = 0; i < nk; i++)
		free(k[i].id);
	free(k);
	scan_result_free(res);
	scanproto_free(sp);
	close(cfd);
	imsgbuf_clear(&ibuf);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "scan child exited badly (status %d)", status);
	return (0);
}
