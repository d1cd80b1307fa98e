/*
 * src-xl.c - the text printed by `xl info -n` on a Xen host (source kind xl).
 *
 * What xl prints (tools/xl/xl_info.c): "name : value" lines with the name
 * padded to column 23, then three sections, each a header line, a column
 * line and rows, then more "name : value" lines (xen_*, cc_*, ...):
 *   cpu_topology           :            rows "%3d:    %4d     %4d     %4d"
 *   cpu:    core    socket     node       (cpu, core, socket, node)
 *   device topology        :            rows "%04x:%02x:%02x.%01x      %d"
 *   device           node                 or "No device topology data available"
 *   numa_info              :            rows "%4d:    %6lu     %6lu      %d,%d,..."
 *   node:    memsize    memfree    distances
 *
 * Design: one pass over the lines keeps every row with its line number;
 * only at the end, when all nodes are known, are the rows checked against
 * each other (a CPU on a node numa_info lacks, a distance row of the wrong
 * length, an id listed twice) and fed to the builder, so that every message
 * says "line N".  "name : value" lines are skipped whatever their name;
 * inside a section every line up to the next "name : value" line is a row,
 * and a malformed row is an error.  xl ends every line with a newline, so
 * a last row without one is taken for a cut file: "10,2" may have been
 * "10,20".
 *
 * What the numbers mean:
 *  - xl skips offline CPUs (Xen reports core ~0 for them): CPU ids may have
 *    gaps, and every listed CPU is online.  core and socket are kept as
 *    printed; -1 (Xen's ~0 through %d) is "unknown".
 *  - xl skips nodes whose memsize Xen reports invalid (offline nodes), so
 *    node ids may have gaps too.  Yet every distance row has one entry per
 *    node id from 0 to the highest online id: Xen's numainfo sysctl returns
 *    last_online_node + 1 entries per row, indexed by node id, ~0 for an
 *    offline node, and libxl passes them on (num_dists).  So column j is
 *    node j; every row must have highest listed id + 1 entries; columns of
 *    ids numa_info does not list are ignored.  (The nr_nodes line counts
 *    online nodes, so it is not the row length when ids have gaps.)
 *  - -1 in a distance row is ~0, unreachable: NP_DISTANCE_UNREACHABLE.
 *  - memsize and memfree are MiB (bytes >> 20).  memsize is the node's
 *    spanned pages, so it includes MMIO holes (2 GiB too much on node 0 of
 *    a known host) - a known quirk.  It is kept as the node's total anyway,
 *    being the only total xl prints; memfree is the number to trust.
 *  - devices come with a PCI address and a node only: vendor, device and
 *    class are 0 (unknown).  Xen reports no huge page pools.
 *
 * Ownership: struct xl and its arrays live for one parse() call.
 */
#include "topo-int.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* Node ids index the distance rows: this bounds a row and node_line[]. */
#define XL_MAX_NODES NP_NODES_MAX
#define XL_MAX_CPU   ((1L << 22) - 1)

static const struct {
	const char *name;    /* the header: "name :" */
	const char *columns; /* the line after it, blanks collapsed */
} sections[] = {
    {"cpu_topology", "cpu: core socket node"},
    {"device topology", "device node"},
    {"numa_info", "node: memsize memfree distances"},
};

enum { SEC_NONE = -1, SEC_CPU, SEC_DEV, SEC_NUMA };

struct xl_cpu {
	int id, core, socket, node, line;
};
struct xl_dev {
	char addr[16];
	int node, line;
};
struct xl_node {
	int id, line;
	uint64_t size_mib, free_mib;
	size_t dist_at, ndist;
};

struct xl {
	np__tb *b;
	int line;		    /* of the line being read, from 1 */
	int row_line;		    /* of the last row read */
	int sec;		    /* SEC_*: the section being read */
	bool want_columns;	    /* its column line is next */
	int sec_line[SEC_NUMA + 1]; /* line of each section's header; 0: not seen */
	char q[40];		    /* quote() output */
	struct xl_cpu *cpus;
	size_t ncpus, capcpus;
	struct xl_dev *devs;
	size_t ndevs, capdevs;
	struct xl_node *nodes; /* in line order */
	size_t nnodes, capnodes;
	uint32_t *dist; /* every distance row, back to back */
	size_t ndist, capdist;
	int max_node;
	int node_line[XL_MAX_NODES]; /* line of node id's row; 0: not listed */
};

static int xl_fail(struct xl *x, int line, const char *fmt, ...) NP__PRINTF(3, 4);

static int xl_fail(struct xl *x, int line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return np__tb_fail(x->b, NP_EINPUT, "line %d: %s", line, msg);
}

