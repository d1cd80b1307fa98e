/*
 * test-runtime.c - the runtime module on saved /proc data and on live
 * objects: the numa_maps parser (policies with spaces, huge pages, file
 * vs anon, unknown nodes, bad input), task stat and status, a saved QEMU
 * process observed through a test OS boundary, the host sample, apply's
 * rollback and rate-limited migration against fake system calls, the
 * diagnosis, fallback and shrink orders, the balancer policy file, this
 * test process observed live, and libvirt's test driver.
 *
 * Saved data: tests/data/runtime/ (a QEMU-like process 4242 with vCPU
 * threads and a vfio-pci device, another process with runnable threads,
 * per-node meminfo), found through $NP_SRC or the source path.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "np-config.h"
#if NP_HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif

#include "check.h"
#include "runtime/balance-int.h"
#include "runtime/rt-int.h"
#include "topology/topo-int.h"

static char data[1024];

static const char *data_dir(void)
{
	snprintf(data, sizeof(data), "%s", t_data("runtime"));
	if (access(data, R_OK)) {
		fprintf(stderr, "no test data at %s\n", data);
		exit(99);
	}
	return data;
}

/* Two nodes: CPUs 0-3 on node 0, 4-7 on node 1, 4 GiB each, distance 21. */
static np_topo *two_nodes(void)
{
	np__tb *b = np__tb_new(NP_SOURCE_JSON, "hand");
	np_topo *t = NULL;

	for (int n = 0; n < 2; n++) {
		np__tb_node(b, n, 4 << 20);
		for (int c = 0; c < 4; c++)
			np__tb_cpu(b, n * 4 + c, n, n * 4 + c, n, true);
	}
	np__tb_distance(b, 0, 1, 21);
	np__tb_distance(b, 1, 0, 21);
	np__tb_distance(b, 0, 0, 10);
	np__tb_distance(b, 1, 1, 10);
	np__tb_device(b, "0000:81:00.0", 0x10de, 0x1234, 0x030000, 1);
	np__tb_device(b, "0000:00:02.0", 0x8086, 0x1234, 0x020000, 0);
	if (np__tb_finish(b, &t, NULL))
		exit(99);
	return t;
}

/* Four nodes with an asymmetric matrix; node 3 has memory and no CPUs. */
static np_topo *four_nodes(void)
{
	static const uint32_t d[4][4] = {
		{ 10, 30, 20, 40 }, { 30, 10, 40, 20 }, { 20, 40, 10, 30 }, { 17, 20, 30, 10 } };
	np__tb *b = np__tb_new(NP_SOURCE_JSON, "hand4");
	np_topo *t = NULL;

	for (int n = 0; n < 4; n++) {
		np__tb_node(b, n, 1 << 20);
		if (n < 3)
			np__tb_cpu(b, n, n, n, n, true);
		for (int m = 0; m < 4; m++)
			np__tb_distance(b, n, m, d[n][m]);
	}
	if (np__tb_finish(b, &t, NULL))
		exit(99);
	return t;
}

/* ---- a test OS boundary --------------------------------------------- */

static uint64_t fake_now;
static int set_calls, fail_tid;
static int set_log_tid[64], set_log_n[64], set_log_first[64];
static uint64_t pages_moved;

static int fake_set_affinity(int tid, const int *cpus, int n)
{
	if (set_calls < 64) {
		set_log_tid[set_calls] = tid;
		set_log_n[set_calls] = n;
		set_log_first[set_calls] = n ? cpus[0] : -1;
	}
	set_calls++;
	return tid == fail_tid ? -EPERM : 0;
}

static int fake_get_affinity(int tid, int **cpus, int *n)
{
	*cpus = malloc(2 * sizeof(int));
	(*cpus)[0] = 0;
	(*cpus)[1] = 7;
	*n = 2;
	return 0;
}

/* Every page is on node 0; moving works; each call costs 1 ms. */
static int fake_move_pages(int pid, unsigned long count, void **pages, const int *nodes,
			   int *status)
{
	for (unsigned long i = 0; i < count; i++)
		status[i] = nodes ? nodes[i] : 0;
	if (nodes)
		pages_moved += count;
	fake_now += 1;
	return 0;
}

static long fake_migrate_pages(int pid, const int *to, int nto, int max) { return 0; }
static int fake_set_mempolicy(int mode, const int *n, int k) { return 0; }
static uint64_t fake_now_ms(void) { return fake_now; }
static uint64_t fake_wall_ms(void) { return 1700000000000ULL + fake_now; }
static void fake_sleep_ms(uint64_t ms) { fake_now += ms; }

static char proc_root[1100], sys_root[1100];

static struct np__rt_os fake_os(void)
{
	snprintf(proc_root, sizeof(proc_root), "%s/proc", data_dir());
	snprintf(sys_root, sizeof(sys_root), "%s/sys", data_dir());
	return (struct np__rt_os){ .proc = proc_root, .sys = sys_root,
				   .set_affinity = fake_set_affinity,
				   .get_affinity = fake_get_affinity,
				   .move_pages = fake_move_pages,
				   .migrate_pages = fake_migrate_pages,
				   .set_mempolicy = fake_set_mempolicy, .now_ms = fake_now_ms,
				   .wall_ms = fake_wall_ms, .sleep_ms = fake_sleep_ms };
}

/* ---- numa_maps ------------------------------------------------------ */

static uint64_t pol_kb(const struct np__maps *m, const char *name)
{
	for (int i = 0; i < m->npol; i++)
		if (strcmp(m->pol[i].name, name) == 0)
			return m->pol[i].kb;
	return UINT64_MAX;
}

static const struct np_rt_mem *node_mem(const struct np__maps *m, int os)
{
	static const struct np_rt_mem none;

	for (int i = 0; i < m->nnodes; i++)
		if (m->nodes[i].os_node == os)
			return &m->nodes[i].mem;
	return &none;
}

static void test_numa_maps_saved(void)
{
	char path[1200], *buf = NULL;
	size_t len;
	struct np__maps m;
	struct np_error err = { 0 };

	snprintf(path, sizeof(path), "%s/proc/4242/numa_maps", data_dir());
	CHECK(np__read_file(path, 1 << 20, &buf, &len, NULL) == 0, "read %s", path);
	CHECK(np__numa_maps_parse(buf, &m, &err) == 0, "parse: %s", err.message);
	free(buf);
	CHECK(m.nvma == 12, "12 VMAs, got %d", m.nvma);
	CHECK(m.npol == 7, "7 distinct policies, got %d", m.npol);
	CHECK(pol_kb(&m, "prefer (many):0-1") == 4000, "policy with a space and parentheses");
	CHECK(pol_kb(&m, "weighted interleave:0-1") == 40, "policy name with a space");
	CHECK(pol_kb(&m, "interleave=static:0-1") == 16384, "policy with flags after '='");
	CHECK(pol_kb(&m, "bind=relative:1") == 1048576, "hugetlb VMA: 512 pages of 2 MiB");
	CHECK(pol_kb(&m, "bind:1") == 1048576, "bind:1");
	CHECK(pol_kb(&m, "default") == 7420, "default: %llu", (unsigned long long)pol_kb(&m, "default"));
	CHECK(pol_kb(&m, "local") == 4, "local");
	CHECK(node_mem(&m, 0)->anon_kb == 12672 && node_mem(&m, 0)->file_kb == 4832 &&
		      node_mem(&m, 0)->huge_kb == 0,
	      "node 0: anon %llu file %llu (private copies of file pages are anon)",
	      (unsigned long long)node_mem(&m, 0)->anon_kb,
	      (unsigned long long)node_mem(&m, 0)->file_kb);
	CHECK(node_mem(&m, 1)->anon_kb == 1058520 && node_mem(&m, 1)->huge_kb == 1048576 &&
		      node_mem(&m, 1)->file_kb == 0,
	      "node 1: anon %llu huge %llu", (unsigned long long)node_mem(&m, 1)->anon_kb,
	      (unsigned long long)node_mem(&m, 1)->huge_kb);
	CHECK(node_mem(&m, 7)->anon_kb == 400, "node 7 kept as the kernel said");
	CHECK(m.total_kb == 2125000, "total %llu", (unsigned long long)m.total_kb);
	np__maps_free(&m);
}

