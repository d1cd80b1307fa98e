/*
 * topo-svg.c - draw a host as people draw it on a whiteboard: one box per
 * NUMA node with its CPUs, memory, huge pages and PCI devices, then the
 * distance matrix as a heat map and the nodes as a graph whose links show
 * how close they are: every link, labelled, up to 8 nodes; past that only
 * the closest distances (as many levels as keep it to about 4 links a
 * node), unlabelled, with a key; past 128 nodes a note says why there is
 * no graph.
 *
 * Design: every piece is laid out by one function that both measures and
 * draws (nothing is printed while struct svg.out is NULL), so a box's size
 * and its contents can never disagree: the grid measures each node first,
 * sizes its rows, then draws.  Coordinates are integers, so the output is
 * deterministic.  A node box is as wide as every other (the grid stays
 * readable from 1 to 64+ nodes) and grows in height with its memory (the
 * memory gauge at its bottom).  The only text from outside is the source
 * name; it is escaped, and bytes outside printable ASCII become '?', so the
 * document is always well-formed UTF-8 XML.  Only the public accessors of
 * np_topo are used.
 *
 * With a host (np_host_write_svg()), the drawing shows what its claims
 * took: pinned CPUs in another colour, the memory gauge and the huge page
 * lines as claimed and free, a line per node with pinned CPUs and
 * floating vCPUs.  A key under the nodes says what each colour means.
 *
 * Node groups are <g class="node" id="node-N"> and matrix cells
 * <rect class="cell"> with a <title> "node A to node B: D", which tests
 * and scripts can count and read.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/emit.h>

#include "emit/emit-int.h"
#include "util/util.h"

#define MARGIN     20
#define GAP        24  /* between node boxes */
#define PAD        8   /* inside a node box */
#define MAX_TAGS   12  /* device tags drawn per node before "+N more" */
#define GRAPH_MAX  8   /* nodes up to which every link is drawn, labelled */
#define WIDE_MAX   128 /* nodes up to which the closest links are drawn */
#define WIDE_LINKS 6   /* links per node the wide graph may draw, on average */
#define WIDE_LEVELS 8  /* distances the wide graph may draw */
#define MATRIX_MAX 256 /* nodes up to which the distance matrix is drawn */
#define CHAR_W(px) ((px) * 6 / 10) /* average glyph width of sans-serif */

struct svg {
	FILE *out; /* NULL while measuring */
	const np_topo *t;
	const np_host *h; /* the usage to draw, or NULL */
	const char *claims; /* with h: where its claims come from, or NULL */
	int cpu;          /* side of a CPU square */
	bool numbers;     /* CPU ids inside the squares */
	int box_w;        /* width of every node box */
	uint64_t max_mem; /* of the largest node, for the gauges */
	uint32_t dlo, dhi; /* reachable distances, for the matrix colours */
	uint32_t llo, lhi; /* reachable distances between two nodes, for links */
};

/* A CPU in drawing order: socket, node, core, id. */

static void put(struct svg *s, const char *fmt, ...) NP__PRINTF(2, 3);

static void put(struct svg *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->out)
		return;
	va_start(ap, fmt);
	vfprintf(s->out, fmt, ap);
	va_end(ap);
}

/* TEXT as XML character data, at most MAX bytes of it. */
static void put_escaped(struct svg *s, const char *text, size_t max)
{
	size_t i;

	for (i = 0; text[i] && i < max; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '&')
			put(s, "&amp;");
		else if (c == '<')
			put(s, "&lt;");
		else if (c == '>')
			put(s, "&gt;");
		else if (c == '"')
			put(s, "&quot;");
		else
			put(s, "%c", c >= 0x20 && c < 0x7f ? c : '?');
	}
	if (text[i])
		put(s, "...");
}

static void fmt_mem(uint64_t kb, char *buf, size_t size)
{
	if (kb >= (UINT64_C(1) << 30))
		snprintf(buf, size, "%.1f TiB", (double)kb / (1 << 30));
	else if (kb >= (UINT64_C(1) << 20))
		snprintf(buf, size, "%.1f GiB", (double)kb / (1 << 20));
	else
		snprintf(buf, size, "%" PRIu64 " MiB", kb / 1024);
}

/* "2M", "1G", "64K": huge page sizes are powers of two. */
static void fmt_page(uint64_t kb, char *buf, size_t size)
{
	if (kb >= (1 << 20) && kb % (1 << 20) == 0)
		snprintf(buf, size, "%" PRIu64 "G", kb >> 20);
	else if (kb >= 1024 && kb % 1024 == 0)
		snprintf(buf, size, "%" PRIu64 "M", kb >> 10);
	else
		snprintf(buf, size, "%" PRIu64 "K", kb);
}

/* A word for a PCI class, from its base class byte. */
static const char *class_name(unsigned code)
{
	switch (code >> 16) {
	case 0x01: return "disk";
	case 0x02: return "net";
	case 0x03: return "gpu";
	case 0x04: return "media";
	case 0x06: return "bridge";
	case 0x08: return "sys";
	case 0x0c: return "usb";
	case 0x12: return "accel";
	}
	return code ? "pci" : "";
}

/* Where D lies between LO and HI, 0..1000. */
static int closeness(uint32_t d, uint32_t lo, uint32_t hi)
{
	if (hi <= lo || d <= lo)
		return 0;
	if (d >= hi)
		return 1000;
	return (int)((uint64_t)(d - lo) * 1000 / (hi - lo));
}

