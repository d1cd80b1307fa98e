/*
 * test-store-vfs.c - the WAL shim of the sqlite: store
 * (lib/fleet/store-sqlite-vfs.c): a transaction's WAL frames in one write,
 * and nothing else changed.
 *
 * Real SQLite files in a temporary folder; the shim wraps the "unix" VFS,
 * whose pwrite and pwrite64 are replaced in this process (SQLite's
 * xSetSystemCall) by a wrapper that counts the calls on -wal files and
 * can fail them with ENOSPC past a size, as a full disk would.
 *
 * Cases: fewer-pwrites (the same transactions through the shim and
 * without: one pwrite a commit instead of two a frame, and the same
 * rows); readers-see-commits (another connection reads every row as soon
 * as COMMIT returned, with transactions that spill frames and overwrite
 * them, and a copy of the files taken then, recovered from its WAL by
 * SQLite, holds every row: the frames and their checksums are whole);
 * processes (three processes committing into one WAL, restarted by their
 * checkpoints: every row, integrity); write-error (a full disk fails the
 * COMMIT with SQLITE_FULL, nothing of it is seen, the next one works);
 * truncated (a child checkpoints, restarts and truncates the WAL --
 * journal_size_limit, TRUNCATE -- while this process reads: every read
 * transaction sees one whole version, never an older one);
 * store-claims (the store's claims through the shim, and with
 * NP_EXP_NO_WAL_SHIM=1 without it).  Nothing is timed.
 */
#include <errno.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <numaplace/numaplace.h>

#include "check.h"
#include "fleet/store-sqlite-vfs.h"
#include "synth.h"

static char dir[64];

/* ---- pwrite on -wal files: counted, failed past a size --------------------- */

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
static pwrite_fn real_pwrite, real_pwrite64;
static unsigned long wal_pwrites;
static long long wal_limit = -1; /* a WAL write that ends past this fails (ENOSPC) */

static bool is_wal(int fd)
{
	char link[40], path[512];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path));
	return n > 4 && n < (ssize_t)sizeof(path) && !memcmp(path + n - 4, "-wal", 4);
}

static ssize_t counted(pwrite_fn real, int fd, const void *buf, size_t n, off_t off)
{
	if (is_wal(fd)) {
		wal_pwrites++;
		if (wal_limit >= 0 && off + (off_t)n > wal_limit) {
			errno = ENOSPC;
			return -1;
		}
	}
	return real(fd, buf, n, off);
}

static ssize_t my_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return counted(real_pwrite, fd, buf, n, off);
}

static ssize_t my_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return counted(real_pwrite64, fd, buf, n, off);
}

/* The unix VFS's pwrite and pwrite64 replaced (those this SQLite has). */
static bool count_pwrites(void)
{
	sqlite3_vfs *u = sqlite3_vfs_find("unix");

	if (!u || u->iVersion < 3)
		return false;
	real_pwrite = (pwrite_fn)u->xGetSystemCall(u, "pwrite");
	real_pwrite64 = (pwrite_fn)u->xGetSystemCall(u, "pwrite64");
	if (real_pwrite)
		u->xSetSystemCall(u, "pwrite", (sqlite3_syscall_ptr)my_pwrite);
	if (real_pwrite64)
		u->xSetSystemCall(u, "pwrite64", (sqlite3_syscall_ptr)my_pwrite64);
	return real_pwrite || real_pwrite64;
}

/* ---- SQLite files ------------------------------------------------------------ */

/* Connection to DIR/NAME, WAL at synchronous=NORMAL (the store's), through the shim or not. */
static sqlite3 *db_open(const char *name, bool shim, int cache_pages)
{
	char path[160], pragmas[200];
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = %d;"
		 "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB)",
		 cache_pages ? cache_pages : -2000);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			     shim ? np__walvfs() : NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, 20000);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
	CHECK(rc == SQLITE_OK, "open %s: %s", name, db ? sqlite3_errmsg(db) : "no memory");
	return db;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Row ID's value, N bytes from a generator seeded with ID and VERSION. */
static void fill(unsigned char *buf, int n, long long id, int version)
{
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15u + (uint64_t)version + 1;

	for (int i = 0; i < n; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		buf[i] = (unsigned char)(x >> 56);
	}
}

