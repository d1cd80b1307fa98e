/*
 * hwloc-xml-check.c - the gate between an untrusted hwloc XML document and
 * libhwloc: the document is parsed by libxml2, checked against the shape
 * libhwloc's importer assumes, and written again in a plain form that is
 * all libhwloc ever sees.
 *
 * Why rewrite rather than only check: libhwloc 2.9 trusts its input.  It
 * dereferences NULL when an object lacks a set (hwloc_bitmap_isequal on a
 * second NUMANode whose os_index attribute is misspelled: Debian's
 * libhwloc has no libxml2, and its own small parser stops reading an
 * element's attributes at the first name with a capital or a digit, so
 * every set after it is lost), reads uninitialised memory for a set
 * ending in "," ("0x0000000,"), asserts or spins on bad cache depths, and
 * allocates half a gigabyte for a PU numbered 4000000000.  A check made
 * with another parser would leave every difference between the two
 * parsers open; here hwloc reads only what we wrote, in the form hwloc
 * itself writes (lower-case attribute names, one element per tag, sets
 * as "0x%08x" groups), so both parsers of libhwloc read the same thing we
 * checked.
 *
 * What is kept is what numaplace reads, each value checked and written in
 * canonical form: object types, os_index, the four sets (cpuset,
 * complete_cpuset, nodeset, complete_nodeset), NUMA memory, NUMA subtype,
 * page types, cache and group attributes, PCI bus ids and types, bridge
 * ranges, and the NUMA distance matrices.  Everything else (info, names,
 * gp_index, allowed and online sets, userdata, support, memory attributes,
 * CPU kinds, OS devices, Misc objects, distances between other objects) is
 * dropped: hwloc would only carry it.
 *
 * The shape held (each broken rule is refused with its line):
 *  - version: 1.x (no version attribute) or 2.x; 3.x and later are named
 *    as what this libhwloc cannot read; 0.9 (<root>) is refused as too old;
 *  - the root object a Machine (System in 1.x); a 1.x root NUMANode is put
 *    under one, as hwloc does, while a 2.x one is refused (it crashed
 *    hwloc 2.9.0's core, see obj_type());
 *  - every object a known type, allowed in that version and under that
 *    parent (hwloc's rules for normal, memory and I/O children; a PU has
 *    no normal or memory children; normal types go down in hwloc's order,
 *    Package > Die > caches L5..L1 > Core > PU, Groups anywhere above PU);
 *  - every normal and memory object carries all four sets, well formed and
 *    bounded (CPUs up to HX_CPU_MAX, nodes up to HX_NODE_MAX, never
 *    infinite): a huge set is refused here, before any work; a v1 document
 *    may carry no nodesets at all (hwloc then adds one node);
 *  - sets nest: cpuset within complete_cpuset, each set within its
 *    parent's, normal siblings' complete cpusets disjoint;
 *  - a PU's complete cpuset is its os_index alone, a NUMA node's complete
 *    nodeset its os_index alone; os indexes present and unique;
 *  - numbers decimal and in range; PCI bus ids, types and bridge ranges in
 *    hwloc's own format; distance matrices square, over existing nodes.
 *
 * Ownership: the libxml2 document, sets and the output stream live within
 * one call; the rewritten text is the caller's.
 */
#include "topology/hwloc-xml-check.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

/* Highest CPU and node ids a set may name (src-hwloc.c holds hwloc to the same). */
#define HX_CPU_MAX  (1 << 20)
#define HX_NODE_MAX 65535
/* Most NUMA distance matrices kept. */
#define HX_MATRICES 16

enum hx_class { HX_NORMAL, HX_MEMORY, HX_IO, HX_MISC };

#define HX_V1 1u
#define HX_V2 2u

struct hx_type {
	const char *name;  /* as documents write it */
	const char *canon; /* as we write it; NULL: decided by its attributes */
	enum hx_class cls;
	int order;	   /* normal: down the tree increasing; -1 Group-like */
	int cache_depth;   /* caches: 1..5 */
	int cache_type;	   /* caches: 0 unified (or data), 2 instruction */
	unsigned versions; /* HX_V1, HX_V2 */
};

static const struct hx_type hx_types[] = {
    {"Machine", "Machine", HX_NORMAL, 0, 0, 0, HX_V1 | HX_V2},
    {"System", "Machine", HX_NORMAL, 0, 0, 0, HX_V1},
    {"Package", "Package", HX_NORMAL, 10, 0, 0, HX_V1 | HX_V2},
    {"Socket", "Package", HX_NORMAL, 10, 0, 0, HX_V1},
    {"Die", "Die", HX_NORMAL, 20, 0, 0, HX_V2},
    {"Group", "Group", HX_NORMAL, -1, 0, 0, HX_V1 | HX_V2},
    {"L5Cache", "L5Cache", HX_NORMAL, 30, 5, 0, HX_V2},
    {"L4Cache", "L4Cache", HX_NORMAL, 31, 4, 0, HX_V2},
    {"L3Cache", "L3Cache", HX_NORMAL, 32, 3, 0, HX_V2},
    {"L3iCache", "L3iCache", HX_NORMAL, 32, 3, 2, HX_V2},
    {"L2Cache", "L2Cache", HX_NORMAL, 33, 2, 0, HX_V2},
    {"L2iCache", "L2iCache", HX_NORMAL, 33, 2, 2, HX_V2},
    {"L1Cache", "L1Cache", HX_NORMAL, 34, 1, 0, HX_V2},
    {"L1iCache", "L1iCache", HX_NORMAL, 34, 1, 2, HX_V2},
    {"Cache", NULL, HX_NORMAL, 0, 0, 0, HX_V1},
    {"Core", "Core", HX_NORMAL, 50, 0, 0, HX_V1 | HX_V2},
    {"PU", "PU", HX_NORMAL, 60, 0, 0, HX_V1 | HX_V2},
    {"NUMANode", "NUMANode", HX_MEMORY, -1, 0, 0, HX_V1 | HX_V2},
    {"Node", "NUMANode", HX_MEMORY, -1, 0, 0, HX_V1},
    {"MemCache", "MemCache", HX_MEMORY, -1, 0, 0, HX_V2},
    {"Bridge", "Bridge", HX_IO, -1, 0, 0, HX_V1 | HX_V2},
    {"PCIDev", "PCIDev", HX_IO, -1, 0, 0, HX_V1 | HX_V2},
    {"OSDev", NULL, HX_IO, -1, 0, 0, HX_V1 | HX_V2},
    {"Misc", NULL, HX_MISC, -1, 0, 0, HX_V1 | HX_V2},
};

