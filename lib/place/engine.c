/*
 * engine.c - np_place(): choose host nodes for a guest's cells.
 * docs/policies/placement.md is the contract (objective, search, budget).
 *
 * NUMA guests: an exact branch and bound over injective maps guest cells
 * -> host nodes.
 *  - Nova's per-cell fit (cellfit.c) for every (guest cell, node), once
 *    per distinct cell shape.  A node holds at most one guest cell, so the
 *    answers are independent and feasibility is a bipartite matching.
 *  - Cells fixed by xl pnode= are assigned before the search (several
 *    cells naming one node are fitted one after the other on a clone).
 *  - The maximum distance is made exact by thresholds: for T over the
 *    distinct distances, ascending, only node sets whose pairwise
 *    distances (both directions) are <= T are searched; the first T that
 *    has an answer is the best maximum distance.
 *  - Within T: a greedy dive for an early answer, then depth first over
 *    guest cells in index order, candidate nodes ascending, pruned by a
 *    lower bound of every term, a matching of the cells left onto their
 *    candidates, and symmetry (cells of one shape take increasing nodes;
 *    of interchangeable nodes the lowest unused one is tried).  Visiting
 *    in this order makes the first optimum found the one with the
 *    smallest node ids.  Where the dive is provably optimal the search
 *    does not run (greedy_exact()).
 * Objective after distance: keep whole and half-free nodes, strand
 * little, best fit (hosts of >= k + 2 nodes), then spread or pack.
 * Guests without NUMA topology: one node when the whole guest fits on one
 * (the same search with one cell), else the fewest nodes, closest first,
 * with memory and vCPUs split over them.
 *
 * Nothing here writes to the host or the request: every answer is
 * computed from their state when np_place() was called, so calls may run
 * in parallel on one host.  The search state lives in struct eng, private
 * to one call, its arrays in one block (e->arena).
 */
#include "place/place-int.h"
#include "plan/plan-int.h"
#include "topology/topo-int.h"

#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>

#define DEFAULT_MAX_STEPS 2000000u
#define EXPLAIN_STEPS	  4000u

typedef uint64_t word;

/* Objective terms, compared in this order; lower is better in each. */
enum { T_MISS, T_MAXD, T_SUMD, T_WHOLE, T_HALF, T_STRAND, T_FIT, T_AVOID, T_ROOM, NT };
/* The terms that are a sum over (cell, node): T_LIN + L_*. */
enum { L_WHOLE, L_HALF, L_STRAND, L_FIT, L_AVOID, L_ROOM, NL };
#define T_LIN T_WHOLE

struct terms {
	int64_t v[NT];
};

/* One (guest cell, node) answer, kept for explanations. */
struct fitinfo {
	bool ok;
	enum np_resource res;
	uint64_t asked, available;
	const char *why;
};

struct eng {
	char *arena;	     /* every array below lives in it */
	const np_host *host; /* the host fits read (a clone with shared pnodes) */
	const np_host *orig;
	np_host *clone;
	const np_request *req;
	const np_topo *topo;
	np_plan *plan;
	enum np_strategy strategy;
	bool explain, pinned_kind, flat;
	uint64_t steps, max_steps;
	bool aborted;
	int n, k, nw;

	const uint32_t *d;   /* n x n distances (the topology's) */
	const uint32_t *sym; /* max(d[a][b], d[b][a]) (the host's cache) */
	const int64_t *dd;   /* d[a][b] + d[b][a] */
	const struct np__dist *dist;
	struct np__cellreq *cr; /* per cell */
	int64_t *w;		/* per cell: weight (vCPUs, at least 1) */
	int *fixed;		/* per cell: node from pnode=, or -1 */
	np_plan **mini;		/* per cell: its fit when fixed on a shared node */
	word *feas;		/* k x nw: cell i fits node j */
	struct fitinfo *fi;	/* k x n */
	int64_t *lin;		/* k x n x NL */
	int64_t *strand0;	/* per node: stranded before */
	int64_t strand_base;
	int *prev;     /* symmetry: previous interchangeable node, or -1 */
	int *cls;      /* per cell: the first cell of the same shape */
	int64_t *vals; /* 2 x (1 + NL) x n scratch for bounds */
	int *work, *pcpus, *blocked;

	/* the search */
	uint32_t T;
	uint32_t tmin; /* no answer exists below this */
	int force;     /* explain: a node every answer must use, or -1 */
	bool use_sym;
	word *compat;		  /* n x nw for the current T */
	word *allowed;		  /* (k + 1) x nw, one per depth */
	word *used, *seen, *cand; /* nw, nw, k x nw */
	int *match;		  /* n */
	int64_t *acc;		  /* per node: sum of w * dd to the assigned cells */
	int64_t *pairw;		  /* per depth: sum of w * w over the pairs left */
	int64_t dpair_min;
	bool any_pair;	 /* the threshold allows two nodes together */
	bool uniform;	 /* all nodes alike in distance: one local, one remote value */
	bool sym_done;	 /* e->prev computed (only the search needs it) */
	bool will_split; /* a guest without NUMA that may be split */
	int64_t *near;	 /* n x k: sum of the c smallest dd to compatible nodes */
	int64_t *wmin;	 /* per depth: the smallest weight of the cells left */
	int *asg, *freec, nfree;
	int *cprev; /* per depth: the depth of the last cell of the same shape, or -1 */
	struct terms cur, best;
	int *best_asg;
	bool have_best, best_dfs;

	/* PCI */
	int npci, nreq, ngroups;
	int *left, *alloc;	  /* per pool */
	int *group;		  /* per request */
	int64_t *g_need, *g_hard; /* per group: devices asked, of them `required` */
	int64_t miss_floor;	  /* no answer has fewer misses */
};

/* ---- bit sets --------------------------------------------------------- */

static bool bit(const word *s, int i)
{
	return (s[i >> 6] >> (i & 63)) & 1;
}
static void set_bit(word *s, int i)
{
	s[i >> 6] |= (word)1 << (i & 63);
}
static void clr_bit(word *s, int i)
{
	s[i >> 6] &= ~((word)1 << (i & 63));
}

/* The first index >= FROM in A & B (B NULL: in A; NEG: in A & ~B), or -1. */
static int next_in(const word *a, const word *b, bool neg, int nw, int from)
{
	for (int w = from >> 6; w < nw; w++) {
		word x = a[w];

		if (b)
			x &= neg ? ~b[w] : b[w];
		if (w == from >> 6)
			x &= ~(word)0 << (from & 63);
		if (x)
			return w * 64 + __builtin_ctzll(x);
	}
	return -1;
}

#define FOR_AND(j, a, b, e)                                                                        \
	for (int j = next_in(a, b, false, (e)->nw, 0); j >= 0;                                     \
	     j = next_in(a, b, false, (e)->nw, j + 1))

static word *row(const struct eng *e, word *base, int i)
{
	return base + (size_t)i * e->nw;
}

static int terms_cmp(const struct terms *a, const struct terms *b)
{
	for (int t = 0; t < NT; t++)
		if (a->v[t] != b->v[t])
			return a->v[t] < b->v[t] ? -1 : 1;
	return 0;
}

/* ---- setup ------------------------------------------------------------ */

static void eng_free(struct eng *e)
{
	for (int i = 0; e->mini && i < e->k; i++)
		np_plan_free(e->mini[i]);
	free(e->arena);
	np_host_free(e->clone);
}

/*
 * Every per-call array comes from one zeroed block (a call is short and
 * allocation showed in profiles): a first pass with no block measures,
 * the second carves.
 */
static void *carve(struct eng *e, size_t *used, size_t n, size_t size)
{
	void *p = e->arena ? e->arena + *used : NULL;

	*used += ((n + 1) * size + 15) & ~(size_t)15;
	return p;
}

