/*
 * test-src-libvirt.c - the two libvirt sources: saved capabilities XML
 * (tests/data/libvirt/, see README.md there) and a live connection to
 * libvirt's in-process test driver, test:///default.
 *
 * The live topology is checked against what `virsh -c test:///default`
 * prints (capabilities, freecell) when virsh is installed, and against the
 * saved copy of its capabilities.  Broken documents and URIs must fail
 * with one line, and libvirt and libxml2 must print nothing on stderr.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <libvirt/virterror.h>
#include <libxml/globals.h>

#include "check.h"
#include "topology/src-libvirt.h"
#include "topology/topo-int.h"

static const char *dir; /* tests/data/libvirt, from t_data() */

static np_topo *load(const char *name)
{
	struct np_error err = {0};
	np_topo *t = NULL;
	char path[700];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = np_topo_load(NP_SOURCE_LIBVIRT_XML, path, &t, &err);
	CHECK(rc == 0 && t, "%s: %d %s", name, rc, err.message);
	if (t)
		CHECK(np_topo_check(t, &err) == 0, "%s: check: %s", name, err.message);
	return t;
}

static const struct np_node *node(const np_topo *t, int os_id)
{
	const struct np_node *n = np_topo_node(t, np_topo_node_index(t, os_id));

	CHECK(n != NULL, "node %d exists", os_id);
	return n;
}

/* Node OS_ID has TOTAL kB (free == total) and exactly the CPUs CPULIST. */
static void node_is(const np_topo *t, int os_id, uint64_t total_kb, const char *cpulist)
{
	const struct np_node *n = node(t, os_id);
	char got[256];

	if (!n)
		return;
	CHECK(n->mem_total_kb == total_kb, "node %d total %llu kB, want %llu", os_id,
	      (unsigned long long)n->mem_total_kb, (unsigned long long)total_kb);
	CHECK(n->mem_free_kb == n->mem_total_kb && !n->mem_free_known,
	      "node %d: free unknown, so total, and marked unknown", os_id);
	np__format_cpulist(n->cpus, n->ncpus, got, sizeof(got));
	CHECK(strcmp(got, cpulist) == 0, "node %d CPUs '%s', want '%s'", os_id, got, cpulist);
}

/* Pool K of node OS_ID has SIZE kB pages, TOTAL of them, FREE free. */
static void pool_is(const np_topo *t, int os_id, int k, uint64_t size, uint64_t total,
		    uint64_t free_pages)
{
	const struct np_node *n = node(t, os_id);
	const struct np_hugepages *p = n && k < n->npools ? &n->pools[k] : NULL;

	CHECK(p && p->size_kb == size && p->total == total && p->free == free_pages,
	      "node %d pool %d: %llu kB x %llu (%llu free)", os_id, k,
	      p ? (unsigned long long)p->size_kb : 0, p ? (unsigned long long)p->total : 0,
	      p ? (unsigned long long)p->free : 0);
}

static void cpu_is(const np_topo *t, int os_id, int core, int socket)
{
	const struct np_cpu *c = np_topo_cpu(t, np_topo_cpu_index(t, os_id));

	CHECK(c && c->core == core && c->socket == socket && c->online, "CPU %d: core %d socket %d",
	      os_id, c ? c->core : -2, c ? c->socket : -2);
}

