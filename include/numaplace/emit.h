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

int np_plan_write(const np_plan *plan, const np_host *host, const np_request *req,
		  enum np_plan_format format, bool explain, FILE *out,
		  struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
