/*
 * test-ledger.c - the one ledger (lib/fleet/ledger.h): what a plan takes,
 * capacity rows of a host, charging with the capacity predicate (all or
 * nothing), releasing, the invariant checker, and the host view built
 * from a ledger - which must equal, field for field, the host the engine
 * gets by np_host_charge() of the same plans, over hundreds of random
 * guests placed and released by the real engine.
 */
#include <numaplace/numaplace.h>

#include "check.h"
#include "fleet/ledger.h"
#include "synth.h"

static np_topo *topo_of(const struct synth_host *s)
{
	struct np_error err = { 0 };
	np_topo *t = synth_topo(s, &err);

	CHECK(t != NULL, "synthetic topology: %s", err.message);
	return t;
}

/* Do A and B hold the same usage? */
static bool same_usage(const np_host *a, const np_host *b, char *why, size_t size)
{
	const np_topo *t = np_host_topo(a);

	for (int i = 0; i < np_topo_node_count(t); i++) {
		const struct np_host_node *x = np_host_node(a, i), *y = np_host_node(b, i);

		if (x->memory_used_mb != y->memory_used_mb || x->cpu_usage != y->cpu_usage ||
		    x->npinned != y->npinned || x->npools != y->npools) {
			snprintf(why, size, "node %d: mem %llu/%llu vcpus %u/%u pinned %d/%d", i,
				 (unsigned long long)x->memory_used_mb,
				 (unsigned long long)y->memory_used_mb, x->cpu_usage, y->cpu_usage,
				 x->npinned, y->npinned);
			return false;
		}
		for (int k = 0; k < x->npinned; k++)
			if (x->pinned[k] != y->pinned[k]) {
				snprintf(why, size, "node %d: pinned CPU %d vs %d", i, x->pinned[k],
					 y->pinned[k]);
				return false;
			}
		for (int k = 0; k < x->npools; k++)
			if (x->pools[k].used != y->pools[k].used) {
				snprintf(why, size, "node %d: pool %llu KiB: %llu vs %llu used", i,
					 (unsigned long long)x->pools[k].size_kb,
					 (unsigned long long)x->pools[k].used,
					 (unsigned long long)y->pools[k].used);
				return false;
			}
	}
	for (int i = 0; i < np_host_pci_pool_count(a); i++)
		if (np_host_pci_pool(a, i)->used != np_host_pci_pool(b, i)->used) {
			snprintf(why, size, "PCI pool %d: %d vs %d used", i, np_host_pci_pool(a, i)->used,
				 np_host_pci_pool(b, i)->used);
			return false;
		}
	return true;
}

/* The engine's view of ledger L on topology T. */
static np_host *view_of(const np_topo *t, const np__ledger *l)
{
	struct np_error err = { 0 };
	np_host *h = NULL;

	if (np_host_new(t, &h, &err) || np__ledger_to_host(l, h, &err)) {
		CHECK(0, "view: %s", err.message);
		np_host_free(h);
		return NULL;
	}
	return h;
}

/*
 * The fleet's way to the same view (fleet.c np__fleet_empty_host): a
 * clone of an empty template host, then the ledger; it must equal VIEW
 * and pass the checker.
 */
static void clone_view_equal(const np_host *tmpl, const np__ledger *l, const np_host *view, int s)
{
	struct np_error err = { 0 };
	np_host *c = NULL;
	char why[200];

	if (np_host_clone(tmpl, &c, &err) || np__ledger_to_host(l, c, &err)) {
		CHECK(0, "step %d: cloned view: %s", s, err.message);
	} else {
		CHECK(same_usage(view, c, why, sizeof(why)), "step %d: cloned view differs: %s", s,
		      why);
		CHECK(np_host_check(c, &err) == 0, "step %d: cloned view: %s", s, err.message);
	}
	np_host_free(c);
}

static np__ledger *copy_ledger(const np__ledger *l)
{
	np__ledger *c = np__ledger_new();

	for (int i = 0; i < l->nrows; i++)
		np__ledger_add_row(c, &l->rows[i]);
	for (int i = 0; i < l->npins; i++)
		np__ledger_add_pin(c, l->pins[i].cpu, l->pins[i].node);
	return c;
}

static bool same_ledger(const np__ledger *a, const np__ledger *b)
{
	return a->nrows == b->nrows && a->npins == b->npins &&
	       !memcmp(a->rows, b->rows, (size_t)a->nrows * sizeof(*a->rows)) &&
	       (!a->npins || !memcmp(a->pins, b->pins, (size_t)a->npins * sizeof(*a->pins)));
}

