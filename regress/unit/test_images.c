/*
 * The child images (kobangd-net, -scan, -dns) and when net and dns run.
 * parent_find_images takes an image beside the parent's binary only
 * when root alone can change it and its directory; parent_children_sync
 * starts net and dns when sync comes on and stops them, without a
 * restart, when it goes off.  Needs root (chown).
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "kobangd.h"

static struct kobangd	kd;
static char		dir[] = "/tmp/kobangd-images.XXXXXX";
static const char	*roles[] = { "net", "scan", "dns" };

/* An executable stand-in: it ignores -P and the rest, and waits. */
static void
image(const char *name, mode_t mode)
{
	char	path[PATH_MAX];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_not_null(fp = fopen(path, "w"));
	fprintf(fp, "#!/bin/sh\nexec sleep 60\n");
	fclose(fp);
	cr_assert_eq(chmod(path, mode), 0);
}

static void
setup(void)
{
	size_t	i;
	char	name[32];

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0755), 0);
	memset(&kd, 0, sizeof(kd));
	snprintf(kd.self, sizeof(kd.self), "%s/kobangd", dir);
	image("kobangd", 0755);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "kobangd-%s", roles[i]);
		image(name, 0755);
	}
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(images, .init = setup, .fini = teardown);

Test(images, found_beside_the_parent)
{
	char	err[512], want[PATH_MAX];
	int	i;

	cr_assert_eq(parent_find_images(&kd, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < CHILD_COUNT; i++) {
		parent_init_children(&kd);
		snprintf(want, sizeof(want), "%s/kobangd-%s", dir,
		    kd.children[i].name);
		cr_assert_str_eq(kd.image[i], want);
	}
}

Test(images, refused_unless_roots_alone)
{
	char	err[512], path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/kobangd-scan", dir);
	cr_assert_eq(chmod(path, 0775), 0);
	cr_assert_eq(parent_find_images(&kd, err, sizeof(err)), -1);
	cr_assert(strstr(err, "kobangd-scan: not an executable file owned "
	    "and writable by root alone") != NULL, "%s", err);

	cr_assert_eq(chmod(path, 0755), 0);
	cr_assert_eq(chown(path, 65534, 0), 0);
	cr_assert_eq(parent_find_images(&kd, err, sizeof(err)), -1);
	cr_assert(strstr(err, "kobangd-scan: not an executable") != NULL,
	    "%s", err);

	cr_assert_eq(chown(path, 0, 0), 0);
	cr_assert_eq(parent_find_images(&kd, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(chmod(dir, 0777), 0);
	cr_assert_eq(parent_find_images(&kd, err, sizeof(err)), -1);
	cr_assert(strstr(err, "its directory") != NULL, "%s", err);
	cr_assert_eq(chmod(dir, 0755), 0);

	/* A link is judged by what it points to. */
	snprintf(path, sizeof(path), "%s/kobangd-dns", dir);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(symlink("/tmp", path), 0);
	cr_assert_eq(parent_find_images(&kd, err, sizeof(err)), -1);
	cr_assert(strstr(err, "child image /tmp: not an executable") != NULL,
	    "%s", err);
}

/* The parent's SIGCHLD handling, for one child: wait and report it. */
static void
reap(struct child *c)
{
	pid_t	pid = c->pid;
	int	status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	parent_child_exited(&kd, pid, status);
}

Test(images, net_and_dns_follow_sync)
{
	struct child	*net = &kd.children[CHILD_NET];
	struct child	*dns = &kd.children[CHILD_DNS];
	char		 err[512];
	pid_t		 old;

	cr_assert_eq(parent_find_images(&kd, err, sizeof(err)), 0, "%s", err);
	parent_init_children(&kd);
	/* Before sync is known: neither wanted, said why. */
	cr_assert(!net->wanted && !dns->wanted && kd.children[CHILD_SCAN].wanted);
	cr_assert_str_eq(net->absent, "sync is off");

	parent_children_sync(&kd, 1, NULL);
	cr_assert(net->wanted && dns->wanted);
	cr_assert_gt(net->pid, 0);
	cr_assert_gt(dns->pid, 0);
	cr_assert_str_eq(net->absent, "");
	/* Sync on again (a reload that kept it): the same processes. */
	old = net->pid;
	parent_children_sync(&kd, 1, NULL);
	cr_assert_eq(net->pid, old);

	/* Off: told to go, not restarted, counted as no restart. */
	parent_children_sync(&kd, 0, "sync is off");
	cr_assert(!net->wanted && net->stopping && !net->channel_open);
	cr_assert_str_eq(dns->absent, "sync is off");
	reap(net);
	reap(dns);
	cr_assert_eq(net->pid, 0);
	cr_assert_eq(net->stopping, 0);
	cr_assert_eq(net->backoff.restarts, 0);
	cr_assert(!ev_timer_pending(&net->restart_timer));
	cr_assert(!ev_timer_pending(&dns->restart_timer));

	/* On while one is still on its way out: started once reaped. */
	parent_children_sync(&kd, 1, NULL);
	old = net->pid;
	parent_children_sync(&kd, 0, "sync is off");
	parent_children_sync(&kd, 1, NULL);
	cr_assert_eq(net->pid, old);
	reap(net);
	reap(dns);
	cr_assert_eq(net->pid, 0);
	cr_assert(ev_timer_pending(&net->restart_timer));
	cr_assert_eq(net->backoff.restarts, 0);
	ev_dispatch();
	cr_assert_gt(net->pid, 0);
	cr_assert_gt(dns->pid, 0);
	cr_assert_neq(net->pid, old);

	/* A crash while wanted is still restarted with backoff. */
	kill(dns->pid, SIGKILL);
	reap(dns);
	cr_assert(ev_timer_pending(&dns->restart_timer));
	cr_assert_eq(dns->backoff.restarts, 1);

	parent_stop_children(&kd);
}
