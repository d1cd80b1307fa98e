/*
 * fleet-stress.c - a scheduler replica for the fleet's concurrency and
 * kill tests: one long-lived np_fleet that schedules random guests and
 * releases some, logging what the store promised, so a test can check
 * afterwards that nothing committed was lost.
 *
 *   fleet-stress add URL N             add N synthetic hosts (two models)
 *   fleet-stress run URL SEED COUNT LOG [RELEASE% [THREADS]]
 *
 * LOG gets one line per fact, written and synced before the next step:
 * "+ID" after a schedule returned placed, "?ID" before a release is asked,
 * "-ID" after it returned.  A process killed at any moment therefore
 * leaves at most one placement the log does not know (in flight) and one
 * release in doubt ("?" without "-").  Uses the public API only.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaplace/numaplace.h>

#include "../unit/synth.h"

static int add_hosts(const char *url, int n)
{
	struct synth_host big = { 8, 8, 65536, 512, 2 }, small = { 4, 6, 49152, 0, 0 };
	struct np_error err = { 0 };
	np_topo *t[2] = { NULL, NULL };
	np_fleet *f = NULL;
	char name[32];
	int rc = 0;

	for (int k = 0; k < 2; k++) {
		char *json = synth_topo_json(k ? &small : &big);

		rc = np_topo_parse(NP_SOURCE_JSON, json, strlen(json), "synth", &t[k], &err);
		free(json);
		if (rc)
			goto out;
	}
	if ((rc = np_fleet_open(url, NP_FLEET_CREATE, &f, &err)))
		goto out;
	for (int i = 0; i < n && !rc; i++) {
		snprintf(name, sizeof(name), "host-%05d", i);
		rc = np_fleet_add_host(f, name, t[i % 3 == 2], NULL, NULL, &err);
	}
out:
	if (rc)
		fprintf(stderr, "fleet-stress: %s\n", err.message);
	np_fleet_close(f);
	np_topo_free(t[0]);
	np_topo_free(t[1]);
	return rc ? 1 : 0;
}

static int logline(int fd, char tag, const char *id)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%c%s\n", tag, id);

	return write(fd, line, (size_t)n) == n && fdatasync(fd) == 0 ? 0 : -1;
}

struct live {
	char (*ids)[48];
	int n;
};

static int release_one(np_fleet *f, struct live *l, uint64_t *seed, int fd, int *released)
{
	struct np_error err = { 0 };
	int k = (int)(synth_rand(seed) % (unsigned)l->n);
	bool found = false;

	if (logline(fd, '?', l->ids[k]) || np_fleet_release(f, l->ids[k], &found, &err) || !found ||
	    logline(fd, '-', l->ids[k])) {
		fprintf(stderr, "fleet-stress: release %s: %s\n", l->ids[k],
			err.message[0] ? err.message : "not found");
		return -1;
	}
	memcpy(l->ids[k], l->ids[--l->n], sizeof(l->ids[k]));
	(*released)++;
	return 0;
}

struct worker {
	np_fleet *f;
	uint64_t seed;
	int count, fd, thread;
	unsigned rel;
	int placed, released, nofit, errors;
	pthread_t tid;
};

static void *work(void *p)
{
	struct worker *w = p;
	struct np_error err = { 0 };
	struct live l = { calloc((size_t)w->count + 1, sizeof(*l.ids)), 0 };
	uint64_t seed = w->seed;

	if (!l.ids) {
		w->errors++;
		return NULL;
	}
	for (int i = 0; i < w->count && w->errors < 5; i++) {
		char *flavor = synth_flavor(&seed, 2, 0), id[48];
		np_request *req = NULL;
		np_fleet_result *r = NULL;

		snprintf(id, sizeof(id), "s%llu-%d", (unsigned long long)w->seed, i);
		if (w->thread > 0)
			snprintf(id, sizeof(id), "s%llu-t%d-%d", (unsigned long long)w->seed, w->thread,
				 i);
		if (np_request_from_flavor_text(flavor, NULL, &req, &err) ||
		    np_fleet_schedule(w->f, id, req, NULL, &r, &err)) {
			fprintf(stderr, "fleet-stress: %s (%s): %s\n", id, flavor, err.message);
			w->errors++;
		} else if (np_fleet_result_placed(r)) {
			w->errors += logline(w->fd, '+', id) != 0;
			snprintf(l.ids[l.n++], sizeof(l.ids[0]), "%s", id);
			w->placed++;
		} else {
			w->nofit++;
		}
		if (l.n && synth_rand(&seed) % 100 < w->rel)
			w->errors += release_one(w->f, &l, &seed, w->fd, &w->released) != 0;
		np_fleet_result_free(r);
		np_request_free(req);
		free(flavor);
	}
	free(l.ids);
	return NULL;
}

/*
 * THREADS 1: this process schedules alone.  More: that many threads, each
 * with its own handle of one group (np_fleet_open_shared), whose claims
 * are committed together; ids "sSEED-tT-I".
 */
static int run(const char *url, uint64_t seed, int count, const char *log, unsigned rel,
	       int threads)
{
	struct np_error err = { 0 };
	struct worker w[64] = { 0 };
	struct np_fleet_commit_stats cs;
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644), bad = 0;
	int placed = 0, released = 0, nofit = 0, errors = 0;

	if (threads < 1 || threads > 64)
		threads = 1;
	if (fd < 0 || np_fleet_open(url, 0, &w[0].f, &err)) {
		fprintf(stderr, "fleet-stress: %s\n", err.message[0] ? err.message : "cannot start");
		return 1;
	}
	for (int t = 1; t < threads; t++)
		if (np_fleet_open_shared(w[0].f, &w[t].f, &err)) {
			fprintf(stderr, "fleet-stress: %s\n", err.message);
			return 1;
		}
	for (int t = 0; t < threads; t++) {
		w[t] = (struct worker){ .f = w[t].f, .seed = seed, .count = count, .fd = fd,
					 .thread = threads > 1 ? t + 1 : 0, .rel = rel };
		if (threads > 1 && pthread_create(&w[t].tid, NULL, work, &w[t]))
			bad++;
	}
	if (threads == 1)
		work(&w[0]);
	for (int t = 0; t < threads && threads > 1; t++)
		pthread_join(w[t].tid, NULL);
	np_fleet_commit_stats(w[0].f, &cs);
	for (int t = 0; t < threads; t++) {
		placed += w[t].placed, released += w[t].released;
		nofit += w[t].nofit, errors += w[t].errors;
		np_fleet_close(w[t].f);
	}
	printf("placed %d, released %d, nothing fit %d, errors %d\n", placed, released, nofit,
	       errors + bad);
	if (threads > 1)
		printf("claims %llu, releases %llu, commits %llu, largest batch %llu, split %llu\n",
		       (unsigned long long)cs.claims, (unsigned long long)cs.releases,
		       (unsigned long long)cs.commits,
		       (unsigned long long)cs.largest, (unsigned long long)cs.split);
	close(fd);
	return errors + bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "add") == 0)
		return add_hosts(argv[2], (int)strtol(argv[3], NULL, 10));
	if (argc >= 6 && argc <= 8 && strcmp(argv[1], "run") == 0)
		return run(argv[2], strtoull(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10),
			   argv[5], argc >= 7 ? (unsigned)strtoul(argv[6], NULL, 10) : 30,
			   argc == 8 ? (int)strtol(argv[7], NULL, 10) : 1);
	fprintf(stderr, "usage: fleet-stress add URL N | run URL SEED COUNT LOG [RELEASE%% "
		"[THREADS]]\n");
	return 2;
}
