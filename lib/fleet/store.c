/*
 * store.c - the one dispatcher from a store URL to its driver table
 * (store.h), and the id rule every driver and the fleet share.
 *
 * Schemes: "sqlite:PATH"; "postgresql://..." and "postgres://..." (the
 * whole URL goes to libpq); "postgresql:KEY=VALUE ..." (libpq's keyword
 * form, the part after the colon).  A scheme this build was made without
 * is NP_EUNSUPPORTED, so the message can say so rather than "unknown";
 * each driver is a module, loaded here by the first store of its kind.
 */
#include "fleet/store.h"
#include "module/module.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/limits.h>

#include "util/util.h"

#define ID_MAX 255

/* Scheme -> the module that has its driver (lib/module/module.h). */
static const struct {
	const char *scheme, *module;
} drivers[] = {
	{ "sqlite", "sqlite" },
	{ "postgresql", "postgresql" },
	{ "postgres", "postgresql" },
};

/* URL for messages: printable, cut, passwords as '*'. */
static void shown(const char *url, char *out, size_t size)
{
	const char *sl = strstr(url, "://"), *at = sl ? strchr(sl + 3, '@') : NULL;
	const char *colon = at ? memchr(sl + 3, ':', (size_t)(at - sl - 3)) : NULL;
	const char *pw = strstr(url, "password=");
	const char *c;
	size_t k = 0;

	for (c = url; *c && k + 5 < size; c++) {
		if (colon && c == colon + 1) {
			out[k++] = '*';
			c = at - 1;
		} else if (pw && c == pw + 9) {
			out[k++] = '*';
			while (c[1] && c[1] != ' ' && c[1] != '&')
				c++;
		} else {
			out[k++] = isprint((unsigned char)*c) ? *c : '?';
		}
	}
	if (*c)
		out[k++] = '.', out[k++] = '.', out[k++] = '.';
	out[k] = '\0';
}

int np__store_driver_for(const char *url, const struct np__store_driver **drv,
			 const char **location, struct np_error *err)
{
	const char *colon = url ? strchr(url, ':') : NULL;
	char show[128];
	size_t n;

	if (!url || !*url)
		return np__err(err, NP_EINPUT, "no store given (sqlite:PATH or postgresql://...)");
	shown(url, show, sizeof(show));
	if (!colon)
		return np__err(err, NP_EINPUT,
			       "'%s' is not a store URL (sqlite:PATH or postgresql://...)", show);
	n = (size_t)(colon - url);
	for (size_t i = 0; i < NP__ARRAY_SIZE(drivers); i++) {
		if (strlen(drivers[i].scheme) != n || strncmp(drivers[i].scheme, url, n) != 0)
			continue;
		const struct np__module *m;
		int rc;

		if (!colon[1])
			return np__err(err, NP_EINPUT, "store '%s' names no %s", show,
				       n == 6 ? "file (sqlite:PATH)" : "database");
		if ((rc = np__module_get(drivers[i].module, &m, err)))
			return rc;
		*drv = m->ops;
		*location = strncmp(colon, "://", 3) == 0 ? url : colon + 1;
		return 0;
	}
	return np__err(err, NP_EINPUT,
		       "unknown store kind '%.*s' in '%s' (sqlite:PATH or postgresql://...)",
		       (int)(n < 32 ? n : 32), url, show);
}

/* Version V of URL's store is past what DRV reads: the one error that says so. */
static int too_new(const struct np__store_driver *drv, const char *url, long v,
		   struct np_error *err)
{
	char show[128];

	shown(url, show, sizeof(show));
	return np__err_reason(err, NP_EINPUT, "schema_too_new", "store '%s' has fleet schema "
			      "version %ld; this numaplace reads up to %d", show, v, drv->schema);
}

int np__store_open(const char *url, bool create, const struct np__store_driver **drv,
		   struct np__store **out, struct np_error *err)
{
	const char *loc;
	struct np__store *s = NULL;
	char show[128];
	long v = 0;
	int rc = np__store_driver_for(url, drv, &loc, err);

	if (rc || (rc = (*drv)->open(url, loc, create, &s, err)) ||
	    (rc = (*drv)->version(s, &v, err)))
		goto out;
	shown(url, show, sizeof(show));
	if (v == 0 && !create)
		rc = np__err(err, NP_EINPUT, "store '%s' holds no numaplace fleet (add a host "
			     "first)", show);
	else if (v > (*drv)->schema)
		rc = too_new(*drv, url, v, err);
	else if (v < (*drv)->schema)
		rc = (*drv)->migrate(s, err);
out:
	if (rc) {
		if (s)
			(*drv)->close(s);
		return rc;
	}
	*out = s;
	return 0;
}

int np__store_recheck(const struct np__store_driver *drv, struct np__store *s, const char *url,
		      struct np_error *err)
{
	long v = 0;
	int rc = drv->version(s, &v, err);

	return rc ? rc : v > drv->schema ? too_new(drv, url, v, err) : 0;
}

