/*
 * test-fleet-moves.c - making room in the fleet (np_fleet_sched_opts
 * allow_moves, the drivers' claim_moves) on a real store: a SQLite file
 * in a temporary folder, or the PostgreSQL database named by
 * $NP_FLEET_URL (tests/fleet/meson.build runs it again through
 * pg-unit.sh against a server it starts).
 *
 * The host is the simulator's make-room case: two nodes of 8 CPUs and
 * 16 GiB; node 0 holds A (4 CPUs, 8 GiB) and B (2, 4 GiB), node 1 C (4,
 * 8 GiB) and E (2, 2 GiB); D (4, 8 GiB) fits only if E (2 GiB) or B
 * (4 GiB) moves.  Cases: the schedule with moves (and its dry run, and
 * the id again); the cheapest host of two; a claim whose moved placement
 * was released, or whose room was taken, after the moves were planned
 * (refused in the store, nothing written; the scheduler chooses again);
 * processes racing (two guests that cannot both fit, a release of the
 * moved guest) - never over-committed, never half-written.  The invariant
 * checker runs after every step.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <numaplace/numaplace.h>

#include "check.h"
#include "fleet-url.h"
#include "fleet/fleet-int.h"
#include "np-config.h"

static char dir[64];
static char url[1024];

#define DED(v, m) "vcpus=" #v ",ram=" #m ",hw:cpu_policy=dedicated"

static const char topo_json[] =
	"{\"schema\": \"numaplace.topology/1\", \"distances_source\": \"firmware\", \"nodes\": ["
	"{\"id\": 0, \"cpus\": [0,1,2,3,4,5,6,7], \"memory_mb\": {\"total\": 16384},"
	" \"distances\": [10, 21]},"
	"{\"id\": 1, \"cpus\": [8,9,10,11,12,13,14,15], \"memory_mb\": {\"total\": 16384},"
	" \"distances\": [21, 10]}], \"cpus\": ["
	"{\"id\": 0, \"node\": 0, \"core\": 0, \"socket\": 0}, {\"id\": 1, \"node\": 0, \"core\": 1, \"socket\": 0},"
	"{\"id\": 2, \"node\": 0, \"core\": 2, \"socket\": 0}, {\"id\": 3, \"node\": 0, \"core\": 3, \"socket\": 0},"
	"{\"id\": 4, \"node\": 0, \"core\": 4, \"socket\": 0}, {\"id\": 5, \"node\": 0, \"core\": 5, \"socket\": 0},"
	"{\"id\": 6, \"node\": 0, \"core\": 6, \"socket\": 0}, {\"id\": 7, \"node\": 0, \"core\": 7, \"socket\": 0},"
	"{\"id\": 8, \"node\": 1, \"core\": 8, \"socket\": 1}, {\"id\": 9, \"node\": 1, \"core\": 9, \"socket\": 1},"
	"{\"id\": 10, \"node\": 1, \"core\": 10, \"socket\": 1}, {\"id\": 11, \"node\": 1, \"core\": 11, \"socket\": 1},"
	"{\"id\": 12, \"node\": 1, \"core\": 12, \"socket\": 1}, {\"id\": 13, \"node\": 1, \"core\": 13, \"socket\": 1},"
	"{\"id\": 14, \"node\": 1, \"core\": 14, \"socket\": 1}, {\"id\": 15, \"node\": 1, \"core\": 15, \"socket\": 1}]}";

static void checked(np_fleet *f, const char *when)
{
	struct np_error err = { 0 };

	CHECK(np_fleet_check(f, NULL, &err) == 0, "check %s: %s", when, err.message);
}

static np_fleet *open_fleet(unsigned flags)
{
	struct np_error err = { 0 };
	np_fleet *f = NULL;

	CHECK(np_fleet_open(url, flags, &f, &err) == 0, "open %s: %s", url, err.message);
	return f;
}

static np_request *request(const char *flavor)
{
	struct np_error err = { 0 };
	np_request *r = NULL;

	CHECK(np_request_from_flavor_text(flavor, NULL, &r, &err) == 0, "%s: %s", flavor,
	      err.message);
	return r;
}

/*
 * Schedule FLAVOR as ID with O (NULL: defaults) and without the demand
 * (placement.md 4, term 6), so the cells land where these scenarios were
 * built for; placed or not.
 */
static bool sched(np_fleet *f, const char *id, const char *flavor,
		  const struct np_fleet_sched_opts *o, np_fleet_result **out)
{
	struct np_error err = { 0 };
	np_request *r = request(flavor);
	np_fleet_result *res = NULL;
	struct np_fleet_sched_opts so = o ? *o : (struct np_fleet_sched_opts){ 0 };
	bool placed;

	so.no_demand = true;
	CHECK(r && np_fleet_schedule(f, id, r, &so, &res, &err) == 0, "schedule %s: %s", id,
	      err.message);
	placed = res && np_fleet_result_placed(res);
	if (out)
		*out = res;
	else
		np_fleet_result_free(res);
	np_request_free(r);
	return placed;
}

