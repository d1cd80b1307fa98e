/*
 * server.h - the server's state, shared by the process side (server.c:
 * configuration, listening socket, fleet pool, signals, log, watchdog)
 * and the transport (http.c: libmicrohttpd's callbacks).  Private.
 *
 * Connections are tracked (struct svc_conn) so that the watchdog can cut
 * one whose request takes longer than the limit from its first byte: an
 * idle timeout alone does not stop a client that sends a byte a second.
 * The list and its marks change under conn_lock; a connection is
 * unlinked (NOTIFY_CLOSED) before libmicrohttpd closes its socket, so the
 * watchdog never shuts a socket number down that was reused.
 */
#ifndef NP_SVC_SERVER_H
#define NP_SVC_SERVER_H

#include <pthread.h>
#include <stdatomic.h>

#include "service.h"
#include "svc.h"

struct rctx;

struct svc_conn {
	int fd;
	double mark; /* when the current request's first byte may have come */
	struct svc_conn *prev, *next;
	/*
	 * The last request's state with its body buffer, for the next request
	 * on this connection (http.c): touched only by the connection's
	 * thread, never under conn_lock; freed when the connection closes.
	 */
	struct rctx *spare;
};

struct svc {
	const struct svc_config *cfg;
	char token[512];
	size_t token_len;
	bool need_token;
	const char *kind;

	pthread_mutex_t pool_lock;
	np_fleet **pool;
	int npool, pool_cap;
	/*
	 * Opened first and never handed out: the pool's handles are opened in
	 * its group (np_fleet_open_shared), so their claims are committed
	 * together.
	 */
	np_fleet *group_root;
	/*
	 * The store's schema, watched by the main thread on a handle of its
	 * own (watch) once a second, and at its next tick after a request
	 * met a store error (recheck): a newer numaplace may have migrated it
	 * under this running one.  too_new: that error (code 0: none; under
	 * pool_lock), which svc_fleet_get() then answers every request with.
	 */
	np_fleet *watch;
	double watched;
	atomic_bool recheck;
	struct np_error too_new;

	struct svc_metrics *metrics;
	np_flavors *flavors; /* the cloud's catalogue (--flavors), or NULL; read-only */
	int log_fd;
	atomic_bool log_discard; /* log_fd is /dev/null */

	pthread_mutex_t conn_lock;
	struct svc_conn *conns;
	atomic_int inflight;
	void *daemon; /* struct MHD_Daemon */
};

double svc_now(void);

/* Start serving on the listening socket FD; 0, or -1 (said in the log). */
int svc_http_start(struct svc *s, int fd);
/* Stop accepting; then stop (after the drain). */
void svc_http_quiesce(struct svc *s);
void svc_http_stop(struct svc *s);
/* Cut the connections whose request is older than the limit. */
void svc_http_watchdog(struct svc *s);

#endif
