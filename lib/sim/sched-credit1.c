/*
 * sched-credit1.c - Xen's credit1 scheduler (xen/common/sched/credit.c) as
 * research/xen.md section 2 describes it, with hard and soft affinity.
 * "all-cpus", "auto-pinning", "auto-affinity" and numaplace's balancer
 * all run on it; only the masks differ.
 *
 * What is kept because it decides where vCPUs run:
 *  - one runqueue per pCPU, ordered BOOST > UNDER > OVER, FIFO within;
 *  - wake: queued on the pCPU it last ran on, never re-picked; tickling
 *    as __runq_tickle (that pCPU if idle; else an idle pCPU of soft, then
 *    hard affinity, cycling; else preempt if of higher priority);
 *    tickled pCPUs leave the idlers mask;
 *  - pull-only stealing when the local candidate is OVER or idle: soft
 *    pass then hard pass, nodes from the local one, peers from a rotating
 *    bias, only peers with a queued vCPU and not idle, only queued (never
 *    running) vCPUs of strictly higher priority whose mask holds us;
 *  - the 10 ms tick on the running vCPU: boost ends, credit burns, joins
 *    the active list, or else _csched_cpu_pick (soft step then hard step,
 *    idle pCPUs, SMT- and socket-aware idleness) may move it;
 *  - accounting every 30 ms: credit shared among active vCPUs (300 per
 *    pCPU per slice, each at most 300), UNDER/OVER, leaving the active
 *    list above 300 with the credit halved, a floor at -300;
 *  - 30 ms slices, 1 ms ratelimit, 1 ms steal ratelimit.
 * Simplified: equal weights (one share per active vCPU), no caps, no
 * yield, no cpupools, every pCPU online; ticks and the accounting happen
 * on the step grid.
 *
 * Invariants (credit1_check): a queued vCPU is on exactly the runqueue of
 * its pCPU, which is in its hard affinity; an idle pCPU has an empty
 * runqueue after scheduling (credit1 is work conserving per pCPU, not
 * across pCPUs); idlers holds only idle pCPUs.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim-int.h"

enum { PRI_BOOST = 0, PRI_UNDER = -1, PRI_OVER = -2, PRI_IDLE = -64 };

struct c1v {
	int pri;
	double credit;
	bool active;
	bool migrating;  /* the tick re-pick wants it elsewhere */
	int next, prev;  /* runqueue links */
	bool queued;
	uint64_t burn_us;
};

struct c1p {
	int head, tail, nq;
	uint64_t next_tick;
	uint64_t last_balance;
	int idle_bias;
};

struct c1 {
	struct c1v *v;
	struct c1p *p;
	uint64_t *idlers;
	uint64_t *t1, *t2, *t3, *t4;
	int *bias;       /* per node: where stealing starts */
	int *sortbuf;
	int last_tickle;
	uint64_t next_acct, tick_us, tslice_us;
	double per_slice; /* credits per pCPU per slice */
};

#define C1(s) ((struct c1 *)(s)->sched)

/* ---- runqueues ----------------------------------------------------------- */

static void runq_insert(struct np__sim *s, int c, int v)
{
	struct c1 *k = C1(s);
	struct c1p *p = &k->p[c];
	int at = p->head;

	while (at >= 0 && k->v[at].pri >= k->v[v].pri)
		at = k->v[at].next;
	k->v[v].next = at;
	k->v[v].prev = at >= 0 ? k->v[at].prev : p->tail;
	if (k->v[v].prev >= 0)
		k->v[k->v[v].prev].next = v;
	else
		p->head = v;
	if (at >= 0)
		k->v[at].prev = v;
	else
		p->tail = v;
	p->nq++;
	k->v[v].queued = true;
	s->vcpus[v].cpu = c;
	s->vcpus[v].state = NP__V_QUEUED;
}

