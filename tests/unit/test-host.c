/*
 * test-host.c - np_host: defaults derived from real topologies (hwloc
 * sysfs fixtures), the setters and their refusals, the invariant checker
 * on hand-corrupted hosts, cloning, and charging / releasing plans (a
 * round trip must give the host back exactly; a failed charge changes
 * nothing).
 */
#include <numaplace/host.h>
#include <numaplace/place.h>
#include <numaplace/plan.h>

#include "check.h"
#include "place/place-int.h"
#include "plan/plan-int.h"
#include "request/request-int.h"
#include "topology/topo-int.h"

/* ---- defaults from a real machine ---------------------------------------- */

static np_topo *load_fixture(const char *name)
{
	struct np_error err = {0};
	np_topo *t = NULL;

	if (np_topo_load(NP_SOURCE_SYSFS, t_fixture(name), &t, &err))
		fprintf(stderr, "cannot load %s: %s\n", name, err.message);
	return t;
}

static bool in_list(const int *a, int n, int x)
{
	for (int i = 0; i < n; i++)
		if (a[i] == x)
			return true;
	return false;
}

/* Siblings: every group one core of the topology, together all the CPUs. */
static void check_siblings(const np_topo *t, const struct np_host_node *hn)
{
	int seen = 0;

	for (int g = 0; g < hn->nsiblings; g++) {
		const struct np_cpu *first =
		    np_topo_cpu(t, np_topo_cpu_index(t, hn->siblings[g][0]));

		for (const int *s = hn->siblings[g]; *s >= 0; s++, seen++) {
			const struct np_cpu *c = np_topo_cpu(t, np_topo_cpu_index(t, *s));

			CHECK(c->core == first->core && c->socket == first->socket,
			      "node %d: CPU %d grouped with CPU %d of another core", hn->os_id, *s,
			      hn->siblings[g][0]);
			CHECK(in_list(hn->shared, hn->nshared, *s),
			      "node %d: sibling %d not shared", hn->os_id, *s);
		}
	}
	CHECK(seen == hn->nshared, "node %d: %d CPUs in sibling groups, %d shared", hn->os_id, seen,
	      hn->nshared);
}

static void check_pools(const np_topo *t, int j, const struct np_host_node *hn)
{
	const struct np_node *tn = np_topo_node(t, j);
	uint64_t kb = 0;

	CHECK(hn->npools >= 1 && hn->pools[0].size_kb == 4, "node %d: a 4 KiB pool first",
	      hn->os_id);
	for (int p = 0; p < hn->npools; p++)
		kb += hn->pools[p].total * hn->pools[p].size_kb;
	CHECK(kb <= tn->mem_total_kb && tn->mem_total_kb - kb < 4,
	      "node %d: pools hold %llu KiB of %llu", hn->os_id, (unsigned long long)kb,
	      (unsigned long long)tn->mem_total_kb);
	for (int p = 0; p < tn->npools; p++) {
		const struct np_page_pool *hp = NULL;

		for (int q = 0; q < hn->npools; q++)
			if (hn->pools[q].size_kb == tn->pools[p].size_kb)
				hp = &hn->pools[q];
		CHECK(hp && hp->total == tn->pools[p].total &&
			  hp->reserved == tn->pools[p].total - tn->pools[p].free && hp->used == 0,
		      "node %d: %llu KiB huge page pool", hn->os_id,
		      (unsigned long long)tn->pools[p].size_kb);
	}
}

