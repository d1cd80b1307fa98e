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
 * Turns (the rest of the page, version 2): a mutex is not fair, and the
 * process that just gave it back is still running when the waiter it woke
 * has yet to be scheduled, so a replica with claims queued took it again
 * and again while another replica's claims waited (12-14 % of the takes
 * with three replicas).  So a taker whose own process took it last, while
 * a thread of another process waits for it, steps aside until anyone else
 * has taken it, for NP__WLOCK_ASIDE_MS at most.  A waiter says so by holding one
 * of WL_SLOTS robust mutexes (its pid beside it) while it waits: a waiter
 * killed with SIGKILL lets go of its slot as a holder lets go of the lock
 * (the kernel marks it, the next trylock gets EOWNERDEAD and clears it),
 * so nobody steps aside for a ghost, zombies and pid namespaces included.
 * Those stepping aside sleep on the take counter (a futex word), and the
 * next taker wakes them when the count of sleepers is not zero, zeroing
 * it: a sleeper killed or timed out costs that one wake, never a wait.
 * A version-1 file (numaplace before the turns) of this boot is made anew:
 * the replicas of one store are upgraded together.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fleet/store-lock.h"
#include "util/util.h"

#define WL_MAGIC "NPWLOCK"
#define WL_VERSION 2
#define WL_SIZE 4096 /* the file's size: one page */
#define WL_BOOT 40   /* a boot id is 36 characters */
#define WL_SLOTS 32  /* waiters noted at once; more wait unnoted */

/* A waiter's note: MU held while it waits, PID its process (0: none). */
struct wl_slot {
	pthread_mutex_t mu;
	_Atomic int32_t pid;
};

struct wl_file {
	char magic[8];
	uint32_t version;
	uint32_t size;
	char boot[WL_BOOT];
	pthread_mutex_t mu;
	_Atomic int32_t last;	/* the pid that took mu last */
	_Atomic uint32_t takes; /* bumped by every take; a futex word */
	_Atomic uint32_t aside; /* takers asleep on takes, stepping aside */
	struct wl_slot slot[WL_SLOTS];
};

_Static_assert(sizeof(struct wl_file) <= WL_SIZE, "the lock's header fits its page");

struct np__wlock {
	struct wl_file *f;
	char *name;
	int32_t pid; /* ours, noted at open (getpid() is a system call) */
	struct np__wlock_stats st;
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

/* A robust process-shared mutex at M, of TYPE. */
static int make_mutex(pthread_mutex_t *m, int type)
{
	pthread_mutexattr_t a;
	int rc;

	if (pthread_mutexattr_init(&a))
		return -1;
	rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) ||
	     pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) ||
	     pthread_mutexattr_settype(&a, type) || pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc ? -1 : 0;
}

/* A fresh header, mutex and slots in F (the file's flock held). */
static int init_file(struct wl_file *f, const char *boot)
{
	memset(f, 0, sizeof(*f));
	/* error-checking: a thread that holds it (another connection) is told so */
	if (make_mutex(&f->mu, PTHREAD_MUTEX_ERRORCHECK))
		return -1;
	for (int i = 0; i < WL_SLOTS; i++)
		if (make_mutex(&f->slot[i].mu, PTHREAD_MUTEX_NORMAL))
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
	    (!memcmp(f->magic, WL_MAGIC, sizeof(f->magic)) && f->size == WL_SIZE &&
	     (f->version == 1 || (f->version == WL_VERSION && memcmp(f->boot, boot, WL_BOOT)))))
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
	l->pid = (int32_t)getpid();
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

/* ---- turns ------------------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Note a thread of ours as waiting: the slot it holds now, or -1 when all are held. */
static int note_waiting(struct np__wlock *l)
{
	for (int i = 0; i < WL_SLOTS; i++) {
		int rc = pthread_mutex_trylock(&l->f->slot[i].mu);

		if (rc == EOWNERDEAD) /* its waiter died: ours now */
			rc = pthread_mutex_consistent(&l->f->slot[i].mu);
		if (rc == 0) {
			atomic_store(&l->f->slot[i].pid, l->pid);
			return i;
		}
	}
	return -1;
}

static void note_done(struct np__wlock *l, int i)
{
	atomic_store(&l->f->slot[i].pid, 0);
	pthread_mutex_unlock(&l->f->slot[i].mu);
}

/*
 * Does a thread of another process wait?  Its slot is held; a slot whose
 * waiter died (EOWNERDEAD) is cleared here, a free one let go at once.
 */
