/*
 * guest.c - the body of POST /v1/placements read into a guest: {"id",
 * "flavor": {"vcpus", "memory_mb", "extra_specs"}, "image":
 * {"properties"}, "host"?, "allow_moves"?, "pci_aliases"?} in Nova's keys,
 * and no other member (pci_aliases: Nova's `[pci] alias` entries, for a
 * flavor's pci_passthrough:alias);
 * POST /v1/fit (fit.c) reads its flavor and image here too.  The request is built by the
 * library exactly as Nova's API builds it (np_request_from_nova), so a
 * flavor Nova refuses is a 400 with Nova's reason.  Apart from the
 * handler so that the fuzzer (tests/fuzz/fuzz-service-body.c) feeds it
 * without a store.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/limits.h>

#include "svc.h"

#define MAX_KV 128

struct kvs {
	struct np_kv kv[MAX_KV];
	char *text[MAX_KV]; /* values that came as numbers or booleans */
	size_t n;
};

static void kvs_free(struct kvs *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->text[i]);
}

/* OBJ's members as key/value text; numbers and booleans as Nova would read them. */
static int kvs_from(json_t *obj, const char *where, struct kvs *k, struct svc_resp *rs)
{
	const char *key;
	json_t *v;

	if (!obj)
		return 0;
	if (!json_is_object(obj)) {
		svc_error(rs, "bad_request", "%s: expected an object of strings", where);
		return -1;
	}
	json_object_foreach(obj, key, v) {
		char buf[64];

		if (k->n == MAX_KV) {
			svc_error(rs, "bad_request", "%s: more than %d keys", where, MAX_KV);
			return -1;
		}
		k->text[k->n] = NULL;
		if (json_is_string(v))
			k->kv[k->n].value = json_string_value(v);
		else if (json_is_integer(v))
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
		else {
			svc_error(rs, "bad_request", "%s.%s: expected a string", where, key);
			return -1;
		}
		if (!json_is_string(v)) {
			if (!(k->text[k->n] = strdup(buf))) {
				svc_error(rs, "internal", "out of memory");
				return -1;
			}
			k->kv[k->n].value = k->text[k->n];
		}
		k->kv[k->n++].key = key;
	}
	return 0;
}

static int positive(json_t *flavor, const char *key, const char *alt, json_int_t max,
		    json_int_t *out, struct svc_resp *rs)
{
	json_t *v = json_object_get(flavor, key);

	if (!v && alt)
		v = json_object_get(flavor, alt);
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
		svc_error(rs, "bad_request", "flavor.%s: want an integer from 1 to %lld", key,
			  (long long)max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

#define MAX_ALIASES 64

/* Exactly four hex digits (Nova's vendor and product id pattern). */
static bool hex4(json_t *v, unsigned *out)
{
	const char *s = json_string_value(v);
	char *end;

	if (!s || strlen(s) != 4 || strspn(s, "0123456789abcdefABCDEF") != 4)
		return false;
	*out = (unsigned)strtoul(s, &end, 16);
	return true;
}

/* One entry of "pci_aliases" (Nova's `[pci] alias`: name, vendor_id, product_id, numa_policy). */
static int alias_of(json_t *a, size_t i, struct np_pci_alias *out, struct svc_resp *rs)
{
	json_t *name = json_object_get(a, "name"), *pol = json_object_get(a, "numa_policy");
	enum np_pci_policy p;

	if (!json_is_object(a) || !json_is_string(name) || !json_string_length(name) ||
	    json_string_length(name) > 63 || !hex4(json_object_get(a, "vendor_id"), &out->vendor) ||
	    !hex4(json_object_get(a, "product_id"), &out->product)) {
		svc_error(rs, "bad_request", "pci_aliases[%zu]: want {\"name\", \"vendor_id\", "
			  "\"product_id\"} with 4-hex-digit ids", i);
		return -1;
	}
	out->name = json_string_value(name);
	for (p = NP_PCI_POLICY_LEGACY; pol && p <= NP_PCI_POLICY_SOCKET; p++)
		if (json_is_string(pol) && !strcmp(json_string_value(pol), np_pci_policy_name(p))) {
			out->has_policy = true;
			out->policy = p;
		}
	if (pol && !out->has_policy) {
		svc_error(rs, "bad_request", "pci_aliases[%zu].numa_policy: want legacy, required, "
			  "preferred or socket", i);
		return -1;
	}
	return 0;
}

/* BODY's "pci_aliases" (Nova's `[pci] alias` table, for pci_passthrough:alias), or a 400. */
static int aliases_of(json_t *body, struct np_pci_alias *out, size_t *n, struct svc_resp *rs)
{
	json_t *list = json_object_get(body, "pci_aliases"), *a;
	size_t i;

	*n = 0;
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list) || json_array_size(list) > MAX_ALIASES) {
		svc_error(rs, "bad_request", "pci_aliases: want an array of at most %d aliases",
			  MAX_ALIASES);
		return -1;
	}
	json_array_foreach(list, i, a) {
		out[i] = (struct np_pci_alias){ 0 };
		if (alias_of(a, i, &out[i], rs))
			return -1;
	}
	*n = json_array_size(list);
	return 0;
}

