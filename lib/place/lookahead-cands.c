/*
 * lookahead-cands.c - plans by simple fit rules, the lookahead's
 * candidates beside the engine's own answer (lookahead.c,
 * docs/policies/placement.md 15): first, best and worst fit, libxl's
 * heuristic, and every node (one-cell guest) or node set at the smallest
 * maximum distance (several cells) that holds the guest.  bench/quality's
 * baselines are the same code (bench/baselines.c calls it): one copy.
 *
 * Why these: on tune seeds the fit rules' plans were worth trying on the
 * futures where the engine's runner-ups (its answer without some of its
 * nodes) were not (docs/results.md "Lookahead"): they are different
 * enough from the engine's answer.
 *
 * Design: one pass computes which guest cell fits which node with the
 * engine's per-cell fit (np__cell_fit, Nova's rule); a rule only chooses
 * among those.  The choice is a depth-first search over cells in guest
 * order, nodes in the rule's order, each step kept only if the cells left
 * can still be matched to distinct nodes, and the PCI devices checked on
 * a complete assignment; so the first leaf is the rule's greedy answer
 * whenever that one is feasible, and a rule never refuses a guest that
 * fits somewhere.  The plan is then built from a fresh per-cell fit on
 * the chosen nodes, exactly as the engine builds its own.
 */
#include "place/lookahead-int.h"
#include "place/place-int.h"

#include <stdlib.h>
#include <string.h>

#include "plan/plan-int.h"
#include "util/util.h"

#define LEAVES_MAX 200000 /* complete assignments tried before giving up */
#define LIBXL_NODES_MAX 16

struct bl {
	const np_host *host;
	const np_request *req;
	const np_topo *topo;
	int n, k, maxcpu;
	double ratio;
	bool limits;
	struct np__cellreq *cr; /* k */
	bool *feas;             /* k x n */
	int *order;             /* k x n: nodes in the baseline's order per cell */
	int *assign, *used, *take; /* k; n; PCI pools */
	int *work, *pcpus, *blocked;
	long leaves;
	int misses;
};

const char *np__fit_rule_name(enum np__fit_rule k)
{
	static const char *const names[] = { "libxl", "first-fit", "best-fit", "worst-fit" };

	return k < NP__FIT_RULES ? names[k] : "?";
}

static bool pinned_policy(enum np_cpu_policy p)
{
	return p == NP_CPU_POLICY_DEDICATED || p == NP_CPU_POLICY_MIXED;
}

static int bl_init(struct bl *b, const np_host *host, const np_request *req)
{
	bool iso = np_request_emulator_policy(req) == NP_EMULATOR_POLICY_ISOLATE;

	memset(b, 0, sizeof(*b));
	b->host = host;
	b->req = req;
	b->topo = np_host_topo(host);
	b->n = np_topo_node_count(b->topo);
	b->k = np_request_cell_count(req);
	b->maxcpu = np__host_max_node_cpus(host) + 1;
	b->limits = np_host_limits(host, &b->ratio, &(double){ 0 });
	b->cr = np__calloc((size_t)b->k, sizeof(*b->cr));
	b->feas = np__calloc((size_t)(b->k * b->n), sizeof(*b->feas));
	b->order = np__calloc((size_t)(b->k * b->n), sizeof(*b->order));
	b->assign = np__calloc((size_t)b->k + 1, sizeof(int));
	b->used = np__calloc((size_t)b->n, sizeof(int));
	b->take = np__calloc((size_t)np_host_pci_pool_count(host) + 1, sizeof(int));
	b->work = np__calloc(NP__FIT_WORK((size_t)b->maxcpu), sizeof(int));
	b->pcpus = np__calloc((size_t)b->maxcpu, sizeof(int));
	b->blocked = np__calloc((size_t)b->maxcpu, sizeof(int));
	if (!b->cr || !b->feas || !b->order || !b->assign || !b->used || !b->take || !b->work ||
	    !b->pcpus || !b->blocked)
		return NP_ENOMEM;
	for (int i = 0; i < b->k; i++) {
		const struct np_guest_cell *c = np_request_cell(req, i);

		b->cr[i] = (struct np__cellreq){ c->nvcpus, c->npcpus, c->memory_mb, c->pagesize,
						 np_request_cpu_policy(req),
						 np_request_thread_policy(req),
						 iso && i == 0 && pinned_policy(np_request_cpu_policy(req)) };
	}
	return 0;
}

