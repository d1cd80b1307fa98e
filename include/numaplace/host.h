/*
 * host.h - a host as the placement engine sees it: a topology plus how it
 * is configured for guests (which CPUs are for shared and which for
 * dedicated vCPUs, allocation ratios, page pools, PCI device pools) plus
 * what is already taken (the usage: memory, pages, pinned CPUs, shared
 * vCPUs, PCI devices, per node), added by hand or charged from plans.
 *
 * The topology is shared and immutable; an np_host is the mutable layer on
 * top.  It refers to its topology, which must outlive it.  One thread at a
 * time per np_host; np_host_clone() gives another thread its own copy.
 *
 * Defaults of np_host_new(): every online CPU is both shared and dedicated
 * (Nova's legacy host), CPU allocation ratio 16.0, RAM ratio 1.0 (numaplace
 * never over-commits memory unless told), per node one small-page (4 KiB)
 * pool holding the memory not in huge page pools plus the topology's huge
 * page pools (reserved = total - free, as the kernel reports them), one
 * PCI pool per (node, vendor, device) of the topology's devices, nothing
 * used.
 */
#ifndef NUMAPLACE_HOST_H
#define NUMAPLACE_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include <numaplace/error.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_host np_host;
typedef struct np_plan np_plan; /* plan.h */

struct np_page_pool {
	uint64_t size_kb;
	uint64_t total;    /* pages */
	uint64_t used;     /* by guests numaplace placed */
	uint64_t reserved; /* not for guests */
};

struct np_pci_pool {
	int node_idx;      /* -1: the devices report no NUMA node */
	unsigned vendor;
	unsigned product;
	int count;
	int used;
};

/* A node's configuration and usage (indexes as in the topology). */
struct np_host_node {
	int os_id;
	int socket;                 /* -1 unknown */
	uint64_t memory_mb;         /* total */
	uint64_t memory_used_mb;    /* every guest's memory on the node */
	uint64_t memory_free_mb;    /* free as the topology reported it (== memory_mb
				       when it did not say); read with basis free */
	unsigned cpu_usage;         /* floating vCPUs placed on the node */
	int nshared;
	const int *shared;          /* CPU os ids for floating vCPUs */
	int ndedicated;
	const int *dedicated;       /* CPU os ids for pinned vCPUs */
	int npinned;
	const int *pinned;          /* dedicated CPUs already pinned */
	int nsiblings;              /* SMT sibling groups among its CPUs */
	const int *const *siblings; /* each a -1 terminated list of os ids */
	int npools;
	const struct np_page_pool *pools; /* increasing size_kb */
};

int np_host_new(const np_topo *topo, np_host **out, struct np_error *err);
int np_host_clone(const np_host *host, np_host **out, struct np_error *err);
void np_host_free(np_host *host);

const np_topo *np_host_topo(const np_host *host);
const struct np_host_node *np_host_node(const np_host *host, int node_idx);
int np_host_pci_pool_count(const np_host *host);
const struct np_pci_pool *np_host_pci_pool(const np_host *host, int i);

/* Allocation ratios; LIMITS false = no over-commit check at all for
 * floating guests (Nova without NUMATopologyLimits). */
void np_host_set_limits(np_host *host, bool limits, double cpu_ratio, double ram_ratio);
bool np_host_limits(const np_host *host, double *cpu_ratio, double *ram_ratio);

/*
 * How placement counts a node's memory (docs/policies/placement.md 13).
 * TOTAL: the node's memory less what guests were charged on it (Nova's
 * rule; other software's memory is the operator's to reserve).  FREE:
 * moreover never more than the free memory the topology reported (libxl's
 * rule, for live hosts where other software takes memory): a node holds
 * min(memory x ratio - used, free).  Memory in huge pages is counted by
 * its pools either way.
 */
enum np_memory_basis {
	NP_MEMORY_BASIS_TOTAL,
	NP_MEMORY_BASIS_FREE,
};

/* "total", "free"; "unknown" for another value. */
const char *np_memory_basis_name(enum np_memory_basis b);
/* The basis named NAME into *OUT: 0, or NP_EINPUT (OUT untouched). */
int np_memory_basis_from_name(const char *name, enum np_memory_basis *out);
/*
 * The default for TOPO: FREE for `xl info -n` (Xen's free memory is what
 * a guest can get: no page cache, dom0 and other domains already out of
 * it), TOTAL for every other source (Linux's MemFree leaves out the page
 * cache the kernel gives back on demand; hwloc XML and libvirt
 * capabilities report no free memory).  np_host_new() starts with it.
 */
enum np_memory_basis np_memory_basis_default(const np_topo *topo);
/*
 * Choose the basis.  NP_EINPUT for an unknown value, or FREE on a host
 * whose topology does not report the free memory of every node.
 */
int np_host_set_memory_basis(np_host *host, enum np_memory_basis basis, struct np_error *err);
enum np_memory_basis np_host_memory_basis(const np_host *host);

/* Which of the node's CPUs serve floating and pinned vCPUs (os ids). */
int np_host_set_cpus(np_host *host, int node_idx, const int *shared, int nshared,
		     const int *dedicated, int ndedicated, struct np_error *err);
/* Replace the node's page pools (npools 0: the host reports none). */
int np_host_set_pools(np_host *host, int node_idx, const struct np_page_pool *pools,
		      int npools, struct np_error *err);
/* Replace all PCI pools. */
int np_host_set_pci_pools(np_host *host, const struct np_pci_pool *pools, int npools,
			  struct np_error *err);

/*
 * Add usage not known as plans (e.g. a Nova case's cpu_usage,
 * memory_usage_mb, pinned_cpus, pages used).  Fails with NP_EINPUT when a
 * pinned CPU is not dedicated on the node or already pinned.
 */
int np_host_add_usage(np_host *host, int node_idx, unsigned cpu_usage,
		      uint64_t memory_mb, const int *pinned, int npinned,
		      struct np_error *err);
int np_host_add_pages_used(np_host *host, int node_idx, uint64_t size_kb,
			   uint64_t pages, struct np_error *err);

/*
 * Charge (or, with RELEASE, give back) what PLAN takes on HOST: memory,
 * pages, pinned, reserved and blocked CPUs, shared vCPUs, PCI devices.  A
 * plan carries all that, so charging needs no request.  Charging fails
 * with NP_EINPUT, changing nothing, when the plan no longer fits the host
 * (a pinned CPU already taken, pages or devices gone); releasing never
 * takes usage below zero.
 */
int np_host_charge(np_host *host, const np_plan *plan, bool release, struct np_error *err);

/*
 * Invariants: pinned within dedicated, no duplicates; used + reserved <=
 * total per pool; PCI used <= count; CPU sets within the node's CPUs.
 * (Memory and shared vCPU usage may exceed raw capacity: ratios allow it.)
 */
int np_host_check(const np_host *host, struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