static void check_defaults(const char *fixture)
{
	struct np_error err = {0};
	np_topo *t = load_fixture(fixture);
	np_host *h = NULL;
	double cr = 0, rr = 0;
	int devices = 0;

	if (!t)
		return;
	CHECK(np_host_new(t, &h, &err) == 0, "%s: %s", fixture, err.message);
	if (!h)
		goto out;
	CHECK(np_host_check(h, &err) == 0, "%s: check: %s", fixture, err.message);
	CHECK(np_host_limits(h, &cr, &rr) && cr == 16.0 && rr == 1.0, "%s: ratios", fixture);
	CHECK(np_host_topo(h) == t, "topology kept");
	for (int j = 0; j < np_topo_node_count(t); j++) {
		const struct np_node *tn = np_topo_node(t, j);
		const struct np_host_node *hn = np_host_node(h, j);
		int online = 0;

		for (int c = 0; c < tn->ncpus; c++)
			online += np_topo_cpu(t, np_topo_cpu_index(t, tn->cpus[c]))->online;
		CHECK(hn->os_id == tn->os_id && hn->memory_mb == tn->mem_total_kb / 1024,
		      "%s node %d: id and memory", fixture, tn->os_id);
		CHECK(hn->nshared == online && hn->ndedicated == online &&
			  !memcmp(hn->shared, hn->dedicated, (size_t)online * sizeof(int)),
		      "%s node %d: %d shared, %d dedicated, %d online", fixture, tn->os_id,
		      hn->nshared, hn->ndedicated, online);
		for (int c = 0; c < hn->nshared; c++)
			CHECK(np_topo_cpu(t, np_topo_cpu_index(t, hn->shared[c]))->online,
			      "%s: offline CPU %d is shared", fixture, hn->shared[c]);
		CHECK(hn->memory_used_mb == 0 && hn->cpu_usage == 0 && hn->npinned == 0,
		      "%s node %d: nothing used", fixture, tn->os_id);
		check_siblings(t, hn);
		check_pools(t, j, hn);
	}
	for (int p = 0; p < np_host_pci_pool_count(h); p++) {
		const struct np_pci_pool *pp = np_host_pci_pool(h, p);

		devices += pp->count;
		for (int q = 0; q < p; q++) {
			const struct np_pci_pool *o = np_host_pci_pool(h, q);

			CHECK(o->node_idx != pp->node_idx || o->vendor != pp->vendor ||
				  o->product != pp->product,
			      "%s: PCI pools %d and %d are one kind", fixture, q, p);
		}
	}
	CHECK(devices == np_topo_device_count(t), "%s: %d devices in pools, %d in the topology",
	      fixture, devices, np_topo_device_count(t));
out:
	np_host_free(h);
	np_topo_free(t);
}

/* The SMT fixture has two threads per core: every group is a pair. */
static void check_smt_pairs(void)
{
	struct np_error err = {0};
	np_topo *t = load_fixture("32intel64-2p8co2t+8ve");
	np_host *h = NULL;

	if (!t || np_host_new(t, &h, &err)) {
		CHECK(0, "SMT fixture: %s", err.message);
		np_topo_free(t);
		return;
	}
	for (int j = 0; j < np_topo_node_count(t); j++) {
		const struct np_host_node *hn = np_host_node(h, j);

		CHECK(hn->nsiblings * 2 == hn->nshared, "node %d: %d groups for %d CPUs", hn->os_id,
		      hn->nsiblings, hn->nshared);
		for (int g = 0; g < hn->nsiblings; g++)
			CHECK(hn->siblings[g][0] >= 0 && hn->siblings[g][1] >= 0 &&
				  hn->siblings[g][2] == -1 &&
				  hn->siblings[g][0] < hn->siblings[g][1],
			      "node %d group %d is an ordered pair", hn->os_id, g);
		CHECK(hn->socket >= 0, "node %d: socket known", hn->os_id);
	}
	np_host_free(h);
	np_topo_free(t);
}

/* ---- a small hand-made host ---------------------------------------------- */

