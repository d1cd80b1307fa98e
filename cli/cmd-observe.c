/*
 * cmd-observe.c - `numaplace observe`: where a process's or a libvirt
 * domain's threads run and its memory lies, once or refreshed (--watch),
 * with a diagnosis against its preferred nodes (--diagnose).
 *
 * Diagnosis needs time (a thread is "stuck" only if it stays away), so
 * --diagnose samples every --interval seconds for --window ms before it
 * prints; with --watch the samples of the last window are kept.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime-cli.h"

enum { OPT_FORMAT = 1, OPT_WATCH, OPT_INTERVAL, OPT_COUNT, OPT_DIAGNOSE, OPT_NODES, OPT_WINDOW,
       OPT_AWAY, OPT_RUN_DIR };

static const struct cli_opt opts[] = {
	CLI_INCLUDE(rt_target_opts),
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_obs_format, .meta = "FMT", .heading = "Options:",
	  .help = "text (default) or json (one line per observation)" },
	{ .id = OPT_WATCH, .name = "watch", .letter = 'w', .type = CLI_FLAG,
	  .help = "refresh until interrupted (or --count)" },
	{ .id = OPT_INTERVAL, .name = "interval", .type = CLI_REAL, .min = 0.01, .max = 86400,
	  .what = "seconds >= 0.01", .meta = "S",
	  .help = "seconds between observations (default 1; 0.2 with\n"
		  "--diagnose and no --watch), as for `numaplace balance`" },
	/* Old name (0.1). */
	{ .id = OPT_INTERVAL, .name = "every", .type = CLI_REAL, .min = 0.01, .max = 86400,
	  .flags = CLI_OLD },
	{ .id = OPT_COUNT, .name = "count", .type = CLI_INT, .min = 1, .max = 1 << 30,
	  .what = "a positive number", .help = "with --watch: stop after N observations" },
	{ .id = OPT_DIAGNOSE, .name = "diagnose", .type = CLI_FLAG,
	  .help = "report threads away from the preferred nodes for longer\n"
		  "than --away-ms, memory away from them, nodes short of\n"
		  "memory or CPU, remote PCI devices; and advice: which\n"
		  "node's memory a balloon should release first, where\n"
		  "memory falls back, where I/O threads belong" },
	{ .id = OPT_NODES, .name = "nodes", .type = CLI_TEXT, .meta = "LIST",
	  .help = "the preferred nodes (kernel ids; default: the soft\n"
		  "preference recorded by `numaplace apply`)" },
	{ .id = OPT_WINDOW, .name = "window", .type = CLI_INT, .min = 0, .max = 86400000,
	  .what = "milliseconds", .meta = "MS",
	  .help = "how long --diagnose watches first (default 2500)" },
	{ .id = OPT_AWAY, .name = "away-ms", .type = CLI_INT, .min = 0, .max = 86400000,
	  .what = "milliseconds", .meta = "MS",
	  .help = "a thread away this long is a finding (default 2000)" },
	{ .id = OPT_RUN_DIR, .name = "run-dir", .type = CLI_DIR,
	  .help = "where soft preferences are (default /run/numaplace)" },
	CLI_OPT_HELP,
	CLI_SOURCE_SECTION(CLI_SOURCE_HEADING),
	CLI_OPT_END,
};

#define MAX_SAMPLES 256

struct oopts {
	struct np_target t;
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

/* The options in A into O. */
static void get_opts(const struct cli_args *a, struct oopts *o)
{
	o->format = (enum np_obs_format)cli_num(a, OPT_FORMAT, NP_OBS_TEXT);
	o->watch = cli_given(a, OPT_WATCH);
	o->diagnose = cli_given(a, OPT_DIAGNOSE);
	o->every = cli_real(a, OPT_INTERVAL, o->diagnose && !o->watch ? 0.2 : 1.0);
	o->count = (long)cli_num(a, OPT_COUNT, 0);
	o->nodes = cli_text(a, OPT_NODES);
	o->run_dir = cli_text(a, OPT_RUN_DIR);
	o->window_ms = (long)cli_num(a, OPT_WINDOW, 2500);
	np_diag_params_default(&o->dp);
	o->dp.away_ms = (uint64_t)cli_num(a, OPT_AWAY, (long long)o->dp.away_ms);
}

struct run {
	const struct cli_verb *verb;
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

	if (!rel || !fb || !io || (r->o->diagnose && !(nodes = calloc((size_t)nn + 1,
								      sizeof(*nodes)))))
		rc = cli_oom();
	if (!rc && r->o->diagnose) {
		if (np_host_sample(r->topo, nodes, &err) ||
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
		return rt_parse_nodes(r->verb, r->topo, r->o->nodes, &r->home, &r->nhome);
	r->home = calloc((size_t)nn + 1, sizeof(int));
	if (!r->home)
		return cli_oom();
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

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct oopts o = { 0 };
	struct run r = { .verb = verb, .o = &o };
	int rc;

	get_opts(a, &o);
	if ((rc = rt_target_get(a, false, &o.t)) || (rc = rt_load_topology(a, &o.t, &r.topo)))
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

const struct cli_verb cli_verb_observe = {
	.name = "observe",
	.summary = "where a guest's vCPUs run and its memory is",
	.synopsis = "usage: numaplace observe (--pid PID | --libvirt URI --domain NAME) [options]\n",
	.about = "For each thread (each vCPU of a QEMU process or domain): the CPU and node\n"
		 "it last ran on and the CPUs it may use; memory per node from numa_maps\n"
		 "(anonymous, file, huge pages); the memory policy; PCI devices.\n",
	.opts = opts,
	.epilog = "Examples:\n"
		  "  numaplace observe --pid $(pidof qemu-system-x86_64) --format json\n"
		  "  numaplace observe --libvirt qemu:///system --domain web1 --diagnose\n",
	.run = run,
};
