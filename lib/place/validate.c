/*
 * validate.c - np_plan_validate(): re-check a plan against the host it was
 * made for (before it is charged) and the request, from scratch.
 *
 * Independent on purpose: nothing here is shared with the search
 * (cellfit.c, engine*.c); every rule is re-derived from the request, the
 * host's public view and the plan, in the plainest way, so that a bug in
 * the engine cannot hide behind the same bug here.  Tests run it on every
 * plan they make.
 *
 * Checks, in order: structure (every guest cell placed once, or split
 * over distinct nodes when the guest has no NUMA topology; pnode=
 * respected; distinct nodes across guest cells); vCPUs (floating and
 * pinned sets covered exactly); memory (sums, page size kind, whole
 * pages, self over-commit); CPUs (pins, emulator and blocked CPUs
 * dedicated, free, never twice; floating cpuset within shared CPUs);
 * thread and emulator policies; per node totals (free huge pages, pinned
 * memory without over-commit, ratios for floating guests, with memory
 * basis free the free memory the node reports); PCI (counts,
 * free devices, affinity policy, strictest level first); memory policy
 * node set and fallback order; the score's distance and device terms.
 */
#include "plan/plan-int.h"

#include <stdlib.h>
#include <string.h>

struct vc {
	const np_host *h;
	const np_request *r;
	const np_plan *p;
	const np_topo *t;
	int n, k;
	struct np_error *err;
};

static bool member(const int *set, int n, int x)
{
	for (int i = 0; i < n; i++)
		if (set[i] == x)
			return true;
	return false;
}

static bool pinned_policy(const struct vc *v)
{
	enum np_cpu_policy p = np_request_cpu_policy(v->r);

	return p == NP_CPU_POLICY_DEDICATED || p == NP_CPU_POLICY_MIXED;
}

static int os(const struct vc *v, int j)
{
	return np_topo_node(v->t, j)->os_id;
}

/* ---- structure ------------------------------------------------------- */

static int check_cell_refs(struct vc *v)
{
	for (int c = 0; c < v->p->ncells; c++) {
		const struct np_plan_cell *pc = &v->p->cells[c];
		int pn;

		if (pc->guest_cell < 0 || pc->guest_cell >= v->k)
			return np__err(v->err, NP_EINPUT, "plan cell %d names guest cell %d of %d",
				       c, pc->guest_cell, v->k);
		if (pc->memory_mb > NP_MEMORY_MB_MAX)
			return np__err(v->err, NP_EINPUT, "plan cell %d: %llu MiB is implausible",
				       c, (unsigned long long)pc->memory_mb);
		if (pc->node_idx < 0 || pc->node_idx >= v->n)
			return np__err(v->err, NP_EINPUT, "plan cell %d names node index %d of %d",
				       c, pc->node_idx, v->n);
		pn = np_request_cell_pinned_node(v->r, pc->guest_cell);
		if (pn >= 0 && os(v, pc->node_idx) != pn)
			return np__err(v->err, NP_EINPUT,
				       "guest cell %d is on node %d, not its pnode %d",
				       pc->guest_cell, os(v, pc->node_idx), pn);
	}
	return 0;
}

static int count_cells(const struct vc *v, int g)
{
	int m = 0;

	for (int c = 0; c < v->p->ncells; c++)
		m += v->p->cells[c].guest_cell == g;
	return m;
}

/* Two plan cells on one node: only a split guest's? no; only cells pinned there. */
static int check_distinct(struct vc *v)
{
	for (int a = 0; a < v->p->ncells; a++)
		for (int b = 0; b < a; b++) {
			const struct np_plan_cell *x = &v->p->cells[a], *y = &v->p->cells[b];
			int pn = np_request_cell_pinned_node(v->r, x->guest_cell);

			if (x->node_idx != y->node_idx)
				continue;
			if (x->guest_cell == y->guest_cell)
				return np__err(v->err, NP_EINPUT,
					       "guest cell %d is twice on node %d", x->guest_cell,
					       os(v, x->node_idx));
			if (pn < 0 || pn != np_request_cell_pinned_node(v->r, y->guest_cell))
				return np__err(v->err, NP_EINPUT,
					       "guest cells %d and %d share node %d", y->guest_cell,
					       x->guest_cell, os(v, x->node_idx));
		}
	return 0;
}

