/*
 * fleet-bench.c - numaplace's side of bench/fleet.sh: fleets of 8-node
 * hosts with a seeded mixed load, schedulers timed in-process, and the
 * same hosts and requests written out for Nova's NUMATopologyFilter
 * (bench/fleet-nova).
 *
 *   fleet-bench load URL HOSTS SEED FILL%      add hosts, place guests until FILL% memory
 *   fleet-bench run URL COUNT SEED NSCHED [dry|full|claim [THREADS]]
 *                                  NSCHED processes x THREADS threads x COUNT schedules
 *   fleet-bench export URL SEED NREQ OUT.json  hosts (Nova case cells) + NREQ requests
 *
 * run: each process opens its own np_fleet (and one more per thread, in
 * its group: np_fleet_open_shared, so the threads' claims are committed
 * together) and refreshes it (not timed),
 * says it is ready, waits for the start, then times every
 * np_fleet_schedule() (refresh, pre-filter, engine, choice, claim; with
 * "dry" no claim; "full": no claim, and the engine on every host that
 * passes the pre-filter, as Nova's filter runs on every host) and afterwards releases what it placed (not timed), so
 * that runs leave the fleet as they found it.  Prints one JSON line:
 * latencies p50/p90/p99/max in ms and placements per second over the wall
 * time from the start to the last process's end; the claims and the
 * commits that carried them (np_fleet_commit_stats) and the CPU time of the
 * scheduler processes per schedule.  The request stream is
 * synth_flavor() from SEED: mostly small floating guests, a third pinned,
 * some with 2 or 4 NUMA cells or 2 MiB pages (tests/unit/synth.h).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <numaplace/numaplace.h>

#include "../tests/unit/synth.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int die(const char *what, const struct np_error *err)
{
	fprintf(stderr, "fleet-bench: %s: %s\n", what, err ? err->message : "");
	return 1;
}

static np_fleet *open_fleet(const char *url, unsigned flags)
{
	struct np_error err = { 0 };
	np_fleet *f = NULL;

	if (np_fleet_open(url, flags, &f, &err) || np_fleet_refresh(f, &err)) {
		die(url, &err);
		np_fleet_close(f);
		return NULL;
	}
	return f;
}

/* ---- load --------------------------------------------------------------------- */

static uint64_t used_mb(const np_host *h, uint64_t *total)
{
	uint64_t u = 0;

	*total = 0;
	for (int i = 0; i < np_topo_node_count(np_host_topo(h)); i++) {
		u += np_host_node(h, i)->memory_used_mb;
		*total += np_host_node(h, i)->memory_mb;
	}
	return u;
}

/* Place random guests on host NAME until FILL% of its memory is used. */
static int fill_host(np_fleet *f, const char *name, uint64_t *seed, int fill, int *placed)
{
	struct np_fleet_sched_opts o = { .host = name, .top = 1, .want = 1 };
	struct np_error err = { 0 };
	int misses = 0;

	for (int i = 0; misses < 4 && i < 200; i++) {
		const np_fleet_host *h = np_fleet_host_find(f, name);
		uint64_t total, used = h ? used_mb(np_fleet_host_usage(h), &total) : 0;
		char *flavor = synth_flavor(seed, 4, 0), id[96];
		np_request *req = NULL;
		np_fleet_result *r = NULL;

		if (!h || used * 100 >= total * (uint64_t)fill) {
			free(flavor);
			break;
		}
		snprintf(id, sizeof(id), "pre-%s-%d", name, i);
		if (np_request_from_flavor_text(flavor, NULL, &req, &err) ||
		    np_fleet_schedule(f, id, req, &o, &r, &err)) {
			free(flavor);
			np_request_free(req);
			return die(id, &err);
		}
		misses = np_fleet_result_placed(r) ? 0 : misses + 1;
		*placed += np_fleet_result_placed(r);
		np_fleet_result_free(r);
		np_request_free(req);
		free(flavor);
	}
	return 0;
}

