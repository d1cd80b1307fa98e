/*
 * test-src-hwloc.c - the hwloc-backed sources: sysfs against hwloc
 * 2.9.0's own expected lstopo output for every Linux sysfs fixture,
 * hwloc-xml against sysfs through lstopo's XML export, local against
 * itself, and all three on broken input.
 *
 * The expectation is read here from lstopo's `-v` text, independently of
 * the source: NUMANode lines give ids and memory; a PU belongs to the node
 * attached nearest above it in the indented tree (a node with a subtype,
 * such as GPUMemory, only when no plain node is attached there); Core and
 * Package lines above a PU give its core and socket; the "Relative latency
 * matrix" table gives distances by logical index, mapped to kernel ids
 * through the NUMANode lines; PCI lines give devices.  Free memory and
 * huge pages, which lstopo does not print, are read from the fixture's
 * files directly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"
#include "topology/topo-int.h"

#define MAXN   64
#define MAXPU  512
#define MAXPCI 64

struct exp_pu {
	int os, node, core, socket;
};
struct exp_pci {
	char addr[16];
	unsigned vendor, device, cls16;
};

/* What lstopo says about one fixture; nodes by logical index. */
struct expect {
	int nn, node_os[MAXN];
	unsigned long long mem_kb[MAXN];
	int npu;
	struct exp_pu pu[MAXPU];
	int npci;
	struct exp_pci pci[MAXPCI];
	int dn, dlog[MAXN]; /* matrix order, logical indexes */
	unsigned dist[MAXN][MAXN];
	int noff, off[MAXPU]; /* "processors not represented" */
};

/* One open object of the tree while reading it. */
struct frame {
	int indent, numa, core, socket;
	bool numa_plain, memory;
};

static struct expect ex;

static void attach_node(struct frame *st, int depth, int os, bool plain)
{
	for (int i = depth - 1; i >= 0; i--) {
		if (st[i].memory)
			continue;
		if (st[i].numa < 0 || (!st[i].numa_plain && plain)) {
			st[i].numa = os;
			st[i].numa_plain = plain;
		}
		return;
	}
}

static void add_pu(const struct frame *st, int depth, int os)
{
	struct exp_pu *p = &ex.pu[ex.npu++];

	*p = (struct exp_pu){os, -1, -1, -1};
	for (int i = depth - 1; i >= 0; i--) {
		if (p->node < 0)
			p->node = st[i].numa;
		if (p->core < 0)
			p->core = st[i].core;
		if (p->socket < 0)
			p->socket = st[i].socket;
	}
}

static void add_pci(const char *p)
{
	struct exp_pci *d = &ex.pci[ex.npci];
	int l;

	if (ex.npci < MAXPCI && sscanf(p, "PCI L#%d (busid=%12[0-9a-f:.] id=%x:%x class=%x", &l,
				       d->addr, &d->vendor, &d->device, &d->cls16) == 5)
		ex.npci++;
}

static void tree_line(struct frame *st, int *depth, const char *line)
{
	int indent = (int)strspn(line, " "), l, os;
	const char *p = line + indent;
	struct frame f = {indent, -1, -1, -1, false, false};
	unsigned long long kb;

	while (*depth > 0 && st[*depth - 1].indent >= indent)
		(*depth)--;
	if (strncmp(p, "NUMANode", 8) == 0) {
		f.memory = true;
		if (strstr(p, "L#") &&
		    sscanf(strstr(p, "L#"), "L#%d (P#%d local=%lluKB", &l, &os, &kb) == 3 &&
		    l >= 0 && l < MAXN) {
			ex.node_os[l] = os;
			ex.mem_kb[l] = kb;
			ex.nn = l + 1 > ex.nn ? l + 1 : ex.nn;
			attach_node(st, *depth, os, p[8] == ' ');
		}
	} else if (strncmp(p, "MemCache", 8) == 0) {
		f.memory = true;
	} else if (strncmp(p, "Core ", 5) == 0) {
		/* No P# (kernel id unknown): numaplace uses hwloc's logical index. */
		if (sscanf(p, "Core L#%d (P#%d", &l, &f.core) == 1)
			f.core = l;
	} else if (strncmp(p, "Package ", 8) == 0) {
		if (sscanf(p, "Package L#%d (P#%d", &l, &f.socket) == 1)
			f.socket = l;
	} else if (strncmp(p, "PU ", 3) == 0 && ex.npu < MAXPU &&
		   sscanf(p, "PU L#%d (P#%d", &l, &os) == 2) {
		add_pu(st, *depth, os);
	} else if (strncmp(p, "PCI ", 4) == 0) {
		add_pci(p);
	}
	if (*depth < 64)
		st[(*depth)++] = f;
}

/* "0x00e0000f" or "0x000000ff,0xff000000,,0x0000ffff" (32-bit words) into ex.off. */
static void parse_bitmap(const char *s)
{
	unsigned long words[64];
	char *end;
	int n = 0;

	while (n < 64) {
		if (strncmp(s, "0x", 2) == 0)
			s += 2;
		words[n++] = strtoul(s, &end, 16);
		if (*end != ',')
			break;
		s = end + 1;
	}
	for (int w = 0; w < n; w++)
		for (int bit = 0; bit < 32; bit++)
			if ((words[n - 1 - w] >> bit & 1) && ex.noff < MAXPU)
				ex.off[ex.noff++] = w * 32 + bit;
}

/* The distance table: header of logical indexes, then one row each. */
static void matrix(FILE *f, int n)
{
	char *line = NULL;
	size_t cap = 0;
	int k = 0, used, row;

	if (n > MAXN || getline(&line, &cap, f) < 0 || strncmp(line, " index", 6) != 0)
		goto out;
	for (const char *p = line + 6; k < n && sscanf(p, "%d%n", &ex.dlog[k], &used) == 1; k++)
		p += used;
	for (int i = 0; k == n && i < n && getline(&line, &cap, f) >= 0; i++) {
		const char *p = line;

		if (sscanf(p, "%d%n", &row, &used) != 1 || row != ex.dlog[i])
			goto out;
		p += used;
		for (int j = 0; j < n && sscanf(p, "%u%n", &ex.dist[i][j], &used) == 1; j++)
			p += used;
	}
	ex.dn = n;
out:
	free(line);
}

