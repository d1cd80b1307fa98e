/*
 * apply-process.c - carrying out a placement on a running process: CPU
 * affinity per thread (hard pins, or numaplace's soft affinity), page
 * migration, and for `apply -- COMMAND` the memory policy of the command
 * to exec.  apply.c picks this path or libvirt.c's for a target.
 *
 * Order, so that nothing is half-applied: (1) check the spec and observe
 * the target (it exists, its threads); (2) work out each thread's new
 * affinity and say so (the dry run stops here); (3) save every thread's
 * affinity and set the new ones - the first refusal (no permission)
 * restores those already set and fails; (4) move the memory - a refusal of
 * the whole call restores the affinities too; (5) record or drop the soft
 * preference.  Pages the kernel will not move are counted, not a failure.
 *
 * A running process's memory policy cannot be set from outside (Linux
 * lets a thread set only its own): asking for it is NP_EUNSUPPORTED,
 * before anything changes.  New pages of a process pinned to nodes come
 * from the local node and fall back by distance, as "preferred" does.
 */
#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/rt-int.h"

#ifndef MPOL_PREFERRED_MANY
#define MPOL_PREFERRED_MANY 5
#endif

/* What each thread's affinity becomes. */
struct plan_thread {
	int tid;
	int *now;   /* saved affinity */
	int nnow;
	const int *to;
	int nto;
	int pin;    /* a single pinned CPU, or -1 */
	bool set;   /* changed (for the rollback) */
};

struct aplan {
	int *nodes_cpus, nnodes_cpus; /* the CPUs of the spec's nodes */
	int *wide, nwide;             /* every online CPU */
	int *io, nio;                 /* CPUs near the PCI devices */
	struct plan_thread *th;
	int nth;
};

static void aplan_free(struct aplan *a)
{
	for (int i = 0; i < a->nth; i++)
		free(a->th[i].now);
	free(a->th);
	free(a->nodes_cpus);
	free(a->wide);
	free(a->io);
}

static const int *pin_of(const struct np_apply_spec *s, int vcpu)
{
	for (int i = 0; vcpu >= 0 && i < s->npins; i++)
		if (s->pins[i].vcpu == vcpu)
			return &s->pins[i].cpu;
	return NULL;
}

static int io_cpus(const np_topo *topo, const np_obs *obs, struct aplan *a)
{
	int nodes[64], n = np_io_nodes(topo, obs, nodes, 64);

	if (n <= 0)
		return 0;
	return np__cpus_of_nodes(topo, nodes, n > 64 ? 64 : n, &a->io, &a->nio);
}

static int make_plan(const np_topo *topo, const np_obs *obs, const struct np_apply_spec *s,
		     struct aplan *a)
{
	int rc = np__cpus_of_nodes(topo, s->nodes, s->nnodes, &a->nodes_cpus, &a->nnodes_cpus);

	if (!rc)
		rc = np__all_cpus(topo, &a->wide, &a->nwide);
	if (!rc && s->io_threads)
		rc = io_cpus(topo, obs, a);
	if (!rc && !(a->th = np__calloc((size_t)obs->nthreads + 1, sizeof(*a->th))))
		rc = NP_ENOMEM;
	for (int i = 0; !rc && i < obs->nthreads; i++) {
		const struct np_rt_thread *t = &obs->threads[i];
		struct plan_thread *p = &a->th[a->nth++];
		const int *pin = s->affinity == NP_AFFINITY_HARD ? pin_of(s, t->vcpu) : NULL;

		p->tid = t->tid;
		p->pin = pin ? *pin : -1;
		if (pin) {
			p->to = &p->pin;
			p->nto = 1;
		} else if (t->vcpu < 0 && a->nio) {
			p->to = a->io;
			p->nto = a->nio;
		} else if (s->affinity == NP_AFFINITY_HARD) {
			p->to = a->nodes_cpus;
			p->nto = a->nnodes_cpus;
		} else {
			p->to = a->wide;
			p->nto = a->nwide;
		}
	}
	return rc;
}

static void rollback(const struct np__rt_os *os, struct aplan *a)
{
	for (int i = 0; i < a->nth; i++)
		if (a->th[i].set && a->th[i].nnow)
			os->set_affinity(a->th[i].tid, a->th[i].now, a->th[i].nnow);
}

/* Save, then set, every thread's affinity; on refusal restore all. */
static int set_all(const struct np__rt_os *os, int pid, struct aplan *a, struct np_error *err)
{
	for (int i = 0; i < a->nth; i++) {
		struct plan_thread *p = &a->th[i];
		int rc = os->get_affinity(p->tid, &p->now, &p->nnow);

		if (rc == -ESRCH)
			continue; /* the thread ended */
		if (!rc)
			rc = os->set_affinity(p->tid, p->to, p->nto);
		if (rc == -ESRCH)
			continue;
		if (rc) {
			rollback(os, a);
			return np__err(err, rc == -EPERM ? NP_EIO : NP_EOS,
				       "cannot set the CPU affinity of thread %d of process %d: %s"
				       " (nothing changed)", p->tid, pid, strerror(-rc));
		}
		p->set = true;
	}
	return 0;
}

