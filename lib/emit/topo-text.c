/*
 * topo-text.c - `numaplace topology` for people: what `numactl -H` and
 * `xl info -n` show, on one screen.
 *
 * Layout: a summary line, one row per node (CPUs as a cpulist, memory
 * free/total, huge page pools free/total), online CPUs in no node (their
 * node is offline), offline CPUs, the distance table (saying why, when
 * the source gave none) and the PCI devices.  A node's CPU list longer than
 * its column wraps at commas onto lines of its own, at most CPU_LINES of
 * them, the last one then "... (N CPUs)"; the other lists wrap at WIDTH.
 * Uses only the public accessors, so it shows exactly what the API sees.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emit/emit-int.h"
#include "util/util.h"

#define CPU_COL   16 /* the width of the node table's cpus column */
#define CPU_LINES 4  /* lines a node's CPU list may take */
#define WIDTH     78 /* where free-standing CPU lists wrap */

/* "15.1 GiB", "512 MiB", "0": memory for people. */
static void fmt_mem(uint64_t kb, char *buf, size_t size)
{
	if (kb >= 1024 * 1024)
		snprintf(buf, size, "%.1f GiB", (double)kb / (1024.0 * 1024.0));
	else if (kb >= 1024)
		snprintf(buf, size, "%" PRIu64 " MiB", kb / 1024);
	else
		snprintf(buf, size, "%" PRIu64 " KiB", kb);
}

/* "2M", "1G", "64K": a huge page size. */
static void fmt_pagesize(uint64_t kb, char *buf, size_t size)
{
	if (kb % (1024 * 1024) == 0)
		snprintf(buf, size, "%" PRIu64 "G", kb / (1024 * 1024));
	else if (kb % 1024 == 0)
		snprintf(buf, size, "%" PRIu64 "M", kb / 1024);
	else
		snprintf(buf, size, "%" PRIu64 "K", kb);
}

static const char *pci_class_name(unsigned cls)
{
	switch (cls >> 16) {
	case 0x01: return "storage";
	case 0x02: return "network";
	case 0x03: return "display";
	case 0x04: return "multimedia";
	case 0x05: return "memory";
	case 0x06: return "bridge";
	case 0x0b: return "processor";
	case 0x0c: return "serial-bus";
	case 0x12: return "accelerator";
	default: return cls ? "other" : "unknown";
	}
}

/*
 * Distinct sockets (BY_CORE false) or cores (true) among KEYS, sorted by
 * np__cmp_cpu_key; CPUs whose socket or core is unknown are not counted.
 */
static int count_distinct(const struct np__cpu_key *k, int n, bool by_core)
{
	int m = 0;

	for (int i = 0; i < n; i++) {
		bool known = k[i].socket >= 0 && (!by_core || k[i].core >= 0);
		bool same = i > 0 && k[i].socket == k[i - 1].socket &&
			    (!by_core || (k[i].node == k[i - 1].node &&
					  k[i].core == k[i - 1].core));

		m += known && !same;
	}
	return m;
}

static int write_summary(const np_topo *t, FILE *out)
{
	int ncpus = np_topo_cpu_count(t), sockets = 0, cores = 0, online = 0;
	struct np__cpu_key *keys = np__calloc((size_t)ncpus, sizeof(*keys));
	char total[40], avail[40];

	if (!keys)
		return NP_ENOMEM; /* a summary without sockets and cores would mislead */
	for (int i = 0; i < ncpus; i++) {
		const struct np_cpu *c = np_topo_cpu(t, i);

		keys[i] = (struct np__cpu_key){ c->socket, c->node_idx, c->core, c->os_id, i };
		online += c->online;
	}
	qsort(keys, (size_t)ncpus, sizeof(*keys), np__cmp_cpu_key);
	sockets = count_distinct(keys, ncpus, false);
	cores = count_distinct(keys, ncpus, true);
	free(keys);
	fmt_mem(np_topo_mem_total_kb(t), total, sizeof(total));
	if (np_topo_mem_free_known(t))
		fmt_mem(np_topo_mem_free_kb(t), avail, sizeof(avail));
	else
		snprintf(avail, sizeof(avail), "unknown");
	fprintf(out, "host: %d node%s, %d CPUs", np_topo_node_count(t),
		np_topo_node_count(t) == 1 ? "" : "s", online);
	if (online != ncpus)
		fprintf(out, " online of %d", ncpus);
	if (sockets && cores)
		fprintf(out, " (%d socket%s, %d cores, %d thread%s per core)", sockets,
			sockets == 1 ? "" : "s", cores, (online + cores - 1) / cores,
			(online + cores - 1) / cores == 1 ? "" : "s");
	fprintf(out, ", %s memory, %s free\n", total, avail);
	fprintf(out, "source: %s %s\n", np_source_kind_name(np_topo_source_kind(t)),
		np_topo_source_name(t));
	return 0;
}

