/*
 * fuzz-common.h - what the libFuzzer targets share: copying an input into
 * a NUL-terminated buffer, the checks of the np_topo_parse() contract, and
 * the properties every parsed topology must have.
 *
 * A broken property is a bug the fuzzer must report, so it ends in
 * fuzz_fail(): a message on stderr and abort(), which libFuzzer turns into
 * a saved crash-* input.  Everything here is static inline because each
 * target is one translation unit and uses only part of it.
 */
#ifndef NP_FUZZ_COMMON_H
#define NP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/topology.h>

/* Stop the run: libFuzzer saves the input that got here. */
#define fuzz_fail(...)                                    \
	do {                                              \
		fprintf(stderr, "fuzz: " __VA_ARGS__);    \
		fputc('\n', stderr);                      \
		abort();                                  \
	} while (0)

static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);

	if (!buf)
		fuzz_fail("out of memory copying %zu bytes", size);
	if (size)
		memcpy(buf, data, size);
	buf[size] = '\0';
	return buf;
}

static inline bool fuzz_known_code(int code)
{
	return code == NP_ENOMEM || code == NP_EINPUT || code == NP_EIO ||
	       code == NP_EUNSUPPORTED || code == NP_ENOFIT || code == NP_EOS;
}

/*
 * np_topo_parse() with its contract checked: on failure *OUT stays as it
 * was and *ERR holds a known code and one line; on success *ERR is
 * untouched.
 */
static inline int fuzz_parse(enum np_source_kind kind, const char *buf, size_t len,
			     np_topo **out, struct np_error *err)
{
	static char mark;
	np_topo *const sentinel = (np_topo *)&mark;
	np_topo *topo = sentinel;
	int rc;

	memset(err, 0x5a, sizeof(*err));
	rc = np_topo_parse(kind, buf, len, "fuzz", &topo, err);
	if (rc == 0) {
		if (!topo || topo == sentinel)
			fuzz_fail("np_topo_parse returned 0 without a topology");
		if (err->code != 0x5a5a5a5a)
			fuzz_fail("np_topo_parse wrote the np_error on success");
		*out = topo;
		return 0;
	}
	if (topo != sentinel)
		fuzz_fail("np_topo_parse wrote *out on failure (rc %d)", rc);
	if (rc != err->code || !fuzz_known_code(rc))
		fuzz_fail("np_topo_parse returned %d, error code %d", rc, err->code);
	if (!memchr(err->message, '\0', sizeof(err->message)) || !err->message[0] ||
	    strchr(err->message, '\n'))
		fuzz_fail("bad error message for rc %d: '%.*s'", rc,
			  (int)sizeof(err->message), err->message);
	return rc;
}

static inline FILE *fuzz_devnull(void)
{
	static FILE *f;

	if (!f && !(f = fopen("/dev/null", "w")))
		fuzz_fail("cannot open /dev/null");
	return f;
}

/* JSON keeps memory in MiB: compare what survives that rounding. */
static inline void fuzz_same_nodes(const np_topo *a, const np_topo *b)
{
	for (int i = 0; i < np_topo_node_count(a); i++) {
		const struct np_node *x = np_topo_node(a, i), *y = np_topo_node(b, i);

		if (x->os_id != y->os_id || x->mem_total_kb / 1024 != y->mem_total_kb / 1024 ||
		    x->mem_free_kb / 1024 != y->mem_free_kb / 1024 || x->ncpus != y->ncpus ||
		    x->npools != y->npools)
			fuzz_fail("json round trip: node %d differs", x->os_id);
		if (x->ncpus && memcmp(x->cpus, y->cpus, (size_t)x->ncpus * sizeof(int)))
			fuzz_fail("json round trip: cpus of node %d differ", x->os_id);
		for (int p = 0; p < x->npools; p++)
			if (x->pools[p].size_kb != y->pools[p].size_kb ||
			    x->pools[p].total != y->pools[p].total ||
			    x->pools[p].free != y->pools[p].free)
				fuzz_fail("json round trip: node %d pool %d differs",
					  x->os_id, p);
		for (int j = 0; j < np_topo_node_count(a); j++)
			if (np_topo_distance(a, i, j) != np_topo_distance(b, i, j))
				fuzz_fail("json round trip: distance %d,%d differs", i, j);
	}
}

