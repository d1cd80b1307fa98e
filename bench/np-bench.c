/*
 * np-bench.c - numaplace's side of the benchmarks against Nova: times
 * np_place() in-process on the very cases the Python drivers time Nova
 * on, and plays request sequences for the quality comparison.
 *
 *   np-bench fit [--min-calls N] [--min-seconds S] [--max-steps N] [--max-us N] CASES.jsonl
 *   np-bench seq CASES.jsonl
 *   np-bench sysfs ROOT CELLS VCPUS MEM_MB POLICY [--min-calls N] [--min-seconds S]
 *   np-bench play WORKLOADS.jsonl [--nova NOVA.jsonl] [--max-moves N]   (play.c)
 *                 [--flavors CATALOGUE.json] [--only PLACER,...]
 *
 * Input: one Nova case (shared/nova/CASE_FORMAT.md) per line, read with
 * the library's own case reader (nova.h), so host and guest are built
 * exactly as for `numaplace place --case`.  Output: one JSON object per
 * case on stdout, in input order, for the drivers to merge.
 *
 * Timing mirrors nova_bench.py: only np_place() + np_plan_free() are in
 * the timed region (host and request are built once, outside), calls are
 * repeated until both a minimum count and a minimum time are reached, and
 * the median per call is reported.  np_place() does not modify the host,
 * so no per-call copy is needed (Nova needs one: it mutates its guest).
 *
 * `seq`: each case's `requests` are placed one after the other with the
 * spread and then (on a fresh copy of the case) the pack strategy; every
 * plan must pass np_plan_validate() before it is charged; the count of
 * guests admitted before the first rejection is printed per strategy.
 *
 * A benchmark, not a test: it asserts nothing about time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <numaplace/host.h>
#include <numaplace/nova.h>
#include <numaplace/place.h>
#include <numaplace/plan.h>
#include <numaplace/request.h>
#include <numaplace/topology.h>

#include "play.h"

struct timing {
	long min_calls;
	double min_seconds;
	uint64_t max_steps, max_us; /* the search budget of every call (0: the default) */
};

