/*
 * sched.c - np_fleet_schedule(): choose a host for a guest with the same
 * engine as `numaplace place` and claim it in one step.
 *
 * Steps: (1) Refresh the summaries by generation.  (2) Walk the hosts in
 * the fleet strategy's order (spread: most free capacity first; pack:
 * least; an order kept sorted in the fleet, fleet-int.h), pre-filter each (prefilter.c)
 * and run np_place() on those that pass, until WANT of them fit (or, once
 * one fits, a budget of engine runs is spent): Borg's relaxed
 * randomisation - the best of a good sample, not of all, and a schedule
 * over 10,000 hosts usually looks at a few dozen.  The walk starts at a
 * random host among those as free as the first within EQUAL_KEY, so that
 * schedulers in other processes, which see the same order, sample
 * different hosts.  (3) Rank the fits by
 * the plan's own objective (device misses, largest distance), then the
 * strategy (free capacity in eighths), then stranding; pick at random
 * among the best TOP of those as good in distance as the best, so
 * concurrent schedulers spread over several hosts instead of fighting over
 * one.  (4) Claim in the store, which says too whether the id is placed
 * already (same request: that placement; another: refused); a claim
 * refused because the host changed meanwhile reads that host again and
 * starts over from (1), a bounded number of times.  Each loss is another
 * scheduler's claim that went in, so the bound is generous; schedulers
 * that asked for the same guest at the same moment would lose to each
 * other in step, so a loser waits a random, growing time
 * (pause_after_loss()) and then chooses among more of the best (top_of()).
 *
 * When nothing fits, the result counts hosts per reason; hosts rejected by
 * the engine are counted by the resource of the plan's first reason.
 *
 * With allow_moves, a guest that fits no host as it is may move other
 * placements' cells on one host (try_moves(); sched-moves.c reads the host
 * and commits with the driver's claim_moves): docs/fleet.md, "Making room".
 */
#include "fleet/fleet-int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <numaplace/emit.h>
#include <numaplace/util.h>

#include "util/util.h"

/*
 * Claims tried before giving up.  A claim is lost only to another that
 * went in, so this only bounds a schedule's time.  It was 8, with neither
 * pause nor widening: 32 threads of one process filling 16 hosts with the
 * same guests had 5 to 11 schedules a run give up with hosts still free;
 * now the most a schedule lost there is 6 in a row (13 with 64 threads;
 * tests/fleet/group.sh).
 */
#define MAX_ATTEMPTS 32
#define PAUSE_US 250   /* after the first loss up to 2 x this, doubling ... */
#define PAUSE_DOUBLINGS 7 /* ... this many times (32 ms) */
#define DEFAULT_WANT 8
#define DEFAULT_TOP 3
#define ENGINE_BUDGET 64 /* engine runs after which one fit is enough */
/*
 * Free capacity (the order's key, in [0, 2]) within which hosts count as
 * equally free where the walk starts: better()'s eighths.
 */
#define EQUAL_KEY 0.125

struct reason {
	struct np__why_key key;
	char *text;
	int hosts;
};

struct np_fleet_result {
	char *id;
	bool placed, existing;
	char *host;
	np_plan *plan;
	char *plan_json; /* the store's text of PLAN, when this call claimed it */
	np_host *usage;
	struct np__hsnap *usage_snap; /* when set, USAGE is its host (shared), not ours */
	struct np_fleet_stats stats;
	int nreasons;
	size_t rcap;
	struct reason *reasons;
};

struct fit {
	struct np_fleet_host *h;
	np_plan *plan;
	double key;
};

struct choice {
	np_fleet *f; /* not const: the walk reads stale hosts (np__fleet_fresh) */
	const struct np__needs *needs;
	const struct np_fleet_sched_opts *o;
	np_fleet_result *r;
	struct fit *fits;
	int nfits;
	struct np_error *err;
};

/* ---- results ------------------------------------------------------------- */

void np_fleet_result_free(np_fleet_result *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->host);
	np_plan_free(r->plan);
	free(r->plan_json);
	if (r->usage_snap)
		np__snap_unref(r->usage_snap);
	else
		np_host_free(r->usage);
	for (int i = 0; i < r->nreasons; i++)
		free(r->reasons[i].text);
	free(r->reasons);
	free(r);
}

bool np_fleet_result_placed(const np_fleet_result *r)
{
	return r->placed;
}

bool np_fleet_result_existing(const np_fleet_result *r)
{
	return r->existing;
}

const char *np_fleet_result_id(const np_fleet_result *r)
{
	return r->id;
}

const char *np_fleet_result_host(const np_fleet_result *r)
{
	return r->placed ? r->host : NULL;
}

const np_plan *np_fleet_result_plan(const np_fleet_result *r)
{
	return r->placed ? r->plan : NULL;
}

