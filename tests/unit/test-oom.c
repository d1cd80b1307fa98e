/*
 * test-oom.c - allocation failure, SQLite's way: for every N, fail the
 * N-th allocation of a scenario (and only that one) and check that the
 * library neither crashes nor leaks nor lies - it returns NP_ENOMEM (with
 * err filled with NP_ENOMEM), or, when it could do without that memory,
 * exactly the answer it gives with all the memory it asks for.  N counts
 * up until a run completes with no failure injected.
 *
 * The hook: this program is linked with -Wl,--wrap=malloc,... (see
 * meson.build), so every malloc, calloc, realloc, strdup, strndup and
 * open_memstream made by libnumaplace's own objects (the static library)
 * comes here first; jansson's and libxml2's allocations are routed here by
 * json_set_alloc_funcs() and xmlMemSetup().  hwloc, libvirt and glibc's
 * own allocations are not counted.  The hook fails nothing unless armed,
 * so the harness's own allocations never fail.
 *
 * Leaks: in an AddressSanitizer build, LeakSanitizer checks after each
 * scenario's loop; when it finds one, the loop is run again with a check
 * after every N, to name the N that leaks.
 *
 * Scenarios: the parsers (topology JSON, xl info -n, libvirt
 * capabilities; requests from Nova flavor text, JSON, xl vnuma; a Nova
 * case), the engine (np_place with explain, a guest without NUMA, PCI),
 * plan JSON read and write, every emitter, the state (claim, release,
 * commit, apply), a synthetic workload (np_gen_write), and whole documents
 * (libvirt domains and xl.cfg files read, placed and merged).
 */
#include <execinfo.h>
#include <libxml/parser.h>
#include <libxml/xmlmemory.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <numaplace/numaplace.h>

#include "check.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif
#endif

/* ---- the hook ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
FILE *__real_open_memstream(char **buf, size_t *len);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
FILE *__wrap_open_memstream(char **buf, size_t *len);

struct hook {
	bool armed;
	long count;    /* allocations seen since armed */
	long fail_at;  /* the one to fail (1-based); 0: none */
	int injected;  /* failures made */
	bool parsing;  /* inside json_loadb() */
	bool in_jansson; /* the failure was made there */
};
static struct hook hook;

static bool fail_now(void)
{
	if (!hook.armed || ++hook.count != hook.fail_at)
		return false;
	hook.injected++;
	hook.in_jansson = hook.parsing;
	if (getenv("NP_OOM_TRACE")) { /* where the failed allocation was asked for */
		void *frames[32];

		hook.armed = false;
		backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
		hook.armed = true;
	}
	return true;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return fail_now() ? NULL : __real_strndup(s, n);
}

FILE *__wrap_open_memstream(char **buf, size_t *len)
{
	return fail_now() ? NULL : __real_open_memstream(buf, len);
}

/*
 * jansson 2.14's parser does not always survive a failed allocation: it
 * reports some as a syntax error (a string it could not copy becomes an
 * invalid token), and when its token buffer cannot grow it drops the
 * character and goes on ("numaplace.topoogy/1"), so a reader may even get
 * a document with a changed string or number.  No reader can tell those
 * from the input, so a failure made inside json_loadb() is only held to
 * no crash, no leak and a consistent error; what it gave is counted.
 */
json_t *__real_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *e);
json_t *__wrap_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *e);

json_t *__wrap_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *e)
{
	json_t *root;

	hook.parsing = true;
	root = __real_json_loadb(buf, len, flags, e);
	hook.parsing = false;
	return root;
}

/* libxml2 wants a strdup of its own type. */
static char *xml_strdup(const char *s)
{
	return __wrap_strdup(s);
}

/* ---- the loop ---- */

/* A scenario: library calls only, writing what they answer to OUT. */
typedef int (*scenario_fn)(FILE *out, struct np_error *err);

struct outcome {
	int rc;
	struct np_error err;
	char *text;
	size_t len;
	int injected;
	bool in_jansson;
	long count;
};

static void run(scenario_fn fn, long fail_at, struct outcome *o)
{
	FILE *out;

	memset(o, 0, sizeof(*o));
	out = open_memstream(&o->text, &o->len);
	if (!out)
		abort();
	hook = (struct hook){ .armed = true, .fail_at = fail_at };
	o->rc = fn(out, &o->err);
	hook.armed = false;
	o->injected = hook.injected;
	o->in_jansson = hook.in_jansson;
	o->count = hook.count;
	fclose(out);
}

