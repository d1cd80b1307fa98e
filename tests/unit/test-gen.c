/*
 * test-gen.c - the workload generator (gen.h) and the library's random
 * number generator (util/rng.c): known answers of splitmix64 and
 * xoshiro256**, the same bytes from the same options, every family's
 * requests valid under Nova's rules as the library's own case reader
 * sees them, events that make sense, the host shapes (distances, SMT,
 * CXL nodes, huge pages, NICs, split CPU sets, 1,024 nodes), a real
 * topology as the host, and bad options refused with NP_EINPUT.
 */
#include <jansson.h>

#include <numaplace/gen.h>
#include <numaplace/nova.h>

#include "check.h"
#include "util/rng.h"

/* The workload for O as a string (caller frees); NULL on failure, *RC the code. */
static char *gen(const struct np_gen_opts *o, int *rc, struct np_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*rc = np_gen_write(o, f, err);
	fclose(f);
	if (*rc) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void test_rng(void)
{
	struct np__rng r = { { 1, 2, 3, 4 } }, a, b;
	uint64_t counts[6] = { 0 };
	bool differ = false;

	/* xoshiro256** from the state {1, 2, 3, 4}: the reference sequence */
	CHECK(np__rng_next(&r) == 0x2d00, "xoshiro first output");
	CHECK(np__rng_next(&r) == 0, "xoshiro second output");
	CHECK(np__rng_next(&r) == UINT64_C(0x5a007080), "xoshiro third output");
	CHECK(np__rng_next(&r) == UINT64_C(0x10e0000000009d80), "xoshiro fourth output");
	/* seeded through splitmix64 from 0: its reference outputs, then xoshiro */
	np__rng_seed(&a, 0, 0);
	CHECK(a.s[0] == UINT64_C(0xe220a8397b1dcdaf) && a.s[3] == UINT64_C(0xf88bb8a8724c81ec),
	      "splitmix64 from 0");
	CHECK(np__rng_next(&a) == UINT64_C(0x99ec5f36cb75f2b4), "first draw of seed 0");
	np__rng_seed(&a, 42, 1);
	np__rng_seed(&b, 42, 2);
	for (int i = 0; i < 8; i++)
		differ |= np__rng_next(&a) != np__rng_next(&b);
	CHECK(differ, "two streams of one seed differ");
	for (int i = 0; i < 60000; i++) {
		uint64_t x = np__rng_below(&a, 6);

		CHECK(x < 6, "below(6) gave %llu", (unsigned long long)x);
		counts[x < 6 ? x : 0]++;
	}
	for (int k = 0; k < 6; k++)
		CHECK(counts[k] > 9500 && counts[k] < 10500, "below(6): %d drawn %llu times of 60000",
		      k, (unsigned long long)counts[k]);
	CHECK(np__rng_below(&a, 1) == 0, "below(1) is 0");
}

/* Requests arrive in order, each once; a departure follows its arrival, once. */
static bool events_ok(const json_t *events, int nreq)
{
	int next = 0;
	char *gone = calloc((size_t)nreq + 1, 1);
	bool ok = gone != NULL;
	size_t i;
	json_t *e;

	json_array_foreach(events, i, e) {
		json_t *arr = json_object_get(e, "arrive"), *dep = json_object_get(e, "depart");

		if (arr && json_integer_value(arr) == next)
			next++;
		else if (dep && json_integer_value(dep) < next && !gone[json_integer_value(dep)])
			gone[json_integer_value(dep)] = 1;
		else
			ok = false;
	}
	free(gone);
	return ok && next == nreq;
}

/* Every request of the case valid for numaplace's Nova case reader. */
static void check_case(const char *text, const char *what, int *nreq_out)
{
	struct np_error err = { 0 };
	np_nova_case *c = NULL;
	json_t *root = json_loads(text, 0, NULL);
	int rc = np_nova_case_parse(text, strlen(text), what, &c, &err), bad = 0, n;

	CHECK(rc == 0 && c && np_nova_case_host(c), "%s: case reader: %s", what, err.message);
	n = c ? np_nova_case_request_count(c) : 0;
	for (int i = 0; i < n; i++) {
		const np_request *req = NULL;

		bad += np_nova_case_request(c, i, &req, &err) != 0;
	}
	CHECK(n > 0 && bad == 0, "%s: %d requests, %d invalid (%s)", what, n, bad, err.message);
	CHECK(root && json_integer_value(json_object_get(json_object_get(root, "workload"),
							 "guests")) == n,
	      "%s: workload.guests counts the requests", what);
	if (json_object_get(root, "events"))
		CHECK(events_ok(json_object_get(root, "events"), n), "%s: events in order", what);
	*nreq_out = n;
	json_decref(root);
	np_nova_case_free(c);
}

static void test_families(void)
{
	struct np_error err = { 0 };
	int rc;

	CHECK(np_gen_family_count() >= 12, "families: %d", np_gen_family_count());
	CHECK(np_gen_family_name(np_gen_family_count()) == NULL, "name past the end is NULL");
	for (int i = 0; i < np_gen_family_count(); i++) {
		struct np_gen_opts o = { .family = np_gen_family_name(i), .seed = 5 };
		char *a = gen(&o, &rc, &err), *b = gen(&o, &rc, &err), *c;
		int n = 0;

		CHECK(a && b && strcmp(a, b) == 0, "%s: same seed, same bytes", o.family);
		o.seed = 6;
		c = gen(&o, &rc, &err);
		CHECK(c && strcmp(a ? a : "", c) != 0, "%s: another seed, another workload",
		      o.family);
		if (a) {
			CHECK(strchr(a, '\n') == a + strlen(a) - 1, "%s: one line", o.family);
			check_case(a, o.family, &n);
		}
		CHECK(n >= 2, "%s: %d guests", o.family, n);
		free(a);
		free(b);
		free(c);
	}
}

static json_t *gen_json(const char *family, const char *shape, struct np_gen_opts *base)
{
	struct np_gen_opts o = base ? *base : (struct np_gen_opts){ 0 };
	struct np_error err = { 0 };
	int rc;
	char *s;
	json_t *j;

	o.family = family;
	o.shape = shape;
	s = gen(&o, &rc, &err);
	CHECK(s != NULL, "%s %s: %s", family, shape, err.message);
	j = s ? json_loads(s, 0, NULL) : NULL;
	free(s);
	return j;
}

static json_int_t dist(const json_t *c, int a, int b)
{
	return json_integer_value(
		json_array_get(json_array_get(json_object_get(json_object_get(c, "host"), "distances"),
					      (size_t)a), (size_t)b));
}

static const json_t *cell(const json_t *c, int i)
{
	return json_array_get(json_object_get(json_object_get(c, "host"), "cells"), (size_t)i);
}

static void test_shapes(void)
{
	json_t *c = gen_json("dedicated", "nodes=6,dist=ring", NULL);

	CHECK(dist(c, 0, 3) == 28 && dist(c, 0, 1) == 16 && dist(c, 5, 0) == 16 &&
	      dist(c, 2, 2) == 10, "ring: 10 + 6 x hops");
	json_decref(c);
	c = gen_json("dedicated", "nodes=8,sockets=2,dist=snc,cxl=2,cxl_mem=64G", NULL);
	CHECK(dist(c, 0, 3) == 11 && dist(c, 0, 4) == 21 && dist(c, 8, 0) == 20 &&
	      dist(c, 8, 4) == 30 && dist(c, 9, 8) == 40, "snc + cxl distances");
	CHECK(json_array_size(json_object_get(cell(c, 8), "cpus")) == 0 &&
	      json_integer_value(json_object_get(cell(c, 9), "memory_mb")) == 65536,
	      "cxl nodes: memory, no CPUs");
	json_decref(c);
	json_t *want = json_pack("[ii]", 8, 12);

	c = gen_json("dedicated", "nodes=2,cpus=8,smt=2", NULL);
	CHECK(json_equal(json_array_get(json_object_get(cell(c, 1), "siblings"), 0), want),
	      "smt: the threads of a core are cores apart");
	json_decref(want);
	json_decref(c);
	c = gen_json("hugepages", "nodes=2,mem=8G", NULL);
	CHECK(json_integer_value(json_object_get(
		      json_array_get(json_object_get(cell(c, 0), "mempages"), 1), "total")) == 1024,
	      "huge2m=25 of 8 GiB: 1024 pages of 2 MiB");
	json_decref(c);
	c = gen_json("mixed", "cpus=8", NULL);
	CHECK(json_array_size(json_object_get(cell(c, 0), "shared_cpus")) == 4 &&
	      json_array_size(json_object_get(cell(c, 0), "dedicated_cpus")) == 4,
	      "shared=50: half the cores each");
	json_decref(c);
	c = gen_json("pci", "nodes=4", NULL);
	CHECK(json_object_get(cell(c, 0), "pci") && !json_object_get(cell(c, 1), "pci") &&
	      json_object_get(c, "pci_aliases"), "NICs on every other node, alias written");
	json_decref(c);
	c = gen_json("small", "nodes=1024,dist=mesh", NULL);
	CHECK(c && json_array_size(json_object_get(json_object_get(c, "host"), "cells")) == 1024 &&
	      dist(c, 0, 1) == 16 && dist(c, 0, 32) == 16 && dist(c, 0, 16) == 106,
	      "1024 nodes on a 32 x 32 torus");
	json_decref(c);
}

static void test_guests_and_churn(void)
{
	struct np_gen_opts o = { .guests = 40, .churn = NP_GEN_CHURN_ON };
	json_t *c = gen_json("small", "", &o);
	size_t deps = 0, i;
	json_t *e;

	CHECK(json_array_size(json_object_get(c, "requests")) == 40, "--guests 40");
	json_array_foreach(json_object_get(c, "events"), i, e)
		deps += json_object_get(e, "depart") != NULL;
	CHECK(deps > 0, "churn: %zu departures", deps);
	CHECK(json_is_true(json_object_get(json_object_get(c, "workload"), "churn")), "churn said");
	json_decref(c);
	o = (struct np_gen_opts){ .churn = NP_GEN_CHURN_OFF };
	c = gen_json("churn", "", &o);
	CHECK(c && !json_object_get(c, "events"), "churn family without churn: no events");
	json_decref(c);
	o = (struct np_gen_opts){ .cpu_ratio = 2.5 };
	c = gen_json("shared", "", &o);
	CHECK(json_real_value(json_object_get(c, "cpu_allocation_ratio")) == 2.5, "ratio written");
	json_decref(c);
}

static void test_topology(void)
{
	struct np_error err = { 0 };
	np_topo *t = NULL;
	struct np_gen_opts o = { .family = "pci", .seed = 2 };
	json_t *c;
	int rc, n = 0;
	char *s;

	rc = t_fixture_topo("64amd64-4s2n4ca2co", &t, &err);
	CHECK(rc == 0, "fixture: %s", err.message);
	if (rc)
		return;
	o.topo = t;
	s = gen(&o, &rc, &err);
	CHECK(s != NULL, "pci on a fixture: %s", err.message);
	if (s)
		check_case(s, "pci on 64amd64", &n);
	c = s ? json_loads(s, 0, NULL) : NULL;
	CHECK(json_array_size(json_object_get(json_object_get(c, "host"), "cells")) ==
		      (size_t)np_topo_node_count(t) &&
	      json_array_size(json_object_get(cell(c, 0), "cpus")) ==
		      (size_t)np_topo_node(t, 0)->ncpus,
	      "the fixture's nodes and CPUs");
	json_decref(c);
	free(s);
	o.shape = "nodes=4";
	CHECK(!gen(&o, &rc, &err) && rc == NP_EINPUT && strstr(err.message, "real host"),
	      "nodes= with a real host: %s", err.message);
	np_topo_free(t);
}

static void bad(const char *family, const char *shape, const char *want)
{
	struct np_gen_opts o = { .family = family, .shape = shape };
	struct np_error err = { 0 };
	int rc;
	char *s = gen(&o, &rc, &err);

	CHECK(!s && rc == NP_EINPUT && strstr(err.message, want), "%s '%s': %d '%s'", family,
	      shape, rc, err.message);
	free(s);
}

static void test_bad(void)
{
	struct np_gen_opts o = { .seed = (uint64_t)NP_GEN_SEED_MAX + 1 };
	struct np_error err = { 0 };
	int rc;

	bad("nosuch", "", "no workload family 'nosuch'");
	bad("small", "nodes=0", "nodes wants a number from 1 to 1024");
	bad("small", "nodes=1025", "nodes wants");
	bad("small", "colour=red", "unknown key 'colour'");
	bad("small", "nodes", "not KEY=VALUE");
	bad("small", "cpus=6,smt=4", "not a multiple of smt");
	bad("small", "nodes=6,sockets=4", "not a multiple of sockets");
	bad("small", "dist=torus", "dist 'torus'");
	bad("small", "mem=12X", "mem wants a size");
	bad("small", "huge2m=60,huge1g=40", "at most 90");
	bad("large4", "nodes=1,sockets=1", "makes no guest that fits");
	bad("dedicated", "shared=100", "makes no guest that fits");
	CHECK(!gen(&o, &rc, &err) && rc == NP_EINPUT, "seed above 2^63-1");
	o = (struct np_gen_opts){ .guests = -1 };
	CHECK(!gen(&o, &rc, &err) && rc == NP_EINPUT, "negative guests");
}

int main(void)
{
	T_CASE("rng", test_rng());
	T_CASE("families", test_families());
	T_CASE("shapes", test_shapes());
	T_CASE("guests-and-churn", test_guests_and_churn());
	T_CASE("topology", test_topology());
	T_CASE("bad", test_bad());
	t_cleanup();
	return t_done();
}
