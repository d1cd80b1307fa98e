/*
 * store.h - the fleet store interface: one driver table per backend,
 * chosen by the URL's scheme in one dispatcher (store.c), as libvirt
 * chooses its drivers.
 *
 * Only store-sqlite.c (and its VFS shim, store-sqlite-vfs.c) includes
 * sqlite3.h and only store-postgresql.c includes libpq-fe.h; each is a
 * loadable module (lib/module/module.h:
 * numaplace-sqlite.so, numaplace-postgresql.so) whose one export is its
 * descriptor, the driver table as its ops, and nothing calls a backend
 * except through that table.  So `numaplace place` never loads libpq or
 * SQLite; the first store opened loads its module.
 *
 * What a driver keeps (docs/formats/fleet.md): hosts (name, topology by
 * digest, allocation ratios, generation, change mark), the ledger rows of
 * every host (lib/fleet/ledger.h) with their usage, pinned CPUs,
 * placements (id, host, request fingerprint, plan JSON) and what each
 * takes per row.  Its claim is one transaction that locks the host,
 * charges every take with the ledger's predicate in the UPDATE, inserts
 * the pins (unique per host and CPU) and the placement, and bumps the
 * host's generation; any check failing rolls all of it back.
 *
 * Errors: drivers fill ERR with one line and return NP_EIO (cannot reach
 * or open), NP_EINPUT (bad location, unknown or newer schema, bad
 * arguments), NP_EOS (the database failed), NP_ENOMEM.
 *
 * Threads: a driver handle is one connection, one thread at a time.
 */
#ifndef NP_FLEET_STORE_H
#define NP_FLEET_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <numaplace/error.h>

#include "fleet/ledger.h"

/*
 * The schema versions the drivers create and read (each driver's
 * .schema); newer ones are refused.  2 added the observations
 * (np_observations, np_observed_nodes); 3 keeps a SQLite placement's
 * allocations and pins in its row (PostgreSQL: no change); 4 is
 * PostgreSQL's alone: the claim's tables without foreign keys (the
 * claim and the release keep them whole; store-postgresql.c); 5 too: a
 * PostgreSQL placement's allocations and pins as arrays in its row; 6
 * too: a PostgreSQL host row says what its last change was; 7 too: a
 * PostgreSQL host's ledger as arrays in its row.
 * Each store moves on its own: a SQLite file stays at 3.
 */
#define NP__FLEET_SCHEMA_SQLITE 3
#define NP__FLEET_SCHEMA_POSTGRESQL 7
/* The newest of them (np_fleet_schema_version()). */
#define NP__FLEET_SCHEMA NP__FLEET_SCHEMA_POSTGRESQL

struct np__store; /* a driver's connection */

/*
 * Now on the clock of every deadline and interval the fleet keeps
 * (CLOCK_MONOTONIC, nanoseconds): here, not in fleet.c, because the
 * drivers are loadable modules that do not link fleet.c (np__now_ns()
 * is this).
 */
static inline int64_t np__store_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct np__host_rec {
	int64_t id;
	const char *name; /* NULL: a change scan's record of a host known already */
	int64_t topo_id;
	double cpu_ratio, ram_ratio;
	int64_t generation;
	int placements;
	/*
	 * What the change to GENERATION was, when the driver knows (SQLite's
	 * change ring, PostgreSQL's last change): DELTA charged, or given back
	 * (RELEASE); else NULL.  Read from the store, so it may be anything
	 * that parses: whoever applies it checks it against the host first.
	 */
	const struct np__takes *delta;
	bool release;
};

struct np__placement_rec {
	const char *id;
	int64_t host_id;
	const char *request; /* the request's fingerprint */
	const char *plan;    /* numaplace.plan/1 JSON */
};

/*
 * Where a change scan left off; drivers own the meaning of the values.
 * A host removal is no change mark (the host's row is gone): the store
 * counts removals (np_meta 'removals'), V[1] is the count at the last
 * scan, and a scan that finds it moved sets REMOVED, so the caller scans
 * every host at once rather than at its next periodic full scan.
 */
struct np__cursor {
	int64_t v[2];
	/*
	 * The driver's state that every copy of a group's cursor shares
	 * (scan_state_new; PostgreSQL: the sequence values its last scans
	 * read), or NULL: then the connection keeps its own.  Not owned by
	 * the cursor: the group frees it (scan_state_free).
	 */
	void *shared;
	int64_t data_version;
	uint64_t ring;	 /* SQLite: the change ring's position (store-lock.h) */
	int64_t checked; /* SQLite: when the store itself was last scanned (monotonic ns) */
	bool ring_ok;	 /* SQLite: RING is set */
	bool started;
	bool removed; /* set by a scan: a host was removed since the last one */
};

