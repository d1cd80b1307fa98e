/*
 * engine-explain.c - the reasons of a plan: why each node could not hold
 * each guest cell, why the best answer using each node the winner left
 * out lost (re-searched with that node forced in, within a small budget),
 * and, when nothing fits, why.  Texts name kernel node ids.
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

int np__eng_explain_fits(struct eng *e)
{
	int rc = 0;

	for (int i = 0; i < e->k && !rc; i++)
		for (int j = 0; j < e->n && !rc; j++) {
			const struct fitinfo *f = &e->fi[i * e->n + j];

			if (f->ok || (e->fixed[i] >= 0 && e->fixed[i] != j))
				continue;
			rc = np__plan_add_reason(
			    e->plan, i, j, -1, f->res, f->asked, f->available,
			    "why not node %d for guest cell %d: %llu %s asked, "
			    "%llu available (%s)",
			    os_id(e, j), i, (unsigned long long)f->asked, unit(f->res),
			    (unsigned long long)f->available, f->why);
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

/* Why the alternative ALT (terms A, nodes ASG) lost against the winner W. */
static int explain_loser(struct eng *e, const struct terms *w, const struct terms *a,
			 const int *asg, int j)
{
	char set[160];
	int j2 = -1;

	set_text(e, asg, set, sizeof(set));
	for (int r = 0; r < e->plan->nreasons; r++) {
		const char *t = e->plan->reasons[r].text;

		if (!strncmp(t, "why not ", 8) && !strncmp(t + 8, set, strlen(set)) &&
		    t[8 + strlen(set)] == ':')
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
		return np__plan_add_reason(e->plan, -1, j, j2, NP_RES_DISTANCE,
					   (uint64_t)w->v[T_SUMD], (uint64_t)a->v[T_SUMD],
					   "why not %s: weighted distance %lld (chosen: %lld)", set,
					   (long long)a->v[T_SUMD], (long long)w->v[T_SUMD]);
	return np__plan_add_reason(
	    e->plan, -1, j, j2, NP_RES_STRANDED, (uint64_t)(e->strand_base + w->v[T_STRAND]),
	    (uint64_t)(e->strand_base + a->v[T_STRAND]),
	    a->v[T_WHOLE] > w->v[T_WHOLE]     ? "why not %s: it uses up more wholly free nodes"
	    : a->v[T_HALF] > w->v[T_HALF]     ? "why not %s: it leaves fewer nodes half free"
	    : a->v[T_STRAND] > w->v[T_STRAND] ? "why not %s: it strands more capacity"
	    : a->v[T_FIT] > w->v[T_FIT]	      ? "why not %s: it fits less tightly (best fit)"
	    : a->v[T_AVOID] > w->v[T_AVOID]   ? "why not %s: it holds PCI devices others may need"
	    : a->v[T_ROOM] > w->v[T_ROOM]
		? (e->strategy == NP_STRATEGY_PACK ? "why not %s: pack prefers fuller nodes"
						   : "why not %s: spread prefers more room left")
		: "why not %s: as good, the chosen nodes have lower ids",
	    set);
}

/* For every usable node the winner left out: the best answer using it. */
int np__eng_explain_alternatives(struct eng *e)
{
	struct terms w = e->best;
	int *win = np__calloc((size_t)e->k, sizeof(int)), rc = 0;
	uint64_t budget = e->max_steps, steps = e->steps;

	if (!win)
		return NP_ENOMEM;
	memcpy(win, e->best_asg, (size_t)e->k * sizeof(int));
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
			    "why not node %d: no complete placement found with it", os_id(e, j));
	}
	e->best = w;
	memcpy(e->best_asg, win, (size_t)e->k * sizeof(int));
	e->max_steps = budget;
	e->steps = steps;
	e->force = -1;
	free(win);
	return rc;
}

int np__eng_no_fit_reason(struct eng *e, int nmatched)
{
	if (e->will_split)
		return 0; /* the split says why */
	for (int i = 0; i < e->k; i++) {
		const struct fitinfo *f = &e->fi[i * e->n + (e->fixed[i] >= 0 ? e->fixed[i] : 0)];

		if (e->fixed[i] >= 0 && !f->ok)
			return np__plan_add_reason(
			    e->plan, i, e->fixed[i], -1, f->res, f->asked, f->available,
			    "guest cell %d does not fit on its node %d: %llu %s "
			    "asked, %llu available (%s)",
			    i, os_id(e, e->fixed[i]), (unsigned long long)f->asked, unit(f->res),
			    (unsigned long long)f->available, f->why);
	}
	if (nmatched < e->nfree)
		return np__plan_add_reason(e->plan, -1, -1, -1, NP_RES_NODES, (uint64_t)e->nfree,
					   (uint64_t)nmatched,
					   "only %d of the %d guest cells can go on distinct nodes "
					   "that can each hold them",
					   nmatched, e->nfree);
	if (e->nreq && !e->aborted)
		return np__plan_add_reason(e->plan, -1, -1, -1, NP_RES_PCI, 0, 0,
					   "no set of nodes that holds the guest cells has the PCI "
					   "devices its affinity policy allows");
	return np__plan_add_reason(e->plan, -1, -1, -1, NP_RES_NODES, (uint64_t)e->k, 0,
				   "no placement found within the search budget");
}
