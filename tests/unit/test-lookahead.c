/*
 * test-lookahead.c - np_place_lookahead() (lib/place/lookahead.c):
 * choosing among a few good plans by sampled futures of a flavor
 * catalogue.
 *
 * A hand case where it provably admits more than the greedy engine (the
 * greedy plan leaves no node for the only flavor the catalogue sells, the
 * lookahead's does, and the next guest shows it); the same seed giving
 * the same plan, every plan valid; the caller's own candidates (copied
 * when one wins); the budget bounding the guests placed
 * in futures (and no future counted half-played); a guest that does not
 * fit; and options out of range refused with one line, the output
 * untouched.
 */
#include <string.h>

#include <numaplace/place.h>

#include "check.h"
#include "synth.h"

/* 4 nodes of 8 cores x 2 threads and 32 GiB, with USED_MB[j] of memory used on node j. */
static np_host *host_with(np_topo **topo, const uint64_t *used_mb)
{
	struct synth_host s = { 4, 8, 32768, 0, 0 };
	struct np_error err = { 0 };
	char *json = synth_topo_json(&s);
	np_host *h = NULL;

	*topo = NULL;
	CHECK(json && np_topo_parse(NP_SOURCE_JSON, json, strlen(json), "synth", topo, &err) == 0,
	      "%s", err.message);
	free(json);
	if (!*topo || np_host_new(*topo, &h, &err)) {
		CHECK(0, "host: %s", err.message);
		return NULL;
	}
	for (int j = 0; j < 4; j++)
		CHECK(np_host_add_usage(h, j, 0, used_mb[j], NULL, 0, &err) == 0, "%s", err.message);
	return h;
}

static np_request *flavor(const char *text)
{
	struct np_error err = { 0 };
	np_request *r = NULL;

	CHECK(np_request_from_flavor_text(text, NULL, &r, &err) == 0, "%s: %s", text, err.message);
	return r;
}

static np_flavors *catalogue(const char *json)
{
	struct np_error err = { 0 };
	np_flavors *f = NULL;

	CHECK(np_flavors_parse(json, strlen(json), "test", &f, &err) == 0, "%s", err.message);
	return f;
}

static int node_of(const np_plan *p)
{
	return np_plan_fits(p) ? np_plan_cell(p, 0)->node_idx : -1;
}

/* Does REQ fit on H once P is charged? */
static bool fits_after(const np_host *h, const np_plan *p, const np_request *req)
{
	np_host *c = NULL;
	np_plan *q = NULL;
	bool fits = false;

	if (!np_host_clone(h, &c, NULL) && !np_host_charge(c, p, false, NULL) &&
	    !np_place(c, req, NULL, &q, NULL))
		fits = np_plan_fits(q);
	np_plan_free(q);
	np_host_free(c);
	return fits;
}

/*
 * Node 0 has 20 GiB free, node 1 28 GiB, nodes 2 and 3 none; a 12 GiB
 * guest comes, and the cloud sells only 24 GiB guests.  Spreading puts
 * the guest on node 1, after which no 24 GiB guest fits; on node 0 it
 * leaves node 1's 28 GiB for one.
 */
static void test_beats_greedy(void)
{
	static const uint64_t used[4] = { 12288, 4096, 32768, 32768 };
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);
	np_request *q = flavor("vcpus=1,ram=12288,hw:numa_nodes=1");
	np_request *big = flavor("vcpus=1,ram=24576,hw:numa_nodes=1");
	np_flavors *f = catalogue("[{\"vcpus\": 1, \"memory_mb\": 24576, "
				  "\"extra_specs\": {\"hw:numa_nodes\": \"1\"}}]");
	struct np_lookahead la = { .flavors = f, .samples = 4, .depth = 0, .seed = 7 };
	struct np_lookahead_result r = { 0 };
	struct np_error err = { 0 };
	np_plan *greedy = NULL, *look = NULL;

	if (!h || !q || !big || !f)
		goto out;
	CHECK(np_place(h, q, NULL, &greedy, &err) == 0 && np_plan_fits(greedy), "%s", err.message);
	CHECK(np_place_lookahead(h, q, NULL, &la, &look, &r, &err) == 0 && np_plan_fits(look), "%s",
	      err.message);
	if (!greedy || !look)
		goto out;
	/* The case is what it says: greedy spreads onto node 1 and then no big guest fits. */
	CHECK(node_of(greedy) == 1, "greedy chose node %d, not 1", node_of(greedy));
	CHECK(!fits_after(h, greedy, big), "a 24 GiB guest fits after the greedy plan");
	CHECK(node_of(look) == 0, "lookahead chose node %d, not 0", node_of(look));
	CHECK(fits_after(h, look, big), "no 24 GiB guest fits after the lookahead's plan");
	CHECK(r.candidates >= 2 && r.chosen > 0, "%d candidates, chose %d", r.candidates, r.chosen);
	CHECK(r.futures == 4 && r.guests > 0, "%d futures, %llu guests", r.futures,
	      (unsigned long long)r.guests);
	CHECK(np_plan_validate(h, q, look, &err) == 0, "%s", err.message);
	{
		/* The caller's own candidate: engine_only leaves np_place()'s answer and it. */
		const np_plan *extra[1] = { look };
		struct np_lookahead lx = la;
		np_plan *p = NULL;

		lx.extra = extra;
		lx.nextra = 1;
		lx.engine_only = true;
		CHECK(np_place_lookahead(h, q, NULL, &lx, &p, &r, &err) == 0, "%s", err.message);
		CHECK(r.candidates == 2 && r.chosen == 1 && node_of(p) == 0,
		      "extra: %d candidates, chose %d, node %d", r.candidates, r.chosen,
		      p ? node_of(p) : -1);
		CHECK(p != look, "the extra plan was given back, not a copy");
		np_plan_free(p); /* a copy: LOOK is still ours */
		CHECK(node_of(look) == 0, "the extra plan changed");
	}
