/*
 * nova.c - a guest request from Nova flavor extra specs and image
 * properties, with Nova 26's rules: numa_get_constraints(),
 * get_pci_numa_policy_constraint() and get_pci_requests_from_flavor(),
 * preceded by the type checks ImageMeta.from_dict() applies to image
 * properties.
 *
 * Design: one pass over the same steps, in the same order, as Nova's code,
 * so the first rule broken is the one Nova reports (docs/policies/
 * nova-errors.md maps its exception classes to our reasons).  Values are
 * read with Nova's Python semantics (nova-values.c), including Python
 * truthiness: an empty spec counts as unset where Nova's `if value:` says
 * so.  Rules of our own (numaplace:* keys, limits, values Nova accepts but
 * no host could ever serve) run only after every Nova rule has passed, so
 * they never change which Nova rule is reported.
 *
 * Ownership: the working state `struct nq` borrows the caller's strings
 * for the duration of the call and owns its bitmaps and CPU specs; the
 * request is built only at the end, so a failure leaves *out untouched.
 *
 * Invariant: the per-cell lists (struct nq's last member, 15 KiB of its
 * 15.4 on x86-64) are never cleared: an entry is written before its count covers it,
 * and only entries below their count (n_img_cpus, n_img_mem, n_fl_cpus,
 * the flavor's hw:numa_mem.N count, ncells) are ever read.
 */
#include "request/request-int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request/nova-values.h"

#define NUMA_NODES_MAX 128   /* ImageMetaProps.NUMA_NODES_MAX: lists stop there */
#define MAX_PAGE_KIB   ((int64_t)1 << 40)

/* A CPU mask read from a spec: members below vcpus as a bitmap. */
struct mask {
	bool set;
	unsigned char *bm;
	int count;
	int64_t oor; /* smallest member >= vcpus, or -1 */
};

struct nq {
	unsigned vcpus;
	uint64_t mem;
	const struct np_kv *fl, *im;
	size_t nfl, nim;
	const struct np_pci_alias *al;
	size_t nal;
	struct np_error *err;

	/* image properties as ImageMetaProps holds them (NULL: unset) */
	const char *img_cpu_policy, *img_thread_policy, *img_rt_mask, *img_page, *img_pci;
	bool img_nodes_set, img_ht_trait;
	int64_t img_nodes;
	const char *img_nodes_text;
	int img_locked; /* -1 unset */
	int n_img_cpus, n_img_mem;

	/* what numa_get_constraints decided */
	enum np_cpu_policy cpu;
	enum np_thread_policy thread;
	bool thread_empty; /* flavor hw:cpu_thread_policy="" kept: not a valid cell value */
	enum np_emulator_policy emu;
	struct mask rt, ded;
	int64_t nodes; /* 0: not asked */
	const char *nodes_key, *nodes_text; /* where it came from, as written */
	double page_kib;
	const char *page_text;
	bool page_truthy, pmem, numa;
	int n_fl_cpus;
	int ncells;
	int *cell_of;		/* vCPU -> guest cell, -1 while unassigned */
	unsigned char *scratch; /* one bitmap over the vCPUs */
	int cells_listed; /* cells read from hw:numa_cpus.N/mem.N; 0: split evenly */
	bool cpus_from_image, mem_from_image;
	uint64_t *auto_mem;  /* per cell, for the automatic split */
	const char *mem_key; /* where cell memory came from, for messages */

	enum np_pci_policy pci_policy;
	bool pci_policy_set;
	int npci;
	size_t pcicap;
	struct np_pci_request *pci;
	enum np_mem_policy mem_policy;
	enum np_affinity affinity;

	/*
	 * The lists, last and never cleared (see the invariant above): an
	 * entry below its count only.  Anonymous: q->img_cpus[i] as before.
	 */
	struct {
		/* image hw_numa_cpus.N, hw_numa_mem.N (n_img_cpus, n_img_mem) */
		struct np__cpuspec img_cpus[NUMA_NODES_MAX];
		const char *img_cpu_text[NUMA_NODES_MAX];
		int64_t img_mem[NUMA_NODES_MAX];
		const char *img_mem_text[NUMA_NODES_MAX];
		/* flavor hw:numa_cpus.N (n_fl_cpus), hw:numa_mem.N (flavor_mem_list's count) */
		struct np__cpuspec fl_cpus[NUMA_NODES_MAX];
		const char *fl_cpu_text[NUMA_NODES_MAX];
		const char *fl_mem_text[NUMA_NODES_MAX];
		/* each cell's memory (ncells, manual split): the flavor's list read in place */
		int64_t cell_mem[NUMA_NODES_MAX];
		const char *cell_mem_text[NUMA_NODES_MAX];
	};
};

/* Bytes of struct nq cleared for each request: all but the lists. */
#define NQ_HEAD offsetof(struct nq, img_cpus)

/* The names Nova spells (request-int.h's tables, without their "none"). */
static const char *const *const cpu_policies = np__cpu_policy_names + 1;
static const char *const *const thread_policies = np__thread_policy_names + 1;
static const char *const *const emu_policies = np__emulator_policy_names + 1;
static const char *const *const pci_policies = np__pci_policy_names;

static int fail(struct nq *q, const char *reason, const char *fmt, ...) NP__PRINTF(3, 4);

static int fail(struct nq *q, const char *reason, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return np__err_reason(q->err, NP_EINPUT, reason, "%s (%s)", msg, reason);
}

static int nomem(struct nq *q)
{
	return np__err(q->err, NP_ENOMEM, "out of memory");
}

/* V for a message: values are clamped at +-2^56, and one there was larger still. */
static const char *num_shown(int64_t v, char buf[32])
{
	if (v >= NP__PY_BIG)
		return "more than 2^56";
	if (v <= -NP__PY_BIG)
		return "less than -2^56";
	snprintf(buf, 32, "%lld", (long long)v);
	return buf;
}

/* A + B, held within +-2^56 like every value read: sums never overflow. */
static int64_t sum_clamped(int64_t a, int64_t b)
{
	int64_t s = a + b; /* |a|, |b| <= 2^57 here: no overflow */

	return s > NP__PY_BIG ? NP__PY_BIG : s < -NP__PY_BIG ? -NP__PY_BIG : s;
}

static const char *lookup(const struct np_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value ? kv[i].value : "";
	return NULL;
}

static const char *flavor(const struct nq *q, const char *key)
{
	return lookup(q->fl, q->nfl, key);
}

static const char *image(const struct nq *q, const char *key)
{
	return lookup(q->im, q->nim, key);
}

/* Python truthiness of an optional string. */
static bool truthy(const char *v)
{
	return v && *v;
}

