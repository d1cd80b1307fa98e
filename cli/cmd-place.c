/*
 * cmd-place.c - `numaplace place`: place one guest on one host and say
 * where and why; or answer a Nova case (--case) in Nova's output shape.
 *
 * Design: the steps (host, request, place, validate, write) are functions
 * shared with `numaplace claim` (cmd-place.h); this verb adds --state
 * (claims applied read-only, under a shared lock) and --case.  Exit codes:
 * 0 the guest fits (every request of a case fits), 1 it does not (in
 * every output format, the reason on standard error for the formats that
 * configure a tool), 2 bad input or usage (for --case also: a request
 * Nova's rules refuse).
 *
 * Validation: every plan is re-checked by np_plan_validate() in debug
 * builds (no NDEBUG) and with the hidden --validate option, which the
 * differential tests against Nova use on release builds too.  A plan
 * failing it is a numaplace bug: "internal error" and exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/nova.h>

#include "cmd-place.h"

const struct cli_opt place_doc_opts[] = {
	{ .id = PLACE_OPT_DOMAIN_XML, .name = "domain-xml", .type = CLI_INPUT,
	  .help = "a libvirt domain (virsh dumpxml): the guest, and the\n"
		  "output is that domain with the placement merged in;\n"
		  "with --flavor the flavor is the guest and the domain\n"
		  "only the document it goes into (taking its size too)" },
	{ .id = PLACE_OPT_XL_CONFIG, .name = "xl-config", .type = CLI_INPUT,
	  .help = "an xl.cfg file, the same way: cpus=, cpus_soft=, vnuma=\n"
		  "merged, every other line kept byte for byte" },
	{ .id = PLACE_OPT_DEVICE_POLICY, .name = "device-policy", .type = CLI_CHOICE,
	  .choice = &cli_choice_pci_policy, .meta = "P",
	  .help = "the document's PCI devices (hostdev, pci=): preferred\n"
		  "(default: near them when possible), required, socket, legacy" },
	CLI_OPT_END,
};

const struct cli_opt place_output_opts[] = {
	{ .id = PLACE_OPT_OUTPUT, .name = "output", .letter = 'o', .type = CLI_OUTPUT,
	  .help = "write there (default and -: standard output);\n"
		  "nothing is written when the guest does not fit" },
	{ .id = PLACE_OPT_IN_PLACE, .name = "in-place", .type = CLI_FLAG,
	  .help = "replace the document's file (atomically, mode kept)" },
	CLI_OPT_END,
};

/* The searches' budgets (docs/policies/placement.md 9 and 14): the caller's choice. */
const struct cli_opt place_budget_opts[] = {
	{ .id = PLACE_OPT_MAX_STEPS, .name = "max-steps", .type = CLI_INT, .min = 1, .max = 1e15,
	  .meta = "N", .heading = "Budgets (over one: the best answer so far, marked not exact):",
	  .help = "search steps of the engine (default 2,000,000); the plan\n"
		  "says exact false and the proven gap when it ran out" },
	{ .id = PLACE_OPT_TIME_BUDGET, .name = "time-budget", .type = CLI_REAL, .min = 0.001,
	  .max = 3.6e6, .meta = "MS", .help = "milliseconds of engine search (default: no limit)" },
	{ .id = PLACE_OPT_MOVE_BUDGET, .name = "move-budget", .type = CLI_INT, .min = 1,
	  .max = 1e9, .meta = "N",
	  .help = "with --allow-moves: sets of moves tried (default 20,000);\n"
		  "moves_exact false when it ran out" },
	{ .id = PLACE_OPT_MOVE_TIME, .name = "move-time-budget", .type = CLI_REAL, .min = 0.001,
	  .max = 3.6e6, .meta = "MS",
	  .help = "with --allow-moves: milliseconds of moves search\n(default: no limit)" },
	CLI_OPT_END,
};

void place_budget_args_get(const struct cli_args *a, struct place_args *p)
{
	p->max_steps = (uint64_t)cli_num(a, PLACE_OPT_MAX_STEPS, 0);
	p->max_us = (uint64_t)(cli_real(a, PLACE_OPT_TIME_BUDGET, 0) * 1000.0 + 0.5);
	p->move_budget = cli_num(a, PLACE_OPT_MOVE_BUDGET, 0);
	p->move_us = (uint64_t)(cli_real(a, PLACE_OPT_MOVE_TIME, 0) * 1000.0 + 0.5);
}

