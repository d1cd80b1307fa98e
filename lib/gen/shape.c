/*
 * shape.c - the host a workload runs on: parsed from shape keys
 * ("nodes=8,sockets=2,dist=2level,huge2m=25") or read from a real
 * topology, then decorated (huge page pools, NICs, a shared/dedicated CPU
 * split) the way the request family needs.
 *
 * Generated hosts number CPUs node by node; with SMT the threads of a core
 * are `cores` apart inside the node, as Linux numbers them.  Distances:
 *   uniform  10 / 20            2level  10 / 16 same socket / 22 other
 *   snc      10 / 11 / 21       ring    10 + 6 x hops around a ring
 *   mesh     10 + 6 x hops on a near-square torus
 * (at most 254, a SLIT byte).  CXL nodes come after the CPU nodes, socket
 * k mod sockets: 20 from their socket's nodes, 30 from others', 40 from
 * each other.
 *
 * Invariant of a built host: every node's CPU lists are increasing, the
 * shared and dedicated lists split its CPUs (or both are empty), pool
 * totals fit the node's memory.
 */
#include <stdlib.h>
#include <string.h>

#include "gen/gen-int.h"

enum kind { K_INT, K_SIZE, K_DIST };

struct key {
	const char *name;
	enum kind kind;
	long min, max;
	size_t off;
	bool host; /* decided by a real topology */
};

#define OFF(f) offsetof(struct np__gen_shape, f)

static const struct key keys[] = {
	{ "nodes", K_INT, 1, NP__GEN_NODES_MAX, OFF(nodes), true },
	{ "cpus", K_INT, 1, NP__GEN_CPUS_MAX, OFF(cpus), true },
	{ "smt", K_INT, 1, 4, OFF(smt), true },
	{ "mem", K_SIZE, 256, 1L << 30, OFF(mem_mb), true },
	{ "sockets", K_INT, 1, NP__GEN_NODES_MAX, OFF(sockets), true },
	{ "dist", K_DIST, 0, 0, OFF(dist), true },
	{ "cxl", K_INT, 0, NP__GEN_CXL_MAX, OFF(cxl), true },
	{ "cxl_mem", K_SIZE, 256, 1L << 30, OFF(cxl_mem_mb), true },
	{ "huge2m", K_INT, 0, 90, OFF(huge2m), false },
	{ "huge1g", K_INT, 0, 90, OFF(huge1g), false },
	{ "nics", K_INT, 0, 64, OFF(nics), false },
	{ "nic_every", K_INT, 1, NP__GEN_NODES_MAX, OFF(nic_every), false },
	{ "shared", K_INT, 0, 100, OFF(shared), false },
};

static const char *const dist_names[] = { "uniform", "2level", "snc", "ring", "mesh" };

unsigned np__gen_shape_host_keys(void)
{
	unsigned bits = 0;

	for (size_t k = 0; k < NP__ARRAY_SIZE(keys); k++)
		bits |= keys[k].host ? 1u << k : 0;
	return bits;
}

/* "64G", "512M", "1T" or plain MiB. */
static bool parse_size(const char *v, long min, long max, uint64_t *out)
{
	char num[32];
	size_t len = strlen(v);
	uint64_t mult = 1;
	long x;

	if (len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, v, len + 1);
	switch (num[len - 1]) {
	case 'M': num[len - 1] = 0; break;
	case 'G': mult = 1024; num[len - 1] = 0; break;
	case 'T': mult = 1024 * 1024; num[len - 1] = 0; break;
	default: break;
	}
	if (!np__parse_int(num, 1, max, &x) || (uint64_t)x * mult > (uint64_t)max ||
	    (uint64_t)x * mult < (uint64_t)min)
		return false;
	*out = (uint64_t)x * mult;
	return true;
}

static int set_key(struct np__gen_shape *sh, const struct key *k, const char *v,
		   struct np_error *err)
{
	char *field = (char *)sh + k->off;
	long x;

