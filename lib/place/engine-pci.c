/*
 * engine-pci.c - PCI devices in the engine: which pools a guest on a set
 * of nodes takes its devices from, nearest level first (on a chosen node,
 * without NUMA node, on a chosen node's socket, elsewhere) as each
 * request's affinity policy allows (Nova's _filter_pools_for_numa_cells),
 * a lower bound on the devices off the chosen nodes for the search, and
 * the plan's record of what was taken.  Requests for the same vendor and
 * product form one group for the bound.
 *
 * A request naming one device by address (a libvirt <hostdev>, an xl pci=
 * entry) is matched only by the pool of that device's node, vendor and
 * product, so its policy decides how strongly the guest wants that node;
 * it forms a group of its own.  Asking for one vendor:product both by
 * address and by count is refused: pools count devices, not addresses, so
 * the two could take the same device.
 */
#include "place/engine-int.h"

#define ANY_NODE (-2) /* e->rnode: the request names no device */

/* Request R names a device by address: its node, vendor and product from the host. */
static int resolve(struct eng *e, int r, struct np_error *err)
{
	int d = np_topo_device_find(e->topo, e->rq[r].address);
	const struct np_device *dev = np_topo_device(e->topo, d);

	if (!dev)
		return np__err(err, NP_EINPUT, "PCI device %s is not on this host",
			       e->rq[r].address);
	e->rq[r].vendor = dev->vendor;
	e->rq[r].product = dev->device;
	e->rnode[r] = dev->node_idx;
	return 0;
}

static bool same_kind(const struct eng *e, int a, int b)
{
	return e->rq[a].vendor == e->rq[b].vendor && e->rq[a].product == e->rq[b].product;
}

int np__eng_setup_pci(struct eng *e, struct np_error *err)
{
	int rc;

	e->npci = np_host_pci_pool_count(e->host);
	e->nreq = np_request_pci_count(e->req);
	for (int r = 0; r < e->nreq; r++) {
		e->rq[r] = *np_request_pci(e->req, r);
		e->rnode[r] = ANY_NODE;
		if (e->rq[r].address[0] && (rc = resolve(e, r, err)))
			return rc;
	}
	for (int r = 0; r < e->nreq; r++) {
		int g;

		for (g = 0; g < r; g++) {
			if (same_kind(e, g, r) &&
			    (e->rnode[g] == ANY_NODE) != (e->rnode[r] == ANY_NODE))
				return np__err(err, NP_EINPUT,
					       "PCI %04x:%04x is asked for both by address and by "
					       "count: ask for every such device by address",
					       e->rq[r].vendor, e->rq[r].product);
			if (same_kind(e, g, r) && e->rnode[g] == e->rnode[r])
				break;
		}
		e->group[r] = g < r ? e->group[g] : e->ngroups++;
		e->g_need[e->group[r]] += e->rq[r].count;
		if (e->rq[r].policy == NP_PCI_POLICY_REQUIRED && !e->flat)
			e->g_hard[e->group[r]] += e->rq[r].count;
	}
	return 0;
}

int64_t np__eng_pci_free_on(const np_host *h, int j)
{
	int64_t n = 0;

	for (int p = 0; p < np_host_pci_pool_count(h); p++)
		if (np_host_pci_pool(h, p)->node_idx == j)
			n += np_host_pci_pool(h, p)->count - np_host_pci_pool(h, p)->used;
	return n;
}

bool np__eng_pool_matches(const struct eng *e, const struct np_pci_pool *p, int r)
{
	return p->vendor == e->rq[r].vendor && p->product == e->rq[r].product &&
	       (e->rnode[r] == ANY_NODE || p->node_idx == e->rnode[r]);
}

static bool sockets_known(const struct eng *e)
{
	for (int j = 0; j < e->n; j++)
		if (np_host_node(e->host, j)->socket < 0)
			return false;
	return true;
}

