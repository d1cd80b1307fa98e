/*
 * src-json.c - read numaplace's own topology format, "numaplace.topology/1"
 * (docs/formats/topology.md; written by lib/emit/topo-json.c).
 *
 * Design: jansson parses the document, then each value is checked against
 * what the schema allows and fed to the builder.  These files are often
 * written or edited by hand, so every error names the JSON path of the bad
 * value and what was expected ("nodes[2].memory_mb.total: expected a
 * non-negative integer ..., not -5").  Unknown keys are ignored so that
 * additive schema changes keep old readers working.
 *
 * Nodes are read in two passes: first every id (distance rows refer to
 * nodes by position in "nodes", and cpus[]/devices[] refer to nodes by
 * id), then the rest.  Which CPU belongs to which node is said twice, in
 * nodes[].cpus and in cpus[].node; both are collected as (cpu, node) pairs,
 * sorted and compared in one merge walk, so a disagreement is an error
 * instead of one side silently winning.
 *
 * Ownership: the json_t tree and the scratch arrays of struct jr belong to
 * one json_parse() call and are freed on every path; the builder is the
 * caller's.  Errors go to the builder (sticky); jr.rc mirrors the first.
 */
#include "topo-int.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/json-util.h"
#include "util/util.h"

#define SCHEMA    "numaplace.topology/1"
#define ID_MAX    NP_ID_MAX
#define MIB_MAX   (NP__TOPO_KB_MAX >> 10)
#define COUNT_MAX NP__TOPO_COUNT_MAX
#define NODES_MAX NP_NODES_MAX
/* A node/CPU/device element ("nodes[12]"), a key under it, an item of that. */
#define BASE_LEN  32
#define PATH_LEN  (BASE_LEN + 16)
#define ITEM_LEN  (PATH_LEN + 24)

/* What a number may be, and how an error says so. */
struct range {
	int64_t min, max;
	bool nullable; /* null reads as -1 */
	const char *what;
};

static const struct range R_ID = { 0, ID_MAX, false, "an id from 0 to " NP__STR(NP_ID_MAX) };
static const struct range R_ID_NULL = { 0, ID_MAX, true,
					"an id from 0 to " NP__STR(NP_ID_MAX) ", or null" };
static const struct range R_MIB = { 0, MIB_MAX, false,
				    "a non-negative integer (MiB) up to 2^40" };
static const struct range R_COUNT = { 0, COUNT_MAX, false,
				      "a non-negative integer up to 2^50" };
static const struct range R_PAGE = { 1, COUNT_MAX, false,
				     "a page size in KiB from 1 to 2^50" };
static const struct range R_DIST = { 1, UINT32_MAX - 1, true,
				     "a distance from 1 to 4294967294, or null" };

/* A CPU and its node (-1: none), and the JSON element that said so. */
struct ref {
	int cpu, node;
	size_t at;
	int core, socket; /* cpus[] only */
	bool online;
};

/* A node id and its position in "nodes", sorted by id for lookups. */
struct slot {
	int id;
	size_t at;
};

enum dsrc { DSRC_UNSET, DSRC_FIRMWARE, DSRC_DEFAULT };

struct jr {
	np__tb *b;
	int rc;
	enum dsrc dsrc;
	size_t nnodes;
	int *ids;            /* node ids in "nodes" order */
	struct slot *byid;   /* the same, sorted by id */
	struct ref *listed;  /* from nodes[].cpus */
	size_t nlisted, caplisted;
	struct ref *cpus;    /* from cpus[] */
	size_t ncpus, capcpus;
};

static bool fail(struct jr *r, int code, const char *fmt, ...) NP__PRINTF(3, 4);

static bool fail(struct jr *r, int code, const char *fmt, ...)
{
	struct np_error e;
	va_list ap;

	va_start(ap, fmt);
	np__verr(&e, code, fmt, ap);
	va_end(ap);
	np__tb_fail(r->b, code, "%s", e.message);
	if (!r->rc)
		r->rc = code;
	return false;
}

/* Copy at most SIZE-1 bytes of S, every unprintable byte made '?'. */
static void printable(const char *s, char *out, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	out[i] = '\0';
}

