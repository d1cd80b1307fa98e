/*
 * case-out.c - numaplace's answers to a Nova case, in the output shape of
 * shared/nova/CASE_FORMAT.md, and the loop that produces them (place each
 * request, validate, charge, next).
 *
 * Design: the writer builds a jansson tree and dumps it with sorted keys
 * and one-space indent, as nova_fit.py prints, so the two outputs can be
 * compared field by field.  It reads only public accessors of the case,
 * its requests and plans; keys mean what they mean for Nova:
 *   fits          the guest was placed (null without a host; a guest with
 *                 no NUMA topology: always true, as Nova's filter lets it
 *                 through and Nova neither places nor charges it; nor does
 *                 numaplace here, but it says where it would put it in
 *                 `numaplace`: {"fits", "cells", "why"})
 *   filter_passes the same (numaplace has one answer, not two)
 *   guest_cells   the request's cells; [] for a guest without NUMA topology
 *                 (Nova's constraints are None)
 *   cells         one per plan cell ([] for a guest without NUMA topology,
 *                 as Nova maps nothing): host_cell is the node's os id, cpus /
 *                 pcpus the guest's floating / pinned vCPUs there,
 *                 pagesize_kb null unless the guest asked for a page size
 *   error         {"code": reason, "message": ...} instead of Nova's text
 *                 and exception class (docs/policies/nova-errors.md)
 * plus `invalid_plan` (only when a plan failed the validator: a bug) and,
 * when asked (--explain), `reasons`: the plan's reasons, one line each.
 *
 * Ownership: the tree is freed before returning; nothing is kept.
 */
