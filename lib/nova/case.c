/*
 * case.c - read a Nova case (shared/nova/CASE_FORMAT.md) into numaplace's
 * objects: a topology built with the np__tb builder, an np_host carrying
 * the case's configuration and usage, and one np_request per request.
 *
 * Design: jansson parses the document; the host is read in two passes over
 * the same tree: first the facts of the topology (nodes, CPUs with SMT
 * cores from `siblings`, sockets, memory, distances) go to the builder,
 * then, once the topology exists, the host layer (shared/dedicated CPUs,
 * page pools, PCI pools, limits, usage) is set through the public np_host
 * calls, which check it.  Requests go through np_request_from_nova() with
 * their values turned into strings the way Nova stores extra specs
 * (Python's str(): 2 -> "2", 2.0 -> "2.0", true -> "True").
 *
 * What Nova tolerates but numaplace cannot hold is mapped, not refused,
 * when the answer cannot change: page counts used beyond a pool's total
 * (Nova sees a negative free count, numaplace none free) are clamped.  A
 * case Nova itself could not run (missing cell id, a CPU in two cells,
 * wrong types) is bad input naming the JSON path.
 *
 * An invalid request is not a parse error: its np_error is kept and handed
 * out by np_nova_case_request(), as Nova answers it with an exception.
 *
 * Ownership: the case owns its topology, host and requests; the json_t
 * tree lives only during np_nova_case_parse().
 */
#include <numaplace/nova.h>

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topo-int.h"
#include "util/json-util.h"
#include "util/util.h"

#define ID_MAX    NP_ID_MAX
#define MIB_MAX   ((int64_t)NP_MEMORY_MB_MAX)
#define COUNT_MAX (INT64_C(1) << 50)
#define CELLS_MAX NP_NODES_MAX
#define REQS_MAX  100000
#define CASE_MAX  NP_FILE_MAX
#define PATH_LEN  96
/* Nova's defaults when only one ratio is given (initial_*_allocation_ratio). */
#define DEFAULT_CPU_RATIO 16.0
#define DEFAULT_RAM_RATIO 1.5

struct case_req {
	np_request *req;      /* NULL: invalid, see err */
	struct np_error err;
};

struct np_nova_case {
	bool has_host;
	np_topo *topo;        /* NULL without a host or with "cells": [] */
	np_host *host;
	bool packing, sequence, show_usage;
	int nreq;
	struct case_req *reqs;
};

/* One parse: where errors go and the aliases every request shares. */
struct rd {
	const char *name;
	struct np_error *err;
	np__tb *b;            /* while the topology is being built: errors go there */
	struct np_pci_alias *aliases;
	size_t naliases;
	struct np_error alias_err; /* code != 0: the [pci] alias table is invalid */
};

static int fail(struct rd *r, int code, const char *fmt, ...) NP__PRINTF(3, 4);

static int fail(struct rd *r, int code, const char *fmt, ...)
{
	struct np_error e;
	va_list ap;

	va_start(ap, fmt);
	np__verr(&e, code, fmt, ap);
	va_end(ap);
	if (r->b)
		return np__tb_fail(r->b, code, "%s", e.message);
	return np__err(r->err, code, "cannot load '%s': %s", r->name, e.message);
}

static int bad(struct rd *r, const char *path, const char *what, const json_t *v)
{
	char found[40];

	if (!v)
		return fail(r, NP_EINPUT, "%s: missing (expected %s)", path, what);
	np__json_describe(v, found, sizeof(found));
	return fail(r, NP_EINPUT, "%s: expected %s, not %s", path, what, found);
}

/* An integer (or an integral real, as Python's int() takes it) in [MIN, MAX]. */
static int int_at(struct rd *r, const json_t *v, const char *path, int64_t min, int64_t max,
		  int64_t *out)
{
	char what[80];
	double d;

	snprintf(what, sizeof(what), "an integer from %" PRId64 " to %" PRId64, min, max);
	if (v && json_is_integer(v) && json_integer_value(v) >= min &&
	    json_integer_value(v) <= max) {
		*out = json_integer_value(v);
		return 0;
	}
	d = v && json_is_real(v) ? json_real_value(v) : NAN;
	if (d == floor(d) && d >= (double)min && d <= (double)max) {
		*out = (int64_t)d;
		return 0;
	}
	return bad(r, path, what, v);
}