/* The value at PATH is V (NULL: absent) where WHAT was expected. */
static bool bad(struct jr *r, const char *path, const char *what, const json_t *v)
{
	char found[48];

	if (!v)
		return fail(r, NP_EINPUT, "%s: missing (expected %s)", path, what);
	np__json_describe(v, found, sizeof(found));
	return fail(r, NP_EINPUT, "%s: expected %s, not %s", path, what, found);
}

static bool int_at(struct jr *r, const json_t *v, const char *path, const struct range *rg,
		   int64_t *out)
{
	if (v && json_is_null(v) && rg->nullable) {
		*out = -1;
		return true;
	}
	if (!v || !json_is_integer(v) || json_integer_value(v) < rg->min ||
	    json_integer_value(v) > rg->max)
		return bad(r, path, rg->what, v);
	*out = json_integer_value(v);
	return true;
}

/* OBJ[KEY] (OBJ at BASE) in RG; when absent, an error if REQUIRED, else *OUT kept. */
static bool int_key(struct jr *r, const json_t *obj, const char *base, const char *key,
		    const struct range *rg, bool required, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	char path[ITEM_LEN + 16];

	if (!v && !required)
		return true;
	snprintf(path, sizeof(path), "%s%s%s", base, *base ? "." : "", key);
	return int_at(r, v, path, rg, out);
}

/* V must be an array (or absent when !REQUIRED); its length, or -1. */
static long array_at(struct jr *r, const json_t *v, const char *path, const char *what,
		     bool required)
{
	if (!v && !required)
		return 0;
	if (!v || !json_is_array(v)) {
		bad(r, path, what, v);
		return -1;
	}
	return (long)json_array_size(v);
}

static bool object_at(struct jr *r, const json_t *v, const char *path)
{
	return v && json_is_object(v) ? true : bad(r, path, "an object", v);
}

static int cmp_slot(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	if (x->id != y->id)
		return (x->id > y->id) - (x->id < y->id);
	return (x->at > y->at) - (x->at < y->at);
}

static int cmp_slot_id(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int cmp_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->cpu != y->cpu)
		return (x->cpu > y->cpu) - (x->cpu < y->cpu);
	return (x->at > y->at) - (x->at < y->at);
}

/* Position in "nodes" of node ID, or -1. */
static long node_at(const struct jr *r, int64_t id)
{
	struct slot key = { (int)id, 0 }, *s;

	if (id < 0 || id > ID_MAX)
		return -1;
	s = bsearch(&key, r->byid, r->nnodes, sizeof(*s), cmp_slot_id);
	return s ? (long)s->at : -1;
}

static bool push(struct jr *r, struct ref **arr, size_t *n, size_t *cap, struct ref ref)
{
	if (np__grow((void **)arr, cap, *n + 1, sizeof(**arr)) < 0)
		return fail(r, NP_ENOMEM, "out of memory");
	(*arr)[(*n)++] = ref;
	return true;
}

static bool read_header(struct jr *r, const json_t *root)
{
	const json_t *s = json_object_get(root, "schema");
	const json_t *d = json_object_get(root, "distances_source");
	const char *v = d && json_is_string(d) ? json_string_value(d) : "";

	if (!s || !json_is_string(s) || strcmp(json_string_value(s), SCHEMA) != 0)
		return bad(r, "schema", "\"" SCHEMA "\"", s);
	if (!d)
		r->dsrc = DSRC_UNSET;
	else if (strcmp(v, "firmware") == 0)
		r->dsrc = DSRC_FIRMWARE;
	else if (strcmp(v, "default") == 0)
		r->dsrc = DSRC_DEFAULT;
	else
		return bad(r, "distances_source", "\"firmware\" or \"default\"", d);
	return true;
}