static void test_numa_maps_real(void)
{
	char path[1200], *buf = NULL;
	size_t len;
	struct np__maps m;
	struct np_error err = { 0 };
	uint64_t sum = 0;

	/* /proc/self/numa_maps of `cat` on Linux 6.18, one node. */
	snprintf(path, sizeof(path), "%s/numa_maps-cat-6.18", data_dir());
	CHECK(np__read_file(path, 1 << 20, &buf, &len, NULL) == 0, "read %s", path);
	CHECK(np__numa_maps_parse(buf, &m, &err) == 0, "parse: %s", err.message);
	free(buf);
	CHECK(m.nvma == 37 && m.npol == 1 && strcmp(m.pol[0].name, "default") == 0,
	      "37 VMAs, all default (%d, %d)", m.nvma, m.npol);
	CHECK(m.nnodes == 1 && m.nodes[0].os_node == 0, "one node");
	sum = m.nodes[0].mem.anon_kb + m.nodes[0].mem.file_kb;
	CHECK(sum == m.total_kb && m.nodes[0].mem.file_kb > m.nodes[0].mem.anon_kb,
	      "a small tool is mostly file pages");
	np__maps_free(&m);
}

static void expect_bad(const char *text, const char *needle)
{
	struct np__maps m = { 0 };
	struct np_error err = { 0 };
	int rc = np__numa_maps_parse(text, &m, &err);

	CHECK(rc == NP_EINPUT && strstr(err.message, needle), "'%s': rc %d, '%s' lacks '%s'",
	      text, rc, err.message, needle);
	CHECK(m.npol == 0 && m.nodes == NULL, "nothing returned on failure");
}

static void test_numa_maps_bad(void)
{
	struct np__maps m;
	struct np_error err = { 0 };
	char *big;

	expect_bad("zz default N0=1\n", "line 1: expected a hexadecimal address");
	expect_bad("7f00 default N0=1\n7f01 default N0=x kernelpagesize_kB=4\n", "line 2: bad value");
	expect_bad("7f00 default N99999999=1\n", "line 1: bad value");
	expect_bad("7f00 default N0=1 N0=2\n", "line 1: bad value");
	expect_bad("7f00 default N0=1 kernelpagesize_kB=0\n", "bad value");
	expect_bad("7f00 default N0=99999999999999999999\n", "bad value");
	expect_bad("7f00  N0=1\n", "missing policy");
	expect_bad("7f00\n", "expected a hexadecimal address");
	expect_bad("7f00 default N0=1125899906842624 kernelpagesize_kB=1048576\n"
		   "7f01 default N0=1125899906842624 kernelpagesize_kB=1048576\n",
		   "memory too large");
	big = malloc(600);
	memset(big, 'x', 599);
	memcpy(big, "7f00 ", 5);
	big[599] = '\0';
	expect_bad(big, "policy too long");
	free(big);
	CHECK(np__numa_maps_parse("", &m, &err) == 0 && m.total_kb == 0 && m.nvma == 0,
	      "empty file: no memory");
	np__maps_free(&m);
	CHECK(np__numa_maps_parse("7f00 default future=7 N0=2 kernelpagesize_kB=4", &m, &err) == 0 &&
		      m.total_kb == 8,
	      "unknown keys skipped, no final newline");
	np__maps_free(&m);
}

/* Mutations of the saved file: parsed, or refused naming a line; never a crash. */
/*
 * The cap on what the agent reads of /proc (NP_FILE_MAX, 256 MiB), cheaply:
 * a numa_maps that says it is larger (a sparse file: no disk, nothing
 * read) and a FIFO fed without end (what `yes` into a named pipe is) are
 * refused at once with one line; the loop that stops a file whose size
 * says nothing (/proc's say 0) past its cap, on a pipe that never ends
 * under a smaller cap.
 */
static void test_numa_maps_cap(const np_topo *t)
{
	char dir[] = "/tmp/np-maps-cap-XXXXXX", path[256], *buf = NULL, line[4096];
	struct np__rt_os os = fake_os();
	struct np_error err = { 0 };
	np_obs *o = np__obs_new(t);
	int fd, pipefd[2];
	size_t len = 0;
	pid_t child;

	CHECK(o && mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/4242", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/4242/numa_maps", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)NP_FILE_MAX + 1) == 0, "a sparse file past the cap");
	close(fd);
	os.proc = dir;
	CHECK(np__observe_maps(&os, t, 4242, o, &err) != 0 &&
		      strstr(err.message, "larger than 268435456 bytes") && !strchr(err.message, '\n'),
	      "a numa_maps past 256 MiB refused in one line: %s", err.message);
	unlink(path);
	CHECK(mkfifo(path, 0644) == 0, "mkfifo");
	child = fork();
	if (child == 0) { /* `yes` into the FIFO: blocks until a reader opens it, then never ends */
		int w = open(path, O_WRONLY);

		memset(line, 'y', sizeof(line));
		while (w >= 0 && write(w, line, sizeof(line)) > 0)
			;
		_exit(0);
	}
	memset(&err, 0, sizeof(err));
	CHECK(np__observe_maps(&os, t, 4242, o, &err) != 0 && strstr(err.message, "not a regular file"),
	      "a numa_maps FIFO fed without end refused at once: %s", err.message);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	unlink(path);
	/* A stream whose size says nothing stops at the cap: 1 MiB here. */
	CHECK(pipe(pipefd) == 0, "pipe");
	child = fork();
	if (child == 0) {
		close(pipefd[0]);
		memset(line, 'y', sizeof(line));
		while (write(pipefd[1], line, sizeof(line)) > 0)
			;
		_exit(0);
	}
	close(pipefd[1]);
	memset(&err, 0, sizeof(err));
	CHECK(np__read_fd(pipefd[0], "numa_maps", (size_t)1 << 20, &buf, &len, &err) == NP_EINPUT &&
		      strstr(err.message, "larger than 1048576 bytes") && !buf,
	      "a stream that never ends stops at its cap: %s", err.message);
	close(pipefd[0]);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	free(buf);
	np_obs_free(o);
	snprintf(path, sizeof(path), "%s/4242", dir);
	rmdir(path);
	rmdir(dir);
}

static void test_numa_maps_mutated(void)
{
	char path[1200], *orig = NULL, *buf;
	size_t len;
	unsigned seed = 7;
	int refused = 0, bad = 0;
	static const char junk[] = " =:N0123456789abcdefhugeanonfile()\n\t-,x";

	snprintf(path, sizeof(path), "%s/proc/4242/numa_maps", data_dir());
	if (np__read_file(path, 1 << 20, &orig, &len, NULL))
		return;
	buf = malloc(len + 1);
	for (int i = 0; i < 3000; i++) {
		struct np__maps m;
		struct np_error err = { 0 };
		int rc;

		memcpy(buf, orig, len + 1);
		for (int k = 0; k < 1 + i % 8; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] = junk[(seed >> 20) % (sizeof(junk) - 1)];
		}
		seed = seed * 1103515245u + 12345u;
		if (i % 5 == 0)
			buf[(seed >> 8) % len] = '\0'; /* truncated */
		rc = np__numa_maps_parse(buf, &m, &err);
		if (rc == 0)
			np__maps_free(&m);
		else if (rc == NP_EINPUT && strstr(err.message, "numa_maps line "))
			refused++;
		else
			bad++;
	}
	CHECK(bad == 0 && refused > 100, "3000 mutations: %d refused with a line, %d bad", refused, bad);
	free(buf);
	free(orig);
}

