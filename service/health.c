/*
 * health.c - GET /v1/health: the service is up and its store answers.
 * 200 {"status": "ok", "store", "hosts", "placements"}; 503 when the
 * store cannot be read (a load balancer takes the replica out).
 */
#include <string.h>

#include "svc.h"

void svc_health_get(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	np_fleet *f = svc_fleet_get(rq->svc, &err);
	int rc = f ? np_fleet_refresh(f, &err) : err.code;
	long placements = 0;

	if (rc) {
		svc_fleet_put(rq->svc, f, rc);
		if (strcmp(err.reason, "schema_too_new") == 0)
			svc_error_np(rs, &err); /* it answers, but not to this numaplace */
		else
			svc_error(rs, "unavailable", "the store does not answer: %s", err.message);
		return;
	}
	for (int i = 0; i < np_fleet_host_count(f); i++)
		placements += np_fleet_host_placement_count(np_fleet_host_at(f, i));
	svc_json(rs, 200,
		 json_pack("{s:s,s:s,s:i,s:I}", "status", "ok", "store",
			   svc_store_kind(rq->svc), "hosts", np_fleet_host_count(f),
			   "placements", (json_int_t)placements));
	svc_fleet_put(rq->svc, f, 0);
}
