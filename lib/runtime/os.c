/*
 * os.c - the live OS boundary of the runtime module (rt-int.h): /proc,
 * /sys, sched_setaffinity, and libnuma's wrappers of move_pages(2),
 * migrate_pages(2) and set_mempolicy(2), the monotonic clock and sleep.
 *
 * Nothing else in lib/runtime/ makes these calls (libvirt.c talks to
 * libvirt, which is a boundary of its own), so tests replace this table.
 * Errors come back as -errno, never through errno.
 *
 * This file is module numa (module/module.h), so that only the runtime
 * loads libnuma; the library gets the table through np__rt_os().
 */
#include <errno.h>
#include <numaif.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/rt-int.h"

#define CPU_ID_LIMIT 65536

static int live_set_affinity(int tid, const int *cpus, int n)
{
	int max = 0, rc;
	cpu_set_t *set;
	size_t size;

	for (int i = 0; i < n; i++)
		if (cpus[i] < 0 || cpus[i] >= CPU_ID_LIMIT)
			return -EINVAL;
		else if (cpus[i] > max)
			max = cpus[i];
	set = CPU_ALLOC(max + 1);
	if (!set)
		return -ENOMEM;
	size = CPU_ALLOC_SIZE(max + 1);
	CPU_ZERO_S(size, set);
	for (int i = 0; i < n; i++)
		CPU_SET_S(cpus[i], size, set);
	rc = sched_setaffinity(tid, size, set) ? -errno : 0;
	CPU_FREE(set);
	return rc;
}

static int live_get_affinity(int tid, int **cpus, int *n)
{
	cpu_set_t *set = CPU_ALLOC(CPU_ID_LIMIT);
	size_t size = CPU_ALLOC_SIZE(CPU_ID_LIMIT);
	int *out, k = 0, rc = 0;

	if (!set)
		return -ENOMEM;
	if (sched_getaffinity(tid, size, set)) {
		rc = -errno;
		goto out;
	}
	out = malloc(((size_t)CPU_COUNT_S(size, set) + 1) * sizeof(int));
	if (!out) {
		rc = -ENOMEM;
		goto out;
	}
	for (int c = 0; c < CPU_ID_LIMIT; c++)
		if (CPU_ISSET_S(c, size, set))
			out[k++] = c;
	*cpus = out;
	*n = k;
out:
	CPU_FREE(set);
	return rc;
}

static int live_move_pages(int pid, unsigned long count, void **pages, const int *nodes,
			   int *status)
{
	return move_pages(pid, count, pages, nodes, status, MPOL_MF_MOVE) < 0 ? -errno : 0;
}

/* A node mask of the os ids IDS, for MAXNODE = MAX_OS + 2 bits. */
static unsigned long *node_mask(const int *ids, int n, int max_os, bool all)
{
	size_t bits = 8 * sizeof(unsigned long), words = (size_t)(max_os + 1) / bits + 1;
	unsigned long *m = calloc(words, sizeof(*m));

	for (int i = 0; m && all && i <= max_os; i++)
		m[(size_t)i / bits] |= 1UL << ((size_t)i % bits);
	for (int i = 0; m && !all && i < n; i++)
		if (ids[i] >= 0 && ids[i] <= max_os)
			m[(size_t)ids[i] / bits] |= 1UL << ((size_t)ids[i] % bits);
	return m;
}

static long live_migrate_pages(int pid, const int *to, int nto, int max_os_node)
{
	unsigned long *from = node_mask(NULL, 0, max_os_node, true);
	unsigned long *dest = node_mask(to, nto, max_os_node, false);
	long rc = -ENOMEM;

	if (from && dest) {
		rc = migrate_pages(pid, (unsigned long)max_os_node + 2, from, dest);
		if (rc < 0)
			rc = -errno;
	}
	free(from);
	free(dest);
	return rc;
}

static int live_set_mempolicy(int mode, const int *os_nodes, int n)
{
	int max = 0;
	unsigned long *mask;
	long rc;

	for (int i = 0; i < n; i++)
		max = os_nodes[i] > max ? os_nodes[i] : max;
	mask = node_mask(os_nodes, n, max, false);
	if (!mask)
		return -ENOMEM;
	rc = set_mempolicy(mode, mask, (unsigned long)max + 2);
	free(mask);
	return rc < 0 ? -errno : 0;
}

static uint64_t live_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t live_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void live_sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static const struct np__rt_os live = {
	.proc = "/proc",
	.sys = "/sys",
	.set_affinity = live_set_affinity,
	.get_affinity = live_get_affinity,
	.move_pages = live_move_pages,
	.migrate_pages = live_migrate_pages,
	.set_mempolicy = live_set_mempolicy,
	.now_ms = live_now_ms,
	.wall_ms = live_wall_ms,
	.sleep_ms = live_sleep_ms,
};

const struct np__rt_os *np__rt_os_live(void)
{
	return &live;
}
