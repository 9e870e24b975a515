/*
 * kobangd: the Koban sensor daemon.  One binary, four processes: without
 * -P it is the parent; with the hidden -P flag it becomes the named child.
 */

#include <sys/types.h>

#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "kobangd.h"
#include "log.h"

static void __dead
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-dnv] [-f file] [-s socket]\n",
	    __progname);
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct kobangd	 kd;
	const char	*child = NULL, *conffile = KOBANGD_CONFIG;
	int		 ch, noaction = 0;
	ssize_t		 n;

	memset(&kd, 0, sizeof(kd));
	kd.user = KOBANGD_USER;
	kd.sockpath = KOBANGD_SOCKET;

	while ((ch = getopt(argc, argv, "df:nP:s:u:v")) != -1) {
		switch (ch) {
		case 'd':
			kd.debug = 1;
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'P':
			child = optarg;
			break;
		case 's':
			kd.sockpath = optarg;
			break;
		case 'u':
			kd.user = optarg;
			break;
		case 'v':
			kd.verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc != 0)
		usage();
	(void)conffile;
	(void)noaction;

	log_init(kd.debug, LOG_DAEMON);
	log_setverbose(kd.verbose + 1);

	if (child != NULL) {
		if (strcmp(child, "net") == 0)
			net_main(kd.user);
		else if (strcmp(child, "scan") == 0)
			scan_main(kd.user);
		else if (strcmp(child, "dns") == 0)
			dns_main(kd.user);
		fatalx("unknown process %s", child);
	}

	log_procinit("parent");
	if (geteuid() != 0)
		fatalx("need root privileges");
	if (getpwnam(kd.user) == NULL)
		fatalx("unprivileged user %s does not exist "
		    "(create it with: make user)", kd.user);

	/* Children are our own binary, re-executed. */
	if ((n = readlink("/proc/self/exe", kd.self, sizeof(kd.self) - 1)) ==
	    -1)
		fatal("readlink /proc/self/exe");
	kd.self[n] = '\0';

	if (!kd.debug && daemon(1, 0) == -1)
		fatal("daemon");

	parent_main(&kd);
	return (0);
}
