/*
 * opt.c - the option parser and help writer of opt.h.
 *
 * Design: a verb's table (groups included) is flattened once per parse;
 * getopt_long does the splitting (long names and their unique prefixes,
 * --name=value, short clusters, "--", operands moved after the options as
 * GNU does), with every long option's val the index of its entry + 256 so
 * that an answer maps back to its entry; everything else - typed values,
 * once-only options, operands, messages - is here, the same for every
 * verb.  Each option given is recorded in order (struct cli_seen), with
 * its typed value, and looked up by id afterwards.  An old name (CLI_OLD)
 * is recorded as the option it names, after a note.
 */
#include "opt.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define VAL_BASE 256 /* getopt_long val of entry I: VAL_BASE + I */
#define HELP_COL 20  /* "  -f, --format FMT    " the help text starts after */

static const struct cli_opt help_opt = CLI_OPT_HELP;

static void flatten(const struct cli_opt *t, struct cli_args *a)
{
	for (; t->type != CLI_END; t++) {
		if (t->type == CLI_GROUP)
			flatten(t->group, a);
		else if (t->type != CLI_NOTE && a->nopt < CLI_OPTS_MAX)
			a->opt[a->nopt++] = t;
	}
}

/* The option old name O stands for: the entry with its id that is not an old name. */
static const struct cli_opt *current(const struct cli_args *a, const struct cli_opt *o)
{
	for (int i = 0; i < a->nopt; i++)
		if (a->opt[i]->id == o->id && !(a->opt[i]->flags & CLI_OLD))
			return a->opt[i];
	return NULL;
}

/*
 * The invariants of a verb's flat table, asserted in debug builds (every
 * run of a verb, so every test, checks its table): each option has a name
 * and an id > 0, names, ids and letters are unique (an old name shares its
 * id with the one option it stands for, and is hidden), typed options have
 * what their type needs, and the table fits.
 */
#ifndef NDEBUG
static bool table_ok(const struct cli_args *a)
{
	for (int i = 0; i < a->nopt; i++) {
		const struct cli_opt *o = a->opt[i];
		bool old = o->flags & CLI_OLD;

		if (!o->name || o->id <= 0 || (o->type == CLI_CHOICE && !o->choice) ||
		    ((o->type == CLI_INT || o->type == CLI_REAL) && !(o->min <= o->max)) ||
		    (old && (o->help || !current(a, o) ||
			     (o->type == CLI_FLAG) != (current(a, o)->type == CLI_FLAG))))
			return false;
		for (int k = 0; k < i; k++)
			if ((a->opt[k]->id == o->id && !old && !(a->opt[k]->flags & CLI_OLD)) ||
			    strcmp(a->opt[k]->name, o->name) == 0 ||
			    (o->letter && a->opt[k]->letter == o->letter))
				return false;
	}
	return a->nopt < CLI_OPTS_MAX;
}
#endif

/* A's options: the verb's table, and --help when the table lacks it. */
static void options_of(const struct cli_verb *verb, struct cli_args *a)
{
	bool help = false;

	a->nopt = 0;
	flatten(verb->opts, a);
	for (int i = 0; i < a->nopt; i++)
		help |= a->opt[i]->id == CLI_ID_HELP;
	if (!help && a->nopt < CLI_OPTS_MAX)
		a->opt[a->nopt++] = &help_opt;
	assert(table_ok(a));
}

static const char *meta_of(const struct cli_opt *o)
{
	static const char *const by_type[] = {
		[CLI_TEXT] = "TEXT", [CLI_INT] = "N",	   [CLI_REAL] = "X",
		[CLI_CHOICE] = "WORD", [CLI_INPUT] = "FILE", [CLI_FILE] = "FILE",
		[CLI_OUTPUT] = "FILE", [CLI_DIR] = "DIR",
	};

	if (o->meta)
		return o->meta;
	return o->type < sizeof(by_type) / sizeof(by_type[0]) && by_type[o->type]
		       ? by_type[o->type]
		       : "VALUE";
}

