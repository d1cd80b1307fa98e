/*
 * json.c - numaplace's own request format, numaplace.request/1
 * (docs/formats/request.md):
 *   {"schema": "numaplace.request/1", "vcpus": 8, "memory_mb": 4096,
 *    "cells": [{"vcpus": [0,1,2,3], "pinned_vcpus": [], "memory_mb": 2048,
 *               "pagesize": "2M", "host_node": null}, ...],
 *    "cpu_policy": "mixed", "thread_policy": null,
 *    "emulator_threads_policy": null, "realtime_vcpus": [],
 *    "mem_policy": "strict", "affinity": "hard",
 *    "pci": [{"alias": "nic", "vendor": "8086", "product": "154d",
 *             "count": 1, "policy": "required"},
 *            {"address": "0000:3b:00.0", "policy": "preferred"}]}
 *
 * Design: jansson parses (duplicate keys refused); every object is checked
 * against its list of known keys, so a typo is an error, not a default.
 * The rules that also exist in Nova keep Nova's reason names (e.g.
 * thread_policy_needs_pinning), the rest are invalid_request_json.  Every
 * message starts with NAME and the JSON path ("cells[1].memory_mb").
 *
 * Without "cells" the guest asks for no NUMA topology, unless it pins CPUs
 * or wants a page size (Nova's rule): either way it gets one cell holding
 * everything.  Ownership: the jansson tree is freed before returning.
 */
#include "request/request-int.h"
#include "util/json-util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jq {
	const char *name;
	struct np_error *err;
	unsigned vcpus;
	uint64_t mem;
	enum np_cpu_policy cpu;
	int *owner; /* vCPU -> cell, -1 */
	unsigned char *pinned;
	long pagesize; /* the top-level default */
};

static int fail(struct jq *q, const char *reason, const char *fmt, ...) NP__PRINTF(3, 4);

static int fail(struct jq *q, const char *reason, const char *fmt, ...)
{
	char msg[360];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return np__err_reason(q->err, NP_EINPUT, reason, "%s: %s (%s)", q->name, msg, reason);
}

static int bad(struct jq *q, const char *path, const char *what)
{
	return fail(q, "invalid_request_json", "%s: expected %s", path, what);
}

/* Every key of OBJ must be one of KEYS (NULL-terminated). */
static int known_keys(struct jq *q, json_t *obj, const char *path, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach (obj, k, v) {
		int i = 0;

		while (keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (!keys[i])
			return fail(q, "invalid_request_json", "%s: unknown key '%.40s'", path, k);
	}
	return 0;
}

/* An optional string among NAMES: -1 when absent or null, else its index. */
static int enum_of(struct jq *q, json_t *obj, const char *key, const char *const *names, int n,
		   int *out)
{
	json_t *v = json_object_get(obj, key);

	*out = -1;
	if (!v || json_is_null(v))
		return 0;
	for (int i = 0; json_is_string(v) && i < n; i++)
		if (strcmp(json_string_value(v), names[i]) == 0)
			*out = i;
	if (*out < 0) {
		char what[128];
		size_t len = 0;

		for (int i = 0; i < n && len < sizeof(what); i++)
			len += (size_t)snprintf(what + len, sizeof(what) - len, "%s%s",
						i ? ", " : "", names[i]);
		return bad(q, key, what);
	}
	return 0;
}

static bool uint_of(json_t *v, uint64_t max, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* vCPU ids: [0, 1, 2] or "0-2"; *IDS freed by the caller. */
static int id_list(struct jq *q, json_t *v, const char *path, int **ids, int *n)
{
	size_t i;
	json_t *e;

	*ids = NULL;
	*n = 0;
	if (json_is_string(v)) {
		int rc = np__parse_cpulist(json_string_value(v), 65535, ids, n);

		if (rc == NP_ENOMEM)
			return np__err(q->err, NP_ENOMEM, "out of memory");
		if (rc == 0)
			return 0;
		return bad(q, path, "a list of vCPU ids such as [0, 1] or \"0-1\"");
	}
	if (!json_is_array(v))
		return bad(q, path, "a list of vCPU ids such as [0, 1] or \"0-1\"");
	if (!(*ids = np__calloc(json_array_size(v) + 1, sizeof(int))))
		return np__err(q->err, NP_ENOMEM, "out of memory");
	json_array_foreach (v, i, e) {
		uint64_t id;

		if (!uint_of(e, 65535, &id))
			return bad(q, path, "vCPU ids 0-65535");
		(*ids)[(*n)++] = (int)id;
	}
	return 0;
}

/* "2M" etc.: the KiB multiplier of the unit at U, or 0. */
static unsigned long long unit_kib(const char *u)
{
	unsigned long long m;

	switch (*u) {
	case '\0':
		return 1;
	case 'k':
	case 'K':
		m = 1;
		break;
	case 'm':
	case 'M':
		m = 1024;
		break;
	case 'g':
	case 'G':
		m = 1024 * 1024;
		break;
	default:
		return 0;
	}
	return !u[1] || strcmp(u + 1, "iB") == 0 || strcmp(u + 1, "B") == 0 ? m : 0;
}

/* null, "small", "large", "any", KiB as a number, or "2M", "1G", "2MiB", "4k". */
static int page_of(struct jq *q, json_t *v, const char *path, long *out)
{
	static const char *const names[] = {"small", "large", "any"};
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	char *end = NULL;
	unsigned long long n = 0, mult = 0;

	*out = NP_PAGESIZE_UNSET;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= (json_int_t)1 << 40) {
		*out = (long)json_integer_value(v);
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = -1 - i; /* NP_PAGESIZE_SMALL, _LARGE, _ANY */
			return 0;
		}
	}
	if (*s >= '0' && *s <= '9')
		n = strtoull(s, &end, 10);
	if (n > 0 && n < 1ULL << 30 && (mult = unit_kib(end))) {
		*out = (long)(n * mult);
		return 0;
	}
	return fail(q, "invalid_page_size",
		    "%s: expected null, small, large, any, KiB or a size "
		    "such as 2M or 1G",
		    path);
}

