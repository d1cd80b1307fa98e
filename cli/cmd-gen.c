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
#include <stdio.h>
#include <unistd.h>

#include <numaplace/gen.h>

#include "cli.h"

enum { OPT_SEED = 1, OPT_COUNT, OPT_OUTPUT, OPT_SHAPE, OPT_RATIO, OPT_GUESTS, OPT_CHURN,
       OPT_NO_CHURN, OPT_PRETTY, OPT_LIST, OPT_FLAVORS };

static const struct cli_opt opts[] = {
	CLI_SOURCE_SECTION("Host topology (default: a host generated from the family's shape\n"
			   "and --shape):"),
	{ .id = OPT_COUNT, .name = "count", .letter = 'n', .type = CLI_INT, .min = 1,
	  .max = 1000000, .heading = "Options:",
	  .help = "N workloads, seeds SEED, SEED+1, ... (default 1)" },
	{ .id = OPT_SEED, .name = "seed", .letter = 's', .type = CLI_INT, .min = 0,
	  .max = (double)NP_GEN_SEED_MAX, .what = "a seed from 0 to 2^63-1",
	  .help = "the first seed (default 1), 0 to 2^63-1" },
	{ .id = OPT_SHAPE, .name = "shape", .type = CLI_TEXT, .meta = "KEYS",
	  .help = "host shape keys on top of the family's, e.g.\n"
		  "nodes=16,sockets=2,dist=2level (nodes, cpus, smt, mem,\n"
		  "sockets, dist=uniform|2level|snc|ring|mesh, cxl, cxl_mem,\n"
		  "huge2m, huge1g, nics, nic_every, shared); with a real\n"
		  "host only huge2m, huge1g, nics, nic_every and shared" },
	{ .id = OPT_RATIO, .name = "ratio", .type = CLI_REAL, .min = 0.01, .max = 1024,
	  .meta = "R", .help = "CPU allocation ratio for floating vCPUs (default: the\n"
			      "family's)" },
	{ .id = OPT_GUESTS, .name = "guests", .type = CLI_INT, .min = 1, .max = 100000,
	  .help = "exactly N arrivals instead of until over-full" },
	{ .id = OPT_CHURN, .name = "churn", .type = CLI_FLAG,
	  .help = "guests leave again (`events`)" },
	{ .id = OPT_NO_CHURN, .name = "no-churn", .type = CLI_FLAG,
	  .help = "arrivals only (default: churn for the churn family)" },
	{ .id = OPT_PRETTY, .name = "pretty", .type = CLI_FLAG,
	  .help = "indented JSON (one document after another)" },
	{ .id = OPT_OUTPUT, .name = "output", .letter = 'o', .type = CLI_OUTPUT,
	  .help = "write there (default and -: standard output)" },
	{ .id = OPT_FLAVORS, .name = "flavors", .type = CLI_FLAG,
	  .help = "write the family's flavor catalogue instead: the guests\n"
		  "it draws for this host and how often (numaplace.flavors/1,\n"
		  "for place/claim/schedule --flavors)" },
	{ .id = OPT_LIST, .name = "list", .type = CLI_FLAG,
	  .help = "list the families with their shapes" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static int list_families(void)
{
	for (int i = 0; i < np_gen_family_count(); i++)
		printf("%-10s %s\n%-10s shape: %s\n", np_gen_family_name(i),
		       np_gen_family_summary(i), "", *np_gen_family_shape(i) ?
		       np_gen_family_shape(i) : "nodes=4,cpus=16,mem=32G (the default)");
	return CLI_OK;
}

static void progress(long long done, long long total)
{
	fprintf(stderr, "\rgen: %lld/%lld workloads   ", done, total);
	if (done == total)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

/* COUNT workloads with seeds from O's on, to OUT. */
static int generate(const struct cli_verb *verb, struct np_gen_opts *o, long long count,
		    FILE *out)
{
	struct np_error err = { 0 };
	uint64_t first = o->seed;
	bool tty = count > 1 && isatty(STDERR_FILENO);

	for (long long i = 0; i < count; i++) {
		if (first + (uint64_t)i > (uint64_t)NP_GEN_SEED_MAX)
			return cli_usage_error(verb, "seeds run past 2^63-1");
		o->seed = first + (uint64_t)i;
		if (np_gen_write(o, out, &err))
			return cli_fail(&err);
		if (tty && (i % 16 == 15 || i + 1 == count))
			progress(i + 1, count);
	}
	return CLI_OK;
}

static int catalogue(struct np_gen_opts *o, FILE *out)
{
	struct np_error err = { 0 };

	return np_gen_write_flavors(o, out, &err) ? cli_fail(&err) : CLI_OK;
}

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct np_gen_opts o = { .family = a->nargs ? a->args[0] : NULL,
				 .seed = (uint64_t)cli_num(a, OPT_SEED, 1),
				 .shape = cli_text(a, OPT_SHAPE),
				 .cpu_ratio = cli_real(a, OPT_RATIO, 0),
				 .guests = (int)cli_num(a, OPT_GUESTS, 0),
				 .indent = cli_given(a, OPT_PRETTY) ? 1 : 0 };
	const char *output = cli_text(a, OPT_OUTPUT);
	struct cli_source src;
	np_topo *topo = NULL;
	FILE *out;
	int rc;

	if (cli_given(a, OPT_LIST))
		return list_families();
	if (cli_given(a, OPT_FLAVORS) && (cli_given(a, OPT_COUNT) || cli_given(a, OPT_GUESTS) ||
					   cli_given(a, OPT_CHURN) || cli_given(a, OPT_NO_CHURN)))
		return cli_usage_error(verb, "--flavors writes one catalogue: no --count, "
				       "--guests, --churn or --no-churn");
	if (cli_given(a, OPT_CHURN) && cli_given(a, OPT_NO_CHURN))
		return cli_usage_error(verb, "give --churn or --no-churn, not both");
	o.churn = cli_given(a, OPT_CHURN)      ? NP_GEN_CHURN_ON
		  : cli_given(a, OPT_NO_CHURN) ? NP_GEN_CHURN_OFF
					       : NP_GEN_CHURN_DEFAULT;
	if ((rc = cli_source_get(a, false, &src)))
		return rc;
	if (src.given && (rc = cli_load_topology(&src, &topo)))
		return rc;
	o.topo = topo;
	if (!(rc = cli_open_output(output, "w", &out)))
		rc = cli_close_output(output, out,
				      cli_given(a, OPT_FLAVORS) ? catalogue(&o, out)
								: generate(verb, &o,
									   cli_num(a, OPT_COUNT, 1), out));
	np_topo_free(topo);
	return rc;
}

const struct cli_verb cli_verb_gen = {
	.name = "gen",
	.summary = "write seeded synthetic workloads (host + guests)",
	.synopsis = "usage: numaplace gen [FAMILY] [SOURCE] [options]\n",
	.about = "Write seeded, reproducible workloads: a host and guests arriving on it (and,\n"
		 "with churn, leaving again) as Nova case JSON (shared/nova/CASE_FORMAT.md, plus\n"
		 "`workload` and `events`; docs/formats/workload.md), one workload per line.\n"
		 "`numaplace place --case` and Nova's nova_fit.py read each line as it is.\n"
		 "The same options give the same bytes on every machine.\n"
		 "\n"
		 "FAMILY (default dedicated) is a request mix with its own host shape and CPU\n"
		 "allocation ratio; --list shows them.  The guests arrive until the ones present\n"
		 "at once ask more than the host has, so every placer meets a refusal.\n"
		 "\n"
		 "--flavors writes the family's flavor catalogue instead (docs/formats/\n"
		 "flavors.md): which guests it draws and how often, never in which order.\n",
	.opts = opts,
	.epilog = "Exit: 0 written, 2 bad options or input, 1 writing failed.\n"
		  "\n"
		  "Examples:\n"
		  "  numaplace gen --list\n"
		  "  numaplace gen shared --seed 7 --ratio 4 --guests 6 -o shared.json\n"
		  "  numaplace place --case shared.json\n"
		  "  numaplace gen large4 --shape nodes=16,sockets=4,dist=snc --count 10 -o large4.jsonl\n"
		  "  numaplace gen churn --guests 200 --pretty\n"
		  "  numaplace gen mem-bound --flavors -o mem-bound-flavors.json\n"
		  "  numaplace topology --format json -o host.json\n"
		  "  numaplace gen pci --host host.json --seed 3\n",
	.max_args = 1,
	.run = run,
};
