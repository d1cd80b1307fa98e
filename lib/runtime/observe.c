/*
 * observe.c - np_observe(): pick the process path (procfs.c) or the
 * libvirt domain path (libvirt.c) for a target.  Only that: both build
 * their observation with obs.c.
 */
#include "runtime/rt-int.h"

int np_observe(const np_topo *topo, const struct np_target *t, np_obs **out,
	       struct np_error *err)
{
	const struct np__rt_os *os;
	int rc;

	if (!topo || !t || !out)
		return np__err(err, NP_EINPUT, "observe: missing topology or target");
	if (t->pid <= 0 && !(t->uri && t->domain))
		return np__err(err, NP_EINPUT, "observe: give a pid, or a libvirt URI and domain");
	if ((rc = np__rt_os(&os, err)))
		return rc;
	if (t->pid > 0)
		return np__observe_process(os, topo, t->pid, out, err);
	return np__observe_domain(os, topo, t->uri, t->domain, out, err);
}
