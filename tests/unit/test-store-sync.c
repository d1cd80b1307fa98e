/*
 * test-store-sync.c - a sqlite: store's answers survive a power cut
 * (lib/fleet/store-sqlite.c: synchronous=NORMAL, the WAL synced after the
 * write lock is given back and before the answer).
 *
 * The power cut is simulated by a VFS registered as SQLite's default in
 * this process ("np-cut": it forwards every call to the real "unix" VFS).
 * The store's module links the same libsqlite3, so it opens its files
 * through it (checked: the case vfs-used).  For each file it keeps what is
 * durable: at every xSync, the file's bytes as they were when the sync
 * began (every write before it is on disk when fdatasync returns; a write
 * during it may not be).  cut() writes only those bytes into another
 * folder, as the disk would hold them after the power went at that
 * moment: a file never synced is missing, writes since its last sync are
 * lost.  The store opened there must hold every placement answered as
 * made, none answered as released, and pass the fleet check.
 *
 * Cases: claims and releases of four threads in one group (group commits,
 * claim_many and commit_many), cut after the last answer; a retried id
 * answered "placed already" by another connection between the first
 * connection's COMMIT and its sync (the cut taken inside that sync, before
 * it runs); a failed sync answers the claim as failed and breaks the
 * handle; ?synchronous=full keeps every answered claim too, =normal does
 * not (as documented), another level is refused; a follower's claim in a
 * group commit has its summary offered to the other handles between the
 * leader's COMMIT and its sync (the committed state, taken by another
 * handle's refresh instead of a read), and a failed sync still answers
 * every claim of the batch as failed.  Each committed claim or release
 * whose sync failed carries the reason "outcome_unknown".  Nothing is timed (waits for a
 * state end after 10 s and the check then fails).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <numaplace/numaplace.h>

#include "check.h"
#include "fleet/fleet-int.h"
#include "synth.h"

/* ---- the VFS: what each file holds durably ------------------------------ */

#define MAX_FILES 32

struct durable {
	char path[512];
	bool wal;
	bool synced;	     /* IMG holds what the last sync made durable */
	unsigned char *img;
	sqlite3_int64 len;
	unsigned long seq;   /* of the capture IMG came from */
	unsigned long syncs; /* good syncs */
};

struct cut_file {
	sqlite3_file base;
	struct durable *d;   /* NULL: not tracked (a temporary file) */
	sqlite3_file *real;  /* the unix VFS's file, right after this struct */
};

static sqlite3_vfs *real_vfs;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct durable files[MAX_FILES];
static unsigned long captures;
static bool fail_wal_syncs;	  /* the WAL's xSync answers SQLITE_IOERR_FSYNC */
static void (*before_wal_sync)(void); /* called (once) as a WAL sync begins */

static struct durable *track(const char *path, bool wal)
{
	struct durable *d = NULL;

	pthread_mutex_lock(&mu);
	for (int i = 0; i < MAX_FILES && !d; i++)
		if (!strcmp(files[i].path, path) || !files[i].path[0])
			d = &files[i];
	if (d && !d->path[0]) {
		snprintf(d->path, sizeof(d->path), "%s", path);
		d->wal = wal;
	}
	pthread_mutex_unlock(&mu);
	return d;
}

static int c_close(sqlite3_file *f)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xClose(c->real);
}

static int c_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xRead(c->real, buf, n, off);
}

/* Writes and truncations are serialised with captures, so a capture is one moment. */
static int c_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct cut_file *c = (struct cut_file *)f;
	int rc;

	pthread_mutex_lock(&mu);
	rc = c->real->pMethods->xWrite(c->real, buf, n, off);
	pthread_mutex_unlock(&mu);
	return rc;
}

static int c_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct cut_file *c = (struct cut_file *)f;
	int rc;

	pthread_mutex_lock(&mu);
	rc = c->real->pMethods->xTruncate(c->real, size);
	pthread_mutex_unlock(&mu);
	return rc;
}

