/*
 * Item identity and the differ against RULES.md 2.1 and 9.4 (D*), plus
 * duplicate ids, ordering, every field a modification can come from,
 * the activity feed text, and a randomised comparison with a naive
 * rendering of the spec's pseudo-code.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "compat.h"
#include "differ.h"

static struct item
brew(const char *name, const char *version)
{
	struct item	it;

	memset(&it, 0, sizeof(it));
	it.surface = SURFACE_HOMEBREW;
	it.kind = KIND_PACKAGE;
	it.name = (char *)name;
	it.version = (char *)version;
	it.path = "/opt/homebrew/Cellar/ripgrep";
	it.origin = "homebrew/core";
	it.installed_on_request = 1;
	it.detail = NULL;
	return (it);
}

static struct item
js(const char *name, const char *version)
{
	struct item	it;

	memset(&it, 0, sizeof(it));
	it.surface = SURFACE_JAVASCRIPT;
	it.kind = KIND_PACKAGE;
	it.name = (char *)name;
	it.version = (char *)version;
	it.path = "/Users/alice/src/app/pnpm-lock.yaml";
	it.origin = "pnpm";
	it.installed_on_request = ITEM_BOOL_NIL;
	it.detail = NULL;
	return (it);
}

static struct change *
diff(const struct item *p, size_t np, const struct item *c, size_t nc,
    size_t *n)
{
	struct change	*ch;

	cr_assert_eq(differ_diff(p, np, c, nc, &ch, n), 0);
	cr_assert_not_null(ch);
	return (ch);
}

static void
assert_id(struct item it, const char *want)
{
	char	*id = item_id(&it);

	cr_assert_not_null(id);
	cr_assert_str_eq(id, want);
	free(id);
}

/* ---- 2.1 identity ---- */

Test(identity, homebrew_example)
{
	struct item	it = brew("ripgrep", "14.0");

	it.path = "/opt/homebrew/Cellar/ripgrep";
	assert_id(it, "homebrew/package//opt/homebrew/Cellar/ripgrep/ripgrep");
}

Test(identity, javascript_example)
{
	struct item	it = js("left-pad", "1.3.0");

	it.path = "/Users/alice/src/app/package-lock.json";
	assert_id(it, "javascriptPackages/package//Users/alice/src/app/"
	    "package-lock.json/left-pad/1.3.0");
}

Test(identity, python_declared_requirement_trailing_slash)
{
	struct item	it = js("django", NULL);

	it.surface = SURFACE_PYTHON;
	it.kind = KIND_PYTHON_DECLARED_REQUIREMENT;
	it.path = "/Users/alice/src/app/requirements.txt";
	assert_id(it, "pythonPackages/pythonDeclaredRequirement//Users/alice/"
	    "src/app/requirements.txt/django/");
}

Test(identity, version_only_on_package_surfaces)
{
	int	s;

	for (s = 0; s < SURFACE_COUNT; s++)
		cr_assert_eq(item_version_defines_identity((enum surface)s),
		    s == SURFACE_JAVASCRIPT || s == SURFACE_PYTHON, "%s",
		    surface_name((enum surface)s));
	/* an agent config item keeps its id across versions */
	{
		struct item	it = brew("srv", "1");

		it.surface = SURFACE_CLAUDE;
		it.kind = KIND_MCP_SERVER;
		it.path = "/home/a/.claude.json";
		assert_id(it, "claudeConfig/mcpServer//home/a/.claude.json/srv");
	}
}

Test(identity, kind_is_part_of_identity)
{
	struct item	a = brew("x", NULL), b = brew("x", NULL);
	char		*ia, *ib;

	b.kind = KIND_HOOK;
	ia = item_id(&a);
	ib = item_id(&b);
	cr_assert_str_neq(ia, ib);
	free(ia);
	free(ib);
}

