/*
 * test-json.c - the numaplace.topology/1 reader and writer.
 *
 * Good files in tests/data/json/ (written by hand in the writer's layout)
 * are parsed and their values checked one by one; each must then be
 * written back byte for byte.  Hand-written shorthand (minimal.json) must
 * give the reviewed canonical form in minimal.out.json.  The hwloc sysfs
 * fixtures go through sysfs -> JSON -> topology -> JSON when the sysfs
 * source works.  Bad documents must fail with NP_EINPUT and a message that
 * names the JSON path of the bad value; every prefix of a good file must
 * fail cleanly (run under ASan for leaks and overreads).
 */
#include <numaplace/topology.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *data_dir(void)
{
	return t_data("json");
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &cap, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf && len)
		*len = strlen(buf);
	return buf;
}

/* TOPO as JSON in a malloc'd string. */
static char *to_json(const np_topo *t)
{
	struct np_error err = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = np_topo_write(t, NP_TOPO_JSON, f, &err);

	fclose(f);
	CHECK(rc == 0, "write json: %s", err.message);
	return buf;
}

static np_topo *load(const char *name)
{
	struct np_error err = { 0 };
	np_topo *t = NULL;
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", data_dir(), name);
	CHECK(np_topo_load(NP_SOURCE_JSON, path, &t, &err) == 0, "%s: %s", name, err.message);
	if (t)
		CHECK(np_topo_check(t, &err) == 0, "%s: check: %s", name, err.message);
	return t;
}

/* Write T, parse that, write again: both writes give EXPECT (or each other). */
static void round_trip(const np_topo *t, const char *expect, const char *what)
{
	struct np_error err = { 0 };
	np_topo *back = NULL;
	char *one = to_json(t), *two = NULL;

	if (!one)
		return;
	if (expect)
		CHECK(strcmp(one, expect) == 0, "%s: written JSON differs from the file:\n%s", what,
		      one);
	CHECK(np_topo_parse(NP_SOURCE_JSON, one, strlen(one), what, &back, &err) == 0,
	      "%s: read back: %s", what, err.message);
	if (back) {
		two = to_json(back);
		CHECK(two && strcmp(one, two) == 0, "%s: second round trip differs", what);
		CHECK(np_topo_distances_defaulted(back) == np_topo_distances_defaulted(t),
		      "%s: defaulted distances kept", what);
	}
	free(one);
	free(two);
	np_topo_free(back);
}

/* Load NAME, round trip it against its own bytes (or OUT_NAME's). */
static np_topo *load_and_trip(const char *name, const char *out_name)
{
	char path[600], *expect;
	np_topo *t = load(name);

	snprintf(path, sizeof(path), "%s/%s", data_dir(), out_name ? out_name : name);
	expect = slurp(path, NULL);
	CHECK(expect != NULL, "cannot read %s", path);
	if (t && expect)
		round_trip(t, expect, name);
	free(expect);
	return t;
}