out:
	np_plan_free(greedy);
	np_plan_free(look);
	np_flavors_free(f);
	np_request_free(big);
	np_request_free(q);
	np_host_free(h);
	np_topo_free(t);
}

static const char *const mix =
	"[{\"vcpus\": 2, \"memory_mb\": 4096, \"weight\": 5,"
	"  \"extra_specs\": {\"hw:cpu_policy\": \"dedicated\"}},"
	" {\"vcpus\": 4, \"memory_mb\": 12288, \"weight\": 3,"
	"  \"extra_specs\": {\"hw:cpu_policy\": \"dedicated\", \"hw:numa_nodes\": \"1\"}},"
	" {\"vcpus\": 8, \"memory_mb\": 16384, \"weight\": 2,"
	"  \"extra_specs\": {\"hw:cpu_policy\": \"dedicated\", \"hw:numa_nodes\": \"2\"}},"
	" {\"vcpus\": 2, \"memory_mb\": 20480, \"weight\": 1}]";

/* The same seed gives the same plan, a guest after another; every plan is valid. */
static void test_same_seed(void)
{
	static const uint64_t used[4] = { 0, 0, 0, 0 };
	static const char *const guests[] = {
		"vcpus=4,ram=12288,hw:cpu_policy=dedicated,hw:numa_nodes=1",
		"vcpus=2,ram=20480",
		"vcpus=8,ram=16384,hw:cpu_policy=dedicated,hw:numa_nodes=2",
		"vcpus=2,ram=4096,hw:cpu_policy=dedicated",
		"vcpus=4,ram=12288,hw:cpu_policy=dedicated,hw:numa_nodes=1",
		"vcpus=2,ram=20480",
	};
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);
	np_flavors *f = catalogue(mix);
	struct np_lookahead la = { .flavors = f, .samples = 16, .depth = 12, .seed = 42 };
	int chosen_other = 0;

	for (size_t g = 0; h && f && g < sizeof(guests) / sizeof(*guests); g++) {
		np_request *q = flavor(guests[g]);
		struct np_lookahead_result r1 = { 0 }, r2 = { 0 };
		struct np_error err = { 0 };
		np_plan *a = NULL, *b = NULL;

		CHECK(q && np_place_lookahead(h, q, NULL, &la, &a, &r1, &err) == 0, "%s", err.message);
		CHECK(q && np_place_lookahead(h, q, NULL, &la, &b, &r2, &err) == 0, "%s", err.message);
		if (a && b) {
			CHECK(np_plan_cell_count(a) == np_plan_cell_count(b), "guest %zu", g);
			for (int i = 0; i < np_plan_cell_count(a) && i < np_plan_cell_count(b); i++)
				CHECK(np_plan_cell(a, i)->node_idx == np_plan_cell(b, i)->node_idx,
				      "guest %zu cell %d: node %d then %d", g, i,
				      np_plan_cell(a, i)->node_idx, np_plan_cell(b, i)->node_idx);
			CHECK(r1.chosen == r2.chosen && r1.guests == r2.guests &&
				      r1.futures == r2.futures, "guest %zu: results differ", g);
			CHECK(np_plan_fits(a) && np_plan_validate(h, q, a, &err) == 0, "guest %zu: %s",
			      g, err.message);
			chosen_other += r1.chosen > 0;
			CHECK(np_host_charge(h, a, false, &err) == 0, "%s", err.message);
		}
		np_plan_free(a);
		np_plan_free(b);
		np_request_free(q);
	}
	(void)chosen_other;
	np_flavors_free(f);
	np_host_free(h);
	np_topo_free(t);
}

