/*
 * run.c - run an experiment: every case (guest count) under every
 * configuration, `repetitions` times, on a pool of threads; then the rows
 * (means, standard deviations) of the result.
 *
 * Determinism: a run's seed depends on the experiment's seed, the case
 * and the repetition only, not on the configuration (so configurations
 * are compared on the same demand: common random numbers) and not on
 * which thread runs it or when; results are stored by index.  So the
 * result is the same with one thread or many.
 *
 * Threads: workers take the next job under a mutex; each run is private
 * to its worker; progress is reported under the same mutex.  The first
 * error stops the others from starting new jobs.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/sim-int.h"

struct runner {
	const np_sim_exp *x;
	const struct np_sim_opts *o;
	int ncases;
	int **templates;
	int *nguests;
	int njobs, next, done;
	int rc;
	struct np_error err;
	struct np__run_stats *stats; /* [case][config][rep] */
	struct np__timeline *tls;    /* [case][config], first repetition */
	pthread_mutex_t lock;
	double t0;
};

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t run_seed(uint64_t seed, int ca, int rep)
{
	uint64_t z = seed + UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)(ca * 1009 + rep + 1);

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* ---- cases ---------------------------------------------------------------------- */

static int case_vcpus(struct runner *r, int ca)
{
	long total = 0;

	for (int i = 0; i < r->nguests[ca]; i++)
		total += r->x->guests[r->templates[ca][i]].vcpus;
	if (total > NP__SIM_VCPUS_TOTAL)
		return np__err(&r->err, NP_EINPUT, "%s: a case of %ld vCPUs; the simulator handles "
			       "up to %d", r->x->name, total, NP__SIM_VCPUS_TOTAL);
	return 0;
}

static int make_case(struct runner *r, int ca)
{
	const np_sim_exp *x = r->x;
	int n = 0;

	if (x->ncounts) {
		n = x->counts[ca];
	} else {
		for (int t = 0; t < x->nguests; t++)
			n += x->guests[t].count;
	}
	if (n > NP__SIM_GUESTS_MAX)
		return np__err(&r->err, NP_EINPUT, "%s: more than %d guests", x->name,
			       NP__SIM_GUESTS_MAX);
	r->templates[ca] = np__calloc((size_t)n, sizeof(int));
	if (!r->templates[ca])
		return NP_ENOMEM;
	r->nguests[ca] = n;
	for (int i = 0, t = 0, k = 0; i < n; i++) {
		if (x->ncounts) {
			r->templates[ca][i] = i % x->nguests;
			continue;
		}
		while (k == x->guests[t].count) {
			t++;
			k = 0;
		}
		r->templates[ca][i] = t;
		k++;
	}
	return case_vcpus(r, ca);
}

/* ---- jobs ------------------------------------------------------------------------- */

static void one_job(struct runner *r, int j)
{
	const np_sim_exp *x = r->x;
	int per_case = x->nconfigs * x->repetitions;
	int ca = j / per_case, cf = j % per_case / x->repetitions, rep = j % x->repetitions;
	struct np_error err = { 0 };
	struct np__run_stats st;
	struct np__sim *s = NULL;
	int rc;

	rc = np__sim_new(x, &x->configs[cf], r->templates[ca], r->nguests[ca],
			 run_seed(x->seed, ca, rep), r->o->check, &s, &err);
	if (rc) {
		struct np_error e = err;

		np__err(&err, rc, "%s under '%s': %s", x->name, x->configs[cf].name, e.message);
	}
	if (!rc)
		rc = np__sim_run(s, &err);
	if (!rc)
		np__sim_stats(s, &st);
	pthread_mutex_lock(&r->lock);
	if (rc && !r->rc) {
		r->rc = rc;
		r->err = err;
	}
	if (!rc) {
		r->stats[j] = st;
		if (rep == 0) {
			r->tls[ca * x->nconfigs + cf] = s->tl;
			s->tl = (struct np__timeline){ 0 };
		}
	}
	r->done++;
	if (r->o->progress)
		r->o->progress(r->o->progress_arg, r->done, r->njobs, r->done * x->duration_s,
			       wall_now() - r->t0);
	pthread_mutex_unlock(&r->lock);
	np__sim_free(s);
}

static void *worker(void *arg)
{
	struct runner *r = arg;

	for (;;) {
		int j;

		pthread_mutex_lock(&r->lock);
		j = r->rc || r->next == r->njobs ? -1 : r->next++;
		pthread_mutex_unlock(&r->lock);
		if (j < 0)
			return NULL;
		one_job(r, j);
	}
}

