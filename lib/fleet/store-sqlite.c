/*
 * store-sqlite.c - the sqlite:PATH fleet store (store.h): one SQLite file
 * in WAL mode, shared by any number of processes on one machine.
 *
 * Design:
 * - Connection: WAL (readers never wait for the writer), a claim that
 *   returned survives a power cut (below), waits of 30 s at most
 *   for another writer (in short sleeps, see busy()),
 *   foreign keys on (deleting a placement deletes its observation; its
 *   takes and pins are in its row and given back by the release itself),
 *   no symlinks followed.  Statements are prepared once per connection.
 * - Writes (claim, release, add, remove, schema creation) run in
 *   BEGIN IMMEDIATE: the write lock is taken first, so a transaction never
 *   has to upgrade from reading and cannot deadlock; SQLite then runs one
 *   writer at a time, and every check inside the transaction sees the
 *   last committed state.  Any failed check rolls the whole of it back.
 * - Before BEGIN IMMEDIATE, numaplace's writers take a lock of their own
 *   (store-lock.c, PATH-nplock) and give it back when the transaction
 *   ends (exec(), tx_ended()): a waiter is woken when the holder commits
 *   instead of polling in busy(), where three replicas left SQLite's
 *   lock free a third of the time.  busy() stays for writers outside
 *   numaplace, and is all there is where the lock file cannot be made (a
 *   read-only store or folder).  WAL checkpoints run after the lock is
 *   given back (wal_noted()), not inside COMMIT.
 * - The WAL's size is bounded (checkpoint()): a passive checkpoint every
 *   1,000 frames, and past WAL_RESTART frames a RESTART that waits only
 *   a little for readers (RESTART_WAITS, short_waits in busy()) since it
 *   holds the write lock meanwhile; journal_size_limit cuts the file back
 *   to WAL_KEEP_BYTES after a long reader kept it growing
 *   (docs/formats/fleet.md, "The WAL's size").
 * - The claim's capacity check is the UPDATE's own predicate (the
 *   ledger's modes, ledger.h) with the changed-row count checked; pins are
 *   unique per (host, cpu) by primary key.
 * - Change marks: every write to a host sets its change_seq to one more
 *   than the largest; writers are serialised, so marks grow in commit
 *   order and a scan "change_seq > last seen" misses nothing.  PRAGMA
 *   data_version tells for free whether another connection committed.
 * - The change ring (store-lock.h, PATH-npring): each commit also puts
 *   the hosts it changed, with their new generation and mark and what
 *   the claim took or the release gave back, in a ring in shared memory
 *   before the lock is given back, so a change scan reads the ring, not
 *   the store (ring_scan): three replicas read each other's changes
 *   there instead of as a statement, a read lock and the pages every
 *   commit made stale (docs/bench/service.md).  The store is scanned
 *   instead when the ring cannot tell (a holder died, a change
 *   overwritten, a host added or removed), when a mark was skipped (a
 *   writer without the ring), and at least once a second.
 *
 * Durability: the sync after the lock.  At synchronous=FULL SQLite
 * fdatasyncs the WAL inside COMMIT, holding its write lock and ours:
 * ~0.7 ms of every commit's hold on the one lock all writers queue on.
 * So by default the connection runs at synchronous=NORMAL (in WAL mode
 * SQLite then writes a commit's frames and syncs nothing) and settle()
 * syncs the WAL itself after the lock is given back (tx_ended()), before
 * the claim or release is answered: SQLite's own file object of the WAL
 * (SQLITE_FCNTL_JOURNAL_POINTER; pager.c answers the WAL's file in WAL
 * mode) and its xSync with SQLITE_SYNC_NORMAL, what COMMIT passes at FULL
 * (os_unix.c: fdatasync()).  Why "a claim that returned survives a power
 * cut" still holds:
 * - The WAL is one file, appended in commit order (writers are one at a
 *   time), and fdatasync makes every write to the file made before it
 *   durable, whoever made it.  A commit that read our claim comes after
 *   it in the WAL, so it cannot become durable without ours: nothing
 *   durable depends on a claim that is not.
 * - The WAL is never restarted over frames that are not in the database
 *   file: a checkpoint syncs the WAL before it copies frames and the
 *   database after (wal.c, walCheckpoint(), at NORMAL as at FULL: the
 *   checkpoint's sync flags are set unless synchronous=OFF, pager.c
 *   sqlite3PagerSetFlags()), and a writer restarts the WAL only once
 *   every frame was copied by a checkpoint that synced the database; a
 *   restarted WAL's new header is synced at NORMAL too (walFrames()).
 *   At NORMAL SQLite does not pad the commit's last frame to a sector,
 *   as at FULL it does not either on Linux (the unix VFS reports
 *   powersafe overwrite).
 * - A process that dies loses nothing: its writes are in the OS's cache.
 * - What changes: for about a millisecond another connection can read a
 *   committed claim that is not durable yet.  Where numaplace answers on
 *   such a read, the answer is made durable first: a write transaction
 *   that ends without a commit of ours (placed already, a release that
 *   found nothing, a host there already) and a placement read by id
 *   (the retried POST answered "placed already", GET) are settled too,
 *   unless no other connection committed since our last sync (PRAGMA
 *   data_version unchanged).  Lists (hosts, usage) are read as they are.
 * - Between COMMIT and the sync the store calls the on_commit hook
 *   (store.h): the group wakes the threads whose claims the commit held
 *   to build their hosts' new summaries meanwhile (group.c).  A summary
 *   is a hint that other connections could read from the store already;
 *   nothing is answered before the sync.
 * - A failed sync answers the operation as failed (its commit may be in
 *   the store) and breaks the handle: every later write and id read on
 *   it fails with the same line, since after a failed fdatasync Linux
 *   may report the next one as good over pages it has dropped.
 * ?synchronous=full brings SQLite's own sync inside COMMIT back (the same
 * promise, the lock held through the sync); ?synchronous=normal syncs at
 * checkpoints only (a power cut may lose the last claims: bulk loads).
 * tests/unit/test-store-sync.c simulates power cuts with a VFS.
 *
 * The connections open through the VFS shim of store-sqlite-vfs.c (one
 * write for a transaction's WAL frames instead of two a frame), except at
 * ?synchronous=full, where SQLite may split a frame's writes
 * (store-sqlite-vfs.c says why that matters), and with NP_EXP_NO_WAL_SHIM
 * set (for A/B benchmarks).  settle()'s file object of the WAL is then
 * the shim's: its xSync writes what it holds before it syncs.
 *
 * This file and store-sqlite-vfs.c are the only ones that include
 * sqlite3.h; they are module sqlite (numaplace-sqlite.so), exporting
 * nothing but its descriptor.
 */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <numaplace/limits.h>

#include "fleet/store-lock.h"
#include "fleet/store-sqlite-vfs.h"
#include "fleet/store.h"
#include "module/module.h"
#include "util/util.h"

enum stmt {
	S_VERSION,
	S_INS_PLACEMENT,
	S_GET_PLACEMENT,
	S_BUMP_HOST,
	S_TAKE,
	S_INS_PIN,
	S_GIVE_BACK,
	S_DEL_PIN,
	S_DEL_PLACEMENT,
	S_HOST_BY_NAME,
	S_TOPO_BY_DIGEST,
	S_INS_TOPO,
	S_INS_HOST,
	S_INS_ROW,
	S_COUNT_PLACEMENTS,
	S_DEL_HOST_PLACEMENTS,
	S_DEL_HOST_PINS,
	S_DEL_HOST,
	S_SEQ_TAKEN,
	S_DEL_TOPO,
	S_HOST_TOPO,
	S_HOSTS_ALL,
	S_HOSTS_LIGHT,
	S_HOSTS_SINCE,
	S_TOPO,
	S_ROWS_ONE,
	S_ROWS_ALL,
	S_PINS_ONE,
	S_PINS_ALL,
	S_GENS_ONE,
	S_GENS_ALL,
	S_PLACEMENT_ONE,
	S_PLACEMENTS_HOST,
	S_PLACEMENTS_ALL,
	S_ALLOCS,
	S_DATA_VERSION,
	S_OBS_DEL,
	S_OBS_INS,
	S_OBS_NODE,
	S_OBS_GET,
	S_MV_OLD,
	S_MV_PLAN,
	S_PIN_OWNER,
	S_REMOVALS,
	S_COUNT_REMOVAL,
	S_COUNT
};

/*
 * Change marks only grow: np_meta 'change_seq' is the last one given
 * (S_SEQ_TAKEN, in the same transaction), a removed host's included, so a
 * scan "since the last mark seen" never misses a host added after the
 * newest one was removed.  Kept there rather than found as the largest
 * in an index on np_hosts.change_seq (version 2): every change moved its
 * host's entry in that index, a B-tree more written per commit, often
 * two leaves (the old mark's and the last); the np_meta row is one small
 * page.  The change scan reads np_hosts whole instead, about once a
 * second (the ring tells the rest).
 */
#define LAST_SEQ "(SELECT CAST(value AS INTEGER) FROM np_meta WHERE key = 'change_seq')"
#define NEXT_SEQ "(" LAST_SEQ " + 1)"
#define HOST_COLS                                                                          \
	"SELECT h.id, h.name, h.topology_id, h.cpu_ratio, h.ram_ratio, h.generation, "       \
	"(SELECT COUNT(*) FROM np_placements p WHERE p.host_id = h.id), h.change_seq "       \
	"FROM np_hosts h "

