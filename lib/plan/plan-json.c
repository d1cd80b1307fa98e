/*
 * plan-json.c - numaplace.plan/1 (docs/formats/plan.md): the writer behind
 * np_plan_write(NP_PLAN_JSON) and the reader np_plan_from_json(), which
 * also reads the plans kept in the state file (lib/state/state.c).
 *
 * Writer: plain fprintf, keys in the schema's order, one key of a cell per
 * line and each list on one line, so that plans diff well; reading a plan
 * back and writing it again gives the same bytes.  Nodes are written as
 * kernel ids, CPUs already are kernel ids.  Everything is checked before
 * the first byte, so a plan that cannot be written leaves OUT untouched.
 *
 * Reader: jansson parses, then every value is checked and fed to the
 * np__plan_* builder.  Errors name the JSON path of the bad value and
 * what was expected, like the topology reader ("cells[1].node: node 7 is
 * not in the host topology").  Hand-written plans may leave out what has
 * a default (policies, page size, empty lists, nodeset, score, reasons).
 * Unknown keys are ignored so additive schema changes keep old readers.
 *
 * Ownership: the reader's scratch plan is freed on every error path; the
 * json_t tree belongs to the caller of np__plan_from_json_value().
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "place/place-int.h"     /* np__memory_basis_names */
#include "plan/plan-json.h"
#include "request/request-int.h" /* np__mem_policy_names, np__affinity_names */
#include "util/json-util.h"

#include <numaplace/util.h>

#define SCHEMA   "numaplace.plan/1"
#define ID_MAX   NP_ID_MAX
#define MIB_MAX  ((int64_t)NP_MEMORY_MB_MAX)
#define U_MAX    (INT64_C(1) << 53) /* what every JSON reader keeps exact */
#define PATH_LEN 384

static const char *const res_names[] = { "memory", "pages", "pcpus", "vcpus", "cores",
					 "pci", "distance", "nodes", "pagesize", "stranded" };

/* ---- writer ---- */


/*
 * Lists of integers, the bulk of a plan's text (a cell's cpuset is 16 CPUs
 * and more), are formatted by hand into a small buffer and written a chunk
 * at a time: one fprintf("%d") an element was a fifth of the writer's
 * instructions, and the service writes a plan twice a placement (the
 * store's copy and the answer).
 */
struct ibuf {
	FILE *out;
	char b[256];
	size_t n;
};

/* Room for one more element ("[-2147483648, -2147483648], "), else flush. */
static void ib_room(struct ibuf *ib)
{
	if (ib->n > sizeof(ib->b) - 32) {
		fwrite(ib->b, 1, ib->n, ib->out);
		ib->n = 0;
	}
}

static void ib_str(struct ibuf *ib, const char *s)
{
	while (*s)
		ib->b[ib->n++] = *s++;
}

/* V in decimal, as "%d" writes it. */
static void ib_int(struct ibuf *ib, int v)
{
	char tmp[12];
	unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
	int k = 0;

	do
		tmp[k++] = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		ib->b[ib->n++] = '-';
	while (k)
		ib->b[ib->n++] = tmp[--k];
}

static void ib_flush(struct ibuf *ib)
{
	fwrite(ib->b, 1, ib->n, ib->out);
	ib->n = 0;
}

/* "[a, b, ...]": V's N values; node indexes written as kernel ids when P is given. */
static void put_list(FILE *out, const int *v, int n, const np_plan *p, const np_topo *t)
{
	struct ibuf ib = { .out = out };

	ib_str(&ib, "[");
	for (int i = 0; i < n; i++) {
		ib_room(&ib);
		if (i)
			ib_str(&ib, ", ");
		ib_int(&ib, p ? np__plan_node_os(p, t, v[i]) : v[i]);
	}
	ib_str(&ib, "]");
	ib_flush(&ib);
}

static void put_ints(FILE *out, const int *v, int n)
{
	put_list(out, v, n, NULL, NULL);
}

/* Node indexes as kernel ids (checked beforehand by all_nodes_known). */
static void put_nodes(FILE *out, const np_plan *p, const np_topo *t, const int *v, int n)
{
	put_list(out, v, n, p, t);
}

/* "[[vcpu, pcpu], ...]": a cell's pins. */
static void put_pins(FILE *out, const struct np_plan_cell *c)
{
	struct ibuf ib = { .out = out };

	ib_str(&ib, "[");
	for (int k = 0; k < c->npins; k++) {
		ib_room(&ib);
		ib_str(&ib, k ? ", [" : "[");
		ib_int(&ib, c->pins[k].vcpu);
		ib_str(&ib, ", ");
		ib_int(&ib, c->pins[k].pcpu);
		ib_str(&ib, "]");
	}
	ib_str(&ib, "]");
	ib_flush(&ib);
}

