/*
 * runtime-cli.h - what the runtime verbs (observe, apply, balance) share:
 * the target options (--pid, or --libvirt URI --domain NAME), the host
 * topology that goes with a target, and node lists given by kernel id.
 * Public API only.
 */
#ifndef NP_RUNTIME_CLI_H
#define NP_RUNTIME_CLI_H

#include <signal.h>
#include <stdio.h>

#include <numaplace/runtime.h>

#include "cli.h"

enum {
	RT_OPT_PID = 1200,
	RT_OPT_DOMAIN,
	APPLY_OPT_STATE = 1300,
	APPLY_OPT_MOVE_GUEST,
};

/* --pid and --domain under "Target (one of):" (--libvirt is a source option). */
extern const struct cli_opt rt_target_opts[];

/*
 * The target the options in A name (--libvirt URI is the domain's
 * connection); 0, or the usage error's exit code when not exactly one is
 * given (none is fine when OPTIONAL).
 */
int rt_target_get(const struct cli_args *a, bool optional, struct np_target *t);
/* The topology: a source option if given, else the libvirt URI of T, else this machine. */
int rt_load_topology(const struct cli_args *a, const struct np_target *t, np_topo **out);
/*
 * A node list of kernel ids ("1", "0-1,3") into node indexes of TOPO,
 * increasing, without duplicates (*IDX: free() it).  0, or prints the
 * error and returns its exit code.
 */
int rt_parse_nodes(const struct cli_verb *verb, const np_topo *topo, const char *text,
		   int **idx, int *n);

/* qsort comparator of ints, increasing. */
int rt_cmp_int(const void *x, const void *y);

/* ---- the log lines of balance and watch (logline.c) --------------- */

/* Set by SIGINT and SIGTERM once rt_catch_stop() was called. */
extern volatile sig_atomic_t rt_stop;
void rt_catch_stop(void);
/* Now as "2026-12-05T01:02:03", local time. */
void rt_log_time(char *buf, size_t size);

/* --state and --move-guest of `apply`, for a plan with moves (apply-moves.c). */
extern const struct cli_opt apply_move_opts[];
/*
 * Carry out PLAN's moves of other guests' cells, in order (BASE: the rate,
 * dry run, run directory); 0, or the exit code (printed) - then the new
 * guest must not be started.  Nothing to do for a plan without moves.
 * A --move-guest for a guest the plan does not move is a usage error.
 */
int apply_moves(const struct cli_args *a, const np_topo *topo, const np_plan *plan,
		const struct np_apply_spec *base, bool json);
/*
 * --state given with nothing to move: still a state file that opens (a
 * FIFO, a directory, a device or a link is bad input, as for every file
 * option), and no --move-guest (there is nothing to move); 0 or the exit
 * code (printed).
 */
int apply_check_state(const struct cli_args *a);

#endif
