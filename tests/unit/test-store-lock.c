/*
 * test-store-lock.c - the write lock numaplace processes hand to each
 * other on a sqlite: store (lib/fleet/store-lock.c), with real processes
 * on a real SQLite file.
 *
 * Two processes contend and both finish; a holder killed with SIGKILL
 * while it holds the lock (and SQLite's, mid-transaction) does not stop
 * the next writer, and loses nothing it had committed; a waiter whose
 * wake-up was lost (a woken waiter SIGKILLed before it took the lock,
 * forced with real processes and with the futex word) still gets the
 * lock once it is free; claims and releases under a deadline
 * (np_fleet_set_deadline) fail and change nothing once it passes while
 * another process holds the lock; a lock file from
 * another boot is made anew; hostile lock files (a symbolic link, a FIFO,
 * a folder, another user's file, one writable by others, one with two
 * links, the wrong size, garbage) are refused with one line naming them
 * and are left as they were; a folder where the lock file cannot be made
 * works without it.  One WAL checkpoint per 1,000 frames, whichever
 * process commits.  A handle that only reads makes no lock file; one
 * closed in a write transaction gives the lock back only after SQLite
 * rolled it back (sqlite3_close_v2 is wrapped, tests/unit/meson.build).
 * Waits are for events (a pipe, waitpid), each under alarm() as a hang
 * guard; nothing is timed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <numaplace/numaplace.h>

#include "check.h"
#include "fleet/store-lock.h"
#include "fleet/store.h"
#include "np-config.h"

#define HANG_GUARD 240 /* seconds: a hang fails the test, it never blocks the suite */

static char dir[64];

/* A host of 2 nodes of 4 CPUs and 16 GiB. */
static np_topo *small_host(void)
{
	static const char json[] =
		"{\"schema\": \"numaplace.topology/1\", \"nodes\": ["
		"{\"id\": 0, \"cpus\": [0, 1, 2, 3], \"memory_mb\": {\"total\": 16384},"
		" \"distances\": [10, 21]},"
		"{\"id\": 1, \"cpus\": [4, 5, 6, 7], \"memory_mb\": {\"total\": 16384},"
		" \"distances\": [21, 10]}], \"cpus\": ["
		"{\"id\": 0, \"node\": 0, \"core\": 0, \"socket\": 0},"
		"{\"id\": 1, \"node\": 0, \"core\": 1, \"socket\": 0},"
		"{\"id\": 2, \"node\": 0, \"core\": 2, \"socket\": 0},"
		"{\"id\": 3, \"node\": 0, \"core\": 3, \"socket\": 0},"
		"{\"id\": 4, \"node\": 1, \"core\": 4, \"socket\": 1},"
		"{\"id\": 5, \"node\": 1, \"core\": 5, \"socket\": 1},"
		"{\"id\": 6, \"node\": 1, \"core\": 6, \"socket\": 1},"
		"{\"id\": 7, \"node\": 1, \"core\": 7, \"socket\": 1}]}";
	struct np_error err = { 0 };
	np_topo *t = NULL;

	CHECK(np_topo_parse(NP_SOURCE_JSON, json, strlen(json), "small", &t, &err) == 0, "%s",
	      err.message);
	return t;
}

/* A new store NAME in DIR (URL and its PATH filled) with HOSTS hosts. */
static bool new_store(const char *name, int hosts, char *path, char *url, size_t size)
{
	struct np_error err = { 0 };
	np_topo *t = small_host();
	np_fleet *f = NULL;
	char host[32];
	bool ok;

	snprintf(path, size, "%s/%s.db", dir, name);
	snprintf(url, size, "sqlite:%s", path);
	ok = t && np_fleet_open(url, NP_FLEET_CREATE, &f, &err) == 0;
	for (int i = 0; ok && i < hosts; i++) {
		snprintf(host, sizeof(host), "h%d", i);
		ok = np_fleet_add_host(f, host, t, NULL, NULL, &err) == 0;
	}
	CHECK(ok, "store %s: %s", name, err.message);
	np_fleet_close(f);
	np_topo_free(t);
	return ok;
}

/* Schedule ID (one vCPU) on F: placed or not. */
static bool place(np_fleet *f, const char *id)
{
	struct np_error err = { 0 };
	np_request *r = NULL;
	np_fleet_result *res = NULL;
	bool placed = np_request_from_flavor_text("vcpus=1,ram=256", NULL, &r, &err) == 0 &&
		      np_fleet_schedule(f, id, r, NULL, &res, &err) == 0 &&
		      np_fleet_result_placed(res);

	if (!placed)
		fprintf(stderr, "place %s: %s\n", id, err.message);
	np_fleet_result_free(res);
	np_request_free(r);
	return placed;
}

