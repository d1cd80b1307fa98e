/*
 * gen.c - np_gen_write(): one synthetic workload, as a Nova case with a
 * `workload` member and, with churn, `events` (docs/formats/workload.md).
 *
 * Design: resolve the shape (built-in defaults, then the family's keys,
 * then the caller's), build the host (shape.c), size guests by its
 * typical node, draw guests from the family (family.c) until the guests
 * present at once over-fill some resource of the host, and write the case
 * with jansson (insertion order kept, so the bytes depend only on the
 * options and the seed).
 *
 * Streams of one seed: guests from stream 1, lifetimes from stream 2, the
 * sample that sizes lifetimes from stream 3, each mixed with a hash of the
 * family's name, so two families with one seed do not share guests.
 *
 * Churn: guest i lives for L arrivals, L uniform in 1 .. 2m with m = K/2 +
 * i/8, where K is about how many of the family's guests the host holds
 * (from a sample of 64).  About m guests are present at once: half the
 * host at first, then more as guests stay longer, until it over-fills
 * after roughly 4K arrivals and as many departures.  Departures due at
 * arrival t are written before it.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gen/gen-int.h"
#include "util/json-util.h"

#define ARRIVALS_MAX 100000 /* what a Nova case reader takes */
#define DRAWS_MAX 1000      /* tries for one guest that fits the empty host */

static const char base_shape[] = "nodes=4,cpus=16,smt=1,mem=32G,sockets=1,dist=uniform,cxl=0,"
				 "cxl_mem=32G,huge2m=0,huge1g=0,nics=0,nic_every=1,shared=0";

int np_gen_family_count(void)
{
	int n;

	np__gen_families(&n);
	return n;
}

static const struct np__gen_family *family_at(int i)
{
	int n;
	const struct np__gen_family *f = np__gen_families(&n);

	return i >= 0 && i < n ? &f[i] : NULL;
}

const char *np_gen_family_name(int i)
{
	return family_at(i) ? family_at(i)->name : NULL;
}

const char *np_gen_family_summary(int i)
{
	return family_at(i) ? family_at(i)->summary : NULL;
}

const char *np_gen_family_shape(int i)
{
	return family_at(i) ? family_at(i)->shape : NULL;
}

/* ---- the typical node --------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The median of F over the nodes with CPUs. */
static uint64_t median(const struct np__gen_host *h, uint64_t (*f)(const struct np__gen_node *),
		       uint64_t *tmp)
{
	int n = 0;

	for (int i = 0; i < h->n; i++)
		if (h->nodes[i].ncpus)
			tmp[n++] = f(&h->nodes[i]);
	if (!n)
		return 0;
	qsort(tmp, (size_t)n, sizeof(*tmp), cmp_u64);
	return tmp[n / 2];
}

static uint64_t f_pcpus(const struct np__gen_node *nd) { return (uint64_t)np__gen_node_pcpus(nd); }
static uint64_t f_vcpus(const struct np__gen_node *nd) { return (uint64_t)np__gen_node_vcpus(nd); }
static uint64_t f_cpus(const struct np__gen_node *nd) { return (uint64_t)nd->ncpus; }
static uint64_t f_mem(const struct np__gen_node *nd) { return nd->mem_mb; }
static uint64_t f_2m(const struct np__gen_node *nd) { return np__gen_node_pages(nd, 2048) * 2; }
static uint64_t f_1g(const struct np__gen_node *nd)
{
	return np__gen_node_pages(nd, 1048576) * 1024;
}

static int context(const struct np__gen_host *h, struct np__gen_ctx *x, struct np_error *err)
{
	uint64_t *tmp = np__calloc((size_t)h->n, sizeof(*tmp));

	if (!tmp)
		return np__err(err, NP_ENOMEM, "out of memory");
	memset(x, 0, sizeof(*x));
	for (int i = 0; i < h->n; i++) {
		x->cpu_nodes += h->nodes[i].ncpus > 0;
		x->split |= h->nodes[i].nshared > 0 || h->nodes[i].ndedicated > 0;
	}
	x->pcpus = (int)median(h, f_pcpus, tmp);
	x->vcpus = (int)median(h, f_vcpus, tmp);
	x->cpus = (int)median(h, f_cpus, tmp);
	x->mem_mb = median(h, f_mem, tmp);
	x->pool2m_mb = median(h, f_2m, tmp);
	x->pool1g_mb = median(h, f_1g, tmp);
	free(tmp);
	if (!x->cpu_nodes)
		return np__err(err, NP_EINPUT, "the host has no node with CPUs");
	return 0;
}