/* The node of placement ID's first cell (-1: no such placement). */
static int node_of(np_fleet *f, const char *id)
{
	struct np_error err = { 0 };
	np_fleet_placement *p = NULL;
	int node = -1;

	CHECK(np_fleet_placement_get(f, id, &p, &err) == 0, "get %s: %s", id, err.message);
	if (p)
		node = np_plan_cell(np_fleet_placement_plan(p), 0)->node_idx;
	np_fleet_placement_free(p);
	return node;
}

static void release(np_fleet *f, const char *id)
{
	struct np_error err = { 0 };

	CHECK(np_fleet_release(f, id, NULL, &err) == 0, "release %s: %s", id, err.message);
}

/* Host NAME with A and B on node 0, C and E on node 1 (ids prefixed by P). */
static void fill(np_fleet *f, const char *name, const char *p)
{
	struct np_fleet_sched_opts pack = { .strategy = NP_STRATEGY_PACK, .host = name };
	struct np_fleet_sched_opts spread = { .host = name };
	char id[64];

	snprintf(id, sizeof(id), "%sA", p);
	CHECK(sched(f, id, DED(4, 8192), &pack, NULL), "%s placed", id);
	snprintf(id, sizeof(id), "%sB", p);
	CHECK(sched(f, id, DED(2, 4096), &pack, NULL), "%s placed", id);
	snprintf(id, sizeof(id), "%sC", p);
	CHECK(sched(f, id, DED(4, 8192), &spread, NULL), "%s placed", id);
	snprintf(id, sizeof(id), "%sE", p);
	CHECK(sched(f, id, DED(2, 2048), &spread, NULL), "%s placed", id);
	CHECK(node_of(f, id) == 1, "%s on node 1", id);
}

static void empty(np_fleet *f, const char *p)
{
	const char *ids[] = { "A", "B", "C", "E" };
	char id[64];

	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "%s%s", p, ids[i]);
		release(f, id);
	}
}

static void add_host(np_fleet *f, const char *name)
{
	struct np_error err = { 0 };
	np_topo *t = NULL;

	CHECK(np_topo_parse(NP_SOURCE_JSON, topo_json, strlen(topo_json), name, &t, &err) == 0,
	      "%s", err.message);
	CHECK(t && np_fleet_add_host(f, name, t, NULL, NULL, &err) == 0, "add %s: %s", name,
	      err.message);
	np_topo_free(t);
}

/* ---- scheduling with moves ------------------------------------------------------ */

static void make_room(np_fleet *f)
{
	struct np_fleet_sched_opts one = { .allow_moves = 1 }, dry = one;
	np_fleet_result *r = NULL;
	int64_t gen;
	const np_plan *plan;

	fill(f, "h1", "");
	checked(f, "filled");
	CHECK(!sched(f, "D", DED(4, 8192), NULL, NULL), "D fits nowhere as it is");
	dry.dry_run = true;
	gen = np_fleet_host_generation(np_fleet_host_find(f, "h1"));
	CHECK(sched(f, "D", DED(4, 8192), &dry, &r), "a dry run finds room");
	plan = r ? np_fleet_result_plan(r) : NULL;
	CHECK(plan && np_plan_move_count(plan) == 1 &&
	      !strcmp(np_plan_move(plan, 0)->guest, "E") && np_plan_moves_mb(plan) == 2048,
	      "the cheapest move: E's 2 GiB");
	np_fleet_result_free(r);
	CHECK(np_fleet_refresh(f, NULL) == 0 &&
	      np_fleet_host_generation(np_fleet_host_find(f, "h1")) == gen &&
	      node_of(f, "D") < 0 && node_of(f, "E") == 1, "the dry run claimed nothing");

	CHECK(sched(f, "D", DED(4, 8192), &one, &r), "D placed with one move");
	plan = r ? np_fleet_result_plan(r) : NULL;
	CHECK(plan && np_plan_move_count(plan) == 1 && np_plan_moves_exact(plan) &&
	      np_plan_move(plan, 0)->cell.node_idx == 0 && np_plan_cell(plan, 0)->node_idx == 1,
	      "E to node 0, D on node 1, proven cheapest");
	CHECK(r && np_fleet_result_stats(r)->moves_hosts == 1, "one host searched");
	np_fleet_result_free(r);
	checked(f, "after the move");
	CHECK(node_of(f, "E") == 0 && node_of(f, "D") == 1, "the store holds E's new plan");
	CHECK(sched(f, "D", DED(4, 8192), &one, &r) && r && np_fleet_result_existing(r),
	      "D again: its placement");
	np_fleet_result_free(r);
	CHECK(!sched(f, "D2", DED(4, 8192), &one, NULL), "a second D: no set of one move helps");
	checked(f, "after the refusal");
	release(f, "D");
	empty(f, "");
	checked(f, "emptied");
}