static const char *const sql[S_COUNT] = {
	[S_VERSION] = "SELECT value FROM np_meta WHERE key = 'version'",
	[S_INS_PLACEMENT] = "INSERT INTO np_placements (id, host_id, request, plan, takes, pins) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
	[S_GET_PLACEMENT] = "SELECT host_id, request, takes, pins FROM np_placements "
			    "WHERE id = ?1",
	[S_BUMP_HOST] = "UPDATE np_hosts SET generation = generation + 1, change_seq = " NEXT_SEQ
			" WHERE id = ?1 RETURNING generation, change_seq",
	/* The ledger's predicate: mode 0 none, 1 within cap, 2 also within total. */
	[S_TAKE] = "UPDATE np_inventory SET used = used + ?4 "
		   "WHERE host_id = ?1 AND node = ?2 AND rc = ?3 AND "
		   "(?5 = 0 OR (used + ?4 <= cap AND (?5 = 1 OR used + ?4 <= total)))",
	[S_INS_PIN] = "INSERT INTO np_pins (host_id, cpu, node, placement_id) "
		      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	/* One take given back, as the placement's row names it (held_parse). */
	[S_GIVE_BACK] = "UPDATE np_inventory SET used = used - ?4 "
			"WHERE host_id = ?1 AND node = ?2 AND rc = ?3",
	[S_DEL_PIN] = "DELETE FROM np_pins WHERE host_id = ?1 AND cpu = ?2",
	[S_DEL_PLACEMENT] = "DELETE FROM np_placements WHERE id = ?1",
	[S_HOST_BY_NAME] = "SELECT h.id, t.json, h.cpu_ratio, h.ram_ratio FROM np_hosts h "
			   "JOIN np_topologies t ON t.id = h.topology_id WHERE h.name = ?1",
	[S_TOPO_BY_DIGEST] = "SELECT id, json FROM np_topologies WHERE digest = ?1",
	[S_INS_TOPO] = "INSERT INTO np_topologies (digest, json) VALUES (?1, ?2) RETURNING id",
	[S_INS_HOST] = "INSERT INTO np_hosts (name, topology_id, cpu_ratio, ram_ratio, generation, "
		       "change_seq) VALUES (?1, ?2, ?3, ?4, 1, " NEXT_SEQ ") RETURNING id, change_seq",
	[S_INS_ROW] = "INSERT INTO np_inventory (host_id, node, rc, total, cap, used) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_COUNT_PLACEMENTS] = "SELECT COUNT(*) FROM np_placements WHERE host_id = ?1",
	[S_DEL_HOST_PLACEMENTS] = "DELETE FROM np_placements WHERE host_id = ?1",
	[S_DEL_HOST_PINS] = "DELETE FROM np_pins WHERE host_id = ?1",
	[S_DEL_HOST] = "DELETE FROM np_hosts WHERE id = ?1",
	[S_SEQ_TAKEN] = "UPDATE np_meta SET value = CAST(?1 AS TEXT) WHERE key = 'change_seq'",
	[S_DEL_TOPO] = "DELETE FROM np_topologies WHERE id = ?1 AND NOT EXISTS "
		       "(SELECT 1 FROM np_hosts WHERE topology_id = ?1)",
	[S_HOST_TOPO] = "SELECT topology_id FROM np_hosts WHERE id = ?1",
	[S_HOSTS_ALL] = HOST_COLS "ORDER BY h.name",
	/*
	 * The change scan counts no placements (-1): a count moves only with
	 * the generation, and the ledger read that follows counts them.
	 */
	[S_HOSTS_SINCE] = "SELECT h.id, h.name, h.topology_id, h.cpu_ratio, h.ram_ratio, "
			  "h.generation, -1, h.change_seq FROM np_hosts h WHERE h.change_seq > ?1",
	/* The periodic full scan: no placement counts (-1), the rest as above. */
	[S_HOSTS_LIGHT] = "SELECT h.id, h.name, h.topology_id, h.cpu_ratio, h.ram_ratio, "
			  "h.generation, -1, h.change_seq FROM np_hosts h",
	[S_TOPO] = "SELECT json FROM np_topologies WHERE id = ?1",
	[S_ROWS_ONE] = "SELECT host_id, node, rc, total, cap, used FROM np_inventory "
		       "WHERE host_id = ?1",
	[S_ROWS_ALL] = "SELECT host_id, node, rc, total, cap, used FROM np_inventory",
	[S_PINS_ONE] = "SELECT host_id, cpu, node, placement_id FROM np_pins WHERE host_id = ?1",
	[S_PINS_ALL] = "SELECT host_id, cpu, node, placement_id FROM np_pins",
	[S_GENS_ONE] = HOST_COLS "WHERE h.id = ?1",
	[S_GENS_ALL] = HOST_COLS,
	[S_PLACEMENT_ONE] = "SELECT id, host_id, request, plan FROM np_placements WHERE id = ?1",
	[S_PLACEMENTS_HOST] = "SELECT id, host_id, request, plan FROM np_placements "
			      "WHERE host_id = ?1 ORDER BY id",
	[S_PLACEMENTS_ALL] = "SELECT id, host_id, request, plan FROM np_placements ORDER BY id",
	[S_ALLOCS] = "SELECT id, takes, pins, host_id FROM np_placements",
	[S_DATA_VERSION] = "PRAGMA data_version",
	[S_OBS_DEL] = "DELETE FROM np_observations WHERE placement_id = ?1",
	[S_OBS_INS] = "INSERT INTO np_observations (placement_id, host_id, at, source, pid, domain) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_OBS_NODE] = "INSERT INTO np_observed_nodes (placement_id, node, memory_mb, vcpus) "
		       "VALUES (?1, ?2, ?3, ?4)",
	/* The observation once per node (or once with NULLs when it has none). */
	[S_OBS_GET] = "SELECT o.host_id, o.at, o.source, o.pid, o.domain, n.node, n.memory_mb, "
		      "n.vcpus FROM np_observations o LEFT JOIN np_observed_nodes n "
		      "ON n.placement_id = o.placement_id WHERE o.placement_id = ?1 ORDER BY n.node",
	/* A move's check: the placement still holds the plan moved from; what it holds. */
	[S_MV_OLD] = "SELECT takes, pins FROM np_placements WHERE id = ?1 AND host_id = ?2 AND "
		     "plan = ?3",
	[S_MV_PLAN] = "UPDATE np_placements SET plan = ?3, takes = ?4, pins = ?5 "
		      "WHERE id = ?1 AND host_id = ?2",
	[S_PIN_OWNER] = "SELECT placement_id FROM np_pins WHERE host_id = ?1 AND cpu = ?2",
	/* Removals leave no change mark: they are counted (np__cursor). */
	[S_REMOVALS] = "SELECT CAST(value AS INTEGER) FROM np_meta WHERE key = 'removals'",
	[S_COUNT_REMOVAL] = "INSERT INTO np_meta VALUES ('removals', '1') ON CONFLICT (key) DO "
			    "UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
			    "WHERE ?1 = ?1",
};

static const char schema_v1[] =
	"CREATE TABLE np_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE np_topologies (id INTEGER PRIMARY KEY, digest TEXT NOT NULL,"
	" json TEXT NOT NULL);"
	"CREATE INDEX np_topologies_digest ON np_topologies (digest);"
	"CREATE TABLE np_hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" topology_id INTEGER NOT NULL REFERENCES np_topologies (id),"
	" cpu_ratio REAL NOT NULL, ram_ratio REAL NOT NULL,"
	" generation INTEGER NOT NULL, change_seq INTEGER NOT NULL);"
	"CREATE INDEX np_hosts_change ON np_hosts (change_seq);"
	"CREATE TABLE np_inventory (host_id INTEGER NOT NULL REFERENCES np_hosts (id)"
	" ON DELETE CASCADE, node INTEGER NOT NULL, rc TEXT NOT NULL, total INTEGER NOT NULL,"
	" cap INTEGER NOT NULL, used INTEGER NOT NULL CHECK (used >= 0),"
	" PRIMARY KEY (host_id, node, rc)) WITHOUT ROWID;"
	"CREATE TABLE np_placements (id TEXT PRIMARY KEY, host_id INTEGER NOT NULL"
	" REFERENCES np_hosts (id), request TEXT NOT NULL, plan TEXT NOT NULL);"
	"CREATE INDEX np_placements_host ON np_placements (host_id);"
	"CREATE TABLE np_allocations (placement_id TEXT NOT NULL REFERENCES np_placements (id)"
	" ON DELETE CASCADE, node INTEGER NOT NULL, rc TEXT NOT NULL, amount INTEGER NOT NULL,"
	" PRIMARY KEY (placement_id, node, rc)) WITHOUT ROWID;"
	"CREATE TABLE np_pins (host_id INTEGER NOT NULL, cpu INTEGER NOT NULL,"
	" node INTEGER NOT NULL, placement_id TEXT NOT NULL REFERENCES np_placements (id)"
	" ON DELETE CASCADE, PRIMARY KEY (host_id, cpu)) WITHOUT ROWID;"
	"CREATE INDEX np_pins_placement ON np_pins (placement_id);"
	"INSERT INTO np_meta VALUES ('schema', 'numaplace.fleet');";

/*
 * Version 2: what the host agents saw, per placement the latest only
 * (docs/formats/fleet.md); deleting a placement deletes its observation.
 */
static const char schema_v2[] =
	"CREATE TABLE np_observations (placement_id TEXT PRIMARY KEY REFERENCES np_placements (id)"
	" ON DELETE CASCADE, host_id INTEGER NOT NULL, at INTEGER NOT NULL,"
	" source TEXT NOT NULL, pid INTEGER, domain TEXT);"
	"CREATE TABLE np_observed_nodes (placement_id TEXT NOT NULL REFERENCES np_observations"
	" (placement_id) ON DELETE CASCADE, node INTEGER NOT NULL,"
	" memory_mb INTEGER NOT NULL CHECK (memory_mb >= 0), vcpus INTEGER NOT NULL"
	" CHECK (vcpus >= 0), PRIMARY KEY (placement_id, node)) WITHOUT ROWID;";

/*
 * Version 3: fewer B-trees written per claim and release, each one at
 * least a WAL frame per commit and, with other writers, pages read again
 * (docs/formats/fleet.md).  A placement's takes and pins move into its row
 * (held_text(); np_allocations goes), so a release finds its pins by
 * (host_id, cpu) from the row and np_pins needs neither its index on
 * placement_id nor a foreign key (a cascade would scan the table for it);
 * np_meta 'change_seq' holds the last change mark given, so the index on
 * np_hosts.change_seq goes (NEXT_SEQ says why).  Run with foreign keys
 * off (sq_migrate): dropping the old tables must not cascade.  The takes
 * are copied in (node, rc) order, the pins in cpu order, as claims write
 * them.  np_placements stays a rowid table: WITHOUT ROWID, keyed by the
 * text id, its ~1 KB rows (the plan) fit three or four to a page and
 * inserts at random keys split leaves (8.6 frames a claim, not 7.0).
 */
static const char schema_v3[] =
	"CREATE TABLE np_placements_v3 (id TEXT PRIMARY KEY, host_id INTEGER NOT NULL"
	" REFERENCES np_hosts (id), request TEXT NOT NULL, plan TEXT NOT NULL,"
	" takes TEXT NOT NULL, pins TEXT NOT NULL);"
	"INSERT INTO np_placements_v3 SELECT p.id, p.host_id, p.request, p.plan,"
	" COALESCE((SELECT group_concat(a.node || ' ' || a.rc || ' ' || a.amount, ',') FROM"
	" (SELECT * FROM np_allocations WHERE placement_id = p.id ORDER BY node, rc) a), ''),"
	" COALESCE((SELECT group_concat(n.cpu || ' ' || n.node, ',') FROM"
	" (SELECT * FROM np_pins WHERE placement_id = p.id ORDER BY cpu) n), '')"
	" FROM np_placements p;"
	"CREATE TABLE np_pins_v3 (host_id INTEGER NOT NULL, cpu INTEGER NOT NULL,"
	" node INTEGER NOT NULL, placement_id TEXT NOT NULL, PRIMARY KEY (host_id, cpu))"
	" WITHOUT ROWID;"
	"INSERT INTO np_pins_v3 SELECT host_id, cpu, node, placement_id FROM np_pins;"
	"DROP TABLE np_allocations; DROP TABLE np_pins; DROP TABLE np_placements;"
	"ALTER TABLE np_placements_v3 RENAME TO np_placements;"
	"ALTER TABLE np_pins_v3 RENAME TO np_pins;"
	"CREATE INDEX np_placements_host ON np_placements (host_id);"
	"INSERT OR REPLACE INTO np_meta SELECT 'change_seq', CAST(MAX(COALESCE(MAX(change_seq), 0),"
	" COALESCE((SELECT CAST(value AS INTEGER) FROM np_meta WHERE key = 'change_seq'), 0))"
	" AS TEXT) FROM np_hosts;"
	"DROP INDEX np_hosts_change;";

/* migrations[v] takes a store from version v to v + 1; version 0 is an empty file. */
static const char *const migrations[NP__FLEET_SCHEMA_SQLITE] = { schema_v1, schema_v2, schema_v3 };

/*
 * Transaction control, prepared once like the rest: parsing "SAVEPOINT"
 * or "COMMIT" anew for every claim costs CPU, and in a batch it was done
 * while holding the write lock.  Callers name them by index (txn()), so
 * nothing compares strings per statement.
 */
enum tx {
	TX_WRITE, /* BEGIN IMMEDIATE: a write transaction, our lock taken first */
	TX_COMMIT,
	TX_BEGIN,
	TX_SAVEPOINT,
	TX_ROLLBACK_TO,
	TX_RELEASE,
	TX_ROLLBACK,
	NTX
};

static const char *const tx_sql[NTX] = {
	[TX_WRITE] = "BEGIN IMMEDIATE",	      [TX_COMMIT] = "COMMIT",
	[TX_BEGIN] = "BEGIN",		      [TX_SAVEPOINT] = "SAVEPOINT np_claim",
	[TX_ROLLBACK_TO] = "ROLLBACK TO np_claim", [TX_RELEASE] = "RELEASE np_claim",
	[TX_ROLLBACK] = "ROLLBACK",
};

/*
 * Changes one commit can name in the change ring (store-lock.h); a commit
 * of more (or of a host added or removed) adds one the ring cannot name.
 */
#define CHG_MAX 128

