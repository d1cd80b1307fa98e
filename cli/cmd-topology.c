/*
 * cmd-topology.c - `numaplace topology`: load the host's topology from any
 * source and show it as text, JSON or SVG; with --state, also what the
 * claims of a state file take on it (text: the usage view after the
 * topology; SVG: pinned CPUs, claimed memory and pages drawn).
 */
#include "cli.h"

enum { OPT_FORMAT = 1, OPT_OUTPUT, OPT_STATE };

static const struct cli_opt opts[] = {
	CLI_SOURCE_SECTION(CLI_SOURCE_HEADING),
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_topo_format, .meta = "FMT", .heading = "Output:",
	  .help = "text (default), json (numaplace.topology/1, read back\n"
		  "by --json), svg (a drawing of the host)" },
	{ .id = OPT_OUTPUT, .name = "output", .letter = 'o', .type = CLI_OUTPUT,
	  .help = "write there (default and -: standard output)" },
	{ .id = OPT_STATE, .name = "state", .type = CLI_FILE,
	  .help = "with text or svg: also what the claims recorded in FILE\n"
		  "take on each node (as `numaplace state show`)" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

/* TOPO with the usage of the claims in STATE, as text or SVG, to OUT. */
static int write_usage(const np_topo *topo, const char *state, enum np_topo_format format,
		       FILE *out)
{
	struct np_error err = { 0 };
	struct np_usage_claim *claims = NULL;
	np_state *st = NULL;
	np_host *host = NULL;
	int n = 0, rc = CLI_OK;

	if (np_state_open(state, true, &st, &err) || np_host_new(topo, &host, &err) ||
	    np_state_apply(st, host, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	if (format == NP_TOPO_SVG) {
		rc = np_host_write_svg(host, state, out, &err) ? cli_fail(&err) : CLI_OK;
		goto out;
	}
	/* The topology, a blank line, the usage (a write error shows on close). */
	n = np_state_claim_count(st);
	if (!(rc = cli_usage_claims(st, host, &claims)) &&
	    (np_topo_write(topo, NP_TOPO_TEXT, out, &err) ||
	     (fputc('\n', out), np_usage_write(host, claims, n, state, NP_USAGE_TEXT, out, &err))))
		rc = cli_fail(&err);
out:
	cli_usage_claims_free(claims, n);
	np_host_free(host);
	np_state_close(st);
	return rc;
}

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct cli_source src;
	struct np_error err = { 0 };
	enum np_topo_format format = (enum np_topo_format)cli_num(a, OPT_FORMAT, NP_TOPO_TEXT);
	const char *output = cli_text(a, OPT_OUTPUT), *state = cli_text(a, OPT_STATE);
	np_topo *topo = NULL;
	FILE *out;
	int rc;

	if (state && format == NP_TOPO_JSON)
		return cli_usage_error(verb, "--state goes with text or svg; the usage as JSON is "
				       "`numaplace state show --format json`");
	if ((rc = cli_source_get(a, false, &src)) || (rc = cli_load_topology(&src, &topo)))
		return rc;
	if ((rc = cli_open_output(output, "w", &out))) {
		np_topo_free(topo);
		return rc;
	}
	if (state)
		rc = write_usage(topo, state, format, out);
	else
		rc = np_topo_write(topo, format, out, &err) ? cli_fail(&err) : CLI_OK;
	np_topo_free(topo);
	return cli_close_output(output, out, rc);
}

const struct cli_verb cli_verb_topology = {
	.name = "topology",
	.summary = "show the host's NUMA topology",
	.synopsis = "usage: numaplace topology [SOURCE] [--state FILE] [--format text|json|svg] "
		    "[--output FILE]\n",
	.about = "Show the host's NUMA nodes, their CPUs (cores, sockets, SMT siblings),\n"
		 "memory, huge pages, the distance matrix and the PCI devices per node;\n"
		 "with --state, what the claims of a state file take on each node.\n",
	.opts = opts,
	.epilog = "Examples:\n"
		  "  numaplace topology\n"
		  "  numaplace topology --sysfs /tmp/dump --format json > host.json\n"
		  "  numaplace topology --libvirt test:///default --format svg -o host.svg\n"
		  "  numaplace topology --host host.json --state host.state --format svg -o usage.svg\n",
	.run = run,
};
