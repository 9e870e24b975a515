/*
 * pythonPackages TOML files (SURFACES.md 8): uv.lock, pylock.toml and
 * pyproject.toml.  The reference decodes them with TOMLDecoder into
 *
 *	uv.lock      { package: [ { name: String, version: String? } ]? }
 *	pylock.toml  { packages: [ { name: String, version: String? } ]? }
 *	pyproject    { project: { dependencies: [String]?,
 *	                          optional-dependencies: [String: [String]]? }?,
 *	               build-system: { requires: [String]? }?,
 *	               dependency-groups: [String: [String]]? }
 *
 * so a TOML syntax error, a missing name or a known key of the wrong type
 * fails the whole file (one issue, no items); every other key is never
 * looked at.
 *
 * Where the reference fails or sees nothing (kobangd.yaml(5)): a PEP 735
 * {include-group = "..."} entry of dependency-groups names a group, not
 * a distribution, and is passed over (the reference fails the file);
 * Poetry's [tool.poetry.dependencies], [tool.poetry.dev-dependencies]
 * and [tool.poetry.group.<g>.dependencies] give their keys (but
 * "python") as pythonDeclaredRequirement items like project's.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "scan_pkg.h"
#include "toml.h"

static struct toml_doc *
py_parse(const char *buf, size_t len, const struct scan_sink *sink)
{
	struct toml_limits	 lim;
	struct toml_error	 err;
	struct toml_doc		*d;
	char			 why[SCAN_REASON_MAX];

	memset(&lim, 0, sizeof(lim));
	lim.max_doc = SCAN_CAP_PACKAGE;
	memset(&err, 0, sizeof(err));
	if ((d = toml_parse(buf, len, &lim, &err)) == NULL) {
		snprintf(why, sizeof(why), "malformed TOML: %s", err.msg);
		sink->issue(sink->arg, SCAN_ISSUE_MALFORMED, why);
	}
	return (d);
}

static void
py_type_error(const struct scan_sink *sink, const char *what,
    const struct toml_value *v, const char *want)
{
	char	buf[SCAN_REASON_MAX];

	snprintf(buf, sizeof(buf), "type error: %s is %s, not %s", what,
	    toml_type_name(v->type), want);
	sink->issue(sink->arg, SCAN_ISSUE_TYPE, buf);
}

static int
py_emit(const struct scan_sink *sink, enum item_kind kind, const char *origin,
    const char *name, size_t namelen, const struct toml_str *version)
{
	struct scan_item	it;

	memset(&it, 0, sizeof(it));
	it.kind = kind;
	it.ior = ITEM_BOOL_NIL;
	it.name.p = name;
	it.name.len = namelen;
	if (version != NULL) {
		it.version.p = version->ptr;
		it.version.len = version->len;
	}
	it.origin.p = origin;
	it.origin.len = strlen(origin);
	return (sink->emit(sink->arg, &it));
}

/* uv.lock and pylock.toml: an array of tables with name and version. */
static int
py_resolved(const char *buf, size_t len, const struct scan_sink *sink,
    const char *key, const char *origin)
{
	struct toml_doc		*d;
	const struct toml_value	*v, *name, *ver;
	const struct toml_array	*a;
	const struct toml_table	*t;
	char			 what[64];
	size_t			 i;
	int			 ret = -1;

	if ((d = py_parse(buf, len, sink)) == NULL)
		return (-1);
	if ((v = toml_table_get(toml_root(d), key)) == NULL) {
		ret = 0;
		goto out;
	}
	if ((a = toml_as_array(v)) == NULL) {
		py_type_error(sink, key, v, "an array of tables");
		goto out;
	}
	for (i = 0; i < toml_array_len(a); i++) {
		v = toml_array_at(a, i);
		snprintf(what, sizeof(what), "%s entry %zu", key, i + 1);
		if ((t = toml_as_table(v)) == NULL) {
			py_type_error(sink, what, v, "a table");
			goto out;
		}
		if ((name = toml_table_get(t, "name")) == NULL) {
			snprintf(what, sizeof(what), "%s entry %zu has no "
			    "name", key, i + 1);
			sink->issue(sink->arg, SCAN_ISSUE_TYPE, what);
			goto out;
		}
		if (name->type != TOML_STRING) {
			snprintf(what, sizeof(what), "the name of %s entry "
			    "%zu", key, i + 1);
			py_type_error(sink, what, name, "a string");
			goto out;
		}
		ver = toml_table_get(t, "version");
		if (ver != NULL && ver->type != TOML_STRING) {
			snprintf(what, sizeof(what), "the version of %s "
			    "entry %zu", key, i + 1);
			py_type_error(sink, what, ver, "a string");
			goto out;
		}
		if (py_emit(sink, KIND_PYTHON_RESOLVED_PACKAGE, origin,
		    name->u.s.ptr, name->u.s.len,
		    ver != NULL ? &ver->u.s : NULL) == -1)
			goto out;
	}
	ret = 0;
 out:
	toml_free(d);
	return (ret);
}

