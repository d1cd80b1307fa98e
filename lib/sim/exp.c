/*
 * exp.c - experiments: numaplace.experiment/1 JSON (docs/sim.md) read into
 * a struct np_sim_exp, overrides by dotted key (np_sim_exp_set), and the
 * checks that hold the whole together.
 *
 * Design: jansson parses, then each member is read by one function that
 * knows its JSON path, so every error names where it is and what was
 * expected ("guests[1].vcpus: expected an integer from 1 to 4096, not
 * -2").  Unknown keys are errors: experiments are written by hand and a
 * misspelt constant silently keeping its default would make a wrong
 * result look right.  Workloads start from the presets (workload.c); an
 * experiment may add its own or change a preset ("base" names the one to
 * start from).  The host is a topology from any source (path relative to
 * the experiment file), or a synthetic one built through the same
 * builder every source uses.
 *
 * Ownership: the experiment owns everything it points to, the topology
 * included; np_sim_exp_free() releases it all.
 */
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-int.h"
#include "topology/topo-int.h"
#include "util/json-util.h"

#define SCHEMA "numaplace.experiment/1"
#define FILE_MAX NP_FILE_MAX
#define PATH_LEN 160

struct rd {
	struct np_error *err;
	const char *name;
	const char *base_dir;
	np_sim_exp *x;
	int rc;
};

static int vfail(struct rd *r, const char *path, const char *key, const char *fmt, va_list ap)
{
	char msg[NP_ERROR_MAX];

	if (r->rc)
		return r->rc;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	r->rc = NP_EINPUT;
	np__err(r->err, NP_EINPUT, "cannot load experiment '%s': %s%s%s%s%s", r->name, path,
		key && path[0] && key[0] != '[' ? "." : "", key ? key : "",
		path[0] || key ? ": " : "", msg);
	return r->rc;
}

static int fail(struct rd *r, const char *path, const char *fmt, ...) NP__PRINTF(3, 4);

static int fail(struct rd *r, const char *path, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(r, path, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* The same at PATH.KEY (or PATH[i] when KEY starts with '['). */
static int fail_key(struct rd *r, const char *path, const char *key, const char *fmt, ...)
	NP__PRINTF(4, 5);

static int fail_key(struct rd *r, const char *path, const char *key, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(r, path, key, fmt, ap);
	va_end(ap);
	return rc;
}

/* A short rendering of V for messages. */
static void show(const json_t *v, char *out, size_t size)
{
	if (!v)
		snprintf(out, size, "missing");
	else if (json_is_integer(v))
		snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, size, "%.10g", json_real_value(v));
	else if (json_is_string(v))
		snprintf(out, size, "\"%.40s\"", json_string_value(v));
	else
		snprintf(out, size, "%s", json_is_object(v) ? "an object" : json_is_array(v)
				   ? "an array" : json_is_boolean(v) ? "a boolean" : "null");
}

static bool keys_ok(struct rd *r, const json_t *obj, const char *path, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		int i = 0;

		while (keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (!keys[i])
			return fail(r, path, "unknown key '%.60s'", k), false;
	}
	return true;
}

static bool is_obj(struct rd *r, const json_t *v, const char *path)
{
	char s[64];

	if (v && json_is_object(v))
		return true;
	show(v, s, sizeof(s));
	return fail(r, path, "expected an object, not %s", s), false;
}

static void key_path(char *path, size_t size, const char *base, const char *key)
{
	snprintf(path, size, "%s%s%s", base, base[0] ? "." : "", key);
}

/* A number in [MIN, MAX] (whole when INTEGER); absent: *OUT unchanged. */
static bool num(struct rd *r, const json_t *obj, const char *key, const char *base, double min,
		double max, bool integer, double *out)
{
	const json_t *v = json_object_get(obj, key);
	char path[PATH_LEN], s[64];
	double d;

	if (!v)
		return true;
	key_path(path, sizeof(path), base, key);
	d = json_is_number(v) ? json_number_value(v) : NAN;
	if (isfinite(d) && d >= min && d <= max && (!integer || d == floor(d))) {
		*out = d;
		return true;
	}
	show(v, s, sizeof(s));
	return fail(r, path, "expected %s from %g to %g, not %s", integer ? "an integer" : "a number",
		    min, max, s), false;
}

static bool boolean(struct rd *r, const json_t *obj, const char *key, const char *base, bool *out)
{
	const json_t *v = json_object_get(obj, key);
	char path[PATH_LEN], s[64];

	if (!v)
		return true;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return true;
	}
	show(v, s, sizeof(s));
	key_path(path, sizeof(path), base, key);
	return fail(r, path, "expected true or false, not %s", s), false;
}

