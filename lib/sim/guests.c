/*
 * guests.c - where each guest of a run goes: its home nodes (libxl's
 * automatic placement, or as the experiment says), its vCPUs' hard and
 * soft affinity, where its memory lands, and memory moving between nodes.
 *
 * Placement "auto-pinning" and "auto-affinity" run libxl's algorithm as
 * research/xen.md 1.2-1.5 describes it: the fewest nodes first (at least
 * ceil(vcpus / cpus per node) when nodes are alike), candidates with
 * enough free memory and pCPUs, then the fewest vCPUs that can run there,
 * then the most free memory, the first in lexicographic order on ties; no
 * placement on one node or above 16 nodes.  Guests are placed in order,
 * each seeing the memory and vCPUs of those before it, as `xl create`
 * run one after another does.
 *
 * Memory follows Xen's allocator (xen.md 1.8): round-robin over the
 * allowed nodes (even shares, a node that runs out leaves its share to the
 * others), then the other nodes in node order; "strict" fails instead.
 *
 * Invariant: a node's used_mb is the sum of the guests' mem_mb on it and
 * never exceeds cap_mb (check.c verifies it).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-int.h"

#define LIBXL_NODES_MAX 16
#define MB_EPS 1e-6

static double free_mb(const struct np__sim *s, int n)
{
	double f = s->nodes[n].cap_mb - s->nodes[n].used_mb;

	return f > 0 ? f : 0;
}

/* ---- libxl's placement ------------------------------------------------- */

/* vCPUs of guests 0..G-1 that can run on each node (libxl's nr_vcpus_on_nodes). */
static void vcpus_on_nodes(const struct np__sim *s, int upto, int *on)
{
	uint64_t all = s->nnodes == 64 ? UINT64_MAX : (UINT64_C(1) << s->nnodes) - 1;

	memset(on, 0, sizeof(*on) * (size_t)s->nnodes);
	for (int g = 0; g < upto; g++) {
		const struct np__guest *gs = &s->guests[g];
		uint64_t nodes = gs->home ? gs->home : all;

		for (int n = 0; n < s->nnodes; n++)
			if ((nodes >> n) & 1)
				on[n] += gs->nvcpus;
	}
}

struct cand {
	uint64_t nodes;
	int vcpus;
	double free;
};

static bool better(const struct cand *a, const struct cand *b)
{
	if (a->vcpus != b->vcpus)
		return a->vcpus < b->vcpus;
	return a->free > b->free;
}

/* Weigh the K-combination IDX of SUIT; fill *C; false when it does not fit. */
static bool weigh(const struct np__sim *s, const int *suit, const int *idx, int k,
		  const int *on, const struct np__guest *g, struct cand *c)
{
	int cpus = 0;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < k; i++) {
		int n = suit[idx[i]];

		c->nodes |= UINT64_C(1) << n;
		c->vcpus += on[n];
		c->free += free_mb(s, n);
		cpus += s->nodes[n].ncpus;
	}
	return c->free + MB_EPS >= g->mem_total && cpus >= g->nvcpus;
}

static int min_nodes(const struct np__sim *s, const int *suit, int nsuit, int vcpus)
{
	int per = s->nodes[suit[0]].ncpus;

	for (int i = 1; i < nsuit; i++)
		if (s->nodes[suit[i]].ncpus != per)
			return 1;
	return (vcpus + per - 1) / per < 1 ? 1 : (vcpus + per - 1) / per;
}

/* libxl__get_numa_candidate for guest G: its node mask, 0 when none. */
static uint64_t libxl_place(const struct np__sim *s, int g)
{
	int suit[LIBXL_NODES_MAX], on[NP__SIM_NODES_MAX], idx[LIBXL_NODES_MAX], nsuit = 0;
	struct cand best = { 0 }, c;
	bool found = false;

	if (s->nnodes > LIBXL_NODES_MAX)
		return 0; /* libxl: "too big for the placement algorithm" */
	for (int n = 0; n < s->nnodes; n++)
		if (s->nodes[n].ncpus > 0)
			suit[nsuit++] = n;
	if (nsuit <= 1)
		return 0;
	vcpus_on_nodes(s, g, on);
	for (int k = min_nodes(s, suit, nsuit, s->guests[g].nvcpus); k <= nsuit && !found; k++) {
		for (int i = 0; i < k; i++)
			idx[i] = i;
		do {
			if (weigh(s, suit, idx, k, on, &s->guests[g], &c) &&
			    (!found || better(&c, &best))) {
				best = c;
				found = true;
			}
		} while (np__next_comb(idx, k, nsuit));
	}
	return found ? best.nodes : 0;
}

