/*
 * sim-int.h - the inside of the simulator, shared by the files of lib/sim.
 *
 * Layers, one file each:
 *   experiment (exp.c, exp-set.c,  what to simulate: host, templates,
 *     builtin.c)                   constants; parsed, then read-only;
 *   host model (model.c)           pCPUs, cores, latency matrix, memory
 *                                  speed under contention, the constants;
 *   workload (workload.c)          per-vCPU bursts and sleeps in phases;
 *   guests (guests.c)              placement (libxl's algorithm) and memory;
 *   schedulers (sched-credit1.c, sched-credit2.c) behind np__sched_ops;
 *   balancer (sched-numaplace.c)   feeds np_balance_decide, applies actions;
 *   a run (build.c, step.c,        built, then stepped through time;
 *     check.c)                     its invariants;
 *   shared by all (rng.c,          random numbers, CPU sets, who runs
 *     cpuset.c, pcpu.c)            where;
 *   runner (run.c), output (output.c, svg.c).
 *
 * One run is one struct np__sim: everything in it belongs to that run and
 * to the thread running it; the experiment is shared read-only.  Indexes
 * are dense: a pCPU index counts the host's online CPUs that have a node
 * (struct np__pcpu keeps the kernel id), nodes are the topology's
 * node_idx, vCPUs are numbered across the run's guests.
 *
 * Time is in microseconds of simulated time (uint64_t), advanced in steps
 * of model.step_us; work is in seconds of a pCPU running alone with local,
 * idle memory.
 */
#ifndef NP_SIM_INT_H
#define NP_SIM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <numaplace/balance.h>
#include <numaplace/sim.h>

#include "util/rng.h"
#include "util/util.h"

#define NP__SIM_NODES_MAX   64   /* node sets are uint64_t masks */
#define NP__SIM_CPUS_MAX    4096
#define NP__SIM_VCPUS_MAX   4096 /* per guest */
#define NP__SIM_GUESTS_MAX  1024 /* per case */
#define NP__SIM_VCPUS_TOTAL 65536 /* per case */
#define NP__SIM_PHASES_MAX  8
#define NP__SIM_NAME_MAX    48

/* ---- random numbers: util/rng.h, plus exponential draws (rng.c) -- */

double np__rng_exp(struct np__rng *r, double mean);

/* ---- CPU sets (cpuset.c): NWORDS 64-bit words, bit i = cpu_idx i ----- */

static inline bool np__set_has(const uint64_t *s, int i)
{
	return (s[i >> 6] >> (i & 63)) & 1;
}

static inline void np__set_add(uint64_t *s, int i)
{
	s[i >> 6] |= UINT64_C(1) << (i & 63);
}

static inline void np__set_del(uint64_t *s, int i)
{
	s[i >> 6] &= ~(UINT64_C(1) << (i & 63));
}

bool np__set_empty(const uint64_t *s, int nwords);
bool np__set_meets(const uint64_t *a, const uint64_t *b, int nwords);
bool np__set_subset(const uint64_t *a, const uint64_t *b, int nwords);
int np__set_count(const uint64_t *s, int nwords);
/* The first member after I (wrapping), or I itself when it is the only one; -1 if empty. */
int np__set_cycle(const uint64_t *s, int nwords, int ncpus, int i);

/* ---- model constants (model.c) ----------------------------------------- */

/*
 * Every constant of the model, as a double (integers are whole values).
 * np__const_table lists them with defaults, limits and meaning; the JSON
 * "model" object and `--set model.NAME=V` override them by name.
 */
struct np__model {
	double step_us, sample_ms;
	double remote_latency_scale, node_bandwidth_mb_s, contention_coeff, contention_max_util;
	double contention_window_us;
	double smt_factor, cache_refill_us, cache_refill_node_us;
	double page_migrate_mb_s, page_migrate_slowdown;
	double c1_tslice_ms, c1_tick_ms, c1_ratelimit_us, c1_balance_ratelimit_us;
	double c1_credits_per_ms;
	double c2_credit_init_us, c2_migrate_resist_us, c2_max_slice_us, c2_min_slice_us;
	double c2_load_window_ms, c2_balance_ms, c2_balance_tolerance;
	double balance_period_ms;
};

struct np__const {
	const char *name;
	size_t off;
	double def, min, max;
	bool integer;
	const char *unit;
	const char *doc;
};

extern const struct np__const np__const_table[];
extern const int np__const_count;

void np__model_default(struct np__model *m);
const struct np__const *np__const_find(const char *name);

/* ---- workloads (workload.c) ------------------------------------------- */

