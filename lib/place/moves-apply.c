/*
 * moves-apply.c - the moves themselves, for the search (moves.c) and for
 * whoever carries a plan's moves out on a host (np_host_after_moves()):
 * which cells may move, how a cell fits another node, and a move on a
 * host.
 *
 * A moved cell keeps what its guest asked for, as far as its plan shows
 * it: its memory and page size (huge pages stay huge pages of that size),
 * its pinned and floating vCPUs, the emulator CPU of an isolated emulator,
 * isolated cores (the plan keeps their siblings blocked) and sibling cores
 * (a cell whose every core holds two or more of its pins is refitted with
 * thread policy require, which may refuse a node prefer would take, never
 * the other way round).  Pinned cells only move between nodes of the same
 * SMT width, where that reading of the plan stays true.  The fit is the
 * engine's own per-cell rule (cellfit.c), with the host's ratios and
 * memory basis.
 */
#include <stdlib.h>
#include <string.h>

#include "place/moves-int.h"

int np__fitbuf_init(struct np__fitbuf *b, const np_host *host)
{
	int cpus = np__host_max_node_cpus(host);

	b->work = np__calloc((size_t)NP__FIT_WORK(cpus), sizeof(int));
	b->pcpus = np__calloc((size_t)cpus + 1, sizeof(int));
	b->blocked = np__calloc((size_t)cpus + 1, sizeof(int));
	if (!b->work || !b->pcpus || !b->blocked) {
		np__fitbuf_free(b);
		return NP_ENOMEM;
	}
	return 0;
}

void np__fitbuf_free(struct np__fitbuf *b)
{
	free(b->work);
	free(b->pcpus);
	free(b->blocked);
	memset(b, 0, sizeof(*b));
}

int np__node_tpc(const np_host *host, int j)
{
	const struct np_host_node *hn = np_host_node(host, j);
	int tpc = 1;

	for (int g = 0; g < hn->nsiblings; g++) {
		int sz = 0;

		for (const int *p = hn->siblings[g]; *p >= 0; p++)
			sz++;
		tpc = sz > tpc ? sz : tpc;
	}
	return tpc;
}

/* The sibling group of CPU on node J, or -1. */
static int group_of(const struct np_host_node *hn, int cpu)
{
	for (int g = 0; g < hn->nsiblings; g++)
		for (const int *p = hn->siblings[g]; *p >= 0; p++)
			if (*p == cpu)
				return g;
	return -1;
}

/* Every core the pins use holds two or more of them: the guest may have required siblings. */
static bool sibling_pins(const np_host *host, const struct np_plan_cell *c)
{
	const struct np_host_node *hn = np_host_node(host, c->node_idx);

	if (c->npins < 2)
		return false;
	for (int i = 0; i < c->npins; i++) {
		int g = group_of(hn, c->pins[i].pcpu), same = 0;

		for (int k = 0; k < c->npins && g >= 0; k++)
			same += group_of(hn, c->pins[k].pcpu) == g;
		if (same < 2)
			return false;
	}
	return true;
}

/* The shape of plan cell C for the per-cell fit (see the header of this file). */
static struct np__cellreq shape_of(const np_host *host, const struct np_plan_cell *c)
{
	const struct np_host_node *hn = np_host_node(host, c->node_idx);
	uint64_t small = hn->npools ? hn->pools[0].size_kb : 4;
	struct np__cellreq r = { c->nfloat, c->npins, c->memory_mb, NP_PAGESIZE_UNSET,
				 NP_CPU_POLICY_NONE, NP_THREAD_POLICY_PREFER,
				 c->nreserved > 0 && c->npins > 0 };

	if (c->pagesize_kb > small)
		r.pagesize = (long)c->pagesize_kb;
	if (c->npins > 0)
		r.cpu_policy = c->nfloat > 0 ? NP_CPU_POLICY_MIXED : NP_CPU_POLICY_DEDICATED;
	if (c->nblocked > 0)
		r.thread_policy = NP_THREAD_POLICY_ISOLATE;
	else if (sibling_pins(host, c))
		r.thread_policy = NP_THREAD_POLICY_REQUIRE;
	return r;
}

/* Whether guest plan P can move at all: no devices, one plan cell per guest cell and node. */
static bool movable(const np_plan *p)
{
	if (!p->fits || p->npci > 0)
		return false;
	for (int i = 0; i < p->ncells; i++)
		for (int k = 0; k < i; k++)
			if (p->cells[k].guest_cell == p->cells[i].guest_cell ||
			    p->cells[k].node_idx == p->cells[i].node_idx)
				return false;
	return true;
}

int np__items(const np_host *host, const struct np_guest_plan *guests, int nguests,
	      struct np__item **out, int *n)
{
	struct np__item *it;
	int k = 0, total = 0, nn = np_topo_node_count(np_host_topo(host));

	for (int g = 0; g < nguests; g++)
		total += guests[g].plan ? guests[g].plan->ncells : 0;
	it = np__calloc((size_t)total + 1, sizeof(*it));
	if (!it)
		return NP_ENOMEM;
	for (int g = 0; g < nguests; g++) {
		const np_plan *p = guests[g].plan;

		if (!p || guests[g].fixed || !movable(p) || !np__plan_matches_topo(p, np_host_topo(host)))
			continue;
		for (int i = 0; i < p->ncells; i++) {
			const struct np_plan_cell *c = &p->cells[i];

			if (c->node_idx < 0 || c->node_idx >= nn)
				continue;
			it[k++] = (struct np__item){ g, c, shape_of(host, c),
						     np__node_tpc(host, c->node_idx) };
		}
	}
	*out = it;
	*n = k;
	return 0;
}