/* The same answer: code, output, and the error (none at all on success). */
static bool same(const struct outcome *a, const struct outcome *b)
{
	return a->rc == b->rc && a->len == b->len && memcmp(a->text, b->text, a->len) == 0 &&
	       (a->rc ? strcmp(a->err.message, b->err.message) == 0 : a->err.code == 0);
}

static bool leaked(void)
{
#ifdef HAVE_LSAN
	return __lsan_do_recoverable_leak_check() != 0;
#else
	return false;
#endif
}

struct tally {
	long runs, enomem, same;
	long jansson[3]; /* failed in jansson's parser: NP_ENOMEM, NP_EINPUT, another answer */
	bool bad;
};

/* Run FN failing allocation N, and judge what it did. */
static void judge(const char *name, scenario_fn fn, long n, const struct outcome *ref,
		  struct tally *t)
{
	struct outcome o;

	run(fn, n, &o);
	t->runs++;
	if (!o.injected) {
		CHECK(same(&o, ref), "%s: a run with no failure differs from the first", name);
	} else if (same(&o, ref)) {
		t->same++; /* did without that memory, and said the same */
	} else if (o.in_jansson && (o.rc == 0 || o.err.code == o.rc)) {
		t->jansson[o.rc == NP_ENOMEM ? 0 : o.rc == NP_EINPUT ? 1 : 2]++;
	} else if (o.rc == NP_ENOMEM && o.err.code == NP_ENOMEM && o.err.message[0]) {
		t->enomem++;
	} else if (!t->bad) {
		t->bad = true;
		CHECK(0, "%s: allocation %ld of %ld failed: rc %d (%s), err %d '%s'; "
		      "want NP_ENOMEM or the answer without failure (rc %d)",
		      name, n, ref->count, o.rc, np_strerror(o.rc), o.err.code, o.err.message,
		      ref->rc);
		fprintf(stderr, "its answer:\n%.*s\n", o.len > 3000 ? 3000 : (int)o.len, o.text);
	}
	free(o.text);
}

/*
 * Each scenario's loop runs in a child process, so that a crash is
 * reported with its N and a leak is seen alone: the parent never runs a
 * failing allocation, so a child forked from it starts with no leak.
 * The child hands its counts back through a shared page.
 */
struct shared {
	long n;      /* the allocation being failed */
	int pass, fail;
	bool leaked;
};
static struct shared *sh;

/* A crash in a child: say where (the ASan build says it better). */
static void on_crash(int sig)
{
	void *frames[40];

	backtrace_symbols_fd(frames, backtrace(frames, 40), 2);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Every N from 1 until a run injects no failure. */
static void loop_child(const char *name, scenario_fn fn)
{
	struct outcome ref;
	struct tally t = { 0 };

	run(fn, 0, &ref);
	if (getenv("NP_OOM_ONLY")) { /* debugging one N: show both answers */
		struct outcome o;

		run(fn, strtol(getenv("NP_OOM_ONLY"), NULL, 10), &o);
		printf("== without failure: rc %d %s\n%.*s== failing allocation %s: rc %d %s\n%.*s",
		       ref.rc, ref.err.message, (int)ref.len, ref.text, getenv("NP_OOM_ONLY"),
		       o.rc, o.err.message, (int)o.len, o.text);
		free(o.text);
		free(ref.text);
		return;
	}
	CHECK(ref.rc == 0, "%s: rc %d without failure: %s", name, ref.rc, ref.err.message);
	CHECK(ref.count > 0, "%s: no allocation seen: is the hook linked?", name);
	CHECK(ref.rc != 0 || ref.err.code == 0, "%s: err written on success", name);
	for (sh->n = 1; sh->n <= ref.count + 1; sh->n++)
		judge(name, fn, sh->n, &ref, &t);
	printf("%s: %ld allocations; %ld runs: %ld NP_ENOMEM, %ld same answer%s\n", name,
	       ref.count, t.runs, t.enomem, t.same, t.bad ? ", WRONG ANSWERS" : "");
	if (t.jansson[0] + t.jansson[1] + t.jansson[2])
		printf("%s: failed inside json_loadb: %ld NP_ENOMEM, %ld bad input, "
		       "%ld another answer (jansson's)\n",
		       name, t.jansson[0], t.jansson[1], t.jansson[2]);
	free(ref.text);
}

/* In a child: the answer without failure, then failing allocation N; leaks? */
static bool leaks_at(const char *name, scenario_fn fn, long n)
{
	struct outcome ref;
	struct tally t = { 0 };
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		run(fn, 0, &ref);
		judge(name, fn, n, &ref, &t);
		free(ref.text);
		_exit(leaked() ? 1 : 0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 1;
}

static void loop(const char *name, scenario_fn fn)
{
	pid_t pid;
	int status = 0;

	*sh = (struct shared){ 0 };
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, on_crash);
		signal(SIGABRT, on_crash);
		t_pass = t_fail = 0;
		loop_child(name, fn);
		sh->pass = t_pass;
		sh->fail = t_fail;
		sh->leaked = leaked();
		fflush(NULL);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		CHECK(0, "%s: cannot run the loop in a child", name);
		return;
	}
	t_pass += sh->pass;
	t_fail += sh->fail;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "%s: crashed (status %#x) failing allocation %ld (see the log above)", name, status,
	      sh->n);
	if (!sh->leaked)
		return;
	/* LeakSanitizer found a leak: name the first N that leaks. */
	for (long n = 1; n < sh->n; n++) {
		if (leaks_at(name, fn, n)) {
			CHECK(0, "%s: failing allocation %ld leaks (LeakSanitizer above)", name, n);
			return;
		}
	}
	CHECK(0, "%s: leaks, but no single N does alone", name);
}

