/*
 * cmd-place.h - what `numaplace place` and `numaplace claim` share: the
 * options that say which host and which guest (topology source, request
 * as flavor/image text, xl vnuma, request JSON), the placement knobs
 * (strategy, memory policy, affinity, memory basis), the output format
 * with --explain and --verbose, and the steps
 * load host -> build request -> place -> validate.
 *
 * Each function prints its own error and returns the tool's exit code
 * (cli.h), so a verb just returns what it gets when it is not 0.
 */
#ifndef NP_CMD_PLACE_H
#define NP_CMD_PLACE_H

#include "cli.h"

struct place_args {
	const struct cli_verb *verb;
	struct cli_source src;
	const char *state;          /* --state FILE */
	const char *flavor, *image; /* --flavor, --image */
	const char *xl_vnuma;       /* --xl-vnuma, with --vcpus and --memory */
	long vcpus;                 /* -1: not given */
	long long memory_mb;        /* -1: not given */
	const char *request;        /* --request FILE */
	bool strategy_given, mem_policy_given, affinity_given, basis_given;
	enum np_strategy strategy;
	enum np_mem_policy mem_policy;
	enum np_affinity affinity;
	enum np_memory_basis basis;
	bool explain, verbose, validate;
	enum np_plan_format format;
	int allow_moves;            /* --allow-moves N (0: none) */
	long long move_budget;      /* hidden --move-budget: sets of moves tried (0: default) */
	const struct cli_args *args; /* for the repeated --keep ID */
};

/* Ids of the shared options; --state is each verb's own entry, with its own help. */
enum {
	PLACE_OPT_STATE = 1100,
	PLACE_OPT_FLAVOR,
	PLACE_OPT_IMAGE,
	PLACE_OPT_XL_VNUMA,
	PLACE_OPT_VCPUS,
	PLACE_OPT_MEMORY,
	PLACE_OPT_REQUEST,
	PLACE_OPT_STRATEGY,
	PLACE_OPT_MEM_POLICY,
	PLACE_OPT_AFFINITY,
	PLACE_OPT_EXPLAIN,
	PLACE_OPT_FORMAT,
	PLACE_OPT_VALIDATE,
	PLACE_OPT_MEMORY_BASIS,
	PLACE_OPT_VERBOSE,
	PLACE_OPT_ALLOW_MOVES,
	PLACE_OPT_KEEP,
	PLACE_OPT_MOVE_BUDGET,
};

/* The guest, placement and output options, with their help sections. */
extern const struct cli_opt place_guest_opts[];

/* The options A holds into P (defaults for the rest): 0 or 2 (printed). */
int place_args_get(const struct cli_args *a, struct place_args *p);
/* Check the combination of options: 0 or 2 (printed). */
int place_args_check(const struct place_args *p);
/* Build the guest's request from the options. */
int place_request(const struct place_args *p, np_request **out);
/* Load the topology and make a host on it (no usage applied; --memory-basis set). */
int place_host(const struct place_args *p, np_topo **topo, np_host **host);
/* The engine's options P asks for. */
struct np_place_opts place_opts(const struct place_args *p);
/*
 * Place REQ on HOST; validate the plan when P->validate (or in debug
 * builds): a plan failing the validator is a numaplace bug, reported and
 * exit 1.
 */
int place_plan(const struct place_args *p, const np_host *host, const np_request *req,
	       np_plan **out);
/*
 * The claims of ST as guests a placement may move (every one but those of
 * --keep), their plans mapped onto TOPO; *OUT is freed with
 * place_guests_free().  0 or the exit code (printed): a --keep naming no
 * claim is bad usage.  (place-moves.c)
 */
int place_state_guests(const struct place_args *p, const np_state *st, const np_topo *topo,
		       struct np_guest_plan **out, int *n);
void place_guests_free(struct np_guest_plan *g, int n);
/*
 * Place REQ on HOST moving at most P->allow_moves cells of GUESTS
 * (np_place_with_moves()); the plan is validated against the host after
 * its moves, as place_plan() does.  (place-moves.c)
 */
int place_plan_moves(const struct place_args *p, const np_host *host, const np_request *req,
		     const struct np_guest_plan *guests, int n, np_plan **out);

/*
 * Write PLAN in P->format to standard output.  A plan that does not fit
 * is the answer in text and JSON; the formats that configure a tool
 * (libvirt, xl, numactl) have nothing to write then: the reason goes to
 * standard error.  Returns 1 for a plan that does not fit, whatever the
 * format, so no script mistakes it for bad input (2).
 */
int place_write(const struct place_args *p, const np_plan *plan, const np_host *host,
		const np_request *req);
/* The same to OUT (claim writes to memory first, so a refusal changes nothing). */
int place_write_to(const struct place_args *p, const np_plan *plan, const np_host *host,
		   const np_request *req, FILE *out);

#endif
