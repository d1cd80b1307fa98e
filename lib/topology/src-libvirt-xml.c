/*
 * src-libvirt-xml.c - libvirt's XML: the capabilities document (`virsh
 * capabilities`, source kind libvirt-xml) and node device descriptions
 * (`virsh nodedev-dumpxml`, read by the live source).  Module xml
 * (module/mod-xml.c): libxml2 only, so that a saved document never loads
 * libvirt; the live source reaches these readers through its table.
 *
 * Design: libxml2 parses the whole document quietly (no network, nothing
 * printed; its error comes back through the parser context as "line N:
 * ..."), then a walk over /capabilities/host/topology/cells/cell reads what
 * numaplace needs and ignores the rest (guests, caches, interconnects,
 * die_id, cluster_id).  A first pass collects the cell ids so that a
 * distance to a cell that does not exist is reported with its cell.  CPUs
 * are fed only once every cell is read, so that their SMT cores can be
 * settled from `siblings` across the document.
 *
 * What libvirt's numbers mean:
 *  - <memory> is the node's MemTotal.  libvirt leaves it out for a node
 *    without memory, so a missing <memory> is 0.  Its unit is one of
 *    libvirt's scaled-integer units (b, KiB, MB, GiB, ...), KiB by default.
 *  - <pages> counts are pool TOTALS (nr_hugepages), not free pages: free is
 *    unknown here, so the pools go out marked unknown (free == total) and the live
 *    source refines them.  libvirt lists the system page size first in
 *    every cell (virNumaGetPages puts it there; the test driver does the
 *    same, with 8 KiB pages on its cell 1): that entry counts ordinary
 *    memory, not a huge page pool, and is skipped.
 *  - every listed CPU is online: libvirt lists a node's cpulist, which the
 *    kernel keeps to online CPUs.  socket_id and core_id are missing when
 *    libvirt could not read them, and -1 on some arm64 firmware: unknown.
 *  - `siblings` is the kernel's thread_siblings_list: the CPUs that share a
 *    core, the set the scheduler and Nova (whose libvirt driver reads only
 *    this attribute) take as SMT threads.  core_id is the kernel's core_id,
 *    which on some hosts is unique per thread while siblings pair them
 *    (AMD family 15h compute units; documents in tests/data/libvirt/).  So
 *    siblings decide: when the groups they make and the (cell, socket,
 *    core_id) groups differ anywhere, every CPU's core becomes the lowest
 *    CPU id of its sibling group and its socket that CPU's socket; when
 *    they agree, core_id is kept as given.  Siblings in another cell or
 *    not in the document are ignored, as Nova ignores them; a CPU named by
 *    another's list is its sibling even if its own list forgets it.
 *  - a cell without <distances> gives none.  If no cell has any, the
 *    builder uses the 10/20 default; if only some have, the builder reports
 *    the first missing pair.
 *
 * Ownership: the xmlDoc lives only inside one call; nothing here keeps
 * state between calls, so it is as thread-safe as libxml2 itself.
 */
#include "src-libvirt.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util/util.h"

/* The builder refuses more nodes; stopping here bounds the work per cell. */
#define LV_MAX_CELLS NP_NODES_MAX

/* One <cpu>, kept until every cell is read (see `siblings` at the top). */
struct lv_cpu {
	int id, cell, socket, core;
	int up;		  /* union-find parent (index into caps.cpus); roots have the lowest id */
	size_t sib, nsib; /* its siblings list: caps.sibs[sib .. sib + nsib) */
};

/* One capabilities document being read. */
struct caps {
	np__tb *b;
	struct np__lv_cells *cells;
	int *sorted;	     /* cell ids, sorted, to look siblings up */
	unsigned char *seen; /* per sorted cell: this cell already has a distance to it */
	struct lv_cpu *cpus; /* every <cpu>, in document order */
	size_t ncpus, capcpus;
	int *sibs; /* storage of the siblings lists */
	size_t nsibs, capsibs;
	bool any_siblings; /* some <cpu> has a siblings attribute */
	bool any_distances; /* some <cell> has <distances> */
};

/* Fail B with bad input; false, for `return bad(...)` in a bool function. */
static bool bad(np__tb *b, const char *fmt, ...) NP__PRINTF(2, 3);

