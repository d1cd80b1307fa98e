/*
 * nova-values.c - Nova's way of reading spec text (see nova-values.h).
 *
 * Each function mirrors one Python function Nova calls, rule for rule,
 * because the differential tests compare our verdict with Nova's on
 * random text.  Nothing here allocates except the CPU spec intervals.
 */
#include "request/nova-values.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <numaplace/error.h>

#include "util/util.h"

bool np__py_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* [S, E) without Python whitespace, as Nova's rule.strip() / p.strip(). */
static void strip_span(const char **s, const char **e)
{
	while (*s < *e && np__py_space(**s))
		(*s)++;
	while (*e > *s && np__py_space((*e)[-1]))
		(*e)--;
}

/* TEXT without Python whitespace at both ends: [*B, *E). */
static void strip(const char *text, const char **b, const char **e)
{
	*b = text;
	*e = text + strlen(text);
	strip_span(b, e);
}

/* int() of [S, E): blanks around, digits with single underscores between. */
static bool py_int_span(const char *s, const char *e, int64_t *out)
{
	bool neg = false, digit = false;
	int64_t v = 0;
	int ndigits = 0;

	strip_span(&s, &e);
	if (s < e && (*s == '+' || *s == '-'))
		neg = *s++ == '-';
	for (; s < e; s++) {
		if (*s == '_' && digit && s + 1 < e && s[1] >= '0' && s[1] <= '9')
			continue;
		if (*s < '0' || *s > '9')
			return false;
		digit = true;
		if (++ndigits > 4300) /* Python 3.11's int() refuses longer text */
			return false;
		v = v >= NP__PY_BIG / 10 ? NP__PY_BIG : v * 10 + (*s - '0');
	}
	if (!digit)
		return false;
	*out = neg ? -v : v;
	return true;
}

bool np__py_int(const char *text, int64_t *out)
{
	return text && py_int_span(text, text + strlen(text), out);
}

bool np__py_int_like(const char *text)
{
	const char *p = text;

	if (!text)
		return false;
	if (*p == '-')
		p++;
	if (*p == '0')
		return p[1] == '\0' && p == text; /* "0", never "-0" */
	if (*p < '1' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '\0';
}

bool np__py_bool(const char *text)
{
	static const char *const yes[] = {"1", "t", "true", "on", "y", "yes"};
	const char *s, *e;

	if (!text)
		return false;
	strip(text, &s, &e);
	for (size_t i = 0; i < NP__ARRAY_SIZE(yes); i++)
		if ((size_t)(e - s) == strlen(yes[i]) &&
		    strncasecmp(s, yes[i], (size_t)(e - s)) == 0)
			return true;
	return false;
}

bool np__py_isdigit(const char *text)
{
	if (!text || !*text)
		return false;
	for (; *text; text++)
		if (*text < '0' || *text > '9')
			return false;
	return true;
}

bool np__py_strip_starts(const char *text, char c)
{
	const char *s, *e;

	strip(text, &s, &e);
	return s < e && *s == c;
}

/* The number part of oslo's IEC regex: [-+]?\d*\.?\d+ ; returns its end. */
static const char *size_number(const char *p)
{
	const char *d;

	if (*p == '+' || *p == '-')
		p++;
	d = p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p != '.')
		return p > d ? p : NULL;
	d = ++p;
	while (*p >= '0' && *p <= '9')
		p++;
	return p > d ? p : NULL;
}

/* math.ceil without libm: doubles beyond 2^52 are whole already. */
static double ceil_d(double x)
{
	double t;

	if (x >= 4503599627370496.0 || x <= -4503599627370496.0 || x != x)
		return x;
	t = (double)(int64_t)x; /* truncates toward zero */
	return t < x ? t + 1 : t;
}

bool np__py_size_kib(const char *text, double *kib)
{
	static const char prefixes[] = "KMGT";
	const char *p = size_number(text), *pre;
	double mag, bytes;
	int exp = 0, bits;
	locale_t c;

	if (!p)
		return false;
	if (*p && (pre = strchr(prefixes, *p))) {
		exp = (int)(pre - prefixes) + 1;
		p += p[1] == 'i' ? 2 : 1;
	}
	bits = strncmp(p, "bit", 3) == 0 ? 3 : *p == 'b' ? 1 : 0;
	if (!bits && *p != 'B')
		return false;
	p += bits ? bits : 1;
	if (*p && strcmp(p, "\n") != 0) /* Python's $ also matches before a final newline */
		return false;
	c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!c)
		return false;
	mag = strtod_l(text, NULL, c);
	freelocale(c);
	if (bits)
		mag /= 8;
	bytes = mag;
	while (exp-- > 0)
		bytes *= 1024;
	*kib = ceil_d(bytes) / 1024;
	return true;
}

