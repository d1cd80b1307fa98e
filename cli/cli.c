/*
 * cli.c - exit codes, messages, and the one way the verbs read an input
 * file and open an output.
 *
 * Every file a verb reads itself goes through cli_read_file(), which is
 * the library's reader (np_read_file): "-" is standard input, anything but
 * a regular file is refused at once with one line naming it, and inputs
 * are capped at NP_FILE_MAX.  Outputs: "-" is standard output; a file is
 * never written through a link (cli_open_output()).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

void cli_error(const char *fmt, ...)
{
	char msg[2048], shown[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "numaplace: %s\n", np_text_shown(msg, shown, sizeof(shown)));
}

int cli_fail(const struct np_error *err)
{
	cli_error("%s", err->message[0] ? err->message : np_strerror(err->code));
	return cli_exit_code(err->code);
}

int cli_oom(void)
{
	fputs("numaplace: out of memory\n", stderr);
	return CLI_FAILED;
}

int cli_usage_error(const struct cli_verb *verb, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_error("%s", msg);
	if (verb)
		fprintf(stderr, "try 'numaplace %s --help'\n", verb->name);
	else
		fputs("try 'numaplace help'\n", stderr);
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

void cli_request_warnings(const np_request *req)
{
	char shown[400];

	for (int i = 0; i < np_request_warning_count(req); i++)
		fprintf(stderr, "numaplace: warning: %s\n",
			np_text_shown(np_request_warning(req, i), shown, sizeof(shown)));
}

/*
 * Outputs are never written through a link.  A new file is created
 * exclusively (O_EXCL, O_NOFOLLOW) with mode 0644 less the umask, never
 * 0666.  An existing regular file ("w") is replaced on close by a new one
 * renamed over it, so neither the file its other hard links share nor one
 * a link planted meanwhile points to is written, and a failed run leaves
 * it as it was; appending ("a", --log) goes only to a regular file with no
 * other hard link.  A symbolic link is refused.  A terminal, /dev/null or a
 * FIFO someone reads is written as it is; a FIFO nobody reads is refused,
 * never waited on.
 */
struct out_tmp {
	FILE *f;
	char *tmp;
};
static struct out_tmp out_tmps[4];

static int out_fail(const char *path, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int out_fail(const char *path, int code, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	cli_error("cannot write '%s': %s", path, why);
	return code;
}

/* A regular file PATH replaced on close: a new file beside it, mode as the old one. */
static int out_replace(const char *path, const struct stat *old, FILE **out)
{
	size_t n = strlen(path) + sizeof(".tmp-XXXXXX");
	char *tmp = malloc(n);
	size_t slot = 0;
	int fd;

	while (slot < sizeof(out_tmps) / sizeof(out_tmps[0]) && out_tmps[slot].f)
		slot++;
	if (!tmp || slot == sizeof(out_tmps) / sizeof(out_tmps[0])) {
		free(tmp);
		return cli_oom();
	}
	snprintf(tmp, n, "%s.tmp-XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || fchmod(fd, old->st_mode & 0777) < 0 || !(*out = fdopen(fd, "w"))) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return out_fail(path, CLI_FAILED, "%s", strerror(e));
	}
	out_tmps[slot] = (struct out_tmp){ *out, tmp };
	return CLI_OK;
}

/* An existing PATH of kind ST: what may be written there, and how. */
static int out_existing(const char *path, bool append, FILE **out)
{
	struct stat st, now;
	int fd;

	if (lstat(path, &st) < 0)
		return out_fail(path, CLI_FAILED, "%s", strerror(errno));
	if (S_ISLNK(st.st_mode))
		return out_fail(path, CLI_BAD_INPUT, "a symbolic link (numaplace never writes "
				"through one; give the file itself)");
	if (S_ISDIR(st.st_mode))
		return out_fail(path, CLI_FAILED, "%s", strerror(EISDIR));
	if (S_ISBLK(st.st_mode))
		return out_fail(path, CLI_BAD_INPUT, "a block device");
	if (S_ISREG(st.st_mode) && !append)
		return out_replace(path, &st, out);
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (append ? O_APPEND : 0));
	if (fd < 0 && errno == ENXIO)
		return out_fail(path, CLI_BAD_INPUT, "%s with no reader",
				S_ISFIFO(st.st_mode) ? "a FIFO" : "a socket");
	if (fd < 0)
		return out_fail(path, errno == ELOOP ? CLI_BAD_INPUT : CLI_FAILED, "%s",
				errno == ELOOP ? "a symbolic link" : strerror(errno));
	if (fstat(fd, &now) < 0 || (now.st_mode & S_IFMT) != (st.st_mode & S_IFMT) ||
	    (S_ISREG(now.st_mode) && now.st_nlink != 1)) {
		close(fd);
		return out_fail(path, CLI_BAD_INPUT, "a file with other hard links, or one that "
				"changed while it was opened");
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    !(*out = fdopen(fd, append ? "a" : "w"))) {
		close(fd);
		return out_fail(path, CLI_FAILED, "%s", strerror(errno));
	}
	return CLI_OK;
}

int cli_open_output(const char *path, const char *mode, FILE **out)
{
	bool append = mode[0] == 'a';
	int fd;

	if (!path || strcmp(path, "-") == 0) {
		*out = stdout;
		return CLI_OK;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : 0),
		  0644);
	if (fd < 0 && errno == EEXIST)
		return out_existing(path, append, out);
	if (fd < 0)
		return out_fail(path, CLI_FAILED, "%s", strerror(errno));
	if (!(*out = fdopen(fd, append ? "a" : "w"))) {
		close(fd);
		return out_fail(path, CLI_FAILED, "%s", strerror(errno));
	}
	return CLI_OK;
}

int cli_close_output(const char *path, FILE *out, int rc)
{
	bool failed = out == stdout ? fflush(out) != 0 : fclose(out) != 0;
	int e = errno;

	for (size_t i = 0; out != stdout && i < sizeof(out_tmps) / sizeof(out_tmps[0]); i++) {
		if (out_tmps[i].f != out)
			continue;
		/* The new file takes the old one's place only when it is whole. */
		if (rc == CLI_OK && !failed && rename(out_tmps[i].tmp, path) < 0) {
			failed = true;
			e = errno;
		}
		if (rc != CLI_OK || failed)
			unlink(out_tmps[i].tmp);
		free(out_tmps[i].tmp);
		out_tmps[i] = (struct out_tmp){ 0 };
	}
	if (failed && rc == CLI_OK) {
		cli_error("cannot write '%s': %s",
			  path && strcmp(path, "-") ? path : "standard output", strerror(e));
		return CLI_FAILED;
	}
	return rc;
}
