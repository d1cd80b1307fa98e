/*
 * test-store-schema.c - the SQLite store's layout (lib/fleet/store-sqlite.c,
 * docs/formats/fleet.md): what a claim and a release cost it in pages, and
 * stores made by older numaplace migrated.
 *
 * Pages: every B-tree a transaction changes costs at least one WAL frame
 * (a page written) and, with other writers, pages read again.  The WAL is
 * emptied through a second connection, a number of claims (or releases)
 * run one commit each, and the frames the WAL then holds are counted
 * (PRAGMA wal_checkpoint answers them): a count, not a time, so it is
 * stable from run to run.
 *
 * Migration: tests/data/fleet/store-v2.sql is a store that numaplace at
 * schema version 2 made (its header says how); it is loaded into a file
 * and opened: every placement, allocation, pin and observation must come
 * through, `fleet check` must pass, and claims and releases must work.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/numaplace.h>

#include "check.h"
#include "synth.h"

static char dir[64];

static void checked(np_fleet *f, const char *when)
{
	struct np_error err = { 0 };
	struct np_fleet_check_stats st;

	CHECK(np_fleet_check(f, &st, &err) == 0, "check %s: %s", when, err.message);
}

static np_topo *synth(int nodes, int cores, int mem, int pages, int nics)
{
	struct synth_host s = { nodes, cores, mem, pages, nics };
	struct np_error err = { 0 };
	np_topo *t = synth_topo(&s, &err);

	CHECK(t != NULL, "%s", err.message);
	return t;
}

/* FLAVOR scheduled under ID on F: placed or not. */
static bool place(np_fleet *f, const char *id, const char *flavor)
{
	struct np_error err = { 0 };
	np_request *r = NULL;
	np_fleet_result *res = NULL;
	bool ok = np_request_from_flavor_text(flavor, NULL, &r, &err) == 0 &&
		  np_fleet_schedule(f, id, r, NULL, &res, &err) == 0 && np_fleet_result_placed(res);

	CHECK(ok, "place %s (%s): %s", id, flavor, err.message);
	np_fleet_result_free(res);
	np_request_free(r);
	return ok;
}

static bool release(np_fleet *f, const char *id)
{
	struct np_error err = { 0 };
	bool found = false;

	CHECK(np_fleet_release(f, id, &found, &err) == 0 && found, "release %s: %s", id,
	      err.message);
	return found;
}

/* PRAGMA wal_checkpoint(MODE) on DB: the frames the WAL held, or -1. */
static int wal_frames(sqlite3 *db, const char *mode)
{
	char q[64];
	sqlite3_stmt *st = NULL;
	int n = -1;

	snprintf(q, sizeof(q), "PRAGMA wal_checkpoint(%s)", mode);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_int(st, 0) == 0)
		n = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	return n;
}

/* ---- pages per claim and release ----------------------------------------- */

#define HOSTS 16
#define WARM 96    /* placements made before counting: B-trees of several pages */
#define COUNTED 24 /* claims, then releases, counted */

static const char *const flavors[] = {
	"vcpus=2,ram=2048",
	"vcpus=4,ram=4096,hw:cpu_policy=dedicated",
	"vcpus=4,ram=8192,hw:numa_nodes=2",
	"vcpus=2,ram=2048,hw:cpu_policy=dedicated,hw:mem_page_size=2048",
};

/* Placements FROM..TO-1 ("vm-N", flavors in turn) made, or released (RELEASE). */
static bool run(np_fleet *f, int from, int to, bool rel)
{
	char id[32];
	bool ok = true;

	for (int i = from; i < to && ok; i++) {
		snprintf(id, sizeof(id), "vm-%d", i);
		ok = rel ? release(f, id) : place(f, id, flavors[i % 4]);
	}
	return ok;
}

/*
 * Frames per claim and per release, one commit each.  Schema version 2
 * wrote 8.92 a claim and 9.00 a release here (214 and 216 for 24): the
 * placement's row and its id and host indexes, its allocation rows, its
 * pins and their index by placement, the host row and its change mark
 * index, the ledger rows.  Version 3 (the takes and pins in the
 * placement's row, the last change mark in np_meta) writes 7.12 and
 * 7.71; the bounds leave room for a page split more, not for a B-tree
 * more per commit.  (With 16 hosts the change mark index was one leaf:
 * what dropping it saves shows with more hosts, in the service
 * benchmark.)
 */
