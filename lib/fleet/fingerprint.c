/*
 * fingerprint.c - a request as one canonical line, so that a claim can
 * tell "the same id with the same request" (return the placement) from
 * "the same id with another request" (refuse it), whatever the request was
 * written in (a Nova flavor, xl vnuma, JSON).
 *
 * The line holds everything np_place() reads from the request, through
 * the public accessors only: totals, whether it has NUMA, every cell
 * (floating and pinned vCPUs, memory, page size, fixed node), the CPU,
 * thread and emulator policies, memory policy, affinity, PCI requests (a
 * device asked for by address as that address) and realtime vCPUs.  It
 * starts with a version tag ("r1"): should the line ever change,
 * placements made before can be told apart from new ones.
 */
#include "fleet/fleet-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/util.h"

/*
 * The line being written: a buffer that grows (open_memstream and its
 * FILE cost more than the line, and every schedule makes one).
 */
struct line {
	char *s;
	size_t len, cap;
	bool oom;
};

static void add(struct line *b, const char *fmt, ...) NP__PRINTF(2, 3);

static void add(struct line *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= b->cap - b->len) {
		size_t cap = b->cap * 2 > b->len + (size_t)n + 1 ? b->cap * 2 : b->len + (size_t)n + 1;
		char *s = realloc(b->s, cap);

		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	if (n < 0)
		b->oom = true;
	else
		b->len += (size_t)n;
}

static void ints(struct line *b, const int *v, int n)
{
	for (int i = 0; i < n; i++)
		add(b, "%s%d", i ? "," : "", v[i]);
}

int np__request_fingerprint(const np_request *req, char **out)
{
	struct line b = { malloc(256), 0, 256, false };
	const int *rt;
	int nrt = 0;

	if (!b.s)
		return NP_ENOMEM;
	add(&b, "r1 vcpus=%u mem=%llu numa=%d cpu=%s thread=%s emu=%s mem_policy=%s aff=%d",
	    np_request_vcpus(req), (unsigned long long)np_request_memory_mb(req),
	    np_request_has_numa(req), np_cpu_policy_name(np_request_cpu_policy(req)),
	    np_thread_policy_name(np_request_thread_policy(req)),
	    np_emulator_policy_name(np_request_emulator_policy(req)),
	    np_mem_policy_name(np_request_mem_policy(req)), (int)np_request_affinity(req));
	for (int i = 0; i < np_request_cell_count(req); i++) {
		const struct np_guest_cell *c = np_request_cell(req, i);

		add(&b, " cell%d=[", c->id);
		ints(&b, c->vcpus, c->nvcpus);
		add(&b, "/");
		ints(&b, c->pcpus, c->npcpus);
		add(&b, "/%llu/%ld/%d]", (unsigned long long)c->memory_mb, c->pagesize,
		    np_request_cell_pinned_node(req, i));
	}
	for (int i = 0; i < np_request_pci_count(req); i++) {
		const struct np_pci_request *p = np_request_pci(req, i);

		/* One device by address: its own, whatever model the host says it is. */
		if (p->address[0])
			add(&b, " pci=@%s/%s", p->address, np_pci_policy_name(p->policy));
		else
			add(&b, " pci=%04x:%04x*%d/%s", p->vendor, p->product, p->count,
			    np_pci_policy_name(p->policy));
	}
	rt = np_request_realtime_vcpus(req, &nrt);
	if (rt && nrt) {
		add(&b, " rt=");
		ints(&b, rt, nrt);
	}
	if (b.oom) {
		free(b.s);
		return NP_ENOMEM;
	}
	*out = b.s;
	return 0;
}
