/*
 * cmd-place.c - `numaplace place`: place one guest on one host and say
 * where and why; or answer a Nova case (--case) in Nova's output shape.
 *
 * Design: the steps (host, request, place, validate, write) are functions
 * shared with `numaplace claim` (cmd-place.h); this verb adds --state
 * (claims applied read-only, under a shared lock) and --case.  Exit codes:
 * 0 the guest fits (every request of a case fits), 1 it does not, 2 bad
 * input or usage (for --case also: a request Nova's rules refuse).
 *
 * Validation: every plan is re-checked by np_plan_validate() in debug
 * builds (no NDEBUG) and with the hidden --validate option, which the
 * differential tests against Nova use on release builds too.  A plan
 * failing it is a numaplace bug: "internal error" and exit 1.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/nova.h>

#include "cmd-place.h"

const char cmd_place_usage[] =
	"usage: numaplace place [HOST] [--state FILE] GUEST [options]\n"
	"       numaplace place --case FILE\n"
	"\n"
	"Choose host NUMA nodes for every guest cell, pin or float its vCPUs, set\n"
	"its memory policy, and say why.  Nothing is recorded: see `numaplace claim`.\n"
	"\n"
	CLI_SOURCE_HELP
	"  --state FILE         take the claims recorded in FILE as used\n"
	"\n"
	PLACE_REQUEST_HELP
	"\n"
	"Nova:\n"
	"  --case FILE          a Nova case (shared/nova/CASE_FORMAT.md: host, request\n"
	"                       or requests); prints the answer as JSON in that format's\n"
	"                       output shape, errors as {\"code\", \"message\"}\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit: 0 fits, 1 does not fit, 2 bad input or usage.\n"
	"\n"
	"Examples:\n"
	"  numaplace place --flavor 'vcpus=8,ram=8192,hw:numa_nodes=2'\n"
	"  numaplace place --libvirt qemu:///system --flavor 'vcpus=4,ram=4096,"
	"hw:cpu_policy=dedicated' --format libvirt\n"
	"  numaplace place --host host.json --xl-vnuma '[ [\"pnode=0\",\"size=2048\","
	"\"vcpus=0-1\"] ]' --vcpus 2 --memory 2048 --format xl\n"
	"  numaplace place --case case.json\n";

void place_args_init(struct place_args *a)
{
	memset(a, 0, sizeof(*a));
	a->vcpus = -1;
	a->memory_mb = -1;
	a->strategy = NP_STRATEGY_SPREAD;
	a->mem_policy = NP_MEM_POLICY_STRICT;
	a->affinity = NP_AFFINITY_HARD;
	a->format = NP_PLAN_TEXT;
#ifndef NDEBUG
	a->validate = true;
#endif
}

static int once(const char *verb, const char **slot, const char *opt, const char *arg)
{
	if (*slot)
		return cli_usage_error(verb, "give %s only once", opt), -2;
	*slot = arg;
	return 1;
}

static int number(const char *verb, const char *opt, const char *arg, long long max,
		  long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > max)
		return cli_usage_error(verb, "%s wants a number from 0 to %lld, not '%s'", opt, max,
				       arg), -2;
	*out = v;
	return 1;
}

/* The enum value whose NAME(value) is ARG, for values 0..N-1; -1 if none. */
static int by_name(const char *arg, int n, const char *(*name)(int))
{
	for (int i = 0; i < n; i++)
		if (strcmp(arg, name(i)) == 0)
			return i;
	return -1;
}

static const char *mem_policy_name(int p) { return np_mem_policy_name((enum np_mem_policy)p); }
static const char *strategy_name(int s) { return s ? "pack" : "spread"; }
static const char *affinity_name(int a) { return a ? "soft" : "hard"; }

static int knob(const char *verb, int opt, const char *arg, struct place_args *a)
{
	int v;

	switch (opt) {
	case PLACE_OPT_STRATEGY:
		if ((v = by_name(arg, 2, strategy_name)) < 0)
			return cli_usage_error(verb, "unknown strategy '%s' (spread, pack)", arg), -2;
		a->strategy = (enum np_strategy)v;
		a->strategy_given = true;
		return 1;
	case PLACE_OPT_MEM_POLICY:
		if ((v = by_name(arg, 3, mem_policy_name)) < 0)
			return cli_usage_error(verb, "unknown memory policy '%s' (strict, preferred, "
					       "interleave)", arg), -2;
		a->mem_policy = (enum np_mem_policy)v;
		a->mem_policy_given = true;
		return 1;
	case PLACE_OPT_AFFINITY:
		if ((v = by_name(arg, 2, affinity_name)) < 0)
			return cli_usage_error(verb, "unknown affinity '%s' (hard, soft)", arg), -2;
		a->affinity = (enum np_affinity)v;
		a->affinity_given = true;
		return 1;
	case PLACE_OPT_FORMAT:
		if (np_plan_format_from_name(arg, &a->format))
			return cli_usage_error(verb, "unknown format '%s' (text, json, libvirt, xl, "
					       "numactl)", arg), -2;
		return 1;
	default:
		return 0;
	}
}

