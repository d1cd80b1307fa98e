/*
 * test-golden.c - every emitter's output, byte for byte, against the files
 * in tests/data/golden/ (libvirt's habit): the topology as text, JSON and
 * SVG, and for a few requests the plan as text (with and without
 * --explain), JSON, libvirt XML, xl.cfg and a numactl line - on hosts from
 * tests/data (JSON, xl info -n, libvirt capabilities) and from the sysfs
 * fixtures (those cases skip without the shared folder).
 *
 *   NP_TEST_REGENERATE=1 build/tests/unit/test-golden
 *
 * rewrites the files instead of comparing, so a change of output is seen
 * and reviewed as a `git diff tests/data/golden`.  A golden file no case
 * writes any more is reported (and, when regenerating, removed).
 *
 * One folder per host: topology.{txt,json,svg}, and REQUEST.txt per
 * request, whose sections are the plan in each format (a format that
 * refuses the plan, e.g. libvirt XML of a guest that does not fit, shows
 * its error).  Hosts are read under a fixed name, so the files do not
 * depend on where the tree is.  Each plan that fits is also re-checked by
 * np_plan_validate() and read back from its JSON to the same JSON.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <numaplace/numaplace.h>

#include "check.h"

struct ghost {
	const char *name;          /* folder under tests/data/golden */
	enum np_source_kind kind;
	const char *path;          /* under tests/data, or a fixture's name (sysfs) */
};

/* Sources of every kind, sparse node ids, CPU-less nodes, devices, 2 to 8 nodes. */
static const struct ghost hosts[] = {
	{ "json-full", NP_SOURCE_JSON, "json/full.json" },
	{ "json-sparse", NP_SOURCE_JSON, "json/sparse.json" },
	{ "xl-illustrative-16cpu", NP_SOURCE_XL_INFO, "xl/illustrative-16cpu.txt" },
	{ "libvirt-host-4cell", NP_SOURCE_LIBVIRT_XML, "libvirt/host-4cell.xml" },
	/* SMT threads from siblings where core_id says none */
	{ "libvirt-smt-cascadelake", NP_SOURCE_LIBVIRT_XML, "libvirt/smt-siblings-cascadelake.xml" },
	/* long CPU lists that wrap, distances assumed and why */
	{ "json-interleaved", NP_SOURCE_JSON, "json/interleaved.json" },
	{ "sysfs-64amd64-4s2n4ca2co", NP_SOURCE_SYSFS, "64amd64-4s2n4ca2co" },
	{ "sysfs-48amd64-4pa2n6c-sparse", NP_SOURCE_SYSFS, "48amd64-4pa2n6c-sparse" },
	/* one node left online: the kernel's distance row, CPUs in no node */
	{ "sysfs-offline-cpu0-node0", NP_SOURCE_SYSFS, "offline-cpu0-node0" },
};

struct greq {
	const char *name;
	const char *flavor;        /* flavor text, or */
	const char *json;          /* a request file under tests/data, or */
	const char *xl;            /* xl vnuma= text, with vcpus and memory */
	unsigned vcpus;
	uint64_t memory_mb;
};

static const struct greq requests[] = {
	{ "nova-2cells", "vcpus=8,ram=8192,hw:numa_nodes=2", NULL, NULL, 0, 0 },
	{ "nova-dedicated-isolate",
	  "vcpus=4,ram=4096,hw:cpu_policy=dedicated,hw:cpu_thread_policy=isolate,"
	  "hw:emulator_threads_policy=isolate",
	  NULL, NULL, 0, 0 },
	{ "nova-no-numa", "vcpus=2,ram=2048", NULL, NULL, 0, 0 },
	/* Wider than any one node of most hosts here: floats over several. */
	{ "nova-no-numa-wide", "vcpus=10,ram=20000", NULL, NULL, 0, 0 },
	{ "nova-pci",
	  "vcpus=2,ram=2048,hw:numa_nodes=1,pci_passthrough:alias=nic:1,"
	  "numaplace:pci_alias.nic=15b3:1017:required",
	  NULL, NULL, 0, 0 },
	{ "nova-no-fit", "vcpus=8,ram=4194304,hw:numa_nodes=2", NULL, NULL, 0, 0 },
	{ "json-mixed", NULL, "request/mixed.json", NULL, 0, 0 },
	{ "xl-vnuma-2node",
	  NULL, NULL,
	  "vnuma = [ [ \"pnode=0\", \"size=1024\", \"vcpus=0-1\", \"vdistances=10,20\" ],"
	  " [ \"pnode=1\", \"size=1024\", \"vcpus=2-3\", \"vdistances=20,10\" ] ]",
	  4, 2048 },
};