static void test_stat_status(void)
{
	struct np__stat st;
	int *cpus = NULL, n = 0;
	char line[600];

	snprintf(line, sizeof(line), "77 (a) b) (c) R 1 77 77 0 -1 4194560 5 0 0 0 12 34 0 0 20 0 "
		 "1 0 555 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 9 0 0 0 0 0\n");
	CHECK(np__stat_parse(line, &st) == 0 && st.tid == 77 && strcmp(st.comm, "a) b) (c") == 0 &&
		      st.state == 'R' && st.utime == 12 && st.stime == 34 && st.start_ticks == 555 &&
		      st.cpu == 9,
	      "stat with ')' in the name: cpu %d", st.cpu);
	CHECK(np__stat_parse("77 (x) R 1 2 3", &st) < 0, "truncated stat refused");
	CHECK(np__stat_parse("x (x) R 1", &st) < 0, "bad tid refused");
	CHECK(np__stat_parse("", &st) < 0, "empty stat refused");
	CHECK(np__status_allowed("Name:\tx\nCpus_allowed_list:\t0-3,8\nMems:\t1\n", &cpus, &n) ==
			      0 && n == 5 && cpus[4] == 8,
	      "Cpus_allowed_list");
	free(cpus);
	CHECK(np__status_allowed("Name:\tx\n", &cpus, &n) == NP_EINPUT, "no list");
	CHECK(np__status_allowed("Cpus_allowed_list:\t3-1\n", &cpus, &n) == NP_EINPUT, "bad list");
	CHECK(np__vcpu_of_name("CPU 12/KVM") == 12 && np__vcpu_of_name("CPU 0/TCG") == 0 &&
		      np__vcpu_of_name("CPU x/KVM") == -1 && np__vcpu_of_name("CPU 3") == -1 &&
		      np__vcpu_of_name("qemu-system-x86") == -1,
	      "vCPU thread names");
}

/* ---- the saved QEMU process ----------------------------------------- */

static const struct np_rt_thread *by_tid(const np_obs *o, int tid)
{
	for (int i = 0; i < np_obs_thread_count(o); i++)
		if (np_obs_thread(o, i)->tid == tid)
			return np_obs_thread(o, i);
	return NULL;
}

static void test_observe_saved(const np_topo *t)
{
	struct np__rt_os os = fake_os();
	struct np_error err = { 0 };
	const struct np_rt_thread *th;
	np_obs *o = NULL;
	const char *pol;
	uint64_t kb;

	CHECK(np__observe_process(&os, t, 4242, &o, &err) == 0, "observe: %s", err.message);
	if (!o)
		return;
	CHECK(np_obs_pid(o) == 4242 && strcmp(np_obs_name(o), "qemu-system-x86") == 0, "header");
	CHECK(np_obs_thread_count(o) == 5, "5 threads, got %d", np_obs_thread_count(o));
	th = by_tid(o, 4244);
	CHECK(th && th->vcpu == 0 && th->cpu == 1 && th->node_idx == 0 && th->nallowed == 4 &&
		      th->allowed[3] == 3 && th->state == 'R' && th->cpu_ms == 57000,
	      "vCPU 0: CPU 1 node 0, allowed 0-3");
	th = by_tid(o, 4245);
	CHECK(th && th->vcpu == 1 && th->cpu == 5 && th->node_idx == 1, "vCPU 1 on node 1");
	th = by_tid(o, 4243);
	CHECK(th && th->vcpu == -1 && strcmp(th->name, "IO mon_iothread") == 0, "I/O thread");
	CHECK(np_obs_mem_known(o) && np_obs_mem(o, 0)->file_kb == 4832 &&
		      np_obs_mem(o, 1)->huge_kb == 1048576 && np_obs_mem_total_kb(o) == 2125000,
	      "memory per node index");
	CHECK(np_obs_mem(o, 5)->anon_kb == 0, "out of range node: zero");
	CHECK(strcmp(np_obs_policy(o), "bind:1") == 0, "main policy '%s'", np_obs_policy(o));
	CHECK(np_obs_policy_at(o, 0, &pol, &kb) == 7 && kb == 1048576, "policies sorted");
	CHECK(np_obs_device_count(o) == 2 && strcmp(np_obs_device(o, 0), "0000:81:00.0") == 0 &&
		      strcmp(np_obs_device(o, 1), "0000:00:02.0") == 0,
	      "vfio-pci devices from the command line");
	np_obs_free(o);
	CHECK(np__observe_process(&os, t, 4241, &o, &err) == NP_EINPUT &&
		      strcmp(err.message, "no such process 4241") == 0,
	      "missing pid: %s", err.message);
	CHECK(np__observe_process(&os, t, -5, &o, &err) == NP_EINPUT, "negative pid");
}

static void test_host_sample(const np_topo *t)
{
	struct np__rt_os os = fake_os();
	struct np_bal_node nodes[2];
	struct np_error err = { 0 };

	CHECK(np__host_sample(&os, t, nodes, &err) == 0, "sample: %s", err.message);
	CHECK(nodes[0].free_mb == 200 && nodes[1].free_mb == 3072, "free from node meminfo");
	CHECK(nodes[0].load == 5.0 / 4 && nodes[1].load == 1.0 / 4,
	      "runnable per CPU: %.2f %.2f", nodes[0].load, nodes[1].load);
}

/* ---- apply and migrate against fake system calls -------------------- */

static void test_apply_fake(const np_topo *t)
{
	struct np__rt_os os = fake_os();
	struct np_apply_result res = { 0 };
	struct np_error err = { 0 };
	struct np_target tg = { .pid = 4242 };
	int one = 1;
	struct np_rt_pin pin = { .vcpu = 1, .cpu = 6 };
	char run[] = "/tmp/np-rt-run-XXXXXX", path[600];
	struct np_apply_spec s = { .nnodes = 1, .nodes = &one, .affinity = NP_AFFINITY_HARD,
				   .npins = 1, .pins = &pin, .run_dir = run };

	CHECK(mkdtemp(run) != NULL, "mkdtemp");
	set_calls = 0;
	fail_tid = 0;
	CHECK(np__apply(&os, t, &tg, &s, &res, &err) == 0, "apply: %s", err.message);
	CHECK(set_calls == 5 && res.nsteps == 5, "five threads set (%d), five steps", set_calls);
	for (int i = 0; i < 5 && i < set_calls; i++) {
		bool vcpu1 = set_log_tid[i] == 4245;

		CHECK(vcpu1 ? set_log_n[i] == 1 && set_log_first[i] == 6
			    : set_log_n[i] == 4 && set_log_first[i] == 4,
		      "thread %d: pinned vCPU to CPU 6, others to node 1's CPUs 4-7", set_log_tid[i]);
	}
	np_apply_result_free(&res);

	/* The fourth thread refuses: the three before get their affinity back. */
	set_calls = 0;
	fail_tid = 4245;
	CHECK(np__apply(&os, t, &tg, &s, &res, &err) == NP_EIO && strstr(err.message, "4245") &&
		      strstr(err.message, "nothing changed"),
	      "refusal: %s", err.message);
	CHECK(res.nsteps == 0 && res.steps == NULL, "no result on failure");
	{
		int restored = 0, first_fail = -1;

		for (int i = 0; i < set_calls && i < 64; i++) {
			if (set_log_tid[i] == 4245 && first_fail < 0)
				first_fail = i;
			else if (first_fail >= 0 && set_log_n[i] == 2 && set_log_first[i] == 0)
				restored++;
		}
		CHECK(first_fail >= 0 && restored == first_fail,
		      "all %d threads set before the refusal restored (%d)", first_fail, restored);
	}
	fail_tid = 0;

	/* Soft: the kernel affinity becomes wide and the preference is recorded. */
	s.affinity = NP_AFFINITY_SOFT;
	set_calls = 0;
	CHECK(np__apply(&os, t, &tg, &s, &res, &err) == 0, "soft: %s", err.message);
	CHECK(set_calls == 5 && set_log_n[0] == 8, "wide affinity: all 8 CPUs");
	snprintf(path, sizeof(path), "%s/pid-4242.json", run);
	CHECK(access(path, R_OK) == 0, "preference written");
	{
		int idx[4], n = 0;

		CHECK(np_pref_nodes(t, run, &tg, idx, 4, &n, &err) == 0 && n == 1 && idx[0] == 1,
		      "preference reads back node 1");
	}
	np_apply_result_free(&res);

	/* Dry run: steps, no calls.  Memory policy of a running process: refused. */
	s.dry_run = true;
	set_calls = 0;
	CHECK(np__apply(&os, t, &tg, &s, &res, &err) == 0 && set_calls == 0 && res.nsteps == 6,
	      "dry run changes nothing");
	np_apply_result_free(&res);
	s.dry_run = false;
	s.set_policy = true;
	CHECK(np__apply(&os, t, &tg, &s, &res, &err) == NP_EUNSUPPORTED && set_calls == 0,
	      "memory policy of another process: unsupported, nothing changed");
	s.set_policy = false;
	/* Back to hard: the preference goes away. */
	s.affinity = NP_AFFINITY_HARD;
	CHECK(np__apply(&os, t, &tg, &s, &res, &err) == 0 && access(path, F_OK) != 0,
	      "hard apply drops the soft preference");
	np_apply_result_free(&res);

	/* Bad specs. */
	pin.cpu = 99;
	CHECK(np__apply(&os, t, &tg, &s, &res, &err) == NP_EINPUT && strstr(err.message, "CPU 99"),
	      "pin to a missing CPU: %s", err.message);
	pin.cpu = 6;
	one = 5;
	CHECK(np__apply(&os, t, &tg, &s, &res, &err) == NP_EINPUT, "node index out of range");
	one = 1;
	tg.pid = 4241;
	CHECK(np__apply(&os, t, &tg, &s, &res, &err) == NP_EINPUT &&
		      strstr(err.message, "no such process"),
	      "no such pid");
	rmdir(run);
}

