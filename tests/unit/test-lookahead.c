/*
 * test-lookahead.c - np_place_lookahead() (lib/place/lookahead.c):
 * choosing among a few good plans by sampled futures of a flavor
 * catalogue.
 *
 * A hand case where it provably admits more than the greedy engine (the
 * greedy plan leaves no node for the only flavor the catalogue sells, the
 * lookahead's does, and the next guest shows it); the same seed giving
 * the same plan, every plan valid; a challenger winning over the engine's
 * answer only by the margin; the futures' stratified draws; the caller's own candidates (copied
 * when one wins); the budget bounding the guests placed
 * in futures (and no future counted half-played); a guest that does not
 * fit; the cells of a candidate on its nodes in another order
 * (NP_LOOKAHEAD_SWAP); the deeper rollouts, the best policy's fit rules
 * only on short futures (roll_depth) and that being the default; and
 * options out of range refused with one line, the output untouched.
 */
#include <string.h>

#include <numaplace/place.h>

#include "check.h"
#include "place/lookahead-int.h"
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

/*
 * The margin: a candidate that leads np_place()'s answer in every future
 * (the case above: one big guest more, always) wins whatever the margin;
 * one that leads in a few futures only (the big guest is rare, and only
 * early ones fit after it) wins without a margin, not with 3 standard
 * errors.
 */
static void test_margin(void)
{
	static const uint64_t used[4] = { 12288, 4096, 32768, 32768 };
	static const char *const cats[] = {
		"[{\"vcpus\": 1, \"memory_mb\": 24576, \"extra_specs\": {\"hw:numa_nodes\": \"1\"}}]",
		"[{\"vcpus\": 1, \"memory_mb\": 24576, \"weight\": 1,"
		"  \"extra_specs\": {\"hw:numa_nodes\": \"1\"}},"
		" {\"vcpus\": 1, \"memory_mb\": 2048, \"weight\": 15,"
		"  \"extra_specs\": {\"hw:numa_nodes\": \"1\"}}]",
	};
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);
	np_request *q = flavor("vcpus=1,ram=12288,hw:numa_nodes=1");

	for (size_t c = 0; h && q && c < sizeof(cats) / sizeof(*cats); c++) {
		np_flavors *f = catalogue(cats[c]);
		double margins[] = { 0, 3, NP_LOOKAHEAD_MARGIN_MAX };

		for (size_t m = 0; f && m < sizeof(margins) / sizeof(*margins); m++) {
			struct np_lookahead la = { .flavors = f, .samples = 16, .seed = 7,
						   .margin = margins[m] };
			struct np_lookahead_result r = { 0 };
			struct np_error err = { 0 };
			np_plan *p = NULL;
			bool moves = c == 0 || margins[m] == 0;

			CHECK(np_place_lookahead(h, q, NULL, &la, &p, &r, &err) == 0 &&
				      np_plan_fits(p), "%s", err.message);
			CHECK(r.candidates >= 2 && r.futures == 16, "%d candidates, %d futures",
			      r.candidates, r.futures);
			CHECK((r.chosen > 0) == moves && node_of(p) == (moves ? 0 : 1),
			      "catalogue %zu, margin %g: chose %d (node %d)", c, margins[m], r.chosen,
			      node_of(p));
			np_plan_free(p);
		}
		np_flavors_free(f);
	}
	np_request_free(q);
	np_host_free(h);
	np_topo_free(t);
}

/*
 * The futures' draws (lookahead-futures.c): stratified, every position of
 * 64 futures has each flavor exactly as often as its share says (shares of
 * 1, 3 and 12 sixteenths: 4, 12 and 48); plain draws do not; the same
 * seed gives the same futures whatever order they are asked in.
 */
