/*
 * cli.c - exit codes, messages, and the one way the verbs read an input
 * file and open an output.
 *
 * Every file a verb reads itself goes through cli_read_file(), which is
 * the library's reader (np_read_file): "-" is standard input, anything but
 * a regular file is refused at once with one line naming it, and inputs
 * are capped at NP_FILE_MAX.  Outputs: "-" is standard output.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_exit_code(int np_code)
{
	switch (np_code) {
	case NP_OK: return CLI_OK;
	case NP_EINPUT:
	case NP_EIO: return CLI_BAD_INPUT;
	case NP_EUNSUPPORTED: return CLI_UNSUPPORTED;
	default: return CLI_FAILED;
	}
}

int cli_fail(const struct np_error *err)
{
	fprintf(stderr, "numaplace: %s\n", err->message[0] ? err->message
							   : np_strerror(err->code));
	return cli_exit_code(err->code);
}

int cli_oom(void)
{
	fputs("numaplace: out of memory\n", stderr);
	return CLI_FAILED;
}

int cli_usage_error(const struct cli_verb *verb, const char *fmt, ...)
{
	va_list ap;

	fputs("numaplace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (verb)
		fprintf(stderr, "\ntry 'numaplace %s --help'\n", verb->name);
	else
		fputs("\ntry 'numaplace help'\n", stderr);
	return CLI_BAD_INPUT;
}

int cli_read_file(const char *path, char **buf, size_t *len)
{
	struct np_error err = { 0 };

	if (np_read_file(path, NP_FILE_MAX, buf, len, &err))
		return cli_fail(&err);
	return CLI_OK;
}

const char *cli_input_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

int cli_open_output(const char *path, const char *mode, FILE **out)
{
	if (!path || strcmp(path, "-") == 0) {
		*out = stdout;
		return CLI_OK;
	}
	*out = fopen(path, mode);
	if (!*out) {
		fprintf(stderr, "numaplace: cannot write '%s': %s\n", path, strerror(errno));
		return CLI_FAILED;
	}
	return CLI_OK;
}

int cli_close_output(const char *path, FILE *out, int rc)
{
	bool failed = out == stdout ? fflush(out) != 0 : fclose(out) != 0;

	if (failed && rc == CLI_OK) {
		fprintf(stderr, "numaplace: cannot write '%s': %s\n",
			path && strcmp(path, "-") ? path : "standard output", strerror(errno));
		return CLI_FAILED;
	}
	return rc;
}
