/*
 * play.c - `np-bench play`: every placer of bench/quality on the same
 * workloads (numaplace gen's Nova cases with their `events`), one after
 * the other on a fresh copy of each host, guests arriving and leaving,
 * until a placer's first refusal.
 *
 *   np-bench play WORKLOADS.jsonl [--nova NOVA.jsonl]
 *
 * Placers: numaplace spread (the default) and pack through np_place(),
 * told the demand a host would know (demand_so_far(): the guest cells
 * asked for so far, the latest weighing most, np_demand_from_requests());
 * np-flavors (with --flavors FILE), numaplace spread told the demand
 * of a flavor catalogue as well (demand_of()); np-lookahead (with
 * --flavors, and only when --only names it: it is slow), the rollout
 * placer of play-lookahead.c; np-moves, numaplace spread that may move at most N cells of the guests
 * on the host per arrival (play-moves.c, np-bench play --max-moves N);
 * the baselines of baselines.h; and, with --nova, Nova's answers (spread
 * and pack, recorded by bench/novaplay.py on the same workloads) replayed
 * onto numaplace's host.  Every plan, whoever made it, must pass
 * np_plan_validate() before np_host_charge(); an answer that fails ends
 * that placer's run and is reported (`invalid`), never counted.
 *
 * Per workload and placer, one JSON line member: admitted (arrivals
 * placed before the first refusal), refused (whether one came), stranded
 * (per resource the sequence uses, the share of the host still free at
 * the refusal; `binding` the resource most used), multi (multi-cell
 * guests admitted), at_best (of those, how many at the smallest max
 * distance any placement had then), excess (sum of their distance above
 * it), moves and moved_mb (np-moves: cells moved and MiB migrated, in
 * all) and us (microseconds per decision: np_place() or the baseline's
 * whole call; for Nova, numa_fit_instance_to_host() timed in Python).
 * With NP_BENCH_TRACE=1, each admitted guest's nodes on standard error
 * ("trace PLACER guest I nodes N..."), to read one workload's plans.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <numaplace/flavors.h>
#include <numaplace/host.h>
#include <numaplace/nova.h>
#include <numaplace/place.h>
#include <numaplace/plan.h>

#include "baselines.h"
#include "play.h"

enum { P_NP_SPREAD, P_NP_PACK, P_NP_MOVES, P_NP_FLAVORS, P_NP_LOOKAHEAD, P_BASE, P_NOVA_SPREAD = P_BASE + BL_COUNT, P_NOVA_PACK,
       P_COUNT };

enum res { R_PCPU, R_VCPU, R_MEM, R_PAGES, R_NIC, R_COUNT };
static const char *const res_names[] = { "pcpu", "vcpu", "memory", "hugepages", "nic" };

struct result {
	int admitted, multi, at_best;
	int moves;          /* np-moves: cells of other guests moved, in all */
	long long moved_mb; /* and the MiB they migrated */
	bool refused;
	long long excess;
	double free[R_COUNT]; /* share free at the refusal, -1: not used */
	int binding;
	double *us;
	int nus;
	char invalid[NP_ERROR_MAX + 64];
};

