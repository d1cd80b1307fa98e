/*
 * cmd-schedule.c - `numaplace schedule`: choose a host of a fleet store for
 * a guest and claim it there, in one step (np_fleet_schedule).
 *
 * Design: the guest is a Nova flavor (and image), or a whole libvirt
 * domain or xl.cfg, built exactly as for `numaplace place` (cmd-place.h,
 * whose document and output options schedule shares); the answer is the
 * same plan `place` would print for the chosen host, in any of its
 * formats, or the document with it merged in, plus the host's name: on
 * stdout in text and JSON, on stderr for libvirt, xl, numactl and the
 * documents (whose stdout is meant for a file).  The answer is made in
 * memory, then goes to stdout, -o FILE or (--in-place) the document's
 * file; when that fails, the claim this run made is released.  When
 * nothing fits, one line on stderr counts the hosts per reason (JSON: the
 * reasons in the document), exit 1, nothing else written.
 * Scheduling an id again with the same request prints its placement (exit
 * 0); with another request it is refused (exit 2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-place.h"
#include "fleet-cli.h"

enum {
	OPT_STORE = 1,
	OPT_ID,
	OPT_NAME,
	OPT_DRY_RUN,
	OPT_EXPLAIN,
	OPT_STRATEGY,
	OPT_SEED,
	OPT_NO_DEMAND,
	OPT_FORMAT,
	OPT_ALLOW_MOVES,
	OPT_MOVE_BUDGET,
	OPT_MOVE_TIME,
	OPT_MAX_STEPS,
	OPT_TIME_BUDGET,
};

struct sched_args {
	const char *store, *id;
	struct np_fleet_sched_opts o;
	enum np_plan_format format;
	struct place_args p; /* the guest (flavor, image, document) and the output, as place's */
};

/* One line: "no host fits 'vm-7' (1000 hosts): 912 hosts: ...; 80 hosts: ...". */
static void reasons_text(const np_fleet_result *r, FILE *out)
{
	fprintf(out, "no host fits '%s' (%d host%s)", np_fleet_result_id(r),
		np_fleet_result_stats(r)->hosts, np_fleet_result_stats(r)->hosts == 1 ? "" : "s");
	for (int i = 0; i < np_fleet_result_reason_count(r); i++) {
		int n = 0;
		const char *t = np_fleet_result_reason(r, i, &n);

		fprintf(out, "%s %d host%s: %s", i ? ";" : ":", n, n == 1 ? "" : "s", t);
	}
	fputc('\n', out);
}

static void stats_text(const np_fleet_result *r, FILE *out)
{
	const struct np_fleet_stats *s = np_fleet_result_stats(r);

	fprintf(out, "fleet: %d host%s, %d rejected by the pre-filter, %d run through the "
		"engine, %d fit; %d claim attempt%s\n", s->hosts, s->hosts == 1 ? "" : "s",
		s->prefiltered, s->engine, s->fits, s->attempts, s->attempts == 1 ? "" : "s");
	if (s->moves_hosts > 0)
		fprintf(out, "fleet: %d host%s searched for moves\n", s->moves_hosts,
			s->moves_hosts == 1 ? "" : "s");
	for (int i = 0; i < np_fleet_result_reason_count(r); i++) {
		int n = 0;
		const char *t = np_fleet_result_reason(r, i, &n);

		fprintf(out, "  %d host%s: %s\n", n, n == 1 ? "" : "s", t);
	}
}

static int json_out(const struct sched_args *a, const np_fleet_result *r, FILE *out)
{
	struct np_error err = { 0 };

	fprintf(out, "{\"id\": ");
	fleet_json_str(out, np_fleet_result_id(r));
	if (!np_fleet_result_placed(r)) {
		fprintf(out, ", \"host\": null, \"plan\": null, \"reasons\": [");
		for (int i = 0; i < np_fleet_result_reason_count(r); i++) {
			int n = 0;
			const char *t = np_fleet_result_reason(r, i, &n);

			fprintf(out, "%s{\"hosts\": %d, \"reason\": ", i ? ", " : "", n);
			fleet_json_str(out, t);
			fprintf(out, "}");
		}
		fprintf(out, "]}\n");
		return CLI_FAILED;
	}
	fprintf(out, ", \"host\": ");
	fleet_json_str(out, np_fleet_result_host(r));
	fprintf(out, ", \"existing\": %s, \"dry_run\": %s, \"plan\": ",
	       np_fleet_result_existing(r) ? "true" : "false", a->o.dry_run ? "true" : "false");
	if (np_plan_write(np_fleet_result_plan(r), np_fleet_result_usage(r), NULL, NP_PLAN_JSON,
			  a->o.explain, out, &err))
		return cli_fail(&err);
	fprintf(out, "}\n");
	return CLI_OK;
}

