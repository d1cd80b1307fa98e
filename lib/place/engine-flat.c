/*
 * engine-flat.c - a guest without NUMA topology that fits on no single
 * node: its vCPUs float over every CPU of a set of nodes and its memory
 * is bound to the same set (so the vCPU, emulator and memory node sets
 * agree and every writer can carry the plan out).
 *
 * Which set: the fewest nodes (2, 3, ...) whose room adds up, within each
 * distance threshold ascending, then the objective of a NUMA guest (the
 * weighted distance, terms 4-10, ids).  A set holds the guest when
 *   - memory: the sum over its nodes of what a floating share may take
 *     (small pages, the memory ratio's room, the free memory with basis
 *     free) covers the guest's memory;
 *   - vCPUs: its shared CPUs are at least the guest's vCPUs (the guest
 *     floats over all of them: no self over-commit), and the CPU ratio's
 *     room of its nodes adds up to them.
 * The shares are what each node is charged: memory in proportion to each
 * node's room, vCPUs in proportion to its shared CPUs, each capped by its
 * room (water filling).  A node already over one of its allocation ratios
 * takes no share of that resource, but its CPUs still count for the guest
 * to float over (Nova floats such a guest over the whole host).  When the search
 * budget runs out before any set is found, the guest floats over the
 * whole host (every node that can take a part, memory by the plan's
 * policy); when even the whole host lacks the room, it does not fit, and
 * the reason says which resource fell short and by how much.
 *
 * The few arrays of the split are allocated here, outside e->arena.
 */
#include "place/engine-int.h"

/* For the few arrays outside the block (the split of guests without NUMA). */
#define ALLOC(p, n) ((p) = np__calloc((size_t)(n) + 1, sizeof(*(p)))) == NULL

struct flat {
	uint64_t *cap_mem; /* per node: MiB a share may have */
	uint64_t *cap_cpu; /* per node: vCPUs its CPU ratio leaves room for */
	uint64_t *shared;  /* per node: shared CPUs */
	uint64_t *mem;	   /* per node: the share's MiB */
	uint64_t *cpu;	   /* per node: the share's vCPUs */
	uint64_t *w;	   /* scratch: weights */
	int *set, s;	   /* the nodes of the current set, ascending */
	int *best_set, best_s;
	uint64_t need_mem, need_cpu;
};

/* What one floating share may take on node J (Nova's checks, solved for size). */
static void flat_caps(const struct eng *e, struct flat *f, int j)
{
	const struct np_host_node *hn = np_host_node(e->host, j);
	double cr, rr, cpu, mem;
	uint64_t page_mb =
	    hn->npools && hn->pools[0].size_kb > 1024 ? hn->pools[0].size_kb / 1024 : 1;
	uint64_t m = hn->npools ? hn->pools[0].total * hn->pools[0].size_kb / 1024 : hn->memory_mb;
	uint64_t c = f->need_cpu, cap = np__host_free_cap(e->host, j);

	if (np_host_limits(e->host, &cr, &rr)) {
		/* Truncation is floor here; a node over a ratio takes no share of it. */
		cpu = (double)hn->nshared * cr - hn->cpu_usage;
		mem = (double)hn->memory_mb * rr - (double)hn->memory_used_mb;
		c = cpu < (double)c ? (cpu > 0 ? (uint64_t)cpu : 0) : c;
		m = mem < (double)m ? (mem > 0 ? (uint64_t)mem : 0) : m;
	}
	m = cap < m ? cap : m;
	f->cap_mem[j] = m / page_mb * page_mb;
	f->cap_cpu[j] = hn->nshared ? c : 0;
	f->shared[j] = (uint64_t)hn->nshared;
}

/* A node that adds anything: memory, CPU ratio room or CPUs to float over. */
static bool usable(const struct flat *f, int j)
{
	return f->cap_mem[j] || f->cap_cpu[j] || f->shared[j];
}

/*
 * Share NEED over the S nodes SET in proportion to W, none above CAP;
 * into OUT (indexed by node).  False when the caps do not add up.  The
 * remainder of the rounding goes to the nodes in set order.
 */
