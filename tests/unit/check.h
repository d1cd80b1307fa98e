/*
 * check.h - the tiny assertion kit of the unit tests.
 *
 * CHECK counts passes and failures and keeps going, so one run shows every
 * broken assertion; t_done() prints "N passed, N failed" and gives the
 * exit status.
 *
 * A test program is a list of named cases, run from main() with
 * T_CASE("name", call): NP_TEST_FILTER=PATTERN[,PATTERN...] runs only the
 * cases whose "program/name" (program without "test-", e.g.
 * "place/distance") matches one pattern: a shell glob when it has * ? or
 * [, else a substring.  A case that needs the shared folder ($NP_SHARED:
 * the sysfs fixtures, Nova's vectors) calls t_shared() or t_fixture(),
 * which skip that case alone, saying why, when the folder is not there.
 * A program whose every case was skipped or filtered out exits 77, which
 * Meson counts as skipped.
 *
 * t_fixture() gives the root of one of the hwloc sysfs fixtures from
 * $NP_SHARED, unpacked once into a cache.
 *
 * t_need() and t_have() skip a test or a part of one that needs a feature
 * this build was made without (np-config.h), saying which.
 */
#ifndef NP_TEST_CHECK_H
#define NP_TEST_CHECK_H

#include <fnmatch.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaplace/topology.h>

#include "np-config.h"

static int t_pass, t_fail;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (cond) {                                                  \
			t_pass++;                                            \
		} else {                                                     \
			t_fail++;                                            \
			fflush(stdout);                                      \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

/*
 * Named cases.  T_CASE runs CALL (any expression: a case may take the
 * program's shared setup as arguments) between t_case_begin() and
 * t_case_end(); a skip inside it jumps back here.  The jump leaves what
 * the case had allocated, so a case skips before it allocates.
 */
static struct {
	char name[160];   /* "program/case" of the case running, or "" */
	int pass0, fail0; /* t_pass, t_fail when it began */
	int run, filtered, skipped;
	jmp_buf skip;
} t_case;

#define T_CASE(name, call)                                  \
	do {                                                \
		if (t_case_begin(__FILE__, (name))) {       \
			if (setjmp(t_case.skip) == 0) {     \
				call;                       \
				t_case_end();               \
			}                                   \
		}                                           \
	} while (0)

/* Does NAME match one of the comma-separated patterns of FILTER? */
static inline bool t_filter_match(const char *filter, const char *name)
{
	char pat[256];

	while (*filter) {
		size_t n = strcspn(filter, ",");

		snprintf(pat, sizeof(pat), "%.*s", (int)n, filter);
		filter += n + (filter[n] == ',');
		if (!pat[0])
			continue;
		if (strpbrk(pat, "*?[") ? fnmatch(pat, name, 0) == 0 : strstr(name, pat) != NULL)
			return true;
	}
	return false;
}

/* Start case NAME of the program in FILE, unless NP_TEST_FILTER leaves it out. */
static inline bool t_case_begin(const char *file, const char *name)
{
	const char *base = strrchr(file, '/'), *filter = getenv("NP_TEST_FILTER");
	size_t len;

	base = base ? base + 1 : file;
	if (strncmp(base, "test-", 5) == 0)
		base += 5;
	len = strcspn(base, ".");
	snprintf(t_case.name, sizeof(t_case.name), "%.*s/%s", (int)len, base, name);
	if (filter && *filter && !t_filter_match(filter, t_case.name)) {
		t_case.filtered++;
		t_case.name[0] = '\0';
		return false;
	}
	t_case.pass0 = t_pass;
	t_case.fail0 = t_fail;
	fflush(stdout);
	return true;
}

static inline void t_case_end(void)
{
	int failed = t_fail - t_case.fail0;

	t_case.run++;
	printf("%s %s: %d checks%s\n", failed ? "FAIL" : "ok", t_case.name,
	       t_pass - t_case.pass0 + failed, failed ? ", some failed" : "");
	fflush(stdout);
	t_case.name[0] = '\0';
}

/*
 * Skip the running case, saying WHY; outside a case, skip the whole
 * program (exit 77), as a test that cannot run at all.
 */
static inline void t_skip(const char *why)
{
	if (!t_case.name[0]) {
		fprintf(stderr, "skipped: %s\n", why);
		exit(77);
	}
	printf("skip %s: %s\n", t_case.name, why);
	fflush(stdout);
	t_case.skipped++;
	t_case.name[0] = '\0';
	longjmp(t_case.skip, 1);
}

static inline int t_done(void)
{
	const char *filter = getenv("NP_TEST_FILTER");

	if (t_case.filtered)
		printf("%d cases skipped by NP_TEST_FILTER='%s'\n", t_case.filtered, filter);
	if (t_case.skipped)
		printf("%d cases skipped (each said why above)\n", t_case.skipped);
	printf("%d passed, %d failed\n", t_pass, t_fail);
	if (t_fail)
		return 1;
	return t_case.run == 0 && (t_case.filtered || t_case.skipped) ? 77 : 0;
}

/* Skip the whole test (exit 77) unless this build has FEATURE (BUILT: its NP_HAVE_). */
static inline void t_need(int built, const char *feature)
{
	if (!built) {
		printf("skipped: needs %s (this build has none)\n", feature);
		exit(77);
	}
}

/* Whether this build has FEATURE; when not, says that WHAT is skipped. */
static inline int t_have(int built, const char *feature, const char *what)
{
	if (!built)
		printf("skip %s: needs %s (this build has none)\n", what, feature);
	return built;
}

/*
 * Inside a case: skip that case unless this build has FEATURE (BUILT: its
 * NP_HAVE_), saying which; outside a case, skip the whole program.
 */
static inline void t_needs(int built, const char *feature)
{
	char why[128];

	if (!built) {
		snprintf(why, sizeof(why), "needs %s (this build has none)", feature);
		t_skip(why);
	}
}

/*
 * $NP_SHARED, or the running case is skipped, saying that it needs WHAT
 * from there, when the folder is not there.
 */
static inline const char *t_shared_for(const char *what)
{
	const char *s = getenv("NP_SHARED");
	char why[256];

	if (!s || !*s || access(s, R_OK) != 0) {
		snprintf(why, sizeof(why), "needs %.160s from the shared folder (NP_SHARED %s)", what,
			 s && *s ? "is not readable" : "is not set");
		t_skip(why);
	}
	return s;
}

static inline const char *t_shared(void)
{
	return t_shared_for("data");
}

/*
 * $NP_SRC/tests/data/SUB, the test's own data, in static storage; the case
 * (or, outside a case, the program) is skipped when NP_SRC is not set.
 */
static inline const char *t_data(const char *sub)
{
	static char dir[1024];
	const char *src = getenv("NP_SRC");

	if (!src || !*src)
		t_skip("needs the source tree: NP_SRC is not set");
	snprintf(dir, sizeof(dir), "%s/tests/data/%s", src, sub);
	return dir;
}

/*
 * Fixtures.  Unpacking a tarball takes seconds, so each is unpacked once
 * into a cache ($NP_BUILD/fixture-cache, else /tmp/np-fixture-cache): into
 * a temporary folder first, then renamed into place, so tests running in
 * parallel never see half a tree.  t_fixture() returns the cached root,
 * which tests must only read; t_fixture_copy() returns a private copy a
 * test may change, removed by t_cleanup().  Both return static storage
 * that the next call of the same function overwrites.
 */
static char t_tmpdir[256];

static inline void t_cleanup(void)
{
	char cmd[512];

	if (t_tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t_tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", t_tmpdir);
		t_tmpdir[0] = '\0';
	}
}

/* The only entry of folder DIR, into OUT; false when there is not one. */
static inline int t_only_entry(const char *dir, char *out, size_t size)
{
	char cmd[1024];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "ls '%s' 2>/dev/null", dir);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	ok = fgets(out, (int)size, p) != NULL;
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
	return ok && out[0];
}

