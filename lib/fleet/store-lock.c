/*
 * store-lock.c - the write lock numaplace processes hand to each other on
 * one sqlite: store (store-lock.h): a process-shared robust mutex in a
 * page-sized file beside the database, PATH-nplock; and the change ring
 * its holders write, in a file of its own, PATH-npring (below, struct
 * wr_file).
 *
 * Why a mutex and not an OFD lock (fcntl F_OFD_SETLKW): both wake a
 * waiter when the holder lets go and both are freed when the holder dies,
 * but an OFD lock cannot be waited for with a time limit (only a signal
 * interrupts it, and a library owns no signals), so a hung holder would
 * hang every waiter; pthread_mutex_clocklock() keeps today's 30 s limit,
 * and an uncontended take or give costs no system call.
 *
 * The files are hostile input (the service may run as root): opened with
 * O_NOFOLLOW, and refused unless each is a regular file of ours with one
 * link, not writable by group or others, of the right size and content.
 * Its header: a magic, a version, its size and the boot it was made in
 * (/proc/sys/kernel/random/boot_id).  A mutex from another boot may name
 * a dead thread as its owner that no robust-list walk will ever clear, so
 * a file from another boot is made anew; so is a new (empty or all-zero)
 * file.  Both under flock(LOCK_EX), so two processes starting at once do
 * not both initialise it, and nobody of this boot uses a header it
 * rewrites (they all saw this boot's id).
 *
 * When the holder dies, the kernel marks the mutex and the next taker gets
 * EOWNERDEAD: SQLite has already rolled the dead holder's transaction back
 * (its WAL frames were never committed), so the lock is simply made
 * consistent and taken.  Where it cannot be made (a read-only folder) the
 * store works without it, on SQLite's busy handler alone.
 *
 * A waiter killed after it was woken can leave the others asleep: the
 * holder's unlock clears the futex's waiters bit and wakes one waiter,
 * which is to set the bit again when it takes the mutex.  Killed before
 * it runs, it never does; the kernel, seeing the dead task's pending
 * lock, wakes another waiter only when the mutex is still free, not when
 * a fresh taker (often the process that just let go) holds it by then.
 * That taker's unlock sees no waiters bit and wakes nobody, and while no
 * new waiter comes, the sleepers sleep to their limit.  With two
 * replicas left, one replica's batch leader (its only waiter) then sleeps
 * 30 s while the other takes and gives the lock alone: what we take to be
 * the 30 s stall seen once in service-concurrency-sqlite, where a replica
 * is SIGKILLed (its logs were lost; the race itself is forced with real
 * processes in tests/unit/test-store-lock.c woken-waiter-killed).  So a
 * waiter sleeps at most WL_SLICE_MS at a time and then tries again,
 * which takes a free mutex or sets the bit anew: a lost wake-up costs one
 * slice.  Waits that long are few (the last session's counters with three
 * replicas: 2.2 ms on average, the longest 16-140 ms per run), so few
 * waiters ever wake up early.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fleet/store-lock.h"
#include "util/util.h"

#define WL_MAGIC "NPWLOCK"
#define WL_VERSION 1
#define WL_SIZE 4096 /* the file's size: one page */
#define WL_BOOT 40   /* a boot id is 36 characters */
/* The longest single sleep of a waiter: what a lost wake-up can cost it. */
#define WL_SLICE_MS 100

/*
 * CKPT_AT (np__wlock_checkpoint_due) follows version 1's header in the
 * same page: a file made before it has zeros there, which is its start,
 * so the file stays version 1 and older processes (which never touch
 * it) can share it.
 */
struct wl_head {
	char magic[8];
	uint32_t version;
	uint32_t size;
	char boot[WL_BOOT];
};

struct wl_file {
	struct wl_head h;
	pthread_mutex_t mu;
	_Atomic int64_t ckpt_at; /* the WAL's frames when the last checkpoint was claimed */
};

_Static_assert(sizeof(struct wl_file) <= WL_SIZE, "the lock's header fits its page");

