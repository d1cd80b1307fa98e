/*
 * cmd-watch.c - `numaplace watch`: hands-off placement on a libvirt host
 * (np_watch() in runtime.h).  Each domain that runs, or starts later, is
 * claimed in the state file, placed from its vCPUs and memory and applied
 * (pins, emulator, node set); each that stops is released.  One line of
 * log per domain event, text or JSON.
 *
 * Why a verb of its own and not a mode of balance: it answers libvirt's
 * events and keeps claims (what a host promised), while balance polls
 * running guests and never claims; they run side by side, and a domain
 * watch gives soft affinity is one balance then keeps near its memory.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runtime-cli.h"

enum { OPT_STATE = 1, OPT_ONCE, OPT_UNTIL_IDLE, OPT_RUN_DIR, OPT_EXTRA, OPT_DRY_RUN,
       OPT_FORMAT, OPT_LOG };

static const struct cli_opt opts[] = {
	{ .id = OPT_STATE, .name = "state", .type = CLI_FILE, .heading = "Options:",
	  .help = "the state file of this host's claims (created when missing)" },
	{ .id = OPT_ONCE, .name = "once", .type = CLI_FLAG,
	  .help = "claim and apply the running domains, release the claims of\n"
		  "stopped ones, then exit" },
	{ .id = OPT_UNTIL_IDLE, .name = "until-idle", .type = CLI_REAL, .min = 0.1,
	  .max = 86400, .what = "seconds >= 0.1", .meta = "S",
	  .help = "exit after S seconds without a domain event" },
	{ .id = OPT_EXTRA, .name = "extra-specs", .type = CLI_TEXT, .meta = "SPECS",
	  .help = "Nova extra specs for every domain, e.g.\n"
		  "'hw:cpu_policy=dedicated' (default: shared CPUs)" },
	{ .id = OPT_RUN_DIR, .name = "run-dir", .type = CLI_DIR,
	  .help = "where soft preferences go (default /run/numaplace)" },
	{ .id = OPT_DRY_RUN, .name = "dry-run", .letter = 'n', .type = CLI_FLAG,
	  .help = "place and say, claim and change nothing" },
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_text_json, .meta = "FMT",
	  .help = "log as text (default) or json (one object a line)" },
	{ .id = OPT_LOG, .name = "log", .type = CLI_OUTPUT,
	  .help = "append the log to FILE instead of standard output" },
	CLI_OPT_HELP,
	CLI_SOURCE_SECTION("Host (--libvirt URI is required: the host watched; its\n"
			   "capabilities are the topology unless another source is given):"),
	CLI_OPT_END,
};

struct wlog {
	FILE *out;
	bool json;
	long placed, failed;
};

static void log_entry(void *ctx, const struct np_watch_log *e)
{
	struct wlog *l = ctx;
	char ts[32], shown[300];

	rt_log_time(ts, sizeof(ts));
	l->placed += !strcmp(e->what, "placed") || !strcmp(e->what, "kept");
	l->failed += !strcmp(e->what, "failed") || !strcmp(e->what, "no-fit");
	if (l->json) {
		fprintf(l->out, "{\"time\":\"%s\",\"domain\":", ts);
		np_json_str_write(l->out, e->domain);
		fprintf(l->out, ",\"event\":\"%s\",\"detail\":", e->what);
		np_json_str_write(l->out, e->detail);
		fputs("}\n", l->out);
	} else {
		fprintf(l->out, "%s domain %s: %s: %s\n", ts,
			np_text_shown(e->domain, shown, sizeof(shown)), e->what, e->detail);
	}
	fflush(l->out);
}

static int get_opts(const struct cli_args *a, struct np_watch_opts *o, struct cli_source *src)
{
	int rc = cli_source_get(a, true, src);

	if (rc)
		return rc;
	o->uri = cli_text(a, CLI_OPT_LIBVIRT);
	if (!src->given && o->uri)
		*src = (struct cli_source){ NP_SOURCE_LIBVIRT_URI, o->uri, true };
	o->state_path = cli_text(a, OPT_STATE);
	o->run_dir = cli_text(a, OPT_RUN_DIR);
	o->extra_specs = cli_text(a, OPT_EXTRA);
	o->dry_run = cli_given(a, OPT_DRY_RUN);
	o->stop = &rt_stop;
	if (!o->uri || !o->state_path)
		return cli_usage_error(a->verb, "say what to watch: --libvirt URI --state FILE");
	if (cli_given(a, OPT_ONCE) && cli_given(a, OPT_UNTIL_IDLE))
		return cli_usage_error(a->verb, "give --once or --until-idle S, not both");
	o->mode = cli_given(a, OPT_ONCE)	 ? NP_WATCH_ONCE
		  : cli_given(a, OPT_UNTIL_IDLE) ? NP_WATCH_UNTIL_IDLE : NP_WATCH_FOREVER;
	o->idle_ms = (uint64_t)(cli_real(a, OPT_UNTIL_IDLE, 0) * 1000);
	return CLI_OK;
}

/*
 * The state file at PATH opened once as its writer will open it, before
 * any domain is looked at: what no claim could be written to (a symbolic
 * link, a lock file that is a FIFO or a link, a broken file) is bad input
 * said in one line, not every domain failing on it.  --dry-run writes
 * nothing and checks nothing here.
 */
