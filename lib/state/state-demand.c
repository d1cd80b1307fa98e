/*
 * state-demand.c - what a state file's claims say the host will be asked
 * for next: the record of the guests claimed last ("recent" in
 * numaplace.state/1, docs/formats/state.md) and np_state_demand(), which
 * turns it and the claims held into np_place()'s demand with the shared
 * rule of lib/place/demand.c (docs/policies/placement.md 4, term 6).
 *
 * Why a record and not just the claims: claims are kept by id, with no
 * order, and a released claim is gone; the demand that was tuned weighs
 * the latest guests most and keeps the shapes of guests that left
 * (bench/play.c).  The record keeps the last NP__STATE_RECENT guests'
 * cell shapes, in claim order, released or not: a few kB.
 */
#include "state/state-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/limits.h>

#include "util/json-util.h"
#include "util/util.h"

void np__state_recent_free(np_state *st)
{
	for (int i = 0; i < st->nrecent; i++) {
		free(st->recent[i].id);
		free(st->recent[i].cells);
	}
	st->nrecent = 0;
}

static bool shape_ok(const struct np_demand *d)
{
	return d->pinned >= 0 && d->pinned <= NP_VCPUS_MAX && d->floating >= 0 &&
	       d->floating <= NP_VCPUS_MAX && d->pinned + d->floating >= 1 && d->memory_mb >= 1 &&
	       d->memory_mb <= NP_MEMORY_MB_MAX && d->pagesize_kb <= NP_MEMORY_MB_MAX;
}

/* Integer member K of O in 0..MAX into *OUT; false when it is not. */
static bool int_in(const json_t *o, size_t k, json_int_t max, json_int_t *out)
{
	const json_t *v = json_array_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return false;
	*out = json_integer_value(v);
	return true;
}

/* [pinned, floating, memory_mb, pagesize_kb] into D. */
static bool read_shape(const json_t *a, struct np_demand *d)
{
	json_int_t p, f, m, s;

	if (!json_is_array(a) || json_array_size(a) != 4 || !int_in(a, 0, NP_VCPUS_MAX, &p) ||
	    !int_in(a, 1, NP_VCPUS_MAX, &f) || !int_in(a, 2, (json_int_t)NP_MEMORY_MB_MAX, &m) ||
	    !int_in(a, 3, (json_int_t)NP_MEMORY_MB_MAX, &s))
		return false;
	*d = (struct np_demand){ (int)p, (int)f, (uint64_t)m, (uint64_t)s, 1 };
	return shape_ok(d);
}

static int find_recent(const np_state *st, const char *id)
{
	for (int i = 0; i < st->nrecent; i++)
		if (strcmp(st->recent[i].id, id) == 0)
			return i;
	return -1;
}

/* Entry I of the file's record into ST (appended); 0 or NP_EINPUT in E. */
static int read_entry(np_state *st, size_t i, const json_t *v, struct np_error *e)
{
	const json_t *id = json_object_get(v, "id"), *cells = json_object_get(v, "cells");
	struct recent r = { 0 };
	size_t k;

	if (!json_is_object(v) || !json_is_string(id) || !json_is_array(cells))
		return np__err(e, NP_EINPUT, "recent[%zu]: expected {\"id\": ..., \"cells\": [...]}",
			       i);
	if (np__state_id_problem(json_string_value(id)) || find_recent(st, json_string_value(id)) >= 0)
		return np__err(e, NP_EINPUT, "recent[%zu].id: not a claim id, or there twice", i);
	if (json_array_size(cells) < 1 || json_array_size(cells) > NP__STATE_RECENT_CELLS)
		return np__err(e, NP_EINPUT, "recent[%zu].cells: expected 1 to %d cells", i,
			       NP__STATE_RECENT_CELLS);
	r.cells = np__calloc(json_array_size(cells), sizeof(*r.cells));
	if (!r.cells || !(r.id = strdup(json_string_value(id)))) {
		free(r.cells);
		return np__err(e, NP_ENOMEM, "out of memory");
	}
	for (k = 0; k < json_array_size(cells); k++)
		if (!read_shape(json_array_get(cells, k), &r.cells[k]))
			break;
	r.ncells = (int)k;
	st->recent[st->nrecent++] = r; /* freed with ST, read whole or not */
	if (k < json_array_size(cells))
		return np__err(e, NP_EINPUT,
			       "recent[%zu].cells[%zu]: expected [pinned, floating, memory_mb, "
			       "pagesize_kb] with at least one vCPU and 1 MiB",
			       i, k);
	return 0;
}

int np__state_recent_read(np_state *st, json_t *v, struct np_error *err)
{
	struct np_error e;
	int rc = 0;

	if (!v)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > NP__STATE_RECENT)
		return np__err(err, NP_EINPUT, "recent: expected a list of at most %d claims",
			       NP__STATE_RECENT);
	for (size_t i = 0; i < json_array_size(v) && !rc; i++)
		rc = read_entry(st, i, json_array_get(v, i), &e);
	return rc ? np__err(err, rc, "%s", e.message) : 0;
}

/* Cell K of a claim form's CELLS as a shape (weight 1); false when it is none. */
static bool cell_shape(const json_t *cells, size_t k, struct np_demand *d)
{
	const json_t *c = json_array_get(cells, k);
	json_int_t pg = json_integer_value(json_object_get(c, "pagesize_kb"));

	*d = (struct np_demand){ (int)json_array_size(json_object_get(c, "pins")),
				 (int)json_array_size(json_object_get(c, "float_vcpus")),
				 (uint64_t)json_integer_value(json_object_get(c, "memory_mb")),
				 pg > 4 ? (uint64_t)pg : 0, 1 };
	return shape_ok(d);
}

