/*
 * http.c - the transport: libmicrohttpd's callbacks.  It knows HTTP and
 * nothing of hosts or placements: it checks the token, the route
 * (404/405), the framing headers, the body's type and size, collects the
 * body, calls the route's handler on the whole request and sends its
 * answer; it times each request for the metrics and the access log.
 *
 * Threads: libmicrohttpd's own pool (cfg->threads), each thread polling
 * many connections; a handler runs on the thread of its connection.
 * Limits: the request target alone (path and query: 414), the request
 * line and headers together (431), both --max-header; the body (413);
 * open connections (more wait in the backlog); an idle timeout and the
 * watchdog's total time per request.
 * A request refused on its headers (401, 404, 405, 413, 415, most 400s)
 * is answered at once when the client waits for it (Expect:
 * 100-continue) or sends no body; else its body is read up to 4 times
 * the limit and thrown away first, so that a client that sends all of
 * it before reading (curl -d) reads the answer instead of failing on a
 * closed connection; past that the connection is cut.
 *
 * What libmicrohttpd 0.9.75 refuses itself, before any callback of ours
 * can answer, gets its own HTML body and a closed connection, and no
 * option replaces that body: headers or a target past the connection's
 * memory (4 times --max-header plus 32 KiB; each header field costs it
 * some 64 bytes besides its text) get 431 or 414; a malformed request
 * line or header line, a bad chunk, an unreadable Content-Length get 400
 * (413 for one past 2^64 or a chunk size past it), an HTTP version other
 * than 1.0 to 1.9 gets 505 (docs/api/openapi.yaml lists them).  HTTP/1.2
 * to 1.9 it serves as 1.1 (RFC 9112 2.3: a later minor version is read
 * as the highest known), so they are held to 1.1's Host rule here.
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
	struct svc_args query; /* the route's query parameters, decoded */
	char *body;
	size_t len, cap;
	size_t uri_len;	 /* the raw request target: path and query */
	size_t dropped;	 /* body bytes read past --max-body and thrown away */
	int status;
	bool started, answered, counted;
	const char *late_code; /* decided on the headers, answered once the body is in */
	char late_msg[200];
};

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

const char *svc_query(const struct svc_req *rq, const char *key)
{
	for (int i = 0; rq->query && i < rq->query->n; i++)
		if (strcmp(rq->query->key[i], key) == 0)
			return rq->query->value[i];
	return NULL;
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

/*
 * No Content-Type is read as JSON (a client that names none means ours);
 * else it must be application/json, parameters such as charset=utf-8
 * allowed.  curl -d without -H sends application/x-www-form-urlencoded:
 * 415, not a form read as JSON by luck.
 */
static bool is_json_type(const char *type)
{
	size_t n = strlen("application/json");

	if (!type)
		return true;
	if (strncasecmp(type, "application/json", n) != 0)
		return false;
	type += n + strspn(type + n, " \t");
	return *type == '\0' || *type == ';';
}

static enum MHD_Result add_len(void *cls, enum MHD_ValueKind kind, const char *key,
			      const char *value)
{
	*(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/* What check_query() found wrong, for its message; where it decodes to. */
struct qcheck {
	const char *allowed; /* the route's query parameters, space-separated, or NULL */
	struct svc_args *args; /* the keys seen so far, decoded, and their values */
	size_t used;	       /* of args->buf */
	char msg[160];
};

/*
 * S decoded once more into Q's buffer (libmicrohttpd's pass left %2F,
 * %25 and %00 as they were, svc.h): the copy, or NULL with Q's message.
 */
static const char *arg_copy(struct qcheck *q, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = q->args->buf + q->used;

	if (n > sizeof(q->args->buf) - q->used) {
		snprintf(q->msg, sizeof(q->msg), "the query's parameters are longer than %zu bytes",
			 sizeof(q->args->buf));
		return NULL;
	}
	memcpy(d, s, n);
	if (svc_segment_unescape(d)) {
		snprintf(q->msg, sizeof(q->msg), "the query holds a NUL byte (%%00)");
		return NULL;
	}
	q->used += strlen(d) + 1;
	return d;
}

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *raw,
				 const char *value)
{
	struct qcheck *q = cls;
	struct svc_args *a = q->args;
	const char *key;

	(void)kind;
	if (!(key = arg_copy(q, raw)) || (value && !(value = arg_copy(q, value))))
		return MHD_NO;
	if (!svc_listed(q->allowed, key)) {
		if (q->allowed)
			snprintf(q->msg, sizeof(q->msg), "unknown query parameter '%.64s' (this "
				 "route takes: %s)", key, q->allowed);
		else
			snprintf(q->msg, sizeof(q->msg), "unknown query parameter '%.64s' (this "
				 "route takes none)", key);
		return MHD_NO;
	}
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->key[i], key) == 0) {
			snprintf(q->msg, sizeof(q->msg), "query parameter '%.64s' given twice", key);
			return MHD_NO;
		}
	if (a->n < SVC_ARGS_MAX) { /* a route takes fewer: a listed key is always kept */
		a->key[a->n] = key;
		a->value[a->n++] = value;
	}
	return MHD_YES;
}

