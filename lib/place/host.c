/*
 * host.c - np_host: a topology plus its guest configuration (which CPUs
 * serve floating and pinned vCPUs, ratios, page and PCI pools) and what is
 * taken (memory, pages, pinned CPUs, floating vCPUs, PCI devices).
 *
 * Design: one struct host_node per topology node owns its CPU lists and
 * pools and keeps the public struct np_host_node pointing at them, so
 * np_host_node() is a plain array access (the engine reads it often).
 * SMT sibling groups are derived from the topology (same node, socket and
 * core id; a CPU with an unknown core is a group of its own) and cut down
 * to the node's shared and dedicated CPUs, as Nova's libvirt driver does;
 * groups are ordered by their smallest CPU, CPUs increasing, so pinning
 * is deterministic.  What the engine derives from the distances alone
 * (symmetric maxima and sums, the distinct thresholds, the "distance
 * twins" whose swap is an automorphism) is computed once here, at
 * creation, so that np_place() stays read-only and cheap.
 *
 * Invariants (np_host_check): CPU lists sorted, without duplicates, within
 * the node's CPUs; pinned within dedicated; used + reserved <= total per
 * page pool; 0 <= PCI used <= count.  Every setter validates its input and
 * changes nothing when it fails; debug builds assert the checker after
 * every change (checked()).  np_host_charge() works on a clone and
 * swaps it in only when the whole plan applied, so a failed charge leaves
 * the host as it was.
 */
#include "place/place-int.h"
#include "plan/plan-int.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/host.h>
#include <numaplace/limits.h>

_Static_assert(NP_NODES_MAX <= 65536, "node ids of np__dist.order are 16 bits");

struct host_node {
	struct np_host_node pub;
	int *shared, *dedicated, *pinned;
	int pincap; /* room in PINNED: pinning adds in place while it lasts */
	int *sib_store;	  /* every group's ids, each ended by -1 */
	const int **sibs; /* group starts inside sib_store */
	struct np_page_pool *pools;
};

struct np_host {
	const np_topo *topo;
	int nnodes;
	struct host_node *nodes;
	bool limits;
	double cpu_ratio, ram_ratio;
	enum np_memory_basis basis;
	int npci;
	struct np_pci_pool *pci;
	int *twin;	      /* per node: the next lower node it may be swapped with, or -1 */
	struct np__dist dist; /* derived from the topology's distances */
	/*
	 * A clone's arrays in one allocation (np_host_clone): ARENA, or NULL.
	 * An array inside it is never freed on its own (drop()); one a setter
	 * replaces later is a plain allocation.  It travels with the arrays
	 * when np_host_charge swaps a clone in.
	 */
	char *arena;
	size_t arena_size;
};

/*
 * Debug builds (no NDEBUG) re-check every invariant after each change to
 * a host, so that a change that breaks one stops right there; returns 0,
 * for `return checked(h);` on the success path.
 */