const struct cli_opt place_guest_opts[] = {
	{ .id = PLACE_OPT_FLAVOR, .name = "flavor", .type = CLI_TEXT,
	  .heading = "The guest (one of these; a document may come with --flavor):",
	  .help = "Nova flavor: 'vcpus=8,ram=4096,hw:numa_nodes=2,...'" },
	{ .id = PLACE_OPT_IMAGE, .name = "image", .type = CLI_TEXT,
	  .help = "with --flavor: image properties 'hw_mem_page_size=2048,...'" },
	{ .id = PLACE_OPT_XL_VNUMA, .name = "xl-vnuma", .type = CLI_TEXT,
	  .help = "xl's vnuma=[...] with --vcpus N and --memory MIB" },
	{ .id = PLACE_OPT_VCPUS, .name = "vcpus", .type = CLI_INT, .min = 0, .max = NP_VCPUS_MAX,
	  .help = "with --xl-vnuma: the guest's vCPUs" },
	{ .id = PLACE_OPT_MEMORY, .name = "memory", .type = CLI_INT, .min = 0,
	  .max = (double)NP_MEMORY_MB_MAX, .meta = "MIB", .help = "with --xl-vnuma: its memory in MiB" },
	{ .id = PLACE_OPT_REQUEST, .name = "request", .type = CLI_INPUT,
	  .help = "numaplace.request/1 JSON (- for standard input)" },
	CLI_INCLUDE(place_doc_opts),
	{ .id = PLACE_OPT_STRATEGY, .name = "strategy", .type = CLI_CHOICE,
	  .choice = &cli_choice_strategy, .meta = "S", .heading = "Placement:",
	  .help = "spread (default: most room left) or pack (fill used nodes)" },
	{ .id = PLACE_OPT_MEM_POLICY, .name = "mem-policy", .type = CLI_CHOICE,
	  .choice = &cli_choice_mem_policy, .meta = "P",
	  .help = "strict (default), preferred or interleave" },
	{ .id = PLACE_OPT_AFFINITY, .name = "affinity", .type = CLI_CHOICE,
	  .choice = &cli_choice_affinity, .meta = "A", .help = "hard (pin, default) or soft (prefer)" },
	{ .id = PLACE_OPT_MEMORY_BASIS, .name = "memory-basis", .type = CLI_CHOICE,
	  .choice = &cli_choice_memory_basis, .meta = "B",
	  .help = "total (memory less claims, Nova's rule) or free\n"
		  "(also within what the host reports free, libxl's);\n"
		  "default free for --xl, total otherwise" },
	{ .id = PLACE_OPT_ALLOW_MOVES, .name = "allow-moves", .type = CLI_INT, .min = 0,
	  .max = NP_MOVES_MAX, .meta = "N",
	  .help = "with --state: when the guest does not fit, move at most N\n"
		  "cells of claimed guests (memory migrated, vCPUs re-pinned)\n"
		  "so that it does, the fewest MiB first; the plan lists the\n"
		  "moves (docs/policies/placement.md 14)" },
	{ .id = PLACE_OPT_NO_DEMAND, .name = "no-demand", .type = CLI_FLAG,
	  .help = "with --state: do not keep room for more guests like the\n"
		  "ones claimed last (the demand, docs/policies/placement.md 4)" },
	{ .id = PLACE_OPT_FLAVORS, .name = "flavors", .type = CLI_TEXT, .meta = "FILE",
	  .help = "keep room for the guests of this flavor catalogue too,\n"
		  "as often as each is asked for (docs/formats/flavors.md;\n"
		  "with --no-demand, for them alone)" },
	{ .id = PLACE_OPT_LOOKAHEAD, .name = "lookahead", .type = CLI_INT, .min = 1,
	  .max = NP_LOOKAHEAD_SAMPLES_MAX, .meta = "N",
	  .help = "with --flavors: try the engine's plan and best, first and\n"
		  "worst fit's on N futures of guests drawn from the catalogue\n"
		  "each, and take the one whose futures admit the most (docs/\n"
		  "policies/placement.md 15); up to 4 x N x depth engine calls" },
	{ .id = PLACE_OPT_LOOKAHEAD_DEPTH, .name = "lookahead-depth", .type = CLI_INT, .min = 1,
	  .max = NP_LOOKAHEAD_DEPTH_MAX, .meta = "D",
	  .help = "with --lookahead: guests per future at most (default:\n"
		  "until the first that does not fit, at most 256)" },
	{ .id = PLACE_OPT_LOOKAHEAD_SEED, .name = "lookahead-seed", .type = CLI_INT, .min = 0,
	  .max = 1e15, .meta = "S",
	  .help = "with --lookahead: the draws' seed (default 1); the same\n"
		  "seed on the same host gives the same plan" },
	{ .id = PLACE_OPT_LOOKAHEAD_BUDGET, .name = "lookahead-budget", .type = CLI_INT, .min = 1,
	  .max = 1e15, .meta = "G",
	  .help = "with --lookahead: guests tried in futures in all (default:\n"
		  "no limit); the futures every plan finished decide" },
	{ .id = PLACE_OPT_KEEP, .name = "keep", .type = CLI_TEXT, .flags = CLI_REPEAT,
	  .meta = "ID", .help = "with --allow-moves: never move claim ID (repeatable)" },
	CLI_INCLUDE(place_budget_opts),
	{ .id = PLACE_OPT_EXPLAIN, .name = "explain", .type = CLI_FLAG, .heading = "Output:",
	  .help = "say why the chosen nodes won and why the others lost" },
	{ .id = PLACE_OPT_VERBOSE, .name = "verbose", .letter = 'v', .type = CLI_FLAG,
	  .help = "with text: also how the search ended (steps, stranded MiB)" },
	{ .id = PLACE_OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_plan_format, .meta = "FMT",
	  .help = "text (default), json, libvirt, xl, numactl; with a\n"
		  "document, the plan in FMT instead of the document" },
	CLI_INCLUDE(place_output_opts),
	/* Hidden: the differential tests validate every plan on release builds too. */
	{ .id = PLACE_OPT_VALIDATE, .name = "validate", .type = CLI_FLAG },
	CLI_OPT_END,
};

