/*
 * group.c - what the handles of one process share (fleet-int.h, struct
 * np__fleet_group): the commit queue that turns the claims several
 * threads make at once into one transaction and one durable commit, and
 * the cache of host summaries that lets one handle's read of a changed
 * host serve every other handle.
 *
 * Leader and followers: a claim joins the queue; if no batch is being
 * committed, its thread becomes the leader, takes every claim queued so
 * far and runs them on its own handle's connection as one transaction
 * (store.h, claim_many); the claims that arrive meanwhile wait and form
 * the next batch, led by the first of them to wake.  No timer: a lone
 * claim is committed at once, alone, by the driver's plain claim; under
 * load the batch grows by itself to whatever arrived during one commit.
 *
 * Each claim is still checked on its own inside the transaction (the
 * ledger's predicates, the pins' uniqueness) and answered on its own; a
 * batch that fails as a whole (a database error, not a failed check) is
 * run again one claim at a time, so one bad claim cannot fail the others.
 * A claim's thread returns only after the commit that holds it: what is
 * answered is durable.
 *
 * Releases join the same queue and the same transactions (driver op
 * commit_many): a release is one more durable commit otherwise, and on
 * SQLite every commit waits for the one writer and its fdatasync.  Each is
 * answered on its own (found or not); releases run before the claims of
 * their batch (their host is not known yet), which only frees room first.
 * A release the driver marks unread (committed, its answer unreadable) is
 * answered "release_unread" and not run again (answer_unread).
 *
 * Batches are sorted by host, so two processes' batches lock hosts in
 * the same order (PostgreSQL's row locks) and do not deadlock each other.
 *
 * Deadlines (np_fleet_set_deadline): a server's client gives up after a
 * while, fails over to another replica and may release there what it
 * asked for; a claim still queued here must not land after that.  So an
 * item whose deadline has passed is answered "deadline_exceeded" and not
 * run.  On SQLite that is checked once the leader holds the write lock,
 * inside the transaction its claims then run in, and the wait for the
 * lock ends at the earliest deadline queued; when taking the lock failed,
 * the items with a deadline are answered with that error.  Items run in
 * transactions of their own (a batch that failed as a whole, a store
 * without lock_claims) are checked before they begin, and their wait for
 * the lock ends at their deadline.
 *
 * Summary cache: per host id the newest snapshot any handle built
 * (struct np__hsnap: ledger, engine view, pre-filter summary; immutable,
 * refcounted).  A handle that finds a host changed takes the cached one
 * when it is at least as new as the change it saw, and reads the store
 * only otherwise; what it reads and builds it offers back.  A claim's or
 * release's own change is offered by its thread from the item's answer
 * (np__offer_fn): a follower's as soon as the leader's COMMIT is visible,
 * while the leader syncs (the driver's on_commit; its host marked as
 * being read meanwhile, so the other handles wait for the offer instead
 * of reading the host), the leader's own after its sync.  So a replica's
 * threads read and build each change once, and hold one copy of each
 * host (not one per thread).  Summaries stay a hint: claims re-check in
 * the store.  A removal goes into a ring every handle reads at its next
 * refresh.
 *
 * Change feed (struct np__feed; drivers whose change scan is a round
 * trip): the group's handles share one cursor and the records of its
 * scans.  A handle's refresh takes the records it has not taken yet
 * without a round trip when the newest completed scan began at most
 * fresh_ns before the refresh did; otherwise it scans itself from the
 * group's cursor (never waiting: several scans may be in flight) and
 * appends what it found.  Records are compared by generation, so a
 * record seen twice, or late, changes nothing.  A claim or release of the
 * group's own is appended too as soon as it is offered (no scan): the
 * other handles see it at their next refresh, as when each scanned, not
 * up to fresh_ns later.
 */
#include "fleet/fleet-int.h"

#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* A batch this large is committed even if more wait: bounds the lock hold. */
#define BATCH_MAX 64

struct np__qitem {
	const struct np__claim *c; /* a claim (C, R), or a release (REL) */
	struct np__claim_result *r;
	struct np__release *rel;
	np__offer_fn offer; /* what it changed, to the summaries (OFFER_CTX) */
	void *offer_ctx;
	struct np_error err;
	int rc;
	bool done;
	sem_t wake;	/* its thread sleeps on it alone (sleep_on), posted outside MU */
	int posts;	/* posts decided under MU (wake_later) and not yet taken */
	bool taken;	/* in the batch being committed */
	bool committed; /* its commit is visible (not durable yet, not answered) */
	bool offered;	/* OFFER called */
	int64_t marked; /* host marked as being read (np__cache_read_begin) until offered, or -1 */
	int64_t deadline; /* monotonic ns by which it must begin, or 0 (np_fleet_set_deadline) */
	struct np__qitem *next;
};