static int checked(const np_host *h)
{
	assert(np_host_check(h, NULL) == 0);
	(void)h;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static bool has_cpu(const int *set, int n, int cpu)
{
	return n > 0 && bsearch(&cpu, set, (size_t)n, sizeof(int), cmp_int) != NULL;
}

static int *dup_ints(const int *src, int n)
{
	int *d = np__calloc((size_t)(n > 0 ? n : 1), sizeof(int));

	if (d && n > 0)
		memcpy(d, src, (size_t)n * sizeof(int));
	return d;
}

/* Free P, one of H's arrays, unless it lives in H's arena. */
static void drop(const np_host *h, const void *p)
{
	uintptr_t a = (uintptr_t)h->arena, q = (uintptr_t)p;

	if (!h->arena || q < a || q >= a + h->arena_size)
		free((void *)p);
}

static void node_clear(const np_host *h, struct host_node *hn)
{
	drop(h, hn->shared);
	drop(h, hn->dedicated);
	drop(h, hn->pinned);
	drop(h, hn->sib_store);
	drop(h, hn->sibs);
	drop(h, hn->pools);
	memset(hn, 0, sizeof(*hn));
}

/* Point the public view at the owned arrays after any of them changed. */
static void node_sync(struct host_node *hn)
{
	hn->pub.shared = hn->shared;
	hn->pub.dedicated = hn->dedicated;
	hn->pub.pinned = hn->pinned;
	hn->pub.siblings = (const int *const *)hn->sibs;
	hn->pub.pools = hn->pools;
}

/* Same core: same node (given), core id known and equal, same socket. */
static bool same_core(const struct np_cpu *a, const struct np_cpu *b)
{
	return a->core >= 0 && a->core == b->core && a->socket == b->socket;
}

/*
 * Rebuild the sibling groups of node IDX from the topology, keeping only
 * CPUs that are shared or dedicated.  Members are visited in increasing
 * id order, so groups come out ordered by their smallest CPU.
 */
static int build_siblings(np_host *h, int idx)
{
	struct host_node *hn = &h->nodes[idx];
	const struct np_node *tn = np_topo_node(h->topo, idx);
	int n = tn->ncpus, *store = np__calloc((size_t)(2 * n + 1), sizeof(int));
	const int **sibs = np__calloc((size_t)(n + 1), sizeof(*sibs));
	unsigned char *done = np__calloc((size_t)(n + 1), 1);
	int ns = 0, ng = 0, rc = NP_ENOMEM;

	if (!store || !sibs || !done)
		goto out;
	for (int i = 0; i < n; i++) {
		const struct np_cpu *ci =
		    np_topo_cpu(h->topo, np_topo_cpu_index(h->topo, tn->cpus[i]));

		if (done[i] || (!has_cpu(hn->shared, hn->pub.nshared, tn->cpus[i]) &&
				!has_cpu(hn->dedicated, hn->pub.ndedicated, tn->cpus[i])))
			continue;
		sibs[ng++] = &store[ns];
		for (int j = i; j < n; j++) {
			const struct np_cpu *cj =
			    np_topo_cpu(h->topo, np_topo_cpu_index(h->topo, tn->cpus[j]));

			if (done[j] || (j != i && !same_core(ci, cj)))
				continue;
			if (!has_cpu(hn->shared, hn->pub.nshared, tn->cpus[j]) &&
			    !has_cpu(hn->dedicated, hn->pub.ndedicated, tn->cpus[j]))
				continue;
			done[j] = 1;
			store[ns++] = tn->cpus[j];
		}
		store[ns++] = -1;
	}
	drop(h, hn->sib_store);
	drop(h, hn->sibs);
	hn->sib_store = store;
	hn->sibs = sibs;
	hn->pub.nsiblings = ng;
	store = NULL;
	sibs = NULL;
	node_sync(hn);
	rc = 0;
out:
	free(store);
	free(sibs);
	free(done);
	return rc;
}

/* The socket of a node: the one all its CPUs share, else -1. */
static int node_socket(const np_topo *t, const struct np_node *tn)
{
	int s = -1;

	for (int i = 0; i < tn->ncpus; i++) {
		const struct np_cpu *c = np_topo_cpu(t, np_topo_cpu_index(t, tn->cpus[i]));

		if (i == 0)
			s = c->socket;
		else if (c->socket != s)
			return -1;
	}
	return s < 0 ? -1 : s;
}

/* Default pools: small pages for what is not in huge page pools, then those. */
static int default_pools(struct host_node *hn, const struct np_node *tn)
{
	uint64_t huge_kb = 0;

	hn->pools = np__calloc((size_t)tn->npools + 1, sizeof(*hn->pools));
	if (!hn->pools)
		return NP_ENOMEM;
	for (int i = 0; i < tn->npools; i++)
		huge_kb += tn->pools[i].size_kb * tn->pools[i].total;
	hn->pools[0] = (struct np_page_pool){4, 0, 0, 0};
	if (tn->mem_total_kb > huge_kb)
		hn->pools[0].total = (tn->mem_total_kb - huge_kb) / 4;
	hn->pub.npools = 1;
	for (int i = 0; i < tn->npools; i++) {
		const struct np_hugepages *p = &tn->pools[i];
		uint64_t free_pages = p->free < p->total ? p->free : p->total;

		if (p->size_kb == 4)
			continue; /* never two pools of one size */
		hn->pools[hn->pub.npools++] =
		    (struct np_page_pool){p->size_kb, p->total, 0, p->total - free_pages};
	}
	return 0;
}

/* Every online CPU of the node is both shared and dedicated. */
static int default_cpus(np_host *h, struct host_node *hn, const struct np_node *tn)
{
	int n = 0;

	hn->shared = np__calloc((size_t)tn->ncpus + 1, sizeof(int));
	hn->dedicated = np__calloc((size_t)tn->ncpus + 1, sizeof(int));
	hn->pinned = np__calloc((size_t)tn->ncpus + 1, sizeof(int));
	if (!hn->shared || !hn->dedicated || !hn->pinned)
		return NP_ENOMEM;
	hn->pincap = tn->ncpus; /* pinned CPUs are the node's: never more */
	for (int i = 0; i < tn->ncpus; i++)
		if (np_topo_cpu(h->topo, np_topo_cpu_index(h->topo, tn->cpus[i]))->online)
			hn->shared[n++] = tn->cpus[i];
	memcpy(hn->dedicated, hn->shared, (size_t)n * sizeof(int));
	hn->pub.nshared = hn->pub.ndedicated = n;
	return 0;
}

static int default_pci(np_host *h)
{
	int nd = np_topo_device_count(h->topo);

	h->pci = np__calloc((size_t)nd + 1, sizeof(*h->pci));
	if (!h->pci)
		return NP_ENOMEM;
	for (int d = 0; d < nd; d++) {
		const struct np_device *dev = np_topo_device(h->topo, d);
		int i;

		for (i = 0; i < h->npci; i++)
			if (h->pci[i].node_idx == dev->node_idx &&
			    h->pci[i].vendor == dev->vendor && h->pci[i].product == dev->device)
				break;
		if (i == h->npci)
			h->pci[h->npci++] =
			    (struct np_pci_pool){dev->node_idx, dev->vendor, dev->device, 0, 0};
		h->pci[i].count++;
	}
	return 0;
}

static int init_node(np_host *h, int idx)
{
	struct host_node *hn = &h->nodes[idx];
	const struct np_node *tn = np_topo_node(h->topo, idx);
	int rc;

	hn->pub.os_id = tn->os_id;
	hn->pub.socket = node_socket(h->topo, tn);
	hn->pub.memory_mb = tn->mem_total_kb / 1024;
	hn->pub.memory_free_mb = tn->mem_free_kb / 1024;
	if ((rc = default_cpus(h, hn, tn)) || (rc = default_pools(hn, tn)))
		return rc;
	node_sync(hn);
	return build_siblings(h, idx);
}

/* Swapping nodes A and B leaves every distance as it was. */
static bool swappable(const np_topo *t, int a, int b)
{
	int n = np_topo_node_count(t);

	if (np_topo_distance(t, a, a) != np_topo_distance(t, b, b) ||
	    np_topo_distance(t, a, b) != np_topo_distance(t, b, a))
		return false;
	for (int x = 0; x < n; x++)
		if (x != a && x != b &&
		    (np_topo_distance(t, a, x) != np_topo_distance(t, b, x) ||
		     np_topo_distance(t, x, a) != np_topo_distance(t, x, b)))
			return false;
	return true;
}

/*
 * Distance twins: nodes whose transposition is an automorphism of the
 * distance matrix.  That relation is an equivalence (two transpositions
 * compose to the third), so comparing with one member per class is
 * enough; twin[j] is the previous member of j's class.
 */
static int build_twins(np_host *h)
{
	int *last = np__calloc((size_t)h->nnodes + 1, sizeof(int)), nc = 0;
	int *rep = np__calloc((size_t)h->nnodes + 1, sizeof(int));

	h->twin = np__calloc((size_t)h->nnodes + 1, sizeof(int));
	if (!last || !rep || !h->twin) {
		free(last);
		free(rep);
		return NP_ENOMEM;
	}
	for (int j = 0; j < h->nnodes; j++) {
		int c;

		for (c = 0; c < nc && !swappable(h->topo, rep[c], j); c++)
			;
		h->twin[j] = c < nc ? last[c] : -1;
		if (c == nc)
			rep[nc++] = j;
		last[c] = j;
	}
	free(last);
	free(rep);
	return 0;
}

const int *np__host_twins(const np_host *h)
{
	return h->twin;
}

/* Insert V into the sorted distinct list T of *N values. */
static void insert_distinct(uint32_t *t, int *n, uint32_t v)
{
	int lo = 0, hi = *n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (t[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < *n && t[lo] == v)
		return;
	memmove(t + lo + 1, t + lo, (size_t)(*n - lo) * sizeof(*t));
	t[lo] = v;
	(*n)++;
}

struct by_dd {
	int64_t dd;
	uint16_t b;
};

static int cmp_by_dd(const void *x, const void *y)
{
	const struct by_dd *a = x, *b = y;

	if (a->dd != b->dd)
		return a->dd < b->dd ? -1 : 1;
	return (a->b > b->b) - (a->b < b->b);
}

/*
 * Row A of d->order: the other nodes by dd ascending, ids breaking ties.
 * Round trips of ACPI distances (at most 255 each) are sorted by counting
 * in COUNT (ORDER_DD_MAX + 2 entries); others by qsort in BUF.
 */
#define ORDER_DD_MAX 1023

static void order_row(struct np__dist *d, size_t n, size_t a, int *count, struct by_dd *buf)
{
	const int64_t *dd = &d->dd[a * n];
	uint16_t *out = &d->order[a * (n - 1)];
	bool small = true;

	for (size_t b = 0; b < n; b++)
		small &= dd[b] >= 0 && dd[b] <= ORDER_DD_MAX;
	if (!small) {
		size_t m = 0;

		for (size_t b = 0; b < n; b++)
			if (b != a)
				buf[m++] = (struct by_dd){dd[b], (uint16_t)b};
		qsort(buf, m, sizeof(*buf), cmp_by_dd);
		for (size_t x = 0; x < m; x++)
			out[x] = buf[x].b;
		return;
	}
	memset(count, 0, (ORDER_DD_MAX + 2) * sizeof(*count));
	for (size_t b = 0; b < n; b++)
		if (b != a)
			count[dd[b] + 1]++;
	for (int v = 1; v <= ORDER_DD_MAX + 1; v++)
		count[v] += count[v - 1];
	for (size_t b = 0; b < n; b++)
		if (b != a)
			out[count[dd[b]]++] = (uint16_t)b;
}

static int build_order(struct np__dist *d, size_t n)
{
	int *count = np__calloc(ORDER_DD_MAX + 2, sizeof(*count));
	struct by_dd *buf = np__calloc(n + 1, sizeof(*buf));

	d->order = np__calloc(n * (n ? n - 1 : 0) + 1, sizeof(*d->order));
	if (!count || !buf || !d->order) {
		free(count);
		free(buf);
		return NP_ENOMEM;
	}
	for (size_t a = 0; a < n; a++)
		order_row(d, n, a, count, buf);
	free(count);
	free(buf);
	return 0;
}

/* The engine's view of the distances, computed once per host. */
static int build_dist(np_host *h)
{
	struct np__dist *d = &h->dist;
	size_t n = (size_t)h->nnodes;

	d->sym = np__calloc(n * n + 1, sizeof(*d->sym));
	d->dd = np__calloc(n * n + 1, sizeof(*d->dd));
	d->thresholds = np__calloc(n * n + 1, sizeof(*d->thresholds));
	if (!d->sym || !d->dd || !d->thresholds)
		return NP_ENOMEM;
	d->uniform = true;
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b < n; b++) {
			uint32_t x = np_topo_distance(h->topo, (int)a, (int)b);
			uint32_t y = np_topo_distance(h->topo, (int)b, (int)a);

			d->sym[a * n + b] = x > y ? x : y;
			d->dd[a * n + b] = (int64_t)x + y;
			d->uniform &= x == np_topo_distance(h->topo, 0, a == b ? 0 : n > 1 ? 1 : 0);
			if (a * n + b == 0 || d->sym[a * n + b] != d->sym[a * n + b - 1])
				insert_distinct(d->thresholds, &d->nthresholds, d->sym[a * n + b]);
		}
	return build_order(d, n);
}

const struct np__dist *np__host_dist(const np_host *h)
{
	return &h->dist;
}

static void free_dist(const np_host *h, struct np__dist *d)
{
	drop(h, d->sym);
	drop(h, d->dd);
	drop(h, d->thresholds);
	drop(h, d->order);
}

int np_host_new(const np_topo *topo, np_host **out, struct np_error *err)
{
	np_host *h = calloc(1, sizeof(*h));
	int rc = NP_ENOMEM;

	if (!h)
		goto out;
	h->topo = topo;
	h->nnodes = np_topo_node_count(topo);
	h->limits = true;
	h->cpu_ratio = 16.0;
	h->ram_ratio = 1.0;
	h->basis = np_memory_basis_default(topo);
	h->nodes = np__calloc((size_t)h->nnodes + 1, sizeof(*h->nodes));
	if (!h->nodes)
		goto out;
	for (int i = 0; i < h->nnodes; i++)
		if ((rc = init_node(h, i)))
			goto out;
	if ((rc = default_pci(h)) || (rc = build_twins(h)) || (rc = build_dist(h)))
		goto out;
	*out = h;
	return checked(h);
out:
	np_host_free(h);
	return np__err(err, rc, "out of memory");
}

void np_host_free(np_host *h)
{
	if (!h)
		return;
	for (int i = 0; h->nodes && i < h->nnodes; i++)
		node_clear(h, &h->nodes[i]);
	drop(h, h->nodes);
	drop(h, h->pci);
	drop(h, h->twin);
	free_dist(h, &h->dist);
	free(h->arena);
	free(h);
}

/*
 * The clone's arena is carved twice by the same code: once with no BASE
 * to add up its size, then for real.  Every piece is aligned for any type.
 */
struct arena {
	char *base;
	size_t used;
};

static void *carve(struct arena *a, const void *src, size_t n, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	void *p = a->base ? a->base + a->used : NULL;
	size_t len = (n + 1) * size; /* + 1: never empty, as np__calloc(n + 1) */

	if (p && src && n)
		memcpy(p, src, n * size);
	a->used += (len + align - 1) / align * align;
	return p;
}

/* How many ints node S's sibling groups hold, their -1 ends included. */
static int sib_ints(const struct host_node *s)
{
	int n = 0;

	for (int g = 0; g < s->pub.nsiblings; g++)
		for (const int *p = s->sibs[g];; p++, n++)
			if (*p < 0) {
				n++;
				break;
			}
	return n;
}

/*
 * Node S's arrays copied into A.  PINNED gets room for every dedicated
 * CPU, so the pins a fleet refresh adds to a clone go in place.
 */
static void clone_node(struct arena *a, struct host_node *d, const struct host_node *s)
{
	int nstore = sib_ints(s), room = s->pub.ndedicated > s->pub.npinned ? s->pub.ndedicated
									     : s->pub.npinned;

	d->shared = carve(a, s->shared, (size_t)s->pub.nshared, sizeof(int));
	d->dedicated = carve(a, s->dedicated, (size_t)s->pub.ndedicated, sizeof(int));
	d->pinned = carve(a, NULL, (size_t)room, sizeof(int));
	d->sib_store = carve(a, s->sib_store, (size_t)nstore, sizeof(int));
	d->sibs = carve(a, NULL, (size_t)s->pub.nsiblings, sizeof(*d->sibs));
	d->pools = carve(a, s->pools, (size_t)s->pub.npools, sizeof(*d->pools));
	if (!a->base)
		return;
	d->pub = s->pub;
	if (s->pub.npinned)
		memcpy(d->pinned, s->pinned, (size_t)s->pub.npinned * sizeof(int));
	d->pincap = room;
	for (int g = 0; g < s->pub.nsiblings; g++)
		d->sibs[g] = d->sib_store + (s->sibs[g] - s->sib_store);
	node_sync(d);
}

/* Everything of S but the struct itself, into A (see struct arena). */
static void clone_into(struct arena *a, np_host *h, const np_host *s)
{
	size_t n = (size_t)s->nnodes;

	h->nodes = carve(a, NULL, n, sizeof(*h->nodes));
	h->pci = carve(a, s->pci, (size_t)s->npci, sizeof(*h->pci));
	h->twin = carve(a, s->twin, n, sizeof(int));
	h->dist.sym = carve(a, s->dist.sym, n * n, sizeof(*h->dist.sym));
	h->dist.dd = carve(a, s->dist.dd, n * n, sizeof(*h->dist.dd));
	h->dist.thresholds = carve(a, s->dist.thresholds, (size_t)s->dist.nthresholds,
				   sizeof(*h->dist.thresholds));
	h->dist.order = carve(a, s->dist.order, n * (n ? n - 1 : 0), sizeof(*h->dist.order));
	for (size_t i = 0; i < n; i++) {
		struct host_node sizing;

		clone_node(a, a->base ? &h->nodes[i] : &sizing, &s->nodes[i]);
	}
}

/* Is P inside S's arena (or NULL, which moves nowhere)? */
static bool in_arena(const np_host *s, const void *p)
{
	uintptr_t a = (uintptr_t)s->arena, q = (uintptr_t)p;

	return !p || (s->arena && q >= a && q < a + s->arena_size);
}

/* Does every array of S live in its arena (no setter replaced one since it was cloned)? */
static bool all_in_arena(const np_host *s)
{
	bool in = s->arena && in_arena(s, s->nodes) && in_arena(s, s->pci) &&
		  in_arena(s, s->twin) && in_arena(s, s->dist.sym) && in_arena(s, s->dist.dd) &&
		  in_arena(s, s->dist.thresholds) && in_arena(s, s->dist.order);

	for (int i = 0; in && i < s->nnodes; i++) {
		const struct host_node *n = &s->nodes[i];

		in = in_arena(s, n->shared) && in_arena(s, n->dedicated) &&
		     in_arena(s, n->pinned) && in_arena(s, n->sib_store) &&
		     in_arena(s, n->sibs) && in_arena(s, n->pools);
	}
	return in;
}

/* P, a pointer into S's arena, moved to the same place in H's. */
static void *moved(const np_host *s, const np_host *h, const void *p)
{
	return p ? h->arena + ((const char *)p - s->arena) : NULL;
}

/*
 * A clone of S whose arrays all live in its arena: the arena copied in
 * one piece and its pointers moved (a fleet refresh clones an empty host
 * for every change, and carving it array by array from a zeroed arena
 * cost twice as much).  Keeps S's layout, so the result is what
 * clone_into() would make, pin room aside (never less).
 */
static void clone_flat(np_host *h, const np_host *s)
{
	memcpy(h->arena, s->arena, s->arena_size);
	h->nodes = moved(s, h, s->nodes);
	h->pci = moved(s, h, s->pci);
	h->twin = moved(s, h, s->twin);
	h->dist.sym = moved(s, h, s->dist.sym);
	h->dist.dd = moved(s, h, s->dist.dd);
	h->dist.thresholds = moved(s, h, s->dist.thresholds);
	h->dist.order = moved(s, h, s->dist.order);
	for (int i = 0; i < h->nnodes; i++) {
		struct host_node *d = &h->nodes[i];

		d->shared = moved(s, h, d->shared);
		d->dedicated = moved(s, h, d->dedicated);
		d->pinned = moved(s, h, d->pinned);
		d->sib_store = moved(s, h, d->sib_store);
		d->sibs = moved(s, h, d->sibs);
		d->pools = moved(s, h, d->pools);
		for (int g = 0; g < d->pub.nsiblings; g++)
			d->sibs[g] = moved(s, h, d->sibs[g]);
		node_sync(d);
	}
}

/*
 * Two allocations whatever the host's size (a fleet refresh clones a
 * template for every host another process changed): the struct, and one
 * arena for every array.
 */
int np_host_clone(const np_host *s, np_host **out, struct np_error *err)
{
	np_host *h = malloc(sizeof(*h));
	struct arena a = { NULL, 0 };

	if (!h)
		return np__err(err, NP_ENOMEM, "out of memory");
	*h = *s;
	if (all_in_arena(s)) {
		if (!(h->arena = malloc(s->arena_size))) {
			free(h);
			return np__err(err, NP_ENOMEM, "out of memory");
		}
		clone_flat(h, s);
		*out = h;
		return checked(h);
	}
	clone_into(&a, h, s); /* sizes only */
	if (!(a.base = calloc(1, a.used))) {
		free(h);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	h->arena = a.base;
	h->arena_size = a.used;
	a.used = 0;
	clone_into(&a, h, s);
	*out = h;
	return checked(h);
}

const np_topo *np_host_topo(const np_host *h)
{
	return h->topo;
}
int np_host_pci_pool_count(const np_host *h)
{
	return h->npci;
}

const struct np_host_node *np_host_node(const np_host *h, int idx)
{
	return idx >= 0 && idx < h->nnodes ? &h->nodes[idx].pub : NULL;
}

const struct np_pci_pool *np_host_pci_pool(const np_host *h, int i)
{
	return i >= 0 && i < h->npci ? &h->pci[i] : NULL;
}

void np_host_set_limits(np_host *h, bool limits, double cpu_ratio, double ram_ratio)
{
	h->limits = limits;
	if (isfinite(cpu_ratio) && cpu_ratio >= 0)
		h->cpu_ratio = cpu_ratio;
	if (isfinite(ram_ratio) && ram_ratio >= 0)
		h->ram_ratio = ram_ratio;
	checked(h);
}

bool np_host_limits(const np_host *h, double *cpu_ratio, double *ram_ratio)
{
	if (cpu_ratio)
		*cpu_ratio = h->cpu_ratio;
	if (ram_ratio)
		*ram_ratio = h->ram_ratio;
	return h->limits;
}

const char *const np__memory_basis_names[] = { "total", "free" };

const char *np_memory_basis_name(enum np_memory_basis b)
{
	return (unsigned)b < NP__ARRAY_SIZE(np__memory_basis_names) ? np__memory_basis_names[b]
								     : "unknown";
}

int np_memory_basis_from_name(const char *name, enum np_memory_basis *out)
{
	for (size_t i = 0; name && i < NP__ARRAY_SIZE(np__memory_basis_names); i++)
		if (strcmp(np__memory_basis_names[i], name) == 0) {
			*out = (enum np_memory_basis)i;
			return 0;
		}
	return NP_EINPUT;
}

enum np_memory_basis np_memory_basis_default(const np_topo *topo)
{
	return np_topo_source_kind(topo) == NP_SOURCE_XL_INFO && np_topo_mem_free_known(topo)
		       ? NP_MEMORY_BASIS_FREE
		       : NP_MEMORY_BASIS_TOTAL;
}

int np_host_set_memory_basis(np_host *h, enum np_memory_basis basis, struct np_error *err)
{
	if ((unsigned)basis > NP_MEMORY_BASIS_FREE)
		return np__err(err, NP_EINPUT, "unknown memory basis %d", (int)basis);
	if (basis == NP_MEMORY_BASIS_FREE && !np_topo_mem_free_known(h->topo))
		return np__err(err, NP_EINPUT,
			       "memory basis free: the host's topology (%s) does not report "
			       "free memory",
			       np_source_kind_name(np_topo_source_kind(h->topo)));
	h->basis = basis;
	return 0;
}

enum np_memory_basis np_host_memory_basis(const np_host *h)
{
	return h->basis;
}

uint64_t np__host_free_cap(const np_host *h, int idx)
{
	return h->basis == NP_MEMORY_BASIS_FREE ? h->nodes[idx].pub.memory_free_mb : UINT64_MAX;
}

void np__host_take_free(np_host *h, int idx, uint64_t mb)
{
	struct np_host_node *n = &h->nodes[idx].pub;

	n->memory_free_mb = n->memory_free_mb > mb ? n->memory_free_mb - mb : 0;
}

void np__host_give_free(np_host *h, int idx, uint64_t mb)
{
	struct np_host_node *n = &h->nodes[idx].pub;
	uint64_t room = n->memory_mb > n->memory_free_mb ? n->memory_mb - n->memory_free_mb : 0;

	n->memory_free_mb += mb < room ? mb : room;
}

/* Nodes A and B: the same usage (memory, vCPUs, pins in order, pools' used)? */
static bool same_node_usage(const struct host_node *a, const struct host_node *b)
{
	if (a->pub.cpu_usage != b->pub.cpu_usage || a->pub.memory_used_mb != b->pub.memory_used_mb ||
	    a->pub.memory_free_mb != b->pub.memory_free_mb || a->pub.npinned != b->pub.npinned ||
	    a->pub.npools != b->pub.npools)
		return false;
	for (int i = 0; i < a->pub.npools; i++)
		if (a->pools[i].size_kb != b->pools[i].size_kb || a->pools[i].used != b->pools[i].used)
			return false;
	return !a->pub.npinned ||
	       !memcmp(a->pinned, b->pinned, (size_t)a->pub.npinned * sizeof(int));
}

bool np__host_same_usage(const np_host *a, const np_host *b)
{
	if (a->nnodes != b->nnodes || a->npci != b->npci)
		return false;
	for (int i = 0; i < a->nnodes; i++)
		if (!same_node_usage(&a->nodes[i], &b->nodes[i]))
			return false;
	for (int i = 0; i < a->npci; i++)
		if (a->pci[i].used != b->pci[i].used)
			return false;
	return true;
}

static int bad_node(const np_host *h, int idx, struct np_error *err)
{
	return np__err(err, NP_EINPUT, "node index %d out of range (the host has %d nodes)", idx,
		       h->nnodes);
}

int np__host_node_reset(np_host *h, int idx, const np_host *empty, struct np_error *err)
{
	struct host_node *hn;
	const struct host_node *e;

	if (idx < 0 || idx >= h->nnodes || empty->nnodes != h->nnodes)
		return bad_node(h, idx, err);
	hn = &h->nodes[idx];
	e = &empty->nodes[idx];
	/* The same pools in the same order, and room for EMPTY's pins in place. */
	if (e->pub.npools != hn->pub.npools || e->pub.npinned > hn->pincap)
		return np__err(err, NP_EINPUT, "node %d: not the empty host's shape", hn->pub.os_id);
	for (int i = 0; i < hn->pub.npools; i++)
		if (e->pools[i].size_kb != hn->pools[i].size_kb)
			return np__err(err, NP_EINPUT, "node %d: not the empty host's pools",
				       hn->pub.os_id);
	for (int i = 0; i < hn->pub.npools; i++)
		hn->pools[i].used = e->pools[i].used;
	hn->pub.cpu_usage = e->pub.cpu_usage;
	hn->pub.memory_used_mb = e->pub.memory_used_mb;
	hn->pub.memory_free_mb = e->pub.memory_free_mb;
	if (e->pub.npinned)
		memcpy(hn->pinned, e->pinned, (size_t)e->pub.npinned * sizeof(int));
	hn->pub.npinned = e->pub.npinned;
	return checked(h);
}

/* A sorted copy of IDS, every one a CPU of topology node IDX, no duplicates. */
static int node_cpu_list(const np_host *h, int idx, const int *ids, int n, const char *what,
			 int **out, struct np_error *err)
{
	const struct np_node *tn = np_topo_node(h->topo, idx);
	int *s = dup_ints(ids, n);

	if (!s)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (n > 0)
		qsort(s, (size_t)n, sizeof(int), cmp_int);
	for (int i = 0; i < n; i++) {
		int cpu = s[i];
		const char *bad = !has_cpu(tn->cpus, tn->ncpus, cpu) ? "is not a CPU of the node"
				  : i > 0 && cpu == s[i - 1]	     ? "is listed twice"
								     : NULL;

		if (bad) {
			free(s);
			return np__err(err, NP_EINPUT, "node %d: %s CPU %d %s", tn->os_id, what,
				       cpu, bad);
		}
	}
	*out = s;
	return 0;
}

int np_host_set_cpus(np_host *h, int idx, const int *shared, int nshared, const int *dedicated,
		     int ndedicated, struct np_error *err)
{
	struct host_node *hn, old;
	int *s = NULL, *d = NULL, rc;

	if (idx < 0 || idx >= h->nnodes)
		return bad_node(h, idx, err);
	if (nshared < 0 || ndedicated < 0)
		return np__err(err, NP_EINPUT, "negative CPU count");
	hn = &h->nodes[idx];
	if ((rc = node_cpu_list(h, idx, shared, nshared, "shared", &s, err)) ||
	    (rc = node_cpu_list(h, idx, dedicated, ndedicated, "dedicated", &d, err)))
		goto out;
	for (int i = 0; i < hn->pub.npinned; i++)
		if (!has_cpu(d, ndedicated, hn->pinned[i])) {
			rc =
			    np__err(err, NP_EINPUT, "node %d: pinned CPU %d would not be dedicated",
				    hn->pub.os_id, hn->pinned[i]);
			goto out;
		}
	old = *hn;
	hn->shared = s;
	hn->dedicated = d;
	hn->pub.nshared = nshared;
	hn->pub.ndedicated = ndedicated;
	if ((rc = build_siblings(h, idx))) {
		*hn = old; /* nothing changed */
		rc = np__err(err, rc, "out of memory");
		goto out;
	}
	s = old.shared;
	d = old.dedicated;
	node_sync(hn);
	rc = checked(h);
out:
	drop(h, s);
	drop(h, d);
	return rc;
}

static int cmp_pool(const void *a, const void *b)
{
	const struct np_page_pool *x = a, *y = b;

	return (x->size_kb > y->size_kb) - (x->size_kb < y->size_kb);
}

int np_host_set_pools(np_host *h, int idx, const struct np_page_pool *pools, int npools,
		      struct np_error *err)
{
	struct np_page_pool *p;
	struct host_node *hn;

	if (idx < 0 || idx >= h->nnodes)
		return bad_node(h, idx, err);
	if (npools < 0)
		return np__err(err, NP_EINPUT, "negative pool count");
	hn = &h->nodes[idx];
	p = np__calloc((size_t)npools + 1, sizeof(*p));
	if (!p)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (npools)
		memcpy(p, pools, (size_t)npools * sizeof(*p));
	qsort(p, (size_t)npools, sizeof(*p), cmp_pool);
	for (int i = 0; i < npools; i++) {
		uint64_t kb = p[i].size_kb;
		const char *bad =
		    kb == 0				? "a page size of 0 KiB"
		    : (i > 0 && kb == p[i - 1].size_kb) ? "a page size twice"
		    : p[i].reserved > p[i].total || p[i].used > p[i].total - p[i].reserved
			? "more pages used or reserved than it has"
			: NULL;

		if (bad) {
			free(p);
			return np__err(err, NP_EINPUT, "node %d: page pool %llu KiB: %s",
				       hn->pub.os_id, (unsigned long long)kb, bad);
		}
	}
	drop(h, hn->pools);
	hn->pools = p;
	hn->pub.npools = npools;
	node_sync(hn);
	return checked(h);
}

int np_host_set_pci_pools(np_host *h, const struct np_pci_pool *pools, int npools,
			  struct np_error *err)
{
	struct np_pci_pool *p;

	if (npools < 0)
		return np__err(err, NP_EINPUT, "negative PCI pool count");
	for (int i = 0; i < npools; i++) {
		const struct np_pci_pool *q = &pools[i];

		if (q->node_idx < -1 || q->node_idx >= h->nnodes)
			return np__err(err, NP_EINPUT, "PCI pool %d: node index %d out of range", i,
				       q->node_idx);
		if (q->count < 0 || q->used < 0 || q->used > q->count)
			return np__err(err, NP_EINPUT, "PCI pool %d: %d used of %d devices", i,
				       q->used, q->count);
	}
	p = np__calloc((size_t)npools + 1, sizeof(*p));
	if (!p)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (npools)
		memcpy(p, pools, (size_t)npools * sizeof(*p));
	drop(h, h->pci);
	h->pci = p;
	h->npci = npools;
	return checked(h);
}

/*
 * Add CPUS (not yet pinned, all dedicated) to node IDX's pinned set:
 * checked first, then added in place when PINNED has room (it always has
 * on hosts made here: pinned CPUs are dedicated ones), else in a new array.
 */
static int pin_cpus(np_host *h, int idx, const int *cpus, int n, struct np_error *err)
{
	struct host_node *hn = &h->nodes[idx];
	int m = hn->pub.npinned, *all = hn->pinned;

	for (int i = 0; i < n; i++) {
		const char *why = !has_cpu(hn->dedicated, hn->pub.ndedicated, cpus[i])
				      ? "is not a dedicated CPU of the node"
				  : has_cpu(hn->pinned, hn->pub.npinned, cpus[i])
				      ? "is already pinned"
				      : NULL;

		for (int j = 0; j < i && !why; j++)
			if (cpus[j] == cpus[i])
				why = "is listed twice";
		if (why)
			return np__err(err, NP_EINPUT, "node %d: CPU %d %s", hn->pub.os_id, cpus[i],
				       why);
	}
	if (m + n > hn->pincap) {
		if (!(all = np__calloc((size_t)(m + n) + 1, sizeof(int))))
			return np__err(err, NP_ENOMEM, "out of memory");
		if (m)
			memcpy(all, hn->pinned, (size_t)m * sizeof(int));
		drop(h, hn->pinned);
		hn->pinned = all;
		hn->pincap = m + n;
	}
	memcpy(all + m, cpus, (size_t)n * sizeof(int));
	m += n;
	/* (a refresh pins a node's CPUs in order: then no sort) */
	if (!np__sorted(all, m, sizeof(int), cmp_int))
		qsort(all, (size_t)m, sizeof(int), cmp_int);
	hn->pub.npinned = m;
	node_sync(hn);
	return 0;
}

/* Remove whichever of CPUS are pinned on node IDX (releasing never fails). */
static void unpin_cpus(np_host *h, int idx, const int *cpus, int n)
{
	struct host_node *hn = &h->nodes[idx];
	int m = 0;

	for (int i = 0; i < hn->pub.npinned; i++) {
		bool drop = false;

		for (int j = 0; j < n && !drop; j++)
			drop = cpus[j] == hn->pinned[i];
		if (!drop)
			hn->pinned[m++] = hn->pinned[i];
	}
	hn->pub.npinned = m;
}

int np_host_add_usage(np_host *h, int idx, unsigned cpu_usage, uint64_t memory_mb,
		      const int *pinned, int npinned, struct np_error *err)
{
	struct host_node *hn;
	int rc;

	if (idx < 0 || idx >= h->nnodes)
		return bad_node(h, idx, err);
	hn = &h->nodes[idx];
	if (cpu_usage > UINT32_MAX - hn->pub.cpu_usage ||
	    memory_mb > UINT64_MAX / 2 - hn->pub.memory_used_mb)
		return np__err(err, NP_EINPUT, "node %d: usage too large", hn->pub.os_id);
	if (npinned < 0)
		return np__err(err, NP_EINPUT, "negative pinned CPU count");
	if (npinned && (rc = pin_cpus(h, idx, pinned, npinned, err)))
		return rc;
	hn->pub.cpu_usage += cpu_usage;
	hn->pub.memory_used_mb += memory_mb;
	return checked(h);
}

static struct np_page_pool *find_pool(struct host_node *hn, uint64_t size_kb)
{
	for (int i = 0; i < hn->pub.npools; i++)
		if (hn->pools[i].size_kb == size_kb)
			return &hn->pools[i];
	return NULL;
}

int np_host_add_pages_used(np_host *h, int idx, uint64_t size_kb, uint64_t pages,
			   struct np_error *err)
{
	struct np_page_pool *p;

	if (idx < 0 || idx >= h->nnodes)
		return bad_node(h, idx, err);
	p = find_pool(&h->nodes[idx], size_kb);
	if (!p)
		return np__err(err, NP_EINPUT, "node %d has no %llu KiB page pool",
			       h->nodes[idx].pub.os_id, (unsigned long long)size_kb);
	if (pages > p->total - p->reserved - p->used)
		return np__err(err, NP_EINPUT, "node %d: %llu pages of %llu KiB asked, %llu free",
			       h->nodes[idx].pub.os_id, (unsigned long long)pages,
			       (unsigned long long)size_kb,
			       (unsigned long long)(p->total - p->reserved - p->used));
	p->used += pages;
	return checked(h);
}

static int check_sorted(const struct host_node *hn, const int *a, int n, const char *what,
			struct np_error *err)
{
	for (int i = 1; i < n; i++)
		if (a[i] <= a[i - 1])
			return np__err(err, NP_EINPUT, "node %d: %s CPUs not sorted or duplicated",
				       hn->pub.os_id, what);
	return 0;
}

static int check_node(const np_host *h, int idx, struct np_error *err)
{
	const struct host_node *hn = &h->nodes[idx];
	const struct np_node *tn = np_topo_node(h->topo, idx);
	int rc;

	if ((rc = check_sorted(hn, hn->shared, hn->pub.nshared, "shared", err)) ||
	    (rc = check_sorted(hn, hn->dedicated, hn->pub.ndedicated, "dedicated", err)) ||
	    (rc = check_sorted(hn, hn->pinned, hn->pub.npinned, "pinned", err)))
		return rc;
	for (int i = 0; i < hn->pub.nshared; i++)
		if (!has_cpu(tn->cpus, tn->ncpus, hn->shared[i]))
			return np__err(err, NP_EINPUT, "node %d: shared CPU %d is not on the node",
				       hn->pub.os_id, hn->shared[i]);
	for (int i = 0; i < hn->pub.ndedicated; i++)
		if (!has_cpu(tn->cpus, tn->ncpus, hn->dedicated[i]))
			return np__err(err, NP_EINPUT,
				       "node %d: dedicated CPU %d is not on the node",
				       hn->pub.os_id, hn->dedicated[i]);
	for (int i = 0; i < hn->pub.npinned; i++)
		if (!has_cpu(hn->dedicated, hn->pub.ndedicated, hn->pinned[i]))
			return np__err(err, NP_EINPUT, "node %d: pinned CPU %d is not dedicated",
				       hn->pub.os_id, hn->pinned[i]);
	for (int i = 0; i < hn->pub.npools; i++) {
		const struct np_page_pool *p = &hn->pools[i];

		if ((i > 0 && p->size_kb <= hn->pools[i - 1].size_kb) || p->reserved > p->total ||
		    p->used > p->total - p->reserved)
			return np__err(err, NP_EINPUT,
				       "node %d: page pool %llu KiB is inconsistent", hn->pub.os_id,
				       (unsigned long long)p->size_kb);
	}
	return 0;
}

int np_host_check(const np_host *h, struct np_error *err)
{
	int rc;

	for (int i = 0; i < h->nnodes; i++)
		if ((rc = check_node(h, i, err)))
			return rc;
	for (int i = 0; i < h->npci; i++) {
		const struct np_pci_pool *p = &h->pci[i];

		if (p->used < 0 || p->used > p->count || p->node_idx < -1 ||
		    p->node_idx >= h->nnodes)
			return np__err(err, NP_EINPUT,
				       "PCI pool %d: %d used of %d on node index %d", i, p->used,
				       p->count, p->node_idx);
	}
	return 0;
}

/* ---- charging plans ------------------------------------------------------ */

static uint64_t sub_clamp(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* Pages of one plan cell on its pool; NULL pool when the node reports none. */
static int cell_pages(np_host *h, const struct np_plan_cell *c, bool release, struct np_error *err)
{
	struct host_node *hn = &h->nodes[c->node_idx];
	struct np_page_pool *p = find_pool(hn, c->pagesize_kb);
	uint64_t pages;

	if (!hn->pub.npools)
		return 0; /* a host without page information: nothing to count */
	if (!p)
		return np__err(err, NP_EINPUT, "node %d has no %llu KiB page pool", hn->pub.os_id,
			       (unsigned long long)c->pagesize_kb);
	pages = c->memory_mb * 1024 / p->size_kb;
	if (release) {
		p->used = sub_clamp(p->used, pages);
		return 0;
	}
	/* Small pages back floating memory that may be over-committed (Nova). */
	if (p == &hn->pools[0] && pages > p->total - p->reserved - p->used) {
		p->used = p->total - p->reserved;
		return 0;
	}
	return np_host_add_pages_used(h, c->node_idx, p->size_kb, pages, err);
}

static int cell_cpus(np_host *h, const struct np_plan_cell *c, bool release, struct np_error *err)
{
	int n = c->npins + c->nreserved + c->nblocked, k = 0, rc = 0;
	int *cpus = np__calloc((size_t)n + 1, sizeof(int));

	if (!cpus)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < c->npins; i++)
		cpus[k++] = c->pins[i].pcpu;
	for (int i = 0; i < c->nreserved; i++)
		cpus[k++] = c->reserved[i];
	for (int i = 0; i < c->nblocked; i++)
		cpus[k++] = c->blocked[i];
	if (release)
		unpin_cpus(h, c->node_idx, cpus, n);
	else if (n)
		rc = pin_cpus(h, c->node_idx, cpus, n, err);
	free(cpus);
	return rc;
}

static int charge_cell(np_host *h, const struct np_plan_cell *c, bool release, struct np_error *err)
{
	struct np_host_node *n;
	int rc;

	if (c->node_idx < 0 || c->node_idx >= h->nnodes)
		return bad_node(h, c->node_idx, err);
	if (c->memory_mb > NP_MEMORY_MB_MAX || c->npins < 0 || c->nreserved < 0 || c->nblocked < 0 ||
	    c->nfloat < 0)
		return np__err(err, NP_EINPUT, "plan cell on node %d: implausible sizes",
			       h->nodes[c->node_idx].pub.os_id);
	n = &h->nodes[c->node_idx].pub;
	if ((rc = cell_pages(h, c, release, err)) || (rc = cell_cpus(h, c, release, err)))
		return rc;
	if (release) {
		n->memory_used_mb = sub_clamp(n->memory_used_mb, c->memory_mb);
		n->cpu_usage = (unsigned)sub_clamp(n->cpu_usage, (unsigned)c->nfloat);
	} else {
		n->memory_used_mb += c->memory_mb;
		n->cpu_usage += (unsigned)c->nfloat;
	}
	return 0;
}

static int charge_pci(np_host *h, const struct np_plan_pci *p, bool release, struct np_error *err)
{
	struct np_pci_pool *pool;

	if (p->pool < 0 || p->pool >= h->npci || p->count < 0)
		return np__err(err, NP_EINPUT, "PCI pool %d does not exist", p->pool);
	pool = &h->pci[p->pool];
	if (release) {
		pool->used = pool->used > p->count ? pool->used - p->count : 0;
		return 0;
	}
	if (p->count > pool->count - pool->used)
		return np__err(err, NP_EINPUT, "PCI pool %d: %d devices asked, %d free", p->pool,
			       p->count, pool->count - pool->used);
	pool->used += p->count;
	return 0;
}

/* Swap the contents of A and B (the clone becomes the host). */
static void host_swap(np_host *a, np_host *b)
{
	np_host t = *a;

	*a = *b;
	*b = t;
}

int np_host_charge(np_host *h, const np_plan *plan, bool release, struct np_error *err)
{
	np_host *c = NULL;
	int rc;

	if (!plan->fits)
		return 0;
	if ((rc = np_host_clone(h, &c, err)))
		return rc;
	for (int i = 0; i < plan->ncells && !rc; i++)
		rc = charge_cell(c, &plan->cells[i], release, err);
	for (int i = 0; i < plan->npci && !rc; i++)
		rc = charge_pci(c, &plan->pci[i], release, err);
	if (!rc)
		host_swap(h, c);
	np_host_free(c);
	return rc ? rc : checked(h);
}
