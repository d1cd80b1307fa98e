/*
 * topo-json.c - write a topology as "numaplace.topology/1" JSON
 * (docs/formats/topology.md; read back by lib/topology/src-json.c).
 *
 * Design: plain fprintf, not jansson, because the layout is part of the
 * format's usability: one CPU or device per line, a node's distance row
 * and short CPU lists on one line, so a 256-CPU host stays readable and
 * diffs of two hosts line up.  Everything written is a number, true,
 * false, null or one of a few fixed-format strings (PCI addresses, "0x"
 * hex), so no string needs escaping.
 *
 * The output is deterministic (nodes, CPUs and devices in the topology's
 * order, keys in the schema's order) and reading it back then writing it
 * again gives the same bytes.  Only the public accessors are used.
 *
 * "siblings" follows np_topo_cpu_siblings() (same socket, node and core),
 * but is found by sorting the CPUs once rather than by asking for each CPU,
 * which would take quadratic time on a host with millions of CPU ids.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "emit/emit-int.h"

/* A node's CPU list longer than this is wrapped, this many ids a line. */
#define CPUS_PER_LINE 16

/* CPUs sorted so that SMT siblings are adjacent runs; see sibling_runs(). */

struct runs {
	struct np__cpu_key *by_core; /* sorted by socket, node, core, id */
	int *pos;            /* cpu_idx -> position in by_core */
};

static bool same_core(const struct np__cpu_key *x, const struct np__cpu_key *y)
{
	return x->core >= 0 && x->socket >= 0 && x->socket == y->socket &&
	       x->node == y->node && x->core == y->core;
}

static int sibling_runs(const np_topo *t, struct runs *r)
{
	int n = np_topo_cpu_count(t);

	r->by_core = calloc((size_t)n + 1, sizeof(*r->by_core));
	r->pos = calloc((size_t)n + 1, sizeof(*r->pos));
	if (!r->by_core || !r->pos)
		return NP_ENOMEM;
	for (int i = 0; i < n; i++) {
		const struct np_cpu *c = np_topo_cpu(t, i);

		r->by_core[i] = (struct np__cpu_key){ c->socket, c->node_idx, c->core, c->os_id, i };
	}
	if (n)
		qsort(r->by_core, (size_t)n, sizeof(*r->by_core), np__cmp_cpu_key);
	for (int p = 0; p < n; p++)
		r->pos[np_topo_cpu_index(t, r->by_core[p].os)] = p;
	return 0;
}

/* The siblings of CPU I, itself included, in increasing id order. */
static void put_siblings(FILE *out, const struct runs *r, int n, int i)
{
	int p = r->pos[i], a = p, b = p;

	while (a > 0 && same_core(&r->by_core[a - 1], &r->by_core[p]))
		a--;
	while (b + 1 < n && same_core(&r->by_core[b + 1], &r->by_core[p]))
		b++;
	for (int k = a; k <= b; k++)
		fprintf(out, "%s%d", k > a ? ", " : "", r->by_core[k].os);
}

static void put_ints(FILE *out, const int *v, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%d", i ? ", " : "", v[i]);
}

static void put_node_cpus(FILE *out, const struct np_node *n)
{
	if (n->ncpus <= CPUS_PER_LINE) {
		fputs("      \"cpus\": [", out);
		put_ints(out, n->cpus, n->ncpus);
		fputs("],\n", out);
		return;
	}
	fputs("      \"cpus\": [\n", out);
	for (int i = 0; i < n->ncpus; i += CPUS_PER_LINE) {
		int k = n->ncpus - i < CPUS_PER_LINE ? n->ncpus - i : CPUS_PER_LINE;

		fputs("        ", out);
		put_ints(out, n->cpus + i, k);
		fputs(i + k < n->ncpus ? ",\n" : "\n", out);
	}
	fputs("      ],\n", out);
}

static void put_pools(FILE *out, const struct np_node *n)
{
	if (n->npools == 0) {
		fputs("      \"hugepages\": [],\n", out);
		return;
	}
	fputs("      \"hugepages\": [\n", out);
	for (int k = 0; k < n->npools; k++) {
		fprintf(out, "        {\"size_kb\": %" PRIu64 ", \"total\": %" PRIu64,
			n->pools[k].size_kb, n->pools[k].total);
		/* Unknown free pages are left out: the reader then knows it is unknown. */
		if (n->pools[k].free_known)
			fprintf(out, ", \"free\": %" PRIu64, n->pools[k].free);
		fprintf(out, "}%s\n", k + 1 < n->npools ? "," : "");
	}
	fputs("      ],\n", out);
}