static inline void fuzz_same_cpus(const np_topo *a, const np_topo *b)
{
	for (int i = 0; i < np_topo_cpu_count(a); i++) {
		const struct np_cpu *x = np_topo_cpu(a, i), *y = np_topo_cpu(b, i);

		if (x->os_id != y->os_id || x->node_idx != y->node_idx ||
		    x->core != y->core || x->socket != y->socket || x->online != y->online)
			fuzz_fail("json round trip: cpu %d differs", x->os_id);
	}
	for (int i = 0; i < np_topo_device_count(a); i++) {
		const struct np_device *x = np_topo_device(a, i), *y = np_topo_device(b, i);

		if (strcmp(x->address, y->address) || x->vendor != y->vendor ||
		    x->device != y->device || x->class_code != y->class_code ||
		    x->node_idx != y->node_idx)
			fuzz_fail("json round trip: device %s differs", x->address);
	}
}

/* TOPO as JSON, in a malloc'ed string (*LEN bytes). */
static inline char *fuzz_json(const np_topo *topo, size_t *len)
{
	char *doc = NULL;
	FILE *f = open_memstream(&doc, len);

	if (!f)
		fuzz_fail("open_memstream failed");
	if (np_topo_write(topo, NP_TOPO_JSON, f, NULL))
		fuzz_fail("writing json to memory failed");
	if (fclose(f))
		fuzz_fail("open_memstream failed");
	return doc;
}

/*
 * The JSON written for TOPO must read back as the same topology (up to
 * MiB rounding), and writing that again must give the same bytes.
 */
static inline void fuzz_json_roundtrip(const np_topo *topo)
{
	size_t len = 0, len2 = 0;
	char *doc = fuzz_json(topo, &len), *doc2 = NULL;
	struct np_error err;
	np_topo *back = NULL;

	/* Until lib/emit/topo-json.c writes JSON there is nothing to read. */
	if (len && doc[0] == '{') {
		if (fuzz_parse(NP_SOURCE_JSON, doc, len, &back, &err))
			fuzz_fail("json round trip: own output does not parse: %s\n%s",
				  err.message, doc);
		if (np_topo_node_count(topo) != np_topo_node_count(back) ||
		    np_topo_cpu_count(topo) != np_topo_cpu_count(back) ||
		    np_topo_device_count(topo) != np_topo_device_count(back) ||
		    np_topo_distances_defaulted(topo) != np_topo_distances_defaulted(back))
			fuzz_fail("json round trip: counts differ:\n%s", doc);
		fuzz_same_nodes(topo, back);
		fuzz_same_cpus(topo, back);
		doc2 = fuzz_json(back, &len2);
		if (len != len2 || memcmp(doc, doc2, len))
			fuzz_fail("json round trip: rewritten json differs:\n%s\n---\n%s",
				  doc, doc2);
		np_topo_free(back);
	}
	free(doc2);
	free(doc);
}

/* What must hold for every topology a parser hands out. */
static inline void fuzz_use(const np_topo *topo)
{
	static const enum np_topo_format formats[] = { NP_TOPO_TEXT, NP_TOPO_JSON,
						       NP_TOPO_SVG };
	struct np_error err;

	if (np_topo_check(topo, &err))
		fuzz_fail("parsed topology fails np_topo_check: %s", err.message);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (np_topo_write(topo, formats[i], fuzz_devnull(), &err))
			fuzz_fail("np_topo_write format %d failed: %s", (int)formats[i],
				  err.message);
	fuzz_json_roundtrip(topo);
}

#endif