/* A string of at most SIZE-1 bytes; absent: OUT unchanged unless REQUIRED. */
static bool str(struct rd *r, const json_t *obj, const char *key, const char *base, char *out,
		size_t size, bool required)
{
	const json_t *v = json_object_get(obj, key);
	char path[PATH_LEN], s[64];

	if (!v && !required)
		return true;
	if (v && json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < size &&
	    strlen(json_string_value(v)) == json_string_length(v)) {
		memcpy(out, json_string_value(v), json_string_length(v) + 1);
		return true;
	}
	show(v, s, sizeof(s));
	key_path(path, sizeof(path), base, key);
	return fail(r, path, "expected a string of 1 to %zu bytes, not %s", size - 1, s), false;
}

/* The index of NAME in the NULL-terminated CHOICES, or -1 after an error. */
static int choice(struct rd *r, const char *path, const char *key, const char *name,
		  const char *const *choices)
{
	char all[256] = "";

	for (int i = 0; choices[i]; i++) {
		if (strcmp(choices[i], name) == 0)
			return i;
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", i ? ", " : "",
			 choices[i]);
	}
	return fail_key(r, path, key, "'%.40s' is none of %s", name, all), -1;
}

/* ---- host -------------------------------------------------------------------- */

static const char *const host_keys[] = { "topology", "source", "nodes", "cores_per_node",
					 "threads_per_core", "memory_mb_per_node", "distance",
					 "distances", NULL };

static int synthetic_distances(struct rd *r, np__tb *b, const json_t *h, int nodes)
{
	const json_t *m = json_object_get(h, "distances");
	double d = 20;

	if (!m) {
		if (!num(r, h, "distance", "host", 10, 254, true, &d))
			return r->rc;
		for (int a = 0; a < nodes; a++)
			for (int c = 0; c < nodes; c++)
				np__tb_distance(b, a, c, a == c ? 10 : (uint32_t)d);
		return 0;
	}
	if (!json_is_array(m) || (int)json_array_size(m) != nodes)
		return fail(r, "host.distances", "expected %d rows of %d distances", nodes, nodes);
	for (int a = 0; a < nodes; a++) {
		const json_t *row = json_array_get(m, (size_t)a);

		for (int c = 0; c < nodes; c++) {
			const json_t *v = json_is_array(row) ? json_array_get(row, (size_t)c) : NULL;

			if (!v || !json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 254 || json_array_size(row) != (size_t)nodes)
				return fail(r, "host.distances", "row %d: expected %d integers from 1 to "
					    "254", a, nodes);
			np__tb_distance(b, a, c, (uint32_t)json_integer_value(v));
		}
	}
	return 0;
}

static int synthetic_host(struct rd *r, const json_t *h)
{
	double nodes = 0, cores = 0, threads = 1, mem = 0;
	struct np_error e = { 0 };
	np__tb *b;
	int id = 0;

	if (!num(r, h, "nodes", "host", 1, NP__SIM_NODES_MAX, true, &nodes) ||
	    !num(r, h, "cores_per_node", "host", 1, 1024, true, &cores) ||
	    !num(r, h, "threads_per_core", "host", 1, 8, true, &threads) ||
	    !num(r, h, "memory_mb_per_node", "host", 0, 1 << 30, true, &mem))
		return r->rc;
	if (nodes == 0 || cores == 0)
		return fail(r, "host", "give either \"topology\" (a file of any topology source) or "
			    "\"nodes\" and \"cores_per_node\"");
	if (nodes * cores * threads > NP__SIM_CPUS_MAX)
		return fail(r, "host", "more than %d CPUs", NP__SIM_CPUS_MAX);
	b = np__tb_new(NP_SOURCE_JSON, "synthetic");
	for (int n = 0; n < (int)nodes; n++) {
		np__tb_node(b, n, (uint64_t)mem * 1024);
		for (int c = 0; c < (int)cores; c++)
			for (int t = 0; t < (int)threads; t++)
				np__tb_cpu(b, id++, n, c, n, true);
	}
	if (synthetic_distances(r, b, h, (int)nodes)) {
		np__tb_free(b);
		return r->rc;
	}
	if (np__tb_finish(b, &r->x->topo, &e))
		return fail(r, "host", "%s", e.message);
	return 0;
}

