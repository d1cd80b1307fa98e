/*
 * engine-search.c - the branch and bound of np_place() (engine.c's header
 * describes it): for each distance threshold, a greedy dive, then depth
 * first over the free cells with lower bounds of every term, a bipartite
 * matching of the cells left, and symmetry breaking (cells of one shape
 * take increasing nodes; of interchangeable nodes the lowest unused one).
 *
 * The search state is e->cur (terms of the cells assigned), e->asg,
 * e->used and e->acc (each node's weighted distance to the assigned
 * cells); assign() and unassign() keep them in step.  e->best and
 * e->best_asg hold the best answer; e->best_dfs says whether it came from
 * the depth-first search, whose first answer of a score has the smallest
 * ids.
 */
#include <assert.h>

#include "place/engine-int.h"

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
	if (e->nreq && (np__eng_pci_free_on(e->host, a) || np__eng_pci_free_on(e->host, b)))
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

/* ---- moves and bounds --------------------------------------------------- */

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

/*
 * The root's bounds at this threshold (LB, or NULL: none), kept for the
 * gap of a search cut short here (np__eng_gap(): the same sums, without
 * computing them again after the budget ran out); returns false.
 */
static bool note_root(struct eng *e, int depth, const struct terms *lb)
{
	if (depth > 0 || e->force >= 0)
		return false;
	e->root_T = e->T;
	e->root_set = true;
	e->root_ok = lb != NULL;
	if (lb)
		e->root_lb = *lb;
	return false;
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
		return note_root(e, depth, NULL);
	/* Every threshold below tmin was refuted: no answer is closer. */
	lb.v[T_MAXD] = lb.v[T_MAXD] > e->tmin ? lb.v[T_MAXD] : e->tmin;
	pb = pairs_bound(e, depth, r);
	if (pb < 0)
		return note_root(e, depth, NULL);
	lb.v[T_SUMD] += pb;
	note_root(e, depth, &lb);
	if (e->nreq) {
		word *s = e->seen; /* used | allowed, borrowed */

		for (int x = 0; x < e->nw; x++)
			s[x] = e->used[x] | row(e, e->allowed, depth)[x];
		lb.v[T_MISS] = np__eng_pci_bound(e, s);
		if (lb.v[T_MISS] < 0)
			return false;
	}
	c = e->have_best ? terms_cmp(&lb, &e->best) : -1;
	if (c > 0 || (c == 0 && e->best_dfs))
		return false;
	return r < 2 || matching(e, r);
}

/* ---- answers ------------------------------------------------------------ */

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
	if (e->nreq && (t.v[T_MISS] = np__eng_pci_eval(e, e->used)) < 0)
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
		const word *cj;

		if (j < 0)
			break;
		e->steps++;
		e->cur.v[T_MAXD] = max_with(e, j, e->cur.v[T_MAXD]);
		assign(e, i, j);
		cj = np__eng_compat_row(e, j);
		for (int x = 0; x < e->nw; x++)
			nx[x] = row(e, e->allowed, d)[x] & cj[x];
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

	if (over_budget(e))
		return;
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
		const word *cj;

		if (e->use_sym && e->prev[j] >= 0 && !bit(e->used, e->prev[j]))
			continue;
		e->cur.v[T_MAXD] = max_with(e, j, old);
		assign(e, i, j);
		cj = np__eng_compat_row(e, j);
		for (int x = 0; x < e->nw; x++)
			nx[x] = al[x] & cj[x];
		dfs(e, depth + 1);
		unassign(e, i, j);
		e->cur.v[T_MAXD] = old;
		if (e->aborted)
			return;
	}
}

/* ---- thresholds and the root -------------------------------------------- */

/* May B join A's set within e->T (A itself within it)? */
static bool within(const struct eng *e, int a, int b)
{
	return e->sym[a * e->n + b] <= e->T && e->d[b * e->n + b] <= e->T;
}

/*
 * The compatible nodes of A are among the prefix of A's round-trip order
 * with dd <= 2T (sym <= dd): each row costs its prefix, not n, and is
 * built only when the search asks for it.
 */
