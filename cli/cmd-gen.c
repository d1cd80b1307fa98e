/*
 * cmd-gen.c - `numaplace gen`: seeded synthetic workloads (a host and a
 * sequence of guest requests, with departures for churn) as Nova case
 * JSON, one workload per line, for `numaplace place --case`, Nova's own
 * code and the benchmarks (docs/formats/workload.md).
 *
 * The library does the work (gen.h); this file reads options, loads a
 * real topology when one is given, and writes COUNT workloads with seeds
 * SEED, SEED + 1, ...  Progress goes to standard error when it is a
 * terminal and there is more than one workload.  Exit codes: 0 ok, 2 bad
 * options or input, 1 when writing fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaplace/gen.h>

#include "cli.h"

const char cmd_gen_usage[] =
	"usage: numaplace gen [FAMILY] [SOURCE] [options]\n"
	"\n"
	"Write seeded, reproducible workloads: a host and guests arriving on it (and,\n"
	"with churn, leaving again) as Nova case JSON (shared/nova/CASE_FORMAT.md, plus\n"
	"`workload` and `events`; docs/formats/workload.md), one workload per line.\n"
	"`numaplace place --case` and Nova's nova_fit.py read each line as it is.\n"
	"The same options give the same bytes on every machine.\n"
	"\n"
	"FAMILY (default dedicated) is a request mix with its own host shape and CPU\n"
	"allocation ratio; --list shows them.  The guests arrive until the ones present\n"
	"at once ask more than the host has, so every placer meets a refusal.\n"
	"\n"
	CLI_SOURCE_HELP
	"  (default: a host generated from the family's shape and --shape)\n"
	"\n"
	"Options:\n"
	"  -s, --seed N         the first seed (default 1), 0 to 2^63-1\n"
	"  -n, --count N        N workloads, seeds N, N+1, ... (default 1)\n"
	"      --shape KEYS     host shape keys on top of the family's, e.g.\n"
	"                       nodes=16,sockets=2,dist=2level (nodes, cpus, smt, mem,\n"
	"                       sockets, dist=uniform|2level|snc|ring|mesh, cxl, cxl_mem,\n"
	"                       huge2m, huge1g, nics, nic_every, shared); with a real\n"
	"                       host only huge2m, huge1g, nics, nic_every and shared\n"
	"      --ratio R        CPU allocation ratio for floating vCPUs (default: the\n"
	"                       family's)\n"
	"      --guests N       exactly N arrivals instead of until over-full\n"
	"      --churn          guests leave again (`events`); --no-churn: arrivals only\n"
	"      --pretty         indented JSON (one document after another)\n"
	"  -o, --output FILE    write there instead of standard output\n"
	"      --list           list the families with their shapes\n"
	"  -h, --help           this text\n"
	"\n"
	"Examples:\n"
	"  numaplace gen --list\n"
	"  numaplace gen shared --seed 7 --ratio 4 -o shared.json\n"
	"  numaplace place --case shared.json\n"
	"  numaplace gen large4 --shape nodes=16,sockets=4,dist=snc --count 10 -o large4.jsonl\n"
	"  numaplace gen churn --guests 200 --pretty\n"
	"  numaplace topology --format json -o host.json\n"
	"  numaplace gen pci --host host.json --seed 3\n";

enum {
	OPT_SHAPE = CLI_OPT_FIRST_FREE,
	OPT_RATIO,
	OPT_GUESTS,
	OPT_CHURN,
	OPT_NO_CHURN,
	OPT_PRETTY,
	OPT_LIST,
};

struct args {
	struct cli_source src;
	struct np_gen_opts o;
	long long count;
	const char *output;
	bool list;
};

static int list_families(void)
{
	for (int i = 0; i < np_gen_family_count(); i++)
		printf("%-10s %s\n%-10s shape: %s\n", np_gen_family_name(i),
		       np_gen_family_summary(i), "", *np_gen_family_shape(i) ?
		       np_gen_family_shape(i) : "nodes=4,cpus=16,mem=32G (the default)");
	return CLI_OK;
}

/* A whole decimal number in MIN..MAX; false otherwise. */
static bool whole(const char *arg, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max || strspn(arg, "0123456789") !=
	    strlen(arg))
		return false;
	*out = v;
	return true;
}

static int number(const char *opt, const char *arg, long long min, long long max,
		  long long *out)
{
	if (whole(arg, min, max, out))
		return 0;
	return cli_usage_error("gen", "%s wants a number from %lld to %lld, not '%s'", opt, min,
			       max, arg);
}