static bool water_fill(const int *set, int s, uint64_t need, const uint64_t *cap,
		       const uint64_t *w, uint64_t *out)
{
	uint64_t left = need;

	for (int a = 0; a < s; a++)
		out[set[a]] = 0;
	for (int round = 0; round < s && left > 0; round++) {
		uint64_t wsum = 0, given = 0;

		for (int a = 0; a < s; a++)
			wsum += out[set[a]] < cap[set[a]] ? w[set[a]] : 0;
		if (wsum == 0)
			break;
		for (int a = 0; a < s; a++) {
			int j = set[a];
			uint64_t room = cap[j] - out[j], g;

			if (out[j] >= cap[j])
				continue;
			/* In doubles (exact below 2^53); never more than is left to give. */
			g = (uint64_t)((double)left * (double)w[j] / (double)wsum);
			g = g < room ? g : room;
			g = g < left - given ? g : left - given;
			out[j] += g;
			given += g;
		}
		left -= given;
		if (given == 0)
			break;
	}
	for (int a = 0; a < s && left > 0; a++) {
		int j = set[a];
		uint64_t g = cap[j] - out[j] < left ? cap[j] - out[j] : left;

		out[j] += g;
		left -= g;
	}
	return left == 0;
}

/* Split the guest over f->set: memory by each node's room, vCPUs by its CPUs. */
static bool flat_divide(const struct eng *e, struct flat *f)
{
	uint64_t cpus = 0;

	(void)e;
	for (int a = 0; a < f->s; a++) {
		cpus += f->shared[f->set[a]];
		f->w[f->set[a]] = f->cap_mem[f->set[a]];
	}
	if (cpus < f->need_cpu ||
	    !water_fill(f->set, f->s, f->need_mem, f->cap_mem, f->w, f->mem))
		return false;
	return water_fill(f->set, f->s, f->need_cpu, f->cap_cpu, f->shared, f->cpu);
}

/* Score the split: the terms of a NUMA guest, each share a cell of its own. */
static bool flat_score(struct eng *e, struct flat *f, struct terms *t)
{
	memset(t, 0, sizeof(*t));
	memset(e->used, 0, (size_t)e->nw * sizeof(word));
	for (int a = 0; a < f->s; a++) {
		int j = f->set[a];
		int64_t l[NL];

		np__eng_lin_terms(e, e->host, j, f->mem[j], (int)f->cpu[j], 0, 0, l);
		for (int x = 0; x < NL; x++)
			t->v[T_LIN + x] += l[x];
		for (int b = 0; b < a; b++) {
			int q = f->set[b];
			int64_t wa = f->cpu[j] > 0 ? (int64_t)f->cpu[j] : 1,
				wb = f->cpu[q] > 0 ? (int64_t)f->cpu[q] : 1;

			t->v[T_SUMD] += wa * wb * e->dd[j * e->n + q];
			t->v[T_MAXD] = e->sym[j * e->n + q] > t->v[T_MAXD] ? e->sym[j * e->n + q]
									   : t->v[T_MAXD];
		}
		t->v[T_MAXD] =
		    e->d[j * e->n + j] > t->v[T_MAXD] ? e->d[j * e->n + j] : t->v[T_MAXD];
		set_bit(e->used, j);
	}
	return !e->nreq || (t->v[T_MISS] = np__eng_pci_eval(e, e->used)) >= 0;
}

static void flat_leaf(struct eng *e, struct flat *f)
{
	struct terms t;
	int c;

	if (!flat_divide(e, f) || !flat_score(e, f, &t))
		return;
	c = e->have_best ? terms_cmp(&t, &e->best) : -1;
	if (c < 0) {
		e->best = t;
		memcpy(f->best_set, f->set, (size_t)f->s * sizeof(int));
		f->best_s = f->s;
		e->have_best = true;
	}
}