np_plan *np__cell_plan(const struct np_plan_cell *c)
{
	np_plan *p = np__plan_new();

	if (!p || np__plan_add_cell(p, c)) {
		np_plan_free(p);
		return NULL;
	}
	p->fits = true;
	return p;
}

/* The pinned vCPU ids of C, increasing (the fit pins the i-th smallest to pcpus[i]). */
static int *pinned_vcpus(const struct np_plan_cell *c)
{
	int *v = np__calloc((size_t)c->npins + 1, sizeof(int));

	for (int i = 0; v && i < c->npins; i++) {
		int x = c->pins[i].vcpu, k = i;

		for (; k > 0 && v[k - 1] > x; k--)
			v[k] = v[k - 1];
		v[k] = x;
	}
	return v;
}

int np__item_fit(const np_host *host, const struct np__item *it, int j, struct np__fitbuf *b,
		 np_plan **out)
{
	const struct np_host_node *hn = np_host_node(host, j);
	const struct np_plan_cell *c = it->cell;
	struct np__fit f = { .pcpus = b->pcpus, .blocked = b->blocked };
	struct np_pin *pins;
	int *vcpus;

	*out = NULL;
	np__cell_fit(host, j, &it->cr, b->work, &f);
	if (!f.ok)
		return 0;
	pins = np__calloc((size_t)f.npins + 1, sizeof(*pins));
	vcpus = pinned_vcpus(c);
	if (pins && vcpus) {
		struct np_plan_cell nc = { c->guest_cell, j, c->memory_mb, f.pagesize_kb,
					   f.npins, pins, c->nfloat, c->float_vcpus,
					   c->nfloat ? hn->nshared : 0, hn->shared,
					   f.reserved >= 0, &f.reserved, f.nblocked, f.blocked };

		for (int i = 0; i < f.npins; i++)
			pins[i] = (struct np_pin){ vcpus[i], f.pcpus[i] };
		*out = np__cell_plan(&nc);
	}
	free(pins);
	free(vcpus);
	return *out ? 0 : NP_ENOMEM;
}

int np__host_move(np_host *host, const struct np_plan_cell *old, const np_plan *new_cell,
		  struct np_error *err)
{
	np_plan *o = np__cell_plan(old);
	const struct np_plan_cell *n = &new_cell->cells[0];
	int rc;

	if (!o)
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np_host_charge(host, o, true, err);
	if (!rc && (rc = np_host_charge(host, new_cell, false, err)) != 0)
		np_host_charge(host, o, false, NULL); /* it was there a moment ago */
	if (!rc) {
		np__host_give_free(host, old->node_idx, old->memory_mb);
		np__host_take_free(host, n->node_idx, n->memory_mb);
	}
	np_plan_free(o);
	return rc;
}

/* The cell of guest cell GC in P, or NULL (none, or spread over several nodes). */
static const struct np_plan_cell *gcell(const np_plan *p, int gc)
{
	const struct np_plan_cell *c = NULL;

	for (int i = 0; i < p->ncells; i++) {
		if (p->cells[i].guest_cell != gc)
			continue;
		if (c)
			return NULL;
		c = &p->cells[i];
	}
	return c;
}

static const np_plan *guest_named(const struct np_guest_plan *guests, int n, const char *id)
{
	for (int g = 0; g < n; g++)
		if (guests[g].id && guests[g].plan && strcmp(guests[g].id, id) == 0)
			return guests[g].plan;
	return NULL;
}

/* Carry out move M on H. */
static int one_move(np_host *h, const struct np_plan_move *m, const struct np_guest_plan *guests,
		    int nguests, struct np_error *err)
{
	const np_plan *gp = guest_named(guests, nguests, m->guest);
	const struct np_plan_cell *old = gp ? gcell(gp, m->cell.guest_cell) : NULL;
	struct np_error e = { 0 };
	np_plan *np;
	int rc;

	if (!gp)
		return np__err(err, NP_EINPUT, "the plan moves guest '%s', which is not on the host",
			       m->guest);
	if (!old || old->node_idx != m->from_idx || old->memory_mb != m->cell.memory_mb)
		return np__err_reason(err, NP_EINPUT, "claim_conflict",
				      "guest '%s' cell %d is not what the plan moves (it changed "
				      "since the plan was made)", m->guest, m->cell.guest_cell);
	if (!(np = np__cell_plan(&m->cell)))
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np__host_move(h, old, np, &e);
	np_plan_free(np);
	if (rc)
		return np__err(err, rc, "cannot move guest '%s' cell %d: %s", m->guest,
			       m->cell.guest_cell, e.message);
	return 0;
}

int np_host_after_moves(const np_host *host, const np_plan *plan,
			const struct np_guest_plan *guests, int nguests, np_host **out,
			struct np_error *err)
{
	np_host *h = NULL;
	int rc;

	if (!host || !plan || (nguests > 0 && !guests))
		return np__err(err, NP_EINPUT, "after moves: missing host, plan or guests");
	if (plan->nmoves && !np__plan_matches_topo(plan, np_host_topo(host)))
		return np__err(err, NP_EINPUT, "the plan was made for a host with other nodes");
	if ((rc = np_host_clone(host, &h, err)))
		return rc;
	for (int i = 0; i < plan->nmoves && !rc; i++)
		rc = one_move(h, &plan->moves[i], guests, nguests, err);
	if (rc) {
		np_host_free(h);
		return rc;
	}
	*out = h;
	return 0;
}