static int name_index(const char *v, const char *const *names, int n)
{
	for (int i = 0; v && i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

/* "shared, dedicated, mixed" for messages. */
static const char *join(const char *const *names, int n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);
	return buf;
}

/* Does KEY match Python's re.match('PREFIX([1-9][0-9]*)?:NAME', key)? */
static bool match_grouped(const char *key, const char *prefix, const char *name)
{
	size_t n = strlen(prefix);

	if (strncmp(key, prefix, n) != 0)
		return false;
	key += n;
	if (*key >= '1' && *key <= '9')
		while (*key >= '0' && *key <= '9')
			key++;
	return *key == ':' && strncmp(key + 1, name, strlen(name)) == 0;
}

/* ---- the caller's input, before any of Nova's rules ---- */

static int check_keys(struct nq *q, const struct np_kv *kv, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		if (!kv[i].key || !*kv[i].key)
			return fail(q, "invalid_key", "%s %zu has no key", what, i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(kv[i].key, kv[j].key) == 0)
				return fail(q, "duplicate_key", "%s '%.80s' given twice", what,
					    kv[i].key);
	}
	return 0;
}

static int check_input(struct nq *q)
{
	int rc;

	if (q->vcpus < 1 || q->vcpus > NP_VCPUS_MAX)
		return fail(q, "invalid_flavor", "flavor vcpus=%u is not within 1-%d", q->vcpus,
			    NP_VCPUS_MAX);
	if (q->mem < 1 || q->mem > NP_MEMORY_MB_MAX)
		return fail(q, "invalid_flavor",
			    "flavor memory_mb=%llu is not within 1-" NP_MEMORY_MB_MAX_TEXT,
			    (unsigned long long)q->mem);
	rc = check_keys(q, q->fl, q->nfl, "extra spec");
	return rc ? rc : check_keys(q, q->im, q->nim, "image property");
}

/* ---- ImageMeta.from_dict(): typed image properties, in field order ---- */

static int img_int(struct nq *q, const char *key, bool *set, int64_t *val)
{
	const char *v = image(q, key);
	int64_t dummy;

	if (!v)
		return 0;
	if (!np__py_int(v, val ? val : &dummy))
		return fail(q, "invalid_image_property",
			    "image property %s=%.60s is not an integer", key, v);
	if (set)
		*set = true;
	return 0;
}

static int img_enum(struct nq *q, const char *key, const char *const *names, int n,
		    const char **out)
{
	const char *v = image(q, key);
	char buf[80];

	if (!v)
		return 0;
	if (name_index(v, names, n) < 0)
		return fail(q, "invalid_image_property", "image property %s=%.60s is not one of %s",
			    key, v, join(names, n, buf, sizeof(buf)));
	*out = v;
	return 0;
}

/* hw_numa_cpus.N, N = 0, 1, ... up to the first missing one. */
static int img_numa_cpus(struct nq *q)
{
	char key[32], bad[64];

	for (int i = 0; i < NUMA_NODES_MAX; i++) {
		const char *v;
		int rc;

		snprintf(key, sizeof(key), "hw_numa_cpus.%d", i);
		if (!(v = image(q, key)))
			break;
		rc = np__cpuspec_parse(v, -1, &q->img_cpus[i], bad, sizeof(bad));
		q->img_cpu_text[i] = v;
		q->n_img_cpus = i + 1;
		if (rc == NP_ENOMEM)
			return nomem(q);
		if (rc)
			return fail(q, "invalid_cpu_list", "image property %s=%.60s: bad rule '%s'",
				    key, v, bad);
	}
	return 0;
}

static int img_numa_mem(struct nq *q)
{
	char key[32];

	for (int i = 0; i < NUMA_NODES_MAX; i++) {
		const char *v;

		snprintf(key, sizeof(key), "hw_numa_mem.%d", i);
		if (!(v = image(q, key)))
			break;
		if (!np__py_int(v, &q->img_mem[i]))
			return fail(q, "invalid_image_property",
				    "image property %s=%.60s is not an integer", key, v);
		q->img_mem_text[i] = v;
		q->n_img_mem = i + 1;
	}
	return 0;
}

static int image_props_typed(struct nq *q)
{
	static const char *const ints[] = {"hw_cpu_cores", "hw_cpu_sockets", "hw_cpu_max_cores",
					   "hw_cpu_max_sockets", "hw_cpu_max_threads"};
	const char *locked;
	int rc = 0;

	for (size_t i = 0; i < NP__ARRAY_SIZE(ints) && !rc; i++)
		rc = img_int(q, ints[i], NULL, NULL);
	if (!rc)
		rc = img_enum(q, "hw_cpu_policy", cpu_policies, 3, &q->img_cpu_policy);
	if (!rc)
		rc = img_enum(q, "hw_cpu_thread_policy", thread_policies, 3, &q->img_thread_policy);
	q->img_rt_mask = image(q, "hw_cpu_realtime_mask");
	if (!rc)
		rc = img_int(q, "hw_cpu_threads", NULL, NULL);
	locked = image(q, "hw_locked_memory");
	q->img_locked = locked ? np__py_bool(locked) : -1;
	q->img_page = image(q, "hw_mem_page_size");
	if (!rc)
		rc = img_int(q, "hw_numa_nodes", &q->img_nodes_set, &q->img_nodes);
	q->img_nodes_text = image(q, "hw_numa_nodes");
	if (!rc)
		rc = img_numa_cpus(q);
	if (!rc)
		rc = img_numa_mem(q);
	if (!rc)
		rc = img_enum(q, "hw_pci_numa_affinity_policy", pci_policies, 4, &q->img_pci);
	q->img_ht_trait = name_index(image(q, "trait:HW_CPU_HYPERTHREADING"),
				     (const char *const[]){"required"}, 1) == 0;
	return rc;
}

/* ---- numa_get_constraints(), step by step ---- */

static int cpu_policy(struct nq *q)
{
	const char *f = flavor(q, "hw:cpu_policy"), *i = q->img_cpu_policy;
	int fi = name_index(f, cpu_policies, 3), ii = name_index(i, cpu_policies, 3);
	char buf[80];

	if (truthy(f) && fi < 0)
		return fail(q, "invalid_cpu_policy", "hw:cpu_policy=%.60s is not one of %s", f,
			    join(cpu_policies, 3, buf, sizeof(buf)));
	if (fi == 2 && ii == 1)
		return fail(
		    q, "image_cpu_pinning_forbidden",
		    "image hw_cpu_policy=dedicated conflicts with flavor hw:cpu_policy=mixed");
	if (fi == 0 && ii > 0)
		return fail(q, "image_cpu_pinning_forbidden",
			    "image hw_cpu_policy=%s conflicts with flavor hw:cpu_policy=shared", i);
	if (fi >= 0 || ii >= 0) /* cpu_policies[k] is policy k + 1 */
		q->cpu = (enum np_cpu_policy)((fi >= 0 ? fi : ii) + 1);
	return 0;
}

static int thread_policy(struct nq *q)
{
	const char *f = flavor(q, "hw:cpu_thread_policy"), *i = q->img_thread_policy, *p;
	int fi = name_index(f, thread_policies, 3);
	char buf[80];

	if (truthy(f) && fi < 0)
		return fail(q, "invalid_cpu_thread_policy",
			    "hw:cpu_thread_policy=%.60s is not one of %s", f,
			    join(thread_policies, 3, buf, sizeof(buf)));
	if (!f || fi == 0) {
		p = truthy(f) ? f : i;
	} else if (truthy(i) && strcmp(i, f) != 0) {
		return fail(q, "image_cpu_thread_policy_forbidden",
			    "image hw_cpu_thread_policy=%s conflicts with flavor "
			    "hw:cpu_thread_policy=%s",
			    i, f);
	} else {
		p = f;
	}
	q->thread = (enum np_thread_policy)(name_index(p, thread_policies, 3) + 1);
	q->thread_empty = p && !*p;
	return 0;
}

