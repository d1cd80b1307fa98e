/*
 * sched-credit2.c - a credit2-like scheduler: one runqueue per NUMA node
 * shared by its pCPUs, after xen/common/sched/credit2.c as research/xen.md
 * 2.3 describes it.  Also a stand-in for the Linux idea of per-domain
 * queues with periodic balancing.
 *
 * What is kept:
 *  - credits in microseconds, burnt while running, reset per runqueue
 *    (+CREDIT_INIT, carry-over capped) when the best candidate has none;
 *  - wake (csched2_res_pick): the least loaded runqueue meeting the hard
 *    affinity *and* the soft affinity, however loaded, else the least
 *    loaded meeting the hard affinity; own load discounted;
 *  - tickling inside the runqueue: soft step then hard step, fully idle
 *    cores first, then idle pCPUs, else preempt the best score (credit
 *    lead - migrate resist + CREDIT_INIT if the pCPU is in the waker's
 *    soft affinity + CREDIT_INIT if outside the running vCPU's);
 *  - kick-away: a running vCPU outside its soft affinity yields when an
 *    idle pCPU of its soft affinity is in the same runqueue;
 *  - balance_load at credit reset: move the runnable vCPU that best
 *    closes the load gap to another runqueue, hard affinity only
 *    (ties: the one assigned longest, as credit2's list order does).
 * Loads are exponential averages of each vCPU's runnable time over
 * credit2_load_window_ms, compared per pCPU of a runqueue.
 * Simplified: no ratelimit, no caps or reservations, equal weights.
 *
 * Invariants (credit2_check): every runnable vCPU's runqueue meets its
 * hard affinity and a running vCPU runs on a pCPU of its runqueue; work
 * conserving inside a runqueue: after scheduling, no pCPU is idle while a
 * vCPU queued in its runqueue could run on it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-int.h"

struct c2v {
	double credit;
	double load;      /* average runnable share */
	int rq;
	uint64_t rq_since;
	int move_to;      /* runqueue to move to when descheduled, -1 */
	uint64_t burn_us;
};

struct c2rq {
	uint64_t *cpus;
	uint64_t *idle;     /* idle and not tickled */
	int ncpus;
	double load;        /* sum of its vCPUs' loads */
};

struct c2 {
	struct c2v *v;
	struct c2rq *rq;
	int nrq;
	int *rq_of;         /* per pCPU */
	uint64_t *t1;
	double decay;       /* per step */
};

#define C2(s) ((struct c2 *)(s)->sched)

static double init_credit(const struct np__sim *s)
{
	return s->m->c2_credit_init_us;
}

static bool runnable(const struct np__vcpu *vc)
{
	return vc->state == NP__V_RUNNING || vc->state == NP__V_QUEUED;
}

static void burn(struct np__sim *s, int v)
{
	struct c2v *x = &C2(s)->v[v];

	if (s->now > x->burn_us)
		x->credit -= (double)(s->now - x->burn_us);
	x->burn_us = s->now;
}

static void assign(struct np__sim *s, int v, int r)
{
	struct c2 *k = C2(s);
	struct c2v *x = &k->v[v];

	if (x->rq == r)
		return;
	if (x->rq >= 0)
		k->rq[x->rq].load -= x->load;
	k->rq[r].load += x->load;
	x->rq = r;
	x->rq_since = s->now;
}

/* ---- picking a runqueue and a pCPU ------------------------------------ */

static double rq_load(const struct np__sim *s, int r, int v)
{
	const struct c2 *k = C2(s);
	double l = k->rq[r].load;

	if (k->v[v].rq == r)
		l -= k->v[v].load;
	return l / k->rq[r].ncpus;
}

static int res_pick(struct np__sim *s, int v)
{
	const struct c2 *k = C2(s);
	const struct np__vcpu *vc = &s->vcpus[v];
	int best = -1, soft_best = -1;

	for (int r = 0; r < k->nrq; r++) {
		if (!np__set_meets(k->rq[r].cpus, vc->hard, s->nwords))
			continue;
		if (best < 0 || rq_load(s, r, v) < rq_load(s, best, v))
			best = r;
		if (vc->has_soft && np__set_meets(k->rq[r].cpus, vc->soft, s->nwords) &&
		    (soft_best < 0 || rq_load(s, r, v) < rq_load(s, soft_best, v)))
			soft_best = r;
	}
	return soft_best >= 0 ? soft_best : best;
}

