/*
 * domain-xml.c - what numaplace reads of a libvirt domain document
 * (formatdomain.html), taken out with libxml2 as text for domain.c to
 * judge.  This file holds libxml2 calls and nothing else: it is in module
 * xml with the other readers of libvirt's documents (module/mod-xml.c).
 *
 * Read, all of it optional: <vcpu> (its text), <memory> (text and unit),
 * <memoryBacking><hugepages> and its <page size unit nodeset>, <cpu><numa>
 * <cell id cpus memory unit>, <cputune> <vcpupin vcpu cpuset> and
 * <emulatorpin cpuset>, <numatune><memory mode>, and the host PCI devices
 * the guest is given: <devices><hostdev type='pci'> (mode subsystem, the
 * default) and <interface type='hostdev'>, by <source><address domain bus
 * slot function>.  Everything else is left alone; domain-merge.c writes
 * the document back.
 *
 * What libvirt allows once (each of the elements above but cells, pages,
 * pins and devices) is refused when it comes twice: which one would count
 * is a guess (libvirt itself takes the first and ignores the rest, and
 * numaplace's merge would replace one and leave the other), so the
 * document is bad input with the line of the second.
 *
 * Ownership: the xmlDoc lives only inside np__lv_domain_read(); the texts are
 * copied out (malloc) into the struct np__domain.
 */
#include "request/domain-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "util/util.h"
#include "util/xml-util.h"

struct rd {
	struct np__xml_fail f; /* the document's name, ERR, the first failure */
	struct np__domain *d;
};

/* A malloc'ed copy of libxml2's string S (xmlFree'd here); NULL fails R when S was not. */
static char *take(struct rd *r, xmlChar *s)
{
	char *copy = s ? strdup((const char *)s) : NULL;

	if (s && !copy)
		np__xml_failf(&r->f, NP_ENOMEM, 0, "out of memory");
	xmlFree(s);
	return copy;
}

/* Attribute NAME of N, or NULL when it has none (or R failed). */
static char *attr(struct rd *r, xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);

	if (!v && xmlHasNsProp(n, (const xmlChar *)name, NULL))
		np__xml_failf(&r->f, NP_ENOMEM, 0, "out of memory"); /* there, but not copied */
	return take(r, v);
}

static char *text(struct rd *r, xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);

	if (!t)
		np__xml_failf(&r->f, NP_ENOMEM, 0, "out of memory");
	return take(r, t);
}

/* Room for one more element of an array of SIZE, at most MAX; NULL fails R. */
static void *push(struct rd *r, void **arr, int *n, size_t size, int max, const xmlNode *at,
		  const char *what)
{
	size_t cap = (size_t)*n;
	char *a;

	if (*n >= max) {
		np__xml_failf(&r->f, NP_EINPUT, np__xml_line(at), "more than %d %s", max, what);
		return NULL;
	}
	if (np__grow(arr, &cap, (size_t)*n + 1, size) < 0) {
		np__xml_failf(&r->f, NP_ENOMEM, 0, "out of memory");
		return NULL;
	}
	a = *arr;
	memset(a + (size_t)*n * size, 0, size);
	return a + (size_t)(*n)++ * size;
}

static void read_text(struct rd *r, xmlNode *n, struct np__dom_text *t)
{
	t->line = np__xml_line(n);
	t->text = text(r, n);
}

static void read_attr(struct rd *r, xmlNode *n, const char *name, struct np__dom_text *t)
{
	t->line = np__xml_line(n);
	t->text = attr(r, n, name);
}

static void read_backing(struct rd *r, xmlNode *mb)
{
	xmlNode *hp = np__xml_once(&r->f, mb, "hugepages");
	struct np__dom_page *p;

	if (!hp)
		return;
	r->d->hugepages_line = np__xml_line(hp);
	for (xmlNode *c = hp->children; c && !r->f.rc; c = c->next) {
		if (!np__xml_named(c, "page"))
			continue;
		p = push(r, (void **)&r->d->pages, &r->d->npages, sizeof(*p), NP__DOM_PAGES_MAX, c,
			 "<page> in <hugepages>");
		if (!p)
			return;
		p->line = np__xml_line(c);
		p->size = attr(r, c, "size");
		p->unit = attr(r, c, "unit");
		p->nodeset = attr(r, c, "nodeset");
	}
}

static void read_cells(struct rd *r, xmlNode *cpu)
{
	xmlNode *numa = np__xml_once(&r->f, cpu, "numa");
	struct np__dom_cell *cell;

	for (xmlNode *c = numa ? numa->children : NULL; c && !r->f.rc; c = c->next) {
		if (!np__xml_named(c, "cell"))
			continue;
		cell = push(r, (void **)&r->d->cells, &r->d->ncells, sizeof(*cell),
			    NP__DOM_CELLS_MAX, c, "<cell> in <numa>");
		if (!cell)
			return;
		cell->line = np__xml_line(c);
		cell->id = attr(r, c, "id");
		cell->cpus = attr(r, c, "cpus");
		cell->memory = attr(r, c, "memory");
		cell->unit = attr(r, c, "unit");
	}
}

