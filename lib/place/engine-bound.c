/*
 * engine-bound.c - a lower bound on the maximum distance of every answer,
 * cheap enough for the bounded mode (docs/policies/placement.md 9): the
 * gap of a search the budget cut short, and where that search starts.
 *
 * An answer puts its cells on K distinct nodes (one node holds at most one
 * guest cell; cells fixed on one node count once), each with room for a
 * cell: U, the union of the cells' fits.  Its max distance M is at least
 * every sym between two of them and every local distance d[v][v].
 *  1. Nearest: D(v) = max(d[v][v], the (K-1)-th smallest of
 *     max(sym[v][u], d[u][u]) over u in U, u != v).  Each of the K nodes
 *     has D <= M, so M >= the K-th smallest D over U.
 *  2. Cliques: an answer within T is a K-clique of the graph on
 *     U_T = {v in U : D(v) <= T} whose edges are the pairs with sym <= T.
 *     Its lowest node v has the other K - 1 among its later neighbours
 *     (ids above v); a greedy colouring of those with fewer than K - 1
 *     colours shows v is the lowest of none.  When that holds for every
 *     v, no answer is within T: M is at least the next threshold.
 * Both walk a node's round-trip order (np__dist.order) only as far as they
 * need (sym >= dd / 2, so a prefix holds every node within T), and stop at
 * a deadline keeping what they proved so far.
 */
#include <assert.h>

#include "place/engine-int.h"

/* Without a time budget, the colouring looks at this many pairs at most. */
#define COLOUR_WORK_MAX 4000000u

static bool past(const struct eng *e, uint64_t deadline)
{
	return deadline && np__eng_now_us() >= deadline;
}

/* Insert V into the sorted list BUF of *M (at most CAP) smallest values. */
static void keep_smallest(uint32_t *buf, int *m, int cap, uint32_t v)
{
	int p;

	if (*m == cap && v >= buf[cap - 1])
		return;
	for (p = *m < cap ? (*m)++ : cap - 1; p > 0 && buf[p - 1] > v; p--)
		buf[p] = buf[p - 1];
	buf[p] = v;
}

