/*
 * ledger.c - the ledger (ledger.h): what a plan takes, a host's capacity
 * rows, charging with the capacity predicate, the host view, invariants.
 *
 * Design: a ledger is two sorted arrays, rows by (node, rc) and pins by
 * CPU, so that lookups are binary searches and two ledgers compare with
 * memcmp-like walks.  Charging checks every take first and applies only
 * when all pass, so a refused charge changes nothing.  The host view is
 * built with the public np_host_* calls only, so it is exactly what the
 * engine would see after np_host_charge() of every plan (tests compare the
 * two).
 */
#include "fleet/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place/place-int.h"
#include "util/util.h"

/*
 * The names by hand, not snprintf: a refresh names every pool of every
 * node of each host it rebuilds (test-ledger checks them against printf).
 */
void np__rc_page(char *out, uint64_t size_kb)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = (char)('0' + size_kb % 10);
	while ((size_kb /= 10) != 0);
	memcpy(out, "page:", 5);
	for (int i = 0; i < n; i++) /* at most 20 digits: 5 + 20 > NP__RC_MAX - 1 */
		if (5 + i < NP__RC_MAX - 1)
			out[5 + i] = digits[n - 1 - i];
	out[5 + n < NP__RC_MAX - 1 ? 5 + n : NP__RC_MAX - 1] = '\0';
}

static void hex4(char *out, unsigned v)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 3; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 0xf];
}

void np__rc_pci(char *out, unsigned vendor, unsigned product)
{
	memcpy(out, "pci:", 4);
	hex4(out + 4, vendor & 0xffff);
	out[8] = ':';
	hex4(out + 9, product & 0xffff);
	out[13] = '\0';
}

int np__row_cmp(int node_a, const char *rc_a, int node_b, const char *rc_b)
{
	if (node_a != node_b)
		return node_a < node_b ? -1 : 1;
	return strcmp(rc_a, rc_b);
}

static int cmp_row(const void *a, const void *b)
{
	const struct np__row *x = a, *y = b;

	return np__row_cmp(x->node, x->rc, y->node, y->rc);
}

static int cmp_take(const void *a, const void *b)
{
	const struct np__take *x = a, *y = b;

	return np__row_cmp(x->node, x->rc, y->node, y->rc);
}

static int cmp_pin(const void *a, const void *b)
{
	const struct np__pin *x = a, *y = b;

	return (x->cpu > y->cpu) - (x->cpu < y->cpu);
}

/* ---- what a plan takes ---------------------------------------------------- */

struct tb {
	struct np__takes *t;
	size_t cap, pcap;
};

/* Add AMOUNT to the take (node, rc), keeping the strictest mode. */
static int add_take(struct tb *b, int node, const char *rc, int64_t amount, enum np__check mode)
{
	struct np__takes *t = b->t;

	if (amount <= 0)
		return 0;
	for (int i = 0; i < t->ntakes; i++)
		if (t->takes[i].node == node && strcmp(t->takes[i].rc, rc) == 0) {
			t->takes[i].amount += amount;
			t->takes[i].mode = mode > t->takes[i].mode ? mode : t->takes[i].mode;
			return 0;
		}
	if (np__grow((void **)&t->takes, &b->cap, (size_t)t->ntakes + 1, sizeof(*t->takes)))
		return NP_ENOMEM;
	t->takes[t->ntakes] = (struct np__take){ .node = node, .amount = amount, .mode = mode };
	snprintf(t->takes[t->ntakes].rc, NP__RC_MAX, "%s", rc);
	t->ntakes++;
	return 0;
}

static int add_pins(struct tb *b, int node, const int *cpus, int n)
{
	struct np__takes *t = b->t;

	if (n <= 0)
		return 0;
	if (np__grow((void **)&t->pins, &b->pcap, (size_t)(t->npins + n), sizeof(*t->pins)))
		return NP_ENOMEM;
	for (int i = 0; i < n; i++)
		t->pins[t->npins++] = (struct np__pin){ cpus[i], node };
	return 0;
}