static int add_range(int64_t (**arr)[2], int *n, int *cap, int64_t lo, int64_t hi)
{
	size_t c = (size_t)*cap;

	if (np__grow((void **)arr, &c, (size_t)*n + 1, sizeof(**arr)) < 0)
		return NP_ENOMEM;
	*cap = (int)c;
	(*arr)[*n][0] = lo;
	(*arr)[*n][1] = hi;
	(*n)++;
	return 0;
}

/* One comma-separated rule of parse_cpu_spec, [S, E) already stripped. */
static int cpuspec_rule(struct np__cpuspec *cs, const char *s, const char *e)
{
	const char *dash = memchr(s, '-', (size_t)(e - s));
	bool reject = *s == '^';
	int64_t lo, hi;

	if (dash) {
		if (!py_int_span(s + reject, dash, &lo) || !py_int_span(dash + 1, e, &hi) ||
		    lo > hi)
			return NP_EINPUT;
	} else if (!py_int_span(s + reject, e, &lo)) {
		return NP_EINPUT;
	} else {
		hi = lo;
	}
	if (reject)
		return add_range(&cs->exc, &cs->nexc, &cs->capexc, lo, hi);
	return add_range(&cs->inc, &cs->ninc, &cs->capinc, lo, hi);
}

int np__cpuspec_parse(const char *text, int64_t prefix_hi, struct np__cpuspec *cs, char *bad,
		      size_t badlen)
{
	const char *p = text;
	int rc = 0;

	memset(cs, 0, sizeof(*cs));
	if (prefix_hi >= 0)
		rc = add_range(&cs->inc, &cs->ninc, &cs->capinc, 0, prefix_hi);
	while (!rc) {
		const char *end = strchr(p, ','), *s = p, *e;

		e = end ? end : p + strlen(p);
		strip_span(&s, &e);
		if (s < e)
			rc = cpuspec_rule(cs, s, e);
		if (rc == NP_EINPUT)
			snprintf(bad, badlen, "%.*s", (int)(e - s), s);
		if (!end)
			break;
		p = end + 1;
	}
	return rc;
}

void np__cpuspec_free(struct np__cpuspec *cs)
{
	free(cs->inc);
	free(cs->exc);
	memset(cs, 0, sizeof(*cs));
}

static bool excluded(const struct np__cpuspec *cs, int64_t id)
{
	for (int i = 0; i < cs->nexc; i++)
		if (id >= cs->exc[i][0] && id <= cs->exc[i][1])
			return true;
	return false;
}

bool np__cpuspec_has(const struct np__cpuspec *cs, int64_t id)
{
	for (int i = 0; i < cs->ninc; i++)
		if (id >= cs->inc[i][0] && id <= cs->inc[i][1])
			return !excluded(cs, id);
	return false;
}

/* The first id >= C not excluded (exclusions are skipped one range at a time). */
static int64_t skip_excluded(const struct np__cpuspec *cs, int64_t c)
{
	for (bool moved = true; moved;) {
		moved = false;
		for (int i = 0; i < cs->nexc; i++) {
			if (c >= cs->exc[i][0] && c <= cs->exc[i][1]) {
				c = cs->exc[i][1] + 1;
				moved = true;
			}
		}
	}
	return c;
}

int64_t np__cpuspec_min_from(const struct np__cpuspec *cs, int64_t from)
{
	int64_t best = -1;

	for (int i = 0; i < cs->ninc; i++) {
		int64_t c;

		if (cs->inc[i][1] < from)
			continue;
		c = skip_excluded(cs, cs->inc[i][0] > from ? cs->inc[i][0] : from);
		if (c <= cs->inc[i][1] && (best < 0 || c < best))
			best = c;
	}
	return best;
}

/* Clip [LO, HI] to [0, N): false when nothing is left. */
static bool clip(int64_t lo, int64_t hi, int n, int *a, int *b)
{
	if (hi < 0 || lo >= n || lo > hi)
		return false;
	*a = lo < 0 ? 0 : (int)lo;
	*b = hi >= n ? n - 1 : (int)hi;
	return true;
}

int np__cpuspec_fill(const struct np__cpuspec *cs, int n, unsigned char *bm)
{
	int a, b, count = 0;

	memset(bm, 0, (size_t)n);
	for (int i = 0; i < cs->ninc; i++)
		if (clip(cs->inc[i][0], cs->inc[i][1], n, &a, &b))
			memset(bm + a, 1, (size_t)(b - a + 1));
	for (int i = 0; i < cs->nexc; i++)
		if (clip(cs->exc[i][0], cs->exc[i][1], n, &a, &b))
			memset(bm + a, 0, (size_t)(b - a + 1));
	for (int i = 0; i < n; i++)
		count += bm[i];
	return count;
}

