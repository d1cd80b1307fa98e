/*
 * xl-cfg.c - a whole xl.cfg(5) file: its parser (xl-cfg.h), and the guest
 * request it makes (np_request_from_xl_config).
 *
 * The parser follows Xen's own (libxlutil's lexer and grammar), and keeps
 * where each setting and value sits in the text, so that a merge can
 * rewrite a setting and leave every other byte alone.  It refuses what xl
 * refuses, so that numaplace never writes back a file xl cannot read
 * (tests/xl/xlcfg-same.c runs Xen's parser over the samples).  Tokens:
 * names [a-z][a-z0-9_.]*, numbers [0-9][0-9a-fx]* (kept as strings, as
 * xl does), strings in "" or '' with xl's backslash escapes (\n, \", \\,
 * \ooo, ...; others refused) and no newline,
 * '#' comments to the end of the line, = += , [ ] ; and newlines; blanks
 * are spaces and tabs.  A setting is NAME = VALUE or NAME += VALUE ended
 * by a newline, ';' or the end; lists may span lines (a newline may
 * follow '[', a value or a comma).
 *
 * The request: the guest's vCPUs are maxvcpus= (else vcpus=, else 1) and
 * its memory maxmem= (else memory=, which is required), MiB: every vCPU
 * may come online and the memory grow to its maximum, so that is what is
 * placed.  vnuma= gives the guest cells (np_request_from_xl_vnuma(), soft
 * affinity as libxl gives); without it the guest has no NUMA topology.
 * The kind of affinity the file uses already is kept: cpus= alone means
 * hard, cpus_soft= alone soft.  Every pci= entry asks for that device by
 * address (np_pci_request), with the caller's policy.
 */
#include "request/xl-cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/doc.h>

#include "request/request-int.h"

#define MAX_DEPTH 16 /* lists in lists; xl has no limit, but numaplace reads none nested */

struct lx {
	const char *buf, *name;
	size_t len, i;
	int line;
	struct np__xlcfg *c;
	struct np_error *err;
};

static int fail(struct lx *x, const char *fmt, ...) NP__PRINTF(2, 3);

static int fail(struct lx *x, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return np__err(x->err, NP_EINPUT, "%s: line %d: %s", x->name, x->line, msg);
}

static int nomem(struct lx *x)
{
	return np__err(x->err, NP_ENOMEM, "out of memory");
}

static char at(const struct lx *x, size_t k)
{
	return x->i + k < x->len ? x->buf[x->i + k] : '\0';
}

static bool lower(char c) { return c >= 'a' && c <= 'z'; }
static bool digit(char c) { return c >= '0' && c <= '9'; }

/* Blanks and a comment; stops at a newline or a token. */
static int skip(struct lx *x)
{
	for (; x->i < x->len; x->i++) {
		char c = x->buf[x->i];

		if (c == '#') {
			while (x->i < x->len && x->buf[x->i] != '\n')
				x->i++;
			return 0;
		}
		if (c == '\r')
			return fail(x, "a carriage return: xl reads only \\n line ends");
		if (c == '\0')
			return fail(x, "a NUL byte");
		if (c != ' ' && c != '\t')
			return 0;
	}
	return 0;
}

/* Blanks, comments and newlines (inside a list). */
static int skip_lines(struct lx *x)
{
	int rc;

	while (!(rc = skip(x)) && at(x, 0) == '\n') {
		x->i++;
		x->line++;
	}
	return rc;
}

/*
 * The escape at x->i (a backslash) into *C, x->i on its last byte: what
 * xl's dequoting takes, \a \b \f \n \r \t \v \' \" \\ and three octal
 * digits (left undecoded: *PLAIN false); anything else xl refuses.
 */
static int escape(struct lx *x, char *c, bool *plain)
{
	static const char from[] = "abfnrtv'\"\\", to[] = "\a\b\f\n\r\t\v'\"\\";
	char e = at(x, 1);
	const char *k = e ? strchr(from, e) : NULL;

	if (k) {
		*c = to[k - from];
		x->i++;
		return 0;
	}
	for (int d = 1; d <= 3; d++)
		if (at(x, (size_t)d) < '0' || at(x, (size_t)d) > '7')
			return fail(x, "a backslash escape xl does not take in a string");
	*plain = false;
	x->i += 3;
	return 0;
}

