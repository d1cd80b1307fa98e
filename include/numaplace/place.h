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
#include <numaplace/flavors.h>
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

/*
 * Building the demand from the guests asked for, in order (lib/place/
 * demand.c; the rule bench/play.c was tuned with): every guest cell is a
 * shape (its pinned and floating vCPUs, memory, and page size: 0 for
 * small pages, 2048 for "large" or "any", else the size asked or backing
 * it), and a guest AGE arrivals before the one being placed (AGE 0)
 * weighs np_demand_weight(AGE) = NP_DEMAND_DECAY^AGE.
 */
#define NP_DEMAND_DECAY 0.9
double np_demand_weight(int age);
/*
 * Merge SHAPE into DEM (N shapes, room for NP_DEMAND_MAX): the weight of
 * an equal shape grows by SHAPE's (up to 1000), or SHAPE is appended.
 * Returns the new count; a shape out of place.h's ranges, or one more
 * when DEM is full, is left out (never more than NP_DEMAND_MAX).
 */
int np_demand_add(struct np_demand *dem, int n, const struct np_demand *shape);
/* Merge every cell of REQ (or of PLAN, which must fit) with WEIGHT; the new count. */
int np_demand_add_request(struct np_demand *dem, int n, const np_request *req, double weight);
int np_demand_add_plan(struct np_demand *dem, int n, const np_plan *plan, double weight);
/*
 * The demand of REQS[0..COUNT-1], oldest first, the last the one being
 * placed (age 0; a NULL entry is a guest without cells): into DEM (room
 * for NP_DEMAND_MAX); the count.
 */
int np_demand_from_requests(const np_request *const *reqs, int count, struct np_demand *dem);
/*
 * A flavor catalogue as demand (flavors.h): every cell of every flavor,
 * weighing TOTAL times the flavor's share of the catalogue's weights
 * (TOTAL 0 to 1000), merged into DEM (N shapes so far, room for
 * NP_DEMAND_MAX); the new count.  The rule every caller with a catalogue
 * shares (`--flavors`, the fleet scheduler, bench/play.c): the
 * catalogue weighing NP_DEMAND_FLAVORS_WEIGHT (as much as the guest
 * being placed), added to the demand of the recent guests
 * (np_demand_from_requests(), np_state_demand()), as chosen on the tune
 * seeds in docs/results.md "The flavor catalogue as demand".
 */
#define NP_DEMAND_FLAVORS_WEIGHT 1.0
int np_demand_add_flavors(struct np_demand *dem, int n, const np_flavors *flavors, double total);

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
	 * an answer the search proves in time (with MAX_US it may take fewer
	 * steps: it skips the distance thresholds a cheap bound refutes).
	 * MAX_US covers the whole call: the search ends early enough for the
	 * gap and the plan to fit in it.
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

/*
 * Does PLAN (a recorded claim's) give REQ what it asks, with OPTS' memory
 * policy and affinity (OPTS may be NULL)?  Only what the request decides
 * is compared: guest cells, each one's pinned and floating vCPUs and
 * memory, the kind of page, pnode=, the emulator CPU, the number of PCI
 * devices, the memory policy and affinity; never capacity or score, which
 * other claims change.  HOST gives the nodes' page sizes.  0 when it does
 * (a retried claim: the same request), else NP_EINPUT with the first
 * difference ("guest cell 0: 8192 MiB recorded, 4096 asked").
 */
int np_plan_answers(const np_host *host, const np_request *req, const struct np_place_opts *opts,
		    const np_plan *plan, struct np_error *err);

/* ---- lookahead: trying the best few plans on sampled futures ------------ */

#define NP_LOOKAHEAD_SAMPLES_MAX 4096 /* futures per candidate */
#define NP_LOOKAHEAD_DEPTH_MAX 256    /* guests per future */
#define NP_LOOKAHEAD_CANDS_MAX 8      /* the engine's answers without some of its nodes */
#define NP_LOOKAHEAD_EXTRA_MAX 8      /* the caller's own candidates */
#define NP_LOOKAHEAD_SETS_MAX 16      /* node sets (NP_LOOKAHEAD_SETS) */
#define NP_LOOKAHEAD_SETS_DEFAULT 8
#define NP_LOOKAHEAD_MARGIN_MAX 10 /* standard errors */
#define NP_LOOKAHEAD_SWAP_CELLS 3  /* NP_LOOKAHEAD_SWAP: guests of at most 3 cells */
#define NP_LOOKAHEAD_SWAPS_MAX 64  /* their plans kept at most */