static inline const char *t_fixture(const char *name)
{
	static char root[2048];
	char cache[512], dest[768], tmp[800], entry[256], cmd[4096];
	const char *build = getenv("NP_BUILD"), *shared;

	snprintf(cmd, sizeof(cmd), "the sysfs fixture %s", name);
	shared = t_shared_for(cmd);

	snprintf(cache, sizeof(cache), "%s/fixture-cache",
		 build && *build ? build : "/tmp/np");
	snprintf(dest, sizeof(dest), "%s/%s", cache, name);
	if (!t_only_entry(dest, entry, sizeof(entry))) {
		snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", cache);
		if (system(cmd) != 0)
			exit(99);
		snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-XXXXXX", cache, name);
		if (!mkdtemp(tmp)) {
			perror("mkdtemp");
			exit(99);
		}
		snprintf(cmd, sizeof(cmd),
			 "tar -C '%s' -xjf '%s/fixtures/hwloc-linux/%s.tar.bz2' && "
			 "{ mv -T '%s' '%s' 2>/dev/null || rm -rf '%s'; }",
			 tmp, shared, name, tmp, dest, tmp);
		if (system(cmd) != 0 || !t_only_entry(dest, entry, sizeof(entry))) {
			fprintf(stderr, "cannot unpack fixture %s\n", name);
			exit(99);
		}
	}
	snprintf(root, sizeof(root), "%s/%s", dest, entry);
	return root;
}

static inline const char *t_fixture_copy(const char *name)
{
	static char root[2400];
	const char *src = t_fixture(name);
	char cmd[4096];

	t_cleanup();
	snprintf(t_tmpdir, sizeof(t_tmpdir), "/tmp/np-test-XXXXXX");
	if (!mkdtemp(t_tmpdir)) {
		perror("mkdtemp");
		exit(99);
	}
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s/'", src, t_tmpdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot copy fixture %s\n", name);
		exit(99);
	}
	snprintf(root, sizeof(root), "%s/%s", t_tmpdir, strrchr(src, '/') + 1);
	return root;
}

/*
 * The topology of fixture NAME: through the sysfs source where the build
 * has hwloc, else from the same machine saved as numaplace JSON,
 * tests/data/json/NAME.json (tests/cli/place.sh checks that the two
 * agree).  0, or the load's code with ERR filled.
 */
static inline int t_fixture_topo(const char *name, np_topo **t, struct np_error *err)
{
	char path[1100];

	if (NP_HAVE_HWLOC)
		return np_topo_load(NP_SOURCE_SYSFS, t_fixture(name), t, err);
	snprintf(path, sizeof(path), "%s/%s.json", t_data("json"), name);
	return np_topo_load(NP_SOURCE_JSON, path, t, err);
}

#endif