static void runq_remove(struct np__sim *s, int v)
{
	struct c1 *k = C1(s);
	struct c1v *x = &k->v[v];
	struct c1p *p = &k->p[s->vcpus[v].cpu];

	if (x->prev >= 0)
		k->v[x->prev].next = x->next;
	else
		p->head = x->next;
	if (x->next >= 0)
		k->v[x->next].prev = x->prev;
	else
		p->tail = x->prev;
	x->next = x->prev = -1;
	x->queued = false;
	p->nq--;
}

/* csched_runq_sort: priorities changed at accounting; keep FIFO within one. */
static void runq_sort(struct np__sim *s, int c)
{
	struct c1 *k = C1(s);
	int n = 0;

	for (int v = k->p[c].head; v >= 0; v = k->v[v].next)
		k->sortbuf[n++] = v;
	for (int i = 0; i < n; i++)
		runq_remove(s, k->sortbuf[i]);
	for (int i = 0; i < n; i++)
		runq_insert(s, c, k->sortbuf[i]);
}

static int nr_runnable(const struct np__sim *s, int c)
{
	return C1(s)->p[c].nq + (s->cpus[c].curr >= 0);
}

/* ---- credits --------------------------------------------------------------- */

static void burn(struct np__sim *s, int v)
{
	struct c1v *x = &C1(s)->v[v];

	if (s->now > x->burn_us)
		x->credit -= (double)(s->now - x->burn_us) * s->m->c1_credits_per_ms / 1000.0;
	x->burn_us = s->now;
}

static void acct(struct np__sim *s)
{
	struct c1 *k = C1(s);
	int nactive = 0;
	double share;

	for (int v = 0; v < s->nvcpus; v++)
		nactive += k->v[v].active;
	if (nactive == 0)
		return;
	share = k->per_slice * s->ncpus / nactive;
	if (share > k->per_slice)
		share = k->per_slice;
	for (int v = 0; v < s->nvcpus; v++) {
		struct c1v *x = &k->v[v];

		if (!x->active)
			continue;
		x->credit += share;
		x->pri = x->credit < 0 ? PRI_OVER : PRI_UNDER;
		if (x->credit < -k->per_slice)
			x->credit = -k->per_slice;
		if (x->credit > k->per_slice) {
			x->active = false;
			x->credit /= 2;
		}
	}
}

/* ---- _csched_cpu_pick -------------------------------------------------------- */

static void step_mask(const struct np__sim *s, int v, int step, uint64_t *out)
{
	const struct np__vcpu *vc = &s->vcpus[v];

	for (int w = 0; w < s->nwords; w++)
		out[w] = step == 0 ? vc->soft[w] & vc->hard[w] : vc->hard[w];
}

static void and_into(const struct np__sim *s, uint64_t *out, const uint64_t *a, const uint64_t *b)
{
	for (int w = 0; w < s->nwords; w++)
		out[w] = a[w] & b[w];
}

/* The idleness loop of _csched_cpu_pick over idle candidates CPUS. */
static int idlest(struct np__sim *s, int cpu, uint64_t *cpus, const uint64_t *idlers)
{
	struct c1 *k = C1(s);
	uint64_t *ci = k->t3, *ni = k->t4;

	np__set_del(cpus, cpu);
	while (!np__set_empty(cpus, s->nwords)) {
		int nxt = np__set_cycle(cpus, s->nwords, s->ncpus, cpu);
		bool same = s->cpus[nxt].socket == s->cpus[cpu].socket;
		int factor = same ? 1 : 2;

		and_into(s, ci, idlers, same ? s->cpus[cpu].siblings : s->cpus[cpu].socket_cpus);
		and_into(s, ni, idlers, same ? s->cpus[nxt].siblings : s->cpus[nxt].socket_cpus);
		if (np__set_count(ci, s->nwords) * factor < np__set_count(ni, s->nwords)) {
			and_into(s, ni, ni, cpus);
			cpu = np__set_cycle(ni, s->nwords, s->ncpus, k->p[nxt].idle_bias);
			k->p[nxt].idle_bias = cpu;
			for (int w = 0; w < s->nwords; w++)
				cpus[w] &= ~s->cpus[cpu].siblings[w];
		} else {
			for (int w = 0; w < s->nwords; w++)
				cpus[w] &= ~ni[w];
		}
	}
	return cpu;
}