static void bl_free(struct bl *b)
{
	free(b->cr);
	free(b->feas);
	free(b->order);
	free(b->assign);
	free(b->used);
	free(b->take);
	free(b->work);
	free(b->pcpus);
	free(b->blocked);
}

static void fit(struct bl *b, int i, int j, struct np__fit *f)
{
	memset(f, 0, sizeof(*f));
	f->pcpus = b->pcpus;
	f->blocked = b->blocked;
	np__cell_fit(b->host, j, &b->cr[i], b->work, f);
}

static void feasibility(struct bl *b)
{
	struct np__fit f;

	for (int i = 0; i < b->k; i++)
		for (int j = 0; j < b->n; j++) {
			fit(b, i, j, &f);
			b->feas[i * b->n + j] = f.ok;
		}
}

/* ---- PCI: nearest first (docs/policies/placement.md 6) ------------------- */

static bool on_guest(const struct bl *b, int node)
{
	for (int i = 0; i < b->k; i++)
		if (b->assign[i] == node)
			return true;
	return false;
}

static int pool_level(const struct bl *b, const struct np_pci_pool *p)
{
	int s;

	if (p->node_idx < 0)
		return 1;
	if (on_guest(b, p->node_idx))
		return 0;
	s = np_host_node(b->host, p->node_idx)->socket;
	for (int j = 0; j < b->n; j++)
		if (np_host_node(b->host, j)->socket < 0)
			return 3;
	for (int i = 0; i < b->k; i++)
		if (np_host_node(b->host, b->assign[i])->socket == s)
			return 2;
	return 3;
}

static bool level_allowed(const struct bl *b, enum np_pci_policy pol, int level)
{
	if (level == 0 || !np_request_has_numa(b->req))
		return true;
	switch (pol) {
	case NP_PCI_POLICY_PREFERRED: return true;
	case NP_PCI_POLICY_LEGACY: return level == 1;
	case NP_PCI_POLICY_SOCKET: return level == 2;
	default: return false;
	}
}

/* Take every request's devices for the assignment; false when short. */
static bool pci_take(struct bl *b)
{
	int np = np_host_pci_pool_count(b->host);

	memset(b->take, 0, (size_t)np * sizeof(*b->take));
	b->misses = 0;
	for (int r = 0; r < np_request_pci_count(b->req); r++) {
		const struct np_pci_request *q = np_request_pci(b->req, r);
		int left = q->count;

		for (int level = 0; level < 4 && left; level++) {
			if (!level_allowed(b, q->policy, level))
				continue;
			for (int p = 0; p < np && left; p++) {
				const struct np_pci_pool *pp = np_host_pci_pool(b->host, p);
				int n = pp->count - pp->used - b->take[p];

				if (pp->vendor != q->vendor || pp->product != q->product || n <= 0 ||
				    pool_level(b, pp) != level)
					continue;
				n = n < left ? n : left;
				b->take[p] += n;
				left -= n;
				b->misses += level ? n : 0;
			}
		}
		if (left)
			return false;
	}
	return true;
}

/* ---- the search ------------------------------------------------------------ */

/* Augmenting path for cell I among unused nodes (MATE: node -> cell or -1). */
static bool augment(const struct bl *b, int i, int *mate, char *seen)
{
	for (int j = 0; j < b->n; j++) {
		if (!b->feas[i * b->n + j] || b->used[j] || seen[j])
			continue;
		seen[j] = 1;
		if (mate[j] < 0 || augment(b, mate[j], mate, seen)) {
			mate[j] = i;
			return true;
		}
	}
	return false;
}

/* Can cells FROM.. still go to distinct unused nodes? */
static bool matchable(const struct bl *b, int from)
{
	int *mate = malloc((size_t)b->n * sizeof(int));
	char *seen = malloc((size_t)b->n);
	bool ok = mate && seen;

	for (int j = 0; ok && j < b->n; j++)
		mate[j] = -1;
	for (int i = from; ok && i < b->k; i++) {
		memset(seen, 0, (size_t)b->n);
		ok = augment(b, i, mate, seen);
	}
	free(mate);
	free(seen);
	return ok;
}

static bool dfs(struct bl *b, int i)
{
	if (i == b->k)
		return ++b->leaves <= LEAVES_MAX && pci_take(b);
	for (int t = 0; t < b->n && b->leaves <= LEAVES_MAX; t++) {
		int j = b->order[i * b->n + t];

		if (j < 0 || !b->feas[i * b->n + j] || b->used[j])
			continue;
		b->used[j] = 1;
		b->assign[i] = j;
		if (matchable(b, i + 1) && dfs(b, i + 1))
			return true;
		b->used[j] = 0;
	}
	return false;
}

