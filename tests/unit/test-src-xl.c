/*
 * test-src-xl.c - the `xl info -n` source on the samples in tests/data/xl/
 * (see README.md there: real fragments from xen-devel and osstest, hosts
 * written in the exact printf shapes of xl_info.c, and broken files).
 *
 * Every good sample is checked node by node: ids, memory, CPU sets, cores
 * and sockets, distances, devices.  Every bad sample must fail with
 * NP_EINPUT and one line naming the line of the input that is wrong.
 * Every prefix of a good sample is parsed too: a cut file must never
 * crash, leak or pass with a half-read row.
 */
#include <stdlib.h>

#include "check.h"
#include "topology/topo-int.h"

static const char *dir; /* tests/data/xl, from t_data() */

static np_topo *load(const char *name)
{
	struct np_error err = {0};
	np_topo *t = NULL;
	char path[700];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = np_topo_load(NP_SOURCE_XL_INFO, path, &t, &err);
	CHECK(rc == 0 && t, "%s: %d %s", name, rc, err.message);
	if (t)
		CHECK(np_topo_check(t, &err) == 0, "%s: check: %s", name, err.message);
	return t;
}

/* Node OS_ID has TOTAL and FREE MiB and exactly the CPUs CPULIST. */
static void node_is(const np_topo *t, int os_id, uint64_t total_mib, uint64_t free_mib,
		    const char *cpulist)
{
	int idx = np_topo_node_index(t, os_id);
	const struct np_node *n = np_topo_node(t, idx);
	char got[256];

	CHECK(n != NULL, "node %d exists", os_id);
	if (!n)
		return;
	CHECK(n->mem_total_kb == total_mib * 1024, "node %d total %llu kB", os_id,
	      (unsigned long long)n->mem_total_kb);
	CHECK(n->mem_free_kb == free_mib * 1024, "node %d free %llu kB", os_id,
	      (unsigned long long)n->mem_free_kb);
	np__format_cpulist(n->cpus, n->ncpus, got, sizeof(got));
	CHECK(strcmp(got, cpulist) == 0, "node %d CPUs '%s', want '%s'", os_id, got, cpulist);
	CHECK(n->npools == 0, "node %d: xl gives no huge pages", os_id);
	for (int k = 0; k < n->ncpus; k++) {
		const struct np_cpu *c = np_topo_cpu(t, np_topo_cpu_index(t, n->cpus[k]));

		CHECK(c && c->online && c->node_idx == idx, "CPU %d online on node %d", n->cpus[k],
		      os_id);
	}
}

static void cpu_is(const np_topo *t, int os_id, int core, int socket)
{
	const struct np_cpu *c = np_topo_cpu(t, np_topo_cpu_index(t, os_id));

	CHECK(c && c->core == core && c->socket == socket, "CPU %d core %d socket %d", os_id,
	      c ? c->core : -2, c ? c->socket : -2);
}

/* The distance matrix over the nodes with ids IDS, row by row. */
static void dist_is(const np_topo *t, const int *ids, int n, const uint32_t *want)
{
	CHECK(!np_topo_distances_defaulted(t), "distances given");
	CHECK(np_topo_node_count(t) == n, "%d nodes, not %d", n, np_topo_node_count(t));
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			uint32_t d = np_topo_distance(t, np_topo_node_index(t, ids[i]),
						      np_topo_node_index(t, ids[j]));

			CHECK(d == want[i * n + j], "distance %d->%d is %u, want %u", ids[i],
			      ids[j], d, want[i * n + j]);
		}
}

static void device_is(const np_topo *t, const char *addr, int os_node)
{
	for (int i = 0; i < np_topo_device_count(t); i++) {
		const struct np_device *d = np_topo_device(t, i);

		if (strcmp(d->address, addr) != 0)
			continue;
		CHECK(d->node_idx == np_topo_node_index(t, os_node), "device %s on node %d", addr,
		      os_node);
		CHECK(d->vendor == 0 && d->device == 0 && d->class_code == 0,
		      "device %s: ids unknown", addr);
		return;
	}
	CHECK(0, "device %s is missing", addr);
}

