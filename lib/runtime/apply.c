/*
 * apply.c - np_apply(): check the spec once, then pick the process path
 * (apply-process.c) or the libvirt domain path (libvirt.c).  Only that:
 * what both paths share is in actions.c.
 *
 * An apply records (soft) or drops (hard) a preference at the end; the run
 * directory is checked before anything changes (soft: made if missing,
 * owned by this user, writable by no one else; hard: a directory if it
 * exists), so one that would be refused then leaves the target as it was.
 */
#include "runtime/rt-int.h"

int np__apply(const struct np__rt_os *os, const np_topo *topo, const struct np_target *t,
	      const struct np_apply_spec *spec, struct np_apply_result *res,
	      struct np_error *err)
{
	struct np_apply_result r = { 0 };
	int rc;

	if (!topo || !t || !spec || !res)
		return np__err(err, NP_EINPUT, "apply: missing topology, target or spec");
	rc = np__apply_spec_check(topo, spec, err);
	if (rc)
		return rc;
	if (!spec->dry_run &&
	    (rc = np__run_dir_ready(spec->run_dir, spec->affinity == NP_AFFINITY_SOFT, err)))
		return rc;
	if (t->pid > 0)
		rc = np__apply_process(os, topo, t->pid, spec, &r, err);
	else if (t->uri && t->domain)
		rc = np__domain_apply(topo, t->uri, t->domain, spec, &r, err);
	else
		rc = np__err(err, NP_EINPUT, "apply: give a pid, or a libvirt URI and domain");
	if (rc) {
		np_apply_result_free(&r);
		return rc;
	}
	*res = r;
	return 0;
}

int np_apply(const np_topo *topo, const struct np_target *t, const struct np_apply_spec *spec,
	     struct np_apply_result *res, struct np_error *err)
{
	const struct np__rt_os *os;
	int rc = np__rt_os(&os, err);

	return rc ? rc : np__apply(os, topo, t, spec, res, err);
}