static bool bad(np__tb *b, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	np__tb_fail(b, NP_EINPUT, "%s", msg);
	return false;
}

static bool nomem(np__tb *b)
{
	np__tb_fail(b, NP_ENOMEM, "out of memory");
	return false;
}

/* The builder's sticky code (np__tb_fail keeps the first error), or 0. */
static int status(np__tb *b)
{
	return np__tb_failed(b) ? np__tb_fail(b, NP_EINPUT, "unknown error") : 0;
}

/* S cut to 32 bytes, all but printable ASCII made "?", for a one-line message. */
static const char *quote(const char *s, char buf[40])
{
	size_t i;

	for (i = 0; s[i] && i < 32; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	buf[i] = '\0';
	if (s[i])
		memcpy(buf + 32, "...", 4);
	return buf;
}

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The next element child of PARENT named NAME after AFTER (NULL: the first). */
static xmlNode *next_child(const xmlNode *parent, const xmlNode *after, const char *name)
{
	xmlNode *n = after ? after->next : parent->children;

	for (; n; n = n->next)
		if (named(n, name))
			return n;
	return NULL;
}

/*
 * Attribute NAME of N into *OUT (xmlFree it): 1, or 0 when N has none, or
 * -1 after failing B when copying it failed (libxml2 gives NULL for both).
 */
static int prop(np__tb *b, xmlNode *n, const char *name, xmlChar **out)
{
	*out = xmlGetNoNsProp(n, (const xmlChar *)name);
	if (*out)
		return 1;
	return xmlHasNsProp(n, (const xmlChar *)name, NULL) ? (nomem(b), -1) : 0;
}

/* The text of element N (xmlFree it), or NULL after failing B: out of memory. */
static xmlChar *content(np__tb *b, xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);

	if (!t)
		nomem(b);
	return t;
}

/*
 * Attribute NAME of N as an integer in [MIN, MAX]: 1 when read, 0 when
 * absent (*OUT untouched), -1 after failing B; WHERE starts the message.
 */
static int attr_long(np__tb *b, const char *where, xmlNode *n, const char *name, long min, long max,
		     long *out)
{
	xmlChar *v;
	char q[40];
	long x;
	int rc = prop(b, n, name, &v);

	if (rc <= 0)
		return rc;
	rc = -1;
	if (!np__parse_int((const char *)v, LONG_MIN, LONG_MAX, &x))
		np__tb_fail(b, NP_EINPUT, "%s: %s '%s' is not a number", where, name,
			    quote((const char *)v, q));
	else if (x < min || x > max)
		np__tb_fail(b, NP_EINPUT, "%s: %s %ld is out of range (%ld..%ld)", where, name, x,
			    min, max);
	else
		rc = 1;
	if (rc == 1)
		*out = x;
	xmlFree(v);
	return rc;
}

/* Like attr_long, but a missing attribute is an error too. */
static bool need_attr(np__tb *b, const char *where, xmlNode *n, const char *name, long min,
		      long max, long *out)
{
	int rc = attr_long(b, where, n, name, min, max, out);

	if (rc == 0)
		np__tb_fail(b, NP_EINPUT, "%s: no %s attribute", where, name);
	return rc == 1;
}

/* The text of element N as an unsigned 64-bit number. */
static bool text_u64(np__tb *b, const char *where, const char *what, xmlNode *n, uint64_t *out)
{
	xmlChar *t = content(b, n);
	const char *s = t ? (const char *)t : "";
	char q[40];
	bool ok;

	if (!t)
		return false;
	s += strspn(s, " \t\r\n");
	ok = np__parse_u64(s, out);
	if (!ok)
		np__tb_fail(b, NP_EINPUT, "%s: %s '%s' is not a number below 2^64", where, what,
			    quote(s, q));
	xmlFree(t);
	return ok;
}