static int check_structure(struct vc *v)
{
	bool split = !np_request_has_numa(v->r) && v->k == 1;
	int rc;

	if (v->p->ncells < 1)
		return np__err(v->err, NP_EINPUT, "the plan fits but places no cell");
	if ((rc = check_cell_refs(v)))
		return rc;
	for (int g = 0; g < v->k; g++) {
		int m = count_cells(v, g);

		if (m == 0 || (m > 1 && !split))
			return np__err(v->err, NP_EINPUT, "guest cell %d is placed %d times", g, m);
	}
	return check_distinct(v);
}

/* ---- vCPUs and memory per guest cell --------------------------------------- */

/* Every id of WANT exactly once over the plan cells' lists. */
static int cover(struct vc *v, int g, const int *want, int nwant, bool pins)
{
	int seen = 0;

	for (int c = 0; c < v->p->ncells; c++) {
		const struct np_plan_cell *pc = &v->p->cells[c];
		int m = pins ? pc->npins : pc->nfloat;

		if (pc->guest_cell != g)
			continue;
		for (int i = 0; i < m; i++) {
			int id = pins ? pc->pins[i].vcpu : pc->float_vcpus[i];

			if (!member(want, nwant, id))
				return np__err(v->err, NP_EINPUT,
					       "guest cell %d: vCPU %d is not %s in it", g, id,
					       pins ? "pinned" : "floating");
			if (pins && i > 0 && pc->pins[i - 1].vcpu >= id)
				return np__err(v->err, NP_EINPUT,
					       "guest cell %d: pins not sorted by vCPU", g);
			seen++;
		}
	}
	if (seen != nwant)
		return np__err(v->err, NP_EINPUT, "guest cell %d: %d %s vCPUs placed, %d asked", g,
			       seen, pins ? "pinned" : "floating", nwant);
	return 0;
}

static int check_guest_cell(struct vc *v, int g)
{
	const struct np_guest_cell *gc = np_request_cell(v->r, g);
	uint64_t mem = 0;
	int rc;

	if ((rc = cover(v, g, gc->vcpus, gc->nvcpus, false)) ||
	    (rc = cover(v, g, gc->pcpus, gc->npcpus, true)))
		return rc;
	for (int c = 0; c < v->p->ncells; c++)
		if (v->p->cells[c].guest_cell == g)
			mem += v->p->cells[c].memory_mb;
	if (mem != gc->memory_mb)
		return np__err(v->err, NP_EINPUT, "guest cell %d: %llu MiB placed, %llu asked", g,
			       (unsigned long long)mem, (unsigned long long)gc->memory_mb);
	return 0;
}

/* ---- one plan cell on its node -------------------------------------------- */

static const struct np_page_pool *pool_sized(const struct np_host_node *hn, uint64_t kb)
{
	for (int i = 0; i < hn->npools; i++)
		if (hn->pools[i].size_kb == kb)
			return &hn->pools[i];
	return NULL;
}

static uint64_t smallest_kb(const struct np_host_node *hn)
{
	uint64_t m = 0;

	for (int i = 0; i < hn->npools; i++)
		if (!m || hn->pools[i].size_kb < m)
			m = hn->pools[i].size_kb;
	return m;
}

/* The page size is of the kind asked, exists, and the memory is whole pages. */
static int check_pagesize(struct vc *v, const struct np_plan_cell *pc, long asked)
{
	const struct np_host_node *hn = np_host_node(v->h, pc->node_idx);
	uint64_t small = smallest_kb(hn), kb = pc->pagesize_kb;
	bool ok;

	if (asked == NP_PAGESIZE_UNSET || asked == NP_PAGESIZE_SMALL)
		ok = kb == (hn->npools ? small : 4) && (asked == NP_PAGESIZE_UNSET || hn->npools);
	else if (asked == NP_PAGESIZE_LARGE)
		ok = pool_sized(hn, kb) && kb != small;
	else if (asked == NP_PAGESIZE_ANY)
		ok = pool_sized(hn, kb) != NULL;
	else
		ok = kb == (uint64_t)asked && pool_sized(hn, kb);
	if (!ok)
		return np__err(v->err, NP_EINPUT,
			       "guest cell %d on node %d: page size %llu KiB is not "
			       "what was asked or not on the node",
			       pc->guest_cell, os(v, pc->node_idx), (unsigned long long)kb);
	if (hn->npools && kb && (pc->memory_mb * 1024) % kb)
		return np__err(
		    v->err, NP_EINPUT, "guest cell %d: %llu MiB is not whole %llu KiB pages",
		    pc->guest_cell, (unsigned long long)pc->memory_mb, (unsigned long long)kb);
	return 0;
}