/* Nodes 0 and 5, four CPUs each in SMT pairs, 2 MiB pages and a NIC on 0. */
static np_topo *small_topo(void)
{
	struct np_error err = {0};
	np__tb *b = np__tb_new(NP_SOURCE_JSON, "small");
	np_topo *t = NULL;

	np__tb_node(b, 0, 4096 * 1024);
	np__tb_node(b, 5, 4096 * 1024);
	for (int c = 0; c < 8; c++)
		np__tb_cpu(b, c, c < 4 ? 0 : 5, c / 2, c < 4 ? 0 : 1, true);
	np__tb_hugepages(b, 0, 2048, 256, 200);
	np__tb_distance(b, 0, 0, 10);
	np__tb_distance(b, 5, 5, 10);
	np__tb_distance(b, 0, 5, 21);
	np__tb_distance(b, 5, 0, 21);
	np__tb_device(b, "0000:01:00.0", 0x8086, 0x154d, 0x020000, 0);
	np__tb_device(b, "0000:01:00.1", 0x8086, 0x154d, 0x020000, 0);
	np__tb_device(b, "0000:02:00.0", 0x8086, 0x154d, 0x020000, -1);
	if (np__tb_finish(b, &t, &err))
		fprintf(stderr, "small topology: %s\n", err.message);
	return t;
}

static void expect_err(int rc, const struct np_error *err, const char *needle, const char *what)
{
	CHECK(rc == NP_EINPUT, "%s: rc %d", what, rc);
	CHECK(strstr(err->message, needle) != NULL, "%s: message '%s' lacks '%s'", what,
	      err->message, needle);
}

static void check_setters(const np_topo *t)
{
	struct np_error err = {0};
	np_host *h = NULL;
	const struct np_host_node *n0;
	int other[] = {4}, dup[] = {1, 1}, sh[] = {1, 0}, de[] = {2, 3}, pin[] = {2};
	int notded[] = {0};

	if (np_host_new(t, &h, &err))
		return;
	n0 = np_host_node(h, 0);
	CHECK(np_host_node(h, 1)->os_id == 5 && !np_host_node(h, 2), "node indexes");
	CHECK(n0->npools == 2 && n0->pools[1].size_kb == 2048 && n0->pools[1].reserved == 56 &&
		  n0->pools[0].total == (4096 - 512) * 256,
	      "node 0 pools: 4 KiB for the rest, 2 MiB with 56 taken");
	CHECK(np_host_pci_pool_count(h) == 2, "one pool on node 0, one without node");
	expect_err(np_host_set_cpus(h, 0, other, 1, de, 2, &err), &err, "not a CPU of the node",
		   "foreign CPU");
	expect_err(np_host_set_cpus(h, 0, dup, 2, de, 2, &err), &err, "is listed twice",
		   "duplicate");
	expect_err(np_host_set_cpus(h, 7, sh, 2, de, 2, &err), &err, "out of range", "bad node");
	CHECK(np_host_set_cpus(h, 0, sh, 2, de, 2, &err) == 0, "split CPUs: %s", err.message);
	n0 = np_host_node(h, 0);
	CHECK(n0->nshared == 2 && n0->shared[0] == 0 && n0->ndedicated == 2 &&
		  n0->dedicated[0] == 2,
	      "shared 0-1, dedicated 2-3 (sorted)");
	CHECK(n0->nsiblings == 2, "still two cores");
	expect_err(np_host_add_usage(h, 0, 0, 0, notded, 1, &err), &err, "not a dedicated CPU",
		   "pin a shared CPU");
	CHECK(np_host_node(h, 0)->npinned == 0, "nothing pinned after a refusal");
	CHECK(np_host_add_usage(h, 0, 3, 100, pin, 1, &err) == 0, "usage: %s", err.message);
	expect_err(np_host_add_usage(h, 0, 1, 1, pin, 1, &err), &err, "already pinned",
		   "pin twice");
	n0 = np_host_node(h, 0);
	CHECK(n0->cpu_usage == 3 && n0->memory_used_mb == 100 && n0->npinned == 1,
	      "usage counted once");
	expect_err(np_host_set_cpus(h, 0, sh, 2, de + 1, 1, &err), &err, "would not be dedicated",
		   "unpinned by a reconfiguration");
	expect_err(np_host_add_pages_used(h, 0, 2048, 201, &err), &err, "free", "pages over");
	expect_err(np_host_add_pages_used(h, 1, 2048, 1, &err), &err, "no 2048 KiB", "no pool");
	CHECK(np_host_add_pages_used(h, 0, 2048, 200, &err) == 0, "all free pages: %s",
	      err.message);
	{
		struct np_page_pool twice[] = {{4, 10, 0, 0}, {4, 10, 0, 0}};
		struct np_page_pool over[] = {{2048, 10, 8, 3}};
		struct np_page_pool ok[] = {{1048576, 2, 0, 0}, {4, 100, 0, 0}};
		struct np_pci_pool badn[] = {{9, 1, 1, 1, 0}}, badu[] = {{0, 1, 1, 1, 2}};

		expect_err(np_host_set_pools(h, 1, twice, 2, &err), &err, "twice",
			   "pool size twice");
		expect_err(np_host_set_pools(h, 1, over, 1, &err), &err, "more pages", "pool over");
		CHECK(np_host_set_pools(h, 1, ok, 2, &err) == 0 &&
			  np_host_node(h, 1)->pools[0].size_kb == 4,
		      "pools sorted: %s", err.message);
		expect_err(np_host_set_pci_pools(h, badn, 1, &err), &err, "out of range",
			   "PCI node");
		expect_err(np_host_set_pci_pools(h, badu, 1, &err), &err, "used", "PCI used");
	}
	CHECK(np_host_check(h, &err) == 0, "still consistent: %s", err.message);
	np_host_free(h);
}