static int pick_cpu(struct np__sim *s, int v)
{
	struct c1 *k = C1(s);
	const struct np__vcpu *vc = &s->vcpus[v];
	uint64_t *cpus = k->t1, *idlers = k->t2;
	int cpu = vc->cpu;

	for (int step = vc->has_soft ? 0 : 1; step < 2; step++) {
		step_mask(s, v, step, cpus);
		if (np__set_empty(cpus, s->nwords))
			continue;
		cpu = np__set_has(cpus, vc->cpu) ? vc->cpu
						  : np__set_cycle(cpus, s->nwords, s->ncpus, vc->cpu);
		memcpy(idlers, k->idlers, sizeof(*idlers) * (size_t)s->nwords);
		if (cpu == vc->cpu && k->p[cpu].nq == 0)
			np__set_add(idlers, cpu);
		and_into(s, cpus, cpus, idlers);
		if (!np__set_has(cpus, cpu) && !np__set_empty(cpus, s->nwords))
			cpu = np__set_cycle(cpus, s->nwords, s->ncpus, cpu);
		cpu = idlest(s, cpu, cpus, idlers);
		if (np__set_has(idlers, cpu))
			break;
	}
	return cpu;
}

/* ---- tickling ----------------------------------------------------------------- */

static int pri_of(const struct np__sim *s, int v)
{
	return v < 0 ? PRI_IDLE : C1(s)->v[v].pri;
}

static void tickle_cpu(struct np__sim *s, int c)
{
	np__set_del(C1(s)->idlers, c);
	s->cpus[c].resched = true;
}

static void tickle(struct np__sim *s, int v)
{
	struct c1 *k = C1(s);
	const struct np__vcpu *vc = &s->vcpus[v];
	int c = vc->cpu, cur = s->cpus[c].curr;
	bool idlers_empty = np__set_empty(k->idlers, s->nwords);

	if (cur < 0 || (idlers_empty && pri_of(s, v) > pri_of(s, cur))) {
		tickle_cpu(s, c);
		return;
	}
	if (idlers_empty)
		return;
	for (int step = vc->has_soft ? 0 : 1; step < 2; step++) {
		bool none;

		step_mask(s, v, step, k->t1);
		and_into(s, k->t1, k->t1, k->idlers);
		none = np__set_empty(k->t1, s->nwords);
		if (none && step == 0)
			continue;
		if (none && pri_of(s, v) > pri_of(s, cur)) {
			/* Xen tests the waker's hard mask here: never true, no kick-away. */
			tickle_cpu(s, c);
		} else if (!none) {
			k->last_tickle = np__set_cycle(k->t1, s->nwords, s->ncpus, k->last_tickle);
			tickle_cpu(s, k->last_tickle);
		}
		return;
	}
}

/* ---- stealing ------------------------------------------------------------------- */

/* csched_runq_steal: the first queued vCPU of PEER that C may take, or -1. */
static int steal_from(struct np__sim *s, int peer, int c, int pri, int step)
{
	struct c1 *k = C1(s);

	if (s->cpus[peer].curr < 0)
		return -1; /* an idle pCPU is about to take its own work */
	for (int w = k->p[peer].head; w >= 0; w = k->v[w].next) {
		const struct np__vcpu *wc = &s->vcpus[w];

		if (k->v[w].pri <= pri)
			return -1;
		if (step == 0 && !wc->has_soft)
			continue;
		if (np__set_has(wc->hard, c) && (step == 1 || np__set_has(wc->soft, c))) {
			runq_remove(s, w);
			return w;
		}
	}
	return -1;
}

