/*
 * store-lock.h - the write lock that numaplace processes hand to each
 * other on one sqlite: store (store-lock.c), taken before SQLite's own.
 *
 * SQLite's writer lock has no waiting list: a writer that finds it held
 * sleeps in its busy handler and polls, so the lock is often free while
 * every waiter sleeps.  This lock is a process-shared robust mutex in a
 * small file beside the database (PATH-nplock): a waiter sleeps in the
 * kernel and is woken when the holder lets go.  SQLite's lock stays the
 * real one (and the only one writers outside numaplace take); this one
 * only orders numaplace's own writers before they reach it.
 *
 * One np__wlock per connection; np__wlock_take() and np__wlock_give() on
 * the same thread (a mutex belongs to the thread that locked it).
 */
#ifndef NP_FLEET_STORE_LOCK_H
#define NP_FLEET_STORE_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/error.h>

#include "fleet/ledger.h"

struct np__wlock;

/* The lock file of DB (DB-nplock): its name in BUF (SIZE bytes); false when too long. */
bool np__wlock_name(const char *db, char *buf, size_t size);

/*
 * Open DB's lock file, making it (0600) when missing and CREATE.  0 and
 * *OUT; 0 and *OUT NULL when it is missing and not CREATE, or cannot be
 * made or written here (a read-only folder or file system, a file mode
 * without write): the caller then waits in SQLite's busy handler as
 * before.  NP_EINPUT with one line naming the file when it is hostile or
 * not ours: a symbolic link, not a regular file, another user's, writable
 * by group or others, more than one link, the wrong size or content.
 * NP_ENOMEM, NP_EOS.
 */
int np__wlock_open(const char *db, bool create, struct np__wlock **out, struct np_error *err);

/*
 * Wait for the lock, at most WAIT_MS milliseconds.  0: taken (also when
 * its last holder died holding it: SQLite rolled that holder's transaction
 * back).  1: not taken, because this thread holds it already (through
 * another connection): go on without it.  NP_EOS after WAIT_MS, or when
 * the lock is broken; the message names the file.
 */
int np__wlock_take(struct np__wlock *l, long wait_ms, struct np_error *err);

/*
 * The waits of L's next np__wlock_take() calls end by UNTIL too
 * (CLOCK_MONOTONIC, nanoseconds), whichever comes first; 0: WAIT_MS alone.
 */
void np__wlock_until(struct np__wlock *l, int64_t until);

/* Let the lock go (taken with np__wlock_take() == 0 on this thread). */
void np__wlock_give(struct np__wlock *l);

/*
 * After a commit that left FRAMES frames in the WAL: true when the WAL
 * has grown by EVERY frames since the last checkpoint any connection of
 * any process claimed here, and this call claimed the next one (one
 * caller per EVERY frames).  Else each connection whose commit found the
 * WAL past EVERY frames checkpointed again (docs/bench/service.md).
 */
bool np__wlock_checkpoint_due(struct np__wlock *l, int frames, int every);

/*
 * The change ring (PATH-npring, beside the lock file): the hosts each
 * commit of numaplace's writers changed, in commit order, so that another
 * connection (of any process) learns what changed since it last looked
 * without a statement of its own, and most often what the change was: a
 * claim's takes and pins, or what a release gave back (store-sqlite.c,
 * sq_hosts; fleet.c applies it to a summary one generation older).  An
 * id below 0 is a change the ring cannot name (a host added or removed, a
 * new schema): the reader then asks the store.  Only the write lock's
 * holder adds.
 */
#define NP__WRING 2048 /* changes the ring holds */
#define NP__WTAKES 8   /* a change with more takes or pins says only that it was */
#define NP__WPINS 32

enum np__wchange_kind {
	NP__WCHANGE_ONLY,    /* changed; what it was, read from the store */
	NP__WCHANGE_CLAIM,   /* TAKES and PINS were charged */
	NP__WCHANGE_RELEASE, /* TAKES and PINS were given back */
};

struct np__wchange {
	int64_t id, generation, seq; /* the host, its new generation and change mark */
	int kind;		     /* enum np__wchange_kind */
	int ntakes, npins;
	struct np__take takes[NP__WTAKES];
	struct np__pin pins[NP__WPINS];
};

/* Add the N changes of a commit (this thread holds the lock).  No ring: nothing. */
void np__wlock_changes_add(struct np__wlock *l, const struct np__wchange *c, int n);

/* The ring's position now: where the next change will go (0 without a ring). */
uint64_t np__wlock_changes_at(struct np__wlock *l);

/*
 * The change at POS into *OUT: 1; 0 when there is none yet (POS is where
 * the next will go); -1 when the ring cannot tell (it was overwritten
 * before it was read, a holder died inside its commit, or there is no
 * ring): then ask the store.
 */
int np__wlock_change(struct np__wlock *l, uint64_t pos, struct np__wchange *out);

/*
 * For tests: the mutex's futex word (glibc keeps it first in a
 * pthread_mutex_t), to put the lock in states that only races reach.
 */
unsigned *np__wlock_futex(struct np__wlock *l);

/* Unmap it.  NULL does nothing; the file stays for the other processes. */
void np__wlock_close(struct np__wlock *l);

#endif
