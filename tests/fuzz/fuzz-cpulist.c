/*
 * fuzz-cpulist.c - libFuzzer target for the sysfs CPU set parsers of
 * lib/util/util.h: np__parse_cpulist ("0-3,8") and np__parse_cpumap
 * ("0000ffff,00000003").  Every input is fed to both.
 *
 * Beyond the sanitizers it checks what callers rely on: a success gives a
 * strictly increasing array of ids within the limit (cpulist) or within
 * 4 bits per hex digit (cpumap), and the ids written back with
 * np__format_cpulist() parse again to the very same array.
 */
#include "fuzz-common.h"

#include "util/util.h"

/* A limit well above real machines, low enough that a range stays cheap. */
#define FUZZ_CPU_LIMIT 16383

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sorted(const char *what, const int *ids, int n, long max)
{
	for (int i = 0; i < n; i++) {
		if (ids[i] < 0 || ids[i] > max)
			fuzz_fail("%s: id %d out of 0..%ld", what, ids[i], max);
		if (i && ids[i] <= ids[i - 1])
			fuzz_fail("%s: ids not strictly increasing at %d", what, i);
	}
}

/* IDS formatted as a cpulist must parse back to IDS. */
static void check_roundtrip(const char *what, const int *ids, int n)
{
	size_t size = (size_t)n * 24 + 1;
	char *text = malloc(size);
	int *back = NULL, nback = -1;

	if (!text)
		fuzz_fail("out of memory");
	np__format_cpulist(ids, n, text, size);
	if (np__parse_cpulist(text, 65535, &back, &nback))
		fuzz_fail("%s: formatted list '%s' does not parse", what, text);
	if (nback != n || (n && memcmp(ids, back, (size_t)n * sizeof(int))))
		fuzz_fail("%s: '%s' parses to %d ids, not %d", what, text, nback, n);
	free(back);
	free(text);
}

static void fuzz_cpulist(const char *text)
{
	int *ids = NULL, n = -1;
	int rc = np__parse_cpulist(text, FUZZ_CPU_LIMIT, &ids, &n);

	if (rc) {
		if (rc != NP_EINPUT && rc != NP_ENOMEM)
			fuzz_fail("cpulist: unexpected code %d", rc);
		return;
	}
	if (!ids || n < 0)
		fuzz_fail("cpulist: success without ids (n %d)", n);
	check_sorted("cpulist", ids, n, FUZZ_CPU_LIMIT);
	check_roundtrip("cpulist", ids, n);
	free(ids);
}

static void fuzz_cpumap(const char *text)
{
	size_t digits = 0;
	int *ids = NULL, n = -1;
	int rc = np__parse_cpumap(text, &ids, &n);

	if (rc) {
		if (rc != NP_EINPUT && rc != NP_ENOMEM)
			fuzz_fail("cpumap: unexpected code %d", rc);
		return;
	}
	if (!ids || n < 0)
		fuzz_fail("cpumap: success without ids (n %d)", n);
	for (const char *p = text; *p; p++)
		digits += strchr("0123456789abcdefABCDEF", *p) != NULL;
	check_sorted("cpumap", ids, n, (long)digits * 4 - 1);
	check_roundtrip("cpumap", ids, n);
	free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);

	fuzz_cpulist(text);
	fuzz_cpumap(text);
	free(text);
	return 0;
}