/* Row ID (N bytes, VERSION) inserted or replaced.  SQLite's code. */
static int put(sqlite3 *db, long long id, int n, int version)
{
	unsigned char buf[8192];
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO t VALUES (?, ?)", -1, &q, NULL);

	fill(buf, n, id, version);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_blob(q, 2, buf, n, SQLITE_STATIC);
		rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
	}
	sqlite3_finalize(q);
	return rc;
}

/* Does DB hold row ID with its N bytes of VERSION?  1 yes, 0 missing, -1 wrong. */
static int has(sqlite3 *db, long long id, int n, int version)
{
	unsigned char want[8192];
	sqlite3_stmt *q = NULL;
	int rc = -1;

	fill(want, n, id, version);
	if (sqlite3_prepare_v2(db, "SELECT v FROM t WHERE id = ?", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, id);
		rc = sqlite3_step(q);
		rc = rc == SQLITE_DONE ? 0
		     : rc == SQLITE_ROW && sqlite3_column_bytes(q, 0) == n &&
				     !memcmp(sqlite3_column_blob(q, 0), want, (size_t)n)
			     ? 1
			     : -1;
	}
	sqlite3_finalize(q);
	return rc;
}

/* One integer from SQL on DB, or -1. */
static long long one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* PRAGMA integrity_check says "ok". */
static bool intact(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	bool ok = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) == SQLITE_OK &&
		  sqlite3_step(q) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), "ok");

	sqlite3_finalize(q);
	return ok;
}

/* Transaction number I of a workload: ROWS rows of BYTES from id I * 100 on, committed. */
static int txn(sqlite3 *db, int i, int rows, int bytes)
{
	int rc = exec(db, "BEGIN IMMEDIATE");

	for (int r = 0; rc == SQLITE_OK && r < rows; r++)
		rc = put(db, (long long)i * 100 + r, bytes, 0);
	if (rc == SQLITE_OK)
		rc = exec(db, "COMMIT") == SQLITE_OK ? SQLITE_OK : sqlite3_extended_errcode(db);
	if (!sqlite3_get_autocommit(db))
		exec(db, "ROLLBACK");
	return rc;
}

/* ---- cases ------------------------------------------------------------------- */

/* The WAL's pwrite calls for 40 transactions of 3 rows on a new file NAME. */
static unsigned long workload(const char *name, bool shim)
{
	sqlite3 *db = db_open(name, shim, 0);
	unsigned long before = wal_pwrites;
	int rc = SQLITE_OK;

	for (int i = 0; db && rc == SQLITE_OK && i < 40; i++)
		rc = txn(db, i, 3, 1500);
	CHECK(rc == SQLITE_OK, "%s: a transaction failed (%d)", name, rc);
	before = wal_pwrites - before;
	sqlite3_close(db);
	return before;
}

static void fewer_pwrites(void)
{
	unsigned long plain = workload("plain.db", false), shim = workload("shim.db", true);
	sqlite3 *a = db_open("plain.db", false, 0), *b = db_open("shim.db", true, 0);
	int same = 0;

	printf("  WAL pwrite calls for 40 commits: %lu through the shim, %lu without\n", shim, plain);
	/* 40 commits, and the WAL's header written and synced alone once. */
	CHECK(shim <= 41, "through the shim, one pwrite a commit: %lu for 40", shim);
	CHECK(plain >= 4 * 40, "without it, two a frame: %lu for 40 commits", plain);
	for (int i = 0; a && b && i < 40; i++)
		for (int r = 0; r < 3; r++)
			same += has(a, i * 100 + r, 1500, 0) == 1 && has(b, i * 100 + r, 1500, 0) == 1;
	CHECK(same == 120, "both files hold the 120 rows as written (%d)", same);
	CHECK(one(a, "SELECT count(*) FROM t") == 120 && one(b, "SELECT count(*) FROM t") == 120,
	      "and nothing else");
	sqlite3_close(a);
	sqlite3_close(b);
}

/* Every row of transaction I (ROWS rows, row 0 at VERSION) as READER sees it. */
static bool sees(sqlite3 *reader, int i, int rows, int version)
{
	bool ok = true;

	for (int r = 0; r < rows; r++)
		ok = ok && has(reader, (long long)i * 100 + r, 3000, r ? 0 : version) == 1;
	return ok;
}

