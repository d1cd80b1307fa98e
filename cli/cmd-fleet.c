/*
 * cmd-fleet.c - `numaplace fleet add|remove|list|show|release|check`: the
 * hosts of a fleet store, their usage and placements, releases, and the
 * invariant checker (include/numaplace/fleet.h).
 *
 * Design: the options are parsed once into struct fleet_args, then one
 * function per action does the work; each action says which options it
 * takes, so an option that means nothing for it is a usage error rather
 * than silently ignored.  Text output is for people; --format json is for
 * programs (docs/fleet.md shows both).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet-cli.h"

enum { OPT_STORE = 1, OPT_NAME, OPT_ID, OPT_FORCE, OPT_CPU_RATIO, OPT_RAM_RATIO, OPT_FORMAT };

/* What each action takes, as bits. */
enum { T_NAME = 1, T_ID = 2, T_FORCE = 4, T_RATIO = 8, T_SOURCE = 16, T_NAME_OPT = 32 };

struct fleet_args {
	const char *action;
	const char *store, *name, *id;
	struct cli_source src;
	bool force, json;
	bool given_ratio;
	struct np_fleet_host_opts opts;
	np_topo *topo; /* add: read before the store is opened (or created) */
};

/* The usage errors of `numaplace fleet` name its verb record. */
static const struct cli_verb *const self = &cli_verb_fleet;

/* ---- shared with cmd-schedule.c (fleet-cli.h) ------------------------------ */

const char *fleet_store_url(const char *url)
{
	const char *env = getenv("NUMAPLACE_STORE");

	return url ? url : env && *env ? env : NULL;
}

int fleet_open(const struct cli_verb *verb, const char *url, unsigned flags, np_fleet **out)
{
	struct np_error err = { 0 };

	if (!url)
		return cli_usage_error(verb, "say which store: --store URL (or $NUMAPLACE_STORE)");
	if (np_fleet_open(url, flags, out, &err))
		return cli_fail(&err);
	return CLI_OK;
}

int fleet_flushed(int rc)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "numaplace: cannot write the output\n");
		return rc ? rc : CLI_FAILED;
	}
	return rc;
}

void fleet_json_str(FILE *out, const char *s)
{
	np_json_str_write(out, s);
}

const char *fleet_shown(const char *s, char buf[FLEET_SHOWN_MAX])
{
	return np_text_shown(s, buf, FLEET_SHOWN_MAX);
}

/* ---- add, remove, release, check --------------------------------------------- */

static int add(const struct fleet_args *a, np_fleet *f)
{
	struct np_error err = { 0 };
	const np_topo *topo = a->topo;
	bool added = false;
	int rc = CLI_OK;

	if (np_fleet_add_host(f, a->name, topo, &a->opts, &added, &err)) {
		rc = cli_fail(&err);
	} else if (a->json) {
		printf("{\"host\": ");
		fleet_json_str(stdout, a->name);
		printf(", \"added\": %s, \"nodes\": %d, \"cpus\": %d}\n", added ? "true" : "false",
		       np_topo_node_count(topo), np_topo_cpu_count(topo));
	} else {
		printf(added ? "added host '%s': %d nodes, %d CPUs, %llu MiB\n"
			     : "host '%s' is in the fleet already; nothing changed\n",
		       a->name, np_topo_node_count(topo), np_topo_cpu_count(topo),
		       (unsigned long long)(np_topo_mem_total_kb(topo) / 1024));
	}
	return rc;
}

static int remove_host(const struct fleet_args *a, np_fleet *f)
{
	struct np_error err = { 0 };
	int released = 0;

	if (np_fleet_remove_host(f, a->name, a->force, &released, &err))
		return cli_fail(&err);
	if (a->json) {
		printf("{\"host\": ");
		fleet_json_str(stdout, a->name);
		printf(", \"removed\": true, \"released\": %d}\n", released);
	} else {
		printf("removed host '%s'", a->name);
		printf(released ? " and released its %d placement%s\n" : "\n", released,
		       released == 1 ? "" : "s");
	}
	return CLI_OK;
}

static int release(const struct fleet_args *a, np_fleet *f)
{
	struct np_error err = { 0 };
	bool found = false;

	if (np_fleet_release(f, a->id, &found, &err))
		return cli_fail(&err);
	if (a->json) {
		printf("{\"id\": ");
		fleet_json_str(stdout, a->id);
		printf(", \"released\": %s}\n", found ? "true" : "false");
	} else {
		printf(found ? "released '%s'\n" : "'%s' was not placed; nothing changed\n", a->id);
	}
	return CLI_OK;
}

