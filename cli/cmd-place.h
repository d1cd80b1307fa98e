/*
 * cmd-place.h - what `numaplace place` and `numaplace claim` share: the
 * options that say which host and which guest (topology source, request
 * as flavor/image text, xl vnuma, request JSON, a whole libvirt domain
 * or xl.cfg), the placement knobs (strategy, memory policy, affinity,
 * memory basis), the output (format, --explain, --verbose, -o, the
 * document merged, --in-place), and the steps
 * load host -> build request -> place -> validate -> render -> deliver.
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
	const char *domain_xml;     /* --domain-xml FILE */
	const char *xl_config;      /* --xl-config FILE */
	char *doc;                  /* that document's text (place_read_doc), or NULL */
	size_t doclen;
	bool device_policy_given;
	enum np_pci_policy device_policy; /* --device-policy, for the document's devices */
	const char *output;         /* -o FILE, or NULL: standard output */
	bool in_place;              /* --in-place: the document is replaced */
	bool strategy_given, mem_policy_given, affinity_given, basis_given;
	enum np_strategy strategy;
	enum np_mem_policy mem_policy;
	enum np_affinity affinity;
	enum np_memory_basis basis;
	bool explain, verbose, validate;
	bool format_given;
	enum np_plan_format format;
	int allow_moves;            /* --allow-moves N (0: none) */
	long long move_budget;      /* --move-budget: sets of moves tried (0: default) */
	uint64_t move_us;           /* --move-time-budget, in microseconds (0: none) */
	uint64_t max_steps, max_us; /* --max-steps, --time-budget: the engine's budgets */
	bool no_demand;             /* --no-demand */
	const char *flavors;        /* --flavors FILE: the catalogue kept room for */
	struct place_demand *demand; /* with --state: the claims' demand (place_state_demand()) */
	int lookahead;              /* --lookahead N: futures per candidate (0: none) */
	int lookahead_depth;        /* --lookahead-depth (0: until the first refusal) */
	uint64_t lookahead_seed;    /* --lookahead-seed (default 1) */
	uint64_t lookahead_budget;  /* --lookahead-budget: guests tried in futures (0: no limit) */
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
	PLACE_OPT_DOMAIN_XML,
	PLACE_OPT_XL_CONFIG,
	PLACE_OPT_DEVICE_POLICY,
	PLACE_OPT_OUTPUT,
	PLACE_OPT_IN_PLACE,
	PLACE_OPT_MAX_STEPS,
	PLACE_OPT_TIME_BUDGET,
	PLACE_OPT_MOVE_TIME,
	PLACE_OPT_NO_DEMAND,
	PLACE_OPT_FLAVORS,
	PLACE_OPT_LOOKAHEAD,
	PLACE_OPT_LOOKAHEAD_DEPTH,
	PLACE_OPT_LOOKAHEAD_SEED,
	PLACE_OPT_LOOKAHEAD_BUDGET,
};

/* The demand np_place() keeps room for (docs/policies/placement.md 4, term 6). */
struct place_demand {
	int n;
	struct np_demand shape[NP_DEMAND_MAX];
	np_flavors *flavors; /* --flavors, loaded once: the demand's and --lookahead's */
};

/* The guest, placement and output options, with their help sections. */
extern const struct cli_opt place_guest_opts[];
/*
 * Parts of it other verbs take too (schedule): the whole documents
 * (--domain-xml, --xl-config, --device-policy) and where the output goes
 * (-o, --in-place).
 */
extern const struct cli_opt place_doc_opts[], place_output_opts[];
/* The searches' budgets (--max-steps, --time-budget, --move-budget, --move-time-budget). */
extern const struct cli_opt place_budget_opts[];
void place_budget_args_get(const struct cli_args *a, struct place_args *p);

/* The options A holds into P (defaults for the rest): 0 or 2 (printed). */
int place_args_get(const struct cli_args *a, struct place_args *p);
/* Check the combination of options: 0 or 2 (printed). */
int place_args_check(const struct place_args *p);
/* Only the options of place_doc_opts and place_output_opts, into P. */
void place_doc_args_get(const struct cli_args *a, struct place_args *p);
/* Their combination: one document, what may come with it, --in-place; 0 or 2 (printed). */
int place_doc_check(const struct place_args *p);
/*
 * Read the document of --domain-xml or --xl-config, if any, into P->doc
 * (place_args_free() frees it): before place_request(), which may take the
 * guest from it, and the writing, which merges the plan into it.
 */
int place_read_doc(struct place_args *p);
void place_args_free(struct place_args *p);
/* Build the guest's request from the options. */
int place_request(const struct place_args *p, np_request **out);
/* Load the topology and make a host on it (no usage applied; --memory-basis set). */
int place_host(const struct place_args *p, np_topo **topo, np_host **host);
/*
 * P->demand: with --state (and no --no-demand) the claims of ST
 * (np_state_demand(); ST NULL: none) and REQ, the guest being placed;
 * with --flavors, the catalogue on top (np_demand_add_flavors(), the
 * shared rule; with --no-demand, alone), and the catalogue itself kept
 * for --lookahead.  Free it with place_demand_free().  0 or the exit code (printed).
 */
int place_state_demand(struct place_args *p, const np_state *st, const np_request *req);
void place_demand_free(struct place_args *p);
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
 * Write PLAN in P->format to OUT, or, with a document and no --format,
 * the document with PLAN merged in.  A plan that does not fit is the
 * answer in text and JSON; the formats that configure a tool (libvirt,
 * xl, numactl, the documents) have nothing to write then: the reason goes
 * to standard error.  Returns 1 for a plan that does not fit, whatever
 * the format, so no script mistakes it for bad input (2).
 */
int place_write_to(const struct place_args *p, const np_plan *plan, const np_host *host,
		   const np_request *req, FILE *out);
/*
 * place_write_to() into memory: *BUF (free it) and *LEN, and the exit
 * code (claim renders before it records, so a refusal changes nothing).
 */
int place_render(const struct place_args *p, const np_plan *plan, const np_host *host,
		 const np_request *req, char **buf, size_t *len);
/*
 * Where the output goes: -o FILE (- or none: standard output), or with
 * --in-place the document's own file, replaced atomically.  0 or 1 (printed).
 */
int place_deliver(const struct place_args *p, const char *buf, size_t len);
/* Render and deliver: what `place` prints; RC as place_write_to()'s. */
int place_write(const struct place_args *p, const np_plan *plan, const np_host *host,
		const np_request *req);

#endif