/* A guest without NUMA topology spread over several nodes. */
static bool split(const struct vc *v)
{
	return !np_request_has_numa(v->r) && v->k == 1 && v->p->ncells > 1;
}

/*
 * The CPUs a floating vCPU of plan cell PC must be allowed: its node's
 * shared CPUs, or for a split guest those of every node of the plan (its
 * vCPUs float over all the nodes its memory is on).  Into OUT (sorted).
 */
static int want_cpuset(const struct vc *v, const struct np_plan_cell *pc, int *out)
{
	int n = 0;

	for (int c = 0; c < v->p->ncells; c++) {
		const struct np_plan_cell *x = &v->p->cells[c];
		const struct np_host_node *hn = np_host_node(v->h, x->node_idx);

		if (x != pc && !split(v))
			continue;
		for (int i = 0; i < hn->nshared; i++)
			if (!member(out, n, hn->shared[i]))
				out[n++] = hn->shared[i];
	}
	for (int a = 1; a < n; a++)
		for (int b = a; b > 0 && out[b] < out[b - 1]; b--) {
			int t = out[b];

			out[b] = out[b - 1];
			out[b - 1] = t;
		}
	return n;
}

/* Floating vCPUs may use exactly the CPUs want_cpuset() says, and no more vCPUs than those. */
static int check_cpuset(struct vc *v, const struct np_plan_cell *pc)
{
	int *want, n, floats = 0, rc = 0;

	if (!pc->nfloat)
		return 0;
	want = np__calloc((size_t)np_topo_cpu_count(v->t) + 1, sizeof(int));
	if (!want)
		return np__err(v->err, NP_ENOMEM, "out of memory");
	n = want_cpuset(v, pc, want);
	for (int c = 0; c < v->p->ncells; c++)
		floats += split(v) || &v->p->cells[c] == pc ? v->p->cells[c].nfloat : 0;
	if (pc->ncpuset != n || memcmp(pc->cpuset, want, (size_t)n * sizeof(int)))
		rc = np__err(v->err, NP_EINPUT,
			     "guest cell %d on node %d: the floating vCPUs' cpuset is not the "
			     "shared CPUs of %s",
			     pc->guest_cell, os(v, pc->node_idx),
			     split(v) ? "every node of the guest (vCPU and memory nodes differ)"
				      : "its node");
	else if (floats > n)
		rc = np__err(v->err, NP_EINPUT, "guest cell %d: %d floating vCPUs on %d shared CPUs",
			     pc->guest_cell, floats, n);
	free(want);
	return rc;
}

/* No guest cell over-commits against itself (Nova's per-cell limits). */
static int check_self(struct vc *v, const struct np_plan_cell *pc, long asked)
{
	const struct np_host_node *hn = np_host_node(v->h, pc->node_idx);
	const struct np_page_pool *sp = pool_sized(hn, smallest_kb(hn));
	uint64_t cap =
	    asked == NP_PAGESIZE_UNSET && sp ? sp->total * sp->size_kb / 1024 : hn->memory_mb;
	int rc;

	if (pc->memory_mb > cap)
		return np__err(v->err, NP_EINPUT, "guest cell %d: %llu MiB on node %d of %llu MiB",
			       pc->guest_cell, (unsigned long long)pc->memory_mb,
			       os(v, pc->node_idx), (unsigned long long)cap);
	if (pc->nfloat && !pc->ncpuset)
		return np__err(v->err, NP_EINPUT, "guest cell %d: floating vCPUs without a cpuset",
			       pc->guest_cell);
	if ((rc = check_cpuset(v, pc)))
		return rc;
	if (pc->npins + pc->nreserved > hn->ndedicated)
		return np__err(v->err, NP_EINPUT, "guest cell %d: %d pCPUs on %d dedicated CPUs",
			       pc->guest_cell, pc->npins + pc->nreserved, hn->ndedicated);
	return 0;
}

/* A CPU the plan takes: dedicated on the node and not pinned yet. */
static int check_taken(struct vc *v, const struct np_plan_cell *pc, int cpu, const char *what)
{
	const struct np_host_node *hn = np_host_node(v->h, pc->node_idx);

	if (!member(hn->dedicated, hn->ndedicated, cpu))
		return np__err(v->err, NP_EINPUT,
			       "guest cell %d: %s CPU %d is not dedicated on "
			       "node %d",
			       pc->guest_cell, what, cpu, os(v, pc->node_idx));
	if (member(hn->pinned, hn->npinned, cpu))
		return np__err(v->err, NP_EINPUT, "guest cell %d: %s CPU %d is already pinned",
			       pc->guest_cell, what, cpu);
	return 0;
}

