/*
 * cmd-claim.c - `numaplace claim` and `numaplace release`: place a guest
 * and record the promise in a state file, or give it back.
 *
 * Design: claim holds the state's exclusive lock from reading to commit,
 * so parallel claims on one host are serialised and never over-commit:
 * open (lock) -> charge every recorded claim onto a fresh host -> place ->
 * write the plan in the asked format (or merged into the guest's
 * document) to memory (a format that cannot carry it refuses here, and
 * nothing is claimed) -> record -> commit (temporary file + rename) ->
 * print it (or write it to -o FILE, or back into the document).  Claims
 * are idempotent per id: an id already recorded for the same request
 * (np_plan_answers) is printed again from the state, exit 0, and nothing
 * is placed or written - so a retried boot script gets the same answer;
 * for another request it is refused, exit 1.  Release of an id that is not there is
 * not an error either (it says so).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-place.h"

/* Index of ID among ST's claims, or -1. */
static int claim_index(const np_state *st, const char *id)
{
	for (int i = 0; i < np_state_claim_count(st); i++)
		if (strcmp(np_state_claim_id(st, i), id) == 0)
			return i;
	return -1;
}

/*
 * ID is already claimed: for the same request print that claim again (a
 * retried boot); for another one refuse, exit 1, changing nothing.
 */
static int print_claimed(const struct place_args *p, const np_state *st, const char *id,
			 const np_topo *topo, const np_host *host, const np_request *req)
{
	struct np_place_opts opts = { .mem_policy_set = p->mem_policy_given,
				      .mem_policy = p->mem_policy,
				      .affinity_set = p->affinity_given,
				      .affinity = p->affinity };
	struct np_error err = { 0 };
	np_plan *plan = NULL;
	char shown[300];
	int rc;

	if (np_state_claim_plan(st, id, topo, &plan, &err))
		return cli_fail(&err);
	np_text_shown(id, shown, sizeof(shown));
	if (np_plan_answers(host, req, &opts, plan, &err)) {
		fprintf(stderr, "numaplace: cannot claim '%s': it is already claimed for another "
			"request (%s); release it first\n", shown, err.message);
		np_plan_free(plan);
		return CLI_FAILED;
	}
	/* The note only once it is printed: a failed output says one line, its own. */
	if ((rc = place_write(p, plan, host, req)) == CLI_OK)
		fprintf(stderr, "numaplace: '%s' is already claimed; nothing changed\n", shown);
	np_plan_free(plan);
	return rc;
}

/*
 * Place (with --allow-moves, moving at most that many cells of the other
 * claims), render, record (with the moved claims' new plans), commit,
 * print; ST is locked for writing.
 */
static int claim_new(const struct place_args *p, np_state *st, const char *id,
		     const np_host *host, const np_request *req)
{
	struct np_guest_plan *guests = NULL;
	struct np_error err = { 0 };
	np_plan *plan = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc, n = 0;

	if (p->allow_moves == 0)
		rc = place_plan(p, host, req, &plan);
	else if (!(rc = place_state_guests(p, st, np_host_topo(host), &guests, &n)))
		rc = place_plan_moves(p, host, req, guests, n, &plan);
	place_guests_free(guests, n);
	if (rc)
		return rc;
	if (!np_plan_fits(plan)) {
		rc = place_write(p, plan, host, req); /* 1, with the reason */
		np_plan_free(plan);
		return rc;
	}
	/* Written to memory first: a format that cannot carry the plan claims nothing. */
	if ((rc = place_render(p, plan, host, req, &buf, &len)))
		goto out;
	if (np_state_claim_moves(st, id, plan, np_host_topo(host), &err) ||
	    np_state_commit(st, &err))
		rc = cli_fail(&err);
	else
		rc = place_deliver(p, buf, len); /* claimed; claiming the id again reprints */
out:
	free(buf);
	np_plan_free(plan);
	return rc;
}

