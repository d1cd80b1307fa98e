/*
 * store-postgresql.c - the postgresql:// fleet store (store.h), through
 * libpq: what several scheduler replicas share.
 *
 * Design:
 * - A claim is one round trip: np_claim(...)'s transaction, a PL/pgSQL
 *   function the schema installs, run by this connection's temporary
 *   np_claim_try() (temp_fns: refusals answered, not raised; generic
 *   plans) in libpq's pipeline: one implicit transaction in READ
 *   COMMITTED for all the claims a process sends at once (group.c).  It
 *   inserts the placement with its takes and pins as arrays in its row
 *   (schema_v5; its id there already: same request -> 'exists', other ->
 *   'conflict'), and in one UPDATE of the host row locks and bumps it
 *   (so two claims on one host take turns and the generation moves) and
 *   charges every take in the host's ledger, arrays in that row since
 *   schema_v7, with the ledger's predicate (np_charge(); a waiting UPDATE
 *   computes it again on the row's newest version: HOST_CHARGE_SET), then
 *   checks that no other placement on the host pins one of its CPUs
 *   (PIN_CHECK: after the host row's lock).  Any failed check raises, and
 *   the claim's subtransaction rolls back.  A release gives back in its
 *   own UPDATE of the host row.  Locks are always taken placement row ->
 *   host row, by claims and releases alike, so they cannot deadlock.  research/fleet.md measured
 *   this protocol at 3,300-11,300 claims/s on this kind of VM.
 * - Change scans: every write sets its host's change_seq from a sequence.
 *   Sequence values are taken before commit, so a scan "change_seq >
 *   since" could miss a transaction still committing: each scan starts
 *   at a sequence value read at least LAG_NS before (a replica's handles
 *   share one cursor, fleet.c's feed, so its scans come a millisecond
 *   apart: "the previous scan's value" would be too recent), every
 *   DEEP_NS one starts at a value at least WINDOW_NS old, and the fleet's
 *   full scan every few seconds catches anything slower.  Summaries are
 *   a hint either way: the claim above is the only judge.
 * - Large reads (every ledger at start-up, the checker) use libpq's
 *   single-row mode, so memory does not grow with the fleet.
 * - Adding and removing hosts take a transaction-level advisory lock:
 *   those are rare, and two adds of one name must not race.
 * - After a bulk load (a fleet import, the benchmark's 1,000 hosts) the
 *   planner's statistics still describe the empty tables until
 *   autovacuum's ANALYZE, up to a minute later: the change scan reads
 *   every host row instead of its index.  A handle's first add and every
 *   ANALYZE_EVERY-th one ask the server whether a host table has doubled
 *   in pages since its statistics (stale_stats: a catalog read, no scan)
 *   and then ANALYZE them.
 *
 * Errors: a URL libpq cannot parse (or a port out of range) is NP_EINPUT
 * with libpq's message, checked before connecting (url_check); an
 * unreachable server is NP_EIO with libpq's first line; a failing
 * statement NP_EOS with the server's message.
 *
 * This is the only file that includes libpq-fe.h; it is module
 * postgresql (numaplace-postgresql.so), exporting nothing but its
 * descriptor.
 */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <numaplace/limits.h>

#include "fleet/store.h"
#include "module/module.h"
#include "util/util.h"

#define WINDOW_NS (INT64_C(100) * 1000000)
#ifndef DEEP_NS /* -DDEEP_NS=...: a build to measure another */
#define DEEP_NS (INT64_C(50) * 1000000)
#endif
#ifndef LAG_NS
#define LAG_NS (INT64_C(10) * 1000000)
#endif
#define MARK_STEP_NS (INT64_C(2) * 1000000)
#define ADMIN_LOCK "SELECT pg_advisory_xact_lock(7355608)"
#define ANALYZE_EVERY 32 /* hosts a handle adds between two looks at the statistics */

enum stmt {
	P_VERSION,
	P_CLAIM_TRY,
	P_RELEASE,
	P_RELEASE_HOSTS,
	P_HOST_BY_NAME,
	P_TOPO_BY_DIGEST,
	P_INS_TOPO,
	P_INS_HOST,
	P_COUNT_PLACEMENTS,
	P_DEL_HOST_PLACEMENTS,
	P_DEL_HOST,
	P_DEL_TOPO,
	P_HOSTS_ALL,
	P_HOSTS_LIGHT,
	P_HOSTS_SINCE,
	P_TOPO,
	P_LEDGER_ONE,
	P_LEDGER_ALL,
	P_PLACEMENT_ONE,
	P_PLACEMENTS_HOST,
	P_PLACEMENTS_ALL,
	P_ALLOCS,
	P_PINS_ALL,
	P_SEQ,
	P_OBSERVE,
	P_OBS_GET,
	P_COUNT_REMOVAL,
	P_DEADLINE,
	P_BY_DEADLINE,
	P_COUNT
};

#define HOST_COLS                                                                          \
	"SELECT h.id, h.name, h.topology_id, h.cpu_ratio, h.ram_ratio, h.generation, "       \
	"(SELECT count(*) FROM np_placements p WHERE p.host_id = h.id) "
/*
 * One row a host: its columns, then its ledger rows as five arrays read in
 * step (node, rc, total, cap, used: the host row's own since schema_v7)
 * and its pins as two (cpu, node).  Each aggregate of one query level
 * sees its rows in one order, so the pin arrays line up; a host without
 * pins has NULL ones.  Rows came one per ledger row and pin before (~90 a
 * host: 40 inventory, ~50 pins): a DataRow, nine columns and a PGresult
 * row each, and three replicas re-read a host ~0.4 times a placement
 * (docs/bench/service.md, "pg-ledger").
 * One host (LEDGER_ONE) aggregates LATERAL, without GROUP BY: its generic
 * plan then expects one row, where a GROUP BY's expected dozens of groups,
 * costing the count's subplan once per each, past jit_above_cost (JIT
 * compiled every read: 3 ms a read, measured).  Every host (LEDGER_ALL)
 * joins grouped aggregates (hash joins; one lookup per host was 6 times
 * slower over 1,000).  The host anchors the join: a pin of a host that is
 * gone is still found by `fleet check`, which compares every pin
 * (P_PINS_ALL) with the plans.
 */
#define LEDGER_COLS                                                                          \
	"SELECT h.id, h.generation, coalesce(x.n, 0), h.topology_id, h.name, h.cpu_ratio, "  \
	"h.ram_ratio, h.inv_nodes, h.inv_rcs, h.inv_total, h.inv_cap, h.inv_used, x.cpu, "   \
	"x.node FROM np_hosts h "
/*
 * Schema 5: the pins are the host's placements' arrays, joined into one
 * array literal each ("{" and "}" around the elements; NULL without pins).
 */
#define LEDGER_PIN_ARR(col)                                                                  \
	"'{' || string_agg(array_to_string(" col ", ','), ',') FILTER (WHERE "                \
	"cardinality(" col ") > 0) || '}'"
#define LEDGER_PINS                                                                          \
	"count(*) AS n, " LEDGER_PIN_ARR("cpus") " AS cpu, " LEDGER_PIN_ARR("cpu_nodes")     \
	" AS node FROM np_placements "
#define LEDGER_ONE                                                                           \
	LEDGER_COLS "CROSS JOIN LATERAL (SELECT " LEDGER_PINS "WHERE host_id = h.id) x "     \
		    "WHERE h.id = $1"
#define LEDGER_ALL                                                                           \
	LEDGER_COLS "LEFT JOIN (SELECT host_id, " LEDGER_PINS "GROUP BY host_id) x "         \
		    "ON x.host_id = h.id"

/*
 * The largest mark handed out: a fresh sequence says last_value 1 before
 * its first nextval() (is_called false), and that 1 is still to come.
 */
#define SEQ_SEEN "CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
/* Removals so far (-1: none yet): a removal leaves no change mark (store.h, np__cursor). */
#define REMOVALS "COALESCE((SELECT value::bigint FROM np_meta WHERE key = 'removals'), -1)"
/*
 * The change scan (P_HOSTS_SINCE, through pg_temp.np_hosts_since() for
 * its plan: temp_fns): the sequence and the removal count first (tag row
 * id -1), then the hosts marked after P_SINCE.
 */
#define HOSTS_SINCE                                                                          \
	"SELECT -1::bigint, " REMOVALS ", " SEQ_SEEN ", NULL::text FROM np_change_seq "      \
	"UNION ALL SELECT h.id, h.generation, h.change_seq, h.last_change "                   \
	"FROM np_hosts h WHERE h.change_seq > p_since"

/*
 * A transaction under a deadline ($1 milliseconds left; see "deadlines"
 * below): its lock waits and statements end by then, and np.deadline,
 * the server's own clock then, is what np_by_deadline() checks before
 * the commit.  Local settings: they end with the transaction.
 */
#define SET_DEADLINE                                                                         \
	"SELECT set_config('lock_timeout', $1::text, true), "                                \
	"set_config('statement_timeout', $1::text, true), set_config('np.deadline', "        \
	"(clock_timestamp() + $1::text::bigint * interval '1 millisecond')::text, true)"

static const char *const sql[P_COUNT] = {
	[P_VERSION] = "SELECT value FROM np_meta WHERE key = 'version'",
	[P_CLAIM_TRY] = "SELECT pg_temp.np_claim_try($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
	[P_RELEASE] = "SELECT pg_temp.np_release_try($1)",
	/* The hosts of a batch's releases, read first: the batch then locks hosts in order. */
	[P_RELEASE_HOSTS] = "SELECT id, host_id FROM np_placements WHERE id = ANY ($1::text[])",
	[P_HOST_BY_NAME] = "SELECT h.id, t.json, h.cpu_ratio, h.ram_ratio, h.topology_id "
			   "FROM np_hosts h JOIN np_topologies t ON t.id = h.topology_id "
			   "WHERE h.name = $1 FOR UPDATE OF h",
	[P_TOPO_BY_DIGEST] = "SELECT id, json FROM np_topologies WHERE digest = $1",
	[P_INS_TOPO] = "INSERT INTO np_topologies (digest, json) VALUES ($1, $2) RETURNING id",
	/* The host with its ledger's rows (schema_v7), as the caller ordered them. */
	[P_INS_HOST] = "INSERT INTO np_hosts (name, topology_id, cpu_ratio, ram_ratio, generation, "
		       "change_seq, inv_nodes, inv_rcs, inv_total, inv_cap, inv_used) VALUES ($1, "
		       "$2, $3, $4, 1, nextval('np_change_seq'), $5, $6, $7, $8, $9) RETURNING id",
	[P_COUNT_PLACEMENTS] = "SELECT count(*) FROM np_placements WHERE host_id = $1",
	/* Their allocations and pins are in their rows (schema_v5). */
	[P_DEL_HOST_PLACEMENTS] = "DELETE FROM np_placements WHERE host_id = $1",
	[P_DEL_HOST] = "DELETE FROM np_hosts WHERE id = $1",
	[P_DEL_TOPO] = "DELETE FROM np_topologies WHERE id = $1 AND NOT EXISTS "
		       "(SELECT 1 FROM np_hosts WHERE topology_id = $1)",
	[P_HOSTS_ALL] = HOST_COLS ", 0::bigint FROM np_hosts h ORDER BY h.name",
	/* The periodic full scan: no placement counts (-1). */
	[P_HOSTS_LIGHT] = "SELECT h.id, h.name, h.topology_id, h.cpu_ratio, h.ram_ratio, "
			  "h.generation, -1::bigint, 0::bigint FROM np_hosts h",
	/*
	 * The sequence and the removal count first (tag row id -1), then the
	 * hosts marked after SINCE: id and generation only.  A host's name,
	 * topology and ratios never change under its id (ids come from a
	 * sequence; registering a name again with other ones is refused
	 * until it is removed, and a removal is counted), so a handle that
	 * knows the id needs nothing more, and one that does not scans every
	 * host (scan_host).  Their text and floats were most of the rows'
	 * output, three replicas scanning ~30 rows a placement.  No
	 * placement counts (-1: a count moves only with the generation, and
	 * the ledger read counts them).  The last change (schema_v6) says
	 * what the generation's change was, when numaplace made it.
	 */
	[P_HOSTS_SINCE] = "SELECT * FROM pg_temp.np_hosts_since($1)", /* HOSTS_SINCE */
	[P_TOPO] = "SELECT json FROM np_topologies WHERE id = $1",
	[P_LEDGER_ONE] = LEDGER_ONE,
	[P_LEDGER_ALL] = LEDGER_ALL,
	[P_PLACEMENT_ONE] = "SELECT id, host_id, request, plan FROM np_placements WHERE id = $1",
	[P_PLACEMENTS_HOST] = "SELECT id, host_id, request, plan FROM np_placements "
			      "WHERE host_id = $1 ORDER BY id",
	[P_PLACEMENTS_ALL] = "SELECT id, host_id, request, plan FROM np_placements ORDER BY id",
	[P_ALLOCS] = "SELECT p.id, a.node, a.rc, a.amount FROM np_placements p, "
		     "unnest(p.a_nodes, p.a_rcs, p.a_amounts) AS a(node, rc, amount)",
	[P_PINS_ALL] = "SELECT p.host_id, x.cpu, x.node, p.id FROM np_placements p, "
		       "unnest(p.cpus, p.cpu_nodes) AS x(cpu, node)",
	[P_SEQ] = "SELECT " SEQ_SEEN ", " REMOVALS " FROM np_change_seq",
	[P_COUNT_REMOVAL] = "INSERT INTO np_meta VALUES ('removals', '1') ON CONFLICT (key) DO "
			    "UPDATE SET value = (np_meta.value::bigint + 1)::text",
	[P_OBSERVE] = "SELECT np_observe($1, $2, $3, $4, $5, $6, $7, $8, $9)",
	/*
 * The claim's middle up to schema 6, in the stored np_claim() (schema_v1,
 * STORED_FNS): bump the host row (its lock orders the claims on one host;
 * SET, text starting with a comma: what else it sets there), charge every
 * take with the ledger's predicate and check every row took it.  Needs p_*
 * as np_claim()'s parameters and v_gen, v_n declared.  Since schema 7 the
 * ledger is in the host row: HOST_CHARGE_SET.
 */
#define CLAIM_CHARGE_SET(set) \
	"  UPDATE np_hosts SET generation = generation + 1, change_seq = nextval('np_change_seq')" \
	set "   WHERE id = p_host RETURNING generation INTO v_gen;\n" \
	"  IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = 'NP001', MESSAGE = 'host gone'; END IF;\n" \
	"  UPDATE np_inventory i SET used = i.used + d.amount" \
	"   FROM unnest(p_nodes, p_rcs, p_amounts, p_modes) AS d(node, rc, amount, mode)" \
	"   WHERE i.host_id = p_host AND i.node = d.node AND i.rc = d.rc AND (d.mode = 0 OR" \
	"    (i.used + d.amount <= i.cap AND (d.mode = 1 OR i.used + d.amount <= i.total)));\n" \
	"  GET DIAGNOSTICS v_n = ROW_COUNT;\n" \
	"  IF v_n <> coalesce(cardinality(p_nodes), 0) THEN\n" \
	"    RAISE EXCEPTION USING ERRCODE = 'NP002'," \
	"     MESSAGE = 'a node has no room left for the plan'; END IF;\n"
#define CLAIM_CHARGE CLAIM_CHARGE_SET("")

/* A claim's placement already there: the same request is 'exists', another 'conflict'. */
#define CLAIM_EXISTING \
	"  IF NOT FOUND THEN\n" \
	"    SELECT host_id, request INTO v_host, v_request FROM np_placements WHERE id = p_id;\n" \
	"    IF v_request = p_request THEN RETURN 'exists ' || v_host; END IF;\n" \
	"    RETURN 'conflict ' || v_host;\n" \
	"  END IF;\n"

/* A claim's placement row with its takes and pins (schema_v5); the caller ends the statement. */
#define CLAIM_INSERT \
	"  INSERT INTO np_placements (id, host_id, request, plan, a_nodes, a_rcs, a_amounts," \
	"   cpus, cpu_nodes) VALUES (p_id, p_host, p_request, p_plan, p_nodes, p_rcs, p_amounts," \
	"   p_cpus, p_cpu_nodes)"

/* A release gives back what the placement took (its row's arrays, read into v_*; to schema 6). */
#define RELEASE_GIVE_BACK \
	"  UPDATE np_inventory i SET used = i.used - a.amount" \
	"   FROM unnest(v_nodes, v_rcs, v_amounts) AS a(node, rc, amount)" \
	"   WHERE i.host_id = v_host AND i.node = a.node AND i.rc = a.rc;\n"

/*
 * Schema 7: the host row's ledger (its inv_* arrays) charged with TAKES,
 * "NODES, RCS, AMOUNTS, MODES" as SQL, SIGN 1 (a claim's takes) or -1
 * (given back): np_charge() of schema_v7, the new inv_used.
 */
#define NP_CHARGE(takes, sign) \
	"np_charge(inv_nodes, inv_rcs, inv_total, inv_cap, inv_used, " takes ", " sign ")"

/*
 * The claim's middle since schema 7, in the stored np_claim() and
 * np_claim_try(): one UPDATE of the host row bumps it (its lock orders
 * the claims on one host; SET: what else it sets) and charges the takes
 * in its inv_used.  np_charge() answers NULL when a take does not fit,
 * and the RETURNING says so (-1): the claim raises, and the NULL written
 * is undone with it.  The predicate is in the SET, not the WHERE: a
 * WHERE is first evaluated on the statement's snapshot, and a row it
 * refuses there is skipped without waiting for the claim that holds it
 * (a release in flight would make a claim fail that fits after it).  In
 * the SET the row is always locked, and a waiting UPDATE computes it
 * again on the row's newest version (READ COMMITTED's recheck), as the
 * WHERE of the old np_inventory UPDATE was after the host row's lock.
 */
#define HOST_CHARGE_SET(set) \
	"  UPDATE np_hosts SET generation = generation + 1, change_seq = nextval('np_change_seq')," \
	"   inv_used = " NP_CHARGE("p_nodes, p_rcs, p_amounts, p_modes", "1") set \
	"   WHERE id = p_host RETURNING CASE WHEN inv_used IS NULL THEN -1 ELSE generation END" \
	"   INTO v_gen;\n" \
	"  IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = 'NP001', MESSAGE = 'host gone'; END IF;\n" \
	"  IF v_gen < 0 THEN RAISE EXCEPTION USING ERRCODE = 'NP002'," \
	"   MESSAGE = 'a node has no room left for the plan'; END IF;\n"

/* Schema 7: a release's SET on the host row giving back what the placement took (v_*). */
#define HOST_GIVE_BACK ", inv_used = " NP_CHARGE("v_nodes, v_rcs, v_amounts, NULL", "-1")

/* The observation once per node (or once with NULLs when it has none). */
	[P_OBS_GET] = "SELECT o.host_id, o.at, o.source, o.pid, o.domain, n.node, n.memory_mb, "
		      "n.vcpus FROM np_observations o LEFT JOIN np_observed_nodes n "
		      "ON n.placement_id = o.placement_id WHERE o.placement_id = $1 ORDER BY n.node",
	[P_DEADLINE] = SET_DEADLINE,
	[P_BY_DEADLINE] = "SELECT pg_temp.np_by_deadline()",
};

