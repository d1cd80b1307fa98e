/*
 * test-plan-emit.c - the plan writers (text, json, libvirt, xl, numactl)
 * and the plan JSON reader, on plans built by hand with the np__plan_*
 * builder over real topologies: the 8-node AMD fixture (t_fixture_topo)
 * and, in builds with libvirt, libvirt's test driver (test:///default, 2
 * cells, 16 CPUs).
 *
 * libvirt output is checked the way libvirt itself would: wrapped into a
 * minimal domain, validated with virt-xml-validate against libvirt's
 * schema, then defined and started on the test driver, whose live XML must
 * show the pinning, the memory tuning and the guest cells.
 */
#include <stdlib.h>

#include "np-config.h"
#if NP_HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif

#include "check.h"
#include "emit/plan-emit.h"
#include "plan/plan-int.h"
#include "request/request-int.h"

/* ---- helpers ---- */

/* Run WRITE-like output into a string (caller frees). */
static char *emit(const np_plan *p, const np_host *h, const np_request *req,
		  enum np_plan_format f, unsigned flags, int *rc, struct np_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	*rc = np_plan_write(p, h, req, f, flags, m, err);
	fclose(m);
	return buf;
}

/* A cell on NODE_IDX with NPINS pins VCPU0.. -> CPU0.. and NFLOAT floating vCPUs on CPUSET. */
static void add_cell(np_plan *p, int gc, int node_idx, uint64_t mem, uint64_t page,
		     int vcpu0, int npins, int cpu0, int nfloat, const int *cpuset, int ncpuset)
{
	struct np_pin pins[16];
	int fl[16];
	struct np_plan_cell c = { .guest_cell = gc, .node_idx = node_idx, .memory_mb = mem,
				  .pagesize_kb = page };

	for (int i = 0; i < npins; i++)
		pins[i] = (struct np_pin){ vcpu0 + i, cpu0 + i };
	for (int i = 0; i < nfloat; i++)
		fl[i] = vcpu0 + npins + i;
	c.npins = npins;
	c.pins = pins;
	c.nfloat = nfloat;
	c.float_vcpus = fl;
	c.ncpuset = ncpuset;
	c.cpuset = cpuset;
	CHECK(np__plan_add_cell(p, &c) == 0, "add cell");
}

static void finish(np_plan *p, const np_topo *t, const int *nodes, int n)
{
	p->fits = true;
	CHECK(np__plan_set_nodeset(p, nodes, n) == 0, "nodeset");
	CHECK(np__plan_set_topo(p, t) == 0, "topo");
}

/* Two dedicated cells on nodes 2 and 3 of the AMD host: 4 vCPUs, 8 GiB each. */
static np_plan *pinned_plan(const np_topo *t)
{
	np_plan *p = np__plan_new();
	int nodes[] = { 2, 3 };

	add_cell(p, 0, 2, 8192, 4, 0, 4, 16, 0, NULL, 0);
	add_cell(p, 1, 3, 8192, 4, 4, 4, 24, 0, NULL, 0);
	finish(p, t, nodes, 2);
	p->score = (struct np_plan_score){ 0, 16, 16, 0, 16, true, 41 };
	np__plan_add_reason(p, 0, 0, -1, NP_RES_MEMORY, 8192, 7270,
			    "why not node 0: 8 GiB asked, 7.1 GiB free");
	np__plan_add_reason(p, -1, 4, 5, NP_RES_DISTANCE, 16, 22, "why not {4,5}: distance 22");
	return p;
}

/* Floating vCPUs, preferred memory with a fallback, soft affinity, PCI, odd text. */
static np_plan *floating_plan(const np_topo *t)
{
	np_plan *p = np__plan_new();
	int nodes[] = { 4, 6 }, fb[] = { 2, 0, 1 };
	int set4[] = { 32, 33, 34, 35, 36, 37, 38, 39 }, set6[] = { 48, 49, 50, 51 };

	add_cell(p, 0, 4, 3072, 2048, 0, 0, 0, 3, set4, 8);
	add_cell(p, 1, 6, 1024, 4, 3, 1, 52, 2, set6, 4);
	finish(p, t, nodes, 2);
	np__plan_set_fallback(p, fb, 3);
	np__plan_add_pci(p, 0, 2);
	p->mem_policy = NP_MEM_POLICY_PREFERRED;
	p->affinity = NP_AFFINITY_SOFT;
	p->score = (struct np_plan_score){ 1, 16, 32, 4096, 16, false, 123456789 };
	np__plan_add_reason(p, 1, 7, -1, NP_RES_PCPUS, 1, 0,
			    "why not node 7: \"quoted\"\\ and a\ttab");
	return p;
}

static np_plan *nofit_plan(void)
{
	np_plan *p = np__plan_new();

	p->fits = false;
	np__plan_add_reason(p, -1, -1, -1, NP_RES_NODES, 9, 8,
			    "9 guest cells but 8 usable host nodes");
	return p;
}