static int print_result(const struct sched_args *a, const np_fleet_result *r,
			const np_request *req, FILE *out)
{
	struct np_error err = { 0 };
	bool doc = a->p.doc && !a->p.format_given;
	bool text = a->format == NP_PLAN_TEXT && !doc;
	char id[FLEET_SHOWN_MAX], host[FLEET_SHOWN_MAX];

	if (a->format == NP_PLAN_JSON && !doc)
		return json_out(a, r, out);
	if (!np_fleet_result_placed(r)) {
		fputs("numaplace: ", stderr);
		reasons_text(r, stderr);
		return CLI_FAILED;
	}
	fprintf(text ? out : stderr, "%s'%s' %s %s%s\n", text ? "" : "numaplace: ",
		fleet_shown(np_fleet_result_id(r), id),
		np_fleet_result_existing(r) ? "is placed on" : "->",
		fleet_shown(np_fleet_result_host(r), host),
		a->o.dry_run ? " (dry run: nothing claimed)" : "");
	if (doc)
		return place_write_to(&a->p, np_fleet_result_plan(r), np_fleet_result_usage(r), req,
				      out);
	if (np_plan_write(np_fleet_result_plan(r), np_fleet_result_usage(r), req, a->format,
			  a->o.explain, out, &err))
		return cli_fail(&err);
	if (a->o.explain && text)
		stats_text(r, out);
	return CLI_OK;
}

/* The answer into memory, then to where it goes; nothing but the JSON "no fit" when none. */
static int deliver(const struct sched_args *a, const np_fleet_result *r, const np_request *req)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int rc;

	if (!m)
		return cli_oom();
	rc = print_result(a, r, req, m);
	if (fclose(m) && rc != CLI_BAD_INPUT)
		rc = cli_oom();
	if (rc == CLI_OK || (rc == CLI_FAILED && len > 0)) {
		int drc = place_deliver(&a->p, buf, len);

		rc = drc ? drc : rc;
	}
	free(buf);
	return rc;
}

/*
 * The answer could not be written (the document would not merge, -o could
 * not be made): give back the claim this run made, so a failed run leaves
 * the store as it was.  A placement that was there before stays.
 */
static void undo_claim(np_fleet *f, const struct sched_args *a, const np_fleet_result *r)
{
	struct np_error err = { 0 };

	if (!np_fleet_result_placed(r) || np_fleet_result_existing(r) || a->o.dry_run)
		return;
	if (np_fleet_release(f, a->id, NULL, &err))
		cli_error("the claim of '%s' on %s stays: %s", a->id, np_fleet_result_host(r),
			  err.message);
}

