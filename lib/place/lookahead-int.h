/*
 * lookahead-int.h - what np_place_lookahead() (lookahead.c) shares with
 * the benchmark's np-lookahead placer (bench/play-lookahead.c), whose
 * other candidate sets were measured against it: drawing a flavor, and
 * telling two candidate plans apart.
 */
#ifndef NP_LOOKAHEAD_INT_H
#define NP_LOOKAHEAD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <numaplace/flavors.h>
#include <numaplace/plan.h>

/* A flavor of F drawn by its share, from the splitmix64 state *S (advanced). */
int np__la_draw(const np_flavors *f, uint64_t *s);
/* Same cells on the same nodes with the same pages: one candidate. */
bool np__la_same_plan(const np_plan *a, const np_plan *b);

#endif
