/*
 * model.c - the host model: pCPUs, cores and sockets from an np_topo, the
 * latency matrix, memory contention, the speed of a running vCPU, and the
 * table of every constant of the model (docs/sim.md lists the same table).
 *
 * Speed of vCPU v (guest memory share f_k on node k, memory intensity m)
 * running on a pCPU of node n:
 *
 *     T = (1 - m) + m * sum_k f_k * (lat(n,k) + queue_k)      speed = 1 / T
 *
 * lat(n,k) = 1 + remote_latency_scale * (distance(n,k) / 10 - 1), in units
 * of the local latency (scale 1: remote latency = local x distance / 10).
 * queue_k is the queueing delay of node k's memory controller, added to
 * every access to that node, local or remote:
 *     queue_k = contention_coeff * u / (1 - u),  u = demand_k / bandwidth
 * (u capped at contention_max_util).  demand_k is the traffic of the
 * previous steps (bandwidth_mb_s of each running vCPU times its speed,
 * split by f_k, plus memory being migrated) averaged over
 * contention_window_us: speed and traffic depend on each other, and the
 * average relaxes to their fixed point instead of oscillating around it
 * from one step to the next.  Because the delay adds to
 * local and remote accesses alike, a saturated controller makes locality
 * matter less, which is what sysbench-memory shows at 10 VMs.  Then the
 * speed is multiplied by smt_factor when an SMT sibling is busy, and by
 * (1 - page_migrate_slowdown) while the guest's memory is being moved.
 *
 * The random numbers (rng.c) and CPU sets (cpuset.c) every file needs
 * live in files of their own.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim-int.h"
#include "topology/topo-int.h"

/* ---- constants ---------------------------------------------------------- */

#define C(field) offsetof(struct np__model, field)

const struct np__const np__const_table[] = {
	{ "step_us", C(step_us), 1000, 100, 100000, true, "us",
	  "engine time step; wakes, sleeps and scheduling happen on its grid" },
	{ "sample_ms", C(sample_ms), 100, 1, 60000, true, "ms",
	  "timeline resolution (vCPUs outside soft affinity, throughput)" },
	{ "remote_latency_scale", C(remote_latency_scale), 1.0, 0, 10, false, "",
	  "latency(n,k) = local x (1 + scale x (distance/10 - 1)); 1: local x distance/10" },
	{ "node_bandwidth_mb_s", C(node_bandwidth_mb_s), 10000, 1, 1e7, false, "MB/s",
	  "memory bandwidth of one node's controller" },
	{ "contention_coeff", C(contention_coeff), 0.25, 0, 100, false, "",
	  "queueing delay at a controller = coeff x u/(1-u) local latencies, u = utilisation" },
	{ "contention_max_util", C(contention_max_util), 0.95, 0.5, 0.999, false, "",
	  "utilisation cap in the queueing formula" },
	{ "contention_window_us", C(contention_window_us), 10000, 1, 1e7, false, "us",
	  "memory traffic is averaged over this long before it sets the queueing delay" },
	{ "smt_factor", C(smt_factor), 0.6, 0.05, 1, false, "",
	  "speed of a hardware thread while its SMT sibling is busy" },
	{ "cache_refill_us", C(cache_refill_us), 10, 0, 1e5, false, "us",
	  "work lost when a vCPU moves to another pCPU of the same node" },
	{ "cache_refill_node_us", C(cache_refill_node_us), 100, 0, 1e6, false, "us",
	  "work lost when a vCPU moves to a pCPU of another node" },
	{ "page_migrate_mb_s", C(page_migrate_mb_s), 1000, 1, 1e6, false, "MB/s",
	  "speed of moving a guest's memory between nodes (reads and writes that much)" },
	{ "page_migrate_slowdown", C(page_migrate_slowdown), 0.1, 0, 0.95, false, "",
	  "speed lost by a guest's vCPUs while its memory is being moved" },
	{ "credit1_tslice_ms", C(c1_tslice_ms), 30, 1, 1000, true, "ms",
	  "credit1 time slice and accounting period (sched_credit_tslice_ms)" },
	{ "credit1_tick_ms", C(c1_tick_ms), 10, 1, 1000, true, "ms",
	  "credit1 tick: credit burn, boost end, re-pick of the running vCPU" },
	{ "credit1_ratelimit_us", C(c1_ratelimit_us), 1000, 0, 1e6, true, "us",
	  "credit1: a vCPU runs at least this long before being preempted" },
	{ "credit1_balance_ratelimit_us", C(c1_balance_ratelimit_us), 1000, 0, 1e6, true, "us",
	  "credit1: least time between two steal attempts of a busy pCPU" },
	{ "credit1_credits_per_ms", C(c1_credits_per_ms), 10, 1, 1000, true, "",
	  "credit1 credits burnt per ms of run time (300 per slice per pCPU handed out)" },
	{ "credit2_credit_init_us", C(c2_credit_init_us), 10000, 100, 1e6, true, "us",
	  "credit2 credit given at each reset (CSCHED2_CREDIT_INIT)" },
	{ "credit2_migrate_resist_us", C(c2_migrate_resist_us), 500, 0, 1e5, true, "us",
	  "credit2 credit a vCPU must lead by to preempt on another pCPU" },
	{ "credit2_max_slice_us", C(c2_max_slice_us), 10000, 100, 1e6, true, "us",
	  "credit2 longest slice" },
	{ "credit2_min_slice_us", C(c2_min_slice_us), 500, 100, 1e6, true, "us",
	  "credit2 shortest slice" },
	{ "credit2_load_window_ms", C(c2_load_window_ms), 1000, 1, 1e5, false, "ms",
	  "credit2 load average window (2^30 ns in Xen)" },
	{ "credit2_balance_tolerance", C(c2_balance_tolerance), 0.5, 0, 64, false, "vCPUs",
	  "credit2 moves a vCPU between runqueues only when that reduces the load gap by more" },
	{ "balance_period_ms", C(balance_period_ms), 500, 10, 60000, true, "ms",
	  "how often numaplace's balancer is called" },
};