static np_topo *amd_topo(void)
{
	np_topo *t = NULL;
	struct np_error err = { 0 };

	if (t_fixture_topo("64amd64-4s2n4ca2co", &t, &err))
		fprintf(stderr, "cannot load the AMD fixture: %s\n", err.message);
	return t;
}

/* ---- format names ---- */

static void test_names(void)
{
	static const char *const names[] = { "text", "json", "libvirt", "xl", "numactl" };
	enum np_plan_format f, seen[5];

	for (int i = 0; i < 5; i++) {
		CHECK(np_plan_format_from_name(names[i], &f) == 0, "%s", names[i]);
		seen[i] = f;
		for (int k = 0; k < i; k++)
			CHECK(seen[k] != f, "%s distinct", names[i]);
	}
	CHECK(np_plan_format_from_name("svg", &f) == NP_EINPUT, "svg is not a plan format");
	CHECK(np_plan_format_from_name("", &f) == NP_EINPUT, "empty name");
}

/* ---- JSON ---- */

static void same_plan(const np_plan *a, const np_plan *b, const char *what)
{
	CHECK(a->fits == b->fits && a->ncells == b->ncells && a->nnodeset == b->nnodeset &&
		      a->nfallback == b->nfallback && a->npci == b->npci &&
		      a->nreasons == b->nreasons && a->mem_policy == b->mem_policy &&
		      a->affinity == b->affinity && a->memory_basis == b->memory_basis,
	      "%s: shape", what);
	for (int i = 0; i < a->ncells && i < b->ncells; i++) {
		const struct np_plan_cell *x = &a->cells[i], *y = &b->cells[i];

		CHECK(x->node_idx == y->node_idx && x->guest_cell == y->guest_cell &&
			      x->memory_mb == y->memory_mb && x->pagesize_kb == y->pagesize_kb &&
			      x->npins == y->npins && x->nfloat == y->nfloat &&
			      x->ncpuset == y->ncpuset,
		      "%s: cell %d", what, i);
		for (int k = 0; k < x->npins && k < y->npins; k++)
			CHECK(x->pins[k].vcpu == y->pins[k].vcpu &&
				  x->pins[k].pcpu == y->pins[k].pcpu,
			      "%s: cell %d pin %d", what, i, k);
	}
	for (int i = 0; i < a->nfallback && i < b->nfallback; i++)
		CHECK(a->fallback[i] == b->fallback[i], "%s: fallback order", what);
	for (int i = 0; i < a->nreasons && i < b->nreasons; i++)
		CHECK(strcmp(a->reasons[i].text, b->reasons[i].text) == 0 &&
			      a->reasons[i].node_idx == b->reasons[i].node_idx &&
			      a->reasons[i].node_idx2 == b->reasons[i].node_idx2 &&
			      a->reasons[i].resource == b->reasons[i].resource,
		      "%s: reason %d", what, i);
	CHECK(memcmp(&a->score, &b->score, sizeof(a->score)) == 0 ||
		      (a->score.steps == b->score.steps && a->score.exact == b->score.exact &&
		       a->score.stranded == b->score.stranded),
	      "%s: score", what);
}

static void round_trip(const np_plan *p, const np_host *h, const np_topo *t, const char *what)
{
	struct np_error err = { 0 };
	np_plan *back = NULL;
	char *one, *two;
	int rc;

	one = emit(p, h, NULL, NP_PLAN_JSON, false, &rc, &err);
	CHECK(rc == 0, "%s: write: %s", what, err.message);
	rc = np_plan_from_json(t, one, strlen(one), "plan.json", &back, &err);
	CHECK(rc == 0, "%s: read back: %s", what, err.message);
	if (back) {
		same_plan(p, back, what);
		two = emit(back, h, NULL, NP_PLAN_JSON, false, &rc, &err);
		CHECK(rc == 0 && strcmp(one, two) == 0, "%s: second write differs:\n%s\n---\n%s",
		      what, one, two);
		free(two);
	}
	np_plan_free(back);
	free(one);
}

/* The start of a plan document, and of one that fits with one cell on node 1. */
#define HEAD "{\"schema\": \"numaplace.plan/1\", "
#define CELL HEAD "\"fits\": true, \"cells\": [{\"guest_cell\": 0, \"node\": 1, "
#define NOFIT HEAD "\"fits\": false, \"cells\": [], "

