/*
 * fleet.h - many hosts kept in a store (SQLite or PostgreSQL), their per
 * node usage, and a scheduler that places a guest on one of them with the
 * same np_place() as `numaplace place` and claims it in one short
 * transaction, so that any number of schedulers never over-commit.
 *
 * Stores, chosen by URL as libvirt chooses drivers:
 *   sqlite:PATH            a SQLite file (WAL, busy timeout): one machine,
 *                          several processes at once; the default
 *   postgresql://...       PostgreSQL through libpq (also postgres://, and
 *   postgresql:KEY=VALUE   libpq's keyword/value form): shared by several
 *                          scheduler replicas
 * The schema is versioned (docs/formats/fleet.md); a store written by a
 * newer numaplace is refused, an older one is migrated when opened.
 *
 * Claims: per id, idempotent.  Scheduling an id already placed with the
 * same request returns that placement; with another request it is refused
 * (NP_EINPUT, reason "claim_conflict").  A claim re-checks every node's
 * capacity inside its transaction; what the scheduler decided from its
 * summaries is never trusted.
 *
 * Ownership and threads: an np_fleet is one store connection plus the
 * scheduler's in-memory host summaries; use it from one thread at a time.
 * A long-running process gives each thread its own np_fleet, opened with
 * np_fleet_open_shared() so that their claims are committed together and
 * their host summaries shared, or serialises the calls on one with a
 * mutex.  Hosts returned by np_fleet_host_at() and
 * np_fleet_host_find() live until the next call on the fleet that
 * refreshes (np_fleet_refresh, np_fleet_schedule, np_fleet_placements,
 * np_fleet_placement_get).  Results and placements are the caller's: they
 * may be used after later calls on the fleet, but not after
 * np_fleet_close() (a result's host view points at the fleet's topology).
 */
#ifndef NUMAPLACE_FLEET_H
#define NUMAPLACE_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include <numaplace/error.h>
#include <numaplace/flavors.h>
#include <numaplace/host.h>
#include <numaplace/place.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_fleet np_fleet;
typedef struct np_fleet_host np_fleet_host;
typedef struct np_fleet_placement np_fleet_placement;
typedef struct np_fleet_result np_fleet_result;

/* np_fleet_open() flags. */
#define NP_FLEET_CREATE 0x1u /* create the store (SQLite file, schema) when missing */

/*
 * Open the store URL.  Without NP_FLEET_CREATE a store that does not
 * exist or holds no numaplace schema is NP_EINPUT.  Errors: NP_EINPUT
 * (bad URL, unknown scheme, a newer schema: reason "schema_too_new"),
 * NP_EIO (cannot reach or read it), NP_EUNSUPPORTED (this build lacks
 * the driver), NP_EOS.
 */
int np_fleet_open(const char *url, unsigned flags, np_fleet **out, struct np_error *err);
void np_fleet_close(np_fleet *fleet);

/*
 * Open another handle on PEER's store, in PEER's group: for the threads
 * of one process, each with its own handle.  The claims that the handles
 * of a group make at the same time are committed together, in one
 * transaction and one durable commit (group commit), each still checked
 * and answered on its own; a claim returns only once it is committed.
 * PEER may be in use by another thread meanwhile; the group lives until
 * its last handle is closed.  Errors as np_fleet_open().
 */
int np_fleet_open_shared(np_fleet *peer, np_fleet **out, struct np_error *err);

/*
 * How the claims and releases of FLEET's group were committed, since the
 * group began (releases join the claims' transactions).
 */
struct np_fleet_commit_stats {
	uint64_t claims;   /* claims sent to the store */
	uint64_t commits;  /* transactions that carried them and the releases */
	uint64_t largest;  /* the most claims in one transaction */
	uint64_t split;	   /* batches that failed as a whole and were run one by one */
	uint64_t releases; /* releases sent to the store */
};
void np_fleet_commit_stats(const np_fleet *fleet, struct np_fleet_commit_stats *out);