/* A change of the open write transaction, for the change ring (ring_add). */
struct chg {
	int64_t id, gen, seq;
	const struct np__takes *delta; /* the claim's takes, the release's given, or NULL */
	bool release;
};

struct np__store {
	sqlite3 *db;
	char *path;
	const char *sync; /* the URL's synchronous: NULL (none: settle()), "FULL", "NORMAL" */
	sqlite3_stmt *st[S_COUNT];
	sqlite3_stmt *tx[NTX];
	struct np__wlock *wl; /* the hand-off lock (store-lock.h), or NULL */
	bool held;	      /* wl taken for the open write transaction */
	bool wl_later;	      /* no lock file yet: made at the first write (lock_file) */
	int wal_pages;	      /* in the WAL after the last commit (wal_noted) */
	bool short_waits;     /* busy() gives up after RESTART_WAITS (checkpoint()) */
	bool late_sync;	      /* WAL at synchronous=NORMAL, synced by settle() */
	bool wtx;	      /* a write transaction (BEGIN IMMEDIATE) is open */
	bool dv_known;	      /* dv_synced is set */
	int64_t dv_synced;    /* data_version read just before the last good sync */
	char broken[NP_ERROR_MAX]; /* a sync failed: why; every later write fails with it */
	void (*committed)(void *); /* store.h on_commit: after COMMIT, before settle() */
	void *committed_ctx;
	int64_t until; /* store.h wait_until: the deadline of the write run now, or 0 */
	/* The open write transaction's changes, for the change ring (ring_add) */
	struct chg chg[CHG_MAX];
	int nchg;
	int chg_saved; /* nchg at the claim's SAVEPOINT: ROLLBACK TO drops the rest */
	bool chg_ours; /* the lock is this thread's: the commit may add to the ring */
	char *text;    /* held_text()'s buffer: a placement's takes and pins as its row holds them */
	size_t text_cap;
};

/* ---- errors and statements ----------------------------------------------- */

static int db_err(struct np__store *s, struct np_error *err, const char *what)
{
	int code = sqlite3_extended_errcode(s->db) & 0xff;
	int np = code == SQLITE_NOMEM				 ? NP_ENOMEM
		 : code == SQLITE_CANTOPEN || code == SQLITE_PERM ? NP_EIO
		 : code == SQLITE_NOTADB || code == SQLITE_CORRUPT ? NP_EINPUT
								    : NP_EOS;

	return np__err(err, np, "store 'sqlite:%s': %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* The prepared statement I, reset and unbound. */
static sqlite3_stmt *stmt(struct np__store *s, enum stmt i, struct np_error *err)
{
	if (!s->st[i] &&
	    sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL)) {
		db_err(s, err, "cannot prepare a statement");
		return NULL;
	}
	sqlite3_reset(s->st[i]);
	sqlite3_clear_bindings(s->st[i]);
	return s->st[i];
}

/* Transaction statement I through its prepared statement. */
static int run_tx(struct np__store *s, enum tx i, struct np_error *err)
{
	int rc;

	if (!s->tx[i] &&
	    sqlite3_prepare_v3(s->db, tx_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->tx[i], NULL))
		return db_err(s, err, tx_sql[i]);
	rc = sqlite3_step(s->tx[i]) == SQLITE_DONE ? 0 : db_err(s, err, tx_sql[i]);
	sqlite3_reset(s->tx[i]);
	return rc;
}

static int data_version(struct np__store *s, int64_t *v, struct np_error *err);

/* The WAL's fdatasync, on SQLite's own file object of it (see the header). */
static int wal_sync(struct np__store *s)
{
	sqlite3_file *f = NULL;
	int rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);

	if (rc != SQLITE_OK)
		return rc;
	if (!f || !f->pMethods)
		return SQLITE_IOERR_FSYNC; /* WAL mode without a WAL open: never after a read */
	/* What SQLite's COMMIT passes at synchronous=FULL: fdatasync() (os_unix.c). */
	return f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
}

/*
 * Make durable everything this connection has seen committed: its own
 * last commit (OWN), or what another connection committed that this one
 * read and is about to answer on.  Outside the write lock.  Not OWN and
 * no other connection has committed since the last sync (PRAGMA
 * data_version unchanged): it is durable already, nothing to do.  A
 * failed sync breaks the handle (struct np__store, broken): after a
 * failed fdatasync Linux may report the next one as good although the
 * pages it failed on are gone, so nothing this handle says later could
 * be trusted to be durable.
 */
static int settle(struct np__store *s, bool own, struct np_error *err)
{
	int64_t dv = 0;
	int rc;

	if (s->broken[0])
		return np__err(err, NP_EOS, "%s", s->broken);
	/*
	 * OWN syncs whatever data_version says: not read then (one statement
	 * less on every claim's path), and the next not-OWN settle syncs
	 * rather than trust a version read before this sync.
	 */
	if (!own && (rc = data_version(s, &dv, err)))
		return rc;
	if (!own && s->dv_known && dv == s->dv_synced)
		return 0;
	if ((rc = wal_sync(s)) != SQLITE_OK) {
		snprintf(s->broken, sizeof(s->broken), "store 'sqlite:%s': cannot sync the WAL "
			 "after a commit (%s): its last changes may not be on disk; reopen the "
			 "store", s->path, sqlite3_errstr(rc));
		return np__err(err, NP_EOS, "%s", s->broken);
	}
	s->dv_synced = dv;
	s->dv_known = !own;
	return 0;
}

/*
 * SQLite's default wal_autocheckpoint: a checkpoint each time the WAL has
 * grown by this many frames; with the lock file, counted from the last
 * checkpoint any connection of any process claimed
 * (np__wlock_checkpoint_due).  The WAL stays past 1,000 frames until a
 * writer can restart it, and when each connection checkpointed whenever
 * its commit found it so, three replicas ran 532 checkpoints of ~67
 * pages in a 12-s run, 34 ms each on average, each with its replica's
 * commit queue stopped behind it (docs/bench/service.md).
 */
#define CKPT_EVERY 1000

/*
 * The WAL's bound, in frames (32 MiB at 4 KiB pages).  A passive
 * checkpoint copies frames into the database but never moves the WAL back
 * to its start: a writer restarts it only when it finds every frame copied
 * and no reader in the WAL, and three replicas always have a reader (their
 * refreshes overlap), so under steady load the -wal file grew without end
 * (623 MB after 16,000 placements: docs/bench/service.md).  Past this
 * many frames the checkpoint is a RESTART: it waits for the readers that
 * still use the WAL (new ones read the database file once every frame is
 * copied) and the next writer starts the WAL again from its beginning.
 */
#define WAL_RESTART 8192

/*
 * How long a RESTART waits for those readers, in busy() calls (0.1-0.6
 * ms each: a few ms).  It holds SQLite's write lock meanwhile, so every
 * writer waits with it; a reader that stays longer (a fleet check, a
 * backup) makes it a passive checkpoint, tried again CKPT_EVERY frames
 * later.
 */
#define RESTART_WAITS 16

/*
 * The -wal file's size kept after a restart (PRAGMA journal_size_limit,
 * bytes): a little over what WAL_RESTART frames and a checkpoint's
 * interval of 4 KiB pages take (~38 MB), so it is cut back only after a
 * long reader let the WAL grow past its bound, not at every restart.
 */
#define WAL_KEEP_BYTES 41943040 /* 40 MiB */

/* Change C as the ring keeps it: what it was, when that fits. */
static void ring_change(const struct chg *c, struct np__wchange *w)
{
	const struct np__takes *d = c->delta;

	memset(w, 0, sizeof(*w));
	w->id = c->id, w->generation = c->gen, w->seq = c->seq;
	if (!d || d->ntakes > NP__WTAKES || d->npins > NP__WPINS)
		return; /* NP__WCHANGE_ONLY */
	w->kind = c->release ? NP__WCHANGE_RELEASE : NP__WCHANGE_CLAIM;
	w->ntakes = d->ntakes, w->npins = d->npins;
	if (d->ntakes) /* (no takes or pins: no array, and memcpy wants one) */
		memcpy(w->takes, d->takes, (size_t)d->ntakes * sizeof(*d->takes));
	if (d->npins)
		memcpy(w->pins, d->pins, (size_t)d->npins * sizeof(*d->pins));
}

/* A commit's changes into the change ring, before the lock is given back. */
static void ring_add(struct np__store *s)
{
	struct np__wchange w[8];

	for (int i = 0; i < s->nchg; i += 8) {
		int n = s->nchg - i < 8 ? s->nchg - i : 8;

		for (int k = 0; k < n; k++)
			ring_change(&s->chg[i + k], &w[k]);
		np__wlock_changes_add(s->wl, w, n);
	}
	s->nchg = 0;
}

/*
 * A checkpoint: passive (copy what no reader needs, wait for nobody),
 * then, when the WAL has grown past WAL_RESTART frames, a RESTART that
 * waits a little for the readers (RESTART_WAITS) so that the WAL starts
 * again from its beginning.  Failures are not errors: the next one tries
 * again.
 */
static void checkpoint(struct np__store *s)
{
	int frames = 0;

	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, NULL);
	if (frames <= WAL_RESTART)
		return;
	s->short_waits = true;
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	s->short_waits = false;
}

/*
 * Once a transaction has ended (COMMIT, ROLLBACK, or a failure that
 * ended it): the hand-off lock given back; a write transaction's commit,
 * or what it read and answers on, made durable (settle; RC 0 only: a
 * failure answers nothing); then the WAL checkpointed when it has grown
 * (CKPT_EVERY), outside the lock as SQLite's own autocheckpoint runs
 * after its writer lock is let go (see wal_noted).  Returns RC or the
 * sync's error.
 */
static int tx_ended(struct np__store *s, bool committed, int rc, struct np_error *err)
{
	if (!sqlite3_get_autocommit(s->db))
		return rc;
	if (committed && s->wtx && s->chg_ours)
		ring_add(s);
	if (s->held) {
		s->held = false;
		np__wlock_give(s->wl);
	}
	if (s->wtx) {
		s->wtx = false;
		if (committed && s->committed)
			s->committed(s->committed_ctx); /* visible, not durable yet: not answered */
		if (!rc && s->late_sync)
			rc = settle(s, committed, err);
	}
	if (s->wal_pages >= CKPT_EVERY && (!s->wl || np__wlock_checkpoint_due(s->wl, s->wal_pages,
										CKPT_EVERY)))
		checkpoint(s);
	s->wal_pages = 0;
	return rc;
}

static int lock_file(struct np__store *s, bool create, struct np_error *err);

/*
 * Note a change of host ID (to GEN, mark SEQ) in the open write
 * transaction: DELTA charged (or given back: RELEASE), or NULL when what
 * changed is not told.  DELTA must live until the transaction ends.
 */
static void changed(struct np__store *s, int64_t id, int64_t gen, int64_t seq,
		    const struct np__takes *delta, bool release)
{
	if (s->nchg < CHG_MAX)
		s->chg[s->nchg] = (struct chg){ id, gen, seq, delta, release };
	else
		s->chg[CHG_MAX - 1].id = -1; /* more than the ring takes from one commit */
	s->nchg += s->nchg < CHG_MAX;
}

/* Transaction statement I's effect on the changes noted (changed()). */
static void changes_at(struct np__store *s, enum tx i, int taken)
{
	if (i == TX_WRITE && taken >= 0) { /* a write transaction begins */
		s->nchg = 0;
		s->chg_ours = s->wl && taken <= 1;
	} else if (i == TX_SAVEPOINT) {
		s->chg_saved = s->nchg;
	} else if (i == TX_ROLLBACK_TO) {
		s->nchg = s->chg_saved;
	}
}

/*
 * Transaction statement I on S.  Every write transaction begins with
 * TX_WRITE (BEGIN IMMEDIATE) through here: the hand-off lock is taken
 * first, so a waiting writer sleeps until the holder lets go instead of
 * polling SQLite's lock (busy()).
 */
