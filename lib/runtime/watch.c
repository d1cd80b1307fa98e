/*
 * watch.c - np_watch(): hands-off placement on a libvirt host.  This is
 * the core's half: what to do when a domain starts or stops (claim, place,
 * apply; release), with the same claim, engine and apply code as the
 * claim and apply verbs.  Module libvirt's event loop (lv-watch.c) tells
 * it which domains run, start and stop; libvirt itself is only there.
 *
 * A domain's claim is "domain:NAME" in the state file.  The claim is made
 * under the state's exclusive lock and committed before anything is
 * applied, so the node capacity is promised before a domain is touched,
 * and watchers, `numaplace claim` and schedulers sharing the file never
 * over-commit a node.  A domain already claimed (the watcher restarted, or
 * the start event came after the reconciliation that saw it) keeps its
 * claim and has it applied again: applying is idempotent.
 *
 * The request: the domain's vCPUs and memory (virDomainGetInfo) as a
 * flavor, plus the extra specs of the options; the domain's XML is not
 * read (huge pages, cells and host devices of the XML are not taken).
 * The memory mode of a running QEMU domain cannot change, only its node
 * set, so the node set is set and the mode left as it is.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>
#include <numaplace/state.h>

#include "module/module.h"
#include "runtime/rt-int.h"

struct np__watcher {
	const np_topo *topo;
	const struct np_watch_opts *o;
	const struct np__mod_libvirt *lv;
	np_watch_log_fn *log;
	void *ctx;
};

static void say(const struct np__watcher *w, const char *name, const char *what,
		const char *fmt, ...) NP__PRINTF(4, 5);

static void say(const struct np__watcher *w, const char *name, const char *what,
		const char *fmt, ...)
{
	struct np_watch_log e = { .what = what };
	va_list ap;

	if (!w->log)
		return;
	snprintf(e.domain, sizeof(e.domain), "%s", name ? name : "");
	va_start(ap, fmt);
	vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
	va_end(ap);
	w->log(w->ctx, &e);
}

static void claim_id(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "domain:%s", name);
}

/* D's request: its vCPUs and memory as a flavor, with the extra specs. */
static int request_of(const struct np__watcher *w, const struct np__watch_dom *d,
		      np_request **req, struct np_error *err)
{
	const char *extra = w->o->extra_specs;
	uint64_t mb = (d->memory_kb + 1023) / 1024;
	size_t size = 64 + (extra ? strlen(extra) : 0);
	char *flavor = malloc(size);
	int rc;

	if (!flavor)
		return np__err(err, NP_ENOMEM, "out of memory");
	snprintf(flavor, size, "vcpus=%u,ram=%" PRIu64 "%s%s", d->vcpus, mb ? mb : 1,
		 extra && *extra ? "," : "", extra && *extra ? extra : "");
	rc = np_request_from_flavor_text(flavor, NULL, req, err);
	free(flavor);
	return rc;
}

/* Place D on HOST (the state's usage charged) and record it in ST. */
static int claim_new(struct np__watcher *w, np_state *st, np_host *host, const char *id,
		     const struct np__watch_dom *d, np_plan **plan, struct np_error *err)
{
	np_request *req = NULL;
	np_plan *p = NULL;
	int rc = request_of(w, d, &req, err);

	if (!rc)
		rc = np_place(host, req, NULL, &p, err);
	if (!rc && !np_plan_fits(p)) {
		const char *why = np_plan_no_fit_summary(p);

		rc = np__err(err, NP_ENOFIT, "%u vCPUs, %" PRIu64 " MiB: %s", d->vcpus,
			     (d->memory_kb + 1023) / 1024, why && *why ? why : "does not fit");
	}
	if (!rc && !w->o->dry_run &&
	    !(rc = np_state_claim(st, id, p, err)))
		rc = np_state_commit(st, err);
	np_request_free(req);
	if (rc) {
		np_plan_free(p);
		return rc;
	}
	*plan = p;
	return 0;
}

/* D's claim (made now, or *KEPT from before) in *PLAN. */
static int claim(struct np__watcher *w, const struct np__watch_dom *d, np_plan **plan,
		 bool *kept, struct np_error *err)
{
	char id[NP_CLAIM_ID_MAX + 16];
	np_state *st = NULL;
	np_host *host = NULL;
	int rc;

	claim_id(d->name, id, sizeof(id));
	rc = np_state_open(w->o->state_path, w->o->dry_run, &st, err);
	if (!rc)
		rc = np_host_new(w->topo, &host, err);
	if (!rc)
		rc = np_state_apply(st, host, err);
	*kept = false;
	for (int i = 0; !rc && i < np_state_claim_count(st); i++)
		*kept = *kept || strcmp(np_state_claim_id(st, i), id) == 0;
	if (!rc)
		rc = *kept ? np_state_claim_plan(st, id, w->topo, plan, err)
			   : claim_new(w, st, host, id, d, plan, err);
	np_state_close(st);
	np_host_free(host);
	return rc;
}

