/*
 * test-doc.c - whole guest documents (include/numaplace/doc.h): libvirt
 * domain XML and xl.cfg read for a request and written back with a plan.
 *
 * 1. The domain samples of tests/data/libvirt/ (README.md there says
 *    where their shapes come from) read into the requests they make, and
 *    hostile documents refused with one line naming the line.
 * 2. Merges on the host tests/data/json/pci-4node.json: the plan is in the
 *    document (every vcpupin, the numatune); everything else is the same
 *    tree (compared node by node with libxml2, whitespace aside); the
 *    merged document reads back into the request it came from; merging
 *    it again changes no byte; with a flavor, the size follows it.
 * 3. The xl.cfg parser against what Xen's parser was seen to accept and
 *    refuse (the cases were run through libxlutil's xlu_cfg_readdata; the
 *    CLI test runs Xen's parser itself); the xl.cfg requests; merges that
 *    keep every other byte and are idempotent.
 * Every plan is validated; np__request_check runs on every request.
 */
#include <stdint.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <numaplace/numaplace.h>

#include "check.h"
#include "request/request-int.h"
#include "request/xl-cfg.h"

static const char *libvirt_dir, *xl_dir;
static np_topo *topo;
static np_host *host;

static char *slurp(const char *dir, const char *name, size_t *len)
{
	struct np_error err = { 0 };
	char path[1200], *buf = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(np_read_file(path, 0, &buf, len, &err) == 0, "read %s: %s", path, err.message);
	return buf;
}

static np_request *domain_req(const char *text, size_t len, struct np_error *err)
{
	np_request *r = NULL;
	int rc = np_request_from_domain_xml(text, len, "dom.xml", NP_PCI_POLICY_PREFERRED, &r, err);

	CHECK((rc == 0) == (r != NULL), "output only on success (rc %d)", rc);
	if (r)
		CHECK(np__request_check(r, err) == 0, "request invariants: %s", err->message);
	return r;
}

static np_request *domain_file(const char *name)
{
	struct np_error err = { 0 };
	size_t len = 0;
	char *buf = slurp(libvirt_dir, name, &len);
	np_request *r = buf ? domain_req(buf, len, &err) : NULL;

	CHECK(r, "%s: %s", name, err.message);
	free(buf);
	return r;
}

static bool cell_is(const np_request *r, int i, const char *vcpus, const char *pcpus,
		    uint64_t mb, long page)
{
	const struct np_guest_cell *c = np_request_cell(r, i);
	char v[64], p[64];

	if (!c)
		return false;
	np_cpulist_format(c->vcpus, c->nvcpus, v, sizeof(v));
	np_cpulist_format(c->pcpus, c->npcpus, p, sizeof(p));
	return strcmp(v, vcpus) == 0 && strcmp(p, pcpus) == 0 && c->memory_mb == mb &&
	       c->pagesize == page;
}

/* ---- domain XML read -------------------------------------------------------- */

static void domain_samples(void)
{
	np_request *r;

	r = domain_file("domain-test.xml");
	CHECK(r && np_request_vcpus(r) == 2 && np_request_memory_mb(r) == 8192 &&
		      !np_request_has_numa(r) && cell_is(r, 0, "0-1", "", 8192, NP_PAGESIZE_UNSET),
	      "test driver's domain: 2 floating vCPUs, 8 GiB, no NUMA");
	np_request_free(r);
	r = domain_file("domain-virt-install.xml");
	CHECK(r && np_request_vcpus(r) == 4 && np_request_memory_mb(r) == 8192 &&
		      np_request_cpu_policy(r) == NP_CPU_POLICY_NONE &&
		      np_request_pci_count(r) == 0,
	      "virt-install's guest: 4 vCPUs, 8 GiB; its emulated devices are no host devices");
	np_request_free(r);
	r = domain_file("domain-numa.xml");
	CHECK(r && np_request_has_numa(r) && np_request_cell_count(r) == 2 &&
		      cell_is(r, 0, "0-1", "", 512, 2048) && cell_is(r, 1, "2-3", "", 512, 2048) &&
		      np_request_mem_policy(r) == NP_MEM_POLICY_STRICT,
	      "two cells of 512 MiB on 2 MiB pages; the old vcpupins (0-3) are not dedicated");
	np_request_free(r);
	r = domain_file("domain-dedicated.xml");
	CHECK(r && np_request_cpu_policy(r) == NP_CPU_POLICY_DEDICATED &&
		      np_request_emulator_policy(r) == NP_EMULATOR_POLICY_ISOLATE &&
		      cell_is(r, 0, "", "0-3", 4096, NP_PAGESIZE_UNSET),
	      "Nova's dedicated guest: one CPU per vCPU, emulator on a CPU of its own");
	np_request_free(r);
	r = domain_file("domain-hostdev.xml");
	CHECK(r && np_request_memory_mb(r) == 16384 && np_request_pci_count(r) == 2 &&
		      strcmp(np_request_pci(r, 0)->address, "0000:3b:00.0") == 0 &&
		      strcmp(np_request_pci(r, 1)->address, "0000:3b:00.1") == 0 &&
		      np_request_pci(r, 0)->policy == NP_PCI_POLICY_PREFERRED &&
		      np_request_pci(r, 0)->count == 1,
	      "memory in GiB; both functions of the GPU asked for by address");
	np_request_free(r);
	r = domain_file("domain-sriov.xml");
	CHECK(r && np_request_memory_mb(r) == 2048 && np_request_pci_count(r) == 1 &&
		      strcmp(np_request_pci(r, 0)->address, "0000:86:00.0") == 0,
	      "an <interface type='hostdev'> is a host device too");
	np_request_free(r);
}

