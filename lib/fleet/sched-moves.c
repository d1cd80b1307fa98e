/*
 * sched-moves.c - making room in the fleet: the store's part of a
 * schedule with moves (np_fleet_sched_opts.allow_moves; sched.c chooses
 * the host).
 *
 * On one host: read its placements and its ledger again from one read
 * snapshot (so the engine's view charges exactly the placements the moves
 * may name), keep each placement's plan JSON as the store holds it, and
 * run np_place_with_moves() on them.  Claiming: each moved placement's
 * new plan (np_plan_after_moves()) and what it takes, then the driver's
 * claim_moves, which in the claim's one transaction checks each moved
 * placement still holds the JSON the moves were computed from, swaps its
 * plan, takes and pins, and charges the new placement (store.h).  A
 * placement released, moved or re-claimed meanwhile makes the claim
 * NP__MOVED, and the scheduler chooses again: nothing is half-written.
 * Under a deadline (np_fleet_set_deadline, the service's --write-deadline)
 * the claim is bounded as group.c bounds a claim it runs alone
 * (claim_by_deadline()).
 */
#include "fleet/fleet-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct host_read {
	struct np_fleet_host *h;
	struct np__mfit *m;
	size_t cap, rcap; /* of M's guests and raw */
	struct np_error *err;
};

void np__mfit_free(struct np__mfit *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->nguests; i++) {
		free((char *)m->guests[i].id);
		np_plan_free((np_plan *)m->guests[i].plan);
		free(m->raw[i]);
	}
	free(m->guests);
	free(m->raw);
	np_plan_free(m->plan);
	*m = (struct np__mfit){ 0 };
}

static int one_guest(void *p, const struct np__placement_rec *r)
{
	struct host_read *c = p;
	struct np__mfit *m = c->m;
	np_plan *plan = NULL;
	struct np_error e = { 0 };
	char name[300];

	if (np__grow((void **)&m->guests, &c->cap, (size_t)m->nguests + 1, sizeof(*m->guests)) ||
	    np__grow((void **)&m->raw, &c->rcap, (size_t)m->nguests + 1, sizeof(*m->raw)))
		return np__err(c->err, NP_ENOMEM, "out of memory");
	snprintf(name, sizeof(name), "placement '%.200s'", r->id);
	if (np_plan_from_json(c->h->topo, r->plan, strlen(r->plan), name, &plan, &e))
		return np__err(c->err, NP_EINPUT, "the store's %s", e.message);
	m->guests[m->nguests] = (struct np_guest_plan){ strdup(r->id), plan, false };
	m->raw[m->nguests] = strdup(r->plan);
	m->nguests++;
	if (!m->guests[m->nguests - 1].id || !m->raw[m->nguests - 1])
		return np__err(c->err, NP_ENOMEM, "out of memory");
	return 0;
}

/* H's ledger and placements from one snapshot; H may be dropped (gone from the store). */
static int read_host(np_fleet *f, int64_t host_id, struct np__mfit *m, struct np_error *err)
{
	struct np_fleet_host *h = np__fleet_by_id(f, host_id);
	struct host_read c = { h, m, 0, 0, err };
	int rc;

	if (!h)
		return 0;
	if ((rc = f->drv->snapshot(f->s, true, err)))
		return rc;
	rc = np__fleet_reload(f, h, err);
	f->changed++;
	if (!rc && (h = np__fleet_by_id(f, host_id)) != NULL) {
		c.h = h;
		rc = f->drv->placements(f->s, NULL, host_id, one_guest, &c, err);
		m->h = h;
	}
	f->drv->snapshot(f->s, false, NULL);
	return rc;
}

int np__moves_on_host(np_fleet *f, int64_t host_id, const np_request *req,
		      const struct np_place_opts *po, const struct np_moves_opts *mo,
		      struct np__mfit *out, struct np_error *err)
{
	struct np__mfit m = { 0 };
	np_plan *plan = NULL;
	int rc = read_host(f, host_id, &m, err);

	if (!rc && m.h)
		rc = np_place_with_moves(m.h->host, req, po, m.guests, m.nguests, mo, &plan, err);
	if (!rc && plan && np_plan_fits(plan)) {
		m.plan = plan;
		*out = m;
		return 0;
	}
	np_plan_free(plan);
	np__mfit_free(&m);
	return rc;
}

