/*
 * balance-int.h - the live balancer's policy (balance-policy.c), shared
 * with the loop (balance-loop.c).  The policy limits what the balancer may
 * touch; the decision itself is np_balance_decide() (lib/balance/decide.c),
 * pure.
 */
#ifndef NP_BALANCE_INT_H
#define NP_BALANCE_INT_H

#include "runtime/rt-int.h"

struct np__bal_policy {
	char **touch;          /* "pid:N", "domain:NAME", "*"; none: all */
	int ntouch;
	char **never;
	int nnever;
	bool may_migrate, may_repin;
	bool *node_ok;         /* per node index: may be a target */
	double rate_mb_s;      /* page migration limit; 0 none */
	struct np_bal_params params;
	char **uris;           /* "libvirt": the connections domain preferences may name */
	int nuris;
	bool trusted;          /* the file: owned by root or us, writable by no one else */
	char why[112];         /* why it is not */
};

/* Fill POL from the JSON file PATH (NULL: leave the defaults in POL). */
int np__bal_policy_load(const np_topo *topo, const char *path, struct np__bal_policy *pol,
			struct np_error *err);
void np__bal_policy_free(struct np__bal_policy *pol);
/* Whether the policy lets the balancer act on LABEL ("pid:12", "domain:web"). */
bool np__bal_policy_touches(const struct np__bal_policy *pol, const char *label);

/* np_balancer_new() through the OS boundary OS (tests pass a fake one). */
int np__balancer_new_os(const struct np__rt_os *os, const np_topo *topo, const char *run_dir,
			const char *policy, np_balancer **out, struct np_error *err);

#endif
