/*
 * server.c - the process side of `numaplace serve`: checks the
 * configuration, reads the token, binds the listening socket (a Unix
 * socket of mode 0660, or TCP on loopback unless told otherwise), keeps
 * the pool of fleet handles, the log, and the main thread's loop: signals
 * (SIGTERM/SIGINT drain and exit, SIGHUP reopens the log) and the
 * watchdog that cuts requests over their time.
 *
 * Every worker thread is started after the signals are blocked, so only
 * the main thread, in sigtimedwait(), ever sees them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h> /* mallopt(): glibc's own (keep_heap) */
#endif
#include <unistd.h>

#include <numaplace/util.h>

#include "server.h"

double svc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void svc_log(struct svc *s, const char *fmt, ...)
{
	char line[1024];
	struct tm tm;
	time_t t = time(NULL);
	size_t n;
	va_list ap;

	/* --log /dev/null: nothing to format for nobody (the benchmark's setting). */
	if (s->log_fd != STDERR_FILENO && atomic_load_explicit(&s->log_discard, memory_order_relaxed))
		return;
	gmtime_r(&t, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	if (write(s->log_fd, line, n) < 0) {
		/* Nowhere left to say it; the request is answered all the same. */
	}
}

static int fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int rc, const char *fmt, ...)
{
	va_list ap;

	fputs("numaplace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return rc;
}

/* FD is /dev/null (the same character device), where log lines go to waste. */
static bool is_dev_null(int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && S_ISCHR(a.st_mode) && stat("/dev/null", &b) == 0 &&
	       S_ISCHR(b.st_mode) && a.st_rdev == b.st_rdev;
}

/*
 * The log file, opened again onto the same descriptor (SIGHUP: rotation):
 * NULL, or why not.  A regular file or /dev/null only: a FIFO nobody reads
 * would hang the open (at start, or the main loop at SIGHUP), and one read
 * slowly every request's log line; a link is not followed (O_NOFOLLOW); a
 * directory or another device is no log.  What was open stays on failure.
 */
static const char *open_log(struct svc *s)
{
	struct stat st;
	int fd, fl;

	if (!s->cfg->log) {
		s->log_fd = STDERR_FILENO;
		return NULL;
	}
	fd = open(s->cfg->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		  0640);
	if (fd < 0 && errno == ENXIO)
		return "not a regular file (a FIFO)";
	if (fd < 0)
		return errno == ELOOP	 ? "a symbolic link (not followed)" :
		       errno == EISDIR ? "a directory" :
					 strerror(errno);
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !is_dev_null(fd)) ||
	    (fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		close(fd);
		return "not a regular file (nor /dev/null)";
	}
	atomic_store(&s->log_discard, is_dev_null(fd));
	if (s->log_fd < 0 || s->log_fd == STDERR_FILENO) {
		s->log_fd = fd;
		return NULL;
	}
	/* dup2 swaps the file under the same number: writers never see a gap. */
	dup3(fd, s->log_fd, O_CLOEXEC);
	close(fd);
	return NULL;
}

