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
 * Objective after distance: keep whole nodes (hosts of >= k + 2 nodes),
 * keep nodes with free devices for the guests that need them, keep room
 * for the caller's demand, keep half-free resources, strand little, best
 * fit (hosts of >= k + 2 nodes), then spread or pack.
 * Guests without NUMA topology: one node when the whole guest fits on one
 * (the same search with one cell), else the fewest nodes, closest first,
 * with memory and vCPUs split over them.
 *
 * The engine is one file per concern, sharing struct eng (engine-int.h):
 * this file sets a call up, drives it and builds the plan; engine-fit.c
 * the per-cell fits and the sum terms; engine-pci.c PCI devices;
 * engine-search.c the branch and bound; engine-explain.c the reasons;
 * engine-flat.c the split of guests without NUMA topology.
 *
 * Nothing here writes to the host or the request: every answer is
 * computed from their state when np_place() was called, so calls may run
 * in parallel on one host.  The search state lives in struct eng, private
 * to one call, its arrays in one block (e->arena).
 */
#include <assert.h>
#include <time.h>

#include "place/engine-int.h"

#define DEFAULT_MAX_STEPS 2000000u

/* ---- setup -------------------------------------------------------------- */

uint64_t np__eng_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

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
	CARVE(e->cok, nw);
	CARVE(e->allowed, ((k > n ? k : n) + 1) * nw), CARVE(e->used, nw), CARVE(e->seen, nw);
	CARVE(e->cand, k * nw), CARVE(e->match, n), CARVE(e->acc, n), CARVE(e->pairw, k + 1);
	CARVE(e->asg, k), CARVE(e->freec, k), CARVE(e->best_asg, k), CARVE(e->cls, k);
	CARVE(e->vals, 2 * (1 + NL) * n), CARVE(e->cprev, k), CARVE(e->near, n * k);
	CARVE(e->wmin, k + 1), CARVE(e->left, npci), CARVE(e->alloc, npci);
	CARVE(e->group, nreq), CARVE(e->g_need, nreq), CARVE(e->g_hard, nreq);
	CARVE(e->rq, nreq), CARVE(e->rnode, nreq);
	CARVE(e->room, nw), CARVE(e->dv, n), CARVE(e->colour, n), CARVE(e->kmark, k);
	CARVE(e->lst, n), CARVE(e->kbuf, k);
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

static void load_distances(struct eng *e)
{
	e->dist = np__host_dist(e->orig);
	e->d = e->topo->dist;
	e->sym = e->dist->sym;
	e->dd = e->dist->dd;
	e->order = e->dist->order;
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
		if (c->memory_mb > NP_MEMORY_MB_MAX)
			return np__err(err, NP_EINPUT,
				       "guest cell %d: %llu MiB is more than any host has", i,
				       (unsigned long long)c->memory_mb);
		if (pn >= 0 && e->fixed[i] < 0)
			return np__err(err, NP_EINPUT,
				       "guest cell %d: pnode=%d is not a node of the host", i, pn);
	}
	return 0;
}

/* ---- the NUMA guest and its plan ---------------------------------------- */

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
	p = np__eng_mini_plan(e, i, j, &f);
	if (!p)
		return NP_ENOMEM;
	rc = np__plan_add_cell(e->plan, &p->cells[0]);
	np_plan_free(p);
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
		rc = np__eng_add_pci(e, e->used);
	e->plan->fits = !rc;
	s->max_distance = (uint32_t)e->best.v[T_MAXD];
	s->sum_distance = (uint64_t)e->best.v[T_SUMD];
	s->stranded = e->strand_base + e->best.v[T_STRAND] > 0
			  ? (uint64_t)(e->strand_base + e->best.v[T_STRAND])
			  : 0;
	return rc;
}

static void init_search(struct eng *e)
{
	for (int j = 0; j < e->n; j++) {
		e->strand0[j] = np__eng_stranded(e, e->orig, j);
		e->strand_base += e->strand0[j];
	}
	e->force = -1;
	e->use_sym = true;
	np__eng_preassign(e);
	if (e->nreq) {
		word *all = e->seen;

		memset(all, 0xff, (size_t)e->nw * sizeof(word));
		e->miss_floor = np__eng_pci_bound(e, all);
	}
}

