/*
 * state-check.c - np__state_check(), the claim ledger's invariant checker
 * (state-int.h lists the invariants), and the one rule for what an id may
 * be, which claiming, loading and the checker share.
 *
 * Without a host the checker reads the ledger alone; with one it charges
 * every claim onto a copy of the host, the way np_state_apply() does, and
 * then looks at what the copy holds.  It never changes the ledger or the
 * host, so debug builds can assert it after every change (state.c).
 */
#include <stdlib.h>
#include <string.h>

#include "plan/plan-json.h"
#include "state/state-int.h"
#include "util/json-util.h"

const char *np__state_id_problem(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0)
		return "is empty";
	if (n > NP_CLAIM_ID_MAX)
		return "is longer than " NP__STR(NP_CLAIM_ID_MAX) " bytes";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f)
			return "has a control character";
	/* Checked without allocating: out of memory is not a bad id. */
	if (!np__utf8_valid(id, n))
		return "is not valid UTF-8";
	return NULL;
}

/* Claim I alone: its id, its place in the order, its plan. */
static int check_claim(const np_state *st, int i, struct np_error *err)
{
	const struct claim *c = &st->claims[i];
	const char *why = np__state_id_problem(c->id);
	np_plan *p = NULL;
	struct np_error e;
	int rc;

	if (why)
		return np__err(err, NP_EINPUT, "claim %d: the id %s", i, why);
	if (i > 0 && strcmp(st->claims[i - 1].id, c->id) >= 0)
		return np__err(err, NP_EINPUT, "claim %d: ids not sorted or repeated", i);
	rc = np__plan_from_json_value(NULL, c->plan, "", &p, &e);
	if (!rc && !np_plan_fits(p))
		rc = np__err(&e, NP_EINPUT, "the plan does not fit");
	np_plan_free(p);
	return rc ? np__err(err, rc, "claim %d: %s", i, e.message) : 0;
}

/* No node of H holds more memory than it has (times the RAM ratio, with limits). */
static int check_memory(const np_host *h, struct np_error *err)
{
	const np_topo *t = np_host_topo(h);
	double ram = 1.0;

	if (!np_host_limits(h, NULL, &ram))
		return 0; /* no limits: Nova checks no memory for floating guests */
	for (int j = 0; j < np_topo_node_count(t); j++) {
		const struct np_host_node *n = np_host_node(h, j);

		if ((double)n->memory_used_mb > (double)n->memory_mb * ram)
			return np__err(err, NP_EINPUT, "node %d: %llu MiB used of %llu", n->os_id,
				       (unsigned long long)n->memory_used_mb,
				       (unsigned long long)n->memory_mb);
	}
	return 0;
}

/* Claim I's plan, mapped onto H's topology, charged onto H. */
static int charge_claim(const np_state *st, int i, np_host *h, struct np_error *err)
{
	np_plan *p = NULL;
	int rc = np__plan_from_json_value(np_host_topo(h), st->claims[i].plan, "", &p, err);

	if (!rc)
		rc = np_host_charge(h, p, false, err);
	np_plan_free(p);
	return rc;
}

/* Every claim charged onto a copy of HOST: the claims fit it together. */
static int check_on_host(const np_state *st, const np_host *host, struct np_error *err)
{
	np_host *h = NULL;
	struct np_error e;
	int rc = np_host_clone(host, &h, err), i;

	if (rc)
		return rc;
	for (i = 0; !rc && i < st->nclaims; i++)
		rc = charge_claim(st, i, h, &e);
	if (rc)
		rc = np__err(err, rc, "claim %d on the host: %s", i - 1, e.message);
	else if ((rc = check_memory(h, &e)) || (rc = np_host_check(h, &e)))
		rc = np__err(err, rc, "the claims on the host: %s", e.message);
	np_host_free(h);
	return rc;
}

int np__state_check(const np_state *st, const np_host *host, struct np_error *err)
{
	int rc = 0;

	if (st->nclaims < 0 || (st->nclaims && !st->claims))
		return np__err(err, NP_EINPUT, "%d claims", st->nclaims);
	for (int i = 0; i < st->nclaims && !rc; i++)
		rc = check_claim(st, i, err);
	if (!rc && host)
		rc = check_on_host(st, host, err);
	return rc;
}
