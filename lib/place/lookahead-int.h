/*
 * lookahead-int.h - plans by simple fit rules (lookahead-cands.c): the
 * lookahead's candidates beside the engine's answer, and bench/quality's
 * baselines (bench/baselines.h says what each rule does).
 *
 * Every rule decides on the very host the engine keeps, from the engine's
 * own per-cell fit (np__cell_fit), and is complete: when some placement
 * of the guest exists, it finds one.  The plans are built as the engine
 * builds its own; they fit or say they do not (np_plan_fits).
 */
#ifndef NP_LOOKAHEAD_INT_H
#define NP_LOOKAHEAD_INT_H

#include <numaplace/flavors.h>
#include <numaplace/host.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>

enum np__fit_rule {
	NP__FIT_LIBXL, /* libxl's: fewest vCPUs runnable on the node set, then most free memory */
	NP__FIT_FIRST, /* cells in order, nodes in id order */
	NP__FIT_BEST,  /* each cell on the node it leaves least room on */
	NP__FIT_WORST, /* each cell on the node it leaves most room on */
	NP__FIT_RULES
};

/* "libxl", "first-fit", "best-fit", "worst-fit". */
const char *np__fit_rule_name(enum np__fit_rule rule);

/* REQ on HOST by RULE: 0 and *OUT (fits or not), or NP_ENOMEM. */
int np__fit_rule_place(enum np__fit_rule rule, const np_host *host, const np_request *req,
		       np_plan **out, struct np_error *err);

/*
 * The plan putting guest cell i on node NODES[i] (topology indexes).
 * PINS[i] (may be NULL, or PINS[i] NULL): the host CPUs of cell i's
 * pinned vCPUs in increasing vCPU order, as another placer chose them;
 * else the per-cell fit pins them.  PAGESIZE_KB[i] (may be NULL, or 0):
 * the page size another placer chose.  *OUT does not fit when a cell does
 * not fit its node or the PCI devices cannot be had.
 */
int np__fit_plan_nodes(const np_host *host, const np_request *req, const int *nodes,
		       const int *const *pins, const long *pagesize_kb, np_plan **out,
		       struct np_error *err);

/* Node sets tried at most by np__fit_node_sets(): beyond, it gives none. */
#define NP__NODE_SETS_TRIED 4096

/*
 * Every set of as many nodes as REQ has cells (one node for a one-cell
 * guest) that holds REQ, at the smallest maximum distance of those that
 * do, in lexicographic order of node indexes, at most MAX of them: the
 * plans (the cells first-fit within the set) in OUT[0..*N-1], the
 * caller's to free.  None (*N = 0) when more than NP__NODE_SETS_TRIED
 * sets would have to be tried (a guest of many cells on a large host).
 */
int np__fit_node_sets(const np_host *host, const np_request *req, int max, np_plan **out, int *n,
		      struct np_error *err);

/*
 * The futures of np_place_lookahead() (lookahead-futures.c): SAMPLES
 * futures of up to DEPTH guests drawn from F by their shares (seeded by
 * SEED; PLAIN: each draw on its own, else stratified at each position).
 * np__futures_at(): the flavor of guest K < DEPTH of future S < SAMPLES,
 * drawn when first asked for.  F must outlive *OUT.
 */
struct np__futures;
int np__futures_new(const np_flavors *f, int samples, int depth, bool plain, uint64_t seed,
		    struct np__futures **out, struct np_error *err);
int np__futures_at(struct np__futures *fu, int s, int k);
void np__futures_free(struct np__futures *fu);

#endif