/* The colour at T (0..1000) of a three-stop scale, as "#rrggbb". */
static void scale(const int stops[3][3], int t, char buf[8])
{
	int lo = t < 500 ? 0 : 1, f = t < 500 ? t * 2 : (t - 500) * 2;
	int rgb[3];

	for (int k = 0; k < 3; k++)
		rgb[k] = stops[lo][k] + (stops[lo + 1][k] - stops[lo][k]) * f / 1000;
	snprintf(buf, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* Matrix cells: green (close) through yellow to red (far). */
static void dist_color(const struct svg *s, uint32_t d, char buf[8])
{
	static const int stops[3][3] = { { 26, 152, 80 }, { 254, 224, 139 }, { 215, 48, 39 } };

	scale(stops, closeness(d, s->dlo, s->dhi), buf);
}

/* Links: the same idea, darker to stand out on white, over remote distances only. */
static void link_color(const struct svg *s, uint32_t d, char buf[8])
{
	static const int stops[3][3] = { { 26, 128, 60 }, { 214, 150, 0 }, { 192, 57, 43 } };

	scale(stops, closeness(d, s->llo, s->lhi), buf);
}

/* Is CPU (os id) pinned by a claim on S's host? */
static bool pinned(const struct svg *s, const struct np_cpu *c)
{
	const struct np_host_node *hn = s->h && c->node_idx >= 0 ? np_host_node(s->h, c->node_idx)
								 : NULL;

	for (int i = 0; hn && i < hn->npinned; i++)
		if (hn->pinned[i] == c->os_id)
			return true;
	return false;
}

static void draw_cpu(struct svg *s, const struct np__cpu_key *k, int x, int y)
{
	const struct np_cpu *c = np_topo_cpu(s->t, k->idx);
	bool pin = pinned(s, c);

	put(s, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\">",
	    !c->online ? "cpu off" : pin ? "cpu pin" : "cpu", x, y, s->cpu, s->cpu);
	put(s, "<title>CPU %d", c->os_id);
	if (c->core >= 0)
		put(s, ", core %d", c->core);
	if (c->socket >= 0)
		put(s, ", socket %d", c->socket);
	put(s, "%s%s</title></rect>\n", c->online ? "" : ", offline", pin ? ", pinned by a claim" : "");
	if (s->numbers)
		put(s, "<text class=\"%s\" x=\"%d\" y=\"%d\">%d</text>\n", c->online ? "cn" : "cn off",
		    x + s->cpu / 2, y + s->cpu / 2 + 3, c->os_id);
}

/* Lay the cores of one socket out left to right, wrapping at W; the height. */
static int flow_cores(struct svg *s, const struct np__cpu_key *k, int n, int x0, int y0, int w)
{
	int x = x0, y = y0, row = s->cpu + 4;

	for (int i = 0; i < n;) {
		int j = i + 1, cw;

		while (j < n && k[i].core >= 0 && k[j].core == k[i].core)
			j++;
		cw = 4 + (j - i) * (s->cpu + 1) - 1;
		if (x > x0 && x + cw > x0 + w) {
			x = x0;
			y += row + 3;
		}
		put(s, "<rect class=\"core\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", x, y,
		    cw, row);
		for (int m = i; m < j; m++)
			draw_cpu(s, &k[m], x + 2 + (m - i) * (s->cpu + 1), y + 2);
		x += cw + 3;
		i = j;
	}
	return n ? y - y0 + row : 0;
}

/* One socket's group: a light box, its label, its cores; the height. */
static int socket_group(struct svg *s, const struct np__cpu_key *k, int n, int x, int y, int w)
{
	struct svg measure = *s;
	int h;

	measure.out = NULL;
	h = 16 + flow_cores(&measure, k, n, x + 4, y + 14, w - 8) + 4;
	put(s, "<rect class=\"sock\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", x, y, w,
	    h - 4);
	if (k[0].socket >= 0)
		put(s, "<text class=\"small\" x=\"%d\" y=\"%d\">socket %d</text>\n", x + 4, y + 10,
		    k[0].socket);
	else
		put(s, "<text class=\"small\" x=\"%d\" y=\"%d\">socket unknown</text>\n", x + 4,
		    y + 10);
	flow_cores(s, k, n, x + 4, y + 14, w - 8);
	return h;
}

/* The CPUs of node I grouped by socket; the height, or -1 out of memory. */
static int node_cpus(struct svg *s, const struct np_node *n, int x, int y, int w)
{
	struct np__cpu_key *k = np__calloc((size_t)n->ncpus, sizeof(*k));
	int h = 0;

	if (!k)
		return -1;
	for (int c = 0; c < n->ncpus; c++) {
		int idx = np_topo_cpu_index(s->t, n->cpus[c]);
		const struct np_cpu *cpu = np_topo_cpu(s->t, idx);

		k[c] = (struct np__cpu_key){ cpu->socket, cpu->node_idx, cpu->core, cpu->os_id, idx };
	}
	if (n->ncpus)
		qsort(k, (size_t)n->ncpus, sizeof(*k), np__cmp_cpu_key);
	for (int i = 0; i < n->ncpus;) {
		int j = i + 1;

		while (j < n->ncpus && k[j].socket == k[i].socket)
			j++;
		h += socket_group(s, k + i, j - i, x, y + h, w);
		i = j;
	}
	free(k);
	return h;
}

/* A small labeled tag; its width. */
static int tag(struct svg *s, const char *text, const char *cls, int x, int y)
{
	int w = (int)strlen(text) * CHAR_W(9) + 8;

	put(s, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"14\" rx=\"3\"/>", cls, x,
	    y, w);
	put(s, "<text class=\"tag\" x=\"%d\" y=\"%d\">%s</text>\n", x + 4, y + 10, text);
	return w;
}

/* The PCI devices on node NODE_IDX (-1: on none) as tags; the height. */
static int devices(struct svg *s, int node_idx, int x0, int y0, int w)
{
	int x = x0, y = y0, shown = 0, more = 0;
	char text[40];

	for (int i = 0; i < np_topo_device_count(s->t); i++) {
		const struct np_device *d = np_topo_device(s->t, i);
		int tw;

		if (d->node_idx != node_idx)
			continue;
		if (shown == MAX_TAGS) {
			more++;
			continue;
		}
		/* Domain 0 is the rule: show "bb:dd.f" then. */
		snprintf(text, sizeof(text), "%s %s",
			 strncmp(d->address, "0000:", 5) ? d->address : d->address + 5,
			 class_name(d->class_code));
		tw = (int)strlen(text) * CHAR_W(9) + 8;
		if (x > x0 && x + tw > x0 + w) {
			x = x0;
			y += 17;
		}
		x += tag(s, text, "dev", x, y) + 4;
		shown++;
	}
	if (more) {
		snprintf(text, sizeof(text), "+%d more", more);
		if (x > x0 && x + (int)strlen(text) * CHAR_W(9) + 8 > x0 + w) {
			x = x0;
			y += 17;
		}
		tag(s, text, "dev", x, y);
	}
	return shown ? y - y0 + 17 : 0;
}

/*
 * The memory gauge: taller for more memory, the used part dark.  Used is
 * what the host reports in use (total less free); with a host, what its
 * claims hold.  The key under the grid says which.  Its height.
 */
static int gauge(struct svg *s, int i, int x, int y, int w)
{
	const struct np_node *n = np_topo_node(s->t, i);
	int h = 16 + (s->max_mem ? (int)(n->mem_total_kb * 34 / s->max_mem) : 0);
	uint64_t total = n->mem_total_kb, used = 0;
	bool known = n->mem_free_known || s->h;
	char total_s[24], used_s[24], free_s[24];
	int uw;

	if (n->mem_total_kb == 0) {
		put(s, "<rect class=\"nomem\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", x, y,
		    w, h);
		put(s, "<text class=\"glabel\" x=\"%d\" y=\"%d\">no memory</text>\n", x + w / 2,
		    y + h / 2 + 4);
		return h;
	}
	if (s->h) {
		total = np_host_node(s->h, i)->memory_mb * 1024;
		used = np_host_node(s->h, i)->memory_used_mb * 1024;
	} else if (n->mem_free_known) {
		used = total - (n->mem_free_kb < total ? n->mem_free_kb : total);
	}
	used = used < total ? used : total;
	uw = total ? (int)(used * (uint64_t)w / total) : 0;
	fmt_mem(total, total_s, sizeof(total_s));
	if (used)
		fmt_mem(used, used_s, sizeof(used_s));
	else
		snprintf(used_s, sizeof(used_s), "nothing");
	fmt_mem(total - used, free_s, sizeof(free_s));
	put(s, "<rect class=\"mfree\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>", x, y, w, h);
	put(s, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n",
	    s->h ? "mclaim" : "mused", x, y, uw, h);
	if (known)
		put(s, "<text class=\"glabel\" x=\"%d\" y=\"%d\">%s %s, %s free of %s</text>\n",
		    x + w / 2, y + h / 2 + 4, used_s, s->h ? "claimed" : "used", free_s, total_s);
	else
		put(s, "<text class=\"glabel\" x=\"%d\" y=\"%d\">%s, use unknown</text>\n",
		    x + w / 2, y + h / 2 + 4, total_s);
	return h;
}

/* With a host: node I's huge page pools as claimed and free; the height. */
static int host_pools(struct svg *s, int i, int x, int y)
{
	const struct np_host_node *hn = np_host_node(s->h, i);
	int h = 0;
	char page[24];

	for (int k = 1; k < hn->npools; k++) {
		const struct np_page_pool *p = &hn->pools[k];
		uint64_t left = p->total > p->used + p->reserved ? p->total - p->used - p->reserved : 0;

		if (p->total == 0)
			continue;
		fmt_page(p->size_kb, page, sizeof(page));
		put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">%s pages: %" PRIu64 " claimed, %" PRIu64
		       " free of %" PRIu64 "</text>\n", x, y + h + 10, page, p->used, left, p->total);
		h += 15;
	}
	return h;
}

/* One line per reserved huge page pool; the height. */
static int pools(struct svg *s, int i, int x, int y)
{
	const struct np_node *n = np_topo_node(s->t, i);
	int h = s->h ? host_pools(s, i, x, y) : 0;
	char page[24];

	for (int k = 0; !s->h && k < n->npools; k++) {
		if (n->pools[k].total == 0)
			continue;
		fmt_page(n->pools[k].size_kb, page, sizeof(page));
		if (n->pools[k].free_known)
			put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">%s pages: %" PRIu64
			       " of %" PRIu64 " free</text>\n",
			    x, y + h + 10, page, n->pools[k].free, n->pools[k].total);
		else
			put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">%s pages: %" PRIu64
			       ", free unknown</text>\n",
			    x, y + h + 10, page, n->pools[k].total);
		h += 15;
	}
	if (n->npools && !h) {
		put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">huge pages: none reserved</text>\n",
		    x, y + 10);
		h = 15;
	}
	return h;
}