struct np__phase {
	double duration_s; /* 0: lasts forever (the last phase only) */
	double run_ms;     /* mean work of a burst, in ms at full speed; 0: asleep */
	double sleep_ms;   /* mean sleep between bursts; 0: always runnable */
	bool fixed;        /* lengths as given, not exponential */
};

struct np__workload {
	char name[NP__SIM_NAME_MAX];
	double memory_intensity; /* share of local, idle run time waiting on memory */
	double bandwidth_mb_s;   /* memory traffic of one vCPU at full speed */
	int nphases;
	struct np__phase phases[NP__SIM_PHASES_MAX];
	bool random_start;       /* each guest starts at a random point of its cycle */
	bool random_durations;   /* phase lengths exponential around duration_s */
};

/* The presets (specjbb, sysbench-memory, cpu-bound, idle, bursty, phased). */
int np__workload_presets(const struct np__workload **out);

/* ---- the experiment (exp.c) ------------------------------------------- */

enum np__affinity { NP__AFF_NONE, NP__AFF_SOFT, NP__AFF_HARD };
enum np__memmode {
	NP__MEM_DEFAULT,    /* what the placement implies */
	NP__MEM_INTERLEAVE, /* round-robin over the home nodes (all when none) */
	NP__MEM_PREFERRED,  /* home nodes, overflow to the others in node order */
	NP__MEM_STRICT,     /* home nodes only */
	NP__MEM_PLAN,       /* mb_per_node as given */
};

struct np__guest_spec {
	char name[NP__SIM_NAME_MAX];
	int count;           /* copies in a case without guest_counts */
	int vcpus;
	uint64_t memory_mb;
	int workload;        /* index into np_sim_exp.workloads */
	uint64_t home;       /* node mask for placement "given"; 0: none */
	enum np__affinity affinity;
	enum np__memmode memory;
	uint64_t *plan_mb;   /* per node index, NP__MEM_PLAN */
	int nplan;
};

enum np__placement {
	NP__PL_ALL,  /* all-cpus: no affinity, memory striped (Xen's old default) */
	NP__PL_PIN,  /* auto-pinning: libxl placement as hard affinity (Xen 4.2) */
	NP__PL_SOFT, /* auto-affinity: libxl placement as soft affinity (Xen >= 4.3) */
	NP__PL_GIVEN,/* each guest's home, affinity and memory as written */
};

enum np__sched_kind { NP__SCHED_CREDIT1, NP__SCHED_CREDIT2 };

struct np__config {
	char name[NP__SIM_NAME_MAX];
	enum np__placement placement;
	bool set_affinity;          /* affinity below overrides the guests' (placement given) */
	enum np__affinity affinity;
	enum np__sched_kind sched;
	bool balancer;
};

enum np__event_kind { NP__EV_PAUSE, NP__EV_UNPAUSE };

struct np__event {
	double at_s;
	enum np__event_kind kind;
	char guest[NP__SIM_NAME_MAX]; /* a template name: every copy of it */
};

/* A published gain to compare with: CONFIG over BASELINE at GUESTS. */
struct np__ref {
	int guests;
	char config[NP__SIM_NAME_MAX];
	double gain;
	char source[96];
};

struct np_sim_exp {
	char name[NP__SIM_NAME_MAX];
	char summary[160];
	np_topo *topo;
	struct np__model model;
	struct np_bal_params bal;
	double duration_s, measure_from_s;
	int repetitions;
	uint64_t seed;
	int nworkloads;
	struct np__workload *workloads;
	int nguests;
	struct np__guest_spec *guests;
	int ncounts;
	int *counts;             /* guest_counts: cases of N guests from the templates */
	int nevents;
	struct np__event *events;
	int nconfigs;
	struct np__config *configs;
	char baseline[NP__SIM_NAME_MAX];
	char reference_note[160];
	int nrefs;
	struct np__ref *refs;
};

/* The balancer's parameters by name (struct np_bal_params), for JSON and --set. */
struct np__bal_field {
	const char *name;
	size_t off;
	bool is_u64;
	double min, max;
};

const struct np__bal_field *np__bal_field_find(const char *name);
int np__bal_fields(const struct np__bal_field **out);
void np__bal_field_store(struct np_bal_params *p, const struct np__bal_field *f, double d);

np_sim_exp *np__exp_new(void);
/*
 * What must hold across the members (baseline and references name
 * configurations, events and measure_from_s fall inside duration_s, ...).
 * NP_EINPUT with "WHAT: <member>: <problem>".
 */
int np__exp_check(const np_sim_exp *x, const char *what, struct np_error *err);

/* ---- one run ---------------------------------------------------------- */

