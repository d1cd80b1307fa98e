/*
 * pcpu.c - who runs where: the schedulers' one way to put a vCPU on a
 * pCPU or take it off (the run's state, the cache refill a move costs),
 * and whether a vCPU runs outside its soft affinity.
 */
#include "sim/sim-int.h"

bool np__vcpu_outside(const struct np__sim *s, int v, int c)
{
	const struct np__vcpu *vc = &s->vcpus[v];

	return s->guests[vc->guest].soft && !np__set_has(vc->soft, c);
}

void np__sim_put(struct np__sim *s, int c, int v)
{
	struct np__pcpu *p = &s->cpus[c];
	struct np__vcpu *vc;

	if (v < 0) {
		if (p->curr >= 0) {
			p->last = p->curr;
			p->last_start_us = p->start_us;
			p->last_end_us = s->now;
		}
		p->curr = -1;
		return;
	}
	vc = &s->vcpus[v];
	if (p->curr == v)
		return;
	p->curr = v;
	vc->state = NP__V_RUNNING;
	vc->cpu = c;
	if (p->last == v && p->last_end_us == s->now) {
		p->start_us = p->last_start_us; /* it only went through the runqueue */
		return;
	}
	p->start_us = s->now;
	if (vc->last_ran >= 0 && vc->last_ran != c)
		vc->penalty_us += s->cpus[vc->last_ran].node == p->node ? s->m->cache_refill_us
									 : s->m->cache_refill_node_us;
	vc->last_ran = c;
}