/* The v1 "Cache" types, by depth and by instruction or not. */
static const char *const hx_caches[2][6] = {
    {NULL, "L1Cache", "L2Cache", "L3Cache", "L4Cache", "L5Cache"},
    {NULL, "L1iCache", "L2iCache", "L3iCache", NULL, NULL},
};

static const struct hx_type *hx_type_of(const char *name)
{
	for (size_t i = 0; name && i < NP__ARRAY_SIZE(hx_types); i++)
		if (strcmp(name, hx_types[i].name) == 0)
			return &hx_types[i];
	return NULL;
}

/* A cpuset or nodeset: bit I in w[I / 32]; N words. */
struct hx_set {
	uint32_t *w;
	size_t n;
};

/* What an object's children are checked against. */
struct hx_obj {
	const struct hx_type *t;
	const char *canon;
	bool sets;	    /* carries the four sets */
	struct hx_set s[4]; /* cpuset, complete_cpuset, nodeset, complete_nodeset */
	struct hx_set kids; /* union of the normal children's complete cpusets */
	int floor;	    /* the highest order on the way down to it */
	struct hx_obj *up;  /* its parent */
};

enum { CS, CCS, NS, CNS };
static const char *const hx_set_names[4] = {"cpuset", "complete_cpuset", "nodeset",
					    "complete_nodeset"};

struct hx {
	np__tb *b;
	unsigned major, minor, hwloc_major;
	FILE *out;
	bool nodesets;	     /* v1 without any nodeset: false */
	struct hx_set pus;   /* PU os indexes seen */
	struct hx_set numas; /* NUMA node os indexes seen */
	int nnumas;	     /* NUMANode objects in the document */
	int matrices;	     /* distance matrices written */
};

/* An element's attributes, values copied out of the tree. */
struct hx_attrs {
	int n;
	const char *name[32];
	char *value[32];
};

/* ---- sets ---- */

static void set_free(struct hx_set *s)
{
	free(s->w);
	s->w = NULL;
	s->n = 0;
}

static int set_grow(struct hx_set *s, size_t n)
{
	uint32_t *w;

	if (n <= s->n)
		return 0;
	if (!(w = realloc(s->w, n * sizeof(*w))))
		return -1;
	memset(w + s->n, 0, (n - s->n) * sizeof(*w));
	s->w = w;
	s->n = n;
	return 0;
}

static bool set_has(const struct hx_set *s, size_t bit)
{
	return bit / 32 < s->n && (s->w[bit / 32] >> (bit % 32) & 1);
}

static int set_add(struct hx_set *s, size_t bit)
{
	if (set_grow(s, bit / 32 + 1))
		return -1;
	s->w[bit / 32] |= UINT32_C(1) << (bit % 32);
	return 0;
}

static uint32_t word(const struct hx_set *s, size_t i)
{
	return i < s->n ? s->w[i] : 0;
}

static bool set_subset(const struct hx_set *a, const struct hx_set *b)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->w[i] & ~word(b, i))
			return false;
	return true;
}

static bool set_intersects(const struct hx_set *a, const struct hx_set *b)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->w[i] & word(b, i))
			return true;
	return false;
}

/* True when S holds BIT and nothing else. */
static bool set_is_only(const struct hx_set *s, size_t bit)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->w[i] != (i == bit / 32 ? UINT32_C(1) << (bit % 32) : 0))
			return false;
	return set_has(s, bit);
}

static int set_or(struct hx_set *acc, const struct hx_set *s)
{
	if (set_grow(acc, s->n))
		return -1;
	for (size_t i = 0; i < s->n; i++)
		acc->w[i] |= s->w[i];
	return 0;
}

/*
 * hwloc's set text: groups of 32 bits, most significant first, separated
 * by ","; a group is "0x" and 1 to 8 hex digits, or empty for zero (hwloc
 * writes "0x00000001,,,0x0"), but never the first or the last: hwloc
 * 2.9 leaves a word unset for a trailing "," ("0x0000000,").  Not the
 * infinite set ("0xf...f").  Bits above MAX are refused.
 * 0, -1 malformed, -2 beyond MAX, -3 out of memory.
 */
static int set_parse(const char *text, size_t max, struct hx_set *out)
{
	size_t groups = 1, k = 0;
	const char *p;

	for (p = text; *p; p++)
		groups += *p == ',';
	if (groups > max / 32 + 1)
		return -2;
	if (set_grow(out, groups))
		return -3;
	for (p = text; k < groups; k++) {
		uint32_t v = 0;
		int digits = 0;
		bool empty = *p == ',' || *p == '\0';

		if (empty && (k == 0 || k + 1 == groups))
			return -1;
		if (!empty && (p[0] != '0' || p[1] != 'x'))
			return -1;
		for (p += empty ? 0 : 2; !empty && isxdigit((unsigned char)*p) && digits < 8;
		     p++, digits++)
			v = v << 4 | (uint32_t)(isdigit((unsigned char)*p)
						    ? *p - '0'
						    : tolower((unsigned char)*p) - 'a' + 10);
		if ((!empty && digits == 0) || *p != (k + 1 < groups ? ',' : '\0'))
			return -1;
		out->w[groups - 1 - k] = v;
		p += *p == ',';
	}
	for (size_t bit = max + 1; bit < groups * 32; bit++)
		if (set_has(out, bit))
			return -2;
	return 0;
}

/* S in hwloc's form: "0x0", or "0x%08x" groups from the highest non-zero one. */
static void set_write(FILE *f, const char *name, const struct hx_set *s)
{
	size_t top = s->n;

	while (top > 0 && s->w[top - 1] == 0)
		top--;
	fprintf(f, " %s=\"", name);
	if (top == 0)
		fputs("0x0", f);
	for (size_t i = top; i-- > 0;)
		fprintf(f, "%s0x%08x", i + 1 < top ? "," : "", (unsigned)s->w[i]);
	fputc('"', f);
}

/* ---- small helpers ---- */

static long line_of(xmlNodePtr n)
{
	return xmlGetLineNo(n);
}