/* The whole of C's file now (under mu): *IMG malloc'ed, *LEN bytes. */
static int capture(struct cut_file *c, unsigned char **img, sqlite3_int64 *len)
{
	int rc = c->real->pMethods->xFileSize(c->real, len);

	*img = NULL;
	if (rc != SQLITE_OK)
		return rc;
	if (!(*img = malloc(*len ? (size_t)*len : 1)))
		return SQLITE_NOMEM;
	return *len ? c->real->pMethods->xRead(c->real, *img, (int)*len, 0) : SQLITE_OK;
}

static int c_sync(sqlite3_file *f, int flags)
{
	struct cut_file *c = (struct cut_file *)f;
	void (*hook)(void) = NULL;
	unsigned char *img = NULL;
	sqlite3_int64 len = 0;
	unsigned long seq;
	int rc;

	if (c->d && c->d->wal && before_wal_sync) {
		hook = before_wal_sync;
		before_wal_sync = NULL;
		hook(); /* another connection runs, then the power goes */
	}
	if (c->d && c->d->wal && fail_wal_syncs)
		return SQLITE_IOERR_FSYNC;
	pthread_mutex_lock(&mu);
	seq = ++captures;
	rc = c->d ? capture(c, &img, &len) : SQLITE_OK;
	pthread_mutex_unlock(&mu);
	if (rc == SQLITE_OK)
		rc = c->real->pMethods->xSync(c->real, flags);
	pthread_mutex_lock(&mu);
	if (rc == SQLITE_OK && c->d && seq > c->d->seq) { /* a later capture may have won */
		free(c->d->img);
		c->d->img = img;
		c->d->len = len;
		c->d->seq = seq;
		c->d->synced = true;
		img = NULL;
	}
	if (rc == SQLITE_OK && c->d)
		c->d->syncs++;
	pthread_mutex_unlock(&mu);
	free(img);
	return rc;
}

static int c_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xFileSize(c->real, size);
}

static int c_lock(sqlite3_file *f, int lock)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xLock(c->real, lock);
}

static int c_unlock(sqlite3_file *f, int lock)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xUnlock(c->real, lock);
}

static int c_reserved(sqlite3_file *f, int *out)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xCheckReservedLock(c->real, out);
}

static int c_fcntl(sqlite3_file *f, int op, void *arg)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xFileControl(c->real, op, arg);
}

static int c_sector(sqlite3_file *f)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xSectorSize(c->real);
}

static int c_caps(sqlite3_file *f)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xDeviceCharacteristics(c->real);
}

static int c_shm_map(sqlite3_file *f, int pg, int size, int extend, void volatile **p)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xShmMap(c->real, pg, size, extend, p);
}

static int c_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xShmLock(c->real, off, n, flags);
}

static void c_shm_barrier(sqlite3_file *f)
{
	struct cut_file *c = (struct cut_file *)f;

	c->real->pMethods->xShmBarrier(c->real);
}

static int c_shm_unmap(sqlite3_file *f, int del)
{
	struct cut_file *c = (struct cut_file *)f;

	return c->real->pMethods->xShmUnmap(c->real, del);
}

/* Version 2: no xFetch, so SQLite reads through xRead and never maps the file. */
static const sqlite3_io_methods cut_methods = {
	.iVersion = 2,
	.xClose = c_close,
	.xRead = c_read,
	.xWrite = c_write,
	.xTruncate = c_truncate,
	.xSync = c_sync,
	.xFileSize = c_size,
	.xLock = c_lock,
	.xUnlock = c_unlock,
	.xCheckReservedLock = c_reserved,
	.xFileControl = c_fcntl,
	.xSectorSize = c_sector,
	.xDeviceCharacteristics = c_caps,
	.xShmMap = c_shm_map,
	.xShmLock = c_shm_lock,
	.xShmBarrier = c_shm_barrier,
	.xShmUnmap = c_shm_unmap,
};

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
		  int *out)
{
	struct cut_file *c = (struct cut_file *)f;
	int rc;

	(void)vfs;
	c->base.pMethods = NULL;
	c->real = (sqlite3_file *)(c + 1);
	c->d = NULL;
	rc = real_vfs->xOpen(real_vfs, name, c->real, flags, out);
	if (rc != SQLITE_OK)
		return rc;
	if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)))
		c->d = track(name, flags & SQLITE_OPEN_WAL);
	c->base.pMethods = &cut_methods;
	return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int dir_sync)
{
	(void)vfs;
	return real_vfs->xDelete(real_vfs, name, dir_sync);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int v_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static int v_random(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, us);
}

