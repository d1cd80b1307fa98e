/*
 * test-sim.c - the simulator: experiments read and refused, runs that
 * repeat exactly under one seed, the invariant checker catching what it
 * must, the schedulers' defining behaviours (credit1 wakes a vCPU where it
 * last ran and the tick brings it home; credit2 queues it where its soft
 * affinity is), the stuck-vCPU case (stuck under credit1, not under
 * numaplace's balancer), memory migration, libxl's placement, the outputs,
 * and hosts from real topology sources.  Simulated durations are short so
 * the whole test takes seconds.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sim/sim-int.h"

static np_sim_exp *builtin(const char *name)
{
	struct np_error err = { 0 };
	np_sim_exp *x = NULL;

	CHECK(np_sim_exp_builtin(name, &x, &err) == 0, "builtin %s: %s", name, err.message);
	return x;
}

static void set(np_sim_exp *x, const char *key, const char *value)
{
	struct np_error err = { 0 };

	CHECK(np_sim_exp_set(x, key, value, &err) == 0, "set %s=%s: %s", key, value, err.message);
}

static np_sim_result *run(const np_sim_exp *x, int threads)
{
	struct np_sim_opts o;
	struct np_error err = { 0 };
	np_sim_result *r = NULL;

	np_sim_opts_default(&o);
	o.threads = threads;
	CHECK(np_sim_exp_run(x, &o, &r, &err) == 0, "run %s: %s", np_sim_exp_name(x), err.message);
	return r;
}

static const struct np_sim_row *row(const np_sim_result *r, const char *label, const char *config)
{
	const struct np_sim_row *p = r ? np_sim_result_find(r, label, config) : NULL;
	static const struct np_sim_row none;

	CHECK(p != NULL, "no row %s / %s", label, config);
	return p ? p : &none;
}

/* ---- reading experiments ------------------------------------------------------- */

static const char good[] =
	"{\"schema\": \"numaplace.experiment/1\", \"name\": \"t\",\n"
	" \"host\": {\"nodes\": 2, \"cores_per_node\": 2, \"memory_mb_per_node\": 4096},\n"
	" \"duration_s\": 1,\n"
	" \"guests\": [{\"name\": \"g\", \"vcpus\": 2, \"memory_mb\": 1024}],\n"
	" \"configs\": [{\"name\": \"a\", \"placement\": \"all-cpus\"}]}";

