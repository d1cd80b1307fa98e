/* PLACEHOLDER: being written. */
#include "emit/emit-int.h"
int np__topo_write_svg(const np_topo *topo, FILE *out) { (void)topo; fputs("not yet built\n", out); return 0; }