static int v_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int v_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xGetLastError(real_vfs, n, out);
}

static int v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs cut_vfs = {
	.iVersion = 2,
	.zName = "np-cut",
	.xOpen = v_open,
	.xDelete = v_delete,
	.xAccess = v_access,
	.xFullPathname = v_full,
	.xDlOpen = NULL,
	.xRandomness = v_random,
	.xSleep = v_sleep,
	.xCurrentTime = v_time,
	.xGetLastError = v_error,
	.xCurrentTimeInt64 = v_time64,
};

static bool cut_vfs_register(void)
{
	if (!(real_vfs = sqlite3_vfs_find("unix")))
		return false;
	cut_vfs.szOsFile = (int)sizeof(struct cut_file) + real_vfs->szOsFile;
	cut_vfs.mxPathname = real_vfs->mxPathname;
	return sqlite3_vfs_register(&cut_vfs, 1) == SQLITE_OK;
}

/* The good syncs of the tracked files whose path ends in SUFFIX. */
static unsigned long syncs_of(const char *suffix)
{
	unsigned long n = 0;
	size_t k = strlen(suffix);

	pthread_mutex_lock(&mu);
	for (int i = 0; i < MAX_FILES; i++) {
		size_t l = strlen(files[i].path);

		if (l >= k && !strcmp(files[i].path + l - k, suffix))
			n += files[i].syncs;
	}
	pthread_mutex_unlock(&mu);
	return n;
}

/*
 * The power goes now: what is durable of the files in folder FROM is
 * written into folder TO (made), under the same names.  Only the main
 * database and its WAL: the wal-index (-shm) is rebuilt from the WAL.
 */
static bool cut(const char *from, const char *to)
{
	bool ok = mkdir(to, 0700) == 0;
	size_t k = strlen(from);
	char path[600];

	pthread_mutex_lock(&mu);
	for (int i = 0; ok && i < MAX_FILES; i++) {
		struct durable *d = &files[i];
		int fd;

		if (!d->synced || strncmp(d->path, from, k) || d->path[k] != '/')
			continue;
		snprintf(path, sizeof(path), "%s/%s", to, d->path + k + 1);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		ok = fd >= 0 && write(fd, d->img, (size_t)d->len) == (ssize_t)d->len;
		ok = fd >= 0 && close(fd) == 0 && ok;
	}
	pthread_mutex_unlock(&mu);
	return ok;
}

/* ---- the store ------------------------------------------------------------ */

static char dir[64];

/* A new store in folder SUB of DIR with HOSTS hosts of 2 nodes; its URL into URL. */
static bool new_store(const char *sub, int hosts, char *url, size_t size)
{
	struct synth_host sh = { .nodes = 2, .cores = 4, .mem_mb = 16384 };
	struct np_error err = { 0 };
	char path[128];
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	snprintf(url, size, "sqlite:%s/fleet.db", path);
	ok = mkdir(path, 0700) == 0 && synth_fleet(url, hosts, &sh, &err) == 0;
	CHECK(ok, "store %s: %s", sub, err.message);
	return ok;
}

/* Schedule ID (one vCPU, 256 MiB) on F: 1 placed, 0 not, -1 an error (into ERR). */
static int place(np_fleet *f, const char *id, bool *existing, struct np_error *err)
{
	np_request *r = NULL;
	np_fleet_result *res = NULL;
	int rc = np_request_from_flavor_text("vcpus=1,ram=256", NULL, &r, err);

	if (!rc)
		rc = np_fleet_schedule(f, id, r, NULL, &res, err);
	if (!rc && existing)
		*existing = np_fleet_result_existing(res);
	rc = rc ? -1 : np_fleet_result_placed(res);
	np_fleet_result_free(res);
	np_request_free(r);
	return rc;
}