static bool is_elem(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static void attrs_free(struct hx_attrs *a)
{
	for (int i = 0; i < a->n; i++)
		xmlFree(a->value[i]);
	a->n = 0;
}

static int bad(struct hx *x, xmlNodePtr n, const char *fmt, ...) NP__PRINTF(3, 4);

/* N's attributes into A; an error (B failed) when there are too many or no memory. */
static int attrs_get(struct hx *x, xmlNodePtr n, struct hx_attrs *a)
{
	a->n = 0;
	for (xmlAttrPtr p = n->properties; p; p = p->next) {
		char *v;

		if (a->n == (int)NP__ARRAY_SIZE(a->name)) {
			attrs_free(a);
			return bad(x, n, "<%.20s> with too many attributes", (const char *)n->name);
		}
		v = (char *)xmlNodeListGetString(n->doc, p->children, 1);
		if (!v && !(v = (char *)xmlStrdup((const xmlChar *)""))) {
			attrs_free(a);
			return np__tb_fail(x->b, NP_ENOMEM, "out of memory");
		}
		a->name[a->n] = (const char *)p->name;
		a->value[a->n++] = v;
	}
	return 0;
}

static const char *attr(const struct hx_attrs *a, const char *name)
{
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->name[i], name) == 0)
			return a->value[i];
	return NULL;
}

/* A decimal number from MIN to MAX (strict: digits only, '-' for MIN < 0). */
static bool num(const char *text, long long min, unsigned long long max, long long *out)
{
	const char *p = text;
	unsigned long long v = 0;
	bool neg = min < 0 && *p == '-';

	p += neg;
	if (!text || !isdigit((unsigned char)*p) || (p[0] == '0' && p[1]))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (*p || (neg ? v > (unsigned long long)-(min + 1) + 1 : v > max))
		return false;
	*out = neg ? -(long long)(v - 1) - 1 : (long long)v;
	return true;
}

/* A fixed-point number as hwloc 1.x writes floats ("10.000000"), up to 10^9. */
static bool fixed(const char *text)
{
	size_t i = strspn(text, "0123456789"), j;

	if (i == 0 || i > 9)
		return false;
	if (text[i] == '\0')
		return true;
	j = strspn(text + i + 1, "0123456789");
	return text[i] == '.' && j > 0 && j <= 9 && text[i + 1 + j] == '\0';
}

/* TEXT as an attribute value both of hwloc's parsers read back as TEXT. */
static void xml_text(FILE *f, const char *text)
{
	static const char *const esc[][2] = {
	    {"&", "&amp;"},  {"<", "&lt;"},   {">", "&gt;"},  {"\"", "&quot;"},
	    {"\n", "&#10;"}, {"\r", "&#13;"}, {"\t", "&#9;"},
	};

	for (; *text; text++) {
		size_t i = 0;

		while (i < NP__ARRAY_SIZE(esc) && *text != esc[i][0][0])
			i++;
		if (i < NP__ARRAY_SIZE(esc))
			fputs(esc[i][1], f);
		else
			fputc(*text, f);
	}
}

static int bad(struct hx *x, xmlNodePtr n, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return np__tb_fail(x->b, NP_EINPUT, "line %ld: %s", line_of(n), msg);
}

static int nomem(struct hx *x)
{
	return np__tb_fail(x->b, NP_ENOMEM, "out of memory");
}

/* ---- object attributes ---- */

/* The four sets of O from A, checked on their own. */
static int obj_sets(struct hx *x, xmlNodePtr n, const struct hx_attrs *a, struct hx_obj *o)
{
	/* A v1 document may have no nodesets at all: hwloc then adds one node. */
	for (int i = 0; i < 4; i++)
		if (!attr(a, hx_set_names[i]) && (i < NS || x->nodesets))
			return bad(x, n, "%s object without a %s", o->t->name, hx_set_names[i]);
	if (!x->nodesets && strcmp(o->canon, "NUMANode") == 0)
		return bad(x, n, "NUMANode object in a document whose root has no nodeset");
	for (int i = 0; i < 4; i++) {
		const char *v = attr(a, hx_set_names[i]);
		size_t max = i < NS ? HX_CPU_MAX : HX_NODE_MAX;
		int rc;

		if (!v)
			continue;
		if ((rc = set_parse(v, max, &o->s[i])) == -3)
			return nomem(x);
		if (rc == -2)
			return bad(x, n, "%s goes beyond %s %zu", hx_set_names[i],
				   i < NS ? "CPU" : "node", max);
		if (rc)
			return bad(x, n, "%s \"%.40s\" is not a set as hwloc writes it",
				   hx_set_names[i], v);
	}
	if (!x->nodesets && (attr(a, "nodeset") || attr(a, "complete_nodeset")))
		return bad(x, n, "a nodeset in a document whose root has none");
	if (!set_subset(&o->s[CS], &o->s[CCS]) || !set_subset(&o->s[NS], &o->s[CNS]))
		return bad(x, n, "a set is not within its complete set");
	o->sets = true;
	return 0;
}

/* O's sets nest in its parent P's; normal siblings' complete cpusets are disjoint. */
static int obj_nest(struct hx *x, xmlNodePtr n, struct hx_obj *o, struct hx_obj *p)
{
	for (int i = 0; i < 4; i++) {
		struct hx_obj *q = p;

		/* Below a v1 NUMANode, nodesets span its sibling nodes too (KNL's MCDRAM). */
		while (i >= NS && q && q->up && strcmp(q->canon, "NUMANode") == 0)
			q = q->up;
		if (!set_subset(&o->s[i], &q->s[i]))
			return bad(x, n, "its %s is not within its parent's", hx_set_names[i]);
	}
	if (o->t->cls != HX_NORMAL && !(x->major == 1 && o->t->cls == HX_MEMORY))
		return 0;
	if (set_intersects(&o->s[CCS], &p->kids))
		return bad(x, n, "its complete_cpuset overlaps a sibling's");
	return set_or(&p->kids, &o->s[CCS]) ? nomem(x) : 0;
}

