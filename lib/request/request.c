/*
 * request.c - the np_request object: construction by the parsers,
 * accessors, policy names (both ways), the invariant checker.
 */
#include "request/request-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

np_request *np__request_new(unsigned vcpus, uint64_t memory_mb)
{
	np_request *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->vcpus = vcpus;
	r->memory_mb = memory_mb;
	r->mem_policy = NP_MEM_POLICY_STRICT;
	r->affinity = NP_AFFINITY_HARD;
	return r;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int *copy_sorted(const int *src, int n)
{
	int *dst = np__calloc((size_t)(n > 0 ? n : 1), sizeof(*dst));

	if (!dst)
		return NULL;
	if (n > 0) {
		memcpy(dst, src, (size_t)n * sizeof(*dst));
		qsort(dst, (size_t)n, sizeof(*dst), cmp_int);
	}
	return dst;
}

int np__request_add_cell(np_request *r, const int *vcpus, int nvcpus, const int *pcpus,
			 int npcpus, uint64_t memory_mb, long pagesize, int pinned_node)
{
	struct np_guest_cell *cells;
	int *pn, *v, *p;

	cells = realloc(r->cells, (size_t)(r->ncells + 1) * sizeof(*cells));
	if (!cells)
		return NP_ENOMEM;
	r->cells = cells;
	pn = realloc(r->pinned_node, (size_t)(r->ncells + 1) * sizeof(*pn));
	if (!pn)
		return NP_ENOMEM;
	r->pinned_node = pn;
	v = copy_sorted(vcpus, nvcpus);
	p = copy_sorted(pcpus, npcpus);
	if (!v || !p) {
		free(v);
		free(p);
		return NP_ENOMEM;
	}
	cells[r->ncells] = (struct np_guest_cell){ r->ncells, nvcpus, v, npcpus, p,
						   memory_mb, pagesize };
	pn[r->ncells] = pinned_node;
	r->ncells++;
	return 0;
}

int np__request_add_pci(np_request *r, const struct np_pci_request *pci)
{
	struct np_pci_request *a = realloc(r->pci, (size_t)(r->npci + 1) * sizeof(*a));

	if (!a)
		return NP_ENOMEM;
	a[r->npci++] = *pci;
	r->pci = a;
	return 0;
}

bool np__request_has_device(const np_request *r, const char *address)
{
	for (int i = 0; i < r->npci; i++)
		if (strcmp(r->pci[i].address, address) == 0)
			return true;
	return false;
}

int np__request_set_realtime(np_request *r, const int *vcpus, int n)
{
	int *rt = copy_sorted(vcpus, n);

	if (!rt)
		return NP_ENOMEM;
	free(r->realtime);
	r->realtime = rt;
	r->nrealtime = n;
	return 0;
}

void np_request_free(np_request *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->ncells; i++) {
		free((void *)r->cells[i].vcpus);
		free((void *)r->cells[i].pcpus);
	}
	free(r->cells);
	free(r->pinned_node);
	free(r->pci);
	free(r->realtime);
	for (int i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r);
}

int np__request_warn(np_request *r, const char *fmt, ...)
{
	char line[300], **w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	w = realloc(r->warnings, (size_t)(r->nwarnings + 1) * sizeof(*w));
	if (!w)
		return NP_ENOMEM;
	r->warnings = w;
	if (!(w[r->nwarnings] = strdup(line)))
		return NP_ENOMEM;
	r->nwarnings++;
	return 0;
}

int np_request_warning_count(const np_request *r)
{
	return r ? r->nwarnings : 0;
}

const char *np_request_warning(const np_request *r, int i)
{
	return r && i >= 0 && i < r->nwarnings ? r->warnings[i] : NULL;
}

int np__request_check(const np_request *r, struct np_error *err)
{
	unsigned char *seen = np__calloc(r->vcpus, 1);
	uint64_t mem = 0;
	int rc = 0;

	if (!seen)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < r->ncells && !rc; i++) {
		const struct np_guest_cell *c = &r->cells[i];

		if (c->id != i)
			rc = np__err(err, NP_EINPUT, "guest cell %d numbered %d", i, c->id);
		if (c->npcpus && r->cpu_policy != NP_CPU_POLICY_DEDICATED &&
		    r->cpu_policy != NP_CPU_POLICY_MIXED)
			rc = np__err(err, NP_EINPUT, "guest cell %d pins vCPUs without a "
				     "dedicated or mixed policy", i);
		for (int k = 0; k < c->nvcpus + c->npcpus && !rc; k++) {
			int v = k < c->nvcpus ? c->vcpus[k] : c->pcpus[k - c->nvcpus];

			if (v < 0 || (unsigned)v >= r->vcpus || seen[v]++)
				rc = np__err(err, NP_EINPUT, "vCPU %d out of range or in two cells", v);
		}
		mem += c->memory_mb;
	}
	for (unsigned v = 0; v < r->vcpus && !rc && r->ncells; v++)
		if (!seen[v])
			rc = np__err(err, NP_EINPUT, "vCPU %u is in no guest cell", v);
	if (!rc && r->ncells && mem != r->memory_mb)
		rc = np__err(err, NP_EINPUT, "guest cells hold %llu MiB of %llu",
			     (unsigned long long)mem, (unsigned long long)r->memory_mb);
	free(seen);
	return rc;
}

