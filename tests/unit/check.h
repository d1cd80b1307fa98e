/*
 * check.h - the tiny assertion kit of the unit tests.
 *
 * CHECK counts passes and failures and keeps going, so one run shows every
 * broken assertion; t_done() prints "N passed, N failed" and gives the
 * exit status.  t_fixture() gives the root of one of the hwloc sysfs
 * fixtures from $NP_SHARED, unpacked once into a cache.  t_need() and
 * t_have() skip a test or a part of one that needs a feature this build
 * was made without (np-config.h), saying which.
 */
#ifndef NP_TEST_CHECK_H
#define NP_TEST_CHECK_H

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
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

static inline int t_done(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return t_fail ? 1 : 0;
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

/* $NP_SHARED, or the test is skipped (exit 77) when it is not set. */
static inline const char *t_shared(void)
{
	const char *s = getenv("NP_SHARED");

	if (!s || access(s, R_OK) != 0) {
		fprintf(stderr, "NP_SHARED not set or unreadable: skipped\n");
		exit(77);
	}
	return s;
}

/*
 * $NP_SRC/tests/data/SUB, the test's own data, in static storage; the test
 * is skipped (exit 77) when NP_SRC is not set.
 */
static inline const char *t_data(const char *sub)
{
	static char dir[1024];
	const char *src = getenv("NP_SRC");

	if (!src || !*src) {
		fprintf(stderr, "NP_SRC not set: skipped\n");
		exit(77);
	}
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
	const char *build = getenv("NP_BUILD");

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
			 tmp, t_shared(), name, tmp, dest, tmp);
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
