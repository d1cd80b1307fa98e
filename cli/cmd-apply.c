/*
 * cmd-apply.c - `numaplace apply`: carry out a placement on a running
 * process or libvirt domain (CPU affinity hard or soft, memory policy,
 * page migration), or start a command under it (`-- COMMAND`, as numactl).
 *
 * The placement is --nodes LIST with options, or a plan from `numaplace
 * place` (--plan, built with the engine).  Everything is checked before
 * anything changes; the library undoes a half-done change (runtime.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime-cli.h"

enum { OPT_NODES = 1, OPT_PLAN, OPT_AFFINITY, OPT_MEM_POLICY, OPT_MIGRATE, OPT_RATE, OPT_IO,
       OPT_DRY_RUN, OPT_FORMAT, OPT_RUN_DIR };

static const struct cli_opt opts[] = {
	CLI_INCLUDE(rt_target_opts),
	{ .id = OPT_NODES, .name = "nodes", .type = CLI_TEXT, .meta = "LIST",
	  .heading = "Placement:", .help = "kernel node ids, e.g. 1 or 0-1,3" },
	{ .id = OPT_PLAN, .name = "plan", .type = CLI_INPUT,
	  .help = "a plan from `numaplace place --format json` (its nodes,\n"
		  "vCPU pins, affinity and memory policy); refused when made\n"
		  "for another host; - for standard input" },
	{ .id = OPT_AFFINITY, .name = "affinity", .type = CLI_CHOICE,
	  .choice = &cli_choice_affinity, .meta = "hard|soft",
	  .help = "hard (default): pin the threads to the nodes' CPUs;\n"
		  "soft: keep the kernel affinity wide and record the nodes\n"
		  "for `numaplace balance` (docs/policies/runtime.md)" },
	{ .id = OPT_MEM_POLICY, .name = "mem-policy", .type = CLI_CHOICE,
	  .choice = &cli_choice_mem_policy, .meta = "P",
	  .help = "memory policy, as for `numaplace place`: strict (fail\n"
		  "when full), preferred (the next node by distance when\n"
		  "full), interleave.  Only for domains and -- COMMAND:\n"
		  "Linux cannot set it for another running process" },
	/* Old names (0.1): --policy MODE, --fallback nearest|fail. */
	{ .id = OPT_MEM_POLICY, .name = "policy", .type = CLI_CHOICE, .flags = CLI_OLD,
	  .choice = &cli_choice_mem_policy },
	{ .id = OPT_MEM_POLICY, .name = "fallback", .type = CLI_CHOICE, .flags = CLI_OLD,
	  .choice = &cli_choice_fallback, .what = "--mem-policy preferred (nearest) or strict (fail)" },
	{ .id = OPT_MIGRATE, .name = "migrate", .type = CLI_FLAG,
	  .help = "move the memory onto the nodes (libnuma migrate_pages, or\n"
		  "move_pages in chunks with --rate); with --affinity soft\n"
		  "it also lets `numaplace balance` move it later" },
	{ .id = OPT_RATE, .name = "rate", .type = CLI_REAL, .min = 0, .max = 1e7,
	  .what = "MB/s >= 0", .meta = "MB/S", .help = "migrate at most this fast (default: no limit)" },
	{ .id = OPT_IO, .name = "io-threads", .type = CLI_FLAG,
	  .help = "pin non-vCPU (emulator, I/O) threads to the nodes of\n"
		  "the guest's PCI devices (none known: the placement's)" },
	{ .id = OPT_DRY_RUN, .name = "dry-run", .letter = 'n', .type = CLI_FLAG,
	  .heading = "Options:", .help = "say what would be done, change nothing" },
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_text_json, .meta = "FMT",
	  .help = "text (default) or json (steps and migration figures)" },
	{ .id = OPT_RUN_DIR, .name = "run-dir", .type = CLI_DIR,
	  .help = "where soft preferences go (default /run/numaplace)" },
	CLI_INCLUDE(apply_move_opts),
	CLI_OPT_HELP,
	CLI_SOURCE_SECTION(CLI_SOURCE_HEADING),
	CLI_OPT_END,
};