enum np__vstate { NP__V_RUNNING, NP__V_QUEUED, NP__V_BLOCKED, NP__V_PAUSED };

struct np__pcpu {
	int node;        /* node_idx */
	int last;              /* vCPU that ran last, -1 */
	uint64_t last_start_us, last_end_us;
	int core;        /* dense core index: SMT siblings share it */
	int socket;      /* dense socket index */
	int os_id;
	int curr;        /* vCPU running, -1 idle */
	bool resched;    /* must pick again at this step */
	uint64_t start_us;     /* when curr started */
	uint64_t slice_end_us; /* when curr's slice ends */
	uint64_t *siblings;    /* SMT siblings, itself included */
	uint64_t *socket_cpus; /* CPUs of its socket */
};

struct np__vcpu {
	int guest, idx;        /* guest index, vCPU number in the guest */
	enum np__vstate state;
	int cpu;               /* pCPU running it, or last run / queued on */
	uint64_t *hard, *soft; /* affinity; soft all-zero when it has none */
	bool has_soft;         /* soft meets hard and does not contain it */
	/* workload */
	struct np__rng rng;
	double burst_left_ms;  /* work left in this burst */
	uint64_t wake_us;      /* when BLOCKED: when it wakes */
	double penalty_us;     /* cache refill still to pay */
	int last_ran;          /* pCPU it last ran on, -1 never */
	/* balancer bookkeeping */
	uint64_t inside_us;    /* last time it was inside its soft affinity */
	bool rescue;           /* hard-pinned to rescue_node by the balancer */
	int rescue_node;
	uint64_t rescue_us;
	/* statistics since the measure start */
	double run_us, outside_us, work, remote_us;
	double runnable_us_period; /* runnable time since the last balancer call */
};

struct np__guest {
	const struct np__guest_spec *spec;
	const struct np__workload *wl;
	char name[NP__SIM_NAME_MAX + 16];
	int first, nvcpus;     /* its vCPUs */
	double *mem_mb;        /* per node index */
	double *frac;          /* mem_mb / mem_total, kept in step */
	double mem_total;
	uint64_t home;         /* its nodes: affinity, and memory placement */
	bool pinned;           /* hard affinity is the home's CPUs */
	bool soft;             /* soft affinity is the home's CPUs */
	bool paused;
	struct np__rng rng;
	int phase;
	uint64_t phase_end_us;
	/* a memory migration in progress */
	int mig_from, mig_to;
	double mig_left_mb;
	uint64_t last_action_us; /* UINT64_MAX: never */
	double work, migrated_mb;
};

struct np__sim;

/* A scheduler: what the run loop calls; everything else is private to it. */
struct np__sched_ops {
	const char *name;
	int (*init)(struct np__sim *s);
	void (*fini)(struct np__sim *s);
	void (*wake)(struct np__sim *s, int v);   /* BLOCKED/PAUSED -> runnable */
	void (*sleep)(struct np__sim *s, int v);  /* runnable -> not (state set after) */
	void (*timers)(struct np__sim *s);        /* ticks, accounting at s->now */
	void (*schedule)(struct np__sim *s);      /* every pCPU that must pick */
	void (*affinity)(struct np__sim *s, int v); /* v's hard or soft changed */
	/* The scheduler's own invariants (queues, work conservation); 0 or -1. */
	int (*check)(const struct np__sim *s, char *msg, size_t size);
};

extern const struct np__sched_ops np__credit1_ops;
extern const struct np__sched_ops np__credit2_ops;

struct np__node {
	int ncpus;
	uint64_t *cpus;     /* its pCPUs */
	double cap_mb;      /* memory */
	double used_mb;
	double demand_mb_s; /* memory traffic during this step */
	double traffic_mb_s;/* its average over model.contention_window_us */
	double queue;       /* extra latency from contention, in local latencies */
};

struct np__timeline {
	int n;
	double *outside;    /* vCPUs outside soft affinity, mean over the sample */
	double *throughput; /* work per second during the sample */
};

struct np__sim {
	const np_sim_exp *x;
	const struct np__config *cfg;
	const struct np__model *m;
	const np_topo *topo;
	const struct np__sched_ops *ops;
	void *sched;            /* the scheduler's private state */
	int ncpus, nnodes, nwords, nsockets;
	struct np__pcpu *cpus;
	struct np__node *nodes;
	double *lat;            /* nnodes x nnodes, in local latencies */
	int nguests, nvcpus;
	struct np__guest *guests;
	struct np__vcpu *vcpus;
	uint64_t *words;        /* storage of every CPU set */
	size_t nwords_used, nwords_cap;
	uint64_t *all;          /* every pCPU */
	uint64_t seed;          /* of this run */
	uint64_t now, step, end, measure_from, next_sample, next_balance;
	int next_event;         /* index into x->events (sorted by time) */
	struct np_bal_params bal;
	bool check;
	char fail[256];         /* the first broken invariant */
	/* statistics */
	double measured_us, migrated_mb, actions;
	double sample_outside, sample_work;
	struct np__timeline tl;
	int isample;
};