/* White box: a host corrupted behind the API's back must fail the check. */
static void check_checker(const np_topo *t)
{
	struct np_error err = {0};
	np_host *h = NULL;
	struct np_page_pool *p;
	int *pinned;

	if (np_host_new(t, &h, &err))
		return;
	p = (struct np_page_pool *)np_host_node(h, 0)->pools;
	p[1].used = p[1].total;
	CHECK(np_host_check(h, &err) == NP_EINPUT && strstr(err.message, "inconsistent"),
	      "pool over-used: %s", err.message);
	p[1].used = 0;
	CHECK(np_host_check(h, &err) == 0, "repaired");
	CHECK(np_host_add_usage(h, 1, 0, 0, (int[]){5}, 1, &err) == 0, "pin 5");
	pinned = (int *)np_host_node(h, 1)->pinned;
	pinned[0] = 1; /* a CPU of another node */
	CHECK(np_host_check(h, &err) == NP_EINPUT && strstr(err.message, "not dedicated"),
	      "pinned elsewhere: %s", err.message);
	np_host_free(h);
}

static void check_clone(const np_topo *t)
{
	struct np_error err = {0};
	np_host *h = NULL, *c = NULL;

	if (np_host_new(t, &h, &err) || np_host_clone(h, &c, &err)) {
		CHECK(0, "clone: %s", err.message);
		np_host_free(h);
		return;
	}
	CHECK(np_host_add_usage(c, 0, 2, 512, (int[]){1}, 1, &err) == 0, "clone usage");
	CHECK(np_host_node(h, 0)->npinned == 0 && np_host_node(h, 0)->memory_used_mb == 0,
	      "the original does not see the clone's usage");
	CHECK(np_host_node(c, 0)->siblings[0] != np_host_node(h, 0)->siblings[0],
	      "siblings copied, not shared");
	CHECK(np_host_check(c, &err) == 0, "clone consistent: %s", err.message);
	np_host_free(c);
	np_host_free(h);
	np_host_free(NULL);
}

/* ---- clones equal their source, field by field ------------------------------- */

static bool same_ints(const int *a, const int *b, int n)
{
	return n <= 0 || !memcmp(a, b, (size_t)n * sizeof(int));
}