struct aopts {
	const struct cli_verb *verb;
	struct np_target t;
	const char *nodes, *plan;
	struct np_apply_spec spec;
	bool json;
	char **cmd;
	np_plan *moves; /* --plan with moves of other guests' cells, or NULL */
};

/* The options in A into O; 0 or a usage error's exit code. */
static int get_opts(const struct cli_args *a, struct aopts *o)
{
	const struct cli_verb *verb = a->verb;

	o->verb = verb;
	o->nodes = cli_text(a, OPT_NODES);
	o->plan = cli_text(a, OPT_PLAN);
	o->spec.affinity = (enum np_affinity)cli_num(a, OPT_AFFINITY, NP_AFFINITY_HARD);
	o->spec.set_policy = cli_given(a, OPT_MEM_POLICY);
	o->spec.policy = (enum np_mem_policy)cli_num(a, OPT_MEM_POLICY, NP_MEM_POLICY_STRICT);
	o->spec.migrate = cli_given(a, OPT_MIGRATE);
	o->spec.rate_mb_s = cli_real(a, OPT_RATE, 0);
	o->spec.io_threads = cli_given(a, OPT_IO);
	o->spec.dry_run = cli_given(a, OPT_DRY_RUN);
	o->json = cli_num(a, OPT_FORMAT, 0) == 1;
	o->spec.run_dir = cli_text(a, OPT_RUN_DIR);
	o->cmd = a->command;
	if (!o->nodes == !o->plan)
		return cli_usage_error(verb, "give the placement: --nodes LIST or --plan FILE");
	if (o->cmd && (cli_given(a, RT_OPT_PID) || cli_given(a, CLI_OPT_LIBVIRT) ||
		       cli_given(a, RT_OPT_DOMAIN)))
		return cli_usage_error(verb, "-- COMMAND starts a new process: no --pid or --domain");
	return rt_target_get(a, o->cmd != NULL, &o->t);
}