static int check(const struct fleet_args *a, np_fleet *f)
{
	struct np_fleet_check_stats st = { 0 };
	struct np_error err = { 0 };

	if (np_fleet_check(f, &st, &err)) {
		if (err.code != NP_EINPUT)
			return cli_fail(&err);
		if (a->json) {
			printf("{\"ok\": false, \"violation\": ");
			fleet_json_str(stdout, err.message);
			printf("}\n");
		}
		cli_error("fleet check: %s", err.message);
		return CLI_FAILED;
	}
	if (a->json)
		printf("{\"ok\": true, \"hosts\": %d, \"placements\": %d, \"rows\": %d, "
		       "\"pins\": %d}\n", st.hosts, st.placements, st.rows, st.pins);
	else
		printf("ok: %d hosts, %d placements, %d ledger rows, %d pinned CPUs: usage is the "
		       "sum of the placements, nothing over capacity, no CPU pinned twice\n",
		       st.hosts, st.placements, st.rows, st.pins);
	return CLI_OK;
}

/* ---- list and show ------------------------------------------------------------- */

struct totals {
	int nodes, cpus, pcpus, pinned;
	uint64_t mem, used;
	unsigned vcpus;
};

static struct totals totals_of(const np_host *h)
{
	const np_topo *t = np_host_topo(h);
	struct totals s = { np_topo_node_count(t), np_topo_cpu_count(t), 0, 0, 0, 0, 0 };

	for (int i = 0; i < s.nodes; i++) {
		const struct np_host_node *n = np_host_node(h, i);

		s.pcpus += n->ndedicated;
		s.pinned += n->npinned;
		s.mem += n->memory_mb;
		s.used += n->memory_used_mb;
		s.vcpus += n->cpu_usage;
	}
	return s;
}

static int list(const struct fleet_args *a, np_fleet *f)
{
	struct np_error err = { 0 };
	char name[FLEET_SHOWN_MAX];
	int n;

	if (np_fleet_refresh(f, &err))
		return cli_fail(&err);
	n = np_fleet_host_count(f);
	if (a->json)
		printf("{\"hosts\": [");
	else
		printf("%-20s %5s %5s %12s %12s %9s %6s %10s\n", "NAME", "NODES", "CPUS",
		       "MEMORY_MiB", "USED_MiB", "PINNED", "VCPUS", "PLACEMENTS");
	for (int i = 0; i < n; i++) {
		const np_fleet_host *h = np_fleet_host_at(f, i);
		struct totals s = totals_of(np_fleet_host_usage(h));

		if (!a->json) {
			printf("%-20s %5d %5d %12llu %12llu %4d/%-4d %6u %10d\n",
			       fleet_shown(np_fleet_host_name(h), name),
			       s.nodes, s.cpus, (unsigned long long)s.mem, (unsigned long long)s.used,
			       s.pinned, s.pcpus, s.vcpus, np_fleet_host_placement_count(h));
			continue;
		}
		printf("%s\n  {\"name\": ", i ? "," : "");
		fleet_json_str(stdout, np_fleet_host_name(h));
		printf(", \"generation\": %lld, \"nodes\": %d, \"cpus\": %d, \"memory_mb\": %llu, "
		       "\"memory_used_mb\": %llu, \"pcpus\": %d, \"pcpus_pinned\": %d, "
		       "\"vcpus_used\": %u, \"placements\": %d}",
		       (long long)np_fleet_host_generation(h), s.nodes, s.cpus,
		       (unsigned long long)s.mem, (unsigned long long)s.used, s.pcpus, s.pinned,
		       s.vcpus, np_fleet_host_placement_count(h));
	}
	if (a->json)
		printf("%s]}\n", n ? "\n" : "");
	return CLI_OK;
}

static unsigned vcpu_cap(const np_host *h, const struct np_host_node *n)
{
	double cr = 16.0;

	return np_host_limits(h, &cr, NULL) ? (unsigned)((double)n->nshared * cr) : 0;
}

