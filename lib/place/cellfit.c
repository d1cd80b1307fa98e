/*
 * cellfit.c - can one guest cell go on one host node, and how: Nova's
 * _numa_fit_instance_cell and _pack_instance_onto_cores (research/nova.md
 * 3.1, 3.2), check for check, in Nova's order, with the pinning taken in
 * sorted CPU order (Nova takes Python set order).
 *
 * Order of checks: memory or pages (a page size asked: free pages of the
 * first candidate size that holds the cell; none asked: the cell fits the
 * smallest pool's total, or the node's memory when it reports no pools);
 * pinned vCPUs + emulator CPU <= dedicated CPUs; floating vCPUs <= shared
 * CPUs (no self-overcommit); pinned: free dedicated CPUs and memory
 * without over-commit, then the pinning itself; floating, with limits:
 * usage within the allocation ratios; last, with memory basis free,
 * small-page memory within the free memory the node reports (numaplace's
 * own check, not Nova's).
 *
 * Pinning works on the node's free sibling sets (SMT groups cut down to
 * free dedicated CPUs, in group order).  prefer/require: for t from the
 * most free threads of a core down to 1 (2 for require), the first t free
 * threads of every core with at least t free back consecutive vCPUs;
 * prefer then falls back to every free thread on its own.  isolate: one
 * thread of each fully free core, the rest of the core blocked.  The
 * emulator CPU is the first free thread left (isolate: on a core not used
 * by the pins).  A pinned-policy cell without pinned vCPUs never fits, as
 * in Nova (its empty pinning counts as failure).
 *
 * Reads the host only; writes only *F, F's buffers and WORK.
 */
#include "place/place-int.h"

#include <stdlib.h>
#include <string.h>

/* The node's free sibling sets, flattened into the caller's WORK. */
struct sibs {
	int ng;	     /* groups */
	int *fl;     /* free CPUs of all groups, group after group */
	int *fstart; /* group g's free CPUs: fl[fstart[g] .. + fcnt[g]] */
	int *fcnt;
	int *gsz;   /* full size of group g */
	int *gused; /* isolate: group holds a pin */
	int nfree, maxfree, tpc;
};

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static bool in_set(const int *set, int n, int cpu)
{
	return n > 0 && bsearch(&cpu, set, (size_t)n, sizeof(int), cmp_int) != NULL;
}

static void load_sibs(const struct np_host_node *hn, int *work, int cap, struct sibs *s)
{
	int k = 0;

	s->ng = hn->nsiblings;
	s->fl = work;
	s->fstart = work + cap;
	s->fcnt = s->fstart + cap;
	s->gsz = s->fcnt + cap;
	s->gused = s->gsz + cap;
	s->nfree = s->maxfree = 0;
	s->tpc = 1;
	for (int g = 0; g < s->ng; g++) {
		int sz = 0;

		s->fstart[g] = k;
		for (const int *p = hn->siblings[g]; *p >= 0; p++, sz++)
			if (in_set(hn->dedicated, hn->ndedicated, *p) &&
			    !in_set(hn->pinned, hn->npinned, *p))
				s->fl[k++] = *p;
		s->fcnt[g] = k - s->fstart[g];
		s->gsz[g] = sz;
		s->gused[g] = 0;
		s->maxfree = s->fcnt[g] > s->maxfree ? s->fcnt[g] : s->maxfree;
		s->tpc = sz > s->tpc ? sz : s->tpc;
	}
	s->nfree = k;
}

static bool is_pin(const struct np__fit *f, int cpu)
{
	for (int i = 0; i < f->npins; i++)
		if (f->pcpus[i] == cpu)
			return true;
	return false;
}

/* The first free thread that is not a pin (skipping used cores if ISOLATE). */
static int first_spare(const struct sibs *s, const struct np__fit *f, bool isolate)
{
	for (int g = 0; g < s->ng; g++) {
		if (isolate && s->gused[g])
			continue;
		for (int i = 0; i < s->fcnt[g]; i++)
			if (!is_pin(f, s->fl[s->fstart[g] + i]))
				return s->fl[s->fstart[g] + i];
	}
	return -1;
}

