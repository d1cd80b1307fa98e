/*
 * apply-moves.c - `numaplace apply --plan` of a plan with moves (from
 * `place` or `claim --allow-moves`): the moved guests' cells are moved
 * first, each with the runtime's rate-limited migration, then the new
 * guest is started or applied (cmd-apply.c).
 *
 * A moved guest's whole plan comes from the state file (--state): after
 * `claim --allow-moves` it is the new plan already; after `place
 * --allow-moves --state` the old one, which the move is applied to.  The
 * guest is reached by --move-guest ID=pid:N or ID=domain:NAME (a domain
 * through --libvirt URI), or by an id that is itself "pid:N" or
 * "domain:NAME".  Every guest is resolved before anything changes.
 *
 * For each move, in the plan's order: the guest's vCPUs get the affinity
 * of its new plan (pins, or its nodes' CPUs), then its memory on the node
 * the cell leaves moves to the node it goes to (move_pages, at --rate).
 * A move that fails stops there: the moves done stay done (each left its
 * guest in a placement the state already records, and moving back costs
 * the same again and may fail too), the new guest is not started (its
 * memory would land where the failed move's cell still is), and the
 * command says which moves were done; `apply` can be run again: a move
 * already done finds no memory left to move.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime-cli.h"

const struct cli_opt apply_move_opts[] = {
	{ .id = APPLY_OPT_STATE, .name = "state", .type = CLI_FILE,
	  .heading = "Moves (a plan that moves other guests' cells first):",
	  .help = "the state the plan was claimed in (or placed against):\n"
		  "the moved guests' plans come from it" },
	{ .id = APPLY_OPT_MOVE_GUEST, .name = "move-guest", .type = CLI_TEXT,
	  .flags = CLI_REPEAT, .meta = "ID=TARGET",
	  .help = "where moved guest ID runs: pid:N, or domain:NAME (with\n"
		  "--libvirt URI); an ID that is itself pid:N or domain:NAME\n"
		  "needs none" },
	CLI_OPT_END,
};

struct mover {
	const char *id;
	struct np_target t;
	char domain[256];
	np_plan *plan; /* the guest's plan after the moves */
};

/* TEXT "pid:N" or "domain:NAME" into *M's target; false when it is neither. */
static bool parse_target(const char *text, const char *uri, struct mover *m)
{
	long long pid;

	if (strncmp(text, "pid:", 4) == 0) {
		if (!cli_decimal(text + 4, 1, 1 << 22, &pid))
			return false;
		m->t.pid = (int)pid;
		return true;
	}
	if (strncmp(text, "domain:", 7) == 0 && text[7] && uri &&
	    strlen(text + 7) < sizeof(m->domain)) {
		snprintf(m->domain, sizeof(m->domain), "%s", text + 7);
		m->t = (struct np_target){ 0, uri, m->domain };
		return true;
	}
	return false;
}

/* Where guest M->id runs: --move-guest ID=..., else the id itself. */
static int resolve(const struct cli_args *a, struct mover *m)
{
	const char *uri = cli_text(a, CLI_OPT_LIBVIRT);
	size_t n = strlen(m->id);

	for (int i = 0; i < cli_count(a, APPLY_OPT_MOVE_GUEST); i++) {
		const char *v = cli_nth(a, APPLY_OPT_MOVE_GUEST, i);

		if (strncmp(v, m->id, n) == 0 && v[n] == '=') {
			if (parse_target(v + n + 1, uri, m))
				return CLI_OK;
			return cli_usage_error(a->verb, "--move-guest %s: expected ID=pid:N or "
					       "ID=domain:NAME (a domain with --libvirt URI)", v);
		}
	}
	if (parse_target(m->id, uri, m))
		return CLI_OK;
	return cli_usage_error(a->verb, "the plan moves guest '%s': say where it runs with "
			       "--move-guest '%s=pid:N' (or domain:NAME with --libvirt URI)",
			       m->id, m->id);
}

/* Guest M's plan after the moves, from its claim in ST (moved already, or not yet). */
static int moved_plan(const np_state *st, const np_topo *topo, const np_plan *plan,
		      struct mover *m)
{
	struct np_error err = { 0 }, e2 = { 0 };
	np_plan *now = NULL;
	bool done = true;