/* With a host: node I's CPUs pinned and floating vCPUs; the height. */
static int cpu_use(struct svg *s, int i, int x, int y)
{
	const struct np_host_node *hn = np_host_node(s->h, i);
	double cpu_ratio, ram_ratio;

	if (!np_topo_node(s->t, i)->ncpus)
		return 0;
	put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">pinned %d of %d; floating vCPUs %u", x,
	    y + 10, hn->npinned, hn->ndedicated, hn->cpu_usage);
	if (np_host_limits(s->h, &cpu_ratio, &ram_ratio))
		put(s, " of %.0f", (double)hn->nshared * cpu_ratio);
	put(s, "</text>\n");
	return 15;
}

/* Node I's contents at X,Y, top to bottom; the height (-1: out of memory). */
static int node_body(struct svg *s, int i, int x, int y)
{
	const struct np_node *n = np_topo_node(s->t, i);
	int w = s->box_w - 2 * PAD, yy = y + PAD, h;
	char line[160], mem[24];

	fmt_mem(n->mem_total_kb, mem, sizeof(mem));
	put(s, "<text class=\"title\" x=\"%d\" y=\"%d\">node %d</text>\n", x + PAD, yy + 12,
	    n->os_id);
	put(s, "<text class=\"info end\" x=\"%d\" y=\"%d\">%d CPU%s, %s</text>\n",
	    x + s->box_w - PAD, yy + 12, n->ncpus, n->ncpus == 1 ? "" : "s",
	    n->mem_total_kb ? mem : "no memory");
	yy += 18;
	if (n->ncpus == 0 || n->mem_total_kb == 0) {
		put(s, "<text class=\"badge\" x=\"%d\" y=\"%d\">%s</text>\n", x + PAD, yy + 10,
		    n->ncpus == 0 ? "no CPUs: memory only" : "no memory: CPUs only");
		yy += 15;
	}
	if (n->ncpus) {
		np__format_cpulist(n->cpus, n->ncpus, line,
				   (size_t)(w / CHAR_W(10)) - 4 < sizeof(line)
					   ? (size_t)(w / CHAR_W(10)) - 4
					   : sizeof(line));
		put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">CPUs %s</text>\n", x + PAD, yy + 10,
		    line);
		yy += 15;
	}
	yy += pools(s, i, x + PAD, yy);
	if (s->h)
		yy += cpu_use(s, i, x + PAD, yy);
	h = node_cpus(s, n, x + PAD, yy, w);
	if (h < 0)
		return -1;
	yy += h;
	yy += devices(s, i, x + PAD, yy, w);
	yy += gauge(s, i, x + PAD, yy, w) + PAD;
	return yy - y;
}

/* Node I's box of height H, marked when it lacks CPUs or memory. */
static int node_box(struct svg *s, int i, int x, int y, int h)
{
	const struct np_node *n = np_topo_node(s->t, i);

	put(s, "<g class=\"node\" id=\"node-%d\">\n", n->os_id);
	put(s, "<rect class=\"box%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\"/>\n",
	    n->ncpus == 0 ? " cpuless" : n->mem_total_kb == 0 ? " memless" : "", x, y, s->box_w, h);
	h = node_body(s, i, x, y);
	put(s, "</g>\n");
	return h;
}

