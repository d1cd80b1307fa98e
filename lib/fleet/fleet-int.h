/*
 * fleet-int.h - the inside of np_fleet: the store connection, the host
 * summaries the scheduler keeps in memory, the pre-filter, and the pieces
 * fleet.c (hosts, refresh, release), sched.c (scheduling), check.c (the
 * invariant checker) and fingerprint.c share.
 *
 * Summaries: per host its ledger as last read from the store (rows and
 * pins), the engine's view built from it (np_host), the pre-filter's
 * per-node numbers, and the generation they were read at.  A host whose
 * generation moved in the store is read again (np__fleet_reload); nothing
 * in a summary is trusted by a claim, which re-checks in the store.
 *
 * Ownership: the fleet owns every host, topology and summary; hosts are
 * kept sorted by name and indexed by id.
 */
#ifndef NP_FLEET_INT_H
#define NP_FLEET_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <numaplace/fleet.h>

#include "fleet/ledger.h"
#include "fleet/store.h"

/* A topology shared by every host built like it (stored once, by digest). */
struct np__ftopo {
	int64_t id;
	np_topo *topo;
	/*
	 * An empty host on it: summaries clone it (np_host_new() works out
	 * SMT siblings, distance twins and the like every time; a clone
	 * copies them) and then set their own ratios and usage.  A clone
	 * itself, so that it has one arena to copy.
	 */
	np_host *tmpl;
};

#define NP__SUM_POOLS 4

/* What the pre-filter knows of one node (all "free" amounts are >= 0). */
struct np__snode {
	int os_id;
	int64_t mem_total;     /* MiB */
	int64_t mem_free;      /* total - used: what pinned guests may take */
	int64_t mem_room;      /* cap - used: what floating guests may take */
	int64_t small_mb;      /* total of the smallest page pool, MiB (-1: no pools) */
	int64_t nshared;       /* CPUs for floating vCPUs */
	int64_t vcpu_room;     /* cap - used */
	int64_t pcpu_free;     /* dedicated CPUs not pinned */
	int64_t whole_free;    /* cores all of whose threads are free dedicated CPUs */
	int npools;
	uint64_t pool_kb[NP__SUM_POOLS];   /* increasing; beyond 4 sizes: ignored */
	int64_t pool_free[NP__SUM_POOLS];  /* free pages */
	int64_t pool_total[NP__SUM_POOLS];
};

struct np__spci {
	unsigned vendor, product;
	int64_t free;
};

struct np__summary {
	int n;
	struct np__snode *nodes;
	int npci;
	struct np__spci *pci; /* host-wide free devices per vendor:product */
	int64_t mem_total, mem_room, pcpu_total, pcpu_free, vcpu_total, vcpu_room;
	/* The largest of each over the nodes: most rejections need nothing else. */
	int64_t max_mem_free, max_mem_room, max_small, max_nshared, max_vcpu_room, max_pcpu_free;
	int64_t max_whole_free, max_small_free_kb, max_large_free_kb;
	int nsizes; /* page sizes beyond the smallest, and the most KiB free in one pool of each */
	struct {
		uint64_t kb;
		int64_t max_free_kb;
	} sizes[NP__SUM_POOLS];
	/*
	 * Free capacity in [0, 2], the strategy's key: memory room plus the
	 * free share of floating (key[0]) or dedicated (key[1]) CPUs.
	 */
	double key[2];
};

/*
 * One host's ledger, engine view and summary at one generation: made once
 * by whichever handle of a group reads the host first, immutable from then
 * on, and shared by every handle of the group that is at that generation
 * (refcounted; the group's cache holds the newest of each host).
 */
struct np__hsnap {
	atomic_int refs;
	char *name; /* NAME and SUM.nodes are in the snapshot's own allocation */
	int64_t id, topo_id, generation;
	int placements;
	np__ledger *ledger;
	np_host *host;
	struct np__summary sum;
};

struct np_fleet_host {
	int64_t id;
	char *name;
	int64_t topo_id;
	const np_topo *topo;  /* owned by the group's topology list */
	const np_host *tmpl;  /* likewise: the empty host on TOPO */
	double cpu_ratio, ram_ratio;
	int64_t generation;
	int placements;
	/*
	 * LEDGER, HOST and SUM are SNAP's (SUM a shallow copy, so the
	 * pre-filter reads it without a hop): read-only, never freed here.
	 */
	struct np__hsnap *snap;
	np__ledger *ledger;
	np_host *host;
	struct np__summary sum;
	np__ledger *building; /* while a ledger read fills it, with its generation: */
	int64_t bgen;
	int bplacements;
	int64_t want_gen; /* when stale: a shared summary this new will do */
	bool stale; /* read it again before use */
	bool seen;  /* a full scan met it */
};