	if (k->kind == K_DIST) {
		for (size_t i = 0; i < NP__ARRAY_SIZE(dist_names); i++)
			if (strcmp(v, dist_names[i]) == 0) {
				*(enum np__gen_dist *)(void *)field = (enum np__gen_dist)i;
				return 0;
			}
		return np__err(err, NP_EINPUT, "shape: dist '%s' is none of uniform, 2level, snc, "
			       "ring, mesh", v);
	}
	if (k->kind == K_SIZE) {
		if (!parse_size(v, k->min, k->max, (uint64_t *)(void *)field))
			return np__err(err, NP_EINPUT, "shape: %s wants a size from %ld MiB to "
				       "1024T (e.g. 64G), not '%s'", k->name, k->min, v);
		return 0;
	}
	if (!np__parse_int(v, k->min, k->max, &x))
		return np__err(err, NP_EINPUT, "shape: %s wants a number from %ld to %ld, not '%s'",
			       k->name, k->min, k->max, v);
	*(int *)(void *)field = (int)x;
	return 0;
}

static int one_key(struct np__gen_shape *sh, const char *item, size_t len, struct np_error *err)
{
	char buf[128];
	char *eq;

	if (len >= sizeof(buf))
		return np__err(err, NP_EINPUT, "shape: '%.40s...' is too long", item);
	memcpy(buf, item, len);
	buf[len] = 0;
	eq = strchr(buf, '=');
	if (!eq)
		return np__err(err, NP_EINPUT, "shape: '%s' is not KEY=VALUE", buf);
	*eq = 0;
	for (size_t k = 0; k < NP__ARRAY_SIZE(keys); k++) {
		if (strcmp(buf, keys[k].name) != 0)
			continue;
		sh->given |= 1u << k;
		return set_key(sh, &keys[k], eq + 1, err);
	}
	return np__err(err, NP_EINPUT, "shape: unknown key '%s' (nodes, cpus, smt, mem, sockets, "
		       "dist, cxl, cxl_mem, huge2m, huge1g, nics, nic_every, shared)", buf);
}

static int check_shape(const struct np__gen_shape *sh, struct np_error *err)
{
	if (sh->cpus % sh->smt)
		return np__err(err, NP_EINPUT, "shape: cpus=%d is not a multiple of smt=%d",
			       sh->cpus, sh->smt);
	if (sh->nodes % sh->sockets)
		return np__err(err, NP_EINPUT, "shape: nodes=%d is not a multiple of sockets=%d",
			       sh->nodes, sh->sockets);
	if (sh->huge2m + sh->huge1g > 90)
		return np__err(err, NP_EINPUT, "shape: huge2m + huge1g is %d %%, at most 90",
			       sh->huge2m + sh->huge1g);
	return 0;
}

int np__gen_shape_parse(struct np__gen_shape *sh, const char *text, struct np_error *err)
{
	const char *p = text;
	int rc;

	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (len && (rc = one_key(sh, p, len, err)))
			return rc;
		p += len + (p[len] == ',');
	}
	return check_shape(sh, err);
}

void np__gen_shape_format(const struct np__gen_shape *sh, bool host, char *buf, size_t size)
{
	if (!host) {
		snprintf(buf, size, "huge2m=%d,huge1g=%d,nics=%d,nic_every=%d,shared=%d", sh->huge2m,
			 sh->huge1g, sh->nics, sh->nic_every, sh->shared);
		return;
	}
	snprintf(buf, size,
		 "nodes=%d,cpus=%d,smt=%d,mem=%llu,sockets=%d,dist=%s,cxl=%d,cxl_mem=%llu,"
		 "huge2m=%d,huge1g=%d,nics=%d,nic_every=%d,shared=%d",
		 sh->nodes, sh->cpus, sh->smt, (unsigned long long)sh->mem_mb, sh->sockets,
		 dist_names[sh->dist], sh->cxl,
		 (unsigned long long)(sh->cxl_mem_mb ? sh->cxl_mem_mb : sh->mem_mb), sh->huge2m,
		 sh->huge1g, sh->nics, sh->nic_every, sh->shared);
}

