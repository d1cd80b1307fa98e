/*
 * plan.h - the engine's answer for one guest on one host: which host node
 * each guest cell gets, vCPU -> pCPU pinning or the cpuset floating vCPUs
 * may use, page size, memory policy with its node set and fallback order,
 * CPU affinity, PCI devices - and why: the score terms and, for every node
 * or node set that lost, the resource that fell short and by how much.
 *
 * Ownership and threads: an np_plan is immutable once np_place() returns
 * it; it may be read by several threads; np_plan_free() it once.  It does
 * not refer to the host or request it was made for.
 */
#ifndef NUMAPLACE_PLAN_H
#define NUMAPLACE_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <numaplace/error.h>
#include <numaplace/host.h>
#include <numaplace/request.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_plan np_plan;

struct np_pin {
	int vcpu; /* guest vCPU id */
	int pcpu; /* host CPU os id */
};

/*
 * One guest cell on one host node.  A guest without NUMA topology that
 * does not fit on one node has one plan cell per node it spans, all with
 * the same guest_cell and a share of its vCPUs and memory.
 */
struct np_plan_cell {
	int guest_cell;      /* index into the request's cells */
	int node_idx;        /* the host node (topology index) */
	uint64_t memory_mb;
	uint64_t pagesize_kb;/* the page size backing it: 4 for small pages */
	int npins;
	const struct np_pin *pins;    /* pinned vCPUs, by vcpu */
	int nfloat;
	const int *float_vcpus;       /* floating vCPUs of this cell */
	int ncpuset;
	const int *cpuset;            /* host CPUs the floating vCPUs may use */
	int nreserved;
	const int *reserved;          /* host CPUs for isolated emulator threads */
	int nblocked;
	const int *blocked;           /* siblings of pinned CPUs kept free (isolate) */
};

struct np_plan_pci {
	int pool;    /* index into the host's PCI pools */
	int count;
};

/* Lexicographic objective, best first (lower is better in each term). */
/* The terms of the objective, in order (docs/policies/placement.md 4). */
enum np_term {
	NP_TERM_NONE,          /* no term: the plan is optimal on every term */
	NP_TERM_DEVICE_MISSES, /* 1: PCI devices off the guest's nodes */
	NP_TERM_MAX_DISTANCE,  /* 2 */
	NP_TERM_SUM_DISTANCE,  /* 3: weighted distance */
	NP_TERM_WHOLE_NODES,   /* 4 */
	NP_TERM_DEVICE_NODES,  /* 5: free devices on the nodes of a guest without */
	NP_TERM_DEMAND,        /* 6: room for the caller's demand, 1/1024 of a cell */
	NP_TERM_HALF_FREE,     /* 7 */
	NP_TERM_STRANDED,      /* 8: MiB */
	NP_TERM_BEST_FIT,      /* 9: x 2^20 */
	NP_TERM_STRATEGY,      /* 10: MiB of room */
	NP_TERM_UNKNOWN,       /* no bound: a guest without NUMA split over nodes */
};

/* "none", "device_misses", "max_distance", ...; "unknown" for another value. */
const char *np_term_name(enum np_term t);

struct np_plan_score {
	int device_misses;        /* PCI devices not on the guest's nodes */
	uint32_t max_distance;    /* largest distance between chosen nodes (10 for one node) */
	uint64_t sum_distance;    /* sum over pairs of guest cells, weighted by size */
	uint64_t stranded;        /* capacity left unusable (see docs/policies/placement.md) */
	uint32_t best_max_distance; /* lower bound: the best max distance any feasible answer could have */
	bool exact;               /* the search proved optimality (else bounded) */
	uint64_t steps;           /* search nodes explored */
	/*
	 * A proven bound on how far a bounded plan (exact false) may be from
	 * the optimum: on every term before GAP_TERM the plan is as good as
	 * any answer, and on GAP_TERM no answer is better by more than GAP
	 * (in that term's unit).  Exact plans: NP_TERM_NONE and 0.
	 */
	enum np_term gap_term;
	uint64_t gap;
};

enum np_resource {
	NP_RES_MEMORY,   /* MiB */
	NP_RES_PAGES,    /* pages of the asked size */
	NP_RES_PCPUS,    /* free dedicated CPUs */
	NP_RES_VCPUS,    /* shared CPU capacity (with the ratio) */
	NP_RES_CORES,    /* whole free cores / sibling threads (thread policy) */
	NP_RES_PCI,      /* PCI devices */
	NP_RES_DISTANCE, /* feasible, but farther apart than the winner */
	NP_RES_NODES,    /* more guest cells than usable host nodes */
	NP_RES_PAGESIZE, /* the asked page size does not exist on the node */
	NP_RES_STRANDED, /* feasible and as close, but strands more capacity (MiB),
			    or loses on PCI nodes kept free, spread/pack, or ids */
};

