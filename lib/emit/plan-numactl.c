/*
 * plan-numactl.c - a plan as a numactl(8) command line for a plain
 * process: "numactl --membind=2-3 --physcpubind=16-23 --", to which the
 * caller appends the program and its arguments.
 *
 * A process has threads, not vCPUs, so the per-vCPU pinning collapses to
 * the set of every CPU the plan's vCPUs may use (--physcpubind); with soft
 * affinity the process is only kept on the plan's nodes (--cpunodebind),
 * the nearest numactl comes to a preference.  Memory: --membind (strict),
 * --interleave, and --preferred for one node or --preferred-many for
 * several (numactl 2.0.16; --preferred takes one node).
 */
#include <stdlib.h>

#include "emit/plan-emit.h"

/* Node indexes IDX as a list of kernel ids. */
static int put_nodes(const np_plan *p, const np_topo *t, const int *idx, int n, FILE *out)
{
	int *ids = np__calloc((size_t)n, sizeof(int));
	char *s;

	if (!ids)
		return NP_ENOMEM;
	for (int i = 0; i < n; i++)
		ids[i] = np__plan_node_os(p, t, idx[i]);
	s = np__cpulist(ids, n);
	free(ids);
	if (!s)
		return NP_ENOMEM;
	fputs(s, out);
	free(s);
	return 0;
}

/* The nodes the vCPUs run on (the cells' nodes; memory-only nodes left out). */
static int put_cell_nodes(const np_plan *p, const np_topo *t, FILE *out)
{
	int *idx = np__calloc((size_t)p->ncells, sizeof(int)), rc;

	if (!idx)
		return NP_ENOMEM;
	for (int i = 0; i < p->ncells; i++)
		idx[i] = p->cells[i].node_idx;
	rc = put_nodes(p, t, idx, p->ncells, out);
	free(idx);
	return rc;
}

/* Does the plan restrict its vCPUs to any CPUs at all? */
static bool has_cpus(const np_plan *p)
{
	for (int i = 0; i < p->ncells; i++)
		if (p->cells[i].npins > 0 || (p->cells[i].nfloat > 0 && p->cells[i].ncpuset > 0))
			return true;
	return false;
}

static int put_cpus(const np_plan *p, FILE *out)
{
	int n = 0, *cpus;
	char *s;

	for (int i = 0; i < p->ncells; i++)
		n += p->cells[i].npins + p->cells[i].ncpuset;
	cpus = np__calloc((size_t)n, sizeof(int));
	if (!cpus)
		return NP_ENOMEM;
	n = 0;
	for (int i = 0; i < p->ncells; i++) {
		const struct np_plan_cell *c = &p->cells[i];

		for (int k = 0; k < c->npins; k++)
			cpus[n++] = c->pins[k].pcpu;
		for (int k = 0; c->nfloat > 0 && k < c->ncpuset; k++)
			cpus[n++] = c->cpuset[k];
	}
	s = np__cpulist(cpus, n);
	free(cpus);
	if (!s)
		return NP_ENOMEM;
	fputs(s, out);
	free(s);
	return 0;
}

int np__plan_write_numactl(const np_plan *p, const np_host *host, FILE *out,
			   struct np_error *err)
{
	const np_topo *t = host ? np_host_topo(host) : NULL;
	const char *mem = p->mem_policy == NP_MEM_POLICY_INTERLEAVE ? "--interleave="
			  : p->mem_policy == NP_MEM_POLICY_STRICT   ? "--membind="
			  : p->nnodeset == 1 ? "--preferred=" : "--preferred-many=";
	int rc;

	if (!p->fits)
		return np__err(err, NP_EINPUT,
			       "cannot write a numactl command: the plan does not fit");
	for (int i = 0; i < p->nnodeset; i++)
		if (np__plan_node_os(p, t, p->nodeset[i]) < 0)
			return np__err(
			    err, NP_EINPUT,
			    "cannot write a numactl command: the plan's nodes are unknown");
	for (int i = 0; i < p->ncells; i++)
		if (np__plan_node_os(p, t, p->cells[i].node_idx) < 0)
			return np__err(
			    err, NP_EINPUT,
			    "cannot write a numactl command: the plan's nodes are unknown");
	fprintf(out, "numactl %s", mem);
	rc = put_nodes(p, t, p->nodeset, p->nnodeset, out);
	if (!rc && p->affinity == NP_AFFINITY_SOFT) {
		fputs(" --cpunodebind=", out);
		rc = put_cell_nodes(p, t, out);
	} else if (!rc && has_cpus(p)) {
		fputs(" --physcpubind=", out);
		rc = put_cpus(p, out);
	}
	fputs(" --\n", out);
	if (rc)
		return np__err(err, rc, "out of memory");
	return ferror(out) ? NP_EOS : 0;
}