/* Read KEY=TEXT as a mask over the vCPUs ('^' first: all but, as Nova). */
static int parse_mask(struct nq *q, const char *key, const char *text, struct mask *m)
{
	int64_t prefix = np__py_strip_starts(text, '^') ? (int64_t)q->vcpus - 1 : -1;
	struct np__cpuspec cs;
	char bad[64];
	int rc = np__cpuspec_parse(text, prefix, &cs, bad, sizeof(bad));

	if (rc == 0 && !(m->bm = np__calloc(q->vcpus, 1)))
		rc = NP_ENOMEM;
	if (rc == 0) {
		m->set = true;
		m->count = np__cpuspec_fill(&cs, (int)q->vcpus, m->bm);
		m->oor = np__cpuspec_min_from(&cs, q->vcpus);
	}
	np__cpuspec_free(&cs);
	if (rc == NP_ENOMEM)
		return nomem(q);
	if (rc)
		return fail(q, "invalid_cpu_list", "%s=%.60s: bad rule '%s'", key, text, bad);
	return 0;
}

/* No mask: every vCPU. */
static int mask_all(struct nq *q, struct mask *m)
{
	if (!(m->bm = np__calloc(q->vcpus, 1)))
		return nomem(q);
	memset(m->bm, 1, q->vcpus);
	m->set = true;
	m->count = (int)q->vcpus;
	m->oor = -1;
	return 0;
}

static int emulator_policy(struct nq *q, enum np_emulator_policy *out)
{
	const char *v = flavor(q, "hw:emulator_threads_policy");
	int i = name_index(v, emu_policies, 2);
	char buf[40];

	if (truthy(v) && i < 0)
		return fail(q, "invalid_emulator_threads_policy",
			    "hw:emulator_threads_policy=%.60s is not one of %s", v,
			    join(emu_policies, 2, buf, sizeof(buf)));
	*out = (enum np_emulator_policy)(i + 1);
	return 0;
}

static int realtime(struct nq *q)
{
	const char *mask =
	    truthy(q->img_rt_mask) ? q->img_rt_mask : flavor(q, "hw:cpu_realtime_mask");
	const char *key = truthy(q->img_rt_mask) ? "hw_cpu_realtime_mask" : "hw:cpu_realtime_mask";
	enum np_emulator_policy emu;
	char nb[32];
	int rc;

	if (!np__py_bool(flavor(q, "hw:cpu_realtime")))
		return 0;
	if (truthy(mask))
		rc = parse_mask(q, key, mask, &q->rt);
	else
		rc = mask_all(q, &q->rt);
	if (rc)
		return rc;
	if (q->rt.count == 0 && q->rt.oor < 0)
		return fail(q, "invalid_realtime_mask", "%s=%.60s leaves no realtime vCPU", key,
			    mask);
	if ((rc = emulator_policy(q, &emu)))
		return rc;
	if (q->rt.count == (int)q->vcpus && q->rt.oor < 0 && emu == NP_EMULATOR_POLICY_NONE)
		return fail(q, "invalid_realtime_mask",
			    "%s=%.60s makes every vCPU realtime, which needs "
			    "hw:emulator_threads_policy",
			    key, truthy(mask) ? mask : "(unset)");
	if (q->rt.oor >= 0)
		return fail(q, "invalid_realtime_mask", "%s=%.60s names vCPU %s of %u", key, mask,
			    num_shown(q->rt.oor, nb), q->vcpus);
	return 0;
}

static int dedicated_mask(struct nq *q)
{
	const char *mask = flavor(q, "hw:cpu_dedicated_mask");
	char nb[32];
	int rc;

	if (!truthy(mask))
		return 0;
	if ((rc = parse_mask(q, "hw:cpu_dedicated_mask", mask, &q->ded)))
		return rc;
	if ((q->ded.count == 0 && q->ded.oor < 0) || q->ded.count == (int)q->vcpus)
		return fail(q, "invalid_dedicated_mask",
			    "hw:cpu_dedicated_mask=%.60s must leave some but not all of %u vCPUs "
			    "shared",
			    mask, q->vcpus);
	if (q->ded.oor >= 0)
		return fail(q, "invalid_dedicated_mask",
			    "hw:cpu_dedicated_mask=%.60s names vCPU "
			    "%s of %u",
			    mask, num_shown(q->ded.oor, nb), q->vcpus);
	return 0;
}

/* resources[N]:VCPU / resources[N]:PCPU, summed over the groups. */
static void resource_sums(const struct nq *q, int64_t *vcpu, int64_t *pcpu)
{
	*vcpu = *pcpu = 0;
	for (size_t i = 0; i < q->nfl; i++) {
		int64_t v;

		if (!np__py_int(q->fl[i].value, &v))
			continue;
		if (match_grouped(q->fl[i].key, "resources", "VCPU"))
			*vcpu = sum_clamped(*vcpu, v);
		if (match_grouped(q->fl[i].key, "resources", "PCPU"))
			*pcpu = sum_clamped(*pcpu, v);
	}
}

static int resources(struct nq *q)
{
	int64_t rv, rp;
	char b1[32], b2[32];

	resource_sums(q, &rv, &rp);
	if (q->cpu != NP_CPU_POLICY_NONE && (rv || rp))
		return fail(q, "resources_with_cpu_policy",
			    "resources:VCPU or resources:PCPU cannot be combined with a cpu policy "
			    "(hw:cpu_policy=%s)",
			    np_cpu_policy_name(q->cpu));
	if (rv && rp)
		return fail(q, "resources_vcpu_and_pcpu",
			    "resources:VCPU=%s and resources:PCPU=%s cannot both be given",
			    num_shown(rv, b1), num_shown(rp, b2));
	if (rp && q->emu == NP_EMULATOR_POLICY_ISOLATE && rp != (int64_t)q->vcpus + 1)
		return fail(q, "resources_pcpu_count",
			    "resources:PCPU=%s must be vcpus + 1 = %u with "
			    "hw:emulator_threads_policy=isolate",
			    num_shown(rp, b1), q->vcpus + 1);
	if (rp && q->emu != NP_EMULATOR_POLICY_ISOLATE && rp != (int64_t)q->vcpus)
		return fail(q, "resources_pcpu_count", "resources:PCPU=%s must equal vcpus=%u",
			    num_shown(rp, b1), q->vcpus);
	if (rp)
		q->cpu = NP_CPU_POLICY_DEDICATED;
	if (rv)
		q->cpu = NP_CPU_POLICY_SHARED;
	return 0;
}