static void test_kaindl(void)
{
	static const int ids[] = {0, 1};
	static const uint32_t d[] = {10, 21, 21, 10};
	np_topo *t = load("kaindl-2node.txt");

	if (!t)
		return;
	node_is(t, 0, 67584, 60672, "");
	node_is(t, 1, 65536, 60958, "");
	dist_is(t, ids, 2, d);
	CHECK(np_topo_cpu_count(t) == 0 && np_topo_device_count(t) == 0, "no CPUs, devices");
	CHECK(np_topo_source_kind(t) == NP_SOURCE_XL_INFO, "kind");
	np_topo_free(t);
}

static void test_faggioli(void)
{
	static const int ids[] = {0};
	static const uint32_t d[] = {10};
	np_topo *t = load("faggioli-arm.txt");

	if (!t)
		return;
	node_is(t, 0, 2048, 1536, "0-1");
	cpu_is(t, 0, 0, 0);
	cpu_is(t, 1, 0, 0);
	dist_is(t, ids, 1, d);
	CHECK(np_topo_device_count(t) == 0, "'No device topology data available'");
	np_topo_free(t);
}

static void test_illustrative(void)
{
	static const int ids[] = {0, 1};
	static const uint32_t d[] = {10, 20, 20, 10};
	np_topo *t = load("illustrative-16cpu.txt");
	int sib[4];

	if (!t)
		return;
	node_is(t, 0, 6144, 4096, "0-7");
	node_is(t, 1, 6144, 5704, "8-15");
	dist_is(t, ids, 2, d);
	cpu_is(t, 0, 0, 0);
	cpu_is(t, 2, 1, 0);
	cpu_is(t, 15, 10, 1);
	CHECK(np_topo_cpu_siblings(t, np_topo_cpu_index(t, 14), sib, 4) == 2 && sib[0] == 14 &&
		  sib[1] == 15,
	      "CPUs 14 and 15 share core 10");
	CHECK(np_topo_mem_free_kb(t) == 9800 * 1024, "free_memory line agrees");
	CHECK(np_topo_device_count(t) == 1, "one device");
	device_is(t, "0000:00:1f.2", 0);
	np_topo_free(t);
}

static void test_asym(void)
{
	static const int ids[] = {0, 1, 2, 3};
	static const uint32_t d[] = {10, 16, 22, 22, 16, 10, 16, 22,
				     22, 20, 10, 16, 22, 22, 16, 10};
	np_topo *t = load("asym-4node.txt");

	if (!t)
		return;
	node_is(t, 0, 32768, 30000, "0-3");
	node_is(t, 1, 32768, 31500, "4-7");
	node_is(t, 2, 32768, 12000, "8-11");
	node_is(t, 3, 16384, 16000, "12-15");
	dist_is(t, ids, 4, d);
	CHECK(np_topo_distance(t, 1, 2) != np_topo_distance(t, 2, 1), "asymmetric kept");
	cpu_is(t, 12, 4, 1);
	CHECK(np_topo_device_count(t) == 6, "six devices");
	device_is(t, "0000:00:02.0", 0);
	device_is(t, "0000:00:1f.2", 0);
	device_is(t, "0000:40:00.0", 1);
	device_is(t, "0000:80:01.1", 2);
	device_is(t, "0001:c0:00.0", 3);
	device_is(t, "0000:c1:1f.7", 3);
	np_topo_free(t);
}

static void test_sparse(void)
{
	static const int ids[] = {0, 2, 3};
	static const uint32_t d[] = {10, 21, 31, 21, 10, 31, 31, 31, 10};
	np_topo *t = load("sparse-cpuless.txt");

	if (!t)
		return;
	CHECK(np_topo_node_index(t, 1) == -1, "offline node 1 is absent");
	node_is(t, 0, 8192, 7000, "0-3");
	node_is(t, 2, 8192, 8000, "4,6-7");
	node_is(t, 3, 4096, 4096, "");
	dist_is(t, ids, 3, d);
	CHECK(np_topo_cpu_count(t) == 7 && np_topo_cpu_index(t, 5) == -1, "CPU 5 offline: gap");
	cpu_is(t, 6, 2, 1);
	device_is(t, "0000:00:04.0", 2);
	np_topo_free(t);
}

