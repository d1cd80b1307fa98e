/*
 * test-balance.c - np_balance_decide() on hand-built hosts: each rule
 * fires at its threshold and not before, every action says why, bad input
 * is refused, stuck vCPUs on each other's full home nodes are swapped in
 * one call (the simulator's ping-pong), and (randomised) feeding the state
 * after the actions back in never gives the opposite action.
 */
#include <stdlib.h>

#include <numaplace/balance.h>

#include "check.h"
#include "topology/topo-int.h"

#define NN 3
#define NODE_MB 65536

/* Three nodes 0..2 of 4 CPUs each and 64 GiB; distances 10/20. */
static np_topo *host(void)
{
	np__tb *b = np__tb_new(NP_SOURCE_JSON, "hand");
	np_topo *t = NULL;
	struct np_error err = { 0 };

	for (int n = 0; n < NN; n++) {
		np__tb_node(b, n, (uint64_t)NODE_MB * 1024);
		for (int c = 0; c < 4; c++)
			np__tb_cpu(b, n * 4 + c, n, n * 4 + c, n, true);
	}
	if (np__tb_finish(b, &t, &err) != 0) {
		fprintf(stderr, "host: %s\n", err.message);
		exit(99);
	}
	return t;
}

/* One guest, all state in one place so tests can tweak and feed back. */
struct scene {
	int home[NN];
	uint64_t mem[NN];
	struct np_bal_guest g[2];
	uint64_t mem2[NN];
	int home2[NN];
	struct np_bal_vcpu v[4];
	struct np_bal_node nodes[NN];
	struct np_bal_input in;
	struct np_bal_params p;
};

static void scene_init(struct scene *s, const np_topo *t)
{
	memset(s, 0, sizeof(*s));
	np_bal_params_default(&s->p);
	s->home[0] = 0;
	s->home2[0] = 1;
	s->mem[0] = 1024;
	s->mem2[1] = 1024;
	s->g[0] = (struct np_bal_guest){ .id = 100, .nhome = 1, .home = s->home, .mem_mb = s->mem,
					  .cpu_demand = 1.0, .since_action_ms = UINT64_MAX,
					  .may_migrate = true, .may_repin = true };
	s->g[1] = (struct np_bal_guest){ .id = 200, .nhome = 1, .home = s->home2,
					  .mem_mb = s->mem2, .cpu_demand = 1.0,
					  .since_action_ms = UINT64_MAX, .may_migrate = true,
					  .may_repin = true };
	for (int i = 0; i < 2; i++)
		s->v[i] = (struct np_bal_vcpu){ .guest = 0, .vcpu = i, .cpu = i };
	for (int n = 0; n < NN; n++)
		s->nodes[n] = (struct np_bal_node){ .free_mb = 30000, .load = 0.5 };
	s->in = (struct np_bal_input){ .topo = t, .nguests = 1, .guests = s->g, .nvcpus = 2,
				       .vcpus = s->v, .nodes = s->nodes };
}

static struct np_bal_action acts[64];

/* Decide; copy the actions into acts[]; check every one has a reason. */
static int run(struct scene *s)
{
	struct np_bal_action *a = NULL;
	struct np_error err = { 0 };
	int n = -1;

	if (np_balance_decide(&s->in, &s->p, &a, &n, &err) != 0) {
		CHECK(0, "decide failed: %s", err.message);
		return -1;
	}
	CHECK(n >= 0 && n <= 64, "action count %d", n);
	for (int i = 0; i < n && i < 64; i++) {
		acts[i] = a[i];
		CHECK(strlen(a[i].reason) > 10, "action %d (%s) has no reason", i,
		      np_bal_kind_name(a[i].kind));
	}
	free(a);
	return n;
}

static int count_kind(int n, enum np_bal_kind k)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += acts[i].kind == k;
	return c;
}

