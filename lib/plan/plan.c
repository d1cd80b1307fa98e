/*
 * plan.c - the np_plan object: the builder used by the engine and the
 * plan reader, the accessors, and freeing.
 */
#include "plan/plan-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

np_plan *np__plan_new(void)
{
	np_plan *p = calloc(1, sizeof(*p));

	if (p) {
		p->mem_policy = NP_MEM_POLICY_STRICT;
		p->affinity = NP_AFFINITY_HARD;
		p->score.exact = true;
		p->summary = -1;
		p->moves_exact = true;
	}
	return p;
}

static void *dup_array(const void *src, int n, size_t size)
{
	void *dst = np__calloc((size_t)(n > 0 ? n : 1), size);

	if (dst && n > 0)
		memcpy(dst, src, (size_t)n * size);
	return dst;
}

/* A cell's arrays are one allocation, starting with PINS (copy_cell). */
static void free_cell(struct np_plan_cell *c)
{
	free((void *)c->pins);
}

_Static_assert(sizeof(struct np_pin) % sizeof(int) == 0 &&
		   _Alignof(struct np_pin) <= _Alignof(int),
	       "a cell's pins and ints share one allocation");

/* Ints an array of N takes in a cell's allocation: at least one, as dup_array gives. */
static size_t room(int n, size_t ints_each)
{
	return (size_t)(n > 0 ? n : 1) * ints_each;
}

/* SRC's N ints copied at *AT, which moves past them. */
static const int *carve_ints(int **at, const int *src, int n)
{
	int *p = *at;

	if (n > 0)
		memcpy(p, src, (size_t)n * sizeof(int));
	*at += room(n, 1);
	return p;
}

/*
 * *CELL with its own copies of the arrays in *OUT, in one zeroed
 * allocation (the engine copies a cell into every plan it makes, and five
 * allocations and frees a cell were a third of a fleet schedule's engine
 * work): 0, or NP_ENOMEM (nothing kept).
 */
static int copy_cell(const struct np_plan_cell *cell, struct np_plan_cell *out)
{
	struct np_plan_cell c = *cell;
	size_t pin_ints = room(cell->npins, sizeof(struct np_pin) / sizeof(int));
	size_t n = pin_ints + room(cell->nfloat, 1) + room(cell->ncpuset, 1) +
		   room(cell->nreserved, 1) + room(cell->nblocked, 1);
	int *at = np__calloc(n, sizeof(int));

	if (!at)
		return NP_ENOMEM;
	c.pins = (const struct np_pin *)at;
	if (cell->npins > 0)
		memcpy(at, cell->pins, (size_t)cell->npins * sizeof(*cell->pins));
	at += pin_ints;
	c.float_vcpus = carve_ints(&at, cell->float_vcpus, cell->nfloat);
	c.cpuset = carve_ints(&at, cell->cpuset, cell->ncpuset);
	c.reserved = carve_ints(&at, cell->reserved, cell->nreserved);
	c.blocked = carve_ints(&at, cell->blocked, cell->nblocked);
	*out = c;
	return 0;
}

int np__plan_add_cell(np_plan *p, const struct np_plan_cell *cell)
{
	struct np_plan_cell c, *cells;

	if (copy_cell(cell, &c))
		return NP_ENOMEM;
	cells = realloc(p->cells, (size_t)(p->ncells + 1) * sizeof(*cells));
	if (!cells) {
		free_cell(&c);
		return NP_ENOMEM;
	}
	cells[p->ncells++] = c;
	p->cells = cells;
	return 0;
}

int np__plan_add_move(np_plan *p, const char *guest, int from_idx,
		      const struct np_plan_cell *cell)
{
	struct np_plan_move m = { strdup(guest), from_idx, { 0 } }, *moves;

	if (!m.guest || copy_cell(cell, &m.cell)) {
		free((void *)m.guest);
		return NP_ENOMEM;
	}
	moves = realloc(p->moves, (size_t)(p->nmoves + 1) * sizeof(*moves));
	if (!moves) {
		free((void *)m.guest);
		free_cell(&m.cell);
		return NP_ENOMEM;
	}
	moves[p->nmoves++] = m;
	p->moves = moves;
	return 0;
}

static int set_list(int **dst, int *ndst, const int *src, int n)
{
	int *a = dup_array(src, n, sizeof(*src));

	if (!a)
		return NP_ENOMEM;
	free(*dst);
	*dst = a;
	*ndst = n;
	return 0;
}

int np__plan_set_nodeset(np_plan *p, const int *nodes, int n)
{
	return set_list(&p->nodeset, &p->nnodeset, nodes, n);
}

int np__plan_set_fallback(np_plan *p, const int *nodes, int n)
{
	return set_list(&p->fallback, &p->nfallback, nodes, n);
}

int np__plan_set_topo(np_plan *p, const np_topo *topo)
{
	int n = np_topo_node_count(topo);
	int *ids = np__calloc((size_t)n, sizeof(*ids));

	if (!ids)
		return NP_ENOMEM;
	for (int i = 0; i < n; i++)
		ids[i] = np_topo_node(topo, i)->os_id;
	free(p->node_os);
	p->node_os = ids;
	p->nnode_os = n;
	return 0;
}

