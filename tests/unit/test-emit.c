/*
 * test-emit.c - np_topo_write(): the SVG drawing and failing streams.
 *
 * Hosts of 1, 2, 8 and 64 nodes are built with the builder (CPU-less and
 * memory-less nodes, an offline CPU, devices with and without a node,
 * asymmetric and unreachable distances), drawn, and the SVG is parsed
 * with libxml2: it must be well-formed, sized (width, height, viewBox),
 * hold one node group per node, one CPU square per CPU, a matrix cell per
 * node pair whose title carries the right distance, and the escaped source
 * name.  Real data too: the JSON test files and, when the sysfs source
 * loads it, the 64amd64 fixture.  A stream that fails must give NP_EOS.
 */
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "topology/topo-int.h"

/* Distance between nodes I and J of the synthetic hosts: 10 + 6 per hop, one-way 40. */
static uint32_t synth_distance(int n, int i, int j)
{
	if (i == j)
		return 10;
	if (n == 2 && i == 1)
		return 31; /* asymmetric: 0->1 is 21, 1->0 is 31 */
	if (n == 8 && i == 7 && j == 0)
		return NP_DISTANCE_UNREACHABLE;
	return 10 + 6 * (uint32_t)(abs(i - j) % 4 + 1);
}

/*
 * N nodes with ids 0, 2, 4, ... (gaps, as on real hosts); 4 CPUs each, two
 * cores of two threads, two nodes a socket.  With N >= 8, node 6 (id 12)
 * has no CPUs and node 7 (id 14) no memory.
 */
static np_topo *synth(int n, const char *name)
{
	np__tb *b = np__tb_new(NP_SOURCE_JSON, name);
	struct np_error err = { 0 };
	np_topo *t = NULL;
	int cpu = 0;

	for (int i = 0; i < n; i++) {
		np__tb_node(b, 2 * i, n >= 8 && i == 7 ? 0 : (uint64_t)(i % 3 + 1) << 22);
		np__tb_hugepages(b, 2 * i, 2048, (uint64_t)i * 10, (uint64_t)i * 5);
		for (int c = 0; c < 4 && !(n >= 8 && i == 6); c++, cpu++)
			np__tb_cpu(b, cpu, 2 * i, (cpu / 2) % 8, i / 2, cpu != 3);
		for (int j = 0; j < n; j++)
			np__tb_distance(b, 2 * i, 2 * j, synth_distance(n, i, j));
	}
	np__tb_device(b, "0000:01:00.0", 0x8086, 0x1521, 0x020000, 0);
	np__tb_device(b, "0000:02:00.0", 0x10de, 0x1db6, 0x030200, -1);
	CHECK(np__tb_finish(b, &t, &err) == 0, "synth %d: %s", n, err.message);
	return t;
}

static char *to_svg(const np_topo *t, size_t *len)
{
	struct np_error err = { 0 };
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int rc = np_topo_write(t, NP_TOPO_SVG, f, &err);

	fclose(f);
	CHECK(rc == 0, "write svg: %s", err.message);
	return buf;
}

static int count(xmlXPathContextPtr ctx, const char *xpath)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)xpath, ctx);
	int n = o && o->nodesetval ? o->nodesetval->nodeNr : -1;

	xmlXPathFreeObject(o);
	return n;
}

/* The root is <svg> in the SVG namespace, with width, height and a matching viewBox. */
static void check_root(xmlDocPtr doc, const char *what)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlChar *w = xmlGetProp(root, (const xmlChar *)"width");
	xmlChar *h = xmlGetProp(root, (const xmlChar *)"height");
	xmlChar *vb = xmlGetProp(root, (const xmlChar *)"viewBox");
	char want[64];

	CHECK(root && strcmp((const char *)root->name, "svg") == 0 && root->ns &&
		      strcmp((const char *)root->ns->href, "http://www.w3.org/2000/svg") == 0,
	      "%s: root is svg:svg", what);
	snprintf(want, sizeof(want), "0 0 %s %s", w ? (char *)w : "?", h ? (char *)h : "?");
	CHECK(w && h && strtol((char *)w, NULL, 10) > 100 && strtol((char *)h, NULL, 10) > 100,
	      "%s: size", what);
	CHECK(vb && strcmp((char *)vb, want) == 0, "%s: viewBox %s", what, vb ? (char *)vb : "none");
	xmlFree(w);
	xmlFree(h);
	xmlFree(vb);
}

