/*
 * check.c - np_fleet_check(): the fleet's invariant checker, the proof
 * that the store's usage is nothing but the sum of its live placements.
 *
 * Everything is read in one snapshot of the store (the driver's
 * snapshot()), independently of the scheduler's summaries, then for every
 * host: its capacity rows must be those its topology and ratios give
 * (np__ledger_of_host of an empty host); what each placement's stored
 * plan takes is computed again from the plan (np__takes_of) and must equal
 * the placement's stored takes; the sum over a host's placements must
 * equal every row's used amount; the pins must be exactly the pins the
 * plans name, each once, on a dedicated CPU of its node; the ledger
 * invariants hold (np__ledger_check: nothing over capacity) and the
 * engine's view built from it passes np_host_check().
 */
#include "fleet/fleet-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct chost {
	int64_t id;
	char *name;
	int64_t topo_id;
	double cpu_ratio, ram_ratio;
	np__ledger *stored; /* rows and pins as the store has them */
	np__ledger *want;   /* capacity of the topology, used = sum of the plans */
	np_host *empty;
};

struct cplace {
	char *id;
	int64_t host_id;
	char *plan;
};

struct calloc_ {
	char *placement;
	int node;
	char rc[NP__RC_MAX];
	int64_t amount;
};

struct cpin {
	int64_t host_id;
	int cpu, node;
	char *placement;
};

struct chk {
	np_fleet *f;
	struct np_error *err;
	struct chost *hosts;
	int nhosts;
	size_t hcap;
	struct cplace *places;
	int nplaces;
	size_t pcap;
	struct calloc_ *allocs;
	int nallocs;
	size_t acap;
	struct cpin *pins, *want_pins;
	int npins, nwant_pins;
	int ntakes; /* rows all plans take: must be every stored take */
	size_t pincap, wpcap;
};

static int oom(struct chk *c)
{
	return np__err(c->err, NP_ENOMEM, "out of memory");
}

