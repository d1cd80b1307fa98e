/*
 * plan-view.c - views of a plan built from the plan alone (and, for the
 * page size, its host), for the JSON reader and writer (plan-json.c) and
 * the writers of lib/emit/: the kernel id of a plan node, guest cells as
 * the plan places them, the vCPU table.
 *
 * A plan stores host nodes by topology index and CPUs by kernel id; a
 * view is owned by its caller and freed with the matching _free().
 */
#include <stdlib.h>
#include <string.h>

#include "plan/plan-int.h"

int np__plan_node_os(const np_plan *plan, const np_topo *topo, int node_idx)
{
	if (topo)
		return node_idx >= 0 && node_idx < np_topo_node_count(topo)
			       ? np_topo_node(topo, node_idx)->os_id
			       : -1;
	if (plan->node_os)
		return node_idx >= 0 && node_idx < plan->nnode_os ? plan->node_os[node_idx] : -1;
	return -1;
}

bool np__plan_cell_huge(const np_host *host, const struct np_plan_cell *c)
{
	const struct np_host_node *n = host ? np_host_node(host, c->node_idx) : NULL;

	return c->pagesize_kb > (n && n->npools > 0 ? n->pools[0].size_kb : 4);
}

void np__plan_gcells_free(struct np__gcell *g, int n)
{
	for (int i = 0; g && i < n; i++) {
		free(g[i].vcpus);
		free(g[i].nodes);
		free(g[i].cpus);
	}
	free(g);
}

/* Append plan cell C's vCPUs, node and CPUs to G (arrays sized by the caller). */
static void add_cell(struct np__gcell *g, const struct np_plan_cell *c)
{
	for (int k = 0; k < c->npins; k++) {
		g->vcpus[g->nvcpus++] = c->pins[k].vcpu;
		g->cpus[g->ncpus++] = c->pins[k].pcpu;
	}
	for (int k = 0; k < c->nfloat; k++)
		g->vcpus[g->nvcpus++] = c->float_vcpus[k];
	if (c->nfloat > 0)
		for (int k = 0; k < c->ncpuset; k++)
			g->cpus[g->ncpus++] = c->cpuset[k];
	if (g->nnodes == 0)
		g->pagesize_kb = c->pagesize_kb;
	g->nodes[g->nnodes++] = c->node_idx;
	g->memory_mb += c->memory_mb;
}

/* Size the arrays of guest cell G (id G->id) for every plan cell it has. */
static int alloc_gcell(const np_plan *p, struct np__gcell *g)
{
	size_t nv = 0, nc = 0, nn = 0;

	for (int i = 0; i < p->ncells; i++) {
		const struct np_plan_cell *c = &p->cells[i];

		if (c->guest_cell != g->id)
			continue;
		nv += (size_t)c->npins + (size_t)c->nfloat;
		nc += (size_t)c->npins + (size_t)c->ncpuset;
		nn++;
	}
	g->vcpus = np__calloc(nv, sizeof(int));
	g->cpus = np__calloc(nc, sizeof(int));
	g->nodes = np__calloc(nn, sizeof(int));
	return g->vcpus && g->cpus && g->nodes ? 0 : NP_ENOMEM;
}

int np__plan_gcells(const np_plan *p, struct np__gcell **out, int *n)
{
	int *ids = np__calloc((size_t)p->ncells, sizeof(*ids));
	struct np__gcell *g = NULL;
	int ng = 0, rc = NP_ENOMEM;

	if (!ids)
		goto out;
	for (int i = 0; i < p->ncells; i++)
		ids[i] = p->cells[i].guest_cell;
	ng = np__sort_unique(ids, p->ncells);
	g = np__calloc((size_t)ng, sizeof(*g));
	if (!g)
		goto out;
	for (int k = 0; k < ng; k++) {
		g[k].id = ids[k];
		if (alloc_gcell(p, &g[k]))
			goto out;
		for (int i = 0; i < p->ncells; i++)
			if (p->cells[i].guest_cell == ids[k])
				add_cell(&g[k], &p->cells[i]);
		g[k].nvcpus = np__sort_unique(g[k].vcpus, g[k].nvcpus);
		g[k].ncpus = np__sort_unique(g[k].cpus, g[k].ncpus);
	}
	*out = g;
	*n = ng;
	g = NULL;
	rc = 0;
out:
	np__plan_gcells_free(g, ng);
	free(ids);
	return rc;
}

/* Record vCPU V at plan cell CELL in MAP (of N), refusing gaps and repeats. */
static int put_vcpu(struct np__vcpu *map, int n, int v, int cell, int pcpu,
		    struct np_error *err)
{
	if (v < 0 || v >= n)
		return np__err(err, NP_EINPUT, "plan: vCPU %d is out of range 0-%d", v, n - 1);
	if (map[v].cell >= 0)
		return np__err(err, NP_EINPUT, "plan: vCPU %d is in cells %d and %d", v,
			       map[v].cell, cell);
	map[v] = (struct np__vcpu){ cell, pcpu };
	return 0;
}

int np__plan_vcpus(const np_plan *p, struct np__vcpu **out, int *n, struct np_error *err)
{
	struct np__vcpu *map;
	int total = 0, rc = 0;

	for (int i = 0; i < p->ncells; i++)
		total += p->cells[i].npins + p->cells[i].nfloat;
	map = np__calloc((size_t)total, sizeof(*map));
	if (!map)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int v = 0; v < total; v++)
		map[v].cell = -1;
	for (int i = 0; i < p->ncells && !rc; i++) {
		const struct np_plan_cell *c = &p->cells[i];

		for (int k = 0; k < c->npins && !rc; k++)
			rc = put_vcpu(map, total, c->pins[k].vcpu, i, c->pins[k].pcpu, err);
		for (int k = 0; k < c->nfloat && !rc; k++)
			rc = put_vcpu(map, total, c->float_vcpus[k], i, -1, err);
	}
	if (rc) {
		free(map);
		return rc;
	}
	*out = map;
	*n = total;
	return 0;
}