static int file_host(struct rd *r, const json_t *h)
{
	char path[4096], kind_name[24] = "auto";
	const char *p = json_string_value(json_object_get(h, "topology"));
	enum np_source_kind kind;
	struct np_error e = { 0 };

	if (!str(r, h, "source", "host", kind_name, sizeof(kind_name), false))
		return r->rc;
	if (np_source_kind_from_name(kind_name, &kind))
		return fail(r, "host.source", "unknown topology source '%s'", kind_name);
	if (!p || !p[0])
		return fail(r, "host.topology", "expected a path");
	if (p[0] == '/' || !r->base_dir || kind == NP_SOURCE_LIBVIRT_URI)
		snprintf(path, sizeof(path), "%s", p);
	else
		snprintf(path, sizeof(path), "%s/%s", r->base_dir, p);
	if (np_topo_load(kind, path, &r->x->topo, &e))
		return fail(r, "host.topology", "%s", e.message);
	return 0;
}

static int read_host(struct rd *r, const json_t *root)
{
	const json_t *h = json_object_get(root, "host");

	if (!is_obj(r, h, "host") || !keys_ok(r, h, "host", host_keys))
		return r->rc;
	if (json_object_get(h, "topology"))
		return file_host(r, h);
	return synthetic_host(r, h);
}

/* ---- model, balancer --------------------------------------------------------- */

static int read_model(struct rd *r, const json_t *root)
{
	const json_t *m = json_object_get(root, "model");
	const char *k;
	json_t *v;

	if (!m)
		return 0;
	if (!is_obj(r, m, "model"))
		return r->rc;
	json_object_foreach((json_t *)m, k, v) {
		const struct np__const *c = np__const_find(k);

		if (!c)
			return fail(r, "model", "unknown constant '%.60s' (numaplace simulate "
				    "--constants lists them)", k);
		if (!num(r, m, k, "model", c->min, c->max, c->integer,
			 (double *)((char *)&r->x->model + c->off)))
			return r->rc;
	}
	return 0;
}

static int read_balancer(struct rd *r, const json_t *root)
{
	const json_t *m = json_object_get(root, "balancer");
	const char *k;
	json_t *v;

	if (!m)
		return 0;
	if (!is_obj(r, m, "balancer"))
		return r->rc;
	json_object_foreach((json_t *)m, k, v) {
		const struct np__bal_field *f = np__bal_field_find(k);
		double d = 0;

		if (!f)
			return fail(r, "balancer", "unknown parameter '%.60s'", k);
		if (!num(r, m, k, "balancer", f->min, f->max, f->is_u64, &d))
			return r->rc;
		np__bal_field_store(&r->x->bal, f, d);
	}
	return 0;
}

/* ---- workloads ---------------------------------------------------------------- */

static int find_workload(const np_sim_exp *x, const char *name)
{
	for (int i = 0; i < x->nworkloads; i++)
		if (strcmp(x->workloads[i].name, name) == 0)
			return i;
	return -1;
}

static const char *const phase_keys[] = { "duration_s", "run_ms", "sleep_ms", "fixed", NULL };

static int read_phases(struct rd *r, const json_t *a, const char *base, struct np__workload *w)
{
	char path[PATH_LEN];

	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > NP__SIM_PHASES_MAX)
		return fail_key(r, base, "phases", "expected an array of 1 to %d phases",
				NP__SIM_PHASES_MAX);
	w->nphases = (int)json_array_size(a);
	for (int i = 0; i < w->nphases; i++) {
		const json_t *p = json_array_get(a, (size_t)i);
		struct np__phase *ph = &w->phases[i];

		snprintf(path, sizeof(path), "%.100s.phases[%d]", base, i);
		*ph = (struct np__phase){ 0, 10, 0, false };
		if (!is_obj(r, p, path) || !keys_ok(r, p, path, phase_keys) ||
		    !num(r, p, "duration_s", path, 0, 1e6, false, &ph->duration_s) ||
		    !num(r, p, "run_ms", path, 0, 1e7, false, &ph->run_ms) ||
		    !num(r, p, "sleep_ms", path, 0, 1e7, false, &ph->sleep_ms) ||
		    !boolean(r, p, "fixed", path, &ph->fixed))
			return r->rc;
		if (ph->run_ms == 0 && ph->sleep_ms == 0)
			return fail(r, path, "run_ms and sleep_ms cannot both be 0");
		if (ph->duration_s == 0 && w->nphases > 1)
			return fail(r, path, "duration_s must be above 0 when there are several phases");
	}
	return 0;
}

