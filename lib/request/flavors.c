/*
 * flavors.c - the flavor catalogue reader (flavors.h, docs/formats/
 * flavors.md): a JSON list of flavors in Nova's keys (vcpus, memory_mb,
 * extra_specs, image_properties) or numaplace.request/1 ("request"), each
 * with an optional name and weight, into requests and weight shares.
 *
 * Design: the requests are built by the request readers every other input
 * goes through (np_request_from_nova(), np_request_from_json()), so a
 * flavor means here what it means to `place --flavor` and to Nova.  The
 * document is hostile input: unknown keys, wrong types, weights out of
 * range and more than NP_FLAVORS_MAX flavors are refused with one line
 * naming the flavor.
 */
#include <ctype.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/flavors.h>
#include <numaplace/limits.h>
#include <numaplace/util.h>

#include "util/json-util.h"
#include "util/util.h"

#define WEIGHT_MAX 1e6
#define ALIASES_MAX 64
#define FILE_MAX (64u << 20)

struct flavor {
	char *name;
	np_request *req;
	double weight;
};

struct np_flavors {
	struct flavor *f;
	int n;
	double total;
};

struct rd {
	const char *name;
	struct np_error *err;
	struct np_pci_alias aliases[ALIASES_MAX];
	size_t naliases;
};

static int fail(struct rd *r, const char *fmt, ...) NP__PRINTF(2, 3);

static int fail(struct rd *r, const char *fmt, ...)
{
	struct np_error e;
	va_list ap;

	va_start(ap, fmt);
	np__verr(&e, NP_EINPUT, fmt, ap);
	va_end(ap);
	return np__err(r->err, NP_EINPUT, "cannot load '%s': %s", r->name, e.message);
}

static int bad(struct rd *r, const char *path, const char *what, const json_t *v)
{
	char found[40];

	if (!v)
		return fail(r, "%s: missing (expected %s)", path, what);
	np__json_describe(v, found, sizeof(found));
	return fail(r, "%s: expected %s, not %s", path, what, found);
}

/* Every key of OBJ is one of KEYS (NULL-terminated). */
static int only_keys(struct rd *r, const json_t *obj, const char *path, const char *const *keys)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		int k = 0;

		while (keys[k] && strcmp(keys[k], key) != 0)
			k++;
		if (!keys[k])
			return fail(r, "%s: unknown key '%.64s'", path, key);
	}
	return 0;
}

static int read_aliases(struct rd *r, const json_t *list)
{
	static const char *const keys[] = { "name", "vendor_id", "product_id", "numa_policy", NULL };
	size_t i;
	json_t *a;

	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > ALIASES_MAX)
		return bad(r, "pci_aliases", "an array of at most 64 aliases", list);
	json_array_foreach(list, i, a) {
		struct np_pci_alias *p = &r->aliases[i];
		const json_t *pol;
		char path[48];
		int rc;

		snprintf(path, sizeof(path), "pci_aliases[%zu]", i);
		if (!json_is_object(a))
			return bad(r, path, "an object", a);
		if ((rc = only_keys(r, a, path, keys)))
			return rc;
		if (!json_is_string(json_object_get(a, "name")))
			return bad(r, path, "a string \"name\"", json_object_get(a, "name"));
		p->name = json_string_value(json_object_get(a, "name"));
		if (!np__json_pci_id(json_object_get(a, "vendor_id"), &p->vendor) ||
		    !np__json_pci_id(json_object_get(a, "product_id"), &p->product))
			return fail(r, "%s: vendor_id and product_id must be 4 hex digits", path);
		pol = json_object_get(a, "numa_policy");
		p->has_policy = pol != NULL;
		if (pol && (!json_is_string(pol) ||
			    np_pci_policy_from_name(json_string_value(pol), &p->policy)))
			return bad(r, path, "numa_policy legacy, required, preferred or socket", pol);
	}
	r->naliases = i;
	return 0;
}