static int txn(struct np__store *s, enum tx i, struct np_error *err)
{
	bool write = i == TX_WRITE;
	bool begin = write && !s->held;
	int rc = 0;

	if (write && s->broken[0])
		return np__err(err, NP_EOS, "%s", s->broken);
	if (begin && s->wl_later)
		rc = lock_file(s, true, err);
	if (!rc && begin && s->wl) {
		rc = np__wlock_take(s->wl, 30000, err);
		s->held = rc == 0; /* 1: this thread holds it already: SQLite's lock alone */
	}
	if (rc >= 0 && (!write || begin))
		changes_at(s, i, rc);
	if (rc >= 0)
		rc = run_tx(s, i, err);
	if (write && !rc)
		s->wtx = true;
	return tx_ended(s, !rc && i == TX_COMMIT, rc, err);
}

/* Other SQL Q on S (the schema's, a first read), in the open transaction or alone. */
static int exec(struct np__store *s, const char *q, struct np_error *err)
{
	int rc = sqlite3_exec(s->db, q, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_err(s, err, q);

	return tx_ended(s, false, rc, err);
}

/*
 * The open transaction rolled back (if a failed statement has not ended
 * it already).  A write transaction's answer read in it (placed already,
 * not found) is made durable as a commit is: 0 or the sync's error.
 */
static int roll_back(struct np__store *s, struct np_error *err)
{
	int rc = sqlite3_get_autocommit(s->db) ? 0 : txn(s, TX_ROLLBACK, err);

	return tx_ended(s, false, rc, err);
}

/* After a failure: the transaction rolled back, nothing answered. */
static void rollback(struct np__store *s)
{
	s->wtx = false; /* nothing is answered: no sync */
	roll_back(s, NULL);
}

/* Step a statement that returns no row (or ignores it). */
static int step_done(struct np__store *s, sqlite3_stmt *q, struct np_error *err)
{
	int rc = sqlite3_step(q);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(s, err, "a statement failed");
	sqlite3_reset(q);
	return 0;
}

static const char *col_text(sqlite3_stmt *q, int c)
{
	const unsigned char *t = sqlite3_column_text(q, c);

	return t ? (const char *)t : "";
}

/* ---- opening ------------------------------------------------------------- */

/* The store's schema version into *V: 0 when it has none yet. */
static int sq_version(struct np__store *s, long *v, struct np_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	*v = 0;
	if (sqlite3_prepare_v2(s->db, sql[S_VERSION], -1, &q, NULL) != SQLITE_OK) {
		int code = sqlite3_errcode(s->db);

		if (code == SQLITE_NOTADB)
			return np__err(err, NP_EINPUT, "'%s' is not a SQLite database", s->path);
		return code == SQLITE_ERROR ? 0 : db_err(s, err, "cannot read the schema version");
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && !np__parse_int(col_text(q, 0), 1, 1 << 20, v))
		*v = -1;
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(s, err, "cannot read the schema version");
	if (*v < 0 || (rc == SQLITE_DONE && *v == 0))
		return np__err(err, NP_EINPUT, "'%s' has a broken numaplace schema version", s->path);
	return 0;
}

/* sqlite3_exec's row callback for "PRAGMA foreign_key_check": a row is a dangling key. */
static int dangling(void *arg, int n, char **cols, char **names)
{
	(void)n, (void)cols, (void)names;
	++*(int *)arg;
	return 0;
}

/* The migrated tables' foreign keys still hold (checked in the open transaction). */
static int keys_hold(struct np__store *s, struct np_error *err)
{
	int bad = 0;

	if (sqlite3_exec(s->db, "PRAGMA foreign_key_check", dangling, &bad, NULL) != SQLITE_OK)
		return db_err(s, err, "PRAGMA foreign_key_check");
	return bad ? np__err(err, NP_EINPUT, "store 'sqlite:%s': %d rows name a host or a "
			     "placement that is not there; not migrated", s->path, bad)
		   : 0;
}

/*
 * Bring the schema to NP__FLEET_SCHEMA_SQLITE, one migration at a time, in one
 * transaction.  Foreign keys are off meanwhile (the pragma is a no-op
 * inside a transaction, so it is set around it): a migration that makes
 * a table anew drops the old one, and dropping a table deletes its rows,
 * which would cascade to the rows that name them.  The keys are checked
 * before the commit instead.
 */
static int sq_migrate(struct np__store *s, struct np_error *err)
{
	char set[96];
	long v = 0;
	int rc = exec(s, "PRAGMA foreign_keys = OFF", err), on;

	if (!rc)
		rc = txn(s, TX_WRITE, err);
	/* Read again under the write lock: another process may have migrated it. */
	if (!rc)
		rc = sq_version(s, &v, err);
	for (; !rc && v < NP__FLEET_SCHEMA_SQLITE; v++) {
		changed(s, -1, 0, 0, NULL, false); /* a new schema: readers scan the store */
		snprintf(set, sizeof(set), "INSERT OR REPLACE INTO np_meta VALUES ('version', '%ld')",
			 v + 1);
		if (!(rc = exec(s, migrations[v], err)))
			rc = exec(s, set, err);
	}
	if (!rc && !(rc = keys_hold(s, err)))
		rc = txn(s, TX_COMMIT, err);
	if (rc)
		rollback(s);
	on = exec(s, "PRAGMA foreign_keys = ON", rc ? NULL : err);
	return rc ? rc : on;
}


/*
 * Waiting for another writer: SQLite's own busy handler sleeps longer and
 * longer (up to 100 ms a time), which with several schedulers leaves the
 * lock free while everyone sleeps.  Short sleeps (0.1-0.6 ms, jittered so
 * waiters do not wake together) keep it busy; give up after 30 s (a
 * RESTART checkpoint: after RESTART_WAITS).
 */
static int busy(void *arg, int count)
{
	struct np__store *s = arg;
	struct timespec ts = { 0, 100000 + (long)((unsigned)count * 2654435761u % 500000u) };

	if (count >= (s->short_waits ? RESTART_WAITS : 60000))
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

/* sqlite3_exec's row callback for "PRAGMA journal_mode": is it WAL? */
static int is_wal(void *arg, int n, char **cols, char **names)
{
	(void)names;
	*(bool *)arg = n > 0 && cols[0] && !strcmp(cols[0], "wal");
	return 0;
}

/*
 * The connection's pragmas: foreign keys, WAL, and the synchronous level
 * the URL asked for; without one (the default), in WAL mode, NORMAL with
 * settle() after each write transaction (the header says why that keeps
 * "answered = durable"); a store that cannot be put in WAL (read-only)
 * stays at FULL.  Temporary data in memory: a batch of claims (one
 * savepoint each) outgrew the statement journal's 64 KiB in memory about
 * once in 12 placements, and each time SQLite made a temporary file for
 * it (stat and access on the temp folders, open, unlink, writes, reads,
 * close: docs/bench/service.md); the journal lives for one transaction.
 * The WAL file is cut back to WAL_KEEP_BYTES when it restarts.
 */
static int configure(struct np__store *s, struct np_error *err)
{
	char sync[40];
	bool wal = false;
	const char *const pragmas[] = {
		"PRAGMA foreign_keys = ON",
		"PRAGMA journal_mode = WAL",
		"PRAGMA journal_mode",
		sync,
		"PRAGMA temp_store = MEMORY",
		"PRAGMA journal_size_limit = " NP__STR(WAL_KEEP_BYTES),
	};

	sqlite3_busy_handler(s->db, busy, s);
	sqlite3_extended_result_codes(s->db, 1);
	for (size_t i = 0; i < NP__ARRAY_SIZE(pragmas); i++) {
		if (i == 3) {
			s->late_sync = !s->sync && wal;
			snprintf(sync, sizeof(sync), "PRAGMA synchronous = %s",
				 s->sync ? s->sync : wal ? "NORMAL" : "FULL");
		}
		if (sqlite3_exec(s->db, pragmas[i], i == 2 ? is_wal : NULL, &wal, NULL) == SQLITE_OK)
			continue;
		if ((sqlite3_errcode(s->db) & 0xff) == SQLITE_NOTADB)
			return np__err(err, NP_EINPUT, "'%s' is not a SQLite database", s->path);
		/* WAL needs a write once per file; a read-only store keeps its mode. */
		if (i != 1 || (sqlite3_errcode(s->db) & 0xff) != SQLITE_READONLY)
			return db_err(s, err, pragmas[i]);
	}
	return 0;
}

/* SQLite's note after each commit: the WAL's size, for tx_ended(). */
static int wal_noted(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct np__store *s = arg;

	(void)db;
	(void)name;
	s->wal_pages = pages;
	return SQLITE_OK;
}

/*
 * The hand-off lock file of S opened (made when CREATE), and with it the
 * checkpoints moved out of COMMIT (wal_noted).  Missing and not CREATE: it
 * is made at S's first write transaction (exec()), so a handle that only
 * reads (fleet list, show, check) leaves no lock file behind.
 */
static int lock_file(struct np__store *s, bool create, struct np_error *err)
{
	int rc = np__wlock_open(s->path, create, &s->wl, err);

	if (rc == 0 && s->wl)
		sqlite3_wal_hook(s->db, wal_noted, s);
	s->wl_later = rc == 0 && !s->wl && !create;
	return rc;
}

/* The hand-off lock's waits end by UNTIL too (store.h wait_until; no lock file yet: not). */
static void sq_wait_until(struct np__store *s, int64_t until)
{
	s->until = until;
	if (s->wl)
		np__wlock_until(s->wl, until);
}

/* S's deadline (wait_until) passed. */
static bool past_deadline(const struct np__store *s)
{
	return s->until && np__store_now_ns() > s->until;
}

/*
 * The hand-off lock beside a writable store (store-lock.h), its file made
 * at the first write.  A read-only store, or a folder where the lock file
 * cannot be made, goes without: writers then wait in busy() alone, as
 * writers outside numaplace (the sqlite3 shell) always do.  So does
 * anyone but the store's owner: root looking after the service's store
 * must neither map a page its user can write (the mutex's robust-list
 * links would be theirs to aim) nor make a lock file of root's that the
 * service could then not open.  With the lock, the WAL is checkpointed in
 * tx_ended() rather than inside COMMIT, where it would hold the lock.
 */
static int hand_off(struct np__store *s, struct np_error *err)
{
	struct stat st;

	if (sqlite3_db_readonly(s->db, "main") || stat(s->path, &st) != 0 ||
	    st.st_uid != geteuid())
		return 0;
	return lock_file(s, false, err);
}

/*
 * Closed: SQLite rolls a transaction still open back as it closes, so the
 * hand-off lock is given back only after that, not while SQLite's own
 * lock is still held (its next taker would find SQLite's lock held and
 * poll in busy()).
 */
static void sq_close(struct np__store *s)
{
	if (!s)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	for (int i = 0; i < NTX; i++)
		sqlite3_finalize(s->tx[i]);
	sqlite3_close_v2(s->db);
	if (s->held)
		np__wlock_give(s->wl);
	np__wlock_close(s->wl);
	free(s->text);
	free(s->path);
	free(s);
}

/*
 * PATH[?synchronous=full|normal]: none (the default) syncs the WAL after
 * the write lock is given back, before answering (settle()); full has
 * SQLite sync it inside COMMIT, holding the lock (the same promise, the
 * old way); normal (no fsync at commit, WAL synced at checkpoints)
 * survives a killed process but may lose the last claims to a power cut;
 * it is for bulk loads.  Nothing else after a '?'.
 */
static int location(struct np__store *s, const char *loc, struct np_error *err)
{
	const char *q = strchr(loc, '?');

	s->sync = NULL;
	if (q && !strcmp(q, "?synchronous=full"))
		s->sync = "FULL";
	else if (q && !strcmp(q, "?synchronous=normal"))
		s->sync = "NORMAL";
	else if (q)
		return np__err(err, NP_EINPUT, "store 'sqlite:%s': unknown parameter '%s' "
			       "(synchronous=full or normal)", loc, q + 1);
	s->path = q ? strndup(loc, (size_t)(q - loc)) : strdup(loc);
	return s->path ? 0 : np__err(err, NP_ENOMEM, "out of memory");
}

/*
 * The store's file as named, before SQLite opens it, and its -wal and
 * -shm files where they exist: bad input (NP_EINPUT, one line saying
 * what is wrong) when one is a symbolic link (SQLite follows none,
 * SQLITE_OPEN_NOFOLLOW and O_NOFOLLOW, and would say only "unable to open
 * database file"), not a regular file (a FIFO, a folder, a device), or
 * writable by every user (anyone could rewrite the fleet's placements).
 * Another user's file is fine: root looks after the service's store
 * (hand_off()).  The store missing is an error unless CREATE.
 */
static int file_check(const struct np__store *s, bool create, struct np_error *err)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char name[PATH_MAX + 8];
	struct stat sb;

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		/* The store itself is named once; its other files by their names. */
		const char *what = i == 0 ? "" : i == 1 ? "its WAL '" : "its shared-memory file '";

		if ((size_t)snprintf(name, sizeof(name), "%s%s", s->path, suffix[i]) >= sizeof(name))
			return np__err(err, NP_EINPUT, "store 'sqlite:%.64s...': path too long", s->path);
		if (lstat(name, &sb) != 0) {
			if (i > 0 || (create && errno == ENOENT))
				continue;
			return np__err(err, NP_EIO, "store 'sqlite:%s': %s", s->path, strerror(errno));
		}
		if (S_ISLNK(sb.st_mode))
			return np__err(err, NP_EINPUT, "store 'sqlite:%s': %s%s%sis a symbolic link "
				       "(SQLite follows none)", s->path, what, i ? name : "",
				       i ? "' " : "");
		if (!S_ISREG(sb.st_mode))
			return np__err(err, NP_EINPUT, "store 'sqlite:%s': %s%s%sis not a regular file",
				       s->path, what, i ? name : "", i ? "' " : "");
		if (sb.st_mode & S_IWOTH)
			return np__err(err, NP_EINPUT, "store 'sqlite:%s': %s%s%sis writable by every "
				       "user (mode %04o): chmod o-w it", s->path, what, i ? name : "",
				       i ? "' " : "", (unsigned)(sb.st_mode & 07777));
	}
	return 0;
}

