/*
 * plan-emit.h - the writers behind np_plan_write(), one file per format,
 * the plan JSON reader, and the few views of a plan they share.
 *
 * A plan stores host nodes by topology index and CPUs by kernel id; the
 * writers print kernel ids only, mapped through the host's topology (or,
 * for the state file, which has no host, the ids the plan remembered with
 * np__plan_set_topo()).  Writers return 0, NP_EOS when the stream fails,
 * or NP_EINPUT when the plan cannot be said in the format.
 *
 * The views (struct np__gcell, the vCPU table) are built from the plan
 * alone, owned by the caller and freed with the matching _free().
 */
#ifndef NP_PLAN_EMIT_H
#define NP_PLAN_EMIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include <numaplace/emit.h>

#include "plan/plan-int.h"

int np__plan_write_text(const np_plan *plan, const np_host *host, const np_request *req,
			bool explain, FILE *out, struct np_error *err);
int np__plan_write_libvirt(const np_plan *plan, const np_host *host, const np_request *req,
			   FILE *out, struct np_error *err);
int np__plan_write_xl(const np_plan *plan, const np_host *host, const np_request *req,
		      FILE *out, struct np_error *err);
int np__plan_write_numactl(const np_plan *plan, const np_host *host, FILE *out,
			   struct np_error *err);

/*
 * numaplace.plan/1.  TOPO NULL: kernel node ids from the plan itself
 * (NP_EINPUT when it has none).  CLAIM: only what the plan takes (no
 * score, no reasons), the form kept in the state file.
 */
int np__plan_write_json(const np_plan *plan, const np_topo *topo, bool claim, FILE *out,
			struct np_error *err);
/*
 * Read a plan from the JSON value ROOT.  BASE prefixes every path in
 * messages ("" or e.g. "claims[\"vm-7\"]").  TOPO NULL: check the shape
 * only; node ids are then kept as kernel ids in node_idx.
 */
int np__plan_from_json_value(const np_topo *topo, const json_t *root, const char *base,
			     np_plan **out, struct np_error *err);

/* The kernel id of host node NODE_IDX, by TOPO if given, else by the plan; -1 unknown. */
int np__plan_node_os(const np_plan *plan, const np_topo *topo, int node_idx);

/* A guest cell as the plan places it (a guest without NUMA may span nodes). */
struct np__gcell {
	int id;
	int nvcpus;
	int *vcpus;          /* increasing */
	uint64_t memory_mb;
	uint64_t pagesize_kb; /* of its first plan cell */
	int nnodes;
	int *nodes;          /* node indexes, in plan order */
	int ncpus;
	int *cpus;           /* every host CPU its vCPUs may use, increasing */
};

/* Guest cells in increasing id; *N of them.  NP_ENOMEM. */
int np__plan_gcells(const np_plan *plan, struct np__gcell **out, int *n);
void np__plan_gcells_free(struct np__gcell *g, int n);

/* Where one vCPU may run: one pinned CPU, or the cpuset of its plan cell. */
struct np__vcpu {
	int cell;  /* plan cell index */
	int pcpu;  /* pinned CPU, or -1: floating on cells[cell].cpuset */
};

/*
 * Every vCPU of a plan that fits, indexed by vCPU id: NP_EINPUT when the
 * ids are not exactly 0..N-1, each once.
 */
int np__plan_vcpus(const np_plan *plan, struct np__vcpu **out, int *n, struct np_error *err);

/*
 * True when plan cell C uses pages bigger than its node's small page (the
 * node's first pool on HOST; 4 KiB when HOST is NULL or reports none).
 */
bool np__plan_cell_huge(const np_host *host, const struct np_plan_cell *c);

/* A malloc'ed cpulist ("0-3,8") of IDS (any order, duplicates allowed). */
char *np__cpulist(const int *ids, int n);

/* "8 GiB", "1.5 GiB", "512 MiB" for people. */
void np__fmt_mib(uint64_t mib, char *buf, size_t size);

#endif