static const struct {
	const char *doc;
	const char *needle;
} bad_json[] = {
    {"", "empty document"},
    {"  \n", "empty document"},
    {"{", "line 1:"},
    {"[1, 2]", "the document: expected a plan object"},
    {"{\"schema\": \"numaplace.plan/2\", \"fits\": true}", "schema: expected \"numaplace.plan/1\""},
    {HEAD "\"x\": 1}", "fits: missing (expected true or false)"},
    {HEAD "\"fits\": 1, \"cells\": []}", "fits: expected true or false, not 1"},
    {HEAD "\"fits\": true}", "cells: missing"},
    {HEAD "\"fits\": true, \"cells\": []}", "cells: empty"},
    {HEAD "\"fits\": true, \"cells\": [{\"guest_cell\": 0, \"node\": 99, \"memory_mb\": 1}]}",
     "cells[0].node: node 99 is not in the host topology"},
    {CELL "\"memory_mb\": -5}]}", "cells[0].memory_mb: expected an integer from 0 to"},
    {CELL "\"memory_mb\": 1e30}]}", "cells[0].memory_mb: expected an integer"},
    {CELL "\"memory_mb\": 99999999999999999999999}]}", "line 1:"},
    {CELL "\"memory_mb\": 1, \"pins\": [[0, 999]]}]}",
     "cells[0].pins[0][1]: CPU 999 is not in the host topology"},
    {CELL "\"memory_mb\": 1, \"pins\": [[0]]}]}",
     "cells[0].pins[0]: expected a [vcpu, cpu] pair, not an array"},
    {CELL "\"memory_mb\": 1, \"pins\": [[0, 8], [0, 9]]}]}", "cells: vCPU"},
    {CELL "\"memory_mb\": 1, \"float_vcpus\": [1], \"cpuset\": [8]}]}",
     "cells: vCPU 1 is out of range 0-0"},
    {CELL "\"memory_mb\": 1, \"float_vcpus\": [0], \"cpuset\": \"8-15\"}]}",
     "cells[0].cpuset: expected an array of CPU ids, not \"8-15\""},
    {CELL "\"memory_mb\": 1}], \"memory_policy\": \"loose\"}",
     "memory_policy: expected \"strict\", \"preferred\" or \"interleave\", not \"loose\""},
    {NOFIT "\"nodeset\": [1, 1]}", "nodeset[1]: node listed twice"},
    {NOFIT "\"reasons\": [{\"resource\": \"gold\", \"text\": \"x\"}]}",
     "reasons[0].resource: expected a resource name"},
    {NOFIT "\"reasons\": [{\"resource\": \"memory\"}]}",
     "reasons[0].text: missing (expected a string)"},
    {NOFIT "\"fits\": true}", "duplicate"},
    {NOFIT "\"score\": {\"exact\": \"yes\"}}", "score.exact: expected true or false"},
    {NOFIT "\"pci\": [{\"pool\": 0, \"count\": 0}]}", "pci[0].count: expected an integer from 1"},
    {CELL "\"memory_mb\": 1}], \"memory_basis\": \"some\"}", "memory_basis: expected \"total\" or \"free\""},
};

/* Every truncation and many random byte changes of a good plan: an answer, never a crash. */
static void test_json_mangled(const np_topo *t, const np_host *h)
{
	struct np_error err = { 0 };
	np_plan *p = floating_plan(t), *q;
	int rc, bad = 0, odd = 0;
	char *good = emit(p, h, NULL, NP_PLAN_JSON, true, &rc, &err), *s;
	size_t n = good ? strlen(good) : 0;

	for (size_t len = 0; len < n; len++) {
		q = NULL;
		rc = np_plan_from_json(t, good, len, "cut.json", &q, &err);
		bad += rc == NP_EINPUT && !q;
		odd += rc != NP_EINPUT && !(rc == 0 && strspn(good + len, " \n") == n - len);
		np_plan_free(q);
	}
	CHECK(odd == 0 && bad >= (int)n - 2, "truncations: %d refused of %zu, %d odd", bad, n, odd);
	srand(7);
	odd = 0;
	for (int i = 0; i < 3000 && good; i++) {
		static const char junk[] = "0123456789-\"[]{}:, aenx\xff";

		s = strdup(good);
		for (int k = 0; k < 1 + i % 4; k++)
			s[(size_t)rand() % n] = junk[(size_t)rand() % sizeof(junk)]; /* NUL too */
		q = NULL;
		rc = np_plan_from_json(t, s, n, "flip.json", &q, &err);
		odd += !(rc == 0 || rc == NP_EINPUT) || (rc == 0) != (q != NULL) ||
		       (rc && strchr(err.message, '\n'));
		np_plan_free(q);
		free(s);
	}
	CHECK(odd == 0, "random changes: %d odd answers", odd);
	free(good);
	np_plan_free(p);
}

