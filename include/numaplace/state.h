/*
 * state.h - claims: what numaplace has promised on a host, kept in a
 * state file, so that many parallel boots can claim without over-commit.
 *
 * np_state_open() takes an exclusive lock (flock on "PATH.lock") and reads
 * the file (a missing file is an empty state); np_state_commit() writes a
 * temporary file in the same directory, fsyncs it and renames it over
 * PATH, so a crash leaves either the old or the new state, never half of
 * one; np_state_close() unlocks.  Claims are idempotent per id: claiming
 * an id again with the same content changes nothing; with other content it
 * is refused.  Releasing an unknown id changes nothing.
 *
 * The host's usage is never stored: it is the sum of the claims, charged
 * onto a fresh np_host by np_state_apply().
 *
 * One thread at a time per np_state; other processes wait on the lock.
 */
#ifndef NUMAPLACE_STATE_H
#define NUMAPLACE_STATE_H

#include <stdbool.h>
#include <stdio.h>

#include <numaplace/error.h>
#include <numaplace/host.h>
#include <numaplace/place.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_state np_state;

/* Open (and lock) PATH; READONLY takes a shared lock and refuses commits. */
int np_state_open(const char *path, bool readonly, np_state **out, struct np_error *err);
/* Unlock and free; uncommitted changes are dropped. */
void np_state_close(np_state *st);

/*
 * Record that ID holds what PLAN takes (a plan that fits); after
 * np_state_apply(), only if it still fits (NP_ENOFIT otherwise).
 */
int np_state_claim(np_state *st, const char *id, const np_plan *plan, struct np_error *err);
/*
 * Claim ID for PLAN, a plan that moves cells of other claims
 * (np_place_with_moves()), and record the moved claims' new plans
 * (np_plan_after_moves() on TOPO, the host's topology) with it: all of it
 * or, on failure, nothing (the state in memory as it was).  Commit to make
 * it durable; the commit's rename shows all of it at once.  NP_EINPUT
 * "claim_conflict" when a moved guest is not claimed, or its claim no
 * longer matches the move.  A plan without moves is np_state_claim();
 * an ID already claimed is np_state_claim() too (the same plan changes
 * nothing, another one conflicts).
 */
int np_state_claim_moves(np_state *st, const char *id, const np_plan *plan, const np_topo *topo,
			 struct np_error *err);
/* Forget ID; *FOUND says whether it was there. */
int np_state_release(np_state *st, const char *id, bool *found, struct np_error *err);
int np_state_commit(np_state *st, struct np_error *err);

/*
 * Charge every claim onto HOST (fails, changing nothing, if the claims
 * over-commit it).  The state then keeps HOST's ledger (a state file is a
 * one-host store, with the fleet's ledger and capacity predicate): every
 * later np_state_claim() is charged against it and refused with
 * NP_ENOFIT when it would over-commit; a release gives back.  HOST's
 * topology must outlive those calls.
 */
int np_state_apply(np_state *st, np_host *host, struct np_error *err);

int np_state_claim_count(const np_state *st);
const char *np_state_claim_id(const np_state *st, int i);
/*
 * The plan claim ID holds, mapped onto TOPO (the host's topology), in
 * *OUT (the caller's to np_plan_free()).  NP_EINPUT when ID is not
 * claimed, or when its plan names nodes or CPUs TOPO lacks.
 */
int np_state_claim_plan(const np_state *st, const char *id, const np_topo *topo,
			np_plan **out, struct np_error *err);
/*
 * The demand the claims make (np_place_opts.demand): the cell shapes of
 * the last guests claimed (the file keeps 64, released or not), the
 * newest of age 1 (the guest being placed is age 0) and each older one
 * a step older (np_demand_weight()); claims held that are older than those
 * (or from a file without that record) count as older still.  Merged
 * into DEM (N shapes so far, room for NP_DEMAND_MAX); the new count.
 */
int np_state_demand(const np_state *st, struct np_demand *dem, int n);
/* numaplace.state/1 JSON (docs/formats/state.md). */
int np_state_write_json(const np_state *st, FILE *out, struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