static void test_futures(void)
{
	np_flavors *f = catalogue("[{\"vcpus\": 1, \"memory_mb\": 1024, \"weight\": 1},"
				  " {\"vcpus\": 2, \"memory_mb\": 1024, \"weight\": 3},"
				  " {\"vcpus\": 4, \"memory_mb\": 1024, \"weight\": 12}]");
	struct np__futures *fu[3] = { NULL };
	struct np_error err = { 0 };
	int uneven = 0;

	for (int i = 0; f && i < 3; i++)
		CHECK(np__futures_new(f, 64, 32, i == 2, 11, &fu[i], &err) == 0, "%s", err.message);
	if (!fu[0] || !fu[1] || !fu[2])
		goto out;
	CHECK(np__futures_at(fu[1], 40, 20) >= 0, "a draw out of order");
	for (int k = 0; k < 32; k++) {
		int count[2][3] = { { 0 } };

		for (int s = 0; s < 64; s++) {
			int a = np__futures_at(fu[0], s, k), b = np__futures_at(fu[2], s, k);

			CHECK(a >= 0 && a < 3 && b >= 0 && b < 3, "flavors %d, %d", a, b);
			CHECK(np__futures_at(fu[1], s, k) == a, "future %d guest %d: another draw", s,
			      k);
			count[0][a < 0 || a > 2 ? 0 : a]++;
			count[1][b < 0 || b > 2 ? 0 : b]++;
		}
		CHECK(count[0][0] == 4 && count[0][1] == 12 && count[0][2] == 48,
		      "guest %d of 64 stratified futures: %d, %d, %d", k, count[0][0], count[0][1],
		      count[0][2]);
		uneven += count[1][0] != 4 || count[1][1] != 12;
	}
	CHECK(uneven > 0, "plain draws as even as stratified ones at every position");
out:
	for (int i = 0; i < 3; i++)
		np__futures_free(fu[i]);
	np_flavors_free(f);
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
		{ { .flavors = f, .samples = 1, .cands = NP_LOOKAHEAD_ALL + 1 }, "candidates" },
		{ { .flavors = f, .samples = 1, .max_sets = -1 }, "max_sets" },
		{ { .flavors = f, .samples = 1, .max_sets = NP_LOOKAHEAD_SETS_MAX + 1 }, "max_sets" },
		{ { .flavors = f, .samples = 1, .margin = -1 }, "margin" },
		{ { .flavors = f, .samples = 1, .margin = NP_LOOKAHEAD_MARGIN_MAX + 1 }, "margin" },
		{ { .flavors = f, .samples = 1, .margin = __builtin_nan("") }, "margin" },
		{ { .flavors = f, .samples = 1, .rollout = -1 }, "rollout" },
		{ { .flavors = f, .samples = 1, .rollout = NP_LOOKAHEAD_ROLL_ENGINE + 1 }, "rollout" },
		{ { .flavors = f, .samples = 1, .roll_depth = -1 }, "roll_depth" },
		{ { .flavors = f, .samples = 1, .roll_depth = NP_LOOKAHEAD_DEPTH_MAX + 1 },
		  "roll_depth" },
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

/* ---- the candidates (lookahead-cands.c) ----------------------------------- */

/* The node of each cell of P in NODES[0..]; the cell count, or -1 when P does not fit. */
static int nodes_of(const np_plan *p, int *nodes, int max)
{
	int k = p && np_plan_fits(p) ? np_plan_cell_count(p) : -1;

	for (int i = 0; i < k && i < max; i++)
		nodes[np_plan_cell(p, i)->guest_cell] = np_plan_cell(p, i)->node_idx;
	return k;
}

/* RULE's plan for Q on H: valid when it fits; its node of cell I in NODES. */
static int rule_nodes(enum np__fit_rule rule, const np_host *h, const np_request *q, int *nodes)
{
	struct np_error err = { 0 };
	np_plan *p = NULL;
	int k;

	CHECK(np__fit_rule_place(rule, h, q, &p, &err) == 0, "%s: %s", np__fit_rule_name(rule),
	      err.message);
	k = nodes_of(p, nodes, 4);
	if (k > 0)
		CHECK(np_plan_validate(h, q, p, &err) == 0, "%s: %s", np__fit_rule_name(rule),
		      err.message);
	np_plan_free(p);
	return k;
}

/*
 * Free memory 24, 12, 0 and 28 GiB on nodes 0-3, no CPU used: an 8 GiB
 * one-cell guest goes on node 1 by best fit (4 GiB left), node 0 by first
 * fit, node 3 by worst fit; never node 2.  Two cells of 8 GiB: best fit
 * cell 0 on 1 and cell 1 on 0 (16 left against 20), first fit 0 and 1,
 * worst fit 3 and 0.
 */
static void test_fit_rules(void)
{
	static const uint64_t used[4] = { 8192, 20480, 32768, 4096 };
	static const struct {
		const char *flavor;
		int want[NP__FIT_RULES][2]; /* LIBXL (unchecked), FIRST, BEST, WORST */
	} cases[] = {
		{ "vcpus=1,ram=8192,hw:numa_nodes=1", { { -1 }, { 0 }, { 1 }, { 3 } } },
		{ "vcpus=2,ram=16384,hw:numa_nodes=2", { { -1 }, { 0, 1 }, { 1, 0 }, { 3, 0 } } },
	};
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);

	for (size_t c = 0; h && c < sizeof(cases) / sizeof(*cases); c++) {
		np_request *q = flavor(cases[c].flavor);

		for (int r = NP__FIT_FIRST; q && r < NP__FIT_RULES; r++) {
			int got[4] = { -1, -1, -1, -1 }, k = rule_nodes((enum np__fit_rule)r, h, q, got);

			CHECK(k == (int)c + 1, "%s, %s: %d cells placed", cases[c].flavor,
			      np__fit_rule_name((enum np__fit_rule)r), k);
			for (int i = 0; i < k; i++)
				CHECK(got[i] == cases[c].want[r][i], "%s, %s: cell %d on node %d, not %d",
				      cases[c].flavor, np__fit_rule_name((enum np__fit_rule)r), i,
				      got[i], cases[c].want[r][i]);
		}
		np_request_free(q);
	}
	np_host_free(h);
	np_topo_free(t);
}

