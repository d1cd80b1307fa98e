/*
 * play-lookahead.c - the np-lookahead placer of `np-bench play` (play.c,
 * with --flavors FILE, played only when --only names it): the library's
 * np_place_lookahead() (place.h, docs/policies/placement.md 15), a
 * rollout policy.  When a guest arrives, a few candidate plans are tried
 * on S futures drawn from the family's flavor catalogue (the guests a
 * cloud sells and how often, never the order of the arrivals), each
 * future placed by the default engine until the first refusal; the
 * candidate whose futures admit the most guests wins, ties to the
 * engine's own answer (numaplace spread told the demand so far, as
 * np-spread is).  With one distinct candidate it is np-spread.
 *
 * The draws are seeded by the seed, the workload and the arrival: the
 * same run gives the same plans.
 *
 * Knobs (environment, for bench/objective-tune variants):
 *   NP_BENCH_LA_SAMPLES  S, futures per candidate (default 128: the setting
 *                        docs/results.md "Lookahead" chose on tune seeds in
 *                        the sixth session, stratified draws)
 *   NP_BENCH_LA_DEPTH    guests per future at most (default 0: until the
 *                        first refusal, at most 256)
 *   NP_BENCH_LA_CANDS    the candidates after the engine's answer (s):
 *                        the library's (np_lookahead.cands, tried in its
 *                        order whatever the letters' order): p or e the
 *                        other strategy and the engine without some of
 *                        its nodes (NP_LOOKAHEAD_ALT), b best fit, f first
 *                        fit, w worst fit, n node sets (NP_LOOKAHEAD_SETS),
 *                        c the cells of those on their nodes in other
 *                        orders (NP_LOOKAHEAD_SWAP);
 *                        and x libxl (baselines.h, given as
 *                        np_lookahead.extra, tried last); default "sbfw",
 *                        "lib" is the library's default (what place
 *                        --lookahead uses), "spe" its earlier default
 *   NP_BENCH_LA_SETS     np_lookahead.max_sets (default 0: the library's)
 *   NP_BENCH_LA_SEED     the seed (default 1)
 *   NP_BENCH_LA_BUDGET   np_lookahead.max_guests (default 0: none)
 *   NP_BENCH_LA_MARGIN   np_lookahead.margin, standard errors (default 0)
 *   NP_BENCH_LA_PLAIN    1: np_lookahead.plain_draws (default 0: stratified)
 *   NP_BENCH_LA_ROLL     np_lookahead.rollout: 1 two-step, 2 the best policy
 *                        per future, 3 the engine (the default before the
 *                        eleventh session); default 0: the library's, the
 *                        best policy with roll_depth 4
 *   NP_BENCH_LA_ROLL_DEPTH  np_lookahead.roll_depth: with the best policy,
 *                        the fit rules only on futures np_place() admits
 *                        fewer guests of, counted up to it (default 0: with
 *                        NP_BENCH_LA_ROLL=2 none, with 0 the library's 4)
 *   NP_BENCH_LA_OFF_DEPART  1: once a guest has left the host, the
 *                        engine's answer alone (no futures; default 0)
 * play_lookahead_stats() counts decisions, candidates, futures and the
 * guests tried in them, for the time per decision.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>

#include "baselines.h"
#include "play.h"

static double knob(const char *name, double def)
{
	const char *v = getenv(name);

	return v && *v ? strtod(v, NULL) : def;
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

/* libxl's plan if NP_BENCH_LA_CANDS names it (x), as an extra candidate if it fits; their count. */
static int baselines(const char *cands, np_host *h, const np_request *q, np_plan **extra,
		     struct np_error *err)
{
	np_plan *p = NULL;

	if (!strchr(cands, 'x'))
		return 0;
	if (bl_place(BL_LIBXL, h, q, &p, err))
		return -1;
	if (np_plan_fits(p)) {
		extra[0] = p;
		return 1;
	}
	np_plan_free(p);
	return 0;
}

/* The library's candidates NP_BENCH_LA_CANDS names (enum np_lookahead_cands). */
static unsigned lib_cands(const char *cands)
{
	static const struct {
		char letter;
		unsigned bit;
	} map[] = { { 'p', NP_LOOKAHEAD_ALT },   { 'e', NP_LOOKAHEAD_ALT },
		    { 'b', NP_LOOKAHEAD_BEST },  { 'f', NP_LOOKAHEAD_FIRST },
		    { 'w', NP_LOOKAHEAD_WORST }, { 'n', NP_LOOKAHEAD_SETS },
		    { 'c', NP_LOOKAHEAD_SWAP } };
	unsigned bits = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++)
		bits |= strchr(cands, map[i].letter) ? map[i].bit : 0;
	return bits;
}

int play_lookahead_decide(np_host *h, const np_request *q, const struct np_demand *dem, int ndem,
			  const np_flavors *f, uint64_t where, bool departed, np_plan **out,
			  struct np_error *err)
{
	const char *cands = getenv("NP_BENCH_LA_CANDS");
	struct np_place_opts o = { .demand = dem, .ndemand = ndem };
	np_plan *extra[NP_LOOKAHEAD_EXTRA_MAX];
	struct np_lookahead la = { .flavors = f,
				   .samples = (int)knob("NP_BENCH_LA_SAMPLES", 128),
				   .depth = (int)knob("NP_BENCH_LA_DEPTH", 0),
				   .seed = (uint64_t)knob("NP_BENCH_LA_SEED", 1) * 0x100000001b3ULL ^ where,
				   .max_guests = (uint64_t)knob("NP_BENCH_LA_BUDGET", 0) };
	struct np_lookahead_result r = { 0 };
	int n, rc;

	cands = !cands || !*cands ? "sbfw" : cands;
	if ((n = baselines(cands, h, q, extra, err)) < 0)
		return NP_EINPUT;
	la.extra = (const np_plan *const *)extra;
	la.nextra = n;
	la.cands = strcmp(cands, "lib") == 0 ? 0 : lib_cands(cands);
	la.engine_only = la.cands == 0 && strcmp(cands, "lib") != 0;
	la.max_sets = (int)knob("NP_BENCH_LA_SETS", 0);
	la.margin = knob("NP_BENCH_LA_MARGIN", 0);
	la.plain_draws = knob("NP_BENCH_LA_PLAIN", 0) != 0;
	la.rollout = (int)knob("NP_BENCH_LA_ROLL", 0);
	la.roll_depth = (int)knob("NP_BENCH_LA_ROLL_DEPTH", 0);
	if (departed && knob("NP_BENCH_LA_OFF_DEPART", 0) != 0) {
		la.engine_only = true; /* one candidate: np_place()'s answer, no futures */
		la.nextra = 0;
	}
	rc = np_place_lookahead(h, q, &o, &la, out, &r, err);
	while (n > 0)
		np_plan_free(extra[--n]);
	st_decisions++;
	st_cands += (unsigned long long)r.candidates;
	st_samples += (unsigned long long)r.futures * (unsigned long long)r.candidates;
	st_guests += r.guests;
	return rc;
}
