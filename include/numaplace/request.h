/*
 * request.h - what a guest asks for: its NUMA cells (vCPUs, memory, page
 * size), CPU, thread, emulator-thread and PCI policies, and how its memory
 * and CPUs should be bound.  Built from Nova flavor extra specs + image
 * properties (with Nova's precedence and validation rules), from xl's
 * vnuma=[...], or from numaplace's JSON.
 *
 * Ownership and threads: an np_request is immutable once built and may be
 * shared between threads; np_request_free() it once.  Pointers returned by
 * accessors live as long as the request.
 *
 * Errors: an invalid request fails with NP_EINPUT; err->message names the
 * rule it breaks and err->reason holds a stable snake_case identifier of
 * that rule (e.g. "numa_topology_asymmetric"; docs/policies/nova-errors.md
 * maps Nova's exception classes to them).
 */
#ifndef NUMAPLACE_REQUEST_H
#define NUMAPLACE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_request np_request;

enum np_cpu_policy {
	NP_CPU_POLICY_NONE,      /* nothing asked: floating vCPUs */
	NP_CPU_POLICY_SHARED,    /* floating vCPUs, shared with others */
	NP_CPU_POLICY_DEDICATED, /* every vCPU pinned to its own pCPU */
	NP_CPU_POLICY_MIXED,     /* some pinned (dedicated mask), the rest floating */
};

enum np_thread_policy {
	NP_THREAD_POLICY_NONE,
	NP_THREAD_POLICY_PREFER,  /* siblings when possible */
	NP_THREAD_POLICY_ISOLATE, /* one thread per core, siblings kept free */
	NP_THREAD_POLICY_REQUIRE, /* SMT siblings required */
};

enum np_emulator_policy {
	NP_EMULATOR_POLICY_NONE,
	NP_EMULATOR_POLICY_SHARE,   /* emulator threads on the shared CPUs */
	NP_EMULATOR_POLICY_ISOLATE, /* one more pCPU, on guest cell 0's node */
};

enum np_pci_policy {
	NP_PCI_POLICY_LEGACY,    /* Nova's default: on the cells, else devices without NUMA info */
	NP_PCI_POLICY_REQUIRED,  /* only devices on the chosen nodes */
	NP_PCI_POLICY_PREFERRED, /* on the chosen nodes if possible, else anywhere */
	NP_PCI_POLICY_SOCKET,    /* on any node of the chosen nodes' sockets */
};

enum np_mem_policy {
	NP_MEM_POLICY_STRICT,     /* memory only on the chosen nodes (hard failure) */
	NP_MEM_POLICY_PREFERRED,  /* chosen nodes first, then the fallback list by distance */
	NP_MEM_POLICY_INTERLEAVE, /* spread pages over the chosen nodes */
};

enum np_affinity {
	NP_AFFINITY_HARD, /* pinning: vCPUs may run only there */
	NP_AFFINITY_SOFT, /* preference: the scheduler may run them elsewhere */
};

/* Page size asked for a guest cell: a size in KiB (> 0) or one of these. */
#define NP_PAGESIZE_UNSET 0
#define NP_PAGESIZE_SMALL (-1)
#define NP_PAGESIZE_LARGE (-2)
#define NP_PAGESIZE_ANY (-3)

struct np_guest_cell {
	int id;               /* guest node id, 0..n-1 */
	int nvcpus;
	const int *vcpus;     /* floating (shared) vCPU ids, increasing */
	int npcpus;
	const int *pcpus;     /* pinned (dedicated) vCPU ids, increasing */
	uint64_t memory_mb;
	long pagesize;        /* NP_PAGESIZE_* or KiB */
};

/*
 * PCI devices a guest asks for: COUNT devices of VENDOR:PRODUCT (Nova's
 * alias), or, when ADDRESS is set, that one device of the host (a libvirt
 * <hostdev>, an xl pci= entry): count is then 1, vendor and product are
 * the host's (np_place() looks the address up in the host's topology and
 * fails with NP_EINPUT when the host has no device there), and POLICY
 * says how strongly the guest wants that device's node.
 */
struct np_pci_request {
	char alias[64];       /* the flavor's alias name, or "" */
	unsigned vendor;      /* PCI vendor id */
	unsigned product;     /* PCI product (device) id */
	int count;
	enum np_pci_policy policy;
	char address[16];     /* "dddd:bb:dd.f": this one device; "": any of vendor:product */
};

/* One "key=value" of a flavor's extra specs or an image's properties. */
struct np_kv {
	const char *key;
	const char *value;
};

/* A Nova `[pci] alias` entry. */
struct np_pci_alias {
	const char *name;
	unsigned vendor;
	unsigned product;
	bool has_policy;
	enum np_pci_policy policy;
};