/* os_index of a PU or NUMA node: present, in range, once in the document. */
static int obj_index(struct hx *x, xmlNodePtr n, const struct hx_attrs *a, struct hx_obj *o,
		     long long *os)
{
	bool pu = strcmp(o->canon, "PU") == 0, node = strcmp(o->canon, "NUMANode") == 0;
	const char *v = attr(a, "os_index");
	long long max = pu ? HX_CPU_MAX : node ? HX_NODE_MAX : UINT_MAX;
	struct hx_set *seen = pu ? &x->pus : &x->numas;

	*os = -1;
	if (!v && (pu || node))
		return bad(x, n, "%s object without an os_index", o->canon);
	if (v && !num(v, 0, (unsigned long long)max, os))
		return bad(x, n, "os_index \"%.40s\" is not a number from 0 to %lld", v, max);
	if (!pu && !node)
		return 0;
	if (set_has(seen, (size_t)*os))
		return bad(x, n, "%s P#%lld is listed twice", o->canon, *os);
	if (set_add(seen, (size_t)*os))
		return nomem(x);
	/* Its own bit: what hwloc writes, and what it files the object under. */
	if (o->sets && !set_is_only(&o->s[pu ? CCS : CNS], (size_t)*os) && (pu || x->nodesets))
		return bad(x, n, "the %s of %s P#%lld is not {%lld}",
			   pu ? "complete_cpuset" : "complete_nodeset", o->canon, *os, *os);
	return 0;
}

/* "%04x:%02x:%02x.%01x" with hex of those widths exactly; 0 or 1 (domain > 0xffff: skip). */
static int busid(const char *v, unsigned *dom)
{
	size_t dl = strspn(v, "0123456789abcdefABCDEF");
	unsigned bus, dev, fn;
	int used = 0;

	if (dl < 4 || dl > 8 || sscanf(v + dl, ":%2x:%2x.%1x%n", &bus, &dev, &fn, &used) != 3 ||
	    v[dl + (size_t)used] || strlen(v + dl) != 8 || dev > 0x1f || fn > 7)
		return -1;
	for (size_t i = dl; v[i]; i++)
		if (!isxdigit((unsigned char)v[i]) && v[i] != ':' && v[i] != '.')
			return -1;
	*dom = (unsigned)strtoul(v, NULL, 16);
	return dl > 4 && *dom > 0xffff;
}

/* V has the shape FORM exactly: 'h' a hex digit, anything else itself. */
static bool shaped(const char *v, const char *form)
{
	if (strlen(v) != strlen(form))
		return false;
	for (size_t i = 0; form[i]; i++)
		if (form[i] == 'h' ? !isxdigit((unsigned char)v[i]) : v[i] != form[i])
			return false;
	return true;
}

/* hwloc's "%04x [%04x:%04x] [%04x:%04x] %02x" exactly. */
static bool pci_type_ok(const char *v)
{
	return shaped(v, "hhhh [hhhh:hhhh] [hhhh:hhhh] hh");
}

/* hwloc's "%04x:[%02x-%02x]" exactly. */
static bool bridge_pci_ok(const char *v)
{
	return shaped(v, "hhhh:[hh-hh]");
}

/* PCI attributes of a PCIDev or Bridge; 1: a domain hwloc cannot hold (dropped). */
static int obj_pci(struct hx *x, xmlNodePtr n, const struct hx_attrs *a, bool bridge)
{
	const char *id = attr(a, "pci_busid"), *type = attr(a, "pci_type");
	const char *up = attr(a, "bridge_type"), *range = attr(a, "bridge_pci");
	unsigned dom = 0;
	int rc = 0;

	if (!bridge && !id)
		return bad(x, n, "PCIDev object without a pci_busid");
	if (id && (rc = busid(id, &dom)) < 0)
		return bad(x, n, "pci_busid \"%.40s\" is not dddd:bb:dd.f", id);
	if (type && !pci_type_ok(type))
		return bad(x, n, "pci_type \"%.60s\" is not as hwloc writes it", type);
	if (bridge && (!up || strlen(up) != 3 || (up[0] != '0' && up[0] != '1') || up[1] != '-' ||
		       up[2] != '1'))
		return bad(x, n, "bridge_type \"%.20s\" is not 0-1 or 1-1", up ? up : "");
	if (bridge && (!range || !bridge_pci_ok(range)))
		return bad(x, n, "bridge_pci \"%.40s\" is not dddd:[bb-bb]", range ? range : "");
	return rc;
}

/* Cache, group and memory attributes that numaplace or hwloc's checks read. */
static int obj_extra(struct hx *x, xmlNodePtr n, const struct hx_attrs *a, struct hx_obj *o)
{
	static const struct {
		const char *name;
		long long min;
		unsigned long long max;
		bool cache, group, numa;
	} keys[] = {
	    {"cache_size", 0, UINT64_C(1) << 50, true, false, false},
	    {"cache_linesize", 0, 1 << 20, true, false, false},
	    {"cache_associativity", -1, INT_MAX, true, false, false},
	    {"kind", 0, UINT_MAX, false, true, false},
	    {"subkind", 0, UINT_MAX, false, true, false},
	    {"dont_merge", 0, 1, false, true, false},
	    {"local_memory", 0, UINT64_C(1) << 60, false, false, true},
	};
	bool cache = o->t->cache_depth > 0 || strcmp(o->t->name, "Cache") == 0 ||
		     strcmp(o->t->name, "MemCache") == 0;
	bool group = strcmp(o->canon, "Group") == 0, numa = strcmp(o->canon, "NUMANode") == 0;

	for (size_t i = 0; i < NP__ARRAY_SIZE(keys); i++) {
		const char *v = attr(a, keys[i].name);
		long long val;

		if (!v || !((keys[i].cache && cache) || (keys[i].group && group) ||
			    (keys[i].numa && numa)))
			continue;
		if (!num(v, keys[i].min, keys[i].max, &val))
			return bad(x, n, "%s \"%.40s\" is not a number from %lld to %llu",
				   keys[i].name, v, keys[i].min, keys[i].max);
		fprintf(x->out, " %s=\"%lld\"", keys[i].name, val);
	}
	return 0;
}

/* A v1 "Cache" becomes the type its depth and cache_type say. */
static int cache_v1(struct hx *x, xmlNodePtr n, const struct hx_attrs *a, struct hx_obj *o)
{
	const char *d = attr(a, "depth"), *t = attr(a, "cache_type");
	long long depth, type = 0;

	if (!d || !num(d, 1, 5, &depth) || (t && !num(t, 0, 2, &type)) ||
	    !hx_caches[type == 2][depth])
		return bad(x, n,
			   "Cache object without a depth 1-5 (1-3 for instruction caches) "
			   "and a cache_type 0-2");
	o->canon = hx_caches[type == 2][depth];
	o->t = hx_type_of(o->canon);
	return 0;
}