static void put_node(FILE *out, const np_topo *t, const struct runs *r, int i)
{
	const struct np_node *n = np_topo_node(t, i);
	int nn = np_topo_node_count(t);

	fprintf(out, "    {\n      \"id\": %d,\n", n->os_id);
	put_node_cpus(out, n);
	fprintf(out, "      \"memory_mb\": {\"total\": %" PRIu64, n->mem_total_kb / 1024);
	if (n->mem_free_known)
		fprintf(out, ", \"free\": %" PRIu64, n->mem_free_kb / 1024);
	fputs("},\n", out);
	put_pools(out, n);
	fputs("      \"distances\": [", out);
	for (int j = 0; j < nn; j++) {
		uint32_t d = np_topo_distance(t, i, j);

		if (d == NP_DISTANCE_UNREACHABLE)
			fprintf(out, "%snull", j ? ", " : "");
		else
			fprintf(out, "%s%" PRIu32, j ? ", " : "", d);
	}
	fprintf(out, "]\n    }%s\n", i + 1 < nn ? "," : "");
}

/* An id that may be unknown (-1): a number or null. */
static void put_id(FILE *out, const char *key, int id)
{
	if (id < 0)
		fprintf(out, ", \"%s\": null", key);
	else
		fprintf(out, ", \"%s\": %d", key, id);
}

static void put_cpu(FILE *out, const np_topo *t, const struct runs *r, int i)
{
	const struct np_cpu *c = np_topo_cpu(t, i);

	fprintf(out, "    {\"id\": %d", c->os_id);
	put_id(out, "node", c->node_idx < 0 ? -1 : np_topo_node(t, c->node_idx)->os_id);
	put_id(out, "core", c->core);
	put_id(out, "socket", c->socket);
	fputs(", \"siblings\": [", out);
	put_siblings(out, r, np_topo_cpu_count(t), i);
	fprintf(out, "], \"online\": %s}%s\n", c->online ? "true" : "false",
		i + 1 < np_topo_cpu_count(t) ? "," : "");
}

/* "0x" and DIGITS hex digits, or null when the source did not say (0). */
static void put_hex(FILE *out, const char *key, unsigned v, int digits)
{
	if (v == 0)
		fprintf(out, ", \"%s\": null", key);
	else
		fprintf(out, ", \"%s\": \"0x%0*x\"", key, digits, v);
}

static void put_device(FILE *out, const np_topo *t, const struct runs *r, int i)
{
	const struct np_device *d = np_topo_device(t, i);

	fprintf(out, "    {\"address\": \"%s\"", d->address);
	put_hex(out, "vendor", d->vendor, 4);
	put_hex(out, "device", d->device, 4);
	put_hex(out, "class", d->class_code, 6);
	put_id(out, "node", d->node_idx < 0 ? -1 : np_topo_node(t, d->node_idx)->os_id);
	fprintf(out, "}%s\n", i + 1 < np_topo_device_count(t) ? "," : "");
}

/* "name": [ ...one element per line... ] with PUT writing element I. */
static void put_list(FILE *out, const np_topo *t, const struct runs *r, const char *name, int n,
		     bool last, void (*put)(FILE *, const np_topo *, const struct runs *, int))
{
	if (n == 0) {
		fprintf(out, "  \"%s\": []%s\n", name, last ? "" : ",");
		return;
	}
	fprintf(out, "  \"%s\": [\n", name);
	for (int i = 0; i < n; i++)
		put(out, t, r, i);
	fprintf(out, "  ]%s\n", last ? "" : ",");
}

int np__topo_write_json(const np_topo *t, FILE *out)
{
	struct runs r = { 0 };
	int rc = sibling_runs(t, &r);

	if (rc)
		goto out;
	fputs("{\n  \"schema\": \"numaplace.topology/1\",\n", out);
	fprintf(out, "  \"distances_source\": \"%s\",\n",
		np_topo_distances_defaulted(t) ? "default" : "firmware");
	put_list(out, t, &r, "nodes", np_topo_node_count(t), false, put_node);
	put_list(out, t, &r, "cpus", np_topo_cpu_count(t), false, put_cpu);
	put_list(out, t, &r, "devices", np_topo_device_count(t), true, put_device);
	fputs("}\n", out);
	rc = ferror(out) ? NP_EOS : 0;
out:
	free(r.by_core);
	free(r.pos);
	return rc;
}