/* xl_fail at the line being read, for `return bad(...)` in a bool function. */
static bool bad(struct xl *x, const char *fmt, ...) NP__PRINTF(2, 3);

static bool bad(struct xl *x, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xl_fail(x, x->line, "%s", msg);
	return false;
}

static int nomem(struct xl *x)
{
	return np__tb_fail(x->b, NP_ENOMEM, "out of memory");
}

/* S cut to 32 bytes, all but printable ASCII made "?", for a one-line message. */
static const char *quote(struct xl *x, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < 32; i++)
		x->q[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	x->q[i] = '\0';
	if (s[i])
		memcpy(x->q + 32, "...", 4);
	return x->q;
}

/* "name : value" (or "name :"): a name of letters, digits, '_' and blanks. */
static bool is_key_line(const char *s)
{
	size_t n;

	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ \t");
	return s[n] == ':' && (s[n + 1] == ' ' || s[n + 1] == '\t' || s[n + 1] == '\0');
}

/* Split S in place at blanks into at most MAX fields; MAX + 1 when more. */
static int split(char *s, char **f, int max)
{
	char *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		f[n++] = t;
	}
	return n;
}

static bool field_long(struct xl *x, const char *what, const char *s, long min, long max, long *out)
{
	long v;

	if (!np__parse_int(s, LONG_MIN, LONG_MAX, &v))
		return bad(x, "%s '%s' is not a number", what, quote(x, s));
	if (v < min || v > max)
		return bad(x, "%s %ld is out of range (%ld..%ld)", what, v, min, max);
	*out = v;
	return true;
}

/* The first field of a row, "N:". */
static bool id_field(struct xl *x, const char *what, char *s, long max, long *out)
{
	size_t n = strlen(s);

	if (n < 2 || s[n - 1] != ':')
		return bad(x, "expected '%s:' first, found '%s'", what, quote(x, s));
	s[n - 1] = '\0';
	return field_long(x, what, s, 0, max, out);
}

/* A number of MiB that still fits in kB. */
static bool field_mib(struct xl *x, const char *what, const char *s, uint64_t *out)
{
	if (s[0] == '-')
		return bad(x, "%s %s is negative", what, quote(x, s));
	if (!np__parse_u64(s, out))
		return bad(x, "%s '%s' is not a number below 2^64", what, quote(x, s));
	if (*out > UINT64_MAX / 1024)
		return bad(x, "%s %s MiB is too large", what, quote(x, s));
	return true;
}

static int cpu_row(struct xl *x, char *s)
{
	long id, core, socket, node;
	char *f[4];

	if (split(s, f, 4) != 4)
		return xl_fail(x, x->line, "expected 'cpu: core socket node'");
	if (!id_field(x, "cpu", f[0], XL_MAX_CPU, &id) ||
	    !field_long(x, "core", f[1], -1, INT_MAX, &core) ||
	    !field_long(x, "socket", f[2], -1, INT_MAX, &socket) ||
	    !field_long(x, "node", f[3], -1, XL_MAX_NODES - 1, &node))
		return NP_EINPUT;
	if (np__grow((void **)&x->cpus, &x->capcpus, x->ncpus + 1, sizeof(*x->cpus)) < 0)
		return nomem(x);
	x->cpus[x->ncpus++] = (struct xl_cpu){(int)id, (int)core, (int)socket, (int)node, x->line};
	return 0;
}

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