static void test_json(const np_topo *t, const np_host *h)
{
	struct np_error err = { 0 };
	np_plan *p, *q = NULL;
	char *s;
	int rc;

	p = pinned_plan(t);
	round_trip(p, h, t, "pinned");
	s = emit(p, h, NULL, NP_PLAN_JSON, false, &rc, &err);
	CHECK(rc == 0 && strstr(s, "\"nodeset\": [2, 3]") &&
		  strstr(s, "\"pins\": [[0, 16], [1, 17]"),
	      "kernel ids in json:\n%s", s);
	free(s);
	np_plan_free(p);
	p = floating_plan(t);
	p->memory_basis = NP_MEMORY_BASIS_FREE;
	round_trip(p, h, t, "floating");
	s = emit(p, h, NULL, NP_PLAN_JSON, false, &rc, &err);
	CHECK(rc == 0 && strstr(s, "\"memory_basis\": \"free\""), "memory basis in json");
	free(s);
	np_plan_free(p);
	p = nofit_plan();
	round_trip(p, NULL, t, "no fit");
	np_plan_free(p);

	/* A hand-written plan: defaults fill what is left out. */
	s = "{\"schema\": \"numaplace.plan/1\", \"fits\": true, \"cells\": ["
	    "{\"guest_cell\": 0, \"node\": 5, \"memory_mb\": 512, \"float_vcpus\": [0, 1], "
	    "\"cpuset\": [40, 41, 42]}], \"future_key\": {\"ignored\": true}}";
	rc = np_plan_from_json(t, s, strlen(s), "hand.json", &q, &err);
	CHECK(rc == 0, "hand-written plan: %s", err.message);
	if (q) {
		CHECK(q->nnodeset == 1 && q->nodeset[0] == 5 && q->cells[0].pagesize_kb == 4 &&
			      q->mem_policy == NP_MEM_POLICY_STRICT && q->score.exact,
		      "defaults");
		CHECK(np__plan_matches_topo(q, t), "reader remembers the topology");
	}
	np_plan_free(q);

	for (size_t i = 0; i < NP__ARRAY_SIZE(bad_json); i++) {
		q = NULL;
		memset(&err, 0, sizeof(err));
		rc = np_plan_from_json(t, bad_json[i].doc, strlen(bad_json[i].doc), "bad.json", &q,
				       &err);
		CHECK(rc == NP_EINPUT && q == NULL, "bad %zu: rc %d", i, rc);
		CHECK(strncmp(err.message, "cannot load 'bad.json': ", 24) == 0 &&
			      strstr(err.message, bad_json[i].needle) && !strchr(err.message, '\n'),
		      "bad %zu: '%s' lacks '%s'", i, err.message, bad_json[i].needle);
		np_plan_free(q);
	}
}

/* ---- text, xl, numactl ---- */

static void expect_out(const np_plan *p, const np_host *h, const np_request *req,
		       enum np_plan_format f, unsigned flags, const char *want, const char *what)
{
	struct np_error err = { 0 };
	int rc;
	char *s = emit(p, h, req, f, flags, &rc, &err);

	CHECK(rc == 0, "%s: %s", what, err.message);
	CHECK(s && strcmp(s, want) == 0, "%s:\n--- got\n%s--- want\n%s", what, s, want);
	free(s);
}

/* The pinned plan as text, the lines every text form of it starts with. */
#define PINNED_TEXT                                                                               \
	"guest cell 0 (4 vCPUs, 8 GiB) -> node 2\n"                                               \
	"    pinned: 0->16 1->17 2->18 3->19\n"                                                   \
	"guest cell 1 (4 vCPUs, 8 GiB) -> node 3\n"                                               \
	"    pinned: 4->24 5->25 6->26 7->27\n"                                                   \
	"distance 16 (best possible 16); memory strict on 2,3 (basis total); fallback none; "     \
	"affinity hard\n"

static void test_text(const np_topo *t, const np_host *h)
{
	np_plan *p = pinned_plan(t);

	expect_out(p, h, NULL, NP_PLAN_TEXT, false, PINNED_TEXT, "text");
	expect_out(p, h, NULL, NP_PLAN_TEXT, NP_PLAN_EXPLAIN,
		   PINNED_TEXT
		   "why not node 0: 8 GiB asked, 7.1 GiB free\n"
		   "why not {4,5}: distance 22\n"
		   "memory basis total: a node holds its memory less what is claimed on it (Nova's "
		   "rule; memory other software uses is not counted)\n",
		   "text --explain");
	/* The search's own figures only with --verbose, with their units. */
	expect_out(p, h, NULL, NP_PLAN_TEXT, NP_PLAN_VERBOSE,
		   PINNED_TEXT
		   "search: optimal (proven) after 41 search steps; 0 MiB of capacity stranded on the "
		   "host after it; 0 PCI devices off the guest's nodes\n",
		   "text --verbose");
	np_plan_free(p);
	p = floating_plan(t);
	expect_out(p, h, NULL, NP_PLAN_TEXT, false,
		   "guest cell 0 (3 vCPUs, 3 GiB) -> node 4, 2048 KiB pages\n"
		   "    floating: vCPUs 0-2 on CPUs 32-39\n"
		   "guest cell 1 (3 vCPUs, 1 GiB) -> node 6\n"
		   "    pinned: 3->52\n"
		   "    floating: vCPUs 4-5 on CPUs 48-51\n"
		   "distance 16 (best possible 16); memory preferred on 4,6 (basis total); fallback "
		   "2,0,1; affinity soft\n"
		   "pci: 2 devices from pool 0\n",
		   "text floating");
	np_plan_free(p);
	p = nofit_plan();
	expect_out(p, NULL, NULL, NP_PLAN_TEXT, false,
		   "no placement fits this guest: 9 guest cells but 8 usable host nodes\n",
		   "text no fit");
	np_plan_free(p);
}

