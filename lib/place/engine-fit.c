/*
 * engine-fit.c - what one guest cell costs on one node: Nova's fit
 * (cellfit.c) for every (cell, node), computed once per distinct cell
 * shape, and the sum terms of the objective (docs/policies/placement.md
 * 4): whole and half-free nodes kept, stranded capacity, best fit,
 * devices kept free, room for spread or pack.
 *
 * Cells fixed on a node that other fixed cells share are fitted one after
 * the other on a clone of the host (e->clone), each charged with its
 * one-cell plan (e->mini) before the next is fitted.
 */
#include "place/engine-int.h"

/* ---- stranding and room ------------------------------------------------- */

/* A non-negative MiB amount to the nearest integer (no libm here). */
static int64_t round_mb(double x)
{
	return x > 0 ? (int64_t)(x + 0.5) : 0;
}

/* A node's state as the sum terms see it (docs/policies/placement.md 4). */
struct nodeval {
	int64_t whole;	/* 1: nothing of the kind used (all its CPUs and memory free) */
	int64_t half;	/* resources (CPUs of the kind, memory) at least half free: 0-2 */
	int64_t fit;	/* (a^2 + b^2) x FIT_SCALE, a and b the free fractions */
	int64_t strand; /* MiB: free memory against free CPUs, each worth memory / CPUs */
	int64_t room;	/* MiB: free memory + free CPUs x memory per CPU */
};

/* The resolution of the best-fit term (free fractions are <= 1). */
#define FIT_SCALE 1048576.0

/* X MiB to the nearest multiple of the host's memory step Q. */
static double nominal(uint64_t x, uint64_t q)
{
	return (double)((x + q / 2) / q * q);
}

uint64_t np__eng_mem_step(const np_topo *t)
{
	uint64_t m = 0, p = 1;

	for (int j = 0; j < np_topo_node_count(t); j++)
		m = np_topo_node(t, j)->mem_total_kb / 1024 > m ? np_topo_node(t, j)->mem_total_kb / 1024
								 : m;
	while (p <= m / 2)
		p *= 2;
	return p / 128 ? p / 128 : 1;
}

/*
 * Node J after adding MEM MiB, FLOATS floating vCPUs and PINS pinned CPUs:
 * its free memory and free CPUs of the kind the guest uses (pinned: the
 * dedicated CPUs not pinned; floating: the ratio's room in whole CPUs).
 */
static struct nodeval node_metric(const struct eng *e, const np_host *h, int j, uint64_t mem,
				  int floats, int pins)
{
	const struct np_host_node *hn = np_host_node(h, j);
	double fm, fc, ratio, per_cpu, a, b;
	int set = e->pinned_kind ? hn->ndedicated : hn->nshared;
	struct nodeval v;

	/*
	 * Node sizes (and free memory with basis free) count in steps of
	 * e->mem_q (1/128 of the largest node's power of two): firmware keeps
	 * a few MiB of some nodes, which must not decide between equal nodes.
	 */
	double size = nominal(hn->memory_mb, e->mem_q);
	uint64_t cap = np__host_free_cap(h, j);

	np_host_limits(h, &ratio, NULL);
	fm = size - (double)hn->memory_used_mb;
	if (cap != UINT64_MAX && nominal(cap, e->mem_q) < fm)
		fm = nominal(cap, e->mem_q);
	fm -= (double)mem;
	fm = fm > 0 ? fm : 0;
	if (e->pinned_kind)
		fc = (double)hn->ndedicated - hn->npinned - pins;
	else
		fc = ratio > 0 ? ((double)hn->nshared * ratio - hn->cpu_usage - floats) / ratio : 0;
	fc = fc > 0 ? fc : 0;
	per_cpu = set > 0 ? size / set : 0;
	v.strand =
	    round_mb(set > 0 ? (fm > fc * per_cpu ? fm - fc * per_cpu : fc * per_cpu - fm) : fm);
	v.room = round_mb(fm + fc * per_cpu);
	a = set > 0 ? (fc < set ? fc / set : 1) : 0;
	b = size > 0 ? (fm < size ? fm / size : 1) : 0;
	v.whole = set > 0 && size > 0 && a >= 1 && b >= 1;
	v.half = (set > 0 && 2 * a >= 1) + (size > 0 && 2 * b >= 1);
	v.fit = round_mb((a * a + b * b) * FIT_SCALE);
	return v;
}

/* ---- the demand term ----------------------------------------------------- */

/* A node never counts more copies of one shape than this (keeps sums in range). */
#define COPIES_MAX 16777216.0

static double at_most(double k, double x)
{
	return x < k ? x : k;
}

