/*
 * play-age.c - the np-age placer of `np-bench play` (play.c), a bench-only
 * experiment for the churn family (docs/results.md, "thirteenth session"):
 * group guests by when they are expected to leave, so that a node empties
 * when its guests go together instead of being held by one late stayer.
 *
 * Each arrival, every assignment of the guest's cells to distinct nodes
 * that the fit accepts (np__fit_plan_nodes(), as the baselines use) is
 * scored by how much later it makes its nodes clear: a node clears when
 * the last guest on it leaves (an empty node: now), and placing a guest
 * expected to leave at D on a node clearing at E pushes that to D when
 * D > E (the extension, D - E).  Least total extension wins, then best fit
 * (least dedicated CPUs and memory left on the nodes used).
 *
 * When guests leave is not known online.  The estimate uses only what a
 * host sees: each guest's age (arrivals since it came) and the lifetimes
 * of the guests that have left, under a prior of lifetimes uniform on
 * 1 .. 2m (m their mean, from those seen): a guest of age a is expected to
 * stay (a + 1 + 2m) / 2 arrivals in all, a new one m.  Until some guest
 * has left there is nothing to go on and np_place()'s answer stands.
 * NP_BENCH_AGE_ORACLE=1 uses the true departures instead (the bound of the
 * idea, not a placer).  The prior is the generator's (lib/gen/gen.c); real
 * VM lifetimes are heavy-tailed (an older VM is likely to stay longer), so
 * a gain here would be the generator's, which is why this stays bench-only.
 */
#include <stdlib.h>
#include <string.h>

#include <numaplace/place.h>

#include "baselines.h"
#include "play.h"

struct age_best {
	np_plan *plan;
	double ext, left;
};

/* When the guest on PLANS[J] is expected to leave (in arrivals). */
static double leaves_at(const struct play_age *a, int j)
{
	double age = a->now - j, m = a->mean_life;

	if (a->oracle)
		return a->leave[j];
	return j + (age + 1 > (age + 1 + 2 * m) / 2 ? age + 1 : (age + 1 + 2 * m) / 2);
}

/* When each node clears: the last expected departure of a guest on it (empty: now). */
static void clears(const struct play_age *a, int nn, double *clear)
{
	for (int n = 0; n < nn; n++)
		clear[n] = a->now;
	for (int j = 0; j < a->now; j++) {
		const np_plan *p = a->plans[j];
		double d = p ? leaves_at(a, j) : 0;

		for (int k = 0; p && k < np_plan_cell_count(p); k++) {
			int n = np_plan_cell(p, k)->node_idx;

			clear[n] = d > clear[n] ? d : clear[n];
		}
	}
}

/* Best fit's measure: dedicated CPUs and memory left on NODES, as shares of each node. */
static double left_after(const np_host *h, const np_request *q, const int *nodes, int k)
{
	double s = 0;

	for (int c = 0; c < k; c++) {
		const struct np_host_node *n = np_host_node(h, nodes[c]);
		const struct np_guest_cell *g = np_request_cell(q, c);

		if (n->ndedicated)
			s += (double)(n->ndedicated - n->npinned - g->npcpus) / n->ndedicated;
		if (n->memory_mb)
			s += ((double)n->memory_mb - (double)n->memory_used_mb -
			      (double)g->memory_mb) / (double)n->memory_mb;
	}
	return s;
}

/* Every assignment of cells C.. to unused nodes; the best fitting one into B. */
static int assign(const np_host *h, const np_request *q, const double *clear, double d,
		  int *nodes, bool *used, int c, struct age_best *b, struct np_error *err)
{
	int k = np_request_cell_count(q), nn = np_topo_node_count(np_host_topo(h)), rc = 0;

	if (c == k) {
		np_plan *p = NULL;
		double ext = 0, left;

		if ((rc = bl_plan_nodes(h, q, nodes, NULL, NULL, &p, err)) || !np_plan_fits(p)) {
			np_plan_free(p);
			return rc;
		}
		for (int i = 0; i < k; i++)
			ext += d > clear[nodes[i]] ? d - clear[nodes[i]] : 0;
		left = left_after(h, q, nodes, k);
		if (!b->plan || ext < b->ext - 1e-9 || (ext < b->ext + 1e-9 && left < b->left)) {
			np_plan_free(b->plan);
			*b = (struct age_best){ p, ext, left };
		} else {
			np_plan_free(p);
		}
		return 0;
	}
	for (int n = 0; !rc && n < nn; n++) {
		if (used[n])
			continue;
		used[n] = true;
		nodes[c] = n;
		rc = assign(h, q, clear, d, nodes, used, c + 1, b, err);
		used[n] = false;
	}
	return rc;
}

int play_age_decide(np_host *h, const np_request *q, const struct play_age *a,
		    const struct np_place_opts *o, np_plan **out, struct np_error *err)
{
	int nn = np_topo_node_count(np_host_topo(h)), k = np_request_cell_count(q), rc;
	double *clear = calloc((size_t)nn, sizeof(double)), d;
	int *nodes = calloc((size_t)k + 1, sizeof(int));
	bool *used = calloc((size_t)nn, sizeof(bool));
	struct age_best b = { NULL, 0, 0 };

	if (!clear || !nodes || !used) {
		rc = NP_ENOMEM;
	} else if ((!a->oracle && a->mean_life <= 0) || nn > 16 || k > 4) {
		rc = np_place(h, q, o, out, err); /* nothing seen yet, or too many assignments */
	} else {
		clears(a, nn, clear);
		d = a->oracle ? a->leave[a->now] : a->now + a->mean_life;
		rc = assign(h, q, clear, d, nodes, used, 0, &b, err);
		if (!rc && !b.plan)
			rc = np_place(h, q, o, &b.plan, err); /* fits nowhere: its refusal */
		if (!rc)
			*out = b.plan;
		else
			np_plan_free(b.plan);
	}
	free(clear);
	free(nodes);
	free(used);
	return rc;
}
