/*
 * cli.h - what the verbs of the numaplace tool share: the command table,
 * exit codes, error and usage messages, and the topology source options.
 *
 * The tool uses only the public API (include/numaplace/).  Exit codes:
 * 0 ok, 1 no placement / operation failed, 2 bad input or usage,
 * 3 unsupported here.
 */
#ifndef NP_CLI_H
#define NP_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include <numaplace/numaplace.h>

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_BAD_INPUT = 2, CLI_UNSUPPORTED = 3 };

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage; /* the whole --help text */
};

/* The command table, in main.c; ends with a NULL name. */
extern const struct cli_command cli_commands[];

int cmd_topology(int argc, char **argv);
extern const char cmd_topology_usage[];
int cmd_place(int argc, char **argv);
extern const char cmd_place_usage[];
int cmd_claim(int argc, char **argv);
extern const char cmd_claim_usage[];
int cmd_release(int argc, char **argv);
extern const char cmd_release_usage[];
int cmd_state(int argc, char **argv);
extern const char cmd_state_usage[];
int cmd_fleet(int argc, char **argv);
extern const char cmd_fleet_usage[];
int cmd_schedule(int argc, char **argv);
extern const char cmd_schedule_usage[];
int cmd_observe(int argc, char **argv);
extern const char cmd_observe_usage[];
int cmd_apply(int argc, char **argv);
extern const char cmd_apply_usage[];
int cmd_balance(int argc, char **argv);
extern const char cmd_balance_usage[];
int cmd_simulate(int argc, char **argv);
extern const char cmd_simulate_usage[];

/* Exit code for a library error code. */
int cli_exit_code(int np_code);
/* Print "numaplace: <message>" and return the exit code for ERR. */
int cli_fail(const struct np_error *err);
/* Print "numaplace: <message>" and "try 'numaplace VERB --help'"; return 2. */
int cli_usage_error(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print a verb's usage text to stdout; return 0. */
int cli_help(const char *verb);

/* Where a verb reads its host topology from. */
struct cli_source {
	enum np_source_kind kind;
	const char *arg; /* path, URI, "-" for standard input, or NULL */
	bool given;
};

enum {
	CLI_OPT_SOURCE = 1000,
	CLI_OPT_SYSFS,
	CLI_OPT_HWLOC_XML,
	CLI_OPT_LIBVIRT_XML,
	CLI_OPT_LIBVIRT,
	CLI_OPT_XL,
	CLI_OPT_JSON,
	CLI_OPT_HOST,
	CLI_OPT_FIRST_FREE,
};

/* getopt_long entries for the source options, to put in a verb's table. */
#define CLI_SOURCE_OPTIONS                                              \
	{ "source", required_argument, NULL, CLI_OPT_SOURCE },          \
	{ "sysfs", required_argument, NULL, CLI_OPT_SYSFS },            \
	{ "hwloc-xml", required_argument, NULL, CLI_OPT_HWLOC_XML },    \
	{ "libvirt-xml", required_argument, NULL, CLI_OPT_LIBVIRT_XML },\
	{ "libvirt", required_argument, NULL, CLI_OPT_LIBVIRT },        \
	{ "xl", required_argument, NULL, CLI_OPT_XL },                  \
	{ "json", required_argument, NULL, CLI_OPT_JSON },              \
	{ "host", required_argument, NULL, CLI_OPT_HOST }

/* Help lines for those options, to put in a verb's usage text. */
#define CLI_SOURCE_HELP                                                        \
	"Host topology (default: this machine, through hwloc):\n"              \
	"  --host PATH          a file or sysfs root of any kind below, detected\n" \
	"  --sysfs DIR          a saved Linux sysfs/procfs root (hwloc-gather-topology)\n" \
	"  --hwloc-xml FILE     an hwloc XML export (lstopo --of xml)\n"       \
	"  --libvirt-xml FILE   libvirt capabilities XML (virsh capabilities)\n" \
	"  --libvirt URI        a live libvirt connection, e.g. qemu:///system\n" \
	"  --xl FILE            the output of `xl info -n`\n"                  \
	"  --json FILE          numaplace topology JSON (numaplace.topology/1)\n" \
	"  --source KIND[:ARG]  any of the above by name, or `local`\n"         \
	"  A FILE of - is read from standard input.\n"

/*
 * Handle OPT if it is a source option: 1 handled, 0 not a source option,
 * or -2 for a usage error (already printed).
 */
int cli_source_option(const char *verb, int opt, const char *arg,
		      struct cli_source *src);
/* Load the topology SRC names; on failure print and return the exit code. */
int cli_load_topology(const struct cli_source *src, np_topo **out);

#endif