/* ---- the baselines' orders ---------------------------------------------------- */

/* Free share of the node after cell I: CPUs of the cell's kind + memory. */
static double room_after(const struct bl *b, int i, int j)
{
	const struct np_host_node *hn = np_host_node(b->host, j);
	const struct np__cellreq *c = &b->cr[i];
	double cpu = 0, mem = 1;

	if (c->npinned && hn->ndedicated)
		cpu = (double)(hn->ndedicated - hn->npinned - c->npinned) / hn->ndedicated;
	else if (hn->nshared) {
		double cap = hn->nshared * (b->limits ? b->ratio : 1.0);

		cpu = (cap - hn->cpu_usage - c->nfloat) / cap;
	}
	if (hn->memory_mb)
		mem = ((double)hn->memory_mb - (double)hn->memory_used_mb - (double)c->memory_mb) /
		      (double)hn->memory_mb;
	return cpu + mem;
}

/* libxl's key of node J: vCPUs runnable there, then free memory. */
static void libxl_key(const struct bl *b, int j, long long *vcpus, long long *free_mb)
{
	const struct np_host_node *hn = np_host_node(b->host, j);

	*vcpus = (long long)hn->cpu_usage + hn->npinned;
	*free_mb = (long long)hn->memory_mb - (long long)hn->memory_used_mb;
}

/* What a sort of one cell's nodes compares by. */
struct sort_arg {
	const struct bl *b;
	int cell, sign;
};

static int by_room(const void *x, const void *y, void *arg)
{
	const struct sort_arg *s = arg;
	int a = *(const int *)x, c = *(const int *)y;
	double ra = room_after(s->b, s->cell, a), rc = room_after(s->b, s->cell, c);

	if (ra != rc)
		return (ra < rc ? -1 : 1) * s->sign;
	return (a > c) - (a < c);
}

static int by_libxl(const void *x, const void *y, void *arg)
{
	const struct sort_arg *s = arg;
	int a = *(const int *)x, c = *(const int *)y;
	long long va, fa, vc, fc;

	libxl_key(s->b, a, &va, &fa);
	libxl_key(s->b, c, &vc, &fc);
	if (va != vc)
		return va < vc ? -1 : 1;
	if (fa != fc)
		return fa > fc ? -1 : 1;
	return (a > c) - (a < c);
}

static void set_orders(struct bl *b, enum np__fit_rule kind)
{
	for (int i = 0; i < b->k; i++) {
		struct sort_arg s = { b, i, kind == NP__FIT_WORST ? -1 : 1 };
		int *o = &b->order[i * b->n];

		for (int j = 0; j < b->n; j++)
			o[j] = j;
		if (kind == NP__FIT_BEST || kind == NP__FIT_WORST)
			qsort_r(o, (size_t)b->n, sizeof(*o), by_room, &s);
		else if (kind == NP__FIT_LIBXL)
			qsort_r(o, (size_t)b->n, sizeof(*o), by_libxl, &s);
	}
}

/* libxl: the best k-subset by its key; the cells onto it first-fit. */
static bool libxl_subsets(struct bl *b)
{
	int k = b->k, *s = calloc((size_t)k + 1, sizeof(int)), *best = calloc((size_t)k + 1, sizeof(int));
	long long bv = 0, bf = 0;
	bool found = false;

	for (int i = 0; s && i < k; i++)
		s[i] = i;
	for (bool more = s && best && k <= b->n; more; more = np__next_comb(s, k, b->n)) {
		long long v = 0, f = 0, x, y;

		for (int i = 0; i < k; i++) {
			libxl_key(b, s[i], &x, &y);
			v += x;
			f += y;
		}
		if (!found || v < bv || (v == bv && f > bf)) {
			/* only a set that holds the guest is a candidate */
			memset(b->order, -1, (size_t)(b->k * b->n) * sizeof(int));
			for (int i = 0; i < k; i++)
				for (int t = 0; t < k; t++)
					b->order[i * b->n + t] = s[t];
			memset(b->used, 0, (size_t)b->n * sizeof(int));
			b->leaves = 0;
			if (dfs(b, 0)) {
				found = true;
				bv = v;
				bf = f;
				memcpy(best, b->assign, (size_t)k * sizeof(int));
			}
		}
	}
	if (found) {
		memcpy(b->assign, best, (size_t)k * sizeof(int));
		memset(b->used, 0, (size_t)b->n * sizeof(int));
		for (int i = 0; i < k; i++)
			b->used[b->assign[i]] = 1;
		pci_take(b);
	}
	free(s);
	free(best);
	return found;
}

