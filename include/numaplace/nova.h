/*
 * nova.h - Nova cases: the JSON case format of shared/nova/CASE_FORMAT.md
 * (one host as Nova's NUMATopology sees it + one request or a sequence of
 * requests), read into numaplace's own objects, and numaplace's answers
 * written back in that format's output shape, so that numaplace and Nova's
 * real code (nova_fit.py) can be run on the same input and compared.
 *
 * Ownership and threads: an np_nova_case owns its topology, its host and
 * its requests; pointers returned by accessors live as long as the case.
 * The host is mutable (a sequence charges each fit before the next
 * request): one thread at a time per case.
 *
 * What the case means in numaplace terms:
 * each host cell is a node (CPUs = shared ∪ dedicated, SMT cores from
 * `siblings`, socket, memory), `mempages` become the node's page pools
 * (absent: one 4 KiB pool of memory_mb; []: none), `pci`/`pci_no_numa` the
 * PCI pools, the top-level ratios the host's limits (neither given: no
 * limits), `cpu_usage`/`memory_usage_mb`/`pinned_cpus`/pages used the
 * usage; each request goes through np_request_from_nova() with the case's
 * `pci_aliases`; `packing` selects NP_STRATEGY_PACK.  `distances` (which
 * Nova ignores) become the topology's distances when they are a matrix
 * over the cells (n rows of n values 1-254, each cell nearest itself);
 * anything else is ignored as Nova ignores it, never refused, and
 * np_topo_distances_note() says why.  Not modelled: PCI
 * `dev_type` and tags (pools match on vendor and product only), aliases
 * without vendor_id/product_id (refused as invalid_pci_alias); pages used
 * beyond a pool's total (Nova: negative free) are clamped to none free.
 */
#ifndef NUMAPLACE_NOVA_H
#define NUMAPLACE_NOVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <numaplace/error.h>
#include <numaplace/host.h>
#include <numaplace/place.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_nova_case np_nova_case;

/*
 * Read a case from BUF (LEN bytes; NAME for messages).  A malformed case
 * (not JSON, wrong types, a host numaplace cannot model) is NP_EINPUT with
 * the JSON path of the bad value.  An invalid *request* is not an error
 * here: it is kept and reported by np_nova_case_request(), because Nova
 * answers such a request with an error in its output, not a crash.
 */
int np_nova_case_parse(const char *buf, size_t len, const char *name, np_nova_case **out,
		       struct np_error *err);
/* The same from a file. */
int np_nova_case_load(const char *path, np_nova_case **out, struct np_error *err);
void np_nova_case_free(np_nova_case *c);

/* False when `host` is null or absent: only the requests are checked. */
bool np_nova_case_has_host(const np_nova_case *c);
/*
 * The host's topology and its configuration + usage; NULL without a host
 * or for a host with "cells": [] (a host reporting no NUMA topology).
 */
const np_topo *np_nova_case_topo(const np_nova_case *c);
np_host *np_nova_case_host(np_nova_case *c);
/* `packing`: NP_STRATEGY_PACK, else NP_STRATEGY_SPREAD. */
enum np_strategy np_nova_case_strategy(const np_nova_case *c);
/* True for a `requests` list (output with results + host_after). */
bool np_nova_case_is_sequence(const np_nova_case *c);
/* `show_usage`: a single request's answer also has host_after. */
bool np_nova_case_show_usage(const np_nova_case *c);
int np_nova_case_request_count(const np_nova_case *c);
/*
 * Request I: 0 and *REQ (owned by the case), or the error Nova's API rules
 * give it (NP_EINPUT, err->reason as in docs/policies/nova-errors.md).
 */
int np_nova_case_request(const np_nova_case *c, int i, const np_request **req,
			 struct np_error *err);

/* What happened to one request of a case, for the writer. */
struct np_nova_result {
	const np_request *req;  /* NULL: invalid, see error */
	struct np_error error;  /* when req is NULL */
	const np_plan *plan;    /* NULL: not placed (no host, no cells, invalid) */
	const char *invalid;    /* the plan failed the validator (a bug): why; or NULL */
	bool reasons;           /* write "reasons": the plan's reasons (np_place_opts.explain) */
};

/*
 * Write the answers in CASE_FORMAT.md's output shape: for one request an
 * object with fits, filter_passes (= fits), guest_numa, guest_cells,
 * cells, emulator_threads_policy, error ({"code", "message"} or null) and,
 * with show_usage, host_after; with reasons (the plan was made with
 * np_place_opts.explain), "reasons": the plan's reasons, one line each (why
 * the other nodes lost, or why nothing fits); for a sequence {"results": [...],
 * "host_after": [...]}.  host_after is read from np_nova_case_host(), so
 * the caller charges each fitting plan before writing.  NRES must equal
 * np_nova_case_request_count().  NP_EOS when OUT fails.
 */
int np_nova_case_write(const np_nova_case *c, const struct np_nova_result *res, int nres,
		       FILE *out, struct np_error *err);

/* Counts of one np_nova_case_run(). */
struct np_nova_summary {
	int fits;      /* requests placed (or valid, when the case has no host) */
	int nofit;     /* answered: no placement (no room, or no NUMA cells for a NUMA guest) */
	int invalid;   /* refused by Nova's request rules */
	int bad_plans; /* plans the validator rejected (always 0 unless numaplace has a bug) */
};

/*
 * Place every request of the case one after the other, each fit charged
 * onto the case's host before the next (so a case runs once), re-check
 * every plan with np_plan_validate() when VALIDATE, and write the answers
 * as np_nova_case_write() does, with "reasons" when OPTS->explain.  OPTS NULL:
 * the case's strategy, no explanation.  Returns 0 when every request was answered (fit, no fit
 * and invalid requests are answers; *SUMMARY, which may be NULL, counts
 * them), else NP_ENOMEM, NP_EOS or the engine's error.
 */
int np_nova_case_run(np_nova_case *c, const struct np_place_opts *opts, bool validate,
		     FILE *out, struct np_nova_summary *summary, struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