const int np__const_count = (int)NP__ARRAY_SIZE(np__const_table);

void np__model_default(struct np__model *m)
{
	for (int i = 0; i < np__const_count; i++)
		*(double *)((char *)m + np__const_table[i].off) = np__const_table[i].def;
}

const struct np__const *np__const_find(const char *name)
{
	for (int i = 0; i < np__const_count; i++)
		if (strcmp(np__const_table[i].name, name) == 0)
			return &np__const_table[i];
	return NULL;
}

/* ---- the host ------------------------------------------------------------ */

/* Dense index of KEY in KEYS[0..*N), appended when new. */
static int dense(int64_t *keys, int *n, int64_t key)
{
	for (int i = 0; i < *n; i++)
		if (keys[i] == key)
			return i;
	keys[*n] = key;
	return (*n)++;
}

static int host_cpus(struct np__sim *s, struct np_error *err)
{
	const np_topo *t = s->topo;
	int64_t *cores = np__calloc((size_t)np_topo_cpu_count(t) + 1, sizeof(*cores));
	int64_t *sockets = np__calloc((size_t)np_topo_cpu_count(t) + 1, sizeof(*sockets));
	int ncores = 0, n = 0, rc = 0;

	s->cpus = np__calloc((size_t)np_topo_cpu_count(t) + 1, sizeof(*s->cpus));
	if (!cores || !sockets || !s->cpus) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < np_topo_cpu_count(t); i++) {
		const struct np_cpu *c = np_topo_cpu(t, i);
		struct np__pcpu *p = &s->cpus[n];
		int64_t sock = c->socket >= 0 ? c->socket : -1 - (int64_t)c->node_idx;

		if (!c->online || c->node_idx < 0)
			continue;
		p->os_id = c->os_id;
		p->node = c->node_idx;
		p->socket = dense(sockets, &s->nsockets, sock);
		p->core = c->core >= 0
				  ? dense(cores, &ncores, (int64_t)(((uint64_t)sock << 24) ^ (uint64_t)c->core))
				  : dense(cores, &ncores, INT64_MIN + c->os_id);
		p->curr = -1;
		n++;
	}
	s->ncpus = n;
	if (n == 0)
		rc = np__err(err, NP_EINPUT, "host '%s' has no online CPU with a node",
			     np_topo_source_name(t));
out:
	free(cores);
	free(sockets);
	return rc;
}

static int host_sets(struct np__sim *s)
{
	s->all = np__sim_set(s);
	if (!s->all)
		return NP_ENOMEM;
	for (int n = 0; n < s->nnodes; n++) {
		s->nodes[n].cpus = np__sim_set(s);
		if (!s->nodes[n].cpus)
			return NP_ENOMEM;
	}
	for (int c = 0; c < s->ncpus; c++) {
		struct np__pcpu *p = &s->cpus[c];

		p->siblings = np__sim_set(s);
		p->socket_cpus = np__sim_set(s);
		if (!p->siblings || !p->socket_cpus)
			return NP_ENOMEM;
		np__set_add(s->all, c);
		np__set_add(s->nodes[p->node].cpus, c);
		s->nodes[p->node].ncpus++;
		for (int d = 0; d < s->ncpus; d++) {
			if (s->cpus[d].core == p->core)
				np__set_add(p->siblings, d);
			if (s->cpus[d].socket == p->socket)
				np__set_add(p->socket_cpus, d);
		}
	}
	return 0;
}