/* Columns for N boxes: from a square grid to one twice as wide, the fullest. */
static int grid_cols(int n)
{
	int lo = 1, hi, best = 1, waste = n + 1;

	while (lo * lo < n)
		lo++;
	for (hi = lo; hi * hi < 2 * n;)
		hi++;
	for (int c = lo; c <= hi; c++) {
		int rows = (n + c - 1) / c;

		if (c * rows - n < waste) {
			best = c;
			waste = c * rows - n;
		}
	}
	return best;
}

/* All node boxes in a grid, rows as tall as their tallest box; the height, or -1. */
static int grid(struct svg *s, int x0, int y0, int *width)
{
	int n = np_topo_node_count(s->t), cols = grid_cols(n), y = y0, rc = -1;
	struct svg m = *s;
	int *hs = np__calloc((size_t)n, sizeof(*hs));

	if (!hs)
		return -1;
	m.out = NULL;
	for (int i = 0; i < n; i++)
		if ((hs[i] = node_body(&m, i, 0, 0)) < 0)
			goto out;
	for (int r = 0; r * cols < n; r++) {
		int rh = 0;

		for (int i = r * cols; i < n && i < (r + 1) * cols; i++) {
			/* Drawing allocates again: a box without its CPUs is no answer. */
			if (node_box(s, i, x0 + (i - r * cols) * (s->box_w + GAP), y, hs[i]) < 0)
				goto out;
			rh = hs[i] > rh ? hs[i] : rh;
		}
		y += rh + GAP;
	}
	*width = cols * (s->box_w + GAP) - GAP;
	rc = y - y0 - GAP;
out:
	free(hs);
	return rc;
}

/* CPUs that belong to no node (offline ones, mostly), below the grid; the height. */
static int loose_cpus(struct svg *s, int x, int y, int w)
{
	int n = 0, h;
	struct np__cpu_key *k = np__calloc((size_t)np_topo_cpu_count(s->t), sizeof(*k));

	if (!k)
		return -1;
	for (int i = 0; i < np_topo_cpu_count(s->t); i++) {
		const struct np_cpu *c = np_topo_cpu(s->t, i);

		if (c->node_idx < 0)
			k[n++] = (struct np__cpu_key){ c->socket, -1, c->core, c->os_id, i };
	}
	if (n)
		qsort(k, (size_t)n, sizeof(*k), np__cmp_cpu_key);
	if (n)
		put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">CPUs on no node</text>\n", x,
		    y + 11);
	h = n ? 16 + flow_cores(s, k, n, x, y + 16, w) + GAP : 0;
	free(k);
	return h;
}

/* Devices that hang off no node, below the grid; the height. */
static int loose_devices(struct svg *s, int x, int y, int w)
{
	struct svg m = *s;
	int h;

	m.out = NULL;
	if (devices(&m, -1, x, y + 16, w) == 0)
		return 0;
	put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">PCI devices attached to no node</text>\n",
	    x, y + 11);
	h = devices(s, -1, x, y + 16, w);
	return 16 + h + GAP;
}

/* One entry of the key: a swatch of class CLS and its words; the x after it. */
static int key_item(struct svg *s, const char *cls, const char *text, int x, int y)
{
	/* "key" first: a swatch is not one of the drawing's CPUs or gauges. */
	put(s, "<rect class=\"key %s\" x=\"%d\" y=\"%d\" width=\"12\" height=\"12\"/>", cls, x,
	    y);
	put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">%s</text>\n", x + 16, y + 10, text);
	return x + 16 + (int)strlen(text) * 11 / 2 + 18; /* 10px glyphs are 5.5px wide */
}

/* What the colours of the node boxes mean, in one row under them; the height. */
static int key(struct svg *s, int x, int y)
{
	bool off = false;

	for (int i = 0; i < np_topo_cpu_count(s->t); i++)
		off |= !np_topo_cpu(s->t, i)->online;
	put(s, "<g class=\"key\">\n<text class=\"info\" x=\"%d\" y=\"%d\">key:</text>\n", x,
	    y + 10);
	x += 30;
	x = key_item(s, "cpu", "CPU", x, y);
	if (off)
		x = key_item(s, "cpu off", "offline CPU", x, y);
	if (s->h)
		x = key_item(s, "cpu pin", "CPU pinned by a claim", x, y);
	x = key_item(s, s->h ? "mclaim" : "mused",
		     s->h ? "memory claimed" : "memory in use (as the host reports it)", x, y);
	key_item(s, "mfree", s->h ? "memory free for claims" : "memory free", x, y);
	put(s, "</g>\n");
	return 12 + GAP;
}

/* Cells fill about two thirds of the grid's width, 14 to 34 pixels. */
static int matrix_cell(int n, int grid_w)
{
	int c = (grid_w * 2 / 3 > 640 ? grid_w * 2 / 3 : 640) / n;

	return c < 14 ? 14 : c > 34 ? 34 : c;
}

/* Cell I,J: coloured by distance, the value inside when it fits. */
static void matrix_cell_draw(struct svg *s, int i, int j, int x, int y, int c)
{
	uint32_t d = np_topo_distance(s->t, i, j);
	int font = c * 45 / 100 > 11 ? 11 : c * 45 / 100, t = closeness(d, s->dlo, s->dhi);
	char color[8], num[12];

	if (d == NP_DISTANCE_UNREACHABLE) {
		snprintf(color, sizeof(color), "#bbbbbb");
		snprintf(num, sizeof(num), "-");
	} else {
		dist_color(s, d, color);
		snprintf(num, sizeof(num), "%" PRIu32, d);
	}
	put(s, "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">", x, y,
	    c, c, color);
	put(s, "<title>node %d to node %d: %s</title></rect>\n", np_topo_node(s->t, i)->os_id,
	    np_topo_node(s->t, j)->os_id, d == NP_DISTANCE_UNREACHABLE ? "unreachable" : num);
	if ((int)strlen(num) * CHAR_W(font) <= c - 2)
		put(s, "<text class=\"cv\" x=\"%d\" y=\"%d\" font-size=\"%d\" fill=\"%s\">%s</text>\n",
		    x + c / 2, y + c / 2 + font * 35 / 100, font,
		    t > 200 && t < 800 ? "#222" : "#fff", num);
}

/* The colour scale under the matrix; its height. */
static int legend(struct svg *s, int x, int y)
{
	if (s->dhi <= s->dlo)
		return 0;
	put(s, "<rect x=\"%d\" y=\"%d\" width=\"160\" height=\"10\" fill=\"url(#dscale)\"/>\n", x,
	    y + 4);
	put(s, "<text class=\"small\" x=\"%d\" y=\"%d\">%" PRIu32 " closer</text>\n", x, y + 26,
	    s->dlo);
	put(s, "<text class=\"small end\" x=\"%d\" y=\"%d\">farther %" PRIu32 "</text>\n", x + 160,
	    y + 26, s->dhi);
	return 30;
}