static void test_full(void)
{
	np_topo *t = load_and_trip("full.json", NULL);
	const struct np_node *n0, *n1;
	const struct np_device *d;
	int sib[8];

	if (!t)
		return;
	n0 = np_topo_node(t, 0);
	n1 = np_topo_node(t, 1);
	CHECK(np_topo_node_count(t) == 2 && np_topo_cpu_count(t) == 8, "full: counts");
	CHECK(n0->mem_total_kb == 16384 * 1024ull && n0->mem_free_kb == 15000 * 1024ull,
	      "full: node 0 memory %llu", (unsigned long long)n0->mem_total_kb);
	CHECK(n1->mem_total_kb == 16128 * 1024ull && n1->mem_free_kb == n1->mem_total_kb,
	      "full: node 1 memory");
	CHECK(n0->ncpus == 4 && n0->cpus[0] == 0 && n0->cpus[2] == 4 && n0->cpus[3] == 5,
	      "full: node 0 cpus");
	CHECK(n0->npools == 2 && n0->pools[0].size_kb == 2048 && n0->pools[0].total == 512 &&
		      n0->pools[0].free == 500 && n0->pools[1].size_kb == 1048576 &&
		      n0->pools[1].free == 1,
	      "full: node 0 pools");
	CHECK(n1->npools == 1 && n1->pools[0].total == 0, "full: node 1 pool");
	CHECK(!np_topo_distances_defaulted(t) && np_topo_distance(t, 0, 1) == 21 &&
		      np_topo_distance(t, 1, 1) == 10,
	      "full: distances");
	CHECK(np_topo_cpu(t, 7)->online == false && np_topo_cpu(t, 6)->online, "full: online");
	CHECK(np_topo_cpu(t, 5)->core == 1 && np_topo_cpu(t, 5)->socket == 0 &&
		      np_topo_cpu(t, 5)->node_idx == 0,
	      "full: CPU 5");
	CHECK(np_topo_cpu_siblings(t, 3, sib, 8) == 2 && sib[0] == 3 && sib[1] == 7,
	      "full: siblings of CPU 3");
	d = np_topo_device(t, 1);
	CHECK(np_topo_device_count(t) == 2 && strcmp(d->address, "0000:81:00.0") == 0 &&
		      d->vendor == 0x15b3 && d->device == 0x1017 && d->class_code == 0x020000 &&
		      d->node_idx == 1,
	      "full: device 1");
	np_topo_free(t);
}

static void test_sparse_and_odd(void)
{
	np_topo *t = load_and_trip("sparse.json", NULL);

	if (t) {
		CHECK(np_topo_node_count(t) == 3 && np_topo_node(t, 2)->os_id == 33 &&
			      np_topo_node_index(t, 2) == 1,
		      "sparse: node ids 0, 2, 33");
		CHECK(np_topo_cpu(t, np_topo_cpu_index(t, 129))->node_idx == -1 &&
			      !np_topo_cpu(t, np_topo_cpu_index(t, 129))->online,
		      "sparse: CPU 129 offline, no node");
		CHECK(np_topo_cpu(t, np_topo_cpu_index(t, 130))->core == -1 &&
			      np_topo_cpu(t, np_topo_cpu_index(t, 130))->node_idx == 2,
		      "sparse: CPU 130 on node 33, core unknown");
		CHECK(np_topo_distance(t, 2, 0) == 32 && np_topo_distance(t, 0, 1) == 16,
		      "sparse: distances by position");
		CHECK(np_topo_node(t, 2)->mem_free_kb == 0, "sparse: node 33 full");
		np_topo_free(t);
	}
	t = load_and_trip("cpuless.json", NULL);
	if (t) {
		CHECK(np_topo_node(t, 1)->ncpus == 0 &&
			      np_topo_node(t, 1)->mem_total_kb == 65536 * 1024ull,
		      "cpuless: node 1 has memory, no CPUs");
		CHECK(np_topo_node(t, 2)->mem_total_kb == 0 && np_topo_node(t, 2)->ncpus == 2,
		      "cpuless: node 2 has CPUs, no memory");
		np_topo_free(t);
	}
	t = load_and_trip("asymmetric.json", NULL);
	if (t) {
		CHECK(np_topo_distance(t, 0, 1) == 20 && np_topo_distance(t, 1, 0) == 25 &&
			      np_topo_distance(t, 2, 0) == 31 && np_topo_distance(t, 2, 2) == 12,
		      "asymmetric: kept as given");
		np_topo_free(t);
	}
	t = load_and_trip("unreachable.json", NULL);
	if (t) {
		CHECK(np_topo_distance(t, 0, 1) == NP_DISTANCE_UNREACHABLE &&
			      np_topo_distance(t, 1, 0) == 40,
		      "unreachable: null");
		np_topo_free(t);
	}
}