/* OBJ[KEY] under BASE; absent: an error when REQUIRED, else *OUT kept. */
static int int_key(struct rd *r, const json_t *obj, const char *base, const char *key,
		   int64_t min, int64_t max, bool required, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	char path[PATH_LEN + 32];

	if (!required && (!v || json_is_null(v)))
		return 0;
	snprintf(path, sizeof(path), "%s%s%s", base, *base ? "." : "", key);
	return int_at(r, v, path, min, max, out);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Sort and drop duplicates (Nova keeps CPU lists as sets); the new count. */
static int uniq(int *ids, int n)
{
	int k = 0;

	qsort(ids, (size_t)n, sizeof(*ids), cmp_int);
	for (int i = 0; i < n; i++)
		if (k == 0 || ids[k - 1] != ids[i])
			ids[k++] = ids[i];
	return k;
}

/* An array of CPU ids at PATH (absent: empty) into a sorted set. */
static int ids_at(struct rd *r, const json_t *v, const char *path, int **out, int *n)
{
	char item[PATH_LEN + 32];
	int64_t x;
	size_t i;
	int *ids;

	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bad(r, path, "an array of CPU ids", v);
	ids = np__calloc(json_array_size(v) + 1, sizeof(*ids));
	if (!ids)
		return fail(r, NP_ENOMEM, "out of memory");
	for (i = 0; i < json_array_size(v); i++) {
		snprintf(item, sizeof(item), "%s[%zu]", path, i);
		if (int_at(r, json_array_get(v, i), item, 0, ID_MAX, &x)) {
			free(ids);
			return NP_EINPUT;
		}
		ids[i] = (int)x;
	}
	*out = ids;
	*n = uniq(ids, (int)i);
	return 0;
}

/* Python's truth of an optional flag: absent, null, false, 0 are false. */
static bool truthy(const json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return false;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	if (json_is_real(v))
		return json_real_value(v) != 0.0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_object(v))
		return json_object_size(v) > 0;
	return true;
}

/* ---- the topology -------------------------------------------------- */

/* A cell's CPUs: "cpus" (legacy host), or shared_cpus + dedicated_cpus. */
struct cell_cpus {
	int *shared, nshared;
	int *dedicated, ndedicated;
	int *all, nall;       /* the union */
};

static void cell_cpus_free(struct cell_cpus *c)
{
	free(c->shared);
	free(c->dedicated);
	free(c->all);
	memset(c, 0, sizeof(*c));
}

static int read_cell_cpus(struct rd *r, const json_t *cell, const char *base,
			  struct cell_cpus *c)
{
	char path[PATH_LEN + 32];
	const json_t *cpus = json_object_get(cell, "cpus");
	int rc;

	memset(c, 0, sizeof(*c));
	if (cpus && !json_is_null(cpus)) {
		snprintf(path, sizeof(path), "%s.cpus", base);
		if ((rc = ids_at(r, cpus, path, &c->shared, &c->nshared)) ||
		    (rc = ids_at(r, cpus, path, &c->dedicated, &c->ndedicated)))
			return rc;
	} else {
		snprintf(path, sizeof(path), "%s.shared_cpus", base);
		if ((rc = ids_at(r, json_object_get(cell, "shared_cpus"), path, &c->shared,
				 &c->nshared)))
			return rc;
		snprintf(path, sizeof(path), "%s.dedicated_cpus", base);
		if ((rc = ids_at(r, json_object_get(cell, "dedicated_cpus"), path,
				 &c->dedicated, &c->ndedicated)))
			return rc;
	}
	c->all = np__calloc((size_t)(c->nshared + c->ndedicated) + 1, sizeof(*c->all));
	if (!c->all)
		return fail(r, NP_ENOMEM, "out of memory");
	if (c->nshared)
		memcpy(c->all, c->shared, (size_t)c->nshared * sizeof(int));
	if (c->ndedicated)
		memcpy(c->all + c->nshared, c->dedicated, (size_t)c->ndedicated * sizeof(int));
	c->nall = uniq(c->all, c->nshared + c->ndedicated);
	return 0;
}

/*
 * Core ids from the `siblings` groups: every group is one core (numbered
 * host-wide from *NEXT, so cores never collide across cells even without
 * sockets), every CPU in no group is a core of its own.  Group members the
 * cell does not have are ignored, as Nova's pinning ignores them.
 */