/* The distance matrix as a heat map at X,Y, sized for a grid *W wide; the height,
 * its own width in *W. */
static int matrix(struct svg *s, int x, int y, int *w)
{
	int n = np_topo_node_count(s->t), c = matrix_cell(n, *w), hdr = 30, top = y + 36;
	int lf = c * 6 / 10 > 10 ? 10 : c * 6 / 10;

	/* n^2 cells: past MATRIX_MAX nodes the drawing would weigh gigabytes. */
	if (n > MATRIX_MAX) {
		put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">distance matrix left out: %d nodes, "
		       "more than %d</text>\n", x, y + 11, n, MATRIX_MAX);
		*w = 260;
		return 20;
	}

	put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">distances, row to column (%s)</text>\n", x,
	    y + 11,
	    np_topo_distances_defaulted(s->t) ? "none given: Linux's 10 local, 20 remote"
					      : "from the firmware");
	put(s, "<g class=\"matrix\">\n");
	for (int j = 0; j < n; j++)
		put(s, "<text class=\"cv\" x=\"%d\" y=\"%d\" font-size=\"%d\">%d</text>\n",
		    x + hdr + j * c + c / 2, top - 4, lf, np_topo_node(s->t, j)->os_id);
	for (int i = 0; i < n; i++) {
		put(s, "<text class=\"end\" x=\"%d\" y=\"%d\" font-size=\"%d\">%d</text>\n",
		    x + hdr - 4, top + i * c + c / 2 + lf * 35 / 100, lf,
		    np_topo_node(s->t, i)->os_id);
		for (int j = 0; j < n; j++)
			matrix_cell_draw(s, i, j, x + hdr + j * c, top + i * c, c);
	}
	put(s, "</g>\n");
	*w = hdr + n * c;
	if (*w < 260)
		*w = 260;
	return top - y + n * c + 6 + legend(s, x + hdr, top + n * c + 6);
}

/* cos and sin of 2*pi/n for n = 2..8: no libm needed for eight points. */
static const double turn[GRAPH_MAX + 1][2] = {
	{ 0, 0 },	       { 0, 0 },	      { -1, 0 },
	{ -0.5, 0.8660254 },   { 0, 1 },	      { 0.30901699, 0.95105652 },
	{ 0.5, 0.8660254 },    { 0.6234898, 0.78183148 }, { 0.70710678, 0.70710678 },
};

/* The node graph: where the nodes are, and the label boxes placed so far. */
struct graph {
	int n, px[GRAPH_MAX], py[GRAPH_MAX];
	uint32_t quiet; /* links this far are dashed and unlabeled (0: none) */
	int box[GRAPH_MAX * GRAPH_MAX][4]; /* x, y, w, h of each placed label */
	int nbox;
};

static bool overlaps(const int *a, int x, int y, int w, int h)
{
	return x < a[0] + a[2] + 2 && a[0] < x + w + 2 && y < a[1] + a[3] + 2 && a[1] < y + h + 2;
}

/* Is a label box at X,Y free of other labels and of the node markers? */
static bool free_spot(const struct graph *g, int x, int y, int w, int h)
{
	for (int i = 0; i < g->nbox; i++)
		if (overlaps(g->box[i], x, y, w, h))
			return false;
	for (int i = 0; i < g->n; i++) {
		int m[4] = { g->px[i] - 28, g->py[i] - 11, 56, 22 };

		if (overlaps(m, x, y, w, h))
			return false;
	}
	return true;
}

/*
 * Label the link from A to B with D: the first free spot along it, from
 * the middle outwards (from A's end when D is one of two different
 * directions).  A label that finds no room is left out; the matrix has it.
 */
static void link_label(struct svg *s, struct graph *g, int a, int b, uint32_t d, bool one_way)
{
	static const int mid[] = { 50, 40, 60, 30, 70, 22, 78 }, end[] = { 28, 20, 36, 14, 44 };
	const int *at = one_way ? end : mid;
	int tries = one_way ? 5 : 7, w, x, y;
	char text[12];

	snprintf(text, sizeof(text), "%" PRIu32, d);
	w = (int)strlen(text) * CHAR_W(10) + 8;
	for (int k = 0; k < tries; k++) {
		x = g->px[a] + (g->px[b] - g->px[a]) * at[k] / 100 - w / 2;
		y = g->py[a] + (g->py[b] - g->py[a]) * at[k] / 100 - 7;
		if (!free_spot(g, x, y, w, 14))
			continue;
		memcpy(g->box[g->nbox++], (int[4]){ x, y, w, 14 }, sizeof(g->box[0]));
		put(s, "<rect class=\"lbl\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"14\" rx=\"3\"/>",
		    x, y, w);
		put(s, "<text class=\"cv\" x=\"%d\" y=\"%d\" font-size=\"10\">%s</text>\n",
		    x + w / 2, y + 11, text);
		return;
	}
}

/* The line between A and B: thicker and greener when closer. */
static void link_line(struct svg *s, const struct graph *g, int a, int b)
{
	uint32_t ab = np_topo_distance(s->t, a, b), ba = np_topo_distance(s->t, b, a);
	uint32_t d = ab < ba ? ab : ba;
	char color[8];

	if (d == NP_DISTANCE_UNREACHABLE) {
		put(s, "<line class=\"nolink\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
		    g->px[a], g->py[a], g->px[b], g->py[b]);
		return;
	}
	link_color(s, d, color);
	put(s, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%d\"%s/>\n",
	    g->px[a], g->py[a], g->px[b], g->py[b], color,
	    1 + (1000 - closeness(d, s->llo, s->lhi)) * 4 / 1000,
	    d == g->quiet ? " stroke-dasharray=\"3 3\"" : "");
}

struct pair {
	int a, b;
	uint32_t d; /* the nearer direction */
};

static int cmp_pair(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;

	if (p->d != q->d)
		return (p->d > q->d) - (p->d < q->d);
	return (p->a * GRAPH_MAX + p->b > q->a * GRAPH_MAX + q->b) -
	       (p->a * GRAPH_MAX + p->b < q->a * GRAPH_MAX + q->b);
}