static int check_cpus(struct vc *v, const struct np_plan_cell *pc)
{
	int rc;

	for (int i = 0; i < pc->npins; i++)
		if ((rc = check_taken(v, pc, pc->pins[i].pcpu, "pinned")))
			return rc;
	for (int i = 0; i < pc->nreserved; i++)
		if ((rc = check_taken(v, pc, pc->reserved[i], "emulator")))
			return rc;
	for (int i = 0; i < pc->nblocked; i++)
		if ((rc = check_taken(v, pc, pc->blocked[i], "blocked")))
			return rc;
	return 0;
}

/* ---- thread and emulator policies ------------------------------------------ */

/* The sibling group (index) holding CPU on node J, or -1. */
static int group_of(const struct np_host_node *hn, int cpu)
{
	for (int g = 0; g < hn->nsiblings; g++)
		for (const int *s = hn->siblings[g]; *s >= 0; s++)
			if (*s == cpu)
				return g;
	return -1;
}

static int group_size(const struct np_host_node *hn, int g)
{
	int m = 0;

	for (const int *s = hn->siblings[g]; *s >= 0; s++)
		m++;
	return m;
}

static int max_group(const struct np_host_node *hn)
{
	int m = 1;

	for (int g = 0; g < hn->nsiblings; g++)
		m = group_size(hn, g) > m ? group_size(hn, g) : m;
	return m;
}

static bool pin_cpu(const struct np_plan_cell *pc, int cpu)
{
	for (int i = 0; i < pc->npins; i++)
		if (pc->pins[i].pcpu == cpu)
			return true;
	return false;
}

/* isolate: one pin per whole core, the rest of each used core blocked. */
static int check_isolate(struct vc *v, const struct np_plan_cell *pc)
{
	const struct np_host_node *hn = np_host_node(v->h, pc->node_idx);
	int tpc = max_group(hn);
	bool same =
	    hn->nshared == hn->ndedicated &&
	    (!hn->nshared || !memcmp(hn->shared, hn->dedicated, (size_t)hn->nshared * sizeof(int)));

	if (tpc > 1 && !same && pc->npins)
		return np__err(v->err, NP_EINPUT,
			       "guest cell %d: isolate on SMT node %d with separate "
			       "shared and dedicated CPUs",
			       pc->guest_cell, os(v, pc->node_idx));
	for (int i = 0; i < pc->npins; i++) {
		int g = group_of(hn, pc->pins[i].pcpu);

		if (g < 0 || group_size(hn, g) != tpc)
			return np__err(v->err, NP_EINPUT,
				       "guest cell %d: isolate pin %d is not on a "
				       "whole core",
				       pc->guest_cell, pc->pins[i].pcpu);
		for (const int *s = hn->siblings[g]; *s >= 0; s++) {
			if (*s != pc->pins[i].pcpu && pin_cpu(pc, *s))
				return np__err(v->err, NP_EINPUT,
					       "guest cell %d: isolate pins %d and %d "
					       "are siblings",
					       pc->guest_cell, pc->pins[i].pcpu, *s);
			if (*s != pc->pins[i].pcpu && !member(pc->blocked, pc->nblocked, *s))
				return np__err(v->err, NP_EINPUT,
					       "guest cell %d: isolate leaves sibling "
					       "%d of pin %d unblocked",
					       pc->guest_cell, *s, pc->pins[i].pcpu);
		}
	}
	return 0;
}

/* require: SMT on the node and the pins packed two or more per core. */
static int check_require(struct vc *v, const struct np_plan_cell *pc)
{
	const struct np_host_node *hn = np_host_node(v->h, pc->node_idx);
	int *groups = np__calloc((size_t)pc->npins + 1, sizeof(int)), m = 0;

	if (!groups)
		return np__err(v->err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < pc->npins; i++) {
		int g = group_of(hn, pc->pins[i].pcpu);

		if (!member(groups, m, g))
			groups[m++] = g;
	}
	free(groups);
	if (pc->npins && (max_group(hn) < 2 || m > (pc->npins + 1) / 2))
		return np__err(v->err, NP_EINPUT,
			       "guest cell %d: require wants SMT siblings, the pins "
			       "use %d cores for %d vCPUs",
			       pc->guest_cell, m, pc->npins);
	return 0;
}