/* The first T free threads of each core having T free, for N vCPUs. */
static bool take_threads(const struct sibs *s, int t, int n, struct np__fit *f)
{
	int m = 0;

	for (int g = 0; g < s->ng; g++)
		m += s->fcnt[g] >= t;
	if (n == 0 || t * m < n)
		return false;
	f->npins = 0;
	for (int g = 0; g < s->ng && f->npins < n; g++)
		for (int i = 0; i < t && s->fcnt[g] >= t && f->npins < n; i++)
			f->pcpus[f->npins++] = s->fl[s->fstart[g] + i];
	return true;
}

/* prefer (and no policy) / require. */
static bool pin_prefer(const struct sibs *s, int n, int r, bool require, struct np__fit *f)
{
	bool got = false;

	for (int t = s->maxfree; t >= 1; t--) {
		if (require && t <= 1)
			continue;
		got = take_threads(s, t, n, f);
		if (!got)
			continue;
		f->reserved = r ? first_spare(s, f, false) : -1;
		if (!r || f->reserved >= 0)
			return true;
	}
	if (require || got || n == 0 || n > s->nfree)
		return false;
	/* Every free thread on its own, in order. */
	for (f->npins = 0; f->npins < n; f->npins++)
		f->pcpus[f->npins] = s->fl[f->npins];
	f->reserved = r ? first_spare(s, f, false) : -1;
	return !r || f->reserved >= 0;
}

static bool same_cpus(const struct np_host_node *hn)
{
	return hn->nshared == hn->ndedicated &&
	       (hn->nshared == 0 ||
		memcmp(hn->shared, hn->dedicated, (size_t)hn->nshared * sizeof(int)) == 0);
}

/* Block the free threads of group G other than the pins and the reservation. */
static void block_group(const struct sibs *s, int g, struct np__fit *f)
{
	for (int i = 0; i < s->fcnt[g]; i++) {
		int cpu = s->fl[s->fstart[g] + i];

		if (cpu != f->reserved && !is_pin(f, cpu))
			f->blocked[f->nblocked++] = cpu;
	}
}

static bool pin_isolate(const struct np_host_node *hn, struct sibs *s, int n, int r,
			struct np__fit *f)
{
	int m = 0;

	for (int g = 0; g < s->ng; g++)
		m += s->fcnt[g] >= s->tpc;
	if (m == 0 || (s->tpc != 1 && !same_cpus(hn)) || n == 0 || m < n)
		return false;
	f->npins = 0;
	for (int g = 0; g < s->ng && f->npins < n; g++)
		if (s->fcnt[g] >= s->tpc) {
			f->pcpus[f->npins++] = s->fl[s->fstart[g]];
			s->gused[g] = 1;
		}
	f->reserved = r ? first_spare(s, f, true) : -1;
	if (r && f->reserved < 0)
		return false;
	for (int g = 0; g < s->ng; g++) {
		bool has_res = false;

		for (int i = 0; i < s->fcnt[g] && f->reserved >= 0; i++)
			has_res |= s->fl[s->fstart[g] + i] == f->reserved;
		if (s->gused[g] || has_res)
			block_group(s, g, f);
	}
	return true;
}

static bool fail(struct np__fit *f, enum np_resource res, uint64_t asked, uint64_t available,
		 const char *why)
{
	f->ok = false;
	f->res = res;
	f->asked = asked;
	f->available = available;
	f->per_core = false;
	f->why = why;
	return false;
}

static void pin(const struct np_host_node *hn, const struct np__cellreq *c, int *work, int cap,
		struct np__fit *f)
{
	struct sibs s;
	bool ok;

