/*
 * svc.h - what the pieces of the service share: one request as a handler
 * sees it, the answer it fills, the route table, the error table, the
 * pool of fleet handles and the metrics.  Private to service/.
 *
 * Threads: the transport runs handlers on several threads at once.  A
 * handler takes a fleet handle from the pool (svc_fleet_get), uses it
 * alone and gives it back; an np_fleet is one thread's at a time
 * (fleet.h), the pool never hands one to two threads.  The metrics are
 * updated under their own lock.
 */
#ifndef NP_SVC_H
#define NP_SVC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <numaplace/fleet.h>

struct svc;

/*
 * A request's query parameters, decoded once each (%2F is a '/', %25 a
 * '%'; a %00 anywhere is refused before any handler runs): only those
 * its route takes, each at most once; VALUE[i] NULL for "?force" with no
 * '='.  The strings live in BUF.
 */
#define SVC_ARGS_MAX 8
struct svc_args {
	int n;
	const char *key[SVC_ARGS_MAX], *value[SVC_ARGS_MAX];
	char buf[512];
};

/* One request, as the transport hands it to a handler. */
struct svc_req {
	struct svc *svc;
	const char *method;
	const char *path; /* "/v1/hosts/h1" (decoded) */
	const char *arg;  /* the path's {name} or {id}, or NULL */
	const char *body; /* NUL-terminated; NULL when there is none */
	size_t body_len;
	const struct svc_args *query; /* for svc_query() */
	double start; /* when its headers came (svc_now()) */
};

/* The answer: status, body (malloc'd, the transport frees it), its type. */
struct svc_resp {
	int status;
	char *body;
	size_t len;
	const char *type;
};

/* A query argument ("force" of ?force=true, decoded), or NULL. */
const char *svc_query(const struct svc_req *rq, const char *key);

/* Is KEY one of the space-separated words of LIST ("force", NULL: none)? (keys.c) */
bool svc_listed(const char *list, const char *key);
/*
 * Are all keys of object OBJ words of LIST?  0, or -1 with a 400 answered:
 * "unknown WHAT 'key' (a, b, c)".
 */
int svc_only_keys(json_t *obj, const char *list, const char *what, struct svc_resp *rs);