/* How many of the ids PREFIX0..PREFIX(N-1) URL holds; the fleet check run too. */
static int present(const char *url, const char *prefix, int n)
{
	struct np_error err = { 0 };
	struct np_fleet_check_stats st;
	np_fleet *f = NULL;
	char id[64];
	int found = 0;

	if (np_fleet_open(url, 0, &f, &err)) {
		CHECK(0, "open %s: %s", url, err.message);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		np_fleet_placement *p = NULL;

		snprintf(id, sizeof(id), "%s%d", prefix, i);
		found += np_fleet_placement_get(f, id, &p, &err) == 0 && p;
		np_fleet_placement_free(p);
	}
	CHECK(np_fleet_check(f, &st, &err) == 0, "fleet check: %s", err.message);
	np_fleet_close(f);
	return found;
}

static bool exited_ok(pid_t pid)
{
	int st = 0;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- two processes ------------------------------------------------------------ */

#define EACH 60

static int contender(const char *url, int k)
{
	struct np_error err = { 0 };
	np_fleet *f = NULL;
	char id[64];
	int placed = 0;

	alarm(HANG_GUARD);
	if (np_fleet_open(url, 0, &f, &err))
		return 1;
	for (int i = 0; i < EACH; i++) {
		snprintf(id, sizeof(id), "c%d-%d", k, i);
		placed += place(f, id);
		/* a third released again: writes of both kinds contend */
		if (i % 3 == 2 && np_fleet_release(f, id, NULL, &err))
			return 1;
	}
	np_fleet_close(f);
	return placed == EACH ? 0 : 1;
}

static void two_processes(void)
{
	char path[256], url[300], lock[300];
	struct stat sb;
	pid_t pid[2];
	int ok = 0;

	if (!new_store("two", 4, path, url, sizeof(path)))
		return;
	for (int k = 0; k < 2; k++)
		if ((pid[k] = fork()) == 0)
			_exit(contender(url, k));
	alarm(HANG_GUARD);
	for (int k = 0; k < 2; k++)
		ok += pid[k] > 0 && exited_ok(pid[k]);
	alarm(0);
	CHECK(ok == 2, "%d of 2 contending processes placed all %d of theirs", ok, EACH);
	CHECK(present(url, "c0-", EACH) == EACH - EACH / 3 &&
	      present(url, "c1-", EACH) == EACH - EACH / 3,
	      "every placement kept is in the store");
	np__wlock_name(path, lock, sizeof(lock));
	CHECK(lstat(lock, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0777) == 0600 &&
	      sb.st_size == 4096, "the lock file '%s' is there, 0600, one page", lock);
}

/* ---- a holder killed ------------------------------------------------------------- */

/* Place KEPT ids, then take the lock and SQLite's and write, say so on FD, and wait. */
static int holder(const char *url, const char *path, int fd)
{
	struct np_error err = { 0 };
	struct np__wlock *l = NULL;
	np_fleet *f = NULL;
	sqlite3 *db = NULL;
	char id[32];

	alarm(HANG_GUARD);
	if (np_fleet_open(url, 0, &f, &err))
		return 1;
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "kept%d", i);
		if (!place(f, id))
			return 1;
	}
	if (np__wlock_open(path, true, &l, &err) || !l || np__wlock_take(l, 30000, &err) ||
	    sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE; DELETE FROM np_placements", NULL, NULL, NULL))
		return 1;
	if (write(fd, "h", 1) != 1)
		return 1;
	for (;;)
		pause(); /* killed here, holding both locks, its DELETE not committed */
}

static void holder_killed(void)
{
	struct np_error err = { 0 };
	char path[256], url[300];
	struct np__wlock *l = NULL;
	struct np__wchange ch;
	np_fleet *f = NULL;
	uint64_t at;
	int p[2], st = 0;
	char c = 0;
	pid_t pid;

	if (!new_store("killed", 2, path, url, sizeof(path)) || pipe(p))
		return;
	if ((pid = fork()) == 0) {
		close(p[0]);
		_exit(holder(url, path, p[1]));
	}
	close(p[1]);
	alarm(HANG_GUARD);
	CHECK(read(p[0], &c, 1) == 1 && c == 'h', "the holder took the lock");
	close(p[0]);
	CHECK(np__wlock_open(path, true, &l, &err) == 0 && l, "open: %s", err.message);
	at = l ? np__wlock_changes_at(l) : 0;
	CHECK(at >= 5, "the holder's 5 claims are in the change ring (%llu)",
	      (unsigned long long)at);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st), "the holder was killed");
	CHECK(l && np__wlock_change(l, at, &ch) == 0, "nothing new in the ring yet");
	/* The next taker gets it (EOWNERDEAD made consistent), well within the limit. */
	CHECK(l && np__wlock_take(l, 30000, &err) == 0, "taken after the holder died: %s",
	      err.message);
	/* It may have died between a COMMIT and its changes: the ring says it cannot tell. */
	CHECK(l && np__wlock_change(l, at, &ch) == -1 && np__wlock_change(l, 0, &ch) == -1,
	      "after a holder died, a reader of the change ring asks the store");
	if (l)
		np__wlock_give(l);
	np__wlock_close(l);
	CHECK(np_fleet_open(url, 0, &f, &err) == 0 && place(f, "after"),
	      "a placement after the holder died: %s", err.message);
	np_fleet_close(f);
	alarm(0);
	CHECK(present(url, "kept", 5) == 5, "the holder's 5 committed placements are kept");
}

