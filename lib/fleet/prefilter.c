/*
 * prefilter.c - the scheduler's cheap test: can host H possibly fit the
 * guest?  Only necessary conditions, each a weaker form of a check the
 * engine makes (lib/place/cellfit.c, engine.c), so it never rejects a
 * host np_place() would place the guest on; tests run the engine on every
 * host it rejects to prove that.
 *
 * The conditions, per guest cell and node, in the engine's terms: memory
 * (no page size asked: the smallest pool's total; pinned: free memory;
 * floating: room under the RAM ratio), pages of the asked kind, free
 * dedicated CPUs for pinned vCPUs (with the emulator CPU on cell 0),
 * shared CPUs and room under the CPU ratio for floating vCPUs.  Then the
 * cells must match distinct nodes (a bipartite matching on node masks,
 * hosts up to 64 nodes).  A guest without NUMA that may be split needs
 * only the host-wide sums.  PCI: enough free devices on the host; a
 * device asked for by address (a domain's <hostdev>): the host has one
 * there (whether it is free, the engine says).
 *
 * When a host fails, the reason is a key (fleet-int.h) that depends on
 * the request only, so the scheduler can count hosts per reason and say
 * them once ("912 hosts: no node with 16 GiB free for guest cell 0").
 */
#include "fleet/fleet-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* ---- summaries ------------------------------------------------------------ */

static int64_t floor_of(double v)
{
	return v >= 9.2e18 ? INT64_MAX : (int64_t)v;
}

