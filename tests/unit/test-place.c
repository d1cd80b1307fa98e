/*
 * test-place.c - the placement engine and the independent validator.
 *
 * Hand-made hosts and requests for every policy (spread/pack, distances,
 * weighted distances, prefer/isolate/require pinning, emulator threads,
 * huge pages, allocation ratios, PCI affinity, memory policy and
 * fallback, guests without NUMA, pnode=, Nova's fit-cache defect,
 * explanations), a brute-force reference over thousands of seeded random
 * small cases (every injective map enumerated, with this file's own
 * per-cell check), validator refusals of hand-corrupted plans, and a
 * performance print (not a timed assertion).
 *
 * Every plan the engine returns goes through np_plan_validate(), and the
 * host is checked to be unchanged by np_place().
 */
#include <math.h>
#include <time.h>

#include <numaplace/place.h>

#include "check.h"
#include "plan/plan-int.h"
#include "request/request-int.h"
#include "topology/topo-int.h"

/* ---- building hosts and requests ------------------------------------------ */

struct dev {
	int node; /* os id, -1: none */
	unsigned product;
};

struct tspec {
	int n;		/* nodes, os ids 0..n-1 */
	int cpus;	/* per node */
	int threads;	/* per core */
	int per_socket; /* nodes per socket; 0: sockets unknown */
	uint64_t mem_mb;
	uint64_t huge2m;      /* 2 MiB pages per node (all free) */
	const uint32_t *dist; /* n x n, or NULL: 10/20 */
	int ndev;
	const struct dev *devs;
};

/* S, with per node MiB MEMS instead of s->mem_mb and free MiB FREES (each may be NULL). */
static np_topo *mk_topo_mem(const struct tspec *s, const uint64_t *mems, const uint64_t *frees)
{
	struct np_error err = {0};
	np__tb *b = np__tb_new(NP_SOURCE_JSON, "test");
	np_topo *t = NULL;
	char addr[32];

	for (int j = 0; j < s->n; j++) {
		np__tb_node(b, j, (mems ? mems[j] : s->mem_mb) * 1024);
		if (frees)
			np__tb_node_free(b, j, frees[j] * 1024);
		if (s->huge2m)
			np__tb_hugepages(b, j, 2048, s->huge2m, s->huge2m);
		for (int c = 0; c < s->cpus; c++) {
			int id = j * s->cpus + c;

			np__tb_cpu(b, id, j, id / (s->threads ? s->threads : 1),
				   s->per_socket ? j / s->per_socket : -1, true);
		}
		for (int k = 0; s->dist && k < s->n; k++)
			np__tb_distance(b, j, k, s->dist[j * s->n + k]);
	}
	for (int d = 0; d < s->ndev; d++) {
		snprintf(addr, sizeof(addr), "0000:%02x:00.0", (d + 1) & 0xff);
		np__tb_device(b, addr, 0x8086, s->devs[d].product, 0x020000, s->devs[d].node);
	}
	if (np__tb_finish(b, &t, &err))
		fprintf(stderr, "test topology: %s\n", err.message);
	return t;
}

static np_topo *mk_topo(const struct tspec *s)
{
	return mk_topo_mem(s, NULL, NULL);
}

static np_host *mk_host(const np_topo *t)
{
	struct np_error err = {0};
	np_host *h = NULL;

	if (!t || np_host_new(t, &h, &err))
		fprintf(stderr, "host: %s\n", err.message);
	return h;
}

struct cspec {
	int nv, np; /* floating and pinned vCPUs */
	uint64_t mem;
	long pagesize;
	int pnode; /* os id or -1 */
};

static np_request *mk_req(const struct cspec *c, int k, enum np_cpu_policy pol, bool numa)
{
	struct np_error err = {0};
	unsigned v = 0;
	uint64_t m = 0;
	int next = 0, ids[64];
	np_request *r;

	for (int i = 0; i < k; i++) {
		v += (unsigned)(c[i].nv + c[i].np);
		m += c[i].mem;
	}
	r = np__request_new(v, m);
	r->numa = numa;
	r->cpu_policy = pol;
	for (int i = 0; i < k; i++) {
		for (int x = 0; x < c[i].nv + c[i].np && x < 64; x++)
			ids[x] = next++;
		np__request_add_cell(r, ids, c[i].nv, ids + c[i].nv, c[i].np, c[i].mem,
				     c[i].pagesize, c[i].pnode);
	}
	CHECK(np__request_check(r, &err) == 0, "test request: %s", err.message);
	return r;
}

/* A fingerprint of everything np_place() must not change. */
static uint64_t host_hash(const np_host *h)
{
	uint64_t x = 1469598103934665603ULL;
	const np_topo *t = np_host_topo(h);

#define MIX(v) (x = (x ^ (uint64_t)(v)) * 1099511628211ULL)
	for (int j = 0; j < np_topo_node_count(t); j++) {
		const struct np_host_node *hn = np_host_node(h, j);

		MIX(hn->memory_used_mb);
		MIX(hn->cpu_usage);
		MIX(hn->npinned);
		for (int i = 0; i < hn->npinned; i++)
			MIX(hn->pinned[i]);
		for (int p = 0; p < hn->npools; p++)
			MIX(hn->pools[p].used);
	}
	for (int p = 0; p < np_host_pci_pool_count(h); p++)
		MIX(np_host_pci_pool(h, p)->used);
#undef MIX
	return x;
}

static int validations;

static np_plan *place_with(const np_host *h, const np_request *r, const struct np_place_opts *o)
{
	struct np_error err = {0};
	uint64_t before = host_hash(h);
	np_plan *p = NULL;
	int rc = np_place(h, r, o, &p, &err);

	CHECK(rc == 0 && p, "np_place: %d %s", rc, err.message);
	CHECK(host_hash(h) == before, "np_place changed the host");
	if (p && np_plan_fits(p)) {
		rc = np_plan_validate(h, r, p, &err);
		CHECK(rc == 0, "validator refuses an engine plan: %s", err.message);
		validations++;
	}
	return p;
}

static np_plan *place_opts(const np_host *h, const np_request *r, enum np_strategy st, bool explain,
			   uint64_t steps)
{
	struct np_place_opts o = {.strategy = st, .explain = explain, .max_steps = steps};

	return place_with(h, r, &o);
}

static np_plan *place(const np_host *h, const np_request *r)
{
	return place_opts(h, r, NP_STRATEGY_SPREAD, false, 0);
}

static int node_of(const np_plan *p, int guest_cell)
{
	for (int c = 0; p && c < np_plan_cell_count(p); c++)
		if (np_plan_cell(p, c)->guest_cell == guest_cell)
			return np_plan_cell(p, c)->node_idx;
	return -1;
}

static bool has_reason(const np_plan *p, enum np_resource res, const char *needle)
{
	for (int i = 0; i < np_plan_reason_count(p); i++)
		if (np_plan_reason(p, i)->resource == res &&
		    (!needle || strstr(np_plan_reason(p, i)->text, needle)))
			return true;
	return false;
}

/* ---- spread and pack ----------------------------------------------------- */