/* Node J of A and B: equal values, in arrays of their own. */
static void same_node(const np_host *a, const np_host *b, int j, const char *what)
{
	const struct np_host_node *x = np_host_node(a, j), *y = np_host_node(b, j);
	bool counts = x->os_id == y->os_id && x->socket == y->socket &&
		      x->memory_mb == y->memory_mb && x->memory_used_mb == y->memory_used_mb &&
		      x->memory_free_mb == y->memory_free_mb && x->cpu_usage == y->cpu_usage &&
		      x->nshared == y->nshared && x->ndedicated == y->ndedicated &&
		      x->npinned == y->npinned && x->nsiblings == y->nsiblings &&
		      x->npools == y->npools;

	CHECK(counts, "%s: node %d: counts or usage differ", what, j);
	if (!counts)
		return;
	CHECK(same_ints(x->shared, y->shared, x->nshared) &&
		  same_ints(x->dedicated, y->dedicated, x->ndedicated) &&
		  same_ints(x->pinned, y->pinned, x->npinned),
	      "%s: node %d: CPU lists differ", what, j);
	CHECK(x->shared != y->shared && x->dedicated != y->dedicated && x->pinned != y->pinned &&
		  x->pools != y->pools && (x->nsiblings == 0 || x->siblings != y->siblings),
	      "%s: node %d: an array is shared", what, j);
	for (int g = 0; g < x->nsiblings; g++) {
		int k = 0;

		while (x->siblings[g][k] >= 0 && x->siblings[g][k] == y->siblings[g][k])
			k++;
		CHECK(x->siblings[g][k] == y->siblings[g][k], "%s: node %d: sibling group %d",
		      what, j, g);
	}
	CHECK(x->npools == 0 || !memcmp(x->pools, y->pools, (size_t)x->npools * sizeof(*x->pools)),
	      "%s: node %d: page pools differ", what, j);
}

/* Everything np_host_new derives from the topology: twins and distances. */
static void same_derived(const np_host *a, const np_host *b, const char *what)
{
	size_t n = (size_t)np_topo_node_count(np_host_topo(a));
	const struct np__dist *x = np__host_dist(a), *y = np__host_dist(b);

	CHECK(same_ints(np__host_twins(a), np__host_twins(b), (int)n), "%s: twins", what);
	CHECK(x->nthresholds == y->nthresholds && x->uniform == y->uniform &&
		  !memcmp(x->sym, y->sym, n * n * sizeof(*x->sym)) &&
		  !memcmp(x->dd, y->dd, n * n * sizeof(*x->dd)) &&
		  !memcmp(x->thresholds, y->thresholds, (size_t)x->nthresholds * sizeof(*x->thresholds)) &&
		  (n < 2 || !memcmp(x->order, y->order, n * (n - 1) * sizeof(*x->order))),
	      "%s: distances", what);
}

static void same_host(const np_host *a, const np_host *b, const char *what)
{
	double ac = 0, ar = 0, bc = 0, br = 0;
	struct np_error err = {0};

	CHECK(np_host_check(b, &err) == 0, "%s: check: %s", what, err.message);
	CHECK(np_host_topo(a) == np_host_topo(b), "%s: topology", what);
	CHECK(np_host_limits(a, &ac, &ar) == np_host_limits(b, &bc, &br) && ac == bc && ar == br,
	      "%s: limits", what);
	CHECK(np_host_memory_basis(a) == np_host_memory_basis(b), "%s: memory basis", what);
	for (int j = 0; j < np_topo_node_count(np_host_topo(a)); j++)
		same_node(a, b, j, what);
	CHECK(np_host_pci_pool_count(a) == np_host_pci_pool_count(b), "%s: PCI pools", what);
	for (int i = 0; i < np_host_pci_pool_count(a) && i < np_host_pci_pool_count(b); i++)
		CHECK(!memcmp(np_host_pci_pool(a, i), np_host_pci_pool(b, i), sizeof(struct np_pci_pool)),
		      "%s: PCI pool %d", what, i);
	same_derived(a, b, what);
}

/*
 * Usage on every node that can take it: floating vCPUs and memory, the
 * odd dedicated CPUs pinned, a page of each huge page pool, a device of
 * each PCI pool; and a host-wide change (limits, basis).
 */