static int hyperthreading_trait(struct nq *q)
{
	const char *ht = NULL;

	for (size_t i = 0; i < q->nfl && !ht; i++)
		if (match_grouped(q->fl[i].key, "trait", "HW_CPU_HYPERTHREADING"))
			ht = q->fl[i].value ? q->fl[i].value : "";
	if (!ht && q->img_ht_trait)
		ht = "required";
	if (q->thread != NP_THREAD_POLICY_NONE && truthy(ht))
		return fail(q, "hyperthreading_trait_with_thread_policy",
			    "trait:HW_CPU_HYPERTHREADING=%.40s cannot be combined with "
			    "hw:cpu_thread_policy=%s",
			    ht, np_thread_policy_name(q->thread));
	if (ht && strcmp(ht, "forbidden") == 0)
		q->thread = NP_THREAD_POLICY_ISOLATE;
	else if (ht && strcmp(ht, "required") == 0)
		q->thread = NP_THREAD_POLICY_REQUIRE;
	if (q->thread != NP_THREAD_POLICY_NONE)
		q->thread_empty = false;
	return 0;
}

static int sanity(struct nq *q)
{
	const char *pol = np_cpu_policy_name(q->cpu);

	if (q->cpu == NP_CPU_POLICY_NONE || q->cpu == NP_CPU_POLICY_SHARED) {
		if (q->thread != NP_THREAD_POLICY_NONE)
			return fail(q, "thread_policy_needs_pinning",
				    "hw:cpu_thread_policy=%s needs hw:cpu_policy dedicated or "
				    "mixed, not %s",
				    np_thread_policy_name(q->thread), pol);
		if (q->emu == NP_EMULATOR_POLICY_ISOLATE)
			return fail(q, "emulator_isolate_needs_pinning",
				    "hw:emulator_threads_policy=isolate needs hw:cpu_policy "
				    "dedicated or mixed, not %s",
				    pol);
		if (q->ded.set)
			return fail(q, "dedicated_mask_needs_mixed",
				    "hw:cpu_dedicated_mask needs hw:cpu_policy=mixed, not %s", pol);
		if (q->rt.set)
			return fail(
			    q, "realtime_needs_pinning",
			    "hw:cpu_realtime needs hw:cpu_policy dedicated or mixed, not %s", pol);
	} else if (q->cpu == NP_CPU_POLICY_DEDICATED && q->ded.set) {
		return fail(q, "dedicated_mask_needs_mixed",
			    "hw:cpu_dedicated_mask needs hw:cpu_policy=mixed, not dedicated");
	} else if (q->cpu == NP_CPU_POLICY_MIXED && q->rt.set == q->ded.set) {
		return fail(q, "mixed_needs_one_mask",
			    "hw:cpu_policy=mixed needs exactly one of hw:cpu_dedicated_mask and "
			    "hw:cpu_realtime_mask, %s given",
			    q->rt.set ? "both" : "neither");
	}
	return 0;
}

static int numa_nodes(struct nq *q)
{
	const char *f = flavor(q, "hw:numa_nodes");
	bool img_truthy = q->img_nodes_set && q->img_nodes != 0;
	char ibuf[24];
	const char *v;

	if (truthy(f) && img_truthy)
		return fail(q, "image_numa_topology_forbidden",
			    "image hw_numa_nodes=%.40s cannot override flavor hw:numa_nodes=%.40s",
			    q->img_nodes_text ? q->img_nodes_text : "", f);
	if (truthy(f)) {
		v = f;
	} else if (q->img_nodes_set) {
		snprintf(ibuf, sizeof(ibuf), "%lld", (long long)q->img_nodes);
		v = ibuf;
	} else {
		return 0;
	}
	q->nodes_key = truthy(f) ? "hw:numa_nodes" : "hw_numa_nodes";
	q->nodes_text = truthy(f) ? f : q->img_nodes_text ? q->img_nodes_text : v;
	if (!np__py_int_like(v) || !np__py_int(v, &q->nodes) || q->nodes < 1)
		return fail(q, "invalid_numa_nodes", "%s=%.40s is not an integer >= 1",
			    q->nodes_key, q->nodes_text);
	return 0;
}

/* Nova's check_and_return_pages_size() of one value. */
static int page_value(struct nq *q, const char *key, const char *v)
{
	static const char *const names[] = {"small", "large", "any"};
	int i = name_index(v, names, 3);
	int64_t n;

	q->page_text = v;
	if (i >= 0) {
		q->page_kib = -1 - i; /* NP_PAGESIZE_SMALL, _LARGE, _ANY */
	} else if (np__py_isdigit(v)) {
		np__py_int(v, &n);
		q->page_kib = (double)n;
	} else if (!np__py_size_kib(v, &q->page_kib)) {
		return fail(q, "invalid_page_size",
			    "%s=%.40s is not small, large, any, a number "
			    "of KiB or a size with a unit such as 2MB",
			    key, v);
	}
	return 0;
}

static int page_size(struct nq *q)
{
	const char *f = flavor(q, "hw:mem_page_size"), *i = q->img_page;
	int rc;

	if (!truthy(f) && truthy(i))
		return fail(q, "image_page_size_forbidden",
			    "image hw_mem_page_size=%.40s needs the flavor's hw:mem_page_size to "
			    "be any or large",
			    i);
	if (!truthy(f))
		return 0;
	if ((rc = page_value(q, "hw:mem_page_size", f)))
		return rc;
	if (truthy(i) && (q->page_kib == NP_PAGESIZE_ANY || q->page_kib == NP_PAGESIZE_LARGE))
		rc = page_value(q, "hw_mem_page_size", i);
	else if (truthy(i))
		return fail(q, "image_page_size_forbidden",
			    "image hw_mem_page_size=%.40s conflicts with flavor "
			    "hw:mem_page_size=%.40s",
			    i, f);
	q->page_truthy = q->page_kib != 0;
	return rc;
}

static void pmem(struct nq *q)
{
	const char *v = flavor(q, "hw:pmem");

	for (; v && *v; v++)
		if (!np__py_space(*v) && *v != ',')
			q->pmem = true;
}

static int locked_memory(struct nq *q)
{
	const char *f = flavor(q, "hw:locked_memory");
	int locked = q->img_locked;

	if (f) {
		locked = np__py_bool(f);
		if (q->img_locked >= 0 && q->img_locked != locked)
			return fail(q, "locked_memory_conflict",
				    "flavor hw:locked_memory=%.20s and image hw_locked_memory=%s "
				    "disagree",
				    f, q->img_locked ? "true" : "false");
	}
	if (locked == 1 && !truthy(flavor(q, "hw:mem_page_size")) && !truthy(q->img_page))
		return fail(q, "locked_memory_needs_page_size",
			    "hw:locked_memory needs hw:mem_page_size");
	return 0;
}

/* ---- the guest cells: automatic or manual split ---- */

