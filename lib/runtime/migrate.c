/*
 * migrate.c - moving a process's memory onto chosen nodes, rate-limited.
 *
 * Without a rate limit: one migrate_pages(2) from every node to the target
 * nodes, as numactl's migratepages does; the memory moved is what
 * numa_maps shows away from the targets before, less what it shows after.
 *
 * With a limit of R MB/s, or to move only some memory (MAX_KB from one
 * node, as the balancer does): walk the VMAs of /proc/PID/maps in chunks of
 * pages sized for about a tenth of a second at R, ask move_pages(2) where
 * each page is (nodes NULL), move only the pages not on a target (spread
 * over several targets page by page), and sleep whenever the moved bytes
 * run ahead of R.  Chunks are whole multiples of 2 MiB and aligned to
 * their size: the kernel moves a transparent huge page whole when asked
 * for any of its pages, so a huge page split over two chunks would move
 * with the first and be missed by the count of the second.  Pages the kernel refuses (busy, pinned, no memory on the
 * target) are counted in failed_pages, not an error: the rest still moves.
 *
 * Ownership: all buffers are local and freed on every path.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/rt-int.h"

#define CHUNK_MAX 16384 /* pages per move_pages call */
#define CHUNK_MIN 512   /* a 2 MiB transparent huge page, in 4 KiB pages */

struct mig {
	const struct np__rt_os *os;
	int pid;
	int *to_os;          /* target node os ids */
	int nto;
	int from_os;         /* move only pages on this node; -1 any */
	uint64_t max_pages;  /* stop after moving this many; 0 no limit */
	double rate;         /* MB/s; 0 no limit */
	uint64_t t0;
	uint64_t moved, failed; /* pages */
	size_t page;
	size_t chunk;
	void **addr;
	int *nodes, *status;
};

static bool on_target(const struct mig *m, int node)
{
	for (int i = 0; i < m->nto; i++)
		if (m->to_os[i] == node)
			return true;
	return false;
}

/* Sleep while the bytes moved are ahead of the rate. */
static void throttle(struct mig *m)
{
	double mb = (double)(m->moved * m->page) / (1024.0 * 1024.0);
	uint64_t due = m->rate > 0 ? m->t0 + (uint64_t)(mb / m->rate * 1000.0) : 0;
	uint64_t now = m->os->now_ms();

	if (m->rate > 0 && due > now)
		m->os->sleep_ms(due - now);
}

/* Query and move the N pages of ADDR; -errno on a failure of the call. */
static int chunk(struct mig *m, size_t n)
{
	size_t k = 0;
	int rc = m->os->move_pages(m->pid, n, m->addr, NULL, m->status);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (m->status[i] < 0 || on_target(m, m->status[i]) ||
		    (m->from_os >= 0 && m->status[i] != m->from_os))
			continue; /* not present, home already, or not from that node */
		if (m->max_pages && m->moved + k >= m->max_pages)
			break;
		m->addr[k] = m->addr[i];
		m->nodes[k] = m->to_os[k % (size_t)m->nto];
		k++;
	}
	if (k == 0)
		return 0;
	rc = m->os->move_pages(m->pid, k, m->addr, m->nodes, m->status);
	if (rc)
		return rc;
	for (size_t i = 0; i < k; i++) {
		if (m->status[i] >= 0)
			m->moved++;
		else
			m->failed++;
	}
	throttle(m);
	return 0;
}

static int range(struct mig *m, uintptr_t start, uintptr_t end)
{
	uintptr_t span = (uintptr_t)(m->chunk * m->page);

	for (uintptr_t a = start; a < end && !(m->max_pages && m->moved >= m->max_pages);) {
		/* Chunks end on multiples of their size, so no huge page straddles two. */
		uintptr_t stop = (a / span + 1) * span;
		size_t n = 0;
		int rc;

		while (a < end && a < stop) {
			m->addr[n++] = (void *)a;
			a += m->page;
		}
		rc = chunk(m, n);
		if (rc == -ENOMEM || rc == -EPERM || rc == -ESRCH || rc == -EACCES)
			return rc;
		/* Other failures (EFAULT on an odd VMA): skip the chunk. */
	}
	return 0;
}

/* Whether the maps line names a VMA worth walking. */
static bool movable(const char *line, uintptr_t *start, uintptr_t *end)
{
	unsigned long long s, e;
	char perms[8];
	int used = 0;

	if (sscanf(line, "%llx-%llx %7s%n", &s, &e, perms, &used) != 3 || e <= s)
		return false;
	if (strstr(line, "[vsyscall]") || strstr(line, "[vvar]") || strstr(line, "[vdso]"))
		return false;
	if (perms[0] != 'r' && perms[1] != 'w' && perms[2] != 'x')
		return false; /* a guard area holds no pages */
	*start = (uintptr_t)s;
	*end = (uintptr_t)e;
	return true;
}

