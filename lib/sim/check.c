/*
 * check.c - the invariants of a run, checked after every scheduling pass
 * when checking is on (it is by default, and in every test):
 *  - a busy pCPU runs a vCPU that is RUNNING, on that very pCPU, inside
 *    its hard affinity; so one vCPU per pCPU and one pCPU per vCPU;
 *  - the RUNNING vCPUs are exactly those the pCPUs run;
 *  - a paused guest's vCPUs are PAUSED, and nothing else is;
 *  - memory: every node holds the sum of its guests' memory, within its
 *    capacity; every guest has all its memory somewhere (one that has not
 *    arrived yet, none, and it is paused);
 *  - the scheduler's own: its queues, and work conservation where it
 *    promises it (sched-*.c).
 * A broken invariant is a simulator bug, never bad input.
 */
#include <math.h>
#include <stdio.h>

#include "sim/sim-int.h"

#define MB_TOLERANCE 1e-3

static int check_cpus(const struct np__sim *s, char *msg, size_t size)
{
	int busy = 0, running = 0;

	for (int c = 0; c < s->ncpus; c++) {
		int v = s->cpus[c].curr;

		if (v < 0)
			continue;
		busy++;
		if (v >= s->nvcpus || s->vcpus[v].state != NP__V_RUNNING)
			return snprintf(msg, size, "pCPU %d runs vCPU %d, which is not running", c,
					v), -1;
		if (s->vcpus[v].cpu != c)
			return snprintf(msg, size, "pCPU %d runs vCPU %d, which says it is on "
					"pCPU %d", c, v, s->vcpus[v].cpu), -1;
		if (!np__set_has(s->vcpus[v].hard, c))
			return snprintf(msg, size, "vCPU %d runs on pCPU %d outside its hard "
					"affinity", v, c), -1;
	}
	for (int v = 0; v < s->nvcpus; v++)
		running += s->vcpus[v].state == NP__V_RUNNING;
	if (running != busy)
		return snprintf(msg, size, "%d vCPUs say they run, %d pCPUs are busy", running,
				busy), -1;
	return 0;
}

static int check_guests(const struct np__sim *s, char *msg, size_t size)
{
	for (int g = 0; g < s->nguests; g++) {
		const struct np__guest *gs = &s->guests[g];
		double sum = 0;

		for (int v = gs->first; v < gs->first + gs->nvcpus; v++)
			if ((s->vcpus[v].state == NP__V_PAUSED) != gs->paused)
				return snprintf(msg, size, "guest '%s' %s but vCPU %d is %s", gs->name,
						gs->paused ? "is paused" : "runs", v,
						gs->paused ? "not paused" : "paused"), -1;
		for (int n = 0; n < s->nnodes; n++) {
			if (gs->mem_mb[n] < -MB_TOLERANCE)
				return snprintf(msg, size, "guest '%s' has %.3f MiB on node index %d",
						gs->name, gs->mem_mb[n], n), -1;
			sum += gs->mem_mb[n];
		}
		if (gs->absent ? sum > MB_TOLERANCE
			       : fabs(sum - gs->mem_total) > MB_TOLERANCE * (1 + gs->mem_total * 1e-6))
			return snprintf(msg, size, "guest '%s' has %.3f MiB on its nodes, not %.0f",
					gs->name, sum, gs->mem_total), -1;
	}
	return 0;
}

static int check_nodes(const struct np__sim *s, char *msg, size_t size)
{
	for (int n = 0; n < s->nnodes; n++) {
		double sum = 0;

		for (int g = 0; g < s->nguests; g++)
			sum += s->guests[g].mem_mb[n];
		if (fabs(sum - s->nodes[n].used_mb) > MB_TOLERANCE * (1 + sum * 1e-6))
			return snprintf(msg, size, "node index %d: %.3f MiB used, guests hold %.3f",
					n, s->nodes[n].used_mb, sum), -1;
		if (sum > s->nodes[n].cap_mb + MB_TOLERANCE * (1 + sum * 1e-6))
			return snprintf(msg, size, "node index %d holds %.3f MiB, more than its "
					"%.0f", n, sum, s->nodes[n].cap_mb), -1;
	}
	return 0;
}

int np__sim_check(const struct np__sim *s, char *msg, size_t size)
{
	if (check_cpus(s, msg, size) || check_guests(s, msg, size) ||
	    check_nodes(s, msg, size))
		return -1;
	return s->ops->check(s, msg, size);
}