static int load(const char *url, int hosts, uint64_t seed, int fill)
{
	struct synth_host a = { 8, 8, 65536, 1024, 2 }, b = { 8, 6, 49152, 0, 0 };
	struct np_error err = { 0 };
	np_topo *t[2] = { NULL, NULL };
	np_fleet *f = open_fleet(url, NP_FLEET_CREATE);
	double start = now_ms();
	int placed = 0, rc = f ? 0 : 1;
	char name[32];

	for (int k = 0; k < 2 && !rc; k++) {
		char *json = synth_topo_json(k ? &b : &a);

		rc = np_topo_parse(NP_SOURCE_JSON, json, strlen(json), "synth", &t[k], &err);
		free(json);
	}
	for (int i = 0; i < hosts && !rc; i++) {
		snprintf(name, sizeof(name), "host-%05d", i);
		rc = np_fleet_add_host(f, name, t[i % 2], NULL, NULL, &err) ? die(name, &err) : 0;
	}
	if (!rc && np_fleet_refresh(f, &err))
		rc = die("refresh", &err);
	for (int i = 0; i < hosts && !rc; i++) {
		snprintf(name, sizeof(name), "host-%05d", i);
		rc = fill_host(f, name, &seed, fill, &placed);
		if (i % 1000 == 999)
			fprintf(stderr, "fleet-bench: %d hosts filled, %d guests\n", i + 1, placed);
	}
	printf("{\"hosts\": %d, \"preloaded\": %d, \"seconds\": %.1f}\n", hosts, placed,
	       (now_ms() - start) / 1e3);
	np_fleet_close(f);
	np_topo_free(t[0]);
	np_topo_free(t[1]);
	return rc;
}

/* ---- run ----------------------------------------------------------------------- */

