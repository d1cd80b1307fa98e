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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <numaplace/sim.h>

#include "cli.h"

const char cmd_simulate_usage[] =
	"usage: numaplace simulate EXPERIMENT [SOURCE] [options]\n"
	"\n"
	"Simulate guests on a NUMA host under Xen's schedulers (credit1 with hard or\n"
	"soft affinity, a credit2-like scheduler with a runqueue per node) and\n"
	"numaplace's balancer, with workloads whose speed depends on where their\n"
	"memory is.  EXPERIMENT is a numaplace.experiment/1 JSON file (docs/sim.md)\n"
	"or a built-in experiment:\n"
	"  lpc2012            LPC 2012: 2-10 guests, all-cpus vs auto-pinning vs\n"
	"                     auto-affinity, SPECjbb-like, vs the published gains\n"
	"  lpc2012-sysbench   the same testbed with a sysbench-memory-like workload\n"
	"  stuck-vcpus        the XAPI notes' stuck vCPUs: credit1, credit2, numaplace\n"
	"  bursty             static placement vs dynamic rebalancing\n"
	"\n"
	CLI_SOURCE_HELP
	"  (default: the experiment's own host)\n"
	"\n"
	"Options:\n"
	"  -f, --format FMT     text (default), json, svg (throughput against guests,\n"
	"                       and the timeline of vCPUs outside soft affinity)\n"
	"  -o, --output FILE    write there instead of standard output\n"
	"      --set KEY=VALUE  override a setting: duration_s, measure_from_s,\n"
	"                       repetitions, seed, guest_counts (2,6,10), configs\n"
	"                       (names to keep), model.NAME, balancer.NAME,\n"
	"                       workloads.NAME.memory_intensity|bandwidth_mb_s\n"
	"      --threads N      runs in parallel (default: one per CPU)\n"
	"      --no-check       do not check the invariants at every step\n"
	"      --list           list the built-in experiments\n"
	"      --show NAME      print a built-in experiment's JSON, to copy and edit\n"
	"      --constants      list the model's constants and their defaults\n"
	"  -h, --help           this text\n"
	"\n"
	"Examples:\n"
	"  numaplace simulate lpc2012\n"
	"  numaplace simulate lpc2012 --format json -o lpc.json\n"
	"  numaplace simulate stuck-vcpus --format svg -o stuck.svg\n"
	"  numaplace simulate my.json --host /tmp/sysfs-dump --set duration_s=10\n";

enum {
	OPT_SET = CLI_OPT_FIRST_FREE,
	OPT_THREADS,
	OPT_NO_CHECK,
	OPT_LIST,
	OPT_SHOW,
	OPT_CONSTANTS,
};

#define SETS_MAX 64

struct args {
	struct cli_source src;
	enum np_sim_format format;
	const char *output;
	const char *exp;
	const char *sets[SETS_MAX];
	int nsets;
	long threads;
	bool no_check;
	int action; /* 0 simulate, OPT_LIST, OPT_SHOW, OPT_CONSTANTS */
	const char *show;
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
		return cli_usage_error("simulate", "no built-in experiment '%s' (see --list)", name);
	fputs(json, stdout);
	return CLI_OK;
}

static int constants(void)
{
	struct np_error err = { 0 };

	return np_sim_write_constants(stdout, &err) ? cli_fail(&err) : CLI_OK;
}

/* One option; 0 when handled, else the exit code of a usage error. */
static int option(struct args *a, int opt, const char *arg, const char *word)
{
	long l;

	switch (opt) {
	case 'f':
		if (np_sim_format_from_name(arg, &a->format))
			return cli_usage_error("simulate", "unknown format '%s' (text, json, svg)", arg);
		return 0;
	case 'o': a->output = arg; return 0;
	case OPT_SET:
		if (a->nsets == SETS_MAX || !strchr(arg, '='))
			return cli_usage_error("simulate", "--set takes KEY=VALUE (at most %d), not "
					       "'%s'", SETS_MAX, arg);
		a->sets[a->nsets++] = arg;
		return 0;
	case OPT_THREADS:
		if (sscanf(arg, "%ld", &l) != 1 || l < 1 || l > 64 || strspn(arg, "0123456789") !=
		    strlen(arg))
			return cli_usage_error("simulate", "--threads takes 1 to 64, not '%s'", arg);
		a->threads = l;
		return 0;
	case OPT_NO_CHECK: a->no_check = true; return 0;
	case OPT_SHOW: a->show = arg; a->action = opt; return 0;
	case OPT_LIST:
	case OPT_CONSTANTS: a->action = opt; return 0;
	case ':': return cli_usage_error("simulate", "option '%s' needs a value", word);
	default: return cli_usage_error("simulate", "unknown option '%s'", word);
	}
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		CLI_SOURCE_OPTIONS,
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "set", required_argument, NULL, OPT_SET },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "no-check", no_argument, NULL, OPT_NO_CHECK },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "show", required_argument, NULL, OPT_SHOW },
		{ "constants", no_argument, NULL, OPT_CONSTANTS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
		rc = cli_source_option("simulate", opt, optarg, &a->src);
		if (rc < 0)
			return CLI_BAD_INPUT;
		if (rc > 0)
			continue;
		if (opt == 'h')
			return -1;
		rc = option(a, opt, optarg, argv[optind - 1]);
		if (rc)
			return rc;
	}
	if (optind < argc)
		a->exp = argv[optind++];
	if (optind < argc)
		return cli_usage_error("simulate", "unexpected argument '%s'", argv[optind]);
	if (!a->exp && !a->action)
		return cli_usage_error("simulate", "which experiment? a JSON file or one of "
				       "lpc2012, lpc2012-sysbench, stuck-vcpus, bursty");
	return 0;
}

/* EXP names a file when one exists there, else a built-in experiment. */
static int load(const struct args *a, np_sim_exp **x)
{
	struct np_error err = { 0 };
	struct stat st;
	int rc;

	if (stat(a->exp, &st) != 0 && np_sim_builtin_json(a->exp))
		rc = np_sim_exp_builtin(a->exp, x, &err);
	else
		rc = np_sim_exp_load(a->exp, x, &err);
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

int cmd_simulate(int argc, char **argv)
{
	struct args a = { .format = NP_SIM_TEXT };
	np_sim_exp *x = NULL;
	FILE *out = stdout;
	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc < 0 ? cli_help("simulate") : rc;
	if (a.action == OPT_LIST)
		return list_builtins();
	if (a.action == OPT_SHOW)
		return show_builtin(a.show);
	if (a.action == OPT_CONSTANTS)
		return constants();
	rc = load(&a, &x);
	if (!rc)
		rc = apply_args(&a, x);
	if (!rc && a.output && !(out = fopen(a.output, "w"))) {
		fprintf(stderr, "numaplace: cannot write '%s': %s\n", a.output, strerror(errno));
		rc = CLI_FAILED;
	}
	if (!rc)
		rc = simulate(&a, x, out);
	if (out != stdout && fclose(out) && !rc) {
		fprintf(stderr, "numaplace: cannot write '%s': %s\n", a.output, strerror(errno));
		rc = CLI_FAILED;
	}
	np_sim_exp_free(x);
	return rc;
}