static int state_writable(const char *path)
{
	struct np_error err = { 0 };
	np_state *st = NULL;

	if (np_state_open(path, false, &st, &err))
		return cli_fail(&err);
	np_state_close(st);
	return CLI_OK;
}

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct np_watch_opts o = { 0 };
	struct cli_source src;
	struct wlog l = { .out = stdout };
	struct np_error err = { 0 };
	const char *log = cli_text(a, OPT_LOG);
	np_topo *topo = NULL;
	int rc;

	(void)verb;
	if ((rc = get_opts(a, &o, &src)) || (!o.dry_run && (rc = state_writable(o.state_path))))
		return rc;
	l.json = cli_num(a, OPT_FORMAT, 0) == 1;
	np_set_quiet(); /* the tool reports libvirt's failures itself (error.h) */
	if ((rc = cli_load_topology(&src, &topo)))
		return rc;
	if ((rc = cli_open_output(log, "a", &l.out))) {
		np_topo_free(topo);
		return rc;
	}
	rt_catch_stop();
	if (np_watch(topo, &o, log_entry, &l, &err))
		rc = cli_fail(&err);
	else if (!l.json)
		fprintf(l.out, "watch: %ld domains placed, %ld not\n", l.placed, l.failed);
	np_topo_free(topo);
	rc = cli_close_output(log, l.out, rc);
	/* Some domain could not be placed or applied: say so in the exit code. */
	return rc ? rc : l.failed ? CLI_FAILED : CLI_OK;
}

const struct cli_verb cli_verb_watch = {
	.name = "watch",
	.summary = "place libvirt domains as they start, release them as they stop",
	.synopsis = "usage: numaplace watch --libvirt URI --state FILE [--once | --until-idle S]\n"
		    "                       [options]\n",
	.about = "Hands-off placement on a libvirt host, from libvirt's domain lifecycle\n"
		 "events (no hook: a hook may not call libvirtd back).  Each running domain,\n"
		 "and each that starts later, is claimed in the state file (domain:NAME,\n"
		 "under the file's lock, so domains starting at once never over-commit a\n"
		 "node), placed from its vCPUs and memory, and applied: vCPUs pinned, the\n"
		 "emulator on the same nodes' CPUs, the node set changed (libvirt moves\n"
		 "memory already elsewhere); with soft affinity it is recorded for `numaplace\n"
		 "balance`.  A domain that stops is released; at start, claims of domains\n"
		 "that stopped meanwhile are released.  Without --once or --until-idle it\n"
		 "runs until SIGINT or SIGTERM.  Domains are not edited: their XML stays.\n",
	.opts = opts,
	.epilog = "Exit: 0 every domain placed, 1 some could not be (the log says why),\n"
		  "2 bad input or usage, 3 libvirt without domain events.\n"
		  "\n"
		  "Examples:\n"
		  "  numaplace watch --libvirt qemu:///system --state /var/lib/numaplace/host.json\n"
		  "  numaplace watch --libvirt test:///default --state watch.state --once\n"
		  "  numaplace watch --libvirt test:///default --state watch.state --once \\\n"
		  "      --extra-specs 'hw:cpu_policy=dedicated' --format json\n",
	.run = run,
};