struct stats {
	double median_us, min_us, p90_us;
	double cpu_us; /* median CPU time of the calling thread: what load on the machine does not add */
	double slowest_us, cpu_slowest_us; /* the slowest call, wall and CPU */
	long calls;
	bool fits, exact;
	unsigned long long steps;
	unsigned max_distance, best_max_distance;
	unsigned long long sum_distance, gap;
	const char *gap_term;
	char valid[NP_ERROR_MAX]; /* "" or the validator's complaint */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double median(double *v, size_t n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One untimed call to learn the answer and check it, then the timed ones. */
static int first_call(const np_host *host, const np_request *req, const struct np_place_opts *opts,
		      struct stats *st, struct np_error *err)
{
	np_plan *plan = NULL;
	struct np_error verr = {0};
	int rc = np_place(host, req, opts, &plan, err);

	if (rc)
		return rc;
	st->fits = np_plan_fits(plan);
	st->exact = np_plan_score(plan)->exact;
	st->steps = (unsigned long long)np_plan_score(plan)->steps;
	st->max_distance = np_plan_score(plan)->max_distance;
	st->best_max_distance = np_plan_score(plan)->best_max_distance;
	st->sum_distance = (unsigned long long)np_plan_score(plan)->sum_distance;
	st->gap_term = np_term_name(np_plan_score(plan)->gap_term);
	st->gap = (unsigned long long)np_plan_score(plan)->gap;
	st->valid[0] = 0;
	if (st->fits && np_plan_validate(host, req, plan, &verr))
		snprintf(st->valid, sizeof(st->valid), "%s", verr.message);
	np_plan_free(plan);
	return 0;
}

static int time_place(const np_host *host, const np_request *req, const struct np_place_opts *opts,
		      const struct timing *tm, struct stats *st, struct np_error *err)
{
	size_t cap = 1024, n = 0;
	double *s = malloc(cap * sizeof(*s)), *c = malloc(cap * sizeof(*c)), start;
	int rc = first_call(host, req, opts, st, err);

	if (!s || !c || rc)
		goto out;
	start = now_s();
	while ((long)n < tm->min_calls || now_s() - start < tm->min_seconds) {
		np_plan *plan = NULL;
		double t0 = now_s(), c0 = cpu_s();

		rc = np_place(host, req, opts, &plan, err);
		np_plan_free(plan);
		if (rc)
			goto out;
		if (n == cap) {
			double *g = realloc(s, 2 * cap * sizeof(*s));
			double *h = g ? realloc(c, 2 * cap * sizeof(*c)) : NULL;

			if (g)
				s = g;
			if (!h)
				goto out;
			c = h;
			cap *= 2;
		}
		c[n] = (cpu_s() - c0) * 1e6;
		s[n++] = (now_s() - t0) * 1e6;
		if (n >= 1000000)
			break;
	}
	qsort(s, n, sizeof(*s), cmp_double);
	qsort(c, n, sizeof(*c), cmp_double);
	st->cpu_us = median(c, n);
	st->slowest_us = s[n - 1];
	st->cpu_slowest_us = c[n - 1];
	st->calls = (long)n;
	st->min_us = s[0];
	st->p90_us = s[(size_t)(0.9 * (double)(n - 1))];
	st->median_us = median(s, n);
out:
	free(s);
	free(c);
	return rc;
}

/* S as a JSON string (messages may quote names). */
void play_put_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_stats(const char *head, const struct stats *st)
{
	printf("{%s\"fits\": %s, \"median_us\": %.3f, \"min_us\": %.3f, \"p90_us\": %.3f, "
	       "\"cpu_us\": %.3f, \"slowest_us\": %.3f, \"cpu_slowest_us\": %.3f, \"calls\": %ld, "
	       "\"steps\": %llu, \"exact\": %s, \"max_distance\": %u, "
	       "\"best_max_distance\": %u, \"sum_distance\": %llu, \"gap_term\": \"%s\", "
	       "\"gap\": %llu, \"invalid\": ",
	       head, st->fits ? "true" : "false", st->median_us, st->min_us, st->p90_us, st->cpu_us,
	       st->slowest_us, st->cpu_slowest_us, st->calls,
	       st->steps, st->exact ? "true" : "false", st->max_distance, st->best_max_distance,
	       st->sum_distance, st->gap_term ? st->gap_term : "none", st->gap);
	play_put_json_str(st->valid);
	printf("}\n");
	fflush(stdout);
}

/* Read the next line of F into *BUF; 0 at the end. */
static ssize_t next_case(FILE *f, char **buf, size_t *cap)
{
	ssize_t len;

	while ((len = getline(buf, cap, f)) > 0) {
		if (len > 1)
			return len;
	}
	return 0;
}

static int bench_one_case(const char *line, size_t len, int idx, const struct timing *tm)
{
	np_nova_case *c = NULL;
	const np_request *req = NULL;
	struct np_place_opts opts = {0};
	struct stats st = {0};
	struct np_error err = {0};
	char head[32];
	int rc = np_nova_case_parse(line, len, "case", &c, &err);

	if (!rc && !np_nova_case_host(c)) {
		snprintf(err.message, sizeof(err.message), "case has no NUMA host");
		rc = -1;
	}
	if (!rc)
		rc = np_nova_case_request(c, 0, &req, &err);
	if (!rc) {
		opts.strategy = np_nova_case_strategy(c);
		opts.max_steps = tm->max_steps;
		opts.max_us = tm->max_us;
		rc = time_place(np_nova_case_host(c), req, &opts, tm, &st, &err);
	}
	snprintf(head, sizeof(head), "\"i\": %d, ", idx);
	if (rc) {
		printf("{%s\"error\": ", head);
		play_put_json_str(err.message);
		printf("}\n");
	} else
		print_stats(head, &st);
	np_nova_case_free(c);
	return rc;
}

/* Place request I of C and charge it; *FITS says whether it fitted. */
static int admit(np_nova_case *c, int i, const struct np_place_opts *opts, bool *fits,
		 struct np_error *err)
{
	const np_request *req = NULL;
	np_plan *plan = NULL;
	np_host *host = np_nova_case_host(c);
	int rc = np_nova_case_request(c, i, &req, err);

	if (!rc)
		rc = np_place(host, req, opts, &plan, err);
	if (rc)
		return rc;
	*fits = np_plan_fits(plan);
	if (*fits) {
		rc = np_plan_validate(host, req, plan, err);
		if (!rc)
			rc = np_host_charge(host, plan, false, err);
	}
	np_plan_free(plan);
	return rc;
}

/* Guests admitted before the first rejection; -1 and BAD filled on a bug. */
static int play(const char *line, size_t len, enum np_strategy strategy, char *bad, size_t badsz)
{
	np_nova_case *c = NULL;
	struct np_place_opts opts = {.strategy = strategy};
	struct np_error err = {0};
	int admitted = 0, n;
	bool fits = true;

	if (np_nova_case_parse(line, len, "case", &c, &err) || !np_nova_case_host(c)) {
		snprintf(bad, badsz, "%s", c ? "case has no NUMA host" : err.message);
		admitted = -1;
		goto out;
	}
	n = np_nova_case_request_count(c);
	for (; admitted < n && fits; admitted += fits) {
		if (admit(c, admitted, &opts, &fits, &err)) {
			snprintf(bad, badsz, "request %d: %s", admitted, err.message);
			admitted = -1;
			break;
		}
	}
out:
	np_nova_case_free(c);
	return admitted;
}

/* Both strategies on one sequence; false when either failed. */
static bool seq_one(const char *line, size_t len, int idx)
{
	char bad1[NP_ERROR_MAX + 32] = "", bad2[NP_ERROR_MAX + 32] = "";
	int s = play(line, len, NP_STRATEGY_SPREAD, bad1, sizeof(bad1));
	int p = play(line, len, NP_STRATEGY_PACK, bad2, sizeof(bad2));

	printf("{\"i\": %d, \"spread\": %d, \"pack\": %d, \"bad\": ", idx, s, p);
	play_put_json_str(bad1[0] ? bad1 : bad2);
	printf("}\n");
	fflush(stdout);
	return s >= 0 && p >= 0;
}

static int run_file(const char *path, bool seq, const struct timing *tm)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int idx = 0, failed = 0;

	if (!f) {
		fprintf(stderr, "np-bench: cannot open '%s': %s\n", path, strerror(errno));
		return 1;
	}
	while ((len = next_case(f, &line, &cap)) > 0) {
		if (seq)
			failed |= !seq_one(line, (size_t)len, idx++);
		else
			failed |= bench_one_case(line, (size_t)len, idx++, tm) != 0;
	}
	free(line);
	fclose(f);
	return failed;
}

/* An N-cell guest of VCPUS + MEM_MB per cell, as nova_bench.py asks for it. */
static int sysfs_request(int cells, int vcpus, int mem, const char *policy, np_request **req,
			 struct np_error *err)
{
	char nodes[16];
	struct np_kv specs[2] = {{"hw:numa_nodes", nodes}, {"hw:cpu_policy", policy}};

