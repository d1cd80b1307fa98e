/*
 * engine-int.h - the inside of one np_place() call, shared by the files
 * of the engine (engine.c sets up and drives; engine-fit.c, engine-pci.c,
 * engine-search.c, engine-explain.c and engine-flat.c do one concern
 * each; engine.c's header says how the search works).
 *
 * struct eng is private to one call and to the thread making it; every
 * array it points to lives in one zeroed block (e->arena) carved in
 * engine.c, except the split of guests without NUMA topology, which
 * allocates its own.  Hosts are node indexes 0..n-1, guest cells 0..k-1;
 * node sets are bit sets of nw 64-bit words.  The host and the request
 * are only read: e->host is the caller's host, or a clone when several
 * cells are fixed on one node (fitted one after the other on it).
 */
#ifndef NP_ENGINE_INT_H
#define NP_ENGINE_INT_H

#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>

#include "place/place-int.h"
#include "plan/plan-int.h"
#include "topology/topo-int.h"

typedef uint64_t word;

/*
 * Objective terms, compared in this order; lower is better in each
 * (docs/policies/placement.md 4; the order after distance was chosen on
 * bench/quality's tune seeds and checked on its held-out seeds).
 */
enum { T_MISS, T_MAXD, T_SUMD, T_WHOLE, T_AVOID, T_DEMAND, T_HALF, T_STRAND, T_FIT, T_ROOM, NT };

/* The terms that are a sum over (cell, node): T_LIN + L_*. */
enum { L_WHOLE, L_AVOID, L_DEMAND, L_HALF, L_STRAND, L_FIT, L_ROOM, NL };
#define T_LIN T_WHOLE

struct terms {
	int64_t v[NT];
};

/* One (guest cell, node) answer, kept for explanations. */
struct fitinfo {
	bool ok;
	enum np_resource res;
	uint64_t asked, available;
	bool per_core; /* amounts are threads per core (require without SMT) */
	const char *why;
};

struct eng {
	char *arena;	     /* every array below lives in it */
	const np_host *host; /* the host fits read (a clone with shared pnodes) */
	const np_host *orig;
	np_host *clone;
	const np_request *req;
	const np_topo *topo;
	np_plan *plan;
	enum np_strategy strategy;
	bool explain, pinned_kind, flat;
	uint64_t mem_q; /* scoring counts node memory in steps of this (MiB) */
	uint64_t steps, max_steps;
	uint64_t max_us, t0_us; /* time budget (0: none) from t0_us, CLOCK_MONOTONIC */
	uint64_t last_us, stretch_us; /* the last check of it, the longest time between two */
	bool aborted;
	int n, k, nw;

	const uint32_t *d;   /* n x n distances (the topology's) */
	const uint32_t *sym; /* max(d[a][b], d[b][a]) (the host's cache) */
	const int64_t *dd;   /* d[a][b] + d[b][a] */
	const struct np__dist *dist;
	struct np__cellreq *cr; /* per cell */
	int64_t *w;		/* per cell: weight (vCPUs, at least 1) */
	int *fixed;		/* per cell: node from pnode=, or -1 */
	np_plan **mini;		/* per cell: its fit when fixed on a shared node */
	word *feas;		/* k x nw: cell i fits node j */
	struct fitinfo *fi;	/* k x n */
	int64_t *lin;		/* k x n x NL */
	int64_t *strand0;	/* per node: stranded before */
	int64_t strand_base;
	int *prev;     /* symmetry: previous interchangeable node, or -1 */
	int *cls;      /* per cell: the first cell of the same shape */
	int64_t *vals; /* 2 x (1 + NL) x n scratch for bounds */
	int *work, *pcpus, *blocked;

