/*
 * builtin.c - the built-in experiments, written in the experiment format
 * itself (numaplace.experiment/1) and read by the same parser, so each is
 * also an example to copy: `numaplace simulate --show lpc2012 > my.json`.
 *
 *  lpc2012, lpc2012-sysbench  Dario Faggioli's LPC 2012 testbed (research/
 *      xen.md 4.1): 16 pCPUs (2 sockets x 4 cores x 2 threads, Xeon E5620),
 *      2 nodes, 12 GiB; 2..10 guests of 2 vCPUs and 960 MiB; all-cpus,
 *      auto-pinning, auto-affinity; 3 repetitions; with the published
 *      pinned-over-all gains of Xen commit ebce2d836c to compare with.
 *  stuck-vcpus  the XAPI notes' case (seeds/): A soft-affine to node 0,
 *      B and C to node 1, 28 vCPUs each, 2 x 28 pCPUs; pause A at 10 s;
 *      at 20 s unpause A and pause B; measured from 20 s.
 *  bursty  three busy guests homed on node 0 and three bursty ones on
 *      node 1: static placement overloads node 0; numaplace's balancer
 *      may move a guest and its memory.
 *  make-room  a guest that fits only after another guest's cell moves
 *      (np_place_with_moves()): refused, or admitted once the move's
 *      memory migration is done (at the model's rate, or at 200 MB/s as
 *      `apply --rate 200` limits it), its cost charged meanwhile.
 */
#include <string.h>

#include "sim/sim-int.h"

struct builtin {
	const char *name;
	const char *summary;
	const char *json;
};

#define LPC_HOST                                                                          \
	"  \"host\": {\"nodes\": 2, \"cores_per_node\": 4, \"threads_per_core\": 2,\n"     \
	"           \"memory_mb_per_node\": 6144, \"distance\": 20},\n"                     \
	"  \"duration_s\": 60,\n"                                                           \
	"  \"repetitions\": 3,\n"                                                           \
	"  \"seed\": 2012,\n"                                                               \
	"  \"guest_counts\": [2, 4, 6, 8, 10],\n"                                           \
	"  \"configs\": [\n"                                                                \
	"    {\"name\": \"all-cpus\", \"placement\": \"all-cpus\"},\n"                      \
	"    {\"name\": \"auto-pinning\", \"placement\": \"auto-pinning\"},\n"              \
	"    {\"name\": \"auto-affinity\", \"placement\": \"auto-affinity\"}\n"             \
	"  ],\n"                                                                            \
	"  \"baseline\": \"all-cpus\",\n"

static const char lpc2012[] =
	"{\n"
	"  \"schema\": \"numaplace.experiment/1\",\n"
	"  \"name\": \"lpc2012\",\n"
	"  \"summary\": \"LPC 2012 testbed: 2-10 guests of 2 vCPUs, 960 MiB, SPECjbb-like; "
	"all-cpus vs auto-pinning vs auto-affinity\",\n"
	LPC_HOST
	"  \"guests\": [{\"name\": \"vm\", \"vcpus\": 2, \"memory_mb\": 960, "
	"\"workload\": \"specjbb\"}],\n"
	"  \"reference\": {\n"
	"    \"note\": \"Xen commit ebce2d836c (2012-12-18), same testbed: SPECjbb2005, "
	"pinned over all-cpus, without the tickling patch\",\n"
	"    \"gains\": [\n"
	"      {\"guests\": 2, \"config\": \"auto-pinning\", \"gain\": 0.149},\n"
	"      {\"guests\": 6, \"config\": \"auto-pinning\", \"gain\": 0.146},\n"
	"      {\"guests\": 10, \"config\": \"auto-pinning\", \"gain\": 0.150}\n"
	"    ]\n"
	"  }\n"
	"}\n";

static const char lpc2012_sysbench[] =
	"{\n"
	"  \"schema\": \"numaplace.experiment/1\",\n"
	"  \"name\": \"lpc2012-sysbench\",\n"
	"  \"summary\": \"LPC 2012 testbed: 2-10 guests of 2 vCPUs, 960 MiB, sysbench-memory-like; "
	"all-cpus vs auto-pinning vs auto-affinity\",\n"
	LPC_HOST
	"  \"guests\": [{\"name\": \"vm\", \"vcpus\": 2, \"memory_mb\": 960, "
	"\"workload\": \"sysbench-memory\"}],\n"
	"  \"reference\": {\n"
	"    \"note\": \"Xen commit ebce2d836c (2012-12-18), same testbed: sysbench memory, "
	"pinned over all-cpus, without the tickling patch\",\n"
	"    \"gains\": [\n"
	"      {\"guests\": 2, \"config\": \"auto-pinning\", \"gain\": 0.135},\n"
	"      {\"guests\": 6, \"config\": \"auto-pinning\", \"gain\": 0.104},\n"
	"      {\"guests\": 10, \"config\": \"auto-pinning\", \"gain\": 0.066}\n"
	"    ]\n"
	"  }\n"
	"}\n";

