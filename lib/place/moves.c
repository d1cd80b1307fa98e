/*
 * moves.c - np_place_with_moves(): when a guest does not fit only because
 * the free capacity is scattered, the cheapest set of at most N moves of
 * other guests' cells after which it fits (docs/policies/placement.md 14).
 *
 * The search is uniform-cost (Dijkstra) over sequences of moves, each
 * move one item (moves-apply.c: a cell that may move) to another node
 * where it fits the host the moves before it left; each cell moves at
 * most once.  States are kept in one store and ordered by cost: MiB to
 * migrate, then the number of moves, then their key (the moves sorted),
 * so the order and the answer are deterministic.  A state is tested by
 * running the engine (np_place()) on the host it leaves; the first state
 * in which the guest fits has the least (MiB, moves); every other state of
 * that same cost is tested too and the best plan (device misses, max
 * distance, weighted distance, stranded capacity) wins.  Two sequences
 * that end with the same cells on the same nodes and CPUs are one state.
 *
 * Pruning, each keeping the answer exact:
 *  - the guest must fit on the host with every item gone (a relaxation of
 *    every state); if not, no set of moves can help, proven at once;
 *  - a node where no cell of the guest fits even with every item gone is
 *    never one of its nodes, so a move out of it only pays off as room for
 *    another move (into that node, or of another cell of the same guest);
 *    a state with more such unpaid moves than moves left to pay for them
 *    (one later move pays for at most two) is dropped: removing an unpaid
 *    move from any answer gives a cheaper answer (its guest goes back where
 *    it was, and the node it went to has more room);
 *  - a state is expanded only while no answer has been found: its
 *    successors cost more than it does.
 * Budget: MOPTS->max_sets tested states, MOPTS->max_us microseconds
 * (checked before each state is tested, so one np_place() may overrun it)
 * and a store of at most 64 MiB; over any the best answer so far is
 * returned with moves_exact false.
 *
 * Exact, within the budget, against every sequence of at most N moves of
 * distinct cells, each fitting when it is made: tests/unit/test-moves.c
 * compares it with a brute force over every such sequence on small hosts.
 * Not considered: moving a cell twice (a swap through a third node), and
 * on SMT nodes the other CPUs another order of the same moves would pin.
 *
 * Reads the host, the request and the guests' plans; every host it tests
 * is its own clone.
 */
#include <stdlib.h>
#include <string.h>

#include "place/engine-int.h"
#include "place/moves-int.h"

#define DEFAULT_MAX_SETS 20000u
#define STORE_BYTES	 ((size_t)64 << 20)

struct mv {
	int item;
	int to;
	uint64_t pins; /* hash of the CPUs the fit chose: part of the state */
};

/* A state: N moves in the order they are made, then the same sorted (its key). */
struct st {
	uint64_t mb;
	uint64_t hash;
	int n;
	struct mv mv[];
};

struct ms {
	const np_host *host;
	const np_request *req;
	struct np_place_opts po; /* the caller's, without explain */
	const struct np_guest_plan *guests;
	int nguests, nnodes, nitems, max_moves;
	struct np__item *items;
	uint32_t *gmaxd;   /* per guest: the largest distance between its cells now */
	bool *usable;      /* per node: some cell of the new guest fits with every item gone */
	int *tpc;          /* per node: SMT width */
	struct np__fitbuf fb;
	size_t stsize, nst, capst;
	char *store;
	size_t *heap, nheap, capheap;
	size_t *table, tcap; /* open addressing: state index + 1, 0 empty */
	uint64_t sets, max_sets;
	uint64_t max_us, t0_us; /* the time budget (0: none) and when the search began */
	bool truncated;
	bool have_best;
	size_t best;
	struct np_plan_score best_score;
};

static struct st *st_at(const struct ms *s, size_t i)
{
	return (struct st *)(s->store + i * s->stsize);
}

static const struct mv *key_of(const struct ms *s, const struct st *t)
{
	return t->mv + s->max_moves;
}

static int mv_cmp(const struct mv *a, const struct mv *b)
{
	if (a->item != b->item)
		return a->item < b->item ? -1 : 1;
	if (a->to != b->to)
		return a->to < b->to ? -1 : 1;
	return (a->pins > b->pins) - (a->pins < b->pins);
}