/*
 * Where the threshold loop starts: the fixed cells' floor; in the bounded
 * mode (a time budget) also above the thresholds the cheap bound refutes,
 * found in at most a quarter of the budget from now (and within it).
 * Skipping refuted thresholds changes no answer, only the steps taken, so
 * the default (exact) mode keeps its step counts.
 */
static uint32_t search_from(struct eng *e)
{
	uint32_t from = np__eng_fixed_floor(e), lb;
	uint64_t until = np__eng_now_us() + e->max_us / 4;

	if (!e->max_us)
		return from;
	lb = np__eng_maxd_bound(e, until < e->t0_us + e->max_us ? until : e->t0_us + e->max_us);
	return lb > from ? lb : from;
}

/*
 * A search cut short: every threshold below e->tmin was refuted, and none
 * below the cheap bound has an answer either (computed now if not yet,
 * until the time budget ends).
 */
static void raise_tmin(struct eng *e)
{
	uint32_t lb = np__eng_maxd_bound(e, e->max_us ? e->t0_us + e->max_us : 0);

	assert(lb <= e->best.v[T_MAXD]);
	e->tmin = lb > e->tmin ? lb : e->tmin;
}

static int place_numa(struct eng *e)
{
	int nmatched;
	int rc;

	init_search(e);
	for (int i = 0; i < e->k; i++)
		if (e->fixed[i] >= 0 && !bit(row(e, e->feas, i), e->fixed[i]))
			return np__eng_no_fit_reason(e, e->nfree);
	nmatched = np__eng_root_matched(e);
	if (nmatched == e->nfree && e->miss_floor >= 0)
		np__eng_search(e, search_from(e));
	if (e->aborted && !e->have_best)
		np__eng_last_resort(e);
	if (e->aborted && e->have_best)
		raise_tmin(e);
	e->plan->score.best_max_distance = e->tmin;
	e->plan->score.exact = !e->aborted;
	if (!e->have_best)
		return np__eng_no_fit_reason(e, nmatched);
	if (e->aborted)
		np__eng_gap(e);
	if ((rc = build_numa(e)))
		return rc;
	return e->explain ? np__eng_explain_alternatives(e) : 0;
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
	return np__eng_place_split(e);
}

/* ---- the plan's memory policy and the entry point ----------------------- */

/* The plan's node set, and for memory policy `preferred` its fallback list (fallback.c). */
static int finish_plan(struct eng *e)
{
	int *nodes = np__calloc((size_t)e->n + 1, sizeof(int)), nn = 0, nf, rc;

	rc = nodes ? 0 : NP_ENOMEM;
	for (int j = 0; j < e->n && !rc; j++)
		for (int c = 0; c < e->plan->ncells; c++)
			if (e->plan->cells[c].node_idx == j) {
				nodes[nn++] = j;
				break;
			}
	if (!rc)
		rc = np__plan_set_nodeset(e->plan, nodes, nn);
	if (!rc && e->plan->mem_policy == NP_MEM_POLICY_PREFERRED && nn) {
		nf = np__topo_fallback(e->topo, nodes, nn, nodes + nn, e->n - nn);
		rc = nf < 0 ? nf : np__plan_set_fallback(e->plan, nodes + nn, nf);
	}
	free(nodes);
	return rc;
}

static int run(struct eng *e, struct np_error *err)
{
	int rc;

	if ((rc = eng_alloc(e)))
		return np__err(err, rc, "out of memory");
	if ((rc = np__eng_setup_pci(e, err)))
		return rc;
	load_distances(e);
	if ((rc = load_cells(e, err)) || (rc = np__eng_compute_fits(e, err)))
		return rc;
	if (e->explain && (rc = np__eng_explain_fits(e)))
		return np__err(err, rc, "out of memory");
	rc = e->flat ? place_flat(e) : place_numa(e);
	if (!rc)
		rc = finish_plan(e);
	e->plan->score.steps = e->steps;
	if (rc)
		return np__err(err, rc, rc == NP_ENOMEM ? "out of memory" : "internal error");
	return 0;
}

static const char *const term_names[] = {
	"none",	     "device_misses", "max_distance", "sum_distance", "whole_nodes", "device_nodes",
	"demand",    "half_free",     "stranded",     "best_fit",     "strategy",	  "unknown",
};

const char *np_term_name(enum np_term t)
{
	return (unsigned)t < NP__ARRAY_SIZE(term_names) ? term_names[t] : "unknown";
}