static void test_defaults(void)
{
	struct np_bal_params p;
	const char *names[5];

	np_bal_params_default(&p);
	CHECK(p.stuck_ms == 2000 && p.rescue_ms == 500 && p.cooldown_ms == 30000 &&
		      p.follow_fraction == 0.6 && p.overload == 1.2 && p.idle == 0.6 &&
		      p.migrate_budget_mb == 1024 && p.migrate_mb_per_s == 1000,
	      "defaults as documented in balance.h");
	for (int k = 0; k < 5; k++) {
		names[k] = np_bal_kind_name((enum np_bal_kind)k);
		for (int j = 0; j < k; j++)
			CHECK(strcmp(names[k], names[j]) != 0, "kind names differ");
	}
	CHECK(strcmp(np_bal_kind_name((enum np_bal_kind)99), "unknown") == 0, "unknown kind");
}

static void test_rescue(const np_topo *t)
{
	struct scene s;
	int n;

	scene_init(&s, t);
	CHECK(run(&s) == 0, "a guest at home: nothing to do");
	s.v[1].cpu = 5; /* node 1 */
	s.v[1].outside_ms = 2000;
	CHECK(run(&s) == 0, "exactly stuck_ms is not longer than stuck_ms");
	s.v[1].outside_ms = 2001;
	n = run(&s);
	CHECK(n == 1 && acts[0].kind == NP_BAL_RESCUE_PIN && acts[0].vcpu == 1 &&
		      acts[0].guest == 0 && acts[0].from_node == 1 && acts[0].to_node == 0,
	      "stuck vCPU rescued home (n %d)", n);
	s.g[0].may_repin = false;
	CHECK(run(&s) == 0, "policy forbids repinning: no rescue");
	s.g[0].may_repin = true;
	s.nodes[0].load = 1.5;
	CHECK(count_kind(run(&s), NP_BAL_RESCUE_PIN) == 0,
	      "no rescue onto an overloaded home");
	s.nodes[0].load = 0.5;
	s.v[1].cpu = -1;
	CHECK(run(&s) == 0, "unknown CPU: no rescue");

	/* The state after the rescue: pinned at home. */
	s.v[1] = (struct np_bal_vcpu){ .guest = 0, .vcpu = 1, .cpu = 1, .rescue_pinned = true,
				       .pinned_ms = 0 };
	CHECK(run(&s) == 0, "just rescued: nothing more");
	s.v[1].pinned_ms = 499;
	CHECK(run(&s) == 0, "pin kept until rescue_ms");
	s.v[1].pinned_ms = 500;
	n = run(&s);
	CHECK(n == 1 && acts[0].kind == NP_BAL_RESTORE_SOFT && acts[0].vcpu == 1,
	      "restore after rescue_ms");
	/* The log says where the pinned vCPU was seen (tests/vm/runtime.sh checks it). */
	CHECK(n == 1 && acts[0].from_node == 0 && acts[0].to_node == -1,
	      "restore-soft names the node the vCPU was on: %d -> %d", acts[0].from_node,
	      acts[0].to_node);
	s.v[1].cpu = -1;
	n = run(&s);
	CHECK(n == 1 && acts[0].kind == NP_BAL_RESTORE_SOFT && acts[0].from_node == -1,
	      "restore-soft with the CPU unknown: from -1 (n %d)", n);
	s.v[1].cpu = 1;
	s.v[1].rescue_pinned = false;
	CHECK(run(&s) == 0, "after restore, at home: nothing");
}

/* The rescue actions of the last run() for (guest, vcpu), or -1. */
static int find_rescue(int n, int guest, int vcpu)
{
	for (int i = 0; i < n; i++)
		if (acts[i].kind == NP_BAL_RESCUE_PIN && acts[i].guest == guest &&
		    acts[i].vcpu == vcpu)
			return i;
	return -1;
}

/*
 * The simulator's ping-pong (stuck-vcpus): guest 0 (home node 0) has vCPU 1
 * on node 1 while guest 1 (home node 1) has vCPU 1 on node 0, and both
 * nodes are full.  Rescued alone, one would queue at home and the CPU it
 * left would take the other guest's queued vCPU, outside ITS home.  Both
 * must go home in one call.
 */