static void test_unreachable(void)
{
	static const int ids[] = {0, 1, 2};
	static const uint32_t U = NP_DISTANCE_UNREACHABLE;
	static const uint32_t d[] = {10, 20, U, 20, 10, 20, U, 20, 10};
	np_topo *t = load("unreachable.txt");

	if (!t)
		return;
	dist_is(t, ids, 3, d);
	node_is(t, 2, 4096, 1024, "2");
	np_topo_free(t);
}

/* FILE fails with NP_EINPUT, one line, starting at "line LINE: " and saying WHAT. */
static void bad(const char *file, int line, const char *what)
{
	struct np_error err = {0};
	np_topo *t = NULL;
	char path[700], want[32];
	const char *m;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	rc = np_topo_load(NP_SOURCE_XL_INFO, path, &t, &err);
	CHECK(rc == NP_EINPUT && t == NULL, "%s: rc %d", file, rc);
	np_topo_free(t);
	m = strstr(err.message, "': ");
	m = m ? m + 3 : err.message;
	if (line > 0) {
		snprintf(want, sizeof(want), "line %d: ", line);
		CHECK(strncmp(m, want, strlen(want)) == 0, "%s: '%s' lacks '%s'", file, err.message,
		      want);
	}
	CHECK(strstr(m, what) != NULL, "%s: '%s' lacks '%s'", file, err.message, what);
	CHECK(strchr(err.message, '\n') == NULL, "%s: one line", file);
	CHECK(strncmp(err.message, "cannot load '", 13) == 0, "%s: prefixed: %s", file,
	      err.message);
}

static void test_bad(void)
{
	bad("bad-truncated.txt", 4, "expected 'node: memsize memfree distances'");
	bad("bad-garbage.txt", 1, "expected 'name : value'");
	bad("bad-cpu-node.txt", 6, "CPU 2 is on node 2, which numa_info does not list");
	bad("bad-dist-length.txt", 4, "node 1 has 3 distances, expected 2");
	bad("bad-negative-memsize.txt", 4, "memsize -4096 is negative");
	bad("bad-huge.txt", 4, "memsize '99999999999999999999999' is not a number");
	bad("bad-huge-distance.txt", 3, "distance 99999999999 is out of range");
	bad("bad-columns.txt", 2, "expected the column line 'cpu: core socket node'");
	bad("bad-pci.txt", 3, "'0000:00:3f.2' is not a PCI address");
	bad("bad-free-over-size.txt", 3, "memfree 8192 MiB is more than memsize 4096 MiB");
	bad("bad-dup-node.txt", 5, "node 1 is listed twice (first on line 4)");
	bad("bad-self-unreachable.txt", 4, "node 1: distance to itself is -1");
	bad("bad-no-numa.txt", 0, "no numa_info section");
}

/* A buffer, not a file: xl's quirks that the samples do not show. */
static int parse(const char *text, np_topo **t, struct np_error *err)
{
	*t = NULL;
	return np_topo_parse(NP_SOURCE_XL_INFO, text, strlen(text), "buf", t, err);
}