static int schedule(const struct cli_verb *verb, const struct sched_args *a)
{
	struct np_error err = { 0 };
	np_request *req = NULL;
	np_fleet *f = NULL;
	np_fleet_result *r = NULL;
	int rc;

	struct np_fleet_sched_opts o = a->o;
	np_flavors *fl = NULL;

	if ((rc = place_request(&a->p, &req)))
		return rc;
	if (a->p.flavors && np_flavors_load(a->p.flavors, &fl, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	o.flavors = fl;
	if ((rc = fleet_open(verb, fleet_store_url(a->store), 0, &f)))
		goto out;
	if (np_fleet_schedule(f, a->id, req, &o, &r, &err))
		rc = cli_fail(&err);
	else if ((rc = deliver(a, r, req)))
		undo_claim(f, a, r);
out:
	np_fleet_result_free(r);
	np_fleet_close(f);
	np_request_free(req);
	np_flavors_free(fl);
	return rc;
}

static const struct cli_opt opts[] = {
	{ .id = OPT_STORE, .name = "store", .type = CLI_TEXT, .meta = "URL",
	  .help = "sqlite:PATH or postgresql://...; default: $NUMAPLACE_STORE" },
	{ .id = OPT_ID, .name = "id", .type = CLI_TEXT, .meta = "ID",
	  .help = "the guest's name in the store (scheduling it again with\n"
		  "the same request prints its placement)" },
	{ .id = PLACE_OPT_FLAVOR, .name = "flavor", .type = CLI_TEXT, .meta = "TEXT",
	  .heading = "The guest (one of these; a document may come with --flavor):",
	  .help = "Nova flavor: 'vcpus=8,ram=4096,hw:numa_nodes=2,...'" },
	{ .id = PLACE_OPT_IMAGE, .name = "image", .type = CLI_TEXT, .meta = "TEXT",
	  .help = "image properties 'hw_mem_page_size=2048,...'" },
	CLI_INCLUDE(place_doc_opts),
	{ .id = OPT_NAME, .name = "name", .type = CLI_TEXT, .meta = "HOST", .heading = "Scheduling:",
	  .help = "only this host" },
	{ .id = OPT_DRY_RUN, .name = "dry-run", .letter = 'n', .type = CLI_FLAG,
	  .help = "choose and print, claim nothing" },
	{ .id = OPT_EXPLAIN, .name = "explain", .type = CLI_FLAG,
	  .help = "the plan's reasons, and why the other hosts lost" },
	{ .id = OPT_STRATEGY, .name = "strategy", .type = CLI_CHOICE, .choice = &cli_choice_strategy,
	  .meta = "S", .help = "spread (default: emptiest hosts first) or pack (fullest)" },
	{ .id = OPT_ALLOW_MOVES, .name = "allow-moves", .type = CLI_INT, .min = 0,
	  .max = NP_MOVES_MAX, .meta = "N",
	  .help = "when no host fits the guest as it is, move at most N\n"
		  "cells of other placements on one host so it fits: the\n"
		  "host where that migrates the fewest MiB (docs/fleet.md)" },
	CLI_INCLUDE(place_budget_opts),
	{ .id = OPT_NO_DEMAND, .name = "no-demand", .type = CLI_FLAG,
	  .help = "do not keep room on the host for more guests like this one\n"
		  "(the demand, docs/policies/placement.md 4)" },
	{ .id = PLACE_OPT_FLAVORS, .name = "flavors", .type = CLI_TEXT, .meta = "FILE",
	  .help = "keep room for the guests of this flavor catalogue too,\n"
		  "as often as each is asked for (docs/formats/flavors.md;\n"
		  "with --no-demand, for them alone)" },
	/* Hidden: repeatable random choices, for tests. */
	{ .id = OPT_SEED, .name = "seed", .type = CLI_INT, .min = 1, .max = 9007199254740991.0 },
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_plan_format, .meta = "FMT",
	  .heading = "Output:",
	  .help = "text (default), json, libvirt, xl, numactl; with a\n"
		  "document, the plan in FMT instead of the document" },
	CLI_INCLUDE(place_output_opts),
	CLI_OPT_HELP,
	CLI_OPT_END,
};

/* The options into S: 0 or 2 (printed). */
static int args_get(const struct cli_verb *verb, const struct cli_args *a, struct sched_args *s)
{
	struct place_args *p = &s->p;

	place_doc_args_get(a, p);
	p->verb = verb;
	p->flavor = cli_text(a, PLACE_OPT_FLAVOR);
	p->image = cli_text(a, PLACE_OPT_IMAGE);
	p->format_given = cli_given(a, OPT_FORMAT);
	p->format = s->format = (enum np_plan_format)cli_num(a, OPT_FORMAT, NP_PLAN_TEXT);
	s->store = cli_text(a, OPT_STORE);
	s->id = cli_text(a, OPT_ID);
	s->o.host = cli_text(a, OPT_NAME);
	s->o.dry_run = cli_given(a, OPT_DRY_RUN);
	s->o.explain = cli_given(a, OPT_EXPLAIN);
	s->o.strategy = (enum np_strategy)cli_num(a, OPT_STRATEGY, NP_STRATEGY_SPREAD);
	s->o.seed = (uint64_t)cli_num(a, OPT_SEED, 0);
	s->o.allow_moves = (int)cli_num(a, OPT_ALLOW_MOVES, 0);
	place_budget_args_get(a, p);
	s->o.max_steps = p->max_steps;
	s->o.max_us = p->max_us;
	s->o.move_sets = (uint64_t)p->move_budget;
	s->o.move_us = p->move_us;
	if ((p->move_budget || p->move_us) && s->o.allow_moves == 0)
		return cli_usage_error(verb, "--move-budget and --move-time-budget go with "
				       "--allow-moves N");
	s->o.no_demand = cli_given(a, OPT_NO_DEMAND);
	p->flavors = cli_text(a, PLACE_OPT_FLAVORS);
	if (!s->id || !*s->id || (!p->flavor && !p->domain_xml && !p->xl_config))
		return cli_usage_error(verb, "say who and what: --id ID and --flavor SPEC, "
				       "--domain-xml FILE or --xl-config FILE");
	if (p->image && !p->flavor)
		return cli_usage_error(verb, "--image goes with --flavor");
	if (place_doc_check(p))
		return CLI_BAD_INPUT;
	if (p->in_place && s->o.dry_run)
		return cli_usage_error(verb, "--dry-run changes nothing: not with --in-place");
	return CLI_OK;
}

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct sched_args s = { .format = NP_PLAN_TEXT };
	int rc;

	if ((rc = args_get(verb, a, &s)))
		return rc;
	if (!(rc = place_read_doc(&s.p)))
		rc = fleet_flushed(schedule(verb, &s));
	place_args_free(&s.p);
	return rc;
}

