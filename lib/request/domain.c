/*
 * domain.c - a guest request from a libvirt domain document
 * (np_request_from_domain_xml): domain-xml.c takes the texts out with
 * libxml2; here they are judged and turned into an np_request.
 *
 * What the document says, and what it becomes:
 *  - <vcpu>N</vcpu> (1 when absent, as libvirt): the guest's vCPUs.
 *  - <cpu><numa> cells (ids 0..n-1, each once; cpus a libvirt CPU set with
 *    '^' exclusions; memory with its unit, KiB by default, rounded up to
 *    MiB): the guest cells; their memory is the guest's, as in libvirt,
 *    which takes the cells' sum over <memory>.  Without cells: one cell of
 *    every vCPU and <memory> (required then).
 *  - <memoryBacking><hugepages>: huge pages, Nova's page size "large"
 *    (any huge page the host has) for every cell, or a <page>'s size for
 *    the cells of its nodeset (every cell when it has none).
 *  - <cputune>: the vcpupins there are a placement numaplace replaces,
 *    but their shape is the admin's choice and is kept: when every vCPU
 *    is pinned to one CPU of its own, the guest asks for dedicated CPUs,
 *    and when its <emulatorpin> then shares none of those CPUs, for its
 *    emulator threads isolated too (what numaplace writes for such
 *    guests, so a domain read back asks for what it asked before).
 *    Any other pinning asks for floating vCPUs.
 *  - <numatune><memory mode>: the memory policy (strict, the default;
 *    restrictive is strict; preferred; interleave).  Its nodeset is a
 *    placement and is replaced.
 *  - every PCI device of the host given to the guest (<hostdev
 *    type='pci'>, <interface type='hostdev'>): a request for that one
 *    device by address with the caller's policy (np_pci_request).
 * A guest with cells, huge pages or dedicated CPUs asks for a NUMA
 * topology (Nova's rule).  vCPU affinity is hard: libvirt has no other.
 *
 * Errors name the document and the line: "vm.xml: line 14: <cell id='1'>:
 * cpus names vCPU 9 but the guest has vCPUs 0-7 (numa_cpu_out_of_range)".
 */
#include "request/domain-int.h"

#include <numaplace/doc.h>

#include "module/module.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request/nova-values.h"
#include "request/request-int.h"

struct dc {
	const char *name;
	const struct np__domain *d;
	struct np_error *err;
	unsigned vcpus;
	uint64_t memory_mb;
	long *page;          /* per cell: the page size asked */
	int *owner;          /* per vCPU: its cell, or -1 */
	bool dedicated, isolate;
};

static int bad(struct dc *c, int line, const char *reason, const char *fmt, ...) NP__PRINTF(4, 5);

static int bad(struct dc *c, int line, const char *reason, const char *fmt, ...)
{
	char msg[360], where[32] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof(where), " line %d:", line);
	if (reason)
		return np__err_reason(c->err, NP_EINPUT, reason, "%s:%s %s (%s)", c->name, where,
				      msg, reason);
	return np__err(c->err, NP_EINPUT, "%s:%s %s", c->name, where, msg);
}

static int nomem(struct dc *c)
{
	return np__err(c->err, NP_ENOMEM, "out of memory");
}

void np__domain_clear(struct np__domain *d)
{
	free(d->vcpu.text);
	free(d->memory.text);
	free(d->unit.text);
	free(d->mem_mode.text);
	free(d->emulatorpin.text);
	for (int i = 0; i < d->npages; i++) {
		free(d->pages[i].size);
		free(d->pages[i].unit);
		free(d->pages[i].nodeset);
	}
	for (int i = 0; i < d->ncells; i++) {
		free(d->cells[i].id);
		free(d->cells[i].cpus);
		free(d->cells[i].memory);
		free(d->cells[i].unit);
	}
	for (int i = 0; i < d->npins; i++) {
		free(d->pins[i].vcpu);
		free(d->pins[i].cpuset);
	}
	for (int i = 0; i < d->ndevs; i++) {
		free(d->devs[i].domain);
		free(d->devs[i].bus);
		free(d->devs[i].slot);
		free(d->devs[i].function);
	}
	free(d->pages);
	free(d->cells);
	free(d->pins);
	free(d->devs);
	memset(d, 0, sizeof(*d));
}

/* ---- numbers, sizes, CPU sets -------------------------------------------- */

/*
 * TEXT (digits, blanks around) in UNIT (libvirt's scaled units; KiB when
 * NULL) as KiB, rounded up; false when either is bad or it overflows.
 */