/* First pass over "nodes": every id, so that later values can refer to them. */
static bool read_node_ids(struct jr *r, const json_t *nodes)
{
	long n = array_at(r, nodes, "nodes", "an array of nodes", true);
	char base[BASE_LEN];
	int64_t id;

	if (n < 0)
		return false;
	if (n == 0)
		return fail(r, NP_EINPUT, "nodes: empty (expected at least one node)");
	if (n > NODES_MAX)
		return fail(r, NP_EINPUT, "nodes: %ld nodes, more than %d", n, NODES_MAX);
	r->ids = np__calloc((size_t)n, sizeof(*r->ids));
	r->byid = np__calloc((size_t)n, sizeof(*r->byid));
	if (!r->ids || !r->byid)
		return fail(r, NP_ENOMEM, "out of memory");
	for (size_t i = 0; i < (size_t)n; i++) {
		const json_t *v = json_array_get(nodes, i);

		snprintf(base, sizeof(base), "nodes[%zu]", i);
		if (!object_at(r, v, base) || !int_key(r, v, base, "id", &R_ID, true, &id))
			return false;
		r->ids[i] = (int)id;
		r->byid[i] = (struct slot){ (int)id, i };
	}
	qsort(r->byid, (size_t)n, sizeof(*r->byid), cmp_slot);
	for (size_t i = 1; i < (size_t)n; i++)
		if (r->byid[i].id == r->byid[i - 1].id)
			return fail(r, NP_EINPUT, "nodes[%zu].id: node %d is listed twice (also nodes[%zu])",
				    r->byid[i].at, r->byid[i].id, r->byid[i - 1].at);
	r->nnodes = (size_t)n;
	return true;
}

static bool read_memory(struct jr *r, const json_t *node, const char *base, int id)
{
	const json_t *m = json_object_get(node, "memory_mb");
	int64_t total = 0, free_mb = -1;
	char path[PATH_LEN];

	snprintf(path, sizeof(path), "%s.memory_mb", base);
	if (!object_at(r, m, path) || !int_key(r, m, path, "total", &R_MIB, true, &total) ||
	    !int_key(r, m, path, "free", &R_MIB, false, &free_mb))
		return false;
	if (free_mb > total)
		return fail(r, NP_EINPUT, "%s.free: %" PRId64 " MiB is more than the total %" PRId64,
			    path, free_mb, total);
	np__tb_node(r->b, id, (uint64_t)total * 1024);
	if (free_mb >= 0)
		np__tb_node_free(r->b, id, (uint64_t)free_mb * 1024);
	return true;
}

static bool read_pool(struct jr *r, const json_t *p, const char *path, int id)
{
	int64_t size = 0, total = 0, free_pages = -1;

	if (!object_at(r, p, path) || !int_key(r, p, path, "size_kb", &R_PAGE, true, &size) ||
	    !int_key(r, p, path, "total", &R_COUNT, true, &total) ||
	    !int_key(r, p, path, "free", &R_COUNT, false, &free_pages))
		return false;
	if (total > COUNT_MAX / size)
		return fail(r, NP_EINPUT, "%s.total: %" PRId64 " pages of %" PRId64
			    " KiB is more than 2^50 KiB", path, total, size);
	if (free_pages > total)
		return fail(r, NP_EINPUT, "%s.free: %" PRId64 " pages is more than the total %" PRId64,
			    path, free_pages, total);
	np__tb_hugepages(r->b, id, (uint64_t)size, (uint64_t)total,
			 free_pages < 0 ? NP__TB_FREE_UNKNOWN : (uint64_t)free_pages);
	return true;
}

static bool read_pools(struct jr *r, const json_t *node, const char *base, int id)
{
	const json_t *a = json_object_get(node, "hugepages");
	char path[PATH_LEN], item[ITEM_LEN];
	long n;

	snprintf(path, sizeof(path), "%s.hugepages", base);
	n = array_at(r, a, path, "an array of huge page pools", false);
	for (long j = 0; j < n; j++) {
		snprintf(item, sizeof(item), "%s[%ld]", path, j);
		if (!read_pool(r, json_array_get(a, (size_t)j), item, id))
			return false;
	}
	return n >= 0;
}

/* nodes[I].cpus, remembered as (cpu, node) pairs for the comparison with cpus[]. */
static bool read_node_cpus(struct jr *r, const json_t *node, const char *base, size_t i)
{
	const json_t *a = json_object_get(node, "cpus");
	char path[PATH_LEN], item[ITEM_LEN];
	int64_t cpu = 0; /* int_at() sets it; -O3 cannot tell */
	long n;

	snprintf(path, sizeof(path), "%s.cpus", base);
	n = array_at(r, a, path, "an array of CPU ids", true);
	for (long j = 0; j < n; j++) {
		snprintf(item, sizeof(item), "%s[%ld]", path, j);
		if (!int_at(r, json_array_get(a, (size_t)j), item, &R_ID, &cpu) ||
		    !push(r, &r->listed, &r->nlisted, &r->caplisted,
			  (struct ref){ .cpu = (int)cpu, .node = r->ids[i], .at = i }))
			return false;
	}
	return n >= 0;
}