static void put_node_or_null(FILE *out, const np_plan *p, const np_topo *t, int idx)
{
	if (idx < 0)
		fputs("null", out);
	else
		fprintf(out, "%d", np__plan_node_os(p, t, idx));
}

static bool known(const np_plan *p, const np_topo *t, const int *v, int n)
{
	for (int i = 0; i < n; i++)
		if (np__plan_node_os(p, t, v[i]) < 0)
			return false;
	return true;
}

static bool all_nodes_known(const np_plan *p, const np_topo *t)
{
	if (!known(p, t, p->nodeset, p->nnodeset) || !known(p, t, p->fallback, p->nfallback))
		return false;
	for (int i = 0; i < p->ncells; i++)
		if (np__plan_node_os(p, t, p->cells[i].node_idx) < 0)
			return false;
	for (int i = 0; i < p->nmoves; i++)
		if (np__plan_node_os(p, t, p->moves[i].from_idx) < 0 ||
		    np__plan_node_os(p, t, p->moves[i].cell.node_idx) < 0)
			return false;
	for (int i = 0; i < p->nreasons; i++)
		if ((p->reasons[i].node_idx >= 0 &&
		     np__plan_node_os(p, t, p->reasons[i].node_idx) < 0) ||
		    (p->reasons[i].node_idx2 >= 0 &&
		     np__plan_node_os(p, t, p->reasons[i].node_idx2) < 0))
			return false;
	return true;
}

/* ",SEP\"KEY\": " between a cell's keys. */
static void put_key(FILE *out, const char *sep, const char *key)
{
	fputc(',', out);
	fputs(sep, out);
	fputs(key, out);
}

/* A cell's CPUs: "pins" to "blocked", the keys separated by ",SEP". */
static void put_cpus(FILE *out, const struct np_plan_cell *c, const char *sep)
{
	fputs("\"pins\": ", out);
	put_pins(out, c);
	put_key(out, sep, "\"float_vcpus\": ");
	put_ints(out, c->float_vcpus, c->nfloat);
	put_key(out, sep, "\"cpuset\": ");
	put_ints(out, c->cpuset, c->ncpuset);
	put_key(out, sep, "\"reserved\": ");
	put_ints(out, c->reserved, c->nreserved);
	put_key(out, sep, "\"blocked\": ");
	put_ints(out, c->blocked, c->nblocked);
}

static void put_cell(FILE *out, const np_plan *p, const np_topo *t, int i)
{
	const struct np_plan_cell *c = &p->cells[i];

	fprintf(out, "    {\n      \"guest_cell\": %d,\n      \"node\": %d,\n", c->guest_cell,
		np__plan_node_os(p, t, c->node_idx));
	fprintf(out, "      \"memory_mb\": %" PRIu64 ",\n      \"pagesize_kb\": %" PRIu64 ",\n",
		c->memory_mb, c->pagesize_kb);
	fputs("      ", out);
	put_cpus(out, c, "\n      ");
	fprintf(out, "\n    }%s\n", i + 1 < p->ncells ? "," : "");
}

/* One move on one line: the guest, the nodes, then the cell's keys as in cells[]. */
static void put_move(FILE *out, const np_plan *p, const np_topo *t, int i)
{
	const struct np_plan_move *m = &p->moves[i];
	const struct np_plan_cell *c = &m->cell;

	fputs("    {\"guest\": ", out);
	np_json_str_write(out, m->guest);
	fprintf(out, ", \"guest_cell\": %d, \"from\": %d, \"to\": %d, \"memory_mb\": %" PRIu64
		", \"pagesize_kb\": %" PRIu64 ", ", c->guest_cell,
		np__plan_node_os(p, t, m->from_idx), np__plan_node_os(p, t, c->node_idx),
		c->memory_mb, c->pagesize_kb);
	put_cpus(out, c, " ");
	fprintf(out, "}%s\n", i + 1 < p->nmoves ? "," : "");
}

/* "moves" and "moves_exact", only when there are moves (plans without stay as they were). */
static void put_moves(FILE *out, const np_plan *p, const np_topo *t)
{
	if (p->nmoves == 0)
		return;
	fputs("  \"moves\": [\n", out);
	for (int i = 0; i < p->nmoves; i++)
		put_move(out, p, t, i);
	fprintf(out, "  ],\n  \"moves_exact\": %s,\n", p->moves_exact ? "true" : "false");
}