/* A quoted string at x->i into V: its span and, when numaplace can decode it, its text. */
static int string(struct lx *x, struct np__xlv *v)
{
	char q = at(x, 0), *out = malloc(x->len - x->i + 1);
	size_t n = 0;
	bool plain = true;
	int rc = 0;

	if (!out)
		return nomem(x);
	for (x->i++; x->i < x->len && x->buf[x->i] != q; x->i++) {
		char c = x->buf[x->i];

		if (c == '\n' || c == '\0')
			break;
		if (c == '\\' && (rc = escape(x, &c, &plain)))
			break;
		out[n++] = c;
	}
	if (rc || at(x, 0) != q) {
		free(out);
		return rc ? rc : fail(x, "a string not closed on its line");
	}
	x->i++;
	out[n] = '\0';
	if (!plain) {
		free(out);
		out = NULL;
	}
	v->str = out;
	return 0;
}

static int value(struct lx *x, struct np__xlv *v, int depth);

/* The items of a list, after its '['. */
static int list(struct lx *x, struct np__xlv *v, int depth)
{
	size_t cap = 0;
	int rc;

	v->list = true;
	if ((rc = skip_lines(x)))
		return rc;
	while (at(x, 0) != ']') {
		if (np__grow((void **)&v->items, &cap, (size_t)v->n + 1, sizeof(*v->items)) < 0)
			return nomem(x);
		memset(&v->items[v->n], 0, sizeof(*v->items));
		if ((rc = value(x, &v->items[v->n++], depth + 1)) || (rc = skip_lines(x)))
			return rc;
		if (at(x, 0) == ',') {
			x->i++;
			if ((rc = skip_lines(x)))
				return rc;
		} else if (at(x, 0) != ']') {
			return fail(x, "expected ',' or ']' in a list");
		}
	}
	x->i++;
	return 0;
}

static int value(struct lx *x, struct np__xlv *v, int depth)
{
	char c = at(x, 0);
	size_t s = x->i;
	int rc = 0;

	v->start = x->i;
	v->line = x->line;
	if (c == '"' || c == '\'') {
		rc = string(x, v);
	} else if (digit(c)) {
		while (digit(at(x, 0)) || (at(x, 0) >= 'a' && at(x, 0) <= 'f') || at(x, 0) == 'x')
			x->i++;
		v->number = true;
		if (!(v->str = strndup(x->buf + s, x->i - s)))
			rc = nomem(x);
	} else if (c == '[') {
		x->i++;
		rc = depth >= MAX_DEPTH ? fail(x, "lists nested deeper than %d", MAX_DEPTH)
					: list(x, v, depth);
	} else {
		rc = fail(x, "expected a value (a number, a quoted string or a list)");
	}
	v->end = x->i;
	return rc;
}

/* Type of the value NAME holds before setting K (-1: none, 0 string, 1 list). */
static int held(const struct np__xlcfg *c, int k)
{
	for (int i = k - 1; i >= 0; i--)
		if (strcmp(c->sets[i].name, c->sets[k].name) == 0)
			return c->sets[i].value.list;
	return -1;
}

/* NAME = VALUE or NAME += VALUE, then its end. */
static int setting(struct lx *x)
{
	struct np__xlset *s;
	size_t start = x->i, cap = (size_t)x->c->n;
	int rc, h;

	while (lower(at(x, 0)) || digit(at(x, 0)) || at(x, 0) == '_' || at(x, 0) == '.')
		x->i++;
	if (np__grow((void **)&x->c->sets, &cap, (size_t)x->c->n + 1, sizeof(*s)) < 0)
		return nomem(x);
	s = memset(&x->c->sets[x->c->n++], 0, sizeof(*s));
	s->start = start;
	s->line = x->line;
	if (!(s->name = strndup(x->buf + start, x->i - start)))
		return nomem(x);
	if ((rc = skip(x)))
		return rc;
	s->add = at(x, 0) == '+' && at(x, 1) == '=';
	if (!s->add && at(x, 0) != '=')
		return fail(x, "expected '=' or '+=' after %.40s", s->name);
	x->i += s->add ? 2 : 1;
	if ((rc = skip(x)) || (rc = value(x, &s->value, 0)) || (rc = skip(x)))
		return rc;
	s->end = s->value.end;
	h = held(x->c, x->c->n - 1);
	if (s->add && h >= 0 && h != s->value.list)
		return fail(x, "%.40s += adds a %s to a %s", s->name,
			    s->value.list ? "list" : "string", h ? "list" : "string");
	if (at(x, 0) != '\n' && at(x, 0) != ';' && x->i < x->len)
		return fail(x, "expected the end of the line or ';' after %.40s's value", s->name);
	return 0;
}

