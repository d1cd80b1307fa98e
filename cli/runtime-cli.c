/*
 * runtime-cli.c - the target options, topology and node lists of the
 * runtime verbs (runtime-cli.h).
 *
 * Node lists are Linux cpulists of kernel node ids, parsed by the
 * library's own parser (numaplace/util.h), then mapped onto the host.
 */
#include "runtime-cli.h"

#include <limits.h>
#include <stdlib.h>

/* Kernel node ids above this are refused as text, before any allocation. */
#define RT_NODE_ID_MAX (1 << 20)

const struct cli_opt rt_target_opts[] = {
	{ .id = RT_OPT_PID, .name = "pid", .type = CLI_INT, .min = 1, .max = INT_MAX,
	  .what = "a process id", .meta = "PID", .heading = "Target (one of):",
	  .help = "a process; for QEMU, its \"CPU N/KVM\" threads are the vCPUs" },
	{ .id = RT_OPT_DOMAIN, .name = "domain", .type = CLI_TEXT, .meta = "NAME",
	  .help = "with --libvirt URI: a libvirt domain, through libvirt's\n"
		  "API (the host topology then comes from URI too)" },
	CLI_OPT_END,
};

int rt_target_get(const struct cli_args *a, bool optional, struct np_target *t)
{
	const struct cli_verb *verb = a->verb;

	t->pid = (int)cli_num(a, RT_OPT_PID, 0);
	t->domain = cli_text(a, RT_OPT_DOMAIN);
	t->uri = cli_text(a, CLI_OPT_LIBVIRT);
	if (t->pid && (t->uri || t->domain))
		return cli_usage_error(verb, "give --pid or --libvirt/--domain, not both");
	if (!t->pid && (!t->uri != !t->domain))
		return cli_usage_error(verb, "a libvirt domain needs both --libvirt URI and "
				       "--domain NAME");
	if (!optional && !t->pid && !t->uri)
		return cli_usage_error(verb, "say what to %s: --pid PID or --libvirt URI --domain "
				       "NAME", verb->name);
	/* A domain: the tool reports a connection that fails to open itself (error.h). */
	if (t->uri)
		np_set_quiet();
	return CLI_OK;
}

int rt_load_topology(const struct cli_args *a, const struct np_target *t, np_topo **out)
{
	struct cli_source src;
	int rc = cli_source_get(a, true, &src);

	if (rc)
		return rc;
	if (!src.given && t->uri)
		src = (struct cli_source){ NP_SOURCE_LIBVIRT_URI, t->uri, true };
	return cli_load_topology(&src, out);
}

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return (a > b) - (a < b);
}

int rt_parse_nodes(const struct cli_verb *verb, const np_topo *topo, const char *text,
		   int **idx, int *n)
{
	struct np_error err = { 0 };
	int *ids = NULL, nids = 0, rc;

	rc = np_cpulist_parse(text, RT_NODE_ID_MAX, &ids, &nids, &err);
	if (rc == NP_ENOMEM)
		return cli_oom();
	if (rc)
		return cli_usage_error(verb, "bad node list '%s' (kernel node ids, e.g. 1 or 0-1,3)",
				       text);
	if (nids == 0)
		rc = cli_usage_error(verb, "empty node list");
	/* The ids become the indexes in place. */
	for (int k = 0; k < nids && !rc; k++) {
		int i = np_topo_node_index(topo, ids[k]);

		if (i < 0)
			rc = cli_usage_error(verb, "node %d is not a node of this host", ids[k]);
		ids[k] = i;
	}
	if (rc) {
		free(ids);
		return rc;
	}
	qsort(ids, (size_t)nids, sizeof(*ids), cmp_int);
	*idx = ids;
	*n = nids;
	return CLI_OK;
}