/* ---- test data, read before any failure is armed ---- */

struct blob {
	char *buf;
	size_t len;
};

static struct blob load_blob(const char *rel)
{
	struct blob b = { NULL, 0 };
	char path[1200];
	FILE *f, *m;
	int c;

	snprintf(path, sizeof(path), "%s/%s", t_data(""), rel);
	f = fopen(path, "rb");
	CHECK(f != NULL, "cannot read %s", path);
	if (!f)
		return b;
	m = open_memstream(&b.buf, &b.len);
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(m);
	fclose(f);
	return b;
}

static struct blob host_json, host_xl, host_libvirt, req_mixed, req_pinned, req_bad;
static struct blob host_pci, dom_numa, dom_hostdev, dom_dedicated, xl_hvm, xl_pv;
static struct blob host_smt, host_wrap;
static char state_dir[64], state_path[128];

/* ---- scenarios: parsers ---- */

static int topo_and_write(enum np_source_kind kind, const struct blob *b, const char *name,
			  enum np_topo_format f, FILE *out, struct np_error *err)
{
	np_topo *t = NULL;
	int rc = np_topo_parse(kind, b->buf, b->len, name, &t, err);

	if (rc == 0)
		rc = np_topo_write(t, f, out, err);
	np_topo_free(t);
	return rc;
}

static int s_topo_json(FILE *out, struct np_error *err)
{
	return topo_and_write(NP_SOURCE_JSON, &host_json, "full.json", NP_TOPO_JSON, out, err);
}

static int s_topo_xl(FILE *out, struct np_error *err)
{
	return topo_and_write(NP_SOURCE_XL_INFO, &host_xl, "xl.txt", NP_TOPO_TEXT, out, err);
}

static int s_topo_libvirt(FILE *out, struct np_error *err)
{
	return topo_and_write(NP_SOURCE_LIBVIRT_XML, &host_libvirt, "caps.xml", NP_TOPO_SVG, out,
			      err);
}

/* SMT cores settled from siblings, and a text with wrapped CPU lists. */
static int s_topo_text(FILE *out, struct np_error *err)
{
	int rc = topo_and_write(NP_SOURCE_LIBVIRT_XML, &host_smt, "smt.xml", NP_TOPO_TEXT, out, err);

	return rc ? rc : topo_and_write(NP_SOURCE_JSON, &host_wrap, "wrap.json", NP_TOPO_TEXT, out, err);
}