struct live {
	np_plan *plan;
	struct np__takes takes;
};

/*
 * The reference: a fresh host with every live plan charged by np_host_charge
 * (as np_state_apply does).  Fresh each time: np_host_charge's release is
 * path-dependent once small pages were clamped (it gives back what was
 * never counted), while the ledger keeps sums.
 */
static np_host *reference(const np_topo *t, const struct live *live, int n)
{
	struct np_error err = { 0 };
	np_host *h = NULL;

	np_host_new(t, &h, NULL);
	for (int i = 0; h && i < n; i++)
		CHECK(np_host_charge(h, live[i].plan, false, &err) == 0, "ref charge: %s",
		      err.message);
	return h;
}

/* Place random guests, release some, and compare the ledger's view with np_host_charge. */
static void random_walk(const np_topo *t, uint64_t seed, int steps)
{
	struct np_error err = { 0 };
	np_host *ref = NULL, *view, *tmpl = NULL;
	np__ledger *l = NULL;
	struct live live[512];
	int nlive = 0, placed = 0, released = 0;
	char why[200];

	CHECK(np_host_new(t, &ref, &err) == 0 && np__ledger_of_host(ref, &l, &err) == 0 &&
		  np_host_new(t, &tmpl, &err) == 0,
	      "ledger of an empty host: %s", err.message);
	for (int s = 0; s < steps && l; s++) {
		char *flavor = synth_flavor(&seed, 4, 1);
		np_request *req = NULL;
		np_plan *plan = NULL;

		view = view_of(t, l);
		if (synth_rand(&seed) % 4 == 0 && nlive > 0) {
			int k = (int)(synth_rand(&seed) % (unsigned)nlive);

			CHECK(np__ledger_charge(l, &live[k].takes, true, &err) == 0, "release");
			np_plan_free(live[k].plan);
			np__takes_free(&live[k].takes);
			live[k] = live[--nlive];
			released++;
		} else if (!np_request_from_flavor_text(flavor, NULL, &req, &err) && view &&
			   !np_place(view, req, NULL, &plan, &err) && np_plan_fits(plan) &&
			   nlive < 512) {
			struct np__takes tk = { 0 };

			CHECK(np_plan_validate(view, req, plan, &err) == 0, "%s: %s", flavor,
			      err.message);
			CHECK(np__takes_of(view, plan, req, &tk, &err) == 0, "takes: %s", err.message);
			CHECK(np__ledger_charge(l, &tk, false, &err) == 0, "charge %s: %s", flavor,
			      err.message);
			live[nlive++] = (struct live){ plan, tk };
			plan = NULL;
			placed++;
		}
		np_plan_free(plan);
		np_request_free(req);
		free(flavor);
		np_host_free(view);
		view = view_of(t, l);
		np_host_free(ref);
		ref = reference(t, live, nlive);
		CHECK(view && same_usage(view, ref, why, sizeof(why)), "step %d: ledger view differs "
		      "from np_host_charge: %s", s, why);
		if (view && tmpl)
			clone_view_equal(tmpl, l, view, s);
		CHECK(np__ledger_check(l, &err) == 0, "step %d: %s", s, err.message);
		np_host_free(view);
	}
	CHECK(placed > steps / 4 && released > steps / 10, "the walk placed %d and released %d",
	      placed, released);
	for (int i = 0; i < nlive; i++) {
		np_plan_free(live[i].plan);
		np__takes_free(&live[i].takes);
	}
	np__ledger_free(l);
	np_host_free(ref);
	np_host_free(tmpl);
}

/* The names written by hand are printf's. */
static void rc_names(void)
{
	static const uint64_t kb[] = { 0, 4, 64, 2048, 1048576, 16777216, 99999999999ULL,
				       UINT64_MAX };
	static const unsigned ids[][2] = { { 0x8086, 0x10fb }, { 0, 0 }, { 0xffff, 0xabcd },
					   { 0x10de, 0x2330 }, { 0x18086, 0xfffff } };
	char got[NP__RC_MAX], want[NP__RC_MAX];

	for (size_t i = 0; i < sizeof(kb) / sizeof(kb[0]); i++) {
		memset(got, 'x', sizeof(got));
		np__rc_page(got, kb[i]);
		snprintf(want, sizeof(want), "page:%llu", (unsigned long long)kb[i]);
		CHECK(!strcmp(got, want), "page name %s, printf says %s", got, want);
	}
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		np__rc_pci(got, ids[i][0], ids[i][1]);
		snprintf(want, sizeof(want), "pci:%04x:%04x", ids[i][0] & 0xffff, ids[i][1] & 0xffff);
		CHECK(!strcmp(got, want), "PCI name %s, printf says %s", got, want);
	}
}