/* Two hosts: the one whose move migrates less wins, whatever the order. */
static void cheapest_host(np_fleet *f)
{
	struct np_fleet_sched_opts one = { .allow_moves = 1 };
	struct np_fleet_sched_opts two = { .host = "h2" }, pack = { .host = "h2",
								 .strategy = NP_STRATEGY_PACK };
	np_fleet_result *r = NULL;
	struct np_error err = { 0 };

	add_host(f, "h2");
	fill(f, "h1", "");
	/* h2: the same but E is 4 GiB: moving B or it costs 4 GiB. */
	CHECK(sched(f, "2A", DED(4, 8192), &pack, NULL) && sched(f, "2B", DED(2, 4096), &pack, NULL) &&
	      sched(f, "2C", DED(4, 8192), &two, NULL) && sched(f, "2E", DED(2, 4096), &two, NULL),
	      "h2 filled");
	for (int s = 1; s <= 3; s++) {
		one.seed = (uint64_t)s;
		CHECK(sched(f, "D", DED(4, 8192), &one, &r) && r &&
		      !strcmp(np_fleet_result_host(r), "h1") &&
		      np_plan_moves_mb(np_fleet_result_plan(r)) == 2048,
		      "seed %d: h1, 2 GiB to migrate", s);
		np_fleet_result_free(r);
		checked(f, "cheapest host");
		release(f, "D");
		/* E is on node 0 now: put it back for the next round. */
		release(f, "E");
		CHECK(sched(f, "E", DED(2, 2048), &(struct np_fleet_sched_opts){ .host = "h1" }, NULL) &&
		      node_of(f, "E") == 1, "E back on node 1");
	}
	empty(f, "");
	empty(f, "2");
	CHECK(np_fleet_remove_host(f, "h2", false, NULL, &err) == 0, "remove h2: %s", err.message);
	checked(f, "emptied");
}

/* ---- claims that lost a race ------------------------------------------------------ */

/* The moves for D on H planned by F (the scheduler's own steps), not claimed yet. */
static bool plan_moves(np_fleet *f, const char *h, const np_request *req, struct np__mfit *m)
{
	struct np_moves_opts mo = { 1, 0, 0 };
	struct np_error err = { 0 };
	const np_fleet_host *host;

	CHECK(np_fleet_refresh(f, &err) == 0, "refresh: %s", err.message);
	host = np_fleet_host_find(f, h);
	CHECK(host && np__moves_on_host(f, host->id, req, NULL, &mo, m, &err) == 0 && m->plan,
	      "moves planned on %s: %s", h, err.message);
	return m->plan != NULL;
}

/* Claim M as ID; the store's answer. */
static enum np__claim_status claim_moves(np_fleet *f, const char *id, const np_request *req,
					 const struct np__mfit *m)
{
	struct np__claim_result cr = { 0 };
	struct np_error err = { 0 };
	char *fp = NULL;

	CHECK(np__request_fingerprint(req, &fp) == 0, "fingerprint");
	CHECK(np__moves_claim(f, id, fp, req, m, &cr, &err) == 0, "claim %s: %s", id, err.message);
	free(fp);
	return cr.status;
}

static void lost_races(np_fleet *a)
{
	np_fleet *b = open_fleet(0);
	np_request *d = request(DED(4, 8192));
	struct np_fleet_sched_opts one = { .allow_moves = 1 };
	struct np__mfit m = { 0 };
	np_fleet_result *r = NULL;

	if (!b || !d)
		goto out;
	fill(a, "h1", "");
	/* The moved guest is released (by another scheduler) after the plan. */
	if (plan_moves(a, "h1", d, &m)) {
		release(b, "E");
		CHECK(claim_moves(a, "D", d, &m) == NP__MOVED, "E released: the claim is refused");
		checked(a, "after the refused claim");
		CHECK(node_of(a, "D") < 0, "D not written");
	}
	np__mfit_free(&m);
	CHECK(sched(a, "D", DED(4, 8192), &one, &r) && r &&
	      np_plan_move_count(np_fleet_result_plan(r)) == 0,
	      "scheduled again: D fits where E was, with no move");
	np_fleet_result_free(r);
	release(a, "D");
	CHECK(sched(a, "E", DED(2, 2048), &(struct np_fleet_sched_opts){ .host = "h1" }, NULL) &&
	      node_of(a, "E") == 1, "E back");

	/* The room E was to move into is taken by another claim after the plan. */
	if (plan_moves(a, "h1", d, &m)) {
		CHECK(sched(b, "X", DED(2, 5000), NULL, NULL) && node_of(b, "X") == 1,
		      "X takes node 1's last CPUs");
		CHECK(claim_moves(a, "D", d, &m) == NP__NO_ROOM, "the claim finds no room");
		checked(a, "after the refused claim");
		CHECK(node_of(a, "D") < 0 && node_of(a, "E") == 1, "nothing half-written: E stays");
	}
	np__mfit_free(&m);
	CHECK(!sched(a, "D", DED(4, 8192), &one, NULL), "now no single move helps");
	release(b, "X");

	/* The moved guest is moved by another claim first: the second plan is stale. */
	if (plan_moves(a, "h1", d, &m)) {
		CHECK(sched(b, "D", DED(4, 8192), &one, NULL), "B places D with E's move");
		CHECK(claim_moves(a, "D9", d, &m) == NP__MOVED, "A's claim of the same move is refused");
		checked(a, "after two claims of one move");
	}
	np__mfit_free(&m);
	release(a, "D");
	empty(a, "");
	checked(a, "emptied");
out:
	np_request_free(d);
	np_fleet_close(b);
}

