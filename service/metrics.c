/*
 * metrics.c - GET /v1/metrics in Prometheus' text format (0.0.4): per
 * route the requests by status and a latency histogram, the schedules
 * and their claim conflicts and retries (this replica's, since it
 * started), how its claims were committed (np_fleet_commit_stats: claims,
 * transactions, the largest batch, batches split) and how it kept its
 * summaries (np_fleet_refresh_stats: ledgers read, summaries built and
 * shared, changes told by the store), how its threads shared their change
 * scans (np_fleet_feed_stats, PostgreSQL), and from the store the hosts,
 * placements and per node the memory and CPUs in use (the same for every
 * replica).
 *
 * Counters change under one mutex: a request costs a few additions, far
 * below the store's commit, so one lock is not the bottleneck.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc.h"

static const int statuses[] = { 200, 201, 204, 400, 401, 404, 405, 409,
				411, 413, 415, 431, 500, 503, 0 };
#define NSTATUS ((int)(sizeof(statuses) / sizeof(statuses[0])))
static const double buckets[] = { 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
				  0.05,	  0.1,	 0.2,	0.5,   1,    2 };
#define NBUCKET ((int)(sizeof(buckets) / sizeof(buckets[0])))

struct route_stats {
	unsigned long long by_status[NSTATUS];
	unsigned long long le[NBUCKET]; /* not cumulative; summed when printed */
	unsigned long long count;
	double sum;
};

struct svc_metrics {
	pthread_mutex_t lock;
	int nroutes;			/* the table's, plus one for "none" */
	struct route_stats *routes;
	unsigned long long placed, no_fit, conflicts, retried;
};

struct svc_metrics *svc_metrics_new(void)
{
	struct svc_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	while (svc_route_at(m->nroutes))
		m->nroutes++;
	m->nroutes++;
	if (!(m->routes = calloc((size_t)m->nroutes, sizeof(*m->routes)))) {
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void svc_metrics_free(struct svc_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->routes);
	free(m);
}

void svc_metrics_request(struct svc_metrics *m, int route, int status, double secs)
{
	struct route_stats *r;
	int s = 0, b = 0;

	while (statuses[s] && statuses[s] != status)
		s++;
	while (b < NBUCKET && secs > buckets[b])
		b++;
	pthread_mutex_lock(&m->lock);
	r = &m->routes[route >= 0 && route < m->nroutes - 1 ? route : m->nroutes - 1];
	r->by_status[s]++;
	if (b < NBUCKET)
		r->le[b]++;
	r->count++;
	r->sum += secs;
	pthread_mutex_unlock(&m->lock);
}

void svc_metrics_schedule(struct svc_metrics *m, int attempts, bool placed)
{
	pthread_mutex_lock(&m->lock);
	if (placed)
		m->placed++;
	else
		m->no_fit++;
	if (attempts > 1) {
		m->conflicts += (unsigned long long)(attempts - 1);
		m->retried++;
	}
	pthread_mutex_unlock(&m->lock);
}

static const char *route_name(int i)
{
	const struct svc_route *r = svc_route_at(i);

	return r ? r->name : "none";
}

static void requests(struct svc_metrics *m, FILE *o)
{
	fputs("# HELP numaplace_http_requests_total Requests answered, by route and status.\n"
	      "# TYPE numaplace_http_requests_total counter\n", o);
	for (int i = 0; i < m->nroutes; i++)
		for (int s = 0; s < NSTATUS; s++)
			if (m->routes[i].by_status[s])
				fprintf(o, "numaplace_http_requests_total{route=\"%s\",code=\"%.3s\"} %llu\n",
					route_name(i), statuses[s] ? (char[4]){ (char)('0' + statuses[s] / 100),
					(char)('0' + statuses[s] / 10 % 10), (char)('0' + statuses[s] % 10), 0 } : "other",
					m->routes[i].by_status[s]);
	fputs("# HELP numaplace_http_request_duration_seconds Time from the headers to the answer.\n"
	      "# TYPE numaplace_http_request_duration_seconds histogram\n", o);
	for (int i = 0; i < m->nroutes; i++) {
		const struct route_stats *r = &m->routes[i];
		unsigned long long cum = 0;

		for (int b = 0; b < NBUCKET; b++) {
			cum += r->le[b];
			fprintf(o, "numaplace_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
				route_name(i), buckets[b], cum);
		}
		fprintf(o, "numaplace_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
			   "numaplace_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
			   "numaplace_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
			route_name(i), r->count, route_name(i), r->sum, route_name(i), r->count);
	}
	fprintf(o, "# HELP numaplace_schedules_total Schedules by result.\n"
		   "# TYPE numaplace_schedules_total counter\n"
		   "numaplace_schedules_total{result=\"placed\"} %llu\n"
		   "numaplace_schedules_total{result=\"no_valid_host\"} %llu\n"
		   "# HELP numaplace_claim_conflicts_total Claims refused because another scheduler was faster.\n"
		   "# TYPE numaplace_claim_conflicts_total counter\n"
		   "numaplace_claim_conflicts_total %llu\n"
		   "# HELP numaplace_claim_retries_total Schedules that had to claim again.\n"
		   "# TYPE numaplace_claim_retries_total counter\n"
		   "numaplace_claim_retries_total %llu\n",
		m->placed, m->no_fit, m->conflicts, m->retried);
}

/* A label value: backslash, quote and newline escaped. */
static void label(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', o);
		if (*s == '\n')
			fputs("\\n", o);
		else
			fputc(*s, o);
	}
}

