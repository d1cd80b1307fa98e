/*
 * test-watch.c - np_watch() on libvirt's test driver (test:///default,
 * one driver shared by every connection of this process while one is
 * open): domains started at once from other threads are each claimed,
 * placed and applied, never over-committing a node (the state file's own
 * checker, np__state_check), and released when destroyed; the running
 * domains are reconciled at start; a dry run claims nothing.
 *
 * What the test driver shows: vCPU pinning (virDomainGetVcpuPinInfo) and
 * the NUMA node set (virDomainGetNumaParameters), both checked against
 * the claim.  What it cannot: it has no processes, so the emulator pin
 * and the memory that libvirt moves with the node set are not there to
 * see; moving a real process's memory is tested in tests/vm/runtime.sh.
 *
 * Waits are for the watcher's log to reach a count, with a generous
 * deadline that only turns a hang into a failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "check.h"
#include "numaplace/numaplace.h"
#include "state/state-int.h"

#define NDOMS 20

struct counts {
	pthread_mutex_t mu;
	int placed, kept, released, nofit, failed;
	char last_fail[700];
};

static void count(void *ctx, const struct np_watch_log *e)
{
	struct counts *c = ctx;

	pthread_mutex_lock(&c->mu);
	if (!strcmp(e->what, "placed"))
		c->placed++;
	else if (!strcmp(e->what, "kept"))
		c->kept++;
	else if (!strcmp(e->what, "released"))
		c->released++;
	else if (!strcmp(e->what, "no-fit"))
		c->nofit++;
	else if (!strcmp(e->what, "failed")) {
		c->failed++;
		snprintf(c->last_fail, sizeof(c->last_fail), "%s: %s", e->domain, e->detail);
	}
	pthread_mutex_unlock(&c->mu);
}

static int get(struct counts *c, const int *field)
{
	int v;

	pthread_mutex_lock(&c->mu);
	v = *field;
	pthread_mutex_unlock(&c->mu);
	return v;
}

/* Wait (at most 60 s: a hang, not a timing) until *FIELD >= WANT. */
static bool wait_for(struct counts *c, const int *field, int want)
{
	for (int i = 0; i < 1200; i++) {
		if (get(c, field) >= want)
			return true;
		usleep(50000);
	}
	return false;
}

struct watcher {
	pthread_t th;
	const np_topo *topo;
	struct np_watch_opts o;
	struct counts *c;
	volatile sig_atomic_t stop;
	int rc;
	struct np_error err;
};

static void *watch_thread(void *arg)
{
	struct watcher *w = arg;

	w->rc = np_watch(w->topo, &w->o, count, w->c, &w->err);
	return NULL;
}

struct starter {
	pthread_t th;
	int first, n, mib, started;
};

/* Start domains w<first>..: transient, 1 vCPU, MIB MiB, on a connection of its own. */
static void *start_thread(void *arg)
{
	struct starter *s = arg;
	virConnectPtr c = virConnectOpen("test:///default");
	char xml[400];

	for (int i = s->first; c && i < s->first + s->n; i++) {
		virDomainPtr d;

		snprintf(xml, sizeof(xml), "<domain type='test'><name>w%02d</name>"
			 "<memory unit='MiB'>%d</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
			 "</domain>", i, s->mib);
		if ((d = virDomainCreateXML(c, xml, 0))) {
			s->started++;
			virDomainFree(d);
		}
	}
	if (c)
		virConnectClose(c);
	return NULL;
}

