/*
 * modules.c - the runtime's side of its two modules (module/module.h):
 * the live OS boundary (os.c, module numa, which needs libnuma) and libvirt
 * domains (libvirt.c, module libvirt).  The rest of lib/runtime calls the
 * names declared in rt-int.h; each asks for its module and forwards, or
 * fails with the module's one-line NP_EUNSUPPORTED.  So only a runtime
 * verb, and only on the path that needs it, loads libnuma or libvirt.
 */
#include <assert.h>

#include "module/module.h"
#include "runtime/rt-int.h"

int np__rt_os(const struct np__rt_os **os, struct np_error *err)
{
	const struct np__module *m;
	const struct np__mod_numa *numa;
	int rc = np__module_get("numa", &m, err);

	if (rc)
		return rc;
	numa = m->ops;
	*os = numa->os_live();
	return 0;
}

static int domains(const struct np__mod_libvirt **lv, struct np_error *err)
{
	const struct np__module *m;
	int rc = np__module_get("libvirt", &m, err);

	if (rc)
		return rc;
	*lv = m->ops;
	/* A module of this build (the ABI check) has domains when the runtime is built. */
	assert((*lv)->observe_domain && (*lv)->domain_apply);
	return 0;
}

int np__observe_domain(const struct np__rt_os *os, const np_topo *topo, const char *uri,
		       const char *name, np_obs **out, struct np_error *err)
{
	const struct np__mod_libvirt *lv;
	int rc = domains(&lv, err);

	return rc ? rc : lv->observe_domain(os, topo, uri, name, out, err);
}

int np__domain_apply(const np_topo *topo, const char *uri, const char *name,
		     const struct np_apply_spec *spec, struct np_apply_result *res,
		     struct np_error *err)
{
	const struct np__mod_libvirt *lv;
	int rc = domains(&lv, err);

	return rc ? rc : lv->domain_apply(topo, uri, name, spec, res, err);
}

int np__domain_pin(const np_topo *topo, const char *uri, const char *name, int vcpu,
		   const int *cpus, int n, struct np_error *err)
{
	const struct np__mod_libvirt *lv;
	int rc = domains(&lv, err);

	return rc ? rc : lv->domain_pin(topo, uri, name, vcpu, cpus, n, err);
}

int np__domain_nodeset(const np_topo *topo, const char *uri, const char *name, const int *nodes,
		       int n, struct np_error *err)
{
	const struct np__mod_libvirt *lv;
	int rc = domains(&lv, err);

	return rc ? rc : lv->domain_nodeset(topo, uri, name, nodes, n, err);
}
