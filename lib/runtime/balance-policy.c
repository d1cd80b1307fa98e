/*
 * balance-policy.c - the balancer's policy file: what it may touch.
 *
 *   {"guests": ["pid:1234", "domain:web", "*"],   which guests (default "*")
 *    "never": ["domain:db"],                      never these
 *    "migrate": true, "repin": true,              what it may do (default both)
 *    "nodes": [0, 1],                             nodes it may move things to
 *    "rate_mb_s": 200,                            page migration limit (0 none)
 *    "libvirt": ["qemu:///system"],               libvirt URIs domains may name
 *    "params": {"stuck_ms": 2000, "rescue_ms": 500, "cooldown_ms": 30000,
 *               "follow_fraction": 0.6, "overload": 1.2, "idle": 0.6,
 *               "migrate_budget_mb": 1024, "migrate_mb_per_s": 1000}}
 *
 * Every key is optional; an unknown key, a wrong type or a value out of
 * range is bad input naming the key, so a typo never silently widens what
 * the balancer does.  "libvirt" names the connections the (root) balancer
 * may open for domain preferences, so it is taken only from a file that
 * nobody but root or the balancer's own user may have written: owned by
 * one of them, writable by no group or other user.
 */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/balance-int.h"
#include "util/json-util.h"
#include "util/util.h"

/* A policy is a few hundred bytes; this only bounds a wrong file. */
#define POLICY_MAX ((size_t)1 << 20)

static int strings(json_t *v, const char *key, char ***out, int *n, struct np_error *err)
{
	size_t len = json_array_size(v);

	if (!json_is_array(v))
		return np__err(err, NP_EINPUT, "key '%s': expected a list of strings", key);
	*out = np__calloc(len + 1, sizeof(char *));
	if (!*out)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (size_t i = 0; i < len; i++) {
		const char *s = json_string_value(json_array_get(v, i));

		if (!s || (strncmp(s, "pid:", 4) && strncmp(s, "domain:", 7) && strcmp(s, "*")))
			return np__err(err, NP_EINPUT, "key '%s': element %zu is not \"pid:N\", "
				       "\"domain:NAME\" or \"*\"", key, i);
		if (!((*out)[i] = strdup(s)))
			return np__err(err, NP_ENOMEM, "out of memory");
		(*n)++;
	}
	return 0;
}

/* "libvirt": URIs, each 1-255 bytes without control characters. */
static int uris(json_t *v, struct np__bal_policy *pol, struct np_error *err)
{
	size_t len = json_array_size(v);

	if (!pol->trusted)
		return np__err(err, NP_EINPUT, "key 'libvirt': libvirt URIs are taken only from a "
			       "file owned by root or this user and writable by no one else (%s)",
			       pol->why);
	if (!json_is_array(v))
		return np__err(err, NP_EINPUT, "key 'libvirt': expected a list of URIs");
	pol->uris = np__calloc(len + 1, sizeof(char *));
	if (!pol->uris)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (size_t i = 0; i < len; i++) {
		const char *s = json_string_value(json_array_get(v, i));
		size_t n = s ? strlen(s) : 0;

		for (size_t k = 0; k < n; k++)
			if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
				n = 0;
		if (n == 0 || n > 255)
			return np__err(err, NP_EINPUT, "key 'libvirt': element %zu is not a URI",
				       i);
		if (!(pol->uris[i] = strdup(s)))
			return np__err(err, NP_ENOMEM, "out of memory");
		pol->nuris++;
	}
	return 0;
}

static int nodes(const np_topo *topo, json_t *v, bool *ok, struct np_error *err)
{
	size_t len = json_array_size(v);

	if (!json_is_array(v) || len == 0)
		return np__err(err, NP_EINPUT, "key 'nodes': expected a list of node ids");
	for (int i = 0; i < np_topo_node_count(topo); i++)
		ok[i] = false;
	for (size_t i = 0; i < len; i++) {
		json_t *e = json_array_get(v, i);
		int idx = json_is_integer(e) && json_integer_value(e) >= 0 &&
					  json_integer_value(e) < (1 << 22)
				  ? np_topo_node_index(topo, (int)json_integer_value(e)) : -1;

		if (idx < 0)
			return np__err(err, NP_EINPUT, "key 'nodes': element %zu is not a node of "
				       "this host", i);
		ok[idx] = true;
	}
	return 0;
}

static int number(json_t *v, const char *key, double min, double max, double *out,
		  struct np_error *err)
{
	double d = json_number_value(v);

	if (!json_is_number(v) || !isfinite(d) || d < min || d > max)
		return np__err(err, NP_EINPUT, "key '%s': expected a number from %g to %g", key,
			       min, max);
	*out = d;
	return 0;
}

