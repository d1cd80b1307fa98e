/*
 * rebuild-bench.c - what one host's refresh costs a scheduler in CPU:
 * the part docs/bench/service.md calls refresh-mem (a new immutable view
 * from a ledger: the empty host cloned from its topology's template, the
 * ledger's usage added, the pre-filter summary, the group's cache) and
 * refresh-store (the ledger read back from the store first), timed in
 * process CPU time over every host of a store, so the numbers mean the
 * same on a loaded machine.
 *
 *   rebuild-bench URL ROUNDS        (a store filled by `fleet-bench load`)
 *
 * Prints one JSON line: ns of CPU per host for each step, cumulative:
 * clone (np__fleet_empty_host + free), load (+ np__ledger_to_host),
 * rebuild (np__fleet_rebuild: + summary, snapshot, cache), reload
 * (np__fleet_reload: + the store's ledger read).  Built from internal
 * headers so that the same file runs against an older library
 * (docs/bench/service.md: new against old in one run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/fleet-int.h"

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int die(const char *what, const struct np_error *err)
{
	fprintf(stderr, "rebuild-bench: %s: %s\n", what, err ? err->message : "");
	return 1;
}

/* One step over every host of F: 0, or 1 after saying what failed. */
static int step(np_fleet *f, int which, struct np_error *err)
{
	for (int i = 0; i < f->nhosts; i++) {
		struct np_fleet_host *h = f->hosts[i];
		np_host *v = NULL;
		np__ledger *l;

		switch (which) {
		case 0:
		case 1:
			if (np__fleet_empty_host(h, &v, err))
				return die(h->name, err);
			if (which == 1 && np__ledger_to_host(h->ledger, v, err))
				return die(h->name, err);
			np_host_free(v);
			break;
		case 2:
			if (!(l = np__ledger_clone(h->ledger)))
				return die("out of memory", NULL);
			if (np__fleet_rebuild(f, h, l, h->generation, h->placements, err))
				return die(h->name, err);
			break;
		default:
			if (np__fleet_reload(f, h, err))
				return die(h->name, err);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "clone", "load", "rebuild", "reload" };
	struct np_error err = { 0 };
	np_fleet *f = NULL;
	int rounds = argc == 3 ? (int)strtol(argv[2], NULL, 10) : 0, rc = 0;
	double ns[4] = { 0 };

	if (rounds <= 0) {
		fprintf(stderr, "usage: rebuild-bench URL ROUNDS\n");
		return 2;
	}
	if (np_fleet_open(argv[1], 0, &f, &err) || np_fleet_refresh(f, &err))
		return die(argv[1], &err);
	/* Rounds interleave the steps, so a change of load hits each alike. */
	for (int r = 0; r < rounds && !rc; r++)
		for (int k = 0; k < 4 && !rc; k++) {
			double t0 = cpu_ns();

			rc = step(f, k, &err);
			ns[k] += cpu_ns() - t0;
		}
	if (!rc) {
		printf("{\"hosts\": %d, \"rounds\": %d", f->nhosts, rounds);
		for (int k = 0; k < 4; k++)
			printf(", \"%s_ns_per_host\": %.0f", names[k],
			       ns[k] / rounds / (f->nhosts ? f->nhosts : 1));
		printf("}\n");
	}
	np_fleet_close(f);
	return rc;
}
