/*
 * topo.c - the np_topo builder (np__tb_*) and the read-only accessors.
 *
 * The builder collects facts keyed by kernel ids in flat arrays; finish
 * sorts them once, maps ids to dense indexes by binary search, and lays the
 * topology out in a few arrays that live as long as the np_topo.  Nothing
 * here knows any source format.
 */
#include "topo-int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct tb_node { int os; uint64_t total, free; bool has_free; };
struct tb_cpu { int os, node, core, socket; bool online; };
struct tb_pool { int node; uint64_t size, total, free; bool has_free; };
struct tb_dist { int from, to; uint32_t d; };
struct tb_dev { char addr[16]; unsigned vendor, device, cls; int node; };

struct np__tb {
	enum np_source_kind kind;
	char *name;
	struct np_error err; /* sticky: err.code != 0 after the first failure */

	struct tb_node *nodes; size_t nnodes, capnodes;
	struct tb_cpu *cpus;   size_t ncpus, capcpus;
	struct tb_pool *pools; size_t npools, cappools;
	struct tb_dist *dists; size_t ndists, capdists;
	struct tb_dev *devs;   size_t ndevs, capdevs;
	char dist_note[NP__DIST_NOTE];
};

np__tb *np__tb_new(enum np_source_kind kind, const char *source_name)
{
	np__tb *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->kind = kind;
	b->name = strdup(source_name ? source_name : "this machine");
	if (!b->name) {
		free(b);
		return NULL;
	}
	return b;
}

void np__tb_free(np__tb *b)
{
	if (!b)
		return;
	free(b->name);
	free(b->nodes);
	free(b->cpus);
	free(b->pools);
	free(b->dists);
	free(b->devs);
	free(b);
}

bool np__tb_failed(const np__tb *b)
{
	return b->err.code != 0;
}

int np__tb_fail(np__tb *b, int code, const char *fmt, ...)
{
	va_list ap;

	if (b->err.code)
		return b->err.code;
	va_start(ap, fmt);
	np__verr(&b->err, code, fmt, ap);
	va_end(ap);
	return code;
}

void np__tb_distances_note(np__tb *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->dist_note, sizeof(b->dist_note), fmt, ap);
	va_end(ap);
}

/* Make room for one more element in an array of the builder. */
#define TB_PUSH(b, arr, n, cap)                                                    \
	(np__grow((void **)&(b)->arr, &(b)->cap, (b)->n + 1, sizeof(*(b)->arr)) < 0 \
		 ? (np__tb_fail((b), NP_ENOMEM, "out of memory"), NULL)              \
		 : &(b)->arr[(b)->n++])

void np__tb_node(np__tb *b, int os_node, uint64_t total_kb)
{
	struct tb_node *n;

	if (b->err.code)
		return;
	if (os_node < 0 || os_node > NP__TOPO_ID_MAX) {
		np__tb_fail(b, NP_EINPUT, "node id %d out of range 0..%d", os_node,
			    NP__TOPO_ID_MAX);
		return;
	}
	if (total_kb > (uint64_t)NP__TOPO_KB_MAX) {
		np__tb_fail(b, NP_EINPUT, "node %d: %llu KiB of memory is more than 2^50",
			    os_node, (unsigned long long)total_kb);
		return;
	}
	if ((n = TB_PUSH(b, nodes, nnodes, capnodes)))
		*n = (struct tb_node){ .os = os_node, .total = total_kb };
}

static struct tb_node *find_node(np__tb *b, int os_node)
{
	for (size_t i = 0; i < b->nnodes; i++)
		if (b->nodes[i].os == os_node)
			return &b->nodes[i];
	np__tb_fail(b, NP_EINPUT, "node %d is referred to but not listed", os_node);
	return NULL;
}

void np__tb_node_free(np__tb *b, int os_node, uint64_t free_kb)
{
	struct tb_node *n;

	if (b->err.code || !(n = find_node(b, os_node)))
		return;
	n->free = free_kb;
	n->has_free = true;
}