static void test_rescue_swap(const np_topo *t)
{
	struct scene s;
	int n, a, b;

	scene_init(&s, t);
	s.in.nguests = 2;
	s.in.nvcpus = 4;
	s.v[1] = (struct np_bal_vcpu){ .guest = 0, .vcpu = 1, .cpu = 5, .outside_ms = 2600 };
	s.v[2] = (struct np_bal_vcpu){ .guest = 1, .vcpu = 0, .cpu = 4 };
	s.v[3] = (struct np_bal_vcpu){ .guest = 1, .vcpu = 1, .cpu = 2, .outside_ms = 2100 };
	s.nodes[0].load = s.nodes[1].load = 1.0; /* 4 runnable on 4 CPUs each */
	n = run(&s);
	a = find_rescue(n, 0, 1);
	b = find_rescue(n, 1, 1);
	CHECK(n == 2 && a >= 0 && b >= 0, "both stuck vCPUs rescued in one call (n %d)", n);
	if (a >= 0 && b >= 0) {
		CHECK(acts[a].from_node == 1 && acts[a].to_node == 0 && acts[b].from_node == 0 &&
			      acts[b].to_node == 1,
		      "each to its home: %d->%d, %d->%d", acts[a].from_node, acts[a].to_node,
		      acts[b].from_node, acts[b].to_node);
		CHECK(strstr(acts[a].reason, "swaps with vcpu 1 of guest 200") &&
			      strstr(acts[b].reason, "swaps with vcpu 1 of guest 100"),
		      "reasons name the partner: '%s' / '%s'", acts[a].reason, acts[b].reason);
	}

	/*
	 * The timing in the simulator: guest 1's vCPU has been stuck on node 0
	 * since guest 0 was paused; guest 0's woke on node 1 half a second ago.
	 * Rescuing only the stuck one is what started the ping-pong.
	 */
	s.v[1].outside_ms = 500;
	s.v[3].outside_ms = 10500;
	n = run(&s);
	CHECK(n == 2 && find_rescue(n, 0, 1) >= 0 && find_rescue(n, 1, 1) >= 0,
	      "partner outside for only 500 ms swaps too (n %d)", n);
	CHECK(n == 2 && strstr(acts[find_rescue(n, 0, 1)].reason, "500 ms; swaps"),
	      "its reason gives its own time outside");

	/* No partner: a stuck vCPU is not sent into its full home. */
	s.v[1].outside_ms = 2600;
	s.v[3].cpu = 6;
	s.v[3].outside_ms = 0;
	CHECK(run(&s) == 0, "full home, no partner: no rescue (it would only push another out)");
	s.nodes[0].load = 0.75; /* one CPU of four free */
	n = run(&s);
	CHECK(n == 1 && find_rescue(n, 0, 1) == 0, "a CPU free at home: rescued alone (n %d)", n);
	s.nodes[0].load = 0.8;
	CHECK(run(&s) == 0, "less than a CPU free: no rescue");

	/* Partner's home (the stuck one's node) overloaded: no swap into it. */
	s.nodes[0].load = 1.0;
	s.v[3].cpu = 2;
	s.nodes[1].load = 1.3;
	s.v[3].outside_ms = 2100;
	CHECK(count_kind(run(&s), NP_BAL_RESCUE_PIN) == 0,
	      "no swap sends a vCPU into an overloaded node");
	s.nodes[1].load = 1.0;

	/* Feed back the state after the swap: pinned at home; then restored. */
	s.v[1] = (struct np_bal_vcpu){ .guest = 0, .vcpu = 1, .cpu = 2, .rescue_pinned = true };
	s.v[3] = (struct np_bal_vcpu){ .guest = 1, .vcpu = 1, .cpu = 5, .rescue_pinned = true };
	CHECK(run(&s) == 0, "after the swap: nothing until rescue_ms");
	s.v[1].pinned_ms = s.v[3].pinned_ms = 500;
	n = run(&s);
	CHECK(n == 2 && count_kind(n, NP_BAL_RESTORE_SOFT) == 2, "both restored, nothing else");
	s.v[1].rescue_pinned = s.v[3].rescue_pinned = false;
	CHECK(run(&s) == 0, "both at home: nothing");
}