/* ---- distances ----------------------------------------------------------- */

static uint32_t cap(long d)
{
	return (uint32_t)(d > NP__GEN_DIST_MAX ? NP__GEN_DIST_MAX : d);
}

static long ring_hops(int a, int b, int n)
{
	int d = abs(a - b);

	return d < n - d ? d : n - d;
}

static uint32_t cpu_distance(const struct np__gen_shape *sh, int a, int b)
{
	int per = sh->nodes / sh->sockets, w = 1;
	bool same = a / per == b / per;

	if (a == b)
		return 10;
	switch (sh->dist) {
	case NP__DIST_2LEVEL: return same ? 16 : 22;
	case NP__DIST_SNC: return same ? 11 : 21;
	case NP__DIST_RING: return cap(10 + 6 * ring_hops(a, b, sh->nodes));
	case NP__DIST_MESH:
		for (int i = 1; i * i <= sh->nodes; i++)
			w = sh->nodes % i ? w : i;
		return cap(10 + 6 * (ring_hops(a % w, b % w, w) +
				     ring_hops(a / w, b / w, sh->nodes / w)));
	default: return 20;
	}
}

static uint32_t distance(const struct np__gen_shape *sh, int a, int b)
{
	int per = sh->nodes / sh->sockets;
	int sa = a < sh->nodes ? a / per : (a - sh->nodes) % sh->sockets;
	int sb = b < sh->nodes ? b / per : (b - sh->nodes) % sh->sockets;

	if (a < sh->nodes && b < sh->nodes)
		return cpu_distance(sh, a, b);
	if (a == b)
		return 10;
	if (a >= sh->nodes && b >= sh->nodes)
		return 40;
	return sa == sb ? 20 : 30;
}

/* ---- nodes ----------------------------------------------------------------- */

static int node_alloc(struct np__gen_node *nd, int ncpus)
{
	nd->ncpus = ncpus;
	nd->cpus = np__calloc((size_t)ncpus + 1, sizeof(int));
	nd->core = np__calloc((size_t)ncpus + 1, sizeof(int));
	nd->shared = np__calloc((size_t)ncpus + 1, sizeof(int));
	nd->dedicated = np__calloc((size_t)ncpus + 1, sizeof(int));
	return nd->cpus && nd->core && nd->shared && nd->dedicated ? 0 : -1;
}

static int generated_nodes(const struct np__gen_shape *sh, struct np__gen_host *h)
{
	int cores = sh->cpus / sh->smt, per = sh->nodes / sh->sockets;

	for (int i = 0; i < h->n; i++) {
		struct np__gen_node *nd = &h->nodes[i];
		bool cxl = i >= sh->nodes;

		nd->id = i;
		nd->socket = cxl ? (i - sh->nodes) % sh->sockets : i / per;
		nd->mem_mb = cxl && sh->cxl_mem_mb ? sh->cxl_mem_mb : sh->mem_mb;
		if (node_alloc(nd, cxl ? 0 : sh->cpus))
			return -1;
		for (int c = 0; !cxl && c < sh->cpus; c++) {
			nd->cpus[c] = i * sh->cpus + c;
			nd->core[c] = i * sh->cpus + c % cores;
		}
	}
	for (int a = 0; a < h->n; a++)
		for (int b = 0; b < h->n; b++)
			h->dist[a * h->n + b] = distance(sh, a, b);
	return 0;
}