static int sq_open(const char *url, const char *loc, bool create, struct np__store **out,
		   struct np_error *err)
{
	struct np__store *s = calloc(1, sizeof(*s));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	const char *vfs;
	int rc;

	(void)url;
	if (!s)
		return np__err(err, NP_ENOMEM, "out of memory");
	if ((rc = location(s, loc, err)) != 0) {
		sq_close(s);
		return rc;
	}
	if ((rc = file_check(s, create, err)) != 0) {
		sq_close(s);
		return rc;
	}
	/* The WAL shim, not at FULL (store-sqlite-vfs.c: SQLite may split a frame's writes) */
	vfs = s->sync && !strcmp(s->sync, "FULL") ? NULL : np__walvfs();
	if (sqlite3_open_v2(s->path, &s->db, flags | (create ? SQLITE_OPEN_CREATE : 0), vfs)) {
		rc = !s->db ? np__err(err, NP_ENOMEM, "out of memory")
		     : sqlite3_extended_errcode(s->db) == SQLITE_CANTOPEN_SYMLINK
			     ? np__err(err, NP_EINPUT, "store 'sqlite:%s': a folder on its path "
				       "is a symbolic link (not followed): name the real path",
				       s->path)
			     : db_err(s, err, "cannot open");
		sq_close(s);
		return rc;
	}
	if ((rc = configure(s, err)) || (rc = hand_off(s, err))) {
		sq_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- what a placement holds, in its row ---------------------------------------- */

/*
 * Since schema version 3 a placement's row holds what it takes, so a
 * release and `fleet check` read it there and no table of allocations is
 * written per claim (schema_v3): column takes is "NODE RC AMOUNT" per
 * ledger row, pins is "CPU NODE" per pinned, reserved or blocked CPU,
 * each list joined by ',' and empty when there is none; e.g. takes
 * "0 mem 4096,0 pcpu 2,0 page:4 4096" and pins "2 0,3 0".  Node and CPU
 * are kernel ids; an rc has no space or comma (ledger.h).
 */

/* T as the row's takes and pins (*TAKES, *PINS: in S's buffer until the next call). */
static int held_text(struct np__store *s, const struct np__takes *t, const char **takes,
		     const char **pins, struct np_error *err)
{
	size_t need = (size_t)t->ntakes * (NP__RC_MAX + 36) + (size_t)t->npins * 24 + 2, at = 0;

	if (need > s->text_cap) {
		char *b = realloc(s->text, need);

		if (!b)
			return np__err(err, NP_ENOMEM, "out of memory");
		s->text = b, s->text_cap = need;
	}
	for (int i = 0; i < t->ntakes; i++)
		at += (size_t)snprintf(s->text + at, need - at, "%s%d %s %lld", i ? "," : "",
				       t->takes[i].node, t->takes[i].rc,
				       (long long)t->takes[i].amount);
	s->text[at++] = '\0';
	*pins = s->text + at;
	for (int i = 0; i < t->npins; i++)
		at += (size_t)snprintf(s->text + at, need - at, "%s%d %d", i ? "," : "",
				       t->pins[i].cpu, t->pins[i].node);
	s->text[at] = '\0';
	*takes = s->text;
	return 0;
}

/* A whole number at *P, from LO to HI, followed by STOP (or the end when STOP is 0). */
static bool held_num(const char **p, long long lo, long long hi, char stop, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(*p, &end, 10);
	if (end == *p || errno || *v < lo || *v > hi || (stop ? *end != stop : *end && *end != ','))
		return false;
	*p = end + (stop != 0);
	return true;
}

/* One item at *P of a takes (PINS false) or pins list into REL's given; false: not one. */
static bool held_item(const char **p, bool pins, struct np__release *rel, int *rc)
{
	char name[NP__RC_MAX];
	long long a, b;
	size_t n;

	if (!held_num(p, -1, INT32_MAX, ' ', &a))
		return false;
	if (pins) {
		if (!held_num(p, -1, INT32_MAX, 0, &b))
			return false;
		*rc = np__release_given(rel, (int)b, NULL, 0, (int)a);
		return true;
	}
	n = strcspn(*p, " ,");
	if (n == 0 || n >= sizeof(name) || (*p)[n] != ' ')
		return false;
	memcpy(name, *p, n);
	name[n] = '\0';
	*p += n + 1;
	if (!held_num(p, 0, INT64_MAX - 1, 0, &b))
		return false;
	*rc = np__release_given(rel, (int)a, name, b, 0);
	return true;
}

/*
 * The takes (PINS false) or pins TEXT of placement ID's row added to
 * REL's given.  A row that is not in the format (a store edited by hand)
 * is refused with a line naming the placement, never read half.
 */
static int held_parse(struct np__store *s, const char *id, const char *text, bool pins,
		      struct np__release *rel, struct np_error *err)
{
	const char *p = text;
	int rc = 0;

	while (*p && !rc) {
		if (!held_item(&p, pins, rel, &rc))
			return np__err(err, NP_EINPUT, "store 'sqlite:%s': placement '%.150s' holds "
				       "broken %s '%.60s'", s->path, id, pins ? "pins" : "takes",
				       text);
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return np__err(err, NP_EINPUT, "store 'sqlite:%s': placement '%.150s' holds "
				       "broken %s '%.60s'", s->path, id, pins ? "pins" : "takes",
				       text);
	}
	return rc ? np__err(err, rc, "out of memory") : 0;
}

/* What held_parse() read (ledger.c's np__takes_free is not the module's to call). */
static void held_free(struct np__takes *t)
{
	free(t->takes);
	free(t->pins);
	memset(t, 0, sizeof(*t));
}

/* Placement ID's row (Q's columns TC, TC + 1: takes, pins) into REL's given. */
static int held_read(struct np__store *s, const char *id, sqlite3_stmt *q, int tc,
		     struct np__release *rel, struct np_error *err)
{
	int rc = held_parse(s, id, col_text(q, tc), false, rel, err);

	return rc ? rc : held_parse(s, id, col_text(q, tc + 1), true, rel, err);
}

/*
 * What T holds on HOST given back: each take subtracted from its ledger
 * row, each pin deleted by its key.
 */
static int give_back(struct np__store *s, int64_t host, const struct np__takes *t,
		     struct np_error *err)
{
	sqlite3_stmt *q;

	for (int i = 0; i < t->ntakes; i++) {
		if (!(q = stmt(s, S_GIVE_BACK, err)))
			return NP_EOS;
		sqlite3_bind_int64(q, 1, host);
		sqlite3_bind_int(q, 2, t->takes[i].node);
		sqlite3_bind_text(q, 3, t->takes[i].rc, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 4, t->takes[i].amount);
		if (step_done(s, q, err))
			return NP_EOS;
	}
	for (int i = 0; i < t->npins; i++) {
		if (!(q = stmt(s, S_DEL_PIN, err)))
			return NP_EOS;
		sqlite3_bind_int64(q, 1, host);
		sqlite3_bind_int(q, 2, t->pins[i].cpu);
		if (step_done(s, q, err))
			return NP_EOS;
	}
	return 0;
}

/* ---- claims ----------------------------------------------------------------- */

/* The id exists: same request or not.  Within the open transaction. */
static int existing(struct np__store *s, const struct np__claim *c, struct np__claim_result *r,
		    struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_GET_PLACEMENT, err);

	if (!q)
		return NP_EOS;
	sqlite3_bind_text(q, 1, c->id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW)
		return db_err(s, err, "cannot read a placement");
	r->host_id = sqlite3_column_int64(q, 0);
	r->status = strcmp(col_text(q, 1), c->request) == 0 ? NP__EXISTS : NP__CONFLICT;
	sqlite3_reset(q);
	return 0;
}

/* Change mark SEQ given (np_meta 'change_seq', NEXT_SEQ). */
static int seq_taken(struct np__store *s, int64_t seq, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_SEQ_TAKEN, err);

	if (!q)
		return NP_EOS;
	sqlite3_bind_int64(q, 1, seq);
	return step_done(s, q, err);
}

/*
 * Host HOST's generation and change mark moved on (*GEN the new
 * generation, -1 when the host is gone); DELTA is what the transaction
 * changes on it (changed()).
 */
static int bump(struct np__store *s, int64_t host, const struct np__takes *delta, bool release,
		int64_t *gen, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_BUMP_HOST, err);
	int64_t seq;
	int rc;

	if (!q)
		return NP_EOS;
	sqlite3_bind_int64(q, 1, host);
	rc = sqlite3_step(q);
	*gen = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(s, err, "cannot update a host");
	seq = rc == SQLITE_ROW ? sqlite3_column_int64(q, 1) : 0;
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return 0;
	changed(s, host, *gen, seq, delta, release);
	return seq_taken(s, seq, err);
}

/* Take T on C's host (the placement's row names it already). */
static int take(struct np__store *s, const struct np__claim *c, const struct np__take *t,
		struct np__claim_result *r, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_TAKE, err);

	if (!q)
		return NP_EOS;
	sqlite3_bind_int64(q, 1, c->host_id);
	sqlite3_bind_int(q, 2, t->node);
	sqlite3_bind_text(q, 3, t->rc, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, t->amount);
	sqlite3_bind_int(q, 5, (int)t->mode);
	if (step_done(s, q, err))
		return NP_EOS;
	if (sqlite3_changes(s->db) != 1) {
		r->status = NP__NO_ROOM;
		snprintf(r->detail, sizeof(r->detail), "node %d: %s: %lld more do not fit",
			 t->node, t->rc, (long long)t->amount);
	}
	return 0;
}

