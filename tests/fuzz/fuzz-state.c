/*
 * fuzz-state.c - libFuzzer target for the state file reader
 * (lib/state/state.c, numaplace.state/1): each input is written to a file
 * and opened read-only, as `state show` does, then applied to a small host
 * as `claim` and `place --state` do.
 *
 * Beyond the sanitizers it checks what the verbs rely on:
 *   - a refusal gives a known NP_E* code and one non-empty line, and
 *     leaves *out untouched;
 *   - a state that loads passes the ledger's invariant checker, holds only
 *     ids the id rule accepts, shows every id without a control byte, and
 *     writes back as JSON that loads again to the very same bytes;
 *   - applying it to a host either charges it (and the host passes its
 *     checker) or names the first claim that does not fit ("claim 'ID' in
 *     'FILE': ...") and leaves the host exactly as it was.
 *
 * The file lives in $TMPDIR (a tmpfs makes it cheap); its lock file is
 * created there once and reused.
 */
#include "fuzz-common.h"

#include <unistd.h>

#include <numaplace/host.h>
#include <numaplace/state.h>
#include <numaplace/util.h>

#include "state/state-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Two nodes, SMT, huge pages, a device: enough for claims to collide. */
static const char host_json[] =
    "{\"schema\": \"numaplace.topology/1\", \"distances_source\": \"firmware\", \"nodes\": ["
    "{\"id\": 0, \"cpus\": [0, 1, 4, 5], \"memory_mb\": {\"total\": 16384},"
    " \"hugepages\": [{\"size_kb\": 2048, \"total\": 512, \"free\": 500}], \"distances\": [10, "
    "21]},"
    "{\"id\": 1, \"cpus\": [2, 3, 6, 7], \"memory_mb\": {\"total\": 16128}, \"distances\": [21, "
    "10]}],"
    "\"cpus\": [{\"id\": 0, \"node\": 0, \"core\": 0, \"socket\": 0},"
    "{\"id\": 1, \"node\": 0, \"core\": 1, \"socket\": 0},"
    "{\"id\": 2, \"node\": 1, \"core\": 0, \"socket\": 1},"
    "{\"id\": 3, \"node\": 1, \"core\": 1, \"socket\": 1},"
    "{\"id\": 4, \"node\": 0, \"core\": 0, \"socket\": 0},"
    "{\"id\": 5, \"node\": 0, \"core\": 1, \"socket\": 0},"
    "{\"id\": 6, \"node\": 1, \"core\": 0, \"socket\": 1},"
    "{\"id\": 7, \"node\": 1, \"core\": 1, \"socket\": 1}],"
    "\"devices\": [{\"address\": \"0000:81:00.0\", \"vendor\": \"0x15b3\","
    " \"device\": \"0x1017\", \"class\": \"0x020000\", \"node\": 1}]}";

static char path[256];
static np_topo *topo;

static void cleanup(void)
{
	char lock[300];

	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(path);
	unlink(lock);
}

static void setup(void)
{
	const char *dir = getenv("TMPDIR");
	struct np_error err;

	if (path[0])
		return;
	snprintf(path, sizeof(path), "%s/fuzz-state.%d.json", dir && *dir ? dir : "/tmp",
		 (int)getpid());
	atexit(cleanup);
	if (np_topo_parse(NP_SOURCE_JSON, host_json, sizeof(host_json) - 1, "host", &topo, &err))
		fuzz_fail("the fuzz host does not parse: %s", err.message);
}

static void put(const char *name, const void *data, size_t size)
{
	FILE *f = fopen(name, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		fuzz_fail("cannot write %s", name);
}

/* ST's JSON, malloc'ed. */
static char *dump(const np_state *st, size_t *len)
{
	char *doc = NULL;
	struct np_error err;
	FILE *f = open_memstream(&doc, len);

	if (!f || np_state_write_json(st, f, &err) || fclose(f))
		fuzz_fail("writing a loaded state failed");
	return doc;
}

static void check_ids(const np_state *st)
{
	char shown[NP__STATE_ID_SHOWN];

	for (int i = 0; i < np_state_claim_count(st); i++) {
		const char *id = np_state_claim_id(st, i);

		if (np__state_id_problem(id))
			fuzz_fail("loaded an id the rule refuses: %s", np__state_id_problem(id));
		np_text_shown(id, shown, sizeof(shown));
		for (const unsigned char *c = (const unsigned char *)shown; *c; c++)
			if (*c < 0x20 || *c == 0x7f ||
			    (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f))
				fuzz_fail("id shown with a control byte 0x%02x", *c);
	}
}

/* Written back and read again: the same bytes. */
static void check_roundtrip(const np_state *st)
{
	size_t len = 0, len2 = 0;
	char *doc = dump(st, &len), *doc2;
	struct np_error err;
	np_state *back = NULL;

	put(path, doc, len);
	if (np_state_open(path, true, &back, &err))
		fuzz_fail("own output does not load: %s\n%s", err.message, doc);
	doc2 = dump(back, &len2);
	if (len != len2 || memcmp(doc, doc2, len))
		fuzz_fail("state round trip differs:\n%s\n---\n%s", doc, doc2);
	np_state_close(back);
	free(doc);
	free(doc2);
}

/* Charged onto a fresh host: all of it, or a named refusal and the host untouched. */
static void check_apply(np_state *st)
{
	struct np_error err;
	np_host *h = NULL;

	if (np_host_new(topo, &h, &err))
		fuzz_fail("np_host_new: %s", err.message);
	memset(&err, 0, sizeof(err));
	if (np_state_apply(st, h, &err) == 0) {
		if (np_host_check(h, &err))
			fuzz_fail("charged host fails its check: %s", err.message);
	} else {
		if (!fuzz_known_code(err.code) || strncmp(err.message, "claim '", 7) ||
		    strchr(err.message, '\n'))
			fuzz_fail("apply refused without naming a claim: %d '%s'", err.code,
				  err.message);
		for (int i = 0; i < np_topo_node_count(topo); i++) {
			const struct np_host_node *n = np_host_node(h, i);

			if (n->memory_used_mb || n->npinned || n->cpu_usage)
				fuzz_fail("a refused apply left node %d charged", i);
		}
	}
	np_host_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char mark;
	np_state *const sentinel = (np_state *)&mark;
	np_state *st = sentinel;
	struct np_error err;
	int rc;

	setup();
	put(path, data, size);
	memset(&err, 0x5a, sizeof(err));
	rc = np_state_open(path, true, &st, &err);
	if (rc) {
		if (st != sentinel)
			fuzz_fail("np_state_open wrote *out on failure");
		if (rc != err.code || !fuzz_known_code(rc) || !err.message[0] ||
		    !memchr(err.message, '\0', sizeof(err.message)) || strchr(err.message, '\n'))
			fuzz_fail("bad refusal %d '%.*s'", rc, (int)sizeof(err.message),
				  err.message);
		return 0;
	}
	if (np__state_check(st, NULL, &err))
		fuzz_fail("a loaded state fails its checker: %s", err.message);
	check_ids(st);
	check_roundtrip(st);
	check_apply(st);
	np_state_close(st);
	return 0;
}