/*
 * ---- CPython's set, to know the order Nova walks a parsed CPU spec ----
 *
 * Nova checks a guest node's vCPUs "for cpu in cpus", in the iteration
 * order of a Python set, and stops at the first that is out of range or
 * already taken: when a node has both, which error Nova reports depends on
 * that order.  It is a pure function of the operations that built the set,
 * so we replay them on a copy of CPython 3.11's open-addressing table
 * (Objects/setobject.c: linear probes of 9, perturbation shift 5, growth
 * x4 at 3/5 full); an int's hash is its value.  Only ids below NP__PY_BIG
 * occur, so equal hashes mean equal ids.
 */
enum { PS_EMPTY = 0, PS_ACTIVE = 1, PS_DUMMY = 2 };
#define PS_PROBES    9
#define PS_MAX_ELEMS NP_VCPUS_MAX /* beyond this we give up (Nova would crawl too) */

struct pyset {
	int64_t *key;
	unsigned char *st;
	size_t mask, fill, used;
};

static int ps_init(struct pyset *s, size_t size)
{
	s->key = np__calloc(size, sizeof(*s->key));
	s->st = np__calloc(size, 1);
	s->mask = size - 1;
	s->fill = s->used = 0;
	return s->key && s->st ? 0 : NP_ENOMEM;
}

static void ps_free(struct pyset *s)
{
	free(s->key);
	free(s->st);
}

static void ps_insert_clean(int64_t *key, unsigned char *st, size_t mask, int64_t k)
{
	size_t perturb = (size_t)k, i = (size_t)k & mask;

	for (;;) {
		if (st[i] == PS_EMPTY)
			break;
		if (i + PS_PROBES <= mask) {
			size_t j;

			for (j = 1; j <= PS_PROBES && st[i + j] != PS_EMPTY; j++)
				;
			if (j <= PS_PROBES) {
				i += j;
				break;
			}
		}
		perturb >>= 5;
		i = (i * 5 + 1 + perturb) & mask;
	}
	key[i] = k;
	st[i] = PS_ACTIVE;
}

static int ps_resize(struct pyset *s, size_t minused)
{
	size_t size = 8;
	struct pyset n;

	while (size <= minused)
		size <<= 1;
	if (size == 8 && s->mask == 7 && s->fill == s->used)
		return 0; /* CPython keeps its small table when there are no dummies */
	if (ps_init(&n, size)) {
		ps_free(&n);
		return NP_ENOMEM;
	}
	for (size_t i = 0; i <= s->mask; i++)
		if (s->st[i] == PS_ACTIVE)
			ps_insert_clean(n.key, n.st, n.mask, s->key[i]);
	n.fill = n.used = s->used;
	ps_free(s);
	*s = n;
	return 0;
}

/* set_lookkey(): the slot holding K, or the empty slot ending the search. */
static size_t ps_lookup(const struct pyset *s, int64_t k)
{
	size_t perturb = (size_t)k, i = (size_t)k & s->mask;

	for (;;) {
		size_t e = i;
		int probes = i + PS_PROBES <= s->mask ? PS_PROBES : 0;

		do {
			if (s->st[e] == PS_EMPTY || (s->st[e] == PS_ACTIVE && s->key[e] == k))
				return e;
			e++;
		} while (probes--);
		perturb >>= 5;
		i = (i * 5 + 1 + perturb) & s->mask;
	}
}

/* set_add_entry(); nothing is added to a set holding dummies here. */
static int ps_add(struct pyset *s, int64_t k)
{
	size_t e = ps_lookup(s, k);

	if (s->st[e] == PS_ACTIVE)
		return 0;
	s->key[e] = k;
	s->st[e] = PS_ACTIVE;
	s->fill++;
	s->used++;
	if (s->fill * 5 < s->mask * 3)
		return 0;
	return ps_resize(s, s->used > 50000 ? s->used * 2 : s->used * 4);
}