#define NP__REMOVED_RING 64
#define NP__READING_MAX	 64
#define NP__INFLIGHT_MAX 128
#define NP__FEED_BATCHES 256

/*
 * The feed's freshness (struct np__feed): a refresh takes the group's
 * scans without a round trip of its own when the newest one completed
 * began at most this long before the refresh began.  So a refresh sees
 * what was committed NP__FEED_FRESH_NS before it began, as a scan of its
 * own would.  5 ms: at 1 ms a busy replica's handles (a refresh every few
 * ms each) rarely found a scan that fresh and scanned as often as before;
 * at 5 ms a replica scans at most ~200 times a second, at the price of
 * views a few ms older (docs/bench/service.md, pg-feed: more claims
 * refused).
 */
#ifndef NP__FEED_FRESH_NS /* -DNP__FEED_FRESH_NS=...: a build to measure another */
#define NP__FEED_FRESH_NS (INT64_C(5) * 1000000)
#endif

/*
 * One change scan's records (a host id, its generation, what the change
 * was when the store told it), shared by the handles of a group:
 * immutable once in the feed, refcounted (the feed holds one reference,
 * each handle taking it one while it applies it).
 */
struct np__feed_batch {
	atomic_int refs;
	bool removed; /* the scan saw the store's removal count move */
	int n;
	size_t cap;
	struct np__host_rec *recs; /* NAME NULL; each DELTA its own allocation, or NULL */
	/*
	 * RECS of a change of the group's own (one record, no delta: the
	 * hot path, one allocation a claim or release).
	 */
	struct np__host_rec one;
};

/*
 * The change feed of a group whose driver's scan is a round trip
 * (shared_scan): one cursor for the group's handles, and the last
 * NP__FEED_BATCHES scans' records in the order they were appended (HEAD
 * counts every batch so far; a handle's FEED_POS is the next it has not
 * taken).  A handle that finds no scan fresh enough scans itself from
 * CUR, never waiting for a scan in flight (several may run at once), and
 * appends; CUR follows the scan that began last (one that began earlier
 * knows less).  A handle more than NP__FEED_BATCHES behind scans from
 * the cursor as it was when the handle last caught up (np_fleet.fed).
 */
struct np__feed {
	pthread_mutex_t mu;
	bool started;	     /* CUR was started by a handle's first full scan */
	struct np__cursor cur;
	int64_t began;	     /* when the newest completed scan began (monotonic ns) */
	/*
	 * A handle joined at FLOOR_T with a cursor older than CUR: a scan
	 * begun before then (from a copy of CUR without it) leaves CUR at
	 * FLOOR at most, so the scan after covers what that handle's lacks.
	 */
	int64_t floor, floor_t;
	_Atomic int64_t fresh_ns; /* NP__FEED_FRESH_NS (tests change it while handles refresh) */
	/*
	 * The driver's state its scans from CUR share (np__cursor.shared:
	 * made by the first handle's driver, freed by FREE_STATE), or NULL.
	 */
	void *state;
	void (*free_state)(void *state);
	uint64_t head;
	struct np__feed_batch *ring[NP__FEED_BATCHES];
	atomic_ullong scans, taken, behind; /* scans made, taken from others, handles behind */
};

/*
 * What the handles of one process opened with np_fleet_open_shared()
 * share (group.c), refcounted by its handles: the commit queue (MU),
 * and under CMU the host summaries (the newest snapshot of each host, by
 * id), the topologies, and the hosts removed lately, so that every handle
 * drops them at its next refresh.
 */
struct np__fleet_group {
	pthread_mutex_t mu; /* each queued item's thread waits on the item's own condition */
	int refs;
	struct np__qitem *head, **tail; /* claims and releases waiting for the next batch */
	bool busy;			/* a leader is committing a batch */
	uint64_t claims, commits, largest, split;
	uint64_t releases;		/* committed through the queue too */
	int pending;			/* items queued or being committed */
	int ninflight;			/* hosts with a claim queued or committing: */
	int64_t inflight[NP__INFLIGHT_MAX]; /* schedules prefer others (np__group_inflight) */

