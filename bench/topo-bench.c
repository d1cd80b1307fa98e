/*
 * topo-bench.c - the in-process half of bench/topology.sh: how long
 * numaplace takes to load a saved sysfs root (np_topo_load, which runs
 * hwloc underneath and converts its tree) and write it as JSON, against
 * hwloc alone loading the same root and exporting its XML - without the
 * process start-up that the command-line comparison includes.
 *
 *   topo-bench ROOT [CALLS]
 *
 * hwloc is pointed at ROOT the way numaplace's sysfs source does it
 * (HWLOC_FSROOT, and HWLOC_COMPONENTS=linux,stop so nothing of the real
 * machine leaks in).  Calls alternate between the two so both see the
 * same machine load; the medians are printed as one JSON object.
 * A benchmark, not a test: nothing is asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hwloc.h>

#include <numaplace/topology.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One numaplace load + JSON write of ROOT; seconds, or -1. */
static double topo_np_once(const char *root)
{
	np_topo *topo = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	double t0 = now_s(), t = -1;

	if (mem && !np_topo_load(NP_SOURCE_SYSFS, root, &topo, NULL) &&
	    !np_topo_write(topo, NP_TOPO_JSON, mem, NULL) && !fflush(mem) && len > 0)
		t = now_s() - t0;
	if (mem)
		fclose(mem);
	free(buf);
	np_topo_free(topo);
	return t;
}

/* One hwloc load + XML export of ROOT (environment set by the caller). */
static double topo_hwloc_once(void)
{
	hwloc_topology_t t;
	char *xml = NULL;
	int len = 0;
	double t0 = now_s(), secs = -1;

	if (hwloc_topology_init(&t))
		return -1;
	if (!hwloc_topology_load(t) && !hwloc_topology_export_xmlbuffer(t, &xml, &len, 0) &&
	    len > 0)
		secs = now_s() - t0;
	if (xml)
		hwloc_free_xmlbuffer(t, xml);
	hwloc_topology_destroy(t);
	return secs;
}

static double median_of(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run_topo(const char *root, long n)
{
	double *a = calloc((size_t)n, sizeof(*a)), *b = calloc((size_t)n, sizeof(*b));
	int rc = 1;

	if (!a || !b)
		goto out;
	for (long i = 0; i < n; i++) {
		/* numaplace sets and restores these itself around its load;
		 * hwloc gets its default set-up, as lstopo does */
		a[i] = topo_np_once(root);
		setenv("HWLOC_FSROOT", root, 1);
		setenv("HWLOC_COMPONENTS", "linux,stop", 1);
		b[i] = topo_hwloc_once();
		unsetenv("HWLOC_FSROOT");
		unsetenv("HWLOC_COMPONENTS");
		if (a[i] < 0 || b[i] < 0) {
			fprintf(stderr, "topo-bench: cannot load '%s'\n", root);
			goto out;
		}
	}
	printf("{\"calls\": %ld, \"numaplace_ms\": %.3f, \"hwloc_ms\": %.3f}\n", n,
	       median_of(a, n) * 1e3, median_of(b, n) * 1e3);
	rc = 0;
out:
	free(a);
	free(b);
	return rc;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 50;

	if (argc < 2 || argc > 3 || n < 1) {
		fprintf(stderr, "usage: topo-bench ROOT [CALLS]\n");
		return 2;
	}
	return run_topo(argv[1], n);
}
