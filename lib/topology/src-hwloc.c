/*
 * src-hwloc.c - the three sources backed by libhwloc: this machine
 * (local), a saved Linux sysfs/procfs root (sysfs) and an hwloc XML export
 * (hwloc-xml).
 *
 * Design: a source only sets up one hwloc topology (the Linux backend on
 * "/", the Linux backend on a saved root, the XML backend on a buffer);
 * one walker, feed(), then turns the loaded objects into builder facts
 * keyed by kernel ids.  hwloc knows no free memory, so for a Linux root the
 * walker also reads what hwloc does not keep: nodeN/meminfo (MemFree),
 * nodeN/hugepages/hugepages-SkB/free_hugepages, and the numa_node and class
 * of each PCI device.  Those reads are best effort: a missing, odd or
 * garbled file leaves the builder's default (free unknown, hwloc's node and
 * class) and never fails a load.
 *
 * Decisions, each the least surprising answer for a VM placer:
 *  - Disallowed resources (cgroup cpusets) are included: numaplace plans
 *    for the host, not for the process that happens to read it.
 *  - A CPU's node is the NUMA node attached nearest above its PU.  When
 *    several share that place (hwloc attaches CPU-less memory such as GPU
 *    memory next to the DRAM node, with the same cpuset), one without a
 *    subtype wins: Linux gives such nodes no CPUs.  A PU with no node above
 *    it (its node is offline) gets node -1.
 *  - Offline CPUs: hwloc's complete cpuset minus its topology cpuset are the
 *    CPUs that exist but have no PU (Linux: present but not online, e.g.
 *    CPU 0 of offline-cpu0-node0).  They are listed online=false with node,
 *    core and socket -1: hwloc does not say where they are, and Linux drops
 *    offline CPUs from its node cpulists too.  "Possible" CPUs that are not
 *    present (32-111 of 32intel64-2p8co2t+8ve) are in neither set: not listed.
 *  - Core and socket ids are the kernel's; where it has none (POWER7
 *    packages), hwloc's logical index of the object stands in.
 *  - Huge pages: hwloc's page types except the smallest, which hwloc's
 *    Linux backend always fills with the base page (hwloc sorts them by
 *    size).  hwloc-xml has no free counts: free memory and pages unknown.
 *  - Distances: the "NUMALatency" matrix when it covers every node (a v1
 *    export's has no name).  hwloc keeps none for a one-node host and
 *    drops rows it finds inconsistent, so on a Linux root the kernel's own rows (nodeN/distance) are read
 *    then: one value per node, in increasing id order, or one per node of
 *    node/possible when a row is that long (a node went offline after
 *    boot, as in offline-cpu0-node0).  Rows that do not make a matrix
 *    give none, and the builder's note says why; so does a missing file.
 *  - Devices: every object hwloc types as a PCI device; bridges are not.
 *    An export may list one bus id in two PCI hierarchies (a domain hwloc
 *    did not keep): the host keeps both, the second as "ADDR#2".
 *
 * Devices get the kernel's numa_node on a Linux root (-1: none), else
 * the one node of their non-I/O ancestor's nodeset, else -1.
 *
 * Untrusted input: libhwloc trusts an XML document to have the shape it
 * writes, and crashes or spins on others, so hwloc-xml-check.c parses the
 * document with libxml2 (silently: a broken one gets one line saying where,
 * "line 12: ..."), holds it to that shape and writes it again; hwloc
 * imports only that rewrite.  hwloc 2.9.0's Linux backend aborts or
 * spins on some node lists (check_nodes), so those are refused before it
 * runs, and its "received invalid information" banners are silenced with
 * HWLOC_HIDE_ERRORS=2 unless the user set that variable (best effort:
 * hwloc reads it once per process).  A hostile root with FIFOs in it can
 * still block hwloc's own reads; ours open without blocking.
 *
 * Threads: hwloc 2.x can point its Linux backend at another root only
 * through the HWLOC_FSROOT environment variable (hwloc_topology_set_fsroot
 * went away in 2.0), and like `lstopo -i DIR` the sysfs source also sets
 * HWLOC_COMPONENTS=linux,stop so that x86 CPUID does not describe this
 * machine's processors instead.  These are set around the load and
 * restored after, which makes the sysfs source NOT thread-safe against any
 * other code that reads or changes the environment meanwhile.  A mutex
 * serialises the loads of this file's three sources against each other.
 *
 * Ownership: every hwloc topology, libxml2 document and buffer lives
 * within one call; nothing outlives it but the builder's facts.
 */
