/*
 * cmd-apply.c - `numaplace apply`: carry out a placement on a running
 * process or libvirt domain (CPU affinity hard or soft, memory policy,
 * page migration), or start a command under it (`-- COMMAND`, as numactl).
 *
 * The placement is --nodes LIST with options, or a plan from `numaplace
 * place` (--plan, built with the engine).  Everything is checked before
 * anything changes; the library undoes a half-done change (runtime.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime-cli.h"

const char cmd_apply_usage[] =
	"usage: numaplace apply (--pid PID | --libvirt URI --domain NAME) PLACEMENT [options]\n"
	"       numaplace apply PLACEMENT [options] -- COMMAND [ARGS...]\n"
	"\n"
	"Carry out a placement on a running process or libvirt domain, or start\n"
	"COMMAND under it.\n"
	"\n"
	RT_TARGET_HELP
	"\n"
	"Placement:\n"
	"  --nodes LIST         kernel node ids, e.g. 1 or 0-1,3\n"
	"  --plan FILE          a plan from `numaplace place --format json` (its nodes,\n"
	"                       vCPU pins, affinity and memory policy); refused when made\n"
	"                       for another host\n"
	"  --affinity hard|soft hard (default): pin the threads to the nodes' CPUs;\n"
	"                       soft: keep the kernel affinity wide and record the nodes\n"
	"                       for `numaplace balance` (docs/policies/runtime.md)\n"
	"  --policy MODE        memory policy: strict (fail when full), preferred (the\n"
	"                       next node by distance when full), interleave.  Only for\n"
	"                       domains and -- COMMAND: Linux cannot set it for another\n"
	"                       running process\n"
	"  --fallback nearest|fail   the same as --policy preferred|strict\n"
	"  --migrate            move the memory onto the nodes (libnuma migrate_pages, or\n"
	"                       move_pages in chunks with --rate); with --affinity soft\n"
	"                       it also lets `numaplace balance` move it later\n"
	"  --rate MB/S          migrate at most this fast (default: no limit)\n"
	"  --io-threads         pin non-vCPU (emulator, I/O) threads near the guest's\n"
	"                       PCI devices\n"
	"\n"
	"Options:\n"
	"  -n, --dry-run        say what would be done, change nothing\n"
	"  -f, --format FMT     text (default) or json (steps and migration figures)\n"
	"  --run-dir DIR        where soft preferences go (default /run/numaplace)\n"
	"  -h, --help           this text\n"
	"\n"
	CLI_SOURCE_HELP
	"\n"
	"Examples:\n"
	"  numaplace apply --pid 4242 --nodes 1 --migrate --rate 200\n"
	"  numaplace apply --libvirt qemu:///system --domain web1 --nodes 0 --affinity soft\n"
	"  numaplace apply --nodes 1 --fallback nearest -- ./server\n";

enum { OPT_NODES = RT_OPT_FIRST_FREE, OPT_PLAN, OPT_AFFINITY, OPT_POLICY, OPT_FALLBACK,
       OPT_MIGRATE, OPT_RATE, OPT_IO };

struct aopts {
	struct np_target t;
	struct cli_source src;
	const char *nodes, *plan;
	struct np_apply_spec spec;
	bool json;
	char **cmd;
};

static int set_policy(struct aopts *o, const char *arg, bool fallback)
{
	static const char *const names[][2] = { { "strict", "fail" }, { "preferred", "nearest" },
						{ "interleave", NULL } };
	static const enum np_mem_policy vals[] = { NP_MEM_POLICY_STRICT, NP_MEM_POLICY_PREFERRED,
						   NP_MEM_POLICY_INTERLEAVE };

	for (int i = 0; i < 3; i++) {
		const char *n = names[i][fallback];

		if (n && strcmp(arg, n) == 0) {
			o->spec.set_policy = true;
			o->spec.policy = vals[i];
			return 0;
		}
	}
	return fallback ? cli_usage_error("apply", "--fallback is nearest or fail, not '%s'", arg)
			: cli_usage_error("apply", "--policy is strict, preferred or interleave, "
					  "not '%s'", arg);
}

static int parse_one(int opt, const char *arg, struct aopts *o, char **argv)
{
	switch (opt) {
	case OPT_NODES: o->nodes = arg; return 0;
	case OPT_PLAN: o->plan = arg; return 0;
	case OPT_AFFINITY:
		if (strcmp(arg, "hard") && strcmp(arg, "soft"))
			return cli_usage_error("apply", "--affinity is hard or soft, not '%s'", arg);
		o->spec.affinity = arg[0] == 'h' ? NP_AFFINITY_HARD : NP_AFFINITY_SOFT;
		return 0;
	case OPT_POLICY: return set_policy(o, arg, false);
	case OPT_FALLBACK: return set_policy(o, arg, true);
	case OPT_MIGRATE: o->spec.migrate = true; return 0;
	case OPT_RATE:
		if (!rt_real(arg, 1e7, &o->spec.rate_mb_s))
			return cli_usage_error("apply", "--rate needs MB/s >= 0, not '%s'", arg);
		return 0;
	case OPT_IO: o->spec.io_threads = true; return 0;
	case 'n': o->spec.dry_run = true; return 0;
	case 'f':
		if (strcmp(arg, "text") && strcmp(arg, "json"))
			return cli_usage_error("apply", "unknown format '%s' (text, json)", arg);
		o->json = arg[0] == 'j';
		return 0;
	case RT_OPT_RUN_DIR: o->spec.run_dir = arg; return 0;
	case 'h': return cli_help("apply") == 0 ? -1 : CLI_BAD_INPUT;
	case ':': return cli_usage_error("apply", "option '%s' needs a value", argv[optind - 1]);
	default: return cli_usage_error("apply", "unknown option '%s'", argv[optind - 1]);
	}
}

static int parse(int argc, char **argv, struct aopts *o)
{
	static const struct option longopts[] = {
		CLI_SOURCE_OPTIONS,
		RT_TARGET_OPTIONS,
		{ "nodes", required_argument, NULL, OPT_NODES },
		{ "plan", required_argument, NULL, OPT_PLAN },
		{ "affinity", required_argument, NULL, OPT_AFFINITY },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "fallback", required_argument, NULL, OPT_FALLBACK },
		{ "migrate", no_argument, NULL, OPT_MIGRATE },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "io-threads", no_argument, NULL, OPT_IO },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:nf:h", longopts, NULL)) != -1) {
		rc = rt_target_option("apply", opt, optarg, &o->t);
		if (!rc && opt != CLI_OPT_LIBVIRT)
			rc = cli_source_option("apply", opt, optarg, &o->src);
		if (rc < 0)
			return CLI_BAD_INPUT;
		if (rc > 0)
			continue;
		if ((rc = parse_one(opt, optarg, o, argv)))
			return rc;
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		return cli_usage_error("apply", "unexpected argument '%s' (a command goes after --)",
				       argv[optind]);
	if (optind < argc)
		o->cmd = argv + optind;
	if (!o->nodes == !o->plan)
		return cli_usage_error("apply", "give the placement: --nodes LIST or --plan FILE");
	if (o->cmd && (o->t.pid || o->t.uri))
		return cli_usage_error("apply", "-- COMMAND starts a new process: no --pid or --domain");
	return rt_target_check("apply", &o->t, o->cmd != NULL);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && (size_t)n < NP_FILE_MAX &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	return buf;
}

/* The spec from a plan; PINS and NODES are the caller's to free. */
static int from_plan(const np_topo *topo, struct aopts *o, int **nodes, struct np_rt_pin **pins)
{
	struct np_error err = { 0 };
	np_plan *plan = NULL;
	const int *set;
	size_t len = 0;
	char *buf = slurp(o->plan, &len);
	int n, np = 0;

	if (!buf) {
		fprintf(stderr, "numaplace: cannot read plan '%s'\n", o->plan);
		return CLI_BAD_INPUT;
	}
	if (np_plan_from_json(topo, buf, len, o->plan, &plan, &err)) {
		free(buf);
		return cli_fail(&err);
	}
	free(buf);
	n = np_plan_nodeset(plan, &set);
	*nodes = malloc(((size_t)n + 1) * sizeof(int));
	*pins = malloc(((size_t)np_topo_cpu_count(topo) * 4 + 1) * sizeof(**pins));
	if (!*nodes || !*pins || !np_plan_fits(plan) || n == 0) {
		np_plan_free(plan);
		fprintf(stderr, "numaplace: plan '%s' places nothing\n", o->plan);
		return CLI_BAD_INPUT;
	}
	memcpy(*nodes, set, (size_t)n * sizeof(int));
	for (int c = 0; c < np_plan_cell_count(plan); c++) {
		const struct np_plan_cell *cell = np_plan_cell(plan, c);

		for (int i = 0; i < cell->npins && np < np_topo_cpu_count(topo) * 4; i++)
			(*pins)[np++] = (struct np_rt_pin){ cell->pins[i].vcpu, cell->pins[i].pcpu };
	}
	o->spec.nodes = *nodes;
	o->spec.nnodes = n;
	o->spec.pins = *pins;
	o->spec.npins = np;
	o->spec.affinity = np_plan_affinity(plan) == NP_AFFINITY_SOFT ? NP_AFFINITY_SOFT
								       : NP_AFFINITY_HARD;
	if (!o->spec.set_policy && (o->t.uri || o->cmd)) {
		o->spec.set_policy = true;
		o->spec.policy = np_plan_mem_policy(plan);
	}
	np_plan_free(plan);
	return 0;
}