static struct chost *chost_of(const struct chk *c, int64_t id)
{
	int lo = 0, hi = c->nhosts - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (c->hosts[mid].id == id)
			return &c->hosts[mid];
		if (c->hosts[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* ---- reading everything ---------------------------------------------------- */

static int got_host(void *p, const struct np__host_rec *r)
{
	struct chk *c = p;
	struct chost *h;

	if (np__grow((void **)&c->hosts, &c->hcap, (size_t)c->nhosts + 1, sizeof(*c->hosts)))
		return oom(c);
	h = &c->hosts[c->nhosts];
	*h = (struct chost){ .id = r->id, .topo_id = r->topo_id, .cpu_ratio = r->cpu_ratio,
			     .ram_ratio = r->ram_ratio };
	if (!(h->name = strdup(r->name)) || !(h->stored = np__ledger_new()))
		return free(h->name), oom(c);
	c->nhosts++;
	return 0;
}

static int cmp_chost(const void *a, const void *b)
{
	const struct chost *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int got_row(void *p, int64_t id, const struct np__row *r)
{
	struct chk *c = p;
	struct chost *h = chost_of(c, id);

	if (!h)
		return np__err(c->err, NP_EINPUT, "the store has ledger rows of host id %lld, "
			       "which does not exist", (long long)id);
	return np__ledger_add_row(h->stored, r) ? oom(c) : 0;
}

static int got_pin(void *p, int64_t id, int cpu, int node, const char *placement)
{
	struct chk *c = p;
	struct cpin *x;

	if (np__grow((void **)&c->pins, &c->pincap, (size_t)c->npins + 1, sizeof(*c->pins)))
		return oom(c);
	x = &c->pins[c->npins];
	*x = (struct cpin){ id, cpu, node, strdup(placement ? placement : "") };
	if (!x->placement)
		return oom(c);
	c->npins++;
	return 0;
}

static int got_ledger_pin(void *p, int64_t id, int cpu, int node, const char *placement)
{
	struct chk *c = p;
	struct chost *h = chost_of(c, id);

	(void)placement;
	if (!h)
		return np__err(c->err, NP_EINPUT, "the store has pins of host id %lld, which does "
			       "not exist", (long long)id);
	return np__ledger_add_pin(h->stored, cpu, node) ? oom(c) : 0;
}

static int got_gen(void *p, const struct np__host_rec *r)
{
	(void)p;
	(void)r;
	return 0;
}

static int got_place(void *p, const struct np__placement_rec *r)
{
	struct chk *c = p;
	struct cplace *x;

	if (np__grow((void **)&c->places, &c->pcap, (size_t)c->nplaces + 1, sizeof(*c->places)))
		return oom(c);
	x = &c->places[c->nplaces];
	*x = (struct cplace){ strdup(r->id), r->host_id, strdup(r->plan) };
	c->nplaces++;
	return x->id && x->plan ? 0 : oom(c);
}

static int got_alloc(void *p, const char *placement, int node, const char *rc, int64_t amount)
{
	struct chk *c = p;
	struct calloc_ *x;

	if (np__grow((void **)&c->allocs, &c->acap, (size_t)c->nallocs + 1, sizeof(*c->allocs)))
		return oom(c);
	x = &c->allocs[c->nallocs];
	*x = (struct calloc_){ strdup(placement), node, "", amount };
	snprintf(x->rc, sizeof(x->rc), "%s", rc);
	c->nallocs++;
	return x->placement ? 0 : oom(c);
}

static int read_all(struct chk *c)
{
	const struct np__store_driver *d = c->f->drv;
	struct np__store *s = c->f->s;
	int rc = d->snapshot(s, true, c->err);

	if (!rc)
		rc = d->hosts(s, NULL, got_host, c, c->err);
	if (!rc) {
		if (c->nhosts > 1)
			qsort(c->hosts, (size_t)c->nhosts, sizeof(*c->hosts), cmp_chost);
		rc = d->ledgers(s, -1, got_row, got_ledger_pin, got_gen, c, c->err);
	}
	if (!rc)
		rc = d->placements(s, NULL, -1, got_place, c, c->err);
	if (!rc)
		rc = d->allocations(s, got_alloc, got_pin, c, c->err);
	d->snapshot(s, false, NULL);
	return rc;
}

/* ---- comparing ------------------------------------------------------------- */

static int cmp_alloc(const void *a, const void *b)
{
	const struct calloc_ *x = a, *y = b;
	int k = strcmp(x->placement, y->placement);

	return k ? k : np__row_cmp(x->node, x->rc, y->node, y->rc);
}

static int cmp_cpin(const void *a, const void *b)
{
	const struct cpin *x = a, *y = b;

	if (x->host_id != y->host_id)
		return x->host_id < y->host_id ? -1 : 1;
	return (x->cpu > y->cpu) - (x->cpu < y->cpu);
}

/* The capacity a host's topology and ratios give, nothing used. */
static int expected(struct chk *c, struct chost *h)
{
	struct np_fleet_host fh = { .name = h->name, .cpu_ratio = h->cpu_ratio,
				    .ram_ratio = h->ram_ratio };
	int rc = np__fleet_topo(c->f, h->topo_id, &fh.topo, &fh.tmpl, c->err);

	if (!rc)
		rc = np__fleet_empty_host(&fh, &h->empty, c->err);
	if (!rc)
		rc = np__ledger_of_host(h->empty, &h->want, c->err);
	np__ledger_sort(h->stored);
	return rc;
}

/* Placement P's stored takes (the slice of allocs) against TAKES. */
static int same_takes(struct chk *c, const struct cplace *p, const struct np__takes *t)
{
	int lo = 0, hi = c->nallocs, n = 0;

	while (lo < hi) { /* first alloc of P */
		int mid = (lo + hi) / 2;

		if (strcmp(c->allocs[mid].placement, p->id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int i = lo; i < c->nallocs && strcmp(c->allocs[i].placement, p->id) == 0; i++, n++) {
		const struct calloc_ *a = &c->allocs[i];

		if (n >= t->ntakes || t->takes[n].node != a->node || strcmp(t->takes[n].rc, a->rc) ||
		    t->takes[n].amount != a->amount)
			return np__err(c->err, NP_EINPUT, "placement '%.200s': the store says it "
				       "takes %lld of node %d %s; its plan says otherwise",
				       p->id, (long long)a->amount, a->node, a->rc);
	}
	if (n != t->ntakes)
		return np__err(c->err, NP_EINPUT, "placement '%.200s': its plan takes %d rows, the "
			       "store records %d", p->id, t->ntakes, n);
	return 0;
}

static int add_want(struct chk *c, struct chost *h, const struct cplace *p,
		    const struct np__takes *t)
{
	c->ntakes += t->ntakes;
	for (int i = 0; i < t->ntakes; i++) {
		struct np__row *r = (struct np__row *)np__ledger_find(h->want, t->takes[i].node,
								     t->takes[i].rc);

		if (!r)
			return np__err(c->err, NP_EINPUT, "placement '%.200s' takes node %d %s, "
				       "which host '%s' does not have", p->id, t->takes[i].node,
				       t->takes[i].rc, h->name);
		r->used += t->takes[i].amount;
	}
	for (int i = 0; i < t->npins; i++) {
		if (np__grow((void **)&c->want_pins, &c->wpcap, (size_t)c->nwant_pins + 1,
			     sizeof(*c->want_pins)))
			return oom(c);
		c->want_pins[c->nwant_pins++] =
		    (struct cpin){ h->id, t->pins[i].cpu, t->pins[i].node, p->id };
	}
	return 0;
}

static int check_placement(struct chk *c, const struct cplace *p)
{
	struct chost *h = chost_of(c, p->host_id);
	struct np__takes t = { 0 };
	struct np_error e = { 0 };
	np_plan *plan = NULL;
	int rc;

	if (!h)
		return np__err(c->err, NP_EINPUT, "placement '%.200s' is on host id %lld, which "
			       "does not exist", p->id, (long long)p->host_id);
	if (np_plan_from_json(np_host_topo(h->empty), p->plan, strlen(p->plan), "its plan",
			      &plan, &e) ||
	    np__takes_of(h->empty, plan, NULL, &t, &e))
		rc = np__err(c->err, NP_EINPUT, "placement '%.200s' on host '%s': %s", p->id,
			     h->name, e.message);
	else if (!(rc = same_takes(c, p, &t)))
		rc = add_want(c, h, p, &t);
	np__takes_free(&t);
	np_plan_free(plan);
	return rc;
}

static int compare_rows(struct chk *c, const struct chost *h)
{
	const np__ledger *s = h->stored, *w = h->want;

	for (int i = 0; i < s->nrows || i < w->nrows; i++) {
		const struct np__row *a = i < s->nrows ? &s->rows[i] : NULL;
		const struct np__row *b = i < w->nrows ? &w->rows[i] : NULL;

		if (!a || !b || np__row_cmp(a->node, a->rc, b->node, b->rc))
			return np__err(c->err, NP_EINPUT, "host '%s': node %d %s is %s", h->name,
				       a ? a->node : b->node, a ? a->rc : b->rc,
				       a && (!b || np__row_cmp(a->node, a->rc, b->node, b->rc) < 0)
					   ? "in the store, not in its topology"
					   : "in its topology, not in the store");
		if (a->total != b->total || a->cap != b->cap)
			return np__err(c->err, NP_EINPUT, "host '%s': node %d %s: capacity %lld/%lld "
				       "in the store, %lld/%lld by its topology", h->name, a->node,
				       a->rc, (long long)a->total, (long long)a->cap,
				       (long long)b->total, (long long)b->cap);
		if (a->used != b->used)
			return np__err(c->err, NP_EINPUT, "host '%s': node %d %s: %lld used in the "
				       "store, but its placements take %lld", h->name, a->node,
				       a->rc, (long long)a->used, (long long)b->used);
	}
	return 0;
}

static int compare_pins(struct chk *c)
{
	if (c->npins > 1)
		qsort(c->pins, (size_t)c->npins, sizeof(*c->pins), cmp_cpin);
	if (c->nwant_pins > 1)
		qsort(c->want_pins, (size_t)c->nwant_pins, sizeof(*c->want_pins), cmp_cpin);
	for (int i = 1; i < c->nwant_pins; i++)
		if (!cmp_cpin(&c->want_pins[i], &c->want_pins[i - 1]))
			return np__err(c->err, NP_EINPUT, "CPU %d of host id %lld is pinned by both "
				       "'%.100s' and '%.100s'", c->want_pins[i].cpu,
				       (long long)c->want_pins[i].host_id, c->want_pins[i - 1].placement,
				       c->want_pins[i].placement);
	for (int i = 0; i < c->npins || i < c->nwant_pins; i++) {
		const struct cpin *a = i < c->npins ? &c->pins[i] : NULL;
		const struct cpin *b = i < c->nwant_pins ? &c->want_pins[i] : NULL;

		if (!a || !b || cmp_cpin(a, b) || a->node != b->node ||
		    strcmp(a->placement, b->placement))
			return np__err(c->err, NP_EINPUT, "pinned CPU %d (host id %lld): the store "
				       "and the plans disagree (%s)", a ? a->cpu : b->cpu,
				       (long long)(a ? a->host_id : b->host_id),
				       !a ? "a plan's pin is missing" : !b ? "a pin no plan names"
								       : "different holders");
	}
	return 0;
}

/* The stored ledger's own invariants and the engine's view of it. */
static int check_host(struct chk *c, const struct chost *h)
{
	struct np_error e = { 0 };
	np_host *v = NULL;
	int rc = compare_rows(c, h);

	if (!rc && np__ledger_check(h->stored, &e))
		rc = np__err(c->err, NP_EINPUT, "host '%s': %s", h->name, e.message);
	if (!rc && (np_host_clone(h->empty, &v, &e) || np__ledger_to_host(h->stored, v, &e) ||
		    np_host_check(v, &e)))
		rc = np__err(c->err, NP_EINPUT, "host '%s': %s", h->name, e.message);
	np_host_free(v);
	return rc;
}

static void chk_free(struct chk *c)
{
	for (int i = 0; i < c->nhosts; i++) {
		free(c->hosts[i].name);
		np__ledger_free(c->hosts[i].stored);
		np__ledger_free(c->hosts[i].want);
		np_host_free(c->hosts[i].empty);
	}
	for (int i = 0; i < c->nplaces; i++) {
		free(c->places[i].id);
		free(c->places[i].plan);
	}
	for (int i = 0; i < c->nallocs; i++)
		free(c->allocs[i].placement);
	for (int i = 0; i < c->npins; i++)
		free(c->pins[i].placement);
	free(c->hosts);
	free(c->places);
	free(c->allocs);
	free(c->pins);
	free(c->want_pins);
}

int np_fleet_check(np_fleet *f, struct np_fleet_check_stats *stats, struct np_error *err)
{
	struct chk c = { .f = f, .err = err };
	int rc = read_all(&c);

	for (int i = 0; i < c.nhosts && !rc; i++)
		rc = expected(&c, &c.hosts[i]);
	if (!rc && c.nallocs > 1)
		qsort(c.allocs, (size_t)c.nallocs, sizeof(*c.allocs), cmp_alloc);
	for (int i = 0; i < c.nplaces && !rc; i++)
		rc = check_placement(&c, &c.places[i]);
	for (int i = 0; i < c.nhosts && !rc; i++)
		rc = check_host(&c, &c.hosts[i]);
	if (!rc)
		rc = compare_pins(&c);
	if (!rc && c.ntakes != c.nallocs)
		rc = np__err(err, NP_EINPUT, "the store records %d takes of placements; the plans "
			     "of its placements take %d", c.nallocs, c.ntakes);
	if (!rc && stats) {
		*stats = (struct np_fleet_check_stats){ c.nhosts, c.nplaces, 0, c.npins };
		for (int i = 0; i < c.nhosts; i++)
			stats->rows += c.hosts[i].stored->nrows;
	}
	chk_free(&c);
	return rc;
}
