/*
 * observe.c - what the host agents saw of each placement, kept in the
 * store beside the plan (fleet.h "observations"), and its drift from the
 * plan.
 *
 * An observation comes from outside (an agent over HTTP): everything in
 * it is checked against the placement's host before the store sees it -
 * nodes the topology has, each once, no more memory on a node than it
 * has, a known source.  The store re-checks in its transaction that the
 * placement still lives on that host (it may have been released and
 * placed elsewhere meanwhile).  Observations never change usage or
 * generations: the scheduler does not read them.
 */
#include <stdlib.h>
#include <string.h>

#include <numaplace/limits.h>

#include "fleet/fleet-int.h"
#include "util/util.h"

/*
 * Memory elsewhere that is never drift by itself: a process's program,
 * libraries and page cache lie where they were first read (a 48 MiB guest
 * on the numa-vm kernel had 1 MiB of its binary on another node).
 */
#define NP__DRIFT_SLACK_MB 16

struct np_fleet_observed {
	struct np_fleet_obs obs;
	char *host, *source, *domain;
	struct np_fleet_obs_node *nodes;
};

static int check_obs(const np_topo *topo, const struct np_fleet_obs *o, struct np_error *err)
{
	int n = np_topo_node_count(topo);
	bool *seen;

	if (!o->source || (strcmp(o->source, "libvirt") && strcmp(o->source, "process")))
		return np__err(err, NP_EINPUT, "the observation's source is not 'libvirt' or 'process'");
	if (o->pid < 0 || o->at < 0 || o->nnodes < 0 || o->nnodes > n)
		return np__err(err, NP_EINPUT, "the observation has a negative pid or time, or more "
			       "nodes than the host (%d)", n);
	if (o->domain && np__fleet_check_id("domain name", o->domain, err))
		return NP_EINPUT;
	if (!(seen = calloc((size_t)n + 1, sizeof(*seen))))
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < o->nnodes; i++) {
		const struct np_fleet_obs_node *x = &o->nodes[i];
		int idx = np_topo_node_index(topo, x->node);
		const struct np_node *nd = idx >= 0 ? np_topo_node(topo, idx) : NULL;
		const char *bad = !nd		     ? "is not a node of the host"
				  : seen[idx]	     ? "is named twice"
				  : x->memory_mb > (nd->mem_total_kb + 1023) / 1024 ? "holds more "
						     "memory than it has"
				  : x->vcpus < 0 || x->vcpus > NP_VCPUS_MAX ? "has a bad vCPU count"
									    : NULL;

		if (bad) {
			free(seen);
			return np__err(err, NP_EINPUT, "observed node %d %s", x->node, bad);
		}
		seen[idx] = true;
	}
	free(seen);
	return 0;
}

int np_fleet_observe_set(np_fleet *f, const char *id, const struct np_fleet_obs *obs,
			 struct np_error *err)
{
	np_fleet_placement *p = NULL;
	const np_fleet_host *h;
	enum np__obs_status st = NP__OBS_STORED;
	struct np__obs_node *nodes = NULL;
	int rc = np__fleet_get(f, id, true, &p, err);

	if (rc)
		return rc;
	if (!p) {
		rc = np__err_reason(err, NP_EINPUT, "no_placement", "no placement '%s'", id);
		goto out;
	}
	if (!obs->host || strcmp(obs->host, p->host)) {
		rc = np__err_reason(err, NP_EINPUT, "wrong_host", "placement '%s' is on host '%s', "
				    "not on '%.100s'", id, p->host, obs->host ? obs->host : "");
		goto out;
	}
	h = np_fleet_host_find(f, p->host);
	if (!h || (rc = check_obs(h->topo, obs, err)))
		goto out;
	if (obs->nnodes && !(nodes = calloc((size_t)obs->nnodes, sizeof(*nodes)))) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < obs->nnodes; i++)
		nodes[i] = (struct np__obs_node){ obs->nodes[i].node,
						  (int64_t)obs->nodes[i].memory_mb,
						  obs->nodes[i].vcpus };
	struct np__obs_rec rec = { id, h->id, obs->at, obs->source, obs->pid, obs->domain,
				   obs->nnodes, nodes };
	if ((rc = f->drv->observe_set(f->s, &rec, &st, err)))
		goto out;
	if (st == NP__OBS_NO_PLACEMENT)
		rc = np__err_reason(err, NP_EINPUT, "no_placement", "no placement '%s'", id);
	else if (st == NP__OBS_OTHER_HOST)
		rc = np__err_reason(err, NP_EINPUT, "wrong_host", "placement '%s' moved to another "
				    "host", id);