static const char schema_v1[] =
	"CREATE TABLE np_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE np_topologies (id BIGSERIAL PRIMARY KEY, digest TEXT NOT NULL,"
	" json TEXT NOT NULL);"
	"CREATE INDEX np_topologies_digest ON np_topologies (digest);"
	"CREATE SEQUENCE np_change_seq;"
	"CREATE TABLE np_hosts (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" topology_id BIGINT NOT NULL REFERENCES np_topologies (id),"
	" cpu_ratio DOUBLE PRECISION NOT NULL, ram_ratio DOUBLE PRECISION NOT NULL,"
	" generation BIGINT NOT NULL, change_seq BIGINT NOT NULL);"
	"CREATE INDEX np_hosts_change ON np_hosts (change_seq);"
	"CREATE TABLE np_inventory (host_id BIGINT NOT NULL REFERENCES np_hosts (id)"
	" ON DELETE CASCADE, node INTEGER NOT NULL, rc TEXT NOT NULL, total BIGINT NOT NULL,"
	" cap BIGINT NOT NULL, used BIGINT NOT NULL CHECK (used >= 0),"
	" PRIMARY KEY (host_id, node, rc));"
	"CREATE TABLE np_placements (id TEXT PRIMARY KEY, host_id BIGINT NOT NULL"
	" REFERENCES np_hosts (id), request TEXT NOT NULL, plan TEXT NOT NULL);"
	"CREATE INDEX np_placements_host ON np_placements (host_id);"
	"CREATE TABLE np_allocations (placement_id TEXT NOT NULL REFERENCES np_placements (id)"
	" ON DELETE CASCADE, node INTEGER NOT NULL, rc TEXT NOT NULL, amount BIGINT NOT NULL,"
	" PRIMARY KEY (placement_id, node, rc));"
	"CREATE TABLE np_pins (host_id BIGINT NOT NULL, cpu INTEGER NOT NULL,"
	" node INTEGER NOT NULL, placement_id TEXT NOT NULL REFERENCES np_placements (id)"
	" ON DELETE CASCADE, PRIMARY KEY (host_id, cpu));"
	"CREATE INDEX np_pins_placement ON np_pins (placement_id);"
	/* The claim (see the top of this file); modes as in ledger.h. */
	"CREATE FUNCTION np_claim(p_id TEXT, p_host BIGINT, p_request TEXT, p_plan TEXT,"
	" p_nodes INTEGER[], p_rcs TEXT[], p_amounts BIGINT[], p_modes INTEGER[],"
	" p_cpus INTEGER[], p_cpu_nodes INTEGER[]) RETURNS TEXT LANGUAGE plpgsql AS $f$\n"
	"DECLARE v_host BIGINT; v_request TEXT; v_gen BIGINT; v_n INTEGER;\n"
	"BEGIN\n"
	"  INSERT INTO np_placements (id, host_id, request, plan)"
	"   VALUES (p_id, p_host, p_request, p_plan) ON CONFLICT (id) DO NOTHING;\n"
	CLAIM_EXISTING
	CLAIM_CHARGE
	"  INSERT INTO np_allocations (placement_id, node, rc, amount)"
	"   SELECT p_id, d.node, d.rc, d.amount FROM unnest(p_nodes, p_rcs, p_amounts)"
	"   AS d(node, rc, amount);\n"
	"  INSERT INTO np_pins (host_id, cpu, node, placement_id)"
	"   SELECT p_host, x.cpu, x.node, p_id FROM unnest(p_cpus, p_cpu_nodes) AS x(cpu, node)"
	"   ON CONFLICT DO NOTHING;\n"
	"  GET DIAGNOSTICS v_n = ROW_COUNT;\n"
	"  IF v_n <> coalesce(cardinality(p_cpus), 0) THEN\n"
	"    RAISE EXCEPTION USING ERRCODE = 'NP003', MESSAGE = 'a CPU is pinned already'; END IF;\n"
	"  RETURN 'claimed ' || v_gen;\n"
	"END $f$;"
	"CREATE FUNCTION np_release(p_id TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $f$\n"
	"DECLARE v_host BIGINT;\n"
	"BEGIN\n"
	"  SELECT host_id INTO v_host FROM np_placements WHERE id = p_id FOR UPDATE;\n"
	"  IF NOT FOUND THEN RETURN -1; END IF;\n"
	"  UPDATE np_hosts SET generation = generation + 1, change_seq = nextval('np_change_seq')"
	"   WHERE id = v_host;\n"
	"  UPDATE np_inventory i SET used = i.used - a.amount FROM np_allocations a"
	"   WHERE a.placement_id = p_id AND i.host_id = v_host AND i.node = a.node"
	"   AND i.rc = a.rc;\n"
	"  DELETE FROM np_placements WHERE id = p_id;\n"
	"  RETURN v_host;\n"
	"END $f$;"
	"INSERT INTO np_meta VALUES ('schema', 'numaplace.fleet');";

/*
 * Version 2: what the host agents saw, per placement the latest only
 * (docs/formats/fleet.md), replaced in one round trip by np_observe(),
 * which locks the placement row first as claims and releases do.
 */
static const char schema_v2[] =
	"CREATE TABLE np_observations (placement_id TEXT PRIMARY KEY REFERENCES np_placements (id)"
	" ON DELETE CASCADE, host_id BIGINT NOT NULL, at BIGINT NOT NULL,"
	" source TEXT NOT NULL, pid INTEGER, domain TEXT);"
	"CREATE TABLE np_observed_nodes (placement_id TEXT NOT NULL REFERENCES np_observations"
	" (placement_id) ON DELETE CASCADE, node INTEGER NOT NULL,"
	" memory_mb BIGINT NOT NULL CHECK (memory_mb >= 0), vcpus INTEGER NOT NULL"
	" CHECK (vcpus >= 0), PRIMARY KEY (placement_id, node));"
	"CREATE FUNCTION np_observe(p_id TEXT, p_host BIGINT, p_at BIGINT, p_source TEXT,"
	" p_pid INTEGER, p_domain TEXT, p_nodes INTEGER[], p_mem BIGINT[], p_vcpus INTEGER[])"
	" RETURNS TEXT LANGUAGE plpgsql AS $f$\n"
	"DECLARE v_host BIGINT;\n"
	"BEGIN\n"
	"  SELECT host_id INTO v_host FROM np_placements WHERE id = p_id FOR SHARE;\n"
	"  IF NOT FOUND THEN RETURN 'none'; END IF;\n"
	"  IF v_host <> p_host THEN RETURN 'host'; END IF;\n"
	"  INSERT INTO np_observations (placement_id, host_id, at, source, pid, domain)"
	"   VALUES (p_id, p_host, p_at, p_source, p_pid, p_domain) ON CONFLICT (placement_id)"
	"   DO UPDATE SET host_id = excluded.host_id, at = excluded.at, source = excluded.source,"
	"   pid = excluded.pid, domain = excluded.domain;\n"
	"  DELETE FROM np_observed_nodes WHERE placement_id = p_id;\n"
	"  INSERT INTO np_observed_nodes (placement_id, node, memory_mb, vcpus)"
	"   SELECT p_id, d.node, d.mem, d.vcpus FROM unnest(p_nodes, p_mem, p_vcpus)"
	"   AS d(node, mem, vcpus);\n"
	"  RETURN 'ok';\n"
	"END $f$;";

/*
 * Version 3 changed SQLite's layout only (a placement's allocations and
 * pins in its row: fewer B-trees per commit, store-sqlite.c); here a
 * claim is one function call whatever the tables, so they stay.
 */
static const char schema_v3[] = "SELECT 1";

/*
 * Version 4 (PostgreSQL's alone; SQLite stays at 3): the claim's tables
 * lose their foreign keys.  Each one was a trigger per row the claim
 * wrote -- a SELECT ... FOR KEY SHARE on the placement for every
 * allocation and pin, on the host for the placement (a second lock on a
 * row other replicas' claims hold, so a MultiXact) -- about 9 a claim,
 * and a cascade DELETE per table a release: work the claim's own order
 * already makes needless.  A placement's allocations and pins are
 * written only in the transaction that inserts it (np_claim(),
 * claim_moves), after its row; they go with it in the same transaction
 * (np_release(), the temporary np_release_try(), remove_host, the moves'
 * MV_DEL_*); a placement's host is checked by the claim's UPDATE of that
 * host row (no row: "host gone", all undone), and a host is removed only
 * under its row lock with its placements.  `fleet check` still finds any
 * allocation or pin without its placement (the counts must match).
 * IF EXISTS: a store some earlier numaplace rewound to version 1 by hand
 * (tests do) may have lost them already.  Observations keep theirs: an
 * agent's write, not the claim's.
 */
static const char schema_v4[] =
	"ALTER TABLE np_allocations DROP CONSTRAINT IF EXISTS np_allocations_placement_id_fkey;"
	"ALTER TABLE np_pins DROP CONSTRAINT IF EXISTS np_pins_placement_id_fkey;"
	"ALTER TABLE np_placements DROP CONSTRAINT IF EXISTS np_placements_host_id_fkey;"
	"CREATE OR REPLACE FUNCTION np_release(p_id TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $f$\n"
	"DECLARE v_host BIGINT;\n"
	"BEGIN\n"
	"  DELETE FROM np_placements WHERE id = p_id RETURNING host_id INTO v_host;\n"
	"  IF NOT FOUND THEN RETURN -1; END IF;\n"
	"  UPDATE np_hosts SET generation = generation + 1, change_seq = nextval('np_change_seq')"
	"   WHERE id = v_host;\n"
	"  WITH a AS (DELETE FROM np_allocations WHERE placement_id = p_id"
	"   RETURNING node, rc, amount)"
	"  UPDATE np_inventory i SET used = i.used - a.amount FROM a"
	"   WHERE i.host_id = v_host AND i.node = a.node AND i.rc = a.rc;\n"
	"  DELETE FROM np_pins WHERE placement_id = p_id;\n"
	"  RETURN v_host;\n"
	"END $f$;";

/*
 * A claim's pin check (schema 5): no other placement on the host holds
 * any of P_CPUS.  Run after CLAIM_CHARGE's UPDATE of the host row: claims
 * on one host take turns on that lock, and in READ COMMITTED each
 * statement of a PL/pgSQL function sees what committed before it began,
 * so a claim that waited sees the pins of the one it waited for.
 */
#define PIN_CHECK \
	"  IF cardinality(p_cpus) > 0 AND EXISTS (SELECT 1 FROM np_placements o" \
	"   WHERE o.host_id = p_host AND o.id <> p_id AND o.cpus && p_cpus) THEN\n" \
	"    RAISE EXCEPTION USING ERRCODE = 'NP003', MESSAGE = 'a CPU is pinned already'; END IF;\n"

/*
 * Version 5 (PostgreSQL's; SQLite did the same in its version 3): a
 * placement's allocations and pins are arrays in its own row, as the
 * claim already receives them.  A claim wrote ~12 rows and ~25 index
 * entries (one np_allocations row per node and resource, one np_pins row
 * and two index entries per pinned CPU) and a release deleted them all
 * again, each a WAL record and later a vacuum's work; now a claim
 * inserts one placement row and a release deletes it.  Pins stay unique
 * per host by PIN_CHECK, in place of np_pins' primary key.  The rows
 * move into the arrays in the migration's transaction; an allocation or
 * pin whose placement is gone (`fleet check` reports those at version 4)
 * stops the migration rather than vanish with its table.
 */
