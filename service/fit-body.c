/*
 * fit-body.c - the body of POST /v1/fit (fit.c) read into the hosts to
 * ask about, the copies pending on each, and the guest: {"flavor",
 * "image"?, "hosts"?, "pci_aliases"?, "pending"?}.  Apart from the
 * handler, as guest.c is for POST /v1/placements, so that the fuzzer
 * (tests/fuzz/fuzz-service-body.c) feeds it without a store.
 *
 * Bounds: the list to NP_FLEET_FIT_MAX names, each a non-empty string;
 * pending copies to NP_FLEET_FIT_PENDING_MAX in all, each for a host
 * "hosts" names.  Unknown keys are refused, so that a typo ("host" for
 * "hosts") cannot silently ask about every host.  The names point into
 * the body, which the parsed value keeps.
 */
#include <stdlib.h>
#include <string.h>

#include <numaplace/limits.h>

#include "svc.h"

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

int svc_fit_parse(const char *body, size_t len, struct svc_fit *fb, struct svc_resp *rs)
{
	struct svc_req rq = { .body = body, .body_len = len };

	memset(fb, 0, sizeof(*fb));
	if (!(fb->body = svc_body_object(&rq, rs)) ||
	    svc_only_keys(fb->body, "flavor image hosts pci_aliases pending", "key", rs) ||
	    names_of(fb->body, &fb->names, &fb->n, rs) ||
	    pending_of(fb->body, fb->names, fb->n, &fb->pending, rs) ||
	    !(fb->req = svc_request_of(fb->body, rs))) {
		svc_fit_free(fb);
		return -1;
	}
	return 0;
}

void svc_fit_free(struct svc_fit *fb)
{
	np_request_free(fb->req);
	free(fb->pending);
	free(fb->names);
	json_decref(fb->body);
	memset(fb, 0, sizeof(*fb));
}