static int split_auto(struct nq *q)
{
	uint64_t n = (uint64_t)q->nodes;

	if (q->vcpus % n || q->mem % n)
		return fail(q, "numa_topology_asymmetric",
			    "%s=%.40s does not divide %u vCPUs and %llu MiB evenly", q->nodes_key,
			    q->nodes_text, q->vcpus, (unsigned long long)q->mem);
	q->ncells = (int)n;
	for (unsigned v = 0; v < q->vcpus; v++)
		q->cell_of[v] = (int)(v / (q->vcpus / n));
	if (!(q->auto_mem = np__calloc(n, sizeof(*q->auto_mem))))
		return nomem(q);
	for (uint64_t i = 0; i < n; i++)
		q->auto_mem[i] = q->mem / n;
	return 0;
}

/* Flavor hw:numa_cpus.N, parsed up to the first missing N. */
static int flavor_cpu_list(struct nq *q)
{
	char key[32], bad[64];

	for (int i = 0; i < NUMA_NODES_MAX; i++) {
		const char *v;
		int rc;

		snprintf(key, sizeof(key), "hw:numa_cpus.%d", i);
		if (!(v = flavor(q, key)))
			break;
		rc = np__cpuspec_parse(v, -1, &q->fl_cpus[i], bad, sizeof(bad));
		q->fl_cpu_text[i] = v;
		q->n_fl_cpus = i + 1;
		if (rc == NP_ENOMEM)
			return nomem(q);
		if (rc)
			return fail(q, "invalid_cpu_list", "%s=%.60s: bad rule '%s'", key, v, bad);
	}
	return 0;
}

static int flavor_mem_list(struct nq *q, int *n)
{
	char key[32];

	*n = 0;
	for (int i = 0; i < NUMA_NODES_MAX; i++) {
		const char *v;

		snprintf(key, sizeof(key), "hw:numa_mem.%d", i);
		if (!(v = flavor(q, key)))
			break;
		if (!np__py_int(v, &q->cell_mem[i]))
			return fail(q, "invalid_numa_mem", "%s=%.40s is not an integer", key, v);
		q->fl_mem_text[i] = v;
		*n = i + 1;
	}
	return 0;
}

/*
 * A node with both a vCPU taken by an earlier node and one out of range:
 * Nova reports whichever its set iteration meets first.  1 when that is
 * the out-of-range one (ascending order, our default, meets the other).
 */
static int python_meets_oor_first(struct nq *q, int c, const char *text, bool image)
{
	int64_t *ids = NULL;
	int n = 0, rc = np__cpuspec_py_order(text, image, &ids, &n), first = 0;

	for (int i = 0; !rc && i < n && !first; i++) {
		if (ids[i] >= q->vcpus)
			first = 1;
		else if (q->cell_of[ids[i]] >= 0 && q->cell_of[ids[i]] != c)
			first = -1; /* taken by an earlier node, not by this one's walk */
	}
	free(ids);
	return rc == NP_ENOMEM ? nomem(q) : first > 0;
}

/* One guest cell of the manual split: Nova walks its vCPUs in order. */
static int manual_cell(struct nq *q, int c, const struct np__cpuspec *cs, const char *text,
		       bool image)
{
	const char *src = image ? "hw_numa_cpus" : "hw:numa_cpus";
	int64_t oor = np__cpuspec_min_from(cs, q->vcpus);
	char nb[32];
	int rc;

	np__cpuspec_fill(cs, (int)q->vcpus, q->scratch);
	for (unsigned v = 0; v < q->vcpus; v++) {
		if (!q->scratch[v])
			continue;
		if (q->cell_of[v] >= 0 && oor >= 0 &&
		    (rc = python_meets_oor_first(q, c, text, image)))
			return rc < 0 ? rc
				      : fail(q, "numa_cpu_out_of_range",
					     "%s.%d names vCPU "
					     "%s but the flavor has vCPUs 0-%u",
					     src, c, num_shown(oor, nb), q->vcpus - 1);
		if (q->cell_of[v] >= 0)
			return fail(q, "numa_cpu_duplicate", "vCPU %u is in %s.%d and %s.%d", v,
				    src, q->cell_of[v], src, c);
		q->cell_of[v] = c;
	}
	if (oor >= 0)
		return fail(q, "numa_cpu_out_of_range",
			    "%s.%d names vCPU %s but the flavor "
			    "has vCPUs 0-%u",
			    src, c, num_shown(oor, nb), q->vcpus - 1);
	return 0;
}

static int split_manual(struct nq *q, const struct np__cpuspec *cpus, const char *const *text,
			const int64_t *mem, bool from_image, bool mem_from_image)
{
	const char *src = from_image ? "hw_numa_cpus" : "hw:numa_cpus";
	int64_t total = 0;
	char nb[32];
	int rc;

	q->mem_key = mem_from_image ? "hw_numa_mem" : "hw:numa_mem";
	for (unsigned v = 0; v < q->vcpus; v++)
		q->cell_of[v] = -1;
	for (int c = 0; c < q->nodes; c++)
		if ((rc = manual_cell(q, c, &cpus[c], text[c], from_image)))
			return rc;
	for (unsigned v = 0; v < q->vcpus; v++)
		if (q->cell_of[v] < 0)
			return fail(q, "numa_cpu_unassigned", "vCPU %u is in no %s.N", v, src);
	for (int c = 0; c < q->nodes; c++) {
		q->cell_mem[c] = mem[c];
		q->cell_mem_text[c] = mem_from_image ? q->img_mem_text[c] : q->fl_mem_text[c];
		total = sum_clamped(total, mem[c]);
	}
	if (total != (int64_t)q->mem)
		return fail(q, "numa_memory_mismatch",
			    "%s.N add up to %s MiB, not the "
			    "flavor's %llu",
			    q->mem_key, num_shown(total, nb), (unsigned long long)q->mem);
	q->ncells = (int)q->nodes;
	return 0;
}

static int topology(struct nq *q)
{
	int n_fl_mem, rc;
	bool img_cpus = false, img_mem = false;

	if (q->nodes == 0)
		q->nodes = 1;
	if ((rc = flavor_cpu_list(q)))
		return rc;
	if (q->n_fl_cpus && q->n_img_cpus)
		return fail(q, "image_numa_topology_forbidden",
			    "image hw_numa_cpus.N cannot override flavor hw:numa_cpus.N");
	img_cpus = !q->n_fl_cpus && q->n_img_cpus;
	if ((rc = flavor_mem_list(q, &n_fl_mem)))
		return rc;
	if (n_fl_mem && q->n_img_mem)
		return fail(q, "image_numa_topology_forbidden",
			    "image hw_numa_mem.N cannot override flavor hw:numa_mem.N");
	img_mem = !n_fl_mem && q->n_img_mem;
	q->cell_of = np__calloc(q->vcpus, sizeof(*q->cell_of));
	q->scratch = np__calloc(q->vcpus, 1);
	if (!q->cell_of || !q->scratch)
		return nomem(q);
	{
		int ncpu = img_cpus ? q->n_img_cpus : q->n_fl_cpus;
		int nmem = img_mem ? q->n_img_mem : n_fl_mem;

		if (!ncpu && !nmem)
			return split_auto(q);
		if ((!ncpu || !nmem || ncpu != q->nodes || nmem != q->nodes) &&
		    q->nodes > NUMA_NODES_MAX)
			return fail(q, "numa_topology_incomplete",
				    "%s=%.40s needs hw:numa_cpus.N and hw:numa_mem.N for every "
				    "node, got %d and %d entries",
				    q->nodes_key, q->nodes_text, ncpu, nmem);
		if (!ncpu || !nmem || ncpu != q->nodes || nmem != q->nodes)
			return fail(q, "numa_topology_incomplete",
				    "hw:numa_nodes=%lld needs hw:numa_cpus.0-%lld and "
				    "hw:numa_mem.0-%lld, got %d and %d entries",
				    (long long)q->nodes, (long long)q->nodes - 1,
				    (long long)q->nodes - 1, ncpu, nmem);
		q->cells_listed = (int)q->nodes;
		q->cpus_from_image = img_cpus;
		q->mem_from_image = img_mem;
	}
	return split_manual(q, img_cpus ? q->img_cpus : q->fl_cpus,
			    img_cpus ? q->img_cpu_text : q->fl_cpu_text,
			    img_mem ? q->img_mem : q->cell_mem, img_cpus, img_mem);
}