/* The apply spec of PLAN (NODES and PINS are the caller's to free). */
static int spec_of(const struct np__watcher *w, const np_plan *plan, struct np_apply_spec *s,
		   int **nodes, struct np_rt_pin **pins)
{
	const int *set;
	int n = np_plan_nodeset(plan, &set), np = 0, max = 0;

	for (int c = 0; c < np_plan_cell_count(plan); c++)
		max += np_plan_cell(plan, c)->npins;
	*nodes = np__calloc((size_t)n + 1, sizeof(int));
	*pins = np__calloc((size_t)max + 1, sizeof(**pins));
	if (!*nodes || !*pins)
		return NP_ENOMEM;
	memcpy(*nodes, set, (size_t)n * sizeof(int));
	for (int c = 0; c < np_plan_cell_count(plan); c++) {
		const struct np_plan_cell *cell = np_plan_cell(plan, c);

		for (int i = 0; i < cell->npins; i++)
			(*pins)[np++] = (struct np_rt_pin){ cell->pins[i].vcpu, cell->pins[i].pcpu };
	}
	*s = (struct np_apply_spec){
		.nnodes = n, .nodes = *nodes, .npins = np, .pins = *pins,
		.affinity = np_plan_affinity(plan) == NP_AFFINITY_SOFT ? NP_AFFINITY_SOFT
								       : NP_AFFINITY_HARD,
		.migrate = true, .io_threads = true, .dry_run = w->o->dry_run,
		.run_dir = w->o->run_dir,
	};
	return 0;
}

/* "nodes 0-1, vCPUs pinned to 2,3 / on CPUs 0-7": what the plan gives D. */
static void describe(const np_topo *topo, const struct np_apply_spec *s, char *buf,
		     size_t size)
{
	int ids[256], cpus[1024], k = 0, nc = 0;
	char nl[300], cl[600];

	for (int i = 0; i < s->nnodes && k < 256; i++)
		ids[k++] = np_topo_node(topo, s->nodes[i])->os_id;
	np__format_cpulist(ids, k, nl, sizeof(nl));
	for (int i = 0; i < s->npins && nc < 1024; i++)
		cpus[nc++] = s->pins[i].cpu;
	if (nc == 0)
		for (int i = 0; i < np_topo_cpu_count(topo) && nc < 1024; i++) {
			const struct np_cpu *c = np_topo_cpu(topo, i);

			for (int j = 0; j < s->nnodes; j++)
				if (c->node_idx == s->nodes[j] && c->online)
					cpus[nc++] = c->os_id;
		}
	for (int i = 1; i < nc; i++) /* increasing, as the cpulist wants */
		for (int j = i; j > 0 && cpus[j - 1] > cpus[j]; j--) {
			int t = cpus[j];

			cpus[j] = cpus[j - 1];
			cpus[j - 1] = t;
		}
	np__format_cpulist(cpus, nc, cl, sizeof(cl));
	/* A long CPU list is cut: the state file has the whole plan. */
	if (snprintf(buf, size, "node%s %s, vCPUs %s CPUs %s%s", k > 1 ? "s" : "", nl,
		     s->npins ? "pinned to" : s->affinity == NP_AFFINITY_SOFT ? "prefer" : "on",
		     cl, s->affinity == NP_AFFINITY_SOFT ? " (soft, for the balancer)" : "") < 0)
		buf[0] = '\0';
}

static int started(struct np__watcher *w, void *conn, const struct np__watch_dom *d,
		   struct np_error *err)
{
	struct np_error e = { 0 };
	struct np_apply_result res = { 0 };
	struct np_apply_spec s;
	struct np_rt_pin *pins = NULL;
	np_plan *plan = NULL;
	int *nodes = NULL, rc;
	bool kept = false;
	char what[500];

	rc = claim(w, d, &plan, &kept, &e);
	if (rc == NP_ENOMEM)
		return np__err(err, rc, "out of memory");
	if (rc) {
		say(w, d->name, rc == NP_ENOFIT ? "no-fit" : "failed", "%s", e.message);
		return 0;
	}
	if (spec_of(w, plan, &s, &nodes, &pins)) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	describe(w->topo, &s, what, sizeof(what));
	if (w->lv->domain_apply_on(conn, w->topo, d->name, &s, &res, &e))
		say(w, d->name, "failed", "claimed (%s) but not applied: %s", what, e.message);
	else
		say(w, d->name, kept ? "kept" : "placed", "%s%s", what,
		    w->o->dry_run ? " (dry run: nothing claimed or changed)" : "");
out:
	np_apply_result_free(&res);
	free(nodes);
	free(pins);
	np_plan_free(plan);
	return rc;
}