static void test_defaults_and_devices(void)
{
	np_topo *t = load_and_trip("defaulted.json", NULL);

	if (t) {
		CHECK(np_topo_distances_defaulted(t), "defaulted: flag");
		CHECK(np_topo_distance(t, 2, 0) == 20 && np_topo_node(t, 2)->os_id == 5,
		      "defaulted: 20 to node 5");
		CHECK(np_topo_cpu(t, 0)->core == -1 && np_topo_cpu(t, 0)->socket == -1,
		      "defaulted: core unknown");
		np_topo_free(t);
	}
	t = load_and_trip("devices.json", NULL);
	if (t) {
		CHECK(np_topo_device_count(t) == 3, "devices: 3");
		CHECK(np_topo_device(t, 0)->node_idx == -1 &&
			      np_topo_device(t, 0)->class_code == 0x030000,
		      "devices: GPU without node");
		CHECK(np_topo_device(t, 1)->vendor == 0 && np_topo_device(t, 1)->device == 0 &&
			      np_topo_device(t, 1)->class_code == 0,
		      "devices: unknown ids");
		CHECK(strcmp(np_topo_device(t, 2)->address, "0001:00:1f.7") == 0 &&
			      np_topo_device(t, 2)->node_idx == 0,
		      "devices: domain 1");
		np_topo_free(t);
	}
	/* Shorthand: node order, CPUs from node lists, free and distances omitted. */
	t = load_and_trip("minimal.json", "minimal.out.json");
	if (t) {
		CHECK(np_topo_node(t, 0)->os_id == 0 && np_topo_node(t, 0)->mem_free_kb == 100 * 1024,
		      "minimal: node 0 free");
		CHECK(np_topo_node(t, 1)->mem_free_kb == 2048 * 1024 &&
			      np_topo_node(t, 1)->pools[0].free == 16,
		      "minimal: free defaults to total");
		/* ...but is marked unknown, and written back without a free key. */
		CHECK(np_topo_node(t, 0)->mem_free_known && !np_topo_node(t, 1)->mem_free_known &&
			      !np_topo_node(t, 1)->pools[0].free_known && !np_topo_mem_free_known(t),
		      "minimal: free memory and pages unknown where not given");
		CHECK(np_topo_cpu_count(t) == 4 && np_topo_cpu(t, 2)->node_idx == 1 &&
			      np_topo_cpu(t, 2)->online && np_topo_cpu(t, 2)->core == -1,
		      "minimal: CPUs from node lists");
		CHECK(np_topo_distances_defaulted(t), "minimal: distances defaulted");
		np_topo_free(t);
	}
}

static np_topo *parse(const char *doc, struct np_error *err)
{
	np_topo *t = NULL;

	memset(err, 0, sizeof(*err));
	err->code = np_topo_parse(NP_SOURCE_JSON, doc, strlen(doc), "t.json", &t, err);
	return t;
}

/* Inline good documents: conveniences and forward compatibility. */
static void test_good_inline(void)
{
	struct np_error err;
	const char *doc;
	np_topo *t;

	t = parse("{\"schema\": \"numaplace.topology/1\", \"future\": {\"x\": [1]},"
		  " \"nodes\": [{\"id\": 0, \"cpus\": [0], \"memory_mb\": {\"total\": 1, \"unit\": 5},"
		  " \"distances\": [10], \"color\": \"red\"}],"
		  " \"cpus\": [{\"id\": 0, \"node\": 0, \"siblings\": \"ignored\", \"vendor\": 1}],"
		  " \"devices\": [{\"address\": \"01:00.0\", \"vendor\": \"0X8086\", \"node\": 0,"
		  " \"driver\": \"igb\"}]}",
		  &err);
	CHECK(t != NULL, "unknown keys ignored: %s", err.message);
	if (t) {
		CHECK(!np_topo_distances_defaulted(t), "distances without distances_source: firmware");
		CHECK(np_topo_cpu(t, 0)->online && np_topo_cpu(t, 0)->core == -1,
		      "online defaults to true, core to null");
		CHECK(strcmp(np_topo_device(t, 0)->address, "0000:01:00.0") == 0 &&
			      np_topo_device(t, 0)->vendor == 0x8086,
		      "short PCI address normalised");
		np_topo_free(t);
	}
	t = parse("{\"schema\": \"numaplace.topology/1\", \"distances_source\": \"default\","
		  " \"nodes\": [{\"id\": 4, \"cpus\": [], \"memory_mb\": {\"total\": 0}},"
		  " {\"id\": 2, \"cpus\": [], \"memory_mb\": {\"total\": 8}}], \"cpus\": []}",
		  &err);
	CHECK(t && np_topo_distances_defaulted(t) && np_topo_cpu_count(t) == 0 &&
		      np_topo_node(t, 0)->os_id == 2,
	      "no CPUs at all, default distances: %s", err.message);
	np_topo_free(t);
	t = parse("  {\"schema\": \"numaplace.topology/1\", \"nodes\": [{\"id\": 0, \"cpus\": [0],"
		  " \"memory_mb\": {\"total\": 1}}]}",
		  &err);
	CHECK(t && np_topo_source_kind(t) == NP_SOURCE_JSON, "parsed");
	np_topo_free(t);
	t = NULL;
	doc = "\n{\"schema\": \"numaplace.topology/1\", \"nodes\":"
	      " [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1}}]}";
	CHECK(np_topo_parse(NP_SOURCE_AUTO, doc, strlen(doc), "auto.json", &t, &err) == 0 &&
		      np_topo_source_kind(t) == NP_SOURCE_JSON,
	      "auto detects JSON: %s", err.message);
	np_topo_free(t);
}

