/*
 * emit-int.h - the writers behind np_topo_write() (topo-format.c), one
 * file per format, and the CPU grouping key they share (topo-group.c).
 *
 * Each writes the whole document to OUT and returns 0, NP_ENOMEM (the
 * document is then incomplete), or NP_EOS when the stream fails (checked
 * once at the end with ferror()).
 */
#ifndef NP_EMIT_INT_H
#define NP_EMIT_INT_H

#include <numaplace/topology.h>

/*
 * A CPU's place for grouping: sorting by it puts each socket's CPUs
 * together, then each node's, then SMT siblings (same socket, node and
 * core, as np_topo_cpu_siblings() defines them) next to each other.
 */
struct np__cpu_key {
	int socket, node, core, os, idx; /* idx: the cpu_idx, for the caller */
};

/*
 * np_topo_write() into a new NUL-terminated string *OUT (the caller's to
 * free): for the fleet's and the agent's stored and sent topologies.
 * Errors as np_topo_write(); *OUT untouched then.
 */
int np__topo_write_string(const np_topo *topo, enum np_topo_format format, char **out,
			  struct np_error *err);

/* qsort comparator: socket, node, core, then os id. */
int np__cmp_cpu_key(const void *a, const void *b);

/* "15.1 GiB", "512 MiB", "12 KiB": memory for people. */
void np__fmt_mem(uint64_t kb, char *buf, size_t size);
/* "2M", "1G", "64K": a huge page size. */
void np__fmt_pagesize(uint64_t kb, char *buf, size_t size);

int np__topo_write_text(const np_topo *topo, FILE *out);
int np__topo_write_json(const np_topo *topo, FILE *out);
int np__topo_write_svg(const np_topo *topo, FILE *out);

#endif