static bool in_sorted(const int *set, int n, int cpu)
{
	int lo = 0, hi = n - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (set[mid] == cpu)
			return true;
		if (set[mid] < cpu)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/*
 * Cores as `isolate` takes them (cellfit.c pin_isolate): sibling groups
 * with at least as many free dedicated threads as the largest group has
 * threads.  Free dedicated CPUs go into a bitmap first when their ids
 * span at most FREE_SPAN (always on real machines' nodes): a refresh
 * summarizes every node of each host it rebuilds, and two binary searches
 * per thread were most of the summary.
 */
#define FREE_SPAN 4096

struct free_map {
	uint64_t bits[FREE_SPAN / 64];
	int lo, span; /* SPAN 0: no map, ask the sorted lists */
};

static bool free_in(const struct free_map *f, const struct np_host_node *hn, int cpu)
{
	if (f->span)
		return cpu >= f->lo && cpu - f->lo < f->span &&
		       (f->bits[(cpu - f->lo) / 64] >> ((cpu - f->lo) % 64) & 1);
	return in_sorted(hn->dedicated, hn->ndedicated, cpu) &&
	       !in_sorted(hn->pinned, hn->npinned, cpu);
}

/* F: HN's free dedicated CPUs from its first, unless they span too far. */
static void free_map(const struct np_host_node *hn, struct free_map *f)
{
	int n = hn->ndedicated;

	f->span = 0;
	if (!n || hn->dedicated[n - 1] - hn->dedicated[0] >= FREE_SPAN)
		return;
	f->lo = hn->dedicated[0];
	f->span = hn->dedicated[n - 1] - f->lo + 1; /* sorted (np_host_check) */
	memset(f->bits, 0, (size_t)(f->span + 63) / 64 * sizeof(*f->bits));
	for (int i = 0; i < n; i++)
		f->bits[(hn->dedicated[i] - f->lo) / 64] |= UINT64_C(1)
							    << ((hn->dedicated[i] - f->lo) % 64);
	for (int i = 0; i < hn->npinned; i++) {
		int k = hn->pinned[i] - f->lo;

		if (k >= 0 && k < f->span)
			f->bits[k / 64] &= ~(UINT64_C(1) << (k % 64));
	}
}

static int64_t whole_free(const struct np_host_node *hn)
{
	struct free_map f;
	int tpc = 1, nfree[512];
	int64_t m = 0;

	if (hn->nsiblings > 512)
		return INT64_MAX; /* too many to count: no limit from here */
	if (!hn->ndedicated)
		return 0; /* no group has a free dedicated thread */
	free_map(hn, &f);
	for (int g = 0; g < hn->nsiblings; g++) {
		int sz = 0, fr = 0;

		for (const int *p = hn->siblings[g]; *p >= 0; p++, sz++)
			fr += free_in(&f, hn, *p);
		nfree[g] = fr;
		tpc = sz > tpc ? sz : tpc;
	}
	for (int g = 0; g < hn->nsiblings; g++)
		m += nfree[g] >= tpc;
	return m;
}

static void summarize_node(const np_host *host, int idx, struct np__snode *s)
{
	const struct np_host_node *hn = np_host_node(host, idx);
	double cr = 16.0, rr = 1.0;
	bool limits = np_host_limits(host, &cr, &rr);

	memset(s, 0, sizeof(*s));
	s->os_id = hn->os_id;
	s->mem_total = (int64_t)hn->memory_mb;
	s->mem_free = (int64_t)hn->memory_mb - (int64_t)hn->memory_used_mb;
	s->mem_room = limits ? floor_of((double)hn->memory_mb * rr) - (int64_t)hn->memory_used_mb
			     : INT64_MAX;
	s->small_mb = hn->npools ? (int64_t)(hn->pools[0].total * hn->pools[0].size_kb / 1024) : -1;
	s->nshared = hn->nshared;
	s->vcpu_room = limits ? floor_of((double)hn->nshared * cr) - (int64_t)hn->cpu_usage
			      : INT64_MAX;
	s->pcpu_free = hn->ndedicated - hn->npinned;
	s->whole_free = whole_free(hn);
	/* More pools than kept: count them as room (the engine decides). */
	s->npools = hn->npools <= NP__SUM_POOLS ? hn->npools : -1;
	for (int i = 0; i < hn->npools && i < NP__SUM_POOLS; i++) {
		const struct np_page_pool *p = &hn->pools[i];

		s->pool_kb[i] = p->size_kb;
		s->pool_total[i] = (int64_t)p->total;
		s->pool_free[i] = p->total > p->used + p->reserved
					  ? (int64_t)(p->total - p->used - p->reserved)
					  : 0;
	}
}

static int summarize_pci(struct np_fleet_host *h)
{
	struct np__summary *s = &h->sum;
	int n = np_host_pci_pool_count(h->host);

	free(s->pci);
	s->npci = 0;
	s->pci = NULL; /* no devices (most hosts): no allocation */
	if (n > 0 && !(s->pci = np__calloc((size_t)n, sizeof(*s->pci))))
		return NP_ENOMEM;
	for (int i = 0; i < n; i++) {
		const struct np_pci_pool *p = np_host_pci_pool(h->host, i);
		int k;

		for (k = 0; k < s->npci; k++)
			if (s->pci[k].vendor == p->vendor && s->pci[k].product == p->product)
				break;
		if (k == s->npci)
			s->pci[s->npci++] = (struct np__spci){ p->vendor, p->product, 0 };
		s->pci[k].free += p->count - p->used;
	}
	return 0;
}

/* The most KiB free in one pool of size KB; past NP__SUM_POOLS sizes, no limit. */
static void size_max(struct np__summary *s, uint64_t kb, int64_t free_kb)
{
	int i;

	for (i = 0; i < s->nsizes && s->sizes[i].kb != kb; i++)
		;
	if (i == NP__SUM_POOLS) {
		s->max_large_free_kb = INT64_MAX; /* too many sizes to keep: judge nothing */
		return;
	}
	if (i == s->nsizes)
		s->sizes[s->nsizes++].kb = kb, s->sizes[i].max_free_kb = 0;
	if (free_kb > s->sizes[i].max_free_kb)
		s->sizes[i].max_free_kb = free_kb;
}

int np__summarize(struct np_fleet_host *h)
{
	struct np__summary *s = &h->sum;
	int n = np_topo_node_count(np_host_topo(h->host));
	int64_t vcap;

	if (s->n != n) {
		free(s->nodes);
		s->nodes = np__calloc((size_t)n + 1, sizeof(*s->nodes));
		s->n = s->nodes ? n : 0;
		if (!s->nodes)
			return NP_ENOMEM;
	}
	s->mem_total = s->mem_room = s->pcpu_total = s->pcpu_free = 0;
	s->vcpu_total = s->vcpu_room = 0;
	vcap = 0;
	s->max_mem_free = s->max_mem_room = s->max_small = INT64_MIN;
	s->max_nshared = s->max_vcpu_room = s->max_pcpu_free = INT64_MIN;
	s->max_whole_free = s->max_small_free_kb = s->max_large_free_kb = 0;
	s->nsizes = 0;
	for (int i = 0; i < n; i++) {
		const struct np_host_node *hn = np_host_node(h->host, i);
		struct np__snode *x = &s->nodes[i];

		summarize_node(h->host, i, x);
		if (x->vcpu_room < (INT64_C(1) << 40)) /* hosts without limits: no share */
			vcap += x->vcpu_room + (int64_t)hn->cpu_usage;
		s->mem_total += x->mem_total;
		s->mem_room += x->mem_room > 0 ? x->mem_room : 0;
		s->pcpu_total += hn->ndedicated;
		s->pcpu_free += x->pcpu_free;
		s->vcpu_total += x->nshared;
		s->vcpu_room += x->vcpu_room > 0 ? x->vcpu_room : 0;
#define MAX_OF(f, v) s->f = (v) > s->f ? (v) : s->f
		MAX_OF(max_mem_free, x->mem_free);
		MAX_OF(max_mem_room, x->mem_room);
		MAX_OF(max_small, x->small_mb >= 0 ? x->small_mb : x->mem_total);
		MAX_OF(max_nshared, x->nshared);
		MAX_OF(max_vcpu_room, x->vcpu_room);
		MAX_OF(max_pcpu_free, x->pcpu_free);
		MAX_OF(max_whole_free, x->whole_free);
		for (int p = 0; p < hn->npools; p++) {
			const struct np_page_pool *q = &hn->pools[p];
			int64_t kb = q->total > q->used + q->reserved
					 ? (int64_t)((q->total - q->used - q->reserved) * q->size_kb)
					 : 0;

			if (p == 0)
				MAX_OF(max_small_free_kb, kb);
			else
				MAX_OF(max_large_free_kb, kb);
			if (p > 0)
				size_max(s, q->size_kb, kb);
		}
#undef MAX_OF
	}
	s->key[0] = (s->mem_total > 0 ? (double)s->mem_room / (double)s->mem_total : 0) +
		    (vcap > 0 ? (double)(s->vcpu_room > 0 ? s->vcpu_room : 0) / (double)vcap : 0);
	s->key[1] = (s->mem_total > 0 ? (double)s->mem_room / (double)s->mem_total : 0) +
		    (s->pcpu_total > 0 ? (double)s->pcpu_free / (double)s->pcpu_total : 0);
	return summarize_pci(h);
}

/* ---- the request ---------------------------------------------------------- */

static bool pinned_policy(enum np_cpu_policy p)
{
	return p == NP_CPU_POLICY_DEDICATED || p == NP_CPU_POLICY_MIXED;
}

static int add_pci_need(struct np__needs *n, const struct np_pci_request *p)
{
	if (p->address[0])
		return 0; /* vendor:product are the host's: addr_ok() checks the device */
	for (int i = 0; i < n->npci; i++)
		if (n->pci[i].vendor == p->vendor && n->pci[i].product == p->product) {
			n->pci[i].free += p->count;
			return 0;
		}
	n->pci[n->npci++] = (struct np__spci){ p->vendor, p->product, p->count };
	return 0;
}

int np__needs_of(const np_request *req, struct np__needs *out)
{
	struct np__needs n = { .req = req, .k = np_request_cell_count(req) };
	bool iso = np_request_emulator_policy(req) == NP_EMULATOR_POLICY_ISOLATE;

	n.pinned = pinned_policy(np_request_cpu_policy(req));
	n.isolate = n.pinned && np_request_thread_policy(req) == NP_THREAD_POLICY_ISOLATE;
	n.dedicated = np_request_cpu_policy(req) == NP_CPU_POLICY_DEDICATED;
	n.cells = np__calloc((size_t)n.k + 1, sizeof(*n.cells));
	n.pci = np__calloc((size_t)np_request_pci_count(req) + 1, sizeof(*n.pci));
	if (!n.cells || !n.pci) {
		np__needs_free(&n);
		return NP_ENOMEM;
	}
	for (int i = 0; i < n.k; i++) {
		const struct np_guest_cell *c = np_request_cell(req, i);

		n.cells[i] = (struct np__ncell){ (int64_t)c->memory_mb, c->nvcpus,
						 c->npcpus + (iso && i == 0 && n.pinned),
						 iso && i == 0 && n.pinned, c->pagesize,
						 np_request_cell_pinned_node(req, i) };
		n.mem_total += (int64_t)c->memory_mb;
		n.vcpus_total += c->nvcpus;
	}
	for (int i = 0; i < np_request_pci_count(req); i++)
		add_pci_need(&n, np_request_pci(req, i));
	n.numa_flat = !np_request_has_numa(req) && n.k == 1;
	n.flat_split = n.numa_flat && n.cells[0].npinned == 0 &&
		       n.cells[0].pagesize == NP_PAGESIZE_UNSET && n.cells[0].fixed_os < 0 &&
		       !n.pinned;
	*out = n;
	return 0;
}

void np__needs_free(struct np__needs *n)
{
	free(n->cells);
	free(n->pci);
	memset(n, 0, sizeof(*n));
}

/* ---- the checks -------------------------------------------------------------- */

static bool mem_ok(const struct np__needs *n, const struct np__ncell *c, const struct np__snode *s)
{
	if (c->pagesize == NP_PAGESIZE_UNSET &&
	    c->mem > (s->small_mb >= 0 ? s->small_mb : s->mem_total))
		return false;
	if (n->pinned && c->mem > s->mem_free)
		return false;
	return n->dedicated || c->mem <= s->mem_room;
}

static bool pages_ok(const struct np__ncell *c, const struct np__snode *s)
{
	int64_t kb = c->mem * 1024;

	if (c->pagesize == NP_PAGESIZE_UNSET || s->npools < 0)
		return true;
	for (int i = 0; i < s->npools; i++) {
		bool kind = c->pagesize == NP_PAGESIZE_ANY ||
			    (c->pagesize == NP_PAGESIZE_SMALL && i == 0) ||
			    (c->pagesize == NP_PAGESIZE_LARGE && i > 0) ||
			    (c->pagesize > 0 && s->pool_kb[i] == (uint64_t)c->pagesize);

		if (kind && s->pool_free[i] >= (kb + (int64_t)s->pool_kb[i] - 1) / (int64_t)s->pool_kb[i])
			return true;
	}
	return false;
}

static bool pcpus_ok(const struct np__needs *n, const struct np__ncell *c, const struct np__snode *s)
{
	return !n->pinned || c->npinned <= s->pcpu_free;
}

static bool vcpus_ok(const struct np__needs *n, const struct np__ncell *c, const struct np__snode *s)
{
	return n->dedicated || (c->nfloat <= s->nshared && c->nfloat <= s->vcpu_room);
}

/* isolate: one whole free core per pinned vCPU (the emulator CPU needs less). */
static bool cores_ok(const struct np__needs *n, const struct np__ncell *c, const struct np__snode *s)
{
	return !n->isolate || c->npinned - c->nreserved <= s->whole_free;
}

static bool cell_ok(const struct np__needs *n, const struct np__ncell *c, const struct np__snode *s)
{
	return mem_ok(n, c, s) && pages_ok(c, s) && pcpus_ok(n, c, s) && vcpus_ok(n, c, s) &&
	       cores_ok(n, c, s);
}

/* Cell I fits on no node: which resource alone already fails everywhere? */
static enum np__why cell_reason(const struct np__summary *s, const struct np__needs *n, int i)
{
	const struct np__ncell *c = &n->cells[i];
	bool mem = false, pages = false, pcpus = false, vcpus = false, cores = false;

	for (int j = 0; j < s->n; j++) {
		if (c->fixed_os >= 0 && s->nodes[j].os_id != c->fixed_os)
			continue;
		mem |= mem_ok(n, c, &s->nodes[j]);
		pages |= pages_ok(c, &s->nodes[j]);
		pcpus |= pcpus_ok(n, c, &s->nodes[j]);
		vcpus |= vcpus_ok(n, c, &s->nodes[j]);
		cores |= cores_ok(n, c, &s->nodes[j]);
	}
	return !mem ? NP__WHY_MEM : !pages ? NP__WHY_PAGES : !pcpus ? NP__WHY_PCPUS
	       : !vcpus ? NP__WHY_VCPUS : !cores ? NP__WHY_CORES : NP__WHY_CELL;
}

/* Could any pool of the kind asked hold C?  From the largest free amounts. */
static bool quick_pages(const struct np__summary *s, const struct np__ncell *c)
{
	int64_t kb = c->mem * 1024, small = s->max_small_free_kb, large = s->max_large_free_kb;

	if (c->pagesize == NP_PAGESIZE_SMALL)
		return kb <= small;
	if (c->pagesize == NP_PAGESIZE_LARGE)
		return kb <= large;
	if (c->pagesize > 0 && large != INT64_MAX) {
		for (int i = 0; i < s->nsizes; i++)
			if (s->sizes[i].kb == (uint64_t)c->pagesize)
				return kb <= s->sizes[i].max_free_kb;
		return kb <= small; /* not a large size here: at most the small pool */
	}
	return kb <= (small > large ? small : large); /* any */
}

/*
 * Cell C against the host's largest free amounts: which resource no node
 * has enough of, or NP__WHY_FITS.  The same answer cell_reason() gives for
 * that resource, without looking at every node.
 */
static enum np__why quick_reason(const struct np__summary *s, const struct np__needs *n,
				 const struct np__ncell *c)
{
	if ((c->pagesize == NP_PAGESIZE_UNSET && c->mem > s->max_small) ||
	    (n->pinned && c->mem > s->max_mem_free) || (!n->dedicated && c->mem > s->max_mem_room))
		return NP__WHY_MEM;
	if (c->pagesize != NP_PAGESIZE_UNSET && !quick_pages(s, c))
		return NP__WHY_PAGES;
	if (n->pinned && c->npinned > s->max_pcpu_free)
		return NP__WHY_PCPUS;
	if (!n->dedicated && (c->nfloat > s->max_nshared || c->nfloat > s->max_vcpu_room))
		return NP__WHY_VCPUS;
	if (n->isolate && c->npinned - c->nreserved > s->max_whole_free)
		return NP__WHY_CORES;
	return NP__WHY_FITS;
}

/* Kuhn's augmenting path: can cell I take a node, moving others? */
static bool augment(const uint64_t *mask, int i, uint64_t *seen, int *owner)
{
	for (uint64_t m = mask[i] & ~*seen; m; m &= m - 1) {
		int j = __builtin_ctzll(m);

		*seen |= UINT64_C(1) << j;
		if (owner[j] < 0 || augment(mask, owner[j], seen, owner)) {
			owner[j] = i;
			return true;
		}
	}
	return false;
}

static bool matches(const uint64_t *mask, int k)
{
	int owner[64];

	for (int j = 0; j < 64; j++)
		owner[j] = -1;
	for (int i = 0; i < k; i++) {
		uint64_t seen = 0;

		if (!augment(mask, i, &seen, owner))
			return false;
	}
	return true;
}

static bool fail(struct np__why_key *why, enum np__why w, int sub)
{
	why->why = w;
	why->sub = sub;
	return false;
}

/* A guest without NUMA that may be split: only the host-wide sums. */
static bool flat_ok(const struct np__summary *s, const struct np__needs *n,
		    struct np__why_key *why)
{
	int64_t mem = 0, cpu = 0;

	for (int j = 0; j < s->n; j++) {
		const struct np__snode *x = &s->nodes[j];
		int64_t m = x->small_mb >= 0 ? x->small_mb : x->mem_total;

		m = x->mem_room < m ? x->mem_room : m;
		mem += m > 0 ? m : 0;
		cpu += x->vcpu_room < x->nshared ? (x->vcpu_room > 0 ? x->vcpu_room : 0) : x->nshared;
	}
	if (mem < n->cells[0].mem)
		return fail(why, NP__WHY_FLAT_MEM, 0);
	if (cpu < n->cells[0].nfloat)
		return fail(why, NP__WHY_FLAT_CPU, 0);
	return true;
}

static bool pci_ok(const struct np__summary *s, const struct np__needs *n,
		   struct np__why_key *why)
{
	for (int i = 0; i < n->npci; i++) {
		int64_t have = 0;

		for (int k = 0; k < s->npci; k++)
			if (s->pci[k].vendor == n->pci[i].vendor && s->pci[k].product == n->pci[i].product)
				have += s->pci[k].free;
		if (have < n->pci[i].free)
			return fail(why, NP__WHY_PCI, i);
	}
	return true;
}

/* Every device asked for by address is on the host (its addresses differ from others'). */
static bool addr_ok(const struct np_fleet_host *h, const struct np__needs *n,
		    struct np__why_key *why)
{
	for (int i = 0; i < np_request_pci_count(n->req); i++) {
		const char *a = np_request_pci(n->req, i)->address;

		if (a[0] && np_topo_device_find(h->topo, a) < 0)
			return fail(why, NP__WHY_PCI_ADDR, i);
	}
	return true;
}

/* The nodes cell I may go on, as a mask (hosts of at most 64 nodes). */
static uint64_t cell_mask(const struct np__summary *s, const struct np__needs *n, int i)
{
	uint64_t m = 0;

	for (int j = 0; j < s->n && j < 64; j++) {
		const struct np__ncell *c = &n->cells[i];

		if ((c->fixed_os < 0 || s->nodes[j].os_id == c->fixed_os) &&
		    cell_ok(n, c, &s->nodes[j]))
			m |= UINT64_C(1) << j;
	}
	return m;
}

static bool has_node(const struct np__summary *s, int os)
{
	for (int j = 0; j < s->n; j++)
		if (s->nodes[j].os_id == os)
			return true;
	return false;
}

bool np__prefilter(const struct np_fleet_host *h, const struct np__needs *n,
		   struct np__why_key *why)
{
	const struct np__summary *s = &h->sum;
	uint64_t mask[64];

	why->why = NP__WHY_FITS;
	why->sub = 0;
	if (!pci_ok(s, n, why) || !addr_ok(h, n, why))
		return false;
	if (n->flat_split && s->n >= 2)
		return flat_ok(s, n, why);
	if (n->k > s->n)
		return fail(why, NP__WHY_NODES, 0);
	for (int i = 0; i < n->k; i++) {
		enum np__why q;

		if (n->cells[i].fixed_os >= 0 && !has_node(s, n->cells[i].fixed_os))
			return fail(why, NP__WHY_PNODE, i);
		if (n->cells[i].fixed_os < 0 && (q = quick_reason(s, n, &n->cells[i])) != NP__WHY_FITS)
			return fail(why, q, i);
	}
	if (s->n > 64 || n->k > 64) {
		/* Too wide for masks: each cell on some node, the engine does the rest. */
		for (int i = 0; i < n->k; i++) {
			bool any = false;

			for (int j = 0; j < s->n && !any; j++)
				any = (n->cells[i].fixed_os < 0 ||
				       s->nodes[j].os_id == n->cells[i].fixed_os) &&
				      cell_ok(n, &n->cells[i], &s->nodes[j]);
			if (!any)
				return fail(why, cell_reason(s, n, i), i);
		}
		return true;
	}
	for (int i = 0; i < n->k; i++)
		if (!(mask[i] = cell_mask(s, n, i)))
			return fail(why, cell_reason(s, n, i), i);
	return matches(mask, n->k) || fail(why, NP__WHY_MATCH, 0);
}

/* ---- reasons in words -------------------------------------------------------- */

static void mib(int64_t v, char *out, size_t size)
{
	if (v >= 1024 && v % 1024 == 0)
		snprintf(out, size, "%lld GiB", (long long)(v / 1024));
	else if (v >= 1024)
		snprintf(out, size, "%.1f GiB", (double)v / 1024.0);
	else
		snprintf(out, size, "%lld MiB", (long long)v);
}

static const char *page_kind(long p, char *buf, size_t size)
{
	if (p == NP_PAGESIZE_SMALL)
		return "small";
	if (p == NP_PAGESIZE_LARGE)
		return "large";
	if (p == NP_PAGESIZE_ANY)
		return "any-size";
	snprintf(buf, size, "%ld KiB", p);
	return buf;
}

/* "16 GiB, 8 dedicated CPUs and 2 floating vCPUs" for cell C. */
static void needs_words(const struct np__needs *n, const struct np__ncell *c, char *out,
			size_t size)
{
	char m[32];
	size_t k;

	mib(c->mem, m, sizeof(m));
	k = (size_t)snprintf(out, size, "%s", m);
	if (n->pinned && c->npinned && k < size)
		k += (size_t)snprintf(out + k, size - k, ", %d dedicated CPUs", c->npinned);
	if (!n->dedicated && c->nfloat && k < size)
		snprintf(out + k, size - k, ", room for %d floating vCPUs", c->nfloat);
}

static bool symmetric(const struct np__needs *n)
{
	for (int i = 1; i < n->k; i++)
		if (n->cells[i].mem != n->cells[0].mem || n->cells[i].nfloat != n->cells[0].nfloat ||
		    n->cells[i].npinned != n->cells[0].npinned)
			return false;
	return true;
}

static void engine_text(const struct np__needs *n, int res, char *out, size_t size)
{
	switch (res) {
	case NP_RES_PCI:
		if (n->npci)
			snprintf(out, size, "PCI %04x:%04x on no chosen node (affinity policy)",
				 n->pci[0].vendor, n->pci[0].product);
		else
			snprintf(out, size, "PCI devices on no chosen node");
		break;
	case NP_RES_CORES:
		snprintf(out, size, "no node with the whole free cores or SMT siblings the "
			 "thread policy %s needs", np_thread_policy_name(np_request_thread_policy(n->req)));
		break;
	case NP_RES_PCPUS:
		snprintf(out, size, "no node can pin the guest cell's vCPUs");
		break;
	case NP_RES_MEMORY:
		snprintf(out, size, "the guest fits on no set of nodes, even split");
		break;
	default:
		snprintf(out, size, "the guest cells fit on no set of distinct nodes together");
	}
}

void np__reason_text(const struct np__needs *n, struct np__why_key key, char *out, size_t size)
{
	const struct np__ncell *c = &n->cells[key.sub >= 0 && key.sub < n->k ? key.sub : 0];
	char m[32], w[160], pk[32];

	mib(key.why == NP__WHY_FLAT_MEM ? n->mem_total : c->mem, m, sizeof(m));
	switch (key.why) {
	case NP__WHY_NODES:
		snprintf(out, size, "fewer than %d NUMA nodes", n->k);
		break;
	case NP__WHY_PNODE:
		snprintf(out, size, "no node %d (pnode of guest cell %d)", c->fixed_os, key.sub);
		break;
	case NP__WHY_MEM:
		snprintf(out, size, "no node with %s free for guest cell %d", m, key.sub);
		break;
	case NP__WHY_PAGES:
		snprintf(out, size, "no node with %s free in %s pages for guest cell %d", m,
			 page_kind(c->pagesize, pk, sizeof(pk)), key.sub);
		break;
	case NP__WHY_PCPUS:
		snprintf(out, size, "no node with %d free dedicated CPUs for guest cell %d",
			 c->npinned, key.sub);
		break;
	case NP__WHY_VCPUS:
		snprintf(out, size, "no node with room for %d more floating vCPUs for guest cell %d",
			 c->nfloat, key.sub);
		break;
	case NP__WHY_CORES:
		snprintf(out, size, "no node with %d whole free cores for guest cell %d (thread "
			 "policy isolate)", c->npinned - c->nreserved, key.sub);
		break;
	case NP__WHY_CELL:
		needs_words(n, c, w, sizeof(w));
		snprintf(out, size, "no node with %s free at once for guest cell %d", w, key.sub);
		break;
	case NP__WHY_MATCH:
		needs_words(n, &n->cells[0], w, sizeof(w));
		if (symmetric(n))
			snprintf(out, size, "no %d nodes with %s free each", n->k, w);
		else
			snprintf(out, size, "no %d distinct nodes that hold the guest cells", n->k);
		break;
	case NP__WHY_FLAT_MEM:
		snprintf(out, size, "less than %s free on the whole host", m);
		break;
	case NP__WHY_FLAT_CPU:
		snprintf(out, size, "no room for %d floating vCPUs on the whole host", n->vcpus_total);
		break;
	case NP__WHY_PCI:
		snprintf(out, size, "PCI %04x:%04x: fewer than %lld free", n->pci[key.sub].vendor,
			 n->pci[key.sub].product, (long long)n->pci[key.sub].free);
		break;
	case NP__WHY_PCI_ADDR:
		snprintf(out, size, "no PCI device at %s",
			 np_request_pci(n->req, key.sub)->address);
		break;
	case NP__WHY_ENGINE:
		engine_text(n, key.sub, out, size);
		break;
	default:
		snprintf(out, size, "fits");
	}
}