/* VALUE in the unit attribute of N (KiB when absent) as KiB, rounded down. */
static bool to_kib(np__tb *b, const char *where, const char *what, xmlNode *n, uint64_t value,
		   uint64_t *kib)
{
	xmlChar *unit;
	int has = prop(b, n, "unit", &unit);
	const char *u = unit ? (const char *)unit : "KiB";
	uint64_t per, mul;
	bool ok = false;
	char q[40];

	if (has < 0)
		return false;
	if (!np__unit_bytes(u, &per)) {
		bad(b, "%s: %s: unknown unit '%s'", where, what, quote(u, q));
		goto out;
	}
	/* Whole KiB units multiply exactly; the others go through bytes. */
	mul = per % 1024 == 0 ? per / 1024 : per;
	if (value > UINT64_MAX / mul) {
		bad(b, "%s: %s %llu %s is too large", where, what, (unsigned long long)value,
		    quote(u, q));
		goto out;
	}
	*kib = per % 1024 == 0 ? value * mul : value * mul / 1024;
	ok = true;
out:
	xmlFree(unit);
	return ok;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Index of cell ID among the sorted ids, or -1. */
static int cell_index(const struct caps *c, int id)
{
	int *p = bsearch(&id, c->sorted, c->cells->nids, sizeof(int), cmp_int);

	return p ? (int)(p - c->sorted) : -1;
}

/* Parse BUF quietly; NULL after failing B with libxml2's first complaint. */
static xmlDoc *read_doc(np__tb *b, const char *buf, size_t len)
{
	struct np_error err = {0};
	xmlDoc *doc = np__xml_parse(buf, len, &err);

	if (!doc)
		np__tb_fail(b, err.code, "%s", err.message);
	return doc;
}

/* The <cells> element of a capabilities document, or NULL after failing B. */
static xmlNode *find_cells(np__tb *b, xmlDoc *doc)
{
	xmlNode *root = xmlDocGetRootElement(doc), *n;

	if (!root || !named(root, "capabilities")) {
		np__tb_fail(b, NP_EINPUT, "root element is <%.40s>, not <capabilities>",
			    root ? (const char *)root->name : "");
		return NULL;
	}
	if (!(n = next_child(root, NULL, "host")))
		np__tb_fail(b, NP_EINPUT, "no <host> in <capabilities>");
	else if (!(n = next_child(n, NULL, "topology")))
		np__tb_fail(b, NP_EINPUT, "no <topology> in <host>: libvirt gave no NUMA cells");
	else if (!(n = next_child(n, NULL, "cells")))
		np__tb_fail(b, NP_EINPUT, "no <cells> in <host><topology>");
	return n;
}

/* First pass: every cell's id, in CELLS and sorted; false after failing B. */
static bool collect_ids(struct caps *c, xmlNode *list)
{
	struct np__lv_cells *cells = c->cells;
	long id;

	for (xmlNode *cell = next_child(list, NULL, "cell"); cell;
	     cell = next_child(list, cell, "cell")) {
		if (cells->nids >= LV_MAX_CELLS)
			return bad(c->b, "more than %d cells", LV_MAX_CELLS);
		if (!need_attr(c->b, "cell", cell, "id", 0, INT_MAX, &id))
			return false;
		if (np__grow((void **)&cells->ids, &cells->capids, cells->nids + 1, sizeof(int)) <
		    0)
			return nomem(c->b);
		cells->ids[cells->nids++] = (int)id;
	}
	if (cells->nids == 0)
		return bad(c->b, "<cells> lists no cell");
	c->sorted = np__calloc(cells->nids, sizeof(int));
	c->seen = np__calloc(cells->nids, 1);
	if (!c->sorted || !c->seen)
		return nomem(c->b);
	memcpy(c->sorted, cells->ids, cells->nids * sizeof(int));
	qsort(c->sorted, cells->nids, sizeof(int), cmp_int);
	for (size_t i = 1; i < cells->nids; i++)
		if (c->sorted[i] == c->sorted[i - 1])
			return bad(c->b, "cell %d is listed twice", c->sorted[i]);
	return true;
}

static bool cell_memory(np__tb *b, const char *where, xmlNode *cell, int id)
{
	xmlNode *m = next_child(cell, NULL, "memory");
	uint64_t v, kib = 0;

	if (m && (!text_u64(b, where, "memory", m, &v) || !to_kib(b, where, "memory", m, v, &kib)))
		return false;
	np__tb_node(b, id, kib);
	return !np__tb_failed(b);
}

static bool cell_pages(struct caps *c, const char *where, xmlNode *cell, int id)
{
	struct np__lv_cells *cells = c->cells;
	bool system = true;

	for (xmlNode *p = next_child(cell, NULL, "pages"); p; p = next_child(cell, p, "pages")) {
		char w[96];
		long size;
		uint64_t kib, count;

		snprintf(w, sizeof(w), "%s: pages", where);
		if (!need_attr(c->b, w, p, "size", 1, LONG_MAX, &size) ||
		    !to_kib(c->b, w, "size", p, (uint64_t)size, &kib))
			return false;
		if (kib == 0)
			return bad(c->b, "%s: size %ld is below 1 KiB", w, size);
		snprintf(w, sizeof(w), "%s: pages of %llu KiB", where, (unsigned long long)kib);
		if (!text_u64(c->b, w, "count", p, &count))
			return false;
		if (system) { /* the first entry is ordinary memory, see the top */
			system = false;
			continue;
		}
		if (np__grow((void **)&cells->pools, &cells->cappools, cells->npools + 1,
			     sizeof(*cells->pools)) < 0)
			return nomem(c->b);
		cells->pools[cells->npools++] = (struct np__lv_pool){id, kib, count, NP__TB_FREE_UNKNOWN};
	}
	return true;
}

static bool cell_distances(struct caps *c, const char *where, xmlNode *cell, int id)
{
	xmlNode *d = next_child(cell, NULL, "distances");
	char w[96];
	long sib, value;
	int k;

	if (!d)
		return true;
	c->any_distances = true;
	memset(c->seen, 0, c->cells->nids);
	for (xmlNode *s = next_child(d, NULL, "sibling"); s; s = next_child(d, s, "sibling")) {
		snprintf(w, sizeof(w), "%s: distances: sibling", where);
		if (!need_attr(c->b, w, s, "id", 0, INT_MAX, &sib))
			return false;
		snprintf(w, sizeof(w), "%s: distances: sibling %ld", where, sib);
		if ((k = cell_index(c, (int)sib)) < 0)
			return bad(c->b, "%s: no such cell", w);
		if (c->seen[k])
			return bad(c->b, "%s is listed twice", w);
		if (!need_attr(c->b, w, s, "value", 0, INT_MAX, &value))
			return false;
		c->seen[k] = 1;
		np__tb_distance(c->b, id, (int)sib, (uint32_t)value);
	}
	return !np__tb_failed(c->b);
}

/*
 * How many ids the cpulist TEXT names, counting ranges without storing
 * them, so that "0-4194304" cannot make every <cpu> allocate megabytes;
 * malformed text counts as 0 and is reported by np__parse_cpulist().
 */
static unsigned long cpulist_size(const char *text)
{
	unsigned long total = 0;
	const char *p = text;

	while (*p) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p)
			return total;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p || hi < lo)
				return total;
		}
		total += hi - lo + 1;
		p = *end == ',' ? end + 1 : end + strlen(end);
	}
	return total;
}

