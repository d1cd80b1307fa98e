/*
 * fuzz-service-body.c - libFuzzer target for the bodies `numaplace serve`
 * reads: POST /v1/placements (service/guest.c: JSON, Nova's flavor and
 * image keys, then np_request_from_nova) and PUT /v1/hosts/{name}
 * (np_topo_parse of numaplace.topology/1, as service/hosts.c calls it).
 *
 * Beyond the sanitizers it checks the service's contract with clients:
 *   - a body is either a guest (an id, a request) or an answer with a 4xx
 *     status from the error table and a JSON body {"error": {"code",
 *     "message"}} whose code gives that very status and whose message is
 *     one non-empty line;
 *   - a refused body leaves the guest empty (nothing to free twice).
 */
#include "fuzz-common.h"

#include <jansson.h>

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
	/* The same bytes as a host's topology: parsed, or an error line. */
	if (np_topo_parse(NP_SOURCE_JSON, buf, size, "body", &topo, &err) == 0)
		np_topo_free(topo);
	else if (!err.message[0] || strchr(err.message, '\n'))
		fuzz_fail("a refused topology without one line of message");
	free(buf);
	return 0;
}