static void test_xl(const np_topo *t, const np_host *h)
{
	np_plan *p = pinned_plan(t);
	np_request *flat = np__request_new(8, 16384);

	expect_out(p, h, NULL, NP_PLAN_XL, false,
		   "# numaplace plan\n"
		   "vcpus=8\n"
		   "memory=16384\n"
		   "cpus=[\"16\", \"17\", \"18\", \"19\", \"24\", \"25\", \"26\", \"27\"]\n"
		   "vnuma=[ [ \"pnode=2\", \"size=8192\", \"vcpus=0-3\", \"vdistances=10,16\" ],\n"
		   "       [ \"pnode=3\", \"size=8192\", \"vcpus=4-7\", \"vdistances=16,10\" ] ]\n",
		   "xl pinned");
	/* A guest without NUMA topology: no vnuma, memory follows the CPUs. */
	expect_out(p, h, flat, NP_PLAN_XL, false,
		   "# numaplace plan\n"
		   "# memory strict: xl places memory on the nodes of the vCPUs' hard affinity\n"
		   "vcpus=8\n"
		   "memory=16384\n"
		   "cpus=[\"16\", \"17\", \"18\", \"19\", \"24\", \"25\", \"26\", \"27\"]\n",
		   "xl without guest NUMA");
	np_plan_free(p);
	p = floating_plan(t);
	expect_out(p, h, NULL, NP_PLAN_XL, false,
		   "# numaplace plan\n"
		   "# memory preferred: xl places memory on the nodes of the vCPUs' soft affinity "
		   "and each vnuma pnode\n"
		   "# huge pages: xl backs guest memory with superpages when it can; it cannot be "
		   "asked for a page size\n"
		   "vcpus=6\n"
		   "memory=4096\n"
		   "cpus_soft=[\"32-39\", \"32-39\", \"32-39\", \"52\", \"48-51\", \"48-51\"]\n"
		   "vnuma=[ [ \"pnode=4\", \"size=3072\", \"vcpus=0-2\", \"vdistances=10,16\" ],\n"
		   "       [ \"pnode=6\", \"size=1024\", \"vcpus=3-5\", \"vdistances=16,10\" ] ]\n",
		   "xl floating soft");
	np_plan_free(p);
	np_request_free(flat);
}

static void test_numactl(const np_topo *t, const np_host *h)
{
	np_plan *p = pinned_plan(t);
	int one[] = { 2 };

	expect_out(p, h, NULL, NP_PLAN_NUMACTL, false,
		   "numactl --membind=2-3 --physcpubind=16-19,24-27 --\n", "numactl strict");
	p->mem_policy = NP_MEM_POLICY_INTERLEAVE;
	expect_out(p, h, NULL, NP_PLAN_NUMACTL, false,
		   "numactl --interleave=2-3 --physcpubind=16-19,24-27 --\n", "numactl interleave");
	p->mem_policy = NP_MEM_POLICY_PREFERRED;
	expect_out(p, h, NULL, NP_PLAN_NUMACTL, false,
		   "numactl --preferred-many=2-3 --physcpubind=16-19,24-27 --\n",
		   "numactl preferred many");
	np__plan_set_nodeset(p, one, 1);
	expect_out(p, h, NULL, NP_PLAN_NUMACTL, false,
		   "numactl --preferred=2 --physcpubind=16-19,24-27 --\n", "numactl preferred");
	/* Without the host: the plan's own node ids. */
	expect_out(p, NULL, NULL, NP_PLAN_NUMACTL, false,
		   "numactl --preferred=2 --physcpubind=16-19,24-27 --\n", "numactl hostless");
	np_plan_free(p);
	p = floating_plan(t);
	expect_out(p, h, NULL, NP_PLAN_NUMACTL, false,
		   "numactl --preferred-many=4,6 --cpunodebind=4,6 --\n", "numactl soft");
	p->affinity = NP_AFFINITY_HARD;
	expect_out(p, h, NULL, NP_PLAN_NUMACTL, false,
		   "numactl --preferred-many=4,6 --physcpubind=32-39,48-52 --\n",
		   "numactl floating");
	np_plan_free(p);
}

/* ---- plans every writer carries out, or refuses ---- */

/*
 * A guest without NUMA topology over nodes 1, 3 and 4 (the tester's 4
 * vCPUs with 40000 MiB).  SAME: every vCPU floats over all three nodes'
 * CPUs, as the engine plans it; else the old shape, vCPUs on nodes 1 and
 * 3 only while memory is on 1, 3 and 4.
 */
static np_plan *split_plan(const np_topo *t, bool same)
{
	np_plan *p = np__plan_new();
	int nodes[] = { 1, 3, 4 }, all[24], n1[8], n3[8];

	for (int i = 0; i < 8; i++) {
		all[i] = n1[i] = 8 + i;
		all[8 + i] = n3[i] = 24 + i;
		all[16 + i] = 32 + i;
	}
	add_cell(p, 0, 1, 13334, 4, 0, 0, 0, 2, same ? all : n1, same ? 24 : 8);
	add_cell(p, 0, 3, 13333, 4, 2, 0, 0, 1, same ? all : n3, same ? 24 : 8);
	add_cell(p, 0, 4, 13333, 4, 3, 0, 0, same ? 1 : 0, all, same ? 24 : 0);
	finish(p, t, nodes, 3);
	p->score = (struct np_plan_score){ 0, 16, 0, 0, 16, true, 116 };
	return p;
}

