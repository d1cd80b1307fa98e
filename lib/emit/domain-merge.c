/*
 * domain-merge.c - a libvirt domain document with a plan merged in: the
 * tree surgery, with libxml2 and nothing else, so that this file can move
 * into a loadable module with the other libxml2 code.  plan-domain.c
 * makes the pieces (plan-libvirt.c's XML, the one mapping of a plan to
 * libvirt) and calls np__domain_merge().
 *
 * What changes (children of <domain>; libvirt's schema lets them come in
 * any order, and new ones go where `virsh dumpxml` puts them):
 *  - <vcpu>: its count is the plan's, placement='static', no cpuset= (a
 *    default pinning that would outlive the plan's); current= is kept
 *    while it is within the count; when the count changes, <vcpus>
 *    (per-vCPU hotplug state) goes, and so does a <cpu><topology> of
 *    another count (libvirt would refuse it).
 *  - <memory>: the plan's size when it differs (so <currentMemory> is
 *    lowered to it when above).
 *  - <cputune>: vcpupin, emulatorpin and iothreadpin replaced by the
 *    plan's, one iothreadpin per I/O thread of the domain (<iothreadids>,
 *    else <iothreads>N: ids 1..N) on the emulator threads' CPUs; shares,
 *    quotas, schedulers and the rest kept.
 *  - <numatune>: replaced whole.
 *  - <cpu><numa>: replaced; a cell keeps its own other attributes
 *    (memAccess, discard) and children (<cache>) but <distances>, and
 *    <interconnects> stays while the number of cells does.  A plan without
 *    guest cells removes <numa> (and an empty <cpu/>).
 *  - <memoryBacking><hugepages>: replaced; its other children (locked,
 *    source, access, ...) kept; an emptied <memoryBacking> goes.
 * Everything else keeps its place and text.  Inserted elements are
 * indented as libvirt indents (two spaces a level); XML comments of the
 * pieces are left out (they would pile up on each merge) but inside
 * <numatune>, which is replaced whole each time.  The document keeps an
 * XML declaration only if it had one.
 *
 * Ownership: both trees live only inside np__domain_merge().
 */
#include "emit/plan-emit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "util/xml-util.h"

struct mg {
	const char *name;
	xmlDoc *doc;
	xmlNode *root;   /* the document's <domain> */
	xmlNode *pieces; /* the plan's elements, children of a wrapper */
	struct np_error *err;
	int rc;
};

static int fail(struct mg *m, int code, int line, const char *fmt, ...) NP__PRINTF(4, 5);

static int fail(struct mg *m, int code, int line, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	if (m->rc)
		return m->rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (code == NP_ENOMEM)
		return m->rc = np__err(m->err, code, "out of memory");
	if (line > 0)
		return m->rc = np__err(m->err, code, "%s: line %d: %s", m->name, line, msg);
	return m->rc = np__err(m->err, code, "%s: %s", m->name, msg);
}

/* The one child NAME of PARENT; a second one fails M (libvirt allows one). */
static xmlNode *one(struct mg *m, const xmlNode *parent, const char *name)
{
	xmlNode *second, *n = np__xml_child(parent, name, &second);

	if (second)
		fail(m, NP_EINPUT, np__xml_line(second), "a second <%s> in <%s> (libvirt allows one)",
		     name, (const char *)parent->name);
	return second ? NULL : n;
}

static bool blank(const xmlNode *n)
{
	return n && n->type == XML_TEXT_NODE && xmlIsBlankNode((xmlNode *)n);
}

/* ---- indentation ----------------------------------------------------------- */

/* Levels of N below the root element. */
static int depth(const xmlNode *n)
{
	int d = 0;

	for (; n && n->parent && n->parent->type == XML_ELEMENT_NODE; n = n->parent)
		d++;
	return d;
}

