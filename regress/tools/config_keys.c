/*
 * Print every configuration key the loader knows, one dotted path a line,
 * by walking the schema table (common/config_schema.c), then with -v the
 * rule vocabulary (common/vocab.c) as "class name".  The man page coverage
 * test (regress/e2e/t_manpages.sh) checks each against kobangd.yaml.5, so
 * a key added to the schema without documentation fails the test.
 */

#include <sys/types.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config_priv.h"
#include "vocab.h"

static void
walk(const struct kdef *t, size_t n, const char *prefix)
{
	char	path[256];
	size_t	i;

	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] != '\0' ? "." : "", t[i].name) >=
		    (int)sizeof(path)) {
			fprintf(stderr, "key path too long\n");
			exit(1);
		}
		if (t[i].type == KT_MAP)
			walk(t[i].sub, t[i].nsub, path);
		else
			printf("%s\n", path);
	}
}

static void
vocab(const char *class, const char *(*name)(int), int n)
{
	int	i;

	for (i = 0; i < n; i++)
		printf("%s %s\n", class, name(i));
}

static const char *
surface_at(int i)
{
	return (surface_name((enum surface)i));
}

static const char *
trigger_at(int i)
{
	return (trigger_name((enum trigger)i));
}

static const char *
match_at(int i)
{
	return (match_kind_name((enum match_kind)i));
}

static const char *
field_at(int i)
{
	return (rule_field_name((enum rule_field)i));
}

static const char *
flag_at(int i)
{
	return (rule_flag_name((enum rule_flag)i));
}

static const char *
severity_at(int i)
{
	return (severity_name((enum severity)i));
}

static const char *
kind_at(int i)
{
	return (item_kind_name((enum item_kind)i));
}

int
main(int argc, char *argv[])
{
	int	ch, vflag = 0;

	while ((ch = getopt(argc, argv, "v")) != -1) {
		switch (ch) {
		case 'v':
			vflag = 1;
			break;
		default:
			fprintf(stderr, "usage: config_keys [-v]\n");
			return (2);
		}
	}
	if (!vflag) {
		walk(config_schema, config_schema_n, "");
		return (0);
	}
	vocab("surface", surface_at, SURFACE_COUNT);
	vocab("trigger", trigger_at, TRIGGER_COUNT);
	vocab("match", match_at, MATCH_COUNT);
	vocab("field", field_at, FIELD_COUNT);
	vocab("flag", flag_at, FLAG_COUNT);
	vocab("severity", severity_at, SEVERITY_COUNT);
	vocab("kind", kind_at, KIND_COUNT);
	return (0);
}
