/*
 * play-moves.c - the np-moves placer of `np-bench play` (play.c):
 * numaplace's engine, which may move at most N cells of the guests
 * already on the host per arrival (np_place_with_moves()), so that a guest
 * that does not fit only because the free capacity is scattered is still
 * admitted.  bench/quality compares it with the optimum *without* moves.
 *
 * After an answer with moves, every moved guest's new plan
 * (np_plan_after_moves()) replaces its old one on the host, and must pass
 * np_plan_validate() against that guest's own request on the host its
 * neighbours leave: a move that broke a guest's policy would end the run
 * as invalid, never count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>

#include "play.h"

static int max_moves = 2;

void play_set_max_moves(int n)
{
	max_moves = n;
}

int play_max_moves(void)
{
	return max_moves;
}

int play_moves_decide(np_host *h, const np_request *q, np_plan **plans, int n, np_plan **out,
		      struct np_error *err)
{
	struct np_guest_plan *g = calloc((size_t)n + 1, sizeof(*g));
	struct np_moves_opts mo = { max_moves, 0, 0 };
	char (*ids)[16] = calloc((size_t)n + 1, sizeof(*ids));
	int k = 0, rc;

	if (!g || !ids) {
		free(g);
		free(ids);
		return NP_ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		if (!plans[i])
			continue;
		snprintf(ids[k], sizeof(ids[k]), "%d", i);
		g[k] = (struct np_guest_plan){ ids[k], plans[i], false };
		k++;
	}
	rc = np_place_with_moves(h, q, NULL, g, k, &mo, out, err);
	free(g);
	free(ids);
	return rc;
}

/* Whether P moves guest I (named by its index). */
static bool moves_guest(const np_plan *p, int i)
{
	char id[16];

	snprintf(id, sizeof(id), "%d", i);
	for (int m = 0; m < np_plan_move_count(p); m++)
		if (strcmp(np_plan_move(p, m)->guest, id) == 0)
			return true;
	return false;
}

/* Every moved guest's new plan on H, each validated with all its neighbours in place. */
static int swap_in(np_nova_case *c, np_host *h, np_plan **plans, np_plan **now, int n,
		   struct np_error *err)
{
	int rc = 0;

	for (int i = 0; i < n; i++)
		if (now[i])
			np_host_charge(h, plans[i], true, NULL); /* giving back never fails */
	for (int i = 0; i < n && !rc; i++)
		if (now[i])
			rc = np_host_charge(h, now[i], false, err);
	for (int i = 0; i < n && !rc; i++) {
		const np_request *req = NULL;

		if (!now[i])
			continue;
		np_host_charge(h, now[i], true, NULL);
		rc = np_nova_case_request(c, i, &req, err);
		if (!rc)
			rc = np_plan_validate(h, req, now[i], err);
		np_host_charge(h, now[i], false, NULL);
	}
	for (int i = 0; i < n && !rc; i++)
		if (now[i]) {
			np_plan_free(plans[i]);
			plans[i] = now[i];
			now[i] = NULL;
		}
	return rc;
}

int play_moves_apply(np_nova_case *c, np_host *h, const np_plan *p, np_plan **plans, int n,
		     struct np_error *err)
{
	np_plan **now = calloc((size_t)n + 1, sizeof(*now));
	int rc = now ? 0 : NP_ENOMEM;

	for (int i = 0; i < n && !rc; i++) {
		char id[16];

		snprintf(id, sizeof(id), "%d", i);
		if (plans[i] && moves_guest(p, i))
			rc = np_plan_after_moves(p, np_host_topo(h), id, plans[i], &now[i], err);
	}
	if (!rc)
		rc = swap_in(c, h, plans, now, n, err);
	for (int i = 0; now && i < n; i++)
		np_plan_free(now[i]);
	free(now);
	return rc;
}
