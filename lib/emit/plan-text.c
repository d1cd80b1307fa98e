/*
 * plan-text.c - a plan for people:
 *
 *   guest cell 0 (4 vCPUs, 8 GiB) -> node 2
 *     pinned: 0->16 1->17 2->18 3->19
 *   guest cell 1 (4 vCPUs, 8 GiB) -> node 3
 *     floating: vCPUs 4-7 on CPUs 24-31
 *   distance 16 (best possible 16); memory strict on 2,3 (basis total); fallback none;
 *   affinity hard
 *
 * (a guest cell over several nodes gets a line with the memory on each),
 * then, with explain, one line per reason (the engine's own text: "why
 * not node 0 for guest cell 0: 8192 MiB asked, 7270 available (...)") and
 * the memory basis; with verbose, how the search ended, in figures with
 * units; a plan that needs other guests' cells moved first lists the
 * moves after the summary ("move first: guest 'vm-3' cell 0 from node 2
 * to node 3 (8 GiB to migrate); pinned: 0->24") and their total.
 * A plan that does not fit says so with its summary reason on the
 * first line and always lists its other reasons: they are the answer.  Nodes are kernel ids; HOST may be NULL (the plan's own node
 * ids are used, and the PCI pools are shown by number only).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "emit/plan-emit.h"

struct tx {
	const np_plan *p;
	const np_host *host;
	const np_topo *topo;
	FILE *out;
};

static int put_list(FILE *out, const char *prefix, const int *ids, int n);

/* "8 GiB", "1.5 GiB", "512 MiB" for people. */
static void fmt_mib(uint64_t mib, char *buf, size_t size)
{
	if (mib >= 1024 && mib % 1024 == 0)
		snprintf(buf, size, "%" PRIu64 " GiB", mib / 1024);
	else if (mib >= 1024)
		snprintf(buf, size, "%.1f GiB", (double)mib / 1024.0);
	else
		snprintf(buf, size, "%" PRIu64 " MiB", mib);
}

/* Node indexes as "2,3" (kernel ids, in the given order). */
static void put_node_list(const struct tx *t, const int *idx, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(t->out, "%s%d", i ? "," : "", np__plan_node_os(t->p, t->topo, idx[i]));
}

static int put_list(FILE *out, const char *prefix, const int *ids, int n)
{
	char *s = np__cpulist(ids, n);

	if (!s)
		return NP_ENOMEM;
	fprintf(out, "%s%s", prefix, s);
	free(s);
	return 0;
}

/* The pinning, floating set and kept CPUs of plan cell C. */
static int put_cell_cpus(const struct tx *t, const struct np_plan_cell *c)
{
	int rc = 0;

	if (c->npins > 0) {
		fputs("    pinned:", t->out);
		for (int k = 0; k < c->npins; k++)
			fprintf(t->out, " %d->%d", c->pins[k].vcpu, c->pins[k].pcpu);
		fputc('\n', t->out);
	}
	if (c->nfloat > 0) {
		rc = put_list(t->out, "    floating: vCPUs ", c->float_vcpus, c->nfloat);
		if (!rc)
			rc = put_list(t->out, " on CPUs ", c->cpuset, c->ncpuset);
		fputc('\n', t->out);
	}
	if (!rc && c->nreserved > 0) {
		rc = put_list(t->out, "    emulator threads on CPUs ", c->reserved, c->nreserved);
		fputc('\n', t->out);
	}
	if (!rc && c->nblocked > 0) {
		rc = put_list(t->out, "    kept free (siblings): CPUs ", c->blocked, c->nblocked);
		fputc('\n', t->out);
	}
	return rc;
}

/*
 * A guest cell over several nodes (a guest without NUMA topology): the
 * memory each node holds, in MiB, and its vCPUs, which float over the
 * CPUs of all of them (every plan cell has that same cpuset).
 */
static int put_split(const struct tx *t, const struct np__gcell *g)
{
	const struct np_plan_cell *any = NULL;
	bool first = true;

	fputs("    memory:", t->out);
	for (int i = 0; i < t->p->ncells; i++) {
		const struct np_plan_cell *c = &t->p->cells[i];

		if (c->guest_cell != g->id)
			continue;
		fprintf(t->out, "%s %" PRIu64 " MiB on node %d", first ? "" : ",", c->memory_mb,
			np__plan_node_os(t->p, t->topo, c->node_idx));
		first = false;
		any = c->ncpuset && !any ? c : any;
	}
	fputc('\n', t->out);
	if (!any || g->nvcpus == 0)
		return 0;
	return put_list(t->out, "    floating: vCPUs ", g->vcpus, g->nvcpus) ||
		       put_list(t->out, " on CPUs ", any->cpuset, any->ncpuset) ||
		       fputc('\n', t->out) == EOF
		   ? NP_ENOMEM
		   : 0;
}