static const char schema_v5[] =
	"DO $m$ BEGIN\n"
	"  IF EXISTS (SELECT 1 FROM np_allocations a WHERE NOT EXISTS (SELECT 1 FROM"
	"   np_placements p WHERE p.id = a.placement_id)) OR EXISTS (SELECT 1 FROM np_pins x"
	"   WHERE NOT EXISTS (SELECT 1 FROM np_placements p WHERE p.id = x.placement_id"
	"   AND p.host_id = x.host_id)) THEN\n"
	"    RAISE EXCEPTION 'np_allocations or np_pins hold rows of no placement: "
	"the store needs repair before version 5 (fleet check says which)'; END IF;\n"
	"END $m$;"
	"ALTER TABLE np_placements ADD COLUMN a_nodes INTEGER[] NOT NULL DEFAULT '{}',"
	" ADD COLUMN a_rcs TEXT[] NOT NULL DEFAULT '{}',"
	" ADD COLUMN a_amounts BIGINT[] NOT NULL DEFAULT '{}',"
	" ADD COLUMN cpus INTEGER[] NOT NULL DEFAULT '{}',"
	" ADD COLUMN cpu_nodes INTEGER[] NOT NULL DEFAULT '{}';"
	"UPDATE np_placements p SET a_nodes = a.node, a_rcs = a.rc, a_amounts = a.amount"
	" FROM (SELECT placement_id, array_agg(node ORDER BY node, rc) AS node,"
	" array_agg(rc ORDER BY node, rc) AS rc, array_agg(amount ORDER BY node, rc) AS amount"
	" FROM np_allocations GROUP BY placement_id) a WHERE a.placement_id = p.id;"
	"UPDATE np_placements p SET cpus = x.cpu, cpu_nodes = x.node"
	" FROM (SELECT placement_id, array_agg(cpu ORDER BY cpu) AS cpu,"
	" array_agg(node ORDER BY cpu) AS node FROM np_pins GROUP BY placement_id) x"
	" WHERE x.placement_id = p.id;"
	"DROP TABLE np_allocations; DROP TABLE np_pins;";

/*
 * Version 5's np_claim() and np_release(), for other clients: the same
 * answers.  SET: what else their UPDATE of the host row sets (version 6
 * clears last_change there).  Version 7's are STORED_FNS_OF with the
 * host row's charge and give-back (CHARGE, RELEASE: the host UPDATEs) and
 * with SETTINGS (enable_seqscan = off, as np_claim_try()'s).
 */
#define STORED_FNS(set) \
	STORED_FNS_OF("", CLAIM_CHARGE_SET(set), RELEASE_HOST(set) RELEASE_GIVE_BACK)
/* A release's UPDATE of its host row up to schema 6; SET as STORED_FNS's. */
#define RELEASE_HOST(set) \
	"  UPDATE np_hosts SET generation = generation + 1, change_seq = nextval('np_change_seq')" \
	set "   WHERE id = v_host;\n"
#define STORED_FNS_OF(settings, charge, release) \
	"CREATE OR REPLACE FUNCTION np_claim(p_id TEXT, p_host BIGINT, p_request TEXT, p_plan TEXT," \
	" p_nodes INTEGER[], p_rcs TEXT[], p_amounts BIGINT[], p_modes INTEGER[]," \
	" p_cpus INTEGER[], p_cpu_nodes INTEGER[]) RETURNS TEXT LANGUAGE plpgsql" settings " AS $f$\n" \
	"DECLARE v_host BIGINT; v_request TEXT; v_gen BIGINT; v_n INTEGER;\n" \
	"BEGIN\n" \
	"  p_nodes := coalesce(p_nodes, '{}'); p_rcs := coalesce(p_rcs, '{}');\n" \
	"  p_amounts := coalesce(p_amounts, '{}'); p_cpus := coalesce(p_cpus, '{}');\n" \
	"  p_cpu_nodes := coalesce(p_cpu_nodes, '{}');\n" \
	"  IF cardinality(p_cpus) <> cardinality(p_cpu_nodes) THEN\n" \
	"    RAISE EXCEPTION USING ERRCODE = '22023'," \
	"     MESSAGE = 'p_cpus and p_cpu_nodes differ in length'; END IF;\n" \
	/* np_pins' key refused a CPU named twice; numaplace's own takes never do (ledger.c). */ \
	"  IF cardinality(p_cpus) <> (SELECT count(DISTINCT c) FROM unnest(p_cpus) AS c) THEN\n" \
	"    RAISE EXCEPTION USING ERRCODE = 'NP003', MESSAGE = 'a CPU is pinned already'; END IF;\n" \
	CLAIM_INSERT " ON CONFLICT (id) DO NOTHING;\n" \
	CLAIM_EXISTING \
	charge \
	PIN_CHECK \
	"  RETURN 'claimed ' || v_gen;\n" \
	"END $f$;" \
	"CREATE OR REPLACE FUNCTION np_release(p_id TEXT) RETURNS BIGINT LANGUAGE plpgsql" settings \
	" AS $f$\n" \
	"DECLARE v_host BIGINT; v_nodes INTEGER[]; v_rcs TEXT[]; v_amounts BIGINT[];\n" \
	"BEGIN\n" \
	"  DELETE FROM np_placements WHERE id = p_id" \
	"   RETURNING host_id, a_nodes, a_rcs, a_amounts INTO v_host, v_nodes, v_rcs, v_amounts;\n" \
	"  IF NOT FOUND THEN RETURN -1; END IF;\n" \
	release \
	"  RETURN v_host;\n" \
	"END $f$;"

static const char schema_v5_fns[] = STORED_FNS("");

/*
 * Version 6: the host row says what its last change was (last_change,
 * "GEN KIND;TAKES;PINS": KIND c for a claim, with "NODE RC AMOUNT MODE"
 * per take, r for a release, with "NODE RC AMOUNT"; "CPU NODE" per pin;
 * all separated by spaces), so a change scan tells the other replicas
 * what to do to their view instead of making them read the host again
 * (pg_hosts, since_row).  Only numaplace's own claim and release
 * (temp_fns) write it; the stored functions, the moves and anything else
 * leave the text of an older generation or clear it, and a reader then
 * reads the host as before.  A column without a default: no rewrite.
 * IF NOT EXISTS: a store rewound to an older version by hand (tests do)
 * may have it already.
 */
static const char schema_v6[] = "ALTER TABLE np_hosts ADD COLUMN IF NOT EXISTS last_change TEXT";
static const char schema_v6_fns[] = STORED_FNS(", last_change = NULL");

/*
 * Version 7: a host's ledger is in its own row, five arrays in step
 * (inv_nodes, inv_rcs, inv_total, inv_cap, inv_used: one element per node
 * and resource, what np_inventory's rows were), so a claim charges its
 * takes in the UPDATE of the host row it makes anyway (HOST_CHARGE_SET)
 * and a release gives back in its own: one statement each instead of
 * two, one row version and its WAL instead of one per ledger row (the
 * np_inventory UPDATE was the claim's largest statement, 69 us a call:
 * docs/bench/service.md, "pg-cpu4").  The arrays' lengths agree and no
 * used is below 0 (np_inventory's CHECK): np_hosts_inventory.  inv_used
 * may be NULL only inside a claim that did not fit (it raises).  The rows
 * move in the migration's transaction, ordered by node and rc; a new
 * host's come in the caller's order.
 *
 * np_charge() adds each take's amount times SIGN to its element (found
 * by node and rc: the node's first element, then the rc from there on)
 * and answers the new array, or NULL when a take names no element or,
 * SIGN 1, breaks the ledger's predicate (ledger.h's modes: 0 unchecked,
 * 1 within cap, 2 within cap and total).  A give-back (SIGN -1) skips
 * what it does not find, as np_inventory's UPDATE did.  IMMUTABLE: its
 * answer is its arguments'.
 */
static const char schema_v7[] =
	"ALTER TABLE np_hosts ADD COLUMN inv_nodes INTEGER[] NOT NULL DEFAULT '{}',"
	" ADD COLUMN inv_rcs TEXT[] NOT NULL DEFAULT '{}',"
	" ADD COLUMN inv_total BIGINT[] NOT NULL DEFAULT '{}',"
	" ADD COLUMN inv_cap BIGINT[] NOT NULL DEFAULT '{}',"
	" ADD COLUMN inv_used BIGINT[] DEFAULT '{}',"
	" ADD CONSTRAINT np_hosts_inventory CHECK (cardinality(inv_rcs) = cardinality(inv_nodes)"
	" AND cardinality(inv_total) = cardinality(inv_nodes) AND cardinality(inv_cap) ="
	" cardinality(inv_nodes) AND cardinality(inv_used) = cardinality(inv_nodes)"
	" AND 0 <= ALL (inv_used));"
	"UPDATE np_hosts h SET inv_nodes = i.node, inv_rcs = i.rc, inv_total = i.total,"
	" inv_cap = i.cap, inv_used = i.used FROM (SELECT host_id,"
	" array_agg(node ORDER BY node, rc) AS node, array_agg(rc ORDER BY node, rc) AS rc,"
	" array_agg(total ORDER BY node, rc) AS total, array_agg(cap ORDER BY node, rc) AS cap,"
	" array_agg(used ORDER BY node, rc) AS used FROM np_inventory GROUP BY host_id) i"
	" WHERE i.host_id = h.id;"
	"DROP TABLE np_inventory;"
	"CREATE OR REPLACE FUNCTION np_charge(h_nodes INTEGER[], h_rcs TEXT[], h_total BIGINT[],"
	" h_cap BIGINT[], h_used BIGINT[], p_nodes INTEGER[], p_rcs TEXT[], p_amounts BIGINT[],"
	" p_modes INTEGER[], p_sign INTEGER) RETURNS BIGINT[] LANGUAGE plpgsql IMMUTABLE AS $f$\n"
	"DECLARE k INTEGER; u BIGINT;\n"
	"BEGIN\n"
	"  FOR i IN 1 .. coalesce(cardinality(p_nodes), 0) LOOP\n"
	"    k := array_position(h_nodes, p_nodes[i]);\n"
	"    IF k IS NOT NULL THEN k := array_position(h_rcs, p_rcs[i], k); END IF;\n"
	"    WHILE k IS NOT NULL AND h_nodes[k] <> p_nodes[i] LOOP\n"
	"      k := array_position(h_rcs, p_rcs[i], k + 1); END LOOP;\n"
	"    IF k IS NULL AND p_sign < 0 THEN CONTINUE; END IF;\n"
	"    IF k IS NULL THEN RETURN NULL; END IF;\n"
	"    u := h_used[k] + p_sign * p_amounts[i];\n"
	"    IF p_sign > 0 AND p_modes[i] <> 0 AND (u > h_cap[k] OR (p_modes[i] <> 1 AND"
	"     u > h_total[k])) THEN RETURN NULL; END IF;\n"
	"    h_used[k] := u;\n"
	"  END LOOP;\n"
	"  RETURN h_used;\n"
	"END $f$";
/* Its np_claim() and np_release(): the host row's charge, and (note-20) no sequential scans. */
static const char schema_v7_fns[] =
	STORED_FNS_OF(" SET enable_seqscan = off", HOST_CHARGE_SET(", last_change = NULL"),
		      RELEASE_HOST(HOST_GIVE_BACK ", last_change = NULL"));

/*
 * migrations[v] takes a store from version v to v + 1 (one or two texts:
 * C11 compilers need not take a literal over 4,095 bytes); version 0 is
 * an empty database.
 */
static const char *const migrations[NP__FLEET_SCHEMA_POSTGRESQL][2] = {
	{ schema_v1, NULL }, { schema_v2, NULL }, { schema_v3, NULL }, { schema_v4, NULL },
	{ schema_v5, schema_v5_fns }, { schema_v6, schema_v6_fns }, { schema_v7, schema_v7_fns }
};

/*
 * The sequence values the last scans read and when each was read (oldest
 * first, at least MARK_STEP_NS apart), where the next scan starts
 * (since_next), and when a scan last reached WINDOW_NS back (DEEP).  Any
 * value read from the sequence will do as a mark, whichever connection
 * read it: a group's handles share one set (struct shared_marks, the
 * cursor's), a connection scanning alone keeps its own.
 */
#define MARKS 64

struct marks {
	struct {
		int64_t t, seq;
	} m[MARKS];
	int n;
	int64_t deep;
};

/* A group's marks (np__cursor.shared): its handles scan on several threads. */
struct shared_marks {
	pthread_mutex_t mu;
	struct marks marks;
};

struct np__store {
	PGconn *conn;
	struct marks marks; /* for a cursor without shared marks */
	char *shown; /* the URL for messages, without a password */
	bool prepared[P_COUNT];
	bool streaming; /* inside each(): libpq can run no other query now */
	bool have_fns;	/* the pg_temp functions (temp_fns) made on this connection */
	int64_t until;	  /* wait_until: the deadline of the claims and releases run now, or 0 */
	int64_t batch_until; /* lock_claims: UNTIL then, for the claim_many/commit_many that follows */
	int64_t tx_until; /* the deadline of the transaction in flight (errors map to it), or 0 */
	unsigned adds;	  /* hosts this handle added (stale_stats: every ANALYZE_EVERY) */
};

/* ---- errors and statements ----------------------------------------------- */

/* The first line of libpq's or the server's message. */
static const char *first_line(const char *m, char *buf, size_t size)
{
	size_t n = strcspn(m ? m : "", "\n");

	snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), m ? m : "");
	return buf;
}

static int conn_err(struct np__store *s, int code, struct np_error *err, const char *what)
{
	char line[300];

	return np__err(err, code, "store '%s': %s: %s", s->shown, what,
		       first_line(PQerrorMessage(s->conn), line, sizeof(line)));
}

/*
 * SQLSTATE ST ends a transaction under a deadline (tx_until) because of
 * it: lock_timeout (55P03), statement_timeout (57014), or the check
 * before the commit (NP004, temp_fns' np_by_deadline()).
 */
static bool deadline_state(const char *st)
{
	return st && (!strcmp(st, "55P03") || !strcmp(st, "57014") || !strcmp(st, "NP004"));
}

static int res_err(struct np__store *s, PGresult *r, struct np_error *err, const char *what)
{
	char line[300];
	const char *m = r ? PQresultErrorMessage(r) : NULL;

	if (PQstatus(s->conn) != CONNECTION_OK)
		return conn_err(s, NP_EOS, err, what);
	first_line(m && *m ? m : PQerrorMessage(s->conn), line, sizeof(line));
	if (s->tx_until && r && deadline_state(PQresultErrorField(r, PG_DIAG_SQLSTATE)))
		return np__err_reason(err, NP_EOS, "deadline_exceeded", "store '%s': %s: its "
				      "deadline passed, nothing was made: %s", s->shown, what, line);
	return np__err(err, NP_EOS, "store '%s': %s: %s", s->shown, what, line);
}

static bool ok(PGresult *r)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE;
}

static int prepare(struct np__store *s, enum stmt i, struct np_error *err)
{
	char name[8];
	PGresult *r;
	int rc = 0;

	if (s->streaming) /* a caller's row callback ran a query: a bug, said loudly */
		return np__err(err, NP_EOS, "internal error: a query while rows stream in");
	if (s->prepared[i])
		return 0;
	snprintf(name, sizeof(name), "np%d", (int)i);
	r = PQprepare(s->conn, name, sql[i], 0, NULL);
	if (!ok(r))
		rc = res_err(s, r, err, "cannot prepare a statement");
	else
		s->prepared[i] = true;
	PQclear(r);
	return rc;
}

/* Run prepared statement I; the result (NULL with ERR filled on failure). */
static PGresult *run(struct np__store *s, enum stmt i, int n, const char *const *params,
		     struct np_error *err)
{
	char name[8];
	PGresult *r;

	if (prepare(s, i, err))
		return NULL;
	snprintf(name, sizeof(name), "np%d", (int)i);
	r = PQexecPrepared(s->conn, name, n, params, NULL, NULL, 0);
	if (!ok(r)) {
		res_err(s, r, err, "a statement failed");
		PQclear(r);
		return NULL;
	}
	return r;
}

static int exec(struct np__store *s, const char *q, struct np_error *err)
{
	PGresult *r = s->streaming ? NULL : PQexec(s->conn, q);
	int rc = ok(r) ? 0 : res_err(s, r, err, "a statement failed");

	PQclear(r);
	return rc;
}

