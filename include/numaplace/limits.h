/*
 * limits.h - the sizes numaplace accepts, in one place, so that the
 * library, the tool and the service refuse the same inputs with the same
 * numbers.  Each is an upper bound, inclusive; anything larger is bad
 * input (NP_EINPUT, exit 2), never an overflow.
 */
#ifndef NUMAPLACE_LIMITS_H
#define NUMAPLACE_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* vCPUs of one guest (Nova has no limit; hypervisors do, well below). */
#define NP_VCPUS_MAX 65536

/*
 * MiB of memory of one guest or guest cell (2^40 MiB, an exbibyte): KiB
 * and page arithmetic on such amounts cannot wrap a uint64_t.
 */
#define NP_MEMORY_MB_MAX (UINT64_C(1) << 40)
/* The same, as the readers' messages say it. */
#define NP_MEMORY_MB_MAX_TEXT "2^40"

/* Kernel ids of nodes, CPUs, cores and sockets in any input (2^22). */
#define NP_ID_MAX 4194304

/* NUMA nodes of one host. */
#define NP_NODES_MAX 4096

/* PCI devices of one kind one guest may ask for. */
#define NP_PCI_COUNT_MAX 4096

/* Cells of other guests one placement may move to make room (place.h). */
#define NP_MOVES_MAX 16

/* Bytes of a claim id (state.h). */
#define NP_CLAIM_ID_MAX 255

/* Hosts one np_fleet_fit() (POST /v1/fit) may name. */
#define NP_FLEET_FIT_MAX 100000

/*
 * Copies of a guest np_fleet_fit_pending() charges to one host before its
 * answer (the instances of one request already chosen for it).
 */
#define NP_FLEET_FIT_PENDING_MAX 1024

/*
 * Bytes of one input file of any kind (topologies, requests, plans, cases,
 * experiments, states, /proc texts): far above any real one, low enough
 * that a wrong file cannot eat the machine's memory (256 MiB).
 */
#define NP_FILE_MAX ((size_t)256 << 20)

#endif