static const char *const gauges[][2] = {
	{ "numaplace_node_memory_mb", "Memory of the node." },
	{ "numaplace_node_memory_used_mb", "Memory of the node that guests were given." },
	{ "numaplace_node_cpus_pinned", "Dedicated CPUs of the node pinned to guests." },
	{ "numaplace_node_vcpus_shared", "Floating vCPUs placed on the node's shared CPUs." },
};

/* A metric's HELP and TYPE lines, and with ONE its one unlabelled value V. */
static void metric(FILE *o, const char *name, const char *type, const char *help, bool one,
		   unsigned long long v)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	if (one)
		fprintf(o, "%s %llu\n", name, v);
}

/*
 * The replica's group commit: claims and releases per transaction is
 * (claims + releases) / commits.
 */
static void commit_stats(np_fleet *f, FILE *o)
{
	struct np_fleet_commit_stats c;

	np_fleet_commit_stats(f, &c);
	metric(o, "numaplace_claims_committed_total", "counter",
	       "Claims sent to the store in a commit.", true, c.claims);
	metric(o, "numaplace_releases_committed_total", "counter",
	       "Releases sent to the store in a commit (with the claims).", true, c.releases);
	metric(o, "numaplace_claim_commits_total", "counter",
	       "Transactions that carried those claims and releases.", true, c.commits);
	metric(o, "numaplace_claim_commit_largest", "gauge", "The most claims in one transaction.",
	       true, c.largest);
	metric(o, "numaplace_claim_commit_splits_total", "counter",
	       "Batches that failed as a whole and were run claim by claim.", true, c.split);
}

/* How the replica kept its summaries: reads from the store, builds, sharing. */
static void refresh_stats(np_fleet *f, FILE *o)
{
	struct np_fleet_refresh_stats r;

	np_fleet_refresh_stats(f, &r);
	metric(o, "numaplace_ledger_reads_total", "counter",
	       "Ledgers read from the store to refresh summaries: of one host, or of all in one "
	       "pass.", false, 0);
	fprintf(o, "numaplace_ledger_reads_total{scope=\"host\"} %llu\n"
		   "numaplace_ledger_reads_total{scope=\"all\"} %llu\n",
		(unsigned long long)r.host_reads, (unsigned long long)r.full_reads);
	metric(o, "numaplace_summaries_built_total", "counter", "Host summaries built.", true,
	       r.built);
	metric(o, "numaplace_summaries_shared_total", "counter",
	       "Host summaries one thread took from another.", true, r.shared);
	metric(o, "numaplace_changes_told_total", "counter",
	       "Other processes' changes learnt from the store (SQLite's change ring, "
	       "PostgreSQL's last change), not read.",
	       true, r.told);
}