/* A two-node host in which @A@ and @B@ ... are replaced by the test cases. */
#define HEAD "{\"schema\": \"numaplace.topology/1\", "
#define NODE0 "{\"id\": 0, \"cpus\": [0, 1], \"memory_mb\": {\"total\": 1024}}"
#define NODE1 "{\"id\": 1, \"cpus\": [2], \"memory_mb\": {\"total\": 1024}}"
#define NODES "\"nodes\": [" NODE0 ", " NODE1 "]"

static const struct {
	const char *doc, *needle;
} bad_docs[] = {
	{ "", "empty document" },
	{ " \n\t ", "empty document" },
	{ "[1, 2]", "the document: expected a JSON object, not an array" },
	{ "{\n  \"schema\": \"numaplace.topology/1\",\n  \"nodes\": [\n    {\"id\": 0 \"cpus\": []}\n  ]\n}",
	  "line 4: " },
	{ "{\n  \"schema\": \"numaplace.topology/1\",\n}", "line 3: " },
	{ "{\"schema\": \"numaplace.topology/1\", \"nodes\": [", "line 1: " },
	{ "{\"schema\": \"numaplace.topology/1\", \"schema\": \"x\"}", "duplicate object key" },
	{ HEAD "\"nodes\": [{\"id\": 99999999999999999999999}]}", "too big integer" },
	{ "{" NODES "}", "schema: missing (expected \"numaplace.topology/1\")" },
	{ "{\"schema\": \"numaplace.topology/2\", " NODES "}",
	  "schema: expected \"numaplace.topology/1\", not \"numaplace.topology/2\"" },
	{ "{\"schema\": 1, " NODES "}", "schema: expected \"numaplace.topology/1\", not 1" },
	{ "{\"schema\": \"\\u0007bell\", " NODES "}", "not \"?bell\"" },
	{ HEAD "\"distances_source\": \"bios\", " NODES "}",
	  "distances_source: expected \"firmware\" or \"default\", not \"bios\"" },
	{ HEAD "\"nodez\": []}", "nodes: missing (expected an array of nodes)" },
	{ HEAD "\"nodes\": {}}", "nodes: expected an array of nodes, not an object" },
	{ HEAD "\"nodes\": []}", "nodes: empty" },
	{ HEAD "\"nodes\": [5]}", "nodes[0]: expected an object, not 5" },
	{ HEAD "\"nodes\": [" NODE0 ", {\"cpus\": []}]}", "nodes[1].id: missing" },
	{ HEAD "\"nodes\": [{\"id\": \"0\"}]}", "nodes[0].id: expected an id from 0 to 4194304, not \"0\"" },
	{ HEAD "\"nodes\": [{\"id\": -1}]}", "nodes[0].id: expected an id from 0 to 4194304, not -1" },
	{ HEAD "\"nodes\": [{\"id\": 4194305}]}", "nodes[0].id: expected an id from 0 to 4194304, not 4194305" },
	{ HEAD "\"nodes\": [{\"id\": 0.0}]}", "nodes[0].id: expected an id from 0 to 4194304, not 0.0" },
	{ HEAD "\"nodes\": [" NODE0 ", " NODE1 ", {\"id\": 2, \"cpus\": [], \"memory_mb\": {\"total\": -5}}]}",
	  "nodes[2].memory_mb.total: expected a non-negative integer (MiB) up to 2^40, not -5" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1.5}}]}",
	  "nodes[0].memory_mb.total: expected a non-negative integer (MiB) up to 2^40, not 1.5" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1099511627777}}]}",
	  "nodes[0].memory_mb.total: expected a non-negative integer (MiB) up to 2^40, not 1099511627777" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 4, \"free\": 5}}]}",
	  "nodes[0].memory_mb.free: 5 MiB is more than the total 4" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": \"4G\"}}]}",
	  "nodes[0].memory_mb.total: expected a non-negative integer (MiB) up to 2^40, not \"4G\"" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": 1024}]}",
	  "nodes[0].memory_mb: expected an object, not 1024" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": []}]}", "nodes[0].memory_mb: missing" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"memory_mb\": {\"total\": 1}}]}",
	  "nodes[0].cpus: missing (expected an array of CPU ids)" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": \"0-3\", \"memory_mb\": {\"total\": 1}}]}",
	  "nodes[0].cpus: expected an array of CPU ids, not \"0-3\"" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [0, true], \"memory_mb\": {\"total\": 1}}]}",
	  "nodes[0].cpus[1]: expected an id from 0 to 4194304, not true" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1},"
	  " \"hugepages\": [{\"size_kb\": 0, \"total\": 1}]}]}",
	  "nodes[0].hugepages[0].size_kb: expected a page size in KiB from 1 to 2^50, not 0" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1},"
	  " \"hugepages\": [{\"size_kb\": 2048, \"total\": 1}, {\"size_kb\": 4, \"total\": 2, \"free\": 3}]}]}",
	  "nodes[0].hugepages[1].free: 3 pages is more than the total 2" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1},"
	  " \"hugepages\": [{\"size_kb\": 2048}]}]}",
	  "nodes[0].hugepages[0].total: missing" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1},"
	  " \"hugepages\": [{\"size_kb\": 1048576, \"total\": 1073741825}]}]}",
	  "nodes[0].hugepages[0].total: 1073741825 pages of 1048576 KiB is more than 2^50 KiB" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1},"
	  " \"hugepages\": [{\"size_kb\": 2048, \"total\": 1.0e3}]}]}",
	  "nodes[0].hugepages[0].total: expected a non-negative integer up to 2^50, not 1000.0" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1}, \"hugepages\": {}}]}",
	  "nodes[0].hugepages: expected an array of huge page pools, not an object" },
	{ HEAD "\"nodes\": [" NODE0 ", " NODE1 ", {\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1}}]}",
	  "nodes[2].id: node 0 is listed twice (also nodes[0])" },
	{ HEAD "\"nodes\": [" NODE0 ", {\"id\": 1, \"cpus\": [1], \"memory_mb\": {\"total\": 1}}]}",
	  "nodes[1].cpus: CPU 1 is also in nodes[0].cpus" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [3, 3], \"memory_mb\": {\"total\": 1}}]}",
	  "nodes[0].cpus: CPU 3 is listed twice" },
	{ HEAD NODES ", \"cpus\": [{\"id\": 0, \"node\": 7}]}", "cpus[0].node: node 7 is not in \"nodes\"" },
	{ HEAD NODES ", \"cpus\": [{\"id\": 0, \"node\": 0}, {\"id\": 1, \"node\": 1},"
	  " {\"id\": 2, \"node\": 1}]}",
	  "cpus[1].node: CPU 1 is in nodes[0].cpus, so its node is 0, not 1" },
	{ HEAD NODES ", \"cpus\": [{\"id\": 0, \"node\": 0}, {\"id\": 1, \"node\": null},"
	  " {\"id\": 2, \"node\": 1}]}",
	  "cpus[1].node: CPU 1 is in nodes[0].cpus, so its node is 0, not null" },
	{ HEAD NODES ", \"cpus\": [{\"id\": 0, \"node\": 0}, {\"id\": 2, \"node\": 1}]}",
	  "nodes[0].cpus: CPU 1 is not in \"cpus\"" },
	{ HEAD NODES ", \"cpus\": [{\"id\": 0, \"node\": 0}, {\"id\": 1, \"node\": 0},"
	  " {\"id\": 2, \"node\": 1}, {\"id\": 3, \"node\": 1}]}",
	  "cpus[3].node: CPU 3 is not in nodes[1].cpus" },
	{ HEAD NODES ", \"cpus\": [{\"id\": 0, \"node\": 0}, {\"id\": 0, \"node\": 0}]}",
	  "cpus[1].id: CPU 0 is listed twice (also cpus[0])" },
	{ HEAD NODES ", \"cpus\": [{\"node\": 0}]}", "cpus[0].id: missing" },
	{ HEAD NODES ", \"cpus\": [{\"id\": 0}]}", "cpus[0].node: missing" },
	{ HEAD NODES ", \"cpus\": [{\"id\": 0, \"node\": 0, \"online\": \"yes\"}]}",
	  "cpus[0].online: expected true or false, not \"yes\"" },
	{ HEAD NODES ", \"cpus\": [{\"id\": 0, \"node\": 0, \"core\": -2}]}",
	  "cpus[0].core: expected an id from 0 to 4194304, or null, not -2" },
	{ HEAD NODES ", \"cpus\": 0}", "cpus: expected an array of CPUs, not 0" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1}, \"distances\": [10]},"
	  " {\"id\": 1, \"cpus\": [], \"memory_mb\": {\"total\": 1}, \"distances\": [20, 10]}]}",
	  "nodes[0].distances: expected 2 values (one per node), not 1" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1}, \"distances\": [10, 20]},"
	  " {\"id\": 1, \"cpus\": [], \"memory_mb\": {\"total\": 1}}]}",
	  "nodes[1].distances: missing, but nodes[0] has them" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1}, \"distances\": [null]}]}",
	  "nodes[0].distances[0]: a node's distance to itself cannot be null" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1}, \"distances\": [10, 0]},"
	  " {\"id\": 1, \"cpus\": [], \"memory_mb\": {\"total\": 1}, \"distances\": [20, 10]}]}",
	  "nodes[0].distances[1]: expected a distance from 1 to 4294967294, or null, not 0" },
	{ HEAD "\"nodes\": [{\"id\": 0, \"cpus\": [], \"memory_mb\": {\"total\": 1}, \"distances\": [10, 5]},"
	  " {\"id\": 1, \"cpus\": [], \"memory_mb\": {\"total\": 1}, \"distances\": [20, 10]}]}",
	  "node 0 is closer to node 1 (5) than to itself (10)" },
	{ HEAD "\"distances_source\": \"default\", \"nodes\": [{\"id\": 0, \"cpus\": [],"
	  " \"memory_mb\": {\"total\": 1}, \"distances\": [10, 21]}, {\"id\": 1, \"cpus\": [],"
	  " \"memory_mb\": {\"total\": 1}, \"distances\": [20, 10]}]}",
	  "nodes[0].distances[1]: expected 20 (distances_source is \"default\"), not 21" },
	{ HEAD "\"distances_source\": \"firmware\", " NODES "}",
	  "distances_source is \"firmware\" but no node has \"distances\"" },
	{ HEAD NODES ", \"devices\": [{\"address\": \"0000:01:00.0\", \"node\": 3}]}",
	  "devices[0].node: node 3 is not in \"nodes\"" },
	{ HEAD NODES ", \"devices\": [{\"address\": \"0000:01:00.0\"}]}", "devices[0].node: missing" },
	{ HEAD NODES ", \"devices\": [{\"address\": \"0000:01:20.0\", \"node\": 0}]}",
	  "devices[0].address: expected a PCI address such as \"0000:01:00.0\", not \"0000:01:20.0\"" },
	{ HEAD NODES ", \"devices\": [{\"address\": \"eth0\", \"node\": 0}]}",
	  "devices[0].address: expected a PCI address" },
	{ HEAD NODES ", \"devices\": [{\"node\": 0}]}", "devices[0].address: missing" },
	{ HEAD NODES ", \"devices\": [{\"address\": \"0000:01:00.0\", \"vendor\": 32902, \"node\": 0}]}",
	  "devices[0].vendor: expected a hex string such as \"0x8086\", or null, not 32902" },
	{ HEAD NODES ", \"devices\": [{\"address\": \"0000:01:00.0\", \"class\": \"0x0200001\", \"node\": 0}]}",
	  "devices[0].class: expected a hex string such as \"0x020000\", or null, not \"0x0200001\"" },
	{ HEAD NODES ", \"devices\": [{\"address\": \"0000:01:00.0\", \"node\": 0},"
	  " {\"address\": \"01:00.0\", \"node\": 1}]}",
	  "device 0000:01:00.0 is listed twice" },
	{ HEAD NODES ", \"devices\": {}}", "devices: expected an array of PCI devices, not an object" },
};