static const char *const strategy_names[] = { "spread", "pack" };

const char *np_strategy_name(enum np_strategy s)
{
	return (unsigned)s < NP__ARRAY_SIZE(strategy_names) ? strategy_names[s] : "unknown";
}

int np_strategy_from_name(const char *name, enum np_strategy *out)
{
	for (size_t i = 0; name && i < NP__ARRAY_SIZE(strategy_names); i++)
		if (strcmp(strategy_names[i], name) == 0) {
			*out = (enum np_strategy)i;
			return 0;
		}
	return NP_EINPUT;
}

/* The caller's demand shapes, each in the ranges place.h gives. */
static int check_demand(const struct np_place_opts *o, struct np_error *err)
{
	if (o->ndemand > NP_DEMAND_MAX || (o->ndemand > 0 && !o->demand))
		return np__err(err, NP_EINPUT, "demand: %d shapes (at most %d, and a list)",
			       o->ndemand, NP_DEMAND_MAX);
	for (int s = 0; s < o->ndemand; s++) {
		const struct np_demand *d = &o->demand[s];

		/* !(a <= b) also refuses NaN. */
		if (d->pinned < 0 || d->floating < 0 || d->pinned + 0LL + d->floating < 1 ||
		    d->memory_mb < 1 || d->memory_mb > NP_MEMORY_MB_MAX ||
		    d->pagesize_kb > NP_MEMORY_MB_MAX || !(d->weight >= 0 && d->weight <= 1000))
			return np__err(err, NP_EINPUT,
				       "demand shape %d: vCPUs, memory, page size or weight out "
				       "of range",
				       s);
	}
	return 0;
}

int np_place(const np_host *host, const np_request *req, const struct np_place_opts *opts,
	     np_plan **out, struct np_error *err)
{
	struct eng e = {0};
	int rc;

	if (np_request_cell_count(req) < 1)
		return np__err(err, NP_EINPUT, "the request has no guest cells");
	if (opts && opts->mem_policy_set && (unsigned)opts->mem_policy > NP_MEM_POLICY_INTERLEAVE)
		return np__err(err, NP_EINPUT, "unknown memory policy %d", (int)opts->mem_policy);
	if (opts && opts->affinity_set && (unsigned)opts->affinity > NP_AFFINITY_SOFT)
		return np__err(err, NP_EINPUT, "unknown affinity %d", (int)opts->affinity);
	if (opts && (rc = check_demand(opts, err)))
		return rc;
	e.host = e.orig = host;
	e.req = req;
	e.topo = np_host_topo(host);
	e.n = np_topo_node_count(e.topo);
	e.k = np_request_cell_count(req);
	e.nw = (e.n + 63) / 64;
	e.mem_q = np__eng_mem_step(e.topo);
	e.strategy = opts ? opts->strategy : NP_STRATEGY_SPREAD;
	e.explain = opts && opts->explain;
	e.max_steps = opts && opts->max_steps ? opts->max_steps : DEFAULT_MAX_STEPS;
	/* The search stops at 63/64 of the time budget: the rest is the gap's and the plan's. */
	e.max_us = opts && opts->max_us ? opts->max_us - opts->max_us / 64 : 0;
	e.t0_us = e.max_us ? np__eng_now_us() : 0;
	e.pinned_kind = pinned_policy(np_request_cpu_policy(req));
	e.dem = opts && opts->ndemand > 0 ? opts->demand : NULL;
	e.ndem = e.dem ? opts->ndemand : 0;
	e.flat = !np_request_has_numa(req) && e.k == 1;
	e.plan = np__plan_new();
	/* The plan names its host's nodes, so claims and writers can tell hosts apart. */
	if (!e.plan || np__plan_set_topo(e.plan, e.topo)) {
		np_plan_free(e.plan);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	e.plan->mem_policy = opts && opts->mem_policy_set ? opts->mem_policy
							  : np_request_mem_policy(req);
	e.plan->affinity = opts && opts->affinity_set ? opts->affinity : np_request_affinity(req);
	e.plan->memory_basis = np_host_memory_basis(host);
	rc = run(&e, err);
	if (rc)
		np_plan_free(e.plan);
	else
		*out = e.plan;
	eng_free(&e);
	return rc;
}