/*
 * Complete where greedy is not: 14 and 20 GiB free on nodes 0 and 1 (2
 * and 3 full), cells of 4 and 18 GiB.  Worst fit's greedy choice puts
 * cell 0 on node 1, after which cell 1 fits nowhere; the rule must still
 * find cell 0 on 0 and cell 1 on 1, as every rule must.
 */
static void test_fit_complete(void)
{
	static const uint64_t used[4] = { 18432, 12288, 32768, 32768 };
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);
	np_request *q = NULL;
	struct np_error err = { 0 };

	CHECK(np_request_from_flavor_text("vcpus=2,ram=22528,hw:numa_nodes=2,hw:numa_mem.0=4096,"
					  "hw:numa_mem.1=18432,hw:numa_cpus.0=0,hw:numa_cpus.1=1",
					  NULL, &q, &err) == 0,
	      "%s", err.message);
	for (int r = NP__FIT_LIBXL; h && q && r < NP__FIT_RULES; r++) {
		int got[4] = { -1, -1, -1, -1 }, k = rule_nodes((enum np__fit_rule)r, h, q, got);

		CHECK(k == 2 && got[0] == 0 && got[1] == 1, "%s: %d cells, on %d and %d",
		      np__fit_rule_name((enum np__fit_rule)r), k, got[0], got[1]);
	}
	np_request_free(q);
	np_host_free(h);
	np_topo_free(t);
}

/* np__fit_node_sets() for FLAVOR on a host with USED: the sets' nodes (sorted) in SETS; their count. */
static int node_sets(const uint64_t *used, const char *flavor_text, int max, int sets[][2],
		     uint32_t *dist)
{
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);
	np_request *q = flavor(flavor_text);
	np_plan *out[NP_LOOKAHEAD_SETS_MAX];
	struct np_error err = { 0 };
	int n = -1;

	if (h && q)
		CHECK(np__fit_node_sets(h, q, max, out, &n, &err) == 0, "%s", err.message);
	CHECK(n <= max, "%s: %d sets, max %d", flavor_text, n, max);
	for (int s = 0; s < n; s++) {
		int nodes[4] = { -1, -1, -1, -1 }, k = nodes_of(out[s], nodes, 4);

		CHECK(k == np_request_cell_count(q), "%s: set %d does not fit", flavor_text, s);
		CHECK(np_plan_validate(h, q, out[s], &err) == 0, "%s: set %d: %s", flavor_text, s,
		      err.message);
		sets[s][0] = nodes[0];
		sets[s][1] = k > 1 ? nodes[1] : -1;
		if (k > 1 && sets[s][0] > sets[s][1]) {
			sets[s][0] = nodes[1];
			sets[s][1] = nodes[0];
		}
		dist[s] = k > 1 ? np_topo_distance(t, nodes[0], nodes[1]) : 0;
		np_plan_free(out[s]);
	}
	np_request_free(q);
	np_host_free(h);
	np_topo_free(t);
	return n;
}

