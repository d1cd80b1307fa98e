/*
 * svg.c - the plots of a simulation, drawn by the tool as one SVG
 * document with two charts:
 *   1. throughput per configuration: against the guest count (one line
 *      per configuration, error bars of one standard deviation) when the
 *      experiment sweeps guest counts, else one bar per configuration,
 *      each labelled with its value and its difference from the first;
 *      when the bars differ by a few percent the axis starts above 0
 *      (else they would look equal), and says so: a break mark on the
 *      axis and a note under the title;
 *   2. a timeline of the vCPUs running outside their soft affinity, one
 *      line per configuration, for the last case (the most loaded one of
 *      a sweep), first repetition.
 * Design: a chart is a frame (struct frame) mapping data to pixels with
 * "nice" axis ticks; every coordinate is printed with one decimal, so the
 * output is deterministic.  Names come from the experiment: they are
 * escaped, and bytes outside printable ASCII become '?'.  Lines carry
 * class="series" and data-config so tests and scripts can find them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-int.h"

#define W      760
#define H      320
#define LEFT   70
#define RIGHT  170
#define TOP    40
#define BOTTOM 50

static const char *const colours[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
				       "#9467bd", "#8c564b", "#e377c2", "#7f7f7f" };

struct frame {
	FILE *out;
	double y0;                    /* top of the chart in the document */
	double xmin, xmax, ymin, ymax;
};

static void esc(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '&')
			fputs("&amp;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else
			fputc(c >= 32 && c < 127 ? c : '?', out);
	}
}

static double px(const struct frame *f, double x)
{
	double span = f->xmax > f->xmin ? f->xmax - f->xmin : 1;

	return LEFT + (x - f->xmin) / span * (W - LEFT - RIGHT);
}

static double py(const struct frame *f, double y)
{
	double span = f->ymax > f->ymin ? f->ymax - f->ymin : 1;

	return f->y0 + TOP + (1 - (y - f->ymin) / span) * (H - TOP - BOTTOM);
}

