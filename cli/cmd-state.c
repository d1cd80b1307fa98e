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
	char shown[300];
	np_plan *plan;

	printf("%s: %d claim%s\n", np_text_shown(path, shown, sizeof(shown)), n,
	       n == 1 ? "" : "s");
	for (int i = 0; i < n && !rc; i++) {
		printf("  %s", np_text_shown(np_state_claim_id(st, i), shown, sizeof(shown)));
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

/*
 * With a host, the claims are charged onto it first - the check claim and
 * place --state make - so a state they would refuse is refused here too.
 */
static int show(const char *path, bool json, const struct cli_source *src)
{
	struct np_error err = { 0 };
	np_state *st = NULL;
	np_topo *topo = NULL;
	np_host *host = NULL;
	int rc;

	if (src->given && (rc = cli_load_topology(src, &topo)))
		return rc;
	if (np_state_open(path, true, &st, &err) ||
	    (topo && (np_host_new(topo, &host, &err) || np_state_apply(st, host, &err))))
		rc = cli_fail(&err);
	else if (json)
		rc = np_state_write_json(st, stdout, &err) ? cli_fail(&err) : CLI_OK;
	else
		rc = show_text(st, path, topo);
	np_state_close(st);
	np_host_free(host);
	np_topo_free(topo);
	return rc;
}

enum { OPT_FORMAT = 1 };

static const struct cli_opt opts[] = {
	{ .id = PLACE_OPT_STATE, .name = "state", .type = CLI_FILE, .help = "the state file" },
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_text_json, .meta = "FMT",
	  .help = "text (default) or json (numaplace.state/1)" },
	CLI_OPT_HELP,
	CLI_SOURCE_SECTION(CLI_SOURCE_HEADING),
	CLI_OPT_END,
};

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct cli_source src;
	const char *path;
	int rc;

	if (a->nargs == 0 || strcmp(a->args[0], "show") != 0)
		return cli_usage_error(verb, a->nargs ? "unknown state action '%s' (show)"
						     : "say what to do: numaplace state show --state FILE%s",
				       a->nargs ? a->args[0] : "");
	if ((rc = cli_source_get(a, false, &src)))
		return rc;
	path = cli_text(a, PLACE_OPT_STATE);
	if (!path)
		return cli_usage_error(verb, "say which file: --state FILE");
	return show(path, cli_num(a, OPT_FORMAT, 0) == 1, &src);
}

const struct cli_verb cli_verb_state = {
	.name = "state",
	.summary = "show the claims of a state file",
	.synopsis = "usage: numaplace state show --state FILE [HOST] [--format text|json]\n",
	.about = "Show the claims recorded in a state file.  With a host (as for\n"
		 "`numaplace topology`), the text also shows each claim's nodes, memory\n"
		 "and pinned CPUs.\n",
	.opts = opts,
	.max_args = 1,
	.run = run,
};
