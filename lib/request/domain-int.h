/*
 * domain-int.h - a libvirt domain document as numaplace reads it: what
 * domain-xml.c (libxml2) takes out of the document, as text with the line
 * it was on, for domain.c (no libxml2) to turn into a request.
 *
 * The split keeps every libxml2 call in one file that can move into a
 * loadable module, and every rule (numbers, units, limits, what a shape
 * means) in the core, where it is tested without XML.
 *
 * Ownership: a struct np__domain starts zeroed, is filled by
 * np__lv_domain_read() and released by np__domain_clear(), whatever happened
 * in between; every string is malloc'ed and NUL-terminated.
 */
#ifndef NP_DOMAIN_INT_H
#define NP_DOMAIN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <numaplace/error.h>

/* Bounds on what one document may list, so a hostile one cannot eat memory. */
#define NP__DOM_CELLS_MAX 1024
#define NP__DOM_PAGES_MAX 64
#define NP__DOM_DEVS_MAX 4096

/* A text of the document: NULL when absent; LINE where it was (0 unknown). */
struct np__dom_text {
	char *text;
	int line;
};

/* <cpu><numa><cell id cpus memory unit>. */
struct np__dom_cell {
	int line;
	char *id, *cpus, *memory, *unit;
};

/* <memoryBacking><hugepages><page size unit nodeset>. */
struct np__dom_page {
	int line;
	char *size, *unit, *nodeset;
};

/* <cputune><vcpupin vcpu cpuset>. */
struct np__dom_pin {
	int line;
	char *vcpu, *cpuset;
};

/* The host PCI address of a <hostdev> or <interface type='hostdev'>. */
struct np__dom_dev {
	int line;
	char *domain, *bus, *slot, *function;
};

struct np__domain {
	struct np__dom_text vcpu;         /* the text of <vcpu> */
	struct np__dom_text memory, unit; /* the text of <memory>, its unit */
	struct np__dom_text mem_mode;     /* <numatune><memory mode> */
	int hugepages_line;               /* <memoryBacking><hugepages>; 0: none */
	int npages;
	struct np__dom_page *pages;
	int ncells;
	struct np__dom_cell *cells;
	int npins;
	struct np__dom_pin *pins;
	struct np__dom_text emulatorpin;  /* <cputune><emulatorpin cpuset> */
	int ndevs;
	struct np__dom_dev *devs;
};

/*
 * Read the domain XML in BUF (LEN bytes); NAME starts messages.  0, or
 * NP_EINPUT ("NAME: line 4: a second <numatune>", "NAME: line 1: <libxml2's
 * complaint>", "NAME: the root element is <x>, not <domain>"), NP_ENOMEM.
 * OUT is filled as far as it got either way.
 */
int np__lv_domain_read(const char *buf, size_t len, const char *name, struct np__domain *out,
		    struct np_error *err);
void np__domain_clear(struct np__domain *d);

/*
 * DEV's host PCI address as "0000:81:00.0" in OUT (at least 13 bytes):
 * true, or false when its attributes are missing or not a PCI address
 * (the domain attribute may be left out: 0).  Shared by the request's
 * reader and the runtime's observation of a live domain (exported).
 */
bool np__dom_dev_address(const struct np__dom_dev *dev, char *out, size_t size);

#endif
