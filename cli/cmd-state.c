/*
 * cmd-state.c - `numaplace state show`: what a state file has promised,
 * and what that leaves of the host, node by node.
 *
 * Design: reads under the shared lock (so it never sees half of another
 * process's claim), charges every claim onto the host (any topology
 * source option; default this machine), as `claim` and `place --state`
 * do, so a state they would refuse is refused here too, and writes the
 * usage view (np_usage_write: per node CPUs pinned and free, floating
 * vCPUs, memory and huge pages used and free, the claims there; then the
 * claims) as text or JSON.  --format state prints the file's own JSON
 * (numaplace.state/1) and needs no host; so does a build that cannot read
 * this machine, when no host is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-place.h"

enum { FMT_TEXT, FMT_JSON, FMT_STATE };

int cli_usage_claims(const np_state *st, const np_host *host, struct np_usage_claim **out)
{
	struct np_error err = { 0 };
	int n = np_state_claim_count(st);
	struct np_usage_claim *c = calloc((size_t)n + 1, sizeof(*c));

	if (!c)
		return cli_oom();
	*out = c;
	for (int i = 0; i < n; i++) {
		np_plan *plan = NULL;

		c[i].id = np_state_claim_id(st, i);
		if (np_state_claim_plan(st, c[i].id, np_host_topo(host), &plan, &err))
			return cli_fail(&err);
		c[i].plan = plan;
	}
	return CLI_OK;
}

void cli_usage_claims_free(struct np_usage_claim *c, int n)
{
	for (int i = 0; c && i < n; i++)
		np_plan_free((np_plan *)c[i].plan);
	free(c);
}

/* The usage view of ST on TOPO (charged onto it: the state keeps that ledger). */
static int show_usage(np_state *st, const char *path, int format, const np_topo *topo)
{
	struct np_error err = { 0 };
	struct np_usage_claim *claims = NULL;
	np_host *host = NULL;
	int rc = CLI_OK;

	if (np_host_new(topo, &host, &err) || np_state_apply(st, host, &err))
		rc = cli_fail(&err);
	else if (!(rc = cli_usage_claims(st, host, &claims)) &&
		 np_usage_write(host, claims, np_state_claim_count(st), path,
				format == FMT_JSON ? NP_USAGE_JSON : NP_USAGE_TEXT, stdout, &err))
		rc = cli_fail(&err);
	cli_usage_claims_free(claims, np_state_claim_count(st));
	np_host_free(host);
	return rc;
}

/*
 * The host for the usage view into *TOPO.  Asked for none and this build
 * cannot read this machine (no hwloc): *FORMAT becomes the file view,
 * which needs no host, and WHY says why, rather than failing on what the
 * user did not ask for.
 */
static int usage_host(const struct cli_source *src, int *format, np_topo **topo,
		      struct np_error *why)
{
	if (src->given)
		return cli_load_topology(src, topo);
	if (np_topo_load(NP_SOURCE_LOCAL, NULL, topo, why) == 0)
		return CLI_OK;
	if (why->code != NP_EUNSUPPORTED)
		return cli_fail(why);
	*format = FMT_STATE;
	return CLI_OK;
}

/* The topology outlives the state, which keeps the host's ledger (np_state_apply). */
static int show(const char *path, int format, const struct cli_source *src)
{
	struct np_error err = { 0 }, why = { 0 };
	np_state *st = NULL;
	np_topo *topo = NULL;
	int rc;

	if (format != FMT_STATE && (rc = usage_host(src, &format, &topo, &why)))
		return rc;
	if (np_state_open(path, true, &st, &err))
		rc = cli_fail(&err);
	else if (format == FMT_STATE) {
		if (why.code) /* said once the file is known good: a bad one is one error line */
			fprintf(stderr, "numaplace: note: %s: showing the state file itself "
				"(--format state)\n", why.message);
		rc = np_state_write_json(st, stdout, &err) ? cli_fail(&err) : CLI_OK;
	} else
		rc = show_usage(st, path, format, topo);
	np_state_close(st);
	np_topo_free(topo);
	return rc;
}

enum { OPT_FORMAT = 1 };

static const struct cli_opt opts[] = {
	{ .id = PLACE_OPT_STATE, .name = "state", .type = CLI_FILE, .help = "the state file" },
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_state_format, .meta = "FMT",
	  .help = "text (default) or json (numaplace.usage/1): per node\n"
		  "what the claims took and what is free, then the claims;\n"
		  "state: the file itself (numaplace.state/1, no host needed)" },
	CLI_OPT_HELP,
	CLI_SOURCE_SECTION(CLI_SOURCE_HEADING),
	CLI_OPT_END,
};

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct cli_source src;
	const char *path;
	int rc, format = (int)cli_num(a, OPT_FORMAT, FMT_TEXT);

	if (a->nargs == 0 || strcmp(a->args[0], "show") != 0)
		return cli_usage_error(verb, a->nargs ? "unknown state action '%s' (show)"
						     : "say what to do: numaplace state show --state FILE%s",
				       a->nargs ? a->args[0] : "");
	if ((rc = cli_source_get(a, false, &src)))
		return rc;
	path = cli_text(a, PLACE_OPT_STATE);
	if (!path)
		return cli_usage_error(verb, "say which file: --state FILE");
	if (format == FMT_STATE && src.given)
		return cli_usage_error(verb, "--format state prints the file as it is: no host");
	return show(path, format, &src);
}

const struct cli_verb cli_verb_state = {
	.name = "state",
	.summary = "show what a state file's claims take, node by node",
	.synopsis = "usage: numaplace state show --state FILE [HOST] [--format text|json|state]\n",
	.about = "Show what the claims recorded in a state file take on the host, node by\n"
		 "node: dedicated CPUs pinned and free, floating vCPUs against the shared\n"
		 "CPUs' capacity, memory and huge pages used and free, the claims on each\n"
		 "node; then each claim's nodes, memory and CPUs.  The claims are checked\n"
		 "against the host as `numaplace claim` checks them.  Without a host, on a\n"
		 "numaplace that cannot read this machine (built without hwloc), it prints\n"
		 "the file itself, as --format state does, and says so.\n",
	.opts = opts,
	.epilog = "Exit: 0 shown, 2 bad state file, host or usage (a claim the host cannot\n"
		  "hold included), 3 the host given cannot be read here.\n"
		  "\n"
		  "Examples:\n"
		  "  numaplace state show --state host.state --host host.json\n"
		  "  numaplace state show --state host.state --host host.json --format json\n"
		  "  numaplace state show --state host.state --format state\n",
	.max_args = 1,
	.run = run,
};