static void expect_refusal(const np_plan *p, const np_host *h, const np_request *req,
			   enum np_plan_format f, const char *needle, const char *what)
{
	struct np_error err = { 0 };
	int rc;
	char *s = emit(p, h, req, f, 0, &rc, &err);

	CHECK(rc == NP_EINPUT && strstr(err.message, needle) && s && !*s,
	      "%s: rc %d, %s; wrote '%s'", what, rc, err.message, s ? s : "");
	free(s);
}

static void test_agreement(const np_topo *t, const np_host *h)
{
	np_request *flat = np__request_new(4, 40000);
	np_plan *p = split_plan(t, true);
	struct np_error err = { 0 };
	char *s;
	int rc;

	expect_out(p, h, flat, NP_PLAN_XL, 0,
		   "# numaplace plan\n"
		   "# memory strict: xl places memory on the nodes of the vCPUs' hard affinity\n"
		   "vcpus=4\n"
		   "memory=40000\n"
		   "cpus=\"8-15,24-39\"\n",
		   "xl: every vCPU on the memory's nodes");
	expect_out(p, h, flat, NP_PLAN_NUMACTL, 0,
		   "numactl --membind=1,3-4 --physcpubind=8-15,24-39 --\n", "numactl split");
	expect_out(p, h, flat, NP_PLAN_TEXT, 0,
		   "guest cell 0 (4 vCPUs, 39.1 GiB) -> nodes 1,3,4\n"
		   "    memory: 13334 MiB on node 1, 13333 MiB on node 3, 13333 MiB on node 4\n"
		   "    floating: vCPUs 0-3 on CPUs 8-15,24-39\n"
		   "distance 16 (best possible 16); memory strict on 1,3,4 (basis total); "
		   "fallback none; affinity hard\n",
		   "text: memory per node");
	s = emit(p, h, flat, NP_PLAN_LIBVIRT, 0, &rc, &err);
	CHECK(rc == 0 && s && strstr(s, "<vcpupin vcpu='3' cpuset='8-15,24-39'/>") &&
		  strstr(s, "<emulatorpin cpuset='8-15,24-39'/>") &&
		  strstr(s, "<memory mode='strict' nodeset='1,3-4'/>"),
	      "libvirt: vCPUs, emulator and memory on nodes 1,3,4: %s", s ? s : err.message);
	free(s);
	/* xl cannot interleave; libvirt cannot prefer several nodes without guest cells. */
	p->mem_policy = NP_MEM_POLICY_INTERLEAVE;
	expect_refusal(p, h, flat, NP_PLAN_XL, "cannot interleave", "xl interleave");
	p->mem_policy = NP_MEM_POLICY_PREFERRED;
	expect_refusal(p, h, flat, NP_PLAN_LIBVIRT, "'preferred' takes one node",
		       "libvirt preferred over 3 nodes");
	np_plan_free(p);
	/* The old shape: xl would put the memory on nodes 1 and 3 only (32 GiB). */
	p = split_plan(t, false);
	expect_refusal(p, h, flat, NP_PLAN_XL, "vCPU and memory nodes differ", "xl disagreeing");
	np_plan_free(p);
	np_request_free(flat);
}

/* ---- errors ---- */

static void test_errors(const np_topo *t, const np_host *h, const np_host *other)
{
	struct np_error err = { 0 };
	np_plan *p = nofit_plan(), *q = pinned_plan(t);
	FILE *full = fopen("/dev/full", "w");
	char *s;
	int rc;

	s = emit(p, h, NULL, NP_PLAN_LIBVIRT, false, &rc, &err);
	CHECK(rc == NP_EINPUT && strstr(err.message, "does not fit") && s && !*s,
	      "libvirt of a no-fit plan: %d %s", rc, err.message);
	free(s);
	s = emit(p, h, NULL, NP_PLAN_XL, false, &rc, &err);
	CHECK(rc == NP_EINPUT, "xl of a no-fit plan");
	free(s);
	s = emit(q, other, NULL, NP_PLAN_TEXT, false, &rc, &err);
	CHECK(rc == NP_EINPUT && strstr(err.message, "another host") == NULL &&
		      strstr(err.message, "other nodes") && s && !*s,
	      "plan for another host: %d %s", rc, err.message);
	free(s);
	s = emit(q, NULL, NULL, NP_PLAN_LIBVIRT, false, &rc, &err);
	CHECK(rc == NP_EINPUT && strstr(err.message, "without its host"), "libvirt needs a host");
	free(s);
	if (full) {
		setvbuf(full, NULL, _IONBF, 0);
		rc = np_plan_write(q, h, NULL, NP_PLAN_LIBVIRT, false, full, &err);
		CHECK(rc == NP_EOS && strstr(err.message, "output error"), "full disk: %d %s", rc,
		      err.message);
		fclose(full);
	}
	/* vCPU ids with a gap cannot be said per vCPU. */
	((struct np_pin *)q->cells[1].pins)[0] = (struct np_pin){ 9, 24 };
	s = emit(q, h, NULL, NP_PLAN_XL, false, &rc, &err);
	CHECK(rc == NP_EINPUT && strstr(err.message, "vCPU 9"), "gap: %s", err.message);
	free(s);
	np_plan_free(p);
	np_plan_free(q);
}