/* A fake maps file with one 100 MiB VMA, for the rate limiter. */
static void test_migrate_rate(const np_topo *t)
{
	char dir[] = "/tmp/np-rt-proc-XXXXXX", path[600];
	struct np__rt_os os = fake_os();
	struct np_apply_result res = { 0 };
	struct np_error err = { 0 };
	int to = 1;
	FILE *f;
	double secs;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/77", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/77/maps", dir);
	f = fopen(path, "w");
	fprintf(f, "7f0000000000-7f0006400000 rw-p 00000000 00:00 0\n"
		   "7f0006400000-7f0006401000 ---p 00000000 00:00 0\n"
		   "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0   [vsyscall]\n");
	fclose(f);
	os.proc = dir;
	fake_now = 0;
	pages_moved = 0;
	CHECK(np__migrate(&os, t, 77, -1, &to, 1, 0, 50, &res, &err) == 0, "migrate: %s",
	      err.message);
	secs = (double)fake_now / 1000.0;
	CHECK(res.moved_kb == 100 * 1024 && pages_moved == 25600,
	      "all 100 MiB moved (%llu KiB), guard and vsyscall skipped",
	      (unsigned long long)res.moved_kb);
	CHECK(secs >= 1.95 && secs <= 2.2, "100 MiB at 50 MB/s takes 2 s on the clock: %.3f", secs);
	res.moved_kb = 0;
	pages_moved = 0;
	CHECK(np__migrate(&os, t, 77, 0, &to, 1, 10 * 1024, 0, &res, &err) == 0 &&
		      res.moved_kb == 10 * 1024,
	      "at most 10 MiB from node 0: %llu KiB", (unsigned long long)res.moved_kb);
	CHECK(np__migrate(&os, t, 77, 1, &to, 1, 0, 0, &res, &err) == 0 && res.moved_kb == 10240,
	      "nothing on node 1 to move");
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0, "cleanup");
}

/* ---- diagnosis and orders ------------------------------------------- */

static np_obs *obs_at(const np_topo *t, uint64_t time, int cpu, uint64_t kb0, uint64_t kb1)
{
	np_obs *o = np__obs_new(t);
	struct np_rt_thread th = { .tid = 9, .vcpu = 0, .cpu = cpu, .state = 'R' };

	o->time_ms = time;
	th.node_idx = np_topo_cpu(t, np_topo_cpu_index(t, cpu))->node_idx;
	snprintf(th.name, sizeof(th.name), "CPU 0/KVM");
	np__obs_add_thread(o, &th, NULL);
	o->mem[0].anon_kb = kb0;
	o->mem[1].anon_kb = kb1;
	o->total_kb = kb0 + kb1;
	o->mem_known = true;
	np__obs_add_device(o, "0000:81:00.0");
	return o;
}

static int count(const struct np_finding *f, int n, enum np_finding_kind k)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += f[i].kind == k;
	return c;
}

static void test_diagnose(const np_topo *t)
{
	np_obs *s[4] = { obs_at(t, 1000, 1, 900, 100), obs_at(t, 2000, 5, 900, 100),
			 obs_at(t, 3000, 6, 900, 100), obs_at(t, 4000, 7, 600, 400) };
	struct np_bal_node nodes[2] = { { .free_mb = 100, .load = 1.5 }, { .free_mb = 3000, .load = 0.2 } };
	struct np_diag_params p;
	struct np_finding *f = NULL;
	int home = 0, n = 0;
	struct np_error err = { 0 };

	np_diag_params_default(&p);
	CHECK(np_diagnose(t, (const np_obs *const *)s, 4, &home, 1, nodes, &p, &f, &n, &err) == 0,
	      "diagnose: %s", err.message);
	CHECK(count(f, n, NP_FIND_THREAD_AWAY) == 1 && f[0].value == 2000 && f[0].tid == 9,
	      "away from 2000 to 4000 ms: %llu", n ? (unsigned long long)f[0].value : 0ULL);
	CHECK(count(f, n, NP_FIND_MEMORY_AWAY) == 1, "40%% of memory away");
	CHECK(count(f, n, NP_FIND_NODE_LOW) == 1 && count(f, n, NP_FIND_NODE_BUSY) == 1,
	      "node 0 low on memory and busy");
	CHECK(count(f, n, NP_FIND_IO_REMOTE) == 1, "device on node 1, guest on node 0");
	for (int i = 0; i < n; i++)
		CHECK(strlen(f[i].evidence) > 20, "%s has evidence", np_finding_kind_name(f[i].kind));
	free(f);
	CHECK(np_diagnose(t, (const np_obs *const *)s + 2, 2, &home, 1, NULL, &p, &f, &n, &err) ==
			      0 && count(f, n, NP_FIND_THREAD_AWAY) == 0,
	      "away 1000 ms in the last two samples: below away_ms (%d)",
	      count(f, n, NP_FIND_THREAD_AWAY));
	free(f);
	home = 1;
	CHECK(np_diagnose(t, (const np_obs *const *)s, 4, &home, 1, NULL, &p, &f, &n, &err) == 0 &&
		      count(f, n, NP_FIND_THREAD_AWAY) == 0 && count(f, n, NP_FIND_MEMORY_AWAY) == 1,
	      "home node 1: the thread is home, 60%% of memory is not");
	free(f);
	home = 7;
	CHECK(np_diagnose(t, (const np_obs *const *)s, 4, &home, 1, NULL, &p, &f, &n, &err) ==
		      NP_EINPUT, "home out of range");
	CHECK(np_diagnose(t, (const np_obs *const *)s + 2, -1, &home, 1, NULL, &p, &f, &n, &err) ==
		      NP_EINPUT, "no samples");
	{
		int order[2], io[2];

		home = 0;
		CHECK(np_shrink_order(t, s[3], &home, 1, nodes, order, 2) == 2 && order[0] == 1 &&
			      order[1] == 0,
		      "balloon releases the remote node's memory first");
		CHECK(np_io_nodes(t, s[3], io, 2) == 1 && io[0] == 1, "I/O threads on node 1");
	}
	for (int i = 0; i < 4; i++)
		np_obs_free(s[i]);
}

