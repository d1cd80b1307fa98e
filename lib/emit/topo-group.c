/*
 * topo-group.c - what the topology and usage writers share: the CPU
 * grouping key, so that text, JSON and SVG all list a socket's CPUs
 * together, then each node's, then SMT siblings side by side; and memory
 * and page sizes written for people.
 */
#include <inttypes.h>
#include <stdio.h>

#include "emit/emit-int.h"

void np__fmt_mem(uint64_t kb, char *buf, size_t size)
{
	if (kb >= 1024 * 1024)
		snprintf(buf, size, "%.1f GiB", (double)kb / (1024.0 * 1024.0));
	else if (kb >= 1024)
		snprintf(buf, size, "%" PRIu64 " MiB", kb / 1024);
	else
		snprintf(buf, size, "%" PRIu64 " KiB", kb);
}

void np__fmt_pagesize(uint64_t kb, char *buf, size_t size)
{
	if (kb % (1024 * 1024) == 0)
		snprintf(buf, size, "%" PRIu64 "G", kb / (1024 * 1024));
	else if (kb % 1024 == 0)
		snprintf(buf, size, "%" PRIu64 "M", kb / 1024);
	else
		snprintf(buf, size, "%" PRIu64 "K", kb);
}

int np__cmp_cpu_key(const void *a, const void *b)
{
	const struct np__cpu_key *x = a, *y = b;

	if (x->socket != y->socket)
		return (x->socket > y->socket) - (x->socket < y->socket);
	if (x->node != y->node)
		return (x->node > y->node) - (x->node < y->node);
	if (x->core != y->core)
		return (x->core > y->core) - (x->core < y->core);
	return (x->os > y->os) - (x->os < y->os);
}
