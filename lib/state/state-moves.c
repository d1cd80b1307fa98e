/*
 * state-moves.c - np_state_claim_moves(): claiming a plan that moves
 * other claims' cells (np_place_with_moves()), so that the state records
 * the moved guests' new plans and the new guest together.
 *
 * Built on the state's own claim and release, so the ledger's rules (and
 * its invariant checks in debug builds) hold for every step: every moved
 * guest's old plan is read, the move applied to it (np_plan_after_moves(),
 * which refuses a move that no longer matches the claim), then the moved
 * claims are released, claimed again with their new plans, and the new
 * guest claimed.  A failure on the way undoes what was done, in memory, so
 * the state is as it was; nothing reaches the file before np_state_commit(),
 * whose rename makes the whole change appear at once or not at all.  If
 * undoing itself fails (out of memory), the state refuses to commit.
 */
#include <stdlib.h>
#include <string.h>

#include "state/state-int.h"

struct moved {
	const char *id;
	np_plan *old, *now;
	bool released, claimed;
};

/* The distinct guests PLAN moves, in the order of their first move; *N of them. */
static int collect(const np_plan *plan, struct moved **out, int *n)
{
	struct moved *m = np__calloc((size_t)np_plan_move_count(plan) + 1, sizeof(*m));
	int k = 0;

	if (!m)
		return NP_ENOMEM;
	for (int i = 0; i < np_plan_move_count(plan); i++) {
		const char *g = np_plan_move(plan, i)->guest;
		bool seen = false;

		for (int j = 0; j < k && !seen; j++)
			seen = strcmp(m[j].id, g) == 0;
		if (!seen)
			m[k++].id = g;
	}
	*out = m;
	*n = k;
	return 0;
}

/* Old and new plans of every moved guest; nothing in ST changes. */
static int prepare(np_state *st, const char *id, const np_plan *plan, const np_topo *topo,
		   struct moved *m, int n, struct np_error *err)
{
	for (int i = 0; i < n; i++) {
		struct np_error e = { 0 };
		int rc;

		if (strcmp(m[i].id, id) == 0)
			return np__err(err, NP_EINPUT, "cannot claim '%s': its plan moves itself", id);
		rc = np_state_claim_plan(st, m[i].id, topo, &m[i].old, &e);
		if (!rc)
			rc = np_plan_after_moves(plan, topo, m[i].id, m[i].old, &m[i].now, &e);
		if (rc)
			return np__err_reason(err, rc, rc == NP_ENOMEM ? "" : "claim_conflict",
					      "cannot claim '%s' with its moves: %s", id, e.message);
	}
	return 0;
}

/* Undo: the new plans out, the old ones back.  False when that failed too. */
static bool undo(np_state *st, struct moved *m, int n)
{
	bool ok = true;

	for (int i = 0; i < n; i++)
		if (m[i].claimed)
			np_state_release(st, m[i].id, NULL, NULL);
	for (int i = 0; i < n; i++)
		if (m[i].released && np_state_claim(st, m[i].id, m[i].old, NULL))
			ok = false;
	return ok;
}

int np_state_claim_moves(np_state *st, const char *id, const np_plan *plan, const np_topo *topo,
			 struct np_error *err)
{
	struct moved *m = NULL;
	bool found = false;
	int n = 0, rc;

	if (!plan || !topo || !id)
		return np__err(err, NP_EINPUT, "cannot claim: missing id, plan or topology");
	if (np_plan_move_count(plan) == 0)
		return np_state_claim(st, id, plan, err);
	for (int i = 0; i < np_state_claim_count(st) && !found; i++)
		found = strcmp(np_state_claim_id(st, i), id) == 0;
	if (found) /* claimed already: the same plan changes nothing, another conflicts */
		return np_state_claim(st, id, plan, err);
	if ((rc = collect(plan, &m, &n)))
		return np__err(err, rc, "out of memory");
	rc = prepare(st, id, plan, topo, m, n, err);
	for (int i = 0; i < n && !rc; i++)
		rc = np_state_release(st, m[i].id, &m[i].released, err);
	for (int i = 0; i < n && !rc; i++)
		if (!(rc = np_state_claim(st, m[i].id, m[i].now, err)))
			m[i].claimed = true;
	if (!rc)
		rc = np_state_claim(st, id, plan, err);
	if (rc && !undo(st, m, n))
		st->broken = true;
	for (int i = 0; i < n; i++) {
		np_plan_free(m[i].old);
		np_plan_free(m[i].now);
	}
	free(m);
	return rc;
}