static int check_threads(struct vc *v, const struct np_plan_cell *pc)
{
	enum np_thread_policy tp = np_request_thread_policy(v->r);

	if (tp != NP_THREAD_POLICY_ISOLATE && pc->nblocked)
		return np__err(v->err, NP_EINPUT, "guest cell %d: blocked CPUs without isolate",
			       pc->guest_cell);
	if (tp == NP_THREAD_POLICY_ISOLATE)
		return check_isolate(v, pc);
	if (tp == NP_THREAD_POLICY_REQUIRE)
		return check_require(v, pc);
	return 0;
}

static int check_emulator(struct vc *v)
{
	bool iso =
	    np_request_emulator_policy(v->r) == NP_EMULATOR_POLICY_ISOLATE && pinned_policy(v);
	int total = 0;

	for (int c = 0; c < v->p->ncells; c++) {
		const struct np_plan_cell *pc = &v->p->cells[c];

		total += pc->nreserved;
		if (pc->nreserved && pc->guest_cell != 0)
			return np__err(v->err, NP_EINPUT, "emulator CPU on guest cell %d, not 0",
				       pc->guest_cell);
	}
	if (total != (iso ? 1 : 0))
		return np__err(v->err, NP_EINPUT, "%d emulator CPUs reserved, %d asked", total,
			       iso);
	return 0;
}

/* No CPU taken twice by the plan on one node. */
static int check_no_double(struct vc *v)
{
	int m = 0, *all, rc = 0;

	for (int c = 0; c < v->p->ncells; c++)
		m += v->p->cells[c].npins + v->p->cells[c].nreserved + v->p->cells[c].nblocked;
	all = np__calloc((size_t)m * 2 + 2, sizeof(int));
	if (!all)
		return np__err(v->err, NP_ENOMEM, "out of memory");
	m = 0;
	for (int c = 0; c < v->p->ncells; c++) {
		const struct np_plan_cell *pc = &v->p->cells[c];

		for (int i = 0; i < pc->npins + pc->nreserved + pc->nblocked; i++) {
			all[2 * m] = pc->node_idx;
			all[2 * m + 1] = i < pc->npins ? pc->pins[i].pcpu
					 : i < pc->npins + pc->nreserved
					     ? pc->reserved[i - pc->npins]
					     : pc->blocked[i - pc->npins - pc->nreserved];
			m++;
		}
	}
	for (int a = 0; a < m && !rc; a++)
		for (int b = 0; b < a && !rc; b++)
			if (all[2 * a] == all[2 * b] && all[2 * a + 1] == all[2 * b + 1])
				rc = np__err(v->err, NP_EINPUT, "CPU %d is taken twice by the plan",
					     all[2 * a + 1]);
	free(all);
	return rc;
}

/* ---- per node totals ------------------------------------------------------- */

static int check_node_pages(struct vc *v, int j)
{
	const struct np_host_node *hn = np_host_node(v->h, j);

	for (int q = 0; q < hn->npools; q++) {
		const struct np_page_pool *pp = &hn->pools[q];
		uint64_t pages = 0, free_pages = pp->total - pp->used - pp->reserved;

		for (int c = 0; c < v->p->ncells; c++) {
			const struct np_plan_cell *pc = &v->p->cells[c];

			if (pc->node_idx == j && pc->pagesize_kb == pp->size_kb &&
			    np_request_cell(v->r, pc->guest_cell)->pagesize != NP_PAGESIZE_UNSET)
				pages += pc->memory_mb * 1024 / pp->size_kb;
		}
		if (pages > free_pages)
			return np__err(v->err, NP_EINPUT,
				       "node %d: %llu pages of %llu KiB taken, %llu "
				       "free",
				       os(v, j), (unsigned long long)pages,
				       (unsigned long long)pp->size_kb,
				       (unsigned long long)free_pages);
	}
	return 0;
}

