/*
 * check.h - the tiny assertion kit of the unit tests.
 *
 * CHECK counts passes and failures and keeps going, so one run shows every
 * broken assertion; t_done() prints "N passed, N failed" and gives the
 * exit status.  t_fixture() unpacks one of the hwloc sysfs fixtures from
 * $NP_SHARED into a temporary folder and returns its root.
 */
#ifndef NP_TEST_CHECK_H
#define NP_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
 * Unpack fixtures/hwloc-linux/NAME.tar.bz2 into a fresh temporary folder
 * (removed by t_cleanup) and return the root inside it, in static storage
 * that the next call overwrites.
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

static inline const char *t_fixture(const char *name)
{
	static char root[512];
	char cmd[1024];
	FILE *p;

	t_cleanup();
	snprintf(t_tmpdir, sizeof(t_tmpdir), "/tmp/np-test-XXXXXX");
	if (!mkdtemp(t_tmpdir)) {
		perror("mkdtemp");
		exit(99);
	}
	snprintf(cmd, sizeof(cmd), "tar -C '%s' -xjf '%s/fixtures/hwloc-linux/%s.tar.bz2' && ls '%s'",
		 t_tmpdir, t_shared(), name, t_tmpdir);
	p = popen(cmd, "r");
	if (!p || !fgets(root + strlen(t_tmpdir) + 1, (int)(sizeof(root) - strlen(t_tmpdir) - 1), p)) {
		fprintf(stderr, "cannot unpack fixture %s\n", name);
		exit(99);
	}
	pclose(p);
	memcpy(root, t_tmpdir, strlen(t_tmpdir));
	root[strlen(t_tmpdir)] = '/';
	root[strcspn(root, "\n")] = '\0';
	return root;
}

#endif