/* ---- does a guest fit the empty host? ------------------------------------- */

static bool cell_fits(const struct np__gen_node *nd, const struct np__gen_req *q, int c,
		      double ratio)
{
	int cpus = q->shared ? np__gen_node_vcpus(nd) : np__gen_node_pcpus(nd);

	if (q->vcpus[c] > cpus || (q->shared && q->vcpus[c] > (double)cpus * ratio) ||
	    q->mem_mb[c] > nd->mem_mb)
		return false;
	if (q->pagesize_kb)
		return np__gen_node_pages(nd, (uint64_t)q->pagesize_kb) * (uint64_t)q->pagesize_kb >=
		       q->mem_mb[c] * 1024;
	/* Nova: small pages must fit the total of the node's smallest pool */
	return !nd->npools || nd->pools[0].total * 4 >= q->mem_mb[c] * 1024;
}

/* Cells C.. onto distinct unused nodes (USED marks the taken ones). */
static bool match(const struct np__gen_host *h, const struct np__gen_req *q, int c, double ratio,
		  bool *used)
{
	if (c == q->ncells)
		return true;
	for (int i = 0; i < h->n; i++) {
		if (used[i] || !cell_fits(&h->nodes[i], q, c, ratio))
			continue;
		used[i] = true;
		if (match(h, q, c + 1, ratio, used)) {
			used[i] = false;
			return true;
		}
		used[i] = false;
	}
	return false;
}

/* ---- the sequence ------------------------------------------------------------ */

struct seq {
	struct np__gen_req *reqs;
	size_t n, cap;
	int *events; /* i >= 0: request i arrives; -(i + 1): it leaves */
	size_t nev, evcap;
};

struct run {
	const struct np__gen_family *fam;
	struct np__gen_host *h;
	struct np__gen_ctx x;
	double ratio;
	bool *used;
	int64_t cap[NP__RES_COUNT];
	uint64_t hash;
};

static int draw(struct run *u, struct np__rng *r, struct np__gen_req *q, struct np_error *err)
{
	for (int t = 0; t < DRAWS_MAX; t++) {
		memset(q, 0, sizeof(*q));
		u->fam->draw(r, &u->x, q);
		if (q->nics && !u->cap[NP__RES_NIC]) {
			q->nics = 0;
			q->pci_policy = NULL;
		}
		if (q->ncells <= u->x.cpu_nodes && match(u->h, q, 0, u->ratio, u->used))
			return 0;
	}
	return np__err(err, NP_EINPUT, "family '%s' makes no guest that fits this host (%d nodes "
		       "with CPUs, %d dedicated and %d shared CPUs, %llu MiB on a typical node)",
		       u->fam->name, u->x.cpu_nodes, u->x.pcpus, u->x.vcpus,
		       (unsigned long long)u->x.mem_mb);
}

static int push_event(struct seq *s, int ev)
{
	if (np__grow((void **)&s->events, &s->evcap, s->nev + 1, sizeof(*s->events)))
		return -1;
	s->events[s->nev++] = ev;
	return 0;
}

/* About how many guests the host holds: capacity over a sample's mean demand. */
static int64_t holds(struct run *u, uint64_t seed, struct np_error *err)
{
	struct np__rng r;
	struct np__gen_req q;
	int64_t sum[NP__RES_COUNT] = { 0 }, d[NP__RES_COUNT], k = INT64_MAX;
	int rc;

	np__rng_seed(&r, seed, u->hash + 3);
	for (int i = 0; i < 64; i++) {
		if ((rc = draw(u, &r, &q, err)))
			return rc;
		np__gen_req_demand(&q, d);
		for (int j = 0; j < NP__RES_COUNT; j++)
			sum[j] += d[j];
	}
	for (int j = 0; j < NP__RES_COUNT; j++)
		if (sum[j] && u->cap[j] * 64 / sum[j] < k)
			k = u->cap[j] * 64 / sum[j];
	return k < 1 ? 1 : k;
}