#define CARVE(p, n) ((p) = carve(e, &used, (size_t)(n), sizeof(*(p))))

static void carve_all(struct eng *e, size_t *used_out)
{
	size_t n = (size_t)e->n, k = (size_t)e->k, nw = (size_t)e->nw, used = 0;
	size_t cpus = (size_t)np__host_max_node_cpus(e->host);
	size_t npci = (size_t)np_host_pci_pool_count(e->host);
	size_t nreq = (size_t)np_request_pci_count(e->req);

	CARVE(e->cr, k), CARVE(e->w, k), CARVE(e->fixed, k), CARVE(e->mini, k);
	CARVE(e->feas, k * nw), CARVE(e->fi, k * n), CARVE(e->lin, k * n * NL);
	CARVE(e->strand0, n), CARVE(e->prev, n), CARVE(e->work, NP__FIT_WORK(cpus));
	CARVE(e->pcpus, cpus), CARVE(e->blocked, cpus), CARVE(e->compat, n * nw);
	CARVE(e->allowed, ((k > n ? k : n) + 1) * nw), CARVE(e->used, nw), CARVE(e->seen, nw);
	CARVE(e->cand, k * nw), CARVE(e->match, n), CARVE(e->acc, n), CARVE(e->pairw, k + 1);
	CARVE(e->asg, k), CARVE(e->freec, k), CARVE(e->best_asg, k), CARVE(e->cls, k);
	CARVE(e->vals, 2 * (1 + NL) * n), CARVE(e->cprev, k), CARVE(e->near, n * k);
	CARVE(e->wmin, k + 1), CARVE(e->left, npci), CARVE(e->alloc, npci);
	CARVE(e->group, nreq), CARVE(e->g_need, nreq), CARVE(e->g_hard, nreq);
	*used_out = used;
}

static int eng_alloc(struct eng *e)
{
	size_t size;

	carve_all(e, &size);
	e->arena = np__calloc(size, 1);
	if (!e->arena)
		return NP_ENOMEM;
	carve_all(e, &size);
	return 0;
}

/* For the few arrays outside the block (the split of guests without NUMA). */
#define ALLOC(p, n) ((p) = np__calloc((size_t)(n) + 1, sizeof(*(p)))) == NULL

static void load_distances(struct eng *e)
{
	e->dist = np__host_dist(e->orig);
	e->d = e->topo->dist;
	e->sym = e->dist->sym;
	e->dd = e->dist->dd;
	e->uniform = e->dist->uniform;
}

static bool pinned_policy(enum np_cpu_policy p)
{
	return p == NP_CPU_POLICY_DEDICATED || p == NP_CPU_POLICY_MIXED;
}

static int load_cells(struct eng *e, struct np_error *err)
{
	bool iso = np_request_emulator_policy(e->req) == NP_EMULATOR_POLICY_ISOLATE;

	for (int i = 0; i < e->k; i++) {
		const struct np_guest_cell *c = np_request_cell(e->req, i);
		int pn = np_request_cell_pinned_node(e->req, i);

		e->cr[i] = (struct np__cellreq){c->nvcpus,
						c->npcpus,
						c->memory_mb,
						c->pagesize,
						np_request_cpu_policy(e->req),
						np_request_thread_policy(e->req),
						iso && i == 0 &&
						    pinned_policy(np_request_cpu_policy(e->req))};
		e->w[i] = c->nvcpus + c->npcpus > 0 ? c->nvcpus + c->npcpus : 1;
		e->fixed[i] = pn < 0 ? -1 : np_topo_node_index(e->topo, pn);
		if (c->memory_mb > NP__MAX_CELL_MB)
			return np__err(err, NP_EINPUT,
				       "guest cell %d: %llu MiB is more than any host has", i,
				       (unsigned long long)c->memory_mb);
		if (pn >= 0 && e->fixed[i] < 0)
			return np__err(err, NP_EINPUT,
				       "guest cell %d: pnode=%d is not a node of the host", i, pn);
	}
	return 0;
}

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

	np_host_limits(h, &ratio, NULL);
	fm = (double)hn->memory_mb - (double)hn->memory_used_mb - (double)mem;
	fm = fm > 0 ? fm : 0;
	if (e->pinned_kind)
		fc = (double)hn->ndedicated - hn->npinned - pins;
	else
		fc = ratio > 0 ? ((double)hn->nshared * ratio - hn->cpu_usage - floats) / ratio : 0;
	fc = fc > 0 ? fc : 0;
	per_cpu = set > 0 ? (double)hn->memory_mb / set : 0;
	v.strand =
	    round_mb(set > 0 ? (fm > fc * per_cpu ? fm - fc * per_cpu : fc * per_cpu - fm) : fm);
	v.room = round_mb(fm + fc * per_cpu);
	a = set > 0 ? (fc < set ? fc / set : 1) : 0;
	b = hn->memory_mb ? (fm < (double)hn->memory_mb ? fm / (double)hn->memory_mb : 1) : 0;
	v.whole = set > 0 && hn->memory_mb && a >= 1 && b >= 1;
	v.half = (set > 0 && 2 * a >= 1) + (hn->memory_mb && 2 * b >= 1);
	v.fit = round_mb((a * a + b * b) * FIT_SCALE);
	return v;
}

static int64_t pci_free_on(const np_host *h, int j)
{
	int64_t n = 0;

	for (int p = 0; p < np_host_pci_pool_count(h); p++)
		if (np_host_pci_pool(h, p)->node_idx == j)
			n += np_host_pci_pool(h, p)->count - np_host_pci_pool(h, p)->used;
	return n;
}

/*
 * The sum terms of putting MEM/FLOATS/PINS on node J of host H.  The
 * fragmentation terms (whole, half, fit) need room to keep a node whole:
 * on a host of at most k + 1 nodes a later guest of k + 1 cells would find
 * no partner for it, so there they are 0 and the nodes are kept level by
 * the stranding and strategy terms alone.
 */
static void lin_terms(const struct eng *e, const np_host *h, int j, uint64_t mem, int floats,
		      int pins, int64_t *out)
{
	struct nodeval v0 = node_metric(e, h, j, 0, 0, 0);
	struct nodeval v1 = node_metric(e, h, j, mem, floats, pins);
	bool frag = e->n >= e->k + 2;

	out[L_WHOLE] = frag ? v0.whole - v1.whole : 0;
	out[L_HALF] = frag ? v0.half - v1.half : 0;
	out[L_FIT] = frag ? v0.fit - v1.fit : 0;
	out[L_STRAND] = v1.strand - v0.strand;
	out[L_AVOID] = e->nreq ? 0 : pci_free_on(h, j);
	out[L_ROOM] = e->strategy == NP_STRATEGY_PACK ? v1.room : -v1.room;
}

/* ---- per-cell fits ------------------------------------------------------ */

static int64_t *lin(const struct eng *e, int i, int j)
{
	return &e->lin[((size_t)i * e->n + j) * NL];
}

