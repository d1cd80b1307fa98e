/*
 * topo-int.h - the inside of np_topo, and the builder every source uses.
 *
 * A source never fills struct np_topo by hand: it feeds facts keyed by
 * kernel ids (node 33, CPU 17) to an np__tb builder, in any order, and
 * np__tb_finish() sorts them, turns ids into dense indexes, fills what the
 * source did not say (distances 10/20, free = total, marked unknown) and runs the
 * invariant checker.  So every source yields the same shape of topology
 * and each one stays short.
 *
 * The builder's errors are sticky: after the first failing call the others
 * do nothing and np__tb_finish() reports that first error, so a source can
 * feed many facts and check once.
 */
#ifndef NP_TOPO_INT_H
#define NP_TOPO_INT_H

#include <numaplace/topology.h>

#include "util/util.h"

/* Room for the reason distances were assumed (np_topo_distances_note). */
#define NP__DIST_NOTE 160

struct np_topo {
	enum np_source_kind kind;
	char *source_name;

	int nnodes;
	struct np_node *nodes;      /* increasing os_id */
	int *node_cpus;             /* storage behind nodes[i].cpus */
	struct np_hugepages *pools; /* storage behind nodes[i].pools */

	int ncpus;
	struct np_cpu *cpus;        /* increasing os_id */

	int ndevices;
	struct np_device *devices;  /* increasing address */

	uint32_t *dist;             /* nnodes x nnodes, row-major by index */
	bool dist_defaulted;
	char dist_note[NP__DIST_NOTE]; /* why defaulted, "" when the source did not say */
};

/*
 * Limits every source is held to, so that whatever one source reads, the
 * JSON writer can write and the JSON reader read back: ids (nodes, CPUs,
 * cores, sockets), memory and page sizes in KiB, page counts.
 */
#define NP__TOPO_ID_MAX NP_ID_MAX
#define NP__TOPO_KB_MAX (INT64_C(1) << 50)
#define NP__TOPO_COUNT_MAX (INT64_C(1) << 50)

/*
 * Where memory goes when the nodes NODES[0..N) (indexes) are full
 * (fallback.c): every other node with memory they can reach, nearest to
 * the set first, ties by node id.  Writes at most MAX indexes into OUT and
 * returns how many there are, or NP_ENOMEM.
 */
int np__topo_fallback(const np_topo *topo, const int *nodes, int n, int *out, int max);

typedef struct np__tb np__tb;

np__tb *np__tb_new(enum np_source_kind kind, const char *source_name);
void np__tb_free(np__tb *b);

/*
 * Facts.  Node and CPU ids are kernel ids.  A node must be added before
 * its CPUs, pools, distances or devices refer to it.  Adding the same node,
 * CPU or device twice is bad input.
 */
void np__tb_node(np__tb *b, int os_node, uint64_t total_kb);
/* Free memory of a node; without it free == total and marked unknown. */
void np__tb_node_free(np__tb *b, int os_node, uint64_t free_kb);
/* FREE may be NP__TB_FREE_UNKNOWN: the source does not say (free = total). */
void np__tb_hugepages(np__tb *b, int os_node, uint64_t size_kb, uint64_t total,
		      uint64_t free);
#define NP__TB_FREE_UNKNOWN UINT64_MAX
/* OS_NODE -1: node unknown (e.g. an offline CPU); CORE, SOCKET -1 unknown. */
void np__tb_cpu(np__tb *b, int os_cpu, int os_node, int core, int socket,
		bool online);
void np__tb_distance(np__tb *b, int os_from, int os_to, uint32_t distance);
/* OS_NODE -1: no node.  ADDRESS "dddd:bb:dd.f" (also accepted: "bb:dd.f"). */
void np__tb_device(np__tb *b, const char *address, unsigned vendor,
		   unsigned device, unsigned class_code, int os_node);

/*
 * Why the source gives no distances, when it knows ("sysfs has no node
 * distance files"): one lower-case phrase, kept by np_topo_distances_note()
 * if no distance is fed.  The last call wins; never an error.
 */
void np__tb_distances_note(np__tb *b, const char *fmt, ...) NP__PRINTF(2, 3);

/*
 * Fail the build with a source-specific message (sticky like the rest);
 * returns CODE so that a source can `return np__tb_fail(...)`.
 */
int np__tb_fail(np__tb *b, int code, const char *fmt, ...) NP__PRINTF(3, 4);

/* True once any call failed. */
bool np__tb_failed(const np__tb *b);

/*
 * Build the topology and free the builder (always).  0 and *OUT, or the
 * first error (sticky, or a broken invariant) in ERR, prefixed with the
 * source name: "cannot load 'host.xml': node 3: ...".
 */
int np__tb_finish(np__tb *b, np_topo **out, struct np_error *err);

/* One source: how to load from a path/URI, and how to parse a buffer. */
struct np__source {
	enum np_source_kind kind;
	/* Feed B from ARG; return 0 or an error code (also recorded in B). */
	int (*load)(np__tb *b, const char *arg);
	/* Feed B from BUF (NUL-terminated, LEN bytes); NULL: not a text kind. */
	int (*parse)(np__tb *b, const char *buf, size_t len);
};

/* In module hwloc (module/module.h): source.c reaches them through it. */
extern const struct np__source np__source_hwloc_local;
extern const struct np__source np__source_sysfs;
extern const struct np__source np__source_hwloc_xml;
/* In module libvirt. */
extern const struct np__source np__source_libvirt_xml;
extern const struct np__source np__source_libvirt_uri;
/* In the core. */
extern const struct np__source np__source_xl_info;
extern const struct np__source np__source_json;

#endif
