/*
 * src-libvirt.h - what the two libvirt sources share: the readers of a
 * capabilities document and of a node device description
 * (src-libvirt-xml.c), used by the file source and by the live one
 * (src-libvirt-uri.c).
 *
 * The capabilities reader feeds nodes, CPUs and distances to the builder
 * at once, but hands the huge page pools back in an np__lv_cells instead
 * of feeding them: the builder takes a pool once, with its free count, and
 * the live source learns the free counts only afterwards.  The cell ids
 * come back too, because the live source asks libvirt about each cell.
 *
 * Ownership: an np__lv_cells starts zeroed, is filled by
 * np__libvirt_caps_read() and is released by np__libvirt_cells_free(),
 * whatever happened in between.
 */
#ifndef NP_SRC_LIBVIRT_H
#define NP_SRC_LIBVIRT_H

#include <stddef.h>
#include <stdint.h>


#include "topo-int.h"
#include "util/xml-util.h"

/* One <pages> pool of a cell; free is NP__TB_FREE_UNKNOWN until someone knows better. */
struct np__lv_pool {
	int node;
	uint64_t size_kb, total, free;
};

struct np__lv_cells {
	int *ids; /* cell ids, in document order */
	size_t nids, capids;
	struct np__lv_pool *pools;
	size_t npools, cappools;
};

/*
 * Read the capabilities XML in BUF (LEN bytes) into B and CELLS.  0, or the
 * builder's (sticky) error code with a message such as "cell 1: cpu 3:
 * socket_id 'x' is not a number" or "line 4: <libxml2's complaint>".
 */
int np__libvirt_caps_read(np__tb *b, const char *buf, size_t len, struct np__lv_cells *cells);

/* Feed the pools of CELLS to B (after any refinement of their free counts). */
void np__libvirt_pools_feed(np__tb *b, const struct np__lv_cells *cells);

void np__libvirt_cells_free(struct np__lv_cells *cells);

/*
 * Read one node device description (virsh nodedev-dumpxml) and, when it is
 * a PCI device, feed it to B with its vendor, product, class and NUMA node
 * (-1 when libvirt gives none).  Other devices are skipped.  0 or the
 * builder's error code; messages name the device: "device pci_0000_00_1f_2:
 * <slot> '40' is out of range".
 */
int np__libvirt_nodedev_read(np__tb *b, const char *buf, size_t len);

#endif