/* The group's change feed (PostgreSQL; 0 on SQLite): scans shared, taken, and fallen behind. */
static void feed_stats(np_fleet *f, FILE *o)
{
	struct np_fleet_feed_stats d;

	np_fleet_feed_stats(f, &d);
	metric(o, "numaplace_feed_scans_total", "counter",
	       "Change scans of the store the replica's threads made and shared (PostgreSQL).", true,
	       d.scans);
	metric(o, "numaplace_feed_takes_total", "counter",
	       "Refreshes that took the shared scans, with no round trip of their own.", true,
	       d.takes);
	metric(o, "numaplace_feed_behind_total", "counter",
	       "Refreshes of a thread that had fallen out of the shared scans and scanned from its "
	       "mark.", true, d.behind);
}

static void fleet_gauges(np_fleet *f, FILE *o)
{
	long placements = 0;

	for (int i = 0; i < np_fleet_host_count(f); i++)
		placements += np_fleet_host_placement_count(np_fleet_host_at(f, i));
	fprintf(o, "# HELP numaplace_hosts Hosts in the store.\n# TYPE numaplace_hosts gauge\n"
		   "numaplace_hosts %d\n"
		   "# HELP numaplace_placements Live placements in the store.\n"
		   "# TYPE numaplace_placements gauge\nnumaplace_placements %ld\n",
		np_fleet_host_count(f), placements);
	for (int g = 0; g < 4; g++) {
		fprintf(o, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g][0], gauges[g][1], gauges[g][0]);
		for (int i = 0; i < np_fleet_host_count(f); i++) {
			const np_fleet_host *h = np_fleet_host_at(f, i);
			const np_host *u = np_fleet_host_usage(h);

			for (int k = 0; k < np_topo_node_count(np_host_topo(u)); k++) {
				const struct np_host_node *n = np_host_node(u, k);
				unsigned long long v[4] = { n->memory_mb, n->memory_used_mb,
							    (unsigned long long)n->npinned,
							    n->cpu_usage };

				fprintf(o, "%s{host=\"", gauges[g][0]);
				label(o, np_fleet_host_name(h));
				fprintf(o, "\",node=\"%d\"} %llu\n", n->os_id, v[g]);
			}
		}
	}
}

char *svc_metrics_text(struct svc_metrics *m, np_fleet *f, size_t *len, struct np_error *err)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *o;

	if (np_fleet_refresh(f, err) || !(o = open_memstream(&buf, &n)))
		return NULL;
	pthread_mutex_lock(&m->lock);
	requests(m, o);
	pthread_mutex_unlock(&m->lock);
	commit_stats(f, o);
	refresh_stats(f, o);
	feed_stats(f, o);
	fleet_gauges(f, o);
	if (fclose(o)) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

void svc_metrics_get(struct svc_req *rq, struct svc_resp *rs)
{
	struct np_error err = { 0 };
	np_fleet *f = svc_fleet_get(rq->svc, &err);
	size_t len = 0;
	char *text = f ? svc_metrics_text(svc_metrics(rq->svc), f, &len, &err) : NULL;

	svc_fleet_put(rq->svc, f, text ? 0 : err.code);
	if (!text) {
		svc_error(rs, "unavailable", "the store does not answer: %s", err.message);
		return;
	}
	rs->status = 200;
	rs->body = text;
	rs->len = len;
	rs->type = "text/plain; version=0.0.4";
}