int np__group_new(struct np__fleet_group **out, struct np_error *err)
{
	struct np__fleet_group *g = calloc(1, sizeof(*g));

	if (!g)
		return np__err(err, NP_ENOMEM, "out of memory");
	/* Each made in turn; a failure undoes those made before it, newest first. */
	if (pthread_mutex_init(&g->mu, NULL))
		goto no_mu;
	if (pthread_mutex_init(&g->cmu, NULL))
		goto no_cmu;
	if (pthread_cond_init(&g->rcv, NULL))
		goto no_rcv;
	if (pthread_mutex_init(&g->feed.mu, NULL))
		goto no_feed_mu;
	g->feed.began = INT64_MIN;
	g->feed.floor = INT64_MAX;
	atomic_init(&g->feed.fresh_ns, NP__FEED_FRESH_NS);
	g->refs = 1;
	g->tail = &g->head;
	atomic_init(&g->host_reads, 0);
	atomic_init(&g->full_reads, 0);
	*out = g;
	return 0;

no_feed_mu:
	pthread_cond_destroy(&g->rcv);
no_rcv:
	pthread_mutex_destroy(&g->cmu);
no_cmu:
	pthread_mutex_destroy(&g->mu);
no_mu:
	free(g);
	return np__err(err, NP_ENOMEM, "cannot make a lock");
}

void np__snap_unref(struct np__hsnap *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	np__ledger_free(s->ledger);
	np_host_free(s->host);
	free(s->sum.pci);
	free(s); /* its name and summary nodes with it (np__fleet_rebuild) */
}

static size_t slot_of(const struct np__fleet_group *g, int64_t id)
{
	uint64_t h = (uint64_t)id * UINT64_C(0x9e3779b97f4a7c15);
	size_t i = (size_t)(h >> 32) & (g->ccap - 1);

	while (g->cache[i].id != -1 && g->cache[i].id != id)
		i = (i + 1) & (g->ccap - 1);
	return i;
}

/* Room for one more id (CMU held); false when out of memory. */
static bool cache_room(struct np__fleet_group *g)
{
	struct np__cslot *old = g->cache;
	size_t oldcap = g->ccap, cap = oldcap ? oldcap * 2 : 256;

	if ((g->cused + 1) * 2 <= g->ccap)
		return true;
	if (!(g->cache = malloc(cap * sizeof(*g->cache)))) {
		g->cache = old;
		return false;
	}
	g->ccap = cap;
	for (size_t i = 0; i < cap; i++)
		g->cache[i] = (struct np__cslot){ -1, NULL };
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].id != -1)
			g->cache[slot_of(g, old[i].id)] = old[i];
	free(old);
	return true;
}

/* The same host: a SQLite id may come back for another host. */
static bool same(const struct np__hsnap *a, const struct np__hsnap *b)
{
	return a->topo_id == b->topo_id && !strcmp(a->name, b->name);
}

/* A reference to H's cached snapshot at MIN_GEN or newer, or NULL (CMU held). */
static struct np__hsnap *cached(struct np__fleet_group *g, const struct np_fleet_host *h,
				int64_t min_gen)
{
	struct np__cslot *c = g->ccap ? &g->cache[slot_of(g, h->id)] : NULL;

	if (!c || !c->snap || c->snap->topo_id != h->topo_id || strcmp(c->snap->name, h->name) ||
	    c->snap->generation < min_gen)
		return NULL;
	atomic_fetch_add(&c->snap->refs, 1);
	g->snaps_shared++;
	return c->snap;
}

struct np__hsnap *np__cache_get(struct np__fleet_group *g, const struct np_fleet_host *h,
				int64_t min_gen)
{
	struct np__hsnap *s;

	pthread_mutex_lock(&g->cmu);
	s = cached(g, h, min_gen);
	pthread_mutex_unlock(&g->cmu);
	return s;
}

static int reading_at(const struct np__fleet_group *g, int64_t id)
{
	for (int i = 0; i < g->nreading; i++)
		if (g->reading[i] == id)
			return i;
	return -1;
}

/*
 * Under load most changes are seen by several handles of a replica in
 * the same millisecond; without this each read the host and built its
 * view again (29 % of a replica's builds in the 3-replica benchmark were
 * of a generation already cached).  The wait is for one host's read by
 * a thread that holds no lock and waits for nothing but the store's
 * read snapshot, so it ends.
 */
struct np__hsnap *np__cache_read_begin(struct np__fleet_group *g, const struct np_fleet_host *h,
				       int64_t min_gen, bool *mine)
{
	struct np__hsnap *s;

	*mine = false;
	pthread_mutex_lock(&g->cmu);
	while (!(s = cached(g, h, min_gen)) && reading_at(g, h->id) >= 0)
		pthread_cond_wait(&g->rcv, &g->cmu);
	if (!s && g->nreading < NP__READING_MAX) {
		g->reading[g->nreading++] = h->id;
		*mine = true;
	}
	pthread_mutex_unlock(&g->cmu);
	return s;
}