/* Sets of S nodes within e->T, ascending, with enough room left to reach. */
static void flat_dfs(struct eng *e, struct flat *f, int depth, int from, const word *al,
		     uint64_t mem, uint64_t cpu, uint64_t shared, int64_t sumd)
{
	word *nx = row(e, e->allowed, depth + 1);
	uint64_t rest_mem = 0, rest_cpu = 0, rest_shared = 0;

	if (over_budget(e))
		return;
	if (depth == f->s) {
		flat_leaf(e, f);
		return;
	}
	if (e->have_best && sumd > e->best.v[T_SUMD] && e->best.v[T_MISS] == 0)
		return;
	for (int j = next_in(al, NULL, false, e->nw, from); j >= 0;
	     j = next_in(al, NULL, false, e->nw, j + 1)) {
		if (!usable(f, j))
			continue;
		rest_mem += f->cap_mem[j];
		rest_cpu += f->cap_cpu[j];
		rest_shared += f->shared[j];
	}
	if (mem + rest_mem < f->need_mem || cpu + rest_cpu < f->need_cpu ||
	    shared + rest_shared < f->need_cpu)
		return;
	for (int j = next_in(al, NULL, false, e->nw, from); j >= 0 && !e->aborted;
	     j = next_in(al, NULL, false, e->nw, j + 1)) {
		int64_t add = 0;
		const word *cj;

		if (!usable(f, j))
			continue;
		for (int a = 0; a < depth; a++)
			add += e->dd[j * e->n + f->set[a]];
		f->set[depth] = j;
		cj = np__eng_compat_row(e, j);
		for (int x = 0; x < e->nw; x++)
			nx[x] = al[x] & cj[x];
		flat_dfs(e, f, depth + 1, j + 1, nx, mem + f->cap_mem[j], cpu + f->cap_cpu[j],
			 shared + f->shared[j], sumd + add);
	}
}

static bool flat_search(struct eng *e, struct flat *f)
{
	const uint32_t *ts = e->dist->thresholds;
	int nt = e->dist->nthresholds;

	for (f->s = 2; f->s <= e->n && !e->aborted; f->s++) {
		for (int t = 0; t < nt && !e->aborted; t++) {
			memset(e->used, 0, (size_t)e->nw * sizeof(word));
			np__eng_set_threshold(e, ts[t]);
			flat_dfs(e, f, 0, 0, row(e, e->allowed, 0), 0, 0, 0, 0);
			if (e->have_best) {
				e->tmin = ts[t];
				return true;
			}
		}
	}
	return false;
}

/* The shared CPUs of every node of the set: where each vCPU may float. */
static int *set_cpus(const struct eng *e, const struct flat *f, int *n)
{
	int total = 0, *cpus;

	for (int a = 0; a < f->best_s; a++)
		total += np_host_node(e->host, f->best_set[a])->nshared;
	cpus = np__calloc((size_t)total + 1, sizeof(int));
	*n = 0;
	for (int a = 0; cpus && a < f->best_s; a++) {
		const struct np_host_node *hn = np_host_node(e->host, f->best_set[a]);

		memcpy(cpus + *n, hn->shared, (size_t)hn->nshared * sizeof(int));
		*n += hn->nshared;
	}
	if (cpus)
		*n = np__sort_unique(cpus, *n);
	return cpus;
}

static int add_flat_cells(struct eng *e, struct flat *f)
{
	const struct np_guest_cell *c = np_request_cell(e->req, 0);
	int next = 0, rc = 0, ncpus = 0, *cpus = set_cpus(e, f, &ncpus);

	if (!cpus)
		return NP_ENOMEM;
	for (int a = 0; a < f->best_s && !rc; a++) {
		int j = f->best_set[a];
		const struct np_host_node *hn = np_host_node(e->host, j);
		struct np_plan_cell pc = {0,
					  j,
					  f->mem[j],
					  hn->npools ? hn->pools[0].size_kb : 4,
					  0,
					  NULL,
					  (int)f->cpu[j],
					  c->vcpus + next,
					  f->cpu[j] ? ncpus : 0,
					  cpus,
					  0,
					  NULL,
					  0,
					  NULL};

		next += (int)f->cpu[j];
		rc = np__plan_add_cell(e->plan, &pc);
	}
	free(cpus);
	return rc;
}

static int build_flat(struct eng *e, struct flat *f)
{
	struct terms t;
	int rc;

	f->s = f->best_s;
	memcpy(f->set, f->best_set, (size_t)f->s * sizeof(int));
	if (!flat_divide(e, f) || !flat_score(e, f, &t))
		return NP_EINPUT; /* cannot happen: the leaf (or the caller) checked it */
	if ((rc = add_flat_cells(e, f)) || (rc = np__eng_add_pci(e, e->used)))
		return rc;
	e->plan->fits = true;
	e->plan->score.max_distance = (uint32_t)t.v[T_MAXD];
	e->plan->score.sum_distance = (uint64_t)t.v[T_SUMD];
	e->plan->score.stranded =
	    e->strand_base + t.v[T_STRAND] > 0 ? (uint64_t)(e->strand_base + t.v[T_STRAND]) : 0;
	return 0;
}

