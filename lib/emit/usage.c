/*
 * usage.c - np_usage_write(): what a host has given out, node by node,
 * and which claims hold it (`numaplace state show`, `topology --state`).
 *
 * Design: everything is read from the host after the claims were charged
 * onto it (np_state_apply()), so the view shows exactly what the engine
 * will see on the next claim: per node the dedicated CPUs pinned and
 * free, the floating vCPUs against the shared CPUs' capacity (the
 * allocation ratio), memory used and free without over-commit, each huge
 * page pool's pages used and free; the claims only say which nodes they
 * sit on and what they take there.  Text is for people (one row a node,
 * then one line a claim); JSON (numaplace.usage/1,
 * docs/formats/usage.md) is one node or claim per line.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/emit.h>
#include <numaplace/util.h>

#include "emit/emit-int.h"
#include "util/json-util.h"
#include "util/util.h"

#define SCHEMA	    "numaplace.usage/1"
#define IDS_SHOWN   8 /* claim ids a node's text row names before "+N" */

/* What one claim takes on one node (node_idx), summed over its plan cells there. */
struct take {
	uint64_t memory_mb;
	int pins, floats, reserved;
	uint64_t pagesize_kb; /* of the first cell there */
};

static bool on_node(const np_plan *plan, int node_idx, struct take *t)
{
	bool on = false;

	memset(t, 0, sizeof(*t));
	for (int c = 0; c < np_plan_cell_count(plan); c++) {
		const struct np_plan_cell *pc = np_plan_cell(plan, c);

		if (pc->node_idx != node_idx)
			continue;
		if (!on)
			t->pagesize_kb = pc->pagesize_kb;
		on = true;
		t->memory_mb += pc->memory_mb;
		t->pins += pc->npins;
		t->floats += pc->nfloat;
		t->reserved += pc->nreserved + pc->nblocked;
	}
	return on;
}

/*
 * Memory of node J no claim holds yet, without over-commit; with memory
 * basis free, never more than the node reported free (as the engine
 * counts it, docs/policies/placement.md).
 */
static uint64_t mem_free(const np_host *host, int j)
{
	const struct np_host_node *hn = np_host_node(host, j);
	uint64_t m = hn->memory_mb > hn->memory_used_mb ? hn->memory_mb - hn->memory_used_mb : 0;

	if (np_host_memory_basis(host) == NP_MEMORY_BASIS_FREE && hn->memory_free_mb < m)
		m = hn->memory_free_mb;
	return m;
}

/* Memory for people, "0" for none. */
static void fmt_mb(uint64_t mb, char *buf, size_t size)
{
	if (mb)
		np__fmt_mem(mb * 1024, buf, size);
	else
		snprintf(buf, size, "0");
}

static uint64_t pool_free(const struct np_page_pool *p)
{
	return p->total > p->used + p->reserved ? p->total - p->used - p->reserved : 0;
}

/* Floating vCPUs node HN can take in all (the allocation ratio), or -1: no limit. */
static long long vcpu_cap(const np_host *host, const struct np_host_node *hn)
{
	double cpu_ratio, ram_ratio;

	if (!np_host_limits(host, &cpu_ratio, &ram_ratio))
		return -1;
	return (long long)((double)hn->nshared * cpu_ratio);
}

/* ---- text ----------------------------------------------------------------- */

static void text_pools(const struct np_host_node *hn, char *buf, size_t size)
{
	size_t off = 0;
	char page[16];

	buf[0] = '\0';
	for (int k = 1; k < hn->npools && off < size; k++) {
		const struct np_page_pool *p = &hn->pools[k];

		if (p->total == 0)
			continue;

		np__fmt_pagesize(p->size_kb, page, sizeof(page));
		off += (size_t)snprintf(buf + off, size - off, "%s%s %" PRIu64 "/%" PRIu64,
					off ? ", " : "", page, p->used, pool_free(p));
	}
	if (!buf[0])
		snprintf(buf, size, "-");
}

