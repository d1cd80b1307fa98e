/*
 * rt-int.h - the inside of the runtime module: the observation struct,
 * the text parsers of /proc, and the OS boundary.
 *
 * The OS boundary: everything that reads /proc and /sys or changes the
 * system (affinity, memory policy, page migration, the clock) goes through
 * a struct np__rt_os.  The library uses np__rt_os_live(); tests pass their
 * own, with proc/sys pointing at saved trees (tests/data/runtime/) and the
 * actions replaced, so the logic runs on saved data without a live host.
 * It is passed explicitly: the library keeps no global state.
 *
 * Ownership: an np_obs owns its threads, their allowed-CPU arrays, the
 * policy strings and the device list; np_obs_free() releases all.
 */
#ifndef NP_RT_INT_H
#define NP_RT_INT_H

#include <numaplace/runtime.h>

#include "util/util.h"

struct np__rt_os {
	const char *proc; /* "/proc" */
	const char *sys;  /* "/sys" */
	/* 0 or -errno. */
	int (*set_affinity)(int tid, const int *cpus, int n);
	int (*get_affinity)(int tid, int **cpus, int *n);
	/* move_pages(2): 0 or -errno; STATUS per page. */
	int (*move_pages)(int pid, unsigned long count, void **pages, const int *nodes,
			  int *status);
	/* migrate_pages(2) from every node to the nodes of TO (os ids): pages not moved, or -errno. */
	long (*migrate_pages)(int pid, const int *to, int nto, int max_os_node);
	/* set_mempolicy(2) of the calling thread: 0 or -errno. */
	int (*set_mempolicy)(int mode, const int *os_nodes, int n);
	uint64_t (*now_ms)(void);   /* CLOCK_MONOTONIC */
	uint64_t (*wall_ms)(void);  /* CLOCK_REALTIME, for what outlives the process */
	void (*sleep_ms)(uint64_t ms);
};

/*
 * The live boundary (os.c, in module numa with libnuma): *OS, or
 * NP_EUNSUPPORTED when the module is not there (modules.c).
 */
int np__rt_os(const struct np__rt_os **os, struct np_error *err);
/* os.c's table itself, for module numa. */
const struct np__rt_os *np__rt_os_live(void);

struct np__pol {
	char *name;
	uint64_t kb;
};

struct np_obs {
	int pid;               /* -1: none */
	char name[64];
	uint64_t time_ms;
	uint64_t start_ticks;  /* process start (stat field 22): tells pid reuse */
	int nthreads;
	struct np_rt_thread *threads;
	bool mem_known;
	int nnodes;            /* of the topology */
	struct np_rt_mem *mem; /* per node index */
	uint64_t total_kb;
	int npol;
	struct np__pol *pol;   /* decreasing kb */
	char policy[64];
	int ndev;
	char (*dev)[16];
	bool domain;
};

/* ---- /proc text (procfs.c) ------------------------------------------ */

/* /proc/PID/numa_maps, summed. */
struct np__maps {
	int nnodes;
	struct np__maps_node {
		int os_node;
		struct np_rt_mem mem;
	} *nodes;              /* increasing os_node */
	int npol;
	struct np__pol *pol;   /* in order of appearance */
	uint64_t total_kb;
	int nvma;
};

/* Parse numa_maps text; NP_EINPUT naming the line on malformed text. */
int np__numa_maps_parse(const char *buf, struct np__maps *out, struct np_error *err);
void np__maps_free(struct np__maps *m);

/* /proc/PID/task/TID/stat. */
struct np__stat {
	int tid;
	char comm[32];
	char state;
	uint64_t utime, stime;  /* clock ticks */
	uint64_t start_ticks;   /* field 22 */
	int cpu;                /* field 39 */
};

int np__stat_parse(const char *buf, struct np__stat *out);
/* The Cpus_allowed_list of a status file: 0, or NP_EINPUT. */
int np__status_allowed(const char *buf, int **cpus, int *n);
/* "CPU 3/KVM" -> 3; -1 for any other thread name. */
int np__vcpu_of_name(const char *comm);
/* PCI addresses of vfio-pci devices in a QEMU command line (NUL-separated). */
int np__cmdline_devices(const char *buf, size_t len, char (**dev)[16], int *n);

/* ---- observation (obs.c; observe.c picks procfs.c or libvirt.c) ---- */

np_obs *np__obs_new(const np_topo *topo);
/* Sort policies, pick the main one, map per-node memory onto the topology. */
int np__obs_set_maps(np_obs *obs, const np_topo *topo, const struct np__maps *m);
int np__obs_add_thread(np_obs *obs, const struct np_rt_thread *t, const int *allowed);
int np__obs_add_device(np_obs *obs, const char *addr);

/* Real, effective and saved uid of process PID (/proc/PID/status): 0, or -1. */
int np__proc_uids(const struct np__rt_os *os, int pid, long uid[3]);
int np__observe_process(const struct np__rt_os *os, const np_topo *topo, int pid,
			np_obs **out, struct np_error *err);
/* Only numa_maps of PID into OBS (for a domain's QEMU process). */
int np__observe_maps(const struct np__rt_os *os, const np_topo *topo, int pid, np_obs *obs,
		     struct np_error *err);