const char *np_fleet_result_plan_json(const np_fleet_result *r)
{
	return r->placed ? r->plan_json : NULL;
}

const np_host *np_fleet_result_usage(const np_fleet_result *r)
{
	return r->placed ? r->usage : NULL;
}

const struct np_fleet_stats *np_fleet_result_stats(const np_fleet_result *r)
{
	return &r->stats;
}

int np_fleet_result_reason_count(const np_fleet_result *r)
{
	return r->nreasons;
}

const char *np_fleet_result_reason(const np_fleet_result *r, int i, int *hosts)
{
	if (i < 0 || i >= r->nreasons)
		return NULL;
	if (hosts)
		*hosts = r->reasons[i].hosts;
	return r->reasons[i].text;
}

static int count_reason(np_fleet_result *r, struct np__why_key key)
{
	for (int i = 0; i < r->nreasons; i++)
		if (r->reasons[i].key.why == key.why && r->reasons[i].key.sub == key.sub) {
			r->reasons[i].hosts++;
			return 0;
		}
	if (np__grow((void **)&r->reasons, &r->rcap, (size_t)r->nreasons + 1, sizeof(*r->reasons)))
		return NP_ENOMEM;
	r->reasons[r->nreasons++] = (struct reason){ key, NULL, 1 };
	return 0;
}

static void clear_reasons(np_fleet_result *r)
{
	for (int i = 0; i < r->nreasons; i++)
		free(r->reasons[i].text);
	r->nreasons = 0;
}

static int cmp_reason(const void *a, const void *b)
{
	const struct reason *x = a, *y = b;

	if (x->hosts != y->hosts)
		return x->hosts > y->hosts ? -1 : 1;
	return x->key.why != y->key.why ? (int)x->key.why - (int)y->key.why : x->key.sub - y->key.sub;
}

/* Words for every reason, most hosts first. */
static int word_reasons(np_fleet_result *r, const struct np__needs *n)
{
	char text[256];

	if (r->nreasons > 1)
		qsort(r->reasons, (size_t)r->nreasons, sizeof(*r->reasons), cmp_reason);
	for (int i = 0; i < r->nreasons; i++) {
		np__reason_text(n, r->reasons[i].key, text, sizeof(text));
		if (!(r->reasons[i].text = strdup(text)))
			return NP_ENOMEM;
	}
	return 0;
}

/* ---- candidates ------------------------------------------------------------ */

static int cmp_ord(const void *a, const void *b)
{
	double x = ((const struct np__ord *)a)->key, y = ((const struct np__ord *)b)->key;

	return (x < y) - (x > y); /* most free first */
}

/* The order's whole rule: most free first, then by name (what a stable sort of HOSTS gives). */
static int cmp_ord_rank(const void *a, const void *b)
{
	const struct np__ord *x = a, *y = b;
	int c = cmp_ord(a, b);

	return c ? c : (x->rank > y->rank) - (x->rank < y->rank);
}

bool np__fleet_order_check(const np_fleet *f, int kind)
{
	const struct np__ord *o = f->order[kind];

	for (int i = 0; f->norder == f->nhosts && i < f->nhosts; i++)
		if (o[i].rank < 0 || o[i].rank >= f->nhosts || f->hosts[o[i].rank] != o[i].h ||
		    (i && cmp_ord_rank(&o[i - 1], &o[i]) >= 0))
			return false;
	return true;
}

/*
 * O from scratch: HOSTS (by name) sorted by key, then by rank (their
 * place by name): what a stable sort by key gives, without counting on
 * qsort being stable (glibc's was a merge sort, which 2.37 changed).
 */
static void order_all(np_fleet *f, struct np__ord *o, int kind)
{
	for (int i = 0; i < f->nhosts; i++)
		o[i] = (struct np__ord){ f->hosts[i]->sum.key[kind], f->hosts[i], i };
	if (f->nhosts > 1)
		qsort(o, (size_t)f->nhosts, sizeof(*o), cmp_ord_rank);
}

#define PREFETCH 8 /* hosts ahead whose key order_changed() asks for */

/*
 * O, sorted when the same hosts had other keys, sorted again: the hosts
 * whose key changed (a few dozen of a thousand) are taken out, sorted and
 * merged back, instead of sorting all of them.  The same order as
 * order_all() (the rule is total); false when a key is not a number,
 * which only order_all() orders as before.
 */