unsigned np_request_vcpus(const np_request *r) { return r->vcpus; }
uint64_t np_request_memory_mb(const np_request *r) { return r->memory_mb; }
bool np_request_has_numa(const np_request *r) { return r->numa; }
int np_request_cell_count(const np_request *r) { return r->ncells; }
enum np_cpu_policy np_request_cpu_policy(const np_request *r) { return r->cpu_policy; }
enum np_thread_policy np_request_thread_policy(const np_request *r) { return r->thread_policy; }
enum np_emulator_policy np_request_emulator_policy(const np_request *r) { return r->emulator_policy; }
enum np_mem_policy np_request_mem_policy(const np_request *r) { return r->mem_policy; }
enum np_affinity np_request_affinity(const np_request *r) { return r->affinity; }
int np_request_pci_count(const np_request *r) { return r->npci; }

const struct np_guest_cell *np_request_cell(const np_request *r, int i)
{
	return i >= 0 && i < r->ncells ? &r->cells[i] : NULL;
}

int np_request_cell_pinned_node(const np_request *r, int i)
{
	return i >= 0 && i < r->ncells ? r->pinned_node[i] : -1;
}

const struct np_pci_request *np_request_pci(const np_request *r, int i)
{
	return i >= 0 && i < r->npci ? &r->pci[i] : NULL;
}

const int *np_request_realtime_vcpus(const np_request *r, int *n)
{
	*n = r->nrealtime;
	return r->nrealtime ? r->realtime : NULL;
}

const char *const np__cpu_policy_names[] = { "none", "shared", "dedicated", "mixed" };
const char *const np__thread_policy_names[] = { "none", "prefer", "isolate", "require" };
const char *const np__emulator_policy_names[] = { "none", "share", "isolate" };
const char *const np__pci_policy_names[] = { "legacy", "required", "preferred", "socket" };
const char *const np__mem_policy_names[] = { "strict", "preferred", "interleave" };
const char *const np__affinity_names[] = { "hard", "soft" };

/* Entry V of table NAMES (a request-int.h table), or "unknown". */
#define NAME_OF(names, v) ((unsigned)(v) < NP__ARRAY_SIZE(names) ? (names)[v] : "unknown")

const char *np_cpu_policy_name(enum np_cpu_policy p)
{
	return NAME_OF(np__cpu_policy_names, p);
}

const char *np_thread_policy_name(enum np_thread_policy p)
{
	return NAME_OF(np__thread_policy_names, p);
}

const char *np_emulator_policy_name(enum np_emulator_policy p)
{
	return NAME_OF(np__emulator_policy_names, p);
}

const char *np_pci_policy_name(enum np_pci_policy p)
{
	return NAME_OF(np__pci_policy_names, p);
}

const char *np_mem_policy_name(enum np_mem_policy p)
{
	return NAME_OF(np__mem_policy_names, p);
}

const char *np_affinity_name(enum np_affinity a)
{
	return NAME_OF(np__affinity_names, a);
}

/* The index of NAME in NAMES[0..N), or -1. */
static int index_of(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

int np_mem_policy_from_name(const char *name, enum np_mem_policy *out)
{
	int i = index_of(name, np__mem_policy_names, NP__ARRAY_SIZE(np__mem_policy_names));

	if (i < 0)
		return NP_EINPUT;
	*out = (enum np_mem_policy)i;
	return 0;
}

int np_affinity_from_name(const char *name, enum np_affinity *out)
{
	int i = index_of(name, np__affinity_names, NP__ARRAY_SIZE(np__affinity_names));

	if (i < 0)
		return NP_EINPUT;
	*out = (enum np_affinity)i;
	return 0;
}

int np_pci_policy_from_name(const char *name, enum np_pci_policy *out)
{
	int i = index_of(name, np__pci_policy_names, NP__ARRAY_SIZE(np__pci_policy_names));

	if (i < 0)
		return NP_EINPUT;
	*out = (enum np_pci_policy)i;
	return 0;
}