/* MAX_GUESTS bounds the guests placed in futures; a future not every candidate finished counts not. */
static void test_budget(void)
{
	static const uint64_t used[4] = { 12288, 4096, 0, 0 };
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);
	np_request *q = flavor("vcpus=2,ram=8192,hw:cpu_policy=dedicated,hw:numa_nodes=1");
	np_flavors *f = catalogue(mix);
	uint64_t budgets[] = { 1, 7, 50, 400 };

	for (size_t b = 0; h && q && f && b < sizeof(budgets) / sizeof(*budgets); b++) {
		struct np_lookahead la = { .flavors = f, .samples = 64, .seed = 3,
					   .max_guests = budgets[b] };
		struct np_lookahead_result r = { 0 };
		struct np_error err = { 0 };
		np_plan *p = NULL;

		CHECK(np_place_lookahead(h, q, NULL, &la, &p, &r, &err) == 0 && np_plan_fits(p), "%s",
		      err.message);
		CHECK(r.candidates >= 2, "%d candidates", r.candidates);
		CHECK(r.guests <= budgets[b], "budget %llu: %llu guests placed",
		      (unsigned long long)budgets[b], (unsigned long long)r.guests);
		CHECK(r.futures < 64, "budget %llu: all 64 futures played",
		      (unsigned long long)budgets[b]);
		/* Each finished future placed at least one guest per candidate. */
		CHECK((uint64_t)r.futures * (uint64_t)r.candidates <= r.guests,
		      "%d futures of %d candidates in %llu guests", r.futures, r.candidates,
		      (unsigned long long)r.guests);
		if (budgets[b] == 1)
			CHECK(r.futures == 0 && r.chosen == 0, "budget 1: %d futures, chose %d",
			      r.futures, r.chosen);
		np_plan_free(p);
	}
	np_flavors_free(f);
	np_request_free(q);
	np_host_free(h);
	np_topo_free(t);
}

/* A guest that fits nowhere: np_place()'s no-fit answer, nothing sampled. */
static void test_no_fit(void)
{
	static const uint64_t used[4] = { 32768, 32768, 32768, 30000 };
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);
	np_request *q = flavor("vcpus=1,ram=8192");
	np_flavors *f = catalogue(mix);
	struct np_lookahead la = { .flavors = f, .samples = 8 };
	struct np_lookahead_result r = { 0 };
	struct np_error err = { 0 };
	np_plan *p = NULL;

	CHECK(h && q && f && np_place_lookahead(h, q, NULL, &la, &p, &r, &err) == 0, "%s",
	      err.message);
	CHECK(p && !np_plan_fits(p), "a plan that fits, on a full host");
	CHECK(r.candidates == 1 && r.futures == 0 && r.guests == 0,
	      "%d candidates, %d futures, %llu guests", r.candidates, r.futures,
	      (unsigned long long)r.guests);
	np_plan_free(p);
	np_flavors_free(f);
	np_request_free(q);
	np_host_free(h);
	np_topo_free(t);
}

/* Options out of range: NP_EINPUT, one line naming the field, *OUT untouched. */
static void test_hostile(void)
{
	static const uint64_t used[4] = { 0, 0, 0, 0 };
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);
	np_request *q = flavor("vcpus=1,ram=1024");
	np_flavors *f = catalogue(mix);
	static const np_plan *const none[NP_LOOKAHEAD_EXTRA_MAX + 1] = { NULL };
	const struct {
		struct np_lookahead la;
		const char *says;
	} bad[] = {
		{ { .flavors = NULL, .samples = 8 }, "catalogue" },
		{ { .flavors = f, .samples = 0 }, "samples" },
		{ { .flavors = f, .samples = -1 }, "samples" },
		{ { .flavors = f, .samples = NP_LOOKAHEAD_SAMPLES_MAX + 1 }, "samples" },
		{ { .flavors = f, .samples = 1, .depth = -1 }, "depth" },
		{ { .flavors = f, .samples = 1, .depth = NP_LOOKAHEAD_DEPTH_MAX + 1 }, "depth" },
		{ { .flavors = f, .samples = 1, .nextra = -1 }, "extra" },
		{ { .flavors = f, .samples = 1, .nextra = 1 }, "extra" },
		{ { .flavors = f, .samples = 1, .extra = none, .nextra = 1 }, "extra plan 0" },
		{ { .flavors = f, .samples = 1, .extra = none, .nextra = NP_LOOKAHEAD_EXTRA_MAX + 1 },
		  "extra" },
	};

	for (size_t i = 0; h && q && f && i < sizeof(bad) / sizeof(*bad); i++) {
		struct np_error err = { 0 };
		np_plan *p = (np_plan *)&err; /* must stay as it is */

		CHECK(np_place_lookahead(h, q, NULL, &bad[i].la, &p, NULL, &err) == NP_EINPUT,
		      "case %zu accepted", i);
		CHECK(p == (np_plan *)&err, "case %zu: output written", i);
		CHECK(strstr(err.message, bad[i].says) && !strchr(err.message, '\n'),
		      "case %zu: '%s'", i, err.message);
	}
	{
		struct np_error err = { 0 };
		np_plan *p = NULL;

		CHECK(np_place_lookahead(h, q, NULL, NULL, &p, NULL, &err) == NP_EINPUT && !p,
		      "no options accepted");
	}
	np_flavors_free(f);
	np_request_free(q);
	np_host_free(h);
	np_topo_free(t);
}

int main(void)
{
	T_CASE("beats-greedy", test_beats_greedy());
	T_CASE("same-seed", test_same_seed());
	T_CASE("budget", test_budget());
	T_CASE("no-fit", test_no_fit());
	T_CASE("hostile", test_hostile());
	return t_done();
}