static void test_bad(void)
{
	struct np_error err;

	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
		np_topo *t = parse(bad_docs[i].doc, &err);

		CHECK(t == NULL && err.code == NP_EINPUT, "bad %zu: code %d", i, err.code);
		CHECK(strstr(err.message, bad_docs[i].needle) != NULL,
		      "bad %zu: '%s' lacks '%s'", i, err.message, bad_docs[i].needle);
		CHECK(strncmp(err.message, "cannot load 't.json': ", 22) == 0 &&
			      !strchr(err.message, '\n'),
		      "bad %zu: one prefixed line: '%s'", i, err.message);
		np_topo_free(t);
	}
}

/* 4097 nodes: more than the builder holds, refused before any work. */
static void test_too_many_nodes(void)
{
	size_t cap = 64 * 4097 + 128, len;
	char *doc = malloc(cap);
	struct np_error err;

	if (!doc)
		return;
	len = (size_t)snprintf(doc, cap, HEAD "\"nodes\": [");
	for (int i = 0; i < 4097; i++)
		len += (size_t)snprintf(doc + len, cap - len,
					"%s{\"id\": %d, \"cpus\": [], \"memory_mb\": {\"total\": 1}}",
					i ? "," : "", i);
	snprintf(doc + len, cap - len, "]}");
	CHECK(parse(doc, &err) == NULL && strstr(err.message, "nodes: 4097 nodes, more than 4096"),
	      "4097 nodes: %s", err.message);
	free(doc);
}