/*
 * Copies of demand shape D that still fit node J of H once MEM MiB,
 * FLOATS floating vCPUs and PINS pinned CPUs (memory of PAGESIZE_KB
 * pages, 0: small) are taken: the floor of the scarcest of its free
 * pinned CPUs, floating capacity (under the CPU ratio), memory (under the
 * RAM ratio for floating small-page shapes) and, for huge-page shapes,
 * free pages of that size.  An approximation of Nova's fit (cellfit.c),
 * counted per resource; it only ranks, it never decides feasibility.
 */
static double copies(const np_host *h, int j, const struct np_demand *d, uint64_t mem, int floats,
		     int pins, uint64_t pagesize_kb)
{
	const struct np_host_node *hn = np_host_node(h, j);
	double ratio = 1, rr = 1, k = COPIES_MAX;
	bool lim = np_host_limits(h, &ratio, &rr);

	if (d->pinned)
		k = at_most(k, ((double)hn->ndedicated - hn->npinned - pins) / d->pinned);
	if (d->floating > hn->nshared && d->floating)
		return 0;
	if (d->floating && lim)
		k = at_most(k, ((double)hn->nshared * ratio - hn->cpu_usage - floats) / d->floating);
	if (d->pagesize_kb) {
		double fp = -1, per = (double)d->memory_mb * 1024 / (double)d->pagesize_kb;

		for (int p = 0; p < hn->npools; p++)
			if (hn->pools[p].size_kb == d->pagesize_kb)
				fp = (double)hn->pools[p].total - hn->pools[p].used -
				     hn->pools[p].reserved -
				     (pagesize_kb == d->pagesize_kb ? (double)mem * 1024 / pagesize_kb
								    : 0);
		k = at_most(k, fp < 0 ? 0 : fp / per);
	} else if (hn->npools && d->memory_mb * 1024 > hn->pools[0].total * hn->pools[0].size_kb) {
		return 0;
	}
	if (d->pinned || d->pagesize_kb || !lim || rr <= 1.0) {
		double fm = (double)hn->memory_mb * (d->pinned || !lim ? 1 : rr) -
			    (double)hn->memory_used_mb - (double)mem;
		uint64_t cap = np__host_free_cap(h, j);

		if (!d->pagesize_kb && cap != UINT64_MAX && (double)cap - (double)mem < fm)
			fm = (double)cap - (double)mem;
		k = at_most(k, fm / (double)d->memory_mb);
	}
	return k > 0 ? (double)(int64_t)k : 0;
}

/* Node J's demand potential: the weighted copies, in 1/1024 of a copy. */
static int64_t potential(const struct eng *e, const np_host *h, int j, uint64_t mem, int floats,
			 int pins, uint64_t pagesize_kb)
{
	double p = 0;

	for (int s = 0; s < e->ndem; s++)
		if (e->dem[s].weight > 0)
			p += e->dem[s].weight *
			     copies(h, j, &e->dem[s], mem, floats, pins, pagesize_kb);
	return (int64_t)(p * 1024 + 0.5);
}

/*
 * The sum terms of putting MEM/FLOATS/PINS on node J of host H.  The
 * fragmentation terms (whole, half, fit) need room to keep a node whole:
 * on a host of at most k + 1 nodes a later guest of k + 1 cells would find
 * no partner for it, so there they are 0 and the nodes are kept level by
 * the stranding and strategy terms alone.
 */
void np__eng_lin_terms(const struct eng *e, const np_host *h, int j, uint64_t mem, int floats,
		       int pins, uint64_t pagesize_kb, int64_t *out)
{
	struct nodeval v0 = node_metric(e, h, j, 0, 0, 0);
	struct nodeval v1 = node_metric(e, h, j, mem, floats, pins);
	bool frag = e->n >= e->k + 2;

	out[L_WHOLE] = frag ? v0.whole - v1.whole : 0;
	out[L_AVOID] = e->nreq ? 0 : np__eng_pci_free_on(h, j);
	out[L_DEMAND] = e->ndem ? potential(e, h, j, 0, 0, 0, 0) -
				      potential(e, h, j, mem, floats, pins, pagesize_kb)
				: 0;
	out[L_HALF] = frag ? v0.half - v1.half : 0;
	out[L_FIT] = frag ? v0.fit - v1.fit : 0;
	out[L_STRAND] = v1.strand - v0.strand;
	out[L_ROOM] = e->strategy == NP_STRATEGY_PACK ? v1.room : -v1.room;
}

int64_t np__eng_stranded(const struct eng *e, const np_host *h, int j)
{
	return node_metric(e, h, j, 0, 0, 0).strand;
}

/* ---- per-cell fits ------------------------------------------------------ */

