/*
 * runtime.h - numaplace on running guests: where a Linux process's (or a
 * QEMU/KVM guest's) threads run and its memory lies, or a libvirt
 * domain's vCPUs; what is wrong with that; carrying out a placement; the
 * soft-affinity preferences the balancer keeps; and the live balancer.
 *
 * Targets: a process by pid (for QEMU its vCPU threads are the threads
 * named "CPU N/..."), or a libvirt domain by connection URI and name,
 * reached only through libvirt's API.
 *
 * Soft affinity: Linux has none, so numaplace keeps its own: the preferred
 * nodes of a target are recorded in a small file in a run directory
 * (default /run/numaplace), the kernel affinity stays wide, and the
 * balancer (balance.h) enforces the preference lazily - it hard-pins a
 * vCPU stuck away from home for a moment, then makes it wide again.  See
 * docs/policies/runtime.md.
 *
 * Ownership and threads: an np_obs is immutable once made and may be read
 * from several threads; np_obs_free() it once.  An np_balancer is one
 * thread at a time.  Pointers returned by accessors live as long as the
 * object they came from.  Node indexes are topology indexes (node_idx),
 * CPUs are kernel CPU ids.
 */
#ifndef NUMAPLACE_RUNTIME_H
#define NUMAPLACE_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <numaplace/balance.h>
#include <numaplace/error.h>
#include <numaplace/request.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A running guest: a process (pid > 0) or else a libvirt domain. */
struct np_target {
	int pid;
	const char *uri;    /* libvirt connection URI, e.g. qemu:///system */
	const char *domain; /* domain name */
};

/* ---- observe -------------------------------------------------------- */

typedef struct np_obs np_obs;

struct np_rt_thread {
	int tid;          /* kernel thread id; for a libvirt domain, 0 unless known */
	int vcpu;         /* vCPU number, or -1 (emulator, I/O or other thread) */
	char name[32];    /* thread name (comm), "" unknown */
	char state;       /* R, S, D, ... or '?' */
	int cpu;          /* CPU it last ran on, -1 unknown */
	int node_idx;     /* node of that CPU, -1 unknown */
	int nallowed;
	const int *allowed; /* CPUs it may run on, increasing */
	uint64_t cpu_ms;  /* CPU time used so far (user + system) */
};

/* Resident memory of a target on one node, by kind. */
struct np_rt_mem {
	uint64_t anon_kb; /* anonymous (incl. private copies of file pages) */
	uint64_t file_kb; /* file-backed pages (page cache, shared mappings) */
	uint64_t huge_kb; /* hugetlbfs pages */
};

/*
 * Observe T once.  Processes: /proc/PID/task/<tid>/{stat,status} and
 * /proc/PID/numa_maps.  Domains: virDomainGetVcpus/GetVcpuPinInfo/
 * GetNumaParameters; memory per node only when the domain's QEMU process
 * can be read locally (else np_obs_mem_known() is false).
 * NP_EINPUT no such process or domain, NP_EIO no permission to read it.
 */
int np_observe(const np_topo *topo, const struct np_target *t, np_obs **out,
	       struct np_error *err);
void np_obs_free(np_obs *obs);

int np_obs_pid(const np_obs *obs);          /* -1 for a domain without a local process */
const char *np_obs_name(const np_obs *obs); /* command name or domain name */
uint64_t np_obs_time_ms(const np_obs *obs); /* CLOCK_MONOTONIC when taken */
int np_obs_thread_count(const np_obs *obs);
const struct np_rt_thread *np_obs_thread(const np_obs *obs, int i);
bool np_obs_mem_known(const np_obs *obs);
/* Memory on NODE_IDX; all zero when unknown or out of range. */
const struct np_rt_mem *np_obs_mem(const np_obs *obs, int node_idx);
uint64_t np_obs_mem_total_kb(const np_obs *obs);
/*
 * The memory policy: the policy holding most of the memory, as the kernel
 * names it ("default", "bind:1", "prefer (many):1,3", "interleave:0-3"),
 * or for a domain libvirt's "strict:0-1"; "unknown" when not known.
 */
const char *np_obs_policy(const np_obs *obs);
/* Every policy seen with the KiB it governs; returns the count. */
int np_obs_policy_at(const np_obs *obs, int i, const char **policy, uint64_t *kb);
/* PCI devices the guest has (vfio-pci host= or libvirt hostdev), "dddd:bb:dd.f". */
int np_obs_device_count(const np_obs *obs);
const char *np_obs_device(const np_obs *obs, int i);

/* ---- diagnose ------------------------------------------------------- */

enum np_finding_kind {
	NP_FIND_THREAD_AWAY, /* a thread ran outside the preferred nodes too long */
	NP_FIND_MEMORY_AWAY, /* memory lies outside the preferred nodes */
	NP_FIND_NODE_LOW,    /* a node is short of free memory */
	NP_FIND_NODE_BUSY,   /* a node has more runnable work than CPUs */
	NP_FIND_IO_REMOTE,   /* a PCI device is on a node the guest does not use */
};

