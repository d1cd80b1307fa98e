/*
 * engine-pci.c - PCI devices in the engine: which pools a guest on a set
 * of nodes takes its devices from, nearest level first (on a chosen node,
 * without NUMA node, on a chosen node's socket, elsewhere) as each
 * request's affinity policy allows (Nova's _filter_pools_for_numa_cells),
 * a lower bound on the devices off the chosen nodes for the search, and
 * the plan's record of what was taken.  Requests for the same vendor and
 * product form one group for the bound.
 */
#include "place/engine-int.h"

int np__eng_setup_pci(struct eng *e)
{
	e->npci = np_host_pci_pool_count(e->host);
	e->nreq = np_request_pci_count(e->req);
	for (int r = 0; r < e->nreq; r++) {
		const struct np_pci_request *q = np_request_pci(e->req, r);
		int g;

		for (g = 0; g < r; g++)
			if (np_request_pci(e->req, g)->vendor == q->vendor &&
			    np_request_pci(e->req, g)->product == q->product)
				break;
		e->group[r] = g < r ? e->group[g] : e->ngroups++;
		e->g_need[e->group[r]] += q->count;
		if (q->policy == NP_PCI_POLICY_REQUIRED && !e->flat)
			e->g_hard[e->group[r]] += q->count;
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

static bool pool_matches(const struct np_pci_pool *p, const struct np_pci_request *q)
{
	return p->vendor == q->vendor && p->product == q->product;
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

/* Take up to *NEED devices for Q from the pools at level L; returns the misses. */
static int take_level(struct eng *e, const struct np_pci_request *q, int l, const word *nodes,
		      bool socks, int *need)
{
	int taken = 0;

	for (int p = 0; p<e->npci && * need> 0; p++) {
		const struct np_pci_pool *pool = np_host_pci_pool(e->host, p);
		int take;

		if (!pool_matches(pool, q) || !e->left[p] || pool_level(e, pool, nodes, socks) != l)
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
		const struct np_pci_request *q = np_request_pci(e->req, r);
		unsigned levels = policy_levels(e, q->policy);
		int need = q->count;

		for (int l = 0; l < 4 && need > 0; l++)
			if (levels >> l & 1)
				misses += take_level(e, q, l, nodes, socks, &need);
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
			    pool_matches(pool, np_request_pci(e->req, r)))
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