static void fit_one(struct eng *e, const np_host *h, int i, int j, struct np__fit *f)
{
	f->pcpus = e->pcpus;
	f->blocked = e->blocked;
	np__cell_fit(h, j, &e->cr[i], e->work, f);
	e->fi[i * e->n + j] = (struct fitinfo){f->ok, f->res, f->asked, f->available, f->why};
	if (!f->ok)
		return;
	set_bit(row(e, e->feas, i), j);
	lin_terms(e, h, j, e->cr[i].memory_mb, e->cr[i].nfloat,
		  f->npins + (f->reserved >= 0) + f->nblocked, lin(e, i, j));
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
static np_plan *mini_plan(const struct eng *e, int i, int j, const struct np__fit *f)
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
		e->mini[i] = mini_plan(e, i, e->fixed[i], &f);
		if (!e->mini[i])
			return np__err(err, NP_ENOMEM, "out of memory");
		if ((rc = np_host_charge(e->clone, e->mini[i], false, err)))
			return rc;
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

static int compute_fits(struct eng *e, struct np_error *err)
{
	struct np__fit f;
	int rc;

	for (int i = 0; i < e->k; i++)
		for (int j = 0; j < e->n; j++)
			e->fi[i * e->n + j] = (struct fitinfo){false, NP_RES_NODES, 0, 0,
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

/* ---- symmetry ----------------------------------------------------------- */

static bool node_equal(const struct eng *e, int a, int b)
{
	for (int i = 0; i < e->k; i++) {
		if (bit(row(e, e->feas, i), a) != bit(row(e, e->feas, i), b))
			return false;
		if (bit(row(e, e->feas, i), a) &&
		    memcmp(lin(e, i, a), lin(e, i, b), NL * sizeof(int64_t)) != 0)
			return false;
	}
	if (e->nreq && (pci_free_on(e->host, a) || pci_free_on(e->host, b)))
		return false; /* devices make nodes different for PCI guests */
	return np_host_node(e->host, a)->socket == np_host_node(e->host, b)->socket;
}

static bool is_fixed_node(const struct eng *e, int j)
{
	for (int i = 0; i < e->k; i++)
		if (e->fixed[i] == j)
			return true;
	return false;
}

static void compute_symmetry(struct eng *e)
{
	const int *twin = np__host_twins(e->orig);

	if (e->sym_done)
		return;
	e->sym_done = true;
	for (int j = 0; j < e->n; j++) {
		e->prev[j] = -1;
		if (is_fixed_node(e, j))
			continue;
		for (int t = twin[j]; t >= 0 && e->prev[j] < 0; t = twin[t])
			if (!is_fixed_node(e, t) && node_equal(e, j, t))
				e->prev[j] = t;
	}
}

/* ---- PCI ---------------------------------------------------------------- */

static int setup_pci(struct eng *e)
{
	e->npci = np_host_pci_pool_count(e->host);
	e->nreq = np_request_pci_count(e->req);
	for (int r = 0; r < e->nreq; r++) {
		const struct np_pci_request *q = np_request_pci(e->req, r);
		int g;

		for (g = 0; g < r; g++)
			if (np_request_pci(e->req, g)->vendor == q->vendor &&
			    np_request_pci(e->req, g)->product == q->product)
				break;
		e->group[r] = g < r ? e->group[g] : e->ngroups++;
		e->g_need[e->group[r]] += q->count;
		if (q->policy == NP_PCI_POLICY_REQUIRED && !e->flat)
			e->g_hard[e->group[r]] += q->count;
	}
	return 0;
}

static bool pool_matches(const struct np_pci_pool *p, const struct np_pci_request *q)
{
	return p->vendor == q->vendor && p->product == q->product;
}

static bool sockets_known(const struct eng *e)
{
	for (int j = 0; j < e->n; j++)
		if (np_host_node(e->host, j)->socket < 0)
			return false;
	return true;
}

/* 0: on a chosen node, 1: no NUMA node, 2: another node of a chosen socket, 3: elsewhere. */
static int pool_level(const struct eng *e, const struct np_pci_pool *p, const word *nodes,
		      bool socks_known)
{
	int s;

	if (p->node_idx < 0)
		return 1;
	if (bit(nodes, p->node_idx))
		return 0;
	s = np_host_node(e->host, p->node_idx)->socket;
	if (!socks_known)
		return 3;
	FOR_AND(j, nodes, NULL, e)
	if (np_host_node(e->host, j)->socket == s)
		return 2;
	return 3;
}

/* Which levels a policy may use (Nova's _filter_pools_for_numa_cells). */
static unsigned policy_levels(const struct eng *e, enum np_pci_policy p)
{
	if (e->flat)
		return 0xf; /* no guest NUMA: Nova does not filter by node */
	switch (p) {
	case NP_PCI_POLICY_REQUIRED:
		return 0x1;
	case NP_PCI_POLICY_SOCKET:
		return 0x5;
	case NP_PCI_POLICY_LEGACY:
		return 0x3;
	default:
		return 0xf;
	}
}

/* Take up to *NEED devices for Q from the pools at level L; returns the misses. */
static int take_level(struct eng *e, const struct np_pci_request *q, int l, const word *nodes,
		      bool socks, int *need)
{
	int taken = 0;

	for (int p = 0; p<e->npci && * need> 0; p++) {
		const struct np_pci_pool *pool = np_host_pci_pool(e->host, p);
		int take;

		if (!pool_matches(pool, q) || !e->left[p] || pool_level(e, pool, nodes, socks) != l)
			continue;
		take = e->left[p] < *need ? e->left[p] : *need;
		e->left[p] -= take;
		e->alloc[p] += take;
		*need -= take;
		taken += take;
	}
	return l ? taken : 0;
}

/*
 * Take the devices of every PCI request, in order, for a guest on NODES:
 * nearest level first, pools in order.  Returns the devices taken off the
 * chosen nodes, or -1 when a request cannot be met; e->alloc holds what
 * was taken per pool.
 */
static int64_t pci_eval(struct eng *e, const word *nodes)
{
	bool socks = sockets_known(e);
	int64_t misses = 0;

	for (int p = 0; p < e->npci; p++) {
		const struct np_pci_pool *pool = np_host_pci_pool(e->host, p);

		e->left[p] = pool->count - pool->used;
		e->alloc[p] = 0;
	}
	for (int r = 0; r < e->nreq; r++) {
		const struct np_pci_request *q = np_request_pci(e->req, r);
		unsigned levels = policy_levels(e, q->policy);
		int need = q->count;

		for (int l = 0; l < 4 && need > 0; l++)
			if (levels >> l & 1)
				misses += take_level(e, q, l, nodes, socks, &need);
		if (need > 0)
			return -1;
	}
	return misses;
}

/* A lower bound on misses when the guest ends up within NODES; -1: infeasible. */
static int64_t pci_bound(const struct eng *e, const word *nodes)
{
	int64_t lb = 0;

	for (int g = 0; g < e->ngroups; g++) {
		int64_t on = 0;

		for (int p = 0; p < e->npci; p++) {
			const struct np_pci_pool *pool = np_host_pci_pool(e->host, p);
			int r;

			for (r = 0; r < e->nreq && e->group[r] != g; r++)
				;
			if (pool->node_idx >= 0 && bit(nodes, pool->node_idx) &&
			    pool_matches(pool, np_request_pci(e->req, r)))
				on += pool->count - pool->used;
		}
		if (e->g_hard[g] > on)
			return -1;
		lb += e->g_need[g] > on ? e->g_need[g] - on : 0;
	}
	return lb;
}

/* ---- the search ------------------------------------------------------- */

static void assign(struct eng *e, int i, int j)
{
	const int64_t *ddj = &e->dd[(size_t)j * e->n];
	const int64_t *l = lin(e, i, j);

	e->cur.v[T_SUMD] += e->w[i] * e->acc[j];
	for (int x = 0; x < e->n; x++)
		e->acc[x] += e->w[i] * ddj[x];
	for (int t = 0; t < NL; t++)
		e->cur.v[T_LIN + t] += l[t];
	e->asg[i] = j;
	set_bit(e->used, j);
}

static void unassign(struct eng *e, int i, int j)
{
	const int64_t *ddj = &e->dd[(size_t)j * e->n];
	const int64_t *l = lin(e, i, j);

	for (int x = 0; x < e->n; x++)
		e->acc[x] -= e->w[i] * ddj[x];
	e->cur.v[T_SUMD] -= e->w[i] * e->acc[j];
	for (int t = 0; t < NL; t++)
		e->cur.v[T_LIN + t] -= l[t];
	e->asg[i] = -1;
	clr_bit(e->used, j);
}

/* The max distance once node J joins the assigned cells. */
static int64_t max_with(const struct eng *e, int j, int64_t m)
{
	m = m > e->d[j * e->n + j] ? m : e->d[j * e->n + j];
	for (int i = 0; i < e->k; i++)
		if (e->asg[i] >= 0 && e->sym[j * e->n + e->asg[i]] > m)
			m = e->sym[j * e->n + e->asg[i]];
	return m;
}

static bool augment(struct eng *e, int q)
{
	const word *c = row(e, e->cand, q);

	for (int j = next_in(c, e->seen, true, e->nw, 0); j >= 0;
	     j = next_in(c, e->seen, true, e->nw, j + 1)) {
		set_bit(e->seen, j);
		if (e->match[j] < 0 || augment(e, e->match[j])) {
			e->match[j] = q;
			return true;
		}
	}
	return false;
}

/*
 * How many of the R cells whose candidates are in e->cand go on distinct
 * nodes (ALL: try every cell; else stop at the first that cannot).
 */
static int matched(struct eng *e, int r, bool all)
{
	int m = 0;

	for (int j = 0; j < e->n; j++)
		e->match[j] = -1;
	for (int q = 0; q < r; q++) {
		memset(e->seen, 0, (size_t)e->nw * sizeof(word));
		if (augment(e, q))
			m++;
		else if (!all)
			break;
	}
	return m;
}

static bool matching(struct eng *e, int r)
{
	return matched(e, r, false) == r;
}

/* The sum of the C smallest of V[0..M-1] (C <= M); V is reordered. */
static int64_t smallest_sum(int64_t *v, int m, int c)
{
	int64_t sum = 0;

	for (int a = 0; a < c; a++) {
		int best = a;
		int64_t t;

		for (int b = a + 1; b < m; b++)
			best = v[b] < v[best] ? b : best;
		t = v[best];
		v[best] = v[a];
		v[a] = t;
		sum += t;
	}
	return sum;
}

/*
 * The lowest node the cell at depth D may take when the search stands at
 * DEPTH: above the node of the last placed cell of its shape.
 */
static int above(const struct eng *e, int depth, int d)
{
	int p = e->cprev[d];

	while (p >= depth)
		p = e->cprev[p];
	return p >= 0 ? e->asg[e->freec[p]] + 1 : 0;
}

/* Cell I's terms on node J that a bound adds up: weighted attraction, then the sums. */
static void cell_terms(const struct eng *e, int i, int j, int64_t *v)
{
	v[0] = e->w[i] * e->acc[j];
	for (int t = 0; t < NL; t++)
		v[1 + t] = lin(e, i, j)[t];
}

/* Candidates of the cell at depth DEPTH + Q into e->cand row Q; returns the cell. */
static int fill_cand(struct eng *e, int depth, int q)
{
	const word *al = row(e, e->allowed, depth);
	int i = e->freec[depth + q], lo = above(e, depth, depth + q);
	word *cq = row(e, e->cand, q);

	for (int x = 0; x < e->nw; x++) {
		word keep = x < lo >> 6 ? 0 : x > lo >> 6 ? ~(word)0 : ~(word)0 << (lo & 63);

		cq[x] = row(e, e->feas, i)[x] & al[x] & keep;
	}
	return i;
}

/*
 * The first cell left of its shape, at row Q: the C cells of that shape
 * cost at least the C cheapest candidates, term by term (into PER); note
 * each candidate's cost in NODEMIN for the second relaxation.
 */
static bool shape_bound(struct eng *e, int depth, int q, int64_t *per, int64_t *nodemin)
{
	int i = e->freec[depth + q], r = e->nfree - depth, c = 0, m = 0;

	for (int p = q; p < r; p++)
		c += e->cls[e->freec[depth + p]] == e->cls[i];
	FOR_AND(j, row(e, e->cand, q), NULL, e)
	{
		int64_t v[1 + NL];

		cell_terms(e, i, j, v);
		for (int t = 0; t <= NL; t++) {
			int64_t *nm = &nodemin[t * e->n + j];

			e->vals[t * e->n + m] = v[t];
			*nm = v[t] < *nm ? v[t] : *nm;
		}
		m++;
	}
	if (m < c)
		return false;
	for (int t = 0; t <= NL; t++)
		per[t] += smallest_sum(e->vals + t * e->n, m, c);
	return true;
}

/*
 * Fill e->cand for the cells left at DEPTH (each shape above the node of
 * its last placed cell) and add to LB what they cost at least, term by
 * term, the larger of two relaxations: per shape, the C cells need C
 * distinct candidates (shape_bound); all R cells need R distinct nodes,
 * each costing at least its cheapest shape.
 */
static bool cheapest(struct eng *e, int depth, struct terms *lb)
{
	int64_t per[1 + NL] = {0}, *nodemin = e->vals + (1 + NL) * e->n, big = INT64_MAX / 4;
	int r = e->nfree - depth, nm = 0, shapes = 0;

	for (int x = 0; x < (1 + NL) * e->n; x++)
		nodemin[x] = big;
	for (int q = 0; q < r; q++) {
		int i = fill_cand(e, depth, q), first = 0;

		while (e->cls[e->freec[depth + first]] != e->cls[i])
			first++;
		if (first < q)
			continue; /* its shape was counted with the first of its cells */
		shapes++;
		if (!shape_bound(e, depth, q, per, nodemin))
			return false;
	}
	for (int x = 0; x < e->n && shapes > 1; x++)
		if (nodemin[x] < big) {
			for (int t = 0; t <= NL; t++)
				e->vals[t * e->n + nm] = nodemin[t * e->n + x];
			nm++;
		}
	if (shapes > 1 && nm < r)
		return false;
	for (int t = 0; t <= NL; t++) {
		/* One shape: both relaxations are the same sums. */
		int64_t all = shapes > 1 ? smallest_sum(e->vals + t * e->n, nm, r) : per[t];

		lb->v[T_SUMD + t] += all > per[t] ? all : per[t];
	}
	return true;
}

/*
 * The pairs among the R cells left cost at least: R distinct nodes, each
 * at least its R - 1 nearest compatible nodes away from the others (half
 * of that sum, as each pair is counted from both ends), at the smallest
 * weight; and every pair at least the closest pair.
 */
static int64_t pairs_bound(struct eng *e, int depth, int r)
{
	int64_t flat = e->pairw[depth] * e->dpair_min, sum;
	int m = 0;

	if (r < 2)
		return 0;
	if (e->nfree <= 2)
		return flat; /* one pair: the closest pair is as good a bound */
	FOR_AND(x, row(e, e->allowed, depth), NULL, e)
	if (e->near[(size_t)x * e->k + r - 1] < INT64_MAX / 4)
		e->vals[m++] = e->near[(size_t)x * e->k + r - 1];
	if (m < r)
		return -1; /* fewer than R nodes with R - 1 compatible neighbours */
	sum = (smallest_sum(e->vals, m, r) + 1) / 2 * e->wmin[depth] * e->wmin[depth];
	return sum > flat ? sum : flat;
}

/* May the subtree at DEPTH still hold something better than the best? */
static bool promising(struct eng *e, int depth)
{
	struct terms lb = e->cur;
	int r = e->nfree - depth, c;
	int64_t pb;

	if (e->force >= 0 && !bit(e->used, e->force) && !bit(row(e, e->allowed, depth), e->force))
		return false;
	if (!cheapest(e, depth, &lb))
		return false;
	/* Every threshold below tmin was refuted: no answer is closer. */
	lb.v[T_MAXD] = lb.v[T_MAXD] > e->tmin ? lb.v[T_MAXD] : e->tmin;
	pb = pairs_bound(e, depth, r);
	if (pb < 0)
		return false;
	lb.v[T_SUMD] += pb;
	if (e->nreq) {
		word *s = e->seen; /* used | allowed, borrowed */

		for (int x = 0; x < e->nw; x++)
			s[x] = e->used[x] | row(e, e->allowed, depth)[x];
		lb.v[T_MISS] = pci_bound(e, s);
		if (lb.v[T_MISS] < 0)
			return false;
	}
	c = e->have_best ? terms_cmp(&lb, &e->best) : -1;
	if (c > 0 || (c == 0 && e->best_dfs))
		return false;
	return r < 2 || matching(e, r);
}

static int ids_cmp(const struct eng *e, const int *a, const int *b)
{
	for (int i = 0; i < e->k; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/*
 * A complete assignment.  From the depth-first search (FROM_DFS), which
 * visits them in increasing id order, the first of a given score is the
 * one with the smallest ids; from the greedy dive, it is only a bound.
 */
static void offer_terms(struct eng *e, struct terms t, bool from_dfs)
{
	int c;

	if (e->force >= 0 && !bit(e->used, e->force))
		return;
	if (e->nreq && (t.v[T_MISS] = pci_eval(e, e->used)) < 0)
		return;
	c = e->have_best ? terms_cmp(&t, &e->best) : -1;
	if (c < 0 || (c == 0 && !e->best_dfs && ids_cmp(e, e->asg, e->best_asg) < 0)) {
		e->best = t;
		memcpy(e->best_asg, e->asg, (size_t)e->k * sizeof(int));
		e->have_best = true;
		e->best_dfs = from_dfs;
	}
	if (c == 0 && from_dfs)
		e->best_dfs = true;
}

static void offer(struct eng *e, bool from_dfs)
{
	offer_terms(e, e->cur, from_dfs);
}

/* The last cell: score each candidate without moving the search state. */
static void last_cell(struct eng *e, int depth, int i, int from)
{
	const word *al = row(e, e->allowed, depth);

	for (int j = next_in(row(e, e->feas, i), al, false, e->nw, from); j >= 0;
	     j = next_in(row(e, e->feas, i), al, false, e->nw, j + 1)) {
		struct terms t = e->cur;

		if (e->use_sym && e->prev[j] >= 0 && !bit(e->used, e->prev[j]))
			continue;
		e->steps++;
		t.v[T_MAXD] = max_with(e, j, t.v[T_MAXD]);
		t.v[T_SUMD] += e->w[i] * e->acc[j];
		for (int l = 0; l < NL; l++)
			t.v[T_LIN + l] += lin(e, i, j)[l];
		e->asg[i] = j;
		set_bit(e->used, j);
		offer_terms(e, t, true);
		clr_bit(e->used, j);
		e->asg[i] = -1;
	}
}

/* The cheapest candidate of cell I at DEPTH, or -1: a greedy step. */
static int greedy_pick(struct eng *e, int depth, int i)
{
	const word *al = row(e, e->allowed, depth);
	int best = -1;
	int64_t bv[1 + NL];

	for (int j = next_in(row(e, e->feas, i), al, false, e->nw, 0); j >= 0;
	     j = next_in(row(e, e->feas, i), al, false, e->nw, j + 1)) {
		int64_t v[1 + NL] = {e->w[i] * e->acc[j]};
		int t;

		for (t = 0; t < NL; t++)
			v[1 + t] = lin(e, i, j)[t];
		for (t = 0; t <= NL && v[t] == bv[t]; t++)
			;
		if (best < 0 || (t <= NL && v[t] < bv[t])) {
			best = j;
			memcpy(bv, v, sizeof(bv));
		}
	}
	return best;
}

/*
 * Offer the dive's assignment with the nodes of each shape's cells sorted
 * (the same score: those cells are interchangeable); it stays assigned.
 */
static void offer_canonical(struct eng *e)
{
	int *a = e->match; /* borrowed: n >= k entries */

	for (int d = 0; d < e->nfree; d++)
		a[d] = e->asg[e->freec[d]];
	for (int d = 0; d < e->nfree; d++)
		for (int p = 0; p < d; p++)
			if (e->cls[e->freec[p]] == e->cls[e->freec[d]] && a[p] > a[d]) {
				int t = a[p];

				a[p] = a[d];
				a[d] = t;
			}
	for (int d = e->nfree - 1; d >= 0; d--)
		unassign(e, e->freec[d], e->asg[e->freec[d]]);
	for (int d = 0; d < e->nfree; d++)
		assign(e, e->freec[d], a[d]);
	offer(e, false);
}

/* A greedy dive from the root, for an early bound. */
static void dive(struct eng *e)
{
	int64_t old = e->cur.v[T_MAXD];
	int d;

	for (d = 0; d < e->nfree; d++) {
		int i = e->freec[d], j = greedy_pick(e, d, i);
		word *nx = row(e, e->allowed, d + 1);

		if (j < 0)
			break;
		e->steps++;
		e->cur.v[T_MAXD] = max_with(e, j, e->cur.v[T_MAXD]);
		assign(e, i, j);
		for (int x = 0; x < e->nw; x++)
			nx[x] = row(e, e->allowed, d)[x] & row(e, e->compat, j)[x];
	}
	if (d == e->nfree)
		offer_canonical(e);
	while (--d >= 0)
		unassign(e, e->freec[d], e->asg[e->freec[d]]);
	e->cur.v[T_MAXD] = old;
}

static void dfs(struct eng *e, int depth)
{
	const word *al = row(e, e->allowed, depth);
	word *nx = row(e, e->allowed, depth + 1);
	int i, from;

	if (e->aborted || ++e->steps > e->max_steps) {
		e->aborted = true;
		return;
	}
	if (depth == e->nfree) {
		offer(e, true);
		return;
	}
	if (!promising(e, depth))
		return;
	i = e->freec[depth];
	/* Cells of one shape are interchangeable: their nodes increase. */
	from = above(e, depth, depth);
	if (depth == e->nfree - 1) {
		last_cell(e, depth, i, from);
		return;
	}
	for (int j = next_in(row(e, e->feas, i), al, false, e->nw, from); j >= 0;
	     j = next_in(row(e, e->feas, i), al, false, e->nw, j + 1)) {
		int64_t old = e->cur.v[T_MAXD];

		if (e->use_sym && e->prev[j] >= 0 && !bit(e->used, e->prev[j]))
			continue;
		e->cur.v[T_MAXD] = max_with(e, j, old);
		assign(e, i, j);
		for (int x = 0; x < e->nw; x++)
			nx[x] = al[x] & row(e, e->compat, j)[x];
		dfs(e, depth + 1);
		unassign(e, i, j);
		e->cur.v[T_MAXD] = old;
		if (e->aborted)
			return;
	}
}

/* near[a][c]: the sum of the C smallest dd from A to nodes compatible with it. */
static void nearest(struct eng *e, int a)
{
	int64_t *buf = e->vals, *out = &e->near[(size_t)a * e->k], big = INT64_MAX / 4;
	int m = 0, cap = e->k - 1;

	FOR_AND(b, row(e, e->compat, a), NULL, e)
	{
		int64_t v = e->dd[a * e->n + b];
		int p;

		if (m == cap && (cap == 0 || v >= buf[m - 1]))
			continue;
		for (p = m < cap ? m++ : m - 1; p > 0 && buf[p - 1] > v; p--)
			buf[p] = buf[p - 1];
		buf[p] = v;
	}
	out[0] = 0;
	for (int c = 1; c < e->k; c++)
		out[c] = c <= m && out[c - 1] < big ? out[c - 1] + buf[c - 1] : big;
}

/* Compatibility within T, the smallest pair cost, the allowed root set. */
static void set_threshold(struct eng *e, uint32_t T)
{
	word *root = row(e, e->allowed, 0);

	e->T = T;
	e->dpair_min = INT64_MAX;
	memset(e->compat, 0, (size_t)e->n * e->nw * sizeof(word));
	memset(root, 0, (size_t)e->nw * sizeof(word));
	for (int a = 0; a < e->n; a++) {
		if (e->d[a * e->n + a] > T)
			continue;
		set_bit(root, a);
		for (int b = 0; b < e->n; b++) {
			if (b == a || e->sym[a * e->n + b] > T || e->d[b * e->n + b] > T)
				continue;
			set_bit(row(e, e->compat, a), b);
			e->dpair_min =
			    e->dd[a * e->n + b] < e->dpair_min ? e->dd[a * e->n + b] : e->dpair_min;
		}
	}
	e->any_pair = e->dpair_min != INT64_MAX;
	if (!e->any_pair)
		e->dpair_min = 0;
	for (int a = 0; a < e->n && e->any_pair && e->nfree > 2; a++)
		nearest(e, a);
	for (int i = 0; i < e->k; i++)
		if (e->fixed[i] >= 0) {
			for (int x = 0; x < e->nw; x++)
				root[x] &= row(e, e->compat, e->fixed[i])[x];
		}
	for (int x = 0; x < e->nw; x++)
		root[x] &= ~e->used[x];
}

/*
 * When the greedy dive is the optimum: one cell left to place (within T
 * every answer has the same maximum distance), or cells of one shape on a
 * host whose distances are all alike (the weighted sum is then the same
 * for every set, and the sums of the other terms are smallest for the
 * nodes taken in order of their own terms, ids breaking ties).  Devices
 * and forced nodes make the choice depend on the set: not then.
 */
static bool greedy_exact(const struct eng *e)
{
	if (e->nreq || e->force >= 0)
		return false;
	if (e->nfree <= 1)
		return true;
	if (!e->uniform || e->nfree < e->k)
		return false;
	for (int d = 1; d < e->nfree; d++)
		if (e->cls[e->freec[d]] != e->cls[e->freec[0]])
			return false;
	return true;
}

/* Run the threshold loop from FROM; e->tmin ends at the first T not refuted. */
static void search(struct eng *e, uint32_t from)
{
	const uint32_t *ts = e->dist->thresholds;
	int nt = e->dist->nthresholds, t0 = 0;

	while (t0 < nt && ts[t0] < from)
		t0++;
	e->tmin = t0 < nt ? ts[t0] : from;
	for (int t = t0; t < nt && !e->aborted; t++) {
		if (e->have_best && e->best.v[T_MISS] <= e->miss_floor)
			break;
		set_threshold(e, ts[t]);
		if (e->nfree < 2 || e->any_pair) {
			dive(e);
			if (!greedy_exact(e)) {
				compute_symmetry(e);
				dfs(e, 0);
			}
		}
		if (!e->have_best && !e->aborted && t + 1 < nt)
			e->tmin = ts[t + 1];
	}
}

/* Fixed cells: assigned for good before the search. */
static void preassign(struct eng *e)
{
	int64_t m = 0;

	for (int i = 0; i < e->k; i++)
		e->asg[i] = -1;
	memset(e->acc, 0, (size_t)e->n * sizeof(*e->acc));
	memset(e->used, 0, (size_t)e->nw * sizeof(word));
	memset(&e->cur, 0, sizeof(e->cur));
	e->nfree = 0;
	for (int i = 0; i < e->k; i++) {
		if (e->fixed[i] < 0) {
			e->freec[e->nfree++] = i;
			continue;
		}
		m = max_with(e, e->fixed[i], m);
		assign(e, i, e->fixed[i]);
	}
	e->cur.v[T_MAXD] = m;
	for (int d = 0; d < e->nfree; d++) {
		e->cprev[d] = -1;
		for (int p = 0; p < d; p++)
			if (e->cls[e->freec[p]] == e->cls[e->freec[d]])
				e->cprev[d] = p;
	}
	e->pairw[e->nfree] = 0;
	e->wmin[e->nfree] = 0;
	for (int d = e->nfree - 1; d >= 0; d--) {
		int64_t w = e->w[e->freec[d]];

		e->wmin[d] = d == e->nfree - 1 || w < e->wmin[d + 1] ? w : e->wmin[d + 1];
		e->pairw[d] = e->pairw[d + 1];
		for (int q = d + 1; q < e->nfree; q++)
			e->pairw[d] += e->w[e->freec[d]] * e->w[e->freec[q]];
	}
}

/* The smallest T any answer can have, given the fixed cells. */
static uint32_t fixed_floor(const struct eng *e)
{
	uint32_t m = 0;

	for (int i = 0; i < e->k; i++)
		for (int p = 0; p <= i && e->fixed[i] >= 0; p++)
			if (e->fixed[p] >= 0 && e->sym[e->fixed[i] * e->n + e->fixed[p]] > m)
				m = e->sym[e->fixed[i] * e->n + e->fixed[p]];
	return m;
}

/* Without distances: how many free cells fit on distinct free nodes? */
static int root_matched(struct eng *e)
{
	for (int q = 0; q < e->nfree; q++)
		for (int x = 0; x < e->nw; x++)
			row(e, e->cand, q)[x] = row(e, e->feas, e->freec[q])[x] & ~e->used[x];
	return matched(e, e->nfree, true);
}

/* The matching as a last resort answer when the budget ran out. */
static void take_matching(struct eng *e)
{
	struct terms t;

	if (root_matched(e) < e->nfree)
		return;
	for (int j = 0; j < e->n; j++)
		if (e->match[j] >= 0)
			e->asg[e->freec[e->match[j]]] = j;
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < e->k; i++) {
		for (int p = 0; p < i; p++) {
			t.v[T_SUMD] += e->w[i] * e->w[p] * e->dd[e->asg[i] * e->n + e->asg[p]];
			if (e->sym[e->asg[i] * e->n + e->asg[p]] > t.v[T_MAXD])
				t.v[T_MAXD] = e->sym[e->asg[i] * e->n + e->asg[p]];
		}
		t.v[T_MAXD] = t.v[T_MAXD] > e->d[e->asg[i] * (e->n + 1)]
				  ? t.v[T_MAXD]
				  : e->d[e->asg[i] * (e->n + 1)];
		for (int l = 0; l < NL; l++)
			t.v[T_LIN + l] += lin(e, i, e->asg[i])[l];
		set_bit(e->used, e->asg[i]);
	}
	if (e->nreq && (t.v[T_MISS] = pci_eval(e, e->used)) < 0)
		return;
	e->best = t;
	memcpy(e->best_asg, e->asg, (size_t)e->k * sizeof(int));
	e->have_best = true;
}

/* ---- reasons ------------------------------------------------------------ */

static const char *unit(enum np_resource r)
{
	static const char *const u[] = {"MiB",	   "pages", "pCPUs", "vCPUs", "CPUs",
					"devices", "",	    "nodes", "KiB"};

	return (unsigned)r < NP__ARRAY_SIZE(u) ? u[r] : "";
}

static int os_id(const struct eng *e, int j)
{
	return np_topo_node(e->topo, j)->os_id;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int explain_fits(struct eng *e)
{
	int rc = 0;

	for (int i = 0; i < e->k && !rc; i++)
		for (int j = 0; j < e->n && !rc; j++) {
			const struct fitinfo *f = &e->fi[i * e->n + j];

			if (f->ok || (e->fixed[i] >= 0 && e->fixed[i] != j))
				continue;
			rc = np__plan_add_reason(
			    e->plan, i, j, -1, f->res, f->asked, f->available,
			    "why not node %d for guest cell %d: %llu %s asked, "
			    "%llu available (%s)",
			    os_id(e, j), i, (unsigned long long)f->asked, unit(f->res),
			    (unsigned long long)f->available, f->why);
		}
	return rc;
}

/* "{4,5}" or "node 4": the nodes of ASG. */
static void set_text(const struct eng *e, const int *asg, char *buf, size_t size)
{
	int ids[64], m = 0, len;

	for (int i = 0; i < e->k && m < 64; i++) {
		int id = os_id(e, asg[i]), p;

		for (p = 0; p < m && ids[p] != id; p++)
			;
		if (p == m)
			ids[m++] = id;
	}
	qsort(ids, (size_t)m, sizeof(int), cmp_int);
	if (m == 1) {
		snprintf(buf, size, "node %d", ids[0]);
		return;
	}
	len = snprintf(buf, size, "{");
	for (int p = 0; p < m && len > 0 && (size_t)len < size; p++)
		len += snprintf(buf + len, size - (size_t)len, "%s%d", p ? "," : "", ids[p]);
	if (len > 0 && (size_t)len < size)
		snprintf(buf + len, size - (size_t)len, "}");
}

/* Why the alternative ALT (terms A, nodes ASG) lost against the winner W. */
static int explain_loser(struct eng *e, const struct terms *w, const struct terms *a,
			 const int *asg, int j)
{
	char set[160];
	int j2 = -1;

	set_text(e, asg, set, sizeof(set));
	for (int r = 0; r < e->plan->nreasons; r++) {
		const char *t = e->plan->reasons[r].text;

		if (!strncmp(t, "why not ", 8) && !strncmp(t + 8, set, strlen(set)) &&
		    t[8 + strlen(set)] == ':')
			return 0; /* this set was explained already */
	}
	for (int i = 0; i < e->k && j2 < 0; i++)
		j2 = asg[i] != j ? asg[i] : -1;
	if (a->v[T_MISS] > w->v[T_MISS])
		return np__plan_add_reason(
		    e->plan, -1, j, j2, NP_RES_PCI, (uint64_t)w->v[T_MISS], (uint64_t)a->v[T_MISS],
		    "why not %s: %lld PCI devices off its nodes (chosen: %lld)", set,
		    (long long)a->v[T_MISS], (long long)w->v[T_MISS]);
	if (a->v[T_MAXD] > w->v[T_MAXD])
		return np__plan_add_reason(e->plan, -1, j, j2, NP_RES_DISTANCE,
					   (uint64_t)w->v[T_MAXD], (uint64_t)a->v[T_MAXD],
					   "why not %s: distance %lld (chosen: %lld)", set,
					   (long long)a->v[T_MAXD], (long long)w->v[T_MAXD]);
	if (a->v[T_SUMD] > w->v[T_SUMD])
		return np__plan_add_reason(e->plan, -1, j, j2, NP_RES_DISTANCE,
					   (uint64_t)w->v[T_SUMD], (uint64_t)a->v[T_SUMD],
					   "why not %s: weighted distance %lld (chosen: %lld)", set,
					   (long long)a->v[T_SUMD], (long long)w->v[T_SUMD]);
	return np__plan_add_reason(
	    e->plan, -1, j, j2, NP_RES_STRANDED, (uint64_t)(e->strand_base + w->v[T_STRAND]),
	    (uint64_t)(e->strand_base + a->v[T_STRAND]),
	    a->v[T_WHOLE] > w->v[T_WHOLE]     ? "why not %s: it uses up more wholly free nodes"
	    : a->v[T_HALF] > w->v[T_HALF]     ? "why not %s: it leaves fewer nodes half free"
	    : a->v[T_STRAND] > w->v[T_STRAND] ? "why not %s: it strands more capacity"
	    : a->v[T_FIT] > w->v[T_FIT]	      ? "why not %s: it fits less tightly (best fit)"
	    : a->v[T_AVOID] > w->v[T_AVOID]   ? "why not %s: it holds PCI devices others may need"
	    : a->v[T_ROOM] > w->v[T_ROOM]
		? (e->strategy == NP_STRATEGY_PACK ? "why not %s: pack prefers fuller nodes"
						   : "why not %s: spread prefers more room left")
		: "why not %s: as good, the chosen nodes have lower ids",
	    set);
}

/* For every usable node the winner left out: the best answer using it. */
static int explain_alternatives(struct eng *e)
{
	struct terms w = e->best;
	int *win = np__calloc((size_t)e->k, sizeof(int)), rc = 0;
	uint64_t budget = e->max_steps, steps = e->steps;

	if (!win)
		return NP_ENOMEM;
	memcpy(win, e->best_asg, (size_t)e->k * sizeof(int));
	for (int j = 0; j < e->n && !rc; j++) {
		bool usable = false, chosen = false;

		for (int i = 0; i < e->k; i++) {
			usable |= e->fixed[i] < 0 && bit(row(e, e->feas, i), j);
			chosen |= win[i] == j;
		}
		if (!usable || chosen)
			continue;
		e->force = j;
		e->use_sym = false;
		e->have_best = e->best_dfs = e->aborted = false;
		e->max_steps = e->steps + EXPLAIN_STEPS;
		preassign(e);
		/* Without devices no answer is closer than the winner. */
		search(e, e->nreq ? 0 : (uint32_t)w.v[T_MAXD]);
		if (e->have_best)
			rc = explain_loser(e, &w, &e->best, e->best_asg, j);
		else
			rc = np__plan_add_reason(
			    e->plan, -1, j, -1, NP_RES_NODES, 1, 0,
			    "why not node %d: no complete placement found with it", os_id(e, j));
	}
	e->best = w;
	memcpy(e->best_asg, win, (size_t)e->k * sizeof(int));
	e->max_steps = budget;
	e->steps = steps;
	e->force = -1;
	free(win);
	return rc;
}

/* ---- building the plan -------------------------------------------------- */

static int add_fitted_cell(struct eng *e, int i, int j)
{
	struct np__fit f;
	np_plan *p;
	int rc;

	if (e->mini[i])
		return np__plan_add_cell(e->plan, &e->mini[i]->cells[0]);
	f.pcpus = e->pcpus;
	f.blocked = e->blocked;
	np__cell_fit(e->host, j, &e->cr[i], e->work, &f);
	if (!f.ok)
		return NP_EINPUT; /* cannot happen: the search only uses fitting pairs */
	p = mini_plan(e, i, j, &f);
	if (!p)
		return NP_ENOMEM;
	rc = np__plan_add_cell(e->plan, &p->cells[0]);
	np_plan_free(p);
	return rc;
}

static int add_pci(struct eng *e, const word *nodes)
{
	int rc = 0;

	if (!e->nreq)
		return 0;
	e->plan->score.device_misses = (int)pci_eval(e, nodes);
	for (int p = 0; p < e->npci && !rc; p++)
		if (e->alloc[p])
			rc = np__plan_add_pci(e->plan, p, e->alloc[p]);
	return rc;
}

static int build_numa(struct eng *e)
{
	struct np_plan_score *s = &e->plan->score;
	int rc = 0;

	memset(e->used, 0, (size_t)e->nw * sizeof(word));
	for (int i = 0; i < e->k && !rc; i++) {
		rc = add_fitted_cell(e, i, e->best_asg[i]);
		set_bit(e->used, e->best_asg[i]);
	}
	if (!rc)
		rc = add_pci(e, e->used);
	e->plan->fits = !rc;
	s->max_distance = (uint32_t)e->best.v[T_MAXD];
	s->sum_distance = (uint64_t)e->best.v[T_SUMD];
	s->stranded = e->strand_base + e->best.v[T_STRAND] > 0
			  ? (uint64_t)(e->strand_base + e->best.v[T_STRAND])
			  : 0;
	return rc;
}

static int no_fit_reason(struct eng *e, int nmatched)
{
	if (e->will_split)
		return 0; /* the split says why */
	for (int i = 0; i < e->k; i++) {
		const struct fitinfo *f = &e->fi[i * e->n + (e->fixed[i] >= 0 ? e->fixed[i] : 0)];

		if (e->fixed[i] >= 0 && !f->ok)
			return np__plan_add_reason(
			    e->plan, i, e->fixed[i], -1, f->res, f->asked, f->available,
			    "guest cell %d does not fit on its node %d: %llu %s "
			    "asked, %llu available (%s)",
			    i, os_id(e, e->fixed[i]), (unsigned long long)f->asked, unit(f->res),
			    (unsigned long long)f->available, f->why);
	}
	if (nmatched < e->nfree)
		return np__plan_add_reason(e->plan, -1, -1, -1, NP_RES_NODES, (uint64_t)e->nfree,
					   (uint64_t)nmatched,
					   "only %d of the %d guest cells can go on distinct nodes "
					   "that can each hold them",
					   nmatched, e->nfree);
	if (e->nreq && !e->aborted)
		return np__plan_add_reason(e->plan, -1, -1, -1, NP_RES_PCI, 0, 0,
					   "no set of nodes that holds the guest cells has the PCI "
					   "devices its affinity policy allows");
	return np__plan_add_reason(e->plan, -1, -1, -1, NP_RES_NODES, (uint64_t)e->k, 0,
				   "no placement found within the search budget");
}

static void init_search(struct eng *e)
{
	for (int j = 0; j < e->n; j++) {
		e->strand0[j] = node_metric(e, e->orig, j, 0, 0, 0).strand;
		e->strand_base += e->strand0[j];
	}
	e->force = -1;
	e->use_sym = true;
	preassign(e);
	if (e->nreq) {
		word *all = e->seen;

		memset(all, 0xff, (size_t)e->nw * sizeof(word));
		e->miss_floor = pci_bound(e, all);
	}
}

static int place_numa(struct eng *e)
{
	int nmatched;
	int rc;

	init_search(e);
	for (int i = 0; i < e->k; i++)
		if (e->fixed[i] >= 0 && !bit(row(e, e->feas, i), e->fixed[i]))
			return no_fit_reason(e, e->nfree);
	nmatched = root_matched(e);
	if (nmatched == e->nfree && e->miss_floor >= 0)
		search(e, fixed_floor(e));
	if (e->aborted && !e->have_best)
		take_matching(e);
	e->plan->score.best_max_distance = e->tmin;
	e->plan->score.exact = !e->aborted;
	if (!e->have_best)
		return no_fit_reason(e, nmatched);
	if ((rc = build_numa(e)))
		return rc;
	return e->explain ? explain_alternatives(e) : 0;
}

/* ---- guests without NUMA topology: split over the fewest nodes -------- */

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
		lin_terms(e, e->host, j, c.memory_mb, c.nfloat, 0, l);
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
	return !e->nreq || (t->v[T_MISS] = pci_eval(e, e->used)) >= 0;
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
			set_threshold(e, ts[t]);
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
	if ((rc = add_flat_cells(e, f)) || (rc = add_pci(e, e->used)))
		return rc;
	e->plan->fits = true;
	e->plan->score.max_distance = (uint32_t)t.v[T_MAXD];
	e->plan->score.sum_distance = (uint64_t)t.v[T_SUMD];
	e->plan->score.stranded =
	    e->strand_base + t.v[T_STRAND] > 0 ? (uint64_t)(e->strand_base + t.v[T_STRAND]) : 0;
	return 0;
}

static int place_split(struct eng *e)
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

/* A guest without NUMA: whole on one node if it can be, else split. */
static int place_flat(struct eng *e)
{
	int rc;

	e->will_split = e->cr[0].npinned == 0 && e->cr[0].pagesize == NP_PAGESIZE_UNSET &&
			e->fixed[0] < 0 && !pinned_policy(e->cr[0].cpu_policy) && e->n >= 2;
	rc = place_numa(e);
	if (rc || e->plan->fits || !e->will_split)
		return rc;
	return place_split(e);
}

/* ---- the plan's memory policy and the entry point ------------------------ */

/*
 * Memory policy `preferred`: every node not in NODES (N of them), by its
 * distance from the nearest of them, then by id, into FB; returns how many.
 */
static int fallback_order(const struct eng *e, const int *nodes, int n, int *fb, int64_t *key)
{
	int nf = 0;

	for (int j = 0; j < e->n; j++) {
		int64_t m = INT64_MAX;
		int p;

		for (p = 0; p < n && nodes[p] != j; p++)
			m = e->d[nodes[p] * e->n + j] < m ? e->d[nodes[p] * e->n + j] : m;
		if (p < n)
			continue; /* in the node set */
		for (p = nf; p > 0 && key[p - 1] > m; p--) {
			fb[p] = fb[p - 1];
			key[p] = key[p - 1];
		}
		fb[p] = j;
		key[p] = m;
		nf++;
	}
	return nf;
}

static int finish_plan(struct eng *e)
{
	int *nodes = np__calloc((size_t)e->n + 1, sizeof(int)), nn = 0, rc;
	int64_t *key = np__calloc((size_t)e->n + 1, sizeof(*key));

	rc = nodes && key ? 0 : NP_ENOMEM;
	for (int j = 0; j < e->n && !rc; j++)
		for (int c = 0; c < e->plan->ncells; c++)
			if (e->plan->cells[c].node_idx == j) {
				nodes[nn++] = j;
				break;
			}
	if (!rc)
		rc = np__plan_set_nodeset(e->plan, nodes, nn);
	if (!rc && e->plan->mem_policy == NP_MEM_POLICY_PREFERRED && nn)
		rc = np__plan_set_fallback(e->plan, nodes + nn,
					   fallback_order(e, nodes, nn, nodes + nn, key));
	free(key);
	free(nodes);
	return rc;
}

static int run(struct eng *e, struct np_error *err)
{
	int rc;

	if ((rc = eng_alloc(e)) || (rc = setup_pci(e)))
		return np__err(err, rc, "out of memory");
	load_distances(e);
	if ((rc = load_cells(e, err)) || (rc = compute_fits(e, err)))
		return rc;
	if (e->explain && (rc = explain_fits(e)))
		return np__err(err, rc, "out of memory");
	rc = e->flat ? place_flat(e) : place_numa(e);
	if (!rc)
		rc = finish_plan(e);
	e->plan->score.steps = e->steps;
	if (rc)
		return np__err(err, rc, rc == NP_ENOMEM ? "out of memory" : "internal error");
	return 0;
}

int np_place(const np_host *host, const np_request *req, const struct np_place_opts *opts,
	     np_plan **out, struct np_error *err)
{
	struct eng e = {0};
	int rc;

	if (np_request_cell_count(req) < 1)
		return np__err(err, NP_EINPUT, "the request has no guest cells");
	e.host = e.orig = host;
	e.req = req;
	e.topo = np_host_topo(host);
	e.n = np_topo_node_count(e.topo);
	e.k = np_request_cell_count(req);
	e.nw = (e.n + 63) / 64;
	e.strategy = opts ? opts->strategy : NP_STRATEGY_SPREAD;
	e.explain = opts && opts->explain;
	e.max_steps = opts && opts->max_steps ? opts->max_steps : DEFAULT_MAX_STEPS;
	e.pinned_kind = pinned_policy(np_request_cpu_policy(req));
	e.flat = !np_request_has_numa(req) && e.k == 1;
	e.plan = np__plan_new();
	/* The plan names its host's nodes, so claims and writers can tell hosts apart. */
	if (!e.plan || np__plan_set_topo(e.plan, e.topo)) {
		np_plan_free(e.plan);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	e.plan->mem_policy = np_request_mem_policy(req);
	e.plan->affinity = np_request_affinity(req);
	rc = run(&e, err);
	if (rc)
		np_plan_free(e.plan);
	else
		*out = e.plan;
	eng_free(&e);
	return rc;
}