static int parse(struct lx *x)
{
	int rc;

	while (!(rc = skip(x)) && x->i < x->len) {
		char c = at(x, 0);

		if (c == '\n' || c == ';') {
			x->line += c == '\n';
			x->i++;
		} else if (lower(c)) {
			rc = setting(x);
		} else if (c >= 'A' && c <= 'Z') {
			rc = fail(x, "'%c': xl's setting names are lower case", c);
		} else {
			rc = fail(x, "unexpected '%c' where a setting should start",
				  c >= ' ' && c < 127 ? c : '?');
		}
		if (rc)
			break;
	}
	return rc;
}

static void free_value(struct np__xlv *v)
{
	for (int i = 0; i < v->n; i++)
		free_value(&v->items[i]);
	free(v->items);
	free(v->str);
}

void np__xlcfg_free(struct np__xlcfg *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->sets[i].name);
		free_value(&c->sets[i].value);
	}
	free(c->sets);
	memset(c, 0, sizeof(*c));
}

int np__xlcfg_parse(const char *buf, size_t len, const char *name, struct np__xlcfg *out,
		    struct np_error *err)
{
	struct lx x = { .buf = buf, .name = name, .len = len, .line = 1, .c = out, .err = err };
	int nul = np__nul_line(buf, len, NULL);

	/* Anywhere, a comment too: a merge would write it back. */
	if (nul) {
		x.line = nul;
		return fail(&x, "a NUL byte");
	}
	return parse(&x);
}

int np__xlcfg_last(const struct np__xlcfg *c, const char *name)
{
	for (int i = c->n - 1; i >= 0; i--)
		if (!c->sets[i].add && strcmp(c->sets[i].name, name) == 0)
			return i;
	return -1;
}

bool np__xlcfg_adds(const struct np__xlcfg *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (c->sets[i].add && strcmp(c->sets[i].name, name) == 0)
			return true;
	return false;
}

int np__xlcfg_long(const struct np__xlcfg *c, const char *file, const char *name, long *out,
		   int *line, struct np_error *err)
{
	char *text = NULL, *end;
	size_t n = 0;
	int first = np__xlcfg_last(c, name), rc = 1;
	long v;

	for (int i = first < 0 ? 0 : first; i < c->n; i++) {
		const struct np__xlset *s = &c->sets[i];
		char *t;

		if (strcmp(s->name, name) != 0)
			continue;
		*line = s->line;
		if (s->value.list || !s->value.str) {
			free(text);
			return np__err(err, NP_EINPUT, "%s: line %d: %s= is not a number", file,
				       s->line, name);
		}
		if (!(t = realloc(text, n + strlen(s->value.str) + 1))) {
			free(text);
			return np__err(err, NP_ENOMEM, "out of memory");
		}
		text = t;
		memcpy(text + n, s->value.str, strlen(s->value.str) + 1);
		n += strlen(s->value.str);
	}
	if (!text)
		return 0;
	errno = 0;
	v = strtol(text, &end, 0);
	if (end == text || *end || errno)
		rc = np__err(err, NP_EINPUT, "%s: line %d: %s= '%.40s' is not a number", file,
			     *line, name, text);
	else
		*out = v;
	free(text);
	return rc;
}

/* ---- the request ------------------------------------------------------------ */

struct xr {
	const char *name, *buf;
	const struct np__xlcfg *c;
	struct np_error *err;
};

/* Is NAME set at all (with = or +=)? */
static bool has(const struct xr *r, const char *name)
{
	return np__xlcfg_last(r->c, name) >= 0 || np__xlcfg_adds(r->c, name);
}