void place_doc_args_get(const struct cli_args *a, struct place_args *p)
{
	p->domain_xml = cli_text(a, PLACE_OPT_DOMAIN_XML);
	p->xl_config = cli_text(a, PLACE_OPT_XL_CONFIG);
	p->device_policy_given = cli_given(a, PLACE_OPT_DEVICE_POLICY);
	p->device_policy =
		(enum np_pci_policy)cli_num(a, PLACE_OPT_DEVICE_POLICY, NP_PCI_POLICY_PREFERRED);
	p->output = cli_text(a, PLACE_OPT_OUTPUT);
	p->in_place = cli_given(a, PLACE_OPT_IN_PLACE);
}

int place_args_get(const struct cli_args *a, struct place_args *p)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->verb = a->verb;
	if ((rc = cli_source_get(a, false, &p->src)))
		return rc;
	p->state = cli_text(a, PLACE_OPT_STATE);
	p->flavor = cli_text(a, PLACE_OPT_FLAVOR);
	p->image = cli_text(a, PLACE_OPT_IMAGE);
	p->xl_vnuma = cli_text(a, PLACE_OPT_XL_VNUMA);
	p->request = cli_text(a, PLACE_OPT_REQUEST);
	place_doc_args_get(a, p);
	p->vcpus = (long)cli_num(a, PLACE_OPT_VCPUS, -1);
	p->memory_mb = cli_num(a, PLACE_OPT_MEMORY, -1);
	p->strategy_given = cli_given(a, PLACE_OPT_STRATEGY);
	p->strategy = (enum np_strategy)cli_num(a, PLACE_OPT_STRATEGY, NP_STRATEGY_SPREAD);
	p->mem_policy_given = cli_given(a, PLACE_OPT_MEM_POLICY);
	p->mem_policy = (enum np_mem_policy)cli_num(a, PLACE_OPT_MEM_POLICY, NP_MEM_POLICY_STRICT);
	p->affinity_given = cli_given(a, PLACE_OPT_AFFINITY);
	p->affinity = (enum np_affinity)cli_num(a, PLACE_OPT_AFFINITY, NP_AFFINITY_HARD);
	p->basis_given = cli_given(a, PLACE_OPT_MEMORY_BASIS);
	p->basis = (enum np_memory_basis)cli_num(a, PLACE_OPT_MEMORY_BASIS, NP_MEMORY_BASIS_TOTAL);
	p->explain = cli_given(a, PLACE_OPT_EXPLAIN);
	p->verbose = cli_given(a, PLACE_OPT_VERBOSE);
	p->format_given = cli_given(a, PLACE_OPT_FORMAT);
	p->format = (enum np_plan_format)cli_num(a, PLACE_OPT_FORMAT, NP_PLAN_TEXT);
	p->validate = cli_given(a, PLACE_OPT_VALIDATE);
	p->allow_moves = (int)cli_num(a, PLACE_OPT_ALLOW_MOVES, 0);
	place_budget_args_get(a, p);
	p->no_demand = cli_given(a, PLACE_OPT_NO_DEMAND);
	p->flavors = cli_text(a, PLACE_OPT_FLAVORS);
	p->lookahead = (int)cli_num(a, PLACE_OPT_LOOKAHEAD, 0);
	p->lookahead_depth = (int)cli_num(a, PLACE_OPT_LOOKAHEAD_DEPTH, 0);
	p->lookahead_seed = (uint64_t)cli_num(a, PLACE_OPT_LOOKAHEAD_SEED, 1);
	p->lookahead_budget = (uint64_t)cli_num(a, PLACE_OPT_LOOKAHEAD_BUDGET, 0);
	p->args = a;
