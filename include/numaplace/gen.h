/*
 * gen.h - synthetic workloads: seeded, reproducible sequences of guest
 * requests arriving on (and, with churn, leaving) one host, for tests and
 * benchmarks.
 *
 * A workload is written as a Nova case (shared/nova/CASE_FORMAT.md): a
 * `host`, allocation ratios, `pci_aliases` and a `requests` list, so that
 * `numaplace place --case` and Nova's own code (nova_fit.py) read it as
 * it is; plus a `workload` member saying how it was made and, when guests
 * leave, an `events` list of arrivals and departures
 * (docs/formats/workload.md).  Readers that do not know those two keys
 * ignore them and see the arrivals only.
 *
 * The host is generated from a shape ("nodes=8,sockets=2,dist=2level",
 * see np_gen_write) or taken from a real topology; the requests come from
 * a named family (a request mix with its own default host shape and
 * ratios).  The same options and seed give the same bytes on every
 * machine: the generator is integer-only (util/rng.c), the JSON writer
 * keeps key order.
 *
 * Threads: no global state; np_gen_write() may run in many threads at
 * once (a topology passed in is only read).
 */
#ifndef NUMAPLACE_GEN_H
#define NUMAPLACE_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <numaplace/error.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest seed: seeds are written as JSON integers. */
#define NP_GEN_SEED_MAX INT64_MAX

enum np_gen_churn {
	NP_GEN_CHURN_DEFAULT, /* as the family says (only `churn` has departures) */
	NP_GEN_CHURN_OFF,     /* arrivals only */
	NP_GEN_CHURN_ON,      /* guests leave again: `events` with departures */
};

struct np_gen_opts {
	const char *family;  /* a name from np_gen_family_name(); NULL: "dedicated" */
	uint64_t seed;       /* 0 .. NP_GEN_SEED_MAX */
	/*
	 * Host shape keys on top of the family's own ("nodes=16,dist=ring");
	 * NULL or "" for none.  With TOPO only the decoration keys (huge2m,
	 * huge1g, nics, nic_every, shared) may be given.
	 */
	const char *shape;
	const np_topo *topo; /* a real host instead of a generated one, or NULL */
	double cpu_ratio;    /* 0: the family's */
	int guests;          /* arrivals; 0: until the host is over-full (see below) */
	enum np_gen_churn churn;
	int indent;          /* 0: the whole case on one line; else JSON indentation */
};

/*
 * Request families, in a fixed order: 0 .. np_gen_family_count() - 1.
 * NAME is what opts.family takes, SUMMARY one line for people, SHAPE the
 * family's default host shape.  NULL for an index out of range.
 */
int np_gen_family_count(void);
const char *np_gen_family_name(int i);
const char *np_gen_family_summary(int i);
const char *np_gen_family_shape(int i);

/*
 * Write one workload as a single JSON document (followed by a newline)
 * to OUT.
 *
 * Shape keys (comma separated KEY=VALUE, later keys win):
 *   nodes=N      CPU nodes, 1 .. 1024           cpus=N     CPUs per node
 *   smt=T        threads per core (1, 2, 4)     mem=SIZE   memory per node (MiB, or 64G)
 *   sockets=S    sockets (N a multiple of S)    dist=KIND  uniform, 2level, snc, ring, mesh
 *   cxl=M        CPU-less memory nodes (CXL memory expanders), cxl_mem=SIZE each
 *   huge2m=P, huge1g=P   P % of each node's memory in 2 MiB / 1 GiB page pools
 *   nics=K, nic_every=E  K NICs (8086:154d) on every E-th node
 *   shared=P     P % of each node's cores for floating vCPUs, the rest
 *                dedicated (a host with cpu_shared_set / cpu_dedicated_set)
 *
 * Guests: opts.guests arrivals, or (0) arrivals until the guests present
 * at once ask more than the host has of some resource (dedicated CPUs,
 * shared CPUs times the ratio, memory, huge pages, NICs), that one
 * included, so that every placer meets a refusal.
 *
 * NP_EINPUT for an unknown family, a bad shape or a family that cannot
 * make any guest for the host (e.g. 4-cell guests on a 2-node host);
 * NP_ENOMEM; NP_EOS when writing fails.
 */
int np_gen_write(const struct np_gen_opts *opts, FILE *out, struct np_error *err);

/*
 * Write the family's flavor catalogue (numaplace.flavors/1, flavors.h,
 * docs/formats/flavors.md) to OUT: every distinct guest the family draws
 * for the host of OPTS (shape, topology, ratio as np_gen_write() takes
 * them), each weighing how often 100,000 draws gave it, in Nova's
 * keys (the weight: how many of the draws it was); with "pci_aliases"
 * when guests ask for NICs.  The draws come from
 * a stream of OPTS->seed that no workload draws its guests from: the
 * catalogue says which guests come how often, never in which order.
 * OPTS->guests and churn are ignored.  Errors as np_gen_write().
 */
int np_gen_write_flavors(const struct np_gen_opts *opts, FILE *out, struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