static const char stuck_vcpus[] =
	"{\n"
	"  \"schema\": \"numaplace.experiment/1\",\n"
	"  \"name\": \"stuck-vcpus\",\n"
	"  \"summary\": \"XAPI notes: A soft on node 0, B and C on node 1, 28 vCPUs each, "
	"2 x 28 pCPUs; pause A; unpause A, pause B\",\n"
	"  \"host\": {\"nodes\": 2, \"cores_per_node\": 14, \"threads_per_core\": 2,\n"
	"           \"memory_mb_per_node\": 262144, \"distance\": 21},\n"
	"  \"duration_s\": 60,\n"
	"  \"measure_from_s\": 20,\n"
	"  \"repetitions\": 3,\n"
	"  \"seed\": 2019,\n"
	"  \"workloads\": {\"busy\": {\"base\": \"cpu-bound\", \"memory_intensity\": 0.25,\n"
	"                           \"bandwidth_mb_s\": 800}},\n"
	"  \"guests\": [\n"
	"    {\"name\": \"A\", \"vcpus\": 28, \"memory_mb\": 32768, \"workload\": \"busy\",\n"
	"     \"home\": [0], \"affinity\": \"soft\"},\n"
	"    {\"name\": \"B\", \"vcpus\": 28, \"memory_mb\": 32768, \"workload\": \"busy\",\n"
	"     \"home\": [1], \"affinity\": \"soft\"},\n"
	"    {\"name\": \"C\", \"vcpus\": 28, \"memory_mb\": 32768, \"workload\": \"busy\",\n"
	"     \"home\": [1], \"affinity\": \"soft\"}\n"
	"  ],\n"
	"  \"events\": [\n"
	"    {\"at_s\": 10, \"action\": \"pause\", \"guest\": \"A\"},\n"
	"    {\"at_s\": 20, \"action\": \"unpause\", \"guest\": \"A\"},\n"
	"    {\"at_s\": 20, \"action\": \"pause\", \"guest\": \"B\"}\n"
	"  ],\n"
	"  \"configs\": [\n"
	"    {\"name\": \"credit1\", \"scheduler\": \"credit1\"},\n"
	"    {\"name\": \"credit2\", \"scheduler\": \"credit2\"},\n"
	"    {\"name\": \"numaplace\", \"scheduler\": \"numaplace\"}\n"
	"  ],\n"
	"  \"baseline\": \"credit1\"\n"
	"}\n";

static const char bursty[] =
	"{\n"
	"  \"schema\": \"numaplace.experiment/1\",\n"
	"  \"name\": \"bursty\",\n"
	"  \"summary\": \"busy guests homed on node 0, bursty ones on node 1: static placement "
	"overloads node 0; dynamic rebalancing moves a guest and its memory\",\n"
	"  \"host\": {\"nodes\": 2, \"cores_per_node\": 8, \"threads_per_core\": 1,\n"
	"           \"memory_mb_per_node\": 32768, \"distance\": 21},\n"
	"  \"duration_s\": 120,\n"
	"  \"repetitions\": 3,\n"
	"  \"seed\": 7,\n"
	"  \"guests\": [\n"
	"    {\"name\": \"busy\", \"count\": 3, \"vcpus\": 4, \"memory_mb\": 4096,\n"
	"     \"workload\": \"specjbb\", \"home\": [0], \"affinity\": \"soft\"},\n"
	"    {\"name\": \"bursty\", \"count\": 3, \"vcpus\": 4, \"memory_mb\": 4096,\n"
	"     \"workload\": \"bursty\", \"home\": [1], \"affinity\": \"soft\"}\n"
	"  ],\n"
	"  \"configs\": [\n"
	"    {\"name\": \"all-cpus\", \"placement\": \"all-cpus\"},\n"
	"    {\"name\": \"static-pinned\", \"affinity\": \"hard\"},\n"
	"    {\"name\": \"static-soft\"},\n"
	"    {\"name\": \"credit2-soft\", \"scheduler\": \"credit2\"},\n"
	"    {\"name\": \"numaplace\", \"scheduler\": \"numaplace\"}\n"
	"  ],\n"
	"  \"baseline\": \"static-soft\"\n"
	"}\n";

