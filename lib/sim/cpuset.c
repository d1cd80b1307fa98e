/*
 * cpuset.c - CPU sets of the simulator: s->nwords 64-bit words, bit i =
 * pCPU index i (the one-bit operations are inline in sim-int.h), and
 * their storage, carved from one block per run (s->words).
 */
#include "sim/sim-int.h"

uint64_t *np__sim_set(struct np__sim *s)
{
	uint64_t *p;

	if (s->nwords_used + (size_t)s->nwords > s->nwords_cap)
		return NULL;
	p = s->words + s->nwords_used;
	s->nwords_used += (size_t)s->nwords;
	return p;
}

bool np__set_empty(const uint64_t *s, int nwords)
{
	for (int i = 0; i < nwords; i++)
		if (s[i])
			return false;
	return true;
}

bool np__set_meets(const uint64_t *a, const uint64_t *b, int nwords)
{
	for (int i = 0; i < nwords; i++)
		if (a[i] & b[i])
			return true;
	return false;
}

bool np__set_subset(const uint64_t *a, const uint64_t *b, int nwords)
{
	for (int i = 0; i < nwords; i++)
		if (a[i] & ~b[i])
			return false;
	return true;
}

int np__set_count(const uint64_t *s, int nwords)
{
	int n = 0;

	for (int i = 0; i < nwords; i++)
		n += __builtin_popcountll(s[i]);
	return n;
}

/* The first member at or after bit FROM, below NCPUS; -1 if none. */
static int first_from(const uint64_t *s, int nwords, int ncpus, int from)
{
	for (int w = from >> 6; w < nwords && from < ncpus; w++) {
		uint64_t bits = s[w];

		if (w == from >> 6)
			bits &= ~UINT64_C(0) << (from & 63);
		if (bits) {
			int b = w * 64 + __builtin_ctzll(bits);

			return b < ncpus ? b : -1;
		}
	}
	return -1;
}

int np__set_cycle(const uint64_t *s, int nwords, int ncpus, int i)
{
	int b = i + 1 < ncpus ? first_from(s, nwords, ncpus, i + 1) : -1;

	return b >= 0 ? b : first_from(s, nwords, ncpus, 0);
}
