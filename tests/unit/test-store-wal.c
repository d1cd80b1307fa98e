/*
 * test-store-wal.c - a sqlite: store's WAL stays bounded while other
 * connections keep reading (lib/fleet/store-sqlite.c: checkpoint(),
 * WAL_RESTART, RESTART_WAITS, WAL_KEEP_BYTES).
 *
 * SQLite moves the WAL back to its start only when a writer finds every
 * frame copied into the database and no reader in the WAL.  Replicas of
 * the service always have a reader, so before the RESTART checkpoint the
 * -wal file grew without end (623 MB after 16,000 placements).  Here
 * three threads with connections of their own keep read transactions
 * open, overlapping, one at any moment, while one handle claims and
 * releases until it has written several times the bound.
 *
 * Cases:
 * - bounded: the -wal file never passes WAL_MAX (the store's bound of
 *   8192 frames, ~34 MB, plus a checkpoint's interval and slack), though
 *   the writes came to WRITES_PER_BOUND times it;
 * - long-reader: a reader that stays the whole time (a backup, a fleet
 *   check of a large fleet) pins the WAL: writes still go on (a RESTART
 *   waits for it a few milliseconds, not the busy handler's 30 s: with
 *   those the case would not end), and once it has gone the next
 *   restart cuts the file back (journal_size_limit).
 *
 * How much the writes came to is measured, not assumed: the WAL's size
 * before its first restart, over the rounds it took, is a lower bound of
 * a round's frames.  Nothing is timed.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include <numaplace/numaplace.h>

#include "check.h"
#include "synth.h"

#define WAL_MAX (48LL << 20)	 /* bytes: the store's 8192 frames and 1000 more, with slack */
#define WRITES_PER_BOUND 3	 /* the writes come to this many times WAL_MAX */
#define CALIBRATE (2LL << 20)	 /* the WAL's size that measures a round */
#define READERS 3
#define GUESTS 8		 /* placed and released again each round */

static char dir[64];

/* A new store in folder SUB of DIR with 4 hosts of 2 nodes; its URL into URL, its file into DB. */
static bool new_store(const char *sub, char *url, size_t size, char *db, size_t dbsize)
{
	struct synth_host sh = { .nodes = 2, .cores = 4, .mem_mb = 16384 };
	struct np_error err = { 0 };
	char path[128];
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	snprintf(db, dbsize, "%s/fleet.db", path);
	/* NORMAL: nothing synced a commit (the bound is about size, not durability). */
	snprintf(url, size, "sqlite:%s?synchronous=normal", db);
	ok = mkdir(path, 0700) == 0 && synth_fleet(url, 4, &sh, &err) == 0;
	CHECK(ok, "store %s: %s", sub, err.message);
	return ok;
}

/* The -wal file's size, or 0. */
static long long wal_size(const char *db)
{
	char wal[160];
	struct stat st;

	snprintf(wal, sizeof(wal), "%s-wal", db);
	return stat(wal, &st) == 0 ? (long long)st.st_size : 0;
}

/* One round: GUESTS placed (one vCPU each) and released again.  False on an error. */
static bool round_trip(np_fleet *f, long n, struct np_error *err)
{
	np_request *r = NULL;
	bool ok = np_request_from_flavor_text("vcpus=1,ram=256", NULL, &r, err) == 0;
	char id[GUESTS][48];

	for (int i = 0; ok && i < GUESTS; i++) {
		np_fleet_result *res = NULL;

		snprintf(id[i], sizeof(id[i]), "g%ld-%d", n, i);
		ok = np_fleet_schedule(f, id[i], r, NULL, &res, err) == 0 &&
		     np_fleet_result_placed(res);
		if (!err->message[0] && !ok)
			snprintf(err->message, sizeof(err->message), "'%s' was not placed", id[i]);
		np_fleet_result_free(res);
	}
	for (int i = 0; ok && i < GUESTS; i++) {
		bool found = false;

		ok = np_fleet_release(f, id[i], &found, err) == 0 && found;
	}
	np_request_free(r);
	return ok;
}

/* ---- readers ------------------------------------------------------------------ */

struct reader {
	pthread_t th;
	const char *db;
	long hold_us;	 /* each read transaction's length; < 0: one, until told to stop */
	atomic_bool *stop;
	long reads;
	char why[200];	 /* what failed, or "" */
};

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Read transactions one after the other on a connection of its own: a
 * read of np_hosts opens the snapshot (and takes a WAL read mark), held
 * for hold_us before COMMIT ends it.
 */