static int topo_node(const np_topo *t, int j, struct np__gen_node *nd)
{
	const struct np_node *tn = np_topo_node(t, j);
	int sib[64], n = 0;

	nd->id = tn->os_id;
	nd->mem_mb = tn->mem_total_kb / 1024;
	nd->socket = -1;
	if (node_alloc(nd, tn->ncpus))
		return -1;
	for (int c = 0; c < tn->ncpus; c++) {
		int idx = np_topo_cpu_index(t, tn->cpus[c]);
		const struct np_cpu *cpu = np_topo_cpu(t, idx);
		int ns = np_topo_cpu_siblings(t, idx, sib, 64), low = cpu->os_id;

		if (!cpu->online)
			continue;
		for (int s = 0; s < ns && s < 64; s++)
			low = sib[s] < low ? sib[s] : low;
		nd->socket = nd->socket < 0 ? cpu->socket : nd->socket;
		nd->cpus[n] = cpu->os_id;
		nd->core[n++] = low;
	}
	nd->ncpus = n;
	/* huge pools at 1..npools; finish_pools() puts the 4 KiB pool at 0 */
	for (int p = 0; p < tn->npools && nd->npools < NP__GEN_POOLS_MAX - 1; p++) {
		const struct np_hugepages *hp = &tn->pools[p];

		if (hp->size_kb <= 4)
			continue;
		nd->pools[++nd->npools] = (struct np__gen_pool){ hp->size_kb, hp->total,
								 hp->total - hp->free };
	}
	return 0;
}

static int topo_nodes(const np_topo *t, struct np__gen_host *h)
{
	for (int j = 0; j < h->n; j++)
		if (topo_node(t, j, &h->nodes[j]))
			return -1;
	if (np_topo_distances_defaulted(t)) {
		free(h->dist);
		h->dist = NULL;
		return 0;
	}
	for (int a = 0; a < h->n; a++)
		for (int b = 0; b < h->n; b++)
			h->dist[a * h->n + b] = np_topo_distance(t, a, b);
	return 0;
}

/* ---- decorations ----------------------------------------------------------- */

/* Replace (or add) the pool of SIZE_KB holding PCT % of the node's memory. */
static void set_pool(struct np__gen_node *nd, uint64_t size_kb, int pct)
{
	uint64_t pages = nd->mem_mb * 1024 / size_kb * (uint64_t)pct / 100;
	int p = 1;

	while (p <= nd->npools && nd->pools[p].size_kb != size_kb)
		p++;
	if (p > nd->npools) {
		if (!pct || p >= NP__GEN_POOLS_MAX)
			return;
		nd->npools = p;
	}
	nd->pools[p] = (struct np__gen_pool){ size_kb, pages, 0 };
}

/* Pools in increasing size; pool 0 the 4 KiB pages not in huge pages. */
static void finish_pools(struct np__gen_node *nd)
{
	uint64_t huge_kb = 0;

	for (int a = 1; a <= nd->npools; a++)
		for (int b = a + 1; b <= nd->npools; b++)
			if (nd->pools[b].size_kb < nd->pools[a].size_kb) {
				struct np__gen_pool t = nd->pools[a];

				nd->pools[a] = nd->pools[b];
				nd->pools[b] = t;
			}
	for (int p = 1; p <= nd->npools; p++)
		huge_kb += nd->pools[p].size_kb * nd->pools[p].total;
	if (nd->npools) {
		nd->npools++;
		nd->pools[0] = (struct np__gen_pool){ 4, (nd->mem_mb * 1024 - huge_kb) / 4, 0 };
	}
}

/* The first PCT % of the node's cores (in CPU order) for floating vCPUs. */
static void split_cpus(struct np__gen_node *nd, int pct)
{
	int cores = 0, want;

	nd->nshared = nd->ndedicated = 0;
	if (!pct || !nd->ncpus)
		return;
	for (int c = 0; c < nd->ncpus; c++)
		cores += nd->core[c] == nd->cpus[c];
	want = (cores * pct + 50) / 100;
	for (int c = 0; c < nd->ncpus; c++) {
		int rank = 0;

		for (int d = 0; d < nd->ncpus; d++)
			rank += nd->core[d] == nd->cpus[d] && nd->cpus[d] < nd->core[c];
		if (rank < want)
			nd->shared[nd->nshared++] = nd->cpus[c];
		else
			nd->dedicated[nd->ndedicated++] = nd->cpus[c];
	}
}