static bool others_wait(struct np__wlock *l)
{
	for (int i = 0; i < WL_SLOTS; i++) {
		struct wl_slot *sl = &l->f->slot[i];
		int32_t pid = atomic_load(&sl->pid);
		int rc;

		if (pid == 0 || pid == l->pid)
			continue;
		rc = pthread_mutex_trylock(&sl->mu);
		if (rc == EBUSY)
			return true;
		if (rc == EOWNERDEAD) {
			atomic_store(&sl->pid, 0);
			rc = pthread_mutex_consistent(&sl->mu);
		}
		if (rc == 0)
			pthread_mutex_unlock(&sl->mu);
	}
	return false;
}

bool np__wlock_others_wait(struct np__wlock *l)
{
	return others_wait(l);
}

/*
 * Our process took the lock last and another waits: let it go first,
 * until anyone else takes the lock or NP__WLOCK_ASIDE_MS pass.
 */
static void step_aside(struct np__wlock *l)
{
	uint32_t seen = atomic_load(&l->f->takes);
	int64_t t0, end, left;

	if (atomic_load(&l->f->last) != l->pid || !others_wait(l))
		return;
	t0 = now_ns();
	end = t0 + NP__WLOCK_ASIDE_MS * 1000000LL;
	while (atomic_load(&l->f->takes) == seen && (left = end - now_ns()) > 0) {
		struct timespec ts = { left / 1000000000, left % 1000000000 };

		/* counted before the count is looked at again: the next taker wakes us */
		atomic_fetch_add(&l->f->aside, 1);
		if (atomic_load(&l->f->takes) != seen)
			break;
		syscall(SYS_futex, &l->f->takes, FUTEX_WAIT, seen, &ts, NULL, 0);
	}
	l->st.asides++;
	l->st.aside_ns += now_ns() - t0;
}

/* Taken: counted, and anyone stepping aside for this take woken. */
static void taken(struct np__wlock *l, int64_t waited_ns)
{
	int b = 0;

	if (atomic_exchange(&l->f->last, l->pid) == l->pid && others_wait(l))
		l->st.retakes++;
	atomic_fetch_add(&l->f->takes, 1);
	if (atomic_exchange(&l->f->aside, 0)) /* zeroed: one left by a dead sleeper heals */
		syscall(SYS_futex, &l->f->takes, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	l->st.takes++;
	if (waited_ns < 0)
		return;
	l->st.waits++;
	l->st.wait_ns += waited_ns;
	if (waited_ns > l->st.wait_max_ns)
		l->st.wait_max_ns = waited_ns;
	for (int64_t us = waited_ns / 1000; us > 0 && b < NP__WLOCK_BUCKETS - 1; us >>= 1)
		b++;
	l->st.wait_hist[b]++;
}

/* The mutex, waited for until DEADLINE (CLOCK_MONOTONIC); *WAITED_NS -1 when free at once. */
static int lock_mutex(struct np__wlock *l, const struct timespec *deadline, int64_t *waited_ns)
{
	int rc = pthread_mutex_trylock(&l->f->mu), slot;
	int64_t t0;

	*waited_ns = -1;
	if (rc != EBUSY)
		return rc;
	t0 = now_ns();
	slot = note_waiting(l);
	rc = pthread_mutex_clocklock(&l->f->mu, CLOCK_MONOTONIC, deadline);
	if (slot >= 0)
		note_done(l, slot);
	*waited_ns = now_ns() - t0;
	return rc;
}

int np__wlock_take(struct np__wlock *l, long wait_ms, struct np_error *err)
{
	struct timespec t;
	int64_t waited;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += wait_ms / 1000;
	t.tv_nsec += wait_ms % 1000 * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	step_aside(l);
	rc = lock_mutex(l, &t, &waited);
	if (rc == EOWNERDEAD) /* its holder died: SQLite rolled its transaction back */
		rc = pthread_mutex_consistent(&l->f->mu);
	if (rc == 0) {
		taken(l, waited);
		return 0;
	}
	if (rc == EDEADLK)
		return 1;
	if (rc == ETIMEDOUT)
		return np__err(err, NP_EOS, "the store's write lock '%s' was held for more than "
			       "%ld s", l->name, wait_ms / 1000);
	return np__err(err, NP_EOS, "lock file '%s': %s", l->name, strerror(rc));
}

void np__wlock_give(struct np__wlock *l)
{
	pthread_mutex_unlock(&l->f->mu);
}

void np__wlock_stats(const struct np__wlock *l, struct np__wlock_stats *st)
{
	*st = l->st;
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