int
scan_uv_lock(const char *buf, size_t len, const struct scan_sink *sink)
{
	return (py_resolved(buf, len, sink, "package", SCAN_ORIGIN_UV));
}

int
scan_pylock(const char *buf, size_t len, const struct scan_sink *sink)
{
	return (py_resolved(buf, len, sink, "packages", SCAN_ORIGIN_PYLOCK));
}

/*
 * An array of strings: check all of them first (a type error anywhere
 * fails the file), then emit each derived name.
 */
static int
py_reqs(const struct scan_sink *sink, const char *what,
    const struct toml_value *v, int groups)
{
	const struct toml_array	*a;
	const struct toml_table	*t;
	const struct toml_value	*s;
	struct sv		 name;
	char			 buf[160];
	size_t			 i;

	if ((a = toml_as_array(v)) == NULL) {
		py_type_error(sink, what, v, "an array of strings");
		return (-1);
	}
	for (i = 0; i < toml_array_len(a); i++) {
		s = toml_array_at(a, i);
		/* PEP 735: {include-group = "name"} and nothing else. */
		if (groups && (t = toml_as_table(s)) != NULL &&
		    toml_table_len(t) == 1 &&
		    toml_cstr(toml_table_get(t, "include-group")) != NULL)
			continue;
		if (s->type != TOML_STRING) {
			snprintf(buf, sizeof(buf), "entry %zu of %s", i + 1,
			    what);
			py_type_error(sink, buf, s, "a string");
			return (-1);
		}
	}
	for (i = 0; i < toml_array_len(a); i++) {
		s = toml_array_at(a, i);
		if (s->type != TOML_STRING)
			continue;
		scan_pyreq_name(s->u.s.ptr, s->u.s.len, &name);
		if (name.p == NULL)
			continue;
		if (py_emit(sink, KIND_PYTHON_DECLARED_REQUIREMENT,
		    SCAN_ORIGIN_PYPROJECT, name.p, name.len, NULL) == -1)
			return (-1);
	}
	return (0);
}

/* A table of arrays of strings: optional-dependencies, dependency-groups. */
static int
py_req_table(const struct scan_sink *sink, const char *what,
    const struct toml_value *v, int groups)
{
	const struct toml_table	*t;
	const struct toml_kv	*kv;
	char			 buf[128];
	size_t			 i;

	if ((t = toml_as_table(v)) == NULL) {
		py_type_error(sink, what, v, "a table");
		return (-1);
	}
	for (i = 0; i < toml_table_len(t); i++) {
		kv = toml_table_at(t, i);
		/* Group names are the user's text: say which, boundedly. */
		snprintf(buf, sizeof(buf), "%s.%.*s", what,
		    kv->key.len > 48 ? 48 : (int)kv->key.len, kv->key.ptr);
		if (py_reqs(sink, buf, &kv->val, groups) == -1)
			return (-1);
	}
	return (0);
}

/* A Poetry dependency table: its keys, "python" (the interpreter) not. */
static int
py_poetry_deps(const struct scan_sink *sink, const char *what,
    const struct toml_value *v)
{
	const struct toml_table	*t;
	const struct toml_kv	*kv;
	size_t			 i;

	if (v == NULL)
		return (0);
	if ((t = toml_as_table(v)) == NULL) {
		py_type_error(sink, what, v, "a table");
		return (-1);
	}
	for (i = 0; i < toml_table_len(t); i++) {
		kv = toml_table_at(t, i);
		if (kv->key.len == 6 && memcmp(kv->key.ptr, "python", 6) == 0)
			continue;
		if (py_emit(sink, KIND_PYTHON_DECLARED_REQUIREMENT,
		    SCAN_ORIGIN_PYPROJECT, kv->key.ptr, kv->key.len, NULL) ==
		    -1)
			return (-1);
	}
	return (0);
}