/* ---- objects ---- */

static int object(struct hx *x, xmlNodePtr n, struct hx_obj *p);

/* Where O may hang, by hwloc's rules for the document's version. */
static int obj_place(struct hx *x, xmlNodePtr n, struct hx_obj *o, struct hx_obj *p)
{
	enum hx_class c = o->t->cls, pc = p->t->cls;
	bool v1 = x->major == 1;

	if (pc == HX_IO && c != HX_IO)
		return bad(x, n, "%s object under an I/O object", o->t->name);
	if (c == HX_IO && pc == HX_MEMORY && !v1)
		return bad(x, n, "%s object under a memory object", o->t->name);
	if (c == HX_NORMAL && pc == HX_MEMORY && !v1)
		return bad(x, n, "%s object under a memory object (not in version 2)", o->t->name);
	if (c == HX_MEMORY && strcmp(p->canon, "NUMANode") == 0 && !v1)
		return bad(x, n, "%s object under a NUMANode", o->t->name);
	if ((c == HX_NORMAL || c == HX_MEMORY) && strcmp(p->canon, "PU") == 0)
		return bad(x, n, "%s object under a PU", o->t->name);
	if (c == HX_MEMORY && strcmp(o->canon, "NUMANode") == 0 && v1) {
		for (struct hx_obj *q = p; q; q = q->up)
			if (strcmp(q->canon, "NUMANode") == 0)
				return bad(x, n, "NUMANode object under a NUMANode");
	}
	o->floor = p->floor;
	if (c == HX_NORMAL && o->t->order >= 0) {
		/* A cache level's data and instruction caches nest either way
		 * (an L1i shared by two cores above each core's L1d, as AMD
		 * Bulldozer has); one type never under itself. */
		if (o->t->order < p->floor ||
		    (o->t->order == p->floor && strcmp(o->canon, p->canon) == 0))
			return bad(x, n,
				   "%s object below a lower level (hwloc's order: Package, "
				   "Die, caches L5 to L1, Core, PU)",
				   o->t->name);
		o->floor = o->t->order;
	}
	return 0;
}

/* Elements inside an object before its children objects: page types, v1 Type info. */
static int obj_leaves(struct hx *x, xmlNodePtr n, struct hx_obj *o, bool root);

static void obj_free(struct hx_obj *o)
{
	for (int i = 0; i < 4; i++)
		set_free(&o->s[i]);
	set_free(&o->kids);
}

/* The attributes of O: checked and written after its type. */
static int obj_attrs(struct hx *x, xmlNodePtr n, const struct hx_attrs *a, struct hx_obj *o,
		     struct hx_obj *p)
{
	long long os;
	int rc;

	if ((o->t->cls == HX_NORMAL || o->t->cls == HX_MEMORY) && (rc = obj_sets(x, n, a, o)))
		return rc;
	if (o->t->cls == HX_IO && (rc = obj_pci(x, n, a, strcmp(o->canon, "Bridge") == 0)))
		return rc; /* 1: a PCI domain hwloc cannot hold, dropped with what is below */
	if (p && o->sets && (rc = obj_nest(x, n, o, p)))
		return rc;
	if ((rc = obj_index(x, n, a, o, &os)))
		return rc;
	fprintf(x->out, "%*s<object type=\"%s\"", 2 * (p ? 1 : 0), "", o->canon);
	if (os >= 0)
		fprintf(x->out, " os_index=\"%lld\"", os);
	for (int i = 0; o->sets && i < 4; i++)
		if (x->nodesets || i < NS)
			set_write(x->out, hx_set_names[i], &o->s[i]);
	if (o->t->cache_depth)
		fprintf(x->out, " depth=\"%d\" cache_type=\"%d\"", o->t->cache_depth,
			o->t->cache_type);
	if (strcmp(o->canon, "MemCache") == 0) {
		const char *d = attr(a, "depth");
		long long depth;

		if (!d || !num(d, 1, 5, &depth))
			return bad(x, n, "MemCache object without a depth 1-5");
		fprintf(x->out, " depth=\"%lld\"", depth);
	}
	if (strcmp(o->canon, "NUMANode") == 0 && attr(a, "subtype")) {
		fputs(" subtype=\"", x->out);
		xml_text(x->out, attr(a, "subtype"));
		fputc('"', x->out);
	}
	if (o->t->cls == HX_IO) {
		static const char *const pci[] = {"pci_busid", "pci_type", "bridge_type",
						  "bridge_pci"};

		for (size_t i = 0; i < NP__ARRAY_SIZE(pci); i++)
			if (attr(a, pci[i])) /* checked by obj_pci() */
				fprintf(x->out, " %s=\"%s\"", pci[i], attr(a, pci[i]));
	}
	return obj_extra(x, n, a, o);
}

/* Type of N as O: known, allowed in this version; 1 when it is dropped whole. */
static int obj_type(struct hx *x, xmlNodePtr n, const struct hx_attrs *a, struct hx_obj *o,
		    struct hx_obj *p)
{
	const char *type = attr(a, "type");
	int rc;

	if (!(o->t = hx_type_of(type)))
		return bad(x, n, "object of unknown type \"%.40s\"", type ? type : "");
	if (!(o->t->versions & (x->major == 1 ? HX_V1 : HX_V2)))
		return bad(x, n, "%s object in a version %u document", o->t->name, x->major);
	o->canon = o->t->canon;
	if (strcmp(o->t->name, "Cache") == 0 && (rc = cache_v1(x, n, a, o)))
		return rc;
	/* hwloc always writes a Machine at the root.  A version 2 root
	 * NUMANode crashed hwloc 2.9.0: its core rebuilds the root's nodeset
	 * from memory children (none), removes the root as empty and then
	 * frees the NULL root (fixed in hwloc 2.9.3).  A version 1 root NUMA
	 * node never gets here: numa_root() puts it under a Machine. */
	if (!p && o->t->order != 0)
		return bad(x, n, "the root object is a %s, not a Machine", o->t->name);
	if (strcmp(o->t->name, "OSDev") == 0)
		return 1; /* numaplace reads no OS device */
	if (strcmp(o->t->name, "Misc") == 0) {
		/* hwloc 1.x turned a Misc with sets into a Group. */
		if (x->major != 1 || !attr(a, "cpuset"))
			return 1;
		o->t = hx_type_of("Group");
		o->canon = "Group";
	}
	if (p && strcmp(o->t->name, "System") == 0)
		return bad(x, n, "a System object below the root");
	if (p && o->t->order == 0) {
		o->t = hx_type_of("Group"); /* what hwloc makes of it */
		o->canon = "Group";
	}
	return p ? obj_place(x, n, o, p) : 0;
}