static bool order_changed(np_fleet *f, struct np__ord *o, int kind)
{
	int n = f->nhosts, nu = 0, nc = 0;
	struct np__ord *c = malloc(((size_t)n + 1) * sizeof(*c));

	for (int i = 0; c && i < n; i++) {
		double key;

		/* Each host is an allocation of its own: ask for the next ones' keys early. */
		if (i + PREFETCH < n)
			__builtin_prefetch(&o[i + PREFETCH].h->sum.key[kind]);
		key = o[i].h->sum.key[kind];

		if (key != key)
			break;
		if (key == o[i].key)
			o[nu++] = o[i];
		else
			c[nc++] = (struct np__ord){ key, o[i].h, o[i].rank };
	}
	if (!c || nu + nc < n) {
		free(c);
		return false;
	}
	if (nc > 1)
		qsort(c, (size_t)nc, sizeof(*c), cmp_ord_rank);
	for (int i = nu - 1, j = nc - 1, w = n - 1; j >= 0; w--)
		o[w] = i >= 0 && cmp_ord_rank(&o[i], &c[j]) > 0 ? o[i--] : c[j--];
	free(c);
	return true;
}

/* F's hosts by the key of KIND (0 floating, 1 pinned), sorted again when stale. */
static int hosts_in_order(np_fleet *f, int kind, struct np__ord **out)
{
	if (f->norder != f->nhosts || f->changed > f->nhosts / 16) {
		bool same = f->norder == f->nhosts; /* the same hosts, at the same ranks */

		for (int k = 0; k < 2; k++) {
			size_t size = ((size_t)f->nhosts + 1) * sizeof(struct np__ord);
			struct np__ord *o = realloc(f->order[k], size);

			if (!o)
				return NP_ENOMEM;
			f->order[k] = o;
			if (!same || !order_changed(f, o, k))
				order_all(f, o, k);
		}
		f->norder = f->nhosts;
		f->changed = 0;
		assert(np__fleet_order_check(f, 0) && np__fleet_order_check(f, 1));
	}
	*out = f->order[kind];
	return 0;
}

/* The engine's options for a schedule: its strategy and the caller's budgets. */
static struct np_place_opts place_opts_of(const struct np_fleet_sched_opts *o)
{
	return (struct np_place_opts){ .strategy = o->strategy, .max_steps = o->max_steps,
				       .max_us = o->max_us };
}

/* The engine on one host that passed the pre-filter: a fit is kept, a no-fit counted. */
static int try_host(struct choice *ch, struct np_fleet_host *h, const np_request *req)
{
	struct np_place_opts po = place_opts_of(ch->o);
	struct np_error e = { 0 };
	np_plan *plan = NULL;
	struct np__why_key why = { NP__WHY_ENGINE, NP_RES_NODES };
	double key = h->sum.key[ch->needs->pinned];
	int rc;

	np__fleet_demand_opts(ch->f, ch->o, &po);
	rc = np_place(h->host, req, &po, &plan, &e);

	ch->r->stats.engine++;
	if (rc == NP_ENOMEM)
		return np__err(ch->err, rc, "out of memory");
	if (!rc && np_plan_fits(plan)) {
		ch->fits[ch->nfits++] =
		    (struct fit){ h, plan, ch->o->strategy == NP_STRATEGY_PACK ? -key : key };
		ch->r->stats.fits++;
		return 0;
	}
	if (!rc && np_plan_reason_count(plan) > 0)
		why.sub = (int)np_plan_reason(plan, 0)->resource;
	np_plan_free(plan);
	return count_reason(ch->r, why) ? np__err(ch->err, NP_ENOMEM, "out of memory") : 0;
}

/*
 * Pre-filter H, then run the engine on it if it passed.  H is read first
 * when another process changed it (the refresh left it stale); one gone
 * from the store is passed over.
 */
static int consider(struct choice *ch, struct np_fleet_host *h, const np_request *req)
{
	struct np__why_key why;
	int rc = np__fleet_fresh(ch->f, h, ch->err);

	if (rc)
		return rc == NP__FLEET_GONE ? 0 : rc;
	if (np__prefilter(h, ch->needs, &why))
		return try_host(ch, h, req);
	ch->r->stats.prefiltered++;
	return count_reason(ch->r, why) ? np__err(ch->err, NP_ENOMEM, "out of memory") : 0;
}