	snprintf(nodes, sizeof(nodes), "%d", cells);
	return np_request_from_nova((unsigned)(cells * vcpus), (uint64_t)cells * (uint64_t)mem,
				    specs, 2, NULL, 0, NULL, 0, req, err);
}

static int run_sysfs(char **argv, const struct timing *tm)
{
	np_topo *topo = NULL;
	np_host *host = NULL;
	np_request *req = NULL;
	struct stats st = {0};
	struct np_error err = {0};
	char head[128];
	double t0 = now_s(), load_ms;
	int rc = np_topo_load(NP_SOURCE_SYSFS, argv[0], &topo, &err);

	load_ms = (now_s() - t0) * 1e3;
	if (!rc)
		rc = np_host_new(topo, &host, &err);
	if (!rc) {
		np_host_set_limits(host, true, 16.0, 1.0);
		rc = sysfs_request((int)strtol(argv[1], NULL, 10), (int)strtol(argv[2], NULL, 10),
				   (int)strtol(argv[3], NULL, 10), argv[4], &req, &err);
	}
	if (!rc)
		rc = time_place(host, req,
				&(struct np_place_opts){.max_steps = tm->max_steps, .max_us = tm->max_us},
				tm, &st, &err);
	if (rc)
		fprintf(stderr, "np-bench: %s\n", err.message);
	else {
		snprintf(head, sizeof(head), "\"nodes\": %d, \"load_ms\": %.2f, ",
			 np_topo_node_count(topo), load_ms);
		print_stats(head, &st);
	}
	np_request_free(req);
	np_host_free(host);
	np_topo_free(topo);
	return rc != 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: np-bench fit|seq [OPTIONS] CASES.jsonl\n"
			"       np-bench sysfs ROOT CELLS VCPUS MEM_MB POLICY [OPTIONS]\n"
			"       np-bench play WORKLOADS.jsonl [--nova NOVA.jsonl] [--max-moves N]\n"
			"                     [--flavors CATALOGUE.json] [--only PLACER,...]\n"

			"options: --min-calls N, --min-seconds S, --max-steps N, --max-us N\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct timing tm = {50, 0.5, 0, 0};
	const char *nova = NULL;
	char *pos[8];
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--min-calls") && i + 1 < argc)
			tm.min_calls = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--min-seconds") && i + 1 < argc)
			tm.min_seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--max-steps") && i + 1 < argc)
			tm.max_steps = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--max-us") && i + 1 < argc)
			tm.max_us = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--nova") && i + 1 < argc)
			nova = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			play_set_only(argv[++i]);
		else if (!strcmp(argv[i], "--flavors") && i + 1 < argc) {
			if (play_set_flavors(argv[++i]))
				return 2;
		} else if (!strcmp(argv[i], "--max-moves") && i + 1 < argc)
			play_set_max_moves((int)strtol(argv[++i], NULL, 10));
		else if (npos < 8)
			pos[npos++] = argv[i];
		else
			return usage();
	}
	if (npos == 2 && !strcmp(pos[0], "fit"))
		return run_file(pos[1], false, &tm);
	if (npos == 2 && !strcmp(pos[0], "seq"))
		return run_file(pos[1], true, &tm);
	if (npos == 2 && !strcmp(pos[0], "play")) {
		int rc = play_file(pos[1], nova);
		unsigned long long d, c, s, g;

		play_lookahead_stats(&d, &c, &s, &g);
		if (d)
			fprintf(stderr, "np-lookahead: %llu decisions, %llu candidates, %llu futures, "
					"%llu guests placed in them\n", d, c, s, g);
		play_free_flavors();
		return rc;
	}
	if (npos == 6 && !strcmp(pos[0], "sysfs"))
		return run_sysfs(pos + 1, &tm);
	return usage();
}
