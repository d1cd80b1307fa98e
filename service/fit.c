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
 * Bounds: the body is limited by the transport; the list to
 * NP_FLEET_FIT_MAX names; a name that is not a non-empty string is a 400
 * naming its index; pending copies to NP_FLEET_FIT_PENDING_MAX in all,
 * each for a host "hosts" names.  Unknown keys are refused, so that a typo ("host"
 * for "hosts") cannot silently ask about every host.
 */
#include <stdlib.h>
#include <string.h>

#include <numaplace/limits.h>

#include "svc.h"

/* BODY's keys are those of the route. */
static int known_keys(json_t *body, struct svc_resp *rs)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v) {
		if (strcmp(key, "flavor") && strcmp(key, "image") && strcmp(key, "hosts") &&
		    strcmp(key, "pci_aliases") && strcmp(key, "pending")) {
			svc_error(rs, "bad_request",
				  "unknown key '%.64s' (flavor, image, hosts, pci_aliases, pending)",
				  key);
			return -1;
		}
	}
	return 0;
}

/* The names of BODY's "hosts" (*NAMES NULL: every host), or an answered 400. */
static int names_of(json_t *body, const char ***names, int *n, struct svc_resp *rs)
{
	json_t *hosts = json_object_get(body, "hosts"), *v;
	size_t i, size;

	*names = NULL;
	*n = 0;
	if (!hosts || json_is_null(hosts))
		return 0;
	if (!json_is_array(hosts)) {
		svc_error(rs, "bad_request", "hosts: expected an array of host names");
		return -1;
	}
	size = json_array_size(hosts);
	if (size > NP_FLEET_FIT_MAX) {
		svc_error(rs, "bad_request", "hosts: %zu names, at most %d", size,
			  NP_FLEET_FIT_MAX);
		return -1;
	}
	if (!(*names = calloc(size + 1, sizeof(**names)))) {
		svc_error(rs, "internal", "out of memory");
		return -1;
	}
	json_array_foreach(hosts, i, v) {
		if (!json_is_string(v) || !json_string_length(v)) {
			svc_error(rs, "bad_request", "hosts[%zu]: expected a host name", i);
			free(*names);
			*names = NULL;
			return -1;
		}
		(*names)[i] = json_string_value(v);
	}
	*n = (int)size;
	return 0;
}

/*
 * BODY's "pending" as one count per name of NAMES (*OUT NULL: none), or an
 * answered 400.  Its values are checked first (copies, NP_FLEET_FIT_PENDING_MAX
 * in all); then each name is looked up in it, and the keys found are
 * remembered (names may repeat), so that a key no name matched is named.
 */
static int pending_of(json_t *body, const char **names, int n, int **out, struct svc_resp *rs)
{
	json_t *pending = json_object_get(body, "pending"), *v, *found;
	long long sum = 0;
	const char *key;

	*out = NULL;
	if (!pending || json_is_null(pending))
		return 0;
	if (!json_is_object(pending) || !names) {
		svc_error(rs, "bad_request", !names ? "pending: needs the hosts it names in 'hosts'"
					     : "pending: expected an object of host name: copies");
		return -1;
	}
	json_object_foreach(pending, key, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > NP_FLEET_FIT_PENDING_MAX) {
			svc_error(rs, "bad_request", "pending: '%.64s': expected copies, 0 to %d",
				  key, NP_FLEET_FIT_PENDING_MAX);
			return -1;
		}
		sum += json_integer_value(v);
		if (sum > NP_FLEET_FIT_PENDING_MAX) {
			svc_error(rs, "bad_request", "pending: more than %d copies in all",
				  NP_FLEET_FIT_PENDING_MAX);
			return -1;
		}
	}
	if (!(found = json_object()) || !(*out = calloc((size_t)n + 1, sizeof(**out)))) {
		json_decref(found);
		svc_error(rs, "internal", "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (!(v = json_object_get(pending, names[i])))
			continue;
		(*out)[i] = (int)json_integer_value(v);
		if (json_object_set_new(found, names[i], json_null()))
			goto nomem;
	}
	if (json_object_size(found) < json_object_size(pending)) {
		json_object_foreach(pending, key, v)
			if (!json_object_get(found, key))
				break;
		svc_error(rs, "bad_request", "pending: host '%.64s' is not in 'hosts'", key);
		goto bad;
	}
	json_decref(found);
	return 0;
nomem:
	svc_error(rs, "internal", "out of memory");
bad:
	json_decref(found);
	free(*out);
	*out = NULL;
	return -1;
}

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
	json_t *body = svc_body_object(rq, rs), *answer;
	const char **names = NULL;
	int *pending = NULL;
	np_request *req = NULL;
	np_fleet_fits *r = NULL;
	np_fleet *f = NULL;
	int n = 0, rc = 0;

	if (!body || known_keys(body, rs) || names_of(body, &names, &n, rs) ||
	    pending_of(body, names, n, &pending, rs) || !(req = svc_request_of(body, rs)))
		goto out;
	if (!(f = svc_fleet_get(rq->svc, &err)))
		rc = err.code;
	else
		rc = np_fleet_fit_pending(f, req, names, pending, n, &po, &r, &err);
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
	np_request_free(req);
	free(pending);
	free(names);
	json_decref(body);
}