/* ---- one checkpoint per 1,000 frames, whoever commits ------------------------- */

/*
 * np__wlock_checkpoint_due(): the mark in the lock file's page gives one
 * checkpoint per EVERY frames of WAL growth to the first connection that
 * asks, in this process or another (a forked one here), and counts from
 * 0 again once the WAL was restarted (fewer frames than the mark).
 * Without it every connection whose commit found the WAL past 1,000
 * frames checkpointed, which three replicas did ~6 times as often.
 */
static void checkpoint_mark(void)
{
	struct np_error err = { 0 };
	char path[256], url[300];
	struct np__wlock *a = NULL, *b = NULL;
	int st = -1;
	pid_t pid;

	if (!new_store("ckpt", 1, path, url, sizeof(path)))
		return;
	CHECK(np__wlock_open(path, true, &a, &err) == 0 && a &&
		      np__wlock_open(path, true, &b, &err) == 0 && b,
	      "two handles on the lock: %s", err.message);
	if (!a || !b)
		goto out;
	CHECK(!np__wlock_checkpoint_due(a, 999, 1000), "999 frames: not yet");
	CHECK(np__wlock_checkpoint_due(a, 1000, 1000), "1,000 frames: due, claimed by the first");
	CHECK(!np__wlock_checkpoint_due(b, 1010, 1000), "the WAL still past 1,000: not due again");
	if ((pid = fork()) == 0)
		_exit(!np__wlock_checkpoint_due(b, 1990, 1000) &&
			      np__wlock_checkpoint_due(b, 2000, 1000) ? 0 : 1);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "another process: due at 2,000 frames, not at 1,990 (status %d)", st);
	CHECK(!np__wlock_checkpoint_due(a, 2500, 1000),
	      "the other process's claim holds here: 2,500 frames not due");
	CHECK(!np__wlock_checkpoint_due(a, 40, 1000), "a restarted WAL of 40 frames: not due");
	CHECK(np__wlock_checkpoint_due(a, 1000, 1000),
	      "a restarted WAL counts from 0: due at 1,000 again");
out:
	np__wlock_close(a);
	np__wlock_close(b);
}

/* ---- the change ring ------------------------------------------------------------ */

/* Change I as the test writes it: host I, a claim of I MiB on node I % 2, pinning CPU I % 8. */
static struct np__wchange change_no(int i)
{
	struct np__wchange c = { .id = i, .generation = i + 1, .seq = i + 100,
				 .kind = NP__WCHANGE_CLAIM, .ntakes = 1, .npins = 1 };

	c.takes[0] = (struct np__take){ .node = i % 2, .rc = "MEMORY_MB", .amount = i };
	c.pins[0] = (struct np__pin){ i % 8, i % 2 };
	return c;
}

static bool is_change_no(const struct np__wchange *c, int i)
{
	return c->id == i && c->generation == i + 1 && c->seq == i + 100 &&
	       c->kind == NP__WCHANGE_CLAIM && c->ntakes == 1 && c->npins == 1 &&
	       c->takes[0].node == i % 2 && !strcmp(c->takes[0].rc, "MEMORY_MB") &&
	       c->takes[0].amount == i && c->pins[0].cpu == i % 8 && c->pins[0].node == i % 2;
}

/*
 * The change ring (PATH-npring): what one handle's holder adds, another
 * handle and another process read in order; a change overwritten before
 * it was read, a position the ring never had and a change no numaplace
 * wrote are "ask the store" (-1), never a wrong change; the position at
 * the head is "nothing new" (0).  (What np_fleet makes of it: test-fleet,
 * one-read-per-change and refresh-equals-full.)
 */
