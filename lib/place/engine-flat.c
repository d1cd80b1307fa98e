/*
 * engine-flat.c - a guest without NUMA topology that fits on no single
 * node: split over the fewest nodes (sets of 2, 3, ... nodes within each
 * distance threshold, ascending), memory to the roomiest node first and
 * vCPUs in proportion, every share checked with the real fit (cellfit.c)
 * and the split scored with the same terms as a NUMA guest.
 *
 * The few arrays of the split are allocated here, outside e->arena.
 */
#include "place/engine-int.h"

/* For the few arrays outside the block (the split of guests without NUMA). */
#define ALLOC(p, n) ((p) = np__calloc((size_t)(n) + 1, sizeof(*(p)))) == NULL

struct flat {
	uint64_t *cap_mem; /* per node: MiB a share may have */
	int *cap_cpu;	   /* per node: floating vCPUs a share may have */
	uint64_t *mem;	   /* per node: the share's MiB */
	int *cpu;	   /* per node: the share's vCPUs */
	int *set, s;	   /* the nodes of the current set, ascending */
	int *best_set, best_s;
	uint64_t need_mem;
	int need_cpu;
};

/* What one floating share may hold on node J (Nova's checks, solved for size). */
static void flat_caps(const struct eng *e, struct flat *f, int j)
{
	const struct np_host_node *hn = np_host_node(e->host, j);
	double cr, rr, cpu, mem;
	uint64_t page_mb =
	    hn->npools && hn->pools[0].size_kb > 1024 ? hn->pools[0].size_kb / 1024 : 1;
	uint64_t m = hn->npools ? hn->pools[0].total * hn->pools[0].size_kb / 1024 : hn->memory_mb;
	int c = hn->nshared;

	if (np_host_limits(e->host, &cr, &rr)) {
		/* Truncation is floor here: negative amounts become 0 below. */
		cpu = (double)hn->nshared * cr - hn->cpu_usage;
		mem = (double)hn->memory_mb * rr - (double)hn->memory_used_mb;
		c = cpu < c ? (cpu > 0 ? (int)cpu : 0) : c;
		m = mem < (double)m ? (mem > 0 ? (uint64_t)mem : 0) : m;
	}
	f->cap_mem[j] = m / page_mb * page_mb;
	f->cap_cpu[j] = c;
}

/* Split the guest over f->set: memory to the roomiest first, vCPUs alike. */
static bool flat_divide(struct eng *e, struct flat *f)
{
	uint64_t left = f->need_mem;
	int cpus = f->need_cpu, order[64], m = f->s < 64 ? f->s : 64;

	for (int a = 0; a < m; a++)
		order[a] = f->set[a];
	for (int a = 1; a < m; a++)
		for (int b = a; b > 0 && f->cap_mem[order[b]] > f->cap_mem[order[b - 1]]; b--) {
			int t = order[b];

			order[b] = order[b - 1];
			order[b - 1] = t;
		}
	for (int a = 0; a < m; a++) {
		int j = order[a];

		f->mem[j] = f->cap_mem[j] < left ? f->cap_mem[j] : left;
		left -= f->mem[j];
		f->cpu[j] =
		    (int)((uint64_t)f->need_cpu * f->mem[j] / (f->need_mem ? f->need_mem : 1));
		f->cpu[j] = f->cpu[j] < f->cap_cpu[j] ? f->cpu[j] : f->cap_cpu[j];
		cpus -= f->cpu[j];
	}
	for (int a = 0; cpus > 0 && a < m; a++) {
		int j = order[a], more = f->cap_cpu[j] - f->cpu[j];

		more = more < cpus ? more : cpus;
		f->cpu[j] += more;
		cpus -= more;
	}
	for (int a = 0; a < m && !left && !cpus; a++)
		if (!f->mem[order[a]])
			return false; /* a node that holds nothing: not the fewest nodes */
	return !left && !cpus && m == f->s;
}