static void rollback(struct np__store *s)
{
	if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		PQclear(PQexec(s->conn, "ROLLBACK"));
}

/* One row of a result: what each()'s callbacks read with cnum(), ctext(), cnull(). */
struct row {
	PGresult *r;
	int i;
};

typedef int (*row_fn)(const struct row *w, void *ctx);

/*
 * The reads that grow with the fleet (every host's ledger, every
 * placement, allocation and pin) stream in libpq's single-row mode, so
 * memory does not grow with it.  The rest (one host's ledger, the hosts
 * changed since the last scan, one placement) come as one result: single-
 * row mode makes a PGresult for every row, a copy of the columns'
 * descriptions and all, and three replicas read a host's ~65 ledger rows
 * 2.5 times a placement (each reads what the others changed): that copying
 * was 6 % of their CPU (docs/bench/service.md, "svc-pg").
 */
static bool streamed(enum stmt i)
{
	return i == P_LEDGER_ALL || i == P_HOSTS_ALL || i == P_HOSTS_LIGHT ||
	       i == P_PLACEMENTS_ALL || i == P_ALLOCS || i == P_PINS_ALL;
}

/* Every row of a whole result R to ROW, until one fails. */
static int each_row(PGresult *r, row_fn row, void *ctx)
{
	int rc = 0;

	for (int i = 0; !rc && i < PQntuples(r); i++)
		rc = row(&(struct row){ r, i }, ctx);
	return rc;
}

/* Run I, calling ROW for each row (in single-row mode when streamed(I)). */
static int each(struct np__store *s, enum stmt i, int n, const char *const *params, row_fn row,
		void *ctx, struct np_error *err)
{
	char name[8];
	PGresult *r;
	int rc = 0;

	if ((rc = prepare(s, i, err)))
		return rc;
	snprintf(name, sizeof(name), "np%d", (int)i);
	if (!PQsendQueryPrepared(s->conn, name, n, params, NULL, NULL, 0) ||
	    (streamed(i) && !PQsetSingleRowMode(s->conn)))
		return conn_err(s, NP_EOS, err, "cannot send a query");
	s->streaming = true;
	while ((r = PQgetResult(s->conn)) != NULL) {
		if (!rc && !ok(r))
			rc = res_err(s, r, err, "a query failed");
		else if (!rc && PQresultStatus(r) == PGRES_SINGLE_TUPLE)
			rc = row(&(struct row){ r, 0 }, ctx);
		else if (!rc && PQresultStatus(r) == PGRES_TUPLES_OK)
			rc = each_row(r, row, ctx); /* no rows at the end of a streamed one */
		PQclear(r); /* every result is read, even after an error */
	}
	s->streaming = false;
	return rc;
}

static int64_t num(PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? 0 : strtoll(PQgetvalue(r, 0, col), NULL, 10);
}

static const char *text(PGresult *r, int col)
{
	return PQgetvalue(r, 0, col);
}

static bool cnull(const struct row *w, int col)
{
	return PQgetisnull(w->r, w->i, col);
}

static int64_t cnum(const struct row *w, int col)
{
	return cnull(w, col) ? 0 : strtoll(PQgetvalue(w->r, w->i, col), NULL, 10);
}

static const char *ctext(const struct row *w, int col)
{
	return PQgetvalue(w->r, w->i, col);
}

/* ---- opening -------------------------------------------------------------- */

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The URL for messages: a password in it becomes '*'. */
static char *shown_url(const char *url)
{
	char *s = strdup(url), *p;

	if (!s)
		return NULL;
	if ((p = strstr(s, "password=")) != NULL)
		for (p += 9; *p && *p != ' ' && *p != '&'; p++)
			*p = '*';
	if ((p = strstr(s, "://")) != NULL) {
		char *at = strchr(p + 3, '@'), *colon = strchr(p + 3, ':');

		for (; at && colon && colon < at && ++colon < at;)
			*colon = '*';
	}
	return s;
}

/*
 * The database's schema version into *V: 0 when it has none yet.  Asks
 * whether np_meta exists first: a failed query would abort the
 * transaction a migration reads this in.
 */
static int pg_version(struct np__store *s, long *v, struct np_error *err)
{
	PGresult *r = PQexec(s->conn, "SELECT to_regclass('np_meta') IS NULL");
	int rc = 0;

	*v = 0;
	if (!ok(r) || PQntuples(r) != 1) {
		rc = res_err(s, r, err, "cannot read the schema version");
	} else if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		PQclear(r);
		r = PQexec(s->conn, sql[P_VERSION]);
		if (!ok(r))
			rc = res_err(s, r, err, "cannot read the schema version");
		else if (PQntuples(r) != 1 || !np__parse_int(PQgetvalue(r, 0, 0), 1, 1 << 20, v))
			rc = np__err(err, NP_EINPUT, "store '%s' has a broken numaplace schema "
				     "version", s->shown);
	}
	PQclear(r);
	return rc;
}

/* Bring the schema to NP__FLEET_SCHEMA_POSTGRESQL, one migration at a time, in one transaction. */
static int pg_migrate(struct np__store *s, struct np_error *err)
{
	char set[128];
	long v = 0;
	int rc = exec(s, "BEGIN", err);

	/* Under the lock, read again: another process may have migrated it. */
	if (!rc && !(rc = exec(s, ADMIN_LOCK, err)))
		rc = pg_version(s, &v, err);
	for (; !rc && v < NP__FLEET_SCHEMA_POSTGRESQL; v++) {
		snprintf(set, sizeof(set), "INSERT INTO np_meta VALUES ('version', '%ld') ON CONFLICT "
			 "(key) DO UPDATE SET value = excluded.value", v + 1);
		rc = exec(s, migrations[v][0], err);
		if (!rc && migrations[v][1])
			rc = exec(s, migrations[v][1], err);
		if (!rc)
			rc = exec(s, set, err);
	}
	if (!rc)
		rc = exec(s, "COMMIT", err);
	rollback(s);
	return rc;
}


static void pg_close(struct np__store *s)
{
	if (!s)
		return;
	PQfinish(s->conn);
	free(s->shown);
	free(s);
}

/*
 * MSG with every run of URL's characters that SHOWN hides (a password:
 * shown_url() replaces it in place, so both have one length) hidden in it
 * too: libpq quotes the token it could not decode, which may be one.
 */
static void hide_secret(char *msg, const char *url, const char *shown)
{
	size_t n = strlen(url), i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && url[j] != shown[j])
			j++;
		if (j == i) {
			i++;
			continue;
		}
		for (char *q = msg; *q; q++)
			if (!strncmp(q, url + i, j - i))
				memset(q, '*', j - i);
		i = j;
	}
}

/* Port list P ("5432" or "5432,5433", empty parts: the default) in range: 1 to 65535. */
static bool ports_ok(const char *p)
{
	char part[16];

	while (p && *p) {
		size_t n = strcspn(p, ",");
		long v;

		if (n >= sizeof(part))
			return false;
		memcpy(part, p, n);
		part[n] = '\0';
		if (n && !np__parse_int(part, 1, 65535, &v))
			return false;
		p += n + (p[n] == ',');
	}
	return true;
}

/*
 * LOCATION parsed by libpq before any connection is tried, so a malformed
 * URL (a bad %-escape, an unknown parameter, a port out of range) is bad
 * input (NP_EINPUT, libpq's message) and not "cannot connect", which is
 * an unreachable server.
 */
static int url_check(const struct np__store *s, const char *url, const char *location,
		     struct np_error *err)
{
	char *why = NULL, line[300];
	PQconninfoOption *o = PQconninfoParse(location, &why);
	int rc = 0;

	if (!o && !why)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (!o) {
		first_line(why, line, sizeof(line));
		PQfreemem(why);
		hide_secret(line, url, s->shown);
		return np__err(err, NP_EINPUT, "store '%s': bad URL: %s", s->shown, line);
	}
	for (PQconninfoOption *i = o; i->keyword && !rc; i++)
		if (!strcmp(i->keyword, "port") && !ports_ok(i->val))
			rc = np__err(err, NP_EINPUT, "store '%s': bad URL: port '%s' is not a "
				     "number from 1 to 65535", s->shown, i->val);
	PQconninfoFree(o);
	return rc;
}

static int pg_open(const char *url, const char *location, bool create, struct np__store **out,
		   struct np_error *err)
{
	struct np__store *s = calloc(1, sizeof(*s));
	int rc;

	if (!s || !(s->shown = shown_url(url))) {
		free(s);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	if ((rc = url_check(s, url, location, err)) != 0) {
		pg_close(s);
		return rc;
	}
	s->conn = PQconnectdb(location);
	if (!s->conn) {
		pg_close(s);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		rc = conn_err(s, NP_EIO, err, "cannot connect");
		pg_close(s);
		return rc;
	}
	PQsetNoticeProcessor(s->conn, ignore_notice, NULL);
	/*
	 * No JIT on our own connections: PostgreSQL compiles any statement
	 * whose plan costs past jit_above_cost (100,000) on every call, and a
	 * generic plan's guesses can get there for a read of a few rows
	 * (LEDGER_ONE took 3 ms a read so, measured: docs/bench/service.md,
	 * "pg-ledger").  Our statements are short; compiling never pays.
	 * Unanswered: a server before 11 has no jit setting, nothing to turn off.
	 */
	PQclear(PQexec(s->conn, "SET jit = off"));
	(void)create; /* the database exists or not: libpq cannot create it */
	*out = s;
	return 0;
}

/* ---- claims ---------------------------------------------------------------- */

/* Postgres array literals: {1,2} and {"a","b"}. */
static void int_array(FILE *m, const void *base, int n, size_t stride, size_t off, bool wide)
{
	fputc('{', m);
	for (int i = 0; i < n; i++) {
		const char *p = (const char *)base + (size_t)i * stride + off;

		if (wide)
			fprintf(m, "%s%lld", i ? "," : "", (long long)*(const int64_t *)(const void *)p);
		else
			fprintf(m, "%s%d", i ? "," : "", *(const int *)(const void *)p);
	}
	fputc('}', m);
}

/* "T" in an array literal, after a comma unless FIRST. */
static void put_quoted(FILE *m, const char *t, bool first)
{
	fputs(first ? "\"" : ",\"", m);
	for (; *t; t++)
		fprintf(m, *t == '"' || *t == '\\' ? "\\%c" : "%c", *t);
	fputc('"', m);
}

/* Stream M (open_memstream() on *BUF) closed: its text, or NULL. */
static char *closed(FILE *m, char **buf)
{
	if (fclose(m)) { /* *BUF is only known once M is closed */
		free(*buf);
		return NULL;
	}
	return *buf;
}

static char *array_of(const void *base, int n, size_t stride, size_t off, int kind)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	if (kind == 2) {
		fputc('{', m);
		for (int i = 0; i < n; i++)
			put_quoted(m, (const char *)base + (size_t)i * stride + off, i == 0);
		fputc('}', m);
	} else {
		int_array(m, base, n, stride, off, kind == 1);
	}
	return closed(m, &buf);
}

/* The ten parameters of np_claim(), as text. */
static int claim_params(const struct np__claim *c, char *host, size_t hsize, char **arr)
{
	const struct np__takes *t = c->takes;
	int modes[512], n = t->ntakes < 512 ? t->ntakes : 512;

	if (t->ntakes > 512)
		return NP_EINPUT;
	for (int i = 0; i < n; i++)
		modes[i] = (int)t->takes[i].mode;
	snprintf(host, hsize, "%lld", (long long)c->host_id);
	arr[0] = array_of(t->takes, n, sizeof(*t->takes), offsetof(struct np__take, node), 0);
	arr[1] = array_of(t->takes, n, sizeof(*t->takes), offsetof(struct np__take, rc), 2);
	arr[2] = array_of(t->takes, n, sizeof(*t->takes), offsetof(struct np__take, amount), 1);
	arr[3] = array_of(modes, n, sizeof(int), 0, 0);
	arr[4] = array_of(t->pins, t->npins, sizeof(*t->pins), offsetof(struct np__pin, cpu), 0);
	arr[5] = array_of(t->pins, t->npins, sizeof(*t->pins), offsetof(struct np__pin, node), 0);
	for (int i = 0; i < 6; i++)
		if (!arr[i])
			return NP_ENOMEM;
	return 0;
}

/* A failed np_claim(): which of our checks said no, or a real error. */
static int claim_failed(struct np__store *s, PGresult *r, struct np__claim_result *out,
			struct np_error *err)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char line[200];

	if (st && (!strcmp(st, "NP001") || !strcmp(st, "23503"))) {
		out->status = NP__HOST_GONE;
	} else if (st && (!strcmp(st, "NP002") || !strcmp(st, "NP003") || !strcmp(st, "40P01") ||
			  !strcmp(st, "40001"))) {
		out->status = NP__NO_ROOM; /* also a deadlock or serialisation loss: try again */
		snprintf(out->detail, sizeof(out->detail), "%s",
			 first_line(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY), line,
				    sizeof(line)));
	} else {
		return res_err(s, r, err, "cannot claim");
	}
	return 0;
}

/* np_claim()'s answer V ("claimed GEN", "exists HOST", "conflict HOST") into OUT. */
static void claim_answer(const char *v, struct np__claim_result *out)
{
	const char *sp = strchr(v, ' ');
	int64_t n = sp ? strtoll(sp + 1, NULL, 10) : -1;

	out->status = !strncmp(v, "claimed", 7) ? NP__CLAIMED
		      : !strncmp(v, "exists", 6) ? NP__EXISTS
						  : NP__CONFLICT;
	if (out->status == NP__CLAIMED)
		out->generation = n;
	else
		out->host_id = n;
}

/*
 * The claim's last change as np_claim_try() stores it after the new
 * generation (schema_v6): " c;NODE RC AMOUNT MODE ...;CPU NODE ...", from
 * the takes it sends anyway (NULL: out of memory).
 */
static char *claim_change(const struct np__takes *t)
{
	size_t size = 8 + (size_t)t->ntakes * (NP__RC_MAX + 48) + (size_t)t->npins * 24, n;
	char *v = malloc(size);

	if (!v)
		return NULL;
	n = (size_t)snprintf(v, size, " c;");
	for (int i = 0; i < t->ntakes; i++)
		n += (size_t)snprintf(v + n, size - n, "%s%d %s %lld %d", i ? " " : "",
				      t->takes[i].node, t->takes[i].rc,
				      (long long)t->takes[i].amount, (int)t->takes[i].mode);
	n += (size_t)snprintf(v + n, size - n, ";");
	for (int i = 0; i < t->npins; i++)
		n += (size_t)snprintf(v + n, size - n, "%s%d %d", i ? " " : "", t->pins[i].cpu,
				      t->pins[i].node);
	return v;
}

/* Send claim C through prepared statement I (in pipeline mode: its answer comes later). */
static int claim_send(struct np__store *s, enum stmt i, const struct np__claim *c,
		      struct np_error *err)
{
	char host[24], *arr[7] = { 0 }, name[8];
	const char *params[11];
	int rc;

	if ((rc = claim_params(c, host, sizeof(host), arr)) || (rc = prepare(s, i, err))) {
		rc = rc == NP_EINPUT ? np__err(err, rc, "a plan that takes over 512 rows") : rc;
		goto out;
	}
	if (!(arr[6] = claim_change(c->takes))) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	params[0] = c->id, params[1] = host, params[2] = c->request, params[3] = c->plan;
	for (int k = 0; k < 7; k++)
		params[4 + k] = arr[k];
	snprintf(name, sizeof(name), "np%d", (int)i);
	if (!PQsendQueryPrepared(s->conn, name, 11, params, NULL, NULL, 0))
		rc = res_err(s, NULL, err, "cannot send a claim");
out:
	for (int k = 0; k < 7; k++)
		free(arr[k]);
	return rc;
}

