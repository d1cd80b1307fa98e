/*
 * sched-numaplace.c - the "numaplace" scheduler of the simulator: credit1
 * plus numaplace's balancer.  Every balance_period_ms, describe the
 * simulated host the way `numaplace balance` describes a live one, call
 * np_balance_decide() (the same function, lib/balance/decide.c), and carry
 * its actions out.
 *
 * What it is told:
 *  - per guest: home = the nodes of its soft (or hard) affinity, memory
 *    per node as it is now, CPU demand = runnable vCPU time over the last
 *    period, time since its home last changed; pinned guests may not be
 *    re-pinned;
 *  - per vCPU: the pCPU it runs or last ran on, how long it has been
 *    outside its soft affinity without a break, its rescue pin;
 *  - per node: free memory, and load = the demand of the guests whose
 *    home it is (split over their home nodes; a guest without home counts
 *    where it ran) per pCPU: the load a node would carry if everyone ran
 *    at home.  Where vCPUs happen to run is what the rescue looks at.
 * What it does: rescue-pin sets a vCPU's hard affinity to a home node and
 * restore-soft drops it (the scheduler moves the vCPU at once, as
 * vcpu_set_affinity does); follow-memory and relieve change the guest's
 * home (soft affinity); migrate-home and relieve start moving memory,
 * which takes time and bandwidth (guests.c).  One migration per guest at
 * a time: a new one waits until the last is done.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim-int.h"

struct call {
	struct np_bal_guest *guests;
	struct np_bal_vcpu *vcpus;
	struct np_bal_node *nodes;
	int *homes;        /* nnodes per guest */
	uint64_t *mem;     /* nnodes per guest */
	double *demand;    /* per node */
};

static void free_call(struct call *k)
{
	free(k->guests);
	free(k->vcpus);
	free(k->nodes);
	free(k->homes);
	free(k->mem);
	free(k->demand);
}

static int alloc_call(const struct np__sim *s, struct call *k)
{
	size_t nn = (size_t)s->nnodes, ng = (size_t)s->nguests + 1;

	k->guests = np__calloc(ng, sizeof(*k->guests));
	k->vcpus = np__calloc((size_t)s->nvcpus + 1, sizeof(*k->vcpus));
	k->nodes = np__calloc(nn, sizeof(*k->nodes));
	k->homes = np__calloc(nn * ng, sizeof(*k->homes));
	k->mem = np__calloc(nn * ng, sizeof(*k->mem));
	k->demand = np__calloc(nn, sizeof(*k->demand));
	return k->guests && k->vcpus && k->nodes && k->homes && k->mem && k->demand ? 0
										     : NP_ENOMEM;
}

static double guest_demand(const struct np__sim *s, const struct np__guest *g, double period)
{
	double d = 0;

	for (int v = g->first; v < g->first + g->nvcpus; v++)
		d += s->vcpus[v].runnable_us_period;
	return d / period;
}

static void describe_guest(const struct np__sim *s, struct call *k, int gi, double period)
{
	const struct np__guest *g = &s->guests[gi];
	struct np_bal_guest *b = &k->guests[gi];
	int *home = &k->homes[(size_t)gi * (size_t)s->nnodes];
	uint64_t *mem = &k->mem[(size_t)gi * (size_t)s->nnodes];

	b->id = gi;
	b->home = home;
	b->mem_mb = mem;
	for (int n = 0; n < s->nnodes; n++) {
		mem[n] = (uint64_t)(g->mem_mb[n] + 0.5);
		if ((g->home >> n) & 1)
			home[b->nhome++] = n;
	}
	b->cpu_demand = guest_demand(s, g, period);
	b->since_action_ms = g->last_action_us == UINT64_MAX ? UINT64_MAX
							     : (s->now - g->last_action_us) / 1000;
	b->may_migrate = true;
	b->may_repin = !g->pinned;
}