/* Does the store at URL hold placement ID?  -1: cannot tell. */
static int holds(np_fleet *f, const char *id)
{
	struct np_error err = { 0 };
	np_fleet_placement *p = NULL;
	int rc = np_fleet_placement_get(f, id, &p, &err);

	np_fleet_placement_free(p);
	return rc ? -1 : p != NULL;
}

/* ---- every answer survives --------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 40

struct worker {
	np_fleet *f;
	int k;
	bool placed[PER_THREAD], released[PER_THREAD];
	int errors;
	struct np_error err;
};

/* Place PER_THREAD ids, releasing every third one right after it was placed. */
static void *work(void *arg)
{
	struct worker *w = arg;
	char id[32];

	for (int i = 0; i < PER_THREAD; i++) {
		bool found = false;

		snprintf(id, sizeof(id), "t%d-%d", w->k, i);
		w->placed[i] = place(w->f, id, NULL, &w->err) == 1;
		w->errors += !w->placed[i];
		if (w->placed[i] && i % 3 == 2) {
			w->released[i] = np_fleet_release(w->f, id, &found, &w->err) == 0 && found;
			w->errors += !w->released[i];
		}
	}
	return NULL;
}

/* The cut copy at URL: what was answered placed is there, what was released is not. */
static void check_copy(const char *url, struct worker *w)
{
	struct np_error err = { 0 };
	struct np_fleet_check_stats st;
	np_fleet *f = NULL;
	int lost = 0, back = 0, live = 0;
	char id[32];

	CHECK(np_fleet_open(url, 0, &f, &err) == 0, "open the copy: %s", err.message);
	if (!f)
		return;
	for (int k = 0; k < THREADS; k++) {
		for (int i = 0; i < PER_THREAD; i++) {
			int h;

			snprintf(id, sizeof(id), "t%d-%d", k, i);
			h = holds(f, id);
			lost += w[k].placed[i] && !w[k].released[i] && h != 1;
			back += w[k].released[i] && h != 0;
			live += w[k].placed[i] && !w[k].released[i];
		}
	}
	CHECK(lost == 0, "%d of %d placements answered as made are lost in the power cut", lost,
	      live);
	CHECK(back == 0, "%d placements answered as released are back after the power cut", back);
	CHECK(np_fleet_check(f, &st, &err) == 0, "fleet check after the power cut: %s",
	      err.message);
	CHECK(st.placements == live, "%d placements after the cut, %d live answered", st.placements,
	      live);
	np_fleet_close(f);
}

static void answered_durable(void)
{
	struct worker w[THREADS] = { 0 };
	struct np_fleet_commit_stats cs = { 0 };
	pthread_t th[THREADS];
	struct np_error err = { 0 };
	char url[200], from[128], to[128];
	int errors = 0;

	if (!new_store("group", 4, url, sizeof(url)))
		return;
	CHECK(np_fleet_open(url, 0, &w[0].f, &err) == 0, "open: %s", err.message);
	for (int k = 1; k < THREADS && w[0].f; k++)
		CHECK(np_fleet_open_shared(w[0].f, &w[k].f, &err) == 0, "open: %s", err.message);
	for (int k = 0; k < THREADS; k++) {
		w[k].k = k;
		if (w[k].f)
			CHECK(pthread_create(&th[k], NULL, work, &w[k]) == 0, "thread");
	}
	for (int k = 0; k < THREADS; k++) {
		if (w[k].f)
			pthread_join(th[k], NULL);
		errors += w[k].errors;
		if (w[k].errors)
			fprintf(stderr, "thread %d: %s\n", k, w[k].err.message);
	}
	CHECK(errors == 0, "%d schedules or releases failed", errors);
	np_fleet_commit_stats(w[0].f, &cs);
	printf("# %llu claims and %llu releases in %llu commits, at most %llu claims in one\n",
	       (unsigned long long)cs.claims, (unsigned long long)cs.releases,
	       (unsigned long long)cs.commits, (unsigned long long)cs.largest);
	/* The power goes with every handle still open: nothing is closed or checkpointed. */
	snprintf(from, sizeof(from), "%s/group", dir);
	snprintf(to, sizeof(to), "%s/group-cut", dir);
	CHECK(cut(from, to), "the cut copy: %s", strerror(errno));
	snprintf(url, sizeof(url), "sqlite:%s/fleet.db", to);
	check_copy(url, w);
	for (int k = THREADS - 1; k >= 0; k--)
		np_fleet_close(w[k].f);
}

