/*
 * topo-group.c - the CPU grouping key the topology writers (text, JSON,
 * SVG) share, so that all three list a socket's CPUs together, then each
 * node's, then SMT siblings side by side.
 */
#include "emit/emit-int.h"

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
