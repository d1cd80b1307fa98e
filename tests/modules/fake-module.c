/*
 * fake-module.c - numaplace modules the loader must refuse, for
 * tests/cli/modules.sh.  Built with FAKE_ABI 999: an "hwloc" module of
 * another build.  With FAKE_NEEDS_GONE: an "hwloc" module that needs a
 * library (gone.c) the test leaves out, as when libhwloc is not
 * installed.
 */
#include "module/module.h"

#ifdef FAKE_NEEDS_GONE
int np_test_gone(void);
int np_test_use_gone(void);

int np_test_use_gone(void)
{
	return np_test_gone();
}
#endif

const struct np__module np__module_hwloc = { FAKE_ABI, "hwloc", NULL, NULL };