static void use_host(np_host *h)
{
	struct np_error err = {0};
	const np_topo *t = np_host_topo(h);

	np_host_set_limits(h, true, 4.0, 1.5);
	for (int j = 0; j < np_topo_node_count(t); j++) {
		const struct np_host_node *hn = np_host_node(h, j);
		int pins[64], n = 0;

		for (int c = 1; c < hn->ndedicated && n < 64; c += 2)
			pins[n++] = hn->dedicated[c];
		CHECK(np_host_add_usage(h, j, 3, hn->memory_mb / 4, pins, n, &err) == 0,
		      "node %d usage: %s", j, err.message);
		for (int p = 1; p < hn->npools; p++)
			if (hn->pools[p].total > hn->pools[p].reserved)
				CHECK(np_host_add_pages_used(h, j, hn->pools[p].size_kb, 1, &err) == 0,
				      "node %d pages: %s", j, err.message);
	}
	if (np_host_pci_pool_count(h)) {
		struct np_pci_pool pools[64];
		int n = np_host_pci_pool_count(h) < 64 ? np_host_pci_pool_count(h) : 64;

		for (int i = 0; i < n; i++) {
			pools[i] = *np_host_pci_pool(h, i);
			pools[i].used = pools[i].count > 0;
		}
		CHECK(np_host_set_pci_pools(h, pools, n, &err) == 0, "PCI: %s", err.message);
	}
}

/*
 * Every setter on clone C (its arrays live in one allocation: a setter
 * replaces some of them; ASan says if one is freed wrongly), while SRC,
 * the host it was cloned from, stays as it was (SAVED, a clone made
 * before).
 */
static void change_clone(np_host *c, const np_host *src, const np_host *saved)
{
	struct np_error err = {0};
	const np_topo *t = np_host_topo(c);
	struct np_page_pool pools[8];

	for (int j = 0; j < np_topo_node_count(t); j++) {
		const struct np_host_node *hn = np_host_node(c, j);
		int free_cpu = -1, npools = hn->npools < 8 ? hn->npools : 8;

		for (int k = 0; k < hn->ndedicated && free_cpu < 0; k++)
			if (!in_list(hn->pinned, hn->npinned, hn->dedicated[k]))
				free_cpu = hn->dedicated[k];
		if (free_cpu >= 0)
			CHECK(np_host_add_usage(c, j, 1, 1, &free_cpu, 1, &err) == 0,
			      "clone: pin one more on node %d: %s", j, err.message);
		hn = np_host_node(c, j);
		CHECK(np_host_set_cpus(c, j, hn->shared, hn->nshared > 0 ? hn->nshared - 1 : 0,
				       hn->dedicated, hn->ndedicated, &err) == 0,
		      "clone: set_cpus on node %d: %s", j, err.message);
		memcpy(pools, hn->pools, (size_t)npools * sizeof(*pools));
		CHECK(np_host_set_pools(c, j, pools, npools, &err) == 0,
		      "clone: set_pools on node %d: %s", j, err.message);
	}
	np_host_set_limits(c, false, 2.0, 1.0);
	if (np_host_pci_pool_count(c)) {
		struct np_pci_pool pci = *np_host_pci_pool(c, 0);

		pci.used = 0;
		CHECK(np_host_set_pci_pools(c, &pci, 1, &err) == 0, "clone: PCI: %s", err.message);
	}
	CHECK(np_host_check(c, &err) == 0, "changed clone: %s", err.message);
	same_host(saved, src, "the source after its clone changed");
}