static bool over_full(const struct run *u, const int64_t *present)
{
	for (int j = 0; j < NP__RES_COUNT; j++)
		if (present[j] > u->cap[j])
			return true;
	return false;
}

static void add_demand(int64_t *present, const struct np__gen_req *q, int sign)
{
	int64_t d[NP__RES_COUNT];

	np__gen_req_demand(q, d);
	for (int j = 0; j < NP__RES_COUNT; j++)
		present[j] += sign * d[j];
}

/* Departures due before arrival T (LEAVE[i]: the arrival guest i leaves before). */
static int departures(struct seq *s, const int64_t *leave, int64_t t, int64_t *present)
{
	for (size_t i = 0; i < s->n; i++) {
		if (leave[i] != t)
			continue;
		if (push_event(s, -(int)i - 1))
			return -1;
		add_demand(present, &s->reqs[i], -1);
	}
	return 0;
}

static int sequence(struct run *u, const struct np_gen_opts *o, bool churn, struct seq *s,
		    struct np_error *err)
{
	struct np__rng r, life;
	int64_t present[NP__RES_COUNT] = { 0 }, *leave = NULL, span = 0;
	size_t lcap = 0;
	int rc = 0;

	np__rng_seed(&r, o->seed, u->hash + 1);
	np__rng_seed(&life, o->seed, u->hash + 2);
	if (churn && (span = holds(u, o->seed, err)) < 0)
		return (int)span;
	for (int64_t t = 0; t < ARRIVALS_MAX; t++) {
		if (np__grow((void **)&s->reqs, &s->cap, s->n + 1, sizeof(*s->reqs)) ||
		    np__grow((void **)&leave, &lcap, s->n + 1, sizeof(*leave)) ||
		    (churn && departures(s, leave, t, present)) || push_event(s, (int)t)) {
			rc = np__err(err, NP_ENOMEM, "out of memory");
			break;
		}
		if ((rc = draw(u, &r, &s->reqs[s->n], err)))
			break;
		add_demand(present, &s->reqs[s->n], 1);
		leave[s->n] = churn ? t + 1 + (int64_t)np__rng_below(&life, (uint64_t)(span + t / 4))
				    : -1;
		s->n++;
		if (o->guests ? (int64_t)s->n == o->guests : over_full(u, present))
			break;
	}
	free(leave);
	return rc;
}

/* ---- JSON ---------------------------------------------------------------------- */

/*
 * Building the case: every allocation jansson makes may fail; B remembers
 * that one did, so the writer says NP_ENOMEM instead of writing a case
 * with members missing.  jset and jpush take V's reference in any case.
 */
struct jb {
	bool failed;
};

static void jset(struct jb *b, json_t *obj, const char *key, json_t *v)
{
	if (!obj || !v) {
		json_decref(v);
		b->failed = true;
	} else if (json_object_set_new(obj, key, v)) {
		b->failed = true;
	}
}

static void jpush(struct jb *b, json_t *arr, json_t *v)
{
	if (!arr || !v) {
		json_decref(v);
		b->failed = true;
	} else if (json_array_append_new(arr, v)) {
		b->failed = true;
	}
}

static json_t *int_array(struct jb *b, const int *v, int n)
{
	json_t *a = json_array();

	for (int i = 0; a && i < n; i++)
		jpush(b, a, json_integer(v[i]));
	return a;
}

static json_t *siblings_json(struct jb *b, const struct np__gen_node *nd)
{
	json_t *all = json_array();
	int grp[NP__GEN_CPUS_MAX], smt = 1;

	if (!all) {
		b->failed = true;
		return NULL;
	}
	for (int c = 0; c < nd->ncpus; c++) {
		int n = 0;

		if (nd->core[c] != nd->cpus[c])
			continue; /* not the first thread of its core */
		for (int d = 0; d < nd->ncpus && n < NP__GEN_CPUS_MAX; d++)
			if (nd->core[d] == nd->core[c])
				grp[n++] = nd->cpus[d];
		smt = n > smt ? n : smt;
		jpush(b, all, int_array(b, grp, n));
	}
	if (smt == 1) { /* every CPU alone: Nova's default, left out */
		json_decref(all);
		return NULL;
	}
	return all;
}