static int obj_children(struct hx *x, xmlNodePtr n, struct hx_obj *o)
{
	int rc = 0;

	for (xmlNodePtr c = n->children; c && !rc; c = c->next)
		if (is_elem(c, "object"))
			rc = object(x, c, o);
	return rc;
}

/* One <object>: checked, written, then its children. */
static int object(struct hx *x, xmlNodePtr n, struct hx_obj *p)
{
	struct hx_obj o = {.floor = 0, .up = p};
	struct hx_attrs a = {0};
	int rc;

	if ((rc = attrs_get(x, n, &a)))
		return rc;
	rc = obj_type(x, n, &a, &o, p);
	if (rc == 0)
		rc = obj_attrs(x, n, &a, &o, p);
	attrs_free(&a);
	if (rc == 0) {
		fputs(">\n", x->out);
		rc = obj_leaves(x, n, &o, !p);
	}
	if (rc == 0 && (rc = obj_children(x, n, &o)) == 0)
		fputs("</object>\n", x->out);
	obj_free(&o);
	return rc > 0 ? 0 : rc;
}

/* The v1 root NUMANode hwloc 1.x could write: put under a Machine, as hwloc does. */
static int numa_root(struct hx *x, xmlNodePtr n)
{
	struct hx_obj m = {.floor = 0};
	struct hx_attrs a = {0};
	int rc;

	if ((rc = attrs_get(x, n, &a)))
		return rc;
	m.t = hx_type_of("Machine");
	m.canon = "Machine";
	rc = obj_sets(x, n, &a, &m);
	attrs_free(&a);
	if (!rc) {
		fputs("<object type=\"Machine\"", x->out);
		for (int i = 0; i < 4; i++)
			if (x->nodesets || i < NS)
				set_write(x->out, hx_set_names[i], &m.s[i]);
		fputs(">\n", x->out);
		rc = object(x, n, &m);
		fputs("</object>\n", x->out);
	}
	obj_free(&m);
	return rc;
}

/* ---- what an object holds besides objects ---- */

static int page_type(struct hx *x, xmlNodePtr n)
{
	struct hx_attrs a = {0};
	long long size = 0, count = 0;
	const char *s, *c;
	int rc = 0;

	if ((rc = attrs_get(x, n, &a)))
		return rc;
	s = attr(&a, "size");
	c = attr(&a, "count");
	if (!s || !num(s, 1024, UINT64_C(1) << 40, &size) || (size & (size - 1)))
		rc = bad(x, n, "page_type size \"%.40s\" is not a power of two from 1024 to 2^40",
			 s ? s : "");
	else if (c && !num(c, 0, UINT64_C(1) << 50, &count))
		rc = bad(x, n, "page_type count \"%.40s\" is not a number up to 2^50", c);
	else
		fprintf(x->out, "<page_type size=\"%lld\" count=\"%lld\"/>\n", size, count);
	attrs_free(&a);
	return rc;
}

/* A v1 <info name="Type" value="..."/>: hwloc 1.x's subtype. */
static int info_v1(struct hx *x, xmlNodePtr n)
{
	struct hx_attrs a = {0};
	const char *name, *value;
	int rc;

	if ((rc = attrs_get(x, n, &a)))
		return rc;
	name = attr(&a, "name");
	value = attr(&a, "value");
	if (name && value && (strcmp(name, "Type") == 0 || strcmp(name, "CoProcType") == 0)) {
		fprintf(x->out, "<info name=\"%s\" value=\"", name);
		xml_text(x->out, value);
		fputs("\"/>\n", x->out);
	}
	attrs_free(&a);
	return 0;
}

/* A v1 root <distances>: square over every NUMA node, values as 1.x wrote them. */
static int distances_v1(struct hx *x, xmlNodePtr n)
{
	struct hx_attrs a = {0};
	const char *nb, *depth, *base;
	long long nbobjs = 0, reldepth = 0, k = 0;
	int rc = 0;

	if ((rc = attrs_get(x, n, &a)))
		return rc;
	nb = attr(&a, "nbobjs");
	depth = attr(&a, "relative_depth");
	base = attr(&a, "latency_base");
	if (!nb || !num(nb, 1, NP_NODES_MAX, &nbobjs) || !depth ||
	    !num(depth, 1, 1024, &reldepth) || !base || !fixed(base))
		rc = bad(x, n, "distances without nbobjs 1-%d, relative_depth and latency_base",
			 NP_NODES_MAX);
	for (xmlNodePtr c = n->children; !rc && c; c = c->next) {
		xmlChar *v;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		v = is_elem(c, "latency") ? xmlGetProp(c, (const xmlChar *)"value") : NULL;
		if (!v || !fixed((const char *)v) || ++k > nbobjs * nbobjs)
			rc = bad(x, c,
				 "a distances child that is not a <latency value=\"N.N\"/> "
				 "of nbobjs^2");
		xmlFree(v);
	}
	if (!rc && k != nbobjs * nbobjs)
		rc = bad(x, n, "distances with %lld latencies, not nbobjs^2 = %lld", k,
			 nbobjs * nbobjs);
	/* hwloc keeps only a matrix over all NUMA nodes; any other is dropped here. */
	if (!rc && nbobjs == x->nnumas && nbobjs > 1 && x->matrices++ < HX_MATRICES) {
		fprintf(x->out,
			"<distances nbobjs=\"%lld\" relative_depth=\"%lld\" "
			"latency_base=\"%s\">\n",
			nbobjs, reldepth, base);
		for (xmlNodePtr c = n->children; c; c = c->next) {
			xmlChar *v =
			    is_elem(c, "latency") ? xmlGetProp(c, (const xmlChar *)"value") : NULL;

			if (v)
				fprintf(x->out, "<latency value=\"%s\"/>\n", (const char *)v);
			xmlFree(v);
		}
		fputs("</distances>\n", x->out);
	}
	attrs_free(&a);
	return rc;
}