static bool read_nodes(struct jr *r, const json_t *nodes)
{
	char base[BASE_LEN];

	if (!read_node_ids(r, nodes))
		return false;
	for (size_t i = 0; i < r->nnodes; i++) {
		const json_t *v = json_array_get(nodes, i);

		snprintf(base, sizeof(base), "nodes[%zu]", i);
		if (!read_memory(r, v, base, r->ids[i]) || !read_pools(r, v, base, r->ids[i]) ||
		    !read_node_cpus(r, v, base, i))
			return false;
	}
	if (r->nlisted) /* qsort(NULL, 0) is undefined */
		qsort(r->listed, r->nlisted, sizeof(*r->listed), cmp_ref);
	for (size_t k = 1; k < r->nlisted; k++) {
		const struct ref *x = &r->listed[k - 1], *y = &r->listed[k];

		if (x->cpu == y->cpu && x->at == y->at)
			return fail(r, NP_EINPUT, "nodes[%zu].cpus: CPU %d is listed twice",
				    y->at, y->cpu);
		if (x->cpu == y->cpu)
			return fail(r, NP_EINPUT, "nodes[%zu].cpus: CPU %d is also in nodes[%zu].cpus",
				    y->at, y->cpu, x->at);
	}
	return true;
}

/* Row I of the distance matrix: one value per node, in "nodes" order. */
static bool read_row(struct jr *r, const json_t *row, size_t i)
{
	char path[PATH_LEN], item[ITEM_LEN];
	int64_t d = 0; /* int_at() sets it; -O3 cannot tell */
	long n;

	snprintf(path, sizeof(path), "nodes[%zu].distances", i);
	n = array_at(r, row, path, "an array of distances", true);
	if (n < 0)
		return false;
	if ((size_t)n != r->nnodes)
		return fail(r, NP_EINPUT, "%s: expected %zu values (one per node), not %ld", path,
			    r->nnodes, n);
	for (size_t j = 0; j < r->nnodes; j++) {
		const json_t *v = json_array_get(row, j);

		snprintf(item, sizeof(item), "%s[%zu]", path, j);
		if (!int_at(r, v, item, &R_DIST, &d))
			return false;
		if (d < 0 && i == j)
			return fail(r, NP_EINPUT, "%s: a node's distance to itself cannot be null",
				    item);
		if (r->dsrc == DSRC_DEFAULT && d != (i == j ? 10 : 20))
			return bad(r, item,
				   i == j ? "10 (distances_source is \"default\")"
					  : "20 (distances_source is \"default\")",
				   v);
		if (r->dsrc != DSRC_DEFAULT)
			np__tb_distance(r->b, r->ids[i], r->ids[j],
					d < 0 ? NP_DISTANCE_UNREACHABLE : (uint32_t)d);
	}
	return true;
}

/* Rows for every node or for none; none means Linux's default 10/20. */
static bool read_distances(struct jr *r, const json_t *nodes)
{
	size_t have = 0, with = 0, without = 0;

	for (size_t i = 0; i < r->nnodes; i++)
		if (json_object_get(json_array_get(nodes, i), "distances") && have++ == 0)
			with = i;
	if (have == 0 && r->dsrc == DSRC_FIRMWARE)
		return fail(r, NP_EINPUT,
			    "distances_source is \"firmware\" but no node has \"distances\"");
	if (have == 0)
		return true;
	if (have < r->nnodes) {
		while (json_object_get(json_array_get(nodes, without), "distances"))
			without++;
		return fail(r, NP_EINPUT,
			    "nodes[%zu].distances: missing, but nodes[%zu] has them "
			    "(give a row for every node or for none)",
			    without, with);
	}
	for (size_t i = 0; i < r->nnodes; i++)
		if (!read_row(r, json_object_get(json_array_get(nodes, i), "distances"), i))
			return false;
	return true;
}