/* ---- memory ---------------------------------------------------------- */

/* Spread *LEFT evenly over the nodes of MASK that have room. */
static void fill_even(struct np__sim *s, struct np__guest *g, uint64_t mask, double *left)
{
	while (*left > MB_EPS) {
		int room = 0;
		double share;

		for (int n = 0; n < s->nnodes; n++)
			if (((mask >> n) & 1) && free_mb(s, n) > MB_EPS)
				room++;
		if (room == 0)
			return;
		share = *left / room;
		for (int n = 0; n < s->nnodes; n++) {
			double take;

			if (!((mask >> n) & 1) || free_mb(s, n) <= MB_EPS)
				continue;
			take = share < free_mb(s, n) ? share : free_mb(s, n);
			g->mem_mb[n] += take;
			s->nodes[n].used_mb += take;
			*left -= take;
		}
	}
}

/* What is left goes to the other nodes, lowest first (Xen's fallback). */
static void fill_rest(struct np__sim *s, struct np__guest *g, double *left)
{
	for (int n = 0; n < s->nnodes && *left > MB_EPS; n++) {
		double take = *left < free_mb(s, n) ? *left : free_mb(s, n);

		g->mem_mb[n] += take;
		s->nodes[n].used_mb += take;
		*left -= take;
	}
}

static int fill_plan(struct np__sim *s, struct np__guest *g, struct np_error *err)
{
	const struct np__guest_spec *sp = g->spec;

	if (sp->nplan != s->nnodes)
		return np__err(err, NP_EINPUT, "guest '%s': mb_per_node has %d entries, the host "
			       "has %d nodes", g->name, sp->nplan, s->nnodes);
	for (int n = 0; n < s->nnodes; n++) {
		if ((double)sp->plan_mb[n] > free_mb(s, n) + MB_EPS)
			return np__err(err, NP_EINPUT, "guest '%s': %llu MiB planned on node index "
				       "%d, %.0f MiB free", g->name,
				       (unsigned long long)sp->plan_mb[n], n, free_mb(s, n));
		g->mem_mb[n] = (double)sp->plan_mb[n];
		s->nodes[n].used_mb += g->mem_mb[n];
	}
	return 0;
}

static enum np__memmode mem_mode(const struct np__sim *s, const struct np__guest *g)
{
	if (s->cfg->placement == NP__PL_ALL)
		return NP__MEM_INTERLEAVE;
	if (s->cfg->placement == NP__PL_GIVEN && g->spec->memory != NP__MEM_DEFAULT)
		return g->spec->memory;
	return g->home ? NP__MEM_PREFERRED : NP__MEM_INTERLEAVE;
}

static int allocate(struct np__sim *s, int gi, struct np_error *err)
{
	struct np__guest *g = &s->guests[gi];
	enum np__memmode mode = mem_mode(s, g);
	uint64_t all = s->nnodes == 64 ? UINT64_MAX : (UINT64_C(1) << s->nnodes) - 1;
	uint64_t mask = g->home && s->cfg->placement != NP__PL_ALL ? g->home : all;
	double left = g->mem_total;

	if (mode == NP__MEM_PLAN)
		return fill_plan(s, g, err);
	fill_even(s, g, mask, &left);
	if (left > MB_EPS && mode == NP__MEM_STRICT)
		return np__err(err, NP_EINPUT, "guest '%s': %.0f MiB do not fit on its home nodes "
			       "(strict memory)", g->name, g->mem_total);
	fill_rest(s, g, &left);
	if (left > MB_EPS)
		return np__err(err, NP_EINPUT, "guest '%s': %.0f MiB do not fit on the host "
			       "(%.0f MiB short)", g->name, g->mem_total, left);
	return 0;
}

void np__guests_fractions(struct np__sim *s, int gi)
{
	struct np__guest *g = &s->guests[gi];

	for (int n = 0; n < s->nnodes; n++)
		g->frac[n] = g->mem_total > 0 ? g->mem_mb[n] / g->mem_total : 0;
}

/* ---- affinity ---------------------------------------------------------- */

static void nodes_cpus(const struct np__sim *s, uint64_t nodes, uint64_t *set)
{
	memset(set, 0, sizeof(*set) * (size_t)s->nwords);
	for (int n = 0; n < s->nnodes; n++)
		if ((nodes >> n) & 1)
			for (int w = 0; w < s->nwords; w++)
				set[w] |= s->nodes[n].cpus[w];
}