const struct cli_verb cli_verb_schedule = {
	.name = "schedule",
	.summary = "choose a host of the fleet for a guest and claim it",
	.synopsis =
		"usage: numaplace schedule --store URL --id ID --flavor SPEC [--image SPEC]\n"
		"                          [--name HOST] [--dry-run] [--explain] [--strategy S]\n"
		"                          [--allow-moves N] [--max-steps N] [--time-budget MS]\n"
		"                          [--no-demand] [--flavors FILE]\n"
		"                          [--format text|json|libvirt|xl|numactl] [-o FILE]\n"
		"       numaplace schedule --store URL --id ID --domain-xml|--xl-config FILE\n"
		"                          [--flavor SPEC] [-o FILE | --in-place] [options]\n",
	.about = "Choose a host in the fleet store for a guest and claim it there in one\n"
		 "transaction: every host is pre-filtered, the survivors are placed by the\n"
		 "same engine as `numaplace place`, the best few by distance and strategy are\n"
		 "candidates and one is picked at random (so several schedulers do not fight\n"
		 "over one host); the claim re-checks every node's capacity in the store.\n"
		 "Given a whole libvirt domain or xl.cfg, the guest is read from it and the\n"
		 "document is written back with the chosen host's placement merged in.\n",
	.opts = opts,
	.epilog = "Exit: 0 placed (or placed before with this request), 1 nothing fits (the\n"
		  "reasons, counted per host, on stderr), 2 bad input or usage.\n"
		  "\n"
		  "Examples:\n"
		  "  numaplace schedule --store sqlite:fleet.db --id vm-7 \\\n"
		  "      --flavor 'vcpus=4,ram=8192,hw:numa_nodes=2' --format json\n"
		  "  numaplace schedule --store sqlite:fleet.db --id web1 --domain-xml vm.xml -o web1.xml\n"
		  "  numaplace schedule --store sqlite:fleet.db --id db1 \\\n"
		  "      --flavor 'vcpus=4,ram=8192,hw:cpu_policy=dedicated' --allow-moves 1\n"
		  "  numaplace schedule --store sqlite:fleet.db --id vm-8 \\\n"
		  "      --flavor 'vcpus=2,ram=4096,hw:cpu_policy=dedicated' --flavors flavors.json\n",
	.run = run,
};