/* The candidates np_place_lookahead() tries beside np_place()'s answer (np_lookahead.cands). */
enum np_lookahead_cands {
	NP_LOOKAHEAD_ALT = 1 << 0,   /* the other strategy's answer, and np_place()'s answer
					without some nodes of its first (up to
					NP_LOOKAHEAD_CANDS_MAX) */
	NP_LOOKAHEAD_BEST = 1 << 1,  /* best fit: each cell on the node it leaves least room on */
	NP_LOOKAHEAD_FIRST = 1 << 2, /* first fit: cells in order, nodes in id order */
	NP_LOOKAHEAD_WORST = 1 << 3, /* worst fit: the node it leaves most room on */
	NP_LOOKAHEAD_SETS = 1 << 4,  /* every node (one-cell guest) or set of nodes (one per
					cell) that holds the guest at the smallest maximum
					distance, at most max_sets; none when more than 4096
					sets would have to be tried */
	NP_LOOKAHEAD_SWAP = 1 << 5,  /* every candidate before these (2 to
					NP_LOOKAHEAD_SWAP_CELLS cells) with its cells on
					the same nodes in another order */
	NP_LOOKAHEAD_ALL = (1 << 6) - 1,
};
/*
 * How each future is played (np_lookahead.rollout).  ENGINE: every guest
 * by np_place() with no options (the default until the eleventh
 * session).  TWO_STEP: the future's first guest on the plan, of
 * np_place()'s and best, first and worst fit's, after which the rest of
 * that future (by np_place()) admits the most: a two-step tree per
 * candidate, about 4 times ENGINE's engine calls.  BEST_POLICY: the
 * future played to its end by np_place() and by each fit rule alone, the
 * one that admits most counting: about 4 times too; with roll_depth K,
 * the fit rules only on futures np_place() admits fewer than K guests
 * of.  DEFAULT (0): BEST_POLICY with roll_depth 0 meaning
 * NP_LOOKAHEAD_ROLL_DEPTH_DEFAULT (docs/results.md, eleventh session).
 */
enum np_lookahead_rollout {
	NP_LOOKAHEAD_ROLL_DEFAULT = 0,
	NP_LOOKAHEAD_ROLL_TWO_STEP = 1,
	NP_LOOKAHEAD_ROLL_BEST_POLICY = 2,
	NP_LOOKAHEAD_ROLL_ENGINE = 3,
};
#define NP_LOOKAHEAD_ROLL_DEPTH_DEFAULT 4 /* roll_depth 0 with ROLL_DEFAULT */

/* What cands 0 means: the setting measured in docs/results.md "Lookahead". */
#define NP_LOOKAHEAD_DEFAULT (NP_LOOKAHEAD_BEST | NP_LOOKAHEAD_FIRST | NP_LOOKAHEAD_WORST)

struct np_lookahead {
	const np_flavors *flavors; /* the catalogue futures are drawn from (required) */
	int samples;               /* futures per candidate, 1..NP_LOOKAHEAD_SAMPLES_MAX */
	int depth;                 /* guests per future at most, 0 (until the first
				      refusal, at most NP_LOOKAHEAD_DEPTH_MAX) to that */
	uint64_t seed;             /* the draws: the same seed gives the same plan */
	uint64_t max_guests;       /* budget: guests tried in futures in all (0: no
				      limit); the futures every candidate played in
				      full before it ran out decide */
	/*
	 * Plans of other placers for HOST and REQ (e.g. libxl's), tried
	 * too, after the library's candidates (NULL or 0: none; read only,
	 * copied when one wins; one that does not fit is left out).
	 * ENGINE_ONLY: of the library's candidates only np_place()'s answer
	 * (CANDS below is ignored).
	 */
	const np_plan *const *extra;
	int nextra;
	bool engine_only;
	/*
	 * The library's candidates after np_place()'s answer, in this order:
	 * ALT, BEST, FIRST, WORST, SETS (bits of enum np_lookahead_cands; 0:
	 * NP_LOOKAHEAD_DEFAULT; ignored with ENGINE_ONLY).  MAX_SETS: node
	 * sets tried at most, 0 (NP_LOOKAHEAD_SETS_DEFAULT) to
	 * NP_LOOKAHEAD_SETS_MAX.
	 */
	unsigned cands;
	int max_sets;
	/*
	 * Another candidate wins over np_place()'s answer only when its
	 * futures admit more guests by more than MARGIN standard errors of
	 * the paired per-future difference (0 to NP_LOOKAHEAD_MARGIN_MAX;
	 * 0: by any number of guests).
	 */
	double margin;
	/*
	 * Each future's guests drawn on their own (as before the sixth
	 * session); by default, at each position the S futures' draws are
	 * stratified (one in each S-th of the shares).
	 */
	bool plain_draws;
	/*
	 * How each future is played (enum np_lookahead_rollout; 0: DEFAULT,
	 * the best policy with roll_depth NP_LOOKAHEAD_ROLL_DEPTH_DEFAULT).
	 * Measured in docs/results.md "tenth session" and "eleventh session".
	 * ROLL_DEPTH, BEST_POLICY and DEFAULT only: the fit rules play a
	 * future only when np_place()'s playout of it admits fewer than
	 * ROLL_DEPTH guests, and count at most that many (0: with DEFAULT
	 * NP_LOOKAHEAD_ROLL_DEPTH_DEFAULT, with BEST_POLICY always, to the
	 * end; 0..NP_LOOKAHEAD_DEPTH_MAX).
	 */
	int rollout;
	int roll_depth;
};

