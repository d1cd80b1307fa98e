/*
 * doc.h - whole guest documents in and out: a libvirt domain (the XML of
 * `virsh dumpxml`, /etc/libvirt/qemu/NAME.xml) or an xl.cfg file is read
 * for the guest's request, and written back whole with a plan merged in,
 * every other part kept, so an admin's own tools take it as it is.
 *
 *   np_request_from_domain_xml()  document -> request  (np_place() it)
 *   np_plan_merge_domain_xml()    document + plan -> document
 *   np_request_from_xl_config(), np_plan_merge_xl_config(): the same for xl.
 *
 * A scheduler does: read the request, place it, merge the plan (a request
 * made another way, say from a Nova flavor, merges just as well: the
 * document is then only where the plan goes, and the merge gives it the
 * request's vCPU count and memory size).  docs/formats/documents.md says
 * what is read and what is replaced, element by element and key by key.
 *
 * PCI devices the document gives the guest (libvirt <hostdev> and
 * <interface type='hostdev'>, xl pci=) become requests for those very
 * devices, by address (struct np_pci_request), with DEVICE_POLICY:
 * NP_PCI_POLICY_PREFERRED puts the guest on the devices' nodes when it
 * can; REQUIRED refuses other nodes (a guest without NUMA cells is only
 * steered, as Nova does).
 *
 * Errors: NP_EINPUT with one line naming the document (NAME) and the line
 * or key; the request's own rules have err->reason as in request.h.  A
 * merge refuses, writing nothing, a plan the format cannot carry out
 * (np_plan_write()'s rules) or that does not fit.  The document is read
 * from BUF and never changed; the merged one goes to OUT in one write.
 *
 * Threads: every function here may run in several threads at once.
 */
#ifndef NUMAPLACE_DOC_H
#define NUMAPLACE_DOC_H

#include <stddef.h>
#include <stdio.h>

#include <numaplace/error.h>
#include <numaplace/host.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The request a libvirt domain document makes (LEN bytes of BUF; NAME for messages). */
int np_request_from_domain_xml(const char *buf, size_t len, const char *name,
			       enum np_pci_policy device_policy, np_request **out,
			       struct np_error *err);

/*
 * The domain document BUF with PLAN (made on HOST for REQ) merged in:
 * <vcpu>, <cputune> vcpupin/emulatorpin/iothreadpin, <numatune>,
 * <cpu><numa> and <memoryBacking><hugepages> replaced, everything else
 * kept; written to OUT.
 */
int np_plan_merge_domain_xml(const np_plan *plan, const np_host *host, const np_request *req,
			     const char *buf, size_t len, const char *name, FILE *out,
			     struct np_error *err);

/* The request an xl.cfg file makes. */
int np_request_from_xl_config(const char *buf, size_t len, const char *name,
			      enum np_pci_policy device_policy, np_request **out,
			      struct np_error *err);

/*
 * The xl.cfg BUF with PLAN merged in: cpus=, cpus_soft= and vnuma= (and
 * vcpus=, maxvcpus=, memory=, maxmem= where they differ from REQ)
 * replaced or added, every other line and comment kept byte for byte.
 */
int np_plan_merge_xl_config(const np_plan *plan, const np_host *host, const np_request *req,
			    const char *buf, size_t len, const char *name, FILE *out,
			    struct np_error *err);

#ifdef __cplusplus
}
#endif
#endif