static void text_node(const np_host *host, const struct np_usage_claim *claims, int nclaims,
		      int j, FILE *out)
{
	const struct np_host_node *hn = np_host_node(host, j);
	long long cap = vcpu_cap(host, hn);
	char vcpus[48], used[24], avail[24], pools[128];
	struct take t;
	int shown = 0, more = 0;

	if (cap >= 0)
		snprintf(vcpus, sizeof(vcpus), "%u of %lld", hn->cpu_usage, cap);
	else
		snprintf(vcpus, sizeof(vcpus), "%u", hn->cpu_usage);
	fmt_mb(hn->memory_used_mb, used, sizeof(used));
	fmt_mb(mem_free(host, j), avail, sizeof(avail));
	text_pools(hn, pools, sizeof(pools));
	fprintf(out, "%4d  %4d  %6d  %4d  %14s  %11s  %9s  %-20s ", hn->os_id,
		np_topo_node(np_host_topo(host), j)->ncpus, hn->npinned,
		hn->ndedicated - hn->npinned, vcpus, used, avail, pools);
	for (int i = 0; i < nclaims; i++) {
		if (!on_node(claims[i].plan, j, &t))
			continue;
		if (shown == IDS_SHOWN) {
			more++;
			continue;
		}
		fprintf(out, "%s%s", shown++ ? ", " : " ", claims[i].id);
	}
	if (more)
		fprintf(out, " (+%d)", more);
	fputs(shown ? "\n" : " -\n", out);
}

/* Which CPUs of a plan plan_cpus() lists. */
enum which { PINNED, FLOATING, HELD };

/* The CPU of plan cell PC's list WHICH at I (HELD: emulator CPUs, then blocked siblings). */
static int cpu_at(const struct np_plan_cell *pc, enum which w, int i)
{
	if (w == PINNED)
		return pc->pins[i].pcpu;
	if (w == FLOATING)
		return pc->cpuset[i];
	return i < pc->nreserved ? pc->reserved[i] : pc->blocked[i - pc->nreserved];
}

/*
 * The host CPUs PLAN takes, increasing, without repeats: those its vCPUs
 * are pinned to, those they float on, or those it holds without running
 * on them (an isolated emulator thread's, siblings kept idle).
 */
static int plan_cpus(const np_plan *plan, enum which w, int *ids, int max)
{
	int n = 0;

	for (int c = 0; c < np_plan_cell_count(plan); c++) {
		const struct np_plan_cell *pc = np_plan_cell(plan, c);
		int m = w == PINNED ? pc->npins : w == FLOATING ? pc->ncpuset
								 : pc->nreserved + pc->nblocked;

		for (int i = 0; i < m && n < max; i++) {
			int cpu = cpu_at(pc, w, i);
			int k = n;

			while (k > 0 && ids[k - 1] > cpu) /* insertion: the lists are short */
				k--;
			if (k > 0 && ids[k - 1] == cpu)
				continue;
			memmove(ids + k + 1, ids + k, (size_t)(n - k) * sizeof(*ids));
			ids[k] = cpu;
			n++;
		}
	}
	return n;
}

/* Claim C's nodes (os ids, increasing) into IDS; how many. */
static int claim_nodes(const np_host *host, const struct np_usage_claim *c, int *ids,
		       struct take *sum)
{
	const np_topo *topo = np_host_topo(host);
	struct take t;
	int n = 0;

	memset(sum, 0, sizeof(*sum));
	sum->pagesize_kb = 4;
	for (int j = 0; j < np_topo_node_count(topo); j++) {
		if (!on_node(c->plan, j, &t))
			continue;
		ids[n++] = np_topo_node(topo, j)->os_id;
		sum->memory_mb += t.memory_mb;
		sum->pins += t.pins;
		sum->floats += t.floats;
		sum->reserved += t.reserved;
		sum->pagesize_kb = t.pagesize_kb > sum->pagesize_kb ? t.pagesize_kb : sum->pagesize_kb;
	}
	return n;
}

static int plan_pci(const np_plan *plan)
{
	int n = 0;

	for (int i = 0; i < np_plan_pci_count(plan); i++)
		n += np_plan_pci(plan, i)->count;
	return n;
}