/* The shape of research/linux.md 5.2: one cell, real numbers. */
static void test_one_cell(void)
{
	np_topo *t = load("host-1cell.xml");
	struct np_error err = {0};
	char path[700];

	if (!t)
		return;
	CHECK(np_topo_node_count(t) == 1, "one node");
	node_is(t, 0, 7301324, "0-1");
	CHECK(node(t, 0)->npools == 2, "4 KiB pages are ordinary memory, not a pool");
	pool_is(t, 0, 0, 2048, 0, 0);
	pool_is(t, 0, 1, 1048576, 0, 0);
	CHECK(!np_topo_distances_defaulted(t) && np_topo_distance(t, 0, 0) == 10,
	      "the one distance given");
	cpu_is(t, 0, 0, 0);
	cpu_is(t, 1, 1, 0);
	CHECK(np_topo_device_count(t) == 0, "a document has no devices");
	CHECK(np_topo_source_kind(t) == NP_SOURCE_LIBVIRT_XML, "kind");
	np_topo_free(t);

	/* --host FILE without a kind finds its way here too. */
	snprintf(path, sizeof(path), "%s/host-1cell.xml", dir);
	t = NULL;
	CHECK(np_topo_load(NP_SOURCE_AUTO, path, &t, &err) == 0 && t &&
		  np_topo_source_kind(t) == NP_SOURCE_LIBVIRT_XML,
	      "auto: %s", err.message);
	np_topo_free(t);
}

static void test_four_cells(void)
{
	static const uint32_t d[4][4] = {
	    {10, 12, 21, 22}, {12, 10, 22, 21}, {21, 22, 10, 12}, {22, 21, 12, 10}};
	np_topo *t = load("host-4cell.xml");
	int sib[4], n;

	if (!t)
		return;
	/* KiB, MiB, GiB and bytes: the same 32 GiB, then 16 GiB. */
	node_is(t, 0, 33554432, "0-3,16-19");
	node_is(t, 1, 33554432, "4-7,20-23");
	node_is(t, 2, 33554432, "8-11,24-27");
	node_is(t, 3, 16777216, "12-15,28-31");
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			CHECK(np_topo_distance(t, i, j) == d[i][j], "distance %d->%d = %u", i, j,
			      np_topo_distance(t, i, j));
	pool_is(t, 0, 0, 2048, 512, 512);
	pool_is(t, 0, 1, 1048576, 4, 4);
	pool_is(t, 1, 0, 2048, 256, 256);
	pool_is(t, 1, 1, 1048576, 0, 0);
	pool_is(t, 3, 0, 2048, 1024, 1024);
	pool_is(t, 3, 1, 1048576, 1, 1);
	cpu_is(t, 21, 5, 0);
	cpu_is(t, 30, 6, 1);
	n = np_topo_cpu_siblings(t, np_topo_cpu_index(t, 9), sib, 4);
	CHECK(n == 2 && sib[0] == 9 && sib[1] == 25, "SMT siblings of CPU 9: %d", n);
	np_topo_free(t);
}

/* Sparse ids, a node without <memory>, a node without CPUs, 64 KiB base pages. */
static void test_sparse(void)
{
	np_topo *t = load("host-sparse.xml");

	if (!t)
		return;
	CHECK(np_topo_node_count(t) == 3 && np_topo_node(t, 2)->os_id == 33, "ids 0, 2, 33");
	node_is(t, 0, 16777216, "0-1");
	node_is(t, 2, 0, "4-5");
	node_is(t, 33, 8388608, "");
	CHECK(np_topo_distances_defaulted(t) && np_topo_distance(t, 0, 2) == 20,
	      "no <distances>: 10/20");
	CHECK(node(t, 0)->npools == 1 && node(t, 2)->npools == 0, "64 KiB pages are the base");
	pool_is(t, 0, 0, 524288, 0, 0);
	pool_is(t, 33, 0, 524288, 4, 4);
	cpu_is(t, 0, 0, -1);
	cpu_is(t, 4, -1, -1);
	np_topo_free(t);
}

/* The SMT siblings of CPU OS_ID are exactly the cpulist WANT. */
static void siblings_are(const np_topo *t, int os_id, const char *want, const char *doc)
{
	int sib[16], n = np_topo_cpu_siblings(t, np_topo_cpu_index(t, os_id), sib, 16);
	char got[128];

	np__format_cpulist(sib, n < 16 ? n : 16, got, sizeof(got));
	CHECK(strcmp(got, want) == 0, "%s: siblings of CPU %d are %s, want %s", doc, os_id, got,
	      want);
}

/*
 * `siblings` decides SMT threads when core_id says otherwise (see
 * tests/data/libvirt/README.md for where each document comes from).
 */