static void report(const struct aopts *o, const struct np_apply_result *r)
{
	double mb = (double)r->moved_kb / 1024.0;

	if (o->json) {
		printf("{\"dry_run\":%s,\"steps\":[", o->spec.dry_run ? "true" : "false");
		for (int i = 0; i < r->nsteps; i++) {
			fputs(i ? ",\"" : "\"", stdout);
			for (const char *p = r->steps[i]; *p; p++)
				if (*p == '"' || *p == '\\')
					printf("\\%c", *p);
				else if ((unsigned char)*p >= 0x20)
					putchar(*p);
			putchar('"');
		}
		printf("],\"moved_kb\":%llu,\"failed_pages\":%llu,\"seconds\":%.6f,"
		       "\"mb_per_s\":%.3f}\n", (unsigned long long)r->moved_kb,
		       (unsigned long long)r->failed_pages, r->seconds,
		       r->seconds > 0 ? mb / r->seconds : 0.0);
		return;
	}
	for (int i = 0; i < r->nsteps; i++)
		printf("%s%s\n", o->spec.dry_run ? "would: " : "", r->steps[i]);
	if (o->spec.migrate && !o->spec.dry_run)
		printf("moved %.1f MiB in %.3f s (%.1f MB/s), %llu pages not moved\n", mb, r->seconds,
		       r->seconds > 0 ? mb / r->seconds : 0.0, (unsigned long long)r->failed_pages);
}