/* A text node "\n" and two spaces per level. */
static xmlNode *indent_node(struct mg *m, int level)
{
	char buf[130] = "\n";
	int n = level > 63 ? 63 : level;
	xmlNode *t;

	memset(buf + 1, ' ', (size_t)n * 2);
	buf[1 + n * 2] = '\0';
	if (!(t = xmlNewDocText(m->doc, (const xmlChar *)buf)))
		fail(m, NP_ENOMEM, 0, "out of memory");
	return t;
}

/* Indent N's subtree for LEVEL (N's own level): blank texts become line breaks. */
static void reindent(struct mg *m, xmlNode *n, int level)
{
	xmlNode *c = n->children, *next, *t;
	bool elements = false;

	for (; c; c = next) {
		next = c->next;
		if (blank(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
			continue;
		}
		if (c->type != XML_ELEMENT_NODE && c->type != XML_COMMENT_NODE)
			return; /* text content: leave it as it is */
		elements = true;
		if ((t = indent_node(m, level + 1)) && !xmlAddPrevSibling(c, t))
			xmlFreeNode(t);
		if (c->type == XML_ELEMENT_NODE)
			reindent(m, c, level + 1);
	}
	if (elements && (t = indent_node(m, level)) && !xmlAddChild(n, t))
		xmlFreeNode(t);
}

/* Unlink and free N with the blank text before it. */
static void drop(xmlNode *n)
{
	if (blank(n->prev)) {
		xmlNode *t = n->prev;

		xmlUnlinkNode(t);
		xmlFreeNode(t);
	}
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/*
 * Put N (not in the tree yet) into PARENT: after AFTER when given, else
 * as the last element; indented for its level.  N is freed on failure.
 */
static void put(struct mg *m, xmlNode *parent, xmlNode *after, xmlNode *n)
{
	int level = depth(parent) + 1;
	xmlNode *t = indent_node(m, level), *last = parent->last;

	if (!t) {
		xmlFreeNode(n);
		return;
	}
	if (after) {
		xmlAddNextSibling(after, n);
		xmlAddPrevSibling(n, t);
	} else if (blank(last)) {
		xmlAddPrevSibling(last, n);
		xmlAddPrevSibling(n, t);
	} else {
		xmlAddChild(parent, t);
		xmlAddChild(parent, n);
		if ((t = indent_node(m, level - 1)))
			xmlAddChild(parent, t);
	}
	reindent(m, n, level);
}

/* A copy of the pieces' element N for the document; NULL fails M. */
static xmlNode *copy(struct mg *m, const xmlNode *n)
{
	xmlNode *c = xmlDocCopyNode((xmlNode *)n, m->doc, 1);

	if (!c)
		fail(m, NP_ENOMEM, 0, "out of memory");
	return c;
}

/* The last of the children NAMES of the root that the document has, or NULL. */
static xmlNode *last_of(struct mg *m, const char *const *names)
{
	xmlNode *found = NULL;

	for (const char *const *p = names; *p; p++) {
		xmlNode *n = np__xml_child(m->root, *p, NULL);

		if (n)
			found = n;
	}
	return found;
}

/* ---- <vcpu>, <memory> ------------------------------------------------------ */

static void set_text(struct mg *m, xmlNode *n, const char *text)
{
	xmlNode *c, *next;

	for (c = n->children; c; c = next) {
		next = c->next;
		xmlUnlinkNode(c);
		xmlFreeNode(c);
	}
	xmlNodeAddContent(n, (const xmlChar *)text);
	if (!n->children)
		fail(m, NP_ENOMEM, 0, "out of memory");
}

static void set_attr(struct mg *m, xmlNode *n, const char *name, const char *value)
{
	if (!xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)value))
		fail(m, NP_ENOMEM, 0, "out of memory");
}

/* N's attribute NAME as a number, or -1 when missing or not one. */
static long long num_attr(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	long x = -1;

	if (v && !np__parse_int((const char *)v, 0, NP_VCPUS_MAX, &x))
		x = -1;
	xmlFree(v);
	return x;
}

/*
 * A <cpu><topology> whose sockets x dies x clusters x cores x threads is
 * no longer the vCPU count N: libvirt refuses it, so it goes (libvirt then
 * makes one of its own).
 */