/* "  vm-7  nodes 2,3: 8.0 GiB, 4 vCPUs pinned to CPUs 16-17,24-25" */
static int text_claim(const np_host *host, const struct np_usage_claim *c, FILE *out)
{
	int n, pci = plan_pci(c->plan), max = np_topo_cpu_count(np_host_topo(host)) +
					      np_topo_node_count(np_host_topo(host)) + 1;
	int *ids = np__calloc((size_t)max, sizeof(int));
	size_t size = (size_t)max * 12 + 16;
	char *list = np__calloc(size, 1), page[16];
	struct take t;

	if (!ids || !list) {
		free(ids);
		free(list);
		return NP_ENOMEM;
	}
	n = claim_nodes(host, c, ids, &t);
	fprintf(out, "  %s  node%s %s: ", c->id, n == 1 ? "" : "s",
		np__format_cpulist(ids, n, list, size));
	fmt_mb(t.memory_mb, list, size);
	fputs(list, out);
	if (t.pagesize_kb > 4) {
		np__fmt_pagesize(t.pagesize_kb, page, sizeof(page));
		fprintf(out, " in %s pages", page);
	}
	if (t.pins) {
		n = plan_cpus(c->plan, PINNED, ids, max);
		fprintf(out, ", %d vCPU%s pinned to CPUs %s", t.pins, t.pins == 1 ? "" : "s",
			np__format_cpulist(ids, n, list, size));
	}
	if (t.reserved) {
		n = plan_cpus(c->plan, HELD, ids, max);
		fprintf(out, ", CPU%s %s kept for it (emulator thread, idle SMT siblings)", n == 1 ? "" : "s",
			np__format_cpulist(ids, n, list, size));
	}
	if (t.floats) {
		n = plan_cpus(c->plan, FLOATING, ids, max);
		fprintf(out, ", %d vCPU%s floating on CPUs %s", t.floats, t.floats == 1 ? "" : "s",
			np__format_cpulist(ids, n, list, size));
	}
	if (pci)
		fprintf(out, ", %d PCI device%s", pci, pci == 1 ? "" : "s");
	fputc('\n', out);
	free(ids);
	free(list);
	return 0;
}

static int write_text(const np_host *host, const struct np_usage_claim *claims, int nclaims,
		      const char *name, FILE *out)
{
	const np_topo *topo = np_host_topo(host);
	uint64_t mem = 0;
	int pinned = 0, rc = 0;
	unsigned floating = 0;
	char used[24], shown[300], source[300];

	for (int j = 0; j < np_topo_node_count(topo); j++) {
		mem += np_host_node(host, j)->memory_used_mb;
		pinned += np_host_node(host, j)->npinned;
		floating += np_host_node(host, j)->cpu_usage;
	}
	np__fmt_mem(mem * 1024, used, sizeof(used));
	/* The paths are anyone's bytes (ids are checked when the state is read). */
	np_text_shown(name, shown, sizeof(shown));
	np_text_shown(np_topo_source_name(topo) ? np_topo_source_name(topo) : "", source,
		      sizeof(source));
	fprintf(out, "%s: %d claim%s: %d CPU%s pinned, %u vCPU%s floating, %s memory\n", shown,
		nclaims, nclaims == 1 ? "" : "s", pinned, pinned == 1 ? "" : "s", floating,
		floating == 1 ? "" : "s", used);
	fprintf(out, "host: %d node%s (%s '%s'), memory basis %s\n", np_topo_node_count(topo),
		np_topo_node_count(topo) == 1 ? "" : "s",
		np_source_kind_name(np_topo_source_kind(topo)), source,
		np_memory_basis_name(np_host_memory_basis(host)));
	fprintf(out, "node  CPUs  pinned  free  floating vCPUs  memory used       free  "
		     "huge pages used/free  claims\n");
	for (int j = 0; j < np_topo_node_count(topo); j++)
		text_node(host, claims, nclaims, j, out);
	if (nclaims)
		fputs("claims:\n", out);
	for (int i = 0; i < nclaims && !rc; i++)
		rc = text_claim(host, &claims[i], out);
	return rc;
}