static void test_smt_siblings(void)
{
	np_topo *t = load("smt-siblings-cascadelake.xml");

	if (t) { /* every CPU its own core_id, siblings pair them */
		siblings_are(t, 0, "0,2", "cascadelake");
		siblings_are(t, 3, "1,3", "cascadelake");
		siblings_are(t, 6, "4,6", "cascadelake");
		cpu_is(t, 2, 0, 0); /* the core is named by its lowest CPU */
		cpu_is(t, 7, 5, 1);
	}
	np_topo_free(t);
	t = load("smt-compute-units.xml");
	if (t) {
		siblings_are(t, 0, "0-1", "compute units");
		siblings_are(t, 15, "14-15", "compute units");
	}
	np_topo_free(t);
	t = load("smt-agree-gaps.xml");
	if (t) { /* agreeing: core_id kept, gaps and all */
		siblings_are(t, 2, "2,6", "gaps");
		cpu_is(t, 6, 8, 0);
		cpu_is(t, 7, 9, 0);
	}
	np_topo_free(t);
	t = load("smt-siblings-alone.xml");
	if (t) { /* shared core_id, lone siblings: no SMT */
		siblings_are(t, 1, "1", "alone");
		siblings_are(t, 4, "4", "alone");
	}
	np_topo_free(t);
	t = load("smt-siblings-odd.xml");
	if (t) {
		siblings_are(t, 0, "0-1", "odd");
		siblings_are(t, 4, "4", "odd: CPU 0 is in another cell");
		siblings_are(t, 5, "5", "odd: CPU 99 is not in the document");
		siblings_are(t, 6, "6-7", "odd: 7 names 6, 6 forgets 7");
		siblings_are(t, 9, "8-9", "odd: 9 has no list, 8 names it");
	}
	np_topo_free(t);
	/* host-4cell and host-sparse agree: their core ids stay (test_four_cells, test_sparse). */
}