/* Check each share with the real fit, then score the split. */
static bool flat_score(struct eng *e, struct flat *f, struct terms *t)
{
	struct np__fit fit;

	memset(t, 0, sizeof(*t));
	memset(e->used, 0, (size_t)e->nw * sizeof(word));
	for (int a = 0; a < f->s; a++) {
		int j = f->set[a];
		struct np__cellreq c = e->cr[0];
		int64_t l[NL];

		c.nfloat = f->cpu[j];
		c.memory_mb = f->mem[j];
		c.nreserved = 0;
		fit.pcpus = e->pcpus;
		fit.blocked = e->blocked;
		np__cell_fit(e->host, j, &c, e->work, &fit);
		if (!fit.ok)
			return false;
		np__eng_lin_terms(e, e->host, j, c.memory_mb, c.nfloat, 0, l);
		for (int x = 0; x < NL; x++)
			t->v[T_LIN + x] += l[x];
		for (int b = 0; b < a; b++) {
			int q = f->set[b];
			int64_t wa = f->cpu[j] > 0 ? f->cpu[j] : 1,
				wb = f->cpu[q] > 0 ? f->cpu[q] : 1;

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

/* Sets of S nodes within e->T, ascending, enough capacity left to reach. */
static void flat_dfs(struct eng *e, struct flat *f, int depth, int from, const word *al,
		     uint64_t mem, int64_t cpu, int64_t sumd)
{
	word *nx = row(e, e->allowed, depth + 1);
	uint64_t rest_mem = 0;
	int64_t rest_cpu = 0;

	if (e->aborted || ++e->steps > e->max_steps) {
		e->aborted = true;
		return;
	}
	if (depth == f->s) {
		flat_leaf(e, f);
		return;
	}
	if (e->have_best && sumd > e->best.v[T_SUMD] && e->best.v[T_MISS] == 0)
		return;
	for (int j = next_in(al, NULL, false, e->nw, from); j >= 0;
	     j = next_in(al, NULL, false, e->nw, j + 1)) {
		rest_mem += f->cap_mem[j];
		rest_cpu += f->cap_cpu[j];
	}
	if (mem + rest_mem < f->need_mem || cpu + rest_cpu < f->need_cpu)
		return;
	for (int j = next_in(al, NULL, false, e->nw, from); j >= 0 && !e->aborted;
	     j = next_in(al, NULL, false, e->nw, j + 1)) {
		int64_t add = 0;

		for (int a = 0; a < depth; a++)
			add += e->dd[j * e->n + f->set[a]];
		f->set[depth] = j;
		for (int x = 0; x < e->nw; x++)
			nx[x] = al[x] & row(e, e->compat, j)[x];
		flat_dfs(e, f, depth + 1, j + 1, nx, mem + f->cap_mem[j], cpu + f->cap_cpu[j],
			 sumd + add);
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
			flat_dfs(e, f, 0, 0, row(e, e->allowed, 0), 0, 0, 0);
			if (e->have_best) {
				e->tmin = ts[t];
				return true;
			}
		}
	}
	return false;
}

static int add_flat_cells(struct eng *e, struct flat *f)
{
	const struct np_guest_cell *c = np_request_cell(e->req, 0);
	int next = 0, rc = 0;

	for (int a = 0; a < f->best_s && !rc; a++) {
		int j = f->best_set[a];
		const struct np_host_node *hn = np_host_node(e->host, j);
		struct np_plan_cell pc = {0,
					  j,
					  f->mem[j],
					  hn->npools ? hn->pools[0].size_kb : 4,
					  0,
					  NULL,
					  f->cpu[j],
					  c->vcpus + next,
					  f->cpu[j] ? hn->nshared : 0,
					  hn->shared,
					  0,
					  NULL,
					  0,
					  NULL};

		next += f->cpu[j];
		rc = np__plan_add_cell(e->plan, &pc);
	}
	return rc;
}

static int build_flat(struct eng *e, struct flat *f)
{
	struct terms t;
	int rc;

	f->s = f->best_s;
	memcpy(f->set, f->best_set, (size_t)f->s * sizeof(int));
	if (!flat_divide(e, f) || !flat_score(e, f, &t))
		return NP_EINPUT; /* cannot happen: the leaf checked it */
	if ((rc = add_flat_cells(e, f)) || (rc = np__eng_add_pci(e, e->used)))
		return rc;
	e->plan->fits = true;
	e->plan->score.max_distance = (uint32_t)t.v[T_MAXD];
	e->plan->score.sum_distance = (uint64_t)t.v[T_SUMD];
	e->plan->score.stranded =
	    e->strand_base + t.v[T_STRAND] > 0 ? (uint64_t)(e->strand_base + t.v[T_STRAND]) : 0;
	return 0;
}

int np__eng_place_split(struct eng *e)
{
	struct flat f = {0};
	int rc = NP_ENOMEM;

	if (ALLOC(f.cap_mem, e->n) || ALLOC(f.cap_cpu, e->n) || ALLOC(f.mem, e->n) ||
	    ALLOC(f.cpu, e->n) || ALLOC(f.set, e->n) || ALLOC(f.best_set, e->n))
		goto out;
	f.need_mem = e->cr[0].memory_mb;
	f.need_cpu = e->cr[0].nfloat;
	for (int j = 0; j < e->n; j++)
		flat_caps(e, &f, j);
	e->have_best = false;
	rc = 0;
	if (!flat_search(e, &f)) {
		e->plan->score.exact = !e->aborted;
		rc = np__plan_add_reason(e->plan, 0, -1, -1, NP_RES_MEMORY, f.need_mem, 0,
					 "the guest fits on no set of nodes, even split");
		goto out;
	}
	e->plan->score.best_max_distance = e->tmin;
	e->plan->score.exact = !e->aborted;
	rc = build_flat(e, &f);
out:
	free(f.cap_mem);
	free(f.cap_cpu);
	free(f.mem);
	free(f.cpu);
	free(f.set);
	free(f.best_set);
	return rc;
}