void np__tb_hugepages(np__tb *b, int os_node, uint64_t size_kb, uint64_t total,
		      uint64_t free)
{
	struct tb_pool *p;

	if (b->err.code)
		return;
	if (size_kb == 0 || size_kb > (uint64_t)NP__TOPO_KB_MAX ||
	    total > (uint64_t)NP__TOPO_KB_MAX / size_kb) {
		np__tb_fail(b, NP_EINPUT, "node %d: %llu huge pages of %llu KiB out of range",
			    os_node, (unsigned long long)total, (unsigned long long)size_kb);
		return;
	}
	if ((p = TB_PUSH(b, pools, npools, cappools)))
		*p = (struct tb_pool){ os_node, size_kb, total,
				       free == NP__TB_FREE_UNKNOWN ? total : free,
				       free != NP__TB_FREE_UNKNOWN };
}

void np__tb_cpu(np__tb *b, int os_cpu, int os_node, int core, int socket, bool online)
{
	struct tb_cpu *c;

	if (b->err.code)
		return;
	if (os_cpu < 0 || os_cpu > NP__TOPO_ID_MAX) {
		np__tb_fail(b, NP_EINPUT, "CPU id %d out of range 0..%d", os_cpu,
			    NP__TOPO_ID_MAX);
		return;
	}
	if (core < -1 || core > NP__TOPO_ID_MAX || socket < -1 || socket > NP__TOPO_ID_MAX) {
		np__tb_fail(b, NP_EINPUT, "CPU %d: core %d or socket %d out of range", os_cpu,
			    core, socket);
		return;
	}
	if ((c = TB_PUSH(b, cpus, ncpus, capcpus)))
		*c = (struct tb_cpu){ os_cpu, os_node, core, socket, online };
}

void np__tb_distance(np__tb *b, int os_from, int os_to, uint32_t distance)
{
	struct tb_dist *d;

	if (b->err.code)
		return;
	if ((d = TB_PUSH(b, dists, ndists, capdists)))
		*d = (struct tb_dist){ os_from, os_to, distance };
}

/*
 * A device address as topologies keep it: a PCI address in the one form
 * (np__pci_address_normalise), with the "#N" (2-99) that tells apart the
 * second and later devices an hwloc export lists at one address (in two
 * PCI hierarchies); false when it is not one.
 */
static bool pci_normalise(const char *in, char out[16])
{
	const char *h = strchr(in, '#');
	size_t len = h ? (size_t)(h - in) : 0, k = h ? strspn(h + 1, "0123456789") : 0;
	char head[16], norm[16];
	unsigned long nth;

	if (!h)
		return np__pci_address_normalise(in, out);
	if (len >= sizeof(head) || k < 1 || k > 2 || h[1 + k] || h[1] == '0')
		return false;
	nth = strtoul(h + 1, NULL, 10);
	memcpy(head, in, len);
	head[len] = '\0';
	if (nth < 2 || !np__pci_address_normalise(head, norm))
		return false;
	snprintf(out, 16, "%.12s#%u", norm, (unsigned)nth % 100); /* nth < 100 */
	return true;
}

void np__tb_device(np__tb *b, const char *address, unsigned vendor,
		   unsigned device, unsigned class_code, int os_node)
{
	struct tb_dev *d;
	char norm[16];

	if (b->err.code)
		return;
	if (vendor > 0xffff || device > 0xffff || class_code > 0xffffff) {
		np__tb_fail(b, NP_EINPUT, "device %.16s: vendor, device or class out of range",
			    address);
		return;
	}
	if (!pci_normalise(address, norm)) {
		np__tb_fail(b, NP_EINPUT, "'%.40s' is not a PCI address", address);
		return;
	}
	if ((d = TB_PUSH(b, devs, ndevs, capdevs))) {
		*d = (struct tb_dev){ .vendor = vendor, .device = device,
				      .cls = class_code, .node = os_node };
		memcpy(d->addr, norm, sizeof(norm));
	}
}

static int cmp_node(const void *a, const void *b)
{
	const struct tb_node *x = a, *y = b;

	return (x->os > y->os) - (x->os < y->os);
}

static int cmp_cpu(const void *a, const void *b)
{
	const struct tb_cpu *x = a, *y = b;

	return (x->os > y->os) - (x->os < y->os);
}

static int cmp_pool(const void *a, const void *b)
{
	const struct tb_pool *x = a, *y = b;

	if (x->node != y->node)
		return (x->node > y->node) - (x->node < y->node);
	return (x->size > y->size) - (x->size < y->size);
}

