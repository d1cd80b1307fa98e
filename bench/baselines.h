/*
 * baselines.h - the placers bench/quality compares numaplace with, each
 * deciding on the very host numaplace keeps (np_host) so that all of them
 * see the same usage, and each answer checked by np_plan_validate()
 * before it is charged:
 *
 *   libxl  libxl's heuristic (research/xen.md 1.2-1.5): candidate node
 *          sets of the fewest nodes (one per guest cell), those that hold
 *          the guest, fewest vCPUs already runnable there (floating vCPUs
 *          + pinned CPUs), then most free memory, then the first in
 *          lexicographic order; libxl has no cells, so the cells go onto
 *          the chosen nodes first-fit.  Above 16 nodes libxl places
 *          nothing; here the same key then picks per cell, greedily.
 *   first  first fit: cells in order, nodes in id order (Nova before it
 *          learned to sort host cells)
 *   best   best fit: each cell on the node it leaves least room on (free
 *          CPUs of its kind + free memory, as fractions of the node)
 *   worst  worst fit: the node it leaves most room on
 *
 * Every baseline is complete: when some placement of the guest exists it
 * finds one (a depth-first search in the baseline's order, cut by a
 * matching test), so it never refuses a guest only for being greedy about
 * the cell order.  One cell on one node is Nova's rule, from the same
 * per-cell fit the engine uses (np__cell_fit: memory, pages, CPUs, ratios,
 * pinning); PCI devices are taken nearest first.
 *
 * The code is the library's (lib/place/lookahead-cands.c, whose rules the
 * lookahead tries as candidates); these are its names for the bench.
 * bl_plan_nodes() builds the plan for given nodes (and, optionally, given
 * pins): how a Nova answer is replayed onto numaplace's host.
 */
#ifndef NP_BENCH_BASELINES_H
#define NP_BENCH_BASELINES_H

#include <numaplace/host.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>

enum bl_kind { BL_LIBXL, BL_FIRST, BL_BEST, BL_WORST, BL_COUNT };

const char *bl_name(enum bl_kind k);

/* REQ on HOST by K: 0 and *OUT (fits or not), or NP_ENOMEM / NP_EINPUT. */
int bl_place(enum bl_kind k, const np_host *host, const np_request *req, np_plan **out,
	     struct np_error *err);

/*
 * The plan putting guest cell i on node NODES[i] (topology indexes).
 * PINS[i] (may be NULL, or PINS[i] NULL): the host CPUs of cell i's
 * pinned vCPUs in increasing vCPU order, as another placer chose them;
 * else the per-cell fit pins them.  PAGESIZE_KB[i] (may be NULL, or 0):
 * the page size another placer chose.  *OUT does not fit when a cell does
 * not fit its node or the PCI devices cannot be had.
 */
int bl_plan_nodes(const np_host *host, const np_request *req, const int *nodes,
		  const int *const *pins, const long *pagesize_kb, np_plan **out,
		  struct np_error *err);

#endif