/* The page pool a plan cell's memory comes from; NULL when the node has none. */
static const struct np_page_pool *cell_pool(const struct np_host_node *hn, uint64_t kb, int *idx)
{
	for (int i = 0; i < hn->npools; i++)
		if (hn->pools[i].size_kb == kb) {
			*idx = i;
			return &hn->pools[i];
		}
	return NULL;
}

/* True when the guest cell GC asked for a page size (REQ known). */
static bool asked_pagesize(const np_request *req, int gc)
{
	return req && gc >= 0 && gc < np_request_cell_count(req) &&
	       np_request_cell(req, gc)->pagesize != NP_PAGESIZE_UNSET;
}

static int cell_takes(struct tb *b, const np_host *host, const np_request *req,
		      const struct np_plan_cell *c, struct np_error *err)
{
	const struct np_host_node *hn = np_host_node(host, c->node_idx);
	int node, pool = -1, rc = 0;
	char name[NP__RC_MAX];

	if (!hn)
		return np__err(err, NP_EINPUT, "the plan names node index %d, not on the host",
			       c->node_idx);
	node = hn->os_id;
	rc = add_take(b, node, "mem", (int64_t)c->memory_mb,
		      c->npins > 0 ? NP__CHECK_TOTAL : NP__CHECK_CAP);
	if (!rc)
		rc = add_take(b, node, "vcpu", c->nfloat, NP__CHECK_CAP);
	if (!rc)
		rc = add_take(b, node, "pcpu", c->npins + c->nreserved + c->nblocked,
			      NP__CHECK_CAP);
	for (int i = 0; i < c->npins && !rc; i++)
		rc = add_pins(b, node, &c->pins[i].pcpu, 1);
	if (!rc)
		rc = add_pins(b, node, c->reserved, c->nreserved);
	if (!rc)
		rc = add_pins(b, node, c->blocked, c->nblocked);
	if (rc || hn->npools == 0)
		return rc ? np__err(err, rc, "out of memory") : 0;
	if (!cell_pool(hn, c->pagesize_kb, &pool))
		return np__err(err, NP_EINPUT, "node %d has no %llu KiB page pool", node,
			       (unsigned long long)c->pagesize_kb);
	np__rc_page(name, c->pagesize_kb);
	rc = add_take(b, node, name, (int64_t)(c->memory_mb * 1024 / c->pagesize_kb),
		      pool == 0 && !asked_pagesize(req, c->guest_cell) ? NP__CHECK_NONE
								       : NP__CHECK_CAP);
	return rc ? np__err(err, rc, "out of memory") : 0;
}

static int pci_takes(struct tb *b, const np_host *host, const np_plan *plan,
		     struct np_error *err)
{
	const np_topo *t = np_host_topo(host);

	for (int i = 0; i < np_plan_pci_count(plan); i++) {
		const struct np_plan_pci *p = np_plan_pci(plan, i);
		const struct np_pci_pool *pool = np_host_pci_pool(host, p->pool);
		char name[NP__RC_MAX];

		if (!pool)
			return np__err(err, NP_EINPUT, "the plan names PCI pool %d, not on the host",
				       p->pool);
		np__rc_pci(name, pool->vendor, pool->product);
		if (add_take(b, pool->node_idx < 0 ? -1 : np_topo_node(t, pool->node_idx)->os_id,
			     name, p->count, NP__CHECK_CAP))
			return np__err(err, NP_ENOMEM, "out of memory");
	}
	return 0;
}

/* Pins sorted, each once. */
static int sort_pins(struct np__takes *t, struct np_error *err)
{
	if (t->npins > 1)
		qsort(t->pins, (size_t)t->npins, sizeof(*t->pins), cmp_pin);
	return np__pins_once(t, err);
}