#ifndef NDEBUG
	p->validate = true;
#endif
	return CLI_OK;
}

int place_doc_check(const struct place_args *p)
{
	const struct cli_verb *verb = p->verb;
	const char *doc = p->domain_xml ? p->domain_xml : p->xl_config;

	if (p->domain_xml && p->xl_config)
		return cli_usage_error(verb, "give one document: --domain-xml or --xl-config");
	if (doc && (p->xl_vnuma || p->request))
		return cli_usage_error(verb, "a document is the guest, or --flavor is: not "
				       "--xl-vnuma or --request");
	if (p->device_policy_given && (!doc || p->flavor))
		return cli_usage_error(verb, "--device-policy is for the PCI devices of a "
				       "document that is the guest (no --flavor)");
	if (p->in_place && (!doc || strcmp(doc, "-") == 0))
		return cli_usage_error(verb, "--in-place replaces the file of --domain-xml or "
				       "--xl-config");
	if (p->in_place && (p->output || p->format_given))
		return cli_usage_error(verb, "--in-place writes the document back: not with "
				       "--output or --format");
	return CLI_OK;
}

int place_args_check(const struct place_args *p)
{
	const struct cli_verb *verb = p->verb;
	bool doc = p->domain_xml || p->xl_config;
	int guests = !!p->flavor + !!p->xl_vnuma + !!p->request;

	if (p->image && !p->flavor)
		return cli_usage_error(verb, "--image goes with --flavor");
	if (place_doc_check(p))
		return CLI_BAD_INPUT;
	if (guests == 0 && !doc)
		return cli_usage_error(verb, "say what to place: --flavor, --xl-vnuma, --request, "
				       "--domain-xml or --xl-config");
	if (guests > 1)
		return cli_usage_error(verb, "give one guest: --flavor, --xl-vnuma or --request");
	if (p->xl_vnuma && (p->vcpus < 0 || p->memory_mb < 0))
		return cli_usage_error(verb, "--xl-vnuma needs --vcpus and --memory");
	if (!p->xl_vnuma && (p->vcpus >= 0 || p->memory_mb >= 0))
		return cli_usage_error(verb, "--vcpus and --memory go with --xl-vnuma");
	if (p->no_demand && !p->state && !p->flavors)
		return cli_usage_error(verb, "--no-demand goes with --state or --flavors: without "
				       "them there is no demand");
	if (p->allow_moves > 0 && !p->state)
		return cli_usage_error(verb, "--allow-moves moves claimed guests: give --state FILE");
	if (p->lookahead && !p->flavors)
		return cli_usage_error(verb, "--lookahead draws futures from a catalogue: give "
				       "--flavors FILE");
	if (p->lookahead && p->allow_moves > 0)
		return cli_usage_error(verb, "--lookahead does not go with --allow-moves");
	if (!p->lookahead && (cli_given(p->args, PLACE_OPT_LOOKAHEAD_DEPTH) ||
			      cli_given(p->args, PLACE_OPT_LOOKAHEAD_SEED) ||
			      cli_given(p->args, PLACE_OPT_LOOKAHEAD_BUDGET)))
		return cli_usage_error(verb, "--lookahead-depth, --lookahead-seed and "
				       "--lookahead-budget go with --lookahead N");
	if ((cli_given(p->args, PLACE_OPT_KEEP) || p->move_budget || p->move_us) &&
	    p->allow_moves == 0)
		return cli_usage_error(verb, "--keep, --move-budget and --move-time-budget go with "
				       "--allow-moves N");
	return CLI_OK;
}