#if NP_HAVE_LIBVIRT
/* ---- libvirt ---- */

static void quiet(void *opaque, virErrorPtr e)
{
	(void)opaque;
	fprintf(stderr, "libvirt: %s\n", e && e->message ? e->message : "?");
}

/* The fragment in a minimal domain named NAME. */
static char *domain_xml(const char *name, const char *fragment, uint64_t mem_kb)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	fprintf(m, "<domain type='test'>\n  <name>%s</name>\n  <memory unit='KiB'>%llu</memory>\n"
		   "  <os>\n    <type>hvm</type>\n  </os>\n%s</domain>\n",
		name, (unsigned long long)mem_kb, fragment);
	fclose(m);
	return buf;
}

static bool validates(const char *xml, const char *name)
{
	char path[128], cmd[256];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/tmp/np-plan-%d-%s.xml", (int)getpid(), name);
	f = fopen(path, "w");
	if (!f)
		return false;
	fputs(xml, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "virt-xml-validate '%s' domain >/dev/null 2>&1", path);
	rc = system(cmd);
	if (rc != 0) {
		snprintf(cmd, sizeof(cmd), "virt-xml-validate '%s' domain >&2", path);
		if (system(cmd) != 0)
			fprintf(stderr, "%s", xml);
	}
	unlink(path);
	return rc == 0;
}

/* Define and start XML on the test driver; the live XML (caller frees) or NULL. */
static char *run_on_test_driver(virConnectPtr conn, const char *xml)
{
	virDomainPtr dom = virDomainDefineXML(conn, xml);
	char *live = NULL;

	if (!dom)
		return NULL;
	if (virDomainCreate(dom) == 0) {
		live = virDomainGetXMLDesc(dom, 0);
		virDomainDestroy(dom);
	}
	virDomainUndefine(dom);
	virDomainFree(dom);
	return live;
}

static void libvirt_case(virConnectPtr conn, const np_plan *p, const np_host *h,
			 const np_request *req, const char *name, const char *const *want,
			 const char *const *unwanted)
{
	struct np_error err = { 0 };
	uint64_t mem = 0;
	char *frag, *xml, *live;
	int rc;

	for (int i = 0; i < p->ncells; i++)
		mem += p->cells[i].memory_mb * 1024;
	frag = emit(p, h, req, NP_PLAN_LIBVIRT, false, &rc, &err);
	CHECK(rc == 0, "%s: %s", name, err.message);
	xml = domain_xml(name, frag ? frag : "", mem);
	CHECK(validates(xml, name), "%s: virt-xml-validate refuses it", name);
	live = conn ? run_on_test_driver(conn, xml) : NULL;
	CHECK(!conn || live, "%s: the test driver refuses it:\n%s", name, xml);
	for (int i = 0; live && want[i]; i++)
		CHECK(strstr(live, want[i]), "%s: live XML lacks %s:\n%s", name, want[i], live);
	for (int i = 0; frag && unwanted && unwanted[i]; i++)
		CHECK(!strstr(frag, unwanted[i]), "%s: fragment has %s", name, unwanted[i]);
	free(live);
	free(xml);
	free(frag);
}