/*
 * The node sets: one cell, every node it fits on (24, 12, 0, 28 GiB free:
 * 0, 1, 3), capped; two cells on the two-socket synthetic host (10 within
 * a node, 16 within a socket: nodes 0-1 and 2-3, 22 across): the two
 * sockets' pairs, and only a cross-socket pair when no socket has two
 * nodes with room.
 */
static void test_node_sets(void)
{
	static const uint64_t mem[4] = { 8192, 20480, 32768, 4096 }, empty[4] = { 0 },
			      one_per_socket[4] = { 0, 32768, 0, 32768 };
	int sets[NP_LOOKAHEAD_SETS_MAX][2];
	uint32_t dist[NP_LOOKAHEAD_SETS_MAX];
	int n;

	n = node_sets(mem, "vcpus=1,ram=8192,hw:numa_nodes=1", 8, sets, dist);
	CHECK(n == 3 && sets[0][0] == 0 && sets[1][0] == 1 && sets[2][0] == 3,
	      "one cell: %d sets, first %d", n, n > 0 ? sets[0][0] : -1);
	n = node_sets(mem, "vcpus=1,ram=8192,hw:numa_nodes=1", 2, sets, dist);
	CHECK(n == 2 && sets[0][0] == 0 && sets[1][0] == 1, "one cell, max 2: %d sets", n);
	n = node_sets(empty, "vcpus=2,ram=16384,hw:numa_nodes=2", 8, sets, dist);
	CHECK(n == 2 && sets[0][0] == 0 && sets[0][1] == 1 && sets[1][0] == 2 && sets[1][1] == 3 &&
		      dist[0] == 16 && dist[1] == 16,
	      "two cells: %d sets, first {%d, %d} at %u", n, sets[0][0], sets[0][1], dist[0]);
	n = node_sets(one_per_socket, "vcpus=2,ram=16384,hw:numa_nodes=2", 8, sets, dist);
	CHECK(n == 1 && sets[0][0] == 0 && sets[0][1] == 2 && dist[0] == 22,
	      "two cells, one node per socket: %d sets", n);
	n = node_sets(one_per_socket, "vcpus=2,ram=81920,hw:numa_nodes=2", 8, sets, dist);
	CHECK(n == 0, "a guest that fits nowhere: %d sets", n);
}

/* Every rule's and every node set's plan is valid, guest after guest of MIX. */
static void test_cands_valid(void)
{
	static const uint64_t used[4] = { 0, 0, 0, 0 };
	static const char *const guests[] = {
		"vcpus=4,ram=12288,hw:cpu_policy=dedicated,hw:numa_nodes=1",
		"vcpus=8,ram=16384,hw:cpu_policy=dedicated,hw:numa_nodes=2",
		"vcpus=2,ram=20480",
		"vcpus=6,ram=12288,hw:cpu_policy=dedicated,hw:cpu_thread_policy=isolate",
		"vcpus=8,ram=16384,hw:cpu_policy=dedicated,hw:numa_nodes=2",
		"vcpus=4,ram=8192,hw:numa_nodes=2,hw:mem_page_size=small",
		"vcpus=2,ram=20480",
	};
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);
	int valid = 0;

	for (size_t g = 0; h && g < sizeof(guests) / sizeof(*guests); g++) {
		np_request *q = flavor(guests[g]);
		np_plan *all[NP__FIT_RULES + NP_LOOKAHEAD_SETS_MAX] = { NULL };
		struct np_error err = { 0 };
		int n = 0, nsets = 0;

		for (int r = 0; q && r < NP__FIT_RULES; r++)
			CHECK(np__fit_rule_place((enum np__fit_rule)r, h, q, &all[n++], &err) == 0, "%s",
			      err.message);
		if (q)
			CHECK(np__fit_node_sets(h, q, NP_LOOKAHEAD_SETS_MAX, &all[n], &nsets, &err) == 0,
			      "%s", err.message);
		n += nsets;
		for (int i = 0; i < n; i++) {
			if (!np_plan_fits(all[i]))
				continue;
			CHECK(np_plan_validate(h, q, all[i], &err) == 0, "guest %zu, plan %d: %s", g,
			      i, err.message);
			valid++;
		}
		if (n && np_plan_fits(all[0]))
			CHECK(np_host_charge(h, all[0], false, &err) == 0, "%s", err.message);
		for (int i = 0; i < n; i++)
			np_plan_free(all[i]);
		np_request_free(q);
	}
	CHECK(valid > 10, "only %d plans fitted", valid);
	np_host_free(h);
	np_topo_free(t);
}

