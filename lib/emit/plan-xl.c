/*
 * plan-xl.c - a plan as xl.cfg(5) lines: vcpus=, memory=, cpus= (hard
 * affinity) or cpus_soft= (soft affinity), and vnuma= for a guest with
 * NUMA cells.
 *
 * Mapping: cpus=/cpus_soft= take one CPU list per vCPU (["16", "17",
 * "8-15"], element i for vCPU i), or one string when every vCPU has the
 * same list.  vnuma= has one [ "pnode=N", "size=MiB", "vcpus=LIST",
 * "vdistances=..." ] per guest cell, with the host distances between the
 * chosen nodes as virtual distances (libxl allocates each virtual node's
 * memory on its pnode).  Without vnuma= libxl puts the memory on the nodes
 * of the vCPUs' affinity, so a plan whose vCPU and memory nodes differ is
 * refused, as is interleaved memory (xl has no way to ask for it).  xl has
 * no memory policy of its own, no emulator thread pinning for HVM and no
 * per-guest huge pages: where the plan asks for those, a '#' comment says
 * what xl does instead (it never puts memory or vCPUs elsewhere).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit/plan-emit.h"

/* The CPU list vCPU V may use, malloc'ed. */
static char *vcpu_list(const np_plan *p, const struct np__vcpu *v)
{
	const struct np_plan_cell *c = &p->cells[v->cell];

	if (v->pcpu < 0 && c->ncpuset == 0)
		return strdup("all"); /* a floating vCPU the plan does not restrict */
	return v->pcpu >= 0 ? np__cpulist(&v->pcpu, 1) : np__cpulist(c->cpuset, c->ncpuset);
}

static bool same_lists(const np_plan *p, const struct np__vcpu *map, int n)
{
	for (int v = 1; v < n; v++) {
		if (map[v].pcpu != map[0].pcpu)
			return false;
		if (map[v].pcpu < 0 && map[v].cell != map[0].cell) {
			const struct np_plan_cell *a = &p->cells[map[0].cell],
						  *b = &p->cells[map[v].cell];

			if (a->ncpuset != b->ncpuset ||
			    memcmp(a->cpuset, b->cpuset, (size_t)a->ncpuset * sizeof(int)) != 0)
				return false;
		}
	}
	return true;
}

static int put_cpus(const np_plan *p, const struct np__vcpu *map, int n, FILE *out)
{
	const char *key = p->affinity == NP_AFFINITY_SOFT ? "cpus_soft" : "cpus";
	bool one = same_lists(p, map, n);

	fprintf(out, "%s=%s", key, one ? "" : "[");
	for (int v = 0; v < (one ? 1 : n); v++) {
		char *s = vcpu_list(p, &map[v]);

		if (!s)
			return NP_ENOMEM;
		fprintf(out, "%s\"%s\"", v ? ", " : "", s);
		free(s);
	}
	fputs(one ? "\n" : "]\n", out);
	return 0;
}

static uint32_t vdistance(const np_topo *t, const struct np__gcell *a, const struct np__gcell *b)
{
	uint32_t d;

	if (a == b)
		return 10;
	d = np_topo_distance(t, a->nodes[0], b->nodes[0]);
	return d == NP_DISTANCE_UNREACHABLE ? 255 : d;
}

static int put_vnuma(const np_topo *t, const struct np__gcell *g, int ng, FILE *out)
{
	fputs("vnuma=[ ", out);
	for (int k = 0; k < ng; k++) {
		char *v = np__cpulist(g[k].vcpus, g[k].nvcpus);

		if (!v)
			return NP_ENOMEM;
		fprintf(out, "%s[ \"pnode=%d\", \"size=%" PRIu64 "\", \"vcpus=%s\", \"vdistances=",
			k ? ",\n       " : "", np_topo_node(t, g[k].nodes[0])->os_id,
			g[k].memory_mb, v);
		free(v);
		for (int j = 0; j < ng; j++)
			fprintf(out, "%s%" PRIu32, j ? "," : "", vdistance(t, &g[k], &g[j]));
		fputs("\" ]", out);
	}
	fputs(" ]\n", out);
	return 0;
}