/* What a request holds, in a line a cell, so a request missing data shows. */
static void describe(const np_request *r, FILE *out)
{
	fprintf(out, "vcpus %u memory %llu numa %d cpu %s thread %s emulator %s mem %s\n",
		np_request_vcpus(r), (unsigned long long)np_request_memory_mb(r),
		np_request_has_numa(r), np_cpu_policy_name(np_request_cpu_policy(r)),
		np_thread_policy_name(np_request_thread_policy(r)),
		np_emulator_policy_name(np_request_emulator_policy(r)),
		np_mem_policy_name(np_request_mem_policy(r)));
	for (int i = 0; i < np_request_cell_count(r); i++) {
		const struct np_guest_cell *c = np_request_cell(r, i);

		fprintf(out, "cell %d: %d float %d pinned %llu MiB page %ld node %d:", c->id,
			c->nvcpus, c->npcpus, (unsigned long long)c->memory_mb, c->pagesize,
			np_request_cell_pinned_node(r, i));
		for (int k = 0; k < c->nvcpus; k++)
			fprintf(out, " %d", c->vcpus[k]);
		for (int k = 0; k < c->npcpus; k++)
			fprintf(out, " p%d", c->pcpus[k]);
		fputc('\n', out);
	}
	for (int i = 0; i < np_request_pci_count(r); i++) {
		const struct np_pci_request *p = np_request_pci(r, i);

		fprintf(out, "pci %s %04x:%04x x%d %s %s\n", p->alias, p->vendor, p->product,
			p->count, np_pci_policy_name(p->policy), p->address);
	}
}

static const char *const flavors[][2] = {
	{ "vcpus=8,ram=8192,hw:numa_nodes=2,hw:numa_cpus.0=0-4,^2,6,hw:numa_cpus.1=2,5,7,"
	  "hw:numa_mem.0=2048,hw:numa_mem.1=6144",
	  NULL },
	{ "vcpus=6,ram=6144,hw:cpu_policy=mixed,hw:cpu_dedicated_mask=^0-1,hw:numa_nodes=2,"
	  "hw:cpu_realtime=yes,hw:cpu_realtime_mask=^0-2",
	  "hw_mem_page_size=2048" },
	{ "vcpus=4,ram=4096,hw:cpu_policy=dedicated,hw:cpu_thread_policy=isolate,"
	  "hw:emulator_threads_policy=isolate,pci_passthrough:alias=nic:2,"
	  "numaplace:pci_alias.nic=15b3:1017:preferred,numaplace:mem_policy=interleave",
	  NULL },
	{ "vcpus=3,ram=4096,hw:numa_nodes=2", NULL }, /* refused: 3 vCPUs on 2 cells */
};

/*
 * A request reader's outcome RC (R, or E) into OUT: a refusal (bad input)
 * is an answer too; any other failure ends the scenario with it.
 */
static int put_request(int rc, np_request *r, const struct np_error *e, FILE *out,
		       struct np_error *err)
{
	if (rc == NP_EINPUT)
		fprintf(out, "refused: %s\n", e->message);
	else if (rc)
		*err = *e;
	else
		describe(r, out);
	np_request_free(r);
	return rc == NP_EINPUT ? 0 : rc;
}

static int s_req_flavor(FILE *out, struct np_error *err)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < sizeof(flavors) / sizeof(flavors[0]); i++) {
		struct np_error e = { 0 };
		np_request *r = NULL;

		rc = np_request_from_flavor_text(flavors[i][0], flavors[i][1], &r, &e);
		rc = put_request(rc, r, &e, out, err);
	}
	return rc;
}

static int s_req_json(FILE *out, struct np_error *err)
{
	const struct blob *docs[] = { &req_mixed, &req_pinned, &req_bad };
	int rc = 0;

	for (size_t i = 0; !rc && i < 3; i++) {
		struct np_error e = { 0 };
		np_request *r = NULL;

		rc = np_request_from_json(docs[i]->buf, docs[i]->len, "req.json", &r, &e);
		rc = put_request(rc, r, &e, out, err);
	}
	return rc;
}

static int s_req_xl(FILE *out, struct np_error *err)
{
	static const char vnuma[] =
		"vnuma = [ [ \"pnode=0\", \"size=2048\", \"vcpus=0-3\", \"vdistances=10,20,20\" ],\n"
		"  [ 'pnode=2', 'size=1024', 'vcpus=4,6', 'vdistances=20,10,15' ],\n"
		"  [ \"pnode=2\", \"size=1024\", \"vcpus=5,7\", \"vdistances=20,15,10\" ], ]\n";
	np_request *r = NULL;
	int rc = np_request_from_xl_vnuma(vnuma, 8, 4096, &r, err);

	if (rc == 0)
		describe(r, out);
	np_request_free(r);
	return rc;
}