static void node_text(const np_host *h, int i)
{
	const struct np_host_node *n = np_host_node(h, i);
	char pins[256];

	np_cpulist_format(n->pinned, n->npinned, pins, sizeof(pins));
	printf("  node %d: memory %llu of %llu MiB used, %llu free; pinned CPUs %d of %d (%s); "
	       "floating vCPUs %u of %u", n->os_id, (unsigned long long)n->memory_used_mb,
	       (unsigned long long)n->memory_mb,
	       (unsigned long long)(n->memory_mb > n->memory_used_mb
					? n->memory_mb - n->memory_used_mb : 0),
	       n->npinned, n->ndedicated, n->npinned ? pins : "none", n->cpu_usage,
	       vcpu_cap(h, n));
	for (int p = 1; p < n->npools; p++)
		printf("; %llu KiB pages %llu of %llu used",
		       (unsigned long long)n->pools[p].size_kb, (unsigned long long)n->pools[p].used,
		       (unsigned long long)(n->pools[p].total - n->pools[p].reserved));
	printf("\n");
}

static void node_json(const np_host *h, int i)
{
	const struct np_host_node *n = np_host_node(h, i);

	printf("%s\n      {\"node\": %d, \"memory_mb\": {\"total\": %llu, \"used\": %llu}, "
	       "\"cpus\": {\"shared\": %d, \"dedicated\": %d, \"pinned\": [", i ? "," : "",
	       n->os_id, (unsigned long long)n->memory_mb, (unsigned long long)n->memory_used_mb,
	       n->nshared, n->ndedicated);
	for (int k = 0; k < n->npinned; k++)
		printf("%s%d", k ? ", " : "", n->pinned[k]);
	printf("], \"vcpus_used\": %u, \"vcpus_capacity\": %u}, \"pages\": [", n->cpu_usage,
	       vcpu_cap(h, n));
	for (int p = 0; p < n->npools; p++)
		printf("%s{\"size_kb\": %llu, \"total\": %llu, \"reserved\": %llu, \"used\": %llu}",
		       p ? ", " : "", (unsigned long long)n->pools[p].size_kb,
		       (unsigned long long)n->pools[p].total,
		       (unsigned long long)n->pools[p].reserved, (unsigned long long)n->pools[p].used);
	printf("]}");
}

/* One placement: per plan cell, its node, memory, pinned CPUs, floating vCPUs. */
static void placement_out(const np_fleet_placement *p, const np_host *h, bool json, bool first)
{
	const np_plan *plan = np_fleet_placement_plan(p);
	const np_topo *t = np_host_topo(h);
	char id[FLEET_SHOWN_MAX];

	if (json) {
		printf("%s\n      {\"id\": ", first ? "" : ",");
		fleet_json_str(stdout, np_fleet_placement_id(p));
		printf(", \"nodes\": [");
	} else {
		printf("  %s:", fleet_shown(np_fleet_placement_id(p), id));
	}
	for (int i = 0; i < np_plan_cell_count(plan); i++) {
		const struct np_plan_cell *c = np_plan_cell(plan, i);
		int pins[1024], n = 0;
		char list[256];

		for (int k = 0; k < c->npins && n < 1024; k++)
			pins[n++] = c->pins[k].pcpu;
		if (json) {
			printf("%s{\"node\": %d, \"memory_mb\": %llu, \"pinned_cpus\": [", i ? ", " : "",
			       np_topo_node(t, c->node_idx)->os_id, (unsigned long long)c->memory_mb);
			for (int k = 0; k < n; k++)
				printf("%s%d", k ? ", " : "", pins[k]);
			printf("], \"vcpus\": %d}", c->nfloat);
			continue;
		}
		for (int a = 1; a < n; a++) /* pins are by vCPU; the list wants CPU order */
			for (int b = a; b > 0 && pins[b] < pins[b - 1]; b--) {
				int x = pins[b];

				pins[b] = pins[b - 1];
				pins[b - 1] = x;
			}
		np_cpulist_format(pins, n, list, sizeof(list));
		printf("%s node %d: %llu MiB", i ? ";" : "", np_topo_node(t, c->node_idx)->os_id,
		       (unsigned long long)c->memory_mb);
		if (n)
			printf(", pinned CPUs %s", list);
		if (c->nfloat)
			printf(", %d floating vCPUs", c->nfloat);
	}
	printf(json ? "]}" : "\n");
}