/*
 * The claim and the release as this connection calls them: temporary
 * functions (made once per connection), so each numaplace runs its own
 * on a store of its schema version; the stored np_claim() and
 * np_release() are for other clients.
 *
 * np_claim_try() is np_claim()'s transaction (the top of this file) with
 * its refusals caught: a PL/pgSQL exception block is a subtransaction, so
 * a claim that no longer fits is undone alone and the batch it is in goes
 * on.  Written out here rather than calling np_claim(), and without ON
 * CONFLICT: a nested call and speculative insertion (the pre-check of the
 * index, the token, the confirming WAL record) cost every claim, while
 * what they guard against is rare and the subtransaction undoes it
 * anyway.  A plain INSERT that meets the key of a placement (or waits for
 * a claim of the same id in flight and it commits) raises unique_violation,
 * answered as np_claim() answers it: 'exists' or 'conflict' from the row
 * read after the undo (a row released meanwhile: 'noroom', claimed again).
 * Since schema version 4 the row it writes fires no foreign-key trigger
 * (schema_v4); since 5 it is the only row it inserts (schema_v5).
 *
 * Both run with plan_cache_mode = force_generic_plan.  PL/pgSQL plans
 * each statement of the claim and the release through the plan cache,
 * which keeps planning them again for every call (custom plans): with the
 * arrays' lengths known, a custom plan always looks cheaper than the
 * generic one, whose unnest() is guessed at 10 rows.  The generic plans
 * are the same index scans; planning was most of the server's CPU per
 * claim (docs/bench/fleet.md, "The claim's server cost").  The setting
 * holds only while the function runs: other statements plan as before.
 *
 * And with enable_seqscan = off: a generic plan is made at a connection's
 * first call and kept until a table's statistics change.  The host
 * loading ANALYZEs np_placements while it is empty (stale_stats), and a
 * connection whose first claim came before the table's first page got a
 * pin check that scanned every placement, on every claim, until
 * autovacuum's next ANALYZE (a minute, or never in a shorter load): in
 * some benchmark runs, by that race, half of PostgreSQL's CPU a
 * placement (docs/bench/service.md, "Where PostgreSQL's CPU goes").
 * Every statement of both functions has an index to go by: the tables'
 * size when the plans were made must not matter.
 */
static const char temp_fns[] =
	"CREATE FUNCTION pg_temp.np_claim_try(p_id TEXT, p_host BIGINT, p_request TEXT,"
	" p_plan TEXT, p_nodes INTEGER[], p_rcs TEXT[], p_amounts BIGINT[], p_modes INTEGER[],"
	" p_cpus INTEGER[], p_cpu_nodes INTEGER[], p_change TEXT) RETURNS TEXT LANGUAGE plpgsql"
	" SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $f$\n"
	"DECLARE v_host BIGINT; v_request TEXT; v_gen BIGINT; v_n INTEGER; v_key TEXT;\n"
	"BEGIN\n"
	CLAIM_INSERT ";\n"
	HOST_CHARGE_SET(", last_change = (generation + 1)::text || p_change")
	PIN_CHECK
	"  RETURN 'claimed ' || v_gen;\n"
	"EXCEPTION WHEN SQLSTATE 'NP001' OR SQLSTATE '23503' THEN RETURN 'gone';\n"
	"  WHEN SQLSTATE 'NP002' OR SQLSTATE 'NP003' OR SQLSTATE '40P01' OR SQLSTATE '40001'"
	"  THEN RETURN 'noroom ' || SQLERRM;\n"
	"  WHEN unique_violation THEN\n"
	"    GET STACKED DIAGNOSTICS v_key = CONSTRAINT_NAME;\n"
	"    IF v_key <> 'np_placements_pkey' THEN RAISE; END IF;\n"
	"    SELECT host_id, request INTO v_host, v_request FROM np_placements WHERE id = p_id;\n"
	"    IF NOT FOUND THEN RETURN 'noroom the placement was released meanwhile'; END IF;\n"
	"    IF v_request = p_request THEN RETURN 'exists ' || v_host; END IF;\n"
	"    RETURN 'conflict ' || v_host;\n"
	"END $f$;"
	/*
	 * np_release() (schema_v5's), answering also the host's new
	 * generation and what the placement held: "HOST GEN;NODE RC AMOUNT
	 * ...;CPU NODE ...", or "none".  Its locks are np_release()'s:
	 * placement row (by its DELETE), host row (the ledger in it since
	 * schema_v7: HOST_GIVE_BACK); the placement's row, deleted with
	 * RETURNING, holds the allocations and pins it gives back and
	 * answers, and that answer, read before the host row is locked, is
	 * also its last change (schema_v6).  A host row
	 * that is gone (nothing removes one under a placement, but schema 4
	 * has no foreign key to stop it) answers generation -1: the
	 * placement is still released, and no summary has such a host.
	 */
	"CREATE FUNCTION pg_temp.np_release_try(p_id TEXT) RETURNS TEXT LANGUAGE plpgsql"
	" SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $f$\n"
	"DECLARE v_host BIGINT; v_gen BIGINT; v_a TEXT; v_p TEXT; v_nodes INTEGER[];"
	" v_rcs TEXT[]; v_amounts BIGINT[]; v_cpus INTEGER[]; v_cpu_nodes INTEGER[];\n"
	"BEGIN\n"
	"  DELETE FROM np_placements WHERE id = p_id RETURNING host_id, a_nodes, a_rcs,"
	"   a_amounts, cpus, cpu_nodes INTO v_host, v_nodes, v_rcs, v_amounts, v_cpus,"
	"   v_cpu_nodes;\n"
	"  IF NOT FOUND THEN RETURN 'none'; END IF;\n"
	"  SELECT string_agg(a.node || ' ' || a.rc || ' ' || a.amount, ' ') INTO v_a"
	"   FROM unnest(v_nodes, v_rcs, v_amounts) AS a(node, rc, amount);\n"
	"  SELECT string_agg(x.cpu || ' ' || x.node, ' ') INTO v_p"
	"   FROM unnest(v_cpus, v_cpu_nodes) AS x(cpu, node);\n"
	"  UPDATE np_hosts SET generation = generation + 1, change_seq = nextval('np_change_seq'),"
	"   last_change = (generation + 1)::text || ' r;' || coalesce(v_a, '') || ';' ||"
	"   coalesce(v_p, '') " HOST_GIVE_BACK " WHERE id = v_host RETURNING generation INTO v_gen;\n"
	"  RETURN v_host || ' ' || coalesce(v_gen, -1) || ';' || coalesce(v_a, '') || ';'"
	"   || coalesce(v_p, '');\n"
	"END $f$;"
	/* Last in a pipeline under a deadline: past it, the whole transaction rolls back. */
	"CREATE FUNCTION pg_temp.np_by_deadline() RETURNS TEXT LANGUAGE plpgsql AS $f$\n"
	"BEGIN\n"
	"  IF clock_timestamp() > current_setting('np.deadline')::timestamptz THEN\n"
	"    RAISE EXCEPTION USING ERRCODE = 'NP004',"
	"     MESSAGE = 'the deadline passed before the commit'; END IF;\n"
	"  RETURN 'in time';\n"
	"END $f$";

/*
 * The change scan, run by every handle of a replica several times a
 * second: as a top-level statement PostgreSQL planned it on every call
 * (9,228 plans for 9,223 scans, 0.11 ms each: a generic plan of
 * "change_seq > $1" guesses a third of the hosts, so the custom one
 * always looked cheaper).  In a function, one generic plan a connection,
 * by the change_seq index whatever the statistics said.  (Apart from
 * temp_fns: one string literal may not be longer.)
 */
static const char temp_scan_fn[] =
	"CREATE OR REPLACE FUNCTION pg_temp.np_hosts_since(p_since BIGINT) RETURNS TABLE (o_id BIGINT,"
	" o_gen BIGINT, o_seq BIGINT, o_change TEXT) LANGUAGE plpgsql STABLE"
	" SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $f$\n"
	"BEGIN RETURN QUERY " HOSTS_SINCE "; END $f$";

/* The temporary functions on this connection, made on first use. */
static int have_fns(struct np__store *s, struct np_error *err)
{
	int rc = 0;

	/* The scan's first: it may be made again (OR REPLACE) if temp_fns fail. */
	if (!s->have_fns && !(rc = exec(s, temp_scan_fn, err)) && !(rc = exec(s, temp_fns, err)))
		s->have_fns = true;
	return rc;
}

/* ---- deadlines (store.h wait_until; np_fleet_set_deadline) ------------------ */

/*
 * A claim or release under a deadline must not wait past it for a row
 * lock another transaction holds (a replica mid-commit, an operator's
 * psql), nor commit after it: its client gives up at its own timeout
 * and may ask another replica, and release there what it asked for.
 * PostgreSQL bounds the waits itself: the transaction begins with
 * lock_timeout and statement_timeout set to the time left (SET_DEADLINE,
 * local to it), and a pipeline ends with np_by_deadline(), so a batch
 * whose statements each kept within their time but not all together is
 * not committed either.  Any of those errors (deadline_state()) rolls
 * the whole transaction back, and is answered with the reason
 * "deadline_exceeded": nothing was made, the connection is sound.
 *
 * The deadline comes from wait_until (group.c sets it around a claim or
 * release it runs alone) or, for a batch, from lock_claims: group.c's
 * leader calls it between wait_until(the earliest deadline queued) and
 * wait_until(0), and runs the batch's claim_many or commit_many next.
 * PostgreSQL has no write lock to take first (its claims lock rows), so
 * lock_claims only keeps that deadline for the batch and answers 1 ("no
 * such lock", no transaction opened): group.c then goes on as without it.
 */
static void pg_wait_until(struct np__store *s, int64_t until)
{
	s->until = until > 0 ? until : 0;
}

static int pg_lock_claims(struct np__store *s, struct np_error *err)
{
	(void)err;
	s->batch_until = s->until;
	return 1;
}

/* Milliseconds left before UNTIL, at least 1; 0 when it has passed. */
static long ms_left(int64_t until)
{
	int64_t left = until - np__store_now_ns();

	return left <= 0 ? 0 : (long)((left + 999999) / 1000000);
}

/* WHAT not even begun: its deadline passed before it was sent. */
static int too_late(struct np__store *s, struct np_error *err, const char *what)
{
	return np__err_reason(err, NP_EOS, "deadline_exceeded", "store '%s': %s: its deadline "
			      "passed before it began, nothing was made", s->shown, what);
}

/* SET_DEADLINE's argument for UNTIL: MS, as text into BUF. */
static const char *const *deadline_param(long ms, char *buf, size_t size, const char **p)
{
	snprintf(buf, size, "%ld", ms);
	p[0] = buf;
	return p;
}

/* Parts of the strict reader of a host's last change (reading, below). */
static bool lc_num(const char **p, int64_t lo, int64_t hi, int64_t *v);
static int lc_lists(const char **p, bool mode, struct np__takes *t, size_t *tcap, size_t *pcap);

/*
 * np_release_try()'s answer V ("HOST GEN;" then what was given back, in
 * a last change's lists) into REL, read as strictly as a last change:
 * REL is written only when all of V is in that form, so a malformed
 * answer gives back nothing, half a release included.
 *
 * A malformed answer still means the release ran: the placement's row is
 * deleted and commits at the pipeline's sync with the rest.  So it is not
 * a failure of the pipeline (that would leave the claims beside it
 * unanswered and the caller running them all again, the release then
 * answering "none": a 404 for a placement it released).  REL is marked
 * unread and ERR holds the error (NP_EOS, reason "release_unread") for
 * pg_release to answer once the sync came through; a batch's items are
 * answered so by group.c.
 */
static int release_answer(struct np__store *s, const char *v, struct np__release *rel,
			  struct np_error *err)
{
	struct np__takes given = { 0 };
	size_t tcap = 0, pcap = 0;
	int64_t host, gen;
	const char *p = v;
	int rc = NP_EOS;

	if (!strcmp(v, "none")) {
		rel->found = false;
		return 0;
	}
	if (lc_num(&p, 1, INT64_MAX, &host) && lc_num(&p, -1, INT64_MAX, &gen) && *p++ == ';')
		rc = lc_lists(&p, false, &given, &tcap, &pcap);
	if (rc) {
		np__takes_free(&given);
		if (rc == NP_ENOMEM)
			return np__err(err, rc, "out of memory");
		rel->found = false;
		rel->unread = true;
		np__err_reason(err, NP_EOS, "release_unread", "store '%s': a release answered "
			       "'%.60s', not 'HOST GEN;NODE RC AMOUNT ...;CPU NODE ...'", s->shown,
			       v);
		return 0;
	}
	np__takes_free(&rel->given);
	rel->found = true;
	rel->host_id = host;
	rel->generation = gen;
	rel->given = given;
	rel->tcap = tcap, rel->pcap = pcap;
	return 0;
}

/* One pipelined answer to OP: a release's, or a claim's ("gone", "noroom WHY", np_claim()'s). */
static int op_answer(struct np__store *s, PGresult *r, const struct np__op *op,
		     struct np_error *err)
{
	struct np__claim_result *out = op->r;
	const char *v;

	if (!ok(r) || PQntuples(r) != 1)
		return res_err(s, r, err, op->rel ? "cannot release" : "cannot claim");
	v = PQgetvalue(r, 0, 0);
	if (op->rel)
		return release_answer(s, v, op->rel, err);
	if (!strcmp(v, "gone")) {
		out->status = NP__HOST_GONE;
	} else if (!strncmp(v, "noroom ", 7)) {
		out->status = NP__NO_ROOM;
		snprintf(out->detail, sizeof(out->detail), "%s", v + 7);
	} else {
		claim_answer(v, out);
	}
	return 0;
}

/* What a failed batch of OPS could not do, for its message: "cannot release" when all are releases. */
static const char *ops_what(const struct np__op *ops, int n)
{
	bool claims = false, releases = false;

	for (int i = 0; i < n; i++)
		*(ops[i].rel ? &releases : &claims) = true;
	return claims && releases ? "cannot claim or release"
	       : releases	  ? "cannot release"
				  : "cannot claim";
}

/*
 * Read every result up to the pipeline's sync into OPS, after PRE (0 or
 * 1) answers to SET_DEADLINE and before as many to np_by_deadline(); the
 * first failure in RC.  The connection may still be in single-row mode from the last
 * each() (libpq keeps it for the next query in a pipeline): then an
 * answer comes as one row and an empty end, which is skipped.
 */
static int pipeline_read(struct np__store *s, const struct np__op *ops, int n, int pre,
			 struct np_error *err)
{
	int rc = 0, i = 0, total = n + 2 * pre;
	bool got = false;

	for (;;) {
		PGresult *r = PQgetResult(s->conn);
		ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

		if (!r) { /* the end of one query's results */
			if (PQstatus(s->conn) != CONNECTION_OK || ++i > total) {
				rc = rc ? rc : conn_err(s, NP_EOS, err, ops_what(ops, n));
				break;
			}
			got = false;
			continue;
		}
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (!(got && st == PGRES_TUPLES_OK && PQntuples(r) == 0) && !rc) {
			if (i >= total)
				rc = np__err(err, NP_EOS, "store '%s': more answers than statements sent",
					     s->shown);
			else if (i < pre || i >= pre + n) /* SET_DEADLINE, np_by_deadline() */
				rc = ok(r) ? 0 : res_err(s, r, err, ops_what(ops, n));
			else
				rc = op_answer(s, r, &ops[i - pre], err);
		}
		got = true;
		PQclear(r);
		if (PQstatus(s->conn) != CONNECTION_OK) {
			rc = rc ? rc : conn_err(s, NP_EOS, err, ops_what(ops, n));
			break;
		}
	}
	return rc;
}