static bool read_cpu(struct jr *r, const json_t *v, size_t i)
{
	int64_t id = 0, node = -1, core = -1, socket = -1;
	char base[BASE_LEN], path[PATH_LEN];
	const json_t *on;

	snprintf(base, sizeof(base), "cpus[%zu]", i);
	if (!object_at(r, v, base) || !int_key(r, v, base, "id", &R_ID, true, &id) ||
	    !int_key(r, v, base, "node", &R_ID_NULL, true, &node) ||
	    !int_key(r, v, base, "core", &R_ID_NULL, false, &core) ||
	    !int_key(r, v, base, "socket", &R_ID_NULL, false, &socket))
		return false;
	on = json_object_get(v, "online");
	snprintf(path, sizeof(path), "%s.online", base);
	if (on && !json_is_boolean(on))
		return bad(r, path, "true or false", on);
	if (node >= 0 && node_at(r, node) < 0)
		return fail(r, NP_EINPUT, "%s.node: node %" PRId64 " is not in \"nodes\"", base,
			    node);
	return push(r, &r->cpus, &r->ncpus, &r->capcpus,
		    (struct ref){ (int)id, (int)node, i, (int)core, (int)socket,
				  !on || json_is_true(on) });
}

/* cpus[] and nodes[].cpus, both sorted by CPU, must tell the same story. */
static bool merge_cpus(struct jr *r)
{
	size_t a = 0, c = 0;

	while (a < r->nlisted || c < r->ncpus) {
		const struct ref *l = a < r->nlisted ? &r->listed[a] : NULL;
		const struct ref *k = c < r->ncpus ? &r->cpus[c] : NULL;

		if (!k || (l && l->cpu < k->cpu))
			return fail(r, NP_EINPUT, "nodes[%zu].cpus: CPU %d is not in \"cpus\"",
				    l->at, l->cpu);
		if (l && l->cpu == k->cpu && l->node != k->node) {
			char found[16];

			snprintf(found, sizeof(found), "%d", k->node);
			return fail(r, NP_EINPUT,
				    "cpus[%zu].node: CPU %d is in nodes[%zu].cpus, so its node is "
				    "%d, not %s",
				    k->at, k->cpu, l->at, l->node, k->node < 0 ? "null" : found);
		}
		if ((!l || k->cpu < l->cpu) && k->node >= 0)
			return fail(r, NP_EINPUT, "cpus[%zu].node: CPU %d is not in nodes[%ld].cpus",
				    k->at, k->cpu, node_at(r, k->node));
		a += l && l->cpu == k->cpu;
		c++;
	}
	return true;
}

/* cpus[], or when it is absent, the nodes' CPU lists (online, core unknown). */
static bool read_cpus(struct jr *r, const json_t *root)
{
	const json_t *a = json_object_get(root, "cpus");
	long n = array_at(r, a, "cpus", "an array of CPUs", false);

	if (n < 0)
		return false;
	if (!a) {
		for (size_t k = 0; k < r->nlisted; k++)
			np__tb_cpu(r->b, r->listed[k].cpu, r->listed[k].node, -1, -1, true);
		return true;
	}
	for (size_t i = 0; i < (size_t)n; i++)
		if (!read_cpu(r, json_array_get(a, i), i))
			return false;
	if (r->ncpus)
		qsort(r->cpus, r->ncpus, sizeof(*r->cpus), cmp_ref);
	for (size_t k = 1; k < r->ncpus; k++)
		if (r->cpus[k].cpu == r->cpus[k - 1].cpu)
			return fail(r, NP_EINPUT, "cpus[%zu].id: CPU %d is listed twice (also cpus[%zu])",
				    r->cpus[k].at, r->cpus[k].cpu, r->cpus[k - 1].at);
	if (!merge_cpus(r))
		return false;
	for (size_t k = 0; k < r->ncpus; k++) {
		const struct ref *c = &r->cpus[k];

		np__tb_cpu(r->b, c->cpu, c->node, c->core, c->socket, c->online);
	}
	return true;
}

/*
 * "dddd:bb:dd.f" or "bb:dd.f" in hex, device up to 0x1f, function up to 7;
 * then "#N" (2-99) for the second and later devices hwloc lists at one
 * address (the builder checks that part).
 */