/*
 * The library's own candidates: by default np_place()'s answer and best,
 * first and worst fit's (distinct nodes: 4 GiB guest, free 24, 12, 0 and
 * 28 GiB: best 1, first 0, worst 3, and the engine's own); with
 * NP_LOOKAHEAD_SETS every node the guest fits on; engine_only only the
 * engine's answer.  The number of distinct plans tried says so.
 */
static void test_default_cands(void)
{
	static const uint64_t used[4] = { 8192, 20480, 32768, 4096 };
	np_topo *t = NULL;
	np_host *h = host_with(&t, used);
	np_request *q = flavor("vcpus=1,ram=4096,hw:numa_nodes=1");
	np_flavors *f = catalogue(mix);
	np_plan *engine = NULL;
	struct np_error err = { 0 };
	const struct {
		unsigned cands;
		bool engine_only;
		int distinct; /* nodes tried besides the engine's, as a mask */
	} cases[] = {
		{ 0, false, 1 << 0 | 1 << 1 | 1 << 3 },
		{ NP_LOOKAHEAD_BEST, false, 1 << 1 },
		{ NP_LOOKAHEAD_FIRST | NP_LOOKAHEAD_WORST, false, 1 << 0 | 1 << 3 },
		{ NP_LOOKAHEAD_SETS, false, 1 << 0 | 1 << 1 | 1 << 3 },
		{ 0, true, 0 },
	};

	CHECK(h && q && f && np_place(h, q, NULL, &engine, &err) == 0 && np_plan_fits(engine), "%s",
	      err.message);
	for (size_t c = 0; engine && c < sizeof(cases) / sizeof(*cases); c++) {
		struct np_lookahead la = { .flavors = f, .samples = 2, .seed = 5,
					   .cands = cases[c].cands,
					   .engine_only = cases[c].engine_only };
		struct np_lookahead_result r = { 0 };
		int want = 1 + __builtin_popcount((unsigned)cases[c].distinct &
						  ~(1u << node_of(engine)));
		np_plan *p = NULL;

		CHECK(np_place_lookahead(h, q, NULL, &la, &p, &r, &err) == 0 && np_plan_fits(p), "%s",
		      err.message);
		CHECK(r.candidates == want, "case %zu: %d candidates, not %d", c, r.candidates, want);
		if (p)
			CHECK(np_plan_validate(h, q, p, &err) == 0, "case %zu: %s", c, err.message);
		np_plan_free(p);
	}
	np_plan_free(engine);
	np_flavors_free(f);
	np_request_free(q);
	np_host_free(h);
	np_topo_free(t);
}

/* np_place_lookahead() with only NP_LOOKAHEAD_SWAP for FLAVOR on H: its result, *PLAN (or NULL). */
static struct np_lookahead_result swap_only(const np_host *h, const char *flavor_text,
					    const np_flavors *f, np_plan **plan)
{
	np_request *q = flavor(flavor_text);
	struct np_lookahead la = { .flavors = f, .samples = 4, .seed = 3,
				   .cands = NP_LOOKAHEAD_SWAP };
	struct np_lookahead_result r = { 0 };
	struct np_error err = { 0 };
	np_plan *p = NULL;

	if (q)
		CHECK(np_place_lookahead(h, q, NULL, &la, &p, &r, &err) == 0 && np_plan_fits(p),
		      "%s: %s", flavor_text, err.message);
	if (p)
		CHECK(np_plan_validate(h, q, p, &err) == 0, "%s: %s", flavor_text, err.message);
	np_request_free(q);
	if (plan)
		*plan = p;
	else
		np_plan_free(p);
	return r;
}

/* How many copies of REQ fit on H, one after the other, once P is charged (at most 64). */
static int copies_after(const np_host *h, const np_plan *p, const np_request *req)
{
	np_host *c = NULL;
	int n = 0;

	if (np_host_clone(h, &c, NULL) || np_host_charge(c, p, false, NULL))
		n = -1;
	while (n >= 0 && n < 64) {
		np_plan *q = NULL;
		bool ok = !np_place(c, req, NULL, &q, NULL) && np_plan_fits(q) &&
			  !np_host_charge(c, q, false, NULL);

		np_plan_free(q);
		if (!ok)
			break;
		n++;
	}
	np_host_free(c);
	return n;
}