static int run_jobs(struct runner *r, int nthreads)
{
	pthread_t tids[64];
	int started = 0;

	for (int i = 1; i < nthreads; i++) {
		if (pthread_create(&tids[started], NULL, worker, r) != 0)
			break;
		started++;
	}
	worker(r);
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	return started + 1;
}

/* ---- the result -------------------------------------------------------------------- */

static void host_summary(const np_topo *t, char *out, size_t size)
{
	int cpus = 0, cores = 0, sib[64];

	for (int i = 0; i < np_topo_cpu_count(t); i++) {
		const struct np_cpu *c = np_topo_cpu(t, i);

		if (!c->online || c->node_idx < 0)
			continue;
		cpus++;
		cores += np_topo_cpu_siblings(t, i, sib, 64) < 1 || sib[0] == c->os_id ||
			 c->core < 0;
	}
	snprintf(out, size, "%d node%s, %d pCPUs (%d cores), %llu MiB", np_topo_node_count(t),
		 np_topo_node_count(t) == 1 ? "" : "s", cpus, cores,
		 (unsigned long long)(np_topo_mem_total_kb(t) / 1024));
}

static void fill_row(const struct runner *r, struct np__row *row, int ca, int cf)
{
	const np_sim_exp *x = r->x;
	const struct np__run_stats *st = &r->stats[(ca * x->nconfigs + cf) * x->repetitions];
	struct np_sim_row *p = &row->pub;
	int n = x->repetitions;
	double sum = 0, sq = 0;

	if (x->ncounts)
		snprintf(row->label, sizeof(row->label), "%d guests", r->nguests[ca]);
	else
		snprintf(row->label, sizeof(row->label), "%s", x->name);
	snprintf(row->config, sizeof(row->config), "%s", x->configs[cf].name);
	p->case_label = row->label;
	p->config = row->config;
	p->guests = r->nguests[ca];
	p->runs = n;
	for (int i = 0; i < n; i++) {
		row->runs[i] = st[i].throughput;
		sum += st[i].throughput;
		p->outside_vcpus += st[i].outside_vcpus / n;
		p->outside_fraction += st[i].outside_fraction / n;
		p->remote_fraction += st[i].remote_fraction / n;
		p->migrated_mb += st[i].migrated_mb / n;
		p->actions += st[i].actions / n;
		p->arrived += st[i].arrived / n;
		p->arrival_wait_s += st[i].arrival_wait_s / n;
		p->moves += st[i].moves / n;
		p->moved_mb += st[i].moved_mb / n;
		p->moving_s += st[i].moving_s / n;
	}
	p->throughput_mean = sum / n;
	for (int i = 0; i < n; i++)
		sq += (st[i].throughput - p->throughput_mean) * (st[i].throughput - p->throughput_mean);
	p->throughput_stddev = n > 1 ? sqrt(sq / (n - 1)) : 0;
}

static int make_result(struct runner *r, np_sim_result **out)
{
	const np_sim_exp *x = r->x;
	np_sim_result *res = np__calloc(1, sizeof(*res));

	if (!res)
		return NP_ENOMEM;
	*out = res;
	snprintf(res->name, sizeof(res->name), "%s", x->name);
	snprintf(res->summary, sizeof(res->summary), "%s", x->summary);
	snprintf(res->baseline, sizeof(res->baseline), "%s",
		 x->baseline[0] ? x->baseline : x->configs[0].name);
	snprintf(res->note, sizeof(res->note), "%s", x->reference_note);
	host_summary(x->topo, res->host, sizeof(res->host));
	res->duration_s = x->duration_s;
	res->measure_from_s = x->measure_from_s;
	res->sample_ms = x->model.sample_ms;
	res->repetitions = x->repetitions;
	res->seed = x->seed;
	res->sweep = x->ncounts > 0;
	for (int g = 0; g < x->nguests; g++)
		res->arrivals += np__guest_arrives(x, &x->guests[g]) ? x->guests[g].count : 0;
	for (int i = 0; i < x->nevents; i++)
		res->moves += x->events[i].kind == NP__EV_MOVE;
	res->ncases = r->ncases;
	res->nconfigs = x->nconfigs;
	res->nrows = r->ncases * x->nconfigs;
	res->rows = np__calloc((size_t)res->nrows, sizeof(*res->rows));
	res->refs = np__calloc((size_t)x->nrefs + 1, sizeof(*res->refs));
	if (!res->rows || !res->refs)
		return NP_ENOMEM;
	if (x->nrefs)
		memcpy(res->refs, x->refs, sizeof(*x->refs) * (size_t)x->nrefs);
	res->nrefs = x->nrefs;
	for (int i = 0; i < res->nrows; i++) {
		res->rows[i].runs = np__calloc((size_t)x->repetitions, sizeof(double));
		if (!res->rows[i].runs)
			return NP_ENOMEM;
		fill_row(r, &res->rows[i], i / x->nconfigs, i % x->nconfigs);
		res->rows[i].tl = r->tls[i];
		r->tls[i] = (struct np__timeline){ 0 };
	}
	return 0;
}

