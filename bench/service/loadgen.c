/*
 * loadgen.c - the service benchmark's clients in C (bench/service/run.sh,
 * docs/bench/service.md): what `tests/service/client.py load` does, at a
 * small fraction of its CPU, so that on a small machine the CPUs go to the
 * servers being measured rather than to the clients measuring them.
 *
 *   service-loadgen ADDRS [--clients N] [--ops N] [--logdir D] [--seed S]
 *                   [--release PCT] [--token-file F] [--stats FILE]
 *                   [--id-prefix P]
 *   service-loadgen --flavors      the flavor mix, one JSON object a line
 *
 * ADDRS is a comma list of unix:PATH or HOST:PORT (the replicas); client k
 * (1..N) starts on ADDRS[k % len] and moves to the next one when its
 * connection dies, sending the same request again (a placement is
 * idempotent per id; a release of a gone id is then a 404).  A 503 is
 * asked again after 50 ms.  Each client is one thread on one keep-alive
 * HTTP/1.1 connection: OPS placements (POST /v1/placements, ids
 * P c<k>-<i>, a flavor drawn from FLAVORS), and after each, with
 * probability PCT %, the release of one of its live placements drawn at
 * random (DELETE /v1/placements/ID).  Latency is from the first byte sent
 * to the last byte of the answer.  Logs D/client-K.log ("+ID" placed,
 * "?ID" release asked, "-ID" released) as client.py writes them; --stats
 * writes the same JSON as client.py's --stats, plus the generator's own
 * CPU time; a "# ..." summary goes to stdout.  Exit 1 when any answer was
 * not one it should be.
 *
 * Plain sockets and a small HTTP/1.1 client rather than libcurl: the
 * server's answers are all Content-Length bodies on one connection, so a
 * request is one write() and usually one read(), with no per-request
 * allocation, no handle state machine and no dependency the minimal build
 * lacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <numaplace/util.h>

/* The same seven Nova flavors, in the same order, as FLAVORS in
   tests/service/client.py (tests/service/loadgen.sh checks they agree). */
static const char *const FLAVORS[] = {
	"{\"vcpus\": 2, \"memory_mb\": 2048}",
	"{\"vcpus\": 4, \"memory_mb\": 8192, \"extra_specs\": {\"hw:cpu_policy\": \"dedicated\"}}",
	"{\"vcpus\": 8, \"memory_mb\": 16384, \"extra_specs\": {\"hw:numa_nodes\": \"2\", "
	"\"hw:cpu_policy\": \"dedicated\"}}",
	"{\"vcpus\": 4, \"memory_mb\": 4096, \"extra_specs\": {\"hw:numa_nodes\": \"2\"}}",
	"{\"vcpus\": 2, \"memory_mb\": 1024, \"extra_specs\": {\"hw:mem_page_size\": \"2048\"}}",
	"{\"vcpus\": 16, \"memory_mb\": 32768, \"extra_specs\": {\"hw:cpu_policy\": \"dedicated\"}}",
	"{\"vcpus\": 4, \"memory_mb\": 8192, \"extra_specs\": {\"hw:cpu_policy\": \"dedicated\", "
	"\"hw:cpu_thread_policy\": \"isolate\"}}",
};
#define NFLAVORS (sizeof(FLAVORS) / sizeof(FLAVORS[0]))
#define MAX_ADDRS 16
#define MAX_ERRORS 20
#define ATTEMPTS 400
#define IOBUF 65536

struct opts {
	const char *addrs[MAX_ADDRS];
	char *addr_list; /* the copy of ADDRS that addrs point into */
	int naddrs, clients, ops, release;
	unsigned long seed;
	const char *logdir, *stats, *prefix;
	char auth[512]; /* "Authorization: Bearer T\r\n" or "" */
};

enum { PLACED, EXISTING, NOFIT, RELEASED, NCOUNTS };
static const char *const COUNT_NAMES[NCOUNTS] = { "placed", "existing", "nofit", "released" };