static void put_score(FILE *out, const struct np_plan_score *s)
{
	fprintf(out,
		"  \"score\": {\"device_misses\": %d, \"max_distance\": %" PRIu32
		", \"sum_distance\": %" PRIu64 ", \"stranded\": %" PRIu64
		", \"best_max_distance\": %" PRIu32 ", \"exact\": %s, \"steps\": %" PRIu64,
		s->device_misses, s->max_distance, s->sum_distance, s->stranded,
		s->best_max_distance, s->exact ? "true" : "false", s->steps);
	/* Only a bounded plan has a gap; exact plans read as they always did. */
	if (!s->exact)
		fprintf(out, ", \"gap_term\": \"%s\", \"gap\": %" PRIu64,
			np_term_name(s->gap_term), s->gap);
	fputs("}", out);
}

static void put_reason(FILE *out, const np_plan *p, const np_topo *t, int i)
{
	const struct np_reason *r = &p->reasons[i];

	fputs("    {\"guest_cell\": ", out);
	if (r->guest_cell < 0)
		fputs("null", out);
	else
		fprintf(out, "%d", r->guest_cell);
	fputs(", \"node\": ", out);
	put_node_or_null(out, p, t, r->node_idx);
	fputs(", \"node2\": ", out);
	put_node_or_null(out, p, t, r->node_idx2);
	fprintf(out,
		", \"resource\": \"%s\", \"asked\": %" PRIu64 ", \"available\": %" PRIu64
		", \"text\": ",
		(unsigned)r->resource < NP__ARRAY_SIZE(res_names) ? res_names[r->resource]
								  : "memory",
		r->asked, r->available);
	np_json_str_write(out, r->text ? r->text : "");
	fprintf(out, "}%s\n", i + 1 < p->nreasons ? "," : "");
}

static void put_tail(FILE *out, const np_plan *p, const np_topo *t, bool claim)
{
	fputs("  \"pci\": [", out);
	for (int i = 0; i < p->npci; i++)
		fprintf(out, "%s{\"pool\": %d, \"count\": %d}", i ? ", " : "", p->pci[i].pool,
			p->pci[i].count);
	fputs(claim ? "]\n" : "],\n", out);
	if (claim)
		return;
	put_moves(out, p, t);
	fprintf(out, "  \"memory_basis\": \"%s\",\n", np__memory_basis_names[p->memory_basis]);
	put_score(out, &p->score);
	if (p->nreasons == 0) {
		fputs(",\n  \"reasons\": []\n", out);
		return;
	}
	fputs(",\n  \"reasons\": [\n", out);
	for (int i = 0; i < p->nreasons; i++)
		put_reason(out, p, t, i);
	fputs("  ]\n", out);
}

int np__plan_write_json(const np_plan *p, const np_topo *t, bool claim, FILE *out,
			struct np_error *err)
{
	if (!all_nodes_known(p, t) && !t && !p->node_os)
		return np__err(
		    err, NP_EINPUT,
		    "cannot write the plan: it does not say which host its nodes are on");
	if (!all_nodes_known(p, t))
		return np__err(err, NP_EINPUT,
			       "cannot write the plan: it names a node the host lacks");
	fprintf(out, "{\n  \"schema\": \"%s\",\n  \"fits\": %s,\n", SCHEMA,
		p->fits ? "true" : "false");
	fprintf(out, "  \"memory_policy\": \"%s\",\n  \"affinity\": \"%s\",\n",
		np__mem_policy_names[p->mem_policy], np__affinity_names[p->affinity]);
	fputs("  \"nodeset\": ", out);
	put_nodes(out, p, t, p->nodeset, p->nnodeset);
	fputs(",\n  \"fallback\": ", out);
	put_nodes(out, p, t, p->fallback, p->nfallback);
	fputs(p->ncells ? ",\n  \"cells\": [\n" : ",\n  \"cells\": [],\n", out);
	for (int i = 0; i < p->ncells; i++)
		put_cell(out, p, t, i);
	if (p->ncells)
		fputs("  ],\n", out);
	put_tail(out, p, t, claim);
	fputs("}\n", out);
	return ferror(out) ? NP_EOS : 0;
}

/* ---- reader ---- */

struct pr {
	const np_topo *topo;
	const char *base;
	struct np_error *err;
	int rc;
	np_plan *p;
	/* Scratch for one cell's lists, reused. */
	struct np_pin *pins;
	size_t cappins;
	int *lists[4];
	size_t caps[4];
};

static bool fail(struct pr *r, int code, const char *path, const char *fmt, ...)
	NP__PRINTF(4, 5);

/* "BASE.PATH: message" (no BASE when empty). */
static bool fail(struct pr *r, int code, const char *path, const char *fmt, ...)
{
	char msg[NP_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r->rc)
		np__err(r->err, code, "%s%s%s: %s", r->base,
			*r->base && *path && *path != '[' ? "." : "", path, msg);
	r->rc = r->rc ? r->rc : code;
	return false;
}

