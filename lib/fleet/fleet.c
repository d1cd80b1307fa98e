/*
 * fleet.c - np_fleet (fleet.h): opening a store through its driver,
 * adding and removing hosts, the host summaries and their refresh by
 * generation, reading placements, releasing.
 *
 * Refresh: the first call reads every host, topology (once per digest),
 * ledger row and pin in one snapshot.  Later calls ask the driver which
 * hosts may have changed since its cursor (SQLite: its change ring, or
 * nothing at all unless PRAGMA data_version moved; PostgreSQL: a scan of
 * change marks) and read again only those whose generation differs --
 * unless the driver told what the change was (SQLite's ring: a claim's
 * takes, a release's given), which is then made on the summary one
 * generation older, as our own changes are (told_change).  A removal
 * leaves no change mark; the store counts removals, and a change scan
 * that sees the count move runs a full host scan at once, which drops the
 * hosts gone.  Every
 * 30 s a full host scan also catches a change a change scan missed.
 * Summaries are a hint: a stale one costs a refused claim and a retry,
 * never an over-commit.
 *
 * PostgreSQL's change scan is a round trip, so the handles of a group
 * share it (drivers with shared_scan; group.c, the feed): a refresh takes
 * the group's scans it has not taken yet, and scans itself (appending for
 * the others) only when the newest completed scan began more than
 * NP__FEED_FRESH_NS before the refresh did (feed_changes).
 *
 * A schedule's refresh is lazy (np__fleet_refresh_lazy): it scans for
 * changes but reads no stale host; the schedule's walk reads each one it
 * meets (np__fleet_fresh) before looking at it.  A walk stops after a
 * few dozen hosts of a thousand, so a change to a host it does not reach
 * costs no read until it does (with three PostgreSQL replicas each
 * change was read by both others, 2.5 reads a placement).  But the walk
 * goes by each host's key from before the change it has not read: a host
 * another replica freed keeps its old, fuller place and may never be met.
 * So the periodic full scan (FULL_SCAN_NS) reads every stale host, lazy
 * or not: no host stays out of place longer than that.
 *
 * Ownership: see fleet-int.h.  One thread at a time (fleet.h).
 */
#include "fleet/fleet-int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <numaplace/emit.h>

#include "emit/emit-int.h"
#include "place/place-int.h"
#include "util/util.h"

#define FULL_SCAN_NS (INT64_C(30) * 1000000000)
#define SCAN_NS	     (INT64_C(1) * 1000000)

void np_fleet_set_deadline(np_fleet *f, int64_t monotonic_ns)
{
	f->deadline = monotonic_ns > 0 ? monotonic_ns : 0;
}

int64_t np__now_ns(void)
{
	return np__store_now_ns();
}

int np_fleet_schema_version(void)
{
	return NP__FLEET_SCHEMA;
}

int np_fleet_check_schema(np_fleet *f, struct np_error *err)
{
	return np__store_recheck(f->drv, f->s, f->url, err);
}

/* ---- opening --------------------------------------------------------------- */

/* Open URL in GROUP (NULL: a new group of its own). */
static int open_in(const char *url, unsigned flags, struct np__fleet_group *group,
		   np_fleet **out, struct np_error *err)
{
	np_fleet *f = calloc(1, sizeof(*f));
	int rc;

	if (!f || !(f->url = strdup(url ? url : ""))) {
		free(f);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	if (group) {
		np__group_ref(group);
		f->group = group;
		pthread_mutex_lock(&group->cmu);
		f->removed_seen = group->removed; /* earlier ones are not in its first scan */
		pthread_mutex_unlock(&group->cmu);
	} else if ((rc = np__group_new(&f->group, err))) {
		np_fleet_close(f);
		return rc;
	}
	if ((rc = np__store_open(url, flags & NP_FLEET_CREATE, &f->drv, &f->s, err)) ||
	    (rc = np__feed_state(f->group, f->drv, &f->cursor.shared, err))) {
		np_fleet_close(f);
		return rc;
	}
	f->rng = (uint64_t)np__now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)f;
	*out = f;
	return 0;
}

int np_fleet_open(const char *url, unsigned flags, np_fleet **out, struct np_error *err)
{
	return open_in(url, flags, NULL, out, err);
}

int np_fleet_open_shared(np_fleet *peer, np_fleet **out, struct np_error *err)
{
	if (!peer)
		return np__err(err, NP_EINPUT, "no fleet to share");
	return open_in(peer->url, 0, peer->group, out, err);
}

static void host_free(struct np_fleet_host *h)
{
	if (!h)
		return;
	free(h->name);
	np__snap_unref(h->snap);
	np__ledger_free(h->building);
	free(h);
}

void np_fleet_close(np_fleet *f)
{
	if (!f)
		return;
	if (f->s)
		f->drv->close(f->s);
	for (int i = 0; i < f->nhosts; i++)
		host_free(f->hosts[i]);
	free(f->hosts);
	free(f->by_id);
	free(f->slot);
	free(f->order[0]);
	free(f->order[1]);
	free(f->stale);
	free(f->taken);
	np__fleet_demand_free(f);
	free(f->url);
	np__group_unref(f->group);
	free(f);
}

/* ---- hosts ----------------------------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct np_fleet_host *const *)a)->name,
		      (*(struct np_fleet_host *const *)b)->name);
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = (*(struct np_fleet_host *const *)a)->id;
	int64_t y = (*(struct np_fleet_host *const *)b)->id;

	return (x > y) - (x < y);
}

struct np_fleet_host *np__fleet_by_id(const np_fleet *f, int64_t id)
{
	int lo = 0, hi = f->nsorted - 1;

	if (f->slot)
		return id >= 0 && (uint64_t)id < f->nslot ? f->slot[id] : NULL;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (f->by_id[mid]->id == id)
			return f->by_id[mid];
		if (f->by_id[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Ids up to this many per host (and a few more) are indexed by a table (SLOT). */
#define SLOT_SPREAD 4
#define SLOT_SLACK  1024

bool np__fleet_index_check(const np_fleet *f)
{
	size_t named = 0;

	for (size_t i = 0; f->slot && i < f->nslot; i++)
		if (f->slot[i] && ++named && f->slot[i]->id != (int64_t)i)
			return false;
	for (int i = 0; f->slot && i < f->nsorted; i++)
		if (f->by_id[i]->id < 0 || (uint64_t)f->by_id[i]->id >= f->nslot ||
		    f->slot[f->by_id[i]->id] != f->by_id[i])
			return false;
	return !f->slot || named == (size_t)f->nsorted;
}