static bool read_expect(const char *path)
{
	FILE *f = fopen(path, "r");
	struct frame st[64];
	char *line = NULL;
	size_t cap = 0;
	bool tree = true;
	int depth = 0, n;

	memset(&ex, 0, sizeof(ex));
	if (!f)
		return false;
	while (getline(&line, &cap, f) >= 0) {
		const char *m = strstr(line, "between ");

		if (strstr(line, "depth 0:"))
			tree = false;
		if (tree)
			tree_line(st, &depth, line);
		else if (strncmp(line, "Relative latency matrix", 23) == 0 && m &&
			 sscanf(m, "between %d NUMANodes", &n) == 1)
			matrix(f, n);
		else if (strstr(line, "processors not represented in topology: "))
			parse_bitmap(strstr(line, ": ") + 2);
	}
	free(line);
	fclose(f);
	return ex.nn > 0;
}

static int node_os(const np_topo *t, int idx)
{
	return idx < 0 ? -1 : np_topo_node(t, idx)->os_id;
}

static void compare_nodes(const char *name, const np_topo *t)
{
	CHECK(np_topo_node_count(t) == ex.nn, "%s: %d nodes, expected %d", name,
	      np_topo_node_count(t), ex.nn);
	for (int l = 0; l < ex.nn; l++) {
		int i = np_topo_node_index(t, ex.node_os[l]);

		CHECK(i >= 0, "%s: node %d missing", name, ex.node_os[l]);
		if (i >= 0)
			CHECK(np_topo_node(t, i)->mem_total_kb == ex.mem_kb[l],
			      "%s: node %d has %llu kB, expected %llu", name, ex.node_os[l],
			      (unsigned long long)np_topo_node(t, i)->mem_total_kb, ex.mem_kb[l]);
	}
}

/* Each node's online CPUs are exactly the PUs lstopo shows under it. */
static void compare_node_cpus(const char *name, const np_topo *t)
{
	for (int i = 0; i < np_topo_node_count(t); i++) {
		const struct np_node *n = np_topo_node(t, i);
		int online = 0, want = 0;

		for (int k = 0; k < n->ncpus; k++) {
			const struct np_cpu *c = np_topo_cpu(t, np_topo_cpu_index(t, n->cpus[k]));
			int p;

			if (!c->online)
				continue;
			online++;
			for (p = 0; p < ex.npu && ex.pu[p].os != c->os_id; p++)
				;
			CHECK(p < ex.npu && ex.pu[p].node == n->os_id, "%s: CPU %d not on node %d",
			      name, c->os_id, n->os_id);
		}
		for (int p = 0; p < ex.npu; p++)
			want += ex.pu[p].node == n->os_id;
		CHECK(online == want, "%s: node %d has %d CPUs, expected %d", name, n->os_id,
		      online, want);
	}
}

static void compare_cpus(const char *name, const np_topo *t)
{
	int online = 0, offline = 0;

	for (int i = 0; i < np_topo_cpu_count(t); i++)
		np_topo_cpu(t, i)->online ? online++ : offline++;
	CHECK(online == ex.npu, "%s: %d online CPUs, expected %d", name, online, ex.npu);
	CHECK(offline == ex.noff, "%s: %d offline CPUs, expected %d", name, offline, ex.noff);
	for (int p = 0; p < ex.npu; p++) {
		const struct np_cpu *c = np_topo_cpu(t, np_topo_cpu_index(t, ex.pu[p].os));

		CHECK(c && c->online && node_os(t, c->node_idx) == ex.pu[p].node &&
			  c->core == ex.pu[p].core && c->socket == ex.pu[p].socket,
		      "%s: CPU %d: node %d core %d socket %d, expected %d %d %d", name, ex.pu[p].os,
		      c ? node_os(t, c->node_idx) : -9, c ? c->core : -9, c ? c->socket : -9,
		      ex.pu[p].node, ex.pu[p].core, ex.pu[p].socket);
	}
	for (int k = 0; k < ex.noff; k++) {
		const struct np_cpu *c = np_topo_cpu(t, np_topo_cpu_index(t, ex.off[k]));

		CHECK(c && !c->online && c->node_idx == -1, "%s: CPU %d should be offline", name,
		      ex.off[k]);
	}
	compare_node_cpus(name, t);
}

static void compare_distances(const char *name, const np_topo *t)
{
	int bad = 0;

	/* hwloc keeps no matrix for one node; numaplace reads the kernel's row. */
	if (ex.dn == 0 && np_topo_node_count(t) == 1 && !np_topo_distances_defaulted(t)) {
		CHECK(np_topo_distance(t, 0, 0) == 10, "%s: the one node's own distance", name);
		return;
	}
	CHECK(np_topo_distances_defaulted(t) == (ex.dn == 0), "%s: distances given: %d", name,
	      !np_topo_distances_defaulted(t));
	for (int i = 0; i < ex.dn; i++)
		for (int j = 0; j < ex.dn; j++) {
			int from = np_topo_node_index(t, ex.node_os[ex.dlog[i]]);
			int to = np_topo_node_index(t, ex.node_os[ex.dlog[j]]);

			bad += np_topo_distance(t, from, to) != ex.dist[i][j];
		}
	CHECK(bad == 0, "%s: %d of %d distances differ", name, bad, ex.dn * ex.dn);
}