static bool bad(struct pr *r, const char *path, const char *what, const json_t *v)
{
	char found[40];

	if (!v)
		return fail(r, NP_EINPUT, path, "missing (expected %s)", what);
	np__json_describe(v, found, sizeof(found));
	return fail(r, NP_EINPUT, path, "expected %s, not %s", what, found);
}

/* V an integer in [MIN, MAX] (or null, read as -1, when NULLABLE). */
static bool int_at(struct pr *r, const json_t *v, const char *path, int64_t min, int64_t max,
		   bool nullable, int64_t *out)
{
	char what[96];

	if (v && nullable && json_is_null(v)) {
		*out = -1;
		return true;
	}
	if (v && json_is_integer(v) && json_integer_value(v) >= min &&
	    json_integer_value(v) <= max) {
		*out = json_integer_value(v);
		return true;
	}
	snprintf(what, sizeof(what), "an integer from %" PRId64 " to %" PRId64 "%s", min, max,
		 nullable ? ", or null" : "");
	return bad(r, path, what, v);
}

/* OBJ[KEY] under PATH; absent: an error when REQUIRED, else *OUT kept. */
static bool int_key(struct pr *r, const json_t *obj, const char *path, const char *key,
		    int64_t min, int64_t max, bool required, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	char p[PATH_LEN];

	if (!v && !required)
		return true;
	snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
	return int_at(r, v, p, min, max, false, out);
}

/* OBJ[KEY] (under BASE), one of NAMES; absent: *OUT kept unless REQUIRED. */
static bool name_key(struct pr *r, const json_t *obj, const char *base, const char *key,
		     const char *const *names, size_t n, const char *what, bool required,
		     int *out)
{
	const json_t *v = json_object_get(obj, key);
	char path[PATH_LEN];

	if (!v && !required)
		return true;
	for (size_t i = 0; json_is_string(v) && i < n; i++)
		if (strcmp(json_string_value(v), names[i]) == 0) {
			*out = (int)i;
			return true;
		}
	snprintf(path, sizeof(path), "%s%s%s", base, *base ? "." : "", key);
	return bad(r, path, what, v);
}

/* The node_idx of kernel node ID (the id itself without a topology), or -1. */
static int node_idx(const struct pr *r, int64_t id)
{
	if (!r->topo)
		return (int)id;
	return np_topo_node_index(r->topo, (int)id);
}

static bool node_at(struct pr *r, const json_t *v, const char *path, bool nullable, int *out)
{
	int64_t id = 0;

	if (!int_at(r, v, path, 0, ID_MAX, nullable, &id))
		return false;
	if (id < 0) {
		*out = -1;
		return true;
	}
	*out = node_idx(r, id);
	if (*out < 0)
		return fail(r, NP_EINPUT, path, "node %" PRId64 " is not in the host topology", id);
	return true;
}

static bool cpu_at(struct pr *r, const json_t *v, const char *path, int *out)
{
	int64_t id = 0;

	if (!int_at(r, v, path, 0, ID_MAX, false, &id))
		return false;
	if (r->topo && np_topo_cpu_index(r->topo, (int)id) < 0)
		return fail(r, NP_EINPUT, path, "CPU %" PRId64 " is not in the host topology", id);
	*out = (int)id;
	return true;
}

/* OBJ[KEY] (under BASE): an array, or absent (length 0) unless REQUIRED; -1 on error. */
static long array_key(struct pr *r, const json_t *obj, const char *base, const char *key,
		      const char *what, bool required, char *path, size_t size)
{
	const json_t *v = json_object_get(obj, key);

	snprintf(path, size, "%s%s%s", base, *base ? "." : "", key);
	if (!v && !required)
		return 0;
	if (!v || !json_is_array(v)) {
		bad(r, path, what, v);
		return -1;
	}
	return (long)json_array_size(v);
}