static const struct {
	const char *title;
	enum np_plan_format format;
	unsigned flags; /* np_plan_write()'s */
} formats[] = {
	{ "text", NP_PLAN_TEXT, 0 },
	{ "text --explain --verbose", NP_PLAN_TEXT, NP_PLAN_EXPLAIN | NP_PLAN_VERBOSE },
	{ "json", NP_PLAN_JSON, 0 },
	{ "libvirt", NP_PLAN_LIBVIRT, 0 },
	{ "xl", NP_PLAN_XL, 0 },
	{ "numactl", NP_PLAN_NUMACTL, 0 },
};

static bool regenerate;
static int regenerated, compared;

/* ---- files ---- */

/* The whole of PATH, or NULL when it cannot be read (caller frees). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &cap);
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(m);
	fclose(f);
	*len = cap;
	return buf;
}

/* Line number and text of the first line where A and B differ. */
static void first_difference(const char *a, const char *b, int *line, char *la, char *lb,
			     size_t size)
{
	const char *sa = a, *sb = b;

	*line = 1;
	while (*a && *a == *b) {
		if (*a == '\n') {
			++*line;
			sa = a + 1;
			sb = b + 1;
		}
		a++;
		b++;
	}
	snprintf(la, size, "%.*s", (int)strcspn(sa, "\n"), sa);
	snprintf(lb, size, "%.*s", (int)strcspn(sb, "\n"), sb);
}

/* Compare TEXT with golden file DIR/FILE, or write it when regenerating. */
static void golden(const char *dir, const char *file, const char *text)
{
	char path[1400], folder[1400], want[160], got[160];
	size_t len = 0;
	char *old;
	int line;

	snprintf(path, sizeof(path), "%s/%s/%s", t_data("golden"), dir, file);
	old = slurp(path, &len);
	if (regenerate) {
		FILE *f;

		if (old && strlen(old) == len && strcmp(old, text) == 0) {
			free(old);
			return;
		}
		snprintf(folder, sizeof(folder), "%s/%s", t_data("golden"), dir);
		mkdir(t_data("golden"), 0755);
		mkdir(folder, 0755);
		f = fopen(path, "w");
		CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
		printf("regenerated %s/%s\n", dir, file);
		regenerated++;
		free(old);
		return;
	}
	compared++;
	if (!old) {
		CHECK(0, "%s/%s: no golden file (NP_TEST_REGENERATE=1 writes it)", dir, file);
		return;
	}
	if (strlen(old) != len || strcmp(old, text) != 0) {
		first_difference(old, text, &line, want, got, sizeof(want));
		CHECK(0, "%s/%s differs at line %d:\n  golden: %s\n  now:    %s\n"
		      "(NP_TEST_REGENERATE=1 rewrites it; review with git diff)",
		      dir, file, line, want, got);
	} else {
		CHECK(1, "same");
	}
	free(old);
}

/* Files of golden folder DIR that no case wrote: reported, removed when regenerating. */
static void stale_files(const char *dir, const char *const *written, int n)
{
	char path[1400];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/%s", t_data("golden"), dir);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		bool known = e->d_name[0] == '.';

		for (int i = 0; !known && i < n; i++)
			known = strcmp(written[i], e->d_name) == 0;
		if (known)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", t_data("golden"), dir, e->d_name);
		if (regenerate && remove(path) == 0)
			printf("removed %s/%s\n", dir, e->d_name);
		else
			CHECK(0, "%s/%s: no case writes this golden file any more", dir, e->d_name);
	}
	if (d)
		closedir(d);
}

