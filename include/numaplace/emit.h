/*
 * emit.h - write a plan for the tool that carries it out: libvirt domain
 * XML pieces, xl.cfg lines, a numactl/taskset command line, numaplace's
 * plan JSON, or text for people (with --explain, the reasons); and what a
 * host's claims have taken, node by node (the usage view).
 *
 * Writers read the plan, the host it was made on and the request; they
 * never change them.  Errors: NP_EOS when the stream fails.
 */
#ifndef NUMAPLACE_EMIT_H
#define NUMAPLACE_EMIT_H

#include <stdbool.h>
#include <stdio.h>

#include <numaplace/error.h>
#include <numaplace/host.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>

#ifdef __cplusplus
extern "C" {
#endif

enum np_plan_format {
	NP_PLAN_TEXT,    /* for people; with explain, every reason */
	NP_PLAN_JSON,    /* numaplace.plan/1 (docs/formats/plan.md) */
	NP_PLAN_LIBVIRT, /* <vcpu>, <cputune>, <numatune>, <cpu><numa>, <memoryBacking> */
	NP_PLAN_XL,      /* cpus=, cpus_soft=, vnuma= */
	NP_PLAN_NUMACTL, /* numactl ... -- for a plain process */
};

/* "text", "json", "libvirt", "xl", "numactl". */
int np_plan_format_from_name(const char *name, enum np_plan_format *out);

/* Flags of np_plan_write() (true still means NP_PLAN_EXPLAIN). */
#define NP_PLAN_EXPLAIN 1u /* text: every reason (why the others lost) */
#define NP_PLAN_VERBOSE 2u /* text: how the search ended, in figures with units */

/*
 * Write PLAN for HOST (NULL for text, json and numactl).  NP_EINPUT when
 * the plan cannot be said in FORMAT exactly (the message says why): a
 * writer never prints a configuration that does something else than the
 * plan.  A plan that does not fit: text and JSON say so; libvirt, xl and
 * numactl refuse with NP_EINPUT (callers should check np_plan_fits()).
 */
int np_plan_write(const np_plan *plan, const np_host *host, const np_request *req,
		  enum np_plan_format format, unsigned flags, FILE *out,
		  struct np_error *err);

/* One claim of a usage view: its id and its plan, mapped onto the host's topology. */
struct np_usage_claim {
	const char *id;
	const np_plan *plan;
};

enum np_usage_format {
	NP_USAGE_TEXT, /* for people: a row a node, then a line a claim */
	NP_USAGE_JSON, /* numaplace.usage/1 (docs/formats/usage.md) */
};

/* "text", "json". */
int np_usage_format_from_name(const char *name, enum np_usage_format *out);

/*
 * What HOST has given out, node by node: dedicated CPUs pinned and free,
 * floating vCPUs against the shared CPUs' capacity (the allocation
 * ratio), memory used and free (without over-commit), each huge page
 * pool's pages used and free, PCI devices used; and which of CLAIMS
 * (already charged onto HOST, e.g. by np_state_apply()) hold something on
 * each node, then each claim.  NAME (the state file, say) titles it.
 * NP_ENOMEM, or NP_EOS when the stream fails.
 */
int np_usage_write(const np_host *host, const struct np_usage_claim *claims, int nclaims,
		   const char *name, enum np_usage_format format, FILE *out,
		   struct np_error *err);

/*
 * HOST's topology drawn as np_topo_write() draws it in SVG, with what is
 * taken on HOST: CPUs pinned by claims in their own colour, the memory
 * gauges and huge page lines as claimed and free, each node's pinned CPUs
 * and floating vCPUs.  NAME (the state file, say; NULL: none) says
 * whose claims they are.  NP_ENOMEM, or NP_EOS when the stream fails.
 */
int np_host_write_svg(const np_host *host, const char *name, FILE *out, struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