static void compare_devices(const char *name, const np_topo *t)
{
	CHECK(np_topo_device_count(t) == ex.npci, "%s: %d PCI devices, expected %d", name,
	      np_topo_device_count(t), ex.npci);
	for (int k = 0; k < ex.npci; k++) {
		const struct np_device *d = NULL;

		for (int i = 0; i < np_topo_device_count(t); i++)
			if (strcmp(np_topo_device(t, i)->address, ex.pci[k].addr) == 0)
				d = np_topo_device(t, i);
		CHECK(d && d->vendor == ex.pci[k].vendor && d->device == ex.pci[k].device &&
			  d->class_code >> 8 == ex.pci[k].cls16,
		      "%s: device %s differs or is missing", name, ex.pci[k].addr);
	}
}

/* ---- what lstopo does not print: straight from the fixture's files ---- */

static bool read_u64(const char *path, unsigned long long *v)
{
	FILE *f = fopen(path, "r");
	bool ok = f && fscanf(f, "%llu", v) == 1;

	if (f)
		fclose(f);
	return ok;
}

static void check_pools(const char *name, const np_topo *t, const char *root,
			const struct np_node *n)
{
	char dir[1024], path[1400];
	struct dirent *de;
	DIR *d;
	int seen = 0;

	snprintf(dir, sizeof(dir), "%s/sys/devices/system/node/node%d/hugepages", root, n->os_id);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		unsigned long long size, total = 0, free = 0;
		int k;

		if (sscanf(de->d_name, "hugepages-%llukB", &size) != 1)
			continue;
		seen++;
		snprintf(path, sizeof(path), "%s/%s/nr_hugepages", dir, de->d_name);
		read_u64(path, &total);
		snprintf(path, sizeof(path), "%s/%s/free_hugepages", dir, de->d_name);
		read_u64(path, &free);
		for (k = 0; k < n->npools && n->pools[k].size_kb != size; k++)
			;
		CHECK(k < n->npools && n->pools[k].total == total && n->pools[k].free == free,
		      "%s: node %d: %llu kB pages %llu/%llu", name, n->os_id, size, free, total);
	}
	closedir(d);
	CHECK(n->npools == seen, "%s: node %d: %d pools, %d in sysfs", name, n->os_id, n->npools,
	      seen);
}

static void check_sysfs_files(const char *name, const np_topo *t, const char *root)
{
	char path[1024], line[256];

	for (int i = 0; i < np_topo_node_count(t); i++) {
		const struct np_node *n = np_topo_node(t, i);
		unsigned long long kb = n->mem_total_kb;
		FILE *f;
		int id;

		snprintf(path, sizeof(path), "%s/sys/devices/system/node/node%d/meminfo", root,
			 n->os_id);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "Node %d MemFree: %llu kB", &id, &kb) == 2)
				break;
		if (f)
			fclose(f);
		CHECK(n->mem_free_kb == kb, "%s: node %d free %llu kB, meminfo says %llu", name,
		      n->os_id, (unsigned long long)n->mem_free_kb, kb);
		check_pools(name, t, root, n);
	}
}

/* ---- helpers ---- */

static np_topo *load(enum np_source_kind kind, const char *arg, const char *what)
{
	struct np_error err = {0};
	np_topo *t = NULL;
	int rc = np_topo_load(kind, arg, &t, &err);

	CHECK(rc == 0 && t, "%s: load failed (%d): %s", what, rc, err.message);
	if (t)
		CHECK(np_topo_check(t, &err) == 0, "%s: check: %s", what, err.message);
	return t;
}

static void report(const char *name, const np_topo *t)
{
	int online = 0;

	for (int i = 0; i < np_topo_cpu_count(t); i++)
		online += np_topo_cpu(t, i)->online;
	printf("%-28s %3d nodes %4d CPUs (%d online) %3d devices%s\n", name, np_topo_node_count(t),
	       np_topo_cpu_count(t), online, np_topo_device_count(t),
	       np_topo_distances_defaulted(t) ? ", default distances" : "");
}

/* ---- sysfs against hwloc 2.9.0 ---- */

static void fixture(const char *root, const char *expect, const char *label)
{
	char path[1024];
	np_topo *t = load(NP_SOURCE_SYSFS, root, label);

	if (!t)
		return;
	report(label, t);
	snprintf(path, sizeof(path), "%s/fixtures/hwloc-linux/hwloc-2.9.0/%s.output", t_shared(),
		 expect);
	CHECK(read_expect(path), "%s: cannot read %s", label, path);
	compare_nodes(label, t);
	compare_cpus(label, t);
	compare_distances(label, t);
	compare_devices(label, t);
	check_sysfs_files(label, t, root);
	np_topo_free(t);
}

/* No 2.9.0 expectation: the facts of the fixtures' README and sysfs. */
static void memorysidecaches(const char *root)
{
	static const uint32_t d[4][4] = {
	    {10, 21, 11, 21}, {21, 10, 21, 11}, {11, 21, 10, 21}, {21, 11, 21, 10}};
	np_topo *t = load(NP_SOURCE_SYSFS, root, "memorysidecaches");
	char path[1024], text[256];

	if (!t)
		return;
	report("memorysidecaches", t);
	CHECK(np_topo_node_count(t) == 4 && np_topo_cpu_count(t) == 80, "4 nodes, 80 CPUs");
	for (int i = 0; i < np_topo_node_count(t) && i < 4; i++) {
		const struct np_node *n = np_topo_node(t, i);
		int *ids = NULL, nids = 0;
		FILE *f;

		CHECK(n->os_id == i, "node %d is %d", i, n->os_id);
		for (int j = 0; j < 4 && j < np_topo_node_count(t); j++)
			CHECK(np_topo_distance(t, i, j) == d[i][j], "distance %d %d", i, j);
		snprintf(path, sizeof(path), "%s/sys/devices/system/node/node%d/cpulist", root, i);
		f = fopen(path, "r");
		CHECK(f && fgets(text, sizeof(text), f) &&
			  np__parse_cpulist(text, 4096, &ids, &nids) == 0,
		      "read %s", path);
		if (f)
			fclose(f);
		CHECK(nids == n->ncpus &&
			  (nids == 0 || memcmp(ids, n->cpus, sizeof(int) * (size_t)nids) == 0),
		      "node %d CPUs are its sysfs cpulist", i);
		free(ids);
	}
	check_sysfs_files("memorysidecaches", t, root);
	np_topo_free(t);
}