static void change_ring(void)
{
	struct np_error err = { 0 };
	char path[256], url[300], ring[300];
	struct np__wlock *a = NULL, *b = NULL;
	struct np__wchange c[3], got;
	struct stat sb;
	uint64_t at;
	int st = -1, n = 0;
	pid_t pid;

	if (!new_store("ring", 2, path, url, sizeof(path)))
		return;
	snprintf(ring, sizeof(ring), "%s-npring", path);
	CHECK(stat(ring, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	      "the ring's file is made beside the lock file, mode 0600");
	CHECK(np__wlock_open(path, true, &a, &err) == 0 && a &&
		      np__wlock_open(path, true, &b, &err) == 0 && b,
	      "two handles: %s", err.message);
	if (!a || !b)
		goto out;
	at = np__wlock_changes_at(b);
	CHECK(np__wlock_change(b, at, &got) == 0, "at the head: nothing new");
	CHECK(np__wlock_change(b, at + 1, &got) == -1, "past the head: cannot tell");
	for (int i = 0; i < 3; i++)
		c[i] = change_no(i);
	CHECK(np__wlock_take(a, 30000, &err) == 0, "take: %s", err.message);
	np__wlock_changes_add(a, c, 3);
	np__wlock_give(a);
	for (uint64_t p = at; np__wlock_change(b, p, &got) == 1; p++)
		n += is_change_no(&got, (int)(p - at));
	CHECK(n == 3, "another handle reads the 3 changes in order (%d)", n);
	if ((pid = fork()) == 0) {
		bool ok = np__wlock_change(b, at + 2, &got) == 1 && is_change_no(&got, 2);

		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "another process reads them too (status %d)", st);
	/* Round the ring once more: the first three are overwritten. */
	CHECK(np__wlock_take(a, 30000, &err) == 0, "take: %s", err.message);
	for (int i = 0; i < NP__WRING; i++) {
		struct np__wchange one = change_no(i + 3);

		np__wlock_changes_add(a, &one, 1);
	}
	np__wlock_give(a);
	CHECK(np__wlock_change(b, at, &got) == -1 && np__wlock_change(b, at + 2, &got) == -1,
	      "a change overwritten before it was read: cannot tell");
	CHECK(np__wlock_change(b, at + 3, &got) == 1 && is_change_no(&got, 3),
	      "the oldest change still in the ring reads back");
	/* What no numaplace writes: too many takes, a resource name without its end. */
	c[0].ntakes = NP__WTAKES + 1;
	c[1].kind = 7;
	memset(c[2].takes[0].rc, 'x', sizeof(c[2].takes[0].rc));
	at = np__wlock_changes_at(b);
	CHECK(np__wlock_take(a, 30000, &err) == 0, "take: %s", err.message);
	np__wlock_changes_add(a, c, 3);
	np__wlock_give(a);
	for (int i = 0; i < 3; i++)
		CHECK(np__wlock_change(b, at + (uint64_t)i, &got) == -1,
		      "a change no numaplace wrote (%d): cannot tell", i);
out:
	np__wlock_close(a);
	np__wlock_close(b);
}

/* ---- a lost wake-up ------------------------------------------------------------- */

#define FUTEX_WAITERS_BIT 0x80000000u /* glibc's (and the kernel's) waiters bit */

/* Take PATH's lock (limit 20 s), saying so on FD first: 0 taken, 1 not. */
static int waiter(const char *path, int fd)
{
	struct np_error err = { 0 };
	struct np__wlock *l = NULL;
	int rc;

	alarm(HANG_GUARD);
	if (np__wlock_open(path, false, &l, &err) || !l || write(fd, "w", 1) != 1)
		return 2;
	rc = np__wlock_take(l, 20000, &err);
	if (rc == 0)
		np__wlock_give(l);
	else
		fprintf(stderr, "waiter: %s\n", err.message);
	np__wlock_close(l);
	return rc == 0 ? 0 : 1;
}

/* PID sleeps in futex(): its system call, from /proc (an event, not a time). */
static bool in_futex(pid_t pid)
{
	char name[64], buf[64] = "";
	FILE *f;
	long nr = -1;

	snprintf(name, sizeof(name), "/proc/%d/syscall", (int)pid);
	if (!(f = fopen(name, "r")))
		return false;
	if (fgets(buf, sizeof(buf), f))
		nr = strtol(buf, NULL, 10);
	fclose(f);
	return nr == SYS_futex;
}

/*
 * The state a waiter SIGKILLed between its wake-up and its take leaves
 * when a fresh taker holds the lock by then (store-lock.c, the top): the
 * holder is the fresh taker, the waiters bit is gone, another waiter
 * sleeps in the kernel.  The holder's unlock wakes nobody; the sleeper
 * must still get the lock once it is free (it slept to its 20 s limit
 * before the fix: the 30 s stall of service-concurrency-sqlite).
 */
static void lost_wakeup(void)
{
	struct np_error err = { 0 };
	char path[256], url[300];
	struct np__wlock *l = NULL;
	unsigned *word;
	int p[2];
	char c = 0;
	pid_t pid;

	if (!new_store("lost", 1, path, url, sizeof(path)) || pipe(p))
		return;
	CHECK(np__wlock_open(path, true, &l, &err) == 0 && l && np__wlock_take(l, 30000, &err) == 0,
	      "the lock taken: %s", err.message);
	if (!l)
		return;
	word = np__wlock_futex(l);
	if ((pid = fork()) == 0) {
		close(p[0]);
		_exit(waiter(path, p[1]));
	}
	close(p[1]);
	alarm(HANG_GUARD);
	CHECK(read(p[0], &c, 1) == 1, "the waiter opened the lock");
	close(p[0]);
	/* Asleep in the kernel with the waiters bit set (polled: an event). */
	while (!(in_futex(pid) && (__atomic_load_n(word, __ATOMIC_SEQ_CST) & FUTEX_WAITERS_BIT)))
		usleep(1000);
	__atomic_fetch_and(word, ~FUTEX_WAITERS_BIT, __ATOMIC_SEQ_CST);
	np__wlock_give(l); /* no waiters bit: glibc wakes nobody */
	CHECK(exited_ok(pid), "a waiter whose wake-up was lost takes the lock once it is free");
	alarm(0);
	np__wlock_close(l);
}

/* Wait until PID sleeps in futex() (an event, polled under the hang guard). */
static void until_in_futex(pid_t pid)
{
	while (!in_futex(pid))
		usleep(1000);
}

/* Run on CPU alone (false: cannot). */
static bool pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

/* First a waiter starved on CPU (SCHED_IDLE), then PATH's lock as waiter() takes it. */
static int starved_waiter(const char *path, int cpu, int fd)
{
	struct sched_param sp = { 0 };

	if (!pin_to(cpu) || sched_setscheduler(0, SCHED_IDLE, &sp))
		return 3;
	return waiter(path, fd);
}

/*
 * The race itself, with real processes: waiter C (first in the queue)
 * is woken by the holder's unlock but starved of its CPU by a busy
 * process, the holder takes the lock again at once (a fresh taker), and
 * C is SIGKILLed before it ever ran; then the holder lets go.  Waiter B
 * must get the lock; before the fix it slept to its limit.
 */
static void woken_waiter_killed(void)
{
	struct np_error err = { 0 };
	char path[256], url[300];
	struct np__wlock *l = NULL;
	int p[2], cpu = 0;
	cpu_set_t set;
	pid_t b, c, hog;
	char ch = 0;

	if (sched_getaffinity(0, sizeof(set), &set) || !new_store("woken", 1, path, url, sizeof(path)) ||
	    pipe(p))
		return;
	while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set))
		cpu++;
	CHECK(np__wlock_open(path, true, &l, &err) == 0 && l && np__wlock_take(l, 30000, &err) == 0,
	      "the lock taken: %s", err.message);
	if (!l)
		return;
	alarm(HANG_GUARD);
	if ((c = fork()) == 0)
		_exit(starved_waiter(path, cpu, p[1]));
	CHECK(read(p[0], &ch, 1) == 1, "waiter C opened the lock");
	until_in_futex(c);
	if ((b = fork()) == 0)
		_exit(waiter(path, p[1]));
	CHECK(read(p[0], &ch, 1) == 1, "waiter B opened the lock");
	until_in_futex(b);
	if ((hog = fork()) == 0) {
		if (!pin_to(cpu) || write(p[1], "h", 1) != 1)
			_exit(3);
		for (;;) /* keeps C from running once it is woken */
			;
	}
	CHECK(read(p[0], &ch, 1) == 1 && ch == 'h', "the busy process runs");
	np__wlock_give(l);						/* wakes C, first in the queue */
	CHECK(np__wlock_take(l, 30000, &err) == 0, "taken again: %s", err.message); /* fresh */
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	np__wlock_give(l); /* the waiters bit went with C's wake-up: wakes nobody */
	kill(hog, SIGKILL);
	waitpid(hog, NULL, 0);
	CHECK(exited_ok(b), "waiter B takes the lock though the woken waiter C was killed");
	alarm(0);
	close(p[0]);
	close(p[1]);
	np__wlock_close(l);
}