	pthread_mutex_t cmu;
	struct np__cslot {
		int64_t id; /* -1: empty */
		struct np__hsnap *snap;
	} *cache; /* open addressing by id, CCAP a power of 2 */
	size_t ccap, cused;
	int ntopos;
	size_t tcap;
	struct np__ftopo *topos;
	uint64_t removed; /* hosts removed so far; the last NP__REMOVED_RING by name: */
	char *ring[NP__REMOVED_RING];
	uint64_t snaps_made, snaps_shared; /* snapshots built, and adopted from the cache */
	pthread_cond_t rcv; /* under CMU: a read of READING ended, or the pass (PASSING) */
	bool passing;	    /* under CMU: a handle reads every host (np__group_pass_begin) */
	int nreading;
	int64_t reading[NP__READING_MAX]; /* hosts a handle is reading from the store now */
	atomic_ullong host_reads, full_reads; /* ledger reads (np_fleet_refresh_stats) */
	atomic_ullong told; /* changes the store told (fleet.c, told_change), not read */
	struct np__feed feed;
};

void np__snap_unref(struct np__hsnap *s);
/* A reference to the cached snapshot of host H (id, name, topology) at generation >= MIN_GEN, or NULL. */
struct np__hsnap *np__cache_get(struct np__fleet_group *g, const struct np_fleet_host *h,
				int64_t min_gen);
/*
 * Offer S (the caller's reference) to the cache; the snapshot to use: S
 * (cached now), or a newer one cached meanwhile (then S is let go).
 */
struct np__hsnap *np__cache_put(struct np__fleet_group *g, struct np__hsnap *s);
/*
 * One read per change in a group: before a handle reads stale host H
 * (wanting MIN_GEN) from the store, the snapshot to adopt (cached, or
 * built by the handle that was reading H, waited for), or NULL: then the
 * caller reads, and when *MINE calls np__cache_read_done(ID) after.
 */
struct np__hsnap *np__cache_read_begin(struct np__fleet_group *g, const struct np_fleet_host *h,
				       int64_t min_gen, bool *mine);
void np__cache_read_done(struct np__fleet_group *g, int64_t id);

/*
 * A pass over every host's ledger, once for the group: true when the
 * caller is to make it (then np__group_pass_done()), false after waiting
 * for another handle's pass (its snapshots are in the cache now).
 */
bool np__group_pass_begin(struct np__fleet_group *g);
void np__group_pass_done(struct np__fleet_group *g);
/* Is another handle's pass running now? (Then its snapshots are on their way.) */
bool np__group_passing(struct np__fleet_group *g);
/* Host NAME was removed: out of the cache, and into the ring the handles read. */
void np__cache_removed(struct np__fleet_group *g, const char *name);

/*
 * The feed (struct np__feed).  np__feed_head: where a handle about to
 * scan every host starts taking.  np__feed_join: that handle's cursor,
 * started by the scan, joins the group's (which then starts no later).
 */
uint64_t np__feed_head(struct np__fleet_group *g);
/*
 * The driver DRV's state for the group's cursors (np__cursor.shared),
 * made at the first call: 0 and *OUT (NULL when DRV has none), or NP_ENOMEM.
 */
int np__feed_state(struct np__fleet_group *g, const struct np__store_driver *drv, void **out,
		   struct np_error *err);
void np__feed_join(struct np__fleet_group *g, const struct np__cursor *mine);
/*
 * The batches from *POS on, when the newest completed scan began at or
 * after NOT_BEFORE (INT64_MIN: whatever there is): 1, OUT (the caller's,
 * room for NP__FEED_BATCHES) and *N set (a reference to each:
 * np__feed_done), *POS moved past them; 0 when no scan is that fresh;
 * -1 when *POS fell out of the feed (*POS moved to its head: scan from
 * the cursor *FED said before).  On 1 and -1 *FED is the group's cursor
 * as it was when *POS reached the head: a scan from it covers every
 * batch appended since (the feed's cursor moves only with the scans it
 * appends), so a handle that falls out scans from there, not every host.
 */
int np__feed_take(struct np__fleet_group *g, int64_t not_before, uint64_t *pos,
		  struct np__feed_batch **out, int *n, struct np__cursor *fed);
void np__feed_done(struct np__feed_batch **b, int n);
/* A copy of the group's cursor to scan from; false when it has not started. */
bool np__feed_cursor(struct np__fleet_group *g, struct np__cursor *out);
/*
 * Append B (the feed takes the caller's reference): a scan begun at BEGAN
 * that left the cursor at AFTER, or (AFTER NULL) a change of the group's
 * own, which moves neither the cursor nor the freshness.
 */
