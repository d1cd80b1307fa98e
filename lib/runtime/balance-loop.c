/*
 * balance-loop.c - the live balancer behind `numaplace balance`: each step
 * reads the soft preferences (prefs.c), observes those guests and the
 * host, asks np_balance_decide() what to do, and does it.
 *
 * Design: the decision is pure (lib/balance/decide.c); this file only keeps the
 * history the decision needs between steps - since when each vCPU has been
 * away from home, which vCPUs it rescue-pinned and when, each guest's CPU
 * time for its demand - and carries out the actions through the OS
 * boundary or libvirt.  Cooldowns outlive the process: a home change is
 * stamped into the preference file (last_action_ms, wall clock).
 *
 * A guest is a process (its vCPU threads if it is QEMU, else all its
 * threads) or a libvirt domain (its vCPUs).  A process that ended, or
 * whose pid now belongs to another process, has its preference removed.
 *
 * Trust: the balancer usually runs as root, and every preference is a
 * request to act on someone's process.  It refuses to start on a run
 * directory that is not its user's own or that others may write
 * (prefs.c), and honours a preference only when the file's owner may
 * control the target: root, or the process's owner (its real, effective
 * and saved uids all that user); for a domain, root or the balancer's own
 * user.  A domain preference is honoured only for a libvirt URI given to
 * the balancer (np_balancer_allow_uri(): the command line, or the policy's
 * "libvirt" from a file only root may write), never one that only the
 * preference names.  Each refused preference is logged once, as a skip.
 *
 * Ownership: the balancer owns copies of the preferences and the latest
 * observation of each guest; it does not own the topology.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/balance-int.h"

struct vtrack {
	int tid;             /* thread id; 0 for a domain vCPU */
	int id;              /* what np_balance_decide calls it: vCPU or tid */
	uint64_t away_since; /* monotonic ms first seen away; 0 at home */
	bool pinned;         /* rescue-pinned by us */
	uint64_t pinned_at;
};

struct guest {
	struct np__pref pref;
	char label[80];     /* "pid:12", "domain:web" */
	np_obs *obs;
	uint64_t prev_cpu_ms, prev_time;
	double demand;
	struct vtrack *v;
	int nv;
	bool alive;
	int home[64];
	int nhome;
	uint64_t *mem_mb;   /* per node index */
};

struct np_balancer {
	const np_topo *topo;
	const struct np__rt_os *os;
	char *run_dir;
	struct np__bal_policy pol;
	struct guest *g;
	int ng;
	int *wide, nwide;
	int looked;
	char **uris;	      /* libvirt URIs domain preferences may name */
	int nuris;
	char **refused;	      /* preferences refused and logged so far (paths) */
	int nrefused;
	char only[80];	      /* np_balancer_target(): the one guest label, "" all */
	char *only_uri;	      /* its libvirt URI (a domain), or NULL */
	bool only_missing;    /* logged that it has no preference */
};

static void guest_free(struct guest *g)
{
	np__pref_free(&g->pref);
	np_obs_free(g->obs);
	free(g->v);
	free(g->mem_mb);
	memset(g, 0, sizeof(*g));
}

void np_balancer_free(np_balancer *b)
{
	if (!b)
		return;
	for (int i = 0; i < b->ng; i++)
		guest_free(&b->g[i]);
	free(b->g);
	free(b->wide);
	free(b->run_dir);
	for (int i = 0; i < b->nuris; i++)
		free(b->uris[i]);
	free(b->uris);
	for (int i = 0; i < b->nrefused; i++)
		free(b->refused[i]);
	free(b->refused);
	free(b->only_uri);
	np__bal_policy_free(&b->pol);
	free(b);
}