static int run_command(const np_topo *topo, struct aopts *o)
{
	struct np_error err = { 0 };

	if (o->spec.migrate && o->spec.affinity == NP_AFFINITY_HARD)
		return cli_usage_error("apply", "--migrate moves a running process's memory; a new "
				       "COMMAND's memory starts where its policy says (with "
				       "--affinity soft it lets the balancer move it later)");
	if (o->spec.dry_run) {
		printf("would: set the memory policy and CPU affinity, then run '%s'\n", o->cmd[0]);
		return CLI_OK;
	}
	if (np_apply_self(topo, &o->spec, &err))
		return cli_fail(&err);
	fflush(NULL);
	execvp(o->cmd[0], o->cmd);
	fprintf(stderr, "numaplace: cannot run '%s': %s\n", o->cmd[0], strerror(errno));
	return 127;
}

int cmd_apply(int argc, char **argv)
{
	struct aopts o = { .spec.affinity = NP_AFFINITY_HARD };
	struct np_apply_result res = { 0 };
	struct np_error err = { 0 };
	struct np_rt_pin *pins = NULL;
	np_topo *topo = NULL;
	int *nodes = NULL, rc = parse(argc, argv, &o);

	if (rc)
		return rc < 0 ? CLI_OK : rc;
	rc = rt_load_topology(&o.src, &o.t, &topo);
	if (rc)
		return rc;
	if (o.nodes) {
		rc = rt_parse_nodes("apply", topo, o.nodes, &nodes, &o.spec.nnodes);
		o.spec.nodes = nodes;
	} else {
		rc = from_plan(topo, &o, &nodes, &pins);
	}
	if (!rc && o.cmd)
		rc = run_command(topo, &o);
	else if (!rc && np_apply(topo, &o.t, &o.spec, &res, &err))
		rc = cli_fail(&err);
	else if (!rc)
		report(&o, &res);
	np_apply_result_free(&res);
	free(nodes);
	free(pins);
	np_topo_free(topo);
	return rc;
}
