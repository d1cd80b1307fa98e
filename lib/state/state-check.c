/*
 * state-check.c - the claim ledger's checks: np__state_check(), the
 * invariant checker (state-int.h lists the invariants), and the one rule
 * for what an id may be, with the one way to show an id in a message.
 *
 * Given a host, the checker recounts the claims on a copy of it with
 * np_host_charge(), apart from the fleet ledger that np_state_apply()
 * keeps (state.c): a CPU pinned twice, pages or devices a node lacks, and
 * memory beyond the node's (times the RAM allocation ratio when the host
 * has limits) are over-commit, named as "claim 'vm-2' in 'host.state':
 * node 1: 24000 MiB claimed of 16179".
 *
 * np__state_check() never changes the ledger or the host, so debug builds
 * can assert it after every change (state.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/util.h>

#include "plan/plan-json.h"
#include "state/state-int.h"
#include "util/json-util.h"

const char *np__state_id_problem(const char *id)
{
	size_t n = id ? strlen(id) : 0, k;

	if (n == 0)
		return "is empty";
	if (n > NP_CLAIM_ID_MAX)
		return "is longer than " NP__STR(NP_CLAIM_ID_MAX) " bytes";
	for (size_t i = 0; i < n; i += k) {
		const unsigned char *c = (const unsigned char *)id + i;

		k = 1;
		if (*c < 0x20 || *c == 0x7f || (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f))
			return "has a control character";
		/* Checked without allocating: out of memory is not a bad id. */
		if (*c >= 0x80 && !(k = np__utf8_char(c)))
			return "is not valid UTF-8";
	}
	return NULL;
}

void np__state_id_shown(const char *id, char *out, size_t size)
{
	np_text_shown(id, out, size);
}

/* Claim I alone: its id, its place in the order, its plan. */
static int check_claim(const np_state *st, int i, struct np_error *err)
{
	const struct claim *c = &st->claims[i];
	const char *why = np__state_id_problem(c->id);
	np_plan *p = NULL;
	struct np_error e;
	int rc;

	char shown[NP__STATE_ID_SHOWN];

	np__state_id_shown(c->id, shown, sizeof(shown));
	if (why)
		return np__err(err, NP_EINPUT, "claim '%s' in '%s': the id %s", shown, st->path, why);
	if (i > 0 && strcmp(st->claims[i - 1].id, c->id) >= 0)
		return np__err(err, NP_EINPUT, "claim '%s' in '%s': ids not sorted or repeated",
			       shown, st->path);
	rc = np__plan_from_json_value(NULL, c->plan, "", &p, &e);
	if (!rc && !np_plan_fits(p))
		rc = np__err(&e, NP_EINPUT, "the plan does not fit");
	np_plan_free(p);
	return rc ? np__err(err, rc, "claim '%s' in '%s': %s", shown, st->path, e.message) : 0;
}

/* No node of CELLS' nodes holds more memory than it has (times the RAM ratio). */
static int memory_fits(const np_host *h, const np_plan *p, struct np_error *err)
{
	double ram = 1.0;

	if (!np_host_limits(h, NULL, &ram))
		return 0; /* no limits: Nova checks no memory for floating guests */
	for (int i = 0; i < np_plan_cell_count(p); i++) {
		const struct np_host_node *n = np_host_node(h, np_plan_cell(p, i)->node_idx);

		if ((double)n->memory_used_mb > (double)n->memory_mb * ram)
			return np__err(err, NP_EINPUT, "node %d: %llu MiB claimed of %llu MiB",
				       n->os_id, (unsigned long long)n->memory_used_mb,
				       (unsigned long long)((double)n->memory_mb * ram));
	}
	return 0;
}

/* Claim I's plan, mapped onto H's topology, charged onto H: *OUT, or an error. */
static int charge_claim(const np_state *st, int i, np_host *h, np_plan **out,
			struct np_error *err)
{
	np_plan *p = NULL;
	int rc = np__plan_from_json_value(np_host_topo(h), st->claims[i].plan, "", &p, err);

	if (!rc && (rc = np_host_charge(h, p, false, err)) == 0 &&
	    (rc = memory_fits(h, p, err)) != 0)
		np_host_charge(h, p, true, NULL);
	if (rc)
		np_plan_free(p);
	else
		*out = p;
	return rc;
}

/*
 * Charge every claim of ST onto HOST with np_host_charge(), checking after
 * each that the host holds it.  A recount of its own, apart from the ledger
 * np_state_apply() keeps, so that the checker does not trust the code it
 * checks.  0 with HOST charged; or "claim 'ID' in 'FILE': why" for the
 * first that does not fit, with HOST as it was.
 */
static int state_charge(const np_state *st, np_host *host, struct np_error *err)
{
	np_plan **plans = np__calloc((size_t)st->nclaims, sizeof(*plans));
	struct np_error e;
	char shown[NP__STATE_ID_SHOWN];
	int i, rc = 0;

	if (!plans)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (i = 0; i < st->nclaims && !rc; i++)
		rc = charge_claim(st, i, host, &plans[i], &e);
	if (rc) {
		np__state_id_shown(st->claims[i - 1].id, shown, sizeof(shown));
		rc = np__err(err, rc, "claim '%s' in '%s': %s", shown, st->path, e.message);
		/* Give back what the claims before it took: HOST is as it was. */
		for (int k = i - 2; k >= 0; k--)
			np_host_charge(host, plans[k], true, NULL);
	}
	for (int k = 0; k < st->nclaims; k++)
		np_plan_free(plans[k]);
	free(plans);
	return rc;
}

/* Every claim charged onto a copy of HOST: the claims fit it together. */
static int check_on_host(const np_state *st, const np_host *host, struct np_error *err)
{
	np_host *h = NULL;
	struct np_error e;
	int rc = np_host_clone(host, &h, err);

	if (rc)
		return rc;
	if ((rc = state_charge(st, h, err)) == 0 && (rc = np_host_check(h, &e)) != 0)
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
	if (!rc)
		rc = np__state_recent_check(st, err);
	if (!rc && host)
		rc = check_on_host(st, host, err);
	return rc;
}