/* ---- hwloc-xml and local against the others ---- */

/*
 * A and B describe the same host.  SAME_FREE: free counts agree too (else
 * B, an hwloc-xml load, says free = total and marks it unknown, while A,
 * read from sysfs, knows it).  DEV_NODES: device nodes agree
 * too (else A read them from numa_node, B from hwloc's locality).
 */
static void same_topology(const char *what, const np_topo *a, const np_topo *b, bool same_free,
			  bool dev_nodes)
{
	CHECK(np_topo_node_count(a) == np_topo_node_count(b) &&
		  np_topo_cpu_count(a) == np_topo_cpu_count(b) &&
		  np_topo_device_count(a) == np_topo_device_count(b) &&
		  (np_topo_distances_defaulted(a) == np_topo_distances_defaulted(b) ||
		   np_topo_node_count(a) == 1), /* hwloc exports no 1x1 matrix */
	      "%s: counts differ", what);
	if (np_topo_node_count(a) != np_topo_node_count(b) ||
	    np_topo_cpu_count(a) != np_topo_cpu_count(b) ||
	    np_topo_device_count(a) != np_topo_device_count(b))
		return;
	for (int i = 0; i < np_topo_node_count(a); i++) {
		const struct np_node *x = np_topo_node(a, i), *y = np_topo_node(b, i);
		bool pools = x->npools == y->npools;

		for (int k = 0; pools && k < x->npools; k++)
			pools = x->pools[k].size_kb == y->pools[k].size_kb &&
				x->pools[k].total == y->pools[k].total &&
				(same_free ? x->pools[k].free == y->pools[k].free
					   : y->pools[k].free == y->pools[k].total &&
						 !y->pools[k].free_known);
		CHECK(x->os_id == y->os_id && x->mem_total_kb == y->mem_total_kb && pools &&
			  (same_free ? x->mem_free_kb == y->mem_free_kb
				     : y->mem_free_kb == y->mem_total_kb && !y->mem_free_known &&
					   x->mem_free_known),
		      "%s: node %d differs", what, x->os_id);
		for (int j = 0; j < np_topo_node_count(a); j++)
			CHECK(np_topo_distance(a, i, j) == np_topo_distance(b, i, j),
			      "%s: distance %d %d", what, i, j);
	}
	for (int i = 0; i < np_topo_cpu_count(a); i++)
		CHECK(memcmp(np_topo_cpu(a, i), np_topo_cpu(b, i), sizeof(struct np_cpu)) == 0,
		      "%s: CPU %d differs", what, np_topo_cpu(a, i)->os_id);
	for (int i = 0; i < np_topo_device_count(a); i++) {
		const struct np_device *x = np_topo_device(a, i), *y = np_topo_device(b, i);

		CHECK(strcmp(x->address, y->address) == 0 && x->vendor == y->vendor &&
			  x->device == y->device && x->class_code >> 8 == y->class_code >> 8 &&
			  (!dev_nodes || x->node_idx == y->node_idx),
		      "%s: device %s differs", what, x->address);
	}
}

/* lstopo's XML export of ROOT (NULL: this machine) into OUT. */
static bool export_xml(const char *root, char *out, size_t size)
{
	char cmd[2048];
	int fd;

	snprintf(out, size, "/tmp/np-test-xml-XXXXXX");
	if ((fd = mkstemp(out)) < 0)
		return false;
	close(fd);
	if (root)
		snprintf(cmd, sizeof(cmd),
			 "lstopo-no-graphics --if fsroot -i '%s' --whole-io --of xml -f '%s' "
			 "2>/dev/null",
			 root, out);
	else
		snprintf(cmd, sizeof(cmd),
			 "lstopo-no-graphics --whole-io --of xml -f '%s' 2>/dev/null", out);
	return system(cmd) == 0;
}

static void xml_vs_sysfs(const char *name, const char *root)
{
	char xml[64], what[128];
	np_topo *a = load(NP_SOURCE_SYSFS, root, name), *b = NULL;

	snprintf(what, sizeof(what), "%s as hwloc-xml", name);
	CHECK(export_xml(root, xml, sizeof(xml)), "%s: lstopo-no-graphics failed", what);
	b = load(NP_SOURCE_HWLOC_XML, xml, what);
	CHECK(!b || np_topo_source_kind(b) == NP_SOURCE_HWLOC_XML, "%s: kind", what);
	if (a && b)
		same_topology(what, a, b, false, true);
	unlink(xml);
	np_topo_free(a);
	np_topo_free(b);
}

static void local(void)
{
	np_topo *t = load(NP_SOURCE_LOCAL, NULL, "local"), *x;
	char xml[64];

	if (!t)
		return;
	report("local", t);
	CHECK(np_topo_node_count(t) >= 1 && np_topo_cpu_count(t) >= 1, "local: a node, a CPU");
	CHECK(export_xml(NULL, xml, sizeof(xml)), "local: lstopo-no-graphics failed");
	x = load(NP_SOURCE_HWLOC_XML, xml, "local as hwloc-xml");
	if (x) {
		/* Free memory moves between the two loads: compare the rest. */
		same_topology("local as hwloc-xml", t, x, false, false);
		np_topo_free(x);
	}
	unlink(xml);
	np_topo_free(t);
}

/* The sysfs source puts back the two variables it sets around the load. */
static void environment(const char *root)
{
	np_topo *t;

	unsetenv("HWLOC_FSROOT");
	setenv("HWLOC_COMPONENTS", "x86", 1);
	t = load(NP_SOURCE_SYSFS, root, "128ia64 with HWLOC_COMPONENTS");
	CHECK(t && np_topo_cpu_count(t) == 128, "HWLOC_COMPONENTS does not leak into sysfs");
	CHECK(getenv("HWLOC_FSROOT") == NULL, "HWLOC_FSROOT unset again");
	CHECK(getenv("HWLOC_COMPONENTS") && strcmp(getenv("HWLOC_COMPONENTS"), "x86") == 0,
	      "HWLOC_COMPONENTS restored");
	unsetenv("HWLOC_COMPONENTS");
	np_topo_free(t);
}

