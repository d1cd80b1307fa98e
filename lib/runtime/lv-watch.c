/*
 * lv-watch.c - the watcher's libvirt side (np_watch(), watch.c): one
 * connection, libvirt's domain lifecycle events on libvirt's default event
 * loop, and the domains running at start.  What to do with each domain is
 * the core's (struct np__watch_ops in rt-int.h).
 *
 * Why events and not a hook: a libvirt hook script runs inside libvirtd's
 * start of the domain and must not call libvirtd back (it would deadlock),
 * yet applying a placement is libvirt calls.  Events arrive after the
 * fact, on a connection of our own.
 *
 * Order: the callback is registered before the running domains are
 * listed, so a domain that starts in between is seen twice (claimed once:
 * the core keeps an existing claim), never missed.  The callback only
 * queues (name, started or stopped); the queue is worked through after
 * each turn of the event loop, outside libvirt's dispatch, one domain at a
 * time in event order.  A timer wakes the loop every TICK_MS so that a
 * stop request and the idle time are noticed.
 *
 * Globals: virEventRegisterDefaultImpl() installs libvirt's own process-
 * wide event loop (once; later calls are no-ops for libvirt); that state
 * is libvirt's, the watcher keeps none.
 * Module: part of module libvirt (module/module.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "runtime/rt-int.h"
#include "util/lv-util.h"

#define TICK_MS 100

struct event {
	char *name;
	bool start;
};

struct loop {
	struct event *q;
	size_t n, cap;
	bool oom;       /* an event was lost for memory: stop, say so */
	bool closed;    /* the connection went away */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
			void *opaque)
{
	struct loop *l = opaque;
	const char *name = virDomainGetName(dom);

	(void)conn;
	(void)detail;
	if (event != VIR_DOMAIN_EVENT_STARTED && event != VIR_DOMAIN_EVENT_STOPPED)
		return 0;
	if (!name || np__grow((void **)&l->q, &l->cap, l->n + 1, sizeof(*l->q)) < 0 ||
	    !(l->q[l->n].name = strdup(name))) {
		l->oom = true;
		return 0;
	}
	l->q[l->n++].start = event == VIR_DOMAIN_EVENT_STARTED;
	return 0;
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	(void)conn;
	(void)reason;
	((struct loop *)opaque)->closed = true;
}

static void on_tick(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

/* Domain NAME's vCPUs and memory, then the core's started(). */
static int start_one(virConnectPtr conn, virDomainPtr dom, const struct np__watch_ops *ops,
		     struct np_error *err)
{
	virDomainInfo info;
	char msg[300];
	const char *name = virDomainGetName(dom);
	struct np__watch_dom d = { .name = name };

	if (virDomainGetInfo(dom, &info) < 0) {
		ops->trouble(ops->w, name, np__lv_message(msg, sizeof(msg)));
		return 0;
	}
	if (info.state != VIR_DOMAIN_RUNNING && info.state != VIR_DOMAIN_PAUSED &&
	    info.state != VIR_DOMAIN_BLOCKED)
		return 0; /* it stopped again: its stop event follows */
	d.vcpus = info.nrVirtCpu;
	d.memory_kb = info.memory ? info.memory : info.maxMem;
	return ops->started(ops->w, conn, &d, err);
}

/* Every running domain: started(), then running() with their names. */
static int reconcile(virConnectPtr conn, const struct np__watch_ops *ops, struct np_error *err)
{
	virDomainPtr *doms = NULL;
	const char **names;
	char msg[300];
	int n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE), rc = 0;

	if (n < 0)
		return np__err(err, NP_EIO, "cannot list the domains: %s",
			       np__lv_message(msg, sizeof(msg)));
	names = np__calloc((size_t)n + 1, sizeof(*names));
	if (!names)
		rc = np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; !rc && i < n; i++) {
		names[i] = virDomainGetName(doms[i]);
		rc = start_one(conn, doms[i], ops, err);
	}
	if (!rc)
		rc = ops->running(ops->w, names, n, err);
	for (int i = 0; i < n; i++)
		virDomainFree(doms[i]);
	free(doms);
	free(names);
	return rc;
}