static const char *const wl_keys[] = { "base", "memory_intensity", "bandwidth_mb_s", "phases",
				       "random_start", "random_durations", NULL };

static int read_workload(struct rd *r, const char *name, const json_t *o)
{
	char path[PATH_LEN], base[NP__SIM_NAME_MAX] = "";
	struct np__workload w;
	int i = find_workload(r->x, name), b;

	snprintf(path, sizeof(path), "workloads.%.40s", name);
	if (strlen(name) == 0 || strlen(name) >= NP__SIM_NAME_MAX)
		return fail(r, "workloads", "a workload name must have 1 to %d bytes",
			    NP__SIM_NAME_MAX - 1);
	if (!is_obj(r, o, path) || !keys_ok(r, o, path, wl_keys) ||
	    !str(r, o, "base", path, base, sizeof(base), false))
		return r->rc;
	b = base[0] ? find_workload(r->x, base) : i;
	if (base[0] && b < 0)
		return fail_key(r, path, "base", "no workload '%s'", base);
	w = b >= 0 ? r->x->workloads[b] : (struct np__workload){ .nphases = 1,
							    .phases = { { 0, 10, 0, false } } };
	snprintf(w.name, sizeof(w.name), "%s", name);
	if (!num(r, o, "memory_intensity", path, 0, 0.99, false, &w.memory_intensity) ||
	    !num(r, o, "bandwidth_mb_s", path, 0, 1e7, false, &w.bandwidth_mb_s) ||
	    !boolean(r, o, "random_start", path, &w.random_start) ||
	    !boolean(r, o, "random_durations", path, &w.random_durations))
		return r->rc;
	if (json_object_get(o, "phases") && read_phases(r, json_object_get(o, "phases"), path, &w))
		return r->rc;
	if (i < 0) {
		if (np__grow((void **)&r->x->workloads, &(size_t){ (size_t)r->x->nworkloads },
			     (size_t)r->x->nworkloads + 1, sizeof(w)) < 0)
			return r->rc = np__err(r->err, NP_ENOMEM, "out of memory");
		i = r->x->nworkloads++;
	}
	r->x->workloads[i] = w;
	return 0;
}

static int read_workloads(struct rd *r, const json_t *root)
{
	const json_t *m = json_object_get(root, "workloads");
	const char *k;
	json_t *v;

	if (!m)
		return 0;
	if (!is_obj(r, m, "workloads"))
		return r->rc;
	json_object_foreach((json_t *)m, k, v)
		if (read_workload(r, k, v))
			return r->rc;
	return 0;
}

/* ---- guests -------------------------------------------------------------------- */

static const char *const guest_keys[] = { "name", "count", "vcpus", "memory_mb", "workload",
					  "home", "affinity", "memory", NULL };
static const char *const aff_names[] = { "none", "soft", "hard", NULL };
static const char *const mem_names[] = { "default", "interleave", "preferred", "strict", NULL };

static int read_home(struct rd *r, const json_t *a, const char *path, struct np__guest_spec *g)
{
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > NP__SIM_NODES_MAX)
		return fail_key(r, path, "home", "expected an array of node indexes");
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *v = json_array_get(a, i);

		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) >= NP__SIM_NODES_MAX)
			return fail_key(r, path, "home", "item %zu: expected a node index from 0 to %d", i,
				    NP__SIM_NODES_MAX - 1);
		g->home |= UINT64_C(1) << json_integer_value(v);
	}
	return 0;
}

static int read_plan(struct rd *r, const json_t *guest, const char *path,
		     struct np__guest_spec *g)
{
	const json_t *o = json_object_get(guest, "memory");
	const json_t *a = json_object_get(o, "mb_per_node");
	uint64_t sum = 0;

