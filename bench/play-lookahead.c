/*
 * play-lookahead.c - the np-lookahead placer of `np-bench play` (play.c,
 * with --flavors FILE): a rollout policy.  When a guest arrives, the
 * distinct plans of several placers are the candidates (numaplace spread
 * told the demand so far, as np-spread is; numaplace pack; best, first and
 * worst fit; libxl); for each, S futures are drawn from the flavor
 * catalogue (the guests a cloud sells and how often, never the order of
 * the arrivals), and each future is played on the host with the
 * candidate charged, every sampled guest placed by the default engine
 * (np_place(), no options) until the first refusal or DEPTH guests.  The
 * candidate whose futures admit the most guests in all wins; ties go to
 * the earlier candidate (numaplace spread first), so with one distinct
 * candidate, or S = 0, it is np-spread.
 *
 * Every candidate meets the same S futures (common random numbers: the
 * difference between candidates is not drowned by the draws), and the
 * draws are seeded by the seed, the workload and the arrival: the same
 * run gives the same plans.
 *
 * Knobs (environment, for bench/objective-tune variants):
 *   NP_BENCH_LA_SAMPLES  S, futures per candidate (default 8)
 *   NP_BENCH_LA_DEPTH    guests per future at most (default 0: until the
 *                        first refusal, at most 256)
 *   NP_BENCH_LA_CANDS    which placers give candidates, in tie order,
 *                        letters: s spread, p pack, b best fit, f first
 *                        fit, w worst fit, x libxl, e the engine with each
 *                        node of the first candidate taken away (default
 *                        "sbfw"); "lib": the library's np_place_lookahead()
 *                        (place.h) instead, its own candidates (spread,
 *                        pack, e), NP_BENCH_LA_BUDGET its max_guests
 *   NP_BENCH_LA_SEED     the seed (default 1)
 *   NP_BENCH_LA_DEMAND=1 the rollouts' engine told the catalogue as demand
 * Per decision the samples, guests placed and candidates are counted in
 * play_lookahead_stats() for the time per decision.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>

#include "baselines.h"
#include "place/lookahead-int.h"
#include "play.h"

#define LA_MAX_CANDS 8
#define LA_MAX_DEPTH 256

static double knob(const char *name, double def)
{
	const char *v = getenv(name);

	return v && *v ? strtod(v, NULL) : def;
}

/*
 * Guests of the future SEQ[0..DEPTH-1] the default engine admits on C (a
 * copy, charged as it goes) before its first refusal.
 */
static int rollout(np_host *c, const np_flavors *f, const int *seq, int depth,
		   const struct np_place_opts *o, np_plan **held)
{
	int k = 0;

	for (; k < depth; k++) {
		np_plan *p = NULL;

		if (np_place(c, np_flavors_request(f, seq[k]), o, &p, NULL) || !np_plan_fits(p) ||
		    np_host_charge(c, p, false, NULL)) {
			np_plan_free(p);
			break;
		}
		held[k] = p;
	}
	for (int i = 0; i < k; i++)
		np_plan_free(held[i]);
	return k;
}

static unsigned long long st_samples, st_guests, st_cands, st_decisions;

void play_lookahead_stats(unsigned long long *decisions, unsigned long long *cands,
			  unsigned long long *samples, unsigned long long *guests)
{
	*decisions = st_decisions;
	*cands = st_cands;
	*samples = st_samples;
	*guests = st_guests;
}

/* Whether P is one of C[0..N-1]. */
static bool known(np_plan *const *c, int n, const np_plan *p)
{
	for (int i = 0; i < n; i++)
		if (np__la_same_plan(c[i], p))
			return true;
	return false;
}

/*
 * Candidates 'e': the engine's answer with one node of its first answer
 * (C[0]) taken away, for each of them (the node's memory counted as used
 * on a copy: no guest fits it then); the new count.
 */
static int excluding(const np_host *h, const np_request *q, const struct np_demand *dem,
		     int ndem, np_plan **c, int n, struct np_error *err)
{
	struct np_place_opts o = { .demand = dem, .ndemand = ndem };
	int m = n > 0 && np_plan_fits(c[0]) ? np_plan_cell_count(c[0]) : 0;

	for (int i = 0; i < m && n < LA_MAX_CANDS; i++) {
		int j = np_plan_cell(c[0], i)->node_idx;
		np_host *x = NULL;
		np_plan *p = NULL;

		if (np_host_clone(h, &x, err) ||
		    np_host_add_usage(x, j, 0, np_host_node(h, j)->memory_mb + 1, NULL, 0, err) ||
		    np_place(x, q, &o, &p, err)) {
			np_host_free(x);
			return NP_EINPUT;
		}
		np_host_free(x);
		if (np_plan_fits(p) && !known(c, n, p))
			c[n++] = p;
		else
			np_plan_free(p);
	}
	return n;
}