/*
 * Pins come sorted by CPU (np__takes_of): then one look at each
 * neighbour.  From the first CPU not above the one before it (a caller
 * that did not sort) on, each is looked for among all before it, so
 * unsorted pins are judged too, in quadratic time only for them.
 */
int np__pins_once(const struct np__takes *t, struct np_error *err)
{
	bool sorted = true;

	for (int i = 1; i < t->npins; i++) {
		int cpu = t->pins[i].cpu;

		sorted = sorted && cpu > t->pins[i - 1].cpu;
		if (sorted)
			continue;
		for (int j = 0; j < i; j++)
			if (t->pins[j].cpu == cpu)
				return np__err(err, NP_EINPUT, "the plan pins CPU %d twice", cpu);
	}
	return 0;
}

int np__takes_of(const np_host *host, const np_plan *plan, const np_request *req,
		 struct np__takes *out, struct np_error *err)
{
	struct np__takes t = { 0 };
	struct tb b = { &t, 0, 0 };
	int rc = 0;

	if (!np_plan_fits(plan))
		return np__err(err, NP_EINPUT, "a plan that does not fit takes nothing");
	for (int i = 0; i < np_plan_cell_count(plan) && !rc; i++)
		rc = cell_takes(&b, host, req, np_plan_cell(plan, i), err);
	if (!rc)
		rc = pci_takes(&b, host, plan, err);
	if (!rc)
		rc = sort_pins(&t, err);
	if (rc) {
		np__takes_free(&t);
		return rc;
	}
	if (t.ntakes > 1)
		qsort(t.takes, (size_t)t.ntakes, sizeof(*t.takes), cmp_take);
	*out = t;
	return 0;
}

void np__takes_free(struct np__takes *t)
{
	if (!t)
		return;
	free(t->takes);
	free(t->pins);
	memset(t, 0, sizeof(*t));
}

/* ---- building ledgers ------------------------------------------------------ */

np__ledger *np__ledger_new(void)
{
	return calloc(1, sizeof(np__ledger));
}

/*
 * A copy of L sized once, with room for a few more pins: a claim's own
 * change clones the host's ledger and charges it (np__fleet_own_change),
 * and row by row that was a realloc each time the rows doubled.  The rows
 * and pins are copied into exact-size arrays (np__grow would round them
 * up and zero the rest, a tenth of a refresh's ledger work); what grows
 * later still goes through np__grow.
 */
np__ledger *np__ledger_clone(const np__ledger *l)
{
	np__ledger *c = np__ledger_new();
	size_t nr = (size_t)l->nrows, np = (size_t)l->npins + 8;

	if (!c || !(c->rows = malloc((nr ? nr : 1) * sizeof(*c->rows))) ||
	    !(c->pins = malloc(np * sizeof(*c->pins)))) {
		np__ledger_free(c);
		return NULL;
	}
	c->rcap = nr ? nr : 1;
	c->pcap = np;
	if (l->nrows)
		memcpy(c->rows, l->rows, nr * sizeof(*l->rows));
	if (l->npins)
		memcpy(c->pins, l->pins, (size_t)l->npins * sizeof(*l->pins));
	c->nrows = l->nrows;
	c->npins = l->npins;
	return c;
}

void np__ledger_free(np__ledger *l)
{
	if (!l)
		return;
	free(l->rows);
	free(l->pins);
	free(l);
}

int np__ledger_add_row(np__ledger *l, const struct np__row *row)
{
	if (np__grow((void **)&l->rows, &l->rcap, (size_t)l->nrows + 1, sizeof(*l->rows)))
		return NP_ENOMEM;
	l->rows[l->nrows++] = *row;
	return 0;
}

int np__ledger_add_pin(np__ledger *l, int cpu, int node)
{
	if (np__grow((void **)&l->pins, &l->pcap, (size_t)l->npins + 1, sizeof(*l->pins)))
		return NP_ENOMEM;
	l->pins[l->npins++] = (struct np__pin){ cpu, node };
	return 0;
}


