/*
 * output.c - a simulation result as text tables for people and as JSON
 * ("numaplace.simulation/1") for programs and the plots; the table of the
 * model's constants.
 *
 * Gains are each configuration's mean throughput over the baseline's in
 * the same case; where the experiment carries a published gain for that
 * guest count and configuration, the difference is shown in percentage
 * points.  JSON is written one row per line (each element dumped by
 * jansson, so every string is escaped), which keeps it readable and
 * diff-friendly; "perf" is the only member that changes between two runs
 * of the same experiment.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-int.h"

int np_sim_format_from_name(const char *name, enum np_sim_format *out)
{
	static const char *const names[] = { "text", "json", "svg" };

	for (int i = 0; i < 3; i++) {
		if (name && strcmp(name, names[i]) == 0) {
			*out = (enum np_sim_format)i;
			return 0;
		}
	}
	return NP_EINPUT;
}

static const struct np__row *baseline_row(const np_sim_result *r, int ca)
{
	for (int cf = 0; cf < r->nconfigs; cf++)
		if (strcmp(r->rows[ca * r->nconfigs + cf].config, r->baseline) == 0)
			return &r->rows[ca * r->nconfigs + cf];
	return NULL;
}

static const struct np__ref *find_ref(const np_sim_result *r, const struct np__row *row)
{
	for (int i = 0; i < r->nrefs; i++)
		if (r->refs[i].guests == row->pub.guests && strcmp(r->refs[i].config, row->config) == 0)
			return &r->refs[i];
	return NULL;
}

/* The gain of ROW over its case's baseline; false when there is none. */
static bool gain_of(const np_sim_result *r, int i, double *gain)
{
	const struct np__row *base = baseline_row(r, i / r->nconfigs);

	if (!base || base == &r->rows[i] || base->pub.throughput_mean <= 0)
		return false;
	*gain = r->rows[i].pub.throughput_mean / base->pub.throughput_mean - 1.0;
	return true;
}

/* ---- text -------------------------------------------------------------------------- */

static void text_rows(const np_sim_result *r, FILE *out)
{
	fprintf(out, "%-16s %-16s %17s %8s %7s %7s %10s %7s\n", "case", "config",
		"throughput", "outside", "(share)", "remote", "migrated", "actions");
	for (int i = 0; i < r->nrows; i++) {
		const struct np_sim_row *p = &r->rows[i].pub;

		fprintf(out, "%-16s %-16s %8.3f +- %5.3f %8.2f %6.1f%% %6.1f%% %6.0f MiB %7.1f\n",
			p->case_label, p->config, p->throughput_mean, p->throughput_stddev,
			p->outside_vcpus, p->outside_fraction * 100, p->remote_fraction * 100,
			p->migrated_mb, p->actions);
	}
}

/*
 * Moves and arrivals: the cost of making room (moves carried out, the MiB
 * they migrated, seconds until their memory had all moved) and what it
 * bought (guests that came, and how long after their event).
 */
static void text_arrivals(const np_sim_result *r, FILE *out)
{
	if (!r->arrivals && !r->moves)
		return;
	fprintf(out, "\nmoves and arrivals (a move migrates its cell's memory at the model's rate "
		"or the\nconfiguration's move_rate_mb_s; a guest comes once no memory is moving and "
		"it fits):\n%-16s %-16s %6s %9s %9s %8s %8s\n", "case", "config", "moves", "moved",
		"moving", "arrived", "waited");
	for (int i = 0; i < r->nrows; i++) {
		const struct np_sim_row *p = &r->rows[i].pub;

		fprintf(out, "%-16s %-16s %6.2f %5.0f MiB %7.2f s %8.2f ", p->case_label, p->config,
			p->moves, p->moved_mb, p->moving_s, p->arrived);
		if (p->arrived > 0)
			fprintf(out, "%6.2f s\n", p->arrival_wait_s);
		else
			fprintf(out, "%8s\n", "-");
	}
}

static void text_gains(const np_sim_result *r, FILE *out)
{
	bool head = false;

	for (int i = 0; i < r->nrows; i++) {
		const struct np__ref *ref = find_ref(r, &r->rows[i]);
		double g;

		if (!gain_of(r, i, &g))
			continue;
		if (!head)
			fprintf(out, "\ngain over %s:\n%-16s %-16s %8s %10s %11s\n", r->baseline, "case",
				"config", "gain", "published", "difference");
		head = true;
		fprintf(out, "%-16s %-16s %+7.1f%%", r->rows[i].label, r->rows[i].config, g * 100);
		if (ref)
			fprintf(out, " %+9.1f%% %+8.1f pp", ref->gain * 100, (g - ref->gain) * 100);
		fputc('\n', out);
	}
	if (head && r->nrefs && r->note[0])
		fprintf(out, "published: %s\n", r->note);
}