static int steal_node(struct np__sim *s, int c, int node, int pri, int step)
{
	struct c1 *k = C1(s);
	uint64_t *workers = k->t1;
	int first, peer, got;

	for (int w = 0; w < s->nwords; w++)
		workers[w] = s->nodes[node].cpus[w] & ~k->idlers[w];
	np__set_del(workers, c);
	first = np__set_cycle(workers, s->nwords, s->ncpus, k->bias[node]);
	if (first < 0)
		return -1;
	peer = first;
	do {
		if (nr_runnable(s, peer) > 1) {
			got = steal_from(s, peer, c, pri, step);
			if (got >= 0) {
				k->bias[node] = peer;
				return got;
			}
		}
		peer = np__set_cycle(workers, s->nwords, s->ncpus, peer);
	} while (peer != first && peer >= 0);
	return -1;
}

static int load_balance(struct np__sim *s, int c, int pri)
{
	int node = s->cpus[c].node;

	for (int step = 0; step < 2; step++) {
		for (int i = 0; i < s->nnodes; i++) {
			int n = (node + i) % s->nnodes, got;

			if (s->nodes[n].ncpus == 0)
				continue;
			got = steal_node(s, c, n, pri, step);
			if (got >= 0)
				return got;
		}
	}
	return -1;
}

/* ---- scheduling ------------------------------------------------------------------ */

static void migrate(struct np__sim *s, int v)
{
	struct c1 *k = C1(s);

	k->v[v].migrating = false;
	s->vcpus[v].cpu = pick_cpu(s, v);
	runq_insert(s, s->vcpus[v].cpu, v);
	tickle(s, v);
}

static int pick_next(struct np__sim *s, int c)
{
	struct c1 *k = C1(s);
	int snext = k->p[c].head, got;

	if (snext >= 0 && k->v[snext].pri > PRI_OVER) {
		runq_remove(s, snext);
		return snext;
	}
	if (snext < 0 || s->now - k->p[c].last_balance >= (uint64_t)s->m->c1_balance_ratelimit_us) {
		k->p[c].last_balance = s->now;
		got = load_balance(s, c, pri_of(s, snext));
		if (got >= 0)
			return got;
	}
	if (snext >= 0)
		runq_remove(s, snext);
	return snext;
}

static void do_schedule(struct np__sim *s, int c)
{
	struct c1 *k = C1(s);
	struct np__pcpu *p = &s->cpus[c];
	int cur = p->curr, snext;
	uint64_t ran = cur >= 0 ? s->now - p->start_us : 0;

	p->resched = false;
	if (cur >= 0)
		burn(s, cur);
	if (cur >= 0 && !k->v[cur].migrating && ran < (uint64_t)s->m->c1_ratelimit_us) {
		p->slice_end_us = p->start_us + (uint64_t)s->m->c1_ratelimit_us;
		return;
	}
	if (cur >= 0 && !k->v[cur].migrating)
		runq_insert(s, c, cur);
	if (cur >= 0)
		np__sim_put(s, c, -1);
	snext = pick_next(s, c);
	np__sim_put(s, c, snext);
	if (snext >= 0) {
		np__set_del(k->idlers, c);
		k->v[snext].burn_us = s->now;
		p->slice_end_us = s->now + k->tslice_us;
	} else {
		np__set_add(k->idlers, c);
	}
	if (cur >= 0 && k->v[cur].migrating)
		migrate(s, cur);
}

static void credit1_schedule(struct np__sim *s)
{
	bool again = true;

	for (int round = 0; again && round < 64; round++) {
		again = false;
		for (int c = 0; c < s->ncpus; c++) {
			if (!s->cpus[c].resched)
				continue;
			do_schedule(s, c);
			again = true;
		}
	}
}