void np__feed_append(struct np__fleet_group *g, struct np__feed_batch *b,
		     const struct np__cursor *after, int64_t began);
void np__feed_batch_unref(struct np__feed_batch *b);

int np__group_new(struct np__fleet_group **out, struct np_error *err);
void np__group_ref(struct np__fleet_group *g);
void np__group_unref(struct np__fleet_group *g);
/*
 * What a claim or release changed, offered to the group's summaries by
 * the thread that asked for it, on its handle F (CTX: the caller's): once
 * the item's transaction committed, or was answered without a commit
 * (placed already, not found: the offer checks the answer).  Called at
 * most once, by the group: as soon as the commit is visible to other
 * connections, while another thread makes it durable, or else before
 * the claim or release returns.  The answer is not final then (a failed
 * sync still fails it); a summary is a hint, so offering what other
 * readers can read already is safe.
 */
typedef void (*np__offer_fn)(np_fleet *f, void *ctx);
/*
 * Claim C through F's group: with the claims other handles of the group
 * make meanwhile, in one transaction (group.c); returns once committed
 * (durable).  FN (may be NULL) offers its change (np__offer_fn).
 */
int np__group_claim(np_fleet *f, const struct np__claim *c, struct np__claim_result *r,
		    np__offer_fn fn, void *ctx, struct np_error *err);
/*
 * Release REL->id through F's group: in the transaction of the claims and
 * releases other handles of the group make meanwhile; returns once
 * committed, REL answered.  FN as for np__group_claim.
 */
int np__group_release(np_fleet *f, struct np__release *rel, np__offer_fn fn, void *ctx,
		      struct np_error *err);
/*
 * Does another thread of F's group have a claim on host ID queued or
 * committing?  Choosing it too would likely lose (the same free CPUs, the
 * same room) and cost a retry.
 */
bool np__group_inflight(np_fleet *f, int64_t id);

struct np_fleet {
	struct np__fleet_group *group;
	const struct np__store_driver *drv;
	struct np__store *s;
	char *url;
	int nhosts;
	size_t hcap;
	struct np_fleet_host **hosts; /* by name */
	struct np_fleet_host **by_id; /* by id: the first nsorted hosts */
	int nsorted;
	/*
	 * The same hosts indexed by id when the ids are dense (a store's row
	 * ids are): SLOT[id] for 0 <= id < NSLOT, NULL where none.  A change
	 * scan looks up every change the ring tells, and the binary search
	 * over BY_ID missed the cache at each step.  NULL: search BY_ID.
	 */
	struct np_fleet_host **slot;
	size_t nslot;
	uint64_t removed_seen; /* the group's removals this handle has applied */
	uint64_t feed_pos;     /* the group's feed: the next batch to take (shared_scan) */
	struct np__feed_batch **taken; /* what a take returns: NP__FEED_BATCHES, or NULL yet */
	/*
	 * The group's cursor when FEED_POS last reached the feed's head (or
	 * this handle's own after its first full scan): fallen out of the
	 * feed, the handle scans from it (np__feed_take).
	 */
	struct np__cursor fed;
	/*
	 * The hosts by key[0] and by key[1], most free first: schedules walk
	 * them and stop once enough hosts fit.  Sorted again when hosts came
	 * or went (norder != nhosts) or after 1/16 of the summaries changed
	 * (CHANGED): between sorts the order is a little stale, which only
	 * changes which good hosts are looked at first.  The order is by key,
	 * most free first, then by name (RANK: H's index in HOSTS, which
	 * keeps while no host comes or goes).
	 */
	struct np__ord {
		double key; /* when sorted */
		struct np_fleet_host *h;
		int rank;
	} *order[2];
	int norder, changed;
	struct np__cursor cursor;
	int64_t *stale;	   /* ids of the hosts marked stale since the last refresh (np__fleet_stale) */
	int nstale;
	size_t scap;
	bool stale_lost;   /* one could not be listed: walk every host */
	bool unread;	   /* hosts came since the last full read of the stale ones */
	bool loaded;
	int64_t last_full; /* monotonic ns of the last full scan (every FULL_SCAN_NS) */
	int64_t last_scan; /* and of the last change scan (at most every SCAN_NS) */
	uint64_t rng;
	struct np__fleet_demand *demand; /* the guests scheduled last (demand.c), or NULL */
	int64_t deadline; /* monotonic ns by which its writes must begin, or 0 (np_fleet_set_deadline) */
};

