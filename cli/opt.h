/*
 * opt.h - the one option parser of the numaplace tool, driven by tables.
 *
 * A verb declares its options in an array of struct cli_opt (ended by
 * CLI_OPT_END) and its operands in its struct cli_verb (cli.h); cli_parse()
 * does the rest the same way for every verb: long and short names, values
 * typed and checked (numbers in a range, choices by name, paths), an
 * unknown option, a missing value, an option given twice, unexpected
 * operands, --help/-h.  A usage error prints
 *   numaplace: <what was wrong>
 *   try 'numaplace VERB --help'
 * and gives exit code 2.  The help text is made from the same table
 * (cli_print_help), so the two cannot drift apart.
 *
 * Groups of options several verbs share (the topology sources, the guest
 * of place and claim, the runtime target) are tables of their own, put in
 * a verb's table with CLI_INCLUDE(table).
 *
 * A verb's table, in short:
 *
 *   enum { OPT_FORMAT = 1, OPT_COUNT };
 *   static const struct cli_opt opts[] = {
 *       CLI_INCLUDE(cli_source_opts),
 *       { .id = OPT_FORMAT, .name = "format", .letter = 'f', .type = CLI_CHOICE,
 *         .choice = &cli_choice_topo_format, .help = "text (default), json, svg",
 *         .heading = "Output:" },
 *       { .id = OPT_COUNT, .name = "count", .type = CLI_INT, .min = 1, .max = 100,
 *         .meta = "N", .help = "stop after N rounds" },
 *       CLI_OPT_HELP,
 *       CLI_OPT_END,
 *   };
 *   ...
 *   static int run(const struct cli_verb *verb, const struct cli_args *a)
 *   {
 *       long count = cli_num(a, OPT_COUNT, 10);  (main.c parsed already)
 *       ...
 *
 * Ownership: values point into argv; a struct cli_args lives on main()'s
 * stack and needs no freeing.  Not thread-safe (getopt_long).
 */
#ifndef NP_CLI_OPT_H
#define NP_CLI_OPT_H

#include <stdbool.h>
#include <stdio.h>

struct cli_verb;

enum cli_type {
	CLI_END = 0, /* ends a table */
	CLI_FLAG,    /* no value */
	CLI_TEXT,    /* any text */
	CLI_INT,     /* a whole decimal number in [min, max] */
	CLI_REAL,    /* a decimal number in [min, max] */
	CLI_CHOICE,  /* one of the names of .choice */
	CLI_INPUT,   /* a file read through cli_read_file(); - is standard input */
	CLI_FILE,    /* a file the library opens by name (read or replaced): no - */
	CLI_OUTPUT,  /* a file written through cli_open_output(); - is standard output */
	CLI_DIR,     /* a directory */
	CLI_NOTE,    /* not an option: .help is a line of the help text */
	CLI_GROUP,   /* not an option: the options of .group go here */
};

/* Words naming the values of a library enum (names.c keeps them all). */
struct cli_choice {
	const char *what;  /* "format", for "unknown format 'x' (text, json)" */
	const char *names; /* "text, json": every accepted word, for messages */
	/* The value WORD names into *VALUE: 0, or -1 when it names none. */
	int (*from_name)(const char *word, int *value);
};

#define CLI_REPEAT 1u /* may be given more than once (cli_count, cli_nth) */
/*
 * An old name of the option with the same id, kept for one release: hidden
 * from help, its value read by its own type and choice, then recorded as
 * the option it names, with a one-line note on standard error ("numaplace:
 * warning: --policy is an old name, use --mem-policy; it goes in the next
 * release"; .what, when set, is what to use instead).
 */
#define CLI_OLD 2u

