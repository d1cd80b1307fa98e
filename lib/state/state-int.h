/*
 * state-int.h - the inside of np_state (state.c) and its invariant
 * checker (state-check.c).
 *
 * Invariants (np__state_check): claims sorted by id (strcmp), so ids are
 * unique; every id 1..NP_CLAIM_ID_MAX bytes, valid UTF-8, no control
 * character; every plan the claim form of numaplace.plan/1, readable and
 * fitting.  Given a host, also: charged together onto it, the claims give
 * no pinned CPU twice, take no pages or devices it lacks, and put no node
 * over its memory (with the RAM allocation ratio when it has limits).
 * The recent claims: at most NP__STATE_RECENT, each a valid id and 1 to
 * NP__STATE_RECENT_CELLS shapes in np_place()'s ranges, no id twice.
 */
#ifndef NP_STATE_INT_H
#define NP_STATE_INT_H

#include <jansson.h>

#include <numaplace/place.h>
#include <numaplace/state.h>

#include "util/util.h"

struct claim {
	char *id;
	json_t *plan; /* the claim form of numaplace.plan/1 */
};

/* The guests claimed last, whose cell shapes are the demand (state-demand.c). */
#define NP__STATE_RECENT 64
/* The most cells one entry of it keeps. */
#define NP__STATE_RECENT_CELLS 4096

struct recent {
	char *id;                /* the claim's id (it may be released since) */
	int ncells;              /* 1..NP__STATE_RECENT_CELLS */
	struct np_demand *cells; /* the shapes of its cells, weight 1 */
};

struct np_state {
	char *path;
	int lockfd; /* -1: nothing to lock (read-only, no state yet) */
	bool readonly;
	bool dirty;
	bool broken; /* a claim with moves could not be undone: never commit (state-moves.c) */
	int nclaims;
	size_t cap;
	struct claim *claims; /* increasing id (strcmp) */
	/*
	 * After np_state_apply(): the host's ledger (lib/fleet/ledger.h) with
	 * every claim charged, and the host's shape to compute what a plan
	 * takes; NULL before.
	 */
	struct np__ledger *ledger;
	np_host *shape;
	/* The guests claimed last, oldest first (at most NP__STATE_RECENT). */
	int nrecent;
	struct recent recent[NP__STATE_RECENT];
};

/*
 * The invariants above: 0, or NP_EINPUT naming the first broken one
 * (NP_ENOMEM).  HOST NULL: the ledger alone; else also the claims charged
 * onto a copy of HOST (HOST is not changed).
 */
int np__state_check(const np_state *st, const np_host *host, struct np_error *err);

/* ---- the recent claims (state-demand.c) ---- */

/* Read the optional "recent" member V of the file (NULL: none): 0 or NP_EINPUT "recent...". */
int np__state_recent_read(np_state *st, json_t *v, struct np_error *err);
/*
 * ID is claimed with FORM (its claim form): np__state_recent_prepare()
 * makes its entry (0 or NP_ENOMEM, before anything changes), and once the
 * claim is in, np__state_recent_note() makes it the newest (taking R's
 * memory; it cannot fail).
 */
int np__state_recent_prepare(const char *id, const json_t *form, struct recent *r);
void np__state_recent_note(np_state *st, struct recent *r);
/* The "recent" member as JSON text (free it), or NULL when there is none or on NP_ENOMEM (*RC). */
char *np__state_recent_text(const np_state *st, int *rc);
/* The recent claims' invariants (state-int.h): 0 or NP_EINPUT. */
int np__state_recent_check(const np_state *st, struct np_error *err);
void np__state_recent_free(np_state *st);

/*
 * Why ID cannot be a claim id ("is empty", "has a control character" - C0,
 * DEL or C1 -, "is not valid UTF-8", ...), or NULL.
 */
const char *np__state_id_problem(const char *id);

/* Room np__state_id_shown() needs for an id, shortened to 80 bytes or so. */
#define NP__STATE_ID_SHOWN 96
/*
 * ID as messages show it: printable ASCII and valid UTF-8 as they are,
 * every other byte as \xNN (a terminal never sees an escape sequence),
 * "..." when it is cut short to fit SIZE.
 */
void np__state_id_shown(const char *id, char *out, size_t size);

#endif
