/*
 * place-moves.c - what `numaplace place --allow-moves` and `numaplace
 * claim --allow-moves` share: the claims of the state file as guests the
 * engine may move (all but those of --keep), and the placement with moves,
 * validated on the host as it is after them.
 *
 * Public API only (np_place_with_moves(), np_host_after_moves()).
 */
#include <stdlib.h>
#include <string.h>

#include "cmd-place.h"

void place_guests_free(struct np_guest_plan *g, int n)
{
	for (int i = 0; g && i < n; i++) {
		free((char *)g[i].id);
		np_plan_free((np_plan *)g[i].plan);
	}
	free(g);
}

static bool kept(const struct place_args *p, const char *id)
{
	for (int i = 0; i < cli_count(p->args, PLACE_OPT_KEEP); i++)
		if (strcmp(cli_nth(p->args, PLACE_OPT_KEEP, i), id) == 0)
			return true;
	return false;
}

/* Every --keep names a claim of ST: 0 or 2 (printed). */
static int check_keep(const struct place_args *p, const np_state *st)
{
	for (int i = 0; i < cli_count(p->args, PLACE_OPT_KEEP); i++) {
		const char *id = cli_nth(p->args, PLACE_OPT_KEEP, i);
		bool found = false;

		for (int k = 0; k < np_state_claim_count(st) && !found; k++)
			found = strcmp(np_state_claim_id(st, k), id) == 0;
		if (!found)
			return cli_usage_error(p->verb, "--keep %s: no such claim in '%s'", id, p->state);
	}
	return CLI_OK;
}

int place_state_guests(const struct place_args *p, const np_state *st, const np_topo *topo,
		       struct np_guest_plan **out, int *n)
{
	int count = np_state_claim_count(st), rc = check_keep(p, st);
	struct np_guest_plan *g;
	struct np_error err = { 0 };

	if (rc)
		return rc;
	g = calloc((size_t)count + 1, sizeof(*g));
	if (!g)
		return cli_oom();
	for (int i = 0; i < count; i++) {
		np_plan *plan = NULL;

		/* Copies: the guests outlive the state (place closes it at once). */
		g[i].id = strdup(np_state_claim_id(st, i));
		if (!g[i].id) {
			place_guests_free(g, i);
			return cli_oom();
		}
		if (np_state_claim_plan(st, g[i].id, topo, &plan, &err)) {
			place_guests_free(g, i + 1);
			return cli_fail(&err);
		}
		g[i].plan = plan;
		g[i].fixed = kept(p, g[i].id);
	}
	*out = g;
	*n = count;
	return CLI_OK;
}

/* A plan failing the validator is a numaplace bug (as in place_plan()). */
static int validate(const np_host *host, const np_request *req, const np_plan *plan,
		    const struct np_guest_plan *guests, int n)
{
	struct np_error err = { 0 };
	np_host *after = NULL;
	int rc = np_host_after_moves(host, plan, guests, n, &after, &err);

	if (!rc)
		rc = np_plan_validate(after, req, plan, &err);
	np_host_free(after);
	if (!rc)
		return CLI_OK;
	fprintf(stderr, "numaplace: internal error: the plan fails validation: %s\n", err.message);
	return CLI_FAILED;
}

int place_plan_moves(const struct place_args *p, const np_host *host, const np_request *req,
		     const struct np_guest_plan *guests, int n, np_plan **out)
{
	struct np_place_opts opts = place_opts(p);
	struct np_moves_opts mo = { .max_moves = p->allow_moves,
				    .max_sets = (uint64_t)p->move_budget, .max_us = p->move_us };
	struct np_error err = { 0 };

	if (np_place_with_moves(host, req, &opts, guests, n, &mo, out, &err))
		return cli_fail(&err);
	if (p->validate && np_plan_fits(*out) && validate(host, req, *out, guests, n)) {
		np_plan_free(*out);
		*out = NULL;
		return CLI_FAILED;
	}
	return CLI_OK;
}