/* ---- JSON ----------------------------------------------------------------- */

/*
 * TEXT as a JSON string.  Claim ids are UTF-8 without control characters
 * (the state reader's rule), but NAME is any path: control characters are
 * escaped, and when the bytes are not UTF-8 each byte past ASCII becomes
 * '?', so the document is always valid JSON.
 */
static void put_str(FILE *out, const char *text)
{
	bool utf8 = np__utf8_valid(text, strlen(text));

	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p >= 0x80 && !utf8 ? '?' : *p, out);
	}
	fputc('"', out);
}

static void put_ints(FILE *out, const int *v, int n)
{
	fputc('[', out);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%d", i ? "," : "", v[i]);
	fputc(']', out);
}

static void json_pools(const struct np_host_node *hn, FILE *out)
{
	fputc('[', out);
	for (int k = 1; k < hn->npools; k++) {
		const struct np_page_pool *p = &hn->pools[k];

		fprintf(out, "%s{\"size_kb\":%" PRIu64 ",\"total\":%" PRIu64 ",\"used\":%" PRIu64
			",\"reserved\":%" PRIu64 ",\"free\":%" PRIu64 "}", k > 1 ? "," : "",
			p->size_kb, p->total, p->used, p->reserved, pool_free(p));
	}
	fputc(']', out);
}

static void json_node(const np_host *host, const struct np_usage_claim *claims, int nclaims,
		      int j, bool last, FILE *out)
{
	const struct np_host_node *hn = np_host_node(host, j);
	const struct np_node *tn = np_topo_node(np_host_topo(host), j);
	long long cap = vcpu_cap(host, hn);
	struct take t;
	int shown = 0;

	fprintf(out, "  {\"id\":%d,\"cpus\":{\"total\":%d,\"dedicated\":%d,\"shared\":%d,\"pinned\":",
		hn->os_id, tn->ncpus, hn->ndedicated, hn->nshared);
	put_ints(out, hn->pinned, hn->npinned);
	fprintf(out, ",\"pinned_free\":%d,\"floating_vcpus\":%u,\"floating_capacity\":",
		hn->ndedicated - hn->npinned, hn->cpu_usage);
	if (cap >= 0)
		fprintf(out, "%lld", cap);
	else
		fputs("null", out);
	fprintf(out, "},\"memory_mb\":{\"total\":%" PRIu64 ",\"used\":%" PRIu64 ",\"free\":%" PRIu64
		",\"reported_free\":", hn->memory_mb, hn->memory_used_mb, mem_free(host, j));
	if (tn->mem_free_known)
		fprintf(out, "%" PRIu64, tn->mem_free_kb / 1024);
	else
		fputs("null", out);
	fputs("},\"hugepages\":", out);
	json_pools(hn, out);
	fputs(",\"claims\":[", out);
	for (int i = 0; i < nclaims; i++) {
		if (!on_node(claims[i].plan, j, &t))
			continue;
		if (shown++)
			fputc(',', out);
		put_str(out, claims[i].id);
	}
	fprintf(out, "]}%s\n", last ? "" : ",");
}

static int json_claim(const np_host *host, const struct np_usage_claim *c, bool last, FILE *out)
{
	int max = np_topo_cpu_count(np_host_topo(host)) + np_topo_node_count(np_host_topo(host)) + 1;
	int n, *ids = np__calloc((size_t)max, sizeof(int));
	struct take t;

	if (!ids)
		return NP_ENOMEM;
	fputs("  {\"id\":", out);
	put_str(out, c->id);
	fputs(",\"nodes\":", out);
	n = claim_nodes(host, c, ids, &t);
	put_ints(out, ids, n);
	fprintf(out, ",\"memory_mb\":%" PRIu64 ",\"pagesize_kb\":%" PRIu64 ",\"pinned_vcpus\":%d,"
		"\"floating_vcpus\":%d,\"pinned_cpus\":", t.memory_mb, t.pagesize_kb, t.pins,
		t.floats);
	put_ints(out, ids, plan_cpus(c->plan, PINNED, ids, max));
	fputs(",\"held_cpus\":", out);
	put_ints(out, ids, plan_cpus(c->plan, HELD, ids, max));
	fputs(",\"floating_cpus\":", out);
	put_ints(out, ids, plan_cpus(c->plan, FLOATING, ids, max));
	fprintf(out, ",\"pci_devices\":%d}%s\n", plan_pci(c->plan), last ? "" : ",");
	free(ids);
	return 0;
}