void np__cache_read_done(struct np__fleet_group *g, int64_t id)
{
	int i;

	pthread_mutex_lock(&g->cmu);
	if ((i = reading_at(g, id)) >= 0)
		g->reading[i] = g->reading[--g->nreading];
	pthread_mutex_unlock(&g->cmu);
	/* After the unlock (the condition lives as long as G): woken, they find CMU free. */
	pthread_cond_broadcast(&g->rcv);
}

bool np__group_pass_begin(struct np__fleet_group *g)
{
	bool mine;

	pthread_mutex_lock(&g->cmu);
	if ((mine = !g->passing))
		g->passing = true;
	while (!mine && g->passing)
		pthread_cond_wait(&g->rcv, &g->cmu);
	pthread_mutex_unlock(&g->cmu);
	return mine;
}

bool np__group_passing(struct np__fleet_group *g)
{
	bool on;

	pthread_mutex_lock(&g->cmu);
	on = g->passing;
	pthread_mutex_unlock(&g->cmu);
	return on;
}

void np__group_pass_done(struct np__fleet_group *g)
{
	pthread_mutex_lock(&g->cmu);
	g->passing = false;
	pthread_mutex_unlock(&g->cmu);
	pthread_cond_broadcast(&g->rcv);
}

/* Host ID marked as being read until np__cache_read_done(ID); false: no room to mark it. */
static bool cache_mark(struct np__fleet_group *g, int64_t id)
{
	bool ok;

	pthread_mutex_lock(&g->cmu);
	ok = g->nreading < NP__READING_MAX;
	if (ok)
		g->reading[g->nreading++] = id;
	pthread_mutex_unlock(&g->cmu);
	return ok;
}

struct np__hsnap *np__cache_put(struct np__fleet_group *g, struct np__hsnap *s)
{
	struct np__hsnap *use = s, *drop = NULL;

	pthread_mutex_lock(&g->cmu);
	g->snaps_made++;
	if (cache_room(g)) {
		struct np__cslot *c = &g->cache[slot_of(g, s->id)];

		if (c->id == -1) {
			c->id = s->id;
			g->cused++;
		}
		/* At the same generation both say the same: the newest offer stays. */
		if (c->snap && same(c->snap, s) && c->snap->generation > s->generation) {
			use = c->snap; /* newer: share it, not ours */
			atomic_fetch_add(&use->refs, 1);
			drop = s;
		} else {
			drop = c->snap;
			c->snap = s;
			atomic_fetch_add(&s->refs, 1);
		}
	}
	pthread_mutex_unlock(&g->cmu);
	np__snap_unref(drop);
	return use;
}

void np__cache_removed(struct np__fleet_group *g, const char *name)
{
	struct np__hsnap *drop = NULL;
	char *copy = strdup(name), **slot;

	pthread_mutex_lock(&g->cmu);
	for (size_t i = 0; i < g->ccap && !drop; i++) /* rare: a walk will do */
		if (g->cache[i].snap && !strcmp(g->cache[i].snap->name, name)) {
			drop = g->cache[i].snap; /* the slot keeps its id: probing stays right */
			g->cache[i].snap = NULL;
		}
	slot = &g->ring[g->removed++ % NP__REMOVED_RING];
	free(*slot);
	*slot = copy; /* NULL (no memory): that handle's full scan will drop it */
	pthread_mutex_unlock(&g->cmu);
	np__snap_unref(drop);
}

void np__group_ref(struct np__fleet_group *g)
{
	pthread_mutex_lock(&g->mu);
	g->refs++;
	pthread_mutex_unlock(&g->mu);
}

