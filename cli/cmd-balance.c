/*
 * cmd-balance.c - `numaplace balance`: keep guests with a soft preference
 * near their memory (np_balancer in runtime.h, decisions in balance.h),
 * once or every S seconds, logging every action with its reason.
 *
 * --once watches long enough to tell a stuck vCPU from a passing one
 * (stuck_ms), acts, holds any rescue pin for rescue_ms and then restores
 * the soft affinity, so it leaves no pin behind.  A stopped --interval
 * run (SIGINT, SIGTERM, --count) restores its rescue pins too.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime-cli.h"

const char cmd_balance_usage[] =
	"usage: numaplace balance (--once | --interval S) [options]\n"
	"\n"
	"Keep running guests with a soft preference (`numaplace apply --affinity\n"
	"soft`) near their memory: bring stuck vCPUs home (a short hard pin, then\n"
	"soft again), let the preference follow memory that landed elsewhere, move\n"
	"memory home when room appears, relieve an overloaded node when the gain\n"
	"outweighs the cost of moving.  Hysteresis and cooldowns keep it from\n"
	"thrashing; every action is logged with its reason.\n"
	"\n"
	"Options:\n"
	"  --once               one round (about stuck_ms + rescue_ms long), then exit\n"
	"  --interval S         a round every S seconds until interrupted\n"
	"  --count N            with --interval: stop after N rounds\n"
	"  --policy FILE        what it may touch and its thresholds (JSON; see\n"
	"                       docs/policies/runtime.md)\n"
	"  -n, --dry-run        decide and log, change nothing\n"
	"  -f, --format FMT     log as text (default) or json (one object a line)\n"
	"  --log FILE           append the log to FILE instead of standard output\n"
	"  --run-dir DIR        where soft preferences are (default /run/numaplace)\n"
	"  -h, --help           this text\n"
	"\n"
	CLI_SOURCE_HELP
	"\n"
	"Examples:\n"
	"  numaplace balance --once\n"
	"  numaplace balance --interval 1 --policy /etc/numaplace/balance.json\n";

enum { OPT_ONCE = RT_OPT_FIRST_FREE, OPT_INTERVAL, OPT_COUNT, OPT_POLICY, OPT_LOG };

struct bopts {
	struct cli_source src;
	bool once, dry_run, json;
	double interval;
	long count;
	const char *policy, *log, *run_dir;
};

struct logger {
	FILE *out;
	bool json;
	bool dry_run;
	long actions;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, out);
	fputc('"', out);
}

static void log_entry(void *ctx, const struct np_bal_log *e)
{
	struct logger *l = ctx;
	time_t now = time(NULL);
	char ts[32];
	struct tm tm;

	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
	l->actions += strcmp(e->kind, "skip") != 0;
	if (l->json) {
		fprintf(l->out, "{\"time\":\"%s\",\"guest\":", ts);
		json_str(l->out, e->guest);
		fprintf(l->out, ",\"action\":\"%s\",\"vcpu\":%d,\"from_node\":%d,\"to_node\":%d,"
			"\"mb\":%llu,\"done\":%s,\"reason\":", e->kind, e->vcpu, e->from_os, e->to_os,
			(unsigned long long)e->mb, e->done ? "true" : "false");
		json_str(l->out, e->reason);
		fputs(",\"error\":", l->out);
		json_str(l->out, e->error);
		fputs("}\n", l->out);
	} else {
		fprintf(l->out, "%s %s", ts, e->guest);
		if (e->vcpu >= 0)
			fprintf(l->out, " vcpu %d", e->vcpu);
		fprintf(l->out, ": %s", e->kind);
		if (e->from_os >= 0 || e->to_os >= 0)
			fprintf(l->out, " node %d -> %d", e->from_os, e->to_os);
		if (e->mb)
			fprintf(l->out, " %llu MiB", (unsigned long long)e->mb);
		fprintf(l->out, ": %s%s%s%s\n", e->reason, e->error[0] ? " (failed: " : "", e->error,
			e->error[0] ? ")" : l->dry_run && strcmp(e->kind, "skip") ? " (dry run)" : "");
	}
	fflush(l->out);
}

static int parse_one(int opt, const char *arg, struct bopts *o, char **argv)
{
	switch (opt) {
	case OPT_ONCE: o->once = true; return 0;
	case OPT_INTERVAL:
		if (!rt_real(arg, 86400, &o->interval) || o->interval < 0.05)
			return cli_usage_error("balance", "--interval needs seconds >= 0.05, not '%s'",
					       arg);
		return 0;
	case OPT_COUNT:
		if (!rt_number(arg, 1, 1L << 30, &o->count))
			return cli_usage_error("balance", "--count needs a positive number, not '%s'",
					       arg);
		return 0;
	case OPT_POLICY: o->policy = arg; return 0;
	case OPT_LOG: o->log = arg; return 0;
	case RT_OPT_RUN_DIR: o->run_dir = arg; return 0;
	case 'n': o->dry_run = true; return 0;
	case 'f':
		if (strcmp(arg, "text") && strcmp(arg, "json"))
			return cli_usage_error("balance", "unknown format '%s' (text, json)", arg);
		o->json = arg[0] == 'j';
		return 0;
	case 'h': return cli_help("balance") == 0 ? -1 : CLI_BAD_INPUT;
	case ':': return cli_usage_error("balance", "option '%s' needs a value", argv[optind - 1]);
	default: return cli_usage_error("balance", "unknown option '%s'", argv[optind - 1]);
	}
}

static int parse(int argc, char **argv, struct bopts *o)
{
	static const struct option longopts[] = {
		CLI_SOURCE_OPTIONS,
		{ "run-dir", required_argument, NULL, RT_OPT_RUN_DIR },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":nf:h", longopts, NULL)) != -1) {
		rc = cli_source_option("balance", opt, optarg, &o->src);
		if (rc < 0)
			return CLI_BAD_INPUT;
		if (rc > 0)
			continue;
		if ((rc = parse_one(opt, optarg, o, argv)))
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("balance", "unexpected argument '%s'", argv[optind]);
	if (o->once == (o->interval > 0))
		return cli_usage_error("balance", "give --once or --interval S");
	if (o->count && o->once)
		return cli_usage_error("balance", "--count goes with --interval");
	return 0;
}

static int rounds(np_balancer *b, const struct bopts *o, struct logger *l)
{
	const struct np_bal_params *p = np_balancer_params(b);
	struct np_error err = { 0 };
	long step_ms = o->once ? 100 : (long)(o->interval * 1000);
	/* --once: long enough to see a vCPU stuck, rescue it and restore it. */
	long total = (long)(p->stuck_ms + p->rescue_ms) + 600, spent = 0, n = 0;

	while (!stop) {
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

int cmd_balance(int argc, char **argv)
{
	struct bopts o = { 0 };
	struct logger l = { .out = stdout };
	struct np_error err = { 0 };
	np_balancer *b = NULL;
	np_topo *topo = NULL;
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc < 0 ? CLI_OK : rc;
	l.json = o.json;
	l.dry_run = o.dry_run;
	if (o.log && !(l.out = fopen(o.log, "a"))) {
		fprintf(stderr, "numaplace: cannot write '%s': %s\n", o.log, strerror(errno));
		return CLI_BAD_INPUT;
	}
	rc = cli_load_topology(&o.src, &topo);
	if (!rc && np_balancer_new(topo, o.run_dir, o.policy, &b, &err))
		rc = cli_fail(&err);
	if (!rc) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		rc = rounds(b, &o, &l);
		np_balancer_restore_all(b, log_entry, &l, &err);
		if (!rc && !o.json)
			fprintf(l.out, "balance: %d guests, %ld actions\n",
				np_balancer_guest_count(b), l.actions);
	}
	np_balancer_free(b);
	np_topo_free(topo);
	if (o.log && l.out)
		fclose(l.out);
	return rc;
}