/* Send release REL (in pipeline mode). */
static int release_send(struct np__store *s, const struct np__release *rel, struct np_error *err)
{
	const char *params[1] = { rel->id };
	char name[8];

	snprintf(name, sizeof(name), "np%d", (int)P_RELEASE);
	if (!PQsendQueryPrepared(s->conn, name, 1, params, NULL, NULL, 0))
		return res_err(s, NULL, err, "cannot send a release");
	return 0;
}

/* Statement I (in pipeline mode), with N parameters P. */
static int send_one(struct np__store *s, enum stmt i, int n, const char *const *p,
		    struct np_error *err)
{
	char name[8];

	snprintf(name, sizeof(name), "np%d", (int)i);
	if (!PQsendQueryPrepared(s->conn, name, n, p, NULL, NULL, 0))
		return res_err(s, NULL, err, "cannot send a statement");
	return 0;
}

/*
 * Group commit: the N claims and releases of OPS sent at once in libpq's
 * pipeline mode, one implicit transaction up to the sync, so one round
 * trip and one WAL flush for all of them.  Any error aborts the whole
 * transaction.  Under a deadline (wait_until, or lock_claims for a
 * batch) SET_DEADLINE comes first and np_by_deadline() last.
 */
/*
 * The claims among OPS each pin a CPU once (np__pins_once): judged before
 * the pipeline sends anything, as a claim sent is a claim committed at the
 * sync even when a later one cannot be sent.  The stored np_claim()
 * refuses a CPU named twice; np_claim_try() leaves it to this.
 */
static int claims_pin_once(const struct np__op *ops, int n, struct np_error *err)
{
	int rc = 0;

	for (int i = 0; i < n && !rc; i++)
		if (!ops[i].rel)
			rc = np__pins_once(ops[i].c->takes, err);
	return rc;
}

static int pipeline_ops(struct np__store *s, const struct np__op *ops, int n,
			struct np_error *err)
{
	int64_t until = s->until ? s->until : s->batch_until;
	long ms = until ? ms_left(until) : 0;
	int rc, pre = until ? 1 : 0;
	const char *p[1];
	char buf[24];

	s->batch_until = 0; /* one batch's */
	if (until && !ms)
		return too_late(s, err, ops_what(ops, n));
	if ((rc = claims_pin_once(ops, n, err)) || (rc = have_fns(s, err)) ||
	    (rc = prepare(s, P_CLAIM_TRY, err)) || (rc = prepare(s, P_RELEASE, err)))
		return rc;
	if (until && ((rc = prepare(s, P_DEADLINE, err)) || (rc = prepare(s, P_BY_DEADLINE, err))))
		return rc;
	for (int i = 0; i < n; i++) {
		if (ops[i].rel)
			continue;
		memset(ops[i].r, 0, sizeof(*ops[i].r));
		ops[i].r->host_id = ops[i].c->host_id;
	}
	if (!PQenterPipelineMode(s->conn))
		return res_err(s, NULL, err, "cannot start a pipeline");
	if (until)
		rc = send_one(s, P_DEADLINE, 1, deadline_param(ms, buf, sizeof(buf), p), err);
	for (int i = 0; i < n && !rc; i++)
		rc = ops[i].rel ? release_send(s, ops[i].rel, err)
				: claim_send(s, P_CLAIM_TRY, ops[i].c, err);
	if (until && !rc)
		rc = send_one(s, P_BY_DEADLINE, 0, NULL, err);
	bool synced = PQpipelineSync(s->conn);

	if (!synced) {
		rc = rc ? rc : res_err(s, NULL, err, "cannot send the batch");
		if (PQstatus(s->conn) != CONNECTION_OK)
			return rc;
	}
	/* Even after a send failed, the sync's answers must be read to leave the pipeline. */
	s->tx_until = until;
	int rrc = pipeline_read(s, ops, n, pre, err);

	s->tx_until = 0;
	rc = rc ? rc : rrc;
	/*
	 * The connection lost once the sync was sent: the server may have
	 * committed before it went (its answer lost), so what was sent is
	 * neither done nor undone: "outcome_unknown" (group.c, the service).
	 */
	if (rc && synced && PQstatus(s->conn) != CONNECTION_OK)
		snprintf(err->reason, sizeof(err->reason), "outcome_unknown");
	if (!PQexitPipelineMode(s->conn) && !rc)
		rc = res_err(s, NULL, err, "cannot end a pipeline");
	return rc;
}

static int pg_claim_many(struct np__store *s, const struct np__claim *const *c,
			 struct np__claim_result *out, int n, struct np_error *err)
{
	struct np__op *ops;
	int rc;

	if (n == 0) { /* group.c's unlock_empty(): pg_lock_claims() opened no transaction */
		s->batch_until = 0;
		return 0;
	}
	if (!(ops = np__calloc((size_t)n, sizeof(*ops))))
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++)
		ops[i] = (struct np__op){ c[i], &out[i], NULL };
	rc = pipeline_ops(s, ops, n, err);
	free(ops);
	return rc;
}

/* A lone claim: a batch of one (one round trip, refusals answered as np_claim() raises them). */
static int pg_claim(struct np__store *s, const struct np__claim *c, struct np__claim_result *out,
		    struct np_error *err)
{
	return pg_claim_many(s, &c, out, 1, err);
}

/* ---- claims that move other placements (claim_moves) ------------------------ */

/*
 * Statements of claim_moves, run one by one in one explicit transaction
 * (moves are rare; the one-round-trip np_claim() stays as it is).  Locks
 * in the usual order: the moved placements' rows (by the UPDATE that
 * checks and swaps their plan), the new placement's row, then the host
 * row (its ledger in it since schema_v7).
 */
#define MV_PLAN "UPDATE np_placements SET plan = $3 WHERE id = $1 AND host_id = $2::bigint " \
		"AND plan = $4"
#define MV_INSERT "INSERT INTO np_placements (id, host_id, request, plan) " \
		  "VALUES ($1, $2::bigint, $3, $4) ON CONFLICT (id) DO NOTHING"
#define MV_EXISTING "SELECT host_id, request FROM np_placements WHERE id = $1"
#define MV_BUMP "UPDATE np_hosts SET generation = generation + 1, change_seq = " \
		"nextval('np_change_seq'), last_change = NULL WHERE id = $1::bigint " \
		"RETURNING generation"
#define MV_GIVE_BACK "UPDATE np_hosts h SET inv_used = " \
		     NP_CHARGE("p.a_nodes, p.a_rcs, p.a_amounts, NULL", "-1") \
		     " FROM np_placements p WHERE p.id = $1 AND h.id = $2::bigint"
#define MV_DROP "UPDATE np_placements SET a_nodes = '{}', a_rcs = '{}', a_amounts = '{}', " \
		"cpus = '{}', cpu_nodes = '{}' WHERE id = $1"
/*
 * The takes charged in the host row (schema_v7), which MV_BUMP locked
 * already: the WHERE sees its newest version (one row, or none: no room).
 */
#define MV_TAKE_CHARGE NP_CHARGE("$2::integer[], $3::text[], $4::bigint[], $5::integer[]", "1")
#define MV_TAKE "UPDATE np_hosts SET inv_used = " MV_TAKE_CHARGE " WHERE id = $1::bigint AND " \
		MV_TAKE_CHARGE " IS NOT NULL"
#define MV_ALLOCS "UPDATE np_placements SET a_nodes = $2, a_rcs = $3, a_amounts = $4 WHERE id = $1"
/* Its pins, unless another placement on the host holds one (PIN_CHECK; the host row is ours). */
#define MV_PINS "UPDATE np_placements SET cpus = $2, cpu_nodes = $3 WHERE id = $4 AND " \
		"NOT EXISTS (SELECT 1 FROM np_placements o WHERE o.host_id = $1::bigint AND " \
		"o.id <> $4 AND o.cpus && $2::integer[])"

struct mv_tx {
	struct np__store *s;
	char host[24];
	struct np__claim_result *out;
	struct np_error *err;
};

/*
 * Run Q; *RES the result when wanted, *ROWS the rows it changed.  A check
 * or lock the claim lost sets the status (claim_failed()); other errors
 * are returned.
 */
static int mv_run(struct mv_tx *t, const char *q, int n, const char *const *params,
		  PGresult **res, long *rows)
{
	PGresult *r = PQexecParams(t->s->conn, q, n, NULL, params, NULL, NULL, 0);
	int rc = 0;

	if (!ok(r)) {
		rc = claim_failed(t->s, r, t->out, t->err);
		if (!rc && t->out->status == NP__CLAIMED)
			t->out->status = NP__NO_ROOM;
	} else if (rows) {
		*rows = strtol(PQcmdTuples(r), NULL, 10);
	}
	if (res && !rc && t->out->status == NP__CLAIMED)
		*res = r;
	else
		PQclear(r);
	return rc;
}

/* The transaction's lock waits and statements end by the deadline (SET_DEADLINE). */
static int mv_deadline(struct mv_tx *t)
{
	long ms = ms_left(t->s->until);
	const char *p[1];
	char buf[24];
	PGresult *r;

	if (!ms)
		return too_late(t->s, t->err, "cannot claim");
	r = run(t->s, P_DEADLINE, 1, deadline_param(ms, buf, sizeof(buf), p), t->err);
	PQclear(r);
	return r ? 0 : NP_EOS;
}

/* Placement M still holds its old plan: swapped for the new one, else NP__MOVED. */
static int mv_swap(struct mv_tx *t, const struct np__moved *m)
{
	const char *p[4] = { m->id, t->host, m->plan, m->old_plan };
	long rows = 0;
	int rc = mv_run(t, MV_PLAN, 4, p, NULL, &rows);

	if (!rc && t->out->status == NP__CLAIMED && rows != 1) {
		t->out->status = NP__MOVED;
		snprintf(t->out->detail, sizeof(t->out->detail), "placement '%.150s' changed "
			 "since its moves were planned", m->id);
	}
	return rc;
}

/* Placement ID's takes given back, its allocations and pins dropped. */
static int mv_unmove(struct mv_tx *t, const char *id)
{
	const char *p[2] = { id, t->host };
	int rc = mv_run(t, MV_GIVE_BACK, 2, p, NULL, NULL);

	if (!rc && t->out->status == NP__CLAIMED)
		rc = mv_run(t, MV_DROP, 1, p, NULL, NULL);
	return rc;
}

/* TAKES and their pins charged for placement ID, every row checked. */
static int mv_charge(struct mv_tx *t, const char *id, const struct np__takes *takes)
{
	struct np__claim one = { id, t->out->host_id, NULL, NULL, takes };
	char host[24], *arr[6] = { 0 };
	long rows = 0;
	int rc = np__pins_once(takes, t->err); /* the caller's pins: a CPU twice is no plan */

	if (rc)
		return rc;
	if (!(rc = claim_params(&one, host, sizeof(host), arr))) {
		const char *p[5] = { host, arr[0], arr[1], arr[2], arr[3] };

		rc = mv_run(t, MV_TAKE, 5, p, NULL, &rows);
	}
	if (!rc && t->out->status == NP__CLAIMED && rows != 1) { /* the host row, charged */
		t->out->status = NP__NO_ROOM;
		snprintf(t->out->detail, sizeof(t->out->detail), "a node has no room left for "
			 "the plan of '%.150s'", id);
	}
	if (!rc && t->out->status == NP__CLAIMED) {
		const char *p[4] = { id, arr[0], arr[1], arr[2] };

		rc = mv_run(t, MV_ALLOCS, 4, p, NULL, NULL);
	}
	if (!rc && t->out->status == NP__CLAIMED) {
		const char *p[4] = { host, arr[4], arr[5], id };

		rc = mv_run(t, MV_PINS, 4, p, NULL, &rows);
	}
	if (!rc && t->out->status == NP__CLAIMED && rows != 1) { /* MV_PINS matched no row */
		t->out->status = NP__NO_ROOM;
		snprintf(t->out->detail, sizeof(t->out->detail), "placement '%.120s': a CPU its "
			 "plan pins is pinned already, or its row is gone", id);
	}
	for (int i = 0; i < 6; i++)
		free(arr[i]);
	return rc == NP_EINPUT ? np__err(t->err, rc, "a plan that takes over 512 rows") : rc;
}

/* C's row in (or the answer for an id placed already), then the host locked and bumped. */
static int mv_insert(struct mv_tx *t, const struct np__claim *c)
{
	const char *p[4] = { c->id, t->host, c->request, c->plan };
	PGresult *r = NULL;
	long rows = 0;
	int rc = mv_run(t, MV_INSERT, 4, p, NULL, &rows);

	if (!rc && t->out->status == NP__CLAIMED && rows == 0 &&
	    !(rc = mv_run(t, MV_EXISTING, 1, p, &r, NULL)) && r && PQntuples(r) == 0) {
		/* The row the INSERT met was released before this read (as np_claim_try says). */
		t->out->status = NP__NO_ROOM;
		snprintf(t->out->detail, sizeof(t->out->detail), "placement '%.150s' was released "
			 "meanwhile", c->id);
	} else if (r) {
		t->out->host_id = num(r, 0);
		t->out->status = !strcmp(text(r, 1), c->request) ? NP__EXISTS : NP__CONFLICT;
	}
	PQclear(r);
	r = NULL;
	if (!rc && t->out->status == NP__CLAIMED &&
	    !(rc = mv_run(t, MV_BUMP, 1, &p[1], &r, NULL)) && r) {
		if (PQntuples(r) == 1)
			t->out->generation = num(r, 0);
		else
			t->out->status = NP__HOST_GONE;
	}
	PQclear(r);
	return rc;
}

static int pg_claim_moves(struct np__store *s, const struct np__claim *c,
			  const struct np__moved *mv, int n, struct np__claim_result *out,
			  struct np_error *err)
{
	struct mv_tx t = { .s = s, .out = out, .err = err };
	int rc;

	memset(out, 0, sizeof(*out));
	out->status = NP__CLAIMED;
	out->host_id = c->host_id;
	snprintf(t.host, sizeof(t.host), "%lld", (long long)c->host_id);
	if (s->streaming)
		return np__err(err, NP_EOS, "internal error: a query while rows stream in");
	if (s->until && !ms_left(s->until))
		return too_late(s, err, "cannot claim");
	if ((rc = exec(s, "BEGIN", err)))
		return rc;
	s->tx_until = s->until;
	if (s->until)
		rc = mv_deadline(&t);
	for (int i = 0; i < n && !rc && out->status == NP__CLAIMED; i++)
		rc = mv_swap(&t, &mv[i]);
	if (!rc && out->status == NP__CLAIMED)
		rc = mv_insert(&t, c);
	for (int i = 0; i < n && !rc && out->status == NP__CLAIMED; i++)
		rc = mv_unmove(&t, mv[i].id);
	for (int i = 0; i < n && !rc && out->status == NP__CLAIMED; i++)
		rc = mv_charge(&t, mv[i].id, mv[i].takes);
	if (!rc && out->status == NP__CLAIMED)
		rc = mv_charge(&t, c->id, c->takes);
	if (!rc && out->status == NP__CLAIMED && s->until && !ms_left(s->until))
		rc = too_late(s, err, "cannot claim"); /* not committed after its deadline */
	if (!rc && out->status == NP__CLAIMED)
		rc = exec(s, "COMMIT", err);
	if (rc || out->status != NP__CLAIMED)
		rollback(s);
	s->tx_until = 0;
	return rc;
}