/* The id table of the sorted hosts, when their ids are dense enough; else none. */
static void index_ids(np_fleet *f)
{
	int64_t lo = f->nsorted ? f->by_id[0]->id : 0;
	int64_t hi = f->nsorted ? f->by_id[f->nsorted - 1]->id : -1;
	size_t n = (size_t)(hi + 1);
	struct np_fleet_host **t = NULL;

	if (lo >= 0 && hi < (int64_t)f->nsorted * SLOT_SPREAD + SLOT_SLACK)
		t = realloc(f->slot, (n ? n : 1) * sizeof(*t));
	if (!t) { /* sparse ids, or no memory: the binary search serves */
		free(f->slot);
		f->slot = NULL;
		f->nslot = 0;
		return;
	}
	memset(t, 0, (n ? n : 1) * sizeof(*t));
	for (int i = 0; i < f->nsorted; i++)
		t[f->by_id[i]->id] = f->by_id[i];
	f->slot = t;
	f->nslot = n;
	assert(np__fleet_index_check(f));
}

static void resort(np_fleet *f)
{
	if (f->nhosts > 0) {
		memcpy(f->by_id, f->hosts, (size_t)f->nhosts * sizeof(*f->hosts));
		qsort(f->hosts, (size_t)f->nhosts, sizeof(*f->hosts), cmp_name);
		qsort(f->by_id, (size_t)f->nhosts, sizeof(*f->by_id), cmp_id);
	}
	f->nsorted = f->nhosts;
	index_ids(f);
}

void np__fleet_drop(np_fleet *f, struct np_fleet_host *h)
{
	int m = 0;

	f->norder = -1; /* the orders point at H: sort again before use */
	for (int i = 0; i < f->nhosts; i++)
		if (f->hosts[i] != h)
			f->hosts[m++] = f->hosts[i];
	f->nhosts = m;
	host_free(h);
	resort(f);
}

/* Topology ID in F's group (CMU held): found, or NULL. */
static const struct np__ftopo *topo_find(const struct np__fleet_group *g, int64_t id)
{
	for (int i = 0; i < g->ntopos; i++)
		if (g->topos[i].id == id)
			return &g->topos[i];
	return NULL;
}

/*
 * The group's topologies: read from the store (outside the lock) by the
 * first handle that needs one; a second reader meanwhile keeps the first.
 */
int np__fleet_topo(np_fleet *f, int64_t id, const np_topo **out, const np_host **tmpl,
		   struct np_error *err)
{
	struct np__fleet_group *g = f->group;
	const struct np__ftopo *ft;
	struct np_error e = { 0 };
	char *json = NULL, name[64];
	np_topo *t = NULL;
	np_host *h = NULL;
	int rc;

	pthread_mutex_lock(&g->cmu);
	ft = topo_find(g, id);
	if (ft)
		*out = ft->topo, *tmpl = ft->tmpl;
	pthread_mutex_unlock(&g->cmu);
	if (ft)
		return 0;
	if ((rc = f->drv->topology(f->s, id, &json, err)))
		return rc;
	snprintf(name, sizeof(name), "topology %lld of the store", (long long)id);
	rc = np_topo_parse(NP_SOURCE_JSON, json, strlen(json), name, &t, &e);
	free(json);
	if (rc)
		return np__err(err, NP_EINPUT, "%s", e.message);
	/*
	 * The template is a clone: its arrays then share one arena, and every
	 * clone of it is that arena copied in one piece (np_host_clone).
	 */
	if ((rc = np_host_new(t, &h, err)) == 0) {
		np_host *c = NULL;

		rc = np_host_clone(h, &c, err);
		np_host_free(h);
		h = c;
	}
	if (rc) {
		np_topo_free(t);
		return rc;
	}
	pthread_mutex_lock(&g->cmu);
	if (!(ft = topo_find(g, id)) &&
	    !np__grow((void **)&g->topos, &g->tcap, (size_t)g->ntopos + 1, sizeof(*g->topos))) {
		g->topos[g->ntopos++] = (struct np__ftopo){ id, t, h };
		ft = &g->topos[g->ntopos - 1];
		t = NULL, h = NULL;
	}
	if (ft)
		*out = ft->topo, *tmpl = ft->tmpl;
	pthread_mutex_unlock(&g->cmu);
	np_host_free(h); /* another handle's came first (or no memory) */
	np_topo_free(t);
	return ft ? 0 : np__err(err, NP_ENOMEM, "out of memory");
}

int np__fleet_empty_host(const struct np_fleet_host *h, np_host **out, struct np_error *err)
{
	int rc = h->tmpl ? np_host_clone(h->tmpl, out, err) : np_host_new(h->topo, out, err);

	if (!rc)
		np_host_set_limits(*out, true, h->cpu_ratio, h->ram_ratio);
	return rc;
}

void np__fleet_stale(np_fleet *f, struct np_fleet_host *h, int64_t min_gen)
{
	if (!h->stale && !f->stale_lost &&
	    np__grow((void **)&f->stale, &f->scap, (size_t)f->nstale + 1, sizeof(*f->stale)))
		f->stale_lost = true; /* no memory: the next refresh walks every host */
	else if (!h->stale && !f->stale_lost)
		f->stale[f->nstale++] = h->id;
	/* Stale already: the newest change asked for stands (a forced read, INT64_MAX, too). */
	if (!h->stale || min_gen > h->want_gen)
		h->want_gen = min_gen;
	h->stale = true;
}

static void adopt(struct np_fleet_host *h, struct np__hsnap *snap)
{
	np__snap_unref(h->snap);
	h->snap = snap;
	h->ledger = snap->ledger;
	h->host = snap->host;
	h->sum = snap->sum;
	h->generation = snap->generation;
	h->placements = snap->placements;
	h->stale = false;
}

/*
 * A snapshot of H, its summary's nodes and its name in one allocation
 * (struct np__hsnap): a refresh makes one for every host another handle
 * or process changed, and malloc/free under the refresh was a tenth of a
 * replica's CPU.
 */
static struct np__hsnap *snap_new(const struct np_fleet_host *h, const np_host *v)
{
	size_t n = (size_t)np_topo_node_count(np_host_topo(v)) + 1, len = strlen(h->name) + 1;
	struct np__hsnap *snap = calloc(1, sizeof(*snap) + n * sizeof(struct np__snode) + len);

	if (!snap)
		return NULL;
	snap->sum.nodes = (struct np__snode *)(snap + 1);
	snap->sum.n = (int)n - 1; /* np__summarize fills them in place */
	snap->name = (char *)(snap->sum.nodes + n);
	memcpy(snap->name, h->name, len);
	return snap;
}