/* KEY as a number in [MIN, MAX] (DFLT when unset) into *OUT. */
static int number(struct xr *r, const char *key, long min, long max, long dflt, long *out)
{
	int line = 0, rc = np__xlcfg_long(r->c, r->name, key, out, &line, r->err);

	if (rc < 0)
		return rc;
	if (rc == 0)
		*out = dflt;
	else if (*out < min || *out > max)
		return np__err(r->err, NP_EINPUT, "%s: line %d: %s=%ld is not from %ld to %ld",
			       r->name, line, key, *out, min, max);
	return 0;
}

/* The guest's size: every vCPU and MiB it may have (maxvcpus=, maxmem=). */
static int size(struct xr *r, long *vcpus, long *mem)
{
	long v, m;
	int rc;

	if (!has(r, "memory"))
		return np__err(r->err, NP_EINPUT, "%s: no memory=: the guest has no size", r->name);
	if ((rc = number(r, "vcpus", 1, NP_VCPUS_MAX, 1, &v)) ||
	    (rc = number(r, "maxvcpus", v, NP_VCPUS_MAX, v, vcpus)) ||
	    (rc = number(r, "memory", 1, (long)NP_MEMORY_MB_MAX, 1, &m)) ||
	    (rc = number(r, "maxmem", m, (long)NP_MEMORY_MB_MAX, m, mem)))
		return rc;
	return 0;
}

/* The guest cells of vnuma=, or one cell of everything. */
static int cells(struct xr *r, long vcpus, long mem, np_request **out)
{
	int k = np__xlcfg_last(r->c, "vnuma"), rc;
	struct np_error verr = { 0 };
	const struct np__xlset *s;
	char *text;
	np_request *q;

	if (np__xlcfg_adds(r->c, "vnuma"))
		return np__err(r->err, NP_EINPUT, "%s: vnuma +=: numaplace reads vnuma= from one "
			       "setting", r->name);
	if (k < 0) {
		int *ids = np__calloc((size_t)vcpus, sizeof(int));

		for (long i = 0; ids && i < vcpus; i++)
			ids[i] = (int)i;
		q = ids ? np__request_new((unsigned)vcpus, (uint64_t)mem) : NULL;
		rc = !q || np__request_add_cell(q, ids, (int)vcpus, NULL, 0, (uint64_t)mem,
						 NP_PAGESIZE_UNSET, -1);
		free(ids);
		if (rc) {
			np_request_free(q);
			return np__err(r->err, NP_ENOMEM, "out of memory");
		}
		*out = q;
		return 0;
	}
	s = &r->c->sets[k];
	if (!(text = strndup(r->buf + s->value.start, s->value.end - s->value.start)))
		return np__err(r->err, NP_ENOMEM, "out of memory");
	rc = np_request_from_xl_vnuma(text, (unsigned)vcpus, (uint64_t)mem, out, &verr);
	free(text);
	if (rc == NP_EINPUT)
		return np__err_reason(r->err, rc, verr.reason, "%s: line %d: %s", r->name, s->line,
				      verr.message);
	return rc ? np__err(r->err, rc, "%s", verr.message) : 0;
}

/* A hex number of 1 to DIGITS digits, the whole of [S, S + N). */
static bool hex(const char *s, size_t n, size_t digits, unsigned long *out)
{
	*out = 0;
	if (n == 0 || n > digits)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d = digit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return false;
		*out = *out * 16 + (unsigned long)d;
	}
	return true;
}

/* xl's BDF "[DDDD:]BB:DD.F" (hex; what may follow '@' is the guest's slot) into OUT. */
static bool bdf(const char *s, size_t n, char out[16])
{
	const char *at = memchr(s, '@', n), *end = at ? at : s + n, *dot, *c1, *c2;
	unsigned long d = 0, b, sl, f;

	dot = memchr(s, '.', (size_t)(end - s));
	c1 = memchr(s, ':', (size_t)(end - s));
	if (!dot || !c1 || dot < c1)
		return false;
	c2 = memchr(c1 + 1, ':', (size_t)(dot - c1 - 1));
	if (c2) { /* a domain first */
		if (!hex(s, (size_t)(c1 - s), 4, &d))
			return false;
		s = c1 + 1;
		c1 = c2;
	}
	if (!hex(s, (size_t)(c1 - s), 2, &b) || !hex(c1 + 1, (size_t)(dot - c1 - 1), 2, &sl) ||
	    sl > 0x1f || !hex(dot + 1, (size_t)(end - dot - 1), 1, &f) || f > 7)
		return false;
	snprintf(out, 16, "%04lx:%02lx:%02lx.%lx", d, b, sl, f);
	return true;
}

