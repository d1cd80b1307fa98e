/*
 * step.c - one run (built by build.c): advance simulated time in fixed
 * steps of model.step_us, then sum up its statistics.
 *
 * One step at time `now`:
 *   1. experiment events due (pause, unpause, arrive, move a guest's
 *      cell), then guests due to arrive whose memory fits;
 *   2. workload phases; vCPUs whose sleep ended wake (scheduler wake);
 *   3. numaplace's balancer, every balance_period_ms, when configured;
 *   4. scheduler timers (ticks, accounting, slice ends), then every pCPU
 *      that must pick does;
 *   5. the invariants (check.c), when checking is on;
 *   6. execution over [now, now + step): every running vCPU does work at
 *      the model's speed; a burst that ends mid-step blocks the vCPU, and
 *      its pCPU idles to the end of the step (the price of fixed steps);
 *      memory being migrated moves; statistics and the timeline.
 * Sleeps end on the nearest step boundary (so their mean is kept), wakes
 * are seen at step 2 of the step they fall in.
 */
#include <string.h>

#include "sim/sim-int.h"

/* ---- events and wakes -------------------------------------------------------- */

static void pause_guest(struct np__sim *s, struct np__guest *g, bool pause)
{
	if (g->paused == pause)
		return;
	g->paused = pause;
	for (int v = g->first; v < g->first + g->nvcpus; v++) {
		struct np__vcpu *vc = &s->vcpus[v];

		if (pause && (vc->state == NP__V_RUNNING || vc->state == NP__V_QUEUED))
			s->ops->sleep(s, v);
		if (pause) {
			vc->state = NP__V_PAUSED;
		} else {
			vc->state = NP__V_BLOCKED;
			if (vc->wake_us < s->now)
				vc->wake_us = s->now;
		}
	}
}

/*
 * One cell of guest GI moves from node FROM to TO, as `numaplace apply`
 * carries out a plan's move: its vCPUs follow the new home at once, its
 * memory on FROM migrates to TO at the model's rate, or the configuration's
 * move_rate_mb_s (apply's --rate) when lower: remote accesses, the
 * migration's own slowdown and its bandwidth on both nodes meanwhile.  A
 * migration the balancer had started gives way to it.
 */
static void move_guest(struct np__sim *s, int gi, int from, int to)
{
	struct np__guest *g = &s->guests[gi];
	uint64_t home = g->home ? g->home : UINT64_C(1) << from;

	np__guests_set_home(s, gi, (home & ~(UINT64_C(1) << from)) | UINT64_C(1) << to);
	g->mig_from = from;
	g->mig_to = to;
	g->mig_left_mb = g->mem_mb[from];
	g->last_action_us = s->now;
	g->moving = g->mig_left_mb > 0; /* else nothing to migrate: done at once */
	g->mig_rate_mb_s = s->cfg->move_rate_mb_s;
	g->move_us = s->now;
	s->moves++;
}

static void event(struct np__sim *s, const struct np__event *e, int gi)
{
	struct np__guest *g = &s->guests[gi];

	switch (e->kind) {
	case NP__EV_PAUSE:
	case NP__EV_UNPAUSE:
		if (!g->absent)
			pause_guest(s, g, e->kind == NP__EV_PAUSE);
		break;
	case NP__EV_ARRIVE:
		if (g->absent && !g->waiting) {
			g->waiting = true;
			g->due_us = s->now;
		}
		break;
	case NP__EV_MOVE:
		if (s->cfg->moves && !g->absent)
			move_guest(s, gi, e->from, e->to);
		break;
	}
}

static void events(struct np__sim *s)
{
	while (s->next_event < s->x->nevents &&
	       s->x->events[s->next_event].at_s * 1e6 <= (double)s->now + 0.5) {
		const struct np__event *e = &s->x->events[s->next_event++];

		for (int g = 0; g < s->nguests; g++)
			if (strcmp(s->guests[g].spec->name, e->guest) == 0)
				event(s, e, g);
	}
}

/* Guests due to arrive come once no memory is moving and theirs fits; else they wait. */
static void arrivals(struct np__sim *s)
{
	for (int g = 0; g < s->nguests; g++)
		if (s->guests[g].mig_left_mb > 0)
			return;
	for (int g = 0; g < s->nguests; g++) {
		struct np__guest *gs = &s->guests[g];

		if (!gs->waiting || !np__guests_arrive(s, g))
			continue;
		gs->absent = gs->waiting = false;
		s->arrived++;
		s->arrival_wait_s += (double)(s->now - gs->due_us) / 1e6;
		pause_guest(s, gs, false);
	}
}

static void wakes(struct np__sim *s)
{
	uint64_t horizon = s->now + s->step / 2;

	for (int v = 0; v < s->nvcpus; v++) {
		struct np__vcpu *vc = &s->vcpus[v];

		if (vc->state != NP__V_BLOCKED || vc->wake_us > horizon)
			continue;
		if (vc->burst_left_ms > 0 || np__workload_wake(s, v))
			s->ops->wake(s, v);
	}
}

/* ---- execution ---------------------------------------------------------------- */