static bool pci_address(const char *s)
{
	static const char *const forms[] = { "hhhh:hh:hh.h", "hh:hh.h" };
	size_t len = strcspn(s, "#");

	for (size_t f = 0; f < NP__ARRAY_SIZE(forms); f++) {
		size_t n = strlen(forms[f]), k;

		if (len != n)
			continue;
		for (k = 0; k < n; k++)
			if (forms[f][k] == 'h' ? !isxdigit((unsigned char)s[k]) : s[k] != forms[f][k])
				break;
		if (k == n)
			return strtoul(s + n - 4, NULL, 16) <= 0x1f && s[n - 1] >= '0' &&
			       s[n - 1] <= '7';
	}
	return false;
}

/* OBJ[KEY]: "0x" and up to DIGITS hex digits; absent or null: *OUT kept (0). */
static bool hex_key(struct jr *r, const json_t *obj, const char *base, const char *key,
		    size_t digits, unsigned *out)
{
	const json_t *v = json_object_get(obj, key);
	const char *s = v && json_is_string(v) ? json_string_value(v) : "";
	size_t n = strlen(s);
	char path[PATH_LEN];

	if (!v || json_is_null(v))
		return true;
	if (n < 3 || n > digits + 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
	    strspn(s + 2, "0123456789abcdefABCDEF") != n - 2) {
		snprintf(path, sizeof(path), "%s.%s", base, key);
		return bad(r, path,
			   digits == 4 ? "a hex string such as \"0x8086\", or null"
				       : "a hex string such as \"0x020000\", or null",
			   v);
	}
	*out = (unsigned)strtoul(s + 2, NULL, 16);
	return true;
}

static bool read_device(struct jr *r, const json_t *v, size_t i)
{
	char base[BASE_LEN], path[PATH_LEN];
	unsigned vendor = 0, device = 0, cls = 0;
	const json_t *a;
	int64_t node = -1;

	snprintf(base, sizeof(base), "devices[%zu]", i);
	if (!object_at(r, v, base))
		return false;
	a = json_object_get(v, "address");
	snprintf(path, sizeof(path), "%s.address", base);
	if (!a || !json_is_string(a) || !pci_address(json_string_value(a)))
		return bad(r, path, "a PCI address such as \"0000:01:00.0\"", a);
	if (!hex_key(r, v, base, "vendor", 4, &vendor) ||
	    !hex_key(r, v, base, "device", 4, &device) ||
	    !hex_key(r, v, base, "class", 6, &cls) ||
	    !int_key(r, v, base, "node", &R_ID_NULL, true, &node))
		return false;
	if (node >= 0 && node_at(r, node) < 0)
		return fail(r, NP_EINPUT, "%s.node: node %" PRId64 " is not in \"nodes\"", base,
			    node);
	np__tb_device(r->b, json_string_value(a), vendor, device, cls, (int)node);
	return true;
}

static bool read_devices(struct jr *r, const json_t *root)
{
	const json_t *a = json_object_get(root, "devices");
	long n = array_at(r, a, "devices", "an array of PCI devices", false);

	for (size_t i = 0; i < (size_t)(n > 0 ? n : 0); i++)
		if (!read_device(r, json_array_get(a, i), i))
			return false;
	return n >= 0;
}

static void syntax_error(struct jr *r, const json_error_t *je)
{
	char text[JSON_ERROR_TEXT_LENGTH];

	printable(je->text, text, sizeof(text));
	fail(r, NP_EINPUT, "line %d: %s", je->line, text);
}

static int json_parse(np__tb *b, const char *buf, size_t len)
{
	struct jr r = { .b = b };
	json_error_t je;
	json_t *root;

	if (strspn(buf, " \t\r\n") == len) {
		fail(&r, NP_EINPUT, "empty document (expected a %s object)", SCHEMA);
		return r.rc;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root && np__json_out_of_memory(&je)) {
		fail(&r, NP_ENOMEM, "out of memory");
		return r.rc;
	}
	if (!root) {
		syntax_error(&r, &je);
		return r.rc;
	}
	if (!json_is_object(root))
		bad(&r, "the document", "a JSON object", root);
	else if (read_header(&r, root) && read_nodes(&r, json_object_get(root, "nodes")) &&
		 read_distances(&r, json_object_get(root, "nodes")) && read_cpus(&r, root))
		read_devices(&r, root);
	json_decref(root);
	free(r.ids);
	free(r.byid);
	free(r.listed);
	free(r.cpus);
	return r.rc;
}

const struct np__source np__source_json = { NP_SOURCE_JSON, NULL, json_parse };