/* The shapes of a claim form's cells (FORM is well formed: the reader and claim_form() made it). */
static int shapes_of(const json_t *form, struct np_demand **out, int *n)
{
	const json_t *cells = json_object_get(form, "cells");
	size_t nc = json_array_size(cells);

	*n = 0;
	if (nc < 1 || nc > NP__STATE_RECENT_CELLS)
		return 0;
	if (!(*out = np__calloc(nc, sizeof(**out))))
		return NP_ENOMEM;
	for (size_t k = 0; k < nc; k++)
		*n += cell_shape(cells, k, &(*out)[*n]);
	return 0;
}

static bool same_cells(const struct recent *r, const struct np_demand *c, int n)
{
	return r->ncells == n && memcmp(r->cells, c, (size_t)n * sizeof(*c)) == 0;
}

int np__state_recent_prepare(const char *id, const json_t *form, struct recent *out)
{
	*out = (struct recent){ 0 };
	if (shapes_of(form, &out->cells, &out->ncells) || !(out->id = strdup(id))) {
		free(out->cells);
		*out = (struct recent){ 0 };
		return NP_ENOMEM;
	}
	return 0;
}

void np__state_recent_note(np_state *st, struct recent *r)
{
	int at = find_recent(st, r->id);

	/* A claim moved (released and claimed again as it was) keeps its place. */
	if (r->ncells == 0 || (at >= 0 && same_cells(&st->recent[at], r->cells, r->ncells))) {
		free(r->id);
		free(r->cells);
		*r = (struct recent){ 0 };
		return;
	}
	if (at < 0 && st->nrecent == NP__STATE_RECENT)
		at = 0; /* the oldest goes */
	if (at >= 0) {
		free(st->recent[at].id);
		free(st->recent[at].cells);
		memmove(&st->recent[at], &st->recent[at + 1],
			(size_t)(st->nrecent - at - 1) * sizeof(st->recent[0]));
		st->nrecent--;
	}
	st->recent[st->nrecent++] = *r;
	*r = (struct recent){ 0 };
}

/* Entry I as one line of JSON (free it), or NULL (NP_ENOMEM). */
static char *entry_text(const struct recent *r)
{
	json_t *cells = json_array(), *o;
	char *text = NULL;
	bool ok = cells != NULL;

	for (int k = 0; ok && k < r->ncells; k++) {
		const struct np_demand *d = &r->cells[k];

		ok = !json_array_append_new(cells, json_pack("[i, i, I, I]", d->pinned, d->floating,
							     (json_int_t)d->memory_mb,
							     (json_int_t)d->pagesize_kb));
	}
	o = ok ? json_pack("{s:s, s:O}", "id", r->id, "cells", cells) : NULL;
	if (o)
		text = np__json_dumps_checked_with(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	json_decref(cells);
	return text;
}

char *np__state_recent_text(const np_state *st, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	bool ok = true;

	*rc = 0;
	if (st->nrecent == 0)
		return NULL;
	if (!(f = open_memstream(&buf, &len))) {
		*rc = NP_ENOMEM;
		return NULL;
	}
	fputs("[\n", f);
	for (int i = 0; ok && i < st->nrecent; i++) {
		char *e = entry_text(&st->recent[i]);

		ok = e != NULL;
		if (ok)
			fprintf(f, "    %s%s\n", e, i + 1 < st->nrecent ? "," : "");
		free(e);
	}
	fputs("  ]", f);
	if (fclose(f) || !ok) {
		free(buf);
		*rc = NP_ENOMEM;
		return NULL;
	}
	return buf;
}

int np__state_recent_check(const np_state *st, struct np_error *err)
{
	if (st->nrecent < 0 || st->nrecent > NP__STATE_RECENT)
		return np__err(err, NP_EINPUT, "%d recent claims (at most %d)", st->nrecent,
			       NP__STATE_RECENT);
	for (int i = 0; i < st->nrecent; i++) {
		const struct recent *r = &st->recent[i];

		if (!r->id || np__state_id_problem(r->id) || find_recent(st, r->id) != i)
			return np__err(err, NP_EINPUT, "recent claim %d: a bad or repeated id", i);
		if (r->ncells < 1 || r->ncells > NP__STATE_RECENT_CELLS || !r->cells)
			return np__err(err, NP_EINPUT, "recent claim %d: %d cells", i, r->ncells);
		for (int k = 0; k < r->ncells; k++)
			if (!shape_ok(&r->cells[k]) || r->cells[k].weight != 1)
				return np__err(err, NP_EINPUT, "recent claim %d: cell %d out of range",
					       i, k);
	}
	return 0;
}

/* Is claim ID in the record? */
static bool recorded(const np_state *st, const char *id)
{
	return find_recent(st, id) >= 0;
}

int np_state_demand(const np_state *st, struct np_demand *dem, int n)
{
	double older = np_demand_weight(st->nrecent + 1);

	for (int i = 0; i < st->nrecent; i++) {
		double w = np_demand_weight(st->nrecent - i);

		for (int k = 0; k < st->recent[i].ncells; k++) {
			struct np_demand d = st->recent[i].cells[k];

			d.weight = w;
			n = np_demand_add(dem, n, &d);
		}
	}
	for (int i = 0; i < st->nclaims; i++) {
		const json_t *cells = json_object_get(st->claims[i].plan, "cells");
		struct np_demand d;

		for (size_t k = 0; !recorded(st, st->claims[i].id) && k < json_array_size(cells); k++)
			if (cell_shape(cells, k, &d)) {
				d.weight = older;
				n = np_demand_add(dem, n, &d);
			}
	}
	return n;
}