/* One client: its connection, its numbers.  Only its own thread writes it. */
struct client {
	const struct opts *o;
	int k, at, fd;
	uint64_t rnd;
	double *post, *del; /* latencies in seconds */
	int npost, ndel;
	long counts[NCOUNTS];
	long failovers, unavailable, nerrors;
	char errors[MAX_ERRORS][240];
	int status;
	char buf[IOBUF]; /* the answer: headers, then body */
	size_t body_off, body_len;
	char fatal[4200];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* splitmix64: a seeded stream per client, cheap and good enough for a mix. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int rand_below(uint64_t *s, int n)
{
	return (int)(next_rand(s) % (uint64_t)n);
}

static int dial(const char *addr)
{
	int fd = -1, one = 1;

	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(addr + 5) >= sizeof(sa.sun_path))
			return -1;
		memcpy(sa.sun_path, addr + 5, strlen(addr + 5) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		return -1;
	}
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return -1;
	/* "[::1]:8080" or "127.0.0.1:8080" */
	size_t hl = (size_t)(colon - addr);
	const char *h = addr;

	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return -1;
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The value of header NAME (with its colon) in HEAD..END, or NULL. */
static const char *find_header(const char *head, const char *end, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = head; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
		p += (*p == '\n');
		if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0) {
			p += n;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
	}
	return NULL;
}