struct work {
	const char *line;
	size_t len;
	int *events; /* i >= 0 arrives, -(i + 1) leaves */
	int nev;
	json_t *nova; /* {"spread": [...], "pack": [...]} or NULL */
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

const char *play_placer_name(int p)
{
	static char names[P_COUNT][16];

	switch (p) {
	case P_NP_SPREAD: return "np-spread";
	case P_NP_PACK: return "np-pack";
	case P_NP_MOVES: return "np-moves";
	case P_NP_FLAVORS: return "np-flavors";
	case P_NP_LOOKAHEAD: return "np-lookahead";
	case P_NOVA_SPREAD: return "nova-spread";
	case P_NOVA_PACK: return "nova-pack";
	default:
		snprintf(names[p], sizeof(names[p]), "%s", bl_name((enum bl_kind)(p - P_BASE)));
		return names[p];
	}
}

/* ---- what is left on the host ----------------------------------------------- */

static void usage_of(np_host *h, const bool *uses, struct result *r)
{
	const np_topo *t = np_host_topo(h);
	double cap[R_COUNT] = { 0 }, used[R_COUNT] = { 0 }, cr = 16.0, rr;
	bool lim = np_host_limits(h, &cr, &rr);

	for (int j = 0; j < np_topo_node_count(t); j++) {
		const struct np_host_node *n = np_host_node(h, j);

		cap[R_PCPU] += n->ndedicated;
		used[R_PCPU] += n->npinned;
		cap[R_VCPU] += (double)(long long)(n->nshared * (lim ? cr : 1.0));
		used[R_VCPU] += n->cpu_usage;
		cap[R_MEM] += (double)n->memory_mb;
		used[R_MEM] += (double)n->memory_used_mb;
		for (int p = 1; p < n->npools; p++) {
			cap[R_PAGES] += (double)(n->pools[p].total - n->pools[p].reserved) *
					(double)n->pools[p].size_kb;
			used[R_PAGES] += (double)n->pools[p].used * (double)n->pools[p].size_kb;
		}
	}
	for (int p = 0; p < np_host_pci_pool_count(h); p++) {
		cap[R_NIC] += np_host_pci_pool(h, p)->count;
		used[R_NIC] += np_host_pci_pool(h, p)->used;
	}
	for (int k = 0; k < R_COUNT; k++)
		r->free[k] = uses[k] && cap[k] > 0 ? 1.0 - used[k] / cap[k] : -1;
	r->binding = R_MEM;
	for (int k = 0; k < R_COUNT; k++)
		if (r->free[k] >= 0 && r->free[k] < r->free[r->binding])
			r->binding = k;
}

/* Which resources the workload's guests use. */
static void resources(np_nova_case *c, bool *uses)
{
	memset(uses, 0, R_COUNT * sizeof(*uses));
	uses[R_MEM] = true;
	for (int i = 0; i < np_nova_case_request_count(c); i++) {
		const np_request *q = NULL;

		if (np_nova_case_request(c, i, &q, NULL))
			continue;
		for (int k = 0; k < np_request_cell_count(q); k++) {
			const struct np_guest_cell *g = np_request_cell(q, k);

			uses[R_PCPU] |= g->npcpus > 0;
			uses[R_VCPU] |= g->nvcpus > 0;
			uses[R_PAGES] |= g->pagesize > 4;
		}
		uses[R_NIC] |= np_request_pci_count(q) > 0;
	}
}

/* ---- one decision ---------------------------------------------------------------- */

/*
 * Nova's recorded answer for its N-th arrival as a plan on numaplace's host.
 * An answer whose cells carry no "pins" at all (bench/optimum-replay's: the
 * optimum names nodes only) leaves the pins and page sizes to the fit on
 * those nodes, which then judges the cells as it would its own.
 */
static int nova_plan(np_host *h, const np_request *q, const json_t *dec, np_plan **out,
		     double *us, struct np_error *err)
{
	const json_t *cells = json_object_get(dec, "cells");
	int k = np_request_cell_count(q), nodes[64], *pins[64] = { NULL }, rc;
	long pagesize[64] = { 0 };
	bool given = false; /* some cell says where its vCPUs go */

	*us = json_real_value(json_object_get(dec, "us"));
	if (!json_is_true(json_object_get(dec, "fits")) || k > 64 ||
	    json_array_size(cells) != (size_t)k)
		return bl_plan_nodes(h, q, (int[]){ -1 }, NULL, NULL, out, err);
	for (int i = 0; i < k; i++) {
		const json_t *c = json_array_get(cells, (size_t)i), *p = json_object_get(c, "pins");

		nodes[i] = np_topo_node_index(np_host_topo(h),
					      (int)json_integer_value(json_object_get(c, "host_cell")));
		pagesize[i] = (long)json_integer_value(json_object_get(c, "pagesize_kb"));
		pins[i] = calloc(json_array_size(p) + 1, sizeof(int));
		for (size_t v = 0; pins[i] && v < json_array_size(p); v++)
			pins[i][v] = (int)json_integer_value(json_array_get(p, v));
		given |= p != NULL;
	}
	rc = given ? bl_plan_nodes(h, q, nodes, (const int *const *)pins, pagesize, out, err)
		   : bl_plan_nodes(h, q, nodes, NULL, NULL, out, err);
	for (int i = 0; i < k; i++)
		free(pins[i]);
	return rc;
}

/*
 * The cell shapes of arrivals 0..UPTO of C (UPTO the one being placed):
 * np_demand_from_requests(), a request the case cannot make counting as
 * an arrival without cells.
 */
static int demand_so_far(np_nova_case *c, int upto, struct np_demand *dem)
{
	const np_request **reqs = calloc((size_t)upto + 1, sizeof(*reqs));
	int n;

	if (!reqs)
		return 0;
	for (int i = 0; i <= upto; i++)
		if (np_nova_case_request(c, i, &reqs[i], NULL))
			reqs[i] = NULL;
	n = np_demand_from_requests((const np_request *const *)reqs, upto + 1, dem);
	free(reqs);
	return n;
}

/* ---- the catalogue (np-bench play --flavors FILE) ------------------------------------- */

static np_flavors *catalogue;

int play_set_flavors(const char *path)
{
	struct np_error err = { 0 };

	if (np_flavors_load(path, &catalogue, &err)) {
		fprintf(stderr, "np-bench: %s\n", err.message);
		return -1;
	}
	return 0;
}

void play_free_flavors(void)
{
	np_flavors_free(catalogue);
	catalogue = NULL;
}

/* A knob of the tuning runs (bench/objective-tune variants), else DEF. */
static double knob(const char *name, double def)
{
	const char *v = getenv(name);

	return v && *v ? strtod(v, NULL) : def;
}

/*
 * np-flavors: the rule every caller with a catalogue shares (place.h,
 * np_demand_add_flavors()): the demand of the guests so far plus the
 * catalogue weighing NP_DEMAND_FLAVORS_WEIGHT.  NP_BENCH_FLAVORS_WEIGHT
 * and NP_BENCH_FLAVORS_HISTORY=0 (catalogue only) are what the rule was
 * chosen from (docs/results.md "The flavor catalogue as demand").
 * np-lookahead's own answer is np-spread's (the demand so far), or with
 * NP_BENCH_LA_FLAVORS_DEMAND=1 np-flavors' (what `place --flavors F
 * --lookahead N` does).
 */
static int demand_of(int placer, np_nova_case *c, int upto, struct np_demand *dem)
{
	int n = 0;

	if (placer != P_NP_FLAVORS &&
	    (placer != P_NP_LOOKAHEAD || knob("NP_BENCH_LA_FLAVORS_DEMAND", 0) == 0))
		return demand_so_far(c, upto, dem);
	if (knob("NP_BENCH_FLAVORS_HISTORY", 1) != 0)
		n = demand_so_far(c, upto, dem);
	return np_demand_add_flavors(dem, n, catalogue,
				     knob("NP_BENCH_FLAVORS_WEIGHT", NP_DEMAND_FLAVORS_WEIGHT));
}

/* The workload and arrival being decided: np-lookahead's draws are seeded by them. */
static uint64_t where;
/* Some guest has left the host of the workload being played (np-lookahead's knob). */
static bool departed;

/* NP_BENCH_TRACE=1: each admitted guest's nodes on standard error (reading one workload). */
static void trace(int placer, int i, const np_plan *p)
{
	const char *t = getenv("NP_BENCH_TRACE");

	if (!t || *t != '1')
		return;
	fprintf(stderr, "trace %s guest %d nodes", play_placer_name(placer), i);
	for (int k = 0; k < np_plan_cell_count(p); k++)
		fprintf(stderr, " %d", np_plan_cell(p, k)->node_idx);
	fprintf(stderr, "\n");
}

static int decide(int placer, np_host *h, const np_request *q, const json_t *nova_dec,
		  np_plan **plans, int n, const struct np_demand *dem, int ndem, np_plan **plan,
		  double *us, struct np_error *err)
{
	struct np_place_opts o = { .strategy = placer == P_NP_PACK ? NP_STRATEGY_PACK
								   : NP_STRATEGY_SPREAD,
				   .demand = dem,
				   .ndemand = ndem };
	double t0 = now_us();
	int rc;

	if (placer >= P_NOVA_SPREAD)
		return nova_plan(h, q, nova_dec, plan, us, err);
	if (placer >= P_BASE)
		rc = bl_place((enum bl_kind)(placer - P_BASE), h, q, plan, err);
	else if (placer == P_NP_MOVES)
		rc = play_moves_decide(h, q, plans, n, plan, err);
	else if (placer == P_NP_LOOKAHEAD)
		rc = play_lookahead_decide(h, q, dem, ndem, catalogue, where, departed, plan,
					   err);
	else
		rc = np_place(h, q, &o, plan, err);
	*us = now_us() - t0;
	return rc;
}

/* Distance of an admitted multi-cell guest against the best it could have had. */
static void distance(np_host *h, const np_request *q, const np_plan *p, struct result *r)
{
	np_plan *best = NULL;
	uint32_t lo;

	if (np_request_cell_count(q) < 2)
		return;
	if (np_plan_score(p)->exact)
		lo = np_plan_score(p)->best_max_distance;
	else if (!np_place(h, q, NULL, &best, NULL) && np_plan_fits(best))
		lo = np_plan_score(best)->best_max_distance;
	else
		lo = np_plan_score(p)->max_distance;
	np_plan_free(best);
	r->multi++;
	r->at_best += np_plan_score(p)->max_distance <= lo;
	r->excess += np_plan_score(p)->max_distance - lo;
}

/* ---- one placer on one workload ---------------------------------------------------- */

/* Arrival I: false when the run ends here (refusal, invalid plan, error). */
static bool arrive(int placer, np_nova_case *c, int i, const json_t *dec, np_plan **plans,
		   struct result *r)
{
	np_host *h = np_nova_case_host(c);
	const np_request *q = NULL;
	np_plan *p = NULL;
	struct np_error err = { 0 };
	int n = np_nova_case_request_count(c);
	double us = 0;
	static struct np_demand dem[NP_DEMAND_MAX]; /* np-bench is single-threaded */
	int ndem = placer < P_BASE ? demand_of(placer, c, i, dem) : 0;