/* Nova keeps extra specs as strings; a number or boolean is taken as its text. */
static int read_kv(struct rd *r, const json_t *obj, const char *path, struct np_kv **out,
		   size_t *n, char ***texts)
{
	const char *key;
	json_t *v;
	size_t i = 0;

	*out = NULL;
	*texts = NULL;
	*n = 0;
	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return bad(r, path, "an object of keys and string values", obj);
	*out = np__calloc(json_object_size(obj) + 1, sizeof(**out));
	*texts = np__calloc(json_object_size(obj) + 1, sizeof(**texts));
	if (!*out || !*texts)
		return np__err(r->err, NP_ENOMEM, "out of memory");
	json_object_foreach((json_t *)obj, key, v) {
		if (json_is_string(v))
			(*texts)[i] = strdup(json_string_value(v));
		else if (json_is_integer(v) || json_is_boolean(v))
			(*texts)[i] = json_dumps(v, JSON_ENCODE_ANY);
		else
			return bad(r, path, "string values", v);
		if (!(*texts)[i])
			return np__err(r->err, NP_ENOMEM, "out of memory");
		if (json_is_boolean(v))
			(*texts)[i][0] = (char)toupper((unsigned char)(*texts)[i][0]); /* str(True) */
		(*out)[i].key = key;
		(*out)[i].value = (*texts)[i];
		*n = ++i;
	}
	return 0;
}

static void texts_free(char **t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		free(t[i]);
	free(t);
}

static int int_key(struct rd *r, const json_t *obj, const char *path, const char *key,
		   json_int_t max, json_int_t *out)
{
	const json_t *v = json_object_get(obj, key);
	char p[64];

	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
		char what[48];

		snprintf(what, sizeof(what), "an integer from 1 to %lld", (long long)max);
		return bad(r, p, what, v);
	}
	*out = json_integer_value(v);
	return 0;
}

/* A flavor in Nova's keys. */
static int nova_flavor(struct rd *r, const json_t *o, const char *path, np_request **req)
{
	struct np_kv *specs = NULL, *props = NULL;
	char **ts = NULL, **tp = NULL, p[64];
	size_t ns = 0, npr = 0;
	json_int_t vcpus, mem;
	struct np_error e = { 0 };
	int rc;

	if ((rc = int_key(r, o, path, "vcpus", NP_VCPUS_MAX, &vcpus)) ||
	    (rc = int_key(r, o, path, "memory_mb", (json_int_t)NP_MEMORY_MB_MAX, &mem)))
		return rc;
	snprintf(p, sizeof(p), "%s.extra_specs", path);
	rc = read_kv(r, json_object_get(o, "extra_specs"), p, &specs, &ns, &ts);
	snprintf(p, sizeof(p), "%s.image_properties", path);
	if (!rc)
		rc = read_kv(r, json_object_get(o, "image_properties"), p, &props, &npr, &tp);
	if (!rc && (rc = np_request_from_nova((unsigned)vcpus, (uint64_t)mem, specs, ns, props,
					      npr, r->aliases, r->naliases, req, &e)))
		rc = rc == NP_ENOMEM ? np__err(r->err, rc, "out of memory")
				     : fail(r, "%s: %s", path, e.message);
	texts_free(ts, ns);
	texts_free(tp, npr);
	free(specs);
	free(props);
	return rc;
}

/* A flavor as numaplace.request/1. */
static int json_flavor(struct rd *r, const json_t *q, const char *path, np_request **req)
{
	struct np_error e = { 0 };
	char *text;
	int rc;

	if (!json_is_object(q))
		return bad(r, path, "a numaplace.request/1 object", q);
	if (!(text = json_dumps(q, JSON_COMPACT)))
		return np__err(r->err, NP_ENOMEM, "out of memory");
	rc = np_request_from_json(text, strlen(text), "request", req, &e);
	free(text);
	if (rc)
		rc = rc == NP_ENOMEM ? np__err(r->err, rc, "out of memory")
				     : fail(r, "%s: %s", path, e.message);
	return rc;
}