/* Keep V's pCPU inside its runqueue and hard affinity. */
static void fix_cpu(struct np__sim *s, int v)
{
	struct c2 *k = C2(s);
	struct np__vcpu *vc = &s->vcpus[v];
	uint64_t *m = k->t1;

	if (k->rq_of[vc->cpu] == k->v[v].rq && np__set_has(vc->hard, vc->cpu))
		return;
	for (int w = 0; w < s->nwords; w++)
		m[w] = k->rq[k->v[v].rq].cpus[w] & vc->hard[w];
	vc->cpu = np__set_cycle(m, s->nwords, s->ncpus, vc->cpu);
}

/* ---- tickling ------------------------------------------------------------- */

static void tickle_cpu(struct np__sim *s, int c)
{
	struct c2 *k = C2(s);

	np__set_del(k->rq[k->rq_of[c]].idle, c);
	s->cpus[c].resched = true;
}

static bool core_idle(const struct np__sim *s, int c, const uint64_t *idle)
{
	return np__set_subset(s->cpus[c].siblings, idle, s->nwords);
}

/* An idle pCPU of MASK (fully idle core first), from V's pCPU on; -1 none. */
static int idle_in(struct np__sim *s, int v, const uint64_t *mask, const uint64_t *idle)
{
	int from = s->vcpus[v].cpu, any = -1;

	for (int i = 0; i < s->ncpus; i++) {
		int c = (from + i) % s->ncpus;

		if (!np__set_has(mask, c) || !np__set_has(idle, c))
			continue;
		if (core_idle(s, c, idle))
			return c;
		if (any < 0)
			any = c;
	}
	return any;
}

static double score(const struct np__sim *s, int v, int c)
{
	const struct c2 *k = C2(s);
	const struct np__vcpu *vc = &s->vcpus[v];
	int cur = s->cpus[c].curr;
	double sc = k->v[v].credit - k->v[cur].credit;

	if (c != vc->cpu)
		sc -= s->m->c2_migrate_resist_us;
	if (vc->has_soft && np__set_has(vc->soft, c))
		sc += init_credit(s);
	if (s->vcpus[cur].has_soft && !np__set_has(s->vcpus[cur].soft, c))
		sc += init_credit(s);
	return sc;
}

static void tickle(struct np__sim *s, int v)
{
	struct c2 *k = C2(s);
	const struct np__vcpu *vc = &s->vcpus[v];
	struct c2rq *rq = &k->rq[k->v[v].rq];
	uint64_t *m = k->t1;
	int best = -1;
	double best_sc = 0;

	for (int step = vc->has_soft ? 0 : 1; step < 2; step++) {
		int c;

		for (int w = 0; w < s->nwords; w++)
			m[w] = rq->cpus[w] & vc->hard[w] & (step == 0 ? vc->soft[w] : ~UINT64_C(0));
		c = idle_in(s, v, m, rq->idle);
		if (c >= 0) {
			tickle_cpu(s, c);
			return;
		}
	}
	for (int c = 0; c < s->ncpus; c++) {
		double sc;

		if (!np__set_has(m, c) || s->cpus[c].curr < 0 || s->cpus[c].resched)
			continue;
		sc = score(s, v, c);
		if (sc > best_sc) {
			best_sc = sc;
			best = c;
		}
	}
	if (best >= 0)
		tickle_cpu(s, best);
}

/* ---- credits and balancing --------------------------------------------------- */

static void reset_credit(struct np__sim *s, int r, double low)
{
	struct c2 *k = C2(s);
	double init = init_credit(s), mult = 1;

	if (low < -init)
		mult += floor(-low / init);
	for (int v = 0; v < s->nvcpus; v++) {
		struct c2v *x = &k->v[v];

		if (x->rq != r)
			continue;
		x->credit += mult * init;
		if (x->credit > init + s->m->c2_min_slice_us)
			x->credit = init + s->m->c2_min_slice_us;
	}
}