static int read_token(struct svc *s)
{
	struct np_error err = { 0 };
	char *buf = NULL;
	size_t len = 0;

	if (np_read_trusted(s->cfg->token_file, "token file", sizeof(s->token), NP_READ_SECRET,
			    &buf, &len, &err))
		return fail(2, "%s", err.message);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	if (len < 16 || memchr(buf, '\n', len)) {
		explicit_bzero(buf, len);
		free(buf);
		return fail(2, "token file '%s': want one line of at least 16 characters",
			    s->cfg->token_file);
	}
	memcpy(s->token, buf, len);
	s->token_len = len;
	s->need_token = true;
	explicit_bzero(buf, len);
	free(buf);
	return 0;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path) || !*path)
		return fail(-2, "--listen unix:PATH: the path is empty or too long");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode))
			return fail(-2, "--listen: '%s' exists and is not a socket", path);
		/* A socket nobody answers on is a leftover of a server that died. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			return fail(-1, "--listen: a server already answers on '%s'", path);
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0660) ||
	    listen(fd, 512)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return fail(-1, "cannot listen on '%s': %s", path, strerror(e));
	}
	return fd;
}

static bool loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* HOST:PORT or [V6]:PORT; port 0 picks one (said in the log). */
static int listen_tcp(struct svc *s, const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	size_t n;
	int fd, one = 1, rc;

	if (!colon || colon == addr || !colon[1])
		return fail(-2, "--listen '%s': want unix:PATH or HOST:PORT", addr);
	n = (size_t)(colon - addr);
	if (addr[0] == '[' && colon[-1] == ']') {
		addr++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return fail(-2, "--listen: the host name is too long");
	memcpy(host, addr, n);
	host[n] = '\0';
	if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)))
		return fail(-2, "--listen '%s': %s", s->cfg->listen, gai_strerror(rc));
	if (!loopback(ai->ai_addr) && !s->cfg->listen_any) {
		freeaddrinfo(ai);
		return fail(-2, "--listen '%s' is not a loopback address: say --listen-any to "
			    "serve other machines", s->cfg->listen);
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 512)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return fail(-1, "cannot listen on '%s': %s", s->cfg->listen, strerror(e));
	}
	freeaddrinfo(ai);
	return fd;
}

static void say_address_to_log(struct svc *s, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		svc_log(s, "serving on %s (store %s)", s->cfg->listen, s->kind);
		return;
	}
	svc_log(s, "serving on %s%s%s:%d (store %s)", ss.ss_family == AF_INET6 ? "[" : "", host,
		ss.ss_family == AF_INET6 ? "]" : "", port, s->kind);
}

/*
 * "serving on 127.0.0.1:PORT", in the log and on standard error: scripts
 * that ask for port 0 read it there.
 */
static void say_address(struct svc *s, int fd)
{
	int log_fd = s->log_fd;

	if (log_fd != STDERR_FILENO) {
		s->log_fd = STDERR_FILENO;
		say_address_to_log(s, fd);
		s->log_fd = log_fd;
	}
	say_address_to_log(s, fd);
}

np_fleet *svc_fleet_get(struct svc *s, struct np_error *err)
{
	np_fleet *f = NULL;
	bool too_new;

	pthread_mutex_lock(&s->pool_lock);
	too_new = s->too_new.code != 0;
	if (too_new)
		*err = s->too_new;
	else if (s->npool > 0)
		f = s->pool[--s->npool];
	pthread_mutex_unlock(&s->pool_lock);
	if (!f && !too_new && np_fleet_open_shared(s->group_root, &f, err))
		return NULL;
	return f;
}

void svc_fleet_deadline(const struct svc_req *rq, np_fleet *f)
{
	const struct svc_config *c = rq->svc->cfg;
	int ms = c->write_deadline_ms ? c->write_deadline_ms : c->timeout_s * 1000 / 2;

	if (ms > 0)
		np_fleet_set_deadline(f, (int64_t)(rq->start * 1e9) + (int64_t)ms * 1000000);
}

int svc_fleet_rc(int rc, const struct np_error *err)
{
	return rc && strcmp(err->reason, "deadline_exceeded") == 0 ? 0 : rc;
}

void svc_fleet_put(struct svc *s, np_fleet *f, int rc)
{
	if (!f)
		return;
	np_fleet_set_deadline(f, 0);
	/*
	 * A handle whose store failed may hold a dead connection: open anew
	 * next time.  A statement may also have failed on a schema a newer
	 * numaplace migrated: the main thread looks at its next tick.
	 */
	if (rc == NP_EIO || rc == NP_EOS) {
		atomic_store(&s->recheck, true);
		np_fleet_close(f);
		return;
	}
	pthread_mutex_lock(&s->pool_lock);
	if (s->npool == s->pool_cap) {
		int cap = s->pool_cap ? 2 * s->pool_cap : 16;
		np_fleet **p = realloc(s->pool, (size_t)cap * sizeof(*p));

		if (!p) {
			pthread_mutex_unlock(&s->pool_lock);
			np_fleet_close(f);
			return;
		}
		s->pool = p;
		s->pool_cap = cap;
	}
	s->pool[s->npool++] = f;
	pthread_mutex_unlock(&s->pool_lock);
}