/* ---- the host ---- */

/* A host read under a fixed name (its file's name, or the fixture's). */
static np_topo *load(const struct ghost *g)
{
	struct np_error err = { 0 };
	np_topo *t = NULL;
	char path[1200], cwd[1024];
	size_t len = 0;
	char *buf;

	if (g->kind == NP_SOURCE_SYSFS) {
		const char *root = t_fixture(g->path);
		const char *base = strrchr(root, '/');

		snprintf(path, sizeof(path), "%.*s", (int)(base - root), root);
		if (!getcwd(cwd, sizeof(cwd)) || chdir(path) != 0) {
			CHECK(0, "%s: cannot enter %s", g->name, path);
			return NULL;
		}
		CHECK(np_topo_load(g->kind, base + 1, &t, &err) == 0, "%s: %s", g->name,
		      err.message);
		CHECK(chdir(cwd) == 0, "cannot go back to %s", cwd);
		return t;
	}
	snprintf(path, sizeof(path), "%s/%s", t_data(""), g->path);
	buf = slurp(path, &len);
	CHECK(buf != NULL, "cannot read %s", path);
	if (buf)
		CHECK(np_topo_parse(g->kind, buf, len, strrchr(g->path, '/') + 1, &t, &err) == 0,
		      "%s: %s", g->name, err.message);
	free(buf);
	return t;
}

/* ---- the request ---- */

static int make_request(const struct greq *r, np_request **req, struct np_error *err)
{
	char path[1200];
	size_t len = 0;
	char *buf;
	int rc;

	if (r->flavor)
		return np_request_from_flavor_text(r->flavor, NULL, req, err);
	if (r->xl)
		return np_request_from_xl_vnuma(r->xl, r->vcpus, r->memory_mb, req, err);
	snprintf(path, sizeof(path), "%s/%s", t_data(""), r->json);
	buf = slurp(path, &len);
	if (!buf) {
		snprintf(err->message, sizeof(err->message), "cannot read %.400s", path);
		return NP_EIO;
	}
	rc = np_request_from_json(buf, len, strrchr(r->json, '/') + 1, req, err);
	free(buf);
	return rc;
}

/* The plan of REQ on HOST in FORMAT, or its error, appended to OUT. */
static void put_format(FILE *out, const np_plan *p, const np_host *h, const np_request *req,
		       int k)
{
	struct np_error err = { 0 };

	fprintf(out, "== %s\n", formats[k].title);
	if (np_plan_write(p, h, req, formats[k].format, formats[k].flags, out, &err))
		fprintf(out, "error: %s: %s\n", np_strerror(err.code), err.message);
}

/* A plan that fits is valid, and its JSON reads back to the same JSON. */
static void recheck(const np_plan *p, const np_host *h, const np_request *req, const char *what)
{
	struct np_error err = { 0 };
	char *one = NULL, *two = NULL;
	size_t n1 = 0, n2 = 0;
	np_plan *back = NULL;
	FILE *m;

	if (!np_plan_fits(p))
		return;
	CHECK(np_plan_validate(h, req, p, &err) == 0, "%s: invalid plan: %s", what, err.message);
	m = open_memstream(&one, &n1);
	np_plan_write(p, h, req, NP_PLAN_JSON, false, m, &err);
	fclose(m);
	CHECK(np_plan_from_json(np_host_topo(h), one, n1, what, &back, &err) == 0,
	      "%s: plan JSON does not read back: %s", what, err.message);
	if (back) {
		m = open_memstream(&two, &n2);
		np_plan_write(back, h, req, NP_PLAN_JSON, false, m, &err);
		fclose(m);
		CHECK(n1 == n2 && memcmp(one, two, n1) == 0, "%s: plan JSON round trip", what);
	}
	np_plan_free(back);
	free(one);
	free(two);
}