int place_read_doc(struct place_args *p)
{
	const char *path = p->domain_xml ? p->domain_xml : p->xl_config;

	return path ? cli_read_file(path, &p->doc, &p->doclen) : CLI_OK;
}

void place_args_free(struct place_args *p)
{
	free(p->doc);
	p->doc = NULL;
}

/* The document's name in messages. */
static const char *doc_name(const struct place_args *p)
{
	return cli_input_name(p->domain_xml ? p->domain_xml : p->xl_config);
}

int place_request(const struct place_args *p, np_request **out)
{
	struct np_error err = { 0 };
	char *buf;
	size_t len = 0;
	int rc;

	if (p->flavor) {
		rc = np_request_from_flavor_text(p->flavor, p->image, out, &err);
	} else if (p->domain_xml) {
		rc = np_request_from_domain_xml(p->doc, p->doclen, doc_name(p), p->device_policy,
						out, &err);
	} else if (p->xl_config) {
		rc = np_request_from_xl_config(p->doc, p->doclen, doc_name(p), p->device_policy,
					       out, &err);
	} else if (p->xl_vnuma) {
		rc = np_request_from_xl_vnuma(p->xl_vnuma, (unsigned)p->vcpus,
					      (uint64_t)p->memory_mb, out, &err);
	} else {
		if ((rc = cli_read_file(p->request, &buf, &len)))
			return rc;
		rc = np_request_from_json(buf, len, cli_input_name(p->request), out, &err);
		free(buf);
	}
	if (rc)
		return cli_fail(&err);
	cli_request_warnings(*out);
	return CLI_OK;
}

int place_host(const struct place_args *p, np_topo **topo, np_host **host)
{
	struct np_error err = { 0 };
	int rc = cli_load_topology(&p->src, topo);

	if (rc)
		return rc;
	if (np_host_new(*topo, host, &err) ||
	    (p->basis_given && np_host_set_memory_basis(*host, p->basis, &err))) {
		np_host_free(*host);
		*host = NULL;
		np_topo_free(*topo);
		*topo = NULL;
		return cli_fail(&err);
	}
	return CLI_OK;
}

int place_state_demand(struct place_args *p, const np_state *st, const np_request *req)
{
	struct np_error err = { 0 };
	np_flavors *fl = NULL;
	bool recent = st && !p->no_demand;

	if (p->demand || (!recent && !p->flavors))
		return CLI_OK;
	if (p->flavors && np_flavors_load(p->flavors, &fl, &err))
		return cli_fail(&err);
	if (!(p->demand = calloc(1, sizeof(*p->demand)))) {
		np_flavors_free(fl);
		return cli_oom();
	}
	if (recent)
		p->demand->n = np_state_demand(st, p->demand->shape, 0);
	if (!p->no_demand)
		p->demand->n = np_demand_add_request(p->demand->shape, p->demand->n, req, 1);
	p->demand->n = np_demand_add_flavors(p->demand->shape, p->demand->n, fl,
					     NP_DEMAND_FLAVORS_WEIGHT);
	p->demand->flavors = fl;
	return CLI_OK;
}

void place_demand_free(struct place_args *p)
{
	if (p->demand)
		np_flavors_free(p->demand->flavors);
	free(p->demand);
	p->demand = NULL;
}

struct np_place_opts place_opts(const struct place_args *p)
{
	return (struct np_place_opts){ .strategy = p->strategy, .explain = p->explain,
				       .mem_policy_set = p->mem_policy_given,
				       .mem_policy = p->mem_policy,
				       .affinity_set = p->affinity_given,
				       .affinity = p->affinity, .max_steps = p->max_steps,
				       .max_us = p->max_us,
				       .demand = p->demand ? p->demand->shape : NULL,
				       .ndemand = p->demand ? p->demand->n : 0 };
}

/*
 * --lookahead N: np_place_lookahead() with the catalogue of --flavors, as
 * place_state_demand() loaded it (once: the demand and the futures come
 * from the same file); -v says what it did.
 */