static void *read_loop(void *arg)
{
	struct reader *r = arg;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(r->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(r->why, sizeof(r->why), "open: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	while (!atomic_load(r->stop)) {
		if (sqlite3_exec(db, "BEGIN; SELECT count(*) FROM np_hosts", NULL, NULL, NULL)) {
			snprintf(r->why, sizeof(r->why), "read: %s", sqlite3_errmsg(db));
			break;
		}
		if (r->hold_us < 0)
			while (!atomic_load(r->stop))
				sleep_us(1000);
		else
			sleep_us(r->hold_us);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		r->reads++;
	}
	sqlite3_close(db);
	return NULL;
}

static bool readers_start(struct reader *rd, int n, const char *db, long hold_us,
			  atomic_bool *stop)
{
	bool ok = true;

	for (int i = 0; i < n; i++) {
		rd[i] = (struct reader){ .db = db, .hold_us = hold_us, .stop = stop };
		ok = ok && pthread_create(&rd[i].th, NULL, read_loop, &rd[i]) == 0;
		sleep_us(hold_us > 0 ? hold_us / n : 1000); /* staggered: they overlap */
	}
	return ok;
}

static void readers_stop(struct reader *rd, int n, atomic_bool *stop)
{
	atomic_store(stop, true);
	for (int i = 0; i < n; i++) {
		pthread_join(rd[i].th, NULL);
		CHECK(!rd[i].why[0], "reader %d: %s", i, rd[i].why);
		CHECK(rd[i].reads > 0, "reader %d read nothing", i);
	}
}

/*
 * Rounds on F until the writes came to TOTAL bytes of WAL; the largest
 * -wal size seen into *MAX.  *PER is a lower bound of a round's bytes: 0
 * at first, measured here from an empty WAL.  False on an error.
 */
static bool write_for(np_fleet *f, const char *db, long long total, long long *per,
		      long long *max, long *rounds, struct np_error *err)
{
	for (long n = 0;; n++) {
		long long sz;

		if (!round_trip(f, *rounds + n, err))
			return false;
		sz = wal_size(db);
		*max = sz > *max ? sz : *max;
		if (!*per && sz >= CALIBRATE)
			*per = sz / (n + 1);
		if (*per && (n + 1) * *per >= total) {
			*rounds += n + 1;
			return true;
		}
	}
}

/* ---- bounded ---------------------------------------------------------------- */

static void bounded(void)
{
	char url[200], db[160];
	struct np_error err = { 0 };
	struct reader rd[READERS];
	atomic_bool stop = false;
	np_fleet *f = NULL;
	long long max = 0, per = 0;
	long rounds = 0;

	if (!new_store("bounded", url, sizeof(url), db, sizeof(db)))
		return;
	CHECK(np_fleet_open(url, 0, &f, &err) == 0, "open: %s", err.message);
	if (!f)
		return;
	CHECK(readers_start(rd, READERS, db, 1500, &stop), "reader threads");
	CHECK(write_for(f, db, WRITES_PER_BOUND * WAL_MAX, &per, &max, &rounds, &err),
	      "claims and releases: %s", err.message);
	readers_stop(rd, READERS, &stop);
	printf("bounded: %ld rounds of at least %lld bytes each, the -wal file at most %lld\n",
	       rounds, per, max);
	CHECK(max <= WAL_MAX, "the -wal file reached %lld bytes (bound %lld) in %ld rounds "
	      "that wrote at least %lld", max, WAL_MAX, rounds, WRITES_PER_BOUND * WAL_MAX);
	np_fleet_close(f);
}

/* ---- long-reader ------------------------------------------------------------ */

static void long_reader(void)
{
	char url[200], db[160];
	struct np_error err = { 0 };
	struct reader rd[1];
	atomic_bool stop = false;
	np_fleet *f = NULL;
	long long max = 0, per = 0, pinned;
	long rounds = 0;

	if (!new_store("long", url, sizeof(url), db, sizeof(db)))
		return;
	CHECK(np_fleet_open(url, 0, &f, &err) == 0, "open: %s", err.message);
	if (!f)
		return;
	CHECK(readers_start(rd, 1, db, -1, &stop), "reader thread");
	CHECK(write_for(f, db, 2 * WAL_MAX, &per, &max, &rounds, &err), "claims and releases beside "
	      "a reader that stays: %s", err.message);
	readers_stop(rd, 1, &stop);
	pinned = wal_size(db);
	CHECK(pinned > WAL_MAX, "a reader that stays keeps the WAL: %lld bytes", pinned);
	/* Gone: a checkpoint CKPT_EVERY frames on restarts the WAL, and its first commit cuts it. */
	max = 0;
	CHECK(write_for(f, db, WAL_MAX / 2, &per, &max, &rounds, &err), "claims and releases after it: %s",
	      err.message);
	CHECK(wal_size(db) <= WAL_MAX, "the -wal file is %lld bytes after the reader went "
	      "(bound %lld)", wal_size(db), WAL_MAX);
	np_fleet_close(f);
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/np-store-wal-XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	T_CASE("bounded", bounded());
	T_CASE("long-reader", long_reader());
	t_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done();
}
