/*
 * plan-format.c - np_plan_write(): pick the writer for a format, check
 * once that the plan belongs to the host it is written for, and turn a
 * failing stream into one error.  Also the views of a plan the writers
 * share (guest cells, the vCPU table, cpulists).
 *
 * A plan remembers the kernel node ids of the topology it was made on
 * (np__plan_set_topo); writing it for a host whose nodes differ would
 * print the wrong node ids, so that is refused before any byte is written.
 * HOST may be NULL for the formats that need nothing but node ids (text,
 * json, numactl); libvirt and xl need the host's distances.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit/plan-emit.h"

static const struct {
	const char *name;
	enum np_plan_format format;
	bool needs_host;
} formats[] = {
	{ "text", NP_PLAN_TEXT, false },
	{ "json", NP_PLAN_JSON, false },
	{ "libvirt", NP_PLAN_LIBVIRT, true },
	{ "xl", NP_PLAN_XL, true },
	{ "numactl", NP_PLAN_NUMACTL, false },
};

int np_plan_format_from_name(const char *name, enum np_plan_format *out)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(formats); i++)
		if (name && strcmp(formats[i].name, name) == 0) {
			*out = formats[i].format;
			return 0;
		}
	return NP_EINPUT;
}

static int dispatch(const np_plan *plan, const np_host *host, const np_request *req,
		    enum np_plan_format format, bool explain, FILE *out, struct np_error *err)
{
	const np_topo *topo = host ? np_host_topo(host) : NULL;

	switch (format) {
	case NP_PLAN_TEXT: return np__plan_write_text(plan, host, req, explain, out, err);
	case NP_PLAN_JSON: return np__plan_write_json(plan, topo, false, out, err);
	case NP_PLAN_LIBVIRT: return np__plan_write_libvirt(plan, host, req, out, err);
	case NP_PLAN_XL: return np__plan_write_xl(plan, host, req, out, err);
	case NP_PLAN_NUMACTL: return np__plan_write_numactl(plan, host, out, err);
	}
	return np__err(err, NP_EINPUT, "unknown plan format %d", (int)format);
}

int np_plan_write(const np_plan *plan, const np_host *host, const np_request *req,
		  enum np_plan_format format, bool explain, FILE *out, struct np_error *err)
{
	int rc;

	for (size_t i = 0; i < NP__ARRAY_SIZE(formats); i++)
		if (formats[i].format == format && formats[i].needs_host && !host)
			return np__err(err, NP_EINPUT,
				       "cannot write the plan as %s without its host",
				       formats[i].name);
	if (host && !np__plan_matches_topo(plan, np_host_topo(host)))
		return np__err(err, NP_EINPUT,
			       "cannot write the plan: it was made for a host with other nodes");
	if (plan->fits && plan->nnodeset == 0)
		return np__err(err, NP_EINPUT, "cannot write the plan: it has no memory nodes");
	rc = dispatch(plan, host, req, format, explain, out, err);
	if (rc == NP_EOS || (rc == 0 && (fflush(out) || ferror(out))))
		return np__err(err, NP_EOS, "cannot write the plan: output error");
	return rc;
}

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

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Sort A[0..N) and drop duplicates; the new count. */
static int sort_unique(int *a, int n)
{
	int k = 0;

	if (n > 0)
		qsort(a, (size_t)n, sizeof(*a), cmp_int);
	for (int i = 0; i < n; i++)
		if (k == 0 || a[k - 1] != a[i])
			a[k++] = a[i];
	return k;
}

char *np__cpulist(const int *ids, int n)
{
	int *a = np__calloc((size_t)n, sizeof(*a));
	size_t size = (size_t)(n > 0 ? n : 1) * 12 + 1;
	char *buf = malloc(size);

	if (!a || !buf) {
		free(a);
		free(buf);
		return NULL;
	}
	if (n > 0)
		memcpy(a, ids, (size_t)n * sizeof(*a));
	n = sort_unique(a, n);
	np__format_cpulist(a, n, buf, size);
	free(a);
	return buf;
}

void np__fmt_mib(uint64_t mib, char *buf, size_t size)
{
	if (mib >= 1024 && mib % 1024 == 0)
		snprintf(buf, size, "%" PRIu64 " GiB", mib / 1024);
	else if (mib >= 1024)
		snprintf(buf, size, "%.1f GiB", (double)mib / 1024.0);
	else
		snprintf(buf, size, "%" PRIu64 " MiB", mib);
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
	ng = sort_unique(ids, p->ncells);
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
		g[k].nvcpus = sort_unique(g[k].vcpus, g[k].nvcpus);
		g[k].ncpus = sort_unique(g[k].cpus, g[k].ncpus);
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