/* Is A better than B?  Distance first, then strategy in eighths, then stranding. */
static bool better(const struct fit *a, const struct fit *b)
{
	const struct np_plan_score *x = np_plan_score(a->plan), *y = np_plan_score(b->plan);
	int ka = (int)(a->key * 8), kb = (int)(b->key * 8);

	if (x->device_misses != y->device_misses)
		return x->device_misses < y->device_misses;
	if (x->max_distance != y->max_distance)
		return x->max_distance < y->max_distance;
	if (ka != kb)
		return ka > kb;
	if (x->stranded != y->stranded)
		return x->stranded < y->stranded;
	return a->key > b->key;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/*
 * Sort the fits best first; return the index chosen among the best TOP,
 * at random, among those no other thread of F's group is claiming now
 * when there are such.
 */
static int pick(np_fleet *f, struct choice *ch, int top, uint64_t *rng)
{
	const struct np_plan_score *best;
	int n = 0, free_idx[16], nfree = 0;

	for (int i = 1; i < ch->nfits; i++)
		for (int j = i; j > 0 && better(&ch->fits[j], &ch->fits[j - 1]); j--) {
			struct fit t = ch->fits[j];

			ch->fits[j] = ch->fits[j - 1];
			ch->fits[j - 1] = t;
		}
	best = np_plan_score(ch->fits[0].plan);
	while (n < ch->nfits && n < top &&
	       np_plan_score(ch->fits[n].plan)->device_misses == best->device_misses &&
	       np_plan_score(ch->fits[n].plan)->max_distance == best->max_distance)
		n++;
	if (n <= 1)
		return 0;
	for (int i = 0; i < n && nfree < 16; i++)
		if (!np__group_inflight(f, ch->fits[i].h->id))
			free_idx[nfree++] = i;
	if (nfree > 0 && nfree < n)
		return free_idx[next_rand(rng) % (uint64_t)nfree];
	return (int)(next_rand(rng) % (uint64_t)n);
}

static void free_choice(struct choice *ch, int keep)
{
	for (int i = 0; i < ch->nfits; i++)
		if (i != keep)
			np_plan_free(ch->fits[i].plan);
	free(ch->fits);
	ch->fits = NULL;
	ch->nfits = 0;
}

/* ---- choosing ---------------------------------------------------------------- */

/*
 * How many of the best fits to choose among: the caller's TOP, or by
 * default DEFAULT_TOP and one more after each claim lost to another
 * scheduler (the winners took from the best few; the losers spread out).
 */
static int top_of(const struct choice *ch)
{
	return ch->o->top > 0 ? ch->o->top : DEFAULT_TOP + ch->r->stats.attempts - 1;
}

/* Enough fits to choose from (WANT), or enough engine runs once one fits? */
static bool enough(const struct choice *ch, int want)
{
	return ch->nfits >= want ||
	       (ch->nfits > 0 && ch->r->stats.engine >= ENGINE_BUDGET && want <= DEFAULT_WANT);
}

/*
 * The hosts at the head of the walk (spread: first of ORDER; pack: last)
 * as free as the head within EQUAL_KEY, by the keys ORDER was sorted by:
 * a binary search, the walk's positions being sorted by key.
 */
static int equal_band(const struct np__ord *order, int n, bool pack)
{
	int lo = 1, hi = n; /* the band is [0, lo) of the walk; [hi, n) is outside */
	double head = order[pack ? n - 1 : 0].key;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		double key = order[pack ? n - 1 - mid : mid].key;

		if (pack ? key <= head + EQUAL_KEY : key >= head - EQUAL_KEY)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The I-th host of the walk: the band of equally free hosts (BAND of them)
 * from START round to its beginning, then the rest of the order.
 */
static struct np_fleet_host *walk_at(const struct np__ord *order, int n, bool pack, int band,
				     int start, int i)
{
	int pos = i < band ? (start + i) % band : i;

	return order[pack ? n - 1 - pos : pos].h;
}

/*
 * Fill CH with fits: the hosts in the strategy's order (spread: most free
 * first; pack: least), each pre-filtered, then placed, until enough fit.
 * The walk starts at a random host among those as free as the first
 * within EQUAL_KEY (equal_band()): schedulers of other processes, which
 * see the same order, then look at different hosts and rarely claim the
 * same one.  When fewer fit, every host was looked at and has its reason
 * counted.  *CHOSEN is the index picked, or -1 when nothing fits.
 */
static int choose(np_fleet *f, struct choice *ch, const np_request *req, int *chosen)
{
	struct np__ord *order = NULL, single;
	int n = f->nhosts, want = ch->o->want > 0 ? ch->o->want : DEFAULT_WANT, rc = 0;
	int band, start;
	bool pack = ch->o->strategy == NP_STRATEGY_PACK;

	if (ch->o->host) {
		single.h = (struct np_fleet_host *)np_fleet_host_find(f, ch->o->host);
		if (!single.h)
			return np__err_reason(ch->err, NP_EINPUT, "no_host",
					      "no host '%s' in the fleet", ch->o->host);
		order = &single;
		n = 1;
	} else if (hosts_in_order(f, ch->needs->pinned, &order)) {
		return np__err(ch->err, NP_ENOMEM, "out of memory");
	}
	ch->r->stats.hosts = n;
	want = want < n ? want : n;
	if (!(ch->fits = np__calloc((size_t)want + 1, sizeof(*ch->fits))))
		return np__err(ch->err, NP_ENOMEM, "out of memory");
	band = n > 1 ? equal_band(order, n, pack) : 1;
	start = band > 1 ? (int)(next_rand(&f->rng) % (uint64_t)band) : 0;
	for (int i = 0; i < n && !rc && !enough(ch, want); i++)
		rc = consider(ch, walk_at(order, n, pack, band, start, i), req);
	if (rc)
		return rc;
	*chosen = ch->nfits ? pick(f, ch, top_of(ch), &f->rng) : -1;
	return 0;
}

/* The plan's JSON as the store keeps it; written once a claim (np_memout: no 8 KiB buffer cleared). */
static int plan_json(const np_plan *plan, char **out, struct np_error *err)
{
	struct np_memout m;
	int rc;

	*out = NULL;
	if (!np_memout_open(&m))
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np_plan_write(plan, NULL, NULL, NP_PLAN_JSON, false, m.f, err);
	if (np_memout_close(&m, out, NULL) && !rc)
		rc = np__err(err, NP_ENOMEM, "out of memory");
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int np__fleet_plan_json(const np_plan *plan, char **out, struct np_error *err)
{
	return plan_json(plan, out, err);
}

/*
 * After our own claim: a new snapshot of the host with the claim charged
 * (shared with the group), or read the host again if others moved it.
 */
static void after_claim(np_fleet *f, struct np_fleet_host *h, const struct np__takes *t,
			int64_t gen)
{
	if (!np__fleet_own_change(f, h, t, false, gen))
		np__fleet_stale(f, h, gen);
}

/* A claim's change, offered to the summaries (np__offer_fn) once committed. */
struct claimed {
	struct np_fleet_host *h;
	const struct np__takes *t;
	const struct np__claim_result *cr;
};

static void offer_claim(np_fleet *f, void *p)
{
	const struct claimed *c = p;

	if (c->cr->status == NP__CLAIMED)
		after_claim(f, c->h, c->t, c->cr->generation);
}

/*
 * Claim FIT's plan for ID; *JSON gets the plan's text the store kept (the
 * caller's to free, NULL on an error), which the answer reuses rather
 * than writing the plan a second time.
 */
static int claim(np_fleet *f, const char *id, const char *fp, const np_request *req,
		 const struct fit *fit, struct np__claim_result *cr, char **json,
		 struct np_error *err)
{
	struct np__takes t = { 0 };
	int rc = np__takes_of(fit->h->host, fit->plan, req, &t, err);

	*json = NULL;
	if (!rc)
		rc = plan_json(fit->plan, json, err);
	if (!rc) {
		struct np__claim c = { id, fit->h->id, fp, *json, &t };
		struct claimed done = { fit->h, &t, cr };

		rc = np__group_claim(f, &c, cr, offer_claim, &done, err);
	}
	np__takes_free(&t);
	return rc;
}

/* The result for a fit: its host, plan, and the host as the plan saw it. */
static int set_placed(np_fleet_result *r, const struct fit *fit, const np_host *view,
		      struct np_error *err)
{
	r->placed = true;
	r->plan = fit->plan;
	if (!(r->host = strdup(fit->h->name)) || np_host_clone(view, &r->usage, NULL))
		return np__err(err, NP_ENOMEM, "out of memory");
	return 0;
}

/* ID is placed already: the same request gets that placement, another is refused. */
static int answer_existing(np_fleet *f, np_fleet_placement *p, const char *fp,
			   np_fleet_result *r, struct np_error *err)
{
	const np_fleet_host *h = np_fleet_host_find(f, p->host);
	struct fit fit = { (struct np_fleet_host *)h, p->plan, 0 };

	if (strcmp(p->request, fp) != 0)
		return np__err_reason(err, NP_EINPUT, "claim_conflict",
				      "'%.200s' is placed already, with another request "
				      "(release it first)", p->id);
	if (!h)
		return np__err(err, NP_EOS, "'%.200s' is placed on host '%s', which is not in the "
			       "fleet", p->id, p->host);
	r->existing = true;
	p->plan = NULL;
	return set_placed(r, &fit, h->host, err);
}

static int existing(np_fleet *f, const char *id, const char *fp, np_fleet_result *r,
		    bool refresh, bool *found, struct np_error *err)
{
	np_fleet_placement *p = NULL;
	int rc = np__fleet_get(f, id, refresh, &p, err);

	*found = p != NULL;
	if (!rc && p)
		rc = answer_existing(f, p, fp, r, err);
	np_fleet_placement_free(p);
	return rc;
}

/* In debug builds every chosen plan is re-checked by the independent validator. */
static int validate(const struct fit *fit, const np_request *req, struct np_error *err)
{
#ifndef NDEBUG
	struct np_error e = { 0 };

	if (np_plan_validate(fit->h->host, req, fit->plan, &e))
		return np__err(err, NP_EOS, "internal error: the plan for host '%s' fails the "
			       "validator: %s", fit->h->name, e.message);
#else
	(void)fit;
	(void)req;
	(void)err;
#endif
	return 0;
}

/* With explain: the same plan again, with every reason (the engine is deterministic). */
static int explained(const np_fleet *f, np_fleet_result *r, const np_request *req,
		     const struct np_fleet_sched_opts *o, struct np_error *err)
{
	struct np_place_opts po = place_opts_of(o);
	np_plan *p = NULL;
	int rc;

	po.explain = true;
	/* Not again with moves (np_place() makes none) or a time budget (not repeatable). */
	if (!o->explain || !r->placed || np_plan_move_count(r->plan) > 0 || o->max_us)
		return 0;
	np__fleet_demand_opts(f, o, &po);
	if ((rc = np_place(r->usage, req, &po, &p, err)))
		return rc;
	np_plan_free(r->plan);
	r->plan = p;
	return 0;
}

/* ---- making room: moves (the store's part in sched-moves.c) -------------------- */

#define MOVES_HOSTS 32 /* hosts whose placements are read and searched, at most */
#define MOVES_WANT 4   /* hosts with an answer to compare before choosing */
#define EMPTY_SEEN 16  /* topologies whose empty-host answer is remembered */

struct empty_seen {
	int n;
	struct empty_one {
		int64_t topo;
		double cpu, ram;
		bool fits;
	} e[EMPTY_SEEN];
};

/*
 * Could REQ fit H at all, with nothing on it?  Else no move helps: the
 * cheap pre-check before reading its placements (np_place_with_moves()
 * then checks the sharper one, the host with every movable cell gone).
 */
static int fits_empty(struct empty_seen *seen, const struct np_fleet_host *h,
		      const np_request *req, const struct np_place_opts *po, bool *fits)
{
	np_host *empty = NULL;
	np_plan *p = NULL;
	int rc;

	for (int i = 0; i < seen->n; i++)
		if (seen->e[i].topo == h->topo_id && seen->e[i].cpu == h->cpu_ratio &&
		    seen->e[i].ram == h->ram_ratio) {
			*fits = seen->e[i].fits;
			return 0;
		}
	rc = np__fleet_empty_host(h, &empty, NULL);
	if (!rc)
		rc = np_place(empty, req, po, &p, NULL);
	if (rc == NP_ENOMEM) {
		np_host_free(empty);
		return rc;
	}
	*fits = !rc && np_plan_fits(p);
	np_plan_free(p);
	np_host_free(empty);
	if (seen->n < EMPTY_SEEN)
		seen->e[seen->n++] = (struct empty_one){ h->topo_id, h->cpu_ratio, h->ram_ratio,
							 *fits };
	return 0;
}

/* Cheaper moves first (MiB to migrate), then as fits are ranked. */
static bool moves_better(const struct np__mfit *a, const struct np__mfit *b)
{
	uint64_t x = np_plan_moves_mb(a->plan), y = np_plan_moves_mb(b->plan);
	struct fit fa = { a->h, a->plan, a->key }, fb = { b->h, b->plan, b->key };

	if (x != y)
		return x < y;
	if (np_plan_move_count(a->plan) != np_plan_move_count(b->plan))
		return np_plan_move_count(a->plan) < np_plan_move_count(b->plan);
	return better(&fa, &fb);
}

/* The hosts to search, by id (reading one again may drop others from the summaries). */
static int moves_hosts(np_fleet *f, const struct choice *ch, int64_t **ids, int *n)
{
	struct np__ord *order = NULL;
	const np_fleet_host *one = ch->o->host ? np_fleet_host_find(f, ch->o->host) : NULL;
	bool pack = ch->o->strategy == NP_STRATEGY_PACK;

	*n = one ? 1 : f->nhosts;
	if (!one && hosts_in_order(f, ch->needs->pinned, &order))
		return NP_ENOMEM;
	if (!(*ids = np__calloc((size_t)*n + 1, sizeof(**ids))))
		return NP_ENOMEM;
	for (int i = 0; i < *n; i++)
		(*ids)[i] = one ? one->id : order[pack ? *n - 1 - i : i].h->id;
	return 0;
}

/* Search hosts for moves until MOVES_WANT answer or MOVES_HOSTS were read; the best in *BEST. */
static int find_moves(np_fleet *f, struct choice *ch, const np_request *req,
		      struct np__mfit *best)
{
	struct np_place_opts po = place_opts_of(ch->o);
	struct np_moves_opts mo = { ch->o->allow_moves, ch->o->move_sets, ch->o->move_us };
	struct empty_seen seen = { 0 };
	int64_t *ids = NULL;
	int n = 0, found = 0, rc = moves_hosts(f, ch, &ids, &n);

	for (int i = 0; i < n && !rc && found < MOVES_WANT &&
			ch->r->stats.moves_hosts < MOVES_HOSTS; i++) {
		struct np_fleet_host *h = np__fleet_by_id(f, ids[i]);
		struct np__mfit m = { 0 };
		bool fits = false;

		if (!h || (rc = fits_empty(&seen, h, req, &po, &fits)) || !fits)
			continue;
		ch->r->stats.moves_hosts++;
		if ((rc = np__moves_on_host(f, ids[i], req, &po, &mo, &m, ch->err)) || !m.plan)
			continue;
		m.key = m.h->sum.key[ch->needs->pinned];
		m.key = ch->o->strategy == NP_STRATEGY_PACK ? -m.key : m.key;
		found++;
		if (!best->plan || moves_better(&m, best)) {
			np__mfit_free(best);
			*best = m;
		} else {
			np__mfit_free(&m);
		}
	}
	free(ids);
	return rc == NP_ENOMEM ? np__err(ch->err, rc, "out of memory") : rc;
}

/* The plan of M, validated on its host after the moves (debug builds; as validate()). */
static int validate_moves(const struct np__mfit *m, const np_request *req, struct np_error *err)
{
#ifndef NDEBUG
	struct np_error e = { 0 };
	np_host *after = NULL;
	int rc = np_host_after_moves(m->h->host, m->plan, m->guests, m->nguests, &after, &e);

	if (!rc)
		rc = np_plan_validate(after, req, m->plan, &e);
	np_host_free(after);
	if (rc)
		return np__err(err, NP_EOS, "internal error: the plan with moves for host '%s' fails "
			       "the validator: %s", m->h->name, e.message);
#else
	(void)m;
	(void)req;
	(void)err;
#endif
	return 0;
}

/* M's plan and host in the result; the view is the host before the moves. */
static int moves_placed(np_fleet_result *r, struct np__mfit *m, np_host *view,
			struct np_error *err)
{
	r->placed = true;
	r->plan = m->plan;
	r->usage = view;
	m->plan = NULL;
	if (!(r->host = strdup(m->h->name)))
		return np__err(err, NP_ENOMEM, "out of memory");
	return 0;
}

/*
 * Nothing fits as it is: search for moves and claim them with the guest.
 * *DONE false when the claim lost to another scheduler (choose again).
 */
static int try_moves(np_fleet *f, struct choice *ch, const char *id, const char *fp,
		     const np_request *req, bool *done)
{
	struct np__mfit m = { 0 };
	struct np__claim_result cr = { .status = NP__CLAIMED };
	np_host *view = NULL;
	bool found = false;
	int rc = find_moves(f, ch, req, &m);

	if (rc || !m.plan || (rc = validate_moves(&m, req, ch->err)))
		goto out;
	if (np_host_clone(m.h->host, &view, NULL)) {
		rc = np__err(ch->err, NP_ENOMEM, "out of memory");
		goto out;
	}
	if (!ch->o->dry_run && (rc = np__moves_claim(f, id, fp, req, &m, &cr, ch->err)))
		goto out;
	switch (cr.status) {
	case NP__CLAIMED:
		rc = moves_placed(ch->r, &m, view, ch->err);
		view = NULL;
		break;
	case NP__EXISTS:
	case NP__CONFLICT:
		rc = existing(f, id, fp, ch->r, true, &found, ch->err);
		break;
	default: /* NO_ROOM, HOST_GONE, MOVED: read it again, choose again */
		np__fleet_stale(f, m.h, INT64_MAX);
		*done = false;
	}
out:
	np_host_free(view);
	np__mfit_free(&m);
	return rc;
}

/* One attempt: choose, then claim unless a dry run.  *DONE when the result is final. */
static int attempt(np_fleet *f, struct choice *ch, const char *id, const char *fp,
		   const np_request *req, bool *done)
{
	struct np__claim_result cr = { .status = NP__CLAIMED };
	bool found = false;
	int k = -1, rc;

	clear_reasons(ch->r);
	ch->r->stats = (struct np_fleet_stats){ .attempts = ch->r->stats.attempts };
	if ((rc = np__fleet_refresh_lazy(f, ch->err)) || (rc = choose(f, ch, req, &k)))
		return rc;
	*done = true;
	/*
	 * The id may be placed already: the claim says so when it runs; when
	 * none will run (nothing fits, or a dry run), ask now - so that a
	 * retried schedule gets its placement even once the fleet is full.
	 */
	if ((k < 0 || ch->o->dry_run) &&
	    ((rc = existing(f, id, fp, ch->r, false, &found, ch->err)) || found))
		return rc;
	if (k < 0 && ch->o->allow_moves > 0 &&
	    ((rc = try_moves(f, ch, id, fp, req, done)) || ch->r->placed || !*done))
		return rc;
	if (k < 0)
		return word_reasons(ch->r, ch->needs) ? np__err(ch->err, NP_ENOMEM, "out of memory") : 0;
	if ((rc = validate(&ch->fits[k], req, ch->err)))
		return rc;
	if (!ch->o->dry_run) {
		/*
		 * The view the plan was made on, before our own claim changes
		 * it: the summary's snapshot, held (it is immutable), not cloned.
		 */
		struct np__hsnap *view = ch->fits[k].h->snap;
		char *json = NULL;

		atomic_fetch_add(&view->refs, 1);
		rc = claim(f, id, fp, req, &ch->fits[k], &cr, &json, ch->err);
		f->changed++;
		if (!rc && cr.status == NP__CLAIMED) {
			ch->r->placed = true;
			ch->r->plan = ch->fits[k].plan;
			free(ch->r->plan_json);
			ch->r->plan_json = json;
			json = NULL;
			ch->r->usage = view->host;
			ch->r->usage_snap = view;
			ch->fits[k].plan = NULL;
			view = NULL;
			if (!(ch->r->host = strdup(ch->fits[k].h->name)))
				rc = np__err(ch->err, NP_ENOMEM, "out of memory");
		}
		np__snap_unref(view);
		free(json);
		if (rc)
			return rc;
	}
	switch (cr.status) {
	case NP__CLAIMED:
		if (ch->o->dry_run) {
			rc = set_placed(ch->r, &ch->fits[k], ch->fits[k].h->host, ch->err);
			ch->fits[k].plan = NULL;
		}
		return rc;
	case NP__EXISTS:
	case NP__CONFLICT:
		return existing(f, id, fp, ch->r, true, &found, ch->err);
	case NP__HOST_GONE:
	case NP__NO_ROOM:
	case NP__MOVED: /* only claim_moves says it */
		np__fleet_stale(f, ch->fits[k].h, INT64_MAX); /* read it from the store, choose again */
		*done = false;
		return 0;
	}
	return 0;
}

/*
 * After the claim of attempt LOST lost its host: wait a random time below
 * PAUSE_US << min(LOST, PAUSE_DOUBLINGS) microseconds (randomised
 * exponential backoff).  The threads of a replica, or several replicas,
 * that asked for the same shape at once choose from the same best hosts;
 * without the pause the losers of one round meet again in the next.
 */
static void pause_after_loss(np_fleet *f, int lost)
{
	uint64_t cap = (uint64_t)PAUSE_US << (lost < PAUSE_DOUBLINGS ? lost : PAUSE_DOUBLINGS);
	uint64_t us = next_rand(&f->rng) % cap;
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Claim attempts until one is final (done) or an error; the last *DONE. */
static int attempts(np_fleet *f, struct choice *ch, const char *id, const char *fp,
		    const np_request *req, bool *done)
{
	int rc = 0;

	for (int a = 1; a <= MAX_ATTEMPTS && !*done && !rc; a++) {
		if (a > 1)
			pause_after_loss(f, a - 1);
		ch->r->stats.attempts = a;
		rc = attempt(f, ch, id, fp, req, done);
		free_choice(ch, -1);
	}
	return rc;
}

int np_fleet_schedule(np_fleet *f, const char *id, const np_request *req,
		      const struct np_fleet_sched_opts *opts, np_fleet_result **out,
		      struct np_error *err)
{
	static const struct np_fleet_sched_opts defaults = { .strategy = NP_STRATEGY_SPREAD };
	struct np__needs needs = { 0 };
	struct choice ch = { .f = f, .o = opts ? opts : &defaults, .err = err };
	np_fleet_result *r = NULL;
	char *fp = NULL;
	bool done = false;
	int rc = np__fleet_check_id("placement id", id, err);

	if (rc)
		return rc;
	if (ch.o->seed)
		f->rng = ch.o->seed;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->id = strdup(id)) || np__request_fingerprint(req, &fp) ||
	    np__needs_of(req, &needs)) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	ch.r = r;
	ch.needs = &needs;
	if ((!ch.o->no_demand || ch.o->flavors) && np__fleet_demand_note(f, req, ch.o)) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	rc = attempts(f, &ch, id, fp, req, &done);
	if (!rc && !done)
		rc = np__err(err, NP_EOS, "cannot claim '%.200s': %d tries in a row lost their host "
			     "to other schedulers", id, MAX_ATTEMPTS);
	if (!rc)
		rc = explained(f, r, req, ch.o, err);
out:
	free_choice(&ch, -1);
	np__needs_free(&needs);
	free(fp);
	if (rc) {
		np_fleet_result_free(r);
		return rc;
	}
	*out = r;
	return 0;
}
