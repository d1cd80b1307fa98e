/*
 * mod-libvirt.c - module libvirt (module.h): the live and the saved
 * capabilities sources (topology/src-libvirt-uri.c, src-libvirt-xml.c),
 * libvirt domains for the runtime (runtime/libvirt.c), the watcher's
 * event loop (runtime/lv-watch.c), the quiet process-wide error function
 * (util/lv-util.c), and domain documents read (request/domain-xml.c) and
 * merged (emit/domain-merge.c).  Needs libvirt and libxml2.
 */
#include "module/module.h"
#include "emit/plan-emit.h"
#include "request/domain-int.h"
#include "runtime/rt-int.h"
#include "topology/topo-int.h"
#include "util/lv-util.h"

static const struct np__source *const sources[] = {
	&np__source_libvirt_uri,
	&np__source_libvirt_xml,
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
	.domain_read = np__lv_domain_read,
	.domain_merge = np__lv_domain_merge,
};

NP__MODULE(libvirt, sources, &ops);
