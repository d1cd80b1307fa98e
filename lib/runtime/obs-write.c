/*
 * obs-write.c - an observation (and its findings) as text for people or
 * as one line of JSON for programs (docs/policies/runtime.md describes
 * the keys).  JSON goes through jansson: thread names and policies are
 * arbitrary text and need escaping.  Nodes are named by kernel id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "runtime/rt-int.h"

int np_obs_format_from_name(const char *name, enum np_obs_format *out)
{
	if (strcmp(name, "text") == 0)
		*out = NP_OBS_TEXT;
	else if (strcmp(name, "json") == 0)
		*out = NP_OBS_JSON;
	else
		return NP_EINPUT;
	return 0;
}

static uint64_t kb_of(const struct np_rt_mem *m)
{
	return m->anon_kb + m->file_kb + m->huge_kb;
}

static json_t *j_node(const np_topo *topo, int idx)
{
	return idx >= 0 ? json_integer(np_topo_node(topo, idx)->os_id) : json_null();
}

static json_t *j_threads(const np_topo *topo, const np_obs *o)
{
	json_t *a = json_array();
	char list[4096];

	for (int i = 0; a && i < o->nthreads; i++) {
		const struct np_rt_thread *t = &o->threads[i];
		char st[2] = { t->state, 0 };

		np__format_cpulist(t->allowed, t->nallowed, list, sizeof(list));
		json_array_append_new(
			a, json_pack("{s:o,s:o,s:s,s:s,s:o,s:o,s:s,s:I}", "tid",
				     t->tid > 0 ? json_integer(t->tid) : json_null(), "vcpu",
				     t->vcpu >= 0 ? json_integer(t->vcpu) : json_null(), "name",
				     t->name, "state", st, "cpu",
				     t->cpu >= 0 ? json_integer(t->cpu) : json_null(), "node",
				     j_node(topo, t->node_idx), "allowed_cpus", list, "cpu_ms",
				     (json_int_t)t->cpu_ms));
	}
	return a;
}

static json_t *j_memory(const np_topo *topo, const np_obs *o, bool mb)
{
	json_t *m = json_object();
	char key[16];

	for (int i = 0; m && o->mem_known && i < o->nnodes; i++) {
		uint64_t kb = kb_of(&o->mem[i]);

		snprintf(key, sizeof(key), "%d", np_topo_node(topo, i)->os_id);
		json_object_set_new(m, key, mb ? json_real((double)(kb * 100 / 1024) / 100.0)
					       : json_pack("{s:I,s:I,s:I}", "anon",
							   (json_int_t)o->mem[i].anon_kb, "file",
							   (json_int_t)o->mem[i].file_kb, "huge",
							   (json_int_t)o->mem[i].huge_kb));
	}
	return m;
}

static json_t *j_findings(const np_topo *topo, const struct np_finding *f, int n)
{
	json_t *a = json_array();

	for (int i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:o,s:o,s:I,s:s}", "kind",
						   np_finding_kind_name(f[i].kind), "tid",
						   f[i].tid ? json_integer(f[i].tid) : json_null(),
						   "node", j_node(topo, f[i].node_idx), "value",
						   (json_int_t)f[i].value, "evidence", f[i].evidence));
	return a;
}

static json_t *j_nodes(const np_topo *topo, const int *idx, int n)
{
	json_t *a = json_array();

	for (int i = 0; a && i < n; i++)
		json_array_append_new(a, j_node(topo, idx[i]));
	return a;
}

static json_t *j_advice(const np_topo *topo, const struct np_obs_advice *adv)
{
	if (!adv)
		return json_null();
	return json_pack("{s:o,s:o,s:o}", "release_first", j_nodes(topo, adv->release, adv->nrelease),
			 "fallback", j_nodes(topo, adv->fallback, adv->nfallback), "io_nodes",
			 j_nodes(topo, adv->io, adv->nio));
}

static json_t *j_obs(const np_topo *topo, const np_obs *o, const struct np_finding *f, int nf,
		     const struct np_obs_advice *adv)
{
	json_t *pol = json_array(), *dev = json_array();

	for (int i = 0; pol && i < o->npol; i++)
		json_array_append_new(pol, json_pack("{s:s,s:I}", "policy", o->pol[i].name, "kb",
						     (json_int_t)o->pol[i].kb));
	for (int i = 0; dev && i < o->ndev; i++)
		json_array_append_new(dev, json_string(o->dev[i]));
	return json_pack("{s:o,s:s,s:s,s:I,s:o,s:b,s:o,s:o,s:I,s:s,s:o,s:o,s:o,s:o}", "pid",
			 o->pid > 0 ? json_integer(o->pid) : json_null(), "kind",
			 o->domain ? "domain" : "process", "name", o->name, "time_ms",
			 (json_int_t)o->time_ms, "threads", j_threads(topo, o), "memory_known",
			 o->mem_known, "memory_mb", j_memory(topo, o, true), "memory_kb",
			 j_memory(topo, o, false), "memory_total_kb", (json_int_t)o->total_kb,
			 "policy", o->policy, "policies", pol, "devices", dev, "findings",
			 j_findings(topo, f, nf), "advice", j_advice(topo, adv));
}

static void text_threads(const np_topo *topo, const np_obs *o, FILE *out)
{
	char list[4096];

	fprintf(out, "  %-8s %-18s %5s %4s %5s %s\n", "TID", "NAME", "VCPU", "CPU", "NODE",
		"ALLOWED CPUS");
	for (int i = 0; i < o->nthreads; i++) {
		const struct np_rt_thread *t = &o->threads[i];
		char tid[16] = "-", vcpu[16] = "-", cpu[16] = "-", node[16] = "-";

		if (t->tid > 0)
			snprintf(tid, sizeof(tid), "%d", t->tid);
		if (t->vcpu >= 0)
			snprintf(vcpu, sizeof(vcpu), "%d", t->vcpu);
		if (t->cpu >= 0)
			snprintf(cpu, sizeof(cpu), "%d", t->cpu);
		if (t->node_idx >= 0)
			snprintf(node, sizeof(node), "%d", np_topo_node(topo, t->node_idx)->os_id);
		np__format_cpulist(t->allowed, t->nallowed, list, sizeof(list));
		fprintf(out, "  %-8s %-18.18s %5s %4s %5s %s\n", tid, t->name, vcpu, cpu, node,
			list[0] ? list : "?");
	}
}

static void text_memory(const np_topo *topo, const np_obs *o, FILE *out)
{
	if (!o->mem_known) {
		fputs("memory per node: unknown (not readable through this connection)\n", out);
		return;
	}
	fprintf(out, "memory: %.1f MiB in all\n", o->total_kb / 1024.0);
	for (int i = 0; i < o->nnodes; i++) {
		const struct np_rt_mem *m = &o->mem[i];

		if (kb_of(m))
			fprintf(out, "  node %-3d %10.1f MiB  (anon %.1f, file %.1f, huge %.1f)\n",
				np_topo_node(topo, i)->os_id, kb_of(m) / 1024.0, m->anon_kb / 1024.0,
				m->file_kb / 1024.0, m->huge_kb / 1024.0);
	}
	for (int i = 0; i < o->npol; i++)
		fprintf(out, "  policy %-24s %10.1f MiB\n", o->pol[i].name, o->pol[i].kb / 1024.0);
}

static void text_nodes(const char *what, const np_topo *topo, const int *idx, int n, FILE *out)
{
	if (n <= 0)
		return;
	fprintf(out, "%s", what);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%d", i ? ", " : " ", np_topo_node(topo, idx[i])->os_id);
	fputc('\n', out);
}

static void text_advice(const np_topo *topo, const struct np_obs_advice *a, FILE *out)
{
	if (!a)
		return;
	text_nodes("ballooning: release memory first from nodes", topo, a->release, a->nrelease,
		   out);
	text_nodes("when the preferred node is full, memory falls back to nodes", topo,
		   a->fallback, a->nfallback, out);
	text_nodes("I/O locality: run emulator and I/O threads on nodes", topo, a->io, a->nio, out);
}

static void text_obs(const np_topo *topo, const np_obs *o, const struct np_finding *f, int nf,
		     FILE *out)
{
	if (o->domain)
		fprintf(out, "domain %s", o->name);
	else
		fprintf(out, "process %d (%s)", o->pid, o->name);
	fprintf(out, ": %d threads, memory policy %s\n", o->nthreads, o->policy);
	text_threads(topo, o, out);
	text_memory(topo, o, out);
	for (int i = 0; i < o->ndev; i++)
		fprintf(out, "device %s\n", o->dev[i]);
	if (nf)
		fputs("findings:\n", out);
	for (int i = 0; i < nf; i++)
		fprintf(out, "  %s: %s\n", np_finding_kind_name(f[i].kind), f[i].evidence);
}

int np_obs_write(const np_topo *topo, const np_obs *obs, const struct np_finding *findings,
		 int nfindings, const struct np_obs_advice *advice, enum np_obs_format format,
		 FILE *out, struct np_error *err)
{
	int rc = 0;

	if (format == NP_OBS_TEXT) {
		text_obs(topo, obs, findings, nfindings, out);
		text_advice(topo, advice, out);
	} else {
		json_t *j = j_obs(topo, obs, findings, nfindings, advice);

		if (!j)
			return np__err(err, NP_ENOMEM, "out of memory");
		rc = json_dumpf(j, out, JSON_COMPACT | JSON_REAL_PRECISION(12));
		json_decref(j);
		fputc('\n', out);
	}
	if (rc || fflush(out) || ferror(out))
		return np__err(err, NP_EOS, "cannot write the observation");
	return 0;
}
