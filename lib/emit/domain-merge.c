/*
 * domain-merge.c - a libvirt domain document with a plan merged in: the
 * tree surgery, with libxml2 and nothing else, so that this file lives in
 * module xml with the other libxml2 code (module/mod-xml.c).  plan-domain.c makes
 * the pieces (plan-libvirt.c's XML, the one mapping of a plan to libvirt)
 * and calls np__lv_domain_merge() through the module's table.
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
 * <numatune>, which is replaced whole each time.  The pieces' elements
 * are moved into the document, not copied (see take()).  The document keeps an
 * XML declaration only if it had one.
 *
 * Ownership: both trees live only inside np__lv_domain_merge().
 */
#include "emit/plan-emit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "util/xml-util.h"

struct mg {
	struct np__xml_fail f; /* the document's name, ERR, the first failure */
	xmlDoc *doc;
	xmlNode *root;   /* the document's <domain> */
	xmlNode *pieces; /* the plan's elements, children of a wrapper */
};

static bool blank(const xmlNode *n)
{
	return n && n->type == XML_TEXT_NODE && xmlIsBlankNode((xmlNode *)n);
}

/*
 * libxml2 (2.9) answers some allocation failures with a part missing
 * rather than an error: a node without its text, a copy without some
 * attributes or children.  Everything made here is checked, so a merge
 * under memory pressure fails (NP_ENOMEM) instead of writing a domain
 * with a piece missing.
 */
static void *oom(struct mg *m)
{
	np__xml_failf(&m->f, NP_ENOMEM, 0, "out of memory");
	return NULL;
}

static bool same_str(const xmlChar *a, const xmlChar *b)
{
	return a == b || (a && b && strcmp((const char *)a, (const char *)b) == 0);
}

/* The text of N (xmlFree it), or NULL after failing M. */
static xmlChar *content(struct mg *m, const xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);

	return t ? t : oom(m);
}

/* N's attribute NAME (xmlFree it): NULL when it has none, or after failing M. */
static xmlChar *attr(struct mg *m, xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);

	if (!v && xmlHasNsProp(n, (const xmlChar *)name, NULL))
		oom(m);
	return v;
}

