/*
 * test-request.c - guest requests.
 *
 * 1. Every request of shared/nova/vectors.json through np_request_from_nova:
 *    the same validity as Nova, our reason where Nova raises (mapped by
 *    the table of docs/policies/nova-errors.md, parsed here), the same
 *    guest cells and page sizes where the vector says.
 * 2. A differential check against Nova's own code (python3-nova, through
 *    tests/nova/constraints_batch.py) on thousands of seeded random flavor
 *    and image specs, valid and invalid; plus our replay of CPython's set
 *    order against Python's.  NP_DIFF_CASES and NP_DIFF_SEED override the
 *    defaults; without python3-nova this part is reported as skipped.
 * 3. The flavor text, xl vnuma and JSON formats, good and bad input.
 * np__request_check runs on every request built.
 */
#include <jansson.h>
#include <stdint.h>

#include <numaplace/flavors.h>

#include "check.h"
#include "request/nova-values.h"
#include "request/request-int.h"

/* ---------------------------------------------------------------------- */
/* Nova exception class -> our reasons, read from the docs table           */

struct mapping {
	char cls[64];
	char reasons[8][48];
	int n;
};

static struct mapping map[64];
static int nmap;

static const char *src_dir(void)
{
	const char *s = getenv("NP_SRC");

	return s ? s : "..";
}

/* The backquoted words of [P, END) into M. */
static void cell_words(const char *p, const char *end, struct mapping *m)
{
	while (p < end && m->n < 8) {
		const char *a = memchr(p, '`', (size_t)(end - p)), *b;

		if (!a || !(b = memchr(a + 1, '`', (size_t)(end - a - 1))))
			break;
		snprintf(m->reasons[m->n++], sizeof(m->reasons[0]), "%.*s", (int)(b - a - 1),
			 a + 1);
		p = b + 1;
	}
}

static void load_mapping(void)
{
	char path[512], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/docs/policies/nova-errors.md", src_dir());
	f = fopen(path, "r");
	CHECK(f != NULL, "cannot open %s", path);
	while (f && fgets(line, sizeof(line), f) && nmap < 64) {
		char *c1, *c2, *c3;

		if (strncmp(line, "## ", 3) == 0 && nmap)
			break; /* the second table lists our own rules */
		if (strncmp(line, "| `", 3) != 0 || !(c1 = strchr(line + 3, '`')))
			continue;
		if (!(c2 = strchr(c1, '|')) || !(c3 = strchr(c2 + 1, '|')))
			continue;
		snprintf(map[nmap].cls, sizeof(map[0].cls), "%.*s", (int)(c1 - line - 3), line + 3);
		cell_words(c2 + 1, c3, &map[nmap]);
		nmap++;
	}
	if (f)
		fclose(f);
	CHECK(nmap >= 30, "the docs table maps %d Nova classes", nmap);
}

static bool reason_matches(const char *cls, const char *reason)
{
	for (int i = 0; i < nmap; i++)
		for (int k = 0; strcmp(map[i].cls, cls) == 0 && k < map[i].n; k++)
			if (strcmp(map[i].reasons[k], reason) == 0)
				return true;
	return false;
}

/* ---------------------------------------------------------------------- */
/* A Nova request in the case format -> np_request_from_nova               */

struct kvs {
	struct np_kv kv[256];
	char *owned[256];
	size_t n;
};

/* Python's str() of a JSON value, as Nova stores a flavor extra spec. */
static char *py_str(json_t *v)
{
	char buf[64];

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v))
		snprintf(buf, sizeof(buf), "%.1f", json_real_value(v)); /* Python: 2.0 */
	else if (json_is_real(v))
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "True" : "False");
	else
		snprintf(buf, sizeof(buf), "None");
	return strdup(buf);
}

static void kvs_fill(struct kvs *k, json_t *obj)
{
	const char *key;
	json_t *v;

	k->n = 0;
	json_object_foreach (obj, key, v) {
		if (k->n == 256)
			break;
		k->owned[k->n] = py_str(v);
		k->kv[k->n] = (struct np_kv){key, k->owned[k->n]};
		k->n++;
	}
}

static void kvs_free(struct kvs *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->owned[i]);
	k->n = 0;
}

static const char *str_or(json_t *v, const char *dflt)
{
	return json_is_string(v) ? json_string_value(v) : dflt;
}

static size_t aliases_fill(struct np_pci_alias *a, size_t max, json_t *list)
{
	static const char *const pol[] = {"legacy", "required", "preferred", "socket"};
	size_t n = 0, i;
	json_t *e;

	json_array_foreach (list, i, e) {
		const char *p = json_string_value(json_object_get(e, "numa_policy"));

		if (n == max)
			break;
		a[n] = (struct np_pci_alias){json_string_value(json_object_get(e, "name")), 0, 0,
					     p != NULL, NP_PCI_POLICY_LEGACY};
		a[n].vendor =
		    (unsigned)strtoul(str_or(json_object_get(e, "vendor_id"), "0"), NULL, 16);
		a[n].product =
		    (unsigned)strtoul(str_or(json_object_get(e, "product_id"), "0"), NULL, 16);
		for (int k = 0; p && k < 4; k++)
			if (strcmp(p, pol[k]) == 0)
				a[n].policy = (enum np_pci_policy)k;
		n++;
	}
	return n;
}

static int build(json_t *req, json_t *aliases, np_request **out, struct np_error *err)
{
	struct kvs fl, im;
	struct np_pci_alias al[16];
	size_t nal = aliases_fill(al, 16, aliases);
	int rc;

	kvs_fill(&fl, json_object_get(req, "extra_specs"));
	kvs_fill(&im, json_object_get(req, "image_properties"));
	rc = np_request_from_nova((unsigned)json_integer_value(json_object_get(req, "vcpus")),
				  (uint64_t)json_integer_value(json_object_get(req, "memory_mb")),
				  fl.kv, fl.n, im.kv, im.n, al, nal, out, err);
	kvs_free(&fl);
	kvs_free(&im);
	return rc;
}

static bool same_ids(json_t *arr, const int *ids, int n)
{
	size_t i;
	json_t *v;

	if (json_array_size(arr) != (size_t)n)
		return false;
	json_array_foreach (arr, i, v)
		if (json_integer_value(v) != ids[i])
			return false;
	return true;
}

static bool same_cells(const np_request *r, json_t *cells)
{
	size_t i;
	json_t *c;

	if (json_array_size(cells) != (size_t)np_request_cell_count(r))
		return false;
	json_array_foreach (cells, i, c) {
		const struct np_guest_cell *g = np_request_cell(r, (int)i);

		if (!same_ids(json_object_get(c, "cpus"), g->vcpus, g->nvcpus) ||
		    !same_ids(json_object_get(c, "pcpus"), g->pcpus, g->npcpus) ||
		    (uint64_t)json_integer_value(json_object_get(c, "memory_mb")) != g->memory_mb)
			return false;
	}
	return true;
}

/* Nova's per-cell page size (null/0: none) against ours. */
static bool same_pagesize(json_t *nova, long ours)
{
	if (json_is_null(nova) || (json_is_integer(nova) && json_integer_value(nova) == 0))
		return ours == NP_PAGESIZE_UNSET;
	return json_is_integer(nova) && json_integer_value(nova) == ours;
}

/* ---------------------------------------------------------------------- */
/* 1. vectors.json                                                         */

static int vec_requests, vec_errors, vec_accepted;

static void vector_request(const char *id, json_t *req, json_t *aliases, json_t *exp)
{
	json_t *cls = json_object_get(exp, "error_class");
	struct np_error err = {0};
	np_request *r = NULL;
	int rc = build(req, aliases, &r, &err);

	vec_requests++;
	if (json_is_string(cls)) {
		CHECK(rc == NP_EINPUT && r == NULL, "%s: Nova raises %s, we return %d", id,
		      json_string_value(cls), rc);
		CHECK(rc != NP_EINPUT || reason_matches(json_string_value(cls), err.reason),
		      "%s: Nova raises %s, our reason is '%s' (%s)", id, json_string_value(cls),
		      err.reason, err.message);
		CHECK(rc != NP_EINPUT ||
			  (strstr(err.message, err.reason) && !strchr(err.message, '\n')),
		      "%s: message names its rule: %s", id, err.message);
		vec_errors += rc == NP_EINPUT;
		return;
	}
	CHECK(rc == 0, "%s: Nova accepts, we say: %s", id, err.message);
	if (rc)
		return;
	vec_accepted++;
	CHECK(np__request_check(r, &err) == 0, "%s: request invariants: %s", id, err.message);
	if (json_is_boolean(json_object_get(exp, "guest_numa")))
		CHECK(np_request_has_numa(r) == json_is_true(json_object_get(exp, "guest_numa")),
		      "%s: guest_numa", id);
	if (json_object_get(exp, "guest_cells"))
		CHECK(same_cells(r, json_object_get(exp, "guest_cells")), "%s: guest cells", id);
	for (size_t i = 0; i < json_array_size(json_object_get(exp, "guest_pagesize")); i++)
		CHECK(i < (size_t)np_request_cell_count(r) &&
			  same_pagesize(json_array_get(json_object_get(exp, "guest_pagesize"), i),
					np_request_cell(r, (int)i)->pagesize),
		      "%s: page size of cell %zu", id, i);
	np_request_free(r);
}

