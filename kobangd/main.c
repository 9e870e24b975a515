/*
 * kobangd: the Koban sensor daemon, the parent of up to three children.
 * Each child is its own image (kobangd-net, -scan, -dns: child_main.c),
 * found beside this binary or in KOBANGD_LIBEXEC and started with the
 * hidden -P flag.
 */

#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "kobangd.h"
#include "log.h"
#include "selflimits.h"

static void __dead
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-dnv] [-f file] [-m child=MB] "
	    "[-s socket]\n", __progname);
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct kobangd	 kd;
	struct config	*conf;
	const char	*conffile = KOBANGD_CONFIG;
	const char	*sockpath = NULL;
	char		 err[1024];
	int		 ch, noaction = 0, fflag = 0;
	ssize_t		 n;

	memset(&kd, 0, sizeof(kd));

	while ((ch = getopt(argc, argv, "df:m:ns:v")) != -1) {
		switch (ch) {
		case 'd':
			kd.debug = 1;
			break;
		case 'f':
			conffile = optarg;
			fflag = 1;
			break;
		case 'm':
			/* A child's memory cap; children get theirs too. */
			if (limits_cap_set(optarg, err, sizeof(err)) == -1) {
				fprintf(stderr, "kobangd: -m %s\n", err);
				exit(1);
			}
			break;
		case 'n':
			noaction = 1;
			break;
		case 's':
			sockpath = optarg;
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
	if (noaction)
		exit(config_check_file(conffile, kd.verbose));

	log_init(kd.debug, LOG_DAEMON);
	log_setverbose(kd.verbose + 1);

	log_procinit("parent");
	if (geteuid() != 0)
		fatalx("need root privileges");
	/* No core dumps: the parent holds the device key and tokens. */
	if (limits_apply("parent") == -1)
		fatal("resource limits");

	/*
	 * No file at the default path means the built-in defaults; a file
	 * named with -f must exist.  An invalid file is refused, never
	 * silently replaced by defaults.
	 */
	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		fatal(NULL);
	if (!fflag && access(conffile, F_OK) == -1 && errno == ENOENT) {
		config_default(conf);
		log_info("no %s: running on built-in defaults", conffile);
	} else if (config_load_file(conffile, CONFIG_F_PERMS, conf, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	kd.conf = conf;
	kd.conffile = conffile;
	kd.conf_named = fflag;
	/* Copies: a reload replaces conf. */
	if ((kd.user = strdup(conf->kobangd.user)) == NULL ||
	    (kd.sockpath = strdup(sockpath != NULL ? sockpath :
	    conf->kobangd.control_socket)) == NULL)
		fatal(NULL);
	if (conf->kobangd.control_group != NULL &&
	    getgrnam(conf->kobangd.control_group) == NULL)
		fatalx("control group %s does not exist",
		    conf->kobangd.control_group);
	if (getpwnam(kd.user) == NULL)
		fatalx("unprivileged user %s does not exist "
		    "(create it with: make user)", kd.user);

	/* The children's images: beside ours, or where make install put them. */
	if ((n = readlink("/proc/self/exe", kd.self, sizeof(kd.self) - 1)) ==
	    -1)
		fatal("readlink /proc/self/exe");
	kd.self[n] = '\0';
	if (parent_find_images(&kd, err, sizeof(err)) == -1)
		fatalx("%s", err);

	if (!kd.debug && daemon(1, 0) == -1)
		fatal("daemon");

	parent_main(&kd);
	free((char *)kd.user);
	free((char *)kd.sockpath);
	return (0);
}