/* A topology with a node without CPUs (memory only) between two with. */
static np_topo *cpuless_topo(void)
{
	struct np_error err = {0};
	np__tb *b = np__tb_new(NP_SOURCE_JSON, "cpuless");
	np_topo *t = NULL;

	for (int n = 0; n < 3; n++)
		np__tb_node(b, n, (uint64_t)(n + 1) * 2048 * 1024);
	for (int c = 0; c < 8; c++)
		np__tb_cpu(b, c, c < 4 ? 0 : 2, c / 2, c < 4 ? 0 : 1, true);
	np__tb_hugepages(b, 1, 2048, 128, 128);
	np__tb_hugepages(b, 2, 1048576, 1, 1);
	for (int x = 0; x < 3; x++)
		for (int y = 0; y < 3; y++)
			np__tb_distance(b, x, y, x == y ? 10 : 20 + x + y);
	np__tb_device(b, "0000:03:00.0", 0x10de, 0x2330, 0x030200, 1);
	if (np__tb_finish(b, &t, &err))
		fprintf(stderr, "cpuless topology: %s\n", err.message);
	return t;
}

/*
 * A clone of a used host equals it (and a clone of the clone), each in
 * arrays of its own; setters on the clone leave the source alone; a
 * charge on the clone (which swaps another clone in) keeps it checked.
 */
static void check_clone_equal(const np_topo *t, const char *what)
{
	struct np_error err = {0};
	np_host *h = NULL, *c = NULL, *cc = NULL, *saved = NULL;

	if (!t) {
		CHECK(0, "%s: no topology", what);
		return;
	}
	if (np_host_new(t, &h, &err)) {
		CHECK(0, "%s: %s", what, err.message);
		return;
	}
	use_host(h);
	if (np_host_clone(h, &c, &err) || np_host_clone(c, &cc, &err) ||
	    np_host_clone(h, &saved, &err)) {
		CHECK(0, "%s: clone: %s", what, err.message);
		goto out;
	}
	same_host(h, c, what);
	same_host(c, cc, what);
	change_clone(c, h, saved);
	change_clone(cc, h, saved);
	np_host_free(c); /* the source outlives its clones, or not: */
	c = NULL;
	np_host_free(h);
	h = NULL;
	if (np_host_clone(cc, &c, &err) == 0)
		same_host(cc, c, "a clone's clone, its sources freed");
	else
		CHECK(0, "%s: clone: %s", what, err.message);
out:
	np_host_free(saved);
	np_host_free(cc);
	np_host_free(c);
	np_host_free(h);
}

static void check_clone_cpuless(void)
{
	np_topo *t = cpuless_topo();

	check_clone_equal(t, "cpuless-node");
	np_topo_free(t);
}

static void check_clone_fixture(const char *fixture)
{
	np_topo *t = load_fixture(fixture);

	if (t)
		check_clone_equal(t, fixture);
	np_topo_free(t);
}

/* ---- charge and release ----------------------------------------------------- */

struct snap {
	uint64_t mem[2], pages[2][4];
	unsigned cpu[2];
	int npinned[2], pinned[2][8], pci[4];
};

static void take(const np_host *h, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	for (int j = 0; j < 2; j++) {
		const struct np_host_node *hn = np_host_node(h, j);

		s->mem[j] = hn->memory_used_mb;
		s->cpu[j] = hn->cpu_usage;
		s->npinned[j] = hn->npinned;
		for (int i = 0; i < hn->npinned && i < 8; i++)
			s->pinned[j][i] = hn->pinned[i];
		for (int p = 0; p < hn->npools && p < 4; p++)
			s->pages[j][p] = hn->pools[p].used;
	}
	for (int p = 0; p < np_host_pci_pool_count(h) && p < 4; p++)
		s->pci[p] = np_host_pci_pool(h, p)->used;
}

/* A pinned guest: isolate, emulator isolate, 2 MiB pages, a NIC. */
static np_request *pinned_guest(void)
{
	np_request *r = np__request_new(1, 256);
	struct np_pci_request nic = {"nic", 0x8086, 0x154d, 1, NP_PCI_POLICY_REQUIRED, ""};

	r->numa = true;
	r->cpu_policy = NP_CPU_POLICY_DEDICATED;
	r->thread_policy = NP_THREAD_POLICY_ISOLATE;
	r->emulator_policy = NP_EMULATOR_POLICY_ISOLATE;
	np__request_add_cell(r, NULL, 0, (int[]){0}, 1, 256, 2048, -1);
	np__request_add_pci(r, &nic);
	return r;
}