/* Lines far to close (close on top), then labels close to far (close get room). */
static void links(struct svg *s, struct graph *g)
{
	struct pair p[GRAPH_MAX * GRAPH_MAX];
	int np = 0;

	for (int a = 0; a < g->n; a++)
		for (int b = a + 1; b < g->n; b++) {
			uint32_t ab = np_topo_distance(s->t, a, b), ba = np_topo_distance(s->t, b, a);

			p[np++] = (struct pair){ a, b, ab < ba ? ab : ba };
		}
	qsort(p, (size_t)np, sizeof(*p), cmp_pair);
	for (int k = np - 1; k >= 0; k--)
		link_line(s, g, p[k].a, p[k].b);
	for (int k = 0; k < np; k++) {
		uint32_t ab = np_topo_distance(s->t, p[k].a, p[k].b);
		uint32_t ba = np_topo_distance(s->t, p[k].b, p[k].a);

		if (p[k].d == g->quiet)
			continue;
		if (ab != NP_DISTANCE_UNREACHABLE)
			link_label(s, g, p[k].a, p[k].b, ab, ab != ba);
		if (ba != ab && ba != NP_DISTANCE_UNREACHABLE)
			link_label(s, g, p[k].b, p[k].a, ba, true);
	}
}

static bool symmetric(const np_topo *t)
{
	for (int i = 0; i < np_topo_node_count(t); i++)
		for (int j = 0; j < i; j++)
			if (np_topo_distance(t, i, j) != np_topo_distance(t, j, i))
				return false;
	return true;
}

/* For 2..8 nodes: the nodes on a circle, every pair linked; the height. */
static int graph(struct svg *s, int x, int y, int *w)
{
	struct graph g = { .n = np_topo_node_count(s->t) };
	int r = g.n <= 4 ? 100 : 150, cy = g.n == 2 ? y + 56 : y + 56 + r;
	double cx = -1, sy = 0; /* start on the left, turn clockwise */

	if (g.n < 2 || g.n > GRAPH_MAX)
		return 0;
	for (int i = 0; i < g.n; i++) {
		double nx = cx * turn[g.n][0] - sy * turn[g.n][1];

		g.px[i] = x + 40 + r + (int)(cx * r);
		g.py[i] = cy + (int)(sy * r);
		sy = cx * turn[g.n][1] + sy * turn[g.n][0];
		cx = nx;
	}
	put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">links between nodes (closer: "
	       "thicker, greener)</text>\n", x, y + 11);
	/* Beyond four nodes, labels on the farthest (many, multi-hop) links are noise. */
	if (g.n > 4 && s->lhi > s->llo && s->lhi != NP_DISTANCE_UNREACHABLE)
		g.quiet = s->lhi;
	if (g.quiet)
		put(s, "<text class=\"small\" x=\"%d\" y=\"%d\">dashed, unlabeled: the farthest, "
		       "%" PRIu32 "</text>\n", x, y + 24, g.quiet);
	if (!symmetric(s->t))
		put(s, "<text class=\"small\" x=\"%d\" y=\"%d\">asymmetric: a distance sits near "
		       "the node it is measured from</text>\n", x, y + (g.quiet ? 35 : 24));
	put(s, "<g class=\"links\">\n");
	links(s, &g);
	for (int i = 0; i < g.n; i++) {
		put(s, "<rect class=\"gnode\" x=\"%d\" y=\"%d\" width=\"56\" height=\"22\" rx=\"5\"/>",
		    g.px[i] - 28, g.py[i] - 11);
		put(s, "<text class=\"cv\" x=\"%d\" y=\"%d\" font-size=\"11\">node %d</text>\n",
		    g.px[i], g.py[i] + 4, np_topo_node(s->t, i)->os_id);
	}
	put(s, "</g>\n");
	*w = 2 * r + 80;
	return cy - y + (g.n == 2 ? 11 : r + 11) + MARGIN;
}

/* sin and cos of X (|X| <= 1) by their series: no libm for one angle. */
static void sincos_small(double x, double *sn, double *cs)
{
	double term = x, s_ = 0, c_ = 0, ct = 1;

	for (int k = 1; k < 12; k++) {
		s_ += term;
		c_ += ct;
		term *= -x * x / ((2.0 * k) * (2.0 * k + 1));
		ct *= -x * x / ((2.0 * k - 1) * (2.0 * k));
	}
	*sn = s_;
	*cs = c_;
}

/* The nearer direction between nodes A and B, as a link shows it. */
static uint32_t pair_distance(const np_topo *t, int a, int b)
{
	uint32_t ab = np_topo_distance(t, a, b), ba = np_topo_distance(t, b, a);

	return ab < ba ? ab : ba;
}

/*
 * The distances the wide graph draws, closest first, into LV: the closest
 * level, then the next while all of them stay within WIDE_LINKS links a
 * node on average, never the farthest (it would link almost every pair).
 * How many; 0 when every pair is as far (nothing to show).
 */
static int wide_levels(const struct svg *s, uint32_t lv[WIDE_LEVELS])
{
	int n = np_topo_node_count(s->t), k = 0;
	long links = 0;

	while (k < WIDE_LEVELS) {
		uint32_t last = k ? lv[k - 1] : 0, next = UINT32_MAX;
		long add = 0;

		for (int a = 0; a < n; a++)
			for (int b = a + 1; b < n; b++) {
				uint32_t d = pair_distance(s->t, a, b);

				if (d > last && d < next)
					next = d, add = 0;
				add += d == next;
			}
		if (next >= s->lhi || (k && links + add > (long)WIDE_LINKS * n))
			break;
		links += add;
		lv[k++] = next;
	}
	return k;
}

/* Under the wide graph's title: the distances drawn, each in its colour. */
static void wide_key(struct svg *s, int x, int y, const uint32_t *lv, int nlv)
{
	char color[8];

	if (!nlv) {
		put(s, "<text class=\"small\" x=\"%d\" y=\"%d\">every pair is %" PRIu32 " apart: no "
		       "link would say more</text>\n", x, y + 9, s->lhi);
		return;
	}
	put(s, "<text class=\"small\" x=\"%d\" y=\"%d\">drawn:</text>\n", x, y + 9);
	x += 34;
	for (int k = 0; k < nlv; k++, x += 44) {
		link_color(s, lv[k], color);
		put(s, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
		       "stroke-width=\"%d\"/><text class=\"small\" x=\"%d\" y=\"%d\">%" PRIu32
		       "</text>\n", x, y + 6, x + 18, y + 6, color, 3 - (k > 0), x + 22, y + 9, lv[k]);
	}
	put(s, "<text class=\"small\" x=\"%d\" y=\"%d\">farther pairs: not drawn</text>\n", x,
	    y + 9);
}

