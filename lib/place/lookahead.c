/*
 * lookahead.c - np_place_lookahead(): choose among a few good plans the
 * one that leaves the most room for the guests a cloud expects, by
 * playing sampled futures (docs/policies/placement.md 15).
 *
 * Why: every greedy objective measured admits 90.8-91.6 % of the offline
 * optimum (docs/results.md); the rest is lost to choices whose cost shows
 * only guests later.  A cloud knows its flavors and how often each sells
 * (flavors.h), and that is enough to try the choices out: each candidate
 * plan is charged on a copy of the host, and S futures drawn from the
 * catalogue are placed after it by the default engine until the first
 * refusal (or DEPTH guests).  The candidate whose futures admit the most
 * guests in all wins; ties go to the earlier candidate, the engine's own
 * answer first.
 *
 * By default (rollout 0, since the eleventh session) a future the engine
 * admits fewer than roll_depth (4) guests of is played by best, first
 * and worst fit too, up to that many, the most any admits counting: near
 * a full host a packer's choices judge the candidate as well; longer
 * futures are the engine's alone (played to the end by all four, the
 * packers favoured candidates that leave room for a packer, not for the
 * engine: docs/results.md, tenth and eleventh sessions).
 *
 * Candidates: the engine's answer with the caller's options, then by
 * default best, first and worst fit's plans (lookahead-cands.c): on tune
 * seeds these gained more than the engine's runner-ups (NP_LOOKAHEAD_ALT:
 * the other strategy's answer, the engine's answer without each node of
 * its first answer, then without every node a candidate uses so far).
 * NP_LOOKAHEAD_SETS adds every node (one-cell guest) or node set at the
 * smallest maximum distance (several cells) that holds the guest, capped;
 * NP_LOOKAHEAD_SWAP each candidate's cells on its nodes in the other
 * orders (guests of 2 or 3 unequal cells).
 * Equal plans (same cells on the same nodes with the same pages) are one
 * candidate.
 *
 * Every candidate meets the same futures (common random numbers: their
 * differences are not drowned by the draws), drawn from LA->seed alone
 * (lookahead-futures.c, stratified by default): the same host, request
 * and seed give the same plan.  With LA->margin, a candidate must lead
 * the engine's answer by that many standard errors of the per-future
 * difference to win (choose()).  The budget
 * (max_guests: guests placed in futures, in all) ends the sampling after
 * the last round of futures every candidate could play in full.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>

#include "place/lookahead-int.h"
#include "plan/plan-int.h"
#include "util/util.h"

/* the engine's two answers, its others, the fit rules', node sets, swaps, the caller's */
#define LA_MAX_CANDS \
	(2 + NP_LOOKAHEAD_CANDS_MAX + 3 + NP_LOOKAHEAD_SETS_MAX + NP_LOOKAHEAD_SWAPS_MAX + \
	 NP_LOOKAHEAD_EXTRA_MAX)

/* Same cells on the same nodes with the same pages: one candidate. */
static bool same_plan(const np_plan *a, const np_plan *b)
{
	if (np_plan_cell_count(a) != np_plan_cell_count(b))
		return false;
	for (int i = 0; i < np_plan_cell_count(a); i++) {
		const struct np_plan_cell *x = np_plan_cell(a, i), *y = np_plan_cell(b, i);

		if (x->node_idx != y->node_idx || x->pagesize_kb != y->pagesize_kb ||
		    x->guest_cell != y->guest_cell)
			return false;
	}
	return true;
}

struct la {
	np_plan *c[LA_MAX_CANDS];
	int n;
};

/* Keep P as a candidate if it fits and is new (the first is kept anyway); else free it. */
static bool add(struct la *la, np_plan *p)
{
	bool keep = la->n == 0 || (np_plan_fits(p) && la->n < LA_MAX_CANDS);

	for (int i = 0; keep && i < la->n; i++)
		keep = !same_plan(la->c[i], p);
	if (keep)
		la->c[la->n++] = p;
	else
		np_plan_free(p);
	return keep;
}