struct np_finding {
	enum np_finding_kind kind;
	int tid;             /* NP_FIND_THREAD_AWAY, else 0 */
	int node_idx;        /* the node concerned, or -1 */
	uint64_t value;      /* ms away, KiB away, MiB free, load x 100 */
	char evidence[200];  /* one line with the numbers */
};

struct np_diag_params {
	uint64_t away_ms;         /* a thread away this long is reported (default 2000) */
	double mem_away_fraction; /* memory share away that is reported (0.10) */
	double low_free_fraction; /* node free below this share is low (0.05) */
	double busy_load;         /* runnable per CPU above this is busy (1.0) */
};

void np_diag_params_default(struct np_diag_params *p);

/*
 * Findings about SAMPLES[0..N-1], observations of one target in time
 * order, against the preferred nodes HOME (node indexes; none: skip the
 * thread and memory checks) and the host's NODES (per node index; NULL:
 * skip the node checks).  A thread is away for the span of the samples
 * it was away in without a break up to the last one.  *OUT is the
 * caller's to free().
 */
int np_diagnose(const np_topo *topo, const np_obs *const *samples, int n, const int *home,
		int nhome, const struct np_bal_node *nodes, const struct np_diag_params *p,
		struct np_finding **out, int *nout, struct np_error *err);

const char *np_finding_kind_name(enum np_finding_kind kind);

/*
 * The host now, per node index: free memory (sysfs meminfo) and runnable
 * load (threads in state R on the node's CPUs / its CPUs).  NODES has
 * np_topo_node_count() entries.
 */
int np_host_sample(const np_topo *topo, struct np_bal_node *nodes, struct np_error *err);

/*
 * Where memory goes when node PREFERRED is full: the other nodes with
 * memory that it can reach, nearest first by its row of the distance
 * matrix, ties by node id - the rule of a plan's fallback list
 * (np_plan_fallback()).  Writes at most MAX node indexes into OUT;
 * returns how many there are (0 for a node PREFERRED that does not exist).
 */
int np_fallback_order(const np_topo *topo, int preferred, int *out, int max);

/*
 * Ballooning: which memory to give back first.  Fills ORDER with node
 * indexes holding the guest's memory: nodes outside HOME first (farthest
 * from home first), then home nodes; ties: the node with less free memory
 * first.  Returns the count.
 */
int np_shrink_order(const np_topo *topo, const np_obs *obs, const int *home, int nhome,
		    const struct np_bal_node *nodes, int *order, int max);

/*
 * I/O locality: the nodes of the guest's PCI devices, where its emulator
 * and I/O threads should run.  Returns the count (0: no device with a
 * known node).
 */
int np_io_nodes(const np_topo *topo, const np_obs *obs, int *nodes, int max);

/* ---- output --------------------------------------------------------- */

enum np_obs_format { NP_OBS_TEXT, NP_OBS_JSON };

/* Placement advice printed with an observation (node indexes). */
struct np_obs_advice {
	int nrelease;
	const int *release;  /* np_shrink_order(): give memory back from these first */
	int nfallback;
	const int *fallback; /* np_fallback_order() of the first preferred node */
	int nio;
	const int *io;       /* np_io_nodes(): where emulator and I/O threads belong */
};

int np_obs_format_from_name(const char *name, enum np_obs_format *out);
/*
 * Write OBS (and FINDINGS, may be none; ADVICE, may be NULL) to OUT.  JSON
 * is one line: {"pid", "kind", "name", "time_ms", "threads": [{"tid",
 * "vcpu", "name", "state", "cpu", "node", "allowed_cpus", "cpu_ms"}],
 * "memory_known", "memory_mb": {"<node id>": MiB}, "memory_kb": {"<node
 * id>": {"anon", "file", "huge"}}, "memory_total_kb", "policy",
 * "policies", "devices", "findings", "advice"}.
 */
int np_obs_write(const np_topo *topo, const np_obs *obs, const struct np_finding *findings,
		 int nfindings, const struct np_obs_advice *advice, enum np_obs_format format,
		 FILE *out, struct np_error *err);

/* ---- apply ---------------------------------------------------------- */

struct np_rt_pin {
	int vcpu;
	int cpu;
};

struct np_apply_spec {
	int nnodes;
	const int *nodes;      /* node indexes, increasing; at least one */
	enum np_affinity affinity; /* hard: pin; soft: record, keep the kernel affinity wide */
	int npins;
	const struct np_rt_pin *pins; /* hard: vCPU -> CPU (from a plan); others get the nodes' CPUs */
	bool set_policy;       /* set the memory policy (domains, --exec) */
	enum np_mem_policy policy; /* strict: fail when full; preferred: nearest next */
	bool migrate;          /* move the memory onto NODES */
	double rate_mb_s;      /* migration rate limit; 0 none */
	bool io_threads;       /* pin emulator / I/O threads near the PCI devices */
	bool dry_run;          /* say what would be done, change nothing */
	const char *run_dir;   /* soft preferences; NULL: /run/numaplace */
};

