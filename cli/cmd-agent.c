/*
 * cmd-agent.c - `numaplace agent`: the host agent (agent.h).  Registers
 * this host with a numaplace service and reports, once (--once) or every
 * --interval seconds, where the memory and vCPUs of the guests placed on
 * it are.  The round is the library's (np_agent_step); this file parses
 * the options, prints each event as a line and keeps the loop.
 *
 * A long-running agent outlives a service that restarts: a round that
 * cannot reach the service or gets nonsense back is logged (stderr) and
 * the next round tries again.  --once makes those failures the exit code.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

enum { OPT_SERVER = 1, OPT_TOKEN, OPT_NAME, OPT_ONCE, OPT_INTERVAL, OPT_COUNT, OPT_MAP,
       OPT_NO_SCAN, OPT_QEMU_USER, OPT_TIMEOUT, OPT_QUIET };

static const struct cli_opt opts[] = {
	{ .id = OPT_SERVER, .name = "server", .type = CLI_TEXT, .meta = "URL",
	  .heading = "Options:",
	  .help = "the service: http://HOST:PORT, https://... or unix:PATH\n(required)" },
	{ .id = OPT_TOKEN, .name = "token-file", .type = CLI_FILE,
	  .help = "the bearer token (one line); a file only its owner\n"
		  "(this user or root) may read and write" },
	{ .id = OPT_NAME, .name = "name", .type = CLI_TEXT,
	  .help = "this host in the fleet (default: the hostname)" },
	{ .id = OPT_ONCE, .name = "once", .type = CLI_FLAG,
	  .help = "register, report one round, exit (default: a round\nevery --interval seconds)" },
	{ .id = OPT_INTERVAL, .name = "interval", .type = CLI_REAL, .min = 0.1, .max = 86400,
	  .what = "seconds >= 0.1", .meta = "S", .help = "seconds between rounds (default 30)" },
	{ .id = OPT_COUNT, .name = "count", .type = CLI_INT, .min = 1, .max = 1 << 30,
	  .what = "a positive number", .help = "stop after N rounds" },
	{ .id = OPT_MAP, .name = "map", .type = CLI_TEXT, .flags = CLI_REPEAT, .meta = "ID=PID",
	  .help = "placement ID is process PID (repeatable); else a\n"
		  "placement is a libvirt domain with its id as name or\n"
		  "UUID, or a QEMU process started with -name guest=ID\n"
		  "or -uuid ID" },
	{ .id = OPT_NO_SCAN, .name = "no-qemu-scan", .type = CLI_FLAG,
	  .help = "do not look for QEMU processes in /proc" },
	{ .id = OPT_QEMU_USER, .name = "qemu-user", .type = CLI_TEXT, .flags = CLI_REPEAT,
	  .meta = "USER",
	  .help = "QEMU runs as USER (a name or a number; repeatable):\n"
		  "only its, root's and this user's QEMU processes are\n"
		  "believed (default: libvirt-qemu and qemu, where they\n"
		  "exist)" },
	{ .id = OPT_TIMEOUT, .name = "timeout", .type = CLI_INT, .min = 1, .max = 3600,
	  .what = "seconds", .meta = "S", .help = "one request to the service (default 10)" },
	{ .id = OPT_QUIET, .name = "quiet", .letter = 'q', .type = CLI_FLAG,
	  .help = "print only failures and the round's summary" },
	CLI_OPT_HELP,
	{ .type = CLI_NOTE, .heading = "Host topology (default: this machine, through hwloc):" },
	CLI_INCLUDE(cli_source_opts),
	CLI_OPT_END,
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Sleep S seconds, or less when a signal asks to stop. */
static void nap(double s)
{
	struct timespec ts = { 0, 100000000 };

	for (double left = s; left > 0 && !stop; left -= 0.1) {
		if (left < 0.1)
			ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
}

static void print_event(void *ctx, const struct np_agent_event *ev)
{
	bool quiet = *(const bool *)ctx;
	bool bad = !strcmp(ev->kind, "failed") || !strcmp(ev->kind, "refused");

	if (quiet && !bad)
		return;
	fprintf(bad ? stderr : stdout, "agent: %s%s\n", bad ? "warning: " : "", ev->line);
	fflush(bad ? stderr : stdout);
}

/* --map ID=PID, each (free_maps() them). */
static int get_maps(const struct cli_args *a, struct np_agent_map **map, int *n)
{
	int k = cli_count(a, OPT_MAP);

	*n = 0;
	if (!k)
		return 0;
	if (!(*map = calloc((size_t)k, sizeof(**map))))
		return cli_oom();
	for (int i = 0; i < k; i++) {
		const char *t = cli_nth(a, OPT_MAP, i), *eq = strrchr(t, '=');
		long long pid;

		if (!eq || eq == t || !cli_decimal(eq + 1, 1, 1 << 30, &pid))
			return cli_usage_error(a->verb, "--map needs ID=PID with a process id, not "
					       "'%s'", t);
		(*map)[i].pid = (int)pid;
		if (!((*map)[i].id = strndup(t, (size_t)(eq - t))))
			return cli_oom();
		(*n)++;
	}
	return 0;
}

static void free_maps(struct np_agent_map *map, int n)
{
	for (int i = 0; i < n; i++)
		free((char *)map[i].id);
	free(map);
}

/* One round; its exit code (0 ok, 1 a guest failed or no service, 2 nonsense). */
static int round_once(np_agent *ag, const np_topo *topo, bool quiet)
{
	struct np_agent_stats st = { 0 };
	struct np_error err = { 0 };

	if (np_agent_step(ag, topo, print_event, &quiet, &st, &err)) {
		cli_error("%s", err.message); /* may quote the server's answer */
		return err.code == NP_EINPUT ? CLI_BAD_INPUT : CLI_FAILED;
	}
	printf("agent: round: %d placements on '%s': %d reported, %d absent, %d failed\n",
	       st.placements, np_agent_name(ag), st.reported, st.absent, st.failed);
	fflush(stdout);
	return st.failed ? CLI_FAILED : CLI_OK;
}

static int loop(np_agent *ag, const np_topo *topo, const struct cli_args *a)
{
	bool once = cli_given(a, OPT_ONCE), quiet = cli_given(a, OPT_QUIET);
	long count = once ? 1 : (long)cli_num(a, OPT_COUNT, 0);
	double interval = cli_real(a, OPT_INTERVAL, 30);
	int rc = CLI_OK;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN); /* a service gone mid-request is an error, not a death */
	for (long i = 0; !stop && (!count || i < count); i++) {
		if (i)
			nap(interval);
		if (!stop)
			rc = round_once(ag, topo, quiet);
	}
	/* A daemon's last round failing is logged, not its exit code: it was stopped. */
	return once || count ? rc : CLI_OK;
}

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct np_agent_opts o = {
		.server = cli_text(a, OPT_SERVER),
		.token_file = cli_text(a, OPT_TOKEN),
		.name = cli_text(a, OPT_NAME),
		.libvirt = cli_text(a, CLI_OPT_LIBVIRT),
		.no_qemu_scan = cli_given(a, OPT_NO_SCAN),
		.timeout_s = (int)cli_num(a, OPT_TIMEOUT, 10),
	};
	struct np_agent_map *map = NULL;
	const char **users = NULL;
	struct cli_source src;
	struct np_error err = { 0 };
	np_agent *ag = NULL;
	np_topo *topo = NULL;
	int rc;

	if (!o.server)
		return cli_usage_error(verb, "say which service: --server URL");
	if (cli_given(a, OPT_ONCE) && (cli_given(a, OPT_INTERVAL) || cli_given(a, OPT_COUNT)))
		return cli_usage_error(verb, "--once is one round: no --interval or --count");
	if ((rc = get_maps(a, &map, &o.nmap)) || (rc = cli_source_get(a, true, &src)))
		goto out;
	o.map = map;
	if ((o.nqemu_users = cli_count(a, OPT_QEMU_USER))) {
		if (!(users = calloc((size_t)o.nqemu_users, sizeof(*users)))) {
			rc = cli_oom();
			goto out;
		}
		for (int i = 0; i < o.nqemu_users; i++)
			users[i] = cli_nth(a, OPT_QEMU_USER, i);
		o.qemu_users = users;
	}
	if (o.libvirt)
		np_set_quiet(); /* libvirt's failures are reported here, in one line each */
	if (np_agent_new(&o, &ag, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	if ((rc = cli_load_topology(&src, &topo)))
		goto out;
	rc = loop(ag, topo, a);
out:
	np_agent_free(ag);
	np_topo_free(topo);
	free_maps(map, o.nmap);
	free(users);
	return rc;
}

const struct cli_verb cli_verb_agent = {
	.name = "agent",
	.summary = "report where this host's guests really are to a service",
	.synopsis = "usage: numaplace agent --server URL [--token-file F] [--interval S | --once]\n"
		    "                       [--map ID=PID]... [--libvirt URI] [options]\n",
	.about = "The host agent of `numaplace serve`: registers this host's topology\n"
		 "(PUT /v1/hosts/NAME), then each round asks which placements live here,\n"
		 "finds each one (--map, a libvirt domain, a QEMU process), observes where\n"
		 "its memory is (numa_maps) and where its vCPUs ran, and reports it\n"
		 "(PUT /v1/placements/ID/observed).  GET /v1/placements/ID then shows the\n"
		 "plan beside what was observed, with drift flagged.\n"
		 "\n"
		 "--libvirt URI (e.g. qemu:///system) names the connection whose domains\n"
		 "are looked up; the topology is still this machine's unless another\n"
		 "source option says otherwise.\n"
		 "\n"
		 "It runs as root to read other users' processes; every answer of the\n"
		 "service is checked as untrusted input.  Any user can start a program\n"
		 "named qemu with -name guest=ID: only QEMU processes of the users QEMU\n"
		 "runs as (--qemu-user) are believed, others are named and ignored.\n",
	.opts = opts,
	.epilog = "Exit codes (--once or --count): 0 every guest found was reported, 1 a\n"
		  "report failed or the service could not be reached, 2 bad options or a\n"
		  "nonsensical answer from the service, 3 no agent support in this build.\n"
		  "Without them it runs until SIGTERM, logging failures and trying again.\n"
		  "\n"
		  "Examples:\n"
		  "  numaplace agent --server unix:/run/numaplace/api.sock --once\n"
		  "  numaplace agent --server unix:/run/numaplace/api.sock --once --map vm-7=4242\n"
		  "  numaplace agent --server unix:/run/numaplace/api.sock --interval 1 --count 2 --quiet\n"
		  "  numaplace agent --server http://127.0.0.1:8080 --token-file /etc/numaplace/agent.token\n",
	.run = run,
};