struct result {
	int n, placed, nofit, errors, attempts;
	long looked; /* hosts pre-filtered or placed, over all schedules */
	double warm_ms; /* open + first refresh: reading every host */
	long rss_kb;	/* after the warm-up */
	long claims, commits; /* the group's (np_fleet_commit_stats) */
	double cpu_ms;	/* user + system CPU of the timed loop, the whole process */
	double lat[];	/* ms, one per schedule */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One thread of a scheduler process: COUNT timed schedules on its own handle. */
struct worker {
	np_fleet *f;
	int count, k, t, mode, nids;
	uint64_t seed;
	struct result *res; /* shared by the process's threads: own slice of lat */
	double *lat;
	char (*ids)[48];
	int placed, nofit, errors, attempts;
	long looked;
	pthread_t tid;
};

static void *timed(void *p)
{
	struct worker *w = p;
	struct np_fleet_sched_opts o = { .dry_run = w->mode > 0,
					 .want = w->mode == 2 ? 1 << 30 : 0 };
	struct np_error err = { 0 };
	uint64_t s = w->seed * 1000 + (uint64_t)w->k * 64 + (uint64_t)w->t;

	for (int i = 0; i < w->count; i++) {
		char *flavor = synth_flavor(&s, 4, 0);
		np_request *req = NULL;
		np_fleet_result *r = NULL;
		double t0;

		snprintf(w->ids[w->nids], sizeof(w->ids[0]), "b%llu-%d-%d-%d",
			 (unsigned long long)w->seed, w->k, w->t, i);
		if (np_request_from_flavor_text(flavor, NULL, &req, &err))
			w->errors++;
		t0 = now_ms();
		if (req && np_fleet_schedule(w->f, w->ids[w->nids], req, &o, &r, &err)) {
			w->errors++;
			fprintf(stderr, "fleet-bench: %s: %s\n", w->ids[w->nids], err.message);
		}
		w->lat[i] = now_ms() - t0;
		if (r && np_fleet_result_placed(r)) {
			w->placed++;
			w->nids += w->mode == 0;
		} else if (r) {
			w->nofit++;
		}
		w->attempts += r ? np_fleet_result_stats(r)->attempts : 0;
		w->looked += r ? np_fleet_result_stats(r)->prefiltered + np_fleet_result_stats(r)->engine : 0;
		np_fleet_result_free(r);
		np_request_free(req);
		free(flavor);
	}
	return NULL;
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/*
 * One scheduler process: NTHR threads, each with its own handle of one
 * group (np_fleet_open_shared: their claims are committed together), COUNT
 * timed schedules each; the result to FD, then release (untimed).
 */
static int scheduler(const char *url, int count, uint64_t seed, int k, int mode, int nthr,
		     int ready, int go, int fd)
{
	struct result *res = calloc(1, sizeof(*res) + (size_t)(count * nthr) * sizeof(double));
	struct worker w[64] = { 0 };
	struct np_fleet_commit_stats cs;
	struct np_error err = { 0 };
	double t_open = now_ms(), cpu0;
	struct rusage ru;
	char c = 1;

	if (!res)
		return 1;
	for (int t = 0; t < nthr; t++) {
		w[t] = (struct worker){ .count = count, .k = k, .t = t, .mode = mode, .seed = seed,
					.res = res, .lat = res->lat + (size_t)t * (size_t)count };
		if (t == 0)
			w[t].f = open_fleet(url, 0);
		else if (np_fleet_open_shared(w[0].f, &w[t].f, &err) ||
			 np_fleet_refresh(w[t].f, &err))
			return die(url, &err);
		if (!w[t].f || !(w[t].ids = calloc((size_t)count + 1, sizeof(*w[t].ids))))
			return 1;
	}
	res->warm_ms = now_ms() - t_open;
	getrusage(RUSAGE_SELF, &ru);
	res->rss_kb = ru.ru_maxrss;
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) < 0)
		return 1;
	cpu0 = cpu_ms();
	for (int t = 1; t < nthr; t++)
		if (pthread_create(&w[t].tid, NULL, timed, &w[t]))
			return 1;
	timed(&w[0]);
	for (int t = 1; t < nthr; t++)
		pthread_join(w[t].tid, NULL);
	res->cpu_ms = cpu_ms() - cpu0;
	np_fleet_commit_stats(w[0].f, &cs);
	res->claims = (long)cs.claims, res->commits = (long)cs.commits;
	for (int t = 0; t < nthr; t++) {
		res->placed += w[t].placed, res->nofit += w[t].nofit, res->errors += w[t].errors;
		res->attempts += w[t].attempts, res->looked += w[t].looked;
	}
	res->n = count * nthr;
	if (write(fd, res, sizeof(*res) + (size_t)res->n * sizeof(double)) < 0)
		res->errors++;
	close(fd);
	for (int t = 0; t < nthr; t++) {
		for (int i = 0; i < w[t].nids; i++)
			np_fleet_release(w[t].f, w[t].ids[i], NULL, &err);
		free(w[t].ids);
	}
	for (int t = nthr - 1; t >= 0; t--)
		np_fleet_close(w[t].f);
	free(res);
	return 0;
}

struct totals {
	int n, placed, nofit, errors, attempts;
	long looked, rss, claims, commits;
	double warm, cpu_ms, wall;
};

static void report(const char *url, int nsched, int nthr, int mode, double *lat,
		   const struct totals *t)
{
	bool dry = mode > 0;
	int n = t->n;
	double done = dry ? n : t->placed;

	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("{\"store\": \"%s\", \"schedulers\": %d, \"threads\": %d, \"mode\": \"%s\", "
	       "\"schedules\": %d, \"placed\": %d, \"nofit\": %d, \"errors\": %d, \"attempts\": %d, "
	       "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
	       "\"wall_s\": %.3f, \"per_second\": %.1f, \"warmup_ms\": %.0f, \"rss_mb\": %.1f, "
	       "\"hosts_looked_mean\": %.1f, \"claims\": %ld, \"commits\": %ld, "
	       "\"commits_per_placement\": %.3f, \"cpu_ms_per_schedule\": %.3f}\n",
	       strncmp(url, "sqlite", 6) ? "postgresql" : "sqlite", nsched, nthr,
	       mode == 2 ? "full" : dry ? "dry" : "claim", n, t->placed, t->nofit, t->errors,
	       t->attempts, lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100], lat[n - 1],
	       t->wall / 1e3, done / (t->wall / 1e3), t->warm, (double)t->rss / 1024,
	       (double)t->looked / n, t->claims, t->commits,
	       t->placed ? (double)t->commits / t->placed : 0.0, t->cpu_ms / n);
}

