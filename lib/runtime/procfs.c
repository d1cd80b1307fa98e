/*
 * procfs.c - a Linux process as /proc shows it: the text parsers
 * (numa_maps, task stat, status, QEMU thread names and command line) and
 * the observation of a process built from them.
 *
 * numa_maps: "ADDR POLICY TOKEN...".  The policy may contain spaces
 * ("prefer (many):1,3", "weighted interleave:0-3") and '=' ("bind=static:1"),
 * so it is everything between the address and the first token that is a
 * known key (anon=, N0=, huge, stack, kernelpagesize_kB=, ...).  Memory on
 * a node is the N<node>= page count times kernelpagesize_kB (given at the
 * end of the line; 4 when an old kernel omits it).  A VMA is huge pages
 * ("huge"), else file-backed when it has file= - its anon= pages (private
 * copies) are counted as anonymous in proportion - else anonymous.
 * Unknown tokens are skipped, so newer kernels' keys do not break it.
 *
 * All reads go through the OS boundary's proc root, so tests run these on
 * saved trees; a thread that ends while it is being read is skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/rt-int.h"
#include "topology/topo-int.h"

#define FILE_MAX NP_FILE_MAX
#define POLICY_MAX 255

/* ---- numa_maps ------------------------------------------------------ */

static bool has_prefix(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);

	return len >= n && memcmp(s, p, n) == 0;
}

static bool is_key(const char *s, size_t len)
{
	static const char *const keys[] = { "anon=", "dirty=", "mapped=", "mapmax=",
					    "swapcache=", "active=", "writeback=", "file=",
					    "kernelpagesize_kB=", "stack:" };

	if ((len == 4 && memcmp(s, "huge", 4) == 0) || (len == 4 && memcmp(s, "heap", 4) == 0) ||
	    (len == 5 && memcmp(s, "stack", 5) == 0))
		return true;
	for (size_t i = 0; i < NP__ARRAY_SIZE(keys); i++)
		if (has_prefix(s, len, keys[i]))
			return true;
	if (len > 2 && s[0] == 'N' && s[1] >= '0' && s[1] <= '9') {
		size_t i = 1;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		return i < len && s[i] == '=';
	}
	return false;
}

/* One VMA line, parsed. */
struct vma {
	char policy[POLICY_MAX + 1];
	bool huge, file;
	uint64_t anon_pages, page_kb;
	int n;
	int node[64];
	uint64_t pages[64];
};

/* The value of "KEY=NUMBER" in token T of LEN; false when malformed. */
static bool token_u64(const char *t, size_t len, size_t keylen, uint64_t *v)
{
	char num[24];

	if (len <= keylen || len - keylen >= sizeof(num))
		return false;
	memcpy(num, t + keylen, len - keylen);
	num[len - keylen] = '\0';
	return np__parse_u64(num, v) && *v <= (UINT64_C(1) << 50);
}

static int node_token(struct vma *v, const char *t, size_t len)
{
	size_t eq = (size_t)((const char *)memchr(t, '=', len) - t);
	char id[12];
	long node;
	uint64_t pages;

	if (eq - 1 >= sizeof(id))
		return -1;
	memcpy(id, t + 1, eq - 1);
	id[eq - 1] = '\0';
	if (!np__parse_int(id, 0, NP__TOPO_ID_MAX, &node) || !token_u64(t, len, eq + 1, &pages))
		return -1;
	for (int i = 0; i < v->n; i++)
		if (v->node[i] == (int)node)
			return -1; /* the kernel prints each node once */
	if (v->n == (int)NP__ARRAY_SIZE(v->node))
		return -1;
	v->node[v->n] = (int)node;
	v->pages[v->n++] = pages;
	return 0;
}

/* Tokens after the policy; -1 on a malformed value. */
static int vma_token(struct vma *v, const char *t, size_t len)
{
	if (len == 4 && memcmp(t, "huge", 4) == 0)
		v->huge = true;
	else if (has_prefix(t, len, "file="))
		v->file = true;
	else if (has_prefix(t, len, "anon="))
		return token_u64(t, len, 5, &v->anon_pages) ? 0 : -1;
	else if (has_prefix(t, len, "kernelpagesize_kB="))
		return token_u64(t, len, 18, &v->page_kb) && v->page_kb ? 0 : -1;
	else if (t[0] == 'N' && is_key(t, len))
		return node_token(v, t, len);
	return 0;
}

