/*
 * test-topo.c - the builder and the invariant checker: what every source
 * relies on.  Builds small topologies by hand, good and broken.
 */
#include <stdlib.h>

#include "check.h"
#include "topology/topo-int.h"

/* Two nodes with sparse ids 0 and 33, four CPUs, one device, 2 MiB pages. */
static np__tb *two_nodes(void)
{
	np__tb *b = np__tb_new(NP_SOURCE_JSON, "hand");

	np__tb_node(b, 33, 2048 * 1024);
	np__tb_node(b, 0, 1024 * 1024);
	np__tb_node_free(b, 0, 512 * 1024);
	np__tb_cpu(b, 3, 33, 1, 1, true);
	np__tb_cpu(b, 0, 0, 0, 0, true);
	np__tb_cpu(b, 1, 0, 0, 0, true);
	np__tb_cpu(b, 2, 33, 1, 1, false);
	np__tb_hugepages(b, 0, 2048, 10, 4);
	np__tb_hugepages(b, 0, 1048576, 1, 1);
	np__tb_device(b, "00:1f.2", 0x8086, 0x1234, 0x010601, 33);
	return b;
}

static void expect_fail(np__tb *b, const char *needle)
{
	np_topo *t = NULL;
	struct np_error err = { 0 };
	int rc = np__tb_finish(b, &t, &err);

	CHECK(rc == NP_EINPUT && t == NULL, "'%s': rc %d", needle, rc);
	CHECK(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'", err.message,
	      needle);
	CHECK(strncmp(err.message, "cannot load 'hand': ", 20) == 0, "prefix: %s",
	      err.message);
}

/*
 * The memory fallback rule (fallback.c): nodes 0, 1, 2, 3 and 5, node 3
 * without memory, node 5 unreachable from node 0; rows are "from".
 */
static void test_fallback(void)
{
	static const int ids[] = { 0, 1, 2, 3, 5 };
	static const uint32_t d[5][5] = {
		{ 10, 20, 20, 15, NP_DISTANCE_UNREACHABLE },
		{ 20, 10, 30, 30, 30 },
		{ 20, 12, 10, 30, 25 },
		{ 15, 30, 30, 10, 30 },
		{ NP_DISTANCE_UNREACHABLE, 30, 25, 30, 10 },
	};
	np__tb *b = np__tb_new(NP_SOURCE_JSON, "hand");
	struct np_error err = { 0 };
	np_topo *t = NULL;
	int out[5], set[2], n;

	for (int i = 0; i < 5; i++) {
		np__tb_node(b, ids[i], ids[i] == 3 ? 0 : 1024 * 1024);
		np__tb_cpu(b, i, ids[i], i, 0, true);
	}
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 5; j++)
			np__tb_distance(b, ids[i], ids[j], d[i][j]);
	CHECK(np__tb_finish(b, &t, &err) == 0, "fallback topology: %s", err.message);
	if (!t)
		return;
	set[0] = 0;
	n = np__topo_fallback(t, set, 1, out, 5);
	CHECK(n == 2 && out[0] == 1 && out[1] == 2,
	      "from node 0: 1 and 2 (20, by id); 3 has no memory, 5 is unreachable (%d)", n);
	set[1] = 2;
	n = np__topo_fallback(t, set, 2, out, 5);
	CHECK(n == 2 && out[0] == 1 && out[1] == 4,
	      "from {0,2}: 1 (12 from node 2), then node 5 (25 from node 2) (%d)", n);
	set[0] = 1;
	n = np__topo_fallback(t, set, 1, out, 5);
	CHECK(n == 3 && out[0] == 0 && out[1] == 2 && out[2] == 4,
	      "from node 1: 0 (20), then 2 and 5 (30, by id) (%d)", n);
	out[1] = -7;
	CHECK(np__topo_fallback(t, set, 1, out, 1) == 3 && out[0] == 0 && out[1] == -7,
	      "MAX 1: the count of all, one written");
	np_topo_free(t);
}