void np__guests_masks(struct np__sim *s, int v)
{
	struct np__vcpu *vc = &s->vcpus[v];
	const struct np__guest *g = &s->guests[vc->guest];

	if (vc->rescue)
		nodes_cpus(s, UINT64_C(1) << vc->rescue_node, vc->hard);
	else if (g->pinned && g->home)
		nodes_cpus(s, g->home, vc->hard);
	else
		memcpy(vc->hard, s->all, sizeof(*vc->hard) * (size_t)s->nwords);
	if (g->soft && g->home)
		nodes_cpus(s, g->home, vc->soft);
	else
		memset(vc->soft, 0, sizeof(*vc->soft) * (size_t)s->nwords);
	vc->has_soft = np__set_meets(vc->soft, vc->hard, s->nwords) &&
		       !np__set_subset(vc->hard, vc->soft, s->nwords);
}

void np__guests_set_home(struct np__sim *s, int gi, uint64_t home)
{
	struct np__guest *g = &s->guests[gi];

	g->home = home;
	for (int v = g->first; v < g->first + g->nvcpus; v++) {
		np__guests_masks(s, v);
		s->ops->affinity(s, v);
	}
}

static bool home_has_cpus(const struct np__sim *s, uint64_t home)
{
	for (int n = 0; n < s->nnodes; n++)
		if (((home >> n) & 1) && s->nodes[n].ncpus > 0)
			return true;
	return false;
}

static void home_of(struct np__sim *s, int gi)
{
	struct np__guest *g = &s->guests[gi];
	const struct np__guest_spec *sp = g->spec;
	enum np__affinity aff;

	switch (s->cfg->placement) {
	case NP__PL_ALL:
		g->home = 0;
		break;
	case NP__PL_PIN:
	case NP__PL_SOFT:
		g->home = libxl_place(s, gi);
		g->pinned = s->cfg->placement == NP__PL_PIN;
		g->soft = s->cfg->placement == NP__PL_SOFT;
		break;
	case NP__PL_GIVEN:
		g->home = sp->home;
		aff = s->cfg->set_affinity ? s->cfg->affinity : sp->affinity;
		g->pinned = aff == NP__AFF_HARD;
		g->soft = aff == NP__AFF_SOFT;
		break;
	}
}

int np__guests_place(struct np__sim *s, struct np_error *err)
{
	for (int gi = 0; gi < s->nguests; gi++) {
		struct np__guest *g = &s->guests[gi];
		int rc;

		if (s->nnodes < 64 && g->spec->home >> s->nnodes)
			return np__err(err, NP_EINPUT, "guest '%s': home names a node index the "
				       "host '%s' lacks (it has %d nodes)", g->name,
				       np_topo_source_name(s->topo), s->nnodes);
		home_of(s, gi);
		if (g->pinned && g->home && !home_has_cpus(s, g->home))
			return np__err(err, NP_EINPUT, "guest '%s': hard affinity to nodes without "
				       "CPUs", g->name);
		rc = allocate(s, gi, err);
		if (rc)
			return rc;
		np__guests_fractions(s, gi);
		for (int v = g->first; v < g->first + g->nvcpus; v++)
			np__guests_masks(s, v);
	}
	return 0;
}

/* ---- memory migration --------------------------------------------------- */

static void migrate_one(struct np__sim *s, int gi, double dt_us)
{
	struct np__guest *g = &s->guests[gi];
	double mb = s->m->page_migrate_mb_s * dt_us / 1e6;

	if (mb > g->mig_left_mb)
		mb = g->mig_left_mb;
	if (mb > g->mem_mb[g->mig_from])
		mb = g->mem_mb[g->mig_from];
	if (mb > free_mb(s, g->mig_to))
		mb = free_mb(s, g->mig_to);
	if (mb <= MB_EPS) {
		g->mig_left_mb = 0; /* nothing left to move, or no room: give up */
		return;
	}
	g->mem_mb[g->mig_from] -= mb;
	g->mem_mb[g->mig_to] += mb;
	s->nodes[g->mig_from].used_mb -= mb;
	s->nodes[g->mig_to].used_mb += mb;
	g->mig_left_mb -= mb;
	s->nodes[g->mig_from].demand_mb_s += mb * 1e6 / dt_us;
	s->nodes[g->mig_to].demand_mb_s += mb * 1e6 / dt_us;
	if (s->now >= s->measure_from) {
		g->migrated_mb += mb;
		s->migrated_mb += mb;
	}
	np__guests_fractions(s, gi);
}

void np__guests_migrate(struct np__sim *s, double dt_us)
{
	for (int gi = 0; gi < s->nguests; gi++)
		if (s->guests[gi].mig_left_mb > 0)
			migrate_one(s, gi, dt_us);
}
