/*
 * mod-libvirt.c - module libvirt (module.h): the live capabilities source
 * (topology/src-libvirt-uri.c, which has module xml read what libvirt
 * answers), libvirt domains for the runtime (runtime/libvirt.c), the
 * watcher's event loop (runtime/lv-watch.c) and the quiet process-wide
 * error function (util/lv-util.c).  Needs libvirt, and libxml2 for a
 * domain's devices (runtime/libvirt.c).
 */
#include "module/module.h"
#include "runtime/rt-int.h"
#include "topology/topo-int.h"
#include "util/lv-util.h"

static const struct np__source *const sources[] = {
	&np__source_libvirt_uri,
	NULL,
};

static const struct np__mod_libvirt ops = {
	.set_quiet = np__lv_set_quiet,
#if NP_HAVE_RUNTIME
	.observe_domain = np__lv_observe_domain,
	.domain_apply = np__lv_domain_apply,
	.domain_pin = np__lv_domain_pin,
	.domain_nodeset = np__lv_domain_nodeset,
	.watch = np__lv_watch,
	.domain_apply_on = np__lv_domain_apply_on,
#endif
};

NP__MODULE(libvirt, sources, &ops);