/* Copy DIR/FROM to DIR/TO byte for byte (false when it cannot). */
static bool copy(const char *from, const char *to)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "cp '%s/%s' '%s/%s'", dir, from, dir, to);
	return system(cmd) == 0;
}

/* Does transaction I of readers-see-commits overwrite its row 0 (the last one does)? */
static int version_of(int i)
{
	return i % 3 == 0 || i == 59;
}

static void readers_see_commits(void)
{
	/* A cache of 10 pages: transactions of up to 30 rows of 3000 bytes spill frames. */
	sqlite3 *w = db_open("rw.db", true, 10), *r = db_open("rw.db", true, 0);
	int seen = 0, rc = SQLITE_OK;

	for (int i = 0; w && r && rc == SQLITE_OK && i < 60; i++) {
		int rows = 1 + (i * 7) % 30, version = version_of(i);

		rc = exec(w, "BEGIN IMMEDIATE");
		for (int k = 0; rc == SQLITE_OK && k < rows; k++)
			rc = put(w, (long long)i * 100 + k, 3000, 0);
		/* Row 0 again, after its page may have spilled: overwritten in place. */
		if (rc == SQLITE_OK && version)
			rc = put(w, (long long)i * 100, 3000, version);
		if (rc == SQLITE_OK)
			rc = exec(w, "COMMIT");
		seen += rc == SQLITE_OK && sees(r, i, rows, version);
	}
	CHECK(rc == SQLITE_OK, "60 transactions committed: %s", sqlite3_errmsg(w));
	CHECK(seen == 60, "another connection saw each as COMMIT returned (%d of 60)", seen);
	/*
	 * The files now, as a copy: SQLite recovers the copy from its WAL,
	 * where a frame whose checksum is wrong ends the log (a rewritten
	 * header of the last commit still in the buffer, say).
	 */
	CHECK(exec(w, "BEGIN IMMEDIATE") == 0 && copy("rw.db", "copy.db") &&
		      copy("rw.db-wal", "copy.db-wal") && exec(w, "ROLLBACK") == 0,
	      "a copy of the database and its WAL");
	sqlite3_close(r);
	r = db_open("copy.db", false, 0);
	seen = 0;
	for (int i = 0; r && i < 60; i++)
		seen += sees(r, i, 1 + (i * 7) % 30, version_of(i));
	CHECK(seen == 60 && intact(r), "the copy holds the 60 transactions (%d), intact", seen);
	sqlite3_close(r);
	sqlite3_close(w);
}

/* A child: 80 transactions into procs.db, each read back by a second connection. */
static int child(int c)
{
	sqlite3 *w = db_open("procs.db", true, 0), *r = db_open("procs.db", true, 0);
	int bad = !w || !r || exec(w, "PRAGMA wal_autocheckpoint = 20") != SQLITE_OK;

	for (int k = 0; !bad && k < 80; k++) {
		long long id = c * 1000 + k;

		bad = exec(w, "BEGIN IMMEDIATE") != SQLITE_OK || put(w, id, 2000, 0) != SQLITE_OK ||
		      exec(w, "COMMIT") != SQLITE_OK || has(r, id, 2000, 0) != 1;
	}
	sqlite3_close(r);
	sqlite3_close(w);
	return bad;
}

static void processes(void)
{
	pid_t pids[3];
	int good = 0, rows = 0;
	sqlite3 *db = db_open("procs.db", false, 0); /* the table, before they start */

	sqlite3_close(db);
	for (int c = 0; c < 3; c++)
		if ((pids[c] = fork()) == 0)
			_exit(child(c + 1));
	for (int c = 0; c < 3; c++) {
		int st = 0;

		good += pids[c] > 0 && waitpid(pids[c], &st, 0) == pids[c] && WIFEXITED(st) &&
			WEXITSTATUS(st) == 0;
	}
	CHECK(good == 3, "three processes committed and read back 80 rows each (%d ok)", good);
	db = db_open("procs.db", false, 0);
	for (int c = 1; db && c <= 3; c++)
		for (int k = 0; k < 80; k++)
			rows += has(db, c * 1000 + k, 2000, 0) == 1;
	CHECK(rows == 240 && one(db, "SELECT count(*) FROM t") == 240 && intact(db),
	      "the file holds their 240 rows (%d), intact", rows);
	sqlite3_close(db);
}