	/* the search */
	uint32_t T;
	uint32_t tmin; /* no answer exists below this */
	int force;     /* explain: a node every answer must use, or -1 */
	bool use_sym;
	word *compat;		  /* n x nw for the current T, a row once built (compat_row()) */
	word *cok;		  /* nw: the rows of e->compat built for the current T */
	const uint16_t *order;	  /* the host's nodes by round trip from each (np__dist) */
	word *allowed;		  /* (k + 1) x nw, one per depth */
	word *used, *seen, *cand; /* nw, nw, k x nw */
	int *match;		  /* n */
	int64_t *acc;		  /* per node: sum of w * dd to the assigned cells */
	int64_t *pairw;		  /* per depth: sum of w * w over the pairs left */
	int64_t dpair_min;
	bool any_pair;	 /* the threshold allows two nodes together */
	bool uniform;	 /* all nodes alike in distance: one local, one remote value */
	bool sym_done;	 /* e->prev computed (only the search needs it) */
	bool no_near;	 /* np__eng_set_threshold() leaves e->near alone */
	bool will_split; /* a guest without NUMA that may be split */
	int64_t *near;	 /* n x k: sum of the c smallest dd to compatible nodes */
	int64_t *wmin;	 /* per depth: the smallest weight of the cells left */
	int *asg, *freec, nfree;
	int *cprev; /* per depth: the depth of the last cell of the same shape, or -1 */
	struct terms cur, best;
	struct terms root_lb; /* the root's bounds at root_T (note_root()) */
	uint32_t root_T;
	bool root_set, root_ok;
	int *best_asg;
	bool have_best, best_dfs;

	/* the bound on max distance (engine-bound.c) */
	word *room;	 /* nw: nodes some cell fits */
	uint32_t *dv;	 /* per node: the nearest bound D(v) */
	int *colour;	 /* per node: colours of a neighbourhood */
	int *lst;	 /* per node: a neighbourhood */
	int *kmark;	 /* k: colours taken by the neighbours of a node */
	uint32_t *kbuf;	 /* k: the smallest distances of a node */
	uint32_t maxd_lb; /* the bound, once lb_done */
	bool lb_done;

	/* PCI */
	int npci, nreq, ngroups;
	int *left, *alloc;	  /* per pool */
	struct np_pci_request *rq; /* per request: as asked, a device named by address
				      given its vendor and product from the host */
	int *rnode;		  /* per request: the node index of its device named by
				     address (-1: no node), or ANY_NODE */
	int *group;		  /* per request */
	int64_t *g_need, *g_hard; /* per group: devices asked, of them `required` */
	int64_t miss_floor;	  /* no answer has fewer misses */

	/* the caller's demand (np_place_opts), or none */
	const struct np_demand *dem;
	int ndem;
};

/* ---- bit sets and small views ------------------------------------------- */

static inline bool bit(const word *s, int i)
{
	return (s[i >> 6] >> (i & 63)) & 1;
}

static inline void set_bit(word *s, int i)
{
	s[i >> 6] |= (word)1 << (i & 63);
}

static inline void clr_bit(word *s, int i)
{
	s[i >> 6] &= ~((word)1 << (i & 63));
}

/* The first index >= FROM in A & B (B NULL: in A; NEG: in A & ~B), or -1. */
static inline int next_in(const word *a, const word *b, bool neg, int nw, int from)
{
	for (int w = from >> 6; w < nw; w++) {
		word x = a[w];

		if (b)
			x &= neg ? ~b[w] : b[w];
		if (w == from >> 6)
			x &= ~(word)0 << (from & 63);
		if (x)
			return w * 64 + __builtin_ctzll(x);
	}
	return -1;
}

#define FOR_AND(j, a, b, e)                                                                        \
	for (int j = next_in(a, b, false, (e)->nw, 0); j >= 0;                                     \
	     j = next_in(a, b, false, (e)->nw, j + 1))

static inline word *row(const struct eng *e, word *base, int i)
{
	return base + (size_t)i * e->nw;
}

static inline int terms_cmp(const struct terms *a, const struct terms *b)
{
	for (int t = 0; t < NT; t++)
		if (a->v[t] != b->v[t])
			return a->v[t] < b->v[t] ? -1 : 1;
	return 0;
}

/* Microseconds on CLOCK_MONOTONIC. */
uint64_t np__eng_now_us(void);

/* Nodes B != A with sym[a][b] <= T and d[b][b] <= T (none if d[a][a] > T): A's row of
 * e->compat, built the first time it is asked for at this T (engine-search.c). */
const word *np__eng_compat_row(struct eng *e, int a);

/*
 * Count one search step; true (and e->aborted) once a budget is spent.
 * The time budget is spent when the longest stretch between two checks
 * seen so far would overrun it: a step's bounds cost more with more cell
 * shapes and nodes, and the call must end within max_us.
 */
static inline bool over_budget(struct eng *e)
{
	if (!e->aborted && ++e->steps > e->max_steps)
		e->aborted = true;
	if (!e->aborted && e->max_us) {
		uint64_t now = np__eng_now_us();

		if (e->last_us && now - e->last_us > e->stretch_us)
			e->stretch_us = now - e->last_us;
		e->last_us = now;
		e->aborted = now + e->stretch_us - e->t0_us > e->max_us;
	}
	return e->aborted;
}