static bool choose(struct bl *b, enum np__fit_rule kind)
{
	if (kind == NP__FIT_LIBXL && b->n <= LIBXL_NODES_MAX)
		return libxl_subsets(b);
	set_orders(b, kind);
	b->leaves = 0;
	return matchable(b, 0) && dfs(b, 0);
}

/* ---- the plan --------------------------------------------------------------- */

static uint32_t max_distance(const struct bl *b)
{
	uint32_t m = 0;

	for (int x = 0; x < b->k; x++)
		for (int y = 0; y <= x; y++) {
			uint32_t d1 = np_topo_distance(b->topo, b->assign[x], b->assign[y]);
			uint32_t d2 = np_topo_distance(b->topo, b->assign[y], b->assign[x]);

			m = d1 > m ? d1 : m;
			m = d2 > m ? d2 : m;
		}
	return m;
}

static int add_cell(struct bl *b, np_plan *p, int i, const int *pins, long pagesize_kb)
{
	const struct np_guest_cell *c = np_request_cell(b->req, i);
	int j = b->assign[i];
	const struct np_host_node *hn = np_host_node(b->host, j);
	struct np_pin *pv = np__calloc((size_t)c->npcpus + 1, sizeof(*pv));
	struct np__fit f;
	struct np_plan_cell pc;
	int rc;

	fit(b, i, j, &f);
	if (!pv)
		return NP_ENOMEM;
	if (pagesize_kb > 0)
		f.pagesize_kb = (uint64_t)pagesize_kb;
	for (int v = 0; v < c->npcpus; v++)
		pv[v] = (struct np_pin){ c->pcpus[v], pins ? pins[v] : f.pcpus[v] };
	pc = (struct np_plan_cell){ i, j, c->memory_mb, f.pagesize_kb, c->npcpus, pv, c->nvcpus,
				    c->vcpus, c->nvcpus ? hn->nshared : 0, hn->shared,
				    f.reserved >= 0, &f.reserved, f.nblocked, f.blocked };
	rc = np__plan_add_cell(p, &pc);
	free(pv);
	return rc;
}

static int cmp_int(const void *x, const void *y)
{
	return (*(const int *)x > *(const int *)y) - (*(const int *)x < *(const int *)y);
}