/*
 * NP_LOOKAHEAD_SWAP: the engine's cells on its own nodes in the other
 * orders.  Free memory 24 and 28 GiB on nodes 0 and 1 (2 and 3 full); a
 * guest of a 4 GiB and a 20 GiB cell; the cloud sells only 5 GiB guests.
 * The engine puts the 20 GiB cell on node 0 (4 and 24 GiB left: four 5
 * GiB guests fit); the swap leaves 20 and 8, five fit: the lookahead
 * takes it.
 * Cells that ask the same are not swapped: two even cells give one
 * candidate, three cells of which two are equal three (one per node the
 * odd cell can have), three unequal cells six.
 */
static void test_swap(void)
{
	static const char *const uneven2 = "vcpus=2,ram=24576,hw:numa_nodes=2,hw:numa_mem.0=4096,"
					   "hw:numa_mem.1=20480,hw:numa_cpus.0=0,hw:numa_cpus.1=1";
	static const uint64_t used[4] = { 8192, 4096, 32768, 32768 }, used3[4] = { 8192, 4096, 32768, 0 };
	static const struct {
		const char *flavor;
		int candidates;
	} cases[] = {
		{ "vcpus=2,ram=16384,hw:numa_nodes=2", 1 },
		{ "vcpus=3,ram=16384,hw:numa_nodes=3,hw:numa_mem.0=4096,hw:numa_mem.1=4096,"
		  "hw:numa_mem.2=8192,hw:numa_cpus.0=0,hw:numa_cpus.1=1,hw:numa_cpus.2=2", 3 },
		{ "vcpus=3,ram=14336,hw:numa_nodes=3,hw:numa_mem.0=2048,hw:numa_mem.1=4096,"
		  "hw:numa_mem.2=8192,hw:numa_cpus.0=0,hw:numa_cpus.1=1,hw:numa_cpus.2=2", 6 },
	};
	np_topo *t = NULL, *t3 = NULL;
	np_host *h = host_with(&t, used), *h3 = host_with(&t3, used3);
	np_request *q = flavor(uneven2);
	np_request *big = flavor("vcpus=1,ram=5120,hw:numa_nodes=1");
	np_flavors *f = catalogue("[{\"vcpus\": 1, \"memory_mb\": 5120, "
				  "\"extra_specs\": {\"hw:numa_nodes\": \"1\"}}]");
	np_plan *greedy = NULL, *look = NULL;
	struct np_lookahead_result r;

	if (!h || !h3 || !q || !big || !f)
		goto out;
	CHECK(np_place(h, q, NULL, &greedy, NULL) == 0 && np_plan_fits(greedy), "engine");
	CHECK(greedy && copies_after(h, greedy, big) == 4, "%d guests fit after the engine's plan",
	      greedy ? copies_after(h, greedy, big) : -1);
	r = swap_only(h, uneven2, f, &look);
	CHECK(r.candidates == 2 && r.chosen == 1, "%d candidates, chose %d", r.candidates,
	      r.chosen);
	CHECK(look && copies_after(h, look, big) == 5, "%d guests fit after the lookahead's plan",
	      look ? copies_after(h, look, big) : -1);
	for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
		r = swap_only(h3, cases[c].flavor, f, NULL);
		CHECK(r.candidates == cases[c].candidates, "%s: %d candidates, not %d",
		      cases[c].flavor, r.candidates, cases[c].candidates);
	}
out:
	np_plan_free(greedy);
	np_plan_free(look);
	np_flavors_free(f);
	np_request_free(big);
	np_request_free(q);
	np_host_free(h);
	np_host_free(h3);
	np_topo_free(t);
	np_topo_free(t3);
}

/*
 * np_lookahead.rollout (docs/results.md, tenth session): the two-step
 * futures (the future's first guest on the best of four policies' plans)
 * and the best policy per future still see what test_beats_greedy's
 * futures see; on a mixed catalogue they place more guests in their
 * futures than the engine's rollout (several plans per future), the same
 * for the same seed, and stay within the budget.
 */