struct cli_opt {
	int id;            /* the verb's name for it, > 0, unique in the verb */
	const char *name;  /* the long name without "--" */
	char letter;       /* the short name, or 0 */
	enum cli_type type;
	unsigned flags;    /* CLI_REPEAT */
	const char *meta;  /* the value in help ("FILE"); NULL: from the type */
	/* Help: lines separated by \n; NULL hides the option from help. */
	const char *help;
	const char *heading; /* starts a section of the help, before this entry */
	double min, max;     /* CLI_INT, CLI_REAL */
	const char *what;    /* CLI_INT, CLI_REAL: "a process id" in "--pid needs a
			      * process id, not 'x'"; NULL: "a number from MIN to MAX".
			      * CLI_OLD: what to use instead ("--mem-policy preferred|strict") */
	const struct cli_choice *choice; /* CLI_CHOICE */
	const struct cli_opt *group;     /* CLI_GROUP */
};

/* Ids 1..899 are a verb's own; shared groups use the ranges in their headers. */
enum { CLI_ID_HELP = 900 };

#define CLI_OPT_END { .type = CLI_END }
#define CLI_INCLUDE(table) { .type = CLI_GROUP, .group = (table) }
#define CLI_OPT_HELP                                                        \
	{ .id = CLI_ID_HELP, .name = "help", .letter = 'h', .type = CLI_FLAG, \
	  .help = "this text" }

enum {
	CLI_OPTS_MAX = 64,  /* options of one verb, groups included */
	CLI_SEEN_MAX = 256, /* options on one command line */
	CLI_CONTINUE = -1,  /* cli_parse: go on (anything else is an exit code) */
};

/* What cli_parse() found, in command-line order. */
struct cli_args {
	const struct cli_verb *verb;
	const struct cli_opt *opt[CLI_OPTS_MAX]; /* the verb's options, flat */
	int nopt;
	struct cli_seen {
		const struct cli_opt *opt;
		const char *text; /* the value as given; NULL for a flag */
		long long num;    /* CLI_INT, CLI_CHOICE */
		double real;      /* CLI_REAL */
	} seen[CLI_SEEN_MAX];
	int nseen;
	char **args; /* the operands */
	int nargs;
	char **command; /* after "--", for a verb with .command; else NULL */
};

/*
 * Parse ARGV (ARGV[0] is the verb's name) by VERB's table.  CLI_CONTINUE
 * when the verb should go on; else the exit code to return at once: 0
 * after --help (printed), 2 after a usage error (printed).
 */
int cli_parse(const struct cli_verb *verb, int argc, char **argv, struct cli_args *a);

/*
 * TEXT as a whole decimal number in [MIN, MAX] into *OUT: true, or false
 * for anything else - white space, hex, a sign alone, trailing text, out
 * of range.  Every integer the tool reads goes through this (CLI_INT
 * options, and numbers inside a text option: "pid:N", "ID=PID").
 */
bool cli_decimal(const char *text, long long min, long long max, long long *out);

/* Was option ID given? */
bool cli_given(const struct cli_args *a, int id);
/* The value of option ID as given (the last one), or NULL. */
const char *cli_text(const struct cli_args *a, int id);
/* The number (CLI_INT) or choice value (CLI_CHOICE) of ID, or DFLT. */
long long cli_num(const struct cli_args *a, int id, long long dflt);
/* The number of ID (CLI_REAL), or DFLT. */
double cli_real(const struct cli_args *a, int id, double dflt);
/* How many times ID was given, and its Ith value (CLI_REPEAT options). */
int cli_count(const struct cli_args *a, int id);
const char *cli_nth(const struct cli_args *a, int id, int i);
/* The entry of option ID in A's table (for messages: "--" + name). */
const struct cli_opt *cli_opt_of(const struct cli_args *a, int id);

/* VERB's whole help text, options made from its table. */
void cli_print_help(const struct cli_verb *verb, FILE *out);
/*
 * VERB's options, one a line: "--name LETTER TYPE COUNT" (LETTER "-" when
 * none; TYPE flag, text, int, real, choice, input, file, output, dir;
 * COUNT once or repeat), a choice followed by its words ("text,json"),
 * hidden ones left out: for tests and shell completion
 * (contrib/bash-completion/numaplace).
 */
void cli_print_options(const struct cli_verb *verb, FILE *out);

#endif