	if (!a || !json_is_array(a) || json_array_size(a) < 1 ||
	    json_array_size(a) > NP__SIM_NODES_MAX || json_object_size(o) != 1)
		return fail_key(r, path, "memory", "expected a mode name or {\"mb_per_node\": [MiB per "
			    "node index]}");
	g->nplan = (int)json_array_size(a);
	g->plan_mb = np__calloc((size_t)g->nplan, sizeof(*g->plan_mb));
	if (!g->plan_mb)
		return r->rc = np__err(r->err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < g->nplan; i++) {
		const json_t *v = json_array_get(a, (size_t)i);

		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > (json_int_t)NP_MEMORY_MB_MAX)
			return fail_key(r, path, "memory.mb_per_node", "item %d: expected MiB from 0 "
					"to 2^40", i);
		g->plan_mb[i] = (uint64_t)json_integer_value(v);
		sum += g->plan_mb[i];
	}
	if (sum == 0)
		return fail_key(r, path, "memory.mb_per_node", "the guest needs some memory");
	if (json_object_get(guest, "memory_mb") == NULL)
		g->memory_mb = sum;
	g->memory = NP__MEM_PLAN;
	return sum == g->memory_mb ? 0 : fail(r, path, "memory.mb_per_node adds up to %llu MiB, "
					      "memory_mb says %llu", (unsigned long long)sum,
					      (unsigned long long)g->memory_mb);
}

static int read_guest_modes(struct rd *r, const json_t *o, const char *path,
			    struct np__guest_spec *g)
{
	const json_t *m = json_object_get(o, "memory");
	char name[16] = "none";
	int i;

	if (!str(r, o, "affinity", path, name, sizeof(name), false))
		return r->rc;
	i = choice(r, path, "affinity", name, aff_names);
	if (i < 0)
		return r->rc;
	g->affinity = (enum np__affinity)i;
	if (m && json_is_object(m))
		return read_plan(r, o, path, g);
	snprintf(name, sizeof(name), "default");
	if (!str(r, o, "memory", path, name, sizeof(name), false))
		return r->rc;
	i = choice(r, path, "memory", name, mem_names);
	if (i < 0)
		return r->rc;
	g->memory = (enum np__memmode)i;
	if ((g->memory == NP__MEM_STRICT || g->affinity != NP__AFF_NONE) && !g->home)
		return fail(r, path, "strict memory and affinity need \"home\" nodes");
	return 0;
}

static int read_guest(struct rd *r, const json_t *o, int idx)
{
	struct np__guest_spec *g = &r->x->guests[idx];
	char path[PATH_LEN], wl[NP__SIM_NAME_MAX] = "specjbb";
	double count = 1, vcpus = 1, mem = 1024;

	snprintf(path, sizeof(path), "guests[%d]", idx);
	if (!is_obj(r, o, path) || !keys_ok(r, o, path, guest_keys) ||
	    !str(r, o, "name", path, g->name, sizeof(g->name), true) ||
	    !num(r, o, "count", path, 1, NP__SIM_GUESTS_MAX, true, &count) ||
	    !num(r, o, "vcpus", path, 1, NP__SIM_VCPUS_MAX, true, &vcpus) ||
	    !num(r, o, "memory_mb", path, 1, (double)NP_MEMORY_MB_MAX, true, &mem) ||
	    !str(r, o, "workload", path, wl, sizeof(wl), false))
		return r->rc;
	g->count = (int)count;
	g->vcpus = (int)vcpus;
	g->memory_mb = (uint64_t)mem;
	g->workload = find_workload(r->x, wl);
	if (g->workload < 0)
		return fail_key(r, path, "workload", "no workload '%s'", wl);
	if (read_home(r, json_object_get(o, "home"), path, g))
		return r->rc;
	return read_guest_modes(r, o, path, g);
}

static int read_guests(struct rd *r, const json_t *root)
{
	const json_t *a = json_object_get(root, "guests");

	if (!a || !json_is_array(a) || json_array_size(a) < 1 ||
	    json_array_size(a) > NP__SIM_GUESTS_MAX)
		return fail(r, "guests", "expected an array of 1 to %d guests", NP__SIM_GUESTS_MAX);
	r->x->guests = np__calloc(json_array_size(a), sizeof(*r->x->guests));
	if (!r->x->guests)
		return r->rc = np__err(r->err, NP_ENOMEM, "out of memory");
	r->x->nguests = (int)json_array_size(a);
	for (int i = 0; i < r->x->nguests; i++) {
		if (read_guest(r, json_array_get(a, (size_t)i), i))
			return r->rc;
		for (int j = 0; j < i; j++)
			if (strcmp(r->x->guests[j].name, r->x->guests[i].name) == 0)
				return fail(r, "guests", "two guests named '%s'", r->x->guests[i].name);
	}
	return 0;
}