/* Start NDOMS domains of MIB MiB from four threads at once; how many started. */
static int start_all(int mib)
{
	struct starter s[4];
	int n = 0;

	for (int i = 0; i < 4; i++) {
		s[i] = (struct starter){ .first = i * (NDOMS / 4), .n = NDOMS / 4, .mib = mib };
		pthread_create(&s[i].th, NULL, start_thread, &s[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(s[i].th, NULL);
		n += s[i].started;
	}
	return n;
}

static void destroy_all(virConnectPtr c, int from, int to)
{
	char name[16];

	for (int i = from; i < to; i++) {
		virDomainPtr d;

		snprintf(name, sizeof(name), "w%02d", i);
		if ((d = virDomainLookupByName(c, name))) {
			virDomainDestroy(d);
			virDomainFree(d);
		}
	}
}

/* Every claim in PATH charged together on TOPO: no node over-committed. */
static void check_state(const np_topo *topo, const char *path, int want_claims)
{
	struct np_error err = { 0 };
	np_state *st = NULL;
	np_host *h = NULL;

	if (np_state_open(path, true, &st, &err) || np_host_new(topo, &h, &err)) {
		CHECK(0, "open the state: %s", err.message);
	} else {
		CHECK(np_state_claim_count(st) == want_claims, "%d claims (want %d)",
		      np_state_claim_count(st), want_claims);
		CHECK(np__state_check(st, h, &err) == 0, "no node over-committed: %s",
		      err.message);
	}
	np_host_free(h);
	np_state_close(st);
}

/* Domain NAME is pinned and has the node set of its claim. */
static bool applied_as_claimed(virConnectPtr c, const np_topo *topo, const char *path,
			       const char *name)
{
	struct np_error err = { 0 };
	char id[64], set[64];
	const int *nodes;
	np_state *st = NULL;
	np_plan *plan = NULL;
	unsigned char map[8] = { 0 };
	virDomainPtr d = virDomainLookupByName(c, name);
	virTypedParameterPtr params = NULL;
	const char *nodeset = NULL;
	int nparams = 0, n, used = 0, ok = d != NULL;

	snprintf(id, sizeof(id), "domain:%s", name);
	if (ok && (np_state_open(path, true, &st, &err) ||
		   np_state_claim_plan(st, id, topo, &plan, &err)))
		ok = 0;
	if (ok && virDomainGetVcpuPinInfo(d, 1, map, sizeof(map), VIR_DOMAIN_AFFECT_LIVE) < 1)
		ok = 0;
	n = ok ? np_plan_nodeset(plan, &nodes) : 0;
	/* vCPU 0 may use some CPUs, each a CPU of the claimed nodes. */
	for (int cpu = 0; ok && cpu < 64; cpu++) {
		int ci = np_topo_cpu_index(topo, cpu), in = 0;

		if (!VIR_CPU_USED(map, cpu))
			continue;
		for (int k = 0; k < n; k++)
			in |= ci >= 0 && np_topo_cpu(topo, ci)->node_idx == nodes[k];
		ok = in;
		used++;
	}
	ok = ok && used > 0 && used < np_topo_cpu_count(topo);
	if (ok && virDomainGetNumaParameters(d, NULL, &nparams, 0) == 0 && nparams > 0 &&
	    (params = calloc((size_t)nparams, sizeof(*params))) &&
	    virDomainGetNumaParameters(d, params, &nparams, 0) == 0)
		virTypedParamsGetString(params, nparams, VIR_DOMAIN_NUMA_NODESET, &nodeset);
	if (ok && n > 0)
		snprintf(set, sizeof(set), "%d", np_topo_node(topo, nodes[0])->os_id);
	ok = ok && n == 1 && nodeset && strcmp(nodeset, set) == 0;
	if (params)
		virTypedParamsClear(params, nparams);
	free(params);
	np_plan_free(plan);
	np_state_close(st);
	if (d)
		virDomainFree(d);
	return ok;
}

/* Remove the state file PATH and its lock file. */
static void forget_state(const char *path)
{
	char lock[160];

	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(path);
	unlink(lock);
}

static void state_path(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "/tmp/np-watch-%d-%s.json", (int)getpid(), what);
	forget_state(buf); /* the one of an earlier run with this pid */
}

static void start_watcher(struct watcher *w, const np_topo *topo, const char *path,
			  struct counts *c)
{
	*w = (struct watcher){ .topo = topo, .c = c };
	w->o = (struct np_watch_opts){ .uri = "test:///default", .state_path = path,
				       .run_dir = "/tmp/np-watch-none", .stop = &w->stop };
	pthread_create(&w->th, NULL, watch_thread, w);
}

static void stop_watcher(struct watcher *w)
{
	w->stop = 1;
	pthread_join(w->th, NULL);
	CHECK(w->rc == 0, "the watcher stopped cleanly: %s", w->err.message);
}

/* 20 domains at once: all placed, none over-committed; destroyed: released. */
static void test_twenty(const np_topo *topo, virConnectPtr keep)
{
	struct counts c = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct watcher w;
	char path[128];
	int started, placed_ok = 0;

	state_path(path, sizeof(path), "twenty");
	start_watcher(&w, topo, path, &c);
	/* "test" (2 GiB, running from the start) is reconciled first. */
	CHECK(wait_for(&c, &c.placed, 1), "the running domain is placed at start");
	started = start_all(128);
	CHECK(started == NDOMS, "%d domains started at once", started);
	CHECK(wait_for(&c, &c.placed, NDOMS + 1), "every domain placed (%d, %d no-fit, %d "
	      "failed: %s)", get(&c, &c.placed), get(&c, &c.nofit), get(&c, &c.failed),
	      c.last_fail);
	check_state(topo, path, NDOMS + 1);
	for (int i = 0; i < NDOMS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "w%02d", i);
		placed_ok += applied_as_claimed(keep, topo, path, name);
	}
	CHECK(placed_ok == NDOMS, "each pinned and bound to its claimed node (%d)", placed_ok);
	destroy_all(keep, 0, NDOMS / 2);
	CHECK(wait_for(&c, &c.released, NDOMS / 2), "destroyed domains released (%d)",
	      get(&c, &c.released));
	check_state(topo, path, NDOMS / 2 + 1);
	stop_watcher(&w);
	CHECK(get(&c, &c.failed) == 0 && get(&c, &c.nofit) == 0, "nothing failed: %s",
	      c.last_fail);
	destroy_all(keep, NDOMS / 2, NDOMS);
	forget_state(path); /* no file left in /tmp, the lock neither */
}