/* The candidates' plans, distinct and fitting, in tie order; their count. */
static int candidates(const np_host *h, const np_request *q, const struct np_demand *dem,
		      int ndem, np_plan **c, struct np_error *err)
{
	const char *order = getenv("NP_BENCH_LA_CANDS");
	int n = 0, rc;

	for (const char *l = order && *order ? order : "sbfw"; *l && n < LA_MAX_CANDS; l++) {
		if (*l == 'e') {
			rc = excluding(h, q, dem, ndem, c, n, err);

			if (rc < 0)
				goto fail;
			n = rc;
			continue;
		}
		struct np_place_opts o = { .strategy = *l == 'p' ? NP_STRATEGY_PACK
								 : NP_STRATEGY_SPREAD,
					   .demand = dem,
					   .ndemand = ndem };
		const char *bl = strchr("xfbw", *l);
		np_plan *p = NULL;
		rc = bl ? bl_place((enum bl_kind)(bl - "xfbw"), h, q, &p, err)
			    : np_place(h, q, &o, &p, err);

		if (rc)
			goto fail;
		if (n > 0 && known(c, n, p)) {
			np_plan_free(p);
			p = NULL;
		}
		if (p && (np_plan_fits(p) || n == 0))
			c[n++] = p;
		else
			np_plan_free(p);
	}
	return n;
fail:
	for (int i = 0; i < n; i++)
		np_plan_free(c[i]);
	return NP_EINPUT;
}

static int scratch(np_host *h, const np_request *q, const struct np_demand *dem, int ndem,
		   const np_flavors *f, uint64_t where, np_plan **out, struct np_error *err)
{
	np_plan *c[LA_MAX_CANDS] = { NULL }, *held[LA_MAX_DEPTH];
	int s = (int)knob("NP_BENCH_LA_SAMPLES", 8), depth = (int)knob("NP_BENCH_LA_DEPTH", 0);
	int n = candidates(h, q, dem, ndem, c, err), best = 0;
	long score[LA_MAX_CANDS] = { 0 };
	uint64_t seed = (uint64_t)knob("NP_BENCH_LA_SEED", 1) * 0x100000001b3ULL ^ where;
	int *seq = NULL;
	static struct np_demand cd[NP_DEMAND_MAX];
	struct np_place_opts ro = { 0 };

	if (n < 0)
		return n;
	st_decisions++;
	depth = depth <= 0 || depth > LA_MAX_DEPTH ? LA_MAX_DEPTH : depth;
	if (n > 1 && np_plan_fits(c[0]) && s > 0 && (seq = calloc((size_t)depth, sizeof(int)))) {
		if (knob("NP_BENCH_LA_DEMAND", 0) != 0) {
			ro.demand = cd;
			ro.ndemand = np_demand_add_flavors(cd, 0, f, 1.0);
		}
		st_cands += (unsigned long long)n;
		for (int j = 0; j < s; j++) {
			for (int k = 0; k < depth; k++)
				seq[k] = np__la_draw(f, &seed);
			for (int i = 0; i < n; i++) {
				np_host *after = NULL;
				int got = 0;

				if (!np_host_clone(h, &after, NULL) &&
				    !np_host_charge(after, c[i], false, NULL))
					got = rollout(after, f, seq, depth, &ro, held);
				np_host_free(after);
				score[i] += got;
				st_guests += (unsigned long long)got;
				st_samples++;
			}
		}
		for (int i = 1; i < n; i++)
			if (score[i] > score[best])
				best = i;
		free(seq);
	}
	*out = c[best];
	for (int i = 0; i < n; i++)
		if (i != best)
			np_plan_free(c[i]);
	return 0;
}

/* NP_BENCH_LA_CANDS=lib: the library's np_place_lookahead(), its own candidates. */
static int library(np_host *h, const np_request *q, const struct np_demand *dem, int ndem,
		   const np_flavors *f, uint64_t seed, np_plan **out, struct np_error *err)
{
	struct np_place_opts o = { .demand = dem, .ndemand = ndem };
	struct np_lookahead la = { .flavors = f,
				   .samples = (int)knob("NP_BENCH_LA_SAMPLES", 8),
				   .depth = (int)knob("NP_BENCH_LA_DEPTH", 0),
				   .seed = seed,
				   .max_guests = (uint64_t)knob("NP_BENCH_LA_BUDGET", 0) };
	struct np_lookahead_result r = { 0 };
	int rc = np_place_lookahead(h, q, &o, &la, out, &r, err);

	st_decisions++;
	st_cands += (unsigned long long)r.candidates;
	st_samples += (unsigned long long)r.futures * (unsigned long long)r.candidates;
	st_guests += r.guests;
	return rc;
}

int play_lookahead_decide(np_host *h, const np_request *q, const struct np_demand *dem, int ndem,
			  const np_flavors *f, uint64_t where, np_plan **out, struct np_error *err)
{
	const char *cands = getenv("NP_BENCH_LA_CANDS");

	if (cands && strcmp(cands, "lib") == 0)
		return library(h, q, dem, ndem, f,
			       (uint64_t)knob("NP_BENCH_LA_SEED", 1) * 0x100000001b3ULL ^ where, out,
			       err);
	return scratch(h, q, dem, ndem, f, where, out, err);
}
