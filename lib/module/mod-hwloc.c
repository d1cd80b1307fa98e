/*
 * mod-hwloc.c - module hwloc (module.h): the three sources of
 * topology/src-hwloc.c (local, sysfs, hwloc-xml), which need libhwloc and
 * libxml2.
 */
#include "module/module.h"
#include "topology/topo-int.h"

static const struct np__source *const sources[] = {
	&np__source_hwloc_local,
	&np__source_sysfs,
	&np__source_hwloc_xml,
	NULL,
};

NP__MODULE(hwloc, sources, NULL);
