/*
 * rng.c - the simulator's random numbers: xoshiro256** seeded through
 * splitmix64, one stream per vCPU and guest, so that a vCPU's bursts are
 * the same whatever the scheduler does.
 */
#include <math.h>

#include "sim/sim-int.h"

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void np__rng_seed(struct np__rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * UINT64_C(0xd1342543de82ef95));

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t np__rng_next(struct np__rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double np__rng_unit(struct np__rng *r)
{
	return (double)(np__rng_next(r) >> 11) * 0x1.0p-53;
}

double np__rng_exp(struct np__rng *r, double mean)
{
	return -mean * log(1.0 - np__rng_unit(r));
}
