/*
 * rng.c - xoshiro256** (Blackman and Vigna) seeded through splitmix64,
 * written from the published algorithm.  See rng.h.
 */
#include "util/rng.h"

uint64_t np__splitmix64(uint64_t *x)
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
		r->s[i] = np__splitmix64(&x);
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

uint64_t np__rng_below(struct np__rng *r, uint64_t n)
{
	/* values below 2^64 mod n would make the low residues likelier */
	uint64_t floor = (0 - n) % n, x;

	do
		x = np__rng_next(r);
	while (x < floor);
	return x % n;
}