static int ratio(const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v > 0 && v <= 1024))
		return cli_usage_error("gen", "--ratio wants a number above 0, at most 1024, not "
				       "'%s'", arg);
	*out = v;
	return 0;
}

/* One option; 0 when handled, else the exit code of a usage error. */
static int option(struct args *a, int opt, const char *arg, const char *word)
{
	long long v;
	int rc;

	switch (opt) {
	case 's':
		rc = number("--seed", arg, 0, NP_GEN_SEED_MAX, &v);
		a->o.seed = (uint64_t)v;
		return rc;
	case 'n': return number("--count", arg, 1, 1000000, &a->count);
	case 'o': a->output = arg; return 0;
	case OPT_SHAPE: a->o.shape = arg; return 0;
	case OPT_RATIO: return ratio(arg, &a->o.cpu_ratio);
	case OPT_GUESTS:
		rc = number("--guests", arg, 1, 100000, &v);
		a->o.guests = (int)v;
		return rc;
	case OPT_CHURN: a->o.churn = NP_GEN_CHURN_ON; return 0;
	case OPT_NO_CHURN: a->o.churn = NP_GEN_CHURN_OFF; return 0;
	case OPT_PRETTY: a->o.indent = 1; return 0;
	case OPT_LIST: a->list = true; return 0;
	case ':': return cli_usage_error("gen", "option '%s' needs a value", word);
	default: return cli_usage_error("gen", "unknown option '%s'", word);
	}
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		CLI_SOURCE_OPTIONS,
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "shape", required_argument, NULL, OPT_SHAPE },
		{ "ratio", required_argument, NULL, OPT_RATIO },
		{ "guests", required_argument, NULL, OPT_GUESTS },
		{ "churn", no_argument, NULL, OPT_CHURN },
		{ "no-churn", no_argument, NULL, OPT_NO_CHURN },
		{ "pretty", no_argument, NULL, OPT_PRETTY },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":s:n:o:h", longopts, NULL)) != -1) {
		rc = cli_source_option("gen", opt, optarg, &a->src);
		if (rc < 0)
			return CLI_BAD_INPUT;
		if (rc > 0)
			continue;
		if (opt == 'h')
			return -1;
		if ((rc = option(a, opt, optarg, argv[optind - 1])))
			return rc;
	}
	if (optind < argc)
		a->o.family = argv[optind++];
	if (optind < argc)
		return cli_usage_error("gen", "unexpected argument '%s'", argv[optind]);
	return 0;
}

static void progress(long long done, long long total)
{
	fprintf(stderr, "\rgen: %lld/%lld workloads   ", done, total);
	if (done == total)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static int generate(struct args *a, FILE *out)
{
	struct np_error err = { 0 };
	uint64_t first = a->o.seed;
	bool tty = a->count > 1 && isatty(STDERR_FILENO);

	for (long long i = 0; i < a->count; i++) {
		if (first + (uint64_t)i > (uint64_t)NP_GEN_SEED_MAX)
			return cli_usage_error("gen", "seeds run past 2^63-1");
		a->o.seed = first + (uint64_t)i;
		if (np_gen_write(&a->o, out, &err))
			return cli_fail(&err);
		if (tty && (i % 16 == 15 || i + 1 == a->count))
			progress(i + 1, a->count);
	}
	return CLI_OK;
}

static int run(struct args *a)
{
	np_topo *topo = NULL;
	FILE *out = stdout;
	int rc = CLI_OK;

	if (a->src.given && (rc = cli_load_topology(&a->src, &topo)))
		return rc;
	a->o.topo = topo;
	if (a->output && !(out = fopen(a->output, "w"))) {
		fprintf(stderr, "numaplace: cannot write '%s': %s\n", a->output, strerror(errno));
		rc = CLI_FAILED;
	}
	if (!rc)
		rc = generate(a, out);
	if (out != stdout && fclose(out) && !rc) {
		fprintf(stderr, "numaplace: cannot write '%s': %s\n", a->output, strerror(errno));
		rc = CLI_FAILED;
	}
	np_topo_free(topo);
	return rc;
}

int cmd_gen(int argc, char **argv)
{
	struct args a = { .count = 1, .o = { .seed = 1 } };
	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc < 0 ? cli_help("gen") : rc;
	if (a.list)
		return list_families();
	return run(&a);
}
