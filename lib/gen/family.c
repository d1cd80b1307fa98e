/*
 * family.c - the request families: named mixes of guests, each with the
 * host shape and CPU allocation ratio it is meant for.
 *
 * Sizes are relative to a typical node of the host (struct np__gen_ctx),
 * so a family means the same on a 16-CPU node and on a fixture's 6-CPU
 * node: a cell of S sixteenths has S x CPUs / 16 vCPUs (at least one;
 * CPUs of the kind the guest uses), and Q quarters of the node's memory
 * per CPU (of both kinds) for each vCPU, rounded to 256 MiB and at most
 * the node's memory.  On the default 16-CPU, 32 GiB
 * node a sixteenth is one vCPU and a quarter 512 MiB per vCPU, so the
 * `dedicated` mix is the one docs/bench/quality.md measured first.
 *
 * Draws use integers only (np__rng_below), so a seed gives the same
 * guests everywhere.
 */
#include <string.h>

#include "gen/gen-int.h"

#define PICK(r, a) ((a)[np__rng_below((r), NP__ARRAY_SIZE(a))])

/* True with probability PCT %. */
static bool chance(struct np__rng *r, int pct)
{
	return (int)np__rng_below(r, 100) < pct;
}

static int vcpus_of(int cpus, int sixteenths)
{
	int v = (sixteenths * cpus + 8) / 16;

	return v < 1 ? 1 : v > cpus ? cpus : v;
}

/* Q quarters of the node's memory per CPU (of either kind) for each of V vCPUs. */
static uint64_t mem_of(const struct np__gen_ctx *x, int v, int quarters)
{
	uint64_t m = (uint64_t)v * x->mem_mb * (uint64_t)quarters / (4 * (uint64_t)x->cpus);

	m = (m + 128) / 256 * 256;
	if (m < 256)
		m = 256;
	return m > x->mem_mb ? x->mem_mb / 256 * 256 : m;
}

/* NCELLS cells of S sixteenths and QUARTERS quarters each. */
static void even(struct np__gen_req *q, const struct np__gen_ctx *x, int cpus, int ncells,
		 int s, int quarters)
{
	int v = vcpus_of(cpus, s);

	q->ncells = ncells;
	for (int c = 0; c < ncells; c++) {
		q->vcpus[c] = v;
		q->mem_mb[c] = mem_of(x, v, quarters);
	}
}

/* NCELLS cells of distinct sizes from SIZES, Q drawn per cell from QS. */
static void uneven(struct np__rng *r, struct np__gen_req *q, const struct np__gen_ctx *x,
		   int cpus, int ncells, const int *qs, int nqs)
{
	static const int sizes[] = { 1, 2, 3, 4, 6, 8 };
	bool used[NP__ARRAY_SIZE(sizes)] = { false };

	q->ncells = ncells;
	q->uneven = true;
	for (int c = 0; c < ncells; c++) {
		int k;

		do
			k = (int)np__rng_below(r, NP__ARRAY_SIZE(sizes));
		while (used[k]);
		used[k] = true;
		q->vcpus[c] = vcpus_of(cpus, sizes[k]);
		q->mem_mb[c] = mem_of(x, q->vcpus[c], qs[np__rng_below(r, (uint64_t)nqs)]);
	}
}

/*
 * A mix of even guests: with probability PCT %, NA cells of a size from
 * SA, else NB cells of a size from SB (NB 0: always A); Q quarters of
 * memory per CPU from QS.  Draws: the coin (when there are two kinds),
 * the size, the quarters - the order every family's workloads depend on.
 */
struct mix {
	int pct;
	int na;
	const int *sa;
	int nsa;
	int nb;
	const int *sb;
	int nsb;
	const int *qs;
	int nqs;
};

#define SIZES(a) (a), (int)NP__ARRAY_SIZE(a)

static void draw_mix(struct np__rng *r, const struct np__gen_ctx *x, int cpus, const struct mix *m,
		     struct np__gen_req *q)
{
	bool a = !m->nb || chance(r, m->pct);
	int sz = a ? m->sa[np__rng_below(r, (uint64_t)m->nsa)]
		   : m->sb[np__rng_below(r, (uint64_t)m->nsb)];