/* Home demand per node (see the top of the file). */
static void node_loads(const struct np__sim *s, struct call *k, double period)
{
	for (int gi = 0; gi < s->nguests; gi++) {
		const struct np__guest *g = &s->guests[gi];
		int nh = 0;

		for (int n = 0; n < s->nnodes; n++)
			nh += ((g->home >> n) & 1) && s->nodes[n].ncpus > 0;
		for (int v = g->first; v < g->first + g->nvcpus && nh == 0; v++)
			k->demand[s->cpus[s->vcpus[v].cpu].node] +=
				s->vcpus[v].runnable_us_period / period;
		for (int n = 0; n < s->nnodes && nh > 0; n++)
			if (((g->home >> n) & 1) && s->nodes[n].ncpus > 0)
				k->demand[n] += k->guests[gi].cpu_demand / nh;
	}
	for (int n = 0; n < s->nnodes; n++) {
		double f = s->nodes[n].cap_mb - s->nodes[n].used_mb;

		k->nodes[n].free_mb = f > 0 ? (uint64_t)f : 0;
		k->nodes[n].load = s->nodes[n].ncpus ? k->demand[n] / s->nodes[n].ncpus : 0;
	}
}

static void describe_vcpus(const struct np__sim *s, struct call *k)
{
	for (int v = 0; v < s->nvcpus; v++) {
		const struct np__vcpu *vc = &s->vcpus[v];
		struct np_bal_vcpu *b = &k->vcpus[v];

		b->guest = vc->guest;
		b->vcpu = vc->idx;
		b->cpu = vc->state == NP__V_PAUSED ? -1 : s->cpus[vc->cpu].os_id;
		b->outside_ms = (s->now - vc->inside_us) / 1000;
		b->rescue_pinned = vc->rescue;
		b->pinned_ms = vc->rescue ? (s->now - vc->rescue_us) / 1000 : 0;
	}
}

/* ---- carrying actions out ----------------------------------------------------- */

static void start_migration(struct np__sim *s, int gi, int from, int to, uint64_t mb)
{
	struct np__guest *g = &s->guests[gi];

	if (g->mig_left_mb > 0 || from < 0 || to < 0 || from == to || mb == 0)
		return;
	g->mig_from = from;
	g->mig_to = to;
	g->mig_left_mb = (double)mb;
}

static void repin(struct np__sim *s, int v, bool rescue, int node)
{
	struct np__vcpu *vc = &s->vcpus[v];

	vc->rescue = rescue;
	vc->rescue_node = node;
	vc->rescue_us = s->now;
	np__guests_masks(s, v);
	s->ops->affinity(s, v);
}

static void apply(struct np__sim *s, const struct np_bal_action *a)
{
	struct np__guest *g = &s->guests[a->guest];
	int v = a->vcpu >= 0 && a->vcpu < g->nvcpus ? g->first + a->vcpu : -1;

	switch (a->kind) {
	case NP_BAL_RESCUE_PIN:
		if (v >= 0 && a->to_node >= 0 && s->nodes[a->to_node].ncpus > 0)
			repin(s, v, true, a->to_node);
		break;
	case NP_BAL_RESTORE_SOFT:
		if (v >= 0)
			repin(s, v, false, -1);
		break;
	case NP_BAL_FOLLOW_MEMORY:
	case NP_BAL_RELIEVE:
		if (a->to_node < 0)
			break;
		g->last_action_us = s->now;
		np__guests_set_home(s, a->guest, UINT64_C(1) << a->to_node);
		if (a->kind == NP_BAL_RELIEVE)
			start_migration(s, a->guest, a->from_node, a->to_node, a->mb);
		break;
	case NP_BAL_MIGRATE_HOME:
		start_migration(s, a->guest, a->from_node, a->to_node, a->mb);
		break;
	}
	if (s->now >= s->measure_from)
		s->actions++;
}

int np__balancer_call(struct np__sim *s, struct np_error *err)
{
	struct call k = { 0 };
	struct np_bal_input in = { 0 };
	struct np_bal_action *acts = NULL;
	double period = s->m->balance_period_ms * 1000;
	int n = 0, rc = alloc_call(s, &k);

	if (rc) {
		rc = np__err(err, rc, "out of memory");
		goto out;
	}
	for (int gi = 0; gi < s->nguests; gi++)
		describe_guest(s, &k, gi, period);
	node_loads(s, &k, period);
	describe_vcpus(s, &k);
	in = (struct np_bal_input){ .topo = s->topo, .nguests = s->nguests, .guests = k.guests,
				    .nvcpus = s->nvcpus, .vcpus = k.vcpus, .nodes = k.nodes };
	rc = np_balance_decide(&in, &s->bal, &acts, &n, err);
	for (int i = 0; !rc && i < n; i++)
		apply(s, &acts[i]);
	for (int v = 0; v < s->nvcpus; v++)
		s->vcpus[v].runnable_us_period = 0;
out:
	free(acts);
	free_call(&k);
	return rc;
}