static int constraints(struct nq *q)
{
	int rc;

	if ((rc = cpu_policy(q)) || (rc = thread_policy(q)) || (rc = realtime(q)) ||
	    (rc = dedicated_mask(q)) || (rc = emulator_policy(q, &q->emu)) || (rc = resources(q)) ||
	    (rc = hyperthreading_trait(q)) || (rc = sanity(q)))
		return rc;
	if (q->cpu == NP_CPU_POLICY_MIXED && !q->ded.set) {
		q->ded = q->rt; /* the realtime vCPUs are the pinned ones */
		q->ded.bm = NULL;
		if (!(q->ded.bm = np__calloc(q->vcpus, 1)))
			return nomem(q);
		memcpy(q->ded.bm, q->rt.bm, q->vcpus);
	}
	if ((rc = numa_nodes(q)) || (rc = page_size(q)))
		return rc;
	pmem(q);
	if ((rc = locked_memory(q)))
		return rc;
	q->numa = q->nodes || q->page_truthy || q->pmem || q->cpu == NP_CPU_POLICY_DEDICATED ||
		  q->cpu == NP_CPU_POLICY_MIXED;
	if (!q->numa)
		return 0;
	if ((rc = topology(q)))
		return rc;
	/* Nova then copies the policies onto each cell, whose enum field refuses "" */
	if (q->thread_empty)
		return fail(q, "empty_cpu_thread_policy", "hw:cpu_thread_policy is empty");
	return 0;
}

/* ---- get_pci_numa_policy_constraint(), get_pci_requests_from_flavor() ---- */

static int pci_numa_policy(struct nq *q)
{
	const char *f = flavor(q, "hw:pci_numa_affinity_policy"), *i = q->img_pci, *p;
	int k;
	char buf[80];

	if (truthy(f) && truthy(i) && strcmp(f, i) != 0)
		return fail(q, "image_pci_numa_policy_forbidden",
			    "image hw_pci_numa_affinity_policy=%s conflicts with flavor "
			    "hw:pci_numa_affinity_policy=%.40s",
			    i, f);
	p = truthy(f) ? f : i;
	if (!truthy(p))
		return 0;
	if ((k = name_index(p, pci_policies, 4)) < 0)
		return fail(q, "invalid_pci_numa_policy",
			    "hw:pci_numa_affinity_policy=%.40s is not one of %s", p,
			    join(pci_policies, 4, buf, sizeof(buf)));
	q->pci_policy = (enum np_pci_policy)k;
	q->pci_policy_set = true;
	return 0;
}

/* Is [S, E) stripped equal to NAME stripped (Nova strips alias names)? */
static bool same_name(const char *s, const char *e, const char *name)
{
	const char *t = name, *te = name + strlen(name);

	while (s < e && np__py_space(*s))
		s++;
	while (e > s && np__py_space(e[-1]))
		e--;
	while (t < te && np__py_space(*t))
		t++;
	while (te > t && np__py_space(te[-1]))
		te--;
	return e - s == te - t && memcmp(s, t, (size_t)(e - s)) == 0;
}

static enum np_pci_policy alias_policy(const struct np_pci_alias *a)
{
	return a->has_policy ? a->policy : NP_PCI_POLICY_LEGACY;
}

/* _get_alias_from_config(): one name, one NUMA policy. */
static int alias_config(struct nq *q)
{
	for (size_t i = 0; i < q->nal; i++) {
		const char *n = q->al[i].name;

		if (!n || !*n || strlen(n) > 256)
			return fail(q, "invalid_pci_alias",
				    "pci alias %zu has no name of 1-256 "
				    "characters",
				    i);
		for (size_t j = 0; j < i; j++)
			if (same_name(n, n + strlen(n), q->al[j].name) &&
			    alias_policy(&q->al[i]) != alias_policy(&q->al[j]))
				return fail(q, "invalid_pci_alias",
					    "pci alias '%.60s' is defined with numa policies %s "
					    "and %s",
					    n, np_pci_policy_name(alias_policy(&q->al[j])),
					    np_pci_policy_name(alias_policy(&q->al[i])));
	}
	return 0;
}

/* Exactly four hex digits at P (Nova's PCI_VENDOR_PATTERN); -1 otherwise. */
static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * "VVVV:PPPP" or "VVVV:PPPP:policy" (numaplace's inline alias, also used
 * by the flavor text and JSON formats) into *A; false when malformed.
 */
bool np__pci_alias_parse(const char *v, struct np_pci_alias *a)
{
	long ven = hex4(v), dev = ven < 0 || v[4] != ':' ? -1 : hex4(v + 5);
	int k = -1;

	if (dev < 0 || (v[9] != '\0' && v[9] != ':'))
		return false;
	if (v[9] == ':' && (k = name_index(v + 10, pci_policies, 4)) < 0)
		return false;
	a->vendor = (unsigned)ven;
	a->product = (unsigned)dev;
	a->has_policy = k >= 0;
	a->policy = k >= 0 ? (enum np_pci_policy)k : NP_PCI_POLICY_LEGACY;
	return true;
}

/* numaplace:pci_alias.NAME in the specs: 1 when there is none. */
static int inline_alias(struct nq *q, const char *s, const char *e, struct np_pci_alias *a,
			char *name, size_t size)
{
	char key[128];
	const char *v;

	snprintf(name, size, "%.*s", (int)(e - s), s);
	snprintf(key, sizeof(key), "numaplace:pci_alias.%s", name);
	if (!(v = flavor(q, key)) && !(v = image(q, key)))
		return 1;
	if (!np__pci_alias_parse(v, a))
		return fail(q, "invalid_pci_alias", "%s=%.40s is not VVVV:PPPP[:policy] in hex",
			    key, v);
	a->name = name;
	return 0;
}

