/*
 * answers.c - np_plan_answers(): does a recorded plan give a request what
 * it asks, whatever else the host holds now?  A retried claim asks this
 * of the plan its id already holds: the same request is answered by it
 * (print it again, change nothing); another request is not (refuse).
 *
 * Design: only what the request decides is compared - guest cells, each
 * one's vCPUs (pinned or floating as asked) and memory, the kind of page,
 * pnode=, the emulator CPU, the PCI device count, the memory policy and
 * affinity - never capacity or score: since the claim was made, other
 * claims (and, on a live host, the guest itself) took the rest of the host,
 * and that does not make the recorded plan answer another request.  Public
 * accessors only, so this cannot lean on the engine's or the validator's
 * reading of a plan.
 */
#include <numaplace/place.h>

#include "util/util.h"

/* The plan cells of guest cell G: how many, their memory, pinned and floating vCPU counts. */
struct gsum {
	int cells, pins, floats;
	uint64_t memory_mb;
};

static struct gsum sum_cell(const np_plan *plan, int g)
{
	struct gsum s = { 0 };

	for (int c = 0; c < np_plan_cell_count(plan); c++) {
		const struct np_plan_cell *pc = np_plan_cell(plan, c);

		if (pc->guest_cell != g)
			continue;
		s.cells++;
		s.pins += pc->npins;
		s.floats += pc->nfloat;
		s.memory_mb += pc->memory_mb;
	}
	return s;
}

/* Is vCPU V pinned (PINNED) or floating in guest cell G's plan cells? */
static bool has_vcpu(const np_plan *plan, int g, int v, bool pinned)
{
	for (int c = 0; c < np_plan_cell_count(plan); c++) {
		const struct np_plan_cell *pc = np_plan_cell(plan, c);
		int n = pinned ? pc->npins : pc->nfloat;

		for (int i = 0; pc->guest_cell == g && i < n; i++)
			if ((pinned ? pc->pins[i].vcpu : pc->float_vcpus[i]) == v)
				return true;
	}
	return false;
}

/* The page size of plan cell PC is of the kind asked (ASKED: NP_PAGESIZE_* or KiB). */
static bool page_kind(const np_host *host, const struct np_plan_cell *pc, long asked)
{
	const struct np_host_node *hn = np_host_node(host, pc->node_idx);
	uint64_t small = hn && hn->npools ? hn->pools[0].size_kb : 4;

	if (asked == NP_PAGESIZE_UNSET || asked == NP_PAGESIZE_SMALL)
		return pc->pagesize_kb == small;
	if (asked == NP_PAGESIZE_LARGE)
		return pc->pagesize_kb != small;
	return asked == NP_PAGESIZE_ANY || pc->pagesize_kb == (uint64_t)asked;
}

static int check_cell(const np_host *host, const np_request *req, const np_plan *plan, int g,
		      struct np_error *err)
{
	const struct np_guest_cell *gc = np_request_cell(req, g);
	struct gsum s = sum_cell(plan, g);
	int pn = np_request_cell_pinned_node(req, g);

	if (s.cells == 0)
		return np__err(err, NP_EINPUT, "guest cell %d is not in the plan", g);
	if (s.memory_mb != gc->memory_mb)
		return np__err(err, NP_EINPUT, "guest cell %d: %llu MiB recorded, %llu asked", g,
			       (unsigned long long)s.memory_mb, (unsigned long long)gc->memory_mb);
	if (s.pins != gc->npcpus || s.floats != gc->nvcpus)
		return np__err(err, NP_EINPUT,
			       "guest cell %d: %d pinned and %d floating vCPUs recorded, %d and "
			       "%d asked", g, s.pins, s.floats, gc->npcpus, gc->nvcpus);
	for (int i = 0; i < gc->npcpus; i++)
		if (!has_vcpu(plan, g, gc->pcpus[i], true))
			return np__err(err, NP_EINPUT, "guest cell %d: vCPU %d is not pinned", g,
				       gc->pcpus[i]);
	for (int i = 0; i < gc->nvcpus; i++)
		if (!has_vcpu(plan, g, gc->vcpus[i], false))
			return np__err(err, NP_EINPUT, "guest cell %d: vCPU %d is not floating", g,
				       gc->vcpus[i]);
	for (int c = 0; c < np_plan_cell_count(plan); c++) {
		const struct np_plan_cell *pc = np_plan_cell(plan, c);

		if (pc->guest_cell != g)
			continue;
		if (!page_kind(host, pc, gc->pagesize))
			return np__err(err, NP_EINPUT,
				       "guest cell %d: %llu KiB pages recorded, not what is asked", g,
				       (unsigned long long)pc->pagesize_kb);
		if (pn >= 0 && np_topo_node(np_host_topo(host), pc->node_idx)->os_id != pn)
			return np__err(err, NP_EINPUT, "guest cell %d: not on its pnode %d", g, pn);
	}
	return 0;
}

/* The emulator CPU and the PCI devices: as many as asked. */
static int check_extras(const np_request *req, const np_plan *plan, struct np_error *err)
{
	enum np_cpu_policy cp = np_request_cpu_policy(req);
	bool iso = np_request_emulator_policy(req) == NP_EMULATOR_POLICY_ISOLATE &&
		   (cp == NP_CPU_POLICY_DEDICATED || cp == NP_CPU_POLICY_MIXED);
	int reserved = 0, asked = 0, got = 0;

	for (int c = 0; c < np_plan_cell_count(plan); c++)
		reserved += np_plan_cell(plan, c)->nreserved;
	if (reserved != (iso ? 1 : 0))
		return np__err(err, NP_EINPUT, "%d emulator CPUs recorded, %d asked", reserved, iso);
	for (int r = 0; r < np_request_pci_count(req); r++)
		asked += np_request_pci(req, r)->count;
	for (int i = 0; i < np_plan_pci_count(plan); i++)
		got += np_plan_pci(plan, i)->count;
	if (got != asked)
		return np__err(err, NP_EINPUT, "%d PCI devices recorded, %d asked", got, asked);
	return 0;
}

int np_plan_answers(const np_host *host, const np_request *req, const struct np_place_opts *opts,
		    const np_plan *plan, struct np_error *err)
{
	enum np_mem_policy mp = opts && opts->mem_policy_set ? opts->mem_policy
							     : np_request_mem_policy(req);
	enum np_affinity af = opts && opts->affinity_set ? opts->affinity : np_request_affinity(req);
	int rc;

	if (!np_plan_fits(plan))
		return np__err(err, NP_EINPUT, "the plan does not fit");
	for (int g = 0; g < np_request_cell_count(req); g++)
		if ((rc = check_cell(host, req, plan, g, err)))
			return rc;
	for (int c = 0; c < np_plan_cell_count(plan); c++)
		if (np_plan_cell(plan, c)->guest_cell >= np_request_cell_count(req))
			return np__err(err, NP_EINPUT, "%d guest cells recorded, %d asked",
				       np_plan_cell(plan, c)->guest_cell + 1,
				       np_request_cell_count(req));
	if ((rc = check_extras(req, plan, err)))
		return rc;
	if (np_plan_mem_policy(plan) != mp)
		return np__err(err, NP_EINPUT, "memory policy %s recorded, %s asked",
			       np_mem_policy_name(np_plan_mem_policy(plan)), np_mem_policy_name(mp));
	if (np_plan_affinity(plan) != af)
		return np__err(err, NP_EINPUT, "affinity %s recorded, %s asked",
			       np_affinity_name(np_plan_affinity(plan)), np_affinity_name(af));
	return 0;
}
