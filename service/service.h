/*
 * service.h - `numaplace serve`: the fleet over HTTP (issue 12).  The one
 * entry point the CLI calls; everything else in service/ is private to it.
 *
 * The service uses only the public headers of libnumaplace; transport
 * (http.c), the route table (routes.c), one file per resource (health.c,
 * hosts.c, placements.c, metrics.c) and the error table (errors.c) are
 * kept apart.  svc_run() blocks until SIGTERM or SIGINT, then finishes the
 * requests in flight and returns.
 */
#ifndef NP_SERVICE_H
#define NP_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

struct svc_config {
	const char *store;	/* fleet store URL */
	const char *listen;	/* "unix:PATH" or "HOST:PORT" */
	const char *token_file; /* bearer token (required on TCP) */
	const char *log;	/* access log file; NULL: standard error */
	bool listen_any;	/* allow a TCP address that is not loopback */
	int threads;		/* worker threads (0: 4) */
	size_t max_body;	/* bytes (0: 1 MiB) */
	size_t max_header;	/* bytes of one request's headers (0: 16 KiB) */
	int max_conns;		/* open connections (0: 256) */
	int timeout_s;		/* one request, first byte to last (0: 10) */
	int write_deadline_ms;	/* a claim or release not begun by then is not made (0: timeout_s / 2) */
	int drain_s;		/* SIGTERM: wait this long for requests in flight (0: 30) */
	const char *flavors;	/* flavor catalogue file (flavors.h) or NULL: none */
};

/*
 * Serve until SIGTERM/SIGINT.  0 after a clean drain; 2 for a bad
 * configuration (said on stderr, one line), 1 when the service cannot run
 * (store unreachable, address in use).
 */
int svc_run(const struct svc_config *cfg);

#endif
