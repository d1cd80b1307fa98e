/*
 * place-int.h - what the engine (engine.c) needs from the per-cell fit
 * (cellfit.c): one guest cell, or one share of a guest without NUMA
 * topology, checked against one host node exactly as Nova's
 * _numa_fit_instance_cell and _pack_instance_onto_cores do
 * (research/nova.md 3.1, 3.2), with pinning in sorted CPU order.
 *
 * The fit only reads the host.  Its answer depends on the node's state
 * and the cell's counts, never on earlier answers, so the engine may cache
 * it per (node, cell shape) - never per mutable id (Nova's defect 3.6).
 * The validator (validate.c) deliberately does not use any of this.
 */
#ifndef NP_PLACE_INT_H
#define NP_PLACE_INT_H

#include <numaplace/host.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>


/* A guest cell, or a share of one, as the fit sees it. */
struct np__cellreq {
	int nfloat;  /* floating vCPUs */
	int npinned; /* pinned vCPUs */
	uint64_t memory_mb;
	long pagesize; /* NP_PAGESIZE_* or KiB */
	enum np_cpu_policy cpu_policy;
	enum np_thread_policy thread_policy;
	int nreserved; /* pCPUs for isolated emulator threads: 0 or 1 */
};

/*
 * The answer.  On success, pcpus[i] is the host CPU for the i-th smallest
 * pinned vCPU, reserved the emulator CPU (or -1), blocked the siblings
 * kept free by `isolate`.  On failure, RES, ASKED and AVAILABLE say what
 * fell short (units as in enum np_resource) and WHY is a short phrase.
 */
struct np__fit {
	bool ok;
	enum np_resource res;
	uint64_t asked, available;
	bool per_core; /* ASKED and AVAILABLE are threads per core (require without SMT) */
	const char *why;
	uint64_t pagesize_kb;
	int npins;
	int *pcpus; /* caller's buffer: >= npinned */
	int reserved;
	int nblocked;
	int *blocked; /* caller's buffer: >= the node's CPU count */
};

/*
 * Scratch space for np__cell_fit: WORK holds at least NP__FIT_WORK(n) ints
 * for N = the largest number of CPUs of a node.  The fit writes F->pcpus and F->blocked,
 * which the caller points at its own buffers.
 */
#define NP__FIT_WORK(n) (5 * (n) + 8)

void np__cell_fit(const np_host *host, int node_idx, const struct np__cellreq *c, int *work,
		  struct np__fit *f);

/*
 * Per node of HOST, the next lower node whose swap with it leaves the
 * distance matrix unchanged, or -1 (computed once per host, in host.c).
 */
const int *np__host_twins(const np_host *host);

/* The distances as the engine reads them; computed once per host. */
struct np__dist {
	uint32_t *sym;	      /* n x n: max(d[a][b], d[b][a]) */
	int64_t *dd;	      /* n x n: d[a][b] + d[b][a] */
	uint32_t *thresholds; /* the distinct values of sym, increasing */
	int nthresholds;
	/*
	 * n x (n - 1): per node a, the other nodes by dd[a][b] ascending (ids
	 * breaking ties).  As sym <= dd <= 2 sym, the nodes within sym T of a
	 * all come before the first with dd > 2T: the engine walks a prefix
	 * instead of a row of n.
	 */
	uint16_t *order;
	bool uniform; /* one local and one remote distance for all nodes */
};

const struct np__dist *np__host_dist(const np_host *host);

/*
 * With memory basis free, the memory node IDX may hand out at most (its
 * reported free memory, MiB); UINT64_MAX with basis total.
 */
uint64_t np__host_free_cap(const np_host *host, int idx);
/*
 * Count MB more as gone from node IDX's free memory: the engine's clone
 * does it when several guest cells share one node (xl pnode=), so the
 * later ones see what the earlier ones took.
 */
void np__host_take_free(np_host *host, int idx, uint64_t mb);
/*
 * Count MB more as free on node IDX (at most its memory): a guest cell
 * moved away from it (lib/place/moves.c) leaves that much behind.
 */
void np__host_give_free(np_host *host, int idx, uint64_t mb);

/*
 * Node IDX of HOST back to its usage in EMPTY (a host on the same
 * topology, usually nothing used): memory, floating vCPUs, pinned CPUs,
 * page pools' used.  Its CPUs, pools and devices stay.  A fleet snapshot
 * changed by one guest resets the nodes the guest touched and fills them
 * again from the ledger, instead of rebuilding every node.  NP_EINPUT when
 * EMPTY does not have HOST's shape.
 */
int np__host_node_reset(np_host *host, int idx, const np_host *empty, struct np_error *err);

/* Do A and B (on one topology) hold the same usage on every node and PCI pool? */
bool np__host_same_usage(const np_host *a, const np_host *b);

/* The largest number of CPUs any node of HOST has (for sizing buffers). */
int np__host_max_node_cpus(const np_host *host);

/*
 * The names of enum np_memory_basis, indexed by value (host.c, beside
 * np_memory_basis_name() and np_memory_basis_from_name()); the plan's JSON
 * reads and writes them too.
 */
extern const char *const np__memory_basis_names[NP_MEMORY_BASIS_FREE + 1];

#endif
