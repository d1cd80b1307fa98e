/*
 * fuzz-service-body.c - libFuzzer target for the bodies `numaplace serve`
 * reads: POST /v1/placements (service/guest.c: JSON, Nova's flavor and
 * image keys, then np_request_from_nova), POST /v1/fit
 * (service/fit-body.c: the same guest, "hosts" and "pending") and PUT
 * /v1/hosts/{name} (np_topo_parse of numaplace.topology/1, as
 * service/hosts.c calls it).
 *
 * Beyond the sanitizers it checks the service's contract with clients:
 *   - a body is either a guest (an id, a request) or an answer with a 4xx
 *     status from the error table and a JSON body {"error": {"code",
 *     "message"}} whose code gives that very status and whose message is
 *     one non-empty line;
 *   - a refused body leaves the guest empty (nothing to free twice);
 *   - a fit body that is accepted asks about at most NP_FLEET_FIT_MAX
 *     non-empty names, and its pending copies are the body's own: each
 *     key of "pending" is one of the names, each name gets its key's
 *     count (0 without one), NP_FLEET_FIT_PENDING_MAX in all;
 *   - the same bytes as a path segment (service/escapes.c) decode as one
 *     pass of %HH would, and are refused exactly when they hold %00.
 */
#include "fuzz-common.h"

#include <ctype.h>
#include <stdlib.h>

#include <jansson.h>
#include <numaplace/limits.h>

#include "svc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const struct svc_resp *rs)
{
	json_t *j, *e, *code, *msg;

	if (rs->status < 400 || rs->status > 499)
		fuzz_fail("a refused body answered %d", rs->status);
	if (!rs->body || !(j = json_loadb(rs->body, rs->len, 0, NULL)))
		fuzz_fail("the error answer is not JSON: %.200s", rs->body ? rs->body : "(none)");
	e = json_object_get(j, "error");
	code = json_object_get(e, "code");
	msg = json_object_get(e, "message");
	if (!json_is_string(code) || !json_is_string(msg) || !json_string_length(msg) ||
	    strchr(json_string_value(msg), '\n'))
		fuzz_fail("the error answer lacks code or one-line message: %.200s", rs->body);
	if (svc_error_status(json_string_value(code)) != rs->status)
		fuzz_fail("code %s answered with status %d", json_string_value(code), rs->status);
	json_decref(j);
}

/* PENDING (the body's object, or NULL) is what FB made of it. */
static void check_pending(const struct svc_fit *fb, json_t *pending)
{
	long long sum = 0;
	const char *key;
	json_t *v;

	if (!pending || json_is_null(pending)) {
		if (fb->pending)
			fuzz_fail("pending copies without a pending object");
		return;
	}
	if (!fb->pending || !fb->names)
		fuzz_fail("a pending object accepted without names or counts");
	json_object_foreach(pending, key, v) {
		int i = 0;

		while (i < fb->n && strcmp(fb->names[i], key))
			i++;
		if (i == fb->n)
			fuzz_fail("pending key '%.64s' is not a name of hosts", key);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			fuzz_fail("pending '%.64s': not a count of copies, accepted", key);
		sum += json_integer_value(v);
		if (sum > NP_FLEET_FIT_PENDING_MAX)
			fuzz_fail("more than %d pending copies accepted", NP_FLEET_FIT_PENDING_MAX);
	}
	for (int i = 0; i < fb->n; i++) {
		v = json_object_get(pending, fb->names[i]);
		if (fb->pending[i] != (v ? json_integer_value(v) : 0))
			fuzz_fail("hosts[%d]: %d pending copies, the body says otherwise", i,
				  fb->pending[i]);
	}
}

/* The bytes as POST /v1/fit's body. */
static void fuzz_fit(const char *buf, size_t size)
{
	struct svc_resp rs = { 0 };
	struct svc_fit fb;

	if (svc_fit_parse(buf, size, &fb, &rs)) {
		if (fb.body || fb.names || fb.pending || fb.req || fb.n)
			fuzz_fail("a refused fit body left something behind");
		check_error(&rs);
		free(rs.body);
		return;
	}
	if (!fb.req || rs.body || fb.n < 0 || fb.n > NP_FLEET_FIT_MAX || (!fb.names && fb.n))
		fuzz_fail("a fit body without a request, with an answer, or with %d names", fb.n);
	for (int i = 0; i < fb.n; i++)
		if (!fb.names[i] || !*fb.names[i])
			fuzz_fail("hosts[%d]: an empty name accepted", i);
	check_pending(&fb, json_object_get(fb.body, "pending"));
	svc_fit_free(&fb);
}

/* One pass over segment IN: each %HH decoded once, a bare '%' as DEL; -1 for a NUL. */
static int one_pass(const char *in, char *out)
{
	for (; *in; out++) {
		if (in[0] == '%' && isxdigit((unsigned char)in[1]) &&
		    isxdigit((unsigned char)in[2])) {
			char hh[3] = { in[1], in[2], '\0' };
			unsigned long v = strtoul(hh, NULL, 16);

			if (v == 0)
				return -1;
			*out = (char)v;
			in += 3;
		} else {
			*out = *in == '%' ? '\x7f' : *in;
			in++;
		}
	}
	*out = '\0';
	return 0;
}

/*
 * The bytes up to the first NUL or '/' as one path segment: the two steps
 * of escapes.c decode it exactly as one pass would (nothing twice), and
 * refuse it exactly when it holds %00.
 */
static void fuzz_segment(const uint8_t *data, size_t size)
{
	size_t n = 0;
	char *seg, *want;
	int rc;

	while (n < size && n < 1024 && data[n] && data[n] != '/')
		n++;
	seg = fuzz_strdup(data, n);
	want = fuzz_strdup(data, n);
	rc = one_pass(seg, want);
	if (svc_url_unescape(seg) != strlen(seg))
		fuzz_fail("svc_url_unescape's length is not the string's");
	if ((svc_segment_unescape(seg) != 0) != (rc != 0))
		fuzz_fail("a segment refused (or not) unlike one pass: %%00 decides");
	if (rc == 0 && strcmp(seg, want) != 0)
		fuzz_fail("the two steps decode a segment unlike one pass");
	free(seg);
	free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_strdup(data, size);
	struct svc_resp rs = { 0 };
	struct svc_guest g;
	np_topo *topo = NULL;
	struct np_error err = { 0 };

	if (svc_guest_parse(buf, size, &g, &rs) == 0) {
		if (!g.id || !*g.id || !g.req || rs.body)
			fuzz_fail("a guest without an id or a request, or with an answer");
		svc_guest_free(&g);
	} else {
		if (g.body || g.req || g.id)
			fuzz_fail("a refused body left a guest behind");
		check_error(&rs);
	}
	free(rs.body);
	fuzz_fit(buf, size);
	fuzz_segment(data, size);
	/* The same bytes as a host's topology: parsed, or an error line. */
	if (np_topo_parse(NP_SOURCE_JSON, buf, size, "body", &topo, &err) == 0)
		np_topo_free(topo);
	else if (!err.message[0] || strchr(err.message, '\n'))
		fuzz_fail("a refused topology without one line of message");
	free(buf);
	return 0;
}