static void move_now(struct np__sim *s, int v, int to)
{
	struct np__vcpu *vc = &s->vcpus[v];

	if (vc->state == NP__V_RUNNING) {
		C2(s)->v[v].move_to = to;
		s->cpus[vc->cpu].resched = true;
		return;
	}
	assign(s, v, to);
	fix_cpu(s, v);
	tickle(s, v);
}

/* The vCPU of SRC whose move to DST leaves the smallest gap; -1 none. */
static int best_mover(struct np__sim *s, int src, int dst, double *gap_after)
{
	const struct c2 *k = C2(s);
	const struct c2rq *a = &k->rq[src], *b = &k->rq[dst];
	int best = -1;

	for (int v = 0; v < s->nvcpus; v++) {
		const struct c2v *x = &k->v[v];
		double g;

		if (x->rq != src || !runnable(&s->vcpus[v]) || x->move_to >= 0 ||
		    !np__set_meets(b->cpus, s->vcpus[v].hard, s->nwords))
			continue;
		g = fabs((a->load - x->load) / a->ncpus - (b->load + x->load) / b->ncpus);
		if (best < 0 || g < *gap_after ||
		    (g == *gap_after && x->rq_since < k->v[best].rq_since)) {
			best = v;
			*gap_after = g;
		}
	}
	return best;
}

static void balance_load(struct np__sim *s, int r)
{
	struct c2 *k = C2(s);
	int other = -1, src, dst, v;
	double gap = 0, after = 0, nmin;

	for (int o = 0; o < k->nrq; o++) {
		double g = k->rq[r].load / k->rq[r].ncpus - k->rq[o].load / k->rq[o].ncpus;

		if (o != r && fabs(g) > fabs(gap)) {
			gap = g;
			other = o;
		}
	}
	if (other < 0)
		return;
	src = gap > 0 ? r : other;
	dst = gap > 0 ? other : r;
	nmin = k->rq[src].ncpus < k->rq[dst].ncpus ? k->rq[src].ncpus : k->rq[dst].ncpus;
	v = best_mover(s, src, dst, &after);
	if (v >= 0 && (fabs(gap) - after) * nmin > s->m->c2_balance_tolerance)
		move_now(s, v, dst);
}

/* ---- scheduling ---------------------------------------------------------------- */

/* V queued in C's runqueue would rather run on an idle pCPU of its soft affinity. */
static int soft_elsewhere(struct np__sim *s, int v, int c)
{
	struct c2 *k = C2(s);
	const struct np__vcpu *vc = &s->vcpus[v];
	uint64_t *m = k->t1;

	if (!vc->has_soft || np__set_has(vc->soft, c))
		return -1;
	for (int w = 0; w < s->nwords; w++)
		m[w] = k->rq[k->rq_of[c]].cpus[w] & vc->soft[w] & vc->hard[w];
	np__set_del(m, c);
	return idle_in(s, v, m, k->rq[k->rq_of[c]].idle);
}

static int candidate(struct np__sim *s, int c, int cur, bool soft_skip)
{
	struct c2 *k = C2(s);
	int best = cur, r = k->rq_of[c];

	for (int v = 0; v < s->nvcpus; v++) {
		const struct np__vcpu *vc = &s->vcpus[v];
		double need;
		int there;

		if (vc->state != NP__V_QUEUED || k->v[v].rq != r || !np__set_has(vc->hard, c))
			continue;
		need = best < 0 ? -INFINITY : k->v[best].credit;
		if (best >= 0 && best == cur && vc->cpu != c)
			need += s->m->c2_migrate_resist_us;
		if (k->v[v].credit <= need)
			continue;
		there = soft_skip ? soft_elsewhere(s, v, c) : -1;
		if (there >= 0) {
			tickle_cpu(s, there);
			continue;
		}
		best = v;
	}
	return best;
}

/* Must CUR leave C: moved away by balancing, outside its hard affinity, kicked? */
static bool must_leave(struct np__sim *s, int c, int cur)
{
	int there;

	if (C2(s)->v[cur].move_to >= 0 || !np__set_has(s->vcpus[cur].hard, c))
		return true;
	there = soft_elsewhere(s, cur, c);
	if (there < 0)
		return false;
	tickle_cpu(s, there);
	return true;
}

static void requeue(struct np__sim *s, int v)
{
	struct c2v *x = &C2(s)->v[v];

	s->vcpus[v].state = NP__V_QUEUED;
	if (x->move_to >= 0) {
		assign(s, v, x->move_to);
		x->move_to = -1;
	}
	fix_cpu(s, v);
	tickle(s, v);
}