static void vectors(void)
{
	char path[512];
	json_error_t je;
	json_t *doc, *v;
	size_t i;

	snprintf(path, sizeof(path), "%s/nova/vectors.json", t_shared_for("Nova's vectors"));
	doc = json_load_file(path, 0, &je);
	CHECK(doc != NULL, "cannot load %s: %s", path, je.text);
	json_array_foreach (json_object_get(doc, "vectors"), i, v) {
		json_t *c = json_object_get(v, "case"), *e = json_object_get(v, "expect"), *r;
		const char *id = json_string_value(json_object_get(v, "id"));
		size_t k;

		if (json_object_get(c, "request"))
			vector_request(id, json_object_get(c, "request"),
				       json_object_get(c, "pci_aliases"), e);
		json_array_foreach (json_object_get(c, "requests"), k, r)
			vector_request(id, r, json_object_get(c, "pci_aliases"),
				       json_array_get(json_object_get(e, "results"), k));
	}
	printf("vectors: %d requests, %d rejected with Nova's rule, %d accepted\n", vec_requests,
	       vec_errors, vec_accepted);
	CHECK(vec_requests >= 78 && vec_errors >= 20, "vectors seen: %d", vec_requests);
	json_decref(doc);
}

/* ---------------------------------------------------------------------- */
/* 2. random specs against Nova                                            */

static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int rn(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

static bool chance(int pct)
{
	return rn(100) < pct;
}

#define PICK(a) ((a)[rn((int)(sizeof(a) / sizeof((a)[0])))])

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v));
}

/* IDS (sorted flags over 0..n-1) as a CPU list, in one of Nova's spellings. */
static void cpulist(const unsigned char *in, int n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (chance(20)) { /* "0-N,^a,^b" */
		len += (size_t)snprintf(buf, size, "0-%d", n - 1);
		for (int i = 0; i < n && len < size; i++)
			if (!in[i])
				len += (size_t)snprintf(buf + len, size - len, ",^%d", i);
		return;
	}
	for (int i = 0; i < n && len < size; i++) {
		int j = i;

		if (!in[i])
			continue;
		while (j + 1 < n && in[j + 1])
			j++;
		len += (size_t)snprintf(buf + len, size - len, "%s%d", len ? "," : "", i);
		if (j > i)
			len += (size_t)snprintf(buf + len, size - len, "-%d", j);
		i = j;
	}
}

static void random_mask(int vcpus, char *buf, size_t size)
{
	static const char *const odd[] = {"", "^0", "0-100", "^", "x", "0,,1", " 1 ", "2-1"};
	unsigned char in[64];

	if (chance(15)) {
		snprintf(buf, size, "%s", PICK(odd));
		return;
	}
	for (int i = 0; i < vcpus; i++)
		in[i] = (unsigned char)chance(40);
	cpulist(in, vcpus, buf, size);
	if (chance(10))
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%d", *buf ? "," : "",
			 vcpus + rn(3));
}

/* hw:numa_cpus.N / hw:numa_mem.N (or the image's), with a fault or two. */
static void numa_split(json_t *specs, int vcpus, int mem, int nodes, bool image)
{
	const char *cpus_key = image ? "hw_numa_cpus.%d" : "hw:numa_cpus.%d";
	const char *mem_key = image ? "hw_numa_mem.%d" : "hw:numa_mem.%d";
	unsigned char in[64];
	int node_of[64], left = mem;
	char key[32], buf[256];

	for (int v = 0; v < vcpus; v++)
		node_of[v] = chance(70) ? v * nodes / vcpus : rn(nodes);
	if (chance(8))
		node_of[rn(vcpus)] = -1; /* unassigned */
	for (int n = 0; n < nodes; n++) {
		int m = n == nodes - 1 ? left : rn(left + 1);

		for (int v = 0; v < vcpus; v++)
			in[v] = node_of[v] == n || (chance(3) && v < vcpus); /* maybe a duplicate */
		cpulist(in, vcpus, buf, sizeof(buf));
		if (chance(5))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ",%d",
				 vcpus + rn(4));
		if (chance(3))
			snprintf(buf, sizeof(buf), "%s", chance(50) ? "1-x" : "3-1");
		snprintf(key, sizeof(key), cpus_key, n);
		if (!(n == nodes - 1 && chance(5)))
			set_str(specs, key, buf);
		left -= m;
		snprintf(key, sizeof(key), mem_key, n);
		snprintf(buf, sizeof(buf), "%d", chance(5) ? m + 1 : m);
		if (chance(2))
			snprintf(buf, sizeof(buf), "%s", chance(50) ? "abc" : "-1");
		if (!(n == nodes - 1 && chance(5)))
			set_str(specs, key, buf);
	}
}

static void random_flavor_cpu(json_t *fs, int vcpus)
{
	static const char *const pol[] = {"shared", "dedicated", "mixed", "foo", ""};
	static const char *const thr[] = {"prefer", "isolate", "require", "bar", ""};
	static const char *const emu[] = {"share", "isolate", "x"};
	static const char *const rt[] = {"yes", "no", "true", "1", "False"};
	char buf[256];

	if (chance(45))
		set_str(fs, "hw:cpu_policy", PICK(pol));
	if (chance(20))
		set_str(fs, "hw:cpu_thread_policy", PICK(thr));
	if (chance(20)) {
		random_mask(vcpus, buf, sizeof(buf));
		set_str(fs, "hw:cpu_dedicated_mask", buf);
	}
	if (chance(15))
		set_str(fs, "hw:cpu_realtime", PICK(rt));
	if (chance(15)) {
		random_mask(vcpus, buf, sizeof(buf));
		set_str(fs, "hw:cpu_realtime_mask", buf);
	}
	if (chance(15))
		set_str(fs, "hw:emulator_threads_policy", PICK(emu));
}

static void random_flavor_rest(json_t *fs, int vcpus)
{
	static const char *const page[] = {"small", "large", "any",   "2048", "1048576",
					   "2MB",   "1GB",   "2M",    "foo",  "0",
					   "512B",  "-3KB",  "1.5KB", "-4KB", ""};
	static const char *const pci[] = {"a1:1", "a1:2,a2:1", "nope:1",   "a1",
					  "a1:x", "a1:0",      " a2 : 1 ", "a1:-1"};
	static const char *const ppol[] = {"legacy", "required", "preferred", "socket", "x"};
	char buf[32];

	if (chance(20))
		set_str(fs, "hw:mem_page_size", PICK(page));
	if (chance(5))
		set_str(fs, "hw:locked_memory", chance(50) ? "true" : "false");
	if (chance(4))
		set_str(fs, "hw:pmem", chance(50) ? "ns1" : " , ");
	if (chance(10)) {
		snprintf(buf, sizeof(buf), "%d",
			 chance(60)   ? vcpus
			 : chance(50) ? vcpus + 1
				      : rn(9));
		set_str(fs,
			chance(70)   ? "resources:PCPU"
			: chance(50) ? "resources:VCPU"
				     : "resources1:PCPU",
			buf);
	}
	if (chance(5))
		set_str(fs, "trait:HW_CPU_HYPERTHREADING", chance(50) ? "required" : "forbidden");
	if (chance(10))
		set_str(fs, "hw:pci_numa_affinity_policy", PICK(ppol));
	if (chance(10))
		set_str(fs, "pci_passthrough:alias", PICK(pci));
}

static void random_image(json_t *im, int vcpus, int mem)
{
	static const char *const pol[] = {"shared", "dedicated", "mixed", "Dedicated"};
	static const char *const thr[] = {"prefer", "isolate", "require", "x"};
	static const char *const nodes[] = {"1", "2", "4", "0", "-1", "two", " 2 "};
	static const char *const page[] = {"small", "large", "2048", "1GB", "any", "2M"};
	static const char *const ppol[] = {"legacy", "required", "preferred", "fake"};
	char buf[64];

	if (chance(10))
		set_str(im, "hw_cpu_policy", PICK(pol));
	if (chance(8))
		set_str(im, "hw_cpu_thread_policy", PICK(thr));
	if (chance(8))
		set_str(im, "hw_numa_nodes", PICK(nodes));
	if (chance(8))
		set_str(im, "hw_mem_page_size", PICK(page));
	if (chance(5))
		set_str(im, "hw_pci_numa_affinity_policy", PICK(ppol));
	if (chance(4))
		set_str(im, "hw_locked_memory", chance(50) ? "true" : "no");
	if (chance(3))
		set_str(im, "trait:HW_CPU_HYPERTHREADING", "required");
	if (chance(6)) {
		random_mask(vcpus, buf, sizeof(buf));
		set_str(im, "hw_cpu_realtime_mask", buf);
	}
	if (chance(2))
		set_str(im, "hw_cpu_sockets", chance(50) ? "2" : "two");
	if (chance(5))
		numa_split(im, vcpus, mem, 1 + rn(3), true);
}

static json_t *random_request(void)
{
	static const int vc[] = {1, 2, 3, 4, 4, 6, 8, 8, 12, 16};
	static const int mm[] = {512, 1024, 1536, 2048, 2048, 3072, 4096, 4097};
	static const char *const nodes[] = {"1", "2", "2", "3", "4", "0", "-1", "abc", "02", ""};
	json_t *r = json_object(), *fs = json_object(), *im = json_object(), *al;
	int vcpus = PICK(vc), mem = PICK(mm);

	json_object_set_new(r, "vcpus", json_integer(vcpus));
	json_object_set_new(r, "memory_mb", json_integer(mem));
	if (chance(35))
		set_str(fs, "hw:numa_nodes", PICK(nodes));
	if (chance(20))
		numa_split(fs, vcpus, mem, 1 + rn(4), false);
	random_flavor_cpu(fs, vcpus);
	random_flavor_rest(fs, vcpus);
	if (chance(40))
		random_image(im, vcpus, mem);
	al = json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s,s:s}]", "name", "a1", "vendor_id", "8086",
		       "product_id", "1520", "name", "a2", "vendor_id", "15b3", "product_id",
		       "1017", "numa_policy", "required");
	if (chance(3))
		json_array_append_new(al, json_pack("{s:s,s:s,s:s}", "name", "a2", "vendor_id",
						    "15b3", "product_id", "1018"));
	json_object_set_new(r, "extra_specs", fs);
	json_object_set_new(r, "image_properties", im);
	json_object_set_new(r, "pci_aliases", al);
	return r;
}

