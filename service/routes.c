/*
 * routes.c - the route table of /v1: method, path pattern, handler.  A
 * pattern's '*' matches one non-empty path segment, which the handler
 * gets as its argument ({name}, {id}); the query parameters a route takes
 * are listed with it (http.c refuses any other, and one given twice).  One
 * table, so that the metrics, the 404/405 decision and
 * docs/api/openapi.yaml all read the same list.
 */
#include <string.h>

#include "svc.h"

static const struct svc_route routes[] = {
	{ "GET", "/v1/health", svc_health_get, "health", NULL },
	{ "GET", "/v1/metrics", svc_metrics_get, "metrics", NULL },
	{ "GET", "/v1/hosts", svc_hosts_list, "hosts_list", NULL },
	{ "GET", "/v1/hosts/*", svc_host_get, "host_get", "placements" },
	{ "PUT", "/v1/hosts/*", svc_host_put, "host_put", "cpu_ratio ram_ratio" },
	{ "DELETE", "/v1/hosts/*", svc_host_delete, "host_delete", "force" },
	{ "POST", "/v1/placements", svc_placement_post, "placement_post", NULL },
	{ "GET", "/v1/placements/*", svc_placement_get, "placement_get", NULL },
	{ "DELETE", "/v1/placements/*", svc_placement_delete, "placement_delete", NULL },
	{ "PUT", "/v1/placements/*/observed", svc_observed_put, "observed_put", NULL },
	{ "POST", "/v1/fit", svc_fit_post, "fit_post", NULL },
};

#define NROUTES ((int)(sizeof(routes) / sizeof(routes[0])))

/* Does PATH match PATTERN?  The '*' segment is copied to BUF. */
static bool match(const char *pattern, const char *path, char *buf, size_t size, bool *star)
{
	const char *p = pattern, *s = path;

	*star = false;
	while (*p && *s) {
		if (*p == '*') {
			size_t n = strcspn(s, "/");

			if (n == 0 || n >= size)
				return false;
			memcpy(buf, s, n);
			buf[n] = '\0';
			*star = true;
			s += n;
			p++;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

const struct svc_route *svc_route_find(const char *method, const char *path, char *buf,
				       size_t size, const char **arg, bool *path_known)
{
	bool star;

	*path_known = false;
	*arg = NULL;
	for (int i = 0; i < NROUTES; i++) {
		if (!match(routes[i].pattern, path, buf, size, &star))
			continue;
		*path_known = true;
		if (strcmp(routes[i].method, method) == 0) {
			*arg = star ? buf : NULL;
			return &routes[i];
		}
	}
	return NULL;
}

const struct svc_route *svc_route_at(int i)
{
	return i >= 0 && i < NROUTES ? &routes[i] : NULL;
}

int svc_route_index(const struct svc_route *r)
{
	return r ? (int)(r - routes) : -1;
}