/* Parse one line [S, E); "" for an empty line. */
static const char *vma_parse(const char *s, const char *e, struct vma *v)
{
	const char *p = s, *pol, *pol_end = NULL;

	memset(v, 0, sizeof(*v));
	v->page_kb = 4;
	while (p < e && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
		p++;
	if (p == s || p - s > 16 || p >= e || *p != ' ')
		return "expected a hexadecimal address and a policy";
	pol = ++p;
	while (p < e) {
		const char *t = p;

		while (p < e && *p != ' ')
			p++;
		if (p > t && !pol_end && is_key(t, (size_t)(p - t)))
			pol_end = t;
		if (p > t && pol_end && vma_token(v, t, (size_t)(p - t)) < 0)
			return "bad value in a numa_maps token";
		while (p < e && *p == ' ')
			p++;
	}
	for (int i = 0; i < v->n; i++)
		if (v->pages[i] > (UINT64_C(1) << 52) / v->page_kb)
			return "memory too large";
	if (!pol_end)
		pol_end = e;
	while (pol_end > pol && pol_end[-1] == ' ')
		pol_end--;
	if (pol_end == pol)
		return "missing policy";
	if (pol_end - pol > POLICY_MAX)
		return "policy too long";
	memcpy(v->policy, pol, (size_t)(pol_end - pol));
	return NULL;
}

static struct np_rt_mem *maps_node(struct np__maps *m, int os_node)
{
	int i = 0;
	struct np__maps_node *n;

	while (i < m->nnodes && m->nodes[i].os_node < os_node)
		i++;
	if (i < m->nnodes && m->nodes[i].os_node == os_node)
		return &m->nodes[i].mem;
	n = realloc(m->nodes, ((size_t)m->nnodes + 1) * sizeof(*n));
	if (!n)
		return NULL;
	m->nodes = n;
	memmove(&n[i + 1], &n[i], (size_t)(m->nnodes - i) * sizeof(*n));
	memset(&n[i], 0, sizeof(*n));
	n[i].os_node = os_node;
	m->nnodes++;
	return &n[i].mem;
}

static int maps_policy(struct np__maps *m, const char *policy, uint64_t kb)
{
	struct np__pol *p;

	for (int i = 0; i < m->npol; i++) {
		if (strcmp(m->pol[i].name, policy) == 0) {
			m->pol[i].kb += kb;
			return 0;
		}
	}
	p = realloc(m->pol, ((size_t)m->npol + 1) * sizeof(*p));
	if (!p)
		return NP_ENOMEM;
	m->pol = p;
	p[m->npol].name = strdup(policy);
	p[m->npol].kb = kb;
	if (!p[m->npol].name)
		return NP_ENOMEM;
	m->npol++;
	return 0;
}

static int maps_add(struct np__maps *m, const struct vma *v)
{
	uint64_t total = 0, vkb = 0;

	for (int i = 0; i < v->n; i++)
		total += v->pages[i];
	for (int i = 0; i < v->n; i++) {
		struct np_rt_mem *mem = maps_node(m, v->node[i]);
		uint64_t kb = v->pages[i] * v->page_kb, anon;

		if (!mem)
			return NP_ENOMEM;
		vkb += kb;
		if (v->huge) {
			mem->huge_kb += kb;
		} else if (v->file) {
			anon = v->anon_pages >= total ? kb
						     : (uint64_t)((double)kb * (double)v->anon_pages /
								  (double)total);
			mem->anon_kb += anon;
			mem->file_kb += kb - anon;
		} else {
			mem->anon_kb += kb;
		}
	}
	m->total_kb += vkb;
	m->nvma++;
	return maps_policy(m, v->policy, vkb);
}

int np__numa_maps_parse(const char *buf, struct np__maps *out, struct np_error *err)
{
	struct np__maps m = { 0 };
	struct vma *v = malloc(sizeof(*v));
	const char *p = buf, *why;
	int line = 0, rc = 0;

	if (!v)
		return np__err(err, NP_ENOMEM, "out of memory");
	while (*p && !rc) {
		const char *e = strchr(p, '\n');

		if (!e)
			e = p + strlen(p);
		line++;
		if (e > p) {
			why = vma_parse(p, e, v);
			if (why)
				rc = np__err(err, NP_EINPUT, "numa_maps line %d: %s", line, why);
			else if (maps_add(&m, v))
				rc = np__err(err, NP_ENOMEM, "out of memory");
			else if (m.total_kb > (UINT64_C(1) << 52))
				rc = np__err(err, NP_EINPUT, "numa_maps line %d: memory too large",
					     line);
		}
		p = *e ? e + 1 : e;
	}
	free(v);
	if (rc) {
		np__maps_free(&m);
		return rc;
	}
	*out = m;
	return 0;
}

void np__maps_free(struct np__maps *m)
{
	for (int i = 0; i < m->npol; i++)
		free(m->pol[i].name);
	free(m->pol);
	free(m->nodes);
	memset(m, 0, sizeof(*m));
}

/* ---- stat, status, names -------------------------------------------- */

int np__stat_parse(const char *buf, struct np__stat *out)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')'), *p;
	char head[16];
	uint64_t f[37];
	long tid;
	int nf = 0;

	if (!open || !close || close < open || open - buf >= (long)sizeof(head) || !close[1])
		return -1;
	memcpy(head, buf, (size_t)(open - buf));
	head[open - buf] = '\0';
	if (!np__parse_int(head, 1, INT32_MAX, &tid) || close[1] != ' ' || !close[2])
		return -1;
	memset(out, 0, sizeof(*out));
	out->tid = (int)tid;
	snprintf(out->comm, sizeof(out->comm), "%.*s", (int)(close - open - 1), open + 1);
	out->state = close[2];
	p = close + 3;
	/* Fields 4..: numbers; negative ones (priority, nice) wrap, unused here. */
	while (nf < 37 && *p == ' ') {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(p + 1, &end, 10);
		if (end == p + 1 || errno || (*end && *end != ' ' && *end != '\n'))
			return -1;
		f[nf++] = v;
		p = end;
	}
	if (nf < 36)
		return -1;
	out->utime = f[10];  /* field 14 */
	out->stime = f[11];  /* field 15 */
	out->start_ticks = f[18]; /* field 22 */
	out->cpu = f[35] > (uint64_t)NP__TOPO_ID_MAX ? -1 : (int)f[35]; /* field 39 */
	return 0;
}