/*
 * A request meant to be valid, so the guest cells Nova builds get compared
 * often: consistent policies and masks, nodes that divide, explicit splits
 * that add up.
 */
static void valid_split(json_t *fs, int vcpus, int mem, int nodes)
{
	unsigned char in[64];
	char key[32], buf[256];
	int left = mem;

	for (int n = 0; n < nodes; n++) {
		int m = n == nodes - 1 ? left : rn(left + 1);

		for (int v = 0; v < vcpus; v++)
			in[v] = v % nodes == n;
		cpulist(in, vcpus, buf, sizeof(buf));
		snprintf(key, sizeof(key), "hw:numa_cpus.%d", n);
		set_str(fs, key, buf);
		snprintf(key, sizeof(key), "hw:numa_mem.%d", n);
		snprintf(buf, sizeof(buf), "%d", m);
		set_str(fs, key, buf);
		left -= m;
	}
}

static void valid_cpu(json_t *fs, json_t *im, int vcpus)
{
	static const char *const thr[] = {"prefer", "isolate", "require"};
	char buf[64];
	int pol = rn(4); /* none, shared, dedicated, mixed */
	unsigned char in[64];

	if (pol == 1 || (pol == 2 && chance(80)))
		set_str(fs, "hw:cpu_policy", pol == 1 ? "shared" : "dedicated");
	if (pol == 2 && !json_object_get(fs, "hw:cpu_policy"))
		set_str(im, "hw_cpu_policy", "dedicated");
	if (pol == 3 && vcpus > 1) {
		set_str(fs, "hw:cpu_policy", "mixed");
		for (int v = 0; v < vcpus; v++)
			in[v] = v == 0 ? 1 : v == 1 ? 0 : (unsigned char)chance(50);
		cpulist(in, vcpus, buf, sizeof(buf));
		set_str(fs, chance(70) ? "hw:cpu_dedicated_mask" : "hw:cpu_realtime_mask", buf);
		if (json_object_get(fs, "hw:cpu_realtime_mask"))
			set_str(fs, "hw:cpu_realtime", "yes");
	}
	if (pol >= 2 && chance(40))
		set_str(fs, "hw:cpu_thread_policy", PICK(thr));
	if (pol >= 2 && chance(30))
		set_str(fs, "hw:emulator_threads_policy", chance(50) ? "share" : "isolate");
	if (pol == 2 && chance(20) && vcpus > 1) {
		set_str(fs, "hw:cpu_realtime", "true");
		set_str(fs, "hw:cpu_realtime_mask", "^0");
	}
}

static json_t *valid_request(void)
{
	static const int vc[] = {1, 2, 4, 6, 8, 12, 16, 24};
	static const char *const page[] = {"small", "large", "any", "2048", "1GB", "2MB"};
	json_t *r = json_object(), *fs = json_object(), *im = json_object();
	int vcpus = PICK(vc), nodes = 1 + rn(4), mem;
	char buf[16];

	while (vcpus % nodes)
		nodes--;
	mem = nodes * 512 * (1 + rn(8));
	json_object_set_new(r, "vcpus", json_integer(vcpus));
	json_object_set_new(r, "memory_mb", json_integer(mem));
	snprintf(buf, sizeof(buf), "%d", nodes);
	if (chance(40))
		set_str(fs, "hw:numa_nodes", buf);
	else if (chance(15))
		set_str(im, "hw_numa_nodes", buf);
	if (json_object_get(fs, "hw:numa_nodes") && chance(40))
		valid_split(fs, vcpus, mem, nodes);
	valid_cpu(fs, im, vcpus);
	if (chance(30))
		set_str(fs, "hw:mem_page_size", PICK(page));
	if (chance(10)) {
		set_str(fs, "hw:mem_page_size", chance(50) ? "any" : "large");
		set_str(im, "hw_mem_page_size", chance(50) ? "2048" : "small");
	}
	if (chance(15))
		set_str(fs, "pci_passthrough:alias", chance(50) ? "a1:1" : "a1:1,a2:2");
	if (chance(10))
		set_str(fs, "hw:pci_numa_affinity_policy", "preferred");
	json_object_set_new(r, "extra_specs", fs);
	json_object_set_new(r, "image_properties", im);
	json_object_set_new(r, "pci_aliases",
			    json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s}]", "name", "a1", "vendor_id",
				      "8086", "product_id", "1520", "name", "a2", "vendor_id",
				      "15b3", "product_id", "1017"));
	return r;
}

/* Only a NUMA split, faulty now and then: the manual-split rules in depth. */
static json_t *split_request(void)
{
	static const int vc[] = {2, 3, 4, 6, 8, 12};
	json_t *r = json_object(), *fs = json_object(), *im = json_object();
	int vcpus = PICK(vc), mem = 1024 * (1 + rn(4)), nodes = 1 + rn(4);
	bool image = chance(20);
	char buf[16];

	json_object_set_new(r, "vcpus", json_integer(vcpus));
	json_object_set_new(r, "memory_mb", json_integer(mem));
	snprintf(buf, sizeof(buf), "%d", nodes);
	set_str(fs, "hw:numa_nodes", buf);
	numa_split(image ? im : fs, vcpus, mem, nodes, image);
	if (chance(30))
		set_str(fs, "hw:cpu_policy", "dedicated");
	json_object_set_new(r, "extra_specs", fs);
	json_object_set_new(r, "image_properties", im);
	return r;
}

struct tally {
	int cases, accepted, rejected, deliberate, mismatches, order_cases, order_bad;
	int by_class[64]; /* rejections per row of the docs table */
	int by_deliberate[3];
};

static void count_class(struct tally *t, const char *cls)
{
	for (int i = 0; i < nmap; i++)
		if (strcmp(map[i].cls, cls) == 0)
			t->by_class[i]++;
}

static void print_classes(const struct tally *t)
{
	int seen = 0;

	printf("Nova classes met:");
	for (int i = 0; i < nmap; i++) {
		seen += t->by_class[i] > 0;
		printf(" %s=%d", map[i].cls, t->by_class[i]);
	}
	printf("\n%d of %d classes of the table met\n", seen, nmap);
}

/* Our own rules, refusing what Nova accepts (docs/policies/nova-errors.md). */
static const char *const deliberate_reasons[] = {"numa_mem_negative", "unsupported_page_size",
						 "invalid_pci_count"};

static int deliberate(const char *reason)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(reason, deliberate_reasons[i]) == 0)
			return i;
	return -1;
}

static const char *cell_str(json_t *c, const char *k)
{
	json_t *v = json_object_get(c, k);

	return json_is_string(v) ? json_string_value(v) : "none";
}

/* Everything Nova says about an accepted request, against ours. */
static const char *compare_accepted(const np_request *r, json_t *nova)
{
	json_t *cells = json_object_get(nova, "guest_cells"), *c;
	size_t i;

	if (np_request_has_numa(r) != json_is_true(json_object_get(nova, "guest_numa")))
		return "guest_numa differs";
	if (np_request_has_numa(r) && !same_cells(r, cells))
		return "guest cells differ";
	if (!np_request_has_numa(r) && (np_request_cell_count(r) != 1 ||
					np_request_cell(r, 0)->nvcpus != (int)np_request_vcpus(r)))
		return "a request without topology is not one floating cell";
	json_array_foreach (cells, i, c) {
		if (!same_pagesize(json_object_get(c, "pagesize"),
				   np_request_cell(r, (int)i)->pagesize))
			return "page size differs";
		if (strcmp(cell_str(c, "cpu_policy"), np_cpu_policy_name(np_request_cpu_policy(r))))
			return "cpu policy differs";
		if (strcmp(cell_str(c, "cpu_thread_policy"),
			   np_thread_policy_name(np_request_thread_policy(r))))
			return "thread policy differs";
	}
	if (np_request_has_numa(r) &&
	    strcmp(cell_str(nova, "emulator_threads_policy"),
		   np_emulator_policy_name(np_request_emulator_policy(r))))
		return "emulator threads policy differs";
	return NULL;
}

static const char *compare_pci(const np_request *r, json_t *nova)
{
	json_t *p;
	size_t i;
	int k = 0;

	json_array_foreach (json_object_get(nova, "pci"), i, p) {
		const struct np_pci_request *q;

		if (json_integer_value(json_object_get(p, "count")) == 0)
			continue; /* we drop requests for no device */
		if (!(q = np_request_pci(r, k++)))
			return "fewer pci requests";
		if (q->count != json_integer_value(json_object_get(p, "count")) ||
		    strcmp(np_pci_policy_name(q->policy), cell_str(p, "numa_policy")) ||
		    q->vendor != strtoul(cell_str(p, "vendor_id"), NULL, 16))
			return "pci request differs";
	}
	return k == np_request_pci_count(r) ? NULL : "more pci requests";
}

static void diff_one(struct tally *t, json_t *req, json_t *nova)
{
	json_t *cls = json_object_get(nova, "error_class");
	struct np_error err = {0};
	np_request *r = NULL;
	int rc = build(req, json_object_get(req, "pci_aliases"), &r, &err);
	const char *why = NULL;

	t->cases++;
	if (json_is_string(cls) && rc == 0)
		why = "Nova rejects, we accept";
	else if (json_is_string(cls) && !reason_matches(json_string_value(cls), err.reason))
		why = "Nova's class is not mapped to our reason";
	else if (!json_is_string(cls) && rc && deliberate(err.reason) >= 0)
		t->by_deliberate[deliberate(err.reason)]++;
	else if (!json_is_string(cls) && rc)
		why = "Nova accepts, we reject";
	else if (!json_is_string(cls) && !(why = compare_accepted(r, nova)))
		why = compare_pci(r, nova);
	if (!why && r && np__request_check(r, &err))
		why = "request invariants broken";
	t->deliberate = t->by_deliberate[0] + t->by_deliberate[1] + t->by_deliberate[2];
	t->accepted += !why && rc == 0;
	t->rejected += !why && json_is_string(cls);
	if (!why && json_is_string(cls))
		count_class(t, json_string_value(cls));
	if (why && t->mismatches++ < 12) {
		char *s = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);

		fprintf(stderr, "MISMATCH %s\n  request %s\n  nova %s: %s\n  ours: %s\n", why, s,
			str_or(cls, "accepts"), str_or(json_object_get(nova, "error"), ""),
			rc ? err.message : "accepts");
		free(s);
	}
	np_request_free(r);
}