/* A domain of BODY (children of <domain>) read; NULL when refused (ERR). */
static np_request *body(const char *text, struct np_error *err)
{
	char doc[4096];

	snprintf(doc, sizeof(doc), "<domain type='kvm'><name>t</name>%s</domain>", text);
	*err = (struct np_error){ 0 };
	return domain_req(doc, strlen(doc), err);
}

static void domain_shapes(void)
{
	struct np_error err;
	np_request *r;

	r = body("<memory unit='G'>2</memory>", &err);
	CHECK(r && np_request_vcpus(r) == 1 && np_request_memory_mb(r) == 2048,
	      "no <vcpu>: one, as libvirt; G is GiB (%s)", err.message);
	np_request_free(r);
	r = body("<memory unit='KB'>1000001</memory><vcpu>3</vcpu>", &err);
	CHECK(r && np_request_memory_mb(r) == 954, "1000001 kB: 976563 KiB, 954 MiB rounded up");
	np_request_free(r);
	r = body("<vcpu current='2'> 6 </vcpu><cpu><numa>"
		 "<cell id='1' cpus='3-5' memory='1' unit='GiB'/>"
		 "<cell id='0' cpus='0-3,^3' memory='1024' unit='MiB'/></numa></cpu>"
		 "<memoryBacking><hugepages/></memoryBacking>"
		 "<numatune><memory mode='preferred' nodeset='0'/></numatune>",
		 &err);
	CHECK(r && np_request_vcpus(r) == 6 && np_request_memory_mb(r) == 2048 &&
		      cell_is(r, 0, "0-2", "", 1024, NP_PAGESIZE_LARGE) &&
		      cell_is(r, 1, "3-5", "", 1024, NP_PAGESIZE_LARGE) &&
		      np_request_mem_policy(r) == NP_MEM_POLICY_PREFERRED,
	      "cells in any order, ^ in CPU sets, <hugepages/> alone: any large page, "
	      "memory = the cells' sum, preferred kept (%s)", err.message);
	np_request_free(r);
	r = body("<vcpu>2</vcpu><memory>4194304</memory><memoryBacking><hugepages>"
		 "<page size='1' unit='G'/></hugepages></memoryBacking>"
		 "<numatune><memory mode='restrictive'/></numatune>",
		 &err);
	CHECK(r && np_request_has_numa(r) && cell_is(r, 0, "0-1", "", 4096, 1048576) &&
		      np_request_mem_policy(r) == NP_MEM_POLICY_STRICT,
	      "huge pages make a NUMA guest (Nova's rule); restrictive is strict");
	np_request_free(r);
	r = body("<vcpu>2</vcpu><memory>1048576</memory><cputune><vcpupin vcpu='0' cpuset='3'/>"
		 "<vcpupin vcpu='1' cpuset='3'/></cputune><devices><hostdev mode='subsystem' "
		 "type='pci'><source><address domain='0' bus='59' slot='0x1' function='2'/>"
		 "</source></hostdev><hostdev mode='subsystem' type='usb'/></devices>",
		 &err);
	CHECK(r && np_request_cpu_policy(r) == NP_CPU_POLICY_NONE && np_request_pci_count(r) == 1 &&
		      strcmp(np_request_pci(r, 0)->address, "0000:3b:01.2") == 0,
	      "two vCPUs on one CPU are not dedicated; decimal address parts; USB skipped (%s)",
	      err.message);
	np_request_free(r);
	r = body("<vcpu>2</vcpu><memory>1048576</memory><cputune><vcpupin vcpu='0' cpuset='3'/>"
		 "<vcpupin vcpu='1' cpuset='4'/><emulatorpin cpuset='3-4'/></cputune>",
		 &err);
	CHECK(r && np_request_cpu_policy(r) == NP_CPU_POLICY_DEDICATED &&
		      np_request_emulator_policy(r) == NP_EMULATOR_POLICY_NONE,
	      "dedicated, the emulator sharing their CPUs: not isolated");
	np_request_free(r);
}