/* Read one scheduler's result from FD into T and LAT (room for COUNT more). */
static int gather(int fd, int count, struct totals *t, double *lat)
{
	struct result h;
	ssize_t got = read(fd, &h, sizeof(h));
	size_t want, have = 0;

	if (got != (ssize_t)sizeof(h) || h.n > count)
		return 1;
	want = (size_t)h.n * sizeof(double);
	while (have < want && (got = read(fd, (char *)(lat + t->n) + have, want - have)) > 0)
		have += (size_t)got;
	t->n += h.n, t->placed += h.placed, t->nofit += h.nofit, t->errors += h.errors;
	t->attempts += h.attempts, t->looked += h.looked;
	t->claims += h.claims, t->commits += h.commits, t->cpu_ms += h.cpu_ms;
	t->warm = h.warm_ms > t->warm ? h.warm_ms : t->warm;
	t->rss = h.rss_kb > t->rss ? h.rss_kb : t->rss;
	return have == want ? 0 : 1;
}

static int run(const char *url, int count, uint64_t seed, int nsched, int mode, int nthr)
{
	int ready[2], go[2], fds[16], rc = 0;
	pid_t pids[16];
	double *lat = calloc((size_t)(nsched * nthr * count) + 1, sizeof(double)), start;
	struct totals t = { 0 };
	char c;

	if (nsched < 1 || nsched > 16 || nthr < 1 || nthr > 64 || !lat || pipe(ready) || pipe(go))
		return 2;
	for (int k = 0; k < nsched; k++) {
		int res[2];

		if (pipe(res))
			return 1;
		pids[k] = fork();
		if (pids[k] == 0) {
			close(go[1]);
			close(res[0]);
			_exit(scheduler(url, count, seed, k, mode, nthr, ready[1], go[0], res[1]));
		}
		close(res[1]);
		fds[k] = res[0];
	}
	close(go[0]);
	for (int k = 0; k < nsched; k++)
		if (read(ready[0], &c, 1) != 1)
			rc = 1;
	start = now_ms();
	close(go[1]); /* every scheduler starts now */
	for (int k = 0; k < nsched; k++) {
		rc |= gather(fds[k], count * nthr, &t, lat);
		close(fds[k]);
	}
	t.wall = now_ms() - start;
	for (int k = 0; k < nsched; k++) {
		int st = 0;

		waitpid(pids[k], &st, 0);
		rc |= !WIFEXITED(st) || WEXITSTATUS(st);
	}
	if (t.n)
		report(url, nsched, nthr, mode, lat, &t);
	free(lat);
	return rc || t.errors;
}

/* ---- export for Nova ----------------------------------------------------------- */

static void ints(FILE *out, const int *v, int n)
{
	fputc('[', out);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%d", i ? ", " : "", v[i]);
	fputc(']', out);
}