/*
 * How the summaries of FLEET's group were kept, since the group began:
 * the hosts whose ledger a refresh read from the store (one by one, or in
 * a pass over every host), the summaries built from what was read (or
 * from a claim of this process), and those one handle took from another.
 */
struct np_fleet_refresh_stats {
	uint64_t host_reads;  /* one host's ledger read from the store */
	uint64_t full_reads;  /* a pass over every host's ledger */
	uint64_t built;	      /* summaries built */
	uint64_t shared;      /* summaries taken from another handle of the group */
	uint64_t told;	      /* changes of other processes learnt from the store (SQLite's
			       * change ring, PostgreSQL's last change), not read */
};
void np_fleet_refresh_stats(const np_fleet *fleet, struct np_fleet_refresh_stats *out);

/*
 * The change feed of FLEET's group (a store whose change scan is a round
 * trip, PostgreSQL: the group's threads share their scans; all 0 on
 * SQLite), since the group began.
 */
struct np_fleet_feed_stats {
	uint64_t scans;	 /* change scans a thread made and shared */
	uint64_t takes;	 /* refreshes that took shared scans (no round trip) */
	uint64_t behind; /* refreshes of a thread that had fallen out of the feed */
};
void np_fleet_feed_stats(const np_fleet *fleet, struct np_fleet_feed_stats *out);

/*
 * The newest schema version this numaplace writes: PostgreSQL's (6); a
 * SQLite store stays at 3 (docs/formats/fleet.md, "Versions").
 */
int np_fleet_schema_version(void);

/*
 * The store's schema version read again over FLEET's connection (one
 * query, no migration): 0 while this numaplace still reads it; NP_EINPUT
 * with reason "schema_too_new" once a newer numaplace migrated it (a
 * long-running process stops writing with its older statements); a store
 * error as any call's.  Not thread-safe with other calls on FLEET.
 */
int np_fleet_check_schema(np_fleet *fleet, struct np_error *err);

/* Host configuration beyond its topology; zero fields take the defaults. */
struct np_fleet_host_opts {
	double cpu_ratio; /* floating vCPUs per shared CPU (default 16.0) */
	double ram_ratio; /* memory over-commit for floating guests (default 1.0) */
};

/*
 * Add host NAME with topology TOPO.  Adding a name again with the same
 * topology and options changes nothing (*ADDED false); with others it is
 * NP_EINPUT.  ADDED may be NULL.
 */
int np_fleet_add_host(np_fleet *fleet, const char *name, const np_topo *topo,
		      const struct np_fleet_host_opts *opts, bool *added, struct np_error *err);
/*
 * Remove host NAME.  Refused (NP_EINPUT, reason "host_in_use") while
 * placements live on it, unless FORCE, which releases them (*RELEASED
 * says how many; may be NULL).  An unknown name is NP_EINPUT.
 */
int np_fleet_remove_host(np_fleet *fleet, const char *name, bool force, int *released,
			 struct np_error *err);

/* Bring the host summaries up to date (only hosts whose generation moved). */
int np_fleet_refresh(np_fleet *fleet, struct np_error *err);
/* Hosts of the summaries, by name. */
int np_fleet_host_count(const np_fleet *fleet);
const np_fleet_host *np_fleet_host_at(const np_fleet *fleet, int i);
const np_fleet_host *np_fleet_host_find(const np_fleet *fleet, const char *name);
const char *np_fleet_host_name(const np_fleet_host *host);
int64_t np_fleet_host_generation(const np_fleet_host *host);
/* The host with its usage, as the engine sees it (np_host_node gives used and free). */
const np_host *np_fleet_host_usage(const np_fleet_host *host);
int np_fleet_host_placement_count(const np_fleet_host *host);

/* A placement read from the store. */
const char *np_fleet_placement_id(const np_fleet_placement *p);
const char *np_fleet_placement_host(const np_fleet_placement *p);
/* The plan, on the host's topology (np_fleet_host_usage of that host). */
const np_plan *np_fleet_placement_plan(const np_fleet_placement *p);
void np_fleet_placement_free(np_fleet_placement *p);
/* Placement ID; *OUT NULL when there is none. */
int np_fleet_placement_get(np_fleet *fleet, const char *id, np_fleet_placement **out,
			   struct np_error *err);