int place_option(const char *verb, int opt, const char *arg, struct place_args *a)
{
	long long v = 0; /* number() sets it on success; -O3 cannot tell */
	int rc = cli_source_option(verb, opt, arg, &a->src);

	if (rc)
		return rc;
	switch (opt) {
	case PLACE_OPT_STATE: return once(verb, &a->state, "--state", arg);
	case PLACE_OPT_FLAVOR: return once(verb, &a->flavor, "--flavor", arg);
	case PLACE_OPT_IMAGE: return once(verb, &a->image, "--image", arg);
	case PLACE_OPT_XL_VNUMA: return once(verb, &a->xl_vnuma, "--xl-vnuma", arg);
	case PLACE_OPT_REQUEST: return once(verb, &a->request, "--request", arg);
	case PLACE_OPT_VCPUS:
		rc = number(verb, "--vcpus", arg, 65536, &v);
		a->vcpus = (long)v;
		return rc;
	case PLACE_OPT_MEMORY:
		return number(verb, "--memory", arg, 1LL << 40, &a->memory_mb);
	case PLACE_OPT_EXPLAIN: a->explain = true; return 1;
	case PLACE_OPT_VALIDATE: a->validate = true; return 1;
	default: return knob(verb, opt, arg, a);
	}
}

int place_args_check(const char *verb, const struct place_args *a)
{
	int guests = !!a->flavor + !!a->xl_vnuma + !!a->request;

	if (a->image && !a->flavor)
		return cli_usage_error(verb, "--image goes with --flavor");
	if (guests == 0)
		return cli_usage_error(verb, "say what to place: --flavor, --xl-vnuma or --request");
	if (guests > 1)
		return cli_usage_error(verb, "give one guest: --flavor, --xl-vnuma or --request");
	if (a->xl_vnuma && (a->vcpus < 0 || a->memory_mb < 0))
		return cli_usage_error(verb, "--xl-vnuma needs --vcpus and --memory");
	if (!a->xl_vnuma && (a->vcpus >= 0 || a->memory_mb >= 0))
		return cli_usage_error(verb, "--vcpus and --memory go with --xl-vnuma");
	return CLI_OK;
}

/* Read PATH ("-": standard input) whole; NULL with a message printed. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t cap = 1 << 16, n = 0, got;
	char *buf = NULL, *p;

	if (f)
		buf = malloc(cap + 1);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n < cap)
			continue;
		if (cap >= ((size_t)256 << 20) || !(p = realloc(buf, 2 * cap + 1))) {
			free(buf);
			buf = NULL;
			errno = EFBIG;
		} else {
			buf = p;
			cap *= 2;
		}
	}
	if (!f || !buf || ferror(f)) {
		fprintf(stderr, "numaplace: cannot read '%s': %s\n", path,
			strerror(errno ? errno : EIO));
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
		*len = n;
	}
	if (f && f != stdin)
		fclose(f);
	return buf;
}

int place_request(const struct place_args *a, np_request **out)
{
	struct np_error err = { 0 };
	char *buf;
	size_t len = 0;
	int rc;

	if (a->flavor) {
		rc = np_request_from_flavor_text(a->flavor, a->image, out, &err);
	} else if (a->xl_vnuma) {
		rc = np_request_from_xl_vnuma(a->xl_vnuma, (unsigned)a->vcpus,
					      (uint64_t)a->memory_mb, out, &err);
	} else {
		if (!(buf = slurp(a->request, &len)))
			return CLI_BAD_INPUT;
		rc = np_request_from_json(buf, len, a->request, out, &err);
		free(buf);
	}
	if (rc)
		return cli_fail(&err);
	if (a->mem_policy_given)
		np_request_set_mem_policy(*out, a->mem_policy);
	if (a->affinity_given)
		np_request_set_affinity(*out, a->affinity);
	return CLI_OK;
}

int place_host(const struct place_args *a, np_topo **topo, np_host **host)
{
	struct np_error err = { 0 };
	int rc = cli_load_topology(&a->src, topo);

	if (rc)
		return rc;
	if (np_host_new(*topo, host, &err)) {
		np_topo_free(*topo);
		*topo = NULL;
		return cli_fail(&err);
	}
	return CLI_OK;
}

int place_plan(const struct place_args *a, const np_host *host, const np_request *req,
	       np_plan **out)
{
	struct np_place_opts opts = { .strategy = a->strategy, .explain = a->explain };
	struct np_error err = { 0 };

	if (np_place(host, req, &opts, out, &err))
		return cli_fail(&err);
	if (a->validate && np_plan_fits(*out) && np_plan_validate(host, req, *out, &err)) {
		fprintf(stderr, "numaplace: internal error: the plan fails validation: %s\n",
			err.message);
		np_plan_free(*out);
		*out = NULL;
		return CLI_FAILED;
	}
	return CLI_OK;
}

int place_write(const struct place_args *a, const np_plan *plan, const np_host *host,
		const np_request *req)
{
	struct np_error err = { 0 };

	if (np_plan_write(plan, host, req, a->format, a->explain, stdout, &err))
		return cli_fail(&err);
	return CLI_OK;
}

/* --state FILE: charge its claims onto HOST (shared lock, nothing written). */
static int apply_state(const char *path, np_host *host)
{
	struct np_error err = { 0 };
	np_state *st = NULL;
	int rc;

	if (np_state_open(path, true, &st, &err))
		return cli_fail(&err);
	rc = np_state_apply(st, host, &err) ? cli_fail(&err) : CLI_OK;
	np_state_close(st);
	return rc;
}