static void test_buffers(void)
{
	struct np_error err = {0};
	np_topo *t;
	int rc;

	/* CRLF, blank lines, an unknown section-like key: all tolerated. */
	rc = parse("weird_key   : 1\r\n\r\nnuma_info :\r\nnode: memsize memfree distances\r\n"
		   "   0: 10 5 10\r\n\r\nxend_config_format     : 4\r\n",
		   &t, &err);
	CHECK(rc == 0 && t && np_topo_node(t, 0)->mem_free_kb == 5 * 1024, "CRLF: %s", err.message);
	np_topo_free(t);

	/* A CPU row whose node Xen could not tell (~0, printed -1). */
	rc = parse("cpu_topology :\ncpu: core socket node\n  0: 0 0 -1\n"
		   "numa_info :\nnode: memsize memfree distances\n 0: 10 5 10\n",
		   &t, &err);
	CHECK(rc == 0 && t && np_topo_cpu(t, 0)->node_idx == -1 && np_topo_node(t, 0)->ncpus == 0,
	      "CPU without node: %s", err.message);
	np_topo_free(t);

	rc = parse("numa_info :\nnode: memsize memfree distances\n 0: 10 5 10\n"
		   "numa_info :\nnode: memsize memfree distances\n 1: 10 5 10\n",
		   &t, &err);
	CHECK(rc == NP_EINPUT && strstr(err.message, "line 4: a second numa_info section"),
	      "twice: %s", err.message);

	rc = parse("cpu_topology :\ncpu: core socket node\n  0: 0 0 0\n  0: 1 0 0\n"
		   "numa_info :\nnode: memsize memfree distances\n 0: 10 5 10\n",
		   &t, &err);
	CHECK(rc == NP_EINPUT &&
		  strstr(err.message, "line 4: CPU 0 is listed twice (first on line 3)"),
	      "CPU twice: %s", err.message);

	rc = parse("numa_info :\n", &t, &err);
	CHECK(rc == NP_EINPUT &&
		  strstr(err.message, "line 1: input ends before the numa_info column"),
	      "header only: %s", err.message);

	rc = parse("numa_info :\nnode: memsize memfree distances\n 5000: 10 5 10\n", &t, &err);
	CHECK(rc == NP_EINPUT && strstr(err.message, "line 3: node 5000 is out of range"),
	      "node id: %s", err.message);

	rc = parse("numa_info :\nnode: memsize memfree distances\n 0: 10 5 10,,\n", &t, &err);
	CHECK(rc == NP_EINPUT && strstr(err.message, "line 3: distance '' is not a number"),
	      "empty distance: %s", err.message);

	/* Auto-detection sends xl text here. */
	rc = np_topo_parse(
	    NP_SOURCE_AUTO,
	    "nr_nodes : 1\nnuma_info :\nnode: memsize memfree distances\n 0: 10 5 10\n",
	    strlen("nr_nodes : 1\nnuma_info :\nnode: memsize memfree distances\n 0: 10 5 10\n"),
	    "buf", &t, &err);
	CHECK(rc == 0 && t && np_topo_source_kind(t) == NP_SOURCE_XL_INFO, "auto: %s", err.message);
	np_topo_free(t);
}

/* True when BUF[0..N) ends inside a row: a partial last line that is a row. */
static bool cuts_row(const char *buf, size_t n)
{
	size_t start = n;

	while (start > 0 && buf[start - 1] != '\n')
		start--;
	return start < n && (buf[start] == ' ' || (buf[start] >= '0' && buf[start] <= '9'));
}

/* Every prefix of a good sample: parsed or refused cleanly, never half-read. */
static void test_prefixes(const char *name)
{
	char path[700], *buf = NULL;
	struct np_error err = {0};
	size_t len, ok = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (np__read_file(path, 1 << 20, &buf, &len, &err) != 0) {
		CHECK(0, "%s", err.message);
		return;
	}
	for (size_t n = 0; n <= len; n++) {
		np_topo *t = NULL;
		char save = buf[n];
		int rc;

		buf[n] = '\0';
		rc = np_topo_parse(NP_SOURCE_XL_INFO, buf, n, name, &t, &err);
		buf[n] = save;
		CHECK(rc != 0 || !cuts_row(buf, n), "%s[:%zu] ends inside a row but parsed", name,
		      n);
		if (rc == 0) {
			ok++;
			CHECK(np_topo_check(t, &err) == 0, "%s[:%zu]: %s", name, n, err.message);
		} else {
			CHECK(rc == NP_EINPUT && !strchr(err.message, '\n'), "%s[:%zu]: %d %s",
			      name, n, rc, err.message);
		}
		np_topo_free(t);
	}
	/* At least the whole file and the cuts in the trailer after numa_info. */
	CHECK(ok >= 2, "%s: %zu prefixes parse", name, ok);
	free(buf);
}

int main(void)
{
	dir = t_data("xl");
	T_CASE("kaindl", test_kaindl());
	T_CASE("faggioli", test_faggioli());
	T_CASE("illustrative", test_illustrative());
	T_CASE("asym", test_asym());
	T_CASE("sparse", test_sparse());
	T_CASE("unreachable", test_unreachable());
	T_CASE("bad", test_bad());
	T_CASE("buffers", test_buffers());
	T_CASE("prefixes:illustrative", test_prefixes("illustrative-16cpu.txt"));
	T_CASE("prefixes:sparse-cpuless", test_prefixes("sparse-cpuless.txt"));
	return t_done();
}