static bool kib_of(const char *text, const char *unit, uint64_t *kib)
{
	uint64_t v, per;

	if (!text || !np__parse_u64(text, &v) || !np__unit_bytes(unit ? unit : "KiB", &per))
		return false;
	if (per % 1024 == 0) {
		if (v > UINT64_MAX / (per / 1024))
			return false;
		*kib = v * (per / 1024);
		return true;
	}
	if (v > UINT64_MAX / per)
		return false;
	*kib = v * per / 1024 + (v * per % 1024 != 0);
	return true;
}

/* A memory size of WHAT as MiB, rounded up, from 1 MiB to NP_MEMORY_MB_MAX. */
static int mib_of(struct dc *c, int line, const char *what, const char *text, const char *unit,
		  uint64_t *mb)
{
	uint64_t kib;

	if (!text)
		return bad(c, line, NULL, "%s has no size", what);
	if (!kib_of(text, unit, &kib))
		return bad(c, line, NULL, "%s: '%.40s %.16s' is not a size", what, text,
			   unit ? unit : "KiB");
	*mb = kib / 1024 + (kib % 1024 != 0);
	if (*mb == 0 || *mb > NP_MEMORY_MB_MAX)
		return bad(c, line, NULL, "%s: %llu MiB is not from 1 MiB to %llu MiB", what,
			   (unsigned long long)*mb, (unsigned long long)NP_MEMORY_MB_MAX);
	return 0;
}

/* The libvirt CPU set TEXT ("0-3,^2,8") into CS (np__cpuspec_free it in every case). */
static int spec(struct dc *c, int line, const char *what, const char *text,
		struct np__cpuspec *cs)
{
	char badrule[64];
	int rc = np__cpuspec_parse(text ? text : "", -1, cs, badrule, sizeof(badrule));

	if (rc == NP_ENOMEM)
		return nomem(c);
	if (rc)
		return bad(c, line, NULL, "%s: '%.40s' is not a CPU set", what, text ? text : "");
	return 0;
}

/*
 * The CPU set TEXT as increasing ids into *IDS (free it), all below LIMIT
 * (else REASON): enumerated only then, so a range cannot cost more than
 * LIMIT steps.
 */
static int id_set(struct dc *c, int line, const char *what, const char *text, int64_t limit,
		  const char *reason, int **ids, int *n)
{
	struct np__cpuspec cs = { 0 };
	int64_t x;
	int rc = spec(c, line, what, text, &cs);

	*ids = NULL;
	*n = 0;
	if (!rc && (x = np__cpuspec_min_from(&cs, limit)) >= 0)
		rc = bad(c, line, reason, "%s names %lld, beyond %lld", what, (long long)x,
			 (long long)limit - 1);
	else if (!rc && !(*ids = np__calloc((size_t)limit + 1, sizeof(int))))
		rc = nomem(c);
	for (x = np__cpuspec_min_from(&cs, 0); !rc && x >= 0; x = np__cpuspec_min_from(&cs, x + 1))
		(*ids)[(*n)++] = (int)x;
	np__cpuspec_free(&cs);
	return rc;
}

/* The one CPU the set TEXT names into *CPU, or -1 when it names none or several. */
static int one_cpu(struct dc *c, int line, const char *what, const char *text, int64_t *cpu)
{
	struct np__cpuspec cs = { 0 };
	int rc = spec(c, line, what, text, &cs);

	*cpu = rc ? -1 : np__cpuspec_min_from(&cs, 0);
	if (*cpu >= 0 && np__cpuspec_min_from(&cs, *cpu + 1) >= 0)
		*cpu = -1;
	np__cpuspec_free(&cs);
	return rc;
}

/* ---- the parts of the document -------------------------------------------- */

static int read_vcpu(struct dc *c)
{
	long v;

	c->vcpus = 1;
	if (!c->d->vcpu.text)
		return 0;
	if (!np__parse_int(c->d->vcpu.text, 1, NP_VCPUS_MAX, &v))
		return bad(c, c->d->vcpu.line, NULL,
			   "<vcpu> '%.40s' is not a vCPU count from 1 to %d", c->d->vcpu.text,
			   NP_VCPUS_MAX);
	c->vcpus = (unsigned)v;
	return 0;
}