/* D(v) of the header, or UINT32_MAX when fewer than NEED other nodes have room. */
static uint32_t near_bound(const struct eng *e, int v, int need, uint32_t *buf)
{
	const uint16_t *o = &e->order[(size_t)v * (e->n - 1)];
	uint32_t self = e->d[v * e->n + v];
	int m = 0;

	for (int x = 0; x < e->n - 1; x++) {
		int u = o[x];
		/* Every node from here on is at least this far in sym. */
		uint32_t floor = (uint32_t)((e->dd[v * e->n + u] + 1) / 2);
		uint32_t w = e->sym[v * e->n + u];

		if (m == need && buf[need - 1] <= floor)
			break;
		if (!bit(e->room, u))
			continue;
		w = w > e->d[u * e->n + u] ? w : e->d[u * e->n + u];
		keep_smallest(buf, &m, need, w);
	}
	if (m < need)
		return UINT32_MAX;
	return buf[need - 1] > self ? buf[need - 1] : self;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* U and K of the header; K distinct nodes. */
static int room_and_k(struct eng *e)
{
	int k = e->nfree;

	memset(e->room, 0, (size_t)e->nw * sizeof(word));
	for (int i = 0; i < e->k; i++)
		for (int x = 0; x < e->nw; x++)
			e->room[x] |= row(e, e->feas, i)[x];
	for (int i = 0; i < e->k; i++) {
		bool first = e->fixed[i] >= 0;

		for (int p = 0; p < i && first; p++)
			first = e->fixed[p] != e->fixed[i];
		k += first;
	}
	return k;
}

/* Bound 1 over U; 0 when none (past the deadline, or no K nodes). */
static uint32_t nearest_bound(struct eng *e, int k, uint64_t deadline)
{
	uint32_t *sorted = (uint32_t *)e->vals; /* n entries of scratch */
	int m = 0;

	FOR_AND(v, e->room, NULL, e)
	{
		if ((m & 63) == 0 && past(e, deadline))
			return 0;
		e->dv[v] = near_bound(e, v, k - 1, e->kbuf);
		sorted[m++] = e->dv[v];
	}
	if (m < k)
		return 0;
	qsort(sorted, (size_t)m, sizeof(*sorted), cmp_u32);
	return sorted[k - 1] == UINT32_MAX ? 0 : sorted[k - 1];
}

/*
 * The nodes after V (ids above it) within T of it and in U_T, in V's
 * round-trip order, into e->lst; their count.
 */
static int later_neighbours(struct eng *e, int v, uint32_t T, uint64_t *work)
{
	const uint16_t *o = &e->order[(size_t)v * (e->n - 1)];
	int64_t lim = 2 * (int64_t)T;
	int m = 0, x;

	for (x = 0; x < e->n - 1 && e->dd[v * e->n + o[x]] <= lim; x++) {
		int u = o[x];

		if (u > v && bit(e->room, u) && e->dv[u] <= T && e->sym[v * e->n + u] <= T)
			e->lst[m++] = u;
	}
	*work += (uint64_t)x + 1;
	return m;
}

/*
 * Is V the lowest node of no K-clique within T?  Such a clique lies in
 * V's later neighbours: true when there are fewer than K - 1 of them, or
 * a greedy colouring of them (in V's round-trip order) takes fewer than
 * K - 1 colours (so no K - 1 of them are pairwise within T).  *STAMP
 * tells this node's marks in e->kmark from older ones.
 */
static bool lowest_of_none(struct eng *e, int v, uint32_t T, int k, uint64_t *work, int *stamp)
{
	int m = later_neighbours(e, v, T, work);

	if (m < k - 1)
		return true;
	for (int a = 0; a < m; a++) {
		int c = 0, s = ++*stamp;

		for (int b = 0; b < a; b++)
			if (e->sym[e->lst[a] * e->n + e->lst[b]] <= T)
				e->kmark[e->colour[b]] = s;
		while (c < k - 2 && e->kmark[c] == s)
			c++;
		if (c == k - 2)
			return false; /* a (K-1)-th colour: this proves nothing for V */
		e->colour[a] = c;
	}
	*work += (uint64_t)m * (uint64_t)m / 2;
	return true;
}

/*
 * Bound 2 at T: true when no node of U_T (the header) is the lowest of a
 * K-clique within T; false when one may be, or *WORK ran out, or the
 * deadline.
 */
static bool colour_refutes(struct eng *e, uint32_t T, int k, uint64_t deadline, uint64_t *work)
{
	int seen = 0, stamp = 0;

	for (int c = 0; c < k; c++)
		e->kmark[c] = 0;
	FOR_AND(v, e->room, NULL, e)
	{
		if (e->dv[v] > T)
			continue;
		if ((++seen & 63) == 0 && past(e, deadline))
			return false;
		if (!deadline && *work > COLOUR_WORK_MAX)
			return false;
		if (!lowest_of_none(e, v, T, k, work, &stamp))
			return false;
	}
	return true;
}

/*
 * The bound of the header, at least the fixed cells' floor; computed once
 * per call (until DEADLINE, 0: none, then the colouring's work is capped).
 */
uint32_t np__eng_maxd_bound(struct eng *e, uint64_t deadline)
{
	const uint32_t *ts = e->dist->thresholds;
	int nt = e->dist->nthresholds, k, t = 0;
	uint32_t lb = np__eng_fixed_floor(e), near;
	uint64_t work = 0;

	if (e->lb_done)
		return e->maxd_lb;
	e->lb_done = true;
	e->maxd_lb = lb;
	k = room_and_k(e);
	if (k < 2 || e->n < 2)
		return lb;
	near = nearest_bound(e, k, deadline);
	lb = near > lb ? near : lb;
	while (t < nt && ts[t] < lb)
		t++;
	/* Each threshold refuted raises the bound to the next one. */
	for (; t + 1 < nt && !past(e, deadline); t++) {
		if (!colour_refutes(e, ts[t], k, deadline, &work))
			break;
		lb = ts[t + 1];
	}
	e->maxd_lb = lb;
	return lb;
}