static const struct {
	const char *body; /* children of <domain>, or a whole document when it starts with '<?' */
	const char *says;
} BAD_DOMAINS[] = {
	{ "<?xml version='1.0'?>\n<domain><vcpu>2</vcpu>\n<memory>1</memory", "line 3: " },
	{ "<?xml version='1.0'?><capabilities/>", "root element is <capabilities>" },
	{ "<memory>1024</memory><numatune/><numatune/>", "a second <numatune> in <domain>" },
	{ "<memory>1024</memory><vcpu>1</vcpu><vcpu>2</vcpu>", "a second <vcpu>" },
	{ "<memory>1024</memory><memoryBacking><hugepages/><hugepages/></memoryBacking>",
	  "a second <hugepages>" },
	{ "<memory>1024</memory><vcpu>0</vcpu>", "<vcpu> '0' is not a vCPU count" },
	{ "<memory>1024</memory><vcpu>70000</vcpu>", "from 1 to 65536" },
	{ "<memory>1024</memory><vcpu>2x</vcpu>", "<vcpu> '2x'" },
	{ "<vcpu>2</vcpu>", "no <memory>" },
	{ "<memory>0</memory>", "0 MiB is not from 1 MiB" },
	{ "<memory unit='parsec'>1</memory>", "'1 parsec' is not a size" },
	{ "<memory unit='EiB'>9</memory>", "is not from 1 MiB" },
	{ "<memory>99999999999999999999999</memory>", "is not a size" },
	{ "<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0' memory='1024'/>"
	  "<cell id='2' cpus='1' memory='1024'/></numa></cpu>",
	  "cell ids are 0 to 1" },
	{ "<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0' memory='1024'/>"
	  "<cell id='0' cpus='1' memory='1024'/></numa></cpu>",
	  "a second <cell id='0'>" },
	{ "<vcpu>4</vcpu><cpu><numa><cell id='0' cpus='0-9' memory='1024'/></numa></cpu>",
	  "names 4, beyond 3 (numa_cpu_out_of_range)" },
	{ "<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='1024'/>"
	  "<cell id='1' cpus='1' memory='1024'/></numa></cpu>",
	  "vCPU 1 is in another cell too (numa_cpu_duplicate)" },
	{ "<vcpu>3</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='1024'/></numa></cpu>",
	  "vCPU 2 is in no cell (numa_cpu_unassigned)" },
	{ "<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-1'/></numa></cpu>",
	  "<cell id='0'> memory has no size" },
	{ "<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-x' memory='1'/></numa></cpu>",
	  "'0-x' is not a CPU set" },
	{ "<memory>1048576</memory><memoryBacking><hugepages><page size='0'/></hugepages>"
	  "</memoryBacking>",
	  "(invalid_page_size)" },
	{ "<memory>1048576</memory><memoryBacking><hugepages><page size='2048' nodeset='1'/>"
	  "</hugepages></memoryBacking>",
	  "<page> nodeset names 1, beyond 0" },
	{ "<memory>1048576</memory><vcpu>2</vcpu><cputune><vcpupin vcpu='2' cpuset='1'/></cputune>",
	  "<vcpupin vcpu='2'>: the guest has vCPUs 0-1" },
	{ "<memory>1048576</memory><cputune><vcpupin vcpu='0' cpuset='a'/></cputune>",
	  "<vcpupin> cpuset: 'a' is not a CPU set" },
	{ "<memory>1048576</memory><numatune><memory mode='bind'/></numatune>",
	  "mode='bind'>: not strict" },
	{ "<memory>1048576</memory><devices><hostdev type='pci'/></devices>",
	  "a host PCI device without <source><address>" },
	{ "<memory>1048576</memory><devices><hostdev type='pci'><source><address domain='0' "
	  "bus='0x100' slot='0' function='0'/></source></hostdev></devices>",
	  "bus='0x100'" },
	{ "<memory>1048576</memory><devices><hostdev type='pci'><source><address bus='1' "
	  "slot='0' function='0'/></source></hostdev><interface type='hostdev'><source>"
	  "<address type='pci' bus='0x01' slot='0' function='0'/></source></interface>"
	  "</devices>",
	  "PCI device 0000:01:00.0 is given twice" },
};

static void domain_bad(void)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(BAD_DOMAINS); i++) {
		const char *b = BAD_DOMAINS[i].body;
		struct np_error err = { 0 };
		np_request *r;

		if (strncmp(b, "<?", 2) == 0)
			r = domain_req(b, strlen(b), &err);
		else
			r = body(b, &err);
		CHECK(!r && err.code == NP_EINPUT && strstr(err.message, BAD_DOMAINS[i].says) &&
			      strncmp(err.message, "dom.xml: ", 9) == 0 &&
			      !strchr(err.message, '\n'),
		      "bad domain %zu: want '%s', got '%s'", i, BAD_DOMAINS[i].says, err.message);
		np_request_free(r);
	}
}

/* ---- domain XML merged ------------------------------------------------------ */

/* PLAN of REQ on the test host, validated. */
static np_plan *place_valid(const np_request *req)
{
	struct np_error err = { 0 };
	np_plan *p = NULL;

	CHECK(np_place(host, req, NULL, &p, &err) == 0 && p, "place: %s", err.message);
	if (p && np_plan_fits(p))
		CHECK(np_plan_validate(host, req, p, &err) == 0, "validate: %s", err.message);
	return p;
}

/* The merge into a malloc'ed string; NULL when refused (ERR). */
static char *merged(const np_plan *p, const np_request *req, const char *doc, size_t len,
		    bool xl, struct np_error *err)
{
	char *out = NULL;
	size_t olen = 0;
	FILE *f = open_memstream(&out, &olen);
	int rc = xl ? np_plan_merge_xl_config(p, host, req, doc, len, "doc", f, err)
		    : np_plan_merge_domain_xml(p, host, req, doc, len, "doc", f, err);

	fclose(f);
	CHECK(rc != 0 || olen > 0, "a merge writes something");
	CHECK(rc == 0 || olen == 0, "a refused merge writes nothing (%zu bytes)", olen);
	if (rc) {
		free(out);
		return NULL;
	}
	return out;
}