/*
 * The demand (demand.c): np__fleet_demand_note() remembers REQ as the
 * newest guest unless O says no_demand, and mixes in O's flavor
 * catalogue (0 or NP_ENOMEM); np__fleet_demand_opts() gives the engine's
 * options PO that demand (none when O says no_demand and has no flavors).
 */
int np__fleet_demand_note(np_fleet *f, const np_request *req,
			  const struct np_fleet_sched_opts *o);
void np__fleet_demand_opts(const np_fleet *f, const struct np_fleet_sched_opts *o,
			   struct np_place_opts *po);
void np__fleet_demand_free(np_fleet *f);

struct np_fleet_placement {
	char *id, *host;
	char *request; /* its fingerprint */
	np_plan *plan;
};

/*
 * Placement ID (*OUT NULL: none), mapped onto the summaries; REFRESH them
 * first or not (a caller holding pointers into them must not).
 */
int np__fleet_get(np_fleet *f, const char *id, bool refresh, np_fleet_placement **out,
		  struct np_error *err);
/* The host with id ID, or NULL. */
struct np_fleet_host *np__fleet_by_id(const np_fleet *f, int64_t id);
/* Invariant: the id table (SLOT) names exactly the sorted hosts, or there is none. */
bool np__fleet_index_check(const np_fleet *f);
/*
 * Invariant: while sorted (NORDER == NHOSTS), ORDER[KIND] holds every host
 * once at its rank, most free first, then by name (sched.c).  A key may
 * have changed since: that is what F->changed counts.
 */
bool np__fleet_order_check(const np_fleet *f, int kind);
/*
 * A refresh that reads no stale host (np_fleet_refresh reads them all):
 * for a schedule, which reads each stale host it meets on its walk
 * (np__fleet_fresh) and never looks at most of the others.  Hosts new
 * to the handle are read (their first read), and a full pass at start-up.
 */
int np__fleet_refresh_lazy(np_fleet *f, struct np_error *err);
/* np__fleet_fresh: H was removed from the store (H kept, stale, until the next refresh). */
#define NP__FLEET_GONE 1
/*
 * H, stale or not, fresh: read again (or taken from the group's cache)
 * when stale.  0; NP__FLEET_GONE when H is gone from the store (skip it);
 * or an error.  Never drops H, so a walk over the order stays valid.
 */
int np__fleet_fresh(np_fleet *f, struct np_fleet_host *h, struct np_error *err);
/* Read host H's ledger again and rebuild its view and summary. */
int np__fleet_reload(np_fleet *f, struct np_fleet_host *h, struct np_error *err);
/*
 * H at generation GEN is ledger L (taken, freed on failure) with
 * PLACEMENTS: build its view and summary, share them in F's group (or take
 * a newer one shared meanwhile) and make them H's.
 */
int np__fleet_rebuild(np_fleet *f, struct np_fleet_host *h, np__ledger *l, int64_t gen,
		      int placements, struct np_error *err);
/*
 * The same, when TAKES (charged, or given back) is the one change that
 * made L of H's ledger: only the nodes it touched are built again, on a
 * copy of H's view (readers may still hold H's own).
 */
int np__fleet_rebuild_changed(np_fleet *f, struct np_fleet_host *h, np__ledger *l,
			      const struct np__takes *takes, int64_t gen, int placements,
			      struct np_error *err);
/*
 * After this process's own claim (RELEASE false) or release of TAKES on
 * H, which the store says left H at generation GEN: when GEN is the one
 * just after the view H holds (or the group's cached one, taken then),
 * nobody else changed H in between, and its new view is that one with
 * TAKES charged or given back (a snapshot shared with the group, as a
 * read would make); a view at GEN or newer holds the change already.
 * False when it was not so, or could not be built: read H again.  A
 * newer change a scan saw meanwhile stays to be read.
 */
bool np__fleet_own_change(np_fleet *f, struct np_fleet_host *h, const struct np__takes *takes,
			  bool release, int64_t gen);
/* H (one of F's) must be read again before use; a shared summary at MIN_GEN or newer will do. */
void np__fleet_stale(np_fleet *f, struct np_fleet_host *h, int64_t min_gen);
/* Forget host H (removed from the store). */
void np__fleet_drop(np_fleet *f, struct np_fleet_host *h);
/* The topology with store id ID, read and parsed once. */
int np__fleet_topo(np_fleet *f, int64_t id, const np_topo **out, const np_host **tmpl,
		   struct np_error *err);
