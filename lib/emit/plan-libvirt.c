/*
 * plan-libvirt.c - a plan as libvirt domain XML pieces: <vcpu>, <cputune>
 * (vcpupin, emulatorpin), <numatune> (memory, memnode), <cpu><numa> cells
 * with distances, and <memoryBacking> huge pages.  They are children of
 * <domain>, indented for pasting there; libvirt accepts them in any order.
 *
 * Mapping (libvirt's domain format, formatdomain.html):
 * - pinned vCPU: vcpupin to its CPU; floating vCPU: vcpupin to its plan
 *   cell's cpuset (both hard affinity).  libvirt has no soft affinity for
 *   vCPUs, so with soft affinity no vcpupin is written and a comment says
 *   so: the guest's memory placement and NUMA cells still steer the host
 *   scheduler, and `xl` (cpus_soft=) can carry soft affinity.
 * - emulatorpin: the CPUs reserved for emulator threads (emulator policy
 *   isolate), else, with hard affinity, every CPU the vCPUs may use.
 * - numatune: memnode per guest cell on its node(s) with the plan's mode.
 *   The domain-wide <memory> gets the whole nodeset, except for
 *   "preferred", which libvirt's QEMU driver allows on one node only: there
 *   it is the first guest cell's node (each memnode still names its own
 *   node), and the kernel falls back by distance, which is the plan's
 *   fallback order.  A guest without NUMA cells has no memnodes, so
 *   "preferred" over several nodes cannot be said: refused.
 * - A guest without NUMA topology spread over several nodes has every
 *   vCPU pinned to the CPUs of all of them, so vCPUs, emulator and memory
 *   share one node set.
 * - <cpu><numa>: one cell per guest cell (only when the guest asked for a
 *   NUMA topology), sibling distances = the host distances between the
 *   chosen nodes, made to fit libvirt's rules (10 only to itself, 11-255).
 * - huge pages: one <page> per page size bigger than the node's small
 *   page, with the guest cells (libvirt's nodeset is guest cells) using it.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "emit/plan-emit.h"

struct lv {
	const np_plan *p;
	const np_host *host;
	const np_topo *topo;
	struct np__gcell *g;
	int ng;
	bool numa; /* write guest NUMA cells (and memnodes) */
	struct np__vcpu *vcpus;
	int nvcpus;
	FILE *out;
};

/* Write " NAME='cpulist'" of IDS. */
static int put_list_attr(FILE *out, const char *name, const int *ids, int n)
{
	char *s = np__cpulist(ids, n);

	if (!s)
		return NP_ENOMEM;
	fprintf(out, " %s='%s'", name, s);
	free(s);
	return 0;
}

static const char *mode_name(enum np_mem_policy m)
{
	return m == NP_MEM_POLICY_PREFERRED ? "preferred"
	       : m == NP_MEM_POLICY_INTERLEAVE ? "interleave" : "strict";
}

/* Every CPU a vCPU of the plan may use. */
static int all_cpus(const struct lv *l, int **out, int *n)
{
	int total = 0;

	for (int k = 0; k < l->ng; k++)
		total += l->g[k].ncpus;
	*out = np__calloc((size_t)total, sizeof(int));
	if (!*out)
		return NP_ENOMEM;
	*n = 0;
	for (int k = 0; k < l->ng; k++)
		for (int i = 0; i < l->g[k].ncpus; i++)
			(*out)[(*n)++] = l->g[k].cpus[i];
	return 0;
}

static int put_emulatorpin(const struct lv *l)
{
	int *cpus = NULL, n = 0, rc = 0;

	for (int i = 0; i < l->p->ncells; i++)
		n += l->p->cells[i].nreserved;
	if (n > 0) {
		cpus = np__calloc((size_t)n, sizeof(int));
		n = 0;
		for (int i = 0; cpus && i < l->p->ncells; i++)
			for (int k = 0; k < l->p->cells[i].nreserved; k++)
				cpus[n++] = l->p->cells[i].reserved[k];
		rc = cpus ? 0 : NP_ENOMEM;
	} else if (l->p->affinity == NP_AFFINITY_HARD) {
		rc = all_cpus(l, &cpus, &n);
	}
	if (rc || n == 0)
		goto out;
	fputs("    <emulatorpin", l->out);
	rc = put_list_attr(l->out, "cpuset", cpus, n);
	fputs("/>\n", l->out);
out:
	free(cpus);
	return rc;
}