/* ---- placed already, answered by another connection ----------------------------- */

static np_fleet *other;
static int other_placed = -2;
static bool other_existing;
static char other_url[200];

/*
 * Inside the first connection's sync after its COMMIT (not run yet): the
 * other connection asks for the same id, then the power goes.
 */
static void other_asks_then_cut(void)
{
	struct np_error err = { 0 };
	char from[128], to[128];

	other_placed = place(other, "x", &other_existing, &err);
	if (other_placed < 0)
		fprintf(stderr, "the other connection: %s\n", err.message);
	snprintf(from, sizeof(from), "%s/exists", dir);
	snprintf(to, sizeof(to), "%s/exists-cut", dir);
	CHECK(cut(from, to), "the cut copy: %s", strerror(errno));
	snprintf(other_url, sizeof(other_url), "sqlite:%s/fleet.db", to);
}

static void existing_durable(void)
{
	struct np_error err = { 0 };
	np_fleet *f = NULL, *g = NULL;
	char url[200];

	if (!new_store("exists", 1, url, sizeof(url)))
		return;
	CHECK(np_fleet_open(url, 0, &f, &err) == 0 && np_fleet_open(url, 0, &other, &err) == 0,
	      "open: %s", err.message);
	/* A first claim: the WAL's header (synced inside COMMIT when it is new) is behind us. */
	CHECK(f && place(f, "warm", NULL, &err) == 1, "warm: %s", err.message);
	before_wal_sync = other_asks_then_cut;
	CHECK(f && place(f, "x", NULL, &err) == 1, "x: %s", err.message);
	CHECK(!before_wal_sync, "the claim's commit was followed by a sync of the WAL");
	CHECK(other_placed == 1 && other_existing,
	      "the other connection was answered 'placed already' (%d, %d)", other_placed,
	      other_existing);
	CHECK(other_url[0] && np_fleet_open(other_url, 0, &g, &err) == 0, "open the copy: %s",
	      err.message);
	CHECK(g && holds(g, "x") == 1,
	      "what the other connection answered as placed survives the power cut");
	np_fleet_close(g);
	np_fleet_close(other);
	np_fleet_close(f);
	before_wal_sync = NULL;
}

/* ---- a failed sync ------------------------------------------------------------------ */

/* A new store SUB (URL, SIZE bytes) opened, with ID placed in it (synced); NULL if not. */
static np_fleet *one_placed(const char *sub, const char *id, char *url, size_t size)
{
	struct np_error err = { 0 };
	np_fleet *f = NULL;

	if (!new_store(sub, 1, url, size))
		return NULL;
	CHECK(np_fleet_open(url, 0, &f, &err) == 0, "open: %s", err.message);
	CHECK(f && place(f, id, NULL, &err) == 1, "%s: %s", id, err.message);
	return f;
}

static void sync_fails(void)
{
	struct np_error err = { 0 };
	np_fleet *f, *g = NULL;
	char url[200];
	int rc;

	if (!(f = one_placed("fails", "a", url, sizeof(url))))
		return;
	fail_wal_syncs = true;
	rc = place(f, "b", NULL, &err);
	fail_wal_syncs = false;
	CHECK(rc == -1 && err.code == NP_EOS && strstr(err.message, "cannot sync the WAL"),
	      "a claim whose sync failed is answered as failed (%d): %s", rc, err.message);
	/* Committed, then not made durable: neither done nor undone (group.c, the service's 503). */
	CHECK(!strcmp(err.reason, "outcome_unknown"),
	      "a claim committed whose sync failed: outcome_unknown ('%s')", err.reason);
	memset(&err, 0, sizeof(err));
	rc = place(f, "c", NULL, &err);
	CHECK(rc == -1 && strstr(err.message, "cannot sync the WAL"),
	      "and the handle makes no claim after it (%d): %s", rc, err.message);
	CHECK(strcmp(err.reason, "outcome_unknown") != 0,
	      "a claim the broken handle never committed is not outcome_unknown ('%s')", err.reason);
	CHECK(np_fleet_open(url, 0, &g, &err) == 0 && place(g, "d", NULL, &err) == 1,
	      "a handle opened again claims: %s", err.message);
	CHECK(g && holds(g, "a") == 1 && holds(g, "c") == 0, "a made, c not");
	np_fleet_close(g);
	np_fleet_close(f);
}

