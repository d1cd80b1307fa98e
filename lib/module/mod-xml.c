/*
 * mod-xml.c - module xml (module.h): libvirt's documents read with libxml2
 * alone -- the saved capabilities source (topology/src-libvirt-xml.c), the
 * readers of capabilities and node devices that the libvirt module's live
 * source hands what libvirt answered, the hush of libxml2's printing
 * (util/xml-util.c), and domain documents read (request/domain-xml.c) and
 * merged (emit/domain-merge.c).  `--libvirt-xml` and `--domain-xml` load
 * this module, not libvirt.  Needs libxml2.
 */
#include "module/module.h"
#include "emit/plan-emit.h"
#include "request/domain-int.h"
#include "topology/src-libvirt.h"

static const struct np__source *const sources[] = {
	&np__source_libvirt_xml,
	NULL,
};

static const struct np__mod_xml ops = {
	.caps_read = np__libvirt_caps_read,
	.pools_feed = np__libvirt_pools_feed,
	.cells_free = np__libvirt_cells_free,
	.nodedev_read = np__libvirt_nodedev_read,
	.hush = np__xml_hush,
	.unhush = np__xml_unhush,
	.domain_read = np__lv_domain_read,
	.domain_merge = np__lv_domain_merge,
};

NP__MODULE(xml, sources, &ops);