static void start(struct np__sim *s, int c, int v)
{
	struct c2 *k = C2(s);
	struct c2rq *rq = &k->rq[k->rq_of[c]];
	double slice;

	np__sim_put(s, c, v);
	if (v < 0) {
		np__set_add(rq->idle, c);
		return;
	}
	np__set_del(rq->idle, c);
	k->v[v].burn_us = s->now;
	if (k->v[v].credit <= 0) {
		reset_credit(s, k->rq_of[c], k->v[v].credit);
		balance_load(s, k->rq_of[c]);
	}
	slice = k->v[v].credit;
	if (slice < s->m->c2_min_slice_us)
		slice = s->m->c2_min_slice_us;
	if (slice > s->m->c2_max_slice_us)
		slice = s->m->c2_max_slice_us;
	s->cpus[c].slice_end_us = s->now + (uint64_t)slice;
}

static void do_schedule(struct np__sim *s, int c, bool soft_skip)
{
	int cur = s->cpus[c].curr, next;

	s->cpus[c].resched = false;
	if (cur >= 0) {
		burn(s, cur);
		if (must_leave(s, c, cur)) {
			np__sim_put(s, c, -1);
			requeue(s, cur);
			cur = -1;
		}
	}
	next = candidate(s, c, cur, soft_skip);
	if (next == cur && cur >= 0) {
		start(s, c, cur);
		return;
	}
	if (cur >= 0) {
		np__sim_put(s, c, -1);
		s->vcpus[cur].state = NP__V_QUEUED;
	}
	start(s, c, next);
}

/* An idle pCPU with work it may take in its runqueue. */
static bool starving(const struct np__sim *s, int c)
{
	const struct c2 *k = C2(s);

	if (s->cpus[c].curr >= 0)
		return false;
	for (int v = 0; v < s->nvcpus; v++)
		if (s->vcpus[v].state == NP__V_QUEUED && k->v[v].rq == k->rq_of[c] &&
		    np__set_has(s->vcpus[v].hard, c))
			return true;
	return false;
}

static void credit2_schedule(struct np__sim *s)
{
	bool again = true;

	for (int round = 0; again && round < 64; round++) {
		again = false;
		for (int c = 0; c < s->ncpus; c++) {
			if (s->cpus[c].resched) {
				do_schedule(s, c, round < 32);
				again = true;
			}
		}
		for (int c = 0; c < s->ncpus && !again; c++) {
			if (starving(s, c)) {
				do_schedule(s, c, false);
				again = true;
			}
		}
	}
}

static void credit2_timers(struct np__sim *s)
{
	struct c2 *k = C2(s);

	for (int r = 0; r < k->nrq; r++)
		k->rq[r].load = 0;
	for (int v = 0; v < s->nvcpus; v++) {
		struct c2v *x = &k->v[v];

		x->load += ((runnable(&s->vcpus[v]) ? 1.0 : 0.0) - x->load) * k->decay;
		if (x->rq >= 0)
			k->rq[x->rq].load += x->load;
	}
	for (int c = 0; c < s->ncpus; c++)
		if (s->cpus[c].curr >= 0 && s->now >= s->cpus[c].slice_end_us)
			s->cpus[c].resched = true;
}

static void credit2_wake(struct np__sim *s, int v)
{
	assign(s, v, res_pick(s, v));
	fix_cpu(s, v);
	s->vcpus[v].state = NP__V_QUEUED;
	tickle(s, v);
}

static void credit2_sleep(struct np__sim *s, int v)
{
	struct np__vcpu *vc = &s->vcpus[v];

	if (vc->state == NP__V_RUNNING) {
		burn(s, v);
		np__sim_put(s, vc->cpu, -1);
		s->cpus[vc->cpu].resched = true;
	}
	if (C2(s)->v[v].move_to >= 0) {
		assign(s, v, C2(s)->v[v].move_to);
		C2(s)->v[v].move_to = -1;
	}
}