/*
 * A release whose commit went through and whose sync failed: answered as
 * failed with outcome_unknown (the service then reads the store to tell:
 * group.c's maybe_released()), and gone for a handle opened again (this
 * process's page cache is what it reads: the commit was seen).
 */
static void release_sync_fails(void)
{
	struct np_error err = { 0 };
	np_fleet *f, *g = NULL;
	bool found = false;
	char url[200];
	int rc;

	if (!(f = one_placed("release-fails", "r", url, sizeof(url))))
		return;
	fail_wal_syncs = true;
	rc = np_fleet_release(f, "r", &found, &err);
	fail_wal_syncs = false;
	CHECK(rc != 0 && err.code == NP_EOS && strstr(err.message, "cannot sync the WAL") &&
		      !strcmp(err.reason, "outcome_unknown"),
	      "a release whose sync failed: failed, outcome_unknown (%d, '%s'): %s", rc,
	      err.reason, err.message);
	CHECK(np_fleet_open(url, 0, &g, &err) == 0, "open again: %s", err.message);
	CHECK(g && holds(g, "r") == 0, "the release was committed: r is gone");
	np_fleet_close(g);
	np_fleet_close(f);
}

/* ---- a claim's summary offered at COMMIT, answered after the sync ------------------ */

struct asker {
	np_fleet *f;
	const char *id, *host;
	int placed;
	struct np_error err;
};

/* Schedule ASKER's id (one vCPU, 256 MiB) on its host only. */
static void *ask(void *arg)
{
	struct asker *a = arg;
	struct np_fleet_sched_opts o = { .host = a->host };
	np_request *r = NULL;
	np_fleet_result *res = NULL;
	int rc = np_request_from_flavor_text("vcpus=1,ram=256", NULL, &r, &a->err);

	if (!rc)
		rc = np_fleet_schedule(a->f, a->id, r, &o, &res, &a->err);
	a->placed = rc ? -1 : np_fleet_result_placed(res);
	np_fleet_result_free(res);
	np_request_free(r);
	return NULL;
}

/* Wait (up to 10 s, no assertion on the time) until F's group has N items queued. */
static bool queued(np_fleet *f, int n)
{
	struct np__fleet_group *g = f->group;
	bool ok = false;

	for (int i = 0; i < 10000 && !ok; i++) {
		pthread_mutex_lock(&g->mu);
		ok = g->pending >= n;
		pthread_mutex_unlock(&g->mu);
		if (!ok)
			usleep(1000);
	}
	return ok;
}

static np_fleet *offer_watch; /* a third handle of the group */
static int64_t offer_gen;     /* the generation of h1 before B's claim */
static int offer_seen = -1;   /* in the leader's sync: B's summary cached (1) or not (0) */
static int64_t offer_used;    /* memory used on h1 in that summary */
static int offer_taken = -1;  /* the watch's refresh took it (1) rather than read h1 (0) */

/* Memory used on host H's view, all nodes. */
static int64_t mem_used(const np_host *h)
{
	int64_t used = 0;

	for (int i = 0; i < np_topo_node_count(np_host_topo(h)); i++)
		used += (int64_t)np_host_node(h, i)->memory_used_mb;
	return used;
}

/*
 * As the leader's WAL sync begins (after COMMIT): B's thread offers its
 * summary meanwhile; wait for it (up to 10 s), then refresh the watch,
 * which must take it rather than read h1 from the store.
 */
