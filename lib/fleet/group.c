/*
 * group.c - what the handles of one process share (fleet-int.h, struct
 * np__fleet_group): the commit queue that turns the claims several
 * threads make at once into one transaction and one durable commit.
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
 * Batches are sorted by host, so two processes' batches lock hosts in
 * the same order (PostgreSQL's row locks) and do not deadlock each other.
 */
#include "fleet/fleet-int.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* A batch this large is committed even if more wait: bounds the lock hold. */
#define BATCH_MAX 64

struct np__qitem {
	const struct np__claim *c;
	struct np__claim_result *r;
	struct np_error err;
	int rc;
	bool done;
	struct np__qitem *next;
};

int np__group_new(struct np__fleet_group **out, struct np_error *err)
{
	struct np__fleet_group *g = calloc(1, sizeof(*g));

	if (!g)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (pthread_mutex_init(&g->mu, NULL)) {
		free(g);
		return np__err(err, NP_ENOMEM, "cannot make a lock");
	}
	if (pthread_cond_init(&g->cv, NULL)) {
		pthread_mutex_destroy(&g->mu);
		free(g);
		return np__err(err, NP_ENOMEM, "cannot make a condition variable");
	}
	g->refs = 1;
	g->tail = &g->head;
	*out = g;
	return 0;
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
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

static int cmp_host(const void *a, const void *b)
{
	const struct np__qitem *x = *(const struct np__qitem *const *)a;
	const struct np__qitem *y = *(const struct np__qitem *const *)b;

	return (x->c->host_id > y->c->host_id) - (x->c->host_id < y->c->host_id);
}

/*
 * Claim every item of BATCH (N of them) on F's connection, filling each
 * item's answer; the number of commits it took.
 */
static int run_batch(np_fleet *f, struct np__qitem **batch, int n)
{
	const struct np__claim *cs[BATCH_MAX];
	struct np__claim_result rs[BATCH_MAX];
	struct np_error e = { 0 };
	int rc = -1;

	if (n > 1 && f->drv->claim_many) {
		qsort(batch, (size_t)n, sizeof(*batch), cmp_host);
		for (int i = 0; i < n; i++)
			cs[i] = batch[i]->c;
		rc = f->drv->claim_many(f->s, cs, rs, n, &e);
		if (!rc)
			for (int i = 0; i < n; i++)
				*batch[i]->r = rs[i];
	}
	if (!rc)
		return 1;
	/* Alone, or the batch failed as a whole: one by one. */
	for (int i = 0; i < n; i++)
		batch[i]->rc = f->drv->claim(f->s, batch[i]->c, batch[i]->r, &batch[i]->err);
	return n;
}

/* Take up to BATCH_MAX queued items off G's queue (G locked). */
static int take_batch(struct np__fleet_group *g, struct np__qitem **batch)
{
	int n = 0;

	while (g->head && n < BATCH_MAX) {
		batch[n++] = g->head;
		g->head = g->head->next;
	}
	if (!g->head)
		g->tail = &g->head;
	return n;
}

int np__group_claim(np_fleet *f, const struct np__claim *c, struct np__claim_result *r,
		    struct np_error *err)
{
	struct np__fleet_group *g = f->group;
	struct np__qitem me = { .c = c, .r = r }, *batch[BATCH_MAX];

	pthread_mutex_lock(&g->mu);
	*g->tail = &me;
	g->tail = &me.next;
	while (!me.done) {
		if (g->busy) {
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		int n = take_batch(g, batch);

		g->busy = true;
		pthread_mutex_unlock(&g->mu);
		int commits = run_batch(f, batch, n);

		pthread_mutex_lock(&g->mu);
		g->claims += (uint64_t)n;
		g->commits += (uint64_t)commits;
		g->split += n > 1 && commits == n;
		if ((uint64_t)n > g->largest)
			g->largest = (uint64_t)n;
		for (int i = 0; i < n; i++)
			batch[i]->done = true;
		g->busy = false;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	if (me.rc && err)
		*err = me.err;
	return me.rc;
}

void np_fleet_commit_stats(const np_fleet *f, struct np_fleet_commit_stats *out)
{
	struct np__fleet_group *g = f->group;

	pthread_mutex_lock(&g->mu);
	*out = (struct np_fleet_commit_stats){ g->claims, g->commits, g->largest, g->split };
	pthread_mutex_unlock(&g->mu);
}
