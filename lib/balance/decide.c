/*
 * decide.c - np_balance_decide(): what the balancer does about running
 * guests, as one pure function of what was observed (balance.h).
 *
 * Design: one pass over a private working copy of the nodes' free memory
 * and load, which every decided action updates, so that later decisions in
 * the same call see the effect of earlier ones (two guests are never both
 * sent to the one idle node).  The order is fixed:
 *   1. restore vCPUs whose rescue pin is old enough;
 *   2. relieve: for each overloaded node, most loaded first, move the one
 *      guest whose move gains most (gain > cost) to an idle node;
 *   3. per guest, in order: when its home has room (above a reserve) for
 *      all its memory that is away, migrate it home; otherwise, when one
 *      node X holds >= follow_fraction of its memory, its home follows to
 *      X; otherwise migrate what fits.  Migration stays within
 *      migrate_budget_mb for the whole call;
 *   4. rescue: vCPUs outside their home for longer than stuck_ms are
 *      hard-pinned to the least loaded home node that is not overloaded,
 *      alone when it has a CPU free; into a full home only together with
 *      a swap partner: a vCPU of another guest, outside its home on that
 *      node, whose home is the first one's node.  (Alone into a full node,
 *      the CPU it left steals a queued vCPU of another guest, which is
 *      then outside its home: the number outside never falls.)
 * Home changes (relieve, follow) wait for cooldown_ms since the last action
 * on the guest; the others never change a home, so they cannot undo one.
 *
 * Hysteresis (why a decision is not undone by the next call):
 *  - follow needs > 50% of the memory on one node, so afterwards the old
 *    home holds < 50% and cannot pull it back; and it needs the home to be
 *    full, while a relieve needs room for all memory on the target, so a
 *    relieved guest is migrated home rather than followed back;
 *  - relieve and follow leave the target at or below `overload`, and a
 *    reverse relieve needs its source above `overload`;
 *  - migrate home leaves a reserve free on the home node, so the kernel
 *    has no reason to fall back again, and brings nothing home to an
 *    overloaded node, which a relieve may soon leave;
 *  - a rescued vCPU is pinned at home, so it is neither rescued nor a
 *    swap partner again until restore-soft, after rescue_ms of pinning;
 *  - within one call, room and load are updated as actions are decided
 *    (a lone rescue moves one vCPU's load, a swap none), so the next call
 *    starts from what this one expected.
 *
 * Invariants: no system calls, no clock, no globals; inputs are only read.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/balance.h>

#include "util/util.h"

/* Memory left free on a node by the balancer: 5% of it, at least 64 MiB. */
#define RESERVE_MIN_MB 64

enum { G_UNTOUCHED, G_MOVED, G_MIGRATED };

struct work {
	const struct np_bal_input *in;
	const struct np_bal_params *p;
	int nnodes;
	double *load;       /* per node index, updated by decided actions */
	int64_t *free_mb;   /* likewise */
	char *moved;        /* per guest: G_MOVED (home changed) or G_MIGRATED */
	uint64_t budget_mb; /* migration budget left */
	struct np_bal_action *acts;
	size_t nacts, cap;
	int rc;
};

void np_bal_params_default(struct np_bal_params *p)
{
	p->stuck_ms = 2000;
	p->rescue_ms = 500;
	p->cooldown_ms = 30000;
	p->follow_fraction = 0.6;
	p->overload = 1.2;
	p->idle = 0.6;
	p->migrate_budget_mb = 1024;
	p->migrate_mb_per_s = 1000;
}

const char *np_bal_kind_name(enum np_bal_kind kind)
{
	switch (kind) {
	case NP_BAL_RESCUE_PIN: return "rescue-pin";
	case NP_BAL_RESTORE_SOFT: return "restore-soft";
	case NP_BAL_FOLLOW_MEMORY: return "follow-memory";
	case NP_BAL_MIGRATE_HOME: return "migrate-home";
	case NP_BAL_RELIEVE: return "relieve";
	}
	return "unknown";
}

static int os_node(const struct work *w, int idx)
{
	return np_topo_node(w->in->topo, idx)->os_id;
}

static int node_cpus(const struct work *w, int idx)
{
	return np_topo_node(w->in->topo, idx)->ncpus;
}