static int read_cores(struct rd *r, const json_t *cell, const char *base,
		      const struct cell_cpus *c, int *core, int *next)
{
	const json_t *sib = json_object_get(cell, "siblings");
	char path[PATH_LEN + 48];
	int *grp = NULL, ngrp, rc = 0;
	size_t g;

	for (int i = 0; i < c->nall; i++)
		core[i] = -1;
	snprintf(path, sizeof(path), "%s.siblings", base);
	if (sib && !json_is_null(sib) && !json_is_array(sib))
		return bad(r, path, "an array of CPU id arrays", sib);
	for (g = 0; sib && json_is_array(sib) && g < json_array_size(sib) && !rc; g++) {
		snprintf(path, sizeof(path), "%s.siblings[%zu]", base, g);
		if ((rc = ids_at(r, json_array_get(sib, g), path, &grp, &ngrp)))
			break;
		for (int k = 0; k < ngrp && !rc; k++) {
			int *at = bsearch(&grp[k], c->all, (size_t)c->nall, sizeof(int), cmp_int);

			if (at && core[at - c->all] >= 0)
				rc = fail(r, NP_EINPUT, "%s: CPU %d is also in an earlier group",
					  path, grp[k]);
			else if (at)
				core[at - c->all] = *next;
		}
		(*next)++;
		free(grp);
		grp = NULL;
	}
	for (int i = 0; i < c->nall && !rc; i++)
		if (core[i] < 0)
			core[i] = (*next)++;
	return rc;
}

/* Feed cell I (at BASE) to the builder: node, memory, CPUs. */
static int feed_cell(struct rd *r, const json_t *cell, const char *base, int *next_core)
{
	struct cell_cpus c;
	int64_t id = 0, mem = 0, socket = -1;
	int *core = NULL, rc;

	if (!json_is_object(cell))
		return bad(r, base, "an object (a host cell)", cell);
	if ((rc = int_key(r, cell, base, "id", 0, ID_MAX, true, &id)) ||
	    (rc = int_key(r, cell, base, "memory_mb", 0, MIB_MAX, true, &mem)) ||
	    (rc = int_key(r, cell, base, "socket", 0, ID_MAX, false, &socket)))
		return rc;
	if ((rc = read_cell_cpus(r, cell, base, &c)))
		goto out;
	core = np__calloc((size_t)c.nall + 1, sizeof(*core));
	if (!core) {
		rc = fail(r, NP_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = read_cores(r, cell, base, &c, core, next_core)))
		goto out;
	np__tb_node(r->b, (int)id, (uint64_t)mem * 1024);
	for (int i = 0; i < c.nall; i++)
		np__tb_cpu(r->b, c.all[i], (int)id, core[i], (int)socket, true);
out:
	free(core);
	cell_cpus_free(&c);
	return rc;
}

/*
 * host.distances[I][J] as a distance, or 0 when it is not an integer
 * 1-254 (an integral real is taken, as elsewhere in the case).
 */
static uint32_t distance_at(const json_t *d, size_t i, size_t j)
{
	const json_t *v = json_array_get(json_array_get(d, i), j);
	double x = v && json_is_real(v) ? json_real_value(v) : NAN;

	if (v && json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 254)
		return (uint32_t)json_integer_value(v);
	return x == floor(x) && x >= 1 && x <= 254 ? (uint32_t)x : 0;
}

/*
 * Why host.distances (D, N cells) cannot be the host's matrix, or NULL
 * when it can: N rows of N distances 1-254, each cell nearest itself.
 */
static const char *unusable(const json_t *d, size_t n, char *why, size_t size)
{
	if (!json_is_array(d) || json_array_size(d) != n) {
		snprintf(why, size, "host.distances has %zu rows for %zu cells",
			 json_is_array(d) ? json_array_size(d) : (size_t)0, n);
		return why;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *row = json_array_get(d, i);

		if (!json_is_array(row) || json_array_size(row) != n) {
			snprintf(why, size, "host.distances[%zu] is not a row of %zu distances", i, n);
			return why;
		}
		for (size_t j = 0; j < n; j++)
			if (!distance_at(d, i, j) || distance_at(d, i, j) < distance_at(d, i, i)) {
				snprintf(why, size, "host.distances[%zu][%zu] is not a distance 1-254 "
					 "at least the cell's own", i, j);
				return why;
			}
	}
	return NULL;
}

/*
 * host.distances: Nova never reads it (CASE_FORMAT.md: "accepted and
 * ignored"), so whatever it holds is no reason to refuse a case Nova runs.
 * An n x n matrix in cell order becomes the host's distances, which only
 * choose among the answers Nova's rules allow; anything else is left out,
 * and the topology's note says why (numaplace topology would show it).
 */
static void feed_distances(struct rd *r, const json_t *host, const json_t *cells)
{
	const json_t *d = json_object_get(host, "distances");
	size_t n = json_array_size(cells);
	int64_t from, to;
	char why[NP__DIST_NOTE];

	if (!d || json_is_null(d)) {
		np__tb_distances_note(r->b, "the case gives no host.distances");
		return;
	}
	if (unusable(d, n, why, sizeof(why))) {
		np__tb_distances_note(r->b, "%s, so it is ignored as Nova ignores it", why);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int_key(r, json_array_get(cells, i), "", "id", 0, ID_MAX, true, &from);
		for (size_t j = 0; j < n; j++) {
			int_key(r, json_array_get(cells, j), "", "id", 0, ID_MAX, true, &to);
			np__tb_distance(r->b, (int)from, (int)to, distance_at(d, i, j));
		}
	}
}

