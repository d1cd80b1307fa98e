/*
 * cmd-balance.c - `numaplace balance`: keep guests with a soft preference
 * near their memory (np_balancer in runtime.h, decisions in balance.h),
 * once or every S seconds, logging every action with its reason.
 *
 * --once watches long enough to tell a stuck vCPU from a passing one
 * (stuck_ms), acts, holds any rescue pin for rescue_ms and then restores
 * the soft affinity, so it leaves no pin behind.  A stopped --interval
 * run (SIGINT, SIGTERM, --count) restores its rescue pins too.
 *
 * Target: every recorded guest (the preferences in the run directory), or
 * only one: --pid PID, or --domain NAME of --libvirt URI.  With --format
 * json the last line is always a summary record, so a service's journal
 * (contrib/systemd/numaplace-balance.service) shows each run even when
 * nothing was done.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime-cli.h"

enum { OPT_ONCE = 1, OPT_INTERVAL, OPT_COUNT, OPT_POLICY, OPT_DRY_RUN, OPT_FORMAT, OPT_LOG,
       OPT_RUN_DIR };

static const struct cli_opt opts[] = {
	{ .id = OPT_ONCE, .name = "once", .type = CLI_FLAG, .heading = "Options:",
	  .help = "one round, then exit: steps 100 ms apart, stuck_ms +\n"
		  "rescue_ms + 0.6 s of pauses (slow steps make it longer)" },
	{ .id = OPT_INTERVAL, .name = "interval", .type = CLI_REAL, .min = 0.05, .max = 86400,
	  .what = "seconds >= 0.05", .meta = "S",
	  .help = "a round every S seconds until interrupted" },
	{ .id = OPT_COUNT, .name = "count", .type = CLI_INT, .min = 1, .max = 1 << 30,
	  .what = "a positive number", .help = "with --interval: stop after N rounds" },
	{ .id = OPT_POLICY, .name = "policy", .type = CLI_FILE,
	  .help = "what it may touch and its thresholds (JSON; see\n"
		  "docs/policies/runtime.md)" },
	{ .id = OPT_DRY_RUN, .name = "dry-run", .letter = 'n', .type = CLI_FLAG,
	  .help = "decide and log, change nothing" },
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_text_json, .meta = "FMT",
	  .help = "log as text (default) or json (one object a line)" },
	{ .id = OPT_LOG, .name = "log", .type = CLI_OUTPUT,
	  .help = "append the log to FILE instead of standard output" },
	{ .id = OPT_RUN_DIR, .name = "run-dir", .type = CLI_DIR,
	  .help = "where soft preferences are (default /run/numaplace)" },
	CLI_OPT_HELP,
	CLI_INCLUDE(rt_target_opts),
	CLI_SOURCE_SECTION(CLI_SOURCE_HEADING),
	CLI_OPT_END,
};

struct bopts {
	bool once, dry_run, json;
	double interval;
	long count;
	const char *policy, *log, *run_dir;
	struct np_target t;  /* pid 0 and no domain: every recorded guest */
	char target[300];    /* "pid:N", "domain:NAME" or "*" */
};

struct logger {
	FILE *out;
	bool json;
	bool dry_run;
	long actions;
};

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void log_entry(void *ctx, const struct np_bal_log *e)
{
	struct logger *l = ctx;
	char ts[32];

	rt_log_time(ts, sizeof(ts));
	l->actions += strcmp(e->kind, "skip") != 0;
	if (l->json) {
		fprintf(l->out, "{\"time\":\"%s\",\"guest\":", ts);
		np_json_str_write(l->out, e->guest);
		fprintf(l->out, ",\"action\":\"%s\",\"vcpu\":%d,\"from_node\":%d,\"to_node\":%d,"
			"\"mb\":%llu,\"done\":%s,\"reason\":", e->kind, e->vcpu, e->from_os, e->to_os,
			(unsigned long long)e->mb, e->done ? "true" : "false");
		np_json_str_write(l->out, e->reason);
		fputs(",\"error\":", l->out);
		np_json_str_write(l->out, e->error);
		fputs("}\n", l->out);
	} else {
		fprintf(l->out, "%s %s", ts, e->guest);
		if (e->vcpu >= 0)
			fprintf(l->out, " vcpu %d", e->vcpu);
		fprintf(l->out, ": %s", e->kind);
		if (e->to_os >= 0)
			fprintf(l->out, " node %d -> %d", e->from_os, e->to_os);
		else if (e->from_os >= 0) /* restore-soft: where the vCPU was */
			fprintf(l->out, " on node %d", e->from_os);
		if (e->mb)
			fprintf(l->out, " %llu MiB", (unsigned long long)e->mb);
		fprintf(l->out, ": %s%s%s%s\n", e->reason, e->error[0] ? " (failed: " : "", e->error,
			e->error[0] ? ")" : l->dry_run && strcmp(e->kind, "skip") ? " (dry run)" : "");
	}
	fflush(l->out);
}