/*
 * H's view of ledger L, the one change TAKES (or NULL) away from H's own:
 * H's view cloned and the nodes TAKES touched filled again from L
 * (np__ledger_nodes_to_host), not the empty host and all of L -- a change
 * of one guest touches one or two of a host's nodes.  Readers may hold
 * H's view still: it is copied, never changed.  Debug builds check the
 * result against the whole rebuild.
 */
static np_host *changed_view(const struct np_fleet_host *h, const np__ledger *l,
			     const struct np__takes *takes)
{
	np_host *v = NULL;

	if (!takes || !h->host || !h->tmpl || np__takes_pci(takes) ||
	    np_host_clone(h->host, &v, NULL))
		return NULL;
	if (np__ledger_nodes_to_host(l, takes, v, h->tmpl, NULL)) {
		np_host_free(v);
		return NULL; /* the whole rebuild says why */
	}
#ifndef NDEBUG
	{
		np_host *w = NULL;

		assert(!np__fleet_empty_host(h, &w, NULL) && !np__ledger_to_host(l, w, NULL));
		assert(np__host_same_usage(v, w));
		np_host_free(w);
	}
#endif
	return v;
}

int np__fleet_rebuild(np_fleet *f, struct np_fleet_host *h, np__ledger *l, int64_t gen,
		      int placements, struct np_error *err)
{
	return np__fleet_rebuild_changed(f, h, l, NULL, gen, placements, err);
}

int np__fleet_rebuild_changed(np_fleet *f, struct np_fleet_host *h, np__ledger *l,
			      const struct np__takes *takes, int64_t gen, int placements,
			      struct np_error *err)
{
	struct np__hsnap *snap = NULL;
	struct np_fleet_host tmp = { 0 };
	np_host *v = changed_view(h, l, takes);
	bool whole = !v; /* no change to apply, or it could not be: the empty host and all of L */
	int rc = whole ? np__fleet_empty_host(h, &v, err) : 0;

	if (!rc && !(snap = snap_new(h, v))) /* its nodes: as many as np__summarize counts */
		rc = np__err(err, NP_ENOMEM, "out of memory");
	if (!rc && whole && (rc = np__ledger_to_host(l, v, err)) != 0)
		rc = np__err(err, rc, "host '%s' in the store: %s", h->name, err ? err->message : "");
	tmp.host = v, tmp.ledger = l;
	if (snap)
		tmp.sum = snap->sum;
	if (!rc && np__summarize(&tmp))
		rc = np__err(err, NP_ENOMEM, "out of memory");
	if (rc) {
		np_host_free(v);
		np__ledger_free(l);
		free(tmp.sum.pci);
		free(snap);
		return rc;
	}
	atomic_init(&snap->refs, 1);
	snap->id = h->id, snap->topo_id = h->topo_id;
	snap->generation = gen, snap->placements = placements;
	snap->ledger = l, snap->host = v, snap->sum = tmp.sum;
	adopt(h, np__cache_put(f->group, snap));
	return 0;
}

/* H is gone from the store: every handle of the group forgets it too. */
static void gone(np_fleet *f, struct np_fleet_host *h)
{
	np__cache_removed(f->group, h->name);
	np__fleet_drop(f, h);
}

/*
 * Removals other handles of the group saw: drop those hosts, and scan
 * every host next (a SQLite id may belong to a host added since).
 */
static void apply_removals(np_fleet *f)
{
	struct np__fleet_group *g = f->group;
	uint64_t upto;

	pthread_mutex_lock(&g->cmu);
	upto = g->removed;
	for (uint64_t k = upto - f->removed_seen > NP__REMOVED_RING ? upto - NP__REMOVED_RING
								     : f->removed_seen;
	     k < upto; k++) {
		const char *name = g->ring[k % NP__REMOVED_RING];
		const np_fleet_host *h = name ? np_fleet_host_find(f, name) : NULL;

		if (h)
			np__fleet_drop(f, (struct np_fleet_host *)h);
	}
	pthread_mutex_unlock(&g->cmu);
	if (upto != f->removed_seen)
		f->last_full = 0;
	f->removed_seen = upto;
}

/* ---- refresh ------------------------------------------------------------- */

/* A new host from a scan; its topology is read after the scan (see load_topos). */
static int add_host_rec(np_fleet *f, const struct np__host_rec *r, struct np_fleet_host **out,
			struct np_error *err)
{
	struct np_fleet_host *h = calloc(1, sizeof(*h));