static void free_runner(struct runner *r)
{
	for (int i = 0; r->templates && i < r->ncases; i++)
		free(r->templates[i]);
	for (int i = 0; r->tls && i < r->ncases * r->x->nconfigs; i++) {
		free(r->tls[i].outside);
		free(r->tls[i].throughput);
	}
	free(r->templates);
	free(r->nguests);
	free(r->stats);
	free(r->tls);
	pthread_mutex_destroy(&r->lock);
}

static int setup(struct runner *r)
{
	const np_sim_exp *x = r->x;

	r->ncases = x->ncounts ? x->ncounts : 1;
	r->njobs = r->ncases * x->nconfigs * x->repetitions;
	r->templates = np__calloc((size_t)r->ncases, sizeof(*r->templates));
	r->nguests = np__calloc((size_t)r->ncases, sizeof(*r->nguests));
	r->stats = np__calloc((size_t)r->njobs, sizeof(*r->stats));
	r->tls = np__calloc((size_t)r->ncases * (size_t)x->nconfigs, sizeof(*r->tls));
	if (!r->templates || !r->nguests || !r->stats || !r->tls)
		return NP_ENOMEM;
	for (int ca = 0; ca < r->ncases; ca++) {
		int rc = make_case(r, ca);

		if (rc)
			return rc;
	}
	return 0;
}

static int thread_count(const struct np_sim_opts *o, int njobs)
{
	long n = o->threads > 0 ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	return n > njobs ? njobs : (int)n;
}

void np_sim_opts_default(struct np_sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->check = true;
}

int np_sim_exp_run(const np_sim_exp *x, const struct np_sim_opts *opts, np_sim_result **out,
		   struct np_error *err)
{
	struct np_sim_opts def;
	struct runner r = { .x = x };
	np_sim_result *res = NULL;
	int rc, threads;

	if (!x || !out)
		return np__err(err, NP_EINPUT, "np_sim_exp_run: missing argument");
	if (!opts)
		np_sim_opts_default(&def);
	r.o = opts ? opts : &def;
	pthread_mutex_init(&r.lock, NULL);
	rc = setup(&r);
	if (rc) {
		rc = r.err.code ? np__err(err, rc, "%s", r.err.message) : np__err(err, rc, "out of memory");
		goto out;
	}
	r.t0 = wall_now();
	threads = run_jobs(&r, thread_count(r.o, r.njobs));
	if (r.rc) {
		rc = r.rc;
		if (err)
			*err = r.err;
		goto out;
	}
	rc = make_result(&r, &res);
	if (rc) {
		np_sim_result_free(res);
		rc = np__err(err, rc, "out of memory");
		goto out;
	}
	res->threads = threads;
	res->wall_s = wall_now() - r.t0;
	res->sim_s = r.njobs * x->duration_s;
	*out = res;
out:
	free_runner(&r);
	return rc;
}

void np_sim_result_free(np_sim_result *r)
{
	if (!r)
		return;
	for (int i = 0; r->rows && i < r->nrows; i++) {
		free(r->rows[i].runs);
		free(r->rows[i].tl.outside);
		free(r->rows[i].tl.throughput);
	}
	free(r->rows);
	free(r->refs);
	free(r);
}

int np_sim_result_row_count(const np_sim_result *r)
{
	return r->nrows;
}

const struct np_sim_row *np_sim_result_row(const np_sim_result *r, int i)
{
	return i >= 0 && i < r->nrows ? &r->rows[i].pub : NULL;
}

const struct np_sim_row *np_sim_result_find(const np_sim_result *r, const char *case_label,
					    const char *config)
{
	for (int i = 0; i < r->nrows; i++)
		if (strcmp(r->rows[i].label, case_label) == 0 &&
		    strcmp(r->rows[i].config, config) == 0)
			return &r->rows[i].pub;
	return NULL;
}

double np_sim_result_sim_seconds(const np_sim_result *r)
{
	return r->sim_s;
}

double np_sim_result_wall_seconds(const np_sim_result *r)
{
	return r->wall_s;
}