static void host_latency(struct np__sim *s)
{
	for (int a = 0; a < s->nnodes; a++) {
		for (int b = 0; b < s->nnodes; b++) {
			uint32_t d = np_topo_distance(s->topo, a, b);
			double dd = d == NP_DISTANCE_UNREACHABLE || d > 255 ? 255 : d;

			if (a == b)
				dd = 10;
			s->lat[a * s->nnodes + b] =
				1.0 + s->m->remote_latency_scale * (dd / 10.0 - 1.0);
			if (s->lat[a * s->nnodes + b] < 1.0)
				s->lat[a * s->nnodes + b] = 1.0;
		}
	}
}

int np__model_host(struct np__sim *s, struct np_error *err)
{
	int rc;

	s->nnodes = np_topo_node_count(s->topo);
	if (s->nnodes > NP__SIM_NODES_MAX)
		return np__err(err, NP_EUNSUPPORTED, "the simulator handles up to %d nodes, "
			       "host '%s' has %d", NP__SIM_NODES_MAX,
			       np_topo_source_name(s->topo), s->nnodes);
	if (np_topo_cpu_count(s->topo) > NP__SIM_CPUS_MAX)
		return np__err(err, NP_EUNSUPPORTED, "the simulator handles up to %d CPUs",
			       NP__SIM_CPUS_MAX);
	rc = host_cpus(s, err);
	if (rc)
		return rc;
	s->nwords = (s->ncpus + 63) / 64;
	s->nodes = np__calloc((size_t)s->nnodes, sizeof(*s->nodes));
	s->lat = np__calloc((size_t)s->nnodes * (size_t)s->nnodes, sizeof(*s->lat));
	if (!s->nodes || !s->lat || host_sets(s))
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int n = 0; n < s->nnodes; n++)
		s->nodes[n].cap_mb = (double)(np_topo_node(s->topo, n)->mem_total_kb / 1024);
	host_latency(s);
	return 0;
}

/* ---- speed and traffic ---------------------------------------------------- */

void np__model_begin_step(struct np__sim *s)
{
	const struct np__model *m = s->m;
	double a = m->step_us / m->contention_window_us;

	if (a > 1)
		a = 1;
	for (int n = 0; n < s->nnodes; n++) {
		struct np__node *nd = &s->nodes[n];
		double u;

		nd->traffic_mb_s += (nd->demand_mb_s - nd->traffic_mb_s) * a;
		u = nd->traffic_mb_s / m->node_bandwidth_mb_s;
		if (u > m->contention_max_util)
			u = m->contention_max_util;
		nd->queue = m->contention_coeff * u / (1.0 - u);
		nd->demand_mb_s = 0;
	}
}

static bool sibling_busy(const struct np__sim *s, int c)
{
	const struct np__pcpu *p = &s->cpus[c];

	for (int w = 0; w < s->nwords; w++) {
		uint64_t bits = p->siblings[w];

		while (bits) {
			int d = w * 64 + __builtin_ctzll(bits);

			bits &= bits - 1;
			if (d != c && s->cpus[d].curr >= 0)
				return true;
		}
	}
	return false;
}

double np__model_speed(const struct np__sim *s, int v, int c)
{
	const struct np__guest *g = &s->guests[s->vcpus[v].guest];
	const double *lat = &s->lat[s->cpus[c].node * s->nnodes];
	double m = g->wl->memory_intensity, wait = 0, speed;

	for (int k = 0; k < s->nnodes; k++)
		if (g->frac[k] > 0)
			wait += g->frac[k] * (lat[k] + s->nodes[k].queue);
	speed = 1.0 / ((1.0 - m) + m * wait);
	if (sibling_busy(s, c))
		speed *= s->m->smt_factor;
	if (g->mig_left_mb > 0)
		speed *= 1.0 - s->m->page_migrate_slowdown;
	return speed;
}

void np__model_account(struct np__sim *s, int v, int c, double speed)
{
	const struct np__guest *g = &s->guests[s->vcpus[v].guest];
	double bw = g->wl->bandwidth_mb_s * speed;

	(void)c;
	for (int k = 0; k < s->nnodes; k++)
		if (g->frac[k] > 0)
			s->nodes[k].demand_mb_s += bw * g->frac[k];
}