static void credit2_affinity(struct np__sim *s, int v)
{
	struct c2 *k = C2(s);
	struct np__vcpu *vc = &s->vcpus[v];
	bool rq_ok = np__set_meets(k->rq[k->v[v].rq].cpus, vc->hard, s->nwords);

	if (vc->state == NP__V_RUNNING && (!rq_ok || !np__set_has(vc->hard, vc->cpu))) {
		if (!rq_ok)
			k->v[v].move_to = res_pick(s, v);
		s->cpus[vc->cpu].resched = true;
	} else if (vc->state == NP__V_QUEUED && !rq_ok) {
		move_now(s, v, res_pick(s, v));
	} else if (!rq_ok) {
		assign(s, v, res_pick(s, v));
		fix_cpu(s, v);
	}
}

/* ---- set-up and invariants ------------------------------------------------------ */

static int make_queues(struct np__sim *s, struct c2 *k)
{
	for (int n = 0; n < s->nnodes; n++) {
		struct c2rq *rq;

		if (s->nodes[n].ncpus == 0)
			continue;
		rq = &k->rq[k->nrq];
		rq->cpus = s->nodes[n].cpus;
		rq->ncpus = s->nodes[n].ncpus;
		rq->idle = np__sim_set(s);
		if (!rq->idle)
			return NP_ENOMEM;
		memcpy(rq->idle, rq->cpus, sizeof(*rq->idle) * (size_t)s->nwords);
		for (int c = 0; c < s->ncpus; c++)
			if (s->cpus[c].node == n)
				k->rq_of[c] = k->nrq;
		k->nrq++;
	}
	return 0;
}

static int credit2_init(struct np__sim *s)
{
	struct c2 *k = np__calloc(1, sizeof(*k));

	if (!k)
		return NP_ENOMEM;
	s->sched = k;
	k->v = np__calloc((size_t)s->nvcpus + 1, sizeof(*k->v));
	k->rq = np__calloc((size_t)s->nnodes, sizeof(*k->rq));
	k->rq_of = np__calloc((size_t)s->ncpus, sizeof(*k->rq_of));
	k->t1 = np__sim_set(s);
	if (!k->v || !k->rq || !k->rq_of || !k->t1 || make_queues(s, k))
		return NP_ENOMEM;
	k->decay = 1.0 - exp(-s->m->step_us / (s->m->c2_load_window_ms * 1000.0));
	for (int v = 0; v < s->nvcpus; v++) {
		k->v[v] = (struct c2v){ .credit = init_credit(s), .rq = -1, .move_to = -1 };
		assign(s, v, res_pick(s, v));
		s->vcpus[v].cpu = np__set_cycle(k->rq[k->v[v].rq].cpus, s->nwords, s->ncpus,
						(int)(s->vcpus[v].idx % s->ncpus));
		fix_cpu(s, v);
	}
	return 0;
}

static void credit2_fini(struct np__sim *s)
{
	struct c2 *k = C2(s);

	if (!k)
		return;
	free(k->v);
	free(k->rq);
	free(k->rq_of);
	free(k);
	s->sched = NULL;
}

static int credit2_check(const struct np__sim *s, char *msg, size_t size)
{
	const struct c2 *k = C2(s);

	for (int v = 0; v < s->nvcpus; v++) {
		const struct np__vcpu *vc = &s->vcpus[v];
		int r = k->v[v].rq;

		if (!runnable(vc))
			continue;
		if (r < 0 || !np__set_meets(k->rq[r].cpus, vc->hard, s->nwords))
			return snprintf(msg, size, "vCPU %d in a runqueue outside its hard "
					"affinity", v), -1;
		if (vc->state == NP__V_RUNNING && k->rq_of[vc->cpu] != r)
			return snprintf(msg, size, "vCPU %d runs on pCPU %d outside its runqueue",
					v, vc->cpu), -1;
	}
	for (int c = 0; c < s->ncpus; c++)
		if (starving(s, c))
			return snprintf(msg, size, "pCPU %d idle while its runqueue has a vCPU "
					"that may run there (not work conserving)", c), -1;
	return 0;
}

const struct np__sched_ops np__credit2_ops = {
	.name = "credit2",
	.init = credit2_init,
	.fini = credit2_fini,
	.wake = credit2_wake,
	.sleep = credit2_sleep,
	.timers = credit2_timers,
	.schedule = credit2_schedule,
	.affinity = credit2_affinity,
	.check = credit2_check,
};
