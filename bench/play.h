/*
 * play.h - `np-bench play` (play.c): every placer of bench/quality on the
 * same workloads; the JSON string writer np-bench's parts share; the
 * np-moves placer (play-moves.c).
 */
#ifndef NP_BENCH_PLAY_H
#define NP_BENCH_PLAY_H

#include <stdint.h>

#include <numaplace/flavors.h>
#include <numaplace/host.h>
#include <numaplace/nova.h>
#include <numaplace/place.h>
#include <numaplace/plan.h>

/* Play every workload of PATH (JSON Lines); NOVA: Nova's recorded answers or NULL. */
int play_file(const char *path, const char *nova);
/* np-bench play --flavors FILE: add the np-flavors placer (-1: FILE unreadable). */
int play_set_flavors(const char *path);
void play_free_flavors(void);
/* np-bench play --only NAME,...: only those placers (NAMES kept, not copied). */
void play_set_only(const char *names);
/* The name a placer has in the output (np-spread, libxl, nova-pack, ...). */
const char *play_placer_name(int placer);
/* S as a JSON string on standard output. */
void play_put_json_str(const char *s);

/* ---- the np-moves placer (play-moves.c) ---- */

/* Cells of other guests np-moves may move per arrival (np-bench play --max-moves N). */
void play_set_max_moves(int n);
int play_max_moves(void);
/* Place Q on H, moving at most that many cells of PLANS[0..N-1] (NULL: not there). */
int play_moves_decide(np_host *h, const np_request *q, np_plan **plans, int n, np_plan **out,
		      struct np_error *err);
/*
 * Carry out P's moves on H: the moved guests' new plans replace PLANS[i]
 * (guest ids are their indexes), each validated against its request in C.
 */
int play_moves_apply(np_nova_case *c, np_host *h, const np_plan *p, np_plan **plans, int n,
		     struct np_error *err);

/* ---- the np-lookahead placer (play-lookahead.c) ---- */

/*
 * Q on H: the candidate plans of several placers (numaplace told DEM), the
 * one whose futures drawn from F admit most; WHERE seeds the draws.
 * DEPARTED: some guest has left this host (NP_BENCH_LA_OFF_DEPART).
 */
int play_lookahead_decide(np_host *h, const np_request *q, const struct np_demand *dem, int ndem,
			  const np_flavors *f, uint64_t where, bool departed, np_plan **out,
			  struct np_error *err);
/* Decisions, candidates, futures played and guests placed in them, so far. */
void play_lookahead_stats(unsigned long long *decisions, unsigned long long *cands,
			  unsigned long long *samples, unsigned long long *guests);

#endif
