/*
 * fuzz-topo.c - libFuzzer target for one text topology source, chosen at
 * build time with -DFUZZ_KIND=NP_SOURCE_JSON (or _XL_INFO, _LIBVIRT_XML,
 * _HWLOC_XML, _AUTO); tests/fuzz/meson.build builds one binary per kind.
 *
 * Each input goes through the public entry point np_topo_parse().  Besides
 * the sanitizers, the target aborts (so libFuzzer reports the input) when
 * the library breaks its own contract:
 *   - a failure must leave *out untouched and give an NP_E* code with one
 *     non-empty line of message; a success must leave the np_error alone;
 *   - a parsed topology must pass np_topo_check();
 *   - every writer (text, JSON, SVG) must succeed on it;
 *   - the JSON it writes must parse back to the same topology (up to
 *     MiB rounding of memory), and writing that again must give the
 *     same bytes (checked once the JSON writer emits JSON).
 *
 * libFuzzer's data is not NUL-terminated and np_topo_parse() copies
 * nothing, so each input is copied into a NUL-terminated buffer first.
 */
#include "fuzz-common.h"

#ifndef FUZZ_KIND
#error "build with -DFUZZ_KIND=NP_SOURCE_..."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_strdup(data, size);
	struct np_error err;
	np_topo *topo = NULL;

	if (fuzz_parse(FUZZ_KIND, buf, size, &topo, &err) == 0) {
		fuzz_use(topo);
		np_topo_free(topo);
	}
	free(buf);
	return 0;
}