const word *np__eng_compat_row(struct eng *e, int a)
{
	word *r = row(e, e->compat, a);
	const uint16_t *o = &e->order[(size_t)a * (e->n - 1)];
	int64_t lim = 2 * (int64_t)e->T;

	if (bit(e->cok, a))
		return r;
	set_bit(e->cok, a);
	memset(r, 0, (size_t)e->nw * sizeof(word));
	if (e->d[a * e->n + a] > e->T)
		return r;
	for (int x = 0; x < e->n - 1 && e->dd[a * e->n + o[x]] <= lim; x++)
		if (within(e, a, o[x]))
			set_bit(r, o[x]);
	return r;
}

/*
 * near[a][c]: the sum of the C smallest dd from A to nodes compatible
 * with it (the first compatible ones in A's round-trip order); returns
 * the smallest (INT64_MAX: none).
 */
static int64_t nearest(struct eng *e, int a, bool all)
{
	const uint16_t *o = &e->order[(size_t)a * (e->n - 1)];
	int64_t *out = &e->near[(size_t)a * e->k], big = INT64_MAX / 4, lim = 2 * (int64_t)e->T;
	int c = 1, want = all ? e->k : 2;

	if (all)
		for (int x = 0; x < e->k; x++)
			out[x] = x ? big : 0;
	if (e->d[a * e->n + a] > e->T)
		return INT64_MAX;
	for (int x = 0; x < e->n - 1 && c < want; x++) {
		int64_t v = e->dd[a * e->n + o[x]];

		if (v > lim)
			break;
		if (!within(e, a, o[x]))
			continue;
		if (c == 1 && !all)
			return v;
		out[c] = out[c - 1] + v;
		c++;
	}
	return c > 1 ? out[1] : INT64_MAX;
}