/* Lone rescues count: two stuck vCPUs and one CPU free at home. */
static void test_rescue_room(const np_topo *t)
{
	struct scene s;
	int n;

	scene_init(&s, t);
	s.v[0] = (struct np_bal_vcpu){ .guest = 0, .vcpu = 0, .cpu = 5, .outside_ms = 3000 };
	s.v[1] = (struct np_bal_vcpu){ .guest = 0, .vcpu = 1, .cpu = 6, .outside_ms = 3000 };
	s.nodes[0].load = 0.75;
	n = run(&s);
	CHECK(n == 1 && acts[0].kind == NP_BAL_RESCUE_PIN && acts[0].vcpu == 0,
	      "one CPU free: the first goes home, the second waits (n %d)", n);
	s.nodes[0].load = 0.5;
	CHECK(count_kind(run(&s), NP_BAL_RESCUE_PIN) == 2, "two CPUs free: both go home");
}

static void test_follow(const np_topo *t)
{
	struct scene s;
	int n;

	scene_init(&s, t);
	s.mem[0] = 300;
	s.mem[1] = 700; /* 70% fell back to node 1 */
	n = run(&s);
	CHECK(n == 1 && acts[0].kind == NP_BAL_MIGRATE_HOME && acts[0].from_node == 1 &&
		      acts[0].to_node == 0 && acts[0].mb == 700,
	      "room at home: migrate home rather than follow (n %d)", n);
	s.nodes[0].free_mb = 100; /* home full: below its reserve */
	n = run(&s);
	CHECK(n == 1 && acts[0].kind == NP_BAL_FOLLOW_MEMORY && acts[0].to_node == 1,
	      "home full: affinity follows memory to node 1 (n %d)", n);
	s.g[0].since_action_ms = 29999;
	CHECK(run(&s) == 0, "within the cooldown: nothing");
	s.g[0].since_action_ms = UINT64_MAX;
	s.mem[1] = 500; /* 50/50: not over follow_fraction */
	s.mem[0] = 500;
	CHECK(count_kind(run(&s), NP_BAL_FOLLOW_MEMORY) == 0, "50%% away does not follow");
	s.mem[0] = 300;
	s.mem[1] = 700;
	s.nodes[1].load = 1.1; /* +1 CPU of demand on 4 CPUs: 1.35 > overload */
	CHECK(count_kind(run(&s), NP_BAL_FOLLOW_MEMORY) == 0, "no follow onto a busy node");

	/* After following: home is node 1; node 0 still full.  No way back. */
	s.nodes[1].load = 0.75;
	s.nodes[0].load = 0.25;
	s.home[0] = 1;
	n = run(&s);
	for (int i = 0; i < n; i++)
		CHECK(acts[i].to_node != 0, "after follow: nothing goes back to node 0");
	CHECK(n == 1 && acts[0].kind == NP_BAL_MIGRATE_HOME && acts[0].from_node == 0 &&
		      acts[0].to_node == 1 && acts[0].mb == 300,
	      "the rest follows to the new home");
}

