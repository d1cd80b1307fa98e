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

#include <stdio.h>
#include <stdlib.h>

static void ints(FILE *m, const int *v, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(m, "%s%d", i ? "," : "", v[i]);
}

int np__request_fingerprint(const np_request *req, char **out)
{
	size_t len = 0;
	FILE *m = open_memstream(out, &len);
	const int *rt;
	int nrt = 0;

	if (!m)
		return NP_ENOMEM;
	fprintf(m, "r1 vcpus=%u mem=%llu numa=%d cpu=%s thread=%s emu=%s mem_policy=%s aff=%d",
		np_request_vcpus(req), (unsigned long long)np_request_memory_mb(req),
		np_request_has_numa(req), np_cpu_policy_name(np_request_cpu_policy(req)),
		np_thread_policy_name(np_request_thread_policy(req)),
		np_emulator_policy_name(np_request_emulator_policy(req)),
		np_mem_policy_name(np_request_mem_policy(req)), (int)np_request_affinity(req));
	for (int i = 0; i < np_request_cell_count(req); i++) {
		const struct np_guest_cell *c = np_request_cell(req, i);

		fprintf(m, " cell%d=[", c->id);
		ints(m, c->vcpus, c->nvcpus);
		fputc('/', m);
		ints(m, c->pcpus, c->npcpus);
		fprintf(m, "/%llu/%ld/%d]", (unsigned long long)c->memory_mb, c->pagesize,
			np_request_cell_pinned_node(req, i));
	}
	for (int i = 0; i < np_request_pci_count(req); i++) {
		const struct np_pci_request *p = np_request_pci(req, i);

		/* One device by address: its own, whatever model the host says it is. */
		if (p->address[0])
			fprintf(m, " pci=@%s/%s", p->address, np_pci_policy_name(p->policy));
		else
			fprintf(m, " pci=%04x:%04x*%d/%s", p->vendor, p->product, p->count,
				np_pci_policy_name(p->policy));
	}
	rt = np_request_realtime_vcpus(req, &nrt);
	if (rt && nrt) {
		fputs(" rt=", m);
		ints(m, rt, nrt);
	}
	if (fclose(m)) {
		free(*out);
		*out = NULL;
		return NP_ENOMEM;
	}
	return 0;
}