int np__status_allowed(const char *buf, int **cpus, int *n)
{
	const char *p = strstr(buf, "\nCpus_allowed_list:");
	char list[8192];
	size_t len;

	if (!p && strncmp(buf, "Cpus_allowed_list:", 18) == 0)
		p = buf - 1;
	if (!p)
		return NP_EINPUT;
	p += 19;
	len = strcspn(p, "\n");
	if (len >= sizeof(list))
		return NP_EINPUT;
	memcpy(list, p, len);
	list[len] = '\0';
	return np__parse_cpulist(list, NP__TOPO_ID_MAX, cpus, n) ? NP_EINPUT : 0;
}

int np__vcpu_of_name(const char *comm)
{
	char num[12];
	size_t len;
	long v;

	if (strncmp(comm, "CPU ", 4) != 0)
		return -1;
	len = strcspn(comm + 4, "/");
	if (!comm[4 + len] || len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, comm + 4, len);
	num[len] = '\0';
	return np__parse_int(num, 0, 1 << 20, &v) ? (int)v : -1;
}

/* A PCI address "dddd:bb:dd.f" or "bb:dd.f" at S, normalised into OUT. */
static bool pci_address(const char *s, char out[16])
{
	unsigned dom = 0, bus, dev, fn;
	int used = 0;

	if (sscanf(s, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &used) == 4 && used == 12)
		;
	else if (sscanf(s, "%2x:%2x.%1x%n", &bus, &dev, &fn, &used) == 3 && used == 7)
		dom = 0;
	else
		return false;
	if (s[used] && s[used] != ',' && s[used] != ' ')
		return false;
	snprintf(out, 16, "%04x:%02x:%02x.%x", dom & 0xffff, bus & 0xff, dev & 0x1f, fn & 7);
	return true;
}

int np__cmdline_devices(const char *buf, size_t len, char (**dev)[16], int *n)
{
	char(*d)[16] = NULL;
	size_t cap = 0;
	int nd = 0;

	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		const char *a = buf + i, *h;

		if (strncmp(a, "vfio-pci", 8) != 0 || !(h = strstr(a, "host=")))
			continue;
		if (np__grow((void **)&d, &cap, (size_t)nd + 1, sizeof(*d)) < 0) {
			free(d);
			return NP_ENOMEM;
		}
		if (pci_address(h + 5, d[nd]))
			nd++;
	}
	*dev = d;
	*n = nd;
	return 0;
}

/* ---- observing a process -------------------------------------------- */

/* read_proc() is below; the uids need only the status file. */
static int read_proc(const struct np__rt_os *os, const char *rel, char **buf, size_t *len,
		     struct np_error *err);

