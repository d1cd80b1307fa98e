/*
 * lookahead-futures.c - the futures np_place_lookahead() plays: the
 * flavors of each future's guests, drawn from the catalogue by their
 * shares, seeded, the same for every candidate.
 *
 * Drawn position by position for every future at once (the k-th guest of
 * each of the S futures), and only as far as some rollout reaches: a
 * future mostly ends at its first refusal, long before the depth.  The
 * draws depend on the seed, S and the catalogue alone, not on how far
 * the rollouts went, so the same call gives the same futures.
 *
 * Stratified (the default, np_lookahead.plain_draws off): at each
 * position the S futures get one draw from each of S equal strata of
 * [0, 1), dealt in a random order (a Latin hypercube), so each position's
 * flavors follow the shares as closely as S draws can; on tune seeds this
 * made the choice as good as twice the futures drawn independently
 * (docs/results.md, sixth session).  A flavor is found by bisecting the
 * shares' running sums (catalogues have hundreds of flavors).
 */
#include <assert.h>
#include <stdlib.h>

#include <numaplace/flavors.h>

#include "place/lookahead-int.h"
#include "util/rng.h"
#include "util/util.h"

struct np__futures {
	const np_flavors *f;
	double *cum; /* cum[i]: the shares of flavors 0..i */
	int *seq;    /* seq[k * samples + s]: guest k of future s, k < drawn */
	int *perm;   /* the strata's order at one position */
	int n, samples, depth, drawn;
	bool plain;
	uint64_t seed;
};

static double uniform(uint64_t *s)
{
	return (double)(np__splitmix64(s) >> 11) * 0x1.0p-53;
}

/* The first flavor whose running sum exceeds U in [0, 1) (the last one if rounding left a gap). */
static int pick(const struct np__futures *fu, double u)
{
	int lo = 0, hi = fu->n - 1;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (u < fu->cum[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Guest DRAWN of every future, then DRAWN + 1. */
static void draw_position(struct np__futures *fu)
{
	int *row = fu->seq + (size_t)fu->drawn * (size_t)fu->samples, *perm = fu->perm;

	for (int i = 0; i < fu->samples; i++)
		perm[i] = i;
	for (int i = fu->samples - 1; !fu->plain && i > 0; i--) {
		int j = (int)(np__splitmix64(&fu->seed) % (uint64_t)(i + 1)), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (int i = 0; i < fu->samples; i++)
		row[i] = pick(fu, fu->plain ? uniform(&fu->seed)
					    : (perm[i] + uniform(&fu->seed)) / fu->samples);
	fu->drawn++;
}

int np__futures_new(const np_flavors *f, int samples, int depth, bool plain, uint64_t seed,
		    struct np__futures **out, struct np_error *err)
{
	struct np__futures *fu = calloc(1, sizeof(*fu));
	double acc = 0;

	if (fu) {
		fu->n = np_flavors_count(f);
		fu->cum = calloc((size_t)fu->n, sizeof(*fu->cum));
		fu->seq = calloc((size_t)samples * (size_t)depth, sizeof(*fu->seq));
		fu->perm = calloc((size_t)samples, sizeof(*fu->perm));
	}
	if (!fu || !fu->cum || !fu->seq || !fu->perm) {
		np__futures_free(fu);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	for (int i = 0; i < fu->n; i++)
		fu->cum[i] = acc += np_flavors_share(f, i);
	fu->f = f;
	fu->samples = samples;
	fu->depth = depth;
	fu->plain = plain;
	fu->seed = seed;
	*out = fu;
	return 0;
}

int np__futures_at(struct np__futures *fu, int s, int k)
{
	assert(s >= 0 && s < fu->samples && k >= 0 && k < fu->depth); /* SEQ's bounds */
	while (fu->drawn <= k)
		draw_position(fu);
	return fu->seq[(size_t)k * (size_t)fu->samples + (size_t)s];
}

void np__futures_free(struct np__futures *fu)
{
	if (!fu)
		return;
	free(fu->cum);
	free(fu->seq);
	free(fu->perm);
	free(fu);
}