static int read_counts(struct rd *r, const json_t *root)
{
	const json_t *a = json_object_get(root, "guest_counts");

	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > 64)
		return fail(r, "guest_counts", "expected an array of 1 to 64 guest counts");
	r->x->counts = np__calloc(json_array_size(a), sizeof(int));
	if (!r->x->counts)
		return r->rc = np__err(r->err, NP_ENOMEM, "out of memory");
	r->x->ncounts = (int)json_array_size(a);
	for (int i = 0; i < r->x->ncounts; i++) {
		const json_t *v = json_array_get(a, (size_t)i);

		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > NP__SIM_GUESTS_MAX)
			return fail(r, "guest_counts", "[%d]: expected an integer from 1 to %d", i,
				    NP__SIM_GUESTS_MAX);
		r->x->counts[i] = (int)json_integer_value(v);
	}
	return 0;
}

/* ---- events, configurations, reference ------------------------------------------ */

static const char *const event_keys[] = { "at_s", "action", "guest", "from", "to", NULL };
static const char *const event_names[] = { "pause", "unpause", "arrive", "move", NULL };

static int cmp_event(const void *a, const void *b)
{
	const struct np__event *x = a, *y = b;

	return (x->at_s > y->at_s) - (x->at_s < y->at_s);
}

/* A move's nodes: "from" and "to", node indexes, required for a move and only there. */
static int read_move(struct rd *r, const json_t *o, const char *path, struct np__event *e)
{
	double from = -1, to = -1;
	bool has = json_object_get(o, "from") || json_object_get(o, "to");

	if (e->kind != NP__EV_MOVE)
		return has ? fail(r, path, "\"from\" and \"to\" only go with action \"move\"") : 0;
	if (!num(r, o, "from", path, 0, NP__SIM_NODES_MAX - 1, true, &from) ||
	    !num(r, o, "to", path, 0, NP__SIM_NODES_MAX - 1, true, &to))
		return r->rc;
	if (!json_object_get(o, "from") || !json_object_get(o, "to") || from == to)
		return fail(r, path, "a move needs \"from\" and \"to\", two different node indexes");
	e->from = (int)from;
	e->to = (int)to;
	return 0;
}

static int read_event(struct rd *r, const json_t *o, int i)
{
	struct np__event *e = &r->x->events[i];
	char path[PATH_LEN], action[16] = "";
	int k;

	snprintf(path, sizeof(path), "events[%d]", i);
	if (!is_obj(r, o, path) || !keys_ok(r, o, path, event_keys) ||
	    !num(r, o, "at_s", path, 0, 1e7, false, &e->at_s) ||
	    !str(r, o, "action", path, action, sizeof(action), true) ||
	    !str(r, o, "guest", path, e->guest, sizeof(e->guest), true))
		return r->rc;
	k = choice(r, path, "action", action, event_names);
	if (k < 0)
		return r->rc;
	e->kind = (enum np__event_kind)k;
	if (read_move(r, o, path, e))
		return r->rc;
	for (int g = 0; g < r->x->nguests; g++)
		if (strcmp(r->x->guests[g].name, e->guest) == 0)
			return 0;
	return fail_key(r, path, "guest", "no guest '%s'", e->guest);
}

static int read_events(struct rd *r, const json_t *root)
{
	const json_t *a = json_object_get(root, "events");

	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 4096)
		return fail(r, "events", "expected an array of up to 4096 events");
	r->x->events = np__calloc(json_array_size(a) + 1, sizeof(*r->x->events));
	if (!r->x->events)
		return r->rc = np__err(r->err, NP_ENOMEM, "out of memory");
	r->x->nevents = (int)json_array_size(a);
	for (int i = 0; i < r->x->nevents; i++)
		if (read_event(r, json_array_get(a, (size_t)i), i))
			return r->rc;
	qsort(r->x->events, (size_t)r->x->nevents, sizeof(*r->x->events), cmp_event);
	return 0;
}

static const char *const config_keys[] = { "name", "placement", "scheduler", "balancer",
					   "affinity", "moves", "move_rate_mb_s", NULL };
static const char *const placement_names[] = { "all-cpus", "auto-pinning", "auto-affinity",
					       "given", NULL };
static const char *const sched_names[] = { "credit1", "credit2", "numaplace", NULL };