int np__proc_uids(const struct np__rt_os *os, int pid, long uid[3])
{
	char rel[64], *buf = NULL, *p;
	size_t len = 0;
	int rc = -1;

	snprintf(rel, sizeof(rel), "%d/status", pid);
	if (pid <= 0 || read_proc(os, rel, &buf, &len, NULL))
		return -1;
	p = strncmp(buf, "Uid:", 4) == 0 ? buf : strstr(buf, "\nUid:");
	if (p && sscanf(p + (*p == '\n') + 4, "%ld %ld %ld", &uid[0], &uid[1], &uid[2]) == 3 &&
	    uid[0] >= 0 && uid[1] >= 0 && uid[2] >= 0)
		rc = 0;
	free(buf);
	return rc;
}

static int read_proc(const struct np__rt_os *os, const char *rel, char **buf, size_t *len,
		     struct np_error *err)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", os->proc, rel);
	return np__read_file(path, FILE_MAX, buf, len, err);
}

static int thread_of(const struct np__rt_os *os, const np_topo *topo, int pid, int tid,
		     np_obs *obs)
{
	char rel[96], *buf = NULL;
	size_t len;
	struct np__stat st;
	struct np_rt_thread t = { .tid = tid, .cpu = -1, .node_idx = -1, .state = '?' };
	int *allowed = NULL, nallowed = 0, rc = 0, ci;
	long hz = sysconf(_SC_CLK_TCK);

	snprintf(rel, sizeof(rel), "%d/task/%d/stat", pid, tid);
	if (read_proc(os, rel, &buf, &len, NULL))
		return 0; /* it ended meanwhile */
	if (np__stat_parse(buf, &st) == 0) {
		snprintf(t.name, sizeof(t.name), "%s", st.comm);
		t.state = st.state;
		t.cpu = st.cpu;
		t.cpu_ms = (st.utime + st.stime) * 1000 / (uint64_t)(hz > 0 ? hz : 100);
	}
	free(buf);
	buf = NULL;
	ci = t.cpu >= 0 ? np_topo_cpu_index(topo, t.cpu) : -1;
	t.node_idx = ci >= 0 ? np_topo_cpu(topo, ci)->node_idx : -1;
	t.vcpu = np__vcpu_of_name(t.name);
	snprintf(rel, sizeof(rel), "%d/task/%d/status", pid, tid);
	if (read_proc(os, rel, &buf, &len, NULL) == 0)
		np__status_allowed(buf, &allowed, &nallowed);
	t.nallowed = nallowed;
	rc = np__obs_add_thread(obs, &t, allowed);
	free(allowed);
	free(buf);
	return rc;
}

static int threads_of(const struct np__rt_os *os, const np_topo *topo, int pid, np_obs *obs,
		      struct np_error *err)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%d/task", os->proc, pid);
	d = opendir(path);
	if (!d)
		return np__err(err, errno == EACCES ? NP_EIO : NP_EINPUT,
			       "cannot list the threads of process %d: %s", pid, strerror(errno));
	while (!rc && (de = readdir(d))) {
		long tid;

		if (np__parse_int(de->d_name, 1, INT32_MAX, &tid))
			rc = thread_of(os, topo, pid, (int)tid, obs);
	}
	closedir(d);
	if (rc)
		return np__err(err, rc, "out of memory");
	if (obs->nthreads == 0)
		return np__err(err, NP_EINPUT, "no such process %d", pid);
	return 0;
}

int np__observe_maps(const struct np__rt_os *os, const np_topo *topo, int pid, np_obs *obs,
		     struct np_error *err)
{
	char rel[64], *buf = NULL;
	size_t len;
	struct np__maps m = { 0 };
	struct np_error e2 = { 0 };
	int rc;

	snprintf(rel, sizeof(rel), "%d/numa_maps", pid);
	rc = read_proc(os, rel, &buf, &len, &e2);
	if (rc) {
		bool gone = strstr(e2.message, "No such file") != NULL;

		return np__err(err, gone ? NP_EINPUT : NP_EIO,
			       gone ? "no such process %d" :
				      "cannot read the memory of process %d: %s", pid,
			       strstr(e2.message, "': ") ? strstr(e2.message, "': ") + 3 : e2.message);
	}
	rc = np__numa_maps_parse(buf, &m, err);
	free(buf);
	if (rc)
		return rc;
	rc = np__obs_set_maps(obs, topo, &m);
	np__maps_free(&m);
	return rc ? np__err(err, rc, "out of memory") : 0;
}