static int write_text(const np_sim_result *r, FILE *out)
{
	fprintf(out, "experiment %s: %s\n", r->name, r->summary);
	fprintf(out, "host: %s; %g s simulated", r->host, r->duration_s);
	if (r->measure_from_s > 0)
		fprintf(out, ", measured from %g s", r->measure_from_s);
	fprintf(out, "; %d run%s per row, seed %llu\n", r->repetitions,
		r->repetitions == 1 ? "" : "s", (unsigned long long)r->seed);
	fputs("throughput: work per second (1 = one pCPU alone with local memory), mean +- "
	      "stddev;\noutside: vCPUs running outside their soft affinity on average (share of "
	      "their run time);\nremote: share of memory accesses to another node\n\n", out);
	text_rows(r, out);
	text_arrivals(r, out);
	text_gains(r, out);
	fprintf(out, "\nsimulated %.0f s in %.2f s on %d thread%s: %.0f simulated seconds per "
		"wall second\n", r->sim_s, r->wall_s, r->threads, r->threads == 1 ? "" : "s",
		r->wall_s > 0 ? r->sim_s / r->wall_s : 0);
	return ferror(out) ? -1 : 0;
}

/* ---- JSON --------------------------------------------------------------------------- */

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(6))

static double r6(double d)
{
	return isfinite(d) ? d : 0;
}

static json_t *row_json(const np_sim_result *r, const struct np__row *row)
{
	const struct np_sim_row *p = &row->pub;
	json_t *runs = json_array();

	for (int i = 0; i < p->runs; i++)
		json_array_append_new(runs, json_real(r6(row->runs[i])));
	(void)r;
	return json_pack("{s:s, s:i, s:s, s:f, s:f, s:o, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
			 "s:f, s:f}",
			 "case", row->label, "guests", p->guests, "config", row->config,
			 "throughput_mean", r6(p->throughput_mean), "throughput_stddev",
			 r6(p->throughput_stddev), "throughput_runs", runs, "outside_vcpus",
			 r6(p->outside_vcpus), "outside_fraction", r6(p->outside_fraction),
			 "remote_fraction", r6(p->remote_fraction), "migrated_mb",
			 r6(p->migrated_mb), "actions", r6(p->actions), "arrived", r6(p->arrived),
			 "arrival_wait_s", r6(p->arrival_wait_s), "moves", r6(p->moves), "moved_mb",
			 r6(p->moved_mb), "moving_s", r6(p->moving_s));
}

static json_t *gain_json(const np_sim_result *r, int i, double g)
{
	const struct np__ref *ref = find_ref(r, &r->rows[i]);
	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:f}", "case", r->rows[i].label, "guests",
			      r->rows[i].pub.guests, "config", r->rows[i].config, "baseline",
			      r->baseline, "gain", r6(g));

	if (o && ref) {
		json_object_set_new(o, "published", json_real(ref->gain));
		json_object_set_new(o, "difference", json_real(r6(g - ref->gain)));
	}
	return o;
}

static json_t *timeline_json(const np_sim_result *r, const struct np__row *row)
{
	json_t *out = json_array(), *tp = json_array();

	for (int i = 0; i < row->tl.n; i++) {
		json_array_append_new(out, json_real(r6(row->tl.outside[i])));
		json_array_append_new(tp, json_real(r6(row->tl.throughput[i])));
	}
	return json_pack("{s:s, s:s, s:f, s:o, s:o}", "case", row->label, "config", row->config,
			 "sample_ms", r->sample_ms, "outside_vcpus", out, "throughput", tp);
}

/* Write "  NAME: [" then each element of ITEMS on its own line; frees ITEMS. */
static int dump_list(FILE *out, const char *name, json_t *items, bool last)
{
	size_t i;
	json_t *v;

	fprintf(out, "  \"%s\": [", name);
	json_array_foreach(items, i, v) {
		char *s = json_dumps(v, DUMP_FLAGS);

		if (!s) {
			json_decref(items);
			return -1;
		}
		fprintf(out, "%s\n    %s", i ? "," : "", s);
		free(s);
	}
	fprintf(out, "%s]%s\n", json_array_size(items) ? "\n  " : "", last ? "" : ",");
	json_decref(items);
	return 0;
}

static int dump_member(FILE *out, const char *name, json_t *v)
{
	char *s = v ? json_dumps(v, DUMP_FLAGS | JSON_ENCODE_ANY) : NULL;

	json_decref(v);
	if (!s)
		return -1;
	fprintf(out, "  \"%s\": %s,\n", name, s);
	free(s);
	return 0;
}