static void frames(void)
{
	struct np_error err = { 0 };
	char path[128], u[160], name[16];
	np_topo *t = synth(8, 4, 65536, 1024, 0);
	np_fleet *f = NULL;
	sqlite3 *db = NULL;
	int claims = -1, releases = -1;

	snprintf(path, sizeof(path), "%s/frames.db", dir);
	snprintf(u, sizeof(u), "sqlite:%s", path);
	CHECK(t && np_fleet_open(u, NP_FLEET_CREATE, &f, &err) == 0, "open: %s", err.message);
	for (int i = 0; f && t && i < HOSTS; i++) {
		snprintf(name, sizeof(name), "h%02d", i);
		CHECK(np_fleet_add_host(f, name, t, NULL, NULL, &err) == 0, "add: %s", err.message);
	}
	/* TRUNCATE empties the WAL (and answers 0 frames); PASSIVE counts them. */
	if (f && sqlite3_open(path, &db) == SQLITE_OK && run(f, 0, WARM + COUNTED, false) &&
	    wal_frames(db, "TRUNCATE") == 0 && run(f, WARM + COUNTED, WARM + 2 * COUNTED, false))
		claims = wal_frames(db, "PASSIVE");
	if (claims > 0 && wal_frames(db, "TRUNCATE") == 0 && run(f, WARM, WARM + COUNTED, true))
		releases = wal_frames(db, "PASSIVE");
	fprintf(stderr, "# frames per claim %.2f, per release %.2f\n", claims / (double)COUNTED,
		releases / (double)COUNTED);
	CHECK(claims > 0 && claims * 4 <= 30 * COUNTED, "%d frames for %d claims (at most 7.5 "
	      "each)", claims, COUNTED);
	CHECK(releases > 0 && releases * 4 <= 33 * COUNTED, "%d frames for %d releases (at most "
	      "8.25 each)", releases, COUNTED);
	if (f)
		checked(f, "after counting");
	sqlite3_close(db);
	np_fleet_close(f);
	np_topo_free(t);
}

/* ---- migration ------------------------------------------------------------- */