static int read_flavor(struct rd *r, const json_t *o, size_t i, struct flavor *f)
{
	static const char *const keys[] = { "name", "weight", "vcpus", "memory_mb", "extra_specs",
					    "image_properties", "request", NULL };
	const json_t *w = NULL, *nm = NULL, *q = NULL;
	char path[40];
	int rc;

	snprintf(path, sizeof(path), "flavors[%zu]", i);
	if (!json_is_object(o))
		return bad(r, path, "an object (a flavor)", o);
	if ((rc = only_keys(r, o, path, keys)))
		return rc;
	nm = json_object_get(o, "name");
	w = json_object_get(o, "weight");
	q = json_object_get(o, "request");
	if (nm && (!json_is_string(nm) || strlen(json_string_value(nm)) > 255))
		return bad(r, path, "a \"name\" string of at most 255 bytes", nm);
	if (w && (!json_is_number(w) || !(json_number_value(w) >= 0) ||
		  json_number_value(w) > WEIGHT_MAX))
		return bad(r, path, "a \"weight\" from 0 to 1000000", w);
	if (q && (json_object_get(o, "vcpus") || json_object_get(o, "memory_mb") ||
		  json_object_get(o, "extra_specs") || json_object_get(o, "image_properties")))
		return fail(r, "%s: give \"request\" or Nova's keys, not both", path);
	f->weight = w ? json_number_value(w) : 1.0;
	if (!(f->name = strdup(nm ? json_string_value(nm) : "")))
		return np__err(r->err, NP_ENOMEM, "out of memory");
	return q ? json_flavor(r, q, path, &f->req) : nova_flavor(r, o, path, &f->req);
}

static int read_doc(struct rd *r, const json_t *root, np_flavors *fl)
{
	static const char *const keys[] = { "schema", "flavors", "pci_aliases", NULL };
	const json_t *list = root, *sc;
	size_t i;
	json_t *o;
	int rc;

	if (json_is_object(root)) {
		if ((rc = only_keys(r, root, "the catalogue", keys)))
			return rc;
		sc = json_object_get(root, "schema");
		if (sc && (!json_is_string(sc) ||
			   strcmp(json_string_value(sc), "numaplace.flavors/1") != 0))
			return bad(r, "schema", "\"numaplace.flavors/1\"", sc);
		if ((rc = read_aliases(r, json_object_get(root, "pci_aliases"))))
			return rc;
		list = json_object_get(root, "flavors");
	}
	if (json_is_array(list) && json_array_size(list) == 0)
		return fail(r, "flavors: the list is empty (expected 1 to 100000 flavors)");
	if (!json_is_array(list) || json_array_size(list) > NP_FLAVORS_MAX)
		return bad(r, "flavors", "an array of 1 to 100000 flavors", list);
	if (!(fl->f = np__calloc(json_array_size(list), sizeof(*fl->f))))
		return np__err(r->err, NP_ENOMEM, "out of memory");
	json_array_foreach(list, i, o) {
		fl->n = (int)i + 1;
		if ((rc = read_flavor(r, o, i, &fl->f[i])))
			return rc;
		fl->total += fl->f[i].weight;
	}
	if (!(fl->total > 0))
		return fail(r, "flavors: every weight is 0");
	return 0;
}

int np_flavors_parse(const char *buf, size_t len, const char *name, np_flavors **out,
		     struct np_error *err)
{
	struct rd r = { .name = name ? name : "flavors", .err = err };
	np_flavors *fl;
	json_error_t je;
	json_t *root;
	int rc;

	if (!buf || !out)
		return fail(&r, "no text");
	root = np__json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root && np__json_out_of_memory(&je))
		return np__err(err, NP_ENOMEM, "out of memory");
	if (!root)
		return fail(&r, "line %d: %s", je.line, je.text);
	if (!(fl = np__calloc(1, sizeof(*fl)))) {
		json_decref(root);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	rc = read_doc(&r, root, fl);
	json_decref(root);
	if (rc) {
		np_flavors_free(fl);
		return rc;
	}
	*out = fl;
	return 0;
}

int np_flavors_load(const char *path, np_flavors **out, struct np_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = np_read_file(path, FILE_MAX, &buf, &len, err);

	if (!rc)
		rc = np_flavors_parse(buf, len, strcmp(path, "-") ? path : "standard input", out,
				      err);
	free(buf);
	return rc;
}

void np_flavors_free(np_flavors *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->n; i++) {
		free(f->f[i].name);
		np_request_free(f->f[i].req);
	}
	free(f->f);
	free(f);
}

int np_flavors_count(const np_flavors *f)
{
	return f ? f->n : 0;
}

const char *np_flavors_name(const np_flavors *f, int i)
{
	return f && i >= 0 && i < f->n ? f->f[i].name : NULL;
}

const np_request *np_flavors_request(const np_flavors *f, int i)
{
	return f && i >= 0 && i < f->n ? f->f[i].req : NULL;
}

double np_flavors_share(const np_flavors *f, int i)
{
	return f && i >= 0 && i < f->n ? f->f[i].weight / f->total : 0;
}