static int lookahead(const struct place_args *p, const np_host *host, const np_request *req,
		     const struct np_place_opts *opts, np_plan **out, struct np_error *err)
{
	struct np_lookahead la = { .samples = p->lookahead, .depth = p->lookahead_depth,
				   .seed = p->lookahead_seed, .max_guests = p->lookahead_budget,
				   .flavors = p->demand ? p->demand->flavors : NULL };
	struct np_lookahead_result r = { 0 };
	int rc = np_place_lookahead(host, req, opts, &la, out, &r, err);

	if (!rc && p->verbose)
		fprintf(stderr, "numaplace: lookahead: %d plan%s tried on %d futures (%llu guests), "
			"chose %d%s\n", r.candidates, r.candidates == 1 ? "" : "s", r.futures,
			(unsigned long long)r.guests, r.chosen,
			r.chosen ? "" : " (the engine's own)");
	return rc;
}

int place_plan(const struct place_args *p, const np_host *host, const np_request *req,
	       np_plan **out)
{
	struct np_place_opts opts = place_opts(p);
	struct np_error err = { 0 };

	if (p->lookahead ? lookahead(p, host, req, &opts, out, &err)
			 : np_place(host, req, &opts, out, &err)) {
		/* A request the document made but the host cannot take: say which document. */
		if (p->doc && !p->flavor && err.code == NP_EINPUT) {
			cli_error("%s: %s", doc_name(p), err.message);
			return CLI_BAD_INPUT;
		}
		return cli_fail(&err);
	}
	if (p->validate && np_plan_fits(*out) && np_plan_validate(host, req, *out, &err)) {
		fprintf(stderr, "numaplace: internal error: the plan fails validation: %s\n",
			err.message);
		np_plan_free(*out);
		*out = NULL;
		return CLI_FAILED;
	}
	return CLI_OK;
}

/* The plan merged into the document, to OUT. */
static int merge(const struct place_args *p, const np_plan *plan, const np_host *host,
		 const np_request *req, FILE *out, struct np_error *err)
{
	if (p->domain_xml)
		return np_plan_merge_domain_xml(plan, host, req, p->doc, p->doclen, doc_name(p),
						out, err);
	return np_plan_merge_xl_config(plan, host, req, p->doc, p->doclen, doc_name(p), out, err);
}

int place_write_to(const struct place_args *p, const np_plan *plan, const np_host *host,
		   const np_request *req, FILE *out)
{
	struct np_error err = { 0 };
	unsigned flags = (p->explain ? NP_PLAN_EXPLAIN : 0) | (p->verbose ? NP_PLAN_VERBOSE : 0);
	bool doc = p->doc && !p->format_given;

	if (!np_plan_fits(plan) && (doc || p->format != NP_PLAN_TEXT)) {
		const char *why = np_plan_no_fit_summary(plan);

		/* JSON carries the reasons; the others have nothing to write. */
		if (!doc && p->format == NP_PLAN_JSON &&
		    np_plan_write(plan, host, req, p->format, flags, out, &err))
			return cli_fail(&err);
		fprintf(stderr, "numaplace: no placement fits this guest%s%s\n", why ? ": " : "",
			why ? why : "");
		return CLI_FAILED;
	}
	if (doc ? merge(p, plan, host, req, out, &err)
		: np_plan_write(plan, host, req, p->format, flags, out, &err))
		return cli_fail(&err);
	/* The tools' formats cannot say that other guests must move first. */
	if (np_plan_move_count(plan) && p->format != NP_PLAN_TEXT && p->format != NP_PLAN_JSON)
		fprintf(stderr, "numaplace: note: %d cell%s of other guests must move first (%llu MiB"
			" to migrate): see --format json, and `numaplace apply --plan`\n",
			np_plan_move_count(plan), np_plan_move_count(plan) == 1 ? "" : "s",
			(unsigned long long)np_plan_moves_mb(plan));
	return np_plan_fits(plan) ? CLI_OK : CLI_FAILED;
}

int place_render(const struct place_args *p, const np_plan *plan, const np_host *host,
		 const np_request *req, char **buf, size_t *len)
{
	FILE *m;
	int rc;

	*buf = NULL;
	*len = 0;
	if (!(m = open_memstream(buf, len)))
		return cli_oom();
	rc = place_write_to(p, plan, host, req, m);
	if (fclose(m) && rc != CLI_BAD_INPUT)
		rc = cli_oom();
	return rc;
}

