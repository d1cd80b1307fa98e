/*
 * actions.c - what the action paths share (apply-process.c for processes,
 * libvirt.c for domains, the balancer loop): the check of an apply spec,
 * the CPUs of a set of nodes, and the step lines of a result.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt-int.h"

int np__step(struct np_apply_result *res, const char *fmt, ...)
{
	char(*s)[200] = realloc(res->steps, ((size_t)res->nsteps + 1) * sizeof(*s));
	va_list ap;

	if (!s)
		return NP_ENOMEM;
	res->steps = s;
	va_start(ap, fmt);
	vsnprintf(s[res->nsteps++], sizeof(*s), fmt, ap);
	va_end(ap);
	return 0;
}

void np_apply_result_free(struct np_apply_result *res)
{
	if (!res)
		return;
	free(res->steps);
	memset(res, 0, sizeof(*res));
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int np__cpus_of_nodes(const np_topo *topo, const int *nodes, int n, int **cpus, int *ncpus)
{
	int k = 0, total = 0;
	int *out;

	for (int i = 0; i < n; i++)
		total += np_topo_node(topo, nodes[i])->ncpus;
	out = malloc(((size_t)total + 1) * sizeof(int));
	if (!out)
		return NP_ENOMEM;
	for (int i = 0; i < n; i++) {
		const struct np_node *nd = np_topo_node(topo, nodes[i]);

		for (int c = 0; c < nd->ncpus; c++)
			if (np_topo_cpu(topo, np_topo_cpu_index(topo, nd->cpus[c]))->online)
				out[k++] = nd->cpus[c];
	}
	qsort(out, (size_t)k, sizeof(int), cmp_int);
	*cpus = out;
	*ncpus = k;
	return 0;
}

int np__all_cpus(const np_topo *topo, int **cpus, int *ncpus)
{
	int n = np_topo_cpu_count(topo), k = 0;
	int *out = malloc(((size_t)n + 1) * sizeof(int));

	if (!out)
		return NP_ENOMEM;
	for (int i = 0; i < n; i++)
		if (np_topo_cpu(topo, i)->online)
			out[k++] = np_topo_cpu(topo, i)->os_id;
	*cpus = out;
	*ncpus = k;
	return 0;
}

int np__apply_spec_check(const np_topo *topo, const struct np_apply_spec *s, struct np_error *err)
{
	int nn = np_topo_node_count(topo), cpus = 0;

	if (s->nnodes < 1 || !s->nodes)
		return np__err(err, NP_EINPUT, "no nodes to apply");
	for (int i = 0; i < s->nnodes; i++) {
		if (s->nodes[i] < 0 || s->nodes[i] >= nn || (i && s->nodes[i] <= s->nodes[i - 1]))
			return np__err(err, NP_EINPUT, "node index %d is not a node of this host",
				       s->nodes[i]);
		cpus += np_topo_node(topo, s->nodes[i])->ncpus;
	}
	if (cpus == 0)
		return np__err(err, NP_EINPUT, "the nodes to apply have no CPUs to run on");
	for (int i = 0; i < s->npins; i++) {
		int ci = np_topo_cpu_index(topo, s->pins[i].cpu);

		if (s->pins[i].vcpu < 0 || ci < 0 || !np_topo_cpu(topo, ci)->online)
			return np__err(err, NP_EINPUT, "vCPU %d: CPU %d is not an online CPU of "
				       "this host", s->pins[i].vcpu, s->pins[i].cpu);
	}
	if (!(s->rate_mb_s >= 0) || !isfinite(s->rate_mb_s))
		return np__err(err, NP_EINPUT, "migration rate must be >= 0 MB/s");
	if (s->move_cell && (s->move_from < 0 || s->move_from >= nn || s->move_to < 0 ||
			     s->move_to >= nn || s->move_from == s->move_to))
		return np__err(err, NP_EINPUT, "a cell move needs two different nodes of this host");
	return 0;
}