static json_t *pools_json(struct jb *b, const struct np__gen_node *nd)
{
	json_t *a = json_array();

	for (int p = 0; a && p < nd->npools; p++)
		jpush(b, a, json_pack("{sIsIsIsI}", "size_kb", (json_int_t)nd->pools[p].size_kb,
				      "total", (json_int_t)nd->pools[p].total, "used", (json_int_t)0,
				      "reserved", (json_int_t)nd->pools[p].reserved));
	return a;
}

static json_t *cell_json(struct jb *b, const struct np__gen_node *nd)
{
	json_t *c = json_object(), *sib;

	jset(b, c, "id", json_integer(nd->id));
	if (nd->nshared || nd->ndedicated) {
		jset(b, c, "shared_cpus", int_array(b, nd->shared, nd->nshared));
		jset(b, c, "dedicated_cpus", int_array(b, nd->dedicated, nd->ndedicated));
	} else {
		jset(b, c, "cpus", int_array(b, nd->cpus, nd->ncpus));
	}
	jset(b, c, "memory_mb", json_integer((json_int_t)nd->mem_mb));
	if ((sib = siblings_json(b, nd)))
		jset(b, c, "siblings", sib);
	if (nd->socket >= 0)
		jset(b, c, "socket", json_integer(nd->socket));
	if (nd->npools)
		jset(b, c, "mempages", pools_json(b, nd));
	if (nd->nics)
		jset(b, c, "pci", json_pack("[{sssssi}]", "vendor_id", "8086", "product_id", "154d",
					    "count", nd->nics));
	return c;
}

static json_t *host_json(struct jb *b, const struct np__gen_host *h)
{
	json_t *host = json_object(), *cells = json_array(), *d;

	for (int i = 0; i < h->n; i++)
		jpush(b, cells, cell_json(b, &h->nodes[i]));
	jset(b, host, "cells", cells);
	if (h->dist) {
		d = json_array();
		for (int a = 0; a < h->n; a++) {
			json_t *row = json_array();

			for (int z = 0; z < h->n; z++)
				jpush(b, row, json_integer(h->dist[a * h->n + z]));
			jpush(b, d, row);
		}
		jset(b, host, "distances", d);
	}
	return host;
}

static void spec(struct jb *b, json_t *specs, const char *key, const char *fmt, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), fmt, v);
	jset(b, specs, key, json_string(buf));
}

static void uneven_specs(struct jb *b, json_t *specs, const struct np__gen_req *q)
{
	char key[32];
	int first = 0;

	for (int c = 0; c < q->ncells; c++) {
		snprintf(key, sizeof(key), "hw:numa_cpus.%d", c);
		if (q->vcpus[c] == 1)
			spec(b, specs, key, "%lld", first);
		else {
			char range[32];

			snprintf(range, sizeof(range), "%d-%d", first, first + q->vcpus[c] - 1);
			jset(b, specs, key, json_string(range));
		}
		first += q->vcpus[c];
	}
	for (int c = 0; c < q->ncells; c++) {
		snprintf(key, sizeof(key), "hw:numa_mem.%d", c);
		spec(b, specs, key, "%lld", (long long)q->mem_mb[c]);
	}
}

static json_t *request_json(struct jb *b, const struct np__gen_req *q)
{
	json_t *specs = json_object();
	int vcpus = 0;
	uint64_t mem = 0;

	for (int c = 0; c < q->ncells; c++) {
		vcpus += q->vcpus[c];
		mem += q->mem_mb[c];
	}
	jset(b, specs, "hw:cpu_policy", json_string(q->shared ? "shared" : "dedicated"));
	spec(b, specs, "hw:numa_nodes", "%lld", q->ncells);
	if (q->uneven)
		uneven_specs(b, specs, q);
	if (q->pagesize_kb)
		spec(b, specs, "hw:mem_page_size", "%lld", q->pagesize_kb);
	if (q->nics) {
		spec(b, specs, "pci_passthrough:alias", "nic:%lld", q->nics);
		jset(b, specs, "hw:pci_numa_affinity_policy", json_string(q->pci_policy));
	}
	return json_pack("{sisIso}", "vcpus", vcpus, "memory_mb", (json_int_t)mem, "extra_specs",
			 specs);
}

