/*
 * flavor-text.c - the CLI's one-line flavor and image:
 *   --flavor 'vcpus=8,ram=4096,hw:numa_nodes=2,hw:numa_cpus.0=0-3,^2,...'
 *   --image  'hw_cpu_policy=dedicated,hw_mem_page_size=2048'
 * turned into Nova extra specs / image properties and built by
 * np_request_from_nova(), so every Nova rule applies unchanged.
 *
 * The comma rule: Nova values contain commas themselves (CPU lists
 * "0-3,^2", "pci_passthrough:alias=a:1,b:2"), so a comma starts a new pair
 * only when the text after it looks like `key=`, a key being a letter or
 * '_' followed by letters, digits and "_:.-"; any other piece continues
 * the previous value, comma included.  A trailing comma is ignored; blanks
 * around keys and values are dropped.  Hence a value can hold anything
 * except ",key=" (no Nova value does).
 *
 * `vcpus` and `ram` (or `memory_mb`) are the flavor's; every other key of
 * --flavor is an extra spec, including numaplace's own `numaplace:*`
 * (mem_policy, affinity, pci_alias.NAME; see docs/formats/request.md).
 *
 * Ownership: the pairs point into private copies of the two texts, freed
 * before returning.
 */
#include "request/request-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pairs {
	char *buf; /* the text, cut in place */
	struct np_kv *kv;
	size_t n, cap;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (blank(*s))
		s++;
	while (e > s && blank(e[-1]))
		*--e = '\0';
	return s;
}

/* Length of the `key` of a piece that starts a pair ("  hw:x.0 =..."), or 0. */
static size_t key_len(const char *p)
{
	const char *s = p;

	while (blank(*s))
		s++;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
	       (*s && strchr("_:.-", *s)))
		s++;
	while (blank(*s))
		s++;
	return *s == '=' ? (size_t)(s - p) : 0;
}

static int add_pair(struct pairs *p, char *key, char *value)
{
	if (np__grow((void **)&p->kv, &p->cap, p->n + 1, sizeof(*p->kv)) < 0)
		return NP_ENOMEM;
	p->kv[p->n++] = (struct np_kv){key, value};
	return 0;
}

static int fail(struct np_error *err, const char *what, const char *fmt, ...) NP__PRINTF(3, 4);

static int fail(struct np_error *err, const char *what, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return np__err_reason(err, NP_EINPUT, "invalid_flavor_text",
			      "--%s: %s (invalid_flavor_text)", what, msg);
}

/*
 * Cut TEXT into key=value pairs by the comma rule above: a value runs
 * until the comma before the next `key=`, so it is only terminated then.
 */
static int split_pairs(const char *text, const char *what, struct pairs *p, struct np_error *err)
{
	char *s;

	if (!(p->buf = strdup(text)))
		return np__err(err, NP_ENOMEM, "out of memory");
	for (s = p->buf;; s++) {
		char *comma = strchr(s, ',');
		size_t k = key_len(s);

		if (comma)
			*comma = '\0'; /* look at this piece alone, restored below */
		if (k && s > p->buf)
			s[-1] = '\0'; /* ends the previous value */
		if (k) {
			s[k] = '\0';
			if (add_pair(p, s, s + k + 1) < 0)
				return np__err(err, NP_ENOMEM, "out of memory");
		} else if (!p->n && (*trim(s) || comma)) {
			return fail(err, what, "expected key=value at '%.40s'", s);
		}
		if (!comma && !k && !*trim(s) && s > p->buf)
			s[-1] = '\0'; /* a trailing comma */
		if (!comma)
			break;
		*comma = ',';
		s = comma;
	}
	for (size_t i = 0; i < p->n; i++) {
		p->kv[i].key = trim((char *)p->kv[i].key);
		p->kv[i].value = trim((char *)p->kv[i].value);
	}
	return 0;
}

/* Take `vcpus`, `ram` / `memory_mb` out of the flavor's pairs. */
static int flavor_sizes(struct pairs *p, unsigned *vcpus, uint64_t *mem, struct np_error *err)
{
	const char *v = NULL, *m = NULL, *mkey = NULL;
	size_t out = 0;
	long n;

	for (size_t i = 0; i < p->n; i++) {
		const char *k = p->kv[i].key;
		bool is_mem = strcmp(k, "ram") == 0 || strcmp(k, "memory_mb") == 0;

		if ((strcmp(k, "vcpus") == 0 && v) || (is_mem && m))
			return fail(err, "flavor", "'%s' given twice", is_mem ? "ram" : "vcpus");
		if (strcmp(k, "vcpus") == 0)
			v = p->kv[i].value;
		else if (is_mem)
			m = p->kv[i].value, mkey = k;
		else
			p->kv[out++] = p->kv[i];
	}
	p->n = out;
	if (!v || !m)
		return fail(err, "flavor", "needs %s", !v ? "vcpus=N" : "ram=MiB");
	if (!np__parse_int(v, 1, NP_VCPUS_MAX, &n))
		return fail(err, "flavor", "vcpus=%.40s is not a number of vCPUs (1-%d)", v,
			    NP_VCPUS_MAX);
	*vcpus = (unsigned)n;
	if (!np__parse_u64(m, mem) || *mem == 0)
		return fail(err, "flavor", "%s=%.40s is not a size in MiB", mkey, m);
	return 0;
}

int np_request_from_flavor_text(const char *flavor, const char *image, np_request **out,
				struct np_error *err)
{
	struct pairs fl = {0}, im = {0};
	unsigned vcpus = 0;
	uint64_t mem = 0;
	int rc;

	if (!flavor)
		return fail(err, "flavor", "is missing");
	rc = split_pairs(flavor, "flavor", &fl, err);
	if (!rc && image)
		rc = split_pairs(image, "image", &im, err);
	if (!rc)
		rc = flavor_sizes(&fl, &vcpus, &mem, err);
	if (!rc)
		rc = np_request_from_nova(vcpus, mem, fl.kv, fl.n, im.kv, im.n, NULL, 0, out, err);
	free(fl.buf);
	free(fl.kv);
	free(im.buf);
	free(im.kv);
	return rc;
}