/*
 * A move of one cell of a guest already on the host, which the plan needs
 * carried out before its own guest fits (np_place_with_moves(), place.h):
 * the cell's memory migrates from FROM_IDX to CELL.node_idx and its vCPUs
 * are re-pinned as CELL says (pins, floating cpuset, emulator and blocked
 * CPUs).  CELL.memory_mb is what migrates.  Moves are listed in the order
 * they are carried out: each fits the host the ones before it left.
 */
struct np_plan_move {
	const char *guest;        /* the moved guest's id (its claim id) */
	int from_idx;             /* the node the cell leaves */
	struct np_plan_cell cell; /* the cell after the move */
};

/* Why a node (or, with node_idx2 >= 0, a pair of nodes) lost. */
struct np_reason {
	int guest_cell;   /* -1: the guest as a whole */
	int node_idx;     /* -1: no particular node */
	int node_idx2;    /* second node of a pair, or -1 */
	enum np_resource resource;
	uint64_t asked;
	uint64_t available;
	const char *text; /* one line for people: "why not node 0: 8192 MiB asked, 7270 free" */
};

void np_plan_free(np_plan *plan);

bool np_plan_fits(const np_plan *plan);
int np_plan_cell_count(const np_plan *plan);
const struct np_plan_cell *np_plan_cell(const np_plan *plan, int i);
enum np_mem_policy np_plan_mem_policy(const np_plan *plan);
enum np_affinity np_plan_affinity(const np_plan *plan);
/* How the engine counted the nodes' memory (host.h, np_host_memory_basis()). */
enum np_memory_basis np_plan_memory_basis(const np_plan *plan);
/* Node indexes holding the guest's memory, increasing; returns the count. */
int np_plan_nodeset(const np_plan *plan, const int **nodes);
/* For NP_MEM_POLICY_PREFERRED: the other nodes by distance, nearest first. */
int np_plan_fallback(const np_plan *plan, const int **nodes);
int np_plan_pci_count(const np_plan *plan);
const struct np_plan_pci *np_plan_pci(const np_plan *plan, int i);
const struct np_plan_score *np_plan_score(const np_plan *plan);
int np_plan_reason_count(const np_plan *plan);
const struct np_reason *np_plan_reason(const np_plan *plan, int i);
/*
 * For a plan that does not fit: one line saying why, naming the resource
 * that fell short with the amounts ("guest cell 0 fits on no node: 12
 * vCPUs asked, at most 8 shared CPUs on a node").  NULL for a plan that
 * fits.  It is also one of the reasons (guest_cell and node -1).
 */
const char *np_plan_no_fit_summary(const np_plan *plan);

/* Moves of other guests' cells this plan needs first (none for np_place()). */
int np_plan_move_count(const np_plan *plan);
const struct np_plan_move *np_plan_move(const np_plan *plan, int i);
/* MiB the moves migrate, in all. */
uint64_t np_plan_moves_mb(const np_plan *plan);
/*
 * Whether the moves were proven the cheapest (np_place_with_moves()'s
 * search ended within its budget); true for a plan without moves.
 */
bool np_plan_moves_exact(const np_plan *plan);

/*
 * GUEST's plan (what guest ID holds now) after the moves of PLAN that
 * concern ID, in *OUT (the caller's to np_plan_free()): its moved cells
 * on their new nodes and CPUs, its node set and (memory policy
 * preferred) fallback list made again on TOPO, its distance score
 * recomputed.  A copy of GUEST when no move concerns ID.  NP_EINPUT
 * (reason "claim_conflict") when a move does not match GUEST: the cell is
 * not on the node the move takes it from, or holds other memory or vCPUs
 * (GUEST changed since PLAN was made).
 */
int np_plan_after_moves(const np_plan *plan, const np_topo *topo, const char *id,
			const np_plan *guest, np_plan **out, struct np_error *err);

/*
 * The independent validator: re-checks PLAN against HOST (before the plan
 * is charged) and REQ from scratch, sharing no code with the search:
 * every guest cell placed once, distinct nodes per guest cell, capacity
 * (memory with ratio or strictly for pinned/huge pages, pages, shared vCPUs
 * with ratio, dedicated CPUs free and in the node, thread policy, emulator
 * reservation, PCI policy), pins cover exactly the pinned vCPUs.
 * 0, or NP_EINPUT naming the first violation.
 */
int np_plan_validate(const np_host *host, const np_request *req, const np_plan *plan,
		     struct np_error *err);

/*
 * Read a plan back from numaplace.plan/1 JSON (what np_plan_write writes
 * with NP_PLAN_JSON); node ids in it are mapped onto TOPO, and a plan that
 * names nodes or CPUs TOPO lacks is NP_EINPUT.
 */
int np_plan_from_json(const np_topo *topo, const char *buf, size_t len, const char *name,
		      np_plan **out, struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