/* Rows and pins come out sorted whether they came in sorted (kept) or not. */
static void sort_any_order(const np_topo *t)
{
	struct np_error err = { 0 };
	np_host *h = NULL;
	np__ledger *l = NULL, *rev = np__ledger_new(), *same = np__ledger_new();

	if (np_host_new(t, &h, &err) || np__ledger_of_host(h, &l, &err) || !rev || !same) {
		CHECK(0, "ledger: %s", err.message);
		goto out;
	}
	for (int i = 0; i < l->nrows; i++) {
		np__ledger_add_row(rev, &l->rows[l->nrows - 1 - i]);
		np__ledger_add_row(same, &l->rows[i]);
	}
	for (int cpu = 9; cpu >= 0; cpu -= 3) {
		np__ledger_add_pin(rev, cpu, 0);
		np__ledger_add_pin(same, 9 - cpu, 0);
	}
	CHECK(np__ledger_reserve(same, 200, 100) == 0 && same->rcap >= 200 && same->pcap >= 100,
	      "reserved room");
	np__ledger_sort(rev);
	np__ledger_sort(same);
	CHECK(rev->nrows == l->nrows && !memcmp(rev->rows, l->rows, (size_t)l->nrows * sizeof(*l->rows)),
	      "reversed rows sorted");
	CHECK(!memcmp(same->rows, l->rows, (size_t)l->nrows * sizeof(*l->rows)), "sorted rows kept");
	CHECK(rev->npins == 4 && same->npins == 4, "pins kept");
	for (int i = 0; i < 4; i++)
		CHECK(rev->pins[i].cpu == 3 * i && same->pins[i].cpu == 3 * i, "pin %d: %d and %d", i,
		      rev->pins[i].cpu, same->pins[i].cpu);
out:
	np__ledger_free(l);
	np__ledger_free(rev);
	np__ledger_free(same);
	np_host_free(h);
}

/* Place FLAVOR on VIEW; the plan and its takes. */
static np_plan *place(const np_host *view, const char *flavor, struct np__takes *tk)
{
	struct np_error err = { 0 };
	np_request *req = NULL;
	np_plan *plan = NULL;

	if (np_request_from_flavor_text(flavor, NULL, &req, &err) ||
	    np_place(view, req, NULL, &plan, &err) || !np_plan_fits(plan) ||
	    np__takes_of(view, plan, req, tk, &err)) {
		CHECK(0, "%s: %s", flavor, err.message);
		np_plan_free(plan);
		plan = NULL;
	}
	np_request_free(req);
	return plan;
}

/* Two plans made on the same stale view: the second charge must be refused whole. */
static void stale_plans(const np_topo *t)
{
	struct np_error err = { 0 };
	np_host *h = NULL;
	np__ledger *l = NULL, *before;
	struct np__takes a = { 0 }, b = { 0 }, c = { 0 };
	np_plan *pa, *pb, *pc;

	np_host_new(t, &h, NULL);
	np__ledger_of_host(h, &l, NULL);
	/* Node 0 of 4 cores x 2 threads: two guests of 6 pinned vCPUs both pick it. */
	pa = place(h, "vcpus=6,ram=1024,hw:cpu_policy=dedicated", &a);
	pb = place(h, "vcpus=6,ram=1024,hw:cpu_policy=dedicated", &b);
	pc = place(h, "vcpus=2,ram=15872", &c);
	CHECK(pa && pb && np_plan_cell(pa, 0)->node_idx == np_plan_cell(pb, 0)->node_idx,
	      "both plans on one node");
	CHECK(np__ledger_charge(l, &a, false, &err) == 0, "first charge: %s", err.message);
	before = copy_ledger(l);
	err.message[0] = '\0';
	CHECK(np__ledger_charge(l, &b, false, &err) == NP_ENOFIT, "the second is refused");
	CHECK(strstr(err.message, "pinned already") || strstr(err.message, "dedicated CPUs claimed"),
	      "says why: %s", err.message);
	CHECK(same_ledger(l, before), "a refused charge changes nothing");
	/* Floating memory: 15872 MiB on a node that holds 1024 already (16384 total). */
	if (pc && np_plan_cell(pc, 0)->node_idx == np_plan_cell(pa, 0)->node_idx)
		CHECK(np__ledger_charge(l, &c, false, &err) == NP_ENOFIT, "memory over capacity");
	CHECK(np__ledger_charge(l, &a, true, &err) == 0 && np__ledger_charge(l, &b, false, &err) == 0,
	      "after the release the second fits");
	CHECK(np__ledger_check(l, &err) == 0, "%s", err.message);
	np__ledger_free(before);
	np__takes_free(&a);
	np__takes_free(&b);
	np__takes_free(&c);
	np_plan_free(pa);
	np_plan_free(pb);
	np_plan_free(pc);
	np__ledger_free(l);
	np_host_free(h);
}