static int read_topology(struct rd *r, const json_t *host, const json_t *cells, np_topo **out)
{
	char base[PATH_LEN];
	int next_core = 0, rc = 0;

	r->b = np__tb_new(NP_SOURCE_JSON, r->name);
	if (!r->b)
		return np__err(r->err, NP_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(cells) && !rc; i++) {
		snprintf(base, sizeof(base), "host.cells[%zu]", i);
		rc = feed_cell(r, json_array_get(cells, i), base, &next_core);
	}
	if (!rc)
		feed_distances(r, host, cells);
	rc = np__tb_finish(r->b, out, r->err);
	r->b = NULL;
	return rc;
}

/* ---- the host layer -------------------------------------------------- */

/* A failing np_host call: prefix its message with the cell's path. */
static int host_fail(struct rd *r, const char *base, const struct np_error *e)
{
	return fail(r, e->code, "%s: %s", base, e->message);
}

static int cmp_pool(const void *a, const void *b)
{
	const struct np_page_pool *x = a, *y = b;

	return (x->size_kb > y->size_kb) - (x->size_kb < y->size_kb);
}

/* Sort pools by size (USED follows), refusing a size listed twice. */
static int sort_pools(struct rd *r, const char *base, struct np_page_pool *pools,
		      uint64_t *used, int n)
{
	for (int i = 0; i < n; i++)
		pools[i].used = used[i]; /* carried through the sort */
	qsort(pools, (size_t)n, sizeof(*pools), cmp_pool);
	for (int i = 0; i < n; i++) {
		used[i] = pools[i].used;
		pools[i].used = 0;
		if (i > 0 && pools[i].size_kb == pools[i - 1].size_kb)
			return fail(r, NP_EINPUT, "%s.mempages: %" PRIu64 " KiB pages listed twice",
				    base, pools[i].size_kb);
	}
	return 0;
}

/* Page pools of a cell: "mempages", or Nova's default 4 KiB pool. */
static int read_pools(struct rd *r, const json_t *cell, const char *base, int64_t mem,
		      int64_t mem_used, struct np_page_pool *pools, uint64_t *used, int *n)
{
	const json_t *mp = json_object_get(cell, "mempages");
	char path[PATH_LEN + 32];
	int64_t size, total, u, res;

	if (!mp) {
		pools[0] = (struct np_page_pool){ 4, (uint64_t)mem * 256, 0, 0 };
		used[0] = (uint64_t)(mem_used < mem ? mem_used : mem) * 256;
		*n = 1;
		return 0;
	}
	snprintf(path, sizeof(path), "%s.mempages", base);
	if (!json_is_array(mp) || json_array_size(mp) > 16)
		return bad(r, path, "an array of at most 16 page pools", mp);
	for (size_t i = 0; i < json_array_size(mp); i++) {
		const json_t *p = json_array_get(mp, i);

		snprintf(path, sizeof(path), "%s.mempages[%zu]", base, i);
		size = total = u = res = 0;
		if (!json_is_object(p))
			return bad(r, path, "an object (a page pool)", p);
		if (int_key(r, p, path, "size_kb", 1, INT64_C(1) << 30, true, &size) ||
		    int_key(r, p, path, "total", 0, COUNT_MAX, true, &total) ||
		    int_key(r, p, path, "used", 0, COUNT_MAX, false, &u) ||
		    int_key(r, p, path, "reserved", 0, COUNT_MAX, false, &res))
			return NP_EINPUT;
		if (total > COUNT_MAX / size)
			return fail(r, NP_EINPUT, "%s: %" PRId64 " pages of %" PRId64
				    " KiB is more than 2^50 KiB", path, total, size);
		res = res < total ? res : total;
		/* Nova lets used + reserved exceed total (free < 0): none free. */
		u = u < total - res ? u : total - res;
		pools[i] = (struct np_page_pool){ (uint64_t)size, (uint64_t)total, 0,
						  (uint64_t)res };
		used[i] = (uint64_t)u;
	}
	*n = (int)json_array_size(mp);
	return sort_pools(r, base, pools, used, *n);
}