#include "topo-int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hwloc.h>
#include <libxml/parser.h>

#include "topology/hwloc-xml-check.h"
#include "util/util.h"

/* Highest CPU id taken from an hwloc bitmap: a crafted XML may set many. */
#define HW_CPU_MAX (1 << 20)
/* Highest node id and most nodes a saved root may list (Linux: 1024). */
#define HW_NODE_MAX 65535
#define HW_NODES    NP_NODES_MAX

/* Serialises hwloc loads here because the sysfs one edits the environment. */
static pthread_mutex_t hw_lock = PTHREAD_MUTEX_INITIALIZER;

/* How to set up the hwloc topology of one load. */
struct hw_src {
	const char *fsroot; /* sysfs: the saved root; else NULL */
	const char *xml;    /* hwloc-xml: the document; else NULL */
	size_t xml_len;
	int code;	  /* error code when hwloc refuses */
	const char *what; /* the message then */
	bool with_errno;  /* add hwloc's errno to it */
};

/* An hwloc index as an int, or -1 when hwloc does not know it. */
static int os_id(unsigned idx)
{
	return idx == HWLOC_UNKNOWN_INDEX || idx > INT_MAX ? -1 : (int)idx;
}

/* strerror, thread-safe and in lower case as numaplace messages are. */
static const char *errtext(int e, char *buf, size_t size)
{
	char tmp[128];

	snprintf(buf, size, "%s", strerror_r(e, tmp, sizeof(tmp)));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* The builder's first error code (np__tb_fail keeps the first error). */
static int tb_code(np__tb *b)
{
	return np__tb_failed(b) ? np__tb_fail(b, NP_EINPUT, "%s", "") : 0;
}

/* OUT = ROOT "/sys/" FMT...; false when it does not fit. */
static bool sys_path(char *out, size_t size, const char *root, const char *fmt, ...)
    NP__PRINTF(4, 5);

static bool sys_path(char *out, size_t size, const char *root, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(out, size, "%s/sys/", root);
	int m;

	if (n < 0 || (size_t)n >= size)
		return false;
	va_start(ap, fmt);
	m = vsnprintf(out + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	return m >= 0 && (size_t)m < size - (size_t)n;
}

/*
 * Read a small regular file into BUF, NUL-terminated; false when it is
 * unreadable, not a regular file, empty or does not fit.  Through the
 * library's one reader, which never blocks on a FIFO.  Some saved files
 * end in a NUL; like the kernel's readers, the text stops there.
 */
static bool read_text(const char *path, char *buf, size_t size)
{
	char *data = NULL;
	size_t n = 0;
	bool ok = np__read_file(path, size - 1, &data, &n, NULL) == 0 && n > 0;

	if (ok)
		memcpy(buf, data, n + 1);
	free(data);
	return ok;
}

/* ---- the environment, for the sysfs source ---- */

struct env_save {
	const char *name;
	char *old;
	bool had, set;
};

static int env_set(struct env_save *e, const char *value)
{
	const char *cur = getenv(e->name);

	e->had = cur != NULL;
	if (cur && !(e->old = strdup(cur)))
		return -1;
	if (setenv(e->name, value, 1) < 0) {
		free(e->old);
		e->old = NULL;
		return -1;
	}
	e->set = true;
	return 0;
}

/* Set E's variable to VALUE unless the user set it. */
static int env_default(struct env_save *e, const char *value)
{
	return getenv(e->name) ? 0 : env_set(e, value);
}

static void env_restore(struct env_save *e)
{
	if (!e->set)
		return;
	if (e->had)
		setenv(e->name, e->old, 1);
	else
		unsetenv(e->name);
	free(e->old);
	e->old = NULL;
	e->set = false;
}

/* ---- facts ---- */

/* MemFree of node OS from ROOT's nodeN/meminfo, when it makes sense. */
static void feed_node_free(np__tb *b, const char *root, int os, uint64_t total_kb)
{
	char path[PATH_MAX], text[8192], num[32];
	const char *p, *end;
	uint64_t kb;

	if (!sys_path(path, sizeof(path), root, "devices/system/node/node%d/meminfo", os) ||
	    !read_text(path, text, sizeof(text)) || !(p = strstr(text, "MemFree:")))
		return;
	p += strlen("MemFree:");
	end = strstr(p, "kB");
	if (!end || (size_t)(end - p) >= sizeof(num) || memchr(p, '\n', (size_t)(end - p)))
		return;
	memcpy(num, p, (size_t)(end - p));
	num[end - p] = '\0';
	if (np__parse_u64(num, &kb) && kb <= total_kb)
		np__tb_node_free(b, os, kb);
}

/* Free pages of one pool from ROOT, or unknown when no file says. */
static uint64_t pool_free(const char *root, int os, uint64_t size_kb, uint64_t total)
{
	char path[PATH_MAX], text[64];
	uint64_t n;

	if (root &&
	    sys_path(path, sizeof(path), root,
		     "devices/system/node/node%d/hugepages/hugepages-%llukB/free_hugepages", os,
		     (unsigned long long)size_kb) &&
	    read_text(path, text, sizeof(text)) && np__parse_u64(text, &n) && n <= total)
		return n;
	return NP__TB_FREE_UNKNOWN;
}

static void feed_pools(np__tb *b, hwloc_obj_t node, int os, const char *root)
{
	const struct hwloc_numanode_attr_s *m = &node->attr->numanode;

	/* Entry 0 is the base page (see the top of the file). */
	for (unsigned i = 1; i < m->page_types_len; i++) {
		uint64_t size_kb = m->page_types[i].size / 1024;
		uint64_t total = m->page_types[i].count;

		if (size_kb > 0)
			np__tb_hugepages(b, os, size_kb, total,
					 pool_free(root, os, size_kb, total));
	}
}

static void feed_nodes(np__tb *b, hwloc_topology_t t, const char *root)
{
	hwloc_obj_t node = NULL;

	while ((node = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, node))) {
		int os = os_id(node->os_index);
		uint64_t kb = node->attr->numanode.local_memory / 1024;

		if (os < 0) {
			np__tb_fail(b, NP_EINPUT, "NUMA node L#%u has no kernel id",
				    node->logical_index);
			return;
		}
		np__tb_node(b, os, kb);
		if (root)
			feed_node_free(b, root, os, kb);
		feed_pools(b, node, os, root);
	}
}

/* Of two NUMA nodes attached at one place, the one Linux gives CPUs to. */
static hwloc_obj_t better_node(hwloc_obj_t a, hwloc_obj_t b)
{
	if (!a || !b)
		return a ? a : b;
	return a->subtype && !b->subtype ? b : a;
}

/* The best NUMA node among OBJ's memory children, through memory caches. */
static hwloc_obj_t attached_node(hwloc_obj_t obj)
{
	hwloc_obj_t best = NULL;

	for (hwloc_obj_t m = obj->memory_first_child; m; m = m->next_sibling)
		best = better_node(best, m->type == HWLOC_OBJ_NUMANODE ? m : attached_node(m));
	return best;
}

static int pu_node(hwloc_obj_t pu)
{
	for (hwloc_obj_t a = pu->parent; a; a = a->parent) {
		hwloc_obj_t n = attached_node(a);

		if (n)
			return os_id(n->os_index);
	}
	return -1;
}

/*
 * The kernel id of PU's enclosing Core or Package.  When the kernel gives
 * none (POWER7's packages have no physical_package_id), hwloc's logical
 * index stands in: it is unique, and without it no two threads would be
 * siblings and thread policies could not be honoured.
 */
static int ancestor_id(hwloc_topology_t t, hwloc_obj_type_t type, hwloc_obj_t pu)
{
	hwloc_obj_t a = hwloc_get_ancestor_obj_by_type(t, type, pu);

	if (!a)
		return -1;
	if (a->os_index == HWLOC_UNKNOWN_INDEX)
		return a->logical_index <= NP__TOPO_ID_MAX ? (int)a->logical_index : -1;
	return os_id(a->os_index);
}

/* CPUs that exist but have no PU object: offline (see the top). */
static void feed_offline(np__tb *b, hwloc_topology_t t)
{
	hwloc_const_cpuset_t all = hwloc_topology_get_complete_cpuset(t);
	hwloc_const_cpuset_t on = hwloc_topology_get_topology_cpuset(t);
	hwloc_bitmap_t off = hwloc_bitmap_alloc();
	int id, last;

	if (!off || !all || !on || hwloc_bitmap_andnot(off, all, on) < 0) {
		np__tb_fail(b, NP_ENOMEM, "out of memory");
		goto out;
	}
	last = hwloc_bitmap_last(off);
	if (last > HW_CPU_MAX || (last < 0 && !hwloc_bitmap_iszero(off))) {
		np__tb_fail(b, NP_EINPUT, "the complete cpuset goes beyond CPU %d", HW_CPU_MAX);
		goto out;
	}
	for (id = hwloc_bitmap_first(off); id >= 0; id = hwloc_bitmap_next(off, id))
		np__tb_cpu(b, id, -1, -1, -1, false);
out:
	hwloc_bitmap_free(off);
}

static void feed_cpus(np__tb *b, hwloc_topology_t t)
{
	hwloc_obj_t pu = NULL;

	while ((pu = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_PU, pu))) {
		int os = os_id(pu->os_index);

		if (os < 0 || os > HW_CPU_MAX) {
			np__tb_fail(b, NP_EINPUT, "PU L#%u has no usable kernel id",
				    pu->logical_index);
			return;
		}
		np__tb_cpu(b, os, pu_node(pu), ancestor_id(t, HWLOC_OBJ_CORE, pu),
			   ancestor_id(t, HWLOC_OBJ_PACKAGE, pu), true);
	}
	feed_offline(b, t);
}