static int find_alias(struct nq *q, const char *s, const char *e, struct np_pci_alias *a,
		      char *name, size_t size)
{
	int rc;

	for (size_t i = 0; i < q->nal; i++) {
		if (same_name(s, e, q->al[i].name)) {
			*a = q->al[i];
			return 0;
		}
	}
	while (s < e && np__py_space(*s))
		s++;
	while (e > s && np__py_space(e[-1]))
		e--;
	if ((rc = inline_alias(q, s, e, a, name, size)) <= 0)
		return rc;
	return fail(q, "pci_alias_not_defined",
		    "pci_passthrough:alias names '%.*s', which is "
		    "no [pci] alias",
		    (int)(e - s > 60 ? 60 : e - s), s);
}

/* One "name:count" of pci_passthrough:alias, [S, E). */
static int pci_item(struct nq *q, const char *s, const char *e)
{
	const char *colon = memchr(s, ':', (size_t)(e - s));
	struct np_pci_alias a;
	struct np_pci_request r = {0};
	char count[32], name[64];
	int64_t n;
	int rc;

	if (!colon || memchr(colon + 1, ':', (size_t)(e - colon - 1)))
		return fail(q, "invalid_pci_alias_request",
			    "pci_passthrough:alias item '%.*s' is "
			    "not name:count",
			    (int)(e - s > 60 ? 60 : e - s), s);
	if ((rc = find_alias(q, s, colon, &a, name, sizeof(name))))
		return rc;
	snprintf(count, sizeof(count), "%.*s", (int)(e - colon - 1), colon + 1);
	if ((size_t)(e - colon - 1) >= sizeof(count) || !np__py_int(count, &n))
		return fail(q, "invalid_pci_alias_request",
			    "pci_passthrough:alias count '%.*s' is "
			    "not an integer",
			    (int)(e - colon - 1 > 30 ? 30 : e - colon - 1), colon + 1);
	snprintf(r.alias, sizeof(r.alias), "%.*s", (int)(colon - s), s);
	r.vendor = a.vendor;
	r.product = a.product;
	r.count = n < 0 ? -1 : n > NP_PCI_COUNT_MAX ? NP_PCI_COUNT_MAX + 1 : (int)n;
	r.policy = q->pci_policy_set ? q->pci_policy : alias_policy(&a);
	if (np__grow((void **)&q->pci, &q->pcicap, (size_t)q->npci + 1, sizeof(*q->pci)) < 0)
		return nomem(q);
	q->pci[q->npci++] = r;
	return 0;
}

static int pci_requests(struct nq *q)
{
	const char *v = flavor(q, "pci_passthrough:alias");
	int rc;

	if (!v)
		return 0;
	if ((rc = alias_config(q)))
		return rc;
	for (const char *p = v;; p++) {
		const char *end = strchr(p, ',');

		if ((rc = pci_item(q, p, end ? end : p + strlen(p))))
			return rc;
		if (!end)
			return 0;
		p = end;
	}
}

/* ---- numaplace's own rules: only once Nova has accepted the request ---- */

/* numaplace:KEY from the flavor or the image; both must agree. */
static int np_option(struct nq *q, const char *key, const char *const *names, int n, int *out)
{
	const char *f = flavor(q, key), *i = image(q, key), *v = f ? f : i;
	char buf[80];

	if (f && i && strcmp(f, i) != 0)
		return fail(q, "numaplace_option_conflict",
			    "flavor %s=%.30s and image %s=%.30s "
			    "disagree",
			    key, f, key, i);
	if (v && (*out = name_index(v, names, n)) < 0)
		return fail(q, "invalid_numaplace_option", "%s=%.40s is not one of %s", key, v,
			    join(names, n, buf, sizeof(buf)));
	return 0;
}

static int np_options_known(struct nq *q, const struct np_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *k = kv[i].key;

		if (strncmp(k, "numaplace:", 10) != 0 || strcmp(k, "numaplace:mem_policy") == 0 ||
		    strcmp(k, "numaplace:affinity") == 0)
			continue;
		if (strncmp(k, "numaplace:pci_alias.", 20) == 0 && k[20]) {
			struct np_pci_alias a;

			if (!np__pci_alias_parse(kv[i].value ? kv[i].value : "", &a))
				return fail(q, "invalid_pci_alias",
					    "%.60s=%.40s is not "
					    "VVVV:PPPP[:policy] in hex",
					    k, kv[i].value);
			continue;
		}
		return fail(q, "unknown_numaplace_option",
			    "%.60s is not a numaplace option "
			    "(mem_policy, affinity, pci_alias.NAME)",
			    k);
	}
	return 0;
}

static int numaplace_rules(struct nq *q)
{
	int rc, m = 0, a = 0;

	if ((rc = np_options_known(q, q->fl, q->nfl)) || (rc = np_options_known(q, q->im, q->nim)))
		return rc;
	if ((rc = np_option(q, "numaplace:mem_policy", np__mem_policy_names, 3, &m)) ||
	    (rc = np_option(q, "numaplace:affinity", np__affinity_names, 2, &a)))
		return rc;
	q->mem_policy = (enum np_mem_policy)m;
	q->affinity = (enum np_affinity)a;
	for (int c = 0; c < q->ncells && q->mem_key; c++)
		if (q->cell_mem[c] < 0)
			return fail(q, "numa_mem_negative", "%s.%d=%.40s is negative", q->mem_key, c,
				    q->cell_mem_text[c] ? q->cell_mem_text[c] : "");
	/* InstanceNUMACell.pagesize is an int: Nova truncates, so -3.5 is "any" */
	if (q->numa && q->page_truthy &&
	    (q->page_kib <= NP_PAGESIZE_ANY - 1 || q->page_kib >= (double)MAX_PAGE_KIB + 1))
		return fail(q, "unsupported_page_size",
			    "hw:mem_page_size=%.40s is %g KiB, which "
			    "no host has",
			    q->page_text, q->page_kib);
	for (int i = 0; i < q->npci; i++)
		if (q->pci[i].count < 0 || q->pci[i].count > NP_PCI_COUNT_MAX)
			return fail(q, "invalid_pci_count",
				    "pci_passthrough:alias asks for a "
				    "count of '%s' devices outside 0-%d",
				    q->pci[i].alias, NP_PCI_COUNT_MAX);
	return 0;
}

/* ---- the request ---- */

static int add_cell(struct nq *q, np_request *r, const int *ids, int n, uint64_t mem)
{
	int *fl = np__calloc((size_t)n + 1, sizeof(int)),
	    *pin = np__calloc((size_t)n + 1, sizeof(int));
	int nfl = 0, npin = 0, rc = NP_ENOMEM;
	long page = q->numa && q->page_truthy ? (long)q->page_kib : NP_PAGESIZE_UNSET; /* trunc */

	if (fl && pin) {
		for (int i = 0; i < n; i++) {
			bool pinned = q->cpu == NP_CPU_POLICY_DEDICATED ||
				      (q->cpu == NP_CPU_POLICY_MIXED && q->ded.bm[ids[i]]);

			if (pinned)
				pin[npin++] = ids[i];
			else
				fl[nfl++] = ids[i];
		}
		rc = np__request_add_cell(r, fl, nfl, pin, npin, mem, page, -1);
	}
	free(fl);
	free(pin);
	return rc;
}