static int read_config(struct rd *r, const json_t *o, int i)
{
	struct np__config *c = &r->x->configs[i];
	char path[PATH_LEN], pl[24] = "given", sc[24] = "credit1", aff[16] = "";
	int k;

	snprintf(path, sizeof(path), "configs[%d]", i);
	if (!is_obj(r, o, path) || !keys_ok(r, o, path, config_keys) ||
	    !str(r, o, "name", path, c->name, sizeof(c->name), true) ||
	    !str(r, o, "placement", path, pl, sizeof(pl), false) ||
	    !str(r, o, "scheduler", path, sc, sizeof(sc), false) ||
	    !str(r, o, "affinity", path, aff, sizeof(aff), false) ||
	    !boolean(r, o, "balancer", path, &c->balancer))
		return r->rc;
	c->moves = true;
	if (!boolean(r, o, "moves", path, &c->moves) ||
	    !num(r, o, "move_rate_mb_s", path, 0, 1e6, false, &c->move_rate_mb_s))
		return r->rc;
	if ((k = choice(r, path, "placement", pl, placement_names)) < 0)
		return r->rc;
	c->placement = (enum np__placement)k;
	if ((k = choice(r, path, "scheduler", sc, sched_names)) < 0)
		return r->rc;
	c->sched = k == 1 ? NP__SCHED_CREDIT2 : NP__SCHED_CREDIT1;
	c->balancer |= k == 2;
	if (aff[0] && (k = choice(r, path, "affinity", aff, aff_names)) < 0)
		return r->rc;
	c->set_affinity = aff[0] != '\0';
	c->affinity = aff[0] ? (enum np__affinity)k : NP__AFF_NONE;
	if (c->set_affinity && c->placement != NP__PL_GIVEN)
		return fail(r, path, "affinity only goes with placement \"given\"");
	return 0;
}

static int read_configs(struct rd *r, const json_t *root)
{
	const json_t *a = json_object_get(root, "configs");

	if (!a || !json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > 32)
		return fail(r, "configs", "expected an array of 1 to 32 configurations");
	r->x->configs = np__calloc(json_array_size(a), sizeof(*r->x->configs));
	if (!r->x->configs)
		return r->rc = np__err(r->err, NP_ENOMEM, "out of memory");
	r->x->nconfigs = (int)json_array_size(a);
	for (int i = 0; i < r->x->nconfigs; i++) {
		if (read_config(r, json_array_get(a, (size_t)i), i))
			return r->rc;
		for (int j = 0; j < i; j++)
			if (strcmp(r->x->configs[j].name, r->x->configs[i].name) == 0)
				return fail(r, "configs", "two configurations named '%s'",
					    r->x->configs[i].name);
	}
	return 0;
}

static const char *const ref_keys[] = { "guests", "config", "gain", "source", NULL };

static int read_ref(struct rd *r, const json_t *o, int i)
{
	struct np__ref *f = &r->x->refs[i];
	char path[PATH_LEN];
	double guests = 0;

	snprintf(path, sizeof(path), "reference.gains[%d]", i);
	if (!is_obj(r, o, path) || !keys_ok(r, o, path, ref_keys) ||
	    !num(r, o, "guests", path, 0, NP__SIM_GUESTS_MAX, true, &guests) ||
	    !str(r, o, "config", path, f->config, sizeof(f->config), true) ||
	    !num(r, o, "gain", path, -1, 100, false, &f->gain) ||
	    !str(r, o, "source", path, f->source, sizeof(f->source), false))
		return r->rc;
	if (!json_object_get(o, "gain"))
		return fail_key(r, path, "gain", "missing");
	f->guests = (int)guests;
	return 0;
}

static int read_reference(struct rd *r, const json_t *root)
{
	static const char *const keys[] = { "note", "gains", NULL };
	const json_t *o = json_object_get(root, "reference"), *a;

	if (!o)
		return 0;
	if (!is_obj(r, o, "reference") || !keys_ok(r, o, "reference", keys) ||
	    !str(r, o, "note", "reference", r->x->reference_note, sizeof(r->x->reference_note),
		 false))
		return r->rc;
	a = json_object_get(o, "gains");
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 256)
		return fail(r, "reference.gains", "expected an array of up to 256 gains");
	r->x->refs = np__calloc(json_array_size(a) + 1, sizeof(*r->x->refs));
	if (!r->x->refs)
		return r->rc = np__err(r->err, NP_ENOMEM, "out of memory");
	r->x->nrefs = (int)json_array_size(a);
	for (int i = 0; i < r->x->nrefs; i++)
		if (read_ref(r, json_array_get(a, (size_t)i), i))
			return r->rc;
	return 0;
}

/* ---- the whole ------------------------------------------------------------------- */