/* Cost order: MiB, moves, then the sorted moves. */
static int st_cmp(const struct ms *s, const struct st *a, const struct st *b)
{
	if (a->mb != b->mb)
		return a->mb < b->mb ? -1 : 1;
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (int i = 0; i < a->n; i++) {
		int c = mv_cmp(&key_of(s, a)[i], &key_of(s, b)[i]);

		if (c)
			return c;
	}
	return 0;
}

static bool same_key(const struct ms *s, const struct st *a, const struct st *b)
{
	if (a->n != b->n || a->hash != b->hash)
		return false;
	for (int i = 0; i < a->n; i++)
		if (mv_cmp(&key_of(s, a)[i], &key_of(s, b)[i]))
			return false;
	return true;
}

/* Sort T's moves into its key and hash it. */
static void make_key(const struct ms *s, struct st *t)
{
	struct mv *k = t->mv + s->max_moves;
	uint64_t h = 1469598103934665603u;

	memcpy(k, t->mv, (size_t)t->n * sizeof(*k));
	for (int i = 1; i < t->n; i++)
		for (int j = i; j > 0 && mv_cmp(&k[j - 1], &k[j]) > 0; j--) {
			struct mv x = k[j];

			k[j] = k[j - 1];
			k[j - 1] = x;
		}
	for (int i = 0; i < t->n; i++) {
		h = (h ^ (uint64_t)k[i].item) * 1099511628211u;
		h = (h ^ (uint64_t)k[i].to) * 1099511628211u;
		h = (h ^ k[i].pins) * 1099511628211u;
	}
	t->hash = h;
}

/* ---- the store, the table of seen states, the heap ---------------------- */

/* A new state slot (uninitialised): its index, or (size_t)-1 when over the budget. */
static size_t st_new(struct ms *s)
{
	if (s->nst == s->capst) {
		size_t cap = s->capst ? 2 * s->capst : 256;
		char *p;

		if (cap * s->stsize > STORE_BYTES)
			return (size_t)-1;
		p = realloc(s->store, cap * s->stsize);
		if (!p)
			return (size_t)-1;
		s->store = p;
		s->capst = cap;
	}
	return s->nst++;
}

static int table_grow(struct ms *s)
{
	size_t cap = s->tcap ? 2 * s->tcap : 1024;
	size_t *t = np__calloc(cap, sizeof(*t));

	if (!t)
		return NP_ENOMEM;
	for (size_t i = 0; i < s->tcap; i++) {
		size_t at;

		if (!s->table[i])
			continue;
		at = st_at(s, s->table[i] - 1)->hash & (cap - 1);
		while (t[at])
			at = (at + 1) & (cap - 1);
		t[at] = s->table[i];
	}
	free(s->table);
	s->table = t;
	s->tcap = cap;
	return 0;
}

/* Record state I unless an equal one was seen: true when it is new. */
static bool table_add(struct ms *s, size_t i)
{
	const struct st *t = st_at(s, i);
	size_t at;

	if (2 * (s->nst + 1) > s->tcap && table_grow(s))
		return false;
	for (at = t->hash & (s->tcap - 1); s->table[at]; at = (at + 1) & (s->tcap - 1))
		if (same_key(s, st_at(s, s->table[at] - 1), t))
			return false;
	s->table[at] = i + 1;
	return true;
}

static bool heap_less(const struct ms *s, size_t a, size_t b)
{
	return st_cmp(s, st_at(s, s->heap[a]), st_at(s, s->heap[b])) < 0;
}

static void heap_swap(struct ms *s, size_t a, size_t b)
{
	size_t x = s->heap[a];

	s->heap[a] = s->heap[b];
	s->heap[b] = x;
}

static int heap_push(struct ms *s, size_t i)
{
	size_t k;

	if (np__grow((void **)&s->heap, &s->capheap, s->nheap + 1, sizeof(*s->heap)))
		return NP_ENOMEM;
	k = s->nheap++;
	s->heap[k] = i;
	for (; k > 0 && heap_less(s, k, (k - 1) / 2); k = (k - 1) / 2)
		heap_swap(s, k, (k - 1) / 2);
	return 0;
}

