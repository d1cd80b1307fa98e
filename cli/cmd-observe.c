/*
 * cmd-observe.c - `numaplace observe`: where a process's or a libvirt
 * domain's threads run and its memory lies, once or refreshed (--watch),
 * with a diagnosis against its preferred nodes (--diagnose).
 *
 * Diagnosis needs time (a thread is "stuck" only if it stays away), so
 * --diagnose samples every --every seconds for --window ms before it
 * prints; with --watch the samples of the last window are kept.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime-cli.h"

const char cmd_observe_usage[] =
	"usage: numaplace observe (--pid PID | --libvirt URI --domain NAME) [options]\n"
	"\n"
	"For each thread (each vCPU of a QEMU process or domain): the CPU and node\n"
	"it last ran on and the CPUs it may use; memory per node from numa_maps\n"
	"(anonymous, file, huge pages); the memory policy; PCI devices.\n"
	"\n"
	RT_TARGET_HELP
	"\n"
	"Options:\n"
	"  -f, --format FMT     text (default) or json (one line per observation)\n"
	"  -w, --watch          refresh until interrupted (or --count)\n"
	"  --every S            seconds between observations (default 1; 0.2 with\n"
	"                       --diagnose and no --watch)\n"
	"  --count N            with --watch: stop after N observations\n"
	"  --diagnose           report threads away from the preferred nodes for longer\n"
	"                       than --away-ms, memory away from them, nodes short of\n"
	"                       memory or CPU, remote PCI devices; and advice: which\n"
	"                       node's memory a balloon should release first, where\n"
	"                       memory falls back, where I/O threads belong\n"
	"  --nodes LIST         the preferred nodes (kernel ids; default: the soft\n"
	"                       preference recorded by `numaplace apply`)\n"
	"  --window MS          how long --diagnose watches first (default 2500)\n"
	"  --away-ms MS         a thread away this long is a finding (default 2000)\n"
	"  --run-dir DIR        where soft preferences are (default /run/numaplace)\n"
	"  -h, --help           this text\n"
	"\n"
	CLI_SOURCE_HELP
	"\n"
	"Examples:\n"
	"  numaplace observe --pid $(pidof qemu-system-x86_64) --format json\n"
	"  numaplace observe --libvirt qemu:///system --domain web1 --diagnose\n";

enum { OPT_EVERY = RT_OPT_FIRST_FREE, OPT_COUNT, OPT_DIAGNOSE, OPT_NODES, OPT_WINDOW,
       OPT_AWAY };

#define MAX_SAMPLES 256

struct oopts {
	struct np_target t;
	struct cli_source src;
	enum np_obs_format format;
	bool watch, diagnose;
	double every;
	long count;
	long window_ms;
	const char *nodes, *run_dir;
	struct np_diag_params dp;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

static int parse_one(int opt, const char *arg, struct oopts *o, char **argv)
{
	long v;

	switch (opt) {
	case 'f':
		if (np_obs_format_from_name(arg, &o->format))
			return cli_usage_error("observe", "unknown format '%s' (text, json)", arg);
		return 0;
	case 'w': o->watch = true; return 0;
	case OPT_EVERY:
		if (!rt_real(arg, 86400, &o->every) || o->every < 0.01)
			return cli_usage_error("observe", "--every needs seconds >= 0.01, not '%s'", arg);
		return 0;
	case OPT_COUNT:
		if (!rt_number(arg, 1, 1L << 30, &o->count))
			return cli_usage_error("observe", "--count needs a positive number, not '%s'", arg);
		return 0;
	case OPT_DIAGNOSE: o->diagnose = true; return 0;
	case OPT_NODES: o->nodes = arg; return 0;
	case RT_OPT_RUN_DIR: o->run_dir = arg; return 0;
	case OPT_WINDOW:
	case OPT_AWAY:
		if (!rt_number(arg, 0, 86400000, &v))
			return cli_usage_error("observe", "%s needs milliseconds, not '%s'",
					       opt == OPT_WINDOW ? "--window" : "--away-ms", arg);
		if (opt == OPT_WINDOW)
			o->window_ms = v;
		else
			o->dp.away_ms = (uint64_t)v;
		return 0;
	case 'h': return cli_help("observe") == 0 ? -1 : CLI_BAD_INPUT;
	case ':': return cli_usage_error("observe", "option '%s' needs a value", argv[optind - 1]);
	default: return cli_usage_error("observe", "unknown option '%s'", argv[optind - 1]);
	}
}

/* 0 go on, -1 --help printed (exit 0), else an exit code. */
static int parse(int argc, char **argv, struct oopts *o)
{
	static const struct option longopts[] = {
		CLI_SOURCE_OPTIONS,
		RT_TARGET_OPTIONS,
		{ "format", required_argument, NULL, 'f' },
		{ "watch", no_argument, NULL, 'w' },
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "diagnose", no_argument, NULL, OPT_DIAGNOSE },
		{ "nodes", required_argument, NULL, OPT_NODES },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "away-ms", required_argument, NULL, OPT_AWAY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":f:wh", longopts, NULL)) != -1) {
		rc = rt_target_option("observe", opt, optarg, &o->t);
		if (!rc && opt != CLI_OPT_LIBVIRT)
			rc = cli_source_option("observe", opt, optarg, &o->src);
		if (rc < 0)
			return CLI_BAD_INPUT;
		if (rc > 0)
			continue;
		rc = parse_one(opt, optarg, o, argv);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("observe", "unexpected argument '%s'", argv[optind]);
	return rt_target_check("observe", &o->t, false);
}