/* An empty engine view of H's topology with H's ratios. */
int np__fleet_empty_host(const struct np_fleet_host *h, np_host **out, struct np_error *err);

/* The request as a canonical line: equal requests, equal lines. */
int np__request_fingerprint(const np_request *req, char **out);

/* Monotonic nanoseconds. */
int64_t np__now_ns(void);

/*
 * The pre-filter (prefilter.c).  np__needs is REQ digested once per
 * schedule; np__prefilter() says whether H may fit it, and when not,
 * why, as a reason key (np__reason_text() makes it words).  Never false
 * for a host where np_place() would find a plan (tests prove it).
 */
struct np__ncell {
	int64_t mem;
	int nfloat, npinned; /* npinned includes the emulator CPU of cell 0 */
	int nreserved;       /* that emulator CPU: 0 or 1 */
	long pagesize;
	int fixed_os;        /* xl pnode=, or -1 */
};

struct np__needs {
	const np_request *req;
	int k;
	struct np__ncell *cells;
	bool pinned, dedicated, flat_split, numa_flat, isolate;
	int64_t mem_total;
	int vcpus_total;
	int npci;
	struct np__spci *pci; /* asked per vendor:product (free = count asked) */
};

/* Reason keys: a kind, and a guest cell or PCI entry it is about. */
enum np__why {
	NP__WHY_FITS = 0,
	NP__WHY_NODES,	  /* fewer nodes than guest cells */
	NP__WHY_PNODE,	  /* a fixed node the host lacks */
	NP__WHY_MEM,	  /* no node with the cell's memory free */
	NP__WHY_PAGES,	  /* no node with the cell's pages free */
	NP__WHY_PCPUS,	  /* no node with the cell's dedicated CPUs free */
	NP__WHY_VCPUS,	  /* no node with room for the cell's floating vCPUs */
	NP__WHY_CORES,	  /* no node with the whole free cores isolate needs */
	NP__WHY_CELL,	  /* each fits somewhere, never all on one node */
	NP__WHY_MATCH,	  /* no distinct nodes for all cells */
	NP__WHY_FLAT_MEM, /* the whole host lacks the memory */
	NP__WHY_FLAT_CPU, /* the whole host lacks vCPU room */
	NP__WHY_PCI,	  /* too few devices on the host */
	NP__WHY_PCI_ADDR, /* no device at the address a PCI entry names */
	NP__WHY_ENGINE,	  /* passed, but np_place() found no plan: sub = the resource */
	NP__WHY_COUNT
};

struct np__why_key {
	enum np__why why;
	int sub; /* guest cell, PCI entry, or np_resource */
};

int np__needs_of(const np_request *req, struct np__needs *out);
void np__needs_free(struct np__needs *n);
bool np__prefilter(const struct np_fleet_host *h, const struct np__needs *n,
		   struct np__why_key *why);
/* Words for KEY ("no node with 16 GiB free for guest cell 0"). */
void np__reason_text(const struct np__needs *n, struct np__why_key key, char *out, size_t size);
/* Recompute H's summary from its ledger and view. */
int np__summarize(struct np_fleet_host *h);

/*
 * Making room (sched-moves.c): a host where the guest fits after moving
 * cells of its placements, what they held (their plan JSON as the store
 * returned it, RAW) and the plan with its moves.
 */
struct np__mfit {
	struct np_fleet_host *h;
	np_plan *plan;
	int nguests;
	struct np_guest_plan *guests;
	char **raw;
	double key; /* the strategy's, as for fits */
};
void np__mfit_free(struct np__mfit *m);
/*
 * Read host HOST_ID's ledger and placements again (one snapshot) and
 * search for moves; *OUT filled (OUT->plan set) when the guest fits after
 * some, untouched when not.  The host may be dropped (gone from the store).
 */
int np__moves_on_host(np_fleet *f, int64_t host_id, const np_request *req,
		      const struct np_place_opts *po, const struct np_moves_opts *mo,
		      struct np__mfit *out, struct np_error *err);
/* PLAN as the JSON a store keeps (sched.c). */
int np__fleet_plan_json(const np_plan *plan, char **out, struct np_error *err);
/* Claim ID (fingerprint FP) with M's moves in one transaction (claim_moves). */
int np__moves_claim(np_fleet *f, const char *id, const char *fp, const np_request *req,
		    const struct np__mfit *m, struct np__claim_result *cr, struct np_error *err);

#endif