/* getopt_long's tables for A's options. */
static void getopt_tables(const struct cli_args *a, bool stop_at_operand, struct option *lo,
			  char *shorts)
{
	size_t k = 0;

	if (stop_at_operand)
		shorts[k++] = '+';
	shorts[k++] = ':'; /* tell a missing value from an unknown option */
	for (int i = 0; i < a->nopt; i++) {
		const struct cli_opt *o = a->opt[i];
		bool value = o->type != CLI_FLAG;

		lo[i] = (struct option){ o->name, value ? required_argument : no_argument, NULL,
					 VAL_BASE + i };
		if (o->letter) {
			shorts[k++] = o->letter;
			if (value)
				shorts[k++] = ':';
		}
	}
	lo[a->nopt] = (struct option){ NULL, 0, NULL, 0 };
	shorts[k] = '\0';
}

static const struct cli_opt *by_letter(const struct cli_args *a, int c)
{
	for (int i = 0; i < a->nopt; i++)
		if (a->opt[i]->letter == c)
			return a->opt[i];
	return NULL;
}

/* The option named NAME (its first LEN bytes) is a prefix of how many? */
static int prefix_matches(const struct cli_args *a, const char *name, size_t len, char *list,
			  size_t size)
{
	int n = 0;
	size_t off = 0;

	list[0] = '\0';
	for (int i = 0; i < a->nopt; i++) {
		int w;

		if (strncmp(a->opt[i]->name, name, len) != 0)
			continue;
		w = snprintf(list + off, size - off, "%s--%s", n ? ", " : "", a->opt[i]->name);
		if (w > 0 && (size_t)w < size - off)
			off += (size_t)w;
		n++;
	}
	return n;
}

/* getopt_long answered '?': an unknown, ambiguous or value-less option. */
static int unknown(const struct cli_args *a, char **argv)
{
	const char *word = argv[optind - 1], *eq;
	char list[256];
	size_t len;

	if (optopt >= VAL_BASE)
		return cli_usage_error(a->verb, "option '--%s' takes no value",
				       a->opt[optopt - VAL_BASE]->name);
	if (optopt > 0)
		return cli_usage_error(a->verb, "unknown option '-%c'", optopt);
	eq = strchr(word, '=');
	len = eq ? (size_t)(eq - word) : strlen(word);
	if (len > 2 && strncmp(word, "--", 2) == 0 &&
	    prefix_matches(a, word + 2, len - 2, list, sizeof(list)) > 1)
		return cli_usage_error(a->verb, "option '%.*s' is ambiguous (%s)", (int)len, word,
				       list);
	return cli_usage_error(a->verb, "unknown option '%.*s'", (int)len, word);
}

static int missing(const struct cli_args *a)
{
	if (optopt >= VAL_BASE)
		return cli_usage_error(a->verb, "option '--%s' needs a value",
				       a->opt[optopt - VAL_BASE]->name);
	return cli_usage_error(a->verb, "option '-%c' needs a value", optopt);
}

/* "a number from 1 to 64", or the option's own words for its value. */
static int bad_number(const struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	if (o->flags & CLI_OLD) /* its .what is the new name; the range is the same */
		o = current(a, o);
	if (o->what)
		return cli_usage_error(a->verb, "--%s needs %s, not '%s'", o->name, o->what, arg);
	return cli_usage_error(a->verb, "--%s needs a number from %.15g to %.15g, not '%s'",
			       o->name, o->min, o->max, arg);
}

bool cli_decimal(const char *text, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!np_text_is_decimal(text, false))
		return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Check and convert the value of O into S. */
static int typed(const struct cli_args *a, const struct cli_opt *o, const char *arg,
		 struct cli_seen *s)
{
	int v;

	errno = 0;
	switch (o->type) {
	case CLI_INT:
		if (!cli_decimal(arg, LLONG_MIN, LLONG_MAX, &s->num) || (double)s->num < o->min ||
		    (double)s->num > o->max)
			return bad_number(a, o, arg);
		break;
	case CLI_REAL:
		s->real = np_text_is_decimal(arg, true) ? strtod(arg, NULL) : NAN;
		if (errno || !(s->real >= o->min && s->real <= o->max))
			return bad_number(a, o, arg);
		break;
	case CLI_CHOICE:
		if (o->choice->from_name(arg, &v))
			return cli_usage_error(a->verb, "unknown %s '%s' (%s)", o->choice->what, arg,
					       o->choice->names);
		s->num = v;
		break;
	case CLI_FILE:
		if (strcmp(arg, "-") == 0)
			return cli_usage_error(a->verb, "--%s needs a file, not standard input",
					       o->name);
		break;
	default:
		break;
	}
	return CLI_CONTINUE;
}