/* Every prefix of a good file is bad input, never a crash or a leak. */
static void test_prefixes(void)
{
	char path[600], *doc;
	size_t len;
	int bad = 0;

	snprintf(path, sizeof(path), "%s/full.json", data_dir());
	doc = slurp(path, &len);
	if (!doc)
		return;
	/* The last bytes are "}\n": only the full text and the one without "\n" parse. */
	for (size_t n = 0; n + 1 < len; n++) {
		struct np_error err = { 0 };
		np_topo *t = NULL;
		int rc = np_topo_parse(NP_SOURCE_JSON, doc, n, "prefix", &t, &err);

		bad += rc == NP_EINPUT && t == NULL && err.message[0];
		np_topo_free(t);
	}
	CHECK(bad == (int)len - 1, "prefixes: %d of %zu refused", bad, len - 1);
	free(doc);
}

/* The writer's "siblings" of every CPU are np_topo_cpu_siblings(). */
static void check_siblings(const np_topo *t, const char *json, const char *name)
{
	for (int i = 0; i < np_topo_cpu_count(t); i++) {
		int sib[256], n = np_topo_cpu_siblings(t, i, sib, 256);
		char head[48], want[2048];
		const char *line;
		size_t len = 0;

		snprintf(head, sizeof(head), "\n    {\"id\": %d, ", np_topo_cpu(t, i)->os_id);
		len += (size_t)snprintf(want, sizeof(want), "\"siblings\": [");
		for (int k = 0; k < n && k < 256 && len < sizeof(want); k++)
			len += (size_t)snprintf(want + len, sizeof(want) - len, "%s%d", k ? ", " : "",
						sib[k]);
		if (len < sizeof(want))
			snprintf(want + len, sizeof(want) - len, "]");
		line = strstr(json, head);
		CHECK(line && strstr(line, want) && strstr(line, want) < strchr(line + 1, '\n'),
		      "%s: CPU %d: %s", name, np_topo_cpu(t, i)->os_id, want);
	}
}