/* ---- reads and closing ------------------------------------------------------------ */

/* A handle that only reads (list, get, check) makes no lock file; its first write does. */
static void reads_make_none(void)
{
	struct np_error err = { 0 };
	struct np_fleet_check_stats st;
	char path[256], url[300], lock[300];
	np_fleet_placement *p = NULL;
	np_fleet *f = NULL;

	if (!new_store("reads", 1, path, url, sizeof(path)))
		return;
	np__wlock_name(path, lock, sizeof(lock));
	CHECK(unlink(lock) == 0, "the lock file removed");
	CHECK(np_fleet_open(url, 0, &f, &err) == 0, "open: %s", err.message);
	if (!f)
		return;
	CHECK(np_fleet_check(f, &st, &err) == 0 && np_fleet_placement_get(f, "none", &p, &err) == 0,
	      "read: %s", err.message);
	np_fleet_placement_free(p);
	CHECK(access(lock, F_OK) != 0, "reading made no lock file");
	CHECK(place(f, "w0") && access(lock, F_OK) == 0, "the first write made it");
	np_fleet_close(f);
}

/*
 * sqlite3_close_v2() wrapped: when CLOSING names a store, whether this
 * thread still held its hand-off lock as SQLite closed (and rolled back).
 */
int __real_sqlite3_close_v2(sqlite3 *db);
int __wrap_sqlite3_close_v2(sqlite3 *db);
static const char *closing;
static int held_at_close = -1;

