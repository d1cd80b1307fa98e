/*
 * fit.c - POST /v1/fit: would a guest fit, and on which nodes, on each of
 * a list of hosts (or every host), without claiming anything.
 *
 * Body: {"flavor", "image"?, "hosts"?: ["h1", ...], "pci_aliases"?,
 * "pending"?: {"h1": 2, ...}} with
 * the flavor and image in Nova's keys (and Nova's `[pci] alias` entries for
 * a flavor's pci_passthrough:alias), built into a request as POST
 * /v1/placements builds it (a flavor Nova refuses is a 400 with Nova's
 * reason).  Answer:
 * {"hosts": {"h1": {"fits": true, "nodes": [0, 1]}, "h2": {"fits": false,
 * "reason": "..."}, "h3": {"fits": false, "unknown": true, "reason": ...}}}
 * from np_fleet_fit(): the scheduler's pre-filter and engine on each
 * host's usage in the store.  This is what a scheduler that makes its own
 * choice asks (Nova's filter, contrib/nova/): one request per scheduling
 * decision for every candidate host, so the answer for N hosts is one
 * pass over the fleet's summaries, not N requests.
 *
 * "pending": copies of this guest the caller already chose for a host of
 * "hosts" and has not claimed here (the instances of one multi-create
 * request, chosen in turn: contrib/nova's filter counts them); each is
 * charged to that host before its answer (np_fleet_fit_pending()).
 *
 * Bounds: the body is limited by the transport; fit-body.c reads it
 * (apart, so that the fuzzer feeds it without a store) and keeps the rest:
 * the list to NP_FLEET_FIT_MAX names; a name that is not a non-empty
 * string is a 400 naming its index; pending copies to
 * NP_FLEET_FIT_PENDING_MAX in all, each for a host "hosts" names.  Unknown
 * keys are refused, so that a typo ("host" for "hosts") cannot silently
 * ask about every host.
 */
#include "svc.h"

/* Answer I of R as its JSON object. */
static json_t *answer_json(const np_fleet_fits *r, int i)
{
	const int *nodes;
	int n = np_fleet_fits_nodes(r, i, &nodes);
	json_t *list;

	switch (np_fleet_fits_answer(r, i)) {
	case NP_FLEET_FIT_YES:
		list = json_array();
		for (int k = 0; list && k < n; k++)
			json_array_append_new(list, json_integer(nodes[k]));
		return json_pack("{s:b,s:o*}", "fits", 1, "nodes", list);
	case NP_FLEET_FIT_NO:
		return json_pack("{s:b,s:s}", "fits", 0, "reason", np_fleet_fits_reason(r, i));
	default:
		return json_pack("{s:b,s:b,s:s}", "fits", 0, "unknown", 1, "reason",
				 "no such host in the fleet");
	}
}

static json_t *fits_json(const np_fleet_fits *r)
{
	json_t *hosts = json_object();

	for (int i = 0; hosts && i < np_fleet_fits_count(r); i++) {
		json_t *a = answer_json(r, i);

		if (!a || json_object_set_new(hosts, np_fleet_fits_host(r, i), a)) {
			json_decref(hosts);
			return NULL;
		}
	}
	return hosts ? json_pack("{s:o}", "hosts", hosts) : NULL;
}

void svc_fit_post(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	struct np_place_opts po = { .strategy = NP_STRATEGY_SPREAD };
	struct svc_fit fb;
	json_t *answer;
	np_fleet_fits *r = NULL;
	np_fleet *f = NULL;
	int rc = 0;

	if (svc_fit_parse(rq->body, rq->body_len, &fb, rs))
		return;
	if (!(f = svc_fleet_get(rq->svc, &err)))
		rc = err.code;
	else
		rc = np_fleet_fit_pending(f, fb.req, fb.names, fb.pending, fb.n, &po, &r, &err);
	if (rc) {
		svc_error_np(rs, &err);
		goto out;
	}
	if (!(answer = fits_json(r)))
		svc_error(rs, "internal", "out of memory");
	else
		svc_json(rs, 200, answer);
out:
	np_fleet_fits_free(r);
	svc_fleet_put(rq->svc, f, rc);
	svc_fit_free(&fb);
}
