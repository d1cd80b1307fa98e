/*
 * agent-int.h - the inside of np_agent: what agent.c (the round, HTTP)
 * and find.c (finding and observing guests here, the observation's JSON)
 * share.
 *
 * Ownership: an np_agent owns every string in it; the token is wiped
 * before it is freed.
 */
#ifndef NP_AGENT_INT_H
#define NP_AGENT_INT_H

#include <numaplace/agent.h>
#include <numaplace/runtime.h>

#include "module/module.h"

struct np_agent {
	char *base;	 /* "http://HOST:PORT" (no trailing '/'), or http://localhost */
	char *unix_path; /* the socket, or NULL */
	char *token;	 /* or NULL */
	char *name;
	char *libvirt;	 /* URI, or NULL */
	bool scan_qemu;
	int nqemu_uids; /* whose QEMU processes are believed (np_agent_opts.qemu_users) */
	unsigned *qemu_uids;
	int nmap;
	struct np__agent_map {
		char *id;
		int pid;
	} *map;
	int timeout_s;
	bool registered;
	const struct np__mod_curl *http;
};

/*
 * The placement ids of a GET /v1/hosts/NAME answer BODY (LEN bytes, from
 * the service: untrusted) into *IDS (*N of them, each by the fleet's id
 * rule, at most NP_AGENT_PLACEMENTS_MAX).  On failure the ids read so far
 * are in *IDS / *N for the caller to free.
 */
int np__agent_parse_placements(const char *body, size_t len, char ***ids, int *n,
			       struct np_error *err);
/* The "error"."message" of an answer, cut to 200 bytes, control characters as '?'. */
void np__agent_said(const char *body, size_t len, char *out, size_t size);

/*
 * QEMU processes of this host by the guest name and UUID they were
 * started with; those of users QEMU does not run as are kept only to be
 * named as ignored (UID: the first of their ids that is not believed).
 */
struct np__found {
	int n;
	size_t cap;
	struct np__qemu {
		int pid;
		char *name, *uuid; /* NULL when not given */
		bool believed;
		unsigned uid;
	} *procs;
};

/*
 * Fill FS from /proc (what cannot be read is left out: processes come and
 * go).  A process is believed when its real, effective and saved user
 * ids are all among A's QEMU users.
 */
void np__agent_scan_qemu(const np_agent *a, struct np__found *fs);
void np__found_free(struct np__found *fs);
/*
 * QEMU's -name argument: the guest name ("guest=NAME,..." or "NAME,...",
 * ",," an escaped comma) into OUT; false when there is none.
 */
bool np__qemu_guest_name(const char *arg, char *out, size_t size);

/*
 * Find placement ID here (--map, then libvirt, then QEMU processes in FS)
 * and observe it: 0 with *OUT (*DOMAIN: found through libvirt), 1 when
 * it is not here (ERR's message then says which processes that claim to
 * be it were ignored, or is empty), or an error (NP_EINPUT: two believed
 * processes claim to be it).
 */
int np__agent_observe(const np_agent *a, const np_topo *topo, const char *id,
		      const struct np__found *fs, np_obs **out, bool *domain, struct np_error *err);
/*
 * The observation OBS as the service's OBS JSON (*BODY, malloc'd) and a
 * line for people (WHAT): memory per node in MiB, vCPUs per node (the
 * vCPU threads; a process without any counts every thread).
 */
int np__agent_obs_json(const np_agent *a, const np_topo *topo, const np_obs *obs, bool domain,
		       char **body, char *what, size_t size, struct np_error *err);

#endif