/* Work through the queued events in order. */
static int drain(virConnectPtr conn, struct loop *l, const struct np__watch_ops *ops,
		 struct np_error *err)
{
	int rc = 0;
	size_t i;

	for (i = 0; !rc && i < l->n; i++) {
		virDomainPtr dom;

		if (!l->q[i].start) {
			rc = ops->stopped(ops->w, l->q[i].name, err);
			continue;
		}
		dom = virDomainLookupByName(conn, l->q[i].name);
		if (!dom)
			continue; /* gone again (transient): its stop event is queued */
		rc = start_one(conn, dom, ops, err);
		virDomainFree(dom);
	}
	for (size_t k = 0; k < l->n; k++)
		free(l->q[k].name);
	l->n = 0;
	return rc;
}

static bool done(const struct np_watch_opts *o, uint64_t last)
{
	if (o->stop && *o->stop)
		return true;
	return o->mode == NP_WATCH_UNTIL_IDLE && now_ms() - last >= o->idle_ms;
}

static int run(virConnectPtr conn, struct loop *l, const struct np_watch_opts *o,
	       const struct np__watch_ops *ops, struct np_error *err)
{
	uint64_t last = now_ms();
	char msg[300];
	int rc = 0;

	while (!rc && !done(o, last)) {
		if (virEventRunDefaultImpl() < 0)
			return np__err(err, NP_EIO, "libvirt's event loop failed: %s",
				       np__lv_message(msg, sizeof(msg)));
		if (l->oom)
			return np__err(err, NP_ENOMEM, "out of memory (an event was lost)");
		if (l->n)
			last = now_ms();
		rc = drain(conn, l, ops, err);
		if (!rc && (l->closed || virConnectIsAlive(conn) != 1))
			rc = np__err(err, NP_EIO, "the connection to '%s' was lost", o->uri);
	}
	return rc;
}

int np__lv_watch(const np_topo *topo, const struct np_watch_opts *o,
		 const struct np__watch_ops *ops, struct np_error *err)
{
	struct loop l = { 0 };
	virConnectPtr conn;
	char msg[300];
	int cb = -1, timer = -1, rc;

	(void)topo;
	if (o->mode != NP_WATCH_ONCE && virEventRegisterDefaultImpl() < 0)
		return np__err(err, NP_EOS, "cannot start libvirt's event loop: %s",
			       np__lv_message(msg, sizeof(msg)));
	conn = np__lv_open(o->uri, o->dry_run);
	if (!conn)
		return np__err(err, NP_EIO, "cannot connect to '%s': %s", o->uri,
			       np__lv_message(msg, sizeof(msg)));
	if (o->mode != NP_WATCH_ONCE) {
		cb = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
						      VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
						      &l, NULL);
		timer = virEventAddTimeout(TICK_MS, on_tick, NULL, NULL);
		virConnectRegisterCloseCallback(conn, on_close, &l, NULL);
	}
	if (o->mode != NP_WATCH_ONCE && (cb < 0 || timer < 0))
		rc = np__err(err, NP_EUNSUPPORTED, "'%s' gives no domain events: %s", o->uri,
			     np__lv_message(msg, sizeof(msg)));
	else
		rc = reconcile(conn, ops, err);
	if (!rc && o->mode != NP_WATCH_ONCE)
		rc = run(conn, &l, o, ops, err);
	if (cb >= 0)
		virConnectDomainEventDeregisterAny(conn, cb);
	if (timer >= 0)
		virEventRemoveTimeout(timer);
	if (o->mode != NP_WATCH_ONCE)
		virConnectUnregisterCloseCallback(conn, on_close);
	for (size_t k = 0; k < l.n; k++)
		free(l.q[k].name);
	free(l.q);
	virConnectClose(conn);
	return rc;
}
