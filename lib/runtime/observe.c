/*
 * observe.c - np_observe(): pick the process path (procfs.c) or the
 * libvirt domain path (libvirt.c) for a target.  Only that: both build
 * their observation with obs.c.
 */
#include "runtime/rt-int.h"

int np_observe(const np_topo *topo, const struct np_target *t, np_obs **out,
	       struct np_error *err)
{
	if (!topo || !t || !out)
		return np__err(err, NP_EINPUT, "observe: missing topology or target");
	if (t->pid > 0)
		return np__observe_process(np__rt_os_live(), topo, t->pid, out, err);
	if (t->uri && t->domain)
		return np__observe_domain(np__rt_os_live(), topo, t->uri, t->domain, out, err);
	return np__err(err, NP_EINPUT, "observe: give a pid, or a libvirt URI and domain");
}