static int obj_leaves(struct hx *x, xmlNodePtr n, struct hx_obj *o, bool root)
{
	int rc = 0;

	for (xmlNodePtr c = n->children; c && !rc; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || is_elem(c, "object"))
			continue;
		if (is_elem(c, "page_type")) {
			if (strcmp(o->canon, "NUMANode") == 0)
				rc = page_type(x, c);
		} else if (is_elem(c, "info")) {
			if (x->major == 1)
				rc = info_v1(x, c);
		} else if (is_elem(c, "distances") && x->major == 1) {
			if (root)
				rc = distances_v1(x, c);
		} else if (!is_elem(c, "userdata")) {
			rc = bad(x, c, "<%.40s> inside an object", (const char *)c->name);
		}
	}
	return rc;
}

/* ---- version 2 distances ---- */

/* Whitespace-separated decimal numbers of the <TAG> children of N into V (up to MAX). */
static int numbers(struct hx *x, xmlNodePtr n, const char *tag, uint64_t *v, size_t max,
		   size_t *count)
{
	*count = 0;
	for (xmlNodePtr c = n->children; c; c = c->next) {
		xmlChar *text;
		const char *p;
		int rc = 0;

		if (!is_elem(c, tag))
			continue;
		text = xmlNodeGetContent(c);
		for (p = text ? (const char *)text : ""; !rc;) {
			long long val;
			char word[24];
			size_t len;

			p += strspn(p, " \t\r\n");
			if (!*p)
				break;
			len = strcspn(p, " \t\r\n");
			if (len >= sizeof(word) || *count == max)
				rc = -1;
			else {
				memcpy(word, p, len);
				word[len] = '\0';
				rc = num(word, 0, UINT32_MAX, &val) ? 0 : -1;
			}
			if (!rc)
				v[(*count)++] = (uint64_t)val;
			p += len;
		}
		xmlFree(text);
		if (rc)
			return bad(x, c,
				   "<%s> holds something else than up to %zu numbers "
				   "below 2^32",
				   tag, max);
	}
	return 0;
}

static void write_numbers(FILE *f, const char *tag, const uint64_t *v, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m) {
		fputs("\x01", f); /* makes the document fail in hwloc, never half-read */
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(m, "%s%llu", i ? " " : "", (unsigned long long)v[i]);
	if (fclose(m) == 0)
		fprintf(f, "<%s length=\"%zu\">%s</%s>\n", tag, len, text, tag);
	free(text);
}

/* A <distances2> between NUMA nodes, by os index; any other is dropped. */
static int distances2(struct hx *x, xmlNodePtr n)
{
	struct hx_attrs a = {0};
	const char *type, *nb, *kind, *idx, *name;
	long long nbobjs = 0, k = 0;
	uint64_t *ids = NULL, *vals = NULL;
	size_t nids = 0, nvals = 0;
	int rc = 0;

	if ((rc = attrs_get(x, n, &a)))
		return rc;
	type = attr(&a, "type");
	nb = attr(&a, "nbobjs");
	kind = attr(&a, "kind");
	idx = attr(&a, "indexing");
	name = attr(&a, "name");
	if (!type || strcmp(type, "NUMANode") || !idx || strcmp(idx, "os") ||
	    x->matrices >= HX_MATRICES)
		goto out;
	if (!nb || !num(nb, 1, (unsigned long long)x->nnumas, &nbobjs) || !kind ||
	    !num(kind, 1, 255, &k)) {
		rc = bad(x, n, "distances2 without nbobjs 1-%d (its NUMA nodes) and kind 1-255",
			 x->nnumas);
		goto out;
	}
	ids = np__calloc((size_t)nbobjs, sizeof(*ids));
	vals = np__calloc((size_t)(nbobjs * nbobjs), sizeof(*vals));
	if (!ids || !vals) {
		rc = nomem(x);
		goto out;
	}
	if ((rc = numbers(x, n, "indexes", ids, (size_t)nbobjs, &nids)) ||
	    (rc = numbers(x, n, "u64values", vals, (size_t)(nbobjs * nbobjs), &nvals)))
		goto out;
	if (nids != (size_t)nbobjs || nvals != (size_t)(nbobjs * nbobjs)) {
		rc = bad(x, n, "distances2 with %zu indexes and %zu values, not %lld and %lld",
			 nids, nvals, nbobjs, nbobjs * nbobjs);
		goto out;
	}
	for (size_t i = 0; i < nids; i++)
		for (size_t j = 0; j <= i; j++)
			if (!set_has(&x->numas, ids[i]) || (j < i && ids[j] == ids[i])) {
				rc = bad(x, n, "distances2 index %llu is not a NUMA node, or twice",
					 (unsigned long long)ids[i]);
				goto out;
			}
	x->matrices++;
	fprintf(x->out,
		"<distances2 type=\"NUMANode\" nbobjs=\"%lld\" indexing=\"os\" "
		"kind=\"%lld\"",
		nbobjs, k);
	if (name) {
		fputs(" name=\"", x->out);
		xml_text(x->out, name);
		fputc('"', x->out);
	}
	fputs(">\n", x->out);
	write_numbers(x->out, "indexes", ids, nids);
	write_numbers(x->out, "u64values", vals, nvals);
	fputs("</distances2>\n", x->out);
out:
	free(ids);
	free(vals);
	attrs_free(&a);
	return rc;
}

/* ---- the document ---- */

/* NUMANode objects anywhere below N, for the v1 matrix rule. */
static int count_numas(xmlNodePtr n)
{
	int k = 0;

	for (; n; n = n->next) {
		if (!is_elem(n, "object"))
			continue;
		xmlChar *t = xmlGetProp(n, (const xmlChar *)"type");

		k += t && (strcmp((const char *)t, "NUMANode") == 0 ||
			   strcmp((const char *)t, "Node") == 0);
		xmlFree(t);
		k += count_numas(n->children);
	}
	return k;
}

