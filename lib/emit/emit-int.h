/*
 * emit-int.h - the writers behind np_topo_write(), one file per format.
 *
 * Each writes the whole document to OUT and returns 0 or NP_EOS when the
 * stream fails (checked once at the end with ferror()).
 */
#ifndef NP_EMIT_INT_H
#define NP_EMIT_INT_H

#include <numaplace/topology.h>

int np__topo_write_text(const np_topo *topo, FILE *out);
int np__topo_write_json(const np_topo *topo, FILE *out);
int np__topo_write_svg(const np_topo *topo, FILE *out);

#endif
