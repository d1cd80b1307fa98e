/*
 * check.c - the invariants of np_topo, checked on every topology a source
 * builds and by the tests on every topology they see.
 *
 * Invariants:
 *  - at least one node; nodes in strictly increasing os_id, ids >= 0;
 *  - per node: free <= total memory; CPU list strictly increasing, each CPU
 *    exists and names this node back; huge page pools in strictly
 *    increasing size, size > 0, free <= total;
 *  - CPUs in strictly increasing os_id; node_idx is -1 or a node; every
 *    CPU with a node is in that node's list (counts agree);
 *  - distances: the diagonal is a real distance >= 1, and no node is
 *    closer to another node than to itself (d[i][j] >= d[i][i]);
 *  - devices in strictly increasing address; node_idx -1 or a node.
 */
#include "topo-int.h"

#include <string.h>

#include "util/util.h"

static int check_node(const np_topo *t, int i, struct np_error *err)
{
	const struct np_node *n = &t->nodes[i];

	if (n->os_id < 0 || (i > 0 && n->os_id <= t->nodes[i - 1].os_id))
		return np__err(err, NP_EINPUT, "node ids not strictly increasing at node %d",
			       n->os_id);
	if (n->mem_free_kb > n->mem_total_kb)
		return np__err(err, NP_EINPUT, "node %d: %llu kB free of %llu kB total",
			       n->os_id, (unsigned long long)n->mem_free_kb,
			       (unsigned long long)n->mem_total_kb);
	for (int k = 0; k < n->ncpus; k++) {
		int c = np_topo_cpu_index(t, n->cpus[k]);

		if (k > 0 && n->cpus[k] <= n->cpus[k - 1])
			return np__err(err, NP_EINPUT, "node %d: CPU list not increasing",
				       n->os_id);
		if (c < 0 || t->cpus[c].node_idx != i)
			return np__err(err, NP_EINPUT, "node %d lists CPU %d, which is not its own",
				       n->os_id, n->cpus[k]);
	}
	for (int k = 0; k < n->npools; k++) {
		const struct np_hugepages *p = &n->pools[k];

		if (p->size_kb == 0 || (k > 0 && p->size_kb <= n->pools[k - 1].size_kb))
			return np__err(err, NP_EINPUT, "node %d: huge page sizes not increasing",
				       n->os_id);
		if (p->free > p->total)
			return np__err(err, NP_EINPUT,
				       "node %d: %llu free of %llu huge pages of %llu kB",
				       n->os_id, (unsigned long long)p->free,
				       (unsigned long long)p->total, (unsigned long long)p->size_kb);
	}
	return 0;
}

static int check_distances(const np_topo *t, struct np_error *err)
{
	for (int i = 0; i < t->nnodes; i++) {
		uint32_t self = np_topo_distance(t, i, i);

		if (self == 0 || self == NP_DISTANCE_UNREACHABLE)
			return np__err(err, NP_EINPUT, "node %d: distance to itself is %d",
				       t->nodes[i].os_id, self == 0 ? 0 : -1);
		for (int j = 0; j < t->nnodes; j++)
			if (np_topo_distance(t, i, j) < self)
				return np__err(err, NP_EINPUT,
					       "node %d is closer to node %d (%u) than to itself (%u)",
					       t->nodes[i].os_id, t->nodes[j].os_id,
					       np_topo_distance(t, i, j), self);
	}
	return 0;
}

int np_topo_check(const np_topo *t, struct np_error *err)
{
	int with_node = 0, listed = 0, rc;

	if (!t || t->nnodes < 1 || !t->nodes || !t->dist)
		return np__err(err, NP_EINPUT, "topology has no nodes");
	for (int i = 0; i < t->nnodes; i++) {
		if ((rc = check_node(t, i, err)))
			return rc;
		listed += t->nodes[i].ncpus;
	}
	for (int i = 0; i < t->ncpus; i++) {
		const struct np_cpu *c = &t->cpus[i];

		if (c->os_id < 0 || (i > 0 && c->os_id <= t->cpus[i - 1].os_id))
			return np__err(err, NP_EINPUT, "CPU ids not strictly increasing at CPU %d",
				       c->os_id);
		if (c->node_idx < -1 || c->node_idx >= t->nnodes)
			return np__err(err, NP_EINPUT, "CPU %d: node index %d out of range",
				       c->os_id, c->node_idx);
		with_node += c->node_idx >= 0;
	}
	if (with_node != listed)
		return np__err(err, NP_EINPUT, "%d CPUs have a node but nodes list %d",
			       with_node, listed);
	if ((rc = check_distances(t, err)))
		return rc;
	for (int i = 0; i < t->ndevices; i++) {
		const struct np_device *d = &t->devices[i];

		if (i > 0 && strcmp(d->address, t->devices[i - 1].address) <= 0)
			return np__err(err, NP_EINPUT, "device addresses not increasing at %s",
				       d->address);
		if (d->node_idx < -1 || d->node_idx >= t->nnodes)
			return np__err(err, NP_EINPUT, "device %s: node index %d out of range",
				       d->address, d->node_idx);
	}
	return 0;
}