void np__ledger_sort(np__ledger *l)
{
	if (!np__sorted(l->rows, l->nrows, sizeof(*l->rows), cmp_row))
		qsort(l->rows, (size_t)l->nrows, sizeof(*l->rows), cmp_row);
	if (!np__sorted(l->pins, l->npins, sizeof(*l->pins), cmp_pin))
		qsort(l->pins, (size_t)l->npins, sizeof(*l->pins), cmp_pin);
}

int np__ledger_reserve(np__ledger *l, int rows, int pins)
{
	if ((rows > 0 && np__grow((void **)&l->rows, &l->rcap, (size_t)rows, sizeof(*l->rows))) ||
	    (pins > 0 && np__grow((void **)&l->pins, &l->pcap, (size_t)pins, sizeof(*l->pins))))
		return NP_ENOMEM;
	return 0;
}

static int64_t floor_ratio(uint64_t n, double ratio)
{
	double v = (double)n * ratio;

	return v >= 9.2e18 ? NP__CAP_UNLIMITED : (int64_t)v;
}

static int row(np__ledger *l, int node, const char *rc, int64_t total, int64_t cap, int64_t used)
{
	struct np__row r = { .node = node, .total = total, .cap = cap, .used = used };

	snprintf(r.rc, NP__RC_MAX, "%s", rc);
	return np__ledger_add_row(l, &r);
}

static int node_rows(np__ledger *l, const np_host *host, int idx)
{
	const struct np_host_node *hn = np_host_node(host, idx);
	double cr, rr;
	bool limits = np_host_limits(host, &cr, &rr);
	char name[NP__RC_MAX];
	int rc;

	rc = row(l, hn->os_id, "mem", (int64_t)hn->memory_mb,
		 limits ? floor_ratio(hn->memory_mb, rr) : NP__CAP_UNLIMITED,
		 (int64_t)hn->memory_used_mb);
	if (!rc)
		rc = row(l, hn->os_id, "vcpu", hn->nshared,
			 limits ? floor_ratio((uint64_t)hn->nshared, cr) : NP__CAP_UNLIMITED,
			 hn->cpu_usage);
	if (!rc)
		rc = row(l, hn->os_id, "pcpu", hn->ndedicated, hn->ndedicated, hn->npinned);
	for (int i = 0; i < hn->npinned && !rc; i++)
		rc = np__ledger_add_pin(l, hn->pinned[i], hn->os_id);
	for (int i = 0; i < hn->npools && !rc; i++) {
		const struct np_page_pool *p = &hn->pools[i];

		np__rc_page(name, p->size_kb);
		rc = row(l, hn->os_id, name, (int64_t)p->total, (int64_t)(p->total - p->reserved),
			 (int64_t)p->used);
	}
	return rc;
}

int np__ledger_of_host(const np_host *host, np__ledger **out, struct np_error *err)
{
	const np_topo *t = np_host_topo(host);
	np__ledger *l = np__ledger_new();
	int rc = l ? 0 : NP_ENOMEM;

	for (int i = 0; i < np_topo_node_count(t) && !rc; i++)
		rc = node_rows(l, host, i);
	for (int i = 0; i < np_host_pci_pool_count(host) && !rc; i++) {
		const struct np_pci_pool *p = np_host_pci_pool(host, i);
		char name[NP__RC_MAX];

		np__rc_pci(name, p->vendor, p->product);
		rc = row(l, p->node_idx < 0 ? -1 : np_topo_node(t, p->node_idx)->os_id, name,
			 p->count, p->count, p->used);
	}
	if (rc) {
		np__ledger_free(l);
		return np__err(err, rc, "out of memory");
	}
	np__ledger_sort(l);
	*out = l;
	return 0;
}

/* ---- lookups and charging -------------------------------------------------- */