/* The version from <topology version="M.m">; refuses those libhwloc cannot read. */
static int version(struct hx *x, xmlNodePtr top)
{
	xmlChar *v = xmlGetProp(top, (const xmlChar *)"version");
	unsigned major = 1, minor = 0;
	char end;
	int rc = 0;

	if (strcmp((const char *)top->name, "root") == 0)
		rc = np__tb_fail(x->b, NP_EINPUT,
				 "hwloc XML 0.9 (<root>) is too old: export it "
				 "again with lstopo");
	else if (strcmp((const char *)top->name, "topology") != 0)
		rc = np__tb_fail(x->b, NP_EINPUT, "root element is <%.40s>, not hwloc's <topology>",
				 (const char *)top->name);
	else if (v && (sscanf((const char *)v, "%3u.%3u%c", &major, &minor, &end) != 2 ||
		       !isdigit(v[0])))
		rc = np__tb_fail(x->b, NP_EINPUT, "version \"%.20s\" is not hwloc's M.m",
				 (const char *)v);
	else if (major < 1 || (major > 2 && x->hwloc_major < 3))
		rc = np__tb_fail(x->b, NP_EUNSUPPORTED,
				 "hwloc XML version %u.%u: this libhwloc (%u.x) reads versions 1 "
				 "and 2 only",
				 major, minor, x->hwloc_major);
	else if (major > 2)
		rc = np__tb_fail(x->b, NP_EUNSUPPORTED,
				 "hwloc XML version %u.%u: numaplace reads versions 1 and 2 only",
				 major, minor);
	else if (major == 1 && x->hwloc_major >= 3)
		rc = np__tb_fail(x->b, NP_EUNSUPPORTED,
				 "hwloc XML version 1: this libhwloc (%u.x) reads versions 2 and "
				 "later only",
				 x->hwloc_major);
	xmlFree(v);
	x->major = major;
	x->minor = minor;
	return rc;
}

/* Everything under <topology>: the root object first, then v2 distances. */
static int topology(struct hx *x, xmlNodePtr top)
{
	xmlNodePtr c = top->children, root = NULL;
	int rc = 0;

	while (c && c->type != XML_ELEMENT_NODE)
		c = c->next;
	if (!c || !is_elem(c, "object"))
		return np__tb_fail(x->b, NP_EINPUT, "<topology> does not start with an <object>");
	root = c;
	x->nnumas = count_numas(root);
	if (x->major == 1) {
		xmlChar *ns = xmlGetProp(root, (const xmlChar *)"nodeset");

		x->nodesets = ns != NULL;
		xmlFree(ns);
	}
	if (x->major == 1)
		fputs("<topology>\n", x->out);
	else
		fprintf(x->out, "<topology version=\"%u.%u\">\n", x->major, x->minor);
	{
		xmlChar *t = xmlGetProp(root, (const xmlChar *)"type");
		const struct hx_type *rt = hx_type_of((const char *)t);
		/* "Node" is version 1's other name for it. */
		bool numa = rt && rt->canon && x->major == 1 && strcmp(rt->canon, "NUMANode") == 0;

		xmlFree(t);
		rc = numa ? numa_root(x, root) : object(x, root, NULL);
	}
	for (c = root->next; c && !rc; c = c->next)
		if (x->major >= 2 && is_elem(c, "distances2"))
			rc = distances2(x, c);
	fputs("</topology>\n", x->out);
	return rc;
}

/* One line from a libxml2 error: "line N: what" in lower case. */
static int xml_fail(np__tb *b, const xmlError *e)
{
	char msg[160];
	size_t n;

	if (!e || !e->message)
		return np__tb_fail(b, NP_EINPUT, "not well-formed XML");
	snprintf(msg, sizeof(msg), "%s", e->message);
	for (n = 0; msg[n]; n++)
		if (msg[n] == '\n' || msg[n] == '\r')
			msg[n] = ' ';
	while (n > 0 && msg[n - 1] == ' ')
		msg[--n] = '\0';
	if (!isupper((unsigned char)msg[1])) /* "Opening and ending tag", not "PCDATA" */
		msg[0] = (char)tolower((unsigned char)msg[0]);
	return np__tb_fail(b, NP_EINPUT, "line %d: %s", e->line, msg);
}

/* The parsed document, or NULL with B failed; nothing printed, nothing fetched. */
static xmlDocPtr parse(np__tb *b, const char *buf, size_t len)
{
	xmlParserCtxtPtr ctx = xmlNewParserCtxt();
	xmlDocPtr doc;

	if (!ctx) {
		np__tb_fail(b, NP_ENOMEM, "out of memory");
		return NULL;
	}
	/* UTF-8, as hwloc writes: a declared other encoding would go through
	 * libxml2's converters, which print their errors themselves. */
	doc = xmlCtxtReadMemory(ctx, buf, (int)len, NULL, "UTF-8",
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		xml_fail(b, xmlCtxtGetLastError(ctx));
	else if (doc->intSubset && doc->intSubset->children) {
		/* Entities and the like: hwloc writes none, and they only expand. */
		np__tb_fail(b, NP_EINPUT, "a document type with declarations inside");
		xmlFreeDoc(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctx);
	return doc;
}

int np__hwloc_xml_rewrite(np__tb *b, const char *buf, size_t len, unsigned hwloc_major, char **out,
			  size_t *out_len)
{
	struct hx x = {.b = b, .hwloc_major = hwloc_major, .nodesets = true};
	xmlDocPtr doc = parse(b, buf, len);
	xmlNodePtr top = doc ? xmlDocGetRootElement(doc) : NULL;
	char *text = NULL;
	size_t n = 0;
	int rc;

	if (!doc)
		return np__tb_fail(b, NP_EINPUT, "%s", "");
	if (!top)
		rc = np__tb_fail(b, NP_EINPUT, "no root element");
	else if (!(x.out = open_memstream(&text, &n)))
		rc = nomem(&x);
	else if (!(rc = version(&x, top))) {
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", x.out);
		rc = topology(&x, top);
	}
	if (x.out && (ferror(x.out) | fclose(x.out)) && !rc)
		rc = nomem(&x);
	set_free(&x.pus);
	set_free(&x.numas);
	xmlFreeDoc(doc);
	if (rc) {
		free(text);
		return np__tb_fail(b, rc, "%s", "");
	}
	*out = text;
	*out_len = n;
	return 0;
}