	load_sibs(hn, work, cap, &s);
	if (c->thread_policy == NP_THREAD_POLICY_ISOLATE)
		ok = pin_isolate(hn, &s, c->npinned, c->nreserved, f);
	else if (c->thread_policy == NP_THREAD_POLICY_REQUIRE && s.tpc <= 1)
		ok = false;
	else
		ok = pin_prefer(&s, c->npinned, c->nreserved,
				c->thread_policy == NP_THREAD_POLICY_REQUIRE, f);
	if (ok)
		return;
	f->npins = f->nblocked = 0;
	f->reserved = -1;
	if (c->thread_policy == NP_THREAD_POLICY_REQUIRE && s.tpc <= 1 && c->npinned > 0) {
		fail(f, NP_RES_CORES, 2, (uint64_t)s.tpc, "no SMT");
		f->per_core = true;
	} else if (c->npinned == 0)
		fail(f, NP_RES_PCPUS, 0, (uint64_t)s.nfree,
		     "a cell of a pinned guest without pinned vCPUs (never fits in Nova)");
	else if (c->thread_policy == NP_THREAD_POLICY_ISOLATE ||
		 c->thread_policy == NP_THREAD_POLICY_REQUIRE)
		fail(f, NP_RES_CORES, (uint64_t)(c->npinned + c->nreserved), (uint64_t)s.nfree,
		     c->thread_policy == NP_THREAD_POLICY_ISOLATE
			 ? (s.tpc != 1 && !same_cpus(hn)
				? "isolate on SMT with separate shared and dedicated CPUs"
				: "whole free cores")
			 : "free SMT siblings");
	else
		fail(f, NP_RES_PCPUS, (uint64_t)(c->npinned + c->nreserved), (uint64_t)s.nfree,
		     "free dedicated CPUs");
}

static const struct np_page_pool *pool_of(const struct np_host_node *hn, uint64_t size_kb)
{
	for (int i = 0; i < hn->npools; i++)
		if (hn->pools[i].size_kb == size_kb)
			return &hn->pools[i];
	return NULL;
}

static uint64_t free_pages(const struct np_page_pool *p)
{
	return p->total > p->used + p->reserved ? p->total - p->used - p->reserved : 0;
}

/* A page size was asked: the first candidate size whose free pages hold it. */
static bool fit_pagesize(const struct np_host_node *hn, const struct np__cellreq *c,
			 struct np__fit *f)
{
	uint64_t kb = c->memory_mb * 1024;
	int lo = 0, hi = hn->npools - 1;
	const struct np_page_pool *first = NULL;

	if (c->pagesize == NP_PAGESIZE_SMALL)
		hi = lo = 0;
	else if (c->pagesize == NP_PAGESIZE_LARGE)
		lo = 1;
	if (c->pagesize > 0) {
		first = pool_of(hn, (uint64_t)c->pagesize);
		if (!first)
			return fail(f, NP_RES_PAGESIZE, (uint64_t)c->pagesize, 0,
				    "page size not on the node");
		lo = hi = (int)(first - hn->pools);
	}
	for (int i = hi; i >= lo && i < hn->npools; i--) {
		const struct np_page_pool *p = &hn->pools[i];

		first = first ? first : p;
		if (kb <= free_pages(p) * p->size_kb && kb % p->size_kb == 0) {
			f->pagesize_kb = p->size_kb;
			return true;
		}
	}
	if (!first)
		return fail(f, NP_RES_PAGESIZE, 0, 0, "no page size of the kind asked");
	return fail(f, NP_RES_PAGES, (kb + first->size_kb - 1) / first->size_kb, free_pages(first),
		    kb % first->size_kb ? "memory not a multiple of the page size" : "free pages");
}

static bool fit_memory(const struct np_host_node *hn, const struct np__cellreq *c,
		       struct np__fit *f)
{
	uint64_t kb = c->memory_mb * 1024;
	const struct np_page_pool *p = hn->npools ? &hn->pools[0] : NULL;

	f->pagesize_kb = p ? p->size_kb : 4;
	if (c->pagesize != NP_PAGESIZE_UNSET)
		return fit_pagesize(hn, c, f);
	if (p && (kb > p->total * p->size_kb || kb % p->size_kb))
		return fail(f, NP_RES_MEMORY, c->memory_mb, p->total * p->size_kb / 1024,
			    "memory of the node's small pages");
	if (!p && c->memory_mb > hn->memory_mb)
		return fail(f, NP_RES_MEMORY, c->memory_mb, hn->memory_mb, "memory of the node");
	return true;
}

static bool pinned_policy(enum np_cpu_policy p)
{
	return p == NP_CPU_POLICY_DEDICATED || p == NP_CPU_POLICY_MIXED;
}

/* Pinned guests: free dedicated CPUs and memory without over-commit, then pins. */
static bool fit_pinned(const np_host *h, int node_idx, const struct np__cellreq *c, int *work,
		       struct np__fit *f)
{
	const struct np_host_node *hn = np_host_node(h, node_idx);
	uint64_t need = (uint64_t)(c->npinned + c->nreserved);
	uint64_t avail = (uint64_t)(hn->ndedicated - hn->npinned);
	uint64_t mem = hn->memory_mb > hn->memory_used_mb ? hn->memory_mb - hn->memory_used_mb : 0;

