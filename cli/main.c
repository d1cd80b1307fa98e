/*
 * main.c - the numaplace tool: the command table, `help`, `--version`, and
 * dispatch to one cmd-<verb>.c per verb (as git's builtin/ does).
 *
 * A verb is one struct cli_verb (cli.h); adding one is a line here and
 * its file in meson.build.  The table drives `numaplace help` too.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_verb *const verbs[] = {
	&cli_verb_topology,
	&cli_verb_place,
	&cli_verb_claim,
	&cli_verb_release,
	&cli_verb_state,
	&cli_verb_fleet,
	&cli_verb_schedule,
	&cli_verb_gen,
#ifdef NP_RUNTIME
	&cli_verb_observe,
	&cli_verb_apply,
	&cli_verb_balance,
#endif
#ifdef NP_SERVICE
	&cli_verb_serve,
#endif
#ifdef NP_SIM
	&cli_verb_simulate,
#endif
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static const char main_usage[] =
	"usage: numaplace [--version] [--help] <verb> [options]\n"
	"\n"
	"NUMA placement for virtual machines: know the host, place guests, prove it.\n"
	"\n"
	"Verbs:\n";

const struct cli_verb *cli_find_verb(const char *name)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i]->name, name) == 0)
			return verbs[i];
	return NULL;
}

static int main_help(FILE *out)
{
	fputs(main_usage, out);
	for (size_t i = 0; i < NVERBS; i++)
		fprintf(out, "  %-12s %s\n", verbs[i]->name, verbs[i]->summary);
	fputs("\n'numaplace help VERB' or 'numaplace VERB --help' tells more.\n"
	      "Exit codes: 0 ok, 1 no placement or operation failed, 2 bad input or\n"
	      "usage, 3 unsupported here.\n", out);
	return CLI_OK;
}

/*
 * numaplace help [VERB]; and `help --options VERB`, the option table of
 * VERB one option a line, for tests and shell completion.
 */
static int help(int argc, char **argv)
{
	bool options = argc > 2 && strcmp(argv[2], "--options") == 0;
	const char *name = argc > 2 + options ? argv[2 + options] : NULL;
	const struct cli_verb *v = name ? cli_find_verb(name) : NULL;

	if (argc > 3 + options || (options && !name))
		return cli_usage_error(NULL, options ? "help --options takes one verb"
						     : "help takes at most one verb");
	if (!name)
		return main_help(stdout);
	if (!v)
		return cli_usage_error(NULL, "no verb '%s'", name);
	if (options)
		cli_print_options(v, stdout);
	else
		cli_print_help(v, stdout);
	return CLI_OK;
}

int main(int argc, char **argv)
{
	const struct cli_verb *v;
	struct cli_args a;
	int rc;

	if (argc < 2) {
		main_help(stderr);
		return CLI_BAD_INPUT;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return main_help(stdout);
	if (strcmp(argv[1], "--version") == 0) {
		printf("numaplace %s\n", np_version());
		return CLI_OK;
	}
	if (strcmp(argv[1], "help") == 0)
		return help(argc, argv);
	v = cli_find_verb(argv[1]);
	if (!v)
		return cli_usage_error(NULL, "'%s' is not a numaplace verb", argv[1]);
	rc = cli_parse(v, argc - 1, argv + 1, &a);
	return rc == CLI_CONTINUE ? v->run(v, &a) : rc;
}
