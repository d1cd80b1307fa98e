/*
 * fit.c - np_fleet_fit(): would a guest fit, and where, on each of a list
 * of hosts, without claiming anything.  This is what a scheduler that
 * keeps its own choice (Nova's filter, POST /v1/fit) asks: one answer per
 * host, from the same pre-filter and np_place() as np_fleet_schedule(),
 * on each host's usage as the store has it after a refresh.
 *
 * The answers copy what they need (names, node ids, reasons) and keep no
 * pointer into the fleet's summaries, so they outlive later calls on the
 * fleet.  Unknown host names are answers too: a caller asking about a
 * list it got elsewhere learns which names the fleet lacks.
 *
 * Pending copies: a scheduler placing several instances of one request
 * (Nova's multi-create) chooses a host for each in turn and claims
 * elsewhere, so the store does not yet hold the copies it chose.  With
 * np_fleet_fit_pending() it says how many copies of the guest it already
 * chose for each host; each is placed and charged to a private clone of
 * the host's usage before the question is answered for one more.  A host
 * on which the copies themselves no longer fit (the store changed since)
 * is answered no, saying so.
 */
#include "fleet/fleet-int.h"

#include <stdlib.h>
#include <string.h>

#include <numaplace/limits.h>

#include "util/util.h"

struct answer {
	char *host;
	enum np_fleet_fit_answer answer;
	int nnodes;
	int *nodes;   /* os ids, one per plan cell */
	char *reason; /* for no fit */
};

struct np_fleet_fits {
	int n;
	struct answer *a;
};

void np_fleet_fits_free(np_fleet_fits *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++) {
		free(r->a[i].host);
		free(r->a[i].nodes);
		free(r->a[i].reason);
	}
	free(r->a);
	free(r);
}

int np_fleet_fits_count(const np_fleet_fits *r)
{
	return r->n;
}

const char *np_fleet_fits_host(const np_fleet_fits *r, int i)
{
	return i >= 0 && i < r->n ? r->a[i].host : NULL;
}

enum np_fleet_fit_answer np_fleet_fits_answer(const np_fleet_fits *r, int i)
{
	return i >= 0 && i < r->n ? r->a[i].answer : NP_FLEET_FIT_UNKNOWN;
}

int np_fleet_fits_nodes(const np_fleet_fits *r, int i, const int **nodes)
{
	if (i < 0 || i >= r->n) {
		*nodes = NULL;
		return 0;
	}
	*nodes = r->a[i].nodes;
	return r->a[i].nnodes;
}

const char *np_fleet_fits_reason(const np_fleet_fits *r, int i)
{
	return i >= 0 && i < r->n ? r->a[i].reason : NULL;
}

/* A plan that fits: its nodes as os ids. */
static int take_nodes(struct answer *a, const struct np_fleet_host *h, const np_plan *plan)
{
	int n = np_plan_cell_count(plan);

	if (!(a->nodes = np__calloc((size_t)n + 1, sizeof(*a->nodes))))
		return NP_ENOMEM;
	for (int i = 0; i < n; i++)
		a->nodes[i] = np_topo_node(h->topo, np_plan_cell(plan, i)->node_idx)->os_id;
	a->nnodes = n;
	a->answer = NP_FLEET_FIT_YES;
	return 0;
}

/*
 * A clone of H's usage with PENDING copies of REQ charged into *OUT; *OUT
 * NULL and A answered no when copy K no longer fits.  NP_EINPUT from the
 * engine is left to the caller (the request cannot apply to this host).
 */