int np__balancer_new_os(const struct np__rt_os *os, const np_topo *topo, const char *run_dir,
			const char *policy, np_balancer **out, struct np_error *err)
{
	np_balancer *b = calloc(1, sizeof(*b));
	int nn = np_topo_node_count(topo), rc, dfd = -1;

	if (!b || !(b->pol.node_ok = np__calloc((size_t)nn + 1, sizeof(bool))) ||
	    !(b->run_dir = strdup(np__run_dir(run_dir))) || np__all_cpus(topo, &b->wide, &b->nwide)) {
		np_balancer_free(b);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	b->topo = topo;
	b->os = os;
	b->pol.may_migrate = b->pol.may_repin = true;
	for (int i = 0; i < nn; i++)
		b->pol.node_ok[i] = true;
	np_bal_params_default(&b->pol.params);
	rc = np__bal_policy_load(topo, policy, &b->pol, err);
	/* A run directory others may write: refuse to start. */
	if (!rc)
		rc = np__run_dir_open(run_dir, NP__RUN_TRUSTED, &dfd, err);
	if (dfd >= 0)
		close(dfd);
	for (int i = 0; !rc && i < b->pol.nuris; i++)
		rc = np_balancer_allow_uri(b, b->pol.uris[i], err);
	if (rc) {
		np_balancer_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int np_balancer_allow_uri(np_balancer *b, const char *uri, struct np_error *err)
{
	char **u;

	if (!b || !uri || !*uri)
		return np__err(err, NP_EINPUT, "balancer: no libvirt URI");
	for (int i = 0; i < b->nuris; i++)
		if (strcmp(b->uris[i], uri) == 0)
			return 0;
	u = realloc(b->uris, ((size_t)b->nuris + 1) * sizeof(*u));
	if (!u)
		return np__err(err, NP_ENOMEM, "out of memory");
	b->uris = u;
	if (!(u[b->nuris] = strdup(uri)))
		return np__err(err, NP_ENOMEM, "out of memory");
	b->nuris++;
	return 0;
}

int np_balancer_target(np_balancer *b, const struct np_target *t, struct np_error *err)
{
	long uid[3];

	if (!b || !t || (t->pid <= 0 && (!t->uri || !t->domain || !*t->domain)))
		return np__err(err, NP_EINPUT, "balancer: give a pid, or a libvirt URI and domain");
	if (t->pid > 0 && np__proc_uids(b->os, t->pid, uid) != 0)
		return np__err(err, NP_EINPUT, "no process %d", t->pid);
	if (t->pid > 0) {
		snprintf(b->only, sizeof(b->only), "pid:%d", t->pid);
		return 0;
	}
	if (strlen(t->domain) + 8 > sizeof(b->only))
		return np__err(err, NP_EINPUT, "domain name too long (over %zu bytes)",
			       sizeof(b->only) - 8);
	free(b->only_uri);
	if (!(b->only_uri = strdup(t->uri)))
		return np__err(err, NP_ENOMEM, "out of memory");
	snprintf(b->only, sizeof(b->only), "domain:%s", t->domain);
	return np_balancer_allow_uri(b, t->uri, err);
}

int np_balancer_new(const np_topo *topo, const char *run_dir, const char *policy_path,
		    np_balancer **out, struct np_error *err)
{
	const struct np__rt_os *os;
	int rc;

	if (!topo || !out)
		return np__err(err, NP_EINPUT, "balancer: missing topology");
	if ((rc = np__rt_os(&os, err)))
		return rc;
	return np__balancer_new_os(os, topo, run_dir, policy_path, out, err);
}

const struct np_bal_params *np_balancer_params(const np_balancer *b) { return &b->pol.params; }
int np_balancer_guest_count(const np_balancer *b) { return b->looked; }

/* ---- logging -------------------------------------------------------- */

static void say(np_bal_log_fn *log, void *ctx, const struct guest *g, const char *kind,
		int vcpu, int from_os, int to_os, uint64_t mb, const char *reason, bool done,
		const char *error)
{
	struct np_bal_log e = { .kind = kind, .vcpu = vcpu, .from_os = from_os, .to_os = to_os,
				.mb = mb, .done = done };

	if (!log)
		return;
	snprintf(e.guest, sizeof(e.guest), "%s", g->label);
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	snprintf(e.error, sizeof(e.error), "%s", error ? error : "");
	log(ctx, &e);
}

/* ---- keeping the guest list ----------------------------------------- */

static void label_of(const struct np__pref *p, char *buf, size_t size)
{
	if (p->domain)
		snprintf(buf, size, "domain:%s", p->name);
	else
		snprintf(buf, size, "pid:%d", p->pid);
}

static struct guest *find_guest(np_balancer *b, const char *path)
{
	for (int i = 0; i < b->ng; i++)
		if (strcmp(b->g[i].pref.path, path) == 0)
			return &b->g[i];
	return NULL;
}

static bool same_nodes(const struct np__pref *a, const struct np__pref *b)
{
	return a->nnodes == b->nnodes && !memcmp(a->nodes, b->nodes, (size_t)a->nnodes * sizeof(int));
}

/* Take PREF (moved into the guest list). */
static int adopt(np_balancer *b, struct np__pref *p)
{
	struct guest *g = find_guest(b, p->path), *ng;

	if (g) {
		if (!same_nodes(&g->pref, p))
			for (int i = 0; i < g->nv; i++)
				g->v[i].away_since = 0; /* new home: start over */
		np__pref_free(&g->pref);
		g->pref = *p;
		g->alive = true;
		return 0;
	}
	ng = realloc(b->g, ((size_t)b->ng + 1) * sizeof(*ng));
	if (!ng)
		return NP_ENOMEM;
	b->g = ng;
	g = &b->g[b->ng++];
	memset(g, 0, sizeof(*g));
	g->pref = *p;
	g->alive = true;
	label_of(p, g->label, sizeof(g->label));
	return 0;
}

static int pin_cpus(np_balancer *b, struct guest *g, struct vtrack *v, const int *cpus, int n,
		    struct np_error *err)
{
	int rc;

	if (g->pref.domain)
		return np__domain_pin(b->topo, g->pref.uri, g->pref.name, v->id, cpus, n, err);
	rc = b->os->set_affinity(v->tid, cpus, n);
	return rc ? np__err(err, NP_EOS, "cannot set the affinity of thread %d: %s", v->tid,
			    strerror(-rc)) : 0;
}

/* The node (os id) vCPU V was last seen on, or -1: a restore's log says it. */
static int seen_on(const np_balancer *b, const struct guest *g, const struct vtrack *v)
{
	for (int i = 0; g->obs && i < g->obs->nthreads; i++) {
		const struct np_rt_thread *t = &g->obs->threads[i];

		if ((t->vcpu >= 0 ? t->vcpu : t->tid) == v->id && t->node_idx >= 0)
			return np_topo_node(b->topo, t->node_idx)->os_id;
	}
	return -1;
}

static void unpin_all(np_balancer *b, struct guest *g, np_bal_log_fn *log, void *ctx)
{
	for (int i = 0; i < g->nv; i++) {
		struct np_error e = { 0 };
		int rc;

		if (!g->v[i].pinned)
			continue;
		rc = pin_cpus(b, g, &g->v[i], b->wide, b->nwide, &e);
		g->v[i].pinned = false;
		say(log, ctx, g, np_bal_kind_name(NP_BAL_RESTORE_SOFT), g->v[i].id,
		    seen_on(b, g, &g->v[i]), -1, 0, "balancer stops: back to soft affinity",
		    rc == 0, e.message);
	}
}

static void drop_guest(np_balancer *b, int i, np_bal_log_fn *log, void *ctx)
{
	unpin_all(b, &b->g[i], log, ctx);
	guest_free(&b->g[i]);
	b->g[i] = b->g[--b->ng];
}

/* Why P may not be honoured (see the top of the file), into WHY; false if it may. */
static bool refused(const np_balancer *b, const struct np__pref *p, char *why, size_t size)
{
	long uid[3];
	bool ok = false;

	if (p->domain) {
		for (int i = 0; i < b->nuris; i++)
			ok = ok || strcmp(b->uris[i], p->uri) == 0;
		if (!ok) {
			snprintf(why, size, "its libvirt URI '%.60s' was not given to the balancer "
				 "(--libvirt, or \"libvirt\" in a root-owned policy)", p->uri);
			return true;
		}
		if (p->owner != 0 && p->owner != (unsigned)geteuid()) {
			snprintf(why, size, "its file is owned by uid %u, not root or this user",
				 p->owner);
			return true;
		}
		return false;
	}
	if (p->owner == 0 || np__proc_uids(b->os, p->pid, uid) != 0)
		return false; /* root's, or no such process: observing drops it */
	if (uid[0] == (long)p->owner && uid[1] == (long)p->owner && uid[2] == (long)p->owner)
		return false;
	snprintf(why, size, "its file is owned by uid %u, who may not control process %d (uid %ld)",
		 p->owner, p->pid, uid[0] != (long)p->owner ? uid[0] : uid[1] != (long)p->owner
								 ? uid[1] : uid[2]);
	return true;
}

/* Log once that the preference P is refused; false when out of memory. */
static bool note_refused(np_balancer *b, const struct np__pref *p, const char *why,
			 np_bal_log_fn *log, void *ctx)
{
	struct guest g = { 0 };
	char **r;

	for (int i = 0; i < b->nrefused; i++)
		if (strcmp(b->refused[i], p->path) == 0)
			return true;
	if (!(r = realloc(b->refused, ((size_t)b->nrefused + 1) * sizeof(*r))))
		return false;
	b->refused = r;
	if (!(r[b->nrefused] = strdup(p->path)))
		return false;
	b->nrefused++;
	label_of(p, g.label, sizeof(g.label));
	say(log, ctx, &g, "skip", -1, -1, -1, 0, "preference not honoured", false, why);
	return true;
}

/* P is the guest np_balancer_target() named (or none was named). */
static bool is_target(const np_balancer *b, const struct np__pref *p, const char *label)
{
	if (!b->only[0])
		return true;
	return strcmp(label, b->only) == 0 &&
	       (!p->domain || (b->only_uri && strcmp(p->uri, b->only_uri) == 0));
}

/* The one target has no preference: say so once (what balance would need). */
static void note_missing(np_balancer *b, np_bal_log_fn *log, void *ctx)
{
	struct guest g = { 0 };

	for (int i = 0; i < b->ng; i++)
		if (strcmp(b->g[i].label, b->only) == 0)
			return;
	if (!b->only[0] || b->only_missing)
		return;
	b->only_missing = true;
	snprintf(g.label, sizeof(g.label), "%s", b->only);
	say(log, ctx, &g, "skip", -1, -1, -1, 0, "no soft preference recorded for it "
	    "(numaplace apply --affinity soft records one); nothing to keep", false, NULL);
}

static int refresh_list(np_balancer *b, np_bal_log_fn *log, void *ctx, struct np_error *err)
{
	struct np__pref *list = NULL;
	int n = 0, rc = np__pref_list(b->run_dir, &list, &n, err);

	if (rc)
		return rc;
	for (int i = 0; i < b->ng; i++)
		b->g[i].alive = false;
	for (int i = 0; i < n; i++) {
		char label[80];

		char why[200];

		label_of(&list[i], label, sizeof(label));
		if (!np__bal_policy_touches(&b->pol, label) || !is_target(b, &list[i], label))
			continue;
		if (refused(b, &list[i], why, sizeof(why))) {
			b->only_missing = true; /* it has one, refused: said so below */
			if (!note_refused(b, &list[i], why, log, ctx)) {
				np__pref_list_free(list, n);
				return np__err(err, NP_ENOMEM, "out of memory");
			}
			continue;
		}
		if (adopt(b, &list[i])) {
			np__pref_list_free(list, n);
			return np__err(err, NP_ENOMEM, "out of memory");
		}
		memset(&list[i], 0, sizeof(list[i])); /* moved */
	}
	np__pref_list_free(list, n);
	for (int i = b->ng - 1; i >= 0; i--)
		if (!b->g[i].alive)
			drop_guest(b, i, log, ctx);
	note_missing(b, log, ctx);
	return 0;
}

/* ---- observing ------------------------------------------------------ */

static int observe(np_balancer *b, struct guest *g, struct np_error *err)
{
	np_obs *obs = NULL;
	int rc = g->pref.domain
			 ? np__observe_domain(b->os, b->topo, g->pref.uri, g->pref.name, &obs, err)
			 : np__observe_process(b->os, b->topo, g->pref.pid, &obs, err);
	uint64_t cpu = 0;

	if (rc)
		return rc;
	if (!g->pref.domain && g->pref.start_ticks && obs->start_ticks != g->pref.start_ticks) {
		np_obs_free(obs);
		return np__err(err, NP_EINPUT, "process %d is not the one the preference was "
			       "made for", g->pref.pid);
	}
	for (int i = 0; i < obs->nthreads; i++)
		cpu += obs->threads[i].cpu_ms;
	if (g->prev_time && obs->time_ms > g->prev_time && cpu >= g->prev_cpu_ms) {
		g->demand = (double)(cpu - g->prev_cpu_ms) / (double)(obs->time_ms - g->prev_time);
	} else {
		g->demand = 0;
		for (int i = 0; i < obs->nthreads; i++)
			g->demand += obs->threads[i].state == 'R';
	}
	g->prev_cpu_ms = cpu;
	g->prev_time = obs->time_ms;
	np_obs_free(g->obs);
	g->obs = obs;
	return 0;
}

static bool has_vcpus(const np_obs *o)
{
	for (int i = 0; i < o->nthreads; i++)
		if (o->threads[i].vcpu >= 0)
			return true;
	return false;
}

static struct vtrack *track(struct guest *g, int tid, int id)
{
	struct vtrack *v;

	for (int i = 0; i < g->nv; i++)
		if (g->v[i].id == id)
			return &g->v[i];
	v = realloc(g->v, ((size_t)g->nv + 1) * sizeof(*v));
	if (!v)
		return NULL;
	g->v = v;
	v = &g->v[g->nv++];
	memset(v, 0, sizeof(*v));
	v->tid = tid;
	v->id = id;
	return v;
}

static bool at_home(const struct guest *g, int node_idx)
{
	for (int i = 0; i < g->nhome; i++)
		if (g->home[i] == node_idx)
			return true;
	return false;
}

/* Home indexes and memory per node of G, for the decision. */
static int guest_input(np_balancer *b, struct guest *g, uint64_t wall,
		       struct np_bal_guest *out)
{
	int nn = np_topo_node_count(b->topo);

	g->nhome = 0;
	for (int i = 0; i < g->pref.nnodes && g->nhome < 64; i++) {
		int idx = np_topo_node_index(b->topo, g->pref.nodes[i]);

		if (idx >= 0 && !at_home(g, idx))
			g->home[g->nhome++] = idx;
	}
	for (int i = 1; i < g->nhome; i++) /* increasing, as the decision wants */
		for (int j = i; j > 0 && g->home[j - 1] > g->home[j]; j--) {
			int t = g->home[j];

			g->home[j] = g->home[j - 1];
			g->home[j - 1] = t;
		}
	free(g->mem_mb);
	if (!(g->mem_mb = np__calloc((size_t)nn + 1, sizeof(uint64_t))))
		return NP_ENOMEM;
	for (int i = 0; i < nn; i++) {
		const struct np_rt_mem *m = np_obs_mem(g->obs, i);

		g->mem_mb[i] = (m->anon_kb + m->file_kb + m->huge_kb) / 1024;
	}
	*out = (struct np_bal_guest){
		.id = g->pref.domain ? 0 : g->pref.pid, .nhome = g->nhome, .home = g->home,
		.mem_mb = g->mem_mb, .cpu_demand = g->demand,
		.since_action_ms = g->pref.last_action_ms && wall > g->pref.last_action_ms
					   ? wall - g->pref.last_action_ms
					   : g->pref.last_action_ms ? 0 : UINT64_MAX,
		.may_migrate = b->pol.may_migrate && g->pref.migrate && g->obs->mem_known,
		.may_repin = b->pol.may_repin
	};
	return 0;
}

/* The vCPUs of guest GI for the decision, with their history updated. */
static int vcpu_input(np_balancer *b, int gi, uint64_t now, struct np_bal_vcpu **arr,
		      size_t *n, size_t *cap)
{
	struct guest *g = &b->g[gi];
	bool only_vcpus = has_vcpus(g->obs);

	for (int i = 0; i < g->obs->nthreads; i++) {
		const struct np_rt_thread *t = &g->obs->threads[i];
		struct vtrack *v;

		if (only_vcpus && t->vcpu < 0)
			continue;
		if (!(v = track(g, t->tid, t->vcpu >= 0 ? t->vcpu : t->tid)) ||
		    np__grow((void **)arr, cap, *n + 1, sizeof(**arr)) < 0)
			return NP_ENOMEM;
		v->tid = t->tid;
		if (t->node_idx >= 0 && !at_home(g, t->node_idx)) {
			if (!v->away_since)
				v->away_since = now;
		} else {
			v->away_since = 0;
		}
		(*arr)[(*n)++] = (struct np_bal_vcpu){
			.guest = gi, .vcpu = v->id, .cpu = t->cpu,
			.outside_ms = v->away_since ? now - v->away_since : 0,
			.rescue_pinned = v->pinned, .pinned_ms = v->pinned ? now - v->pinned_at : 0
		};
	}
	return 0;
}

/* ---- acting --------------------------------------------------------- */

static int set_home(np_balancer *b, struct guest *g, int node_idx, uint64_t wall,
		    struct np_error *err)
{
	int *one = malloc(sizeof(int));

	if (!one)
		return np__err(err, NP_ENOMEM, "out of memory");
	one[0] = np_topo_node(b->topo, node_idx)->os_id;
	free(g->pref.nodes);
	g->pref.nodes = one;
	g->pref.nnodes = 1;
	g->pref.last_action_ms = wall;
	for (int i = 0; i < g->nv; i++)
		g->v[i].away_since = 0;
	return np__pref_write(b->run_dir, &g->pref, err);
}

static int move_memory(np_balancer *b, struct guest *g, const struct np_bal_action *a,
		       uint64_t wall, struct np_error *err)
{
	struct np_apply_result res = { 0 };
	double rate = b->pol.rate_mb_s > 0 ? b->pol.rate_mb_s : b->pol.params.migrate_mb_per_s;
	int rc;

	if (a->mb == 0)
		return 0;
	if (g->pref.domain) {
		int idx[64], n = 0;

		for (int i = 0; i < g->pref.nnodes && n < 64; i++)
			if ((idx[n] = np_topo_node_index(b->topo, g->pref.nodes[i])) >= 0)
				n++;
		rc = np__domain_nodeset(b->topo, g->pref.uri, g->pref.name, idx, n, err);
	} else {
		rc = np__migrate(b->os, b->topo, g->pref.pid, a->from_node, &a->to_node, 1,
				 a->mb * 1024, rate, &res, err);
	}
	np_apply_result_free(&res);
	g->pref.last_action_ms = wall;
	return rc ? rc : np__pref_write(b->run_dir, &g->pref, err);
}

static struct vtrack *find_track(struct guest *g, int id)
{
	for (int i = 0; i < g->nv; i++)
		if (g->v[i].id == id)
			return &g->v[i];
	return NULL;
}

static int act(np_balancer *b, const struct np_bal_action *a, uint64_t now, uint64_t wall,
	       struct np_error *err)
{
	struct guest *g = &b->g[a->guest];
	struct vtrack *v = a->vcpu >= 0 ? find_track(g, a->vcpu) : NULL;
	int *cpus = NULL, n = 0, rc = 0;

	switch (a->kind) {
	case NP_BAL_RESCUE_PIN:
		if (!v || np__cpus_of_nodes(b->topo, &a->to_node, 1, &cpus, &n))
			return np__err(err, NP_ENOMEM, "out of memory");
		rc = pin_cpus(b, g, v, cpus, n, err);
		free(cpus);
		if (!rc) {
			v->pinned = true;
			v->pinned_at = now;
		}
		return rc;
	case NP_BAL_RESTORE_SOFT:
		if (!v)
			return np__err(err, NP_EINPUT, "no such vCPU");
		rc = pin_cpus(b, g, v, b->wide, b->nwide, err);
		v->pinned = rc != 0;
		return rc;
	case NP_BAL_FOLLOW_MEMORY:
		return set_home(b, g, a->to_node, wall, err);
	case NP_BAL_MIGRATE_HOME:
		return move_memory(b, g, a, wall, err);
	case NP_BAL_RELIEVE:
		rc = set_home(b, g, a->to_node, wall, err);
		return rc ? rc : move_memory(b, g, a, wall, err);
	}
	return 0;
}

static void act_all(np_balancer *b, const struct np_bal_action *acts, int n, bool dry_run,
		    np_bal_log_fn *log, void *ctx)
{
	uint64_t now = b->os->now_ms(), wall = b->os->wall_ms();

	for (int i = 0; i < n; i++) {
		const struct np_bal_action *a = &acts[i];
		struct guest *g = &b->g[a->guest];
		int from = a->from_node >= 0 ? np_topo_node(b->topo, a->from_node)->os_id : -1;
		int to = a->to_node >= 0 ? np_topo_node(b->topo, a->to_node)->os_id : -1;
		struct np_error e = { 0 };
		bool done = false;

		if (a->to_node >= 0 && a->kind != NP_BAL_RESCUE_PIN && !b->pol.node_ok[a->to_node]) {
			say(log, ctx, g, "skip", a->vcpu, from, to, a->mb,
			    "the policy does not let the balancer use that node", false, NULL);
			continue;
		}
		if (!dry_run)
			done = act(b, a, now, wall, &e) == 0;
		say(log, ctx, g, np_bal_kind_name(a->kind), a->vcpu, from, to, a->mb, a->reason,
		    done, e.message);
	}
}

/* ---- one step ------------------------------------------------------- */

static int observe_all(np_balancer *b, np_bal_log_fn *log, void *ctx)
{
	for (int i = b->ng - 1; i >= 0; i--) {
		struct guest *g = &b->g[i];
		struct np_error e = { 0 };
		int rc = observe(b, g, &e);

		if (rc == NP_EINPUT && !g->pref.domain) {
			say(log, ctx, g, "skip", -1, -1, -1, 0, "the process is gone; its "
			    "preference is removed", false, e.message);
			remove(g->pref.path);
			guest_free(g);
			b->g[i] = b->g[--b->ng];
		} else if (rc) {
			say(log, ctx, g, "skip", -1, -1, -1, 0, "cannot observe it", false, e.message);
			np_obs_free(g->obs);
			g->obs = NULL;
		}
	}
	return 0;
}

struct inputs {
	struct np_bal_guest *gs;
	struct np_bal_vcpu *vs;
	size_t nv, cap;
	struct np_bal_node *nodes;
	int ng;
};

static int build(np_balancer *b, struct inputs *in, struct np_error *err)
{
	uint64_t now = b->os->now_ms(), wall = b->os->wall_ms();
	int rc;

	in->gs = np__calloc((size_t)b->ng + 1, sizeof(*in->gs));
	in->nodes = np__calloc((size_t)np_topo_node_count(b->topo) + 1, sizeof(*in->nodes));
	if (!in->gs || !in->nodes)
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np__host_sample(b->os, b->topo, in->nodes, err);
	/* Guests without an observation stay out; kept first so indexes match. */
	for (int i = 0; !rc && i < b->ng; i++) {
		if (!b->g[i].obs)
			continue;
		if (i != in->ng) {
			struct guest t = b->g[i];

			b->g[i] = b->g[in->ng];
			b->g[in->ng] = t;
		}
		if (guest_input(b, &b->g[in->ng], wall, &in->gs[in->ng]) ||
		    vcpu_input(b, in->ng, now, &in->vs, &in->nv, &in->cap))
			rc = np__err(err, NP_ENOMEM, "out of memory");
		in->ng++;
	}
	return rc;
}

static void inputs_free(struct inputs *in)
{
	free(in->gs);
	free(in->vs);
	free(in->nodes);
}

int np_balancer_step(np_balancer *b, bool dry_run, np_bal_log_fn *log, void *ctx,
		     struct np_error *err)
{
	struct inputs in = { 0 };
	struct np_bal_action *acts = NULL;
	int nacts = 0, rc = refresh_list(b, log, ctx, err);

	if (rc)
		return rc;
	observe_all(b, log, ctx);
	rc = build(b, &in, err);
	b->looked = in.ng;
	if (!rc) {
		struct np_bal_input input = { .topo = b->topo, .nguests = in.ng, .guests = in.gs,
					      .nvcpus = (int)in.nv, .vcpus = in.vs,
					      .nodes = in.nodes };

		rc = np_balance_decide(&input, &b->pol.params, &acts, &nacts, err);
	}
	if (!rc)
		act_all(b, acts, nacts, dry_run, log, ctx);
	free(acts);
	inputs_free(&in);
	return rc;
}

int np_balancer_restore_all(np_balancer *b, np_bal_log_fn *log, void *ctx,
			    struct np_error *err)
{
	for (int i = 0; i < b->ng; i++)
		unpin_all(b, &b->g[i], log, ctx);
	return 0;
}