static void test_rollout(void)
{
	static const uint64_t used[4] = { 12288, 4096, 32768, 32768 },
			      some[4] = { 4096, 0, 16384, 8192 };
	np_topo *t = NULL, *t2 = NULL;
	np_host *h = host_with(&t, used), *h2 = host_with(&t2, some);
	np_request *q = flavor("vcpus=1,ram=12288,hw:numa_nodes=1");
	np_request *q2 = flavor("vcpus=2,ram=8192,hw:cpu_policy=dedicated,hw:numa_nodes=1");
	np_flavors *big = catalogue("[{\"vcpus\": 1, \"memory_mb\": 24576, "
				    "\"extra_specs\": {\"hw:numa_nodes\": \"1\"}}]");
	np_flavors *f = catalogue(mix);
	static const int modes[] = { NP_LOOKAHEAD_ROLL_ENGINE, NP_LOOKAHEAD_ROLL_TWO_STEP,
				     NP_LOOKAHEAD_ROLL_BEST_POLICY };
	uint64_t engine_guests = 0;

	for (size_t m = 0; h && h2 && q && q2 && big && f && m < sizeof(modes) / sizeof(*modes); m++) {
		int mode = modes[m];
		struct np_lookahead la = { .flavors = big, .samples = 4, .seed = 7, .rollout = mode };
		struct np_lookahead_result r = { 0 }, r2 = { 0 };
		struct np_error err = { 0 };
		np_plan *p = NULL, *p2 = NULL;

		CHECK(np_place_lookahead(h, q, NULL, &la, &p, &r, &err) == 0 && node_of(p) == 0,
		      "rollout %d: node %d (%s)", mode, p ? node_of(p) : -1, err.message);
		np_plan_free(p);
		p = NULL;
		la = (struct np_lookahead){ .flavors = f, .samples = 16, .seed = 3, .rollout = mode };
		CHECK(np_place_lookahead(h2, q2, NULL, &la, &p, &r, &err) == 0 &&
			      np_place_lookahead(h2, q2, NULL, &la, &p2, &r2, &err) == 0,
		      "%s", err.message);
		CHECK(p && p2 && np_plan_fits(p) && np_plan_validate(h2, q2, p, &err) == 0 &&
			      node_of(p) == node_of(p2) && r.guests == r2.guests,
		      "rollout %d: not the same plan twice", mode);
		if (mode == NP_LOOKAHEAD_ROLL_ENGINE) {
			engine_guests = r.guests;
			CHECK(r.candidates >= 2 && r.futures == 16, "%d candidates, %d futures",
			      r.candidates, r.futures);
		}
		else
			CHECK(r.guests > engine_guests && r.guests <= 4 * engine_guests + 64,
			      "rollout %d: %llu guests in futures, the engine's %llu", mode,
			      (unsigned long long)r.guests, (unsigned long long)engine_guests);
		np_plan_free(p);
		np_plan_free(p2);
		p = NULL;
		la.max_guests = 100;
		CHECK(np_place_lookahead(h2, q2, NULL, &la, &p, &r, &err) == 0 && np_plan_fits(p) &&
			      r.guests <= 100,
		      "rollout %d: %llu guests, budget 100", mode, (unsigned long long)r.guests);
		np_plan_free(p);
	}
	np_flavors_free(f);
	np_flavors_free(big);
	np_request_free(q);
	np_request_free(q2);
	np_host_free(h);
	np_host_free(h2);
	np_topo_free(t);
	np_topo_free(t2);
}

/* One np_place_lookahead() of REQ on H with LA: the node of its first cell and *R; -2 on error. */
static int run_la(const np_host *h, const np_request *req, const struct np_lookahead *la,
		  struct np_lookahead_result *r)
{
	struct np_error err = { 0 };
	np_plan *p = NULL;
	int node = -2;

	if (np_place_lookahead(h, req, NULL, la, &p, r, &err) == 0 &&
	    np_plan_validate(h, req, p, &err) == 0)
		node = node_of(p);
	CHECK(node != -2, "%s", err.message);
	np_plan_free(p);
	return node;
}

/*
 * np_lookahead.roll_depth (docs/results.md, eleventh session): with the
 * best policy per future, the fit rules play only futures np_place()
 * admits fewer than roll_depth guests of.  On a roomy host every future
 * admits its first guest, so a cap of 1 is exactly the engine's rollout
 * (same plan, same guests tried); a cap no future reaches is exactly the
 * uncapped best policy; one between tries fewer guests than uncapped and
 * at least the engine's.  And the default (rollout and roll_depth 0, what
 * every caller that does not set them gets, `place --lookahead` among
 * them) is the best policy with roll_depth 4: the same plans and guests
 * tried, on a roomy host and on a full one, where it tries more guests
 * than the engine's rollout (the fit rules play its short futures).
 */
