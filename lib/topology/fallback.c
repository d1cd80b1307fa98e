/*
 * fallback.c - the one rule for where a guest's memory goes when the
 * nodes it was given are full: every other node that has memory and that
 * the given nodes can reach, nearest first - by the distance from the
 * nearest of the given nodes, read along their rows of the matrix (the
 * latency their CPUs see) - ties by node id.
 *
 * A memory-less node can never take a page, and an unreachable one cannot
 * serve the given nodes, so neither is listed.  The engine's plans (memory
 * policy `preferred`, docs/policies/placement.md 7) and the runtime's
 * advice (np_fallback_order(), docs/policies/runtime.md) both call this,
 * so a plan and an observation never disagree about the order.
 */
#include <stdlib.h>

#include "topology/topo-int.h"

struct cand {
	uint32_t dist;
	int idx;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The distance from the nearest member of NODES to J; UNREACHABLE when none reaches it. */
static uint32_t from_set(const np_topo *t, const int *nodes, int n, int j)
{
	uint32_t m = NP_DISTANCE_UNREACHABLE;

	for (int p = 0; p < n; p++) {
		uint32_t d = np_topo_distance(t, nodes[p], j);

		m = d < m ? d : m;
	}
	return m;
}

static bool member(const int *nodes, int n, int j)
{
	for (int p = 0; p < n; p++)
		if (nodes[p] == j)
			return true;
	return false;
}

int np__topo_fallback(const np_topo *t, const int *nodes, int n, int *out, int max)
{
	struct cand *c = np__calloc((size_t)t->nnodes + 1, sizeof(*c));
	int k = 0;

	if (!c)
		return NP_ENOMEM;
	for (int j = 0; j < t->nnodes; j++) {
		uint32_t d;

		if (member(nodes, n, j) || t->nodes[j].mem_total_kb == 0)
			continue;
		d = from_set(t, nodes, n, j);
		if (d != NP_DISTANCE_UNREACHABLE)
			c[k++] = (struct cand){d, j};
	}
	qsort(c, (size_t)k, sizeof(*c), cmp_cand);
	for (int i = 0; i < k && i < max; i++)
		out[i] = c[i].idx;
	free(c);
	return k;
}