/* Every placement on host NAME, by id; free each, then the array. */
int np_fleet_placements(np_fleet *fleet, const char *name, np_fleet_placement ***out, int *n,
			struct np_error *err);

struct np_fleet_sched_opts {
	enum np_strategy strategy; /* spread: emptiest hosts (and nodes) first; pack: fullest */
	const char *host;	   /* only this host (NULL: any) */
	bool dry_run;		   /* choose, do not claim */
	bool explain;		   /* plans carry every reason (np_place_opts.explain) */
	int top;		   /* pick at random among the best TOP candidates (0: 3, and one
				      more after each claim lost to another scheduler; 1: always the best) */
	int want;		   /* fitting hosts to compare before choosing (0: 8; more
				      than 8: no budget, up to every host that passes) */
	uint64_t seed;		   /* random choices (0: from the clock and the process) */
	/*
	 * Making room (docs/fleet.md): when the guest fits no host as it
	 * is, move at most ALLOW_MOVES cells of other placements on one host
	 * (np_place_with_moves()), on the host where that migrates the
	 * fewest MiB; the moved placements' new plans are stored in the
	 * claim's own transaction.  0: never.
	 */
	int allow_moves;
	uint64_t max_steps, max_us;  /* the engine's budgets (np_place_opts; 0: defaults) */
	uint64_t move_sets, move_us; /* the moves search's budgets (np_moves_opts; 0: defaults) */
	bool no_demand;		   /* no demand: do not keep room for more guests like the
				      last ones this np_fleet scheduled (the engine's demand,
				      docs/policies/placement.md 4, term 6) */
	/*
	 * The flavors the cloud sells (flavors.h; NULL: none): kept room for
	 * as well, by the shared rule (np_demand_add_flavors()); with
	 * no_demand, the catalogue alone is the demand.  Read during the
	 * call only: each call may give another.
	 */
	const np_flavors *flavors;
};

/*
 * Place REQ somewhere in the fleet under ID and claim it in one step:
 * refresh the summaries, pre-filter (never rejects a host that fits), run
 * np_place() on the survivors, choose by the plan's objective and the
 * strategy at random among the best few, claim; a claim refused because
 * another scheduler was faster refreshes that host and tries again (a
 * bounded number of times).  Returns 0 and a result whether or not the
 * guest was placed; NP_EINPUT for a bad id, an id placed with another
 * request, an unknown opts->host; NP_EIO/NP_EOS when the store fails.
 * OPTS may be NULL.
 */
int np_fleet_schedule(np_fleet *fleet, const char *id, const np_request *req,
		      const struct np_fleet_sched_opts *opts, np_fleet_result **out,
		      struct np_error *err);

bool np_fleet_result_placed(const np_fleet_result *r);
/* The id was placed before, with the same request: this is that placement. */
bool np_fleet_result_existing(const np_fleet_result *r);
const char *np_fleet_result_id(const np_fleet_result *r);
/* The host, the plan and the host as the plan saw it (before its own claim); NULL unless placed. */
const char *np_fleet_result_host(const np_fleet_result *r);
const np_plan *np_fleet_result_plan(const np_fleet_result *r);
const np_host *np_fleet_result_usage(const np_fleet_result *r);
/*
 * The plan as numaplace.plan/1 JSON, the text the store kept with the claim
 * (np_plan_write's NP_PLAN_JSON of the plan, byte for byte), when this call
 * claimed it; else NULL (an existing placement, a dry run): write the plan.
 */
const char *np_fleet_result_plan_json(const np_fleet_result *r);
/* What one schedule did (of its last attempt, but ATTEMPTS). */
struct np_fleet_stats {
	int hosts;	 /* in the fleet (or 1 with opts->host) */
	int prefiltered; /* rejected by the pre-filter */
	int engine;	 /* run through np_place() */
	int fits;	 /* of which the guest fits */
	int attempts;	 /* claims tried (a faster scheduler makes it more than 1) */
	int moves_hosts; /* with allow_moves: hosts whose placements were searched for moves */
};
const struct np_fleet_stats *np_fleet_result_stats(const np_fleet_result *r);
/*
 * Why hosts were rejected, most hosts first: reason I is shared by
 * *HOSTS hosts ("no node with 16 GiB free for guest cell 0").
 */