/* Run V on C for up to DT us: the time it used (it may block earlier), *WORK done. */
static double execute(struct np__sim *s, int v, int c, double dt, double *work)
{
	struct np__vcpu *vc = &s->vcpus[v];
	double speed = np__model_speed(s, v, c), used = 0;
	uint64_t wake;

	*work = 0;
	if (vc->penalty_us > 0) {
		used = vc->penalty_us < dt ? vc->penalty_us : dt;
		vc->penalty_us -= used;
	}
	for (int i = 0; i < 8 && used < dt; i++) {
		double can = speed * (dt - used) / 1000.0; /* ms of work */

		if (can < vc->burst_left_ms) {
			vc->burst_left_ms -= can;
			*work += can;
			used = dt;
			break;
		}
		*work += vc->burst_left_ms;
		used += vc->burst_left_ms * 1000.0 / speed;
		vc->burst_left_ms = 0;
		if (np__workload_next(s, v, s->now + (uint64_t)used, &wake)) {
			s->ops->sleep(s, v);
			vc->state = NP__V_BLOCKED;
			vc->wake_us = wake;
			break;
		}
	}
	np__model_account(s, v, c, speed * used / dt);
	*work /= 1000.0; /* seconds */
	return used;
}

static void account(struct np__sim *s, int v, int c, double used, double work)
{
	struct np__vcpu *vc = &s->vcpus[v];
	struct np__guest *g = &s->guests[vc->guest];

	vc->work += work;
	g->work += work;
	vc->run_us += used;
	vc->remote_us += used * (1.0 - g->frac[s->cpus[c].node]);
	if (np__vcpu_outside(s, v, c))
		vc->outside_us += used;
}

static void run_cpus(struct np__sim *s)
{
	bool measuring = s->now >= s->measure_from;
	double dt = (double)s->step;

	for (int c = 0; c < s->ncpus; c++) {
		int v = s->cpus[c].curr;
		double used, work;

		if (v < 0)
			continue;
		used = execute(s, v, c, dt, &work);
		s->sample_work += work;
		if (np__vcpu_outside(s, v, c))
			s->sample_outside += used;
		if (measuring)
			account(s, v, c, used, work);
	}
}

/* Where each vCPU is, for the balancer: runnable time, time outside. */
static void track(struct np__sim *s)
{
	for (int v = 0; v < s->nvcpus; v++) {
		struct np__vcpu *vc = &s->vcpus[v];

		if (vc->state == NP__V_RUNNING || vc->state == NP__V_QUEUED)
			vc->runnable_us_period += (double)s->step;
		if (vc->state == NP__V_PAUSED || !np__vcpu_outside(s, v, vc->cpu))
			vc->inside_us = s->now;
	}
}

static void sample(struct np__sim *s)
{
	uint64_t len = (uint64_t)(s->m->sample_ms * 1000);

	if (s->now + s->step < s->next_sample && s->now + s->step < s->end)
		return;
	if (s->isample < s->tl.n) {
		s->tl.outside[s->isample] = s->sample_outside / (double)len;
		s->tl.throughput[s->isample] = s->sample_work / ((double)len / 1e6);
		s->isample++;
	}
	s->sample_outside = 0;
	s->sample_work = 0;
	s->next_sample += len;
}

int np__sim_step(struct np__sim *s)
{
	struct np_error err = { 0 };

	events(s);
	arrivals(s);
	np__workload_phases(s);
	wakes(s);
	if (s->cfg->balancer && s->now >= s->next_balance) {
		s->next_balance += (uint64_t)(s->m->balance_period_ms * 1000);
		if (np__balancer_call(s, &err)) {
			snprintf(s->fail, sizeof(s->fail), "the balancer failed: %.200s", err.message);
			return -1;
		}
	}
	s->ops->timers(s);
	s->ops->schedule(s);
	if (s->check && np__sim_check(s, s->fail, sizeof(s->fail))) {
		memmove(s->fail + 18, s->fail, sizeof(s->fail) - 19);
		memcpy(s->fail, "invariant broken: ", 18);
		s->fail[sizeof(s->fail) - 1] = '\0';
		return -1;
	}
	np__model_begin_step(s);
	np__guests_migrate(s, (double)s->step);
	run_cpus(s);
	track(s);
	if (s->now >= s->measure_from)
		s->measured_us += (double)s->step;
	sample(s);
	s->now += s->step;
	return 0;
}

int np__sim_run(struct np__sim *s, struct np_error *err)
{
	while (s->now < s->end) {
		if (np__sim_step(s))
			return np__err_reason(err, NP_EINPUT, "sim_invariant_broken",
					      "simulation '%s' at %.3f s under '%s': %s", s->x->name,
					      (double)s->now / 1e6, s->cfg->name, s->fail);
	}
	return 0;
}

void np__sim_stats(const struct np__sim *s, struct np__run_stats *st)
{
	double work = 0, run = 0, soft_run = 0, outside = 0, remote = 0;
	double secs = s->measured_us / 1e6;

	for (int v = 0; v < s->nvcpus; v++) {
		const struct np__vcpu *vc = &s->vcpus[v];

		work += vc->work;
		run += vc->run_us;
		remote += vc->remote_us;
		outside += vc->outside_us;
		if (s->guests[vc->guest].soft)
			soft_run += vc->run_us;
	}
	memset(st, 0, sizeof(*st));
	if (secs <= 0)
		return;
	st->throughput = work / secs;
	st->outside_vcpus = outside / s->measured_us;
	st->outside_fraction = soft_run > 0 ? outside / soft_run : 0;
	st->remote_fraction = run > 0 ? remote / run : 0;
	st->migrated_mb = s->migrated_mb;
	st->actions = s->actions;
	st->arrived = s->arrived;
	st->arrival_wait_s = s->arrived > 0 ? s->arrival_wait_s / s->arrived : 0;
	st->moves = s->moves;
	st->moved_mb = s->moved_mb;
	st->moving_s = s->moving_s;
	/* A move still migrating when the run ends is charged until then. */
	for (int g = 0; g < s->nguests; g++)
		if (s->guests[g].moving)
			st->moving_s += (double)(s->now - s->guests[g].move_us) / 1e6;
}