static void json_pci(const np_host *host, FILE *out)
{
	fputc('[', out);
	for (int i = 0; i < np_host_pci_pool_count(host); i++) {
		const struct np_pci_pool *p = np_host_pci_pool(host, i);

		fprintf(out, "%s{\"node\":", i ? "," : "");
		if (p->node_idx >= 0)
			fprintf(out, "%d", np_host_node(host, p->node_idx)->os_id);
		else
			fputs("null", out);
		fprintf(out, ",\"vendor\":\"%04x\",\"product\":\"%04x\",\"total\":%d,\"used\":%d}",
			p->vendor, p->product, p->count, p->used);
	}
	fputc(']', out);
}

/*
 * Written with fprintf, not jansson, as topo-json.c is: the layout (the
 * head on one line, then one node or claim a line, as the state file keeps
 * one claim a line) is part of its use, and nothing here can fail for
 * want of memory but the CPU lists.
 */
static int write_json(const np_host *host, const struct np_usage_claim *claims, int nclaims,
		      const char *name, FILE *out)
{
	const np_topo *topo = np_host_topo(host);
	int n = np_topo_node_count(topo), rc = 0;
	double cpu_ratio = 0, ram_ratio = 0;
	bool limits = np_host_limits(host, &cpu_ratio, &ram_ratio);

	fputs("{\"schema\":\"" SCHEMA "\",\"name\":", out);
	put_str(out, name);
	fprintf(out, ",\"source\":\"%s\",\"memory_basis\":\"%s\",",
		np_source_kind_name(np_topo_source_kind(topo)),
		np_memory_basis_name(np_host_memory_basis(host)));
	if (limits)
		fprintf(out, "\"cpu_ratio\":%.17g,\"ram_ratio\":%.17g,\"pci\":", cpu_ratio, ram_ratio);
	else
		fputs("\"cpu_ratio\":null,\"ram_ratio\":null,\"pci\":", out);
	json_pci(host, out);
	fputs(",\n\"nodes\": [\n", out);
	for (int j = 0; j < n; j++)
		json_node(host, claims, nclaims, j, j + 1 == n, out);
	fputs("],\n\"claims\": [\n", out);
	for (int i = 0; i < nclaims && !rc; i++)
		rc = json_claim(host, &claims[i], i + 1 == nclaims, out);
	fputs("]}\n", out);
	return rc;
}

int np_usage_format_from_name(const char *name, enum np_usage_format *out)
{
	if (strcmp(name, "text") == 0 || strcmp(name, "json") == 0) {
		*out = name[0] == 't' ? NP_USAGE_TEXT : NP_USAGE_JSON;
		return 0;
	}
	return NP_EINPUT;
}

int np_usage_write(const np_host *host, const struct np_usage_claim *claims, int nclaims,
		   const char *name, enum np_usage_format format, FILE *out, struct np_error *err)
{
	int rc;

	if (format != NP_USAGE_TEXT && format != NP_USAGE_JSON)
		return np__err(err, NP_EINPUT, "unknown usage format %d", (int)format);
	rc = format == NP_USAGE_TEXT ? write_text(host, claims, nclaims, name, out)
				     : write_json(host, claims, nclaims, name, out);
	if (rc == NP_ENOMEM)
		return np__err(err, NP_ENOMEM, "cannot write the usage: out of memory");
	if (rc || fflush(out) || ferror(out))
		return np__err(err, NP_EOS, "cannot write the usage: output error");
	return 0;
}