const char *svc_store_kind(const struct svc *s)
{
	return s->kind;
}

struct svc_metrics *svc_metrics(struct svc *s)
{
	return s->metrics;
}

const np_flavors *svc_flavors(const struct svc *s)
{
	return s->flavors;
}

/*
 * --flavors: read once at start; a bad catalogue is a bad configuration.
 * It steers every placement, so it is trusted only as the token is: a
 * file of this user or root that no one else may write (readable by all).
 */
static int load_flavors(struct svc *s)
{
	struct np_error err = { 0 };
	char *buf = NULL;
	size_t len = 0;
	int rc = np_read_trusted(s->cfg->flavors, "flavors file", 0, 0, &buf, &len,
				 &err);

	if (!rc)
		rc = np_flavors_parse(buf, len, s->cfg->flavors, &s->flavors, &err);
	free(buf);
	return rc ? fail(2, "%s", err.message) : 0;
}

static int open_store(struct svc *s)
{
	struct np_error err = { 0 };
	np_fleet *f = NULL;

	s->kind = strncmp(s->cfg->store, "sqlite:", 7) == 0 ? "sqlite" : "postgresql";
	if (np_fleet_open(s->cfg->store, NP_FLEET_CREATE, &f, &err))
		return fail(err.code == NP_EINPUT || err.code == NP_EUNSUPPORTED ? 2 : 1,
			    "%s", err.message);
	s->group_root = f;
	return 0;
}

/*
 * One look at the store's schema (the main thread's, once a second or
 * when a request asked): too new, and every request is answered 503
 * schema_too_new from now on, before it touches the store; the pooled
 * handles' older statements are not run again.  Back to a version this
 * numaplace reads (a restore), and it serves again.  A store error
 * changes nothing (the requests meet it themselves) and the handle is
 * opened anew next time: opening reads the version too.
 */
static void watch_schema(struct svc *s)
{
	struct np_error err = { 0 };
	double now = svc_now();
	int rc;

	if (now - s->watched < 1.0 && !atomic_exchange(&s->recheck, false))
		return;
	s->watched = now;
	rc = s->watch ? np_fleet_check_schema(s->watch, &err)
		      : np_fleet_open(s->cfg->store, 0, &s->watch, &err);
	if (rc && strcmp(err.reason, "schema_too_new") != 0) {
		np_fleet_close(s->watch);
		s->watch = NULL;
		return;
	}
	pthread_mutex_lock(&s->pool_lock);
	if (rc && !s->too_new.code)
		svc_log(s, "refusing every request: %s", err.message);
	else if (!rc && s->too_new.code)
		svc_log(s, "the store's schema is one this numaplace reads again: serving");
	s->too_new = rc ? err : (struct np_error){ 0 };
	pthread_mutex_unlock(&s->pool_lock);
}

/* Wait for signals; the watchdog runs between them. */
static void main_loop(struct svc *s, const sigset_t *set)
{
	struct timespec tick = { 0, 250 * 1000 * 1000 };
	siginfo_t info;
	double until;

	for (;;) {
		int sig = sigtimedwait(set, &info, &tick);

		if (sig == SIGHUP) {
			const char *why = open_log(s);

			if (why)
				svc_log(s, "cannot reopen the log '%s': %s (still writing the one open)",
					s->cfg->log, why);
			else
				svc_log(s, "log reopened");
		} else if (sig == SIGTERM || sig == SIGINT) {
			break;
		}
		svc_http_watchdog(s);
		watch_schema(s);
	}
	svc_log(s, "stopping: finishing %d request%s in flight", atomic_load(&s->inflight),
		atomic_load(&s->inflight) == 1 ? "" : "s");
	svc_http_quiesce(s);
	until = svc_now() + s->cfg->drain_s;
	while (atomic_load(&s->inflight) > 0 && svc_now() < until) {
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
		svc_http_watchdog(s);
	}
	svc_http_stop(s);
	svc_log(s, "stopped");
}