/* A list of node ids under KEY into a node_idx array; *N of them. */
static bool read_nodes(struct pr *r, const json_t *obj, const char *key, int **out, int *n)
{
	char path[PATH_LEN], item[PATH_LEN + 24];
	long len = array_key(r, obj, "", key, "an array of node ids", false, path, sizeof(path));

	if (len < 0)
		return false;
	*out = np__calloc((size_t)len, sizeof(int));
	if (!*out)
		return fail(r, NP_ENOMEM, path, "out of memory");
	for (long i = 0; i < len; i++) {
		snprintf(item, sizeof(item), "%s[%ld]", path, i);
		if (!node_at(r, json_array_get(json_object_get(obj, key), (size_t)i), item, false,
			     &(*out)[i]))
			return false;
		for (long k = 0; k < i; k++)
			if ((*out)[k] == (*out)[i])
				return fail(r, NP_EINPUT, item, "node listed twice");
	}
	*n = (int)len;
	return true;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* "nodeset" (sorted), or when absent the cells' nodes. */
static bool read_nodeset(struct pr *r, const json_t *root)
{
	int *nodes = NULL, n = 0;
	bool ok;

	if (!json_object_get(root, "nodeset")) {
		nodes = np__calloc((size_t)r->p->ncells, sizeof(int));
		for (int i = 0; nodes && i < r->p->ncells; i++) {
			int k = 0;

			while (k < n && nodes[k] != r->p->cells[i].node_idx)
				k++;
			if (k == n)
				nodes[n++] = r->p->cells[i].node_idx;
		}
		ok = nodes ? true : fail(r, NP_ENOMEM, "nodeset", "out of memory");
	} else {
		ok = read_nodes(r, root, "nodeset", &nodes, &n);
	}
	if (ok && n > 0)
		qsort(nodes, (size_t)n, sizeof(int), cmp_int);
	if (ok && np__plan_set_nodeset(r->p, nodes, n))
		ok = fail(r, NP_ENOMEM, "nodeset", "out of memory");
	free(nodes);
	return ok;
}

static bool read_fallback(struct pr *r, const json_t *root)
{
	int *nodes = NULL, n = 0;
	bool ok = read_nodes(r, root, "fallback", &nodes, &n);

	if (ok && np__plan_set_fallback(r->p, nodes, n))
		ok = fail(r, NP_ENOMEM, "fallback", "out of memory");
	free(nodes);
	return ok;
}

static bool read_pins(struct pr *r, const json_t *cell, const char *base,
		      struct np_plan_cell *c)
{
	char path[PATH_LEN], item[PATH_LEN + 24], sub[PATH_LEN + 32];
	long n = array_key(r, cell, base, "pins", "an array of [vcpu, cpu] pairs", false, path,
			   sizeof(path));

	if (n < 0)
		return false;
	if (np__grow((void **)&r->pins, &r->cappins, (size_t)n, sizeof(*r->pins)))
		return fail(r, NP_ENOMEM, path, "out of memory");
	for (long i = 0; i < n; i++) {
		const json_t *pair = json_array_get(json_object_get(cell, "pins"), (size_t)i);
		int64_t vcpu = 0;

		snprintf(item, sizeof(item), "%s[%ld]", path, i);
		if (!json_is_array(pair) || json_array_size(pair) != 2)
			return bad(r, item, "a [vcpu, cpu] pair", pair);
		snprintf(sub, sizeof(sub), "%s[0]", item);
		if (!int_at(r, json_array_get(pair, 0), sub, 0, ID_MAX, false, &vcpu))
			return false;
		r->pins[i].vcpu = (int)vcpu;
		snprintf(sub, sizeof(sub), "%s[1]", item);
		if (!cpu_at(r, json_array_get(pair, 1), sub, &r->pins[i].pcpu))
			return false;
	}
	c->pins = r->pins;
	c->npins = (int)n;
	return true;
}

/* List K of a cell: vCPU ids (K == 0) or host CPU ids. */
static bool read_list(struct pr *r, const json_t *cell, const char *base, int k,
		      const char *key, int *n, const int **out)
{
	char path[PATH_LEN], item[PATH_LEN + 24];
	long len = array_key(r, cell, base, key, k ? "an array of CPU ids" : "an array of vCPU ids",
			     false, path, sizeof(path));

	if (len < 0)
		return false;
	if (np__grow((void **)&r->lists[k], &r->caps[k], (size_t)len, sizeof(int)))
		return fail(r, NP_ENOMEM, path, "out of memory");
	for (long i = 0; i < len; i++) {
		const json_t *v = json_array_get(json_object_get(cell, key), (size_t)i);
		int64_t id = 0;

		snprintf(item, sizeof(item), "%s[%ld]", path, i);
		if (k == 0 && !int_at(r, v, item, 0, ID_MAX, false, &id))
			return false;
		if (k == 0)
			r->lists[k][i] = (int)id;
		else if (!cpu_at(r, v, item, &r->lists[k][i]))
			return false;
	}
	*n = (int)len;
	*out = r->lists[k];
	return true;
}

/* What cells[] and moves[] share: memory_mb to blocked, into *C (which owns the lists). */
static bool read_cell_keys(struct pr *r, const json_t *v, const char *base, struct np_plan_cell *c)
{
	int64_t mem = 0, page = 4;

	if (!int_key(r, v, base, "memory_mb", 0, MIB_MAX, true, &mem) ||
	    !int_key(r, v, base, "pagesize_kb", 1, MIB_MAX, false, &page) ||
	    !read_pins(r, v, base, c) ||
	    !read_list(r, v, base, 0, "float_vcpus", &c->nfloat, &c->float_vcpus) ||
	    !read_list(r, v, base, 1, "cpuset", &c->ncpuset, &c->cpuset) ||
	    !read_list(r, v, base, 2, "reserved", &c->nreserved, &c->reserved) ||
	    !read_list(r, v, base, 3, "blocked", &c->nblocked, &c->blocked))
		return false;
	c->memory_mb = (uint64_t)mem;
	c->pagesize_kb = (uint64_t)page;
	return true;
}

static bool read_cell(struct pr *r, const json_t *v, size_t i)
{
	struct np_plan_cell c = { 0 };
	char base[32], path[64];
	int64_t gc = 0;

	snprintf(base, sizeof(base), "cells[%zu]", i);
	if (!json_is_object(v))
		return bad(r, base, "an object", v);
	snprintf(path, sizeof(path), "%s.node", base);
	if (!int_key(r, v, base, "guest_cell", 0, ID_MAX, true, &gc) ||
	    !node_at(r, json_object_get(v, "node"), path, false, &c.node_idx) ||
	    !read_cell_keys(r, v, base, &c))
		return false;
	c.guest_cell = (int)gc;
	if (np__plan_add_cell(r->p, &c))
		return fail(r, NP_ENOMEM, base, "out of memory");
	return true;
}

static bool read_cells(struct pr *r, const json_t *root)
{
	char path[PATH_LEN];
	long n = array_key(r, root, "", "cells", "an array of cells", true, path, sizeof(path));

	if (n < 0)
		return false;
	if (n == 0 && r->p->fits)
		return fail(r, NP_EINPUT, "cells", "empty, but \"fits\" is true");
	for (long i = 0; i < n; i++)
		if (!read_cell(r, json_array_get(json_object_get(root, "cells"), (size_t)i),
			       (size_t)i))
			return false;
	return true;
}

static bool read_pci(struct pr *r, const json_t *root)
{
	char path[PATH_LEN], item[PATH_LEN + 24];
	long n = array_key(r, root, "", "pci", "an array of {pool, count}", false, path,
			   sizeof(path));

	for (long i = 0; i < n; i++) {
		const json_t *v = json_array_get(json_object_get(root, "pci"), (size_t)i);
		int64_t pool = 0, count = 0;

		snprintf(item, sizeof(item), "pci[%ld]", i);
		if (!json_is_object(v))
			return bad(r, item, "an object", v);
		if (!int_key(r, v, item, "pool", 0, ID_MAX, true, &pool) ||
		    !int_key(r, v, item, "count", 1, ID_MAX, true, &count))
			return false;
		if (np__plan_add_pci(r->p, (int)pool, (int)count))
			return fail(r, NP_ENOMEM, item, "out of memory");
	}
	return n >= 0;
}

/* A guest id as claims have them: 1 to NP_CLAIM_ID_MAX bytes, no control character. */
static bool is_guest_id(const json_t *g)
{
	const char *s = json_string_value(g);
	size_t n = json_string_length(g);

	if (!s || n == 0 || n > NP_CLAIM_ID_MAX || strlen(s) != n)
		return false;
	for (size_t k = 0; k < n; k++)
		if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
			return false;
	return true;
}

static bool node_key(struct pr *r, const json_t *v, const char *base, const char *key, int *out)
{
	char path[64];

	snprintf(path, sizeof(path), "%s.%s", base, key);
	return node_at(r, json_object_get(v, key), path, false, out);
}

static bool moved_twice(struct pr *r, const char *guest, int gc, const char *base)
{
	for (int k = 0; k < r->p->nmoves; k++) {
		if (r->p->moves[k].cell.guest_cell != gc || strcmp(r->p->moves[k].guest, guest) != 0)
			continue;
		fail(r, NP_EINPUT, base, "guest cell %d of '%s' is moved twice", gc, guest);
		return true;
	}
	return false;
}

static bool read_move(struct pr *r, const json_t *v, long i)
{
	const json_t *g = json_object_get(v, "guest");
	struct np_plan_cell c = { 0 };
	int64_t gc = 0;
	char base[32], path[64];
	int from = -1;

	snprintf(base, sizeof(base), "moves[%ld]", i);
	snprintf(path, sizeof(path), "%s.guest", base);
	if (!json_is_object(v))
		return bad(r, base, "an object", v);
	if (!is_guest_id(g))
		return bad(r, path, "a guest id (1 to " NP__STR(NP_CLAIM_ID_MAX)
			   " bytes, no control character)", g);
	if (!int_key(r, v, base, "guest_cell", 0, ID_MAX, true, &gc) ||
	    !node_key(r, v, base, "from", &from) || !node_key(r, v, base, "to", &c.node_idx) ||
	    !read_cell_keys(r, v, base, &c))
		return false;
	snprintf(path, sizeof(path), "%s.to", base);
	if (from == c.node_idx)
		return fail(r, NP_EINPUT, path, "the node the cell leaves (\"from\")");
	if (moved_twice(r, json_string_value(g), (int)gc, base))
		return false;
	c.guest_cell = (int)gc;
	if (np__plan_add_move(r->p, json_string_value(g), from, &c))
		return fail(r, NP_ENOMEM, base, "out of memory");
	return true;
}

/* "moves" (absent: none) and "moves_exact" (absent: true). */
static bool read_moves(struct pr *r, const json_t *root)
{
	const json_t *ex = json_object_get(root, "moves_exact");
	char path[PATH_LEN];
	long n = array_key(r, root, "", "moves", "an array of moves", false, path, sizeof(path));

	if (ex && !json_is_boolean(ex))
		return bad(r, "moves_exact", "true or false", ex);
	r->p->moves_exact = !ex || json_is_true(ex);
	for (long i = 0; i < n; i++)
		if (!read_move(r, json_array_get(json_object_get(root, "moves"), (size_t)i), i))
			return false;
	return n >= 0;
}

static bool read_score(struct pr *r, const json_t *root)
{
	const json_t *s = json_object_get(root, "score"), *ex;
	struct np_plan_score *o = &r->p->score;
	int64_t dm = 0, maxd = 0, sumd = 0, str = 0, best = 0, steps = 0, gap = 0;
	int term = NP_TERM_NONE;
	const char *terms[NP_TERM_UNKNOWN + 1];

	for (int t = 0; t <= NP_TERM_UNKNOWN; t++)
		terms[t] = np_term_name((enum np_term)t);

	if (!s)
		return true;
	if (!json_is_object(s))
		return bad(r, "score", "an object", s);
	ex = json_object_get(s, "exact");
	if (ex && !json_is_boolean(ex))
		return bad(r, "score.exact", "true or false", ex);
	if (!int_key(r, s, "score", "device_misses", 0, ID_MAX, false, &dm) ||
	    !int_key(r, s, "score", "max_distance", 0, UINT32_MAX, false, &maxd) ||
	    !int_key(r, s, "score", "sum_distance", 0, U_MAX, false, &sumd) ||
	    !int_key(r, s, "score", "stranded", 0, U_MAX, false, &str) ||
	    !int_key(r, s, "score", "best_max_distance", 0, UINT32_MAX, false, &best) ||
	    !int_key(r, s, "score", "steps", 0, U_MAX, false, &steps) ||
	    !name_key(r, s, "score", "gap_term", terms, NP_TERM_UNKNOWN + 1, "a term name", false,
		      &term) ||
	    !int_key(r, s, "score", "gap", 0, U_MAX, false, &gap))
		return false;
	*o = (struct np_plan_score){ (int)dm,	    (uint32_t)maxd,
				     (uint64_t)sumd, (uint64_t)str,
				     (uint32_t)best, !ex || json_is_true(ex),
				     (uint64_t)steps, (enum np_term)term,
				     (uint64_t)gap };
	return true;
}

/* reasons[I].KEY: a node id or null (absent: -1). */
static bool reason_node(struct pr *r, const json_t *v, const char *base, const char *key,
			int *out)
{
	char path[64];

	if (!json_object_get(v, key))
		return true;
	snprintf(path, sizeof(path), "%s.%s", base, key);
	return node_at(r, json_object_get(v, key), path, true, out);
}

static bool read_reason(struct pr *r, const json_t *v, long i)
{
	const json_t *text = json_object_get(v, "text"), *g = json_object_get(v, "guest_cell");
	int64_t gc = -1, asked = 0, avail = 0;
	int n1 = -1, n2 = -1, res = 0;
	char base[32], path[64];

	snprintf(base, sizeof(base), "reasons[%ld]", i);
	if (!json_is_object(v))
		return bad(r, base, "an object", v);
	snprintf(path, sizeof(path), "%s.guest_cell", base);
	if ((g && !int_at(r, g, path, 0, ID_MAX, true, &gc)) ||
	    !reason_node(r, v, base, "node", &n1) || !reason_node(r, v, base, "node2", &n2) ||
	    !name_key(r, v, base, "resource", res_names, NP__ARRAY_SIZE(res_names),
		      "a resource name such as \"memory\" or \"pcpus\"", true, &res) ||
	    !int_key(r, v, base, "asked", 0, U_MAX, false, &asked) ||
	    !int_key(r, v, base, "available", 0, U_MAX, false, &avail))
		return false;
	snprintf(path, sizeof(path), "%s.text", base);
	if (!text || !json_is_string(text))
		return bad(r, path, "a string", text);
	if (np__plan_add_reason(r->p, (int)gc, n1, n2, (enum np_resource)res, (uint64_t)asked,
				(uint64_t)avail, "%s", json_string_value(text)))
		return fail(r, NP_ENOMEM, base, "out of memory");
	return true;
}

static bool read_reasons(struct pr *r, const json_t *root)
{
	char path[PATH_LEN];
	long n = array_key(r, root, "", "reasons", "an array of reasons", false, path,
			   sizeof(path));

	for (long i = 0; i < n; i++)
		if (!read_reason(r, json_array_get(json_object_get(root, "reasons"), (size_t)i), i))
			return false;
	return n >= 0;
}

static bool read_header(struct pr *r, const json_t *root)
{
	const json_t *s = json_object_get(root, "schema"), *f = json_object_get(root, "fits");
	int mem = NP_MEM_POLICY_STRICT, aff = NP_AFFINITY_HARD, basis = NP_MEMORY_BASIS_TOTAL;

	if (!s || !json_is_string(s) || strcmp(json_string_value(s), SCHEMA) != 0)
		return bad(r, "schema", "\"" SCHEMA "\"", s);
	if (!f || !json_is_boolean(f))
		return bad(r, "fits", "true or false", f);
	if (!name_key(r, root, "", "memory_policy", np__mem_policy_names, NP__ARRAY_SIZE(np__mem_policy_names),
		      "\"strict\", \"preferred\" or \"interleave\"", false, &mem) ||
	    !name_key(r, root, "", "affinity", np__affinity_names, NP__ARRAY_SIZE(np__affinity_names),
		      "\"hard\" or \"soft\"", false, &aff) ||
	    !name_key(r, root, "", "memory_basis", np__memory_basis_names, NP__ARRAY_SIZE(np__memory_basis_names),
		      "\"total\" or \"free\"", false, &basis))
		return false;
	r->p->memory_basis = (enum np_memory_basis)basis;
	r->p->fits = json_is_true(f);
	r->p->mem_policy = (enum np_mem_policy)mem;
	r->p->affinity = (enum np_affinity)aff;
	return true;
}

/* Every vCPU of a plan that fits in exactly one place, ids 0..N-1. */
static bool check_vcpus(struct pr *r)
{
	struct np__vcpu *map = NULL;
	struct np_error e;
	int n;

	if (!r->p->fits)
		return true;
	if (np__plan_vcpus(r->p, &map, &n, &e))
		return fail(r, e.code, "cells", "%s", e.message + strlen("plan: "));
	free(map);
	return true;
}

static bool remember_topo(struct pr *r)
{
	return np__plan_set_topo(r->p, r->topo) ? fail(r, NP_ENOMEM, "", "out of memory") : true;
}

int np__plan_from_json_value(const np_topo *topo, const json_t *root, const char *base,
			     np_plan **out, struct np_error *err)
{
	struct pr r = { .topo = topo, .base = base, .err = err };

	r.p = np__plan_new();
	if (!r.p)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (!json_is_object(root))
		bad(&r, base[0] ? "" : "the document", "a plan object", root);
	else if (read_header(&r, root) && read_cells(&r, root) && read_nodeset(&r, root) &&
		 read_fallback(&r, root) && read_pci(&r, root) && read_moves(&r, root) &&
		 read_score(&r, root) &&
		 read_reasons(&r, root) && check_vcpus(&r) && topo)
		remember_topo(&r);
	free(r.pins);
	for (size_t k = 0; k < NP__ARRAY_SIZE(r.lists); k++)
		free(r.lists[k]);
	if (r.rc) {
		np_plan_free(r.p);
		return r.rc;
	}
	*out = r.p;
	return 0;
}

int np_plan_from_json(const np_topo *topo, const char *buf, size_t len, const char *name,
		      np_plan **out, struct np_error *err)
{
	struct np_error e;
	json_error_t je;
	json_t *root;
	size_t blank = 0;
	int rc;


	while (blank < len && strchr(" \t\r\n", buf[blank]) && buf[blank])
		blank++;
	if (blank == len)
		return np__err(err, NP_EINPUT,
			       "cannot load '%s': empty document (expected a %s object)", name,
			       SCHEMA);
	root = np__json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root && np__json_out_of_memory(&je))
		return np__err(err, NP_ENOMEM, "out of memory");
	if (!root) {
		for (char *c = je.text; *c; c++)
			*c = isprint((unsigned char)*c) ? *c : '?';
		return np__err(err, NP_EINPUT, "cannot load '%s': line %d: %s", name, je.line,
			       je.text);
	}
	rc = np__plan_from_json_value(topo, root, "", out, &e);
	json_decref(root);
	if (rc)
		return np__err(err, rc, "cannot load '%s': %s", name, e.message);
	return 0;
}