/* Every matrix cell's title, in row-major order, says the topology's distance. */
static void check_cells(xmlXPathContextPtr ctx, const np_topo *t, const char *what)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(
		(const xmlChar *)"//*[local-name()='rect'][@class='cell']/*[local-name()='title']",
		ctx);
	int n = np_topo_node_count(t), bad = 0;

	CHECK(o && o->nodesetval && o->nodesetval->nodeNr == n * n, "%s: %d cells", what, n * n);
	for (int k = 0; o && o->nodesetval && k < o->nodesetval->nodeNr && k < n * n; k++) {
		xmlChar *text = xmlNodeGetContent(o->nodesetval->nodeTab[k]);
		uint32_t d = np_topo_distance(t, k / n, k % n);
		char want[96];

		if (d == NP_DISTANCE_UNREACHABLE)
			snprintf(want, sizeof(want), "node %d to node %d: unreachable",
				 np_topo_node(t, k / n)->os_id, np_topo_node(t, k % n)->os_id);
		else
			snprintf(want, sizeof(want), "node %d to node %d: %u",
				 np_topo_node(t, k / n)->os_id, np_topo_node(t, k % n)->os_id, d);
		if (!text || strcmp((char *)text, want) != 0) {
			bad++;
			fprintf(stderr, "%s: cell %d: '%s', want '%s'\n", what, k,
				text ? (char *)text : "", want);
		}
		xmlFree(text);
	}
	CHECK(bad == 0, "%s: %d cells say the wrong distance", what, bad);
	xmlXPathFreeObject(o);
}

/* Node groups: one per node, id "node-<os id>", CPU-less/memory-less marked. */
static void check_nodes(xmlXPathContextPtr ctx, const np_topo *t, const char *what)
{
	int n = np_topo_node_count(t), off = 0;
	char xp[160];

	CHECK(count(ctx, "//*[local-name()='g'][@class='node']") == n, "%s: %d node groups", what,
	      n);
	for (int i = 0; i < n; i++) {
		const struct np_node *node = np_topo_node(t, i);
		const char *mark = node->ncpus == 0          ? "box cpuless"
				   : node->mem_total_kb == 0 ? "box memless"
							     : "box";

		snprintf(xp, sizeof(xp), "//*[@id='node-%d']/*[local-name()='rect'][@class='%s']",
			 node->os_id, mark);
		CHECK(count(ctx, xp) == 1, "%s: node %d drawn as '%s'", what, node->os_id, mark);
		snprintf(xp, sizeof(xp), "//*[@id='node-%d']//*[local-name()='rect'][starts-with(@class,'cpu')]",
			 node->os_id);
		CHECK(count(ctx, xp) == node->ncpus, "%s: node %d has %d CPU squares", what,
		      node->os_id, node->ncpus);
	}
	for (int i = 0; i < np_topo_cpu_count(t); i++)
		off += !np_topo_cpu(t, i)->online;
	CHECK(count(ctx, "//*[local-name()='rect'][@class='cpu off']") == off,
	      "%s: %d offline CPUs marked", what, off);
	CHECK(count(ctx, "//*[local-name()='rect'][starts-with(@class,'cpu')]") ==
		      np_topo_cpu_count(t),
	      "%s: every CPU drawn, with a node or not", what);
}

/* Draw T, parse it, check it; the SVG text is returned for more checks. */
static char *check_svg(const np_topo *t, const char *what)
{
	size_t len = 0;
	char *svg = to_svg(t, &len);
	xmlDocPtr doc = svg ? xmlReadMemory(svg, (int)len, "t.svg", NULL, XML_PARSE_NONET) : NULL;
	xmlXPathContextPtr ctx = doc ? xmlXPathNewContext(doc) : NULL;
	int n = np_topo_node_count(t);

	CHECK(doc != NULL, "%s: SVG is not well-formed XML", what);
	if (ctx) {
		check_root(doc, what);
		check_nodes(ctx, t, what);
		check_cells(ctx, t, what);
		CHECK(count(ctx, "//*[local-name()='g'][@class='links']") == (n >= 2 && n <= 8),
		      "%s: link graph for 2..8 nodes only", what);
		CHECK(count(ctx, "//@*[local-name()='href'] | //*[local-name()='image' or "
				 "local-name()='script']") == 0,
		      "%s: no external resources or scripts", what);
	}
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return svg;
}

