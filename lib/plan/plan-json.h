/*
 * plan-json.h - numaplace.plan/1 inside the library (plan-json.c): the
 * writer behind np_plan_write(NP_PLAN_JSON) and the state file's claims,
 * and the reader of one plan value, which the state file (lib/state/)
 * uses for every claim.
 */
#ifndef NP_PLAN_JSON_H
#define NP_PLAN_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "plan/plan-int.h"

/*
 * numaplace.plan/1.  TOPO NULL: kernel node ids from the plan itself
 * (NP_EINPUT when it has none).  CLAIM: only what the plan takes (no
 * score, no reasons), the form kept in the state file.
 */
int np__plan_write_json(const np_plan *plan, const np_topo *topo, bool claim, FILE *out,
			struct np_error *err);
/*
 * Read a plan from the JSON value ROOT.  BASE prefixes every path in
 * messages ("" or e.g. "claims[\"vm-7\"]").  TOPO NULL: check the shape
 * only; node ids are then kept as kernel ids in node_idx.
 */
int np__plan_from_json_value(const np_topo *topo, const json_t *root, const char *base,
			     np_plan **out, struct np_error *err);

#endif