/*
 * A lone release: a batch of one (one round trip).  An answer it could
 * not read (release_answer) is its error once the release committed.
 */
static int pg_release(struct np__store *s, struct np__release *rel, struct np_error *err)
{
	struct np__op op = { NULL, NULL, rel };
	int rc;

	rel->unread = false;
	rc = pipeline_ops(s, &op, 1, err);
	return !rc && rel->unread ? err->code : rc;
}

/* The ids of the releases among OPS as a text[] literal. */
static char *release_ids(const struct np__op *ops, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	bool first = true;

	if (!m)
		return NULL;
	fputc('{', m);
	for (int i = 0; i < n; i++)
		if (ops[i].rel) {
			put_quoted(m, ops[i].rel->id, first);
			first = false;
		}
	fputc('}', m);
	return closed(m, &buf);
}

struct keyed {
	int64_t host;
	struct np__op op;
};

static int cmp_keyed(const void *a, const void *b)
{
	int64_t x = ((const struct keyed *)a)->host, y = ((const struct keyed *)b)->host;

	return (x > y) - (x < y);
}

/* Each release's host (-1: none now) into K, read in one statement. */
static int release_hosts(struct np__store *s, struct keyed *k, int n, const struct np__op *ops,
			 struct np_error *err)
{
	char *ids = release_ids(ops, n);
	const char *params[1] = { ids };
	PGresult *r = ids ? run(s, P_RELEASE_HOSTS, 1, params, err) : NULL;

	free(ids);
	if (!r)
		return ids ? NP_EOS : np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++)
		k[i] = (struct keyed){ ops[i].rel ? -1 : ops[i].c->host_id, ops[i] };
	for (int row = 0; row < PQntuples(r); row++)
		for (int i = 0; i < n; i++)
			if (k[i].op.rel && !strcmp(k[i].op.rel->id, PQgetvalue(r, row, 0)))
				k[i].host = strtoll(PQgetvalue(r, row, 1), NULL, 10);
	PQclear(r);
	return 0;
}

/*
 * Claims and releases in one pipeline (pipeline_ops), in host order:
 * claims lock their host row, releases a placement row and then its
 * host's, so two processes' batches taking hosts in one order cannot
 * deadlock each other.  A release's host is read first for that (one
 * more round trip, no lock, no commit).
 */
static int pg_commit_many(struct np__store *s, struct np__op *ops, int n, struct np_error *err)
{
	struct keyed *k = np__calloc((size_t)n, sizeof(*k));
	struct np__op *sorted = np__calloc((size_t)n, sizeof(*sorted));
	int rc = k && sorted ? release_hosts(s, k, n, ops, err)
			     : np__err(err, NP_ENOMEM, "out of memory");

	if (!rc) {
		qsort(k, (size_t)n, sizeof(*k), cmp_keyed);
		for (int i = 0; i < n; i++)
			sorted[i] = k[i].op;
		rc = pipeline_ops(s, sorted, n, err);
	}
	free(sorted);
	free(k);
	return rc;
}

/* ---- hosts ---------------------------------------------------------------- */

static int64_t one_int(struct np__store *s, enum stmt i, const char *arg, struct np_error *err)
{
	const char *params[1] = { arg };
	PGresult *r = run(s, i, 1, params, err);
	int64_t v;

	if (!r)
		return -2;
	v = PQntuples(r) ? num(r, 0) : -1;
	PQclear(r);
	return v;
}

static int topo_id(struct np__store *s, const struct np__new_host *h, char *id, size_t size,
		   struct np_error *err)
{
	const char *params[2] = { h->digest, h->topo_json };
	PGresult *r = run(s, P_TOPO_BY_DIGEST, 1, params, err);