/* Is guest I of M moved by its plan? */
static bool is_moved(const struct np__mfit *m, int i)
{
	for (int k = 0; k < np_plan_move_count(m->plan); k++)
		if (strcmp(np_plan_move(m->plan, k)->guest, m->guests[i].id) == 0)
			return true;
	return false;
}

struct moved_all {
	int n;
	struct np__moved *mv;
	struct np__takes *takes;
	char **json;
};

static void moved_free(struct moved_all *a)
{
	for (int i = 0; i < a->n; i++) {
		np__takes_free(&a->takes[i]);
		free(a->json[i]);
	}
	free(a->mv);
	free(a->takes);
	free(a->json);
}

/* Each moved placement: its old JSON, its new plan's JSON and takes; by id (lock order). */
static int moved_of(const struct np__mfit *m, struct moved_all *a, struct np_error *err)
{
	size_t n = (size_t)m->nguests + 1;

	a->mv = np__calloc(n, sizeof(*a->mv));
	a->takes = np__calloc(n, sizeof(*a->takes));
	a->json = np__calloc(n, sizeof(*a->json));
	if (!a->mv || !a->takes || !a->json)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < m->nguests; i++) {
		np_plan *now = NULL;
		int k = a->n, rc;

		if (!is_moved(m, i))
			continue;
		rc = np_plan_after_moves(m->plan, m->h->topo, m->guests[i].id, m->guests[i].plan,
					 &now, err);
		if (!rc)
			rc = np__takes_of(m->h->host, now, NULL, &a->takes[k], err);
		if (!rc)
			rc = np__fleet_plan_json(now, &a->json[k], err);
		np_plan_free(now);
		a->n++;
		if (rc)
			return rc;
		a->mv[k] = (struct np__moved){ m->guests[i].id, m->raw[i], a->json[k], &a->takes[k] };
	}
	/* Placements are listed by id (the driver's order): the moved ones stay sorted. */
	return 0;
}

/*
 * C with A's moves through the driver's claim_moves, under F's deadline
 * (np_fleet_set_deadline) as group.c runs a claim alone: not begun after
 * it, and the driver's waits for the write lock (SQLite's hand-off lock;
 * PostgreSQL's row locks, which it also keeps from committing after the
 * deadline) end at it.  Late: "deadline_exceeded", nothing made.
 */
static int claim_by_deadline(np_fleet *f, const struct np__claim *c, const struct moved_all *a,
			     struct np__claim_result *cr, struct np_error *err)
{
	int rc;

	if (!f->deadline)
		return f->drv->claim_moves(f->s, c, a->mv, a->n, cr, err);
	if (np__now_ns() > f->deadline)
		return np__err_reason(err, NP_EOS, "deadline_exceeded", "'%.200s' was not claimed: "
				      "its deadline passed before its moves could be claimed", c->id);
	if (f->drv->wait_until)
		f->drv->wait_until(f->s, f->deadline);
	rc = f->drv->claim_moves(f->s, c, a->mv, a->n, cr, err);
	if (f->drv->wait_until)
		f->drv->wait_until(f->s, 0);
	return rc;
}

int np__moves_claim(np_fleet *f, const char *id, const char *fp, const np_request *req,
		    const struct np__mfit *m, struct np__claim_result *cr, struct np_error *err)
{
	struct moved_all a = { 0 };
	struct np__takes t = { 0 };
	char *json = NULL;
	int rc = moved_of(m, &a, err);

	if (!rc)
		rc = np__takes_of(m->h->host, m->plan, req, &t, err);
	if (!rc)
		rc = np__fleet_plan_json(m->plan, &json, err);
	if (!rc) {
		struct np__claim c = { id, m->h->id, fp, json, &t };

		rc = claim_by_deadline(f, &c, &a, cr, err);
	}
	/* Other placements changed: read the host again rather than charge the summary. */
	if (!rc)
		np__fleet_stale(f, m->h, INT64_MAX);
	f->changed++;
	np__takes_free(&t);
	free(json);
	moved_free(&a);
	return rc;
}