static int cmp_dev(const void *a, const void *b)
{
	const struct tb_dev *x = a, *y = b;

	return strcmp(x->addr, y->addr);
}

/* Index of kernel node OS among the sorted builder nodes, or -1. */
static int node_idx(const np__tb *b, int os)
{
	size_t lo = 0, hi = b->nnodes;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (b->nodes[mid].os == os)
			return (int)mid;
		if (b->nodes[mid].os < os)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Node index for a fact about OS (-1 allowed when ALLOW_NONE). */
static bool ref_node(np__tb *b, int os, bool allow_none, const char *what, int *idx)
{
	if (os == -1 && allow_none) {
		*idx = -1;
		return true;
	}
	*idx = node_idx(b, os);
	if (*idx < 0) {
		np__tb_fail(b, NP_EINPUT, "%s refers to node %d, which is not listed", what, os);
		return false;
	}
	return true;
}

static int build_nodes(np__tb *b, np_topo *t)
{
	size_t i;

	if (b->nnodes)
		qsort(b->nodes, b->nnodes, sizeof(*b->nodes), cmp_node);
	for (i = 1; i < b->nnodes; i++)
		if (b->nodes[i].os == b->nodes[i - 1].os)
			return np__tb_fail(b, NP_EINPUT, "node %d is listed twice", b->nodes[i].os);
	if (b->nnodes == 0)
		return np__tb_fail(b, NP_EINPUT, "no NUMA node found");
	if (b->nnodes > NP_NODES_MAX)
		return np__tb_fail(b, NP_EINPUT, "%zu nodes: more than %d", b->nnodes, NP_NODES_MAX);
	t->nnodes = (int)b->nnodes;
	t->nodes = np__calloc(b->nnodes, sizeof(*t->nodes));
	if (!t->nodes)
		return np__tb_fail(b, NP_ENOMEM, "out of memory");
	for (i = 0; i < b->nnodes; i++) {
		t->nodes[i].os_id = b->nodes[i].os;
		t->nodes[i].mem_total_kb = b->nodes[i].total;
		t->nodes[i].mem_free_kb = b->nodes[i].has_free ? b->nodes[i].free
							       : b->nodes[i].total;
		t->nodes[i].mem_free_known = b->nodes[i].has_free;
	}
	return 0;
}

static int build_cpus(np__tb *b, np_topo *t)
{
	size_t i;
	int k;
	int *fill;

	if (b->ncpus)
		qsort(b->cpus, b->ncpus, sizeof(*b->cpus), cmp_cpu);
	t->ncpus = (int)b->ncpus;
	t->cpus = np__calloc(b->ncpus, sizeof(*t->cpus));
	t->node_cpus = np__calloc(b->ncpus, sizeof(*t->node_cpus));
	fill = np__calloc(b->nnodes, sizeof(*fill));
	if (!t->cpus || !t->node_cpus || !fill) {
		free(fill);
		return np__tb_fail(b, NP_ENOMEM, "out of memory");
	}
	for (i = 0; i < b->ncpus; i++) {
		struct tb_cpu *c = &b->cpus[i];
		char what[32];
		int idx;

		if (i > 0 && c->os == b->cpus[i - 1].os) {
			free(fill);
			return np__tb_fail(b, NP_EINPUT, "CPU %d is listed twice", c->os);
		}
		snprintf(what, sizeof(what), "CPU %d", c->os);
		if (!ref_node(b, c->node, true, what, &idx)) {
			free(fill);
			return b->err.code;
		}
		t->cpus[i] = (struct np_cpu){ c->os, idx, c->core, c->socket, c->online };
		if (idx >= 0)
			t->nodes[idx].ncpus++;
	}
	/* Lay the per-node CPU lists out back to back, in CPU order. */
	for (k = 0, i = 0; i < b->nnodes; i++) {
		t->nodes[i].cpus = t->node_cpus + k;
		fill[i] = k;
		k += t->nodes[i].ncpus;
	}
	for (i = 0; i < b->ncpus; i++)
		if (t->cpus[i].node_idx >= 0)
			t->node_cpus[fill[t->cpus[i].node_idx]++] = t->cpus[i].os_id;
	free(fill);
	return 0;
}

static int build_pools(np__tb *b, np_topo *t)
{
	size_t i;

	if (b->npools)
		qsort(b->pools, b->npools, sizeof(*b->pools), cmp_pool);
	t->pools = np__calloc(b->npools, sizeof(*t->pools));
	if (!t->pools)
		return np__tb_fail(b, NP_ENOMEM, "out of memory");
	for (i = 0; i < b->npools; i++) {
		struct tb_pool *p = &b->pools[i];
		struct np_node *n;
		char what[64];
		int idx;

		snprintf(what, sizeof(what), "a %llu kB huge page pool",
			 (unsigned long long)p->size);
		if (!ref_node(b, p->node, false, what, &idx))
			return b->err.code;
		if (i > 0 && p->node == b->pools[i - 1].node && p->size == b->pools[i - 1].size)
			return np__tb_fail(b, NP_EINPUT, "node %d: %llu kB huge pages listed twice",
					   p->node, (unsigned long long)p->size);
		n = &t->nodes[idx];
		if (n->npools == 0)
			n->pools = t->pools + i;
		n->npools++;
		t->pools[i] = (struct np_hugepages){ p->size, p->total, p->free, p->has_free };
	}
	return 0;
}

static int build_distances(np__tb *b, np_topo *t)
{
	size_t n = b->nnodes, i;
	bool *seen;

	t->dist = np__calloc(n * n, sizeof(*t->dist));
	seen = np__calloc(n * n, sizeof(*seen));
	if (!t->dist || !seen) {
		free(seen);
		return np__tb_fail(b, NP_ENOMEM, "out of memory");
	}
	t->dist_defaulted = b->ndists == 0;
	if (t->dist_defaulted)
		memcpy(t->dist_note, b->dist_note, sizeof(t->dist_note));
	for (i = 0; i < n * n; i++)
		t->dist[i] = i / n == i % n ? 10 : 20;
	for (i = 0; i < b->ndists; i++) {
		struct tb_dist *d = &b->dists[i];
		int from, to;

		if (!ref_node(b, d->from, false, "a distance", &from) ||
		    !ref_node(b, d->to, false, "a distance", &to))
			break;
		t->dist[(size_t)from * n + (size_t)to] = d->d;
		seen[(size_t)from * n + (size_t)to] = true;
	}
	for (i = 0; !b->err.code && b->ndists && i < n * n; i++)
		if (!seen[i])
			np__tb_fail(b, NP_EINPUT, "no distance from node %d to node %d",
				    t->nodes[i / n].os_id, t->nodes[i % n].os_id);
	free(seen);
	return b->err.code;
}

static int build_devices(np__tb *b, np_topo *t)
{
	size_t i;

	if (b->ndevs)
		qsort(b->devs, b->ndevs, sizeof(*b->devs), cmp_dev);
	t->ndevices = (int)b->ndevs;
	t->devices = np__calloc(b->ndevs, sizeof(*t->devices));
	if (!t->devices)
		return np__tb_fail(b, NP_ENOMEM, "out of memory");
	for (i = 0; i < b->ndevs; i++) {
		struct tb_dev *d = &b->devs[i];
		struct np_device *o = &t->devices[i];
		char what[40];

		if (i > 0 && strcmp(d->addr, b->devs[i - 1].addr) == 0)
			return np__tb_fail(b, NP_EINPUT, "device %s is listed twice", d->addr);
		snprintf(what, sizeof(what), "device %s", d->addr);
		if (!ref_node(b, d->node, true, what, &o->node_idx))
			return b->err.code;
		memcpy(o->address, d->addr, sizeof(o->address));
		o->vendor = d->vendor;
		o->device = d->device;
		o->class_code = d->cls;
	}
	return 0;
}

int np__tb_finish(np__tb *b, np_topo **out, struct np_error *err)
{
	np_topo *t = NULL;
	struct np_error cerr;
	int rc;

	if (!b)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (b->err.code)
		goto fail;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->source_name = strdup(b->name))) {
		np__tb_fail(b, NP_ENOMEM, "out of memory");
		goto fail;
	}
	t->kind = b->kind;
	if (build_nodes(b, t) || build_cpus(b, t) || build_pools(b, t) ||
	    build_distances(b, t) || build_devices(b, t))
		goto fail;
	if (np_topo_check(t, &cerr)) {
		np__tb_fail(b, cerr.code, "%s", cerr.message);
		goto fail;
	}
	*out = t;
	np__tb_free(b);
	return 0;