/* True when D is a NUMA matrix over every node of T. */
static bool covers_all_nodes(hwloc_topology_t t, const struct hwloc_distances_s *d)
{
	int nnodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);

	if (nnodes <= 0 || d->nbobjs != (unsigned)nnodes)
		return false;
	for (unsigned i = 0; i < d->nbobjs; i++)
		if (d->objs[i]->type != HWLOC_OBJ_NUMANODE)
			return false;
	return true;
}

/* hwloc's matrix; false when it has none over every node. */
static bool feed_distances(np__tb *b, hwloc_topology_t t)
{
	struct hwloc_distances_s *d = NULL;
	unsigned nr = 1;
	size_t n;

	/* hwloc names the matrices it finds; one read from a v1 export has no name. */
	if (hwloc_distances_get_by_name(t, "NUMALatency", &nr, &d, 0) < 0 || nr == 0 || !d) {
		nr = 1;
		d = NULL;
		if (hwloc_distances_get_by_type(t, HWLOC_OBJ_NUMANODE, &nr, &d,
						HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) < 0 ||
		    nr == 0 || !d)
			return false;
	}
	/* A matrix over some nodes only: as if there were none. */
	n = covers_all_nodes(t, d) ? d->nbobjs : 0;
	for (size_t i = 0; i < n * n; i++) {
		int from = os_id(d->objs[i / n]->os_index), to = os_id(d->objs[i % n]->os_index);

		if (d->values[i] >= NP_DISTANCE_UNREACHABLE) {
			np__tb_fail(b, NP_EINPUT,
				    "distance %llu from node %d to node %d is too large",
				    (unsigned long long)d->values[i], from, to);
			break;
		}
		np__tb_distance(b, from, to, (uint32_t)d->values[i]);
	}
	hwloc_distances_release(t, d);
	return n > 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* A row of the kernel's: up to 4096 values of 3 digits and a blank. */
#define ROW_TEXT 16384

/* Parse a distance row "10 21 31\n" into ROW; its length, or -1 if not numbers 1-254. */
static int parse_row(const char *text, uint32_t *row, int max)
{
	const char *p = text;
	int n = 0;

	for (;;) {
		char *end;
		unsigned long v;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return n;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (end == p || errno || v < 1 || v > 254 || n == max ||
		    (*end && !isspace((unsigned char)*end)))
			return -1;
		row[n++] = (uint32_t)v;
		p = end;
	}
}

/* The node ids of ROOT's node/possible; how many (0 when unreadable), ids in IDS. */
static int possible_nodes(const char *root, int **ids)
{
	char path[PATH_MAX], text[8192];
	int n = 0;

	*ids = NULL;
	if (!sys_path(path, sizeof(path), root, "devices/system/node/possible") ||
	    !read_text(path, text, sizeof(text)) ||
	    np__parse_cpulist(text, HW_NODE_MAX, ids, &n) != 0)
		return 0;
	return n;
}

/*
 * The kernel's rows, when hwloc gave no matrix (see the top): NODES (N
 * kernel ids, increasing) in the columns of COLS (NCOLS ids).  Fed only
 * when every row is whole and no node is nearer another than itself;
 * else the builder's note says which row is not.
 */
static void feed_rows(np__tb *b, const int *nodes, int n, uint32_t *rows, int len,
		      const int *cols, int ncols)
{
	int *at = np__calloc((size_t)n + 1, sizeof(int));

	if (!at) {
		np__tb_fail(b, NP_ENOMEM, "out of memory");
		return;
	}
	for (int j = 0; j < n; j++) {
		const int *c = bsearch(&nodes[j], cols, (size_t)ncols, sizeof(int), cmp_int);

		at[j] = c ? (int)(c - cols) : -1;
		if (!c) {
			np__tb_distances_note(b, "node %d is not in sysfs node/possible", nodes[j]);
			goto out;
		}
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (rows[(size_t)i * len + at[j]] < rows[(size_t)i * len + at[i]]) {
				np__tb_distances_note(b, "sysfs node%d/distance puts node %d nearer "
						      "than the node itself", nodes[i], nodes[j]);
				goto out;
			}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			np__tb_distance(b, nodes[i], nodes[j], rows[(size_t)i * len + at[j]]);
out:
	free(at);
}

/* Read the kernel's rows of NODES (N ids, increasing) under ROOT; see feed_rows. */
static void feed_sysfs_distances(np__tb *b, const char *root, const int *nodes, int n)
{
	uint32_t *row = np__calloc(HW_NODES, sizeof(uint32_t)), *rows = NULL;
	int *cols = NULL, ncols, len = 0;
	char path[PATH_MAX], *text = malloc(ROW_TEXT);

	if (!row || !text)
		goto nomem;
	for (int i = 0; i < n; i++) {
		int k;

		if (!sys_path(path, sizeof(path), root, "devices/system/node/node%d/distance",
			      nodes[i]) ||
		    !read_text(path, text, ROW_TEXT)) {
			np__tb_distances_note(b, i ? "sysfs has no node%d/distance"
						   : "sysfs has no node distance files",
					      nodes[i]);
			goto out;
		}
		k = parse_row(text, row, HW_NODES);
		if (k <= 0 || (i > 0 && k != len)) {
			np__tb_distances_note(b, "sysfs node%d/distance is not a row of distances "
						 "1-254 as long as the others", nodes[i]);
			goto out;
		}
		if (i == 0 && !(rows = np__calloc((size_t)n * (size_t)k, sizeof(uint32_t))))
			goto nomem;
		len = k;
		memcpy(rows + (size_t)i * (size_t)len, row, (size_t)len * sizeof(uint32_t));
	}
	if (len == n)
		feed_rows(b, nodes, n, rows, len, nodes, n);
	else if ((ncols = possible_nodes(root, &cols)) == len)
		feed_rows(b, nodes, n, rows, len, cols, ncols);
	else
		np__tb_distances_note(b, "sysfs node%d/distance has %d values for %d node%s",
				      nodes[0], len, n, n == 1 ? "" : "s");
	goto out;
nomem:
	np__tb_fail(b, NP_ENOMEM, "out of memory");
out:
	free(cols);
	free(rows);
	free(row);
	free(text);
}

/*
 * No usable hwloc matrix: on a Linux ROOT, the kernel's rows; else say
 * why there are none.
 */
static void feed_missing_distances(np__tb *b, hwloc_topology_t t, const char *root)
{
	int n = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE), k = 0;
	int *nodes;
	hwloc_obj_t node = NULL;

	if (!root) {
		np__tb_distances_note(b, "the hwloc XML has no NUMA distance matrix over "
					 "every node");
		return;
	}
	if (n <= 0 || n > HW_NODES || !(nodes = np__calloc((size_t)n, sizeof(int))))
		return;
	while ((node = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, node)) && k < n)
		nodes[k++] = os_id(node->os_index);
	qsort(nodes, (size_t)k, sizeof(int), cmp_int);
	feed_sysfs_distances(b, root, nodes, k);
	free(nodes);
}