static int run_claim(struct place_args *p, const char *id)
{
	struct np_error err = { 0 };
	np_state *st = NULL;
	np_topo *topo = NULL;
	np_host *host = NULL;
	np_request *req = NULL;
	int rc, i;

	if ((rc = place_request(p, &req)) || (rc = place_host(p, &topo, &host)))
		goto out;
	if (np_state_open(p->state, false, &st, &err) || np_state_apply(st, host, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	i = claim_index(st, id);
	if (i >= 0)
		rc = print_claimed(p, st, id, topo, host, req);
	else if (!(rc = place_state_demand(p, st, req)))
		rc = claim_new(p, st, id, host, req);
out:
	place_demand_free(p);
	np_state_close(st);
	np_request_free(req);
	np_host_free(host);
	np_topo_free(topo);
	return rc;
}

enum { OPT_ID = 1 };

static const struct cli_opt claim_opts[] = {
	{ .id = PLACE_OPT_STATE, .name = "state", .type = CLI_FILE,
	  .help = "the state file (created when missing)" },
	{ .id = OPT_ID, .name = "id", .type = CLI_TEXT, .meta = "ID", .help = "the guest's name in it" },
	CLI_SOURCE_SECTION(CLI_SOURCE_HEADING),
	CLI_INCLUDE(place_guest_opts),
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static int claim(const struct cli_verb *verb, const struct cli_args *a)
{
	struct place_args p;
	const char *id;
	int rc;

	if ((rc = place_args_get(a, &p)))
		return rc;
	id = cli_text(a, OPT_ID);
	if (!p.state || !id || !*id)
		return cli_usage_error(verb, "say where and under which name: --state FILE --id ID");
	if (place_args_check(&p))
		return CLI_BAD_INPUT;
	if (!(rc = place_read_doc(&p)))
		rc = run_claim(&p, id);
	place_args_free(&p);
	return rc;
}

const struct cli_verb cli_verb_claim = {
	.name = "claim",
	.summary = "place a guest and record it in a state file",
	.synopsis = "usage: numaplace claim --state FILE --id ID [HOST] GUEST [options]\n",
	.about = "Place a guest as `numaplace place` does, taking every claim recorded in\n"
		 "FILE as used, and record this one under ID (atomically, under a lock, so\n"
		 "parallel claims never over-commit).  Claiming an ID again with the same\n"
		 "request prints its claim and changes nothing; with another request it is\n"
		 "refused (exit 1): release it first.  With --allow-moves N, when the guest\n"
		 "does not fit, at most N cells of other claims move to make room: their\n"
		 "new plans are recorded with this claim, in the same commit.\n",
	.opts = claim_opts,
	.epilog = "Exit: 0 claimed (or already claimed for this request), 1 does not fit or\n"
		  "ID is claimed for another request, 2 bad input or usage.\n"
		  "\n"
		  "Examples:\n"
		  "  numaplace claim --state /var/lib/numaplace/host.json --id vm-7 \\\n"
		  "      --flavor 'vcpus=4,ram=4096,hw:cpu_policy=dedicated' --format libvirt\n"
		  "  numaplace claim --state room.state --id D --host room.json \\\n"
		  "      --flavor 'vcpus=4,ram=8192,hw:cpu_policy=dedicated' --allow-moves 1 --format json\n"
		  "  numaplace claim --state host.state --id vm-8 --host host.json \\\n"
		  "      --flavor 'vcpus=2,ram=4096,hw:cpu_policy=dedicated' --flavors flavors.json\n"

		  "  numaplace claim --state host.state --id web1 --host host.json \\\n"
		  "      --domain-xml vm.xml --in-place\n",
	.run = claim,
};

static const struct cli_opt release_opts[] = {
	{ .id = PLACE_OPT_STATE, .name = "state", .type = CLI_FILE, .help = "the state file" },
	{ .id = OPT_ID, .name = "id", .type = CLI_TEXT, .meta = "ID", .help = "the claim to release" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static int release(const struct cli_verb *verb, const struct cli_args *a)
{
	struct np_error err = { 0 };
	const char *path, *id;
	np_state *st = NULL;
	bool found = false;
	char shown[300];
	int rc;

	path = cli_text(a, PLACE_OPT_STATE);
	id = cli_text(a, OPT_ID);
	if (!path || !id || !*id)
		return cli_usage_error(verb, "say where and which: --state FILE --id ID");
	rc = CLI_OK;
	if (np_state_open(path, false, &st, &err) || np_state_release(st, id, &found, &err) ||
	    (found && np_state_commit(st, &err)))
		rc = cli_fail(&err);
	else
		printf(found ? "released '%s'\n" : "'%s' was not claimed; nothing changed\n",
		       np_text_shown(id, shown, sizeof(shown)));
	np_state_close(st);
	return rc;
}

const struct cli_verb cli_verb_release = {
	.name = "release",
	.summary = "give a claimed guest's resources back",
	.synopsis = "usage: numaplace release --state FILE --id ID\n",
	.about = "Forget the claim ID in the state file, giving its resources back.\n"
		 "Releasing an ID that is not claimed changes nothing.\n",
	.opts = release_opts,
	.run = release,
};
