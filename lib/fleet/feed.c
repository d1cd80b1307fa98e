/*
 * feed.c - one change scan per process (fleet-int.h, struct np__feed):
 * the handles of a group (np_fleet_open_shared, one per service thread)
 * learn which hosts changed from one feed instead of each scanning the
 * store for itself.
 *
 * Why: every handle used to ask its own connection for the hosts changed
 * since its own cursor, at most once a millisecond each; with 16 threads a
 * replica ran 16 change scans a millisecond, each returning the same rows
 * (5.7 % of the servers' CPU with three SQLite replicas, and a round trip
 * to PostgreSQL each).  Now, at most once a SCAN_NS, one handle runs the
 * scan on the group's own connection (opened at the first scan, so its
 * driver's per-connection state -- SQLite's data_version, PostgreSQL's
 * window of late commits -- stays its own, and it sees this process's
 * commits as any other's) and appends each host it returns to a ring; each
 * handle applies the ring from where it left off.  The process's own
 * claims and releases go in too when they are answered (np__feed_note), so
 * the group's other handles see them without waiting for a scan.
 *
 * A handle that fell more than a ring behind is told so (np__feed_apply
 * returns 1) and scans every host itself.  When the group's connection
 * cannot be opened the feed is off and handles scan for themselves, as
 * they always did.  A removal is an item of its own (id -1): the handles
 * then scan every host, as a removal seen by their own scan made them.
 *
 * Locks: SMU (one scan at a time) is taken before MU (the ring), never
 * the other way; MU is held while a handle applies items (its callback
 * may take the group's CMU, never SMU or MU).
 */
#include "fleet/fleet-int.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int np__feed_new(const char *url, struct np__feed **out, struct np_error *err)
{
	struct np__feed *fd = calloc(1, sizeof(*fd));

	if (!fd || !(fd->url = strdup(url))) {
		free(fd);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	if (pthread_mutex_init(&fd->smu, NULL)) {
		free(fd->url);
		free(fd);
		return np__err(err, NP_ENOMEM, "cannot make a lock");
	}
	if (pthread_mutex_init(&fd->mu, NULL)) {
		pthread_mutex_destroy(&fd->smu);
		free(fd->url);
		free(fd);
		return np__err(err, NP_ENOMEM, "cannot make a lock");
	}
	atomic_init(&fd->next, 0);
	atomic_init(&fd->last, 0);
	atomic_init(&fd->off, false);
	*out = fd;
	return 0;
}

void np__feed_free(struct np__feed *fd)
{
	if (!fd)
		return;
	if (fd->s)
		fd->drv->close(fd->s);
	for (int i = 0; i < NP__FEED_RING; i++)
		free(fd->ring[i].name);
	pthread_mutex_destroy(&fd->mu);
	pthread_mutex_destroy(&fd->smu);
	free(fd->url);
	free(fd);
}

/* Append R (NAME NULL: an own change, only id and generation) to the ring. */
static int append(struct np__feed *fd, const struct np__host_rec *r)
{
	char *name = r->name ? strdup(r->name) : NULL;
	uint64_t n;
	struct np__feed_item *it;

	if (r->name && !name)
		return NP_ENOMEM;
	pthread_mutex_lock(&fd->mu);
	n = atomic_load(&fd->next);
	it = &fd->ring[n % NP__FEED_RING];
	free(it->name);
	it->rec = *r;
	it->name = name;
	it->rec.name = name;
	atomic_store(&fd->next, n + 1);
	pthread_mutex_unlock(&fd->mu);
	return 0;
}

static int scanned(void *p, const struct np__host_rec *r)
{
	return append(p, r) ? NP_ENOMEM : 0;
}

void np__feed_note(struct np__feed *fd, int64_t id, int64_t generation)
{
	struct np__host_rec r = { .id = id, .generation = generation, .placements = -1 };

	/* Out of memory cannot happen without a name; a lost note waits for the scan. */
	(void)append(fd, &r);
}

/* The group's connection, opened at the first scan (SMU held); false: the feed is off. */
static bool connected(struct np__feed *fd)
{
	if (!fd->s && !atomic_load(&fd->off) &&
	    np__store_open(fd->url, false, &fd->drv, &fd->s, NULL))
		atomic_store(&fd->off, true);
	return !atomic_load(&fd->off);
}

/*
 * A scan whose results are in and that began less than NP__SCAN_NS
 * before NOW: a refresh at NOW may use it instead of its own (FORCE: only
 * one that began at NOW or later).  LAST is set when a scan ends, so one
 * still running is waited for, not taken as done.
 */
static bool covered(struct np__feed *fd, int64_t now, bool force)
{
	int64_t last = atomic_load(&fd->last);

	return last >= now || (!force && now - last < NP__SCAN_NS);
}

int np__feed_scan(struct np__feed *fd, bool force, struct np_error *err)
{
	int64_t now = np__now_ns(), begin;
	int rc;

	if (covered(fd, now, force))
		return 0;
	pthread_mutex_lock(&fd->smu);
	if (covered(fd, now, force) || !connected(fd)) {
		pthread_mutex_unlock(&fd->smu);
		return atomic_load(&fd->off) ? 1 : 0;
	}
	begin = np__now_ns();
	rc = fd->drv->hosts(fd->s, &fd->cur, scanned, fd, err);
	if (rc == NP_ENOMEM)
		rc = np__err(err, NP_ENOMEM, "out of memory");
	if (!rc && fd->cur.removed) {
		struct np__host_rec gone = { .id = -1, .placements = -1 };

		fd->cur.removed = false;
		rc = append(fd, &gone) ? np__err(err, NP_ENOMEM, "out of memory") : 0;
	}
	if (!rc)
		atomic_store(&fd->last, begin);
	pthread_mutex_unlock(&fd->smu);
	return rc;
}

int np__feed_apply(struct np__feed *fd, uint64_t *pos, np__host_cb cb, void *ctx)
{
	uint64_t n;
	int rc = 0;

	if (atomic_load(&fd->next) == *pos)
		return 0; /* nothing new: no lock */
	pthread_mutex_lock(&fd->mu);
	n = atomic_load(&fd->next);
	if (n - *pos > NP__FEED_RING) {
		*pos = n;
		pthread_mutex_unlock(&fd->mu);
		return 1;
	}
	for (; *pos < n && !rc; (*pos)++)
		rc = cb(ctx, &fd->ring[*pos % NP__FEED_RING].rec);
	pthread_mutex_unlock(&fd->mu);
	return rc;
}

uint64_t np__feed_pos(struct np__feed *fd)
{
	return atomic_load(&fd->next);
}
