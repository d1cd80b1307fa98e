/* PLACEHOLDER: being written (hwloc sources). */
#include "topo-int.h"
static int todo(np__tb *b, const char *arg) { (void)arg; return np__tb_fail(b, NP_EUNSUPPORTED, "not yet built"); }
static int todop(np__tb *b, const char *buf, size_t len) { (void)buf; (void)len; return np__tb_fail(b, NP_EUNSUPPORTED, "not yet built"); }
const struct np__source np__source_hwloc_local = { NP_SOURCE_LOCAL, todo, NULL };
const struct np__source np__source_sysfs = { NP_SOURCE_SYSFS, todo, NULL };
const struct np__source np__source_hwloc_xml = { NP_SOURCE_HWLOC_XML, NULL, todop };