/* 20 domains too big for the host at once: some refused, none over-committed. */
static void test_too_many(const np_topo *topo, virConnectPtr keep)
{
	struct counts c = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct watcher w;
	char path[128];
	int placed, nofit;

	state_path(path, sizeof(path), "many");
	start_watcher(&w, topo, path, &c);
	CHECK(wait_for(&c, &c.placed, 1), "the running domain is placed at start");
	CHECK(start_all(256) == NDOMS, "20 domains of 256 MiB started at once");
	for (int i = 0; i < 1200 && get(&c, &c.placed) + get(&c, &c.nofit) < NDOMS + 1; i++)
		usleep(50000);
	placed = get(&c, &c.placed) - 1;
	nofit = get(&c, &c.nofit);
	/* 4 GiB left for 5 GiB asked: some must be refused, not squeezed in. */
	printf("# 256 MiB each: %d placed, %d refused\n", placed, nofit);
	CHECK(placed + nofit == NDOMS && nofit > 0 && placed > 0,
	      "%d placed, %d refused for room", placed, nofit);
	check_state(topo, path, placed + 1);
	stop_watcher(&w);
	destroy_all(keep, 0, NDOMS);
	forget_state(path); /* no file left in /tmp, the lock neither */
}

/* --once: a stale claim released, the running domain claimed; a dry run claims nothing. */
static void test_once(const np_topo *topo)
{
	struct counts c = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct np_error err = { 0 };
	struct np_watch_opts o;
	char path[128];

	state_path(path, sizeof(path), "once");
	o = (struct np_watch_opts){ .uri = "test:///default", .state_path = path,
				    .run_dir = "/tmp/np-watch-none", .mode = NP_WATCH_ONCE,
				    .dry_run = true };
	CHECK(np_watch(topo, &o, count, &c, &err) == 0 && c.placed == 1, "dry run: %s",
	      err.message);
	CHECK(access(path, F_OK) != 0, "a dry run writes no state");
	o.dry_run = false;
	CHECK(np_watch(topo, &o, count, &c, &err) == 0 && c.placed == 2, "once: %s",
	      err.message);
	{
		np_state *st = NULL;
		np_plan *plan = NULL;
		np_host *h = NULL;

		if (np_state_open(path, false, &st, &err) == 0 &&
		    np_state_claim_plan(st, "domain:test", topo, &plan, &err) == 0 &&
		    np_host_new(topo, &h, &err) == 0 && np_state_apply(st, h, &err) == 0 &&
		    np_state_claim(st, "domain:gone", plan, &err) == 0)
			np_state_commit(st, &err);
		np_host_free(h);
		np_plan_free(plan);
		np_state_close(st);
	}
	/* A claim of a domain that is not running: the watcher must release it. */
	check_state(topo, path, 1 + 1);
	CHECK(np_watch(topo, &o, count, &c, &err) == 0 && c.kept == 1 && c.released == 1,
	      "again: test kept, the stale claim released (%d kept, %d released)", c.kept,
	      c.released);
	check_state(topo, path, 1);
	o.uri = "bogus:///nothing";
	CHECK(np_watch(topo, &o, count, &c, &err) == NP_EIO && strstr(err.message, "bogus"),
	      "a URI libvirt cannot open: %s", err.message);
	forget_state(path); /* no file left in /tmp, the lock neither */
}

int main(void)
{
	struct np_error err = { 0 };
	np_topo *topo = NULL;
	/* test:///default lives while a connection to it is open. */
	virConnectPtr keep = virConnectOpen("test:///default");

	np_set_quiet();
	if (!keep || np_topo_load(NP_SOURCE_LIBVIRT_URI, "test:///default", &topo, &err)) {
		printf("not ok - test driver: %s\n", err.message);
		return 1;
	}
	T_CASE("once", test_once(topo));
	T_CASE("twenty-at-once", test_twenty(topo, keep));
	T_CASE("too-many-at-once", test_too_many(topo, keep));
	np_topo_free(topo);
	virConnectClose(keep);
	return t_done();
}
