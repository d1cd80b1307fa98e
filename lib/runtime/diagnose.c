/*
 * diagnose.c - what is wrong with a running guest and its host, and the
 * small placement answers derived from an observation: the node order of
 * a memory fallback, which node's memory a balloon should release first,
 * and where I/O threads belong.  Pure functions of their inputs, except
 * np_host_sample(), which reads the host through the OS boundary.
 *
 * A thread is "away" for as long as it was seen outside the preferred
 * nodes without a break, up to the last sample: one sample proves nothing,
 * so the threshold is about time, as the XAPI notes ask (stuck, not passing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt-int.h"
#include "topology/topo-int.h"

void np_diag_params_default(struct np_diag_params *p)
{
	p->away_ms = 2000;
	p->mem_away_fraction = 0.10;
	p->low_free_fraction = 0.05;
	p->busy_load = 1.0;
}

const char *np_finding_kind_name(enum np_finding_kind kind)
{
	switch (kind) {
	case NP_FIND_THREAD_AWAY: return "thread-away";
	case NP_FIND_MEMORY_AWAY: return "memory-away";
	case NP_FIND_NODE_LOW: return "node-low-memory";
	case NP_FIND_NODE_BUSY: return "node-busy";
	case NP_FIND_IO_REMOTE: return "io-remote";
	}
	return "unknown";
}

static bool in_set(const int *set, int n, int v)
{
	for (int i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

struct flist {
	struct np_finding *f;
	size_t n, cap;
	int rc;
};

static struct np_finding *add(struct flist *l, enum np_finding_kind kind, int tid, int node,
			      uint64_t value)
{
	struct np_finding *f;

	if (l->rc || np__grow((void **)&l->f, &l->cap, l->n + 1, sizeof(*f)) < 0) {
		l->rc = NP_ENOMEM;
		return NULL;
	}
	f = &l->f[l->n++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->tid = tid;
	f->node_idx = node;
	f->value = value;
	return f;
}

static const struct np_rt_thread *same_thread(const np_obs *o, const struct np_rt_thread *t)
{
	for (int i = 0; i < o->nthreads; i++) {
		const struct np_rt_thread *u = &o->threads[i];

		if (t->tid > 0 ? u->tid == t->tid : (t->vcpu >= 0 && u->vcpu == t->vcpu))
			return u;
	}
	return NULL;
}

static void threads_away(const np_topo *topo, const np_obs *const *s, int n, const int *home,
			 int nhome, const struct np_diag_params *p, struct flist *l)
{
	const np_obs *last = s[n - 1];

	for (int i = 0; i < last->nthreads; i++) {
		const struct np_rt_thread *t = &last->threads[i], *u;
		int j = n - 1;
		uint64_t ms;
		struct np_finding *f;
		char hs[64];
		int ids[32], k = 0;

		if (t->node_idx < 0 || in_set(home, nhome, t->node_idx))
			continue;
		while (j > 0 && (u = same_thread(s[j - 1], t)) && u->node_idx >= 0 &&
		       !in_set(home, nhome, u->node_idx))
			j--;
		ms = last->time_ms - s[j]->time_ms;
		if (ms < p->away_ms || !(f = add(l, NP_FIND_THREAD_AWAY, t->tid, t->node_idx, ms)))
			continue;
		for (int h = 0; h < nhome && k < 32; h++)
			ids[k++] = np_topo_node(topo, home[h])->os_id;
		np__format_cpulist(ids, k, hs, sizeof(hs));
		snprintf(f->evidence, sizeof(f->evidence),
			 "thread %d (%s) on CPU %d of node %d, outside nodes %s for %llu ms "
			 "(%d samples)", t->tid, t->name, t->cpu,
			 np_topo_node(topo, t->node_idx)->os_id, hs, (unsigned long long)ms, n - j);
	}
}

static void memory_away(const np_topo *topo, const np_obs *o, const int *home, int nhome,
			const struct np_diag_params *p, struct flist *l)
{
	uint64_t at_home = 0, away, most = 0;
	int most_node = -1;
	struct np_finding *f;

	if (!o->mem_known || o->total_kb == 0)
		return;
	for (int i = 0; i < o->nnodes; i++) {
		uint64_t kb = o->mem[i].anon_kb + o->mem[i].file_kb + o->mem[i].huge_kb;

		if (in_set(home, nhome, i))
			at_home += kb;
		else if (kb > most) {
			most = kb;
			most_node = i;
		}
	}
	away = o->total_kb > at_home ? o->total_kb - at_home : 0;
	if ((double)away < p->mem_away_fraction * (double)o->total_kb || away == 0 ||
	    !(f = add(l, NP_FIND_MEMORY_AWAY, 0, most_node, away)))
		return;
	snprintf(f->evidence, sizeof(f->evidence),
		 "%.1f MiB of %.1f MiB (%.0f%%) outside the preferred nodes, most on node %d "
		 "(%.1f MiB)", away / 1024.0, o->total_kb / 1024.0,
		 100.0 * (double)away / (double)o->total_kb,
		 most_node >= 0 ? np_topo_node(topo, most_node)->os_id : -1, most / 1024.0);
}

static void host_nodes(const np_topo *topo, const struct np_bal_node *nodes,
		       const struct np_diag_params *p, struct flist *l)
{
	for (int i = 0; i < np_topo_node_count(topo); i++) {
		const struct np_node *nd = np_topo_node(topo, i);
		uint64_t total_mb = nd->mem_total_kb / 1024;
		struct np_finding *f;

		if (total_mb && (double)nodes[i].free_mb < p->low_free_fraction * (double)total_mb &&
		    (f = add(l, NP_FIND_NODE_LOW, 0, i, nodes[i].free_mb)))
			snprintf(f->evidence, sizeof(f->evidence),
				 "node %d has %llu MiB free of %llu MiB (below %.0f%%)", nd->os_id,
				 (unsigned long long)nodes[i].free_mb, (unsigned long long)total_mb,
				 p->low_free_fraction * 100);
		if (nd->ncpus && nodes[i].load > p->busy_load &&
		    (f = add(l, NP_FIND_NODE_BUSY, 0, i, (uint64_t)(nodes[i].load * 100))))
			snprintf(f->evidence, sizeof(f->evidence),
				 "node %d has %.2f runnable threads per CPU (%d CPUs, above %.2f)",
				 nd->os_id, nodes[i].load, nd->ncpus, p->busy_load);
	}
}

static void io_remote(const np_topo *topo, const np_obs *o, const int *home, int nhome,
		      struct flist *l)
{
	for (int i = 0; i < o->ndev; i++) {
		for (int d = 0; d < np_topo_device_count(topo); d++) {
			const struct np_device *dev = np_topo_device(topo, d);
			struct np_finding *f;

			if (strcmp(dev->address, o->dev[i]) || dev->node_idx < 0 ||
			    in_set(home, nhome, dev->node_idx) ||
			    !(f = add(l, NP_FIND_IO_REMOTE, 0, dev->node_idx, 0)))
				continue;
			snprintf(f->evidence, sizeof(f->evidence),
				 "device %s is on node %d, outside the guest's nodes: run its "
				 "emulator and I/O threads there", dev->address,
				 np_topo_node(topo, dev->node_idx)->os_id);
		}
	}
}

int np_diagnose(const np_topo *topo, const np_obs *const *samples, int n, const int *home,
		int nhome, const struct np_bal_node *nodes, const struct np_diag_params *p,
		struct np_finding **out, int *nout, struct np_error *err)
{
	struct flist l = { 0 };
	int nn;

	if (!topo || !samples || n < 1 || !p || nhome < 0 || (nhome && !home))
		return np__err(err, NP_EINPUT, "diagnose: no samples or preferred nodes");
	nn = np_topo_node_count(topo);
	for (int i = 0; i < nhome; i++)
		if (home[i] < 0 || home[i] >= nn)
			return np__err(err, NP_EINPUT, "diagnose: node index %d is not a node of "
				       "this host", home[i]);
	for (int i = 0; i < n; i++)
		if (!samples[i] || samples[i]->nnodes != nn ||
		    (i && samples[i]->time_ms < samples[i - 1]->time_ms))
			return np__err(err, NP_EINPUT, "diagnose: samples out of order or of "
				       "another host");
	if (nhome) {
		threads_away(topo, samples, n, home, nhome, p, &l);
		memory_away(topo, samples[n - 1], home, nhome, p, &l);
		io_remote(topo, samples[n - 1], home, nhome, &l);
	}
	if (nodes)
		host_nodes(topo, nodes, p, &l);
	if (l.rc) {
		free(l.f);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	*out = l.f;
	*nout = (int)l.n;
	return 0;
}

int np_host_sample(const np_topo *topo, struct np_bal_node *nodes, struct np_error *err)
{
	const struct np__rt_os *os;
	int rc = np__rt_os(&os, err);

	return rc ? rc : np__host_sample(os, topo, nodes, err);
}

/* ---- fallback, shrink, I/O ------------------------------------------ */