static json_t *events_json(struct jb *b, const struct seq *s)
{
	json_t *a = json_array();

	for (size_t e = 0; e < s->nev; e++)
		jpush(b, a, json_pack("{si}", s->events[e] >= 0 ? "arrive" : "depart",
				      s->events[e] >= 0 ? s->events[e] : -s->events[e] - 1));
	return a;
}

static json_t *workload_json(struct jb *b, const struct run *u, const struct np_gen_opts *o,
			     const struct seq *s, bool churn)
{
	json_t *w = json_object();

	jset(b, w, "schema", json_string("numaplace.workload/1"));
	jset(b, w, "family", json_string(u->fam->name));
	jset(b, w, "seed", json_integer((json_int_t)o->seed));
	if (o->topo)
		jset(b, w, "host_source", json_string(np_topo_source_name(o->topo) ?
								  np_topo_source_name(o->topo) : ""));
	jset(b, w, "shape", json_string(u->h->shape));
	jset(b, w, "guests", json_integer((json_int_t)s->n));
	jset(b, w, "churn", json_boolean(churn));
	return w;
}

static json_t *case_json(struct jb *b, const struct run *u, const struct np_gen_opts *o,
			 const struct seq *s, bool churn)
{
	json_t *root = json_object(), *reqs = json_array();

	jset(b, root, "workload", workload_json(b, u, o, s, churn));
	jset(b, root, "host", host_json(b, u->h));
	jset(b, root, "cpu_allocation_ratio", json_real(u->ratio));
	jset(b, root, "ram_allocation_ratio", json_real(1.0));
	jset(b, root, "packing", json_false());
	if (u->cap[NP__RES_NIC])
		jset(b, root, "pci_aliases", json_pack("[{ssssss}]", "name", "nic", "vendor_id",
						       "8086", "product_id", "154d"));
	for (size_t i = 0; i < s->n; i++)
		jpush(b, reqs, request_json(b, &s->reqs[i]));
	jset(b, root, "requests", reqs);
	if (churn)
		jset(b, root, "events", events_json(b, s));
	return root;
}

/* ---- entry ------------------------------------------------------------------------ */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
	return h;
}

static int resolve(const struct np_gen_opts *o, const struct np__gen_family *fam,
		   struct np__gen_shape *sh, struct np_error *err)
{
	struct np__gen_shape user = { 0 };
	int rc;

	memset(sh, 0, sizeof(*sh));
	if ((rc = np__gen_shape_parse(sh, base_shape, err)) ||
	    (rc = np__gen_shape_parse(sh, fam->shape, err)))
		return rc;
	if (o->topo) { /* a real host decides everything but the decorations */
		user = *sh;
		user.given = 0;
		if ((rc = np__gen_shape_parse(&user, o->shape, err)))
			return rc;
		if (user.given & np__gen_shape_host_keys())
			return np__err(err, NP_EINPUT, "shape: with a real host only huge2m, huge1g, "
				       "nics, nic_every and shared may be given");
		*sh = user;
		return 0;
	}
	return np__gen_shape_parse(sh, o->shape, err);
}

static int check_opts(const struct np_gen_opts *o, const struct np__gen_family **fam,
		      struct np_error *err)
{
	const char *name = o->family ? o->family : "dedicated";