	even(q, x, cpus, a ? m->na : m->nb, sz, m->qs[np__rng_below(r, (uint64_t)m->nqs)]);
}

static const int q_dedicated[] = { 2, 4, 4, 6, 8 }, q_even[] = { 2, 4, 6, 8 };
static const int q_large[] = { 3, 4, 5 };

static void draw_small(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	static const int s[] = { 1, 1, 2, 2, 3, 4 };
	static const struct mix m = { 100, 1, SIZES(s), 0, NULL, 0, SIZES(q_dedicated) };

	draw_mix(r, x, x->pcpus, &m, q);
}

/* The mix bench/quality measured first: 45 % one cell, 35 % two even, 20 % two uneven. */
static void draw_dedicated(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	static const int one[] = { 1, 2, 2, 4, 4, 6, 8, 12 }, two[] = { 1, 2, 3, 4, 6, 8 };
	static const struct mix m1 = { 100, 1, SIZES(one), 0, NULL, 0, SIZES(q_dedicated) };
	static const struct mix m2 = { 100, 2, SIZES(two), 0, NULL, 0, SIZES(q_even) };
	int p = (int)np__rng_below(r, 100);

	if (p < 80)
		draw_mix(r, x, x->pcpus, p < 45 ? &m1 : &m2, q);
	else
		uneven(r, q, x, x->pcpus, 2, q_even, (int)NP__ARRAY_SIZE(q_even));
}

static void draw_large2(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	static const int s[] = { 4, 5, 6, 8, 10, 12 };
	static const struct mix m = { 100, 2, SIZES(s), 0, NULL, 0, SIZES(q_large) };

	draw_mix(r, x, x->pcpus, &m, q);
}

static void draw_large4(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	static const int s4[] = { 2, 3, 4, 6, 8 }, s2[] = { 4, 6, 8, 12 };
	static const struct mix m = { 60, 4, SIZES(s4), 2, SIZES(s2), SIZES(q_large) };

	draw_mix(r, x, x->pcpus, &m, q);
}

static void draw_uneven(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	int ncells = chance(r, 50) ? 2 : 3;

	uneven(r, q, x, x->pcpus, ncells, q_even, (int)NP__ARRAY_SIZE(q_even));
}

/* Floating vCPUs, 1, 2 or 4 GiB per vCPU on the default node. */
static void draw_shared(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	static const int s1[] = { 1, 2, 4, 8 }, s2[] = { 1, 2, 4 }, qs[] = { 2, 4, 8 };
	static const struct mix m = { 60, 1, SIZES(s1), 2, SIZES(s2), SIZES(qs) };

	draw_mix(r, x, x->vcpus, &m, q);
	q->shared = true;
}

static void draw_cpu_bound(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	static const int s1[] = { 2, 4, 6, 8 }, s2[] = { 2, 4, 6 }, qs[] = { 1, 2 };
	static const struct mix m = { 70, 1, SIZES(s1), 2, SIZES(s2), SIZES(qs) };

	draw_mix(r, x, x->pcpus, &m, q);
}

static void draw_mem_bound(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	static const int s1[] = { 1, 2, 3, 4 }, s2[] = { 1, 2 }, qs[] = { 8, 12, 16 };
	static const struct mix m = { 70, 1, SIZES(s1), 2, SIZES(s2), SIZES(qs) };

	draw_mix(r, x, x->pcpus, &m, q);
}

/* Cells of huge-page guests: whole pages, within one node's pool. */
static void huge_cells(struct np__gen_req *q, uint64_t page_mb, uint64_t pool_mb)
{
	for (int c = 0; c < q->ncells; c++) {
		uint64_t m = (q->mem_mb[c] + page_mb - 1) / page_mb * page_mb;

		q->mem_mb[c] = m > pool_mb ? pool_mb / page_mb * page_mb : m;
	}
}

static void draw_hugepages(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	static const int s1[] = { 1, 2, 4, 6 }, s2[] = { 1, 2, 4 };
	static const struct mix m = { 70, 1, SIZES(s1), 2, SIZES(s2), SIZES(q_even) };
	int p = (int)np__rng_below(r, 100);

	draw_mix(r, x, x->pcpus, &m, q);
	if (p < 40 && x->pool2m_mb >= 2) {
		q->pagesize_kb = 2048;
		huge_cells(q, 2, x->pool2m_mb);
	} else if (p < 70 && x->pool1g_mb >= 1024) {
		q->pagesize_kb = 1048576;
		huge_cells(q, 1024, x->pool1g_mb);
	}
}

