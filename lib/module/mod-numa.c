/*
 * mod-numa.c - module numa (module.h): the runtime's live OS boundary
 * (runtime/os.c), which calls libnuma for move_pages, migrate_pages and
 * set_mempolicy.  libnuma reads sysfs when it is loaded, so only the
 * runtime verbs load it.
 */
#include "module/module.h"
#include "runtime/rt-int.h"

static const struct np__mod_numa ops = { .os_live = np__rt_os_live };

NP__MODULE(numa, NULL, &ops);
