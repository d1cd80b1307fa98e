/*
 * plan-emit.h - the writers behind np_plan_write() (plan-format.c), one
 * file per format; numaplace.plan/1 JSON is written by lib/plan/.
 *
 * A plan stores host nodes by topology index and CPUs by kernel id; the
 * writers print kernel ids only, mapped through the host's topology (or
 * the ids the plan remembered with np__plan_set_topo()).  Writers return
 * 0, NP_EOS when the stream fails, or NP_EINPUT when the plan cannot be
 * said in the format.  The views of a plan they share are in
 * plan/plan-int.h.
 */
#ifndef NP_PLAN_EMIT_H
#define NP_PLAN_EMIT_H

#include <stdbool.h>
#include <stdio.h>

#include <numaplace/emit.h>

#include "plan/plan-int.h"

int np__plan_write_text(const np_plan *plan, const np_host *host, const np_request *req,
			unsigned flags, FILE *out, struct np_error *err);
int np__plan_write_libvirt(const np_plan *plan, const np_host *host, const np_request *req,
			   FILE *out, struct np_error *err);
int np__plan_write_xl(const np_plan *plan, const np_host *host, const np_request *req,
		      FILE *out, struct np_error *err);
/*
 * The libvirt domain document BUF (LEN bytes; NAME for messages) with the
 * plan's elements PIECES (np__plan_write_libvirt's output, PLEN bytes)
 * merged in and its memory set to MEMORY_MB: the whole document into
 * *OUT (malloc'ed, NUL-terminated, *OUTLEN bytes).  NP_EINPUT for a
 * document that is not a domain or has an element twice that libvirt
 * allows once, NP_ENOMEM.  domain-merge.c, libxml2's side.
 */
int np__lv_domain_merge(const char *buf, size_t len, const char *name, const char *pieces,
		     size_t plen, uint64_t memory_mb, char **out, size_t *outlen,
		     struct np_error *err);
int np__plan_write_numactl(const np_plan *plan, const np_host *host, FILE *out,
			   struct np_error *err);

#endif