static int walk(struct mig *m, char *maps, struct np_error *err)
{
	for (char *line = maps, *nl; line && *line; line = nl) {
		uintptr_t s, e;
		int rc;

		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (!movable(line, &s, &e))
			continue;
		rc = range(m, s, e);
		if (rc)
			return np__err(err, rc == -ENOMEM ? NP_ENOMEM : NP_EIO,
				       "cannot move the pages of process %d: %s", m->pid,
				       strerror(-rc));
	}
	return 0;
}

static int limited(struct mig *m, struct np_error *err)
{
	char path[300], *maps = NULL;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/%d/maps", m->os->proc, m->pid);
	rc = np__read_file(path, NP_FILE_MAX, &maps, &len, err);
	if (rc)
		return rc;
	m->chunk = m->rate > 0 ? (size_t)(m->rate * 1024 * 1024 / 10 / (double)m->page)
			       : CHUNK_MAX;
	m->chunk = m->chunk < CHUNK_MIN ? CHUNK_MIN : m->chunk > CHUNK_MAX ? CHUNK_MAX : m->chunk;
	m->chunk -= m->chunk % CHUNK_MIN;
	m->addr = calloc(m->chunk, sizeof(*m->addr));
	m->nodes = calloc(m->chunk, sizeof(int));
	m->status = calloc(m->chunk, sizeof(int));
	if (!m->addr || !m->nodes || !m->status)
		rc = np__err(err, NP_ENOMEM, "out of memory");
	else
		rc = walk(m, maps, err);
	free(maps);
	free(m->addr);
	free(m->nodes);
	free(m->status);
	return rc;
}

/* KiB of PID's memory away from the nodes TO (indexes), by numa_maps. */
static int away_kb(const struct np__rt_os *os, const np_topo *topo, int pid, const int *to,
		   int nto, uint64_t *kb, struct np_error *err)
{
	np_obs *obs = np__obs_new(topo);
	uint64_t home = 0;
	int rc;

	if (!obs)
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np__observe_maps(os, topo, pid, obs, err);
	for (int i = 0; !rc && i < nto; i++) {
		const struct np_rt_mem *mm = np_obs_mem(obs, to[i]);

		home += mm->anon_kb + mm->file_kb + mm->huge_kb;
	}
	if (!rc)
		*kb = obs->total_kb > home ? obs->total_kb - home : 0;
	np_obs_free(obs);
	return rc;
}

static int whole(struct mig *m, const np_topo *topo, const int *to, int nto,
		 struct np_apply_result *res, struct np_error *err)
{
	int max = np_topo_node(topo, np_topo_node_count(topo) - 1)->os_id;
	uint64_t before = 0, after = 0;
	long left;
	int rc = away_kb(m->os, topo, m->pid, to, nto, &before, err);

	if (rc)
		return rc;
	left = m->os->migrate_pages(m->pid, m->to_os, m->nto, max);
	if (left < 0)
		return np__err(err, left == -ENOMEM ? NP_ENOMEM : NP_EIO,
			       "cannot move the pages of process %d: %s", m->pid, strerror((int)-left));
	rc = away_kb(m->os, topo, m->pid, to, nto, &after, err);
	if (rc)
		return rc;
	res->moved_kb += before > after ? before - after : 0;
	res->failed_pages += (uint64_t)left;
	return 0;
}

int np__migrate(const struct np__rt_os *os, const np_topo *topo, int pid, int from,
		const int *to, int nto, uint64_t max_kb, double rate_mb_s,
		struct np_apply_result *res, struct np_error *err)
{
	struct mig m = { .os = os, .pid = pid, .nto = nto, .rate = rate_mb_s, .from_os = -1 };
	int rc;

	m.to_os = malloc(((size_t)nto + 1) * sizeof(int));
	if (!m.to_os)
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < nto; i++)
		m.to_os[i] = np_topo_node(topo, to[i])->os_id;
	m.page = (size_t)sysconf(_SC_PAGESIZE);
	m.t0 = os->now_ms();
	if (from >= 0)
		m.from_os = np_topo_node(topo, from)->os_id;
	m.max_pages = max_kb ? (max_kb * 1024 + m.page - 1) / m.page : 0;
	if (rate_mb_s > 0 || from >= 0 || max_kb) {
		rc = limited(&m, err);
		res->moved_kb += m.moved * m.page / 1024;
		res->failed_pages += m.failed;
	} else {
		rc = whole(&m, topo, to, nto, res, err);
	}
	res->seconds += (double)(os->now_ms() - m.t0) / 1000.0;
	free(m.to_os);
	return rc;
}