static void check_charge(const np_topo *t)
{
	struct np_error err = {0};
	np_request *r = pinned_guest();
	np_host *h = NULL;
	np_plan *p = NULL, *bad;
	struct snap s0, s1, s2;
	const struct np_plan_cell *c;

	if (np_host_new(t, &h, &err) || np_place(h, r, NULL, &p, &err)) {
		CHECK(0, "place: %s", err.message);
		goto out;
	}
	CHECK(np_plan_fits(p) && np_plan_validate(h, r, p, &err) == 0, "plan valid: %s",
	      err.message);
	c = np_plan_cell(p, 0);
	CHECK(c && c->node_idx == 0 && c->npins == 1 && c->nreserved == 1 && c->nblocked == 2,
	      "node 0 (the NIC), one pin, one emulator CPU, their siblings blocked");
	take(h, &s0);
	CHECK(np_host_charge(h, p, false, &err) == 0, "charge: %s", err.message);
	take(h, &s1);
	CHECK(s1.mem[0] == 256 && s1.pages[0][1] == 128 && s1.npinned[0] == 4 && s1.pci[0] == 1,
	      "charged: memory, 128 pages, both cores, the NIC");
	CHECK(np_host_check(h, &err) == 0, "consistent after charge: %s", err.message);
	CHECK(np_host_charge(h, p, false, &err) == NP_EINPUT, "a second charge fails");
	take(h, &s2);
	CHECK(!memcmp(&s1, &s2, sizeof(s1)), "a failed charge changes nothing");
	CHECK(np_host_charge(h, p, true, &err) == 0, "release: %s", err.message);
	take(h, &s2);
	CHECK(!memcmp(&s0, &s2, sizeof(s0)), "release gives everything back");
	CHECK(np_host_charge(h, p, true, &err) == 0, "release twice");
	take(h, &s2);
	CHECK(!memcmp(&s0, &s2, sizeof(s0)), "a second release never goes below zero");
	bad = np__plan_new();
	np__plan_add_cell(bad, &(struct np_plan_cell){.guest_cell = 0, .node_idx = 9});
	bad->fits = true;
	CHECK(np_host_charge(h, bad, false, &err) == NP_EINPUT, "a plan for another host");
	np_plan_free(bad);
out:
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
}

int main(void)
{
	np_topo *t;

	T_CASE("defaults:32intel64-2p8co2t+8ve", check_defaults("32intel64-2p8co2t+8ve"));
	T_CASE("defaults:offline-cpu0-node0", check_defaults("offline-cpu0-node0"));
	T_CASE("defaults:256ia64-64n2s2c", check_defaults("256ia64-64n2s2c"));
	T_CASE("defaults:nvidiagpunumanodes", check_defaults("nvidiagpunumanodes"));
	T_CASE("smt-pairs", check_smt_pairs());
	T_CASE("clone-equal:32intel64-2p8co2t+8ve", check_clone_fixture("32intel64-2p8co2t+8ve"));
	T_CASE("clone-equal:offline-cpu0-node0", check_clone_fixture("offline-cpu0-node0"));
	T_CASE("clone-equal:256ia64-64n2s2c", check_clone_fixture("256ia64-64n2s2c"));
	T_CASE("clone-equal:nvidiagpunumanodes", check_clone_fixture("nvidiagpunumanodes"));
	T_CASE("clone-equal:cpuless-node", check_clone_cpuless());
	t = small_topo();
	if (t) {
		T_CASE("setters", check_setters(t));
		T_CASE("checker", check_checker(t));
		T_CASE("clone", check_clone(t));
		T_CASE("clone-equal:small", check_clone_equal(t, "small"));
		T_CASE("charge", check_charge(t));
	}
	np_topo_free(t);
	t_cleanup();
	return t_done();
}
