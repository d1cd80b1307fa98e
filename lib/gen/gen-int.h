/*
 * gen-int.h - the inside of the workload generator (gen.h): the host it
 * writes (shape.c builds it from a shape or a topology), the requests the
 * families draw (family.c) and what gen.c needs to end a sequence.
 *
 * Ownership: an np__gen_host owns all its arrays (np__gen_host_free).
 * Requests are small values.  Nothing here keeps state between calls.
 */
#ifndef NP_GEN_INT_H
#define NP_GEN_INT_H

#include <numaplace/gen.h>

#include "util/rng.h"
#include "util/util.h"

#define NP__GEN_NODES_MAX 1024 /* CPU nodes */
#define NP__GEN_CXL_MAX 64     /* CPU-less memory nodes on top */
#define NP__GEN_CPUS_MAX 256   /* per node */
#define NP__GEN_CELLS_MAX 4    /* guest cells */
#define NP__GEN_POOLS_MAX 4    /* page pools per node */
#define NP__GEN_DIST_MAX 254   /* largest generated distance (a SLIT byte) */

/* The resources a guest takes and a host holds, for ending a sequence. */
enum np__gen_res {
	NP__RES_PCPU,   /* dedicated CPUs */
	NP__RES_VCPU,   /* floating vCPUs: shared CPUs x ratio */
	NP__RES_MEM,    /* MiB */
	NP__RES_PAGE2M, /* 2 MiB pages */
	NP__RES_PAGE1G, /* 1 GiB pages */
	NP__RES_NIC,
	NP__RES_COUNT,
};

enum np__gen_dist { NP__DIST_UNIFORM, NP__DIST_2LEVEL, NP__DIST_SNC, NP__DIST_RING, NP__DIST_MESH };

/* Every shape key; GIVEN has bit k set when key k was written. */
struct np__gen_shape {
	int nodes, cpus, smt, sockets, cxl;
	uint64_t mem_mb, cxl_mem_mb; /* cxl_mem_mb 0: as mem_mb */
	enum np__gen_dist dist;
	int huge2m, huge1g; /* % of node memory */
	int nics, nic_every;
	int shared;         /* % of cores for floating vCPUs; 0: legacy host */
	unsigned given;
};

struct np__gen_pool {
	uint64_t size_kb, total, reserved;
};

struct np__gen_node {
	int id;          /* kernel node id */
	int socket;      /* -1 unknown */
	uint64_t mem_mb;
	int ncpus;
	int *cpus;       /* online CPU os ids, increasing */
	int *core;       /* per CPU: its SMT group (the smallest sibling's os id) */
	int nshared;     /* 0: legacy cell (every CPU for both kinds) */
	int *shared;     /* os ids (a subset of cpus) when nshared > 0 */
	int ndedicated;
	int *dedicated;
	int npools;      /* 0: Nova's default one 4 KiB pool */
	struct np__gen_pool pools[NP__GEN_POOLS_MAX];
	int nics;
};

struct np__gen_host {
	int n;
	struct np__gen_node *nodes;
	uint32_t *dist;  /* n x n, or NULL: none given (10 / 20) */
	char shape[256]; /* the resolved shape (a real topology: its decorations) */
};

/* Parse TEXT onto SH (keys not in TEXT keep their value). */
int np__gen_shape_parse(struct np__gen_shape *sh, const char *text, struct np_error *err);
/* The shape as canonical text: every key, or (HOST false) the decorations only. */
void np__gen_shape_format(const struct np__gen_shape *sh, bool host, char *buf, size_t size);
/* Bits of the keys a real topology decides (nodes, cpus, ...). */
unsigned np__gen_shape_host_keys(void);

/* A host from a shape, or from TOPO with SH's decorations. */
int np__gen_host_build(const struct np__gen_shape *sh, const np_topo *topo,
		       struct np__gen_host *h, struct np_error *err);
void np__gen_host_free(struct np__gen_host *h);
/* Node I's CPUs for pinned vCPUs (legacy cells: all of them). */
int np__gen_node_pcpus(const struct np__gen_node *nd);
/* Node I's CPUs for floating vCPUs. */
int np__gen_node_vcpus(const struct np__gen_node *nd);
/* Pages of SIZE_KB free for guests on ND (0 without such a pool). */
uint64_t np__gen_node_pages(const struct np__gen_node *nd, uint64_t size_kb);
/* The host's capacity per resource (ratio applied to floating vCPUs). */
void np__gen_host_capacity(const struct np__gen_host *h, double cpu_ratio,
			   int64_t cap[NP__RES_COUNT]);

/* One guest as a family draws it. */
struct np__gen_req {
	int ncells;
	int vcpus[NP__GEN_CELLS_MAX];
	uint64_t mem_mb[NP__GEN_CELLS_MAX];
	bool uneven;       /* written with hw:numa_cpus.N / hw:numa_mem.N */
	bool shared;       /* hw:cpu_policy=shared, else dedicated */
	long pagesize_kb;  /* 0: none asked */
	int nics;
	const char *pci_policy; /* hw:pci_numa_affinity_policy, or NULL */
};

/* What the families size their guests by: a typical node of the host. */
struct np__gen_ctx {
	int pcpus;        /* dedicated CPUs of a typical node */
	int vcpus;        /* shared CPUs of a typical node */
	int cpus;         /* all its CPUs: memory per CPU is mem_mb / cpus */
	uint64_t mem_mb;  /* memory of a typical node */
	uint64_t pool2m_mb, pool1g_mb; /* its huge page pools, MiB */
	int cpu_nodes;    /* nodes with CPUs */
	bool split;       /* shared and dedicated CPUs are separate */
};

struct np__gen_family {
	const char *name;
	const char *summary;
	const char *shape;  /* default shape keys */
	double cpu_ratio;
	bool churn;
	bool nics;          /* guests may ask for NICs (pci_aliases written) */
	void (*draw)(struct np__rng *r, const struct np__gen_ctx *x, struct np__gen_req *q);
};

const struct np__gen_family *np__gen_families(int *n);
const struct np__gen_family *np__gen_family(const char *name);

/* The demand of Q per resource. */
void np__gen_req_demand(const struct np__gen_req *q, int64_t d[NP__RES_COUNT]);

#endif