/* The cells' ids are 0..n-1, each once (libvirt's rule); CELL[i] has id i in *AT. */
static int cell_order(struct dc *c, int *at)
{
	const struct np__domain *d = c->d;
	long id;

	for (int i = 0; i < d->ncells; i++)
		at[i] = -1;
	for (int i = 0; i < d->ncells; i++) {
		const struct np__dom_cell *cell = &d->cells[i];

		if (!cell->id || !np__parse_int(cell->id, 0, d->ncells - 1, &id))
			return bad(c, cell->line, "invalid_numa_cells",
				   "<cell id='%.20s'>: cell ids are 0 to %d",
				   cell->id ? cell->id : "", d->ncells - 1);
		if (at[id] >= 0)
			return bad(c, cell->line, "invalid_numa_cells", "a second <cell id='%ld'>",
				   id);
		at[id] = i;
	}
	return 0;
}

/* Every vCPU of cell K's cpus, each in one cell only; *IDS as id_set. */
static int cell_vcpus(struct dc *c, int k, int **ids, int *n)
{
	const struct np__dom_cell *cell = &c->d->cells[k];
	char what[48];
	int rc;

	snprintf(what, sizeof(what), "<cell id='%.8s'>: cpus", cell->id);
	if (!cell->cpus)
		return 0; /* a cell of memory only */
	if ((rc = id_set(c, cell->line, what, cell->cpus, c->vcpus, "numa_cpu_out_of_range", ids,
			 n)))
		return rc;
	for (int i = 0; i < *n; i++) {
		if (c->owner[(*ids)[i]] >= 0)
			return bad(c, cell->line, "numa_cpu_duplicate",
				   "%s: vCPU %d is in another cell too", what, (*ids)[i]);
		c->owner[(*ids)[i]] = k;
	}
	return 0;
}

/* The page size of PAGE in KiB. */
static int page_kib(struct dc *c, const struct np__dom_page *p, long *kib)
{
	uint64_t v;

	if (!p->size || !kib_of(p->size, p->unit, &v) || v == 0 || v > ((uint64_t)1 << 30))
		return bad(c, p->line, "invalid_page_size",
			   "<page size='%.20s' unit='%.8s'> is not a page size up to 1 TiB",
			   p->size ? p->size : "", p->unit ? p->unit : "KiB");
	*kib = (long)v;
	return 0;
}