static void test_build(void)
{
	np_topo *t = NULL;
	struct np_error err = { 0 };
	int sib[8], n;

	CHECK(np__tb_finish(two_nodes(), &t, &err) == 0, "build: %s", err.message);
	if (!t)
		return;
	CHECK(np_topo_check(t, &err) == 0, "check: %s", err.message);
	CHECK(np_topo_node_count(t) == 2, "2 nodes");
	CHECK(np_topo_node(t, 0)->os_id == 0 && np_topo_node(t, 1)->os_id == 33,
	      "nodes sorted by id");
	CHECK(np_topo_node_index(t, 33) == 1 && np_topo_node_index(t, 5) == -1, "index");
	CHECK(np_topo_node(t, 0)->mem_free_kb == 512 * 1024, "free given");
	CHECK(np_topo_node(t, 1)->mem_free_kb == 2048 * 1024, "free defaults to total");
	CHECK(np_topo_node(t, 1)->ncpus == 2 && np_topo_node(t, 1)->cpus[0] == 2 &&
		      np_topo_node(t, 1)->cpus[1] == 3,
	      "node 33 has CPUs 2,3");
	CHECK(np_topo_cpu(t, 2)->online == false, "CPU 2 offline");
	CHECK(np_topo_node(t, 0)->npools == 2 && np_topo_node(t, 0)->pools[0].size_kb == 2048 &&
		      np_topo_node(t, 0)->pools[1].size_kb == 1048576,
	      "pools sorted by size");
	CHECK(np_topo_node(t, 1)->npools == 0, "node 33 has no pools");
	CHECK(np_topo_distances_defaulted(t), "no distances given");
	CHECK(np_topo_distance(t, 0, 0) == 10 && np_topo_distance(t, 0, 1) == 20,
	      "default distances 10/20");
	CHECK(np_topo_device_count(t) == 1 &&
		      strcmp(np_topo_device(t, 0)->address, "0000:00:1f.2") == 0 &&
		      np_topo_device(t, 0)->node_idx == 1,
	      "device normalised, on node 33");
	n = np_topo_cpu_siblings(t, np_topo_cpu_index(t, 0), sib, 8);
	CHECK(n == 2 && sib[0] == 0 && sib[1] == 1, "siblings of CPU 0: %d", n);
	CHECK(np_topo_mem_total_kb(t) == 3072 * 1024, "total memory");
	np_topo_free(t);
	np_topo_free(NULL);
}

/* Asymmetric distances are kept as given. */
static void test_asymmetric(void)
{
	np_topo *t = NULL;
	struct np_error err = { 0 };
	np__tb *b = two_nodes();


	np__tb_distance(b, 0, 0, 10);
	np__tb_distance(b, 0, 33, 21);
	np__tb_distance(b, 33, 0, 31);
	np__tb_distance(b, 33, 33, 10);
	CHECK(np__tb_finish(b, &t, &err) == 0, "asymmetric: %s", err.message);
	CHECK(t && !np_topo_distances_defaulted(t) && np_topo_distance(t, 0, 1) == 21 &&
		      np_topo_distance(t, 1, 0) == 31,
	      "asymmetric kept");
	np_topo_free(t);
}

static void test_refusals(void)
{
	np__tb *b = two_nodes();

	np__tb_node(b, 0, 1);
	expect_fail(b, "node 0 is listed twice");

	b = two_nodes();
	np__tb_cpu(b, 7, 5, 0, 0, true);
	expect_fail(b, "CPU 7 refers to node 5");

	b = two_nodes();
	np__tb_cpu(b, 1, 0, 0, 0, true);
	expect_fail(b, "CPU 1 is listed twice");

	b = two_nodes();
	np__tb_distance(b, 0, 33, 21);
	expect_fail(b, "no distance from node 0 to node 0");

	b = two_nodes();
	np__tb_distance(b, 0, 0, 10);
	np__tb_distance(b, 0, 33, 5);
	np__tb_distance(b, 33, 0, 20);
	np__tb_distance(b, 33, 33, 10);
	expect_fail(b, "closer to node 33");

	b = two_nodes();
	np__tb_node_free(b, 33, 4096 * 1024);
	expect_fail(b, "free of");

	b = two_nodes();
	np__tb_hugepages(b, 0, 2048, 1, 2);
	expect_fail(b, "listed twice");

	b = two_nodes();
	np__tb_hugepages(b, 33, 2048, 1, 2);
	expect_fail(b, "1 huge pages");

	b = two_nodes();
	np__tb_device(b, "zz:00.0", 0, 0, 0, -1);
	expect_fail(b, "not a PCI address");

	b = two_nodes();
	np__tb_device(b, "0000:00:1f.2", 0, 0, 0, -1);
	expect_fail(b, "listed twice");

	b = np__tb_new(NP_SOURCE_JSON, "hand");
	expect_fail(b, "no NUMA node");

	/* The first error sticks; later facts do not replace it. */
	b = two_nodes();
	np__tb_node(b, -1, 0);
	np__tb_node(b, 0, 0);
	expect_fail(b, "node id -1 out of range");
}

/* Limits every source is held to, so its JSON reads back. */
static void test_limits(void)
{
	np__tb *b = two_nodes();


	np__tb_cpu(b, NP__TOPO_ID_MAX + 1, 0, 0, 0, true);
	expect_fail(b, "out of range");
	b = two_nodes();
	np__tb_node(b, 7, (uint64_t)NP__TOPO_KB_MAX + 1);
	expect_fail(b, "more than 2^50");
	b = two_nodes();
	np__tb_hugepages(b, 33, 1048576, (uint64_t)NP__TOPO_KB_MAX, 0);
	expect_fail(b, "out of range");
	b = two_nodes();
	np__tb_device(b, "0000:00:02.0", 0x10000, 0, 0, -1);
	expect_fail(b, "out of range");
}

int main(void)
{
	T_CASE("build", test_build());
	T_CASE("asymmetric", test_asymmetric());
	T_CASE("refusals", test_refusals());
	T_CASE("limits", test_limits());
	T_CASE("fallback", test_fallback());
	return t_done();
}