/* An element NAME for the document, or NULL after failing M. */
static xmlNode *element(struct mg *m, const char *name)
{
	xmlNode *n = xmlNewDocNode(m->doc, NULL, (const xmlChar *)name, NULL);

	if (n && (!n->name || strcmp((const char *)n->name, name) != 0)) {
		xmlFreeNode(n);
		n = NULL;
	}
	return n ? n : oom(m);
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
	t = xmlNewDocText(m->doc, (const xmlChar *)buf);
	if (t && !t->content) {
		xmlFreeNode(t);
		t = NULL;
	}
	return t ? t : oom(m);
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

/*
 * Unlink and free N with its indentation: the blank text before it, or
 * the last line break and spaces of other text there ("; \n    "), which
 * put() would otherwise add to on every merge.
 */
static void drop(struct mg *m, xmlNode *n)
{
	xmlNode *t = n->prev;
	size_t len = t && t->type == XML_TEXT_NODE && t->content ? strlen((char *)t->content) : 0;
	xmlChar *cut;

	while (len && (t->content[len - 1] == ' ' || t->content[len - 1] == '\t'))
		len--;
	if (blank(t)) {
		xmlUnlinkNode(t);
		xmlFreeNode(t);
	} else if (len && t->content[len - 1] == '\n') {
		/* A copy: libxml2 frees the old content (or it is its dictionary's). */
		if (!(cut = xmlStrndup(t->content, (int)len - 1)))
			oom(m);
		else
			xmlNodeSetContent(t, cut);
		if (cut && !t->content)
			oom(m);
		xmlFree(cut);
	}
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/*
 * Put N (not in the tree yet) into PARENT: after AFTER when given, else
 * as the last element; indented for its level.  N is in the tree even
 * when M failed (for lack of memory to indent it), so the document, freed
 * whole, frees it, and no caller holds a freed node.
 */
static void put(struct mg *m, xmlNode *parent, xmlNode *after, xmlNode *n)
{
	int level = depth(parent) + 1;
	xmlNode *last = parent->last, *t;

	if (after)
		xmlAddNextSibling(after, n);
	else if (blank(last))
		xmlAddPrevSibling(last, n);
	else
		xmlAddChild(parent, n);
	if (!(t = indent_node(m, level)))
		return;
	xmlAddPrevSibling(n, t);
	if (!after && !blank(last) && (t = indent_node(m, level - 1)))
		xmlAddNextSibling(n, t);
	reindent(m, n, level);
}

/*
 * Node N of the plan's pieces, moved into the document.  The pieces are
 * parsed without a dictionary, so nothing of N belongs to their document:
 * moving allocates nothing and cannot lose a part, as copying could (and
 * leak it) when memory is short.
 */
static xmlNode *take(struct mg *m, xmlNode *n)
{
	xmlUnlinkNode(n);
	xmlSetTreeDoc(n, m->doc);
	return n;
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
	xmlNode *c, *next, *t = xmlNewDocText(m->doc, (const xmlChar *)text);

	if (!t || !t->content) {
		xmlFreeNode(t);
		oom(m);
		return;
	}
	for (c = n->children; c; c = next) { /* first: libxml2 merges adjacent texts */
		next = c->next;
		xmlUnlinkNode(c);
		xmlFreeNode(c);
	}
	xmlAddChild(n, t);
}

static void set_attr(struct mg *m, xmlNode *n, const char *name, const char *value)
{
	xmlAttr *a = xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)value);

	if (!a || !a->children || !same_str(a->children->content, (const xmlChar *)value))
		oom(m);
}

/* N's attribute NAME as a number, or -1 when missing or not one (or M failed). */
static long long num_attr(struct mg *m, xmlNode *n, const char *name)
{
	xmlChar *v = attr(m, n, name);
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
	xmlNode *cpu = np__xml_once(&m->f, m->root, "cpu");
	xmlNode *t = cpu ? np__xml_once(&m->f, cpu, "topology") : NULL;
	long long product = 1;

	if (!t || m->f.rc)
		return;
	for (size_t i = 0; i < NP__ARRAY_SIZE(attrs); i++) {
		long long v = num_attr(m, t, attrs[i]);

		if (v > 0 || xmlHasProp(t, (const xmlChar *)attrs[i]))
			product *= v > 0 ? v : 0;
	}
	if (product != n)
		drop(m, t);
}

static void merge_vcpu(struct mg *m, xmlNode *pv)
{
	static const char *const before[] = { "name", "uuid", "memory", "currentMemory",
					      "memoryBacking", NULL };
	xmlChar *count = content(m, pv), *old;
	xmlNode *v = np__xml_once(&m->f, m->root, "vcpu");
	xmlNode *vcpus = np__xml_once(&m->f, m->root, "vcpus");
	long n = -1;

	if (m->f.rc) {
		xmlFree(count);
		return;
	}
	np__parse_int((const char *)count, 1, NP_VCPUS_MAX, &n);
	if (!v) {
		put(m, m->root, last_of(m, before), take(m, pv));
	} else {
		old = content(m, v);
		if (old && strcmp((const char *)old, (const char *)count) != 0) {
			if (vcpus)
				drop(m, vcpus); /* per-vCPU states of another count */
			fit_topology(m, n);
		}
		xmlFree(old);
		set_text(m, v, (const char *)count);
		set_attr(m, v, "placement", "static");
		xmlUnsetProp(v, (const xmlChar *)"cpuset");
		if (num_attr(m, v, "current") > n)
			xmlUnsetProp(v, (const xmlChar *)"current");
	}
	xmlFree(count);
}