/* libvirt's test driver host: cells 0 (CPUs 0-7) and 1 (CPUs 8-15), no SLIT. */
static void test_libvirt(void)
{
	struct np_error err = { 0 };
	np_topo *t = NULL;
	np_host *h = NULL;
	virConnectPtr conn;
	np_plan *p;
	np_request *flat;
	int both[] = { 0, 1 }, fl0[] = { 4, 5, 6, 7 }, fl1[] = { 12, 13, 14, 15 };

	if (np_topo_load(NP_SOURCE_LIBVIRT_URI, "test:///default", &t, &err) ||
	    np_host_new(t, &h, &err)) {
		CHECK(0, "test driver topology: %s", err.message);
		np_topo_free(t);
		return;
	}
	virSetErrorFunc(NULL, quiet);
	conn = virConnectOpen("test:///default");
	CHECK(conn != NULL, "virConnectOpen(test:///default)");

	/* Dedicated vCPUs on both cells, an isolated emulator CPU, 2 MiB pages. */
	p = np__plan_new();
	add_cell(p, 0, 0, 512, 2048, 0, 2, 2, 0, NULL, 0);
	add_cell(p, 1, 1, 1024, 2048, 2, 2, 10, 0, NULL, 0);
	/* The builder allocates at least one element for every list. */
	((int *)p->cells[0].reserved)[0] = 4;
	p->cells[0].nreserved = 1;
	finish(p, t, both, 2);
	libvirt_case(conn, p, h, NULL, "pinned",
		     (const char *const[]){ "<vcpupin vcpu='0' cpuset='2'/>",
					    "<vcpupin vcpu='3' cpuset='11'/>",
					    "<emulatorpin cpuset='4'/>",
					    "<memory mode='strict' nodeset='0-1'/>",
					    "<memnode cellid='0' mode='strict' nodeset='0'/>",
					    "<memnode cellid='1' mode='strict' nodeset='1'/>",
					    "<cell id='0' cpus='0-1' memory='524288' unit='KiB'>",
					    "<cell id='1' cpus='2-3' memory='1048576' unit='KiB'>",
					    "<sibling id='1' value='20'/>",
					    "<page size='2048' unit='KiB' nodeset='0-1'/>", NULL },
		     NULL);
	np_plan_free(p);

	/* Floating vCPUs, preferred memory: one node for the domain, memnodes per cell. */
	p = np__plan_new();
	add_cell(p, 0, 0, 256, 4, 0, 0, 0, 2, fl0, 4);
	add_cell(p, 1, 1, 256, 4, 2, 0, 0, 2, fl1, 4);
	finish(p, t, both, 2);
	p->mem_policy = NP_MEM_POLICY_PREFERRED;
	libvirt_case(conn, p, h, NULL, "floating",
		     (const char *const[]){ "<vcpupin vcpu='1' cpuset='4-7'/>",
					    "<vcpupin vcpu='2' cpuset='12-15'/>",
					    "<emulatorpin cpuset='4-7,12-15'/>",
					    "<memory mode='preferred' nodeset='0'/>",
					    "<memnode cellid='1' mode='preferred' nodeset='1'/>", NULL },
		     (const char *const[]){ "<memoryBacking>", NULL });

	/* Soft affinity: no vcpupin (libvirt has none for soft), interleaved memory. */
	p->affinity = NP_AFFINITY_SOFT;
	p->mem_policy = NP_MEM_POLICY_INTERLEAVE;
	libvirt_case(conn, p, h, NULL, "soft",
		     (const char *const[]){ "<memory mode='interleave' nodeset='0-1'/>",
					    "<memnode cellid='0' mode='interleave' nodeset='0'/>",
					    NULL },
		     (const char *const[]){ "<vcpupin", "<emulatorpin", NULL });
	np_plan_free(p);

	/* A guest without NUMA topology spread over both nodes: no guest cells. */
	p = np__plan_new();
	add_cell(p, 0, 0, 512, 4, 0, 0, 0, 2, fl0, 4);
	add_cell(p, 0, 1, 512, 4, 2, 0, 0, 2, fl1, 4);
	finish(p, t, both, 2);
	flat = np__request_new(4, 1024);
	libvirt_case(conn, p, h, flat, "flat",
		     (const char *const[]){ "<vcpupin vcpu='3' cpuset='12-15'/>",
					    "<memory mode='strict' nodeset='0-1'/>", NULL },
		     (const char *const[]){ "<numa>", "<memnode", NULL });
	np_request_free(flat);
	np_plan_free(p);
	if (conn)
		virConnectClose(conn);
	np_host_free(h);
	np_topo_free(t);
}
#else
static void test_libvirt(void)
{
	t_have(0, "libvirt", "libvirt's test driver");
}
#endif

/*
 * The AMD fixture as topology AMD_T and host AMD_H, loaded by the first case that
 * needs them (so that, without the shared folder, each case says it skips).
 */
static np_topo *amd_t;
static np_host *amd_h;

static bool amd(void)
{
	struct np_error err = { 0 };

	if (!amd_t && (amd_t = amd_topo()) && np_host_new(amd_t, &amd_h, &err))
		CHECK(0, "AMD host: %s", err.message);
	else if (!amd_t)
		CHECK(0, "AMD host: cannot load the fixture");
	return amd_h != NULL;
}

/* Plans read onto another host (OTHER: test:///default, ERR why it is missing). */
static void errors_case(np_host *other, const struct np_error *err)
{
	t_needs(NP_HAVE_LIBVIRT, "libvirt");
	if (!other)
		CHECK(0, "libvirt's test driver: %s", err->message);
	else if (amd())
		test_errors(amd_t, amd_h, other);
}

int main(void)
{
	struct np_error err = { 0 };
	np_topo *small = NULL;
	np_host *other = NULL;

	if (np_topo_load(NP_SOURCE_LIBVIRT_URI, "test:///default", &small, &err) == 0)
		np_host_new(small, &other, &err);
	T_CASE("names", test_names());
	T_CASE("json", if (amd()) test_json(amd_t, amd_h));
	T_CASE("json-mangled", if (amd()) test_json_mangled(amd_t, amd_h));
	T_CASE("text", if (amd()) test_text(amd_t, amd_h));
	T_CASE("xl", if (amd()) test_xl(amd_t, amd_h));
	T_CASE("numactl", if (amd()) test_numactl(amd_t, amd_h));
	T_CASE("agreement", if (amd()) test_agreement(amd_t, amd_h));
	T_CASE("errors", errors_case(other, &err));
	T_CASE("libvirt", test_libvirt());
	np_host_free(other);
	np_topo_free(small);
	np_host_free(amd_h);
	np_topo_free(amd_t);
	t_cleanup();
	return t_done();
}
