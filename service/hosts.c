/*
 * hosts.c - /v1/hosts: register a host with its topology (PUT), list the
 * hosts with their usage per node, show one with its placements, remove
 * one.  A PUT with the same topology changes nothing (200); another
 * topology replaces the host while no placement lives on it (200), and is
 * a 409 while some do: the plans were made on the old topology.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <numaplace/emit.h>
#include <numaplace/util.h>

#include "svc.h"

json_t *svc_host_nodes(const np_host *usage)
{
	const np_topo *topo = np_host_topo(usage);
	json_t *nodes = json_array();

	for (int i = 0; nodes && i < np_topo_node_count(topo); i++) {
		const struct np_host_node *n = np_host_node(usage, i);
		json_t *pages = json_array();

		for (int k = 0; pages && k < n->npools; k++)
			json_array_append_new(pages, json_pack("{s:I,s:I,s:I}", "size_kb",
							       (json_int_t)n->pools[k].size_kb,
							       "total", (json_int_t)n->pools[k].total,
							       "used", (json_int_t)n->pools[k].used));
		json_array_append_new(
			nodes, json_pack("{s:i,s:i,s:i,s:i,s:I,s:I,s:o*}", "id", n->os_id, "cpus",
					 np_topo_node(topo, i)->ncpus, "cpus_pinned", n->npinned,
					 "vcpus_shared", (int)n->cpu_usage, "memory_mb",
					 (json_int_t)n->memory_mb, "memory_used_mb",
					 (json_int_t)n->memory_used_mb, "pages", pages));
	}
	return nodes;
}

static int plan_writer(const void *plan, const void *usage, FILE *out, struct np_error *err)
{
	return np_plan_write(plan, usage, NULL, NP_PLAN_JSON, 0, out, err);
}

static int topo_writer(const void *topo, const void *aux, FILE *out, struct np_error *err)
{
	return np_topo_write(topo, NP_TOPO_JSON, out, err);
}

json_t *svc_plan_json(const np_plan *plan, const np_host *usage, struct np_error *err)
{
	return svc_json_from_writer(plan_writer, plan, usage, err);
}

/* JSON text S without the whitespace between tokens, in place (the writer indents). */
static size_t compact(char *s, size_t n)
{
	size_t o = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			in_str = esc || c != '"';
			esc = !esc && c == '\\';
		} else if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
			continue;
		} else {
			in_str = c == '"';
		}
		s[o++] = c;
	}
	s[o] = '\0';
	return o;
}