out:
	free(nodes);
	np_fleet_placement_free(p);
	return rc;
}

struct got {
	np_fleet *f;
	np_fleet_observed *o;
	struct np_error *err;
};

static int got_obs(void *ctx, const struct np__obs_rec *r)
{
	struct got *g = ctx;
	struct np_fleet_host *h = np__fleet_by_id(g->f, r->host_id);
	np_fleet_observed *o = calloc(1, sizeof(*o));

	if (!o)
		return np__err(g->err, NP_ENOMEM, "out of memory");
	g->o = o;
	o->host = strdup(h ? h->name : "");
	o->source = strdup(r->source);
	o->domain = r->domain ? strdup(r->domain) : NULL;
	o->nodes = calloc((size_t)r->nnodes + 1, sizeof(*o->nodes));
	if (!o->host || !o->source || (r->domain && !o->domain) || !o->nodes)
		return np__err(g->err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < r->nnodes; i++)
		o->nodes[i] = (struct np_fleet_obs_node){ r->nodes[i].node,
							  (uint64_t)r->nodes[i].memory_mb,
							  r->nodes[i].vcpus };
	o->obs = (struct np_fleet_obs){ o->host, r->at, o->source, r->pid, o->domain, r->nnodes,
					o->nodes };
	return 0;
}

int np_fleet_observe_get(np_fleet *f, const char *id, np_fleet_observed **out,
			 struct np_error *err)
{
	struct got g = { f, NULL, err };
	int rc = np__fleet_check_id("placement id", id, err);

	/* No refresh: hosts the caller holds (np_fleet_host_find) stay valid. */
	if (!rc)
		rc = f->drv->observe_get(f->s, id, got_obs, &g, err);
	if (rc) {
		np_fleet_observed_free(g.o);
		return rc;
	}
	*out = g.o;
	return 0;
}

const struct np_fleet_obs *np_fleet_observed_obs(const np_fleet_observed *o)
{
	return &o->obs;
}

void np_fleet_observed_free(np_fleet_observed *o)
{
	if (!o)
		return;
	free(o->host);
	free(o->source);
	free(o->domain);
	free(o->nodes);
	free(o);
}

/* Is node index IDX in the sorted or unsorted list L of N? */
static bool has(const int *l, int n, int idx)
{
	for (int i = 0; i < n; i++)
		if (l[i] == idx)
			return true;
	return false;
}

int np_fleet_drift(const np_topo *topo, const np_plan *plan, const struct np_fleet_obs *obs,
		   struct np_fleet_drift *out, struct np_error *err)
{
	struct np_fleet_drift d = { 0 };
	const int *mem_nodes;
	int nmem = np_plan_nodeset(plan, &mem_nodes), ncells = np_plan_cell_count(plan);

	for (int i = 0; i < obs->nnodes; i++) {
		const struct np_fleet_obs_node *x = &obs->nodes[i];
		int idx = np_topo_node_index(topo, x->node);
		bool cell = false;

		if (idx < 0)
			return np__err(err, NP_EINPUT, "observed node %d is not a node of the host",
				       x->node);
		for (int c = 0; c < ncells && !cell; c++)
			cell = np_plan_cell(plan, c)->node_idx == idx;
		d.memory_mb += x->memory_mb;
		d.vcpus += x->vcpus;
		if (!has(mem_nodes, nmem, idx))
			d.memory_elsewhere_mb += x->memory_mb;
		if (!cell)
			d.vcpus_outside += x->vcpus;
	}
	d.drifted = d.vcpus_outside > 0 || (d.memory_elsewhere_mb * 100 > d.memory_mb &&
					     d.memory_elsewhere_mb > NP__DRIFT_SLACK_MB);
	*out = d;
	return 0;
}