int place_deliver(const struct place_args *p, const char *buf, size_t len)
{
	struct np_error err = { 0 };
	FILE *out;
	int rc;

	if (p->in_place)
		return np_file_replace(p->domain_xml ? p->domain_xml : p->xl_config, buf, len, &err)
			       ? cli_fail(&err)
			       : CLI_OK;
	if ((rc = cli_open_output(p->output, "w", &out)))
		return rc;
	rc = fwrite(buf, 1, len, out) == len ? CLI_OK : CLI_FAILED;
	return cli_close_output(p->output, out, rc);
}

int place_write(const struct place_args *p, const np_plan *plan, const np_host *host,
		const np_request *req)
{
	char *buf;
	size_t len;
	int rc = place_render(p, plan, host, req, &buf, &len);

	/* What fits, and the answer "no fit" in text or JSON; never a part of a document. */
	if (rc == CLI_OK || (rc == CLI_FAILED && len > 0)) {
		int drc = place_deliver(p, buf, len);

		rc = drc ? drc : rc;
	}
	free(buf);
	return rc;
}

/*
 * --state FILE: charge its claims onto HOST (shared lock, nothing written),
 * take the demand they make for REQ; with --allow-moves, also the claims
 * as guests that may move (GUESTS).
 */
static int apply_state(struct place_args *p, np_host *host, const np_request *req,
		       struct np_guest_plan **guests, int *n)
{
	struct np_error err = { 0 };
	np_state *st = NULL;
	int rc;

	if (np_state_open(p->state, true, &st, &err))
		return cli_fail(&err);
	rc = np_state_apply(st, host, &err) ? cli_fail(&err) : CLI_OK;
	if (!rc)
		rc = place_state_demand(p, st, req);
	if (!rc && p->allow_moves > 0)
		rc = place_state_guests(p, st, np_host_topo(host), guests, n);
	np_state_close(st);
	return rc;
}

/* --case FILE: a Nova case, answered in its own output shape. */
static int place_case(const char *path, const struct place_args *p)
{
	struct np_place_opts opts = { .strategy = p->strategy, .explain = p->explain };
	struct np_nova_summary sum = { 0 };
	struct np_error err = { 0 };
	np_nova_case *c = NULL;
	size_t len = 0;
	char *buf;
	int rc;

	if ((rc = cli_read_file(path, &buf, &len)))
		return rc;
	rc = np_nova_case_parse(buf, len, cli_input_name(path), &c, &err);
	free(buf);
	if (rc)
		return cli_fail(&err);
	if (!p->strategy_given)
		opts.strategy = np_nova_case_strategy(c);
	rc = np_nova_case_run(c, &opts, p->validate, stdout, &sum, &err);
	np_nova_case_free(c);
	if (rc)
		return cli_fail(&err);
	if (sum.bad_plans)
		fprintf(stderr, "numaplace: internal error: %d plan%s failed validation (see "
			"invalid_plan)\n", sum.bad_plans, sum.bad_plans > 1 ? "s" : "");
	return sum.invalid ? CLI_BAD_INPUT : sum.nofit || sum.bad_plans ? CLI_FAILED : CLI_OK;
}

/* --case excludes every host and guest option but --strategy, --explain and --validate. */
static int check_case(const struct place_args *p)
{
	if (p->src.given || p->state || p->flavor || p->image || p->xl_vnuma || p->request ||
	    p->allow_moves || p->flavors || p->no_demand || p->lookahead ||
	    p->vcpus >= 0 || p->memory_mb >= 0 || p->mem_policy_given || p->affinity_given ||
	    p->basis_given || p->verbose || p->format != NP_PLAN_TEXT || p->domain_xml ||
	    p->xl_config || p->device_policy_given || p->output || p->in_place)
		return cli_usage_error(p->verb, "--case brings its own host and requests: only "
				       "--strategy and --explain go with it");
	return CLI_OK;
}

static int run_place(struct place_args *p)
{
	struct np_guest_plan *guests = NULL;
	np_topo *topo = NULL;
	np_host *host = NULL;
	np_request *req = NULL;
	np_plan *plan = NULL;
	int rc, n = 0;

	if ((rc = place_request(p, &req)) || (rc = place_host(p, &topo, &host)))
		goto out;
	if (p->state ? (rc = apply_state(p, host, req, &guests, &n))
		     : (rc = place_state_demand(p, NULL, req)))
		goto out;
	rc = p->allow_moves > 0 ? place_plan_moves(p, host, req, guests, n, &plan)
				: place_plan(p, host, req, &plan);
	if (rc)
		goto out;
	rc = place_write(p, plan, host, req);
out:
	place_demand_free(p);
	place_guests_free(guests, n);
	np_plan_free(plan);
	np_request_free(req);
	np_host_free(host);
	np_topo_free(topo);
	return rc;
}