static int params(json_t *o, struct np_bal_params *p, struct np_error *err)
{
	static const char *const u_keys[] = { "stuck_ms", "rescue_ms", "cooldown_ms",
					      "migrate_budget_mb" };
	uint64_t *u[] = { &p->stuck_ms, &p->rescue_ms, &p->cooldown_ms, &p->migrate_budget_mb };
	static const char *const f_keys[] = { "follow_fraction", "overload", "idle",
					      "migrate_mb_per_s" };
	double *f[] = { &p->follow_fraction, &p->overload, &p->idle, &p->migrate_mb_per_s };
	const char *key;
	json_t *v;
	double d = 0; /* number() sets it; -O3 cannot tell */

	if (!json_is_object(o))
		return np__err(err, NP_EINPUT, "key 'params': expected an object");
	json_object_foreach(o, key, v) {
		size_t i = 0, j = 0;

		while (i < 4 && strcmp(key, u_keys[i]))
			i++;
		while (j < 4 && strcmp(key, f_keys[j]))
			j++;
		if (i == 4 && j == 4)
			return np__err(err, NP_EINPUT, "params: unknown key '%s'", key);
		if (number(v, key, 0, 1e12, &d, err))
			return NP_EINPUT;
		if (i < 4)
			*u[i] = (uint64_t)d;
		else
			*f[j] = d;
	}
	return 0;
}

static int one_key(const np_topo *topo, const char *key, json_t *v, struct np__bal_policy *pol,
		   struct np_error *err)
{
	if (strcmp(key, "guests") == 0)
		return strings(v, key, &pol->touch, &pol->ntouch, err);
	if (strcmp(key, "never") == 0)
		return strings(v, key, &pol->never, &pol->nnever, err);
	if (strcmp(key, "migrate") == 0 || strcmp(key, "repin") == 0) {
		if (!json_is_boolean(v))
			return np__err(err, NP_EINPUT, "key '%s': expected true or false", key);
		*(key[0] == 'm' ? &pol->may_migrate : &pol->may_repin) = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "nodes") == 0)
		return nodes(topo, v, pol->node_ok, err);
	if (strcmp(key, "rate_mb_s") == 0)
		return number(v, key, 0, 1e9, &pol->rate_mb_s, err);
	if (strcmp(key, "params") == 0)
		return params(v, &pol->params, err);
	if (strcmp(key, "libvirt") == 0)
		return uris(v, pol, err);
	if (strcmp(key, "schema") == 0)
		return 0;
	return np__err(err, NP_EINPUT, "unknown key '%s'", key);
}

int np__bal_policy_load(const np_topo *topo, const char *path, struct np__bal_policy *pol,
			struct np_error *err)
{
	json_error_t jerr;
	json_t *o, *v;
	const char *key;
	char *buf = NULL;
	size_t len = 0;
	int rc = 0;
	struct np_error e2 = { 0 };

	const char *kind;
	char why[96];
	struct stat st;
	int fd;

	if (!path)
		return 0;
	/* Opened as the one reader does: a FIFO or device must not hang us. */
	fd = np__open_regular(path, O_RDONLY, 0, &kind);
	if (fd < 0)
		return np__open_fail(err, NP_EIO, "read", path, kind);
	if (fstat(fd, &st) != 0)
		snprintf(pol->why, sizeof(pol->why), "it cannot be examined");
	else if (!np__untrusted(&st, false, why, sizeof(why)))
		pol->trusted = true;
	else
		snprintf(pol->why, sizeof(pol->why), "it is %s", why);
	rc = np__read_fd(fd, path, POLICY_MAX, &buf, &len, err);
	close(fd);
	if (rc)
		return rc;
	o = np__json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!o)
		return np__err(err, NP_EINPUT, "cannot load policy '%s': line %d: %s", path,
			       jerr.line, jerr.text);
	if (!json_is_object(o))
		rc = np__err(&e2, NP_EINPUT, "expected an object");
	json_object_foreach(o, key, v) {
		if (!rc)
			rc = one_key(topo, key, v, pol, &e2);
	}
	json_decref(o);
	if (rc)
		return np__err(err, rc, "cannot load policy '%s': %s", path, e2.message);
	return 0;
}

void np__bal_policy_free(struct np__bal_policy *pol)
{
	for (int i = 0; i < pol->ntouch; i++)
		free(pol->touch[i]);
	for (int i = 0; i < pol->nnever; i++)
		free(pol->never[i]);
	for (int i = 0; i < pol->nuris; i++)
		free(pol->uris[i]);
	free(pol->touch);
	free(pol->never);
	free(pol->uris);
	free(pol->node_ok);
}

static bool listed(char **list, int n, const char *label)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], "*") == 0 || strcmp(list[i], label) == 0)
			return true;
	return false;
}

bool np__bal_policy_touches(const struct np__bal_policy *pol, const char *label)
{
	if (listed(pol->never, pol->nnever, label))
		return false;
	return pol->ntouch == 0 || listed(pol->touch, pol->ntouch, label);
}
