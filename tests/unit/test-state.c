/*
 * test-state.c - the claims state file: claim, commit, reopen (restart
 * survival), idempotent and conflicting claims, release, read-only use,
 * crashes (a stray temporary file, a writer killed by SIGXFSZ in the
 * middle of its write, writers killed at random moments), corrupt files,
 * locking, 8 processes claiming on one file at once, and a claim that
 * moves another claim's cell (atomic: killed mid-commit, the old state;
 * a move that no longer matches, nothing changed).
 *
 * Plans are built by hand on the 8-node AMD fixture (t_fixture_topo) and charged by
 * np_state_apply() onto fresh hosts, so what survives is checked as usage,
 * not only as ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <numaplace/place.h>
#include <numaplace/state.h>

#include "check.h"
#include "plan/plan-int.h"
#include "state/state-int.h"

static char dir[64];
static char path[128];
static const np_topo *topo;

/* NPINS pinned vCPUs on CPU0.. and NFLOAT floating on CPUs of NODE. */
static np_plan *plan_on(int node, int cpu0, int npins, int nfloat, uint64_t mem)
{
	np_plan *p = np__plan_new();
	struct np_pin pins[8];
	int fl[8];
	struct np_plan_cell c = { .node_idx = node, .memory_mb = mem, .pagesize_kb = 4 };

	for (int i = 0; i < npins; i++)
		pins[i] = (struct np_pin){ i, cpu0 + i };
	for (int i = 0; i < nfloat; i++)
		fl[i] = npins + i;
	c.npins = npins;
	c.pins = pins;
	c.nfloat = nfloat;
	c.float_vcpus = fl;
	c.ncpuset = np_topo_node(topo, node)->ncpus;
	c.cpuset = np_topo_node(topo, node)->cpus;
	np__plan_add_cell(p, &c);
	np__plan_set_nodeset(p, &node, 1);
	np__plan_set_topo(p, topo);
	p->fits = true;
	return p;
}

static np_state *open_state(bool readonly)
{
	struct np_error err = { 0 };
	np_state *st = NULL;

	CHECK(np_state_open(path, readonly, &st, &err) == 0, "open: %s", err.message);
	return st;
}

