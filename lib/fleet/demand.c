/*
 * demand.c - the demand the fleet scheduler gives the engine on every
 * host it tries (np_place_opts.demand; docs/policies/placement.md 4,
 * term 6; docs/fleet.md): the cell shapes of the last guests this
 * np_fleet was asked to schedule, the one being scheduled included, with
 * the shared recency rule of lib/place/demand.c.  A fleet's flavors are
 * few, so the shapes are few; the memory is bounded by FLEET_GUESTS
 * guests.  It lives as long as the np_fleet: `numaplace serve` keeps one
 * per worker for its whole run, a `numaplace schedule` sees only its own
 * guest.  With a flavor catalogue (np_fleet_sched_opts.flavors) the
 * demand is the ring's plus the catalogue's, by the shared rule
 * (np_demand_add_flavors(), NP_DEMAND_FLAVORS_WEIGHT); with no_demand as
 * well, the catalogue's alone.
 */
#include "fleet/fleet-int.h"

#include <stdlib.h>

#include <numaplace/place.h>

#include "util/util.h"

/* Guests remembered: 0.9^64 < 0.0012, so older ones would barely count. */
#define FLEET_GUESTS 64
/*
 * A guest's shapes are kept in the demand itself up to this many (most
 * flavors have one or two cells): a rebuild reads every guest's, and 64
 * small allocations apart missed the cache at each one.
 */
#define INLINE_CELLS 2

struct np__fleet_demand {
	int next, count;                     /* a ring of the last COUNT guests */
	struct np_demand *guest[FLEET_GUESTS]; /* each guest's shapes, weight 1: */
	int ncells[FLEET_GUESTS];
	struct np_demand inline_cells[FLEET_GUESTS][INLINE_CELLS]; /* in here, or allocated */
	int n;                               /* the demand built from them */
	struct np_demand shape[NP_DEMAND_MAX];
	int nmixed;                          /* with the catalogue: that and it */
	struct np_demand mixed[NP_DEMAND_MAX];
	/*
	 * np_demand_weight(AGE) for every age, once: it multiplies AGE times,
	 * and a rebuild at every schedule asked it 64 times (2,016 products).
	 */
	double weight[FLEET_GUESTS];
};

/* Guest slot I's shapes, unless they live in the demand itself. */
static void guest_free(struct np__fleet_demand *d, int i)
{
	if (d->guest[i] != d->inline_cells[i])
		free(d->guest[i]);
	d->guest[i] = NULL;
}

void np__fleet_demand_free(np_fleet *f)
{
	if (!f->demand)
		return;
	for (int i = 0; i < FLEET_GUESTS; i++)
		guest_free(f->demand, i);
	free(f->demand);
	f->demand = NULL;
}

static struct np__fleet_demand *demand_new(void)
{
	struct np__fleet_demand *d = np__calloc(1, sizeof(*d));

	for (int age = 0; d && age < FLEET_GUESTS; age++)
		d->weight[age] = np_demand_weight(age);
	return d;
}

/* The demand from the ring, the newest guest of age 0. */
static void rebuild(struct np__fleet_demand *d)
{
	d->n = 0;
	for (int age = d->count - 1; age >= 0; age--) {
		int g = (d->next - 1 - age + 2 * FLEET_GUESTS) % FLEET_GUESTS;

		for (int k = 0; k < d->ncells[g]; k++) {
			struct np_demand s = d->guest[g][k];

			s.weight = d->weight[age];
			d->n = np_demand_add(d->shape, d->n, &s);
		}
	}
}

/* The catalogue's demand on top of the ring's (none with NO_DEMAND). */
static void mix(struct np__fleet_demand *d, const np_flavors *flavors, bool no_demand)
{
	d->nmixed = no_demand ? 0 : d->n;
	for (int i = 0; i < d->nmixed; i++)
		d->mixed[i] = d->shape[i];
	d->nmixed = np_demand_add_flavors(d->mixed, d->nmixed, flavors, NP_DEMAND_FLAVORS_WEIGHT);
}

int np__fleet_demand_note(np_fleet *f, const np_request *req,
			  const struct np_fleet_sched_opts *o)
{
	int nc = np_request_cell_count(req), n;
	struct np_demand *cells;

	if (!f->demand && !(f->demand = demand_new()))
		return NP_ENOMEM;
	if (o->no_demand || nc < 1 || nc > NP_DEMAND_MAX) {
		if (o->flavors)
			mix(f->demand, o->flavors, o->no_demand);
		return 0;
	}
	cells = f->demand->inline_cells[f->demand->next];
	if (nc > INLINE_CELLS && !(cells = np__calloc((size_t)nc, sizeof(*cells))))
		return NP_ENOMEM;
	guest_free(f->demand, f->demand->next);
	n = np_demand_add_request(cells, 0, req, 1);
	f->demand->guest[f->demand->next] = cells;
	f->demand->ncells[f->demand->next] = n;
	f->demand->next = (f->demand->next + 1) % FLEET_GUESTS;
	if (f->demand->count < FLEET_GUESTS)
		f->demand->count++;
	rebuild(f->demand);
	if (o->flavors)
		mix(f->demand, o->flavors, false);
	return 0;
}

void np__fleet_demand_opts(const np_fleet *f, const struct np_fleet_sched_opts *o,
			   struct np_place_opts *po)
{
	bool on = f->demand && !o->no_demand;

	po->demand = on ? f->demand->shape : NULL;
	po->ndemand = on ? f->demand->n : 0;
	if (f->demand && o->flavors) {
		po->demand = f->demand->mixed;
		po->ndemand = f->demand->nmixed;
	}
}
