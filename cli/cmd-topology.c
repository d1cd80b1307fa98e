/*
 * cmd-topology.c - `numaplace topology`: load the host's topology from any
 * source and show it as text, JSON or SVG.
 */
#include "cli.h"

enum { OPT_FORMAT = 1, OPT_OUTPUT };

static const struct cli_opt opts[] = {
	CLI_SOURCE_SECTION(CLI_SOURCE_HEADING),
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_topo_format, .meta = "FMT", .heading = "Output:",
	  .help = "text (default), json (numaplace.topology/1, read back\n"
		  "by --json), svg (a drawing of the host)" },
	{ .id = OPT_OUTPUT, .name = "output", .letter = 'o', .type = CLI_OUTPUT,
	  .help = "write there (default and -: standard output)" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct cli_source src;
	struct np_error err = { 0 };
	const char *output;
	np_topo *topo = NULL;
	FILE *out;
	int rc;

	if ((rc = cli_source_get(a, false, &src)) || (rc = cli_load_topology(&src, &topo)))
		return rc;
	output = cli_text(a, OPT_OUTPUT);
	if ((rc = cli_open_output(output, "w", &out))) {
		np_topo_free(topo);
		return rc;
	}
	rc = np_topo_write(topo, (enum np_topo_format)cli_num(a, OPT_FORMAT, NP_TOPO_TEXT), out,
			   &err) ? cli_fail(&err) : CLI_OK;
	np_topo_free(topo);
	return cli_close_output(output, out, rc);
}

const struct cli_verb cli_verb_topology = {
	.name = "topology",
	.summary = "show the host's NUMA topology",
	.synopsis = "usage: numaplace topology [SOURCE] [--format text|json|svg] [--output FILE]\n",
	.about = "Show the host's NUMA nodes, their CPUs (cores, sockets, SMT siblings),\n"
		 "memory, huge pages, the distance matrix and the PCI devices per node.\n",
	.opts = opts,
	.epilog = "Examples:\n"
		  "  numaplace topology\n"
		  "  numaplace topology --sysfs /tmp/dump --format json > host.json\n"
		  "  numaplace topology --libvirt test:///default --format svg -o host.svg\n",
	.run = run,
};