/* A CPU spec whose Python set order we replay. */
static json_t *random_order_case(void)
{
	char buf[256];
	size_t len = 0;
	int rules = 1 + rn(8);

	for (int i = 0; i < rules && len < sizeof(buf) - 32; i++) {
		int a = rn(chance(70) ? 40 : 300), b = a + rn(chance(50) ? 3 : 60);

		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s%d", i ? "," : "",
					chance(20) ? "^" : "", a);
		if (chance(50))
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "-%d", b);
	}
	return json_pack("{s:s,s:b}", "cpu_spec", buf, "image", chance(50));
}

static void order_one(struct tally *t, json_t *c, json_t *nova)
{
	int64_t *ids = NULL;
	int n = 0, rc;
	json_t *order = json_object_get(nova, "order");
	bool same;

	if (!order)
		return; /* a spec Nova refuses: nothing to order */
	rc = np__cpuspec_py_order(json_string_value(json_object_get(c, "cpu_spec")),
				  json_is_true(json_object_get(c, "image")), &ids, &n);
	same = rc == 0 && (size_t)n == json_array_size(order);
	for (int i = 0; same && i < n; i++)
		same = json_integer_value(json_array_get(order, (size_t)i)) == ids[i];
	t->order_cases++;
	if (!same && t->order_bad++ < 5)
		fprintf(stderr, "ORDER MISMATCH for %s\n",
			json_string_value(json_object_get(c, "cpu_spec")));
	free(ids);
}

static bool have_nova(void)
{
	return access("/usr/bin/python3", X_OK) == 0 &&
	       system("/usr/bin/python3 -c 'import nova.virt.hardware' >/dev/null 2>&1") == 0;
}

/* Write CASES as JSON lines, run Nova over them, return its answers. */
static json_t *run_nova(json_t *cases)
{
	char dir[] = "/tmp/np-diff-XXXXXX", in[64], out[64], cmd[1024];
	json_t *answers = json_array(), *c;
	char *line = NULL;
	size_t cap = 0, i;
	FILE *f;

	if (!mkdtemp(dir))
		return answers;
	snprintf(in, sizeof(in), "%s/in.jsonl", dir);
	snprintf(out, sizeof(out), "%s/out.jsonl", dir);
	f = fopen(in, "w");
	json_array_foreach (cases, i, c) {
		json_dumpf(c, f, JSON_COMPACT);
		fputc('\n', f);
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/tests/nova/constraints_batch.py' <%s >%s",
		 src_dir(), in, out);
	CHECK(system(cmd) == 0, "constraints_batch.py failed");
	f = fopen(out, "r");
	while (f && getline(&line, &cap, f) > 0)
		json_array_append_new(answers, json_loads(line, 0, NULL));
	if (f)
		fclose(f);
	free(line);
	remove(in);
	remove(out);
	rmdir(dir);
	return answers;
}

static void differential(void)
{
	const char *n_env = getenv("NP_DIFF_CASES"), *s_env = getenv("NP_DIFF_SEED");
	int n = n_env ? (int)strtol(n_env, NULL, 10) : 4000, norder = n / 4;
	struct tally t = {0};
	json_t *cases = json_array(), *answers;

	if (!have_nova()) {
		printf("differential: skipped (no python3-nova at /usr/bin/python3)\n");
		return;
	}
	rng = s_env ? strtoull(s_env, NULL, 10) : 20260901;
	for (int i = 0; i < n; i++)
		json_array_append_new(cases, i % 3 == 0	  ? valid_request()
					     : i % 6 == 1 ? split_request()
							  : random_request());
	for (int i = 0; i < norder; i++)
		json_array_append_new(cases, random_order_case());
	answers = run_nova(cases);
	CHECK(json_array_size(answers) == (size_t)(n + norder), "Nova answered %zu of %d",
	      json_array_size(answers), n + norder);
	for (size_t i = 0; i < json_array_size(answers); i++) {
		json_t *c = json_array_get(cases, i), *a = json_array_get(answers, i);

		if (i < (size_t)n)
			diff_one(&t, c, a);
		else
			order_one(&t, c, a);
	}
	printf("differential (seed %llu): %d random requests: %d accepted alike (same cells), "
	       "%d rejected alike (same class), %d deliberate divergences, %d mismatches\n",
	       (unsigned long long)(s_env ? strtoull(s_env, NULL, 10) : 20260901), t.cases,
	       t.accepted, t.rejected, t.deliberate, t.mismatches);
	printf("deliberate: %s %d, %s %d, %s %d\n", deliberate_reasons[0], t.by_deliberate[0],
	       deliberate_reasons[1], t.by_deliberate[1], deliberate_reasons[2], t.by_deliberate[2]);
	printf("python set order: %d specs, %d mismatches\n", t.order_cases, t.order_bad);
	print_classes(&t);
	CHECK(t.mismatches == 0, "%d disagreements with Nova", t.mismatches);
	CHECK(t.order_bad == 0, "%d set-order disagreements with Python", t.order_bad);
	CHECK(t.accepted > n / 10 && t.rejected > n / 10, "a mix of valid (%d) and invalid (%d)",
	      t.accepted, t.rejected);
	json_decref(cases);
	json_decref(answers);
}

/* ---------------------------------------------------------------------- */
/* 3. the other formats                                                    */

/* A good request: invariants hold; returned for more checks (or NULL). */
static np_request *good(int rc, np_request *r, const struct np_error *err, const char *what)
{
	struct np_error e2 = {0};

	CHECK(rc == 0 && r != NULL, "%s: %s", what, err->message);
	if (rc || !r)
		return NULL;
	CHECK(np__request_check(r, &e2) == 0, "%s: invariants: %s", what, e2.message);
	return r;
}

/* A bad one: NP_EINPUT, REASON, NEEDLE in a one-line message naming it. */
static void bad(int rc, np_request *r, const struct np_error *err, const char *reason,
		const char *needle, const char *what)
{
	char tail[64];

	snprintf(tail, sizeof(tail), "(%s)", reason);
	CHECK(rc == NP_EINPUT && r == NULL, "%s: rc %d", what, rc);
	CHECK(strcmp(err->reason, reason) == 0, "%s: reason '%s', want '%s' (%s)", what,
	      err->reason, reason, err->message);
	CHECK(strstr(err->message, needle) != NULL, "%s: message '%s' lacks '%s'", what,
	      err->message, needle);
	CHECK(strstr(err->message, tail) && !strchr(err->message, '\n'),
	      "%s: message '%s' is one line ending with the reason", what, err->message);
	np_request_free(r);
}

static bool cell_is(const np_request *r, int i, const char *cpus, const char *pcpus, uint64_t mem)
{
	const struct np_guest_cell *c = np_request_cell(r, i);
	char a[128], b[128];

	if (!c)
		return false;
	np__format_cpulist(c->vcpus, c->nvcpus, a, sizeof(a));
	np__format_cpulist(c->pcpus, c->npcpus, b, sizeof(b));
	if (strcmp(a, cpus) || strcmp(b, pcpus) || c->memory_mb != mem)
		fprintf(stderr, "cell %d is cpus '%s' pcpus '%s' %llu MiB\n", i, a, b,
			(unsigned long long)c->memory_mb);
	return !strcmp(a, cpus) && !strcmp(b, pcpus) && c->memory_mb == mem;
}

static void flavor_good(void)
{
	struct np_error err = {0};
	np_request *r = NULL;
	int rc;

	rc = np_request_from_flavor_text(
	    "vcpus=8,ram=4096,hw:numa_nodes=2,hw:numa_cpus.0=0-4,^2,6,"
	    "hw:numa_cpus.1=2,5,7,hw:numa_mem.0=1024,hw:numa_mem.1=3072",
	    NULL, &r, &err);
	if ((r = good(rc, r, &err, "flavor with comma lists"))) {
		CHECK(np_request_has_numa(r) && np_request_cell_count(r) == 2, "two guest cells");
		CHECK(cell_is(r, 0, "0-1,3-4,6", "", 1024) && cell_is(r, 1, "2,5,7", "", 3072),
		      "cells from hw:numa_cpus.N with '^' and commas");
		np_request_free(r);
	}
	rc = np_request_from_flavor_text(
	    " vcpus = 4 , memory_mb=2048,hw:cpu_policy=mixed,"
	    "hw:cpu_dedicated_mask=^0,1,numaplace:mem_policy=interleave,"
	    "numaplace:affinity=soft,",
	    NULL, &r, &err);
	if ((r = good(rc, r, &err, "mixed mask, numaplace options, blanks, trailing comma"))) {
		CHECK(cell_is(r, 0, "0", "1-3", 2048), "mask ^0,1 pins 1-3");
		CHECK(np_request_mem_policy(r) == NP_MEM_POLICY_INTERLEAVE, "mem_policy");
		CHECK(np_request_affinity(r) == NP_AFFINITY_SOFT, "affinity");
		CHECK(np_request_cpu_policy(r) == NP_CPU_POLICY_MIXED, "mixed");
		np_request_free(r);
	}
	rc = np_request_from_flavor_text("vcpus=4,ram=2048",
					 "hw_cpu_policy=dedicated,"
					 "hw_cpu_thread_policy=isolate",
					 &r, &err);
	if ((r = good(rc, r, &err, "image makes it dedicated"))) {
		CHECK(np_request_has_numa(r) && cell_is(r, 0, "", "0-3", 2048), "one pinned cell");
		CHECK(np_request_thread_policy(r) == NP_THREAD_POLICY_ISOLATE,
		      "image thread policy");
		np_request_free(r);
	}
	rc = np_request_from_flavor_text("vcpus=2,ram=1024,pci_passthrough:alias=nic:2,gpu:1,"
					 "numaplace:pci_alias.nic=8086:154d:required,"
					 "numaplace:pci_alias.gpu=10de:1eb8",
					 NULL, &r, &err);
	if ((r = good(rc, r, &err, "inline pci aliases"))) {
		const struct np_pci_request *p = np_request_pci(r, 0), *g = np_request_pci(r, 1);

		CHECK(np_request_pci_count(r) == 2 && p && g, "two pci requests");
		CHECK(p && p->vendor == 0x8086 && p->product == 0x154d && p->count == 2 &&
			  p->policy == NP_PCI_POLICY_REQUIRED && !strcmp(p->alias, "nic"),
		      "nic:2 required");
		CHECK(g && g->vendor == 0x10de && g->policy == NP_PCI_POLICY_LEGACY, "gpu legacy");
		CHECK(!np_request_has_numa(r) && cell_is(r, 0, "0-1", "", 1024),
		      "no topology: one floating cell");
		np_request_free(r);
	}
}