/* The CPU list vCPU V may use in PLAN, or "" for none (soft affinity, floating freely). */
static void vcpu_cpus(const np_plan *p, int v, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; i < np_plan_cell_count(p); i++) {
		const struct np_plan_cell *c = np_plan_cell(p, i);

		for (int k = 0; k < c->npins; k++)
			if (c->pins[k].vcpu == v)
				snprintf(buf, size, "%d", c->pins[k].pcpu);
		for (int k = 0; k < c->nfloat; k++)
			if (c->float_vcpus[k] == v)
				np_cpulist_format(c->cpuset, c->ncpuset, buf, size);
	}
}

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Drop from ROOT's children what a merge may change; blank text everywhere. */
static void strip(xmlNode *n, bool root)
{
	static const char *const changed[] = { "vcpu", "vcpus", "cputune", "numatune", "memory",
					       "currentMemory", "memoryBacking" };
	xmlNode *next;

	for (xmlNode *c = n->children; c; c = next) {
		bool gone = c->type == XML_TEXT_NODE && xmlIsBlankNode(c);

		next = c->next;
		for (size_t i = 0; root && !gone && i < NP__ARRAY_SIZE(changed); i++)
			gone = is(c, changed[i]);
		gone |= !root && is(n, "cpu") && is(c, "numa");
		if (gone) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else {
			strip(c, false);
		}
	}
}

/* A and B the same tree, the merged parts and whitespace aside. */
static bool same_rest(const char *a, const char *b)
{
	xmlDoc *x = xmlReadMemory(a, (int)strlen(a), NULL, NULL, XML_PARSE_NONET);
	xmlDoc *y = xmlReadMemory(b, (int)strlen(b), NULL, NULL, XML_PARSE_NONET);
	xmlChar *sx = NULL, *sy = NULL;
	int nx = 0, ny = 0;
	bool same;

	if (!x || !y) {
		xmlFreeDoc(x);
		xmlFreeDoc(y);
		return false;
	}
	strip(xmlDocGetRootElement(x), true);
	strip(xmlDocGetRootElement(y), true);
	xmlDocDumpMemory(x, &sx, &nx);
	xmlDocDumpMemory(y, &sy, &ny);
	same = nx == ny && memcmp(sx, sy, (size_t)nx) == 0;
	xmlFree(sx);
	xmlFree(sy);
	xmlFreeDoc(x);
	xmlFreeDoc(y);
	return same;
}

static bool same_shape(const np_request *a, const np_request *b)
{
	if (np_request_vcpus(a) != np_request_vcpus(b) ||
	    np_request_memory_mb(a) != np_request_memory_mb(b) ||
	    np_request_cell_count(a) != np_request_cell_count(b) ||
	    np_request_cpu_policy(a) != np_request_cpu_policy(b) ||
	    np_request_emulator_policy(a) != np_request_emulator_policy(b) ||
	    np_request_pci_count(a) != np_request_pci_count(b) ||
	    np_request_mem_policy(a) != np_request_mem_policy(b))
		return false;
	for (int i = 0; i < np_request_cell_count(a); i++) {
		const struct np_guest_cell *x = np_request_cell(a, i), *y = np_request_cell(b, i);

		if (x->nvcpus != y->nvcpus || x->npcpus != y->npcpus ||
		    x->memory_mb != y->memory_mb ||
		    (x->pagesize != y->pagesize && x->pagesize != NP_PAGESIZE_LARGE))
			return false;
	}
	for (int i = 0; i < np_request_pci_count(a); i++)
		if (strcmp(np_request_pci(a, i)->address, np_request_pci(b, i)->address))
			return false;
	return true;
}

/* Merge sample NAME with its own request; the checks of the file's comment. */
static void merge_one(const char *name)
{
	struct np_error err = { 0 };
	size_t len = 0;
	char *doc = slurp(libvirt_dir, name, &len), *out = NULL, *again = NULL, want[160];
	np_request *req = doc ? domain_req(doc, len, &err) : NULL, *back = NULL;
	np_plan *p = req ? place_valid(req) : NULL;

	if (p && np_plan_fits(p))
		out = merged(p, req, doc, len, false, &err);
	CHECK(out, "%s: merged (%s)", name, err.message);
	for (unsigned v = 0; out && v < np_request_vcpus(req); v++) {
		char cpus[128];

		vcpu_cpus(p, (int)v, cpus, sizeof(cpus));
		snprintf(want, sizeof(want), "<vcpupin vcpu=\"%u\" cpuset=\"%s\"/>", v, cpus);
		CHECK(strstr(out, want), "%s: %s is in the merged domain", name, want);
	}
	CHECK(out && strstr(out, "<numatune>") && strstr(out, "<vcpu placement=\"static\">"),
	      "%s: numatune and vcpu", name);
	CHECK(out && same_rest(doc, out), "%s: everything else is the same tree", name);
	if (out) {
		back = domain_req(out, strlen(out), &err);
		CHECK(back && same_shape(req, back),
		      "%s: the merged domain asks for the same guest", name);
		again = merged(p, req, out, strlen(out), false, &err);
		CHECK(again && strcmp(again, out) == 0, "%s: merging again changes nothing", name);
	}
	free(again);
	np_request_free(back);
	free(out);
	np_plan_free(p);
	np_request_free(req);
	free(doc);
}