/* No core has more threads than this (POWER has 8): a longer list is not one. */
#define LV_SIBLINGS_MAX 64

/* The siblings attribute of CPU into C->sibs and OUT; false after failing B. */
static bool cpu_siblings(struct caps *c, const char *where, xmlNode *cpu, struct lv_cpu *out)
{
	xmlChar *v;
	int *ids = NULL, n = 0, rc = prop(c->b, cpu, "siblings", &v);
	bool ok = true;
	char q[40];

	if (rc <= 0)
		return rc == 0;
	c->any_siblings = true;
	if (cpulist_size((const char *)v) > LV_SIBLINGS_MAX)
		ok = bad(c->b, "%s: siblings '%s' names more than %d CPUs", where,
			 quote((const char *)v, q), LV_SIBLINGS_MAX);
	else if ((rc = np__parse_cpulist((const char *)v, NP__TOPO_ID_MAX, &ids, &n)) == NP_ENOMEM)
		ok = nomem(c->b);
	else if (rc)
		ok = bad(c->b, "%s: siblings '%s' is not a CPU list", where,
			 quote((const char *)v, q));
	else if (n > 0 && np__grow((void **)&c->sibs, &c->capsibs, c->nsibs + (size_t)n,
				   sizeof(int)) < 0)
		ok = nomem(c->b);
	else if (n > 0) {
		memcpy(c->sibs + c->nsibs, ids, (size_t)n * sizeof(int));
		out->sib = c->nsibs;
		out->nsib = (size_t)n;
		c->nsibs += (size_t)n;
	}
	free(ids);
	xmlFree(v);
	return ok;
}

