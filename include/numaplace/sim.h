/*
 * sim.h - the simulator: a NUMA host from any topology source, guests with
 * vCPUs, memory per node and workloads whose speed depends on where their
 * memory is, and the schedulers Xen uses (credit1 with hard and soft
 * affinity, a credit2-like scheduler with one runqueue per node) with or
 * without numaplace's balancer (balance.h) on top.  docs/sim.md describes
 * the model, every constant and the experiment format.
 *
 * An experiment (np_sim_exp) is a host, guest templates, workloads, model
 * constants, events (pause, unpause), configurations (placement, scheduler,
 * balancer) and cases (guest counts); running it runs every case under
 * every configuration, `repetitions` times, and gives rows of means and
 * standard deviations (np_sim_result).  Runs are deterministic under the
 * experiment's seed: the same experiment gives the same result, whatever
 * the number of threads.
 *
 * Ownership and threads: an experiment is changed by one thread at a time
 * (np_sim_exp_set, np_sim_exp_set_host); np_sim_exp_run() only reads it
 * and may use several threads itself.  A result is immutable; free it with
 * np_sim_result_free().  Row pointers live as long as their result.
 */
#ifndef NUMAPLACE_SIM_H
#define NUMAPLACE_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <numaplace/error.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_sim_exp np_sim_exp;
typedef struct np_sim_result np_sim_result;

/* Built-in experiments: their names (NULL-terminated) and one-line summaries. */
const char *const *np_sim_builtin_names(void);
/* The summary of built-in NAME, or NULL when there is none. */
const char *np_sim_builtin_summary(const char *name);
/* The experiment JSON of built-in NAME (numaplace.experiment/1), or NULL. */
const char *np_sim_builtin_json(const char *name);

/* A built-in experiment.  NP_EINPUT when there is no built-in NAME. */
int np_sim_exp_builtin(const char *name, np_sim_exp **out, struct np_error *err);

/*
 * An experiment from numaplace.experiment/1 JSON.  NAME is used in
 * messages; BASE_DIR (or NULL: the current folder) resolves a relative
 * host topology path.  NP_EINPUT names the JSON path of the bad value.
 */
int np_sim_exp_parse(const char *buf, size_t len, const char *name, const char *base_dir,
		     np_sim_exp **out, struct np_error *err);
/* The same from a file; NP_EIO when it cannot be read. */
int np_sim_exp_load(const char *path, np_sim_exp **out, struct np_error *err);

void np_sim_exp_free(np_sim_exp *x);
const char *np_sim_exp_name(const np_sim_exp *x);

/*
 * Override one setting by its dotted key, the way the JSON names it:
 * "duration_s", "seed", "repetitions", "measure_from_s", "guest_counts"
 * ("2,6,10"), "configs" (names to keep, "all-cpus,auto-pinning"),
 * "model.<constant>", "balancer.<parameter>",
 * "workloads.<name>.memory_intensity" or ".bandwidth_mb_s".
 * NP_EINPUT with the key or value named when either is bad.
 */
int np_sim_exp_set(np_sim_exp *x, const char *key, const char *value, struct np_error *err);

/*
 * Simulate on TOPO instead of the experiment's own host.  The experiment
 * takes TOPO over on success (and frees it with itself); on failure the
 * caller keeps it.  Guests that name nodes the host lacks fail later, in
 * np_sim_exp_run(), with the guest named.
 */
int np_sim_exp_set_host(np_sim_exp *x, np_topo *topo, struct np_error *err);

/* Progress of a run, called from one thread at a time. */
typedef void (*np_sim_progress_fn)(void *arg, int runs_done, int runs_total,
				   double sim_seconds, double wall_seconds);

struct np_sim_opts {
	int threads;           /* 0: one per online CPU */
	bool check;            /* check every invariant at every step (default true) */
	np_sim_progress_fn progress; /* NULL: none */
	void *progress_arg;
};

void np_sim_opts_default(struct np_sim_opts *o);

/*
 * Run every case under every configuration.  NP_EINPUT when the
 * experiment cannot be set up on its host (a guest does not fit, names a
 * missing node), or when an invariant broke: that is a simulator bug, and
 * ERR's reason is then "sim_invariant_broken" and its message says which
 * invariant, at what simulated time, under which configuration.
 */
int np_sim_exp_run(const np_sim_exp *x, const struct np_sim_opts *opts, np_sim_result **out,
		   struct np_error *err);

void np_sim_result_free(np_sim_result *r);

/* One (case, configuration): means and standard deviations over repetitions. */
struct np_sim_row {
	const char *case_label;  /* "4 guests", or the experiment's name */
	int guests;              /* guests in the case */
	const char *config;
	int runs;
	double throughput_mean;  /* work per simulated second, summed over guests:
				    1.0 = one pCPU running with local, idle memory */
	double throughput_stddev;/* sample standard deviation over the runs */
	double outside_vcpus;    /* vCPUs running outside their soft affinity, on average */
	double outside_fraction; /* share of soft-affine vCPUs' run time spent outside */
	double remote_fraction;  /* share of memory accesses that go to another node */
	double migrated_mb;      /* memory moved between nodes per run */
	double actions;          /* balancer actions per run */
	double arrived;          /* guests of arrive events that came, per run */
	double arrival_wait_s;   /* how long they waited after the event, on average */
	double moves;            /* "move" events carried out per run (whole run) */
	double moved_mb;         /* memory those moves migrated per run (whole run) */
	double moving_s;         /* time from a move to its memory all moved (or the run's
				    end), summed per run */
};

int np_sim_result_row_count(const np_sim_result *r);
const struct np_sim_row *np_sim_result_row(const np_sim_result *r, int i);
/* The row of CASE_LABEL and CONFIG, or NULL. */
const struct np_sim_row *np_sim_result_find(const np_sim_result *r, const char *case_label,
					    const char *config);
/* Simulated seconds (all runs) and the wall-clock seconds they took. */
double np_sim_result_sim_seconds(const np_sim_result *r);
double np_sim_result_wall_seconds(const np_sim_result *r);

enum np_sim_format {
	NP_SIM_TEXT, /* tables for people */
	NP_SIM_JSON, /* {"experiment", "rows": [...], "gains": [...], "timelines", "perf"} */
	NP_SIM_SVG,  /* throughput against guests per configuration, and the
			timeline of vCPUs outside their soft affinity */
};

int np_sim_format_from_name(const char *name, enum np_sim_format *out);
int np_sim_result_write(const np_sim_result *r, enum np_sim_format format, FILE *out,
			struct np_error *err);

/* The model constants, their defaults and meaning, as a text table. */
int np_sim_write_constants(FILE *out, struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
