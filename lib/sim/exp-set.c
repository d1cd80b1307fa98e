/*
 * exp-set.c - changing an experiment after it was read: one setting by its
 * dotted key (`numaplace simulate --set model.smt_factor=0.7`), another
 * host, and the checks across members that both the reader and every
 * change must pass (np__exp_check).
 *
 * A change is validated before it is stored, so a failed np_sim_exp_set()
 * leaves the experiment as it was, except for the key "configs", which is
 * checked first and then applied.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-int.h"

#define LIST_MAX 64

/* ---- checks across members ------------------------------------------------------ */

static const struct np__config *find_config(const np_sim_exp *x, const char *name)
{
	for (int i = 0; i < x->nconfigs; i++)
		if (strcmp(x->configs[i].name, name) == 0)
			return &x->configs[i];
	return NULL;
}

static int check_times(const np_sim_exp *x, const char *what, struct np_error *err)
{
	if (x->measure_from_s >= x->duration_s)
		return np__err(err, NP_EINPUT, "%s: measure_from_s (%g) must be below duration_s "
			       "(%g)", what, x->measure_from_s, x->duration_s);
	if (x->model.sample_ms * 1000 < x->model.step_us)
		return np__err(err, NP_EINPUT, "%s: model.sample_ms must be at least one step "
			       "(model.step_us)", what);
	if (x->duration_s * 1e6 / x->model.step_us > 1e9)
		return np__err(err, NP_EINPUT, "%s: more than 10^9 steps (duration_s / "
			       "model.step_us)", what);
	for (int i = 0; i < x->nevents; i++)
		if (x->events[i].at_s > x->duration_s)
			return np__err(err, NP_EINPUT, "%s: events: at_s %g is after duration_s %g",
				       what, x->events[i].at_s, x->duration_s);
	return 0;
}

static int check_balancer(const np_sim_exp *x, const char *what, struct np_error *err)
{
	if (!(x->bal.idle < x->bal.overload))
		return np__err(err, NP_EINPUT, "%s: balancer.idle (%g) must be below "
			       "balancer.overload (%g)", what, x->bal.idle, x->bal.overload);
	if (!(x->bal.follow_fraction > 0.5))
		return np__err(err, NP_EINPUT, "%s: balancer.follow_fraction must be above 0.5",
			       what);
	return 0;
}

/* Moves name nodes of the host. */
static int check_moves(const np_sim_exp *x, const char *what, struct np_error *err)
{
	int n = x->topo ? np_topo_node_count(x->topo) : NP__SIM_NODES_MAX;

	for (int i = 0; i < x->nevents; i++)
		if (x->events[i].kind == NP__EV_MOVE &&
		    (x->events[i].from >= n || x->events[i].to >= n))
			return np__err(err, NP_EINPUT, "%s: the move of '%s' at %g s names a node "
				       "index the host lacks (it has %d nodes)", what,
				       x->events[i].guest, x->events[i].at_s, n);
	return 0;
}

int np__exp_check(const np_sim_exp *x, const char *what, struct np_error *err)
{
	int rc = check_times(x, what, err);

	if (!rc)
		rc = check_moves(x, what, err);

	if (rc || (rc = check_balancer(x, what, err)))
		return rc;
	if (x->baseline[0] && !find_config(x, x->baseline))
		return np__err(err, NP_EINPUT, "%s: baseline: no configuration '%s'", what,
			       x->baseline);
	for (int i = 0; i < x->nrefs; i++)
		if (!find_config(x, x->refs[i].config))
			return np__err(err, NP_EINPUT, "%s: reference.gains[%d].config: no "
				       "configuration '%s'", what, i, x->refs[i].config);
	if (!x->topo)
		return np__err(err, NP_EINPUT, "%s: host: missing", what);
	return 0;
}

/* ---- parsing a value --------------------------------------------------------------- */

static bool number(const char *text, double *out)
{
	char *end;
	double d;

	if (!text[0])
		return false;
	d = strtod(text, &end);
	if (*end != '\0' || !isfinite(d))
		return false;
	*out = d;
	return true;
}

/* "2,6,10" into OUT; the count, or -1 when malformed or out of [MIN, MAX]. */
static int int_list(const char *text, long min, long max, int *out)
{
	char buf[512], *save = NULL, *tok;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long v;

		if (n == LIST_MAX || !np__parse_int(tok, min, max, &v))
			return -1;
		out[n++] = (int)v;
	}
	return n > 0 ? n : -1;
}