/* Answer with JSON J (taken over, may be NULL: no body). */
void svc_json(struct svc_resp *rs, int status, json_t *j);
/* Answer with the error CODE of the table (errors.c) and a message. */
void svc_error(struct svc_resp *rs, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with an extra key inside "error" (taken over). */
void svc_error_with(struct svc_resp *rs, const char *code, const char *key, json_t *value,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Answer with the library's error: its reason or code picks the table entry. */
void svc_error_np(struct svc_resp *rs, const struct np_error *err);
/* The HTTP status of error CODE (500 for a code not in the table). */
int svc_error_status(const char *code);

/* The request body as a JSON object, or an answered 400 and NULL. */
json_t *svc_body_object(const struct svc_req *rq, struct svc_resp *rs);
/* A document written by WRITE into a memory stream, parsed back (NULL on failure). */
json_t *svc_json_from_writer(int (*write)(const void *obj, const void *aux, FILE *out,
					  struct np_error *err),
			     const void *obj, const void *aux, struct np_error *err);

/* Route handlers. */
typedef void svc_handler(struct svc_req *rq, struct svc_resp *rs);
struct svc_route {
	const char *method;
	const char *pattern; /* "/v1/hosts/ *" without the space: '*' is one segment */
	svc_handler *handler;
	const char *name;    /* for the metrics: "hosts_put" */
	const char *query;   /* the query parameters it takes, space-separated; NULL: none */
};
/*
 * The route for METHOD PATH and its '*' segment (*ARG, in BUF of SIZE).
 * NULL when none: *PATH_KNOWN says whether another method has the path
 * (405 rather than 404).
 */
const struct svc_route *svc_route_find(const char *method, const char *path, char *buf,
				       size_t size, const char **arg, bool *path_known);
/*
 * Percent-escapes, in two steps.  libmicrohttpd decodes a URL before the
 * routes see it, and "a%2Fb" would then be two segments, "a%00b" the name
 * "a": svc_url_unescape() (its unescape callback) decodes every %HH but
 * %2F, %25 and %00, which stay as they are, and makes a '%' that starts
 * no escape a DEL (so every '%' left starts one of the three: nothing is
 * decoded twice); svc_segment_unescape() decodes those three in a matched
 * segment, once it is one, and in each query key and value (http.c, into
 * struct svc_args): -1 for a NUL (%00), which no name, id or parameter
 * may hold.  Both shorten S in place; the first returns its new length.
 */
size_t svc_url_unescape(char *s);
int svc_segment_unescape(char *s);
/* Route I of the table (metrics walk it), NULL past the end; its index. */
const struct svc_route *svc_route_at(int i);
int svc_route_index(const struct svc_route *r);

/* Fleet handles: one per thread at a time. */
np_fleet *svc_fleet_get(struct svc *s, struct np_error *err);
/*
 * F's writes for request RQ (claims, releases) begin by its deadline, the
 * write deadline after its headers came (--write-deadline), or are not
 * made: its client may have given up and asked another replica by then.
 */
void svc_fleet_deadline(const struct svc_req *rq, np_fleet *f);
/*
 * Give F back (its deadline cleared); RC and ERR, the last result on it:
 * an I/O failure closes it instead (not a missed deadline).
 */
void svc_fleet_put(struct svc *s, np_fleet *f, int rc);
/* RC, or 0 when ERR says a deadline passed (the handle is sound): for svc_fleet_put. */
int svc_fleet_rc(int rc, const struct np_error *err);
/* One line to the log (a single write: lines of several threads never mix). */
void svc_log(struct svc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "sqlite" or "postgresql". */
const char *svc_store_kind(const struct svc *s);
/* The flavor catalogue every placement keeps room for (--flavors), or NULL. */
const np_flavors *svc_flavors(const struct svc *s);

/* Metrics (metrics.c). */
struct svc_metrics;
struct svc_metrics *svc_metrics_new(void);
void svc_metrics_free(struct svc_metrics *m);
struct svc_metrics *svc_metrics(struct svc *s);
/* One request answered: route index (-1: none), status, seconds. */
void svc_metrics_request(struct svc_metrics *m, int route, int status, double secs);
/* One schedule: how many claims it tried, whether it placed. */
void svc_metrics_schedule(struct svc_metrics *m, int attempts, bool placed);
/* Prometheus text of the counters and of the fleet F (hosts, usage). */
char *svc_metrics_text(struct svc_metrics *m, np_fleet *f, size_t *len, struct np_error *err);

/* The body of POST /v1/placements (guest.c). */
struct svc_guest {
	json_t *body;
	const char *id, *host; /* in BODY; host NULL when not given */
	int allow_moves;       /* "allow_moves": 0 (default) to NP_MOVES_MAX */
	np_request *req;
};
/* 0 and G filled, or -1 and RS answered (4xx); G is then empty. */
int svc_guest_parse(const char *body, size_t len, struct svc_guest *g, struct svc_resp *rs);
void svc_guest_free(struct svc_guest *g);

/* Resources. */
void svc_health_get(struct svc_req *rq, struct svc_resp *rs);
void svc_metrics_get(struct svc_req *rq, struct svc_resp *rs);
void svc_hosts_list(struct svc_req *rq, struct svc_resp *rs);
void svc_host_get(struct svc_req *rq, struct svc_resp *rs);
void svc_host_put(struct svc_req *rq, struct svc_resp *rs);
void svc_host_delete(struct svc_req *rq, struct svc_resp *rs);
void svc_placement_post(struct svc_req *rq, struct svc_resp *rs);
void svc_placement_get(struct svc_req *rq, struct svc_resp *rs);
void svc_placement_delete(struct svc_req *rq, struct svc_resp *rs);
void svc_observed_put(struct svc_req *rq, struct svc_resp *rs);
/*
 * Placement P's "observed" and "drift" members (observed.c): JSON null
 * each when no agent reported it; TOPO is its host's.  0, or the error.
 */
int svc_observed_json(np_fleet *f, const np_fleet_placement *p, const np_topo *topo,
		      json_t **observed, json_t **drift, struct np_error *err);

void svc_fit_post(struct svc_req *rq, struct svc_resp *rs);

/* The body of POST /v1/fit (fit-body.c); names point into BODY. */
struct svc_fit {
	json_t *body;
	const char **names; /* "hosts"; NULL: every host */
	int n;
	int *pending;       /* copies pending on names[i]; NULL: none */
	np_request *req;
};
/* 0 and FB filled, or -1 and RS answered (4xx); FB is then empty. */
int svc_fit_parse(const char *body, size_t len, struct svc_fit *fb, struct svc_resp *rs);
void svc_fit_free(struct svc_fit *fb);

/* The guest of a body's "flavor", "image" and "pci_aliases" (guest.c), or an answered 400 and NULL. */
np_request *svc_request_of(json_t *body, struct svc_resp *rs);

/* JSON of a host's nodes with their usage (hosts.c; placements.c uses the plan writer). */
json_t *svc_host_nodes(const np_host *usage);
/* The plan as JSON, on the host view USAGE. */
json_t *svc_plan_json(const np_plan *plan, const np_host *usage, struct np_error *err);
/*
 * Answer STATUS with {"id": ID, "host": HOST, "plan": ...} in one pass; 0 or
 * the error.  PLAN_JSON, when not NULL, is PLAN's text already written
 * (np_fleet_result_plan_json: the store's copy), used as it is.
 */
int svc_plan_answer(struct svc_resp *rs, int status, const char *id, const char *host,
		    const np_plan *plan, const np_host *usage, const char *plan_json,
		    struct np_error *err);

#endif