/* Run CMD and return its output (malloc'd), or NULL when it cannot run. */
static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0, got;

	if (!p)
		return NULL;
	do {
		if (np__grow((void **)&buf, &cap, len + 4097, 1) < 0)
			break;
		got = fread(buf + len, 1, cap - len - 1, p);
		len += got;
	} while (got > 0);
	if (buf)
		buf[len] = '\0';
	if (pclose(p) != 0 || len == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The same nodes, CPUs, totals and pools. */
static void same_shape(const np_topo *a, const np_topo *b, const char *what)
{
	CHECK(np_topo_node_count(a) == np_topo_node_count(b), "%s: node count", what);
	CHECK(np_topo_cpu_count(a) == np_topo_cpu_count(b), "%s: CPU count", what);
	for (int i = 0; i < np_topo_node_count(a) && i < np_topo_node_count(b); i++) {
		const struct np_node *x = np_topo_node(a, i), *y = np_topo_node(b, i);

		CHECK(x->os_id == y->os_id && x->mem_total_kb == y->mem_total_kb &&
			  x->ncpus == y->ncpus && x->npools == y->npools,
		      "%s: node %d", what, x->os_id);
		for (int k = 0; k < x->npools && k < y->npools; k++)
			CHECK(x->pools[k].size_kb == y->pools[k].size_kb &&
				  x->pools[k].total == y->pools[k].total,
			      "%s: node %d pool %d", what, x->os_id, k);
	}
	for (int i = 0; i < np_topo_cpu_count(a) && i < np_topo_cpu_count(b); i++) {
		const struct np_cpu *x = np_topo_cpu(a, i), *y = np_topo_cpu(b, i);

		CHECK(x->os_id == y->os_id && x->node_idx == y->node_idx && x->core == y->core &&
			  x->socket == y->socket,
		      "%s: CPU %d", what, x->os_id);
	}
}

/* Compare free memory per cell with `virsh freecell --all`. */
static void check_freecell(const np_topo *t, const char *out)
{
	int cells = 0;

	for (const char *line = out; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		unsigned long long kib;
		int cell;

		if (sscanf(line, " %d: %llu KiB", &cell, &kib) != 2)
			continue;
		cells++;
		CHECK(node(t, cell) && node(t, cell)->mem_free_kb == kib,
		      "cell %d: virsh says %llu KiB free, we say %llu", cell, kib,
		      node(t, cell) ? (unsigned long long)node(t, cell)->mem_free_kb : 0);
	}
	CHECK(cells == np_topo_node_count(t), "virsh freecell lists %d cells", cells);
}

static void test_live(void)
{
	struct np_error err = {0};
	np_topo *t = NULL, *saved = load("test-default.xml"), *virsh = NULL;
	char *caps, *freecell;
	int rc;

	rc = np_topo_load(NP_SOURCE_LIBVIRT_URI, "test:///default", &t, &err);
	CHECK(rc == 0 && t, "test:///default: %d %s", rc, err.message);
	if (!t || !saved) {
		np_topo_free(saved);
		np_topo_free(t);
		return;
	}
	CHECK(np_topo_check(t, &err) == 0, "live check: %s", err.message);
	CHECK(np_topo_source_kind(t) == NP_SOURCE_LIBVIRT_URI &&
		  strcmp(np_topo_source_name(t), "test:///default") == 0,
	      "kind and name");
	CHECK(np_topo_node_count(t) == 2 && np_topo_cpu_count(t) == 16, "2 nodes, 16 CPUs");
	CHECK(np_topo_distances_defaulted(t), "the test driver gives no distances");
	CHECK(np_topo_device_count(t) == 0, "test:///default has no PCI devices");
	same_shape(t, saved, "live vs saved");
	/* The test driver's free memory is far below its totals: it was refined. */
	CHECK(np_topo_mem_free_kb(t) < np_topo_mem_free_kb(saved), "free memory refined");

	caps = run("virsh -c test:///default capabilities 2>/dev/null");
	freecell = run("virsh -c test:///default freecell --all 2>/dev/null");
	if (caps && freecell) {
		rc =
		    np_topo_parse(NP_SOURCE_LIBVIRT_XML, caps, strlen(caps), "virsh", &virsh, &err);
		CHECK(rc == 0, "virsh capabilities: %s", err.message);
		if (virsh)
			same_shape(t, virsh, "live vs virsh");
		check_freecell(t, freecell);
	} else {
		fprintf(stderr, "virsh not found: live values not compared with it\n");
	}
	free(caps);
	free(freecell);
	np_topo_free(virsh);
	np_topo_free(saved);
	np_topo_free(t);
}

/* fd 2 redirected to a temporary file while a call runs. */
struct grab {
	int saved, fd;
};

static void grab_start(struct grab *g)
{
	char path[] = "/tmp/np-stderr-XXXXXX";

	fflush(stderr);
	g->fd = mkstemp(path);
	unlink(path);
	g->saved = dup(2);
	dup2(g->fd, 2);
}

/* What was written to stderr, in BUF. */
static const char *grab_end(struct grab *g, char *buf, size_t size)
{
	ssize_t n;

	fflush(stderr);
	dup2(g->saved, 2);
	close(g->saved);
	n = pread(g->fd, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(g->fd);
	return buf;
}

/* The application's own process-wide libvirt error function: counts. */
static int app_errors;

static void app_error_func(void *opaque, virErrorPtr error)
{
	(void)opaque;
	(void)error;
	app_errors++;
}

static void bad_uri(const char *uri)
{
	struct np_error err = {0};
	xmlGenericErrorFunc before = xmlGenericError;
	np_topo *t = NULL;
	char printed[1024], want[256];
	struct grab g;
	int rc;

	int before_errors = app_errors;

	grab_start(&g);
	rc = np_topo_load(NP_SOURCE_LIBVIRT_URI, uri, &t, &err);
	grab_end(&g, printed, sizeof(printed));
	CHECK(app_errors > before_errors,
	      "%s: the open error reached the application's error function", uri);
	CHECK(rc == NP_EIO && t == NULL, "%s: rc %d", uri, rc);
	np_topo_free(t);
	snprintf(want, sizeof(want), "cannot load '%s': cannot connect: ", uri);
	CHECK(strncmp(err.message, want, strlen(want)) == 0 && strlen(err.message) > strlen(want),
	      "%s: message '%s'", uri, err.message);
	CHECK(strchr(err.message, '\n') == NULL, "%s: one line", uri);
	CHECK(printed[0] == '\0', "%s: printed on stderr: '%s'", uri, printed);
	CHECK(xmlGenericError == before, "%s: libxml2's error handler restored", uri);
}

/*
 * libvirt's process-wide error function belongs to the application: the
 * library never replaces it (the open failures below still reach it, and
 * nothing is printed), and a whole load of test:///default reaches it not
 * once.  (test-runtime shows an error on a library connection staying on
 * the connection.)
 */
static void test_bad_uris(void)
{
	struct np_error err = {0};
	np_topo *t = NULL;
	int before;

	virSetErrorFunc(NULL, app_error_func);
	bad_uri("test:///nonexistent-numaplace-dir/node.xml");
	bad_uri("notauri");
	bad_uri("nosuchdriver+unix:///system?socket=/nonexistent-numaplace.sock");
	CHECK(np_topo_load(NP_SOURCE_LIBVIRT_URI, NULL, &t, &err) == NP_EINPUT, "no URI");
	/* A bad URI leaves nothing behind: the next good one still loads. */
	before = app_errors;
	CHECK(np_topo_load(NP_SOURCE_LIBVIRT_URI, "test:///default", &t, &err) == 0, "again: %s",
	      err.message);
	CHECK(app_errors == before, "the connection's errors stay on the connection (%d)",
	      app_errors - before);
	np_topo_free(t);
	virSetErrorFunc(NULL, NULL);
}

/*
 * np_set_quiet(), for programs that print their own errors: libvirt's
 * process-wide function becomes a silent one, so a connection that fails
 * to open neither prints nor reaches the function set before.  Without
 * it, libvirt's default prints (so the check below can fail).  Last of
 * all: it holds for the rest of the process.
 */
static void test_set_quiet(void)
{
	const char *uri = "nosuchdriver:///system";
	struct np_error err = { 0 };
	np_topo *t = NULL;
	char printed[1024];
	struct grab g;
	int before;

	virSetErrorFunc(NULL, NULL);
	grab_start(&g);
	CHECK(np_topo_load(NP_SOURCE_LIBVIRT_URI, uri, &t, &err) == NP_EIO, "%s", err.message);
	grab_end(&g, printed, sizeof(printed));
	CHECK(strstr(printed, "libvirt: ") != NULL, "libvirt's default prints: '%s'", printed);
	virSetErrorFunc(NULL, app_error_func);
	np_set_quiet();
	before = app_errors;
	grab_start(&g);
	CHECK(np_topo_load(NP_SOURCE_LIBVIRT_URI, uri, &t, &err) == NP_EIO, "%s", err.message);
	grab_end(&g, printed, sizeof(printed));
	CHECK(printed[0] == '\0', "quiet: printed '%s'", printed);
	CHECK(app_errors == before, "quiet: the old function was replaced");
	CHECK(np_topo_load(NP_SOURCE_LIBVIRT_URI, "test:///default", &t, &err) == 0,
	      "quiet, still loads: %s", err.message);
	np_topo_free(t);
}

/* TEXT is refused with NP_EINPUT and a one-line message containing WHAT. */
static void bad_xml(const char *text, const char *what)
{
	struct np_error err = {0};
	np_topo *t = NULL;
	struct grab g;
	char printed[512];
	int rc;

	grab_start(&g);
	rc = np_topo_parse(NP_SOURCE_LIBVIRT_XML, text, strlen(text), "caps.xml", &t, &err);
	grab_end(&g, printed, sizeof(printed));
	CHECK(rc == NP_EINPUT && t == NULL, "'%.40s': rc %d", text, rc);
	np_topo_free(t);
	CHECK(strstr(err.message, what) != NULL, "'%s' lacks '%s'", err.message, what);
	CHECK(strncmp(err.message, "cannot load 'caps.xml': ", 24) == 0, "prefix: %s", err.message);
	CHECK(strchr(err.message, '\n') == NULL, "one line: %s", err.message);
	CHECK(printed[0] == '\0', "libxml2 printed '%s'", printed);
}

#define CAPS(cells)                                                                                \
	"<capabilities><host><topology><cells>" cells "</cells></topology></host></capabilities>"
#define CELL0                                                                                      \
	"<cell id='0'><memory unit='KiB'>1024</memory><cpus num='1'><cpu id='0'/></cpus></cell>"

static void test_bad_xml(void)
{
	bad_xml("", "line 1: ");
	bad_xml("not xml at all", "line 1: Start tag expected");
	bad_xml("<capabilities>\n<host>\n", "line 3: ");
	bad_xml("<capabilities><host></capabilities>", "line 1: Opening and ending tag mismatch");
	bad_xml("<domain type='kvm'/>", "root element is <domain>, not <capabilities>");
	bad_xml("<capabilities/>", "no <host> in <capabilities>");
	bad_xml("<capabilities><host/></capabilities>", "no <topology> in <host>");
	bad_xml("<capabilities><host><topology/></host></capabilities>", "no <cells>");
	bad_xml(CAPS(""), "<cells> lists no cell");
	bad_xml(CAPS("<cell><memory>1</memory></cell>"), "cell: no id attribute");
	bad_xml(CAPS("<cell id='x'/>"), "cell: id 'x' is not a number");
	bad_xml(CAPS("<cell id='-1'/>"), "cell: id -1 is out of range");
	bad_xml(CAPS("<cell id='99999999999999999999'/>"),
		"cell: id '99999999999999999999' is not a number");
	bad_xml(CAPS(CELL0 CELL0), "cell 0 is listed twice");
	bad_xml(CAPS("<cell id='1'><cpus><cpu id='3' socket_id='x'/></cpus></cell>"),
		"cell 1: cpu 3: socket_id 'x' is not a number");
	bad_xml(CAPS("<cell id='1'><cpus><cpu id='3' core_id='-2'/></cpus></cell>"),
		"cell 1: cpu 3: core_id -2 is out of range");
	bad_xml(CAPS("<cell id='0'><cpus><cpu socket_id='0'/></cpus></cell>"),
		"cell 0: cpu: no id attribute");
	bad_xml(CAPS("<cell id='0'><memory>12 34</memory></cell>"),
		"cell 0: memory '12 34' is not a number");
	bad_xml(CAPS("<cell id='0'><memory>-5</memory></cell>"),
		"cell 0: memory '-5' is not a number");
	bad_xml(CAPS("<cell id='0'><memory unit='furlongs'>5</memory></cell>"),
		"cell 0: memory: unknown unit 'furlongs'");
	bad_xml(CAPS("<cell id='0'><memory unit='EiB'>16384</memory></cell>"),
		"cell 0: memory 16384 EiB is too large");
	bad_xml(CAPS("<cell id='0'><pages unit='KiB'>5</pages></cell>"),
		"cell 0: pages: no size attribute");
	bad_xml(CAPS("<cell id='0'><pages size='4'>1</pages><pages size='2048'>x</pages></cell>"),
		"cell 0: pages of 2048 KiB: count 'x' is not a number");
	bad_xml(CAPS("<cell id='0'><pages unit='b' size='512'>1</pages></cell>"),
		"cell 0: pages: size 512 is below 1 KiB");
	bad_xml(CAPS("<cell id='0'><pages size='4'>1</pages><pages size='2048'>1</pages>"
		     "<pages size='2048'>2</pages></cell>"),
		"2048 kB huge pages listed twice");
	bad_xml(CAPS("<cell id='0'><distances><sibling id='7' value='10'/></distances></cell>"),
		"cell 0: distances: sibling 7: no such cell");
	bad_xml(
	    CAPS("<cell id='0'><distances><sibling id='0' value='10'/><sibling id='0' value='10'/>"
		 "</distances></cell>"),
	    "cell 0: distances: sibling 0 is listed twice");
	bad_xml(CAPS("<cell id='0'><distances><sibling id='0'/></distances></cell>"),
		"cell 0: distances: sibling 0: no value attribute");
	bad_xml(
	    CAPS("<cell id='0'><distances><sibling id='0' value='10'/><sibling id='1' value='20'/>"
		 "</distances></cell><cell id='1'/>"),
	    "no distance from node 1 to node 0");
	bad_xml(
	    CAPS("<cell id='0'><cpus><cpu id='0'/></cpus></cell><cell id='1'><cpus><cpu id='0'/>"
		 "</cpus></cell>"),
	    "CPU 0 is listed twice");
	bad_xml(CAPS("<cell id='0'><cpus><cpu id='0' siblings='0,x'/></cpus></cell>"),
		"cell 0: cpu 0: siblings '0,x' is not a CPU list");
	/* A CPU in two cells with siblings: still the builder's one line. */
	bad_xml(CAPS("<cell id='0'><cpus><cpu id='0' siblings='0'/></cpus></cell><cell id='1'>"
		     "<cpus><cpu id='0' siblings='0'/></cpus></cell>"),
		"CPU 0 is listed twice");
	/* No external entity is ever read: the memory text stays empty. */
	bad_xml("<!DOCTYPE capabilities [<!ENTITY x SYSTEM 'file:///etc/hostname'>]>" CAPS(
		    "<cell id='0'><memory>&x;</memory></cell>"),
		"cell 0: memory '' is not a number");
}

/* Units libvirt accepts that the samples do not use. */
static void test_units(void)
{
	static const struct {
		const char *unit;
		uint64_t value, kib;
	} u[] = {
	    {"KB", 1024000, 1000000}, {"M", 3, 3072},	 {"bytes", 4096, 4}, {"k", 7, 7},
	    {"TiB", 1, 1ull << 30},   {"GB", 1, 976562},
	};

	for (size_t i = 0; i < NP__ARRAY_SIZE(u); i++) {
		char text[256];
		struct np_error err = {0};
		np_topo *t = NULL;

		snprintf(text, sizeof(text),
			 CAPS("<cell id='0'><memory unit='%s'>%llu</memory></cell>"), u[i].unit,
			 (unsigned long long)u[i].value);
		CHECK(np_topo_parse(NP_SOURCE_LIBVIRT_XML, text, strlen(text), "u", &t, &err) == 0,
		      "unit %s: %s", u[i].unit, err.message);
		CHECK(t && np_topo_node(t, 0)->mem_total_kb == u[i].kib, "%llu %s is %llu KiB",
		      (unsigned long long)u[i].value, u[i].unit,
		      t ? (unsigned long long)np_topo_node(t, 0)->mem_total_kb : 0);
		np_topo_free(t);
	}
}

/* A node device file read into a builder that has nodes 0 and 1. */
static np_topo *nodedev(const char *name, int *rc, struct np_error *err)
{
	np__tb *b = np__tb_new(NP_SOURCE_LIBVIRT_URI, name);
	char path[700], *buf = NULL;
	np_topo *t = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	np__tb_node(b, 0, 1024);
	np__tb_node(b, 1, 1024);
	if (np__read_file(path, 1 << 20, &buf, &len, err) == 0)
		np__libvirt_nodedev_read(b, buf, len);
	free(buf);
	*rc = np__tb_finish(b, &t, err);
	return t;
}

static void test_nodedev(void)
{
	struct np_error err = {0};
	const struct np_device *d;
	np_topo *t;
	int rc;

	t = nodedev("nodedev-pci-numa.xml", &rc, &err);
	CHECK(rc == 0 && t && np_topo_device_count(t) == 1, "pci with numa: %s", err.message);
	d = t ? np_topo_device(t, 0) : NULL;
	CHECK(d && strcmp(d->address, "0000:81:00.1") == 0 && d->vendor == 0x8086 &&
		  d->device == 0x10fb && d->class_code == 0x020000 && d->node_idx == 1,
	      "0000:81:00.1 is Intel 82599 on node 1");
	np_topo_free(t);

	t = nodedev("nodedev-pci-nonuma.xml", &rc, &err);
	d = t ? np_topo_device(t, 0) : NULL;
	CHECK(rc == 0 && d && strcmp(d->address, "0000:00:1f.2") == 0 && d->node_idx == -1 &&
		  d->class_code == 0 && d->device == 0x2922,
	      "no <numa>, no <class>: %s", err.message);
	np_topo_free(t);

	t = nodedev("nodedev-usb.xml", &rc, &err);
	CHECK(rc == 0 && t && np_topo_device_count(t) == 0, "USB is not a PCI device");
	np_topo_free(t);

	/* Broken descriptions: each names the device. */
	static const struct {
		const char *xml, *what;
	} bad[] = {
	    {"<device><name>d</name><capability type='pci'><domain>0</domain><bus>1</bus>"
	     "<slot>40</slot><function>0</function></capability></device>",
	     "device d: slot '40' is not a number up to 0x1f"},
	    {"<device><name>d</name><capability type='pci'><domain>0</domain><bus>1</bus>"
	     "<function>0</function></capability></device>",
	     "device d: no <slot>"},
	    {"<device><name>d</name><capability type='pci'><domain>0</domain><bus>1</bus>"
	     "<slot>0</slot><function>0</function><numa node='7'/></capability></device>",
	     "device 0000:01:00.0 refers to node 7"},
	    {"<device><name>d</name><capability type='pci'><domain>0</domain><bus>1</bus>"
	     "<slot>0</slot><function>0</function><vendor id='0x12345'/></capability></device>",
	     "device d: vendor '0x12345' is not a number up to 0xffff"},
	    {"<node/>", "root element is <node>, not <device>"},
	    {"<device>", "line 1: "},
	};
	for (size_t i = 0; i < NP__ARRAY_SIZE(bad); i++) {
		np__tb *b = np__tb_new(NP_SOURCE_LIBVIRT_URI, "dev");

		np__tb_node(b, 0, 1024);
		np__libvirt_nodedev_read(b, bad[i].xml, strlen(bad[i].xml));
		rc = np__tb_finish(b, &t, &err);
		CHECK(rc == NP_EINPUT && strstr(err.message, bad[i].what), "'%s' lacks '%s'",
		      err.message, bad[i].what);
	}
}

/* Every cut of a document is refused (it is no longer well-formed). */
static void test_prefixes(const char *name)
{
	char path[700], *buf = NULL;
	struct np_error err = {0};
	size_t len, end;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (np__read_file(path, 1 << 20, &buf, &len, &err) != 0) {
		CHECK(0, "%s", err.message);
		return;
	}
	end = strrchr(buf, '>') - buf + 1;
	for (size_t n = 0; n < end; n++) {
		np_topo *t = NULL;
		int rc = np_topo_parse(NP_SOURCE_LIBVIRT_XML, buf, n, name, &t, &err);

		CHECK(rc == NP_EINPUT && !t && strstr(err.message, ": line "), "%s[:%zu]: %d %s",
		      name, n, rc, err.message);
		np_topo_free(t);
	}
	free(buf);
}

int main(void)
{
	dir = t_data("libvirt");
	T_CASE("one-cell", test_one_cell());
	T_CASE("four-cells", test_four_cells());
	T_CASE("sparse", test_sparse());
	T_CASE("smt-siblings", test_smt_siblings());
	T_CASE("units", test_units());
	T_CASE("bad-xml", test_bad_xml());
	T_CASE("nodedev", test_nodedev());
	T_CASE("prefixes", test_prefixes("host-1cell.xml"));
	T_CASE("live", test_live());
	T_CASE("bad-uris", test_bad_uris());
	T_CASE("set-quiet", test_set_quiet());
	return t_done();
}
