/*
 * workload.c - what each vCPU wants to run: bursts of work and sleeps,
 * in phases that a guest's vCPUs go through together.
 *
 * A workload is a memory profile (memory_intensity: the share of local,
 * uncontended run time spent waiting on memory; bandwidth_mb_s: traffic
 * of one vCPU at full speed) and a cycle of phases.  In a phase a vCPU
 * alternates bursts (run_ms of work, measured at full speed, so a slow
 * vCPU runs longer for the same burst) and sleeps (sleep_ms); run_ms 0
 * makes the phase a sleeping one, sleep_ms 0 a steady one.  Lengths are
 * exponential around their means unless the phase says "fixed".  Steady,
 * bursty, phased, sleeping and waking workloads are all such cycles.
 *
 * Determinism: every vCPU and guest draws from its own random stream
 * (seeded from the run's seed and its index), so the sequence of bursts
 * and sleeps of a vCPU does not depend on how it was scheduled: the
 * configurations of one repetition see the same demand.
 */
#include <math.h>
#include <stdint.h>

#include "sim/sim-int.h"

/*
 * The presets.  specjbb and sysbench-memory are calibrated against the
 * LPC 2012 testbed (docs/sim.md, "Calibration"); the others are shapes.
 */
static const struct np__workload presets[] = {
	{ "specjbb", 0.30, 200, 1, { { 0, 50, 1, false } }, false, false },
	{ "sysbench-memory", 0.32, 2000, 1, { { 0, 50, 0.5, false } }, false, false },
	{ "cpu-bound", 0.02, 100, 1, { { 0, 1000, 0, false } }, false, false },
	{ "idle", 0.10, 200, 1, { { 0, 0.5, 100, false } }, false, false },
	{ "bursty", 0.25, 800, 2,
	  { { 5, 50, 1, false }, { 15, 1, 50, false } }, true, true },
	{ "phased", 0.25, 800, 2,
	  { { 20, 50, 1, false }, { 20, 1, 50, false } }, true, false },
};

int np__workload_presets(const struct np__workload **out)
{
	*out = presets;
	return (int)NP__ARRAY_SIZE(presets);
}

static double draw(struct np__rng *r, double mean, bool fixed)
{
	return fixed ? mean : np__rng_exp(r, mean);
}

static uint64_t phase_length_us(struct np__guest *g, const struct np__phase *p)
{
	double d = p->duration_s;

	if (d <= 0)
		return UINT64_MAX / 4;
	if (g->wl->random_durations)
		d = np__rng_exp(&g->rng, d);
	return (uint64_t)(d * 1e6) + 1;
}

static void guest_start(struct np__sim *s, struct np__guest *g)
{
	const struct np__workload *wl = g->wl;
	uint64_t len;

	g->phase = 0;
	if (wl->random_start && wl->nphases > 1)
		g->phase = (int)(np__rng_unit(&g->rng) * wl->nphases) % wl->nphases;
	len = phase_length_us(g, &wl->phases[g->phase]);
	if (wl->random_start && len < UINT64_MAX / 4)
		len = (uint64_t)(np__rng_unit(&g->rng) * (double)len) + 1;
	g->phase_end_us = s->now + len;
}

/* Every vCPU starts asleep and wakes within the first 10 ms. */
void np__workload_start(struct np__sim *s)
{
	for (int g = 0; g < s->nguests; g++)
		guest_start(s, &s->guests[g]);
	for (int v = 0; v < s->nvcpus; v++) {
		struct np__vcpu *vc = &s->vcpus[v];

		vc->state = NP__V_BLOCKED;
		vc->wake_us = s->now + (uint64_t)(np__rng_unit(&vc->rng) * 10000);
		vc->burst_left_ms = 0;
	}
}

void np__workload_phases(struct np__sim *s)
{
	for (int i = 0; i < s->nguests; i++) {
		struct np__guest *g = &s->guests[i];

		while (s->now >= g->phase_end_us) {
			uint64_t at = g->phase_end_us;

			g->phase = (g->phase + 1) % g->wl->nphases;
			g->phase_end_us = at + phase_length_us(g, &g->wl->phases[g->phase]);
		}
	}
}

/*
 * V is about to want the CPU (woken, or a burst ended): draw its next
 * burst.  false when its phase is a sleeping one (*WAKE: the phase's end).
 */
static bool new_burst(struct np__sim *s, int v, uint64_t *wake)
{
	struct np__vcpu *vc = &s->vcpus[v];
	const struct np__guest *g = &s->guests[vc->guest];
	const struct np__phase *p = &g->wl->phases[g->phase];

	if (p->run_ms <= 0) {
		*wake = g->phase_end_us;
		return false;
	}
	vc->burst_left_ms = draw(&vc->rng, p->run_ms, p->fixed);
	if (vc->burst_left_ms < 1e-3)
		vc->burst_left_ms = 1e-3;
	return true;
}

bool np__workload_next(struct np__sim *s, int v, uint64_t end_us, uint64_t *wake)
{
	struct np__vcpu *vc = &s->vcpus[v];
	const struct np__guest *g = &s->guests[vc->guest];
	const struct np__phase *p = &g->wl->phases[g->phase];
	double sleep;

	if (vc->burst_left_ms > 0)
		return false;
	if (p->run_ms > 0 && p->sleep_ms <= 0)
		return !new_burst(s, v, wake);
	if (p->run_ms <= 0) {
		*wake = g->phase_end_us;
		return true;
	}
	sleep = draw(&vc->rng, p->sleep_ms, p->fixed);
	*wake = end_us + (uint64_t)(sleep * 1000.0);
	return true;
}

bool np__workload_wake(struct np__sim *s, int v)
{
	struct np__vcpu *vc = &s->vcpus[v];
	uint64_t wake;

	if (new_burst(s, v, &wake))
		return true;
	vc->wake_us = wake;
	return false;
}