static void fit_one(struct eng *e, const np_host *h, int i, int j, struct np__fit *f)
{
	f->pcpus = e->pcpus;
	f->blocked = e->blocked;
	np__cell_fit(h, j, &e->cr[i], e->work, f);
	e->fi[i * e->n + j] =
	    (struct fitinfo){f->ok, f->res, f->asked, f->available, f->per_core, f->why};
	if (!f->ok)
		return;
	set_bit(row(e, e->feas, i), j);
	np__eng_lin_terms(e, h, j, e->cr[i].memory_mb, e->cr[i].nfloat,
			  f->npins + (f->reserved >= 0) + f->nblocked,
			  f->pagesize_kb > 4 ? f->pagesize_kb : 0, lin(e, i, j));
}

static bool same_shape(const struct eng *e, int a, int b)
{
	const struct np__cellreq *x = &e->cr[a], *y = &e->cr[b];

	return x->nfloat == y->nfloat && x->npinned == y->npinned && x->memory_mb == y->memory_mb &&
	       x->pagesize == y->pagesize && x->nreserved == y->nreserved &&
	       e->fixed[a] == e->fixed[b];
}

static void copy_fits(struct eng *e, int to, int from)
{
	memcpy(row(e, e->feas, to), row(e, e->feas, from), (size_t)e->nw * sizeof(word));
	memcpy(&e->fi[to * e->n], &e->fi[from * e->n], (size_t)e->n * sizeof(*e->fi));
	memcpy(lin(e, to, 0), lin(e, from, 0), (size_t)e->n * NL * sizeof(int64_t));
}

/* A one-cell plan of cell I's fit F on node J, for charging a clone. */
np_plan *np__eng_mini_plan(const struct eng *e, int i, int j, const struct np__fit *f)
{
	const struct np_guest_cell *c = np_request_cell(e->req, i);
	const struct np_host_node *hn = np_host_node(e->host, j);
	struct np_pin *pins = np__calloc((size_t)f->npins + 1, sizeof(*pins));
	np_plan *p = np__plan_new();
	struct np_plan_cell pc = {i,
				  j,
				  c->memory_mb,
				  f->pagesize_kb,
				  f->npins,
				  pins,
				  c->nvcpus,
				  c->vcpus,
				  c->nvcpus ? hn->nshared : 0,
				  hn->shared,
				  f->reserved >= 0,
				  &f->reserved,
				  f->nblocked,
				  f->blocked};

	for (int v = 0; pins && v < f->npins; v++)
		pins[v] = (struct np_pin){c->pcpus[v], f->pcpus[v]};
	if (!pins || !p || np__plan_add_cell(p, &pc)) {
		np_plan_free(p);
		p = NULL;
	} else {
		p->fits = true;
	}
	free(pins);
	return p;
}

/* Cells fixed on a node that other fixed cells share: one after the other. */
static int fit_shared_fixed(struct eng *e, struct np_error *err)
{
	struct np__fit f;
	int rc;

	if ((rc = np_host_clone(e->orig, &e->clone, err)))
		return rc;
	e->host = e->clone;
	for (int i = 0; i < e->k; i++) {
		if (e->fixed[i] < 0)
			continue;
		fit_one(e, e->host, i, e->fixed[i], &f);
		if (!f.ok)
			continue;
		e->mini[i] = np__eng_mini_plan(e, i, e->fixed[i], &f);
		if (!e->mini[i])
			return np__err(err, NP_ENOMEM, "out of memory");
		if ((rc = np_host_charge(e->clone, e->mini[i], false, err)))
			return rc;
		np__host_take_free(e->clone, e->fixed[i], e->cr[i].memory_mb);
	}
	return 0;
}

static bool fixed_shared(const struct eng *e)
{
	for (int i = 0; i < e->k; i++)
		for (int j = 0; j < i; j++)
			if (e->fixed[i] >= 0 && e->fixed[i] == e->fixed[j])
				return true;
	return false;
}

int np__eng_compute_fits(struct eng *e, struct np_error *err)
{
	struct np__fit f;
	int rc;

	for (int i = 0; i < e->k; i++)
		for (int j = 0; j < e->n; j++)
			e->fi[i * e->n + j] = (struct fitinfo){false, NP_RES_NODES, 0, 0, false,
							       "the cell is fixed on another node"};
	if (fixed_shared(e) && (rc = fit_shared_fixed(e, err)))
		return rc;
	for (int i = 0; i < e->k; i++) {
		int same = -1;

		e->cls[i] = i;
		if (e->clone && e->fixed[i] >= 0)
			continue; /* fitted one after the other above */
		for (int p = 0; p < i && same < 0; p++)
			same = same_shape(e, i, p) && !(e->clone && e->fixed[p] >= 0) ? p : -1;
		if (same >= 0) {
			e->cls[i] = same;
			copy_fits(e, i, same);
			continue;
		}
		for (int j = 0; j < e->n; j++)
			if (e->fixed[i] < 0 || e->fixed[i] == j)
				fit_one(e, e->host, i, j, &f);
	}
	return 0;
}