static void domain_merge(void)
{
	static const char *const samples[] = { "domain-test.xml",      "domain-virt-install.xml",
					       "domain-numa.xml",      "domain-dedicated.xml",
					       "domain-hostdev.xml",   "domain-sriov.xml" };

	for (size_t i = 0; i < NP__ARRAY_SIZE(samples); i++)
		merge_one(samples[i]);
}

/* A flavor's plan merged into the domain NAME. */
static char *flavor_into(const char *name, const char *flavor, np_plan **pp, np_request **rp)
{
	struct np_error err = { 0 };
	size_t len = 0;
	char *doc = slurp(libvirt_dir, name, &len), *out = NULL;

	*rp = NULL;
	*pp = NULL;
	CHECK(np_request_from_flavor_text(flavor, NULL, rp, &err) == 0, "%s", err.message);
	if (*rp && (*pp = place_valid(*rp)) && np_plan_fits(*pp))
		out = merged(*pp, *rp, doc, len, false, &err);
	CHECK(out, "%s + %s: %s", name, flavor, err.message);
	free(doc);
	return out;
}

static void domain_flavor(void)
{
	np_request *r;
	np_plan *p;
	char *out = flavor_into("domain-dedicated.xml", "vcpus=6,ram=2048,hw:numa_nodes=2", &p, &r);

	CHECK(out && strstr(out, "<vcpu placement=\"static\">6</vcpu>") &&
		      strstr(out, "<memory unit=\"KiB\">2097152</memory>") &&
		      strstr(out, "<currentMemory unit=\"KiB\">2097152</currentMemory>") &&
		      !strstr(out, "<topology") && strstr(out, "<cell id=\"1\" cpus=\"3-5\""),
	      "the flavor's size: 6 vCPUs, 2 GiB, two cells; the 4-vCPU topology dropped");
	free(out);
	np_plan_free(p);
	np_request_free(r);
	out = flavor_into("domain-numa.xml", "vcpus=4,ram=1024,hw:numa_nodes=2", &p, &r);
	CHECK(out && strstr(out, "memAccess=\"shared\"") && !strstr(out, "<hugepages>") &&
		      strstr(out, "<locked/>") && strstr(out, "<topology"),
	      "cells keep memAccess; hugepages gone with the flavor, <locked/> kept; the "
	      "topology of the same count kept");
	free(out);
	np_plan_free(p);
	np_request_free(r);
	out = flavor_into("domain-numa.xml", "vcpus=4,ram=1024", &p, &r);
	CHECK(out && !strstr(out, "<numa>") && strstr(out, "<cpu mode=\"host-passthrough\"") &&
		      !strstr(out, "memnode"),
	      "a flavor without NUMA: no <numa>, no memnode; <cpu> stays");
	free(out);
	np_plan_free(p);
	np_request_free(r);
	out = flavor_into("domain-virt-install.xml", "vcpus=2,ram=1024,hw:numa_nodes=1", &p, &r);
	CHECK(out &&
		      strstr(out, "<cpu mode=\"host-passthrough\" check=\"none\" "
				  "migratable=\"on\">") &&
		      strstr(out, "<numa>"),
	      "an empty <cpu/> gets its <numa>");
	free(out);
	np_plan_free(p);
	np_request_free(r);
}

static void domain_refusals(void)
{
	struct np_error err = { 0 };
	np_request *r = NULL;
	np_plan *p;
	static const char two[] = "<domain><memory>1024</memory><numatune/><numatune/></domain>";
	char *out;

	np_request_from_flavor_text("vcpus=2,ram=1024", NULL, &r, &err);
	p = place_valid(r);
	out = merged(p, r, two, sizeof(two) - 1, false, &err);
	CHECK(!out && err.code == NP_EINPUT && strstr(err.message, "a second <numatune>"),
	      "with a flavor too, a document with two <numatune> is refused (%s)", err.message);
	out = merged(p, r, "<domain", 7, false, &err);
	CHECK(!out && err.code == NP_EINPUT && strstr(err.message, "doc: line 1: "),
	      "a broken document: its line (%s)", err.message);
	np_plan_free(p);
	np_request_free(r);
	r = NULL;
	np_request_from_flavor_text("vcpus=2,ram=999999", NULL, &r, &err);
	p = place_valid(r);
	CHECK(p && !np_plan_fits(p), "does not fit");
	out = p ? merged(p, r, two, sizeof(two) - 1, false, &err) : NULL;
	CHECK(!out && err.code == NP_EINPUT && strstr(err.message, "does not fit"),
	      "a plan that does not fit: nothing merged (%s)", err.message);
	np_plan_free(p);
	np_request_free(r);
}

/*
 * Text that is not indentation before a replaced element (found by
 * fuzz-domain-xml): the merge put one more indentation after it each
 * time, so merging again changed the document.
 */
