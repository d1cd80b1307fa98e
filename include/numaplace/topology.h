/*
 * topology.h - the host's NUMA topology: nodes, CPUs, memory, huge pages,
 * distances and PCI devices, read from any of numaplace's sources.
 *
 * Ownership and threads: an np_topo is immutable once loaded.  It may be
 * shared between threads without locking; np_topo_free() it once, when no
 * thread uses it any more.  Every pointer returned by an accessor lives as
 * long as the topology.
 *
 * Indexes and ids: a node or CPU has a kernel id (os_id, with gaps on real
 * machines: 0,1,2,33,34,...) and a dense index (node_idx, cpu_idx: 0..n-1,
 * in increasing os_id order).  Functions name which one they take.
 */
#ifndef NUMAPLACE_TOPOLOGY_H
#define NUMAPLACE_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <numaplace/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_topo np_topo;

/* Where a topology comes from.  Each kind is one file in lib/topology/. */
enum np_source_kind {
	NP_SOURCE_LOCAL,       /* this machine, through hwloc (arg unused) */
	NP_SOURCE_SYSFS,       /* a saved Linux sysfs/procfs root directory */
	NP_SOURCE_HWLOC_XML,   /* an hwloc XML export (lstopo --of xml) */
	NP_SOURCE_LIBVIRT_XML, /* a libvirt capabilities XML document */
	NP_SOURCE_LIBVIRT_URI, /* a live libvirt connection, e.g. test:///default */
	NP_SOURCE_XL_INFO,     /* the text printed by `xl info -n` */
	NP_SOURCE_JSON,        /* numaplace.topology/1 JSON */
	NP_SOURCE_AUTO,        /* a file or directory: detect which kind it is */
};

/* "local", "sysfs", "hwloc-xml", "libvirt-xml", "libvirt", "xl", "json", "auto". */
const char *np_source_kind_name(enum np_source_kind kind);
/* 0, or NP_EINPUT when NAME is none of the names above. */
int np_source_kind_from_name(const char *name, enum np_source_kind *out);

/*
 * Load a topology.  ARG is a path (file kinds, sysfs root), a URI (libvirt)
 * or NULL (local).  On failure *OUT is untouched and ERR names the input
 * and what is wrong with it: NP_EIO when it cannot be read, NP_EINPUT when
 * its content is bad, NP_EUNSUPPORTED when this build or host cannot.
 */
int np_topo_load(enum np_source_kind kind, const char *arg, np_topo **out,
		 struct np_error *err);

/*
 * Parse a topology from a buffer, for the text kinds (hwloc-xml,
 * libvirt-xml, xl, json, auto).  NAME is used in messages only.
 */
int np_topo_parse(enum np_source_kind kind, const char *buf, size_t len,
		  const char *name, np_topo **out, struct np_error *err);

void np_topo_free(np_topo *topo);

/* The kind that produced TOPO, and the path or URI it was read from. */
enum np_source_kind np_topo_source_kind(const np_topo *topo);
const char *np_topo_source_name(const np_topo *topo);

struct np_hugepages {
	uint64_t size_kb; /* page size */
	uint64_t total;   /* pages in this node's pool */
	uint64_t free;    /* of which free; == total when the source does not say */
	bool free_known;  /* the source said how many are free */
};

struct np_node {
	int os_id;
	uint64_t mem_total_kb; /* 0 for a memory-less node */
	uint64_t mem_free_kb;  /* == mem_total_kb when the source does not say */
	bool mem_free_known;   /* the source said how much is free (hwloc XML and
				  libvirt capabilities do not) */
	int ncpus;             /* 0 for a CPU-less node */
	const int *cpus;       /* os ids of its CPUs, increasing */
	int npools;
	const struct np_hugepages *pools; /* increasing size_kb */
};

struct np_cpu {
	int os_id;
	int node_idx; /* -1 when the source does not know */
	int core;     /* core id as the source gives it; -1 unknown */
	int socket;   /* socket (package) id; -1 unknown */
	bool online;
};

struct np_device {
	char address[16];    /* PCI "dddd:bb:dd.f"; "...#N" for the Nth at one address */
	unsigned vendor;     /* 0 when the source does not say */
	unsigned device;
	unsigned class_code; /* 24-bit class, e.g. 0x020000; 0 unknown */
	int node_idx;        /* -1: the device hangs off no node */
};

/* Distance value stored for a pair the firmware calls unreachable. */
#define NP_DISTANCE_UNREACHABLE UINT32_MAX

int np_topo_node_count(const np_topo *topo);
const struct np_node *np_topo_node(const np_topo *topo, int node_idx);
/* The node_idx of kernel node OS_ID, or -1. */
int np_topo_node_index(const np_topo *topo, int os_id);

int np_topo_cpu_count(const np_topo *topo);
const struct np_cpu *np_topo_cpu(const np_topo *topo, int cpu_idx);
/* The cpu_idx of kernel CPU OS_ID, or -1. */
int np_topo_cpu_index(const np_topo *topo, int os_id);
/*
 * SMT siblings of CPU_IDX (itself included): CPUs with the same socket and
 * core.  Writes up to MAX os ids to OUT and returns how many there are.
 */
int np_topo_cpu_siblings(const np_topo *topo, int cpu_idx, int *out, int max);

int np_topo_device_count(const np_topo *topo);
const struct np_device *np_topo_device(const np_topo *topo, int dev_idx);
/*
 * The dev_idx of the PCI device at ADDRESS ("dddd:bb:dd.f" or "bb:dd.f",
 * either case; "#N" for an hwloc export's Nth device there), or -1 when the topology has none there or ADDRESS is not
 * a PCI address.
 */
int np_topo_device_find(const np_topo *topo, const char *address);

/* Distance from node FROM to node TO (indexes); may be asymmetric. */
uint32_t np_topo_distance(const np_topo *topo, int from_idx, int to_idx);
/*
 * True when the source gave no distances.  numaplace then uses what Linux
 * uses without an ACPI SLIT: 10 to itself, 20 to every other node.
 */
bool np_topo_distances_defaulted(const np_topo *topo);
/*
 * Why the distances were assumed, when the source knows: one lower-case
 * phrase ("sysfs has no node distance files", "libvirt gives no
 * <distances>"); NULL when the source gave distances or did not say.
 */
const char *np_topo_distances_note(const np_topo *topo);

/* Sums over all nodes (free counts a node whose free memory is unknown as all free). */
uint64_t np_topo_mem_total_kb(const np_topo *topo);
uint64_t np_topo_mem_free_kb(const np_topo *topo);
/* True when the source reported the free memory of every node. */
bool np_topo_mem_free_known(const np_topo *topo);

/*
 * Check every invariant of TOPO (see lib/topology/check.c).  Every source
 * calls it before handing a topology out; tests call it on every topology.
 * 0, or NP_EINPUT with the first broken invariant in ERR.
 */
int np_topo_check(const np_topo *topo, struct np_error *err);

/* Output formats of `numaplace topology`. */
enum np_topo_format {
	NP_TOPO_TEXT, /* for people: numactl -H and xl info -n at a glance */
	NP_TOPO_JSON, /* numaplace.topology/1, docs/formats/topology.md */
	NP_TOPO_SVG,  /* a drawing of the host */
};

int np_topo_format_from_name(const char *name, enum np_topo_format *out);

/* Write TOPO to OUT.  NP_EOS when writing fails. */
int np_topo_write(const np_topo *topo, enum np_topo_format format, FILE *out,
		  struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
