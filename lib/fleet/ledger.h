/*
 * ledger.h - the one ledger of what is promised on a host: per node
 * capacity rows (memory, shared vCPUs, dedicated CPUs, pages per size,
 * PCI devices per vendor:product), their usage, and the pinned CPUs; what
 * one plan takes from it; charging with the capacity predicate; the
 * invariant checker.
 *
 * Every store keeps exactly these rows: the in-memory ledger below (the
 * state file, the scheduler's summaries) and the sqlite: and postgresql:
 * drivers (as table rows, charged with the same predicate in SQL).  So a
 * claim means the same thing wherever it is kept, and usage is always the
 * sum of the takes of the live claims (np__ledger_check, `fleet check`).
 *
 * Rows are keyed by (node, rc): NODE is the kernel node id (-1 for PCI
 * devices on no node), RC a short name: "mem" (MiB), "vcpu" (floating
 * vCPUs), "pcpu" (dedicated CPUs pinned, reserved or blocked), "page:KB"
 * (pages of KB KiB), "pci:vvvv:pppp" (devices).  TOTAL is the raw amount,
 * CAP what may be promised (with the allocation ratio; pages: total minus
 * reserved), USED the sum of the takes.
 *
 * A take's MODE says how it is checked when charged: NP__CHECK_NONE (small
 * pages backing floating memory, which Nova lets over-commit: the host
 * view clamps them), NP__CHECK_CAP (used + amount <= cap), NP__CHECK_TOTAL
 * (also <= total: memory of pinned guests, never over-committed).  These
 * are exactly the engine's capacity checks (lib/place/cellfit.c), so two
 * plans made on the same stale view can both be charged only if together
 * they fit; which CPUs are pinned is checked by pins being unique.
 *
 * Ownership: an np__ledger owns its arrays; one thread at a time.
 */
#ifndef NP_FLEET_LEDGER_H
#define NP_FLEET_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <numaplace/host.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>

#define NP__RC_MAX 24

enum np__check { NP__CHECK_NONE = 0, NP__CHECK_CAP = 1, NP__CHECK_TOTAL = 2 };

/* No capacity (a host without allocation limits). */
#define NP__CAP_UNLIMITED INT64_MAX

struct np__row {
	int node;
	char rc[NP__RC_MAX];
	int64_t total, cap, used;
};

struct np__take {
	int node;
	char rc[NP__RC_MAX];
	int64_t amount;
	enum np__check mode;
};

struct np__pin {
	int cpu;  /* kernel CPU id */
	int node; /* kernel node id */
};

/* What one plan takes: rows (sorted by node, rc) and pinned CPUs (by cpu). */
struct np__takes {
	int ntakes;
	struct np__take *takes;
	int npins;
	struct np__pin *pins;
};

typedef struct np__ledger {
	int nrows;
	struct np__row *rows; /* sorted by (node, rc) */
	int npins;
	struct np__pin *pins; /* sorted by cpu */
	size_t rcap, pcap;    /* allocated rows and pins */
} np__ledger;

/* Order of rows and takes: node, then rc. */
int np__row_cmp(int node_a, const char *rc_a, int node_b, const char *rc_b);

/*
 * What PLAN (that fits, made on HOST's topology) takes.  REQ may be NULL;
 * given, a page size the guest asked for is checked strictly even for
 * small pages.  NP_EINPUT when the plan names nodes, pools or CPUs the
 * host lacks.
 */
int np__takes_of(const np_host *host, const np_plan *plan, const np_request *req,
		 struct np__takes *out, struct np_error *err);
void np__takes_free(struct np__takes *t);
/*
 * 0 when T pins each CPU once; else NP_EINPUT, "the plan pins CPU N
 * twice".  np__takes_of() checks its own; a store's claim checks what
 * its caller hands it (the same CPU twice would be charged twice).
 */
int np__pins_once(const struct np__takes *t, struct np_error *err);

/* The ledger of HOST: its capacity rows, its usage counted as used. */
int np__ledger_of_host(const np_host *host, np__ledger **out, struct np_error *err);
/* An empty ledger to fill with np__ledger_add_row / _add_pin (store loads). */
np__ledger *np__ledger_new(void);
/* A copy of L (NULL: out of memory). */
np__ledger *np__ledger_clone(const np__ledger *l);
int np__ledger_add_row(np__ledger *l, const struct np__row *row);
int np__ledger_add_pin(np__ledger *l, int cpu, int node);
/* Sort rows and pins after adding (adding keeps no order; sorted input stays). */
void np__ledger_sort(np__ledger *l);
/* Room for ROWS rows and PINS pins before any growth (a read of known size). */
int np__ledger_reserve(np__ledger *l, int rows, int pins);
void np__ledger_free(np__ledger *l);
const struct np__row *np__ledger_find(const np__ledger *l, int node, const char *rc);

/*
 * Charge TAKES (or give them back, with RELEASE): all or nothing.  A
 * charge fails with NP_ENOFIT, changing nothing, when a row it needs is
 * missing or would go over what its mode allows, or a CPU is pinned
 * already; ERR says which ("node 2: mem: 8192 asked, 4096 left").
 * Releasing never goes below zero and never fails.
 */
int np__ledger_charge(np__ledger *l, const struct np__takes *takes, bool release,
		      struct np_error *err);

/*
 * Add the usage L holds onto HOST (fresh from np_host_new on the same
 * topology, with its limits set): memory, floating vCPUs, pinned CPUs,
 * pages (small pages clamped to the pool, as np_host_charge does), PCI
 * devices.  NP_EINPUT when L does not fit HOST.
 */
int np__ledger_to_host(const np__ledger *l, np_host *host, struct np_error *err);

/*
 * HOST, the view of a ledger that TAKES changed into L, made the view of L
 * (what np__ledger_to_host gives on an empty host): each node TAKES names,
 * by a row or a pin, reset to EMPTY's (np__host_node_reset) and filled
 * again from L; the other nodes' rows did not change, nor their view.
 * TAKES on PCI devices (np__takes_pci) are not handled: rebuild whole.
 */
int np__ledger_nodes_to_host(const np__ledger *l, const struct np__takes *takes, np_host *host,
			     const np_host *empty, struct np_error *err);
/* Does T take a PCI device (a row "pci:...")? */
bool np__takes_pci(const struct np__takes *t);

/*
 * Invariants: rows sorted and unique, 0 <= used, used <= cap for every
 * row but each node's smallest page pool (NP__CHECK_NONE takes may fill
 * it past its cap), pins unique, "pcpu" used equal to the node's pins.
 * 0, or NP_EINPUT naming the first broken one.
 */
int np__ledger_check(const np__ledger *l, struct np_error *err);

/* "page:2048", "pci:8086:10fb". */
void np__rc_page(char *out, uint64_t size_kb);
void np__rc_pci(char *out, unsigned vendor, unsigned product);

/*
 * SRC into OUT (NP__RC_MAX), cut as snprintf would: the stores' ledger
 * reads copy one name a row, and snprintf was a tenth of SQLite's read.
 */
static inline void np__rc_copy(char *out, const char *src)
{
	size_t n = strnlen(src, NP__RC_MAX - 1);

	memcpy(out, src, n);
	out[n] = '\0';
}

#endif