static void test_synth(void)
{
	static const int sizes[] = { 1, 2, 8, 64 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char what[32], *svg, *again;
		np_topo *t;
		size_t len;

		snprintf(what, sizeof(what), "%d nodes", sizes[k]);
		t = synth(sizes[k], "synth.json");
		if (!t)
			continue;
		svg = check_svg(t, what);
		again = to_svg(t, &len);
		CHECK(svg && again && strcmp(svg, again) == 0, "%s: deterministic", what);
		CHECK(svg && strstr(svg, ">01:00.0 net<") && strstr(svg, ">02:00.0 gpu<"),
		      "%s: device tags", what);
		CHECK(svg && strstr(svg, "PCI devices attached to no node"),
		      "%s: the GPU is on no node", what);
		free(svg);
		free(again);
		np_topo_free(t);
	}
}

/* The only outside text, the source name, is escaped; odd bytes become '?'. */
static void test_escape(void)
{
	const char *name = "a<b>&c\"d'\x01\xff.json";
	struct np_error err = { 0 };
	const char *doc = "{\"schema\": \"numaplace.topology/1\", \"nodes\": [{\"id\": 0,"
			  " \"cpus\": [0], \"memory_mb\": {\"total\": 64}}]}";
	np_topo *t = NULL;
	char *svg;

	CHECK(np_topo_parse(NP_SOURCE_JSON, doc, strlen(doc), name, &t, &err) == 0, "parse: %s",
	      err.message);
	if (!t)
		return;
	svg = check_svg(t, "escape");
	CHECK(svg && strstr(svg, "a&lt;b&gt;&amp;c&quot;d'??.json") && !strstr(svg, "a<b>"),
	      "source name escaped");
	free(svg);
	np_topo_free(t);
}

/* Real data: the hand-written JSON hosts, and a real 8-node machine. */
static void test_real(void)
{
	static const char *const files[] = { "full.json", "sparse.json", "cpuless.json",
					      "unreachable.json", "devices.json" };
	const char *src = getenv("NP_SRC");
	struct np_error err = { 0 };
	char path[600];

	for (size_t k = 0; src && k < sizeof(files) / sizeof(files[0]); k++) {
		np_topo *t = NULL;

		snprintf(path, sizeof(path), "%s/tests/data/json/%s", src, files[k]);
		CHECK(np_topo_load(NP_SOURCE_JSON, path, &t, &err) == 0, "%s", err.message);
		if (t)
			free(check_svg(t, files[k]));
		np_topo_free(t);
	}
}

static void test_fixture(void)
{
	struct np_error err = { 0 };
	np_topo *t = NULL;

	t_needs(NP_HAVE_HWLOC, "hwloc");
	if (np_topo_load(NP_SOURCE_SYSFS, t_fixture("64amd64-4s2n4ca2co"), &t, &err) == 0) {
		free(check_svg(t, "64amd64"));
		CHECK(np_topo_node_count(t) == 8 && np_topo_cpu_count(t) == 64, "64amd64");
	} else {
		printf("skip 64amd64: %s\n", err.message);
	}
	np_topo_free(t);
	t_cleanup();
}

/* A full disk or a stream opened for reading: NP_EOS, in every format. */
static void test_failing_streams(void)
{
	static const enum np_topo_format formats[] = { NP_TOPO_TEXT, NP_TOPO_JSON, NP_TOPO_SVG };
	np_topo *t = synth(2, "small");

	for (size_t k = 0; t && k < sizeof(formats) / sizeof(formats[0]); k++) {
		struct np_error err = { 0 };
		FILE *full = fopen("/dev/full", "w"), *ro = fopen("/dev/null", "r");

		if (full) {
			CHECK(np_topo_write(t, formats[k], full, &err) == NP_EOS && err.code == NP_EOS,
			      "format %d to /dev/full: %d", (int)formats[k], err.code);
			fclose(full);
		}
		if (ro) {
			memset(&err, 0, sizeof(err));
			CHECK(np_topo_write(t, formats[k], ro, &err) == NP_EOS,
			      "format %d to a read-only stream", (int)formats[k]);
			fclose(ro);
		}
	}
	np_topo_free(t);
}

int main(void)
{
	LIBXML_TEST_VERSION
	T_CASE("synth", test_synth());
	T_CASE("escape", test_escape());
	T_CASE("real", test_real());
	T_CASE("fixture", test_fixture());
	T_CASE("failing-streams", test_failing_streams());
	xmlCleanupParser();
	return t_done();
}