/* A libvirt domain: forwards to module libvirt (modules.c). */
int np__observe_domain(const struct np__rt_os *os, const np_topo *topo, const char *uri,
		       const char *name, np_obs **out, struct np_error *err);

int np__host_sample(const struct np__rt_os *os, const np_topo *topo,
		    struct np_bal_node *nodes, struct np_error *err);

/* ---- actions (actions.c; apply.c picks apply-process.c or libvirt.c) - */

/* The spec's nodes, pins and rate make sense on TOPO: 0 or NP_EINPUT. */
int np__apply_spec_check(const np_topo *topo, const struct np_apply_spec *spec,
			 struct np_error *err);
/* The CPUs of node indexes NODES (online ones), increasing. */
int np__cpus_of_nodes(const np_topo *topo, const int *nodes, int n, int **cpus, int *ncpus);
/* All online CPUs of the host, increasing. */
int np__all_cpus(const np_topo *topo, int **cpus, int *ncpus);

int np__apply(const struct np__rt_os *os, const np_topo *topo, const struct np_target *t,
	      const struct np_apply_spec *spec, struct np_apply_result *res,
	      struct np_error *err);
/* The process path of np__apply (apply-process.c); SPEC already checked. */
int np__apply_process(const struct np__rt_os *os, const np_topo *topo, int pid,
		      const struct np_apply_spec *spec, struct np_apply_result *res,
		      struct np_error *err);
/* Append a step line to RES; NP_ENOMEM. */
int np__step(struct np_apply_result *res, const char *fmt, ...) NP__PRINTF(2, 3);

/*
 * Move the memory of PID onto the nodes TO (indexes): only pages on node
 * index FROM (-1: any node), at most MAX_KB (0: all), MB/s at most RATE
 * (0: no limit; with FROM -1 and MAX_KB 0, one migrate_pages call).
 */
int np__migrate(const struct np__rt_os *os, const np_topo *topo, int pid, int from,
		const int *to, int nto, uint64_t max_kb, double rate_mb_s,
		struct np_apply_result *res, struct np_error *err);

/*
 * libvirt domains: libvirt.c (np__lv_ functions) is in module libvirt;
 * these forward to it (modules.c) or fail with NP_EUNSUPPORTED.
 */
int np__domain_apply(const np_topo *topo, const char *uri, const char *name,
		     const struct np_apply_spec *spec, struct np_apply_result *res,
		     struct np_error *err);
/* Pin vCPU VCPU of the domain to CPUS (NULL: every host CPU). */
int np__domain_pin(const np_topo *topo, const char *uri, const char *name, int vcpu,
		   const int *cpus, int n, struct np_error *err);
/* Set the domain's live NUMA node set (memory moves with it on QEMU). */
int np__domain_nodeset(const np_topo *topo, const char *uri, const char *name,
		       const int *nodes, int n, struct np_error *err);

/* libvirt.c's own, reached only through module libvirt's table. */
int np__lv_observe_domain(const struct np__rt_os *os, const np_topo *topo, const char *uri,
			  const char *name, np_obs **out, struct np_error *err);
int np__lv_domain_apply(const np_topo *topo, const char *uri, const char *name,
			const struct np_apply_spec *spec, struct np_apply_result *res,
			struct np_error *err);
int np__lv_domain_pin(const np_topo *topo, const char *uri, const char *name, int vcpu,
		      const int *cpus, int n, struct np_error *err);
int np__lv_domain_nodeset(const np_topo *topo, const char *uri, const char *name,
			  const int *nodes, int n, struct np_error *err);

/* ---- preferences (prefs.c) ------------------------------------------ */

struct np__pref {
	bool domain;
	int pid;
	uint64_t start_ticks;   /* 0: unknown */
	char *uri, *name;       /* domain */
	int nnodes;
	int *nodes;             /* os node ids */
	bool migrate;
	uint64_t last_action_ms;/* CLOCK_REALTIME ms of the balancer's last home change; 0 never */
	char *path;             /* the file it came from */
	unsigned owner;         /* uid owning that file */
};

const char *np__run_dir(const char *run_dir);

#define NP__RUN_CREATE  1u /* make it (mode 0755) when missing */
#define NP__RUN_TRUSTED 2u /* owned by the effective uid, writable by no one else */
/*
 * Open the run directory RUN_DIR (NULL: /run/numaplace) without following
 * a symbolic link: *DFD, or -1 when it does not exist (and is not to be
 * made).  NP_EINPUT "run directory 'DIR': not a directory (...)", or with
 * NP__RUN_TRUSTED "...: owned by uid N..." / "...: writable by others".
 */
int np__run_dir_open(const char *run_dir, unsigned flags, int *dfd, struct np_error *err);
/*
 * Before an apply changes anything: for SOFT, the run directory made if
 * missing and trusted (as above), for hard at least not something else
 * than a directory; or why not.
 */
int np__run_dir_ready(const char *run_dir, bool soft, struct np_error *err);
int np__pref_write(const char *run_dir, const struct np__pref *p, struct np_error *err);
/* Every preference in RUN_DIR (a missing folder is none); bad files are skipped. */
int np__pref_list(const char *run_dir, struct np__pref **out, int *n, struct np_error *err);
void np__pref_free(struct np__pref *p);
void np__pref_list_free(struct np__pref *p, int n);
int np__pref_path(const char *run_dir, const struct np_target *t, char *buf, size_t size);

#endif