static int check_node_totals(struct vc *v, int j)
{
	const struct np_host_node *hn = np_host_node(v->h, j);
	uint64_t mem = 0, small = 0;
	int floats = 0;
	double cr, rr;

	for (int c = 0; c < v->p->ncells; c++)
		if (v->p->cells[c].node_idx == j) {
			mem += v->p->cells[c].memory_mb;
			floats += v->p->cells[c].nfloat;
			small += v->p->cells[c].pagesize_kb > smallest_kb(hn) && hn->npools
				     ? 0
				     : v->p->cells[c].memory_mb;
		}
	if (!mem && !floats)
		return check_node_pages(v, j);
	if (np_host_memory_basis(v->h) == NP_MEMORY_BASIS_FREE && small > hn->memory_free_mb)
		return np__err(v->err, NP_EINPUT,
			       "node %d: %llu MiB in small pages, the node reports %llu MiB free "
			       "(memory basis free)",
			       os(v, j), (unsigned long long)small,
			       (unsigned long long)hn->memory_free_mb);
	if (pinned_policy(v) && hn->memory_used_mb + mem > hn->memory_mb)
		return np__err(v->err, NP_EINPUT,
			       "node %d: pinned guest memory over-committed: %llu + "
			       "%llu MiB of %llu",
			       os(v, j), (unsigned long long)hn->memory_used_mb,
			       (unsigned long long)mem, (unsigned long long)hn->memory_mb);
	/* A share of nothing charges nothing (a split guest's node it only floats over). */
	if (np_request_cpu_policy(v->r) != NP_CPU_POLICY_DEDICATED &&
	    np_host_limits(v->h, &cr, &rr)) {
		if (floats && (double)hn->cpu_usage + floats > (double)hn->nshared * cr)
			return np__err(v->err, NP_EINPUT,
				       "node %d: %u + %d floating vCPUs over %d "
				       "shared CPUs x %g",
				       os(v, j), hn->cpu_usage, floats, hn->nshared, cr);
		if (mem && (double)hn->memory_used_mb + (double)mem > (double)hn->memory_mb * rr)
			return np__err(
			    v->err, NP_EINPUT, "node %d: %llu + %llu MiB over %llu MiB x %g",
			    os(v, j), (unsigned long long)hn->memory_used_mb,
			    (unsigned long long)mem, (unsigned long long)hn->memory_mb, rr);
	}
	return check_node_pages(v, j);
}

/* ---- PCI ---------------------------------------------------------------- */

static bool on_plan(const struct vc *v, int j)
{
	for (int c = 0; c < v->p->ncells; c++)
		if (v->p->cells[c].node_idx == j)
			return true;
	return false;
}

/* May a device of pool P (off the plan's nodes) serve a request with policy POL? */
static bool off_node_allowed(const struct vc *v, const struct np_pci_pool *p,
			     enum np_pci_policy pol)
{
	if (!np_request_has_numa(v->r) && v->k == 1)
		return true; /* no guest NUMA: Nova takes any device */
	if (pol == NP_PCI_POLICY_PREFERRED)
		return true;
	if (pol == NP_PCI_POLICY_LEGACY)
		return p->node_idx < 0;
	if (pol != NP_PCI_POLICY_SOCKET || p->node_idx < 0)
		return false;
	for (int j = 0; j < v->n; j++)
		if (np_host_node(v->h, j)->socket < 0)
			return false;
	for (int c = 0; c < v->p->ncells; c++)
		if (np_host_node(v->h, v->p->cells[c].node_idx)->socket ==
		    np_host_node(v->h, p->node_idx)->socket)
			return true;
	return false;
}

/*
 * A kind of device: vendor, product, and for a device named by address
 * its node (-1: none), else ANY_NODE.  Asked for by address, a kind is
 * served only by the pool of that node.
 */
#define ANY_NODE (-2)

struct kind {
	unsigned vendor, product;
	int node;
};

/* The kind request Q asks for; false when it names a device the host lacks. */
static bool req_kind(const struct vc *v, const struct np_pci_request *q, struct kind *k)
{
	const struct np_device *d;

	*k = (struct kind){ q->vendor, q->product, ANY_NODE };
	if (!q->address[0])
		return true;
	d = np_topo_device(v->t, np_topo_device_find(v->t, q->address));
	if (d)
		*k = (struct kind){ d->vendor, d->device, d->node_idx };
	return d != NULL;
}

static bool same(const struct kind *a, const struct kind *b)
{
	return a->vendor == b->vendor && a->product == b->product && a->node == b->node;
}

static bool pool_of(const struct np_pci_pool *p, const struct kind *k)
{
	return p->vendor == k->vendor && p->product == k->product &&
	       (k->node == ANY_NODE || p->node_idx == k->node);
}

/* Does request R ask for kind K? */
static bool asks(const struct vc *v, int r, const struct kind *k)
{
	struct kind rk;

	return req_kind(v, np_request_pci(v->r, r), &rk) && same(&rk, k);
}