static void fit_topology(struct mg *m, long n)
{
	static const char *const attrs[] = { "sockets", "dies", "clusters", "cores", "threads" };
	xmlNode *cpu = one(m, m->root, "cpu"), *t = cpu ? one(m, cpu, "topology") : NULL;
	long long product = 1;

	if (!t || m->rc)
		return;
	for (size_t i = 0; i < NP__ARRAY_SIZE(attrs); i++) {
		long long v = num_attr(t, attrs[i]);

		if (v > 0 || xmlHasProp(t, (const xmlChar *)attrs[i]))
			product *= v > 0 ? v : 0;
	}
	if (product != n)
		drop(t);
}

static void merge_vcpu(struct mg *m, const xmlNode *pv)
{
	static const char *const before[] = { "name", "uuid", "memory", "currentMemory",
					      "memoryBacking", NULL };
	xmlChar *count = xmlNodeGetContent(pv), *old;
	xmlNode *v = one(m, m->root, "vcpu"), *vcpus = one(m, m->root, "vcpus");
	long n = -1;

	if (!count || m->rc) {
		xmlFree(count);
		if (!m->rc)
			fail(m, NP_ENOMEM, 0, "out of memory");
		return;
	}
	np__parse_int((const char *)count, 1, NP_VCPUS_MAX, &n);
	if (!v) {
		if ((v = copy(m, pv)))
			put(m, m->root, last_of(m, before), v);
	} else {
		old = xmlNodeGetContent(v);
		if (!old || strcmp((const char *)old, (const char *)count) != 0) {
			if (vcpus)
				drop(vcpus); /* per-vCPU states of another count */
			fit_topology(m, n);
		}
		xmlFree(old);
		set_text(m, v, (const char *)count);
		set_attr(m, v, "placement", "static");
		xmlUnsetProp(v, (const xmlChar *)"cpuset");
		if (num_attr(v, "current") > n)
			xmlUnsetProp(v, (const xmlChar *)"current");
	}
	xmlFree(count);
}

/* The size element N in KiB (its unit, KiB by default), or 0 when unreadable. */
static uint64_t size_kib(xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n), *u = xmlGetNoNsProp(n, (const xmlChar *)"unit");
	uint64_t v = 0, per = 0;

	if (!t || !np__parse_u64((const char *)t, &v) ||
	    !np__unit_bytes(u ? (const char *)u : "KiB", &per) || (v && per > UINT64_MAX / v))
		v = per = 0;
	xmlFree(t);
	xmlFree(u);
	return v * per / 1024;
}

static void set_kib(struct mg *m, xmlNode *n, uint64_t kib)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, kib);
	set_text(m, n, buf);
	set_attr(m, n, "unit", "KiB");
}

static void merge_memory(struct mg *m, uint64_t memory_mb)
{
	static const char *const before[] = { "name", "uuid", "title", "description", "metadata",
					      "maxMemory", NULL };
	xmlNode *mem = one(m, m->root, "memory"), *cur = one(m, m->root, "currentMemory");
	uint64_t kib = memory_mb * 1024;

	if (m->rc || (mem && size_kib(mem) == kib))
		return;
	if (!mem) {
		if (!(mem = xmlNewDocNode(m->doc, NULL, (const xmlChar *)"memory", NULL)))
			fail(m, NP_ENOMEM, 0, "out of memory");
		else
			put(m, m->root, last_of(m, before), mem);
	}
	if (mem && !m->rc)
		set_kib(m, mem, kib);
	if (cur && !m->rc && size_kib(cur) > kib)
		set_kib(m, cur, kib);
}

/* ---- <cputune> --------------------------------------------------------------- */