static void test_roll_depth(void)
{
	static const uint64_t some[4] = { 4096, 0, 16384, 8192 };
	np_topo *t = NULL;
	np_host *h = host_with(&t, some);
	np_request *q = flavor("vcpus=2,ram=8192,hw:cpu_policy=dedicated,hw:numa_nodes=1");
	np_flavors *f = catalogue(mix);
	static const uint64_t full[4] = { 20480, 24576, 16384, 28672 };
	np_topo *t2 = NULL;
	np_host *h2 = host_with(&t2, full);
	struct np_lookahead eng = { .flavors = f, .samples = 16, .seed = 3 };
	struct np_lookahead deep = eng, cap = eng, def = eng;
	struct np_lookahead_result re = { 0 }, rd = { 0 }, rc = { 0 };

	if (!h || !h2 || !q || !f)
		goto out;
	eng.rollout = NP_LOOKAHEAD_ROLL_ENGINE;
	deep.rollout = cap.rollout = NP_LOOKAHEAD_ROLL_BEST_POLICY;
	cap.roll_depth = 1;
	CHECK(run_la(h, q, &cap, &rc) == run_la(h, q, &eng, &re) && rc.guests == re.guests &&
		      rc.chosen == re.chosen && re.candidates >= 2,
	      "cap 1: %llu guests, the engine's rollout %llu (%d candidates)",
	      (unsigned long long)rc.guests, (unsigned long long)re.guests, re.candidates);
	cap.roll_depth = NP_LOOKAHEAD_DEPTH_MAX;
	CHECK(run_la(h, q, &cap, &rc) == run_la(h, q, &deep, &rd) && rc.guests == rd.guests &&
		      rc.chosen == rd.chosen,
	      "cap %d: %llu guests, uncapped %llu", cap.roll_depth, (unsigned long long)rc.guests,
	      (unsigned long long)rd.guests);
	cap.roll_depth = 6;
	run_la(h, q, &cap, &rc);
	CHECK(re.guests <= rc.guests && rc.guests < rd.guests,
	      "cap 6: %llu guests, the engine's rollout %llu, uncapped %llu",
	      (unsigned long long)rc.guests, (unsigned long long)re.guests,
	      (unsigned long long)rd.guests);
	cap.roll_depth = NP_LOOKAHEAD_ROLL_DEPTH_DEFAULT;
	for (int i = 0; i < 2; i++) {
		const np_host *on = i ? h2 : h;
		struct np_lookahead_result rf = { 0 };

		CHECK(run_la(on, q, &def, &rf) == run_la(on, q, &cap, &rc) &&
			      rf.guests == rc.guests && rf.chosen == rc.chosen &&
			      rf.candidates == rc.candidates,
		      "host %d: the default tried %llu guests, best policy with roll_depth %d %llu",
		      i, (unsigned long long)rf.guests, cap.roll_depth,
		      (unsigned long long)rc.guests);
		run_la(on, q, &eng, &re);
		CHECK(i == 0 || (rf.candidates >= 2 && rf.guests > re.guests),
		      "full host: the default tried %llu guests, the engine's rollout %llu "
		      "(%d candidates)",
		      (unsigned long long)rf.guests, (unsigned long long)re.guests, rf.candidates);
	}
out:
	np_flavors_free(f);
	np_request_free(q);
	np_host_free(h);
	np_host_free(h2);
	np_topo_free(t);
	np_topo_free(t2);
}

int main(void)
{
	T_CASE("beats-greedy", test_beats_greedy());
	T_CASE("margin", test_margin());
	T_CASE("futures", test_futures());
	T_CASE("same-seed", test_same_seed());
	T_CASE("budget", test_budget());
	T_CASE("no-fit", test_no_fit());
	T_CASE("hostile", test_hostile());
	T_CASE("fit-rules", test_fit_rules());
	T_CASE("fit-complete", test_fit_complete());
	T_CASE("node-sets", test_node_sets());
	T_CASE("cands-valid", test_cands_valid());
	T_CASE("default-cands", test_default_cands());
	T_CASE("swap", test_swap());
	T_CASE("rollout", test_rollout());
	T_CASE("roll-depth", test_roll_depth());
	return t_done();
}