/* The engine's answer on HOST without the nodes of MASK (their memory used, on a copy). */
static int without(const np_host *host, const np_request *req, const struct np_place_opts *o,
		   const bool *mask, np_plan **out, struct np_error *err)
{
	np_host *x = NULL;
	int rc = np_host_clone(host, &x, err);

	for (int j = 0; !rc && j < np_topo_node_count(np_host_topo(host)); j++)
		if (mask[j])
			rc = np_host_add_usage(x, j, 0, np_host_node(host, j)->memory_mb + 1, NULL, 0,
					       err);
	if (!rc)
		rc = np_place(x, req, o, out, err);
	np_host_free(x);
	return rc;
}

/* Mark the nodes of P in MASK. */
static void mark(bool *mask, const np_plan *p)
{
	for (int i = 0; i < np_plan_cell_count(p); i++)
		mask[np_plan_cell(p, i)->node_idx] = true;
}

/*
 * NP_LOOKAHEAD_ALT: the other strategy's answer, the engine's without
 * each node of its answer in turn, then without every node a candidate
 * uses so far, again and again (for a one-cell guest: every node, in the
 * engine's order), up to NP_LOOKAHEAD_CANDS_MAX of these.
 */
static int alternatives(const np_host *host, const np_request *req, const struct np_place_opts *o,
			struct la *la, struct np_error *err)
{
	struct np_place_opts other = *o;
	int nodes = np_topo_node_count(np_host_topo(host)), k, tried = 0, rc;
	bool *mask = calloc((size_t)nodes, sizeof(*mask));
	np_plan *p = NULL;

	if (!mask)
		return np__err(err, NP_ENOMEM, "out of memory");
	other.strategy = o->strategy == NP_STRATEGY_PACK ? NP_STRATEGY_SPREAD : NP_STRATEGY_PACK;
	other.explain = false;
	if ((rc = np_place(host, req, &other, &p, err)))
		goto out;
	add(la, p);
	other.strategy = o->strategy;
	k = np_plan_cell_count(la->c[0]);
	for (int i = 0; k > 1 && i < k && tried < NP_LOOKAHEAD_CANDS_MAX; i++, tried++) {
		memset(mask, 0, (size_t)nodes * sizeof(*mask));
		mask[np_plan_cell(la->c[0], i)->node_idx] = true;
		if ((rc = without(host, req, &other, mask, &p, err)))
			goto out;
		add(la, p);
	}
	memset(mask, 0, (size_t)nodes * sizeof(*mask));
	for (bool more = true; more && tried < NP_LOOKAHEAD_CANDS_MAX; tried++) {
		for (int i = 0; i < la->n; i++)
			mark(mask, la->c[i]);
		if ((rc = without(host, req, &other, mask, &p, err)))
			goto out;
		if (!np_plan_fits(p)) {
			np_plan_free(p);
			break;
		}
		more = add(la, p); /* else nothing new to take away */
	}
out:
	free(mask);
	return rc;
}

/*
 * NP_LOOKAHEAD_BEST, _FIRST, _WORST: the fit rules' plans, in that order;
 * NP_LOOKAHEAD_SETS: every node set at the smallest distance, at most
 * LO->max_sets (lookahead-cands.c).
 */
static int fit_cands(const np_host *host, const np_request *req, const struct np_lookahead *lo,
		     unsigned cands, struct la *la, struct np_error *err)
{
	static const struct {
		unsigned bit;
		enum np__fit_rule rule;
	} rules[] = { { NP_LOOKAHEAD_BEST, NP__FIT_BEST },
		      { NP_LOOKAHEAD_FIRST, NP__FIT_FIRST },
		      { NP_LOOKAHEAD_WORST, NP__FIT_WORST } };
	np_plan *sets[NP_LOOKAHEAD_SETS_MAX], *p = NULL;
	int n = 0, rc;

	for (size_t r = 0; r < NP__ARRAY_SIZE(rules); r++) {
		if (!(cands & rules[r].bit))
			continue;
		if ((rc = np__fit_rule_place(rules[r].rule, host, req, &p, err)))
			return rc;
		add(la, p);
	}
	if (!(cands & NP_LOOKAHEAD_SETS))
		return 0;
	rc = np__fit_node_sets(host, req, lo->max_sets ? lo->max_sets : NP_LOOKAHEAD_SETS_DEFAULT,
			       sets, &n, err);
	for (int i = 0; i < n; i++)
		add(la, sets[i]);
	return rc;
}

