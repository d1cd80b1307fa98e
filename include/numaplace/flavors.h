/*
 * flavors.h - a flavor catalogue: the guests a cloud sells and roughly how
 * often each is asked for (numaplace.flavors/1, docs/formats/flavors.md).
 *
 * np_place() can keep room for the cells of the guests still to come
 * (np_place_opts.demand); a catalogue is the one demand that names guests
 * that have not arrived yet: np_demand_add_flavors() (place.h) turns it
 * into demand shapes.  Each flavor is a request (request.h) built the way
 * Nova's API builds it from the flavor's vCPUs, memory and extra specs,
 * or read from numaplace.request/1 JSON, with a weight: how often it is
 * asked for, relative to the others.
 *
 * The text is untrusted input: every key is checked, unknown keys are
 * refused, errors are NP_EINPUT with one line naming the flavor
 * ("flavors[3].weight: expected a number from 0 to 1000000, not -1").
 *
 * Ownership: an np_flavors owns its requests and names; it is read-only
 * after np_flavors_parse() and may then be read by many threads.
 */
#ifndef NUMAPLACE_FLAVORS_H
#define NUMAPLACE_FLAVORS_H

#include <stddef.h>

#include <numaplace/error.h>
#include <numaplace/request.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_flavors np_flavors;

/* The most flavors one catalogue holds. */
#define NP_FLAVORS_MAX 100000

/*
 * Parse a catalogue from the LEN bytes of BUF (NAME for messages, e.g. the
 * file name; NULL: "flavors"): a JSON array of flavors, or an object
 * {"schema": "numaplace.flavors/1", "flavors": [...], "pci_aliases": [...]}.
 * At least one flavor must weigh more than 0.  NP_EINPUT, NP_ENOMEM.
 */
int np_flavors_parse(const char *buf, size_t len, const char *name, np_flavors **out,
		     struct np_error *err);
/* np_read_file() (util.h) then np_flavors_parse(); PATH "-" is standard input. */
int np_flavors_load(const char *path, np_flavors **out, struct np_error *err);
void np_flavors_free(np_flavors *f);

int np_flavors_count(const np_flavors *f);
/* Flavor I's name ("" when it has none), request and share of the weights (sum 1). */
const char *np_flavors_name(const np_flavors *f, int i);
const np_request *np_flavors_request(const np_flavors *f, int i);
double np_flavors_share(const np_flavors *f, int i);

#ifdef __cplusplus
}
#endif
#endif