/*
 * The query: only the parameters ROUTE takes, each at most once (a typo
 * such as ?cpu_raito=4 is refused, not ignored), decoded into ARGS.
 * NULL, or the message.
 */
static const char *check_query(struct MHD_Connection *c, const struct svc_route *route,
			       struct svc_args *args, struct qcheck *q)
{
	args->n = 0;
	*q = (struct qcheck){ .allowed = route->query, .args = args };
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_arg, q);
	return q->msg[0] ? q->msg : NULL;
}

/* What check_framing() counts and found wrong. */
struct framing {
	int lengths; /* Content-Length and Transfer-Encoding headers */
	int hosts;   /* Host headers */
	const char *bad; /* the message, or NULL */
};

/* A field name is a token (RFC 9110 5.1, 5.6.2): no space, no colon, no control. */
static bool is_token(const char *k)
{
	static const char other[] = "!#$%&'*+-.^_`|~";

	if (!*k)
		return false;
	for (; *k; k++)
		if (!(('0' <= *k && *k <= '9') || ('a' <= (*k | 0x20) && (*k | 0x20) <= 'z') ||
		      strchr(other, *k)))
			return false;
	return true;
}

static enum MHD_Result check_field(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct framing *f = cls;

	(void)kind;
	(void)value;
	/* "Content-Length : 5" is no Content-Length to libmicrohttpd, but may
	   be one to a lenient proxy in front: RFC 9112 5.1 says refuse it. */
	if (!is_token(key)) {
		f->bad = "a header field name holds white space or a character that "
			 "is not a token";
		return MHD_NO;
	}
	f->lengths += strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0 ||
		      strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0;
	f->hosts += strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0;
	return MHD_YES;
}

/* VERSION is one libmicrohttpd serves as HTTP/1.1: "HTTP/1.1" to "HTTP/1.9". */
static bool as_http11(const char *version)
{
	return !strncmp(version, "HTTP/1.", 7) && strcmp(version, MHD_HTTP_VERSION_1_0) != 0;
}

/*
 * The headers that say where the body ends, read the way a proxy in
 * front may read them (request smuggling, RFC 9112 6.3): two
 * Content-Length headers, or one beside Transfer-Encoding, are
 * ambiguous; a Transfer-Encoding other than plain "chunked" would have
 * libmicrohttpd read the body up to the connection's end.  And the Host
 * header RFC 9112 3.2 requires of HTTP/1.1 and later 1.x, once
 * (libmicrohttpd takes any number, none included).  NULL, or the message.
 */
static const char *check_framing(struct MHD_Connection *c, const char *version)
{
	struct framing f = { 0 };
	const char *te;

	MHD_get_connection_values(c, MHD_HEADER_KIND, check_field, &f);
	if (f.bad)
		return f.bad;
	if (f.hosts > 1 || (!f.hosts && as_http11(version)))
		return f.hosts ? "two Host headers"
			       : "an HTTP/1.1 (or 1.2-1.9) request without a Host header";
	if (f.lengths > 1)
		return "two Content-Length headers, or one with Transfer-Encoding: the "
		       "body's length is ambiguous";
	te = header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (te && strcasecmp(te, "chunked") != 0)
		return "Transfer-Encoding: only 'chunked' is read";
	return NULL;
}

/* The Content-Length header's value, or 0 (none; libmicrohttpd refused an unreadable one). */
static unsigned long long content_length(struct MHD_Connection *c)
{
	const char *len = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return len ? strtoull(len, NULL, 10) : 0;
}

