/*
 * A child image: kobangd-net, kobangd-scan or kobangd-dns, one per
 * role, built from this file with -DKOBANGD_CHILD=role.  Each is linked
 * with the libraries its role calls and no others: the parent's image
 * needs libsqlite3, the TSS2 stack, libyaml, libtls and c-ares, and
 * with -z now every process that maps them relocates all of them at
 * start (about 2.6 MB resident per child for nothing, issue #14).
 *
 * The boundary is the one kobangd(8) describes: the parent starts it
 * with fork + exec (a fresh address space), the hidden -P flag names
 * the role, which must be this image's own, and child_setup() applies
 * the same sandbox in the same order.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "kobangd.h"
#include "log.h"
#include "selflimits.h"

#ifndef KOBANGD_CHILD
#error "build with -DKOBANGD_CHILD=net, scan or dns"
#endif
#define CHILD_STR2(x)	#x
#define CHILD_STR(x)	CHILD_STR2(x)
#define CHILD_CAT2(a, b) a ## b
#define CHILD_CAT(a, b)	CHILD_CAT2(a, b)
#define CHILD_ROLE	CHILD_STR(KOBANGD_CHILD)
#define CHILD_MAIN	CHILD_CAT(KOBANGD_CHILD, _main)

static void __dead
usage(void)
{
	fprintf(stderr, "kobangd-%s is started by kobangd, not by hand\n",
	    CHILD_ROLE);
	exit(1);
}

int
main(int argc, char *argv[])
{
	const char	*child = NULL, *user = NULL;
	char		 err[1024];
	int		 ch, debug = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "dm:P:u:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'm':
			if (limits_cap_set(optarg, err, sizeof(err)) == -1) {
				fprintf(stderr, "kobangd-%s: -m %s\n",
				    CHILD_ROLE, err);
				exit(1);
			}
			break;
		case 'P':
			child = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || child == NULL ||
	    strcmp(child, CHILD_ROLE) != 0)
		usage();

	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose + 1);
	if (user == NULL)
		fatalx("%s: no user to run as", child);
	CHILD_MAIN(user);
	fatalx("%s returned", child);
}