static const char nova_case[] =
	"{\"host\": {\"cells\": ["
	" {\"id\": 0, \"cpus\": [0, 1, 2, 3], \"memory_mb\": 8192, \"siblings\": [[0, 2], [1, 3]],"
	"  \"socket\": 0, \"mempages\": [{\"size_kb\": 4, \"total\": 2097152, \"used\": 0},"
	"  {\"size_kb\": 2048, \"total\": 64, \"used\": 0}],"
	"  \"pci\": [{\"vendor_id\": \"8086\", \"product_id\": \"154d\", \"count\": 2}]},"
	" {\"id\": 1, \"cpus\": [4, 5, 6, 7], \"memory_mb\": 8192, \"pinned_cpus\": [4],"
	"  \"memory_usage_mb\": 1024, \"socket\": 1}],"
	" \"distances\": [[10, 21], [21, 10]]},"
	"\"cpu_allocation_ratio\": 4.0, \"show_usage\": true,"
	"\"pci_aliases\": [{\"name\": \"nic\", \"vendor_id\": \"8086\", \"product_id\": \"154d\"}],"
	"\"requests\": ["
	" {\"vcpus\": 4, \"memory_mb\": 4096, \"extra_specs\": {\"hw:numa_nodes\": \"2\","
	"  \"hw:cpu_policy\": \"dedicated\"}},"
	" {\"vcpus\": 2, \"memory_mb\": 2048, \"extra_specs\": {\"pci_passthrough:alias\": \"nic:1\"},"
	"  \"image_properties\": {\"hw_mem_page_size\": \"2048\"}},"
	" {\"vcpus\": 3, \"memory_mb\": 2048, \"extra_specs\": {\"hw:numa_nodes\": \"2\"}}]}";

static int s_nova_case(FILE *out, struct np_error *err)
{
	struct np_nova_summary sum = { 0 };
	np_nova_case *c = NULL;
	int rc = np_nova_case_parse(nova_case, sizeof(nova_case) - 1, "case.json", &c, err);

	if (rc == 0)
		rc = np_nova_case_run(c, NULL, true, out, &sum, err);
	if (rc == 0)
		fprintf(out, "fits %d nofit %d invalid %d bad %d\n", sum.fits, sum.nofit, sum.invalid,
			sum.bad_plans);
	np_nova_case_free(c);
	return rc;
}

/* ---- scenarios: the engine, plans, emitters ---- */

/* Place FLAVOR on the host of B with explain; write the plan in every format. */
static int place_flavor(enum np_source_kind kind, const struct blob *b, const char *flavor,
			bool all_formats, FILE *out, struct np_error *err)
{
	static const enum np_plan_format formats[] = { NP_PLAN_TEXT, NP_PLAN_JSON,
						       NP_PLAN_LIBVIRT, NP_PLAN_XL,
						       NP_PLAN_NUMACTL };
	struct np_place_opts opts = { .explain = true };
	np_topo *t = NULL;
	np_host *h = NULL, *copy = NULL;
	np_request *r = NULL;
	np_plan *p = NULL;
	int rc = np_topo_parse(kind, b->buf, b->len, "host", &t, err);

	if (rc == 0)
		rc = np_host_new(t, &h, err);
	if (rc == 0)
		rc = np_host_clone(h, &copy, err);
	if (rc == 0)
		rc = np_request_from_flavor_text(flavor, NULL, &r, err);
	if (rc == 0)
		rc = np_place(copy, r, &opts, &p, err);
	if (rc == 0 && np_plan_fits(p))
		rc = np_plan_validate(copy, r, p, err);
	for (size_t k = 0; rc == 0 && k < (all_formats ? 5 : 1); k++) {
		struct np_error e = { 0 };

		fprintf(out, "== %d\n", (int)formats[k]);
		rc = np_plan_write(p, copy, r, formats[k], true, out, &e);
		if (rc == NP_EINPUT && !np_plan_fits(p)) /* no XML for a guest that does not fit */
			rc = 0;
		else if (rc)
			*err = e;
	}
	np_plan_free(p);
	np_request_free(r);
	np_host_free(copy);
	np_host_free(h);
	np_topo_free(t);
	return rc;
}

static int s_place_explain(FILE *out, struct np_error *err)
{
	return place_flavor(NP_SOURCE_LIBVIRT_XML, &host_libvirt,
			    "vcpus=8,ram=8192,hw:numa_nodes=2,hw:cpu_policy=dedicated", true, out,
			    err);
}