int __wrap_sqlite3_close_v2(sqlite3 *db)
{
	struct np__wlock *l = NULL;
	int rc = -1;

	if (closing && np__wlock_open(closing, false, &l, NULL) == 0 && l)
		rc = np__wlock_take(l, 0, NULL); /* 1: this thread holds it */
	if (rc == 0)
		np__wlock_give(l);
	np__wlock_close(l);
	if (closing)
		held_at_close = rc == 1;
	closing = NULL;
	return __real_sqlite3_close_v2(db);
}

/* A handle closed inside a write transaction: SQLite rolls it back before the lock goes. */
static void close_in_write(void)
{
	const struct np__store_driver *drv = NULL;
	struct np_error err = { 0 };
	char path[256], url[300];
	struct np__store *s = NULL;
	struct np__wlock *l = NULL;

	if (!new_store("close", 1, path, url, sizeof(path)))
		return;
	CHECK(np__store_open(url, false, &drv, &s, &err) == 0 && drv->lock_claims(s, &err) == 0,
	      "a write transaction open: %s", err.message);
	if (!s)
		return;
	closing = path;
	drv->close(s);
	CHECK(held_at_close == 1, "the lock was held while SQLite closed (%d)", held_at_close);
	CHECK(np__wlock_open(path, false, &l, &err) == 0 && l && np__wlock_take(l, 0, &err) == 0,
	      "and free after: %s", err.message);
	if (l)
		np__wlock_give(l);
	np__wlock_close(l);
}

/* ---- a lock file from another boot -------------------------------------------- */

/* Take the lock of PATH, say so on FD, hold it until FD2 closes. */
static int hold_until(const char *path, int fd, int fd2)
{
	struct np_error err = { 0 };
	struct np__wlock *l = NULL;
	char c;

	alarm(HANG_GUARD);
	if (np__wlock_open(path, true, &l, &err) || !l || np__wlock_take(l, 30000, &err) ||
	    write(fd, "h", 1) != 1)
		return 1;
	while (read(fd2, &c, 1) > 0)
		;
	return 0;
}

/*
 * A child that takes PATH's lock and holds it (hold_until) until B's
 * write end is closed; A tells when it holds it.  The parent keeps A's
 * read end and B's write end, under the hang guard.
 */
static pid_t fork_holder(const char *path, int a[2], int b[2])
{
	pid_t pid = fork();

	if (pid == 0) {
		close(a[0]);
		close(b[1]);
		_exit(hold_until(path, a[1], b[0]));
	}
	close(a[1]);
	close(b[0]);
	alarm(HANG_GUARD);
	return pid;
}

static void other_boot(void)
{
	struct np_error err = { 0 };
	char path[256], url[300], lock[300];
	struct np__wlock *l = NULL;
	int a[2], b[2], fd;
	char c = 0;
	pid_t pid;

	if (!new_store("boot", 1, path, url, sizeof(path)) || pipe(a) || pipe(b))
		return;
	np__wlock_name(path, lock, sizeof(lock));
	pid = fork_holder(path, a, b);
	CHECK(read(a[0], &c, 1) == 1, "the child holds the lock");
	/* As after a reboot: the boot id (at offset 16) is not this boot's. */
	fd = open(lock, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "00000000-0000-0000-0000-000000000000", 36, 16) == 36,
	      "boot id rewritten");
	if (fd >= 0)
		close(fd);
	CHECK(np__wlock_open(path, true, &l, &err) == 0 && l && np__wlock_take(l, 30000, &err) == 0,
	      "a lock from another boot is made anew, not waited for: %s", err.message);
	if (l)
		np__wlock_give(l);
	np__wlock_close(l);
	close(b[1]);
	close(a[0]);
	CHECK(exited_ok(pid), "the child let go");
	alarm(0);
}

/* ---- a deadline ---------------------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Schedule ID (one vCPU) on F: its np_fleet_schedule() code, ERR filled. */
static int schedule_rc(np_fleet *f, const char *id, struct np_error *err)
{
	np_request *r = NULL;
	np_fleet_result *res = NULL;
	int rc = np_request_from_flavor_text("vcpus=1,ram=256", NULL, &r, err);

	if (!rc)
		rc = np_fleet_schedule(f, id, r, NULL, &res, err);
	np_fleet_result_free(res);
	np_request_free(r);
	return rc;
}

/*
 * np_fleet_set_deadline(): with the write lock held by another process,
 * a claim and a release under a deadline fail with the reason
 * "deadline_exceeded" once it passes (the wait for the lock ends at it),
 * and change nothing; a deadline already past fails at once even with
 * the lock free; without one, both are made.
 */