/* The device of one pci= entry: "BDF[@VSLOT][,KEY=VALUE...]" or "bdf=BDF,...". */
static int pci_entry(struct xr *r, const struct np__xlv *v, struct np_pci_request *q)
{
	const char *p = v->str, *found = NULL;
	size_t n = 0;

	if (v->list || !p)
		return np__err(r->err, NP_EINPUT, "%s: line %d: pci= holds a list or an escape "
			       "numaplace does not read", r->name, v->line);
	for (const char *e = p; *e; e += *e ? 1 : 0) {
		size_t len = strcspn(e, ",");

		if (e == p && !memchr(e, '=', len))
			found = e, n = len;
		else if (len > 4 && strncmp(e, "bdf=", 4) == 0)
			found = e + 4, n = len - 4;
		else if (len > 5 && strncmp(e, "name=", 5) == 0)
			return np__err(r->err, NP_EINPUT, "%s: line %d: pci= '%.40s': devices "
				       "named by name= are not supported; give the BDF",
				       r->name, v->line, p);
		e += len;
	}
	if (!found || !bdf(found, n, q->address))
		return np__err(r->err, NP_EINPUT, "%s: line %d: pci= '%.40s' has no BDF "
			       "numaplace reads (DDDD:BB:DD.F; one function, not '*')",
			       r->name, v->line, p);
	return 0;
}

static int devices(struct xr *r, np_request *q, enum np_pci_policy policy)
{
	int first = np__xlcfg_last(r->c, "pci");

	for (int i = first < 0 ? 0 : first; i < r->c->n; i++) {
		const struct np__xlset *s = &r->c->sets[i];

		if (strcmp(s->name, "pci") != 0)
			continue;
		if (!s->value.list)
			return np__err(r->err, NP_EINPUT, "%s: line %d: pci= is not a list",
				       r->name, s->line);
		for (int k = 0; k < s->value.n; k++) {
			struct np_pci_request d = { .count = 1, .policy = policy };
			int rc = pci_entry(r, &s->value.items[k], &d);

			if (rc)
				return rc;
			if (np__request_has_device(q, d.address))
				return np__err(r->err, NP_EINPUT, "%s: line %d: PCI device %s is "
					       "given twice", r->name, s->line, d.address);
			if (np__request_add_pci(q, &d))
				return np__err(r->err, NP_ENOMEM, "out of memory");
		}
	}
	return 0;
}

int np_request_from_xl_config(const char *buf, size_t len, const char *name,
			      enum np_pci_policy device_policy, np_request **out,
			      struct np_error *err)
{
	struct np__xlcfg c = { 0 };
	struct xr r = { .name = name ? name : "xl.cfg", .buf = buf, .c = &c, .err = err };
	np_request *q = NULL;
	long vcpus = 0, mem = 0;
	int rc;

	if (!buf)
		return np__err(err, NP_EINPUT, "%s: no document", r.name);
	if ((unsigned)device_policy > NP_PCI_POLICY_SOCKET)
		return np__err(err, NP_EINPUT, "%s: unknown PCI policy %d", r.name,
			       (int)device_policy);
	rc = np__xlcfg_parse(buf, len, r.name, &c, err);
	if (!rc && !(rc = size(&r, &vcpus, &mem)) && !(rc = cells(&r, vcpus, mem, &q))) {
		if (has(&r, "cpus") != has(&r, "cpus_soft"))
			q->affinity = has(&r, "cpus") ? NP_AFFINITY_HARD : NP_AFFINITY_SOFT;
		if (!(rc = devices(&r, q, device_policy)))
			rc = np__request_check(q, err);
	}
	if (rc)
		np_request_free(q);
	else
		*out = q;
	np__xlcfg_free(&c);
	return rc;
}