static void test_orders(void)
{
	np_topo *t = four_nodes();
	int o[4], n;

	n = np_fallback_order(t, 0, o, 4);
	CHECK(n == 3 && o[0] == 2 && o[1] == 1 && o[2] == 3, "from node 0: 2 (20), 1 (30), 3 (40)");
	n = np_fallback_order(t, 1, o, 4);
	CHECK(n == 3 && o[0] == 3 && o[1] == 0 && o[2] == 2, "from node 1: 3 (20), 0 (30), 2 (40)");
	n = np_fallback_order(t, 3, o, 4);
	CHECK(n == 3 && o[0] == 0 && o[1] == 1 && o[2] == 2,
	      "from node 3, row 3 of the matrix (asymmetric): 0 (17), 1 (20), 2 (30)");
	CHECK(np_fallback_order(t, 9, o, 4) == 0, "no such node");
	np_topo_free(t);
}

/* ---- the balancer policy file --------------------------------------- */

static int policy_from(const np_topo *t, const char *text, struct np__bal_policy *pol,
		       struct np_error *err)
{
	char path[] = "/tmp/np-policy-XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	memset(pol, 0, sizeof(*pol));
	pol->node_ok = calloc(2, sizeof(bool));
	np_bal_params_default(&pol->params);
	rc = np__bal_policy_load(t, path, pol, err);
	unlink(path);
	return rc;
}

static void test_policy(const np_topo *t)
{
	struct np__bal_policy pol;
	struct np_error err = { 0 };

	CHECK(policy_from(t, "{\"guests\": [\"pid:12\", \"domain:web\"], \"never\": [\"pid:13\"],"
			     " \"migrate\": false, \"nodes\": [1], \"rate_mb_s\": 200,"
			     " \"params\": {\"stuck_ms\": 500, \"follow_fraction\": 0.8}}", &pol,
			  &err) == 0, "policy: %s", err.message);
	CHECK(pol.ntouch == 2 && pol.nnever == 1 && !pol.may_migrate && !pol.node_ok[0] &&
		      pol.node_ok[1] && pol.rate_mb_s == 200 && pol.params.stuck_ms == 500 &&
		      pol.params.follow_fraction == 0.8 && pol.params.rescue_ms == 500,
	      "values read, the rest default");
	CHECK(np__bal_policy_touches(&pol, "pid:12") && np__bal_policy_touches(&pol, "domain:web") &&
		      !np__bal_policy_touches(&pol, "pid:13") && !np__bal_policy_touches(&pol, "pid:14"),
	      "guests and never");
	np__bal_policy_free(&pol);
	CHECK(policy_from(t, "{\"gusets\": []}", &pol, &err) == NP_EINPUT &&
		      strstr(err.message, "unknown key 'gusets'"), "typo: %s", err.message);
	np__bal_policy_free(&pol);
	CHECK(policy_from(t, "{\"nodes\": [5]}", &pol, &err) == NP_EINPUT &&
		      strstr(err.message, "not a node"), "node: %s", err.message);
	np__bal_policy_free(&pol);
	CHECK(policy_from(t, "{\"params\": {\"stuck_ms\": -1}}", &pol, &err) == NP_EINPUT &&
		      strstr(err.message, "stuck_ms"), "range: %s", err.message);
	np__bal_policy_free(&pol);
	CHECK(policy_from(t, "{\"guests\": [\"vm7\"]}", &pol, &err) == NP_EINPUT, "bad guest");
	np__bal_policy_free(&pol);
	CHECK(policy_from(t, "{\"migrate\": 1", &pol, &err) == NP_EINPUT &&
		      strstr(err.message, "line 1"), "broken JSON: %s", err.message);
	np__bal_policy_free(&pol);
}

/* ---- the live balancer on the saved process ------------------------- */

struct blog {
	int n;
	char kind[16][24];
	int vcpu[16], from[16], to[16];
	bool done[16];
	char error[16][160];
};

static void collect(void *ctx, const struct np_bal_log *e)
{
	struct blog *l = ctx;

	if (l->n < 16) {
		snprintf(l->kind[l->n], sizeof(l->kind[0]), "%s", e->kind);
		l->vcpu[l->n] = e->vcpu;
		l->from[l->n] = e->from_os;
		l->to[l->n] = e->to_os;
		l->done[l->n] = e->done && e->reason[0];
		snprintf(l->error[l->n], sizeof(l->error[0]), "%s", e->error);
		l->n++;
	}
}

static void test_balancer(const np_topo *t)
{
	struct np__rt_os os = fake_os();
	char run[] = "/tmp/np-rt-bal-XXXXXX", pol[700], path[700], *buf = NULL;
	struct np__pref p = { .pid = 4242, .start_ticks = 1000, .migrate = true, .nnodes = 1 };
	struct np_error err = { 0 };
	struct blog l = { 0 };
	np_balancer *b = NULL;
	int home = 0;
	size_t len;
	FILE *f;

	CHECK(mkdtemp(run) != NULL, "mkdtemp");
	p.nodes = &home;
	CHECK(np__pref_write(run, &p, &err) == 0, "write preference: %s", err.message);
	snprintf(pol, sizeof(pol), "%s/policy.json", run);
	f = fopen(pol, "w");
	fputs("{\"params\": {\"overload\": 2.0}}", f); /* node 0 runs 1.25 per CPU */
	fclose(f);
	fake_now = 100000;
	CHECK(np__balancer_new_os(&os, t, run, pol, &b, &err) == 0, "balancer: %s", err.message);
	if (!b)
		return;
	/* Round 1: 99% of its memory is on node 1 and node 0 has no room: follow. */
	CHECK(np_balancer_step(b, false, collect, &l, &err) == 0, "round 1: %s", err.message);
	CHECK(l.n == 1 && strcmp(l.kind[0], "follow-memory") == 0 && l.to[0] == 1 && l.done[0],
	      "round 1 follows the memory to node 1 (%d: %s)", l.n, l.n ? l.kind[0] : "");
	snprintf(path, sizeof(path), "%s/pid-4242.json", run);
	CHECK(np__read_file(path, 4096, &buf, &len, NULL) == 0 && strstr(buf, "\"nodes\":[1]") &&
		      !strstr(buf, "\"last_action_ms\":0"),
	      "preference now node 1, stamped: %s", buf ? buf : "");
	free(buf);
	/*
	 * Round 2: the rest of its memory (node 0) is moved to the new home;
	 * vCPU 0 (on node 0) is seen away.  Round 3, 2.5 s later: it is rescued.
	 * (The saved files do not change, so the memory is "moved" each round.)
	 */
	l.n = 0;
	fake_now += 100;
	pages_moved = 0;
	CHECK(np_balancer_step(b, false, collect, &l, &err) == 0 && l.n == 1 &&
		      strcmp(l.kind[0], "migrate-home") == 0 && l.to[0] == 1 && l.done[0] &&
		      pages_moved > 0,
	      "round 2: memory follows to the new home (%d: %s)", l.n, l.n ? l.kind[0] : "");
	l.n = 0;
	fake_now += 2500;
	set_calls = 0;
	CHECK(np_balancer_step(b, false, collect, &l, &err) == 0, "round 3: %s", err.message);
	CHECK(l.n == 2 && strcmp(l.kind[1], "rescue-pin") == 0 && l.vcpu[1] == 0 && l.to[1] == 1 &&
		      l.done[1] && set_calls == 1 && set_log_tid[0] == 4244 && set_log_n[0] == 4 &&
		      set_log_first[0] == 4,
	      "vCPU 0 (thread 4244) rescue-pinned to node 1's CPUs 4-7");
	/* Round 4, 600 ms later: back to soft affinity (all 8 CPUs). */
	l.n = 0;
	fake_now += 600;
	set_calls = 0;
	CHECK(np_balancer_step(b, false, collect, &l, &err) == 0 && l.n >= 1 &&
		      strcmp(l.kind[0], "restore-soft") == 0 && set_calls >= 1 && set_log_n[0] == 8 &&
		      set_log_tid[0] == 4244,
	      "restored after rescue_ms");
	/* The saved files never move the thread: the log says it was still seen on node 0. */
	CHECK(l.n >= 1 && l.from[0] == 0 && l.to[0] == -1,
	      "restore-soft logs the node the vCPU was seen on (%d -> %d)", l.n ? l.from[0] : -9,
	      l.n ? l.to[0] : -9);
	/* A dry run decides but changes nothing. */
	l.n = 0;
	fake_now += 2500;
	set_calls = 0;
	CHECK(np_balancer_step(b, true, collect, &l, &err) == 0 && set_calls == 0, "dry run");
	/* Rescued again, then the balancer stops: that restore says where too. */
	CHECK(np_balancer_step(b, false, collect, &l, &err) == 0 && set_calls == 1,
	      "rescued again: %s", err.message);
	l.n = 0;
	CHECK(np_balancer_restore_all(b, collect, &l, &err) == 0 && l.n == 1 &&
		      strcmp(l.kind[0], "restore-soft") == 0 && l.done[0] && l.from[0] == 0 &&
		      l.to[0] == -1,
	      "stopping restores the pin and logs the node it was seen on (%d: %d -> %d)", l.n,
	      l.n ? l.from[0] : -9, l.n ? l.to[0] : -9);
	CHECK(np_balancer_guest_count(b) == 1, "one guest");
	np_balancer_free(b);
	snprintf(path, sizeof(path), "rm -rf '%s'", run);
	CHECK(system(path) == 0, "cleanup");
}