static void while_syncing(void)
{
	struct np__fleet_group *g = offer_watch->group;
	const np_fleet_host *h = np_fleet_host_find(offer_watch, "h1");
	struct np__hsnap *s = NULL;
	struct np_error err = { 0 };

	for (int i = 0; h && i < 10000 && !s; i++)
		if (!(s = np__cache_get(g, h, offer_gen + 1)))
			usleep(1000);
	offer_seen = s != NULL;
	offer_used = s ? mem_used(s->host) : -1;
	if (np_fleet_refresh(offer_watch, &err))
		fprintf(stderr, "refresh: %s\n", err.message);
	h = np_fleet_host_find(offer_watch, "h1");
	offer_taken = s && h && h->snap == s;
	np__snap_unref(s);
}

/*
 * Claims A (host h0) and B (h1) in one batch, B's thread not the
 * leader's (SQLite's write lock held from outside until both are
 * queued): B's new summary is offered while the leader syncs, and is the
 * committed state (B's 256 MiB on h1).  FAIL: that sync fails; both are
 * answered as failed, none as placed.
 */
static void offered_at_commit(const char *sub, bool fail)
{
	struct asker a = { .id = "a", .host = "h0" }, b = { .id = "b", .host = "h1" };
	struct asker warm = { .id = "warm", .host = "h0" };
	struct np_error err = { 0 };
	sqlite3 *raw = NULL;
	pthread_t ta, tb;
	char url[200], path[200];
	const np_fleet_host *h;

	offer_seen = offer_taken = -1;
	offer_used = -1;
	/* 8 hosts: a refresh that finds a quarter of them changed reads them all at once. */
	if (!new_store(sub, 8, url, sizeof(url)))
		return;
	CHECK(np_fleet_open(url, 0, &a.f, &err) == 0 && np_fleet_open_shared(a.f, &b.f, &err) == 0 &&
		      np_fleet_open_shared(a.f, &offer_watch, &err) == 0,
	      "open: %s", err.message);
	CHECK(np_fleet_refresh(a.f, &err) == 0 && np_fleet_refresh(b.f, &err) == 0 &&
		      np_fleet_refresh(offer_watch, &err) == 0,
	      "refresh: %s", err.message);
	warm.f = a.f;
	if (a.f)
		ask(&warm); /* the WAL's header (synced inside COMMIT when it is new) is behind us */
	CHECK(warm.placed == 1, "warm: %s", warm.err.message);
	CHECK(np_fleet_refresh(offer_watch, &err) == 0, "refresh: %s", err.message);
	h = np_fleet_host_find(offer_watch, "h1");
	if (!a.f || !b.f || !h)
		goto out;
	offer_gen = np_fleet_host_generation(h);
	snprintf(path, sizeof(path), "%s", url + strlen("sqlite:"));
	CHECK(sqlite3_open(path, &raw) == SQLITE_OK &&
		      sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK,
	      "hold the write lock from outside");
	CHECK(pthread_create(&ta, NULL, ask, &a) == 0, "thread");
	CHECK(queued(a.f, 1), "A queued");
	CHECK(pthread_create(&tb, NULL, ask, &b) == 0, "thread");
	CHECK(queued(a.f, 2), "B queued behind A's leader");
	before_wal_sync = while_syncing;
	fail_wal_syncs = fail;
	sqlite3_exec(raw, "ROLLBACK", NULL, NULL, NULL);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	fail_wal_syncs = false;
	before_wal_sync = NULL;
	CHECK(offer_seen == 1, "B's summary was offered before the leader's sync ran (%d)",
	      offer_seen);
	CHECK(offer_used == 256, "it is the committed state: 256 MiB used on h1 (%lld)",
	      (long long)offer_used);
	CHECK(offer_taken == 1, "another handle's refresh took it instead of reading h1 (%d)",
	      offer_taken);
	if (!fail) {
		CHECK(a.placed == 1 && b.placed == 1, "both placed (%d: %s; %d: %s)", a.placed,
		      a.err.message, b.placed, b.err.message);
	} else {
		CHECK(a.placed == -1 && b.placed == -1 && strstr(a.err.message, "cannot sync") &&
			      strstr(b.err.message, "cannot sync"),
		      "a failed sync answers both as failed (%d: %s; %d: %s)", a.placed,
		      a.err.message, b.placed, b.err.message);
		CHECK(!strcmp(a.err.reason, "outcome_unknown") &&
			      !strcmp(b.err.reason, "outcome_unknown"),
		      "both committed, neither durable: outcome_unknown ('%s', '%s')", a.err.reason,
		      b.err.reason);
	}
out:
	sqlite3_close(raw);
	np_fleet_close(offer_watch);
	offer_watch = NULL;
	np_fleet_close(b.f);
	np_fleet_close(a.f);
}