bool np__plan_matches_topo(const np_plan *p, const np_topo *topo)
{
	if (!p->node_os)
		return true;
	if (p->nnode_os != np_topo_node_count(topo))
		return false;
	for (int i = 0; i < p->nnode_os; i++)
		if (p->node_os[i] != np_topo_node(topo, i)->os_id)
			return false;
	return true;
}

np_plan *np__plan_copy(const np_plan *src)
{
	np_plan *p = np__plan_new();
	int rc = p ? 0 : NP_ENOMEM;

	for (int i = 0; i < src->ncells && !rc; i++)
		rc = np__plan_add_cell(p, &src->cells[i]);
	for (int i = 0; i < src->npci && !rc; i++)
		rc = np__plan_add_pci(p, src->pci[i].pool, src->pci[i].count);
	if (!rc)
		rc = np__plan_set_nodeset(p, src->nodeset, src->nnodeset);
	if (!rc)
		rc = np__plan_set_fallback(p, src->fallback, src->nfallback);
	if (!rc && src->node_os)
		rc = set_list(&p->node_os, &p->nnode_os, src->node_os, src->nnode_os);
	if (rc) {
		np_plan_free(p);
		return NULL;
	}
	p->fits = src->fits;
	p->mem_policy = src->mem_policy;
	p->affinity = src->affinity;
	p->memory_basis = src->memory_basis;
	p->score = src->score;
	return p;
}

int np__plan_add_pci(np_plan *p, int pool, int count)
{
	struct np_plan_pci *a = realloc(p->pci, (size_t)(p->npci + 1) * sizeof(*a));

	if (!a)
		return NP_ENOMEM;
	a[p->npci++] = (struct np_plan_pci){ pool, count };
	p->pci = a;
	return 0;
}

int np__plan_add_reason(np_plan *p, int guest_cell, int node_idx, int node_idx2,
			enum np_resource res, uint64_t asked, uint64_t available,
			const char *fmt, ...)
{
	struct np_reason *a;
	char buf[256];
	char *text;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	text = strdup(buf);
	a = realloc(p->reasons, (size_t)(p->nreasons + 1) * sizeof(*a));
	if (!text || !a) {
		free(text);
		if (a)
			p->reasons = a;
		return NP_ENOMEM;
	}
	a[p->nreasons++] = (struct np_reason){ guest_cell, node_idx, node_idx2, res,
					       asked, available, text };
	p->reasons = a;
	return 0;
}

void np_plan_free(np_plan *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->ncells; i++)
		free_cell(&p->cells[i]);
	for (int i = 0; i < p->nreasons; i++)
		free((void *)p->reasons[i].text);
	for (int i = 0; i < p->nmoves; i++) {
		free((void *)p->moves[i].guest);
		free_cell(&p->moves[i].cell);
	}
	free(p->moves);
	free(p->cells);
	free(p->nodeset);
	free(p->fallback);
	free(p->pci);
	free(p->reasons);
	free(p->node_os);
	free(p);
}

bool np_plan_fits(const np_plan *p) { return p->fits; }
int np_plan_cell_count(const np_plan *p) { return p->ncells; }
enum np_mem_policy np_plan_mem_policy(const np_plan *p) { return p->mem_policy; }
enum np_affinity np_plan_affinity(const np_plan *p) { return p->affinity; }
enum np_memory_basis np_plan_memory_basis(const np_plan *p) { return p->memory_basis; }
int np_plan_pci_count(const np_plan *p) { return p->npci; }
const struct np_plan_score *np_plan_score(const np_plan *p) { return &p->score; }
int np_plan_reason_count(const np_plan *p) { return p->nreasons; }

const struct np_plan_cell *np_plan_cell(const np_plan *p, int i)
{
	return i >= 0 && i < p->ncells ? &p->cells[i] : NULL;
}

int np_plan_nodeset(const np_plan *p, const int **nodes)
{
	*nodes = p->nodeset;
	return p->nnodeset;
}

int np_plan_fallback(const np_plan *p, const int **nodes)
{
	*nodes = p->fallback;
	return p->nfallback;
}

const struct np_plan_pci *np_plan_pci(const np_plan *p, int i)
{
	return i >= 0 && i < p->npci ? &p->pci[i] : NULL;
}

const struct np_reason *np_plan_reason(const np_plan *p, int i)
{
	return i >= 0 && i < p->nreasons ? &p->reasons[i] : NULL;
}

void np__plan_mark_summary(np_plan *p)
{
	p->summary = p->nreasons - 1;
}

const char *np_plan_no_fit_summary(const np_plan *p)
{
	if (p->fits)
		return NULL;
	if (p->summary >= 0 && p->summary < p->nreasons)
		return p->reasons[p->summary].text;
	/* A plan read back from JSON: the last reason about the guest as a whole. */
	for (int i = p->nreasons - 1; i >= 0; i--)
		if (p->reasons[i].guest_cell < 0 && p->reasons[i].node_idx < 0)
			return p->reasons[i].text;
	return p->nreasons ? p->reasons[0].text : NULL;
}
