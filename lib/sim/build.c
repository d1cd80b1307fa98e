/*
 * build.c - building one run of the simulator (struct np__sim): the host
 * model, the guests of the case and their vCPUs, the storage of every
 * CPU set, the timeline, placement and the scheduler; and freeing it.
 *
 * Ownership: struct np__sim owns everything it points to except the
 * experiment and its topology (shared, read-only).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/sim-int.h"

static void guest_name(const np_sim_exp *x, const int *templates, int n, int i, char *out,
		       size_t size)
{
	int same = 0, before = 0;

	for (int j = 0; j < n; j++) {
		if (templates[j] != templates[i])
			continue;
		same++;
		before += j < i;
	}
	if (same == 1)
		snprintf(out, size, "%s", x->guests[templates[i]].name);
	else
		snprintf(out, size, "%s-%d", x->guests[templates[i]].name, before);
}

static int make_guests(struct np__sim *s, const int *templates, int n)
{
	s->nguests = n;
	s->guests = np__calloc((size_t)n + 1, sizeof(*s->guests));
	if (!s->guests)
		return NP_ENOMEM;
	for (int i = 0; i < n; i++) {
		struct np__guest *g = &s->guests[i];

		g->spec = &s->x->guests[templates[i]];
		g->wl = &s->x->workloads[g->spec->workload];
		guest_name(s->x, templates, n, i, g->name, sizeof(g->name));
		g->first = s->nvcpus;
		g->nvcpus = g->spec->vcpus;
		g->mem_total = (double)g->spec->memory_mb;
		g->last_action_us = UINT64_MAX;
		np__rng_seed(&g->rng, s->seed, UINT64_C(0x100000000) + (uint64_t)i);
		g->mem_mb = np__calloc((size_t)s->nnodes, sizeof(*g->mem_mb));
		g->frac = np__calloc((size_t)s->nnodes, sizeof(*g->frac));
		if (!g->mem_mb || !g->frac)
			return NP_ENOMEM;
		s->nvcpus += g->nvcpus;
	}
	return 0;
}

static int make_vcpus(struct np__sim *s)
{
	s->vcpus = np__calloc((size_t)s->nvcpus + 1, sizeof(*s->vcpus));
	if (!s->vcpus)
		return NP_ENOMEM;
	for (int gi = 0; gi < s->nguests; gi++) {
		const struct np__guest *g = &s->guests[gi];

		for (int i = 0; i < g->nvcpus; i++) {
			struct np__vcpu *vc = &s->vcpus[g->first + i];

			vc->guest = gi;
			vc->idx = i;
			vc->last_ran = -1;
			vc->hard = np__sim_set(s);
			vc->soft = np__sim_set(s);
			if (!vc->hard || !vc->soft)
				return NP_ENOMEM;
			np__rng_seed(&vc->rng, s->seed, (uint64_t)(g->first + i) + 1);
		}
	}
	return 0;
}

/* Storage for every CPU set: the host's, two per vCPU, the schedulers'. */
static int make_words(struct np__sim *s)
{
	s->nwords = (np_topo_cpu_count(s->topo) + 63) / 64;
	s->nwords_cap = (size_t)s->nwords *
			((size_t)s->nnodes * 2 + (size_t)np_topo_cpu_count(s->topo) * 2 +
			 (size_t)s->nvcpus * 2 + 32);
	s->words = np__calloc(s->nwords_cap, sizeof(*s->words));
	return s->words ? 0 : NP_ENOMEM;
}

static int count_vcpus(const np_sim_exp *x, const int *templates, int n)
{
	int total = 0;

	for (int i = 0; i < n; i++)
		total += x->guests[templates[i]].vcpus;
	return total;
}

static int timeline_new(struct np__sim *s)
{
	uint64_t sample = (uint64_t)(s->m->sample_ms * 1000);

	s->tl.n = (int)((s->end + sample - 1) / sample);
	s->tl.outside = np__calloc((size_t)s->tl.n + 1, sizeof(double));
	s->tl.throughput = np__calloc((size_t)s->tl.n + 1, sizeof(double));
	s->next_sample = sample;
	return s->tl.outside && s->tl.throughput ? 0 : NP_ENOMEM;
}

static int build(struct np__sim *s, const int *templates, int n, struct np_error *err)
{
	int rc;

	s->nvcpus = count_vcpus(s->x, templates, n); /* for the set storage */
	s->nnodes = np_topo_node_count(s->topo);
	if (make_words(s))
		return np__err(err, NP_ENOMEM, "out of memory");
	s->nvcpus = 0;
	rc = np__model_host(s, err);
	if (rc)
		return rc;
	if (make_guests(s, templates, n) || make_vcpus(s) || timeline_new(s))
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np__guests_place(s, err);
	if (rc)
		return rc;
	if (s->ops->init(s))
		return np__err(err, NP_ENOMEM, "out of memory");
	np__workload_start(s);
	/* Guests arriving later wait paused, with no memory, until they come (step.c). */
	for (int g = 0; g < s->nguests; g++) {
		if (!s->guests[g].absent)
			continue;
		s->guests[g].paused = true;
		for (int v = s->guests[g].first; v < s->guests[g].first + s->guests[g].nvcpus; v++)
			s->vcpus[v].state = NP__V_PAUSED;
	}
	return 0;
}

int np__sim_new(const np_sim_exp *x, const struct np__config *cfg, const int *templates,
		int nguests, uint64_t seed, bool check, struct np__sim **out,
		struct np_error *err)
{
	struct np__sim *s = np__calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return np__err(err, NP_ENOMEM, "out of memory");
	s->x = x;
	s->cfg = cfg;
	s->m = &x->model;
	s->topo = x->topo;
	s->bal = x->bal;
	s->seed = seed;
	s->check = check;
	s->ops = cfg->sched == NP__SCHED_CREDIT2 ? &np__credit2_ops : &np__credit1_ops;
	s->step = (uint64_t)x->model.step_us;
	s->end = (uint64_t)llround(x->duration_s * 1e6);
	s->measure_from = (uint64_t)llround(x->measure_from_s * 1e6);
	s->next_balance = (uint64_t)(x->model.balance_period_ms * 1000);
	rc = build(s, templates, nguests, err);
	if (rc) {
		np__sim_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void np__sim_free(struct np__sim *s)
{
	if (!s)
		return;
	if (s->ops && s->sched)
		s->ops->fini(s);
	for (int g = 0; s->guests && g < s->nguests; g++) {
		free(s->guests[g].mem_mb);
		free(s->guests[g].frac);
	}
	free(s->guests);
	free(s->vcpus);
	free(s->cpus);
	free(s->nodes);
	free(s->lat);
	free(s->words);
	free(s->tl.outside);
	free(s->tl.throughput);
	free(s);
}