static int64_t reserve_mb(const struct work *w, int idx)
{
	int64_t r = (int64_t)(np_topo_node(w->in->topo, idx)->mem_total_kb / 1024 / 20);

	return r < RESERVE_MIN_MB ? RESERVE_MIN_MB : r;
}

static int64_t room_mb(const struct work *w, int idx)
{
	int64_t r = w->free_mb[idx] - reserve_mb(w, idx);

	return r > 0 ? r : 0;
}

/*
 * Room for migrating memory home to node IDX: none while it is overloaded,
 * since a relieve may soon move its guests to where their memory is.
 */
static int64_t home_room(const struct work *w, int idx)
{
	return w->load[idx] > w->p->overload ? 0 : room_mb(w, idx);
}

static bool is_home(const struct np_bal_guest *g, int idx)
{
	for (int i = 0; i < g->nhome; i++)
		if (g->home[i] == idx)
			return true;
	return false;
}

static bool cooled(const struct work *w, const struct np_bal_guest *g)
{
	return g->since_action_ms >= w->p->cooldown_ms;
}

/* Append an action; the reason is formatted.  Sticky NP_ENOMEM. */
static struct np_bal_action *add(struct work *w, enum np_bal_kind kind, int guest, int vcpu,
				 int from, int to, uint64_t mb, const char *fmt, ...)
	NP__PRINTF(8, 9);