int np_fleet_result_reason_count(const np_fleet_result *r);
const char *np_fleet_result_reason(const np_fleet_result *r, int i, int *hosts);
void np_fleet_result_free(np_fleet_result *r);

/*
 * Would REQ fit, and on which nodes, on each of the N hosts NAMES (NAMES
 * NULL: every host of the fleet, by name)?  After a refresh, each host
 * gets the pre-filter and np_place() of np_fleet_schedule(), on its usage
 * in the store; nothing is claimed.  A name the fleet does not have is
 * answered as unknown, not refused.  OPTS may be NULL (spread).  0 and
 * *OUT, or NP_EINPUT (N outside 0..NP_FLEET_FIT_MAX, a NULL name),
 * NP_ENOMEM, NP_EIO (the store).  Answer I is about NAMES[I] (or host I).
 */
typedef struct np_fleet_fits np_fleet_fits;
int np_fleet_fit(np_fleet *fleet, const np_request *req, const char *const *names, int n,
		 const struct np_place_opts *opts, np_fleet_fits **out, struct np_error *err);
/*
 * The same, with PENDING[I] copies of REQ (0 to NP_FLEET_FIT_PENDING_MAX)
 * that the caller already chose for NAMES[I] and has not claimed through
 * the fleet (several instances of one request, chosen in turn): each is
 * placed and charged to a private copy of the host's usage first, and the
 * answer is about one more.  A host where the pending copies themselves
 * no longer fit is answered no.  PENDING NULL: np_fleet_fit(); PENDING
 * needs NAMES.
 */
int np_fleet_fit_pending(np_fleet *fleet, const np_request *req, const char *const *names,
			 const int *pending, int n, const struct np_place_opts *opts,
			 np_fleet_fits **out, struct np_error *err);

enum np_fleet_fit_answer {
	NP_FLEET_FIT_UNKNOWN = -1, /* no such host in the fleet */
	NP_FLEET_FIT_NO = 0,
	NP_FLEET_FIT_YES = 1,
};

int np_fleet_fits_count(const np_fleet_fits *r);
const char *np_fleet_fits_host(const np_fleet_fits *r, int i);
enum np_fleet_fit_answer np_fleet_fits_answer(const np_fleet_fits *r, int i);
/* For a fit: the host node (os id) of each guest cell, in cell order; their count. */
int np_fleet_fits_nodes(const np_fleet_fits *r, int i, const int **nodes);
/* For no fit: why, one line ("no node with 16 GiB free for guest cell 0"). */
const char *np_fleet_fits_reason(const np_fleet_fits *r, int i);
void np_fleet_fits_free(np_fleet_fits *r);

/*
 * A deadline for FLEET's writes through the group (the claim of
 * np_fleet_schedule(), np_fleet_release()): one not begun by MONOTONIC_NS
 * (CLOCK_MONOTONIC, nanoseconds; 0: none, the default) is not made and
 * leaves nothing in the store; it fails with NP_EOS and the reason
 * "deadline_exceeded".  On SQLite the check is made inside the write
 * transaction, once the write lock is held and before the claims'
 * statements and COMMIT, and the wait for that lock ends at the deadline;
 * on PostgreSQL it is made before the transaction begins, the waits for
 * row locks inside it end at the deadline (lock_timeout and
 * statement_timeout, set from the time left) and a transaction that
 * reaches it before its commit is rolled back.  A server sets it per
 * request, so that a request its client gave up on cannot land later
 * (numaplace-serve(1), --write-deadline).  Claims with moves (allow_moves)
 * are bounded alike: checked before they begin and again inside the
 * write transaction (SQLite) or before COMMIT (PostgreSQL).
 */