static int bad_value(const char *key, const char *value, const char *what,
		     struct np_error *err)
{
	return np__err(err, NP_EINPUT, "cannot set '%s' to '%.60s': expected %s", key, value, what);
}

/* ---- settings ------------------------------------------------------------------------ */

static int set_counts(np_sim_exp *x, const char *key, const char *value, struct np_error *err)
{
	int list[LIST_MAX], n = int_list(value, 1, NP__SIM_GUESTS_MAX, list);
	int *copy;

	if (n < 0)
		return bad_value(key, value, "guest counts like 2,6,10", err);
	copy = np__calloc((size_t)n, sizeof(*copy));
	if (!copy)
		return np__err(err, NP_ENOMEM, "out of memory");
	memcpy(copy, list, sizeof(*copy) * (size_t)n);
	free(x->counts);
	x->counts = copy;
	x->ncounts = n;
	return 0;
}

/* Keep only the configurations named in VALUE, in that order. */
static int set_configs(np_sim_exp *x, const char *key, const char *value, struct np_error *err)
{
	char buf[512], *save = NULL, *tok;
	struct np__config keep[32];
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct np__config *c = find_config(x, tok);

		if (!c)
			return np__err(err, NP_EINPUT, "cannot set '%s': no configuration '%.60s' "
				       "in experiment '%s'", key, tok, x->name);
		if (n == 32)
			return bad_value(key, value, "at most 32 names", err);
		keep[n++] = *c;
	}
	if (n == 0)
		return bad_value(key, value, "configuration names like all-cpus,auto-pinning", err);
	memcpy(x->configs, keep, sizeof(*keep) * (size_t)n);
	x->nconfigs = n;
	if (x->baseline[0] && !find_config(x, x->baseline))
		x->baseline[0] = '\0';
	for (int i = 0; i < x->nrefs; i++)
		if (!find_config(x, x->refs[i].config))
			x->refs[i--] = x->refs[--x->nrefs];
	return 0;
}

static int set_model(np_sim_exp *x, const char *key, const char *name, const char *value,
		     struct np_error *err)
{
	const struct np__const *c = np__const_find(name);
	char what[96];
	double d;

	if (!c)
		return np__err(err, NP_EINPUT, "cannot set '%s': no model constant '%s' "
			       "(numaplace simulate --constants lists them)", key, name);
	snprintf(what, sizeof(what), "%s from %g to %g", c->integer ? "an integer" : "a number",
		 c->min, c->max);
	if (!number(value, &d) || d < c->min || d > c->max || (c->integer && d != floor(d)))
		return bad_value(key, value, what, err);
	*(double *)((char *)&x->model + c->off) = d;
	return 0;
}

#define BF(f, u, lo, hi) { #f, offsetof(struct np_bal_params, f), u, lo, hi }

static const struct np__bal_field bal_fields[] = {
	BF(stuck_ms, true, 0, 1e9), BF(rescue_ms, true, 0, 1e9), BF(cooldown_ms, true, 0, 1e9),
	BF(follow_fraction, false, 0.5, 1), BF(overload, false, 0, 64), BF(idle, false, 0, 64),
	BF(migrate_budget_mb, true, 0, 1e9), BF(migrate_mb_per_s, false, 1e-3, 1e9),
};

const struct np__bal_field *np__bal_field_find(const char *name)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(bal_fields); i++)
		if (strcmp(bal_fields[i].name, name) == 0)
			return &bal_fields[i];
	return NULL;
}

int np__bal_fields(const struct np__bal_field **out)
{
	*out = bal_fields;
	return (int)NP__ARRAY_SIZE(bal_fields);
}

void np__bal_field_store(struct np_bal_params *p, const struct np__bal_field *f, double d)
{
	char *at = (char *)p + f->off;

	if (f->is_u64)
		*(uint64_t *)at = (uint64_t)d;
	else
		*(double *)at = d;
}

static int set_balancer(np_sim_exp *x, const char *key, const char *name, const char *value,
			struct np_error *err)
{
	const struct np__bal_field *f = np__bal_field_find(name);
	char what[96];
	double d;

