/*
 * placements.c - /v1/placements: schedule and claim a guest in one step
 * (POST), read one (GET), release one (DELETE).
 *
 * The guest's body is read by guest.c.  Idempotent per id: the same
 * request again answers 200 with the placement; another request under the
 * id is a 409 conflict.
 *
 * A POST or DELETE is made only if its claim or release begins within
 * the write deadline of the request's arrival (--write-deadline, shorter
 * than --timeout, after which the watchdog cuts the connection):
 * otherwise 503 deadline_exceeded, and nothing was made.  So a client
 * that gave up (or was cut off) and asked another replica, and maybe
 * released the placement there, cannot have this request land after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc.h"

static void answer_result(struct svc_resp *rs, const np_fleet_result *r)
{
	struct np_error err = { 0 };
	json_t *reasons;

	if (np_fleet_result_placed(r)) {
		if (svc_plan_answer(rs, np_fleet_result_existing(r) ? 200 : 201,
				    np_fleet_result_id(r), np_fleet_result_host(r),
				    np_fleet_result_plan(r), np_fleet_result_usage(r),
				    np_fleet_result_plan_json(r), &err))
			svc_error(rs, "internal", "%s", err.message);
		return;
	}
	reasons = json_array();
	for (int i = 0; reasons && i < np_fleet_result_reason_count(r); i++) {
		int n = 0;
		const char *t = np_fleet_result_reason(r, i, &n);

		json_array_append_new(reasons, json_pack("{s:i,s:s}", "hosts", n, "reason", t));
	}
	svc_error_with(rs, "no_valid_host", "reasons", reasons, "no host fits '%s' (%d host%s)",
		       np_fleet_result_id(r), np_fleet_result_stats(r)->hosts,
		       np_fleet_result_stats(r)->hosts == 1 ? "" : "s");
}

void svc_placement_post(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	struct np_fleet_sched_opts o = { .strategy = NP_STRATEGY_SPREAD };
	struct svc_guest g = { 0 };
	np_fleet_result *r = NULL;
	np_fleet *f = NULL;
	int rc = 0;

	if (svc_guest_parse(rq->body, rq->body_len, &g, rs))
		return;
	o.host = g.host;
	o.allow_moves = g.allow_moves;
	o.flavors = svc_flavors(rq->svc);
	if (!(f = svc_fleet_get(rq->svc, &err))) {
		rc = err.code;
	} else {
		svc_fleet_deadline(rq, f);
		rc = np_fleet_schedule(f, g.id, g.req, &o, &r, &err);
	}
	if (rc) {
		svc_error_np(rs, &err);
		goto out;
	}
	svc_metrics_schedule(svc_metrics(rq->svc), np_fleet_result_stats(r)->attempts,
			     np_fleet_result_placed(r));
	answer_result(rs, r);
out:
	np_fleet_result_free(r);
	svc_fleet_put(rq->svc, f, svc_fleet_rc(rc, &err));
	svc_guest_free(&g);
}

void svc_placement_get(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	np_fleet *f = svc_fleet_get(rq->svc, &err);
	np_fleet_placement *p = NULL;
	const np_fleet_host *h;
	json_t *plan, *obs, *drift;
	int rc = f ? np_fleet_placement_get(f, rq->arg, &p, &err) : err.code;

	if (rc)
		svc_error_np(rs, &err);
	else if (!p)
		svc_error(rs, "not_found", "no placement '%s'", rq->arg);
	else if (!(h = np_fleet_host_find(f, np_fleet_placement_host(p))))
		svc_error(rs, "not_found", "placement '%s': its host is gone", rq->arg);
	else if ((rc = svc_observed_json(f, p, np_host_topo(np_fleet_host_usage(h)), &obs, &drift,
					 &err)))
		svc_error_np(rs, &err);
	else if (!(plan = svc_plan_json(np_fleet_placement_plan(p), np_fleet_host_usage(h), &err)))
		svc_error(rs, "internal", "%s", err.message), json_decref(obs), json_decref(drift);
	else
		svc_json(rs, 200,
			 json_pack("{s:s,s:s,s:o,s:o,s:o}", "id", np_fleet_placement_id(p), "host",
				   np_fleet_placement_host(p), "plan", plan, "observed", obs,
				   "drift", drift));
	np_fleet_placement_free(p);
	svc_fleet_put(rq->svc, f, rc);
}

/*
 * Placement ID is not in the store (read on another handle; false when
 * that cannot be told).  A release that failed on a store error may
 * have committed all the same: the connection lost after the commit, or
 * an answer the driver could not read (a tampered row), which answered
 * 503 and then 404 to the client's retry.
 */
static bool gone_after_all(struct svc *s, const char *id)
{
	struct np_error err = { 0 };
	np_fleet_placement *p = NULL;
	np_fleet *f = svc_fleet_get(s, &err);
	int rc = f ? np_fleet_placement_get(f, id, &p, &err) : err.code;

	svc_fleet_put(s, f, rc);
	np_fleet_placement_free(p);
	return !rc && !p;
}

/*
 * A release the store failed (not a missed deadline: that one began
 * nothing) is judged by what the store says it did (ERR's reason) and a
 * read of the placement on another handle:
 * - "release_unread" (committed, its answer unreadable): released, 204;
 * - "outcome_unknown" (the connection lost after the commit was sent):
 *   gone now is 204 (most likely this release's; an id that never
 *   existed cannot be told from it), there still is 503;
 * - any other failure changed nothing: gone now is 404 (what a working
 *   store answers: never there, or released by another request), there
 *   still is 503.
 * A 204 after a failure writes one line in the log saying what the store did.
 * *FOUND and the return: as np_fleet_release answers them.
 */
static int judge_failed_release(struct svc_req *rq, struct np_error *err, bool *found)
{
	bool unread = !strcmp(err->reason, "release_unread");
	bool unknown = !strcmp(err->reason, "outcome_unknown");

	if (!unread && !gone_after_all(rq->svc, rq->arg))
		return err->code;
	if (unread || unknown)
		svc_log(rq->svc, "placement_delete '%.255s': released, though the store's "
			"answer failed: %s", rq->arg, err->message);
	*found = unread || unknown;
	return 0;
}

void svc_placement_delete(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	np_fleet *f = svc_fleet_get(rq->svc, &err);
	bool found = false;
	int rc, store_rc;

	if (f)
		svc_fleet_deadline(rq, f);
	rc = f ? np_fleet_release(f, rq->arg, &found, &err) : err.code;
	store_rc = f ? svc_fleet_rc(rc, &err) : 0; /* a missed deadline is not a store failure */
	svc_fleet_put(rq->svc, f, store_rc);
	if (store_rc == NP_EIO || store_rc == NP_EOS)
		rc = judge_failed_release(rq, &err, &found);
	if (rc)
		svc_error_np(rs, &err);
	else if (!found)
		svc_error(rs, "not_found", "no placement '%s'", rq->arg);
	else
		svc_json(rs, 204, NULL);
}