	if (np_state_claim_plan(st, m->id, topo, &now, &err))
		return cli_fail(&err);
	if (np_plan_after_moves(plan, topo, m->id, now, &m->plan, &e2) == 0) {
		np_plan_free(now);
		return CLI_OK;
	}
	/* Claimed with its moves: every moved cell is where the move takes it. */
	for (int i = 0; i < np_plan_move_count(plan); i++) {
		const struct np_plan_move *mv = np_plan_move(plan, i);

		if (strcmp(mv->guest, m->id) != 0)
			continue;
		for (int c = 0; c < np_plan_cell_count(now); c++)
			if (np_plan_cell(now, c)->guest_cell == mv->cell.guest_cell)
				done &= np_plan_cell(now, c)->node_idx == mv->cell.node_idx;
	}
	if (done) {
		m->plan = now;
		return CLI_OK;
	}
	np_plan_free(now);
	return cli_fail(&e2);
}

/* Each --move-guest ID=... names a guest PLAN (NULL: none) moves: a typo is not ignored. */
static int unused_move_guests(const struct cli_args *a, const np_plan *plan)
{
	for (int i = 0; i < cli_count(a, APPLY_OPT_MOVE_GUEST); i++) {
		const char *v = cli_nth(a, APPLY_OPT_MOVE_GUEST, i), *eq = strchr(v, '=');
		bool moved = false;

		for (int k = 0; plan && eq && k < np_plan_move_count(plan); k++) {
			const char *g = np_plan_move(plan, k)->guest;

			moved |= strlen(g) == (size_t)(eq - v) && strncmp(g, v, (size_t)(eq - v)) == 0;
		}
		if (!moved)
			return cli_usage_error(a->verb, "--move-guest %s: the plan moves no guest %s",
					       v, eq ? "of that id" : "(expected ID=pid:N or ID=domain:NAME)");
	}
	return CLI_OK;
}

int apply_check_state(const struct cli_args *a)
{
	struct np_error err = { 0 };
	const char *path = cli_text(a, APPLY_OPT_STATE);
	np_state *st = NULL;

	if (unused_move_guests(a, NULL))
		return CLI_BAD_INPUT;
	if (!path)
		return CLI_OK;
	if (np_state_open(path, true, &st, &err))
		return cli_fail(&err);
	np_state_close(st);
	return CLI_OK;
}

/* The distinct moved guests of PLAN, resolved, with their plans; *N of them. */
static int movers(const struct cli_args *a, const np_topo *topo, const np_plan *plan,
		  struct mover *ms, int *n)
{
	struct np_error err = { 0 };
	const char *path = cli_text(a, APPLY_OPT_STATE);
	np_state *st = NULL;
	int rc = CLI_OK, k = 0;

	if (!path)
		return cli_usage_error(a->verb, "the plan moves other guests' cells first: give "
				       "--state FILE, the state it was claimed in");
	if (np_state_open(path, true, &st, &err))
		return cli_fail(&err);
	for (int i = 0; i < np_plan_move_count(plan) && !rc; i++) {
		const char *id = np_plan_move(plan, i)->guest;
		bool seen = false;

		for (int j = 0; j < k && !seen; j++)
			seen = strcmp(ms[j].id, id) == 0;
		if (seen)
			continue;
		ms[k].id = id;
		rc = resolve(a, &ms[k]);
		if (!rc)
			rc = moved_plan(st, topo, plan, &ms[k]);
		k++;
	}
	np_state_close(st);
	*n = k;
	return rc;
}

/* The spec of move MV of guest M: its new plan's nodes and pins, that cell's memory. */
static int move_spec(const np_topo *topo, const struct mover *m, const struct np_plan_move *mv,
		     const struct np_apply_spec *base, struct np_apply_spec *s,
		     struct np_rt_pin **pins)
{
	int np = 0, total = 0;

	for (int c = 0; c < np_plan_cell_count(m->plan); c++)
		total += np_plan_cell(m->plan, c)->npins;
	*pins = calloc((size_t)total + 1, sizeof(**pins));
	if (!*pins)
		return cli_oom();
	for (int c = 0; c < np_plan_cell_count(m->plan); c++) {
		const struct np_plan_cell *cell = np_plan_cell(m->plan, c);

		for (int i = 0; i < cell->npins; i++)
			(*pins)[np++] = (struct np_rt_pin){ cell->pins[i].vcpu, cell->pins[i].pcpu };
	}
	*s = (struct np_apply_spec){ 0 };
	s->nnodes = np_plan_nodeset(m->plan, &s->nodes);
	s->affinity = np_plan_affinity(m->plan);
	s->pins = *pins;
	s->npins = np;
	s->migrate = true;
	s->rate_mb_s = base->rate_mb_s;
	s->dry_run = base->dry_run;
	s->run_dir = base->run_dir;
	s->move_cell = true;
	s->move_from = mv->from_idx;
	s->move_to = mv->cell.node_idx;
	(void)topo;
	return CLI_OK;
}