	*fam = np__gen_family(name);
	if (!*fam)
		return np__err(err, NP_EINPUT, "no workload family '%s' (numaplace gen --list)", name);
	if (o->seed > (uint64_t)NP_GEN_SEED_MAX)
		return np__err(err, NP_EINPUT, "seed %llu is above %lld",
			       (unsigned long long)o->seed, (long long)NP_GEN_SEED_MAX);
	if (o->guests < 0 || o->guests > ARRIVALS_MAX)
		return np__err(err, NP_EINPUT, "guests: %d is not 0 .. %d", o->guests, ARRIVALS_MAX);
	if (o->cpu_ratio < 0 || o->cpu_ratio > 1024 || o->cpu_ratio != o->cpu_ratio)
		return np__err(err, NP_EINPUT, "CPU allocation ratio %g is not 0 .. 1024",
			       o->cpu_ratio);
	if (o->indent < 0 || o->indent > 31)
		return np__err(err, NP_EINPUT, "indent %d is not 0 .. 31", o->indent);
	return 0;
}

/*
 * The case as text first, so that running out of memory (NP_ENOMEM) is
 * told apart from a failed write (NP_EOS); checked, as jansson may drop a
 * piece of the text when an allocation fails (json-util.h).
 */
static int write_case(json_t *root, int indent, FILE *out, struct np_error *err)
{
	size_t flags = indent ? JSON_INDENT(indent) : JSON_COMPACT;
	char *text = root ? np__json_dumps_checked_with(root, flags | JSON_REAL_PRECISION(17))
			  : NULL;
	size_t len = text ? strlen(text) : 0;
	int rc = 0;

	if (!text)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (fwrite(text, 1, len, out) != len || fputc('\n', out) == EOF || fflush(out) ||
	    ferror(out))
		rc = np__err(err, NP_EOS, "cannot write the workload");
	free(text);
	return rc;
}

/*
 * What a workload and a catalogue both start from: O checked, the host
 * built into H, U sized by its typical node.  On failure the caller still
 * frees H and U->used (both may be partly made).
 */
static int start(const struct np_gen_opts *o, struct np__gen_host *h, struct run *u,
		 struct np_error *err)
{
	struct np__gen_shape sh;
	int rc;

	if ((rc = check_opts(o, &u->fam, err)) || (rc = resolve(o, u->fam, &sh, err)) ||
	    (rc = np__gen_host_build(&sh, o->topo, h, err)))
		return rc;
	u->h = h;
	u->ratio = o->cpu_ratio > 0 ? o->cpu_ratio : u->fam->cpu_ratio;
	u->hash = fnv1a(u->fam->name);
	np__gen_host_capacity(h, u->ratio, u->cap);
	if (!(u->fam->nics))
		u->cap[NP__RES_NIC] = 0;
	u->used = np__calloc((size_t)h->n, sizeof(*u->used));
	if (!u->used)
		return np__err(err, NP_ENOMEM, "out of memory");
	return context(h, &u->x, err);
}

int np_gen_write(const struct np_gen_opts *o, FILE *out, struct np_error *err)
{
	struct np__gen_host h = { 0 };
	struct run u = { 0 };
	struct seq s = { 0 };
	struct jb b = { false };
	bool churn = false;
	json_t *root = NULL;
	int rc = start(o, &h, &u, err);

	if (!rc) {
		churn = o->churn == NP_GEN_CHURN_DEFAULT ? u.fam->churn
							 : o->churn == NP_GEN_CHURN_ON;
		rc = sequence(&u, o, churn, &s, err);
	}
	if (!rc) {
		root = case_json(&b, &u, o, &s, churn);
		rc = write_case(b.failed ? NULL : root, o->indent, out, err);
	}
	json_decref(root);
	free(s.reqs);
	free(s.events);
	free(u.used);
	np__gen_host_free(&h);
	return rc;
}

/* ---- the family's flavor catalogue ------------------------------------------------ */

/* Draws behind a catalogue: each flavor's share within about 0.3 % of its odds. */
#define CATALOGUE_DRAWS 100000

/*
 * The NIC policy's place in the catalogue's order: by its text, never by
 * its address (a compiler may or may not merge equal string literals, and
 * lays them out as it likes).  The order is the one catalogues have had
 * since they were first written (gcc's layout, compared by memcmp), so
 * their flavor names and the futures drawn from them stay the same.
 */