struct np__new_host {
	const char *name;
	const char *topo_json;
	const char *digest; /* of topo_json */
	double cpu_ratio, ram_ratio;
	const np__ledger *rows; /* its capacity rows, nothing used */
};

struct np__claim {
	const char *id;
	int64_t host_id;
	const char *request;
	const char *plan;
	const struct np__takes *takes;
};

enum np__claim_status {
	NP__CLAIMED,   /* done; GENERATION is the host's new one */
	NP__EXISTS,    /* the id was placed already with this request (HOST_ID) */
	NP__CONFLICT,  /* the id was placed already with another request */
	NP__NO_ROOM,   /* a row or a pin check failed: DETAIL says which */
	NP__HOST_GONE, /* the host was removed meanwhile */
	NP__MOVED,     /* claim_moves: a moved placement no longer holds its old plan */
};

/*
 * One placement a claim moves (claim_moves): placement ID, on the claim's
 * host, holds OLD_PLAN (the plan JSON the moves were computed from, as
 * the store returned it) and will hold PLAN, taking TAKES.
 */
struct np__moved {
	const char *id;
	const char *old_plan;
	const char *plan;
	const struct np__takes *takes;
};

struct np__claim_result {
	enum np__claim_status status;
	int64_t host_id;
	int64_t generation;
	char detail[200];
};

/*
 * One release (release, commit_many): ID in, the rest answered.  GIVEN
 * is what the placement held (its takes' rows and amounts, its pins; mode
 * unset), owned by the caller once answered (np__takes_free): the
 * releasing process subtracts it from its own summary instead of reading
 * the host back.
 */
struct np__release {
	const char *id;
	bool found;	    /* false: no such id, nothing changed */
	int64_t host_id;    /* -1 when not found */
	int64_t generation; /* the host's new one */
	struct np__takes given;
	size_t tcap, pcap; /* elements allocated in GIVEN's takes and pins (np__grow) */
	/*
	 * Committed, but its answer could not be read (a tampered row): the
	 * placement is gone, what it gave back unknown (FOUND false, GIVEN
	 * empty).  Only commit_many sets it, for group.c to answer the item
	 * "release_unread" instead of running it again; a lone release
	 * (release) answers that error itself.
	 */
	bool unread;
};

/* One item of a batch (commit_many): a claim C answered in R, or a release REL. */
struct np__op {
	const struct np__claim *c;
	struct np__claim_result *r;
	struct np__release *rel;
};

/* Where one placement's memory and vCPUs were seen (fleet.h, np_fleet_obs). */
struct np__obs_node {
	int node; /* kernel node id */
	int64_t memory_mb;
	int vcpus;
};

struct np__obs_rec {
	const char *placement;
	int64_t host_id;
	int64_t at;	    /* Unix seconds */
	const char *source; /* "libvirt" or "process" */
	int pid;	    /* 0: none */
	const char *domain; /* NULL: none */
	int nnodes;
	const struct np__obs_node *nodes;
};

enum np__obs_status {
	NP__OBS_STORED,
	NP__OBS_NO_PLACEMENT, /* no placement with that id */
	NP__OBS_OTHER_HOST,   /* the placement lives on another host */
};

typedef int (*np__obs_cb)(void *ctx, const struct np__obs_rec *o);

/*
 * An observation read back row by row (a driver's observe_get: one row
 * per node, or one without a node), gathered the same way by each driver.
 */
struct np__obs_acc {
	struct np__obs_rec rec;
	struct np__obs_node *nodes;
	char *source, *domain;
	bool seen;
	struct np_error *err;
};
int np__obs_acc_init(struct np__obs_acc *a, const char *id, struct np_error *err);
/* One row: the observation's columns (DOMAIN NULL: none) and its NODE (NULL: none). */
int np__obs_acc_row(struct np__obs_acc *a, int64_t host_id, int64_t at, const char *source,
		    int pid, const char *domain, const struct np__obs_node *node);
/* RC 0 and a row read: CB with the observation.  Frees A; returns RC or CB's. */
int np__obs_acc_done(struct np__obs_acc *a, int rc, np__obs_cb cb, void *ctx);
typedef int (*np__host_cb)(void *ctx, const struct np__host_rec *h);
typedef int (*np__row_cb)(void *ctx, int64_t host_id, const struct np__row *r);
/* A pin: CPU on NODE of HOST_ID, held by PLACEMENT (NULL when the driver does not say). */
typedef int (*np__pin_cb)(void *ctx, int64_t host_id, int cpu, int node, const char *placement);
typedef int (*np__placement_cb)(void *ctx, const struct np__placement_rec *p);
typedef int (*np__alloc_cb)(void *ctx, const char *placement, int node, const char *rc,
			    int64_t amount);