struct np_apply_result {
	int nsteps;
	char (*steps)[200];    /* what was (or would be) done, in order */
	uint64_t moved_kb;     /* memory migrated */
	uint64_t failed_pages; /* pages the kernel would not move (busy, pinned) */
	double seconds;        /* time spent migrating */
};

/*
 * Carry out SPEC on T.  Everything is checked first (target exists, nodes
 * have CPUs, permission to change each thread's affinity); a failure while
 * changing affinities restores those already changed, so the target is
 * left as it was.  Memory moves last; pages that would not move are
 * counted, not an error.  *RES (caller's, free with np_apply_result_free)
 * is filled on success.
 */
int np_apply(const np_topo *topo, const struct np_target *t, const struct np_apply_spec *spec,
	     struct np_apply_result *res, struct np_error *err);
void np_apply_result_free(struct np_apply_result *res);

/*
 * Set this process's memory policy and CPU affinity from SPEC (as numactl
 * does), for `numaplace apply ... -- COMMAND` to exec into.  Soft affinity
 * records a preference for this pid.
 */
int np_apply_self(const np_topo *topo, const struct np_apply_spec *spec, struct np_error *err);

/* ---- soft preferences ----------------------------------------------- */

/*
 * T's recorded preferred nodes (as indexes of TOPO) into IDX (up to MAX);
 * *N = 0 when there is none.  Nodes TOPO lacks are left out.
 */
int np_pref_nodes(const np_topo *topo, const char *run_dir, const struct np_target *t,
		  int *idx, int max, int *n, struct np_error *err);

/* Remove T's recorded preference; 0 also when there was none. */
int np_pref_remove(const char *run_dir, const struct np_target *t, struct np_error *err);

/* ---- the live balancer ---------------------------------------------- */

typedef struct np_balancer np_balancer;

/*
 * A balancer policy (docs/policies/runtime.md), JSON:
 * {"guests": ["pid:123", "domain:web", "*"], "never": [...],
 *  "migrate": bool, "repin": bool, "nodes": [node ids it may move to],
 *  "rate_mb_s": N, "params": {stuck_ms, rescue_ms, cooldown_ms, ...},
 *  "libvirt": [URIs domain preferences may name]}.
 * POLICY NULL: every guest with a preference, all nodes, defaults.
 * Refuses (NP_EINPUT) a RUN_DIR that is not a directory of this (effective)
 * user writable by no one else, and a policy giving "libvirt" in a file
 * others may have written (owned by neither root nor this user, or group-
 * or world-writable).
 */
int np_balancer_new(const np_topo *topo, const char *run_dir, const char *policy_path,
		    np_balancer **out, struct np_error *err);
/*
 * Let domain preferences name libvirt URI URI (the balancer connects to no
 * other: a preference file alone never makes it open a connection).  The
 * tool gives the --libvirt URI of its command line; the policy's "libvirt"
 * list is added by np_balancer_new() when the policy file may be trusted.
 */
int np_balancer_allow_uri(np_balancer *b, const char *uri, struct np_error *err);
void np_balancer_free(np_balancer *b);

/* One logged action (or a skipped one, with why). */
struct np_bal_log {
	char guest[80];        /* "pid:123" or "domain:web" */
	const char *kind;      /* np_bal_kind_name, or "skip" */
	int vcpu;
	int from_os, to_os;    /* node ids, -1 */
	uint64_t mb;
	char reason[200];
	bool done;             /* carried out (false: dry run or failed) */
	char error[160];       /* why it failed, "" */
};

typedef void np_bal_log_fn(void *ctx, const struct np_bal_log *entry);

/*
 * One round: observe every guest with a preference, sample the host,
 * decide (np_balance_decide) and act, logging each action through LOG.
 * Called again after some time it carries the history (how long each
 * vCPU has been away, rescue pins, cooldowns).  DRY_RUN: decide and log,
 * change nothing.  Returns 0, or an error of the round as a whole.
 */
int np_balancer_step(np_balancer *b, bool dry_run, np_bal_log_fn *log, void *ctx,
		     struct np_error *err);
/* Drop every rescue pin this balancer holds (back to soft affinity). */
int np_balancer_restore_all(np_balancer *b, np_bal_log_fn *log, void *ctx,
			    struct np_error *err);
const struct np_bal_params *np_balancer_params(const np_balancer *b);
/* Number of guests the last step looked at. */
int np_balancer_guest_count(const np_balancer *b);

#ifdef __cplusplus
}
#endif
#endif