/* Read the <cpu>s of cell ID into C->cpus; they are fed by settle_cpus(). */
static bool cell_cpus(struct caps *c, const char *where, xmlNode *cell, int id)
{
	xmlNode *cpus = next_child(cell, NULL, "cpus");
	char w[96];

	if (!cpus) /* a node without CPUs */
		return true;
	for (xmlNode *cpu = next_child(cpus, NULL, "cpu"); cpu;
	     cpu = next_child(cpus, cpu, "cpu")) {
		long cid, socket = -1, core = -1;
		struct lv_cpu one = {0};

		snprintf(w, sizeof(w), "%s: cpu", where);
		if (!need_attr(c->b, w, cpu, "id", 0, INT_MAX, &cid))
			return false;
		snprintf(w, sizeof(w), "%s: cpu %ld", where, cid);
		if (attr_long(c->b, w, cpu, "socket_id", -1, INT_MAX, &socket) < 0 ||
		    attr_long(c->b, w, cpu, "core_id", -1, INT_MAX, &core) < 0 ||
		    !cpu_siblings(c, w, cpu, &one))
			return false;
		if (np__grow((void **)&c->cpus, &c->capcpus, c->ncpus + 1, sizeof(*c->cpus)) < 0)
			return nomem(c->b);
		one.id = (int)cid;
		one.cell = id;
		one.socket = (int)socket;
		one.core = (int)core;
		one.up = (int)c->ncpus;
		c->cpus[c->ncpus++] = one;
	}
	return true;
}

static int root(struct lv_cpu *cpus, int i)
{
	while (cpus[i].up != i) {
		cpus[i].up = cpus[cpus[i].up].up; /* path halving */
		i = cpus[i].up;
	}
	return i;
}

/* One sibling group of A and B, rooted at the lower CPU id. */
static void unite(struct lv_cpu *cpus, int a, int b)
{
	a = root(cpus, a);
	b = root(cpus, b);
	if (a == b)
		return;
	if (cpus[a].id < cpus[b].id)
		cpus[b].up = a;
	else
		cpus[a].up = b;
}

/* A sort key: CPU id (with ID_ORDER) or (cell, socket, core), and the index. */
struct lv_key {
	int k[3], idx;
};

static int cmp_key(const void *a, const void *b)
{
	const struct lv_key *x = a, *y = b;

	for (int i = 0; i < 3; i++)
		if (x->k[i] != y->k[i])
			return (x->k[i] > y->k[i]) - (x->k[i] < y->k[i]);
	return 0;
}

/*
 * Join every CPU with the siblings its list names in the same cell.  KEYS
 * (ncpus of them) is scratch space.  False when a CPU id is listed twice:
 * then the builder reports it and groups do not matter.
 */
static bool group_siblings(struct caps *c, struct lv_key *keys)
{
	size_t n = c->ncpus;

	for (size_t i = 0; i < n; i++)
		keys[i] = (struct lv_key){{c->cpus[i].id, 0, 0}, (int)i};
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (size_t i = 1; i < n; i++)
		if (keys[i].k[0] == keys[i - 1].k[0])
			return false;
	for (size_t i = 0; i < n; i++) {
		const struct lv_cpu *a = &c->cpus[i];

		for (size_t s = 0; s < a->nsib; s++) {
			struct lv_key want = {{c->sibs[a->sib + s], 0, 0}, 0};
			const struct lv_key *k = bsearch(&want, keys, n, sizeof(*keys), cmp_key);

			if (k && c->cpus[k->idx].cell == a->cell)
				unite(c->cpus, (int)i, k->idx);
		}
	}
	return true;
}

/*
 * True when the sibling groups are exactly the (cell, socket, core_id)
 * groups: every run of CPUs with one known core has one root and is the
 * whole of its group, and a CPU of unknown core is alone.
 */
