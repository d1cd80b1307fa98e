/*
 * runtime-cli.h - what the runtime verbs (observe, apply, balance) share:
 * the target options (--pid, or --libvirt URI --domain NAME), the host
 * topology that goes with a target, and node lists given by kernel id.
 * Header-only (static inline) so each verb stays one file; public API only.
 */
#ifndef NP_RUNTIME_CLI_H
#define NP_RUNTIME_CLI_H

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/runtime.h>

#include "cli.h"

enum {
	RT_OPT_PID = CLI_OPT_FIRST_FREE + 100,
	RT_OPT_DOMAIN,
	RT_OPT_RUN_DIR,
	RT_OPT_FIRST_FREE,
};

/* getopt_long entries: --pid, --domain, --run-dir (--libvirt is a source option). */
#define RT_TARGET_OPTIONS                                             \
	{ "pid", required_argument, NULL, RT_OPT_PID },               \
	{ "domain", required_argument, NULL, RT_OPT_DOMAIN },         \
	{ "run-dir", required_argument, NULL, RT_OPT_RUN_DIR }

#define RT_TARGET_HELP                                                          \
	"Target (one of):\n"                                                    \
	"  --pid PID            a process; for QEMU, its \"CPU N/KVM\" threads are the vCPUs\n" \
	"  --libvirt URI --domain NAME\n"                                         \
	"                       a libvirt domain, through libvirt's API (the host\n" \
	"                       topology then comes from URI too)\n"

/* A whole decimal number in [MIN, MAX]; false otherwise. */
static inline bool rt_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A decimal (possibly fractional) number >= 0; false otherwise. */
static inline bool rt_real(const char *s, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > max)
		return false;
	*out = v;
	return true;
}

/*
 * Handle a target option: 1 handled, 0 not one, -2 usage error (printed).
 * --libvirt is also a topology source option; the verb routes it here.
 */
static inline int rt_target_option(const char *verb, int opt, const char *arg,
				   struct np_target *t)
{
	long pid;

	switch (opt) {
	case RT_OPT_PID:
		if (!rt_number(arg, 1, INT_MAX, &pid))
			return cli_usage_error(verb, "--pid needs a process id, not '%s'", arg), -2;
		t->pid = (int)pid;
		return 1;
	case RT_OPT_DOMAIN:
		t->domain = arg;
		return 1;
	case CLI_OPT_LIBVIRT:
		t->uri = arg;
		return 1;
	}
	return 0;
}

/* Exactly one target given?  0, or the usage error's exit code. */
static inline int rt_target_check(const char *verb, const struct np_target *t, bool optional)
{
	if (t->pid && (t->uri || t->domain))
		return cli_usage_error(verb, "give --pid or --libvirt/--domain, not both");
	if (!t->pid && (!t->uri != !t->domain))
		return cli_usage_error(verb, "a libvirt domain needs both --libvirt URI and "
				       "--domain NAME");
	if (!optional && !t->pid && !t->uri)
		return cli_usage_error(verb, "say what to %s: --pid PID or --libvirt URI --domain "
				       "NAME", verb);
	return 0;
}

/* The topology: SRC if given, else the libvirt URI of T, else this machine. */
static inline int rt_load_topology(const struct cli_source *src, const struct np_target *t,
				   np_topo **out)
{
	struct cli_source s = *src;

	if (!s.given && t->uri) {
		s.kind = NP_SOURCE_LIBVIRT_URI;
		s.arg = t->uri;
		s.given = true;
	}
	return cli_load_topology(&s, out);
}

/*
 * A node list of kernel ids ("1", "0-1,3") into node indexes, increasing,
 * without duplicates.  0, or prints the usage error and returns 2.
 */
static inline int rt_parse_nodes(const char *verb, const np_topo *topo, const char *text,
				 int **idx, int *n)
{
	int nn = np_topo_node_count(topo), k = 0;
	bool *on = calloc((size_t)nn + 1, sizeof(bool));
	const char *p = text;

	if (!on)
		return cli_usage_error(verb, "out of memory");
	while (*p) {
		char *end;
		long a, b;

		errno = 0;
		a = strtol(p, &end, 10);
		b = a;
		if (end != p && *end == '-')
			b = strtol(end + 1, &end, 10);
		if (errno || end == p || a < 0 || b < a || b - a > 65536 || (*end && *end != ',')) {
			free(on);
			return cli_usage_error(verb, "bad node list '%s' (kernel node ids, e.g. "
					       "1 or 0-1,3)", text);
		}
		for (long v = a; v <= b; v++) {
			int i = v > INT_MAX ? -1 : np_topo_node_index(topo, (int)v);

			if (i < 0) {
				free(on);
				return cli_usage_error(verb, "node %ld is not a node of this host", v);
			}
			on[i] = true;
		}
		p = *end ? end + 1 : end;
	}
	*idx = malloc(((size_t)nn + 1) * sizeof(int));
	for (int i = 0; *idx && i < nn; i++)
		if (on[i])
			(*idx)[k++] = i;
	free(on);
	if (!*idx || k == 0)
		return cli_usage_error(verb, "empty node list");
	*n = k;
	return 0;
}

#endif