/*
 * The change ring's file, PATH-npring (its own file: the lock file keeps
 * the size older processes check).  Its header is the lock file's, with
 * the ring's magic; each slot is one struct np__wchange, kept as words
 * that are read and written one at a time (atomically: a reader may meet
 * a writer).
 *
 * A seqlock with one writer, the lock's holder: it moves RESERVED past
 * the slots it is about to write, writes them, then moves HEAD.  A reader
 * copies a slot below HEAD, then checks that RESERVED has not come round
 * to it: if it has, the copy may be half-new, and it asks the store.  A
 * process older than the ring commits without adding to it: a reader
 * sees that as a change mark skipped (store-sqlite.c).
 */
#define WR_MAGIC "NPWRING"
#define WR_WORDS ((sizeof(struct np__wchange) + 7) / 8)

struct wr_file {
	struct wl_head h;
	_Atomic uint64_t reserved; /* slots up to here may be being written */
	_Atomic uint64_t head;	   /* slots before here are written */
	_Atomic uint64_t slot[NP__WRING][WR_WORDS]; /* change I in slot I % NP__WRING */
};

#define WR_SIZE ((sizeof(struct wr_file) + 4095) / 4096 * 4096)

/* What differs between the two files. */
struct wl_kind {
	const char *suffix, *magic, *what;
	size_t size;			      /* the file's */
	int (*init)(void *f, const char *boot); /* all but the header (the file's flock held) */
};

struct np__wlock {
	struct wl_file *f;
	struct wr_file *r; /* the change ring, or NULL */
	char *name;
	int64_t until; /* monotonic ns at which waits end too, or 0 (np__wlock_until) */
};

bool np__wlock_name(const char *db, char *buf, size_t size)
{
	return (size_t)snprintf(buf, size, "%s-nplock", db) < size;
}

/* This boot's id into BOOT (WL_BOOT bytes, zero-padded); false when unknown. */
static bool boot_id(char *boot)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	memset(boot, 0, WL_BOOT);
	if (fd < 0)
		return false;
	n = read(fd, boot, WL_BOOT - 1);
	close(fd);
	while (n > 0 && (boot[n - 1] == '\n' || boot[n - 1] == '\0'))
		boot[--n] = '\0';
	return n > 0;
}

/* NAME's stat SB as a file of kind K we may use: 0, or NP_EINPUT saying why not. */
static int refuse(const struct wl_kind *k, const char *name, const struct stat *sb,
		  struct np_error *err)
{
	const char *why = S_ISLNK(sb->st_mode)	      ? "is a symbolic link"
			  : !S_ISREG(sb->st_mode)     ? "is not a regular file"
			  : sb->st_uid != geteuid()   ? "belongs to another user"
			  : (sb->st_mode & 022) != 0  ? "is writable by group or others"
			  : sb->st_nlink != 1	      ? "has more than one link"
			  : sb->st_size != 0 && (size_t)sb->st_size != k->size ? "has the wrong size"
									       : NULL;

	return why ? np__err(err, NP_EINPUT, "%s '%s' %s", k->what, name, why) : 0;
}

/* A fresh mutex in the lock file F. */
static int init_lock(void *p, const char *boot)
{
	struct wl_file *f = p;
	pthread_mutexattr_t a;
	int rc;

	(void)boot;
	if (pthread_mutexattr_init(&a))
		return -1;
	rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) ||
	     pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) ||
	     /* error-checking: a thread that holds it (another connection) is told so */
	     pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK) ||
	     pthread_mutex_init(&f->mu, &a);
	pthread_mutexattr_destroy(&a);
	return rc ? -1 : 0;
}

/* An empty change ring (the zeros of a fresh file or of memset). */
static int init_ring(void *p, const char *boot)
{
	(void)p, (void)boot;
	return 0;
}

static const struct wl_kind lock_kind = { "-nplock", WL_MAGIC, "lock file", WL_SIZE, init_lock };
static const struct wl_kind ring_kind = { "-npring", WR_MAGIC, "change ring file", WR_SIZE,
					  init_ring };