/* Modes: pinned memory never past the total; asked pages within the pool. */
static void modes(const np_topo *t)
{
	struct np_error err = { 0 };
	np_host *h = NULL;
	struct np__takes a = { 0 }, b = { 0 };
	np_plan *pa, *pb;
	bool mem_total = false, page_cap = false, small_none = false;

	np_host_new(t, &h, NULL);
	pa = place(h, "vcpus=2,ram=2048,hw:cpu_policy=dedicated", &a);
	pb = place(h, "vcpus=2,ram=512,hw:mem_page_size=2048", &b);
	for (int i = 0; pa && i < a.ntakes; i++) {
		mem_total |= !strcmp(a.takes[i].rc, "mem") && a.takes[i].mode == NP__CHECK_TOTAL;
		small_none |= !strcmp(a.takes[i].rc, "page:4") && a.takes[i].mode == NP__CHECK_NONE;
	}
	for (int i = 0; pb && i < b.ntakes; i++)
		page_cap |= !strcmp(b.takes[i].rc, "page:2048") && b.takes[i].mode == NP__CHECK_CAP &&
			    b.takes[i].amount == 256;
	CHECK(mem_total, "pinned memory is checked against the total");
	CHECK(small_none, "small pages of a guest that asked for none are not checked");
	CHECK(page_cap, "asked 2 MiB pages are checked against the pool (256 pages)");
	CHECK(a.npins == 2, "two pins");
	np__takes_free(&a);
	np__takes_free(&b);
	np_plan_free(pa);
	np_plan_free(pb);
	np_host_free(h);
	(void)err;
}

/* The checker catches each broken invariant. */
static void checker(const np_topo *t)
{
	struct np_error err = { 0 };
	np_host *h = NULL;
	np__ledger *l = NULL;
	struct np__row *mem = NULL;

	np_host_new(t, &h, NULL);
	np__ledger_of_host(h, &l, NULL);
	CHECK(np__ledger_check(l, &err) == 0, "an empty host is fine: %s", err.message);
	for (int i = 0; i < l->nrows; i++)
		if (!strcmp(l->rows[i].rc, "mem") && l->rows[i].node == 1)
			mem = &l->rows[i];
	mem->used = mem->cap + 1;
	CHECK(np__ledger_check(l, &err) == NP_EINPUT && strstr(err.message, "over its capacity"),
	      "over capacity: %s", err.message);
	mem->used = 0;
	np__ledger_add_pin(l, 3, 0);
	CHECK(np__ledger_check(l, &err) == NP_EINPUT && strstr(err.message, "pinned"),
	      "a pin not counted: %s", err.message);
	np__ledger_add_pin(l, 3, 0);
	np__ledger_sort(l);
	CHECK(np__ledger_check(l, &err) == NP_EINPUT && strstr(err.message, "twice"),
	      "a CPU pinned twice: %s", err.message);
	np__ledger_free(l);
	np_host_free(h);
}

int main(void)
{
	struct synth_host small = { 4, 4, 16384, 512, 2 }, big = { 8, 8, 65536, 0, 4 };
	np_topo *a = topo_of(&small), *b = topo_of(&big);

	if (a && b) {
		T_CASE("walk-4-nodes", (random_walk(a, 1, 400), random_walk(a, 2, 400)));
		T_CASE("walk-8-nodes", random_walk(b, 3, 600));
		T_CASE("stale-plans", stale_plans(a));
		T_CASE("modes", modes(a));
		T_CASE("checker", checker(a));
		T_CASE("sort-any-order", sort_any_order(a));
	}
	T_CASE("rc-names", rc_names());
	np_topo_free(a);
	np_topo_free(b);
	return t_done();
}