static const char *const top_keys[] = { "schema", "name", "summary", "host", "duration_s",
					"measure_from_s", "repetitions", "seed", "model",
					"balancer", "workloads", "guests", "guest_counts",
					"events", "configs", "baseline", "reference", NULL };

static int read_top(struct rd *r, const json_t *root)
{
	const char *schema = json_string_value(json_object_get(root, "schema"));
	double reps = r->x->repetitions, seed = (double)r->x->seed;

	if (!json_is_object(root))
		return fail(r, "", "expected a JSON object");
	if (!schema || strcmp(schema, SCHEMA) != 0)
		return fail(r, "schema", "expected \"%s\"", SCHEMA);
	if (!keys_ok(r, root, "", top_keys) ||
	    !str(r, root, "name", "", r->x->name, sizeof(r->x->name), true) ||
	    !str(r, root, "summary", "", r->x->summary, sizeof(r->x->summary), false) ||
	    !num(r, root, "duration_s", "", 0.001, 1e6, false, &r->x->duration_s) ||
	    !num(r, root, "measure_from_s", "", 0, 1e6, false, &r->x->measure_from_s) ||
	    !num(r, root, "repetitions", "", 1, 1000, true, &reps) ||
	    !num(r, root, "seed", "", 0, 9007199254740991.0, true, &seed) ||
	    !str(r, root, "baseline", "", r->x->baseline, sizeof(r->x->baseline), false))
		return r->rc;
	r->x->repetitions = (int)reps;
	r->x->seed = (uint64_t)seed;
	return 0;
}

static int read_all(struct rd *r, const json_t *root)
{
	if (read_top(r, root) || read_model(r, root) || read_balancer(r, root) ||
	    read_workloads(r, root) || read_host(r, root) || read_guests(r, root) ||
	    read_counts(r, root) || read_events(r, root) || read_configs(r, root) ||
	    read_reference(r, root))
		return r->rc;
	return 0;
}

np_sim_exp *np__exp_new(void)
{
	np_sim_exp *x = np__calloc(1, sizeof(*x));
	const struct np__workload *p;
	int n = np__workload_presets(&p);

	if (!x)
		return NULL;
	x->workloads = np__calloc((size_t)n, sizeof(*x->workloads));
	if (!x->workloads) {
		free(x);
		return NULL;
	}
	memcpy(x->workloads, p, sizeof(*p) * (size_t)n);
	x->nworkloads = n;
	np__model_default(&x->model);
	np_bal_params_default(&x->bal);
	x->duration_s = 60;
	x->repetitions = 1;
	x->seed = 1;
	return x;
}

void np_sim_exp_free(np_sim_exp *x)
{
	if (!x)
		return;
	np_topo_free(x->topo);
	for (int i = 0; x->guests && i < x->nguests; i++)
		free(x->guests[i].plan_mb);
	free(x->guests);
	free(x->workloads);
	free(x->counts);
	free(x->events);
	free(x->configs);
	free(x->refs);
	free(x);
}

const char *np_sim_exp_name(const np_sim_exp *x)
{
	return x->name;
}

int np_sim_exp_parse(const char *buf, size_t len, const char *name, const char *base_dir,
		     np_sim_exp **out, struct np_error *err)
{
	struct rd r = { .err = err, .name = name ? name : "<buffer>", .base_dir = base_dir };
	char what[NP_ERROR_MAX / 2];
	json_error_t je;
	json_t *root;

	snprintf(what, sizeof(what), "cannot load experiment '%s'", r.name);
	r.x = np__exp_new();
	if (!r.x)
		return np__err(err, NP_ENOMEM, "out of memory");
	root = np__json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root && np__json_out_of_memory(&je))
		r.rc = np__err(err, NP_ENOMEM, "out of memory");
	else if (!root)
		fail(&r, "", "line %d: %s", je.line, je.text);
	else if (!read_all(&r, root))
		r.rc = np__exp_check(r.x, what, err);
	json_decref(root);
	if (r.rc) {
		np_sim_exp_free(r.x);
		return r.rc;
	}
	*out = r.x;
	return 0;
}

int np_sim_exp_load(const char *path, np_sim_exp **out, struct np_error *err)
{
	char *buf = NULL, *dir = NULL;
	size_t len = 0;
	int rc = np__read_file(path, FILE_MAX, &buf, &len, err);

	if (rc)
		return rc;
	dir = strdup(path);
	if (!dir) {
		free(buf);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	rc = np_sim_exp_parse(buf, len, path, dirname(dir), out, err);
	free(dir);
	free(buf);
	return rc;
}