static void test_migrate(const np_topo *t)
{
	struct scene s;
	int n;
	uint64_t sum = 0;

	scene_init(&s, t);
	s.in.nguests = 2;
	s.mem[0] = 2500;
	s.mem[2] = 3000;  /* guest 0: 3000 MiB away on node 2, under 60% */
	s.mem2[1] = 100;
	s.mem2[0] = 2000; /* guest 1: 2000 MiB away on node 0 */
	n = run(&s);
	for (int i = 0; i < n; i++) {
		CHECK(acts[i].kind == NP_BAL_MIGRATE_HOME, "only migrations");
		sum += acts[i].mb;
	}
	CHECK(n == 1 && acts[0].guest == 0 && acts[0].mb == 1024 && acts[0].from_node == 2,
	      "first guest takes the whole 1024 MiB budget (n %d)", n);
	CHECK(sum <= s.p.migrate_budget_mb, "budget kept: %llu", (unsigned long long)sum);
	s.p.migrate_budget_mb = 100000;
	s.nodes[0].free_mb = 4000; /* reserve is 5% of 64 GiB = 3276 */
	s.nodes[1].free_mb = 100000;
	n = run(&s);
	CHECK(n == 2 && count_kind(n, NP_BAL_MIGRATE_HOME) == 2, "two migrations (n %d)", n);
	/* Guest 1 fits whole, goes first, and frees 2000 MiB on node 0. */
	for (int i = 0; i < n; i++)
		CHECK(acts[i].mb == (acts[i].guest == 0 ? 4000 + 2000 - 3276 : 2000),
		      "guest %d: limited by room above the reserve: %llu", acts[i].guest,
		      (unsigned long long)acts[i].mb);
	s.g[1].may_migrate = false;
	CHECK(count_kind(run(&s), NP_BAL_MIGRATE_HOME) == 1, "policy forbids guest 1 migration");
	s.nodes[0].free_mb = 3000;
	CHECK(count_kind(run(&s), NP_BAL_MIGRATE_HOME) == 0, "no room above the reserve");
}

static void test_relieve(const np_topo *t)
{
	struct scene s;
	int n;

	scene_init(&s, t);
	/* Node 0: 4 CPUs, load 1.8; node 2 idle; guest 0 wants 2 CPUs. */
	s.nodes[0].load = 1.8;
	s.nodes[1].load = 0.9;
	s.nodes[2].load = 0.1;
	s.g[0].cpu_demand = 2.0;
	s.mem[0] = 512;
	s.in.nvcpus = 0;
	n = run(&s);
	CHECK(n == 1 && acts[0].kind == NP_BAL_RELIEVE && acts[0].from_node == 0 &&
		      acts[0].to_node == 2 && acts[0].mb == 512,
	      "overloaded node relieved to the idle one (n %d)", n);
	s.g[0].since_action_ms = 1000;
	CHECK(run(&s) == 0, "cooldown: no relieve");
	s.g[0].since_action_ms = UINT64_MAX;

	/* 40 GiB to move: 80 cpu-s of cost > 60 of gain over a 30 s cooldown. */
	s.mem[0] = 40000;
	s.nodes[2].free_mb = 60000;
	n = run(&s);
	CHECK(count_kind(n, NP_BAL_RELIEVE) == 0, "cost above gain: no relieve");
	s.p.cooldown_ms = 120000; /* it would stay 4x longer: worth it */
	n = run(&s);
	CHECK(n == 1 && acts[0].kind == NP_BAL_RELIEVE && acts[0].mb == 1024,
	      "longer horizon: relieve, memory within the budget (n %d)", n);
	s.nodes[2].free_mb = 20000;
	CHECK(count_kind(run(&s), NP_BAL_RELIEVE) == 0, "target lacks room for its memory");
	s.p.cooldown_ms = 30000;

	/* The state after the first relieve: home 2, memory moved, loads shifted. */
	s.mem[0] = 0;
	s.mem[2] = 512;
	s.home[0] = 2;
	s.nodes[0].load = 1.3;
	s.nodes[2].load = 0.6;
	s.nodes[2].free_mb = 30000;
	CHECK(run(&s) == 0, "after relieve, even with the cooldown over: no move back");
	s.nodes[0].load = 1.1;
	s.nodes[2].load = 1.25;
	CHECK(run(&s) == 0, "new home over overload but the old one is not idle: stay");
}