/* ---- processes at once --------------------------------------------------------- */

/* Child K: schedule ID with one move allowed (k 0, 1), or release E (k 2). */
static int child(int k, const char *id)
{
	struct np_fleet_sched_opts one = { .allow_moves = 1, .seed = (uint64_t)k + 1,
						 .no_demand = true };
	struct np_error err = { 0 };
	np_request *req = NULL;
	np_fleet_result *r = NULL;
	np_fleet *f = NULL;
	int rc = 0;

	if (np_fleet_open(url, 0, &f, &err) ||
	    (k == 2 ? np_fleet_release(f, "E", NULL, &err)
		    : np_request_from_flavor_text(DED(4, 8192), NULL, &req, &err) ||
			      np_fleet_schedule(f, id, req, &one, &r, &err))) {
		fprintf(stderr, "child %d: %s\n", k, err.message);
		rc = 2;
	} else if (r) {
		rc = np_fleet_result_placed(r) ? 0 : 1;
	}
	np_fleet_result_free(r);
	np_request_free(req);
	np_fleet_close(f);
	return rc;
}

static int run_children(int n, int *rcs, const char *const *ids)
{
	pid_t pids[3];
	int started = 0;

	for (int k = 0; k < n; k++) {
		pids[k] = fork();
		if (pids[k] == 0)
			_exit(child(k, ids[k]));
		started += pids[k] > 0;
	}
	for (int k = 0; k < n; k++) {
		int st = 0;

		rcs[k] = pids[k] > 0 && waitpid(pids[k], &st, 0) == pids[k] && WIFEXITED(st)
				 ? WEXITSTATUS(st)
				 : 3;
	}
	return started;
}

static void processes(np_fleet *f, int rounds)
{
	static const char *const ids[] = { "P1", "P2", "E" };
	int rcs[3];

	for (int i = 0; i < rounds; i++) {
		fill(f, "h1", "");
		/*
		 * Two guests that cannot both fit, with moves, and (odd rounds)
		 * E released at the same time: whatever the order, one fits
		 * (where E was, or after E moved) and the other cannot.
		 */
		run_children(i % 2 ? 3 : 2, rcs, ids);
		CHECK(rcs[0] <= 1 && rcs[1] <= 1 && (i % 2 == 0 || rcs[2] == 0),
		      "round %d: no child failed (%d %d %d)", i, rcs[0], rcs[1], i % 2 ? rcs[2] : 0);
		checked(f, "after racing claims");
		CHECK((rcs[0] == 0) + (rcs[1] == 0) == 1, "round %d: exactly one placed", i);
		CHECK(node_of(f, "E") == (i % 2 ? -1 : 0), "round %d: E %s", i,
		      i % 2 ? "released" : "moved once, to node 0");
		release(f, "P1");
		release(f, "P2");
		if (i % 2)
			CHECK(sched(f, "E", DED(2, 2048), NULL, NULL), "E again");
		empty(f, "");
		checked(f, "round emptied");
	}
}

int main(void)
{
	np_fleet *f;
	int rc = test_fleet_url("np-fleet-moves", dir, sizeof(dir), url, sizeof(url));

	if (rc)
		return rc;
	f = open_fleet(NP_FLEET_CREATE);
	if (f) {
		add_host(f, "h1");
		T_CASE("make-room", make_room(f));
		T_CASE("cheapest-host", cheapest_host(f));
		T_CASE("lost-races", lost_races(f));
		T_CASE("processes", processes(f, 12));
	}
	np_fleet_close(f);
	t_cleanup();
	snprintf(url, sizeof(url), "rm -rf '%s'", dir);
	if (system(url) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return t_done();
}
