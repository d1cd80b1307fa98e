/*
 * cmd-simulate.c - `numaplace simulate`: run an experiment (a JSON file or
 * a built-in one) on the simulator and print its tables, JSON or plots.
 *
 * The experiment's host may be replaced by any topology source option;
 * any setting may be overridden with --set KEY=VALUE.  Progress goes to
 * standard error, only when it is a terminal.  Exit codes: 0 ok, 2 bad
 * experiment or usage, 1 when the simulator broke one of its own
 * invariants (a bug: the message says which, when and under what).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <numaplace/sim.h>

#include "cli.h"

enum { OPT_FORMAT = 1, OPT_OUTPUT, OPT_SET, OPT_THREADS, OPT_NO_CHECK, OPT_LIST, OPT_SHOW,
       OPT_CONSTANTS };

#define SETS_MAX 64

static const struct cli_opt opts[] = {
	CLI_SOURCE_SECTION("Host topology (default: the experiment's own host):"),
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_sim_format, .meta = "FMT", .heading = "Options:",
	  .help = "text (default), json, svg (throughput against guests,\n"
		  "and the timeline of vCPUs outside soft affinity)" },
	{ .id = OPT_OUTPUT, .name = "output", .letter = 'o', .type = CLI_OUTPUT,
	  .help = "write there (default and -: standard output)" },
	{ .id = OPT_SET, .name = "set", .type = CLI_TEXT, .flags = CLI_REPEAT, .meta = "KEY=VALUE",
	  .help = "override a setting: duration_s, measure_from_s,\n"
		  "repetitions, seed, guest_counts (2,6,10), configs\n"
		  "(names to keep), model.NAME, balancer.NAME,\n"
		  "workloads.NAME.memory_intensity|bandwidth_mb_s" },
	{ .id = OPT_THREADS, .name = "threads", .type = CLI_INT, .min = 1, .max = 64,
	  .help = "runs in parallel (default: one per CPU)" },
	{ .id = OPT_NO_CHECK, .name = "no-check", .type = CLI_FLAG,
	  .help = "do not check the invariants at every step" },
	{ .id = OPT_LIST, .name = "list", .type = CLI_FLAG, .help = "list the built-in experiments" },
	{ .id = OPT_SHOW, .name = "show", .type = CLI_TEXT, .meta = "NAME",
	  .help = "print a built-in experiment's JSON, to copy and edit" },
	{ .id = OPT_CONSTANTS, .name = "constants", .type = CLI_FLAG,
	  .help = "list the model's constants and their defaults" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

struct args {
	const struct cli_verb *verb;
	struct cli_source src;
	enum np_sim_format format;
	const char *output;
	const char *exp;
	const char *sets[SETS_MAX];
	int nsets;
	long threads;
	bool no_check;
};

static int list_builtins(void)
{
	for (const char *const *n = np_sim_builtin_names(); *n; n++)
		printf("%-18s %s\n", *n, np_sim_builtin_summary(*n));
	return CLI_OK;
}

static int show_builtin(const char *name)
{
	const char *json = np_sim_builtin_json(name);

	if (!json)
		return cli_usage_error(&cli_verb_simulate, "no built-in experiment '%s' (see --list)",
				       name);
	fputs(json, stdout);
	return CLI_OK;
}

static int constants(void)
{
	struct np_error err = { 0 };

	return np_sim_write_constants(stdout, &err) ? cli_fail(&err) : CLI_OK;
}

/* The options in A into X; 0 or a usage error's exit code. */
static int get_args(const struct cli_args *a, struct args *x)
{
	const struct cli_verb *verb = a->verb;
	int rc;

	x->verb = verb;
	x->format = (enum np_sim_format)cli_num(a, OPT_FORMAT, NP_SIM_TEXT);
	x->output = cli_text(a, OPT_OUTPUT);
	x->threads = (long)cli_num(a, OPT_THREADS, 0);
	x->no_check = cli_given(a, OPT_NO_CHECK);
	x->exp = a->nargs ? a->args[0] : NULL;
	for (int i = 0; i < cli_count(a, OPT_SET); i++) {
		const char *kv = cli_nth(a, OPT_SET, i);

		if (x->nsets == SETS_MAX || !strchr(kv, '='))
			return cli_usage_error(verb, "--set takes KEY=VALUE (at most %d), not '%s'",
					       SETS_MAX, kv);
		x->sets[x->nsets++] = kv;
	}
	if ((rc = cli_source_get(a, false, &x->src)))
		return rc;
	if (!x->exp)
		return cli_usage_error(verb, "which experiment? a JSON file or one of "
				       "lpc2012, lpc2012-sysbench, stuck-vcpus, bursty, make-room");
	return CLI_OK;
}

/*
 * EXP names a file when one exists there, else a built-in experiment;
 * "-" is standard input.
 */