static int say_plan(const np_topo *topo, const np_obs *obs, const struct np_apply_spec *s,
		    const struct aplan *a, struct np_apply_result *res)
{
	char from[256], to[256], nodes[128];
	int rc = 0, ids[64], n = 0;

	for (int i = 0; i < s->nnodes && n < 64; i++)
		ids[n++] = np_topo_node(topo, s->nodes[i])->os_id;
	np__format_cpulist(ids, n, nodes, sizeof(nodes));
	for (int i = 0; !rc && i < a->nth; i++) {
		const struct np_rt_thread *t = &obs->threads[i];

		np__format_cpulist(t->allowed, t->nallowed, from, sizeof(from));
		np__format_cpulist(a->th[i].to, a->th[i].nto, to, sizeof(to));
		rc = np__step(res, "thread %d (%s%s): CPUs %s -> %s", t->tid, t->name,
			      t->vcpu >= 0 ? ", a vCPU" : "", from[0] ? from : "?", to);
	}
	if (!rc && s->affinity == NP_AFFINITY_SOFT)
		rc = np__step(res, "soft affinity: nodes %s recorded for the balancer; kernel "
			      "affinity stays wide", nodes);
	if (!rc && s->migrate)
		rc = s->rate_mb_s > 0
			     ? np__step(res, "memory: move to nodes %s at most %.0f MB/s "
					"(move_pages)", nodes, s->rate_mb_s)
			     : np__step(res, "memory: move to nodes %s (migrate_pages)", nodes);
	return rc;
}

static int record(const np_obs *obs, const np_topo *topo, const struct np_apply_spec *s,
		  struct np_error *err)
{
	struct np__pref p = { .pid = obs->pid, .start_ticks = obs->start_ticks,
			      .migrate = s->migrate, .nnodes = s->nnodes };
	int ids[256], rc;

	if (s->nnodes > 256)
		return np__err(err, NP_EINPUT, "too many nodes");
	for (int i = 0; i < s->nnodes; i++)
		ids[i] = np_topo_node(topo, s->nodes[i])->os_id;
	p.nodes = ids;
	rc = np__pref_write(s->run_dir, &p, err);
	return rc;
}

int np__apply_process(const struct np__rt_os *os, const np_topo *topo, int pid,
		      const struct np_apply_spec *s, struct np_apply_result *res,
		      struct np_error *err)
{
	struct np_target t = { .pid = pid };
	struct aplan a = { 0 };
	np_obs *obs = NULL;
	int rc;

	if (s->set_policy)
		return np__err(err, NP_EUNSUPPORTED, "cannot set the memory policy of running "
			       "process %d: Linux lets only a thread set its own (start it with "
			       "numaplace apply ... -- COMMAND)", pid);
	rc = np__observe_process(os, topo, pid, &obs, err);
	if (!rc && (rc = make_plan(topo, obs, s, &a)))
		np__err(err, rc, "out of memory");
	if (!rc && (rc = say_plan(topo, obs, s, &a, res)))
		np__err(err, rc, "out of memory");
	if (rc || s->dry_run)
		goto out;
	rc = set_all(os, pid, &a, err);
	if (!rc && s->migrate) {
		rc = np__migrate(os, topo, pid, -1, s->nodes, s->nnodes, 0, s->rate_mb_s, res, err);
		if (rc)
			rollback(os, &a);
	}
	if (!rc)
		rc = s->affinity == NP_AFFINITY_SOFT ? record(obs, topo, s, err)
						     : np_pref_remove(s->run_dir, &t, err);
out:
	aplan_free(&a);
	np_obs_free(obs);
	return rc;
}

/* ---- this process, before exec -------------------------------------- */

static int self_policy(const struct np__rt_os *os, const np_topo *topo,
		       const struct np_apply_spec *s, struct np_error *err)
{
	int ids[256], n = 0, mode, rc;

	for (int i = 0; i < s->nnodes && n < 256; i++)
		ids[n++] = np_topo_node(topo, s->nodes[i])->os_id;
	switch (s->policy) {
	case NP_MEM_POLICY_STRICT: mode = MPOL_BIND; break;
	case NP_MEM_POLICY_INTERLEAVE: mode = MPOL_INTERLEAVE; break;
	default: mode = n > 1 ? MPOL_PREFERRED_MANY : MPOL_PREFERRED; break;
	}
	rc = os->set_mempolicy(mode, ids, n);
	if (rc == -EINVAL && mode == MPOL_PREFERRED_MANY)
		rc = os->set_mempolicy(MPOL_PREFERRED, ids, 1); /* before Linux 5.15 */
	return rc ? np__err(err, NP_EOS, "cannot set the memory policy: %s", strerror(-rc)) : 0;
}

int np_apply_self(const np_topo *topo, const struct np_apply_spec *s, struct np_error *err)
{
	const struct np__rt_os *os;
	int *cpus = NULL, n = 0, rc = np__apply_spec_check(topo, s, err);

	if (rc || (rc = np__rt_os(&os, err)))
		return rc;
	if ((rc = np__run_dir_ready(s->run_dir, s->affinity == NP_AFFINITY_SOFT, err)))
		return rc;
	if (s->set_policy && (rc = self_policy(os, topo, s, err)))
		return rc;
	rc = s->affinity == NP_AFFINITY_HARD ? np__cpus_of_nodes(topo, s->nodes, s->nnodes, &cpus, &n)
					     : np__all_cpus(topo, &cpus, &n);
	if (rc)
		return np__err(err, rc, "out of memory");
	rc = os->set_affinity(0, cpus, n);
	free(cpus);
	if (rc)
		return np__err(err, NP_EOS, "cannot set the CPU affinity: %s", strerror(-rc));
	if (s->affinity == NP_AFFINITY_SOFT) {
		np_obs *obs = NULL;

		rc = np__observe_process(os, topo, (int)getpid(), &obs, err);
		if (!rc)
			rc = record(obs, topo, s, err);
		np_obs_free(obs);
	}
	return rc;
}
