/*
 * demand.c - the demand np_place() keeps room for (place.h, struct
 * np_demand; docs/policies/placement.md 4, term 6), built from the guests
 * a caller has seen: the one rule every caller shares (bench/play.c, the
 * state file's claims, the fleet scheduler), so that what users get is
 * what was tuned.  A guest AGE arrivals back weighs NP_DEMAND_DECAY^AGE:
 * on the tune seeds, shapes of guests long gone kept room nobody asked
 * for again (docs/results.md "Objective tuning").
 */
#include <stdbool.h>

#include <numaplace/limits.h>
#include <numaplace/place.h>

#define WEIGHT_MAX 1000.0

/* Past this age a weight is 0 in a double anyway (0.9^7100 < 2^-1074). */
#define AGE_MAX 8000

double np_demand_weight(int age)
{
	double w = 1;

	/* A product, not pow(): the weights bench/play.c was tuned with, to the bit. */
	for (int a = 0; a < age && a < AGE_MAX; a++)
		w *= NP_DEMAND_DECAY;
	return age >= AGE_MAX ? 0 : w;
}

static bool same_shape(const struct np_demand *a, const struct np_demand *b)
{
	return a->pinned == b->pinned && a->floating == b->floating &&
	       a->memory_mb == b->memory_mb && a->pagesize_kb == b->pagesize_kb;
}

/* In np_place()'s ranges (engine.c check_demand()); !(w >= 0) also refuses NaN. */
static bool in_range(const struct np_demand *d)
{
	return d->pinned >= 0 && d->floating >= 0 && d->pinned + 0LL + d->floating >= 1 &&
	       d->memory_mb >= 1 && d->memory_mb <= NP_MEMORY_MB_MAX &&
	       d->pagesize_kb <= NP_MEMORY_MB_MAX && d->weight >= 0 && d->weight <= WEIGHT_MAX;
}

int np_demand_add(struct np_demand *dem, int n, const struct np_demand *shape)
{
	int m = 0;

	if (!in_range(shape) || shape->weight == 0)
		return n;
	while (m < n && !same_shape(&dem[m], shape))
		m++;
	if (m < n)
		/* No fmin(): libnumaplace does not link libm in every build. */
		dem[m].weight = dem[m].weight + shape->weight < WEIGHT_MAX
					? dem[m].weight + shape->weight
					: WEIGHT_MAX;
	else if (n < NP_DEMAND_MAX)
		dem[n++] = *shape;
	return n;
}

/* The page size a request's cell is a shape of (the header says which). */
static uint64_t shape_pagesize(long pagesize)
{
	if (pagesize == NP_PAGESIZE_LARGE || pagesize == NP_PAGESIZE_ANY)
		return 2048;
	return pagesize > 4 ? (uint64_t)pagesize : 0;
}

int np_demand_add_request(struct np_demand *dem, int n, const np_request *req, double weight)
{
	for (int k = 0; req && k < np_request_cell_count(req); k++) {
		const struct np_guest_cell *g = np_request_cell(req, k);
		struct np_demand d = { g->npcpus, g->nvcpus, g->memory_mb,
				       shape_pagesize(g->pagesize), weight };

		n = np_demand_add(dem, n, &d);
	}
	return n;
}

int np_demand_add_plan(struct np_demand *dem, int n, const np_plan *plan, double weight)
{
	for (int k = 0; plan && np_plan_fits(plan) && k < np_plan_cell_count(plan); k++) {
		const struct np_plan_cell *c = np_plan_cell(plan, k);
		struct np_demand d = { c->npins, c->nfloat, c->memory_mb,
				       c->pagesize_kb > 4 ? c->pagesize_kb : 0, weight };

		n = np_demand_add(dem, n, &d);
	}
	return n;
}

int np_demand_from_requests(const np_request *const *reqs, int count, struct np_demand *dem)
{
	int n = 0;

	for (int i = 0; i < count; i++)
		n = np_demand_add_request(dem, n, reqs[i], np_demand_weight(count - 1 - i));
	return n;
}

int np_demand_add_flavors(struct np_demand *dem, int n, const np_flavors *flavors, double total)
{
	if (!(total > 0) || total > WEIGHT_MAX)
		return n;
	for (int i = 0; i < np_flavors_count(flavors); i++)
		n = np_demand_add_request(dem, n, np_flavors_request(flavors, i),
					  total * np_flavors_share(flavors, i));
	return n;
}