static void read_cputune(struct rd *r, xmlNode *ct)
{
	xmlNode *emu = np__xml_once(&r->f, ct, "emulatorpin");
	struct np__dom_pin *pin;

	if (emu)
		read_attr(r, emu, "cpuset", &r->d->emulatorpin);
	for (xmlNode *c = ct->children; c && !r->f.rc; c = c->next) {
		if (!np__xml_named(c, "vcpupin"))
			continue;
		pin = push(r, (void **)&r->d->pins, &r->d->npins, sizeof(*pin), NP_VCPUS_MAX, c,
			   "<vcpupin> in <cputune>");
		if (!pin)
			return;
		pin->line = np__xml_line(c);
		pin->vcpu = attr(r, c, "vcpu");
		pin->cpuset = attr(r, c, "cpuset");
	}
}

/* Is N a PCI device of the host given to the guest? */
static bool host_pci(struct rd *r, xmlNode *n)
{
	char *type = attr(r, n, "type"), *mode = NULL;
	bool yes = false;

	if (np__xml_named(n, "hostdev")) {
		mode = attr(r, n, "mode");
		yes = type && strcmp(type, "pci") == 0 && (!mode || strcmp(mode, "subsystem") == 0);
	} else if (np__xml_named(n, "interface")) {
		yes = type && strcmp(type, "hostdev") == 0;
	}
	free(type);
	free(mode);
	return yes;
}

static void read_device(struct rd *r, xmlNode *n)
{
	xmlNode *src = np__xml_once(&r->f, n, "source");
	xmlNode *a = src ? np__xml_once(&r->f, src, "address") : NULL;
	struct np__dom_dev *dev;

	dev = push(r, (void **)&r->d->devs, &r->d->ndevs, sizeof(*dev), NP__DOM_DEVS_MAX, n,
		   "host PCI devices");
	if (!dev)
		return;
	dev->line = np__xml_line(a ? a : n);
	if (!a)
		return; /* no address: domain.c says so */
	dev->domain = attr(r, a, "domain");
	dev->bus = attr(r, a, "bus");
	dev->slot = attr(r, a, "slot");
	dev->function = attr(r, a, "function");
}

static void read_numatune(struct rd *r, xmlNode *nt)
{
	xmlNode *mem = np__xml_once(&r->f, nt, "memory");

	if (mem)
		read_attr(r, mem, "mode", &r->d->mem_mode);
}

static void read_domain(struct rd *r, xmlNode *root)
{
	static const char *const once[] = { "vcpu", "memory", "memoryBacking", "cpu",
					    "cputune", "numatune", "devices" };
	xmlNode *e[NP__ARRAY_SIZE(once)];

	for (size_t i = 0; i < NP__ARRAY_SIZE(once) && !r->f.rc; i++)
		e[i] = np__xml_once(&r->f, root, once[i]);
	if (r->f.rc)
		return;
	if (e[0])
		read_text(r, e[0], &r->d->vcpu);
	if (e[1]) {
		read_text(r, e[1], &r->d->memory);
		read_attr(r, e[1], "unit", &r->d->unit);
	}
	if (e[2] && !r->f.rc)
		read_backing(r, e[2]);
	if (e[3] && !r->f.rc)
		read_cells(r, e[3]);
	if (e[4] && !r->f.rc)
		read_cputune(r, e[4]);
	if (e[5] && !r->f.rc)
		read_numatune(r, e[5]);
	for (xmlNode *c = e[6] ? e[6]->children : NULL; c && !r->f.rc; c = c->next)
		if (c->type == XML_ELEMENT_NODE && host_pci(r, c))
			read_device(r, c);
}

int np__lv_domain_read(const char *buf, size_t len, const char *name, struct np__domain *out,
		    struct np_error *err)
{
	struct rd r = { .f = { name, err, 0 }, .d = out };
	struct np_error perr = { 0 };
	struct np__xml_hush saved;
	xmlDoc *doc;
	xmlNode *root;

	np__xml_hush(&saved);
	doc = np__xml_parse(buf, len, &perr);
	if (!doc)
		np__xml_failf(&r.f, perr.code, 0, "%s", perr.message);
	else if (!(root = xmlDocGetRootElement(doc)) || !np__xml_named(root, "domain"))
		np__xml_failf(&r.f, NP_EINPUT, 0, "the root element is <%.40s>, not <domain>",
		     root ? (const char *)root->name : "");
	else
		read_domain(&r, root);
	xmlFreeDoc(doc);
	np__xml_unhush(&saved);
	return r.f.rc;
}