static void flavor_bad(void)
{
	static const struct {
		const char *flavor, *image, *reason, *needle;
	} cases[] = {
	    {"ram=4096", NULL, "invalid_flavor_text", "needs vcpus=N"},
	    {"vcpus=4", NULL, "invalid_flavor_text", "needs ram=MiB"},
	    {"vcpus=x,ram=1", NULL, "invalid_flavor_text", "vcpus=x is not"},
	    {"vcpus=2,ram=lots", NULL, "invalid_flavor_text", "ram=lots is not"},
	    {"vcpus=2,vcpus=3,ram=1", NULL, "invalid_flavor_text", "'vcpus' given twice"},
	    {"vcpus=2,ram=1,memory_mb=1", NULL, "invalid_flavor_text", "'ram' given twice"},
	    {"^2,vcpus=2,ram=1", NULL, "invalid_flavor_text", "expected key=value at '^2'"},
	    {"vcpus=2,ram=1", "oops", "invalid_flavor_text", "--image: expected key=value"},
	    {"vcpus=8,ram=4096,hw:numa_nodes=3", NULL, "numa_topology_asymmetric",
	     "hw:numa_nodes=3 does not divide 8 vCPUs and 4096 MiB evenly"},
	    {"vcpus=2,ram=1024,numaplace:mem_policy=loose", NULL, "invalid_numaplace_option",
	     "numaplace:mem_policy=loose"},
	    {"vcpus=2,ram=1024,numaplace:colour=red", NULL, "unknown_numaplace_option",
	     "numaplace:colour"},
	    {"vcpus=2,ram=1024,hw:cpu_policy=shared", "hw_cpu_policy=dedicated",
	     "image_cpu_pinning_forbidden", "image hw_cpu_policy=dedicated"},
	    {"vcpus=2,ram=1024,hw:numa_nodes=1,hw:numa_nodes=2", NULL, "duplicate_key",
	     "'hw:numa_nodes' given twice"},
	    {"vcpus=2,ram=1024,pci_passthrough:alias=nic:1", NULL, "pci_alias_not_defined",
	     "'nic'"},
	    {"vcpus=2,ram=1024,pci_passthrough:alias=nic:1,numaplace:pci_alias.nic=8086", NULL,
	     "invalid_pci_alias", "numaplace:pci_alias.nic=8086"},
	    {"vcpus=4,ram=1024,hw:cpu_policy=dedicated,hw:cpu_realtime=yes,"
	     "hw:cpu_realtime_mask=^0-3",
	     NULL, "invalid_realtime_mask", "leaves no realtime"},
	    {"vcpus=2,ram=1024,hw:mem_page_size=-4KB", NULL, "unsupported_page_size", "-4 KiB"},
	    {"vcpus=2,ram=1024,hw:numa_nodes=2,hw:numa_cpus.0=0,hw:numa_cpus.1=1,"
	     "hw:numa_mem.0=-512,hw:numa_mem.1=1536",
	     NULL, "numa_mem_negative", "hw:numa_mem.0=-512"},
	};

	for (size_t i = 0; i < NP__ARRAY_SIZE(cases); i++) {
		struct np_error err = {0};
		np_request *r = NULL;
		int rc = np_request_from_flavor_text(cases[i].flavor, cases[i].image, &r, &err);

		bad(rc, r, &err, cases[i].reason, cases[i].needle, cases[i].flavor);
	}
}

static void xl_good(void)
{
	struct np_error err = {0};
	np_request *r = NULL;
	char path[512], *buf = NULL;
	size_t len;
	int rc = np_request_from_xl_vnuma(
	    "[[\"pnode=0\",\"size=1024\",\"vcpus=0-1\",\"vdistances=10,20\"],"
	    "[\"pnode=1\",\"size=1024\",\"vcpus=2-3\",\"vdistances=20,10\"]]",
	    4, 2048, &r, &err);

	if ((r = good(rc, r, &err, "xl vnuma list"))) {
		CHECK(np_request_has_numa(r) && np_request_cell_count(r) == 2, "two vnodes");
		CHECK(cell_is(r, 0, "0-1", "", 1024) && cell_is(r, 1, "2-3", "", 1024),
		      "vnode cells");
		CHECK(np_request_cell_pinned_node(r, 0) == 0 &&
			  np_request_cell_pinned_node(r, 1) == 1,
		      "pnode fixes the host node");
		CHECK(np_request_affinity(r) == NP_AFFINITY_SOFT, "xl's soft affinity");
		np_request_free(r);
	}
	snprintf(path, sizeof(path), "%s/tests/data/request/vnuma-3node.cfg", src_dir());
	rc = np__read_file(path, 1 << 20, &buf, &len, &err);
	CHECK(rc == 0, "read %s: %s", path, err.message);
	rc = buf ? np_request_from_xl_vnuma(buf, 8, 4096, &r, &err) : -1;
	if ((r = good(rc, r, &err, "vnuma-3node.cfg"))) {
		CHECK(np_request_cell_count(r) == 3 && cell_is(r, 1, "4,6", "", 1024) &&
			  cell_is(r, 2, "5,7", "", 1024),
		      "three vnodes, quotes of both kinds, comments, trailing comma");
		CHECK(np_request_cell_pinned_node(r, 1) == 2 &&
			  np_request_cell_pinned_node(r, 2) == 2,
		      "two vnodes on pnode 2");
		np_request_free(r);
	}
	free(buf);
	/* xl's parser takes vnodes without vdistances= (the help's example has none). */
	rc = np_request_from_xl_vnuma("[ [\"pnode=0\",\"size=2048\",\"vcpus=0-1\"] ]", 2, 2048,
				      &r, &err);
	if ((r = good(rc, r, &err, "vnode without vdistances="))) {
		CHECK(np_request_cell_count(r) == 1 && cell_is(r, 0, "0-1", "", 2048), "one vnode");
		np_request_free(r);
	}
	rc = np_request_from_xl_vnuma("[[\"pnode=0\",\"size=1024\",\"vcpus=0-1\",\"vdistances=10,20\"],"
				      "[\"pnode=1\",\"size=1024\",\"vcpus=2-3\"]]",
				      4, 2048, &r, &err);
	if ((r = good(rc, r, &err, "vdistances= on one vnode only")))
		np_request_free(r);
}

static void xl_bad(void)
{
#define V0 "[\"pnode=0\",\"size=1024\",\"vcpus=0-1\",\"vdistances=10,20\"]"
	static const struct {
		const char *text, *reason, *needle;
	} cases[] = {
	    {"[" V0 ",[\"pnode=1\",\"vcpus=2-3\",\"vdistances=20,10\"]]", "invalid_vnuma",
	     "vnode 1 has no size="},
	    {"[" V0 ",[\"pnode=1\",\"size=1024\",\"vcpus=2-4\",\"vdistances=20,10\"]]",
	     "numa_cpu_out_of_range", "vnode 1: vcpus= names vCPU 4"},
	    {"[" V0 ",[\"pnode=1\",\"size=1024\",\"vcpus=1-3\",\"vdistances=20,10\"]]",
	     "numa_cpu_duplicate", "vCPU 1 is in vnode 0 and vnode 1"},
	    {"[" V0 ",[\"pnode=1\",\"size=1024\",\"vcpus=2\",\"vdistances=20,10\"]]",
	     "numa_cpu_unassigned", "vCPU 3 is in no vnode"},
	    {"[" V0 ",[\"pnode=1\",\"size=512\",\"vcpus=2-3\",\"vdistances=20,10\"]]",
	     "numa_memory_mismatch", "add up to 1536 MiB"},
	    {"[" V0 ",[\"pnode=1\",\"size=1024\",\"vcpus=2-3\",\"vdistances=20\"]]",
	     "invalid_vnuma", "vnode 1: vdistances= has 1 values for 2"},
	    {"[" V0 ",[\"pnode=1\",\"size=1024\",\"vcpus=2-3\",\"vdistances=5,10\"]]",
	     "invalid_vnuma", "closer than itself"},
	    {"[" V0 ",[\"pnode=x\",\"size=1024\",\"vcpus=2-3\",\"vdistances=20,10\"]]",
	     "invalid_vnuma", "vnode 1: pnode=x"},
	    {"[" V0 ",[\"pnode=1\",\"size=1024\",\"vcpus=2-3\",\"vdistances=\"]]",
	     "invalid_vnuma", "vnode 1: vdistances= is empty"},
	    {"[" V0 ",[\"size=1024\",\"vcpus=2-3\"]]", "invalid_vnuma", "vnode 1 has no pnode="},
	    {"[" V0 ",[\"pnode=1\",\"size=1024\"]]", "invalid_vnuma", "vnode 1 has no vcpus="},
	    {"[" V0 ",[\"pnode=1\",\"colour=red\"]]", "invalid_vnuma", "vnode 1: 'colour'"},
	    {"[" V0 ",[\"pnode=1\",\"pnode=2\"]]", "invalid_vnuma", "vnode 1: pnode= given twice"},
	    {"[" V0 ",[\"pnode=1\",\"size=1024", "invalid_vnuma", "unterminated string"},
	    {"[" V0, "invalid_vnuma", "expected ',' or ']'"},
	    {"[" V0 "] extra", "invalid_vnuma", "unexpected 'extra'"},
	    {"[]", "invalid_vnuma", "has no vnode"},
	    {"vnuma = 3", "invalid_vnuma", "expected '[' opening the vnode list"},
	    {"[[pnode=0]]", "invalid_vnuma", "vnode 0: expected a quoted"},
	    {"[[\"vcpus=0-1,x\"]]", "invalid_vnuma", "vcpus=0-1,x is not a CPU list"},
	};
#undef V0
	for (size_t i = 0; i < NP__ARRAY_SIZE(cases); i++) {
		struct np_error err = {0};
		np_request *r = NULL;
		int rc = np_request_from_xl_vnuma(cases[i].text, 4, 2048, &r, &err);

		bad(rc, r, &err, cases[i].reason, cases[i].needle, cases[i].text);
	}
}