/* I/O thread ids of the domain into IDS (at most MAX): <iothreadids>, else 1..<iothreads>. */
static int iothread_ids(struct mg *m, long *ids, int max)
{
	xmlNode *list = one(m, m->root, "iothreadids"), *count = one(m, m->root, "iothreads");
	xmlChar *t;
	int n = 0;
	long v;

	for (xmlNode *c = list ? list->children : NULL; c && n < max; c = c->next)
		if (np__xml_named(c, "iothread") && (v = num_attr(c, "id")) > 0)
			ids[n++] = v;
	if (list || !count || m->rc)
		return n;
	t = xmlNodeGetContent(count);
	if (!t || !np__parse_int((const char *)t, 0, max, &v))
		fail(m, t ? NP_EINPUT : NP_ENOMEM, np__xml_line(count),
		     "<iothreads> '%.20s' is not a number from 0 to %d", t ? (char *)t : "", max);
	else
		for (n = 0; n < v; n++)
			ids[n] = n + 1;
	xmlFree(t);
	return n;
}

/* One <iothreadpin> per I/O thread, on the CPUs of the pieces' <emulatorpin>. */
static void put_iothreadpins(struct mg *m, xmlNode *ct, const xmlNode *pct)
{
	xmlNode *emu = np__xml_child(pct, "emulatorpin", NULL), *pin;
	xmlChar *cpus = emu ? xmlGetNoNsProp(emu, (const xmlChar *)"cpuset") : NULL;
	long ids[256];
	char id[24];
	int n = iothread_ids(m, ids, (int)NP__ARRAY_SIZE(ids));

	for (int i = 0; i < n && cpus && !m->rc; i++) {
		if (!(pin = xmlNewDocNode(m->doc, NULL, (const xmlChar *)"iothreadpin", NULL))) {
			fail(m, NP_ENOMEM, 0, "out of memory");
			break;
		}
		snprintf(id, sizeof(id), "%ld", ids[i]);
		put(m, ct, NULL, pin);
		set_attr(m, pin, "iothread", id);
		set_attr(m, pin, "cpuset", (const char *)cpus);
	}
	xmlFree(cpus);
}

static void merge_cputune(struct mg *m, const xmlNode *pct)
{
	static const char *const pins[] = { "vcpupin", "emulatorpin", "iothreadpin" };
	static const char *const before[] = { "vcpu", "vcpus", "iothreads", "iothreadids", NULL };
	xmlNode *ct = one(m, m->root, "cputune"), *next, *anchor = NULL, *c;
	bool fresh = !ct;

	if (m->rc)
		return;
	if (fresh && !(ct = xmlNewDocNode(m->doc, NULL, (const xmlChar *)"cputune", NULL))) {
		fail(m, NP_ENOMEM, 0, "out of memory");
		return;
	}
	for (xmlNode *old = ct->children; old; old = next) {
		next = old->next;
		for (size_t i = 0; i < NP__ARRAY_SIZE(pins); i++)
			if (np__xml_named(old, pins[i])) {
				drop(old);
				break;
			}
	}
	if (fresh)
		put(m, m->root, last_of(m, before), ct);
	for (xmlNode *p = pct ? pct->children : NULL; p && !m->rc; p = p->next) {
		if (p->type != XML_ELEMENT_NODE || !(c = copy(m, p)))
			continue;
		put(m, ct, anchor, c); /* the plan's pins first, in its order */
		anchor = c;
	}
	if (pct)
		put_iothreadpins(m, ct, pct);
	if (fresh && !ct->children) /* nothing to pin: no element at all */
		drop(ct);
}

/* ---- <numatune>, <cpu><numa>, <memoryBacking> -------------------------------- */

static void merge_numatune(struct mg *m, const xmlNode *pnt)
{
	static const char *const before[] = { "vcpu", "vcpus", "iothreads", "iothreadids",
					      "cputune", NULL };
	xmlNode *nt = one(m, m->root, "numatune"), *c, *at;

	if (m->rc || !pnt || !(c = copy(m, pnt)))
		return;
	at = nt ? nt : last_of(m, before);
	put(m, m->root, at, c);
	if (nt)
		drop(nt);
}