/* Real hosts: sysfs fixture -> JSON -> topology -> same JSON, same facts. */
static void test_fixture(const char *name)
{
	struct np_error err = { 0 };
	np_topo *t = NULL, *back = NULL;
	char *one = NULL;
	int rc;

	t_needs(NP_HAVE_HWLOC, "hwloc");
	rc = np_topo_load(NP_SOURCE_SYSFS, t_fixture(name), &t, &err);
	if (rc) {
		printf("skip %s: the sysfs source cannot load it (%s)\n", name, err.message);
		return;
	}
	one = to_json(t);
	round_trip(t, NULL, name);
	if (one)
		check_siblings(t, one, name);
	if (one && np_topo_parse(NP_SOURCE_JSON, one, strlen(one), name, &back, &err) == 0) {
		CHECK(np_topo_node_count(back) == np_topo_node_count(t) &&
			      np_topo_cpu_count(back) == np_topo_cpu_count(t) &&
			      np_topo_device_count(back) == np_topo_device_count(t),
		      "%s: counts kept", name);
		for (int i = 0; i < np_topo_node_count(t); i++)
			for (int j = 0; j < np_topo_node_count(t); j++)
				CHECK(np_topo_distance(t, i, j) == np_topo_distance(back, i, j),
				      "%s: distance %d,%d", name, i, j);
		for (int i = 0; i < np_topo_cpu_count(t); i++)
			CHECK(memcmp(np_topo_cpu(t, i), np_topo_cpu(back, i), sizeof(struct np_cpu)) == 0,
			      "%s: CPU %d kept", name, i);
		for (int i = 0; i < np_topo_node_count(t); i++)
			CHECK(np_topo_node(back, i)->mem_total_kb / 1024 ==
				      np_topo_node(t, i)->mem_total_kb / 1024,
			      "%s: node %d memory in MiB", name, i);
	} else {
		CHECK(0, "%s: read back: %s", name, err.message);
	}
	free(one);
	np_topo_free(back);
	np_topo_free(t);
}

/* One case per fixture (a function of its own: T_CASE in a loop clobbers). */
static void fixture_case(const char *name)
{
	char what[64];

	snprintf(what, sizeof(what), "fixture:%s", name);
	T_CASE(what, test_fixture(name));
}

int main(void)
{
	/* 8 and 64 nodes, sparse ids, CPU-less nodes, offline CPUs, SMT pairs. */
	static const char *const fixtures[] = {
		"64amd64-4s2n4ca2co", "256ia64-64n2s2c",    "48amd64-4pa2n6c-sparse",
		"128ia64-17n4s2c",    "offline-cpu0-node0", "nvidiagpunumanodes",
		"32intel64-2p8co2t+8ve",
	};

	T_CASE("full", test_full());
	T_CASE("sparse-and-odd", test_sparse_and_odd());
	T_CASE("defaults-and-devices", test_defaults_and_devices());
	T_CASE("good-inline", test_good_inline());
	T_CASE("bad", test_bad());
	T_CASE("too-many-nodes", test_too_many_nodes());
	T_CASE("prefixes", test_prefixes());
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		fixture_case(fixtures[i]);
	t_cleanup();
	return t_done();
}