static int json_file(const char *name, np_request **r, struct np_error *err)
{
	char path[512], *buf = NULL;
	size_t len = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/tests/data/request/%s", src_dir(), name);
	if ((rc = np__read_file(path, 1 << 20, &buf, &len, err)))
		return rc;
	rc = np_request_from_json(buf, len, name, r, err);
	free(buf);
	return rc;
}

static const char ADDRESSED[] = "{\"schema\":\"numaplace.request/1\",\"vcpus\":1,"
				"\"memory_mb\":512,\"pci\":[{\"address\":\"3B:00.0\","
				"\"policy\":\"preferred\"}]}";

static void json_good(void)
{
	struct np_error err = {0};
	np_request *r = NULL;
	int n = 0, rc = json_file("pinned-2cell.json", &r, &err);
	const int *rt;

	if ((r = good(rc, r, &err, "pinned-2cell.json"))) {
		CHECK(cell_is(r, 0, "", "0-3", 4096) && cell_is(r, 1, "", "4-7", 4096),
		      "pinned cells");
		CHECK(np_request_cell(r, 0)->pagesize == 1048576 &&
			  np_request_cell(r, 1)->pagesize == 1048576,
		      "1G pages either way");
		CHECK(np_request_cell_pinned_node(r, 0) == -1 &&
			  np_request_cell_pinned_node(r, 1) == 3,
		      "host_node");
		CHECK(np_request_thread_policy(r) == NP_THREAD_POLICY_ISOLATE &&
			  np_request_emulator_policy(r) == NP_EMULATOR_POLICY_ISOLATE &&
			  np_request_mem_policy(r) == NP_MEM_POLICY_PREFERRED,
		      "policies");
		rt = np_request_realtime_vcpus(r, &n);
		CHECK(n == 6 && rt && rt[0] == 1 && rt[5] == 7, "realtime vCPUs");
		CHECK(np_request_pci_count(r) == 1 && np_request_pci(r, 0)->product == 0x154d &&
			  np_request_pci(r, 0)->policy == NP_PCI_POLICY_REQUIRED,
		      "pci");
		np_request_free(r);
	}
	rc = json_file("mixed.json", &r, &err);
	if ((r = good(rc, r, &err, "mixed.json"))) {
		CHECK(cell_is(r, 0, "0-1", "2", 1024) && cell_is(r, 1, "3", "4-5", 2048),
		      "mixed cells");
		CHECK(np_request_cell(r, 0)->pagesize == 2048 &&
			  np_request_cell(r, 1)->pagesize == NP_PAGESIZE_SMALL,
		      "page sizes");
		CHECK(np_request_affinity(r) == NP_AFFINITY_SOFT, "soft");
		np_request_free(r);
	}
	rc = np_request_from_json(ADDRESSED, sizeof(ADDRESSED) - 1, "a.json", &r, &err);
	if ((r = good(rc, r, &err, "pci by address"))) {
		CHECK(np_request_pci_count(r) == 1 &&
			  strcmp(np_request_pci(r, 0)->address, "0000:3b:00.0") == 0 &&
			  np_request_pci(r, 0)->count == 1 &&
			  np_request_pci(r, 0)->policy == NP_PCI_POLICY_PREFERRED,
		      "a device by address, normalised");
		np_request_free(r);
	}
	rc = json_file("floating.json", &r, &err);
	if ((r = good(rc, r, &err, "floating.json"))) {
		CHECK(!np_request_has_numa(r) && cell_is(r, 0, "0-3", "", 2048), "no topology");
		CHECK(np_request_mem_policy(r) == NP_MEM_POLICY_INTERLEAVE, "interleave");
		np_request_free(r);
	}
}

static void json_bad(void)
{
#define H "{\"schema\":\"numaplace.request/1\",\"vcpus\":4,\"memory_mb\":2048"
	static const struct {
		const char *text, *reason, *needle;
	} cases[] = {
	    {"{\"vcpus\":4}", "invalid_request_json", "schema: expected"},
	    {"{\"schema\":\"numaplace.request/2\"}", "invalid_request_json", "schema"},
	    {H, "invalid_request_json", "line 1 column"},
	    {"[]", "invalid_request_json", "the request: expected a JSON object"},
	    {H ",\"vcpus\":5}", "invalid_request_json", "duplicate"},
	    {H ",\"colour\":1}", "invalid_request_json", "unknown key 'colour'"},
	    {"{\"schema\":\"numaplace.request/1\",\"vcpus\":0,\"memory_mb\":1}",
	     "invalid_request_json", "vcpus: expected"},
	    {H ",\"cpu_policy\":\"pinned\"}", "invalid_request_json",
	     "cpu_policy: expected shared"},
	    {H ",\"cells\":[]}", "invalid_request_json", "cells: expected a list of 1-1024"},
	    {H ",\"cells\":[{\"vcpus\":[0,1,2,3],\"memory_mb\":-1}]}", "invalid_request_json",
	     "cells[0].memory_mb"},
	    {H ",\"cells\":[{\"vcpus\":[0,1,2,9],\"memory_mb\":2048}]}", "numa_cpu_out_of_range",
	     "cells[0].vcpus: vCPU 9"},
	    {H ",\"cells\":[{\"vcpus\":[0,1],\"memory_mb\":2048}]}", "numa_cpu_unassigned",
	     "vCPU 2 is in no cell"},
	    {H ",\"cells\":[{\"vcpus\":\"0-3\",\"memory_mb\":1024}]}", "numa_memory_mismatch",
	     "the cells hold 1024 MiB"},
	    {H ",\"cells\":[{\"vcpus\":\"0-3\",\"memory_mb\":2048,\"pagesize\":\"2X\"}]}",
	     "invalid_page_size", "cells[0]: expected null, small"},
	    {H ",\"cells\":[{\"vcpus\":\"0-3\",\"pinned_vcpus\":[5],\"memory_mb\":2048}],"
	       "\"cpu_policy\":\"mixed\"}",
	     "invalid_request_json", "cells[0].pinned_vcpus: vCPU 5 is not one of"},
	    {H ",\"cells\":[{\"vcpus\":\"0-3\",\"pinned_vcpus\":[1],\"memory_mb\":2048}]}",
	     "dedicated_mask_needs_mixed", "pinned_vcpus need cpu_policy"},
	    {H ",\"cpu_policy\":\"mixed\"}", "invalid_dedicated_mask", "not 0 of 4"},
	    /* The engine's limit (limits.h), not a reader's own. */
	    {"{\"schema\":\"numaplace.request/1\",\"vcpus\":4,\"memory_mb\":1099511627777}",
	     "invalid_request_json", "memory_mb: expected a size in MiB, 1-2^40"},
	    {H ",\"cells\":[{\"vcpus\":\"0-3\",\"memory_mb\":1099511627777}]}",
	     "invalid_request_json", "cells[0].memory_mb: expected MiB, 0-2^40"},
	    {H ",\"thread_policy\":\"isolate\"}", "thread_policy_needs_pinning", "not none"},
	    {H ",\"emulator_threads_policy\":\"isolate\",\"cpu_policy\":\"shared\"}",
	     "emulator_isolate_needs_pinning", "not shared"},
	    {H ",\"realtime_vcpus\":[1]}", "realtime_needs_pinning", "realtime_vcpus need"},
	    {H ",\"cpu_policy\":\"dedicated\",\"realtime_vcpus\":\"0-3\"}", "invalid_realtime_mask",
	     "every vCPU realtime"},
	    {H ",\"pci\":[{\"vendor\":\"86\",\"product\":\"154d\"}]}", "invalid_request_json",
	     "pci[0]: expected vendor and product"},
	    {H ",\"pci\":[{\"vendor\":\"8086\",\"product\":\"154d\",\"count\":0}]}",
	     "invalid_pci_count", "pci[0].count"},
	    {H ",\"pci\":[{\"vendor\":\"8086\",\"product\":\"154d\",\"policy\":\"near\"}]}",
	     "invalid_request_json", "policy: expected legacy"},
	    {H ",\"pci\":[{\"address\":\"0000:3b:20.0\"}]}", "invalid_request_json",
	     "pci[0].address: expected a PCI address"},
	    {H ",\"pci\":[{\"address\":\"3b:00.0\",\"count\":2}]}", "invalid_request_json",
	     "pci[0]: a device by address has no vendor, product or count"},
	};
#undef H
	struct np_error err = {0};
	np_request *r = NULL;
	int rc;

	for (size_t i = 0; i < NP__ARRAY_SIZE(cases); i++) {
		rc = np_request_from_json(cases[i].text, strlen(cases[i].text), "req.json", &r,
					  &err);
		bad(rc, r, &err, cases[i].reason, cases[i].needle, cases[i].text);
		CHECK(strncmp(err.message, "req.json: ", 10) == 0, "message names the file: %s",
		      err.message);
		r = NULL;
	}
	rc = json_file("bad-duplicate-vcpu.json", &r, &err);
	bad(rc, r, &err, "numa_cpu_duplicate", "vCPU 2 is in cells[0] and cells[1]", "dup file");
	rc = json_file("bad-unknown-key.json", (r = NULL, &r), &err);
	bad(rc, r, &err, "invalid_request_json", "cells[0]: unknown key 'hugepages'", "key file");
}

