/*
 * fleet.c - np_fleet (fleet.h): opening a store through its driver,
 * adding and removing hosts, the host summaries and their refresh by
 * generation, reading placements, releasing.
 *
 * Refresh: the first call reads every host, topology (once per digest),
 * ledger row and pin in one snapshot.  Later calls ask the driver which
 * hosts may have changed since its cursor (SQLite: nothing at all unless
 * PRAGMA data_version moved; PostgreSQL: a scan of change marks) and read
 * again only those whose generation differs.  Every 30 s a full host scan
 * also drops hosts removed meanwhile (a claim on one says so sooner) and
 * catches a change a change scan missed.  Summaries are a hint:
 * a stale one costs a refused claim and a retry, never an over-commit.
 *
 * Ownership: see fleet-int.h.  One thread at a time (fleet.h).
 */
#include "fleet/fleet-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <numaplace/emit.h>

#include "util/util.h"

#define FULL_SCAN_NS (INT64_C(30) * 1000000000)
#define SCAN_NS	     (INT64_C(1) * 1000000)

int64_t np__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int np_fleet_schema_version(void)
{
	return NP__FLEET_SCHEMA;
}

/* ---- opening --------------------------------------------------------------- */

int np_fleet_open(const char *url, unsigned flags, np_fleet **out, struct np_error *err)
{
	np_fleet *f = calloc(1, sizeof(*f));
	int rc;

	if (!f || !(f->url = strdup(url ? url : ""))) {
		free(f);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	if ((rc = np__store_open(url, flags & NP_FLEET_CREATE, &f->drv, &f->s, err))) {
		np_fleet_close(f);
		return rc;
	}
	f->rng = (uint64_t)np__now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)f;
	*out = f;
	return 0;
}