/* The whole host (every node that can take a part) as the set: when the budget ran out first. */
static bool whole_host(struct eng *e, struct flat *f)
{
	struct terms t;

	f->best_s = 0;
	for (int j = 0; j < e->n; j++)
		if (usable(f, j))
			f->best_set[f->best_s++] = j;
	f->s = f->best_s;
	memcpy(f->set, f->best_set, (size_t)f->s * sizeof(int));
	return f->s > 0 && flat_divide(e, f) && flat_score(e, f, &t);
}

/* Nothing holds the guest, not even the whole host: say what fell short. */
static int no_room(struct eng *e, struct flat *f)
{
	uint64_t mem = 0, cpu = 0, shared = 0;
	int rc;

	for (int j = 0; j < e->n; j++) {
		mem += f->cap_mem[j];
		cpu += f->cap_cpu[j];
		shared += f->shared[j];
	}
	if (mem < f->need_mem)
		rc = np__plan_add_reason(e->plan, -1, -1, -1, NP_RES_MEMORY, f->need_mem, mem,
					 "memory falls short on the whole host: %llu MiB asked, "
					 "%llu MiB of room on all %d nodes together",
					 (unsigned long long)f->need_mem, (unsigned long long)mem,
					 e->n);
	else if (shared < f->need_cpu)
		rc = np__plan_add_reason(e->plan, -1, -1, -1, NP_RES_VCPUS, f->need_cpu, shared,
					 "CPUs fall short on the whole host: %llu vCPUs asked, "
					 "%llu shared CPUs (a guest may not over-commit itself)",
					 (unsigned long long)f->need_cpu, (unsigned long long)shared);
	else if (cpu < f->need_cpu)
		rc = np__plan_add_reason(e->plan, -1, -1, -1, NP_RES_VCPUS, f->need_cpu, cpu,
					 "CPUs fall short on the whole host: %llu vCPUs asked, room "
					 "for %llu more under the CPU allocation ratio",
					 (unsigned long long)f->need_cpu, (unsigned long long)cpu);
	else
		rc = np__plan_add_reason(e->plan, -1, -1, -1, NP_RES_PCI, 0, 0,
					 "PCI devices: %d asked, no set of nodes with room for the "
					 "guest has them",
					 np_request_pci_count(e->req));
	if (!rc)
		np__plan_mark_summary(e->plan);
	return rc;
}

int np__eng_place_split(struct eng *e)
{
	struct flat f = {0};
	bool found;
	int rc = NP_ENOMEM;

	if (ALLOC(f.cap_mem, e->n) || ALLOC(f.cap_cpu, e->n) || ALLOC(f.shared, e->n) ||
	    ALLOC(f.mem, e->n) || ALLOC(f.cpu, e->n) || ALLOC(f.w, e->n) || ALLOC(f.set, e->n) ||
	    ALLOC(f.best_set, e->n))
		goto out;
	f.need_mem = e->cr[0].memory_mb;
	f.need_cpu = (uint64_t)e->cr[0].nfloat;
	for (int j = 0; j < e->n; j++)
		flat_caps(e, &f, j);
	e->have_best = false;
	found = flat_search(e, &f);
	e->plan->score.exact = !e->aborted;
	e->plan->score.gap_term = e->aborted ? NP_TERM_UNKNOWN : NP_TERM_NONE;
	if (!found && !(e->aborted && whole_host(e, &f))) {
		rc = no_room(e, &f);
		goto out;
	}
	e->plan->score.best_max_distance = found ? e->tmin : 0;
	rc = build_flat(e, &f);
out:
	free(f.cap_mem);
	free(f.cap_cpu);
	free(f.shared);
	free(f.mem);
	free(f.cpu);
	free(f.w);
	free(f.set);
	free(f.best_set);
	return rc;
}