/* The links at distance D of the wide graph, nodes at GX, GY. */
static void wide_links(struct svg *s, const int *gx, const int *gy, uint32_t d, int width)
{
	int n = np_topo_node_count(s->t);
	char color[8];

	link_color(s, d, color);
	for (int a = 0; a < n; a++)
		for (int b = a + 1; b < n; b++)
			if (pair_distance(s->t, a, b) == d)
				put(s, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
				       "stroke-width=\"%d\"><title>node %d to node %d: %" PRIu32
				       "</title></line>\n", gx[a], gy[a], gx[b], gy[b], color, width,
				    np_topo_node(s->t, a)->os_id, np_topo_node(s->t, b)->os_id, d);
}

/*
 * For more than 8 nodes: the nodes on a circle in id order (neighbours by
 * id are usually neighbours by distance), only the closest links, farther
 * drawn first so the closest stay on top; the height, or -1.
 */
static int graph_wide(struct svg *s, int x, int y, int *w)
{
	int n = np_topo_node_count(s->t), r = n * 40 / 6 > 160 ? n * 40 / 6 : 160;
	int cx = x + 30 + r, cy = y + 64 + r, nlv;
	uint32_t lv[WIDE_LEVELS];
	double sn, cs, px = -1, py = 0, nx;
	int *gx = np__calloc((size_t)n, sizeof(int)), *gy = np__calloc((size_t)n, sizeof(int));

	if (!gx || !gy) {
		free(gx);
		free(gy);
		return -1;
	}
	nlv = wide_levels(s, lv);
	sincos_small(6.283185307179586 / n, &sn, &cs);
	for (int i = 0; i < n; i++, nx = px * cs - py * sn, py = px * sn + py * cs, px = nx) {
		gx[i] = cx + (int)(px * r);
		gy[i] = cy + (int)(py * r);
	}
	put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">links between nodes: only the closest "
	       "(%d nodes, %d pairs; the matrix has every distance)</text>\n", x, y + 11, n,
	    n * (n - 1) / 2);
	wide_key(s, x, y + 18, lv, nlv);
	put(s, "<g class=\"links\">\n");
	for (int k = nlv - 1; k >= 0; k--)
		wide_links(s, gx, gy, lv[k], 3 - (k > 0));
	for (int i = 0; i < n; i++) {
		put(s, "<rect class=\"gnode\" x=\"%d\" y=\"%d\" width=\"26\" height=\"16\" rx=\"4\"/>",
		    gx[i] - 13, gy[i] - 8);
		put(s, "<text class=\"cv\" x=\"%d\" y=\"%d\" font-size=\"9\">%d</text>\n", gx[i],
		    gy[i] + 3, np_topo_node(s->t, i)->os_id);
	}
	put(s, "</g>\n");
	free(gx);
	free(gy);
	*w = 2 * r + 60;
	return cy - y + r + 20;
}

/* Past WIDE_MAX nodes: why there is no graph; the height. */
static int graph_note(struct svg *s, int x, int y, int *w)
{
	put(s, "<text class=\"info nolinks\" x=\"%d\" y=\"%d\">no link graph: %d nodes are "
	       "too many to draw apart (the matrix has every distance)</text>\n", x, y + 11,
	    np_topo_node_count(s->t));
	*w = 420;
	return 20;
}

/* "host: 8 nodes, 64 CPUs (4 sockets, 32 cores), 120.0 GiB, 110.3 GiB free" */
static int summary(const np_topo *t, char *buf, size_t size)
{
	int n = np_topo_cpu_count(t), nn = np_topo_node_count(t), sockets = 0, cores = 0, off = 0;
	struct np__cpu_key *k = np__calloc((size_t)n, sizeof(*k));
	char total[24], free_s[24];
	size_t len;

	if (!k)
		return -1;
	for (int i = 0; i < n; i++) {
		const struct np_cpu *c = np_topo_cpu(t, i);

		k[i] = (struct np__cpu_key){ c->socket, c->node_idx, c->core, c->os_id, i };
		off += !c->online;
	}
	if (n)
		qsort(k, (size_t)n, sizeof(*k), np__cmp_cpu_key);
	/* A core is a (socket, node, core id): Linux numbers cores per node on some hosts. */
	for (int i = 0; i < n; i++) {
		bool new_socket = i == 0 || k[i].socket != k[i - 1].socket;
		bool new_core = new_socket || k[i].node != k[i - 1].node || k[i].core != k[i - 1].core;

		sockets += k[i].socket >= 0 && new_socket;
		cores += k[i].socket >= 0 && k[i].core >= 0 && new_core;
	}
	free(k);
	len = (size_t)snprintf(buf, size, "host: %d node%s, %d CPU%s", nn, nn == 1 ? "" : "s", n,
			       n == 1 ? "" : "s");
	if (sockets && len < size)
		len += (size_t)snprintf(buf + len, size - len, " (%d socket%s, %d cores)", sockets,
					sockets == 1 ? "" : "s", cores);
	if (off && len < size)
		len += (size_t)snprintf(buf + len, size - len, ", %d offline", off);
	fmt_mem(np_topo_mem_total_kb(t), total, sizeof(total));
	if (np_topo_mem_free_known(t))
		fmt_mem(np_topo_mem_free_kb(t), free_s, sizeof(free_s));
	else
		snprintf(free_s, sizeof(free_s), "unknown");
	if (len < size)
		snprintf(buf + len, size - len, ", %s memory, %s free", total, free_s);
	return 0;
}

/* The whole drawing; its size in *W and *H.  0, or -1 out of memory. */
static int document(struct svg *s, int *w, int *h)
{
	int y = MARGIN, gw = 0, mw = 0, pw = 0, gh, lh, mh, ph, n = np_topo_node_count(s->t);
	char line[200];

	if (summary(s->t, line, sizeof(line)) < 0)
		return -1;
	put(s, "<title>");
	put_escaped(s, line, sizeof(line));
	put(s, "</title>\n<text class=\"h1\" x=\"%d\" y=\"%d\">%s</text>\n", MARGIN, y + 16, line);
	put(s, "<text class=\"info\" x=\"%d\" y=\"%d\">source: %s '", MARGIN, y + 34,
	    np_source_kind_name(np_topo_source_kind(s->t)));
	put_escaped(s, np_topo_source_name(s->t) ? np_topo_source_name(s->t) : "", 100);
	put(s, "'");
	if (s->h && s->claims) {
		put(s, "; usage: the claims of '");
		put_escaped(s, s->claims, 100);
		put(s, "'");
	}
	put(s, "</text>\n");
	*w = (int)strlen(line) * CHAR_W(17); /* bold */
	y += 52;
	if ((gh = grid(s, MARGIN, y, &gw)) < 0)
		return -1;
	y += gh + GAP;
	y += key(s, MARGIN, y);
	if ((lh = loose_cpus(s, MARGIN, y, gw)) < 0)
		return -1;
	y += lh;
	y += loose_devices(s, MARGIN, y, gw);
	mw = gw;
	mh = matrix(s, MARGIN, y, &mw);
	ph = n <= GRAPH_MAX  ? graph(s, MARGIN + mw + 40, y, &pw)
	     : n <= WIDE_MAX ? graph_wide(s, MARGIN + mw + 40, y, &pw)
			     : graph_note(s, MARGIN + mw + 40, y, &pw);
	if (ph < 0)
		return -1;
	y += (mh > ph ? mh : ph) + MARGIN;
	if (ph)
		mw += 40 + pw;
	*w = 2 * MARGIN + (gw > mw ? (gw > *w ? gw : *w) : (mw > *w ? mw : *w));
	*h = y;
	return 0;
}