/* The vCPUs grouped by cell (a counting sort of cell_of), then the cells. */
static int add_cells(struct nq *q, np_request *r)
{
	int *start = np__calloc((size_t)q->ncells + 1, sizeof(int));
	int *ids = np__calloc(q->vcpus, sizeof(int)), rc = NP_ENOMEM;

	if (start && ids) {
		for (unsigned v = 0; v < q->vcpus; v++)
			start[q->cell_of[v] + 1]++;
		for (int c = 0; c < q->ncells; c++)
			start[c + 1] += start[c];
		for (unsigned v = 0; v < q->vcpus; v++)
			ids[start[q->cell_of[v]]++] = (int)v;
		rc = 0;
		for (int c = 0, lo = 0; c < q->ncells && !rc; lo = start[c++]) {
			uint64_t mem = q->auto_mem ? q->auto_mem[c] : (uint64_t)q->cell_mem[c];

			rc = add_cell(q, r, ids + lo, start[c] - lo, mem);
		}
	}
	free(start);
	free(ids);
	return rc;
}

static int realtime_list(struct nq *q, np_request *r)
{
	int *ids = np__calloc(q->vcpus, sizeof(int)), n = 0, rc;

	if (!ids)
		return NP_ENOMEM;
	for (unsigned v = 0; v < q->vcpus; v++)
		if (q->rt.bm[v])
			ids[n++] = (int)v;
	rc = np__request_set_realtime(r, ids, n);
	free(ids);
	return rc;
}

/* TEXT is a list index as Nova writes it ("0", "12", never "01" or "+1"), below 1000. */
static bool list_index(const char *text, int *out)
{
	size_t n = strspn(text, "0123456789");

	if (n == 0 || n > 3 || text[n] || (text[0] == '0' && n > 1))
		return false;
	*out = (int)strtol(text, NULL, 10);
	return true;
}

/*
 * hw:numa_cpus.N and hw:numa_mem.N (image: hw_numa_cpus.N, hw_numa_mem.N)
 * that no guest cell read - N at or beyond the guest's nodes, after a gap,
 * not a plain number, or given while the cells are split evenly - are
 * ignored by Nova too, so the request stands; each gets a warning, since
 * such a key is almost always a typo.
 */
static int warn_ignored(const struct nq *q, np_request *r)
{
	static const struct {
		const char *prefix;
		bool image, cpus;
	} lists[] = {
		{"hw:numa_cpus.", false, true},
		{"hw:numa_mem.", false, false},
		{"hw_numa_cpus.", true, true},
		{"hw_numa_mem.", true, false},
	};
	int rc = 0;

	for (size_t l = 0; l < NP__ARRAY_SIZE(lists) && !rc; l++) {
		const struct np_kv *kv = lists[l].image ? q->im : q->fl;
		size_t n = lists[l].image ? q->nim : q->nfl, plen = strlen(lists[l].prefix);
		bool from = lists[l].cpus ? q->cpus_from_image : q->mem_from_image;

		for (size_t i = 0; i < n && !rc; i++) {
			int idx;

			if (strncmp(kv[i].key, lists[l].prefix, plen) != 0 ||
			    (q->cells_listed && from == lists[l].image &&
			     list_index(kv[i].key + plen, &idx) && idx < q->cells_listed))
				continue;
			if (!q->numa)
				rc = np__request_warn(r, "%.80s is ignored: the guest asks for no "
						      "NUMA topology", kv[i].key);
			else if (!q->cells_listed)
				rc = np__request_warn(r, "%.80s is ignored: the guest has %d NUMA "
						      "node%s and no %s0", kv[i].key, q->ncells,
						      q->ncells == 1 ? "" : "s", lists[l].prefix);
			else
				rc = np__request_warn(r, "%.80s is ignored: the guest has %d NUMA "
						      "nodes, %s0 to %s%d", kv[i].key, q->cells_listed,
						      lists[l].prefix, lists[l].prefix,
						      q->cells_listed - 1);
		}
	}
	return rc;
}

static int build(struct nq *q, np_request **out)
{
	np_request *r = np__request_new(q->vcpus, q->mem);
	int rc = r ? 0 : NP_ENOMEM;

	if (r) {
		r->numa = q->numa;
		r->cpu_policy = q->cpu;
		r->thread_policy = q->thread;
		r->emulator_policy = q->emu;
		r->mem_policy = q->mem_policy;
		r->affinity = q->affinity;
	}
	if (!rc && !q->numa) { /* Nova: no topology; numaplace: one cell of everything */
		q->ncells = 1;
		q->cell_of = np__calloc(q->vcpus, sizeof(*q->cell_of));
		q->auto_mem = np__calloc(1, sizeof(*q->auto_mem));
		rc = q->cell_of && q->auto_mem ? 0 : NP_ENOMEM;
		if (!rc)
			q->auto_mem[0] = q->mem;
	}
	if (!rc)
		rc = add_cells(q, r);
	for (int i = 0; i < q->npci && !rc; i++)
		if (q->pci[i].count > 0)
			rc = np__request_add_pci(r, &q->pci[i]);
	if (!rc && q->rt.set)
		rc = realtime_list(q, r);
	if (!rc)
		rc = warn_ignored(q, r);
	if (rc) {
		np_request_free(r);
		return nomem(q);
	}
	*out = r;
	return 0;
}

static void nq_free(struct nq *q)
{
	/* The lists are filled from 0 and counted as each entry is parsed (failed or not). */
	for (int i = 0; i < q->n_img_cpus; i++)
		np__cpuspec_free(&q->img_cpus[i]);
	for (int i = 0; i < q->n_fl_cpus; i++)
		np__cpuspec_free(&q->fl_cpus[i]);
	free(q->rt.bm);
	free(q->ded.bm);
	free(q->cell_of);
	free(q->scratch);
	free(q->auto_mem);
	free(q->pci);
	free(q);
}

int np_request_from_nova(unsigned vcpus, uint64_t memory_mb, const struct np_kv *extra_specs,
			 size_t nspecs, const struct np_kv *image_props, size_t nprops,
			 const struct np_pci_alias *aliases, size_t naliases, np_request **out,
			 struct np_error *err)
{
	/*
	 * Not calloc, nor a compound literal (which clears all 15 KiB): the
	 * head (368 bytes) is cleared, the lists are written before read.
	 */
	struct nq *q = malloc(sizeof(*q));
	int rc;

	if (!q)
		return np__err(err, NP_ENOMEM, "out of memory");
	memset(q, 0, NQ_HEAD);
	q->vcpus = vcpus;
	q->mem = memory_mb;
	q->fl = extra_specs;
	q->nfl = nspecs;
	q->im = image_props;
	q->nim = nprops;
	q->al = aliases;
	q->nal = naliases;
	q->err = err;
	if (!(rc = check_input(q)) && !(rc = image_props_typed(q)) && !(rc = constraints(q)) &&
	    !(rc = pci_numa_policy(q)) && !(rc = pci_requests(q)) && !(rc = numaplace_rules(q)))
		rc = build(q, out);
	nq_free(q);
	return rc;
}