/* The spec from a plan; PINS and NODES are the caller's to free. */
static int from_plan(const np_topo *topo, struct aopts *o, int **nodes, struct np_rt_pin **pins)
{
	struct np_error err = { 0 };
	np_plan *plan = NULL;
	const int *set;
	size_t len = 0;
	char *buf;
	int n, np = 0, rc;

	if ((rc = cli_read_file(o->plan, &buf, &len)))
		return rc;
	rc = np_plan_from_json(topo, buf, len, cli_input_name(o->plan), &plan, &err);
	free(buf);
	if (rc)
		return cli_fail(&err);
	n = np_plan_nodeset(plan, &set);
	if (!np_plan_fits(plan) || n == 0) {
		np_plan_free(plan);
		cli_error("plan '%s' places nothing", cli_input_name(o->plan));
		return CLI_BAD_INPUT;
	}
	*nodes = malloc(((size_t)n + 1) * sizeof(int));
	*pins = malloc(((size_t)np_topo_cpu_count(topo) * 4 + 1) * sizeof(**pins));
	if (!*nodes || !*pins) {
		np_plan_free(plan);
		return cli_oom();
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
	if (np_plan_move_count(plan))
		o->moves = plan; /* carried out first (apply-moves.c) */
	else
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

/*
 * --dry-run with -- COMMAND: what would be set, naming the nodes and CPUs
 * ("would: run './server' on CPUs 8-15 (nodes 1); memory preferred on
 * nodes 1").
 */
static int say_command(const np_topo *topo, const struct aopts *o)
{
	/* Node ids first, then CPU ids: room for the more of the two. */
	int most = np_topo_cpu_count(topo) > o->spec.nnodes ? np_topo_cpu_count(topo) : o->spec.nnodes;
	int n = 0, *ids = calloc((size_t)most + 1, sizeof(int));
	char nodes[256], cpus[1024];

	if (!ids)
		return cli_oom();
	for (int i = 0; i < o->spec.nnodes; i++)
		ids[i] = np_topo_node(topo, o->spec.nodes[i])->os_id;
	np_cpulist_format(ids, o->spec.nnodes, nodes, sizeof(nodes));
	for (int i = 0; i < o->spec.nnodes; i++) {
		const struct np_node *nd = np_topo_node(topo, o->spec.nodes[i]);

		for (int c = 0; c < nd->ncpus; c++)
			if (np_topo_cpu(topo, np_topo_cpu_index(topo, nd->cpus[c]))->online)
				ids[n++] = nd->cpus[c];
	}
	qsort(ids, (size_t)n, sizeof(*ids), rt_cmp_int);
	np_cpulist_format(ids, n, cpus, sizeof(cpus));
	free(ids);
	printf("would: run '%s' ", o->cmd[0]);
	if (o->spec.affinity == NP_AFFINITY_HARD)
		printf("on CPUs %s (nodes %s)", cpus, nodes);
	else
		printf("on every CPU, nodes %s preferred (soft affinity, recorded for the balancer)",
		       nodes);
	if (o->spec.set_policy)
		printf("; memory %s on nodes %s\n", np_mem_policy_name(o->spec.policy), nodes);
	else
		printf("; memory policy left as it is\n");
	return CLI_OK;
}

static int run_command(const np_topo *topo, struct aopts *o)
{
	struct np_error err = { 0 };

	if (o->spec.migrate && o->spec.affinity == NP_AFFINITY_HARD)
		return cli_usage_error(o->verb, "--migrate moves a running process's memory; a new "
				       "COMMAND's memory starts where its policy says (with "
				       "--affinity soft it lets the balancer move it later)");
	if (o->spec.dry_run)
		return say_command(topo, o);
	if (np_apply_self(topo, &o->spec, &err))
		return cli_fail(&err);
	fflush(NULL);
	execvp(o->cmd[0], o->cmd);
	cli_error("cannot run '%s': %s", o->cmd[0], strerror(errno));
	return 127;
}

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct aopts o = { 0 };
	struct np_apply_result res = { 0 };
	struct np_error err = { 0 };
	struct np_rt_pin *pins = NULL;
	np_topo *topo = NULL;
	int *nodes = NULL, rc;

	if ((rc = get_opts(a, &o)) || (rc = rt_load_topology(a, &o.t, &topo)))
		return rc;
	if (o.nodes) {
		rc = rt_parse_nodes(verb, topo, o.nodes, &nodes, &o.spec.nnodes);
		o.spec.nodes = nodes;
	} else {
		rc = from_plan(topo, &o, &nodes, &pins);
	}
	if (!rc && o.moves)
		rc = apply_moves(a, topo, o.moves, &o.spec, o.json);
	else if (!rc)
		rc = apply_check_state(a);
	if (!rc && o.cmd)
		rc = run_command(topo, &o);
	else if (!rc && np_apply(topo, &o.t, &o.spec, &res, &err))
		rc = cli_fail(&err);
	else if (!rc)
		report(&o, &res);
	np_apply_result_free(&res);
	np_plan_free(o.moves);
	free(nodes);
	free(pins);
	np_topo_free(topo);
	return rc;
}

const struct cli_verb cli_verb_apply = {
	.name = "apply",
	.summary = "carry out a plan on a running process or domain",
	.synopsis = "usage: numaplace apply (--pid PID | --libvirt URI --domain NAME) PLACEMENT "
		    "[options]\n"
		    "       numaplace apply PLACEMENT [options] -- COMMAND [ARGS...]\n",
	.about = "Carry out a placement on a running process or libvirt domain, or start\n"
		 "COMMAND under it.\n",
	.opts = opts,
	.epilog = "Examples:\n"
		  "  numaplace apply --pid 4242 --nodes 1 --migrate --rate 200\n"
		  "  numaplace apply --dry-run --host room.json --plan room-plan.json --state room.state \\\n"
		  "      --move-guest \"E=pid:$(pidof qemu-system-x86_64)\" --rate 200 -- ./server\n"
		  "  numaplace apply --libvirt qemu:///system --domain web1 --nodes 0 --affinity soft\n"
		  "  numaplace apply --nodes 1 --mem-policy preferred -- ./server\n",
	.command = true,
	.run = run,
};
