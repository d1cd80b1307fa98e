/*
 * http.c - the transport: libmicrohttpd's callbacks.  It knows HTTP and
 * nothing of hosts or placements: it checks the token, the route
 * (404/405), the body's type and size, collects the body, calls the
 * route's handler on the whole request and sends its answer; it times
 * each request for the metrics and the access log.
 *
 * Threads: libmicrohttpd's own pool (cfg->threads), each thread polling
 * many connections; a handler runs on the thread of its connection.
 * Limits: the request headers (431; the connection's memory is 4 times
 * that, beyond which libmicrohttpd closes with its own 431, an HTML body
 * that no option of libmicrohttpd 0.9.75 or later replaces: it is sent
 * before any callback of ours, and neither MHD_OPTION_URI_LOG_CALLBACK nor
 * MHD_OPTION_NOTIFY_CONNECTION can answer), the body
 * (413 when Content-Length says so, else the connection is closed when
 * it grows past the limit), open connections (more wait in the backlog),
 * an idle timeout, and the watchdog's total time per request.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "server.h"

/* One request's state, from its headers to its answer. */
struct rctx {
	double start;
	const struct svc_route *route;
	struct svc_conn *conn;
	char arg[768]; /* a 255-byte name, every byte of it still %HH at worst */
	char *body;
	size_t len, cap;
	int status;
	bool answered, counted;
};

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