/* 40 % of the dedicated mix ask for one or two NICs. */
static void draw_pci(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	static const char *const policies[] = { "required", "required", "preferred", "legacy" };

	draw_dedicated(r, x, q);
	if (chance(r, 40)) {
		q->nics = chance(r, 75) ? 1 : 2;
		q->pci_policy = PICK(r, policies);
	}
}

static void draw_mixed(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	if (chance(r, 50))
		draw_dedicated(r, x, q);
	else
		draw_shared(r, x, q);
}

static void draw_cloud(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q)
{
	int p = (int)np__rng_below(r, 100);

	if (p < 35)
		draw_dedicated(r, x, q);
	else if (p < 70)
		draw_shared(r, x, q);
	else if (p < 85)
		draw_hugepages(r, x, q);
	else
		draw_pci(r, x, q);
}

static const struct np__gen_family families[] = {
	{ "small", "one-cell guests of 1-4 dedicated vCPUs", "", 16.0, false, false, draw_small },
	{ "dedicated", "dedicated vCPUs: 45 % one cell, 35 % two even cells, 20 % two uneven",
	  "", 16.0, false, false, draw_dedicated },
	{ "large2", "two-cell guests, each cell a quarter to three quarters of a node", "", 16.0,
	  false, false, draw_large2 },
	{ "large4", "four-cell (60 %) and two-cell guests on a two-socket host",
	  "nodes=8,sockets=2,dist=2level", 16.0, false, false, draw_large4 },
	{ "uneven", "two- and three-cell guests whose cells differ in size", "", 16.0, false,
	  false, draw_uneven },
	{ "shared", "floating vCPUs bound to one or two cells, 1-4 GiB per vCPU", "", 4.0, false,
	  false, draw_shared },
	{ "cpu-bound", "dedicated vCPUs with a quarter to half a node's memory per CPU", "", 16.0,
	  false, false, draw_cpu_bound },
	{ "mem-bound", "dedicated vCPUs with 2-4 times a node's memory per CPU", "", 16.0, false,
	  false, draw_mem_bound },
	{ "hugepages", "2 MiB (40 %), 1 GiB (30 %) or small pages; 25 % of memory in each pool",
	  "huge2m=25,huge1g=25", 16.0, false, false, draw_hugepages },
	{ "pci", "40 % ask for 1-2 NICs (required, preferred, legacy); NICs on every other node",
	  "nics=4,nic_every=2", 16.0, false, true, draw_pci },
	{ "mixed", "dedicated and floating guests on separate CPU sets", "shared=50", 4.0, false,
	  false, draw_mixed },
	{ "churn", "the dedicated mix, with guests leaving again", "", 16.0, true, false,
	  draw_dedicated },
	{ "cloud", "all kinds at once on a two-socket SMT host with huge pages and NICs",
	  "nodes=8,sockets=2,dist=2level,smt=2,shared=50,huge2m=25,nics=4,nic_every=2", 4.0,
	  false, true, draw_cloud },
};

const struct np__gen_family *np__gen_families(int *n)
{
	*n = (int)NP__ARRAY_SIZE(families);
	return families;
}

const struct np__gen_family *np__gen_family(const char *name)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(families); i++)
		if (strcmp(families[i].name, name) == 0)
			return &families[i];
	return NULL;
}

void np__gen_req_demand(const struct np__gen_req *q, int64_t d[NP__RES_COUNT])
{
	memset(d, 0, NP__RES_COUNT * sizeof(*d));
	for (int c = 0; c < q->ncells; c++) {
		d[q->shared ? NP__RES_VCPU : NP__RES_PCPU] += q->vcpus[c];
		d[NP__RES_MEM] += (int64_t)q->mem_mb[c];
		if (q->pagesize_kb == 2048)
			d[NP__RES_PAGE2M] += (int64_t)q->mem_mb[c] / 2;
		if (q->pagesize_kb == 1048576)
			d[NP__RES_PAGE1G] += (int64_t)q->mem_mb[c] / 1024;
	}
	d[NP__RES_NIC] = q->nics;
}
