/*
 * cmd-claim.c - `numaplace claim` and `numaplace release`: place a guest
 * and record the promise in a state file, or give it back.
 *
 * Design: claim holds the state's exclusive lock from reading to commit,
 * so parallel claims on one host are serialised and never over-commit:
 * open (lock) -> charge every recorded claim onto a fresh host -> place ->
 * record -> commit (temporary file + rename) -> print the plan.  Claims
 * are idempotent per id: an id already recorded is printed again from the
 * state, exit 0, and nothing is placed or written - so a retried boot
 * script gets the same answer.  Release of an id that is not there is
 * not an error either (it says so).
 */
#include <stdio.h>
#include <string.h>

#include "cmd-place.h"

const char cmd_claim_usage[] =
	"usage: numaplace claim --state FILE --id ID [HOST] GUEST [options]\n"
	"\n"
	"Place a guest as `numaplace place` does, taking every claim recorded in\n"
	"FILE as used, and record this one under ID (atomically, under a lock, so\n"
	"parallel claims never over-commit).  Claiming an ID again prints its claim\n"
	"and changes nothing.\n"
	"\n"
	"  --state FILE         the state file (created when missing)\n"
	"  --id ID              the guest's name in it\n"
	"\n"
	CLI_SOURCE_HELP
	"\n"
	PLACE_REQUEST_HELP
	"  -h, --help           this text\n"
	"\n"
	"Exit: 0 claimed (or already claimed), 1 does not fit, 2 bad input or usage.\n"
	"\n"
	"Example:\n"
	"  numaplace claim --state /var/lib/numaplace/host.json --id vm-7 \\\n"
	"      --flavor 'vcpus=4,ram=4096,hw:cpu_policy=dedicated' --format libvirt\n";

const char cmd_release_usage[] =
	"usage: numaplace release --state FILE --id ID\n"
	"\n"
	"Forget the claim ID in the state file, giving its resources back.\n"
	"Releasing an ID that is not claimed changes nothing.\n"
	"\n"
	"  --state FILE         the state file\n"
	"  --id ID              the claim to release\n"
	"  -h, --help           this text\n";

/* Index of ID among ST's claims, or -1. */
static int claim_index(const np_state *st, const char *id)
{
	for (int i = 0; i < np_state_claim_count(st); i++)
		if (strcmp(np_state_claim_id(st, i), id) == 0)
			return i;
	return -1;
}

/* ID is already claimed: print that claim again. */
static int print_claimed(const struct place_args *a, const np_state *st, const char *id,
			 const np_topo *topo, const np_host *host, const np_request *req)
{
	struct np_error err = { 0 };
	np_plan *plan = NULL;
	int rc;

	if (np_state_claim_plan(st, id, topo, &plan, &err))
		return cli_fail(&err);
	fprintf(stderr, "numaplace: '%s' is already claimed; nothing changed\n", id);
	rc = place_write(a, plan, host, req);
	np_plan_free(plan);
	return rc;
}

/* Place, record, commit, print; ST is locked for writing. */
static int claim_new(const struct place_args *a, np_state *st, const char *id,
		     const np_host *host, const np_request *req)
{
	struct np_error err = { 0 };
	np_plan *plan = NULL;
	int rc;

	if ((rc = place_plan(a, host, req, &plan)))
		return rc;
	if (!np_plan_fits(plan)) {
		rc = place_write(a, plan, host, req);
		np_plan_free(plan);
		return rc ? rc : CLI_FAILED;
	}
	if (np_state_claim(st, id, plan, &err) || np_state_commit(st, &err))
		rc = cli_fail(&err);
	else
		rc = place_write(a, plan, host, req);
	np_plan_free(plan);
	return rc;
}

static int run_claim(const struct place_args *a, const char *id)
{
	struct np_error err = { 0 };
	np_state *st = NULL;
	np_topo *topo = NULL;
	np_host *host = NULL;
	np_request *req = NULL;
	int rc, i;

	if ((rc = place_request(a, &req)) || (rc = place_host(a, &topo, &host)))
		goto out;
	if (np_state_open(a->state, false, &st, &err) || np_state_apply(st, host, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	i = claim_index(st, id);
	rc = i >= 0 ? print_claimed(a, st, id, topo, host, req) : claim_new(a, st, id, host, req);
out:
	np_state_close(st);
	np_request_free(req);
	np_host_free(host);
	np_topo_free(topo);
	return rc;
}

int cmd_claim(int argc, char **argv)
{
	static const struct option longopts[] = {
		PLACE_OPTIONS,
		{ "id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct place_args a;
	const char *id = NULL;
	int opt, rc;

	place_args_init(&a);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
		rc = place_option("claim", opt == 'f' ? PLACE_OPT_FORMAT : opt, optarg, &a);
		if (rc < 0)
			return CLI_BAD_INPUT;
		if (rc > 0)
			continue;
		switch (opt) {
		case 'i': id = optarg; break;
		case 'h': return cli_help("claim");
		case ':':
			return cli_usage_error("claim", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("claim", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("claim", "unexpected argument '%s'", argv[optind]);
	if (!a.state || !id || !*id)
		return cli_usage_error("claim", "say where and under which name: --state FILE --id ID");
	if (place_args_check("claim", &a))
		return CLI_BAD_INPUT;
	return run_claim(&a, id);
}

int cmd_release(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *id = NULL;
	struct np_error err = { 0 };
	np_state *st = NULL;
	bool found = false;
	int opt, rc = CLI_OK;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'i': id = optarg; break;
		case 'h': return cli_help("release");
		case ':':
			return cli_usage_error("release", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("release", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("release", "unexpected argument '%s'", argv[optind]);
	if (!path || !id || !*id)
		return cli_usage_error("release", "say where and which: --state FILE --id ID");
	if (np_state_open(path, false, &st, &err) || np_state_release(st, id, &found, &err) ||
	    (found && np_state_commit(st, &err)))
		rc = cli_fail(&err);
	else
		printf(found ? "released '%s'\n" : "'%s' was not claimed; nothing changed\n", id);
	np_state_close(st);
	return rc;
}