/* csched_unit_acct, on the tick of pCPU C. */
static void unit_acct(struct np__sim *s, int c)
{
	struct c1 *k = C1(s);
	int v = s->cpus[c].curr;
	struct c1v *x = &k->v[v];

	if (x->pri == PRI_BOOST)
		x->pri = PRI_UNDER;
	burn(s, v);
	if (!x->active) {
		x->active = true;
		return;
	}
	if (pick_cpu(s, v) != c) {
		x->migrating = true;
		s->cpus[c].resched = true;
	}
}

static void credit1_timers(struct np__sim *s)
{
	struct c1 *k = C1(s);

	if (s->now >= k->next_acct) {
		acct(s);
		k->next_acct += k->tslice_us;
	}
	for (int c = 0; c < s->ncpus; c++) {
		struct np__pcpu *p = &s->cpus[c];

		if (s->now >= k->p[c].next_tick) {
			while (k->p[c].next_tick <= s->now)
				k->p[c].next_tick += k->tick_us;
			if (p->curr >= 0)
				unit_acct(s, c);
			runq_sort(s, c);
		}
		if (p->curr >= 0 && s->now >= p->slice_end_us)
			p->resched = true;
	}
}

static void credit1_wake(struct np__sim *s, int v)
{
	struct c1v *x = &C1(s)->v[v];

	if (x->pri == PRI_UNDER)
		x->pri = PRI_BOOST;
	runq_insert(s, s->vcpus[v].cpu, v);
	tickle(s, v);
}

static void credit1_sleep(struct np__sim *s, int v)
{
	struct np__vcpu *vc = &s->vcpus[v];

	if (vc->state == NP__V_RUNNING) {
		burn(s, v);
		np__sim_put(s, vc->cpu, -1);
		s->cpus[vc->cpu].resched = true;
	} else if (vc->state == NP__V_QUEUED) {
		runq_remove(s, v);
	}
	C1(s)->v[v].migrating = false;
}

/* vcpu_set_affinity: a vCPU now outside its hard affinity is moved at once. */
static void credit1_affinity(struct np__sim *s, int v)
{
	struct np__vcpu *vc = &s->vcpus[v];

	if (np__set_has(vc->hard, vc->cpu))
		return;
	switch (vc->state) {
	case NP__V_RUNNING:
		C1(s)->v[v].migrating = true;
		s->cpus[vc->cpu].resched = true;
		break;
	case NP__V_QUEUED:
		runq_remove(s, v);
		migrate(s, v);
		break;
	default:
		vc->cpu = pick_cpu(s, v);
		break;
	}
}

/* ---- set-up and invariants --------------------------------------------------- */

/* Where vCPUs start: vCPU 0 of each guest from a random pCPU, then cycling. */
static void first_cpus(struct np__sim *s, struct np__rng *rng)
{
	for (int g = 0; g < s->nguests; g++) {
		int cpu = (int)(np__rng_unit(rng) * s->ncpus);

		for (int v = s->guests[g].first; v < s->guests[g].first + s->guests[g].nvcpus; v++) {
			const struct np__vcpu *vc = &s->vcpus[v];
			const uint64_t *m = vc->has_soft ? vc->soft : vc->hard;

			if (!np__set_has(m, cpu) || v > s->guests[g].first)
				cpu = np__set_cycle(m, s->nwords, s->ncpus, cpu);
			s->vcpus[v].cpu = cpu;
		}
	}
}