static int load(const struct args *a, np_sim_exp **x)
{
	struct np_error err = { 0 };
	struct stat st;
	size_t len;
	char *buf;
	int rc;

	if (strcmp(a->exp, "-") == 0) {
		if ((rc = cli_read_file(a->exp, &buf, &len)))
			return rc;
		rc = np_sim_exp_parse(buf, len, cli_input_name(a->exp), NULL, x, &err);
		free(buf);
	} else if (stat(a->exp, &st) != 0 && np_sim_builtin_json(a->exp)) {
		rc = np_sim_exp_builtin(a->exp, x, &err);
	} else {
		rc = np_sim_exp_load(a->exp, x, &err);
	}
	return rc ? cli_fail(&err) : CLI_OK;
}

static int apply_args(const struct args *a, np_sim_exp *x)
{
	struct np_error err = { 0 };
	np_topo *topo = NULL;
	int rc;

	for (int i = 0; i < a->nsets; i++) {
		char key[128];
		const char *eq = strchr(a->sets[i], '=');

		snprintf(key, sizeof(key), "%.*s", (int)(eq - a->sets[i]), a->sets[i]);
		if (np_sim_exp_set(x, key, eq + 1, &err))
			return cli_fail(&err);
	}
	if (!a->src.given)
		return CLI_OK;
	rc = cli_load_topology(&a->src, &topo);
	if (rc)
		return rc;
	if (np_sim_exp_set_host(x, topo, &err)) {
		np_topo_free(topo);
		return cli_fail(&err);
	}
	return CLI_OK;
}

static void progress(void *arg, int done, int total, double sim_s, double wall_s)
{
	const char *name = arg;

	fprintf(stderr, "\rsimulate %s: %d/%d runs, %.0f simulated s, %.0f per wall s   ", name,
		done, total, sim_s, wall_s > 0 ? sim_s / wall_s : 0);
	if (done == total)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static int simulate(const struct args *a, np_sim_exp *x, FILE *out)
{
	struct np_sim_opts o;
	struct np_error err = { 0 };
	np_sim_result *res = NULL;
	int rc;

	np_sim_opts_default(&o);
	o.threads = (int)a->threads;
	o.check = !a->no_check;
	if (isatty(STDERR_FILENO)) {
		o.progress = progress;
		o.progress_arg = (void *)np_sim_exp_name(x);
	}
	rc = np_sim_exp_run(x, &o, &res, &err);
	if (rc && strcmp(err.reason, "sim_invariant_broken") == 0) {
		fprintf(stderr, "numaplace: %s\n", err.message);
		return CLI_FAILED;
	}
	if (!rc)
		rc = np_sim_result_write(res, a->format, out, &err);
	np_sim_result_free(res);
	return rc ? cli_fail(&err) : CLI_OK;
}

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct args x = { 0 };
	np_sim_exp *exp = NULL;
	FILE *out = NULL;
	int rc;

	if (cli_given(a, OPT_LIST))
		return list_builtins();
	if (cli_given(a, OPT_SHOW))
		return show_builtin(cli_text(a, OPT_SHOW));
	if (cli_given(a, OPT_CONSTANTS))
		return constants();
	if ((rc = get_args(a, &x)))
		return rc;
	rc = load(&x, &exp);
	if (!rc)
		rc = apply_args(&x, exp);
	if (!rc)
		rc = cli_open_output(x.output, "w", &out);
	if (!rc)
		rc = cli_close_output(x.output, out, simulate(&x, exp, out));
	np_sim_exp_free(exp);
	return rc;
}

const struct cli_verb cli_verb_simulate = {
	.name = "simulate",
	.summary = "simulate NUMA hosts, schedulers and workloads",
	.synopsis = "usage: numaplace simulate EXPERIMENT [SOURCE] [options]\n",
	.about = "Simulate guests on a NUMA host under Xen's schedulers (credit1 with hard or\n"
		 "soft affinity, a credit2-like scheduler with a runqueue per node) and\n"
		 "numaplace's balancer, with workloads whose speed depends on where their\n"
		 "memory is.  EXPERIMENT is a numaplace.experiment/1 JSON file (docs/sim.md;\n"
		 "- for standard input) or a built-in experiment:\n"
		 "  lpc2012            LPC 2012: 2-10 guests, all-cpus vs auto-pinning vs\n"
		 "                     auto-affinity, SPECjbb-like, vs the published gains\n"
		 "  lpc2012-sysbench   the same testbed with a sysbench-memory-like workload\n"
		 "  stuck-vcpus        the XAPI notes' stuck vCPUs: credit1, credit2, numaplace\n"
		 "  bursty             static placement vs dynamic rebalancing\n"
		 "  make-room          a guest admitted after moving another guest's cell\n"
		 "                     (place --allow-moves), the move's migration charged\n",
	.opts = opts,
	.epilog = "Examples:\n"
		  "  numaplace simulate lpc2012\n"
		  "  numaplace simulate lpc2012 --format json -o lpc.json\n"
		  "  numaplace simulate stuck-vcpus --format svg -o stuck.svg\n"
		  "  numaplace simulate make-room --set repetitions=1 --set duration_s=30\n"
		  "  numaplace simulate my.json --host /tmp/sysfs-dump --set duration_s=10\n",
	.max_args = 1,
	.run = run,
};