/* --case FILE: a Nova case, answered in its own output shape. */
static int place_case(const char *path, const struct place_args *a)
{
	struct np_place_opts opts = { .strategy = a->strategy };
	struct np_nova_summary sum = { 0 };
	struct np_error err = { 0 };
	np_nova_case *c = NULL;
	size_t len = 0;
	char *buf = slurp(path, &len);
	int rc;

	if (!buf)
		return CLI_BAD_INPUT;
	rc = np_nova_case_parse(buf, len, strcmp(path, "-") ? path : "<stdin>", &c, &err);
	free(buf);
	if (rc)
		return cli_fail(&err);
	if (!a->strategy_given)
		opts.strategy = np_nova_case_strategy(c);
	rc = np_nova_case_run(c, &opts, a->validate, stdout, &sum, &err);
	np_nova_case_free(c);
	if (rc)
		return cli_fail(&err);
	if (sum.bad_plans)
		fprintf(stderr, "numaplace: internal error: %d plan%s failed validation (see "
			"invalid_plan)\n", sum.bad_plans, sum.bad_plans > 1 ? "s" : "");
	return sum.invalid ? CLI_BAD_INPUT : sum.nofit || sum.bad_plans ? CLI_FAILED : CLI_OK;
}

/* --case excludes every host and guest option but --strategy and --validate. */
static int check_case(const struct place_args *a)
{
	if (a->src.given || a->state || a->flavor || a->image || a->xl_vnuma || a->request ||
	    a->vcpus >= 0 || a->memory_mb >= 0 || a->mem_policy_given || a->affinity_given ||
	    a->explain || a->format != NP_PLAN_TEXT)
		return cli_usage_error("place", "--case brings its own host and requests: only "
				       "--strategy goes with it");
	return CLI_OK;
}

static int run_place(const struct place_args *a)
{
	np_topo *topo = NULL;
	np_host *host = NULL;
	np_request *req = NULL;
	np_plan *plan = NULL;
	int rc;

	if ((rc = place_request(a, &req)) || (rc = place_host(a, &topo, &host)))
		goto out;
	if (a->state && (rc = apply_state(a->state, host)))
		goto out;
	if ((rc = place_plan(a, host, req, &plan)) || (rc = place_write(a, plan, host, req)))
		goto out;
	rc = np_plan_fits(plan) ? CLI_OK : CLI_FAILED;
out:
	np_plan_free(plan);
	np_request_free(req);
	np_host_free(host);
	np_topo_free(topo);
	return rc;
}

int cmd_place(int argc, char **argv)
{
	static const struct option longopts[] = {
		PLACE_OPTIONS,
		{ "case", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct place_args a;
	const char *case_path = NULL;
	int opt, rc;

	place_args_init(&a);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
		if (opt == 'f')
			opt = PLACE_OPT_FORMAT;
		rc = place_option("place", opt, optarg, &a);
		if (rc < 0)
			return CLI_BAD_INPUT;
		if (rc > 0)
			continue;
		switch (opt) {
		case 'c':
			if (once("place", &case_path, "--case", optarg) < 0)
				return CLI_BAD_INPUT;
			break;
		case 'h': return cli_help("place");
		case ':':
			return cli_usage_error("place", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("place", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("place", "unexpected argument '%s'", argv[optind]);
	if (case_path)
		return check_case(&a) ? CLI_BAD_INPUT : place_case(case_path, &a);
	if (place_args_check("place", &a))
		return CLI_BAD_INPUT;
	return run_place(&a);
}
