/*
 * cmd-state.c - `numaplace state show`: what a state file has promised.
 *
 * Design: reads under the shared lock (so it never sees half of another
 * process's claim) and prints either the file's own JSON
 * (numaplace.state/1) or one line per claim for people.  Claims are kept
 * with kernel node ids; given the host (any topology source option), the
 * text also says where each claim sits: nodes, memory, pinned CPUs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-place.h"

const char cmd_state_usage[] =
	"usage: numaplace state show --state FILE [HOST] [--format text|json]\n"
	"\n"
	"Show the claims recorded in a state file.\n"
	"\n"
	"  --state FILE         the state file\n"
	"  -f, --format FMT     text (default) or json (numaplace.state/1)\n"
	"  -h, --help           this text\n"
	"\n"
	"With a host (as for `numaplace topology`), the text also shows each claim's\n"
	"nodes, memory and pinned CPUs.\n"
	"\n"
	CLI_SOURCE_HELP;

/* One claim's nodes, memory and pinned CPUs. */
static void show_claim(const np_plan *plan, const np_topo *topo)
{
	uint64_t mem = 0;
	int pins = 0, floating = 0;

	printf(" nodes");
	for (int i = 0; i < np_plan_cell_count(plan); i++) {
		const struct np_plan_cell *c = np_plan_cell(plan, i);

		printf("%s%d", i ? "," : " ", np_topo_node(topo, c->node_idx)->os_id);
		mem += c->memory_mb;
		pins += c->npins;
		floating += c->nfloat;
	}
	printf(", %llu MiB, %d pinned and %d floating vCPUs", (unsigned long long)mem, pins,
	       floating);
	for (int i = 0, first = 1; i < np_plan_cell_count(plan); i++) {
		const struct np_plan_cell *c = np_plan_cell(plan, i);

		for (int k = 0; k < c->npins; k++, first = 0)
			printf("%s%d", first ? " (CPUs " : ",", c->pins[k].pcpu);
		if (i + 1 == np_plan_cell_count(plan) && !first)
			printf(")");
	}
}

static int show_text(const np_state *st, const char *path, const np_topo *topo)
{
	struct np_error err = { 0 };
	int n = np_state_claim_count(st), rc = CLI_OK;
	np_plan *plan;

	printf("%s: %d claim%s\n", path, n, n == 1 ? "" : "s");
	for (int i = 0; i < n && !rc; i++) {
		printf("  %s", np_state_claim_id(st, i));
		plan = NULL;
		if (topo && np_state_claim_plan(st, np_state_claim_id(st, i), topo, &plan, &err))
			rc = cli_fail(&err);
		if (topo && !rc)
			show_claim(plan, topo);
		printf("\n");
		np_plan_free(plan);
	}
	return rc;
}

static int show(const char *path, bool json, const struct cli_source *src)
{
	struct np_error err = { 0 };
	np_state *st = NULL;
	np_topo *topo = NULL;
	int rc;

	if (src->given && (rc = cli_load_topology(src, &topo)))
		return rc;
	if (np_state_open(path, true, &st, &err))
		rc = cli_fail(&err);
	else if (json)
		rc = np_state_write_json(st, stdout, &err) ? cli_fail(&err) : CLI_OK;
	else
		rc = show_text(st, path, topo);
	np_state_close(st);
	np_topo_free(topo);
	return rc;
}

int cmd_state(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_SOURCE_OPTIONS,
		{ "state", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_source src = { 0 };
	const char *path = NULL;
	bool json = false;
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
		if ((rc = cli_source_option("state", opt, optarg, &src)) < 0)
			return CLI_BAD_INPUT;
		if (rc > 0)
			continue;
		switch (opt) {
		case 's': path = optarg; break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_usage_error("state", "unknown format '%s' (text, json)", optarg);
			json = strcmp(optarg, "json") == 0;
			break;
		case 'h': return cli_help("state");
		case ':':
			return cli_usage_error("state", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("state", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc || strcmp(argv[optind], "show") != 0)
		return cli_usage_error("state", optind < argc ? "unknown state action '%s' (show)"
					: "say what to do: numaplace state show --state FILE%s",
					optind < argc ? argv[optind] : "");
	if (optind + 1 < argc)
		return cli_usage_error("state", "unexpected argument '%s'", argv[optind + 1]);
	if (!path)
		return cli_usage_error("state", "say which file: --state FILE");
	return show(path, json, &src);
}
