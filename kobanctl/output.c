/*
 * Human and JSON renderings of the daemon's replies.  The JSON backend
 * buffers one document and prints it at the end of the reply.
 */

#include <stdio.h>
#include <stdlib.h>

#include "jsonw.h"
#include "kobanctl.h"

static const char *
layer_word(int v)
{
	return (v == 1 ? "yes" : v == 0 ? "no" : "?");
}

static void
human_status(const struct ctl_status *st)
{
	printf("kobangd %s, pid %d, up %lld s\n\n", st->version, (int)st->pid,
	    (long long)st->uptime);
	printf("%-8s %7s %6s %8s %6s %-16s %s\n", "process", "pid", "uid",
	    "restarts", "nnp", "landlock", "seccomp");
}

static void
human_status_proc(const struct ctl_status_proc *p)
{
	char	ll[32];

	if (p->landlock_abi > 0)
		snprintf(ll, sizeof(ll), "abi %d, %s", (int)p->landlock_abi,
		    p->landlock_selftest == 1 ? "tested" :
		    p->landlock_selftest == 0 ? "untested" : "TEST FAILED");
	else
		snprintf(ll, sizeof(ll), "%s", "no");
	if (p->pid == 0) {
		printf("%-8s %7s %6s %8u %6s %-16s %s\n", p->name, "down", "-",
		    p->restarts, "-", "-", "-");
		return;
	}
	printf("%-8s %7d %6d %8u %6s %-16s %s\n", p->name, (int)p->pid,
	    (int)p->uid, p->restarts, layer_word(p->no_new_privs), ll,
	    p->seccomp == 1 ? "filter" : layer_word(p->seccomp));
}

static void
human_end(void)
{
}

const struct output output_human = {
	human_status,
	human_status_proc,
	human_end,
};

static struct jsonw	jw;

static void
json_status(const struct ctl_status *st)
{
	jsonw_init(&jw, 0);
	jsonw_object_begin(&jw);
	jsonw_key(&jw, "version");
	jsonw_string(&jw, st->version);
	jsonw_key(&jw, "pid");
	jsonw_int(&jw, st->pid);
	jsonw_key(&jw, "uptime");
	jsonw_int(&jw, st->uptime);
	jsonw_key(&jw, "processes");
	jsonw_array_begin(&jw);
}

static void
json_tristate(const char *key, int v)
{
	jsonw_key(&jw, key);
	if (v < 0)
		jsonw_null(&jw);
	else
		jsonw_bool(&jw, v);
}

static void
json_status_proc(const struct ctl_status_proc *p)
{
	jsonw_object_begin(&jw);
	jsonw_key(&jw, "name");
	jsonw_string(&jw, p->name);
	jsonw_key(&jw, "running");
	jsonw_bool(&jw, p->pid != 0);
	jsonw_key(&jw, "pid");
	jsonw_int(&jw, p->pid);
	jsonw_key(&jw, "uid");
	if (p->uid < 0)
		jsonw_null(&jw);
	else
		jsonw_int(&jw, p->uid);
	jsonw_key(&jw, "restarts");
	jsonw_uint(&jw, p->restarts);
	jsonw_key(&jw, "sandbox");
	jsonw_object_begin(&jw);
	json_tristate("noNewPrivs", p->no_new_privs);
	jsonw_key(&jw, "landlockABI");
	jsonw_int(&jw, p->landlock_abi);
	jsonw_key(&jw, "landlockSelfTest");
	jsonw_string(&jw, p->landlock_selftest == 1 ? "passed" :
	    p->landlock_selftest == 0 ? "not run" : "failed");
	json_tristate("seccomp", p->seccomp);
	jsonw_object_end(&jw);
	jsonw_object_end(&jw);
}

static void
json_end(void)
{
	const char	*s;

	jsonw_array_end(&jw);
	jsonw_object_end(&jw);
	if ((s = jsonw_result(&jw, NULL)) == NULL) {
		fprintf(stderr, "kobanctl: cannot encode JSON\n");
		exit(1);
	}
	printf("%s\n", s);
	jsonw_free(&jw);
}

const struct output output_json = {
	json_status,
	json_status_proc,
	json_end,
};
