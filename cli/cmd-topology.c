/*
 * cmd-topology.c - `numaplace topology`: load the host's topology from any
 * source and show it as text, JSON or SVG.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char cmd_topology_usage[] =
	"usage: numaplace topology [SOURCE] [--format text|json|svg] [--output FILE]\n"
	"\n"
	"Show the host's NUMA nodes, their CPUs (cores, sockets, SMT siblings),\n"
	"memory, huge pages, the distance matrix and the PCI devices per node.\n"
	"\n"
	CLI_SOURCE_HELP
	"\n"
	"Output:\n"
	"  -f, --format FMT     text (default), json (numaplace.topology/1, read back\n"
	"                       by --json), svg (a drawing of the host)\n"
	"  -o, --output FILE    write there instead of standard output\n"
	"  -h, --help           this text\n"
	"\n"
	"Examples:\n"
	"  numaplace topology\n"
	"  numaplace topology --sysfs /tmp/dump --format json > host.json\n"
	"  numaplace topology --libvirt test:///default --format svg -o host.svg\n";

int cmd_topology(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_SOURCE_OPTIONS,
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_source src = { 0 };
	enum np_topo_format format = NP_TOPO_TEXT;
	const char *output = NULL;
	struct np_error err = { 0 };
	np_topo *topo = NULL;
	FILE *out = stdout;
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
		rc = cli_source_option("topology", opt, optarg, &src);
		if (rc < 0)
			return CLI_BAD_INPUT;
		if (rc > 0)
			continue;
		switch (opt) {
		case 'f':
			if (np_topo_format_from_name(optarg, &format))
				return cli_usage_error("topology",
						       "unknown format '%s' (text, json, svg)", optarg);
			break;
		case 'o': output = optarg; break;
		case 'h': return cli_help("topology");
		case ':':
			return cli_usage_error("topology", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error("topology", "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("topology", "unexpected argument '%s'", argv[optind]);
	rc = cli_load_topology(&src, &topo);
	if (rc)
		return rc;
	if (output && !(out = fopen(output, "w"))) {
		fprintf(stderr, "numaplace: cannot write '%s': %s\n", output, strerror(errno));
		np_topo_free(topo);
		return CLI_FAILED;
	}
	rc = np_topo_write(topo, format, out, &err);
	np_topo_free(topo);
	if (output && fclose(out) && !rc) {
		fprintf(stderr, "numaplace: cannot write '%s': %s\n", output, strerror(errno));
		return CLI_FAILED;
	}
	return rc ? cli_fail(&err) : CLI_OK;
}