static void test_bad_input(const np_topo *t)
{
	struct scene s;
	struct np_bal_action *a = (struct np_bal_action *)&s;
	struct np_error err = { 0 };
	int n = 77, bad_home = 3;

	scene_init(&s, t);
	s.g[0].home = &bad_home;
	CHECK(np_balance_decide(&s.in, &s.p, &a, &n, &err) == NP_EINPUT &&
		      strstr(err.message, "guest 0") && n == 77 && a == (void *)&s,
	      "home node out of range: %s", err.message);
	scene_init(&s, t);
	s.v[0].cpu = 99;
	CHECK(np_balance_decide(&s.in, &s.p, &a, &n, &err) == NP_EINPUT &&
		      strstr(err.message, "CPU 99"),
	      "vCPU on a CPU the host lacks: %s", err.message);
	scene_init(&s, t);
	s.v[0].guest = 5;
	CHECK(np_balance_decide(&s.in, &s.p, &a, &n, &err) == NP_EINPUT, "no such guest");
	scene_init(&s, t);
	s.p.follow_fraction = 0.5;
	CHECK(np_balance_decide(&s.in, &s.p, &a, &n, &err) == NP_EINPUT &&
		      strstr(err.message, "follow_fraction"),
	      "follow_fraction 0.5 allows ping-pong: refused");
	scene_init(&s, t);
	s.nodes[1].load = -1;
	CHECK(np_balance_decide(&s.in, &s.p, &a, &n, &err) == NP_EINPUT, "negative load");
	scene_init(&s, t);
	s.g[0].cpu_demand = 0.0 / 0.0;
	CHECK(np_balance_decide(&s.in, &s.p, &a, &n, &err) == NP_EINPUT, "NaN demand");
	CHECK(np_balance_decide(NULL, &s.p, &a, &n, &err) == NP_EINPUT, "NULL input");
	CHECK(n == 77, "outputs untouched on failure");
}

/* ---- randomised: the state after the actions gives no opposite action */

static unsigned rnd_state = 12345;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

#define RG 4

struct world {
	int home[RG][NN];
	uint64_t mem[RG][NN];
	struct np_bal_guest g[RG];
	struct np_bal_vcpu v[RG * 2];
	struct np_bal_node nodes[NN];
	struct np_bal_input in;
};

static void world_random(struct world *w, const np_topo *t)
{
	memset(w, 0, sizeof(*w));
	for (int n = 0; n < NN; n++)
		w->nodes[n] = (struct np_bal_node){ .free_mb = rnd(8) * 1000 + rnd(4000),
						    .load = rnd(200) / 100.0 };
	for (int i = 0; i < RG; i++) {
		w->home[i][0] = (int)rnd(NN);
		for (int n = 0; n < NN; n++)
			w->mem[i][n] = rnd(3) ? 0 : rnd(4000);
		w->g[i] = (struct np_bal_guest){ .id = i, .nhome = 1, .home = w->home[i],
						 .mem_mb = w->mem[i], .cpu_demand = rnd(30) / 10.0,
						 .since_action_ms = UINT64_MAX,
						 .may_migrate = rnd(5) != 0, .may_repin = rnd(5) != 0 };
		for (int k = 0; k < 2; k++)
			w->v[i * 2 + k] = (struct np_bal_vcpu){ .guest = i, .vcpu = k,
								 .cpu = (int)rnd(NN * 4),
								 .outside_ms = rnd(4000) };
	}
	w->in = (struct np_bal_input){ .topo = t, .nguests = RG, .guests = w->g,
				       .nvcpus = RG * 2, .vcpus = w->v, .nodes = w->nodes };
}

static void move_load(struct world *w, int gi, int from, int to)
{
	double d = w->g[gi].cpu_demand / 4;

	w->nodes[from].load = w->nodes[from].load > d ? w->nodes[from].load - d : 0;
	w->nodes[to].load += d;
}

static void move_mem(struct world *w, int gi, int from, int to, uint64_t mb)
{
	if (mb > w->mem[gi][from])
		mb = w->mem[gi][from];
	w->mem[gi][from] -= mb;
	w->mem[gi][to] += mb;
	w->nodes[from].free_mb += mb;
	w->nodes[to].free_mb = w->nodes[to].free_mb > mb ? w->nodes[to].free_mb - mb : 0;
}