/* What one np_place_lookahead() did. */
struct np_lookahead_result {
	int candidates;  /* distinct plans tried (1: nothing to choose) */
	int chosen;      /* which won: 0 is np_place()'s own answer */
	int futures;     /* futures every candidate played */
	uint64_t guests; /* guests tried in futures (engine calls), in all: <= max_guests */
};

/*
 * Place REQ on HOST choosing among a few good plans by what they leave
 * for the guests to come (docs/policies/placement.md 15): np_place()'s
 * answer with OPTS, then the candidates LA->cands names (by default best,
 * first and worst fit's plans) and the caller's LA->extra; each distinct
 * one that fits is charged on a copy of HOST, and LA->samples futures of
 * guests drawn from LA->flavors (by their shares, stratified unless
 * LA->plain_draws, seeded by LA->seed) are placed after it by np_place()
 * with no options, until the first refusal or LA->depth guests.  The plan
 * whose futures admit the most guests wins (by more than LA->margin
 * standard errors over np_place()'s); ties go to the earlier,
 * np_place()'s answer first, which is also the answer when the guest does
 * not fit.  Every candidate meets the same
 * futures.  RESULT (may be NULL) says what was done.  NP_EINPUT for LA out
 * of range (or NULL, or without a catalogue), else as np_place().  Reads
 * HOST, REQ and LA only.  Costs up to (candidates) x samples x depth
 * engine calls: an opt-in mode.
 */
int np_place_lookahead(const np_host *host, const np_request *req,
		       const struct np_place_opts *opts, const struct np_lookahead *la,
		       np_plan **out, struct np_lookahead_result *result, struct np_error *err);

/* ---- making room: moving other guests' cells ---------------------------- */

/* A guest already on the host (charged on it), which a placement may move. */
struct np_guest_plan {
	const char *id;      /* its claim id: what a move names */
	const np_plan *plan; /* what it holds now */
	bool fixed;          /* never move it (e.g. its cells were fixed by xl pnode=) */
};

struct np_moves_opts {
	int max_moves;     /* cells of other guests that may move, 0..NP_MOVES_MAX */
	uint64_t max_sets; /* search budget: sets of moves tried; 0 = default (20,000) */
	uint64_t max_us;   /* and microseconds of search (0: no time limit); over either
			      budget the best answer so far, np_plan_moves_exact() false */
};

/*
 * Place REQ on HOST as np_place() does; when it does not fit, move at most
 * MOPTS->max_moves cells of GUESTS (their memory migrated, their vCPUs
 * re-pinned on the new node) so that it does, choosing the cheapest set of
 * moves: the fewest MiB to migrate, then the fewest moves, then the new
 * guest's own plan (device misses, max distance, weighted distance,
 * stranded capacity).  HOST must have every guest of GUESTS charged (as
 * np_state_apply() leaves it).  A moved cell fits its new node by the
 * engine's own per-cell rule, keeps its guest's policy (what its plan
 * shows: pinned or floating, page size, emulator CPU, isolated or
 * sibling cores) and its guest's largest distance between cells; a guest
 * with PCI devices, a cell spread over several nodes and a FIXED guest
 * never move.  docs/policies/placement.md 14 says how the search works
 * and when it is exact.
 *
 * The plan is for the host after the moves (np_host_after_moves()) and
 * lists them (np_plan_move()); a guest that fits without moves gets
 * np_place()'s plan.  A guest that fits with no set of moves gets
 * np_place()'s no-fit plan, with one more reason saying so.  Returns as
 * np_place() does.  Reads HOST, REQ and GUESTS only: calls may run in
 * parallel.
 */
int np_place_with_moves(const np_host *host, const np_request *req,
			const struct np_place_opts *opts, const struct np_guest_plan *guests,
			int nguests, const struct np_moves_opts *mopts, np_plan **out,
			struct np_error *err);

/*
 * HOST with the moves of PLAN carried out (each moved cell given back on
 * the node it leaves and charged on the one it goes to; GUESTS as for
 * np_place_with_moves()), in *OUT (the caller's to np_host_free()): the
 * host PLAN's own cells were placed on, to validate or charge it.  A copy
 * of HOST for a plan without moves.  NP_EINPUT when a move names a guest
 * not in GUESTS, does not match its plan ("claim_conflict"), or no longer
 * fits.
 */
int np_host_after_moves(const np_host *host, const np_plan *plan,
			const struct np_guest_plan *guests, int nguests, np_host **out,
			struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