/* S is printable ASCII (ids and host names are): as JSON, quoted with '"' and '\\' escaped. */
static bool plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Plain S as json_dumps writes it. */
static void put_plain(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/*
 * {"id":ID,"host":HOST without its '}', as json_dumps writes it: by hand
 * when both are plain, else by jansson (control bytes, non-ASCII).
 */
static int put_head(FILE *out, const char *id, const char *host)
{
	json_t *head;
	char *text;

	if (plain(id) && plain(host)) {
		fputs("{\"id\":", out);
		put_plain(out, id);
		fputs(",\"host\":", out);
		put_plain(out, host);
		return 0;
	}
	head = json_pack("{s:s,s:s}", "id", id, "host", host);
	text = head ? json_dumps(head, JSON_COMPACT) : NULL;
	json_decref(head);
	if (!text)
		return NP_ENOMEM;
	fwrite(text, 1, strlen(text) - 1, out);
	free(text);
	return 0;
}

/*
 * The answer {"id", "host", "plan"} of a placement made (POST), written in
 * one pass: the plan writer's text goes in as it is, rather than parsed
 * into a tree and dumped again (that round trip was most of the service's
 * own JSON time per placement, docs/bench/service.md); the head too is
 * written straight into the stream, not packed and dumped by jansson.  A
 * placement just claimed brings the plan's text the store kept: the same
 * bytes as the writer's, not written a second time.
 */
int svc_plan_answer(struct svc_resp *rs, int status, const char *id, const char *host,
		    const np_plan *plan, const np_host *usage, const char *plan_json,
		    struct np_error *err)
{
	struct np_memout m;
	char *text = NULL;
	size_t len = 0;
	int rc = NP_ENOMEM;

	if (np_memout_open(&m)) {
		rc = put_head(m.f, id, host);
		fputs(",\"plan\":", m.f);
		if (!rc && plan_json)
			fputs(plan_json, m.f);
		else if (!rc)
			rc = plan_writer(plan, usage, m.f, err);
		fputc('}', m.f);
		/* A write np_memout refused (out of memory) fails the close. */
		if (np_memout_close(&m, &text, &len) && rc == 0)
			rc = NP_ENOMEM;
	}
	if (rc) {
		free(text);
		if (rc == NP_ENOMEM)
			snprintf(err->message, sizeof(err->message), "out of memory");
		err->code = rc;
		return rc;
	}
	svc_json(rs, status, NULL);
	rs->body = text;
	rs->len = compact(text, len);
	return 0;
}

void svc_hosts_list(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	np_fleet *f = svc_fleet_get(rq->svc, &err);
	int rc = f ? np_fleet_refresh(f, &err) : err.code;
	json_t *hosts;

	if (rc) {
		svc_fleet_put(rq->svc, f, rc);
		svc_error_np(rs, &err);
		return;
	}
	hosts = json_array();
	for (int i = 0; hosts && i < np_fleet_host_count(f); i++) {
		const np_fleet_host *h = np_fleet_host_at(f, i);

		json_array_append_new(
			hosts, json_pack("{s:s,s:I,s:i,s:o*}", "name", np_fleet_host_name(h),
					 "generation", (json_int_t)np_fleet_host_generation(h),
					 "placements", np_fleet_host_placement_count(h), "nodes",
					 svc_host_nodes(np_fleet_host_usage(h))));
	}
	svc_fleet_put(rq->svc, f, 0);
	svc_json(rs, 200, json_pack("{s:o*}", "hosts", hosts));
}

/* {"id", "plan"} of every placement in PS, on the host view USAGE. */
static json_t *placements_json(np_fleet_placement **ps, int n, const np_host *usage,
			       struct np_error *err)
{
	json_t *a = json_array();

	for (int i = 0; a && i < n; i++) {
		json_t *plan = svc_plan_json(np_fleet_placement_plan(ps[i]), usage, err);

		if (!plan) {
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, json_pack("{s:s,s:o}", "id",
						   np_fleet_placement_id(ps[i]), "plan", plan));
	}
	return a;
}

/* {"id"} of every placement in PS: the host agent's list (?placements=ids). */
static json_t *placement_ids_json(np_fleet_placement **ps, int n)
{
	json_t *a = json_array();

	for (int i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:s}", "id", np_fleet_placement_id(ps[i])));
	return a;
}

/*
 * ?placements=ids: the name, the generation and the placements' ids, no
 * topology, usage or plans.  The host agent needs only the ids, and
 * reads at most NP_AGENT_ANSWER_MAX (4 MiB) of any other answer: the
 * whole host took about 450 bytes a placement (a plan each), the ids some
 * 40 (the agent reads 64 bytes an id, for all of its 100,000).  True: ids asked
 * for; false: the whole host, or a bad value answered already.
 */
static bool ids_only(const struct svc_req *rq, struct svc_resp *rs)
{
	const char *v = svc_query(rq, "placements");

	if (v && strcmp(v, "ids") != 0)
		svc_error(rs, "bad_request", "placements: the only value is 'ids'");
	return v && !rs->status;
}

void svc_host_get(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	bool ids = ids_only(rq, rs);
	np_fleet *f;
	np_fleet_placement **ps = NULL;
	const np_fleet_host *h;
	json_t *topo = NULL, *pl = NULL;
	int n = 0, rc;

	if (rs->status)
		return; /* a bad ?placements */
	f = svc_fleet_get(rq->svc, &err);
	rc = f ? np_fleet_placements(f, rq->arg, &ps, &n, &err) : err.code;
	if (rc) {
		svc_fleet_put(rq->svc, f, rc);
		svc_error_np(rs, &err);
		return;
	}
	/* After np_fleet_placements(), which refreshed: the host pointer is good now. */
	if (!(h = np_fleet_host_find(f, rq->arg)))
		svc_error(rs, "not_found", "no host '%s' in the fleet", rq->arg);
	else if (ids)
		svc_json(rs, 200,
			 json_pack("{s:s,s:I,s:o*}", "name", np_fleet_host_name(h), "generation",
				   (json_int_t)np_fleet_host_generation(h), "placements",
				   placement_ids_json(ps, n)));
	else if (!(topo = svc_json_from_writer(topo_writer, np_host_topo(np_fleet_host_usage(h)),
					       NULL, &err)) ||
		 !(pl = placements_json(ps, n, np_fleet_host_usage(h), &err)))
		svc_error(rs, "internal", "%s", err.message);
	else
		svc_json(rs, 200,
			 json_pack("{s:s,s:I,s:o,s:o*,s:o}", "name", np_fleet_host_name(h),
				   "generation", (json_int_t)np_fleet_host_generation(h),
				   "topology", topo, "nodes",
				   svc_host_nodes(np_fleet_host_usage(h)), "placements", pl));
	if (rs->status != 200) {
		json_decref(topo);
		json_decref(pl);
	}
	for (int i = 0; i < n; i++)
		np_fleet_placement_free(ps[i]);
	free(ps);
	svc_fleet_put(rq->svc, f, 0);
}

/* ?cpu_ratio=16&ram_ratio=1.5 (optional). */
static int host_opts(const struct svc_req *rq, struct np_fleet_host_opts *o, struct svc_resp *rs)
{
	const char *keys[] = { "cpu_ratio", "ram_ratio" };
	double *vals[] = { &o->cpu_ratio, &o->ram_ratio };

	for (int i = 0; i < 2; i++) {
		const char *v = svc_query(rq, keys[i]);

		if (!v)
			continue;
		*vals[i] = np_text_is_decimal(v, true) ? strtod(v, NULL) : 0; /* not " 4", "0x10" */
		if (!(*vals[i] > 0 && *vals[i] <= 1024)) {
			svc_error(rs, "bad_request", "%s: want a number above 0, at most 1024",
				  keys[i]);
			return -1;
		}
	}
	return 0;
}

static int add(np_fleet *f, const struct svc_req *rq, const np_topo *topo,
	       const struct np_fleet_host_opts *o, bool *added, struct np_error *err)
{
	int rc = np_fleet_add_host(f, rq->arg, topo, o, added, err);

	if (rc != NP_EINPUT || strcmp(err->reason, "host_exists") != 0)
		return rc;
	/* Another topology: replace it, which the store refuses while placements live. */
	memset(err, 0, sizeof(*err));
	if ((rc = np_fleet_remove_host(f, rq->arg, false, NULL, err)))
		return rc;
	rc = np_fleet_add_host(f, rq->arg, topo, o, NULL, err);
	*added = false; /* replaced: 200 */
	return rc;
}

void svc_host_put(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	struct np_fleet_host_opts o = { 0 };
	np_topo *topo = NULL;
	np_fleet *f = NULL;
	const np_fleet_host *h;
	bool added = false;
	int rc;

	if (host_opts(rq, &o, rs))
		return;
	if (!rq->body || !rq->body_len) {
		svc_error(rs, "bad_request", "the request needs a topology (numaplace.topology/1)");
		return;
	}
	if (np_topo_parse(NP_SOURCE_JSON, rq->body, rq->body_len, "body", &topo, &err)) {
		svc_error_np(rs, &err);
		return;
	}
	if (!(f = svc_fleet_get(rq->svc, &err)))
		rc = err.code;
	else
		rc = add(f, rq, topo, &o, &added, &err);
	/* The fleet scans for changes at most once a millisecond: wait out one. */
	for (int i = 0; !rc && i < 50; i++) {
		if ((rc = np_fleet_refresh(f, &err)) || np_fleet_host_find(f, rq->arg))
			break;
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	}
	if (rc)
		svc_error_np(rs, &err);
	else if (!(h = np_fleet_host_find(f, rq->arg)))
		svc_error(rs, "conflict", "host '%s' was removed meanwhile", rq->arg);
	else
		svc_json(rs, added ? 201 : 200,
			 json_pack("{s:s,s:I}", "name", rq->arg, "generation",
				   (json_int_t)np_fleet_host_generation(h)));
	svc_fleet_put(rq->svc, f, rc);
	np_topo_free(topo);
}

void svc_host_delete(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	const char *force = svc_query(rq, "force");
	np_fleet *f;
	int rc;

	if (force && strcmp(force, "true") != 0 && strcmp(force, "false") != 0) {
		svc_error(rs, "bad_request", "force: want true or false");
		return;
	}
	if (!(f = svc_fleet_get(rq->svc, &err)))
		rc = err.code;
	else
		rc = np_fleet_remove_host(f, rq->arg, force && strcmp(force, "true") == 0, NULL,
					  &err);
	if (rc)
		svc_error_np(rs, &err);
	else
		svc_json(rs, 204, NULL);
	svc_fleet_put(rq->svc, f, rc);
}
