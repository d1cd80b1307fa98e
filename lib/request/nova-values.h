/*
 * nova-values.h - how Nova reads the text of an extra spec or an image
 * property: Python's int() and str.strip(), oslo's bool_from_string(),
 * is_int_like() and string_to_bytes(), and Nova's parse_cpu_spec().
 *
 * Nova's validation is defined by these Python functions, so agreeing
 * with Nova on every spec means reading text exactly as they do (e.g.
 * int(" +1_0 ") is 10, "2M" is no page size but "2MB" is).  ASCII only:
 * Python also accepts Unicode digits and spaces, which we refuse.
 *
 * A CPU spec is kept as include and exclude intervals, not as a bitmap,
 * so "0-3,^99999999" costs nothing and ids far above the guest's vCPU
 * count can still be reported; ids saturate at NP__PY_BIG.  Where Nova's
 * verdict depends on the order Python iterates a set of vCPU ids, that
 * order is replayed on a copy of CPython 3.11's set table
 * (np__cpuspec_py_order).
 */
#ifndef NP_NOVA_VALUES_H
#define NP_NOVA_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Numbers beyond this are clamped; Nova (Python) has no limit. */
#define NP__PY_BIG ((int64_t)1 << 56)

/* Python's str.strip() whitespace, in ASCII. */
bool np__py_space(char c);
/* int(TEXT) in base 10: true and *OUT (clamped to +-NP__PY_BIG) or false. */
bool np__py_int(const char *text, int64_t *out);
/* oslo is_int_like: str(int(TEXT)) == TEXT. */
bool np__py_int_like(const char *text);
/* oslo bool_from_string(TEXT) (strict=False): NULL is false. */
bool np__py_bool(const char *text);
/* str.isdigit() in ASCII: non-empty, only digits. */
bool np__py_isdigit(const char *text);
/* Does TEXT, stripped, start with C? */
bool np__py_strip_starts(const char *text, char c);
/*
 * oslo string_to_bytes(TEXT, 'IEC', return_int=True) / 1024, the page
 * size in KiB as Nova computes it (a float: "512B" is 0.5).
 */
bool np__py_size_kib(const char *text, double *kib);

struct np__cpuspec {
	int64_t (*inc)[2]; /* [lo, hi] included ranges */
	int ninc, capinc;
	int64_t (*exc)[2]; /* [lo, hi] excluded ranges ("^") */
	int nexc, capexc;
};

/*
 * Nova's parse_cpu_spec(TEXT), with the range 0..PREFIX_HI added first when
 * PREFIX_HI >= 0 (Nova's "0-%d,%s" for masks starting with '^').  0,
 * NP_EINPUT on a malformed rule (copied into BAD) or NP_ENOMEM.  Free with
 * np__cpuspec_free() in every case.
 */
int np__cpuspec_parse(const char *text, int64_t prefix_hi, struct np__cpuspec *cs, char *bad,
		      size_t badlen);
void np__cpuspec_free(struct np__cpuspec *cs);
bool np__cpuspec_has(const struct np__cpuspec *cs, int64_t id);
/* The smallest member >= FROM, or -1. */
int64_t np__cpuspec_min_from(const struct np__cpuspec *cs, int64_t from);
/* Set BM[i] = 1 for the members i < N; returns how many. */
int np__cpuspec_fill(const struct np__cpuspec *cs, int n, unsigned char *bm);

/*
 * The members of parse_cpu_spec(TEXT) (a valid spec) in the order CPython
 * 3.11 iterates the set Nova builds, IMAGE: after ImageMetaProps copied
 * it.  0, NP_ENOMEM, or NP_EUNSUPPORTED when the spec has over NP_VCPUS_MAX ids (we do not
 * replay that).  *IDS is malloc'ed.
 */
int np__cpuspec_py_order(const char *text, bool image, int64_t **ids, int *n);

#endif