static void deadline(void)
{
	struct np_error err = { 0 };
	char path[256], url[300];
	np_fleet *f = NULL;
	bool found = false;
	int a[2], b[2];
	char c = 0;
	pid_t pid;

	if (!new_store("deadline", 1, path, url, sizeof(path)) || pipe(a) || pipe(b))
		return;
	CHECK(np_fleet_open(url, 0, &f, &err) == 0 && place(f, "kept0"), "open: %s", err.message);
	if (!f)
		return;
	pid = fork_holder(path, a, b);
	CHECK(read(a[0], &c, 1) == 1, "another process holds the lock");
	np_fleet_set_deadline(f, now_ns() + 200000000); /* 0.2 s */
	CHECK(schedule_rc(f, "late0", &err) == NP_EOS && !strcmp(err.reason, "deadline_exceeded"),
	      "a claim past its deadline: '%s' (%s)", err.message, err.reason);
	err = (struct np_error){ 0 };
	np_fleet_set_deadline(f, now_ns() + 200000000);
	CHECK(np_fleet_release(f, "kept0", &found, &err) == NP_EOS &&
	      !strcmp(err.reason, "deadline_exceeded"), "a release past its deadline: '%s'",
	      err.message);
	close(b[1]);
	close(a[0]);
	CHECK(exited_ok(pid), "the other process let go");
	err = (struct np_error){ 0 };
	np_fleet_set_deadline(f, now_ns() - 1);
	CHECK(schedule_rc(f, "late0", &err) == NP_EOS && !strcmp(err.reason, "deadline_exceeded"),
	      "a deadline already past, the lock free: '%s'", err.message);
	np_fleet_set_deadline(f, 0);
	CHECK(present(url, "late", 1) == 0 && present(url, "kept", 1) == 1,
	      "the late claim left nothing, the late release took nothing");
	CHECK(place(f, "late0") && np_fleet_release(f, "kept0", &found, &err) == 0 && found,
	      "without a deadline both are made: %s", err.message);
	alarm(0);
	np_fleet_close(f);
}

/* ---- hostile lock files ----------------------------------------------------------- */

enum hostile { SYMLINK, FIFO, FOLDER, OTHERS_WRITE, TWO_LINKS, SIZE, GARBAGE, OWNER, NHOSTILE };

/*
 * Make the file FILE (the lock file or the change ring's, SIZE bytes when
 * right) hostile in way H (VICTIM: a file it may point at); false: skipped.
 */
static bool make_hostile(enum hostile h, const char *file, size_t size, const char *victim)
{
	char *junk;
	bool ok;
	int fd;

	unlink(file);
	switch (h) {
	case SYMLINK:
		return symlink(victim, file) == 0;
	case FIFO:
		return mkfifo(file, 0600) == 0;
	case FOLDER:
		return mkdir(file, 0700) == 0;
	case TWO_LINKS:
		return link(victim, file) == 0;
	case OWNER:
		if (geteuid() != 0) {
			printf("hostile/owner: skipped: another user's file needs root to make\n");
			return false;
		}
		/* fall through */
	default:
		break;
	}
	if (!(junk = calloc(1, size)))
		return false;
	snprintf(junk, size, "not ours, but the right size");
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok = fd >= 0 && write(fd, junk, h == SIZE ? 100 : size) >= 0 &&
	     !(h == OTHERS_WRITE && fchmod(fd, 0602)) && !(h == OWNER && fchown(fd, 65534, 65534));
	free(junk);
	return fd >= 0 && close(fd) == 0 && ok;
}

/* Every hostile FILE (the lock file, or the change ring's: KIND) refused, VICTIM kept. */
static void hostile_file(const char *url, const char *file, const char *kind, const char *victim)
{
	static const char *const what[NHOSTILE] = {
		"is a symbolic link", "is not a regular file", "is not a regular file",
		"is writable by group or others", "has more than one link", "has the wrong size",
		"is not a numaplace", "belongs to another user",
	};
	struct stat before, after, sb;
	size_t size = stat(file, &sb) == 0 ? (size_t)sb.st_size : 0;

	CHECK(size > 0, "%s: made with the store", file);
	stat(victim, &before);
	for (int h = 0; size && h < NHOSTILE; h++) {
		struct np_error err = { 0 };
		np_fleet *f = NULL;
		int rc;

		if (!make_hostile(h, file, size, victim))
			continue;
		alarm(HANG_GUARD); /* a FIFO must not block the open */
		rc = np_fleet_open(url, 0, &f, &err);
		alarm(0);
		CHECK(rc == NP_EINPUT && strstr(err.message, file) && strstr(err.message, what[h]) &&
			      strstr(err.message, kind) && !strchr(err.message, '\n'),
		      "hostile %s %d: %d '%s'", kind, h, rc, err.message);
		np_fleet_close(f);
		CHECK(stat(victim, &after) == 0 && after.st_size == before.st_size &&
			      after.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
		      "hostile %s %d: victim kept", kind, h);
		if (h == FOLDER)
			rmdir(file);
	}
	unlink(file);
}