/*
 * make-room: node 0 holds A (8 GiB) and B (4 GiB) and E (2 GiB) fits
 * there too; node 1 holds C (8 GiB) and E.  D (4 vCPUs, 8 GiB on one node)
 * fits nowhere.  `numaplace place --allow-moves 1` on this host moves E's
 * 2 GiB from node 1 to node 0 and puts D on node 1 (tests/cli/moves.sh
 * checks it says so); here the move happens at 10 s and D comes once it
 * is done, against refusing D.
 */
static const char make_room[] =
	"{\n"
	"  \"schema\": \"numaplace.experiment/1\",\n"
	"  \"name\": \"make-room\",\n"
	"  \"summary\": \"a guest that fits only after another guest's 2 GiB move: refused, "
	"or admitted once the move is done\",\n"
	"  \"host\": {\"nodes\": 2, \"cores_per_node\": 8, \"threads_per_core\": 1,\n"
	"           \"memory_mb_per_node\": 16384, \"distance\": 21},\n"
	"  \"duration_s\": 60,\n"
	"  \"repetitions\": 3,\n"
	"  \"seed\": 11,\n"
	"  \"guests\": [\n"
	"    {\"name\": \"A\", \"vcpus\": 4, \"memory_mb\": 8192, \"workload\": \"specjbb\",\n"
	"     \"home\": [0], \"affinity\": \"hard\", \"memory\": \"strict\"},\n"
	"    {\"name\": \"B\", \"vcpus\": 2, \"memory_mb\": 4096, \"workload\": \"specjbb\",\n"
	"     \"home\": [0], \"affinity\": \"hard\", \"memory\": \"strict\"},\n"
	"    {\"name\": \"C\", \"vcpus\": 4, \"memory_mb\": 8192, \"workload\": \"specjbb\",\n"
	"     \"home\": [1], \"affinity\": \"hard\", \"memory\": \"strict\"},\n"
	"    {\"name\": \"E\", \"vcpus\": 2, \"memory_mb\": 2048, \"workload\": \"specjbb\",\n"
	"     \"home\": [1], \"affinity\": \"hard\", \"memory\": \"strict\"},\n"
	"    {\"name\": \"D\", \"vcpus\": 4, \"memory_mb\": 8192, \"workload\": \"specjbb\",\n"
	"     \"home\": [1], \"affinity\": \"hard\", \"memory\": \"strict\"}\n"
	"  ],\n"
	"  \"events\": [\n"
	"    {\"at_s\": 10, \"action\": \"move\", \"guest\": \"E\", \"from\": 1, \"to\": 0},\n"
	"    {\"at_s\": 10, \"action\": \"arrive\", \"guest\": \"D\"}\n"
	"  ],\n"
	"  \"configs\": [\n"
	"    {\"name\": \"refuse\", \"moves\": false},\n"
	"    {\"name\": \"make-room\"},\n"
	"    {\"name\": \"make-room-200\", \"move_rate_mb_s\": 200}\n"
	"  ],\n"
	"  \"baseline\": \"refuse\"\n"
	"}\n";

static const struct builtin builtins[] = {
	{ "lpc2012", "LPC 2012: all-cpus vs auto-pinning vs auto-affinity, SPECjbb-like",
	  lpc2012 },
	{ "lpc2012-sysbench", "LPC 2012 testbed with a sysbench-memory-like workload",
	  lpc2012_sysbench },
	{ "stuck-vcpus", "XAPI notes: vCPUs stuck outside soft affinity under credit1",
	  stuck_vcpus },
	{ "bursty", "asymmetric, bursty guests: static placement vs dynamic rebalancing", bursty },
	{ "make-room", "a guest admitted after moving another guest's cell, against refusing it",
	  make_room },
};

static const char *const names[] = { "lpc2012", "lpc2012-sysbench", "stuck-vcpus", "bursty",
				     "make-room", NULL };

const char *const *np_sim_builtin_names(void)
{
	return names;
}

static const struct builtin *find(const char *name)
{
	for (size_t i = 0; name && i < NP__ARRAY_SIZE(builtins); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	return NULL;
}

const char *np_sim_builtin_summary(const char *name)
{
	const struct builtin *b = find(name);

	return b ? b->summary : NULL;
}

const char *np_sim_builtin_json(const char *name)
{
	const struct builtin *b = find(name);

	return b ? b->json : NULL;
}

int np_sim_exp_builtin(const char *name, np_sim_exp **out, struct np_error *err)
{
	const struct builtin *b = find(name);

	if (!b)
		return np__err(err, NP_EINPUT, "no built-in experiment '%s' (lpc2012, "
			       "lpc2012-sysbench, stuck-vcpus, bursty, make-room)", name ? name : "");
	return np_sim_exp_parse(b->json, strlen(b->json), b->name, NULL, out, err);
}