/* Keep what the document's cell OLD had beyond what numaplace writes into CELL. */
static void keep_cell_extras(struct mg *m, xmlNode *cell, const xmlNode *old)
{
	static const char *const ours[] = { "id", "cpus", "memory", "unit" };
	xmlNode *c;

	for (xmlAttr *a = old->properties; a && !m->rc; a = a->next) {
		bool mine = false;
		xmlChar *v;

		for (size_t i = 0; i < NP__ARRAY_SIZE(ours); i++)
			mine |= strcmp((const char *)a->name, ours[i]) == 0;
		if (mine || a->ns)
			continue;
		v = xmlNodeGetContent((xmlNode *)a);
		set_attr(m, cell, (const char *)a->name, v ? (const char *)v : "");
		xmlFree(v);
	}
	for (xmlNode *o = old->children; o && !m->rc; o = o->next)
		if (o->type == XML_ELEMENT_NODE && !np__xml_named(o, "distances") &&
		    (c = copy(m, o)))
			xmlAddChild(cell, c);
}

/* The plan's <numa> PN with what the document's OLD (may be NULL) adds to it. */
static xmlNode *new_numa(struct mg *m, const xmlNode *pn, const xmlNode *old)
{
	xmlNode *numa = copy(m, pn), *ic, *c;
	int ncells = 0, nold = 0;

	if (!numa)
		return NULL;
	for (xmlNode *cell = numa->children; cell && old && !m->rc; cell = cell->next) {
		long long id = np__xml_named(cell, "cell") ? num_attr(cell, "id") : -1;

		ncells += id >= 0;
		for (xmlNode *o = old->children; o && id >= 0; o = o->next)
			if (np__xml_named(o, "cell") && num_attr(o, "id") == id)
				keep_cell_extras(m, cell, o);
	}
	for (xmlNode *o = old ? old->children : NULL; o; o = o->next)
		nold += np__xml_named(o, "cell");
	ic = old ? np__xml_child(old, "interconnects", NULL) : NULL;
	if (ic && nold == ncells && (c = copy(m, ic)))
		xmlAddChild(numa, c);
	return numa;
}

static void merge_cpu(struct mg *m, const xmlNode *pcpu)
{
	static const char *const before[] = { "os", "features", NULL };
	const xmlNode *pn = pcpu ? np__xml_child(pcpu, "numa", NULL) : NULL;
	xmlNode *cpu = one(m, m->root, "cpu"), *numa = cpu ? one(m, cpu, "numa") : NULL, *n;

	if (m->rc)
		return;
	if (pn && !cpu) {
		if ((cpu = copy(m, pcpu)))
			put(m, m->root, last_of(m, before), cpu);
		return;
	}
	if (pn && (n = new_numa(m, pn, numa)))
		put(m, cpu, numa, n);
	if (numa)
		drop(numa);
	if (cpu && !pn && !cpu->properties && !np__xml_child(cpu, "model", NULL)) {
		bool empty = true;

		for (xmlNode *c = cpu->children; c; c = c->next)
			empty &= c->type != XML_ELEMENT_NODE;
		if (empty)
			drop(cpu);
	}
}