/* ---- bad input ---- */

/* Run LOAD or PARSE with stderr captured; how many bytes were printed. */
struct attempt {
	int rc;
	np_topo *t;
	struct np_error err;
	long printed;
};

static struct attempt attempt(enum np_source_kind kind, const char *arg, const char *buf,
			      size_t len)
{
	struct attempt a = {0};
	char path[] = "/tmp/np-test-stderr-XXXXXX";
	int saved, fd = mkstemp(path);
	struct stat st;

	fflush(stderr);
	saved = dup(2);
	if (fd >= 0)
		dup2(fd, 2);
	if (buf)
		a.rc = np_topo_parse(kind, buf, len, arg, &a.t, &a.err);
	else
		a.rc = np_topo_load(kind, arg, &a.t, &a.err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	a.printed = fd >= 0 && fstat(fd, &st) == 0 ? (long)st.st_size : -1;
	if (fd >= 0)
		close(fd);
	unlink(path);
	return a;
}

/* A refused input: CODE, one line naming NAME, nothing printed. */
static void refused(const char *what, struct attempt a, int code, const char *name)
{
	CHECK(a.rc == code && !a.t, "%s: rc %d, expected %d (%s)", what, a.rc, code, a.err.message);
	CHECK(strstr(a.err.message, name) && !strchr(a.err.message, '\n'),
	      "%s: message '%s' should be one line naming '%s'", what, a.err.message, name);
	CHECK(a.printed == 0, "%s: %ld bytes printed on stderr", what, a.printed);
	np_topo_free(a.t);
}

/* Garbled input may load (and then be sane) or be refused as bad input. */
static void survived(const char *what, struct attempt a, const char *name, bool quiet)
{
	struct np_error err = {0};

	CHECK(a.rc == 0 || a.rc == NP_EINPUT, "%s: rc %d (%s)", what, a.rc, a.err.message);
	if (a.rc == 0)
		CHECK(a.t && np_topo_check(a.t, &err) == 0, "%s: check: %s", what, err.message);
	else
		CHECK(strstr(a.err.message, name) && !strchr(a.err.message, '\n'),
		      "%s: message '%s'", what, a.err.message);
	if (quiet)
		CHECK(a.printed == 0, "%s: %ld bytes printed on stderr", what, a.printed);
	np_topo_free(a.t);
}

static void bad_dirs(void)
{
	char empty[] = "/tmp/np-test-empty-XXXXXX", file[1024];
	struct attempt a;

	a = attempt(NP_SOURCE_SYSFS, "/nonexistent/np-sysfs", NULL, 0);
	refused("missing dir", a, NP_EIO, "'/nonexistent/np-sysfs'");
	snprintf(file, sizeof(file), "%s", t_data("json/full.json")); /* any plain file */
	a = attempt(NP_SOURCE_SYSFS, file, NULL, 0);
	refused("file as dir", a, NP_EIO, file);
	CHECK(strstr(a.err.message, "not a directory") != NULL, "file: %s", a.err.message);
	if (!mkdtemp(empty))
		return;
	a = attempt(NP_SOURCE_SYSFS, empty, NULL, 0);
	refused("empty dir", a, NP_EINPUT, empty);
	CHECK(strstr(a.err.message, "sysfs") != NULL, "empty: %s", a.err.message);
	rmdir(empty);
}

static bool put(const char *root, const char *rel, const char *text, size_t len)
{
	char path[1024];
	int fd;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	chmod(path, 0644);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return false;
	ok = write(fd, text, len) == (ssize_t)len;
	close(fd);
	return ok;
}

static char *get(const char *root, const char *rel, size_t *len)
{
	char path[1024], *buf = NULL;
	struct np_error err;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (np__read_file(path, 1 << 20, &buf, len, &err) != 0)
		return NULL;
	return buf;
}

#define NODE   "sys/devices/system/node/"
#define CPU    "sys/devices/system/cpu/"
#define PCIDEV "sys/bus/pci/devices/0000:1a:00.0/"
#define HP2M   NODE "node0/hugepages/hugepages-2048kB/"

/* Rows are "from", columns "to": an asymmetric matrix stays the right way round. */
static void asymmetric(const char *root)
{
	size_t l0 = 0, l1 = 0;
	char *d0 = get(root, NODE "node0/distance", &l0),
	     *d1 = get(root, NODE "node1/distance", &l1);
	np_topo *t, *x;
	char xml[64];

	CHECK(d0 && d1 && put(root, NODE "node0/distance", "10 21\n", 6) &&
		  put(root, NODE "node1/distance", "31 10\n", 6),
	      "make the distances asymmetric");
	t = load(NP_SOURCE_SYSFS, root, "asymmetric");
	CHECK(t && np_topo_distance(t, 0, 1) == 21 && np_topo_distance(t, 1, 0) == 31,
	      "asymmetric distances: node 0 to 1 is 21, 1 to 0 is 31");
	CHECK(export_xml(root, xml, sizeof(xml)), "asymmetric: lstopo-no-graphics failed");
	x = load(NP_SOURCE_HWLOC_XML, xml, "asymmetric as hwloc-xml");
	CHECK(x && np_topo_distance(x, 0, 1) == 21 && np_topo_distance(x, 1, 0) == 31,
	      "asymmetric distances through hwloc-xml");
	unlink(xml);
	np_topo_free(t);
	np_topo_free(x);
	if (d0 && d1) {
		put(root, NODE "node0/distance", d0, l0);
		put(root, NODE "node1/distance", d1, l1);
	}
	free(d0);
	free(d1);
}

/* Free-memory files are advisory: garbage there never fails a load. */
static void bad_free_files(const char *root)
{
	static const char m0[] =
	    "Node 0 MemTotal: 47925628 kB\nNode 0 MemFree: 99999999999999999999999 kB\n";
	static const char m1[] = "Node 1 MemTotal: 49519964 kB\nNode 1 MemFree: 49519965 kB\n";
	struct attempt a;
	const struct np_node *n;
	const struct np_device *d;

	CHECK(put(root, NODE "node0/meminfo", m0, strlen(m0)) &&
		  put(root, NODE "node1/meminfo", m1, strlen(m1)) &&
		  put(root, HP2M "free_hugepages", "lots\n", 5) &&
		  put(root, NODE "node1/hugepages/hugepages-2048kB/free_hugepages", "4096\n", 5) &&
		  put(root, PCIDEV "numa_node", "zz\n", 3),
	      "corrupt the free files");
	a = attempt(NP_SOURCE_SYSFS, root, NULL, 0);
	CHECK(a.rc == 0 && a.t, "garbled free files: %s", a.err.message);
	if (!a.t)
		return;
	for (int i = 0; i < np_topo_node_count(a.t); i++) {
		n = np_topo_node(a.t, i);
		CHECK(n->mem_free_kb == n->mem_total_kb && n->npools == 2 &&
			  n->pools[0].free == n->pools[0].total && n->pools[0].total == 2048,
		      "node %d: garbage free counts read as free = total", n->os_id);
	}
	d = np_topo_device(a.t, 0);
	CHECK(d && strcmp(d->address, "0000:1a:00.0") == 0 && d->node_idx == 0 &&
		  d->class_code == 0x020700,
	      "device with a garbled numa_node falls back to hwloc's locality");
	np_topo_free(a.t);
}

/* One file at a time replaced by garbage: loads sanely or is refused. */
static void bad_sysfs_files(const char *root)
{
	static const char *const files[] = {
	    NODE "node0/meminfo",
	    NODE "node0/cpulist",
	    NODE "node0/cpumap",
	    NODE "node0/distance",
	    NODE "node1/distance",
	    NODE "online",
	    NODE "possible",
	    CPU "online",
	    CPU "present",
	    CPU "possible",
	    CPU "cpu0/topology/core_id",
	    CPU "cpu0/topology/physical_package_id",
	    CPU "cpu0/topology/thread_siblings",
	    CPU "cpu0/topology/core_siblings",
	    HP2M "nr_hugepages",
	    "proc/meminfo",
	    "proc/cpuinfo",
	    PCIDEV "numa_node",
	    PCIDEV "class",
	    PCIDEV "vendor",
	};
	static const char *const junk[] = {
	    "",	     "zz\n",	    "99999999999999999999999\n", "-1\n", "\x01\x02\xff\xfe",
	    "0 0\n", "10 abc 20\n", "4294967296 4294967296\n",
	};
	for (size_t f = 0; f < NP__ARRAY_SIZE(files); f++) {
		size_t len = 0;
		char *orig = get(root, files[f], &len), what[256];

		CHECK(orig != NULL, "fixture has %s", files[f]);
		if (!orig)
			continue;
		for (size_t j = 0; j < NP__ARRAY_SIZE(junk); j++) {
			snprintf(what, sizeof(what), "%s = junk %zu", files[f], j);
			put(root, files[f], junk[j], strlen(junk[j]));
			/* Quiet: the source sets HWLOC_HIDE_ERRORS=2 for hwloc's banners. */
			survived(what, attempt(NP_SOURCE_SYSFS, root, NULL, 0), root, true);
		}
		put(root, files[f], orig, len);
		free(orig);
	}
}

static void bad_xml(void)
{
	static const char *const texts[] = {
	    "this is not xml",
	    "<topology version=\"2.0\"><object type=\"Machine\"",
	    "<foo/>",
	    "\xff\xfe<",
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"b\">]>\n<x>&c;</x>",
	    /* libxml2's converters print their own errors: never reached (fuzzer find).
	     * One document split over two lines: the parentheses tell clang's
	     * -Wstring-concatenation that no comma is missing. */
	    ("<?xml version=\"1.0\" encoding=\"EUC-JP\"?>\n<topology><object type=\"\x8e\x01\x02om\"/>"
	     "</topology>"),
	};
	char name[64];
	struct attempt a;

	a = attempt(NP_SOURCE_HWLOC_XML, "empty.xml", "", 0);
	refused("empty xml", a, NP_EINPUT, "'empty.xml'");
	a = attempt(NP_SOURCE_HWLOC_XML, "blank.xml", " \n\t\n", 4);
	refused("blank xml", a, NP_EINPUT, "'blank.xml'");
	for (size_t i = 0; i < NP__ARRAY_SIZE(texts); i++) {
		snprintf(name, sizeof(name), "bad-%zu.xml", i);
		a = attempt(NP_SOURCE_HWLOC_XML, name, texts[i], strlen(texts[i]));
		refused(name, a, NP_EINPUT, name);
	}
	a = attempt(NP_SOURCE_HWLOC_XML, "garbage.xml", texts[0], strlen(texts[0]));
	CHECK(strstr(a.err.message, "line 1") != NULL, "says where: %s", a.err.message);
	np_topo_free(a.t);
}

/* A real export, cut short and edited: refused or sane, never noisy. */
static void bad_real_xml(const char *root)
{
	static const char *const edits[][2] = {
	    {"cpuset=\"0x", "cpuset=\"0xzz"},
	    {"os_index=\"", "os_index=\"99999999999"},
	    {"local_memory=\"", "local_memory=\"-"},
	    {"type=\"NUMANode\"", "type=\"Bogus\""},
	    {"value=\"", "value=\"x"},
	    {"</topology>", ""},
	};
	char xml[64];
	size_t len = 0;
	char *buf = NULL, *copy;
	struct attempt a;

	CHECK(export_xml(root, xml, sizeof(xml)) &&
		  np__read_file(xml, 1 << 24, &buf, &len, NULL) == 0,
	      "export 48amd64 as XML");
	unlink(xml);
	if (!buf)
		return;
	a = attempt(NP_SOURCE_HWLOC_XML, "half.xml", buf, len / 2);
	refused("truncated xml", a, NP_EINPUT, "'half.xml'");
	for (size_t i = 0; i < NP__ARRAY_SIZE(edits); i++) {
		char *at = strstr(buf, edits[i][0]), what[80];
		size_t head, olen = strlen(edits[i][0]), nlen = strlen(edits[i][1]);

		if (!at || !(copy = malloc(len + nlen + 1)))
			continue;
		head = (size_t)(at - buf);
		memcpy(copy, buf, head);
		memcpy(copy + head, edits[i][1], nlen);
		memcpy(copy + head + nlen, at + olen, len - head - olen + 1);
		snprintf(what, sizeof(what), "edited.xml (%s)", edits[i][1]);
		survived(what, attempt(NP_SOURCE_HWLOC_XML, "edited.xml", copy, len - olen + nlen),
			 "'edited.xml'", true);
		free(copy);
	}
	free(buf);
}

/* DOC with the first FROM replaced by TO (malloc'ed), or NULL when FROM is not there. */
static char *edited(const char *doc, const char *from, const char *to)
{
	const char *at = strstr(doc, from);
	size_t head, n;
	char *out;

	if (!at)
		return NULL;
	head = (size_t)(at - doc);
	n = strlen(doc) - strlen(from) + strlen(to);
	if (!(out = malloc(n + 1)))
		return NULL;
	memcpy(out, doc, head);
	memcpy(out + head, to, strlen(to));
	strcpy(out + head + strlen(to), at + strlen(from)); /* checksrc: allow (sized above) */
	return out;
}

/*
 * The shape libhwloc assumes, held before it reads a document: each edit
 * of a good v2 export (two packages, two PCI hierarchies with one bus id,
 * a NUMA latency matrix) is refused with its line and rule, or loads sane.
 */
static void shapes(void)
{
	static const struct {
		const char *from, *to, *says; /* says NULL: loads */
	} cases[] = {
	    {"cpuset=\"0x00000008\"", "cpuset=\"0x0000000,\"", "line 31: cpuset \"0x0000000,\" is not a set"},
	    {"complete_cpuset=\"0x0000000f\"", "complete_cpuset=\"0xf...f\"", "is not a set as hwloc writes it"},
	    {"cpuset=\"0x00000008\"", "cpuset=\"0x00000008,,\"", "is not a set"},
	    {"cpuset=\"0x00000008\"", "cpuset=\"0x00000000,,0x00000008\"", NULL},
	    {"<object type=\"PU\" os_index=\"3\"", "<object type=\"PU\" os_index=\"2\"", "PU P#2 is listed twice"},
	    {"<object type=\"PU\" os_index=\"3\"", "<object type=\"PU\" os_indeX=\"3\"", "PU object without an os_index"},
	    {"<object type=\"PU\" os_index=\"3\"", "<object type=\"PU\" os_index=\"-3\"", "is not a number"},
	    {"<object type=\"PU\" os_index=\"3\"", "<object type=\"PU\" os_index=\"4000000000\"", "is not a number from 0 to 1048576"},
	    {"<object type=\"NUMANode\" os_index=\"1\"", "<object type=\"NUMANode\" os_index=\"0\"", "NUMANode P#0 is listed twice"},
	    {"<object type=\"PU\" os_index=\"3\"", "<object type=\"PU\" os_index=\"9\"", "is not {9}"},
	    {"os_index=\"1\" cpuset=\"0x0000000c\" complete_cpuset=\"0x0000000c\"", "os_index=\"1\" cpuset=\"0x0000000c\" complete_cpuset=\"0x0000000e\"", "overlaps a sibling"},
	    {"complete_cpuset=\"0x00000008\" nodeset=\"0x00000002\" complete_nodeset=\"0x00000002\"", "complete_cpuset=\"0x00000008\" nodeset=\"0x00000003\" complete_nodeset=\"0x00000003\"", "its nodeset is not within its parent's"},
	    {"type=\"Core\" os_index=\"1\"", "type=\"Package\" os_index=\"1\"", "below a lower level"},
	    {"type=\"Core\" os_index=\"1\"", "type=\"Cache\" os_index=\"1\"", "Cache object in a version 2 document"},
	    {"type=\"Core\" os_index=\"1\"", "type=\"Tile\" os_index=\"1\"", "unknown type \"Tile\""},
	    {"<page_type size=\"4096\"", "<bogus size=\"4096\"", "<bogus> inside an object"},
	    {"<page_type size=\"4096\"", "<page_type size=\"4097\"", "is not a power of two"},
	    {"<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">", "<!DOCTYPE topology [<!ENTITY x \"y\">]>", "declarations inside"},
	    {"<topology version=\"2.0\">", "<topology version=\"3.0\">", "hwloc XML version 3.0"},
	    {"<topology version=\"2.0\">", "<topology version=\"-1.0\">", "is not hwloc's M.m"},
	    {"<indexes length=\"3\">0 1</indexes>", "<indexes length=\"3\">0 7</indexes>", "index 7 is not a NUMA node"},
	    {"<u64values length=\"11\">10 21 21 10</u64values>", "<u64values length=\"8\">10 21 21</u64values>", "not 2 and 4"},
	    {"pci_busid=\"0000:04:00.0\"", "pci_busid=\"0000:04:00\"", "is not dddd:bb:dd.f"},
	    {"bridge_type=\"0-1\"", "bridge_type=\"7-1\"", "bridge_type \"7-1\""},
	    {"pci_type=\"0207", "pci_type=\"0207 ", "pci_type"},
	    {"pci_busid=\"0000:04:00.0\" pci_type=\"0207", "pci_busid=\"10000:04:00.0\" pci_type=\"0207", NULL},
	};
	char path[1100], *doc = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/dup-pci-busid.xml", t_data("hwloc"));
	CHECK(np__read_file(path, 1 << 20, &doc, &len, NULL) == 0, "read %s", path);
	if (!doc)
		return;
	{
		struct attempt a = attempt(NP_SOURCE_HWLOC_XML, "dup.xml", doc, len);

		CHECK(a.rc == 0 && a.t && np_topo_device_count(a.t) == 2 &&
			  strcmp(np_topo_device(a.t, 0)->address, "0000:04:00.0") == 0 &&
			  strcmp(np_topo_device(a.t, 1)->address, "0000:04:00.0#2") == 0 &&
			  np_topo_device(a.t, 1)->node_idx == 1 && np_topo_distance(a.t, 0, 1) == 21,
		      "one bus id in two PCI hierarchies: both kept, #2 on node 1 (%s)",
		      a.err.message);
		CHECK(a.printed == 0, "nothing printed");
		np_topo_free(a.t);
	}
	for (size_t i = 0; i < NP__ARRAY_SIZE(cases); i++) {
		char *e = edited(doc, cases[i].from, cases[i].to), what[160];
		struct attempt a;

		snprintf(what, sizeof(what), "shape %zu (%s)", i, cases[i].to);
		CHECK(e != NULL, "%s: the edit applies", what);
		if (!e)
			continue;
		a = attempt(NP_SOURCE_HWLOC_XML, "shape.xml", e, strlen(e));
		if (cases[i].says) {
			CHECK(a.rc != 0 && strstr(a.err.message, cases[i].says) &&
				  strstr(a.err.message, "'shape.xml'"),
			      "%s: '%s', want '%s'", what, a.err.message, cases[i].says);
			CHECK(a.printed == 0 && !a.t, "%s: quiet, no topology", what);
		} else {
			survived(what, a, "'shape.xml'", true);
		}
		free(e);
	}
	free(doc);
}

/* A set as long as a 256 MiB file allows is refused for its size, at once. */
static void huge_set(void)
{
	const char *head = "<topology version=\"2.0\"><object type=\"Machine\" complete_cpuset=\"0x1\" "
			   "nodeset=\"0x1\" complete_nodeset=\"0x1\" cpuset=\"0x1";
	size_t groups = (1 << 20) / 32 + 8, n = strlen(head) + groups * 4 + 64;
	char *doc = malloc(n);
	struct attempt a;
	size_t k;

	if (!doc)
		return;
	k = (size_t)snprintf(doc, n, "%s", head);
	for (size_t i = 0; i < groups; i++)
		k += (size_t)snprintf(doc + k, n - k, ",0x0");
	snprintf(doc + k, n - k, "\"/></topology>");
	a = attempt(NP_SOURCE_HWLOC_XML, "huge.xml", doc, strlen(doc));
	refused("a set beyond CPU 2^20", a, NP_EINPUT, "goes beyond CPU 1048576");
	free(doc);
}

/* Each fixture once (unpacked once per build dir), and everything on it then. */
static void on_fixture(const char *name, const char *expect, bool as_xml)
{
	const char *root = t_fixture(name);

	if (expect)
		fixture(root, expect, name);
	else
		memorysidecaches(root);
	if (as_xml)
		xml_vs_sysfs(name, root);
	if (strcmp(name, "nvidiagpunumanodes") == 0) {
		setenv("HWLOC_KEEP_NVIDIA_GPU_NUMA_NODES", "1", 1);
		fixture(root, "nvidiagpunumanodes.kept", "nvidiagpunumanodes-kept");
		xml_vs_sysfs("nvidiagpunumanodes-kept", root);
		unsetenv("HWLOC_KEEP_NVIDIA_GPU_NUMA_NODES");
	} else if (strcmp(name, "128ia64-17n4s2c") == 0) {
		environment(root);
	} else if (strcmp(name, "48amd64-4pa2n6c-sparse") == 0) {
		bad_real_xml(root);
	} else if (strcmp(name, "32intel64-2p8co2t+8ve") == 0) {
		/* These change files: on a private copy, never the shared cache. */
		const char *copy = t_fixture_copy(name);

		asymmetric(copy);
		bad_sysfs_files(copy);
		bad_free_files(copy); /* last: it leaves the files broken */
		t_cleanup();
	}
}

/* One case per fixture (a function of its own: T_CASE in a loop clobbers). */
static void fixture_case(const char *name, const char *expect, bool as_xml)
{
	char what[64];

	snprintf(what, sizeof(what), "fixture:%s", name);
	T_CASE(what, on_fixture(name, expect, as_xml));
}

int main(void)
{
	static const struct {
		const char *name, *expect;
		bool as_xml;
	} fixtures[] = {
	    {"128arm-2pa2n8cluster4co", "128arm-2pa2n8cluster4co", true},
	    {"128ia64-17n4s2c", "128ia64-17n4s2c", true},
	    {"256ia64-64n2s2c", "256ia64-64n2s2c", true},
	    {"256ppc-8n8s4t", "256ppc-8n8s4t", true},
	    {"32intel64-2p8co2t+8ve", "32intel64-2p8co2t+8ve", true},
	    {"48amd64-4pa2n6c-sparse", "48amd64-4d2n6c-sparse", true},
	    {"64amd64-4s2n4ca2co", "64amd64-4s2n4ca2co", true},
	    {"memorysidecaches", NULL, true},
	    {"nvidiagpunumanodes", "nvidiagpunumanodes", true},
	    {"offline-cpu0-node0", "offline-cpu0-node0", true},
	};

	for (size_t i = 0; i < NP__ARRAY_SIZE(fixtures); i++)
		fixture_case(fixtures[i].name, fixtures[i].expect, fixtures[i].as_xml);
	t_cleanup();
	T_CASE("local", local());
	T_CASE("bad-dirs", bad_dirs());
	T_CASE("bad-xml", bad_xml());
	T_CASE("shapes", shapes());
	T_CASE("huge-set", huge_set());
	return t_done();
}