static void domain_stray_text(void)
{
	static const char doc[] = "<domain>\n  <memory>1048576</memory>\n  <vcpu>2</vcpu>\n"
				  "  <cputune>\n    <vcpupin vcpu='0' cpuset='1'/>\n; "
				  "<emulatorpin cpuset='0'/>\n; </cputune>\n  <numatune>x\n"
				  "    <memory mode='strict' nodeset='0'/>\n  </numatune>\n</domain>\n";
	struct np_error err = { 0 };
	np_request *r = domain_req(doc, sizeof(doc) - 1, &err);
	np_plan *p = r ? place_valid(r) : NULL;
	char *once = p ? merged(p, r, doc, sizeof(doc) - 1, false, &err) : NULL;
	char *twice = once ? merged(p, r, once, strlen(once), false, &err) : NULL;
	char *thrice = twice ? merged(p, r, twice, strlen(twice), false, &err) : NULL;

	CHECK(once && strstr(once, "\n; \n    <vcpupin vcpu=\"0\""),
	      "the stray text stays, the plan's pins on their own lines (%s)",
	      once ? once : err.message);
	CHECK(twice && strcmp(once, twice) == 0, "merging again changes nothing:\n%s\n%s", once,
	      twice ? twice : err.message);
	CHECK(thrice && strcmp(twice, thrice) == 0, "nor a third time");
	free(thrice);
	free(twice);
	free(once);
	np_plan_free(p);
	np_request_free(r);
}

/* ---- xl.cfg ------------------------------------------------------------------- */

/*
 * What Xen 4.17's libxlutil (xlu_cfg_readdata) answered for each text: 1
 * read, 0 refused.  numaplace must agree, so it never writes back a file
 * xl cannot read.
 */
static const struct {
	const char *text;
	bool xl_reads;
} XL_SYNTAX[] = {
	{ "a.b.c = 1\n", true },
	{ "x_y = 1\n", true },
	{ "z = [ 1,\n 2,\n ]\n", true },
	{ "last = \"q\"", true },
	{ "a = 1; b = 2\n", true },
	{ "a = 1\n\n   \n# only\n", true },
	{ "a = \"x\\\"y\"\n", true },
	{ "a = 'x\\ny'\n", true },
	{ "a = \"x\\101y\"\n", true },
	{ "a = 1\na += 2\n", true },
	{ "a = [1]\na += [2]\n", true },
	{ "a += [1]\n", true },
	{ "a = [\n]\n", true },
	{ "a = [[1,2],[3]]\n", true },
	{ "a = 08\n", true },
	{ "a = 1x\n", true },
	{ "a = 0x10 # c\n", true },
	{ "a\t=\t1 ;; b = 2\n", true },
	{ "a = [ 1, # c\n 2 ]\n", true },
	{ "a = [ 1\n, 2 ]\n", true },
	{ "a = [\n\n1\n\n]\n", true },
	{ "a = \"\xc3\xa9\"\n", true },
	{ "Vcpus=4\n", false },
	{ "_a = 1\n", false },
	{ "a-b = 1\n", false },
	{ "a =\n 1\n", false },
	{ "a = -1\n", false },
	{ "a = 1.5\n", false },
	{ "a = \"x\" \"y\"\n", false },
	{ "a = 1 b = 2\n", false },
	{ "a = 1g\n", false },
	{ "a = 0X1\n", false },
	{ "a = 1\r\n", false },
	{ "a = [ , ]\n", false },
	{ "a = [ 1 2 ]\n", false },
	{ "a = \"x\ny\"\n", false },
	{ "a = \"x\\qy\"\n", false },
	{ "a = \"x\\x41y\"\n", false },
	{ "a = \"x\\0y\"\n", false },
	{ "a = \"x\"\na += [1]\n", false },
	{ "a = [1]\na += \"x\"\n", false },
	{ "\xef\xbb\xbf" "a = 1\n", false },
};

static void xl_syntax(void)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(XL_SYNTAX); i++) {
		struct np__xlcfg c = { 0 };
		struct np_error err = { 0 };
		const char *t = XL_SYNTAX[i].text;
		int rc = np__xlcfg_parse(t, strlen(t), "x.cfg", &c, &err);

		CHECK((rc == 0) == XL_SYNTAX[i].xl_reads,
		      "xl.cfg case %zu: numaplace %s, xl %s: %s", i, rc ? "refuses" : "reads",
		      XL_SYNTAX[i].xl_reads ? "reads" : "refuses", err.message);
		CHECK(rc == 0 || (strncmp(err.message, "x.cfg: line ", 12) == 0 &&
				  !strchr(err.message, '\n')),
		      "case %zu: one line with the line number: %s", i, err.message);
		np__xlcfg_free(&c);
	}
}

static np_request *xl_req(const char *text, size_t len, struct np_error *err)
{
	np_request *r = NULL;
	int rc = np_request_from_xl_config(text, len, "x.cfg", NP_PCI_POLICY_REQUIRED, &r, err);

	CHECK((rc == 0) == (r != NULL), "output only on success");
	return r;
}

static const char PCI_FORMS[] = "memory=0x400\nvcpus='3'\npci=['3b:0.1@4,seize=1', "
				"'rdm_policy=relaxed,bdf=0001:02:1f.7']\n";