static int pin(struct np__store *s, const struct np__claim *c, const struct np__pin *p,
	       struct np__claim_result *r, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_INS_PIN, err);

	if (!q)
		return NP_EOS;
	sqlite3_bind_int64(q, 1, c->host_id);
	sqlite3_bind_int(q, 2, p->cpu);
	sqlite3_bind_int(q, 3, p->node);
	sqlite3_bind_text(q, 4, c->id, -1, SQLITE_STATIC);
	if (step_done(s, q, err))
		return NP_EOS;
	if (sqlite3_changes(s->db) != 1) {
		r->status = NP__NO_ROOM;
		snprintf(r->detail, sizeof(r->detail), "node %d: CPU %d is pinned already", p->node,
			 p->cpu);
	}
	return 0;
}

/* Everything after the placement row: host lock, takes, pins. */
static int claim_body(struct np__store *s, const struct np__claim *c, struct np__claim_result *r,
		      struct np_error *err)
{
	int rc = bump(s, c->host_id, c->takes, false, &r->generation, err);

	if (!rc && r->generation < 0)
		r->status = NP__HOST_GONE;
	for (int i = 0; i < c->takes->ntakes && !rc && r->status == NP__CLAIMED; i++)
		rc = take(s, c, &c->takes->takes[i], r, err);
	for (int i = 0; i < c->takes->npins && !rc && r->status == NP__CLAIMED; i++)
		rc = pin(s, c, &c->takes->pins[i], r, err);
	return rc;
}

/*
 * R reset to "claimed" on C's host, then C's row inserted with what it
 * takes (held_text): *FRESH false when a placement with C's id was there
 * already (nothing inserted).
 */
static int insert_row(struct np__store *s, const struct np__claim *c, struct np__claim_result *r,
		      bool *fresh, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_INS_PLACEMENT, err);
	const char *takes, *pins;
	int rc;

	memset(r, 0, sizeof(*r));
	r->status = NP__CLAIMED;
	r->host_id = c->host_id;
	if (!q)
		return NP_EOS;
	if ((rc = held_text(s, c->takes, &takes, &pins, err)))
		return rc;
	sqlite3_bind_text(q, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, c->host_id);
	sqlite3_bind_text(q, 3, c->request, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, c->plan, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, takes, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, pins, -1, SQLITE_STATIC);
	if (!(rc = step_done(s, q, err)))
		*fresh = sqlite3_changes(s->db) != 0;
	return rc;
}

/* One claim inside the open transaction: the placement row, then the body. */
static int claim_in(struct np__store *s, const struct np__claim *c, struct np__claim_result *r,
		    struct np_error *err)
{
	bool fresh;
	int rc = np__pins_once(c->takes, err); /* before any write: the caller's pins */

	if (rc || (rc = insert_row(s, c, r, &fresh, err)))
		return rc;
	return fresh ? claim_body(s, c, r, err) : existing(s, c, r, err);
}

/* A claim's write transaction: open already when sq_lock_claims() took the lock. */
static int begin_claims(struct np__store *s, struct np_error *err)
{
	return sqlite3_get_autocommit(s->db) ? txn(s, TX_WRITE, err) : 0;
}

static int sq_claim(struct np__store *s, const struct np__claim *c, struct np__claim_result *r,
		    struct np_error *err)
{
	int rc = begin_claims(s, err);

	if (rc)
		return rc;
	rc = claim_in(s, c, r, err);
	if (!rc && r->status == NP__CLAIMED)
		rc = txn(s, TX_COMMIT, err);
	else if (!rc)
		rc = roll_back(s, err); /* placed already: durable before it is answered */
	if (rc)
		rollback(s);
	return rc;
}

/* ---- claims that move other placements (claim_moves) ------------------------ */

/* M's row on HOST, still with its old plan, into OLD's given: *FOUND false if not. */
static int moved_from(struct np__store *s, int64_t host, const struct np__moved *m,
		      struct np__release *old, bool *found, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_MV_OLD, err);
	int rc = 0, st;

	if (!q)
		return NP_EOS;
	sqlite3_bind_text(q, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, host);
	sqlite3_bind_text(q, 3, m->old_plan, -1, SQLITE_STATIC);
	st = sqlite3_step(q);
	*found = st == SQLITE_ROW;
	if (*found)
		rc = held_read(s, m->id, q, 0, old, err);
	else if (st != SQLITE_DONE)
		rc = db_err(s, err, "cannot read a placement");
	sqlite3_reset(q);
	return rc;
}

/*
 * M's old plan swapped for its new one (else NP__MOVED): all it took
 * given back, its row naming what the new plan takes (charged later,
 * moves_body).
 */
static int unmove(struct np__store *s, int64_t host, const struct np__moved *m,
		  struct np__claim_result *r, struct np_error *err)
{
	struct np__release old = { .id = m->id };
	const char *takes, *pins;
	sqlite3_stmt *q;
	bool found;
	int rc = moved_from(s, host, m, &old, &found, err);

	if (!rc && !found) {
		r->status = NP__MOVED;
		snprintf(r->detail, sizeof(r->detail), "placement '%.150s' changed since its "
			 "moves were planned", m->id);
	}
	if (rc || !found || (rc = give_back(s, host, &old.given, err)) ||
	    (rc = held_text(s, m->takes, &takes, &pins, err)))
		goto out;
	if (!(q = stmt(s, S_MV_PLAN, err))) {
		rc = NP_EOS;
		goto out;
	}
	sqlite3_bind_text(q, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, host);
	sqlite3_bind_text(q, 3, m->plan, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, takes, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, pins, -1, SQLITE_STATIC);
	rc = step_done(s, q, err);
out:
	held_free(&old.given);
	return rc;
}

/* TAKES and their pins charged for placement ID on C's host. */
static int charge(struct np__store *s, const struct np__claim *c, const char *id,
		  const struct np__takes *takes, struct np__claim_result *r, struct np_error *err)
{
	struct np__claim one = { id, c->host_id, NULL, NULL, takes };
	int rc = np__pins_once(takes, err); /* the caller's pins: a CPU twice is no plan */

	for (int i = 0; i < takes->ntakes && !rc && r->status == NP__CLAIMED; i++)
		rc = take(s, &one, &takes->takes[i], r, err);
	for (int i = 0; i < takes->npins && !rc && r->status == NP__CLAIMED; i++)
		rc = pin(s, &one, &takes->pins[i], r, err);
	return rc;
}

/* After C's row is in: the host locked, the moved placements swapped, then C charged. */
static int moves_body(struct np__store *s, const struct np__claim *c, const struct np__moved *mv,
		      int n, struct np__claim_result *r, struct np_error *err)
{
	int rc = bump(s, c->host_id, NULL, false, &r->generation, err); /* moves: not told */

	if (!rc && r->generation < 0)
		r->status = NP__HOST_GONE;
	for (int i = 0; i < n && !rc && r->status == NP__CLAIMED; i++)
		rc = unmove(s, c->host_id, &mv[i], r, err);
	for (int i = 0; i < n && !rc && r->status == NP__CLAIMED; i++)
		rc = charge(s, c, mv[i].id, mv[i].takes, r, err);
	if (!rc && r->status == NP__CLAIMED)
		rc = charge(s, c, c->id, c->takes, r, err);
	return rc;
}

static int sq_claim_moves(struct np__store *s, const struct np__claim *c,
			  const struct np__moved *mv, int n, struct np__claim_result *r,
			  struct np_error *err)
{
	bool fresh;
	int rc;

	if ((rc = txn(s, TX_WRITE, err)))
		return rc;
	/*
	 * Both write locks held, perhaps only after a writer outside
	 * numaplace let SQLite's go (busy() waits on): past the deadline,
	 * nothing is made, as group.c answers a queued claim.
	 */
	if (past_deadline(s)) {
		rollback(s);
		return np__err_reason(err, NP_EOS, "deadline_exceeded", "'%.200s' was not "
				      "claimed: its deadline passed while it waited for the store's "
				      "write lock", c->id);
	}
	if (!(rc = insert_row(s, c, r, &fresh, err)))
		rc = fresh ? moves_body(s, c, mv, n, r, err) : existing(s, c, r, err);
	if (!rc && r->status == NP__CLAIMED)
		rc = txn(s, TX_COMMIT, err);
	else if (!rc)
		rc = roll_back(s, err);
	if (rc)
		rollback(s);
	return rc;
}

/*
 * Group commit: N claims in one write transaction, each in a savepoint
 * that a failed check rolls back alone; one COMMIT, so one WAL sync for
 * all of them.  The write lock is held for N claims' statements, which
 * are tens of microseconds each against a sync of milliseconds.
 */
/* Claim C in a savepoint of the open transaction: a failed check undoes it alone. */
static int claim_saved(struct np__store *s, const struct np__claim *c, struct np__claim_result *r,
		       struct np_error *err)
{
	int rc = txn(s, TX_SAVEPOINT, err);

	if (rc || (rc = claim_in(s, c, r, err)))
		return rc;
	if (r->status != NP__CLAIMED && (rc = txn(s, TX_ROLLBACK_TO, err)))
		return rc;
	return txn(s, TX_RELEASE, err);
}

static int sq_claim_many(struct np__store *s, const struct np__claim *const *c,
			 struct np__claim_result *r, int n, struct np_error *err)
{
	int rc = begin_claims(s, err);

	for (int i = 0; i < n && !rc; i++)
		rc = claim_saved(s, c[i], &r[i], err);
	if (!rc)
		rc = txn(s, TX_COMMIT, err);
	if (rc)
		rollback(s);
	return rc;
}

/* The write lock, for the sq_claim_many() that follows (see store.h). */
static int sq_lock_claims(struct np__store *s, struct np_error *err)
{
	return txn(s, TX_WRITE, err);
}

/* store.h on_commit: CB after each commit, before its sync. */
static void sq_on_commit(struct np__store *s, void (*cb)(void *ctx), void *ctx)
{
	s->committed = cb;
	s->committed_ctx = ctx;
}

/*
 * One release inside the open write transaction: what it held read from
 * its row (REL's given), given back, the host's generation bumped, the
 * placement deleted (its observation with it).  Not found: nothing done.
 */
static int release_in(struct np__store *s, struct np__release *rel, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_GET_PLACEMENT, err);
	int rc = 0;

	if (!q)
		return NP_EOS;
	sqlite3_bind_text(q, 1, rel->id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		rel->host_id = sqlite3_column_int64(q, 0);
		rc = held_read(s, rel->id, q, 2, rel, err);
	}
	sqlite3_reset(q);
	if (rc || !(rel->found = rel->host_id >= 0))
		return rc;
	if ((rc = give_back(s, rel->host_id, &rel->given, err)) ||
	    (rc = bump(s, rel->host_id, &rel->given, true, &rel->generation, err)) ||
	    !(q = stmt(s, S_DEL_PLACEMENT, err)))
		return rc ? rc : NP_EOS;
	sqlite3_bind_text(q, 1, rel->id, -1, SQLITE_STATIC);
	return step_done(s, q, err);
}

static int sq_release(struct np__store *s, struct np__release *rel, struct np_error *err)
{
	int rc = begin_claims(s, err);

	if (rc)
		return rc;
	rc = release_in(s, rel, err);
	if (!rc && rel->found)
		rc = txn(s, TX_COMMIT, err);
	else if (!rc)
		rc = roll_back(s, err); /* gone: durably so before it is answered */
	if (rc)
		rollback(s);
	return rc;
}

/*
 * Group commit of claims and releases together: one write transaction,
 * each claim in its savepoint as in sq_claim_many, each release as in
 * sq_release; one COMMIT, one WAL sync for all of them.
 */
static int sq_commit_many(struct np__store *s, struct np__op *ops, int n, struct np_error *err)
{
	int rc = begin_claims(s, err);

	for (int i = 0; i < n && !rc; i++)
		rc = ops[i].rel ? release_in(s, ops[i].rel, err)
				: claim_saved(s, ops[i].c, ops[i].r, err);
	if (!rc)
		rc = txn(s, TX_COMMIT, err);
	if (rc)
		rollback(s);
	return rc;
}

/* ---- hosts ---------------------------------------------------------------- */