/* The devices of one kind: count, free, policy, nearest first. */
static int check_pci_kind(struct vc *v, const struct kind *k)
{
	int64_t asked = 0, got = 0, off = 0, on_free = 0, on_got = 0;

	for (int r = 0; r < np_request_pci_count(v->r); r++)
		asked += asks(v, r, k) ? np_request_pci(v->r, r)->count : 0;
	for (int i = 0; i < np_host_pci_pool_count(v->h); i++) {
		const struct np_pci_pool *p = np_host_pci_pool(v->h, i);
		int64_t take = 0;
		bool ok = false;

		if (!pool_of(p, k))
			continue;
		for (int e = 0; e < v->p->npci; e++)
			take += v->p->pci[e].pool == i ? v->p->pci[e].count : 0;
		got += take;
		if (p->node_idx >= 0 && on_plan(v, p->node_idx)) {
			on_free += p->count - p->used;
			on_got += take;
			continue;
		}
		off += take;
		for (int r = 0; r < np_request_pci_count(v->r) && take; r++)
			ok |= asks(v, r, k) &&
			      off_node_allowed(v, p, np_request_pci(v->r, r)->policy);
		if (take && !ok)
			return np__err(v->err, NP_EINPUT,
				       "PCI %04x:%04x: pool %d is off the guest's "
				       "nodes and its affinity policy forbids it",
				       k->vendor, k->product, i);
	}
	if (got != asked)
		return np__err(v->err, NP_EINPUT, "PCI %04x:%04x: %lld devices given, %lld asked",
			       k->vendor, k->product, (long long)got, (long long)asked);
	if (off && on_got < on_free)
		return np__err(v->err, NP_EINPUT,
			       "PCI %04x:%04x: devices taken off the guest's nodes "
			       "while %lld on them are free",
			       k->vendor, k->product, (long long)(on_free - on_got));
	return 0;
}

/* The kind pool P's devices were taken as: by address when a request names one there. */
static struct kind pool_kind(const struct vc *v, const struct np_pci_pool *p)
{
	struct kind k = { p->vendor, p->product, p->node_idx };

	for (int r = 0; r < np_request_pci_count(v->r); r++)
		if (asks(v, r, &k))
			return k;
	k.node = ANY_NODE;
	return k;
}

static int check_pci(struct vc *v)
{
	int64_t misses = 0;
	struct kind k;
	int rc;

	for (int e = 0; e < v->p->npci; e++) {
		const struct np_plan_pci *pp = &v->p->pci[e];
		const struct np_pci_pool *p = np_host_pci_pool(v->h, pp->pool);
		int64_t take = 0;

		if (!p || pp->count <= 0)
			return np__err(v->err, NP_EINPUT, "PCI entry %d: pool %d, %d devices", e,
				       pp->pool, pp->count);
		for (int f = 0; f < v->p->npci; f++)
			take += v->p->pci[f].pool == pp->pool ? v->p->pci[f].count : 0;
		if (take > p->count - p->used)
			return np__err(v->err, NP_EINPUT,
				       "PCI pool %d: %lld devices taken, %d free", pp->pool,
				       (long long)take, p->count - p->used);
		k = pool_kind(v, p);
		if ((rc = check_pci_kind(v, &k)))
			return rc;
		misses += p->node_idx >= 0 && on_plan(v, p->node_idx) ? 0 : pp->count;
	}
	for (int r = 0; r < np_request_pci_count(v->r); r++) {
		if (!req_kind(v, np_request_pci(v->r, r), &k))
			return np__err(v->err, NP_EINPUT, "PCI device %s is not on the host",
				       np_request_pci(v->r, r)->address);
		if ((rc = check_pci_kind(v, &k)))
			return rc;
	}
	if (misses != v->p->score.device_misses)
		return np__err(v->err, NP_EINPUT, "score says %d device misses, the plan has %lld",
			       v->p->score.device_misses, (long long)misses);
	return 0;
}

/* ---- memory policy and score ---------------------------------------------- */

static uint32_t dist(const struct vc *v, int a, int b)
{
	return np_topo_distance(v->t, a, b);
}

static int check_nodeset(struct vc *v)
{
	int want[1024], m = 0;

	for (int j = 0; j < v->n && m < 1024; j++)
		if (on_plan(v, j))
			want[m++] = j;
	if (v->p->nnodeset != m || (m && memcmp(want, v->p->nodeset, (size_t)m * sizeof(int))))
		return np__err(v->err, NP_EINPUT, "the memory node set is not the plan's nodes");
	/* The request's own, or what np_place()'s options chose: any that exists. */
	if ((unsigned)v->p->mem_policy > NP_MEM_POLICY_INTERLEAVE ||
	    (unsigned)v->p->affinity > NP_AFFINITY_SOFT)
		return np__err(v->err, NP_EINPUT, "unknown memory policy or affinity");
	return 0;
}