/* Cell I takes IDS; PINS (a subset) are pinned; dedicated pins all by default. */
static int claim(struct jq *q, int i, const int *ids, int n, const int *pins, int np, bool has_pins)
{
	for (int k = 0; k < n; k++) {
		if ((unsigned)ids[k] >= q->vcpus)
			return fail(q, "numa_cpu_out_of_range",
				    "cells[%d].vcpus: vCPU %d, but the "
				    "guest has vCPUs 0-%u",
				    i, ids[k], q->vcpus - 1);
		if (q->owner[ids[k]] >= 0)
			return fail(q, "numa_cpu_duplicate",
				    "vCPU %d is in cells[%d] and cells[%d]", ids[k],
				    q->owner[ids[k]], i);
		q->owner[ids[k]] = i;
		q->pinned[ids[k]] = !has_pins && q->cpu == NP_CPU_POLICY_DEDICATED;
	}
	for (int k = 0; k < np; k++) {
		if ((unsigned)pins[k] >= q->vcpus || q->owner[pins[k]] != i)
			return fail(q, "invalid_request_json",
				    "cells[%d].pinned_vcpus: vCPU %d is "
				    "not one of the cell's vcpus",
				    i, pins[k]);
		q->pinned[pins[k]] = 1;
	}
	return 0;
}

static int add_cell(struct jq *q, np_request *r, const int *ids, int n, uint64_t mem, long page,
		    int node)
{
	int *fl = np__calloc((size_t)n + 1, sizeof(int)),
	    *pin = np__calloc((size_t)n + 1, sizeof(int));
	int nfl = 0, npin = 0, rc = NP_ENOMEM;

	if (fl && pin) {
		for (int k = 0; k < n; k++) {
			if (q->pinned[ids[k]])
				pin[npin++] = ids[k];
			else
				fl[nfl++] = ids[k];
		}
		rc = np__request_add_cell(r, fl, nfl, pin, npin, mem, page, node);
	}
	free(fl);
	free(pin);
	return rc == NP_ENOMEM ? np__err(q->err, NP_ENOMEM, "out of memory") : rc;
}

/* cells[I]: its vCPUs are claimed in Q->owner, pinned ones marked. */
static int cell(struct jq *q, json_t *c, int i, np_request *r)
{
	static const char *const keys[] = {"vcpus",    "pinned_vcpus", "memory_mb",
					   "pagesize", "host_node",    NULL};
	char path[64], ppath[64];
	int *ids = NULL, *pins = NULL, n = 0, np = 0, rc;
	uint64_t mem = 0, node = 0;
	json_t *pv = json_object_get(c, "pinned_vcpus"), *hn = json_object_get(c, "host_node");
	long page;

	snprintf(path, sizeof(path), "cells[%d]", i);
	snprintf(ppath, sizeof(ppath), "cells[%d].pinned_vcpus", i);
	if (!json_is_object(c))
		return bad(q, path, "an object");
	if ((rc = known_keys(q, c, path, keys)))
		return rc;
	if (!uint_of(json_object_get(c, "memory_mb"), NP_MEMORY_MB_MAX, &mem))
		return fail(q, "invalid_request_json",
			    "%s.memory_mb: expected MiB, 0-" NP_MEMORY_MB_MAX_TEXT, path);
	if (hn && !json_is_null(hn) && !uint_of(hn, 65535, &node))
		return fail(q, "invalid_request_json", "%s.host_node: expected null or a node id",
			    path);
	if ((rc = page_of(q, json_object_get(c, "pagesize"), path, &page)))
		return rc;
	if (!(rc = id_list(q, json_object_get(c, "vcpus"), path, &ids, &n)) && pv)
		rc = id_list(q, pv, ppath, &pins, &np);
	if (!rc)
		rc = claim(q, i, ids, n, pins, np, pv != NULL);
	if (!rc)
		rc = add_cell(q, r, ids, n, mem, page != NP_PAGESIZE_UNSET ? page : q->pagesize,
			      hn && !json_is_null(hn) ? (int)node : -1);
	free(ids);
	free(pins);
	return rc;
}