/* Cells I and J of REQ ask the same (a swap of them changes nothing on the host). */
static bool same_cell(const np_request *req, int i, int j)
{
	const struct np_guest_cell *a = np_request_cell(req, i), *b = np_request_cell(req, j);

	return a->nvcpus == b->nvcpus && a->npcpus == b->npcpus && a->memory_mb == b->memory_mb &&
	       a->pagesize == b->pagesize;
}

/* The next permutation of PERM[0..K-1] in lexicographic order; false after the last. */
static bool next_perm(int *perm, int k)
{
	int i = k - 2, j = k - 1, t;

	while (i >= 0 && perm[i] >= perm[i + 1])
		i--;
	if (i < 0)
		return false;
	while (perm[j] <= perm[i])
		j--;
	t = perm[i]; /* swap i and j, then reverse what follows i */
	perm[i] = perm[j];
	perm[j] = t;
	for (int a = i + 1, b = k - 1; a < b; a++, b--) {
		t = perm[a];
		perm[a] = perm[b];
		perm[b] = t;
	}
	return true;
}

/*
 * Does PERM put cells that ask the same in the order of their nodes (cell
 * i on the node of cell PERM[i])?  Of the orders that leave every node
 * holding the same, only that one is tried.
 */
static bool canonical(const np_request *req, const int *perm, int k)
{
	for (int i = 0; i < k; i++)
		for (int j = i + 1; j < k; j++)
			if (perm[i] > perm[j] && same_cell(req, i, j))
				return false;
	return true;
}

/*
 * NP_LOOKAHEAD_SWAP: the cells of each candidate so far (at most
 * NP_LOOKAHEAD_SWAP_CELLS cells) on the same nodes in every other order
 * that changes what a node holds (cell i on the node of cell PERM[i]).
 * Why: which of two unequal cells gets the roomier node is decided by
 * the engine's terms or the fit rules' cell-by-cell order, never by what
 * the next guests need; the futures can judge it.  Measured (tune and
 * held-out seeds, docs/results.md, ninth session): +31 and +1 guests
 * within noise, one family below its best baseline on held-out seeds,
 * so not the default.
 */
static int swaps(const np_host *host, const np_request *req, struct la *la, struct np_error *err)
{
	int k = np_request_cell_count(req), n0 = la->n, perm[NP_LOOKAHEAD_SWAP_CELLS],
	    nodes[NP_LOOKAHEAD_SWAP_CELLS], at[NP_LOOKAHEAD_SWAP_CELLS];

	if (k < 2 || k > NP_LOOKAHEAD_SWAP_CELLS)
		return 0;
	for (int c = 0; c < n0; c++) {
		if (np_plan_cell_count(la->c[c]) != k)
			continue;
		for (int i = 0; i < k; i++) {
			const struct np_plan_cell *pc = np_plan_cell(la->c[c], i);

			assert(pc->guest_cell >= 0 && pc->guest_cell < k);
			at[pc->guest_cell] = pc->node_idx;
			perm[i] = i;
		}
		while (next_perm(perm, k)) {
			np_plan *p = NULL;
			int rc;

			if (!canonical(req, perm, k))
				continue;
			for (int i = 0; i < k; i++)
				nodes[i] = at[perm[i]];
			if ((rc = np__fit_plan_nodes(host, req, nodes, NULL, NULL, &p, err)))
				return rc;
			add(la, p);
		}
	}
	return 0;
}

/*
 * The candidates: np_place()'s answer, then those LO->cands names
 * (NP_LOOKAHEAD_DEFAULT when 0; none with LO->engine_only), each kept if
 * it fits and is new.
 */
static int candidates(const np_host *host, const np_request *req, const struct np_place_opts *o,
		      const struct np_lookahead *lo, struct la *la, struct np_error *err)
{
	unsigned cands = lo->cands ? lo->cands : NP_LOOKAHEAD_DEFAULT;
	np_plan *p = NULL;
	int rc;

	if ((rc = np_place(host, req, o, &p, err)))
		return rc;
	add(la, p);
	if (!np_plan_fits(la->c[0]) || lo->engine_only)
		return 0;
	if ((cands & NP_LOOKAHEAD_ALT) && (rc = alternatives(host, req, o, la, err)))
		return rc;
	if ((rc = fit_cands(host, req, lo, cands, la, err)))
		return rc;
	return cands & NP_LOOKAHEAD_SWAP ? swaps(host, req, la, err) : 0;
}