/* O is an old name, given as LETTER (0: by its long name): say what to use. */
static void old_name(const struct cli_args *a, const struct cli_opt *o, int letter)
{
	const struct cli_opt *now = current(a, o);
	char given[80];

	if (letter)
		snprintf(given, sizeof(given), "-%c", letter);
	else
		snprintf(given, sizeof(given), "--%s", o->name);
	fprintf(stderr, "numaplace: warning: %s is an old name, use %s%s; it goes in the next "
		"release\n", given, o->what ? "" : "--", o->what ? o->what : now->name);
}

static int record(struct cli_args *a, const struct cli_opt *o, const char *arg, int letter)
{
	struct cli_seen *s = &a->seen[a->nseen];
	const struct cli_opt *as = o->flags & CLI_OLD ? current(a, o) : o;
	int rc;

	if (!(as->flags & CLI_REPEAT) && cli_given(a, as->id))
		return cli_usage_error(a->verb, "give --%s only once", as->name);
	if (a->nseen == CLI_SEEN_MAX)
		return cli_usage_error(a->verb, "more than %d options", CLI_SEEN_MAX);
	*s = (struct cli_seen){ .opt = o, .text = arg };
	/* An old name's value is read in its own words (--fallback nearest), then filed under the new. */
	if (arg && (rc = typed(a, o, arg, s)) != CLI_CONTINUE)
		return rc;
	if (o != as)
		old_name(a, o, letter);
	s->opt = as;
	a->nseen++;
	return CLI_CONTINUE;
}

/* What is left after the options: operands, or "-- COMMAND". */
static int operands(struct cli_args *a, int argc, char **argv)
{
	const struct cli_verb *v = a->verb;

	if (v->command) {
		if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
			return cli_usage_error(v, "unexpected argument '%s' (a command goes after --)",
					       argv[optind]);
		a->command = optind < argc ? argv + optind : NULL;
		return CLI_CONTINUE;
	}
	if (argc - optind > v->max_args)
		return cli_usage_error(v, "unexpected argument '%s'", argv[optind + v->max_args]);
	a->args = argv + optind;
	a->nargs = argc - optind;
	return CLI_CONTINUE;
}

int cli_parse(const struct cli_verb *verb, int argc, char **argv, struct cli_args *a)
{
	struct option lo[CLI_OPTS_MAX + 1];
	char shorts[3 + 2 * CLI_OPTS_MAX];
	int c, rc;

	memset(a, 0, sizeof(*a));
	a->verb = verb;
	options_of(verb, a);
	getopt_tables(a, verb->command, lo, shorts);
	opterr = 0;
	optind = 0; /* GNU: start afresh, whatever was parsed before */
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const struct cli_opt *o;

		if (c == '?')
			return unknown(a, argv);
		if (c == ':')
			return missing(a);
		o = c >= VAL_BASE ? a->opt[c - VAL_BASE] : by_letter(a, c);
		if (!o)
			return cli_usage_error(verb, "unknown option '-%c'", c);
		if (o->id == CLI_ID_HELP) {
			cli_print_help(verb, stdout);
			return CLI_OK;
		}
		if ((rc = record(a, o, o->type == CLI_FLAG ? NULL : optarg,
				 c >= VAL_BASE ? 0 : c)) != CLI_CONTINUE)
			return rc;
	}
	return operands(a, argc, argv);
}

/* ---- looking values up ---- */

static const struct cli_seen *last(const struct cli_args *a, int id)
{
	for (int i = a->nseen - 1; i >= 0; i--)
		if (a->seen[i].opt->id == id)
			return &a->seen[i];
	return NULL;
}

bool cli_given(const struct cli_args *a, int id)
{
	return last(a, id) != NULL;
}

const char *cli_text(const struct cli_args *a, int id)
{
	const struct cli_seen *s = last(a, id);

	return s ? s->text : NULL;
}