/* The size element N in KiB (its unit, KiB by default), or 0 when unreadable (or M failed). */
static uint64_t size_kib(struct mg *m, xmlNode *n)
{
	xmlChar *t = content(m, n), *u = attr(m, n, "unit");
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
	xmlNode *mem = np__xml_once(&m->f, m->root, "memory");
	xmlNode *cur = np__xml_once(&m->f, m->root, "currentMemory");
	uint64_t kib = memory_mb * 1024;

	if (m->f.rc || (mem && size_kib(m, mem) == kib))
		return;
	if (!mem) {
		if ((mem = element(m, "memory")))
			put(m, m->root, last_of(m, before), mem);
	}
	if (mem && !m->f.rc)
		set_kib(m, mem, kib);
	if (cur && !m->f.rc && size_kib(m, cur) > kib)
		set_kib(m, cur, kib);
}

/* ---- <cputune> --------------------------------------------------------------- */

/* I/O thread ids of the domain into IDS (at most MAX): <iothreadids>, else 1..<iothreads>. */
static int iothread_ids(struct mg *m, long *ids, int max)
{
	xmlNode *list = np__xml_once(&m->f, m->root, "iothreadids");
	xmlNode *count = np__xml_once(&m->f, m->root, "iothreads");
	xmlChar *t;
	int n = 0;
	long v;

	for (xmlNode *c = list ? list->children : NULL; c && n < max; c = c->next)
		if (np__xml_named(c, "iothread") && (v = num_attr(m, c, "id")) > 0)
			ids[n++] = v;
	if (list || !count || m->f.rc)
		return n;
	t = content(m, count);
	if (t && !np__parse_int((const char *)t, 0, max, &v))
		np__xml_failf(&m->f, NP_EINPUT, np__xml_line(count),
		     "<iothreads> '%.20s' is not a number from 0 to %d", (char *)t, max);
	else if (t)
		for (n = 0; n < v; n++)
			ids[n] = n + 1;
	xmlFree(t);
	return n;
}

/* One <iothreadpin> per I/O thread, on the CPUs of the plan's <emulatorpin>, now in CT. */
static void put_iothreadpins(struct mg *m, xmlNode *ct)
{
	xmlNode *emu = np__xml_child(ct, "emulatorpin", NULL), *pin;
	xmlChar *cpus = emu ? attr(m, emu, "cpuset") : NULL;
	long ids[256];
	char id[24];
	int n = iothread_ids(m, ids, (int)NP__ARRAY_SIZE(ids));

	for (int i = 0; i < n && cpus && !m->f.rc; i++) {
		if (!(pin = element(m, "iothreadpin")))
			break;
		snprintf(id, sizeof(id), "%ld", ids[i]);
		put(m, ct, NULL, pin);
		set_attr(m, pin, "iothread", id);
		set_attr(m, pin, "cpuset", (const char *)cpus);
	}
	xmlFree(cpus);
}

static void merge_cputune(struct mg *m, xmlNode *pct)
{
	static const char *const pins[] = { "vcpupin", "emulatorpin", "iothreadpin" };
	static const char *const before[] = { "vcpu", "vcpus", "iothreads", "iothreadids", NULL };
	xmlNode *ct = np__xml_once(&m->f, m->root, "cputune"), *next, *anchor = NULL;
	bool fresh = !ct;

	if (m->f.rc)
		return;
	if (fresh && !(ct = element(m, "cputune")))
		return;
	for (xmlNode *old = ct->children; old; old = next) {
		next = old->next;
		for (size_t i = 0; i < NP__ARRAY_SIZE(pins); i++)
			if (np__xml_named(old, pins[i])) {
				drop(m, old);
				break;
			}
	}
	if (fresh)
		put(m, m->root, last_of(m, before), ct);
	for (xmlNode *p = pct ? pct->children : NULL; p && !m->f.rc; p = next) {
		next = p->next;
		if (p->type != XML_ELEMENT_NODE)
			continue;
		put(m, ct, anchor, take(m, p)); /* the plan's pins in its order */
		anchor = p;
	}
	put_iothreadpins(m, ct);
	if (fresh && !ct->children) /* nothing to pin: no element at all */
		drop(m, ct);
}