static void say(const np_topo *topo, int i, int n, const struct mover *m,
		const struct np_plan_move *mv, const struct np_apply_result *r, bool dry, bool json)
{
	int from = np_topo_node(topo, mv->from_idx)->os_id;
	int to = np_topo_node(topo, mv->cell.node_idx)->os_id;

	if (json) {
		printf("{\"move\":%d,\"guest\":\"", i + 1);
		for (const char *p = m->id; *p; p++)
			printf((unsigned char)*p < 0x20 ? "\\u%04x" : *p == '"' || *p == '\\' ? "\\%c"
										    : "%c",
			       *p);
		printf("\",\"from\":%d,\"to\":%d,\"memory_mb\":%llu,\"moved_kb\":%llu,"
		       "\"failed_pages\":%llu,\"seconds\":%.6f}\n", from, to,
		       (unsigned long long)mv->cell.memory_mb, (unsigned long long)r->moved_kb,
		       (unsigned long long)r->failed_pages, r->seconds);
		return;
	}
	printf("%smove %d of %d: guest '%s' cell %d from node %d to node %d (%llu MiB)\n",
	       dry ? "would: " : "", i + 1, n, m->id, mv->cell.guest_cell, from, to,
	       (unsigned long long)mv->cell.memory_mb);
	for (int k = 0; k < r->nsteps; k++)
		printf("%s  %s\n", dry ? "would: " : "", r->steps[k]);
	if (!dry)
		printf("  moved %.1f MiB in %.3f s, %llu pages not moved\n",
		       (double)r->moved_kb / 1024.0, r->seconds, (unsigned long long)r->failed_pages);
}

static const struct mover *mover_of(const struct mover *ms, int n, const char *id)
{
	for (int i = 0; i < n; i++)
		if (strcmp(ms[i].id, id) == 0)
			return &ms[i];
	return NULL;
}

/* Carry out move I; on failure say what was done and what not. */
static int one_move(const np_topo *topo, const np_plan *plan, int i, const struct mover *ms,
		    int n, const struct np_apply_spec *base, bool json)
{
	const struct np_plan_move *mv = np_plan_move(plan, i);
	const struct mover *m = mover_of(ms, n, mv->guest);
	struct np_apply_result r = { 0 };
	struct np_error err = { 0 };
	struct np_apply_spec s;
	struct np_rt_pin *pins = NULL;
	int rc = move_spec(topo, m, mv, base, &s, &pins);

	if (!rc && np_apply(topo, &m->t, &s, &r, &err)) {
		cli_error("move %d of %d (guest '%s') failed: %s; %d move%s done before it "
			  "stay%s done, the new guest is not started; run apply again when the "
			  "cause is fixed", i + 1, np_plan_move_count(plan), m->id, err.message,
			i, i == 1 ? "" : "s", i == 1 ? "s" : "");
		rc = cli_exit_code(err.code);
	} else if (!rc) {
		say(topo, i, np_plan_move_count(plan), m, mv, &r, base->dry_run, json);
	}
	np_apply_result_free(&r);
	free(pins);
	return rc;
}

int apply_moves(const struct cli_args *a, const np_topo *topo, const np_plan *plan,
		const struct np_apply_spec *base, bool json)
{
	int n = 0, rc, count = np_plan_move_count(plan);
	struct mover *ms;

	if ((rc = unused_move_guests(a, plan)) || count == 0)
		return rc;
	ms = calloc((size_t)count, sizeof(*ms));
	if (!ms)
		return cli_oom();
	rc = movers(a, topo, plan, ms, &n);
	for (int i = 0; i < count && !rc; i++)
		rc = one_move(topo, plan, i, ms, n, base, json);
	for (int i = 0; i < n; i++)
		np_plan_free(ms[i].plan);
	free(ms);
	return rc;
}
