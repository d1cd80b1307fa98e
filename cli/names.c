/*
 * names.c - the words the tool accepts for the library's enums (formats,
 * strategy, memory policy, affinity, memory basis), in one place.
 *
 * Each is a struct cli_choice for the option parser (opt.h): the words
 * for messages and a from_name() giving the value.  Where the library has
 * a by-name lookup, from_name() is that lookup (FROM_NAME); the words the
 * tool alone uses (text/json, apply's fallback) have a small table here.
 */
#include <string.h>

#include "cli.h"

/* The index of WORD in NAMES (NULL-terminated) into *VALUE; 0 or -1. */
static int by_table(const char *const *names, const int *values, const char *word, int *value)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], word) == 0) {
			*value = values[i];
			return 0;
		}
	return -1;
}

/*
 * NAME(word, value): the library's np_NAME_from_name() into an int (each
 * takes its own enum type, so one function cannot stand for all).
 */
#define FROM_NAME(name)                                          \
	static int name(const char *word, int *value)            \
	{                                                        \
		enum np_##name f;                                \
                                                                 \
		if (np_##name##_from_name(word, &f))             \
			return -1;                               \
		*value = (int)f;                                 \
		return 0;                                        \
	}

FROM_NAME(topo_format)

FROM_NAME(plan_format)

#ifdef NP_RUNTIME
FROM_NAME(obs_format)

const struct cli_choice cli_choice_obs_format = { "format", "text, json", obs_format };
#endif

#ifdef NP_SIM
FROM_NAME(sim_format)

const struct cli_choice cli_choice_sim_format = { "format", "text, json, svg", sim_format };
#endif

/* text or json: 0 or 1, for the verbs that write their own JSON. */
static int text_json(const char *word, int *value)
{
	static const char *const names[] = { "text", "json", NULL };
	static const int values[] = { 0, 1 };

	return by_table(names, values, word, value);
}

/* state show --format: the usage view as text or json, or the file itself. */
static int state_format(const char *word, int *value)
{
	static const char *const names[] = { "text", "json", "state", NULL };
	static const int values[] = { 0, 1, 2 };

	return by_table(names, values, word, value);
}

FROM_NAME(strategy)

FROM_NAME(mem_policy)

FROM_NAME(affinity)

FROM_NAME(memory_basis)

FROM_NAME(pci_policy)

/* apply --fallback: what happens when the nodes are full, as a memory policy. */
static int fallback(const char *word, int *value)
{
	static const char *const names[] = { "fail", "nearest", NULL };
	static const int values[] = { NP_MEM_POLICY_STRICT, NP_MEM_POLICY_PREFERRED };

	return by_table(names, values, word, value);
}

const struct cli_choice cli_choice_topo_format = { "format", "text, json, svg", topo_format };
const struct cli_choice cli_choice_plan_format = { "format", "text, json, libvirt, xl, numactl",
						   plan_format };
const struct cli_choice cli_choice_text_json = { "format", "text, json", text_json };
const struct cli_choice cli_choice_state_format = { "format", "text, json, state", state_format };
const struct cli_choice cli_choice_strategy = { "strategy", "spread, pack", strategy };
const struct cli_choice cli_choice_mem_policy = { "memory policy",
						  "strict, preferred, interleave", mem_policy };
const struct cli_choice cli_choice_affinity = { "affinity", "hard, soft", affinity };
const struct cli_choice cli_choice_memory_basis = { "memory basis", "total, free",
						    memory_basis };
const struct cli_choice cli_choice_pci_policy = { "PCI policy",
						  "preferred, required, socket, legacy",
						  pci_policy };
const struct cli_choice cli_choice_fallback = { "fallback", "nearest, fail", fallback };
