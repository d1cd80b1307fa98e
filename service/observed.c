/*
 * observed.c - the agents' reports: PUT /v1/placements/{id}/observed
 * (what a host agent saw of a placement, docs/api/openapi.yaml OBS), and
 * the "observed" and "drift" members GET /v1/placements/{id} answers
 * with (placements.c calls svc_observed_json).
 *
 * The body is checked whole before the store sees it: only the known
 * members, each of its type and range; node ids as the keys of
 * "memory_mb" and "vcpus" (decimal, no sign, no leading zeros); the
 * library then checks them against the placement's host (nodes it has,
 * no more memory than a node holds) and that the reporting host is the
 * placement's.  Unknown placement: 404; another host: 409.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/limits.h>

#include "svc.h"

/* A node id key: "0".."4194304", no sign, no leading zero.  -1 when not. */
static int node_key(const char *k)
{
	long v = 0;
	size_t n = strlen(k);

	if (n == 0 || n > 7 || (k[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (k[i] < '0' || k[i] > '9')
			return -1;
		v = v * 10 + (k[i] - '0');
	}
	return v <= NP_ID_MAX ? (int)v : -1;
}

/* The node of id ID in NODES (*N of them), added when new; NULL when too many. */
static struct np_fleet_obs_node *node_of(struct np_fleet_obs_node *nodes, int *n, int id)
{
	for (int i = 0; i < *n; i++)
		if (nodes[i].node == id)
			return &nodes[i];
	if (*n >= NP_NODES_MAX)
		return NULL;
	nodes[*n] = (struct np_fleet_obs_node){ id, 0, 0 };
	return &nodes[(*n)++];
}

/* Read object MEMBER of BODY into NODES: memory (VCPUS false) or vCPUs. 0, or an answered 400. */
static int per_node(json_t *body, const char *member, bool vcpus, struct np_fleet_obs_node *nodes,
		    int *n, struct svc_resp *rs)
{
	json_t *o = json_object_get(body, member), *v;
	const char *k;
	long long max = vcpus ? NP_VCPUS_MAX : (long long)NP_MEMORY_MB_MAX;

	if (!o)
		return 0;
	if (!json_is_object(o)) {
		svc_error(rs, "bad_request", "%s: expected an object of node id to number", member);
		return -1;
	}
	json_object_foreach(o, k, v) {
		int id = node_key(k);
		struct np_fleet_obs_node *x;

		if (id < 0 || !json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > max) {
			svc_error(rs, "bad_request", "%s: '%.40s': expected a node id and a number from "
				  "0 to %lld", member, k, max);
			return -1;
		}
		if (!(x = node_of(nodes, n, id))) {
			svc_error(rs, "bad_request", "%s: more than %d nodes", member, NP_NODES_MAX);
			return -1;
		}
		if (vcpus)
			x->vcpus = (int)json_integer_value(v);
		else
			x->memory_mb = (uint64_t)json_integer_value(v);
	}
	return 0;
}

/* The scalar members of BODY into O; 0, or an answered 400. */
static int scalars(json_t *body, struct np_fleet_obs *o, struct svc_resp *rs)
{
	json_t *host = json_object_get(body, "host"), *at = json_object_get(body, "at");
	json_t *src = json_object_get(body, "source"), *pid = json_object_get(body, "pid");
	json_t *dom = json_object_get(body, "domain");

	if (svc_only_keys(body, "host at source pid domain memory_mb vcpus", "member", rs))
		return -1;
	if (!json_is_string(host) || !json_is_integer(at) || json_integer_value(at) < 0 ||
	    !json_is_string(src) || (pid && !json_is_null(pid) && (!json_is_integer(pid) ||
	    json_integer_value(pid) <= 0 || json_integer_value(pid) > (1 << 30))) ||
	    (dom && !json_is_null(dom) && !json_is_string(dom))) {
		svc_error(rs, "bad_request", "expected host (string), at (seconds), source "
			  "(\"libvirt\" or \"process\"), pid (a process id) and domain (a string) "
			  "if given");
		return -1;
	}
	*o = (struct np_fleet_obs){ json_string_value(host), (int64_t)json_integer_value(at),
				    json_string_value(src),
				    json_is_integer(pid) ? (int)json_integer_value(pid) : 0,
				    json_is_string(dom) ? json_string_value(dom) : NULL, 0, NULL };
	return 0;
}

void svc_observed_put(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	struct np_fleet_obs o;
	struct np_fleet_obs_node *nodes = NULL;
	json_t *body = svc_body_object(rq, rs);
	np_fleet *f = NULL;
	int n = 0, rc = 0;

	if (!body || scalars(body, &o, rs))
		goto out;
	if (!(nodes = calloc(NP_NODES_MAX, sizeof(*nodes)))) {
		svc_error(rs, "internal", "out of memory");
		goto out;
	}
	if (per_node(body, "memory_mb", false, nodes, &n, rs) ||
	    per_node(body, "vcpus", true, nodes, &n, rs))
		goto out;
	o.nnodes = n;
	o.nodes = nodes;
	if (!(f = svc_fleet_get(rq->svc, &err)))
		rc = err.code;
	else
		rc = np_fleet_observe_set(f, rq->arg, &o, &err);
	if (rc)
		svc_error_np(rs, &err);
	else
		svc_json(rs, 204, NULL);
out:
	svc_fleet_put(rq->svc, f, rc);
	free(nodes);
	json_decref(body);
}

/* OBS as the API's OBS object. */
static json_t *obs_json(const struct np_fleet_obs *obs)
{
	json_t *j = json_pack("{s:s,s:I,s:s}", "host", obs->host, "at", (json_int_t)obs->at,
			      "source", obs->source);
	json_t *mem = json_object(), *vc = json_object();
	char key[16];

	if (!j || !mem || !vc)
		goto fail;
	if ((obs->pid > 0 && json_object_set_new(j, "pid", json_integer(obs->pid))) ||
	    (obs->domain && json_object_set_new(j, "domain", json_string(obs->domain))))
		goto fail;
	for (int i = 0; i < obs->nnodes; i++) {
		snprintf(key, sizeof(key), "%d", obs->nodes[i].node);
		if ((obs->nodes[i].memory_mb &&
		     json_object_set_new(mem, key, json_integer((json_int_t)obs->nodes[i].memory_mb))) ||
		    (obs->nodes[i].vcpus &&
		     json_object_set_new(vc, key, json_integer(obs->nodes[i].vcpus))))
			goto fail;
	}
	if (!json_object_set_new(j, "memory_mb", mem) && !json_object_set_new(j, "vcpus", vc))
		return j;
	json_decref(j);
	return NULL;
fail:
	json_decref(j);
	json_decref(mem);
	json_decref(vc);
	return NULL;
}

int svc_observed_json(np_fleet *f, const np_fleet_placement *p, const np_topo *topo,
		      json_t **observed, json_t **drift, struct np_error *err)
{
	np_fleet_observed *o = NULL;
	struct np_fleet_drift d;
	int rc = np_fleet_observe_get(f, np_fleet_placement_id(p), &o, err);

	*observed = json_null();
	*drift = json_null();
	if (rc || !o)
		return rc;
	rc = np_fleet_drift(topo, np_fleet_placement_plan(p), np_fleet_observed_obs(o), &d, err);
	if (!rc) {
		json_decref(*observed);
		json_decref(*drift);
		*observed = obs_json(np_fleet_observed_obs(o));
		*drift = json_pack("{s:I,s:I,s:i,s:i,s:b}", "memory_elsewhere_mb",
				   (json_int_t)d.memory_elsewhere_mb, "memory_mb",
				   (json_int_t)d.memory_mb, "vcpus_outside", d.vcpus_outside,
				   "vcpus", d.vcpus, "drifted", d.drifted);
		if (!*observed || !*drift) {
			json_decref(*observed);
			json_decref(*drift);
			*observed = *drift = NULL;
			rc = err->code = NP_ENOMEM;
			snprintf(err->message, sizeof(err->message), "out of memory");
		}
	}
	np_fleet_observed_free(o);
	return rc;
}