struct np__store_driver {
	const char *scheme;
	int schema; /* the schema version this driver creates and reads */
	/*
	 * A change scan is a round trip to a server (PostgreSQL): the
	 * handles of a group share one cursor and the scans' records (fleet.c,
	 * the feed).  False: each handle scans for itself (SQLite's change
	 * ring is in the process's memory and costs no round trip).
	 */
	bool shared_scan;
	/*
	 * Optional: state the scans from a group's cursor share, whichever
	 * handle (thread) scans, made once per group (NULL: no memory) and
	 * freed with it; np__cursor.shared names it.  It takes its own lock:
	 * handles scan from copies of the cursor at once.
	 */
	void *(*scan_state_new)(void);
	void (*scan_state_free)(void *state);
	/*
	 * Open URL (LOCATION is what follows "scheme:"); CREATE may make an
	 * empty store (a SQLite file).  The schema is np__store_open()'s.
	 */
	int (*open)(const char *url, const char *location, bool create, struct np__store **out,
		    struct np_error *err);
	void (*close)(struct np__store *s);
	/* The schema version in the store: 0 when it has none yet. */
	int (*version)(struct np__store *s, long *v, struct np_error *err);
	/*
	 * Bring the schema to .schema in one transaction, reading
	 * the version again under a lock (another process may have done it).
	 */
	int (*migrate)(struct np__store *s, struct np_error *err);
	/* 1: added; 0: there already with the same topology and ratios. */
	int (*add_host)(struct np__store *s, const struct np__new_host *h, int *added,
			struct np_error *err);
	/*
	 * Remove host NAME (NP_EINPUT if unknown, or in use without FORCE),
	 * counting the removal in np_meta 'removals' in the same transaction.
	 */
	int (*remove_host)(struct np__store *s, const char *name, bool force, int *released,
			   struct np_error *err);
	/*
	 * Every host (CURSOR NULL: placements -1, not counted; a CURSOR not
	 * started yet: counted, and the cursor starts), or those that may have
	 * changed since CURSOR (moved on; placements -1: a count moves only
	 * with the generation; CURSOR->removed set when the removal
	 * count moved since).  The removal count is read before the hosts, so
	 * a removal is never both missed by the scan and counted as seen.
	 */
	int (*hosts)(struct np__store *s, struct np__cursor *cursor, np__host_cb cb, void *ctx,
		     struct np_error *err);
	int (*topology)(struct np__store *s, int64_t topo_id, char **json, struct np_error *err);
	/*
	 * Ledger rows and pins of host HOST_ID (or of every host: -1), from
	 * one snapshot; GEN_CB gets each host's generation in that snapshot.
	 */
	int (*ledgers)(struct np__store *s, int64_t host_id, np__row_cb row_cb, np__pin_cb pin_cb,
		       np__host_cb gen_cb, void *ctx, struct np_error *err);
	int (*claim)(struct np__store *s, const struct np__claim *c, struct np__claim_result *r,
		     struct np_error *err);
	/*
	 * Claim C after moving the N placements of MOVED, all in the one
	 * transaction of a claim: lock the host; each moved placement must
	 * live on C->host_id and hold exactly its OLD_PLAN (else NP__MOVED,
	 * DETAIL naming it, nothing changed); give back what it took, drop its
	 * pins, store its new plan and charge its new takes and pins with the
	 * ledger's predicate; then charge and insert C as claim does.  An id
	 * placed already answers as claim does (NP__EXISTS, NP__CONFLICT).
	 */
	int (*claim_moves)(struct np__store *s, const struct np__claim *c,
			   const struct np__moved *moved, int n, struct np__claim_result *r,
			   struct np_error *err);
	/*
	 * N claims (N >= 2) in one transaction and one durable commit, each
	 * checked as claim() checks it and answered in R[i]; a claim that
	 * fails its checks is undone alone (a savepoint) and the others go
	 * on.  An error (not a failed check) undoes every one of them:
	 * nothing is committed and the caller may try them one by one.
	 */
	int (*claim_many)(struct np__store *s, const struct np__claim *const *c,
			  struct np__claim_result *r, int n, struct np_error *err);
	/*
	 * Optional: take the store's write lock now, for the claim or
	 * claim_many that follows, which then runs in the transaction this
	 * opened.  A store with one writer at a time (SQLite) makes the
	 * group's leader wait for it here, before it takes the queued
	 * claims, so the claims that arrive while another process commits
	 * join the batch instead of waiting for the next one.  1: no
	 * transaction opened (PostgreSQL, whose claims lock rows, only
	 * keeps the deadline wait_until set for the batch that follows).
	 */
	int (*lock_claims)(struct np__store *s, struct np_error *err);
	/*
	 * Optional: the waits for the write lock of S's next transactions end
	 * by UNTIL (monotonic ns) too, not only at their own limit; 0: their
	 * own limit alone.  For lock_claims under a deadline
	 * (np_fleet_set_deadline).
	 */
	void (*wait_until)(struct np__store *s, int64_t until);
	/*
	 * Optional: CB(CTX) once after each commit of S's that holds claims
	 * or releases, as soon as other connections can read it and before
	 * it is made durable and the call returns (SQLite at the default
	 * synchronous: before settle()'s sync of the WAL); CB NULL: none.
	 * What the commit changed may be offered to other readers then
	 * (summaries are hints), never answered: the call's own return says
	 * whether it is durable.  CB must not use S.
	 */
	void (*on_commit)(struct np__store *s, void (*cb)(void *ctx), void *ctx);
	/*
	 * Release REL->id in one transaction (or in the one lock_claims
	 * opened), answering REL (see struct np__release).
	 */
	int (*release)(struct np__store *s, struct np__release *rel, struct np_error *err);
	/*
	 * Claims and releases (N >= 2, in any mix) in one transaction and one
	 * durable commit: each claim as claim_many runs it (a failed check
	 * undoes it alone), each release as release runs it (not found is an
	 * answer, not a failure).  An error undoes every one of them: nothing
	 * is committed and the caller may run them one by one.  The driver
	 * may run them in another order (PostgreSQL: by host, as claims lock).
	 * Optional.
	 */
	int (*commit_many)(struct np__store *s, struct np__op *ops, int n, struct np_error *err);
	/* Placements with id ID, or on host HOST_ID (>= 0), or all. */
	int (*placements)(struct np__store *s, const char *id, int64_t host_id,
			  np__placement_cb cb, void *ctx, struct np_error *err);
	/*
	 * Begin (BEGIN true) or end one read snapshot that the calls between
	 * share, so the checker sees a single state while claims go on.
	 */
	int (*snapshot)(struct np__store *s, bool begin, struct np_error *err);
	/* Every placement's takes, and every pin with its placement (for the checker). */
	int (*allocations)(struct np__store *s, np__alloc_cb cb, np__pin_cb pin_cb, void *ctx,
			   struct np_error *err);
	/*
	 * Replace the observation of placement O->placement in one
	 * transaction, when it lives on O->host_id (*STATUS says whether it
	 * was stored).  Releasing the placement deletes its observation.
	 */
	int (*observe_set)(struct np__store *s, const struct np__obs_rec *o,
			   enum np__obs_status *status, struct np_error *err);
	/* CB once with the observation of placement ID, nodes by id; not at all when none. */
	int (*observe_get)(struct np__store *s, const char *id, np__obs_cb cb, void *ctx,
			   struct np_error *err);
};


