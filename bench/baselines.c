/*
 * baselines.c - libxl-like, first-fit, best-fit and worst-fit placers on
 * numaplace's host, for bench/quality (baselines.h says what each does).
 *
 * The rules are the library's (lib/place/lookahead-cands.c), where the
 * lookahead tries their plans as candidates: one copy of the code, so the
 * baselines measured are exactly the candidates tried.
 */
#include "baselines.h"

#include "place/lookahead-int.h"

_Static_assert((int)BL_LIBXL == (int)NP__FIT_LIBXL && (int)BL_FIRST == (int)NP__FIT_FIRST &&
		       (int)BL_BEST == (int)NP__FIT_BEST && (int)BL_WORST == (int)NP__FIT_WORST &&
		       (int)BL_COUNT == (int)NP__FIT_RULES,
	       "bl_kind is np__fit_rule");

const char *bl_name(enum bl_kind k)
{
	return k < BL_COUNT ? np__fit_rule_name((enum np__fit_rule)k) : "?";
}

int bl_place(enum bl_kind k, const np_host *host, const np_request *req, np_plan **out,
	     struct np_error *err)
{
	return np__fit_rule_place((enum np__fit_rule)k, host, req, out, err);
}

int bl_plan_nodes(const np_host *host, const np_request *req, const int *nodes,
		  const int *const *pins, const long *pagesize_kb, np_plan **out,
		  struct np_error *err)
{
	return np__fit_plan_nodes(host, req, nodes, pins, pagesize_kb, out, err);
}
