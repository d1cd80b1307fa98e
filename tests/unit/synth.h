/*
 * synth.h - synthetic hosts and guests for the fleet tests and the fleet
 * benchmark: a numaplace.topology/1 document for a host of N nodes (two
 * sockets, SMT pairs, distances 10/16/22, optional 2 MiB pages and PCI
 * NICs), and random Nova flavors of the kinds a cloud serves (floating,
 * pinned, multi-cell, huge pages, SR-IOV), from a seed.
 *
 * Everything is deterministic in its seed, so a failing case can be
 * replayed.  Returned strings are malloc'ed; the caller frees them; a
 * host's document parsed (synth_topo) is the caller's to np_topo_free.
 */
#ifndef NP_TEST_SYNTH_H
#define NP_TEST_SYNTH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/numaplace.h>

struct synth_host {
	int nodes;	  /* NUMA nodes */
	int cores;	  /* cores per node, 2 threads each */
	int mem_mb;	  /* per node */
	int pages_2m;	  /* 2 MiB pages per node (0: no pool) */
	int nics;	  /* 8086:10fb devices on node 0 and on the middle node */
};

/* The topology JSON of S. */
static inline char *synth_topo_json(const struct synth_host *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int n = s->nodes, per = 2 * s->cores, half = n > 1 ? n / 2 : 1;

	if (!m)
		return NULL;
	fprintf(m, "{\"schema\": \"numaplace.topology/1\", \"distances_source\": \"firmware\", \"nodes\": [");
	for (int i = 0; i < n; i++) {
		fprintf(m, "%s{\"id\": %d, \"cpus\": [", i ? "," : "", i);
		for (int c = 0; c < per; c++)
			fprintf(m, "%s%d", c ? "," : "", i * per + c);
		fprintf(m, "], \"memory_mb\": {\"total\": %d}, \"hugepages\": [", s->mem_mb);
		if (s->pages_2m)
			fprintf(m, "{\"size_kb\": 2048, \"total\": %d, \"free\": %d}", s->pages_2m,
				s->pages_2m);
		fprintf(m, "], \"distances\": [");
		for (int j = 0; j < n; j++)
			fprintf(m, "%s%d", j ? "," : "", i == j ? 10 : i / half == j / half ? 16 : 22);
		fprintf(m, "]}");
	}
	fprintf(m, "], \"cpus\": [");
	for (int i = 0; i < n; i++)
		for (int t = 0; t < per; t++) {
			int core = t % s->cores, first = i * per + core;

			/* Threads of one core: first and first + cores (Linux numbering). */
			fprintf(m, "%s{\"id\": %d, \"node\": %d, \"core\": %d, \"socket\": %d, "
				"\"siblings\": [%d, %d], \"online\": true}",
				i || t ? "," : "", i * per + t, i, i * s->cores + core, i / half, first,
				first + s->cores);
		}
	fprintf(m, "], \"devices\": [");
	for (int d = 0; d < s->nics; d++)
		fprintf(m, "%s{\"address\": \"0000:%02x:00.%d\", \"vendor\": \"0x8086\", "
			"\"device\": \"0x10fb\", \"class\": \"0x020000\", \"node\": %d}",
			d ? "," : "", 0x10 + d / 2 % 200, d % 2, d % 2 ? (n > 1 ? n / 2 : 0) : 0);
	fprintf(m, "]}");
	fclose(m);
	return buf;
}

/* The topology of S, parsed as a document named "synth"; NULL (ERR says why) if it fails. */
static inline np_topo *synth_topo(const struct synth_host *s, struct np_error *err)
{
	char *json = synth_topo_json(s);
	np_topo *t = NULL;

	if (!json) {
		err->code = NP_ENOMEM;
		snprintf(err->message, sizeof(err->message), "out of memory");
	}
	else if (np_topo_parse(NP_SOURCE_JSON, json, strlen(json), "synth", &t, err))
		t = NULL;
	free(json);
	return t;
}

/*
 * A new fleet store at URL holding HOSTS hosts of shape S, named h0, h1,
 * ...: 0, or an error code (ERR says why).
 */
static inline int synth_fleet(const char *url, int hosts, const struct synth_host *s,
			      struct np_error *err)
{
	np_topo *t = synth_topo(s, err);
	np_fleet *f = NULL;
	int rc = t ? np_fleet_open(url, NP_FLEET_CREATE, &f, err) : err->code;

	for (int i = 0; !rc && i < hosts; i++) {
		char name[32];

		snprintf(name, sizeof(name), "h%d", i);
		rc = np_fleet_add_host(f, name, t, NULL, NULL, err);
	}
	np_fleet_close(f);
	np_topo_free(t);
	return rc;
}

static inline uint32_t synth_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

/*
 * A random flavor text for `--flavor`: mostly small floating guests,
 * some pinned, some with 2 or 4 NUMA cells, some with 2 MiB pages, a few
 * with isolated threads; sized for hosts of 8 cores x 2 threads and
 * 32-64 GiB per node.  MAX_CELLS caps hw:numa_nodes; PCI adds SR-IOV
 * guests (alias 'nic', 8086:10fb).
 */
static inline char *synth_flavor(uint64_t *seed, int max_cells, int pci)
{
	static const int vcpus[] = { 1, 2, 2, 4, 4, 4, 8, 8, 16 };
	static const int mem_per_vcpu[] = { 1024, 2048, 2048, 4096, 4096, 8192 };
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	uint32_t kind = synth_rand(seed) % 100;
	int v = vcpus[synth_rand(seed) % 9], mem = v * mem_per_vcpu[synth_rand(seed) % 6];
	int cells = 1;

	if (!m)
		return NULL;
	if (kind >= 70 && max_cells >= 2 && v >= 2)
		cells = (kind >= 92 && max_cells >= 4 && v >= 4) ? 4 : 2;
	fprintf(m, "vcpus=%d,ram=%d", v, mem);
	if (cells > 1)
		fprintf(m, ",hw:numa_nodes=%d", cells);
	if (kind % 3 == 0)
		fprintf(m, ",hw:cpu_policy=dedicated");
	else if (kind % 25 == 7)
		fprintf(m, ",hw:cpu_policy=dedicated,hw:cpu_thread_policy=isolate");
	if (kind % 10 == 1)
		fprintf(m, ",hw:mem_page_size=2048");
	if (pci && kind % 20 == 3)
		fprintf(m, ",numaplace:pci_alias.nic=8086:10fb:%s,pci_passthrough:alias=nic:1",
			kind % 40 == 3 ? "required" : "preferred");
	fclose(m);
	return buf;
}

#endif
