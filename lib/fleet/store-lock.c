/*
 * store-lock.c - the write lock numaplace processes hand to each other on
 * one sqlite: store (store-lock.h): a process-shared robust mutex in a
 * page-sized file beside the database, PATH-nplock.
 *
 * Why a mutex and not an OFD lock (fcntl F_OFD_SETLKW): both wake a
 * waiter when the holder lets go and both are freed when the holder dies,
 * but an OFD lock cannot be waited for with a time limit (only a signal
 * interrupts it, and a library owns no signals), so a hung holder would
 * hang every waiter; pthread_mutex_clocklock() keeps today's 30 s limit,
 * and an uncontended take or give costs no system call.
 *
 * The file is hostile input (the service may run as root): opened with
 * O_NOFOLLOW, and refused unless it is a regular file of ours with one
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
struct wl_file {
	char magic[8];
	uint32_t version;
	uint32_t size;
	char boot[WL_BOOT];
	pthread_mutex_t mu;
	_Atomic int64_t ckpt_at; /* the WAL's frames when the last checkpoint was claimed */
};

_Static_assert(sizeof(struct wl_file) <= WL_SIZE, "the lock's header fits its page");

struct np__wlock {
	struct wl_file *f;
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

/* NAME's stat SB as a lock file we may use: 0, or NP_EINPUT saying why not. */
static int refuse(const char *name, const struct stat *sb, struct np_error *err)
{
	const char *why = S_ISLNK(sb->st_mode)	      ? "is a symbolic link"
			  : !S_ISREG(sb->st_mode)     ? "is not a regular file"
			  : sb->st_uid != geteuid()   ? "belongs to another user"
			  : (sb->st_mode & 022) != 0  ? "is writable by group or others"
			  : sb->st_nlink != 1	      ? "has more than one link"
			  : sb->st_size != 0 && sb->st_size != WL_SIZE ? "has the wrong size"
									: NULL;

	return why ? np__err(err, NP_EINPUT, "lock file '%s' %s", name, why) : 0;
}

/* A fresh header and mutex in F (the file's flock held). */
static int init_file(struct wl_file *f, const char *boot)
{
	pthread_mutexattr_t a;
	int rc;

	memset(f, 0, sizeof(*f));
	if (pthread_mutexattr_init(&a))
		return -1;
	rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) ||
	     pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) ||
	     /* error-checking: a thread that holds it (another connection) is told so */
	     pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK) ||
	     pthread_mutex_init(&f->mu, &a);
	pthread_mutexattr_destroy(&a);
	if (rc)
		return -1;
	f->version = WL_VERSION;
	f->size = WL_SIZE;
	memcpy(f->boot, boot, WL_BOOT);
	atomic_thread_fence(memory_order_release);
	memcpy(f->magic, WL_MAGIC, sizeof(f->magic));
	return 0;
}

/* Map FD (its flock held) and check or make its header. */
static int map_file(struct np__wlock *l, int fd, const char *boot, struct np_error *err)
{
	static const char zero[sizeof(struct wl_file)];
	struct stat sb;
	struct wl_file *f;
	int rc;

	if (fstat(fd, &sb))
		return np__err(err, NP_EOS, "lock file '%s': %s", l->name, strerror(errno));
	if ((rc = refuse(l->name, &sb, err)))
		return rc;
	if (sb.st_size == 0 && ftruncate(fd, WL_SIZE))
		return np__err(err, NP_EOS, "lock file '%s': %s", l->name, strerror(errno));
	f = mmap(NULL, WL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (f == MAP_FAILED)
		return np__err(err, NP_EOS, "lock file '%s': %s", l->name, strerror(errno));
	l->f = f;
	if (!memcmp(f, zero, sizeof(zero)) ||
	    (!memcmp(f->magic, WL_MAGIC, sizeof(f->magic)) && f->version == WL_VERSION &&
	     f->size == WL_SIZE && memcmp(f->boot, boot, WL_BOOT) != 0))
		return init_file(f, boot) ? np__err(err, NP_EOS, "lock file '%s': cannot "
						    "make its mutex", l->name) : 0;
	if (memcmp(f->magic, WL_MAGIC, sizeof(f->magic)) || f->version != WL_VERSION ||
	    f->size != WL_SIZE)
		return np__err(err, NP_EINPUT, "lock file '%s' is not a numaplace lock file "
			       "(of this version)", l->name);
	return 0;
}

/*
 * Open NAME for L: the fd, or -1 with *RC 0 (go without the lock) or an
 * error.  A file we cannot open is checked before we fall back, so another
 * user's file is refused rather than quietly skipped.
 */
static int open_file(struct np__wlock *l, bool create, int *rc, struct np_error *err)
{
	int fd = open(l->name, O_RDWR | (create ? O_CREAT : 0) | O_NOFOLLOW | O_CLOEXEC |
				       O_NOCTTY | O_NONBLOCK, 0600);
	int e = errno;
	struct stat sb;

	*rc = 0;
	if (fd >= 0)
		return fd;
	if (e == ENOENT && !create)
		return -1;
	if (e == ELOOP) {
		*rc = np__err(err, NP_EINPUT, "lock file '%s' is a symbolic link", l->name);
		return -1;
	}
	if (lstat(l->name, &sb) == 0 && (*rc = refuse(l->name, &sb, err)) != 0)
		return -1;
	if (e != EACCES && e != EPERM && e != EROFS) /* else: cannot be made here */
		*rc = np__err(err, NP_EOS, "lock file '%s': %s", l->name, strerror(e));
	return -1;
}

int np__wlock_open(const char *db, bool create, struct np__wlock **out, struct np_error *err)
{
	struct np__wlock *l = calloc(1, sizeof(*l));
	size_t len = strlen(db) + sizeof("-nplock");
	char boot[WL_BOOT];
	int fd, rc = 0;

	*out = NULL;
	if (!l || !(l->name = malloc(len))) {
		free(l);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	np__wlock_name(db, l->name, len);
	/* No boot id (no /proc): a stale owner could not be told, so no lock. */
	if (boot_id(boot) && (fd = open_file(l, create, &rc, err)) >= 0) {
		if (flock(fd, LOCK_EX))
			rc = np__err(err, NP_EOS, "lock file '%s': %s", l->name, strerror(errno));
		else
			rc = map_file(l, fd, boot, err);
		/* Let go of the flock by hand: the mapping keeps the file open. */
		flock(fd, LOCK_UN);
		close(fd);
		if (!rc) {
			*out = l;
			return 0;
		}
	}
	np__wlock_close(l);
	return rc;
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
	if (rc == EOWNERDEAD) /* its holder died: SQLite rolled its transaction back */
		rc = pthread_mutex_consistent(&l->f->mu);
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
	free(l->name);
	free(l);
}
