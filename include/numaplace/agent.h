/*
 * agent.h - the host agent: tells a numaplace service (`numaplace serve`)
 * this host's topology, then, round after round, where the memory and
 * vCPUs of the guests placed on it really are.
 *
 * One round (np_agent_step): ask the service which placements live on
 * this host (GET /v1/hosts/NAME?placements=ids); find each one here - a --map'ped
 * process, a libvirt domain whose name or UUID is the placement id, or a
 * QEMU process started with `-name guest=ID` or `-uuid ID`; observe it
 * (runtime.h, np_observe: /proc/PID/numa_maps and the threads, or
 * libvirt); send what was seen (PUT /v1/placements/ID/observed).  The
 * service keeps it and flags drift from the plan (docs/agent.md).
 *
 * Trust: the agent runs as root (it reads other users' numa_maps), so
 * every answer of the service is untrusted input: bounded in size
 * (NP_AGENT_ANSWER_MAX), parsed strictly, ids checked; anything else is
 * NP_EINPUT with one line, never a crash.  The token file must be a
 * regular file nobody but its owner (this user or root) may read or write.
 *
 * HTTP is libcurl's, in module curl (numaplace-curl.so, lib/module/
 * module.h): loaded by np_agent_new(), by nothing else.
 *
 * Threads: an np_agent is one thread's at a time.
 */
#ifndef NUMAPLACE_AGENT_H
#define NUMAPLACE_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#include <numaplace/error.h>
#include <numaplace/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of one answer of the service the agent reads at most. */
#define NP_AGENT_ANSWER_MAX ((size_t)4 << 20)
/* Placements on one host the agent looks after at most. */
#define NP_AGENT_PLACEMENTS_MAX 100000

typedef struct np_agent np_agent;

/* A placement id found as process PID (--map ID=PID). */
struct np_agent_map {
	const char *id;
	int pid;
};

struct np_agent_opts {
	const char *server;	/* "http://HOST:PORT", "https://...", or "unix:PATH" */
	const char *token_file; /* the bearer token; NULL: none (a unix socket needs none) */
	const char *name;	/* this host in the fleet; NULL: the hostname */
	const char *libvirt;	/* libvirt URI to find domains in; NULL: none */
	bool no_qemu_scan;	/* do not look for QEMU processes in /proc */
	/*
	 * The users QEMU runs as, whose processes the scan believes (names or
	 * numbers); NULL: "libvirt-qemu" (Debian's libvirt) and "qemu"
	 * (Fedora's), those of them that exist.  Root and the agent's own user
	 * always.  Anyone can start a program named qemu with -name guest=ID:
	 * another user's is ignored, so it cannot report for a guest.
	 */
	const char *const *qemu_users;
	int nqemu_users;
	int nmap;
	const struct np_agent_map *map;
	int timeout_s; /* one request (0: 10) */
};

/*
 * A new agent: checks the options, reads the token, loads module curl.
 * NP_EINPUT (bad server URL; a token file that is missing, unreadable,
 * not a regular file, others' to read, or empty; bad map),
 * NP_EUNSUPPORTED (no curl module).
 */
int np_agent_new(const struct np_agent_opts *opts, np_agent **out, struct np_error *err);
void np_agent_free(np_agent *a);
/* The host name it reports as. */
const char *np_agent_name(const np_agent *a);

/* What happened to one placement in a round (or to the host: id NULL). */
struct np_agent_event {
	const char *id;	  /* placement id; NULL: the host itself */
	const char *kind; /* "registered", "reported", "absent", "refused", "failed" */
	char line[400];	  /* for people: "reported process 4242: node 0: 120 MiB, 1 vCPU" */
};
typedef void np_agent_log_fn(void *ctx, const struct np_agent_event *ev);

/*
 * Register this host with topology TOPO (PUT /v1/hosts/NAME): 0 when the
 * service took it.  NP_EIO: the service could not be reached; NP_EINPUT:
 * it refused (the line says its error) or answered nonsense.
 */
int np_agent_register(np_agent *a, const np_topo *topo, np_agent_log_fn *log, void *ctx,
		      struct np_error *err);

/* How a round went. */
struct np_agent_stats {
	int placements; /* on this host, as the service says */
	int reported;	/* observed and accepted */
	int absent;	/* not found on this host */
	int failed;	/* found but not observed, or refused by the service */
};

/*
 * One round (see the top).  Registers first when not registered yet, or
 * when the service no longer knows the host.  Returns 0 when the round
 * ran (STATS says how each placement went; may be NULL), NP_EIO when the
 * service could not be reached, NP_EINPUT when it answered nonsense.
 */
int np_agent_step(np_agent *a, const np_topo *topo, np_agent_log_fn *log, void *ctx,
		  struct np_agent_stats *stats, struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