static void header(struct svg *s, int w, int h)
{
	put(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	       "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n", w, h, w, h);
	put(s, "<defs>\n"
	       "<pattern id=\"hatch\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\" "
	       "patternTransform=\"rotate(45)\"><rect width=\"4\" height=\"4\" fill=\"#eee\"/>"
	       "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"4\" stroke=\"#999\" stroke-width=\"2\"/>"
	       "</pattern>\n"
	       "<linearGradient id=\"dscale\"><stop offset=\"0\" stop-color=\"#1a9850\"/>"
	       "<stop offset=\"0.5\" stop-color=\"#fee08b\"/>"
	       "<stop offset=\"1\" stop-color=\"#d73027\"/></linearGradient>\n</defs>\n");
	put(s, "<style>\n"
	       ".h1{font-size:16px;font-weight:bold;fill:#1d2733}\n"
	       ".info{font-size:10px;fill:#3d4754}\n"
	       ".small{font-size:9px;fill:#5f6b7a}\n"
	       ".end{text-anchor:end}\n"
	       ".title{font-size:13px;font-weight:bold;fill:#1d2733}\n"
	       ".badge{font-size:10px;font-weight:bold;font-style:italic;fill:#a23b72}\n"
	       ".box{fill:#f7f9fc;stroke:#5b6b7f;stroke-width:1.5}\n"
	       ".box.cpuless{fill:#f4eefa;stroke:#7b52ab;stroke-dasharray:6 3}\n"
	       ".box.memless{fill:#fdf4e8;stroke:#b7791f;stroke-dasharray:6 3}\n"
	       ".sock{fill:#e6ebf2;stroke:#c3ccd8}\n"
	       ".core{fill:#fff;stroke:#9aa8b8}\n"
	       ".cpu{fill:#4e79a7}\n"
	       ".cpu.off{fill:url(#hatch);stroke:#999}\n"
	       ".cpu.pin{fill:#e15759}\n"
	       ".cn{font-size:8px;fill:#fff;text-anchor:middle}\n"
	       ".cn.off{fill:#333}\n"
	       ".dev{fill:#fff3cd;stroke:#c9a227}\n"
	       ".tag{font-size:9px;fill:#4a3b00}\n"
	       ".mfree{fill:#e4eef9}\n"
	       ".mused{fill:#6f9fd8}\n"
	       ".mclaim{fill:#f1a340}\n"
	       ".nomem{fill:url(#hatch);stroke:#b7791f}\n"
	       ".glabel{font-size:10px;fill:#1d2733;text-anchor:middle}\n"
	       ".cell{stroke:#fff;stroke-width:1}\n"
	       ".cv{text-anchor:middle}\n"
	       ".lbl{fill:#fff;stroke:#aaa}\n"
	       ".nolink{stroke:#bbb;stroke-dasharray:4 3}\n"
	       ".gnode{fill:#f7f9fc;stroke:#5b6b7f;stroke-width:1.5}\n"
	       "</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
}

/* Sizes that depend on the host: CPU squares, box width, colour range. */
static void setup(struct svg *s)
{
	int maxcpus = 0, maxid = 0, side = 1;

	for (int i = 0; i < np_topo_node_count(s->t); i++) {
		const struct np_node *n = np_topo_node(s->t, i);

		maxcpus = n->ncpus > maxcpus ? n->ncpus : maxcpus;
		s->max_mem = n->mem_total_kb > s->max_mem ? n->mem_total_kb : s->max_mem;
		for (int j = 0; j < np_topo_node_count(s->t); j++) {
			uint32_t d = np_topo_distance(s->t, i, j);

			if (d == NP_DISTANCE_UNREACHABLE)
				continue;
			s->dlo = s->dlo == 0 || d < s->dlo ? d : s->dlo;
			s->dhi = d > s->dhi ? d : s->dhi;
			if (i == j)
				continue;
			s->llo = s->llo == 0 || d < s->llo ? d : s->llo;
			s->lhi = d > s->lhi ? d : s->lhi;
		}
	}
	for (int i = 0; i < np_topo_cpu_count(s->t); i++)
		maxid = np_topo_cpu(s->t, i)->os_id > maxid ? np_topo_cpu(s->t, i)->os_id : maxid;
	s->numbers = maxcpus <= 32 && maxid < 1000;
	s->cpu = s->numbers ? 18 : 11;
	/* Room for about sqrt(4 * CPUs) CPUs a row: the CPU area stays roughly square. */
	while (side * side < 4 * maxcpus)
		side++;
	s->box_w = side * (s->cpu + 3) + 2 * PAD + 16;
	s->box_w = s->box_w < 240 ? 240 : s->box_w > 600 ? 600 : s->box_w;
}

static int write_svg(const np_topo *t, const np_host *host, const char *claims, FILE *out)
{
	struct svg s = { .t = t, .h = host, .claims = claims };
	int w, h;

	setup(&s);
	if (document(&s, &w, &h) < 0)
		return NP_ENOMEM;
	s.out = out;
	header(&s, w, h);
	if (document(&s, &w, &h) < 0) /* the drawing pass allocates again */
		return NP_ENOMEM;
	put(&s, "</svg>\n");
	return ferror(out) ? NP_EOS : 0;
}

int np__topo_write_svg(const np_topo *t, FILE *out)
{
	return write_svg(t, NULL, NULL, out);
}

int np_host_write_svg(const np_host *host, const char *name, FILE *out, struct np_error *err)
{
	int rc = write_svg(np_host_topo(host), host, name, out);

	if (rc == NP_ENOMEM)
		return np__err(err, NP_ENOMEM, "cannot write the drawing: out of memory");
	if (rc || fflush(out) || ferror(out))
		return np__err(err, NP_EOS, "cannot write the drawing: output error");
	return 0;
}