enum { OPT_CASE = 1 };

static const struct cli_opt opts[] = {
	CLI_SOURCE_SECTION(CLI_SOURCE_HEADING),
	{ .id = PLACE_OPT_STATE, .name = "state", .type = CLI_FILE,
	  .help = "take the claims recorded in FILE as used" },
	CLI_INCLUDE(place_guest_opts),
	{ .id = OPT_CASE, .name = "case", .type = CLI_INPUT, .heading = "Nova:",
	  .help = "a Nova case (shared/nova/CASE_FORMAT.md: host, request\n"
		  "or requests); prints the answer as JSON in that format's\n"
		  "output shape, errors as {\"code\", \"message\"}; with\n"
		  "--explain each answer also has \"reasons\"" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct place_args p;
	int rc;

	if ((rc = place_args_get(a, &p)))
		return rc;
	if (cli_given(a, OPT_CASE))
		return check_case(&p) ? CLI_BAD_INPUT : place_case(cli_text(a, OPT_CASE), &p);
	if (place_args_check(&p))
		return CLI_BAD_INPUT;
	if (!(rc = place_read_doc(&p)))
		rc = run_place(&p);
	place_args_free(&p);
	return rc;
}

const struct cli_verb cli_verb_place = {
	.name = "place",
	.summary = "place a guest on a host and say why",
	.synopsis = "usage: numaplace place [HOST] [--state FILE] GUEST [options]\n"
		    "       numaplace place [HOST] --domain-xml|--xl-config FILE [--flavor TEXT]\n"
		    "                       [-o FILE | --in-place]\n"
		    "       numaplace place --case FILE [--explain]\n",
	.about = "Choose host NUMA nodes for every guest cell, pin or float its vCPUs, set\n"
		 "its memory policy, and say why.  Nothing is recorded: see `numaplace claim`.\n"
		 "Given a whole libvirt domain or xl.cfg, the guest is read from it and the\n"
		 "document is written back with the placement merged in, the rest kept.\n",
	.opts = opts,
	.epilog = "Exit: 0 fits, 1 does not fit (in every format; the reason on stderr\n"
		  "for json, libvirt, xl, numactl and documents, nothing written to -o or\n"
		  "--in-place), 2 bad input or usage (also: a format that cannot carry out\n"
		  "the plan), 3 unsupported here (domain XML without the libvirt module).\n"
		  "\n"
		  "Examples:\n"
		  "  numaplace place --flavor 'vcpus=8,ram=8192,hw:numa_nodes=2'\n"
		  "  numaplace place --libvirt qemu:///system --flavor 'vcpus=4,ram=4096,"
		  "hw:cpu_policy=dedicated' --format libvirt\n"
		  "  numaplace place --host host.json --xl-vnuma '[ [\"pnode=0\",\"size=2048\","
		  "\"vcpus=0-1\"] ]' --vcpus 2 --memory 2048 --format xl\n"
		  "  numaplace place --host host.json --state host.state --flavor 'vcpus=2,ram=2048' "
		  "--no-demand\n"
		  "  numaplace place --host host.json --state host.state --flavor 'vcpus=2,ram=2048' "
		  "--flavors flavors.json\n"
		  "  numaplace place --host host.json --state host.state --flavor 'vcpus=2,ram=2048' "
		  "--flavors flavors.json --lookahead 32 -v\n"
		  "  numaplace place --host room.json --state room.state \\\n"
		  "      --flavor 'vcpus=4,ram=8192,hw:cpu_policy=dedicated' --allow-moves 1\n"
		  "  numaplace place --case case.json\n"
		  "  numaplace place --host host.json --domain-xml vm.xml -o vm-placed.xml\n"
		  "  numaplace place --host host.json --domain-xml vm.xml \\\n"
		  "      --flavor 'vcpus=4,ram=4096,hw:numa_nodes=2' --in-place\n"
		  "  numaplace place --host host.json --xl-config vm.cfg\n",
	.run = run,
};