/* set_merge(): SO |= OTHER. */
static int ps_merge(struct pyset *s, const struct pyset *o)
{
	int rc = 0;

	if (o->used == 0)
		return 0;
	if ((s->fill + o->used) * 5 >= s->mask * 3 && (rc = ps_resize(s, (s->used + o->used) * 2)))
		return rc;
	if (s->fill == 0 && s->mask == o->mask && o->fill == o->used) {
		memcpy(s->key, o->key, (o->mask + 1) * sizeof(*s->key));
		memcpy(s->st, o->st, o->mask + 1);
		s->fill = o->fill;
		s->used = o->used;
		return 0;
	}
	if (s->fill == 0) {
		for (size_t i = 0; i <= o->mask; i++)
			if (o->st[i] == PS_ACTIVE)
				ps_insert_clean(s->key, s->st, s->mask, o->key[i]);
		s->fill = s->used = o->used;
		return 0;
	}
	for (size_t i = 0; i <= o->mask && !rc; i++)
		if (o->st[i] == PS_ACTIVE)
			rc = ps_add(s, o->key[i]);
	return rc;
}

/* set_difference_update_internal(): SO -= OTHER. */
static int ps_subtract(struct pyset *s, const struct pyset *o)
{
	for (size_t i = 0; i <= o->mask; i++) {
		size_t e;

		if (o->st[i] != PS_ACTIVE)
			continue;
		e = ps_lookup(s, o->key[i]);
		if (s->st[e] == PS_ACTIVE) {
			s->st[e] = PS_DUMMY;
			s->used--;
		}
	}
	if (s->fill - s->used <= s->mask / 4)
		return 0;
	return ps_resize(s, s->used > 50000 ? s->used * 2 : s->used * 4);
}

/* `target |= set(range(lo, hi + 1))` */
static int ps_merge_range(struct pyset *target, int64_t lo, int64_t hi)
{
	struct pyset r;
	int rc = ps_init(&r, 8);

	for (int64_t k = lo; k <= hi && !rc; k++)
		rc = ps_add(&r, k);
	if (!rc)
		rc = ps_merge(target, &r);
	ps_free(&r);
	return rc;
}

/* A range rule is `|= set(range(...))`, a single id `.add()`. */
static int dash_or_add(struct pyset *s, const char *b, const char *e, const int64_t r[2])
{
	if (memchr(b, '-', (size_t)(e - b)))
		return ps_merge_range(s, r[0], r[1]);
	return ps_add(s, r[0]);
}

/* Replay parse_cpu_spec(TEXT) on IDS (rules already known to be valid). */
static int ps_parse(const char *text, struct pyset *ids)
{
	struct np__cpuspec one;
	struct pyset rej;
	int rc = ps_init(&rej, 8);
	int64_t total = 0;

	for (const char *p = text; !rc; p++) {
		const char *end = strchr(p, ','), *s = p, *e = end ? end : p + strlen(p);

		strip_span(&s, &e);
		if (s < e) {
			memset(&one, 0, sizeof(one));
			rc = cpuspec_rule(&one, s, e);
			if (!rc && one.ninc)
				total += one.inc[0][1] - one.inc[0][0] + 1;
			else if (!rc)
				total += one.exc[0][1] - one.exc[0][0] + 1;
			if (!rc && total > PS_MAX_ELEMS)
				rc = NP_EUNSUPPORTED;
			else if (!rc && one.ninc)
				rc = dash_or_add(ids, s, e, one.inc[0]);
			else if (!rc)
				rc = dash_or_add(&rej, s, e, one.exc[0]);
			np__cpuspec_free(&one);
		}
		if (!end)
			break;
		p = end;
	}
	if (!rc)
		rc = ps_subtract(ids, &rej);
	ps_free(&rej);
	return rc;
}

/* ImageMetaProps' Set field copies a set twice: add() one by one, then update(). */
static int ps_coerce(struct pyset *ids)
{
	struct pyset c, f = {0};
	int rc = ps_init(&c, 8);

	for (size_t i = 0; i <= ids->mask && !rc; i++)
		if (ids->st[i] == PS_ACTIVE)
			rc = ps_add(&c, ids->key[i]);
	if (!rc && !(rc = ps_init(&f, 8)))
		rc = ps_merge(&f, &c);
	ps_free(&c);
	if (rc) {
		ps_free(&f);
		return rc;
	}
	ps_free(ids);
	*ids = f;
	return 0;
}

int np__cpuspec_py_order(const char *text, bool image, int64_t **ids, int *n)
{
	struct pyset s;
	int rc = ps_init(&s, 8), k = 0;

	if (!rc)
		rc = ps_parse(text, &s);
	if (!rc && image)
		rc = ps_coerce(&s);
	if (!rc && !(*ids = np__calloc(s.used + 1, sizeof(**ids))))
		rc = NP_ENOMEM;
	for (size_t i = 0; !rc && i <= s.mask; i++)
		if (s.st[i] == PS_ACTIVE)
			(*ids)[k++] = s.key[i];
	*n = k;
	ps_free(&s);
	return rc;
}