/* The rollouts' policies: np_place() (no options), then the fit rules. */
static const enum np__fit_rule policy_rule[] = { NP__FIT_RULES, NP__FIT_BEST, NP__FIT_FIRST,
						 NP__FIT_WORST };
#define LA_POLICIES ((int)NP__ARRAY_SIZE(policy_rule))

/* Q on H by POLICY (an index of policy_rule): *OUT, fitting or not, or NULL. */
static void plan_by(const np_host *h, const np_request *q, int policy, np_plan **out)
{
	*out = NULL;
	if (policy == 0)
		np_place(h, q, NULL, out, NULL);
	else
		np__fit_rule_place(policy_rule[policy], h, q, out, NULL);
}

/*
 * Guests of future S of FU, from its guest FROM on, that POLICY admits on
 * H (charged as it goes) before its first refusal or DEPTH; -1 when the
 * budget LEFT ran out first.  (A charged plan can go at once: the host
 * keeps what it takes, not the plan.)
 */
static int rollout(np_host *h, const np_flavors *f, struct np__futures *fu, int s, int from,
		   int depth, int policy, uint64_t *left)
{
	for (int k = from; k < depth; k++) {
		np_plan *p = NULL;
		bool admitted;

		if (*left == 0)
			return -1;
		--*left;
		plan_by(h, np_flavors_request(f, np__futures_at(fu, s, k)), policy, &p);
		admitted = p && np_plan_fits(p) && !np_host_charge(h, p, false, NULL);
		np_plan_free(p);
		if (!admitted)
			return k - from;
	}
	return depth - from;
}

/* Guests the rest of future S (from FROM, by np_place()) admits on a copy of H after P. */
static int rest_after(const np_host *h, const np_plan *p, const np_flavors *f,
		      struct np__futures *fu, int s, int from, int depth, uint64_t *left)
{
	np_host *x = NULL;
	int got = 0;

	if (!np_host_clone(h, &x, NULL) && !np_host_charge(x, p, false, NULL))
		got = rollout(x, f, fu, s, from, depth, 0, left);
	np_host_free(x);
	return got;
}

/*
 * NP_LOOKAHEAD_ROLL_TWO_STEP: the future's first guest on the distinct
 * plan of each policy that fits, the one after which the rest of the
 * future admits most counting; -1 when the budget ran out.
 */
static int two_step(np_host *h, const np_flavors *f, struct np__futures *fu, int s, int depth,
		    uint64_t *left)
{
	const np_request *q = np_flavors_request(f, np__futures_at(fu, s, 0));
	np_plan *p[LA_POLICIES] = { NULL };
	int best = 0;

	if (depth < 2)
		return rollout(h, f, fu, s, 0, depth, 0, left);
	for (int i = 0; i < LA_POLICIES && best >= 0; i++) {
		bool seen = false;
		int got;

		plan_by(h, q, i, &p[i]);
		for (int j = 0; j < i && p[i]; j++)
			seen = seen || (p[j] && same_plan(p[j], p[i]));
		if (!p[i] || !np_plan_fits(p[i]) || seen)
			continue;
		if (*left == 0) {
			best = -1;
			break;
		}
		--*left;
		got = rest_after(h, p[i], f, fu, s, 1, depth, left);
		best = got < 0 ? -1 : got + 1 > best ? got + 1 : best;
	}
	for (int i = 0; i < LA_POLICIES; i++)
		np_plan_free(p[i]);
	return best;
}

/*
 * NP_LOOKAHEAD_ROLL_BEST_POLICY: the most any one policy admits of future
 * S; -1: budget.  With CAP (np_lookahead.roll_depth), the fit rules play
 * only a future np_place() admits fewer than CAP guests of, and count up
 * to CAP: their say is kept for a host near full.
 */