static void put_notes(const np_plan *p, const np_host *host, bool vnuma, FILE *out)
{
	bool reserved = false, huge = false;

	for (int i = 0; i < p->ncells; i++) {
		reserved |= p->cells[i].nreserved > 0;
		huge |= np__plan_cell_huge(host, &p->cells[i]);
	}
	fputs("# numaplace plan\n", out);
	if (p->mem_policy != NP_MEM_POLICY_STRICT || !vnuma)
		fprintf(out, "# memory %s: xl places memory on the nodes of the vCPUs' %s "
			"affinity%s\n",
			p->mem_policy == NP_MEM_POLICY_PREFERRED ? "preferred" : "strict",
			p->affinity == NP_AFFINITY_SOFT ? "soft" : "hard",
			vnuma ? " and each vnuma pnode" : "");
	if (reserved)
		fputs("# emulator threads: xl.cfg cannot pin them; the plan keeps CPUs free "
		      "for them\n", out);
	if (huge)
		fputs("# huge pages: xl backs guest memory with superpages when it can; "
		      "it cannot be asked for a page size\n", out);
}

/*
 * Without vnuma= libxl gives the guest's memory the node affinity of its
 * vCPUs (hard, or soft when only that is set): the nodes of the CPUs they
 * may run on.  The plan can be carried out only when those are exactly
 * its memory nodes; a vCPU without a list ("all") makes them every node.
 */
static int check_affinity_nodes(const np_plan *p, const np_topo *t, const struct np__vcpu *map,
				int n, struct np_error *err)
{
	int nn = np_topo_node_count(t);
	bool *on = np__calloc((size_t)nn + 1, sizeof(bool)), same = true;

	if (!on)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int v = 0; v < n; v++) {
		const struct np_plan_cell *c = &p->cells[map[v].cell];
		int ncpu = map[v].pcpu >= 0 ? 1 : c->ncpuset;

		for (int i = 0; i < ncpu; i++) {
			int cpu = map[v].pcpu >= 0 ? map[v].pcpu : c->cpuset[i];
			int ci = np_topo_cpu_index(t, cpu);

			if (ci >= 0 && np_topo_cpu(t, ci)->node_idx >= 0)
				on[np_topo_cpu(t, ci)->node_idx] = true;
		}
		if (ncpu == 0)
			memset(on, 1, (size_t)nn * sizeof(bool));
	}
	for (int j = 0, k = 0; j < nn; j++) {
		bool want = k < p->nnodeset && p->nodeset[k] == j;

		k += want;
		same &= want == on[j];
	}
	free(on);
	if (!same)
		return np__err(err, NP_EINPUT,
			       "cannot write xl.cfg lines: xl puts the memory of a guest without "
			       "vnuma on the nodes its vCPUs may run on, and this plan's vCPU and "
			       "memory nodes differ");
	return 0;
}

/* vnuma= only when the guest asked for NUMA cells and each sits on one node. */
static bool want_vnuma(const np_request *req, const struct np__gcell *g, int ng)
{
	if (req && !np_request_has_numa(req))
		return false;
	for (int k = 0; k < ng; k++)
		if (g[k].nnodes != 1)
			return false;
	return ng > 0;
}

int np__plan_write_xl(const np_plan *p, const np_host *host, const np_request *req, FILE *out,
		      struct np_error *err)
{
	struct np__gcell *g = NULL;
	struct np__vcpu *map = NULL;
	int ng = 0, n = 0, rc;
	uint64_t mem = 0;
	bool vnuma;

	if (!p->fits)
		return np__err(err, NP_EINPUT, "cannot write xl.cfg lines: the plan does not fit");
	if (p->mem_policy == NP_MEM_POLICY_INTERLEAVE)
		return np__err(err, NP_EINPUT,
			       "cannot write xl.cfg lines: xl cannot interleave a guest's memory "
			       "(use --mem-policy strict, or --format libvirt or numactl)");
	rc = np__plan_vcpus(p, &map, &n, err);
	if (rc)
		return rc;
	rc = np__plan_gcells(p, &g, &ng);
	if (rc)
		goto out;
	vnuma = want_vnuma(req, g, ng);
	if (!vnuma && (rc = check_affinity_nodes(p, np_host_topo(host), map, n, err)))
		goto out;
	for (int k = 0; k < ng; k++)
		mem += g[k].memory_mb;
	put_notes(p, host, vnuma, out);
	fprintf(out, "vcpus=%d\nmemory=%" PRIu64 "\n", n, mem);
	rc = put_cpus(p, map, n, out);
	if (!rc && vnuma)
		rc = put_vnuma(np_host_topo(host), g, ng, out);
out:
	np__plan_gcells_free(g, ng);
	free(map);
	if (rc == NP_ENOMEM)
		return np__err(err, rc, "out of memory");
	return ferror(out) ? NP_EOS : rc;
}