/* Everything but PCI of cell I: CPU roles, page pools, usage. */
static int setup_cell(struct rd *r, np_host *host, const np_topo *topo, const json_t *cell,
		      const char *base)
{
	struct np_page_pool pools[16];
	uint64_t used[16];
	struct cell_cpus c = { 0 };
	struct np_error e = { 0 };
	int64_t id = 0, mem = 0, cpu_usage = 0, mem_used = 0;
	int *pinned = NULL, npinned = 0, npools = 0, idx, rc;
	char path[PATH_LEN + 32];

	int_key(r, cell, base, "id", 0, ID_MAX, true, &id);
	int_key(r, cell, base, "memory_mb", 0, MIB_MAX, true, &mem);
	idx = np_topo_node_index(topo, (int)id);
	snprintf(path, sizeof(path), "%s.pinned_cpus", base);
	if ((rc = int_key(r, cell, base, "cpu_usage", 0, INT32_MAX, false, &cpu_usage)) ||
	    (rc = int_key(r, cell, base, "memory_usage_mb", 0, MIB_MAX, false, &mem_used)) ||
	    (rc = ids_at(r, json_object_get(cell, "pinned_cpus"), path, &pinned, &npinned)) ||
	    (rc = read_cell_cpus(r, cell, base, &c)) ||
	    (rc = read_pools(r, cell, base, mem, mem_used, pools, used, &npools)))
		goto out;
	if (np_host_set_cpus(host, idx, c.shared, c.nshared, c.dedicated, c.ndedicated, &e) ||
	    np_host_set_pools(host, idx, pools, npools, &e) ||
	    np_host_add_usage(host, idx, (unsigned)cpu_usage, (uint64_t)mem_used, pinned,
			      npinned, &e)) {
		rc = host_fail(r, base, &e);
		goto out;
	}
	for (int i = 0; i < npools && !rc; i++)
		if (used[i] && np_host_add_pages_used(host, idx, pools[i].size_kb, used[i], &e))
			rc = host_fail(r, base, &e);
out:
	free(pinned);
	cell_cpus_free(&c);
	return rc;
}

static int read_pci_list(struct rd *r, const json_t *list, const char *path, int node_idx,
			 struct np_pci_pool **pools, size_t *n, size_t *cap)
{
	char item[PATH_LEN + 48], key[PATH_LEN + 64];
	int64_t count;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return bad(r, path, "an array of PCI pools", list);
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *p = json_array_get(list, i);
		struct np_pci_pool pool = { node_idx, 0, 0, 0, 0 };

		snprintf(item, sizeof(item), "%s[%zu]", path, i);
		if (!json_is_object(p))
			return bad(r, item, "an object (a PCI pool)", p);
		snprintf(key, sizeof(key), "%s.vendor_id", item);
		if (!np__json_pci_id(json_object_get(p, "vendor_id"), &pool.vendor))
			return bad(r, key, "a PCI vendor id of 4 hex digits", json_object_get(p, "vendor_id"));
		snprintf(key, sizeof(key), "%s.product_id", item);
		if (!np__json_pci_id(json_object_get(p, "product_id"), &pool.product))
			return bad(r, key, "a PCI product id of 4 hex digits", json_object_get(p, "product_id"));
		if (int_key(r, p, item, "count", 0, INT32_MAX, true, &count))
			return NP_EINPUT;
		pool.count = (int)count;
		if (np__grow((void **)pools, cap, *n + 1, sizeof(**pools)) < 0)
			return fail(r, NP_ENOMEM, "out of memory");
		(*pools)[(*n)++] = pool;
	}
	return 0;
}

static int setup_pci(struct rd *r, np_host *host, const np_topo *topo, const json_t *hostj,
		     const json_t *cells)
{
	struct np_pci_pool *pools = NULL;
	struct np_error e = { 0 };
	size_t n = 0, cap = 0;
	char path[PATH_LEN];
	int64_t id = 0;
	int rc = 0;

	for (size_t i = 0; i < json_array_size(cells) && !rc; i++) {
		const json_t *cell = json_array_get(cells, i);

		int_key(r, cell, "", "id", 0, ID_MAX, true, &id);
		snprintf(path, sizeof(path), "host.cells[%zu].pci", i);
		rc = read_pci_list(r, json_object_get(cell, "pci"), path,
				   np_topo_node_index(topo, (int)id), &pools, &n, &cap);
	}
	if (!rc)
		rc = read_pci_list(r, json_object_get(hostj, "pci_no_numa"), "host.pci_no_numa",
				   -1, &pools, &n, &cap);
	if (!rc && n && np_host_set_pci_pools(host, pools, (int)n, &e))
		rc = host_fail(r, "host", &e);
	free(pools);
	return rc;
}

/* A ratio: a non-negative number; absent leaves *OUT. */
static int ratio_key(struct rd *r, const json_t *root, const char *key, double *out,
		     bool *given)
{
	const json_t *v = json_object_get(root, key);

	if (!v)
		return 0;
	if (!json_is_number(v) || !(json_number_value(v) >= 0) ||
	    json_number_value(v) > 1e6)
		return bad(r, key, "a number from 0 to 1000000", v);
	*out = json_number_value(v);
	*given = true;
	return 0;
}