/* The driver for URL and where its location starts; NP_EINPUT/NP_EUNSUPPORTED. */
int np__store_driver_for(const char *url, const struct np__store_driver **drv,
			 const char **location, struct np_error *err);

/*
 * Open URL through its driver and settle the schema, the same way for
 * every driver: no schema and not CREATE is NP_EINPUT; a newer one is
 * refused (NP_EINPUT, nothing changed); an older one, or none with
 * CREATE, is migrated.
 */
int np__store_open(const char *url, bool create, const struct np__store_driver **drv,
		   struct np__store **out, struct np_error *err);
/*
 * Read S's schema version again (one query): NP_EINPUT, reason
 * "schema_too_new", when another numaplace migrated it past DRV's since
 * it was opened; a store error as the driver gives it.  No migration.
 */
int np__store_recheck(const struct np__store_driver *drv, struct np__store *s, const char *url,
		      struct np_error *err);

/*
 * What a release gave back, noted by a driver row by row: a take (RC
 * given: NODE, RC, AMOUNT) or a pin (RC NULL: CPU on NODE).  NP_ENOMEM (or
 * an RC too long, which no claim made).
 */
int np__release_given(struct np__release *rel, int node, const char *rc, int64_t amount,
		      int cpu);

/*
 * Is ID a valid host name or placement id: 1-255 bytes of UTF-8, no control
 * characters, and one a URL path can name (not "." or "..", no '/', no
 * white space at either end)?  (store.c)
 */
int np__fleet_check_id(const char *what, const char *id, struct np_error *err);

/*
 * Is ID one a store may hold already: the same without the URL's part.
 * For the verbs that name what is there (remove a host, release or read
 * a placement): a store written before that part of the rule (an older
 * numaplace took '/' and white space at the ends) can still be cleaned
 * up by name.  (store.c)
 */
int np__fleet_check_known(const char *what, const char *id, struct np_error *err);

#endif