/* Node I of H as a cell of shared/nova/CASE_FORMAT.md. */
static void nova_cell(FILE *out, const np_host *h, int i)
{
	const struct np_host_node *n = np_host_node(h, i);
	const struct np_node *tn = np_topo_node(np_host_topo(h), i);

	fprintf(out, "%s{\"id\": %d, \"cpus\": ", i ? ", " : "", n->os_id);
	ints(out, tn->cpus, tn->ncpus);
	fprintf(out, ", \"siblings\": [");
	for (int g = 0; g < n->nsiblings; g++) {
		int m = 0;

		while (n->siblings[g][m] >= 0)
			m++;
		fprintf(out, "%s", g ? ", " : "");
		ints(out, n->siblings[g], m);
	}
	fprintf(out, "], \"memory_mb\": %llu, \"memory_usage_mb\": %llu, \"cpu_usage\": %u, "
		"\"pinned_cpus\": ", (unsigned long long)n->memory_mb,
		(unsigned long long)n->memory_used_mb, n->cpu_usage);
	ints(out, n->pinned, n->npinned);
	fprintf(out, ", \"socket\": %d, \"mempages\": [", n->socket < 0 ? 0 : n->socket);
	for (int p = 0; p < n->npools; p++)
		fprintf(out, "%s{\"size_kb\": %llu, \"total\": %llu, \"used\": %llu, \"reserved\": %llu}",
			p ? ", " : "", (unsigned long long)n->pools[p].size_kb,
			(unsigned long long)n->pools[p].total, (unsigned long long)n->pools[p].used,
			(unsigned long long)n->pools[p].reserved);
	fprintf(out, "], \"pci\": [");
	for (int p = 0, first = 1; p < np_host_pci_pool_count(h); p++) {
		const struct np_pci_pool *q = np_host_pci_pool(h, p);

		if (q->node_idx != i)
			continue;
		fprintf(out, "%s{\"vendor_id\": \"%04x\", \"product_id\": \"%04x\", \"count\": %d}",
			first ? "" : ", ", q->vendor, q->product, q->count - q->used);
		first = 0;
	}
	fprintf(out, "]}");
}

static int export(const char *url, uint64_t seed, int nreq, const char *path)
{
	np_fleet *f = open_fleet(url, 0);
	FILE *out = f ? fopen(path, "w") : NULL;
	uint64_t s = seed * 1000; /* scheduler 0's stream in run */

	if (!out) {
		np_fleet_close(f);
		return die(path, NULL);
	}
	fprintf(out, "{\"cpu_allocation_ratio\": 16.0, \"ram_allocation_ratio\": 1.0, \"hosts\": [");
	for (int i = 0; i < np_fleet_host_count(f); i++) {
		const np_fleet_host *fh = np_fleet_host_at(f, i);
		const np_host *h = np_fleet_host_usage(fh);

		fprintf(out, "%s\n {\"name\": \"%s\", \"cells\": [", i ? "," : "",
			np_fleet_host_name(fh));
		for (int k = 0; k < np_topo_node_count(np_host_topo(h)); k++)
			nova_cell(out, h, k);
		fprintf(out, "]}");
	}
	fprintf(out, "],\n \"requests\": [");
	for (int i = 0; i < nreq; i++) {
		char *flavor = synth_flavor(&s, 4, 0);

		fprintf(out, "%s\"%s\"", i ? ", " : "", flavor);
		free(flavor);
	}
	fprintf(out, "]}\n");
	np_fleet_close(f);
	return fclose(out) ? die(path, NULL) : 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "load"))
		return load(argv[2], (int)strtol(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
			    (int)strtol(argv[5], NULL, 10));
	if (argc >= 6 && argc <= 8 && !strcmp(argv[1], "run"))
		return run(argv[2], (int)strtol(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
			   (int)strtol(argv[5], NULL, 10),
			   argc >= 7 ? !strcmp(argv[6], "dry") + 2 * !strcmp(argv[6], "full") : 0,
			   argc == 8 ? (int)strtol(argv[7], NULL, 10) : 1);
	if (argc == 6 && !strcmp(argv[1], "export"))
		return export(argv[2], strtoull(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10),
			      argv[5]);
	fprintf(stderr, "usage: fleet-bench load URL HOSTS SEED FILL%% | run URL COUNT SEED NSCHED "
		"[dry|full] | export URL SEED NREQ OUT.json\n");
	return 2;
}