static int header_of(const struct np__rt_os *os, int pid, np_obs *obs, struct np_error *err)
{
	char rel[64], *buf = NULL;
	size_t len;
	struct np__stat st;
	int rc;

	snprintf(rel, sizeof(rel), "%d/stat", pid);
	rc = read_proc(os, rel, &buf, &len, NULL);
	if (rc)
		return np__err(err, NP_EINPUT, "no such process %d", pid);
	if (np__stat_parse(buf, &st) == 0) {
		snprintf(obs->name, sizeof(obs->name), "%s", st.comm);
		obs->start_ticks = st.start_ticks;
	}
	free(buf);
	snprintf(rel, sizeof(rel), "%d/cmdline", pid);
	if (read_proc(os, rel, &buf, &len, NULL) == 0) {
		char(*dev)[16] = NULL;
		int nd = 0;

		rc = np__cmdline_devices(buf, len, &dev, &nd);
		for (int i = 0; !rc && i < nd; i++)
			rc = np__obs_add_device(obs, dev[i]);
		free(dev);
		free(buf);
	}
	return rc ? np__err(err, rc, "out of memory") : 0;
}

int np__observe_process(const struct np__rt_os *os, const np_topo *topo, int pid,
			np_obs **out, struct np_error *err)
{
	np_obs *obs;
	int rc;

	if (pid <= 0)
		return np__err(err, NP_EINPUT, "no such process %d", pid);
	obs = np__obs_new(topo);
	if (!obs)
		return np__err(err, NP_ENOMEM, "out of memory");
	obs->pid = pid;
	obs->time_ms = os->now_ms();
	rc = header_of(os, pid, obs, err);
	if (!rc)
		rc = threads_of(os, topo, pid, obs, err);
	if (!rc)
		rc = np__observe_maps(os, topo, pid, obs, err);
	if (rc) {
		np_obs_free(obs);
		return rc;
	}
	*out = obs;
	return 0;
}

/* ---- the host now --------------------------------------------------- */

static uint64_t node_free_mb(const struct np__rt_os *os, const struct np_node *n)
{
	char path[256], *buf = NULL, *p;
	size_t len;
	uint64_t kb = n->mem_free_kb;

	snprintf(path, sizeof(path), "%s/devices/system/node/node%d/meminfo", os->sys, n->os_id);
	if (np__read_file(path, 1 << 20, &buf, &len, NULL) == 0 && (p = strstr(buf, "MemFree:")))
		kb = strtoull(p + 8, NULL, 10);
	free(buf);
	return kb / 1024;
}

/* Count threads in state R per CPU: every /proc/PID/task/TID/stat. */
static void runnable(const struct np__rt_os *os, const np_topo *topo, int *per_cpu)
{
	char path[600], *buf;
	struct dirent *pe, *te;
	DIR *pd = opendir(os->proc), *td;
	struct np__stat st;
	size_t len;
	int ci;
	char self[16];

	/* numaplace itself is running while it looks: leave it out. */
	snprintf(self, sizeof(self), "%d", (int)getpid());
	while (pd && (pe = readdir(pd))) {
		if (pe->d_name[0] < '1' || pe->d_name[0] > '9' || strcmp(pe->d_name, self) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/task", os->proc, pe->d_name);
		if (!(td = opendir(path)))
			continue;
		while ((te = readdir(td))) {
			if (te->d_name[0] < '1' || te->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "%s/%s/task/%s/stat", os->proc, pe->d_name,
				 te->d_name);
			buf = NULL;
			if (np__read_file(path, 4096, &buf, &len, NULL) == 0 &&
			    np__stat_parse(buf, &st) == 0 && st.state == 'R' &&
			    (ci = np_topo_cpu_index(topo, st.cpu)) >= 0)
				per_cpu[ci]++;
			free(buf);
		}
		closedir(td);
	}
	if (pd)
		closedir(pd);
}

int np__host_sample(const struct np__rt_os *os, const np_topo *topo,
		    struct np_bal_node *nodes, struct np_error *err)
{
	int ncpu = np_topo_cpu_count(topo);
	int *per_cpu = np__calloc((size_t)ncpu + 1, sizeof(int));

	if (!per_cpu)
		return np__err(err, NP_ENOMEM, "out of memory");
	runnable(os, topo, per_cpu);
	for (int i = 0; i < np_topo_node_count(topo); i++) {
		const struct np_node *n = np_topo_node(topo, i);
		int r = 0;

		for (int c = 0; c < n->ncpus; c++)
			r += per_cpu[np_topo_cpu_index(topo, n->cpus[c])];
		nodes[i].free_mb = node_free_mb(os, n);
		nodes[i].load = n->ncpus ? (double)r / n->ncpus : 0;
	}
	free(per_cpu);
	return 0;
}