static void expect_bad(const char *json, const char *needle)
{
	struct np_error err = { 0 };
	np_sim_exp *x = NULL;
	int rc = np_sim_exp_parse(json, strlen(json), "t.json", NULL, &x, &err);

	CHECK(rc == NP_EINPUT && x == NULL, "'%s': rc %d", needle, rc);
	CHECK(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'", err.message, needle);
	CHECK(strncmp(err.message, "cannot load experiment 't.json': ", 33) == 0, "prefix: %s",
	      err.message);
	CHECK(strchr(err.message, '\n') == NULL, "one line: %s", err.message);
	np_sim_exp_free(x);
}

/* GOOD with the text FROM replaced by TO. */
static void expect_bad_edit(const char *from, const char *to, const char *needle)
{
	char buf[2048];
	const char *at = strstr(good, from);

	if (!at) {
		CHECK(0, "test bug: '%s' not in the good experiment", from);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
	expect_bad(buf, needle);
}

static void test_parse(void)
{
	struct np_error err = { 0 };
	np_sim_exp *x = NULL;

	CHECK(np_sim_exp_parse(good, strlen(good), "t.json", NULL, &x, &err) == 0, "good: %s",
	      err.message);
	np_sim_exp_free(x);
	np_sim_exp_free(NULL);
	expect_bad("{\"schema\": \"numaplace.experiment/1\",", "line 1");
	expect_bad("[1, 2]", "expected a JSON object");
	expect_bad_edit("numaplace.experiment/1", "numaplace.topology/1", "schema");
	expect_bad_edit("\"vcpus\": 2", "\"vcpus\": -2", "guests[0].vcpus: expected an integer");
	expect_bad_edit("\"vcpus\": 2", "\"vcpus\": \"two\"", "guests[0].vcpus");
	expect_bad_edit("\"vcpus\": 2", "\"vcpus\": 1e300", "guests[0].vcpus");
	expect_bad_edit("\"vcpus\": 2", "\"vcpu\": 2", "guests[0]: unknown key 'vcpu'");
	expect_bad_edit("\"duration_s\": 1", "\"duration_s\": 0", "duration_s");
	expect_bad_edit("\"duration_s\": 1", "\"durration_s\": 1", "unknown key 'durration_s'");
	expect_bad_edit("\"memory_mb\": 1024}", "\"memory_mb\": 1024, \"workload\": \"nope\"}",
			"guests[0].workload: no workload 'nope'");
	expect_bad_edit("\"memory_mb\": 1024}", "\"memory_mb\": 1024, \"affinity\": \"soft\"}",
			"need \"home\"");
	expect_bad_edit("\"memory_mb\": 1024}", "\"memory_mb\": 1024, \"home\": [99]}",
			"home: item 0");
	expect_bad_edit("\"memory_mb\": 1024}",
			"\"memory_mb\": 1024, \"memory\": {\"mb_per_node\": [1000, 1]}}",
			"adds up to 1001");
	expect_bad_edit("\"placement\": \"all-cpus\"", "\"placement\": \"everywhere\"",
			"configs[0].placement: 'everywhere' is none of");
	expect_bad_edit("\"configs\": [", "\"baseline\": \"zz\", \"configs\": [",
			"baseline: no configuration 'zz'");
}

static void test_parse_members(void)
{
	expect_bad_edit("\"configs\": [", "\"events\": [{\"at_s\": 0.5, \"action\": \"pause\", "
			"\"guest\": \"h\"}], \"configs\": [", "events[0].guest: no guest 'h'");
	expect_bad_edit("\"configs\": [", "\"events\": [{\"at_s\": 5, \"action\": \"pause\", "
			"\"guest\": \"g\"}], \"configs\": [", "after duration_s");
	expect_bad_edit("\"configs\": [", "\"model\": {\"smt_factor\": 2}, \"configs\": [",
			"model.smt_factor: expected a number from 0.05 to 1");
	expect_bad_edit("\"configs\": [", "\"model\": {\"warp\": 2}, \"configs\": [",
			"unknown constant 'warp'");
	expect_bad_edit("\"configs\": [", "\"balancer\": {\"idle\": 5}, \"configs\": [",
			"balancer.idle");
	expect_bad_edit("\"cores_per_node\": 2", "\"cores_per_node\": 0", "host");
	expect_bad_edit("\"nodes\": 2, \"cores_per_node\": 2, \"memory_mb_per_node\": 4096",
			"\"topology\": \"/nonexistent/host.json\"", "host.topology");
	expect_bad_edit("{\"name\": \"a\", \"placement\": \"all-cpus\"}",
			"{\"name\": \"a\"}, {\"name\": \"a\"}", "two configurations named 'a'");
}

static void test_builtins_parse(void)
{
	struct np_error err = { 0 };
	np_sim_exp *x = NULL;

	CHECK(np_sim_exp_builtin("nope", &x, &err) == NP_EINPUT &&
		      strstr(err.message, "no built-in experiment 'nope'"), "unknown builtin: %s",
	      err.message);
	for (const char *const *n = np_sim_builtin_names(); *n; n++) {
		np_sim_exp *b = builtin(*n);

		CHECK(np_sim_builtin_summary(*n) && np_sim_builtin_json(*n), "%s has text", *n);
		np_sim_exp_free(b);
	}
}

static void test_set(void)
{
	np_sim_exp *x = builtin("lpc2012");
	struct np_error err = { 0 };

	if (!x)
		return;
	set(x, "model.smt_factor", "0.7");
	CHECK(x->model.smt_factor == 0.7, "model constant set");
	set(x, "workloads.specjbb.memory_intensity", "0.4");
	CHECK(x->workloads[0].memory_intensity == 0.4, "workload set");
	set(x, "guest_counts", "2,6");
	CHECK(x->ncounts == 2 && x->counts[1] == 6, "guest counts set");
	set(x, "balancer.stuck_ms", "1500");
	CHECK(x->bal.stuck_ms == 1500, "balancer set");
	CHECK(np_sim_exp_set(x, "model.smt_factor", "7", &err) == NP_EINPUT &&
		      strstr(err.message, "model.smt_factor"), "out of range: %s", err.message);
	CHECK(x->model.smt_factor == 0.7, "a refused value changes nothing");
	CHECK(np_sim_exp_set(x, "model.nope", "1", &err) == NP_EINPUT, "unknown constant");
	CHECK(np_sim_exp_set(x, "configs", "all-cpus,nope", &err) == NP_EINPUT &&
		      x->nconfigs == 3, "unknown configuration refused whole");
	CHECK(np_sim_exp_set(x, "measure_from_s", "100", &err) == NP_EINPUT &&
		      x->measure_from_s == 0, "measure_from past the end refused");
	CHECK(np_sim_exp_set(x, "guest_counts", "2,,x", &err) == NP_EINPUT, "bad list");
	CHECK(np_sim_exp_set(x, "bogus", "1", &err) == NP_EINPUT, "unknown key");
	set(x, "configs", "auto-pinning,all-cpus");
	CHECK(x->nconfigs == 2 && strcmp(x->configs[0].name, "auto-pinning") == 0,
	      "configs kept in the order given");
	np_sim_exp_free(x);
}

/* ---- determinism ----------------------------------------------------------------- */

static bool same_rows(const np_sim_result *a, const np_sim_result *b)
{
	if (!a || !b || np_sim_result_row_count(a) != np_sim_result_row_count(b))
		return false;
	for (int i = 0; i < np_sim_result_row_count(a); i++) {
		const struct np_sim_row *p = np_sim_result_row(a, i), *q = np_sim_result_row(b, i);

		if (p->throughput_mean != q->throughput_mean ||
		    p->throughput_stddev != q->throughput_stddev ||
		    p->outside_vcpus != q->outside_vcpus || p->remote_fraction != q->remote_fraction)
			return false;
	}
	return true;
}

static void test_determinism(void)
{
	np_sim_exp *x = builtin("bursty");
	np_sim_result *a, *b, *c;

	if (!x)
		return;
	set(x, "duration_s", "6");
	set(x, "repetitions", "2");
	a = run(x, 1);
	b = run(x, 2);
	CHECK(same_rows(a, b), "same seed, one thread or two: the same result");
	set(x, "seed", "8");
	c = run(x, 2);
	CHECK(c && !same_rows(a, c), "another seed: another result");
	CHECK(a && row(a, "bursty", "static-soft")->throughput_stddev > 0,
	      "repetitions differ from each other");
	np_sim_result_free(a);
	np_sim_result_free(b);
	np_sim_result_free(c);
	np_sim_exp_free(x);
}

/* ---- the invariant checker ------------------------------------------------------- */

/* A run of lpc2012's first case under configuration CF, stepped to 50 ms. */
static struct np__sim *small_run(np_sim_exp *x, int cf, int nguests)
{
	struct np_error err = { 0 };
	struct np__sim *s = NULL;
	int t[16] = { 0 };

	CHECK(np__sim_new(x, &x->configs[cf], t, nguests, 5, true, &s, &err) == 0, "new: %s",
	      err.message);
	for (int i = 0; s && i < 50; i++)
		CHECK(np__sim_step(s) == 0, "step %d: %s", i, s->fail);
	return s;
}

static int busy_cpu(const struct np__sim *s, int after)
{
	for (int c = after + 1; c < s->ncpus; c++)
		if (s->cpus[c].curr >= 0)
			return c;
	return -1;
}

static int idle_cpu(const struct np__sim *s)
{
	for (int c = 0; c < s->ncpus; c++)
		if (s->cpus[c].curr < 0)
			return c;
	return -1;
}

static void expect_broken(struct np__sim *s, const char *needle)
{
	char msg[256] = "";

	CHECK(np__sim_check(s, msg, sizeof(msg)) != 0 && strstr(msg, needle), "checker says "
	      "'%s', want '%s'", msg, needle);
}

static void test_checker(void)
{
	np_sim_exp *x = builtin("lpc2012");
	struct np__sim *s;
	char msg[256];
	int c, d, v;

	if (!x)
		return;
	s = small_run(x, 1, 2); /* auto-pinning: each guest on one node */
	if (!s)
		goto out;
	CHECK(np__sim_check(s, msg, sizeof(msg)) == 0, "a good state passes: %s", msg);
	c = busy_cpu(s, -1);
	d = idle_cpu(s);
	CHECK(c >= 0 && d >= 0, "one busy and one idle pCPU");
	if (c < 0 || d < 0)
		goto done;
	v = s->cpus[c].curr;
	s->cpus[d].curr = v; /* the same vCPU on two pCPUs */
	expect_broken(s, "says it is on");
	s->cpus[d].curr = -1;
	np__set_del(s->vcpus[v].hard, c); /* running outside its hard affinity */
	expect_broken(s, "outside its hard affinity");
	np__set_add(s->vcpus[v].hard, c);
	s->guests[0].mem_mb[0] += 1; /* memory appearing from nowhere */
	expect_broken(s, "MiB");
	s->guests[0].mem_mb[0] -= 1;
	s->vcpus[v].state = NP__V_BLOCKED; /* a pCPU running a sleeping vCPU */
	expect_broken(s, "not running");
	s->vcpus[v].state = NP__V_RUNNING;
	CHECK(np__sim_check(s, msg, sizeof(msg)) == 0, "repaired state passes: %s", msg);
done:
	np__sim_free(s);
out:
	np_sim_exp_free(x);
}

/* Invariants hold at every step of every built-in under every configuration. */
static void test_builtins_hold(void)
{
	for (const char *const *n = np_sim_builtin_names(); *n; n++) {
		np_sim_exp *x = builtin(*n);
		np_sim_result *r;

		if (!x)
			continue;
		set(x, "measure_from_s", "0");
		set(x, "repetitions", "1");
		if (x->nevents == 0)
			set(x, "duration_s", "2");
		if (x->ncounts)
			set(x, "guest_counts", "2,10");
		r = run(x, 2);
		CHECK(r && np_sim_result_row_count(r) > 0, "%s ran", *n);
		for (int i = 0; r && i < np_sim_result_row_count(r); i++) {
			const struct np_sim_row *p = np_sim_result_row(r, i);

			CHECK(p->throughput_mean > 0 && isfinite(p->throughput_mean),
			      "%s %s: throughput %g", *n, p->config, p->throughput_mean);
			CHECK(p->remote_fraction >= 0 && p->remote_fraction <= 1, "remote share");
		}
		np_sim_result_free(r);
		np_sim_exp_free(x);
	}
}

/* ---- schedulers ------------------------------------------------------------------- */

static const char soft_one[] =
	"{\"schema\": \"numaplace.experiment/1\", \"name\": \"one\",\n"
	" \"host\": {\"nodes\": 2, \"cores_per_node\": 2, \"memory_mb_per_node\": 4096},\n"
	" \"duration_s\": 1,\n"
	" \"workloads\": {\"w\": {\"base\": \"cpu-bound\"}},\n"
	" \"guests\": [{\"name\": \"g\", \"vcpus\": 1, \"memory_mb\": 1024, \"workload\": \"w\",\n"
	"              \"home\": [0], \"affinity\": \"soft\"},\n"
	"             {\"name\": \"h\", \"vcpus\": 2, \"memory_mb\": 1024, \"workload\": \"w\",\n"
	"              \"home\": [0], \"affinity\": \"hard\"}],\n"
	" \"configs\": [{\"name\": \"c1\"}, {\"name\": \"c2\", \"scheduler\": \"credit2\"}]}";

static np_sim_exp *parse(const char *json)
{
	struct np_error err = { 0 };
	np_sim_exp *x = NULL;

	CHECK(np_sim_exp_parse(json, strlen(json), "inline", NULL, &x, &err) == 0, "parse: %s",
	      err.message);
	return x;
}

/* Step S until vCPU V runs, at most N steps; its pCPU's node, or -1. */
static int node_when_running(struct np__sim *s, int v, int n)
{
	for (int i = 0; i < n; i++) {
		if (np__sim_step(s)) {
			CHECK(0, "step: %s", s->fail);
			return -1;
		}
		if (s->vcpus[v].state == NP__V_RUNNING)
			return s->cpus[s->vcpus[v].cpu].node;
	}
	return -1;
}

/* credit1: a vCPU wakes where it last ran, soft affinity or not; the tick brings it home. */
static void test_credit1_wake(void)
{
	np_sim_exp *x = parse(soft_one);
	struct np_error err = { 0 };
	struct np__sim *s = NULL;
	int t[1] = { 0 }, n;

	if (!x || np__sim_new(x, &x->configs[0], t, 1, 3, true, &s, &err)) {
		CHECK(0, "new: %s", err.message);
		np_sim_exp_free(x);
		return;
	}
	s->vcpus[0].cpu = 3; /* it last ran on node 1 */
	n = node_when_running(s, 0, 20);
	CHECK(n == 1, "woken on its last pCPU, outside its soft affinity (node %d)", n);
	for (int i = 0; i < 40; i++)
		np__sim_step(s);
	CHECK(s->vcpus[0].state == NP__V_RUNNING && s->cpus[s->vcpus[0].cpu].node == 0,
	      "the 10 ms tick found an idle pCPU at home and moved it");
	np__sim_free(s);
	np_sim_exp_free(x);
}

/* credit2: a waking vCPU goes to the runqueue of its soft affinity, busy or not. */
static void test_credit2_wake(void)
{
	np_sim_exp *x = parse(soft_one);
	struct np_error err = { 0 };
	struct np__sim *s = NULL;
	int t[2] = { 1, 0 }, n;

	if (!x || np__sim_new(x, &x->configs[1], t, 2, 3, true, &s, &err)) {
		CHECK(0, "new: %s", err.message);
		np_sim_exp_free(x);
		return;
	}
	n = node_when_running(s, 2, 30); /* guest h (2 vCPUs) fills node 0 first */
	for (int i = 0; i < 200; i++)
		np__sim_step(s);
	CHECK(s->vcpus[2].state != NP__V_PAUSED && s->cpus[s->vcpus[2].cpu].node == 0,
	      "queued or running on node 0 with node 0 busy (node %d)", n);
	np__sim_free(s);
	np_sim_exp_free(x);
}

/* ---- the stuck vCPUs -------------------------------------------------------------- */

static void test_stuck(void)
{
	np_sim_exp *x = builtin("stuck-vcpus");
	const struct np_sim_row *c1, *c2, *np;
	np_sim_result *r;

	if (!x)
		return;
	x->events[0].at_s = 2;  /* pause A */
	x->events[1].at_s = 4;  /* unpause A, pause B */
	x->events[2].at_s = 4;
	set(x, "measure_from_s", "4");
	set(x, "duration_s", "14");
	set(x, "repetitions", "2");
	r = run(x, 2);
	if (!r)
		goto out;
	c1 = row(r, "stuck-vcpus", "credit1");
	c2 = row(r, "stuck-vcpus", "credit2");
	np = row(r, "stuck-vcpus", "numaplace");
	CHECK(c1->outside_vcpus >= 2, "credit1 leaves vCPUs outside their soft affinity: %.2f",
	      c1->outside_vcpus);
	CHECK(np->outside_vcpus <= 2 && np->outside_vcpus < c1->outside_vcpus / 2,
	      "numaplace brings them home: %.2f vs credit1 %.2f", np->outside_vcpus,
	      c1->outside_vcpus);
	CHECK(np->throughput_mean > c1->throughput_mean, "and gains throughput: %.3f vs %.3f",
	      np->throughput_mean, c1->throughput_mean);
	CHECK(np->actions > 0 && c1->actions == 0, "only the balancer acts");
	CHECK(c2->remote_fraction > 0, "credit2 also runs some remotely here: %.3f",
	      c2->remote_fraction);
	np_sim_result_free(r);
out:
	np_sim_exp_free(x);
}

/* ---- memory, placement ------------------------------------------------------------ */

static void test_migration(void)
{
	np_sim_exp *x = builtin("bursty");
	np_sim_result *r;

	if (!x)
		return;
	set(x, "duration_s", "20");
	set(x, "repetitions", "1");
	set(x, "configs", "static-pinned,static-soft,numaplace");
	r = run(x, 2);
	if (r) {
		const struct np_sim_row *pin = row(r, "bursty", "static-pinned");
		const struct np_sim_row *soft = row(r, "bursty", "static-soft");
		const struct np_sim_row *bal = row(r, "bursty", "numaplace");

		CHECK(pin->remote_fraction == 0 && pin->outside_vcpus == 0,
		      "pinned with local memory: never remote");
		CHECK(soft->remote_fraction > 0.05, "soft affinity spills onto the idle node: %.3f",
		      soft->remote_fraction);
		CHECK(bal->migrated_mb > 0 && bal->actions > 0, "the balancer moved memory: %.0f MiB",
		      bal->migrated_mb);
		CHECK(pin->migrated_mb == 0 && soft->migrated_mb == 0, "static configs move none");
		CHECK(bal->throughput_mean > pin->throughput_mean, "rebalancing beats pinning");
	}
	np_sim_result_free(r);
	np_sim_exp_free(x);
}

static void test_placement(void)
{
	np_sim_exp *x = builtin("lpc2012");
	struct np_error err = { 0 };
	struct np__sim *s = NULL;
	int t[10] = { 0 }, on0 = 0;

	if (!x || np__sim_new(x, &x->configs[1], t, 10, 1, true, &s, &err)) {
		CHECK(0, "new: %s", err.message);
		np_sim_exp_free(x);
		return;
	}
	for (int g = 0; g < 10; g++) {
		CHECK(s->guests[g].home == 1 || s->guests[g].home == 2, "one node each");
		on0 += s->guests[g].home == 1;
		CHECK(s->guests[g].mem_mb[s->guests[g].home == 1 ? 0 : 1] == 960,
		      "memory on its node");
	}
	CHECK(on0 == 5, "libxl alternates: 5 guests per node, got %d on node 0", on0);
	CHECK(s->guests[0].home == 1 && s->guests[1].home == 2, "ties go to the first node");
	np__sim_free(s);
	np_sim_exp_free(x);
}

/* ---- outputs ------------------------------------------------------------------------ */

static char *write_to_string(const np_sim_result *r, enum np_sim_format f)
{
	struct np_error err = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CHECK(m && np_sim_result_write(r, f, m, &err) == 0, "write: %s", err.message);
	if (m)
		fclose(m);
	return buf;
}

static void test_output(void)
{
	np_sim_exp *x = builtin("lpc2012");
	np_sim_result *r;
	json_error_t je;
	json_t *j, *rows;
	char *text, *svg;
	int series = 0;

	if (!x)
		return;
	set(x, "duration_s", "1");
	set(x, "guest_counts", "2,4");
	r = run(x, 2);
	if (!r)
		goto out;
	text = write_to_string(r, NP_SIM_JSON);
	j = text ? json_loads(text, 0, &je) : NULL;
	CHECK(j != NULL, "JSON parses back: %s", j ? "" : je.text);
	rows = json_object_get(j, "rows");
	CHECK(strcmp(json_string_value(json_object_get(j, "experiment")), "lpc2012") == 0,
	      "experiment named");
	CHECK(json_array_size(rows) == 6, "2 cases x 3 configurations: %zu", json_array_size(rows));
	for (size_t i = 0; i < json_array_size(rows); i++) {
		json_t *o = json_array_get(rows, i);

		CHECK(json_is_integer(json_object_get(o, "guests")) &&
			      json_is_string(json_object_get(o, "config")) &&
			      json_is_number(json_object_get(o, "throughput_mean")) &&
			      json_is_number(json_object_get(o, "throughput_stddev")),
		      "row %zu has guests, config, throughput_mean, throughput_stddev", i);
	}
	CHECK(json_array_size(json_object_get(j, "gains")) == 4, "gains over all-cpus");
	json_decref(j);
	free(text);
	svg = write_to_string(r, NP_SIM_SVG);
	for (const char *p = svg; p && (p = strstr(p, "class=\"series\"")); p++)
		series++;
	CHECK(svg && strncmp(svg, "<?xml", 5) == 0 && strstr(svg, "</svg>"), "an SVG document");
	CHECK(series == 6, "a throughput line and a timeline per configuration: %d", series);
	free(svg);
	text = write_to_string(r, NP_SIM_TEXT);
	CHECK(text && strstr(text, "gain over all-cpus") && strstr(text, "simulated seconds per"),
	      "text has the gains and the speed");
	free(text);
	np_sim_result_free(r);
out:
	np_sim_exp_free(x);
}

/* ---- hosts from topology sources ---------------------------------------------------- */

static void on_host(np_topo *t, const char *what)
{
	np_sim_exp *x = builtin("lpc2012");
	struct np_error err = { 0 };
	np_sim_result *r;

	if (!x || !t) {
		np_topo_free(t);
		np_sim_exp_free(x);
		return;
	}
	CHECK(np_sim_exp_set_host(x, t, &err) == 0, "set host: %s", err.message);
	set(x, "duration_s", "1");
	set(x, "guest_counts", "4");
	r = run(x, 2);
	if (r) {
		CHECK(row(r, "4 guests", "auto-pinning")->remote_fraction == 0,
		      "%s: pinned guests stay local", what);
		CHECK(row(r, "4 guests", "all-cpus")->remote_fraction > 0.3,
		      "%s: striped memory is mostly remote", what);
	}
	np_sim_result_free(r);
	np_sim_exp_free(x);
}

static void test_hosts(void)
{
	struct np_error err = { 0 };
	np_topo *t = NULL;

	CHECK(np_topo_load(NP_SOURCE_JSON, t_data("json/full.json"), &t, &err) == 0, "json: %s", err.message);
	on_host(t, "topology JSON");
}

static void test_hosts_fixture(void)
{
	struct np_error err = { 0 };
	np_topo *t = NULL;

	t_needs(NP_HAVE_HWLOC, "hwloc");
	CHECK(np_topo_load(NP_SOURCE_SYSFS, t_fixture("64amd64-4s2n4ca2co"), &t, &err) == 0,
	      "sysfs: %s", err.message);
	on_host(t, "64-CPU 8-node sysfs");
}

int main(void)
{
	T_CASE("parse", test_parse());
	T_CASE("parse-members", test_parse_members());
	T_CASE("builtins-parse", test_builtins_parse());
	T_CASE("set", test_set());
	T_CASE("determinism", test_determinism());
	T_CASE("checker", test_checker());
	T_CASE("builtins-hold", test_builtins_hold());
	T_CASE("credit1-wake", test_credit1_wake());
	T_CASE("credit2-wake", test_credit2_wake());
	T_CASE("stuck", test_stuck());
	T_CASE("migration", test_migration());
	T_CASE("placement", test_placement());
	T_CASE("output", test_output());
	T_CASE("hosts", test_hosts());
	T_CASE("hosts-fixture", test_hosts_fixture());
	return t_done();
}