	if (!r)
		return NP_EOS;
	id[0] = '\0';
	for (int i = 0; i < PQntuples(r); i++)
		if (strcmp(PQgetvalue(r, i, 1), h->topo_json) == 0)
			snprintf(id, size, "%s", PQgetvalue(r, i, 0));
	PQclear(r);
	if (id[0])
		return 0;
	if (!(r = run(s, P_INS_TOPO, 2, params, err)))
		return NP_EOS;
	snprintf(id, size, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

static int insert_host(struct np__store *s, const struct np__new_host *h, const char *topo,
		       struct np_error *err)
{
	const np__ledger *l = h->rows;
	char cr[32], rr[32], *arr[5] = { 0 };
	const char *params[9] = { h->name, topo, cr, rr };
	PGresult *r = NULL;
	int rc = NP_EOS;

	snprintf(cr, sizeof(cr), "%.17g", h->cpu_ratio);
	snprintf(rr, sizeof(rr), "%.17g", h->ram_ratio);
	arr[0] = array_of(l->rows, l->nrows, sizeof(*l->rows), offsetof(struct np__row, node), 0);
	arr[1] = array_of(l->rows, l->nrows, sizeof(*l->rows), offsetof(struct np__row, rc), 2);
	arr[2] = array_of(l->rows, l->nrows, sizeof(*l->rows), offsetof(struct np__row, total), 1);
	arr[3] = array_of(l->rows, l->nrows, sizeof(*l->rows), offsetof(struct np__row, cap), 1);
	arr[4] = array_of(l->rows, l->nrows, sizeof(*l->rows), offsetof(struct np__row, used), 1);
	for (int i = 0; i < 5; i++)
		params[4 + i] = arr[i];
	if (!arr[0] || !arr[1] || !arr[2] || !arr[3] || !arr[4])
		rc = np__err(err, NP_ENOMEM, "out of memory");
	else if ((r = run(s, P_INS_HOST, 9, params, err)) != NULL)
		rc = 0;
	PQclear(r);
	for (int i = 0; i < 5; i++)
		free(arr[i]);
	return rc;
}

/*
 * ANALYZE the store's tables when a host table has at least doubled in
 * pages (8 at least) since the planner's statistics of it (relpages: 0
 * before the first ANALYZE): geometric, so a load of N hosts analyzes
 * O(log N) times.  pg_relation_size() is the file's size, not a scan.
 * Not np_placements: analyzed while still empty (a new fleet loaded before
 * its first claim) it would tell the planner "no rows", and a plan made
 * then and kept by a connection (a function's pin check) would read every
 * placement on each claim until autovacuum's next ANALYZE (pg-perf saw
 * 418 placements/s); autovacuum analyzes it once claims have filled it.
 * Claims themselves never look (the hot path).  ANALYZE runs in a DO block
 * (allowed there, unlike VACUUM): one round trip.  A table this role
 * does not own is skipped with a warning (ignored).
 */
#define STALE_STATS                                                                          \
	"DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_class WHERE oid = 'np_hosts'::regclass AND " \
	"pg_relation_size(oid) / current_setting('block_size')::bigint >= "                  \
	"greatest(2 * relpages, 8)) THEN ANALYZE np_hosts, np_topologies; END IF; END$$"

/*
 * After a host was added: the handle's first add and every ANALYZE_EVERY-th
 * look at the statistics.  The host is in; a failure here is not the add's
 * (the statistics stay for autovacuum), so it is not reported.
 */
static void stale_stats(struct np__store *s)
{
	struct np_error ignored = { 0 };

	if (s->adds++ % ANALYZE_EVERY == 0)
		(void)exec(s, STALE_STATS, &ignored);
}

static int pg_add_host(struct np__store *s, const struct np__new_host *h, int *added,
		       struct np_error *err)
{
	const char *params[1] = { h->name };
	char topo[24];
	PGresult *r = NULL;
	int rc = exec(s, "BEGIN", err);

	*added = 0;
	if (!rc)
		rc = exec(s, ADMIN_LOCK, err);
	if (!rc && !(r = run(s, P_HOST_BY_NAME, 1, params, err)))
		rc = NP_EOS;
	if (!rc && PQntuples(r)) {
		if (strcmp(PQgetvalue(r, 0, 1), h->topo_json) ||
		    strtod(PQgetvalue(r, 0, 2), NULL) != h->cpu_ratio ||
		    strtod(PQgetvalue(r, 0, 3), NULL) != h->ram_ratio)
			rc = np__err_reason(err, NP_EINPUT, "host_exists",
					    "host '%s' is in the fleet already, with another "
					    "topology or ratios (remove it first)", h->name);
	} else if (!rc && !(rc = topo_id(s, h, topo, sizeof(topo), err)) &&
		   !(rc = insert_host(s, h, topo, err)) && !(rc = exec(s, "COMMIT", err))) {
		*added = 1;
	}
	PQclear(r);
	rollback(s);
	if (*added)
		stale_stats(s);
	return rc;
}

/* One more removal in np_meta 'removals', in the removal's transaction. */
static int count_removal(struct np__store *s, struct np_error *err)
{
	PGresult *r = run(s, P_COUNT_REMOVAL, 0, NULL, err);

	PQclear(r);
	return r ? 0 : NP_EOS;
}

static int pg_remove_host(struct np__store *s, const char *name, bool force, int *released,
			  struct np_error *err)
{
	const char *params[1] = { name };
	char id[24] = "", topo[24] = "";
	PGresult *r = NULL;
	int64_t n = 0;
	int rc = exec(s, "BEGIN", err);

	if (!rc)
		rc = exec(s, ADMIN_LOCK, err);
	if (!rc && !(r = run(s, P_HOST_BY_NAME, 1, params, err)))
		rc = NP_EOS;
	if (!rc && !PQntuples(r))
		rc = np__err_reason(err, NP_EINPUT, "no_host", "no host '%s' in the fleet", name);
	if (!rc) {
		snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
		snprintf(topo, sizeof(topo), "%s", PQgetvalue(r, 0, 4));
		n = one_int(s, P_COUNT_PLACEMENTS, id, err);
		rc = n < 0 ? NP_EOS : 0;
	}
	if (!rc && n > 0 && !force)
		rc = np__err_reason(err, NP_EINPUT, "host_in_use",
				    "host '%s' holds %lld placement%s (release them, or --force)",
				    name, (long long)n, n == 1 ? "" : "s");
	if (!rc && (one_int(s, P_DEL_HOST_PLACEMENTS, id, err) < -1 ||
		    one_int(s, P_DEL_HOST, id, err) < -1 || one_int(s, P_DEL_TOPO, topo, err) < -1))
		rc = NP_EOS;
	if (!rc)
		rc = count_removal(s, err);
	if (!rc)
		rc = exec(s, "COMMIT", err);
	if (!rc && released)
		*released = (int)n;
	PQclear(r);
	rollback(s);
	return rc;
}

/* ---- reading ---------------------------------------------------------------- */

struct hctx {
	np__host_cb cb;
	void *ctx;
	int64_t seq, removals;
	struct np__takes told; /* since_row: the last change of the row at hand */
	size_t tcap, pcap;
};

/* A row of P_HOSTS_ALL or P_HOSTS_LIGHT: every column of a host. */
static int host_row(const struct row *w, void *p)
{
	struct hctx *h = p;
	struct np__host_rec rec;

	rec = (struct np__host_rec){ cnum(w, 0), ctext(w, 1), cnum(w, 2), strtod(ctext(w, 3), NULL),
				     strtod(ctext(w, 4), NULL), cnum(w, 5), (int)cnum(w, 6), NULL, false };
	return h->cb(h->ctx, &rec);
}

/*
 * Reading a host's last change (schema_v6), which anyone who can write
 * the row may have written: each number in its range, each name short
 * enough, nothing left over, else it is not used.  Whether the host has
 * those rows and CPUs, and room, is the applier's check (fleet.c).
 */
static bool lc_num(const char **p, int64_t lo, int64_t hi, int64_t *v)
{
	const char *q = *p + strspn(*p, " ");
	char *end;
	long long x;

	if (!((*q >= '0' && *q <= '9') || (*q == '-' && q[1] >= '0' && q[1] <= '9')))
		return false;
	errno = 0;
	x = strtoll(q, &end, 10);
	if (errno || x < lo || x > hi || (*end && *end != ' ' && *end != ';'))
		return false;
	*v = x;
	*p = end;
	return true;
}

/* The next item of a list up to ';' (or the end): true while there is one. */
static bool lc_more(const char **p)
{
	*p += strspn(*p, " ");
	return **p && **p != ';';
}

static bool lc_take(const char **p, bool mode, struct np__take *t)
{
	int64_t node, amount, m = 0;
	const char *q;
	size_t n;

	if (!lc_num(p, -1, NP_ID_MAX, &node))
		return false;
	q = *p + strspn(*p, " ");
	n = strcspn(q, " ;");
	if (!n || n >= NP__RC_MAX)
		return false;
	memcpy(t->rc, q, n);
	t->rc[n] = '\0';
	*p = q + n;
	if (!lc_num(p, 0, INT64_MAX / 4, &amount) || (mode && !lc_num(p, 0, 2, &m)))
		return false;
	t->node = (int)node, t->amount = amount, t->mode = (enum np__check)m;
	return true;
}

/* One pinned CPU and its kernel node at *P into PIN. */
static bool lc_pin(const char **p, struct np__pin *pin)
{
	int64_t cpu, node;

	if (!lc_num(p, 0, NP_ID_MAX, &cpu) || !lc_num(p, 0, NP_ID_MAX, &node))
		return false;
	pin->cpu = (int)cpu, pin->node = (int)node;
	return true;
}

/*
 * The lists a last change and a release's answer share, "NODE RC AMOUNT
 * [MODE] ...;CPU NODE ..." up to the end of the text at *P, into T (its
 * arrays of *TCAP and *PCAP elements, grown here); MODE: each take names
 * its check mode.  0, NP_EOS (not that form) or NP_ENOMEM.  At most 512
 * takes (all a claim may write, claim_send) and NP_VCPUS_MAX pins (a
 * guest pins one CPU a vCPU), so a row someone filled with millions does
 * not cost more.
 */
static int lc_lists(const char **p, bool mode, struct np__takes *t, size_t *tcap, size_t *pcap)
{
	t->ntakes = t->npins = 0;
	for (; lc_more(p); t->ntakes++) {
		if (t->ntakes >= 512)
			return NP_EOS;
		if (np__grow((void **)&t->takes, tcap, (size_t)t->ntakes + 1, sizeof(*t->takes)))
			return NP_ENOMEM;
		if (!lc_take(p, mode, &t->takes[t->ntakes]))
			return NP_EOS;
	}
	if (*(*p)++ != ';')
		return NP_EOS;
	for (; lc_more(p); t->npins++) {
		if (t->npins >= NP_VCPUS_MAX)
			return NP_EOS;
		if (np__grow((void **)&t->pins, pcap, (size_t)t->npins + 1, sizeof(*t->pins)))
			return NP_ENOMEM;
		if (!lc_pin(p, &t->pins[t->npins]))
			return NP_EOS;
	}
	return **p ? NP_EOS : 0;
}

/* V, the last change of a host row at generation GEN, into H->told; false: not usable. */
static bool last_change(struct hctx *h, const char *v, int64_t gen, bool *release)
{
	const char *p = v;
	int64_t g;

	h->told.ntakes = h->told.npins = 0;
	if (!lc_num(&p, 1, INT64_MAX, &g) || g != gen || (strncmp(p, " c;", 3) && strncmp(p, " r;", 3)))
		return false;
	*release = p[1] == 'r';
	p += 3;
	return lc_lists(&p, !*release, &h->told, &h->tcap, &h->pcap) == 0;
}

/*
 * A row of P_HOSTS_SINCE: the sequence's (id -1), or a changed host's id
 * and generation, with what that change was when its last change says.
 */
static int since_row(const struct row *w, void *p)
{
	struct hctx *h = p;
	struct np__host_rec rec = { .id = cnum(w, 0), .generation = cnum(w, 1), .placements = -1 };

	if (rec.id == -1) {
		h->removals = cnum(w, 1);
		h->seq = cnum(w, 2);
		return 0;
	}
	if (!cnull(w, 3) && last_change(h, ctext(w, 3), rec.generation, &rec.release))
		rec.delta = &h->told;
	return h->cb(h->ctx, &rec);
}

/*
 * Remember this scan (its sequence value SEQ) in M and say where the
 * next starts: at a value read at least LAG_NS ago (a claim takes its
 * mark before its commit becomes visible), and every DEEP_NS at a value
 * at least WINDOW_NS old, for commits slower still.  Marks are kept
 * MARK_STEP_NS apart, so the ring spans WINDOW_NS however often the
 * handles sharing M scan; a mark skipped only makes the next scan
 * start a little earlier.
 */
static int64_t since_next(struct marks *m, int64_t seq)
{
	int64_t now = np__store_now_ns(), lag = -1, old = -1;
	int keep = 0;

	if (!m->n || now - m->m[m->n - 1].t >= MARK_STEP_NS) {
		if (m->n == MARKS) {
			memmove(m->m, m->m + MARKS / 2, (MARKS / 2) * sizeof(m->m[0]));
			m->n = MARKS / 2;
		}
		m->m[m->n].t = now;
		m->m[m->n++].seq = seq;
	}
	for (int i = 0; i < m->n; i++) {
		if (now - m->m[i].t >= LAG_NS)
			lag = m->m[i].seq;
		if (now - m->m[i].t >= WINDOW_NS)
			keep = i, old = m->m[i].seq;
	}
	memmove(m->m, m->m + keep, (size_t)(m->n - keep) * sizeof(m->m[0]));
	m->n -= keep;
	if (now - m->deep < DEEP_NS)
		return lag >= 0 ? lag : m->m[0].seq;
	m->deep = now;
	return old >= 0 ? old : m->m[0].seq;
}

/* since_next on CUR's shared marks (under their lock), or on S's own. */
static int64_t cursor_next(struct np__store *s, const struct np__cursor *cur, int64_t seq)
{
	struct shared_marks *sh = cur->shared;
	int64_t v;

	if (!sh)
		return since_next(&s->marks, seq);
	pthread_mutex_lock(&sh->mu);
	v = since_next(&sh->marks, seq);
	pthread_mutex_unlock(&sh->mu);
	return v;
}

static void *pg_scan_state_new(void)
{
	struct shared_marks *sh = calloc(1, sizeof(*sh));

	if (sh && pthread_mutex_init(&sh->mu, NULL)) {
		free(sh);
		return NULL;
	}
	return sh;
}

static void pg_scan_state_free(void *state)
{
	struct shared_marks *sh = state;

	if (!sh)
		return;
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

static int pg_hosts(struct np__store *s, struct np__cursor *cur, np__host_cb cb, void *ctx,
		    struct np_error *err)
{
	struct hctx h = { cb, ctx, -1, -1, { 0 }, 0, 0 };
	char since[24];
	const char *params[1] = { since };
	int rc;

	if (!cur || !cur->started) {
		/* The mark before the scan: whatever is marked later is new to us. */
		PGresult *r = cur ? run(s, P_SEQ, 0, NULL, err) : NULL;

		if (cur && !r)
			return NP_EOS;
		h.seq = r ? num(r, 0) : -1;
		h.removals = r ? num(r, 1) : -1; /* read before the hosts: see store.h */
		PQclear(r);
		rc = each(s, cur ? P_HOSTS_ALL : P_HOSTS_LIGHT, 0, NULL, host_row, &h, err);
		if (!rc && cur) {
			/* Marks read before (by any handle) are readings of the sequence too. */
			cur->v[0] = cursor_next(s, cur, h.seq);
			cur->v[1] = h.removals;
			cur->started = true;
		}
		return rc;
	}
	snprintf(since, sizeof(since), "%lld", (long long)cur->v[0]);
	if ((rc = have_fns(s, err)))
		return rc;
	rc = each(s, P_HOSTS_SINCE, 1, params, since_row, &h, err);
	free(h.told.takes);
	free(h.told.pins);
	if (!rc && h.seq >= 0) {
		cur->v[0] = cursor_next(s, cur, h.seq);
		cur->removed |= h.removals != cur->v[1];
		cur->v[1] = h.removals;
	}
	return rc;
}

static int pg_topology(struct np__store *s, int64_t id, char **json, struct np_error *err)
{
	char arg[24];
	const char *params[1] = { arg };
	PGresult *r;

	snprintf(arg, sizeof(arg), "%lld", (long long)id);
	if (!(r = run(s, P_TOPO, 1, params, err)))
		return NP_EOS;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return np__err(err, NP_EINPUT, "topology %lld is missing from the store",
			       (long long)id);
	}
	*json = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return *json ? 0 : np__err(err, NP_ENOMEM, "out of memory");
}

/*
 * One array column of a ledger row (LEDGER_COLS) read element by element, in
 * place: PostgreSQL's text form "{1,2,3}", elements that need it in
 * double quotes with backslash escapes (array_out).  P is the next
 * element, NULL once the array ends (or for a NULL column: none); BAD
 * says the text was not such an array or ended early.
 */
struct arr {
	const char *p;
	bool bad;
};

static struct arr arr_open(const struct row *w, int col)
{
	const char *s = cnull(w, col) ? NULL : ctext(w, col);

	if (!s)
		return (struct arr){ NULL, false };
	if (s[0] != '{')
		return (struct arr){ NULL, true };
	return (struct arr){ s[1] == '}' ? NULL : s + 1, false };
}

/* Past one element that ends at END: a ',' goes on, a '}' ends the array. */
static void arr_next(struct arr *a, const char *end)
{
	a->p = *end == ',' ? end + 1 : NULL;
	a->bad |= *end != ',' && *end != '}';
}

static int64_t arr_num(struct arr *a)
{
	char *end;
	int64_t v;

	if (!a->p) {
		a->bad = true;
		return 0;
	}
	v = strtoll(a->p, &end, 10);
	if (end == a->p)
		a->bad = true;
	arr_next(a, end);
	return v;
}

/* A text element into OUT (SIZE bytes), cut as np__rc_copy cuts. */
static void arr_text(struct arr *a, char *out, size_t size)
{
	const char *q = a->p;
	size_t n = 0;
	bool quoted = q && *q == '"';

	if (!q) {
		a->bad = true;
		return;
	}
	for (q += quoted; *q && (quoted ? *q != '"' : *q != ',' && *q != '}'); q++) {
		if (quoted && *q == '\\' && q[1])
			q++;
		if (n + 1 < size)
			out[n++] = *q;
	}
	out[n] = '\0';
	if (quoted && *q++ != '"')
		a->bad = true;
	arr_next(a, q);
}

struct lctx {
	np__row_cb row_cb;
	np__pin_cb pin_cb;
	np__host_cb gen_cb;
	void *ctx;
	struct np__store *s;
	struct np_error *err;
};

static int bad_ledger(struct lctx *l, int64_t host)
{
	return np__err(l->err, NP_EOS, "store '%s': host id %lld: its ledger came back "
		       "malformed", l->s->shown, (long long)host);
}

/* Columns 7-11 of a ledger row: the host's inventory rows, in step. */
static int ledger_rows(struct lctx *l, const struct row *w, int64_t host)
{
	struct arr a[5];
	int rc = 0;

	for (int k = 0; k < 5; k++)
		a[k] = arr_open(w, 7 + k);
	while (!rc && a[0].p && !a[0].bad) {
		struct np__row row = { 0 }; /* rc's tail zeroed: ledgers are compared whole */

		row.node = (int)arr_num(&a[0]);
		arr_text(&a[1], row.rc, sizeof(row.rc));
		row.total = arr_num(&a[2]), row.cap = arr_num(&a[3]), row.used = arr_num(&a[4]);
		for (int k = 0; k < 5; k++)
			if (a[k].bad)
				return bad_ledger(l, host);
		rc = l->row_cb(l->ctx, host, &row);
	}
	for (int k = 0; !rc && k < 5; k++)
		if (a[k].bad || a[k].p)
			return bad_ledger(l, host); /* not an array, or one longer than the others */
	return rc;
}

/* Columns 12-13: the host's pins (cpu, node), in step; no placement (check.c reads those). */
static int ledger_pins(struct lctx *l, const struct row *w, int64_t host)
{
	struct arr cpu = arr_open(w, 12), node = arr_open(w, 13);
	int rc = 0;

	while (!rc && cpu.p && !cpu.bad) {
		int c = (int)arr_num(&cpu), n = (int)arr_num(&node);

		if (cpu.bad || node.bad)
			return bad_ledger(l, host);
		rc = l->pin_cb(l->ctx, host, c, n, NULL);
	}
	if (!rc && (cpu.bad || node.bad || node.p))
		return bad_ledger(l, host);
	return rc;
}

/* One host's row (LEDGER_COLS): its generation first, then its rows and pins. */
static int ledger_row(const struct row *w, void *p)
{
	struct lctx *l = p;
	int64_t host = cnum(w, 0);
	struct np__host_rec h = { host, ctext(w, 4), cnum(w, 3), strtod(ctext(w, 5), NULL),
				  strtod(ctext(w, 6), NULL), cnum(w, 1), (int)cnum(w, 2), NULL,
				  false };
	int rc = l->gen_cb(l->ctx, &h);

	if (!rc)
		rc = ledger_rows(l, w, host);
	return rc ? rc : ledger_pins(l, w, host);
}

static int pg_ledgers(struct np__store *s, int64_t host, np__row_cb row_cb, np__pin_cb pin_cb,
		      np__host_cb gen_cb, void *ctx, struct np_error *err)
{
	struct lctx l = { row_cb, pin_cb, gen_cb, ctx, s, err };
	char arg[24];
	const char *params[1] = { arg };

	/* One statement: one snapshot for hosts, rows and pins. */
	snprintf(arg, sizeof(arg), "%lld", (long long)host);
	return each(s, host >= 0 ? P_LEDGER_ONE : P_LEDGER_ALL, host >= 0 ? 1 : 0, params,
		    ledger_row, &l, err);
}

struct pctx {
	np__placement_cb cb;
	np__alloc_cb acb;
	np__pin_cb pcb;
	void *ctx;
};

static int placement_row(const struct row *w, void *p)
{
	struct pctx *c = p;
	struct np__placement_rec rec = { ctext(w, 0), cnum(w, 1), ctext(w, 2), ctext(w, 3) };

	return c->cb(c->ctx, &rec);
}

static int pg_placements(struct np__store *s, const char *id, int64_t host, np__placement_cb cb,
			 void *ctx, struct np_error *err)
{
	struct pctx c = { .cb = cb, .ctx = ctx };
	char arg[24];
	const char *params[1] = { id ? id : arg };

	snprintf(arg, sizeof(arg), "%lld", (long long)host);
	if (id)
		return each(s, P_PLACEMENT_ONE, 1, params, placement_row, &c, err);
	return each(s, host >= 0 ? P_PLACEMENTS_HOST : P_PLACEMENTS_ALL, host >= 0 ? 1 : 0, params,
		    placement_row, &c, err);
}

static int alloc_row(const struct row *w, void *p)
{
	struct pctx *c = p;

	return c->acb(c->ctx, ctext(w, 0), (int)cnum(w, 1), ctext(w, 2), cnum(w, 3));
}

static int pin_row(const struct row *w, void *p)
{
	struct pctx *c = p;

	return c->pcb(c->ctx, cnum(w, 0), (int)cnum(w, 1), (int)cnum(w, 2), ctext(w, 3));
}

static int pg_allocations(struct np__store *s, np__alloc_cb cb, np__pin_cb pin_cb, void *ctx,
			  struct np_error *err)
{
	struct pctx c = { .acb = cb, .pcb = pin_cb, .ctx = ctx };
	int rc = each(s, P_ALLOCS, 0, NULL, alloc_row, &c, err);

	return rc ? rc : each(s, P_PINS_ALL, 0, NULL, pin_row, &c, err);
}

static int pg_snapshot(struct np__store *s, bool begin, struct np_error *err)
{
	if (!begin) {
		rollback(s);
		return 0;
	}
	return exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
}

/* ---- observations ------------------------------------------------------------ */

static int pg_observe_set(struct np__store *s, const struct np__obs_rec *o,
			  enum np__obs_status *status, struct np_error *err)
{
	char host[24], at[24], pid[16];
	char *arr[3] = {
		array_of(o->nodes, o->nnodes, sizeof(*o->nodes), offsetof(struct np__obs_node, node), 0),
		array_of(o->nodes, o->nnodes, sizeof(*o->nodes),
			 offsetof(struct np__obs_node, memory_mb), 1),
		array_of(o->nodes, o->nnodes, sizeof(*o->nodes), offsetof(struct np__obs_node, vcpus), 0),
	};
	const char *params[9] = { o->placement, host, at, o->source, o->pid > 0 ? pid : NULL,
				  o->domain, arr[0], arr[1], arr[2] };
	PGresult *r = NULL;
	int rc = 0;

	snprintf(host, sizeof(host), "%lld", (long long)o->host_id);
	snprintf(at, sizeof(at), "%lld", (long long)o->at);
	snprintf(pid, sizeof(pid), "%d", o->pid);
	if (!arr[0] || !arr[1] || !arr[2])
		rc = np__err(err, NP_ENOMEM, "out of memory");
	else if (!(r = run(s, P_OBSERVE, 9, params, err)))
		rc = NP_EOS;
	else
		*status = !strcmp(text(r, 0), "ok")	? NP__OBS_STORED
			  : !strcmp(text(r, 0), "host") ? NP__OBS_OTHER_HOST
							: NP__OBS_NO_PLACEMENT;
	PQclear(r);
	for (int i = 0; i < 3; i++)
		free(arr[i]);
	return rc;
}

static int obs_row(const struct row *w, void *p)
{
	struct np__obs_node n = { (int)cnum(w, 5), cnum(w, 6), (int)cnum(w, 7) };

	return np__obs_acc_row(p, cnum(w, 0), cnum(w, 1), ctext(w, 2), (int)cnum(w, 3),
			       cnull(w, 4) ? NULL : ctext(w, 4),
			       cnull(w, 5) ? NULL : &n);
}

static int pg_observe_get(struct np__store *s, const char *id, np__obs_cb cb, void *ctx,
			  struct np_error *err)
{
	struct np__obs_acc a;
	const char *params[1] = { id };
	int rc = np__obs_acc_init(&a, id, err);

	if (rc)
		return rc;
	return np__obs_acc_done(&a, each(s, P_OBS_GET, 1, params, obs_row, &a, err), cb, ctx);
}

static const struct np__store_driver np__store_postgresql = {
	.scheme = "postgresql",
	.shared_scan = true,
	.scan_state_new = pg_scan_state_new,
	.scan_state_free = pg_scan_state_free,
	.schema = NP__FLEET_SCHEMA_POSTGRESQL,
	.open = pg_open,
	.close = pg_close,
	.version = pg_version,
	.migrate = pg_migrate,
	.add_host = pg_add_host,
	.remove_host = pg_remove_host,
	.hosts = pg_hosts,
	.topology = pg_topology,
	.ledgers = pg_ledgers,
	.claim = pg_claim,
	.claim_moves = pg_claim_moves,
	.claim_many = pg_claim_many,
	.lock_claims = pg_lock_claims,
	.wait_until = pg_wait_until,
	.release = pg_release,
	.commit_many = pg_commit_many,
	.placements = pg_placements,
	.snapshot = pg_snapshot,
	.allocations = pg_allocations,
	.observe_set = pg_observe_set,
	.observe_get = pg_observe_get,
};

/* The module (lib/module/module.h): its one export. */
NP__MODULE(postgresql, NULL, &np__store_postgresql);