struct keyed {
	long key1, key2;
	int idx;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key1 != y->key1)
		return x->key1 < y->key1 ? -1 : 1;
	if (x->key2 != y->key2)
		return x->key2 < y->key2 ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

int np_fallback_order(const np_topo *topo, int preferred, int *out, int max)
{
	int n;

	if (preferred < 0 || preferred >= np_topo_node_count(topo))
		return 0;
	n = np__topo_fallback(topo, &preferred, 1, out, max);
	return n > 0 ? n : 0;
}

static uint32_t dist_to_home(const np_topo *topo, int n, const int *home, int nhome)
{
	uint32_t best = UINT32_MAX;

	for (int h = 0; h < nhome; h++) {
		uint32_t d = np_topo_distance(topo, home[h], n);

		best = d < best ? d : best;
	}
	return best;
}

int np_shrink_order(const np_topo *topo, const np_obs *obs, const int *home, int nhome,
		    const struct np_bal_node *nodes, int *order, int max)
{
	int nn = np_topo_node_count(topo), k = 0;
	struct keyed *ks = calloc((size_t)nn + 1, sizeof(*ks));

	if (!ks)
		return 0;
	for (int i = 0; i < nn && i < obs->nnodes; i++) {
		const struct np_rt_mem *m = &obs->mem[i];
		bool at_home = in_set(home, nhome, i);
		long dist = nhome ? (long)dist_to_home(topo, i, home, nhome) : 0;

		if (m->anon_kb + m->file_kb + m->huge_kb == 0)
			continue;
		/* Away first, farthest first; then by pressure (least free first). */
		ks[k++] = (struct keyed){ .key1 = at_home ? 1L << 40 : -dist,
					  .key2 = nodes ? (long)(nodes[i].free_mb & 0x3fffffffffff) : 0,
					  .idx = i };
	}
	qsort(ks, (size_t)k, sizeof(*ks), cmp_keyed);
	for (int i = 0; i < k && i < max; i++)
		order[i] = ks[i].idx;
	free(ks);
	return k;
}

int np_io_nodes(const np_topo *topo, const np_obs *obs, int *nodes, int max)
{
	int k = 0;
	bool seen[1024] = { false };

	for (int i = 0; i < obs->ndev; i++) {
		for (int d = 0; d < np_topo_device_count(topo); d++) {
			const struct np_device *dev = np_topo_device(topo, d);

			if (strcmp(dev->address, obs->dev[i]) || dev->node_idx < 0 ||
			    dev->node_idx >= 1024 || seen[dev->node_idx])
				continue;
			seen[dev->node_idx] = true;
			k++;
		}
	}
	for (int i = 0, j = 0; i < 1024 && j < max; i++)
		if (seen[i])
			nodes[j++] = i;
	return k;
}