static void xl_requests(void)
{
	struct np_error err = { 0 };
	size_t len = 0;
	char *buf = slurp(xl_dir, "guest-hvm.cfg", &len);
	np_request *r = buf ? xl_req(buf, len, &err) : NULL;

	CHECK(r && np_request_vcpus(r) == 8 && np_request_memory_mb(r) == 8192 &&
		      np_request_cell_count(r) == 2 && np_request_cell_pinned_node(r, 1) == 1 &&
		      np_request_affinity(r) == NP_AFFINITY_HARD && np_request_pci_count(r) == 1 &&
		      strcmp(np_request_pci(r, 0)->address, "0000:18:00.1") == 0 &&
		      np_request_pci(r, 0)->policy == NP_PCI_POLICY_REQUIRED,
	      "maxvcpus 8, maxmem 8192, vnuma's two cells, cpus= keeps hard affinity, pci (%s)",
	      err.message);
	np_request_free(r);
	free(buf);
	buf = slurp(xl_dir, "guest-pv.cfg", &len);
	r = buf ? xl_req(buf, len, &err) : NULL;
	CHECK(r && np_request_vcpus(r) == 2 && !np_request_has_numa(r) &&
		      np_request_affinity(r) == NP_AFFINITY_SOFT,
	      "cpus_soft= alone: soft affinity kept (%s)", err.message);
	np_request_free(r);
	free(buf);
	r = xl_req(PCI_FORMS, sizeof(PCI_FORMS) - 1, &err);
	CHECK(r && np_request_memory_mb(r) == 1024 && np_request_vcpus(r) == 3 &&
		      np_request_pci_count(r) == 2 &&
		      strcmp(np_request_pci(r, 0)->address, "0000:3b:00.1") == 0 &&
		      strcmp(np_request_pci(r, 1)->address, "0001:02:1f.7") == 0,
	      "numbers as strtol reads them (0x400), short BDFs, @vslot, bdf= (%s)", err.message);
	np_request_free(r);
}

static const struct {
	const char *text, *says;
} BAD_XL[] = {
	{ "vcpus = 2\n", "no memory=" },
	{ "memory = 1024\nvcpus = 0\n", "vcpus=0 is not from 1 to 65536" },
	{ "memory = 1024\nvcpus = 4\nmaxvcpus = 2\n", "maxvcpus=2 is not from 4" },
	{ "memory = 1024\nmaxmem = 512\n", "maxmem=512 is not from 1024" },
	{ "memory = \"lots\"\n", "line 1: memory= 'lots' is not a number" },
	/* A quoted line break stays out of the one-line message (fuzz-xl-config). */
	{ "memory = 1024\nvcpus = \"4\\n5\"\n", "line 2: vcpus= '4?5' is not a number" },
	{ "memory = [1]\n", "memory= is not a number" },
	{ "memory = 99999999999999999999\n", "is not a number" },
	{ "memory = 1024\n"
	  "vnuma = [ [ \"pnode=0\", \"size=512\", \"vcpus=0\", \"vdistances=10\" ] ]\n",
	  "line 2: vnuma: vnode sizes add up to 512 MiB" },
	{ "memory = 1024\nvnuma = [ ]\nvnuma += [ [ ] ]\n", "vnuma +=" },
	{ "memory = 1024\npci = '0000:18:00.0'\n", "pci= is not a list" },
	{ "memory = 1024\npci = [ 'name=gpu0' ]\n", "name= are not supported" },
	{ "memory = 1024\npci = [ '18:00.*' ]\n", "has no BDF numaplace reads" },
	{ "memory = 1024\npci = [ '18:20.0' ]\n", "has no BDF" },
	{ "memory = 1024\npci = [ '18:00.0', '0000:18:00.0,permissive=1' ]\n", "given twice" },
	{ "memory = 1024\npci = [ \"18:00.0\\101\" ]\n", "an escape numaplace does not read" },
};

static void xl_bad(void)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(BAD_XL); i++) {
		struct np_error err = { 0 };
		np_request *r = xl_req(BAD_XL[i].text, strlen(BAD_XL[i].text), &err);

		CHECK(!r && err.code == NP_EINPUT && strstr(err.message, BAD_XL[i].says) &&
			      strncmp(err.message, "x.cfg: ", 7) == 0,
		      "bad xl.cfg %zu: want '%s', got '%s'", i, BAD_XL[i].says, err.message);
		np_request_free(r);
	}
}

/*
 * The text of the xl.cfg TEXT without the settings of KEYS, as its lines
 * that hold more than blanks and ';', each ended by '\n', into OUT.
 */
static bool rest_lines(const char *text, const char *const *keys, char *out, size_t size)
{
	struct np__xlcfg c = { 0 };
	struct np_error err = { 0 };
	size_t len = strlen(text), at = 0, n = 0;
	char *rest = calloc(len + 1, 1), *line;
	int rc = np__xlcfg_parse(text, len, "x.cfg", &c, &err);

	for (int i = 0; !rc && rest && i <= c.n; i++) {
		size_t end = i < c.n ? c.sets[i].start : len;
		bool merged_key = false;

		for (const char *const *k = keys; i < c.n && *k; k++)
			merged_key |= strcmp(c.sets[i].name, *k) == 0;
		if (i < c.n && !merged_key)
			continue;
		memcpy(rest + n, text + at, end - at);
		n += end - at;
		at = i < c.n ? c.sets[i].end : len;
	}
	out[0] = '\0';
	for (line = rest ? strtok(rest, "\n") : NULL; line; line = strtok(NULL, "\n"))
		if (line[strspn(line, " \t;")])
			snprintf(out + strlen(out), size - strlen(out), "%s\n", line);
	free(rest);
	np__xlcfg_free(&c);
	return rc == 0 && rest;
}