/* The options in A into O; 0 or a usage error's exit code. */
static int get_opts(const struct cli_args *a, struct bopts *o)
{
	o->once = cli_given(a, OPT_ONCE);
	o->interval = cli_real(a, OPT_INTERVAL, 0);
	o->count = (long)cli_num(a, OPT_COUNT, 0);
	o->policy = cli_text(a, OPT_POLICY);
	o->dry_run = cli_given(a, OPT_DRY_RUN);
	o->json = cli_num(a, OPT_FORMAT, 0) == 1;
	o->log = cli_text(a, OPT_LOG);
	o->run_dir = cli_text(a, OPT_RUN_DIR);
	if (o->once == (o->interval > 0))
		return cli_usage_error(a->verb, "give --once or --interval S");
	if (o->count && o->once)
		return cli_usage_error(a->verb, "--count goes with --interval");
	o->t.pid = (int)cli_num(a, RT_OPT_PID, 0);
	o->t.domain = cli_text(a, RT_OPT_DOMAIN);
	o->t.uri = o->t.domain ? cli_text(a, CLI_OPT_LIBVIRT) : NULL;
	if (o->t.pid && o->t.domain)
		return cli_usage_error(a->verb, "give --pid or --domain, not both");
	if (o->t.domain && !o->t.uri)
		return cli_usage_error(a->verb, "--domain NAME needs --libvirt URI");
	if (o->t.pid)
		snprintf(o->target, sizeof(o->target), "pid:%d", o->t.pid);
	else
		snprintf(o->target, sizeof(o->target), "%s%.250s", o->t.domain ? "domain:" : "",
			 o->t.domain ? o->t.domain : "*");
	return CLI_OK;
}

/* The run's last line: text, or a JSON record even when nothing was done. */
static void summary(const struct bopts *o, struct logger *l, int guests)
{
	char ts[32];

	if (!o->json) {
		fprintf(l->out, "balance: %d guests, %ld actions\n", guests, l->actions);
		return;
	}
	rt_log_time(ts, sizeof(ts));
	fprintf(l->out, "{\"time\":\"%s\",\"action\":\"summary\",\"target\":", ts);
	np_json_str_write(l->out, o->target);
	fprintf(l->out, ",\"guests\":%d,\"actions\":%ld,\"dry_run\":%s}\n", guests,
		l->actions, o->dry_run ? "true" : "false");
	fflush(l->out);
}

static int rounds(np_balancer *b, const struct bopts *o, struct logger *l)
{
	const struct np_bal_params *p = np_balancer_params(b);
	struct np_error err = { 0 };
	long step_ms = o->once ? 100 : (long)(o->interval * 1000);
	/*
	 * --once: long enough to see a vCPU stuck, rescue it and restore it.
	 * Counted in pauses, not on the clock: a starved machine's slow steps
	 * make the round longer but never cut it short of the steps it needs.
	 */
	long total = (long)(p->stuck_ms + p->rescue_ms) + 600, spent = 0, n = 0;

	while (!rt_stop) {
		if (np_balancer_step(b, o->dry_run, log_entry, l, &err))
			return cli_fail(&err);
		n++;
		if ((o->once && spent >= total) || (o->count && n >= o->count))
			break;
		sleep_ms(step_ms);
		spent += step_ms;
	}
	return 0;
}

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct cli_source src;
	struct bopts o = { 0 };
	struct logger l = { .out = stdout };
	struct np_error err = { 0 };
	np_balancer *b = NULL;
	np_topo *topo = NULL;
	int rc;

	if ((rc = get_opts(a, &o)) || (rc = cli_source_get(a, false, &src)))
		return rc;
	l.json = o.json;
	l.dry_run = o.dry_run;
	if ((rc = cli_open_output(o.log, "a", &l.out)))
		return rc;
	/* Guests may be libvirt domains: the tool reports their failures itself (error.h). */
	np_set_quiet();
	rc = cli_load_topology(&src, &topo);
	if (!rc && np_balancer_new(topo, o.run_dir, o.policy, &b, &err))
		rc = cli_fail(&err);
	/* The one libvirt connection of the command line is the one domains may name. */
	if (!rc && cli_text(a, CLI_OPT_LIBVIRT) &&
	    np_balancer_allow_uri(b, cli_text(a, CLI_OPT_LIBVIRT), &err))
		rc = cli_fail(&err);
	if (!rc && (o.t.pid || o.t.domain) && np_balancer_target(b, &o.t, &err))
		rc = cli_fail(&err);
	if (!rc) {
		rt_catch_stop();
		rc = rounds(b, &o, &l);
		np_balancer_restore_all(b, log_entry, &l, &err);
		if (!rc)
			summary(&o, &l, np_balancer_guest_count(b));
	}
	np_balancer_free(b);
	np_topo_free(topo);
	return cli_close_output(o.log, l.out, rc);
}

const struct cli_verb cli_verb_balance = {
	.name = "balance",
	.summary = "keep running guests near their memory",
	.synopsis = "usage: numaplace balance (--once | --interval S) [--pid PID | --libvirt URI\n"
		    "                         --domain NAME] [options]\n",
	.about = "Keep running guests with a soft preference (`numaplace apply --affinity\n"
		 "soft`) near their memory: bring stuck vCPUs home (a short hard pin, then\n"
		 "soft again), let the preference follow memory that landed elsewhere, move\n"
		 "memory home when room appears, relieve an overloaded node when the gain\n"
		 "outweighs the cost of moving.  Hysteresis and cooldowns keep it from\n"
		 "thrashing; every action is logged with its reason.  It looks at every\n"
		 "recorded guest, or only the one --pid or --domain names.  With --format\n"
		 "json the last line is a summary record, also when nothing was done.\n",
	.opts = opts,
	.epilog = "Trust: the run directory must be this user's own and writable by no one\n"
		  "else, or balance refuses to start; a preference is honoured only when\n"
		  "its file's owner may control the target (root, or the process's owner),\n"
		  "and a domain's only for a libvirt URI given here (--libvirt URI) or in\n"
		  "the policy's \"libvirt\" list (a file only root may write).\n"
		  "\n"
		  "Examples:\n"
		  "  numaplace balance --once\n"
		  "  numaplace balance --once --pid \"$(pidof qemu-system-x86_64)\" --format json\n"
		  "  numaplace balance --interval 1 --policy /etc/numaplace/balance.json\n"
		  "  numaplace balance --once --libvirt test:///default\n"
		  "  numaplace balance --once --libvirt test:///default --domain test\n",
	.run = run,
};