/* The request carries a body: a Content-Length above 0, or chunks. */
static bool has_body(struct MHD_Connection *c)
{
	return content_length(c) > 0 || header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

static bool expects_continue(struct MHD_Connection *c)
{
	const char *e = header(c, MHD_HTTP_HEADER_EXPECT);

	return e && strcasecmp(e, "100-continue") == 0;
}

/*
 * Body bytes a client may send past --max-body, read and thrown away so
 * that it still reads a JSON 413 (libmicrohttpd lets a handler answer
 * only before the body or once all of it is in); past this, the
 * connection is cut.
 */
#define DROP_MAX(s) (4ULL * (s)->cfg->max_body) /* no overflow on 32 bits */

/*
 * What the headers alone refuse: the error's code (and *MSG), or NULL.
 * Q holds a query's message until the answer is made.  *NOW: framing
 * that leaves the body's end unclear, answered before any body is read.
 */
static const char *refusal(struct svc *s, struct MHD_Connection *c, struct rctx *x,
			   const char *url, const char *method, const char *version,
			   struct qcheck *q, const char **msg, bool *now)
{
	const char *arg;
	size_t hlen = x->uri_len + strlen(method) + 16; /* the request line */
	bool known;

	/* libmicrohttpd's own answer past its memory is 414 for the target alone: ours too. */
	if (x->uri_len > s->cfg->max_header)
		return *msg = "the request target (path and query) is longer than the limit",
		       "uri_too_long";
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_len, &hlen);
	if (hlen > s->cfg->max_header)
		return *msg = "the request headers are larger than the limit", "headers_too_large";
	if (s->need_token && !token_ok(s, header(c, MHD_HTTP_HEADER_AUTHORIZATION)))
		return *msg = "missing or wrong bearer token", "unauthorized";
	x->route = svc_route_find(method, url, x->arg, sizeof(x->arg), &arg, &known);
	if (!x->route)
		return known ? (*msg = "this path does not take that method", "method_not_allowed")
			     : (*msg = "no such route", "not_found");
	if (arg && svc_segment_unescape(x->arg))
		return *msg = "the path holds a NUL byte (%00)", "bad_request";
	if ((*msg = check_query(c, x->route, &x->query, q)))
		return "bad_request";
	if ((*msg = check_framing(c, version)))
		return *now = true, "bad_request";
	if (has_body(c) && !is_json_type(header(c, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return *msg = "the body must be application/json", "unsupported_media_type";
	if (content_length(c) > s->cfg->max_body)
		return *msg = "the body is larger than the limit", "body_too_large";
	return NULL;
}

/*
 * The first call: headers are in; answer now what needs no body.  A
 * client that sends its body before it reads (curl -d) would meet a
 * reset instead of an answer given now, while its body is still coming:
 * that body is read and thrown away (collect()), then answered (handle()),
 * up to DROP_MAX.  A client that waits (Expect: 100-continue), a body
 * far too large, or framing that leaves the body's end unclear, is
 * answered at once.
 */
static enum MHD_Result first_call(struct svc *s, struct MHD_Connection *c, struct rctx *x,
				  const char *url, const char *method, const char *version)
{
	const char *msg = NULL, *code;
	struct qcheck q;
	bool now = false;

	if (!(code = refusal(s, c, x, url, method, version, &q, &msg, &now)))
		return MHD_YES;
	if (now || !has_body(c) || expects_continue(c) || content_length(c) > DROP_MAX(s))
		return send_error(c, x, code, msg);
	x->late_code = code;
	snprintf(x->late_msg, sizeof(x->late_msg), "%s", msg);
	return MHD_YES;
}

static enum MHD_Result collect(struct svc *s, struct rctx *x, const char *data, size_t n)
{
	if (svc_now() - x->start > s->cfg->timeout_s)
		return MHD_NO; /* too slow: the connection is cut */
	if (x->late_code || x->len + n > s->cfg->max_body) {
		if (!x->late_code) {
			x->late_code = "body_too_large";
			snprintf(x->late_msg, sizeof(x->late_msg), "the body is larger than the limit");
		}
		x->dropped += n;
		return x->dropped > DROP_MAX(s) ? MHD_NO : MHD_YES;
	}
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

/*
 * libmicrohttpd's URI log callback: called with the raw request target
 * (path and query, not yet unescaped) as soon as the request line is
 * read, before the headers; what it returns is the request's context.
 * The state begins here, so the header limit counts the whole target
 * (the handler's URL has lost its query) and the clock starts at the
 * request line.  libmicrohttpd calls completed() for it even when it
 * refuses the headers itself.
 */
static void *request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct svc *s = cls;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct rctx *x = new_rctx(ci ? ci->socket_context : NULL);

	if (!x)
		return NULL; /* handle() tries again */
	x->start = svc_now();
	x->uri_len = strlen(uri);
	x->counted = true;
	atomic_fetch_add(&s->inflight, 1);
	return x;
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
		/* request_line() had no memory: only the path is known now. */
		if (!(*con_cls = x = request_line(s, url, c)))
			return MHD_NO;
	}
	if (!x->started) {
		x->started = true;
		return first_call(s, c, x, url, method, version);
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
	if (x->late_code)
		return send_error(c, x, x->late_code, x->late_msg);
	/* A spare buffer may hold an earlier request's body: none is NULL, as before. */
	rq = (struct svc_req){ .svc = s, .method = method, .path = url,
			       .body = x->len ? x->body : NULL, .body_len = x->len,
			       .query = &x->query, .start = x->start };
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
		/* Room for the headers we refuse with a JSON 431/414; far
		   beyond it libmicrohttpd answers its own 431/414 and closes.
		   Not larger: 0.9.75 zeroes the whole pool between two
		   requests of a connection (MHD_pool_reset), so each byte
		   more is a byte more to clear on every keep-alive request. */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, 4 * c->max_header + 32768,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->timeout_s,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
		MHD_OPTION_URI_LOG_CALLBACK, request_line, s,
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