/* Reads one answer into c->buf; 0, or -1 when the connection broke. */
static int read_answer(struct client *c, bool *close_after)
{
	size_t got = 0, want = 0;
	char *eoh = NULL;

	for (;;) {
		ssize_t r;

		if (got == sizeof(c->buf) - 1)
			return -1; /* larger than any answer of the routes it uses */
		r = recv(c->fd, c->buf + got, sizeof(c->buf) - 1 - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (eoh && want == SIZE_MAX) ? 0 : -1;
		got += (size_t)r;
		c->buf[got] = '\0';
		if (!eoh && (eoh = strstr(c->buf, "\r\n\r\n"))) {
			const char *cl = find_header(c->buf, eoh, "Content-Length:");
			const char *conn = find_header(c->buf, eoh, "Connection:");

			if (strncmp(c->buf, "HTTP/1.", 7) != 0 || got < 12)
				return -1;
			c->status = (int)strtol(c->buf + 9, NULL, 10);
			*close_after = conn && strncasecmp(conn, "close", 5) == 0;
			c->body_off = (size_t)(eoh + 4 - c->buf);
			if (cl)
				want = c->body_off + (size_t)strtoull(cl, NULL, 10);
			else if (c->status == 204 || c->status == 304)
				want = c->body_off;
			else
				want = SIZE_MAX; /* to the end of the connection */
			*close_after |= want == SIZE_MAX;
		}
		if (eoh && got >= want) {
			c->body_len = got - c->body_off;
			return 0;
		}
		if (eoh && want == SIZE_MAX)
			c->body_len = got - c->body_off;
	}
}

static void hangup(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/*
 * One request, asked again on another replica when the connection breaks
 * and after 50 ms on a 503.  Sets c->status and the body; *secs is the
 * last attempt's time; *retried whether it took more than one.  -1 when no
 * replica answered in ATTEMPTS tries.
 */
static int request(struct client *c, const char *req, size_t len, double *secs, bool *retried)
{
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		bool close_after = false;
		double t0;

		if (c->fd < 0 && (c->fd = dial(c->o->addrs[c->at])) < 0)
			goto failover;
		t0 = now_s();
		if (write_all(c->fd, req, len) != 0 || read_answer(c, &close_after) != 0)
			goto failover;
		*secs = now_s() - t0;
		if (close_after)
			hangup(c);
		if (c->status == 503 && attempt < ATTEMPTS - 1) {
			c->unavailable++;
			nap_ms(50);
			continue;
		}
		*retried = attempt > 0;
		return 0;
failover:
		hangup(c);
		c->failovers++;
		c->at = (c->at + 1) % c->o->naddrs;
		nap_ms(50);
	}
	return -1;
}

static void add_error(struct client *c, const char *what, const char *id)
{
	if (c->nerrors < MAX_ERRORS) {
		char *e = c->errors[c->nerrors];
		int n = snprintf(e, sizeof(c->errors[0]), "%s: %s %d ", id, what, c->status);
		size_t room = sizeof(c->errors[0]) - (size_t)n - 1, b = c->body_len;

		if (n > 0 && (size_t)n < sizeof(c->errors[0])) {
			if (b > room)
				b = room;
			memcpy(e + n, c->buf + c->body_off, b);
			e[(size_t)n + b] = '\0';
			for (char *p = e; *p; p++) /* one line, valid in a JSON string */
				if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
					*p = '\'';
		}
	}
	c->nerrors++;
}

static bool body_has(const struct client *c, const char *s)
{
	return c->body_len && strstr(c->buf + c->body_off, s) != NULL;
}

static int post(struct client *c, const char *id, FILE *log, char **live, int *nlive)
{
	char body[1024], req[2048];
	int bl, rl;
	double secs = 0;
	bool retried = false;

	bl = snprintf(body, sizeof(body), "{\"id\": \"%s\", \"flavor\": %s}", id,
		      FLAVORS[rand_below(&c->rnd, (int)NFLAVORS)]);
	rl = snprintf(req, sizeof(req),
		      "POST /v1/placements HTTP/1.1\r\nHost: numaplace\r\n%s"
		      "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		      c->o->auth, bl, body);
	if (bl >= (int)sizeof(body) || rl >= (int)sizeof(req))
		return -1;
	if (request(c, req, (size_t)rl, &secs, &retried) != 0)
		return -1;
	c->post[c->npost++] = secs;
	if (c->status == 200 || c->status == 201) {
		fprintf(log, "+%s\n", id);
		live[(*nlive)++] = strdup(id);
		c->counts[c->status == 201 ? PLACED : EXISTING]++;
		if (c->status == 200 && !retried)
			add_error(c, "200 for a new id; POST", id);
	} else if (c->status == 409 && body_has(c, "\"no_valid_host\"")) {
		c->counts[NOFIT]++;
	} else {
		add_error(c, "POST", id);
	}
	return 0;
}

static int release(struct client *c, FILE *log, char **live, int *nlive)
{
	char req[1024];
	int j = rand_below(&c->rnd, *nlive), rl;
	char *gone = live[j];
	double secs = 0;
	bool retried = false;

	live[j] = live[--(*nlive)];
	fprintf(log, "?%s\n", gone);
	rl = snprintf(req, sizeof(req), "DELETE /v1/placements/%s HTTP/1.1\r\nHost: numaplace\r\n%s\r\n",
		      gone, c->o->auth);
	if (rl >= (int)sizeof(req) || request(c, req, (size_t)rl, &secs, &retried) != 0) {
		free(gone);
		return -1;
	}
	c->del[c->ndel++] = secs;
	if (c->status == 204 || (c->status == 404 && retried)) {
		fprintf(log, "-%s\n", gone);
		c->counts[RELEASED]++;
	} else {
		add_error(c, "DELETE", gone);
	}
	free(gone);
	return 0;
}

static void *run_client(void *arg)
{
	struct client *c = arg;
	const struct opts *o = c->o;
	char path[4096], id[256];
	char **live = calloc((size_t)o->ops + 1, sizeof(*live));
	int nlive = 0;
	FILE *log;

	snprintf(path, sizeof(path), "%s/client-%d.log", o->logdir, c->k);
	if (!live || !(log = fopen(path, "w"))) {
		snprintf(c->fatal, sizeof(c->fatal), "cannot write '%s'", path);
		free(live);
		return NULL;
	}
	for (int i = 0; i < o->ops; i++) {
		snprintf(id, sizeof(id), "%sc%d-%d", o->prefix, c->k, i);
		if (post(c, id, log, live, &nlive) != 0 ||
		    (nlive && rand_below(&c->rnd, 100) < o->release &&
		     release(c, log, live, &nlive) != 0)) {
			snprintf(c->fatal, sizeof(c->fatal), "client %d: no replica answers", c->k);
			break;
		}
	}
	hangup(c);
	fclose(log);
	while (nlive)
		free(live[--nlive]);
	free(live);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* client.py's pct(): the sorted value at floor(p% of n), in ms. */
static void print_pct(FILE *f, const char *key, double *xs, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)n);

	if (!n) {
		fprintf(f, "\"%s\": null", key);
		return;
	}
	if (i > n - 1)
		i = n - 1;
	fprintf(f, "\"%s\": %.3f", key, xs[i] * 1e3);
}

struct totals {
	double *post, *del;
	size_t npost, ndel;
	long counts[NCOUNTS], failovers, unavailable, nerrors;
	double wall, cpu;
};

static void write_stats(FILE *f, const struct opts *o, const struct totals *t,
			const struct client *cs)
{
	size_t req = t->npost + t->ndel;
	long shown = 0;

	fprintf(f, "{\"clients\": %d, \"wall_s\": %.3f, \"requests\": %zu, ", o->clients, t->wall, req);
	fprintf(f, "\"placements_per_s\": %.1f, \"requests_per_s\": %.1f, ",
		t->wall > 0 ? (double)t->npost / t->wall : 0.0,
		t->wall > 0 ? (double)req / t->wall : 0.0);
	print_pct(f, "post_p50_ms", t->post, t->npost, 50);
	fputs(", ", f);
	print_pct(f, "post_p99_ms", t->post, t->npost, 99);
	fputs(", ", f);
	print_pct(f, "delete_p50_ms", t->del, t->ndel, 50);
	fputs(", ", f);
	print_pct(f, "delete_p99_ms", t->del, t->ndel, 99);
	fputs(", \"counts\": {", f);
	for (int i = 0; i < NCOUNTS; i++)
		fprintf(f, "\"%s\": %ld, ", COUNT_NAMES[i], t->counts[i]);
	fprintf(f, "\"errors\": %ld}, \"failovers\": %ld, \"unavailable_retried\": %ld, ",
		t->nerrors, t->failovers, t->unavailable);
	fprintf(f, "\"client\": \"c\", \"client_cpu_s\": %.3f, \"errors\": [", t->cpu);
	for (int k = 0; k < o->clients; k++)
		for (long e = 0; e < cs[k].nerrors && e < MAX_ERRORS && shown < MAX_ERRORS; e++)
			fprintf(f, "%s\"%s\"", shown++ ? ", " : "", cs[k].errors[e]);
	fputs("]}\n", f);
}

static int usage(void)
{
	fputs("usage: service-loadgen ADDRS [--clients N] [--ops N] [--logdir D] [--seed S]\n"
	      "       [--release PCT] [--token-file F] [--stats FILE] [--id-prefix P]\n"
	      "       service-loadgen --flavors\n",
	      stderr);
	return 2;
}

/*
 * The bearer token from PATH (np_read_trusted, as serve reads its own: a
 * regular file, not a link, never waited on, that no other user may
 * write or read); trailing white space dropped.  false, with one line on stderr, when
 * it cannot be read or is not one word of printable characters (it goes
 * into a header).
 */
static bool read_token(struct opts *o, const char *path)
{
	struct np_error err = { 0 };
	char *tok = NULL;
	size_t n = 0;
	bool ok;

	if (np_read_trusted(path, "token file", 256, NP_READ_SECRET, &tok, &n, &err)) {
		fprintf(stderr, "service-loadgen: --token-file: %s\n", err.message);
		return false;
	}
	while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		tok[--n] = '\0';
	ok = n > 0;
	for (size_t i = 0; i < n && ok; i++)
		ok = tok[i] > ' ' && tok[i] < 0x7f;
	if (ok)
		snprintf(o->auth, sizeof(o->auth), "Authorization: Bearer %s\r\n", tok);
	else
		fprintf(stderr, "service-loadgen: --token-file '%s': not one word of printable "
			"characters\n", path);
	free(tok);
	return ok;
}

static bool int_arg(const char *s, int lo, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > 1000000)
		return false;
	*out = (int)v;
	return true;
}

