/*
 * cli.h - what the verbs of the numaplace tool share: the verb record and
 * the command table, exit codes, error and usage messages, the one way to
 * read an input file and to open an output, and the topology source
 * options.
 *
 * A verb is one struct cli_verb in its cmd-<verb>.c, listed in main.c's
 * table; main.c parses the command line by the verb's option table (opt.h)
 * and calls run() with the record and what was parsed, so a verb's name,
 * help and options come from one place and no verb parses for itself.  The tool uses only the
 * public API (include/numaplace/).  Exit codes: 0 ok, 1 no placement /
 * operation failed (out of memory included), 2 bad input or usage, 3
 * unsupported here.
 */
#ifndef NP_CLI_H
#define NP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <numaplace/numaplace.h>

#include "opt.h"

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_BAD_INPUT = 2, CLI_UNSUPPORTED = 3 };

struct cli_verb {
	const char *name;     /* as typed: numaplace NAME */
	const char *summary;  /* one line for `numaplace help` */
	const char *synopsis; /* "usage: numaplace NAME ...\n", one or more lines */
	const char *about;    /* what it does, after the synopsis */
	const struct cli_opt *opts;
	const char *epilog;   /* after the options: exit codes, examples */
	int max_args;         /* operands it takes after the options */
	bool command;         /* takes "-- COMMAND [ARGS...]" */
	/* Called with the options parsed (main.c); returns the exit code. */
	int (*run)(const struct cli_verb *verb, const struct cli_args *a);
};

/* The verbs, each in its cmd-<verb>.c; main.c lists them. */
extern const struct cli_verb cli_verb_topology, cli_verb_place, cli_verb_claim,
	cli_verb_release, cli_verb_state, cli_verb_fleet, cli_verb_schedule,
	cli_verb_observe, cli_verb_apply,
	cli_verb_balance, cli_verb_watch, cli_verb_simulate, cli_verb_gen, cli_verb_serve,
	cli_verb_agent;

/* The verb called NAME, or NULL. */
const struct cli_verb *cli_find_verb(const char *name);

/* Exit code for a library error code. */
int cli_exit_code(int np_code);
/*
 * Print "numaplace: <message>" as one line: a newline, another control
 * byte or broken UTF-8 in what the message quotes (a path, an argument)
 * shows as \xNN (np_text_shown()), so that it never starts a line or
 * reaches a terminal as an escape sequence.  Every error the verbs print
 * goes through it.
 */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "numaplace: <message>" (cli_error()) and return the exit code for ERR. */
int cli_fail(const struct np_error *err);
/* Print REQ's warnings (np_request_warning()), "numaplace: warning: ..." each, on stderr. */
void cli_request_warnings(const np_request *req);
/* Print "numaplace: out of memory" and return 1. */
int cli_oom(void);
/*
 * Print "numaplace: <message>" and "try 'numaplace VERB --help'" (VERB
 * NULL: "try 'numaplace help'"); return 2.
 */
int cli_usage_error(const struct cli_verb *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Read the input PATH whole ("-": standard input) through the library's
 * one reader (numaplace/util.h): a FIFO, device or directory is refused at
 * once.  On failure print the message and return the exit code.
 */
int cli_read_file(const char *path, char **buf, size_t *len);
/* PATH as parsers should name it in messages: "<stdin>" for "-". */
const char *cli_input_name(const char *path);
/*
 * Open the output PATH to write ("w", replacing what is there on close)
 * or append ("a"); "-" or NULL is standard output.  Never through a link:
 * a symbolic link, a hard-linked file to append to, a FIFO nobody reads or
 * a block device is refused (2); a new file gets mode 0644 less the umask.
 * On failure print and return the exit code (2, or 1 for the system's
 * errors).
 */
int cli_open_output(const char *path, const char *mode, FILE **out);
/* Close OUT from cli_open_output(); a write error turns RC into 1. */
int cli_close_output(const char *path, FILE *out, int rc);

/* Where a verb reads its host topology from. */
struct cli_source {
	enum np_source_kind kind;
	const char *arg; /* path, URI, "-" for standard input, or NULL */
	bool given;
};

/* Ids of the source options (cli_source_opts), as verbs' own are 1..899. */
enum {
	CLI_OPT_SOURCE = 1000,
	CLI_OPT_SYSFS,
	CLI_OPT_HWLOC_XML,
	CLI_OPT_LIBVIRT_XML,
	CLI_OPT_LIBVIRT,
	CLI_OPT_XL,
	CLI_OPT_JSON,
	CLI_OPT_HOST,
	CLI_OPT_SOURCE_LAST = CLI_OPT_HOST,
};

/* The source options, with a note that FILE may be "-". */
extern const struct cli_opt cli_source_opts[];
/* Them, under the usual heading. */
#define CLI_SOURCE_SECTION(title)                   \
	{ .type = CLI_NOTE, .heading = (title) },   \
	CLI_INCLUDE(cli_source_opts)
#define CLI_SOURCE_HEADING "Host topology (default: this machine, through hwloc):"

/*
 * The source the options in A give (SKIP_LIBVIRT: --libvirt is not one,
 * the verb takes it for something else).  0, or a usage error's exit code
 * (printed).
 */
int cli_source_get(const struct cli_args *a, bool skip_libvirt, struct cli_source *src);
/* Load the topology SRC names; on failure print and return the exit code. */
int cli_load_topology(const struct cli_source *src, np_topo **out);

/*
 * The claims of ST as plans on HOST's topology, for np_usage_write(): 0,
 * or the exit code (printed).  Free *OUT with cli_usage_claims_free(),
 * N the state's claim count, whatever the result (cmd-state.c).
 */
int cli_usage_claims(const np_state *st, const np_host *host, struct np_usage_claim **out);
void cli_usage_claims_free(struct np_usage_claim *c, int n);

/* Words for the library's enums, in names.c: the one place to change. */
extern const struct cli_choice cli_choice_topo_format, cli_choice_plan_format,
	cli_choice_obs_format, cli_choice_sim_format, cli_choice_text_json, cli_choice_state_format,
	cli_choice_strategy, cli_choice_mem_policy, cli_choice_affinity,
	cli_choice_fallback, cli_choice_memory_basis, cli_choice_pci_policy;

#endif