/* ---- <numatune>, <cpu><numa>, <memoryBacking> -------------------------------- */

static void merge_numatune(struct mg *m, xmlNode *pnt)
{
	static const char *const before[] = { "vcpu", "vcpus", "iothreads", "iothreadids",
					      "cputune", NULL };
	xmlNode *nt = np__xml_once(&m->f, m->root, "numatune"), *at;

	if (m->f.rc || !pnt)
		return;
	at = nt ? nt : last_of(m, before);
	put(m, m->root, at, take(m, pnt));
	if (nt)
		drop(m, nt);
}

/*
 * Keep what the document's cell OLD had beyond what numaplace writes into
 * CELL: its other attributes (copied) and children (moved: OLD goes).
 */
static void keep_cell_extras(struct mg *m, xmlNode *cell, xmlNode *old)
{
	static const char *const ours[] = { "id", "cpus", "memory", "unit" };
	xmlNode *next;

	for (xmlAttr *a = old->properties; a && !m->f.rc; a = a->next) {
		bool mine = false;
		xmlChar *v;

		for (size_t i = 0; i < NP__ARRAY_SIZE(ours); i++)
			mine |= strcmp((const char *)a->name, ours[i]) == 0;
		if (mine || a->ns)
			continue;
		if ((v = content(m, (xmlNode *)a)))
			set_attr(m, cell, (const char *)a->name, (const char *)v);
		xmlFree(v);
	}
	for (xmlNode *o = old->children; o && !m->f.rc; o = next) {
		next = o->next;
		if (o->type == XML_ELEMENT_NODE && !np__xml_named(o, "distances"))
			put(m, cell, NULL, take(m, o));
	}
}

/* The plan's <numa> PN with what the document's OLD (may be NULL) adds to it. */
static xmlNode *new_numa(struct mg *m, xmlNode *pn, xmlNode *old)
{
	xmlNode *numa = take(m, pn), *ic;
	int ncells = 0, nold = 0;

	for (xmlNode *cell = numa->children; cell && old && !m->f.rc; cell = cell->next) {
		long long id = np__xml_named(cell, "cell") ? num_attr(m, cell, "id") : -1;

		ncells += id >= 0;
		for (xmlNode *o = old->children; o && id >= 0; o = o->next)
			if (np__xml_named(o, "cell") && num_attr(m, o, "id") == id)
				keep_cell_extras(m, cell, o);
	}
	for (xmlNode *o = old ? old->children : NULL; o; o = o->next)
		nold += np__xml_named(o, "cell");
	ic = old ? np__xml_child(old, "interconnects", NULL) : NULL;
	if (ic && nold == ncells)
		put(m, numa, NULL, take(m, ic));
	return numa;
}

static void merge_cpu(struct mg *m, xmlNode *pcpu)
{
	static const char *const before[] = { "os", "features", NULL };
	xmlNode *pn = pcpu ? np__xml_child(pcpu, "numa", NULL) : NULL;
	xmlNode *cpu = np__xml_once(&m->f, m->root, "cpu");
	xmlNode *numa = cpu ? np__xml_once(&m->f, cpu, "numa") : NULL;

	if (m->f.rc)
		return;
	if (pn && !cpu) {
		put(m, m->root, last_of(m, before), take(m, pcpu));
		return;
	}
	if (pn)
		put(m, cpu, numa, new_numa(m, pn, numa));
	if (numa)
		drop(m, numa);
	if (cpu && !pn && !cpu->properties && !np__xml_child(cpu, "model", NULL)) {
		bool empty = true;

		for (xmlNode *c = cpu->children; c; c = c->next)
			empty &= c->type != XML_ELEMENT_NODE;
		if (empty)
			drop(m, cpu);
	}
}

