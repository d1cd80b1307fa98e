/*
 * fleet-url.h - the store the fleet unit tests run on: $NP_FLEET_URL when
 * it is set (tests/fleet/ runs them again on a real PostgreSQL that way),
 * else a SQLite file in a new temporary folder.
 */
#ifndef NP_TEST_FLEET_URL_H
#define NP_TEST_FLEET_URL_H

#include <stdio.h>
#include <stdlib.h>

#include "np-config.h"

/*
 * Make DIR (DSIZE bytes) a new folder "/tmp/PREFIX-XXXXXX" and URL (USIZE
 * bytes) the store's URL.  0; or the test's exit status: 99 when the
 * folder cannot be made, 77 (skipped) in a build without SQLite and no
 * $NP_FLEET_URL.
 */
static inline int test_fleet_url(const char *prefix, char *dir, size_t dsize, char *url,
				 size_t usize)
{
	const char *env = getenv("NP_FLEET_URL");

	snprintf(dir, dsize, "/tmp/%s-XXXXXX", prefix);
	if (!mkdtemp(dir))
		return 99;
	if (env && *env) {
		snprintf(url, usize, "%s", env);
		return 0;
	}
#if NP_HAVE_SQLITE
	snprintf(url, usize, "sqlite:%s/fleet.db", dir);
	return 0;
#else
	fprintf(stderr, "built without SQLite and no NP_FLEET_URL: skipped\n");
	return 77;
#endif
}

#endif