	if (!f)
		return np__err(err, NP_EINPUT, "cannot set '%s': no balancer parameter '%s'", key,
			       name);
	snprintf(what, sizeof(what), "%s from %g to %g", f->is_u64 ? "an integer" : "a number",
		 f->min, f->max);
	if (!number(value, &d) || d < f->min || d > f->max || (f->is_u64 && d != floor(d)))
		return bad_value(key, value, what, err);
	np__bal_field_store(&x->bal, f, d);
	return 0;
}

static int set_workload(np_sim_exp *x, const char *key, const char *rest, const char *value,
			struct np_error *err)
{
	const char *dot = strrchr(rest, '.');
	double d;

	for (int i = 0; dot && i < x->nworkloads; i++) {
		struct np__workload *w = &x->workloads[i];

		if (strlen(w->name) != (size_t)(dot - rest) || strncmp(w->name, rest, (size_t)(dot - rest)))
			continue;
		if (!number(value, &d) || d < 0)
			return bad_value(key, value, "a non-negative number", err);
		if (strcmp(dot + 1, "memory_intensity") == 0 && d <= 0.99)
			w->memory_intensity = d;
		else if (strcmp(dot + 1, "bandwidth_mb_s") == 0 && d <= 1e7)
			w->bandwidth_mb_s = d;
		else
			return np__err(err, NP_EINPUT, "cannot set '%s': workloads take "
				       "memory_intensity (0 to 0.99) and bandwidth_mb_s", key);
		return 0;
	}
	return np__err(err, NP_EINPUT, "cannot set '%s': no such workload", key);
}

static int set_top(np_sim_exp *x, const char *key, const char *value, struct np_error *err)
{
	double d;
	long l;

	if (strcmp(key, "duration_s") == 0 || strcmp(key, "measure_from_s") == 0) {
		if (!number(value, &d) || d < 0 || d > 1e6 || (key[0] == 'd' && d < 0.001))
			return bad_value(key, value, "seconds from 0.001 to 10^6", err);
		*(key[0] == 'd' ? &x->duration_s : &x->measure_from_s) = d;
		return 0;
	}
	if (strcmp(key, "repetitions") == 0) {
		if (!np__parse_int(value, 1, 1000, &l))
			return bad_value(key, value, "an integer from 1 to 1000", err);
		x->repetitions = (int)l;
		return 0;
	}
	if (strcmp(key, "seed") == 0) {
		uint64_t u;

		if (!np__parse_u64(value, &u))
			return bad_value(key, value, "a non-negative integer", err);
		x->seed = u;
		return 0;
	}
	if (strcmp(key, "guest_counts") == 0)
		return set_counts(x, key, value, err);
	if (strcmp(key, "configs") == 0)
		return set_configs(x, key, value, err);
	return np__err(err, NP_EINPUT, "cannot set '%s': unknown setting (duration_s, "
		       "measure_from_s, repetitions, seed, guest_counts, configs, model.*, "
		       "balancer.*, workloads.*)", key);
}

static int set_one(np_sim_exp *x, const char *key, const char *value, struct np_error *err)
{
	if (strncmp(key, "model.", 6) == 0)
		return set_model(x, key, key + 6, value, err);
	if (strncmp(key, "balancer.", 9) == 0)
		return set_balancer(x, key, key + 9, value, err);
	if (strncmp(key, "workloads.", 10) == 0)
		return set_workload(x, key, key + 10, value, err);
	return set_top(x, key, value, err);
}

int np_sim_exp_set(np_sim_exp *x, const char *key, const char *value, struct np_error *err)
{
	char what[128];
	np_sim_exp saved;
	int rc;

	if (!x || !key || !value)
		return np__err(err, NP_EINPUT, "np_sim_exp_set: missing argument");
	saved = *x;
	rc = set_one(x, key, value, err);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "cannot set '%.60s' to '%.40s'", key, value);
	rc = np__exp_check(x, what, err);
	if (rc && strcmp(key, "guest_counts") != 0 && strcmp(key, "configs") != 0) {
		x->model = saved.model;
		x->bal = saved.bal;
		x->duration_s = saved.duration_s;
		x->measure_from_s = saved.measure_from_s;
	}
	return rc;
}

int np_sim_exp_set_host(np_sim_exp *x, np_topo *topo, struct np_error *err)
{
	if (!x || !topo)
		return np__err(err, NP_EINPUT, "np_sim_exp_set_host: missing argument");
	np_topo_free(x->topo);
	x->topo = topo;
	return 0;
}