/* The guest of BODY, or an answered 400 and NULL (POST /v1/fit asks the same way). */
np_request *svc_request_of(json_t *body, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	json_t *flavor = json_object_get(body, "flavor"), *image = json_object_get(body, "image");
	struct kvs specs = { .n = 0 }, props = { .n = 0 };
	struct np_pci_alias aliases[MAX_ALIASES];
	size_t naliases = 0;
	np_request *req = NULL;
	json_int_t vcpus, mem;

	if (!json_is_object(flavor)) {
		svc_error(rs, "bad_request", "flavor: expected an object");
		return NULL;
	}
	if (image && !json_is_object(image) && !json_is_null(image)) {
		svc_error(rs, "bad_request", "image: expected an object");
		return NULL;
	}
	if (positive(flavor, "vcpus", NULL, 4096, &vcpus, rs) ||
	    positive(flavor, "memory_mb", "ram", (json_int_t)1 << 40, &mem, rs) ||
	    kvs_from(json_object_get(flavor, "extra_specs"), "flavor.extra_specs", &specs, rs) ||
	    kvs_from(json_object_get(image, "properties"), "image.properties", &props, rs) ||
	    aliases_of(body, aliases, &naliases, rs))
		goto out;
	if (np_request_from_nova((unsigned)vcpus, (uint64_t)mem, specs.kv, specs.n, props.kv,
				 props.n, naliases ? aliases : NULL, naliases, &req, &err))
		svc_error_np(rs, &err);
out:
	kvs_free(&specs);
	kvs_free(&props);
	return req;
}

/* "allow_moves": absent or null 0, else a whole number 0..NP_MOVES_MAX; -1 and RS answered. */
static int allow_moves_of(json_t *body, int *out, struct svc_resp *rs)
{
	json_t *v = json_object_get(body, "allow_moves");

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > NP_MOVES_MAX) {
		svc_error(rs, "bad_request", "allow_moves: expected a whole number from 0 to %d",
			  NP_MOVES_MAX);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

int svc_guest_parse(const char *body, size_t len, struct svc_guest *g, struct svc_resp *rs)
{
	struct svc_req rq = { .body = body, .body_len = len };
	json_t *id, *host;

	memset(g, 0, sizeof(*g));
	if (!(g->body = svc_body_object(&rq, rs)))
		return -1;
	/* A typo ("hots", "flavour") is refused, not a guest placed without it. */
	if (svc_only_keys(g->body, "id flavor image host allow_moves pci_aliases", "key", rs))
		goto bad;
	id = json_object_get(g->body, "id");
	host = json_object_get(g->body, "host");
	if (!json_is_string(id) || !json_string_length(id)) {
		svc_error(rs, "bad_request", "id: expected a non-empty string");
		goto bad;
	}
	if (host && !json_is_null(host) && !json_is_string(host)) {
		svc_error(rs, "bad_request", "host: expected a string");
		goto bad;
	}
	if (allow_moves_of(g->body, &g->allow_moves, rs))
		goto bad;
	g->id = json_string_value(id);
	g->host = json_string_value(host);
	if ((g->req = svc_request_of(g->body, rs)))
		return 0;
bad:
	svc_guest_free(g);
	return -1;
}

void svc_guest_free(struct svc_guest *g)
{
	np_request_free(g->req);
	json_decref(g->body);
	memset(g, 0, sizeof(*g));
}