static bool has_elements(const xmlNode *n)
{
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

static void merge_backing(struct mg *m, const xmlNode *pmb)
{
	static const char *const before[] = { "name", "uuid", "memory", "currentMemory",
					      "blkiotune", "memtune", NULL };
	const xmlNode *php = pmb ? np__xml_child(pmb, "hugepages", NULL) : NULL;
	xmlNode *mb = one(m, m->root, "memoryBacking"), *hp = mb ? one(m, mb, "hugepages") : NULL;
	xmlNode *c;

	if (m->rc)
		return;
	if (php && !mb) {
		if ((mb = copy(m, pmb)))
			put(m, m->root, last_of(m, before), mb);
		return;
	}
	if (php && (c = copy(m, php)))
		put(m, mb, hp, c);
	if (hp)
		drop(hp);
	if (mb && hp && !php && !has_elements(mb))
		drop(mb);
}

/* ---- the documents ---------------------------------------------------------- */

/* The pieces PIECES (plan-libvirt.c's output) parsed under one wrapper element. */
static xmlDoc *read_pieces(struct mg *m, const char *pieces, size_t plen)
{
	static const char open[] = "<numaplace>", close[] = "</numaplace>";
	size_t n = sizeof(open) - 1 + plen + sizeof(close) - 1;
	char *buf = malloc(n);
	struct np_error perr = { 0 };
	xmlDoc *doc = NULL;

	if (!buf) {
		fail(m, NP_ENOMEM, 0, "out of memory");
		return NULL;
	}
	memcpy(buf, open, sizeof(open) - 1);
	memcpy(buf + sizeof(open) - 1, pieces, plen);
	memcpy(buf + sizeof(open) - 1 + plen, close, sizeof(close) - 1);
	if (!(doc = np__xml_parse(buf, n, &perr)))
		fail(m, perr.code, 0, "internal error: the plan's XML: %s", perr.message);
	else
		m->pieces = xmlDocGetRootElement(doc);
	free(buf);
	return doc;
}

/* Did the document start with an XML declaration? */
static bool has_decl(const char *buf, size_t len)
{
	size_t i = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return len - i >= 5 && memcmp(buf + i, "<?xml", 5) == 0;
}

static int save(struct mg *m, bool decl, char **out, size_t *outlen)
{
	xmlBuffer *b = xmlBufferCreate();
	xmlSaveCtxt *s = b ? xmlSaveToBuffer(b, NULL, decl ? 0 : XML_SAVE_NO_DECL) : NULL;
	long done = s ? xmlSaveDoc(s, m->doc) : -1;

	if (s && xmlSaveClose(s) < 0)
		done = -1;
	if (done < 0 || !(*out = malloc((size_t)xmlBufferLength(b) + 1))) {
		xmlBufferFree(b);
		return fail(m, NP_ENOMEM, 0, "out of memory");
	}
	*outlen = (size_t)xmlBufferLength(b);
	memcpy(*out, xmlBufferContent(b), *outlen);
	(*out)[*outlen] = '\0';
	xmlBufferFree(b);
	return 0;
}

static void merge_all(struct mg *m, uint64_t memory_mb)
{
	const xmlNode *p = m->pieces;

	merge_vcpu(m, np__xml_child(p, "vcpu", NULL));
	if (!m->rc)
		merge_memory(m, memory_mb);
	if (!m->rc)
		merge_backing(m, np__xml_child(p, "memoryBacking", NULL));
	if (!m->rc)
		merge_cputune(m, np__xml_child(p, "cputune", NULL));
	if (!m->rc)
		merge_numatune(m, np__xml_child(p, "numatune", NULL));
	if (!m->rc)
		merge_cpu(m, np__xml_child(p, "cpu", NULL));
}

int np__domain_merge(const char *buf, size_t len, const char *name, const char *pieces,
		     size_t plen, uint64_t memory_mb, char **out, size_t *outlen,
		     struct np_error *err)
{
	struct mg m = { .name = name, .err = err };
	struct np_error perr = { 0 };
	struct np__xml_hush saved;
	xmlDoc *pdoc = NULL;

	np__xml_hush(&saved);
	if (!(m.doc = np__xml_parse(buf, len, &perr)))
		fail(&m, perr.code, 0, "%s", perr.message);
	else if (!(m.root = xmlDocGetRootElement(m.doc)) || !np__xml_named(m.root, "domain"))
		fail(&m, NP_EINPUT, 0, "the root element is <%.40s>, not <domain>",
		     m.root ? (const char *)m.root->name : "");
	else if ((pdoc = read_pieces(&m, pieces, plen)) && !np__xml_child(m.pieces, "vcpu", NULL))
		fail(&m, NP_EINPUT, 0, "internal error: the plan's XML has no <vcpu>");
	if (!m.rc)
		merge_all(&m, memory_mb);
	if (!m.rc)
		save(&m, has_decl(buf, len), out, outlen);
	xmlFreeDoc(pdoc);
	xmlFreeDoc(m.doc);
	np__xml_unhush(&saved);
	return m.rc;
}