static int find_row(const np__ledger *l, int node, const char *rc)
{
	int lo = 0, hi = l->nrows - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int c = np__row_cmp(l->rows[mid].node, l->rows[mid].rc, node, rc);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

const struct np__row *np__ledger_find(const np__ledger *l, int node, const char *rc)
{
	int i = find_row(l, node, rc);

	return i < 0 ? NULL : &l->rows[i];
}

static int find_pin(const np__ledger *l, int cpu)
{
	int lo = 0, hi = l->npins - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (l->pins[mid].cpu == cpu)
			return mid;
		if (l->pins[mid].cpu < cpu)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* RC as a message says an amount of it: "MiB", "vCPUs", "page:2048 pages". */
static const char *unit_of(const char *rc)
{
	if (strcmp(rc, "mem") == 0)
		return "MiB";
	if (strcmp(rc, "vcpu") == 0)
		return "floating vCPUs";
	if (strcmp(rc, "pcpu") == 0)
		return "dedicated CPUs";
	return rc;
}

/* Would charging T go past what its mode allows?  0 or NP_ENOFIT. */
static int check_take(const np__ledger *l, const struct np__take *t, struct np_error *err)
{
	int i = find_row(l, t->node, t->rc);
	const struct np__row *r = i < 0 ? NULL : &l->rows[i];
	int64_t lim;

	if (!r)
		return np__err(err, NP_ENOFIT, "node %d has no '%s' to take", t->node, t->rc);
	lim = t->mode == NP__CHECK_NONE ? NP__CAP_UNLIMITED : r->cap;
	if (t->mode == NP__CHECK_TOTAL && r->total < lim)
		lim = r->total;
	if (t->amount > lim || r->used > lim - t->amount)
		return np__err(err, NP_ENOFIT, "node %d: %lld %s claimed of %lld %s (%lld asked, %lld left)",
			       t->node, (long long)r->used + (long long)t->amount, unit_of(t->rc),
			       (long long)lim, unit_of(t->rc), (long long)t->amount,
			       (long long)(lim > r->used ? lim - r->used : 0));
	return 0;
}

static int charge(np__ledger *l, const struct np__takes *t, struct np_error *err)
{
	int rc;

	for (int i = 0; i < t->ntakes; i++)
		if ((rc = check_take(l, &t->takes[i], err)))
			return rc;
	for (int i = 0; i < t->npins; i++)
		if (find_pin(l, t->pins[i].cpu) >= 0)
			return np__err(err, NP_ENOFIT, "node %d: CPU %d is pinned already",
				       t->pins[i].node, t->pins[i].cpu);
	if (t->npins) {
		if (np__grow((void **)&l->pins, &l->pcap, (size_t)(l->npins + t->npins),
			     sizeof(*l->pins)))
			return np__err(err, NP_ENOMEM, "out of memory");
		memcpy(l->pins + l->npins, t->pins, (size_t)t->npins * sizeof(*l->pins));
		l->npins += t->npins;
		qsort(l->pins, (size_t)l->npins, sizeof(*l->pins), cmp_pin);
	}
	for (int i = 0; i < t->ntakes; i++)
		l->rows[find_row(l, t->takes[i].node, t->takes[i].rc)].used += t->takes[i].amount;
	return 0;
}

static void give_back(np__ledger *l, const struct np__takes *t)
{
	int m = 0;

	for (int i = 0; i < t->ntakes; i++) {
		int r = find_row(l, t->takes[i].node, t->takes[i].rc);

		if (r >= 0)
			l->rows[r].used = l->rows[r].used > t->takes[i].amount
						  ? l->rows[r].used - t->takes[i].amount
						  : 0;
	}
	for (int i = 0; i < l->npins; i++) {
		bool drop = false;

		for (int k = 0; k < t->npins && !drop; k++)
			drop = t->pins[k].cpu == l->pins[i].cpu;
		if (!drop)
			l->pins[m++] = l->pins[i];
	}
	l->npins = m;
}

int np__ledger_charge(np__ledger *l, const struct np__takes *takes, bool release,
		      struct np_error *err)
{
	if (release) {
		give_back(l, takes);
		return 0;
	}
	return charge(l, takes, err);
}

/* ---- the host view ------------------------------------------------------- */

/* Pinned CPUs of node OS (from sorted pins) into BUF; returns how many. */
static int node_pins(const np__ledger *l, int os, int *buf)
{
	int n = 0;

	for (int i = 0; i < l->npins; i++)
		if (l->pins[i].node == os)
			buf[n++] = l->pins[i].cpu;
	return n;
}

/* Node NODE's rows: the first, and *END one past the last. */
static int node_rows_at(const np__ledger *l, int node, int *end)
{
	int lo = 0, hi = l->nrows;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (l->rows[mid].node < node)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (*end = lo; *end < l->nrows && l->rows[*end].node == node; (*end)++)
		;
	return lo;
}

/* Used of RC among rows FROM..END (one node's: a few, a plain walk). */
static int64_t used_in(const np__ledger *l, int from, int end, const char *rc)
{
	for (int i = from; i < end; i++)
		if (l->rows[i].rc[0] == rc[0] && !strcmp(l->rows[i].rc, rc))
			return l->rows[i].used;
	return 0;
}

static int64_t used_of(const np__ledger *l, int node, const char *rc)
{
	const struct np__row *r = np__ledger_find(l, node, rc);

	return r ? r->used : 0;
}

static int node_to_host(const np__ledger *l, np_host *host, int idx, int *buf,
			struct np_error *err)
{
	const struct np_host_node *hn = np_host_node(host, idx);
	int os = hn->os_id, n = node_pins(l, os, buf), rc, end, from = node_rows_at(l, os, &end);
	char name[NP__RC_MAX];

	rc = np_host_add_usage(host, idx, (unsigned)used_in(l, from, end, "vcpu"),
			       (uint64_t)used_in(l, from, end, "mem"), buf, n, err);
	for (int i = 0; i < hn->npools && !rc; i++) {
		const struct np_page_pool *p = &hn->pools[i];
		uint64_t used, room = p->total - p->reserved - p->used;

		np__rc_page(name, p->size_kb);
		used = (uint64_t)used_in(l, from, end, name);
		if (i == 0 && used > room)
			used = room; /* small pages of floating memory: clamped, as charged */
		if (used)
			rc = np_host_add_pages_used(host, idx, p->size_kb, used, err);
	}
	return rc;
}

static int pci_to_host(const np__ledger *l, np_host *host, struct np_error *err)
{
	const np_topo *t = np_host_topo(host);
	int n = np_host_pci_pool_count(host), rc;
	struct np_pci_pool *pools = np__calloc((size_t)n + 1, sizeof(*pools));

	if (!pools)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		char name[NP__RC_MAX];
		int node;

		pools[i] = *np_host_pci_pool(host, i);
		node = pools[i].node_idx < 0 ? -1 : np_topo_node(t, pools[i].node_idx)->os_id;
		np__rc_pci(name, pools[i].vendor, pools[i].product);
		pools[i].used += (int)used_of(l, node, name);
	}
	rc = np_host_set_pci_pools(host, pools, n, err);
	free(pools);
	return rc;
}

/* Does T name kernel node OS, by a take or a pin? */
static bool takes_node(const struct np__takes *t, int os)
{
	for (int i = 0; i < t->ntakes; i++)
		if (t->takes[i].node == os)
			return true;
	for (int i = 0; i < t->npins; i++)
		if (t->pins[i].node == os)
			return true;
	return false;
}

/*
 * L's usage onto HOST's nodes: every node (TAKES NULL, HOST empty), or
 * those TAKES names, each reset to EMPTY's first.
 */
static int nodes_to_host(const np__ledger *l, const struct np__takes *takes, np_host *host,
			 const np_host *empty, struct np_error *err)
{
	const np_topo *t = np_host_topo(host);
	int small[256], *buf = l->npins <= 256 ? small : np__calloc((size_t)l->npins, sizeof(int));
	int rc = 0;

	if (!buf)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < np_topo_node_count(t) && !rc; i++) {
		if (takes && !takes_node(takes, np_host_node(host, i)->os_id))
			continue;
		if (!takes || !(rc = np__host_node_reset(host, i, empty, err)))
			rc = node_to_host(l, host, i, buf, err);
	}
	if (buf != small)
		free(buf);
	return rc;
}