static inline int64_t *lin(const struct eng *e, int i, int j)
{
	return &e->lin[((size_t)i * e->n + j) * NL];
}

/* ---- per-cell fits and sum terms (engine-fit.c) ---------------------- */

/* The fit of every (cell, node) into e->feas, e->fi, e->lin, once per shape. */
int np__eng_compute_fits(struct eng *e, struct np_error *err);
/*
 * The sum terms of putting MEM/FLOATS/PINS on node J of host H into
 * OUT[NL]; PAGESIZE_KB: the huge page size the memory takes, 0 for small.
 */
void np__eng_lin_terms(const struct eng *e, const np_host *h, int j, uint64_t mem, int floats,
		       int pins, uint64_t pagesize_kb, int64_t *out);
/* The step in which scoring counts node memory: 1/128 of the largest node's power of two. */
uint64_t np__eng_mem_step(const np_topo *t);
/* The capacity node J of H strands now (MiB). */
int64_t np__eng_stranded(const struct eng *e, const np_host *h, int j);
/* A one-cell plan of cell I's fit F on node J (for charging a clone, or the answer). */
np_plan *np__eng_mini_plan(const struct eng *e, int i, int j, const struct np__fit *f);

/* ---- PCI devices (engine-pci.c) -------------------------------------- */

/* Requests in e->rq, e->rnode, groups; NP_EINPUT for a device address the host lacks. */
int np__eng_setup_pci(struct eng *e, struct np_error *err);
/* May POOL serve request R (vendor, product, and the node of a device named by address)? */
bool np__eng_pool_matches(const struct eng *e, const struct np_pci_pool *pool, int r);
/* Free devices of the pools on node J of H. */
int64_t np__eng_pci_free_on(const np_host *h, int j);
/* Take the devices for a guest on NODES: misses, or -1 when a request cannot be met. */
int64_t np__eng_pci_eval(struct eng *e, const word *nodes);
/* A lower bound on misses for a guest within NODES; -1: infeasible. */
int64_t np__eng_pci_bound(const struct eng *e, const word *nodes);
/* Record in the plan the devices a guest on NODES takes (and its misses). */
int np__eng_add_pci(struct eng *e, const word *nodes);

/* ---- the search (engine-search.c) ------------------------------------ */

/* Fixed cells assigned for good, the free cells and their bounds set up. */
void np__eng_preassign(struct eng *e);
/* Run the threshold loop from FROM; e->tmin ends at the first T not refuted. */
void np__eng_search(struct eng *e, uint32_t from);
/* After a search cut short with no answer: a greedy one over the whole host, or the matching. */
void np__eng_last_resort(struct eng *e);
/* After a search cut short: the plan's gap_term and gap (plan.h) for e->best. */
void np__eng_gap(struct eng *e);
/* Compatibility within T, the smallest pair cost, the allowed root set. */
void np__eng_set_threshold(struct eng *e, uint32_t T);
/* The smallest T any answer can have, given the fixed cells. */
uint32_t np__eng_fixed_floor(const struct eng *e);
/* Without distances: how many free cells fit on distinct free nodes? */
int np__eng_root_matched(struct eng *e);
/* The matching as a last resort answer when the budget ran out. */
void np__eng_take_matching(struct eng *e);

/* ---- the bound on max distance (engine-bound.c) ------------------------ */

/*
 * A lower bound on the max distance of every answer (at least the fixed
 * cells' floor), a threshold value; computed once per call, until
 * DEADLINE (microseconds on np__eng_now_us(), 0: none).
 */
uint32_t np__eng_maxd_bound(struct eng *e, uint64_t deadline);

/* ---- reasons (engine-explain.c) -------------------------------------- */

/* Every (cell, node) that does not fit, with the resource that fell short. */
int np__eng_explain_fits(struct eng *e);
/* For every usable node the winner left out: the best answer using it. */
int np__eng_explain_alternatives(struct eng *e);
/* Why nothing fits: NMATCHED of the free cells can go on distinct nodes. */
int np__eng_no_fit_reason(struct eng *e, int nmatched);

/* ---- guests without NUMA topology (engine-flat.c) -------------------- */

/* The guest split over the fewest, closest nodes, when it fits on no one node. */
int np__eng_place_split(struct eng *e);

#endif