static void write_error(void)
{
	sqlite3 *w = db_open("full.db", true, 0), *r = db_open("full.db", false, 0);
	char wal[160];
	struct stat st;
	int rc;

	snprintf(wal, sizeof(wal), "%s/full.db-wal", dir);
	CHECK(w && r && txn(w, 0, 1, 3000) == SQLITE_OK && stat(wal, &st) == 0, "a first commit");
	wal_limit = st.st_size + 4096; /* not one more frame of 4 KiB and its header */
	rc = txn(w, 1, 10, 3000);
	wal_limit = -1;
	CHECK((rc & 0xff) == SQLITE_FULL, "a full disk fails the commit with SQLITE_FULL (%d)", rc);
	CHECK(has(r, 100, 3000, 0) == 0 && one(r, "SELECT count(*) FROM t") == 1,
	      "nothing of it is seen");
	CHECK(txn(w, 1, 10, 3000) == SQLITE_OK && sees(r, 1, 10, 0) && intact(r),
	      "with room again it commits, seen whole");
	sqlite3_close(r);
	sqlite3_close(w);
}

/* ---- a WAL cut under a reader ----------------------------------------------- */

/* Row 999 of DB: the version its writer wrote last, or -1. */
static long long version_now(sqlite3 *db)
{
	return one(db, "SELECT v FROM t WHERE id = 999");
}

/*
 * A child of truncated(): 150 transactions, each rewriting rows 0..9 (3000
 * bytes) at version K and row 999 to K; its WAL checkpointed every 10
 * frames, cut back to 8 KiB at each restart (journal_size_limit), and to
 * nothing every 25 transactions (TRUNCATE).  Exit status: how many of those
 * truncations happened (the parent may have held them off), 255 on error.
 */
static int truncator(void)
{
	sqlite3 *w = db_open("trunc.db", true, 0);
	int cut = 0, busy, bad = !w || exec(w, "PRAGMA wal_autocheckpoint = 10") != SQLITE_OK ||
				      exec(w, "PRAGMA journal_size_limit = 8192") != SQLITE_OK;
	char sql[80];

	for (int k = 1; !bad && k <= 150; k++) {
		bad = exec(w, "BEGIN IMMEDIATE") != SQLITE_OK;
		for (int id = 0; !bad && id < 10; id++)
			bad = put(w, id, 3000, k) != SQLITE_OK;
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO t VALUES (999, %d)", k);
		bad = bad || exec(w, sql) != SQLITE_OK || exec(w, "COMMIT") != SQLITE_OK;
		if (!bad && k % 25 == 0) {
			busy = (int)one(w, "PRAGMA wal_checkpoint(TRUNCATE)");
			cut += busy == 0;
		}
	}
	sqlite3_close(w);
	return bad ? 255 : cut;
}

/* A read transaction on R: rows 0..9 all at row 999's version.  1 yes, 0 no, -1 busy. */
static int consistent(sqlite3 *r, long long *version)
{
	int ok = 1;

	if (exec(r, "BEGIN") != SQLITE_OK)
		return -1;
	*version = version_now(r);
	if (*version < 0)
		ok = -1; /* SQLITE_BUSY at the read lock: asked again */
	for (int id = 0; ok == 1 && *version > 0 && id < 10; id++)
		ok = has(r, id, 3000, (int)*version) == 1;
	exec(r, "COMMIT");
	return ok;
}

static void truncated(void)
{
	sqlite3 *r = db_open("trunc.db", true, 0);
	long long v = 0, last = 0;
	int reads = 0, wrong = 0, st = 0, ok;
	pid_t pid;

	CHECK(r && exec(r, "INSERT INTO t VALUES (999, 0)") == SQLITE_OK, "the version row");
	CHECK(consistent(r, &v) == 1 && v == 0, "read once before the child starts");
	if ((pid = fork()) == 0)
		_exit(truncator());
	/* Read while the child writes, checkpoints, restarts and cuts the WAL under us. */
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if ((ok = consistent(r, &v)) < 0)
			continue;
		reads++;
		wrong += !ok || v < last;
		last = v;
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 255, "the child wrote its 150 transactions");
	printf("  %d read transactions beside the writer, %d of its 6 TRUNCATE checkpoints done\n",
	       reads, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	CHECK(wrong == 0, "every read saw one whole version, never an older one (%d wrong of %d)",
	      wrong, reads);
	CHECK(consistent(r, &v) == 1 && v == 150, "after it, the last version (%lld)", v);
	CHECK(exec(r, "PRAGMA wal_checkpoint(TRUNCATE)") == SQLITE_OK && txn(r, 7, 3, 3000) == SQLITE_OK &&
		      sees(r, 7, 3, 0) && consistent(r, &v) == 1 && v == 150 && intact(r),
	      "cut to nothing and written again here: read back, intact");
	sqlite3_close(r);
}