/* Page sizes per cell (NCELLS of them; a guest without cells has one). */
static int read_pages(struct dc *c, int ncells)
{
	const struct np__domain *d = c->d;
	int *ids = NULL, n = 0, rc = 0;
	long kib = 0;

	for (int k = 0; k < ncells; k++)
		c->page[k] = d->hugepages_line ? NP_PAGESIZE_LARGE : NP_PAGESIZE_UNSET;
	for (int i = 0; i < d->npages && !rc; i++) {
		const struct np__dom_page *p = &d->pages[i];

		if ((rc = page_kib(c, p, &kib)))
			break;
		if (!p->nodeset) {
			for (int k = 0; k < ncells; k++)
				c->page[k] = kib;
			continue;
		}
		rc = id_set(c, p->line, "<page> nodeset", p->nodeset, ncells, "invalid_page_size",
			    &ids, &n);
		for (int j = 0; j < n && !rc; j++)
			c->page[ids[j]] = kib;
		free(ids);
		ids = NULL;
	}
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Are the N values of V all different?  (Sorts V.) */
static bool distinct(int64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	for (unsigned i = 1; i < n; i++)
		if (v[i] == v[i - 1])
			return false;
	return true;
}

/* Does the CPU set TEXT share a CPU with the N CPUs of CPU[]? */
static int shares(struct dc *c, int line, const char *text, const int64_t *cpu, unsigned n,
		  bool *yes)
{
	struct np__cpuspec cs = { 0 };
	int rc = spec(c, line, "<emulatorpin> cpuset", text, &cs);

	*yes = !rc && np__cpuspec_min_from(&cs, 0) < 0; /* an empty set isolates nothing */
	for (unsigned i = 0; !rc && i < n; i++)
		*yes |= np__cpuspec_has(&cs, cpu[i]);
	np__cpuspec_free(&cs);
	return rc;
}

/*
 * The pinning already there: dedicated when every vCPU has a vcpupin to
 * one CPU and no CPU serves two; emulator threads isolated when the
 * emulatorpin then names none of those CPUs.  Each set is looked at, not
 * enumerated, so "0-4194303" costs what "0" does.
 */
static int read_pins(struct dc *c)
{
	const struct np__domain *d = c->d;
	int64_t *cpu = np__calloc((size_t)c->vcpus, sizeof(int64_t)), one = -1;
	bool all = d->npins == (int)c->vcpus, shared = true;
	int rc = 0;
	long v;

	if (!cpu)
		return nomem(c);
	for (unsigned i = 0; i < c->vcpus; i++)
		cpu[i] = -1;
	for (int i = 0; i < d->npins && !rc; i++) {
		const struct np__dom_pin *p = &d->pins[i];

		if (!p->vcpu || !np__parse_int(p->vcpu, 0, (long)c->vcpus - 1, &v))
			rc = bad(c, p->line, NULL,
				 "<vcpupin vcpu='%.20s'>: the guest has vCPUs 0-%u",
				 p->vcpu ? p->vcpu : "", c->vcpus - 1);
		else if (!(rc = one_cpu(c, p->line, "<vcpupin> cpuset", p->cpuset, &one)))
			all &= one >= 0 && cpu[v] < 0;
		if (!rc && one >= 0)
			cpu[v] = one;
	}
	c->dedicated = all && !rc && distinct(cpu, c->vcpus);
	if (c->dedicated && d->emulatorpin.text)
		rc = shares(c, d->emulatorpin.line, d->emulatorpin.text, cpu, c->vcpus, &shared);
	c->isolate = c->dedicated && !shared;
	free(cpu);
	return rc;
}

static int read_mode(struct dc *c, enum np_mem_policy *out)
{
	static const struct {
		const char *name;
		enum np_mem_policy policy;
	} modes[] = { { "strict", NP_MEM_POLICY_STRICT },
		      { "restrictive", NP_MEM_POLICY_STRICT },
		      { "preferred", NP_MEM_POLICY_PREFERRED },
		      { "interleave", NP_MEM_POLICY_INTERLEAVE } };
	const struct np__dom_text *m = &c->d->mem_mode;

	*out = NP_MEM_POLICY_STRICT;
	for (size_t i = 0; m->text && i < NP__ARRAY_SIZE(modes); i++)
		if (strcmp(m->text, modes[i].name) == 0) {
			*out = modes[i].policy;
			return 0;
		}
	return m->text ? bad(c, m->line, NULL,
			     "<numatune><memory mode='%.20s'>: not strict, restrictive, "
			     "preferred or interleave",
			     m->text)
		       : 0;
}

/* One part of a PCI address: a number (libvirt: 0x hex, or decimal) up to MAX. */
static bool addr_part(const char *text, unsigned long max, unsigned long *out)
{
	char *end;

	if (!text || !*text || *text == '-' || *text == '+')
		return false;
	*out = strtoul(text, &end, 0);
	return *end == '\0' && *out <= max;
}

bool np__dom_dev_address(const struct np__dom_dev *dev, char *out, size_t size)
{
	unsigned long v[4];

	if (!addr_part(dev->domain ? dev->domain : "0", 0xffff, &v[0]) ||
	    !addr_part(dev->bus, 0xff, &v[1]) || !addr_part(dev->slot, 0x1f, &v[2]) ||
	    !addr_part(dev->function, 7, &v[3]))
		return false;
	snprintf(out, size, "%04lx:%02lx:%02lx.%lx", v[0], v[1], v[2], v[3]);
	return true;
}

static int add_devices(struct dc *c, np_request *r, enum np_pci_policy policy)
{
	for (int i = 0; i < c->d->ndevs; i++) {
		const struct np__dom_dev *d = &c->d->devs[i];
		struct np_pci_request q = { .count = 1, .policy = policy };

		if (!d->bus && !d->slot && !d->domain && !d->function)
			return bad(c, d->line, NULL, "a host PCI device without <source><address>");
		if (!np__dom_dev_address(d, q.address, sizeof(q.address)))
			return bad(c, d->line, NULL,
				   "<address domain='%.8s' bus='%.8s' slot='%.8s' function='%.8s'> "
				   "is not a PCI address",
				   d->domain ? d->domain : "", d->bus ? d->bus : "",
				   d->slot ? d->slot : "", d->function ? d->function : "");
		if (np__request_has_device(r, q.address))
			return bad(c, d->line, NULL, "PCI device %s is given twice", q.address);
		if (np__request_add_pci(r, &q))
			return nomem(c);
	}
	return 0;
}

/* ---- the request ----------------------------------------------------------- */

/* Guest cell K of the request from document cell AT (or, AT < 0, the whole guest). */
static int add_cell(struct dc *c, np_request *r, int k, int at)
{
	int *ids = NULL, n = 0, rc = 0;
	uint64_t mb = c->memory_mb;

	if (at >= 0) {
		const struct np__dom_cell *cell = &c->d->cells[at];
		char what[40];

		snprintf(what, sizeof(what), "<cell id='%d'> memory", k);
		rc = mib_of(c, cell->line, what, cell->memory, cell->unit, &mb);
		if (!rc)
			rc = cell_vcpus(c, at, &ids, &n);
	} else if (!(ids = np__calloc(c->vcpus, sizeof(int)))) {
		rc = nomem(c);
	} else {
		for (n = 0; n < (int)c->vcpus; n++)
			ids[n] = n;
	}
	if (!rc && np__request_add_cell(r, c->dedicated ? NULL : ids, c->dedicated ? 0 : n,
					c->dedicated ? ids : NULL, c->dedicated ? n : 0, mb,
					c->page[k], -1))
		rc = nomem(c);
	free(ids);
	return rc;
}

static int add_cells(struct dc *c, np_request *r)
{
	int ncells = c->d->ncells, *at = np__calloc((size_t)ncells + 1, sizeof(int)), rc;
	uint64_t sum = 0;

	if (!at)
		return nomem(c);
	rc = cell_order(c, at);
	for (int k = 0; k < (ncells ? ncells : 1) && !rc; k++)
		rc = add_cell(c, r, k, ncells ? at[k] : -1);
	for (int k = 0; k < r->ncells && !rc; k++)
		sum += r->cells[k].memory_mb;
	for (unsigned v = 0; v < c->vcpus && !rc && ncells; v++)
		if (c->owner[v] < 0)
			rc = bad(c, c->d->cells[0].line, "numa_cpu_unassigned",
				 "<numa>: vCPU %u is in no cell", v);
	if (!rc && sum > NP_MEMORY_MB_MAX)
		rc = bad(c, c->d->cells[0].line, NULL, "<numa>: the cells hold more than %llu MiB",
			 (unsigned long long)NP_MEMORY_MB_MAX);
	r->memory_mb = sum; /* libvirt: the cells' sum is the guest's memory */
	free(at);
	return rc;
}

static int build(struct dc *c, enum np_pci_policy policy, np_request **out)
{
	const struct np__domain *d = c->d;
	np_request *r;
	int rc;

	if (!d->ncells && !d->memory.text)
		return bad(c, 0, NULL,
			   "no <memory> and no <cpu><numa> cells: the guest has no size");
	if (d->memory.text && (rc = mib_of(c, d->memory.line, "<memory>", d->memory.text,
					   d->unit.text, &c->memory_mb)))
		return rc;
	if ((rc = read_pins(c)) || (rc = read_pages(c, d->ncells ? d->ncells : 1)))
		return rc;
	if (!(r = np__request_new(c->vcpus, c->memory_mb)))
		return nomem(c);
	r->cpu_policy = c->dedicated ? NP_CPU_POLICY_DEDICATED : NP_CPU_POLICY_NONE;
	r->emulator_policy = c->isolate ? NP_EMULATOR_POLICY_ISOLATE : NP_EMULATOR_POLICY_NONE;
	r->numa = d->ncells > 0 || d->hugepages_line > 0 || c->dedicated;
	if ((rc = read_mode(c, &r->mem_policy)) || (rc = add_cells(c, r)) ||
	    (rc = add_devices(c, r, policy)) || (rc = np__request_check(r, c->err))) {
		np_request_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* The document through the xml module, whose libxml2 reads it (domain-xml.c). */
static int read_doc(const char *buf, size_t len, const char *name, struct np__domain *d,
		    struct np_error *err)
{
	const struct np__module *m;
	int rc = np__module_get("xml", &m, err);

	if (rc)
		return rc;
	return ((const struct np__mod_xml *)m->ops)->domain_read(buf, len, name, d, err);
}

int np_request_from_domain_xml(const char *buf, size_t len, const char *name,
			       enum np_pci_policy device_policy, np_request **out,
			       struct np_error *err)
{
	struct np__domain d = { 0 };
	struct dc c = { .name = name ? name : "domain", .d = &d, .err = err };
	int rc;

	if (!buf)
		return np__err(err, NP_EINPUT, "%s: no document", c.name);
	if ((unsigned)device_policy > NP_PCI_POLICY_SOCKET)
		return np__err(err, NP_EINPUT, "%s: unknown PCI policy %d", c.name,
			       (int)device_policy);
	rc = read_doc(buf, len, c.name, &d, err);
	if (!rc)
		rc = read_vcpu(&c);
	if (!rc && (!(c.owner = np__calloc(c.vcpus, sizeof(int))) ||
		    !(c.page = np__calloc((size_t)d.ncells + 1, sizeof(long)))))
		rc = nomem(&c);
	for (unsigned v = 0; !rc && v < c.vcpus; v++)
		c.owner[v] = -1;
	if (!rc)
		rc = build(&c, device_policy, out);
	free(c.owner);
	free(c.page);
	np__domain_clear(&d);
	return rc;
}