/* A and B the same but for the settings KEYS: every other line byte for byte, in order. */
static bool only_keys_differ(const char *a, const char *b, const char *const *keys)
{
	char ra[8192], rb[8192];

	return rest_lines(a, keys, ra, sizeof(ra)) && rest_lines(b, keys, rb, sizeof(rb)) &&
	       strcmp(ra, rb) == 0 && strlen(ra) > 0;
}

static void xl_merge_one(const char *name)
{
	static const char *const keys[] = { "cpus", "vnuma", "cpus_soft", NULL };
	struct np_error err = { 0 };
	size_t len = 0;
	char *doc = slurp(xl_dir, name, &len), *out = NULL, *again = NULL;
	np_request *req = doc ? xl_req(doc, len, &err) : NULL, *back = NULL;
	np_plan *p = req ? place_valid(req) : NULL;

	if (p && np_plan_fits(p))
		out = merged(p, req, doc, len, true, &err);
	CHECK(out, "%s merged: %s", name, err.message);
	if (!out)
		goto done;
	CHECK(only_keys_differ(doc, out, keys), "%s: every other line kept byte for byte", name);
	CHECK(strstr(out, np_plan_affinity(p) == NP_AFFINITY_SOFT ? "cpus_soft" : "cpus"),
	      "%s: the plan's affinity is written", name);
	back = xl_req(out, strlen(out), &err);
	CHECK(back && same_shape(req, back) &&
		      np_request_affinity(back) == np_request_affinity(req),
	      "%s: the merged file asks for the same guest (%s)", name, err.message);
	again = merged(p, req, out, strlen(out), true, &err);
	CHECK(again && strcmp(again, out) == 0, "%s: merging again changes nothing", name);
done:
	free(again);
	free(out);
	np_request_free(back);
	np_plan_free(p);
	np_request_free(req);
	free(doc);
}

static void xl_merge(void)
{
	struct np_error err = { 0 };
	np_request *r = NULL;
	np_plan *p;
	char *out;
	static const char keep[] = "# keep me\nmemory = 512 ; vcpus = 1 # one\n"
				   "cpus_soft = \"1\"\ncpus = \"2\"\nvnuma = [ ]\n"
				   "cpus = [ \"3\",\n\"4\" ] # again\nname='x'";

	xl_merge_one("guest-hvm.cfg");
	xl_merge_one("guest-pv.cfg");
	xl_merge_one("guest-minimal.cfg");
	np_request_from_flavor_text("vcpus=2,ram=1024", NULL, &r, &err);
	p = place_valid(r);
	out = merged(p, r, keep, sizeof(keep) - 1, true, &err);
	CHECK(out &&
		      strncmp(out, "# keep me\nmemory = 1024 ; vcpus = 2 # one\n"
				   "cpus = \"", 49) == 0 &&
		      !strstr(out, "cpus_soft") && !strstr(out, "vnuma") &&
		      strstr(out, "\"\n # again\nname='x'") && !strstr(out, "\n\n"),
	      "a flavor's size, one cpus= in the first one's place, the others and vnuma= "
	      "removed with their lines, a comment after one kept: '%s'",
	      out ? out : err.message);
	free(out);
	out = merged(p, r, "memory = 1024\nvcpus = 2\nmaxvcpus = 4\nmaxmem = 2048\n", 51, true,
		     &err);
	CHECK(out && strstr(out, "maxvcpus = 2\n") && strstr(out, "maxmem = 1024\n") &&
		      strstr(out, "vcpus = 2\n") && strstr(out, "memory = 1024\n"),
	      "the maxima follow the flavor; vcpus= and memory= within them stay: %s",
	      out ? out : err.message);
	free(out);
	out = merged(p, r, "memory = 1024\nmemory = [\n", 25, true, &err);
	CHECK(!out && strstr(err.message, "doc: line 3: "), "a broken file: its line (%s)",
	      err.message);
	np_plan_free(p);
	np_request_free(r);
}

int main(void)
{
	struct np_error err = { 0 };
	char path[1200];

	libvirt_dir = strdup(t_data("libvirt")); /* t_data() reuses its buffer */
	xl_dir = strdup(t_data("xl"));
	snprintf(path, sizeof(path), "%s/../json/pci-4node.json", libvirt_dir);
	if (np_topo_load(NP_SOURCE_JSON, path, &topo, &err) || np_host_new(topo, &host, &err)) {
		fprintf(stderr, "test host: %s\n", err.message);
		return 1;
	}
	T_CASE("domain-samples", domain_samples());
	T_CASE("domain-shapes", domain_shapes());
	T_CASE("domain-bad", domain_bad());
	T_CASE("domain-merge", domain_merge());
	T_CASE("domain-flavor", domain_flavor());
	T_CASE("domain-refusals", domain_refusals());
	T_CASE("domain-stray-text", domain_stray_text());
	T_CASE("xl-syntax", xl_syntax());
	T_CASE("xl-requests", xl_requests());
	T_CASE("xl-bad", xl_bad());
	T_CASE("xl-merge", xl_merge());
	np_host_free(host);
	np_topo_free(topo);
	free((char *)xl_dir);
	free((char *)libvirt_dir);
	xmlCleanupParser();
	return t_done();
}