static void host_free(struct np_fleet_host *h)
{
	if (!h)
		return;
	free(h->name);
	np__ledger_free(h->ledger);
	np_host_free(h->host);
	free(h->sum.nodes);
	free(h->sum.pci);
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
	free(f->order[0]);
	free(f->order[1]);
	for (int i = 0; i < f->ntopos; i++) {
		np_host_free(f->topos[i].tmpl); /* before its topology */
		np_topo_free(f->topos[i].topo);
	}
	free(f->topos);
	np__fleet_demand_free(f);
	free(f->url);
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

static void resort(np_fleet *f)
{
	if (f->nhosts > 0) {
		memcpy(f->by_id, f->hosts, (size_t)f->nhosts * sizeof(*f->hosts));
		qsort(f->hosts, (size_t)f->nhosts, sizeof(*f->hosts), cmp_name);
		qsort(f->by_id, (size_t)f->nhosts, sizeof(*f->by_id), cmp_id);
	}
	f->nsorted = f->nhosts;
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

int np__fleet_topo(np_fleet *f, int64_t id, const np_topo **out, const np_host **tmpl,
		   struct np_error *err)
{
	struct np_error e = { 0 };
	char *json = NULL, name[64];
	np_topo *t = NULL;
	np_host *h = NULL;
	int rc;

	for (int i = 0; i < f->ntopos; i++)
		if (f->topos[i].id == id) {
			*out = f->topos[i].topo;
			*tmpl = f->topos[i].tmpl;
			return 0;
		}
	if ((rc = f->drv->topology(f->s, id, &json, err)))
		return rc;
	snprintf(name, sizeof(name), "topology %lld of the store", (long long)id);
	rc = np_topo_parse(NP_SOURCE_JSON, json, strlen(json), name, &t, &e);
	free(json);
	if (rc)
		return np__err(err, NP_EINPUT, "%s", e.message);
	if ((rc = np_host_new(t, &h, err)) ||
	    np__grow((void **)&f->topos, &f->tcap, (size_t)f->ntopos + 1, sizeof(*f->topos))) {
		np_host_free(h);
		np_topo_free(t);
		return rc ? rc : np__err(err, NP_ENOMEM, "out of memory");
	}
	f->topos[f->ntopos++] = (struct np__ftopo){ id, t, h };
	*out = t;
	*tmpl = h;
	return 0;
}

int np__fleet_empty_host(const struct np_fleet_host *h, np_host **out, struct np_error *err)
{
	int rc = h->tmpl ? np_host_clone(h->tmpl, out, err) : np_host_new(h->topo, out, err);

	if (!rc)
		np_host_set_limits(*out, true, h->cpu_ratio, h->ram_ratio);
	return rc;
}

int np__fleet_rebuild(struct np_fleet_host *h, struct np_error *err)
{
	np_host *v = NULL;
	int rc = np__fleet_empty_host(h, &v, err);

	if (!rc && (rc = np__ledger_to_host(h->ledger, v, err)) != 0)
		rc = np__err(err, rc, "host '%s' in the store: %s", h->name, err ? err->message : "");
	if (rc) {
		np_host_free(v);
		return rc;
	}
	np_host_free(h->host);
	h->host = v;
	return np__summarize(h) ? np__err(err, NP_ENOMEM, "out of memory") : 0;
}

/* ---- refresh ------------------------------------------------------------- */

/* A new host from a scan; its topology is read after the scan (see load_topos). */
static int add_host_rec(np_fleet *f, const struct np__host_rec *r, struct np_fleet_host **out,
			struct np_error *err)
{
	struct np_fleet_host *h = calloc(1, sizeof(*h));

	if (!h || !(h->name = strdup(r->name)) || !(h->ledger = np__ledger_new()) ||
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
	h->stale = true;
	f->hosts[f->nhosts++] = h;
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
};

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
		np__fleet_drop(c->f, h);
		h = NULL;
	}
	/* A scan names each host once: one not found among the sorted is new. */
	if (!h) {
		if ((rc = add_host_rec(c->f, r, &h, c->err)))
			return rc;
		c->added = true;
	}
	h->seen = true;
	if (h->generation != r->generation)
		h->stale = true;
	if (r->placements >= 0) /* the periodic full scan does not count them */
		h->placements = r->placements;
	return 0;
}

/* Ledger loading: fresh ledgers for the hosts the snapshot names. */
static int gen_host(void *p, const struct np__host_rec *r)
{
	struct scan *c = p;
	struct np_fleet_host *h = np__fleet_by_id(c->f, r->id);

	if (!h)
		return 0; /* added after the host scan: the next refresh meets it */
	np__ledger_free(h->ledger);
	h->ledger = np__ledger_new();
	if (!h->ledger)
		return np__err(c->err, NP_ENOMEM, "out of memory");
	h->generation = r->generation;
	h->placements = r->placements;
	h->seen = true;
	return 0;
}

static int row_host(void *p, int64_t id, const struct np__row *r)
{
	struct scan *c = p;
	struct np_fleet_host *h = np__fleet_by_id(c->f, id);

	if (h && h->seen && np__ledger_add_row(h->ledger, r))
		return np__err(c->err, NP_ENOMEM, "out of memory");
	return 0;
}

static int pin_host(void *p, int64_t id, int cpu, int node, const char *placement)
{
	struct scan *c = p;
	struct np_fleet_host *h = np__fleet_by_id(c->f, id);

	(void)placement;
	if (h && h->seen && np__ledger_add_pin(h->ledger, cpu, node))
		return np__err(c->err, NP_ENOMEM, "out of memory");
	return 0;
}

/* Read the ledgers of host ONLY (or of every stale host: -1) and rebuild. */
static int load_ledgers(np_fleet *f, int64_t only, struct np_error *err)
{
	struct scan c = { f, err, only, false };
	int rc;

	for (int i = 0; i < f->nhosts; i++)
		if (only < 0 || f->hosts[i]->id == only)
			f->hosts[i]->seen = false;
	rc = f->drv->ledgers(f->s, only, row_host, pin_host, gen_host, &c, err);
	for (int i = 0; i < f->nhosts && !rc; i++) {
		struct np_fleet_host *h = f->hosts[i];

		if (only >= 0 && h->id != only)
			continue;
		if (!h->seen) {
			np__fleet_drop(f, h); /* gone from the store */
			i--;
			continue;
		}
		np__ledger_sort(h->ledger);
		if ((rc = np__fleet_rebuild(h, err)) == 0)
			h->stale = false;
		f->changed++;
	}
	return rc;
}

int np__fleet_reload(np_fleet *f, struct np_fleet_host *h, struct np_error *err)
{
	return load_ledgers(f, h->id, err);
}

/* Every host: drop the removed, add the new, mark the moved stale. */
static int full_scan(np_fleet *f, struct np__cursor *cur, struct np_error *err)
{
	struct scan c = { f, err, -1, false };
	int rc;

	for (int i = 0; i < f->nhosts; i++)
		f->hosts[i]->seen = false;
	rc = f->drv->hosts(f->s, cur, scan_host, &c, err);
	for (int i = 0; i < f->nhosts && !rc; i++)
		if (!f->hosts[i]->seen) {
			np__fleet_drop(f, f->hosts[i]);
			i--;
		}
	resort(f);
	if (!rc)
		rc = load_topos(f, err);
	f->last_full = np__now_ns();
	return rc;
}

static int reload_stale(np_fleet *f, struct np_error *err)
{
	int nstale = 0, rc = 0;

	for (int i = 0; i < f->nhosts; i++)
		nstale += f->hosts[i]->stale;
	if (nstale > 64 || (nstale && nstale * 4 > f->nhosts))
		return load_ledgers(f, -1, err); /* one pass beats many */
	for (int i = 0; i < f->nhosts && !rc; i++)
		if (f->hosts[i]->stale) {
			int before = f->nhosts;

			rc = load_ledgers(f, f->hosts[i]->id, err);
			i -= before - f->nhosts;
		}
	return rc;
}

int np_fleet_refresh(np_fleet *f, struct np_error *err)
{
	struct scan c = { f, err, -1, false };
	int rc;

	if (!f->loaded || np__now_ns() - f->last_full > FULL_SCAN_NS) {
		rc = full_scan(f, f->loaded ? NULL : &f->cursor, err);
		if (!rc && !f->loaded)
			rc = load_ledgers(f, -1, err);
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
		return reload_stale(f, err);
	f->last_scan = np__now_ns();
	if ((rc = f->drv->hosts(f->s, &f->cursor, scan_host, &c, err)))
		return rc;
	if (c.added) {
		resort(f);
		if ((rc = load_topos(f, err)))
			return rc;
	}
	return reload_stale(f, err);
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

static int topo_json(const np_topo *topo, char **out, struct np_error *err)
{
	size_t len = 0;
	FILE *m = open_memstream(out, &len);
	int rc;

	if (!m)
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np_topo_write(topo, NP_TOPO_JSON, m, err);
	if (fclose(m) && !rc)
		rc = np__err(err, NP_ENOMEM, "out of memory");
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
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
	if ((rc = topo_json(topo, &json, err)) ||
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
	int n = 0, rc = np__fleet_check_id("host name", name, err);
	const np_fleet_host *h;

	if (!rc)
		rc = f->drv->remove_host(f->s, name, force, &n, err);
	if (!rc && released)
		*released = n;
	if (!rc && (h = np_fleet_host_find(f, name)) != NULL)
		np__fleet_drop(f, (struct np_fleet_host *)h);
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
	int rc = np__fleet_check_id("placement id", id, err);

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

int np_fleet_release(np_fleet *f, const char *id, bool *found, struct np_error *err)
{
	int64_t host = -1;
	bool got = false;
	struct np_fleet_host *h;
	int rc = np__fleet_check_id("placement id", id, err);

	if (!rc)
		rc = f->drv->release(f->s, id, &got, &host, err);
	if (rc)
		return rc;
	if (found)
		*found = got;
	h = got && f->loaded ? np__fleet_by_id(f, host) : NULL;
	if (h)
		h->stale = true; /* read again at the next refresh */
	f->cursor.data_version = -1;
	f->last_scan = 0; /* see our own write at the next refresh */
	return 0;
}