const char *svc_query(const struct svc_req *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct rctx *x, struct svc_resp *rs)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	r = MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(rs->body);
		return MHD_NO;
	}
	rs->body = NULL;
	if (rs->len)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->type);
	if (rs->status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	/* The store is away, or other schedulers kept winning: worth asking again. */
	if (rs->status == 503)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	x->status = rs->status;
	x->answered = true;
	ok = MHD_queue_response(c, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *c, struct rctx *x, const char *code,
				  const char *msg)
{
	struct svc_resp rs = { 0 };

	svc_error(&rs, code, "%s", msg);
	return send_resp(c, x, &rs);
}

/* Constant time in the secret's length: no early exit on the first difference. */
static bool token_ok(const struct svc *s, const char *auth)
{
	size_t n;
	unsigned char diff = 0;

	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	n = strlen(auth);
	for (size_t i = 0; i < s->token_len; i++)
		diff |= (unsigned char)(s->token[i] ^ (i < n ? auth[i] : 0));
	return diff == 0 && n == s->token_len;
}

static bool is_json_type(const char *type)
{
	size_t n = strlen("application/json");

	return !type || (strncasecmp(type, "application/json", n) == 0 &&
			 (type[n] == '\0' || type[n] == ';' || type[n] == ' '));
}

static enum MHD_Result add_len(void *cls, enum MHD_ValueKind kind, const char *key,
			      const char *value)
{
	*(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/* What check_query() found wrong, for its message. */
struct qcheck {
	const char *allowed; /* the route's query parameters, space-separated, or NULL */
	const char *seen[8]; /* the keys seen so far (a route takes at most a few) */
	int nseen;
	char msg[160];
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct qcheck *q = cls;

	(void)kind;
	(void)value;
	if (!svc_listed(q->allowed, key)) {
		if (q->allowed)
			snprintf(q->msg, sizeof(q->msg), "unknown query parameter '%.64s' (this "
				 "route takes: %s)", key, q->allowed);
		else
			snprintf(q->msg, sizeof(q->msg), "unknown query parameter '%.64s' (this "
				 "route takes none)", key);
		return MHD_NO;
	}
	for (int i = 0; i < q->nseen; i++)
		if (strcmp(q->seen[i], key) == 0) {
			snprintf(q->msg, sizeof(q->msg), "query parameter '%.64s' given twice", key);
			return MHD_NO;
		}
	if (q->nseen < (int)(sizeof(q->seen) / sizeof(q->seen[0])))
		q->seen[q->nseen++] = key;
	return MHD_YES;
}

/*
 * The query: only the parameters ROUTE takes, each at most once (a typo
 * such as ?cpu_raito=4 is refused, not ignored).  NULL, or the message.
 */
static const char *check_query(struct MHD_Connection *c, const struct svc_route *route,
			       struct qcheck *q)
{
	*q = (struct qcheck){ .allowed = route->query };
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_arg, q);
	return q->msg[0] ? q->msg : NULL;
}

static enum MHD_Result count_len(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	(void)kind;
	(void)value;
	*(int *)cls += strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0 ||
		       strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0;
	return MHD_YES;
}

/*
 * Two Content-Length headers, or one beside Transfer-Encoding: a proxy
 * in front may read the body's end differently from us (request
 * smuggling, RFC 9112 6.3), so such a request is refused.
 */
static bool framing_ambiguous(struct MHD_Connection *c)
{
	int n = 0;

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_len, &n);
	return n > 1;
}

/* The first call: headers are in; answer now what needs no body. */
static enum MHD_Result first_call(struct svc *s, struct MHD_Connection *c, struct rctx *x,
				  const char *url, const char *method)
{
	const char *len = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *arg, *bad;
	size_t hlen = strlen(url) + strlen(method) + 16;
	struct qcheck q;
	bool known;

	MHD_get_connection_values(c, MHD_HEADER_KIND, add_len, &hlen);
	if (hlen > s->cfg->max_header)
		return send_error(c, x, "headers_too_large", "the request headers are larger than the limit");
	if (s->need_token && !token_ok(s, header(c, MHD_HTTP_HEADER_AUTHORIZATION)))
		return send_error(c, x, "unauthorized", "missing or wrong bearer token");
	x->route = svc_route_find(method, url, x->arg, sizeof(x->arg), &arg, &known);
	if (!x->route && known)
		return send_error(c, x, "method_not_allowed", "this path does not take that method");
	if (!x->route)
		return send_error(c, x, "not_found", "no such route");
	if (arg && svc_segment_unescape(x->arg))
		return send_error(c, x, "bad_request", "the path holds a NUL byte (%00)");
	if ((bad = check_query(c, x->route, &q)))
		return send_error(c, x, "bad_request", bad);
	if (framing_ambiguous(c))
		return send_error(c, x, "bad_request", "two Content-Length headers, or one with "
				  "Transfer-Encoding: the body's length is ambiguous");
	if (len && strtoull(len, NULL, 10) > s->cfg->max_body)
		return send_error(c, x, "body_too_large", "the body is larger than the limit");
	if (len && strtoull(len, NULL, 10) > 0 && !is_json_type(header(c, "Content-Type")))
		return send_error(c, x, "unsupported_media_type", "the body must be application/json");
	return MHD_YES;
}

static enum MHD_Result collect(struct svc *s, struct rctx *x, const char *data, size_t n)
{
	if (svc_now() - x->start > s->cfg->timeout_s || x->len + n > s->cfg->max_body)
		return MHD_NO; /* too slow, or chunked past the limit: the connection is cut */
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 4096;
		char *b;

		while (cap < x->len + n + 1)
			cap *= 2;
		if (!(b = realloc(x->body, cap)))
			return MHD_NO;
		x->body = b;
		x->cap = cap;
	}
	memcpy(x->body + x->len, data, n);
	x->len += n;
	x->body[x->len] = '\0';
	return MHD_YES;
}

/* A body buffer up to this size is kept for the connection's next request. */
#define SPARE_BODY_MAX 65536

/*
 * A request's state: the connection K's spare one (the last request's,
 * its body buffer kept) when it has one, else a new one.  A keep-alive
 * client's requests then cost no allocation here.
 */
static struct rctx *new_rctx(struct svc_conn *k)
{
	struct rctx *x = k ? k->spare : NULL;
	char *body;
	size_t cap;

	if (!x)
		x = calloc(1, sizeof(*x));
	else
		k->spare = NULL;
	if (!x)
		return NULL;
	body = x->body;
	cap = x->cap;
	*x = (struct rctx){ .conn = k, .body = body, .cap = cap };
	return x;
}