static int credit1_init(struct np__sim *s)
{
	struct c1 *k = np__calloc(1, sizeof(*k));
	struct np__rng rng;

	if (!k)
		return NP_ENOMEM;
	s->sched = k;
	k->v = np__calloc((size_t)s->nvcpus + 1, sizeof(*k->v));
	k->p = np__calloc((size_t)s->ncpus, sizeof(*k->p));
	k->bias = np__calloc((size_t)s->nnodes, sizeof(*k->bias));
	k->sortbuf = np__calloc((size_t)s->nvcpus + 1, sizeof(*k->sortbuf));
	k->idlers = np__sim_set(s);
	k->t1 = np__sim_set(s);
	k->t2 = np__sim_set(s);
	k->t3 = np__sim_set(s);
	k->t4 = np__sim_set(s);
	if (!k->v || !k->p || !k->bias || !k->sortbuf || !k->idlers || !k->t1 || !k->t2 ||
	    !k->t3 || !k->t4)
		return NP_ENOMEM;
	k->tslice_us = (uint64_t)(s->m->c1_tslice_ms * 1000);
	k->tick_us = (uint64_t)(s->m->c1_tick_ms * 1000);
	k->per_slice = s->m->c1_credits_per_ms * s->m->c1_tslice_ms;
	k->next_acct = k->tslice_us;
	for (int v = 0; v < s->nvcpus; v++)
		k->v[v] = (struct c1v){ .pri = PRI_UNDER, .next = -1, .prev = -1, .active = true };
	for (int c = 0; c < s->ncpus; c++) {
		k->p[c] = (struct c1p){ .head = -1, .tail = -1, .idle_bias = c };
		k->p[c].next_tick = k->tick_us * (uint64_t)(c + 1) / (uint64_t)s->ncpus;
	}
	memcpy(k->idlers, s->all, sizeof(*k->idlers) * (size_t)s->nwords);
	np__rng_seed(&rng, s->seed, UINT64_C(0xc1));
	first_cpus(s, &rng);
	return 0;
}

static void credit1_fini(struct np__sim *s)
{
	struct c1 *k = C1(s);

	if (!k)
		return;
	free(k->v);
	free(k->p);
	free(k->bias);
	free(k->sortbuf);
	free(k);
	s->sched = NULL;
}

static int check_queues(const struct np__sim *s, char *msg, size_t size)
{
	const struct c1 *k = C1(s);
	int n = 0;

	for (int c = 0; c < s->ncpus; c++) {
		int len = 0;

		for (int v = k->p[c].head; v >= 0 && len <= s->nvcpus; v = k->v[v].next, len++)
			if (s->vcpus[v].cpu != c || s->vcpus[v].state != NP__V_QUEUED)
				return snprintf(msg, size, "vCPU %d on the runqueue of pCPU %d "
						"is not queued there", v, c), -1;
		if (len != k->p[c].nq)
			return snprintf(msg, size, "pCPU %d: runqueue length %d, counted %d", c,
					k->p[c].nq, len), -1;
		if (s->cpus[c].curr < 0 && len > 0)
			return snprintf(msg, size, "pCPU %d idle with %d vCPUs queued on it "
					"(not work conserving)", c, len), -1;
		if (s->cpus[c].curr >= 0 && np__set_has(k->idlers, c))
			return snprintf(msg, size, "pCPU %d busy but in the idlers mask", c), -1;
		n += len;
	}
	for (int v = 0; v < s->nvcpus; v++)
		n -= s->vcpus[v].state == NP__V_QUEUED;
	if (n != 0)
		return snprintf(msg, size, "%d queued vCPUs are on no runqueue", -n), -1;
	return 0;
}

static int credit1_check(const struct np__sim *s, char *msg, size_t size)
{
	for (int v = 0; v < s->nvcpus; v++) {
		const struct np__vcpu *vc = &s->vcpus[v];

		if (vc->state == NP__V_QUEUED && !np__set_has(vc->hard, vc->cpu))
			return snprintf(msg, size, "vCPU %d queued on pCPU %d outside its hard "
					"affinity", v, vc->cpu), -1;
	}
	return check_queues(s, msg, size);
}

const struct np__sched_ops np__credit1_ops = {
	.name = "credit1",
	.init = credit1_init,
	.fini = credit1_fini,
	.wake = credit1_wake,
	.sleep = credit1_sleep,
	.timers = credit1_timers,
	.schedule = credit1_schedule,
	.affinity = credit1_affinity,
	.check = credit1_check,
};