fail:
	rc = np__err(err, b->err.code, "cannot load '%s': %s", b->name, b->err.message);
	np_topo_free(t);
	np__tb_free(b);
	return rc;
}

void np_topo_free(np_topo *t)
{
	if (!t)
		return;
	free(t->source_name);
	free(t->nodes);
	free(t->node_cpus);
	free(t->pools);
	free(t->cpus);
	free(t->devices);
	free(t->dist);
	free(t);
}

enum np_source_kind np_topo_source_kind(const np_topo *t) { return t->kind; }
const char *np_topo_source_name(const np_topo *t) { return t->source_name; }
int np_topo_node_count(const np_topo *t) { return t->nnodes; }
int np_topo_cpu_count(const np_topo *t) { return t->ncpus; }
int np_topo_device_count(const np_topo *t) { return t->ndevices; }
bool np_topo_distances_defaulted(const np_topo *t) { return t->dist_defaulted; }
const char *np_topo_distances_note(const np_topo *t)
{
	return t->dist_note[0] ? t->dist_note : NULL;
}

const struct np_node *np_topo_node(const np_topo *t, int idx)
{
	return idx >= 0 && idx < t->nnodes ? &t->nodes[idx] : NULL;
}

const struct np_cpu *np_topo_cpu(const np_topo *t, int idx)
{
	return idx >= 0 && idx < t->ncpus ? &t->cpus[idx] : NULL;
}