/* A tick step of 1, 2 or 5 times a power of ten giving about 5 ticks. */
static double nice_step(double span)
{
	double raw = span / 5, p, m;

	if (!(raw > 0))
		return 1;
	p = pow(10, floor(log10(raw)));
	m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void axes(struct frame *f, const char *title, const char *xlabel, const char *ylabel,
		 bool xticks)
{
	double ys = nice_step(f->ymax - f->ymin), xs = nice_step(f->xmax - f->xmin);

	f->ymax = ceil(f->ymax / ys) * ys;
	fprintf(f->out, "<text x=\"%d\" y=\"%.1f\" class=\"title\">", LEFT, f->y0 + 22);
	esc(f->out, title);
	fputs("</text>\n", f->out);
	for (double y = f->ymin; y <= f->ymax + ys / 2; y += ys) {
		fprintf(f->out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>"
			"<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%g</text>\n",
			LEFT, py(f, y), W - RIGHT, py(f, y), LEFT - 6, py(f, y) + 4, y);
	}
	for (double x = ceil(f->xmin / xs) * xs; xticks && x <= f->xmax + xs / 1000; x += xs)
		fprintf(f->out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">"
			"%g</text>\n", px(f, x), f->y0 + H - BOTTOM + 16, x);
	fprintf(f->out, "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\">%s"
		"</text>\n", px(f, (f->xmin + f->xmax) / 2), f->y0 + H - 12, xlabel);
	fprintf(f->out, "<text x=\"16\" y=\"%.1f\" class=\"label\" transform=\"rotate(-90 16 %.1f)\""
		" text-anchor=\"middle\">%s</text>\n", f->y0 + H / 2.0, f->y0 + H / 2.0, ylabel);
	fprintf(f->out, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" class=\"frame\"/>\n",
		LEFT, f->y0 + TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
}

static void legend(const struct frame *f, int i, const char *name)
{
	double y = f->y0 + TOP + 10 + i * 18;

	fprintf(f->out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
		"stroke-width=\"3\"/><text x=\"%d\" y=\"%.1f\" class=\"tick\">", W - RIGHT + 12, y,
		W - RIGHT + 32, y, colours[i % 8], W - RIGHT + 38, y + 4);
	esc(f->out, name);
	fputs("</text>\n", f->out);
}

/* ---- chart 1: throughput ------------------------------------------------------------- */

static void sweep_series(const np_sim_result *r, const struct frame *f, int cf)
{
	fprintf(f->out, "<polyline class=\"series\" data-config=\"");
	esc(f->out, r->rows[cf].config);
	fprintf(f->out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
		colours[cf % 8]);
	for (int ca = 0; ca < r->ncases; ca++) {
		const struct np_sim_row *p = &r->rows[ca * r->nconfigs + cf].pub;

		fprintf(f->out, "%s%.1f,%.1f", ca ? " " : "", px(f, p->guests),
			py(f, p->throughput_mean));
	}
	fputs("\"/>\n", f->out);
	for (int ca = 0; ca < r->ncases; ca++) {
		const struct np_sim_row *p = &r->rows[ca * r->nconfigs + cf].pub;
		double x = px(f, p->guests);

		fprintf(f->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
			"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%d guests: "
			"%.3f +- %.3f</title></circle>\n", x,
			py(f, p->throughput_mean - p->throughput_stddev), x,
			py(f, p->throughput_mean + p->throughput_stddev), colours[cf % 8], x,
			py(f, p->throughput_mean), colours[cf % 8], p->guests, p->throughput_mean,
			p->throughput_stddev);
	}
}

static void chart_sweep(const np_sim_result *r, FILE *out)
{
	struct frame f = { .out = out, .xmin = 1e9, .xmax = 0 };

	for (int i = 0; i < r->nrows; i++) {
		const struct np_sim_row *p = &r->rows[i].pub;

		f.xmin = fmin(f.xmin, p->guests);
		f.xmax = fmax(f.xmax, p->guests);
		f.ymax = fmax(f.ymax, p->throughput_mean + p->throughput_stddev);
	}
	f.ymax = f.ymax > 0 ? f.ymax * 1.05 : 1;
	axes(&f, "aggregate throughput per configuration (mean +- stddev)", "guests",
	     "throughput", true);
	for (int cf = 0; cf < r->nconfigs; cf++) {
		sweep_series(r, &f, cf);
		legend(&f, cf, r->rows[cf].config);
	}
}

static void bar(const np_sim_result *r, const struct frame *f, int cf, double left)
{
	const struct np_sim_row *p = &r->rows[(r->ncases - 1) * r->nconfigs + cf].pub;
	const struct np_sim_row *first = &r->rows[(r->ncases - 1) * r->nconfigs].pub;
	double bw = (double)(W - LEFT - RIGHT) / r->nconfigs, mid = left + bw / 2;
	double top = py(f, p->throughput_mean + p->throughput_stddev) - 5;

	fprintf(f->out, "<rect class=\"series\" data-config=\"");
	esc(f->out, p->config);
	fprintf(f->out, "\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
		"<title>%.3f +- %.3f</title></rect>\n", left + bw * 0.2,
		py(f, p->throughput_mean), bw * 0.6, py(f, f->ymin) - py(f, p->throughput_mean),
		colours[cf % 8], p->throughput_mean, p->throughput_stddev);
	/* The value, and the difference from the first bar, which the eye cannot measure. */
	fprintf(f->out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick value\" text-anchor=\"middle\">%.3f",
		mid, top, p->throughput_mean);
	if (cf && first->throughput_mean > 0)
		fprintf(f->out, " (%+.1f%%)",
			(p->throughput_mean / first->throughput_mean - 1) * 100);
	fputs("</text>\n", f->out);
	fprintf(f->out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n",
		mid, py(f, p->throughput_mean - p->throughput_stddev), mid,
		py(f, p->throughput_mean + p->throughput_stddev));
	fprintf(f->out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">", mid,
		f->y0 + H - BOTTOM + 16);
	esc(f->out, p->config);
	fputs("</text>\n", f->out);
	legend(f, cf, p->config);
}

/*
 * Bars that differ by less than BREAK_SHARE of the tallest start from a
 * round value below the lowest (one spread under it), not from 0, where
 * they would look equal.
 */
#define BREAK_SHARE 0.2

/* Where the bar chart's axis starts: 0, or above it when the bars differ by a few percent. */
static double bars_floor(const np_sim_result *r, int last)
{
	double lo = INFINITY, hi = 0, spread, step;

	for (int cf = 0; cf < r->nconfigs; cf++) {
		const struct np_sim_row *p = &r->rows[last + cf].pub;

		lo = fmin(lo, p->throughput_mean - p->throughput_stddev);
		hi = fmax(hi, p->throughput_mean + p->throughput_stddev);
	}
	if (!(lo > 0) || hi - lo >= hi * BREAK_SHARE)
		return 0;
	spread = hi - lo > hi * 0.01 ? hi - lo : hi * 0.01;
	step = nice_step(2 * spread);
	return fmax(0, floor((lo - spread) / step) * step);
}

/* A broken axis: two slanted strokes across the bottom of the y axis. */
static void axis_break(const struct frame *f)
{
	double y = py(f, f->ymin) - 10;

	fprintf(f->out, "<g class=\"break\"><rect x=\"%d\" y=\"%.1f\" width=\"12\" height=\"7\" "
		"fill=\"white\"/><path d=\"M%d,%.1f l12,-4 M%d,%.1f l12,-4\" stroke=\"#444\"/></g>\n",
		LEFT - 6, y - 4, LEFT - 6, y + 1, LEFT - 6, y + 5);
	fprintf(f->out, "<text x=\"%d\" y=\"%.1f\" class=\"note\">the axis starts at %g, not 0: "
		"the bars differ by a few percent</text>\n", LEFT, f->y0 + 36, f->ymin);
}

static void chart_bars(const np_sim_result *r, FILE *out)
{
	struct frame f = { .out = out, .xmin = 0, .xmax = r->nconfigs };
	double bw = (double)(W - LEFT - RIGHT) / (r->nconfigs ? r->nconfigs : 1);
	int last = (r->ncases - 1) * r->nconfigs;

	for (int cf = 0; cf < r->nconfigs; cf++) {
		const struct np_sim_row *p = &r->rows[last + cf].pub;

		f.ymax = fmax(f.ymax, p->throughput_mean + p->throughput_stddev);
	}
	f.ymin = bars_floor(r, last);
	/* Room above the tallest bar for its label. */
	f.ymax = f.ymax > 0 ? f.ymax + (f.ymax - f.ymin) * 0.12 : 1;
	axes(&f, "throughput per configuration (mean +- stddev)", "configuration", "throughput",
	     false);
	for (int cf = 0; cf < r->nconfigs; cf++)
		bar(r, &f, cf, LEFT + cf * bw);
	if (f.ymin > 0)
		axis_break(&f);
}

/* ---- chart 2: the timeline ----------------------------------------------------------- */

static void chart_timeline(const np_sim_result *r, FILE *out, double y0)
{
	struct frame f = { .out = out, .y0 = y0, .xmin = 0, .xmax = r->duration_s };
	int last = (r->ncases - 1) * r->nconfigs;
	char title[160];

	for (int cf = 0; cf < r->nconfigs; cf++)
		for (int i = 0; i < r->rows[last + cf].tl.n; i++)
			f.ymax = fmax(f.ymax, r->rows[last + cf].tl.outside[i]);
	f.ymax = f.ymax > 0 ? f.ymax * 1.1 : 1;
	snprintf(title, sizeof(title), "vCPUs running outside their soft affinity (%s, run 1)",
		 r->rows[last].label);
	axes(&f, title, "simulated seconds", "vCPUs outside", true);
	for (int cf = 0; cf < r->nconfigs; cf++) {
		const struct np__timeline *tl = &r->rows[last + cf].tl;

		fprintf(out, "<polyline class=\"series\" data-config=\"");
		esc(out, r->rows[last + cf].config);
		fprintf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
			colours[cf % 8]);
		for (int i = 0; i < tl->n; i++)
			fprintf(out, "%s%.1f,%.1f", i ? " " : "",
				px(&f, (i + 0.5) * r->sample_ms / 1000.0), py(&f, tl->outside[i]));
		fputs("\"/>\n", out);
		legend(&f, cf, r->rows[last + cf].config);
	}
}

int np__svg_write(const np_sim_result *r, FILE *out)
{
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n<title>numaplace simulate ",
		W, 2 * H, W, 2 * H);
	esc(out, r->name);
	fputs("</title>\n<style>.title{font-size:14px;font-weight:bold}.tick{font-size:11px}"
	      ".label{font-size:12px}.grid{stroke:#ddd}.frame{fill:none;stroke:#444}"
	      ".note{font-size:10px;fill:#a23b72}</style>\n"
	      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", out);
	if (r->sweep && r->ncases > 1)
		chart_sweep(r, out);
	else
		chart_bars(r, out);
	chart_timeline(r, out, H);
	fputs("</svg>\n", out);
	return ferror(out) ? -1 : 0;
}
