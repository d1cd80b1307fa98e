/*
 * fuzz-doc.c - libFuzzer target for a whole guest document, chosen at
 * build time: -DFUZZ_DOC=1 a libvirt domain (np_request_from_domain_xml),
 * -DFUZZ_DOC=2 an xl.cfg file (np_request_from_xl_config).
 *
 * Each input is read for its request; one that makes a request is placed
 * on a fixed 4-node host with PCI devices and merged back into itself.
 * The target aborts (libFuzzer saves the input) when the library breaks
 * its contract: a failure without a known code and one line, output
 * written on failure; a merged document that does not read back into a
 * request of the same size; a second merge with the same plan that
 * changes a byte.
 */
#include <numaplace/numaplace.h>

#include "fuzz-common.h"

#ifndef FUZZ_DOC
#error "build with -DFUZZ_DOC=1 (domain XML) or 2 (xl.cfg)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char HOST[] =
	"{\"schema\": \"numaplace.topology/1\", \"nodes\": ["
	" {\"id\": 0, \"cpus\": [0, 1, 2, 3], \"memory_mb\": {\"total\": 4096},"
	"  \"hugepages\": [{\"size_kb\": 2048, \"total\": 256}], \"distances\": [10, 20]},"
	" {\"id\": 1, \"cpus\": [4, 5, 6, 7], \"memory_mb\": {\"total\": 4096},"
	"  \"hugepages\": [], \"distances\": [20, 10]}],"
	" \"cpus\": [{\"id\": 0, \"node\": 0}, {\"id\": 1, \"node\": 0}, {\"id\": 2, \"node\": 0},"
	"  {\"id\": 3, \"node\": 0}, {\"id\": 4, \"node\": 1}, {\"id\": 5, \"node\": 1},"
	"  {\"id\": 6, \"node\": 1}, {\"id\": 7, \"node\": 1}],"
	" \"devices\": [{\"address\": \"0000:3b:00.0\", \"vendor\": \"0x10de\","
	"  \"device\": \"0x1eb8\", \"class\": \"0x030200\", \"node\": 1}]}";

static np_host *host;

static int read_doc(const char *buf, size_t len, np_request **out, struct np_error *err)
{
	return FUZZ_DOC == 1
		       ? np_request_from_domain_xml(buf, len, "fuzz", NP_PCI_POLICY_PREFERRED, out, err)
		       : np_request_from_xl_config(buf, len, "fuzz", NP_PCI_POLICY_PREFERRED, out, err);
}

/* The merge into a malloc'ed string (*LEN bytes), or NULL (checked: nothing written). */
static char *merge(const np_plan *p, const np_request *r, const char *buf, size_t len,
		   size_t *olen)
{
	struct np_error err = { 0 };
	char *out = NULL;
	FILE *f = open_memstream(&out, olen);
	int rc = FUZZ_DOC == 1 ? np_plan_merge_domain_xml(p, host, r, buf, len, "fuzz", f, &err)
			       : np_plan_merge_xl_config(p, host, r, buf, len, "fuzz", f, &err);

	if (!f || fclose(f))
		fuzz_fail("open_memstream");
	if (rc && (*olen || !fuzz_known_code(rc) || !err.message[0] || strchr(err.message, '\n')))
		fuzz_fail("a refused merge (%d) wrote %zu bytes or said '%s'", rc, *olen, err.message);
	if (rc) {
		free(out);
		return NULL;
	}
	return out;
}

static void round_trip(const char *buf, size_t len, const np_request *r)
{
	struct np_error err = { 0 };
	np_request *back = NULL;
	np_plan *p = NULL;
	size_t n1 = 0, n2 = 0;
	char *once, *twice;

	if (np_place(host, r, NULL, &p, &err) || !np_plan_fits(p)) {
		np_plan_free(p);
		return;
	}
	once = merge(p, r, buf, len, &n1);
	if (once && read_doc(once, n1, &back, &err))
		fuzz_fail("the merged document does not read back: %s", err.message);
	if (back && (np_request_vcpus(back) != np_request_vcpus(r) ||
		     np_request_memory_mb(back) != np_request_memory_mb(r)))
		fuzz_fail("the merged document asks for another size");
	twice = once ? merge(p, r, once, n1, &n2) : NULL;
	if (once && (!twice || n1 != n2 || memcmp(once, twice, n1) != 0))
		fuzz_fail("merging again changed the document");
	free(once);
	free(twice);
	np_request_free(back);
	np_plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static np_topo *topo;
	struct np_error err;
	np_request *r = NULL;
	char *buf;
	int rc;

	if (!host && (np_topo_parse(NP_SOURCE_JSON, HOST, sizeof(HOST) - 1, "host", &topo, &err) ||
		      np_host_new(topo, &host, &err)))
		fuzz_fail("test host: %s", err.message);
	buf = fuzz_strdup(data, size);
	memset(&err, 0, sizeof(err));
	rc = read_doc(buf, size, &r, &err);
	if (rc && (r || !fuzz_known_code(rc) || rc != err.code || !err.message[0] ||
		   strchr(err.message, '\n')))
		fuzz_fail("a refused document (%d) gave a request or the message '%s'", rc,
			  err.message);
	if (!rc)
		round_trip(buf, size, r);
	np_request_free(r);
	free(buf);
	return 0;
}