/*
 * Build a request the way Nova's API does (numa_get_constraints,
 * get_pci_numa_policy_constraint, get_pci_requests_from_flavor): flavor
 * VCPUS and MEMORY_MB, its extra specs, the image's properties (either may
 * be empty), the `[pci] alias` table.  Every rule of research/nova.md
 * section 4 is checked, in Nova's order.
 */
int np_request_from_nova(unsigned vcpus, uint64_t memory_mb,
			 const struct np_kv *extra_specs, size_t nspecs,
			 const struct np_kv *image_props, size_t nprops,
			 const struct np_pci_alias *aliases, size_t naliases,
			 np_request **out, struct np_error *err);

/*
 * Parse "vcpus=8,ram=4096,hw:numa_nodes=2,..." (the CLI's --flavor; `ram`
 * or `memory_mb`, `vcpus`, then extra specs) and "hw_cpu_policy=...,..."
 * (--image; may be NULL) and build the request as above.
 */
int np_request_from_flavor_text(const char *flavor, const char *image,
				np_request **out, struct np_error *err);

/*
 * xl's vnuma=[ [ "pnode=0","size=1024","vcpus=0-1","vdistances=10,20" ], ... ]
 * (the value of the key, or a whole xl.cfg line) with VCPUS and MEMORY_MB
 * of the guest; pnode= fixes the host node of that guest cell.
 */
int np_request_from_xl_vnuma(const char *text, unsigned vcpus, uint64_t memory_mb,
			     np_request **out, struct np_error *err);

/* numaplace.request/1 JSON (docs/formats/request.md). */
int np_request_from_json(const char *buf, size_t len, const char *name,
			 np_request **out, struct np_error *err);

void np_request_free(np_request *req);

unsigned np_request_vcpus(const np_request *req);
uint64_t np_request_memory_mb(const np_request *req);
/*
 * False when the guest asked for no NUMA topology (Nova: constraints are
 * None).  Such a request still has one cell holding all vCPUs and memory:
 * numaplace places it on one node when it fits, else on the fewest,
 * closest nodes.
 */
bool np_request_has_numa(const np_request *req);
int np_request_cell_count(const np_request *req);
const struct np_guest_cell *np_request_cell(const np_request *req, int i);
enum np_cpu_policy np_request_cpu_policy(const np_request *req);
enum np_thread_policy np_request_thread_policy(const np_request *req);
enum np_emulator_policy np_request_emulator_policy(const np_request *req);
/*
 * The memory policy and CPU affinity the request implies: strict and hard
 * unless its source says otherwise (Nova's numaplace:mem_policy and
 * numaplace:affinity extra specs, JSON "mem_policy" and "affinity", xl
 * vnuma's soft affinity, as libxl gives).  np_place() uses them unless
 * its options override them (struct np_place_opts).
 */
enum np_mem_policy np_request_mem_policy(const np_request *req);
enum np_affinity np_request_affinity(const np_request *req);
/* Host node os id fixed for guest cell I (xl pnode=), or -1. */
int np_request_cell_pinned_node(const np_request *req, int i);
int np_request_pci_count(const np_request *req);
const struct np_pci_request *np_request_pci(const np_request *req, int i);
/* Realtime vCPUs (hw:cpu_realtime_mask); NULL when none. */
const int *np_request_realtime_vcpus(const np_request *req, int *n);

/*
 * What the request's source said that changed nothing but is almost
 * always a mistake, one line each, to be shown to the user: e.g.
 * "hw:numa_cpus.2 is ignored: the guest has 2 NUMA nodes (0-1)" (Nova
 * ignores such a key too, so the request is the same).  The library never
 * prints; the tool prints these as "numaplace: warning: ...".
 */
int np_request_warning_count(const np_request *req);
const char *np_request_warning(const np_request *req, int i);

/* Names: "shared", "prefer", "isolate", "legacy", "strict", "soft", ... */
const char *np_cpu_policy_name(enum np_cpu_policy p);
const char *np_thread_policy_name(enum np_thread_policy p);
const char *np_emulator_policy_name(enum np_emulator_policy p);
const char *np_pci_policy_name(enum np_pci_policy p);
const char *np_mem_policy_name(enum np_mem_policy p);
const char *np_affinity_name(enum np_affinity a);

/* The value named NAME ("strict", "soft", ...) into *OUT: 0, or NP_EINPUT (OUT untouched). */
int np_mem_policy_from_name(const char *name, enum np_mem_policy *out);
int np_affinity_from_name(const char *name, enum np_affinity *out);
int np_pci_policy_from_name(const char *name, enum np_pci_policy *out);

#ifdef __cplusplus
}
#endif
#endif
