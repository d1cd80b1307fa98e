/*
 * cmd-serve.c - `numaplace serve`: the fleet as an HTTP service (issue
 * 12).  This file reads the options and loads the service, service/
 * (service.h), a plugin built when libmicrohttpd is there (Meson feature
 * `service`): numaplace-serve.so, found by the library's own module search
 * (np_plugin_path: $NUMAPLACE_MODULE_DIR, the build tree's service/, or
 * libdir/numaplace/).  Only this verb loads it, so no other verb loads
 * libmicrohttpd and GnuTLS.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>

#include <service.h> /* service/, whose one entry point this is */

#include "cli.h"
#include "fleet-cli.h"

enum {
	OPT_STORE = 1,
	OPT_LISTEN,
	OPT_TOKEN_FILE,
	OPT_LISTEN_ANY,
	OPT_LOG,
	OPT_THREADS,
	OPT_MAX_BODY,
	OPT_MAX_HEADER,
	OPT_MAX_CONNS,
	OPT_TIMEOUT,
	OPT_WRITE_DEADLINE,
	OPT_DRAIN,
	OPT_FLAVORS,
};

static const struct cli_opt opts[] = {
	{ .id = OPT_STORE, .name = "store", .type = CLI_TEXT, .meta = "URL",
	  .help = "sqlite:PATH (created when missing) or postgresql://...;\n"
		  "default: $NUMAPLACE_STORE" },
	{ .id = OPT_LISTEN, .name = "listen", .type = CLI_TEXT, .meta = "ADDR",
	  .help = "unix:PATH (mode 0660, no token) or HOST:PORT (a token\n"
		  "is required; port 0 picks one, said in the log)" },
	{ .id = OPT_TOKEN_FILE, .name = "token-file", .type = CLI_TEXT, .meta = "F",
	  .help = "the bearer token clients send (Authorization: Bearer T);\n"
		  "one line, 16 characters or more; mode 0600 or 0400, yours\n"
		  "or root's, not a link" },
	{ .id = OPT_LISTEN_ANY, .name = "listen-any", .type = CLI_FLAG,
	  .help = "allow a TCP address other than loopback" },
	{ .id = OPT_LOG, .name = "log", .type = CLI_TEXT, .meta = "FILE",
	  .help = "the access log (default: standard error); SIGHUP reopens it" },
	{ .id = OPT_THREADS, .name = "threads", .type = CLI_INT, .min = 1, .max = 256,
	  .meta = "N", .help = "worker threads (default 4)" },
	{ .id = OPT_MAX_BODY, .name = "max-body", .type = CLI_INT, .min = 1024,
	  .max = 1073741824, .meta = "BYTES", .help = "largest request body (default 1048576)" },
	{ .id = OPT_MAX_HEADER, .name = "max-header", .type = CLI_INT, .min = 4096,
	  .max = 1048576, .meta = "BYTES",
	  .help = "largest request line and headers, 414/431 beyond (default 16384)" },
	{ .id = OPT_MAX_CONNS, .name = "max-connections", .type = CLI_INT, .min = 1,
	  .max = 65536, .meta = "N", .help = "open connections at once (default 256)" },
	{ .id = OPT_TIMEOUT, .name = "timeout", .type = CLI_INT, .min = 1, .max = 3600,
	  .meta = "S", .help = "seconds for one request, first byte to answer (default 10)" },
	{ .id = OPT_WRITE_DEADLINE, .name = "write-deadline", .type = CLI_INT, .min = 1,
	  .max = 3599, .meta = "S",
	  .help = "a claim or release not begun S seconds after its request came\n"
		  "is not made: 503 deadline_exceeded (default: half of --timeout)" },
	{ .id = OPT_DRAIN, .name = "drain", .type = CLI_INT, .min = 0, .max = 3600, .meta = "S",
	  .help = "on SIGTERM, wait this long for requests in flight (default 30)" },
	{ .id = OPT_FLAVORS, .name = "flavors", .type = CLI_TEXT, .meta = "FILE",
	  .help = "the flavors the cloud sells (numaplace.flavors/1,\n"
		  "docs/formats/flavors.md): every placement keeps room for\n"
		  "them; yours or root's, writable by no one else" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static int serve(const struct svc_config *c)
{
	struct np_error err = { 0 };
	char path[PATH_MAX + 32];
	int (*run_service)(const struct svc_config *);
	void *h;

	if (np_plugin_path("numaplace-serve.so", path, sizeof(path), &err))
		return cli_fail(&err);
	if (!(h = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
		fprintf(stderr, "numaplace: this numaplace has no service (cannot load '%s')\n",
			path);
		return CLI_UNSUPPORTED;
	}
	*(void **)&run_service = dlsym(h, "svc_run");
	if (!run_service) {
		fprintf(stderr, "numaplace: '%s' is not numaplace's service plugin\n", path);
		dlclose(h);
		return CLI_UNSUPPORTED;
	}
	return run_service(c); /* the plugin stays loaded until exit: its threads are gone */
}

static int run(const struct cli_verb *verb, const struct cli_args *a)
{
	struct svc_config c = {
		.store = fleet_store_url(cli_text(a, OPT_STORE)),
		.listen = cli_text(a, OPT_LISTEN),
		.token_file = cli_text(a, OPT_TOKEN_FILE),
		.log = cli_text(a, OPT_LOG),
		.listen_any = cli_given(a, OPT_LISTEN_ANY),
		.threads = (int)cli_num(a, OPT_THREADS, 4),
		.max_body = (size_t)cli_num(a, OPT_MAX_BODY, 1048576),
		.max_header = (size_t)cli_num(a, OPT_MAX_HEADER, 16384),
		.max_conns = (int)cli_num(a, OPT_MAX_CONNS, 256),
		.timeout_s = (int)cli_num(a, OPT_TIMEOUT, 10),
		.write_deadline_ms = (int)cli_num(a, OPT_WRITE_DEADLINE, 0) * 1000,
		.drain_s = (int)cli_num(a, OPT_DRAIN, 30),
		.flavors = cli_text(a, OPT_FLAVORS),
	};

	if (!c.store)
		return cli_usage_error(verb, "say which store: --store URL (or $NUMAPLACE_STORE)");
	if (!c.listen)
		return cli_usage_error(verb, "say where to listen: --listen unix:PATH or HOST:PORT");
	return serve(&c);
}

const struct cli_verb cli_verb_serve = {
	.name = "serve",
	.summary = "serve the fleet over HTTP: hosts, placements, health, metrics",
	.synopsis = "usage: numaplace serve --store URL --listen ADDR [--token-file F]\n"
		    "                       [--listen-any] [--log FILE] [--threads N]\n"
		    "                       [--flavors FILE] [limits]\n",
	.about = "Serve the fleet store over HTTP, JSON in and out (docs/api/openapi.yaml):\n"
		 "PUT/GET/DELETE /v1/hosts/{name}, GET /v1/hosts, POST /v1/placements (schedule\n"
		 "and claim in one step, idempotent per id), GET/DELETE /v1/placements/{id},\n"
		 "POST /v1/fit (whether and where a guest fits on each host, nothing claimed:\n"
		 "what Nova's NumaplaceFilter asks, contrib/nova/),\n"
		 "GET /v1/health, GET /v1/metrics (Prometheus).  Several replicas may share\n"
		 "one PostgreSQL store.  SIGTERM finishes the requests in flight and exits 0;\n"
		 "SIGHUP reopens the log.\n",
	.opts = opts,
	.epilog = "Exit: 0 stopped by SIGTERM or SIGINT, 1 cannot serve (store, address),\n"
		  "2 bad usage or configuration.\n"
		  "\n"
		  "Example:\n"
		  "  numaplace serve --store sqlite:fleet.db --listen unix:numaplace.sock\n",
	.run = run,
};