	where = (where & ~0xffffffffULL) | (uint64_t)i;

	if (np_nova_case_request(c, i, &q, &err) ||
	    decide(placer, h, q, dec, plans, n, dem, ndem, &p, &us, &err)) {
		snprintf(r->invalid, sizeof(r->invalid), "request %d: %s", i, err.message);
		return false;
	}
	r->us[r->nus++] = us;
	if (!np_plan_fits(p)) {
		r->refused = true;
		np_plan_free(p);
		return false;
	}
	if (np_plan_move_count(p) && play_moves_apply(c, h, p, plans, n, &err)) {
		snprintf(r->invalid, sizeof(r->invalid), "request %d: moves: %s", i, err.message);
		np_plan_free(p);
		return false;
	}
	r->moves += np_plan_move_count(p);
	r->moved_mb += (long long)np_plan_moves_mb(p);
	if (np_plan_validate(h, q, p, &err) || np_host_charge(h, p, false, &err)) {
		snprintf(r->invalid, sizeof(r->invalid), "request %d: %s", i, err.message);
		np_plan_free(p);
		return false;
	}
	distance(h, q, p, r);
	trace(placer, i, p);
	plans[i] = p;
	r->admitted++;
	return true;
}

static void run(int placer, const struct work *w, struct result *r)
{
	np_nova_case *c = NULL;
	np_plan **plans = NULL;
	const json_t *decs = NULL;
	struct np_error err = { 0 };
	bool uses[R_COUNT];
	int n = 0, nth = 0;

	memset(r, 0, sizeof(*r));
	departed = false;
	if (np_nova_case_parse(w->line, w->len, "workload", &c, &err) || !np_nova_case_host(c)) {
		snprintf(r->invalid, sizeof(r->invalid), "%s", c ? "no NUMA host" : err.message);
		goto out;
	}
	if (placer >= P_NOVA_SPREAD)
		decs = json_object_get(w->nova, placer == P_NOVA_PACK ? "pack" : "spread");
	n = np_nova_case_request_count(c);
	plans = calloc((size_t)n + 1, sizeof(*plans));
	r->us = calloc((size_t)n + 1, sizeof(*r->us));
	if (!plans || !r->us)
		goto out;
	for (int e = 0; e < w->nev; e++) {
		int ev = w->events[e];

		if (ev < 0 && ev >= -n && plans[-ev - 1]) {
			np_host_charge(np_nova_case_host(c), plans[-ev - 1], true, NULL);
			np_plan_free(plans[-ev - 1]);
			plans[-ev - 1] = NULL;
			departed = true;
		} else if (ev >= 0 && !arrive(placer, c, ev, json_array_get(decs, (size_t)nth++),
					      plans, r)) {
			break;
		}
	}
	resources(c, uses);
	usage_of(np_nova_case_host(c), uses, r);
out:
	for (int i = 0; plans && i < n; i++)
		np_plan_free(plans[i]);
	free(plans);
	np_nova_case_free(c);
}

/* ---- input and output ----------------------------------------------------------------- */

static bool read_events(struct work *w, struct np_error *err)
{
	json_error_t je;
	json_t *root = json_loadb(w->line, w->len, 0, &je), *ev, *req;
	size_t n, i;

	if (!root)
		return snprintf(err->message, sizeof(err->message), "line %d: %s", je.line, je.text),
		       false;
	ev = json_object_get(root, "events");
	req = json_object_get(root, "requests");
	n = ev ? json_array_size(ev) : json_array_size(req);
	w->events = calloc(n + 1, sizeof(int));
	w->nev = (int)n;
	for (i = 0; w->events && i < n; i++) {
		json_t *e = json_array_get(ev, i);

		w->events[i] = !ev ? (int)i :
			       json_object_get(e, "arrive") ?
					    (int)json_integer_value(json_object_get(e, "arrive")) :
					    -(int)json_integer_value(json_object_get(e, "depart")) - 1;
	}
	json_decref(root);
	return w->events != NULL;
}

static void put_result(int placer, const struct result *r, bool first)
{
	printf("%s\"%s\": {\"admitted\": %d, \"refused\": %s, \"multi\": %d, \"at_best\": %d, "
	       "\"excess\": %lld, \"moves\": %d, \"moved_mb\": %lld, \"binding\": \"%s\", "
	       "\"free\": {",
	       first ? "" : ", ", play_placer_name(placer), r->admitted,
	       r->refused ? "true" : "false", r->multi, r->at_best, r->excess, r->moves,
	       r->moved_mb, res_names[r->binding]);
	for (int k = 0, n = 0; k < R_COUNT; k++)
		if (r->free[k] >= 0)
			printf("%s\"%s\": %.4f", n++ ? ", " : "", res_names[k], r->free[k]);
	printf("}, \"us\": [");
	for (int i = 0; i < r->nus; i++)
		printf("%s%.2f", i ? ", " : "", r->us[i]);
	printf("], \"invalid\": ");
	play_put_json_str(r->invalid);
	printf("}");
}

/* np-bench play --only NAME,...: play those placers only (NULL: all). */
static const char *only;

void play_set_only(const char *names)
{
	only = names;
}

static bool wanted(int p)
{
	const char *name = play_placer_name(p), *at = only;
	size_t len = strlen(name);

	while (at && (at = strstr(at, name)))
		if ((at == only || at[-1] == ',') && (at[len] == ',' || !at[len]))
			return true;
		else
			at += len;
	return !only;
}

static void play_one(struct work *w, int idx)
{
	struct result r;
	int done = 0;

	where = (uint64_t)idx << 32;
	printf("{\"i\": %d, \"placers\": {", idx);
	for (int p = 0; p < P_COUNT; p++) {
		if ((p >= P_NOVA_SPREAD && !w->nova) ||
		    ((p == P_NP_FLAVORS || p == P_NP_LOOKAHEAD) && !catalogue) ||
		    (p == P_NP_LOOKAHEAD && !only) || !wanted(p))
			continue;
		run(p, w, &r);
		put_result(p, &r, done++ == 0);
		free(r.us);
	}
	printf("}}\n");
	fflush(stdout);
}

int play_file(const char *path, const char *nova_path)
{
	FILE *f = fopen(path, "r"), *nf = nova_path ? fopen(nova_path, "r") : NULL;
	char *line = NULL, *nline = NULL;
	size_t cap = 0, ncap = 0;
	ssize_t len;
	int idx = 0, rc = 0;

	if (!f || (nova_path && !nf)) {
		fprintf(stderr, "np-bench: cannot open '%s'\n", !f ? path : nova_path);
		rc = 1;
		goto out;
	}
	while ((len = getline(&line, &cap, f)) > 1) {
		struct work w = { line, (size_t)len, NULL, 0, NULL };
		struct np_error err = { 0 };

		if (nf && getline(&nline, &ncap, nf) > 0)
			w.nova = json_loads(nline, 0, NULL);
		if (!read_events(&w, &err) || (nf && !w.nova)) {
			fprintf(stderr, "np-bench: %s: workload %d: %s\n", path, idx,
				err.message[0] ? err.message : "no Nova answers for it");
			rc = 1;
		} else {
			play_one(&w, idx);
		}
		free(w.events);
		json_decref(w.nova);
		idx++;
	}
out:
	free(line);
	free(nline);
	if (f)
		fclose(f);
	if (nf)
		fclose(nf);
	return rc;
}
