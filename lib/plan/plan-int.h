/*
 * plan-int.h - the inside of np_plan, the builder the engine (and the
 * plan JSON reader) fill it with (plan.c), and the views of a plan that
 * the JSON code and the writers share (plan-view.c).
 *
 * A plan owns every array it points to.  Cells are kept in the order they
 * were added (the engine adds them in guest-cell order).  Reasons are
 * owned strings.  Views are built from the plan alone, owned by the
 * caller and freed with the matching _free().
 */
#ifndef NP_PLAN_INT_H
#define NP_PLAN_INT_H

#include <numaplace/plan.h>

#include "util/util.h"

struct np_plan {
	bool fits;
	int ncells;
	struct np_plan_cell *cells;
	enum np_mem_policy mem_policy;
	enum np_affinity affinity;
	enum np_memory_basis memory_basis; /* how the engine counted memory */
	int nnodeset;
	int *nodeset;
	int nfallback;
	int *fallback;
	int npci;
	struct np_plan_pci *pci;
	struct np_plan_score score;
	int nreasons;
	struct np_reason *reasons;
	int summary; /* the reason that says why the guest does not fit, or -1 */
	/* Moves of other guests' cells, in order (np_place_with_moves()). */
	int nmoves;
	struct np_plan_move *moves; /* each owns its guest id and its cell's arrays */
	bool moves_exact;           /* the search proved them the cheapest */
	/*
	 * The kernel ids of every node of the topology the plan was made on
	 * (indexed by node_idx), so that a plan can be written with kernel
	 * node ids, and checked against a host, without its topology; 0/NULL
	 * until np__plan_set_topo().
	 */
	int nnode_os;
	int *node_os;
};

np_plan *np__plan_new(void);
/* Append a copy of CELL (its arrays are copied). */
int np__plan_add_cell(np_plan *plan, const struct np_plan_cell *cell);
int np__plan_set_nodeset(np_plan *plan, const int *nodes, int n);
int np__plan_set_fallback(np_plan *plan, const int *nodes, int n);
int np__plan_add_pci(np_plan *plan, int pool, int count);
/*
 * Remember the kernel node ids of TOPO (a copy: the plan still does not
 * refer to the topology).  np_place() and np_plan_from_json() call it;
 * np_state_claim() needs it to store the plan with kernel ids.
 */
int np__plan_set_topo(np_plan *plan, const np_topo *topo);
/* True when PLAN was made on a topology with the nodes of TOPO (or says nothing). */
bool np__plan_matches_topo(const np_plan *plan, const np_topo *topo);
/* Append a move: GUEST and CELL's arrays are copied. */
int np__plan_add_move(np_plan *plan, const char *guest, int from_idx,
		      const struct np_plan_cell *cell);
/* A copy of SRC's cells, policies, node lists, devices, host nodes and score (no reasons, no moves). */
np_plan *np__plan_copy(const np_plan *src);
/* Append a reason; TEXT is formatted and copied. */
int np__plan_add_reason(np_plan *plan, int guest_cell, int node_idx, int node_idx2,
			enum np_resource res, uint64_t asked, uint64_t available,
			const char *fmt, ...) NP__PRINTF(8, 9);

/* The reason added last is the no-fit summary (np_plan_no_fit_summary()). */
void np__plan_mark_summary(np_plan *plan);

/* ---- views (plan-view.c) -------------------------------------------- */

/* The kernel id of host node NODE_IDX, by TOPO if given, else by the plan; -1 unknown. */
int np__plan_node_os(const np_plan *plan, const np_topo *topo, int node_idx);

/* A guest cell as the plan places it (a guest without NUMA may span nodes). */
struct np__gcell {
	int id;
	int nvcpus;
	int *vcpus;          /* increasing */
	uint64_t memory_mb;
	uint64_t pagesize_kb; /* of its first plan cell */
	int nnodes;
	int *nodes;          /* node indexes, in plan order */
	int ncpus;
	int *cpus;           /* every host CPU its vCPUs may use, increasing */
};

/* Guest cells in increasing id; *N of them.  NP_ENOMEM. */
int np__plan_gcells(const np_plan *plan, struct np__gcell **out, int *n);
void np__plan_gcells_free(struct np__gcell *g, int n);

/* Where one vCPU may run: one pinned CPU, or the cpuset of its plan cell. */
struct np__vcpu {
	int cell;  /* plan cell index */
	int pcpu;  /* pinned CPU, or -1: floating on cells[cell].cpuset */
};

/*
 * Every vCPU of a plan that fits, indexed by vCPU id: NP_EINPUT when the
 * ids are not exactly 0..N-1, each once.
 */
int np__plan_vcpus(const np_plan *plan, struct np__vcpu **out, int *n, struct np_error *err);

/*
 * True when plan cell C uses pages bigger than its node's small page (the
 * node's first pool on HOST; 4 KiB when HOST is NULL or reports none).
 */
bool np__plan_cell_huge(const np_host *host, const struct np_plan_cell *c);

#endif