/* The options into O: 0; -1 for the usage (no ADDRS); -2 for bad input, said in one line. */
static int parse(int argc, char **argv, struct opts *o)
{
	char *list;
	int seed = 1;

	*o = (struct opts){ .clients = 16, .ops = 100, .release = 33, .logdir = ".", .prefix = "" };
	if (argc < 2 || argv[1][0] == '-')
		return -1;
	if (!(list = o->addr_list = strdup(argv[1])))
		return -1;
	for (char *save, *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save))
		if (o->naddrs < MAX_ADDRS)
			o->addrs[o->naddrs++] = a;
	for (int i = 2; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = v != NULL;

		if (ok && !strcmp(k, "--clients"))
			ok = int_arg(v, 1, &o->clients);
		else if (ok && !strcmp(k, "--ops"))
			ok = int_arg(v, 0, &o->ops);
		else if (ok && !strcmp(k, "--release"))
			ok = int_arg(v, 0, &o->release);
		else if (ok && !strcmp(k, "--seed"))
			ok = int_arg(v, 0, &seed);
		else if (ok && !strcmp(k, "--logdir"))
			o->logdir = v;
		else if (ok && !strcmp(k, "--stats"))
			o->stats = v;
		else if (ok && !strcmp(k, "--id-prefix"))
			o->prefix = v;
		else if (ok && !strcmp(k, "--token-file")) {
			if (!read_token(o, v))
				return -2; /* it said why */
		} else
			ok = false;
		if (!ok) {
			fprintf(stderr, "service-loadgen: bad option '%s'%s\n", k,
				v ? "" : " (no value)");
			return -2;
		}
	}
	o->seed = (unsigned long)seed;
	return o->naddrs ? 0 : -1;
}