static bool has_elements(const xmlNode *n)
{
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

static void merge_backing(struct mg *m, xmlNode *pmb)
{
	static const char *const before[] = { "name", "uuid", "memory", "currentMemory",
					      "blkiotune", "memtune", NULL };
	xmlNode *php = pmb ? np__xml_child(pmb, "hugepages", NULL) : NULL;
	xmlNode *mb = np__xml_once(&m->f, m->root, "memoryBacking");
	xmlNode *hp = mb ? np__xml_once(&m->f, mb, "hugepages") : NULL;

	if (m->f.rc)
		return;
	if (php && !mb) {
		put(m, m->root, last_of(m, before), take(m, pmb));
		return;
	}
	if (php)
		put(m, mb, hp, take(m, php));
	if (hp)
		drop(m, hp);
	if (mb && hp && !php && !has_elements(mb))
		drop(m, mb);
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
		np__xml_failf(&m->f, NP_ENOMEM, 0, "out of memory");
		return NULL;
	}
	memcpy(buf, open, sizeof(open) - 1);
	memcpy(buf + sizeof(open) - 1, pieces, plen);
	memcpy(buf + sizeof(open) - 1 + plen, close, sizeof(close) - 1);
	if (!(doc = np__xml_parse_flags(buf, n, XML_PARSE_NODICT, &perr)))
		np__xml_failf(&m->f, perr.code, 0, "internal error: the plan's XML: %s",
			      perr.message);
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
		return np__xml_failf(&m->f, NP_ENOMEM, 0, "out of memory");
	}
	*outlen = (size_t)xmlBufferLength(b);
	memcpy(*out, xmlBufferContent(b), *outlen);
	(*out)[*outlen] = '\0';
	xmlBufferFree(b);
	return 0;
}

static void merge_all(struct mg *m, uint64_t memory_mb)
{
	xmlNode *p = m->pieces;

	merge_vcpu(m, np__xml_child(p, "vcpu", NULL));
	if (!m->f.rc)
		merge_memory(m, memory_mb);
	if (!m->f.rc)
		merge_backing(m, np__xml_child(p, "memoryBacking", NULL));
	if (!m->f.rc)
		merge_cputune(m, np__xml_child(p, "cputune", NULL));
	if (!m->f.rc)
		merge_numatune(m, np__xml_child(p, "numatune", NULL));
	if (!m->f.rc)
		merge_cpu(m, np__xml_child(p, "cpu", NULL));
}

int np__lv_domain_merge(const char *buf, size_t len, const char *name, const char *pieces,
		     size_t plen, uint64_t memory_mb, char **out, size_t *outlen,
		     struct np_error *err)
{
	struct mg m = { .f = { name, err, 0 } };
	struct np_error perr = { 0 };
	struct np__xml_hush saved;
	xmlDoc *pdoc = NULL;

	np__xml_hush(&saved);
	if (!(m.doc = np__xml_parse(buf, len, &perr)))
		np__xml_failf(&m.f, perr.code, 0, "%s", perr.message);
	else if (!(m.root = xmlDocGetRootElement(m.doc)) || !np__xml_named(m.root, "domain"))
		np__xml_failf(&m.f, NP_EINPUT, 0, "the root element is <%.40s>, not <domain>",
		     m.root ? (const char *)m.root->name : "");
	else if ((pdoc = read_pieces(&m, pieces, plen)) && !np__xml_child(m.pieces, "vcpu", NULL))
		np__xml_failf(&m.f, NP_EINPUT, 0, "internal error: the plan's XML has no <vcpu>");
	if (!m.f.rc)
		merge_all(&m, memory_mb);
	if (!m.f.rc)
		save(&m, has_decl(buf, len), out, outlen);
	xmlFreeDoc(pdoc);
	xmlFreeDoc(m.doc);
	np__xml_unhush(&saved);
	return m.f.rc;
}