/* Host NAME exists: the same one (*same) or another; *id -1 when missing. */
static int find_host(struct np__store *s, const struct np__new_host *h, int64_t *id, bool *same,
		     struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_HOST_BY_NAME, err);
	int rc;

	if (!q)
		return NP_EOS;
	sqlite3_bind_text(q, 1, h->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	*id = -1;
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		*same = strcmp(col_text(q, 1), h->topo_json) == 0 &&
			sqlite3_column_double(q, 2) == h->cpu_ratio &&
			sqlite3_column_double(q, 3) == h->ram_ratio;
	} else if (rc != SQLITE_DONE) {
		return db_err(s, err, "cannot read the hosts");
	}
	sqlite3_reset(q);
	return 0;
}

/* The id of topology JSON (DIGEST), inserted when new. */
static int topo_id(struct np__store *s, const struct np__new_host *h, int64_t *id,
		   struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_TOPO_BY_DIGEST, err);
	int rc;

	if (!q)
		return NP_EOS;
	sqlite3_bind_text(q, 1, h->digest, -1, SQLITE_STATIC);
	*id = -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (strcmp(col_text(q, 1), h->topo_json) == 0)
			*id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return db_err(s, err, "cannot read the topologies");
	if (*id >= 0)
		return 0;
	if (!(q = stmt(s, S_INS_TOPO, err)))
		return NP_EOS;
	sqlite3_bind_text(q, 1, h->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, h->topo_json, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW)
		return db_err(s, err, "cannot add a topology");
	*id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return 0;
}

static int insert_host(struct np__store *s, const struct np__new_host *h, int64_t topo,
		       struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_INS_HOST, err);
	int64_t id, seq;

	if (!q)
		return NP_EOS;
	sqlite3_bind_text(q, 1, h->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, topo);
	sqlite3_bind_double(q, 3, h->cpu_ratio);
	sqlite3_bind_double(q, 4, h->ram_ratio);
	if (sqlite3_step(q) != SQLITE_ROW)
		return db_err(s, err, "cannot add the host");
	id = sqlite3_column_int64(q, 0);
	seq = sqlite3_column_int64(q, 1);
	sqlite3_reset(q);
	if (seq_taken(s, seq, err))
		return NP_EOS;
	for (int i = 0; i < h->rows->nrows; i++) {
		const struct np__row *r = &h->rows->rows[i];

		if (!(q = stmt(s, S_INS_ROW, err)))
			return NP_EOS;
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int(q, 2, r->node);
		sqlite3_bind_text(q, 3, r->rc, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 4, r->total);
		sqlite3_bind_int64(q, 5, r->cap);
		sqlite3_bind_int64(q, 6, r->used);
		if (step_done(s, q, err))
			return NP_EOS;
	}
	return 0;
}

static int sq_add_host(struct np__store *s, const struct np__new_host *h, int *added,
		       struct np_error *err)
{
	int64_t id, topo;
	bool same = false;
	int rc = txn(s, TX_WRITE, err);

	if (rc)
		return rc;
	changed(s, -1, 0, 0, NULL, false); /* a host the ring cannot name: readers scan the store */
	*added = 0;
	if ((rc = find_host(s, h, &id, &same, err)))
		goto out;
	if (id >= 0) {
		if (!same)
			rc = np__err_reason(err, NP_EINPUT, "host_exists",
					    "host '%s' is in the fleet already, with another "
					    "topology or ratios (remove it first)", h->name);
		goto out;
	}
	if ((rc = topo_id(s, h, &topo, err)) || (rc = insert_host(s, h, topo, err)) ||
	    (rc = txn(s, TX_COMMIT, err)))
		goto out;
	*added = 1;
out:
	if (!rc && !*added)
		rc = roll_back(s, err); /* there already: durably so */
	if (rc)
		rollback(s);
	return rc;
}

static int64_t one_int(struct np__store *s, enum stmt i, int64_t arg, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, i, err);
	int64_t v = -1;

	if (!q)
		return -2;
	sqlite3_bind_int64(q, 1, arg);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return v;
}

static int by_id(struct np__store *s, enum stmt i, int64_t id, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, i, err);

	if (!q)
		return NP_EOS;
	sqlite3_bind_int64(q, 1, id);
	return step_done(s, q, err);
}

static int sq_remove_host(struct np__store *s, const char *name, bool force, int *released,
			  struct np_error *err)
{
	struct np__new_host h = { .name = name, .topo_json = "" };
	int64_t id, topo, n;
	bool same;
	int rc = txn(s, TX_WRITE, err);

	if (rc)
		return rc;
	changed(s, -1, 0, 0, NULL, false); /* a host the ring cannot name: readers scan the store */
	if ((rc = find_host(s, &h, &id, &same, err)))
		goto out;
	if (id < 0) {
		rc = np__err_reason(err, NP_EINPUT, "no_host", "no host '%s' in the fleet", name);
		goto out;
	}
	n = one_int(s, S_COUNT_PLACEMENTS, id, err);
	topo = one_int(s, S_HOST_TOPO, id, err);
	if (n < 0 || topo < 0) {
		rc = n < -1 || topo < -1 ? NP_EOS : db_err(s, err, "cannot read the host");
		goto out;
	}
	if (n > 0 && !force) {
		rc = np__err_reason(err, NP_EINPUT, "host_in_use",
				    "host '%s' holds %lld placement%s (release them, or --force)",
				    name, (long long)n, n == 1 ? "" : "s");
		goto out;
	}
	if (!(rc = by_id(s, S_COUNT_REMOVAL, id, err)) &&
	    !(rc = by_id(s, S_DEL_HOST_PLACEMENTS, id, err)) &&
	    !(rc = by_id(s, S_DEL_HOST_PINS, id, err)) && !(rc = by_id(s, S_DEL_HOST, id, err)) &&
	    !(rc = by_id(s, S_DEL_TOPO, topo, err)))
		rc = txn(s, TX_COMMIT, err);
	if (!rc && released)
		*released = (int)n;
out:
	if (rc)
		rollback(s);
	return rc;
}

/* ---- reading ---------------------------------------------------------------- */

static int host_row(sqlite3_stmt *q, np__host_cb cb, void *ctx)
{
	struct np__host_rec h = {
		.id = sqlite3_column_int64(q, 0),
		.name = col_text(q, 1),
		.topo_id = sqlite3_column_int64(q, 2),
		.cpu_ratio = sqlite3_column_double(q, 3),
		.ram_ratio = sqlite3_column_double(q, 4),
		.generation = sqlite3_column_int64(q, 5),
		.placements = sqlite3_column_int(q, 6),
	};

	return cb(ctx, &h);
}

/* Run Q, calling ROW for each result; 0, the callback's code, or a db error. */
static int each(struct np__store *s, sqlite3_stmt *q, int (*row)(sqlite3_stmt *, void *),
		void *ctx, struct np_error *err)
{
	int rc, cb = 0;

	while (!cb && (rc = sqlite3_step(q)) == SQLITE_ROW)
		cb = row(q, ctx);
	if (!cb && rc != SQLITE_DONE)
		cb = db_err(s, err, "cannot read the store");
	sqlite3_reset(q);
	return cb;
}

struct hctx {
	np__host_cb cb;
	void *ctx;
	int64_t maxseq;
};

static int hosts_row(sqlite3_stmt *q, void *p)
{
	struct hctx *h = p;
	int64_t seq = sqlite3_column_int64(q, 7);

	h->maxseq = seq > h->maxseq ? seq : h->maxseq;
	return host_row(q, h->cb, h->ctx);
}

static int data_version(struct np__store *s, int64_t *v, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_DATA_VERSION, err);

	if (!q)
		return NP_EOS;
	if (sqlite3_step(q) != SQLITE_ROW)
		return db_err(s, err, "cannot read the data version");
	*v = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return 0;
}

/* CUR has scanned the store: the change ring goes on from RING, read before. */
static void scanned(struct np__store *s, struct np__cursor *cur, uint64_t ring)
{
	cur->ring = ring;
	cur->ring_ok = s->wl != NULL;
	cur->checked = np__store_now_ns();
}

/*
 * How long a cursor may go on the change ring alone before it scans the
 * store again: a writer that does not add to the ring (a numaplace older
 * than the ring, or one that could not open the lock file) is seen
 * within this.  Summaries are hints: a missed change costs a refused
 * claim, never an over-commit.
 */
#define RING_TRUST_NS (INT64_C(1000) * 1000000)

/*
 * The hosts changed since CUR, from the change ring (store-lock.h)
 * instead of the store: no statement, no read lock, no page read.  1 when
 * the ring told (each change passed to CB as a record with no name, no
 * placement count, and what the change was when the ring knows; *RC CB's
 * answer), 0 when it cannot: scan the store.
 */
static int ring_scan(struct np__store *s, struct np__cursor *cur, np__host_cb cb, void *ctx,
		     int *rc)
{
	struct np__wchange c;
	int got;

	if (!cur->ring_ok || !s->wl || np__store_now_ns() - cur->checked > RING_TRUST_NS)
		return 0;
	*rc = 0;
	while (!*rc && (got = np__wlock_change(s->wl, cur->ring, &c)) > 0) {
		struct np__takes d = { c.ntakes, c.takes, c.npins, c.pins };
		struct np__host_rec r = { .id = c.id, .generation = c.generation, .placements = -1,
					  .delta = c.kind == NP__WCHANGE_ONLY ? NULL : &d,
					  .release = c.kind == NP__WCHANGE_RELEASE };

		/*
		 * Every change takes the next mark (NEXT_SEQ): a mark skipped is
		 * a change some writer made without the ring; a name below 0, a
		 * change it cannot name.
		 */
		if (c.id < 0 || (c.seq > cur->v[0] && c.seq != cur->v[0] + 1))
			return 0;
		if (c.seq > cur->v[0] && (*rc = cb(ctx, &r)))
			break;
		cur->v[0] = c.seq > cur->v[0] ? c.seq : cur->v[0]; /* else seen by the store's scan */
		cur->ring++;
	}
	return got >= 0 || *rc;
}

static int sq_hosts(struct np__store *s, struct np__cursor *cur, np__host_cb cb, void *ctx,
		    struct np_error *err)
{
	struct hctx h = { cb, ctx, 0 };
	bool since = cur && cur->started;
	sqlite3_stmt *q;
	int64_t dv = 0, removals = 0;
	uint64_t ring = 0;
	int rc;

	if (since && ring_scan(s, cur, cb, ctx, &rc))
		return rc;
	/* Before the store's scan: a change added after this is read again, not lost. */
	if (cur && s->wl)
		ring = np__wlock_changes_at(s->wl);
	if (cur && (rc = data_version(s, &dv, err)))
		return rc;
	if (since && dv == cur->data_version) {
		scanned(s, cur, ring);
		return 0; /* nobody else committed: nothing changed */
	}
	/* Before the hosts: a removal after this read shows at the next scan. */
	if (cur && (removals = one_int(s, S_REMOVALS, 0, err)) < -1)
		return NP_EOS;
	if (!(q = stmt(s, since ? S_HOSTS_SINCE : cur ? S_HOSTS_ALL : S_HOSTS_LIGHT, err)))
		return NP_EOS;
	if (since)
		sqlite3_bind_int64(q, 1, cur->v[0]);
	h.maxseq = since ? cur->v[0] : 0;
	rc = each(s, q, hosts_row, &h, err);
	if (!rc && cur) {
		if (since && removals != cur->v[1])
			cur->removed = true;
		cur->v[0] = h.maxseq;
		cur->v[1] = removals;
		cur->data_version = dv;
		cur->started = true;
		scanned(s, cur, ring);
	}
	return rc;
}

static int sq_topology(struct np__store *s, int64_t id, char **json, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_TOPO, err);
	int rc;

	if (!q)
		return NP_EOS;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*json = strdup(col_text(q, 0));
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? np__err(err, NP_EINPUT, "topology %lld is missing from "
						   "the store", (long long)id)
					 : db_err(s, err, "cannot read a topology");
	return *json ? 0 : np__err(err, NP_ENOMEM, "out of memory");
}