/* ID scheduled on F (one vCPU, 256 MiB): placed. */
static bool place(np_fleet *f, const char *id)
{
	struct np_error err = { 0 };
	np_request *q = NULL;
	np_fleet_result *res = NULL;
	bool ok = np_request_from_flavor_text("vcpus=1,ram=256", NULL, &q, &err) == 0 &&
		  np_fleet_schedule(f, id, q, NULL, &res, &err) == 0 && np_fleet_result_placed(res);

	CHECK(ok, "placed %s: %s", id, err.message);
	np_fleet_result_free(res);
	np_request_free(q);
	return ok;
}

/* The WAL's pwrite calls for 20 claims on the store at URL (ids from PREFIX). */
static unsigned long claims(const char *url, const char *prefix)
{
	struct np_error err = { 0 };
	np_fleet *f = NULL;
	unsigned long before;
	char id[40];
	bool ok = np_fleet_open(url, 0, &f, &err) == 0;

	CHECK(ok, "open %s: %s", url, err.message);
	snprintf(id, sizeof(id), "%s-first", prefix); /* the WAL open, the statements made */
	ok = ok && place(f, id);
	before = wal_pwrites;
	for (int i = 0; ok && i < 20; i++) {
		snprintf(id, sizeof(id), "%s-%d", prefix, i);
		ok = place(f, id);
	}
	before = wal_pwrites - before;
	np_fleet_close(f);
	return before;
}

static void store_claims(void)
{
	struct synth_host sh = { .nodes = 2, .cores = 4, .mem_mb = 16384 };
	struct np_error err = { 0 };
	char url[200];
	np_topo *t = NULL;
	np_fleet *f = NULL;
	unsigned long on, off;
	bool ok;

	snprintf(url, sizeof(url), "sqlite:%s/fleet.db", dir);
	ok = (t = synth_topo(&sh, &err)) != NULL &&
	     np_fleet_open(url, NP_FLEET_CREATE, &f, &err) == 0;
	for (int i = 0; ok && i < 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "h%d", i);
		ok = np_fleet_add_host(f, name, t, NULL, NULL, &err) == 0;
	}
	CHECK(ok, "a store of 4 hosts: %s", err.message);
	np_fleet_close(f);
	np_topo_free(t);
	on = claims(url, "on");
	setenv("NP_EXP_NO_WAL_SHIM", "1", 1);
	off = claims(url, "off");
	unsetenv("NP_EXP_NO_WAL_SHIM");
	printf("  WAL pwrite calls for 20 claims: %lu through the shim, %lu without\n", on, off);
	CHECK(on <= 20, "the store's claims through the shim: one pwrite each (%lu for 20)", on);
	CHECK(off >= 4 * 20, "with NP_EXP_NO_WAL_SHIM=1 two a frame (%lu for 20)", off);
}

int main(void)
{
	char cmd[128];

	if (!count_pwrites()) {
		fprintf(stderr, "this SQLite cannot replace the unix VFS's pwrite\n");
		return 99;
	}
	if (!np__walvfs()) {
		fprintf(stderr, "the shim is not there (NP_EXP_NO_WAL_SHIM set?)\n");
		return 99;
	}
	snprintf(dir, sizeof(dir), "/tmp/np-store-vfs-XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	T_CASE("fewer-pwrites", fewer_pwrites());
	T_CASE("readers-see-commits", readers_see_commits());
	T_CASE("processes", processes());
	T_CASE("write-error", write_error());
	T_CASE("truncated", truncated());
	T_CASE("store-claims", store_claims());
	t_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done();
}