/*
 * The URL's synchronous=: full (SQLite syncs inside COMMIT) keeps every
 * answered claim through a power cut too; normal does not sync at
 * commit, and loses the claims since the last checkpoint (what the
 * documentation warns of); anything else is refused.
 */
static int placed_then_cut(const char *sub, const char *param)
{
	struct np_error err = { 0 };
	np_fleet *f = NULL, *g = NULL;
	char url[200], from[128], to[128], id[16];
	int made = 0, kept = 0;
	size_t len;

	if (!new_store(sub, 1, url, sizeof(url)))
		return -1;
	len = strlen(url);
	snprintf(url + len, sizeof(url) - len, "%s", param);
	CHECK(np_fleet_open(url, 0, &f, &err) == 0, "open %s: %s", url, err.message);
	for (int i = 0; f && i < 5; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		made += place(f, id, NULL, &err) == 1;
	}
	CHECK(made == 5, "%s: 5 placed (%d): %s", param, made, err.message);
	snprintf(from, sizeof(from), "%s/%s", dir, sub);
	snprintf(to, sizeof(to), "%s/%s-cut", dir, sub);
	CHECK(cut(from, to), "the cut copy: %s", strerror(errno));
	snprintf(url, sizeof(url), "sqlite:%s/fleet.db", to);
	CHECK(np_fleet_open(url, 0, &g, &err) == 0, "open the copy: %s", err.message);
	for (int i = 0; g && i < 5; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		kept += holds(g, id) == 1;
	}
	np_fleet_close(g);
	np_fleet_close(f);
	return kept;
}

static void url_levels(void)
{
	struct np_error err = { 0 };
	np_fleet *f = NULL;
	char url[200];
	int rc;

	CHECK(placed_then_cut("full", "?synchronous=full") == 5,
	      "synchronous=full: every answered claim survives");
	CHECK(placed_then_cut("normal", "?synchronous=normal") < 5,
	      "synchronous=normal: the last claims are lost");
	snprintf(url, sizeof(url), "sqlite:%s/full/fleet.db?synchronous=off", dir);
	rc = np_fleet_open(url, 0, &f, &err);
	CHECK(rc == NP_EINPUT && strstr(err.message, "unknown parameter 'synchronous=off'") &&
		      !strchr(err.message, '\n'),
	      "another level is refused in one line (%d): %s", rc, err.message);
	np_fleet_close(f);
}

/* The store opens its files through the default VFS registered here. */
static void vfs_used(void)
{
	char url[200];

	if (!new_store("used", 1, url, sizeof(url)))
		return;
	CHECK(syncs_of("/used/fleet.db-wal") > 0 && syncs_of("/used/fleet.db") > 0,
	      "the store's database and WAL were synced through np-cut (%lu, %lu)",
	      syncs_of("/used/fleet.db"), syncs_of("/used/fleet.db-wal"));
}

int main(void)
{
	char cmd[128];

	if (!cut_vfs_register()) {
		fprintf(stderr, "cannot register the VFS\n");
		return 99;
	}
	snprintf(dir, sizeof(dir), "/tmp/np-store-sync-XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	T_CASE("vfs-used", vfs_used());
	T_CASE("answered-durable", answered_durable());
	T_CASE("existing-durable", existing_durable());
	T_CASE("sync-fails", sync_fails());
	T_CASE("release-sync-fails", release_sync_fails());
	T_CASE("offered-at-commit", offered_at_commit("offer", false));
	T_CASE("offered-at-commit-sync-fails", offered_at_commit("offer-fails", true));
	T_CASE("url-levels", url_levels());
	t_cleanup();
	for (int i = 0; i < MAX_FILES; i++)
		free(files[i].img);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done();
}