static int put_cputune(const struct lv *l)
{
	int rc = 0;

	fprintf(l->out, "  <vcpu placement='static'>%d</vcpu>\n", l->nvcpus);
	fputs("  <cputune>\n", l->out);
	if (l->p->affinity == NP_AFFINITY_SOFT)
		fputs("    <!-- soft affinity: libvirt has no soft vCPU affinity, so no vcpupin; "
		      "the host scheduler follows the memory placement below -->\n",
		      l->out);
	for (int v = 0; v < l->nvcpus && !rc && l->p->affinity == NP_AFFINITY_HARD; v++) {
		const struct np_plan_cell *c = &l->p->cells[l->vcpus[v].cell];

		if (l->vcpus[v].pcpu < 0 && c->ncpuset == 0)
			continue; /* a floating vCPU the plan does not restrict */
		fprintf(l->out, "    <vcpupin vcpu='%d'", v);
		if (l->vcpus[v].pcpu >= 0)
			fprintf(l->out, " cpuset='%d'", l->vcpus[v].pcpu);
		else
			rc = put_list_attr(l->out, "cpuset", c->cpuset, c->ncpuset);
		fputs("/>\n", l->out);
	}
	if (!rc)
		rc = put_emulatorpin(l);
	fputs("  </cputune>\n", l->out);
	return rc;
}

/* Kernel ids of node indexes. */
static int *os_ids(const struct lv *l, const int *idx, int n)
{
	int *ids = np__calloc((size_t)n, sizeof(int));

	for (int i = 0; ids && i < n; i++)
		ids[i] = np_topo_node(l->topo, idx[i])->os_id;
	return ids;
}

static int put_nodeset(const struct lv *l, const int *idx, int n)
{
	int *ids = os_ids(l, idx, n);
	int rc = ids ? put_list_attr(l->out, "nodeset", ids, n) : NP_ENOMEM;

	free(ids);
	return rc;
}

static int put_numatune(const struct lv *l)
{
	const char *mode = mode_name(l->p->mem_policy);
	bool one = l->p->mem_policy == NP_MEM_POLICY_PREFERRED && l->ng > 0;
	int rc;

	fputs("  <numatune>\n", l->out);
	if (one && l->p->nnodeset > 1)
		fputs("    <!-- preferred: libvirt takes one node; the kernel falls back "
		      "by distance -->\n",
		      l->out);
	fprintf(l->out, "    <memory mode='%s'", mode);
	rc = one ? put_nodeset(l, l->g[0].nodes, 1)
		 : put_nodeset(l, l->p->nodeset, l->p->nnodeset);
	fputs("/>\n", l->out);
	for (int k = 0; k < l->ng && !rc && l->numa; k++) {
		fprintf(l->out, "    <memnode cellid='%d' mode='%s'", k, mode);
		rc = put_nodeset(l, l->g[k].nodes, l->g[k].nnodes);
		fputs("/>\n", l->out);
	}
	fputs("  </numatune>\n", l->out);
	return rc;
}

/* libvirt: 10 only to itself, other values 11..254, 255 unreachable. */
static unsigned sibling_value(const struct lv *l, int a, int b)
{
	uint32_t d;

	if (a == b)
		return 10;
	d = np_topo_distance(l->topo, l->g[a].nodes[0], l->g[b].nodes[0]);
	if (d == NP_DISTANCE_UNREACHABLE || d > 255)
		return 255;
	return d <= 10 ? 11 : (unsigned)d;
}

static int put_numa_cells(const struct lv *l)
{
	int rc = 0;

	fputs("  <cpu>\n    <numa>\n", l->out);
	for (int k = 0; k < l->ng && !rc; k++) {
		fprintf(l->out, "      <cell id='%d'", k);
		if (l->g[k].nvcpus > 0)
			rc = put_list_attr(l->out, "cpus", l->g[k].vcpus, l->g[k].nvcpus);
		fprintf(l->out, " memory='%" PRIu64 "' unit='KiB'>\n        <distances>\n",
			l->g[k].memory_mb * 1024);
		for (int j = 0; j < l->ng; j++)
			fprintf(l->out, "          <sibling id='%d' value='%u'/>\n", j,
				sibling_value(l, k, j));
		fputs("        </distances>\n      </cell>\n", l->out);
	}
	fputs("    </numa>\n  </cpu>\n", l->out);
	return rc;
}