/* The 24-bit class from ROOT when it agrees with hwloc's 16 bits. */
static unsigned dev_class(const char *root, const char *addr, unsigned class_id)
{
	char path[PATH_MAX], text[64], *end;
	unsigned long v;

	if (!root || !sys_path(path, sizeof(path), root, "bus/pci/devices/%s/class", addr) ||
	    !read_text(path, text, sizeof(text)) || !isxdigit((unsigned char)text[0]))
		return class_id << 8;
	errno = 0;
	v = strtoul(text, &end, 16);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || *end || v > 0xffffff || (v >> 8) != class_id)
		return class_id << 8;
	return (unsigned)v;
}

/* The kernel's numa_node of a device, else the one node of its locality. */
static int dev_node(hwloc_topology_t t, hwloc_obj_t dev, const char *root, const char *addr)
{
	char path[PATH_MAX], text[64];
	hwloc_obj_t anc;
	long v;

	if (root && sys_path(path, sizeof(path), root, "bus/pci/devices/%s/numa_node", addr) &&
	    read_text(path, text, sizeof(text)) && np__parse_int(text, -1, INT_MAX, &v) &&
	    (v == -1 || hwloc_get_numanode_obj_by_os_index(t, (unsigned)v)))
		return (int)v;
	anc = hwloc_get_non_io_ancestor_obj(t, dev);
	if (anc && anc->nodeset && hwloc_bitmap_weight(anc->nodeset) == 1)
		return hwloc_bitmap_first(anc->nodeset);
	return -1;
}