static int with_pending(const struct np_fleet_host *h, const np_request *req,
			const struct np_place_opts *opts, int pending, struct answer *a,
			np_host **out, struct np_error *e)
{
	np_host *c = NULL;
	int rc = np_host_clone(h->host, &c, e);

	for (int k = 0; !rc && k < pending; k++) {
		np_plan *plan = NULL;
		char text[160];

		if ((rc = np_place(c, req, opts, &plan, e)))
			break;
		if (!np_plan_fits(plan)) {
			snprintf(text, sizeof(text), "the %d pending %s of this guest no longer "
				 "fit%s (%d did)", pending, pending == 1 ? "copy" : "copies",
				 pending == 1 ? "s" : "", k);
			np_plan_free(plan);
			np_host_free(c);
			*out = NULL;
			return (a->reason = strdup(text)) ? 0 : NP_ENOMEM;
		}
		rc = np_host_charge(c, plan, false, e);
		np_plan_free(plan);
	}
	if (rc) {
		np_host_free(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

/* One known host: the pre-filter, then the engine on what passes (after PENDING copies). */
static int fit_one(const struct np_fleet_host *h, const struct np__needs *needs,
		   const np_request *req, const struct np_place_opts *opts, int pending,
		   struct answer *a, struct np_error *err)
{
	struct np__why_key why;
	struct np_error e = { 0 };
	np_plan *plan = NULL;
	np_host *scratch = NULL;
	char text[256];
	const char *says;
	int rc;

	a->answer = NP_FLEET_FIT_NO;
	if (!np__prefilter(h, needs, &why)) {
		np__reason_text(needs, why, text, sizeof(text));
		return (a->reason = strdup(text)) ? 0 : NP_ENOMEM;
	}
	rc = pending > 0 ? with_pending(h, req, opts, pending, a, &scratch, &e) : 0;
	if (!rc && pending > 0 && !scratch)
		return 0; /* the pending copies no longer fit: answered */
	if (!rc)
		rc = np_place(scratch ? scratch : h->host, req, opts, &plan, &e);
	np_host_free(scratch);
	if (rc == NP_EINPUT) /* the request cannot apply to this host (xl pnode=): no fit here */
		return (a->reason = strdup(e.message)) ? 0 : NP_ENOMEM;
	if (rc) {
		if (err)
			*err = e;
		return rc;
	}
	if (np_plan_fits(plan)) {
		rc = take_nodes(a, h, plan);
	} else {
		says = np_plan_no_fit_summary(plan);
		rc = (a->reason = strdup(says ? says : "no placement")) ? 0 : NP_ENOMEM;
	}
	np_plan_free(plan);
	return rc;
}

static int answer_all(np_fleet *f, const np_request *req, const char *const *names,
		      const int *pending, const struct np_place_opts *opts, np_fleet_fits *r,
		      struct np_error *err)
{
	struct np__needs needs;
	int rc = np__needs_of(req, &needs);

	if (rc)
		return np__err(err, rc, "out of memory");
	for (int i = 0; i < r->n && !rc; i++) {
		const struct np_fleet_host *h = names ? np_fleet_host_find(f, names[i])
						      : np_fleet_host_at(f, i);
		struct answer *a = &r->a[i];

		if (!(a->host = strdup(names ? names[i] : h->name))) {
			rc = np__err(err, NP_ENOMEM, "out of memory");
			break;
		}
		if (!h) {
			a->answer = NP_FLEET_FIT_UNKNOWN;
			continue;
		}
		rc = fit_one(h, &needs, req, opts, pending ? pending[i] : 0, a, err);
		if (rc == NP_ENOMEM && (!err || !err->code))
			np__err(err, rc, "out of memory");
	}
	np__needs_free(&needs);
	return rc;
}

int np_fleet_fit(np_fleet *f, const np_request *req, const char *const *names, int n,
		 const struct np_place_opts *opts, np_fleet_fits **out, struct np_error *err)
{
	return np_fleet_fit_pending(f, req, names, NULL, n, opts, out, err);
}

int np_fleet_fit_pending(np_fleet *f, const np_request *req, const char *const *names,
			 const int *pending, int n, const struct np_place_opts *opts,
			 np_fleet_fits **out, struct np_error *err)
{
	np_fleet_fits *r;
	int rc;

	if (names && (n < 0 || n > NP_FLEET_FIT_MAX))
		return np__err(err, NP_EINPUT, "%d hosts asked: at most %d", n, NP_FLEET_FIT_MAX);
	if (pending && !names)
		return np__err(err, NP_EINPUT, "pending copies need the hosts' names");
	for (int i = 0; names && i < n; i++) {
		if (!names[i])
			return np__err(err, NP_EINPUT, "host %d has no name", i);
		if (pending && (pending[i] < 0 || pending[i] > NP_FLEET_FIT_PENDING_MAX))
			return np__err(err, NP_EINPUT, "host '%s': %d pending copies (0 to %d)",
				       names[i], pending[i], NP_FLEET_FIT_PENDING_MAX);
	}
	if ((rc = np_fleet_refresh(f, err)))
		return rc;
	if (!names)
		n = np_fleet_host_count(f);
	if (!(r = np__calloc(1, sizeof(*r))) ||
	    !(r->a = np__calloc((size_t)n + 1, sizeof(*r->a)))) {
		free(r);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	r->n = n;
	rc = answer_all(f, req, names, pending, opts, r, err);
	if (rc) {
		np_fleet_fits_free(r);
		return rc;
	}
	*out = r;
	return 0;
}