int np__ledger_to_host(const np__ledger *l, np_host *host, struct np_error *err)
{
	int rc = nodes_to_host(l, NULL, host, NULL, err);

	if (!rc && np_host_pci_pool_count(host))
		rc = pci_to_host(l, host, err);
	return rc;
}

bool np__takes_pci(const struct np__takes *t)
{
	for (int i = 0; i < t->ntakes; i++)
		if (!strncmp(t->takes[i].rc, "pci:", 4))
			return true;
	return false;
}

int np__ledger_nodes_to_host(const np__ledger *l, const struct np__takes *takes, np_host *host,
			     const np_host *empty, struct np_error *err)
{
	if (np__takes_pci(takes))
		return np__err(err, NP_EINPUT, "PCI devices: the host is rebuilt whole");
	return nodes_to_host(l, takes, host, empty, err);
}

/* ---- invariants ------------------------------------------------------------ */

/* The smallest page size among node NODE's rows starting at row I. */
static bool smallest_pool(const np__ledger *l, int i)
{
	const struct np__row *r = &l->rows[i];
	unsigned long long kb = strtoull(r->rc + 5, NULL, 10);

	if (strncmp(r->rc, "page:", 5) != 0)
		return false;
	for (int k = 0; k < l->nrows; k++)
		if (l->rows[k].node == r->node && strncmp(l->rows[k].rc, "page:", 5) == 0 &&
		    strtoull(l->rows[k].rc + 5, NULL, 10) < kb)
			return false;
	return true;
}