static int read_host(struct rd *r, const json_t *root, np_nova_case *c)
{
	const json_t *host = json_object_get(root, "host");
	const json_t *cells = host ? json_object_get(host, "cells") : NULL;
	double cpu = DEFAULT_CPU_RATIO, ram = DEFAULT_RAM_RATIO;
	struct np_error e = { 0 };
	char base[PATH_LEN];
	bool limits = false;
	int rc;

	if ((rc = ratio_key(r, root, "cpu_allocation_ratio", &cpu, &limits)) ||
	    (rc = ratio_key(r, root, "ram_allocation_ratio", &ram, &limits)))
		return rc;
	c->has_host = host && !json_is_null(host);
	if (!c->has_host)
		return 0;
	if (!json_is_object(host))
		return bad(r, "host", "an object or null", host);
	if (cells && !json_is_null(cells) &&
	    (!json_is_array(cells) || json_array_size(cells) > CELLS_MAX))
		return bad(r, "host.cells", "an array of at most " NP__STR(NP_NODES_MAX) " cells", cells);
	if (!cells || json_array_size(cells) == 0)
		return 0; /* a host that reports no NUMA topology */
	if ((rc = read_topology(r, host, cells, &c->topo)))
		return rc;
	if (np_host_new(c->topo, &c->host, &e))
		return host_fail(r, "host", &e);
	np_host_set_limits(c->host, limits, cpu, ram);
	for (size_t i = 0; i < json_array_size(cells) && !rc; i++) {
		snprintf(base, sizeof(base), "host.cells[%zu]", i);
		rc = setup_cell(r, c->host, c->topo, json_array_get(cells, i), base);
	}
	if (!rc)
		rc = setup_pci(r, c->host, c->topo, host, cells);
	if (!rc && np_host_check(c->host, &e))
		rc = host_fail(r, "host", &e);
	return rc;
}

/* ---- requests ---------------------------------------------------------- */

/* Python's repr of a float: the shortest text that reads back the same. */
static void py_float(double d, char *out, size_t size)
{
	if (isnan(d) || isinf(d)) {
		snprintf(out, size, "%s", isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	if (!strpbrk(out, ".en"))
		snprintf(out + strlen(out), size - strlen(out), ".0");
}

/* V as Nova stores it: str(value).  Returns a malloc'ed string or NULL. */
static char *py_str(const json_t *v)
{
	char buf[64];

	switch (json_typeof(v)) {
	case JSON_STRING: return strdup(json_string_value(v));
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strdup(buf);
	case JSON_REAL:
		py_float(json_real_value(v), buf, sizeof(buf));
		return strdup(buf);
	case JSON_TRUE: return strdup("True");
	case JSON_FALSE: return strdup("False");
	case JSON_NULL: return strdup("None");
	default: return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	}
}

static void kv_free(struct np_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)kv[i].value);
	free(kv);
}

/* An object of specs/properties -> key/value strings (keys borrowed from V). */
static int read_kv(struct rd *r, const json_t *v, const char *path, struct np_kv **out,
		   size_t *n)
{
	const char *key;
	json_t *val;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bad(r, path, "an object of keys and values", v);
	*out = np__calloc(json_object_size(v) + 1, sizeof(**out));
	if (!*out)
		return fail(r, NP_ENOMEM, "out of memory");
	json_object_foreach((json_t *)v, key, val) {
		(*out)[i].key = key;
		(*out)[i].value = py_str(val);
		if (!(*out)[i++].value) {
			kv_free(*out, i);
			*out = NULL;
			return fail(r, NP_ENOMEM, "out of memory");
		}
	}
	*n = i;
	return 0;
}

static bool has_key(const struct np_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return true;
	return false;
}