/* The plan of B's assignment (FITS false: a plan that does not fit). */
static int build(struct bl *b, bool fits, const int *const *pins, const long *pagesize,
		 np_plan **out)
{
	np_plan *p = np__plan_new();
	int *nodes = calloc((size_t)b->k + 1, sizeof(int)), rc = p && nodes ? 0 : NP_ENOMEM;

	if (!rc)
		rc = np__plan_set_topo(p, b->topo);
	for (int i = 0; fits && !rc && i < b->k; i++)
		rc = add_cell(b, p, i, pins ? pins[i] : NULL, pagesize ? pagesize[i] : 0);
	for (int q = 0; fits && !rc && q < np_host_pci_pool_count(b->host); q++)
		rc = b->take[q] ? np__plan_add_pci(p, q, b->take[q]) : 0;
	if (fits && !rc) {
		memcpy(nodes, b->assign, (size_t)b->k * sizeof(int));
		qsort(nodes, (size_t)b->k, sizeof(int), cmp_int);
		rc = np__plan_set_nodeset(p, nodes, b->k);
		p->fits = true;
		p->score.max_distance = max_distance(b);
		p->score.device_misses = b->misses;
		p->score.exact = false;
	}
	free(nodes);
	if (rc) {
		np_plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int np__fit_rule_place(enum np__fit_rule k, const np_host *host, const np_request *req,
			np_plan **out, struct np_error *err)
{
	struct bl b;
	int rc = bl_init(&b, host, req);

	if (!rc) {
		feasibility(&b);
		rc = build(&b, choose(&b, k), NULL, NULL, out);
	}
	bl_free(&b);
	return rc ? np__err(err, rc, "%s: out of memory", np__fit_rule_name(k)) : 0;
}

int np__fit_plan_nodes(const np_host *host, const np_request *req, const int *nodes,
		       const int *const *pins, const long *pagesize_kb, np_plan **out,
		       struct np_error *err)
{
	struct bl b;
	bool fits = true;
	int rc = bl_init(&b, host, req);

	for (int i = 0; !rc && i < b.k; i++) {
		struct np__fit f;

		if (nodes[i] < 0 || nodes[i] >= b.n || b.used[nodes[i]]) {
			fits = false;
			break;
		}
		b.assign[i] = nodes[i];
		b.used[nodes[i]] = 1;
		fit(&b, i, nodes[i], &f);
		fits &= f.ok || pins; /* given pins: the validator judges them */
	}
	if (!rc && fits)
		fits = pci_take(&b);
	if (!rc)
		rc = build(&b, fits, pins, pagesize_kb, out);
	bl_free(&b);
	return rc ? np__err(err, rc, "plan on given nodes: out of memory") : 0;
}

/* ---- every node set at the smallest distance ---------------------------------- */

/* Can the guest go on nodes SET[0..K-1] (cells first-fit within it)?  B->assign then says how. */
static bool on_set(struct bl *b, const int *set)
{
	memset(b->order, -1, (size_t)(b->k * b->n) * sizeof(int));
	for (int i = 0; i < b->k; i++)
		memcpy(&b->order[i * b->n], set, (size_t)b->k * sizeof(int));
	memset(b->used, 0, (size_t)b->n * sizeof(int));
	b->leaves = 0;
	return dfs(b, 0);
}

/* The largest distance between two nodes of SET[0..K-1] (either way). */
static uint32_t set_distance(const struct bl *b, const int *set)
{
	uint32_t m = 0;

	for (int x = 0; x < b->k; x++)
		for (int y = 0; y < b->k; y++) {
			uint32_t d = np_topo_distance(b->topo, set[x], set[y]);

			m = d > m ? d : m;
		}
	return m;
}

/* How many K-subsets of M things, saturating at LIMIT + 1. */
static long subsets(int m, int k, long limit)
{
	long c = 1;

	for (int i = 0; i < k; i++) {
		c = c * (m - i) / (i + 1);
		if (c > limit)
			return limit + 1;
	}
	return c;
}

/*
 * The node sets: USE[0..M-1] are the nodes some cell fits on; every
 * K-subset of them is tried (K-subsets of indexes into USE).
 */
static int sets_of(struct bl *b, const int *use, int m, int max, np_plan **out, int *n)
{
	int *s = calloc((size_t)b->k + 1, sizeof(int)), *set = calloc((size_t)b->k + 1, sizeof(int));
	uint32_t best = UINT32_MAX;
	int rc = s && set ? 0 : NP_ENOMEM;

	for (int i = 0; i < b->k; i++)
		s[i] = i;
	for (bool more = !rc && b->k <= m; more && !rc; more = np__next_comb(s, b->k, m)) {
		uint32_t d;

		for (int i = 0; i < b->k; i++)
			set[i] = use[s[i]];
		d = set_distance(b, set);
		if (d > best || (d == best && *n >= max) || !on_set(b, set))
			continue;
		if (d < best) { /* a closer set: the farther ones found so far go */
			while (*n > 0)
				np_plan_free(out[--*n]);
			best = d;
		}
		if (!(rc = build(b, true, NULL, NULL, &out[*n])))
			++*n;
	}
	free(s);
	free(set);
	return rc;
}

int np__fit_node_sets(const np_host *host, const np_request *req, int max, np_plan **out, int *n,
		      struct np_error *err)
{
	struct bl b;
	int rc = bl_init(&b, host, req), *use = calloc((size_t)b.n + 1, sizeof(int)), m = 0;

	*n = 0;
	rc = rc ? rc : use ? 0 : NP_ENOMEM;
	if (!rc) {
		feasibility(&b);
		for (int j = 0; j < b.n; j++) {
			bool any = false;

			for (int i = 0; i < b.k; i++)
				any |= b.feas[i * b.n + j];
			if (any)
				use[m++] = j;
		}
		if (b.k > 0 && subsets(m, b.k, NP__NODE_SETS_TRIED) <= NP__NODE_SETS_TRIED)
			rc = sets_of(&b, use, m, max, out, n);
	}
	free(use);
	bl_free(&b);
	if (rc) {
		while (*n > 0)
			np_plan_free(out[--*n]);
		return np__err(err, rc, "node sets: out of memory");
	}
	return 0;
}