/* ---- the run directory under attack --------------------------------- */

static void put_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "write %s", path);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/*
 * A copy of the saved process 4242 whose /proc/4242/status says its uids
 * are UID, under ROOT/proc (ROOT from mkdtemp): the balancer reads who owns
 * a target there.
 */
static void proc_with_uid(const char *root, long uid)
{
	static const char *const files[] = { "cmdline", "maps", "numa_maps", "stat", "task" };
	char path[1400], target[1500], text[200];

	snprintf(path, sizeof(path), "%s/proc/4242", root);
	snprintf(target, sizeof(target), "mkdir -p '%s'", path);
	CHECK(system(target) == 0, "mkdir %s", path);
	for (size_t i = 0; i < NP__ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/proc/4242/%s", root, files[i]);
		snprintf(target, sizeof(target), "%s/proc/4242/%s", data_dir(), files[i]);
		unlink(path);
		CHECK(symlink(target, path) == 0, "link %s", path);
	}
	snprintf(path, sizeof(path), "%s/proc/4242/status", root);
	snprintf(text, sizeof(text), "Name:\tqemu\nUid:\t%ld\t%ld\t%ld\t%ld\nGid:\t0\t0\t0\t0\n",
		 uid, uid, uid, uid);
	put_text(path, text);
}

/* What `apply --affinity soft` writes: exclusively, never through a link, 0644, 0755. */
static void test_pref_files(const char *root)
{
	struct np__pref p = { .pid = 4242, .start_ticks = 1000, .nnodes = 1 };
	char run[1200], path[1300], victim[1300], link[1300], *buf = NULL;
	struct np_error err = { 0 };
	mode_t old = umask(0);
	int home = 0;
	size_t len;

	p.nodes = &home;
	snprintf(run, sizeof(run), "%s/run", root);
	CHECK(np__pref_write(run, &p, &err) == 0, "write under umask 000: %s", err.message);
	snprintf(path, sizeof(path), "%s/pid-4242.json", run);
	CHECK(mode_of(run) == 0755 && mode_of(path) == 0644,
	      "umask 000: run directory %04o, preference %04o (want 0755, 0644)",
	      (unsigned)mode_of(run), (unsigned)mode_of(path));
	umask(old);
	/* A link planted where the temporary file goes is never written through. */
	snprintf(victim, sizeof(victim), "%s/victim", root);
	put_text(victim, "keep");
	snprintf(link, sizeof(link), "%s/.pid-4242.json.tmp-%d-0", run, (int)getpid());
	CHECK(symlink(victim, link) == 0, "plant %s", link);
	CHECK(np__pref_write(run, &p, &err) == 0, "write past the link: %s", err.message);
	CHECK(np__read_file(victim, 100, &buf, &len, NULL) == 0 && strcmp(buf, "keep") == 0,
	      "the link's target is untouched");
	free(buf);
	CHECK(mode_of(path) == 0644 && (mode_of(link) & 0777) == 0777, "preference written, "
	      "the link left alone");
	unlink(link);
	/* A link or FIFO as the preference itself is not read. */
	unlink(path);
	CHECK(symlink(victim, path) == 0 && mkfifo(link, 0644) == 0, "links and FIFOs planted");
	{
		int idx[4], n = -1;
		struct np_target tg = { .pid = 4242 };
		np_topo *t = two_nodes();

		CHECK(np_pref_nodes(t, run, &tg, idx, 4, &n, &err) == NP_EINPUT,
		      "a preference that is a link is not followed");
		np_topo_free(t);
	}
	unlink(path);
	unlink(link);
}

/* The run directory: the balancer starts only on its own user's, writable by no one else. */
static void test_run_dir(const np_topo *t, const char *root)
{
	struct np__rt_os os = fake_os();
	struct np_error err = { 0 };
	char run[1200], file[1300];
	np_balancer *b = NULL;
	struct np__pref *list = NULL;
	int n = 0, idx[4];
	struct np_target tg = { .pid = 4242 };

	snprintf(run, sizeof(run), "%s/run", root);
	CHECK(chmod(run, 0777) == 0, "chmod 0777");
	CHECK(np__balancer_new_os(&os, t, run, NULL, &b, &err) == NP_EINPUT && !b &&
		  strstr(err.message, "writable by others (mode 0777)"),
	      "a world-writable run directory: the balancer refuses to start (%s)", err.message);
	CHECK(np__pref_list(run, &list, &n, &err) == NP_EINPUT, "nor lists preferences there");
	CHECK(np__pref_write(run, &(struct np__pref){ .pid = 1, .nnodes = 1, .nodes = idx }, &err) ==
		  NP_EINPUT, "nor writes one there");
	CHECK(chmod(run, 0775) == 0 && np__balancer_new_os(&os, t, run, NULL, &b, &err) == NP_EINPUT,
	      "group-writable: refused too");
	CHECK(chmod(run, 0755) == 0, "chmod 0755");
	if (geteuid() == 0) {
		CHECK(chown(run, 65534, 65534) == 0, "chown");
		CHECK(np__balancer_new_os(&os, t, run, NULL, &b, &err) == NP_EINPUT &&
			  strstr(err.message, "owned by uid 65534"),
		      "another user's run directory: refused (%s)", err.message);
		CHECK(chown(run, 0, 0) == 0, "chown back");
	}
	/* --run-dir FILE: refused by every user of it, never "no preference". */
	snprintf(file, sizeof(file), "%s/file", root);
	put_text(file, "x");
	CHECK(np_pref_nodes(t, file, &tg, idx, 4, &n, &err) == NP_EINPUT &&
		  strstr(err.message, "not a directory (a regular file)"),
	      "observe --run-dir FILE: %s", err.message);
	CHECK(np__balancer_new_os(&os, t, file, NULL, &b, &err) == NP_EINPUT, "balance: refused");
	CHECK(np_pref_remove(file, &tg, &err) == NP_EINPUT, "apply: refused");
	np_balancer_free(b);
}

/*
 * A preference is honoured only when its file's owner may control the
 * target: here the target process is owned by another uid than the file.
 */