static int cells(struct jq *q, json_t *list, np_request *r)
{
	uint64_t sum = 0;
	size_t i;
	json_t *c;
	int rc = 0;

	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 1024)
		return bad(q, "cells", "a list of 1-1024 cells");
	json_array_foreach (list, i, c) {
		if ((rc = cell(q, c, (int)i, r)))
			return rc;
		sum += np_request_cell(r, (int)i)->memory_mb;
	}
	for (unsigned v = 0; v < q->vcpus; v++)
		if (q->owner[v] < 0)
			return fail(q, "numa_cpu_unassigned", "vCPU %u is in no cell", v);
	if (sum != q->mem)
		return fail(q, "numa_memory_mismatch",
			    "the cells hold %llu MiB, not memory_mb=%llu", (unsigned long long)sum,
			    (unsigned long long)q->mem);
	return 0;
}

/* No "cells": one cell of everything (dedicated pins it all). */
static int one_cell(struct jq *q, np_request *r)
{
	int *ids = np__calloc(q->vcpus, sizeof(int)), rc;

	if (!ids)
		return np__err(q->err, NP_ENOMEM, "out of memory");
	for (unsigned v = 0; v < q->vcpus; v++)
		ids[v] = (int)v;
	rc = claim(q, 0, ids, (int)q->vcpus, NULL, 0, false);
	if (!rc)
		rc = add_cell(q, r, ids, (int)q->vcpus, q->mem, q->pagesize, -1);
	free(ids);
	return rc;
}

/* The CPU policy against what the cells pin, with Nova's rule names. */
static int policies(struct jq *q, const np_request *r)
{
	int npinned = 0;
	const char *pol = np_cpu_policy_name(q->cpu);

	for (unsigned v = 0; v < q->vcpus; v++)
		npinned += q->pinned[v];
	if (npinned && q->cpu != NP_CPU_POLICY_DEDICATED && q->cpu != NP_CPU_POLICY_MIXED)
		return fail(q, "dedicated_mask_needs_mixed",
			    "pinned_vcpus need cpu_policy "
			    "dedicated or mixed, not %s",
			    pol);
	if (q->cpu == NP_CPU_POLICY_DEDICATED && npinned != (int)q->vcpus)
		return fail(q, "invalid_request_json",
			    "cpu_policy dedicated pins every vCPU, but "
			    "pinned_vcpus leave %d floating",
			    (int)q->vcpus - npinned);
	if (q->cpu == NP_CPU_POLICY_MIXED && (npinned == 0 || npinned == (int)q->vcpus))
		return fail(q, "invalid_dedicated_mask",
			    "cpu_policy mixed needs some but not all "
			    "vCPUs in pinned_vcpus, not %d of %u",
			    npinned, q->vcpus);
	if (npinned)
		return 0;
	if (r->thread_policy != NP_THREAD_POLICY_NONE)
		return fail(q, "thread_policy_needs_pinning",
			    "thread_policy %s needs cpu_policy "
			    "dedicated or mixed, not %s",
			    np_thread_policy_name(r->thread_policy), pol);
	if (r->emulator_policy == NP_EMULATOR_POLICY_ISOLATE)
		return fail(q, "emulator_isolate_needs_pinning",
			    "emulator_threads_policy isolate "
			    "needs cpu_policy dedicated or mixed, not %s",
			    pol);
	return 0;
}