static void cleanup(struct svc *s, int fd)
{
	while (s->npool > 0)
		np_fleet_close(s->pool[--s->npool]);
	np_fleet_close(s->group_root);
	np_fleet_close(s->watch);
	free(s->pool);
	svc_metrics_free(s->metrics);
	np_flavors_free(s->flavors);
	if (fd >= 0)
		close(fd);
	if (s->log_fd > STDERR_FILENO)
		close(s->log_fd);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_mutex_destroy(&s->conn_lock);
}

/*
 * The heap is kept, not given back: each request frees what it took, and
 * glibc trimmed the top of a thread's heap only to fault the same pages
 * in again at the next request (sysmalloc and page faults were ~4 % of a
 * replica's CPU under the service benchmark).  Fixed thresholds also stop
 * glibc from moving them as large blocks come and go.  A heap grows by
 * 16 MiB at a time, not by what one request asked for: three replicas
 * used 0.891 instead of 0.978 ms of CPU a placement (quiet machine, median
 * of three rounds, docs/bench/service.md).  The service's memory is then
 * its high-water mark.
 * The knobs: M_TRIM_THRESHOLD, free memory at a heap's top that glibc
 * keeps before it gives the rest back; M_MMAP_THRESHOLD, the size from
 * which a block gets its own mmap() (and munmap() when freed) instead of
 * heap memory; M_TOP_PAD, what a heap grows by beyond the request.
 * mallopt() is glibc's: other C libraries (musl) build without it and
 * keep their own malloc's policy.
 */
static void keep_heap(void)
{
#ifdef __GLIBC__
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
#endif
}

int svc_run(const struct svc_config *cfg)
{
	struct svc s = { .cfg = cfg, .log_fd = -1 };
	bool is_unix = strncmp(cfg->listen, "unix:", 5) == 0;
	sigset_t set;
	const char *why;
	int fd = -1, rc;

	pthread_mutex_init(&s.pool_lock, NULL);
	pthread_mutex_init(&s.conn_lock, NULL);
	keep_heap();
	if (!is_unix && !cfg->token_file)
		rc = fail(2, "--listen on TCP needs --token-file F (a bearer token)");
	else if (cfg->write_deadline_ms >= cfg->timeout_s * 1000)
		rc = fail(2, "--write-deadline %d must be shorter than --timeout %d (a request "
			  "cut off must not be committed after)", cfg->write_deadline_ms / 1000,
			  cfg->timeout_s);
	else if (cfg->token_file && (rc = read_token(&s)))
		;
	else if (cfg->flavors && (rc = load_flavors(&s)))
		;
	else if ((why = open_log(&s)))
		rc = fail(2, "cannot open the log '%s': %s", cfg->log, why);
	else if (!(s.metrics = svc_metrics_new()))
		rc = fail(1, "out of memory");
	else
		rc = open_store(&s);
	if (rc)
		goto out;
	fd = is_unix ? listen_unix(cfg->listen + 5) : listen_tcp(&s, cfg->listen);
	if (fd < 0) {
		rc = -fd;
		fd = -1;
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (svc_http_start(&s, fd)) {
		rc = fail(1, "cannot start the HTTP server on '%s'", cfg->listen);
		goto out;
	}
	say_address(&s, fd);
	fd = -1; /* the daemon's now */
	main_loop(&s, &set);
	if (is_unix)
		unlink(cfg->listen + 5);
out:
	cleanup(&s, fd);
	return rc;
}
