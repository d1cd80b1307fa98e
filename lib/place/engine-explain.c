/*
 * engine-explain.c - the reasons of a plan: why each node could not hold
 * each guest cell, why the best answer using each node the winner left
 * out lost (re-searched with that node forced in, within a small budget),
 * and, when nothing fits, why.  Texts name kernel node ids, and every one
 * carries the figures it compares (asked and available, both distances,
 * both values of the term that decided); the no-fit summary names the
 * resource that fell short (np_plan_no_fit_summary()).
 */
#include "place/engine-int.h"

#define EXPLAIN_STEPS	  4000u

static const char *unit(enum np_resource r)
{
	static const char *const u[] = {"MiB",	   "pages", "pCPUs", "vCPUs", "CPUs",
					"devices", "",	    "nodes", "KiB"};

	return (unsigned)r < NP__ARRAY_SIZE(u) ? u[r] : "";
}

static int os_id(const struct eng *e, int j)
{
	return np_topo_node(e->topo, j)->os_id;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* "8192 MiB asked, 7270 available (why)" for a (cell, node) that does not fit. */
static void fit_text(const struct fitinfo *f, char *buf, size_t size)
{
	if (f->per_core)
		snprintf(buf, size,
			 "thread policy require needs %llu or more threads per core, "
			 "the node has %llu (%s)",
			 (unsigned long long)f->asked, (unsigned long long)f->available, f->why);
	else
		snprintf(buf, size, "%llu %s asked, %llu available (%s)",
			 (unsigned long long)f->asked, unit(f->res),
			 (unsigned long long)f->available, f->why);
}

int np__eng_explain_fits(struct eng *e)
{
	char what[256];
	int rc = 0;

	for (int i = 0; i < e->k && !rc; i++)
		for (int j = 0; j < e->n && !rc; j++) {
			const struct fitinfo *f = &e->fi[i * e->n + j];

			if (f->ok || (e->fixed[i] >= 0 && e->fixed[i] != j))
				continue;
			fit_text(f, what, sizeof(what));
			rc = np__plan_add_reason(e->plan, i, j, -1, f->res, f->asked,
						 f->available, "why not node %d for guest cell %d: %s",
						 os_id(e, j), i, what);
		}
	return rc;
}

/* "{4,5}" or "node 4": the nodes of ASG. */
static void set_text(const struct eng *e, const int *asg, char *buf, size_t size)
{
	int ids[64], m = 0, len;

	for (int i = 0; i < e->k && m < 64; i++) {
		int id = os_id(e, asg[i]), p;

		for (p = 0; p < m && ids[p] != id; p++)
			;
		if (p == m)
			ids[m++] = id;
	}
	qsort(ids, (size_t)m, sizeof(int), cmp_int);
	if (m == 1) {
		snprintf(buf, size, "node %d", ids[0]);
		return;
	}
	len = snprintf(buf, size, "{");
	for (int p = 0; p < m && len > 0 && (size_t)len < size; p++)
		len += snprintf(buf + len, size - (size_t)len, "%s%d", p ? "," : "", ids[p]);
	if (len > 0 && (size_t)len < size)
		snprintf(buf + len, size - (size_t)len, "}");
}

/* The text of a loss decided by term T (after distance), with both values. */
static void loss_text(const struct eng *e, int t, const struct terms *w, const struct terms *a,
		      const char *set, char *buf, size_t size)
{
	long long x = t < NT ? (long long)a->v[t] : 0, y = t < NT ? (long long)w->v[t] : 0;

	/* The terms that count things: one shape, their own words. */
	static const char *const counted[NT] = {
	    [T_WHOLE] = "why not %s: it uses up %lld wholly free node%s (chosen: %lld)",
	    [T_HALF] = "why not %s: it takes %lld node resource%s (CPUs or memory) below half "
		       "free (chosen: %lld)",
	    [T_AVOID] = "why not %s: its nodes hold %lld free PCI device%s other guests may "
			"need (chosen: %lld)",
	};

	if (t < NT && counted[t]) {
		snprintf(buf, size, counted[t], set, x, x == 1 ? "" : "s", y);
		return;
	}
	switch (t) {
	case T_DEMAND:
		snprintf(buf, size,
			 "why not %s: it leaves room for fewer of the cells in demand (%.2f "
			 "weighted cells fewer; chosen: %.2f)",
			 set, (double)x / 1024.0, (double)y / 1024.0);
		break;
	case T_STRAND:
		snprintf(buf, size,
			 "why not %s: it leaves %lld MiB stranded on the host (chosen: %lld MiB)",
			 set, (long long)(e->strand_base + a->v[t]),
			 (long long)(e->strand_base + w->v[t]));
		break;
	case T_FIT:
		snprintf(buf, size,
			 "why not %s: it fits less tightly: the squared free shares of its nodes' "
			 "CPUs and memory drop by %.4f (chosen: %.4f; best fit keeps free "
			 "capacity together)",
			 set, (double)x / 1048576.0, (double)y / 1048576.0);
		break;
	case T_ROOM:
		snprintf(buf, size,
			 e->strategy == NP_STRATEGY_PACK
			     ? "why not %s: pack prefers fuller nodes: %lld MiB of room left on its "
			       "nodes (chosen: %lld MiB)"
			     : "why not %s: spread prefers more room: %lld MiB of room left on its "
			       "nodes (chosen: %lld MiB)",
			 set, e->strategy == NP_STRATEGY_PACK ? x : -x,
			 e->strategy == NP_STRATEGY_PACK ? y : -y);
		break;
	default:
		snprintf(buf, size,
			 "why not %s: as good on every term (distance %lld, %lld MiB stranded); "
			 "the chosen nodes have lower ids",
			 set, (long long)a->v[T_MAXD], (long long)(e->strand_base + a->v[T_STRAND]));
	}
}

/* Why the alternative ALT (terms A, nodes ASG) lost against the winner W. */
static int explain_loser(struct eng *e, const struct terms *w, const struct terms *a,
			 const int *asg, int j)
{
	char set[160], text[512];
	int j2 = -1, t;

	set_text(e, asg, set, sizeof(set));
	for (int r = 0; r < e->plan->nreasons; r++) {
		const char *x = e->plan->reasons[r].text;

		if (!strncmp(x, "why not ", 8) && !strncmp(x + 8, set, strlen(set)) &&
		    x[8 + strlen(set)] == ':')
			return 0; /* this set was explained already */
	}
	for (int i = 0; i < e->k && j2 < 0; i++)
		j2 = asg[i] != j ? asg[i] : -1;
	if (a->v[T_MISS] > w->v[T_MISS])
		return np__plan_add_reason(
		    e->plan, -1, j, j2, NP_RES_PCI, (uint64_t)w->v[T_MISS], (uint64_t)a->v[T_MISS],
		    "why not %s: %lld PCI devices off its nodes (chosen: %lld)", set,
		    (long long)a->v[T_MISS], (long long)w->v[T_MISS]);
	if (a->v[T_MAXD] > w->v[T_MAXD])
		return np__plan_add_reason(e->plan, -1, j, j2, NP_RES_DISTANCE,
					   (uint64_t)w->v[T_MAXD], (uint64_t)a->v[T_MAXD],
					   "why not %s: distance %lld (chosen: %lld)", set,
					   (long long)a->v[T_MAXD], (long long)w->v[T_MAXD]);
	if (a->v[T_SUMD] > w->v[T_SUMD])
		return np__plan_add_reason(
		    e->plan, -1, j, j2, NP_RES_DISTANCE, (uint64_t)w->v[T_SUMD],
		    (uint64_t)a->v[T_SUMD],
		    "why not %s: weighted distance %lld (chosen: %lld; the sum over pairs of "
		    "guest cells of vCPUs x vCPUs x distance both ways)",
		    set, (long long)a->v[T_SUMD], (long long)w->v[T_SUMD]);
	for (t = T_WHOLE; t < NT && a->v[t] == w->v[t]; t++)
		;
	loss_text(e, t, w, a, set, text, sizeof(text));
	/* asked/available: the deciding term's value for the winner and for this set. */
	return np__plan_add_reason(e->plan, -1, j, j2, NP_RES_STRANDED,
				   t < NT ? (uint64_t)(w->v[t] < 0 ? -w->v[t] : w->v[t]) : 0,
				   t < NT ? (uint64_t)(a->v[t] < 0 ? -a->v[t] : a->v[t]) : 0, "%s",
				   text);
}

/* For every usable node the winner left out: the best answer using it. */
int np__eng_explain_alternatives(struct eng *e)
{
	struct terms w = e->best;
	int *win = np__calloc((size_t)e->k, sizeof(int)), rc = 0;
	uint64_t budget = e->max_steps, steps = e->steps, max_us = e->max_us;

	if (!win)
		return NP_ENOMEM;
	memcpy(win, e->best_asg, (size_t)e->k * sizeof(int));
	e->max_us = 0; /* each alternative has its own step budget, as without a time budget */
	for (int j = 0; j < e->n && !rc; j++) {
		bool usable = false, chosen = false;

		for (int i = 0; i < e->k; i++) {
			usable |= e->fixed[i] < 0 && bit(row(e, e->feas, i), j);
			chosen |= win[i] == j;
		}
		if (!usable || chosen)
			continue;
		e->force = j;
		e->use_sym = false;
		e->have_best = e->best_dfs = e->aborted = false;
		e->max_steps = e->steps + EXPLAIN_STEPS;
		np__eng_preassign(e);
		/* Without devices no answer is closer than the winner. */
		np__eng_search(e, e->nreq ? 0 : (uint32_t)w.v[T_MAXD]);
		if (e->have_best)
			rc = explain_loser(e, &w, &e->best, e->best_asg, j);
		else
			rc = np__plan_add_reason(
			    e->plan, -1, j, -1, NP_RES_NODES, 1, 0,
			    "why not node %d: no complete placement with it found within %u "
			    "search steps",
			    os_id(e, j), EXPLAIN_STEPS);
	}
	e->best = w;
	memcpy(e->best_asg, win, (size_t)e->k * sizeof(int));
	e->max_steps = budget;
	e->max_us = max_us;
	e->steps = steps;
	e->force = -1;
	free(win);
	return rc;
}

/*
 * Why guest cell I fits on no node: the resource that fell short on the
 * most nodes, with the most any of those nodes had ("12 vCPUs asked, at
 * most 8 available on a node").  Into BUF; returns that resource.
 */
static enum np_resource cell_short(const struct eng *e, int i, char *buf, size_t size)
{
	int count[NP_RES_STRANDED + 1] = {0}, best = -1;
	const struct fitinfo *top = NULL;

	for (int j = 0; j < e->n; j++) {
		const struct fitinfo *f = &e->fi[i * e->n + j];

		if (!f->ok && (unsigned)f->res <= NP_RES_STRANDED)
			count[f->res]++;
	}
	for (int r = 0; r <= NP_RES_STRANDED; r++)
		best = best < 0 || count[r] > count[best] ? r : best;
	for (int j = 0; j < e->n; j++) {
		const struct fitinfo *f = &e->fi[i * e->n + j];

		if (!f->ok && (int)f->res == best && (!top || f->available > top->available))
			top = f;
	}
	if (!top)
		snprintf(buf, size, "no node can hold it");
	else if (top->per_core)
		snprintf(buf, size,
			 "thread policy require needs %llu or more threads per core, the nodes "
			 "have at most %llu (no SMT)",
			 (unsigned long long)top->asked, (unsigned long long)top->available);
	else
		snprintf(buf, size, "short of %s on %d of %d nodes: %llu %s asked, at most %llu "
			 "available on one (%s)",
			 top->res == NP_RES_MEMORY ? "memory" : top->res == NP_RES_PAGES ? "pages"
			 : top->res == NP_RES_PCPUS ? "dedicated CPUs"
			 : top->res == NP_RES_VCPUS ? "shared CPUs"
			 : top->res == NP_RES_CORES ? "cores" : top->res == NP_RES_PAGESIZE
			 ? "the page size" : "room",
			 count[best], e->n, (unsigned long long)top->asked, unit(top->res),
			 (unsigned long long)top->available, top->why);
	return top ? top->res : NP_RES_NODES;
}

/* The free cell with the fewest nodes that can hold it, and that count. */
static int tightest_cell(const struct eng *e, int *nodes)
{
	int best = -1, bn = 0;

	for (int i = 0; i < e->k; i++) {
		int m = 0;

		if (e->fixed[i] >= 0)
			continue;
		for (int j = 0; j < e->n; j++)
			m += bit(row(e, e->feas, i), j);
		if (best < 0 || m < bn) {
			best = i;
			bn = m;
		}
	}
	*nodes = bn;
	return best;
}

/* The no-fit summary: a reason about the guest as a whole (no cell, no node). */
static int summary(struct eng *e, enum np_resource res, uint64_t asked, uint64_t available,
		   const char *text)
{
	int rc = np__plan_add_reason(e->plan, -1, -1, -1, res, asked, available, "%s", text);

	if (!rc)
		np__plan_mark_summary(e->plan);
	return rc;
}

/* Free PCI devices of the kinds the guest asks for, on the whole host. */
static int64_t pci_free_total(const struct eng *e, int64_t *asked)
{
	int64_t have = 0;

	*asked = 0;
	for (int r = 0; r < e->nreq; r++) {
		*asked += e->rq[r].count;
		for (int p = 0; p < np_host_pci_pool_count(e->host); p++) {
			const struct np_pci_pool *pool = np_host_pci_pool(e->host, p);

			if (np__eng_pool_matches(e, pool, r))
				have += pool->count - pool->used;
		}
	}
	return have;
}

int np__eng_no_fit_reason(struct eng *e, int nmatched)
{
	char text[640], why[400];
	int64_t asked, have;
	int i, nodes;

	if (e->will_split)
		return 0; /* the split says why */
	for (i = 0; i < e->k; i++) {
		const struct fitinfo *f = &e->fi[i * e->n + (e->fixed[i] >= 0 ? e->fixed[i] : 0)];

		if (e->fixed[i] < 0 || f->ok)
			continue;
		fit_text(f, why, sizeof(why));
		snprintf(text, sizeof(text), "guest cell %d does not fit on its node %d: %s", i,
			 os_id(e, e->fixed[i]), why);
		return summary(e, f->res, f->asked, f->available, text);
	}
	i = tightest_cell(e, &nodes);
	if (nmatched < e->nfree && i >= 0 && nodes == 0) {
		enum np_resource res = cell_short(e, i, why, sizeof(why));

		snprintf(text, sizeof(text), "guest cell %d fits on no node: %s", i, why);
		return summary(e, res, e->fi[i * e->n].asked, 0, text);
	}
	if (nmatched < e->nfree && i >= 0) {
		enum np_resource res = cell_short(e, i, why, sizeof(why));

		snprintf(text, sizeof(text),
			 "only %d of the %d guest cells can go on distinct nodes: guest cell %d "
			 "fits on %d node%s only; elsewhere %s",
			 nmatched, e->nfree, i, nodes, nodes == 1 ? "" : "s", why);
		return summary(e, res, (uint64_t)e->nfree, (uint64_t)nmatched, text);
	}
	if (e->nreq && !e->aborted) {
		have = pci_free_total(e, &asked);
		snprintf(text, sizeof(text),
			 "PCI devices: %lld asked, %lld free on the host, but no set of nodes "
			 "that holds the guest cells has that many its affinity policy allows",
			 (long long)asked, (long long)have);
		return summary(e, NP_RES_PCI, (uint64_t)asked, (uint64_t)have, text);
	}
	snprintf(text, sizeof(text), "no placement found within the search budget of %llu steps",
		 (unsigned long long)e->max_steps);
	return summary(e, NP_RES_NODES, (uint64_t)e->k, 0, text);
}