static int best_policy(const np_host *h, const np_flavors *f, struct np__futures *fu, int s,
		       int depth, int cap, uint64_t *left)
{
	int best = 0;

	for (int i = 0; i < LA_POLICIES && best >= 0; i++) {
		np_host *x = NULL;
		int got = 0, d = i > 0 && cap && cap < depth ? cap : depth;

		if (i > 0 && cap && best >= cap)
			break; /* no fit rule can count more */
		if (!np_host_clone(h, &x, NULL))
			got = rollout(x, f, fu, s, 0, d, i, left);
		np_host_free(x);
		best = got < 0 ? -1 : got > best ? got : best;
	}
	return best;
}

/* Future S played on H after a candidate, as O->rollout says. */
static int play(np_host *h, const struct np_lookahead *o, struct np__futures *fu, int s,
		int depth, uint64_t *left)
{
	switch (o->rollout) {
	case NP_LOOKAHEAD_ROLL_TWO_STEP: return two_step(h, o->flavors, fu, s, depth, left);
	case NP_LOOKAHEAD_ROLL_BEST_POLICY:
		return best_policy(h, o->flavors, fu, s, depth, o->roll_depth, left);
	default: return rollout(h, o->flavors, fu, s, 0, depth, 0, left);
	}
}

/*
 * One round: every candidate on future S, added to SCORE (and the squared
 * difference to np_place()'s answer's to SQ); false (and both unchanged)
 * when the budget ran out before every candidate played it to its end.
 */
static bool round_of(const np_host *host, const struct la *la, const struct np_lookahead *o,
		     struct np__futures *fu, int s, int depth, uint64_t *left, long *score,
		     double *sq, struct np_lookahead_result *res)
{
	long got[LA_MAX_CANDS] = { 0 };

	for (int i = 0; i < la->n; i++) {
		np_host *after = NULL;
		uint64_t before = *left;

		if (!np_host_clone(host, &after, NULL) &&
		    !np_host_charge(after, la->c[i], false, NULL))
			got[i] = play(after, o, fu, s, depth, left);
		np_host_free(after);
		res->guests += before - *left;
		if (got[i] < 0)
			return false;
	}
	for (int i = 0; i < la->n; i++) {
		score[i] += got[i];
		sq[i] += (double)(got[i] - got[0]) * (double)(got[i] - got[0]);
	}
	res->futures++;
	return true;
}

/*
 * The winner after N futures: of the candidates whose futures admit more
 * guests than np_place()'s answer's by more than MARGIN standard errors
 * of the paired per-future difference (SQ: its sum of squares), the one
 * with the most guests, ties to the earlier; np_place()'s answer (0) when
 * none does.  Why an option: on a few dozen futures the candidate ahead
 * may be ahead by luck; measured, margins of 0.5 to 2 changed nothing
 * beyond the noise (docs/results.md, sixth session), so the default is 0.
 */
static int choose(const struct la *la, const long *score, const double *sq, int n,
		  double margin)
{
	int best = 0;

	for (int i = 1; i < la->n; i++) {
		double d = (double)(score[i] - score[0]), var;

		if (d <= 0 || score[i] <= score[best])
			continue;
		/* mean d/n > margin * sqrt(var / n), var the differences' sample variance */
		var = n > 1 ? (sq[i] - d * d / n) / (n - 1) : 0;
		if (d * d / n > margin * margin * var)
			best = i;
	}
	return best;
}