void np_fleet_set_deadline(np_fleet *fleet, int64_t monotonic_ns);

/*
 * Release placement ID; *FOUND says whether it was there (may be NULL).
 * Committed with the claims and releases of FLEET's group made at the same
 * time (one transaction, one durable commit); returns once committed.  A
 * release committed whose answer could not be read (PostgreSQL: a
 * tampered placement row) fails with NP_EOS and the reason
 * "release_unread": the placement is gone, what it gave back is seen at
 * the next refresh.
 */
int np_fleet_release(np_fleet *fleet, const char *id, bool *found, struct np_error *err);

struct np_fleet_check_stats {
	int hosts, placements, rows, pins;
};
/*
 * The invariant checker: every host's capacity rows are those of its
 * topology; usage equals the sum of what its live placements' plans take
 * (recomputed from the plans); no row over capacity; no CPU pinned twice;
 * every pin belongs to a live placement on a dedicated CPU of its node.
 * 0, or NP_EINPUT naming the first violation.  STATS may be NULL.
 */
int np_fleet_check(np_fleet *fleet, struct np_fleet_check_stats *stats, struct np_error *err);

/* ---- observations: where a placement's memory and vCPUs really are ---- */

/* One node of an observation (kernel node id). */
struct np_fleet_obs_node {
	int node;
	uint64_t memory_mb; /* resident on it, MiB */
	int vcpus;	    /* vCPUs that last ran on one of its CPUs */
};

/*
 * What a host agent saw of one placement (numaplace agent; the service's
 * PUT /v1/placements/{id}/observed).  The store keeps the latest one per
 * placement; releasing the placement deletes it.
 */
struct np_fleet_obs {
	const char *host;   /* where it was seen: must be the placement's host */
	int64_t at;	    /* when, Unix seconds */
	const char *source; /* "libvirt" or "process" */
	int pid;	    /* the process, 0 when not known */
	const char *domain; /* the libvirt domain, NULL when none */
	int nnodes;
	const struct np_fleet_obs_node *nodes; /* each node at most once */
};

/*
 * Keep OBS as placement ID's observation, replacing the one before.
 * NP_EINPUT with reason "no_placement" (no placement ID), "wrong_host"
 * (it lives on another host than OBS->host), or for bad content (a node
 * the host's topology lacks or named twice, an unknown source, more
 * memory on a node than the node has, more vCPUs than NP_VCPUS_MAX);
 * nothing is changed then.
 */
int np_fleet_observe_set(np_fleet *fleet, const char *id, const struct np_fleet_obs *obs,
			 struct np_error *err);

typedef struct np_fleet_observed np_fleet_observed;
/*
 * Placement ID's observation; *OUT NULL when it has none (or there is no
 * such placement).  It does not refresh the summaries (hosts from
 * np_fleet_host_find() stay valid); the host is named from them.
 */
int np_fleet_observe_get(np_fleet *fleet, const char *id, np_fleet_observed **out,
			 struct np_error *err);
/* The observation, nodes by id; valid until np_fleet_observed_free(). */
const struct np_fleet_obs *np_fleet_observed_obs(const np_fleet_observed *o);
void np_fleet_observed_free(np_fleet_observed *o);

/* How an observation differs from its plan. */
struct np_fleet_drift {
	uint64_t memory_mb;	      /* observed, on every node */
	uint64_t memory_elsewhere_mb; /* observed on nodes the plan gave no memory */
	int vcpus;		      /* observed */
	int vcpus_outside;	      /* that ran on nodes the plan gave no guest cell */
	/*
	 * vCPUs outside, or memory elsewhere that is more than 1% of it and
	 * more than 16 MiB (a guest's program, shared libraries and page
	 * cache may lie anywhere; its memory may not).
	 */
	bool drifted;
};

/*
 * The drift of OBS from PLAN, a plan on TOPO (the placement's host).
 * NP_EINPUT for an observation naming a node TOPO lacks.
 */
int np_fleet_drift(const np_topo *topo, const np_plan *plan, const struct np_fleet_obs *obs,
		   struct np_fleet_drift *out, struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