/* Request X is over: kept as its connection's spare, or freed. */
static void drop_rctx(struct rctx *x)
{
	if (x->conn && !x->conn->spare && x->cap <= SPARE_BODY_MAX) {
		x->conn->spare = x;
		return;
	}
	free(x->body);
	free(x);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct svc *s = cls;
	struct rctx *x = *con_cls;
	struct svc_req rq = { 0 };
	struct svc_resp rs = { 0 };

	if (!x) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

		if (!(x = new_rctx(ci ? ci->socket_context : NULL)))
			return MHD_NO;
		*con_cls = x;
		x->start = svc_now();
		x->counted = true;
		atomic_fetch_add(&s->inflight, 1);
		return first_call(s, c, x, url, method);
	}
	if (x->answered) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		enum MHD_Result ok = collect(s, x, upload, *upload_size);

		*upload_size = 0;
		return ok;
	}
	/* A spare buffer may hold an earlier request's body: none is NULL, as before. */
	rq = (struct svc_req){ .svc = s, .method = method, .path = url,
			       .body = x->len ? x->body : NULL, .body_len = x->len, .conn = c,
			       .start = x->start };
	rq.arg = strchr(x->route->pattern, '*') ? x->arg : NULL;
	x->route->handler(&rq, &rs);
	return send_resp(c, x, &rs);
}

/* A request is over (answered, or its connection gone): count, log, free. */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct svc *s = cls;
	struct rctx *x = *con_cls;
	double secs;

	if (!x)
		return;
	secs = svc_now() - x->start;
	if (x->conn) {
		pthread_mutex_lock(&s->conn_lock);
		x->conn->mark = svc_now();
		pthread_mutex_unlock(&s->conn_lock);
	}
	svc_metrics_request(s->metrics, svc_route_index(x->route), x->answered ? x->status : 0,
			    secs);
	if (x->answered)
		svc_log(s, "%s %d %.3fms", x->route ? x->route->name : "-", x->status,
			secs * 1e3);
	else
		svc_log(s, "%s cut (%s) after %.3fs", x->route ? x->route->name : "-",
			toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout" : "closed", secs);
	if (x->counted)
		atomic_fetch_sub(&s->inflight, 1);
	drop_rctx(x);
	*con_cls = NULL;
}

static void connection(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode toe)
{
	struct svc *s = cls;
	struct svc_conn *k = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (!ci || !(k = calloc(1, sizeof(*k))))
			return;
		k->fd = ci->connect_fd;
		k->mark = svc_now();
		pthread_mutex_lock(&s->conn_lock);
		k->next = s->conns;
		if (s->conns)
			s->conns->prev = k;
		s->conns = k;
		pthread_mutex_unlock(&s->conn_lock);
		*socket_context = k;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && k) {
		pthread_mutex_lock(&s->conn_lock);
		if (k->prev)
			k->prev->next = k->next;
		else
			s->conns = k->next;
		if (k->next)
			k->next->prev = k->prev;
		pthread_mutex_unlock(&s->conn_lock);
		if (k->spare) {
			free(k->spare->body);
			free(k->spare);
		}
		free(k);
		*socket_context = NULL;
	}
}

void svc_http_watchdog(struct svc *s)
{
	double now = svc_now();

	pthread_mutex_lock(&s->conn_lock);
	for (struct svc_conn *k = s->conns; k; k = k->next)
		if (now - k->mark > s->cfg->timeout_s) {
			/* Its poller sees the socket end and closes it (and the request). */
			shutdown(k->fd, SHUT_RDWR);
			k->mark = now;
		}
	pthread_mutex_unlock(&s->conn_lock);
}

/* libmicrohttpd's unescape callback: the path and the query (svc.h). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return svc_url_unescape(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	svc_log(cls, "http: %s", line);
}

int svc_http_start(struct svc *s, int fd)
{
	const struct svc_config *c = s->cfg;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;

	s->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_conns,
		/* Room for the headers we refuse with a JSON 431; far beyond
		   it libmicrohttpd answers its own 431 and closes. */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, 4 * c->max_header + 32768,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->timeout_s,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, connection, s, MHD_OPTION_END);
	return s->daemon ? 0 : -1;
}

void svc_http_quiesce(struct svc *s)
{
	MHD_socket fd = MHD_quiesce_daemon(s->daemon);

	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

void svc_http_stop(struct svc *s)
{
	MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
}