/*
 * Garbage in: truncated and mutated copies of good inputs must give a valid
 * request or NP_EINPUT with a reason, never a crash or a leak (ASan build).
 */
static void mutate(char *buf, size_t len)
{
	static const char junk[] = ",=[]\"'^-:0123456789x \n{}";
	int edits = 1 + rn(4);

	for (int i = 0; i < edits && len; i++) {
		size_t at = (size_t)rn((int)len);

		if (chance(20))
			buf[at] = '\0'; /* truncation */
		else
			buf[at] = chance(70) ? junk[rn((int)sizeof(junk) - 1)] : (char)rn(256);
	}
}

static void garbage_one(int kind, const char *seed, int *accepted, int *rejected)
{
	char buf[1024];
	struct np_error err = {0};
	np_request *r = NULL;
	int rc;

	snprintf(buf, sizeof(buf), "%s", seed);
	mutate(buf, strlen(buf));
	if (kind == 0)
		rc = np_request_from_flavor_text(buf, chance(50) ? "hw_cpu_policy=dedicated" : NULL,
						 &r, &err);
	else if (kind == 1)
		rc = np_request_from_xl_vnuma(buf, 4, 2048, &r, &err);
	else
		rc = np_request_from_json(buf, strlen(buf), "fuzz", &r, &err);
	CHECK(rc == 0 || (rc == NP_EINPUT && err.reason[0] && err.message[0]),
	      "garbage %d gave rc %d '%s' for '%s'", kind, rc, err.message, buf);
	if (rc == 0)
		CHECK(np__request_check(r, &err) == 0, "garbage %d accepted broken: %s", kind,
		      err.message);
	*accepted += rc == 0;
	*rejected += rc != 0;
	np_request_free(r);
}

static void garbage(void)
{
	static const char *const seeds[3] = {
	    "vcpus=4,ram=2048,hw:numa_nodes=2,hw:numa_cpus.0=0-1,hw:numa_cpus.1=2,3,"
	    "hw:numa_mem.0=1024,hw:numa_mem.1=1024,hw:cpu_policy=mixed,hw:cpu_dedicated_mask=^0",
	    "vnuma=[[\"pnode=0\",\"size=1024\",\"vcpus=0-1\",\"vdistances=10,20\"],"
	    "['pnode=1','size=1024','vcpus=2-3','vdistances=20,10'],];",
	    "{\"schema\":\"numaplace.request/1\",\"vcpus\":4,\"memory_mb\":2048,"
	    "\"cpu_policy\":\"mixed\",\"cells\":[{\"vcpus\":[0,1],\"pinned_vcpus\":[1],"
	    "\"memory_mb\":1024},{\"vcpus\":\"2-3\",\"memory_mb\":1024,\"pagesize\":\"2M\"}],"
	    "\"pci\":[{\"vendor\":\"8086\",\"product\":\"154d\"}]}",
	};
	int accepted = 0, rejected = 0;

	rng = 77;
	for (int i = 0; i < 3000; i++)
		garbage_one(i % 3, seeds[i % 3], &accepted, &rejected);
	printf("garbage: 3000 mutated inputs, %d still valid, %d rejected cleanly\n", accepted,
	       rejected);
}

/* Policy names both ways: every value round-trips, anything else is refused. */
/*
 * Every name np_*_name() gives (but "none") is one the JSON request reader
 * takes, for that very value: one table per enum serves both.
 */
static void names_read_back(void)
{
	enum { CPU, THR, EMU, MEM, AFF };
	static const struct {
		const char *key, *with; /* the field, and what it needs besides */
		int kind, first, last;
	} fields[] = {
	    {"cpu_policy", "", CPU, NP_CPU_POLICY_SHARED, NP_CPU_POLICY_DEDICATED},
	    {"thread_policy", ",\"cpu_policy\":\"dedicated\"", THR, NP_THREAD_POLICY_PREFER,
	     NP_THREAD_POLICY_REQUIRE},
	    {"emulator_threads_policy", ",\"cpu_policy\":\"dedicated\"", EMU,
	     NP_EMULATOR_POLICY_SHARE, NP_EMULATOR_POLICY_ISOLATE},
	    {"mem_policy", "", MEM, NP_MEM_POLICY_STRICT, NP_MEM_POLICY_INTERLEAVE},
	    {"affinity", "", AFF, NP_AFFINITY_HARD, NP_AFFINITY_SOFT},
	};

	for (size_t f = 0; f < NP__ARRAY_SIZE(fields); f++)
		for (int v = fields[f].first; v <= fields[f].last; v++) {
			int k = fields[f].kind, got = -1;
			const char *name = k == CPU   ? np_cpu_policy_name((enum np_cpu_policy)v)
					   : k == THR ? np_thread_policy_name((enum np_thread_policy)v)
					   : k == EMU ? np_emulator_policy_name((enum np_emulator_policy)v)
					   : k == MEM ? np_mem_policy_name((enum np_mem_policy)v)
						      : np_affinity_name((enum np_affinity)v);
			char buf[256];
			struct np_error err = {0};
			np_request *r = NULL;

			snprintf(buf, sizeof(buf),
				 "{\"schema\":\"numaplace.request/1\",\"vcpus\":4,\"memory_mb\":2048%s,"
				 "\"%s\":\"%s\"}",
				 fields[f].with, fields[f].key, name);
			if (np_request_from_json(buf, strlen(buf), "names.json", &r, &err) == 0)
				got = k == CPU	 ? (int)np_request_cpu_policy(r)
				      : k == THR ? (int)np_request_thread_policy(r)
				      : k == EMU ? (int)np_request_emulator_policy(r)
				      : k == MEM ? (int)np_request_mem_policy(r)
						 : (int)np_request_affinity(r);
			CHECK(got == v, "%s \"%s\" reads back as %d, not %d (%s)", fields[f].key, name,
			      got, v, err.message);
			np_request_free(r);
		}
}

static void names(void)
{
	enum np_mem_policy m = NP_MEM_POLICY_PREFERRED;
	enum np_affinity a = NP_AFFINITY_SOFT;

	for (int i = NP_MEM_POLICY_STRICT; i <= NP_MEM_POLICY_INTERLEAVE; i++)
		CHECK(np_mem_policy_from_name(np_mem_policy_name((enum np_mem_policy)i), &m) == 0 &&
			      m == (enum np_mem_policy)i,
		      "memory policy %d round-trips", i);
	for (int i = NP_AFFINITY_HARD; i <= NP_AFFINITY_SOFT; i++)
		CHECK(np_affinity_from_name(np_affinity_name((enum np_affinity)i), &a) == 0 &&
			      a == (enum np_affinity)i,
		      "affinity %d round-trips", i);
	CHECK(!strcmp(np_mem_policy_name(NP_MEM_POLICY_INTERLEAVE), "interleave") &&
		      !strcmp(np_affinity_name(NP_AFFINITY_SOFT), "soft"),
	      "the names the formats and the tool use");
	m = NP_MEM_POLICY_PREFERRED;
	a = NP_AFFINITY_SOFT;
	CHECK(np_mem_policy_from_name("Strict", &m) == NP_EINPUT && m == NP_MEM_POLICY_PREFERRED &&
		      np_mem_policy_from_name(NULL, &m) == NP_EINPUT &&
		      np_affinity_from_name("unknown", &a) == NP_EINPUT && a == NP_AFFINITY_SOFT,
	      "unknown names refused, output untouched");
	CHECK(!strcmp(np_affinity_name((enum np_affinity)9), "unknown"), "no name for 9");
	names_read_back();
}

/*
 * Keys Nova ignores are kept ignored, but named in a warning each; a
 * request that reads every key it has gets none.  Numbers beyond Python's
 * 2^63 are reported as written, not as the clamped 2^56.
 */