static void test_strategy(void)
{
	struct tspec s = {2, 8, 1, 1, 8192, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {2, 0, 1024, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_SHARED, true);
	struct cspec cd = {0, 2, 1024, 0, -1};
	np_request *rd = mk_req(&cd, 1, NP_CPU_POLICY_DEDICATED, true);
	np_plan *p;

	np_host_add_usage(h, 1, 4, 4096, (int[]){8, 9, 10, 11}, 4, NULL);
	p = place_opts(h, r, NP_STRATEGY_SPREAD, false, 0);
	CHECK(node_of(p, 0) == 0, "spread: the emptier node 0, got %d", node_of(p, 0));
	CHECK(np_plan_score(p)->max_distance == 10 && np_plan_score(p)->exact, "one node: 10");
	np_plan_free(p);
	p = place_opts(h, r, NP_STRATEGY_PACK, false, 0);
	CHECK(node_of(p, 0) == 1, "pack: the fuller node 1, got %d", node_of(p, 0));
	np_plan_free(p);
	p = place_opts(h, rd, NP_STRATEGY_SPREAD, false, 0);
	CHECK(node_of(p, 0) == 0 && np_plan_cell(p, 0)->pins[0].pcpu == 0, "pinned spread: node 0");
	np_plan_free(p);
	p = place_opts(h, rd, NP_STRATEGY_PACK, false, 0);
	CHECK(node_of(p, 0) == 1 && np_plan_cell(p, 0)->pins[0].pcpu == 12,
	      "pinned pack: node 1, first free CPU 12");
	np_plan_free(p);
	np_request_free(r);
	np_request_free(rd);
	np_host_free(h);
	np_topo_free(t);
}

/* ---- distances ------------------------------------------------------------- */

static const uint32_t D4[] = {10, 16, 32, 32, /* */ 16, 10, 32, 32, /* */
			      32, 32, 10, 12, /* */ 32, 32, 14, 10};

static void test_distance(void)
{
	struct tspec s = {4, 4, 1, 2, 4096, 0, D4, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c[2] = {{1, 0, 1024, 0, -1}, {1, 0, 1024, 0, -1}};
	np_request *r = mk_req(c, 2, NP_CPU_POLICY_SHARED, true);
	np_plan *p = place_opts(h, r, NP_STRATEGY_SPREAD, true, 0);
	const struct np_plan_score *sc = np_plan_score(p);

	CHECK(node_of(p, 0) == 2 && node_of(p, 1) == 3, "closest pair {2,3}: got %d,%d",
	      node_of(p, 0), node_of(p, 1));
	CHECK(sc->max_distance == 14 && sc->best_max_distance == 14 && sc->exact,
	      "asymmetric: the pair's distance is 14, the worse direction");
	CHECK(sc->sum_distance == 26, "weighted sum 1*1*(12+14), got %llu",
	      (unsigned long long)sc->sum_distance);
	CHECK(has_reason(p, NP_RES_DISTANCE, "{0,1}: distance 16"), "explains why not {0,1}");
	np_plan_free(p);
	/* Node 3 full: the best pair left is {0,1}, not 2 with a far node. */
	np_host_add_usage(h, 3, 0, 4096, NULL, 0, NULL);
	p = place(h, r);
	CHECK(node_of(p, 0) == 0 && node_of(p, 1) == 1 && np_plan_score(p)->max_distance == 16,
	      "node 3 full: {0,1} at 16");
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* The big cell goes in the middle: weights are vCPUs. */
static void test_weighted(void)
{
	static const uint32_t d[] = {10, 12, 12, 20, /* */ 12, 10, 20, 20, /* */
				     12, 20, 10, 20, /* */ 20, 20, 20, 10};
	struct tspec s = {4, 8, 1, 0, 8192, 0, d, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c[3] = {{1, 0, 512, 0, -1}, {1, 0, 512, 0, -1}, {4, 0, 512, 0, -1}};
	np_request *r = mk_req(c, 3, NP_CPU_POLICY_SHARED, true);
	np_plan *p = place(h, r);

	CHECK(node_of(p, 2) == 0, "the 4-vCPU cell on the central node 0, got %d", node_of(p, 2));
	CHECK(node_of(p, 0) == 1 && node_of(p, 1) == 2, "small cells on 1 and 2 (ids)");
	CHECK(np_plan_score(p)->sum_distance == 4 * 24 + 4 * 24 + 40, "sum 232, got %llu",
	      (unsigned long long)np_plan_score(p)->sum_distance);
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* ---- pinning --------------------------------------------------------------- */

static bool siblings(int a, int b)
{
	return a / 2 == b / 2;
}

static void test_prefer(void)
{
	struct tspec s = {1, 8, 2, 1, 8192, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {0, 4, 1024, 0, -1}, c2 = {0, 2, 1024, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_DEDICATED, true);
	np_request *r2 = mk_req(&c2, 1, NP_CPU_POLICY_DEDICATED, true);
	const struct np_plan_cell *pc;
	np_plan *p = place(h, r);

	pc = np_plan_cell(p, 0);
	CHECK(pc && pc->npins == 4 && siblings(pc->pins[0].pcpu, pc->pins[1].pcpu) &&
		  siblings(pc->pins[2].pcpu, pc->pins[3].pcpu) && pc->pins[0].pcpu == 0,
	      "prefer: consecutive vCPUs on sibling threads from CPU 0");
	np_plan_free(p);
	np_host_add_usage(h, 0, 0, 0, (int[]){1}, 1, NULL);
	p = place(h, r2);
	pc = np_plan_cell(p, 0);
	CHECK(pc && pc->pins[0].pcpu == 2 && pc->pins[1].pcpu == 3,
	      "prefer: a whole free core (2,3) before the half core 0");
	np_plan_free(p);
	/* Only half cores left: prefer falls back to single threads. */
	np_host_add_usage(h, 0, 0, 0, (int[]){3, 5, 7}, 3, NULL);
	p = place(h, r2);
	pc = np_plan_cell(p, 0);
	CHECK(pc && pc->pins[0].pcpu == 0 && pc->pins[1].pcpu == 2, "prefer fallback: 0 and 2");
	np_plan_free(p);
	np_request_free(r);
	np_request_free(r2);
	np_host_free(h);
	np_topo_free(t);
}

static void test_isolate_require(void)
{
	struct tspec s = {1, 8, 2, 1, 8192, 0, NULL, 0, NULL};
	struct tspec s1 = {1, 4, 1, 1, 8192, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s), *t1 = mk_topo(&s1);
	np_host *h = mk_host(t), *h1 = mk_host(t1);
	struct cspec c = {0, 2, 1024, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_DEDICATED, true);
	const struct np_plan_cell *pc;
	np_plan *p;

	r->thread_policy = NP_THREAD_POLICY_ISOLATE;
	np_host_add_usage(h, 0, 0, 0, (int[]){1}, 1, NULL);
	p = place(h, r);
	pc = np_plan_cell(p, 0);
	CHECK(pc && pc->pins[0].pcpu == 2 && pc->pins[1].pcpu == 4 && pc->nblocked == 2 &&
		  pc->blocked[0] == 3 && pc->blocked[1] == 5,
	      "isolate: first threads of whole free cores, siblings blocked");
	np_plan_free(p);
	/* Separate shared and dedicated CPUs on SMT: Nova refuses isolate. */
	np_host_set_cpus(h, 0, (int[]){6, 7}, 2, (int[]){0, 1, 2, 3, 4, 5}, 6, NULL);
	p = place_opts(h, r, NP_STRATEGY_SPREAD, true, 0);
	CHECK(!np_plan_fits(p) && has_reason(p, NP_RES_CORES, "isolate on SMT"),
	      "isolate with a dedicated set on SMT: no fit, explained");
	np_plan_free(p);
	r->thread_policy = NP_THREAD_POLICY_REQUIRE;
	p = place(h1, r);
	CHECK(!np_plan_fits(p), "require without SMT: no fit");
	np_plan_free(p);
	p = place(h, r);
	pc = np_plan_cell(p, 0);
	CHECK(np_plan_fits(p) && siblings(pc->pins[0].pcpu, pc->pins[1].pcpu),
	      "require: a sibling pair");
	np_plan_free(p);
	np_host_add_usage(h, 0, 0, 0, (int[]){2, 4}, 2, NULL); /* one free thread per core */
	p = place(h, r);
	CHECK(!np_plan_fits(p), "require: only lone threads left, no fit");
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_host_free(h1);
	np_topo_free(t);
	np_topo_free(t1);
}

static void test_emulator(void)
{
	struct tspec s = {2, 4, 1, 1, 8192, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c[2] = {{0, 2, 1024, 0, -1}, {0, 2, 1024, 0, -1}};
	np_request *r = mk_req(c, 2, NP_CPU_POLICY_DEDICATED, true);
	const struct np_plan_cell *pc;
	np_plan *p;

	r->emulator_policy = NP_EMULATOR_POLICY_ISOLATE;
	np_host_add_usage(h, 0, 0, 0, (int[]){0, 1}, 2, NULL); /* node 0: 2 free */
	np_host_add_usage(h, 1, 0, 0, (int[]){4}, 1, NULL);    /* node 1: 3 free */
	p = place(h, r);
	pc = np_plan_cell(p, 0);
	CHECK(node_of(p, 0) == 1 && pc && pc->nreserved == 1 && pc->reserved[0] == 7,
	      "cell 0 (with the emulator CPU) on node 1, reserving CPU 7");
	CHECK(np_plan_cell(p, 1) && np_plan_cell(p, 1)->nreserved == 0, "cell 1 reserves nothing");
	np_plan_free(p);
	np_host_add_usage(h, 1, 0, 0, (int[]){5}, 1, NULL);
	p = place(h, r);
	CHECK(!np_plan_fits(p), "no node has 3 free: no fit");
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* ---- memory ----------------------------------------------------------------- */

static void test_pages(void)
{
	struct tspec s = {2, 4, 1, 1, 4096, 1024, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {1, 0, 1024, 2048, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_SHARED, true);
	np_plan *p;

	np_host_add_pages_used(h, 0, 2048, 924, NULL); /* node 0: 100 free, node 1: 1024 */
	p = place_opts(h, r, NP_STRATEGY_SPREAD, true, 0);
	CHECK(node_of(p, 0) == 1 && np_plan_cell(p, 0)->pagesize_kb == 2048, "2 MiB pages: node 1");
	CHECK(has_reason(p, NP_RES_PAGES, "512 pages asked, 100 available"),
	      "why not node 0: 512 pages asked, 100 free");
	np_plan_free(p);
	r->cells[0].pagesize = NP_PAGESIZE_LARGE;
	p = place(h, r);
	CHECK(node_of(p, 0) == 1 && np_plan_cell(p, 0)->pagesize_kb == 2048, "large: 2 MiB");
	np_plan_free(p);
	r->cells[0].pagesize = NP_PAGESIZE_SMALL;
	p = place(h, r);
	CHECK(np_plan_fits(p) && np_plan_cell(p, 0)->pagesize_kb == 4, "small: 4 KiB");
	np_plan_free(p);
	r->cells[0].pagesize = 1048576;
	p = place_opts(h, r, NP_STRATEGY_SPREAD, true, 0);
	CHECK(!np_plan_fits(p) && has_reason(p, NP_RES_PAGESIZE, NULL), "1 GiB pages: none");
	np_plan_free(p);
	r->cells[0].pagesize = 2048;
	r->cells[0].memory_mb = r->memory_mb = 4096;
	p = place(h, r);
	CHECK(!np_plan_fits(p), "huge pages never over-commit: 2048 pages asked, 1024");
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

static void test_limits(void)
{
	struct tspec s = {1, 4, 1, 1, 4096, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {2, 0, 3072, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_SHARED, true);
	np_plan *p;

	np_host_add_usage(h, 0, 3, 2048, NULL, 0, NULL);
	p = place(h, r);
	CHECK(!np_plan_fits(p), "ram ratio 1.0: 2048 + 3072 > 4096");
	np_plan_free(p);
	np_host_set_limits(h, true, 1.0, 1.5);
	p = place_opts(h, r, NP_STRATEGY_SPREAD, true, 0);
	CHECK(!np_plan_fits(p) && has_reason(p, NP_RES_VCPUS, "2 vCPUs asked, 1 available"),
	      "cpu ratio 1.0: 3 + 2 vCPUs > 4 CPUs");
	np_plan_free(p);
	np_host_set_limits(h, true, 2.0, 1.5);
	p = place(h, r);
	CHECK(np_plan_fits(p), "ratios 2.0 and 1.5: fits");
	np_plan_free(p);
	np_host_set_limits(h, false, 1.0, 1.0);
	p = place(h, r);
	CHECK(np_plan_fits(p), "no limits: no over-commit check (Nova without limits)");
	np_plan_free(p);
	r->cells[0].memory_mb = r->memory_mb = 5000;
	p = place(h, r);
	CHECK(!np_plan_fits(p), "never over-commit against itself: 5000 MiB on 4096");
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* ---- PCI ------------------------------------------------------------------- */

static const struct dev NIC[] = {{3, 0x10}, {-1, 0x10}};

static np_plan *pci_case(np_host *h, enum np_pci_policy pol, bool explain)
{
	struct cspec c = {1, 0, 3072, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_SHARED, true);
	struct np_pci_request q = {"nic", 0x8086, 0x10, 1, pol, ""};
	np_plan *p;

	np__request_add_pci(r, &q);
	p = place_opts(h, r, NP_STRATEGY_SPREAD, explain, 0);
	np_request_free(r);
	return p;
}

static int pool_used(const np_plan *p, const np_host *h, int node)
{
	for (int i = 0; i < np_plan_pci_count(p); i++)
		if (np_host_pci_pool(h, np_plan_pci(p, i)->pool)->node_idx == node)
			return np_plan_pci(p, i)->count;
	return 0;
}

static void test_pci(void)
{
	struct tspec s = {4, 4, 1, 2, 4096, 0, D4, 2, NIC};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {1, 0, 1024, 0, -1};
	np_request *plain = mk_req(&c, 1, NP_CPU_POLICY_SHARED, true);
	np_plan *p;

	p = pci_case(h, NP_PCI_POLICY_REQUIRED, false);
	CHECK(node_of(p, 0) == 3 && pool_used(p, h, 3) == 1 && np_plan_score(p)->device_misses == 0,
	      "required: on the NIC's node 3");
	np_plan_free(p);
	p = place(h, plain);
	CHECK(node_of(p, 0) == 0, "no PCI asked: keeps node 3 free, got %d", node_of(p, 0));
	np_plan_free(p);
	np_host_add_usage(h, 3, 0, 2048, NULL, 0, NULL); /* node 3 cannot hold 3 GiB now */
	p = pci_case(h, NP_PCI_POLICY_REQUIRED, true);
	CHECK(!np_plan_fits(p) && has_reason(p, NP_RES_PCI, NULL), "required: no fit, explained");
	np_plan_free(p);
	p = pci_case(h, NP_PCI_POLICY_LEGACY, false);
	CHECK(np_plan_fits(p) && pool_used(p, h, -1) == 1 && np_plan_score(p)->device_misses == 1,
	      "legacy: the device without NUMA node");
	np_plan_free(p);
	p = pci_case(h, NP_PCI_POLICY_SOCKET, false);
	CHECK(node_of(p, 0) == 2 && pool_used(p, h, 3) == 1, "socket: node 2 shares 3's socket");
	np_plan_free(p);
	np_host_set_pci_pools(h, (struct np_pci_pool[]){{3, 0x8086, 0x10, 1, 0}}, 1, NULL);
	p = pci_case(h, NP_PCI_POLICY_LEGACY, false);
	CHECK(!np_plan_fits(p), "legacy without a NUMA-less device: no fit");
	np_plan_free(p);
	p = pci_case(h, NP_PCI_POLICY_PREFERRED, false);
	CHECK(np_plan_fits(p) && pool_used(p, h, 3) == 1 && np_plan_score(p)->device_misses == 1,
	      "preferred: any device, one miss");
	np_plan_free(p);
	np_request_free(plain);
	np_host_free(h);
	np_topo_free(t);
}

/* ---- PCI devices named by address ---------------------------------------- */

static const struct dev TWO_NICS[] = {{3, 0x10}, {1, 0x10}}; /* 0000:01:00.0 on 3, 02:00.0 on 1 */

/* A guest of one cell of MEM MiB (NUMA or not) asking for the device at ADDR with POL. */
static np_request *addr_req(const char *addr, enum np_pci_policy pol, uint64_t mem, bool numa)
{
	struct cspec c = {1, 0, mem, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_SHARED, numa);
	struct np_pci_request q = {.count = 1, .policy = pol};

	snprintf(q.address, sizeof(q.address), "%s", addr);
	np__request_add_pci(r, &q);
	return r;
}

static np_plan *addr_case(const np_host *h, const char *addr, enum np_pci_policy pol, bool numa)
{
	np_request *r = addr_req(addr, pol, 3072, numa);
	np_plan *p = place(h, r);

	np_request_free(r);
	return p;
}

static void test_pci_address(void)
{
	struct tspec s = {4, 4, 1, 2, 4096, 0, D4, 2, TWO_NICS};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct np_error err = {0};
	np_request *r;
	np_plan *p = NULL;

	p = addr_case(h, "0000:02:00.0", NP_PCI_POLICY_PREFERRED, true);
	CHECK(node_of(p, 0) == 1 && pool_used(p, h, 1) == 1 && pool_used(p, h, 3) == 0,
	      "preferred: on node 1, that device's, not on the same model's node 3");
	np_plan_free(p);
	p = addr_case(h, "02:00.0", NP_PCI_POLICY_REQUIRED, true);
	CHECK(node_of(p, 0) == 1 && np_plan_score(p)->device_misses == 0,
	      "required, the address without its domain: node 1");
	np_plan_free(p);
	p = addr_case(h, "0000:01:00.0", NP_PCI_POLICY_PREFERRED, false);
	CHECK(node_of(p, 0) == 3 && pool_used(p, h, 3) == 1,
	      "a guest without NUMA goes to its device's node too");
	np_plan_free(p);
	np_host_add_usage(h, 1, 0, 2048, NULL, 0, NULL); /* node 1 cannot hold 3 GiB now */
	p = addr_case(h, "0000:02:00.0", NP_PCI_POLICY_REQUIRED, true);
	CHECK(p && !np_plan_fits(p), "required: node 1 is full, no fit (the other NIC is no help)");
	np_plan_free(p);
	p = addr_case(h, "0000:02:00.0", NP_PCI_POLICY_PREFERRED, true);
	CHECK(np_plan_fits(p) && node_of(p, 0) != 1 && pool_used(p, h, 1) == 1 &&
		      np_plan_score(p)->device_misses == 1,
	      "preferred: elsewhere, still that device, one miss");
	np_plan_free(p);
	p = NULL;
	r = addr_req("0000:07:00.0", NP_PCI_POLICY_PREFERRED, 1024, true);
	CHECK(np_place(h, r, NULL, &p, &err) == NP_EINPUT && !p &&
		      strstr(err.message, "PCI device 0000:07:00.0 is not on this host"),
	      "an address the host lacks: bad input (%s)", err.message);
	np__request_add_pci(r, &(struct np_pci_request){"nic", 0x8086, 0x10, 1,
							 NP_PCI_POLICY_LEGACY, ""});
	snprintf(r->pci[0].address, sizeof(r->pci[0].address), "0000:01:00.0");
	CHECK(np_place(h, r, NULL, &p, &err) == NP_EINPUT && !p && strstr(err.message, "both"),
	      "one model by address and by count: refused (%s)", err.message);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* The validator knows which device an address names. */
static void test_pci_address_validator(void)
{
	struct tspec s = {4, 4, 1, 2, 4096, 0, D4, 2, TWO_NICS};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	np_request *r = addr_req("0000:02:00.0", NP_PCI_POLICY_REQUIRED, 1024, true);
	struct np_error err = {0};
	np_plan *p = place(h, r);
	int other = -1;

	for (int i = 0; i < np_host_pci_pool_count(h); i++)
		if (np_host_pci_pool(h, i)->node_idx == 3)
			other = i;
	CHECK(p && np_plan_fits(p) && p->npci == 1 && other >= 0, "placed");
	if (p && p->npci == 1 && other >= 0) {
		p->pci[0].pool = other; /* the same model, on node 3: not the device asked for */
		CHECK(np_plan_validate(h, r, p, &err) == NP_EINPUT,
		      "the same model elsewhere is not the device named");
	}
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* ---- memory policy, affinity ---------------------------------------------- */

static void test_mempolicy(void)
{
	static const uint32_t d[] = {10, 21, 31, 21, /* */ 21, 10, 21, 31, /* */
				     31, 21, 10, 21, /* */ 21, 31, 21, 10};
	struct tspec s = {4, 4, 1, 0, 4096, 0, d, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {1, 0, 1024, 0, 2};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_SHARED, true);
	struct np_place_opts o = {.mem_policy_set = true, .mem_policy = NP_MEM_POLICY_PREFERRED,
				  .affinity_set = true, .affinity = NP_AFFINITY_SOFT};
	struct np_error err = {0};
	const int *fb, *ns;
	np_plan *p;

	p = place_with(h, r, &o);
	CHECK(np_plan_fallback(p, &fb) == 3 && fb[0] == 1 && fb[1] == 3 && fb[2] == 0,
	      "preferred on node 2: fallback 1, 3 (21, by id), then 0 (31)");
	CHECK(np_plan_nodeset(p, &ns) == 1 && ns[0] == 2, "node set {2}");
	CHECK(np_plan_mem_policy(p) == NP_MEM_POLICY_PREFERRED &&
		  np_plan_affinity(p) == NP_AFFINITY_SOFT,
	      "policy and affinity from the options");
	CHECK(np_request_mem_policy(r) == NP_MEM_POLICY_STRICT &&
		  np_request_affinity(r) == NP_AFFINITY_HARD,
	      "the options leave the request alone");
	np_plan_free(p);
	p = place(h, r);
	CHECK(np_plan_fallback(p, &fb) == 0 && np_plan_mem_policy(p) == NP_MEM_POLICY_STRICT &&
		  np_plan_affinity(p) == NP_AFFINITY_HARD,
	      "no options: the request's own, strict and hard; no fallback");
	np_plan_free(p);
	/* A request whose source carries a policy (JSON, Nova's numaplace: specs, xl). */
	r->mem_policy = NP_MEM_POLICY_INTERLEAVE;
	r->affinity = NP_AFFINITY_SOFT;
	p = place(h, r);
	CHECK(np_plan_mem_policy(p) == NP_MEM_POLICY_INTERLEAVE &&
		  np_plan_affinity(p) == NP_AFFINITY_SOFT,
	      "unset options keep the request's own policy");
	np_plan_free(p);
	o.affinity_set = false;
	p = place_with(h, r, &o);
	CHECK(np_plan_mem_policy(p) == NP_MEM_POLICY_PREFERRED &&
		  np_plan_affinity(p) == NP_AFFINITY_SOFT,
	      "each option overrides on its own");
	np_plan_free(p);
	p = NULL;
	o.mem_policy = (enum np_mem_policy)7;
	CHECK(np_place(h, r, &o, &p, &err) == NP_EINPUT && !p && strstr(err.message, "policy"),
	      "an unknown memory policy is refused: %s", err.message);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/*
 * The caller's demand (term 6) comes before half-free resources (7), and
 * without it the answer is the one before; shapes out of range are
 * refused.  Node 0 keeps 2 of 4 CPUs free, node 1 3 of 4 (2 and 3 whole).
 */
static void test_demand(void)
{
	np_topo *t = mk_topo(&(struct tspec){4, 4, 1, 2, 4096, 0, NULL, 0, NULL});
	np_host *h = mk_host(t);
	np_request *r = mk_req((struct cspec[]){{0, 1, 512, NP_PAGESIZE_UNSET, -1}}, 1,
			       NP_CPU_POLICY_DEDICATED, true);
	struct np_demand d = {3, 0, 512, 0, 1.0};
	struct np_place_opts o = {.demand = &d, .ndemand = 1};
	struct np_error err = {0};
	np_plan *p = NULL;

	np_host_add_usage(h, 0, 0, 0, (int[]){0, 1}, 2, NULL);
	np_host_add_usage(h, 1, 0, 0, (int[]){4}, 1, NULL);
	p = place(h, r);
	CHECK(node_of(p, 0) == 1, "no demand: node 1 keeps half its CPUs free (node %d)",
	      node_of(p, 0));
	np_plan_free(p);
	p = place_with(h, r, &o);
	CHECK(node_of(p, 0) == 0, "demand for 3-CPU cells: node 1 keeps room for one (node %d)",
	      node_of(p, 0));
	np_plan_free(p);
	d.weight = 0;
	p = place_with(h, r, &o);
	CHECK(node_of(p, 0) == 1, "a shape weighing 0 is no demand (node %d)", node_of(p, 0));
	np_plan_free(p);
	static const struct np_demand bad[] = {
	    {-1, 1, 512, 0, 1}, {0, 0, 512, 0, 1}, {1, 0, 0, 0, 1}, {1, 0, 512, 0, -1},
	    {1, 0, 512, 0, 1001}, {1, 0, 512, 0, 0.0 / 0.0}, {1, 0, (UINT64_C(1) << 40) + 1, 0, 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.demand = &bad[i];
		p = NULL;
		CHECK(np_place(h, r, &o, &p, &err) == NP_EINPUT && !p &&
			  strstr(err.message, "demand shape 0"),
		      "bad demand shape %zu refused: %s", i, err.message);
	}
	o.demand = NULL;
	CHECK(np_place(h, r, &o, &p, &err) == NP_EINPUT && !p, "shapes without a list refused");
	o.demand = &d;
	o.ndemand = NP_DEMAND_MAX + 1;
	CHECK(np_place(h, r, &o, &p, &err) == NP_EINPUT && !p, "too many shapes refused");
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/*
 * A flavor catalogue as demand (np_demand_add_flavors()): each cell of
 * each flavor at TOTAL x its share, equal cells merged; and on test_demand's
 * host, a catalogue of 3-CPU guests keeps node 1's room as the demand did.
 */
static void test_demand_flavors(void)
{
	static const char cat[] =
		"[{\"vcpus\": 3, \"memory_mb\": 512, \"weight\": 3, \"extra_specs\": "
		"{\"hw:cpu_policy\": \"dedicated\"}}, {\"vcpus\": 6, \"memory_mb\": 1024, "
		"\"extra_specs\": {\"hw:cpu_policy\": \"dedicated\", \"hw:numa_nodes\": \"2\"}}]";
	np_topo *t = mk_topo(&(struct tspec){4, 4, 1, 2, 4096, 0, NULL, 0, NULL});
	np_host *h = mk_host(t);
	np_request *r = mk_req((struct cspec[]){{0, 1, 512, NP_PAGESIZE_UNSET, -1}}, 1,
			       NP_CPU_POLICY_DEDICATED, true);
	struct np_demand dem[NP_DEMAND_MAX];
	struct np_place_opts o = {.demand = dem};
	struct np_error err = {0};
	np_flavors *f = NULL;
	np_plan *p;
	int n;

	CHECK(np_flavors_parse(cat, strlen(cat), NULL, &f, &err) == 0, "catalogue: %s",
	      err.message);
	n = np_demand_add_flavors(dem, 0, f, 10);
	CHECK(n == 1 && dem[0].pinned == 3 && dem[0].memory_mb == 512 &&
		  fabs(dem[0].weight - 12.5) < 1e-12,
	      "both flavors' cells are 3 CPUs and 512 MiB: one shape of 7.5 + 2 cells x 2.5 (%d, %g)",
	      n, n ? dem[0].weight : 0);
	CHECK(np_demand_add_flavors(dem, 0, f, 0) == 0 && np_demand_add_flavors(dem, 0, f, 1001) == 0 &&
		  np_demand_add_flavors(dem, 0, NULL, 10) == 0,
	      "no weight, too much weight or no catalogue: nothing added");
	np_host_add_usage(h, 0, 0, 0, (int[]){0, 1}, 2, NULL);
	np_host_add_usage(h, 1, 0, 0, (int[]){4}, 1, NULL);
	o.ndemand = np_demand_add_flavors(dem, 0, f, NP_DEMAND_FLAVORS_WEIGHT);
	p = place_with(h, r, &o);
	CHECK(node_of(p, 0) == 0, "the catalogue's 3-CPU cells: node 1 keeps room for one (node %d)",
	      node_of(p, 0));
	np_plan_free(p);
	np_flavors_free(f);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/*
 * The demand helpers (lib/place/demand.c): the weights of the recency
 * rule, shapes merged and their weight capped, a request's page sizes as
 * shapes, a plan's cells, at most NP_DEMAND_MAX shapes (np_place() takes
 * a full list), out-of-range shapes left out.
 */
static void test_demand_helpers(void)
{
	np_topo *t = mk_topo(&(struct tspec){4, 4, 1, 2, 4096, 0, NULL, 0, NULL});
	np_host *h = mk_host(t);
	np_request *a = mk_req((struct cspec[]){{0, 2, 512, NP_PAGESIZE_UNSET, -1}}, 1,
			       NP_CPU_POLICY_DEDICATED, true);
	np_request *b = mk_req((struct cspec[]){{1, 0, 256, NP_PAGESIZE_LARGE, -1},
						{1, 0, 256, 1048576, -1}},
			       2, NP_CPU_POLICY_SHARED, true);
	const np_request *seq[] = {a, b, NULL, a};
	struct np_demand *dem = calloc(NP_DEMAND_MAX, sizeof(*dem));
	struct np_place_opts o = {0};
	np_plan *p = NULL;
	int n;

	CHECK(np_demand_weight(0) == 1 && np_demand_weight(-3) == 1 &&
		  np_demand_weight(2) == NP_DEMAND_DECAY * NP_DEMAND_DECAY &&
		  np_demand_weight(100000) == 0,
	      "weights: 1 now, 0.9 per arrival since, 0 very long ago");
	n = np_demand_from_requests(seq, 4, dem);
	/* a at ages 3 and 0, b at age 2, a guest without cells at age 1 */
	CHECK(n == 3 && dem[0].pinned == 2 && dem[0].memory_mb == 512 && dem[0].pagesize_kb == 0 &&
		  fabs(dem[0].weight - (1 + 0.729)) < 1e-12,
	      "a's shape once, weighing 1 + 0.9^3 (%d shapes, %g)", n, dem[0].weight);
	CHECK(dem[1].floating == 1 && dem[1].pagesize_kb == 2048 && dem[2].pagesize_kb == 1048576 &&
		  fabs(dem[1].weight - 0.81) < 1e-12,
	      "b's cells: large pages as 2 MiB, 1 GiB as asked, weighing 0.81");
	for (int i = 0; i < 5; i++)
		n = np_demand_add(dem, n, &(struct np_demand){2, 0, 512, 0, 400});
	CHECK(n == 3 && dem[0].weight == 1000, "merged weights stop at 1000 (%g)", dem[0].weight);
	n = np_demand_add(dem, n, &(struct np_demand){0, 0, 512, 0, 1});
	n = np_demand_add(dem, n, &(struct np_demand){1, 0, 0, 0, 1});
	n = np_demand_add(dem, n, &(struct np_demand){1, 0, 512, 0, 0.0 / 0.0});
	n = np_demand_add(dem, n, &(struct np_demand){1, 0, 512, 0, 0});
	CHECK(n == 3, "no vCPU, no memory, NaN or 0 weight: left out (%d)", n);
	p = place(h, a);
	n = np_demand_add_plan(dem, 0, p, 0.5);
	CHECK(n == 1 && dem[0].pinned == 2 && dem[0].floating == 0 && dem[0].memory_mb == 512 &&
		  dem[0].weight == 0.5,
	      "a plan's cell: its pins and memory");
	np_plan_free(p);
	for (int i = 0; i < NP_DEMAND_MAX + 10; i++)
		n = np_demand_add(dem, n, &(struct np_demand){1, 0, (uint64_t)i + 1, 0, 1});
	CHECK(n == NP_DEMAND_MAX, "bounded: %d shapes (NP_DEMAND_MAX %d)", n, NP_DEMAND_MAX);
	o.demand = dem;
	o.ndemand = n;
	p = place_with(h, a, &o);
	CHECK(p && np_plan_fits(p), "np_place() takes a full demand");
	np_plan_free(p);
	free(dem);
	np_request_free(a);
	np_request_free(b);
	np_host_free(h);
	np_topo_free(t);
}

/*
 * A memory-less node is never a fallback (it was listed before the rule
 * moved to lib/topology/fallback.c): node 1 has CPUs but no memory.
 */
static void test_fallback_memoryless(void)
{
	np__tb *b = np__tb_new(NP_SOURCE_JSON, "test");
	struct np_place_opts o = {.mem_policy_set = true, .mem_policy = NP_MEM_POLICY_PREFERRED};
	struct cspec c = {1, 0, 1024, 0, 2};
	struct np_error err = {0};
	np_topo *t = NULL;
	np_request *r;
	np_host *h;
	const int *fb;
	np_plan *p;

	for (int j = 0; j < 3; j++) {
		np__tb_node(b, j, j == 1 ? 0 : 4096 * 1024);
		np__tb_cpu(b, j, j, j, 0, true);
	}
	if (np__tb_finish(b, &t, &err)) {
		CHECK(0, "memory-less topology: %s", err.message);
		return;
	}
	h = mk_host(t);
	r = mk_req(&c, 1, NP_CPU_POLICY_SHARED, true);
	p = place_with(h, r, &o);
	CHECK(p && np_plan_fits(p) && node_of(p, 0) != 1, "placed on a node with memory");
	CHECK(p && np_plan_fallback(p, &fb) == 1 && fb[0] == 2 - node_of(p, 0),
	      "fallback: the other node with memory only, not node 1");
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* ---- guests without NUMA, pnode= --------------------------------------------- */

static void test_flat(void)
{
	static const uint32_t d[] = {10, 20, 30, 30, /* */ 20, 10, 30, 30, /* */
				     30, 30, 10, 12, /* */ 30, 30, 12, 10};
	struct tspec s = {4, 4, 1, 0, 4096, 0, d, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {4, 0, 2048, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_NONE, false);
	uint64_t mem = 0;
	int vc = 0;
	np_plan *p = place(h, r);

	CHECK(np_plan_fits(p) && np_plan_cell_count(p) == 1, "fits on one node: one cell");
	np_plan_free(p);
	r->cells[0].memory_mb = r->memory_mb = 6144;
	p = place(h, r);
	CHECK(np_plan_fits(p) && np_plan_cell_count(p) == 2, "6 GiB: split over two nodes");
	for (int i = 0; i < np_plan_cell_count(p); i++) {
		mem += np_plan_cell(p, i)->memory_mb;
		vc += np_plan_cell(p, i)->nfloat;
		CHECK(np_plan_cell(p, i)->node_idx >= 2, "the closest pair {2,3}");
	}
	CHECK(mem == 6144 && vc == 4, "memory and vCPUs split in full");
	CHECK(np_plan_score(p)->max_distance == 12, "distance 12");
	np_plan_free(p);
	r->cells[0].memory_mb = r->memory_mb = 10000;
	p = place(h, r);
	CHECK(np_plan_fits(p) && np_plan_cell_count(p) == 3, "10000 MiB: three nodes");
	np_plan_free(p);
	r->cells[0].memory_mb = r->memory_mb = 20000;
	p = place(h, r);
	CHECK(!np_plan_fits(p), "more than the host: no fit");
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* The node indexes whose CPUs are in plan cell C's cpuset. */
static unsigned cpuset_nodes(const np_topo *t, const struct np_plan_cell *c)
{
	unsigned m = 0;

	for (int i = 0; i < c->ncpuset; i++)
		m |= 1u << np_topo_cpu(t, np_topo_cpu_index(t, c->cpuset[i]))->node_idx;
	return m;
}

/* Every vCPU of a plan floats over exactly the nodes its memory is on. */
static void check_agree(const np_topo *t, const np_plan *p, const char *what)
{
	const int *nodes;
	int nn = np_plan_nodeset(p, &nodes);
	unsigned mem = 0;

	for (int i = 0; i < nn; i++)
		mem |= 1u << nodes[i];
	for (int c = 0; c < np_plan_cell_count(p); c++)
		if (np_plan_cell(p, c)->nfloat)
			CHECK(cpuset_nodes(t, np_plan_cell(p, c)) == mem,
			      "%s: plan cell %d's vCPUs on nodes %#x, memory on %#x", what, c,
			      cpuset_nodes(t, np_plan_cell(p, c)), mem);
}

/*
 * Guests without NUMA topology larger than a node: never refused while the
 * host has room, with vCPU and memory nodes agreeing (the tester's 12 vCPUs
 * with 4 GiB, and 4 vCPUs with 40000 MiB, on 8-CPU 16 GiB nodes).
 */
static void test_flat_room(void)
{
	struct tspec s = {4, 8, 1, 0, 16384, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {12, 0, 4096, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_NONE, false);
	struct np_place_opts tiny = {.max_steps = 1};
	const int *nodes;
	uint64_t mem = 0;
	int floats = 0;
	np_plan *p = place(h, r);

	CHECK(np_plan_fits(p) && np_plan_cell_count(p) == 2, "12 vCPUs, 4 GiB: two nodes");
	for (int i = 0; i < np_plan_cell_count(p); i++) {
		mem += np_plan_cell(p, i)->memory_mb;
		floats += np_plan_cell(p, i)->nfloat;
		CHECK(np_plan_cell(p, i)->ncpuset == 16, "every vCPU floats over both nodes' CPUs");
	}
	CHECK(mem == 4096 && floats == 12, "split in full: %llu MiB, %d vCPUs",
	      (unsigned long long)mem, floats);
	check_agree(t, p, "12 vCPUs");
	np_plan_free(p);
	np_request_free(r);

	c = (struct cspec){4, 0, 40000, 0, -1};
	r = mk_req(&c, 1, NP_CPU_POLICY_NONE, false);
	p = place(h, r);
	CHECK(np_plan_fits(p) && np_plan_nodeset(p, &nodes) == 3, "40000 MiB: three nodes");
	check_agree(t, p, "40000 MiB");
	np_plan_free(p);

	/* The budget runs out before any set: the whole host, still valid. */
	p = place_with(h, r, &tiny);
	CHECK(np_plan_fits(p) && !np_plan_score(p)->exact && np_plan_nodeset(p, &nodes) == 4,
	      "budget out: floats over the whole host");
	check_agree(t, p, "whole host");
	np_plan_free(p);

	/* A node over its CPU ratio is charged no vCPUs; the others still hold it. */
	np_host_add_usage(h, 0, 8 * 16 + 1, 0, NULL, 0, NULL);
	p = place(h, r);
	CHECK(np_plan_fits(p), "node 0 over its ratio: still fits");
	for (int i = 0; i < np_plan_cell_count(p); i++)
		CHECK(np_plan_cell(p, i)->node_idx != 0 || np_plan_cell(p, i)->nfloat == 0,
		      "no vCPU charged on node 0");
	np_plan_free(p);
	np_request_free(r);
	/* Every node over its CPU ratio but one: 12 vCPUs still float over 16 CPUs. */
	np_host_add_usage(h, 1, 8 * 16 + 1, 0, NULL, 0, NULL);
	np_host_add_usage(h, 2, 8 * 16 + 1, 0, NULL, 0, NULL);
	c = (struct cspec){12, 0, 1024, 0, -1};
	r = mk_req(&c, 1, NP_CPU_POLICY_NONE, false);
	p = place(h, r);
	CHECK(np_plan_fits(p) && np_plan_nodeset(p, &nodes) == 2, "floats over node 3 and one more");
	for (int i = 0; i < np_plan_cell_count(p); i++)
		CHECK(np_plan_cell(p, i)->nfloat == 0 || np_plan_cell(p, i)->node_idx == 3,
		      "vCPUs charged on node 3 only");
	check_agree(t, p, "over-committed nodes");
	np_plan_free(p);
	np_request_free(r);

	/* More than the host: the reason names the resource, with the amounts. */
	c = (struct cspec){4, 0, 70000, 0, -1};
	r = mk_req(&c, 1, NP_CPU_POLICY_NONE, false);
	p = place(h, r);
	CHECK(!np_plan_fits(p) && np_plan_no_fit_summary(p) &&
		  strstr(np_plan_no_fit_summary(p), "memory falls short") &&
		  strstr(np_plan_no_fit_summary(p), "70000 MiB asked, 65536 MiB"),
	      "too much memory: %s", np_plan_no_fit_summary(p));
	np_plan_free(p);
	np_request_free(r);
	c = (struct cspec){40, 0, 4096, 0, -1};
	r = mk_req(&c, 1, NP_CPU_POLICY_NONE, false);
	p = place(h, r);
	CHECK(!np_plan_fits(p) && strstr(np_plan_no_fit_summary(p), "40 vCPUs asked, 32 shared"),
	      "too many vCPUs: %s", np_plan_no_fit_summary(p));
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* Memory basis free: what the host reports free counts too; total ignores it. */
static void test_memory_basis(void)
{
	static const uint64_t frees[] = {4096, 8000}, none[] = {8192, 8192};
	struct tspec s = {2, 4, 1, 0, 8192, 0, NULL, 0, NULL};
	np_topo *t = mk_topo_mem(&s, NULL, frees), *t2;
	np_host *h = mk_host(t), *h2;
	struct cspec c = {2, 0, 6144, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_SHARED, true);
	struct np_error err = {0};
	np_plan *p, *q;

	CHECK(np_host_memory_basis(h) == NP_MEMORY_BASIS_TOTAL, "JSON-built host: basis total");
	p = place(h, r);
	CHECK(np_plan_fits(p) && node_of(p, 0) == 0 &&
		  np_plan_memory_basis(p) == NP_MEMORY_BASIS_TOTAL,
	      "total: node 0 holds 6144 MiB although it reports 4096 free");
	CHECK(np_host_set_memory_basis(h, NP_MEMORY_BASIS_FREE, &err) == 0, "free: %s",
	      err.message);
	/* The plan made with basis total breaks the free rule: the validator says so. */
	CHECK(np_plan_validate(h, r, p, &err) == NP_EINPUT && strstr(err.message, "free"),
	      "validator under basis free: %s", err.message);
	q = place_opts(h, r, NP_STRATEGY_SPREAD, true, 0);
	CHECK(np_plan_fits(q) && node_of(q, 0) == 1 &&
		  np_plan_memory_basis(q) == NP_MEMORY_BASIS_FREE,
	      "free: node 1 (8000 free), not node 0 (4096 free)");
	CHECK(has_reason(q, NP_RES_MEMORY, "6144 MiB asked, 4096 available (free memory the node "
					   "reports"),
	      "the reason says the free memory");
	np_plan_free(p);
	np_plan_free(q);
	/* Pinned guests too. */
	np_request_free(r);
	c = (struct cspec){0, 2, 8100, 0, -1};
	r = mk_req(&c, 1, NP_CPU_POLICY_DEDICATED, true);
	p = place(h, r);
	CHECK(!np_plan_fits(p) && strstr(np_plan_no_fit_summary(p), "8100 MiB asked, at most 8000"),
	      "pinned, basis free: %s", np_plan_no_fit_summary(p));
	np_plan_free(p);
	/* A topology that reports no free memory cannot count by it. */
	t2 = mk_topo_mem(&s, none, NULL);
	h2 = mk_host(t2);
	CHECK(np_host_set_memory_basis(h2, NP_MEMORY_BASIS_FREE, &err) == NP_EINPUT &&
		  strstr(err.message, "does not report free memory"),
	      "free without free memory: %s", err.message);
	CHECK(np_host_set_memory_basis(h2, (enum np_memory_basis)7, &err) == NP_EINPUT,
	      "an unknown basis");
	CHECK(np_memory_basis_default(t2) == NP_MEMORY_BASIS_TOTAL, "default total");
	np_host_free(h2);
	np_topo_free(t2);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* Equal nodes but for firmware's few MiB: the first guest goes to the lowest id. */
static void test_equal_nodes(void)
{
	static const uint64_t mems[] = {16376, 16384, 16384, 16368};
	struct tspec s = {4, 8, 1, 0, 0, 0, NULL, 0, NULL};
	np_topo *t = mk_topo_mem(&s, mems, NULL);
	np_host *h = mk_host(t);
	struct cspec c = {4, 0, 4096, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_NONE, false);

	for (int st = 0; st < 2; st++) {
		np_plan *p = place_opts(h, r, (enum np_strategy)st, true, 0);

		CHECK(node_of(p, 0) == 0, "%s: node 0 (8 MiB less) wins, got %d",
		      np_strategy_name((enum np_strategy)st), node_of(p, 0));
		CHECK(has_reason(p, NP_RES_STRANDED, "why not node 1: as good on every term"),
		      "explain says the ids decided");
		np_plan_free(p);
	}
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* Thread policy require on a host without SMT says that, not 'free SMT siblings'. */
static void test_require_no_smt(void)
{
	struct tspec s = {2, 8, 1, 0, 8192, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {0, 4, 1024, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_DEDICATED, true);
	np_plan *p;

	r->thread_policy = NP_THREAD_POLICY_REQUIRE;
	p = place_opts(h, r, NP_STRATEGY_SPREAD, true, 0);
	CHECK(!np_plan_fits(p) && strstr(np_plan_no_fit_summary(p), "threads per core") &&
		  strstr(np_plan_no_fit_summary(p), "no SMT"),
	      "require without SMT: %s", np_plan_no_fit_summary(p));
	CHECK(has_reason(p, NP_RES_CORES, "needs 2 or more threads per core, the node has 1"),
	      "per node: threads per core");
	CHECK(!has_reason(p, NP_RES_CORES, "free SMT siblings"), "not 'free SMT siblings'");
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* The no-fit summary names the resource that fell short, with numbers. */
static void test_no_fit_summary(void)
{
	struct tspec s = {4, 8, 1, 0, 16384, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {12, 0, 4096, 0, -1}, two[2] = {{4, 0, 16000, 0, -1}, {4, 0, 16000, 0, -1}};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_NONE, true);
	const struct np_reason *sum = NULL;
	np_plan *p = place(h, r);

	for (int i = 0; i < np_plan_reason_count(p); i++)
		if (np_plan_reason(p, i)->text == np_plan_no_fit_summary(p))
			sum = np_plan_reason(p, i);
	CHECK(!np_plan_fits(p) && sum && sum->resource == NP_RES_VCPUS && sum->guest_cell < 0 &&
		  strstr(sum->text, "short of shared CPUs on 4 of 4 nodes: 12 vCPUs asked, "
				    "at most 8"),
	      "CPUs short: %s", np_plan_no_fit_summary(p));
	np_plan_free(p);
	np_request_free(r);
	/* Two cells that each fit only where the other must go. */
	for (int j = 1; j < 4; j++)
		np_host_add_usage(h, j, 0, 8192, NULL, 0, NULL);
	r = mk_req(two, 2, NP_CPU_POLICY_NONE, true);
	p = place(h, r);
	CHECK(!np_plan_fits(p) && strstr(np_plan_no_fit_summary(p), "only 1 of the 2 guest cells") &&
		  strstr(np_plan_no_fit_summary(p), "short of memory"),
	      "memory short on the others: %s", np_plan_no_fit_summary(p));
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

static void test_pnode(void)
{
	struct tspec s = {3, 4, 1, 0, 4096, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c[2] = {{1, 0, 1024, 0, 2}, {1, 0, 1024, 0, -1}};
	struct cspec same[2] = {{1, 0, 2048, 0, 1}, {1, 0, 2048, 0, 1}};
	struct cspec bad = {1, 0, 1024, 0, 7};
	np_request *r = mk_req(c, 2, NP_CPU_POLICY_SHARED, true);
	np_request *rs = mk_req(same, 2, NP_CPU_POLICY_SHARED, true);
	np_request *rb = mk_req(&bad, 1, NP_CPU_POLICY_SHARED, true);
	struct np_error err = {0};
	np_plan *p = place(h, r);

	CHECK(node_of(p, 0) == 2 && node_of(p, 1) == 0, "pnode=2 kept, the other cell on 0");
	np_plan_free(p);
	p = place(h, rs);
	CHECK(node_of(p, 0) == 1 && node_of(p, 1) == 1, "two cells on pnode 1");
	np_plan_free(p);
	rs->cells[1].memory_mb = 2049;
	rs->memory_mb = 4097;
	p = place(h, rs);
	CHECK(!np_plan_fits(p), "the second cell no longer fits on pnode 1");
	np_plan_free(p);
	p = NULL;
	CHECK(np_place(h, rb, NULL, &p, &err) == NP_EINPUT && strstr(err.message, "pnode=7") && !p,
	      "pnode of a node the host lacks: %s", err.message);
	rb->pinned_node[0] = -1;
	rb->cells[0].memory_mb = rb->memory_mb = UINT64_C(1) << 54;
	CHECK(np_place(h, rb, NULL, &p, &err) == NP_EINPUT && !p,
	      "2^54 MiB: refused, not wrapped around: %s", err.message);
	np_request_free(r);
	np_request_free(rs);
	np_request_free(rb);
	np_host_free(h);
	np_topo_free(t);
}

/*
 * np_plan_answers(): a plan answers the request it was made for, on the
 * host full of other claims too; any change to what the request decides
 * is a difference, named.
 */
static void answers_differ(const np_host *h, const np_request *r, const struct np_place_opts *o,
			   const np_plan *p, const char *needle, const char *what)
{
	struct np_error err = {0};

	CHECK(np_plan_answers(h, r, o, p, &err) == NP_EINPUT && strstr(err.message, needle),
	      "%s: want '%s', got '%s'", what, needle, err.message);
}

static void test_answers(void)
{
	struct tspec s = {2, 4, 1, 1, 4096, 16, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c[2] = {{0, 2, 1024, 0, -1}, {0, 2, 1024, 0, -1}};
	struct cspec more[2] = {{0, 2, 2048, 0, -1}, {0, 2, 1024, 0, -1}};
	struct cspec huge[2] = {{0, 2, 1024, NP_PAGESIZE_LARGE, -1}, {0, 2, 1024, 0, -1}};
	struct cspec one = {0, 4, 2048, 0, -1};
	struct cspec pn[2] = {{0, 2, 1024, 0, 1}, {0, 2, 1024, 0, -1}};
	np_request *r = mk_req(c, 2, NP_CPU_POLICY_DEDICATED, true);
	np_request *rm = mk_req(more, 2, NP_CPU_POLICY_DEDICATED, true);
	np_request *rh = mk_req(huge, 2, NP_CPU_POLICY_DEDICATED, true);
	np_request *r1 = mk_req(&one, 1, NP_CPU_POLICY_DEDICATED, true);
	np_request *rp = mk_req(pn, 2, NP_CPU_POLICY_DEDICATED, true);
	struct cspec fl[2] = {{2, 0, 1024, 0, -1}, {2, 0, 1024, 0, -1}};
	np_request *rsh = mk_req(fl, 2, NP_CPU_POLICY_SHARED, true);
	struct np_place_opts soft = {.affinity_set = true, .affinity = NP_AFFINITY_SOFT};
	struct np_place_opts pref = {.mem_policy_set = true, .mem_policy = NP_MEM_POLICY_PREFERRED};
	struct np_error err = {0};
	np_plan *p = place(h, r), *other = NULL;

	CHECK(np_plan_answers(h, r, NULL, p, &err) == 0, "its own request: %s", err.message);
	/* Another claim takes the rest of the host: still the same request. */
	CHECK(np_host_charge(h, p, false, &err) == 0, "charge: %s", err.message);
	other = place(h, r);
	CHECK(np_plan_fits(other) && np_host_charge(h, other, false, &err) == 0, "charge: %s",
	      err.message);
	CHECK(np_plan_answers(h, r, NULL, p, &err) == 0, "on a full host: %s", err.message);
	answers_differ(h, rm, NULL, p, "1024 MiB recorded, 2048 asked", "more memory");
	answers_differ(h, rh, NULL, p, "4 KiB pages recorded", "huge pages asked");
	answers_differ(h, r1, NULL, p, "guest cell 0: 1024 MiB recorded, 2048 asked",
		       "one cell of the same size");
	answers_differ(h, rsh, NULL, p, "2 pinned and 0 floating vCPUs recorded, 0 and 2 asked",
		       "shared, not dedicated");
	answers_differ(h, r, &soft, p, "affinity hard recorded, soft asked", "soft affinity");
	answers_differ(h, r, &pref, p, "memory policy strict recorded, preferred asked",
		       "preferred memory");
	if (node_of(p, 0) != 1)
		answers_differ(h, rp, NULL, p, "not on its pnode 1", "pnode=1");
	np_plan_free(p);
	np_plan_free(other);
	np_request_free(r);
	np_request_free(rm);
	np_request_free(rh);
	np_request_free(r1);
	np_request_free(rp);
	np_request_free(rsh);
	np_host_free(h);
	np_topo_free(t);
}

/* Nova 26's fit cache puts the 8192 MB cell on a 4096 MB node (nova.md 3.6). */
static void test_nova_defect(void)
{
	struct tspec s = {3, 4, 1, 0, 4096, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c[3] = {{1, 0, 512, 0, -1}, {1, 0, 512, 0, -1}, {2, 0, 8192, 0, -1}};
	struct cspec more[4] = {
	    {1, 0, 512, 0, -1}, {1, 0, 512, 0, -1}, {1, 0, 512, 0, -1}, {1, 0, 512, 0, -1}};
	np_request *r = mk_req(c, 3, NP_CPU_POLICY_SHARED, true);
	np_request *r4 = mk_req(more, 4, NP_CPU_POLICY_SHARED, true);
	np_plan *p = place(h, r);

	CHECK(!np_plan_fits(p) && np_plan_score(p)->exact, "8192 MB cell on 4096 MB nodes: no fit");
	np_plan_free(p);
	p = place_opts(h, r4, NP_STRATEGY_SPREAD, true, 0);
	CHECK(!np_plan_fits(p) && has_reason(p, NP_RES_NODES, "only 3 of the 4"),
	      "four cells, three nodes");
	np_plan_free(p);
	np_request_free(r);
	np_request_free(r4);
	np_host_free(h);
	np_topo_free(t);
}

/* Requests built the way Nova's API builds them (np_request_from_nova). */
static np_request *nova_req(unsigned vcpus, uint64_t mem, const struct np_kv *specs, size_t n,
			    const struct np_pci_alias *aliases, size_t na)
{
	struct np_error err = {0};
	np_request *r = NULL;

	CHECK(np_request_from_nova(vcpus, mem, specs, n, NULL, 0, aliases, na, &r, &err) == 0,
	      "nova request: %s", err.message);
	return r;
}

static void test_nova_requests(void)
{
	static const struct dev nic[] = {{1, 0x10}};
	struct tspec s = {4, 8, 2, 2, 8192, 1024, D4, 1, nic};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct np_kv two[] = {{"hw:numa_nodes", "2"}};
	struct np_kv pinned[] = {{"hw:numa_nodes", "2"},
				 {"hw:cpu_policy", "dedicated"},
				 {"hw:cpu_thread_policy", "isolate"},
				 {"hw:emulator_threads_policy", "isolate"},
				 {"hw:mem_page_size", "2048"}};
	struct np_kv pci[] = {{"pci_passthrough:alias", "nic:1"},
			      {"hw:pci_numa_affinity_policy", "required"}};
	struct np_pci_alias alias = {"nic", 0x8086, 0x10, false, NP_PCI_POLICY_LEGACY};
	np_request *r;
	np_plan *p;

	r = nova_req(4, 4096, two, 1, NULL, 0);
	p = r ? place(h, r) : NULL;
	CHECK(p && np_plan_cell_count(p) == 2 && node_of(p, 0) == 2 && node_of(p, 1) == 3,
	      "hw:numa_nodes=2: the closest pair {2,3}");
	np_plan_free(p);
	np_request_free(r);
	r = nova_req(4, 2048, pinned, NP__ARRAY_SIZE(pinned), NULL, 0);
	p = r ? place(h, r) : NULL;
	/* Cell 0 blocks its pins' siblings and the emulator CPU's. */
	CHECK(p && np_plan_fits(p) && np_plan_cell(p, 0)->nreserved == 1 &&
		  np_plan_cell(p, 0)->nblocked == 3 && np_plan_cell(p, 1)->nblocked == 2 &&
		  np_plan_cell(p, 0)->pagesize_kb == 2048,
	      "dedicated, isolate, emulator isolate, 2 MiB pages");
	np_plan_free(p);
	np_request_free(r);
	r = nova_req(2, 1024, pci, 2, &alias, 1);
	p = r ? place(h, r) : NULL;
	CHECK(p && node_of(p, 0) == 1 && np_plan_pci_count(p) == 1, "required NIC: node 1");
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* Explanations for a one-cell guest: every other node lost on the objective. */
static void test_explain_single(void)
{
	struct tspec s = {3, 4, 1, 0, 4096, 0, NULL, 0, NULL};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);
	struct cspec c = {1, 0, 1024, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_SHARED, true);
	np_plan *p;

	np_host_add_usage(h, 0, 1, 1024, NULL, 0, NULL);
	np_host_add_usage(h, 2, 0, 3584, NULL, 0, NULL);
	p = place_opts(h, r, NP_STRATEGY_SPREAD, true, 0);
	/* Three nodes for one cell: the wholly free node 1 is kept whole, even by spread. */
	CHECK(node_of(p, 0) == 0, "node 0, keeping node 1 wholly free; got %d", node_of(p, 0));
	CHECK(has_reason(p, NP_RES_STRANDED,
			 "why not node 1: it uses up 1 wholly free node (chosen: 0)"),
	      "node 1 lost on the objective");
	CHECK(has_reason(p, NP_RES_MEMORY, "why not node 2 for guest cell 0: 1024 MiB asked, 512"),
	      "node 2 lacks memory: 1024 asked, 512 within the ratio");
	for (int i = 0; i < np_plan_reason_count(p); i++)
		CHECK(np_plan_reason(p, i)->node_idx != 0, "no reason against the winner");
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* A tiny budget: not exact, but still a valid answer (the matching). */
static void test_budget(void)
{
	struct tspec s = {16, 4, 1, 0, 4096, 0, NULL, 0, NULL};
	uint32_t d[256];
	np_topo *t;
	np_host *h;
	struct cspec c[6];
	np_request *r;
	np_plan *p;

	for (int a = 0; a < 16; a++)
		for (int b = 0; b < 16; b++)
			d[a * 16 + b] = a == b ? 10 : 10 + (uint32_t)((a * 7 + b * 13) % 23) + 1;
	s.dist = d;
	t = mk_topo(&s);
	h = mk_host(t);
	for (int i = 0; i < 6; i++)
		c[i] = (struct cspec){1, 0, 1024, 0, -1};
	r = mk_req(c, 6, NP_CPU_POLICY_SHARED, true);
	np_plan *exact, *timed;

	p = place_opts(h, r, NP_STRATEGY_SPREAD, false, 3);
	/* 3 steps and the step over; the last resort's dive takes one per cell. */
	CHECK(np_plan_fits(p) && !np_plan_score(p)->exact && np_plan_score(p)->steps <= 4 + 6,
	      "3 steps: inexact but placed (%llu steps)",
	      (unsigned long long)np_plan_score(p)->steps);
	CHECK(np_plan_score(p)->gap_term != NP_TERM_UNKNOWN,
	      "3 steps: the gap is bounded (%s %llu)", np_term_name(np_plan_score(p)->gap_term),
	      (unsigned long long)np_plan_score(p)->gap);
	np_plan_free(p);
	exact = place(h, r);
	CHECK(np_plan_fits(exact) && np_plan_score(exact)->exact &&
		  np_plan_score(exact)->gap_term == NP_TERM_NONE && !np_plan_score(exact)->gap,
	      "default budget: exact, no gap");
	/* A time budget the search cannot meet: cut at its first step, after the dive. */
	p = place_with(h, r, &(struct np_place_opts){.max_us = 1});
	CHECK(np_plan_fits(p) && !np_plan_score(p)->exact &&
		  np_plan_score(p)->gap_term != NP_TERM_UNKNOWN,
	      "1 us: inexact but placed, gap %s %llu", np_term_name(np_plan_score(p)->gap_term),
	      (unsigned long long)np_plan_score(p)->gap);
	np_plan_free(p);
	/*
	 * A time budget met: the very answer of no budget, in at most its
	 * steps (the bounded mode skips the thresholds its bound refutes).
	 */
	timed = place_with(h, r, &(struct np_place_opts){.max_us = 600000000});
	CHECK(np_plan_score(timed)->exact && np_plan_score(timed)->steps <= np_plan_score(exact)->steps,
	      "10 minutes: exact, no more steps (%llu, %llu)",
	      (unsigned long long)np_plan_score(timed)->steps,
	      (unsigned long long)np_plan_score(exact)->steps);
	for (int i = 0; i < 6; i++)
		CHECK(node_of(timed, i) == node_of(exact, i), "10 minutes: cell %d where it was", i);
	CHECK(strcmp(np_term_name(NP_TERM_SUM_DISTANCE), "sum_distance") == 0 &&
		  strcmp(np_term_name((enum np_term)99), "unknown") == 0,
	      "term names");
	np_plan_free(timed);
	np_plan_free(exact);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* ---- the brute-force reference -------------------------------------------------- */

static uint64_t rng;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return n ? (unsigned)((rng >> 33) % n) : 0;
}

/*
 * This file's own reading of Nova's per-cell rules (nova.md 3.1), for
 * counts only: the pool a cell asking for a page size gets (candidates
 * largest first, the first whose free pages hold it), or -1.
 */
static int ref_pages(const struct np_host_node *hn, const struct np_guest_cell *c)
{
	uint64_t kb = c->memory_mb * 1024;

	for (int i = hn->npools - 1; i >= 0; i--) {
		const struct np_page_pool *p = &hn->pools[i];
		bool kind = c->pagesize == NP_PAGESIZE_ANY ||
			    (c->pagesize == NP_PAGESIZE_SMALL && i == 0) ||
			    (c->pagesize == NP_PAGESIZE_LARGE && i > 0) ||
			    (c->pagesize > 0 && p->size_kb == (uint64_t)c->pagesize);

		if (kind && kb <= (p->total - p->used - p->reserved) * p->size_kb &&
		    kb % p->size_kb == 0)
			return i;
	}
	return -1;
}

/* Memory basis free: small-page memory within what the node reports free. */
static bool ref_free(const np_host *h, const struct np_host_node *hn, uint64_t mem, int pool)
{
	return np_host_memory_basis(h) != NP_MEMORY_BASIS_FREE || pool > 0 ||
	       mem <= hn->memory_free_mb;
}

static bool ref_fit(const np_host *h, int j, const np_request *r, int i)
{
	const struct np_host_node *hn = np_host_node(h, j);
	const struct np_guest_cell *c = np_request_cell(r, i);
	enum np_cpu_policy pol = np_request_cpu_policy(r);
	bool pinned = pol == NP_CPU_POLICY_DEDICATED || pol == NP_CPU_POLICY_MIXED;
	int res = pinned && i == 0 && np_request_emulator_policy(r) == NP_EMULATOR_POLICY_ISOLATE;
	double cr, rr;

	int pool = c->pagesize != NP_PAGESIZE_UNSET ? ref_pages(hn, c) : 0;

	if (c->pagesize != NP_PAGESIZE_UNSET ? pool < 0
	    : hn->npools ? c->memory_mb * 1024 > hn->pools[0].total * hn->pools[0].size_kb
			 : c->memory_mb > hn->memory_mb)
		return false;
	if (!ref_free(h, hn, c->memory_mb, pool))
		return false;
	if (pinned && (c->npcpus == 0 || c->npcpus + res > hn->ndedicated - hn->npinned ||
		       c->memory_mb + hn->memory_used_mb > hn->memory_mb))
		return false;
	if (pol == NP_CPU_POLICY_DEDICATED)
		return true;
	if (c->nvcpus > hn->nshared)
		return false;
	if (!np_host_limits(h, &cr, &rr))
		return true;
	return hn->cpu_usage + c->nvcpus <= hn->nshared * cr &&
	       (double)(hn->memory_used_mb + c->memory_mb) <= (double)hn->memory_mb * rr;
}

/* The objective of docs/policies/placement.md section 4, and the ids. */
struct ref {
	bool fits;
	/* misses, max distance, weighted distance, whole nodes, PCI kept, demand,
	 * half-free resources, stranded, best fit, strategy */
	int64_t v[10];
	int a[8];
};

/* The caller's demand the brute force scores with (section 4, term 6). */
static struct np_demand ref_dem[3];
static int ref_ndem;

static int64_t round_mb(double x)
{
	return x > 0 ? (int64_t)(x + 0.5) : 0;
}

/* Node J after adding MEM, FLOATS and PINS, as section 4 defines it. */
struct ref_node_val {
	int64_t whole, half, strand, fit, room;
};

/* Section 4's memory step: 1/128 of the largest node's power of two, at least 1 MiB. */
static uint64_t ref_step(const np_host *h)
{
	const np_topo *t = np_host_topo(h);
	uint64_t big = 0, p = 1;

	for (int j = 0; j < np_topo_node_count(t); j++)
		big = np_host_node(h, j)->memory_mb > big ? np_host_node(h, j)->memory_mb : big;
	while (2 * p <= big)
		p *= 2;
	return p >= 128 ? p / 128 : 1;
}

/* X to the nearest multiple of Q (halves up). */
static double ref_nominal(uint64_t x, uint64_t q)
{
	return (double)(((x + q / 2) / q) * q);
}

static struct ref_node_val ref_node(const np_host *h, int j, bool pinned, uint64_t mem, int floats,
				    int pins)
{
	const struct np_host_node *hn = np_host_node(h, j);
	uint64_t q = ref_step(h);
	double cr, fm, fc, r, a, b, M = ref_nominal(hn->memory_mb, q);
	int set = pinned ? hn->ndedicated : hn->nshared;
	struct ref_node_val v;

	np_host_limits(h, &cr, NULL);
	fm = M - (double)hn->memory_used_mb;
	if (np_host_memory_basis(h) == NP_MEMORY_BASIS_FREE &&
	    ref_nominal(hn->memory_free_mb, q) < fm)
		fm = ref_nominal(hn->memory_free_mb, q);
	fm -= (double)mem;
	fm = fm > 0 ? fm : 0;
	fc = pinned   ? (double)(hn->ndedicated - hn->npinned - pins)
	     : cr > 0 ? ((double)hn->nshared * cr - hn->cpu_usage - floats) / cr
		      : 0;
	fc = fc > 0 ? fc : 0;
	r = set ? M / set : 0;
	v.strand = set ? round_mb(fm > fc * r ? fm - fc * r : fc * r - fm) : round_mb(fm);
	v.room = round_mb(fm + fc * r);
	a = set ? (fc > set ? 1 : fc / set) : 0;
	b = M > 0 ? (fm > M ? 1 : fm / M) : 0;
	v.whole = set && M > 0 && fc >= set && fm >= M;
	v.half = (set && 2 * fc >= set) + (M > 0 && 2 * fm >= M);
	v.fit = round_mb((a * a + b * b) * 1048576.0);
	return v;
}

/*
 * Copies of demand shape D node J still takes after MEM MiB of PAGE_KB
 * pages (0: small), FLOATS floating vCPUs and PINS pinned CPUs, as section
 * 4 term 6 counts them.
 */
static double ref_copies(const np_host *h, int j, const struct np_demand *d, uint64_t mem,
			 uint64_t page_kb, int floats, int pins)
{
	const struct np_host_node *hn = np_host_node(h, j);
	double cr, rr, k = 16777216.0, x;
	bool lim = np_host_limits(h, &cr, &rr);

	if (d->floating > hn->nshared)
		return 0;
	if (!d->pagesize_kb && hn->npools &&
	    d->memory_mb * 1024 > hn->pools[0].total * hn->pools[0].size_kb)
		return 0;
	if (d->pinned && (x = (double)(hn->ndedicated - hn->npinned - pins) / d->pinned) < k)
		k = x;
	if (d->floating && lim &&
	    (x = (hn->nshared * cr - hn->cpu_usage - floats) / d->floating) < k)
		k = x;
	if (d->pagesize_kb) {
		x = 0;
		for (int p = 0; p < hn->npools; p++)
			if (hn->pools[p].size_kb == d->pagesize_kb)
				x = (double)hn->pools[p].total - hn->pools[p].used -
				    hn->pools[p].reserved -
				    (page_kb == d->pagesize_kb ? (double)mem * 1024 / page_kb : 0);
		x /= (double)d->memory_mb * 1024 / d->pagesize_kb;
		k = x < k ? x : k;
	}
	if (d->pinned || d->pagesize_kb || !lim || rr <= 1.0) {
		x = (double)hn->memory_mb * (d->pinned || !lim ? 1 : rr) - hn->memory_used_mb;
		if (!d->pagesize_kb && np_host_memory_basis(h) == NP_MEMORY_BASIS_FREE &&
		    (double)hn->memory_free_mb < x)
			x = (double)hn->memory_free_mb;
		x = (x - (double)mem) / d->memory_mb;
		k = x < k ? x : k;
	}
	return k >= 1 ? (double)(int64_t)k : 0;
}

static int64_t ref_potential(const np_host *h, int j, uint64_t mem, uint64_t page_kb, int floats,
			     int pins)
{
	double p = 0;

	for (int s = 0; s < ref_ndem; s++)
		p += ref_dem[s].weight * ref_copies(h, j, &ref_dem[s], mem, page_kb, floats, pins);
	return (int64_t)(p * 1024 + 0.5);
}

/* Devices of the one PCI request for a guest on NODES: misses, or -1. */
static int64_t ref_pci(const np_host *h, const np_request *r, const int *nodes, int k)
{
	const struct np_pci_request *q = np_request_pci(r, 0);
	int64_t lv[4] = {0, 0, 0, 0}, on;

	for (int p = 0; p < np_host_pci_pool_count(h); p++) {
		const struct np_pci_pool *pp = np_host_pci_pool(h, p);
		int level = pp->node_idx < 0 ? 1 : 3;

		for (int i = 0; i < k && pp->node_idx >= 0; i++) {
			if (nodes[i] == pp->node_idx)
				level = 0;
			else if (level > 2 && np_host_node(h, nodes[i])->socket ==
						  np_host_node(h, pp->node_idx)->socket)
				level = 2;
		}
		lv[level] += pp->count - pp->used;
	}
	on = lv[0] < q->count ? lv[0] : q->count;
	switch (q->policy) {
	case NP_PCI_POLICY_REQUIRED:
		return lv[0] >= q->count ? 0 : -1;
	case NP_PCI_POLICY_SOCKET:
		return lv[0] + lv[2] >= q->count ? q->count - on : -1;
	case NP_PCI_POLICY_LEGACY:
		return lv[0] + lv[1] >= q->count ? q->count - on : -1;
	default:
		return lv[0] + lv[1] + lv[2] + lv[3] >= q->count ? q->count - on : -1;
	}
}

/* The huge page size (KiB) cell C's memory takes on node J, 0: small pages. */
static uint64_t ref_page_kb(const np_host *h, int j, const struct np_guest_cell *c)
{
	const struct np_host_node *hn = np_host_node(h, j);
	int pool = c->pagesize != NP_PAGESIZE_UNSET ? ref_pages(hn, c) : 0;

	return pool > 0 && hn->pools[pool].size_kb > 4 ? hn->pools[pool].size_kb : 0;
}

/* Terms 4-10 of cell I on node J (K cells on N nodes). */
static void ref_lin(const np_host *h, const np_request *r, int i, int j, bool pack, int k, int n,
		    int64_t *v)
{
	const struct np_guest_cell *c = np_request_cell(r, i);
	enum np_cpu_policy pol = np_request_cpu_policy(r);
	bool pinned = pol == NP_CPU_POLICY_DEDICATED || pol == NP_CPU_POLICY_MIXED;
	int res = pinned && i == 0 && np_request_emulator_policy(r) == NP_EMULATOR_POLICY_ISOLATE;
	struct ref_node_val b = ref_node(h, j, pinned, 0, 0, 0),
			    a = ref_node(h, j, pinned, c->memory_mb, c->nvcpus, c->npcpus + res);
	int64_t devs = 0;

	for (int p = 0; !np_request_pci_count(r) && p < np_host_pci_pool_count(h); p++)
		if (np_host_pci_pool(h, p)->node_idx == j)
			devs += np_host_pci_pool(h, p)->count - np_host_pci_pool(h, p)->used;
	if (n >= k + 2) {
		v[3] += b.whole - a.whole;
		v[6] += b.half - a.half;
		v[8] += b.fit - a.fit;
	}
	v[4] += devs;
	v[5] += ref_potential(h, j, 0, 0, 0, 0) -
		ref_potential(h, j, c->memory_mb, ref_page_kb(h, j, c), c->nvcpus, c->npcpus + res);
	v[7] += a.strand - b.strand;
	v[9] += pack ? a.room : -a.room;
}

static void ref_leaf(const np_host *h, const np_request *r, const int *a, int k, bool pack,
		     struct ref *best)
{
	const np_topo *t = np_host_topo(h);
	struct ref cur = {true, {0}, {0}};
	int c = 0;

	for (int i = 0; i < k; i++)
		if (!ref_fit(h, a[i], r, i))
			return;
	if (np_request_pci_count(r) && (cur.v[0] = ref_pci(h, r, a, k)) < 0)
		return;
	for (int i = 0; i < k; i++) {
		cur.a[i] = a[i];
		ref_lin(h, r, i, a[i], pack, k, np_topo_node_count(t), cur.v);
		for (int q = 0; q <= i; q++) {
			const struct np_guest_cell *x = np_request_cell(r, i),
						   *y = np_request_cell(r, q);
			int64_t wx = x->nvcpus + x->npcpus ? x->nvcpus + x->npcpus : 1;
			int64_t wy = y->nvcpus + y->npcpus ? y->nvcpus + y->npcpus : 1;
			int64_t d1 = np_topo_distance(t, a[i], a[q]),
				d2 = np_topo_distance(t, a[q], a[i]);

			cur.v[1] = d1 > cur.v[1] ? d1 : cur.v[1];
			cur.v[1] = d2 > cur.v[1] ? d2 : cur.v[1];
			cur.v[2] += q < i ? wx * wy * (d1 + d2) : 0;
		}
	}
	for (int x = 0; x < 10 && !c && best->fits; x++)
		c = cur.v[x] < best->v[x] ? -1 : cur.v[x] > best->v[x];
	for (int i = 0; i < k && !c && best->fits; i++)
		c = cur.a[i] < best->a[i] ? -1 : cur.a[i] > best->a[i];
	if (!best->fits || c < 0)
		*best = cur;
}

static void ref_enum(const np_host *h, const np_request *r, int *a, int depth, int k, int n,
		     bool pack, struct ref *best)
{
	if (depth == k) {
		ref_leaf(h, r, a, k, pack, best);
		return;
	}
	for (int j = 0; j < n; j++) {
		bool used = false;

		for (int i = 0; i < depth; i++)
			used |= a[i] == j;
		if (used)
			continue;
		a[depth] = j;
		ref_enum(h, r, a, depth + 1, k, n, pack, best);
	}
}

static np_topo *random_topo(int n, int cpus, int threads, uint64_t mem, bool huge, bool pci,
			    bool uniform)
{
	uint32_t d[36];
	struct dev devs[2];
	int ndev = pci ? 1 + (int)rnd(2) : 0;
	struct tspec s = {n,	cpus, threads, 2, mem, huge ? mem / 8 : 0, uniform ? NULL : d,
			  ndev, devs};

	for (int a = 0; a < n; a++)
		for (int b = 0; b < n; b++)
			d[a * n + b] = a == b ? 10 : 11 + rnd(30);
	uint64_t mems[8], frees[8];
	bool odd = rnd(3) == 0, known = rnd(2);

	for (int i = 0; i < ndev; i++)
		devs[i] = (struct dev){(int)rnd((unsigned)n + 1) - 1, 0x10};
	/* Some nodes a few MiB short (firmware), some memory not free. */
	for (int j = 0; j < n; j++) {
		mems[j] = mem - (odd ? 8 * rnd(4) : 0);
		frees[j] = rnd(2) ? mems[j] : rnd((unsigned)mems[j] + 1);
	}
	return mk_topo_mem(&s, mems, known ? frees : NULL);
}

static void random_usage(np_host *h, int n)
{
	for (int j = 0; j < n; j++) {
		const struct np_host_node *hn = np_host_node(h, j);
		int pins[16], np = 0;

		for (int c = 0; c < hn->ndedicated && np < 16; c++)
			if (rnd(10) < 3)
				pins[np++] = hn->dedicated[c];
		np_host_add_usage(h, j, rnd((unsigned)hn->nshared * 3 + 1),
				  rnd((unsigned)hn->memory_mb + 1), pins, np, NULL);
		if (hn->npools > 1)
			np_host_add_pages_used(h, j, hn->pools[1].size_kb,
					       rnd((unsigned)hn->pools[1].total + 1), NULL);
	}
	if (rnd(5) == 0)
		np_host_set_limits(h, false, 1.0, 1.0);
	else
		np_host_set_limits(h, true, (double)(1 + rnd(3)), rnd(2) ? 1.0 : 1.5);
}

static np_request *random_request(int k, bool pci, bool same)
{
	static const enum np_cpu_policy pols[] = {NP_CPU_POLICY_NONE, NP_CPU_POLICY_SHARED,
						  NP_CPU_POLICY_DEDICATED, NP_CPU_POLICY_MIXED};
	static const long sizes[] = {NP_PAGESIZE_UNSET, NP_PAGESIZE_UNSET, NP_PAGESIZE_SMALL,
				     NP_PAGESIZE_LARGE, NP_PAGESIZE_ANY,   2048};
	enum np_cpu_policy pol = pols[rnd(4)];
	long ps = sizes[rnd(6)];
	struct cspec c[4];
	np_request *r;

	for (int i = 0; i < k; i++) {
		int nv = pol == NP_CPU_POLICY_DEDICATED ? 0 : 1 + (int)rnd(3);
		int np = pol == NP_CPU_POLICY_DEDICATED || pol == NP_CPU_POLICY_MIXED
			     ? 1 + (int)rnd(3)
			     : 0;

		c[i] = same && i ? c[0] : (struct cspec){nv, np, 256 * (1 + rnd(12)), ps, -1};
	}
	r = mk_req(c, k, pol, true);
	if ((pol == NP_CPU_POLICY_DEDICATED || pol == NP_CPU_POLICY_MIXED) && rnd(4) == 0)
		r->emulator_policy = NP_EMULATOR_POLICY_ISOLATE;
	if (pci) {
		struct np_pci_request q = {"nic", 0x8086, 0x10, 1, (enum np_pci_policy)rnd(4), ""};

		np__request_add_pci(r, &q);
	}
	return r;
}

/*
 * A search cut short after 1-4 steps: its plan, scored by the brute force,
 * is as good as the optimum OPT on every term before the plan's gap_term,
 * and worse on that term by at most the plan's gap (docs/policies/
 * placement.md 9).
 */
static int gap_cut, gap_nofit, gap_on[NP_TERM_UNKNOWN + 1];

static void check_gap(const np_host *h, const np_request *r, int k, bool pack,
		      const struct ref *opt, unsigned seed)
{
	struct np_place_opts o = {.strategy = pack ? NP_STRATEGY_PACK : NP_STRATEGY_SPREAD,
				  .max_steps = 1 + rnd(4),
				  .demand = ref_dem,
				  .ndemand = ref_ndem};
	np_plan *p = place_with(h, r, &o);
	const struct np_plan_score *s = np_plan_score(p);
	struct ref got = {false, {0}, {0}};
	int a[8], t = s->gap_term == NP_TERM_NONE ? 10 : (int)s->gap_term - 1, same = 0;

	/* A search cut short may have found nothing yet (placement.md 9): nothing to bound. */
	gap_cut += !s->exact;
	if (!np_plan_fits(p)) {
		gap_nofit++;
		CHECK(!s->exact, "seed %u: exact, yet no fit where the brute force has one", seed);
		np_plan_free(p);
		return;
	}
	for (int i = 0; i < k; i++)
		a[i] = node_of(p, i);
	ref_leaf(h, r, a, k, pack, &got);
	gap_on[s->exact ? 0 : s->gap_term]++;
	CHECK(got.fits && (s->exact || s->gap_term != NP_TERM_UNKNOWN) &&
		  (!s->exact || (s->gap_term == NP_TERM_NONE && !s->gap)),
	      "seed %u: bounded plan scored %d, exact %d, gap term %d", seed, got.fits, s->exact,
	      (int)s->gap_term);
	while (same < 10 && got.v[same] == opt->v[same])
		same++;
	CHECK(got.fits && t <= 10 && same >= t &&
		  (t == 10 || (got.v[t] >= opt->v[t] && (uint64_t)(got.v[t] - opt->v[t]) <= s->gap)),
	      "seed %u: gap %s %llu, but the plan first differs from the optimum on term %d "
	      "(%lld against %lld)",
	      seed, np_term_name(s->gap_term), (unsigned long long)s->gap, same + 1,
	      (long long)(same < 10 ? got.v[same] : 0), (long long)(same < 10 ? opt->v[same] : 0));
	np_plan_free(p);
}

/* Half the cases: one to three demand shapes (term 6), some weighing nothing. */
static void random_demand(void)
{
	ref_ndem = rnd(2) ? 1 + (int)rnd(3) : 0;
	for (int s = 0; s < ref_ndem; s++) {
		int pinned = rnd(2) ? (int)rnd(4) : 0;

		ref_dem[s] = (struct np_demand){pinned, pinned ? (int)rnd(2) : 1 + (int)rnd(3),
						256 * (1 + rnd(16)), rnd(3) ? 0 : 2048,
						(double)rnd(4) + (rnd(2) ? 0.5 : 0)};
	}
}

static void compare_one(unsigned seed, int *fits, int *cases)
{
	int n, k, a[8];
	bool pci;
	np_topo *t;
	np_host *h;
	np_request *r;
	struct ref best = {false, {0}, {0}};
	const struct np_plan_score *s;
	bool pack, nova_shape;
	np_plan *p;

	rng = seed;
	n = 2 + (int)rnd(5);
	k = 1 + (int)rnd(4);
	pci = rnd(3) == 0;
	/* A third with Linux's default distances and a symmetric guest (Nova's shape). */
	nova_shape = seed % 3 == 0;
	t = random_topo(n, 2 * (1 + (int)rnd(4)), 1 + (int)rnd(2), 2048 * (1 + rnd(4)), rnd(2), pci,
			nova_shape);
	h = mk_host(t);
	/* Devices on the host but none asked: the PCI-kept term (5) decides. */
	r = random_request(k, pci && rnd(3), nova_shape);

	if (!h)
		goto out;
	random_usage(h, n);
	if (np_topo_mem_free_known(t) && rnd(2))
		np_host_set_memory_basis(h, NP_MEMORY_BASIS_FREE, NULL);
	pack = rnd(2);
	random_demand();
	if (k <= n)
		ref_enum(h, r, a, 0, k, n, pack, &best);
	p = place_with(h, r,
		       &(struct np_place_opts){.strategy = pack ? NP_STRATEGY_PACK : NP_STRATEGY_SPREAD,
					       .demand = ref_dem,
					       .ndemand = ref_ndem});
	s = np_plan_score(p);
	CHECK(np_plan_fits(p) == best.fits, "seed %u: engine fits %d, brute force %d", seed,
	      np_plan_fits(p), best.fits);
	if (best.fits && np_plan_fits(p)) {
		bool same = true;

		CHECK(s->device_misses == best.v[0] && s->max_distance == best.v[1] &&
			  s->sum_distance == (uint64_t)best.v[2],
		      "seed %u: misses/max/sum %d/%u/%llu, brute force %lld/%lld/%lld", seed,
		      s->device_misses, s->max_distance, (unsigned long long)s->sum_distance,
		      (long long)best.v[0], (long long)best.v[1], (long long)best.v[2]);
		for (int i = 0; i < k; i++)
			same &= node_of(p, i) == best.a[i];
		CHECK(same,
		      "seed %u: engine's nodes differ from the brute force optimum (%d,%d,...)"
		      " vs (%d,%d,...)",
		      seed, node_of(p, 0), node_of(p, 1), best.a[0], best.a[1]);
		/* With devices off the nodes, fewer misses may cost distance. */
		CHECK(s->exact && (s->best_max_distance == s->max_distance ||
				   (pci && s->best_max_distance < s->max_distance)),
		      "seed %u: exact %d, lower bound %u, max distance %u", seed, s->exact,
		      s->best_max_distance, s->max_distance);
	}
	if (best.fits)
		check_gap(h, r, k, pack, &best, seed);
	*fits += best.fits;
	(*cases)++;
	np_plan_free(p);
out:
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/* ---- the max-distance bound of the bounded mode, against the brute force ------------ */

/* Distances of one of five kinds on N <= 16 nodes into D (N x N). */
static void bound_dist(uint32_t *d, int n, int kind)
{
	for (int a = 0; a < n; a++)
		for (int b = 0; b < n; b++) {
			int ring = abs(a - b) < n - abs(a - b) ? abs(a - b) : n - abs(a - b);
			int w = n % 4 ? 2 : 4, dx = abs(a % w - b % w), dy = abs(a / w - b / w);

			dx = dx < w - dx ? dx : w - dx;
			dy = dy < n / w - dy ? dy : n / w - dy;
			d[a * n + b] = kind == 0   ? 11 + rnd(30)		/* asymmetric */
				       : kind == 1 ? (uint32_t)(10 + 6 * ring) /* ring */
				       : kind == 2 ? (uint32_t)(10 + 6 * (dx + dy)) /* torus */
				       : kind == 3 ? (a / 4 == b / 4 ? 16 : 22)	 /* two levels */
						   : 0;
			if (kind == 4 && b < a)
				d[a * n + b] = d[b * n + a]; /* random, symmetric */
			else if (kind == 4)
				d[a * n + b] = 11 + rnd(30);
			if (a == b)
				d[a * n + b] = 10;
		}
}

/* Cells A[0..DEPTH) placed; can the rest go on distinct fitting nodes, all within T? */
static bool ref_within(const np_host *h, const np_request *r, int k, uint32_t T, int *a,
		       int depth)
{
	const np_topo *t = np_host_topo(h);
	int n = np_topo_node_count(t), pn;

	if (depth == k)
		return true;
	pn = np_request_cell_pinned_node(r, depth);
	for (int j = 0; j < n; j++) {
		bool ok = np_topo_distance(t, j, j) <= T && ref_fit(h, j, r, depth) &&
			  (pn < 0 || np_topo_node_index(t, pn) == j);

		for (int i = 0; i < depth && ok; i++)
			ok = a[i] != j && np_topo_distance(t, a[i], j) <= T &&
			     np_topo_distance(t, j, a[i]) <= T;
		a[depth] = j;
		if (ok && ref_within(h, r, k, T, a, depth + 1))
			return true;
	}
	return false;
}

/* The smallest max distance of any answer (the brute force), or -1: none. */
static int64_t ref_min_maxd(const np_host *h, const np_request *r, int k)
{
	int a[8];

	for (uint32_t T = 0; T <= 255; T++)
		if (ref_within(h, r, k, T, a, 0))
			return T;
	return -1;
}

static void bound_one(unsigned seed, int *cases, int *tight, int *cut)
{
	uint32_t d[256];
	int n, k, kind;
	struct tspec s = {0, 4, 1, 2, 4096, 0, d, 0, NULL};
	struct cspec c[6];
	np_topo *t;
	np_host *h;
	np_request *r;
	np_plan *p0, *p1, *p2;
	int64_t opt;
	bool same = rnd(2), ded = rnd(2);

	rng = seed;
	n = 4 + (int)rnd(13);
	k = 2 + (int)rnd(n < 6 ? (unsigned)n - 1 : 5);
	kind = (int)rnd(5);
	s.n = n;
	bound_dist(d, n, kind);
	for (int i = 0; i < k; i++)
		c[i] = same && i ? c[0]
				 : (struct cspec){ded ? 0 : 1 + (int)rnd(2), ded ? 1 + (int)rnd(2) : 0,
						  256 * (1 + rnd(8)), 0, -1};
	if (rnd(4) == 0)
		c[0].pnode = (int)rnd((unsigned)n);
	t = mk_topo(&s);
	h = mk_host(t);
	r = mk_req(c, k, ded ? NP_CPU_POLICY_DEDICATED : NP_CPU_POLICY_SHARED, true);
	random_usage(h, n);
	opt = ref_min_maxd(h, r, k);
	/* Cut after one step: the plan's lower bound is the engine's whole bound. */
	p1 = place_with(h, r, &(struct np_place_opts){.max_steps = 1});
	p0 = place(h, r);
	/* A time budget met: the answer of no budget, whatever thresholds were skipped. */
	p2 = place_with(h, r, &(struct np_place_opts){.max_us = 600000000});
	CHECK(np_plan_fits(p0) == (opt >= 0) && np_plan_fits(p1) == (opt >= 0) &&
		  np_plan_fits(p2) == (opt >= 0),
	      "seed %u: fits %d/%d/%d, brute force %lld", seed, np_plan_fits(p0), np_plan_fits(p1),
	      np_plan_fits(p2), (long long)opt);
	if (opt >= 0 && np_plan_fits(p1) && np_plan_fits(p2)) {
		const struct np_plan_score *s1 = np_plan_score(p1), *s2 = np_plan_score(p2);

		CHECK(s1->best_max_distance <= opt && s2->best_max_distance <= opt,
		      "seed %u (kind %d, %d nodes, %d cells): bound %u / %u above the optimum %lld",
		      seed, kind, n, k, s1->best_max_distance, s2->best_max_distance,
		      (long long)opt);
		CHECK(s2->exact && s2->max_distance == opt && s2->best_max_distance == opt,
		      "seed %u: with a time budget met, exact and %u (bound %u), optimum %lld", seed,
		      s2->max_distance, s2->best_max_distance, (long long)opt);
		for (int i = 0; i < k; i++)
			CHECK(node_of(p2, i) == node_of(p0, i), "seed %u: cell %d moved", seed, i);
		*tight += !s1->exact && s1->best_max_distance == opt;
		*cut += !s1->exact;
		(*cases)++;
	}
	np_plan_free(p0);
	np_plan_free(p1);
	np_plan_free(p2);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

/*
 * The bound on max distance (engine-bound.c) never exceeds the smallest
 * max distance of any answer, on hosts of 4-16 nodes of five distance
 * kinds, guests of 2-6 cells; and the bounded mode, when its budget is
 * met, answers as the default does.
 */
static void test_maxd_bound(void)
{
	int cases = 0, tight = 0, cut = 0;

	for (unsigned seed = 1; seed <= 1500; seed++)
		bound_one(seed, &cases, &tight, &cut);
	printf("max-distance bound: %d cases that fit, %d cut after one step, the bound the "
	       "optimum in %d of them\n",
	       cases, cut, tight);
	CHECK(cases > 300 && cut > 100, "enough cases cut short (%d, %d)", cases, cut);
	/* Without it (only the thresholds one step refutes) a quarter were: 255 of 1,055; now 979. */
	CHECK(tight > cut * 3 / 4, "the bound is the optimum in most cases (%d of %d)", tight, cut);
}

static void test_brute_force(void)
{
	int fits = 0, cases = 0;

	for (unsigned seed = 1; seed <= 4000; seed++)
		compare_one(seed, &fits, &cases);
	printf("brute force: %d random cases, %d fit\n", cases, fits);
	printf("cut after 1-4 steps: %d of %d, %d with nothing yet, gaps on terms 0-11:", gap_cut,
	       fits, gap_nofit);
	for (int t = 0; t <= NP_TERM_UNKNOWN; t++)
		printf(" %d", gap_on[t]);
	printf("\n");
	CHECK(gap_on[NP_TERM_MAX_DISTANCE] && gap_on[NP_TERM_SUM_DISTANCE] &&
		  gap_cut - gap_nofit > fits / 4,
	      "the bounded searches include gaps on distance terms");
	CHECK(fits > cases / 5 && fits < cases - cases / 5, "a mix of fits and no fits");
}

/*
 * Policies the brute force does not model (thread policies on SMT, pnode=,
 * guests without NUMA, two PCI requests, explanations): every plan must
 * pass the validator, and charging then releasing it must give the host
 * back.
 */
/*
 * Every reason, and the no-fit summary, carries the figures it compares:
 * a digit after its first ": " (node ids before it do not count).
 * Returns how many reasons were looked at.
 */
static int check_numbers(const np_plan *p, unsigned seed)
{
	int n = p ? np_plan_reason_count(p) : 0;

	for (int i = 0; i < n; i++) {
		const char *text = np_plan_reason(p, i)->text, *colon = strstr(text, ": ");

		CHECK(colon && strpbrk(colon, "0123456789"), "seed %u: a reason without numbers: %s",
		      seed, text);
	}
	if (p && !np_plan_fits(p))
		CHECK(np_plan_no_fit_summary(p) && strpbrk(np_plan_no_fit_summary(p), "0123456789"),
		      "seed %u: a no-fit summary without numbers", seed);
	return n;
}

static void sweep_one(unsigned seed, int *fits, int *reasons)
{
	int n, k;
	np_topo *t;
	np_host *h;
	np_request *r;
	np_plan *p;
	struct np_error err = {0};

	rng = seed;
	n = 2 + (int)rnd(5);
	k = 1 + (int)rnd(3);
	t = random_topo(n, 4 * (1 + (int)rnd(2)), 2, 4096, rnd(2), true, rnd(2));
	h = mk_host(t);
	r = random_request(k, rnd(2), rnd(2));
	if (!h || !r)
		goto out;
	random_usage(h, n);
	r->thread_policy = r->cpu_policy == NP_CPU_POLICY_DEDICATED ? (enum np_thread_policy)rnd(4)
								    : NP_THREAD_POLICY_NONE;
	r->numa = k > 1 || rnd(3) != 0;
	if (k > 1 && rnd(4) == 0)
		r->pinned_node[rnd((unsigned)k)] = (int)rnd((unsigned)n);
	if (rnd(3) == 0)
		np__request_add_pci(
		    r, &(struct np_pci_request){"b", 0x8086, 0x10, 1, (enum np_pci_policy)rnd(4), ""});
	if (np_topo_mem_free_known(t) && rnd(3) == 0)
		np_host_set_memory_basis(h, NP_MEMORY_BASIS_FREE, NULL);
	p = place_opts(h, r, rnd(2) ? NP_STRATEGY_PACK : NP_STRATEGY_SPREAD, true, 0);
	(*reasons) += check_numbers(p, seed);
	if (p && np_plan_fits(p)) {
		uint64_t before = host_hash(h);

		(*fits)++;
		CHECK(np_host_charge(h, p, false, &err) == 0, "seed %u: charge: %s", seed,
		      err.message);
		CHECK(np_host_check(h, &err) == 0, "seed %u: host after charge: %s", seed,
		      err.message);
		CHECK(np_host_charge(h, p, true, &err) == 0 && host_hash(h) == before,
		      "seed %u: release gives the host back", seed);
	}
	if (p && !np_plan_fits(p))
		CHECK(np_plan_reason_count(p) > 0, "seed %u: a no-fit says why", seed);
	np_plan_free(p);
out:
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
}

static void test_sweep(void)
{
	int fits = 0, reasons = 0;

	for (unsigned seed = 1; seed <= 2000; seed++)
		sweep_one(seed, &fits, &reasons);
	printf("policy sweep: 2000 random cases, %d fit, %d reasons all with numbers\n", fits,
	       reasons);
	CHECK(fits > 200, "enough of them fit");
	CHECK(reasons > 5000, "enough reasons looked at");
}

/* ---- the validator refuses corrupted plans --------------------------------------- */

static void expect_invalid(const np_host *h, const np_request *r, const np_plan *p,
			   const char *needle, const char *what)
{
	struct np_error err = {0};
	int rc = np_plan_validate(h, r, p, &err);

	CHECK(rc == NP_EINPUT && strstr(err.message, needle), "%s: rc %d '%s' lacks '%s'", what, rc,
	      err.message, needle);
}

static const struct dev NIC2[] = {{0, 0x10}, {1, 0x10}};

/* Pinned isolate guest: siblings, double pins, wrong node, lost vCPU, pages. */
static void corrupt_pins(const np_host *h)
{
	struct cspec c = {0, 2, 512, 2048, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_DEDICATED, true);
	struct np_pin *pins, orig;
	np_host *h2 = NULL;
	np_plan *p;

	r->thread_policy = NP_THREAD_POLICY_ISOLATE;
	p = place(h, r);
	CHECK(np_plan_cell(p, 0) && np_plan_cell(p, 0)->npins == 2 &&
		  np_plan_cell(p, 0)->nblocked == 2,
	      "isolate plan: 2 pins, 2 blocked");
	if (!np_plan_cell(p, 0) || np_plan_cell(p, 0)->npins != 2)
		goto out;
	pins = (struct np_pin *)np_plan_cell(p, 0)->pins;
	orig = pins[1];
	pins[1].pcpu = np_plan_cell(p, 0)->blocked[0];
	expect_invalid(h, r, p, "siblings", "isolate sibling used");
	pins[1].pcpu = pins[0].pcpu;
	expect_invalid(h, r, p, "twice", "double pin");
	pins[1].pcpu = 15;
	expect_invalid(h, r, p, "not dedicated on node", "wrong node");
	pins[1] = orig;
	p->cells[0].npins = 1;
	expect_invalid(h, r, p, "1 pinned vCPUs placed, 2 asked", "missing vCPU");
	p->cells[0].npins = 2;
	CHECK(np_plan_validate(h, r, p, NULL) == 0, "repaired plan valid again");
	np_host_clone(h, &h2, NULL);
	np_host_add_pages_used(h2, 0, 2048, 400, NULL);
	expect_invalid(h2, r, p, "pages of 2048 KiB taken", "huge pages over-committed");
	np_host_free(h2);
	p->cells[0].memory_mb = 1024;
	expect_invalid(h, r, p, "1024 MiB placed, 512 asked", "memory");
	p->cells[0].memory_mb = 512;
	p->score.max_distance = 20;
	expect_invalid(h, r, p, "max distance", "score");
out:
	np_plan_free(p);
	np_request_free(r);
}

/* Floating guest: capacity, node set, policy, and a device off its node. */
static void corrupt_floating(const np_host *h)
{
	struct cspec c = {2, 0, 3072, 0, -1};
	np_request *r = mk_req(&c, 1, NP_CPU_POLICY_SHARED, true);
	struct np_pci_request q = {"nic", 0x8086, 0x10, 1, NP_PCI_POLICY_REQUIRED, ""};
	np_host *h2 = NULL;
	np_plan *p;

	np__request_add_pci(r, &q);
	p = place(h, r);
	CHECK(node_of(p, 0) == 0 && np_plan_pci_count(p) == 1, "3 GiB and the NIC on node 0");
	if (node_of(p, 0) != 0 || np_plan_pci_count(p) != 1)
		goto out;
	np_host_clone(h, &h2, NULL);
	np_host_add_usage(h2, 0, 0, 2048, NULL, 0, NULL);
	expect_invalid(h2, r, p, "over 4096 MiB", "over capacity");
	np_host_free(h2);
	p->nodeset[0] = 1;
	expect_invalid(h, r, p, "node set", "node set");
	p->nodeset[0] = 0;
	p->mem_policy = NP_MEM_POLICY_PREFERRED;
	expect_invalid(h, r, p, "fallback", "preferred without its fallback list");
	p->mem_policy = (enum np_mem_policy)9;
	expect_invalid(h, r, p, "memory policy", "a policy that does not exist");
	p->mem_policy = NP_MEM_POLICY_STRICT;
	p->pci[0].pool = 1 - p->pci[0].pool; /* the other node's NIC */
	expect_invalid(h, r, p, "forbids", "PCI off the node with `required`");
out:
	np_plan_free(p);
	np_request_free(r);
}

static void test_validator(void)
{
	struct tspec s = {2, 8, 2, 1, 4096, 512, NULL, 2, NIC2};
	np_topo *t = mk_topo(&s);
	np_host *h = mk_host(t);

	if (h) {
		corrupt_pins(h);
		corrupt_floating(h);
	}
	np_host_free(h);
	np_topo_free(t);
}

/* ---- performance (printed, not asserted) --------------------------------------- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void time_case(const char *what, const np_host *h, const np_request *r, int reps)
{
	double best = 1e9, t0;
	np_plan *p = place(h, r);

	for (int i = 0; i < reps; i++) {
		np_plan *q = NULL;

		t0 = now_ms();
		np_place(h, r, NULL, &q, NULL);
		t0 = now_ms() - t0;
		best = t0 < best ? t0 : best;
		np_plan_free(q);
	}
	printf("%s: fits %d, exact %d, steps %llu, max distance %u, best of %d: %.3f ms\n", what,
	       np_plan_fits(p), np_plan_score(p)->exact,
	       (unsigned long long)np_plan_score(p)->steps, np_plan_score(p)->max_distance, reps,
	       best);
	np_plan_free(p);
}

static void test_performance(void)
{
	const char *fixture = (t_needs(NP_HAVE_HWLOC, "hwloc"),
			       t_fixture("256ia64-64n2s2c")); /* first: a skip leaks nothing */
	struct np_error err = {0};
	struct cspec c[8], cd[6];
	struct tspec s = {16, 8, 2, 2, 16384, 0, NULL, 0, NULL};
	np_topo *t = NULL, *t16 = mk_topo(&s);
	np_host *h = NULL, *h16 = mk_host(t16);
	np_request *r, *rd;

	for (int i = 0; i < 8; i++)
		c[i] = (struct cspec){2, 0, 2048, 0, -1};
	for (int i = 0; i < 6; i++)
		cd[i] = (struct cspec){0, 1, 1024, 0, -1};
	r = mk_req(c, 8, NP_CPU_POLICY_SHARED, true);
	rd = mk_req(cd, 6, NP_CPU_POLICY_DEDICATED, true);
	if (np_topo_load(NP_SOURCE_SYSFS, fixture, &t, &err) == 0 &&
	    np_host_new(t, &h, &err) == 0)
		time_case("8 cells on 256ia64-64n2s2c (64 nodes)", h, r, 200);
	else
		CHECK(0, "fixture: %s", err.message);
	/* Only 5 of 16 nodes have a free CPU: 6 pinned cells cannot fit. */
	for (int j = 5; h16 && j < 16; j++)
		np_host_add_usage(h16, j, 0, 0, np_host_node(h16, j)->dedicated,
				  np_host_node(h16, j)->ndedicated, NULL);
	if (h16)
		time_case("6 pinned cells on 16 nodes, no fit", h16, rd, 200);
	np_request_free(r);
	np_request_free(rd);
	np_host_free(h);
	np_host_free(h16);
	np_topo_free(t);
	np_topo_free(t16);
}

static void test_strategy_names(void)
{
	enum np_strategy st = NP_STRATEGY_SPREAD;

	CHECK(np_strategy_from_name("pack", &st) == 0 && st == NP_STRATEGY_PACK &&
		  np_strategy_from_name("spread", &st) == 0 && st == NP_STRATEGY_SPREAD,
	      "strategy names");
	CHECK(np_strategy_from_name("fill", &st) == NP_EINPUT && st == NP_STRATEGY_SPREAD &&
		  !strcmp(np_strategy_name(NP_STRATEGY_PACK), "pack") &&
		  !strcmp(np_strategy_name((enum np_strategy)5), "unknown"),
	      "unknown strategy names");
}

int main(void)
{
	T_CASE("strategy", test_strategy());
	T_CASE("strategy-names", test_strategy_names());
	T_CASE("distance", test_distance());
	T_CASE("weighted", test_weighted());
	T_CASE("prefer", test_prefer());
	T_CASE("isolate-require", test_isolate_require());
	T_CASE("emulator", test_emulator());
	T_CASE("pages", test_pages());
	T_CASE("limits", test_limits());
	T_CASE("pci", test_pci());
	T_CASE("pci-address", test_pci_address());
	T_CASE("pci-address-validator", test_pci_address_validator());
	T_CASE("mempolicy", test_mempolicy());
	T_CASE("demand", test_demand());
	T_CASE("demand-helpers", test_demand_helpers());
	T_CASE("demand-flavors", test_demand_flavors());
	T_CASE("fallback-memoryless", test_fallback_memoryless());
	T_CASE("flat", test_flat());
	T_CASE("flat-room", test_flat_room());
	T_CASE("memory-basis", test_memory_basis());
	T_CASE("equal-nodes", test_equal_nodes());
	T_CASE("require-no-smt", test_require_no_smt());
	T_CASE("no-fit-summary", test_no_fit_summary());
	T_CASE("pnode", test_pnode());
	T_CASE("answers", test_answers());
	T_CASE("nova-defect", test_nova_defect());
	T_CASE("budget", test_budget());
	T_CASE("nova-requests", test_nova_requests());
	T_CASE("explain-single", test_explain_single());
	T_CASE("brute-force", test_brute_force());
	T_CASE("maxd-bound", test_maxd_bound());
	T_CASE("sweep", test_sweep());
	T_CASE("validator", test_validator());
	T_CASE("performance", test_performance());
	printf("%d engine plans validated\n", validations);
	t_cleanup();
	return t_done();
}