static int show_host(const struct fleet_args *a, np_fleet *f, const np_fleet_host *h, bool first)
{
	const np_host *u = np_fleet_host_usage(h);
	struct np_error err = { 0 };
	np_fleet_placement **ps = NULL;
	int n = 0, nodes = np_topo_node_count(np_host_topo(u));
	char name[FLEET_SHOWN_MAX];

	if (np_fleet_placements(f, np_fleet_host_name(h), &ps, &n, &err))
		return cli_fail(&err);
	if (a->json) {
		printf("%s\n  {\"name\": ", first ? "" : ",");
		fleet_json_str(stdout, np_fleet_host_name(h));
		printf(", \"generation\": %lld, \"nodes\": [", (long long)np_fleet_host_generation(h));
	} else {
		printf("%s%s: %d nodes, %d CPUs, generation %lld, %d placement%s\n", first ? "" : "\n",
		       fleet_shown(np_fleet_host_name(h), name), nodes,
		       np_topo_cpu_count(np_host_topo(u)),
		       (long long)np_fleet_host_generation(h), n, n == 1 ? "" : "s");
	}
	for (int i = 0; i < nodes; i++)
		(a->json ? node_json : node_text)(u, i);
	printf(a->json ? "], \"placements\": [" : n ? "placements:\n" : "");
	for (int i = 0; i < n; i++) {
		placement_out(ps[i], u, a->json, i == 0);
		np_fleet_placement_free(ps[i]);
	}
	free(ps);
	if (a->json)
		printf("]}");
	return CLI_OK;
}

static int show(const struct fleet_args *a, np_fleet *f)
{
	struct np_error err = { 0 };
	const np_fleet_host *one;
	int rc = CLI_OK;

	if (np_fleet_refresh(f, &err))
		return cli_fail(&err);
	one = a->name ? np_fleet_host_find(f, a->name) : NULL;
	if (a->name && !one) {
		cli_error("no host '%s' in the fleet", a->name);
		return CLI_BAD_INPUT;
	}
	if (a->json)
		printf("{\"hosts\": [");
	if (one)
		rc = show_host(a, f, one, true);
	for (int i = 0; !one && !rc && i < np_fleet_host_count(f); i++)
		rc = show_host(a, f, np_fleet_host_at(f, i), i == 0);
	if (a->json && !rc)
		printf("\n]}\n");
	return rc;
}

/* ---- options and actions ------------------------------------------------------- */

static const struct action {
	const char *name;
	int takes; /* what it needs or allows (T_*) */
	int (*run)(const struct fleet_args *a, np_fleet *f);
	unsigned flags;
} actions[] = {
	{ "add", T_NAME | T_SOURCE | T_RATIO, add, NP_FLEET_CREATE },
	{ "remove", T_NAME | T_FORCE, remove_host, 0 },
	{ "list", 0, list, 0 },
	{ "show", T_NAME_OPT, show, 0 },
	{ "release", T_ID, release, 0 },
	{ "check", 0, check, 0 },
};

/* Options the action does not take, and those it needs. */
static int fit_action(const struct action *x, const struct fleet_args *a)
{
	const char *extra = a->name && !(x->takes & (T_NAME | T_NAME_OPT)) ? "--name"
			    : a->id && !(x->takes & T_ID) ? "--id"
			    : a->force && !(x->takes & T_FORCE) ? "--force"
			    : a->given_ratio && !(x->takes & T_RATIO) ? "a ratio"
			    : a->src.given && !(x->takes & T_SOURCE) ? "a host topology" : NULL;

	if (extra)
		return cli_usage_error(self, "fleet %s takes no %s", x->name, extra);
	if ((x->takes & T_NAME) && (!a->name || !*a->name))
		return cli_usage_error(self, "fleet %s needs --name NAME", x->name);
	if ((x->takes & T_ID) && (!a->id || !*a->id))
		return cli_usage_error(self, "fleet %s needs --id ID", x->name);
	if ((x->takes & T_SOURCE) && !a->src.given)
		return cli_usage_error(self, "fleet add needs the host's topology: --host FILE "
				       "(or --sysfs, --xl, --libvirt-xml, ...)");
	return 0;
}

