/*
 * moves-int.h - what the search for moves (moves.c) shares with the
 * moves themselves (moves-apply.c): which cells of the guests on a host
 * may move, how one fits another node, and carrying a move out on a host.
 *
 * An item is one cell of a guest already on the host that may move: its
 * guest is not fixed, holds no PCI device, and every guest cell of it is
 * one plan cell on a node of its own.  Its shape for the engine's per-cell
 * fit (cellfit.c) is read off its plan: pinned vCPUs (with the emulator
 * CPU, isolated or sibling cores) or floating ones, its memory and huge
 * page size.  Items only read the guests' plans, which outlive them.
 */
#ifndef NP_MOVES_INT_H
#define NP_MOVES_INT_H

#include <numaplace/place.h>

#include "place/place-int.h"
#include "plan/plan-int.h"

struct np__item {
	int guest;                      /* index into the guests */
	const struct np_plan_cell *cell; /* as it is now */
	struct np__cellreq cr;          /* its shape for np__cell_fit() */
	int tpc;                        /* threads per core of its node */
};

/* Scratch buffers for np__cell_fit() on HOST's nodes. */
struct np__fitbuf {
	int *work, *pcpus, *blocked;
};

int np__fitbuf_init(struct np__fitbuf *b, const np_host *host);
void np__fitbuf_free(struct np__fitbuf *b);

/*
 * The items of GUESTS on HOST into *OUT (*N of them; free() it).  Guests
 * that cannot move contribute none.  NP_ENOMEM.
 */
int np__items(const np_host *host, const struct np_guest_plan *guests, int nguests,
	      struct np__item **out, int *n);

/* The largest SMT sibling group of node J (1 without SMT). */
int np__node_tpc(const np_host *host, int j);

/* A one-cell plan of C (to charge or give back); NULL on ENOMEM. */
np_plan *np__cell_plan(const struct np_plan_cell *c);

/*
 * IT fitted on node J of HOST as a one-cell plan (its cell after the
 * move: new node, pins, cpuset, emulator and blocked CPUs), in *OUT; NULL
 * when it does not fit.  0 or NP_ENOMEM.
 */
int np__item_fit(const np_host *host, const struct np__item *it, int j, struct np__fitbuf *b,
		 np_plan **out);

/*
 * Move a cell on HOST: give back OLD (a cell on its node) and charge NEW
 * (a one-cell plan on another), keeping the free memory a host of memory
 * basis free counts.  0, or the error of the charge (HOST unchanged).
 */
int np__host_move(np_host *host, const struct np_plan_cell *old, const np_plan *new_cell,
		  struct np_error *err);

#endif