/* Unicode White_Space outside the control characters (refused already). */
static bool is_space(uint32_t cp)
{
	return cp == 0x20 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/*
 * What every id keeps, old or new: 1-255 bytes of UTF-8 (np__utf8_decode():
 * shortest form, no surrogate, at most U+10FFFF) without control
 * characters (C0, DEL, and C1 as UTF-8, U+0080-U+009F: a terminal may
 * take U+009B for an escape sequence).  *FIRST and *LAST: its first and
 * last code points.
 */
static int check_text(const char *what, const char *id, uint32_t *first, uint32_t *last,
		      struct np_error *err)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0)
		return np__err(err, NP_EINPUT, "the %s is empty", what);
	if (n > ID_MAX)
		return np__err(err, NP_EINPUT, "the %s is longer than %d bytes", what, ID_MAX);
	for (size_t i = 0, k; i < n; i += k) {
		unsigned char c = (unsigned char)id[i];

		if (c < 0x20 || c == 0x7f)
			return np__err(err, NP_EINPUT, "the %s has a control character", what);
		*last = c;
		k = c < 0x80 ? 1 : np__utf8_decode((const unsigned char *)id + i, last);
		if (!k)
			return np__err(err, NP_EINPUT, "the %s is not valid UTF-8", what);
		if (*last >= 0x80 && *last <= 0x9f)
			return np__err(err, NP_EINPUT, "the %s has a control character", what);
		if (i == 0)
			*first = *last;
	}
	return 0;
}

/*
 * The id rule for new ids (host names, placement and domain names): the
 * text above, and a name /v1/hosts/{name} or /v1/placements/{id} can
 * address: not "." or ".." (a client resolves those as path segments), no
 * '/' (many proxies refuse or decode a %2F in a path: numaplace serve
 * reads one, for names an older numaplace stored), no white space at
 * either end (lost by shells, forms and the eye).
 */
int np__fleet_check_id(const char *what, const char *id, struct np_error *err)
{
	uint32_t first = 0, last = 0;
	int rc = check_text(what, id, &first, &last, err);

	if (rc)
		return rc;
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return np__err(err, NP_EINPUT, "the %s '%s' is a dot segment, which a URL path "
			       "cannot name", what, id);
	if (strchr(id, '/'))
		return np__err(err, NP_EINPUT, "the %s '%s' has a '/', which proxies do not "
			       "pass in a URL path, even as %%2F", what, id);
	if (is_space(first) || is_space(last))
		return np__err(err, NP_EINPUT, "the %s '%s' begins or ends with white space",
			       what, id);
	return 0;
}

int np__fleet_check_known(const char *what, const char *id, struct np_error *err)
{
	uint32_t first = 0, last = 0;

	return check_text(what, id, &first, &last, err);
}

int np__obs_acc_init(struct np__obs_acc *a, const char *id, struct np_error *err)
{
	*a = (struct np__obs_acc){ .err = err };
	a->rec.placement = id;
	if (!(a->nodes = malloc(NP_NODES_MAX * sizeof(*a->nodes))))
		return np__err(err, NP_ENOMEM, "out of memory");
	return 0;
}

int np__obs_acc_row(struct np__obs_acc *a, int64_t host_id, int64_t at, const char *source,
		    int pid, const char *domain, const struct np__obs_node *node)
{
	if (!a->seen) {
		a->seen = true;
		a->rec.host_id = host_id;
		a->rec.at = at;
		a->rec.pid = pid;
		a->source = strdup(source);
		a->domain = domain ? strdup(domain) : NULL;
		if (!a->source || (domain && !a->domain))
			return np__err(a->err, NP_ENOMEM, "out of memory");
	}
	if (!node)
		return 0;
	if (a->rec.nnodes >= NP_NODES_MAX)
		return np__err(a->err, NP_EINPUT, "the store has too many observed nodes");
	a->nodes[a->rec.nnodes++] = *node;
	return 0;
}

int np__obs_acc_done(struct np__obs_acc *a, int rc, np__obs_cb cb, void *ctx)
{
	a->rec.source = a->source;
	a->rec.domain = a->domain;
	a->rec.nodes = a->nodes;
	if (!rc && a->seen)
		rc = cb(ctx, &a->rec);
	free(a->nodes);
	free(a->source);
	free(a->domain);
	return rc;
}

int np__release_given(struct np__release *rel, int node, const char *rc, int64_t amount,
		      int cpu)
{
	struct np__takes *t = &rel->given;

	if (rc) {
		if (strlen(rc) >= NP__RC_MAX ||
		    np__grow((void **)&t->takes, &rel->tcap, (size_t)t->ntakes + 1, sizeof(*t->takes)))
			return NP_ENOMEM;
		t->takes[t->ntakes] = (struct np__take){ .node = node, .amount = amount };
		memcpy(t->takes[t->ntakes++].rc, rc, strlen(rc) + 1);
		return 0;
	}
	if (np__grow((void **)&t->pins, &rel->pcap, (size_t)t->npins + 1, sizeof(*t->pins)))
		return NP_ENOMEM;
	t->pins[t->npins++] = (struct np__pin){ cpu, node };
	return 0;
}
