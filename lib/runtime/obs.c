/*
 * obs.c - the np_obs object: building one (for procfs.c and libvirt.c)
 * and its accessors.
 *
 * Memory is kept per topology node index; numa_maps may name nodes the
 * topology lacks (a saved file from another host): their memory counts in
 * the total but on no node.  Policies are sorted by the memory they
 * govern, most first, and the first is "the" policy of the target.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/rt-int.h"

np_obs *np__obs_new(const np_topo *topo)
{
	np_obs *obs = calloc(1, sizeof(*obs));

	if (!obs)
		return NULL;
	obs->pid = -1;
	obs->nnodes = np_topo_node_count(topo);
	obs->mem = np__calloc((size_t)obs->nnodes + 1, sizeof(*obs->mem));
	snprintf(obs->policy, sizeof(obs->policy), "unknown");
	if (!obs->mem) {
		free(obs);
		return NULL;
	}
	return obs;
}

void np_obs_free(np_obs *obs)
{
	if (!obs)
		return;
	for (int i = 0; i < obs->nthreads; i++)
		free((void *)obs->threads[i].allowed);
	free(obs->threads);
	for (int i = 0; i < obs->npol; i++)
		free(obs->pol[i].name);
	free(obs->pol);
	free(obs->mem);
	free(obs->dev);
	free(obs);
}

static int cmp_pol(const void *a, const void *b)
{
	const struct np__pol *x = a, *y = b;

	if (x->kb != y->kb)
		return x->kb < y->kb ? 1 : -1;
	return strcmp(x->name, y->name);
}

int np__obs_set_maps(np_obs *obs, const np_topo *topo, const struct np__maps *m)
{
	struct np__pol *pol = np__calloc((size_t)m->npol + 1, sizeof(*pol));

	if (!pol)
		return NP_ENOMEM;
	for (int i = 0; i < m->npol; i++) {
		pol[i].kb = m->pol[i].kb;
		pol[i].name = strdup(m->pol[i].name);
		if (!pol[i].name) {
			while (i--)
				free(pol[i].name);
			free(pol);
			return NP_ENOMEM;
		}
	}
	qsort(pol, (size_t)m->npol, sizeof(*pol), cmp_pol);
	for (int i = 0; i < obs->npol; i++)
		free(obs->pol[i].name);
	free(obs->pol);
	obs->pol = pol;
	obs->npol = m->npol;
	snprintf(obs->policy, sizeof(obs->policy), "%s", m->npol ? pol[0].name : "default");
	memset(obs->mem, 0, (size_t)obs->nnodes * sizeof(*obs->mem));
	for (int i = 0; i < m->nnodes; i++) {
		int idx = np_topo_node_index(topo, m->nodes[i].os_node);

		if (idx >= 0)
			obs->mem[idx] = m->nodes[i].mem;
	}
	obs->total_kb = m->total_kb;
	obs->mem_known = true;
	return 0;
}

int np__obs_add_thread(np_obs *obs, const struct np_rt_thread *t, const int *allowed)
{
	struct np_rt_thread *th = realloc(obs->threads, ((size_t)obs->nthreads + 1) * sizeof(*th));
	int *copy = NULL;

	if (!th)
		return NP_ENOMEM;
	obs->threads = th;
	if (t->nallowed > 0) {
		copy = malloc((size_t)t->nallowed * sizeof(int));
		if (!copy)
			return NP_ENOMEM;
		memcpy(copy, allowed, (size_t)t->nallowed * sizeof(int));
	}
	th[obs->nthreads] = *t;
	th[obs->nthreads].allowed = copy;
	th[obs->nthreads].nallowed = copy ? t->nallowed : 0;
	obs->nthreads++;
	return 0;
}

int np__obs_add_device(np_obs *obs, const char *addr)
{
	char(*d)[16] = realloc(obs->dev, ((size_t)obs->ndev + 1) * sizeof(*d));

	if (!d)
		return NP_ENOMEM;
	obs->dev = d;
	snprintf(d[obs->ndev++], 16, "%s", addr);
	return 0;
}

int np_obs_pid(const np_obs *obs) { return obs->pid; }
const char *np_obs_name(const np_obs *obs) { return obs->name; }
uint64_t np_obs_time_ms(const np_obs *obs) { return obs->time_ms; }
int np_obs_thread_count(const np_obs *obs) { return obs->nthreads; }
bool np_obs_mem_known(const np_obs *obs) { return obs->mem_known; }
uint64_t np_obs_mem_total_kb(const np_obs *obs) { return obs->total_kb; }
const char *np_obs_policy(const np_obs *obs) { return obs->policy; }
int np_obs_device_count(const np_obs *obs) { return obs->ndev; }

const struct np_rt_thread *np_obs_thread(const np_obs *obs, int i)
{
	return i >= 0 && i < obs->nthreads ? &obs->threads[i] : NULL;
}

const struct np_rt_mem *np_obs_mem(const np_obs *obs, int node_idx)
{
	static const struct np_rt_mem none;

	return node_idx >= 0 && node_idx < obs->nnodes ? &obs->mem[node_idx] : &none;
}

int np_obs_policy_at(const np_obs *obs, int i, const char **policy, uint64_t *kb)
{
	if (i >= 0 && i < obs->npol) {
		*policy = obs->pol[i].name;
		*kb = obs->pol[i].kb;
	}
	return obs->npol;
}

const char *np_obs_device(const np_obs *obs, int i)
{
	return i >= 0 && i < obs->ndev ? obs->dev[i] : NULL;
}