static void write_pools(const struct np_node *n, FILE *out)
{
	char size[32];

	if (n->npools == 0) {
		fputs("-", out);
		return;
	}
	for (int k = 0; k < n->npools; k++) {
		fmt_pagesize(n->pools[k].size_kb, size, sizeof(size));
		if (n->pools[k].free_known)
			fprintf(out, "%s%s %" PRIu64 "/%" PRIu64, k ? "  " : "", size,
				n->pools[k].free, n->pools[k].total);
		else
			fprintf(out, "%s%s unknown/%" PRIu64, k ? "  " : "", size, n->pools[k].total);
	}
}

/*
 * Split the cpulist TEXT at commas into lines of at most WIDE characters:
 * calls LINE(i, start, len) for each, and returns how many there are.
 * A range never splits ("1024-1031" is shorter than any width used).
 */
static int wrap(const char *text, int wide, int max_lines,
		void (*line)(void *ctx, int i, const char *start, int len), void *ctx)
{
	const char *p = text;
	int n = 0;

	while (*p) {
		const char *end = p, *cut = NULL;

		while (*end && (end - p < wide || !cut)) {
			if (*end == ',' && end - p + 1 <= wide)
				cut = end + 1;
			end++;
		}
		if (!*end && end - p <= wide)
			cut = end;
		if (!cut)
			cut = end;
		if (line && n < max_lines)
			line(ctx, n, p, (int)(cut - p));
		n++;
		p = cut;
	}
	return n;
}

/* One node's CPU column: its lines, or "(no CPUs)". */
struct cpu_col {
	char line[CPU_LINES][CPU_COL + 1];
	int n;
};

static void col_line(void *ctx, int i, const char *start, int len)
{
	struct cpu_col *c = ctx;

	snprintf(c->line[i], sizeof(c->line[i]), "%.*s", len, start);
}

/* Fill C; NP_ENOMEM rather than a column that leaves CPUs out. */
static int cpu_column(const struct np_node *n, struct cpu_col *c)
{
	char *list = n->ncpus ? np__cpulist(n->cpus, n->ncpus) : NULL;
	int lines;

	memset(c, 0, sizeof(*c));
	c->n = 1;
	if (!n->ncpus) {
		snprintf(c->line[0], sizeof(c->line[0]), "(no CPUs)");
		return 0;
	}
	if (!list)
		return NP_ENOMEM;
	lines = wrap(list, CPU_COL, CPU_LINES, col_line, c);
	c->n = lines < CPU_LINES ? lines : CPU_LINES;
	if (lines > CPU_LINES)
		snprintf(c->line[CPU_LINES - 1], sizeof(c->line[0]), "... (%d CPUs)", n->ncpus);
	free(list);
	return 0;
}

static int write_nodes(const np_topo *t, FILE *out)
{
	char tot[40], fre[40], mem[96];
	struct cpu_col col;

	fprintf(out, "\n%4s  %-*s %-22s %s\n", "node", CPU_COL, "cpus", "memory free/total",
		"hugepages free/total");
	for (int i = 0; i < np_topo_node_count(t); i++) {
		const struct np_node *n = np_topo_node(t, i);

		if (cpu_column(n, &col))
			return NP_ENOMEM;
		if (n->mem_free_known)
			fmt_mem(n->mem_free_kb, fre, sizeof(fre));
		else
			snprintf(fre, sizeof(fre), "unknown");
		fmt_mem(n->mem_total_kb, tot, sizeof(tot));
		if (n->mem_total_kb)
			snprintf(mem, sizeof(mem), "%s / %s", fre, tot);
		else
			snprintf(mem, sizeof(mem), "(no memory)");
		fprintf(out, "%4d  %-*s %-22s ", n->os_id, CPU_COL, col.line[0], mem);
		write_pools(n, out);
		fputc('\n', out);
		for (int k = 1; k < col.n; k++)
			fprintf(out, "%4s  %s\n", "", col.line[k]);
	}
	return 0;
}

