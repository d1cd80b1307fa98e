/*
 * cmd-place.h - what `numaplace place` and `numaplace claim` share: the
 * options that say which host and which guest (topology source, request
 * as flavor/image text, xl vnuma, request JSON), the placement knobs
 * (strategy, memory policy, affinity), the output format, and the steps
 * load host -> build request -> place -> validate.
 *
 * Each function prints its own error and returns the tool's exit code
 * (cli.h), so a verb just returns what it gets when it is not 0.
 */
#ifndef NP_CMD_PLACE_H
#define NP_CMD_PLACE_H

#include "cli.h"

struct place_args {
	struct cli_source src;
	const char *state;          /* --state FILE */
	const char *flavor, *image; /* --flavor, --image */
	const char *xl_vnuma;       /* --xl-vnuma, with --vcpus and --memory */
	long vcpus;                 /* -1: not given */
	long long memory_mb;        /* -1: not given */
	const char *request;        /* --request FILE */
	bool strategy_given, mem_policy_given, affinity_given;
	enum np_strategy strategy;
	enum np_mem_policy mem_policy;
	enum np_affinity affinity;
	bool explain, validate;
	enum np_plan_format format;
};

enum {
	PLACE_OPT_STATE = CLI_OPT_FIRST_FREE,
	PLACE_OPT_FLAVOR,
	PLACE_OPT_IMAGE,
	PLACE_OPT_XL_VNUMA,
	PLACE_OPT_VCPUS,
	PLACE_OPT_MEMORY,
	PLACE_OPT_REQUEST,
	PLACE_OPT_STRATEGY,
	PLACE_OPT_MEM_POLICY,
	PLACE_OPT_AFFINITY,
	PLACE_OPT_EXPLAIN,
	PLACE_OPT_FORMAT,
	PLACE_OPT_VALIDATE,
	PLACE_OPT_FIRST_FREE,
};

/* getopt_long entries of the options above (--state is the verb's own). */
#define PLACE_OPTIONS                                                        \
	CLI_SOURCE_OPTIONS,                                                  \
	{ "state", required_argument, NULL, PLACE_OPT_STATE },               \
	{ "flavor", required_argument, NULL, PLACE_OPT_FLAVOR },             \
	{ "image", required_argument, NULL, PLACE_OPT_IMAGE },               \
	{ "xl-vnuma", required_argument, NULL, PLACE_OPT_XL_VNUMA },         \
	{ "vcpus", required_argument, NULL, PLACE_OPT_VCPUS },               \
	{ "memory", required_argument, NULL, PLACE_OPT_MEMORY },             \
	{ "request", required_argument, NULL, PLACE_OPT_REQUEST },           \
	{ "strategy", required_argument, NULL, PLACE_OPT_STRATEGY },         \
	{ "mem-policy", required_argument, NULL, PLACE_OPT_MEM_POLICY },     \
	{ "affinity", required_argument, NULL, PLACE_OPT_AFFINITY },         \
	{ "explain", no_argument, NULL, PLACE_OPT_EXPLAIN },                 \
	{ "format", required_argument, NULL, PLACE_OPT_FORMAT },             \
	{ "validate", no_argument, NULL, PLACE_OPT_VALIDATE }

/* Help lines for the guest, knob and output options. */
#define PLACE_REQUEST_HELP                                                          \
	"The guest (exactly one of):\n"                                              \
	"  --flavor TEXT        Nova flavor: 'vcpus=8,ram=4096,hw:numa_nodes=2,...'\n" \
	"  --image TEXT         with --flavor: image properties 'hw_mem_page_size=2048,...'\n" \
	"  --xl-vnuma TEXT      xl's vnuma=[...] with --vcpus N and --memory MIB\n"  \
	"  --request FILE       numaplace.request/1 JSON (- for standard input)\n"   \
	"\n"                                                                         \
	"Placement:\n"                                                               \
	"  --strategy S         spread (default: most room left) or pack (fill used nodes)\n" \
	"  --mem-policy P       strict (default), preferred or interleave\n"         \
	"  --affinity A         hard (pin, default) or soft (prefer)\n"              \
	"  --explain            say why the chosen nodes won and why the others lost\n" \
	"  -f, --format FMT     text (default), json, libvirt, xl, numactl\n"

/* Reset A to the defaults. */
void place_args_init(struct place_args *a);
/* 1 handled, 0 not one of these options, -2 usage error (printed). */
int place_option(const char *verb, int opt, const char *optarg, struct place_args *a);
/* Check the combination of options: 0 or 2 (printed). */
int place_args_check(const char *verb, const struct place_args *a);
/* Build the guest's request from the options. */
int place_request(const struct place_args *a, np_request **out);
/* Load the topology and make a host on it (no usage applied). */
int place_host(const struct place_args *a, np_topo **topo, np_host **host);
/*
 * Place REQ on HOST; validate the plan when A->validate (or in debug
 * builds): a plan failing the validator is a numaplace bug, reported and
 * exit 1.
 */
int place_plan(const struct place_args *a, const np_host *host, const np_request *req,
	       np_plan **out);
/* Write PLAN in A->format to standard output. */
int place_write(const struct place_args *a, const np_plan *plan, const np_host *host,
		const np_request *req);

#endif