/* A guest cell split over nodes without pins (its vCPUs float over all of them). */
static bool is_split(const struct tx *t, const struct np__gcell *g)
{
	for (int i = 0; i < t->p->ncells; i++)
		if (t->p->cells[i].guest_cell == g->id && t->p->cells[i].npins > 0)
			return false;
	return g->nnodes > 1;
}

static int put_gcell(const struct tx *t, const struct np__gcell *g)
{
	char mem[32];
	int rc = 0;
	bool huge = false;

	for (int i = 0; i < t->p->ncells; i++)
		if (t->p->cells[i].guest_cell == g->id)
			huge |= np__plan_cell_huge(t->host, &t->p->cells[i]);

	fmt_mib(g->memory_mb, mem, sizeof(mem));
	fprintf(t->out, "guest cell %d (%d vCPU%s, %s) -> node%s ", g->id, g->nvcpus,
		g->nvcpus == 1 ? "" : "s", mem, g->nnodes > 1 ? "s" : "");
	put_node_list(t, g->nodes, g->nnodes);
	if (huge)
		fprintf(t->out, ", %" PRIu64 " KiB pages", g->pagesize_kb);
	fputc('\n', t->out);
	if (is_split(t, g))
		return put_split(t, g);
	for (int i = 0; i < t->p->ncells && !rc; i++)
		if (t->p->cells[i].guest_cell == g->id)
			rc = put_cell_cpus(t, &t->p->cells[i]);
	return rc;
}

/* The largest distance between the plan's nodes (from the host when known). */
static uint32_t max_distance(const struct tx *t)
{
	uint32_t m = 10;

	if (!t->topo)
		return t->p->score.max_distance;
	for (int i = 0; i < t->p->nnodeset; i++)
		for (int j = 0; j < t->p->nnodeset; j++) {
			uint32_t d = np_topo_distance(t->topo, t->p->nodeset[i], t->p->nodeset[j]);

			m = d > m ? d : m;
		}
	return m;
}

static void put_summary(const struct tx *t)
{
	uint32_t d = max_distance(t), best = t->p->score.best_max_distance;

	if (d == NP_DISTANCE_UNREACHABLE)
		fputs("distance unreachable", t->out);
	else
		fprintf(t->out, "distance %" PRIu32, d);
	if (best > 0 && t->p->nnodeset > 1)
		fprintf(t->out, " (best possible %" PRIu32 ")", best);
	fprintf(t->out, "; memory %s on ", np_mem_policy_name(t->p->mem_policy));
	put_node_list(t, t->p->nodeset, t->p->nnodeset);
	fprintf(t->out, " (basis %s)", np_memory_basis_name(t->p->memory_basis));
	fputs("; fallback ", t->out);
	if (t->p->nfallback == 0)
		fputs("none", t->out);
	put_node_list(t, t->p->fallback, t->p->nfallback);
	fprintf(t->out, "; affinity %s\n", t->p->affinity == NP_AFFINITY_SOFT ? "soft" : "hard");
}

static void put_pci(const struct tx *t)
{
	for (int i = 0; i < t->p->npci; i++) {
		const struct np_plan_pci *d = &t->p->pci[i];
		const struct np_pci_pool *pool =
			t->host && d->pool < np_host_pci_pool_count(t->host)
				? np_host_pci_pool(t->host, d->pool)
				: NULL;

		fprintf(t->out, "pci: %d device%s", d->count, d->count == 1 ? "" : "s");
		if (!pool)
			fprintf(t->out, " from pool %d\n", d->pool);
		else if (pool->node_idx < 0)
			fprintf(t->out, " %04x:%04x (no NUMA node)\n", pool->vendor, pool->product);
		else
			fprintf(t->out, " %04x:%04x on node %d\n", pool->vendor, pool->product,
				np__plan_node_os(t->p, t->topo, pool->node_idx));
	}
}

/*
 * The moves of other guests' cells the plan needs first, one a line with
 * where their vCPUs go, then how much memory they migrate in all.
 */