static int json_head(const np_sim_result *r, FILE *out)
{
	fputs("{\n", out);
	if (dump_member(out, "schema", json_string("numaplace.simulation/1")) ||
	    dump_member(out, "experiment", json_string(r->name)) ||
	    dump_member(out, "summary", json_string(r->summary)) ||
	    dump_member(out, "host", json_string(r->host)) ||
	    dump_member(out, "duration_s", json_real(r->duration_s)) ||
	    dump_member(out, "measure_from_s", json_real(r->measure_from_s)) ||
	    dump_member(out, "repetitions", json_integer(r->repetitions)) ||
	    dump_member(out, "seed", json_integer((json_int_t)r->seed)) ||
	    dump_member(out, "unit", json_string("work per simulated second; 1 = one pCPU "
						 "running alone with local memory")) ||
	    dump_member(out, "baseline", json_string(r->baseline)) ||
	    dump_member(out, "reference_note", json_string(r->note)))
		return -1;
	return 0;
}

static int write_json(const np_sim_result *r, FILE *out)
{
	json_t *rows = json_array(), *gains = json_array(), *tls = json_array();
	double g;
	int rc;

	if (json_head(r, out))
		goto fail;
	for (int i = 0; i < r->nrows; i++) {
		json_array_append_new(rows, row_json(r, &r->rows[i]));
		json_array_append_new(tls, timeline_json(r, &r->rows[i]));
		if (gain_of(r, i, &g))
			json_array_append_new(gains, gain_json(r, i, g));
	}
	rc = dump_list(out, "rows", rows, false);
	rc |= dump_list(out, "gains", gains, false);
	rc |= dump_list(out, "timelines", tls, false);
	if (rc)
		return -1;
	fprintf(out, "  \"perf\": {\"simulated_s\": %.3f, \"wall_s\": %.3f, "
		"\"sim_per_wall\": %.1f, \"threads\": %d}\n}\n", r->sim_s, r->wall_s,
		r->wall_s > 0 ? r->sim_s / r->wall_s : 0, r->threads);
	return ferror(out) ? -1 : 0;
fail:
	json_decref(rows);
	json_decref(gains);
	json_decref(tls);
	return -1;
}

int np_sim_result_write(const np_sim_result *r, enum np_sim_format format, FILE *out,
			struct np_error *err)
{
	int rc;

	switch (format) {
	case NP_SIM_TEXT: rc = write_text(r, out); break;
	case NP_SIM_JSON: rc = write_json(r, out); break;
	case NP_SIM_SVG: rc = np__svg_write(r, out); break;
	default: return np__err(err, NP_EINPUT, "unknown output format %d", (int)format);
	}
	if (rc || fflush(out) != 0)
		return np__err(err, NP_EOS, "cannot write the simulation result");
	return 0;
}

static void write_balancer(FILE *out)
{
	const struct np__bal_field *f;
	struct np_bal_params p;
	int n = np__bal_fields(&f);

	np_bal_params_default(&p);
	fprintf(out, "\n%-30s %10s  (include/numaplace/balance.h)\n", "balancer parameter",
		"default");
	for (int i = 0; i < n; i++) {
		const char *at = (const char *)&p + f[i].off;

		fprintf(out, "%-30s %10g\n", f[i].name,
			f[i].is_u64 ? (double)*(const uint64_t *)at : *(const double *)at);
	}
}

static void write_presets(FILE *out)
{
	const struct np__workload *w;
	int n = np__workload_presets(&w);

	fprintf(out, "\n%-18s %9s %9s  %s\n", "workload preset", "mem_int", "MB/s",
		"phases: duration_s run_ms/sleep_ms");
	for (int i = 0; i < n; i++) {
		fprintf(out, "%-18s %9g %9g ", w[i].name, w[i].memory_intensity, w[i].bandwidth_mb_s);
		for (int k = 0; k < w[i].nphases; k++) {
			const struct np__phase *p = &w[i].phases[k];

			if (p->duration_s > 0)
				fprintf(out, " %gs", p->duration_s);
			else
				fputs(" always", out);
			fprintf(out, " %g/%g", p->run_ms, p->sleep_ms);
		}
		fputs(w[i].random_durations ? "  (random lengths)\n" : "\n", out);
	}
}

int np_sim_write_constants(FILE *out, struct np_error *err)
{
	fprintf(out, "%-30s %10s %-5s %s\n", "model constant", "default", "unit", "meaning");
	for (int i = 0; i < np__const_count; i++) {
		const struct np__const *c = &np__const_table[i];

		fprintf(out, "%-30s %10g %-5s %s\n", c->name, c->def, c->unit, c->doc);
	}
	write_balancer(out);
	write_presets(out);
	if (fflush(out) != 0 || ferror(out))
		return np__err(err, NP_EOS, "cannot write the constants");
	return 0;
}
