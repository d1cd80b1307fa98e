/*
 * place.h - the placement engine: one guest request on one host.
 *
 * An exact branch and bound over injective maps guest cells -> host nodes
 * with capacity pruning and symmetry breaking on identical nodes, and a
 * lexicographic objective: feasible, then device affinity, then smallest
 * maximum distance between the chosen nodes, then smallest weighted
 * distance, then the capacity left usable (whole nodes kept, devices
 * kept for the guests that need them, room for the caller's demand,
 * half-free resources kept, least stranded, best fit -
 * docs/policies/placement.md), then spread or pack, then node ids
 * (deterministic).
 * The fleet scheduler and the per-host claim call this same function.
 *
 * Threads: np_place() reads HOST and REQ and may run in many threads at
 * once on the same host and request.
 */
#ifndef NUMAPLACE_PLACE_H
#define NUMAPLACE_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include <numaplace/error.h>
#include <numaplace/host.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>

#ifdef __cplusplus
extern "C" {
#endif

enum np_strategy {
	NP_STRATEGY_SPREAD, /* prefer nodes with the most room left (Nova's default) */
	NP_STRATEGY_PACK,   /* prefer nodes already in use: fill them first */
};

/* "spread", "pack"; "unknown" for another value. */
const char *np_strategy_name(enum np_strategy s);
/* The strategy named NAME into *OUT: 0, or NP_EINPUT (OUT untouched). */
int np_strategy_from_name(const char *name, enum np_strategy *out);

/*
 * A guest cell the host is expected to be asked for again, and how often:
 * the demand the objective keeps room for (docs/policies/placement.md 4,
 * term 6).  Filled by the caller from what it knows: the guests asked for
 * so far (bench/play.c weighs each by 0.9 per arrival since), the claims
 * a host holds and held, the flavors of a cloud.
 */
struct np_demand {
	int pinned;           /* dedicated vCPUs of the cell, >= 0 */
	int floating;         /* floating vCPUs of the cell, >= 0; pinned + floating >= 1 */
	uint64_t memory_mb;   /* 1 to NP_MEMORY_MB_MAX */
	uint64_t pagesize_kb; /* 0: small pages; else the huge page size it takes */
	double weight;        /* how often, relative to the others: 0 (ignored) to 1000 */
};

/* The most demand shapes np_place() takes. */
#define NP_DEMAND_MAX 4096

struct np_place_opts {
	enum np_strategy strategy;
	bool explain;        /* collect reasons for every node / set that lost */
	/*
	 * Budgets of the search, the caller's choice (docs/policies/placement.md
	 * 9): MAX_STEPS search steps (0: the default, 2,000,000) and MAX_US
	 * microseconds of search (0: no time limit).  Over either, np_place()
	 * returns its best answer so far with exact = false and a proven bound
	 * on how far it may be from the optimum (np_plan_score gap_term, gap).
	 * The answer within budget is the exact one: a budget never changes
	 * an answer the search proves in time.
	 */
	uint64_t max_steps;
	uint64_t max_us;
	/*
	 * The plan's memory policy and CPU affinity.  Left unset (false, as in
	 * a zeroed struct), they are the request's own: what its source
	 * implies (np_request_mem_policy(), np_request_affinity()).  Set, they
	 * override it for this placement only; the request is not changed.
	 */
	bool mem_policy_set;
	enum np_mem_policy mem_policy;
	bool affinity_set;
	enum np_affinity affinity;
	/*
	 * The demand (NDEMAND shapes, 0 to NP_DEMAND_MAX; NULL or 0: none):
	 * of answers alike in distance, whole nodes and devices, the one
	 * leaving room for more of these cells wins.  Read during the call
	 * only.
	 */
	const struct np_demand *demand;
	int ndemand;
};

/*
 * Place REQ on HOST.  Returns 0 and a plan whenever the question could be
 * answered, whether the guest fits or not (np_plan_fits()); NP_EINPUT when
 * the request cannot apply to this host (e.g. xl pnode= names a node it
 * lacks, or OPTS sets a policy that does not exist or a demand shape
 * out of range); NP_ENOMEM.  OPTS may
 * be NULL (spread, no explain, default budget, the request's policies).
 */
int np_place(const np_host *host, const np_request *req, const struct np_place_opts *opts,
	     np_plan **out, struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