long long cli_num(const struct cli_args *a, int id, long long dflt)
{
	const struct cli_seen *s = last(a, id);

	return s ? s->num : dflt;
}

double cli_real(const struct cli_args *a, int id, double dflt)
{
	const struct cli_seen *s = last(a, id);

	return s ? s->real : dflt;
}

int cli_count(const struct cli_args *a, int id)
{
	int n = 0;

	for (int i = 0; i < a->nseen; i++)
		n += a->seen[i].opt->id == id;
	return n;
}

const char *cli_nth(const struct cli_args *a, int id, int k)
{
	for (int i = 0; i < a->nseen; i++)
		if (a->seen[i].opt->id == id && k-- == 0)
			return a->seen[i].text;
	return NULL;
}

const struct cli_opt *cli_opt_of(const struct cli_args *a, int id)
{
	for (int i = 0; i < a->nopt; i++)
		if (a->opt[i]->id == id)
			return a->opt[i];
	return NULL;
}

/* ---- help ---- */

/* TEXT's lines, the first after what is already on the line, the others at INDENT. */
static void lines(FILE *out, const char *text, int indent)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);

		if (p != text)
			fprintf(out, "%*s", indent, "");
		fprintf(out, "%.*s\n", n, p);
		p += n + (nl != NULL);
	}
}

static void print_option(FILE *out, const struct cli_opt *o)
{
	bool value = o->type != CLI_FLAG;
	char left[96];
	int n = o->letter ? snprintf(left, sizeof(left), "-%c, ", o->letter) : 0;

	snprintf(left + n, sizeof(left) - (size_t)n, "--%s%s%s", o->name, value ? " " : "",
		 value ? meta_of(o) : "");
	if (strlen(left) <= HELP_COL)
		fprintf(out, "  %-*s ", HELP_COL, left);
	else
		fprintf(out, "  %s\n%*s", left, HELP_COL + 3, "");
	lines(out, o->help, HELP_COL + 3);
}

static void print_entries(FILE *out, const struct cli_opt *t, bool *first, bool *has_help)
{
	for (; t->type != CLI_END; t++) {
		if (t->type == CLI_GROUP) {
			print_entries(out, t->group, first, has_help);
			continue;
		}
		if (t->heading)
			fprintf(out, "\n%s\n", t->heading);
		else if (*first)
			fputc('\n', out);
		*first = false;
		*has_help |= t->id == CLI_ID_HELP && t->type != CLI_NOTE;
		if (t->type == CLI_NOTE && t->help) {
			fputs("  ", out);
			lines(out, t->help, 2);
		} else if (t->type != CLI_NOTE && t->help) {
			print_option(out, t);
		}
	}
}

void cli_print_help(const struct cli_verb *verb, FILE *out)
{
	bool first = true, has_help = false;

	fputs(verb->synopsis, out);
	if (verb->about)
		fprintf(out, "\n%s", verb->about);
	print_entries(out, verb->opts, &first, &has_help);
	if (!has_help)
		print_option(out, &help_opt);
	if (verb->epilog)
		fprintf(out, "\n%s", verb->epilog);
}

void cli_print_options(const struct cli_verb *verb, FILE *out)
{
	static const char *const types[] = {
		[CLI_FLAG] = "flag",   [CLI_TEXT] = "text",   [CLI_INT] = "int",
		[CLI_REAL] = "real",   [CLI_CHOICE] = "choice", [CLI_INPUT] = "input",
		[CLI_FILE] = "file",   [CLI_OUTPUT] = "output", [CLI_DIR] = "dir",
	};
	struct cli_args a;

	a.verb = verb;
	options_of(verb, &a);
	for (int i = 0; i < a.nopt; i++) {
		const struct cli_opt *o = a.opt[i];

		if (!o->help)
			continue;
		fprintf(out, "--%s %c %s %s", o->name, o->letter ? o->letter : '-',
			types[o->type], o->flags & CLI_REPEAT ? "repeat" : "once");
		/* A choice's words, for completion: "text, json" as "text,json". */
		if (o->type == CLI_CHOICE) {
			fputc(' ', out);
			for (const char *c = o->choice->names; *c; c++)
				if (*c != ' ')
					fputc(*c, out);
		}
		fputc('\n', out);
	}
}