/* One PCI device as hwloc lists it, and its place in that list. */
struct hw_dev {
	char addr[16];
	size_t order;
	unsigned nth; /* 1 for the first device at this address, 2 for the next... */
	hwloc_obj_t obj;
};

static int cmp_dev(const void *a, const void *b)
{
	const struct hw_dev *x = a, *y = b;
	int c = strcmp(x->addr, y->addr);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int cmp_order(const void *a, const void *b)
{
	const struct hw_dev *x = a, *y = b;

	return (x->order > y->order) - (x->order < y->order);
}

/*
 * An export may list one bus id in two PCI hierarchies (a domain hwloc did
 * not keep): both devices are kept, the second and later as "ADDR#2",
 * "ADDR#3" in hwloc's order, so a host is never refused for a device.
 */
static void feed_devices(np__tb *b, hwloc_topology_t t, const char *root)
{
	struct hw_dev *devs = NULL;
	size_t n = 0, cap = 0, i;
	hwloc_obj_t dev = NULL;

	while ((dev = hwloc_get_next_pcidev(t, dev))) {
		const struct hwloc_pcidev_attr_s *p = &dev->attr->pcidev;
		unsigned long domain = p->domain;

		/* Builds with 32-bit domains: such a device has no dddd: address. */
		if (domain > 0xffff)
			continue;
		if (np__grow((void **)&devs, &cap, n + 1, sizeof(*devs)) < 0) {
			np__tb_fail(b, NP_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(devs[n].addr, sizeof(devs[n].addr), "%04lx:%02x:%02x.%x", domain, p->bus,
			 p->dev, p->func);
		devs[n].order = n;
		devs[n].obj = dev;
		n++;
	}
	if (n)
		qsort(devs, n, sizeof(*devs), cmp_dev);
	for (i = 0; i < n; i++)
		devs[i].nth = i > 0 && strcmp(devs[i].addr, devs[i - 1].addr) == 0
				      ? devs[i - 1].nth + 1 : 1;
	if (n)
		qsort(devs, n, sizeof(*devs), cmp_order);
	for (i = 0; i < n; i++) {
		const struct hwloc_pcidev_attr_s *p = &devs[i].obj->attr->pcidev;
		char addr[24];

		if (devs[i].nth > 99) {
			np__tb_fail(b, NP_EINPUT, "more than 99 PCI devices at %s", devs[i].addr);
			break;
		}
		snprintf(addr, sizeof(addr), devs[i].nth > 1 ? "%s#%u" : "%s", devs[i].addr,
			 devs[i].nth);
		np__tb_device(b, addr, p->vendor_id, p->device_id,
			      dev_class(root, devs[i].addr, p->class_id),
			      dev_node(t, devs[i].obj, root, devs[i].addr));
	}
out:
	free(devs);
}

/*
 * Feed B from the loaded T and destroy T.  ROOT is the Linux root to read
 * free memory and device details from, or NULL.  Returns the sticky code.
 */
static int feed(np__tb *b, hwloc_topology_t t, const char *root)
{
	feed_nodes(b, t, root);
	feed_cpus(b, t);
	if (!feed_distances(b, t))
		feed_missing_distances(b, t, root);
	feed_devices(b, t, root);
	hwloc_topology_destroy(t);
	return tb_code(b);
}

/* ---- loading ---- */

/* The same set-up for every source: all online resources, PCI devices. */
static int hw_config(hwloc_topology_t t, const struct hw_src *s)
{
	if (hwloc_topology_set_flags(t, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED) < 0 ||
	    hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_ALL) < 0 ||
	    hwloc_topology_set_type_filter(t, HWLOC_OBJ_OS_DEVICE, HWLOC_TYPE_FILTER_KEEP_NONE) < 0)
		return -1;
	if (s->xml && hwloc_topology_set_xmlbuffer(t, s->xml, (int)s->xml_len) < 0)
		return -1;
	return hwloc_topology_load(t);
}

/* Load *OUT as S says, under hw_lock and, for sysfs, the edited environment. */
static int hw_load(np__tb *b, const struct hw_src *s, hwloc_topology_t *out)
{
	struct env_save fs = {.name = "HWLOC_FSROOT"}, comp = {.name = "HWLOC_COMPONENTS"};
	struct env_save hide = {.name = "HWLOC_HIDE_ERRORS"};
	hwloc_topology_t t = NULL;
	char ebuf[128];
	int rc = 0;

	pthread_mutex_lock(&hw_lock);
	if ((s->fsroot && (env_set(&fs, s->fsroot) < 0 || env_set(&comp, "linux,stop") < 0)) ||
	    env_default(&hide, "2") < 0) {
		rc = np__tb_fail(b, NP_ENOMEM, "out of memory");
		goto out;
	}
	if (hwloc_topology_init(&t) < 0) {
		t = NULL;
		rc = np__tb_fail(b, NP_ENOMEM, "out of memory");
		goto out;
	}
	errno = 0;
	if (hw_config(t, s) < 0) {
		if (s->with_errno && errno && errno != EINVAL)
			rc = np__tb_fail(b, s->code, "%s: %s", s->what,
					 errtext(errno, ebuf, sizeof(ebuf)));
		else
			rc = np__tb_fail(b, s->code, "%s: %s", s->what,
					 "its content is inconsistent");
	}
out:
	env_restore(&hide);
	env_restore(&comp);
	env_restore(&fs);
	pthread_mutex_unlock(&hw_lock);
	if (rc == 0)
		*out = t;
	else if (t)
		hwloc_topology_destroy(t);
	return rc;
}

static int local_load(np__tb *b, const char *arg)
{
	const struct hw_src s = {
	    .code = NP_EOS, .what = "hwloc cannot read this machine", .with_errno = true};
	hwloc_topology_t t;

	(void)arg;
	if (hw_load(b, &s, &t))
		return tb_code(b);
	/* HWLOC_XMLFILE and friends may have made "this machine" another one. */
	return feed(b, t, hwloc_topology_is_thissystem(t) ? "" : NULL);
}

/* DIR must be a readable directory holding sys/devices/system/cpu. */
static int check_root(np__tb *b, const char *dir)
{
	char path[PATH_MAX], ebuf[128];
	struct stat st;

	if (stat(dir, &st) < 0)
		return np__tb_fail(b, NP_EIO, "%s", errtext(errno, ebuf, sizeof(ebuf)));
	if (!S_ISDIR(st.st_mode))
		return np__tb_fail(b, NP_EIO, "not a directory (%s)", np__file_kind(st.st_mode));
	if (access(dir, R_OK | X_OK) < 0)
		return np__tb_fail(b, NP_EIO, "%s", errtext(errno, ebuf, sizeof(ebuf)));
	/* Without it hwloc would count this machine's processors instead. */
	if (!sys_path(path, sizeof(path), dir, "devices/system/cpu") || stat(path, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return np__tb_fail(b, NP_EINPUT,
				   "not a saved Linux sysfs root: no sys/devices/system/cpu in it");
	return 0;
}

/* True when ROOT's node directory names at least one node, all sane. */
static bool node_dirs_ok(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	int count = 0;
	bool ok = true;
	DIR *d;

	/* No node directory at all is fine: hwloc then makes one node. */
	if (!sys_path(path, sizeof(path), dir, "devices/system/node") || !(d = opendir(path)))
		return true;
	while (ok && (de = readdir(d))) {
		long id;

		if (strncmp(de->d_name, "node", 4) == 0)
			ok = np__parse_int(de->d_name + 4, 0, HW_NODE_MAX, &id) &&
			     ++count <= HW_NODES;
	}
	closedir(d);
	return ok && count > 0;
}

/*
 * hwloc 2.9.0 aborts (list_sysfsnode: assertion `_nbnodes >= 1') or loops
 * for ages on some node lists of a saved root, such as "-1" or
 * "0-99999999" in node/online: refuse those before hwloc reads them.
 */
static int check_nodes(np__tb *b, const char *dir)
{
	char path[PATH_MAX], text[8192];
	int *ids = NULL, n = 0, rc = 0;
	struct stat st;

	if (!sys_path(path, sizeof(path), dir, "devices/system/node/online") ||
	    stat(path, &st) < 0) {
		if (!node_dirs_ok(dir))
			rc = np__tb_fail(b, NP_EINPUT,
					 "sys/devices/system/node: no usable nodeN entry");
		return rc;
	}
	if (!read_text(path, text, sizeof(text)) ||
	    np__parse_cpulist(text, HW_NODE_MAX, &ids, &n) != 0 || n == 0 || n > HW_NODES)
		rc = np__tb_fail(b, NP_EINPUT,
				 "sys/devices/system/node/online: not a list of node ids 0-%d",
				 HW_NODE_MAX);
	free(ids);
	return rc;
}

static int sysfs_load(np__tb *b, const char *dir)
{
	const struct hw_src s = {
	    .fsroot = dir, .code = NP_EINPUT, .what = "hwloc cannot load it", .with_errno = true};
	hwloc_topology_t t;

	if (check_root(b, dir) || check_nodes(b, dir) || hw_load(b, &s, &t))
		return tb_code(b);
	return feed(b, t, dir);
}

/*
 * hwloc reads only the document hwloc-xml-check.c wrote from BUF after
 * checking it: the shape libhwloc assumes, in the form it writes itself.
 */
static int xml_parse(np__tb *b, const char *buf, size_t len)
{
	struct hw_src s = { .code = NP_EINPUT, .what = "hwloc cannot import it" };
	char *doc = NULL;
	size_t i = 0, n = 0;
	hwloc_topology_t t;
	int rc;

	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i == len)
		return np__tb_fail(b, NP_EINPUT, "empty document");
	if (len > INT_MAX - 1)
		return np__tb_fail(b, NP_EINPUT, "document larger than %d bytes", INT_MAX - 1);
	/* Its first call is not thread-safe; the others do nothing. */
	pthread_mutex_lock(&hw_lock);
	xmlInitParser();
	pthread_mutex_unlock(&hw_lock);
	if (np__hwloc_xml_rewrite(b, buf, len, hwloc_get_api_version() >> 16, &doc, &n))
		return tb_code(b);
	s.xml = doc;
	s.xml_len = n;
	rc = hw_load(b, &s, &t);
	free(doc);
	return rc ? tb_code(b) : feed(b, t, NULL);
}

const struct np__source np__source_hwloc_local = {NP_SOURCE_LOCAL, local_load, NULL};
const struct np__source np__source_sysfs = {NP_SOURCE_SYSFS, sysfs_load, NULL};
const struct np__source np__source_hwloc_xml = {NP_SOURCE_HWLOC_XML, NULL, xml_parse};
