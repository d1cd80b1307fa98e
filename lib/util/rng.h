/*
 * rng.h - the library's one pseudo-random number generator: xoshiro256**
 * seeded through splitmix64.  Integer arithmetic only, so a seed gives the
 * same stream on every machine and compiler (the simulator and the
 * workload generator promise reproducible output from a seed).
 *
 * A generator is a plain value owned by its caller: no global state, one
 * thread at a time per generator.  STREAM separates independent streams
 * drawn from one seed (a vCPU's bursts, a guest's sizes, the departures).
 */
#ifndef NP_RNG_H
#define NP_RNG_H

#include <stdint.h>

struct np__rng {
	uint64_t s[4];
};

/* One step of splitmix64 on *STATE (advanced): the seeder, and a cheap stream of its own. */
uint64_t np__splitmix64(uint64_t *state);

void np__rng_seed(struct np__rng *r, uint64_t seed, uint64_t stream);
uint64_t np__rng_next(struct np__rng *r);
/* [0, 1), from the top 53 bits. */
double np__rng_unit(struct np__rng *r);
/* Uniform in [0, N) for N >= 1, without modulo bias (rejection). */
uint64_t np__rng_below(struct np__rng *r, uint64_t n);

#endif