static size_t heap_pop(struct ms *s)
{
	size_t top = s->heap[0], k = 0;

	s->heap[0] = s->heap[--s->nheap];
	for (;;) {
		size_t l = 2 * k + 1, r = l + 1, m = k;

		if (l < s->nheap && heap_less(s, l, m))
			m = l;
		if (r < s->nheap && heap_less(s, r, m))
			m = r;
		if (m == k)
			return top;
		heap_swap(s, k, m);
		k = m;
	}
}

/* ---- one state: its host, its checks, its successors -------------------- */

static uint64_t cpus_hash(const np_plan *c)
{
	const struct np_plan_cell *x = &c->cells[0];
	uint64_t h = 1469598103934665603u;

	for (int i = 0; i < x->npins; i++)
		h = (h ^ (uint64_t)x->pins[i].pcpu) * 1099511628211u;
	for (int i = 0; i < x->nreserved; i++)
		h = (h ^ ((uint64_t)x->reserved[i] << 20)) * 1099511628211u;
	for (int i = 0; i < x->nblocked; i++)
		h = (h ^ ((uint64_t)x->blocked[i] << 40)) * 1099511628211u;
	return h;
}

/* The host T leaves, in *OUT; with CELLS, each move's cell after it (the caller frees them). */
static int materialize(struct ms *s, const struct st *t, np_host **out, np_plan **cells)
{
	np_host *h = NULL;
	int rc = np_host_clone(s->host, &h, NULL);

	for (int i = 0; i < t->n && !rc; i++) {
		const struct np__item *it = &s->items[t->mv[i].item];
		np_plan *c = NULL;

		rc = np__item_fit(h, it, t->mv[i].to, &s->fb, &c);
		if (!rc && !c)
			rc = NP_EINPUT; /* cannot happen: the same moves fitted before */
		if (!rc)
			rc = np__host_move(h, it->cell, c, NULL);
		if (cells)
			cells[i] = c;
		else
			np_plan_free(c);
	}
	if (rc) {
		np_host_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

/* The node guest cell C of guest G is on in T (moved or not). */
static int node_in(const struct ms *s, const struct st *t, const struct np_plan_cell *c)
{
	for (int i = 0; i < t->n; i++)
		if (s->items[t->mv[i].item].cell == c)
			return t->mv[i].to;
	return c->node_idx;
}

/* Item I to node J after T keeps its guest on distinct nodes, no farther apart than now. */
static bool guest_ok(const struct ms *s, const struct st *t, int i, int j)
{
	const struct np__item *it = &s->items[i];
	const np_plan *p = s->guests[it->guest].plan;
	const uint32_t *sym = np__host_dist(s->host)->sym;
	int nodes[64], k = 0;

	if (p->ncells > 64)
		return false;
	for (int c = 0; c < p->ncells; c++)
		nodes[k++] = &p->cells[c] == it->cell ? j : node_in(s, t, &p->cells[c]);
	for (int a = 0; a < k; a++)
		for (int b = 0; b < k; b++) {
			if (a != b && nodes[a] == nodes[b])
				return false;
			if (sym[(size_t)nodes[a] * (size_t)s->nnodes + (size_t)nodes[b]] >
			    s->gmaxd[it->guest])
				return false;
		}
	return true;
}

/*
 * Whether T can still be part of an answer: each move out of a node the
 * new guest can never use must be paid for by another move into that node
 * or of another cell of the same guest; one later move pays for two.
 */
static bool payable(const struct ms *s, const struct st *t)
{
	int src[NP_MOVES_MAX], u = 0;

	for (int x = 0; x < t->n; x++) {
		const struct np__item *ix = &s->items[t->mv[x].item];
		int a = ix->cell->node_idx;
		bool paid = s->usable[a];

		for (int y = 0; y < t->n && !paid; y++)
			paid = y != x && (t->mv[y].to == a ||
					  s->items[t->mv[y].item].guest == ix->guest);
		for (int k = 0; k < u && !paid; k++)
			paid = src[k] == a;
		if (!paid)
			src[u++] = a;
	}
	return (u + 1) / 2 <= s->max_moves - t->n;
}

static bool moved(const struct st *t, int i)
{
	for (int k = 0; k < t->n; k++)
		if (t->mv[k].item == i)
			return true;
	return false;
}

/* Push the state PARENT plus item I to node J (its cell after the move C). */
static int push_child(struct ms *s, const struct st *parent, int i, int j, const np_plan *c)
{
	size_t at = st_new(s);
	struct st *t;

	if (at == (size_t)-1) {
		s->truncated = true;
		return 0;
	}
	t = st_at(s, at);
	memcpy(t, parent, s->stsize);
	t->mv[t->n++] = (struct mv){ i, j, cpus_hash(c) };
	t->mb += c->cells[0].memory_mb;
	make_key(s, t);
	if (!payable(s, t) || !table_add(s, at)) {
		s->nst--; /* the slot just taken */
		return 0;
	}
	return heap_push(s, at);
}

/* Every successor of PARENT (a copy: the store may move), whose host is H. */
static int expand(struct ms *s, const struct st *parent, const np_host *h)
{
	int rc = 0;

	for (int i = 0; i < s->nitems && !rc && !s->truncated; i++) {
		const struct np__item *it = &s->items[i];

		if (moved(parent, i))
			continue;
		for (int j = 0; j < s->nnodes && !rc && !s->truncated; j++) {
			np_plan *c = NULL;

			if (j == it->cell->node_idx || (it->cr.npinned && s->tpc[j] != it->tpc) ||
			    !guest_ok(s, parent, i, j))
				continue;
			rc = np__item_fit(h, it, j, &s->fb, &c);
			if (!rc && c)
				rc = push_child(s, parent, i, j, c);
			np_plan_free(c);
		}
	}
	return rc;
}

/* ---- the search ------------------------------------------------------------ */

static int score_cmp(const struct np_plan_score *a, const struct np_plan_score *b)
{
	if (a->device_misses != b->device_misses)
		return a->device_misses < b->device_misses ? -1 : 1;
	if (a->max_distance != b->max_distance)
		return a->max_distance < b->max_distance ? -1 : 1;
	if (a->sum_distance != b->sum_distance)
		return a->sum_distance < b->sum_distance ? -1 : 1;
	return (a->stranded > b->stranded) - (a->stranded < b->stranded);
}

/* Test state IDX: place the guest on its host; expand it while no answer is known. */
static int visit(struct ms *s, size_t idx)
{
	struct st *t = st_at(s, idx), *copy = malloc(s->stsize);
	np_host *h = NULL;
	np_plan *p = NULL;
	int rc = copy ? 0 : NP_ENOMEM;

	if (!rc) {
		memcpy(copy, t, s->stsize); /* the store may move while expanding */
		rc = materialize(s, copy, &h, NULL);
	}
	if (!rc)
		rc = np_place(h, s->req, &s->po, &p, NULL);
	s->sets++;
	if (!rc && np_plan_fits(p) &&
	    (!s->have_best || score_cmp(&p->score, &s->best_score) < 0)) {
		s->have_best = true;
		s->best = idx;
		s->best_score = p->score;
	} else if (!rc && !np_plan_fits(p) && !s->have_best && copy->n < s->max_moves) {
		rc = expand(s, copy, h);
	}
	np_plan_free(p);
	np_host_free(h);
	free(copy);
	return rc;
}

static int search(struct ms *s)
{
	size_t size = sizeof(struct st) + 2 * (size_t)s->max_moves * sizeof(struct mv);
	struct st *root;
	int rc;

	s->stsize = (size + 15) & ~(size_t)15;
	root = np__calloc(1, s->stsize);
	if (!root)
		return NP_ENOMEM;
	rc = expand(s, root, s->host); /* the root (no move) is np_place()'s own no-fit */
	free(root);
	while (!rc && s->nheap > 0) {
		size_t i = s->heap[0];

		if (s->have_best && (st_at(s, i)->mb != st_at(s, s->best)->mb ||
				     st_at(s, i)->n != st_at(s, s->best)->n))
			break; /* everything left costs more */
		if (s->sets >= s->max_sets ||
		    (s->max_us && np__eng_now_us() - s->t0_us > s->max_us)) {
			s->truncated = true;
			break;
		}
		rc = visit(s, heap_pop(s));
	}
	return rc;
}

/* ---- setting up, and the answer -------------------------------------------- */

static bool pinned_policy(enum np_cpu_policy p)
{
	return p == NP_CPU_POLICY_DEDICATED || p == NP_CPU_POLICY_MIXED;
}

/* Per node: can some cell of the new guest fit it on H (every node for a guest without NUMA)? */
static void mark_usable(struct ms *s, const np_host *h)
{
	const np_request *q = s->req;
	bool iso = np_request_emulator_policy(q) == NP_EMULATOR_POLICY_ISOLATE;
	bool pinned = pinned_policy(np_request_cpu_policy(q));

	for (int j = 0; j < s->nnodes; j++)
		s->usable[j] = !np_request_has_numa(q);
	for (int i = 0; i < np_request_cell_count(q) && np_request_has_numa(q); i++) {
		const struct np_guest_cell *c = np_request_cell(q, i);
		struct np__cellreq cr = { c->nvcpus, c->npcpus, c->memory_mb, c->pagesize,
					  np_request_cpu_policy(q), np_request_thread_policy(q),
					  iso && i == 0 && pinned };

		for (int j = 0; j < s->nnodes; j++) {
			struct np__fit f = { .pcpus = s->fb.pcpus, .blocked = s->fb.blocked };

			if (s->usable[j])
				continue;
			np__cell_fit(h, j, &cr, s->fb.work, &f);
			s->usable[j] = f.ok;
		}
	}
}

/* The largest distance between the cells of guest plan P. */
static uint32_t max_dist(const struct ms *s, const np_plan *p)
{
	const uint32_t *sym = np__host_dist(s->host)->sym;
	uint32_t m = 0;

	for (int a = 0; a < p->ncells; a++)
		for (int b = 0; b < p->ncells; b++) {
			uint32_t d = sym[(size_t)p->cells[a].node_idx * (size_t)s->nnodes +
					 (size_t)p->cells[b].node_idx];

			m = d > m ? d : m;
		}
	return m;
}

static int setup(struct ms *s)
{
	int rc = np__items(s->host, s->guests, s->nguests, &s->items, &s->nitems);

	s->nnodes = np_topo_node_count(np_host_topo(s->host));
	s->gmaxd = np__calloc((size_t)s->nguests + 1, sizeof(*s->gmaxd));
	s->usable = np__calloc((size_t)s->nnodes, sizeof(*s->usable));
	s->tpc = np__calloc((size_t)s->nnodes, sizeof(*s->tpc));
	if (rc || !s->gmaxd || !s->usable || !s->tpc || np__fitbuf_init(&s->fb, s->host))
		return NP_ENOMEM;
	for (int i = 0; i < s->nitems; i++)
		s->gmaxd[s->items[i].guest] = max_dist(s, s->guests[s->items[i].guest].plan);
	for (int j = 0; j < s->nnodes; j++)
		s->tpc[j] = np__node_tpc(s->host, j);
	return 0;
}

/*
 * The host with every item gone, a relaxation of every state: whether the
 * guest fits there (*FITS), and the nodes its cells may ever use.
 */
static int relax(struct ms *s, bool *fits)
{
	np_host *h = NULL;
	np_plan *p = NULL;
	int rc = np_host_clone(s->host, &h, NULL);

	for (int i = 0; i < s->nitems && !rc; i++) {
		np_plan *c = np__cell_plan(s->items[i].cell);

		rc = c ? np_host_charge(h, c, true, NULL) : NP_ENOMEM;
		if (!rc)
			np__host_give_free(h, s->items[i].cell->node_idx, s->items[i].cell->memory_mb);
		np_plan_free(c);
	}
	if (!rc)
		rc = np_place(h, s->req, &s->po, &p, NULL);
	if (!rc) {
		*fits = np_plan_fits(p);
		mark_usable(s, h);
	}
	np_plan_free(p);
	np_host_free(h);
	return rc;
}

/* The plan on the best state's host, with its moves. */
static int answer(struct ms *s, const struct np_place_opts *opts, np_plan **out,
		  struct np_error *err)
{
	struct st *t = st_at(s, s->best);
	np_plan **cells = np__calloc((size_t)t->n + 1, sizeof(*cells));
	np_host *h = NULL;
	np_plan *p = NULL;
	int rc = cells ? materialize(s, t, &h, cells) : NP_ENOMEM;

	if (!rc)
		rc = np_place(h, s->req, opts, &p, err);
	for (int i = 0; i < t->n && !rc; i++) {
		const struct np__item *it = &s->items[t->mv[i].item];

		rc = np__plan_add_move(p, s->guests[it->guest].id, it->cell->node_idx,
				       &cells[i]->cells[0]);
	}
	if (!rc && !np_plan_fits(p))
		rc = NP_EINPUT; /* cannot happen: the same host fitted before */
	for (int i = 0; cells && i < t->n; i++)
		np_plan_free(cells[i]);
	free(cells);
	np_host_free(h);
	if (rc) {
		np_plan_free(p);
		return np__err(err, rc, rc == NP_ENOMEM ? "out of memory" : "internal error");
	}
	p->moves_exact = !s->truncated;
	*out = p;
	return 0;
}

/* One more reason on P0 (no fit): why moves did not help; the summary stays last. */
static int no_room(const struct ms *s, np_plan *p0, bool relaxed)
{
	const struct np_reason *sum = p0->summary >= 0 ? &p0->reasons[p0->summary] : NULL;
	struct np_reason r;
	int rc;

	if (s->nitems == 0)
		rc = np__plan_add_reason(p0, -1, -1, -1, sum ? sum->resource : NP_RES_NODES, 0, 0,
					 "moving other guests' cells cannot make room: none may "
					 "move (fixed, holding PCI devices, or spread over nodes)");
	else if (relaxed)
		rc = np__plan_add_reason(
		    p0, -1, -1, -1, sum ? sum->resource : NP_RES_NODES, 0, 0,
		    "moving other guests' cells cannot make room: the guest does not fit even with "
		    "all %d cells that may move gone", s->nitems);
	else
		rc = np__plan_add_reason(
		    p0, -1, -1, -1, sum ? sum->resource : NP_RES_NODES, 0, 0,
		    "no set of up to %d moves of other guests' cells makes room (%llu sets tried%s)",
		    s->max_moves, (unsigned long long)s->sets,
		    s->truncated ? "; the search budget ran out" : ", every one there is");
	if (rc || !sum)
		return rc;
	/* Keep the summary the last reason about the whole guest (plan.md). */
	r = p0->reasons[p0->nreasons - 1];
	p0->reasons[p0->nreasons - 1] = p0->reasons[p0->summary];
	p0->reasons[p0->summary] = r;
	p0->summary = p0->nreasons - 1;
	p0->moves_exact = !s->truncated;
	return 0;
}

static void ms_free(struct ms *s)
{
	free(s->items);
	free(s->gmaxd);
	free(s->usable);
	free(s->tpc);
	np__fitbuf_free(&s->fb);
	free(s->store);
	free(s->heap);
	free(s->table);
}

int np_place_with_moves(const np_host *host, const np_request *req,
			const struct np_place_opts *opts, const struct np_guest_plan *guests,
			int nguests, const struct np_moves_opts *mopts, np_plan **out,
			struct np_error *err)
{
	struct ms s = { .host = host, .req = req, .guests = guests, .nguests = nguests };
	int max = mopts ? mopts->max_moves : 0, rc;
	bool relaxed_fits = true;
	np_plan *p0 = NULL;

	if (max < 0 || max > NP_MOVES_MAX)
		return np__err(err, NP_EINPUT, "moves: %d asked, from 0 to %d allowed", max,
			       NP_MOVES_MAX);
	if (nguests < 0 || (nguests > 0 && !guests))
		return np__err(err, NP_EINPUT, "moves: no guests given");
	if ((rc = np_place(host, req, opts, &p0, err)) || np_plan_fits(p0) || max == 0) {
		if (!rc)
			*out = p0;
		return rc;
	}
	s.po = opts ? *opts : (struct np_place_opts){ 0 };
	s.po.explain = false;
	s.max_moves = max;
	s.max_sets = mopts->max_sets ? mopts->max_sets : DEFAULT_MAX_SETS;
	s.max_us = mopts->max_us;
	s.t0_us = s.max_us ? np__eng_now_us() : 0;
	rc = setup(&s);
	if (!rc && s.nitems > 0)
		rc = relax(&s, &relaxed_fits);
	if (!rc && s.nitems > 0 && relaxed_fits)
		rc = search(&s);
	if (!rc && s.have_best) {
		rc = answer(&s, opts, out, err);
		np_plan_free(p0);
		ms_free(&s);
		return rc;
	}
	if (!rc)
		rc = no_room(&s, p0, !relaxed_fits);
	ms_free(&s);
	if (rc) {
		np_plan_free(p0);
		return np__err(err, rc, rc == NP_ENOMEM ? "out of memory" : "internal error");
	}
	*out = p0;
	return 0;
}