/* What the host looks like after ACT was carried out. */
static void world_apply(struct world *w, const struct np_bal_action *a)
{
	struct np_bal_vcpu *v = NULL;

	for (int i = 0; i < RG * 2; i++)
		if (w->v[i].guest == a->guest && w->v[i].vcpu == a->vcpu)
			v = &w->v[i];
	switch (a->kind) {
	case NP_BAL_RESCUE_PIN:
		*v = (struct np_bal_vcpu){ .guest = a->guest, .vcpu = a->vcpu,
					   .cpu = a->to_node * 4, .rescue_pinned = true };
		break;
	case NP_BAL_RESTORE_SOFT:
		v->rescue_pinned = false;
		break;
	case NP_BAL_FOLLOW_MEMORY:
		move_load(w, a->guest, w->home[a->guest][0], a->to_node);
		w->home[a->guest][0] = a->to_node;
		break;
	case NP_BAL_RELIEVE:
		move_load(w, a->guest, a->from_node, a->to_node);
		w->home[a->guest][0] = a->to_node;
		move_mem(w, a->guest, a->from_node, a->to_node, a->mb);
		break;
	case NP_BAL_MIGRATE_HOME:
		move_mem(w, a->guest, a->from_node, a->to_node, a->mb);
		break;
	}
}

static void test_no_thrash(const np_topo *t)
{
	struct np_bal_params p;
	int rounds = 0, acted = 0, bad = 0;

	np_bal_params_default(&p);
	p.migrate_budget_mb = 100000; /* whole moves, so the second call sees them done */
	for (int iter = 0; iter < 3000; iter++) {
		struct world w;
		struct np_bal_action *a1 = NULL, *a2 = NULL;
		int n1 = 0, n2 = 0;

		world_random(&w, t);
		if (np_balance_decide(&w.in, &p, &a1, &n1, NULL) != 0)
			continue;
		rounds++;
		acted += n1 > 0;
		for (int i = 0; i < n1; i++)
			world_apply(&w, &a1[i]);
		/* The cooldown is over: only the thresholds hold it. */
		if (np_balance_decide(&w.in, &p, &a2, &n2, NULL) != 0)
			bad++;
		for (int i = 0; i < n1; i++)
			for (int j = 0; j < n2; j++) {
				bool opposite = a1[i].guest == a2[j].guest && a1[i].from_node >= 0 &&
						a2[j].to_node == a1[i].from_node &&
						a2[j].from_node == a1[i].to_node;
				bool repin = a1[i].kind == NP_BAL_RESCUE_PIN &&
					     a2[j].kind == NP_BAL_RESTORE_SOFT &&
					     a1[i].guest == a2[j].guest && a1[i].vcpu == a2[j].vcpu;

				if (opposite || repin) {
					bad++;
					fprintf(stderr, "iter %d: %s then %s: %s\n", iter,
						np_bal_kind_name(a1[i].kind),
						np_bal_kind_name(a2[j].kind), a2[j].reason);
				}
			}
		free(a1);
		free(a2);
	}
	CHECK(rounds == 3000, "every random input accepted (%d)", rounds);
	CHECK(acted > 500, "the random worlds exercise the rules (%d acted)", acted);
	CHECK(bad == 0, "%d opposite actions after feeding back the state", bad);
}

int main(void)
{
	np_topo *t = host();

	T_CASE("defaults", test_defaults());
	T_CASE("rescue", test_rescue(t));
	T_CASE("rescue-swap", test_rescue_swap(t));
	T_CASE("rescue-room", test_rescue_room(t));
	T_CASE("follow", test_follow(t));
	T_CASE("migrate", test_migrate(t));
	T_CASE("relieve", test_relieve(t));
	T_CASE("bad-input", test_bad_input(t));
	T_CASE("no-thrash", test_no_thrash(t));
	np_topo_free(t);
	return t_done();
}