struct run {
	struct oopts *o;
	np_topo *topo;
	int *home, nhome;
	np_obs *s[MAX_SAMPLES];
	int ns;
};

static void push(struct run *r, np_obs *obs)
{
	if (r->ns == MAX_SAMPLES) {
		np_obs_free(r->s[0]);
		memmove(r->s, r->s + 1, (MAX_SAMPLES - 1) * sizeof(r->s[0]));
		r->ns--;
	}
	r->s[r->ns++] = obs;
	/* Keep only the last window (and at least one sample). */
	while (r->ns > 1 && np_obs_time_ms(obs) - np_obs_time_ms(r->s[0]) >
				    (uint64_t)r->o->window_ms + 1000) {
		np_obs_free(r->s[0]);
		memmove(r->s, r->s + 1, (size_t)(r->ns - 1) * sizeof(r->s[0]));
		r->ns--;
	}
}

static int print(struct run *r)
{
	struct np_error err = { 0 };
	struct np_finding *f = NULL;
	struct np_bal_node *nodes = NULL;
	int nf = 0, rc = 0, nn = np_topo_node_count(r->topo);
	int *rel = calloc((size_t)nn + 1, sizeof(int)), *fb = calloc((size_t)nn + 1, sizeof(int));
	int *io = calloc((size_t)nn + 1, sizeof(int));
	struct np_obs_advice adv = { 0 };
	const np_obs *last = r->s[r->ns - 1];

	if (!rel || !fb || !io)
		rc = CLI_FAILED;
	if (!rc && r->o->diagnose) {
		nodes = calloc((size_t)nn + 1, sizeof(*nodes));
		if (!nodes || np_host_sample(r->topo, nodes, &err) ||
		    np_diagnose(r->topo, (const np_obs *const *)r->s, r->ns, r->home, r->nhome, nodes,
				&r->o->dp, &f, &nf, &err))
			rc = cli_fail(&err);
		adv = (struct np_obs_advice){
			.release = rel, .fallback = fb, .io = io,
			.nrelease = np_shrink_order(r->topo, last, r->home, r->nhome, nodes, rel, nn),
			.nfallback = r->nhome ? np_fallback_order(r->topo, r->home[0], fb, nn) : 0,
		};
		adv.nio = np_io_nodes(r->topo, last, io, nn);
		adv.nio = adv.nio > nn ? nn : adv.nio;
	}
	if (!rc && np_obs_write(r->topo, last, f, nf, r->o->diagnose ? &adv : NULL, r->o->format,
				stdout, &err))
		rc = cli_fail(&err);
	free(f);
	free(nodes);
	free(rel);
	free(fb);
	free(io);
	return rc;
}

static int observe_once(struct run *r)
{
	struct np_error err = { 0 };
	np_obs *obs = NULL;

	if (np_observe(r->topo, &r->o->t, &obs, &err))
		return cli_fail(&err);
	push(r, obs);
	return 0;
}

static int home_nodes(struct run *r)
{
	struct np_error err = { 0 };
	int nn = np_topo_node_count(r->topo);

	if (r->o->nodes)
		return rt_parse_nodes("observe", r->topo, r->o->nodes, &r->home, &r->nhome);
	r->home = calloc((size_t)nn + 1, sizeof(int));
	if (!r->home)
		return CLI_FAILED;
	if (np_pref_nodes(r->topo, r->o->run_dir, &r->o->t, r->home, nn, &r->nhome, &err))
		return cli_fail(&err);
	return 0;
}

static int loop(struct run *r)
{
	long shown = 0;
	int rc = 0;

	/* --diagnose without --watch: watch the window first, print once. */
	if (r->o->diagnose && !r->o->watch) {
		uint64_t t0;

		if ((rc = observe_once(r)))
			return rc;
		t0 = np_obs_time_ms(r->s[0]);
		while (!stop && np_obs_time_ms(r->s[r->ns - 1]) - t0 < (uint64_t)r->o->window_ms) {
			sleep_s(r->o->every);
			if ((rc = observe_once(r)))
				return rc;
		}
		return print(r);
	}
	while (!rc && !stop) {
		rc = observe_once(r);
		if (!rc)
			rc = print(r);
		if (!r->o->watch || (r->o->count && ++shown >= r->o->count))
			break;
		if (r->o->format == NP_OBS_TEXT)
			fputs("\n", stdout);
		sleep_s(r->o->every);
	}
	return rc;
}

int cmd_observe(int argc, char **argv)
{
	struct oopts o = { .format = NP_OBS_TEXT, .every = 0, .window_ms = 2500 };
	struct run r = { .o = &o };
	int rc;

	np_diag_params_default(&o.dp);
	rc = parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (o.every == 0)
		o.every = o.diagnose && !o.watch ? 0.2 : 1.0;
	rc = rt_load_topology(&o.src, &o.t, &r.topo);
	if (rc)
		return rc;
	rc = home_nodes(&r);
	if (!rc) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		rc = loop(&r);
	}
	for (int i = 0; i < r.ns; i++)
		np_obs_free(r.s[i]);
	free(r.home);
	np_topo_free(r.topo);
	return rc;
}
