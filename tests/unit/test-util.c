/*
 * test-util.c - cpulist/cpumap parsing and formatting, strict integers,
 * whole-file reading, text written into memory (np_memout): the helpers
 * every text source leans on; and the library's version.
 *
 * The reader is checked on what must never hang or fill memory: a FIFO
 * nobody writes to, a symbolic link to one, /dev/zero, a directory; an
 * alarm turns a regression (a blocking open) into a failure, not a hang.
 */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <numaplace/util.h>

#include <numaplace/version.h>

#include <jansson.h>

#include "check.h"
#include "util/json-util.h"
#include "util/util.h"

/* np__read_file(PATH) is refused with NP_EIO and a message holding WANT. */
static void refused(const char *path, const char *want)
{
	struct np_error err = { 0 };
	char *buf = NULL;
	size_t len = 0;
	int rc = np__read_file(path, 1 << 20, &buf, &len, &err);

	CHECK(rc == NP_EIO && strstr(err.message, want) && strstr(err.message, path) && !buf,
	      "%s: rc %d '%s', want NP_EIO '...%s'", path, rc, err.message, want);
}

static void test_special_files(void)
{
	char dir[] = "/tmp/np-util-XXXXXX", fifo[64], link[64], reg[64];
	struct np_error err = { 0 };
	char *buf = NULL, cmd[96];
	size_t len = 0;
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(reg, sizeof(reg), "%s/reg", dir);
	CHECK(mkfifo(fifo, 0600) == 0 && symlink("fifo", link) == 0, "make a FIFO and a link");
	alarm(20);
	refused(fifo, "not a regular file (a FIFO)");
	refused(link, "not a regular file (a FIFO)");
	refused("/dev/zero", "not a regular file (a character device)");
	refused(dir, "not a regular file (a directory)");
	alarm(0);
	if ((f = fopen(reg, "w"))) {
		fputs("0-3\n", f);
		fclose(f);
	}
	CHECK(np_read_file(reg, 0, &buf, &len, &err) == 0 && len == 4 && strcmp(buf, "0-3\n") == 0,
	      "np_read_file a regular file: %s", err.message);
	free(buf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* np_read_trusted(PATH) with FLAGS: 0 and the bytes, or NP_EINPUT with WANT in one line. */
static void trusted(const char *path, unsigned flags, const char *want)
{
	struct np_error err = { 0 };
	char *buf = NULL;
	size_t len = 0;
	int rc = np_read_trusted(path, "token file", 0, flags, &buf, &len, &err);

	if (!want)
		CHECK(rc == 0 && buf && len == 6 && strcmp(buf, "token\n") == 0,
		      "%s (flags %u): rc %d '%s', want it read", path, flags, rc, err.message);
	else
		CHECK(rc == NP_EINPUT && !buf && strstr(err.message, want) &&
			      strstr(err.message, path) && !strchr(err.message, '\n'),
		      "%s (flags %u): rc %d '%s', want NP_EINPUT '...%s'", path, flags, rc,
		      err.message, want);
	free(buf);
}

/*
 * What a service may trust: its own or root's regular file that no one
 * else may write (and, for a secret, read); judged on the opened file.
 */
static void test_read_trusted(void)
{
	char dir[] = "/tmp/np-trust-XXXXXX", reg[64], link[64], fifo[64], cmd[96];
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(reg, sizeof(reg), "%s/token", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	if ((f = fopen(reg, "w"))) {
		fputs("token\n", f);
		fclose(f);
	}
	CHECK(symlink("token", link) == 0 && mkfifo(fifo, 0600) == 0, "make a link and a FIFO");
	CHECK(chmod(reg, 0600) == 0, "chmod 0600");
	trusted(reg, NP_READ_SECRET, NULL);
	CHECK(chmod(reg, 0400) == 0, "chmod 0400");
	trusted(reg, NP_READ_SECRET, NULL);
	CHECK(chmod(reg, 0440) == 0, "chmod 0440");
	trusted(reg, NP_READ_SECRET, NULL); /* how a systemd credential's ACL mask reads */
	CHECK(chmod(reg, 0604) == 0, "chmod 0604");
	trusted(reg, NP_READ_SECRET, "readable by others (mode 0604");
	trusted(reg, 0, NULL); /* a configuration file may be read by all */
	CHECK(chmod(reg, 0620) == 0, "chmod 0620");
	trusted(reg, 0, "writable by others (mode 0620)");
	CHECK(chmod(reg, 0602) == 0, "chmod 0602");
	trusted(reg, 0, "writable by others (mode 0602)");
	CHECK(chmod(reg, 0600) == 0, "chmod 0600 again");
	trusted(link, 0, "a symbolic link");
	alarm(20);
	trusted(fifo, 0, "not a regular file (a FIFO)");
	alarm(0);
	trusted("/nonexistent/token", 0, "no such file");
	/* Another user's file: only root can make one here. */
	if (geteuid() == 0 && chown(reg, 65534, 65534) == 0)
		trusted(reg, 0, "owned by uid 65534");
	else
		printf("# not root: another user's file not tried\n");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* np_read_file("-") reads standard input, a pipe, to its end. */
static void test_stdin(void)
{
	struct np_error err = { 0 };
	int fds[2], saved = dup(STDIN_FILENO);
	char *buf = NULL;
	size_t len = 0;

	if (saved < 0 || pipe(fds) < 0) {
		CHECK(0, "pipe");
		return;
	}
	CHECK(write(fds[1], "{\"a\": 1}", 8) == 8, "write the pipe");
	close(fds[1]);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	CHECK(np_read_file("-", 0, &buf, &len, &err) == 0 && len == 8 && buf[8] == '\0',
	      "np_read_file(-) from a pipe: %s", err.message);
	free(buf);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

static void test_public_cpulist(void)
{
	struct np_error err = { 0 };
	int *ids = NULL, n = 0;
	char text[32];

	CHECK(np_cpulist_parse("3,0-1\n", 64, &ids, &n, &err) == 0 && n == 3 &&
		      strcmp(np_cpulist_format(ids, n, text, sizeof(text)), "0-1,3") == 0,
	      "np_cpulist_parse/format: %s", err.message);
	free(ids);
	ids = NULL;
	CHECK(np_cpulist_parse("0-65", 64, &ids, &n, &err) == NP_EINPUT && !ids &&
		      strstr(err.message, "bad list '0-65'"),
	      "ids above the limit: %s", err.message);
}

static void cpulist(const char *text, int expect_rc, const char *expect)
{
	int *ids = NULL, n = 0;
	char buf[256];
	int rc = np__parse_cpulist(text, 100000, &ids, &n);

	CHECK(rc == expect_rc, "cpulist '%s': rc %d, want %d", text, rc, expect_rc);
	if (rc == 0 && expect) {
		np__format_cpulist(ids, n, buf, sizeof(buf));
		CHECK(strcmp(buf, expect) == 0, "cpulist '%s' -> '%s', want '%s'", text, buf,
		      expect);
	}
	free(ids);
}

static void cpumap(const char *text, int expect_rc, const char *expect)
{
	int *ids = NULL, n = 0;
	char buf[256];
	int rc = np__parse_cpumap(text, &ids, &n);

	CHECK(rc == expect_rc, "cpumap '%s': rc %d, want %d", text, rc, expect_rc);
	if (rc == 0 && expect) {
		np__format_cpulist(ids, n, buf, sizeof(buf));
		CHECK(strcmp(buf, expect) == 0, "cpumap '%s' -> '%s', want '%s'", text, buf,
		      expect);
	}
	free(ids);
}

/* The library's version is the headers', which Meson generated from meson.build. */
static void test_version(void)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", NP_VERSION_MAJOR, NP_VERSION_MINOR,
		 NP_VERSION_MICRO);
	CHECK(np_version() && strcmp(np_version(), NP_VERSION_STRING) == 0,
	      "np_version() '%s' is the headers' '%s'", np_version(), NP_VERSION_STRING);
	CHECK(strcmp(want, NP_VERSION_STRING) == 0, "NP_VERSION_MAJOR.MINOR.MICRO is '%s'", want);
}

/* np_plugin_path(): the module folder's search, for a plugin file (the service's). */
static void test_plugin_path(void)
{
	struct np_error err = { 0 };
	char path[PATH_MAX + 64] = "untouched", tiny[8] = "same";
	int rc;

	setenv("NUMAPLACE_MODULE_DIR", "/opt/np-mods", 1);
	rc = np_plugin_path("numaplace-serve.so", path, sizeof(path), &err);
	CHECK(rc == 0 && strcmp(path, "/opt/np-mods/numaplace-serve.so") == 0,
	      "NUMAPLACE_MODULE_DIR first: rc %d, '%s'", rc, path);
	rc = np_plugin_path("numaplace-serve.so", tiny, sizeof(tiny), &err);
	CHECK(rc == NP_EINPUT && strcmp(tiny, "same") == 0 && strstr(err.message, "too long"),
	      "a short buffer: rc %d, '%s', untouched", rc, err.message);
	rc = np_plugin_path("../evil.so", path, sizeof(path), &err);
	CHECK(rc == NP_EINPUT && strstr(err.message, "file name"), "a path refused: rc %d", rc);
	unsetenv("NUMAPLACE_MODULE_DIR");
	/* Otherwise beside the file holding the library (here the test itself, static). */
	rc = np_plugin_path("numaplace-serve.so", path, sizeof(path), &err);
	CHECK(rc == 0 && path[0] == '/' && strstr(path, "/numaplace-serve.so"),
	      "found by dladdr: rc %d, '%s'", rc, path);
}

static void test_cpulist(void)
{
	cpulist("0-3,8,10-11\n", 0, "0-3,8,10-11");
	cpulist("", 0, "");
	cpulist("\n", 0, "");
	cpulist("5,1,3-4,1", 0, "1,3-5");
	cpulist("3-1", NP_EINPUT, NULL);
	cpulist("1,,2", NP_EINPUT, NULL);
	cpulist("a", NP_EINPUT, NULL);
	cpulist("1-", NP_EINPUT, NULL);
	cpulist("200000", NP_EINPUT, NULL);
	cpulist("0-3 x", NP_EINPUT, NULL);
}

static void test_cpumap(void)
{
	char small[8];
	int ids[] = { 0, 1, 2, 3, 8, 10, 11 };

	cpumap("0000000f\n", 0, "0-3");
	cpumap("00000001,00000000", 0, "32");
	cpumap("ff00", 0, "8-15");
	cpumap("00000000", 0, "");
	cpumap("xyz", NP_EINPUT, NULL);
	cpumap("", NP_EINPUT, NULL);

	np__format_cpulist(ids, 7, small, sizeof(small));
	CHECK(strlen(small) < sizeof(small) && strstr(small, "..."),
	      "truncated list ends with '...': '%s'", small);
}

/* np__nul_line(): where the first NUL byte is, for "line N: a NUL byte". */
static void test_nul_line(void)
{
	int col = -1;

	CHECK(np__nul_line("{}", 2, &col) == 0 && col == -1, "no NUL: 0, column untouched");
	CHECK(np__nul_line("", 0, NULL) == 0, "an empty buffer: 0");
	CHECK(np__nul_line("\0", 1, &col) == 1 && col == 1, "at the start: line 1 column 1");
	CHECK(np__nul_line("ab\ncd\0e\0", 8, &col) == 2 && col == 3,
	      "the first of two, line 2 column 3 (got column %d)", col);
	CHECK(np__nul_line("a\n\n", 3, NULL) == 0, "newlines alone: 0");
}

static void test_numbers(void)
{
	long v;
	uint64_t u;

	CHECK(np__parse_int(" 42\n", 0, 100, &v) && v == 42, "parse 42");
	CHECK(!np__parse_int("42x", 0, 100, &v), "42x is not a number");
	CHECK(!np__parse_int("101", 0, 100, &v), "101 out of range");
	CHECK(!np__parse_int("", 0, 100, &v), "empty is not a number");
	CHECK(np__parse_u64("18446744073709551615", &u) && u == UINT64_MAX, "u64 max");
	CHECK(!np__parse_u64("18446744073709551616", &u), "u64 overflow");
	CHECK(!np__parse_u64("-1", &u), "u64 negative");
}

/* np_text_is_decimal: what strtod takes beyond a plain decimal is refused. */
static void test_decimal(void)
{
	static const char *const whole[] = { "0", "42", "-7", "+3", "007" };
	static const char *const real[] = { "1.5", ".5", "5.", "-2.25", "4e2", "1.5E-3", "+0.0" };
	static const char *const bad[] = { "", " 4", "4 ", "%204", "0x10", "0x1p3", "inf", "nan",
					   "1e", "1e+", ".", "-", "+", "1,5", "4\n", "1..2", "--1" };

	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		CHECK(np_text_is_decimal(whole[i], false) && np_text_is_decimal(whole[i], true),
		      "'%s' is a whole decimal", whole[i]);
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++)
		CHECK(np_text_is_decimal(real[i], true) && !np_text_is_decimal(real[i], false),
		      "'%s' is a decimal with a fraction, not a whole one", real[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!np_text_is_decimal(bad[i], true), "'%s' is no plain decimal", bad[i]);
	CHECK(!np_text_is_decimal(NULL, true), "NULL is no number");
}

static void test_read_file(void)
{
	char *buf;
	size_t len;
	struct np_error err = { 0 };

	CHECK(np__read_file("/nonexistent/x", 100, &buf, &len, &err) == NP_EIO &&
		      strstr(err.message, "cannot read '/nonexistent/x'"),
	      "missing file: %s", err.message);
	CHECK(np__read_file("/", 100, &buf, &len, &err) == NP_EIO &&
		      strstr(err.message, "directory"),
	      "directory: %s", err.message);
	CHECK(np__read_file("/nonexistent/x", 100, &buf, &len, &err) == NP_EIO &&
		      strstr(err.message, ": no such file or directory"),
	      "reasons in lower case: %s", err.message);
	if (np__read_file("/proc/self/status", 1 << 20, &buf, &len, &err) == 0) {
		CHECK(len > 0 && buf[len] == '\0', "read /proc/self/status");
		free(buf);
	} else {
		CHECK(0, "read /proc/self/status: %s", err.message);
	}
	CHECK(np__read_file("/proc/self/status", 4, &buf, &len, &err) == NP_EINPUT,
	      "size limit enforced");
}

/*
 * np__utf8_valid() against jansson's own check (json_stringn refuses what
 * is not UTF-8): the hand-picked edges, then every string of up to three
 * bytes drawn from the bytes that matter.
 */
static void test_utf8(void)
{
	static const char *const cases[] = {
		"", "plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff",
		"\xc3", "\xc0\x80", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xf8\x88\x80\x80\x80", "a\x80", "\xe2\x82",
	};
	static const unsigned char bytes[] = { 0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0,
					       0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff };
	const size_t nb = sizeof(bytes);
	int disagree = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *s = json_stringn(cases[i], strlen(cases[i]));

		CHECK(np__utf8_valid(cases[i], strlen(cases[i])) == (s != NULL),
		      "utf8 case %zu: ours %d, jansson %d", i,
		      np__utf8_valid(cases[i], strlen(cases[i])), s != NULL);
		json_decref(s);
	}
	for (size_t len = 1; len <= 3; len++) {
		size_t total = len == 1 ? nb : len == 2 ? nb * nb : nb * nb * nb;

		for (size_t k = 0; k < total; k++) {
			char buf[4];
			json_t *s;

			for (size_t j = 0, r = k; j < len; j++, r /= nb)
				buf[j] = (char)bytes[r % nb];
			s = json_stringn(buf, len);
			disagree += np__utf8_valid(buf, len) != (s != NULL);
			json_decref(s);
		}
	}
	CHECK(disagree == 0, "utf8: %d short strings judged unlike jansson", disagree);
}

/*
 * np__json_is_text(): the text a value came from, blanks aside, and
 * nothing else; np__json_dumps_checked(): a compact text that reads back.
 */
static void test_json_text(void)
{
	static const struct {
		const char *parsed, *text;
		int same;
	} cases[] = {
		{ "{\"a\": [1, 2], \"b\": \"x y\"}", "{\n  \"a\": [1, 2],\n  \"b\": \"x y\"\n}\n", 1 },
		{ "{\"a\": \"x y\"}", "{\"a\": \"xy\"}", 0 },       /* a blank inside a string counts */
		{ "{\"a\": \"q\\\"\"}", "{ \"a\" : \"q\\\"\" }", 1 }, /* an escaped quote ends nothing */
		{ "{\"a\": 406}", "{\"a\": 4096}", 0 },               /* a dropped digit */
		{ "{\"fits\": true}", "{\"fits\": true, \"b\": 1}", 0 }, /* text left over */
		{ "[1, 2, 3]", "[1, 2]", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loads(cases[i].parsed, JSON_DECODE_ANY, NULL);
		char *d = v ? np__json_dumps_checked(v) : NULL;
		json_t *back = d ? json_loads(d, JSON_DECODE_ANY, NULL) : NULL;

		CHECK(v && np__json_is_text(v, cases[i].text, strlen(cases[i].text)) ==
				   cases[i].same,
		      "json text case %zu", i);
		CHECK(back && json_equal(back, v) && !strstr(d, ": "),
		      "checked compact dump %zu: %s", i, d ? d : "(null)");
		json_decref(back);
		free(d);
		json_decref(v);
	}
}

/* An error message is one line whatever input it quotes. */
/*
 * np_json_str_write(), the one JSON string writer (plans, fleet output,
 * the runtime verbs' logs): controls escaped, not dropped, so a log line
 * stays one line and jansson reads back the very bytes.
 */
static void test_json_str_write(void)
{
	static const char *const cases[] = {
		"", "plain", "q\"uote\\slash", "new\nline\ttab", "esc\x1b[2Jdel\x7f", "caf\xc3\xa9",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		json_t *v;

		np_json_str_write(m, cases[i]);
		fclose(m);
		v = json_loadb(buf, len, JSON_DECODE_ANY, NULL);
		CHECK(v && json_is_string(v) && strcmp(json_string_value(v), cases[i]) == 0,
		      "json str %zu: '%s' does not read back", i, buf);
		CHECK(!strpbrk(buf, "\n\t\x1b\x7f"), "json str %zu: a raw control in '%s'", i, buf);
		json_decref(v);
		free(buf);
	}
}

static void test_err_one_line(void)
{
	struct np_error err = { 0 };
	int rc = np__err(&err, NP_EINPUT, "bad '%s'", "a\nb\tc\x7f\r");

	CHECK(rc == NP_EINPUT && err.code == NP_EINPUT && strcmp(err.message, "bad 'a?b?c?" "?'") == 0,
	      "control characters become '?': '%s'", err.message);
	CHECK(np__err(NULL, NP_EIO, "x") == NP_EIO, "no np_error: the code only");
}

/*
 * np_memout: nothing written is "", and text far past its 4 KiB stdio
 * buffer (many flushes, the block grown several times) comes back whole,
 * in order, NUL-terminated, with its length.
 */
static void test_memout(void)
{
	struct np_memout m;
	char *text = NULL;
	size_t len = 99;
	bool in_order = true;

	CHECK(np_memout_open(&m), "memout: open");
	CHECK(np_memout_close(&m, &text, &len) == 0 && text && !text[0] && len == 0,
	      "memout: nothing written is an empty text (len %zu)", len);
	free(text);
	CHECK(np_memout_open(&m), "memout: open again");
	for (int i = 0; i < 5000; i++)
		fprintf(m.f, "%04d,", i);
	CHECK(np_memout_close(&m, &text, &len) == 0 && text && len == 25000 &&
	      strlen(text) == len, "memout: 25000 bytes written, %zu read back", len);
	for (int i = 0; text && len == 25000 && i < 5000 && in_order; i++) {
		char want[8];

		snprintf(want, sizeof(want), "%04d,", i);
		in_order = memcmp(text + 5 * i, want, 5) == 0;
	}
	CHECK(in_order, "memout: the text comes back in the order written");
	free(text);
}

int main(void)
{
	T_CASE("cpulist", test_cpulist());
	T_CASE("cpumap", test_cpumap());
	T_CASE("numbers", test_numbers());
	T_CASE("decimal", test_decimal());
	T_CASE("nul-line", test_nul_line());
	T_CASE("read-file", test_read_file());
	T_CASE("special-files", test_special_files());
	T_CASE("read-trusted", test_read_trusted());
	T_CASE("stdin", test_stdin());
	T_CASE("json-str-write", test_json_str_write());
	T_CASE("plugin-path", test_plugin_path());
	T_CASE("public-cpulist", test_public_cpulist());
	T_CASE("version", test_version());
	T_CASE("utf8", test_utf8());
	T_CASE("json-text", test_json_text());
	T_CASE("err-one-line", test_err_one_line());
	T_CASE("memout", test_memout());
	return t_done();
}