static bool has_id(const np_state *st, const char *id)
{
	for (int i = 0; i < np_state_claim_count(st); i++)
		if (strcmp(np_state_claim_id(st, i), id) == 0)
			return true;
	return false;
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *read_text(const char *p)
{
	char *buf = NULL;
	size_t len;

	if (np__read_file(p, 1 << 26, &buf, &len, NULL))
		return NULL;
	return buf;
}

/* A fresh host with the state's claims charged; NULL when applying fails. */
static np_host *applied(np_state *st, struct np_error *err)
{
	np_host *h = NULL;

	if (np_host_new(topo, &h, err))
		return NULL;
	if (np_state_apply(st, h, err)) {
		np_host_free(h);
		return NULL;
	}
	return h;
}

/* np_state_claim_plan(): one claim's plan back, mapped onto the topology. */
static void test_claim_plan(const np_state *st)
{
	struct np_error err = { 0 };
	np_plan *p = NULL;
	const struct np_plan_cell *c;

	CHECK(np_state_claim_plan(st, "vm-1", topo, &p, &err) == 0, "claim plan: %s", err.message);
	c = p ? np_plan_cell(p, 0) : NULL;
	CHECK(p && np_plan_fits(p) && np_plan_cell_count(p) == 1 && c->node_idx == 2 &&
		      c->npins == 4 && c->pins[0].pcpu == 16 && c->memory_mb == 8192,
	      "vm-1's plan: node 2, 4 pins from CPU 16, 8192 MiB");
	np_plan_free(p);
	p = NULL;
	CHECK(np_state_claim_plan(st, "vm-9", topo, &p, &err) == NP_EINPUT && !p &&
		      strstr(err.message, "'vm-9'"),
	      "unknown id: %s", err.message);
	CHECK(np_state_claim_plan(st, "vm-1", NULL, &p, &err) == NP_EINPUT && !p,
	      "no topology: %s", err.message);
}

static void test_claims(void)
{
	struct np_error err = { 0 };
	np_plan *a = plan_on(2, 16, 4, 0, 8192), *b = plan_on(3, 24, 4, 0, 4096);
	np_state *st = open_state(false);
	struct stat s1, s2;
	np_host *h;
	bool found;

	if (!st)
		return;
	CHECK(np_state_claim_count(st) == 0, "a missing file is an empty state");
	CHECK(np_state_claim(st, "vm-1", a, &err) == 0, "claim: %s", err.message);
	CHECK(np_state_commit(st, &err) == 0, "commit: %s", err.message);
	np_state_close(st);
	CHECK(access(path, R_OK) == 0, "the state file exists");

	/* Restart: a new open sees the claim, and it charges the host. */
	st = open_state(false);
	CHECK(st && np_state_claim_count(st) == 1 && has_id(st, "vm-1"), "claim survives");
	h = st ? applied(st, &err) : NULL;
	CHECK(h != NULL, "apply: %s", err.message);
	if (h) {
		const struct np_host_node *n = np_host_node(h, 2);

		CHECK(n->memory_used_mb == 8192 && n->npinned == 4 && n->pinned[0] == 16,
		      "node 2 charged: %llu MiB, %d pinned", (unsigned long long)n->memory_used_mb,
		      n->npinned);
		CHECK(np_host_node(h, 3)->memory_used_mb == 0, "node 3 untouched");
		np_host_free(h);
	}
	test_claim_plan(st);

	/* Idempotent: the same plan again (even with other reasons) changes nothing. */
	np__plan_add_reason(a, 0, 1, -1, NP_RES_MEMORY, 1, 0, "why not node 1: text only");
	a->score.steps = 999;
	stat(path, &s1);
	CHECK(np_state_claim(st, "vm-1", a, &err) == 0, "idempotent: %s", err.message);
	CHECK(np_state_claim_count(st) == 1, "still one claim");
	CHECK(np_state_commit(st, &err) == 0, "commit of nothing");
	stat(path, &s2);
	CHECK(s1.st_ino == s2.st_ino, "nothing changed, nothing written");

	/* Conflicting: the same id with another plan is refused, with a reason. */
	memset(&err, 0, sizeof(err));
	CHECK(np_state_claim(st, "vm-1", b, &err) == NP_EINPUT &&
		      strcmp(err.reason, "claim_conflict") == 0 && strstr(err.message, "'vm-1'"),
	      "conflict: %s", err.message);
	CHECK(np_state_claim(st, "vm-2", b, &err) == 0, "second claim: %s", err.message);
	CHECK(np_state_commit(st, &err) == 0, "commit: %s", err.message);
	np_state_close(st);

	st = open_state(false);
	h = st ? applied(st, &err) : NULL;
	CHECK(h && np_host_node(h, 3)->memory_used_mb == 4096 && np_host_node(h, 3)->npinned == 4,
	      "both charged: %s", err.message);
	np_host_free(h);

	/*
	 * Over-commit.  After an apply the state holds the host's ledger: a
	 * third claim pinning vm-1's CPUs is refused and changes nothing.
	 */
	memset(&err, 0, sizeof(err));
	CHECK(st && np_state_claim(st, "vm-3", a, &err) == NP_ENOFIT &&
		      strstr(err.message, "'vm-3'") && strstr(err.message, "pinned already"),
	      "an over-committing claim is refused: %s", err.message);
	CHECK(st && np_state_claim_count(st) == 2, "and not recorded");
	/* Without an apply (a file from elsewhere) it is recorded; apply fails and undoes. */
	np_state_close(st);
	st = open_state(false);
	CHECK(st && np_state_claim(st, "vm-3", a, &err) == 0, "claim vm-3");
	h = NULL;
	np_host_new(topo, &h, &err);
	memset(&err, 0, sizeof(err));
	CHECK(h && np_state_apply(st, h, &err) == NP_EINPUT && strstr(err.message, "'vm-3'"),
	      "over-commit refused: %s", err.message);
	CHECK(h && np_host_node(h, 2)->npinned == 0 && np_host_node(h, 3)->npinned == 0 &&
		      np_host_node(h, 2)->memory_used_mb == 0,
	      "a failed apply leaves the host as it was");
	np_host_free(h);

	/* Release, and release of an unknown id. */
	CHECK(np_state_release(st, "vm-3", &found, &err) == 0 && found, "release vm-3");
	CHECK(np_state_release(st, "vm-2", &found, &err) == 0 && found, "release vm-2");
	CHECK(np_state_release(st, "nope", &found, &err) == 0 && !found, "release unknown");
	CHECK(np_state_commit(st, &err) == 0, "commit: %s", err.message);
	np_state_close(st);
	st = open_state(false);
	CHECK(st && np_state_claim_count(st) == 1 && has_id(st, "vm-1") && !has_id(st, "vm-2"),
	      "release survives");
	np_state_close(st);
	np_plan_free(a);
	np_plan_free(b);
}

/*
 * np__state_check(): the ledger alone, and the claims charged together
 * onto a host: a CPU pinned twice, a node over its memory; and a ledger
 * broken in memory (order, ids) is caught.
 */
static void test_state_check(void)
{
	struct np_error err = { 0 };
	np_plan *a = plan_on(4, 32, 2, 0, 1024), *twice = plan_on(4, 33, 1, 0, 64);
	np_plan *big = plan_on(5, 40, 0, 1, np_topo_node(topo, 5)->mem_total_kb / 1024 + 1);
	np_state *st = open_state(false);
	np_host *h = NULL;
	struct claim tmp;
	char *id;

	if (!st || np_host_new(topo, &h, &err)) {
		CHECK(0, "state check setup: %s", err.message);
		goto out;
	}
	CHECK(np__state_check(st, NULL, &err) == 0 && np__state_check(st, h, &err) == 0,
	      "the ledger as loaded: %s", err.message);
	CHECK(np_state_claim(st, "c-1", a, &err) == 0 && np_state_claim(st, "c-2", twice, &err) == 0,
	      "claims: %s", err.message);
	CHECK(np__state_check(st, NULL, &err) == 0, "ids and plans fine: %s", err.message);
	memset(&err, 0, sizeof(err));
	CHECK(np__state_check(st, h, &err) == NP_EINPUT && strstr(err.message, "CPU 33") &&
		      strstr(err.message, "already pinned"),
	      "CPU 33 given twice: %s", err.message);
	np_state_release(st, "c-2", NULL, &err);
	CHECK(np_state_claim(st, "c-3", big, &err) == 0, "a claim larger than its node");
	memset(&err, 0, sizeof(err));
	CHECK(np__state_check(st, h, &err) == NP_EINPUT &&
		  strstr(err.message, "claim 'c-3' in '") == err.message &&
		  strstr(err.message, ": node 5: ") && strstr(err.message, " MiB claimed of "),
	      "node 5 over its memory, the claim named: %s", err.message);
	np_state_release(st, "c-3", NULL, &err);
	CHECK(np__state_check(st, h, &err) == 0, "released: fine again: %s", err.message);
	CHECK(np_host_node(h, 4)->npinned == 0, "the checker leaves the host alone");
	/* Broken in memory: two claims out of order, then an id with a newline. */
	if (np_state_claim(st, "c-4", a, &err) == 0 && st->nclaims >= 2) {
		tmp = st->claims[0];
		st->claims[0] = st->claims[1];
		st->claims[1] = tmp;
		CHECK(np__state_check(st, NULL, &err) == NP_EINPUT && strstr(err.message, "sorted"),
		      "out of order: %s", err.message);
		st->claims[1] = st->claims[0];
		st->claims[0] = tmp;
		id = st->claims[0].id;
		st->claims[0].id = "c\n1";
		CHECK(np__state_check(st, NULL, &err) == NP_EINPUT &&
			      strstr(err.message, "control character"),
		      "a newline in an id: %s", err.message);
		st->claims[0].id = id;
	}
out:
	np_host_free(h);
	np_state_close(st); /* uncommitted: the file is as it was */
	np_plan_free(a);
	np_plan_free(twice);
	np_plan_free(big);
}

static void test_bad_claims(void)
{
	struct np_error err = { 0 };
	np_plan *a = plan_on(1, 8, 1, 0, 64), *nofit = np__plan_new(), *anon = np__plan_new();
	np_state *st = open_state(false);
	char longid[300];

	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	CHECK(np_state_claim(st, "", a, &err) == NP_EINPUT, "empty id");
	CHECK(np_state_claim(st, "a\nb", a, &err) == NP_EINPUT, "control character");
	CHECK(np_state_claim(st, longid, a, &err) == NP_EINPUT, "long id");
	CHECK(np_state_claim(st, "bad-\xff", a, &err) == NP_EINPUT &&
		      strstr(err.message, "UTF-8"),
	      "invalid UTF-8: %s", err.message);
	CHECK(np_state_claim(st, "nofit", nofit, &err) == NP_EINPUT &&
		      strstr(err.message, "does not fit"),
	      "no-fit plan");
	anon->fits = true;
	np__plan_add_cell(anon, &a->cells[0]);
	np__plan_set_nodeset(anon, a->nodeset, 1);
	CHECK(np_state_claim(st, "anon", anon, &err) == NP_EINPUT,
	      "a plan that does not know its host's node ids: %s", err.message);
	CHECK(np_state_claim(st, "vm \"quoted\" é", a, &err) == 0, "odd but valid id: %s",
	      err.message);
	CHECK(np_state_commit(st, &err) == 0, "commit");
	np_state_close(st);
	st = open_state(false);
	CHECK(st && has_id(st, "vm \"quoted\" é"), "odd id survives");
	np_state_release(st, "vm \"quoted\" é", NULL, &err);
	np_state_commit(st, &err);
	np_state_close(st);
	np_plan_free(a);
	np_plan_free(nofit);
	np_plan_free(anon);
}

/* Can another process take the lock file now (LOCK_NB)? */
static bool other_can_lock(int how)
{
	char lock[160];
	int status;
	pid_t pid;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open(lock, O_RDONLY);

		_exit(fd >= 0 && flock(fd, how | LOCK_NB) == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_readonly_and_locks(void)
{
	struct np_error err = { 0 };
	np_plan *a = plan_on(4, 32, 2, 0, 128);
	np_state *w, *r1, *r2;
	char *before, *after;

	w = open_state(false);
	CHECK(!other_can_lock(LOCK_SH), "a writer excludes readers");
	CHECK(!other_can_lock(LOCK_EX), "a writer excludes writers");
	np_state_close(w);
	CHECK(other_can_lock(LOCK_EX), "close unlocks");

	before = read_text(path);
	r1 = open_state(true);
	r2 = open_state(true);
	CHECK(r1 && r2, "two readers at once");
	CHECK(other_can_lock(LOCK_SH) && !other_can_lock(LOCK_EX), "readers share, writers wait");
	CHECK(r1 && np_state_claim_count(r1) == 1 && has_id(r1, "vm-1"), "reader sees the claims");
	CHECK(r1 && np_state_claim(r1, "what-if", a, &err) == 0, "claim in memory");
	memset(&err, 0, sizeof(err));
	CHECK(r1 && np_state_commit(r1, &err) == NP_EINPUT && strstr(err.message, "read-only"),
	      "read-only commit refused: %s", err.message);
	np_state_close(r1);
	np_state_close(r2);
	after = read_text(path);
	CHECK(before && after && strcmp(before, after) == 0, "the file is unchanged");
	free(before);
	free(after);
	np_plan_free(a);
}

/*
 * The state and its lock file are never waited on or followed: a FIFO as
 * either, or a symbolic link as the lock, is refused at once (an alarm
 * turns a blocking open into a failure instead of a hang).
 */
static void test_special_files(void)
{
	char sp[200], lock[210], target[210];
	struct np_error err = { 0 };
	np_state *st = NULL;
	int rc;

	snprintf(sp, sizeof(sp), "%s/special.json", dir);
	snprintf(lock, sizeof(lock), "%s.lock", sp);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	alarm(20);
	CHECK(mkfifo(sp, 0600) == 0, "make a FIFO state");
	rc = np_state_open(sp, false, &st, &err);
	CHECK(rc == NP_EIO && !st && strstr(err.message, "not a regular file (a FIFO)"),
	      "a FIFO as the state: rc %d %s", rc, err.message);
	unlink(sp);
	unlink(lock);
	CHECK(mkfifo(lock, 0600) == 0, "make a FIFO lock");
	for (int ro = 0; ro < 2; ro++) {
		rc = np_state_open(sp, ro, &st, &err);
		CHECK(rc == NP_EIO && !st && strstr(err.message, "cannot lock") &&
			      strstr(err.message, "(a FIFO)"),
		      "a FIFO as the lock (read-only %d): rc %d %s", ro, rc, err.message);
	}
	unlink(lock);
	CHECK(symlink(target, lock) == 0, "make a link as the lock");
	rc = np_state_open(sp, false, &st, &err);
	CHECK(rc == NP_EIO && !st && strstr(err.message, "symbolic link") &&
		      access(target, F_OK) != 0,
	      "a link as the lock is neither followed nor created through: rc %d %s", rc,
	      err.message);
	alarm(0);
	unlink(lock);
}

/* A child that claims until killed (LIMIT > 0: files may not grow past it); never returns. */
static void claim_forever(int tag, long limit)
{
	np_plan *p = plan_on(5, 40, 0, 1, 16);
	struct np_error err;
	char id[64];

	if (limit > 0) {
		struct rlimit rl = { (rlim_t)limit, (rlim_t)limit };

		setrlimit(RLIMIT_FSIZE, &rl);
	}
	for (int i = 0;; i++) {
		np_state *st = NULL;

		if (np_state_open(path, false, &st, &err))
			_exit(3);
		for (int k = 0; k < 4; k++) {
			snprintf(id, sizeof(id), "crash-%d-%d-%d", tag, i, k);
			np_state_claim(st, id, p, &err);
		}
		np_state_commit(st, &err);
		np_state_close(st);
	}
}

static int stray_count(void)
{
	char cmd[256], line[64];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -a '%s' | grep -c -- '^state.json.tmp-' ", dir);
	f = popen(cmd, "r");
	if (f && fgets(line, sizeof(line), f))
		n = (int)strtol(line, NULL, 10);
	if (f)
		pclose(f);
	return n;
}

static void test_crashes(void)
{
	struct np_error err = { 0 };
	char tmp[200], *old, *now;
	np_state *st;
	int status, before;
	pid_t pid;

	/* A stray temporary file with garbage: ignored, then removed by the next writer. */
	snprintf(tmp, sizeof(tmp), "%s.tmp-AbC123", path);
	write_file(tmp, "{\"schema\": \"numaplace.st");
	st = open_state(true);
	CHECK(st && np_state_claim_count(st) == 1, "a reader ignores a stray temp file");
	CHECK(access(tmp, F_OK) == 0, "a reader leaves it");
	np_state_close(st);
	st = open_state(false);
	CHECK(st && np_state_claim_count(st) == 1, "a writer ignores a stray temp file");
	CHECK(access(tmp, F_OK) != 0, "and removes it");
	np_state_close(st);

	/*
	 * A writer killed in the middle of writing its temp file: it may not
	 * write files larger than the state is now, and its first commit adds
	 * four claims (SIGXFSZ).
	 */
	old = read_text(path);
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		claim_forever(0, old ? (long)strlen(old) : 1);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ, "the writer died of SIGXFSZ");
	CHECK(stray_count() == 1, "it left a half-written temp file (%d)", stray_count());
	st = open_state(false);
	CHECK(st && np_state_claim_count(st) == 1 && has_id(st, "vm-1"),
	      "the old state is intact after a crash mid-write (%d)",
	      st ? np_state_claim_count(st) : -1);
	CHECK(stray_count() == 0, "the next writer removed the temp file");
	np_state_close(st);
	now = read_text(path);
	CHECK(old && now && strcmp(old, now) == 0, "the state file is byte for byte the old one");
	free(old);
	free(now);

	/* Writers killed at random moments: the file is always a whole state. */
	srand((unsigned)time(NULL));
	before = 1;
	for (int round = 0; round < 25; round++) {
		struct timespec ts = { 0, (long)(rand() % 20000) * 1000L };

		fflush(NULL);
		pid = fork();
		if (pid == 0)
			claim_forever(round + 1, 0);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		st = NULL;
		memset(&err, 0, sizeof(err));
		CHECK(np_state_open(path, true, &st, &err) == 0, "round %d: %s", round,
		      err.message);
		CHECK(st && np_state_claim_count(st) >= before && has_id(st, "vm-1"),
		      "round %d: claims lost", round);
		CHECK(st == NULL || (np_state_claim_count(st) - 1) % 4 == 0,
		      "round %d: a half commit is visible (%d claims)", round,
		      st ? np_state_claim_count(st) : -1);
		before = st ? np_state_claim_count(st) : before;
		np_state_close(st);
	}
	/* Clean up: keep only vm-1. */
	st = open_state(false);
	while (st && np_state_claim_count(st) > 1) {
		const char *id = np_state_claim_id(st, 0);

		np_state_release(st, strcmp(id, "vm-1") ? id : np_state_claim_id(st, 1), NULL,
				 &err);
	}
	CHECK(st && np_state_commit(st, &err) == 0, "cleanup commit");
	np_state_close(st);
}

static const struct {
	const char *text;
	const char *needle;
} corrupt[] = {
    {"", "empty file"},
    {"garbage", "line 1:"},
    {"{\"schema\": \"numaplace.state/1\", \"claims\": {\"a\": {\"schema\"", "line 1:"},
    {"[]", "expected a numaplace.state/1 object"},
    {"{\"schema\": \"numaplace.state/0\", \"claims\": {}}", "schema: expected"},
    {"{\"schema\": \"numaplace.state/1\", \"claims\": []}", "claims: expected an object"},
    {"{\"schema\": \"numaplace.state/1\", \"claims\": {\"vm-9\": 7}}",
     "claim 'vm-9' in '*': expected a plan object, not a single value"},
    {"{\"schema\": \"numaplace.state/1\", \"claims\": {\"vm-9\": {\"schema\": "
     "\"numaplace.plan/1\", "
     "\"fits\": true, \"cells\": [{\"guest_cell\": 0, \"node\": 1, \"memory_mb\": \"lots\"}]}}}",
     "claim 'vm-9' in '*': cells[0].memory_mb: expected an integer"},
    {"{\"schema\": \"numaplace.state/1\", \"claims\": {\"vm-9\": {\"schema\": "
     "\"numaplace.plan/1\", "
     "\"fits\": false, \"cells\": []}}}",
     "claim 'vm-9' in '*': fits: a claim must hold a plan that fits"},
    {"{\"schema\": \"numaplace.state/1\", \"claims\": {\"a\": {}, \"a\": {}}}", "duplicate"},
    /* Ids np_state_claim() refuses are refused in a file too (the ledger's invariant). */
    {"{\"schema\": \"numaplace.state/1\", \"claims\": {\"\": {\"schema\": \"numaplace.plan/1\", \"fits\": true, \"cells\": [{\"guest_cell\": 0, \"node\": 0, \"memory_mb\": 64}]}}}",
     "claim '' in '*': the id is empty"},
    {"{\"schema\": \"numaplace.state/1\", \"claims\": {\"a\\u0001b\": {\"schema\": \"numaplace.plan/1\", \"fits\": true, \"cells\": [{\"guest_cell\": 0, \"node\": 0, \"memory_mb\": 64}]}}}",
     "claim 'a\\x01b' in '*': the id has a control character"},
    /* C1 controls (U+009B is CSI to a terminal) are control characters too. */
    {"{\"schema\": \"numaplace.state/1\", \"claims\": {\"a\\u009b31mb\": {\"schema\": \"numaplace.plan/1\", \"fits\": true, \"cells\": [{\"guest_cell\": 0, \"node\": 0, \"memory_mb\": 64}]}}}",
     "claim 'a\\xc2\\x9b31mb' in '*': the id has a control character"},
};

/*
 * MSG has the form NEEDLE, where '*' in NEEDLE stands for the state's path:
 * per-claim errors say "claim 'ID' in 'FILE': ...", the others "cannot
 * load 'FILE': ...".
 */
static bool says(const char *msg, const char *needle)
{
	const char *star = strchr(needle, '*');
	char want[600];

	if (!star)
		return strstr(msg, "cannot load '") == msg && strstr(msg, needle);
	snprintf(want, sizeof(want), "%.*s%s%s", (int)(star - needle), needle, path, star + 1);
	return strcmp(msg, want) == 0 || (strstr(msg, want) == msg);
}

static void test_corrupt(void)
{
	char *good = read_text(path), *half;
	struct np_error err;
	np_state *st;
	np_host *h;

	for (size_t i = 0; i < NP__ARRAY_SIZE(corrupt); i++) {
		write_file(path, corrupt[i].text);
		st = NULL;
		memset(&err, 0, sizeof(err));
		CHECK(np_state_open(path, false, &st, &err) == NP_EINPUT && !st,
		      "corrupt %zu opens", i);
		CHECK(says(err.message, corrupt[i].needle) && !strchr(err.message, '\n'),
		      "corrupt %zu: '%s' is not '%s'", i, err.message, corrupt[i].needle);
	}
	/* A truncated state (a torn copy): bad input, not a crash. */
	if (good) {
		half = strndup(good, strlen(good) / 2);
		write_file(path, half);
		st = NULL;
		CHECK(np_state_open(path, false, &st, &err) == NP_EINPUT, "truncated: %s",
		      err.message);
		free(half);
	}
	/* Well-formed, but for another host: open works, apply names the claim. */
	write_file(path,
		   "{\"schema\": \"numaplace.state/1\", \"claims\": {\"far\": {\"schema\": "
		   "\"numaplace.plan/1\", \"fits\": true, \"cells\": [{\"guest_cell\": 0, "
		   "\"node\": 99, \"memory_mb\": 1, \"float_vcpus\": [0], \"cpuset\": [1]}]}}}");
	st = open_state(true);
	memset(&err, 0, sizeof(err));
	h = st ? applied(st, &err) : NULL;
	CHECK(!h && err.code == NP_EINPUT && strstr(err.message, "'far'") &&
		      strstr(err.message, "node 99 is not in the host topology"),
	      "foreign plan: %s", err.message);
	np_state_close(st);
	if (good)
		write_file(path, good);
	free(good);
}

static void test_write_json(void)
{
	struct np_error err = { 0 };
	np_state *st = open_state(true);
	char *buf = NULL, *file = read_text(path);
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CHECK(st && np_state_write_json(st, m, &err) == 0, "write json: %s", err.message);
	fclose(m);
	CHECK(buf && file && strcmp(buf, file) == 0, "state show = the file:\n%s\n%s", buf, file);
	CHECK(buf && strstr(buf, "\"schema\": \"numaplace.state/1\"") &&
		      strstr(buf, "\"vm-1\": {\"schema\":\"numaplace.plan/1\""),
	      "layout:\n%s", buf);
	free(buf);
	free(file);
	np_state_close(st);
}

#define WORKERS 8
#define ROUNDS  25

static void worker(int w)
{
	np_plan *p = plan_on(6, 48, 0, 1, 32);
	struct np_error err;
	char id[32];

	for (int i = 0; i < ROUNDS; i++) {
		np_state *st = NULL;

		snprintf(id, sizeof(id), "w%d-%d", w, i);
		if (np_state_open(path, false, &st, &err) || np_state_claim(st, id, p, &err) ||
		    np_state_commit(st, &err))
			_exit(1);
		np_state_close(st);
	}
	np_plan_free(p);
	_exit(0);
}

static int count_in(const char *text, const char *needle)
{
	int n = 0;

	for (const char *s = text; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

static void test_concurrency(void)
{
	struct np_error err = { 0 };
	pid_t pids[WORKERS];
	char id[40], *text;
	np_state *st;
	np_host *h;
	int status, ok = 0, once = 0;

	fflush(NULL);
	for (int w = 0; w < WORKERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0)
			worker(w);
	}
	for (int w = 0; w < WORKERS; w++) {
		waitpid(pids[w], &status, 0);
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	CHECK(ok == WORKERS, "%d of %d workers succeeded", ok, WORKERS);
	st = open_state(true);
	text = read_text(path);
	CHECK(st && np_state_claim_count(st) == WORKERS * ROUNDS + 1, "%d claims",
	      st ? np_state_claim_count(st) : -1);
	for (int w = 0; w < WORKERS; w++)
		for (int i = 0; i < ROUNDS; i++) {
			snprintf(id, sizeof(id), "\"w%d-%d\":", w, i);
			once += text && count_in(text, id) == 1;
		}
	CHECK(once == WORKERS * ROUNDS, "every id exactly once (%d)", once);
	/*
	 * The workers pile more floating vCPUs on node 6 than its CPU ratio
	 * allows (hand-made plans, no engine): charge them on a host without
	 * limits, as Nova's hosts without NUMATopologyLimits are.
	 */
	h = NULL;
	if (st && np_host_new(topo, &h, &err) == 0) {
		np_host_set_limits(h, false, 16.0, 1.0);
		if (np_state_apply(st, h, &err)) {
			np_host_free(h);
			h = NULL;
		}
	}
	CHECK(h && np_host_node(h, 6)->memory_used_mb == 32 * WORKERS * ROUNDS &&
		      np_host_node(h, 6)->cpu_usage == WORKERS * ROUNDS,
	      "all of them charged: %s", err.message);
	np_host_free(h);
	free(text);
	np_state_close(st);
}

/* ---- claims that move other claims' cells ---------------------------------- */

/* MOVES_PATH: every node with 3 GiB free; node 0 holds "small" (2 GiB) in its 3. */
static char moves_path[160];

static np_state *open_moves(bool readonly)
{
	struct np_error err = { 0 };
	np_state *st = NULL;

	CHECK(np_state_open(moves_path, readonly, &st, &err) == 0, "open: %s", err.message);
	return st;
}

static void fill_for_moves(void)
{
	struct np_error err = { 0 };
	np_state *st = open_moves(false);
	char id[32];

	for (int j = 0; st && j < np_topo_node_count(topo); j++) {
		uint64_t mb = np_topo_node(topo, j)->mem_total_kb / 1024 - (j == 0 ? 5120 : 3072);
		np_plan *p = plan_on(j, 0, 0, 1, mb);

		snprintf(id, sizeof(id), "big-%d", j);
		CHECK(np_state_claim(st, id, p, &err) == 0, "claim %s: %s", id, err.message);
		np_plan_free(p);
	}
	if (st) {
		np_plan *p = plan_on(0, 0, 0, 1, 2048);

		CHECK(np_state_claim(st, "small", p, &err) == 0 && np_state_commit(st, &err) == 0,
		      "claim small: %s", err.message);
		np_plan_free(p);
	}
	np_state_close(st);
}

/* A 5 GiB guest placed on ST's claims, moving at most one of them. */
static np_plan *plan_with_move(np_state *st)
{
	struct np_guest_plan g[16];
	struct np_moves_opts mo = { 1, 0, 0 };
	struct np_error err = { 0 };
	np_request *q = NULL;
	np_plan *p = NULL;
	np_host *h = applied(st, &err);
	int n = np_state_claim_count(st);

	CHECK(h && n <= 16, "host: %s", err.message);
	for (int i = 0; i < n && h; i++) {
		np_plan *gp = NULL;

		g[i].id = np_state_claim_id(st, i);
		np_state_claim_plan(st, g[i].id, topo, &gp, NULL);
		g[i].plan = gp;
		g[i].fixed = false;
	}
	CHECK(np_request_from_flavor_text("vcpus=2,ram=5120,hw:numa_nodes=1", NULL, &q, &err) == 0,
	      "request: %s", err.message);
	CHECK(h && q && np_place_with_moves(h, q, NULL, g, n, &mo, &p, &err) == 0 && p &&
		      np_plan_fits(p) && np_plan_move_count(p) == 1 &&
		      strcmp(np_plan_move(p, 0)->guest, "small") == 0,
	      "the plan moves 'small': %s", err.message);
	for (int i = 0; i < n && h; i++)
		np_plan_free((np_plan *)g[i].plan);
	np_request_free(q);
	np_host_free(h);
	return p;
}

/* The state has the new guest on node 0 and small moved off it, and checks out on a host. */
static void check_moved(const np_state *st, int moved_to)
{
	struct np_error err = { 0 };
	np_plan *small = NULL, *now = NULL;
	np_host *h = NULL;

	CHECK(np_state_claim_plan(st, "small", topo, &small, &err) == 0 &&
		      np_plan_cell(small, 0)->node_idx == moved_to,
	      "small is on node %d now: %s", moved_to, err.message);
	CHECK(np_state_claim_plan(st, "new", topo, &now, &err) == 0 &&
		      np_plan_cell(now, 0)->node_idx == 0,
	      "the new guest is on node 0: %s", err.message);
	CHECK(np_host_new(topo, &h, &err) == 0 && np__state_check(st, h, &err) == 0,
	      "the state checker passes on the host: %s", err.message);
	np_host_free(h);
	np_plan_free(small);
	np_plan_free(now);
}

static void test_claim_moves(void)
{
	struct np_error err = { 0 };
	np_state *st;
	np_plan *p = NULL, *other;
	char *old, *now;
	int status, to = -1;
	pid_t pid;

	snprintf(moves_path, sizeof(moves_path), "%s/moves.json", dir);
	fill_for_moves();
	st = open_moves(false);
	p = st ? plan_with_move(st) : NULL;
	to = p ? np_plan_move(p, 0)->cell.node_idx : -1;
	np_state_close(st);
	if (!p)
		return;

	/* Killed while writing the commit: the old state, byte for byte. */
	old = read_text(moves_path);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { (rlim_t)strlen(old ? old : ""), (rlim_t)strlen(old ? old : "") };
		np_state *c = NULL;

		setrlimit(RLIMIT_FSIZE, &rl);
		if (np_state_open(moves_path, false, &c, NULL) ||
		    np_state_claim_moves(c, "new", p, topo, NULL))
			_exit(3);
		np_state_commit(c, NULL);
		_exit(4);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ, "the writer died of SIGXFSZ");
	now = read_text(moves_path);
	CHECK(old && now && strcmp(old, now) == 0, "a crash mid-commit leaves the old state");
	free(now);

	/* The claim with its move, committed. */
	st = open_moves(false);
	CHECK(st && np_state_claim_moves(st, "new", p, topo, &err) == 0 &&
		      np_state_commit(st, &err) == 0,
	      "claim with moves: %s", err.message);
	if (st)
		check_moved(st, to);
	CHECK(st && np_state_claim_moves(st, "new", p, topo, &err) == 0,
	      "claiming it again with the same plan changes nothing: %s", err.message);
	np_state_close(st);
	st = open_moves(true);
	if (st)
		check_moved(st, to); /* survives a reopen */
	np_state_close(st);

	/* Back to the old state.  A failure after the moves were made (a bad id): undone. */
	write_file(moves_path, old);
	st = open_moves(false);
	memset(&err, 0, sizeof(err));
	CHECK(st && np_state_claim_moves(st, "bad\x01id", p, topo, &err) == NP_EINPUT,
	      "a bad id, found after the moved claims were replaced: %s", err.message);
	other = NULL;
	CHECK(st && np_state_claim_plan(st, "small", topo, &other, &err) == 0 &&
		      np_plan_cell(other, 0)->node_idx == 0 &&
		      np_state_claim_count(st) == np_topo_node_count(topo) + 1,
	      "undone: small on node 0 again, no claim added");
	np_plan_free(other);
	/* Small elsewhere: the move no longer matches. */
	other = plan_on(to == 1 ? 2 : 1, 0, 0, 1, 2048);
	CHECK(st && np_state_release(st, "small", NULL, &err) == 0 &&
		      np_state_claim(st, "small", other, &err) == 0,
	      "small moved by someone else: %s", err.message);
	memset(&err, 0, sizeof(err));
	CHECK(st && np_state_claim_moves(st, "new", p, topo, &err) == NP_EINPUT &&
		      strcmp(err.reason, "claim_conflict") == 0 && strstr(err.message, "'small'"),
	      "a move that no longer matches is refused: %s", err.message);
	CHECK(st && np_state_claim_count(st) == np_topo_node_count(topo) + 1 &&
		      !has_id(st, "new"),
	      "and nothing changed: %d claims", st ? np_state_claim_count(st) : -1);
	np_plan_free(other);
	np_state_close(st);
	free(old);
	np_plan_free(p);
}

/*
 * The record of recent claims (state-demand.c) and the demand it makes:
 * claim order kept, the oldest dropped after NP__STATE_RECENT, released
 * claims kept, a claim moved (released and claimed again as it was) keeps
 * its place, one claimed anew under an old id goes last; it survives a
 * commit; np_state_demand() weighs the newest 0.9, claims held but not
 * recorded less than every recorded one.
 */
static void test_recent(void)
{
	char rpath[160], id[16];
	struct np_error err = { 0 };
	struct np_demand *dem = calloc(NP_DEMAND_MAX, sizeof(*dem));
	np_state *st = NULL;
	np_plan *p10 = NULL;
	int n;

	snprintf(rpath, sizeof(rpath), "%s/recent.json", dir);
	CHECK(np_state_open(rpath, false, &st, &err) == 0, "open: %s", err.message);
	for (int i = 1; st && i <= 70; i++) {
		np_plan *p = plan_on(i % 8, 8 * (i % 8), 0, 1, (uint64_t)i);

		snprintf(id, sizeof(id), "g%d", i);
		CHECK(np_state_claim(st, id, p, &err) == 0, "claim %s: %s", id, err.message);
		if (i == 10)
			p10 = p;
		else
			np_plan_free(p);
	}
	CHECK(st && st->nrecent == NP__STATE_RECENT && strcmp(st->recent[0].id, "g7") == 0 &&
		  strcmp(st->recent[63].id, "g70") == 0 && st->recent[63].cells[0].floating == 1 &&
		  st->recent[63].cells[0].memory_mb == 70,
	      "the last 64 claims, in order");
	n = st ? np_state_demand(st, dem, 0) : 0;
	CHECK(n == 70 && dem[63].memory_mb == 70 && dem[63].weight == np_demand_weight(1) &&
		  dem[0].memory_mb == 7 && dem[0].weight == np_demand_weight(64) &&
		  dem[64].weight == np_demand_weight(65),
	      "demand: 64 recorded shapes, the newest of age 1, then the 6 held but not recorded");
	CHECK(st && np_state_release(st, "g10", NULL, &err) == 0 &&
		  np_state_claim(st, "g10", p10, &err) == 0 && strcmp(st->recent[3].id, "g10") == 0,
	      "a claim released and claimed again as it was keeps its place");
	CHECK(st && np_state_release(st, "g70", NULL, &err) == 0 && st->nrecent == 64 &&
		  np_state_demand(st, dem, 0) == 70,
	      "a released claim stays in the record and the demand");
	np_plan_free(p10);
	p10 = plan_on(1, 8, 0, 2, 1000);
	CHECK(st && np_state_claim(st, "g10", p10, NULL) != 0, "g10 is held: another plan conflicts");
	CHECK(st && np_state_release(st, "g10", NULL, &err) == 0 &&
		  np_state_claim(st, "g10", p10, &err) == 0 && strcmp(st->recent[63].id, "g10") == 0 &&
		  st->recent[63].cells[0].floating == 2 && strcmp(st->recent[3].id, "g11") == 0,
	      "claimed anew with other cells: the newest");
	CHECK(st && np_state_commit(st, &err) == 0, "commit: %s", err.message);
	np_state_close(st);
	st = NULL;
	CHECK(np_state_open(rpath, true, &st, &err) == 0 && st->nrecent == 64 &&
		  strcmp(st->recent[63].id, "g10") == 0 && st->recent[63].cells[0].memory_mb == 1000 &&
		  np__state_check(st, NULL, &err) == 0,
	      "read back: the record as it was (%s)", err.message);
	np_state_close(st);
	np_plan_free(p10);
	free(dem);
}

/*
 * The 8-node AMD fixture every case claims on, loaded by the first case
 * that runs (so that, without the shared folder, each case says it skips).
 */
static bool amd(void)
{
	static np_topo *t;
	struct np_error err = { 0 };

	if (!t && t_fixture_topo("64amd64-4s2n4ca2co", &t, &err))
		CHECK(0, "fixture: %s", err.message);
	topo = t;
	return t != NULL;
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/np-state-XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/state.json", dir);
	T_CASE("claims", if (amd()) test_claims());
	T_CASE("state-check", if (amd()) test_state_check());
	T_CASE("bad-claims", if (amd()) test_bad_claims());
	T_CASE("readonly-and-locks", if (amd()) test_readonly_and_locks());
	T_CASE("special-files", test_special_files());
	T_CASE("crashes", if (amd()) test_crashes());
	T_CASE("corrupt", if (amd()) test_corrupt());
	T_CASE("write-json", if (amd()) test_write_json());
	T_CASE("concurrency", if (amd()) test_concurrency());
	T_CASE("claim-moves", if (amd()) test_claim_moves());
	T_CASE("recent", if (amd()) test_recent());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	np_topo_free((np_topo *)topo);
	t_cleanup();
	return t_done();
}