static bool groups_agree(struct caps *c, struct lv_key *keys, int *size)
{
	size_t n = c->ncpus, m = 0;

	for (size_t i = 0; i < n; i++) {
		const struct lv_cpu *a = &c->cpus[i];

		size[root(c->cpus, (int)i)]++;
		if (a->core >= 0)
			keys[m++] = (struct lv_key){{a->cell, a->socket, a->core}, (int)i};
	}
	for (size_t i = 0; i < n; i++)
		if (c->cpus[i].core < 0 && size[root(c->cpus, (int)i)] != 1)
			return false;
	qsort(keys, m, sizeof(*keys), cmp_key);
	for (size_t i = 0, j; i < m; i = j) {
		int r = root(c->cpus, keys[i].idx);

		for (j = i + 1; j < m && cmp_key(&keys[i], &keys[j]) == 0; j++)
			if (root(c->cpus, keys[j].idx) != r)
				return false;
		if ((size_t)size[r] != j - i)
			return false;
	}
	return true;
}

/* Feed every CPU, its core and socket settled by `siblings` (see the top). */
static bool settle_cpus(struct caps *c)
{
	struct lv_key *keys = np__calloc(c->ncpus + 1, sizeof(*keys));
	int *size = np__calloc(c->ncpus + 1, sizeof(*size));
	bool follow = false;

	if (!keys || !size) {
		free(keys);
		free(size);
		return nomem(c->b);
	}
	if (c->any_siblings && group_siblings(c, keys))
		follow = !groups_agree(c, keys, size);
	for (size_t i = 0; i < c->ncpus; i++) {
		const struct lv_cpu *a = &c->cpus[i], *r = &c->cpus[root(c->cpus, (int)i)];

		np__tb_cpu(c->b, a->id, a->cell, follow ? r->id : a->core,
			   follow ? r->socket : a->socket, true);
	}
	free(keys);
	free(size);
	return !np__tb_failed(c->b);
}

int np__libvirt_caps_read(np__tb *b, const char *buf, size_t len, struct np__lv_cells *cells)
{
	struct caps c = {.b = b, .cells = cells};
	xmlDoc *doc = read_doc(b, buf, len);
	xmlNode *list = doc ? find_cells(b, doc) : NULL;
	size_t i = 0;

	if (!list || !collect_ids(&c, list))
		goto out;
	for (xmlNode *cell = next_child(list, NULL, "cell"); cell;
	     cell = next_child(list, cell, "cell")) {
		int id = cells->ids[i++];
		char where[32];

		snprintf(where, sizeof(where), "cell %d", id);
		if (!cell_memory(b, where, cell, id) || !cell_pages(&c, where, cell, id) ||
		    !cell_distances(&c, where, cell, id) || !cell_cpus(&c, where, cell, id))
			goto out;
	}
	settle_cpus(&c);
	if (!c.any_distances)
		np__tb_distances_note(b, "libvirt gives no <distances>");
out:
	free(c.sorted);
	free(c.seen);
	free(c.cpus);
	free(c.sibs);
	xmlFreeDoc(doc);
	return status(b);
}

void np__libvirt_pools_feed(np__tb *b, const struct np__lv_cells *cells)
{
	for (size_t i = 0; i < cells->npools; i++) {
		const struct np__lv_pool *p = &cells->pools[i];

		np__tb_hugepages(b, p->node, p->size_kb, p->total, p->free);
	}
}

void np__libvirt_cells_free(struct np__lv_cells *cells)
{
	free(cells->ids);
	free(cells->pools);
	*cells = (struct np__lv_cells){0};
}

/* A whole number in decimal or 0x-hexadecimal, blanks around allowed. */
static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	int base = 10;
	unsigned long v;
	char *end;

	s += strspn(s, " \t\r\n");
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	/* No sign, and no second "0x" that strtoul would take. */
	if (!isxdigit((unsigned char)s[0]) || (base == 16 && (s[1] == 'x' || s[1] == 'X')))
		return false;
	errno = 0;
	v = strtoul(s, &end, base);
	end += strspn(end, " \t\r\n");
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/*
 * The number in element NAME under PARENT (ATTR NULL: its text; else that
 * attribute).  A missing element leaves *OUT alone unless REQUIRED.
 */
