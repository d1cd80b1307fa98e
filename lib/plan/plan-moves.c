/*
 * plan-moves.c - the moves a plan may carry (np_place_with_moves(),
 * lib/place/moves.c): reading them, and what a moved guest holds after
 * them (np_plan_after_moves()), which the state file records when the
 * plan is claimed (lib/state/state-moves.c) and the runtime carries out
 * (`numaplace apply --plan`).
 *
 * A move names the guest by its claim id, the node its cell leaves and
 * the whole cell after the move (node, memory, page size, pins, floating
 * cpuset, emulator and blocked CPUs), so that carrying it out needs no
 * engine: the moved guest's plan is its old plan with that cell replaced,
 * its node set made again from its cells and, for memory policy
 * preferred, its fallback list from the one rule (topology/fallback.c).
 *
 * A move only applies to the plan it was made from: the cell must be on
 * the node the move takes it from and hold the same memory and vCPUs;
 * anything else means the guest changed since, and is refused
 * ("claim_conflict") rather than guessed at.
 */
#include <stdlib.h>
#include <string.h>

#include "plan/plan-int.h"
#include "topology/topo-int.h"

int np_plan_move_count(const np_plan *p)
{
	return p->nmoves;
}

const struct np_plan_move *np_plan_move(const np_plan *p, int i)
{
	return i >= 0 && i < p->nmoves ? &p->moves[i] : NULL;
}

uint64_t np_plan_moves_mb(const np_plan *p)
{
	uint64_t mb = 0;

	for (int i = 0; i < p->nmoves; i++)
		mb += p->moves[i].cell.memory_mb;
	return mb;
}

bool np_plan_moves_exact(const np_plan *p)
{
	return p->moves_exact;
}

/* The plan cell of guest cell GC, or -1 (also when the guest cell spans nodes). */
static int cell_of(const np_plan *p, int gc)
{
	int at = -1;

	for (int i = 0; i < p->ncells; i++) {
		if (p->cells[i].guest_cell != gc)
			continue;
		if (at >= 0)
			return -1;
		at = i;
	}
	return at;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The same vCPUs, pinned and floating (the move keeps the guest what it is). */
static bool same_vcpus(const struct np_plan_cell *a, const struct np_plan_cell *b)
{
	if (a->npins != b->npins || a->nfloat != b->nfloat || a->memory_mb != b->memory_mb)
		return false;
	for (int i = 0; i < a->npins; i++)
		if (a->pins[i].vcpu != b->pins[i].vcpu)
			return false;
	for (int i = 0; i < a->nfloat; i++)
		if (a->float_vcpus[i] != b->float_vcpus[i])
			return false;
	return true;
}

/* Max and weighted sum of distances over the guest's cells (placement.md 4, terms 2 and 3). */
static void rescore(np_plan *g, const np_topo *topo)
{
	uint32_t maxd = 10;
	uint64_t sum = 0;

	for (int i = 0; i < g->ncells; i++) {
		const struct np_plan_cell *a = &g->cells[i];
		uint64_t wa = a->npins + a->nfloat > 0 ? (uint64_t)(a->npins + a->nfloat) : 1;

		for (int j = i; j < g->ncells; j++) {
			const struct np_plan_cell *b = &g->cells[j];
			uint64_t wb = b->npins + b->nfloat > 0 ? (uint64_t)(b->npins + b->nfloat) : 1;
			uint32_t ab = np_topo_distance(topo, a->node_idx, b->node_idx);
			uint32_t ba = np_topo_distance(topo, b->node_idx, a->node_idx);

			maxd = ab > maxd ? ab : maxd;
			maxd = ba > maxd ? ba : maxd;
			if (j > i)
				sum += wa * wb * ((uint64_t)ab + ba);
		}
	}
	g->score.max_distance = maxd;
	g->score.sum_distance = sum;
	/* Still a lower bound: the guest is at MAXD now. */
	if (g->score.best_max_distance > maxd)
		g->score.best_max_distance = maxd;
}

/* G's node set from its cells, and its fallback list for memory policy preferred. */
static int renode(np_plan *g, const np_topo *topo)
{
	int n = np_topo_node_count(topo), nn = 0, nf, rc;
	int *nodes = np__calloc((size_t)n + 1, sizeof(int));

	if (!nodes)
		return NP_ENOMEM;
	for (int i = 0; i < g->ncells; i++) {
		bool seen = false;

		for (int k = 0; k < nn; k++)
			seen |= nodes[k] == g->cells[i].node_idx;
		if (!seen)
			nodes[nn++] = g->cells[i].node_idx;
	}
	qsort(nodes, (size_t)nn, sizeof(int), cmp_int);
	rc = np__plan_set_nodeset(g, nodes, nn);
	if (!rc && g->mem_policy == NP_MEM_POLICY_PREFERRED) {
		nf = np__topo_fallback(topo, nodes, nn, nodes + nn, n - nn);
		rc = nf < 0 ? nf : np__plan_set_fallback(g, nodes + nn, nf);
	}
	free(nodes);
	return rc;
}

/* Replace G's cell with move M: 0, or NP_EINPUT with ERR filled. */
static int apply_move(np_plan *g, const struct np_plan_move *m, struct np_error *err)
{
	int at = cell_of(g, m->cell.guest_cell);
	struct np_plan_cell old;
	np_plan *tmp;

	if (at < 0 || g->cells[at].node_idx != m->from_idx || !same_vcpus(&g->cells[at], &m->cell))
		return np__err_reason(err, NP_EINPUT, "claim_conflict",
				      "guest '%s' cell %d is not what the plan moves (it changed "
				      "since the plan was made)", m->guest, m->cell.guest_cell);
	/* Build the cell in a scratch plan, then swap it in: no half-replaced cell. */
	tmp = np__plan_new();
	if (!tmp || np__plan_add_cell(tmp, &m->cell)) {
		np_plan_free(tmp);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	old = g->cells[at];
	g->cells[at] = tmp->cells[0];
	tmp->cells[0] = old;
	np_plan_free(tmp);
	return 0;
}

int np_plan_after_moves(const np_plan *plan, const np_topo *topo, const char *id,
			const np_plan *guest, np_plan **out, struct np_error *err)
{
	np_plan *g;
	int rc = 0;
	bool moved = false;

	if (!plan || !topo || !id || !guest)
		return np__err(err, NP_EINPUT, "after moves: missing plan, topology, id or guest");
	if (!np__plan_matches_topo(guest, topo) || !np__plan_matches_topo(plan, topo))
		return np__err(err, NP_EINPUT, "guest '%s': its plan was made for another host", id);
	g = np__plan_copy(guest);
	if (!g || (!g->node_os && np__plan_set_topo(g, topo))) {
		np_plan_free(g);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	for (int i = 0; i < plan->nmoves && !rc; i++) {
		if (strcmp(plan->moves[i].guest, id) != 0)
			continue;
		rc = apply_move(g, &plan->moves[i], err);
		moved = true;
	}
	if (!rc && moved && (rc = renode(g, topo)) != 0)
		np__err(err, rc, "out of memory");
	if (!rc && moved)
		rescore(g, topo);
	if (rc) {
		np_plan_free(g);
		return rc;
	}
	*out = g;
	return 0;
}
