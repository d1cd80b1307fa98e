/*
 * fuzz-flavors.c - libFuzzer target for the flavor catalogue reader
 * (lib/request/flavors.c, np_flavors_parse(): numaplace.flavors/1, what
 * `place/claim/schedule --flavors FILE` read).
 *
 * Beyond the sanitizers it checks what callers rely on: a failure is
 * NP_EINPUT or NP_ENOMEM with one line and no catalogue; a success has 1
 * to NP_FLAVORS_MAX flavors, each with a request and a share in 0..1, the
 * shares adding up to 1; and its demand (np_demand_add_flavors()) stays
 * within NP_DEMAND_MAX shapes that np_place() accepts.
 */
#include "fuzz-common.h"

#include <numaplace/flavors.h>
#include <numaplace/place.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_demand(const np_flavors *f)
{
	static struct np_demand dem[NP_DEMAND_MAX];
	int n = np_demand_add_flavors(dem, 0, f, NP_DEMAND_FLAVORS_WEIGHT);

	if (n < 0 || n > NP_DEMAND_MAX)
		fuzz_fail("demand: %d shapes", n);
	for (int i = 0; i < n; i++)
		if (dem[i].pinned + dem[i].floating < 1 || dem[i].memory_mb < 1 ||
		    !(dem[i].weight > 0) || dem[i].weight > 1000)
			fuzz_fail("demand shape %d out of range", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_error err = { 0 };
	np_flavors *f = NULL;
	int rc = np_flavors_parse((const char *)data, size, "fuzz", &f, &err);
	double sum = 0;

	if (rc) {
		if ((rc != NP_EINPUT && rc != NP_ENOMEM) || f || !err.message[0] ||
		    strchr(err.message, '\n'))
			fuzz_fail("failure %d: '%s'", rc, err.message);
		return 0;
	}
	if (!f || np_flavors_count(f) < 1 || np_flavors_count(f) > NP_FLAVORS_MAX)
		fuzz_fail("success with %d flavors", np_flavors_count(f));
	for (int i = 0; i < np_flavors_count(f); i++) {
		double s = np_flavors_share(f, i);

		if (!np_flavors_request(f, i) || !np_flavors_name(f, i) || !(s >= 0 && s <= 1))
			fuzz_fail("flavor %d: no request, no name or share %g", i, s);
		sum += s;
	}
	if (sum < 1 - 1e-9 || sum > 1 + 1e-9)
		fuzz_fail("shares add up to %.17g", sum);
	check_demand(f);
	np_flavors_free(f);
	return 0;
}