static struct np_bal_action *add(struct work *w, enum np_bal_kind kind, int guest, int vcpu,
				 int from, int to, uint64_t mb, const char *fmt, ...)
{
	struct np_bal_action *a;
	va_list ap;

	if (w->rc || np__grow((void **)&w->acts, &w->cap, w->nacts + 1, sizeof(*a)) < 0) {
		w->rc = NP_ENOMEM;
		return NULL;
	}
	a = &w->acts[w->nacts++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->guest = guest;
	a->vcpu = vcpu;
	a->from_node = from;
	a->to_node = to;
	a->mb = mb;
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
	return a;
}

/* ---- input checks --------------------------------------------------- */

static int check_guest(const struct np_bal_input *in, int gi, int nnodes, struct np_error *err)
{
	const struct np_bal_guest *g = &in->guests[gi];

	if (g->nhome < 0 || g->nhome > nnodes || (g->nhome && !g->home) || !g->mem_mb)
		return np__err(err, NP_EINPUT, "guest %d: bad home or memory arrays", gi);
	for (int i = 0; i < g->nhome; i++) {
		if (g->home[i] < 0 || g->home[i] >= nnodes || (i && g->home[i] <= g->home[i - 1]))
			return np__err(err, NP_EINPUT,
				       "guest %d: home node indexes must increase within 0..%d", gi,
				       nnodes - 1);
	}
	if (!isfinite(g->cpu_demand) || g->cpu_demand < 0)
		return np__err(err, NP_EINPUT, "guest %d: cpu demand must be >= 0", gi);
	for (int n = 0; n < nnodes; n++)
		if (g->mem_mb[n] > NP_MEMORY_MB_MAX)
			return np__err(err, NP_EINPUT, "guest %d: memory on node index %d too large", gi, n);
	return 0;
}

static int check_params(const struct np_bal_params *p, struct np_error *err)
{
	if (!(p->follow_fraction > 0.5 && p->follow_fraction <= 1.0))
		return np__err(err, NP_EINPUT, "follow_fraction must be above 0.5 and at most 1");
	if (!(p->idle >= 0 && p->idle < p->overload && isfinite(p->overload)))
		return np__err(err, NP_EINPUT, "need 0 <= idle < overload");
	if (!(p->migrate_mb_per_s > 0 && isfinite(p->migrate_mb_per_s)))
		return np__err(err, NP_EINPUT, "migrate_mb_per_s must be positive");
	return 0;
}

static int check_input(const struct np_bal_input *in, const struct np_bal_params *p,
		       struct np_error *err)
{
	int nnodes, rc;

	if (!in || !p || !in->topo || in->nguests < 0 || in->nvcpus < 0 ||
	    (in->nguests && !in->guests) || (in->nvcpus && !in->vcpus) || !in->nodes)
		return np__err(err, NP_EINPUT, "balance input: missing arrays or negative counts");
	rc = check_params(p, err);
	nnodes = np_topo_node_count(in->topo);
	for (int i = 0; !rc && i < nnodes; i++) {
		if (!isfinite(in->nodes[i].load) || in->nodes[i].load < 0)
			rc = np__err(err, NP_EINPUT, "node index %d: load must be >= 0", i);
	}
	for (int i = 0; !rc && i < in->nguests; i++)
		rc = check_guest(in, i, nnodes, err);
	for (int i = 0; !rc && i < in->nvcpus; i++) {
		const struct np_bal_vcpu *v = &in->vcpus[i];

		if (v->guest < 0 || v->guest >= in->nguests)
			rc = np__err(err, NP_EINPUT, "vcpu entry %d: no guest %d", i, v->guest);
		else if (v->cpu != -1 && np_topo_cpu_index(in->topo, v->cpu) < 0)
			rc = np__err(err, NP_EINPUT, "vcpu entry %d: no CPU %d on this host", i,
				     v->cpu);
	}
	return rc;
}

/* ---- 1 and 4: per vCPU ---------------------------------------------- */

static int vcpu_node(const struct work *w, const struct np_bal_vcpu *v)
{
	int ci = v->cpu < 0 ? -1 : np_topo_cpu_index(w->in->topo, v->cpu);

	return ci < 0 ? -1 : np_topo_cpu(w->in->topo, ci)->node_idx;
}

static void restore(struct work *w)
{
	for (int i = 0; i < w->in->nvcpus; i++) {
		const struct np_bal_vcpu *v = &w->in->vcpus[i];

		if (!v->rescue_pinned || v->pinned_ms < w->p->rescue_ms)
			continue;
		/* FROM: where the pinned vCPU is seen, so the log shows the pin held. */
		add(w, NP_BAL_RESTORE_SOFT, v->guest, v->vcpu, vcpu_node(w, v), -1, 0,
		    "vcpu %d rescue-pinned for %llu ms >= %llu ms: back to soft affinity",
		    v->vcpu, (unsigned long long)v->pinned_ms, (unsigned long long)w->p->rescue_ms);
	}
}

/* A rescue may go to node N: it has CPUs and is not overloaded. */
static bool may_take(const struct work *w, int n)
{
	return node_cpus(w, n) > 0 && w->load[n] <= w->p->overload;
}

/*
 * Node N has a CPU free for one more vCPU: load is runnable work per CPU
 * (1.0 = full), so a free CPU is (1 - load) x CPUs >= 1.  The epsilon keeps
 * a load computed as 27/28 from counting as less than one CPU free.
 */
static bool has_room(const struct work *w, int n)
{
	return (1.0 - w->load[n]) * node_cpus(w, n) >= 1.0 - 1e-9;
}

/* The least loaded home node a rescue may go to, or -1. */
static int rescue_target(const struct work *w, const struct np_bal_guest *g)
{
	int best = -1;

	for (int i = 0; i < g->nhome; i++) {
		int n = g->home[i];

		if (may_take(w, n) && (best < 0 || w->load[n] < w->load[best]))
			best = n;
	}
	return best;
}

/*
 * The node vCPU I is on when it is outside its home and may be rescued,
 * or -1.  Only one outside for longer than stuck_ms is rescued for its own
 * sake; any may be the swap partner of one (see rescue()).
 */
static int outside_at(const struct work *w, int i)
{
	const struct np_bal_vcpu *v = &w->in->vcpus[i];
	const struct np_bal_guest *g = &w->in->guests[v->guest];
	int at = vcpu_node(w, v);

	if (v->rescue_pinned || at < 0 || !g->may_repin || g->nhome == 0 ||
	    w->moved[v->guest] == G_MOVED || is_home(g, at))
		return -1;
	return at;
}

static bool stuck(const struct work *w, int i)
{
	return w->in->vcpus[i].outside_ms > w->p->stuck_ms;
}

/*
 * Swap partners: the vCPUs outside their home listed by (node they are
 * on, a home node of theirs), each list in input order, so that "a vCPU
 * on node B that may go home to node A" is found by looking at list (B, A)
 * from its cursor, which passes vCPUs already rescued: linear in the
 * vCPUs outside.
 */
struct outside {
	int *at;    /* per vCPU: outside_at(), -1 when at home */
	char *done; /* per vCPU: rescued in this call */
	int *start; /* nnodes^2 + 1 offsets into idx, list (b, a) at b * nnodes + a */
	int *cur;   /* nnodes^2: next entry of each list to look at */
	int *idx;   /* vCPU indexes */
};

static void outside_free(struct outside *st)
{
	free(st->at);
	free(st->done);
	free(st->start);
	free(st->cur);
	free(st->idx);
}

static int outside_build(const struct work *w, struct outside *st)
{
	size_t nv = (size_t)w->in->nvcpus, nl = (size_t)w->nnodes * (size_t)w->nnodes;

	st->at = np__calloc(nv + 1, sizeof(int));
	st->done = np__calloc(nv + 1, 1);
	st->start = np__calloc(nl + 1, sizeof(int));
	st->cur = np__calloc(nl + 1, sizeof(int));
	if (!st->at || !st->done || !st->start || !st->cur)
		return NP_ENOMEM;
	for (size_t i = 0; i < nv; i++) {
		const struct np_bal_guest *g = &w->in->guests[w->in->vcpus[i].guest];

		st->at[i] = outside_at(w, (int)i);
		for (int h = 0; st->at[i] >= 0 && h < g->nhome; h++)
			st->start[st->at[i] * w->nnodes + g->home[h] + 1]++;
	}
	for (size_t l = 0; l < nl; l++)
		st->start[l + 1] += st->start[l];
	memcpy(st->cur, st->start, nl * sizeof(int));
	if (!(st->idx = np__calloc((size_t)st->start[nl] + 1, sizeof(int))))
		return NP_ENOMEM;
	for (size_t i = 0; i < nv; i++) {
		const struct np_bal_guest *g = &w->in->guests[w->in->vcpus[i].guest];

		for (int h = 0; st->at[i] >= 0 && h < g->nhome; h++)
			st->idx[st->cur[st->at[i] * w->nnodes + g->home[h]]++] = (int)i;
	}
	memcpy(st->cur, st->start, nl * sizeof(int));
	return 0;
}

/* The first vCPU not yet rescued that is on B and may go home to A, or -1. */
static int partner_on(struct outside *st, int nnodes, int b, int a)
{
	int l = b * nnodes + a;

	while (st->cur[l] < st->start[l + 1] && st->done[st->idx[st->cur[l]]])
		st->cur[l]++;
	return st->cur[l] < st->start[l + 1] ? st->idx[st->cur[l]] : -1;
}

/*
 * A swap partner for stuck vCPU X: a vCPU outside its home on one of X's
 * home nodes (the least loaded that may take X) whose own home includes
 * X's node.  Sets *TO to that home node of X; -1 when there is none.
 */
static int partner(const struct work *w, struct outside *st, int x, int *to)
{
	const struct np_bal_guest *g = &w->in->guests[w->in->vcpus[x].guest];
	int a = st->at[x], best = -1;

	if (!may_take(w, a))
		return -1;
	for (int i = 0; i < g->nhome; i++) {
		int h = g->home[i], y;

		if (!may_take(w, h) || (y = partner_on(st, w->nnodes, h, a)) < 0)
			continue;
		if (best < 0 || w->load[h] < w->load[*to]) {
			best = y;
			*to = h;
		}
	}
	return best;
}

/* Stuck vCPU I goes home to TO, which has a CPU free: the load follows it. */
static void rescue_alone(struct work *w, struct outside *st, int i, int to)
{
	const struct np_bal_vcpu *v = &w->in->vcpus[i];
	int at = st->at[i];

	st->done[i] = 1;
	add(w, NP_BAL_RESCUE_PIN, v->guest, v->vcpu, at, to, 0,
	    "vcpu %d on node %d, outside its home for %llu ms > %llu ms; home node %d load %.2f",
	    v->vcpu, os_node(w, at), (unsigned long long)v->outside_ms,
	    (unsigned long long)w->p->stuck_ms, os_node(w, to), w->load[to]);
	w->load[to] += 1.0 / node_cpus(w, to);
	w->load[at] -= 1.0 / node_cpus(w, at);
	if (w->load[at] < 0)
		w->load[at] = 0;
}

/* Stuck vCPU X goes home to TO and Y, on TO, home to X's node: loads stay. */
static void rescue_swap(struct work *w, struct outside *st, int x, int y, int to)
{
	const struct np_bal_vcpu *v = &w->in->vcpus[x], *u = &w->in->vcpus[y];
	int at = st->at[x];

	st->done[x] = st->done[y] = 1;
	add(w, NP_BAL_RESCUE_PIN, v->guest, v->vcpu, at, to, 0,
	    "vcpu %d on node %d, outside its home for %llu ms > %llu ms; home node %d load "
	    "%.2f: swaps with vcpu %d of guest %d",
	    v->vcpu, os_node(w, at), (unsigned long long)v->outside_ms,
	    (unsigned long long)w->p->stuck_ms, os_node(w, to), w->load[to], u->vcpu,
	    w->in->guests[u->guest].id);
	add(w, NP_BAL_RESCUE_PIN, u->guest, u->vcpu, to, at, 0,
	    "vcpu %d on node %d, outside its home for %llu ms; swaps with vcpu %d of guest %d, "
	    "stuck on home node %d for %llu ms",
	    u->vcpu, os_node(w, to), (unsigned long long)u->outside_ms, v->vcpu,
	    w->in->guests[v->guest].id, os_node(w, at), (unsigned long long)v->outside_ms);
}

/*
 * Step 4.  A stuck vCPU goes home alone only when its home has a CPU free:
 * sent into a full node it would queue there, and the CPU it left would
 * steal another guest's queued vCPU, now outside ITS home - a ping-pong.
 * Into a full home it goes only with a swap partner, in the same call.  The
 * partner need not be stuck yet: it is outside its home, in the place the
 * stuck one needs, and the swap brings both home.
 */
static void rescue(struct work *w)
{
	struct outside st = { 0 };

	if (outside_build(w, &st) < 0) {
		w->rc = NP_ENOMEM;
		goto out;
	}
	for (int i = 0; i < w->in->nvcpus && !w->rc; i++) {
		int to, y;

		if (st.at[i] < 0 || st.done[i] || !stuck(w, i))
			continue;
		to = rescue_target(w, &w->in->guests[w->in->vcpus[i].guest]);
		if (to >= 0 && has_room(w, to))
			rescue_alone(w, &st, i, to);
		else if (to >= 0 && (y = partner(w, &st, i, &to)) >= 0)
			rescue_swap(w, &st, i, y, to);
	}
out:
	outside_free(&st);
}

/* ---- 2: follow memory ----------------------------------------------- */

static uint64_t total_mb(const struct work *w, const struct np_bal_guest *g)
{
	uint64_t t = 0;

	for (int n = 0; n < w->nnodes; n++)
		t += g->mem_mb[n];
	return t;
}

static uint64_t away_mb(const struct work *w, const struct np_bal_guest *g)
{
	uint64_t t = 0;

	for (int n = 0; n < w->nnodes; n++)
		if (!is_home(g, n))
			t += g->mem_mb[n];
	return t;
}

static int64_t home_room_mb(const struct work *w, const struct np_bal_guest *g)
{
	int64_t r = 0;

	for (int i = 0; i < g->nhome; i++)
		r += home_room(w, g->home[i]);
	return r;
}

/* Move the guest's CPU demand from its home nodes (evenly) to node TO. */
static void shift_load(struct work *w, const struct np_bal_guest *g, int to)
{
	for (int i = 0; i < g->nhome; i++) {
		int n = g->home[i];

		if (node_cpus(w, n))
			w->load[n] -= g->cpu_demand / g->nhome / node_cpus(w, n);
		if (w->load[n] < 0)
			w->load[n] = 0;
	}
	w->load[to] += g->cpu_demand / node_cpus(w, to);
}

/* Room at home for all its memory that is away (and leave to migrate it). */
static bool migrate_all_fits(const struct work *w, int gi)
{
	const struct np_bal_guest *g = &w->in->guests[gi];

	return g->may_migrate && home_room_mb(w, g) >= (int64_t)away_mb(w, g);
}

static bool follow_one(struct work *w, int gi)
{
	const struct np_bal_guest *g = &w->in->guests[gi];
	uint64_t total = total_mb(w, g);
	int x = -1;
	double after;

	if (!g->may_repin || g->nhome == 0 || !cooled(w, g) || total == 0)
		return false;
	for (int n = 0; n < w->nnodes; n++)
		if (!is_home(g, n) && (x < 0 || g->mem_mb[n] > g->mem_mb[x]))
			x = n;
	if (x < 0 || node_cpus(w, x) == 0 ||
	    (double)g->mem_mb[x] < w->p->follow_fraction * (double)total)
		return false;
	after = w->load[x] + g->cpu_demand / node_cpus(w, x);
	if (after > w->p->overload)
		return false;
	add(w, NP_BAL_FOLLOW_MEMORY, gi, -1, g->home[0], x, 0,
	    "%llu of %llu MiB on node %d (>= %.0f%%), home has room for %lld MiB: "
	    "affinity follows memory",
	    (unsigned long long)g->mem_mb[x], (unsigned long long)total, os_node(w, x),
	    w->p->follow_fraction * 100, (long long)home_room_mb(w, g));
	shift_load(w, g, x);
	w->moved[gi] = G_MOVED;
	return true;
}

/* ---- 3: relieve ----------------------------------------------------- */

static double speed(double load)
{
	return load <= 1.0 ? 1.0 : 1.0 / load;
}

struct move {
	int guest, to;
	double net, gain, cost;
	uint64_t mb_all;
};

/*
 * The work (CPU-seconds over one cooldown, which is how long the guest then
 * stays) that moving guest G from F to T recovers for everyone on F and T,
 * and its cost: the guest's demand stalled while its memory on F moves.
 */
static bool weigh(const struct work *w, const struct np_bal_guest *g, int f, int t,
		  struct move *m)
{
	double cf = node_cpus(w, f), ct = node_cpus(w, t), d = g->cpu_demand;
	double lf = w->load[f], lt = w->load[t];
	double lf2 = lf - d / cf, lt2 = lt + d / ct, horizon;
	double others_f = lf * cf - d;

	if (lt2 > w->p->overload || lt2 >= lf2 || lf2 < 0)
		return false;
	if (room_mb(w, t) < (int64_t)g->mem_mb[f])
		return false; /* all of its memory must fit, or it is followed back */
	horizon = (double)w->p->cooldown_ms / 1000.0;
	if (horizon < 1)
		horizon = 1;
	m->gain = (d * (speed(lt2) - speed(lf)) + (others_f > 0 ? others_f : 0) *
		   (speed(lf2) - speed(lf)) - lt * ct * (speed(lt) - speed(lt2))) * horizon;
	m->cost = d * (double)g->mem_mb[f] / w->p->migrate_mb_per_s;
	m->net = m->gain - m->cost;
	m->mb_all = g->mem_mb[f];
	return m->gain > m->cost;
}

/* The best guest on F and idle node to move it to; false when none gains. */
static bool best_move(const struct work *w, int f, struct move *best)
{
	bool found = false;
	struct move m = { 0 };

	for (int gi = 0; gi < w->in->nguests; gi++) {
		const struct np_bal_guest *g = &w->in->guests[gi];

		if (w->moved[gi] || !g->may_repin || !g->may_migrate || !cooled(w, g) ||
		    g->nhome != 1 || g->home[0] != f || g->cpu_demand <= 0)
			continue;
		for (int t = 0; t < w->nnodes; t++) {
			if (t == f || node_cpus(w, t) == 0 || w->load[t] >= w->p->idle)
				continue;
			if (!weigh(w, g, f, t, &m) || (found && m.net <= best->net))
				continue;
			m.guest = gi;
			m.to = t;
			*best = m;
			found = true;
		}
	}
	return found;
}

static void relieve(struct work *w)
{
	for (;;) {
		int f = -1;
		struct move m = { 0 };
		uint64_t mb;

		for (int n = 0; n < w->nnodes; n++)
			if (node_cpus(w, n) && w->load[n] > w->p->overload &&
			    (f < 0 || w->load[n] > w->load[f]))
				f = n;
		if (f < 0 || !best_move(w, f, &m))
			return;
		mb = m.mb_all < w->budget_mb ? m.mb_all : w->budget_mb;
		add(w, NP_BAL_RELIEVE, m.guest, -1, f, m.to, mb,
		    "node %d load %.2f > %.2f, node %d load %.2f < %.2f: gain %.1f > cost %.1f "
		    "cpu-s",
		    os_node(w, f), w->load[f], w->p->overload, os_node(w, m.to), w->load[m.to],
		    w->p->idle, m.gain, m.cost);
		shift_load(w, &w->in->guests[m.guest], m.to);
		w->free_mb[m.to] -= (int64_t)mb;
		w->free_mb[f] += (int64_t)mb;
		w->budget_mb -= mb;
		w->moved[m.guest] = G_MOVED;
		if (w->rc)
			return;
	}
}

/* ---- 4: migrate home ------------------------------------------------ */

static void migrate_one(struct work *w, int gi)
{
	const struct np_bal_guest *g = &w->in->guests[gi];

	if (!g->may_migrate || g->nhome == 0 || w->moved[gi])
		return;
	for (int s = 0; s < w->nnodes && w->budget_mb > 0; s++) {
		int h = -1;
		uint64_t mb;

		if (is_home(g, s) || g->mem_mb[s] == 0)
			continue;
		for (int i = 0; i < g->nhome; i++)
			if (h < 0 || home_room(w, g->home[i]) > home_room(w, h))
				h = g->home[i];
		mb = g->mem_mb[s];
		if ((uint64_t)home_room(w, h) < mb)
			mb = (uint64_t)home_room(w, h);
		if (w->budget_mb < mb)
			mb = w->budget_mb;
		if (mb == 0)
			continue;
		add(w, NP_BAL_MIGRATE_HOME, gi, -1, s, h, mb,
		    "%llu MiB away on node %d; home node %d has %lld MiB free above its "
		    "reserve: move %llu MiB",
		    (unsigned long long)g->mem_mb[s], os_node(w, s), os_node(w, h),
		    (long long)home_room(w, h), (unsigned long long)mb);
		w->free_mb[h] -= (int64_t)mb;
		w->free_mb[s] += (int64_t)mb;
		w->budget_mb -= mb;
	}
}

/* ---- the whole decision --------------------------------------------- */

/*
 * Step 3.  Follows change node loads, which can make a follow possible for
 * a guest looked at earlier; so passes repeat until one adds nothing.  A
 * guest whose memory all fits at home migrates at once, taking the room
 * before a later guest counts on it.
 */
static void memory_step(struct work *w)
{
	char *done = w->moved; /* a guest acted on (here or in relieve) is done */
	bool more = true;

	for (int gi = 0; gi < w->in->nguests; gi++) {
		if (!done[gi] && migrate_all_fits(w, gi)) {
			migrate_one(w, gi);
			done[gi] = G_MIGRATED;
		}
	}
	while (more && !w->rc) {
		more = false;
		for (int gi = 0; gi < w->in->nguests; gi++)
			if (!done[gi] && follow_one(w, gi))
				more = true;
	}
	for (int gi = 0; gi < w->in->nguests; gi++)
		if (!done[gi])
			migrate_one(w, gi);
}

static void decide(struct work *w)
{
	restore(w);
	relieve(w);
	memory_step(w);
	rescue(w);
}

int np_balance_decide(const struct np_bal_input *in, const struct np_bal_params *p,
		      struct np_bal_action **actions, int *nactions, struct np_error *err)
{
	struct work w = { .in = in, .p = p };
	int rc = check_input(in, p, err);

	if (rc)
		return rc;
	w.nnodes = np_topo_node_count(in->topo);
	w.budget_mb = p->migrate_budget_mb;
	w.load = np__calloc((size_t)w.nnodes + 1, sizeof(*w.load));
	w.free_mb = np__calloc((size_t)w.nnodes + 1, sizeof(*w.free_mb));
	w.moved = np__calloc((size_t)in->nguests + 1, 1);
	if (!w.load || !w.free_mb || !w.moved) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	for (int n = 0; n < w.nnodes; n++) {
		w.load[n] = in->nodes[n].load;
		w.free_mb[n] = in->nodes[n].free_mb > ((uint64_t)1 << 50)
				       ? (int64_t)1 << 50 : (int64_t)in->nodes[n].free_mb;
	}
	decide(&w);
	rc = w.rc;
	if (rc) {
		np__err(err, rc, "out of memory");
		goto out;
	}
	*actions = w.acts;
	*nactions = (int)w.nacts;
	w.acts = NULL;
out:
	free(w.acts);
	free(w.load);
	free(w.free_mb);
	free(w.moved);
	return rc;
}