static int policy_rank(const char *policy)
{
	static const char *const order[] = { "preferred", "legacy", "required" };

	for (int i = 0; policy && i < (int)NP__ARRAY_SIZE(order); i++)
		if (!strcmp(policy, order[i]))
			return i + 1;
	return policy ? (int)NP__ARRAY_SIZE(order) + 1 : 0;
}

/*
 * Sort order of draws: field by field, each number by its bytes (the
 * order a memcmp of the whole struct gave while every draw was cleared
 * first), without reading the struct's padding, which C lets any store
 * to a member change.
 */
static int cmp_req(const void *pa, const void *pb)
{
	const struct np__gen_req *a = pa, *b = pb;
	int c, ra, rb;

#define CMP_FIELD(f)                                               \
	do {                                                       \
		if ((c = memcmp(&a->f, &b->f, sizeof(a->f))) != 0) \
			return c;                                  \
	} while (0)
	CMP_FIELD(ncells);
	CMP_FIELD(vcpus);
	CMP_FIELD(mem_mb);
	CMP_FIELD(uneven);
	CMP_FIELD(shared);
	CMP_FIELD(pagesize_kb);
	CMP_FIELD(nics);
#undef CMP_FIELD
	ra = policy_rank(a->pci_policy); /* last: its strcmps only for draws equal so far */
	rb = policy_rank(b->pci_policy);
	return (ra > rb) - (ra < rb);
}

/*
 * The catalogue as numaplace.flavors/1: the N distinct guests of the
 * sorted draws Q, each weighing how often it was drawn.
 */
static json_t *catalogue_json(struct jb *b, const struct run *u, const struct np__gen_req *q,
			      size_t n)
{
	json_t *root = json_object(), *list = json_array();
	int k = 0;

	jset(b, root, "schema", json_string("numaplace.flavors/1"));
	for (size_t i = 0, j; i < n; i = j) {
		json_t *f = json_object(), *g = request_json(b, &q[i]);
		char name[64];

		for (j = i + 1; j < n && cmp_req(&q[i], &q[j]) == 0; j++)
			;
		snprintf(name, sizeof(name), "%s-%d", u->fam->name, ++k);
		jset(b, f, "name", json_string(name));
		if (!g || !f || json_object_update(f, g))
			b->failed = true;
		json_decref(g);
		jset(b, f, "weight", json_integer((json_int_t)(j - i))); /* draws of the 100,000 */
		jpush(b, list, f);
	}
	jset(b, root, "flavors", list);
	if (u->cap[NP__RES_NIC])
		jset(b, root, "pci_aliases", json_pack("[{ssssss}]", "name", "nic", "vendor_id",
						       "8086", "product_id", "154d"));
	return root;
}

/* CATALOGUE_DRAWS guests of the family, from a stream no workload draws from. */
static int catalogue_draws(struct run *u, uint64_t seed, struct np__gen_req **out,
			   struct np_error *err)
{
	struct np__rng r;
	struct np__gen_req *q = np__calloc(CATALOGUE_DRAWS, sizeof(*q));
	int rc = 0;

	if (!q)
		return np__err(err, NP_ENOMEM, "out of memory");
	np__rng_seed(&r, seed, u->hash + 4);
	for (size_t i = 0; !rc && i < CATALOGUE_DRAWS; i++)
		rc = draw(u, &r, &q[i], err);
	if (rc) {
		free(q);
		return rc;
	}
	qsort(q, CATALOGUE_DRAWS, sizeof(*q), cmp_req);
	*out = q;
	return 0;
}

int np_gen_write_flavors(const struct np_gen_opts *o, FILE *out, struct np_error *err)
{
	struct np__gen_host h = { 0 };
	struct run u = { 0 };
	struct np__gen_req *q = NULL;
	struct jb b = { false };
	json_t *root = NULL;
	int rc = start(o, &h, &u, err);

	if (!rc)
		rc = catalogue_draws(&u, o->seed, &q, err);
	if (!rc) {
		root = catalogue_json(&b, &u, q, CATALOGUE_DRAWS);
		rc = write_case(b.failed ? NULL : root, o->indent, out, err);
	}
	json_decref(root);
	free(q);
	free(u.used);
	np__gen_host_free(&h);
	return rc;
}