/* Q's rows (one text column) joined by ';' into BUF: what a table holds, in order. */
static const char *rows(sqlite3 *db, const char *q, char *buf, size_t size)
{
	sqlite3_stmt *st = NULL;
	size_t at = 0;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		snprintf(buf, size, "(error: %s)", sqlite3_errmsg(db));
		return buf;
	}
	while (sqlite3_step(st) == SQLITE_ROW && at < size)
		at += (size_t)snprintf(buf + at, size - at, "%s;", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* What a migration must keep, each as one text. */
static const char *const kept[] = {
	"SELECT id || '|' || host_id || '|' || request || '|' || plan FROM np_placements "
	"ORDER BY 1",
	"SELECT host_id || ' ' || cpu || ' ' || node || ' ' || placement_id FROM np_pins ORDER BY 1",
	"SELECT host_id || ' ' || node || ' ' || rc || ' ' || total || ' ' || cap || ' ' || used "
	"FROM np_inventory ORDER BY 1",
	"SELECT id || ' ' || name || ' ' || topology_id || ' ' || generation || ' ' || change_seq "
	"FROM np_hosts ORDER BY 1",
	"SELECT o.placement_id || ' ' || o.host_id || ' ' || o.at || ' ' || o.source || ' ' || "
	"n.node || ' ' || n.memory_mb || ' ' || n.vcpus FROM np_observations o JOIN "
	"np_observed_nodes n USING (placement_id) ORDER BY 1",
};

#define KEPT (sizeof(kept) / sizeof(kept[0]))
#define SNAP 65536

/* The fixture (tests/data/fleet/store-v2.sql) loaded into PATH, then EXTRA run on it. */
static bool load_v2(const char *path, const char *extra)
{
	char file[512], *sql = NULL;
	const char *src = getenv("NP_SRC");
	sqlite3 *db = NULL;
	FILE *in;
	long n = 0;
	bool ok = false;

	snprintf(file, sizeof(file), "%s/tests/data/fleet/store-v2.sql", src ? src : ".");
	in = fopen(file, "rb");
	if (in && fseek(in, 0, SEEK_END) == 0 && (n = ftell(in)) > 0 && fseek(in, 0, SEEK_SET) == 0 &&
	    (sql = calloc(1, (size_t)n + 1)) && fread(sql, 1, (size_t)n, in) == (size_t)n &&
	    sqlite3_open(path, &db) == SQLITE_OK)
		ok = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK &&
		     (!extra || sqlite3_exec(db, extra, NULL, NULL, NULL) == SQLITE_OK);
	CHECK(ok, "load %s: %s", file, db ? sqlite3_errmsg(db) : "cannot read it");
	sqlite3_close(db);
	if (in)
		fclose(in);
	free(sql);
	return ok;
}

/* The placement ids on DB (*N of them), malloc'ed. */
static char **ids_of(sqlite3 *db, int *n)
{
	sqlite3_stmt *st = NULL;
	char **ids = calloc(256, sizeof(*ids));

	*n = 0;
	if (ids && sqlite3_prepare_v2(db, "SELECT id FROM np_placements ORDER BY id", -1, &st,
				      NULL) == SQLITE_OK)
		while (*n < 256 && sqlite3_step(st) == SQLITE_ROW)
			ids[(*n)++] = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return ids;
}

/* The text of Q's first row's first column on DB ("" when none). */
static void one(sqlite3 *db, const char *q, char *buf, size_t size)
{
	rows(db, q, buf, size);
	if (buf[0] && buf[strlen(buf) - 1] == ';')
		buf[strlen(buf) - 1] = '\0';
}

/*
 * A store at version FROM (the fixture, taken back to version 1 by
 * EXTRA) opened: migrated to the version this numaplace writes, every
 * row KEPT as it was, no table of allocations left, `fleet check` good;
 * a claim works; releasing every placement gives every ledger row back
 * to 0 used and leaves no pin (the takes each row carried over were
 * exactly what the placement held).
 */
static void migrate(const char *name, const char *extra, int from)
{
	struct np_error err = { 0 };
	char path[128], u[160], v[32], *before[KEPT] = { 0 }, *after = malloc(SNAP);
	np_fleet *f = NULL;
	sqlite3 *db = NULL;
	char **ids = NULL;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	snprintf(u, sizeof(u), "sqlite:%s", path);
	if (!after || !load_v2(path, extra) || sqlite3_open(path, &db) != SQLITE_OK)
		goto out;
	one(db, "SELECT value FROM np_meta WHERE key = 'version'", v, sizeof(v));
	CHECK(strtol(v, NULL, 10) == from, "the fixture is at version %s", v);
	for (size_t i = 0; i < KEPT; i++)
		if ((before[i] = malloc(SNAP)))
			rows(db, kept[i], before[i], SNAP);
	CHECK(np_fleet_open(u, 0, &f, &err) == 0, "open version %d: %s", from, err.message);
	if (!f)
		goto out;
	checked(f, "migrated");
	/* Version 1 had no observations to keep: the last text. */
	for (size_t i = 0; i < KEPT - (from < 2); i++)
		CHECK(before[i] && !strcmp(before[i], rows(db, kept[i], after, SNAP)),
		      "kept: %.60s...", kept[i]);
	one(db, "SELECT value FROM np_meta WHERE key = 'version'", v, sizeof(v));
	CHECK(!strcmp(v, "3"), "version now %s (SQLite's stays at 3)", v);
	one(db, "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('np_allocations', "
		"'np_pins_placement', 'np_placements_v3', 'np_pins_v3')", v, sizeof(v));
	CHECK(!strcmp(v, "0"), "%s old or half-made tables left", v);
	ids = ids_of(db, &n);
	CHECK(n == 23, "%d placements", n);
	CHECK(place(f, "after-1", "vcpus=4,ram=4096,hw:cpu_policy=dedicated"), "claim after");
	checked(f, "claimed after the migration");
	CHECK(release(f, "after-1"), "release after");
	for (int i = 0; i < n; i++)
		release(f, ids[i]);
	checked(f, "all released");
	one(db, "SELECT (SELECT COUNT(*) FROM np_inventory WHERE used != 0) || ' ' || "
		"(SELECT COUNT(*) FROM np_pins) || ' ' || (SELECT COUNT(*) FROM np_placements)", v,
	    sizeof(v));
	CHECK(!strcmp(v, "0 0 0"), "rows still used, pins, placements: %s", v);
out:
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	for (size_t i = 0; i < KEPT; i++)
		free(before[i]);
	free(after);
	np_fleet_close(f);
	sqlite3_close(db);
}

/*
 * A row whose takes are not in the format (a store edited by hand):
 * its release and `fleet check` refuse with one line naming it; the
 * ledger is not touched.
 */
static void broken_row(void)
{
	struct np_error err = { 0 };
	char path[128], u[160], v[64];
	np_fleet *f = NULL;
	sqlite3 *db = NULL;
	struct np_fleet_check_stats st;
	bool found = false;

	snprintf(path, sizeof(path), "%s/broken.db", dir);
	snprintf(u, sizeof(u), "sqlite:%s", path);
	if (!load_v2(path, NULL) || np_fleet_open(u, 0, &f, &err) != 0 ||
	    sqlite3_open(path, &db) != SQLITE_OK) {
		CHECK(false, "open: %s", err.message);
		goto out;
	}
	CHECK(sqlite3_exec(db, "UPDATE np_placements SET takes = '0 mem' WHERE id = 'vm-1'", NULL,
			   NULL, NULL) == SQLITE_OK, "break: %s", sqlite3_errmsg(db));
	one(db, "SELECT SUM(used) FROM np_inventory", v, sizeof(v));
	CHECK(np_fleet_release(f, "vm-1", &found, &err) == NP_EINPUT &&
	      strstr(err.message, "'vm-1' holds broken takes '0 mem'") &&
	      !strchr(err.message, '\n'), "release: %s", err.message);
	CHECK(np_fleet_check(f, &st, &err) != 0 && strstr(err.message, "broken takes"),
	      "check: %s", err.message);
	one(db, "SELECT SUM(used) FROM np_inventory", v + 32, 32);
	CHECK(!strcmp(v, v + 32), "ledger %s, was %s", v + 32, v);
out:
	np_fleet_close(f);
	sqlite3_close(db);
}

/*
 * A pinned placement whose row no longer names its pins (a store edited
 * by hand): a release would leave them behind, so `fleet check` says so.
 */
static void pins_unnamed(void)
{
	struct np_error err = { 0 };
	char path[128], u[160];
	np_fleet *f = NULL;
	sqlite3 *db = NULL;
	struct np_fleet_check_stats st;

	snprintf(path, sizeof(path), "%s/pins.db", dir);
	snprintf(u, sizeof(u), "sqlite:%s", path);
	if (!load_v2(path, NULL) || np_fleet_open(u, 0, &f, &err) != 0 ||
	    sqlite3_open(path, &db) != SQLITE_OK) {
		CHECK(false, "open: %s", err.message);
		goto out;
	}
	checked(f, "before the edit");
	CHECK(sqlite3_exec(db, "UPDATE np_placements SET pins = '' WHERE id = (SELECT MIN("
			   "placement_id) FROM np_pins)", NULL, NULL, NULL) == SQLITE_OK, "edit: %s",
	      sqlite3_errmsg(db));
	CHECK(np_fleet_check(f, &st, &err) == NP_EINPUT && strstr(err.message, "np_pins holds 59 "
	      "pins, the placements' rows name "), "check: %s", err.message);
	CHECK(sqlite3_exec(db, "UPDATE np_placements SET pins = '999 0' WHERE id = 'vm-1'", NULL,
			   NULL, NULL) == SQLITE_OK, "edit: %s", sqlite3_errmsg(db));
	CHECK(np_fleet_check(f, &st, &err) == NP_EINPUT &&
	      strstr(err.message, "names CPU 999, which np_pins does not hold for it"), "check: %s",
	      err.message);
out:
	np_fleet_close(f);
	sqlite3_close(db);
}

int main(void)
{
	char cmd[96];

	snprintf(dir, sizeof(dir), "/tmp/np-schema-XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	T_CASE("frames", frames());
	T_CASE("migrate-v2", migrate("v2", NULL, 2));
	T_CASE("migrate-v1", migrate("v1", "DROP TABLE np_observed_nodes; DROP TABLE "
				     "np_observations; UPDATE np_meta SET value = '1' WHERE key = "
				     "'version'", 1));
	T_CASE("broken-row", broken_row());
	T_CASE("pins-unnamed", pins_unnamed());
	t_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return t_done();
}