	if (!h || !(h->name = strdup(r->name)) ||
	    np__grow((void **)&f->hosts, &f->hcap, (size_t)f->nhosts + 1, sizeof(*f->hosts)) ||
	    !(f->by_id = realloc(f->by_id, f->hcap * sizeof(*f->by_id)))) {
		host_free(h);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	h->id = r->id;
	h->topo_id = r->topo_id;
	h->cpu_ratio = r->cpu_ratio;
	h->ram_ratio = r->ram_ratio;
	h->generation = -1;
	np__fleet_stale(f, h, r->generation);
	f->hosts[f->nhosts++] = h;
	f->unread = true;
	*out = h;
	return 0;
}

/*
 * Topologies of new hosts.  Not read inside a scan's callback: a driver
 * may be in the middle of streaming rows (libpq cannot run a second query
 * then).  A host whose topology cannot be read is dropped, and the error
 * returned.
 */
static int load_topos(np_fleet *f, struct np_error *err)
{
	int rc = 0;

	for (int i = 0; i < f->nhosts; i++) {
		struct np_fleet_host *h = f->hosts[i];

		if (h->topo || (rc = np__fleet_topo(f, h->topo_id, &h->topo, &h->tmpl, err)) == 0)
			continue;
		np__fleet_drop(f, h);
		return rc;
	}
	return 0;
}

struct scan {
	np_fleet *f;
	struct np_error *err;
	int64_t only; /* ledgers of one host, or -1 */
	bool added;
	struct np_fleet_host *last; /* the host of the last ledger row: rows come by host */
};

static bool told_change(np_fleet *f, struct np_fleet_host *h, const struct np__host_rec *r);

/* A host the scan met: new ones are added; a moved generation makes it stale. */
static int scan_host(void *p, const struct np__host_rec *r)
{
	struct scan *c = p;
	struct np_fleet_host *h = np__fleet_by_id(c->f, r->id);
	int rc;

	/*
	 * SQLite gives a removed host's row id to the next host added: the
	 * same id under another name (or topology) is a new host.
	 */
	if (h && r->name && (strcmp(h->name, r->name) != 0 || h->topo_id != r->topo_id)) {
		gone(c->f, h);
		h = NULL;
	}
	/*
	 * A change scan's record (SQLite's change ring, PostgreSQL's change
	 * marks) names no host, only its id: one not known here was added
	 * since, so every host is scanned (as after a removal), which reads
	 * its name, topology and ratios.
	 */
	if (!h && !r->name) {
		c->f->cursor.removed = true;
		return 0;
	}
	/* A scan names each host once: one not found among the sorted is new. */
	if (!h) {
		if ((rc = add_host_rec(c->f, r, &h, c->err)))
			return rc;
		c->added = true;
	}
	h->seen = true;
	/*
	 * Moved: the ring's changes come in order, some seen already through
	 * the group's offers; one it told is made here, else read later.
	 */
	if (r->name ? h->generation != r->generation : r->generation > h->generation) {
		if (!r->name && told_change(c->f, h, r))
			return 0;
		np__fleet_stale(c->f, h, r->generation);
	}
	if (r->placements >= 0) /* the periodic full scan does not count them */
		h->placements = r->placements;
	return 0;
}

/* The host with ledger rows of ID: the last one's, or looked up. */
static struct np_fleet_host *ledger_host(struct scan *c, int64_t id)
{
	if (!c->last || c->last->id != id)
		c->last = np__fleet_by_id(c->f, id);
	return c->last;
}

/*
 * Ledger loading: fresh ledgers for the hosts the snapshot names, with
 * room for as many rows and pins as the last read had (no regrowth).
 */
static int gen_host(void *p, const struct np__host_rec *r)
{
	struct scan *c = p;
	struct np_fleet_host *h = ledger_host(c, r->id);

	if (!h)
		return 0; /* added after the host scan: the next refresh meets it */
	np__ledger_free(h->building);
	h->building = np__ledger_new();
	if (!h->building ||
	    (h->ledger && np__ledger_reserve(h->building, h->ledger->nrows, h->ledger->npins + 8)))
		return np__err(c->err, NP_ENOMEM, "out of memory");
	h->bgen = r->generation;
	h->bplacements = r->placements;
	h->seen = true;
	return 0;
}

static int row_host(void *p, int64_t id, const struct np__row *r)
{
	struct scan *c = p;
	struct np_fleet_host *h = ledger_host(c, id);

	if (h && h->building && np__ledger_add_row(h->building, r))
		return np__err(c->err, NP_ENOMEM, "out of memory");
	return 0;
}

static int pin_host(void *p, int64_t id, int cpu, int node, const char *placement)
{
	struct scan *c = p;
	struct np_fleet_host *h = ledger_host(c, id);

	(void)placement;
	if (h && h->building && np__ledger_add_pin(h->building, cpu, node))
		return np__err(c->err, NP_ENOMEM, "out of memory");
	return 0;
}

/*
 * H's ledger as just read (building, at bgen): build and share it.  What
 * was read is the truth (a refused claim reads it to correct a summary),
 * so it replaces a cached snapshot of the same generation.
 */
static int read_into(np_fleet *f, struct np_fleet_host *h, struct np_error *err)
{
	np__ledger *l = h->building;

	h->building = NULL;
	np__ledger_sort(l);
	return np__fleet_rebuild(f, h, l, h->bgen, h->bplacements, err);
}

/*
 * One host's ledger read again: what a change another process made costs
 * (most refreshes under load), so nothing here walks the other hosts.
 */
static int load_one(np_fleet *f, struct np_fleet_host *h, bool keep, struct np_error *err)
{
	struct scan c = { f, err, h->id, false, NULL };
	int rc;

	h->seen = false;
	rc = f->drv->ledgers(f->s, h->id, row_host, pin_host, gen_host, &c, err);
	if (!rc && !h->seen && keep) {
		/*
		 * Gone from the store, met in a schedule's walk, which holds
		 * pointers to the hosts: H stays, unread, until the full scan
		 * the next refresh makes drops it.
		 */
		np__fleet_stale(f, h, INT64_MAX);
		f->last_full = 0;
		return NP__FLEET_GONE;
	}
	if (!rc && !h->seen) {
		gone(f, h); /* gone from the store */
		return 0;
	}
	if (!rc) {
		rc = read_into(f, h, err);
		f->changed++;
	}
	np__ledger_free(h->building); /* after a failure: what was read is dropped */
	h->building = NULL;
	return rc;
}

/*
 * Read the ledgers of host ONLY (or of every stale host: -1) and rebuild;
 * KEEP host ONLY when it is gone from the store (load_one).
 */
static int load_ledgers(np_fleet *f, int64_t only, bool keep, struct np_error *err)
{
	struct scan c = { f, err, only, false, NULL };
	struct np_fleet_host *one = only >= 0 ? np__fleet_by_id(f, only) : NULL;
	int rc;

	atomic_fetch_add(only >= 0 ? &f->group->host_reads : &f->group->full_reads, 1);
	if (one)
		return load_one(f, one, keep, err);
	for (int i = 0; i < f->nhosts; i++)
		if (only < 0 || f->hosts[i]->id == only)
			f->hosts[i]->seen = false;
	rc = f->drv->ledgers(f->s, only, row_host, pin_host, gen_host, &c, err);
	for (int i = 0; i < f->nhosts && !rc; i++) {
		struct np_fleet_host *h = f->hosts[i];

		if (only >= 0 && h->id != only)
			continue;
		if (!h->seen) {
			gone(f, h); /* gone from the store */
			i--;
			continue;
		}
		rc = read_into(f, h, err);
		f->changed++;
	}
	for (int i = 0; i < f->nhosts; i++) { /* after a failure: what was read is dropped */
		np__ledger_free(f->hosts[i]->building);
		f->hosts[i]->building = NULL;
	}
	return rc;
}

int np__fleet_reload(np_fleet *f, struct np_fleet_host *h, struct np_error *err)
{
	return load_ledgers(f, h->id, false, err);
}

/* Every host: drop the removed, add the new, mark the moved stale. */
static int full_scan(np_fleet *f, struct np__cursor *cur, struct np_error *err)
{
	struct scan c = { f, err, -1, false, NULL };
	int rc;

	for (int i = 0; i < f->nhosts; i++)
		f->hosts[i]->seen = false;
	rc = f->drv->hosts(f->s, cur, scan_host, &c, err);
	for (int i = 0; i < f->nhosts && !rc; i++)
		if (!f->hosts[i]->seen) {
			gone(f, f->hosts[i]);
			i--;
		}
	resort(f);
	if (!rc)
		rc = load_topos(f, err);
	f->last_full = np__now_ns();
	return rc;
}

/*
 * Stale host H, read once for the group: the snapshot another handle
 * built meanwhile (or is reading now: waited for), else read here.
 */
static int reload_one(np_fleet *f, struct np_fleet_host *h, bool keep, struct np_error *err)
{
	int64_t id = h->id;
	bool mine;
	struct np__hsnap *snap = np__cache_read_begin(f->group, h, h->want_gen, &mine);
	int rc;

	if (snap) {
		adopt(h, snap);
		f->changed++;
		return 0;
	}
	rc = load_ledgers(f, id, keep, err); /* may drop H (unless KEEP): gone from the store */
	if (mine)
		np__cache_read_done(f->group, id);
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The list of stale hosts again from every host, after it lost one (no memory). */
static void relist_stale(np_fleet *f)
{
	f->nstale = 0;
	f->stale_lost = false;
	for (int i = 0; i < f->nhosts; i++)
		if (f->hosts[i]->stale) {
			f->hosts[i]->stale = false;
			np__fleet_stale(f, f->hosts[i], f->hosts[i]->want_gen);
		}
}

/*
 * The stale hosts, from F's list of them (a refresh used to walk every
 * host, twice, to find the few another handle or process changed): those
 * another handle of the group read already are adopted, the rest read.
 */
/* The stale hosts another handle of the group read already, adopted: how many are left. */
static int take_cached(np_fleet *f)
{
	int n = 0;

	for (int i = 0; i < f->nstale; i++) {
		struct np_fleet_host *h = np__fleet_by_id(f, f->stale[i]);
		struct np__hsnap *snap;

		if (!h || !h->stale)
			continue; /* dropped, or read since */
		if ((snap = np__cache_get(f->group, h, h->want_gen))) {
			adopt(h, snap);
			f->changed++;
			continue;
		}
		f->stale[n++] = h->id;
	}
	return f->nstale = n;
}

/* So many stale hosts that one pass over every host beats reading them one by one. */
static bool many(const np_fleet *f)
{
	return f->nstale > 64 || (f->nstale && f->nstale * 4 > f->nhosts);
}

/*
 * The pass over every host, once for the group: handles that start at
 * once (a replica's first requests after many hosts came) wait for the
 * first one's pass and take its snapshots, rather than each read them all.
 */
static int full_pass(np_fleet *f, struct np_error *err)
{
	bool mine = np__group_pass_begin(f->group);
	int rc = 0;

	take_cached(f); /* another handle's pass may have ended meanwhile */
	if (many(f))
		rc = load_ledgers(f, -1, false, err);
	if (mine)
		np__group_pass_done(f->group);
	return rc;
}

static int reload_stale(np_fleet *f, struct np_error *err)
{
	int n, rc = 0;

	if (f->stale_lost)
		relist_stale(f);
	n = take_cached(f);
	/*
	 * In one order for every handle, as the walk by name was: the
	 * handles of a group then meet on the same host at once, and one
	 * read serves them all (np__cache_read_begin).
	 */
	if (n > 1)
		qsort(f->stale, (size_t)n, sizeof(*f->stale), cmp_i64);
	/*
	 * Another handle's pass that is building the rest now (we came in
	 * after its first hosts): wait for it too, or the few left would be
	 * read and built twice, once by it and once here.
	 */
	if (many(f) || (n && np__group_passing(f->group)))
		rc = full_pass(f, err);
	for (int i = 0; i < f->nstale && !rc; i++) {
		struct np_fleet_host *h = np__fleet_by_id(f, f->stale[i]);

		if (h && h->stale)
			rc = reload_one(f, h, false, err); /* may drop H: the list holds ids */
	}
	/* Keep what is still stale (a read that failed, or a host marked during the reads). */
	n = 0;
	for (int i = 0; i < f->nstale; i++) {
		struct np_fleet_host *h = np__fleet_by_id(f, f->stale[i]);

		if (h && h->stale)
			f->stale[n++] = h->id;
	}
	f->nstale = n;
	return rc;
}

/*
 * A lazy refresh leaves the stale hosts stale: their list only grows,
 * by one id each time a host read since is marked again, so now and
 * then it is cut to the hosts still stale, each once.
 */
static void trim_stale(np_fleet *f)
{
	int n = 0;

	if (f->stale_lost || f->nstale <= 2 * f->nhosts + 64)
		return;
	qsort(f->stale, (size_t)f->nstale, sizeof(*f->stale), cmp_i64);
	for (int i = 0; i < f->nstale; i++) {
		const struct np_fleet_host *h = np__fleet_by_id(f, f->stale[i]);

		if (h && h->stale && (n == 0 || f->stale[n - 1] != h->id))
			f->stale[n++] = h->id;
	}
	f->nstale = n;
}

/*
 * The stale hosts: read now (a full refresh), or left to whoever meets
 * them (LAZY) -- unless hosts came that were never read: every host has a
 * view once refreshed (an id placed already is answered with its host's).
 */
static int stale_ones(np_fleet *f, bool lazy, struct np_error *err)
{
	int rc;

	if (!lazy || f->unread) {
		if ((rc = reload_stale(f, err)) == 0)
			f->unread = false;
		return rc;
	}
	trim_stale(f);
	return 0;
}

/* ---- the group's change feed (drivers with shared_scan) ---------------------- */

/* R (from a change scan: no name) copied into batch P, its delta too, in one allocation. */
static int feed_rec(void *p, const struct np__host_rec *r)
{
	struct np__feed_batch *b = p;
	const struct np__takes *d = r->delta;
	struct np__host_rec *c;
	struct np__takes *t = NULL;

	assert(!r->name);
	if (np__grow((void **)&b->recs, &b->cap, (size_t)b->n + 1, sizeof(*b->recs)))
		return NP_ENOMEM;
	if (d) {
		size_t tk = (size_t)d->ntakes * sizeof(*d->takes), pn = (size_t)d->npins * sizeof(*d->pins);

		if (!(t = malloc(sizeof(*t) + tk + pn)))
			return NP_ENOMEM;
		t->ntakes = d->ntakes;
		t->npins = d->npins;
		t->takes = (struct np__take *)(t + 1);
		t->pins = (struct np__pin *)((char *)t->takes + tk);
		if (tk)
			memcpy(t->takes, d->takes, tk);
		if (pn)
			memcpy(t->pins, d->pins, pn);
	}
	c = &b->recs[b->n++];
	*c = *r;
	c->delta = t;
	return 0;
}

/*
 * F's own claim or release moved host ID to GEN, committed: a record for
 * the group's other handles, so they see it at their next refresh (and
 * take the snapshot the group's cache has), not only after a scan.  Lost
 * without memory: a scan will tell.
 */
static void feed_note(np_fleet *f, int64_t id, int64_t gen)
{
	struct np__feed_batch *b;

	if (!f->drv->shared_scan || !(b = calloc(1, sizeof(*b))))
		return;
	atomic_init(&b->refs, 1);
	/* One record, no delta: in the batch's own allocation (np__feed_batch_unref). */
	b->one = (struct np__host_rec){ .id = id, .generation = gen, .placements = -1 };
	b->recs = &b->one;
	b->n = 1;
	np__feed_append(f->group, b, NULL, 0);
}

/*
 * A scan of F's own from the group's cursor, appended to the feed: 1;
 * 0 when the group's cursor has not started (then scan as alone).
 */
static int feed_scan(np_fleet *f, int64_t began, struct np_error *err)
{
	struct np__cursor cur;
	struct np__feed_batch *b;
	int rc;

	if (!np__feed_cursor(f->group, &cur))
		return 0;
	if (!(b = calloc(1, sizeof(*b))))
		return np__err(err, NP_ENOMEM, "out of memory");
	atomic_init(&b->refs, 1);
	cur.removed = false;
	if ((rc = f->drv->hosts(f->s, &cur, feed_rec, b, err))) {
		np__feed_batch_unref(b);
		return rc == NP_ENOMEM ? np__err(err, NP_ENOMEM, "out of memory") : rc;
	}
	b->removed = cur.removed;
	atomic_fetch_add(&f->group->feed.scans, 1);
	np__feed_append(f->group, b, &cur, began);
	return 1;
}

/* The records of batches B (N of them) made on F's hosts, as a scan of F's own would. */
static int feed_apply(struct scan *c, struct np__feed_batch **b, int n)
{
	int rc = 0;

	for (int i = 0; i < n && !rc; i++) {
		c->f->cursor.removed |= b[i]->removed;
		for (int k = 0; k < b[i]->n && !rc; k++)
			rc = scan_host(c, &b[i]->recs[k]);
	}
	np__feed_done(b, n);
	return rc;
}

/*
 * F fell out of the feed: the batches it missed are gone.  A scan from
 * FROM, the group's cursor when F last caught up (np__feed_take), tells
 * every change they told (a host's mark only grows), reading the hosts
 * changed since rather than every host; without one (F never caught up)
 * every host is scanned.
 */
static int behind_scan(np_fleet *f, struct scan *c, struct np__cursor *from, struct np_error *err)
{
	int rc;

	atomic_fetch_add(&f->group->feed.behind, 1);
	if (!from->started) {
		f->cursor.removed = true; /* the caller scans every host */
		return 0;
	}
	from->removed = false;
	rc = f->drv->hosts(f->s, from, scan_host, c, err);
	f->cursor.removed |= from->removed;
	return rc;
}

/*
 * The change scan of a driver whose scan is a round trip (shared_scan):
 * the group's scans this handle has not taken yet, without a round trip
 * when the newest one completed began at most the feed's fresh_ns before
 * this refresh began; else (or when MINE: F wrote, and must see its own
 * write) a scan of its own from the group's cursor first.  Fallen out of
 * the feed: behind_scan.
 */
static int feed_changes(np_fleet *f, struct scan *c, bool mine, struct np_error *err)
{
	struct np__fleet_group *g = f->group;
	int64_t began = np__now_ns();
	struct np__feed_batch **b = f->taken;
	int64_t not_before = mine ? INT64_MAX : began - atomic_load(&g->feed.fresh_ns);
	struct np__cursor from = f->fed; /* np__feed_take moves F->fed */
	int n, rc;

	if (!b && !(b = f->taken = malloc(NP__FEED_BATCHES * sizeof(*b))))
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np__feed_take(g, not_before, &f->feed_pos, b, &n, &f->fed);
	if (rc == 0) {
		if ((rc = feed_scan(f, began, err)) <= 0)
			return rc < 0 ? rc : f->drv->hosts(f->s, &f->cursor, scan_host, c, err);
		rc = np__feed_take(g, INT64_MIN, &f->feed_pos, b, &n, &f->fed);
	} else if (rc == 1) {
		atomic_fetch_add(&g->feed.taken, 1);
	}
	return rc < 0 ? behind_scan(f, c, &from, err) : feed_apply(c, b, n);
}

int np__fleet_fresh(np_fleet *f, struct np_fleet_host *h, struct np_error *err)
{
	return h->stale ? reload_one(f, h, true, err) : 0;
}

static int refresh(np_fleet *f, bool lazy, struct np_error *err)
{
	struct scan c = { f, err, -1, false, NULL };
	bool mine;
	int rc;

	if (f->loaded)
		apply_removals(f);
	if (!f->loaded || np__now_ns() - f->last_full > FULL_SCAN_NS) {
		lazy = false; /* every stale host read (see the top of the file) */
		if (!f->loaded && f->drv->shared_scan)
			f->feed_pos = np__feed_head(f->group); /* whatever is scanned after this */
		rc = full_scan(f, f->loaded ? NULL : &f->cursor, err);
		if (!rc && !f->loaded && f->drv->shared_scan) {
			np__feed_join(f->group, &f->cursor);
			f->fed = f->cursor; /* a scan from it sees what this one did not */
		}
		if (!rc && !f->loaded)
			rc = reload_stale(f, err);
		if (rc)
			return rc;
		f->loaded = true;
	}
	/*
	 * A change scan at most every SCAN_NS: a scheduler placing hundreds of
	 * guests a second would otherwise pay a round trip to PostgreSQL for
	 * each; a summary a millisecond older costs at most a refused claim.
	 */
	if (np__now_ns() - f->last_scan < SCAN_NS)
		return stale_ones(f, lazy, err);
	mine = f->last_scan == 0; /* our own write (np_fleet_add_host): scan for it */
	f->last_scan = np__now_ns();
	if ((rc = f->drv->shared_scan ? feed_changes(f, &c, mine, err)
				      : f->drv->hosts(f->s, &f->cursor, scan_host, &c, err)))
		return rc;
	if (f->cursor.removed) { /* another process removed a host: find which */
		f->cursor.removed = false;
		/*
		 * Hosts this change scan added are found by id in the full scan
		 * only once sorted; else it added each a second time.
		 */
		if (c.added)
			resort(f);
		if ((rc = full_scan(f, NULL, err)))
			return rc;
		c.added = false; /* full_scan sorted and read their topologies */
	}
	if (c.added) {
		resort(f);
		if ((rc = load_topos(f, err)))
			return rc;
	}
	return stale_ones(f, lazy, err);
}

int np_fleet_refresh(np_fleet *f, struct np_error *err)
{
	return refresh(f, false, err);
}

int np__fleet_refresh_lazy(np_fleet *f, struct np_error *err)
{
	return refresh(f, true, err);
}

/* ---- host accessors -------------------------------------------------------- */

int np_fleet_host_count(const np_fleet *f)
{
	return f->nhosts;
}

const np_fleet_host *np_fleet_host_at(const np_fleet *f, int i)
{
	return i >= 0 && i < f->nhosts ? f->hosts[i] : NULL;
}

const np_fleet_host *np_fleet_host_find(const np_fleet *f, const char *name)
{
	int lo = 0, hi = f->nhosts - 1;

	while (name && lo <= hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(f->hosts[mid]->name, name);

		if (c == 0)
			return f->hosts[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

const char *np_fleet_host_name(const np_fleet_host *h)
{
	return h->name;
}

int64_t np_fleet_host_generation(const np_fleet_host *h)
{
	return h->generation;
}

const np_host *np_fleet_host_usage(const np_fleet_host *h)
{
	return h->host;
}

int np_fleet_host_placement_count(const np_fleet_host *h)
{
	return h->placements;
}

/* ---- adding and removing hosts ------------------------------------------- */

/* FNV-1a, 64 bits: topologies are compared in full; this only finds candidates. */
static void digest(const char *s, char *out, size_t size)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	snprintf(out, size, "fnv1a64:%016llx", (unsigned long long)h);
}

static bool bad_ratio(double r)
{
	return !(r >= 0 && r <= 1e6);
}

int np_fleet_add_host(np_fleet *f, const char *name, const np_topo *topo,
		      const struct np_fleet_host_opts *opts, bool *added, struct np_error *err)
{
	struct np__new_host nh = { .name = name, .cpu_ratio = 16.0, .ram_ratio = 1.0 };
	np__ledger *rows = NULL;
	np_topo *back = NULL;
	np_host *h = NULL;
	char *json = NULL, dig[32];
	int rc, got = 0;

	if ((rc = np__fleet_check_id("host name", name, err)))
		return rc;
	if (opts && (bad_ratio(opts->cpu_ratio) || bad_ratio(opts->ram_ratio)))
		return np__err(err, NP_EINPUT, "allocation ratios must be from 0 to 1000000");
	if (opts && opts->cpu_ratio > 0)
		nh.cpu_ratio = opts->cpu_ratio;
	if (opts && opts->ram_ratio > 0)
		nh.ram_ratio = opts->ram_ratio;
	/*
	 * The store keeps the topology as JSON, and everyone reads that back:
	 * the capacity rows come from the same reading (JSON keeps memory in
	 * MiB, a sysfs tree in KiB).
	 */
	if ((rc = np__topo_write_string(topo, NP_TOPO_JSON, &json, err)) ||
	    (rc = np_topo_parse(NP_SOURCE_JSON, json, strlen(json), name, &back, err)) ||
	    (rc = np_host_new(back, &h, err)))
		goto out;
	np_host_set_limits(h, true, nh.cpu_ratio, nh.ram_ratio);
	if ((rc = np__ledger_of_host(h, &rows, err)))
		goto out;
	digest(json, dig, sizeof(dig));
	nh.topo_json = json;
	nh.digest = dig;
	nh.rows = rows;
	rc = f->drv->add_host(f->s, &nh, &got, err);
	f->cursor.data_version = -1; /* our own write: data_version does not show it */
	f->last_scan = 0;
	if (!rc && added)
		*added = got;
out:
	np__ledger_free(rows);
	np_host_free(h);
	np_topo_free(back);
	free(json);
	return rc;
}

int np_fleet_remove_host(np_fleet *f, const char *name, bool force, int *released,
			 struct np_error *err)
{
	int n = 0, rc = np__fleet_check_known("host name", name, err);
	const np_fleet_host *h;

	if (!rc)
		rc = f->drv->remove_host(f->s, name, force, &n, err);
	if (!rc && released)
		*released = n;
	if (!rc && (h = np_fleet_host_find(f, name)) != NULL)
		gone(f, (struct np_fleet_host *)h);
	else if (!rc) /* not in this handle's summaries yet: in the others' maybe */
		np__cache_removed(f->group, name);
	return rc;
}

/* ---- placements ---------------------------------------------------------- */

const char *np_fleet_placement_id(const np_fleet_placement *p)
{
	return p->id;
}

const char *np_fleet_placement_host(const np_fleet_placement *p)
{
	return p->host;
}

const np_plan *np_fleet_placement_plan(const np_fleet_placement *p)
{
	return p->plan;
}

void np_fleet_placement_free(np_fleet_placement *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->host);
	free(p->request);
	np_plan_free(p->plan);
	free(p);
}

struct pl {
	np_fleet *f;
	struct np_error *err;
	np_fleet_placement **list;
	int n;
	size_t cap;
};

static int one_placement(void *p, const struct np__placement_rec *r)
{
	struct pl *c = p;
	struct np_fleet_host *h = np__fleet_by_id(c->f, r->host_id);
	np_fleet_placement *x;
	struct np_error e = { 0 };
	char name[300];

	if (!h)
		return 0; /* its host is not in the summaries: removed meanwhile */
	x = calloc(1, sizeof(*x));
	if (!x || np__grow((void **)&c->list, &c->cap, (size_t)c->n + 1, sizeof(*c->list)) ||
	    !(x->id = strdup(r->id)) || !(x->host = strdup(h->name)) ||
	    !(x->request = strdup(r->request))) {
		np_fleet_placement_free(x);
		return np__err(c->err, NP_ENOMEM, "out of memory");
	}
	snprintf(name, sizeof(name), "placement '%.200s'", r->id);
	if (np_plan_from_json(h->topo, r->plan, strlen(r->plan), name, &x->plan, &e)) {
		np_fleet_placement_free(x);
		return np__err(c->err, NP_EINPUT, "the store's %s", e.message);
	}
	c->list[c->n++] = x;
	return 0;
}

static int read_placements(np_fleet *f, const char *id, int64_t host, bool refresh,
			   struct pl *c, struct np_error *err)
{
	int rc = refresh ? np_fleet_refresh(f, err) : 0;

	c->f = f;
	c->err = err;
	if (!rc)
		rc = f->drv->placements(f->s, id, host, one_placement, c, err);
	if (rc) {
		for (int i = 0; i < c->n; i++)
			np_fleet_placement_free(c->list[i]);
		free(c->list);
		c->list = NULL;
		c->n = 0;
	}
	return rc;
}

int np__fleet_get(np_fleet *f, const char *id, bool refresh, np_fleet_placement **out,
		  struct np_error *err)
{
	struct pl c = { 0 };
	int rc = np__fleet_check_known("placement id", id, err);

	if (!rc)
		rc = read_placements(f, id, -1, refresh, &c, err);
	if (rc)
		return rc;
	*out = c.n ? c.list[0] : NULL;
	for (int i = 1; i < c.n; i++)
		np_fleet_placement_free(c.list[i]);
	free(c.list);
	return 0;
}

int np_fleet_placement_get(np_fleet *f, const char *id, np_fleet_placement **out,
			   struct np_error *err)
{
	return np__fleet_get(f, id, true, out, err);
}

int np_fleet_placements(np_fleet *f, const char *name, np_fleet_placement ***out, int *n,
			struct np_error *err)
{
	struct pl c = { 0 };
	const np_fleet_host *h;
	int rc = np_fleet_refresh(f, err);

	if (rc)
		return rc;
	h = np_fleet_host_find(f, name);
	if (!h)
		return np__err_reason(err, NP_EINPUT, "no_host", "no host '%s' in the fleet",
				      name ? name : "");
	if ((rc = read_placements(f, NULL, h->id, false, &c, err)))
		return rc;
	*out = c.list;
	*n = c.n;
	return 0;
}

/*
 * Does ledger L hold everything release REL gave back (every row with at
 * least its amount, every pin)?  Then subtracting it is exactly what the
 * store did; anything else (a ledger out of step) is read back instead.
 */
static bool holds_given(const np__ledger *l, const struct np__takes *t)
{
	for (int i = 0; i < t->ntakes; i++) {
		const struct np__row *r = np__ledger_find(l, t->takes[i].node, t->takes[i].rc);

		if (!r || t->takes[i].amount < 0 || r->used < t->takes[i].amount)
			return false;
	}
	for (int i = 0; i < t->npins; i++) {
		int k = 0;

		while (k < l->npins && l->pins[k].cpu != t->pins[i].cpu)
			k++;
		if (k == l->npins || l->pins[k].node != t->pins[i].node)
			return false;
	}
	return true;
}

/*
 * H's view one generation before GEN: its own, or the group's cached one
 * when its own is older (with three replicas a handle's view is often
 * behind by a change another handle read already).  True when H is now
 * at GEN - 1, or at GEN or newer (*DONE: it holds the change already).
 */
static bool catch_up(np_fleet *f, struct np_fleet_host *h, int64_t gen, bool *done)
{
	struct np__hsnap *s;

	*done = gen <= h->generation;
	if (*done || gen == h->generation + 1)
		return true;
	if (!(s = np__cache_get(f->group, h, gen - 1)))
		return false;
	adopt(h, s);
	f->changed++;
	*done = s->generation >= gen;
	return true;
}

/*
 * The change to GEN (TAKES charged, or given back with RELEASE) made on
 * H's view one generation older.  CHECK: the change was read from the
 * store, where anyone may have written anything (PostgreSQL's last
 * change): the view it makes must also keep the ledger's invariants
 * (np__ledger_check: a take on a row twice, a pin without its dedicated
 * CPU or on a node the host lacks, usage past a capacity), else it is
 * not made.
 */
static bool apply_change(np_fleet *f, struct np_fleet_host *h, const struct np__takes *takes,
			 bool release, int64_t gen, bool check)
{
	int64_t want = h->stale ? h->want_gen : 0; /* a newer change a scan saw: still to read */
	np__ledger *l;
	bool done, ok;

	if (!catch_up(f, h, gen, &done))
		return false;
	if (done) {
		ok = true;
	} else if (!(l = np__ledger_clone(h->ledger))) {
		return false;
	} else if (np__ledger_charge(l, takes, release, NULL) || (check && np__ledger_check(l, NULL))) {
		np__ledger_free(l);
		return false;
	} else {
		/* (np__fleet_rebuild_changed frees L when it fails) */
		ok = !np__fleet_rebuild_changed(f, h, l, takes, gen,
					       h->placements + (release ? -1 : 1), NULL);
	}
	if (ok && want > h->generation)
		np__fleet_stale(f, h, want);
	return ok;
}

bool np__fleet_own_change(np_fleet *f, struct np_fleet_host *h, const struct np__takes *takes,
			  bool release, int64_t gen)
{
	feed_note(f, h->id, gen);
	return apply_change(f, h, takes, release, gen, false);
}

/*
 * A change another connection made to H, as the store told it (SQLite's
 * change ring, PostgreSQL's last change; R: its generation and what it
 * was): made here as our own changes are, on H's view one generation
 * older (its own or the group's), so nobody reads the host back.  False
 * when it cannot be (no such view, a view that does not hold what a
 * release gave back, a change that would break the ledger's invariants):
 * read it instead.
 */
static bool told_change(np_fleet *f, struct np_fleet_host *h, const struct np__host_rec *r)
{
	struct np__hsnap *snap;
	bool done, mine, ok;

	if (!r->delta || !h->ledger)
		return false;
	/* Once for the group: the first handle here builds it, the others take that. */
	if ((snap = np__cache_read_begin(f->group, h, r->generation, &mine))) {
		adopt(h, snap);
		f->changed++;
		return true;
	}
	ok = catch_up(f, h, r->generation, &done) &&
	     (done || !r->release || holds_given(h->ledger, r->delta)) &&
	     apply_change(f, h, r->delta, r->release, r->generation, true);
	if (mine)
		np__cache_read_done(f->group, h->id);
	if (ok)
		atomic_fetch_add(&f->group->told, 1);
	return ok;
}

/*
 * After our own release: the host now is our view minus what the
 * placement held (np__fleet_own_change), when that view holds all of it.
 * Otherwise (others moved it, or what came back does not match) read it
 * again at the next refresh.
 */
static void after_release(np_fleet *f, struct np_fleet_host *h, const struct np__release *rel)
{
	if (h->ledger && h->placements > 0 && (!h->stale || h->want_gen <= rel->generation) &&
	    holds_given(h->ledger, &rel->given) &&
	    np__fleet_own_change(f, h, &rel->given, true, rel->generation))
		return;
	feed_note(f, h->id, rel->generation);
	np__fleet_stale(f, h, rel->generation > h->generation ? rel->generation : h->generation + 1);
	f->cursor.data_version = -1;
	f->last_scan = 0; /* see our own write at the next refresh */
}

/* A release's change, offered to the summaries (np__offer_fn) once committed. */
static void offer_release(np_fleet *f, void *p)
{
	const struct np__release *rel = p;
	struct np_fleet_host *h = rel->found && f->loaded ? np__fleet_by_id(f, rel->host_id) : NULL;

	if (h)
		after_release(f, h, rel);
}

int np_fleet_release(np_fleet *f, const char *id, bool *found, struct np_error *err)
{
	struct np__release rel = { .id = id, .host_id = -1 };
	int rc = np__fleet_check_known("placement id", id, err);

	if (!rc)
		rc = np__group_release(f, &rel, offer_release, &rel, err);
	if (!rc && found)
		*found = rel.found;
	np__takes_free(&rel.given);
	return rc;
}
