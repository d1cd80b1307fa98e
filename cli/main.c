/*
 * main.c - the numaplace tool: the command table, `help`, `--version`, and
 * dispatch to one cmd-<verb>.c per verb (as git's builtin/ does).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const struct cli_command cli_commands[] = {
	{ "topology", cmd_topology, "show the host's NUMA topology", cmd_topology_usage },
	{ "place", cmd_place, "place a guest on a host and say why", cmd_place_usage },
	{ "claim", cmd_claim, "place a guest and record it in a state file", cmd_claim_usage },
	{ "release", cmd_release, "give a claimed guest's resources back", cmd_release_usage },
	{ "state", cmd_state, "show the claims of a state file", cmd_state_usage },
	{ "fleet", cmd_fleet, "keep many hosts in a store: add, list, show, check", cmd_fleet_usage },
	{ "schedule", cmd_schedule, "choose a host of the fleet for a guest and claim it", cmd_schedule_usage },
#ifdef NP_RUNTIME
	{ "observe", cmd_observe, "where a guest's vCPUs run and its memory is", cmd_observe_usage },
	{ "apply", cmd_apply, "carry out a plan on a running process or domain", cmd_apply_usage },
	{ "balance", cmd_balance, "keep running guests near their memory", cmd_balance_usage },
#endif
#ifdef NP_SIM
	{ "simulate", cmd_simulate, "simulate NUMA hosts, schedulers and workloads", cmd_simulate_usage },
#endif
	{ NULL, NULL, NULL, NULL },
};

static const char main_usage[] =
	"usage: numaplace [--version] [--help] <verb> [options]\n"
	"\n"
	"NUMA placement for virtual machines: know the host, place guests, prove it.\n"
	"\n"
	"Verbs:\n";

static const struct cli_command *find(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int main_help(FILE *out)
{
	fputs(main_usage, out);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fputs("\n'numaplace help VERB' or 'numaplace VERB --help' tells more.\n"
	      "Exit codes: 0 ok, 1 no placement or operation failed, 2 bad input or\n"
	      "usage, 3 unsupported here.\n", out);
	return 0;
}

int cli_help(const char *verb)
{
	const struct cli_command *c = verb ? find(verb) : NULL;

	if (!verb)
		return main_help(stdout);
	if (!c)
		return cli_usage_error(NULL, "no verb '%s'", verb);
	fputs(c->usage, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cli_command *c;

	if (argc < 2) {
		main_help(stderr);
		return CLI_BAD_INPUT;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return main_help(stdout);
	if (strcmp(argv[1], "--version") == 0) {
		printf("numaplace %s\n", NP_VERSION_STRING);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc > 3)
			return cli_usage_error(NULL, "help takes at most one verb");
		return cli_help(argc == 3 ? argv[2] : NULL);
	}
	c = find(argv[1]);
	if (!c)
		return cli_usage_error(NULL, "'%s' is not a numaplace verb", argv[1]);
	return c->run(argc - 1, argv + 1);
}