static void hostile(void)
{
	char path[256], url[300], lock[300], ring[300], victim[300];
	int fd;

	if (!new_store("hostile", 1, path, url, sizeof(path)))
		return;
	np__wlock_name(path, lock, sizeof(lock));
	snprintf(ring, sizeof(ring), "%s-npring", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "precious\n", 9) == 9 && close(fd) == 0, "victim");
	hostile_file(url, ring, "change ring file", victim);
	CHECK(present(url, "x", 0) == 0, "a store whose change ring's file went is opened again");
	hostile_file(url, lock, "lock file", victim);
	CHECK(present(url, "x", 0) == 0, "a store whose lock file went is opened again");
}

/* ---- a read-only folder ------------------------------------------------------------- */

/*
 * In a folder of our own: a store made, its lock file gone and the
 * folder made read-only, a second handle (the first keeps the WAL's
 * files) places without a lock file, which is not made.  As root, in a
 * child that is user 65534: root writes any folder.
 */
static int read_only_body(const char *sub)
{
	char path[300], url[320], lock[320];
	struct np_error err = { 0 };
	np_fleet *keep = NULL, *f = NULL;
	np_topo *t = small_host();
	int ok;

	alarm(HANG_GUARD);
	snprintf(path, sizeof(path), "%s/ro.db", sub);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	np__wlock_name(path, lock, sizeof(lock));
	ok = t && np_fleet_open(url, NP_FLEET_CREATE, &keep, &err) == 0 &&
	     np_fleet_add_host(keep, "h0", t, NULL, NULL, &err) == 0 && unlink(lock) == 0 &&
	     chmod(sub, 0555) == 0;
	if (ok && np_fleet_open(url, 0, &f, &err)) {
		fprintf(stderr, "read-only folder: %s\n", err.message);
		ok = false;
	}
	ok = ok && place(f, "ro0") && place(f, "ro1") && access(lock, F_OK) != 0;
	np_fleet_close(f);
	np_fleet_close(keep);
	np_topo_free(t);
	chmod(sub, 0755);
	return ok ? 0 : 1;
}

static void read_only_folder(void)
{
	char sub[128];
	pid_t pid;

	snprintf(sub, sizeof(sub), "%s/ro", dir);
	CHECK(mkdir(sub, 0755) == 0, "mkdir %s", sub);
	if (geteuid() == 0 && chown(sub, 65534, 65534)) {
		CHECK(0, "chown %s: %s", sub, strerror(errno));
		return;
	}
	if ((pid = fork()) == 0) {
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(2);
		_exit(read_only_body(sub));
	}
	alarm(HANG_GUARD);
	CHECK(pid > 0 && exited_ok(pid), "a read-only folder: placed without a lock file");
	alarm(0);
}

/* ---- someone else's store ---------------------------------------------------------- */

/*
 * Root looking after a store of user 65534 (the service's): it places on
 * SQLite's lock alone, makes no lock file of root's that the service could
 * not open, and leaves the service's own lock file be (neither refused
 * nor mapped).
 */
static void not_the_owner(void)
{
	char path[256], url[300], lock[300], wal[300], shm[300];
	struct np_error err = { 0 };
	struct stat st;
	np_fleet *f = NULL;
	int fd;

	if (geteuid() != 0)
		t_skip("needs root, to make a store of another user");
	if (!new_store("theirs", 1, path, url, sizeof(path)))
		return;
	np__wlock_name(path, lock, sizeof(lock));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(shm, sizeof(shm), "%s-shm", path);
	CHECK(unlink(lock) == 0 && chown(path, 65534, 65534) == 0, "the store made theirs");
	chown(wal, 65534, 65534);
	chown(shm, 65534, 65534);
	CHECK(np_fleet_open(url, 0, &f, &err) == 0, "root opens their store: %s", err.message);
	CHECK(f && place(f, "root0") && place(f, "root1"), "and places on it");
	np_fleet_close(f);
	CHECK(lstat(lock, &st) != 0 && errno == ENOENT, "no lock file of root's was made");
	/* Their lock file, which root must not map: left alone, the store still opens. */
	fd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, "garbage", 7) == 7 && fchown(fd, 65534, 65534) == 0 &&
		      close(fd) == 0, "their lock file");
	CHECK(present(url, "root", 2) == 2, "root reads it with their lock file beside it");
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/np-store-lock-XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	chmod(dir, 0755); /* the read-only case's user 65534 walks through it */
	T_CASE("two-processes", two_processes());
	T_CASE("holder-killed", holder_killed());
	T_CASE("checkpoint-mark", checkpoint_mark());
	T_CASE("change-ring", change_ring());
	T_CASE("lost-wakeup", lost_wakeup());
	T_CASE("woken-waiter-killed", woken_waiter_killed());
	T_CASE("reads-make-none", reads_make_none());
	T_CASE("close-in-write", close_in_write());
	T_CASE("other-boot", other_boot());
	T_CASE("deadline", deadline());
	T_CASE("hostile", hostile());
	T_CASE("read-only-folder", read_only_folder());
	T_CASE("not-the-owner", not_the_owner());
	t_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done();
}
