/*
 * balance.h - numaplace's balancer: what to do about running guests,
 * decided by one pure function (no system calls, no clock, no printing).
 * `numaplace balance` feeds it what it observed on a live host; the
 * simulator feeds it its simulated host.  Same code, same decisions.
 *
 * What it decides (the XAPI notes' problems, shared/seeds/):
 *  - a vCPU outside its soft affinity for longer than stuck_ms: hard-pin it
 *    to its home nodes for rescue_ms, then restore the soft preference;
 *  - a guest whose memory mostly landed elsewhere than its soft affinity:
 *    make the soft affinity follow the memory;
 *  - memory away from the home nodes when room appears there: migrate it
 *    home, within the migration budget;
 *  - a node overloaded while another idles: move a guest (soft affinity
 *    and memory) when the expected gain outweighs the cost of moving.
 * Hysteresis: a guest acted on is left alone for cooldown_ms; thresholds
 * have margins so that a decision is not undone by the next call.
 *
 * Threads: np_balance_decide() only reads its inputs; call it from any
 * thread.  The returned array is the caller's to free().
 */
#ifndef NUMAPLACE_BALANCE_H
#define NUMAPLACE_BALANCE_H

#include <stdbool.h>
#include <stdint.h>

#include <numaplace/error.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

struct np_bal_vcpu {
	int guest;            /* index into np_bal_input.guests */
	int vcpu;             /* vCPU (or thread) number within the guest */
	int cpu;              /* CPU os id it last ran on, -1 unknown */
	uint64_t outside_ms;  /* continuously outside its soft affinity for this long */
	bool rescue_pinned;   /* the balancer hard-pinned it earlier */
	uint64_t pinned_ms;   /* for how long it has been rescue-pinned */
};

struct np_bal_guest {
	int id;                  /* caller's id (pid, domain id), reported back */
	int nhome;
	const int *home;         /* soft-affinity node indexes, increasing */
	const uint64_t *mem_mb;  /* resident MiB per node index (topology order) */
	double cpu_demand;       /* CPUs' worth of work it wants now (e.g. 3.5) */
	uint64_t since_action_ms;/* time since the balancer last acted on it; UINT64_MAX never */
	bool may_migrate;        /* policy allows moving its memory */
	bool may_repin;          /* policy allows changing its affinity */
};

struct np_bal_node {
	uint64_t free_mb;
	double load;             /* runnable work / CPUs of the node (1.0 = full) */
};

struct np_bal_input {
	const np_topo *topo;
	int nguests;
	const struct np_bal_guest *guests;
	int nvcpus;
	const struct np_bal_vcpu *vcpus;
	const struct np_bal_node *nodes; /* per node index */
};

struct np_bal_params {
	uint64_t stuck_ms;        /* outside soft affinity longer than this: rescue (default 2000) */
	uint64_t rescue_ms;       /* keep a rescue hard pin this long (default 500) */
	uint64_t cooldown_ms;     /* leave a guest alone this long after acting (default 30000) */
	double follow_fraction;   /* memory share away from home that makes affinity follow (0.6) */
	double overload;          /* node load above this is overloaded (1.2) */
	double idle;              /* node load below this can take work (0.6) */
	uint64_t migrate_budget_mb; /* most memory to move per call (default 1024) */
	double migrate_mb_per_s;  /* for the cost estimate (default 1000) */
};

enum np_bal_kind {
	NP_BAL_RESCUE_PIN,    /* hard-pin VCPU to the CPUs of TO (its home) */
	NP_BAL_RESTORE_SOFT,  /* drop the rescue pin: back to soft affinity on home;
				 FROM is the node the vCPU is on (-1 unknown) */
	NP_BAL_FOLLOW_MEMORY, /* set the guest's soft affinity (home) to TO */
	NP_BAL_MIGRATE_HOME,  /* move MB of the guest's memory from FROM to TO */
	NP_BAL_RELIEVE,       /* move the guest from FROM to TO: affinity and MB of memory */
};

struct np_bal_action {
	enum np_bal_kind kind;
	int guest;            /* index into the input's guests */
	int vcpu;             /* -1: the whole guest */
	int from_node;        /* node index or -1 */
	int to_node;          /* node index or -1 */
	uint64_t mb;
	char reason[160];     /* one line for the log: why, with the numbers */
};

void np_bal_params_default(struct np_bal_params *p);

/* 0 and *ACTIONS (possibly none), or NP_EINPUT for inconsistent input. */
int np_balance_decide(const struct np_bal_input *in, const struct np_bal_params *p,
		      struct np_bal_action **actions, int *nactions, struct np_error *err);

const char *np_bal_kind_name(enum np_bal_kind kind);

#ifdef __cplusplus
}
#endif
#endif