/* The distance of a fallback node from the node set: its nearest member. */
static uint32_t from_set(const struct vc *v, int j)
{
	uint32_t m = UINT32_MAX;

	for (int a = 0; a < v->p->nnodeset; a++)
		m = dist(v, v->p->nodeset[a], j) < m ? dist(v, v->p->nodeset[a], j) : m;
	return m;
}

/* A node memory can fall back to: off the plan, with memory, reachable from the set. */
static bool may_fall_back(const struct vc *v, int j)
{
	return !on_plan(v, j) && np_topo_node(v->t, j)->mem_total_kb > 0 &&
	       from_set(v, j) != NP_DISTANCE_UNREACHABLE;
}

static int check_fallback(struct vc *v)
{
	bool pref = v->p->mem_policy == NP_MEM_POLICY_PREFERRED;
	int want = 0;

	for (int j = 0; pref && j < v->n; j++)
		want += may_fall_back(v, j);
	if (v->p->nfallback != want)
		return np__err(v->err, NP_EINPUT, "fallback lists %d nodes, %d expected",
			       v->p->nfallback, want);
	for (int i = 0; i < v->p->nfallback; i++) {
		int j = v->p->fallback[i], pj = i ? v->p->fallback[i - 1] : -1;

		if (j < 0 || j >= v->n || !may_fall_back(v, j))
			return np__err(v->err, NP_EINPUT, "fallback node index %d is wrong", j);
		if (pj >= 0 && (from_set(v, pj) > from_set(v, j) ||
				(from_set(v, pj) == from_set(v, j) && pj >= j)))
			return np__err(v->err, NP_EINPUT,
				       "fallback not ordered by distance, then id");
	}
	return 0;
}

static int check_score(struct vc *v)
{
	uint32_t m = 0;

	for (int a = 0; a < v->p->ncells; a++)
		for (int b = 0; b <= a; b++) {
			int x = v->p->cells[a].node_idx, y = v->p->cells[b].node_idx;

			m = dist(v, x, y) > m ? dist(v, x, y) : m;
			m = dist(v, y, x) > m ? dist(v, y, x) : m;
		}
	if (m != v->p->score.max_distance)
		return np__err(v->err, NP_EINPUT, "score says max distance %u, the nodes have %u",
			       v->p->score.max_distance, m);
	if (v->p->score.exact && v->p->score.best_max_distance > m)
		return np__err(v->err, NP_EINPUT, "lower bound %u above the distance %u",
			       v->p->score.best_max_distance, m);
	return 0;
}

/* ---- entry ---------------------------------------------------------------- */

static int check_cells(struct vc *v)
{
	int rc;

	for (int g = 0; g < v->k; g++)
		if ((rc = check_guest_cell(v, g)))
			return rc;
	for (int c = 0; c < v->p->ncells; c++) {
		const struct np_plan_cell *pc = &v->p->cells[c];
		long asked = np_request_cell(v->r, pc->guest_cell)->pagesize;

		if (np_request_cpu_policy(v->r) == NP_CPU_POLICY_DEDICATED && pc->nfloat)
			return np__err(v->err, NP_EINPUT,
				       "guest cell %d: floating vCPUs in a dedicated "
				       "guest",
				       pc->guest_cell);
		if ((rc = check_pagesize(v, pc, asked)) || (rc = check_self(v, pc, asked)) ||
		    (rc = check_cpus(v, pc)) || (rc = check_threads(v, pc)))
			return rc;
	}
	return 0;
}

int np_plan_validate(const np_host *host, const np_request *req, const np_plan *plan,
		     struct np_error *err)
{
	struct vc v = {host, req, plan, np_host_topo(host), 0, 0, err};
	int rc;

	v.n = np_topo_node_count(v.t);
	v.k = np_request_cell_count(req);
	if (!plan->fits)
		return plan->ncells ? np__err(err, NP_EINPUT, "a plan that does not fit has cells")
				    : 0;
	if ((rc = check_structure(&v)) || (rc = check_cells(&v)) || (rc = check_emulator(&v)) ||
	    (rc = check_no_double(&v)))
		return rc;
	for (int j = 0; j < v.n; j++)
		if ((rc = check_node_totals(&v, j)))
			return rc;
	if ((rc = check_pci(&v)) || (rc = check_nodeset(&v)) || (rc = check_fallback(&v)))
		return rc;
	return check_score(&v);
}