static int check(const struct np_lookahead *o, struct np_error *err)
{
	if (!o || !o->flavors)
		return np__err(err, NP_EINPUT, "lookahead: no flavor catalogue to draw futures from");
	if (o->samples < 1 || o->samples > NP_LOOKAHEAD_SAMPLES_MAX)
		return np__err(err, NP_EINPUT, "lookahead: samples must be 1 to %d, not %d",
				 NP_LOOKAHEAD_SAMPLES_MAX, o->samples);
	if (o->nextra < 0 || o->nextra > NP_LOOKAHEAD_EXTRA_MAX || (o->nextra && !o->extra))
		return np__err(err, NP_EINPUT, "lookahead: extra plans must be 0 to %d, not %d",
			       NP_LOOKAHEAD_EXTRA_MAX, o->nextra);
	for (int i = 0; i < o->nextra; i++)
		if (!o->extra[i])
			return np__err(err, NP_EINPUT, "lookahead: extra plan %d is NULL", i);
	if (o->cands & ~(unsigned)NP_LOOKAHEAD_ALL)
		return np__err(err, NP_EINPUT, "lookahead: unknown candidates 0x%x", o->cands);
	if (o->max_sets < 0 || o->max_sets > NP_LOOKAHEAD_SETS_MAX)
		return np__err(err, NP_EINPUT, "lookahead: max_sets must be 0 to %d, not %d",
			       NP_LOOKAHEAD_SETS_MAX, o->max_sets);
	if (!(o->margin >= 0 && o->margin <= NP_LOOKAHEAD_MARGIN_MAX))
		return np__err(err, NP_EINPUT, "lookahead: margin must be 0 to %d, not %g",
			       NP_LOOKAHEAD_MARGIN_MAX, o->margin);
	if (o->rollout < NP_LOOKAHEAD_ROLL_DEFAULT || o->rollout > NP_LOOKAHEAD_ROLL_ENGINE)
		return np__err(err, NP_EINPUT, "lookahead: unknown rollout %d", o->rollout);
	if (o->roll_depth < 0 || o->roll_depth > NP_LOOKAHEAD_DEPTH_MAX)
		return np__err(err, NP_EINPUT, "lookahead: roll_depth must be 0 to %d, not %d",
			       NP_LOOKAHEAD_DEPTH_MAX, o->roll_depth);
	if (o->depth < 0 || o->depth > NP_LOOKAHEAD_DEPTH_MAX)
		return np__err(err, NP_EINPUT, "lookahead: depth must be 0 to %d, not %d",
				 NP_LOOKAHEAD_DEPTH_MAX, o->depth);
	return 0;
}

int np_place_lookahead(const np_host *host, const np_request *req,
		       const struct np_place_opts *opts, const struct np_lookahead *la_opts,
		       np_plan **out, struct np_lookahead_result *result, struct np_error *err)
{
	struct np_place_opts o = opts ? *opts : (struct np_place_opts){ 0 };
	struct np_lookahead_result res = { 0 };
	struct np_lookahead lo;
	int depth, best = 0, rc;
	long score[LA_MAX_CANDS] = { 0 };
	double sq[LA_MAX_CANDS] = { 0 };
	struct np__futures *fu = NULL;
	uint64_t left;
	struct la la = { { NULL }, 0 };

	if ((rc = check(la_opts, err)))
		return rc;
	lo = *la_opts;
	if (lo.rollout == NP_LOOKAHEAD_ROLL_DEFAULT) { /* docs/results.md, eleventh session */
		lo.rollout = NP_LOOKAHEAD_ROLL_BEST_POLICY;
		lo.roll_depth = lo.roll_depth ? lo.roll_depth : NP_LOOKAHEAD_ROLL_DEPTH_DEFAULT;
	}
	depth = la_opts->depth ? la_opts->depth : NP_LOOKAHEAD_DEPTH_MAX;
	left = la_opts->max_guests ? la_opts->max_guests : UINT64_MAX;
	if ((rc = candidates(host, req, &o, la_opts, &la, err)))
		goto out;
	for (int i = 0; np_plan_fits(la.c[0]) && i < la_opts->nextra; i++) {
		np_plan *copy = np__plan_copy(la_opts->extra[i]);

		if (!copy) {
			rc = np__err(err, NP_ENOMEM, "out of memory");
			goto out;
		}
		add(&la, copy);
	}
	res.candidates = la.n;
	if (la.n > 1) {
		rc = np__futures_new(la_opts->flavors, la_opts->samples, depth, la_opts->plain_draws,
				     la_opts->seed, &fu, err);
		if (rc)
			goto out;
		for (int s = 0; s < la_opts->samples; s++)
			if (!round_of(host, &la, &lo, fu, s, depth, &left, score, sq, &res))
				break;
		best = choose(&la, score, sq, res.futures, la_opts->margin);
	}
	res.chosen = best;
	*out = la.c[best];
	la.c[best] = NULL;
	if (result)
		*result = res;
out:
	for (int i = 0; i < la.n; i++)
		np_plan_free(la.c[i]);
	np__futures_free(fu);
	return rc;
}