static const struct cli_opt opts[] = {
	{ .id = OPT_STORE, .name = "store", .type = CLI_TEXT, .meta = "URL",
	  .help = "sqlite:PATH (a file; created by the first add) or\n"
		  "postgresql://USER@HOST/DB (or postgresql:KEY=VALUE ...);\n"
		  "default: $NUMAPLACE_STORE" },
	{ .id = OPT_NAME, .name = "name", .type = CLI_TEXT, .meta = "NAME", .help = "the host" },
	{ .id = OPT_ID, .name = "id", .type = CLI_TEXT, .meta = "ID", .help = "the placement" },
	{ .id = OPT_FORCE, .name = "force", .type = CLI_FLAG,
	  .help = "remove: release the host's placements too" },
	{ .id = OPT_CPU_RATIO, .name = "cpu-ratio", .type = CLI_REAL, .min = 1e-6, .max = 1e6,
	  .what = "a number above 0", .meta = "R",
	  .help = "add: floating vCPUs per shared CPU (default 16)" },
	{ .id = OPT_RAM_RATIO, .name = "ram-ratio", .type = CLI_REAL, .min = 1e-6, .max = 1e6,
	  .what = "a number above 0", .meta = "R",
	  .help = "add: memory over-commit for floating guests (default 1)" },
	{ .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
	  .choice = &cli_choice_text_json, .meta = "FMT", .help = "text (default) or json" },
	CLI_OPT_HELP,
	CLI_SOURCE_SECTION("The host (fleet add), any topology source:"),
	CLI_OPT_END,
};

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct fleet_args f = { 0 };
	const struct action *x = NULL;
	np_fleet *fleet = NULL;
	int rc;

	if (a->nargs == 0)
		return cli_usage_error(verb, "say what to do: add, remove, list, show, release, check");
	f.action = a->args[0];
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]) && !x; i++)
		x = strcmp(actions[i].name, f.action) == 0 ? &actions[i] : NULL;
	if (!x)
		return cli_usage_error(verb, "unknown fleet action '%s' (add, remove, list, show, "
				       "release, check)", f.action);
	if ((rc = cli_source_get(a, false, &f.src)))
		return rc;
	f.store = cli_text(a, OPT_STORE);
	f.name = cli_text(a, OPT_NAME);
	f.id = cli_text(a, OPT_ID);
	f.force = cli_given(a, OPT_FORCE);
	f.json = cli_num(a, OPT_FORMAT, 0) == 1;
	f.given_ratio = cli_given(a, OPT_CPU_RATIO) || cli_given(a, OPT_RAM_RATIO);
	f.opts.cpu_ratio = cli_real(a, OPT_CPU_RATIO, 0);
	f.opts.ram_ratio = cli_real(a, OPT_RAM_RATIO, 0);
	/* A bad topology is refused before the store is opened, or created. */
	if ((rc = fit_action(x, &f)) ||
	    ((x->takes & T_SOURCE) && (rc = cli_load_topology(&f.src, &f.topo))) ||
	    (rc = fleet_open(verb, fleet_store_url(f.store), x->flags, &fleet))) {
		np_topo_free(f.topo);
		return rc;
	}
	rc = x->run(&f, fleet);
	np_fleet_close(fleet);
	np_topo_free(f.topo);
	return fleet_flushed(rc);
}

const struct cli_verb cli_verb_fleet = {
	.name = "fleet",
	.summary = "keep many hosts in a store: add, list, show, check",
	.synopsis =
		"usage: numaplace fleet add --store URL --name NAME --host FILE [--cpu-ratio R]\n"
		"                           [--ram-ratio R]   (or --sysfs DIR, --xl FILE, ...)\n"
		"       numaplace fleet remove --store URL --name NAME [--force]\n"
		"       numaplace fleet list --store URL\n"
		"       numaplace fleet show --store URL [--name NAME]\n"
		"       numaplace fleet release --store URL --id ID\n"
		"       numaplace fleet check --store URL\n",
	.about = "Keep many hosts in a store, for `numaplace schedule`: add a host with its\n"
		 "topology, remove it (refused while placements live on it, unless --force,\n"
		 "which releases them), list the hosts, show one host's nodes (used and free\n"
		 "CPUs, memory, pages) and placements, release a placement, and check the\n"
		 "store's invariants (usage is the sum of the live placements, no node over\n"
		 "capacity, no CPU pinned twice).\n",
	.opts = opts,
	.epilog = "Exit: 0 ok; 1 the check found a violation, or the store failed; 2 bad input\n"
		  "or usage (an unknown host, a bad URL, an unreachable database).\n"
		  "\n"
		  "Examples:\n"
		  "  numaplace fleet add --store sqlite:fleet.db --name host-1 --host host.json\n"
		  "  numaplace fleet list --store sqlite:fleet.db\n"
		  "  numaplace fleet show --store sqlite:fleet.db --name host-1\n"
		  "  numaplace fleet release --store sqlite:fleet.db --id vm-7\n"
		  "  numaplace fleet check --store sqlite:fleet.db\n",
	.max_args = 1,
	.run = run,
};