static int realtime(struct jq *q, json_t *v, np_request *r)
{
	int *ids = NULL, n = 0, rc;

	if (!v || json_is_null(v))
		return 0;
	if ((rc = id_list(q, v, "realtime_vcpus", &ids, &n)))
		goto out;
	if (n && q->cpu != NP_CPU_POLICY_DEDICATED && q->cpu != NP_CPU_POLICY_MIXED)
		rc = fail(q, "realtime_needs_pinning",
			  "realtime_vcpus need cpu_policy dedicated or "
			  "mixed, not %s",
			  np_cpu_policy_name(q->cpu));
	for (int k = 0; k < n && !rc; k++)
		if ((unsigned)ids[k] >= q->vcpus || !q->pinned[ids[k]])
			rc = fail(q, "invalid_realtime_mask",
				  "realtime_vcpus: vCPU %d is not a "
				  "pinned vCPU of the guest",
				  ids[k]);
	if (!rc && n == (int)q->vcpus && r->emulator_policy == NP_EMULATOR_POLICY_NONE)
		rc = fail(q, "invalid_realtime_mask",
			  "realtime_vcpus makes every vCPU realtime, "
			  "which needs an emulator_threads_policy");
	if (!rc && n && np__request_set_realtime(r, ids, n))
		rc = np__err(q->err, NP_ENOMEM, "out of memory");
out:
	free(ids);
	return rc;
}

/* A PCI id: "8086", "0x8086" or 32902. */
static bool pci_id(json_t *v, unsigned *out)
{
	const char *s = json_string_value(v);
	unsigned long n;

	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 0xffff) {
		*out = (unsigned)json_integer_value(v);
		return true;
	}
	if (!s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (strlen(s) != 4 || strspn(s, "0123456789abcdefABCDEF") != 4)
		return false;
	n = strtoul(s, NULL, 16);
	*out = (unsigned)n;
	return true;
}

/* "address": one device of the host, in place of vendor, product and count. */
static int pci_address(struct jq *q, json_t *e, const char *path, struct np_pci_request *p)
{
	json_t *addr = json_object_get(e, "address");
	const char *s = json_string_value(addr);

	if (!s || !np__pci_address_normalise(s, p->address))
		return fail(q, "invalid_request_json",
			    "%s.address: expected a PCI address such as \"0000:3b:00.0\"", path);
	if (json_object_get(e, "vendor") || json_object_get(e, "product") ||
	    json_object_get(e, "count"))
		return fail(q, "invalid_request_json",
			    "%s: a device by address has no vendor, product or count", path);
	return 0;
}

static int pci_one(struct jq *q, json_t *e, int i, np_request *r)
{
	static const char *const keys[] = {"alias", "vendor", "product", "count", "policy",
					   "address", NULL};
	struct np_pci_request p = {.count = 1};
	char path[32];
	uint64_t count = 1;
	int pol, rc;
	json_t *a = json_object_get(e, "alias"), *c = json_object_get(e, "count");

	snprintf(path, sizeof(path), "pci[%d]", i);
	if (!json_is_object(e))
		return bad(q, path, "an object");
	if ((rc = known_keys(q, e, path, keys)) || (rc = enum_of(q, e, "policy", np__pci_policy_names, 4, &pol)))
		return rc;
	if (a && !json_is_string(a))
		return fail(q, "invalid_request_json", "%s.alias: expected a name", path);
	if (json_object_get(e, "address")) {
		if ((rc = pci_address(q, e, path, &p)))
			return rc;
	} else if (!pci_id(json_object_get(e, "vendor"), &p.vendor) ||
		   !pci_id(json_object_get(e, "product"), &p.product)) {
		return fail(q, "invalid_request_json",
			    "%s: expected vendor and product as 4 hex "
			    "digits such as \"8086\", or an address",
			    path);
	}
	if ((c && !uint_of(c, NP_PCI_COUNT_MAX, &count)) || count == 0)
		return fail(q, "invalid_pci_count", "%s.count: expected 1-%d devices", path,
			    NP_PCI_COUNT_MAX);
	snprintf(p.alias, sizeof(p.alias), "%s", a ? json_string_value(a) : "");
	p.count = (int)count;
	p.policy = pol < 0 ? NP_PCI_POLICY_LEGACY : (enum np_pci_policy)pol;
	return np__request_add_pci(r, &p) ? np__err(q->err, NP_ENOMEM, "out of memory") : 0;
}

static int pci(struct jq *q, json_t *list, np_request *r)
{
	size_t i;
	json_t *e;
	int rc;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return bad(q, "pci", "a list");
	json_array_foreach (list, i, e)
		if ((rc = pci_one(q, e, (int)i, r)))
			return rc;
	return 0;
}