/* Guest cell K's memory is on pages bigger than its node's small page. */
static bool huge(const struct lv *l, int k)
{
	for (int i = 0; i < l->p->ncells; i++)
		if (l->p->cells[i].guest_cell == l->g[k].id)
			return np__plan_cell_huge(l->host, &l->p->cells[i]);
	return false;
}

/* One <page> for the guest cells backed by SIZE; MARK their use. */
static int put_page(const struct lv *l, uint64_t size, bool *done)
{
	int *cells = np__calloc((size_t)l->ng, sizeof(int)), n = 0, rc = 0;

	if (!cells)
		return NP_ENOMEM;
	for (int k = 0; k < l->ng; k++)
		if (!done[k] && huge(l, k) && l->g[k].pagesize_kb == size) {
			cells[n++] = k;
			done[k] = true;
		}
	fprintf(l->out, "      <page size='%" PRIu64 "' unit='KiB'", size);
	if (l->numa)
		rc = put_list_attr(l->out, "nodeset", cells, n);
	fputs("/>\n", l->out);
	free(cells);
	return rc;
}

static int put_hugepages(const struct lv *l)
{
	bool *done = np__calloc((size_t)l->ng, sizeof(bool)), any = false;
	int rc = done ? 0 : NP_ENOMEM;

	for (int k = 0; k < l->ng && !rc; k++) {
		if (done[k] || !huge(l, k))
			continue;
		if (!any)
			fputs("  <memoryBacking>\n    <hugepages>\n", l->out);
		any = true;
		rc = put_page(l, l->g[k].pagesize_kb, done);
		if (!l->numa)
			break; /* without guest cells libvirt takes one page size */
	}
	if (any)
		fputs("    </hugepages>\n  </memoryBacking>\n", l->out);
	free(done);
	return rc;
}

/* Guest cells only when the guest asked for them and each sits on one node. */
static bool want_numa(const struct lv *l, const np_request *req)
{
	if (req && !np_request_has_numa(req))
		return false;
	for (int k = 0; k < l->ng; k++)
		if (l->g[k].nnodes != 1)
			return false;
	return l->ng > 0;
}

int np__plan_write_libvirt(const np_plan *p, const np_host *host, const np_request *req,
			   FILE *out, struct np_error *err)
{
	struct lv l = { .p = p, .host = host, .topo = np_host_topo(host), .out = out };
	int rc;

	if (!p->fits)
		return np__err(err, NP_EINPUT, "cannot write libvirt XML: the plan does not fit");
	rc = np__plan_vcpus(p, &l.vcpus, &l.nvcpus, err);
	if (rc)
		return rc;
	rc = np__plan_gcells(p, &l.g, &l.ng);
	if (rc)
		goto out;
	l.numa = want_numa(&l, req);
	if (!l.numa && p->mem_policy == NP_MEM_POLICY_PREFERRED && p->nnodeset > 1) {
		rc = np__err(err, NP_EINPUT,
			     "cannot write libvirt XML: libvirt's memory mode 'preferred' takes one "
			     "node, and this guest without NUMA cells prefers %d (use --mem-policy "
			     "strict or interleave, or --format numactl)",
			     p->nnodeset);
		goto out;
	}
	fputs("  <!-- numaplace plan -->\n", out);
	rc = put_cputune(&l);
	if (!rc)
		rc = put_numatune(&l);
	if (!rc && l.numa)
		rc = put_numa_cells(&l);
	if (!rc)
		rc = put_hugepages(&l);
out:
	np__plan_gcells_free(l.g, l.ng);
	free(l.vcpus);
	if (rc == NP_ENOMEM)
		return np__err(err, rc, "out of memory");
	return ferror(out) ? NP_EOS : rc;
}