/* A fresh file of kind K at F (its flock held): zeros, then K's part, then the header. */
static int init_file(const struct wl_kind *k, struct wl_head *f, const char *boot)
{
	memset(f, 0, k->size);
	if (k->init(f, boot))
		return -1;
	f->version = WL_VERSION;
	f->size = (uint32_t)k->size;
	memcpy(f->boot, boot, WL_BOOT);
	atomic_thread_fence(memory_order_release);
	memcpy(f->magic, k->magic, sizeof(f->magic));
	return 0;
}

/* Map FD, file NAME of kind K (its flock held), into *OUT and check or make its header. */
static int map_file(const struct wl_kind *k, const char *name, int fd, const char *boot,
		    void **out, struct np_error *err)
{
	static const char zero[sizeof(struct wl_file)];
	struct stat sb;
	struct wl_head *f;
	int rc;

	if (fstat(fd, &sb))
		return np__err(err, NP_EOS, "%s '%s': %s", k->what, name, strerror(errno));
	if ((rc = refuse(k, name, &sb, err)))
		return rc;
	if (sb.st_size == 0 && ftruncate(fd, (off_t)k->size))
		return np__err(err, NP_EOS, "%s '%s': %s", k->what, name, strerror(errno));
	f = mmap(NULL, k->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (f == MAP_FAILED)
		return np__err(err, NP_EOS, "%s '%s': %s", k->what, name, strerror(errno));
	*out = f;
	if (!memcmp(f, zero, sizeof(zero)) ||
	    (!memcmp(f->magic, k->magic, sizeof(f->magic)) && f->version == WL_VERSION &&
	     f->size == k->size && memcmp(f->boot, boot, WL_BOOT) != 0))
		return init_file(k, f, boot) ? np__err(err, NP_EOS, "%s '%s': cannot make it",
						       k->what, name) : 0;
	if (memcmp(f->magic, k->magic, sizeof(f->magic)) || f->version != WL_VERSION ||
	    f->size != k->size)
		return np__err(err, NP_EINPUT, "%s '%s' is not a numaplace %s (of this version)",
			       k->what, name, k->what);
	return 0;
}

/*
 * Open NAME (of kind K): the fd, or -1 with *RC 0 (go without it) or an
 * error.  A file we cannot open is checked before we fall back, so another
 * user's file is refused rather than quietly skipped.
 */
static int open_file(const struct wl_kind *k, const char *name, bool create, int *rc,
		     struct np_error *err)
{
	int fd = open(name, O_RDWR | (create ? O_CREAT : 0) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
				    O_NONBLOCK, 0600);
	int e = errno;
	struct stat sb;

	*rc = 0;
	if (fd >= 0)
		return fd;
	if (e == ENOENT && !create)
		return -1;
	if (e == ELOOP) {
		*rc = np__err(err, NP_EINPUT, "%s '%s' is a symbolic link", k->what, name);
		return -1;
	}
	if (lstat(name, &sb) == 0 && (*rc = refuse(k, name, &sb, err)) != 0)
		return -1;
	if (e != EACCES && e != EPERM && e != EROFS) /* else: cannot be made here */
		*rc = np__err(err, NP_EOS, "%s '%s': %s", k->what, name, strerror(e));
	return -1;
}

/*
 * DB's file of kind K mapped into *OUT: 0 (*OUT NULL when it is missing
 * and not CREATE, or cannot be made here), or an error.  The header is
 * checked and made under flock(LOCK_EX), so two processes starting at
 * once do not both make it.
 */
static int open_kind(const struct wl_kind *k, const char *db, bool create, const char *boot,
		     void **out, struct np_error *err)
{
	size_t len = strlen(db) + strlen(k->suffix) + 1;
	char *name = malloc(len);
	int fd, rc = 0;

	*out = NULL;
	if (!name)
		return np__err(err, NP_ENOMEM, "out of memory");
	snprintf(name, len, "%s%s", db, k->suffix);
	if ((fd = open_file(k, name, create, &rc, err)) >= 0) {
		if (flock(fd, LOCK_EX))
			rc = np__err(err, NP_EOS, "%s '%s': %s", k->what, name, strerror(errno));
		else
			rc = map_file(k, name, fd, boot, out, err);
		/* Let go of the flock by hand: the mapping keeps the file open. */
		flock(fd, LOCK_UN);
		close(fd);
	}
	if (rc && *out) {
		munmap(*out, k->size);
		*out = NULL;
	}
	free(name);
	return rc;
}

int np__wlock_open(const char *db, bool create, struct np__wlock **out, struct np_error *err)
{
	struct np__wlock *l = calloc(1, sizeof(*l));
	size_t len = strlen(db) + sizeof("-nplock");
	char boot[WL_BOOT];
	void *f = NULL, *r = NULL;
	int rc = 0;

	*out = NULL;
	if (!l || !(l->name = malloc(len))) {
		free(l);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	np__wlock_name(db, l->name, len);
	/* No boot id (no /proc): a stale owner could not be told, so no lock. */
	if (boot_id(boot) && !(rc = open_kind(&lock_kind, db, create, boot, &f, err)) && f) {
		l->f = f;
		/*
		 * The ring is made wherever the lock is (a lock file made by a
		 * numaplace older than the ring gets one); without it (not to be
		 * made here) the lock still works, and so do its readers.
		 */
		if (!(rc = open_kind(&ring_kind, db, true, boot, &r, err))) {
			l->r = r;
			*out = l;
			return 0;
		}
	}
	np__wlock_close(l);
	return rc;
}

/*
 * A holder died, perhaps between its COMMIT and adding its changes: every
 * reader's next look finds the ring overwritten and asks the store.
 */
static void lose_changes(struct wr_file *r)
{
	uint64_t at;

	if (!r)
		return;
	at = atomic_load_explicit(&r->reserved, memory_order_relaxed) + NP__WRING + 1;
	atomic_store_explicit(&r->reserved, at, memory_order_relaxed);
	atomic_store_explicit(&r->head, at, memory_order_release);
}

/* T plus MS milliseconds. */
static struct timespec later(struct timespec t, long ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += ms % 1000 * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/*
 * One wait of at most WL_SLICE_MS, then again until END: a wake-up the
 * kernel never sends costs one slice, not the whole wait (see the top of
 * the file).  Each new call first tries to take a free mutex and, when it
 * is held, sets the waiters' bit again before it sleeps.
 */
static int wait_slices(pthread_mutex_t *mu, const struct timespec *end)
{
	struct timespec now, t;
	int rc;

	do {
		clock_gettime(CLOCK_MONOTONIC, &now);
		t = later(now, WL_SLICE_MS);
		if (before(end, &t))
			t = *end;
		rc = pthread_mutex_clocklock(mu, CLOCK_MONOTONIC, &t);
	} while (rc == ETIMEDOUT && before(&t, end));
	return rc;
}

void np__wlock_until(struct np__wlock *l, int64_t until)
{
	l->until = until > 0 ? until : 0;
}

int np__wlock_take(struct np__wlock *l, long wait_ms, struct np_error *err)
{
	struct timespec end, until = { (time_t)(l->until / 1000000000), (long)(l->until % 1000000000) };
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end = later(end, wait_ms);
	if (l->until && before(&until, &end))
		end = until;
	rc = wait_slices(&l->f->mu, &end);
	if (rc == EOWNERDEAD) { /* its holder died: SQLite rolled its transaction back */
		lose_changes(l->r);
		rc = pthread_mutex_consistent(&l->f->mu);
	}
	if (rc == 0)
		return 0;
	if (rc == EDEADLK)
		return 1;
	if (rc == ETIMEDOUT && end.tv_sec == until.tv_sec && end.tv_nsec == until.tv_nsec)
		return np__err_reason(err, NP_EOS, "deadline_exceeded", "the store's write lock "
				      "'%s' was still held at the deadline", l->name);
	if (rc == ETIMEDOUT)
		return np__err(err, NP_EOS, "the store's write lock '%s' was held for more than "
			       "%ld s", l->name, wait_ms / 1000);
	return np__err(err, NP_EOS, "lock file '%s': %s", l->name, strerror(rc));
}

void np__wlock_give(struct np__wlock *l)
{
	pthread_mutex_unlock(&l->f->mu);
}

bool np__wlock_checkpoint_due(struct np__wlock *l, int frames, int every)
{
	int64_t at = atomic_load(&l->f->ckpt_at);

	for (;;) {
		/* Fewer frames than the mark: the WAL was restarted since. */
		int64_t base = frames < at || at < 0 ? 0 : at;

		if (frames - base < every)
			return false;
		if (atomic_compare_exchange_weak(&l->f->ckpt_at, &at, (int64_t)frames))
			return true;
	}
}

void np__wlock_changes_add(struct np__wlock *l, const struct np__wchange *c, int n)
{
	struct wr_file *r = l->r;
	uint64_t at, w[WR_WORDS];

	if (!r)
		return;
	at = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_store_explicit(&r->reserved, at + (uint64_t)n, memory_order_relaxed);
	atomic_thread_fence(memory_order_release); /* RESERVED seen before any slot changes */
	for (int i = 0; i < n; i++) {
		_Atomic uint64_t *slot = r->slot[(at + (uint64_t)i) % NP__WRING];

		memset(w, 0, sizeof(w));
		memcpy(w, &c[i], sizeof(c[i]));
		for (size_t k = 0; k < WR_WORDS; k++)
			atomic_store_explicit(&slot[k], w[k], memory_order_relaxed);
	}
	atomic_store_explicit(&r->head, at + (uint64_t)n, memory_order_release);
}

/* C as np__wlock_changes_add() writes one: counts in range, names ended. */
static bool sane(const struct np__wchange *c)
{
	if (c->kind < NP__WCHANGE_ONLY || c->kind > NP__WCHANGE_RELEASE || c->ntakes < 0 ||
	    c->ntakes > NP__WTAKES || c->npins < 0 || c->npins > NP__WPINS)
		return false;
	for (int i = 0; i < c->ntakes; i++)
		if (!memchr(c->takes[i].rc, '\0', sizeof(c->takes[i].rc)))
			return false;
	return true;
}

uint64_t np__wlock_changes_at(struct np__wlock *l)
{
	return l->r ? atomic_load_explicit(&l->r->head, memory_order_acquire) : 0;
}

int np__wlock_change(struct np__wlock *l, uint64_t pos, struct np__wchange *out)
{
	struct wr_file *r = l->r;
	uint64_t head, w[WR_WORDS];
	_Atomic uint64_t *slot;

	if (!r)
		return -1;
	head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (pos == head)
		return 0;
	if (head < pos || head - pos > NP__WRING)
		return -1; /* overwritten already, or a ring made anew */
	slot = r->slot[pos % NP__WRING];
	for (size_t k = 0; k < WR_WORDS; k++)
		w[k] = atomic_load_explicit(&slot[k], memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire); /* the copy before RESERVED's read */
	if (atomic_load_explicit(&r->reserved, memory_order_relaxed) - pos > NP__WRING)
		return -1; /* a writer came round to it while we copied */
	memcpy(out, w, sizeof(*out));
	return sane(out) ? 1 : -1; /* else not a change we wrote: the file is not to be trusted */
}

unsigned *np__wlock_futex(struct np__wlock *l)
{
	return (unsigned *)(void *)&l->f->mu;
}

void np__wlock_close(struct np__wlock *l)
{
	if (!l)
		return;
	if (l->f)
		munmap(l->f, WL_SIZE);
	if (l->r)
		munmap(l->r, WR_SIZE);
	free(l->name);
	free(l);
}