/* schema, vcpus, memory_mb and the policies of the top object. */
static int head(struct jq *q, json_t *root, np_request **rp)
{
	static const char *const keys[] = {"schema",
					   "vcpus",
					   "memory_mb",
					   "cells",
					   "cpu_policy",
					   "thread_policy",
					   "emulator_threads_policy",
					   "mem_policy",
					   "affinity",
					   "realtime_vcpus",
					   "pagesize",
					   "pci",
					   NULL};
	json_t *schema = json_object_get(root, "schema");
	int c, t, e, m, a, rc;
	uint64_t v = 0;

	if (!json_is_object(root))
		return bad(q, "the request", "a JSON object");
	if (!json_is_string(schema) || strcmp(json_string_value(schema), "numaplace.request/1"))
		return bad(q, "schema", "\"numaplace.request/1\"");
	if ((rc = known_keys(q, root, "the request", keys)))
		return rc;
	if (!uint_of(json_object_get(root, "vcpus"), NP_VCPUS_MAX, &v) || v == 0)
		return bad(q, "vcpus", "a number of vCPUs, 1-" NP__STR(NP_VCPUS_MAX));
	q->vcpus = (unsigned)v;
	if (!uint_of(json_object_get(root, "memory_mb"), NP_MEMORY_MB_MAX, &q->mem) || !q->mem)
		return bad(q, "memory_mb", "a size in MiB, 1-" NP_MEMORY_MB_MAX_TEXT);
	/* (The policies' tables start with "none", which no request spells.) */
	if ((rc = enum_of(q, root, "cpu_policy", np__cpu_policy_names + 1, 3, &c)) ||
	    (rc = enum_of(q, root, "thread_policy", np__thread_policy_names + 1, 3, &t)) ||
	    (rc = enum_of(q, root, "emulator_threads_policy", np__emulator_policy_names + 1, 2,
			  &e)) ||
	    (rc = enum_of(q, root, "mem_policy", np__mem_policy_names, 3, &m)) ||
	    (rc = enum_of(q, root, "affinity", np__affinity_names, 2, &a)) ||
	    (rc = page_of(q, json_object_get(root, "pagesize"), "pagesize", &q->pagesize)))
		return rc;
	q->cpu = (enum np_cpu_policy)(c + 1);
	if (!(*rp = np__request_new(q->vcpus, q->mem)))
		return np__err(q->err, NP_ENOMEM, "out of memory");
	(*rp)->cpu_policy = q->cpu;
	(*rp)->thread_policy = (enum np_thread_policy)(t + 1);
	(*rp)->emulator_policy = (enum np_emulator_policy)(e + 1);
	(*rp)->mem_policy = m < 0 ? NP_MEM_POLICY_STRICT : (enum np_mem_policy)m;
	(*rp)->affinity = a < 0 ? NP_AFFINITY_HARD : (enum np_affinity)a;
	return 0;
}

static int request(struct jq *q, json_t *root, np_request **out)
{
	np_request *r = NULL;
	json_t *list;
	int rc = head(q, root, &r);

	if (!rc && !(q->owner = np__calloc(q->vcpus, sizeof(int))))
		rc = np__err(q->err, NP_ENOMEM, "out of memory");
	if (!rc && !(q->pinned = np__calloc(q->vcpus, 1)))
		rc = np__err(q->err, NP_ENOMEM, "out of memory");
	for (unsigned v = 0; !rc && v < q->vcpus; v++)
		q->owner[v] = -1;
	list = json_object_get(root, "cells");
	if (!rc)
		rc = list ? cells(q, list, r) : one_cell(q, r);
	if (!rc && !(rc = policies(q, r)) &&
	    !(rc = realtime(q, json_object_get(root, "realtime_vcpus"), r)))
		rc = pci(q, json_object_get(root, "pci"), r);
	if (rc) {
		np_request_free(r);
		return rc;
	}
	r->numa = list || q->cpu == NP_CPU_POLICY_DEDICATED || q->cpu == NP_CPU_POLICY_MIXED ||
		  q->pagesize != NP_PAGESIZE_UNSET;
	*out = r;
	return 0;
}

int np_request_from_json(const char *buf, size_t len, const char *name, np_request **out,
			 struct np_error *err)
{
	struct jq q = {.name = name ? name : "request", .err = err};
	json_error_t je;
	json_t *root;
	int rc;

	if (!buf)
		return fail(&q, "invalid_request_json", "no text");
	if (!(root = np__json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) &&
	    np__json_out_of_memory(&je))
		return np__err(err, NP_ENOMEM, "out of memory");
	if (!root)
		return fail(&q, "invalid_request_json", "line %d column %d: %s", je.line, je.column,
			    je.text);
	rc = request(&q, root, out);
	json_decref(root);
	free(q.owner);
	free(q.pinned);
	return rc;
}