Test(identity, equality_fields)
{
	struct item	a = brew("x", "1"), b;

	b = a;
	cr_assert(item_equal(&a, &b));
	b.version = NULL;
	cr_assert(!item_equal(&a, &b));
	b = a;
	b.detail = "";
	cr_assert(!item_equal(&a, &b));		/* nil is not "" */
	b = a;
	b.installed_on_request = ITEM_BOOL_NIL;
	cr_assert(!item_equal(&a, &b));
	b = a;
	b.origin = "homebrew/cask";
	cr_assert(!item_equal(&a, &b));
	b = a;
	b.path = "/elsewhere";
	cr_assert(!item_equal(&a, &b));
	b = a;
	b.kind = KIND_HOOK;
	cr_assert(!item_equal(&a, &b));
	b = a;
	b.name = strdup("x");			/* bytes, not pointers */
	cr_assert(item_equal(&a, &b));
	free(b.name);
}

/* ---- 9.4 differ ---- */

Test(differ, D1_unchanged)
{
	struct item	 a = brew("ripgrep", "14.0"), b = a;
	struct change	*ch;
	size_t		 n;

	ch = diff(&a, 1, &b, 1, &n);
	cr_assert_eq(n, 0);
	free(ch);
}

Test(differ, D2_added)
{
	struct item	 a = brew("ripgrep", "14.0");
	struct change	*ch;
	size_t		 n;

	ch = diff(NULL, 0, &a, 1, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(ch[0].kind, CHANGE_ADDED);
	cr_assert_eq(ch[0].new, &a);
	cr_assert_null(ch[0].old);
	free(ch);
}

Test(differ, D3_removed)
{
	struct item	 a = brew("ripgrep", "14.0");
	struct change	*ch;
	size_t		 n;

	ch = diff(&a, 1, NULL, 0, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(ch[0].kind, CHANGE_REMOVED);
	cr_assert_eq(ch[0].old, &a);
	cr_assert_null(ch[0].new);
	free(ch);
}

Test(differ, D4_version_modified_on_homebrew)
{
	struct item	 p = brew("ripgrep", "13.0"), c = brew("ripgrep", "14.0");
	struct change	*ch;
	size_t		 n;

	ch = diff(&p, 1, &c, 1, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(ch[0].kind, CHANGE_MODIFIED);
	cr_assert_str_eq(ch[0].old->version, "13.0");
	cr_assert_str_eq(ch[0].new->version, "14.0");
	free(ch);
}

Test(differ, D5_surface_is_identity)
{
	struct item	 p = brew("x", NULL), c = brew("x", NULL);
	struct change	*ch;
	size_t		 n;

	c.surface = SURFACE_CLAUDE;
	ch = diff(&p, 1, &c, 1, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(ch[0].kind, CHANGE_ADDED);
	cr_assert_eq(ch[0].new, &c);
	cr_assert_eq(ch[1].kind, CHANGE_REMOVED);
	cr_assert_eq(ch[1].old, &p);
	free(ch);
}

Test(differ, D6_reordered_versions)
{
	struct item	 p[2] = { js("zod", "3.25.76"), js("zod", "4.4.3") };
	struct item	 c[2] = { js("zod", "4.4.3"), js("zod", "3.25.76") };
	struct change	*ch;
	size_t		 n;

	ch = diff(p, 2, c, 2, &n);
	cr_assert_eq(n, 0);
	free(ch);
}

Test(differ, D7_second_version_added)
{
	struct item	 p[1] = { js("zod", "3.25.76") };
	struct item	 c[2] = { js("zod", "3.25.76"), js("zod", "4.4.3") };
	struct change	*ch;
	size_t		 n;

	ch = diff(p, 1, c, 2, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(ch[0].kind, CHANGE_ADDED);
	cr_assert_str_eq(ch[0].new->version, "4.4.3");
	free(ch);
}

Test(differ, D8_package_version_is_add_and_remove)
{
	struct item	 p = js("zod", "3.0"), c = js("zod", "4.0");
	struct change	*ch;
	size_t		 n;

	ch = diff(&p, 1, &c, 1, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(ch[0].kind, CHANGE_ADDED);
	cr_assert_str_eq(ch[0].new->version, "4.0");
	cr_assert_eq(ch[1].kind, CHANGE_REMOVED);
	cr_assert_str_eq(ch[1].old->version, "3.0");
	free(ch);
}

/* ---- beyond the vectors ---- */

Test(differ, empty_both)
{
	struct change	*ch;
	size_t		 n;

	ch = diff(NULL, 0, NULL, 0, &n);
	cr_assert_eq(n, 0);
	free(ch);
}

Test(differ, each_field_modifies)
{
	struct item	 p = brew("x", "1"), c;
	struct change	*ch;
	size_t		 n;
	int		 k;

	for (k = 0; k < 5; k++) {
		c = p;
		switch (k) {
		case 0: c.version = "2"; break;
		case 1: c.origin = "thirdparty/tap"; break;
		case 2: c.installed_on_request = 0; break;
		case 3: c.detail = "x"; break;
		case 4: c.version = NULL; break;
		}
		ch = diff(&p, 1, &c, 1, &n);
		cr_assert_eq(n, 1, "case %d", k);
		cr_assert_eq(ch[0].kind, CHANGE_MODIFIED);
		cr_assert_eq(ch[0].old, &p);
		cr_assert_eq(ch[0].new, &c);
		free(ch);
	}
}

Test(differ, order_added_removed_modified_by_id)
{
	struct item	 p[4] = { brew("d", "1"), brew("m2", "1"),
	    brew("a-gone", "1"), brew("m1", "1") };
	struct item	 c[4] = { brew("m2", "2"), brew("z-new", "1"),
	    brew("b-new", "1"), brew("m1", "2") };
	struct change	*ch;
	size_t		 n;

	ch = diff(p, 4, c, 4, &n);
	cr_assert_eq(n, 6);
	cr_assert_eq(ch[0].kind, CHANGE_ADDED);
	cr_assert_str_eq(ch[0].new->name, "b-new");
	cr_assert_eq(ch[1].kind, CHANGE_ADDED);
	cr_assert_str_eq(ch[1].new->name, "z-new");
	cr_assert_eq(ch[2].kind, CHANGE_REMOVED);
	cr_assert_str_eq(ch[2].old->name, "a-gone");
	cr_assert_eq(ch[3].kind, CHANGE_REMOVED);
	cr_assert_str_eq(ch[3].old->name, "d");
	cr_assert_eq(ch[4].kind, CHANGE_MODIFIED);
	cr_assert_str_eq(ch[4].new->name, "m1");
	cr_assert_eq(ch[5].kind, CHANGE_MODIFIED);
	cr_assert_str_eq(ch[5].new->name, "m2");
	free(ch);
}

Test(differ, sort_is_bytewise)
{
	struct item	 c[3] = { brew("b", NULL), brew("B", NULL),
	    brew("\xc3\xa9", NULL) };
	struct change	*ch;
	size_t		 n;

	ch = diff(NULL, 0, c, 3, &n);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(ch[0].new->name, "B");
	cr_assert_str_eq(ch[1].new->name, "b");
	cr_assert_str_eq(ch[2].new->name, "\xc3\xa9");
	free(ch);
}

Test(differ, duplicate_ids_first_occurrence_wins)
{
	struct item	 c[3] = { brew("x", "1"), brew("x", "2"),
	    brew("y", NULL) };
	struct item	 p[2] = { brew("x", "1"), brew("x", "9") };
	struct change	*ch;
	size_t		 n;

	/* added lists each id once, the first one seen */
	ch = diff(NULL, 0, c, 3, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(ch[0].new, &c[0]);
	cr_assert_eq(ch[1].new, &c[2]);
	free(ch);

	/* removed too */
	ch = diff(c, 3, NULL, 0, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(ch[0].old, &c[0]);
	cr_assert_eq(ch[1].old, &c[2]);
	free(ch);

	/* modified compares first occurrences: x 1 == x 1 */
	ch = diff(p, 2, c, 2, &n);
	cr_assert_eq(n, 0);
	free(ch);

	/* and when they differ, reports them once */
	ch = diff(&p[1], 1, c, 2, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(ch[0].kind, CHANGE_MODIFIED);
	cr_assert_eq(ch[0].old, &p[1]);
	cr_assert_eq(ch[0].new, &c[0]);
	free(ch);
}

Test(differ, same_name_other_path_is_other_item)
{
	struct item	 p = brew("x", NULL), c = brew("x", NULL);
	struct change	*ch;
	size_t		 n;

	c.path = "/usr/local/Cellar/x";
	ch = diff(&p, 1, &c, 1, &n);
	cr_assert_eq(n, 2);
	free(ch);
}

/* ---- 7.1 activity feed text ---- */

static void
assert_detail(struct change c, const char *want)
{
	char	*s = differ_change_detail(&c);

	cr_assert_not_null(s);
	cr_assert_str_eq(s, want);
	free(s);
}

Test(feed, change_detail_text)
{
	struct item	o = brew("x", "13.0"), n = brew("x", "14.0");
	struct change	c = { CHANGE_ADDED, NULL, &n, 0 };

	assert_detail(c, "homebrew/core");
	c.kind = CHANGE_REMOVED;
	c.old = &o;
	c.new = NULL;
	assert_detail(c, "homebrew/core");
	c.kind = CHANGE_MODIFIED;
	c.new = &n;
	assert_detail(c, "13.0 \xe2\x86\x92 14.0");
	n.version = NULL;
	assert_detail(c, "13.0 \xe2\x86\x92 ?");
	n.version = "13.0";
	n.origin = "thirdparty/tap";
	assert_detail(c, "homebrew/core \xe2\x86\x92 thirdparty/tap");
	n.origin = "homebrew/core";
	n.detail = "changed";
	assert_detail(c, "homebrew/core");
	c.new = NULL;
	errno = 0;
	cr_assert_null(differ_change_detail(&c));
	cr_assert_eq(errno, EINVAL);
}

/* ---- the spec's pseudo-code, naively, against the real thing ---- */

static const char *const rnames[] = { "a", "b", "c", "d", "zod" };
static const char *const rversions[] = { "1", "2", NULL };
static const char *const rorigins[] = { "npm", "pnpm" };

static struct item
rnd_item(unsigned int *seed)
{
	struct item	it;

	memset(&it, 0, sizeof(it));
	it.surface = rand_r(seed) % 3 == 0 ? SURFACE_HOMEBREW :
	    SURFACE_JAVASCRIPT;
	it.kind = rand_r(seed) % 4 == 0 ? KIND_HOOK : KIND_PACKAGE;
	it.name = (char *)rnames[rand_r(seed) % nitems(rnames)];
	it.version = (char *)rversions[rand_r(seed) % nitems(rversions)];
	it.path = "/p";
	it.origin = (char *)rorigins[rand_r(seed) % nitems(rorigins)];
	it.installed_on_request = ITEM_BOOL_NIL;
	it.detail = rand_r(seed) % 2 ? "d" : NULL;
	return (it);
}

/* First item with this id, or NULL. */
static const struct item *
naive_find(const struct item *v, size_t n, const char *id)
{
	size_t		 i;
	char		*x;
	int		 eq;

	for (i = 0; i < n; i++) {
		x = item_id(&v[i]);
		eq = strcmp(x, id) == 0;
		free(x);
		if (eq)
			return (&v[i]);
	}
	return (NULL);
}

static int
naive_first(const struct item *v, size_t i)
{
	char	*id = item_id(&v[i]);
	int	 first = naive_find(v, i + 1, id) == &v[i];

	free(id);
	return (first);
}

/* One list (by kind) in the naive order: ascending id. */
static size_t
naive(const struct item *p, size_t np, const struct item *c, size_t nc,
    enum change_kind kind, const struct item **out)
{
	const struct item	*src = kind == CHANGE_REMOVED ? p : c;
	const struct item	*other = kind == CHANGE_REMOVED ? c : p, *t;
	size_t			 ns = kind == CHANGE_REMOVED ? np : nc;
	size_t			 no = kind == CHANGE_REMOVED ? nc : np;
	size_t			 i, j, n = 0;
	char			*id, *a, *b;

	for (i = 0; i < ns; i++) {
		if (!naive_first(src, i))
			continue;
		id = item_id(&src[i]);
		t = naive_find(other, no, id);
		free(id);
		if ((kind == CHANGE_MODIFIED && t != NULL &&
		    !item_equal(t, &src[i])) ||
		    (kind != CHANGE_MODIFIED && t == NULL))
			out[n++] = &src[i];
	}
	/* insertion sort by id */
	for (i = 1; i < n; i++)
		for (j = i; j > 0; j--) {
			a = item_id(out[j - 1]);
			b = item_id(out[j]);
			if (strcmp(a, b) > 0) {
				t = out[j];
				out[j] = out[j - 1];
				out[j - 1] = t;
			}
			free(a);
			free(b);
		}
	return (n);
}

Test(differ, randomised_against_spec)
{
	struct item		 p[12], c[12];
	const struct item	*want[12];
	struct change		*ch;
	unsigned int		 seed = 1;
	size_t			 np, nc, n, k, w, i;
	int			 round, kind;

	for (round = 0; round < 2000; round++) {
		np = (size_t)rand_r(&seed) % 12;
		nc = (size_t)rand_r(&seed) % 12;
		for (i = 0; i < np; i++)
			p[i] = rnd_item(&seed);
		for (i = 0; i < nc; i++)
			c[i] = rand_r(&seed) % 2 && i < np ? p[i] :
			    rnd_item(&seed);
		ch = diff(p, np, c, nc, &n);
		k = 0;
		for (kind = 0; kind < CHANGE_COUNT; kind++) {
			w = naive(p, np, c, nc, (enum change_kind)kind, want);
			for (i = 0; i < w; i++, k++) {
				cr_assert_lt(k, n, "round %d", round);
				cr_assert_eq((int)ch[k].kind, kind, "round %d",
				    round);
				cr_assert_eq(kind == CHANGE_REMOVED ?
				    ch[k].old : ch[k].new, want[i],
				    "round %d", round);
			}
		}
		cr_assert_eq(k, n, "round %d", round);
		free(ch);
	}
}

/*
 * item_id_cmp() orders as strcmp() of the ids it does not build: pairs
 * drawn from names around '/' and '-' (which sort below and above it),
 * prefixes of each other, nil and "" versions, kinds, surfaces, and
 * one file's items sharing their path or not.
 */
Test(identity, id_cmp_is_strcmp_of_ids)
{
	static const char *const names[] = { "a", "a-b", "a/b", "a/", "ab",
	    "a.b", "@s/a", "@s/a/node_modules/b", "", "a/b/c", "a0", "é" };
	static const char *const versions[] = { NULL, "", "1", "1.0",
	    "1/0", "10" };
	static const enum surface surfs[] = { SURFACE_JAVASCRIPT,
	    SURFACE_HOMEBREW, SURFACE_CLAUDE };
	static const char *const paths[] = { "/p/x", "/p/x", "/p/x/y",
	    "/p" };
	struct item	 v[256];
	char		*ia, *ib;
	size_t		 i, j, n;
	unsigned int	 r = 1;
	int		 c, want;

	for (n = 0; n < nitems(v); n++) {
		memset(&v[n], 0, sizeof(v[n]));
		r = r * 1103515245 + 12345;
		v[n].name = (char *)names[(r >> 8) % nitems(names)];
		v[n].version = (char *)versions[(r >> 12) % nitems(versions)];
		v[n].surface = surfs[(r >> 16) % 4 == 3 ? 0 : (r >> 16) % 3];
		v[n].kind = (r >> 20) % 5 == 0 ? KIND_MCP_SERVER :
		    KIND_PACKAGE;
		/* One pointer for most: the items of one file share it. */
		v[n].path = (char *)((r >> 24) % 4 == 0 ?
		    paths[(r >> 26) % nitems(paths)] : paths[0]);
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			cr_assert_not_null(ia = item_id(&v[i]));
			cr_assert_not_null(ib = item_id(&v[j]));
			want = strcmp(ia, ib);
			c = item_id_cmp(&v[i], &v[j]);
			cr_assert((c < 0) == (want < 0) && (c > 0) == (want > 0),
			    "%s vs %s: %d, strcmp %d", ia, ib, c, want);
			free(ia);
			free(ib);
		}
}