/* Build one request; an invalid one keeps its error in CR. */
static int read_request(struct rd *r, const json_t *q, const char *base, struct case_req *cr)
{
	struct np_kv *specs = NULL, *props = NULL;
	size_t nspecs = 0, nprops = 0;
	char path[PATH_LEN + 32];
	int64_t vcpus = 0, mem = 0;
	int rc;

	if (!json_is_object(q))
		return bad(r, base, "an object (a request)", q);
	if ((rc = int_key(r, q, base, "vcpus", 0, NP_VCPUS_MAX, true, &vcpus)) ||
	    (rc = int_key(r, q, base, "memory_mb", 0, MIB_MAX, true, &mem)))
		return rc;
	snprintf(path, sizeof(path), "%s.extra_specs", base);
	if ((rc = read_kv(r, json_object_get(q, "extra_specs"), path, &specs, &nspecs)))
		goto out;
	snprintf(path, sizeof(path), "%s.image_properties", base);
	if ((rc = read_kv(r, json_object_get(q, "image_properties"), path, &props, &nprops)))
		goto out;
	if (r->alias_err.code && has_key(specs, nspecs, "pci_passthrough:alias")) {
		/* Nova reads [pci] alias only for a flavor that names an alias, after
		 * every other check: those errors come first. */
		rc = np_request_from_nova((unsigned)vcpus, (uint64_t)mem, specs, nspecs, props,
					  nprops, NULL, 0, &cr->req, &cr->err);
		np_request_free(cr->req);
		cr->req = NULL;
		if (rc == NP_ENOMEM)
			rc = fail(r, NP_ENOMEM, "out of memory");
		else if (!rc || strcmp(cr->err.reason, "pci_alias_not_defined") == 0)
			cr->err = r->alias_err;
		rc = rc == NP_ENOMEM ? rc : 0;
		goto out;
	}
	if (np_request_from_nova((unsigned)vcpus, (uint64_t)mem, specs, nspecs, props, nprops,
				 r->naliases ? r->aliases : NULL, r->naliases, &cr->req,
				 &cr->err) == NP_ENOMEM)
		rc = fail(r, NP_ENOMEM, "out of memory");
out:
	kv_free(specs, nspecs);
	kv_free(props, nprops);
	return rc;
}

static void alias_invalid(struct rd *r, const char *fmt, ...) NP__PRINTF(2, 3);

/* Record why Nova's _get_alias_from_config() would raise PciInvalidAlias. */
static void alias_invalid(struct rd *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	np__verr(&r->alias_err, NP_EINPUT, fmt, ap);
	va_end(ap);
	snprintf(r->alias_err.reason, sizeof(r->alias_err.reason), "invalid_pci_alias");
}

/* The keys Nova's alias schema allows (additionalProperties: false). */
static bool alias_keys_ok(const json_t *a, const char **bad_key)
{
	static const char *const keys[] = { "name", "capability_type", "product_id",
					    "vendor_id", "device_type", "numa_policy" };
	const char *key;
	json_t *v;
	bool known;

	json_object_foreach((json_t *)a, key, v) {
		known = false;
		for (size_t k = 0; k < NP__ARRAY_SIZE(keys); k++)
			known = known || strcmp(key, keys[k]) == 0;
		if (!known || !json_is_string(v)) {
			*bad_key = key;
			return false;
		}
	}
	return true;
}

/* Policy and device type of one alias: "" when absent; false when not allowed. */
static bool alias_enums(const json_t *a, struct np_pci_alias *out, const char **dev)
{
	static const char *const types[] = { "type-PCI", "type-PF", "type-VF" };
	const json_t *pol = json_object_get(a, "numa_policy");
	const json_t *dt = json_object_get(a, "device_type");
	bool ok = !dt;

	out->has_policy = pol && np_pci_policy_from_name(json_string_value(pol), &out->policy) == 0;
	for (size_t k = 0; dt && k < NP__ARRAY_SIZE(types); k++)
		ok = ok || strcmp(json_string_value(dt), types[k]) == 0;
	*dev = dt ? json_string_value(dt) : "";
	return ok && (!pol || out->has_policy);
}

/*
 * One `[pci] alias` entry, checked as Nova's schema and merge rules do
 * (entries sharing a name must agree on policy and both name the same
 * device_type); false, with r->alias_err, when Nova would refuse it.
 */
static bool read_alias(struct rd *r, const json_t *a, size_t i, const char **devs)
{
	struct np_pci_alias *out = &r->aliases[i];
	const char *key = "", *name;

	if (!json_is_object(a) || !alias_keys_ok(a, &key)) {
		alias_invalid(r, "invalid pci alias %zu: %s%s", i, *key ? "bad key " : "not an object",
			      key);
		return false;
	}
	name = json_string_value(json_object_get(a, "name"));
	if (!name || !*name || strlen(name) > 256 || !alias_enums(a, out, &devs[i]) ||
	    !np__json_pci_id(json_object_get(a, "vendor_id"), &out->vendor) ||
	    !np__json_pci_id(json_object_get(a, "product_id"), &out->product)) {
		alias_invalid(r, "invalid pci alias %zu: it needs a name, 4-hex-digit vendor_id "
			      "and product_id, and known numa_policy and device_type", i);
		return false;
	}
	out->name = name;
	for (size_t k = 0; k < i; k++) {
		if (strcmp(r->aliases[k].name, name) != 0)
			continue;
		if (r->aliases[k].has_policy != out->has_policy ||
		    r->aliases[k].policy != out->policy || !*devs[k] || strcmp(devs[k], devs[i])) {
			alias_invalid(r, "invalid pci alias '%s': entries of one name must have the "
				      "same numa_policy and device_type", name);
			return false;
		}
	}
	return true;
}