/* A CPU set of s->nwords words from the run's storage (zeroed); NULL on ENOMEM (cpuset.c). */
uint64_t *np__sim_set(struct np__sim *s);

/* ---- a run: built by build.c, stepped by step.c ---------------------- */

/* Build a run of case GUESTS (template index per guest) under CFG. */
int np__sim_new(const np_sim_exp *x, const struct np__config *cfg, const int *templates,
		int nguests, uint64_t seed, bool check, struct np__sim **out,
		struct np_error *err);
void np__sim_free(struct np__sim *s);
/* Advance one step; 0, or -1 when an invariant broke (s->fail says which). */
int np__sim_step(struct np__sim *s);
/* Run to the end; 0 or NP_EINPUT with the broken invariant. */
int np__sim_run(struct np__sim *s, struct np_error *err);

/* Totals of a finished run. */
struct np__run_stats {
	double throughput, outside_vcpus, outside_fraction, remote_fraction;
	double migrated_mb, actions;
};
void np__sim_stats(const struct np__sim *s, struct np__run_stats *st);

/* ---- results (run.c, output.c, svg.c) ------------------------------- */

struct np__row {
	struct np_sim_row pub;
	char label[64];
	char config[NP__SIM_NAME_MAX];
	double *runs;              /* throughput of each repetition */
	struct np__timeline tl;    /* of the first repetition */
};

struct np_sim_result {
	char name[NP__SIM_NAME_MAX];
	char summary[160];
	char baseline[NP__SIM_NAME_MAX];
	char note[160];
	char host[160];            /* "2 nodes, 16 pCPUs (8 cores), 12288 MiB" */
	double duration_s, measure_from_s, sample_ms;
	int repetitions, threads;
	uint64_t seed;
	bool sweep;                /* cases are guest counts */
	int ncases, nconfigs, nrows; /* rows case-major */
	struct np__row *rows;
	int nrefs;
	struct np__ref *refs;
	double sim_s, wall_s;
};

/* The plots of a result as one SVG document (svg.c); 0 or -1. */
int np__svg_write(const np_sim_result *r, FILE *out);

/* ---- host model (model.c) ------------------------------------------- */

int np__model_host(struct np__sim *s, struct np_error *err);
/* Speed of vCPU V on pCPU C now: work per second of run time. */
double np__model_speed(const struct np__sim *s, int v, int c);
/* Memory traffic bookkeeping around one step. */
void np__model_begin_step(struct np__sim *s);
void np__model_account(struct np__sim *s, int v, int c, double speed);

/* ---- workload (workload.c) -------------------------------------------- */

void np__workload_start(struct np__sim *s);
/* Phases of each guest at s->now. */
void np__workload_phases(struct np__sim *s);
/*
 * V's burst ended at END_US: true when it sleeps until *WAKE, false when it
 * keeps running (a steady phase: the next burst is drawn).
 */
bool np__workload_next(struct np__sim *s, int v, uint64_t end_us, uint64_t *wake);
/* V's wake time came: true when it wants the CPU now, else it sleeps on (wake_us set). */
bool np__workload_wake(struct np__sim *s, int v);

/* ---- guests (guests.c) ------------------------------------------------ */

int np__guests_place(struct np__sim *s, struct np_error *err);
/* Affinity masks of V from its guest's home and pin state (rescue aside). */
void np__guests_masks(struct np__sim *s, int v);
void np__guests_set_home(struct np__sim *s, int g, uint64_t home);
void np__guests_fractions(struct np__sim *s, int g);
/* Move memory of migrations in progress over DT_US. */
void np__guests_migrate(struct np__sim *s, double dt_us);

/* ---- balancer (sched-numaplace.c) ------------------------------------ */

int np__balancer_call(struct np__sim *s, struct np_error *err);

/* ---- invariants (check.c) ------------------------------------------- */

/* 0, or -1 with the first broken invariant in MSG. */
int np__sim_check(const struct np__sim *s, char *msg, size_t size);

/* ---- who runs where (pcpu.c), for the schedulers --------------------- */

/* V starts or stops running on C: the run's state, caches and idleness. */
void np__sim_put(struct np__sim *s, int c, int v);
bool np__vcpu_outside(const struct np__sim *s, int v, int c);

#endif