static int s_place_nofit(FILE *out, struct np_error *err)
{
	return place_flavor(NP_SOURCE_LIBVIRT_XML, &host_libvirt,
			    "vcpus=8,ram=8388608,hw:numa_nodes=4", true, out, err);
}

static int s_place_no_numa(FILE *out, struct np_error *err)
{
	return place_flavor(NP_SOURCE_JSON, &host_json, "vcpus=6,ram=20000", true, out, err);
}

static int s_place_pci(FILE *out, struct np_error *err)
{
	return place_flavor(NP_SOURCE_JSON, &host_json,
			    "vcpus=2,ram=2048,hw:numa_nodes=1,hw:mem_page_size=2048,"
			    "pci_passthrough:alias=nic:1,numaplace:pci_alias.nic=15b3:1017:required",
			    true, out, err);
}

/* A plan to JSON, read back, to JSON again. */
static int s_plan_json(FILE *out, struct np_error *err)
{
	struct np_place_opts opts = { .explain = true };
	np_topo *t = NULL;
	np_host *h = NULL;
	np_request *r = NULL;
	np_plan *p = NULL, *back = NULL;
	static char json[1 << 16];
	size_t len = 0;
	FILE *m;
	int rc = np_topo_parse(NP_SOURCE_LIBVIRT_XML, host_libvirt.buf, host_libvirt.len, "h",
			       &t, err);

	if (rc == 0)
		rc = np_host_new(t, &h, err);
	if (rc == 0)
		rc = np_request_from_json(req_mixed.buf, req_mixed.len, "r", &r, err);
	if (rc == 0)
		rc = np_place(h, r, &opts, &p, err);
	/*
	 * The harness's own buffer: fmemopen is not hooked.  (Turning the hook
	 * off around open_memstream here does not work: the compiler, not
	 * knowing open_memstream is the hook, drops the store.)
	 */
	m = fmemopen(json, sizeof(json), "w");
	if (!m)
		abort();
	if (rc == 0)
		rc = np_plan_write(p, h, r, NP_PLAN_JSON, false, m, err);
	len = (size_t)ftell(m);
	fclose(m);
	if (rc == 0)
		rc = np_plan_from_json(t, json, len, "plan.json", &back, err);
	if (rc == 0)
		rc = np_plan_write(back, h, r, NP_PLAN_JSON, false, out, err);
	np_plan_free(back);
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
	return rc;
}

/* ---- scenario: the state ---- */

static int claim_one(np_state *st, const np_host *h, const char *id, const char *flavor,
		     struct np_error *err)
{
	np_request *r = NULL;
	np_plan *p = NULL;
	int rc = np_request_from_flavor_text(flavor, NULL, &r, err);

	if (rc == 0)
		rc = np_place(h, r, NULL, &p, err);
	if (rc == 0)
		rc = np_state_claim(st, id, p, err);
	np_plan_free(p);
	np_request_free(r);
	return rc;
}

static int s_state(FILE *out, struct np_error *err)
{
	np_topo *t = NULL;
	np_host *h = NULL, *fresh = NULL;
	np_state *st = NULL;
	bool found = false;
	int rc;

	unlink(state_path);
	rc = np_topo_parse(NP_SOURCE_LIBVIRT_XML, host_libvirt.buf, host_libvirt.len, "h", &t,
			   err);
	if (rc == 0)
		rc = np_host_new(t, &h, err);
	if (rc == 0)
		rc = np_state_open(state_path, false, &st, err);
	if (rc == 0)
		rc = claim_one(st, h, "vm-1", "vcpus=4,ram=4096,hw:cpu_policy=dedicated", err);
	if (rc == 0)
		rc = claim_one(st, h, "vm-2", "vcpus=8,ram=8192,hw:numa_nodes=2", err);
	if (rc == 0)
		rc = np_state_commit(st, err);
	np_state_close(st);
	st = NULL;
	if (rc == 0) /* reopen: what was committed is read back */
		rc = np_state_open(state_path, false, &st, err);
	if (rc == 0)
		rc = np_state_release(st, "vm-1", &found, err);
	if (rc == 0)
		rc = np_state_commit(st, err);
	if (rc == 0)
		rc = np_host_new(t, &fresh, err);
	if (rc == 0)
		rc = np_state_apply(st, fresh, err);
	if (rc == 0) {
		fprintf(out, "found %d; node 0: %llu MiB used, %d CPUs pinned\n", found,
			(unsigned long long)np_host_node(fresh, 0)->memory_used_mb,
			np_host_node(fresh, 0)->npinned);
		rc = np_state_write_json(st, out, err);
	}
	np_state_close(st);
	np_host_free(fresh);
	np_host_free(h);
	np_topo_free(t);
	return rc;
}

