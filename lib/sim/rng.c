/*
 * rng.c - the simulator's exponential draws, from the library's one
 * generator (util/rng.c: xoshiro256** seeded through splitmix64), one
 * stream per vCPU and guest, so that a vCPU's bursts are the same whatever
 * the scheduler does.
 */
#include <math.h>

#include "sim/sim-int.h"

double np__rng_exp(struct np__rng *r, double mean)
{
	return -mean * log(1.0 - np__rng_unit(r));
}