/* "ssss:bb:dd.f" exactly as xl prints it, lower-cased into OUT. */
static bool pci_field(struct xl *x, const char *s, char out[16])
{
	static const char shape[] = "hhhh:hh:hh.h";
	bool ok = strlen(s) == sizeof(shape) - 1;
	size_t i;

	for (i = 0; ok && shape[i]; i++)
		ok = shape[i] == 'h' ? isxdigit((unsigned char)s[i]) : s[i] == shape[i];
	if (!ok || hexval(s[8]) * 16 + hexval(s[9]) > 0x1f || hexval(s[11]) > 7)
		return bad(x, "'%s' is not a PCI address (seg:bus:dev.fn)", quote(x, s));
	for (i = 0; s[i]; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
	return true;
}

static int dev_row(struct xl *x, char *s)
{
	struct xl_dev d = {.line = x->line};
	long node;
	char *f[2];

	if (strcmp(s + strspn(s, " \t"), "No device topology data available") == 0)
		return 0;
	if (split(s, f, 2) != 2)
		return xl_fail(x, x->line, "expected 'seg:bus:dev.fn node'");
	if (!pci_field(x, f[0], d.addr) ||
	    !field_long(x, "node", f[1], -1, XL_MAX_NODES - 1, &node))
		return NP_EINPUT;
	d.node = (int)node;
	if (np__grow((void **)&x->devs, &x->capdevs, x->ndevs + 1, sizeof(*x->devs)) < 0)
		return nomem(x);
	x->devs[x->ndevs++] = d;
	return 0;
}

/* Append the comma-separated distance row S. */
static int distances(struct xl *x, char *s, size_t at)
{
	for (;;) {
		char *comma = strchr(s, ',');
		long v;

		if (comma)
			*comma = '\0';
		if (x->ndist - at >= XL_MAX_NODES)
			return xl_fail(x, x->line, "more than %d distances", XL_MAX_NODES);
		if (!field_long(x, "distance", s, -1, INT_MAX, &v))
			return NP_EINPUT;
		if (np__grow((void **)&x->dist, &x->capdist, x->ndist + 1, sizeof(*x->dist)) < 0)
			return nomem(x);
		x->dist[x->ndist++] = v < 0 ? NP_DISTANCE_UNREACHABLE : (uint32_t)v;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

static int numa_row(struct xl *x, char *s)
{
	uint64_t size, mfree;
	size_t at = x->ndist;
	char *f[4];
	long id;

	if (split(s, f, 4) != 4)
		return xl_fail(x, x->line, "expected 'node: memsize memfree distances'");
	if (!id_field(x, "node", f[0], XL_MAX_NODES - 1, &id) ||
	    !field_mib(x, "memsize", f[1], &size) || !field_mib(x, "memfree", f[2], &mfree))
		return NP_EINPUT;
	if (x->node_line[id])
		return xl_fail(x, x->line, "node %ld is listed twice (first on line %d)", id,
			       x->node_line[id]);
	if (mfree > size)
		return xl_fail(x, x->line,
			       "node %ld: memfree %llu MiB is more than memsize %llu MiB", id,
			       (unsigned long long)mfree, (unsigned long long)size);
	if (distances(x, f[3], at))
		return NP_EINPUT;
	if (np__grow((void **)&x->nodes, &x->capnodes, x->nnodes + 1, sizeof(*x->nodes)) < 0)
		return nomem(x);
	x->nodes[x->nnodes++] = (struct xl_node){(int)id, x->line, size, mfree, at, x->ndist - at};
	x->node_line[id] = x->line;
	if (id > x->max_node)
		x->max_node = (int)id;
	return 0;
}

/* The line right after a section header names its columns. */
static int columns(struct xl *x, const char *s)
{
	const char *want = sections[x->sec].columns;
	char got[64];
	size_t n = 0;

	for (; *s && n < sizeof(got) - 1; s++)
		if (!isspace((unsigned char)*s))
			got[n++] = *s;
		else if (n > 0 && got[n - 1] != ' ')
			got[n++] = ' ';
	while (n > 0 && got[n - 1] == ' ')
		n--;
	got[n] = '\0';
	if (*s || strcmp(got, want) != 0)
		return xl_fail(x, x->line, "expected the column line '%s' after '%s :'", want,
			       sections[x->sec].name);
	x->want_columns = false;
	return 0;
}

static int key_line(struct xl *x, const char *s)
{
	size_t n;

	if (!is_key_line(s))
		return xl_fail(x, x->line, "expected 'name : value' or a section, found '%s'",
			       quote(x, s));
	n = strcspn(s, ":");
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	for (int i = 0; i < (int)NP__ARRAY_SIZE(sections); i++) {
		if (strlen(sections[i].name) != n || memcmp(s, sections[i].name, n) != 0)
			continue;
		if (x->sec_line[i])
			return xl_fail(x, x->line, "a second %s section (the first is on line %d)",
				       sections[i].name, x->sec_line[i]);
		x->sec_line[i] = x->line;
		x->sec = i;
		x->want_columns = true;
	}
	return 0;
}

static int one_line(struct xl *x, char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	if (n == 0)
		return 0;
	if (x->sec != SEC_NONE && x->want_columns)
		return columns(x, s);
	if (x->sec != SEC_NONE && !is_key_line(s)) {
		x->row_line = x->line;
		return x->sec == SEC_CPU   ? cpu_row(x, s)
		       : x->sec == SEC_DEV ? dev_row(x, s)
					   : numa_row(x, s);
	}
	x->sec = SEC_NONE;
	return key_line(x, s);
}

/* Every row has one distance per node id 0..max_node; none to itself is unreachable. */
static int check_nodes(struct xl *x)
{
	size_t want = (size_t)x->max_node + 1;

	if (x->want_columns)
		return xl_fail(x, x->sec_line[x->sec], "input ends before the %s column line",
			       sections[x->sec].name);
	if (!x->sec_line[SEC_NUMA])
		return np__tb_fail(x->b, NP_EINPUT,
				   "no numa_info section: not the output of 'xl info -n'");
	if (x->nnodes == 0)
		return xl_fail(x, x->sec_line[SEC_NUMA], "numa_info lists no node");
	for (size_t i = 0; i < x->nnodes; i++) {
		const struct xl_node *n = &x->nodes[i];
		uint32_t self;

		if (n->ndist != want)
			return xl_fail(
			    x, n->line,
			    "node %d has %zu distances, expected %zu (one per node id 0..%d)",
			    n->id, n->ndist, want, x->max_node);
		self = x->dist[n->dist_at + (size_t)n->id];
		if (self == 0 || self == NP_DISTANCE_UNREACHABLE)
			return xl_fail(x, n->line, "node %d: distance to itself is %d", n->id,
				       self == 0 ? 0 : -1);
	}
	return 0;
}

static int cmp_cpu(const void *a, const void *b)
{
	const struct xl_cpu *p = a, *q = b;

	if (p->id != q->id)
		return (p->id > q->id) - (p->id < q->id);
	return (p->line > q->line) - (p->line < q->line);
}

static int cmp_dev(const void *a, const void *b)
{
	const struct xl_dev *p = a, *q = b;
	int c = strcmp(p->addr, q->addr);

	return c ? c : (p->line > q->line) - (p->line < q->line);
}

static int check_cpus_devs(struct xl *x)
{
	if (x->ncpus) /* qsort must not see NULL */
		qsort(x->cpus, x->ncpus, sizeof(*x->cpus), cmp_cpu);
	for (size_t i = 0; i < x->ncpus; i++) {
		const struct xl_cpu *c = &x->cpus[i];

		if (i > 0 && c->id == x->cpus[i - 1].id)
			return xl_fail(x, c->line, "CPU %d is listed twice (first on line %d)",
				       c->id, x->cpus[i - 1].line);
		if (c->node >= 0 && !x->node_line[c->node])
			return xl_fail(x, c->line,
				       "CPU %d is on node %d, which numa_info does not list", c->id,
				       c->node);
	}
	if (x->ndevs)
		qsort(x->devs, x->ndevs, sizeof(*x->devs), cmp_dev);
	for (size_t i = 0; i < x->ndevs; i++) {
		const struct xl_dev *d = &x->devs[i];

		if (i > 0 && strcmp(d->addr, x->devs[i - 1].addr) == 0)
			return xl_fail(x, d->line, "device %s is listed twice (first on line %d)",
				       d->addr, x->devs[i - 1].line);
		if (d->node >= 0 && !x->node_line[d->node])
			return xl_fail(x, d->line,
				       "device %s is on node %d, which numa_info does not list",
				       d->addr, d->node);
	}
	return 0;
}

static void feed(struct xl *x)
{
	for (size_t i = 0; i < x->nnodes; i++) {
		const struct xl_node *n = &x->nodes[i];

		np__tb_node(x->b, n->id, n->size_mib * 1024);
		np__tb_node_free(x->b, n->id, n->free_mib * 1024);
		for (size_t j = 0; j < x->nnodes; j++)
			np__tb_distance(x->b, n->id, x->nodes[j].id,
					x->dist[n->dist_at + (size_t)x->nodes[j].id]);
	}
	for (size_t i = 0; i < x->ncpus; i++)
		np__tb_cpu(x->b, x->cpus[i].id, x->cpus[i].node, x->cpus[i].core, x->cpus[i].socket,
			   true);
	for (size_t i = 0; i < x->ndevs; i++)
		np__tb_device(x->b, x->devs[i].addr, 0, 0, 0, x->devs[i].node);
}

static int parse(np__tb *b, const char *buf, size_t len)
{
	struct xl *x = calloc(1, sizeof(*x));
	char *text = malloc(len + 1), *s, *next;
	int rc = 0;

	if (!x || !text) {
		rc = np__tb_fail(b, NP_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(text, buf, len);
	text[len] = '\0';
	x->b = b;
	x->sec = SEC_NONE;
	for (s = text; s && rc == 0; s = next) {
		if ((next = strchr(s, '\n')))
			*next++ = '\0';
		x->line++;
		rc = one_line(x, s);
	}
	/* xl ends every row with a newline; without it "10,2" may be "10,20" cut short. */
	if (rc == 0 && len > 0 && buf[len - 1] != '\n' && x->row_line == x->line)
		rc = xl_fail(x, x->line, "the input ends inside this row (no newline after it)");
	if (rc == 0 && !(rc = check_nodes(x)) && !(rc = check_cpus_devs(x)))
		feed(x);
out:
	if (x) {
		free(x->cpus);
		free(x->devs);
		free(x->nodes);
		free(x->dist);
	}
	free(x);
	free(text);
	return rc;
}

const struct np__source np__source_xl_info = {NP_SOURCE_XL_INFO, NULL, parse};