/* ---- scenario: the usage view ---- */

/* Two claims charged onto a host; the usage as text, JSON and SVG; a retried claim's check. */
static int s_usage(FILE *out, struct np_error *err)
{
	static const char *const claimed[] = {
		"vcpus=2,ram=512,hw:cpu_policy=dedicated,hw:mem_page_size=2048",
		"vcpus=2,ram=2048,hw:numa_nodes=1,pci_passthrough:alias=nic:1,"
		"numaplace:pci_alias.nic=15b3:1017:required",
	};
	struct np_usage_claim claims[2] = { { "vm-1", NULL }, { "vm-2", NULL } };
	np_request *r[2] = { NULL, NULL };
	np_topo *t = NULL;
	np_host *h = NULL;
	int rc = np_topo_parse(NP_SOURCE_JSON, host_json.buf, host_json.len, "h", &t, err);

	if (rc == 0)
		rc = np_host_new(t, &h, err);
	for (int i = 0; rc == 0 && i < 2; i++) {
		np_plan *p = NULL;

		rc = np_request_from_flavor_text(claimed[i], NULL, &r[i], err);
		if (rc == 0)
			rc = np_place(h, r[i], NULL, &p, err);
		if (rc == 0)
			rc = np_host_charge(h, p, false, err);
		claims[i].plan = p;
	}
	if (rc == 0)
		rc = np_plan_answers(h, r[0], NULL, claims[0].plan, err);
	if (rc == 0)
		fprintf(out, "vm-1 answers vm-2's request: %d\n",
			np_plan_answers(h, r[1], NULL, claims[0].plan, NULL));
	if (rc == 0)
		rc = np_usage_write(h, claims, 2, "s.state", NP_USAGE_TEXT, out, err);
	if (rc == 0)
		rc = np_usage_write(h, claims, 2, "s.state", NP_USAGE_JSON, out, err);
	if (rc == 0)
		rc = np_host_write_svg(h, "s.state", out, err);
	for (int i = 0; i < 2; i++) {
		np_plan_free((np_plan *)claims[i].plan);
		np_request_free(r[i]);
	}
	np_host_free(h);
	np_topo_free(t);
	return rc;
}

/* ---- scenarios: whole documents ---- */

/* DOC's request (refused: in OUT), placed on the PCI host, merged back into DOC. */
static int doc_place_merge(const struct blob *doc, bool xl, FILE *out, struct np_error *err)
{
	struct np_error e = { 0 };
	np_topo *t = NULL;
	np_host *h = NULL;
	np_request *r = NULL;
	np_plan *p = NULL;
	int rc = np_topo_parse(NP_SOURCE_JSON, host_pci.buf, host_pci.len, "host", &t, err);

	if (rc == 0)
		rc = np_host_new(t, &h, err);
	if (rc == 0)
		rc = xl ? np_request_from_xl_config(doc->buf, doc->len, "doc",
						    NP_PCI_POLICY_PREFERRED, &r, &e)
			: np_request_from_domain_xml(doc->buf, doc->len, "doc",
						     NP_PCI_POLICY_PREFERRED, &r, &e);
	if (rc == NP_EINPUT)
		fprintf(out, "refused: %s\n", e.message);
	else if (rc && !err->code)
		*err = e;
	else if (rc == 0)
		describe(r, out);
	rc = rc == NP_EINPUT ? 0 : rc;
	if (rc == 0 && r)
		rc = np_place(h, r, NULL, &p, err);
	if (rc == 0 && p && np_plan_fits(p))
		rc = xl ? np_plan_merge_xl_config(p, h, r, doc->buf, doc->len, "doc", out, err)
			: np_plan_merge_domain_xml(p, h, r, doc->buf, doc->len, "doc", out, err);
	np_plan_free(p);
	np_request_free(r);
	np_host_free(h);
	np_topo_free(t);
	return rc;
}