static void decorate(const struct np__gen_shape *sh, struct np__gen_host *h)
{
	for (int i = 0, cpu_node = 0; i < h->n; i++) {
		struct np__gen_node *nd = &h->nodes[i];

		set_pool(nd, 2048, sh->huge2m);
		set_pool(nd, 1048576, sh->huge1g);
		finish_pools(nd);
		split_cpus(nd, sh->shared);
		if (nd->ncpus && cpu_node++ % sh->nic_every == 0)
			nd->nics = sh->nics;
	}
}

int np__gen_host_build(const struct np__gen_shape *sh, const np_topo *topo,
		       struct np__gen_host *h, struct np_error *err)
{
	int rc;

	memset(h, 0, sizeof(*h));
	h->n = topo ? np_topo_node_count(topo) : sh->nodes + sh->cxl;
	h->nodes = np__calloc((size_t)h->n, sizeof(*h->nodes));
	h->dist = np__calloc((size_t)h->n * (size_t)h->n, sizeof(*h->dist));
	if (!h->nodes || !h->dist)
		goto nomem;
	rc = topo ? topo_nodes(topo, h) : generated_nodes(sh, h);
	if (rc)
		goto nomem;
	decorate(sh, h);
	np__gen_shape_format(sh, !topo, h->shape, sizeof(h->shape));
	return 0;
nomem:
	np__gen_host_free(h);
	return np__err(err, NP_ENOMEM, "out of memory");
}

void np__gen_host_free(struct np__gen_host *h)
{
	for (int i = 0; h->nodes && i < h->n; i++) {
		free(h->nodes[i].cpus);
		free(h->nodes[i].core);
		free(h->nodes[i].shared);
		free(h->nodes[i].dedicated);
	}
	free(h->nodes);
	free(h->dist);
	memset(h, 0, sizeof(*h));
}

/* ---- capacity ---------------------------------------------------------------- */

int np__gen_node_pcpus(const struct np__gen_node *nd)
{
	return nd->nshared || nd->ndedicated ? nd->ndedicated : nd->ncpus;
}

int np__gen_node_vcpus(const struct np__gen_node *nd)
{
	return nd->nshared || nd->ndedicated ? nd->nshared : nd->ncpus;
}

uint64_t np__gen_node_pages(const struct np__gen_node *nd, uint64_t size_kb)
{
	for (int p = 0; p < nd->npools; p++)
		if (nd->pools[p].size_kb == size_kb)
			return nd->pools[p].total - nd->pools[p].reserved;
	return 0;
}

void np__gen_host_capacity(const struct np__gen_host *h, double cpu_ratio,
			   int64_t cap_out[NP__RES_COUNT])
{
	memset(cap_out, 0, NP__RES_COUNT * sizeof(*cap_out));
	for (int i = 0; i < h->n; i++) {
		const struct np__gen_node *nd = &h->nodes[i];

		cap_out[NP__RES_PCPU] += np__gen_node_pcpus(nd);
		/* Nova: cpu_usage + vCPUs <= shared CPUs x ratio, per node */
		cap_out[NP__RES_VCPU] += (int64_t)((double)np__gen_node_vcpus(nd) * cpu_ratio);
		cap_out[NP__RES_MEM] += (int64_t)nd->mem_mb;
		cap_out[NP__RES_PAGE2M] += (int64_t)np__gen_node_pages(nd, 2048);
		cap_out[NP__RES_PAGE1G] += (int64_t)np__gen_node_pages(nd, 1048576);
		cap_out[NP__RES_NIC] += nd->nics;
	}
}