void np__group_unref(struct np__fleet_group *g)
{
	int left;

	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	left = --g->refs;
	pthread_mutex_unlock(&g->mu);
	if (left > 0)
		return;
	for (size_t i = 0; i < g->ccap; i++)
		np__snap_unref(g->cache[i].snap);
	free(g->cache);
	for (int i = 0; i < NP__REMOVED_RING; i++)
		free(g->ring[i]);
	for (int i = 0; i < g->ntopos; i++) {
		np_host_free(g->topos[i].tmpl); /* before its topology */
		np_topo_free(g->topos[i].topo);
	}
	free(g->topos);
	for (int i = 0; i < NP__FEED_BATCHES; i++)
		np__feed_batch_unref(g->feed.ring[i]);
	if (g->feed.free_state)
		g->feed.free_state(g->feed.state);
	pthread_mutex_destroy(&g->feed.mu);
	pthread_cond_destroy(&g->rcv);
	pthread_mutex_destroy(&g->cmu);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

/* ---- the change feed ------------------------------------------------------ */

void np__feed_batch_unref(struct np__feed_batch *b)
{
	if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
		return;
	for (int i = 0; i < b->n; i++)
		free((void *)b->recs[i].delta); /* its takes and pins in the same allocation */
	if (b->recs != &b->one)
		free(b->recs);
	free(b);
}

uint64_t np__feed_head(struct np__fleet_group *g)
{
	uint64_t head;

	pthread_mutex_lock(&g->feed.mu);
	head = g->feed.head;
	pthread_mutex_unlock(&g->feed.mu);
	return head;
}

int np__feed_state(struct np__fleet_group *g, const struct np__store_driver *drv, void **out,
		   struct np_error *err)
{
	struct np__feed *fd = &g->feed;

	pthread_mutex_lock(&fd->mu);
	if (!fd->state && drv->scan_state_new && (fd->state = drv->scan_state_new()))
		fd->free_state = drv->scan_state_free;
	*out = fd->state;
	pthread_mutex_unlock(&fd->mu);
	if (!*out && drv->scan_state_new)
		return np__err(err, NP_ENOMEM, "out of memory");
	return 0;
}

void np__feed_join(struct np__fleet_group *g, const struct np__cursor *mine)
{
	struct np__feed *fd = &g->feed;

	pthread_mutex_lock(&fd->mu);
	if (!fd->started) {
		fd->cur = *mine;
		fd->cur.removed = false;
		fd->started = true;
	} else if (mine->v[0] < fd->cur.v[0]) {
		/* Not the removal count: the group's scans must still see one move. */
		fd->cur.v[0] = mine->v[0];
		fd->floor = fd->floor < mine->v[0] ? fd->floor : mine->v[0];
		fd->floor_t = np__now_ns();
	}
	pthread_mutex_unlock(&fd->mu);
}

int np__feed_take(struct np__fleet_group *g, int64_t not_before, uint64_t *pos,
		  struct np__feed_batch **out, int *n, struct np__cursor *fed)
{
	struct np__feed *fd = &g->feed;
	int rc = 1, k = 0;

	pthread_mutex_lock(&fd->mu);
	if (*pos + NP__FEED_BATCHES < fd->head) {
		*pos = fd->head;
		rc = -1;
	} else if (fd->began < not_before) {
		rc = 0;
	} else {
		/* At most NP__FEED_BATCHES: *POS is no further behind (above). */
		for (; *pos < fd->head; (*pos)++, k++) {
			out[k] = fd->ring[*pos % NP__FEED_BATCHES];
			atomic_fetch_add(&out[k]->refs, 1);
		}
	}
	if (rc && fd->started)
		*fed = fd->cur;
	pthread_mutex_unlock(&fd->mu);
	*n = k;
	return rc;
}

void np__feed_done(struct np__feed_batch **b, int n)
{
	for (int i = 0; i < n; i++)
		np__feed_batch_unref(b[i]);
}

bool np__feed_cursor(struct np__fleet_group *g, struct np__cursor *out)
{
	bool started;

	pthread_mutex_lock(&g->feed.mu);
	started = g->feed.started;
	if (started)
		*out = g->feed.cur;
	pthread_mutex_unlock(&g->feed.mu);
	return started;
}

void np__feed_append(struct np__fleet_group *g, struct np__feed_batch *b,
		     const struct np__cursor *after, int64_t began)
{
	struct np__feed *fd = &g->feed;
	struct np__feed_batch *old;

	pthread_mutex_lock(&fd->mu);
	old = fd->ring[fd->head % NP__FEED_BATCHES];
	fd->ring[fd->head++ % NP__FEED_BATCHES] = b;
	if (after && began >= fd->began) {
		fd->cur = *after;
		fd->cur.removed = false;
		fd->began = began;
		if (began <= fd->floor_t && fd->cur.v[0] > fd->floor)
			fd->cur.v[0] = fd->floor;
		else if (began > fd->floor_t)
			fd->floor = INT64_MAX; /* this scan started from the floor or before */
	}
	pthread_mutex_unlock(&fd->mu);
	np__feed_batch_unref(old);
}

/* Releases first (their host is not known yet: -1), then claims by host. */
static int64_t host_of(const struct np__qitem *q)
{
	return q->c ? q->c->host_id : -1;
}

static int cmp_host(const void *a, const void *b)
{
	int64_t x = host_of(*(const struct np__qitem *const *)a);
	int64_t y = host_of(*(const struct np__qitem *const *)b);

	return (x > y) - (x < y);
}

/* Item Q alone, in its own transaction (or the one lock_store() opened). */
static int run_one(np_fleet *f, struct np__qitem *q)
{
	if (q->rel) { /* anew: a failed batch may have answered part of it */
		np__takes_free(&q->rel->given);
		q->rel->tcap = q->rel->pcap = 0;
		q->rel->found = false;
		q->rel->host_id = q->rel->generation = -1;
		q->rel->unread = false;
		return f->drv->release(f->s, q->rel, &q->err);
	}
	return f->drv->claim(f->s, q->c, q->r, &q->err);
}

/* Q's id, for messages. */
static const char *id_of(const struct np__qitem *q)
{
	return q->c ? q->c->id : q->rel->id;
}

/* Q answered: its deadline passed before it could begin (nothing made). */
static int too_late(struct np__qitem *q)
{
	return np__err_reason(&q->err, NP_EOS, "deadline_exceeded",
			      "'%.200s' was not %s: its deadline passed before the store's write "
			      "lock was taken", id_of(q), q->c ? "claimed" : "released");
}

/*
 * Q alone, in a transaction of its own (no transaction is open): not
 * begun after its deadline, and the wait for the write lock ends at it.
 */
static int run_one_by(np_fleet *f, struct np__qitem *q)
{
	int rc;

	if (!q->deadline)
		return run_one(f, q);
	if (np__now_ns() > q->deadline)
		return q->rc = too_late(q);
	if (f->drv->wait_until)
		f->drv->wait_until(f->s, q->deadline);
	rc = run_one(f, q);
	if (f->drv->wait_until)
		f->drv->wait_until(f->s, 0);
	return rc;
}

/*
 * Waking a queued item's thread.  It is decided under the group's mutex
 * (Q->posts counted) and done after the mutex is let go (wake_all): a
 * thread woken while the waker still holds the mutex runs, finds it held
 * and sleeps again at once, two more context switches each time on a
 * machine where each costs (with 3 replicas, 40 % of the servers'
 * context switches were in this queue).  A semaphore rather than a
 * condition: its post may come after the mutex is let go and still not
 * be lost, and glibc's sem_post touches the semaphore no more once the
 * waiter can see the post (so the waiter may return and its item go).
 * An item's thread takes every post decided for it before it returns
 * (enqueue), so no post lands on an item that is gone.
 */
struct wakes {
	struct np__qitem *q[BATCH_MAX + 1];
	int n;
};

static void wake_later(struct wakes *w, struct np__qitem *q)
{
	q->posts++;
	w->q[w->n++] = q;
}

static void wake_all(struct wakes *w)
{
	for (int i = 0; i < w->n; i++)
		sem_post(&w->q[i]->wake);
	w->n = 0;
}

/* ME's thread (G's mutex held) sleeps until a post: the mutex let go meanwhile. */
static void sleep_on(struct np__fleet_group *g, struct np__qitem *me)
{
	pthread_mutex_unlock(&g->mu);
	while (sem_wait(&me->wake) != 0 && errno == EINTR)
		;
	pthread_mutex_lock(&g->mu);
	me->posts--;
}

/*
 * The commit the leader is running, for committed(): its items (the
 * claims' answers in RS when the driver fills an array, else in place),
 * the leader's own item, and whether the commit happened (SEEN).
 */
struct at_commit {
	np_fleet *f;
	struct np__qitem **items;
	int n;
	const struct np__claim_result *rs;
	const struct np__qitem *leader;
	bool seen;
};

/* The host item Q changed (committed), or -1. */
static int64_t changed_host(const struct np__qitem *q)
{
	if (q->c)
		return q->r->status == NP__CLAIMED ? q->c->host_id : -1;
	return q->rel->found ? q->rel->host_id : -1;
}

/*
 * The driver's on_commit, in the leader's thread between COMMIT and the
 * sync: each item's thread is woken to offer what its item changed to
 * the group's summaries now, while the leader syncs, instead of after
 * (when the other handles, which see the commit at once, would have read
 * and built those hosts themselves).  Their hosts are marked as being
 * read, so a handle that needs one waits for the offer
 * (np__cache_read_begin); the leader's own item is offered after the
 * sync (marking it would keep the others waiting through the sync).
 * An item that changed nothing (no fit, placed already, not found) is not
 * woken: it has nothing to offer before its answer.  Nothing is answered
 * here: each item's answer waits for the sync.
 */
static void committed(void *p)
{
	struct at_commit *a = p;
	struct np__fleet_group *g = a->f->group;
	int64_t hosts[BATCH_MAX];
	bool early[BATCH_MAX];
	struct wakes w = { .n = 0 };

	for (int i = 0; i < a->n; i++) {
		struct np__qitem *q = a->items[i];

		if (q->c && a->rs)
			*q->r = a->rs[i];
		hosts[i] = q != a->leader && q->offer ? changed_host(q) : -1;
		early[i] = hosts[i] >= 0;
		if (hosts[i] >= 0 && !cache_mark(g, hosts[i]))
			hosts[i] = -1;
	}
	pthread_mutex_lock(&g->mu);
	for (int i = 0; i < a->n; i++) {
		a->items[i]->committed = true;
		a->items[i]->marked = hosts[i];
		if (early[i])
			wake_later(&w, a->items[i]);
	}
	a->seen = true;
	pthread_mutex_unlock(&g->mu);
	wake_all(&w);
}

/* The driver calls committed(A) after each commit of ITEMS (N) until unhooked (A NULL). */
static void hook(np_fleet *f, struct at_commit *a, struct np__qitem **items, int n,
		 const struct np__claim_result *rs)
{
	if (!f->drv->on_commit)
		return;
	if (a) {
		a->items = items, a->n = n, a->rs = rs;
	}
	f->drv->on_commit(f->s, a ? committed : NULL, a);
}

/* A batch with releases in it: through commit_many, when the driver has it. */
static int run_mixed(np_fleet *f, struct np__qitem **batch, int n, struct at_commit *a,
		     struct np_error *e)
{
	struct np__op ops[BATCH_MAX];
	struct np__claim_result rs[BATCH_MAX];
	int rc;

	if (!f->drv->commit_many)
		return -1;
	for (int i = 0; i < n; i++)
		ops[i] = (struct np__op){ batch[i]->c, &rs[i], batch[i]->rel };
	hook(f, a, batch, n, rs);
	rc = f->drv->commit_many(f->s, ops, n, e);
	for (int i = 0; i < n && !rc && !a->seen; i++)
		if (batch[i]->c)
			*batch[i]->r = rs[i];
	return rc;
}

/*
 * The releases of a committed batch (N items) whose answers the driver
 * could not read (struct np__release, unread): released, so answered
 * "release_unread" (the service's DELETE then answers 204), not run again
 * (they would answer "not found": a 404 for a placement they released).
 */
static void answer_unread(struct np__qitem **batch, int n)
{
	for (int i = 0; i < n; i++)
		if (batch[i]->rel && batch[i]->rel->unread)
			batch[i]->rc = np__err_reason(&batch[i]->err, NP_EOS, "release_unread",
						      "'%.200s' was released, but the store's "
						      "answer could not be read", id_of(batch[i]));
}

/*
 * Q, a release in a batch that failed with its outcome unknown (the
 * connection lost after the commit was sent: the driver's reason
 * "outcome_unknown"), is answered with that error (RC, E), not run
 * again: run again it would answer "not found" (a 404) when the batch
 * had released it.  The caller reads the store to tell (the service's
 * DELETE: 204 when gone), as for a lone release that failed so.
 */
static bool maybe_released(struct np__qitem *q, int rc, const struct np_error *e)
{
	if (!q->rel || strcmp(e->reason, "outcome_unknown") != 0)
		return false;
	q->rc = rc;
	q->err = *e;
	return true;
}

/*
 * Claim or release every item of BATCH (N of them) on F's connection,
 * filling each item's answer; the number of commits it took.  After
 * lock_store() (LOCKED 0) the first item or batch runs in the transaction
 * that holds the lock; a batch that failed as a whole was rolled back, so
 * its items run one by one, each by its deadline (run_one_by).
 */
static int run_batch(np_fleet *f, struct np__qitem **batch, int n, int locked,
		     struct at_commit *a)
{
	const struct np__claim *cs[BATCH_MAX];
	struct np__claim_result rs[BATCH_MAX];
	struct np_error e = { 0 };
	int rc = -1, nrel = 0;

	for (int i = 0; i < n; i++)
		nrel += batch[i]->rel != NULL;
	if (n > 1)
		qsort(batch, (size_t)n, sizeof(*batch), cmp_host);
	if (n > 1 && nrel) {
		rc = run_mixed(f, batch, n, a, &e);
	} else if (n > 1 && f->drv->claim_many) {
		for (int i = 0; i < n; i++)
			cs[i] = batch[i]->c;
		hook(f, a, batch, n, rs);
		rc = f->drv->claim_many(f->s, cs, rs, n, &e);
		for (int i = 0; i < n && !rc && !a->seen; i++)
			*batch[i]->r = rs[i];
	}
	if (!rc) {
		if (nrel) /* not on a batch of claims alone */
			answer_unread(batch, n);
		return 1;
	}
	if (a->seen) { /* committed, then not made durable: answered with that error, not run again */
		for (int i = 0; i < n; i++)
			batch[i]->rc = rc, batch[i]->err = e;
		return 1;
	}
	/* Alone, or the batch failed as a whole: one by one (the batch's try counts when none ran). */
	int ran = 0;

	for (int i = 0; i < n; i++) {
		if (n > 1 && maybe_released(batch[i], rc, &e))
			continue;
		hook(f, a, &batch[i], 1, NULL);
		batch[i]->rc = n == 1 && locked == 0 ? run_one(f, batch[i]) : run_one_by(f, batch[i]);
		ran++;
	}
	return ran ? ran : 1;
}

/* Take up to BATCH_MAX queued items off G's queue (G locked). */
static int take_batch(struct np__fleet_group *g, struct np__qitem **batch)
{
	int n = 0;

	while (g->head && n < BATCH_MAX) {
		batch[n] = g->head;
		batch[n++]->taken = true;
		g->head = g->head->next;
	}
	if (!g->head)
		g->tail = &g->head;
	return n;
}

bool np__group_inflight(np_fleet *f, int64_t id)
{
	struct np__fleet_group *g = f->group;
	bool found = false;

	pthread_mutex_lock(&g->mu);
	for (int i = 0; i < g->ninflight && !found; i++)
		found = g->inflight[i] == id;
	pthread_mutex_unlock(&g->mu);
	return found;
}

/* Host ID's claim is queued (ADD) or done (G locked); past the array's end: not noted. */
static void note_inflight(struct np__fleet_group *g, int64_t id, bool add)
{
	if (add) {
		if (g->ninflight < NP__INFLIGHT_MAX)
			g->inflight[g->ninflight++] = id;
		return;
	}
	for (int i = 0; i < g->ninflight; i++)
		if (g->inflight[i] == id) {
			g->inflight[i] = g->inflight[--g->ninflight];
			return;
		}
}

/* The earliest deadline queued on G (G locked), or 0. */
static int64_t earliest(const struct np__fleet_group *g)
{
	int64_t e = 0;

	for (const struct np__qitem *q = g->head; q; q = q->next)
		if (q->deadline && (!e || q->deadline < e))
			e = q->deadline;
	return e;
}

/*
 * The leader (G's mutex held, G busy) takes the store's write lock
 * before it takes the queue, when the store has one: while it waits for
 * another process's commit, the claims of this process keep queueing and
 * go into its batch (with three schedulers on one SQLite file, most
 * batches were of one claim).  The mutex is let go meanwhile; the wait
 * ends at the earliest deadline queued.  0: held, in an open transaction;
 * 1: the store has no such lock; else the error, in *E.
 */
static int lock_store(np_fleet *f, struct np_error *e)
{
	struct np__fleet_group *g = f->group;
	int64_t until = earliest(g);
	int rc;

	if (!f->drv->lock_claims)
		return 1;
	pthread_mutex_unlock(&g->mu);
	if (until && f->drv->wait_until)
		f->drv->wait_until(f->s, until);
	rc = f->drv->lock_claims(f->s, e);
	if (until && f->drv->wait_until)
		f->drv->wait_until(f->s, 0);
	pthread_mutex_lock(&g->mu);
	return rc;
}

/*
 * Answer the items of BATCH (N) that may not run now (LOCKED: what
 * lock_store() said, E its error): past their deadline, or with one when
 * the lock could not be taken.  BATCH is reordered: the items to run
 * first, their number returned, then those answered.
 */
static int not_now(struct np__qitem **batch, int n, int locked, const struct np_error *e)
{
	struct np__qitem *late[BATCH_MAX];
	int64_t now = np__now_ns();
	int left = 0, nlate = 0;

	for (int i = 0; i < n; i++) {
		struct np__qitem *q = batch[i];

		if (!q->deadline || (locked >= 0 && now <= q->deadline)) {
			batch[left++] = q;
			continue;
		}
		if (now > q->deadline)
			q->rc = too_late(q);
		else
			q->rc = np__err_reason(&q->err, NP_EOS, e->reason, "%s", e->message);
		late[nlate++] = q;
	}
	memcpy(batch + left, late, (size_t)nlate * sizeof(*late));
	return left;
}

/* LOCKED (0): the transaction lock_store() opened ended with nothing in it. */
static void unlock_empty(np_fleet *f, int locked)
{
	struct np_error e = { 0 };

	if (locked == 0 && f->drv->claim_many)
		f->drv->claim_many(f->s, NULL, NULL, 0, &e);
}

/*
 * ME's change offered (G's mutex held, let go meanwhile): once, when it
 * was committed, by its own thread on its own handle F; its host's mark
 * taken off after.
 */
static void offer(np_fleet *f, struct np__qitem *me)
{
	struct np__fleet_group *g = f->group;

	me->offered = true;
	pthread_mutex_unlock(&g->mu);
	if (me->offer && (me->committed || !me->rc))
		me->offer(f, me->offer_ctx);
	if (me->marked >= 0)
		np__cache_read_done(g, me->marked);
	pthread_mutex_lock(&g->mu);
}

/* Queue ME on F's group and return once a batch that holds it is committed. */
static int enqueue(np_fleet *f, struct np__qitem *me, struct np_error *err)
{
	struct np__fleet_group *g = f->group;
	struct np__qitem *batch[BATCH_MAX];

	me->marked = -1;
	sem_init(&me->wake, 0, 0); /* cannot fail: not shared, the value 0 */
	pthread_mutex_lock(&g->mu);
	if (me->c)
		note_inflight(g, me->c->host_id, true);
	me->deadline = f->deadline;
	g->pending++;
	*g->tail = me;
	g->tail = &me->next;
	while (!me->done) {
		if (me->committed && !me->offered) { /* while the leader syncs */
			offer(f, me);
			continue;
		}
		if (g->busy || me->taken) {
			sleep_on(g, me);
			continue;
		}
		g->busy = true;
		struct wakes w = { .n = 0 };
		struct np_error e = { 0 };
		struct at_commit a = { f, NULL, 0, NULL, me, false };
		int locked = lock_store(f, &e);
		int n = take_batch(g, batch), nrel = 0;

		pthread_mutex_unlock(&g->mu);
		int run = not_now(batch, n, locked, &e);
		int commits = run ? run_batch(f, batch, run, locked, &a) : 0;

		hook(f, NULL, NULL, 0, NULL);
		if (!run)
			unlock_empty(f, locked);
		pthread_mutex_lock(&g->mu);
		for (int i = 0; i < run; i++)
			nrel += batch[i]->rel != NULL;
		g->claims += (uint64_t)(run - nrel);
		g->releases += (uint64_t)nrel;
		g->commits += (uint64_t)commits;
		g->split += run > 1 && commits == run;
		if ((uint64_t)(run - nrel) > g->largest)
			g->largest = (uint64_t)(run - nrel);
		for (int i = 0; i < n; i++) {
			batch[i]->done = true;
			if (batch[i] != me)
				wake_later(&w, batch[i]);
		}
		g->pending -= n;
		g->busy = false;
		if (g->head) /* the next leader: the others sleep on until taken */
			wake_later(&w, g->head);
		pthread_mutex_unlock(&g->mu);
		wake_all(&w);
		pthread_mutex_lock(&g->mu);
	}
	if (me->c)
		note_inflight(g, me->c->host_id, false);
	if (!me->offered)
		offer(f, me);
	while (me->posts > 0) /* a post on its way: taken before ME goes */
		sleep_on(g, me);
	pthread_mutex_unlock(&g->mu);
	sem_destroy(&me->wake);
	/* Its commit was seen, then it failed (not made durable): neither done nor undone. */
	if (me->rc && me->committed && !me->err.reason[0])
		snprintf(me->err.reason, sizeof(me->err.reason), "outcome_unknown");
	if (me->rc && err)
		*err = me->err;
	return me->rc;
}

int np__group_claim(np_fleet *f, const struct np__claim *c, struct np__claim_result *r,
		    np__offer_fn fn, void *ctx, struct np_error *err)
{
	struct np__qitem me = { .c = c, .r = r, .offer = fn, .offer_ctx = ctx };

	return enqueue(f, &me, err);
}

int np__group_release(np_fleet *f, struct np__release *rel, np__offer_fn fn, void *ctx,
		      struct np_error *err)
{
	struct np__qitem me = { .rel = rel, .offer = fn, .offer_ctx = ctx };

	return enqueue(f, &me, err);
}

void np_fleet_refresh_stats(const np_fleet *f, struct np_fleet_refresh_stats *out)
{
	struct np__fleet_group *g = f->group;

	pthread_mutex_lock(&g->cmu);
	*out = (struct np_fleet_refresh_stats){ atomic_load(&g->host_reads),
						atomic_load(&g->full_reads), g->snaps_made,
						g->snaps_shared, atomic_load(&g->told) };
	pthread_mutex_unlock(&g->cmu);
}

void np_fleet_feed_stats(const np_fleet *f, struct np_fleet_feed_stats *out)
{
	const struct np__feed *fd = &f->group->feed;

	*out = (struct np_fleet_feed_stats){ atomic_load(&fd->scans), atomic_load(&fd->taken),
					     atomic_load(&fd->behind) };
}

void np_fleet_commit_stats(const np_fleet *f, struct np_fleet_commit_stats *out)
{
	struct np__fleet_group *g = f->group;

	pthread_mutex_lock(&g->mu);
	*out = (struct np_fleet_commit_stats){ g->claims, g->commits, g->largest, g->split,
						g->releases };
	pthread_mutex_unlock(&g->mu);
}