static int s_domain_xml(FILE *out, struct np_error *err)
{
	static const char two[] = "<domain><memory>1024</memory><numatune/><numatune/></domain>";
	const struct blob bad = { (char *)two, sizeof(two) - 1 };
	const struct blob *docs[] = { &dom_numa, &dom_hostdev, &dom_dedicated, &bad };
	int rc = 0;

	for (size_t i = 0; !rc && i < sizeof(docs) / sizeof(docs[0]); i++)
		rc = doc_place_merge(docs[i], false, out, err);
	return rc;
}

static int s_xl_config(FILE *out, struct np_error *err)
{
	int rc = doc_place_merge(&xl_hvm, true, out, err);

	return rc ? rc : doc_place_merge(&xl_pv, true, out, err);
}

/* ---- scenario: a synthetic workload (gen.h) ---- */

static int s_gen(FILE *out, struct np_error *err)
{
	struct np_gen_opts o = { .family = "pci", .seed = 3, .guests = 6,
				 .shape = "nodes=2,cpus=4,smt=2,huge2m=10",
				 .churn = NP_GEN_CHURN_ON };

	return np_gen_write(&o, out, err);
}

/* Each answers 0 with all its memory (no fit, refusals: in its output). */
static const struct scenario {
	const char *name;
	scenario_fn fn;
} scenarios[] = {
	{ "topology-json", s_topo_json },     { "topology-xl", s_topo_xl },
	{ "topology-libvirt", s_topo_libvirt }, { "request-flavor", s_req_flavor },
	{ "request-json", s_req_json },       { "request-xl", s_req_xl },
	{ "nova-case", s_nova_case },         { "place-explain", s_place_explain },
	{ "place-no-fit", s_place_nofit },    { "place-no-numa", s_place_no_numa },
	{ "place-pci", s_place_pci },         { "plan-json", s_plan_json },
	{ "state", s_state },                 { "topology-text", s_topo_text },
	{ "gen", s_gen },                     { "usage", s_usage },
	{ "domain-xml", s_domain_xml },       { "xl-config", s_xl_config },
};

/* One case per scenario (a function of its own: T_CASE in a loop clobbers). */
static void scenario_case(const struct scenario *s)
{
	T_CASE(s->name, loop(s->name, s->fn));
}

int main(void)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 99;
	/* Before libxml2 allocates anything: its memory goes through the hook too. */
	xmlMemSetup(free, __wrap_malloc, __wrap_realloc, xml_strdup);
	xmlInitParser();
	json_set_alloc_funcs(__wrap_malloc, free);

	host_json = load_blob("json/full.json");
	host_xl = load_blob("xl/illustrative-16cpu.txt");
	host_libvirt = load_blob("libvirt/host-4cell.xml");
	host_smt = load_blob("libvirt/smt-siblings-odd.xml");
	host_wrap = load_blob("json/interleaved.json");
	req_mixed = load_blob("request/mixed.json");
	req_pinned = load_blob("request/pinned-2cell.json");
	req_bad = load_blob("request/bad-unknown-key.json");
	host_pci = load_blob("json/pci-4node.json");
	dom_numa = load_blob("libvirt/domain-numa.xml");
	dom_hostdev = load_blob("libvirt/domain-hostdev.xml");
	dom_dedicated = load_blob("libvirt/domain-dedicated.xml");
	xl_hvm = load_blob("xl/guest-hvm.cfg");
	xl_pv = load_blob("xl/guest-pv.cfg");
	snprintf(state_dir, sizeof(state_dir), "/tmp/np-oom-XXXXXX");
	if (!mkdtemp(state_dir))
		return 99;
	snprintf(state_path, sizeof(state_path), "%s/state.json", state_dir);

	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		scenario_case(&scenarios[i]);

	unlink(state_path);
	snprintf(state_path, sizeof(state_path), "%s/state.json.lock", state_dir);
	unlink(state_path);
	rmdir(state_dir);
	free(host_json.buf);
	free(host_xl.buf);
	free(host_libvirt.buf);
	free(host_smt.buf);
	free(host_wrap.buf);
	free(req_mixed.buf);
	free(req_pinned.buf);
	free(req_bad.buf);
	free(host_pci.buf);
	free(dom_numa.buf);
	free(dom_hostdev.buf);
	free(dom_dedicated.buf);
	free(xl_hvm.buf);
	free(xl_pv.buf);
	xmlCleanupParser();
	return t_done();
}