/* [tool.poetry]: dependencies, dev-dependencies, group.<g>.dependencies. */
static int
py_poetry(const struct scan_sink *sink, const struct toml_table *root)
{
	const struct toml_table	*t, *g;
	const struct toml_value	*v;
	const struct toml_kv	*kv;
	size_t			 i;

	if ((t = toml_as_table(toml_table_get(root, "tool"))) == NULL ||
	    (v = toml_table_get(t, "poetry")) == NULL)
		return (0);
	if ((t = toml_as_table(v)) == NULL) {
		py_type_error(sink, "tool.poetry", v, "a table");
		return (-1);
	}
	if (py_poetry_deps(sink, "tool.poetry.dependencies",
	    toml_table_get(t, "dependencies")) == -1 ||
	    py_poetry_deps(sink, "tool.poetry.dev-dependencies",
	    toml_table_get(t, "dev-dependencies")) == -1)
		return (-1);
	if ((v = toml_table_get(t, "group")) == NULL)
		return (0);
	if ((g = toml_as_table(v)) == NULL) {
		py_type_error(sink, "tool.poetry.group", v, "a table");
		return (-1);
	}
	for (i = 0; i < toml_table_len(g); i++) {
		kv = toml_table_at(g, i);
		if ((t = toml_as_table(&kv->val)) == NULL) {
			py_type_error(sink, "a tool.poetry.group entry",
			    &kv->val, "a table");
			return (-1);
		}
		if (py_poetry_deps(sink, "tool.poetry.group.dependencies",
		    toml_table_get(t, "dependencies")) == -1)
			return (-1);
	}
	return (0);
}

int
scan_pyproject(const char *buf, size_t len, const struct scan_sink *sink)
{
	struct toml_doc		*d;
	const struct toml_table	*root, *t;
	const struct toml_value	*v, *w;
	int			 ret = -1;

	if ((d = py_parse(buf, len, sink)) == NULL)
		return (-1);
	root = toml_root(d);
	/*
	 * The decoder checks every field before the collector reads one:
	 * a type error late in the file fails it as one early does.  The
	 * shapes of the containers are checked here, their entries below.
	 */
	if ((v = toml_table_get(root, "project")) != NULL) {
		if ((t = toml_as_table(v)) == NULL) {
			py_type_error(sink, "project", v, "a table");
			goto out;
		}
		if ((w = toml_table_get(t, "dependencies")) != NULL &&
		    toml_as_array(w) == NULL) {
			py_type_error(sink, "project.dependencies", w,
			    "an array of strings");
			goto out;
		}
		if ((w = toml_table_get(t, "optional-dependencies")) != NULL &&
		    toml_as_table(w) == NULL) {
			py_type_error(sink, "project.optional-dependencies", w,
			    "a table");
			goto out;
		}
	}
	if ((v = toml_table_get(root, "build-system")) != NULL) {
		if ((t = toml_as_table(v)) == NULL) {
			py_type_error(sink, "build-system", v, "a table");
			goto out;
		}
		if ((w = toml_table_get(t, "requires")) != NULL &&
		    toml_as_array(w) == NULL) {
			py_type_error(sink, "build-system.requires", w,
			    "an array of strings");
			goto out;
		}
	}
	if ((v = toml_table_get(root, "dependency-groups")) != NULL &&
	    toml_as_table(v) == NULL) {
		py_type_error(sink, "dependency-groups", v, "a table");
		goto out;
	}
	/*
	 * Items are emitted while the rest is checked: a later type error
	 * still fails the file (FILE_DONE SCAN_FAILED drops what was sent).
	 */
	t = toml_as_table(toml_table_get(root, "project"));
	if ((v = toml_table_get(t, "dependencies")) != NULL &&
	    py_reqs(sink, "project.dependencies", v, 0) == -1)
		goto out;
	if ((v = toml_table_get(t, "optional-dependencies")) != NULL &&
	    py_req_table(sink, "project.optional-dependencies", v, 0) == -1)
		goto out;
	t = toml_as_table(toml_table_get(root, "build-system"));
	if ((v = toml_table_get(t, "requires")) != NULL &&
	    py_reqs(sink, "build-system.requires", v, 0) == -1)
		goto out;
	if ((v = toml_table_get(root, "dependency-groups")) != NULL &&
	    py_req_table(sink, "dependency-groups", v, 1) == -1)
		goto out;
	if (py_poetry(sink, root) == -1)
		goto out;
	ret = 0;
 out:
	toml_free(d);
	return (ret);
}