/* 0: on a chosen node, 1: no NUMA node, 2: another node of a chosen socket, 3: elsewhere. */
static int pool_level(const struct eng *e, const struct np_pci_pool *p, const word *nodes,
		      bool socks_known)
{
	int s;

	if (p->node_idx < 0)
		return 1;
	if (bit(nodes, p->node_idx))
		return 0;
	s = np_host_node(e->host, p->node_idx)->socket;
	if (!socks_known)
		return 3;
	FOR_AND(j, nodes, NULL, e)
	if (np_host_node(e->host, j)->socket == s)
		return 2;
	return 3;
}

/* Which levels a policy may use (Nova's _filter_pools_for_numa_cells). */
static unsigned policy_levels(const struct eng *e, enum np_pci_policy p)
{
	if (e->flat)
		return 0xf; /* no guest NUMA: Nova does not filter by node */
	switch (p) {
	case NP_PCI_POLICY_REQUIRED:
		return 0x1;
	case NP_PCI_POLICY_SOCKET:
		return 0x5;
	case NP_PCI_POLICY_LEGACY:
		return 0x3;
	default:
		return 0xf;
	}
}

/* Take up to *NEED devices for request R from the pools at level L; returns the misses. */
static int take_level(struct eng *e, int r, int l, const word *nodes, bool socks, int *need)
{
	int taken = 0;

	for (int p = 0; p < e->npci && *need > 0; p++) {
		const struct np_pci_pool *pool = np_host_pci_pool(e->host, p);
		int take;

		if (!np__eng_pool_matches(e, pool, r) || !e->left[p] ||
		    pool_level(e, pool, nodes, socks) != l)
			continue;
		take = e->left[p] < *need ? e->left[p] : *need;
		e->left[p] -= take;
		e->alloc[p] += take;
		*need -= take;
		taken += take;
	}
	return l ? taken : 0;
}

/*
 * Take the devices of every PCI request, in order, for a guest on NODES:
 * nearest level first, pools in order.  Returns the devices taken off the
 * chosen nodes, or -1 when a request cannot be met; e->alloc holds what
 * was taken per pool.
 */
int64_t np__eng_pci_eval(struct eng *e, const word *nodes)
{
	bool socks = sockets_known(e);
	int64_t misses = 0;

	for (int p = 0; p < e->npci; p++) {
		const struct np_pci_pool *pool = np_host_pci_pool(e->host, p);

		e->left[p] = pool->count - pool->used;
		e->alloc[p] = 0;
	}
	for (int r = 0; r < e->nreq; r++) {
		unsigned levels = policy_levels(e, e->rq[r].policy);
		int need = e->rq[r].count;

		for (int l = 0; l < 4 && need > 0; l++)
			if (levels >> l & 1)
				misses += take_level(e, r, l, nodes, socks, &need);
		if (need > 0)
			return -1;
	}
	return misses;
}

/* A lower bound on misses when the guest ends up within NODES; -1: infeasible. */
int64_t np__eng_pci_bound(const struct eng *e, const word *nodes)
{
	int64_t lb = 0;

	for (int g = 0; g < e->ngroups; g++) {
		int64_t on = 0;

		for (int p = 0; p < e->npci; p++) {
			const struct np_pci_pool *pool = np_host_pci_pool(e->host, p);
			int r;

			for (r = 0; r < e->nreq && e->group[r] != g; r++)
				;
			if (pool->node_idx >= 0 && bit(nodes, pool->node_idx) &&
			    np__eng_pool_matches(e, pool, r))
				on += pool->count - pool->used;
		}
		if (e->g_hard[g] > on)
			return -1;
		lb += e->g_need[g] > on ? e->g_need[g] - on : 0;
	}
	return lb;
}

int np__eng_add_pci(struct eng *e, const word *nodes)
{
	int rc = 0;

	if (!e->nreq)
		return 0;
	e->plan->score.device_misses = (int)np__eng_pci_eval(e, nodes);
	for (int p = 0; p < e->npci && !rc; p++)
		if (e->alloc[p])
			rc = np__plan_add_pci(e->plan, p, e->alloc[p]);
	return rc;
}