static int read_aliases(struct rd *r, const json_t *root)
{
	const json_t *a = json_object_get(root, "pci_aliases");
	const char **devs;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return bad(r, "pci_aliases", "an array of [pci] alias objects", a);
	r->aliases = np__calloc(json_array_size(a) + 1, sizeof(*r->aliases));
	devs = np__calloc(json_array_size(a) + 1, sizeof(*devs));
	if (!r->aliases || !devs) {
		free(devs);
		return fail(r, NP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!read_alias(r, json_array_get(a, i), i, devs)) {
			free(devs);
			return 0;
		}
	r->naliases = json_array_size(a);
	free(devs);
	return 0;
}

static int read_requests(struct rd *r, const json_t *root, np_nova_case *c)
{
	const json_t *list = json_object_get(root, "requests");
	const json_t *one = json_object_get(root, "request");
	char base[PATH_LEN];
	size_t n;
	int rc = 0;

	c->sequence = list != NULL;
	if (list && (!json_is_array(list) || json_array_size(list) > REQS_MAX))
		return bad(r, "requests", "an array of at most 100000 requests", list);
	if (!list && !one)
		return fail(r, NP_EINPUT, "request: missing (expected \"request\" or \"requests\")");
	n = list ? json_array_size(list) : 1;
	c->reqs = np__calloc(n + 1, sizeof(*c->reqs));
	if (!c->reqs)
		return fail(r, NP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		snprintf(base, sizeof(base), list ? "requests[%zu]" : "request", i);
		rc = read_request(r, list ? json_array_get(list, i) : one, base, &c->reqs[i]);
		c->nreq = (int)i + 1;
	}
	return rc;
}

int np_nova_case_parse(const char *buf, size_t len, const char *name, np_nova_case **out,
		       struct np_error *err)
{
	struct rd r = { .name = name ? name : "<case>", .err = err };
	np_nova_case *c = np__calloc(1, sizeof(*c));
	json_error_t je;
	json_t *root = NULL;
	int rc;

	if (!c)
		return np__err(err, NP_ENOMEM, "out of memory");
	/* A key given twice is refused, as by every other numaplace reader. */
	root = np__json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		rc = np__json_out_of_memory(&je) ? fail(&r, NP_ENOMEM, "out of memory")
						 : fail(&r, NP_EINPUT, "line %d: %s", je.line, je.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = fail(&r, NP_EINPUT, "expected a JSON object (a Nova case)");
		goto out;
	}
	c->packing = truthy(json_object_get(root, "packing"));
	c->show_usage = truthy(json_object_get(root, "show_usage"));
	if ((rc = read_host(&r, root, c)) || (rc = read_aliases(&r, root)) ||
	    (rc = read_requests(&r, root, c)))
		goto out;
	*out = c;
	c = NULL;
out:
	free(r.aliases);
	json_decref(root);
	np_nova_case_free(c);
	return rc;
}

int np_nova_case_load(const char *path, np_nova_case **out, struct np_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = np__read_file(path, CASE_MAX, &buf, &len, err);

	if (!rc)
		rc = np_nova_case_parse(buf, len, path, out, err);
	free(buf);
	return rc;
}

void np_nova_case_free(np_nova_case *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nreq; i++)
		np_request_free(c->reqs[i].req);
	free(c->reqs);
	np_host_free(c->host);
	np_topo_free(c->topo);
	free(c);
}

bool np_nova_case_has_host(const np_nova_case *c) { return c->has_host; }
const np_topo *np_nova_case_topo(const np_nova_case *c) { return c->topo; }
np_host *np_nova_case_host(np_nova_case *c) { return c->host; }
bool np_nova_case_is_sequence(const np_nova_case *c) { return c->sequence; }
bool np_nova_case_show_usage(const np_nova_case *c) { return c->show_usage; }
int np_nova_case_request_count(const np_nova_case *c) { return c->nreq; }

enum np_strategy np_nova_case_strategy(const np_nova_case *c)
{
	return c->packing ? NP_STRATEGY_PACK : NP_STRATEGY_SPREAD;
}

int np_nova_case_request(const np_nova_case *c, int i, const np_request **req,
			 struct np_error *err)
{
	if (i < 0 || i >= c->nreq)
		return np__err(err, NP_EINPUT, "no request %d in the case", i);
	if (!c->reqs[i].req) {
		if (err)
			*err = c->reqs[i].err;
		return c->reqs[i].err.code;
	}
	*req = c->reqs[i].req;
	return 0;
}