#include <numaplace/nova.h>

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* Ids as a JSON array (NULL on ENOMEM; jansson's *_new tolerate NULL args). */
static json_t *int_array(const int *ids, int n)
{
	json_t *a = json_array();

	for (int i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer(ids[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *name_or_null(const char *name, bool set)
{
	return set ? json_string(name) : json_null();
}

static json_t *guest_cells(const np_request *req)
{
	json_t *a = json_array(), *o;
	enum np_cpu_policy cp = np_request_cpu_policy(req);
	enum np_thread_policy tp = np_request_thread_policy(req);

	for (int i = 0; a && np_request_has_numa(req) && i < np_request_cell_count(req); i++) {
		const struct np_guest_cell *g = np_request_cell(req, i);

		o = json_pack("{s:i, s:o, s:o, s:I, s:o, s:o, s:o}", "guest_cell", g->id,
			      "cpus", int_array(g->vcpus, g->nvcpus),
			      "pcpus", int_array(g->pcpus, g->npcpus),
			      "memory_mb", (json_int_t)g->memory_mb,
			      "pagesize", g->pagesize == NP_PAGESIZE_UNSET ? json_null()
				      : json_integer(g->pagesize),
			      "cpu_policy", name_or_null(np_cpu_policy_name(cp),
							 cp != NP_CPU_POLICY_NONE),
			      "cpu_thread_policy", name_or_null(np_thread_policy_name(tp),
								tp != NP_THREAD_POLICY_NONE));
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Guest vCPU -> host CPU, keys as strings (Nova's JSON). */
static json_t *pinning(const struct np_plan_cell *pc)
{
	json_t *o = json_object();
	char key[16];

	for (int i = 0; o && i < pc->npins; i++) {
		snprintf(key, sizeof(key), "%d", pc->pins[i].vcpu);
		if (json_object_set_new(o, key, json_integer(pc->pins[i].pcpu))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *plan_cell(const np_topo *topo, const np_request *req,
			 const struct np_plan_cell *pc)
{
	const struct np_guest_cell *g = np_request_cell(req, pc->guest_cell);
	int *pcpus = np__calloc((size_t)pc->npins + 1, sizeof(int));
	json_t *o = NULL;

	if (!pcpus)
		return NULL;
	for (int i = 0; i < pc->npins; i++)
		pcpus[i] = pc->pins[i].vcpu;
	o = json_pack("{s:i, s:i, s:o, s:o, s:I, s:o, s:o, s:o}", "guest_cell", pc->guest_cell,
		      "host_cell", np_topo_node(topo, pc->node_idx)->os_id,
		      "cpus", int_array(pc->float_vcpus, pc->nfloat),
		      "pcpus", int_array(pcpus, pc->npins),
		      "memory_mb", (json_int_t)pc->memory_mb,
		      "pagesize_kb", g && g->pagesize != NP_PAGESIZE_UNSET
			      ? json_integer((json_int_t)pc->pagesize_kb) : json_null(),
		      "pinning", pinning(pc),
		      "cpuset_reserved", int_array(pc->reserved, pc->nreserved));
	free(pcpus);
	return o;
}

static json_t *plan_cells(const np_topo *topo, const np_request *req, const np_plan *plan)
{
	json_t *a = json_array(), *o;

	for (int i = 0; a && plan && np_plan_fits(plan) && i < np_plan_cell_count(plan); i++) {
		o = plan_cell(topo, req, np_plan_cell(plan, i));
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *host_after(np_nova_case *c)
{
	const np_host *host = np_nova_case_host(c);
	const np_topo *topo = np_nova_case_topo(c);
	json_t *a = json_array(), *o, *pages;

	for (int i = 0; a && host && i < np_topo_node_count(topo); i++) {
		const struct np_host_node *n = np_host_node(host, i);

		pages = json_array();
		for (int k = 0; pages && k < n->npools; k++)
			if (json_array_append_new(pages, json_pack("{s:I, s:I, s:I}",
				"size_kb", (json_int_t)n->pools[k].size_kb,
				"total", (json_int_t)n->pools[k].total,
				"used", (json_int_t)n->pools[k].used))) {
				json_decref(pages);
				pages = NULL;
			}
		o = json_pack("{s:i, s:I, s:I, s:o, s:o}", "id", n->os_id,
			      "cpu_usage", (json_int_t)n->cpu_usage,
			      "memory_usage_mb", (json_int_t)n->memory_used_mb,
			      "pinned_cpus", int_array(n->pinned, n->npinned), "mempages", pages);
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	if (a && !host) {
		json_decref(a);
		return json_null();
	}
	return a;
}

static json_t *error_object(const struct np_error *e)
{
	return json_pack("{s:s, s:s}", "code", e->reason[0] ? e->reason : "invalid_request",
			 "message", e->message);
}

/* The plan's reasons, one line each (an empty list without a plan). */
static json_t *reasons(const np_plan *plan)
{
	json_t *a = json_array();

	for (int i = 0; a && plan && i < np_plan_reason_count(plan); i++)
		if (json_array_append_new(a, json_string(np_plan_reason(plan, i)->text))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/*
 * numaplace's own placement of a guest without NUMA topology, which Nova
 * does not place: {"fits", "cells", "why"} (why: the no-fit summary).
 */
static json_t *own(const np_topo *topo, const struct np_nova_result *r)
{
	const char *why = np_plan_no_fit_summary(r->plan);

	return json_pack("{s:b, s:o, s:o}", "fits", np_plan_fits(r->plan), "cells",
			 plan_cells(topo, r->req, r->plan), "why",
			 why ? json_string(why) : json_null());
}

/* The answer to one request. */
static json_t *result(np_nova_case *c, const struct np_nova_result *r)
{
	const np_topo *topo = np_nova_case_topo(c);
	bool host = np_nova_case_has_host(c);
	json_t *fits, *o;

	if (!r->req)
		return json_pack("{s:n, s:n, s:n, s:[], s:[], s:o}", "fits", "filter_passes",
				 "guest_numa", "guest_cells", "cells", "error",
				 error_object(&r->error));
	bool numa = np_request_has_numa(r->req);

	if (!host)
		fits = json_null();
	else if (!topo || !numa)
		fits = json_boolean(!numa); /* Nova's filter passes such a guest everywhere */
	else
		fits = json_boolean(r->plan && np_plan_fits(r->plan));
	o = json_pack("{s:O, s:o, s:b, s:o, s:o, s:o, s:n}", "fits", fits, "filter_passes", fits,
		      "guest_numa", numa, "guest_cells",
		      guest_cells(r->req), "cells",
		      topo && numa ? plan_cells(topo, r->req, r->plan) : json_array(),
		      "emulator_threads_policy",
		      name_or_null(np_emulator_policy_name(np_request_emulator_policy(r->req)),
				   np_request_has_numa(r->req) &&
				   np_request_emulator_policy(r->req) != NP_EMULATOR_POLICY_NONE),
		      "error");
	if (o && r->invalid && json_object_set_new(o, "invalid_plan", json_string(r->invalid))) {
		json_decref(o);
		return NULL;
	}
	if (o && topo && !numa && r->plan && json_object_set_new(o, "numaplace", own(topo, r))) {
		json_decref(o);
		return NULL;
	}
	if (o && r->reasons && json_object_set_new(o, "reasons", reasons(r->plan))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int np_nova_case_write(const np_nova_case *cc, const struct np_nova_result *res, int nres,
		       FILE *out, struct np_error *err)
{
	np_nova_case *c = (np_nova_case *)cc; /* host_after reads the host only */
	json_t *root = NULL, *list, *o;
	int rc = 0;

	if (nres != np_nova_case_request_count(c))
		return np__err(err, NP_EINPUT, "%d answers for %d requests", nres,
			       np_nova_case_request_count(c));
	if (np_nova_case_is_sequence(c)) {
		list = json_array();
		for (int i = 0; list && i < nres; i++)
			if (!(o = result(c, &res[i])) || json_array_append_new(list, o)) {
				json_decref(list);
				list = NULL;
			}
		root = json_pack("{s:o, s:o}", "results", list, "host_after", host_after(c));
	} else {
		root = result(c, &res[0]);
		if (root && np_nova_case_show_usage(c) && res[0].plan && np_plan_fits(res[0].plan) &&
		    json_object_set_new(root, "host_after", host_after(c))) {
			json_decref(root);
			root = NULL;
		}
	}
	if (!root)
		return np__err(err, NP_ENOMEM, "out of memory");
	/* json_dumpf() fails for the stream or for memory (sorting the keys). */
	if (json_dumpf(root, out, JSON_INDENT(1) | JSON_SORT_KEYS) && !ferror(out))
		rc = np__err(err, NP_ENOMEM, "out of memory");
	else if (ferror(out) || fputc('\n', out) == EOF || fflush(out))
		rc = np__err(err, NP_EOS, "cannot write the answer: %s", strerror(errno));
	json_decref(root);
	return rc;
}

/* Place request I (REQ) on the case's host, check and charge the plan. */
static int place_one(np_nova_case *c, const np_request *req, const struct np_place_opts *opts,
		     bool validate, struct np_nova_result *r, struct np_error *err)
{
	np_host *host = np_nova_case_host(c);
	struct np_error e = { 0 };
	np_plan *plan = NULL;
	int rc;

	if (!host)
		return 0;
	if ((rc = np_place(host, req, opts, &plan, err)))
		return rc;
	r->plan = plan;
	if (!np_plan_fits(plan))
		return 0;
	/* A plan that fails the validator, or a valid one the host will not
	 * take, is a numaplace bug: reported in the answer, never charged.
	 * Nova charges no NUMA usage for a guest without NUMA topology.
	 * Running out of memory on the way is neither. */
	rc = validate ? np_plan_validate(host, req, plan, &e) : 0;
	if (!rc && np_request_has_numa(req))
		rc = np_host_charge(host, plan, false, &e);
	if (rc == NP_ENOMEM)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (!rc)
		return 0;
	r->invalid = strdup(e.message);
	return r->invalid ? 0 : np__err(err, NP_ENOMEM, "out of memory");
}

static void count(const np_nova_case *c, const struct np_nova_result *r,
		  struct np_nova_summary *s)
{
	if (!r->req)
		s->invalid++;
	else if (r->invalid)
		s->bad_plans++;
	else if (!np_nova_case_has_host(c))
		s->fits++;
	else if (!np_nova_case_topo(c) || !np_request_has_numa(r->req))
		*(np_request_has_numa(r->req) ? &s->nofit : &s->fits) += 1;
	else if (r->plan && np_plan_fits(r->plan))
		s->fits++;
	else
		s->nofit++;
}

int np_nova_case_run(np_nova_case *c, const struct np_place_opts *opts, bool validate,
		     FILE *out, struct np_nova_summary *summary, struct np_error *err)
{
	struct np_place_opts o = { .strategy = np_nova_case_strategy(c) };
	int n = np_nova_case_request_count(c), rc = 0, i;
	struct np_nova_summary s = { 0 };
	struct np_nova_result *res = np__calloc((size_t)n + 1, sizeof(*res));

	if (!res)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (i = 0; i < n && !rc; i++) {
		res[i].reasons = opts && opts->explain;
		if (np_nova_case_request(c, i, &res[i].req, &res[i].error)) {
			res[i].req = NULL; /* refused by Nova's rules: an answer, unless... */
			if (res[i].error.code == NP_ENOMEM)
				rc = np__err(err, NP_ENOMEM, "out of memory");
		} else {
			rc = place_one(c, res[i].req, opts ? opts : &o, validate, &res[i], err);
		}
		count(c, &res[i], &s);
	}
	if (!rc)
		rc = np_nova_case_write(c, res, n, out, err);
	if (!rc && summary)
		*summary = s;
	for (i = 0; i < n; i++) {
		np_plan_free((np_plan *)res[i].plan);
		free((char *)res[i].invalid);
	}
	free(res);
	return rc;
}