const struct np_device *np_topo_device(const np_topo *t, int idx)
{
	return idx >= 0 && idx < t->ndevices ? &t->devices[idx] : NULL;
}

int np_topo_device_find(const np_topo *t, const char *address)
{
	int lo = 0, hi = t->ndevices;
	char norm[16];

	if (!address || !pci_normalise(address, norm))
		return -1;
	while (lo < hi) { /* devices are kept in increasing address (check.c) */
		int mid = lo + (hi - lo) / 2, c = strcmp(t->devices[mid].address, norm);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int np_topo_node_index(const np_topo *t, int os_id)
{
	int lo = 0, hi = t->nnodes;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (t->nodes[mid].os_id == os_id)
			return mid;
		if (t->nodes[mid].os_id < os_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int np_topo_cpu_index(const np_topo *t, int os_id)
{
	int lo = 0, hi = t->ncpus;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (t->cpus[mid].os_id == os_id)
			return mid;
		if (t->cpus[mid].os_id < os_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int np_topo_cpu_siblings(const np_topo *t, int cpu_idx, int *out, int max)
{
	const struct np_cpu *c = np_topo_cpu(t, cpu_idx);
	int n = 0;

	if (!c)
		return 0;
	for (int i = 0; i < t->ncpus; i++) {
		const struct np_cpu *o = &t->cpus[i];
		bool same = i == cpu_idx ||
			    (c->core >= 0 && c->socket >= 0 && o->core == c->core &&
			     o->socket == c->socket && o->node_idx == c->node_idx);

		if (!same)
			continue;
		if (n < max)
			out[n] = o->os_id;
		n++;
	}
	return n;
}

uint32_t np_topo_distance(const np_topo *t, int from, int to)
{
	if (from < 0 || to < 0 || from >= t->nnodes || to >= t->nnodes)
		return NP_DISTANCE_UNREACHABLE;
	return t->dist[(size_t)from * (size_t)t->nnodes + (size_t)to];
}

uint64_t np_topo_mem_total_kb(const np_topo *t)
{
	uint64_t s = 0;

	for (int i = 0; i < t->nnodes; i++)
		s += t->nodes[i].mem_total_kb;
	return s;
}

uint64_t np_topo_mem_free_kb(const np_topo *t)
{
	uint64_t s = 0;

	for (int i = 0; i < t->nnodes; i++)
		s += t->nodes[i].mem_free_kb;
	return s;
}

bool np_topo_mem_free_known(const np_topo *t)
{
	for (int i = 0; i < t->nnodes; i++)
		if (!t->nodes[i].mem_free_known)
			return false;
	return true;
}