struct lctx {
	np__row_cb row_cb;
	np__pin_cb pin_cb;
	np__host_cb gen_cb;
	void *ctx;
};

static int rows_row(sqlite3_stmt *q, void *p)
{
	struct lctx *l = p;
	struct np__row r = {
		.node = sqlite3_column_int(q, 1),
		.total = sqlite3_column_int64(q, 3),
		.cap = sqlite3_column_int64(q, 4),
		.used = sqlite3_column_int64(q, 5),
	};

	np__rc_copy(r.rc, col_text(q, 2));
	return l->row_cb(l->ctx, sqlite3_column_int64(q, 0), &r);
}

static int pins_row(sqlite3_stmt *q, void *p)
{
	struct lctx *l = p;

	return l->pin_cb(l->ctx, sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1),
			 sqlite3_column_int(q, 2), col_text(q, 3));
}

static int gens_row(sqlite3_stmt *q, void *p)
{
	struct lctx *l = p;

	return host_row(q, l->gen_cb, l->ctx);
}

/* Bind HOST to Q when it names one host. */
static sqlite3_stmt *for_host(struct np__store *s, enum stmt one, enum stmt all, int64_t host,
			      struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, host >= 0 ? one : all, err);

	if (q && host >= 0)
		sqlite3_bind_int64(q, 1, host);
	return q;
}

static int sq_ledgers(struct np__store *s, int64_t host, np__row_cb row_cb, np__pin_cb pin_cb,
		      np__host_cb gen_cb, void *ctx, struct np_error *err)
{
	struct lctx l = { row_cb, pin_cb, gen_cb, ctx };
	sqlite3_stmt *q;
	bool own = sqlite3_get_autocommit(s->db);
	int rc = own ? txn(s, TX_BEGIN, err) : 0; /* one snapshot for the three reads */

	if (rc)
		return rc;
	if (!(q = for_host(s, S_GENS_ONE, S_GENS_ALL, host, err)) ||
	    (rc = each(s, q, gens_row, &l, err)) ||
	    !(q = for_host(s, S_ROWS_ONE, S_ROWS_ALL, host, err)) ||
	    (rc = each(s, q, rows_row, &l, err)) ||
	    !(q = for_host(s, S_PINS_ONE, S_PINS_ALL, host, err)) ||
	    (rc = each(s, q, pins_row, &l, err)))
		rc = rc ? rc : NP_EOS;
	if (own)
		rollback(s);
	return rc;
}

struct pctx {
	np__placement_cb cb;
	void *ctx;
	int n; /* rows */
};

static int placement_row(sqlite3_stmt *q, void *p)
{
	struct pctx *c = p;
	struct np__placement_rec r = {
		.id = col_text(q, 0),
		.host_id = sqlite3_column_int64(q, 1),
		.request = col_text(q, 2),
		.plan = col_text(q, 3),
	};

	c->n++;
	return c->cb(c->ctx, &r);
}

static int sq_placements(struct np__store *s, const char *id, int64_t host, np__placement_cb cb,
			 void *ctx, struct np_error *err)
{
	struct pctx c = { cb, ctx, 0 };
	sqlite3_stmt *q;
	int rc;

	if (id) {
		if (!(q = stmt(s, S_PLACEMENT_ONE, err)))
			return NP_EOS;
		sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	} else if (!(q = for_host(s, S_PLACEMENTS_HOST, S_PLACEMENTS_ALL, host, err))) {
		return NP_EOS;
	}
	rc = each(s, q, placement_row, &c, err);
	/*
	 * One placement asked for by id is what a retried POST is answered
	 * with ("placed already") and what GET answers: durable first, as a
	 * commit is, when it may be another connection's not synced yet.
	 */
	if (!rc && id && c.n && s->late_sync)
		rc = settle(s, false, err);
	return rc;
}

struct actx {
	struct np__store *s;
	struct np_error *err;
	np__alloc_cb cb;
	np__pin_cb pin_cb;
	void *ctx;
	int64_t row_pins, table_pins; /* pins the rows name, rows of np_pins */
};

/*
 * The pins placement ID's row names (on HOST, from held_parse) are rows
 * of np_pins that name it, in cpu order as claims write them: a release
 * deletes the pins its row names, so `fleet check`, which checks np_pins
 * against the plans, checks the rows against np_pins here (with the
 * count in sq_allocations, each pin of np_pins is named by one row).
 */
static int pins_named(struct actx *a, const char *id, int64_t host, const struct np__takes *t)
{
	sqlite3_stmt *q;
	bool ok = true;

	for (int i = 0; ok && i < t->npins; i++) {
		if (!(q = stmt(a->s, S_PIN_OWNER, a->err)))
			return NP_EOS;
		sqlite3_bind_int64(q, 1, host);
		sqlite3_bind_int(q, 2, t->pins[i].cpu);
		ok = sqlite3_step(q) == SQLITE_ROW && !strcmp(col_text(q, 0), id) &&
		     (i == 0 || t->pins[i].cpu > t->pins[i - 1].cpu);
		sqlite3_reset(q);
		if (!ok)
			return np__err(a->err, NP_EINPUT, "store 'sqlite:%s': placement '%.150s' "
				       "names CPU %d, which np_pins does not hold for it (or out of "
				       "order)", a->s->path, id, t->pins[i].cpu);
	}
	a->row_pins += t->npins;
	return 0;
}

/* One placement's takes, from its row (held_parse), to the callback one by one. */
static int alloc_row(sqlite3_stmt *q, void *p)
{
	struct actx *a = p;
	const char *id = col_text(q, 0);
	struct np__release held = { .id = id };
	int rc = held_read(a->s, id, q, 1, &held, a->err);

	if (!rc)
		rc = pins_named(a, id, sqlite3_column_int64(q, 3), &held.given);
	for (int i = 0; !rc && i < held.given.ntakes; i++)
		rc = a->cb(a->ctx, id, held.given.takes[i].node, held.given.takes[i].rc,
			   held.given.takes[i].amount);
	held_free(&held.given);
	return rc;
}

static int alloc_pin_row(sqlite3_stmt *q, void *p)
{
	struct actx *a = p;

	a->table_pins++;
	return a->pin_cb(a->ctx, sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1),
			 sqlite3_column_int(q, 2), col_text(q, 3));
}

static int sq_allocations(struct np__store *s, np__alloc_cb cb, np__pin_cb pin_cb, void *ctx,
			  struct np_error *err)
{
	struct actx a = { s, err, cb, pin_cb, ctx, 0, 0 };
	sqlite3_stmt *q;
	int rc = 0;

	if (!(q = stmt(s, S_ALLOCS, err)) || (rc = each(s, q, alloc_row, &a, err)) ||
	    !(q = stmt(s, S_PINS_ALL, err)) || (rc = each(s, q, alloc_pin_row, &a, err)))
		return rc ? rc : NP_EOS;
	if (a.row_pins != a.table_pins)
		return np__err(err, NP_EINPUT, "store 'sqlite:%s': np_pins holds %lld pins, the "
			       "placements' rows name %lld", s->path, (long long)a.table_pins,
			       (long long)a.row_pins);
	return 0;
}

static int sq_snapshot(struct np__store *s, bool begin, struct np_error *err)
{
	if (!begin) {
		rollback(s); /* read only: nothing to keep */
		return 0;
	}
	/* A deferred transaction takes its snapshot at the first read: read now. */
	if (txn(s, TX_BEGIN, err))
		return err ? err->code : NP_EOS;
	return exec(s, "SELECT 1 FROM np_meta LIMIT 1", err);
}

/* ---- observations ----------------------------------------------------------- */

static int obs_insert(struct np__store *s, const struct np__obs_rec *o, struct np_error *err)
{
	sqlite3_stmt *q = stmt(s, S_OBS_DEL, err);
	int rc;

	if (!q)
		return NP_EOS;
	sqlite3_bind_text(q, 1, o->placement, -1, SQLITE_STATIC);
	if ((rc = step_done(s, q, err)) || !(q = stmt(s, S_OBS_INS, err)))
		return rc ? rc : NP_EOS;
	sqlite3_bind_text(q, 1, o->placement, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, o->host_id);
	sqlite3_bind_int64(q, 3, o->at);
	sqlite3_bind_text(q, 4, o->source, -1, SQLITE_STATIC);
	if (o->pid > 0)
		sqlite3_bind_int(q, 5, o->pid);
	if (o->domain)
		sqlite3_bind_text(q, 6, o->domain, -1, SQLITE_STATIC);
	if ((rc = step_done(s, q, err)))
		return rc;
	for (int i = 0; i < o->nnodes; i++) {
		if (!(q = stmt(s, S_OBS_NODE, err)))
			return NP_EOS;
		sqlite3_bind_text(q, 1, o->placement, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 2, o->nodes[i].node);
		sqlite3_bind_int64(q, 3, o->nodes[i].memory_mb);
		sqlite3_bind_int(q, 4, o->nodes[i].vcpus);
		if ((rc = step_done(s, q, err)))
			return rc;
	}
	return 0;
}

static int sq_observe_set(struct np__store *s, const struct np__obs_rec *o,
			  enum np__obs_status *status, struct np_error *err)
{
	sqlite3_stmt *q;
	int64_t host = -1;
	int rc = txn(s, TX_WRITE, err);

	if (rc)
		return rc;
	if (!(q = stmt(s, S_GET_PLACEMENT, err))) {
		rc = NP_EOS;
		goto out;
	}
	sqlite3_bind_text(q, 1, o->placement, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		host = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	*status = host < 0 ? NP__OBS_NO_PLACEMENT
		  : host != o->host_id ? NP__OBS_OTHER_HOST : NP__OBS_STORED;
	if (*status == NP__OBS_STORED && !(rc = obs_insert(s, o, err)))
		rc = txn(s, TX_COMMIT, err);
out:
	rollback(s); /* nothing to undo after a COMMIT */
	return rc;
}

static int obs_row(sqlite3_stmt *q, void *p)
{
	bool dom = sqlite3_column_type(q, 4) != SQLITE_NULL;
	struct np__obs_node n = { sqlite3_column_int(q, 5), sqlite3_column_int64(q, 6),
				  sqlite3_column_int(q, 7) };

	return np__obs_acc_row(p, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
			       col_text(q, 2), sqlite3_column_int(q, 3),
			       dom ? col_text(q, 4) : NULL,
			       sqlite3_column_type(q, 5) == SQLITE_NULL ? NULL : &n);
}

static int sq_observe_get(struct np__store *s, const char *id, np__obs_cb cb, void *ctx,
			  struct np_error *err)
{
	struct np__obs_acc a;
	sqlite3_stmt *q = stmt(s, S_OBS_GET, err);
	int rc;

	if (!q)
		return NP_EOS;
	if ((rc = np__obs_acc_init(&a, id, err)))
		return rc;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	return np__obs_acc_done(&a, each(s, q, obs_row, &a, err), cb, ctx);
}

static const struct np__store_driver np__store_sqlite = {
	.scheme = "sqlite",
	.schema = NP__FLEET_SCHEMA_SQLITE,
	.open = sq_open,
	.close = sq_close,
	.version = sq_version,
	.migrate = sq_migrate,
	.add_host = sq_add_host,
	.remove_host = sq_remove_host,
	.hosts = sq_hosts,
	.topology = sq_topology,
	.ledgers = sq_ledgers,
	.claim = sq_claim,
	.claim_moves = sq_claim_moves,
	.claim_many = sq_claim_many,
	.lock_claims = sq_lock_claims,
	.wait_until = sq_wait_until,
	.on_commit = sq_on_commit,
	.release = sq_release,
	.commit_many = sq_commit_many,
	.placements = sq_placements,
	.snapshot = sq_snapshot,
	.allocations = sq_allocations,
	.observe_set = sq_observe_set,
	.observe_get = sq_observe_get,
};

/* The module (lib/module/module.h): its one export. */
NP__MODULE(sqlite, NULL, &np__store_sqlite);
