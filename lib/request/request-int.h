/*
 * request-int.h - the inside of np_request and the internal builder the
 * request parsers (Nova specs, xl vnuma, JSON) fill it with.
 *
 * A request is built once, then read-only.  Every array is owned by the
 * request.  Invariants (np__request_check): cells numbered 0..n-1; every
 * vCPU 0..vcpus-1 in exactly one cell, as floating or pinned; pinned
 * vCPUs only with dedicated/mixed policy; the cells' memory sums to
 * memory_mb; pinned_node is -1 or >= 0 per cell.
 */
#ifndef NP_REQUEST_INT_H
#define NP_REQUEST_INT_H

#include <numaplace/request.h>

#include "util/util.h"

struct np_request {
	unsigned vcpus;
	uint64_t memory_mb;
	bool numa;                  /* the guest asked for a NUMA topology */
	int ncells;
	struct np_guest_cell *cells;
	int *pinned_node;           /* per cell: host os node id, or -1 */
	enum np_cpu_policy cpu_policy;
	enum np_thread_policy thread_policy;
	enum np_emulator_policy emulator_policy;
	enum np_mem_policy mem_policy;
	enum np_affinity affinity;
	int npci;
	struct np_pci_request *pci;
	int nrealtime;
	int *realtime;              /* realtime vCPU ids, increasing */
	int nwarnings;
	char **warnings;            /* np_request_warning(): one line each */
};

/*
 * The names of the request's enums, indexed by value: one table each
 * (request.c), for np_*_name(), np_*_from_name() and every reader and
 * writer of them (JSON and Nova requests, plans).  The policies whose
 * first value is NONE (nothing asked) start with "none", which no input
 * spells: readers match from [1].
 */
extern const char *const np__cpu_policy_names[NP_CPU_POLICY_MIXED + 1];
extern const char *const np__thread_policy_names[NP_THREAD_POLICY_REQUIRE + 1];
extern const char *const np__emulator_policy_names[NP_EMULATOR_POLICY_ISOLATE + 1];
extern const char *const np__pci_policy_names[NP_PCI_POLICY_SOCKET + 1];
extern const char *const np__mem_policy_names[NP_MEM_POLICY_INTERLEAVE + 1];
extern const char *const np__affinity_names[NP_AFFINITY_SOFT + 1];

/* An empty request (no cells) for VCPUS and MEMORY_MB; NULL on ENOMEM. */
np_request *np__request_new(unsigned vcpus, uint64_t memory_mb);
/* Append guest cell number request->ncells; arrays are copied and sorted. */
int np__request_add_cell(np_request *req, const int *vcpus, int nvcpus, const int *pcpus,
			 int npcpus, uint64_t memory_mb, long pagesize, int pinned_node);
int np__request_add_pci(np_request *req, const struct np_pci_request *pci);
/* Does REQ already ask for the device at ADDRESS (a document naming one twice)? */
bool np__request_has_device(const np_request *req, const char *address);
int np__request_set_realtime(np_request *req, const int *vcpus, int n);
/* Add a warning (np_request_warning()); 0 or NP_ENOMEM. */
int np__request_warn(np_request *req, const char *fmt, ...) NP__PRINTF(2, 3);
/* The invariants above; 0 or NP_EINPUT with the first broken one. */
int np__request_check(const np_request *req, struct np_error *err);

/*
 * numaplace's inline PCI alias "VVVV:PPPP" or "VVVV:PPPP:policy" (4 hex
 * digits each, policy legacy/required/preferred/socket) into *A, name
 * untouched; false when malformed.  Used for `numaplace:pci_alias.NAME`
 * extra specs (nova.c) and the JSON request format.
 */
bool np__pci_alias_parse(const char *text, struct np_pci_alias *a);

#endif