static int check_rows(const np__ledger *l, struct np_error *err)
{
	for (int i = 0; i < l->nrows; i++) {
		const struct np__row *r = &l->rows[i];

		if (i > 0 && np__row_cmp(l->rows[i - 1].node, l->rows[i - 1].rc, r->node, r->rc) >= 0)
			return np__err(err, NP_EINPUT, "ledger rows out of order at node %d %s",
				       r->node, r->rc);
		if (r->used < 0 || r->cap < 0 || r->total < 0)
			return np__err(err, NP_EINPUT, "node %d: %s: negative amount", r->node,
				       r->rc);
		if (r->used > r->cap && !smallest_pool(l, i))
			return np__err(err, NP_EINPUT, "node %d: %s: %lld used, over its capacity %lld",
				       r->node, r->rc, (long long)r->used, (long long)r->cap);
	}
	return 0;
}

int np__ledger_check(const np__ledger *l, struct np_error *err)
{
	int rc = check_rows(l, err);

	for (int i = 1; i < l->npins && !rc; i++)
		if (l->pins[i].cpu <= l->pins[i - 1].cpu)
			rc = np__err(err, NP_EINPUT, "CPU %d is pinned twice (or out of order)",
				     l->pins[i].cpu);
	for (int i = 0; i < l->nrows && !rc; i++) {
		const struct np__row *r = &l->rows[i];
		int n = 0;

		if (strcmp(r->rc, "pcpu") != 0)
			continue;
		for (int k = 0; k < l->npins; k++)
			n += l->pins[k].node == r->node;
		if (n != r->used)
			rc = np__err(err, NP_EINPUT, "node %d: %lld dedicated CPUs counted used, %d pinned",
				     r->node, (long long)r->used, n);
	}
	for (int i = 0; i < l->npins && !rc; i++)
		if (!np__ledger_find(l, l->pins[i].node, "pcpu"))
			rc = np__err(err, NP_EINPUT, "CPU %d is pinned on node %d, which has no "
				     "dedicated CPUs", l->pins[i].cpu, l->pins[i].node);
	return rc;
}