static void test_pref_owner(const np_topo *t, const char *root)
{
	struct np__rt_os os = fake_os();
	struct np__pref p = { .pid = 4242, .start_ticks = 1000, .migrate = true, .nnodes = 1 };
	struct np__pref d = { .domain = true, .uri = "qemu:///system", .name = "web", .nnodes = 1 };
	struct np_error err = { 0 };
	char run[1200], proc[1200], pol[1300];
	struct blog l = { 0 };
	np_balancer *b = NULL;
	int home = 0;
	long owner;

	snprintf(run, sizeof(run), "%s/run", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	p.nodes = d.nodes = &home;
	CHECK(np__pref_write(run, &p, &err) == 0 && np__pref_write(run, &d, &err) == 0,
	      "preferences: %s", err.message);
	/* The file's owner: this user, or (as root, whose files may do anything) nobody. */
	snprintf(pol, sizeof(pol), "%s/pid-4242.json", run);
	if (geteuid() == 0)
		CHECK(chown(pol, 65534, 65534) == 0, "chown the preference to nobody");
	owner = geteuid() == 0 ? 65534 : (long)geteuid();
	proc_with_uid(root, owner == 65534 ? 0 : owner + 1);
	os.proc = proc;
	fake_now = 100000;
	CHECK(np__balancer_new_os(&os, t, run, NULL, &b, &err) == 0, "balancer: %s", err.message);
	if (b) {
		CHECK(np_balancer_step(b, false, collect, &l, &err) == 0, "step: %s", err.message);
		CHECK(l.n == 2 && strcmp(l.kind[0], "skip") == 0 && strcmp(l.kind[1], "skip") == 0 &&
			  np_balancer_guest_count(b) == 0,
		      "both refused, nothing done (%d: %s %s / %s %s)", l.n, l.kind[0], l.error[0],
		      l.kind[1], l.error[1]);
		for (int i = 0; i < l.n && i < 2; i++)
			CHECK(strstr(l.error[i], "may not control process 4242") ||
				  strstr(l.error[i], "libvirt URI 'qemu:///system' was not given"),
			      "says why: %s", l.error[i]);
		l.n = 0;
		CHECK(np_balancer_step(b, false, collect, &l, &err) == 0 && l.n == 0,
		      "each refusal logged once");
		np_balancer_free(b);
		b = NULL;
	}
	/* The process is the file owner's: honoured. */
	proc_with_uid(root, owner);
	l.n = 0;
	CHECK(np__balancer_new_os(&os, t, run, NULL, &b, &err) == 0, "balancer: %s", err.message);
	if (b) {
		CHECK(np_balancer_step(b, false, collect, &l, &err) == 0 &&
			  np_balancer_guest_count(b) == 1,
		      "the owner's own process is balanced (%d guests)", np_balancer_guest_count(b));
		np_balancer_free(b);
		b = NULL;
	}
	/* libvirt URIs from a policy only when nobody else could have written it. */
	snprintf(pol, sizeof(pol), "%s/policy.json", root);
	put_text(pol, "{\"libvirt\": [\"test:///default\"]}");
	CHECK(chmod(pol, 0666) == 0, "chmod 0666");
	CHECK(np__balancer_new_os(&os, t, run, pol, &b, &err) == NP_EINPUT &&
		  strstr(err.message, "key 'libvirt'"),
	      "a world-writable policy naming libvirt URIs: %s", err.message);
	CHECK(chmod(pol, 0644) == 0 && np__balancer_new_os(&os, t, run, pol, &b, &err) == 0,
	      "the same policy, writable by its owner only: %s", err.message);
	np_balancer_free(b);
}

static void test_trust(const np_topo *t)
{
	char root[] = "/tmp/np-rt-trust-XXXXXX", cmd[100];

	CHECK(mkdtemp(root) != NULL, "mkdtemp");
	test_pref_files(root);
	test_run_dir(t, root);
	test_pref_owner(t, root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0, "cleanup");
}

/* ---- live: this test process ---------------------------------------- */

static volatile int spin_stop;

static void *spinner(void *arg)
{
	while (!spin_stop)
		;
	return arg;
}

static void test_observe_self(void)
{
	struct np_error err = { 0 };
	np_topo *t = NULL;
	np_obs *before = NULL, *after = NULL;
	struct np_target tg = { .pid = (int)getpid() };
	pthread_t th;
	size_t size = 48u << 20;
	/* volatile: the block is only written, and clang -O2 would drop the
	 * malloc, memset and free together, touching nothing. */
	char *volatile mem;
	uint64_t b, a;

	if (!t_have(NP_HAVE_HWLOC, "hwloc", "observing this process"))
		return;
	if (np_topo_load(NP_SOURCE_LOCAL, NULL, &t, &err)) {
		CHECK(0, "local topology: %s", err.message);
		return;
	}
	pthread_create(&th, NULL, spinner, NULL);
	CHECK(np_observe(t, &tg, &before, &err) == 0, "observe self: %s", err.message);
	mem = malloc(size);
	memset(mem, 1, size);
	CHECK(np_observe(t, &tg, &after, &err) == 0, "observe self again: %s", err.message);
	spin_stop = 1;
	pthread_join(th, NULL);
	if (before && after) {
		b = np_obs_mem_total_kb(before);
		a = np_obs_mem_total_kb(after);
		CHECK(a >= b + 40 * 1024, "48 MiB touched shows in numa_maps: %llu -> %llu KiB",
		      (unsigned long long)b, (unsigned long long)a);
		CHECK(np_obs_thread_count(after) == 2, "two threads");
		for (int i = 0; i < np_obs_thread_count(after); i++) {
			const struct np_rt_thread *x = np_obs_thread(after, i);

			CHECK(x->cpu >= 0 && x->node_idx >= 0 && x->nallowed > 0,
			      "thread %d: CPU %d node %d", x->tid, x->cpu, x->node_idx);
		}
	}
	free(mem);
	np_obs_free(before);
	np_obs_free(after);
	np_topo_free(t);
}

#if NP_HAVE_LIBVIRT
/* ---- libvirt's test driver ------------------------------------------ */

/* The application's process-wide libvirt error function: counts. */
static int app_errors;

static void app_error_func(void *opaque, virErrorPtr error)
{
	(void)opaque;
	(void)error;
	app_errors++;
}

static void test_libvirt(void)
{
	struct np_error err = { 0 };
	np_topo *t = NULL;
	np_obs *o = NULL;
	struct np_target tg = { .uri = "test:///default", .domain = "test" };
	struct np_apply_result res = { 0 };
	int node0 = 0;
	/* The test driver pins only CPUs 0-7 (its CPU map), though its cells say 0-15. */
	struct np_rt_pin pin[2] = { { .vcpu = 0, .cpu = 3 }, { .vcpu = 1, .cpu = 5 } };
	struct np_apply_spec s = { .nnodes = 1, .nodes = &node0, .affinity = NP_AFFINITY_HARD,
				   .npins = 2, .pins = pin, .set_policy = true,
				   .policy = NP_MEM_POLICY_STRICT, .run_dir = "/tmp/np-rt-none" };

	/*
	 * test:///default lives while a connection to it is open: hold one, so
	 * that what apply changes is still there for the next observe.
	 */
	virConnectPtr keep = virConnectOpen("test:///default");

	if (np_topo_load(NP_SOURCE_LIBVIRT_URI, "test:///default", &t, &err)) {
		CHECK(0, "test driver topology: %s", err.message);
		return;
	}
	CHECK(np_observe(t, &tg, &o, &err) == 0 && np_obs_thread_count(o) == 2 &&
		      !np_obs_mem_known(o) && np_obs_pid(o) == -1,
	      "domain observed: 2 vCPUs, memory unknown: %s", err.message);
	np_obs_free(o);
	s.dry_run = true;
	CHECK(np_apply(t, &tg, &s, &res, &err) == 0 && res.nsteps >= 3, "dry run: %s", err.message);
	np_apply_result_free(&res);
	CHECK(np_observe(t, &tg, &o, &err) == 0 && np_obs_thread(o, 0)->nallowed == 16,
	      "dry run left the pins alone");
	np_obs_free(o);
	s.dry_run = false;
	CHECK(np_apply(t, &tg, &s, &res, &err) == 0, "apply: %s", err.message);
	np_apply_result_free(&res);
	CHECK(np_observe(t, &tg, &o, &err) == 0, "observe after apply: %s", err.message);
	if (o) {
		const struct np_rt_thread *v0 = np_obs_thread(o, 0), *v1 = np_obs_thread(o, 1);

		CHECK(v0->nallowed == 1 && v0->allowed[0] == 3, "vCPU 0 pinned to CPU 3 (%d)",
		      v0->nallowed);
		CHECK(v1->nallowed == 1 && v1->allowed[0] == 5, "vCPU 1 pinned to CPU 5");
		CHECK(strcmp(np_obs_policy(o), "strict:0") == 0, "policy '%s'", np_obs_policy(o));
	}
	np_obs_free(o);
	pin[1].vcpu = 5;
	CHECK(np_apply(t, &tg, &s, &res, &err) == NP_EINPUT && strstr(err.message, "no vCPU 5"),
	      "vCPU the domain lacks: %s", err.message);
	/*
	 * libvirt's process-wide error function is the application's: an error
	 * on the library's connection (no such domain) stays there, one before
	 * any connection (a bad URI) reaches the application's function, which
	 * the library never replaced.
	 */
	virSetErrorFunc(NULL, app_error_func);
	tg.domain = "nosuch";
	CHECK(np_observe(t, &tg, &o, &err) == NP_EINPUT && strstr(err.message, "no domain 'nosuch'"),
	      "no such domain: %s", err.message);
	CHECK(app_errors == 0, "the connection's error stayed on the connection (%d)", app_errors);
	tg.uri = "bogus:///nothing";
	CHECK(np_observe(t, &tg, &o, &err) == NP_EUNSUPPORTED, "a URI no libvirt here serves: %s",
	      err.message);
	CHECK(app_errors > 0, "the failed open reached the application's error function");
	virSetErrorFunc(NULL, NULL);
	np_topo_free(t);
	if (keep)
		virConnectClose(keep);
}

/*
 * --io-threads on a domain with a PCI device: the emulator (where QEMU's
 * I/O threads are) is pinned to the CPUs of the device's node, not to the
 * placement's (two_nodes(): 0000:81:00.0 is on node 1, CPUs 4-7).  The
 * test driver keeps the emulator pin, so it is read back.
 */
static void test_libvirt_io_threads(void)
{
	struct np_error err = { 0 };
	np_topo *t = two_nodes();
	struct np_target tg = { .uri = "test:///default", .domain = "nic" };
	struct np_apply_result res = { 0 };
	int node0 = 0;
	struct np_apply_spec s = { .nnodes = 1, .nodes = &node0, .affinity = NP_AFFINITY_HARD,
				   .io_threads = true, .run_dir = "/tmp/np-rt-none" };
	virConnectPtr keep = virConnectOpen("test:///default");
	virDomainPtr d = keep ? virDomainCreateXML(keep,
		"<domain type='test'><name>nic</name><memory unit='MiB'>64</memory>"
		"<vcpu>1</vcpu><os><type>hvm</type></os><devices>"
		"<hostdev mode='subsystem' type='pci' managed='yes'><source><address "
		"domain='0x0000' bus='0x81' slot='0x00' function='0x0'/></source></hostdev>"
		"</devices></domain>", 0) : NULL;
	virDomainPtr vf = NULL;
	unsigned char map[1] = { 0 };

	CHECK(t && d, "a domain with a PCI device on the test driver");
	if (!t || !d)
		goto out;
	s.dry_run = true;
	CHECK(np_apply(t, &tg, &s, &res, &err) == 0 && res.nsteps == 2 &&
		      strcmp(res.steps[1], "domain nic emulator threads: pin to CPUs 4-7 (nodes 1, "
				      "its PCI devices')") == 0,
	      "dry run names the device's node: %s", res.nsteps == 2 ? res.steps[1] : err.message);
	np_apply_result_free(&res);
	s.dry_run = false;
	CHECK(np_apply(t, &tg, &s, &res, &err) == 0, "apply: %s", err.message);
	np_apply_result_free(&res);
	CHECK(virDomainGetEmulatorPinInfo(d, map, 1, VIR_DOMAIN_AFFECT_LIVE) == 1 && map[0] == 0xf0,
	      "the emulator is on CPUs 4-7, the device's node (map 0x%02x)", map[0]);
	tg.domain = "test"; /* no device: the placement's nodes, as before */
	s.dry_run = true;
	CHECK(np_apply(t, &tg, &s, &res, &err) == 0 && res.nsteps >= 3 &&
		      strcmp(res.steps[res.nsteps - 1], "domain test emulator threads: pin to CPUs "
							 "0-3 (nodes 0)") == 0,
	      "without devices the placement's nodes: %s",
	      res.nsteps ? res.steps[res.nsteps - 1] : err.message);
	np_apply_result_free(&res);
	/* An SR-IOV function given as a NIC is a PCI device of the guest too. */
	vf = virDomainCreateXML(keep,
		"<domain type='test'><name>vf</name><memory unit='MiB'>64</memory>"
		"<vcpu>1</vcpu><os><type>hvm</type></os><devices>"
		"<interface type='hostdev' managed='yes'><source><address type='pci' "
		"domain='0x0000' bus='0x81' slot='0x00' function='0x0'/></source></interface>"
		"</devices></domain>", 0);
	tg.domain = "vf";
	CHECK(vf && np_apply(t, &tg, &s, &res, &err) == 0 && res.nsteps == 2 &&
		      strcmp(res.steps[1], "domain vf emulator threads: pin to CPUs 4-7 (nodes 1, "
				      "its PCI devices')") == 0,
	      "an <interface type='hostdev'> counts as the domain's device: %s",
	      res.nsteps == 2 ? res.steps[1] : err.message);
	np_apply_result_free(&res);
out:
	if (vf) {
		virDomainDestroy(vf);
		virDomainFree(vf);
	}
	if (d) {
		virDomainDestroy(d);
		virDomainFree(d);
	}
	if (keep)
		virConnectClose(keep);
	np_topo_free(t);
}
#else
/* Without libvirt, a domain is unsupported, in one line that says so. */
static void test_libvirt(void)
{
	struct np_error err = { 0 };
	struct np_target tg = { .uri = "test:///default", .domain = "test" };
	np_topo *t = two_nodes();
	np_obs *o = NULL;

	CHECK(np_observe(t, &tg, &o, &err) == NP_EUNSUPPORTED && !o &&
		      strcmp(err.message, "this numaplace has no libvirt support (built without it)") == 0,
	      "domain without libvirt: %s", err.message);
	np_topo_free(t);
}

static void test_libvirt_io_threads(void)
{
	t_skip("no libvirt in this build");
}
#endif

int main(void)
{
	np_topo *t = two_nodes();

	T_CASE("numa-maps-saved", test_numa_maps_saved());
	T_CASE("numa-maps-real", test_numa_maps_real());
	T_CASE("numa-maps-bad", test_numa_maps_bad());
	T_CASE("numa-maps-mutated", test_numa_maps_mutated());
	T_CASE("numa-maps-cap", test_numa_maps_cap(t));
	T_CASE("stat-status", test_stat_status());
	T_CASE("observe-saved", test_observe_saved(t));
	T_CASE("host-sample", test_host_sample(t));
	T_CASE("apply-fake", test_apply_fake(t));
	T_CASE("migrate-rate", test_migrate_rate(t));
	T_CASE("diagnose", test_diagnose(t));
	T_CASE("orders", test_orders());
	T_CASE("policy", test_policy(t));
	T_CASE("balancer", test_balancer(t));
	T_CASE("trust", test_trust(t));
	T_CASE("observe-self", test_observe_self());
	T_CASE("libvirt", test_libvirt());
	T_CASE("libvirt-io-threads", test_libvirt_io_threads());
	np_topo_free(t);
	return t_done();
}