static void list_line(void *ctx, int i, const char *start, int len)
{
	FILE *out = ctx;

	fprintf(out, "%s%.*s\n", i ? "    " : "", len, start);
}

/*
 * "LABEL (N): 0-3,21-23", wrapped at WIDTH, for the CPUs of T that PICK;
 * NP_ENOMEM rather than a missing line ("no CPU is offline").
 */
static int write_cpus(const np_topo *t, FILE *out, const char *label,
		      bool (*pick)(const struct np_cpu *c))
{
	int n = np_topo_cpu_count(t), k = 0, rc = 0;
	int *ids = np__calloc((size_t)n + 1, sizeof(*ids));
	char *list = NULL;

	if (!ids)
		return NP_ENOMEM;
	for (int i = 0; i < n; i++)
		if (pick(np_topo_cpu(t, i)))
			ids[k++] = np_topo_cpu(t, i)->os_id;
	if (k && !(list = np__cpulist(ids, k)))
		rc = NP_ENOMEM;
	else if (k) {
		fprintf(out, "%s (%d): ", label, k);
		wrap(list, WIDTH - (int)strlen(label) - 8, 1 << 20, list_line, out);
	}
	free(list);
	free(ids);
	return rc;
}

static bool offline(const struct np_cpu *c)
{
	return !c->online;
}

/* Online, but the kernel lists them under no node (their node is offline). */
static bool nodeless(const struct np_cpu *c)
{
	return c->online && c->node_idx < 0;
}

static void write_distances(const np_topo *t, FILE *out)
{
	int n = np_topo_node_count(t);

	if (np_topo_distances_defaulted(t) && np_topo_distances_note(t))
		fprintf(out, "\ndistances: assuming 10 local, 20 remote (%s)\n",
			np_topo_distances_note(t));
	else if (np_topo_distances_defaulted(t))
		fprintf(out, "\ndistances: assuming 10 local, 20 remote (the %s source gives none)\n",
			np_source_kind_name(np_topo_source_kind(t)));
	else
		fputs("\ndistances:\n", out);
	fprintf(out, "%4s", "node");
	for (int j = 0; j < n; j++)
		fprintf(out, " %4d", np_topo_node(t, j)->os_id);
	fputc('\n', out);
	for (int i = 0; i < n; i++) {
		fprintf(out, "%4d", np_topo_node(t, i)->os_id);
		for (int j = 0; j < n; j++) {
			uint32_t d = np_topo_distance(t, i, j);

			if (d == NP_DISTANCE_UNREACHABLE)
				fprintf(out, " %4s", "-");
			else
				fprintf(out, " %4" PRIu32, d);
		}
		fputc('\n', out);
	}
}

static void write_devices(const np_topo *t, FILE *out)
{
	int n = np_topo_device_count(t);

	if (n == 0)
		return;
	fprintf(out, "\n%-12s  %-9s  %-11s  %s\n", "device", "id", "class", "node");
	for (int i = 0; i < n; i++) {
		const struct np_device *d = np_topo_device(t, i);
		char id[16] = "-", node[16] = "none";

		if (d->vendor || d->device)
			snprintf(id, sizeof(id), "%04x:%04x", d->vendor & 0xffff, d->device & 0xffff);
		if (d->node_idx >= 0)
			snprintf(node, sizeof(node), "%d", np_topo_node(t, d->node_idx)->os_id);
		fprintf(out, "%-12s  %-9s  %-11s  %s\n", d->address, id,
			pci_class_name(d->class_code), node);
	}
}

int np__topo_write_text(const np_topo *t, FILE *out)
{
	if (write_summary(t, out) || write_nodes(t, out) ||
	    write_cpus(t, out, "online CPUs in no node", nodeless) ||
	    write_cpus(t, out, "offline CPUs", offline))
		return NP_ENOMEM;
	write_distances(t, out);
	write_devices(t, out);
	return ferror(out) ? NP_EOS : 0;
}