	if (need > avail)
		return fail(f, NP_RES_PCPUS, need, avail, "free dedicated CPUs");
	if (c->memory_mb > mem)
		return fail(f, NP_RES_MEMORY, c->memory_mb, mem,
			    "free memory: pinned guests never over-commit");
	pin(hn, c, work, np_topo_node(np_host_topo(h), node_idx)->ncpus + 1, f);
	return f->ok;
}

/* Floating vCPUs with limits: usage within the allocation ratios. */
static bool fit_limits(const np_host *h, const struct np_host_node *hn, const struct np__cellreq *c,
		       struct np__fit *f)
{
	double cpu_ratio, ram_ratio, cpu_limit, ram_limit;

	if (!np_host_limits(h, &cpu_ratio, &ram_ratio))
		return true;
	cpu_limit = (double)hn->nshared * cpu_ratio;
	ram_limit = (double)hn->memory_mb * ram_ratio;
	if ((double)hn->cpu_usage + (double)c->nfloat > cpu_limit)
		return fail(f, NP_RES_VCPUS, (uint64_t)c->nfloat,
			    cpu_limit > hn->cpu_usage ? (uint64_t)(cpu_limit - hn->cpu_usage) : 0,
			    "shared CPU capacity (with the allocation ratio)");
	if ((double)hn->memory_used_mb + (double)c->memory_mb > ram_limit)
		return fail(f, NP_RES_MEMORY, c->memory_mb,
			    ram_limit > (double)hn->memory_used_mb
				? (uint64_t)(ram_limit - (double)hn->memory_used_mb)
				: 0,
			    "memory (with the allocation ratio)");
	return true;
}

/*
 * Memory basis free: small-page memory must also fit what the node reports
 * free (huge pages are counted by their pools, whose free counts the host
 * already takes as reserved).
 */
static bool fit_free(const np_host *h, int node_idx, const struct np__cellreq *c,
		     struct np__fit *f)
{
	const struct np_host_node *hn = np_host_node(h, node_idx);
	uint64_t cap = np__host_free_cap(h, node_idx);

	if (hn->npools && f->pagesize_kb > hn->pools[0].size_kb)
		return true;
	if (c->memory_mb > cap)
		return fail(f, NP_RES_MEMORY, c->memory_mb, cap,
			    "free memory the node reports, memory basis free");
	return true;
}

void np__cell_fit(const np_host *h, int node_idx, const struct np__cellreq *c, int *work,
		  struct np__fit *f)
{
	const struct np_host_node *hn = np_host_node(h, node_idx);
	bool pinned = pinned_policy(c->cpu_policy);

	f->ok = true;
	f->why = NULL;
	f->per_core = false;
	f->npins = f->nblocked = 0;
	f->reserved = -1;
	if (!fit_memory(hn, c, f))
		return;
	if (pinned && c->npinned + c->nreserved > hn->ndedicated) {
		fail(f, NP_RES_PCPUS, (uint64_t)(c->npinned + c->nreserved),
		     (uint64_t)hn->ndedicated, "dedicated CPUs of the node");
		return;
	}
	if (c->cpu_policy != NP_CPU_POLICY_DEDICATED && c->nfloat > hn->nshared) {
		fail(f, NP_RES_VCPUS, (uint64_t)c->nfloat, (uint64_t)hn->nshared,
		     "shared CPUs of the node: no self over-commit");
		return;
	}
	if (pinned && !fit_pinned(h, node_idx, c, work, f))
		return;
	if (c->cpu_policy != NP_CPU_POLICY_DEDICATED && !fit_limits(h, hn, c, f))
		return;
	fit_free(h, node_idx, c, f);
}

int np__host_max_node_cpus(const np_host *h)
{
	const np_topo *t = np_host_topo(h);
	int m = 0;

	for (int i = 0; i < np_topo_node_count(t); i++)
		m = np_topo_node(t, i)->ncpus > m ? np_topo_node(t, i)->ncpus : m;
	return m;
}