/* Compatibility within T, the smallest pair cost, the allowed root set. */
void np__eng_set_threshold(struct eng *e, uint32_t T)
{
	word *root = row(e, e->allowed, 0);
	bool all = e->nfree > 2 && !e->no_near;

	e->T = T;
	e->dpair_min = INT64_MAX;
	memset(e->cok, 0, (size_t)e->nw * sizeof(word));
	memset(root, 0, (size_t)e->nw * sizeof(word));
	for (int a = 0; a < e->n; a++) {
		int64_t m = nearest(e, a, all);

		if (e->d[a * e->n + a] <= T)
			set_bit(root, a);
		e->dpair_min = m < e->dpair_min ? m : e->dpair_min;
	}
	e->any_pair = e->dpair_min != INT64_MAX;
	if (!e->any_pair)
		e->dpair_min = 0;
	for (int i = 0; i < e->k; i++)
		if (e->fixed[i] >= 0) {
			const word *cf = np__eng_compat_row(e, e->fixed[i]);

			for (int x = 0; x < e->nw; x++)
				root[x] &= cf[x];
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
void np__eng_search(struct eng *e, uint32_t from)
{
	const uint32_t *ts = e->dist->thresholds;
	int nt = e->dist->nthresholds, t0 = 0;

	while (t0 < nt && ts[t0] < from)
		t0++;
	e->tmin = t0 < nt ? ts[t0] : from;
	for (int t = t0; t < nt && !e->aborted; t++) {
		if (e->have_best && e->best.v[T_MISS] <= e->miss_floor)
			break;
		/* Each threshold costs n^2 before its first step: a time budget stops here too. */
		if (e->max_us && t > t0 && np__eng_now_us() - e->t0_us > e->max_us) {
			e->aborted = true;
			break;
		}
		np__eng_set_threshold(e, ts[t]);
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
void np__eng_preassign(struct eng *e)
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
uint32_t np__eng_fixed_floor(const struct eng *e)
{
	uint32_t m = 0;

	for (int i = 0; i < e->k; i++)
		for (int p = 0; p <= i && e->fixed[i] >= 0; p++)
			if (e->fixed[p] >= 0 && e->sym[e->fixed[i] * e->n + e->fixed[p]] > m)
				m = e->sym[e->fixed[i] * e->n + e->fixed[p]];
	return m;
}

/* Without distances: how many free cells fit on distinct free nodes? */
int np__eng_root_matched(struct eng *e)
{
	for (int q = 0; q < e->nfree; q++)
		for (int x = 0; x < e->nw; x++)
			row(e, e->cand, q)[x] = row(e, e->feas, e->freec[q])[x] & ~e->used[x];
	return matched(e, e->nfree, true);
}

/*
 * The budget ran out before any answer: one greedy dive with every node
 * allowed (each cell drawn to the nodes nearest the cells before it, by
 * weighted distance first), else the matching.
 */
void np__eng_last_resort(struct eng *e)
{
	np__eng_preassign(e);
	e->no_near = true; /* only the search's bounds read them */
	np__eng_set_threshold(e, e->dist->thresholds[e->dist->nthresholds - 1]);
	e->no_near = false;
	dive(e);
	if (!e->have_best)
		np__eng_take_matching(e);
}

/* The matching as a last resort answer when the budget ran out. */
void np__eng_take_matching(struct eng *e)
{
	struct terms t;

	if (np__eng_root_matched(e) < e->nfree)
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
	if (e->nreq && (t.v[T_MISS] = np__eng_pci_eval(e, e->used)) < 0)
		return;
	e->best = t;
	memcpy(e->best_asg, e->asg, (size_t)e->k * sizeof(int));
	e->have_best = true;
}

/* ---- the gap of an answer the budget cut short -------------------------- */

static const enum np_term term_of[NT] = {
    NP_TERM_DEVICE_MISSES, NP_TERM_MAX_DISTANCE, NP_TERM_SUM_DISTANCE,
    NP_TERM_WHOLE_NODES,   NP_TERM_DEVICE_NODES, NP_TERM_DEMAND,
    NP_TERM_HALF_FREE,     NP_TERM_STRANDED,     NP_TERM_BEST_FIT,
    NP_TERM_STRATEGY,
};

static void set_gap(struct eng *e, int t, int64_t gap)
{
	e->plan->score.gap_term = term_of[t];
	e->plan->score.gap = (uint64_t)gap;
}

/*
 * The optimum O is at most e->best (B) lexicographically, and at least a
 * lower bound L term by term: misses at least the floor of any answer,
 * max distance at least e->tmin (every threshold below was refuted), and
 * for answers within B's max distance the root bounds of the search
 * (cheapest(), pairs_bound(); as the search last computed them at that
 * threshold, if it did).  Where B equals L, O must equal B too; the
 * first term where B exceeds L is where O may be better, by at most
 * B - L.  The search state goes back to the fixed cells alone first (the
 * matching of a search that found nothing leaves its nodes marked).
 */
void np__eng_gap(struct eng *e)
{
	const struct terms *b = &e->best;
	struct terms lb;
	int64_t pb;
	int t;

	np__eng_preassign(e);
	lb = e->cur;
	lb.v[T_MISS] = e->nreq ? e->miss_floor : 0;
	lb.v[T_MAXD] = lb.v[T_MAXD] > e->tmin ? lb.v[T_MAXD] : e->tmin;
	if (b->v[T_MISS] == lb.v[T_MISS] && b->v[T_MAXD] == lb.v[T_MAXD]) {
		if (e->root_set && e->root_T == (uint32_t)b->v[T_MAXD]) {
			pb = e->root_ok ? 0 : -1;
			for (t = T_SUMD; t < NT && e->root_ok; t++)
				lb.v[t] = e->root_lb.v[t];
		} else {
			np__eng_set_threshold(e, (uint32_t)b->v[T_MAXD]);
			pb = pairs_bound(e, 0, e->nfree);
			if (pb >= 0 && !cheapest(e, 0, &lb))
				pb = -1;
			lb.v[T_SUMD] += pb >= 0 ? pb : 0;
		}
		if (pb < 0) {
			set_gap(e, T_SUMD, b->v[T_SUMD]); /* no bound: 0 for the distance */
			return;
		}
	}
	for (t = 0; t < NT && b->v[t] == lb.v[t]; t++)
		;
	assert(t == NT || b->v[t] > lb.v[t]);
	if (t < NT)
		set_gap(e, t, b->v[t] - lb.v[t]);
}