static bool dev_number(np__tb *b, const char *where, xmlNode *parent, const char *name,
		       const char *attr, unsigned long max, bool required, unsigned long *out)
{
	xmlNode *n = next_child(parent, NULL, name);
	xmlChar *v = NULL;
	char q[40];
	bool ok = false;

	if (!n && !required)
		return true;
	if (!n)
		return bad(b, "%s: no <%s>", where, name);
	if (attr ? prop(b, n, attr, &v) < 0 : !(v = content(b, n)))
		return false;
	if (!v)
		np__tb_fail(b, NP_EINPUT, "%s: <%s> has no %s", where, name, attr ? attr : "text");
	else if (!(ok = parse_ulong((const char *)v, max, out)))
		np__tb_fail(b, NP_EINPUT, "%s: %s '%s' is not a number up to 0x%lx", where, name,
			    quote((const char *)v, q), max);
	xmlFree(v);
	return ok;
}

/* Feed the PCI device described by capability CAP. */
static void pci_device(np__tb *b, const char *where, xmlNode *cap)
{
	static const struct {
		const char *name;
		unsigned long max;
	} parts[] = {
	    {"domain", 0xffffffff},
	    {"bus", 0xff},
	    {"slot", 0x1f},
	    {"function", 7},
	};
	unsigned long v[4], vendor = 0, product = 0, cls = 0;
	xmlNode *numa = next_child(cap, NULL, "numa");
	long node = -1;
	char addr[24];

	for (size_t i = 0; i < NP__ARRAY_SIZE(parts); i++)
		if (!dev_number(b, where, cap, parts[i].name, NULL, parts[i].max, true, &v[i]))
			return;
	if (!dev_number(b, where, cap, "vendor", "id", 0xffff, false, &vendor) ||
	    !dev_number(b, where, cap, "product", "id", 0xffff, false, &product) ||
	    !dev_number(b, where, cap, "class", NULL, 0xffffff, false, &cls))
		return;
	if (numa && !need_attr(b, where, numa, "node", -1, INT_MAX, &node))
		return;
	/*
	 * Domains above 0xffff exist (Intel VMD) but do not fit numaplace's
	 * "dddd:bb:dd.f"; such a device is left out rather than mangled.
	 */
	if (v[0] > 0xffff)
		return;
	snprintf(addr, sizeof(addr), "%04lx:%02lx:%02lx.%lx", v[0], v[1], v[2], v[3]);
	np__tb_device(b, addr, (unsigned)vendor, (unsigned)product, (unsigned)cls, (int)node);
}

int np__libvirt_nodedev_read(np__tb *b, const char *buf, size_t len)
{
	xmlDoc *doc = read_doc(b, buf, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL, *name;
	xmlChar *text = NULL;
	char where[64], q[40];

	if (!doc)
		goto out;
	if (!root || !named(root, "device")) {
		np__tb_fail(b, NP_EINPUT, "root element is <%.40s>, not <device>",
			    root ? (const char *)root->name : "");
		goto out;
	}
	name = next_child(root, NULL, "name");
	if (name && !(text = content(b, name)))
		goto out;
	snprintf(where, sizeof(where), "device %s", text ? quote((const char *)text, q) : "?");
	for (xmlNode *cap = next_child(root, NULL, "capability"); cap;
	     cap = next_child(root, cap, "capability")) {
		xmlChar *type;
		bool pci = prop(b, cap, "type", &type) > 0 && strcmp((const char *)type, "pci") == 0;

		xmlFree(type);
		if (np__tb_failed(b))
			break;
		if (pci) {
			pci_device(b, where, cap);
			break;
		}
	}
out:
	xmlFree(text);
	xmlFreeDoc(doc);
	return status(b);
}

static int parse(np__tb *b, const char *buf, size_t len)
{
	struct np__lv_cells cells = {0};
	struct np__xml_hush saved;
	int rc;

	np__xml_hush(&saved);
	rc = np__libvirt_caps_read(b, buf, len, &cells);
	np__xml_unhush(&saved);
	if (rc == 0)
		np__libvirt_pools_feed(b, &cells);
	np__libvirt_cells_free(&cells);
	return status(b);
}

const struct np__source np__source_libvirt_xml = {NP_SOURCE_LIBVIRT_XML, NULL, parse};