static void sum_up(struct totals *t, const struct opts *o, struct client *cs)
{
	for (int k = 0; k < o->clients; k++) {
		memcpy(t->post + t->npost, cs[k].post, (size_t)cs[k].npost * sizeof(double));
		memcpy(t->del + t->ndel, cs[k].del, (size_t)cs[k].ndel * sizeof(double));
		t->npost += (size_t)cs[k].npost;
		t->ndel += (size_t)cs[k].ndel;
		for (int i = 0; i < NCOUNTS; i++)
			t->counts[i] += cs[k].counts[i];
		t->failovers += cs[k].failovers;
		t->unavailable += cs[k].unavailable;
		t->nerrors += cs[k].nerrors;
	}
	qsort(t->post, t->npost, sizeof(double), cmp_double);
	qsort(t->del, t->ndel, sizeof(double), cmp_double);
}

static void summary(const struct totals *t, const struct client *cs, int clients)
{
	printf("# %zu POST + %zu DELETE in %.2f s (%.0f placements/s), POST p50 %.3f ms p99 %.3f ms; "
	       "{\"placed\": %ld, \"existing\": %ld, \"nofit\": %ld, \"released\": %ld, "
	       "\"errors\": %ld}; %ld failovers, %ld 503s retried; client CPU %.3f s\n",
	       t->npost, t->ndel, t->wall, t->wall > 0 ? (double)t->npost / t->wall : 0.0,
	       t->npost ? t->post[t->npost / 2] * 1e3 : 0.0,
	       t->npost ? t->post[t->npost * 99 / 100] * 1e3 : 0.0,
	       t->counts[PLACED], t->counts[EXISTING], t->counts[NOFIT], t->counts[RELEASED],
	       t->nerrors, t->failovers, t->unavailable, t->cpu);
	for (int k = 0, shown = 0; k < clients; k++)
		for (long e = 0; e < cs[k].nerrors && e < MAX_ERRORS && shown < 10; e++, shown++)
			printf("# error: %s\n", cs[k].errors[e]);
	for (int k = 0; k < clients; k++)
		if (cs[k].fatal[0])
			printf("# error: %s\n", cs[k].fatal);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct client *cs;
	pthread_t *th;
	struct totals t = { 0 };
	struct rusage ru;
	double t0;
	bool fatal = false;

	if (argc == 2 && !strcmp(argv[1], "--flavors")) {
		for (size_t i = 0; i < NFLAVORS; i++)
			puts(FLAVORS[i]);
		return 0;
	}
	switch (parse(argc, argv, &o)) {
	case 0:
		break;
	case -2: /* bad input, said in one line */
		free(o.addr_list);
		return 2;
	default:
		free(o.addr_list);
		return usage();
	}
	cs = calloc((size_t)o.clients, sizeof(*cs));
	th = calloc((size_t)o.clients, sizeof(*th));
	t.post = calloc((size_t)o.clients * (size_t)o.ops + 1, sizeof(double));
	t.del = calloc((size_t)o.clients * (size_t)o.ops + 1, sizeof(double));
	if (!cs || !th || !t.post || !t.del)
		return 1;
	for (int k = 0; k < o.clients; k++) {
		cs[k] = (struct client){ .o = &o, .k = k + 1, .fd = -1,
					 .at = (k + 1) % o.naddrs,
					 .rnd = o.seed * 1000 + (uint64_t)k + 1 };
		cs[k].post = calloc((size_t)o.ops + 1, sizeof(double));
		cs[k].del = calloc((size_t)o.ops + 1, sizeof(double));
		if (!cs[k].post || !cs[k].del)
			return 1;
	}
	t0 = now_s();
	for (int k = 0; k < o.clients; k++)
		if (pthread_create(&th[k], NULL, run_client, &cs[k]) != 0)
			return 1;
	for (int k = 0; k < o.clients; k++)
		pthread_join(th[k], NULL);
	t.wall = now_s() - t0;
	getrusage(RUSAGE_SELF, &ru);
	t.cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	sum_up(&t, &o, cs);
	if (o.stats) {
		FILE *f = fopen(o.stats, "w");

		if (!f) {
			fprintf(stderr, "service-loadgen: cannot write '%s'\n", o.stats);
			return 1;
		}
		write_stats(f, &o, &t, cs);
		fclose(f);
	}
	summary(&t, cs, o.clients);
	for (int k = 0; k < o.clients; k++) {
		fatal |= cs[k].fatal[0] != '\0';
		free(cs[k].post);
		free(cs[k].del);
	}
	free(cs);
	free(th);
	free(t.post);
	free(t.del);
	free(o.addr_list);
	return (t.nerrors || fatal) ? 1 : 0;
}