/* Release claim ID (of domain NAME) and its soft preference. */
static int release(struct np__watcher *w, const char *name, struct np_error *err)
{
	struct np_error e = { 0 };
	char id[NP_CLAIM_ID_MAX + 16];
	np_state *st = NULL;
	bool found = false;
	int rc;

	claim_id(name, id, sizeof(id));
	if (w->o->dry_run) {
		say(w, name, "released", "stopped (dry run: claim kept)");
		return 0;
	}
	rc = np_state_open(w->o->state_path, false, &st, &e);
	if (!rc)
		rc = np_state_release(st, id, &found, &e);
	if (!rc && found)
		rc = np_state_commit(st, &e);
	np_state_close(st);
	if (!rc)
		np_pref_remove(w->o->run_dir, &(struct np_target){ .uri = w->o->uri,
								   .domain = name }, NULL);
	if (rc == NP_ENOMEM)
		return np__err(err, rc, "out of memory");
	if (rc)
		say(w, name, "failed", "cannot release its claim: %s", e.message);
	else
		say(w, name, found ? "released" : "skip", "%s", found ? "stopped: claim released"
			: "stopped: it had no claim");
	return 0;
}

static int stopped(struct np__watcher *w, const char *name, struct np_error *err)
{
	return release(w, name, err);
}

static bool listed(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* At start: the "domain:" claims of domains that no longer run are released. */
static int running(struct np__watcher *w, const char *const *names, int n,
		   struct np_error *err)
{
	struct np_error e = { 0 };
	np_state *st = NULL;
	char **gone = NULL;
	int ngone = 0, rc = np_state_open(w->o->state_path, true, &st, &e);

	if (rc == 0 && !(gone = np__calloc((size_t)np_state_claim_count(st) + 1, sizeof(*gone))))
		rc = NP_ENOMEM;
	for (int i = 0; !rc && i < np_state_claim_count(st); i++) {
		const char *id = np_state_claim_id(st, i);

		if (strncmp(id, "domain:", 7) == 0 && !listed(names, n, id + 7) &&
		    !(gone[ngone++] = strdup(id + 7)))
			rc = NP_ENOMEM;
	}
	np_state_close(st); /* release() takes the lock again, per domain */
	if (rc && rc != NP_ENOMEM)
		say(w, NULL, "failed", "cannot read the state: %s", e.message);
	for (int i = 0; rc == 0 && i < ngone; i++)
		rc = release(w, gone[i], err);
	for (int i = 0; i < ngone; i++)
		free(gone[i]);
	free(gone);
	return rc == NP_ENOMEM ? np__err(err, rc, "out of memory") : rc;
}

static void trouble(struct np__watcher *w, const char *name, const char *why)
{
	say(w, name, "failed", "%s", why);
}

int np_watch(const np_topo *topo, const struct np_watch_opts *o, np_watch_log_fn *log,
	     void *ctx, struct np_error *err)
{
	const struct np__module *m;
	struct np__watcher w = { .topo = topo, .o = o, .log = log, .ctx = ctx };
	struct np__watch_ops ops = { .w = &w, .started = started, .stopped = stopped,
				     .running = running, .trouble = trouble };
	int rc;

	if (!topo || !o || !o->uri || !*o->uri || !o->state_path || !*o->state_path)
		return np__err(err, NP_EINPUT, "watch: give a libvirt URI and a state file");
	if (o->mode != NP_WATCH_FOREVER && o->mode != NP_WATCH_ONCE &&
	    o->mode != NP_WATCH_UNTIL_IDLE)
		return np__err(err, NP_EINPUT, "watch: unknown mode %d", (int)o->mode);
	if (o->extra_specs) { /* bad specs are bad input once, not a failure per domain */
		struct np__watch_dom probe = { .name = "", .vcpus = 1, .memory_kb = 1024 };
		np_request *req = NULL;
		struct np_error e = { 0 };

		rc = request_of(&w, &probe, &req, &e);
		np_request_free(req);
		if (rc)
			return np__err(err, rc, "extra specs '%.200s': %s", o->extra_specs,
				       e.message);
	}
	{ /* a state file that cannot be read is bad input once, before any domain */
		np_state *st = NULL;

		rc = np_state_open(o->state_path, true, &st, err);
		np_state_close(st);
		if (rc)
			return rc;
	}
	if ((rc = np__module_get("libvirt", &m, err)))
		return rc;
	w.lv = m->ops;
	if (!w.lv->watch)
		return np__err(err, NP_EUNSUPPORTED, "this numaplace has no libvirt domains "
			       "(built without the runtime)");
	return w.lv->watch(topo, o, &ops, err);
}
