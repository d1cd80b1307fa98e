/*
 * emit.h - write a plan for the tool that carries it out: libvirt domain
 * XML pieces, xl.cfg lines, a numactl/taskset command line, numaplace's
 * plan JSON, or text for people (with --explain, the reasons).
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

#ifdef __cplusplus
}
#endif
#endif
