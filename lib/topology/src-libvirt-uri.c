/*
 * src-libvirt-uri.c - a live libvirt connection (source kind libvirt):
 * "qemu:///system", "xen:///system", "test:///default", ...
 *
 * Design: open the URI read-only, read its capabilities with the reader of
 * saved documents (src-libvirt-xml.c, in module xml: module.h), then
 * refine with what only a live host knows: free memory per cell, free huge
 * pages per cell and size, and the PCI devices with their NUMA node from
 * the node device driver.  Cells
 * are asked about one at a time, so that sparse cell ids need no care.  A
 * refinement the driver does not support is skipped and the topology says
 * what the capabilities say (free == total, no devices); any other failure
 * fails the load with libvirt's message.
 *
 * Quiet: the connection gets a silent error function of its own
 * (util/lv-util.h says why not the process-wide one) and errors are read
 * back with virGetLastError (per thread).  libvirt parses XML itself
 * (test:///FILE) and libxml2 may print through its per-thread generic
 * error handler, so that handler is silenced around the libvirt calls and
 * restored afterwards.
 *
 * Ownership: the connection and everything libvirt hands out are released
 * before load() returns.
 */
#include "src-libvirt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/globals.h>
#include <libxml/xmlerror.h>

#include "module/module.h"
#include "util/lv-util.h"
#include "util/util.h"


/* True when the last error says the driver cannot do what was asked. */
static bool lv_unsupported(void)
{
	int code = virGetLastErrorCode();

	return code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_OPERATION_UNSUPPORTED ||
	       code == VIR_ERR_ARGUMENT_UNSUPPORTED;
}

static int refine_memory(np__tb *b, virConnectPtr conn, const struct np__lv_cells *cells)
{
	char msg[400];

	for (size_t i = 0; i < cells->nids; i++) {
		unsigned long long bytes = 0;
		int n = virNodeGetCellsFreeMemory(conn, &bytes, cells->ids[i], 1);

		if (n < 0 && lv_unsupported())
			return 0;
		if (n < 0)
			return np__tb_fail(b, NP_EIO, "cannot get the free memory of cell %d: %s",
					   cells->ids[i], np__lv_message(msg, sizeof(msg)));
		if (n == 1)
			np__tb_node_free(b, cells->ids[i], bytes / 1024);
	}
	return 0;
}

static int refine_pages(np__tb *b, virConnectPtr conn, struct np__lv_cells *cells)
{
	char msg[400];

	for (size_t i = 0; i < cells->npools; i++) {
		struct np__lv_pool *p = &cells->pools[i];
		unsigned int size = (unsigned int)p->size_kb;
		unsigned long long free_pages = 0;
		int n;

		if (p->size_kb > UINT32_MAX) /* libvirt cannot even name the size */
			continue;
		n = virNodeGetFreePages(conn, 1, &size, p->node, 1, &free_pages, 0);
		if (n < 0 && lv_unsupported())
			return 0;
		if (n < 0)
			return np__tb_fail(b, NP_EIO,
					   "cannot get the free %u KiB pages of cell %d: %s", size,
					   p->node, np__lv_message(msg, sizeof(msg)));
		/*
		 * N counts the values filled in: the test driver fills some and
		 * returns 0, so nothing is learned from it.  The pool may have
		 * been resized since the capabilities were read; they say how
		 * big it is, so free is capped at that.
		 */
		if (n == 1)
			p->free = free_pages < p->total ? free_pages : p->total;
	}
	return 0;
}

static int add_devices(np__tb *b, virConnectPtr conn, const struct np__mod_xml *x)
{
	virNodeDevicePtr *devs = NULL;
	char msg[400];
	int n =
	    virConnectListAllNodeDevices(conn, &devs, VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV);

	if (n < 0 && lv_unsupported())
		return 0;
	if (n < 0)
		return np__tb_fail(b, NP_EIO, "cannot list node devices: %s",
				   np__lv_message(msg, sizeof(msg)));
	for (int i = 0; i < n; i++) {
		/* NULL: the device went away since the listing (hot unplug). */
		char *xml = np__tb_failed(b) ? NULL : virNodeDeviceGetXMLDesc(devs[i], 0);

		if (xml)
			x->nodedev_read(b, xml, strlen(xml));
		free(xml);
		virNodeDeviceFree(devs[i]);
	}
	free(devs);
	return 0;
}

static int load(np__tb *b, const char *uri)
{
	struct np__lv_cells cells = {0};
	virConnectPtr conn = NULL;
	struct np__xml_hush saved;
	const struct np__module *m;
	const struct np__mod_xml *x;
	struct np_error err = {0};
	char *caps = NULL;
	char msg[400];
	int code;

	/* No module xml: nothing could read what libvirt says (exit 3, as for libvirt). */
	if ((code = np__module_get("xml", &m, &err)))
		return np__tb_fail(b, code, "%s", err.message);
	x = m->ops;
	x->hush(&saved);
	if (!(conn = np__lv_open(uri, true))) {
		/* No libvirt here is exit 3; a URI no one answers is as bad as a missing file. */
		code = np__lv_open_failure(msg, sizeof(msg));
		np__tb_fail(b, code, "cannot connect: %s", msg);
		goto out;
	}
	if (!(caps = virConnectGetCapabilities(conn))) {
		np__tb_fail(b, NP_EIO, "cannot get the capabilities: %s",
			    np__lv_message(msg, sizeof(msg)));
		goto out;
	}
	if (x->caps_read(b, caps, strlen(caps), &cells) == 0 &&
	    refine_memory(b, conn, &cells) == 0 && refine_pages(b, conn, &cells) == 0) {
		x->pools_feed(b, &cells);
		add_devices(b, conn, x);
	}
out:
	if (conn)
		virConnectClose(conn);
	x->unhush(&saved);
	free(caps);
	x->cells_free(&cells);
	return np__tb_failed(b) ? np__tb_fail(b, NP_EIO, "unknown error") : 0;
}

const struct np__source np__source_libvirt_uri = {NP_SOURCE_LIBVIRT_URI, load, NULL};