static int put_moves(const struct tx *t)
{
	char mem[32];
	int rc = 0;

	for (int i = 0; i < t->p->nmoves && !rc; i++) {
		const struct np_plan_move *m = &t->p->moves[i];
		const struct np_plan_cell *c = &m->cell;

		fmt_mib(c->memory_mb, mem, sizeof(mem));
		fprintf(t->out, "move first: guest '%s' cell %d from node %d to node %d (%s to "
			"migrate)", m->guest, c->guest_cell,
			np__plan_node_os(t->p, t->topo, m->from_idx),
			np__plan_node_os(t->p, t->topo, c->node_idx), mem);
		if (c->npins > 0)
			fputs("; pinned:", t->out);
		for (int k = 0; k < c->npins; k++)
			fprintf(t->out, " %d->%d", c->pins[k].vcpu, c->pins[k].pcpu);
		if (c->nfloat > 0)
			rc = put_list(t->out, "; floating on CPUs ", c->cpuset, c->ncpuset);
		fputc('\n', t->out);
	}
	if (!rc && t->p->nmoves > 0) {
		fmt_mib(np_plan_moves_mb(t->p), mem, sizeof(mem));
		fprintf(t->out, "moves: %d, %s to migrate in all (%s)\n", t->p->nmoves, mem,
			t->p->moves_exact ? "the cheapest, proven"
					  : "the cheapest found: the search budget ran out");
	}
	return rc;
}

/* Every reason but SKIP (the no-fit summary, already said), one a line. */
static void put_reasons(const struct tx *t, const char *skip)
{
	for (int i = 0; i < t->p->nreasons; i++)
		if (t->p->reasons[i].text != skip)
			fprintf(t->out, "%s\n", t->p->reasons[i].text ? t->p->reasons[i].text : "");
}

static void put_basis(const struct tx *t)
{
	if (t->p->memory_basis == NP_MEMORY_BASIS_FREE)
		fputs("memory basis free: a node holds at most the smaller of its memory less "
		      "what is claimed on it and the free memory the host reported (libxl's "
		      "rule)\n",
		      t->out);
	else
		fputs("memory basis total: a node holds its memory less what is claimed on it "
		      "(Nova's rule; memory other software uses is not counted)\n",
		      t->out);
}

/* How the search ended, in figures with their units (--verbose). */
static void put_search(const struct tx *t)
{
	const struct np_plan_score *s = &t->p->score;

	char how[96] = "optimal (proven)";

	if (!s->exact && s->gap_term == NP_TERM_NONE)
		snprintf(how, sizeof(how), "bounded (budget ran out), proven optimal on every term");
	else if (!s->exact && s->gap_term == NP_TERM_UNKNOWN)
		snprintf(how, sizeof(how), "bounded (budget ran out), no bound on its gap");
	else if (!s->exact)
		snprintf(how, sizeof(how), "bounded (budget ran out), at most %" PRIu64 " above the "
			 "optimum in %s", s->gap, np_term_name(s->gap_term));
	fprintf(t->out,
		"search: %s after %" PRIu64 " search step%s; %" PRIu64
		" MiB of capacity stranded on the host after it; %d PCI device%s off the "
		"guest's nodes\n",
		how, s->steps, s->steps == 1 ? "" : "s", s->stranded, s->device_misses,
		s->device_misses == 1 ? "" : "s");
}

int np__plan_write_text(const np_plan *p, const np_host *host, const np_request *req,
			unsigned flags, FILE *out, struct np_error *err)
{
	struct tx t = { p, host, host ? np_host_topo(host) : NULL, out };
	struct np__gcell *g = NULL;
	const char *why;
	int ng = 0, rc;

	(void)req;
	if (!p->fits) {
		why = np_plan_no_fit_summary(p);
		fprintf(out, "no placement fits this guest%s%s\n", why ? ": " : "", why ? why : "");
		put_reasons(&t, why);
		if (flags & NP_PLAN_EXPLAIN)
			put_basis(&t);
		if (flags & NP_PLAN_VERBOSE)
			put_search(&t);
		return ferror(out) ? NP_EOS : 0;
	}
	if (!t.topo && !p->node_os)
		return np__err(err, NP_EINPUT, "cannot write the plan: its host nodes are unknown");
	rc = np__plan_gcells(p, &g, &ng);
	for (int k = 0; k < ng && !rc; k++)
		rc = put_gcell(&t, &g[k]);
	np__plan_gcells_free(g, ng);
	if (rc)
		return np__err(err, rc, "out of memory");
	put_summary(&t);
	put_pci(&t);
	if (put_moves(&t))
		return np__err(err, NP_ENOMEM, "out of memory");
	if (flags & NP_PLAN_EXPLAIN) {
		put_reasons(&t, NULL);
		put_basis(&t);
	}
	if (flags & NP_PLAN_VERBOSE)
		put_search(&t);
	return ferror(out) ? NP_EOS : 0;
}