static void warnings(void)
{
	static const struct {
		const char *flavor, *image;
		int n;
		const char *first; /* the first warning holds this */
	} cases[] = {
	    {"vcpus=4,ram=4096,hw:numa_nodes=2,hw:numa_cpus.0=0-1,hw:numa_cpus.1=2-3,"
	     "hw:numa_mem.0=2048,hw:numa_mem.1=2048",
	     NULL, 0, NULL},
	    {"vcpus=4,ram=4096", NULL, 0, NULL},
	    {"vcpus=4,ram=4096,hw:numa_nodes=2,hw:numa_cpus.0=0-1,hw:numa_cpus.1=2-3,"
	     "hw:numa_mem.0=2048,hw:numa_mem.1=2048,hw:numa_cpus.3=0",
	     NULL, 1, "hw:numa_cpus.3 is ignored: the guest has 2 NUMA nodes, hw:numa_cpus.0 to "
		      "hw:numa_cpus.1"},
	    {"vcpus=4,ram=4096,hw:numa_nodes=2,hw:numa_cpus.0=0-1,hw:numa_cpus.1=2-3,"
	     "hw:numa_mem.0=2048,hw:numa_mem.1=2048,hw:numa_mem.01=5",
	     NULL, 1, "hw:numa_mem.01 is ignored"},
	    {"vcpus=4,ram=4096,hw:numa_nodes=2,hw:numa_cpus.5=0", NULL, 1,
	     "hw:numa_cpus.5 is ignored: the guest has 2 NUMA nodes and no hw:numa_cpus.0"},
	    {"vcpus=4,ram=4096,hw:numa_cpus.1=0,hw:numa_mem.1=7", NULL, 2,
	     "hw:numa_cpus.1 is ignored: the guest asks for no NUMA topology"},
	    {"vcpus=4,ram=4096,hw:numa_nodes=2", "hw_numa_cpus.2=0", 1, "hw_numa_cpus.2 is ignored"},
	};
	struct np_error err = {0};

	for (size_t i = 0; i < NP__ARRAY_SIZE(cases); i++) {
		np_request *r = NULL;
		int rc = np_request_from_flavor_text(cases[i].flavor, cases[i].image, &r, &err);
		const char *w = r ? np_request_warning(r, 0) : NULL;

		CHECK(rc == 0 && np_request_warning_count(r) == cases[i].n &&
			  (!cases[i].first || (w && strstr(w, cases[i].first))),
		      "warnings %zu: rc %d, %d warnings, first '%s' (%s)", i, rc,
		      np_request_warning_count(r), w ? w : "", err.message);
		CHECK(np_request_warning(r, cases[i].n) == NULL && np_request_warning(r, -1) == NULL,
		      "warnings %zu: none past the end", i);
		np_request_free(r);
	}
	CHECK(np_request_warning_count(NULL) == 0, "no request, no warnings");
}

static void big_numbers(void)
{
	static const struct {
		const char *flavor, *needle;
	} cases[] = {
	    {"vcpus=4,ram=4096,hw:numa_nodes=9223372036854775808",
	     "hw:numa_nodes=9223372036854775808 does not divide 4 vCPUs"},
	    {"vcpus=4,ram=4096,hw:numa_nodes=99999999999999999999999,hw:numa_cpus.0=0-3,"
	     "hw:numa_mem.0=4096",
	     "hw:numa_nodes=99999999999999999999999 needs hw:numa_cpus.N"},
	    {"vcpus=4,ram=4096,hw:numa_nodes=2,hw:numa_cpus.0=0-1,hw:numa_cpus.1=2-3,"
	     "hw:numa_mem.0=99999999999999999999,hw:numa_mem.1=99999999999999999999",
	     "add up to more than 2^56 MiB"},
	    {"vcpus=4,ram=4096,hw:numa_nodes=1,hw:numa_cpus.0=0-3,99999999999999999999,"
	     "hw:numa_mem.0=4096",
	     "names vCPU more than 2^56"},
	    {"vcpus=4,ram=4096,resources:PCPU=9223372036854775808,resources1:PCPU=9223372036854775808",
	     "resources:PCPU=more than 2^56 must equal vcpus=4"},
	    {"vcpus=4,ram=1099511627777", "flavor memory_mb=1099511627777 is not within 1-2^40"},
	};
	struct np_error err = {0};

	for (size_t i = 0; i < NP__ARRAY_SIZE(cases); i++) {
		np_request *r = NULL;
		int rc = np_request_from_flavor_text(cases[i].flavor, NULL, &r, &err);

		CHECK(rc == NP_EINPUT && !r && strstr(err.message, cases[i].needle),
		      "big %zu: '%s' lacks '%s'", i, err.message, cases[i].needle);
		np_request_free(r);
	}
}

/*
 * Flavor catalogues (flavors.h, docs/formats/flavors.md): both spellings,
 * the aliases, weights as shares; and hostile documents refused with one
 * line naming the flavor, never a catalogue.
 */
static void flavors_parse(void)
{
	static const char good[] =
		"{\"schema\": \"numaplace.flavors/1\", \"pci_aliases\": [{\"name\": \"nic\", "
		"\"vendor_id\": \"8086\", \"product_id\": \"154D\"}], \"flavors\": ["
		"{\"name\": \"a\", \"vcpus\": 2, \"memory_mb\": 4096, \"weight\": 3, "
		"\"extra_specs\": {\"hw:cpu_policy\": \"dedicated\", \"hw:numa_nodes\": 2}},"
		"{\"vcpus\": 4, \"memory_mb\": 8192, \"extra_specs\": {\"pci_passthrough:alias\": "
		"\"nic:1\"}},"
		"{\"name\": \"c\", \"weight\": 0, \"request\": {\"schema\": \"numaplace.request/1\", "
		"\"vcpus\": 1, \"memory_mb\": 512}}]}";
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "[]", "the list is empty" },
		{ "{}", "flavors: missing" },
		{ "[{\"vcpus\": 2}]", "flavors[0].memory_mb: missing" },
		{ "[{\"vcpus\": 0, \"memory_mb\": 1}]", "flavors[0].vcpus: expected" },
		{ "[{\"vcpus\": 1, \"memory_mb\": 1, \"ram\": 1}]", "unknown key 'ram'" },
		{ "[{\"vcpus\": 1, \"memory_mb\": 1, \"weight\": -1}]", "\"weight\" from 0" },
		{ "[{\"vcpus\": 1, \"memory_mb\": 1, \"weight\": \"1\"}]", "\"weight\" from 0" },
		{ "[{\"vcpus\": 1, \"memory_mb\": 1, \"weight\": 0}]", "every weight is 0" },
		{ "[{\"vcpus\": 1, \"memory_mb\": 1, \"extra_specs\": {\"a\": null}}]", "string values" },
		{ "[{\"vcpus\": 3, \"memory_mb\": 1024, \"extra_specs\": {\"hw:numa_nodes\": \"2\"}}]",
		  "numa_topology_asymmetric" },
		{ "[{\"vcpus\": 1, \"memory_mb\": 1, \"extra_specs\": {\"pci_passthrough:alias\": "
		  "\"nic:1\"}}]", "pci_alias_not_defined" },
		{ "[{\"vcpus\": 1, \"memory_mb\": 1, \"request\": {}}]", "not both" },
		{ "[{\"request\": {\"vcpus\": 1}}]", "flavors[0]: request" },
		{ "{\"schema\": \"numaplace.flavors/2\", \"flavors\": []}", "schema" },
		{ "{\"flavors\": [], \"x\": 1}", "unknown key 'x'" },
		{ "{\"pci_aliases\": [{\"name\": \"n\", \"vendor_id\": \"80861\", \"product_id\": "
		  "\"0001\"}], \"flavors\": []}", "4 hex digits" },
		{ "[1]", "flavors[0]: expected an object" },
		{ "[{\"vcpus\": 1, \"memory_mb\": 1}", "line 1" },
		{ "[{\"vcpus\": 1, \"vcpus\": 2, \"memory_mb\": 1}]", "duplicate" },
		{ "", "line 1" },
	};
	struct np_error err = { 0 };
	np_flavors *f = NULL;

	CHECK(np_flavors_parse(good, strlen(good), "cat.json", &f, &err) == 0 && f,
	      "a catalogue in both spellings: %s", err.message);
	if (f) {
		CHECK(np_flavors_count(f) == 3 && strcmp(np_flavors_name(f, 0), "a") == 0 &&
			  strcmp(np_flavors_name(f, 1), "") == 0,
		      "three flavors, the second without a name");
		CHECK(np_flavors_share(f, 0) == 0.75 && np_flavors_share(f, 1) == 0.25 &&
			  np_flavors_share(f, 2) == 0,
		      "weights as shares: 3, 1 (the default), 0");
		CHECK(np_request_cell_count(np_flavors_request(f, 0)) == 2 &&
			  np_request_cell(np_flavors_request(f, 0), 0)->npcpus == 1 &&
			  np_request_pci_count(np_flavors_request(f, 1)) == 1 &&
			  np_request_memory_mb(np_flavors_request(f, 2)) == 512,
		      "requests built by Nova's rules (an integer spec as its text) and request/1");
		CHECK(!np_flavors_request(f, 3) && !np_flavors_name(f, -1) &&
			  np_flavors_share(f, 3) == 0 && np_flavors_count(NULL) == 0,
		      "out of range: nothing");
	}
	np_flavors_free(f);
	np_flavors_free(NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = NULL;
		memset(&err, 0, sizeof(err));
		CHECK(np_flavors_parse(bad[i].text, strlen(bad[i].text), "cat.json", &f, &err) ==
				  NP_EINPUT && !f && strstr(err.message, bad[i].want) &&
			  strncmp(err.message, "cannot load 'cat.json': ", 24) == 0 &&
			  !strchr(err.message, '\n'),
		      "bad catalogue %zu refused: %s", i, err.message);
	}
	CHECK(np_flavors_load("/nonexistent/cat.json", &f, &err) == NP_EIO,
	      "a missing file: %s", err.message);
}

int main(void)
{
	load_mapping();
	T_CASE("vectors", vectors());
	T_CASE("flavor-good", flavor_good());
	T_CASE("flavor-bad", flavor_bad());
	T_CASE("xl-good", xl_good());
	T_CASE("xl-bad", xl_bad());
	T_CASE("json-good", json_good());
	T_CASE("json-bad", json_bad());
	T_CASE("garbage", garbage());
	T_CASE("differential", differential());
	T_CASE("names", names());
	T_CASE("warnings", warnings());
	T_CASE("big-numbers", big_numbers());
	T_CASE("flavors-parse", flavors_parse());
	return t_done();
}