/* Every format of request R on host H, as one golden text. */
static char *place_all(const np_host *h, const struct greq *r, const char *hostname)
{
	struct np_error err = { 0 };
	np_request *req = NULL;
	np_plan *plain = NULL, *why = NULL;
	struct np_place_opts opts = { 0 };
	char *text = NULL, what[160];
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int rc;

	snprintf(what, sizeof(what), "%s/%s", hostname, r->name);
	rc = make_request(r, &req, &err);
	CHECK(rc == 0, "%s: request: %s", what, err.message);
	if (rc == 0) {
		rc = np_place(h, req, &opts, &plain, &err);
		opts.explain = true;
		if (rc == 0)
			rc = np_place(h, req, &opts, &why, &err);
	}
	if (rc) {
		fprintf(out, "error: %s: %s\n", np_strerror(err.code), err.message);
	} else {
		recheck(plain, h, req, what);
		for (int k = 0; k < (int)(sizeof(formats) / sizeof(formats[0])); k++)
			put_format(out, formats[k].flags & NP_PLAN_EXPLAIN ? why : plain, h, req, k);
	}
	fclose(out);
	np_plan_free(plain);
	np_plan_free(why);
	np_request_free(req);
	return text;
}

static char *topo_text(const np_topo *t, enum np_topo_format f)
{
	struct np_error err = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	CHECK(np_topo_write(t, f, out, &err) == 0, "topology: %s", err.message);
	fclose(out);
	return text;
}

static void golden_host(const struct ghost *g)
{
	static const char *const topo_files[] = { "topology.txt", "topology.json",
						  "topology.svg" };
	static const enum np_topo_format topo_formats[] = { NP_TOPO_TEXT, NP_TOPO_JSON,
							    NP_TOPO_SVG };
	const char *written[3 + sizeof(requests) / sizeof(requests[0])];
	char names[sizeof(requests) / sizeof(requests[0])][64];
	struct np_error err = { 0 };
	np_topo *t = load(g);
	np_host *h = NULL;
	int n = 0;

	if (!t)
		return;
	for (int k = 0; k < 3; k++) {
		char *text = topo_text(t, topo_formats[k]);

		golden(g->name, topo_files[k], text ? text : "");
		written[n++] = topo_files[k];
		free(text);
	}
	CHECK(np_host_new(t, &h, &err) == 0, "%s: host: %s", g->name, err.message);
	for (size_t i = 0; h && i < sizeof(requests) / sizeof(requests[0]); i++) {
		char *text = place_all(h, &requests[i], g->name);

		snprintf(names[i], sizeof(names[i]), "%s.txt", requests[i].name);
		golden(g->name, names[i], text ? text : "");
		written[n++] = names[i];
		free(text);
	}
	stale_files(g->name, written, n);
	np_host_free(h);
	np_topo_free(t);
}

/* One case per host (a function of its own: T_CASE in a loop clobbers). */
static void host_case(const struct ghost *g)
{
	T_CASE(g->name, golden_host(g));
}

/* Folders of tests/data/golden that name no host any more. */
static void stale_hosts(void)
{
	const char *names[sizeof(hosts) / sizeof(hosts[0])];

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		names[i] = hosts[i].name;
	stale_files("", names, (int)(sizeof(hosts) / sizeof(hosts[0])));
}

int main(void)
{
	const char *r = getenv("NP_TEST_REGENERATE");

	regenerate = r && *r && strcmp(r, "0") != 0;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		host_case(&hosts[i]);
	T_CASE("stale-hosts", stale_hosts());
	if (regenerate)
		printf("%d golden files rewritten: review them with git diff tests/data/golden\n",
		       regenerated);
	else
		printf("%d golden files compared\n", compared);
	t_cleanup();
	return t_done();
}
